/* SPDX-License-Identifier: Apache-2.0 */
/* experiments_store.c: SQL for experiments and experiment tags. Validation is the API's job; this file
 * enforces only what the database knows (existence, unique names). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mltrackd/buf.h"
#include "mltrackd/store_experiments.h"
#include "mltrackd/util.h"
#include "store_internal.h"

static const char SQL_INSERT[] =
	"INSERT INTO experiments (name, artifact_location, lifecycle_stage, creation_time, last_update_time)"
	" VALUES (?1, '', 'active', ?2, ?2)";
static const char SQL_INSERT_WITH_ID[] =
	"INSERT INTO experiments (experiment_id, name, artifact_location, lifecycle_stage, creation_time,"
	" last_update_time) VALUES (?1, ?2, ?3, 'active', ?4, ?4)";
static const char SQL_SET_LOCATION[] = "UPDATE experiments SET artifact_location = ?2 WHERE experiment_id = ?1";
static const char SQL_NAME_TAKEN[] = "SELECT 1 FROM experiments WHERE name = ?1";
static const char SQL_ID_EXISTS[] = "SELECT 1 FROM experiments WHERE experiment_id = ?1";
static const char SQL_UPSERT_TAG[] =
	"INSERT INTO experiment_tags (experiment_id, key, value) VALUES (?1, ?2, ?3)"
	" ON CONFLICT (experiment_id, key) DO UPDATE SET value = excluded.value";
static const char SQL_GET[] =
	"SELECT experiment_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time"
	" FROM experiments WHERE experiment_id = ?1";
static const char SQL_GET_BY_NAME[] =
	"SELECT experiment_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time"
	" FROM experiments WHERE name = ?1";
static const char SQL_TAGS[] = "SELECT key, value FROM experiment_tags WHERE experiment_id = ?1 ORDER BY key";
static const char SQL_LOAD_MANY[] =
	"SELECT experiment_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time"
	" FROM experiments WHERE experiment_id IN (SELECT value FROM json_each(?1))";
static const char SQL_LOAD_MANY_TAGS[] =
	"SELECT experiment_id, key, value FROM experiment_tags WHERE experiment_id IN (SELECT value FROM json_each(?1))"
	" ORDER BY experiment_id, key";

struct create_job {
	const char *name, *location, *root;
	const struct mt_tag *tags;
	size_t n_tags;
	int64_t id;
};

/* Joins an artifact root and a child the way MLflow's append_to_uri_path does for the roots we support. */
static char *join_root(const char *root, int64_t id)
{
	size_t n = strlen(root);
	char idbuf[32];
	snprintf(idbuf, sizeof idbuf, "%lld", (long long)id);
	char *out = xmalloc(n + strlen(idbuf) + 2);
	memcpy(out, root, n);
	size_t j = n;
	if (n == 0 || root[n - 1] != '/')
		out[j++] = '/';
	memcpy(out + j, idbuf, strlen(idbuf) + 1);
	return out;
}

static enum mt_error insert_tags(struct store_conn *c, int64_t id, const struct mt_tag *tags, size_t n,
                                 struct mt_err *err)
{
	for (size_t i = 0; i < n; i++) {
		sqlite3_stmt *st = db_stmt(c, SQL_UPSERT_TAG, err);
		if (!st)
			return err->code;
		sqlite3_bind_int64(st, 1, id);
		db_bind_text(st, 2, tags[i].key);
		db_bind_text(st, 3, tags[i].value);
		if (db_exec_stmt(c, st, err) != MT_OK)
			return err->code;
	}
	return MT_OK;
}

