/* SPDX-License-Identifier: Apache-2.0 */
/* registry_store.c: SQL for the model registry. Each change runs as one writer job that also appends its
 * event to the outbox (events table), so a change and its event commit or roll back together. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "mltrackd/buf.h"
#include "mltrackd/store_registry.h"
#include "mltrackd/util.h"
#include "store_internal.h"

static const char SQL_RM_PK[] = "SELECT rm_pk FROM registered_models WHERE name = ?1";
static const char SQL_RM_INSERT[] =
	"INSERT INTO registered_models (name, creation_time, last_updated_time, description) VALUES (?1, ?2, ?2, ?3)";
static const char SQL_RM_GET[] =
	"SELECT name, creation_time, last_updated_time, description FROM registered_models WHERE rm_pk = ?1";
static const char SQL_RM_TOUCH[] = "UPDATE registered_models SET last_updated_time = ?2 WHERE rm_pk = ?1";
static const char SQL_RM_RENAME[] = "UPDATE registered_models SET name = ?2, last_updated_time = ?3 WHERE rm_pk = ?1";
static const char SQL_RM_DESC[] = "UPDATE registered_models SET description = ?2, last_updated_time = ?3 WHERE rm_pk = ?1";
static const char SQL_RM_DELETE[] = "DELETE FROM registered_models WHERE rm_pk = ?1";
static const char SQL_RM_TAG_SET[] =
	"INSERT INTO registered_model_tags (rm_pk, key, value) VALUES (?1, ?2, ?3)"
	" ON CONFLICT (rm_pk, key) DO UPDATE SET value = excluded.value";
static const char SQL_RM_TAG_DEL[] = "DELETE FROM registered_model_tags WHERE rm_pk = ?1 AND key = ?2";
static const char SQL_RM_TAGS[] = "SELECT key, value FROM registered_model_tags WHERE rm_pk = ?1 ORDER BY key";
static const char SQL_RM_ALIASES[] = "SELECT alias, version FROM registered_model_aliases WHERE rm_pk = ?1 ORDER BY alias";
static const char SQL_MV_MAX[] = "SELECT COALESCE(MAX(version), 0) FROM model_versions WHERE rm_pk = ?1";
static const char SQL_MV_INSERT[] =
	"INSERT INTO model_versions (rm_pk, version, creation_time, last_updated_time, description, user_id,"
	" current_stage, source, run_id, run_link, status, storage_location, model_id)"
	" VALUES (?1, ?2, ?3, ?3, ?4, ?5, 'None', ?6, ?7, ?8, 'READY', ?9, ?10)";
#define MV_COLUMNS \
	"SELECT m.version, m.creation_time, m.last_updated_time, m.description, m.user_id, m.current_stage, m.source," \
	" m.run_id, m.run_link, m.status, m.status_message, m.storage_location, m.model_id, r.name, m.rm_pk" \
	" FROM model_versions m JOIN registered_models r ON r.rm_pk = m.rm_pk"
static const char SQL_MV_GET[] = MV_COLUMNS " WHERE m.rm_pk = ?1 AND m.version = ?2 AND m.current_stage != 'Deleted_Internal'";
static const char SQL_MV_NEWEST[] =
	MV_COLUMNS " WHERE m.rm_pk = ?1 AND m.current_stage != 'Deleted_Internal' ORDER BY m.version DESC LIMIT 1";
static const char SQL_MV_LATEST_PER_STAGE[] =
	MV_COLUMNS " WHERE m.rm_pk = ?1 AND m.current_stage != 'Deleted_Internal' AND m.version ="
	" (SELECT MAX(x.version) FROM model_versions x WHERE x.rm_pk = m.rm_pk AND x.current_stage = m.current_stage)"
	" ORDER BY m.version";
static const char SQL_MV_TAGS[] = "SELECT key, value FROM model_version_tags WHERE rm_pk = ?1 AND version = ?2 ORDER BY key";
static const char SQL_MV_ALIASES[] =
	"SELECT alias FROM registered_model_aliases WHERE rm_pk = ?1 AND version = ?2 ORDER BY alias";
static const char SQL_MV_DESC[] =
	"UPDATE model_versions SET description = ?3, last_updated_time = ?4 WHERE rm_pk = ?1 AND version = ?2";
static const char SQL_MV_STAGE[] =
	"UPDATE model_versions SET current_stage = ?3, last_updated_time = ?4 WHERE rm_pk = ?1 AND version = ?2";
static const char SQL_MV_ARCHIVE[] =
	"UPDATE model_versions SET current_stage = 'Archived', last_updated_time = ?3"
	" WHERE rm_pk = ?1 AND current_stage = ?2 AND version != ?4";
static const char SQL_MV_DELETE[] =
	"UPDATE model_versions SET current_stage = 'Deleted_Internal', last_updated_time = ?3, description = NULL,"
	" user_id = NULL, source = 'REDACTED-SOURCE-PATH', run_id = 'REDACTED-RUN-ID', run_link = 'REDACTED-RUN-LINK',"
	" status_message = NULL WHERE rm_pk = ?1 AND version = ?2";
static const char SQL_MV_ALIASES_DROP[] = "DELETE FROM registered_model_aliases WHERE rm_pk = ?1 AND version = ?2";
static const char SQL_MV_TAGS_DROP[] = "DELETE FROM model_version_tags WHERE rm_pk = ?1 AND version = ?2";
static const char SQL_MV_TAG_SET[] =
	"INSERT INTO model_version_tags (rm_pk, version, key, value) VALUES (?1, ?2, ?3, ?4)"
	" ON CONFLICT (rm_pk, version, key) DO UPDATE SET value = excluded.value";
static const char SQL_MV_TAG_DEL[] = "DELETE FROM model_version_tags WHERE rm_pk = ?1 AND version = ?2 AND key = ?3";
static const char SQL_ALIAS_SET[] =
	"INSERT INTO registered_model_aliases (rm_pk, alias, version) VALUES (?1, ?2, ?3)"
	" ON CONFLICT (rm_pk, alias) DO UPDATE SET version = excluded.version";
static const char SQL_ALIAS_DEL[] = "DELETE FROM registered_model_aliases WHERE rm_pk = ?1 AND alias = ?2";
static const char SQL_ALIAS_GET[] = "SELECT version FROM registered_model_aliases WHERE rm_pk = ?1 AND alias = ?2";
static const char SQL_EVENT[] = "INSERT INTO events (entity, action, payload, actor, created_at) VALUES (?1, ?2, ?3, ?4, ?5)";

static enum mt_error model_not_found(struct mt_err *err, const char *name)
{
	return mt_fail(err, MT_RESOURCE_DOES_NOT_EXIST, "Registered Model with name=%.250s not found", name);
}

static enum mt_error version_not_found(struct mt_err *err, const char *name, int64_t v)
{
	return mt_fail(err, MT_RESOURCE_DOES_NOT_EXIST, "Model Version (name=%.250s, version=%lld) not found", name,
	               (long long)v);
}

static enum mt_error rm_pk(struct store_conn *c, const char *name, int64_t *pk, struct mt_err *err)
{
	sqlite3_stmt *st = db_stmt(c, SQL_RM_PK, err);
	if (!st)
		return err->code;
	db_bind_text(st, 1, name);
	int rc = sqlite3_step(st);
	*pk = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail(c, err, rc);
	return *pk < 0 ? model_not_found(err, name) : MT_OK;
}

static enum mt_error exec1(struct store_conn *c, const char *sql, int64_t a1, const char *t2, int64_t a3,
                           struct mt_err *err)
{
	sqlite3_stmt *st = db_stmt(c, sql, err);
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, a1);
	if (t2)
		db_bind_text(st, 2, t2);
	else
		sqlite3_bind_int64(st, 2, a3);
	return db_exec_stmt(c, st, err);
}

/* Appends an event; payload is a JSON object built by the caller. */
static enum mt_error emit(struct store_conn *c, const char *entity, const char *action, struct buf *payload,
                          const char *actor, struct mt_err *err)
{
	sqlite3_stmt *st = db_stmt(c, SQL_EVENT, err);
	enum mt_error rc = MT_OK;
	if (st) {
		db_bind_text(st, 1, entity);
		db_bind_text(st, 2, action);
		db_bind_text(st, 3, payload->data ? payload->data : "{}");
		db_bind_text(st, 4, actor);
		sqlite3_bind_int64(st, 5, mt_now_ms());
		rc = db_exec_stmt(c, st, err);
	} else {
		rc = err->code;
	}
	buf_free(payload);
	return rc;
}

