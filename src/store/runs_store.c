/* SPDX-License-Identifier: Apache-2.0 */
/* runs_store.c: SQL for runs, params, run tags and metric points (interned keys, one series row per
 * (run, key) holding the latest value). Validation of request values is the API's job, not this file's. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mltrackd/buf.h"
#include "mltrackd/json.h"
#include "mltrackd/store_runs.h"
#include "mltrackd/util.h"
#include "store_internal.h"

static const char SQL_EXP_STATE[] = "SELECT artifact_location, lifecycle_stage FROM experiments WHERE experiment_id = ?1";
static const char SQL_RUN_INSERT[] =
	"INSERT INTO runs (run_uuid, experiment_id, name, user_id, status, start_time, artifact_uri, lifecycle_stage)"
	" VALUES (?1, ?2, ?3, ?4, 'RUNNING', ?5, ?6, 'active')";
static const char SQL_TAG_UPSERT[] =
	"INSERT INTO run_tags (run_pk, key, value) VALUES (?1, ?2, ?3)"
	" ON CONFLICT (run_pk, key) DO UPDATE SET value = excluded.value";
#define RUN_COLUMNS \
	"SELECT run_pk, run_uuid, experiment_id, name, user_id, status, start_time, end_time, artifact_uri," \
	" lifecycle_stage FROM runs"
static const char SQL_RUN_PK_BY_UUID[] = "SELECT run_pk FROM runs WHERE run_uuid = ?1";
static const char SQL_RUN_STATE[] = "SELECT run_pk, lifecycle_stage FROM runs WHERE run_uuid = ?1";
static const char SQL_RUN_UPDATE[] =
	"UPDATE runs SET status = COALESCE(?2, status), end_time = CASE WHEN ?3 THEN ?4 ELSE end_time END,"
	" name = COALESCE(?5, name) WHERE run_pk = ?1";
static const char SQL_RUN_SET_DELETED[] = "UPDATE runs SET lifecycle_stage = ?2, deleted_time = ?3 WHERE run_pk = ?1";
static const char SQL_RUN_SET_NAME[] = "UPDATE runs SET name = ?2 WHERE run_pk = ?1";
static const char SQL_PARAM_GET[] = "SELECT value FROM params WHERE run_pk = ?1 AND key = ?2";
static const char SQL_PARAM_INSERT[] = "INSERT INTO params (run_pk, key, value) VALUES (?1, ?2, ?3)";
static const char SQL_TAG_DELETE[] = "DELETE FROM run_tags WHERE run_pk = ?1 AND key = ?2";
static const char SQL_TAG_GET[] = "SELECT value FROM run_tags WHERE run_pk = ?1 AND key = ?2";
static const char SQL_MODEL_EXISTS[] = "SELECT 1 FROM logged_models WHERE model_id = ?1";
static const char SQL_KEY_GET[] = "SELECT key_id FROM metric_keys WHERE key = ?1";
static const char SQL_KEY_INSERT[] = "INSERT INTO metric_keys (key) VALUES (?1)";
static const char SQL_SERIES_GET[] =
	"SELECT series_id, latest_value, latest_timestamp, latest_step, latest_is_nan FROM metric_series"
	" WHERE run_pk = ?1 AND key_id = ?2";
static const char SQL_SERIES_INSERT[] =
	"INSERT INTO metric_series (run_pk, key_id, latest_value, latest_timestamp, latest_step, latest_is_nan)"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
static const char SQL_SERIES_UPDATE[] =
	"UPDATE metric_series SET latest_value = ?2, latest_timestamp = ?3, latest_step = ?4, latest_is_nan = ?5"
	" WHERE series_id = ?1";
/* A point without a model or dataset, in arrival order (recent.c merges it into metrics). */
static const char SQL_POINT_STAGE[] =
	"INSERT INTO metric_staging (series_id, timestamp, step, value, is_nan) VALUES (?1, ?2, ?3, ?4, ?5)";
/* An identical point is not stored twice; re-logging it with a model id or dataset (what the client does
 * in log_model to link the run's metrics to the new model) fills in what the stored point lacks. */
static const char SQL_POINT_INSERT[] =
	"INSERT INTO metrics (series_id, timestamp, step, value, is_nan, model_id, dataset_name, dataset_digest)"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (series_id, timestamp, step, value, is_nan) DO UPDATE SET"
	" model_id = COALESCE(metrics.model_id, excluded.model_id),"
	" dataset_name = COALESCE(metrics.dataset_name, excluded.dataset_name),"
	" dataset_digest = COALESCE(metrics.dataset_digest, excluded.dataset_digest)"
	" WHERE excluded.model_id IS NOT NULL OR excluded.dataset_name IS NOT NULL";

#define MAX_DOUBLE 1.7976931348623157e308

static enum mt_error run_not_found(struct mt_err *err, const char *run_id)
{
	return mt_fail(err, MT_RESOURCE_DOES_NOT_EXIST, "Run with id=%.100s not found", run_id);
}

/* ---- reads ---- */

static void read_info(struct arena *a, sqlite3_stmt *st, struct mt_run_info *i)
{
	i->run_pk = sqlite3_column_int64(st, 0);
	i->run_id = db_col_text(a, st, 1);
	i->experiment_id = sqlite3_column_int64(st, 2);
	i->run_name = db_col_text(a, st, 3);
	i->user_id = db_col_text(a, st, 4);
	i->status = db_col_text(a, st, 5);
	i->start_time = sqlite3_column_int64(st, 6);
	i->has_end_time = sqlite3_column_type(st, 7) != SQLITE_NULL;
	i->end_time = sqlite3_column_int64(st, 7);
	i->artifact_uri = db_col_text(a, st, 8);
	i->lifecycle_stage = db_col_text(a, st, 9);
}