static enum mt_error create_job(struct store_conn *c, void *arg, struct mt_err *err)
{
	struct create_job *j = arg;
	sqlite3_stmt *st = db_stmt(c, SQL_NAME_TAKEN, err);
	if (!st)
		return err->code;
	db_bind_text(st, 1, j->name);
	bool taken = false;
	if (db_step_exists(c, st, &taken, err) != MT_OK)
		return err->code;
	if (taken)
		return mt_fail(err, MT_RESOURCE_ALREADY_EXISTS, "Experiment(name=%.500s) already exists.", j->name);
	st = db_stmt(c, SQL_INSERT, err);
	if (!st)
		return err->code;
	db_bind_text(st, 1, j->name);
	sqlite3_bind_int64(st, 2, mt_now_ms());
	if (db_exec_stmt(c, st, err) != MT_OK)
		return err->code;
	j->id = sqlite3_last_insert_rowid(c->db);
	char *loc = (j->location && j->location[0]) ? NULL : join_root(j->root, j->id);
	st = db_stmt(c, SQL_SET_LOCATION, err);
	if (!st) {
		free(loc);
		return err->code;
	}
	sqlite3_bind_int64(st, 1, j->id);
	sqlite3_bind_text(st, 2, loc ? loc : j->location, -1, SQLITE_TRANSIENT);
	free(loc);
	if (db_exec_stmt(c, st, err) != MT_OK)
		return err->code;
	return insert_tags(c, j->id, j->tags, j->n_tags, err);
}

enum mt_error store_experiment_create(struct store *s, const char *name, const char *artifact_location,
                                      const char *artifact_root, const struct mt_tag *tags, size_t n_tags,
                                      int64_t *id_out, struct mt_err *err)
{
	struct create_job j = {name, artifact_location, artifact_root, tags, n_tags, -1};
	if (store_write(s, create_job, &j, err) != MT_OK)
		return err->code;
	*id_out = j.id;
	return MT_OK;
}

static void add_tag(struct arena *a, struct mt_experiment *e, size_t *cap, const char *key, const char *value)
{
	e->tags = arena_grow(a, e->tags, e->n_tags, cap, sizeof *e->tags);
	e->tags[e->n_tags].key = key;
	e->tags[e->n_tags].value = value;
	e->n_tags++;
}

static enum mt_error read_experiment(struct store_conn *c, struct arena *a, sqlite3_stmt *st,
                                     struct mt_experiment *e, struct mt_err *err)
{
	int rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		sqlite3_reset(st);
		return MT_RESOURCE_DOES_NOT_EXIST;
	}
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		return db_fail(c, err, rc);
	}
	memset(e, 0, sizeof *e);
	e->experiment_id = sqlite3_column_int64(st, 0);
	e->name = db_col_text(a, st, 1);
	e->artifact_location = db_col_text(a, st, 2);
	e->lifecycle_stage = db_col_text(a, st, 3);
	e->creation_time = sqlite3_column_int64(st, 4);
	e->last_update_time = sqlite3_column_int64(st, 5);
	sqlite3_reset(st);

	sqlite3_stmt *t = db_stmt(c, SQL_TAGS, err);
	if (!t)
		return err->code;
	sqlite3_bind_int64(t, 1, e->experiment_id);
	size_t cap = 0;
	while ((rc = sqlite3_step(t)) == SQLITE_ROW)
		add_tag(a, e, &cap, db_col_text(a, t, 0), db_col_text(a, t, 1));
	sqlite3_reset(t);
	if (rc != SQLITE_DONE)
		return db_fail(c, err, rc);
	return MT_OK;
}

enum mt_error store_experiment_get(struct store *s, struct arena *a, int64_t id, struct mt_experiment *out,
                                   struct mt_err *err)
{
	struct store_conn *c = store_reader(s);
	sqlite3_stmt *st = db_stmt(c, SQL_GET, err);
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, id);
	enum mt_error rc = read_experiment(c, a, st, out, err);
	if (rc == MT_RESOURCE_DOES_NOT_EXIST)
		return mt_fail(err, rc, "No Experiment with id=%lld exists", (long long)id);
	return rc;
}