/* Starts an event payload: {"name": ...; the caller adds fields and closes with jw_obj_close. */
static void payload_begin(struct buf *b, struct jw *w, const char *name)
{
	buf_init(b, 1 << 20);
	jw_init(w, b);
	jw_obj_open(w);
	jw_kv_str(w, "name", name);
}

static enum mt_error read_kv(struct store_conn *c, struct arena *a, const char *sql, int64_t pk, bool has_v, int64_t v,
                             struct mt_tag **out, size_t *n, bool int_value, struct mt_err *err)
{
	sqlite3_stmt *st = db_stmt(c, sql, err);
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, pk);
	if (has_v)
		sqlite3_bind_int64(st, 2, v);
	size_t cap = 0, cnt = 0;
	struct mt_tag *arr = NULL;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (cnt == cap) {
			size_t ncap = cap ? cap * 2 : 4;
			struct mt_tag *nv = arena_alloc(a, ncap * sizeof *nv);
			if (cnt)
				memcpy(nv, arr, cnt * sizeof *nv);
			arr = nv;
			cap = ncap;
		}
		arr[cnt].key = db_col_text(a, st, 0);
		arr[cnt].value = int_value ? arena_printf(a, "%lld", (long long)sqlite3_column_int64(st, 1)) : db_col_text(a, st, 1);
		cnt++;
	}
	sqlite3_reset(st);
	*out = arr;
	*n = cnt;
	return rc == SQLITE_DONE ? MT_OK : db_fail(c, err, rc);
}