/* ---- loading full runs: one query per kind of data for any number of runs ---- */

/* Every batch query takes ?1 = a JSON array of run keys. */
#define IN_BATCH " IN (SELECT value FROM json_each(?1))"
static const char SQL_LOAD_INFO[] = RUN_COLUMNS " WHERE run_pk" IN_BATCH;
static const char SQL_LOAD_METRICS[] =
	"SELECT s.run_pk, k.key, s.latest_value, s.latest_timestamp, s.latest_step, s.latest_is_nan FROM metric_series s"
	" JOIN metric_keys k ON k.key_id = s.key_id WHERE s.run_pk" IN_BATCH " ORDER BY s.run_pk, k.key";
static const char SQL_LOAD_PARAMS[] = "SELECT run_pk, key, value FROM params WHERE run_pk" IN_BATCH " ORDER BY run_pk, key";
static const char SQL_LOAD_TAGS[] = "SELECT run_pk, key, value FROM run_tags WHERE run_pk" IN_BATCH " ORDER BY run_pk, key";
static const char SQL_LOAD_DATASETS[] =
	"SELECT i.run_pk, d.dataset_pk, d.name, d.digest, d.source_type, d.source, d.schema, d.profile"
	" FROM run_dataset_inputs i JOIN datasets d ON d.dataset_pk = i.dataset_pk WHERE i.run_pk" IN_BATCH
	" ORDER BY i.run_pk, d.dataset_pk";
static const char SQL_LOAD_DATASET_TAGS[] =
	"SELECT run_pk, dataset_pk, key, value FROM run_dataset_input_tags WHERE run_pk" IN_BATCH
	" ORDER BY run_pk, dataset_pk, key";
static const char SQL_LOAD_MODEL_IO[] =
	"SELECT run_pk, direction, model_id, step FROM run_model_io WHERE run_pk" IN_BATCH
	" ORDER BY run_pk, direction, model_id";

/* Where each run's rows go while loading: its slot in the caller's array and the capacities grown so far. */
struct load_slot {
	int64_t pk;
	struct mt_run *run;
	int64_t *dataset_pks; /* parallel to run->dataset_inputs */
	size_t cap_m, cap_p, cap_t, cap_d, cap_mi, cap_mo;
};

struct loader {
	struct store_conn *c;
	struct arena *a;
	struct load_slot *slots; /* sorted by pk */
	size_t n;
	const char *pks_json;
};

static int slot_cmp(const void *x, const void *y)
{
	int64_t a = ((const struct load_slot *)x)->pk, b = ((const struct load_slot *)y)->pk;
	return a < b ? -1 : a > b;
}

static struct load_slot *slot_of(struct loader *l, int64_t pk)
{
	struct load_slot key = {.pk = pk};
	return bsearch(&key, l->slots, l->n, sizeof *l->slots, slot_cmp);
}

/* Prepares one batch query bound to the run keys; NULL on failure. */
static sqlite3_stmt *batch_stmt(struct loader *l, const char *sql, struct mt_err *err)
{
	sqlite3_stmt *st = db_stmt(l->c, sql, err);
	if (st)
		sqlite3_bind_text(st, 1, l->pks_json, -1, SQLITE_STATIC);
	return st;
}

static enum mt_error finish(struct loader *l, sqlite3_stmt *st, int rc, struct mt_err *err)
{
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? MT_OK : db_fail(l->c, err, rc);
}

static enum mt_error load_infos(struct loader *l, size_t *found, struct mt_err *err)
{
	sqlite3_stmt *st = batch_stmt(l, SQL_LOAD_INFO, err);
	if (!st)
		return err->code;
	int rc;
	*found = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct load_slot *s = slot_of(l, sqlite3_column_int64(st, 0));
		if (s && s->run->info.run_id == NULL) {
			read_info(l->a, st, &s->run->info);
			(*found)++;
		}
	}
	return finish(l, st, rc, err);
}

static enum mt_error load_metrics(struct loader *l, struct mt_err *err)
{
	sqlite3_stmt *st = batch_stmt(l, SQL_LOAD_METRICS, err);
	if (!st)
		return err->code;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct load_slot *s = slot_of(l, sqlite3_column_int64(st, 0));
		if (!s)
			continue;
		struct mt_run *r = s->run;
		r->metrics = arena_grow(l->a, r->metrics, r->n_metrics, &s->cap_m, sizeof *r->metrics);
		struct mt_metric *m = &r->metrics[r->n_metrics++];
		memset(m, 0, sizeof *m);
		m->key = db_col_text(l->a, st, 1);
		m->value = sqlite3_column_int(st, 5) ? NAN : sqlite3_column_double(st, 2);
		m->timestamp = sqlite3_column_int64(st, 3);
		m->step = sqlite3_column_int64(st, 4);
	}
	return finish(l, st, rc, err);
}

