/* SPDX-License-Identifier: Apache-2.0 */
/* gc_store.c: SQL for mltrackd gc: selects and deletes deleted runs and experiments in one transaction
 * (foreign keys cascade to tags, params, metrics, inputs, logged models). Never touches active rows. */
#include <string.h>

#include "mltrackd/store_gc.h"
#include "store_internal.h"

static const char SQL_RUNS[] =
	"SELECT r.experiment_id, r.run_uuid, r.artifact_uri FROM runs r JOIN experiments e ON e.experiment_id = r.experiment_id"
	" WHERE r.lifecycle_stage = 'deleted' AND COALESCE(r.deleted_time, 0) <= ?1 AND e.lifecycle_stage = 'active'";
static const char SQL_EXPS[] =
	"SELECT experiment_id, artifact_location FROM experiments WHERE lifecycle_stage = 'deleted'"
	" AND last_update_time <= ?1 AND experiment_id != 0";
static const char SQL_DEL_RUN[] = "DELETE FROM runs WHERE run_uuid = ?1 AND lifecycle_stage = 'deleted'";
static const char SQL_DEL_EXP[] = "DELETE FROM experiments WHERE experiment_id = ?1 AND lifecycle_stage = 'deleted'";
/* SQLite may hand a removed experiment's id to the next new experiment: its grants must not survive. */
static const char SQL_DEL_GRANTS[] =
	"DELETE FROM grants WHERE resource_type = 'experiment' AND resource_id = CAST(?1 AS TEXT)";

struct gc_job {
	struct arena *a;
	int64_t cutoff;
	struct gc_victim *v;
	size_t n, cap;
};

static void add(struct gc_job *j, int64_t exp, const char *run, const char *uri)
{
	j->v = arena_grow(j->a, j->v, j->n, &j->cap, sizeof *j->v);
	j->v[j->n++] = (struct gc_victim){exp, run, uri};
}

static enum mt_error gc_job(struct store_conn *c, void *arg, struct mt_err *err)
{
	struct gc_job *j = arg;
	sqlite3_stmt *st = db_stmt(c, SQL_RUNS, err);
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, j->cutoff);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		add(j, sqlite3_column_int64(st, 0), db_col_text(j->a, st, 1), db_col_text(j->a, st, 2));
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return db_fail(c, err, rc);
	size_t runs = j->n;
	st = db_stmt(c, SQL_EXPS, err);
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, j->cutoff);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		add(j, sqlite3_column_int64(st, 0), NULL, db_col_text(j->a, st, 1));
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return db_fail(c, err, rc);
	if (j->n > 0) {
		metric_cache_reset(c); /* run keys may be reused once their rows are gone */
		/* and series ids: no recent point may outlive its series, to land on a new one with the same id */
		if (recent_flush_sql(c, err) != MT_OK)
			return err->code;
	}
	for (size_t i = 0; i < j->n; i++) {
		st = db_stmt(c, i < runs ? SQL_DEL_RUN : SQL_DEL_EXP, err);
		if (!st)
			return err->code;
		if (i < runs)
			db_bind_text(st, 1, j->v[i].run_id);
		else
			sqlite3_bind_int64(st, 1, j->v[i].experiment_id);
		if (db_exec_stmt(c, st, err) != MT_OK)
			return err->code;
		if (i >= runs) {
			st = db_stmt(c, SQL_DEL_GRANTS, err);
			if (!st)
				return err->code;
			sqlite3_bind_int64(st, 1, j->v[i].experiment_id);
			if (db_exec_stmt(c, st, err) != MT_OK)
				return err->code;
		}
	}
	return MT_OK;
}

enum mt_error store_gc(struct store *s, struct arena *a, int64_t cutoff_ms, struct gc_victim **out, size_t *n,
                       struct mt_err *err)
{
	struct gc_job j = {a, cutoff_ms, NULL, 0, 0};
	if (store_write(s, gc_job, &j, err) != MT_OK)
		return err->code;
	*out = j.v;
	*n = j.n;
	return MT_OK;
}