static enum mt_error read_version_row(struct store_conn *c, struct arena *a, sqlite3_stmt *st, struct mt_model_version *v,
                                      struct mt_err *err)
{
	memset(v, 0, sizeof *v);
	v->version = sqlite3_column_int64(st, 0);
	v->creation_timestamp = sqlite3_column_int64(st, 1);
	v->last_updated_timestamp = sqlite3_column_int64(st, 2);
	v->description = db_col_text(a, st, 3);
	v->user_id = db_col_text(a, st, 4);
	v->current_stage = db_col_text(a, st, 5);
	v->source = db_col_text(a, st, 6);
	v->run_id = db_col_text(a, st, 7);
	v->run_link = db_col_text(a, st, 8);
	v->status = db_col_text(a, st, 9);
	v->status_message = db_col_text(a, st, 10);
	v->storage_location = db_col_text(a, st, 11);
	v->model_id = db_col_text(a, st, 12);
	v->name = db_col_text(a, st, 13);
	v->rm_pk = sqlite3_column_int64(st, 14);
	(void)c;
	(void)err;
	return MT_OK; /* tags and aliases are read by finish_version once the row statement is reset */
}

static enum mt_error finish_version(struct store_conn *c, struct arena *a, struct mt_model_version *v,
                                    struct mt_err *err)
{
	int64_t pk = v->rm_pk;
	if (read_kv(c, a, SQL_MV_TAGS, pk, true, v->version, &v->tags, &v->n_tags, false, err) != MT_OK)
		return err->code;
	sqlite3_stmt *st = db_stmt(c, SQL_MV_ALIASES, err);
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, pk);
	sqlite3_bind_int64(st, 2, v->version);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char **nv = arena_alloc(a, (v->n_aliases + 1) * sizeof *nv);
		if (v->n_aliases)
			memcpy(nv, v->aliases, v->n_aliases * sizeof *nv);
		nv[v->n_aliases++] = db_col_text(a, st, 0);
		v->aliases = nv;
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? MT_OK : db_fail(c, err, rc);
}

/* Runs a version query (params: rm_pk [, version]) and returns its rows, complete. */
static enum mt_error query_versions(struct store_conn *c, struct arena *a, const char *sql, int64_t pk, bool has_v,
                                    int64_t ver, struct mt_model_version **out, size_t *n, struct mt_err *err)
{
	sqlite3_stmt *st = db_stmt(c, sql, err);
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, pk);
	if (has_v)
		sqlite3_bind_int64(st, 2, ver);
	size_t cap = 0, cnt = 0;
	struct mt_model_version *v = NULL;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (cnt == cap) {
			size_t ncap = cap ? cap * 2 : 4;
			struct mt_model_version *nv = arena_alloc(a, ncap * sizeof *nv);
			if (cnt)
				memcpy(nv, v, cnt * sizeof *nv);
			v = nv;
			cap = ncap;
		}
		read_version_row(c, a, st, &v[cnt++], err);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return db_fail(c, err, rc);
	for (size_t i = 0; i < cnt; i++)
		if (finish_version(c, a, &v[i], err) != MT_OK)
			return err->code;
	*out = v;
	*n = cnt;
	return MT_OK;
}