enum mt_error store_experiment_get_by_name(struct store *s, struct arena *a, const char *name,
                                           struct mt_experiment *out, struct mt_err *err)
{
	struct store_conn *c = store_reader(s);
	sqlite3_stmt *st = db_stmt(c, SQL_GET_BY_NAME, err);
	if (!st)
		return err->code;
	db_bind_text(st, 1, name);
	enum mt_error rc = read_experiment(c, a, st, out, err);
	if (rc == MT_RESOURCE_DOES_NOT_EXIST)
		return mt_fail(err, rc, "Could not find experiment with name %.500s", name);
	return rc;
}

struct default_job {
	const char *root;
};

static enum mt_error default_job(struct store_conn *c, void *arg, struct mt_err *err)
{
	struct default_job *j = arg;
	sqlite3_stmt *st = db_stmt(c, SQL_ID_EXISTS, err);
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, 0);
	bool found = false;
	if (db_step_exists(c, st, &found, err) != MT_OK)
		return err->code;
	if (found)
		return MT_OK;
	char *loc = join_root(j->root, 0);
	st = db_stmt(c, SQL_INSERT_WITH_ID, err);
	if (!st) {
		free(loc);
		return err->code;
	}
	int64_t now = mt_now_ms();
	sqlite3_bind_int64(st, 1, 0);
	sqlite3_bind_text(st, 2, "Default", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, loc, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 4, now);
	free(loc);
	return db_exec_stmt(c, st, err);
}

enum mt_error store_experiment_ensure_default(struct store *s, const char *artifact_root, struct mt_err *err)
{
	struct default_job j = {artifact_root};
	return store_write(s, default_job, &j, err);
}

/* ---- lifecycle, rename, tags ---- */

static const char SQL_STAGE[] = "SELECT lifecycle_stage FROM experiments WHERE experiment_id = ?1";
static const char SQL_SET_STAGE[] =
	"UPDATE experiments SET lifecycle_stage = ?2, last_update_time = ?3 WHERE experiment_id = ?1";
static const char SQL_RUNS_DELETE[] =
	"UPDATE runs SET lifecycle_stage = 'deleted', deleted_time = ?2 WHERE experiment_id = ?1";
static const char SQL_RUNS_RESTORE[] =
	"UPDATE runs SET lifecycle_stage = 'active', deleted_time = NULL WHERE experiment_id = ?1";
static const char SQL_RENAME[] = "UPDATE experiments SET name = ?2, last_update_time = ?3 WHERE experiment_id = ?1";
static const char SQL_NAME_TAKEN_OTHER[] = "SELECT 1 FROM experiments WHERE name = ?1 AND experiment_id != ?2";
static const char SQL_DELETE_TAG[] = "DELETE FROM experiment_tags WHERE experiment_id = ?1 AND key = ?2";

/* The experiment's lifecycle stage: 1 active, 0 deleted, -1 unknown. */
static enum mt_error stage_of(struct store_conn *c, int64_t id, int *stage, struct mt_err *err)
{
	sqlite3_stmt *st = db_stmt(c, SQL_STAGE, err);
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, id);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*stage = strcmp((const char *)sqlite3_column_text(st, 0), "active") == 0 ? 1 : 0;
	else
		*stage = -1;
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail(c, err, rc);
	return MT_OK;
}

static enum mt_error not_found(struct mt_err *err, int64_t id)
{
	return mt_fail(err, MT_RESOURCE_DOES_NOT_EXIST, "No Experiment with id=%lld exists", (long long)id);
}

static enum mt_error require_active(struct store_conn *c, int64_t id, struct mt_err *err)
{
	int stage;
	if (stage_of(c, id, &stage, err) != MT_OK)
		return err->code;
	if (stage < 0)
		return not_found(err, id);
	if (stage == 0)
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE,
		               "The experiment %lld must be in the 'active' state. Current state is deleted.", (long long)id);
	return MT_OK;
}

