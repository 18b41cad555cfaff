/* SPDX-License-Identifier: Apache-2.0 */
/* auth_store.c: SQL for users, tokens and grants, and the run -> experiment lookups of the ACL.
 * Never sees a password or a token in clear: only their hashes. */
#include <string.h>

#include "mltrackd/store_auth.h"
#include "mltrackd/util.h"
#include "store_internal.h"

static const char SQL_COUNT[] = "SELECT COUNT(*) FROM users";
static const char SQL_EXISTS[] = "SELECT 1 FROM users WHERE username = ?1";
static const char SQL_INSERT[] =
	"INSERT INTO users (username, password_hash, is_admin, created_at) VALUES (?1, ?2, ?3, ?4)";
static const char SQL_GET[] = "SELECT id, username, password_hash, is_admin FROM users WHERE username = ?1";
static const char SQL_LIST[] = "SELECT id, username, password_hash, is_admin FROM users ORDER BY id";
static const char SQL_SET_PW[] = "UPDATE users SET password_hash = ?2 WHERE username = ?1";
static const char SQL_SET_ADMIN[] = "UPDATE users SET is_admin = ?2 WHERE username = ?1";
static const char SQL_DELETE[] = "DELETE FROM users WHERE username = ?1";
static const char SQL_TOKEN_INSERT[] =
	"INSERT INTO tokens (user_id, token_hash, name, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)";
static const char SQL_TOKEN_USER[] =
	"SELECT u.id, u.username, u.password_hash, u.is_admin FROM tokens t JOIN users u ON u.id = t.user_id"
	" WHERE t.token_hash = ?1 AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > ?2)";
static const char SQL_GRANT_SET[] =
	"INSERT INTO grants (user_id, resource_type, resource_id, permission) VALUES (?1, ?2, ?3, ?4)"
	" ON CONFLICT (user_id, resource_type, resource_id) DO UPDATE SET permission = excluded.permission";
static const char SQL_GRANT_DELETE[] =
	"DELETE FROM grants WHERE user_id = ?1 AND resource_type = ?2 AND resource_id = ?3";
static const char SQL_GRANT_GET[] =
	"SELECT permission FROM grants WHERE user_id = ?1 AND resource_type = ?2 AND resource_id = ?3";
static const char SQL_GRANT_LIST[] =
	"SELECT resource_type, resource_id, permission FROM grants WHERE user_id = ?1 ORDER BY resource_type, resource_id";
static const char SQL_GRANT_RENAME[] =
	"UPDATE grants SET resource_id = ?3 WHERE resource_type = ?1 AND resource_id = ?2";
static const char SQL_GRANT_DROP[] = "DELETE FROM grants WHERE resource_type = ?1 AND resource_id = ?2";
static const char SQL_RUN_EXP[] = "SELECT experiment_id FROM runs WHERE run_uuid = ?1";
static const char SQL_EXP_BY_NAME[] = "SELECT experiment_id FROM experiments WHERE name = ?1";

static enum mt_error user_not_found(struct mt_err *err, const char *username)
{
	return mt_fail(err, MT_RESOURCE_DOES_NOT_EXIST, "User with username=%.200s not found", username);
}

enum mt_error store_user_count(struct store *s, int64_t *n, struct mt_err *err)
{
	struct store_conn *c = store_reader(s);
	sqlite3_stmt *st = db_stmt(c, SQL_COUNT, err);
	if (!st)
		return err->code;
	int rc = sqlite3_step(st);
	*n = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? MT_OK : db_fail(c, err, rc);
}

struct user_job {
	const char *username, *hash;
	bool is_admin;
	int64_t id;
	int op; /* 0 create, 1 password, 2 admin, 3 delete */
};

static enum mt_error user_job(struct store_conn *c, void *arg, struct mt_err *err)
{
	struct user_job *j = arg;
	sqlite3_stmt *st;
	if (j->op == 0) {
		st = db_stmt(c, SQL_EXISTS, err);
		if (!st)
			return err->code;
		db_bind_text(st, 1, j->username);
		bool taken = false;
		if (db_step_exists(c, st, &taken, err) != MT_OK)
			return err->code;
		if (taken)
			return mt_fail(err, MT_RESOURCE_ALREADY_EXISTS, "User '%.200s' already exists", j->username);
		st = db_stmt(c, SQL_INSERT, err);
		if (!st)
			return err->code;
		db_bind_text(st, 1, j->username);
		db_bind_text(st, 2, j->hash);
		sqlite3_bind_int(st, 3, j->is_admin);
		sqlite3_bind_int64(st, 4, mt_now_ms());
		if (db_exec_stmt(c, st, err) != MT_OK)
			return err->code;
		j->id = sqlite3_last_insert_rowid(c->db);
		return MT_OK;
	}
	st = db_stmt(c, j->op == 1 ? SQL_SET_PW : j->op == 2 ? SQL_SET_ADMIN : SQL_DELETE, err);
	if (!st)
		return err->code;
	db_bind_text(st, 1, j->username);
	if (j->op == 1)
		db_bind_text(st, 2, j->hash);
	else if (j->op == 2)
		sqlite3_bind_int(st, 2, j->is_admin);
	if (db_exec_stmt(c, st, err) != MT_OK)
		return err->code;
	if (sqlite3_changes(c->db) == 0)
		return user_not_found(err, j->username);
	return MT_OK;
}

