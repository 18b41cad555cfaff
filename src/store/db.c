/* SPDX-License-Identifier: Apache-2.0 */
/* db.c: SQLite connections (pragmas, per-connection statement cache), the per-thread readers and the
 * single writer thread with group commit. No SQL about MLflow entities here. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mltrackd/arena.h"
#include "mltrackd/entities.h"
#include "mltrackd/metrics.h"
#include "mltrackd/store.h"
#include "mltrackd/util.h"
#include "store_internal.h"

/* ---- connections and the statement cache ---- */

static size_t slot_of(const struct store_conn *c, const char *sql)
{
	uintptr_t h = (uintptr_t)sql;
	h ^= h >> 17;
	h *= 0x9E3779B97F4A7C15ull;
	return (size_t)(h >> 7) & (c->nslots - 1);
}

static void cache_grow(struct store_conn *c)
{
	struct stmt_slot *old = c->slots;
	size_t oldn = c->nslots;
	c->nslots = oldn ? oldn * 2 : 64;
	c->slots = xcalloc(c->nslots, sizeof *c->slots);
	for (size_t i = 0; i < oldn; i++) {
		if (!old[i].sql)
			continue;
		size_t j = slot_of(c, old[i].sql);
		while (c->slots[j].sql)
			j = (j + 1) & (c->nslots - 1);
		c->slots[j] = old[i];
	}
	free(old);
}

sqlite3_stmt *db_stmt(struct store_conn *c, const char *sql, struct mt_err *err)
{
	size_t j = slot_of(c, sql);
	while (c->slots[j].sql) {
		if (c->slots[j].sql == sql) {
			sqlite3_stmt *st = c->slots[j].st;
			sqlite3_reset(st);
			sqlite3_clear_bindings(st);
			return st;
		}
		j = (j + 1) & (c->nslots - 1);
	}
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
	if (rc != SQLITE_OK) {
		mt_log(MT_LOG_ERROR, "prepare failed: %s (%.120s)", sqlite3_errmsg(c->db), sql);
		db_fail(c, err, rc);
		return NULL;
	}
	if ((c->used + 1) * 2 > c->nslots) {
		cache_grow(c);
		j = slot_of(c, sql);
		while (c->slots[j].sql)
			j = (j + 1) & (c->nslots - 1);
	}
	c->slots[j].sql = sql;
	c->slots[j].st = st;
	c->used++;
	return st;
}

sqlite3_stmt *db_prepare_dynamic(struct store_conn *c, const char *sql, struct mt_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(c->db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK) {
		mt_log(MT_LOG_ERROR, "prepare failed: %s", sqlite3_errmsg(c->db));
		db_fail(c, err, rc);
		return NULL;
	}
	return st;
}

void db_reset_all(struct store_conn *c)
{
	for (size_t i = 0; i < c->nslots; i++)
		if (c->slots[i].st && sqlite3_stmt_busy(c->slots[i].st))
			sqlite3_reset(c->slots[i].st);
}

enum mt_error db_fail(struct store_conn *c, struct mt_err *err, int rc)
{
	if (rc == SQLITE_FULL)
		return mt_fail(err, MT_INTERNAL_ERROR, "database error: the disk is full");
	mt_log(MT_LOG_ERROR, "sqlite error %d: %s", rc, c ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
	return mt_fail(err, MT_INTERNAL_ERROR, "database error: %s", sqlite3_errstr(rc));
}

enum mt_error db_exec_stmt(struct store_conn *c, sqlite3_stmt *st, struct mt_err *err)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return db_fail(c, err, rc);
	return MT_OK;
}

enum mt_error db_step_exists(struct store_conn *c, sqlite3_stmt *st, bool *found, struct mt_err *err)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail(c, err, rc);
	*found = rc == SQLITE_ROW;
	return MT_OK;
}

enum mt_error db_exec(struct store_conn *c, const char *sql, struct mt_err *err)
{
	char *msg = NULL;
	int rc = sqlite3_exec(c->db, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK) {
		mt_log(MT_LOG_ERROR, "exec failed: %s", msg ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		return db_fail(NULL, err, rc);
	}
	return MT_OK;
}

void db_bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s)
		sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

char *db_col_text(struct arena *a, sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	if (t == NULL)
		return NULL;
	return arena_strndup(a, (const char *)t, (size_t)sqlite3_column_bytes(st, i));
}