static enum mt_error get_version(struct store_conn *c, struct arena *a, const char *name, int64_t pk, int64_t ver,
                                 struct mt_model_version *out, struct mt_err *err)
{
	struct mt_model_version *v;
	size_t n;
	if (query_versions(c, a, SQL_MV_GET, pk, true, ver, &v, &n, err) != MT_OK)
		return err->code;
	if (n == 0)
		return version_not_found(err, name, ver);
	*out = v[0];
	return MT_OK;
}

static enum mt_error load_model(struct store_conn *c, struct arena *a, int64_t pk, struct mt_registered_model *m,
                                struct mt_err *err)
{
	sqlite3_stmt *st = db_stmt(c, SQL_RM_GET, err);
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, pk);
	int rc = sqlite3_step(st);
	memset(m, 0, sizeof *m);
	if (rc == SQLITE_ROW) {
		m->name = db_col_text(a, st, 0);
		m->creation_timestamp = sqlite3_column_int64(st, 1);
		m->last_updated_timestamp = sqlite3_column_int64(st, 2);
		m->description = db_col_text(a, st, 3);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW)
		return db_fail(c, err, rc == SQLITE_DONE ? SQLITE_NOTFOUND : rc);
	if (read_kv(c, a, SQL_RM_TAGS, pk, false, 0, &m->tags, &m->n_tags, false, err) != MT_OK ||
	    read_kv(c, a, SQL_RM_ALIASES, pk, false, 0, &m->aliases, &m->n_aliases, true, err) != MT_OK)
		return err->code;
	return query_versions(c, a, SQL_MV_LATEST_PER_STAGE, pk, false, 0, &m->latest, &m->n_latest, err);
}

/* ---- registered models ---- */

struct rm_job {
	struct arena *a;
	const char *name, *new_name, *description, *key, *value, *actor;
	const struct mt_tag *tags;
	size_t n_tags;
	int op; /* 0 create, 1 rename, 2 update, 3 delete, 4 tag set, 5 tag delete */
	struct mt_registered_model *out;
};

