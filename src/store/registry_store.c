/* SPDX-License-Identifier: Apache-2.0 */
/* registry_store.c: SQL for the model registry (registered models, versions, tags, aliases, stages) and the
 * events outbox row each change writes in its own job. Enforces what the database knows (existence, unique
 * names, version numbering); it does not validate names, keys or stages (the API does). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "mltrackd/buf.h"
#include "mltrackd/store_registry.h"
#include "mltrackd/util.h"
#include "registry_internal.h"
#include "store_internal.h"

#define STAGE_DELETED "Deleted_Internal"
#define PROMPT_TEXT_TAG_KEY "mlflow.prompt.text"
#define PROMPT_TYPE_TAG_KEY "_mlflow_prompt_type"
#define MODEL_VERSIONS_TAG_KEY "mlflow.modelVersions"

/* ---- statements ---- */

static const char SQL_MODEL_PK[] = "SELECT model_pk FROM registered_models WHERE name = ?1";
static const char SQL_IS_PROMPT[] =
	"SELECT 1 FROM registered_model_tags WHERE model_pk = ?1 AND key = 'mlflow.prompt.is_prompt'"
	" AND LOWER(value) = 'true'";
static const char SQL_RM_INSERT[] =
	"INSERT INTO registered_models (name, creation_time, last_updated_time, description) VALUES (?1, ?2, ?2, ?3)";
static const char SQL_RM_GET[] =
	"SELECT name, creation_time, last_updated_time, description FROM registered_models WHERE model_pk = ?1";
static const char SQL_RM_TAGS[] = "SELECT key, value FROM registered_model_tags WHERE model_pk = ?1 ORDER BY tag_pk";
static const char SQL_RM_ALIASES[] =
	"SELECT alias, version FROM registered_model_aliases WHERE model_pk = ?1 ORDER BY alias";
static const char SQL_RM_TAG_UPSERT[] =
	"INSERT INTO registered_model_tags (model_pk, key, value) VALUES (?1, ?2, ?3)"
	" ON CONFLICT (model_pk, key) DO UPDATE SET value = excluded.value";
static const char SQL_RM_TAG_DELETE[] = "DELETE FROM registered_model_tags WHERE model_pk = ?1 AND key = ?2";
static const char SQL_RM_TOUCH[] = "UPDATE registered_models SET last_updated_time = ?2 WHERE model_pk = ?1";
static const char SQL_RM_RENAME[] = "UPDATE registered_models SET name = ?2, last_updated_time = ?3 WHERE model_pk = ?1";
static const char SQL_RM_DESCRIBE[] =
	"UPDATE registered_models SET description = ?2, last_updated_time = ?3 WHERE model_pk = ?1";
static const char SQL_RM_DELETE[] = "DELETE FROM registered_models WHERE model_pk = ?1";
static const char SQL_NAME_TAKEN[] = "SELECT 1 FROM registered_models WHERE name = ?1";
/* MLflow's basic-auth moves a model's grants with a rename and drops them with a delete. */
static const char SQL_GRANTS_RENAME[] =
	"UPDATE grants SET resource_id = ?2 WHERE resource_type = 'registered_model' AND resource_id = ?1";
static const char SQL_GRANTS_DROP[] = "DELETE FROM grants WHERE resource_type = 'registered_model' AND resource_id = ?1";

#define MV_COLS                                                                                                   \
	"m.name, v.version, v.creation_time, v.last_updated_time, v.description, v.user_id, v.current_stage, v.source," \
	" v.run_id, v.run_link, v.status, v.status_message, v.storage_location, v.model_id, v.mv_pk, v.model_pk"
static const char SQL_MV_GET[] = "SELECT " MV_COLS " FROM model_versions v JOIN registered_models m"
                                 " ON m.model_pk = v.model_pk WHERE v.mv_pk = ?1";
static const char SQL_MV_PK[] =
	"SELECT v.mv_pk, v.current_stage FROM model_versions v JOIN registered_models m ON m.model_pk = v.model_pk"
	" WHERE m.name = ?1 AND v.version = ?2 AND v.current_stage != 'Deleted_Internal'";
static const char SQL_MV_TAGS[] = "SELECT key, value FROM model_version_tags WHERE mv_pk = ?1 ORDER BY tag_pk";
static const char SQL_MV_ALIASES[] =
	"SELECT alias FROM registered_model_aliases WHERE model_pk = ?1 AND version = ?2 ORDER BY alias";
static const char SQL_MV_MAX[] = "SELECT COALESCE(MAX(version), 0) FROM model_versions WHERE model_pk = ?1";
static const char SQL_MV_INSERT[] =
	"INSERT INTO model_versions (model_pk, version, creation_time, last_updated_time, description, current_stage,"
	" source, storage_location, run_id, run_link, status, model_id)"
	" VALUES (?1, ?2, ?3, ?3, ?4, 'None', ?5, ?6, ?7, ?8, 'READY', ?9)";
static const char SQL_MV_TAG_UPSERT[] =
	"INSERT INTO model_version_tags (mv_pk, key, value) VALUES (?1, ?2, ?3)"
	" ON CONFLICT (mv_pk, key) DO UPDATE SET value = excluded.value";
static const char SQL_MV_TAG_DELETE[] = "DELETE FROM model_version_tags WHERE mv_pk = ?1 AND key = ?2";
static const char SQL_MV_DESCRIBE[] = "UPDATE model_versions SET description = ?2, last_updated_time = ?3 WHERE mv_pk = ?1";
static const char SQL_MV_STAGE[] = "UPDATE model_versions SET current_stage = ?2, last_updated_time = ?3 WHERE mv_pk = ?1";
static const char SQL_MV_IN_STAGE[] =
	"SELECT version FROM model_versions WHERE model_pk = ?1 AND current_stage = ?2 AND mv_pk != ?3 ORDER BY version";
static const char SQL_MV_ARCHIVE[] =
	"UPDATE model_versions SET current_stage = 'Archived', last_updated_time = ?4"
	" WHERE model_pk = ?1 AND current_stage = ?2 AND mv_pk != ?3";
static const char SQL_MV_TOUCH_ALL[] = "UPDATE model_versions SET last_updated_time = ?2 WHERE model_pk = ?1";
/* MLflow keeps a deleted version's row (and tags) with its fields redacted, so the number is never reused. */
static const char SQL_MV_SOFT_DELETE[] =
	"UPDATE model_versions SET current_stage = 'Deleted_Internal', last_updated_time = ?2, description = NULL,"
	" user_id = NULL, source = 'REDACTED-SOURCE-PATH', storage_location = NULL, run_id = 'REDACTED-RUN-ID',"
	" run_link = 'REDACTED-RUN-LINK', status_message = NULL WHERE mv_pk = ?1";
static const char SQL_MV_LATEST[] =
	"SELECT v.mv_pk FROM model_versions v WHERE v.model_pk = ?1 AND v.current_stage != 'Deleted_Internal'"
	" AND v.version = (SELECT MAX(x.version) FROM model_versions x WHERE x.model_pk = v.model_pk"
	" AND x.current_stage = v.current_stage)"
	" ORDER BY (SELECT MIN(x.version) FROM model_versions x WHERE x.model_pk = v.model_pk"
	" AND x.current_stage = v.current_stage)";
static const char SQL_MV_NEWEST[] =
	"SELECT mv_pk FROM model_versions WHERE model_pk = ?1 AND current_stage != 'Deleted_Internal'"
	" ORDER BY version DESC LIMIT 1";
static const char SQL_ALIAS_UPSERT[] =
	"INSERT INTO registered_model_aliases (model_pk, alias, version) VALUES (?1, ?2, ?3)"
	" ON CONFLICT (model_pk, alias) DO UPDATE SET version = excluded.version";