static enum mt_error load_kv(struct loader *l, const char *sql, bool params, struct mt_err *err)
{
	sqlite3_stmt *st = batch_stmt(l, sql, err);
	if (!st)
		return err->code;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct load_slot *s = slot_of(l, sqlite3_column_int64(st, 0));
		if (!s)
			continue;
		struct mt_tag **v = params ? &s->run->params : &s->run->tags;
		size_t *n = params ? &s->run->n_params : &s->run->n_tags;
		*v = arena_grow(l->a, *v, *n, params ? &s->cap_p : &s->cap_t, sizeof **v);
		(*v)[*n].key = db_col_text(l->a, st, 1);
		(*v)[*n].value = db_col_text(l->a, st, 2);
		(*n)++;
	}
	return finish(l, st, rc, err);
}

/* Dataset inputs with their tags, and model inputs/outputs. */
static enum mt_error load_io(struct loader *l, struct mt_err *err)
{
	sqlite3_stmt *st = batch_stmt(l, SQL_LOAD_DATASETS, err);
	if (!st)
		return err->code;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct load_slot *s = slot_of(l, sqlite3_column_int64(st, 0));
		if (!s)
			continue;
		struct mt_run *r = s->run;
		size_t cap = s->cap_d;
		r->dataset_inputs =
			arena_grow(l->a, r->dataset_inputs, r->n_dataset_inputs, &s->cap_d, sizeof *r->dataset_inputs);
		s->dataset_pks = arena_grow(l->a, s->dataset_pks, r->n_dataset_inputs, &cap, sizeof *s->dataset_pks);
		struct mt_dataset_input *d = &r->dataset_inputs[r->n_dataset_inputs];
		memset(d, 0, sizeof *d);
		s->dataset_pks[r->n_dataset_inputs++] = sqlite3_column_int64(st, 1);
		d->dataset.name = db_col_text(l->a, st, 2);
		d->dataset.digest = db_col_text(l->a, st, 3);
		d->dataset.source_type = db_col_text(l->a, st, 4);
		d->dataset.source = db_col_text(l->a, st, 5);
		d->dataset.schema = db_col_text(l->a, st, 6);
		d->dataset.profile = db_col_text(l->a, st, 7);
	}
	if (finish(l, st, rc, err) != MT_OK)
		return err->code;
	st = batch_stmt(l, SQL_LOAD_DATASET_TAGS, err);
	if (!st)
		return err->code;
	/* rows come grouped by (run, dataset): remember the current group's input and its tag capacity */
	struct mt_dataset_input *cur = NULL;
	int64_t cur_run = -1, cur_ds = -1;
	size_t tcap = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t rpk = sqlite3_column_int64(st, 0), dpk = sqlite3_column_int64(st, 1);
		if (rpk != cur_run || dpk != cur_ds) {
			cur_run = rpk;
			cur_ds = dpk;
			cur = NULL;
			tcap = 0;
			struct load_slot *s = slot_of(l, rpk);
			for (size_t i = 0; s && i < s->run->n_dataset_inputs; i++)
				if (s->dataset_pks[i] == dpk)
					cur = &s->run->dataset_inputs[i];
		}
		if (!cur)
			continue;
		cur->tags = arena_grow(l->a, cur->tags, cur->n_tags, &tcap, sizeof *cur->tags);
		cur->tags[cur->n_tags].key = db_col_text(l->a, st, 2);
		cur->tags[cur->n_tags].value = db_col_text(l->a, st, 3);
		cur->n_tags++;
	}
	if (finish(l, st, rc, err) != MT_OK)
		return err->code;
	st = batch_stmt(l, SQL_LOAD_MODEL_IO, err);
	if (!st)
		return err->code;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct load_slot *s = slot_of(l, sqlite3_column_int64(st, 0));
		if (!s)
			continue;
		bool out = strcmp((const char *)sqlite3_column_text(st, 1), "output") == 0;
		struct mt_model_io **v = out ? &s->run->model_outputs : &s->run->model_inputs;
		size_t *n = out ? &s->run->n_model_outputs : &s->run->n_model_inputs;
		*v = arena_grow(l->a, *v, *n, out ? &s->cap_mo : &s->cap_mi, sizeof **v);
		(*v)[*n].model_id = db_col_text(l->a, st, 2);
		(*v)[*n].step = sqlite3_column_int64(st, 3);
		(*n)++;
	}
	return finish(l, st, rc, err);
}

/* Loads runs by key into out[i] (same order as pks). A key with no run -> RESOURCE_DOES_NOT_EXIST.
 * Seven queries whatever n is. */
static enum mt_error load_runs(struct store_conn *c, struct arena *a, const int64_t *pks, size_t n,
                               struct mt_run *out, struct mt_err *err)
{
	if (n == 0)
		return MT_OK;
	struct buf json;
	buf_init(&json, 64u * 1024 * 1024);
	buf_putc(&json, '[');
	struct load_slot *slots = xcalloc(n, sizeof *slots);
	for (size_t i = 0; i < n; i++) {
		memset(&out[i], 0, sizeof out[i]);
		slots[i].pk = pks[i];
		slots[i].run = &out[i];
		buf_printf(&json, "%s%lld", i ? "," : "", (long long)pks[i]);
	}
	buf_putc(&json, ']');
	qsort(slots, n, sizeof *slots, slot_cmp);
	size_t distinct = 0;
	for (size_t i = 0; i < n; i++)
		if (i == 0 || slots[i].pk != slots[i - 1].pk)
			slots[distinct++] = slots[i];
	struct loader l = {c, a, slots, distinct, json.data};
	size_t found = 0;
	enum mt_error rc = MT_OK;
	if (load_infos(&l, &found, err) != MT_OK || load_metrics(&l, err) != MT_OK ||
	    load_kv(&l, SQL_LOAD_PARAMS, true, err) != MT_OK || load_kv(&l, SQL_LOAD_TAGS, false, err) != MT_OK ||
	    load_io(&l, err) != MT_OK)
		rc = err->code;
	else if (found != distinct)
		rc = mt_fail(err, MT_RESOURCE_DOES_NOT_EXIST, "Run not found");
	/* a key given twice shares its slot: copy the loaded run to the other positions */
	for (size_t i = 0; rc == MT_OK && i < n; i++)
		if (out[i].info.run_id == NULL)
			out[i] = *slot_of(&l, pks[i])->run;
	free(slots);
	buf_free(&json);
	return rc;
}