static enum mt_error rm_job(struct store_conn *c, void *arg, struct mt_err *err)
{
	struct rm_job *j = arg;
	int64_t pk = -1, now = mt_now_ms();
	struct buf b;
	struct jw w;
	if (j->op == 0) {
		sqlite3_stmt *st = db_stmt(c, SQL_RM_PK, err);
		if (!st)
			return err->code;
		db_bind_text(st, 1, j->name);
		bool taken = false;
		if (db_step_exists(c, st, &taken, err) != MT_OK)
			return err->code;
		if (taken)
			return mt_fail(err, MT_RESOURCE_ALREADY_EXISTS, "Registered Model (name=%.250s) already exists.", j->name);
		st = db_stmt(c, SQL_RM_INSERT, err);
		if (!st)
			return err->code;
		db_bind_text(st, 1, j->name);
		sqlite3_bind_int64(st, 2, now);
		db_bind_text(st, 3, j->description);
		if (db_exec_stmt(c, st, err) != MT_OK)
			return err->code;
		pk = sqlite3_last_insert_rowid(c->db);
		payload_begin(&b, &w, j->name);
		jw_key(&w, "tags");
		jw_obj_open(&w);
		for (size_t i = 0; i < j->n_tags; i++) {
			sqlite3_stmt *t = db_stmt(c, SQL_RM_TAG_SET, err);
			if (!t) {
				buf_free(&b);
				return err->code;
			}
			sqlite3_bind_int64(t, 1, pk);
			db_bind_text(t, 2, j->tags[i].key);
			db_bind_text(t, 3, j->tags[i].value ? j->tags[i].value : "");
			if (db_exec_stmt(c, t, err) != MT_OK) {
				buf_free(&b);
				return err->code;
			}
			jw_kv_str(&w, j->tags[i].key, j->tags[i].value ? j->tags[i].value : "");
		}
		jw_obj_close(&w);
		if (j->description)
			jw_kv_str(&w, "description", j->description);
		else {
			jw_key(&w, "description");
			jw_null(&w);
		}
		jw_obj_close(&w);
		if (emit(c, "registered_model", "created", &b, j->actor, err) != MT_OK)
			return err->code;
		return j->out ? load_model(c, j->a, pk, j->out, err) : MT_OK;
	}
	if (rm_pk(c, j->name, &pk, err) != MT_OK)
		return err->code;
	payload_begin(&b, &w, j->name);
	const char *entity = "registered_model", *action = "updated";
	switch (j->op) {
	case 1: {
		sqlite3_stmt *st = db_stmt(c, SQL_RM_PK, err);
		if (!st) {
			buf_free(&b);
			return err->code;
		}
		db_bind_text(st, 1, j->new_name);
		bool taken = false;
		if (db_step_exists(c, st, &taken, err) != MT_OK || taken) {
			buf_free(&b);
			return taken ? mt_fail(err, MT_RESOURCE_ALREADY_EXISTS, "Registered Model (name=%.250s) already exists.",
			                       j->new_name)
			             : err->code;
		}
		st = db_stmt(c, SQL_RM_RENAME, err);
		if (!st) {
			buf_free(&b);
			return err->code;
		}
		sqlite3_bind_int64(st, 1, pk);
		db_bind_text(st, 2, j->new_name);
		sqlite3_bind_int64(st, 3, now);
		if (db_exec_stmt(c, st, err) != MT_OK) {
			buf_free(&b);
			return err->code;
		}
		jw_kv_str(&w, "new_name", j->new_name);
		action = "renamed";
		break;
	}
	case 2: {
		sqlite3_stmt *st = db_stmt(c, SQL_RM_DESC, err);
		if (!st) {
			buf_free(&b);
			return err->code;
		}
		sqlite3_bind_int64(st, 1, pk);
		db_bind_text(st, 2, j->description);
		sqlite3_bind_int64(st, 3, now);
		if (db_exec_stmt(c, st, err) != MT_OK) {
			buf_free(&b);
			return err->code;
		}
		jw_kv_str(&w, "description", j->description ? j->description : "");
		break;
	}
	case 3:
		if (exec1(c, SQL_RM_DELETE, pk, NULL, 0, err) != MT_OK) {
			buf_free(&b);
			return err->code;
		}
		action = "deleted";
		break;
	case 4:
	case 5: {
		sqlite3_stmt *st = db_stmt(c, j->op == 4 ? SQL_RM_TAG_SET : SQL_RM_TAG_DEL, err);
		if (!st) {
			buf_free(&b);
			return err->code;
		}
		sqlite3_bind_int64(st, 1, pk);
		db_bind_text(st, 2, j->key);
		if (j->op == 4)
			db_bind_text(st, 3, j->value ? j->value : "");
		if (db_exec_stmt(c, st, err) != MT_OK) {
			buf_free(&b);
			return err->code;
		}
		if (j->op == 5 && sqlite3_changes(c->db) == 0) {
			buf_free(&b);
			return mt_fail(err, MT_RESOURCE_DOES_NOT_EXIST, "Registered model tag with name=%.250s and key=%.250s not found",
			               j->name, j->key);
		}
		if (exec1(c, SQL_RM_TOUCH, pk, NULL, now, err) != MT_OK) {
			buf_free(&b);
			return err->code;
		}
		jw_kv_str(&w, "key", j->key);
		if (j->op == 4)
			jw_kv_str(&w, "value", j->value ? j->value : "");
		entity = "registered_model_tag";
		action = j->op == 4 ? "set" : "deleted";
		break;
	}
	}
	jw_obj_close(&w);
	return emit(c, entity, action, &b, j->actor, err);
}

enum mt_error reg_model_create(struct store *s, struct arena *a, const char *name, const char *description,
                               const struct mt_tag *tags, size_t n_tags, const char *actor,
                               struct mt_registered_model *out, struct mt_err *err)
{
	struct rm_job j = {a, name, NULL, description, NULL, NULL, actor, tags, n_tags, 0, out};
	return store_write(s, rm_job, &j, err);
}

enum mt_error reg_model_rename(struct store *s, const char *name, const char *new_name, const char *actor,
                               struct mt_err *err)
{
	struct rm_job j = {NULL, name, new_name, NULL, NULL, NULL, actor, NULL, 0, 1, NULL};
	return store_write(s, rm_job, &j, err);
}

enum mt_error reg_model_update(struct store *s, const char *name, const char *description, const char *actor,
                               struct mt_err *err)
{
	struct rm_job j = {NULL, name, NULL, description, NULL, NULL, actor, NULL, 0, 2, NULL};
	return store_write(s, rm_job, &j, err);
}

enum mt_error reg_model_delete(struct store *s, const char *name, const char *actor, struct mt_err *err)
{
	struct rm_job j = {NULL, name, NULL, NULL, NULL, NULL, actor, NULL, 0, 3, NULL};
	return store_write(s, rm_job, &j, err);
}

enum mt_error reg_model_tag(struct store *s, const char *name, const char *key, const char *value, const char *actor,
                            struct mt_err *err)
{
	struct rm_job j = {NULL, name, NULL, NULL, key, value, actor, NULL, 0, value ? 4 : 5, NULL};
	return store_write(s, rm_job, &j, err);
}