static const char SQL_ALIAS_DELETE[] = "DELETE FROM registered_model_aliases WHERE model_pk = ?1 AND alias = ?2";
static const char SQL_ALIAS_DELETE_VERSION[] =
	"DELETE FROM registered_model_aliases WHERE model_pk = ?1 AND version = ?2";
static const char SQL_ALIAS_GET[] = "SELECT version FROM registered_model_aliases WHERE model_pk = ?1 AND alias = ?2";
static const char SQL_LM_TAG_GET[] =
	"SELECT t.value, l.model_pk FROM logged_models l LEFT JOIN logged_model_tags t ON t.model_pk = l.model_pk"
	" AND t.key = 'mlflow.modelVersions' WHERE l.model_id = ?1";
static const char SQL_LM_TAG_SET[] =
	"INSERT INTO logged_model_tags (model_pk, key, value) VALUES (?1, 'mlflow.modelVersions', ?2)"
	" ON CONFLICT (model_pk, key) DO UPDATE SET value = excluded.value";
static const char SQL_EVENT_INSERT[] =
	"INSERT INTO events (entity, action, payload, created_at, actor) VALUES (?1, ?2, ?3, ?4, ?5)";
static const char SQL_EVENTS_LIST[] =
	"SELECT id, entity, action, payload, created_at, actor FROM events WHERE id > ?1 ORDER BY id LIMIT ?2";

/* ---- small helpers ---- */

static enum mt_error rm_not_found(struct mt_err *err, const char *name)
{
	return mt_fail(err, MT_RESOURCE_DOES_NOT_EXIST, "Registered Model with name=%.500s not found", name);
}

static enum mt_error mv_not_found(struct mt_err *err, const char *name, int64_t version)
{
	return mt_fail(err, MT_RESOURCE_DOES_NOT_EXIST, "Model Version (name=%.500s, version=%lld) not found", name,
	               (long long)version);
}

/* Steps a one-column integer query: *found and *v. */
static enum mt_error step_int(struct store_conn *c, sqlite3_stmt *st, bool *found, int64_t *v, struct mt_err *err)
{
	int rc = sqlite3_step(st);
	*found = rc == SQLITE_ROW;
	if (*found)
		*v = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? MT_OK : db_fail(c, err, rc);
}

static enum mt_error model_pk(struct store_conn *c, const char *name, int64_t *pk, struct mt_err *err)
{
	sqlite3_stmt *st = db_stmt(c, SQL_MODEL_PK, err);
	if (!st)
		return err->code;
	db_bind_text(st, 1, name);
	bool found;
	if (step_int(c, st, &found, pk, err) != MT_OK)
		return err->code;
	return found ? MT_OK : rm_not_found(err, name);
}

enum mt_error registry_mv_find(struct store_conn *c, struct arena *a, const char *name, int64_t version,
                               int64_t *pk, const char **stage, struct mt_err *err)
{
	sqlite3_stmt *st = db_stmt(c, SQL_MV_PK, err);
	if (!st)
		return err->code;
	db_bind_text(st, 1, name);
	sqlite3_bind_int64(st, 2, version);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*pk = sqlite3_column_int64(st, 0);
		if (stage)
			*stage = db_col_text(a, st, 1);
	}
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return MT_OK;
	return rc == SQLITE_DONE ? mv_not_found(err, name, version) : db_fail(c, err, rc);
}

static enum mt_error mv_pk(struct store_conn *c, const char *name, int64_t version, int64_t *pk, struct mt_err *err)
{
	return registry_mv_find(c, NULL, name, version, pk, NULL, err);
}

static enum mt_error is_prompt(struct store_conn *c, int64_t pk, bool *out, struct mt_err *err)
{
	sqlite3_stmt *st = db_stmt(c, SQL_IS_PROMPT, err);
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, pk);
	return db_step_exists(c, st, out, err);
}

static enum mt_error exec_pk_time(struct store_conn *c, const char *sql, int64_t pk, int64_t t, struct mt_err *err)
{
	sqlite3_stmt *st = db_stmt(c, sql, err);
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, pk);
	sqlite3_bind_int64(st, 2, t);
	return db_exec_stmt(c, st, err);
}

/* Reads (key, value) rows of a bound statement into an arena array. */
static enum mt_error read_pairs(struct store_conn *c, struct arena *a, sqlite3_stmt *st, struct mt_tag **out,
                                size_t *n, struct mt_err *err)
{
	size_t cap = 0;
	int rc;
	*out = NULL;
	*n = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*out = arena_grow(a, *out, *n, &cap, sizeof **out);
		(*out)[*n].key = db_col_text(a, st, 0);
		(*out)[*n].value = db_col_text(a, st, 1);
		(*n)++;
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? MT_OK : db_fail(c, err, rc);
}

/* ---- loading entities ---- */

static enum mt_error load_mv(struct store_conn *c, struct arena *a, int64_t pk, bool with_aliases,
                             struct mt_model_version *v, struct mt_err *err)
{
	sqlite3_stmt *st = db_stmt(c, SQL_MV_GET, err);
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, pk);
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		return rc == SQLITE_DONE ? mt_fail(err, MT_RESOURCE_DOES_NOT_EXIST, "Model Version not found")
		                         : db_fail(c, err, rc);
	}
	memset(v, 0, sizeof *v);
	v->name = db_col_text(a, st, 0);
	v->version = sqlite3_column_int64(st, 1);
	v->creation_timestamp = sqlite3_column_int64(st, 2);
	v->last_updated_timestamp = sqlite3_column_int64(st, 3);
	v->description = db_col_text(a, st, 4);
	v->user_id = db_col_text(a, st, 5);
	v->current_stage = db_col_text(a, st, 6);
	v->source = db_col_text(a, st, 7);
	v->run_id = db_col_text(a, st, 8);
	v->run_link = db_col_text(a, st, 9);
	v->status = db_col_text(a, st, 10);
	v->status_message = db_col_text(a, st, 11);
	v->storage_location = db_col_text(a, st, 12);
	v->model_id = db_col_text(a, st, 13);
	int64_t model = sqlite3_column_int64(st, 15);
	sqlite3_reset(st);
	st = db_stmt(c, SQL_MV_TAGS, err);
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, pk);
	if (read_pairs(c, a, st, &v->tags, &v->n_tags, err) != MT_OK)
		return err->code;
	if (!with_aliases)
		return MT_OK;
	st = db_stmt(c, SQL_MV_ALIASES, err);
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, model);
	sqlite3_bind_int64(st, 2, v->version);
	size_t cap = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		v->aliases = arena_grow(a, v->aliases, v->n_aliases, &cap, sizeof *v->aliases);
		v->aliases[v->n_aliases++] = db_col_text(a, st, 0);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? MT_OK : db_fail(c, err, rc);
}

/* Collects the mv_pk column of a bound statement. */
static enum mt_error collect(struct store_conn *c, struct arena *a, sqlite3_stmt *st, int64_t **out, size_t *n,
                             struct mt_err *err)
{
	size_t cap = 8;
	int64_t *v = arena_alloc(a, cap * sizeof *v);
	int rc;
	*n = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		v = arena_grow(a, v, *n, &cap, sizeof *v);
		v[(*n)++] = sqlite3_column_int64(st, 0);
	}
	sqlite3_reset(st);
	*out = v;
	return rc == SQLITE_DONE ? MT_OK : db_fail(c, err, rc);
}