static enum mt_error get_run(struct store_conn *c, struct arena *a, const char *run_id, struct mt_run *out,
                             struct mt_err *err)
{
	sqlite3_stmt *st = db_stmt(c, SQL_RUN_PK_BY_UUID, err);
	if (!st)
		return err->code;
	db_bind_text(st, 1, run_id);
	int rc = sqlite3_step(st);
	int64_t pk = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return run_not_found(err, run_id);
	if (rc != SQLITE_ROW)
		return db_fail(c, err, rc);
	return load_runs(c, a, &pk, 1, out, err);
}

enum mt_error store_run_get(struct store *s, struct arena *a, const char *run_id, struct mt_run *out,
                            struct mt_err *err)
{
	return get_run(store_reader(s), a, run_id, out, err);
}

enum mt_error store_runs_load(struct store *s, struct arena *a, const int64_t *pks, size_t n, struct mt_run *out,
                              struct mt_err *err)
{
	return load_runs(store_reader(s), a, pks, n, out, err);
}

/* ---- writes ---- */

/* The run's key and whether it is active; unknown -> RESOURCE_DOES_NOT_EXIST. */
static enum mt_error run_state(struct store_conn *c, const char *run_id, int64_t *pk, bool *active, struct mt_err *err)
{
	sqlite3_stmt *st = db_stmt(c, SQL_RUN_STATE, err);
	if (!st)
		return err->code;
	db_bind_text(st, 1, run_id);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*pk = sqlite3_column_int64(st, 0);
		*active = strcmp((const char *)sqlite3_column_text(st, 1), "active") == 0;
	}
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return run_not_found(err, run_id);
	return rc == SQLITE_ROW ? MT_OK : db_fail(c, err, rc);
}

static enum mt_error active_run(struct store_conn *c, const char *run_id, int64_t *pk, struct mt_err *err)
{
	bool active = false;
	if (run_state(c, run_id, pk, &active, err) != MT_OK)
		return err->code;
	if (!active)
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE,
		               "The run %.100s must be in the 'active' state. Current state is deleted.", run_id);
	return MT_OK;
}

static enum mt_error upsert_tag(struct store_conn *c, int64_t pk, const char *key, const char *value,
                                struct mt_err *err)
{
	sqlite3_stmt *st = db_stmt(c, SQL_TAG_UPSERT, err);
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, pk);
	db_bind_text(st, 2, key);
	db_bind_text(st, 3, value ? value : "");
	if (db_exec_stmt(c, st, err) != MT_OK)
		return err->code;
	if (strcmp(key, "mlflow.runName") == 0) {
		/* The run name and its mlflow.runName tag are one value in MLflow. */
		st = db_stmt(c, SQL_RUN_SET_NAME, err);
		if (!st)
			return err->code;
		sqlite3_bind_int64(st, 1, pk);
		db_bind_text(st, 2, value ? value : "");
		return db_exec_stmt(c, st, err);
	}
	return MT_OK;
}

struct create_job {
	struct arena *a;
	const struct store_run_create *in;
	struct mt_run *out;
};

static enum mt_error create_job(struct store_conn *c, void *arg, struct mt_err *err)
{
	struct create_job *j = arg;
	const struct store_run_create *in = j->in;
	sqlite3_stmt *st = db_stmt(c, SQL_EXP_STATE, err);
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, in->experiment_id);
	int rc = sqlite3_step(st);
	char *loc = NULL;
	bool active = false;
	if (rc == SQLITE_ROW) {
		loc = db_col_text(j->a, st, 0);
		active = strcmp((const char *)sqlite3_column_text(st, 1), "active") == 0;
	}
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return mt_fail(err, MT_RESOURCE_DOES_NOT_EXIST, "No Experiment with id=%lld exists", (long long)in->experiment_id);
	if (rc != SQLITE_ROW)
		return db_fail(c, err, rc);
	if (!active)
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE,
		               "The experiment %lld must be in the 'active' state. Current state is deleted.",
		               (long long)in->experiment_id);
	size_t ln = strlen(loc);
	const char *uri = arena_printf(j->a, "%s%s%s/artifacts", loc, ln && loc[ln - 1] == '/' ? "" : "/", in->run_id);
	st = db_stmt(c, SQL_RUN_INSERT, err);
	if (!st)
		return err->code;
	db_bind_text(st, 1, in->run_id);
	sqlite3_bind_int64(st, 2, in->experiment_id);
	db_bind_text(st, 3, in->run_name);
	db_bind_text(st, 4, in->user_id ? in->user_id : "");
	sqlite3_bind_int64(st, 5, in->start_time);
	db_bind_text(st, 6, uri);
	if (db_exec_stmt(c, st, err) != MT_OK)
		return err->code;
	int64_t pk = sqlite3_last_insert_rowid(c->db);
	for (size_t i = 0; i < in->n_tags; i++)
		if (upsert_tag(c, pk, in->tags[i].key, in->tags[i].value, err) != MT_OK)
			return err->code;
	if (upsert_tag(c, pk, "mlflow.runName", in->run_name, err) != MT_OK)
		return err->code;
	return get_run(c, j->a, in->run_id, j->out, err);
}

