/* SPDX-License-Identifier: Apache-2.0 */
/* store_internal.h: what the store's own modules share: the connection with its statement cache, and
 * helpers to prepare, bind and fail. Included only under src/store/. */
#ifndef MLTRACKD_STORE_INTERNAL_H
#define MLTRACKD_STORE_INTERNAL_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>

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
};

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