static enum mt_error load_latest(struct store_conn *c, struct arena *a, int64_t model, bool with_aliases,
                                 struct mt_model_version **out, size_t *n, struct mt_err *err)
{
	sqlite3_stmt *st = db_stmt(c, SQL_MV_LATEST, err);
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, model);
	int64_t *pks;
	if (collect(c, a, st, &pks, n, err) != MT_OK)
		return err->code;
	*out = arena_calloc(a, (*n ? *n : 1) * sizeof **out);
	for (size_t i = 0; i < *n; i++)
		if (load_mv(c, a, pks[i], with_aliases, &(*out)[i], err) != MT_OK)
			return err->code;
	return MT_OK;
}

static enum mt_error load_rm(struct store_conn *c, struct arena *a, int64_t pk, struct mt_registered_model *m,
                             struct mt_err *err)
{
	sqlite3_stmt *st = db_stmt(c, SQL_RM_GET, err);
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, pk);
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		return rc == SQLITE_DONE ? mt_fail(err, MT_RESOURCE_DOES_NOT_EXIST, "Registered Model not found")
		                         : db_fail(c, err, rc);
	}
	memset(m, 0, sizeof *m);
	m->name = db_col_text(a, st, 0);
	m->creation_timestamp = sqlite3_column_int64(st, 1);
	m->last_updated_timestamp = sqlite3_column_int64(st, 2);
	m->description = db_col_text(a, st, 3);
	sqlite3_reset(st);
	st = db_stmt(c, SQL_RM_TAGS, err);
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, pk);
	if (read_pairs(c, a, st, &m->tags, &m->n_tags, err) != MT_OK)
		return err->code;
	st = db_stmt(c, SQL_RM_ALIASES, err);
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, pk);
	if (read_pairs(c, a, st, &m->aliases, &m->n_aliases, err) != MT_OK)
		return err->code;
	return load_latest(c, a, pk, false, &m->latest, &m->n_latest, err);
}

/* ---- events ---- */

static void ev_open(struct registry_ev *e)
{
	buf_init(&e->b, 64u * 1024 * 1024);
	jw_init(&e->w, &e->b);
	jw_obj_open(&e->w);
}

static void ev_version(struct registry_ev *e, int64_t version)
{
	char v[32];
	snprintf(v, sizeof v, "%lld", (long long)version);
	jw_kv_str(&e->w, "version", v);
}

/* Writes "tags": {k: v} leaving out the keys in skip (NULL-terminated). */
static void ev_tags(struct registry_ev *e, const struct mt_tag *tags, size_t n, const char *const *skip)
{
	jw_key(&e->w, "tags");
	jw_obj_open(&e->w);
	for (size_t i = 0; i < n; i++) {
		bool skipped = false;
		for (const char *const *s = skip; s && *s; s++)
			skipped = skipped || strcmp(tags[i].key, *s) == 0;
		/* a repeated key: the last value wins, as MLflow builds a dict */
		for (size_t j = i + 1; j < n && !skipped; j++)
			skipped = strcmp(tags[i].key, tags[j].key) == 0;
		if (!skipped)
			jw_kv_str(&e->w, tags[i].key, tags[i].value ? tags[i].value : "");
	}
	jw_obj_close(&e->w);
}

enum mt_error registry_ev_emit(struct store_conn *c, const char *actor, const char *entity, const char *action,
                               struct registry_ev *e, struct mt_err *err)
{
	jw_obj_close(&e->w);
	enum mt_error rc = MT_OK;
	sqlite3_stmt *st = e->b.overflow ? NULL : db_stmt(c, SQL_EVENT_INSERT, err);
	if (e->b.overflow)
		rc = mt_fail(err, MT_INVALID_PARAMETER_VALUE, "The event payload is too large");
	else if (!st)
		rc = err->code;
	if (rc == MT_OK) {
		db_bind_text(st, 1, entity);
		db_bind_text(st, 2, action);
		sqlite3_bind_text(st, 3, e->b.data ? e->b.data : "{}", -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 4, mt_now_ms());
		db_bind_text(st, 5, actor);
		rc = db_exec_stmt(c, st, err);
	}
	buf_free(&e->b);
	return rc;
}

static bool tags_say_prompt(const struct mt_tag *tags, size_t n)
{
	const char *v = "false";
	for (size_t i = 0; i < n; i++)
		if (strcmp(tags[i].key, MT_PROMPT_TAG_KEY) == 0)
			v = tags[i].value ? tags[i].value : "";
	return strcasecmp(v, "true") == 0;
}

/* ---- registered models ---- */

struct rm_job {
	const struct registry_ctx *x;
	const char *name, *new_name, *description, *key, *value, *alias;
	const struct mt_tag *tags;
	size_t n_tags;
	int64_t version;
	struct mt_registered_model *out;
};

static enum mt_error upsert_tag(struct store_conn *c, const char *sql, int64_t pk, const char *key, const char *value,
                                struct mt_err *err)
{
	sqlite3_stmt *st = db_stmt(c, sql, err);
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, pk);
	db_bind_text(st, 2, key);
	db_bind_text(st, 3, value);
	return db_exec_stmt(c, st, err);
}

static enum mt_error rm_create_job(struct store_conn *c, void *arg, struct mt_err *err)
{
	struct rm_job *j = arg;
	sqlite3_stmt *st = db_stmt(c, SQL_NAME_TAKEN, err);
	if (!st)
		return err->code;
	db_bind_text(st, 1, j->name);
	bool taken;
	if (db_step_exists(c, st, &taken, err) != MT_OK)
		return err->code;
	if (taken)
		return mt_fail(err, MT_RESOURCE_ALREADY_EXISTS, "Registered Model (name=%.500s) already exists.", j->name);
	st = db_stmt(c, SQL_RM_INSERT, err);
	if (!st)
		return err->code;
	db_bind_text(st, 1, j->name);
	sqlite3_bind_int64(st, 2, mt_now_ms());
	db_bind_text(st, 3, j->description ? j->description : "");
	if (db_exec_stmt(c, st, err) != MT_OK)
		return err->code;
	int64_t pk = sqlite3_last_insert_rowid(c->db);
	for (size_t i = 0; i < j->n_tags; i++)
		if (upsert_tag(c, SQL_RM_TAG_UPSERT, pk, j->tags[i].key, j->tags[i].value, err) != MT_OK)
			return err->code;
	/* MLflow decides prompt-or-model from the request's tags */
	bool prompt = tags_say_prompt(j->tags, j->n_tags);
	static const char *const prompt_skip[] = {MT_PROMPT_TAG_KEY, PROMPT_TYPE_TAG_KEY, NULL};
	struct registry_ev e;
	ev_open(&e);
	jw_kv_str(&e.w, "name", j->name);
	ev_tags(&e, j->tags, j->n_tags, prompt ? prompt_skip : NULL);
	jw_kv_str(&e.w, "description", j->description ? j->description : "");
	if (registry_ev_emit(c, j->x->actor, prompt ? "prompt" : "registered_model", "created", &e, err) != MT_OK)
		return err->code;
	return load_rm(c, j->x->a, pk, j->out, err);
}

enum mt_error store_rm_create(const struct registry_ctx *x, const char *name, const char *description,
                              const struct mt_tag *tags, size_t n_tags, struct mt_registered_model *out,
                              struct mt_err *err)
{
	struct rm_job j = {.x = x, .name = name, .description = description, .tags = tags, .n_tags = n_tags, .out = out};
	return store_write(x->s, rm_create_job, &j, err);
}

enum mt_error store_rm_get(const struct registry_ctx *x, const char *name, struct mt_registered_model *out,
                           struct mt_err *err)
{
	struct store_conn *c = store_reader(x->s);
	int64_t pk;
	if (model_pk(c, name, &pk, err) != MT_OK)
		return err->code;
	return load_rm(c, x->a, pk, out, err);
}