enum mt_error store_run_create(struct store *s, struct arena *a, const struct store_run_create *in,
                               struct mt_run *out, struct mt_err *err)
{
	struct create_job j = {a, in, out};
	return store_write(s, create_job, &j, err);
}

struct update_job {
	struct arena *a;
	const char *run_id, *status, *name;
	bool has_end;
	int64_t end_time;
	struct mt_run_info *out;
};

static enum mt_error update_job(struct store_conn *c, void *arg, struct mt_err *err)
{
	struct update_job *j = arg;
	int64_t pk;
	if (active_run(c, j->run_id, &pk, err) != MT_OK)
		return err->code;
	sqlite3_stmt *st = db_stmt(c, SQL_RUN_UPDATE, err);
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, pk);
	db_bind_text(st, 2, j->status);
	sqlite3_bind_int(st, 3, j->has_end);
	sqlite3_bind_int64(st, 4, j->end_time);
	db_bind_text(st, 5, j->name && j->name[0] ? j->name : NULL);
	if (db_exec_stmt(c, st, err) != MT_OK)
		return err->code;
	if (j->name && j->name[0] && upsert_tag(c, pk, "mlflow.runName", j->name, err) != MT_OK)
		return err->code;
	struct mt_run r;
	if (get_run(c, j->a, j->run_id, &r, err) != MT_OK)
		return err->code;
	*j->out = r.info;
	return MT_OK;
}

enum mt_error store_run_update(struct store *s, struct arena *a, const char *run_id, const char *status,
                               bool has_end, int64_t end_time, const char *run_name, struct mt_run_info *out,
                               struct mt_err *err)
{
	struct update_job j = {a, run_id, status, run_name, has_end, end_time, out};
	return store_write(s, update_job, &j, err);
}

struct deleted_job {
	const char *run_id;
	bool deleted;
};

static enum mt_error deleted_job(struct store_conn *c, void *arg, struct mt_err *err)
{
	struct deleted_job *j = arg;
	int64_t pk;
	bool active;
	if (run_state(c, j->run_id, &pk, &active, err) != MT_OK)
		return err->code;
	sqlite3_stmt *st = db_stmt(c, SQL_RUN_SET_DELETED, err);
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, pk);
	sqlite3_bind_text(st, 2, j->deleted ? "deleted" : "active", -1, SQLITE_STATIC);
	if (j->deleted)
		sqlite3_bind_int64(st, 3, mt_now_ms());
	else
		sqlite3_bind_null(st, 3);
	return db_exec_stmt(c, st, err);
}

enum mt_error store_run_set_deleted(struct store *s, const char *run_id, bool deleted, struct mt_err *err)
{
	struct deleted_job j = {run_id, deleted};
	return store_write(s, deleted_job, &j, err);
}

/* ---- log-batch ---- */

/* Per-job cache of the series touched, so a batch of 1000 points over 10 keys does 10 lookups. */
struct series {
	const char *key;
	int64_t key_id;
	int64_t id;
	double value;
	int64_t ts, step;
	bool is_nan, dirty;
};

/* ---- the writer's metric cache: key -> key_id, (run_pk, key_id) -> series and its latest point ----
 * Open addressing, power-of-two tables; when one fills up it is simply cleared (a cache miss costs one
 * indexed lookup). Bounded: at most MC_KEYS keys and MC_SERIES series (about 3 MiB at the worst). */
#define MC_KEYS 16384
#define MC_SERIES 32768

struct mc_key {
	char *key; /* owned */
	uint64_t hash;
	int64_t key_id;
};

struct mc_series {
	int64_t run_pk, key_id; /* run_pk 0 = empty slot */
	int64_t series_id;
	double value;
	int64_t ts, step;
	bool is_nan;
};

struct metric_cache {
	struct mc_key keys[2 * MC_KEYS];
	size_t nkeys;
	struct mc_series series[2 * MC_SERIES];
	size_t nseries;
};

static void mc_clear_keys(struct metric_cache *m)
{
	for (size_t i = 0; i < 2 * MC_KEYS; i++)
		free(m->keys[i].key);
	memset(m->keys, 0, sizeof m->keys);
	m->nkeys = 0;
}

void metric_cache_reset(struct store_conn *c)
{
	if (!c->mcache)
		return;
	mc_clear_keys(c->mcache);
	memset(c->mcache->series, 0, sizeof c->mcache->series);
	c->mcache->nseries = 0;
}

void metric_cache_free(struct store_conn *c)
{
	if (!c->mcache)
		return;
	mc_clear_keys(c->mcache);
	free(c->mcache);
	c->mcache = NULL;
}

static uint64_t mc_hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static struct mc_key *mc_key_slot(struct metric_cache *m, const char *key, uint64_t h)
{
	size_t i = h & (2 * MC_KEYS - 1);
	while (m->keys[i].key && !(m->keys[i].hash == h && strcmp(m->keys[i].key, key) == 0))
		i = (i + 1) & (2 * MC_KEYS - 1);
	return &m->keys[i];
}