struct stage_job {
	int64_t id;
	bool restore;
};

static enum mt_error stage_job(struct store_conn *c, void *arg, struct mt_err *err)
{
	struct stage_job *j = arg;
	int stage;
	if (stage_of(c, j->id, &stage, err) != MT_OK)
		return err->code;
	/* MLflow looks the experiment up in the stage it must leave: deleting a deleted one, or restoring an
	 * active one, is "does not exist". */
	if (stage != (j->restore ? 0 : 1))
		return not_found(err, j->id);
	int64_t now = mt_now_ms();
	sqlite3_stmt *st = db_stmt(c, SQL_SET_STAGE, err);
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, j->id);
	sqlite3_bind_text(st, 2, j->restore ? "active" : "deleted", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now);
	if (db_exec_stmt(c, st, err) != MT_OK)
		return err->code;
	st = db_stmt(c, j->restore ? SQL_RUNS_RESTORE : SQL_RUNS_DELETE, err);
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, j->id);
	if (!j->restore)
		sqlite3_bind_int64(st, 2, now);
	return db_exec_stmt(c, st, err);
}

enum mt_error store_experiment_delete(struct store *s, int64_t id, struct mt_err *err)
{
	struct stage_job j = {id, false};
	return store_write(s, stage_job, &j, err);
}

enum mt_error store_experiment_restore(struct store *s, int64_t id, struct mt_err *err)
{
	struct stage_job j = {id, true};
	return store_write(s, stage_job, &j, err);
}

struct rename_job {
	int64_t id;
	const char *name;
};

static enum mt_error rename_job(struct store_conn *c, void *arg, struct mt_err *err)
{
	struct rename_job *j = arg;
	int stage;
	if (stage_of(c, j->id, &stage, err) != MT_OK)
		return err->code;
	if (stage < 0)
		return not_found(err, j->id);
	if (stage == 0)
		return mt_fail(err, MT_INVALID_STATE, "Cannot rename a non-active experiment.");
	sqlite3_stmt *st = db_stmt(c, SQL_NAME_TAKEN_OTHER, err);
	if (!st)
		return err->code;
	db_bind_text(st, 1, j->name);
	sqlite3_bind_int64(st, 2, j->id);
	bool taken = false;
	if (db_step_exists(c, st, &taken, err) != MT_OK)
		return err->code;
	if (taken)
		return mt_fail(err, MT_RESOURCE_ALREADY_EXISTS, "Experiment(name=%.500s) already exists.", j->name);
	st = db_stmt(c, SQL_RENAME, err);
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, j->id);
	db_bind_text(st, 2, j->name);
	sqlite3_bind_int64(st, 3, mt_now_ms());
	return db_exec_stmt(c, st, err);
}

enum mt_error store_experiment_rename(struct store *s, int64_t id, const char *new_name, struct mt_err *err)
{
	struct rename_job j = {id, new_name};
	return store_write(s, rename_job, &j, err);
}

struct tag_job {
	int64_t id;
	const char *key, *value;
	bool del;
};

static enum mt_error tag_job(struct store_conn *c, void *arg, struct mt_err *err)
{
	struct tag_job *j = arg;
	if (require_active(c, j->id, err) != MT_OK)
		return err->code;
	if (!j->del) {
		struct mt_tag t = {j->key, j->value};
		return insert_tags(c, j->id, &t, 1, err);
	}
	sqlite3_stmt *st = db_stmt(c, SQL_DELETE_TAG, err);
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, j->id);
	db_bind_text(st, 2, j->key);
	if (db_exec_stmt(c, st, err) != MT_OK)
		return err->code;
	if (sqlite3_changes(c->db) == 0)
		return mt_fail(err, MT_RESOURCE_DOES_NOT_EXIST, "No tag with name: %.250s in experiment with id %lld", j->key,
		               (long long)j->id);
	return MT_OK;
}