static enum mt_error rm_rename_job(struct store_conn *c, void *arg, struct mt_err *err)
{
	struct rm_job *j = arg;
	int64_t pk;
	if (model_pk(c, j->name, &pk, err) != MT_OK)
		return err->code;
	sqlite3_stmt *st = db_stmt(c, SQL_NAME_TAKEN, err);
	if (!st)
		return err->code;
	db_bind_text(st, 1, j->new_name);
	bool taken;
	if (db_step_exists(c, st, &taken, err) != MT_OK)
		return err->code;
	if (taken)
		return mt_fail(err, MT_RESOURCE_ALREADY_EXISTS, "Registered Model (name=%.500s) already exists.", j->new_name);
	int64_t now = mt_now_ms();
	st = db_stmt(c, SQL_RM_RENAME, err);
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, pk);
	db_bind_text(st, 2, j->new_name);
	sqlite3_bind_int64(st, 3, now);
	if (db_exec_stmt(c, st, err) != MT_OK)
		return err->code;
	/* MLflow touches every version (deleted ones too) when the model is renamed */
	if (exec_pk_time(c, SQL_MV_TOUCH_ALL, pk, now, err) != MT_OK)
		return err->code;
	st = db_stmt(c, SQL_GRANTS_RENAME, err);
	if (!st)
		return err->code;
	db_bind_text(st, 1, j->name);
	db_bind_text(st, 2, j->new_name);
	if (db_exec_stmt(c, st, err) != MT_OK)
		return err->code;
	struct registry_ev e;
	ev_open(&e);
	jw_kv_str(&e.w, "name", j->new_name);
	jw_kv_str(&e.w, "old_name", j->name);
	if (registry_ev_emit(c, j->x->actor, "registered_model", "renamed", &e, err) != MT_OK)
		return err->code;
	return load_rm(c, j->x->a, pk, j->out, err);
}

enum mt_error store_rm_rename(const struct registry_ctx *x, const char *name, const char *new_name,
                              struct mt_registered_model *out, struct mt_err *err)
{
	struct rm_job j = {.x = x, .name = name, .new_name = new_name, .out = out};
	return store_write(x->s, rm_rename_job, &j, err);
}

static enum mt_error rm_update_job(struct store_conn *c, void *arg, struct mt_err *err)
{
	struct rm_job *j = arg;
	int64_t pk;
	if (model_pk(c, j->name, &pk, err) != MT_OK)
		return err->code;
	sqlite3_stmt *st = db_stmt(c, SQL_RM_DESCRIBE, err);
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, pk);
	db_bind_text(st, 2, j->description ? j->description : "");
	sqlite3_bind_int64(st, 3, mt_now_ms());
	if (db_exec_stmt(c, st, err) != MT_OK)
		return err->code;
	struct registry_ev e;
	ev_open(&e);
	jw_kv_str(&e.w, "name", j->name);
	jw_kv_str(&e.w, "description", j->description ? j->description : "");
	if (registry_ev_emit(c, j->x->actor, "registered_model", "updated", &e, err) != MT_OK)
		return err->code;
	return load_rm(c, j->x->a, pk, j->out, err);
}

enum mt_error store_rm_update(const struct registry_ctx *x, const char *name, const char *description,
                              struct mt_registered_model *out, struct mt_err *err)
{
	struct rm_job j = {.x = x, .name = name, .description = description, .out = out};
	return store_write(x->s, rm_update_job, &j, err);
}

static enum mt_error rm_delete_job(struct store_conn *c, void *arg, struct mt_err *err)
{
	struct rm_job *j = arg;
	int64_t pk;
	if (model_pk(c, j->name, &pk, err) != MT_OK)
		return err->code;
	sqlite3_stmt *st = db_stmt(c, SQL_RM_DELETE, err);
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, pk);
	if (db_exec_stmt(c, st, err) != MT_OK)
		return err->code;
	st = db_stmt(c, SQL_GRANTS_DROP, err);
	if (!st)
		return err->code;
	db_bind_text(st, 1, j->name);
	if (db_exec_stmt(c, st, err) != MT_OK)
		return err->code;
	struct registry_ev e;
	ev_open(&e);
	jw_kv_str(&e.w, "name", j->name);
	return registry_ev_emit(c, j->x->actor, "registered_model", "deleted", &e, err);
}

enum mt_error store_rm_delete(const struct registry_ctx *x, const char *name, struct mt_err *err)
{
	struct rm_job j = {.x = x, .name = name};
	return store_write(x->s, rm_delete_job, &j, err);
}

static enum mt_error rm_tag_job(struct store_conn *c, void *arg, struct mt_err *err)
{
	struct rm_job *j = arg;
	int64_t pk;
	if (model_pk(c, j->name, &pk, err) != MT_OK)
		return err->code;
	bool del = j->value == NULL;
	/* MLflow checks prompt-ness after the change (a tag that makes a model a prompt fires prompt_tag.set) */
	if (del) {
		sqlite3_stmt *st = db_stmt(c, SQL_RM_TAG_DELETE, err);
		if (!st)
			return err->code;
		sqlite3_bind_int64(st, 1, pk);
		db_bind_text(st, 2, j->key);
		if (db_exec_stmt(c, st, err) != MT_OK)
			return err->code;
	} else if (upsert_tag(c, SQL_RM_TAG_UPSERT, pk, j->key, j->value, err) != MT_OK) {
		return err->code;
	}
	bool prompt;
	if (is_prompt(c, pk, &prompt, err) != MT_OK)
		return err->code;
	struct registry_ev e;
	ev_open(&e);
	jw_kv_str(&e.w, "name", j->name);
	jw_kv_str(&e.w, "key", j->key);
	if (!del)
		jw_kv_str(&e.w, "value", j->value);
	return registry_ev_emit(c, j->x->actor, prompt ? "prompt_tag" : "registered_model_tag", del ? "deleted" : "set", &e,
	                        err);
}

enum mt_error store_rm_set_tag(const struct registry_ctx *x, const char *name, const char *key, const char *value,
                               struct mt_err *err)
{
	struct rm_job j = {.x = x, .name = name, .key = key, .value = value ? value : ""};
	return store_write(x->s, rm_tag_job, &j, err);
}

enum mt_error store_rm_delete_tag(const struct registry_ctx *x, const char *name, const char *key, struct mt_err *err)
{
	struct rm_job j = {.x = x, .name = name, .key = key};
	return store_write(x->s, rm_tag_job, &j, err);
}

enum mt_error store_rm_latest_versions(const struct registry_ctx *x, const char *name, const char *const *stages,
                                       size_t n_stages, struct mt_model_version **out, size_t *n, struct mt_err *err)
{
	struct store_conn *c = store_reader(x->s);
	int64_t pk;
	struct mt_model_version *all;
	size_t n_all;
	if (model_pk(c, name, &pk, err) != MT_OK || load_latest(c, x->a, pk, true, &all, &n_all, err) != MT_OK)
		return err->code;
	*out = all;
	*n = 0;
	for (size_t i = 0; i < n_all; i++) {
		bool keep = n_stages == 0;
		for (size_t k = 0; k < n_stages && !keep; k++)
			keep = strcmp(all[i].current_stage, stages[k]) == 0;
		if (keep)
			all[(*n)++] = all[i];
	}
	return MT_OK;
}

/* ---- aliases ---- */