static struct mc_series *mc_series_slot(struct metric_cache *m, int64_t run_pk, int64_t key_id)
{
	uint64_t h = ((uint64_t)run_pk * 0x9E3779B97F4A7C15ull) ^ ((uint64_t)key_id * 0xC2B2AE3D27D4EB4Full);
	size_t i = (h >> 17) & (2 * MC_SERIES - 1);
	while (m->series[i].run_pk && !(m->series[i].run_pk == run_pk && m->series[i].key_id == key_id))
		i = (i + 1) & (2 * MC_SERIES - 1);
	return &m->series[i];
}

/* The key's id, interned on first use (a new metric_keys row). */
static enum mt_error intern_key(struct store_conn *c, const char *key, int64_t *key_id, struct mt_err *err)
{
	struct metric_cache *m = c->mcache;
	uint64_t h = mc_hash_str(key);
	struct mc_key *slot = m ? mc_key_slot(m, key, h) : NULL;
	if (slot && slot->key) {
		*key_id = slot->key_id;
		return MT_OK;
	}
	sqlite3_stmt *st = db_stmt(c, SQL_KEY_GET, err);
	if (!st)
		return err->code;
	db_bind_text(st, 1, key);
	int rc = sqlite3_step(st);
	int64_t id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail(c, err, rc);
	if (id < 0) {
		st = db_stmt(c, SQL_KEY_INSERT, err);
		if (!st)
			return err->code;
		db_bind_text(st, 1, key);
		if (db_exec_stmt(c, st, err) != MT_OK)
			return err->code;
		id = sqlite3_last_insert_rowid(c->db);
	}
	if (m) {
		if (m->nkeys >= MC_KEYS) {
			mc_clear_keys(m);
			slot = mc_key_slot(m, key, h);
		}
		slot->key = xstrdup(key);
		slot->hash = h;
		slot->key_id = id;
		m->nkeys++;
	}
	*key_id = id;
	return MT_OK;
}

/* The series of (run, key) in this request's table, from the writer's cache or the database (created on first
 * use with the first point as its latest). */
static enum mt_error series_for(struct store_conn *c, int64_t pk, const struct mt_metric *m, double v, bool nan,
                                struct series *cache, size_t cap, size_t *used, struct series **out,
                                struct mt_err *err)
{
	size_t h = 5381;
	for (const char *p = m->key; *p; p++)
		h = h * 33 + (unsigned char)*p;
	size_t i = h & (cap - 1);
	while (cache[i].key) {
		if (strcmp(cache[i].key, m->key) == 0) {
			*out = &cache[i];
			return MT_OK;
		}
		i = (i + 1) & (cap - 1);
	}
	struct series *s = &cache[i];
	s->key = m->key;
	(*used)++;
	if (c->writer && !c->mcache)
		c->mcache = xcalloc(1, sizeof *c->mcache);
	int64_t key_id = -1;
	if (intern_key(c, m->key, &key_id, err) != MT_OK)
		return err->code;
	s->key_id = key_id;
	struct mc_series *ms = c->mcache ? mc_series_slot(c->mcache, pk, key_id) : NULL;
	if (ms && ms->run_pk) {
		s->id = ms->series_id;
		s->value = ms->value;
		s->ts = ms->ts;
		s->step = ms->step;
		s->is_nan = ms->is_nan;
		*out = s;
		return MT_OK;
	}
	sqlite3_stmt *st = db_stmt(c, SQL_SERIES_GET, err);
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, pk);
	sqlite3_bind_int64(st, 2, key_id);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		s->id = sqlite3_column_int64(st, 0);
		s->value = sqlite3_column_double(st, 1);
		s->ts = sqlite3_column_int64(st, 2);
		s->step = sqlite3_column_int64(st, 3);
		s->is_nan = sqlite3_column_int(st, 4) != 0;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail(c, err, rc);
	if (rc == SQLITE_DONE) {
		st = db_stmt(c, SQL_SERIES_INSERT, err);
		if (!st)
			return err->code;
		sqlite3_bind_int64(st, 1, pk);
		sqlite3_bind_int64(st, 2, key_id);
		sqlite3_bind_double(st, 3, v);
		sqlite3_bind_int64(st, 4, m->timestamp);
		sqlite3_bind_int64(st, 5, m->step);
		sqlite3_bind_int(st, 6, nan);
		if (db_exec_stmt(c, st, err) != MT_OK)
			return err->code;
		s->id = sqlite3_last_insert_rowid(c->db);
		s->value = v;
		s->ts = m->timestamp;
		s->step = m->step;
		s->is_nan = nan;
	}
	if (ms) {
		if (c->mcache->nseries >= MC_SERIES) {
			memset(c->mcache->series, 0, sizeof c->mcache->series);
			c->mcache->nseries = 0;
			ms = mc_series_slot(c->mcache, pk, key_id);
		}
		*ms = (struct mc_series){pk, key_id, s->id, s->value, s->ts, s->step, s->is_nan};
		c->mcache->nseries++;
	}
	*out = s;
	return MT_OK;
}

struct batch_job {
	const char *run_id;
	const struct mt_metric *metrics;
	size_t nm;
	const struct mt_tag *params;
	size_t np;
	const struct mt_tag *tags;
	size_t nt;
};

