/* SPDX-License-Identifier: Apache-2.0 */
/* models_store.c: SQL for logged models (info, params, tags, metrics logged against them, search) and for
 * a run's dataset inputs and model inputs/outputs. Validation of request values is the API's job. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "mltrackd/buf.h"
#include "mltrackd/store_models.h"
#include "mltrackd/util.h"
#include "store_internal.h"

static const char SQL_EXP_STATE[] = "SELECT artifact_location, lifecycle_stage FROM experiments WHERE experiment_id = ?1";
static const char SQL_INSERT[] =
	"INSERT INTO logged_models (model_id, experiment_id, name, artifact_location, creation_timestamp_ms,"
	" last_updated_timestamp_ms, status, lifecycle_stage, model_type, source_run_id)"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?5, 1, 'active', ?6, ?7)";
static const char SQL_PK[] = "SELECT model_pk, lifecycle_stage FROM logged_models WHERE model_id = ?1";
static const char SQL_GET[] =
	"SELECT model_pk, model_id, experiment_id, name, artifact_location, creation_timestamp_ms,"
	" last_updated_timestamp_ms, status, lifecycle_stage, model_type, source_run_id, status_message"
	" FROM logged_models WHERE model_pk = ?1";
static const char SQL_PARAM_UPSERT[] =
	"INSERT INTO logged_model_params (model_pk, key, value) VALUES (?1, ?2, ?3)"
	" ON CONFLICT (model_pk, key) DO UPDATE SET value = excluded.value";
static const char SQL_TAG_UPSERT[] =
	"INSERT INTO logged_model_tags (model_pk, key, value) VALUES (?1, ?2, ?3)"
	" ON CONFLICT (model_pk, key) DO UPDATE SET value = excluded.value";
static const char SQL_TAG_DELETE[] = "DELETE FROM logged_model_tags WHERE model_pk = ?1 AND key = ?2";
static const char SQL_PARAMS[] = "SELECT key, value FROM logged_model_params WHERE model_pk = ?1 ORDER BY key";
static const char SQL_TAGS[] = "SELECT key, value FROM logged_model_tags WHERE model_pk = ?1 ORDER BY key";
static const char SQL_METRICS[] =
	"SELECT k.key, m.value, m.is_nan, m.timestamp, m.step, r.run_uuid, m.dataset_name, m.dataset_digest"
	" FROM metrics m JOIN metric_series s ON s.series_id = m.series_id JOIN metric_keys k ON k.key_id = s.key_id"
	" JOIN runs r ON r.run_pk = s.run_pk WHERE m.model_id = ?1 ORDER BY k.key, m.step, m.timestamp";
static const char SQL_FINALIZE[] =
	"UPDATE logged_models SET status = ?2, last_updated_timestamp_ms = ?3 WHERE model_pk = ?1";
static const char SQL_DELETE[] =
	"UPDATE logged_models SET lifecycle_stage = 'deleted', last_updated_timestamp_ms = ?2 WHERE model_pk = ?1";
static const char SQL_TOUCH[] = "UPDATE logged_models SET last_updated_timestamp_ms = ?2 WHERE model_pk = ?1";
static const char SQL_EXPERIMENT_OF[] = "SELECT experiment_id FROM logged_models WHERE model_id = ?1";
static const char SQL_RUN_STATE[] = "SELECT run_pk, experiment_id, lifecycle_stage FROM runs WHERE run_uuid = ?1";
static const char SQL_DATASET_GET[] =
	"SELECT dataset_pk FROM datasets WHERE experiment_id = ?1 AND name = ?2 AND digest = ?3";
static const char SQL_DATASET_INSERT[] =
	"INSERT INTO datasets (experiment_id, name, digest, source_type, source, schema, profile)"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
static const char SQL_INPUT_INSERT[] =
	"INSERT OR IGNORE INTO run_dataset_inputs (run_pk, dataset_pk) VALUES (?1, ?2)";
static const char SQL_INPUT_TAG[] =
	"INSERT INTO run_dataset_input_tags (run_pk, dataset_pk, key, value) VALUES (?1, ?2, ?3, ?4)"
	" ON CONFLICT (run_pk, dataset_pk, key) DO UPDATE SET value = excluded.value";
static const char SQL_MODEL_IO[] =
	"INSERT INTO run_model_io (run_pk, direction, model_id, step) VALUES (?1, ?2, ?3, ?4)"
	" ON CONFLICT (run_pk, direction, model_id) DO UPDATE SET step = excluded.step";

static enum mt_error not_found(struct mt_err *err, const char *id)
{
	return mt_fail(err, MT_RESOURCE_DOES_NOT_EXIST, "Logged model with ID '%.100s' not found.", id);
}

static enum mt_error model_pk(struct store_conn *c, const char *id, bool allow_deleted, int64_t *pk, struct mt_err *err)
{
	sqlite3_stmt *st = db_stmt(c, SQL_PK, err);
	if (!st)
		return err->code;
	db_bind_text(st, 1, id);
	int rc = sqlite3_step(st);
	bool ok = rc == SQLITE_ROW && (allow_deleted || strcmp((const char *)sqlite3_column_text(st, 1), "deleted") != 0);
	if (ok)
		*pk = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail(c, err, rc);
	return ok ? MT_OK : not_found(err, id);
}

enum mt_error models_load(struct store_conn *c, struct arena *a, int64_t pk, struct mt_logged_model *m,
                          struct mt_err *err)
{
	sqlite3_stmt *st = db_stmt(c, SQL_GET, err);
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, pk);
	int rc = sqlite3_step(st);
	memset(m, 0, sizeof *m);
	if (rc == SQLITE_ROW) {
		m->model_id = db_col_text(a, st, 1);
		m->experiment_id = sqlite3_column_int64(st, 2);
		m->name = db_col_text(a, st, 3);
		m->artifact_uri = db_col_text(a, st, 4);
		m->creation_timestamp_ms = sqlite3_column_int64(st, 5);
		m->last_updated_timestamp_ms = sqlite3_column_int64(st, 6);
		m->status = sqlite3_column_int(st, 7);
		m->lifecycle_stage = db_col_text(a, st, 8);
		m->model_type = db_col_text(a, st, 9);
		m->source_run_id = db_col_text(a, st, 10);
		m->status_message = db_col_text(a, st, 11);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE ? mt_fail(err, MT_INTERNAL_ERROR, "logged model vanished") : db_fail(c, err, rc);
	if (db_read_kv(c, a, SQL_PARAMS, pk, &m->params, &m->n_params, err) != MT_OK ||
	    db_read_kv(c, a, SQL_TAGS, pk, &m->tags, &m->n_tags, err) != MT_OK)
		return err->code;
	st = db_stmt(c, SQL_METRICS, err);
	if (!st)
		return err->code;
	db_bind_text(st, 1, m->model_id);
	size_t cap = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		m->metrics = arena_grow(a, m->metrics, m->n_metrics, &cap, sizeof *m->metrics);
		struct mt_metric *x = &m->metrics[m->n_metrics++];
		memset(x, 0, sizeof *x);
		x->key = db_col_text(a, st, 0);
		x->value = sqlite3_column_int(st, 2) ? (double)NAN : sqlite3_column_double(st, 1);
		x->timestamp = sqlite3_column_int64(st, 3);
		x->step = sqlite3_column_int64(st, 4);
		x->run_id = db_col_text(a, st, 5);
		x->dataset_name = db_col_text(a, st, 6);
		x->dataset_digest = db_col_text(a, st, 7);
		x->model_id = m->model_id;
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? MT_OK : db_fail(c, err, rc);
}

static enum mt_error upsert_kv(struct store_conn *c, const char *sql, int64_t pk, const struct mt_tag *kv, size_t n,
                               struct mt_err *err)
{
	for (size_t i = 0; i < n; i++) {
		sqlite3_stmt *st = db_stmt(c, sql, err);
		if (!st)
			return err->code;
		sqlite3_bind_int64(st, 1, pk);
		db_bind_text(st, 2, kv[i].key);
		db_bind_text(st, 3, kv[i].value ? kv[i].value : "");
		if (db_exec_stmt(c, st, err) != MT_OK)
			return err->code;
	}
	return MT_OK;
}

struct create_job {
	struct arena *a;
	const struct store_model_create *in;
	struct mt_logged_model *out;
};

static enum mt_error create_job(struct store_conn *c, void *arg, struct mt_err *err)
{
	struct create_job *j = arg;
	sqlite3_stmt *st = db_stmt(c, SQL_EXP_STATE, err);
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, j->in->experiment_id);
	int rc = sqlite3_step(st);
	char *loc = rc == SQLITE_ROW ? db_col_text(j->a, st, 0) : NULL;
	bool active = rc == SQLITE_ROW && strcmp((const char *)sqlite3_column_text(st, 1), "active") == 0;
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return mt_fail(err, MT_RESOURCE_DOES_NOT_EXIST, "No Experiment with id=%lld exists", (long long)j->in->experiment_id);
	if (rc != SQLITE_ROW)
		return db_fail(c, err, rc);
	if (!active)
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE,
		               "The experiment %lld must be in the 'active' state. Current state is deleted.",
		               (long long)j->in->experiment_id);
	size_t ln = strlen(loc);
	const char *uri = arena_printf(j->a, "%s%smodels/%s/artifacts", loc, ln && loc[ln - 1] == '/' ? "" : "/",
	                               j->in->model_id);
	st = db_stmt(c, SQL_INSERT, err);
	if (!st)
		return err->code;
	db_bind_text(st, 1, j->in->model_id);
	sqlite3_bind_int64(st, 2, j->in->experiment_id);
	db_bind_text(st, 3, j->in->name);
	db_bind_text(st, 4, uri);
	sqlite3_bind_int64(st, 5, mt_now_ms());
	db_bind_text(st, 6, j->in->model_type);
	db_bind_text(st, 7, j->in->source_run_id);
	if (db_exec_stmt(c, st, err) != MT_OK)
		return err->code;
	int64_t pk = sqlite3_last_insert_rowid(c->db);
	if (upsert_kv(c, SQL_PARAM_UPSERT, pk, j->in->params, j->in->n_params, err) != MT_OK ||
	    upsert_kv(c, SQL_TAG_UPSERT, pk, j->in->tags, j->in->n_tags, err) != MT_OK)
		return err->code;
	return models_load(c, j->a, pk, j->out, err);
}

enum mt_error store_logged_model_create(struct store *s, struct arena *a, const struct store_model_create *in,
                                        struct mt_logged_model *out, struct mt_err *err)
{
	struct create_job j = {a, in, out};
	return store_write(s, create_job, &j, err);
}

enum mt_error store_logged_model_get(struct store *s, struct arena *a, const char *model_id, bool allow_deleted,
                                     struct mt_logged_model *out, struct mt_err *err)
{
	struct store_conn *c = store_reader(s);
	int64_t pk;
	if (model_pk(c, model_id, allow_deleted, &pk, err) != MT_OK)
		return err->code;
	return models_load(c, a, pk, out, err);
}

enum model_op { OP_FINALIZE, OP_DELETE, OP_SET_TAGS, OP_DELETE_TAG, OP_PARAMS };

struct model_job {
	enum model_op op;
	const char *model_id;
	int status;
	const struct mt_tag *kv;
	size_t n;
	const char *key;
};

static enum mt_error model_job(struct store_conn *c, void *arg, struct mt_err *err)
{
	struct model_job *j = arg;
	int64_t pk;
	if (model_pk(c, j->model_id, j->op != OP_DELETE, &pk, err) != MT_OK)
		return err->code;
	sqlite3_stmt *st;
	switch (j->op) {
	case OP_FINALIZE:
		st = db_stmt(c, SQL_FINALIZE, err);
		if (!st)
			return err->code;
		sqlite3_bind_int64(st, 1, pk);
		sqlite3_bind_int(st, 2, j->status);
		sqlite3_bind_int64(st, 3, mt_now_ms());
		return db_exec_stmt(c, st, err);
	case OP_DELETE:
		st = db_stmt(c, SQL_DELETE, err);
		if (!st)
			return err->code;
		sqlite3_bind_int64(st, 1, pk);
		sqlite3_bind_int64(st, 2, mt_now_ms());
		return db_exec_stmt(c, st, err);
	case OP_SET_TAGS:
	case OP_PARAMS:
		if (upsert_kv(c, j->op == OP_SET_TAGS ? SQL_TAG_UPSERT : SQL_PARAM_UPSERT, pk, j->kv, j->n, err) != MT_OK)
			return err->code;
		break;
	case OP_DELETE_TAG:
		st = db_stmt(c, SQL_TAG_DELETE, err);
		if (!st)
			return err->code;
		sqlite3_bind_int64(st, 1, pk);
		db_bind_text(st, 2, j->key);
		if (db_exec_stmt(c, st, err) != MT_OK)
			return err->code;
		if (sqlite3_changes(c->db) == 0)
			return mt_fail(err, MT_RESOURCE_DOES_NOT_EXIST, "No tag with key '%.250s' found for model with ID '%.100s'.",
			               j->key, j->model_id);
		break;
	}
	st = db_stmt(c, SQL_TOUCH, err);
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, pk);
	sqlite3_bind_int64(st, 2, mt_now_ms());
	return db_exec_stmt(c, st, err);
}

enum mt_error store_logged_model_finalize(struct store *s, const char *model_id, int status, struct mt_err *err)
{
	struct model_job j = {OP_FINALIZE, model_id, status, NULL, 0, NULL};
	return store_write(s, model_job, &j, err);
}

enum mt_error store_logged_model_delete(struct store *s, const char *model_id, struct mt_err *err)
{
	struct model_job j = {OP_DELETE, model_id, 0, NULL, 0, NULL};
	return store_write(s, model_job, &j, err);
}

enum mt_error store_logged_model_set_tags(struct store *s, const char *model_id, const struct mt_tag *tags, size_t n,
                                          struct mt_err *err)
{
	struct model_job j = {OP_SET_TAGS, model_id, 0, tags, n, NULL};
	return store_write(s, model_job, &j, err);
}

enum mt_error store_logged_model_delete_tag(struct store *s, const char *model_id, const char *key, struct mt_err *err)
{
	struct model_job j = {OP_DELETE_TAG, model_id, 0, NULL, 0, key};
	return store_write(s, model_job, &j, err);
}

enum mt_error store_logged_model_log_params(struct store *s, const char *model_id, const struct mt_tag *params,
                                            size_t n, struct mt_err *err)
{
	struct model_job j = {OP_PARAMS, model_id, 0, params, n, NULL};
	return store_write(s, model_job, &j, err);
}

enum mt_error store_logged_model_experiment(struct store *s, const char *model_id, int64_t *exp, struct mt_err *err)
{
	struct store_conn *c = store_reader(s);
	sqlite3_stmt *st = db_stmt(c, SQL_EXPERIMENT_OF, err);
	if (!st)
		return err->code;
	db_bind_text(st, 1, model_id);
	int rc = sqlite3_step(st);
	*exp = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? MT_OK : db_fail(c, err, rc);
}

/* ---- run inputs and outputs ---- */