static enum mt_error alias_job(struct store_conn *c, void *arg, struct mt_err *err)
{
	struct rm_job j = *(struct rm_job *)arg;
	int64_t model, mv;
	bool set = j.version > 0;
	if (set) {
		/* the version must exist (MLflow looks the version up, so an unknown model is "Model Version ... not found") */
		if (mv_pk(c, j.name, j.version, &mv, err) != MT_OK || model_pk(c, j.name, &model, err) != MT_OK)
			return err->code;
		sqlite3_stmt *st = db_stmt(c, SQL_ALIAS_UPSERT, err);
		if (!st)
			return err->code;
		sqlite3_bind_int64(st, 1, model);
		db_bind_text(st, 2, j.alias);
		sqlite3_bind_int64(st, 3, j.version);
		if (db_exec_stmt(c, st, err) != MT_OK)
			return err->code;
	} else {
		if (model_pk(c, j.name, &model, err) != MT_OK)
			return err->code;
		sqlite3_stmt *st = db_stmt(c, SQL_ALIAS_DELETE, err);
		if (!st)
			return err->code;
		sqlite3_bind_int64(st, 1, model);
		db_bind_text(st, 2, j.alias);
		if (db_exec_stmt(c, st, err) != MT_OK)
			return err->code;
	}
	bool prompt;
	if (is_prompt(c, model, &prompt, err) != MT_OK)
		return err->code;
	struct registry_ev e;
	ev_open(&e);
	jw_kv_str(&e.w, "name", j.name);
	jw_kv_str(&e.w, "alias", j.alias);
	if (set)
		ev_version(&e, j.version);
	return registry_ev_emit(c, j.x->actor, prompt ? "prompt_alias" : "model_version_alias",
	                        set ? "created" : "deleted", &e, err);
}

enum mt_error store_alias_set(const struct registry_ctx *x, const char *name, const char *alias, int64_t version,
                              struct mt_err *err)
{
	if (version <= 0)
		return mv_not_found(err, name, version);
	struct rm_job j = {.x = x, .name = name, .alias = alias, .version = version};
	return store_write(x->s, alias_job, &j, err);
}

enum mt_error store_alias_delete(const struct registry_ctx *x, const char *name, const char *alias,
                                 struct mt_err *err)
{
	struct rm_job j = {.x = x, .name = name, .alias = alias, .version = 0};
	return store_write(x->s, alias_job, &j, err);
}

enum mt_error store_alias_get(const struct registry_ctx *x, const char *name, const char *alias,
                              struct mt_model_version *out, struct mt_err *err)
{
	struct store_conn *c = store_reader(x->s);
	int64_t model, pk;
	bool found;
	if (strcasecmp(alias, "latest") == 0) {
		/* the highest version number of any (non-deleted) stage */
		sqlite3_stmt *st = db_stmt(c, SQL_MV_NEWEST, err);
		if (model_pk(c, name, &model, err) != MT_OK || !st)
			return err->code;
		sqlite3_bind_int64(st, 1, model);
		if (step_int(c, st, &found, &pk, err) != MT_OK)
			return err->code;
		if (!found)
			return mt_fail(err, MT_RESOURCE_DOES_NOT_EXIST, "Latest version not found for model %.500s.", name);
		return load_mv(c, x->a, pk, true, out, err);
	}
	if (model_pk(c, name, &model, err) != MT_OK)
		return err->code;
	sqlite3_stmt *st = db_stmt(c, SQL_ALIAS_GET, err);
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, model);
	db_bind_text(st, 2, alias);
	int64_t version;
	if (step_int(c, st, &found, &version, err) != MT_OK)
		return err->code;
	if (!found)
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "Registered model alias %.255s not found.", alias);
	if (mv_pk(c, name, version, &pk, err) != MT_OK)
		return err->code;
	return load_mv(c, x->a, pk, true, out, err);
}

/* ---- model versions ---- */

struct mv_job {
	const struct registry_ctx *x;
	const struct store_mv_create *in;
	const char *name, *description, *stage, *key, *value;
	int64_t version;
	bool archive, del, has_description;
	struct mt_model_version *out;
};

/* Appends {"name", "version"} to the logged model's mlflow.modelVersions tag (a JSON list), as MLflow's
 * set_model_versions_tags does, in the same transaction as the version. json.dumps spacing is kept. */
static enum mt_error tag_logged_model(struct store_conn *c, const char *model_id, const char *name, int64_t version,
                                      struct mt_err *err)
{
	sqlite3_stmt *st = db_stmt(c, SQL_LM_TAG_GET, err);
	if (!st)
		return err->code;
	db_bind_text(st, 1, model_id);
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		return rc == SQLITE_DONE ? mt_fail(err, MT_RESOURCE_DOES_NOT_EXIST, "Logged model with ID '%.100s' not found.",
		                                   model_id)
		                         : db_fail(c, err, rc);
	}
	const char *old = sqlite3_column_type(st, 0) == SQLITE_NULL ? NULL : (const char *)sqlite3_column_text(st, 0);
	cJSON *list = old ? cJSON_Parse(old) : NULL;
	int64_t lm_pk = sqlite3_column_int64(st, 1);
	/* the SQL store's entity carries the version as an int: json.dumps writes a number ("version": 1) */
	bool present = false;
	const cJSON *it;
	const cJSON *arr = cJSON_IsArray(list) ? list : NULL;
	cJSON_ArrayForEach(it, arr)
	{
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(it, "name");
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(it, "version");
		present = present || (cJSON_IsString(n) && strcmp(n->valuestring, name) == 0 && cJSON_IsNumber(v) &&
		                      (int64_t)v->valuedouble == version && cJSON_GetArraySize(it) == 2);
	}
	struct buf b;
	buf_init(&b, 16u * 1024 * 1024);
	if (arr && cJSON_GetArraySize(arr) > 0) {
		/* keep the existing text as it is and append before its closing bracket */
		const char *close = strrchr(old, ']');
		buf_append(&b, old, (size_t)(close - old));
		if (!present)
			buf_puts(&b, ", ");
	} else {
		buf_putc(&b, '[');
	}
	cJSON_Delete(list);
	sqlite3_reset(st);
	if (!present) {
		buf_puts(&b, "{\"name\": \"");
		json_escape_into(&b, name, strlen(name));
		buf_printf(&b, "\", \"version\": %lld}", (long long)version);
	}
	buf_putc(&b, ']');
	enum mt_error r = MT_OK;
	st = b.overflow ? NULL : db_stmt(c, SQL_LM_TAG_SET, err);
	if (!st) {
		r = b.overflow ? mt_fail(err, MT_INVALID_PARAMETER_VALUE, "Too many model versions on one logged model")
		               : err->code;
	} else {
		sqlite3_bind_int64(st, 1, lm_pk);
		sqlite3_bind_text(st, 2, b.data, -1, SQLITE_TRANSIENT);
		r = db_exec_stmt(c, st, err);
	}
	buf_free(&b);
	return r;
}