static enum mt_error log_params(struct store_conn *c, int64_t pk, const struct batch_job *j, struct mt_err *err)
{
	struct buf changed;
	buf_init(&changed, 8192);
	const struct mt_tag *first = NULL;
	const char *first_old = NULL;
	char *first_old_copy = NULL;
	enum mt_error rc = MT_OK;
	for (size_t i = 0; i < j->np && rc == MT_OK; i++) {
		sqlite3_stmt *st = db_stmt(c, SQL_PARAM_GET, err);
		if (!st) {
			rc = err->code;
			break;
		}
		sqlite3_bind_int64(st, 1, pk);
		db_bind_text(st, 2, j->params[i].key);
		int r = sqlite3_step(st);
		if (r == SQLITE_ROW) {
			const char *old = (const char *)sqlite3_column_text(st, 0);
			if (strcmp(old ? old : "", j->params[i].value) != 0) {
				if (!first) {
					first = &j->params[i];
					first_old_copy = xstrdup(old ? old : "");
					first_old = first_old_copy;
				}
				buf_printf(&changed, "%s{'key': '%.250s', 'old_value': '%.200s', 'new_value': '%.200s'}",
				           changed.len ? ", " : "", j->params[i].key, old ? old : "", j->params[i].value);
			}
			sqlite3_reset(st);
			continue;
		}
		sqlite3_reset(st);
		if (r != SQLITE_DONE) {
			rc = db_fail(c, err, r);
			break;
		}
		st = db_stmt(c, SQL_PARAM_INSERT, err);
		if (!st) {
			rc = err->code;
			break;
		}
		sqlite3_bind_int64(st, 1, pk);
		db_bind_text(st, 2, j->params[i].key);
		db_bind_text(st, 3, j->params[i].value);
		rc = db_exec_stmt(c, st, err);
	}
	if (rc == MT_OK && first) {
		/* MLflow words the single-param and the batch refusal differently; keep both. */
		if (j->np == 1 && j->nm == 0 && j->nt == 0)
			rc = mt_fail(err, MT_INVALID_PARAMETER_VALUE,
			             "Changing param values is not allowed. Param with key='%.250s' was already logged with "
			             "value='%.200s' for run ID='%.100s'. Attempted logging new value '%.200s'.",
			             first->key, first_old, j->run_id, first->value);
		else
			rc = mt_fail(err, MT_INVALID_PARAMETER_VALUE,
			             "Changing param values is not allowed. Params were already logged='[%s]' for run ID='%.100s'.",
			             changed.data ? changed.data : "", j->run_id);
	}
	free(first_old_copy);
	buf_free(&changed);
	return rc;
}

static enum mt_error log_metrics(struct store_conn *c, int64_t pk, const struct batch_job *j, struct mt_err *err)
{
	size_t cap = 16;
	while (cap < j->nm * 2)
		cap *= 2;
	struct series *cache = xcalloc(cap, sizeof *cache);
	size_t used = 0;
	enum mt_error rc = MT_OK;
	for (size_t i = 0; i < j->nm && rc == MT_OK; i++) {
		const struct mt_metric *m = &j->metrics[i];
		bool nan = isnan(m->value);
		/* As MLflow's SQL store: NaN is kept as a flag (value 0), infinities are clamped. */
		double v = nan ? 0.0 : isinf(m->value) ? (m->value > 0 ? MAX_DOUBLE : -MAX_DOUBLE) : m->value;
		struct series *s = NULL;
		if ((rc = series_for(c, pk, m, v, nan, cache, cap, &used, &s, err)) != MT_OK)
			break;
		/* a plain point is staged in arrival order and merged into its series later (recent.c); one that names
		 * a model or dataset goes to its series now, where logged models and their searches read it */
		bool plain = !m->model_id && !m->dataset_name && !m->dataset_digest;
		sqlite3_stmt *st = db_stmt(c, plain ? SQL_POINT_STAGE : SQL_POINT_INSERT, err);
		if (!st) {
			rc = err->code;
			break;
		}
		sqlite3_bind_int64(st, 1, s->id);
		sqlite3_bind_int64(st, 2, m->timestamp);
		sqlite3_bind_int64(st, 3, m->step);
		sqlite3_bind_double(st, 4, v);
		sqlite3_bind_int(st, 5, nan);
		if (!plain) {
			db_bind_text(st, 6, m->model_id);
			db_bind_text(st, 7, m->dataset_name);
			db_bind_text(st, 8, m->dataset_digest);
		}
		if ((rc = db_exec_stmt(c, st, err)) != MT_OK)
			break;
		if (plain) /* -0.0 as the table gives it back: 0 */
			recent_stage(c, s->id, &(struct recent_point){m->timestamp, m->step, v == 0 ? 0.0 : v, nan},
			             sqlite3_last_insert_rowid(c->db));
		/* latest = max by (step, timestamp, value), NaN compared as its stored 0 */
		if (m->step > s->step || (m->step == s->step && (m->timestamp > s->ts || (m->timestamp == s->ts && v > s->value)))) {
			s->step = m->step;
			s->ts = m->timestamp;
			s->value = v;
			s->is_nan = nan;
			s->dirty = true;
		}
	}
	for (size_t i = 0; i < cap && rc == MT_OK; i++) {
		if (!cache[i].key || !cache[i].dirty)
			continue;
		sqlite3_stmt *st = db_stmt(c, SQL_SERIES_UPDATE, err);
		if (!st) {
			rc = err->code;
			break;
		}
		sqlite3_bind_int64(st, 1, cache[i].id);
		sqlite3_bind_double(st, 2, cache[i].value);
		sqlite3_bind_int64(st, 3, cache[i].ts);
		sqlite3_bind_int64(st, 4, cache[i].step);
		sqlite3_bind_int(st, 5, cache[i].is_nan);
		rc = db_exec_stmt(c, st, err);
		if (rc == MT_OK && c->mcache) { /* the cached latest point follows (a rollback resets the cache) */
			struct mc_series *ms = mc_series_slot(c->mcache, pk, cache[i].key_id);
			if (ms->run_pk) {
				ms->value = cache[i].value;
				ms->ts = cache[i].ts;
				ms->step = cache[i].step;
				ms->is_nan = cache[i].is_nan;
			}
		}
	}
	free(cache);
	return rc;
}

