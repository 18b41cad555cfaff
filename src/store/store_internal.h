/* SPDX-License-Identifier: Apache-2.0 */
/* store_internal.h: what the store's own modules share: the connection with its statement cache, and
 * helpers to prepare, bind and fail. Included only under src/store/. */
#ifndef MLTRACKD_STORE_INTERNAL_H
#define MLTRACKD_STORE_INTERNAL_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mltrackd/error.h"

struct stmt_slot {
	const char *sql; /* key: the address of a static SQL literal */
	sqlite3_stmt *st;
};

struct store_conn {
	sqlite3 *db;
	struct stmt_slot *slots;
	size_t nslots, used;
	bool writer;
	struct store_conn *next_reader; /* registry of reader connections, for closing */
	struct metric_cache *mcache;    /* writer only: interned metric keys and series (runs_store.c) */
	bool events_added;              /* writer only: this transaction inserted outbox events (db.c) */
	int wal_frames;                 /* writer only: frames in the WAL after the last commit (db.c) */
	struct recent_buf *staged;      /* writer only: points staged by this transaction (recent.c) */
	bool recent_flushed;            /* writer only: this transaction moved every staged row into metrics */
};
/* ---- recent metric points (recent.c: why, and the threads) ----
 * A point logged without a model or dataset goes to metric_staging in arrival order (recent_stage records it
 * for the transaction), joins the in-memory recent points when its transaction commits (recent_publish), and
 * reaches the series-clustered `metrics` table when the writer merges it (recent_merge). Readers of a history
 * merge recent_copy's points with the table's rows. */
struct recent_point {
	int64_t ts, step;
	double value; /* as stored: 0 when is_nan, infinities clamped */
	int32_t is_nan;
};
struct recent;
struct arena;
struct recent *recent_new(void);
void recent_free(struct recent *r);
/* Points in memory (writer thread). */
size_t recent_points(const struct recent *r);
/* Nothing to merge and no merged row left in metric_staging (writer thread). */
bool recent_idle(const struct recent *r);
/* History order: timestamp, step, value, is_nan. */
int recent_point_cmp(const struct recent_point *a, const struct recent_point *b);
/* Writer, inside a job: the point was inserted into metric_staging with rowid seq. */
void recent_stage(struct store_conn *c, int64_t series, const struct recent_point *pt, int64_t seq);
/* Writer: the staged count before a job, and dropping what a rolled-back job staged. */
size_t recent_staged_mark(const struct store_conn *c);
void recent_staged_truncate(struct store_conn *c, size_t mark);
void recent_staged_free(struct store_conn *c);
/* Writer, after COMMIT: the transaction's staged points join memory; returns how many. */
size_t recent_publish(struct recent *r, struct store_conn *c);
/* Writer, between transactions: merges whole series from memory into metrics, about max_points, in one
 * transaction of its own; with nothing in memory, empties metric_staging of merged rows. */
enum mt_error recent_merge(struct recent *r, struct store_conn *c, size_t max_points, struct mt_err *err);
/* Inside a transaction: every staged row into metrics, the staging table emptied, memory cleared at commit (gc). */
enum mt_error recent_flush_sql(struct store_conn *c, struct mt_err *err);
/* Outside a transaction: the same in one transaction (start-up replay after a crash, clean close). */
enum mt_error recent_replay(struct store_conn *c, struct mt_err *err);
/* Reader: a copy of the series' points in memory, in history order, into the arena; returns the count. */
size_t recent_copy(struct recent *r, int64_t series, struct arena *a, struct recent_point **out);
struct store;
struct recent *store_recent(struct store *s);

/* The writer's cache of metric keys and series (with their latest point) saves two lookups per logged point.
 * It must only ever hold committed-or-current-transaction truth: db.c resets it on every rollback, and a job
 * that hard-deletes runs (gc) resets it. */
void metric_cache_reset(struct store_conn *c);
void metric_cache_free(struct store_conn *c);

/* The statement for a static SQL literal, prepared once per connection and cached by the literal's
 * address; returned reset with bindings cleared. NULL on failure (err set). Never pass user text. */
sqlite3_stmt *db_stmt(struct store_conn *c, const char *sql, struct mt_err *err);
/* Prepares dynamic SQL (search queries compiled from an AST, placeholders only); caller finalizes. */
sqlite3_stmt *db_prepare_dynamic(struct store_conn *c, const char *sql, struct mt_err *err);
/* Resets every statement of the connection still running (ends implicit read transactions). */
void db_reset_all(struct store_conn *c);
/* Records an INTERNAL_ERROR for a failed SQLite call, without SQL text or paths in the message. */
enum mt_error db_fail(struct store_conn *c, struct mt_err *err, int rc);
/* Runs one statement with no result rows and resets it; MT_OK on SQLITE_DONE. */
enum mt_error db_exec_stmt(struct store_conn *c, sqlite3_stmt *st, struct mt_err *err);
/* Steps a bound existence query once and resets it: *found = it produced a row. */
enum mt_error db_step_exists(struct store_conn *c, sqlite3_stmt *st, bool *found, struct mt_err *err);
/* sqlite3_exec for fixed maintenance SQL (pragmas, savepoints, migrations). */
enum mt_error db_exec(struct store_conn *c, const char *sql, struct mt_err *err);

/* Binding helpers: NULL strings bind as SQL NULL. */
void db_bind_text(sqlite3_stmt *st, int i, const char *s);
/* Column text copied into the arena; NULL stays NULL. */
struct arena;
char *db_col_text(struct arena *a, sqlite3_stmt *st, int i);

/* Runs sql (bound ?1 = pk) and collects its (key, value) rows into the arena. */
struct mt_tag;
enum mt_error db_read_kv(struct store_conn *c, struct arena *a, const char *sql, int64_t pk, struct mt_tag **out,
                         size_t *n, struct mt_err *err);

/* Experiments by id, with their tags, into out[0..n) in the order of ids (experiments_store.c); ids distinct. */
struct mt_experiment;
enum mt_error experiments_load_many(struct store_conn *c, struct arena *a, const int64_t *ids, size_t n,
                                    struct mt_experiment *out, struct mt_err *err);

/* A full logged model (info, params, tags, metrics) by internal key (models_store.c). */
struct mt_logged_model;
enum mt_error models_load(struct store_conn *c, struct arena *a, int64_t pk, struct mt_logged_model *m,
                          struct mt_err *err);

struct store_conn *db_conn_open(const char *path, bool writer, struct mt_err *err);
void db_conn_close(struct store_conn *c);

/* Migrations embedded at build time (gen/migrations_embedded.c). */
struct mt_migration {
	int version;
	const char *name;
	const char *sql;
};
extern const struct mt_migration mt_migrations[];
extern const size_t mt_migrations_count;

enum mt_error store_migrate(struct store_conn *c, int *version, struct mt_err *err);

#endif