static enum mt_error mv_create_job(struct store_conn *c, void *arg, struct mt_err *err)
{
	struct mv_job *j = arg;
	const struct store_mv_create *in = j->in;
	int64_t model, max = 0;
	bool found;
	if (model_pk(c, in->name, &model, err) != MT_OK)
		return err->code;
	sqlite3_stmt *st = db_stmt(c, SQL_MV_MAX, err);
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, model);
	if (step_int(c, st, &found, &max, err) != MT_OK)
		return err->code;
	int64_t version = max + 1, now = mt_now_ms();
	st = db_stmt(c, SQL_MV_INSERT, err);
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, model);
	sqlite3_bind_int64(st, 2, version);
	sqlite3_bind_int64(st, 3, now);
	db_bind_text(st, 4, in->description ? in->description : "");
	db_bind_text(st, 5, in->source);
	db_bind_text(st, 6, in->storage_location);
	db_bind_text(st, 7, in->run_id ? in->run_id : "");
	db_bind_text(st, 8, in->run_link ? in->run_link : "");
	db_bind_text(st, 9, in->model_id);
	if (db_exec_stmt(c, st, err) != MT_OK)
		return err->code;
	int64_t pk = sqlite3_last_insert_rowid(c->db);
	for (size_t i = 0; i < in->n_tags; i++)
		if (upsert_tag(c, SQL_MV_TAG_UPSERT, pk, in->tags[i].key, in->tags[i].value, err) != MT_OK)
			return err->code;
	if (exec_pk_time(c, SQL_RM_TOUCH, model, now, err) != MT_OK)
		return err->code;
	bool prompt = tags_say_prompt(in->tags, in->n_tags);
	if (in->model_id && in->model_id[0] && !prompt && tag_logged_model(c, in->model_id, in->name, version, err) != MT_OK)
		return err->code;
	struct registry_ev e;
	ev_open(&e);
	jw_kv_str(&e.w, "name", in->name);
	ev_version(&e, version);
	if (prompt) {
		static const char *const skip[] = {MT_PROMPT_TAG_KEY, PROMPT_TYPE_TAG_KEY, PROMPT_TEXT_TAG_KEY, NULL};
		const char *tmpl = NULL;
		for (size_t i = 0; i < in->n_tags; i++)
			if (strcmp(in->tags[i].key, PROMPT_TEXT_TAG_KEY) == 0)
				tmpl = in->tags[i].value;
		jw_key(&e.w, "template");
		tmpl ? jw_str(&e.w, tmpl) : jw_null(&e.w);
		ev_tags(&e, in->tags, in->n_tags, skip);
	} else {
		jw_kv_str(&e.w, "source", in->source);
		jw_key(&e.w, "run_id");
		(in->run_id && in->run_id[0]) ? jw_str(&e.w, in->run_id) : jw_null(&e.w);
		ev_tags(&e, in->tags, in->n_tags, NULL);
	}
	jw_key(&e.w, "description");
	(in->description && in->description[0]) ? jw_str(&e.w, in->description) : jw_null(&e.w);
	if (registry_ev_emit(c, j->x->actor, prompt ? "prompt_version" : "model_version", "created", &e, err) != MT_OK)
		return err->code;
	return load_mv(c, j->x->a, pk, true, j->out, err);
}

enum mt_error store_mv_create(const struct registry_ctx *x, const struct store_mv_create *in,
                              struct mt_model_version *out, struct mt_err *err)
{
	struct mv_job j = {.x = x, .in = in, .out = out};
	return store_write(x->s, mv_create_job, &j, err);
}

enum mt_error store_mv_get(const struct registry_ctx *x, const char *name, int64_t version,
                           struct mt_model_version *out, struct mt_err *err)
{
	struct store_conn *c = store_reader(x->s);
	int64_t pk;
	if (mv_pk(c, name, version, &pk, err) != MT_OK)
		return err->code;
	return load_mv(c, x->a, pk, true, out, err);
}

static enum mt_error mv_update_job(struct store_conn *c, void *arg, struct mt_err *err)
{
	struct mv_job *j = arg;
	int64_t pk;
	if (mv_pk(c, j->name, j->version, &pk, err) != MT_OK)
		return err->code;
	sqlite3_stmt *st = db_stmt(c, SQL_MV_DESCRIBE, err);
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, pk);
	db_bind_text(st, 2, j->description);
	sqlite3_bind_int64(st, 3, mt_now_ms());
	if (db_exec_stmt(c, st, err) != MT_OK)
		return err->code;
	struct registry_ev e;
	ev_open(&e);
	jw_kv_str(&e.w, "name", j->name);
	ev_version(&e, j->version);
	jw_key(&e.w, "description");
	j->description ? jw_str(&e.w, j->description) : jw_null(&e.w);
	if (registry_ev_emit(c, j->x->actor, "model_version", "updated", &e, err) != MT_OK)
		return err->code;
	return load_mv(c, j->x->a, pk, true, j->out, err);
}

enum mt_error store_mv_update(const struct registry_ctx *x, const char *name, int64_t version,
                              const char *description, struct mt_model_version *out, struct mt_err *err)
{
	struct mv_job j = {.x = x, .name = name, .version = version, .description = description, .out = out};
	return store_write(x->s, mv_update_job, &j, err);
}

static enum mt_error mv_transition_job(struct store_conn *c, void *arg, struct mt_err *err)
{
	struct mv_job *j = arg;
	int64_t pk, model;
	const char *from;
	if (registry_mv_find(c, j->x->a, j->name, j->version, &pk, &from, err) != MT_OK ||
	    model_pk(c, j->name, &model, err) != MT_OK)
		return err->code;
	sqlite3_stmt *st;
	int rc;
	int64_t now = mt_now_ms();
	struct registry_ev e;
	ev_open(&e);
	jw_kv_str(&e.w, "name", j->name);
	ev_version(&e, j->version);
	jw_kv_str(&e.w, "from_stage", from);
	jw_kv_str(&e.w, "to_stage", j->stage);
	jw_kv_bool(&e.w, "archive_existing_versions", j->archive);
	jw_key(&e.w, "archived_versions");
	jw_arr_open(&e.w);
	if (j->archive) {
		st = db_stmt(c, SQL_MV_IN_STAGE, err);
		if (!st) {
			buf_free(&e.b);
			return err->code;
		}
		sqlite3_bind_int64(st, 1, model);
		db_bind_text(st, 2, j->stage);
		sqlite3_bind_int64(st, 3, pk);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			char v[32];
			snprintf(v, sizeof v, "%lld", (long long)sqlite3_column_int64(st, 0));
			jw_str(&e.w, v);
		}
		sqlite3_reset(st);
		if (rc != SQLITE_DONE) {
			buf_free(&e.b);
			return db_fail(c, err, rc);
		}
		st = db_stmt(c, SQL_MV_ARCHIVE, err);
		if (!st) {
			buf_free(&e.b);
			return err->code;
		}
		sqlite3_bind_int64(st, 1, model);
		db_bind_text(st, 2, j->stage);
		sqlite3_bind_int64(st, 3, pk);
		sqlite3_bind_int64(st, 4, now);
		if (db_exec_stmt(c, st, err) != MT_OK) {
			buf_free(&e.b);
			return err->code;
		}
	}
	jw_arr_close(&e.w);
	st = db_stmt(c, SQL_MV_STAGE, err);
	if (!st) {
		buf_free(&e.b);
		return err->code;
	}
	sqlite3_bind_int64(st, 1, pk);
	db_bind_text(st, 2, j->stage);
	sqlite3_bind_int64(st, 3, now);
	if (db_exec_stmt(c, st, err) != MT_OK || exec_pk_time(c, SQL_RM_TOUCH, model, now, err) != MT_OK) {
		buf_free(&e.b);
		return err->code;
	}
	if (registry_ev_emit(c, j->x->actor, "model_version", "stage_transitioned", &e, err) != MT_OK)
		return err->code;
	return load_mv(c, j->x->a, pk, true, j->out, err);
}

enum mt_error store_mv_transition(const struct registry_ctx *x, const char *name, int64_t version, const char *stage,
                                  bool archive, struct mt_model_version *out, struct mt_err *err)
{
	struct mv_job j = {.x = x, .name = name, .version = version, .stage = stage, .archive = archive, .out = out};
	return store_write(x->s, mv_transition_job, &j, err);
}