enum mt_error db_read_kv(struct store_conn *c, struct arena *a, const char *sql, int64_t pk, struct mt_tag **out,
                         size_t *n, struct mt_err *err)
{
	sqlite3_stmt *st = db_stmt(c, sql, err);
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, pk);
	size_t cap = 0, cnt = 0;
	struct mt_tag *v = NULL;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		v = arena_grow(a, v, cnt, &cap, sizeof *v);
		v[cnt].key = db_col_text(a, st, 0);
		v[cnt].value = db_col_text(a, st, 1);
		cnt++;
	}
	sqlite3_reset(st);
	*out = v;
	*n = cnt;
	return rc == SQLITE_DONE ? MT_OK : db_fail(c, err, rc);
}

struct store_conn *db_conn_open(const char *path, bool writer, struct mt_err *err)
{
	sqlite3 *db = NULL;
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (writer ? SQLITE_OPEN_CREATE : 0);
	int rc = sqlite3_open_v2(path, &db, flags, NULL);
	if (rc != SQLITE_OK) {
		mt_fail(err, MT_INTERNAL_ERROR, "cannot open database: %s", sqlite3_errstr(rc));
		sqlite3_close(db);
		return NULL;
	}
	struct store_conn *c = xcalloc(1, sizeof *c);
	c->db = db;
	c->writer = writer;
	cache_grow(c);
	/* WAL + synchronous=NORMAL: a committed transaction is in the WAL before COMMIT returns, so it
	 * survives kill -9 of the process (not a power cut; that needs FULL). */
	const char *pragmas = writer ? "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
	                               "PRAGMA busy_timeout=10000; PRAGMA temp_store=MEMORY; PRAGMA cache_size=-65536;"
	                               "PRAGMA case_sensitive_like=ON; PRAGMA mmap_size=268435456; PRAGMA journal_size_limit=67108864;"
	                             : "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=10000;"
	                               "PRAGMA temp_store=MEMORY; PRAGMA cache_size=-32768; PRAGMA query_only=1;"
	                               "PRAGMA case_sensitive_like=ON;"
	                               "PRAGMA mmap_size=268435456;";
	if (db_exec(c, pragmas, err) != MT_OK) {
		db_conn_close(c);
		return NULL;
	}
	return c;
}

void db_conn_close(struct store_conn *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nslots; i++)
		if (c->slots[i].st)
			sqlite3_finalize(c->slots[i].st);
	free(c->slots);
	metric_cache_free(c);
	recent_staged_free(c);
	sqlite3_close(c->db);
	free(c);
}

/* ---- the store: readers per thread, one writer thread ---- */

struct job {
	store_write_fn fn;
	void *arg;
	struct mt_err *err;
	enum mt_error rc;
	bool done;
	struct job *next;
};

struct store {
	char *path;
	int schema_version;
	struct store_conn *writer;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv_job, cv_done;
	struct job *head, *tail;
	bool stopping;
	pthread_key_t reader_key;
	pthread_mutex_t readers_mu;
	struct store_conn *readers;
	void (*events_hook)(void *); /* under mu: called after a commit that added outbox events */
	void *events_hook_ctx;
	/* background checkpoints (see writer_main): their own connection and thread, woken under mu */
	sqlite3 *ckpt_db;
	pthread_t ckpt_thread;
	pthread_cond_t cv_ckpt;
	bool ckpt_wanted, ckpt_started;
	int ckpt_signalled_at; /* WAL frames when the thread was last woken */
	struct recent *recent; /* metric points not yet merged into their series (recent.c) */
};

struct recent *store_recent(struct store *s) { return s->recent; }

/* Checkpoints, without stalling commits. SQLite's autocheckpoint runs inside the commit that crosses 1,000 WAL
 * frames: every client of that group commit then waits for the copy and two fsyncs (several ms here). Instead the
 * writer's WAL hook notes the WAL's size, and after each commit (once its clients have their answers):
 *  - every CHECKPOINT_FRAMES new frames wake a checkpoint thread that copies them into the database file with its
 *    own connection (a passive checkpoint: concurrent with the writer, never blocking it);
 *  - past RESTART_FRAMES the writer itself runs a passive checkpoint between transactions. The thread has already
 *    copied most frames, so this one is short, and being complete while no transaction is open it lets the next
 *    transaction restart the WAL from its beginning (a checkpoint from another connection under sustained writes
 *    never completes: the WAL would grow without bound). journal_size_limit then truncates the file. */
#define CHECKPOINT_FRAMES 1000
#define RESTART_FRAMES 4000
static int on_wal(void *ctx, sqlite3 *db, const char *name, int frames)
{
	(void)db;
	(void)name;
	((struct store_conn *)ctx)->wal_frames = frames;
	return SQLITE_OK;
}