enum mt_error store_user_create(struct store *s, const char *username, const char *password_hash, bool is_admin,
                                int64_t *id, struct mt_err *err)
{
	struct user_job j = {username, password_hash, is_admin, 0, 0};
	if (store_write(s, user_job, &j, err) != MT_OK)
		return err->code;
	if (id)
		*id = j.id;
	return MT_OK;
}

enum mt_error store_user_set_password(struct store *s, const char *username, const char *password_hash,
                                      struct mt_err *err)
{
	struct user_job j = {username, password_hash, false, 0, 1};
	return store_write(s, user_job, &j, err);
}

enum mt_error store_user_set_admin(struct store *s, const char *username, bool is_admin, struct mt_err *err)
{
	struct user_job j = {username, NULL, is_admin, 0, 2};
	return store_write(s, user_job, &j, err);
}

enum mt_error store_user_delete(struct store *s, const char *username, struct mt_err *err)
{
	struct user_job j = {username, NULL, false, 0, 3};
	return store_write(s, user_job, &j, err);
}

static void read_user(struct arena *a, sqlite3_stmt *st, struct mt_user *u)
{
	u->id = sqlite3_column_int64(st, 0);
	u->username = db_col_text(a, st, 1);
	u->password_hash = db_col_text(a, st, 2);
	u->is_admin = sqlite3_column_int(st, 3) != 0;
}

enum mt_error store_user_get(struct store *s, struct arena *a, const char *username, struct mt_user *out,
                             struct mt_err *err)
{
	struct store_conn *c = store_reader(s);
	sqlite3_stmt *st = db_stmt(c, SQL_GET, err);
	if (!st)
		return err->code;
	db_bind_text(st, 1, username);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		read_user(a, st, out);
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return user_not_found(err, username);
	return rc == SQLITE_ROW ? MT_OK : db_fail(c, err, rc);
}

enum mt_error store_user_list(struct store *s, struct arena *a, struct mt_user **out, size_t *n, struct mt_err *err)
{
	struct store_conn *c = store_reader(s);
	sqlite3_stmt *st = db_stmt(c, SQL_LIST, err);
	if (!st)
		return err->code;
	size_t cap = 16, cnt = 0;
	struct mt_user *v = arena_alloc(a, cap * sizeof *v);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (cnt == cap) {
			struct mt_user *nv = arena_alloc(a, 2 * cap * sizeof *nv);
			memcpy(nv, v, cnt * sizeof *v);
			v = nv;
			cap *= 2;
		}
		read_user(a, st, &v[cnt++]);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return db_fail(c, err, rc);
	*out = v;
	*n = cnt;
	return MT_OK;
}

struct token_job {
	int64_t user_id, expires_at;
	const char *hash, *name;
};

static enum mt_error token_job(struct store_conn *c, void *arg, struct mt_err *err)
{
	struct token_job *j = arg;
	sqlite3_stmt *st = db_stmt(c, SQL_TOKEN_INSERT, err);
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, j->user_id);
	db_bind_text(st, 2, j->hash);
	db_bind_text(st, 3, j->name ? j->name : "");
	sqlite3_bind_int64(st, 4, mt_now_ms());
	if (j->expires_at > 0)
		sqlite3_bind_int64(st, 5, j->expires_at);
	else
		sqlite3_bind_null(st, 5);
	return db_exec_stmt(c, st, err);
}

enum mt_error store_token_create(struct store *s, int64_t user_id, const char *token_hash, const char *name,
                                 int64_t expires_at, struct mt_err *err)
{
	struct token_job j = {user_id, expires_at, token_hash, name};
	return store_write(s, token_job, &j, err);
}

enum mt_error store_token_user(struct store *s, struct arena *a, const char *token_hash, struct mt_user *out,
                               struct mt_err *err)
{
	struct store_conn *c = store_reader(s);
	sqlite3_stmt *st = db_stmt(c, SQL_TOKEN_USER, err);
	if (!st)
		return err->code;
	db_bind_text(st, 1, token_hash);
	sqlite3_bind_int64(st, 2, mt_now_ms());
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		read_user(a, st, out);
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return mt_fail(err, MT_RESOURCE_DOES_NOT_EXIST, "unknown token");
	return rc == SQLITE_ROW ? MT_OK : db_fail(c, err, rc);
}