enum mt_error reg_model_get(struct store *s, struct arena *a, const char *name, struct mt_registered_model *out,
                            struct mt_err *err)
{
	struct store_conn *c = store_reader(s);
	int64_t pk;
	if (rm_pk(c, name, &pk, err) != MT_OK)
		return err->code;
	return load_model(c, a, pk, out, err);
}

/* ---- model versions ---- */

enum mv_op { MV_CREATE, MV_UPDATE, MV_DELETE, MV_STAGE, MV_TAG_SET, MV_TAG_DEL, MV_ALIAS_SET, MV_ALIAS_DEL };

struct mv_job {
	enum mv_op op;
	struct arena *a;
	const char *name, *actor;
	int64_t version;
	const struct reg_version_create *in;
	const char *text, *key, *value; /* description / stage / alias; tag key and value */
	bool archive;
	struct mt_model_version *out;
};

static enum mt_error mv_job(struct store_conn *c, void *arg, struct mt_err *err)
{
	struct mv_job *j = arg;
	int64_t pk, now = mt_now_ms();
	if (rm_pk(c, j->name, &pk, err) != MT_OK)
		return err->code;
	struct buf b;
	struct jw w;
	sqlite3_stmt *st;
	if (j->op == MV_CREATE) {
		st = db_stmt(c, SQL_MV_MAX, err);
		if (!st)
			return err->code;
		sqlite3_bind_int64(st, 1, pk);
		int rc = sqlite3_step(st);
		int64_t ver = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) + 1 : 1;
		sqlite3_reset(st);
		if (rc != SQLITE_ROW)
			return db_fail(c, err, rc);
		const struct reg_version_create *in = j->in;
		st = db_stmt(c, SQL_MV_INSERT, err);
		if (!st)
			return err->code;
		sqlite3_bind_int64(st, 1, pk);
		sqlite3_bind_int64(st, 2, ver);
		sqlite3_bind_int64(st, 3, now);
		db_bind_text(st, 4, in->description);
		db_bind_text(st, 5, in->user_id);
		db_bind_text(st, 6, in->source);
		db_bind_text(st, 7, in->run_id);
		db_bind_text(st, 8, in->run_link);
		db_bind_text(st, 9, in->storage_location);
		db_bind_text(st, 10, in->model_id);
		if (db_exec_stmt(c, st, err) != MT_OK)
			return err->code;
		payload_begin(&b, &w, j->name);
		jw_kv_str(&w, "version", arena_printf(j->a, "%lld", (long long)ver));
		jw_kv_str(&w, "source", in->source);
		jw_kv_str_opt(&w, "run_id", in->run_id);
		jw_key(&w, "tags");
		jw_obj_open(&w);
		for (size_t i = 0; i < in->n_tags; i++) {
			sqlite3_stmt *t = db_stmt(c, SQL_MV_TAG_SET, err);
			if (!t) {
				buf_free(&b);
				return err->code;
			}
			sqlite3_bind_int64(t, 1, pk);
			sqlite3_bind_int64(t, 2, ver);
			db_bind_text(t, 3, in->tags[i].key);
			db_bind_text(t, 4, in->tags[i].value ? in->tags[i].value : "");
			if (db_exec_stmt(c, t, err) != MT_OK) {
				buf_free(&b);
				return err->code;
			}
			jw_kv_str(&w, in->tags[i].key, in->tags[i].value ? in->tags[i].value : "");
		}
		jw_obj_close(&w);
		jw_kv_str_opt(&w, "description", in->description);
		jw_obj_close(&w);
		if (exec1(c, SQL_RM_TOUCH, pk, NULL, now, err) != MT_OK || emit(c, "model_version", "created", &b, j->actor, err) != MT_OK)
			return err->code;
		return get_version(c, j->a, j->name, pk, ver, j->out, err);
	}
	/* every other operation needs the version (alias deletion only the model) */
	struct mt_model_version cur;
	struct arena *tmp = arena_new();
	if (j->op != MV_ALIAS_DEL && get_version(c, tmp, j->name, pk, j->version, &cur, err) != MT_OK) {
		arena_free(tmp);
		return err->code;
	}
	arena_free(tmp);
	char ver[32];
	snprintf(ver, sizeof ver, "%lld", (long long)j->version);
	payload_begin(&b, &w, j->name);
	const char *entity = "model_version", *action = "updated";
	enum mt_error rc = MT_OK;
	switch (j->op) {
	case MV_CREATE: break;
	case MV_UPDATE:
	case MV_STAGE:
		st = db_stmt(c, j->op == MV_UPDATE ? SQL_MV_DESC : SQL_MV_STAGE, err);
		if (!st) {
			rc = err->code;
			break;
		}
		sqlite3_bind_int64(st, 1, pk);
		sqlite3_bind_int64(st, 2, j->version);
		db_bind_text(st, 3, j->text);
		sqlite3_bind_int64(st, 4, now);
		rc = db_exec_stmt(c, st, err);
		if (rc == MT_OK && j->op == MV_STAGE && j->archive) {
			st = db_stmt(c, SQL_MV_ARCHIVE, err);
			if (!st) {
				rc = err->code;
				break;
			}
			sqlite3_bind_int64(st, 1, pk);
			db_bind_text(st, 2, j->text);
			sqlite3_bind_int64(st, 3, now);
			sqlite3_bind_int64(st, 4, j->version);
			rc = db_exec_stmt(c, st, err);
		}
		jw_kv_str(&w, "version", ver);
		jw_kv_str(&w, j->op == MV_UPDATE ? "description" : "stage", j->text ? j->text : "");
		if (j->op == MV_STAGE) {
			action = "transitioned";
			jw_kv_bool(&w, "archive_existing_versions", j->archive);
		}
		break;
	case MV_DELETE:
		if ((rc = exec1(c, SQL_MV_ALIASES_DROP, pk, NULL, j->version, err)) != MT_OK ||
		    (rc = exec1(c, SQL_MV_TAGS_DROP, pk, NULL, j->version, err)) != MT_OK)
			break;
		st = db_stmt(c, SQL_MV_DELETE, err);
		if (!st) {
			rc = err->code;
			break;
		}
		sqlite3_bind_int64(st, 1, pk);
		sqlite3_bind_int64(st, 2, j->version);
		sqlite3_bind_int64(st, 3, now);
		rc = db_exec_stmt(c, st, err);
		jw_kv_str(&w, "version", ver);
		action = "deleted";
		break;
	case MV_TAG_SET:
	case MV_TAG_DEL:
		st = db_stmt(c, j->op == MV_TAG_SET ? SQL_MV_TAG_SET : SQL_MV_TAG_DEL, err);
		if (!st) {
			rc = err->code;
			break;
		}
		sqlite3_bind_int64(st, 1, pk);
		sqlite3_bind_int64(st, 2, j->version);
		db_bind_text(st, 3, j->key);
		if (j->op == MV_TAG_SET)
			db_bind_text(st, 4, j->value ? j->value : "");
		rc = db_exec_stmt(c, st, err);
		if (rc == MT_OK && j->op == MV_TAG_DEL && sqlite3_changes(c->db) == 0)
			rc = mt_fail(err, MT_RESOURCE_DOES_NOT_EXIST,
			             "Model version tag with name=%.250s, version=%s, and key=%.250s not found", j->name, ver, j->key);
		jw_kv_str(&w, "version", ver);
		jw_kv_str(&w, "key", j->key);
		if (j->op == MV_TAG_SET)
			jw_kv_str(&w, "value", j->value ? j->value : "");
		entity = "model_version_tag";
		action = j->op == MV_TAG_SET ? "set" : "deleted";
		break;
	case MV_ALIAS_SET:
	case MV_ALIAS_DEL:
		st = db_stmt(c, j->op == MV_ALIAS_SET ? SQL_ALIAS_SET : SQL_ALIAS_DEL, err);
		if (!st) {
			rc = err->code;
			break;
		}
		sqlite3_bind_int64(st, 1, pk);
		db_bind_text(st, 2, j->text);
		if (j->op == MV_ALIAS_SET)
			sqlite3_bind_int64(st, 3, j->version);
		rc = db_exec_stmt(c, st, err);
		jw_kv_str(&w, "alias", j->text);
		if (j->op == MV_ALIAS_SET)
			jw_kv_str(&w, "version", ver);
		entity = "model_version_alias";
		action = j->op == MV_ALIAS_SET ? "created" : "deleted";
		break;
	}
	if (rc == MT_OK)
		rc = exec1(c, SQL_RM_TOUCH, pk, NULL, now, err);
	if (rc != MT_OK) {
		buf_free(&b);
		return rc;
	}
	jw_obj_close(&w);
	return emit(c, entity, action, &b, j->actor, err);
}