static enum mt_error active_run(struct store_conn *c, const char *run_id, int64_t *pk, int64_t *exp, struct mt_err *err)
{
	sqlite3_stmt *st = db_stmt(c, SQL_RUN_STATE, err);
	if (!st)
		return err->code;
	db_bind_text(st, 1, run_id);
	int rc = sqlite3_step(st);
	bool active = false;
	if (rc == SQLITE_ROW) {
		*pk = sqlite3_column_int64(st, 0);
		*exp = sqlite3_column_int64(st, 1);
		active = strcmp((const char *)sqlite3_column_text(st, 2), "active") == 0;
	}
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return mt_fail(err, MT_RESOURCE_DOES_NOT_EXIST, "Run with id=%.100s not found", run_id);
	if (rc != SQLITE_ROW)
		return db_fail(c, err, rc);
	if (!active)
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE,
		               "The run %.100s must be in the 'active' state. Current state is deleted.", run_id);
	return MT_OK;
}

static enum mt_error model_io(struct store_conn *c, int64_t pk, const char *dir, const char *model_id, int64_t step,
                              struct mt_err *err)
{
	sqlite3_stmt *st = db_stmt(c, SQL_MODEL_IO, err);
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, pk);
	sqlite3_bind_text(st, 2, dir, -1, SQLITE_STATIC);
	db_bind_text(st, 3, model_id);
	sqlite3_bind_int64(st, 4, step);
	return db_exec_stmt(c, st, err);
}