struct grant_job {
	int64_t user_id;
	const char *type, *id, *perm, *new_id;
	int op; /* 0 set, 1 delete, 2 rename/drop */
};

static enum mt_error grant_job(struct store_conn *c, void *arg, struct mt_err *err)
{
	struct grant_job *j = arg;
	sqlite3_stmt *st;
	if (j->op == 2) {
		st = db_stmt(c, j->new_id ? SQL_GRANT_RENAME : SQL_GRANT_DROP, err);
		if (!st)
			return err->code;
		db_bind_text(st, 1, j->type);
		db_bind_text(st, 2, j->id);
		if (j->new_id)
			db_bind_text(st, 3, j->new_id);
		return db_exec_stmt(c, st, err);
	}
	st = db_stmt(c, j->op == 0 ? SQL_GRANT_SET : SQL_GRANT_DELETE, err);
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, j->user_id);
	db_bind_text(st, 2, j->type);
	db_bind_text(st, 3, j->id);
	if (j->op == 0)
		db_bind_text(st, 4, j->perm);
	if (db_exec_stmt(c, st, err) != MT_OK)
		return err->code;
	if (j->op == 1 && sqlite3_changes(c->db) == 0)
		return mt_fail(err, MT_RESOURCE_DOES_NOT_EXIST, "No permission on %.50s '%.200s' for this user", j->type, j->id);
	return MT_OK;
}

enum mt_error store_grant_set(struct store *s, int64_t user_id, const char *type, const char *id, const char *perm,
                              struct mt_err *err)
{
	struct grant_job j = {user_id, type, id, perm, NULL, 0};
	return store_write(s, grant_job, &j, err);
}

enum mt_error store_grant_delete(struct store *s, int64_t user_id, const char *type, const char *id,
                                 struct mt_err *err)
{
	struct grant_job j = {user_id, type, id, NULL, NULL, 1};
	return store_write(s, grant_job, &j, err);
}

enum mt_error store_grant_rename(struct store *s, const char *type, const char *old_id, const char *new_id,
                                 struct mt_err *err)
{
	struct grant_job j = {0, type, old_id, NULL, new_id, 2};
	return store_write(s, grant_job, &j, err);
}

enum mt_error store_grant_get(struct store *s, struct arena *a, int64_t user_id, const char *type, const char *id,
                              const char **perm, struct mt_err *err)
{
	struct store_conn *c = store_reader(s);
	sqlite3_stmt *st = db_stmt(c, SQL_GRANT_GET, err);
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, user_id);
	db_bind_text(st, 2, type);
	db_bind_text(st, 3, id);
	int rc = sqlite3_step(st);
	*perm = rc == SQLITE_ROW ? db_col_text(a, st, 0) : NULL;
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? MT_OK : db_fail(c, err, rc);
}

enum mt_error store_grant_list(struct store *s, struct arena *a, int64_t user_id, struct mt_grant **out, size_t *n,
                               struct mt_err *err)
{
	struct store_conn *c = store_reader(s);
	sqlite3_stmt *st = db_stmt(c, SQL_GRANT_LIST, err);
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, user_id);
	size_t cap = 16, cnt = 0;
	struct mt_grant *v = arena_alloc(a, cap * sizeof *v);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (cnt == cap) {
			struct mt_grant *nv = arena_alloc(a, 2 * cap * sizeof *nv);
			memcpy(nv, v, cnt * sizeof *v);
			v = nv;
			cap *= 2;
		}
		v[cnt].resource_type = db_col_text(a, st, 0);
		v[cnt].resource_id = db_col_text(a, st, 1);
		v[cnt].permission = db_col_text(a, st, 2);
		cnt++;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return db_fail(c, err, rc);
	*out = v;
	*n = cnt;
	return MT_OK;
}

static enum mt_error lookup_i64(struct store *s, const char *sql, const char *key, int64_t *out, struct mt_err *err)
{
	struct store_conn *c = store_reader(s);
	sqlite3_stmt *st = db_stmt(c, sql, err);
	if (!st)
		return err->code;
	db_bind_text(st, 1, key);
	int rc = sqlite3_step(st);
	*out = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? MT_OK : db_fail(c, err, rc);
}

enum mt_error store_acl_run_experiment(struct store *s, const char *run_uuid, int64_t *exp, struct mt_err *err)
{
	return lookup_i64(s, SQL_RUN_EXP, run_uuid, exp, err);
}

enum mt_error store_acl_experiment_by_name(struct store *s, const char *name, int64_t *exp, struct mt_err *err)
{
	return lookup_i64(s, SQL_EXP_BY_NAME, name, exp, err);
}