enum mt_error reg_version_create(struct store *s, struct arena *a, const struct reg_version_create *in,
                                 const char *actor, struct mt_model_version *out, struct mt_err *err)
{
	struct mv_job j = {MV_CREATE, a, in->name, actor, 0, in, NULL, NULL, NULL, false, out};
	return store_write(s, mv_job, &j, err);
}

static enum mt_error mv(struct store *s, enum mv_op op, const char *name, int64_t version, const char *text,
                        const char *key, const char *value, bool archive, const char *actor, struct mt_err *err)
{
	struct mv_job j = {op, NULL, name, actor, version, NULL, text, key, value, archive, NULL};
	return store_write(s, mv_job, &j, err);
}

enum mt_error reg_version_update(struct store *s, const char *name, int64_t version, const char *description,
                                 const char *actor, struct mt_err *err)
{
	return mv(s, MV_UPDATE, name, version, description, NULL, NULL, false, actor, err);
}

enum mt_error reg_version_delete(struct store *s, const char *name, int64_t version, const char *actor,
                                 struct mt_err *err)
{
	return mv(s, MV_DELETE, name, version, NULL, NULL, NULL, false, actor, err);
}

enum mt_error reg_version_transition(struct store *s, const char *name, int64_t version, const char *stage,
                                     bool archive_existing, const char *actor, struct mt_err *err)
{
	return mv(s, MV_STAGE, name, version, stage, NULL, NULL, archive_existing, actor, err);
}