struct inputs_job {
	const char *run_id;
	const struct mt_dataset_input *ds;
	size_t nd;
	const char *const *models;
	size_t nm;
	const struct mt_model_io *outputs;
	size_t no;
};

static enum mt_error inputs_job(struct store_conn *c, void *arg, struct mt_err *err)
{
	struct inputs_job *j = arg;
	int64_t pk = 0, exp = 0;
	if (active_run(c, j->run_id, &pk, &exp, err) != MT_OK)
		return err->code;
	for (size_t i = 0; i < j->nd; i++) {
		const struct mt_dataset *d = &j->ds[i].dataset;
		sqlite3_stmt *st = db_stmt(c, SQL_DATASET_GET, err);
		if (!st)
			return err->code;
		sqlite3_bind_int64(st, 1, exp);
		db_bind_text(st, 2, d->name);
		db_bind_text(st, 3, d->digest);
		int rc = sqlite3_step(st);
		int64_t dpk = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
		sqlite3_reset(st);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			return db_fail(c, err, rc);
		if (dpk < 0) {
			st = db_stmt(c, SQL_DATASET_INSERT, err);
			if (!st)
				return err->code;
			sqlite3_bind_int64(st, 1, exp);
			db_bind_text(st, 2, d->name);
			db_bind_text(st, 3, d->digest);
			db_bind_text(st, 4, d->source_type);
			db_bind_text(st, 5, d->source);
			db_bind_text(st, 6, d->schema);
			db_bind_text(st, 7, d->profile);
			if (db_exec_stmt(c, st, err) != MT_OK)
				return err->code;
			dpk = sqlite3_last_insert_rowid(c->db);
		}
		st = db_stmt(c, SQL_INPUT_INSERT, err);
		if (!st)
			return err->code;
		sqlite3_bind_int64(st, 1, pk);
		sqlite3_bind_int64(st, 2, dpk);
		if (db_exec_stmt(c, st, err) != MT_OK)
			return err->code;
		for (size_t t = 0; t < j->ds[i].n_tags; t++) {
			st = db_stmt(c, SQL_INPUT_TAG, err);
			if (!st)
				return err->code;
			sqlite3_bind_int64(st, 1, pk);
			sqlite3_bind_int64(st, 2, dpk);
			db_bind_text(st, 3, j->ds[i].tags[t].key);
			db_bind_text(st, 4, j->ds[i].tags[t].value ? j->ds[i].tags[t].value : "");
			if (db_exec_stmt(c, st, err) != MT_OK)
				return err->code;
		}
	}
	for (size_t i = 0; i < j->nm; i++)
		if (model_io(c, pk, "input", j->models[i], 0, err) != MT_OK)
			return err->code;
	for (size_t i = 0; i < j->no; i++)
		if (model_io(c, pk, "output", j->outputs[i].model_id, j->outputs[i].step, err) != MT_OK)
			return err->code;
	return MT_OK;
}