enum mt_error store_experiment_set_tag(struct store *s, int64_t id, const char *key, const char *value,
                                       struct mt_err *err)
{
	struct tag_job j = {id, key, value, false};
	return store_write(s, tag_job, &j, err);
}

enum mt_error store_experiment_delete_tag(struct store *s, int64_t id, const char *key, struct mt_err *err)
{
	struct tag_job j = {id, key, NULL, true};
	return store_write(s, tag_job, &j, err);
}

/* ---- many at once (search results): two statements instead of two per experiment ---- */

enum mt_error experiments_load_many(struct store_conn *c, struct arena *a, const int64_t *ids, size_t n,
                                    struct mt_experiment *out, struct mt_err *err)
{
	if (n == 0)
		return MT_OK;
	/* index: experiment id -> position, open addressing over 2n slots (ids are distinct) */
	size_t cap = 16;
	while (cap < 2 * n)
		cap *= 2;
	int64_t *slot_id = arena_alloc(a, cap * sizeof *slot_id);
	size_t *slot_pos = arena_alloc(a, cap * sizeof *slot_pos);
	size_t *tag_cap = arena_calloc(a, n * sizeof *tag_cap);
	for (size_t i = 0; i < cap; i++)
		slot_id[i] = -1;
	struct buf json;
	buf_init(&json, 32 * n + 16); /* ids print in at most 20 digits and a comma */
	buf_putc(&json, '[');
	for (size_t i = 0; i < n; i++) {
		buf_printf(&json, "%s%lld", i ? "," : "", (long long)ids[i]);
		size_t h = (size_t)((uint64_t)ids[i] * 0x9E3779B97F4A7C15ull >> 20) & (cap - 1);
		while (slot_id[h] != -1)
			h = (h + 1) & (cap - 1);
		slot_id[h] = ids[i];
		slot_pos[h] = i;
		memset(&out[i], 0, sizeof out[i]);
	}
	buf_putc(&json, ']');
	enum mt_error rc = MT_OK;
	for (int pass = 0; pass < 2 && rc == MT_OK; pass++) {
		sqlite3_stmt *st = db_stmt(c, pass == 0 ? SQL_LOAD_MANY : SQL_LOAD_MANY_TAGS, err);
		if (!st) {
			rc = err->code;
			break;
		}
		sqlite3_bind_text(st, 1, json.data, (int)json.len, SQLITE_STATIC);
		int r;
		while ((r = sqlite3_step(st)) == SQLITE_ROW) {
			int64_t id = sqlite3_column_int64(st, 0);
			size_t h = (size_t)((uint64_t)id * 0x9E3779B97F4A7C15ull >> 20) & (cap - 1);
			while (slot_id[h] != -1 && slot_id[h] != id)
				h = (h + 1) & (cap - 1);
			if (slot_id[h] != id)
				continue;
			struct mt_experiment *e = &out[slot_pos[h]];
			if (pass == 0) {
				e->experiment_id = id;
				e->name = db_col_text(a, st, 1);
				e->artifact_location = db_col_text(a, st, 2);
				e->lifecycle_stage = db_col_text(a, st, 3);
				e->creation_time = sqlite3_column_int64(st, 4);
				e->last_update_time = sqlite3_column_int64(st, 5);
			} else {
				add_tag(a, e, &tag_cap[slot_pos[h]], db_col_text(a, st, 1), db_col_text(a, st, 2));
			}
		}
		sqlite3_reset(st);
		if (r != SQLITE_DONE)
			rc = db_fail(c, err, r);
	}
	buf_free(&json);
	for (size_t i = 0; rc == MT_OK && i < n; i++)
		if (out[i].name == NULL) /* deleted between the search and the load */
			rc = mt_fail(err, MT_RESOURCE_DOES_NOT_EXIST, "No Experiment with id=%lld exists", (long long)ids[i]);
	return rc;
}