enum mt_error reg_version_tag(struct store *s, const char *name, int64_t version, const char *key, const char *value,
                              const char *actor, struct mt_err *err)
{
	return mv(s, value ? MV_TAG_SET : MV_TAG_DEL, name, version, NULL, key, value, false, actor, err);
}

enum mt_error reg_alias_set(struct store *s, const char *name, const char *alias, int64_t version, const char *actor,
                            struct mt_err *err)
{
	return mv(s, MV_ALIAS_SET, name, version, alias, NULL, NULL, false, actor, err);
}

enum mt_error reg_alias_delete(struct store *s, const char *name, const char *alias, const char *actor,
                               struct mt_err *err)
{
	return mv(s, MV_ALIAS_DEL, name, 0, alias, NULL, NULL, false, actor, err);
}

enum mt_error reg_version_get(struct store *s, struct arena *a, const char *name, int64_t version,
                              struct mt_model_version *out, struct mt_err *err)
{
	struct store_conn *c = store_reader(s);
	int64_t pk;
	if (rm_pk(c, name, &pk, err) != MT_OK)
		return err->code;
	return get_version(c, a, name, pk, version, out, err);
}

enum mt_error reg_alias_get(struct store *s, struct arena *a, const char *name, const char *alias,
                            struct mt_model_version *out, struct mt_err *err)
{
	struct store_conn *c = store_reader(s);
	int64_t pk;
	if (rm_pk(c, name, &pk, err) != MT_OK)
		return err->code;
	if (strcasecmp(alias, "latest") == 0) {
		struct mt_model_version *v;
		size_t n;
		if (query_versions(c, a, SQL_MV_NEWEST, pk, false, 0, &v, &n, err) != MT_OK)
			return err->code;
		if (n == 0)
			return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "Registered model alias latest not found.");
		*out = v[0];
		return MT_OK;
	}
	sqlite3_stmt *st = db_stmt(c, SQL_ALIAS_GET, err);
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, pk);
	db_bind_text(st, 2, alias);
	int rc = sqlite3_step(st);
	int64_t ver = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail(c, err, rc);
	if (ver < 0)
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "Registered model alias %.250s not found.", alias);
	return get_version(c, a, name, pk, ver, out, err);
}

enum mt_error reg_latest_versions(struct store *s, struct arena *a, const char *name, const char *const *stages,
                                  size_t n_stages, struct mt_model_version **out, size_t *n, struct mt_err *err)
{
	struct store_conn *c = store_reader(s);
	int64_t pk;
	struct mt_model_version *v;
	size_t cnt;
	if (rm_pk(c, name, &pk, err) != MT_OK ||
	    query_versions(c, a, SQL_MV_LATEST_PER_STAGE, pk, false, 0, &v, &cnt, err) != MT_OK)
		return err->code;
	size_t k = 0;
	for (size_t i = 0; i < cnt; i++) {
		bool keep = n_stages == 0;
		for (size_t t = 0; t < n_stages && !keep; t++)
			keep = strcasecmp(stages[t], v[i].current_stage) == 0;
		if (keep)
			v[k++] = v[i];
	}
	*out = v;
	*n = k;
	return MT_OK;
}