/* The writer connection's update hook: notes an insert into the outbox (events); the writer reports it after the
 * commit. Metric points live in WITHOUT ROWID tables, which never reach this hook. */
static void on_update(void *ctx, int op, const char *db, const char *table, sqlite3_int64 rowid)
{
	(void)db;
	(void)rowid;
	if (op == SQLITE_INSERT && strcmp(table, "events") == 0)
		((struct store_conn *)ctx)->events_added = true;
}

/* Runs one batch of jobs as one transaction, each in its own savepoint; returns the metric points it staged. */
static size_t run_batch(struct store *s, struct job *batch)
{
	struct store_conn *c = s->writer;
	struct mt_err txerr;
	mt_err_init(&txerr);
	int64_t t0 = mt_mono_us();
	size_t jobs = 0;
	enum mt_error txrc = db_exec(c, "BEGIN IMMEDIATE", &txerr);
	for (struct job *j = batch; j; j = j->next) {
		if (txrc != MT_OK) {
			j->rc = mt_fail(j->err, txerr.code, "%s", txerr.msg);
			continue;
		}
		if (db_exec(c, "SAVEPOINT job", j->err) != MT_OK) {
			j->rc = MT_INTERNAL_ERROR;
			continue;
		}
		size_t staged = recent_staged_mark(c);
		bool flushed = c->recent_flushed;
		j->rc = j->fn(c, j->arg, j->err);
		jobs++;
		db_reset_all(c);
		if (j->rc != MT_OK) {
			db_exec(c, "ROLLBACK TO job", NULL);
			metric_cache_reset(c);
			recent_staged_truncate(c, staged);
			c->recent_flushed = flushed;
		}
		db_exec(c, "RELEASE job", NULL);
	}
	if (txrc == MT_OK && db_exec(c, "COMMIT", &txerr) != MT_OK) {
		db_exec(c, "ROLLBACK", NULL);
		metric_cache_reset(c);
		recent_staged_truncate(c, 0);
		c->recent_flushed = false;
		c->events_added = false;
		for (struct job *j = batch; j; j = j->next)
			if (j->rc == MT_OK)
				j->rc = mt_fail(j->err, txerr.code, "%s", txerr.msg);
	}
	/* before the clients have their answers: a point acknowledged is readable */
	size_t staged = recent_publish(s->recent, c);
	metrics_commit(jobs, mt_mono_us() - t0);
	return staged;
}

/* Merging recent points (recent.c): past RECENT_HIGH points in memory the writer merges, after each batch, at
 * least as many points as the batch staged (so memory stays near RECENT_HIGH under any load), in chunks of whole
 * series; and after IDLE_MERGE_MS without a job it merges chunk after chunk until a job arrives or memory is
 * empty. The more points a series gathers before its merge, the fewer page writes per point: 512 Ki points are
 * ~16 MiB. A small chunk keeps the wait of a job that arrives during a merge short. */
#define RECENT_HIGH (512 * 1024)
#define RECENT_CHUNK 4096
#define IDLE_MERGE_MS 200

static bool merge_recent(struct store *s, size_t points)
{
	struct mt_err err;
	mt_err_init(&err);
	if (recent_merge(s->recent, s->writer, points, &err) == MT_OK)
		return true;
	mt_log(MT_LOG_WARN, "merging recent metric points failed (kept, retried later): %s", err.msg);
	return false;
}

/* Under mu, after the writer committed: wake the checkpoint thread or checkpoint (see above). */
static void checkpoint_policy(struct store *s)
{
	int frames = s->writer->wal_frames;
	if (frames < s->ckpt_signalled_at)
		s->ckpt_signalled_at = 0; /* the WAL restarted */
	/* past RESTART_FRAMES the thread is left idle, so the writer's own checkpoint gets the lock */
	if (s->ckpt_started && frames < RESTART_FRAMES && frames >= s->ckpt_signalled_at + CHECKPOINT_FRAMES) {
		s->ckpt_signalled_at = frames;
		s->ckpt_wanted = true;
		pthread_cond_signal(&s->cv_ckpt);
	}
	if (frames >= (s->ckpt_started ? RESTART_FRAMES : CHECKPOINT_FRAMES)) {
		pthread_mutex_unlock(&s->mu);
		/* SQLITE_BUSY while the thread is checkpointing: try again after the next commit */
		if (sqlite3_wal_checkpoint_v2(s->writer->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL) == SQLITE_OK)
			s->writer->wal_frames = 0;
		pthread_mutex_lock(&s->mu);
	}
}