enum mt_error store_run_log_inputs(struct store *s, const char *run_id, const struct mt_dataset_input *datasets,
                                   size_t nd, const char *const *model_ids, size_t nm, struct mt_err *err)
{
	struct inputs_job j = {run_id, datasets, nd, model_ids, nm, NULL, 0};
	return store_write(s, inputs_job, &j, err);
}

enum mt_error store_run_log_outputs(struct store *s, const char *run_id, const struct mt_model_io *outputs, size_t n,
                                    struct mt_err *err)
{
	struct inputs_job j = {run_id, NULL, 0, NULL, 0, outputs, n};
	return store_write(s, inputs_job, &j, err);
}

/* ---- dataset summaries (experiments/search-datasets) ---- */

static const char SQL_DATASET_SUMMARIES[] =
	"SELECT DISTINCT d.name, d.digest, t.value FROM datasets d"
	" JOIN run_dataset_inputs i ON i.dataset_pk = d.dataset_pk"
	" LEFT JOIN run_dataset_input_tags t ON t.run_pk = i.run_pk AND t.dataset_pk = i.dataset_pk"
	" AND t.key = 'mlflow.data.context'"
	" WHERE d.experiment_id = ?1 ORDER BY d.dataset_pk, t.value LIMIT ?2";

enum mt_error store_dataset_summaries(struct store *s, struct arena *a, const int64_t *experiment_ids, size_t n,
                                      size_t limit, struct mt_dataset_summary **out, size_t *count,
                                      struct mt_err *err)
{
	struct store_conn *c = store_reader(s);
	struct mt_dataset_summary *v = arena_alloc(a, (limit ? limit : 1) * sizeof *v);
	size_t k = 0;
	for (size_t e = 0; e < n && k < limit; e++) {
		bool seen = false; /* an experiment id given twice is read once */
		for (size_t p = 0; p < e && !seen; p++)
			seen = experiment_ids[p] == experiment_ids[e];
		if (seen)
			continue;
		sqlite3_stmt *st = db_stmt(c, SQL_DATASET_SUMMARIES, err);
		if (!st)
			return err->code;
		sqlite3_bind_int64(st, 1, experiment_ids[e]);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)(limit - k));
		int rc;
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			v[k].experiment_id = experiment_ids[e];
			v[k].name = db_col_text(a, st, 0);
			v[k].digest = db_col_text(a, st, 1);
			v[k].context = db_col_text(a, st, 2);
			k++;
		}
		sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			return db_fail(c, err, rc);
	}
	*out = v;
	*count = k;
	return MT_OK;
}