static enum mt_error mv_delete_job(struct store_conn *c, void *arg, struct mt_err *err)
{
	struct mv_job *j = arg;
	int64_t pk, model, now = mt_now_ms();
	if (mv_pk(c, j->name, j->version, &pk, err) != MT_OK || model_pk(c, j->name, &model, err) != MT_OK)
		return err->code;
	sqlite3_stmt *st = db_stmt(c, SQL_ALIAS_DELETE_VERSION, err);
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, model);
	sqlite3_bind_int64(st, 2, j->version);
	if (db_exec_stmt(c, st, err) != MT_OK || exec_pk_time(c, SQL_MV_SOFT_DELETE, pk, now, err) != MT_OK ||
	    exec_pk_time(c, SQL_RM_TOUCH, model, now, err) != MT_OK)
		return err->code;
	struct registry_ev e;
	ev_open(&e);
	jw_kv_str(&e.w, "name", j->name);
	ev_version(&e, j->version);
	return registry_ev_emit(c, j->x->actor, "model_version", "deleted", &e, err);
}

enum mt_error store_mv_delete(const struct registry_ctx *x, const char *name, int64_t version, struct mt_err *err)
{
	struct mv_job j = {.x = x, .name = name, .version = version};
	return store_write(x->s, mv_delete_job, &j, err);
}

static enum mt_error mv_tag_job(struct store_conn *c, void *arg, struct mt_err *err)
{
	struct mv_job *j = arg;
	int64_t pk, model;
	if (mv_pk(c, j->name, j->version, &pk, err) != MT_OK || model_pk(c, j->name, &model, err) != MT_OK)
		return err->code;
	if (j->del) {
		sqlite3_stmt *st = db_stmt(c, SQL_MV_TAG_DELETE, err);
		if (!st)
			return err->code;
		sqlite3_bind_int64(st, 1, pk);
		db_bind_text(st, 2, j->key);
		if (db_exec_stmt(c, st, err) != MT_OK)
			return err->code;
	} else if (upsert_tag(c, SQL_MV_TAG_UPSERT, pk, j->key, j->value, err) != MT_OK) {
		return err->code;
	}
	bool prompt;
	if (is_prompt(c, model, &prompt, err) != MT_OK)
		return err->code;
	struct registry_ev e;
	ev_open(&e);
	jw_kv_str(&e.w, "name", j->name);
	ev_version(&e, j->version);
	jw_kv_str(&e.w, "key", j->key);
	if (!j->del)
		jw_kv_str(&e.w, "value", j->value);
	return registry_ev_emit(c, j->x->actor, prompt ? "prompt_version_tag" : "model_version_tag",
	                        j->del ? "deleted" : "set", &e, err);
}

enum mt_error store_mv_set_tag(const struct registry_ctx *x, const char *name, int64_t version, const char *key,
                               const char *value, struct mt_err *err)
{
	struct mv_job j = {.x = x, .name = name, .version = version, .key = key, .value = value ? value : ""};
	return store_write(x->s, mv_tag_job, &j, err);
}

enum mt_error store_mv_delete_tag(const struct registry_ctx *x, const char *name, int64_t version, const char *key,
                                  struct mt_err *err)
{
	struct mv_job j = {.x = x, .name = name, .version = version, .key = key, .del = true};
	return store_write(x->s, mv_tag_job, &j, err);
}

/* ---- search: the filter AST rendered with placeholders only ---- */

struct sqlq {
	struct buf sql;
	struct arena *a;
	struct {
		bool is_int;
		const char *text;
		int64_t i;
	} *binds;
	size_t n, cap;
};

static void q_init(struct sqlq *q, struct arena *a)
{
	buf_init(&q->sql, 1 << 20);
	q->a = a;
	q->n = 0;
	q->cap = 32;
	q->binds = arena_alloc(a, q->cap * sizeof *q->binds);
}

static void q_lit(struct sqlq *q, const char *s) { buf_puts(&q->sql, s); }

static void q_bind(struct sqlq *q, bool is_int, const char *text, int64_t i)
{
	q->binds = arena_grow(q->a, q->binds, q->n, &q->cap, sizeof *q->binds);
	q->binds[q->n].is_int = is_int;
	q->binds[q->n].text = text;
	q->binds[q->n].i = i;
	q->n++;
	buf_putc(&q->sql, '?');
}

static void q_text(struct sqlq *q, const char *s) { q_bind(q, false, s, 0); }

/* The ACL's readable set (registry_query.acl_mode), bound as a JSON array. */
static void q_acl(struct sqlq *q, const struct registry_query *rq)
{
	if (rq->acl_mode != 1 && rq->acl_mode != 2)
		return;
	q_lit(q, rq->acl_mode == 1 ? " AND m.name IN (SELECT value FROM json_each(" : " AND m.name NOT IN (SELECT value FROM json_each(");
	q_text(q, rq->acl_names ? rq->acl_names : "[]");
	q_lit(q, "))");
}

/* "col <op> ?" with LIKE case-sensitive (the connection sets case_sensitive_like) and ILIKE lowering both. */
static void q_compare(struct sqlq *q, const char *col, const struct search_cond *c)
{
	if (c->op == SEARCH_OP_ILIKE) {
		q_lit(q, "LOWER(");
		q_lit(q, col);
		q_lit(q, ") LIKE LOWER(");
		q_text(q, c->str);
		q_lit(q, ")");
		return;
	}
	q_lit(q, col);
	if (c->op == SEARCH_OP_IN || c->op == SEARCH_OP_NOT_IN) {
		q_lit(q, c->op == SEARCH_OP_IN ? " IN (" : " NOT IN (");
		for (size_t i = 0; i < c->n_list; i++) {
			if (i)
				q_lit(q, ",");
			q_text(q, c->list[i]);
		}
		q_lit(q, ")");
		return;
	}
	static const char *const ops[] = {" = ", " != ", " > ", " >= ", " < ", " <= ", " LIKE "};
	q_lit(q, c->op <= SEARCH_OP_LIKE ? ops[c->op] : " = ");
	if (c->numeric)
		q_bind(q, true, NULL, (int64_t)c->num);
	else
		q_text(q, c->str);
}

/* MLflow's prompt rule: prompts are excluded unless the filter asks for them
 * (tags.`mlflow.prompt.is_prompt` = 'true' or != 'false'); when excluded, conditions on that tag are dropped. */
static bool querying_prompts(const struct search_filter *f)
{
	for (size_t i = 0; f && i < f->n; i++) {
		const struct search_cond *c = &f->conds[i];
		if (c->ent != SEARCH_ENT_TAG || strcmp(c->key, MT_PROMPT_TAG_KEY) != 0)
			continue;
		return (c->op == SEARCH_OP_EQ && strcasecmp(c->str, "true") == 0) || (c->op == SEARCH_OP_NE && strcasecmp(c->str, "false") == 0);
	}
	return false;
}

static void q_filter(struct sqlq *q, const struct search_filter *f, bool versions)
{
	bool prompts = querying_prompts(f);
	for (size_t i = 0; f && i < f->n; i++) {
		const struct search_cond *c = &f->conds[i];
		q_lit(q, " AND ");
		if (c->ent == SEARCH_ENT_TAG) {
			if (!prompts && strcmp(c->key, MT_PROMPT_TAG_KEY) == 0) {
				q_lit(q, "1");
				continue;
			}
			q_lit(q, versions ? "EXISTS (SELECT 1 FROM model_version_tags t WHERE t.mv_pk = v.mv_pk AND t.key = "
			                  : "EXISTS (SELECT 1 FROM registered_model_tags t WHERE t.model_pk = m.model_pk AND t.key = ");
			q_text(q, c->key);
			q_lit(q, " AND ");
			q_compare(q, "t.value", c);
			q_lit(q, ")");
			continue;
		}
		const char *col = !strcmp(c->key, "name")             ? "m.name"
		                  : !strcmp(c->key, "run_id")         ? "v.run_id"
		                  : !strcmp(c->key, "source_path")    ? "v.source"
		                                                      : "v.version";
		q_compare(q, col, c);
	}
	if (!prompts)
		q_lit(q, versions ? " AND NOT EXISTS (SELECT 1 FROM model_version_tags p JOIN model_versions pv"
		                    " ON pv.mv_pk = p.mv_pk WHERE pv.model_pk = v.model_pk"
		                    " AND p.key = 'mlflow.prompt.is_prompt' AND p.value = 'true')"
		                  : " AND NOT EXISTS (SELECT 1 FROM registered_model_tags p WHERE p.model_pk = m.model_pk"
		                    " AND p.key = 'mlflow.prompt.is_prompt' AND p.value = 'true')");
}