static void *writer_main(void *arg)
{
	struct store *s = arg;
	bool idle = false; /* no job for IDLE_MERGE_MS: merging until one arrives */
	pthread_mutex_lock(&s->mu);
	for (;;) {
		while (!s->head && !s->stopping) {
			if (recent_idle(s->recent)) {
				idle = false;
				pthread_cond_wait(&s->cv_job, &s->mu);
			} else if (idle) {
				pthread_mutex_unlock(&s->mu);
				idle = merge_recent(s, RECENT_CHUNK); /* after a failure, wait again before retrying */
				pthread_mutex_lock(&s->mu);
				checkpoint_policy(s);
			} else {
				struct timespec until;
				clock_gettime(CLOCK_REALTIME, &until);
				until.tv_nsec += IDLE_MERGE_MS * 1000000L;
				until.tv_sec += until.tv_nsec / 1000000000L;
				until.tv_nsec %= 1000000000L;
				idle = pthread_cond_timedwait(&s->cv_job, &s->mu, &until) == ETIMEDOUT;
			}
		}
		if (!s->head)
			break;
		idle = false;
		struct job *batch = s->head;
		s->head = s->tail = NULL;
		pthread_mutex_unlock(&s->mu);
		size_t staged = run_batch(s, batch);
		pthread_mutex_lock(&s->mu);
		if (s->writer->events_added && s->events_hook)
			s->events_hook(s->events_hook_ctx); /* must be quick: it runs under mu */
		s->writer->events_added = false;
		for (struct job *j = batch; j;) {
			struct job *n = j->next; /* read before done: the waiter owns j afterwards */
			j->done = true;
			j = n;
		}
		pthread_cond_broadcast(&s->cv_done);
		if (recent_points(s->recent) > RECENT_HIGH) {
			pthread_mutex_unlock(&s->mu);
			merge_recent(s, staged > RECENT_CHUNK ? staged : RECENT_CHUNK);
			pthread_mutex_lock(&s->mu);
		}
		checkpoint_policy(s);
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

static void *ckpt_main(void *arg)
{
	struct store *s = arg;
	pthread_setname_np(pthread_self(), "mt-checkpoint");
	pthread_mutex_lock(&s->mu);
	for (;;) {
		while (!s->ckpt_wanted && !s->stopping)
			pthread_cond_wait(&s->cv_ckpt, &s->mu);
		if (s->stopping)
			break;
		s->ckpt_wanted = false;
		pthread_mutex_unlock(&s->mu);
		sqlite3_wal_checkpoint_v2(s->ckpt_db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
		pthread_mutex_lock(&s->mu);
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

/* The checkpoint thread and its connection; without them the writer checkpoints alone (as SQLite would). */
static void ckpt_start(struct store *s)
{
	pthread_cond_init(&s->cv_ckpt, NULL);
	if (sqlite3_open_v2(s->path, &s->ckpt_db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		mt_log(MT_LOG_WARN, "no checkpoint connection (%s): the writer checkpoints alone", sqlite3_errmsg(s->ckpt_db));
		sqlite3_close(s->ckpt_db);
		s->ckpt_db = NULL;
		return;
	}
	sqlite3_wal_autocheckpoint(s->ckpt_db, 0); /* it never commits; it only runs checkpoints */
	/* a connection sees the WAL only once it has read the database (else a checkpoint is a no-op) */
	if (sqlite3_exec(s->ckpt_db, "PRAGMA schema_version", NULL, NULL, NULL) != SQLITE_OK) {
		mt_log(MT_LOG_WARN, "no checkpoint connection (%s): the writer checkpoints alone", sqlite3_errmsg(s->ckpt_db));
		sqlite3_close(s->ckpt_db);
		s->ckpt_db = NULL;
		return;
	}
	s->ckpt_started = pthread_create(&s->ckpt_thread, NULL, ckpt_main, s) == 0;
	if (!s->ckpt_started) {
		sqlite3_close(s->ckpt_db);
		s->ckpt_db = NULL;
	}
}

enum mt_error store_write(struct store *s, store_write_fn fn, void *arg, struct mt_err *err)
{
	struct job j = {.fn = fn, .arg = arg, .err = err, .rc = MT_OK, .done = false, .next = NULL};
	pthread_mutex_lock(&s->mu);
	if (s->stopping) {
		pthread_mutex_unlock(&s->mu);
		return mt_fail(err, MT_TEMPORARILY_UNAVAILABLE, "server is shutting down");
	}
	if (s->tail)
		s->tail->next = &j;
	else
		s->head = &j;
	s->tail = &j;
	metrics_write_waiting(1);
	pthread_cond_signal(&s->cv_job);
	while (!j.done)
		pthread_cond_wait(&s->cv_done, &s->mu);
	pthread_mutex_unlock(&s->mu);
	metrics_write_waiting(-1);
	return j.rc;
}

void store_set_events_hook(struct store *s, void (*fn)(void *), void *ctx)
{
	pthread_mutex_lock(&s->mu);
	s->events_hook = fn;
	s->events_hook_ctx = ctx;
	pthread_mutex_unlock(&s->mu);
}

struct store_conn *store_reader(struct store *s)
{
	struct store_conn *c = pthread_getspecific(s->reader_key);
	if (c)
		return c;
	struct mt_err err;
	mt_err_init(&err);
	c = db_conn_open(s->path, false, &err);
	if (!c) {
		mt_log(MT_LOG_ERROR, "cannot open a read connection: %s", err.msg);
		abort();
	}
	pthread_setspecific(s->reader_key, c);
	pthread_mutex_lock(&s->readers_mu);
	c->next_reader = s->readers;
	s->readers = c;
	pthread_mutex_unlock(&s->readers_mu);
	return c;
}

void store_reader_release(struct store *s)
{
	struct store_conn *c = pthread_getspecific(s->reader_key);
	if (c)
		db_reset_all(c);
}

int store_schema_version(struct store *s) { return s->schema_version; }

/* Before SQLite initializes: no global allocation statistics (a process-wide mutex taken on every allocation,
 * a few % of the writer's time); SQLITE_MISUSE when SQLite is already initialized, which is harmless. */
static void sqlite_setup(void) { (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); }

enum mt_error store_open(const char *path, struct store **out, struct mt_err *err)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, sqlite_setup);
	if (sqlite3_threadsafe() == 0)
		return mt_fail(err, MT_INTERNAL_ERROR, "SQLite was built without thread support");
	struct store_conn *w = db_conn_open(path, true, err);
	if (!w)
		return err->code;
	int version = 0;
	/* points staged before a crash (a clean close merges them all) */
	if (store_migrate(w, &version, err) != MT_OK || recent_replay(w, err) != MT_OK) {
		db_conn_close(w);
		return err->code;
	}
	struct store *s = xcalloc(1, sizeof *s);
	sqlite3_update_hook(w->db, on_update, w);
	sqlite3_wal_hook(w->db, on_wal, w); /* replaces autocheckpoint: see writer_main */
	s->path = xstrdup(path);
	s->writer = w;
	s->recent = recent_new();
	s->schema_version = version;
	pthread_mutex_init(&s->mu, NULL);
	pthread_mutex_init(&s->readers_mu, NULL);
	pthread_cond_init(&s->cv_job, NULL);
	pthread_cond_init(&s->cv_done, NULL);
	pthread_key_create(&s->reader_key, NULL);
	ckpt_start(s);
	if (pthread_create(&s->thread, NULL, writer_main, s) != 0) {
		pthread_mutex_lock(&s->mu);
		s->stopping = true;
		pthread_cond_signal(&s->cv_ckpt);
		pthread_mutex_unlock(&s->mu);
		if (s->ckpt_started)
			pthread_join(s->ckpt_thread, NULL);
		sqlite3_close(s->ckpt_db);
		db_conn_close(w);
		recent_free(s->recent);
		free(s->path);
		free(s);
		return mt_fail(err, MT_INTERNAL_ERROR, "cannot start the writer thread");
	}
	*out = s;
	return MT_OK;
}

void store_close(struct store *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->mu);
	s->stopping = true;
	pthread_cond_signal(&s->cv_job);
	pthread_cond_signal(&s->cv_ckpt);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->thread, NULL);
	if (s->ckpt_started)
		pthread_join(s->ckpt_thread, NULL);
	sqlite3_close(s->ckpt_db);
	pthread_cond_destroy(&s->cv_ckpt);
	struct store_conn *c = s->readers;
	while (c) {
		struct store_conn *n = c->next_reader;
		db_conn_close(c);
		c = n;
	}
	/* Every staged point into its series, then a clean close checkpoints the WAL into the main file. */
	struct mt_err err;
	mt_err_init(&err);
	if (recent_replay(s->writer, &err) != MT_OK)
		mt_log(MT_LOG_WARN, "merging staged metric points at close failed (replayed at the next start): %s", err.msg);
	recent_free(s->recent);
	db_conn_close(s->writer);
	pthread_key_delete(s->reader_key);
	pthread_mutex_destroy(&s->mu);
	pthread_mutex_destroy(&s->readers_mu);
	pthread_cond_destroy(&s->cv_job);
	pthread_cond_destroy(&s->cv_done);
	free(s->path);
	free(s);
}