/* Every model id the metrics name must be a logged model (MLflow's foreign key; it answers a leaked SQL error
 * with BAD_REQUEST, we keep the code and say what is wrong). */
static enum mt_error check_models(struct store_conn *c, const struct batch_job *j, struct mt_err *err)
{
	const char *last = NULL;
	for (size_t i = 0; i < j->nm; i++) {
		const char *id = j->metrics[i].model_id;
		if (!id || (last && strcmp(id, last) == 0))
			continue;
		sqlite3_stmt *st = db_stmt(c, SQL_MODEL_EXISTS, err);
		if (!st)
			return err->code;
		db_bind_text(st, 1, id);
		bool found;
		if (db_step_exists(c, st, &found, err) != MT_OK)
			return err->code;
		if (!found)
			return mt_fail(err, MT_BAD_REQUEST, "Logged model with ID '%.100s' not found.", id);
		last = id;
	}
	return MT_OK;
}

static enum mt_error batch_job(struct store_conn *c, void *arg, struct mt_err *err)
{
	struct batch_job *j = arg;
	int64_t pk;
	if (active_run(c, j->run_id, &pk, err) != MT_OK || check_models(c, j, err) != MT_OK)
		return err->code;
	if (log_params(c, pk, j, err) != MT_OK)
		return err->code;
	for (size_t i = 0; i < j->nt; i++)
		if (upsert_tag(c, pk, j->tags[i].key, j->tags[i].value, err) != MT_OK)
			return err->code;
	return log_metrics(c, pk, j, err);
}

enum mt_error store_run_log_batch(struct store *s, const char *run_id, const struct mt_metric *metrics, size_t nm,
                                  const struct mt_tag *params, size_t np, const struct mt_tag *tags, size_t nt,
                                  struct mt_err *err)
{
	struct batch_job j = {run_id, metrics, nm, params, np, tags, nt};
	return store_write(s, batch_job, &j, err);
}

struct deltag_job {
	const char *run_id, *key;
};

static enum mt_error deltag_job(struct store_conn *c, void *arg, struct mt_err *err)
{
	struct deltag_job *j = arg;
	int64_t pk;
	if (active_run(c, j->run_id, &pk, err) != MT_OK)
		return err->code;
	sqlite3_stmt *st = db_stmt(c, SQL_TAG_DELETE, err);
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, pk);
	db_bind_text(st, 2, j->key);
	if (db_exec_stmt(c, st, err) != MT_OK)
		return err->code;
	if (sqlite3_changes(c->db) == 0)
		return mt_fail(err, MT_RESOURCE_DOES_NOT_EXIST, "No tag with name: %.250s in run with id %.100s", j->key,
		               j->run_id);
	return MT_OK;
}

enum mt_error store_run_delete_tag(struct store *s, const char *run_id, const char *key, struct mt_err *err)
{
	struct deltag_job j = {run_id, key};
	return store_write(s, deltag_job, &j, err);
}

/* ---- a JSON list in a run tag (runs/log-model) ---- */

struct json_tag_job {
	const char *run_id, *key;
	const cJSON *item;
	size_t max_len;
};

static enum mt_error json_tag_job(struct store_conn *c, void *arg, struct mt_err *err)
{
	struct json_tag_job *j = arg;
	int64_t pk;
	if (active_run(c, j->run_id, &pk, err) != MT_OK)
		return err->code;
	sqlite3_stmt *st = db_stmt(c, SQL_TAG_GET, err);
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, pk);
	db_bind_text(st, 2, j->key);
	int rc = sqlite3_step(st);
	cJSON *list = rc == SQLITE_ROW ? cJSON_Parse((const char *)sqlite3_column_text(st, 0)) : NULL;
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		cJSON_Delete(list);
		return db_fail(c, err, rc);
	}
	if (!cJSON_IsArray(list)) {
		cJSON_Delete(list);
		list = cJSON_CreateArray();
	}
	cJSON_AddItemToArray(list, cJSON_Duplicate(j->item, true));
	struct buf b;
	buf_init(&b, j->max_len + 1);
	json_dump_python(&b, list);
	cJSON_Delete(list);
	enum mt_error r;
	if (b.overflow || b.len > j->max_len)
		r = mt_fail(err, MT_INVALID_PARAMETER_VALUE, "Tag '%.250s' of run %.100s would exceed %zu bytes", j->key,
		            j->run_id, j->max_len);
	else
		r = upsert_tag(c, pk, j->key, b.data, err);
	buf_free(&b);
	return r;
}

enum mt_error store_run_append_json_tag(struct store *s, const char *run_id, const char *key, const cJSON *item,
                                        size_t max_len, struct mt_err *err)
{
	struct json_tag_job j = {run_id, key, item, max_len};
	return store_write(s, json_tag_job, &j, err);
}