static const char *order_col(const char *key, bool versions)
{
	if (!strcmp(key, "name"))
		return "m.name";
	if (!strcmp(key, "version_number"))
		return "v.version";
	if (!strcmp(key, "creation_timestamp"))
		return versions ? "v.creation_time" : "m.creation_time";
	return versions ? "v.last_updated_time" : "m.last_updated_time";
}

static enum mt_error q_order(struct sqlq *q, const struct registry_query *rq, bool versions, struct mt_err *err)
{
	static const struct search_order mv_default[] = {
		{.ent = SEARCH_ENT_ATTRIBUTE, .key = "last_updated_timestamp", .asc = false},
		{.ent = SEARCH_ENT_ATTRIBUTE, .key = "name", .asc = true},
		{.ent = SEARCH_ENT_ATTRIBUTE, .key = "version_number", .asc = false}};
	const struct search_order *o = rq->order;
	size_t n = rq->n_order;
	if (versions && n == 0) {
		o = mv_default;
		n = 3;
	}
	bool has_name = false, has_version = false;
	q_lit(q, " ORDER BY ");
	for (size_t i = 0; i < n; i++) {
		const char *col = order_col(o[i].key, versions);
		for (size_t k = 0; k < i; k++)
			if (!strcmp(order_col(o[k].key, versions), col))
				return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "`order_by` contains duplicate fields: '%.100s'",
				               o[i].key);
		has_name = has_name || !strcmp(col, "m.name");
		has_version = has_version || !strcmp(col, "v.version");
		q_lit(q, col);
		q_lit(q, o[i].asc ? " ASC, " : " DESC, ");
	}
	q_lit(q, has_name ? "" : "m.name ASC, ");
	if (versions && !has_version)
		q_lit(q, "v.version DESC, ");
	q_lit(q, versions ? "v.mv_pk" : "m.model_pk");
	q_lit(q, " LIMIT ");
	q_bind(q, true, NULL, rq->limit + 1);
	q_lit(q, " OFFSET ");
	q_bind(q, true, NULL, rq->offset);
	return MT_OK;
}

static enum mt_error q_run(struct store_conn *c, struct arena *a, struct sqlq *q, int64_t limit, int64_t **pks,
                           size_t *n, bool *more, struct mt_err *err)
{
	if (q->sql.overflow) {
		buf_free(&q->sql);
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "The search is too large");
	}
	sqlite3_stmt *st = db_prepare_dynamic(c, q->sql.data, err);
	buf_free(&q->sql);
	if (!st)
		return err->code;
	for (size_t i = 0; i < q->n; i++) {
		int rc = q->binds[i].is_int ? sqlite3_bind_int64(st, (int)i + 1, q->binds[i].i)
		                            : sqlite3_bind_text(st, (int)i + 1, q->binds[i].text, -1, SQLITE_STATIC);
		if (rc != SQLITE_OK) {
			sqlite3_finalize(st);
			return db_fail(c, err, rc);
		}
	}
	enum mt_error r = collect(c, a, st, pks, n, err);
	sqlite3_finalize(st);
	*more = (int64_t)*n > limit;
	if (*more)
		*n = (size_t)limit;
	return r;
}

enum mt_error store_rm_search(const struct registry_ctx *x, const struct registry_query *rq,
                              struct mt_registered_model **out, size_t *n, bool *more, struct mt_err *err)
{
	struct store_conn *c = store_reader(x->s);
	struct sqlq q;
	q_init(&q, x->a);
	q_lit(&q, "SELECT m.model_pk FROM registered_models m WHERE 1");
	q_filter(&q, rq->filter, false);
	q_acl(&q, rq);
	int64_t *pks;
	if (q_order(&q, rq, false, err) != MT_OK) {
		buf_free(&q.sql);
		return err->code;
	}
	if (q_run(c, x->a, &q, rq->limit, &pks, n, more, err) != MT_OK)
		return err->code;
	*out = arena_calloc(x->a, (*n ? *n : 1) * sizeof **out);
	for (size_t i = 0; i < *n; i++)
		if (load_rm(c, x->a, pks[i], &(*out)[i], err) != MT_OK)
			return err->code;
	return MT_OK;
}

enum mt_error store_mv_search(const struct registry_ctx *x, const struct registry_query *rq,
                              struct mt_model_version **out, size_t *n, bool *more, struct mt_err *err)
{
	struct store_conn *c = store_reader(x->s);
	struct sqlq q;
	q_init(&q, x->a);
	q_lit(&q, "SELECT v.mv_pk FROM model_versions v JOIN registered_models m ON m.model_pk = v.model_pk"
	          " WHERE v.current_stage != 'Deleted_Internal'");
	q_filter(&q, rq->filter, true);
	q_acl(&q, rq);
	int64_t *pks;
	if (q_order(&q, rq, true, err) != MT_OK) {
		buf_free(&q.sql);
		return err->code;
	}
	if (q_run(c, x->a, &q, rq->limit, &pks, n, more, err) != MT_OK)
		return err->code;
	*out = arena_calloc(x->a, (*n ? *n : 1) * sizeof **out);
	/* MLflow answers search results without their aliases */
	for (size_t i = 0; i < *n; i++)
		if (load_mv(c, x->a, pks[i], false, &(*out)[i], err) != MT_OK)
			return err->code;
	return MT_OK;
}

/* ---- events ---- */

enum mt_error store_events_list(const struct registry_ctx *x, int64_t after_id, int64_t limit, struct mt_event **out,
                                size_t *n, struct mt_err *err)
{
	struct store_conn *c = store_reader(x->s);
	sqlite3_stmt *st = db_stmt(c, SQL_EVENTS_LIST, err);
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, after_id);
	sqlite3_bind_int64(st, 2, limit);
	size_t cap = 8;
	*out = arena_alloc(x->a, cap * sizeof **out);
	*n = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*out = arena_grow(x->a, *out, *n, &cap, sizeof **out);
		struct mt_event *e = &(*out)[(*n)++];
		e->id = sqlite3_column_int64(st, 0);
		e->entity = db_col_text(x->a, st, 1);
		e->action = db_col_text(x->a, st, 2);
		e->payload = db_col_text(x->a, st, 3);
		e->created_at = sqlite3_column_int64(st, 4);
		e->actor = db_col_text(x->a, st, 5);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? MT_OK : db_fail(c, err, rc);
}

/* ---- steps for other store modules (src/store/registry_internal.h) ---- */

enum mt_error registry_transition_step(struct store_conn *c, const struct registry_ctx *x, const char *name,
                                       int64_t version, const char *stage, bool archive,
                                       struct mt_model_version *out, struct mt_err *err)
{
	struct mv_job j = {.x = x, .name = name, .version = version, .stage = stage, .archive = archive, .out = out};
	return mv_transition_job(c, &j, err);
}
