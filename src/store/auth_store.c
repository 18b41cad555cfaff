/* SPDX-License-Identifier: Apache-2.0 */
/* auth_store.c: SQL for users, tokens and grants, and the run -> experiment lookups of the ACL.
 * Never sees a password or a token in clear: only their hashes. */
#include <cjson/cJSON.h>
#include <stdio.h>
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
static const char SQL_SYN_ROLE_ENSURE[] =
	"INSERT OR IGNORE INTO roles (name, workspace) VALUES ('__user_' || ?1 || '__', 'default')";
static const char SQL_SYN_ASSIGN[] =
	"INSERT OR IGNORE INTO user_roles (user_id, role_id)"
	" SELECT ?1, id FROM roles WHERE workspace = 'default' AND name = '__user_' || ?1 || '__'";
static const char SQL_SYN_ROLE_ID[] = "SELECT id FROM roles WHERE workspace = 'default' AND name = '__user_' || ?1 || '__'";
static const char SQL_RP_FIND[] =
	"SELECT id FROM role_permissions WHERE role_id = ?1 AND resource_type = ?2 AND resource_pattern = ?3";
static const char SQL_RP_INSERT[] =
	"INSERT INTO role_permissions (role_id, resource_type, resource_pattern, permission) VALUES (?1, ?2, ?3, ?4)";
static const char SQL_RP_SETPERM[] = "UPDATE role_permissions SET permission = ?2 WHERE id = ?1";
static const char SQL_RP_DELETE[] = "DELETE FROM role_permissions WHERE id = ?1";
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
		v = arena_grow(a, v, cnt, &cap, sizeof *v);
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
	int op; /* 0 set (upsert), 1 delete, 2 rename/drop, 3 add (refuse a duplicate) */
};

static enum mt_error synthetic_role(struct store_conn *c, int64_t user_id, bool create, int64_t *role_id,
                                    struct mt_err *err)
{
	sqlite3_stmt *st;
	if (create) {
		st = db_stmt(c, SQL_SYN_ROLE_ENSURE, err);
		if (!st)
			return err->code;
		sqlite3_bind_int64(st, 1, user_id);
		if (db_exec_stmt(c, st, err) != MT_OK)
			return err->code;
		st = db_stmt(c, SQL_SYN_ASSIGN, err);
		if (!st)
			return err->code;
		sqlite3_bind_int64(st, 1, user_id);
		if (db_exec_stmt(c, st, err) != MT_OK)
			return err->code;
	}
	st = db_stmt(c, SQL_SYN_ROLE_ID, err);
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, user_id);
	int rc = sqlite3_step(st);
	*role_id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? MT_OK : db_fail(c, err, rc);
}

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
	int64_t role = -1, rp = -1;
	if (synthetic_role(c, j->user_id, j->op != 1, &role, err) != MT_OK)
		return err->code;
	if (role >= 0) {
		st = db_stmt(c, SQL_RP_FIND, err);
		if (!st)
			return err->code;
		sqlite3_bind_int64(st, 1, role);
		db_bind_text(st, 2, j->type);
		db_bind_text(st, 3, j->id);
		int rc = sqlite3_step(st);
		rp = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
		sqlite3_reset(st);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			return db_fail(c, err, rc);
	}
	if (j->op == 1) {
		if (rp < 0)
			return mt_fail(err, MT_RESOURCE_DOES_NOT_EXIST, "No permission on %.50s '%.200s' for this user", j->type,
			               j->id);
		st = db_stmt(c, SQL_RP_DELETE, err);
		if (!st)
			return err->code;
		sqlite3_bind_int64(st, 1, rp);
		return db_exec_stmt(c, st, err);
	}
	if (rp >= 0 && j->op == 3)
		return mt_fail(err, MT_RESOURCE_ALREADY_EXISTS, "Permission on %.50s '%.200s' already exists", j->type, j->id);
	if (rp >= 0) {
		st = db_stmt(c, SQL_RP_SETPERM, err);
		if (!st)
			return err->code;
		sqlite3_bind_int64(st, 1, rp);
		db_bind_text(st, 2, j->perm);
		return db_exec_stmt(c, st, err);
	}
	st = db_stmt(c, SQL_RP_INSERT, err);
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, role);
	db_bind_text(st, 2, j->type);
	db_bind_text(st, 3, j->id);
	db_bind_text(st, 4, j->perm);
	return db_exec_stmt(c, st, err);
}

enum mt_error store_grant_set(struct store *s, int64_t user_id, const char *type, const char *id, const char *perm,
                              struct mt_err *err)
{
	struct grant_job j = {user_id, type, id, perm, NULL, 0};
	return store_write(s, grant_job, &j, err);
}

enum mt_error store_grant_add(struct store *s, int64_t user_id, const char *type, const char *id, const char *perm,
                              bool upsert, struct mt_err *err)
{
	struct grant_job j = {user_id, type, id, perm, NULL, upsert ? 0 : 3};
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
		v = arena_grow(a, v, cnt, &cap, sizeof *v);
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

/* ---- roles ---- */

static const char SQL_ROLE_INSERT[] = "INSERT INTO roles (name, workspace, description) VALUES (?1, ?2, ?3)";
static const char SQL_ROLE_EXISTS[] = "SELECT 1 FROM roles WHERE workspace = ?1 AND name = ?2 AND id <> ?3";
static const char SQL_ROLE_GET[] = "SELECT id, name, workspace, description FROM roles WHERE id = ?1";
static const char SQL_ROLE_LIST[] = "SELECT id, name, workspace, description FROM roles ORDER BY id";
static const char SQL_ROLE_LIST_WS[] =
	"SELECT id, name, workspace, description FROM roles WHERE workspace IN (SELECT value FROM json_each(?1))"
	" ORDER BY id";
static const char SQL_ROLE_SET_NAME[] = "UPDATE roles SET name = ?2 WHERE id = ?1";
static const char SQL_ROLE_SET_DESC[] = "UPDATE roles SET description = ?2 WHERE id = ?1";
static const char SQL_ROLE_DELETE[] = "DELETE FROM roles WHERE id = ?1";
static const char SQL_RP_GET[] =
	"SELECT id, role_id, resource_type, resource_pattern, permission FROM role_permissions WHERE id = ?1";
static const char SQL_RP_OF_ROLE[] =
	"SELECT id, role_id, resource_type, resource_pattern, permission FROM role_permissions WHERE role_id = ?1"
	" ORDER BY id";
static const char SQL_ASSIGN_FIND[] = "SELECT id FROM user_roles WHERE user_id = ?1 AND role_id = ?2";
static const char SQL_ASSIGN_INSERT[] = "INSERT INTO user_roles (user_id, role_id) VALUES (?1, ?2)";
static const char SQL_ASSIGN_DELETE[] = "DELETE FROM user_roles WHERE user_id = ?1 AND role_id = ?2";
static const char SQL_USER_EXISTS_ID[] = "SELECT 1 FROM users WHERE id = ?1";
static const char SQL_USER_ROLES[] =
	"SELECT r.id, r.name, r.workspace, r.description FROM roles r JOIN user_roles ur ON ur.role_id = r.id"
	" WHERE ur.user_id = ?1 ORDER BY r.id";
static const char SQL_ROLE_USERS[] = "SELECT id, user_id, role_id FROM user_roles WHERE role_id = ?1 ORDER BY id";
static const char SQL_ACL_ROWS[] =
	"SELECT rp.resource_type, rp.resource_pattern, rp.permission FROM user_roles ur"
	" JOIN role_permissions rp ON rp.role_id = ur.role_id"
	" WHERE ur.user_id = ?1 AND ((rp.resource_type = ?2 AND (?3 IS NULL OR rp.resource_pattern IN (?3, '*')))"
	" OR (rp.resource_type = 'workspace' AND rp.resource_pattern = '*' AND rp.permission = 'MANAGE'))";

static enum mt_error role_not_found(struct mt_err *err, int64_t id)
{
	return mt_fail(err, MT_RESOURCE_DOES_NOT_EXIST, "Role with id=%lld not found", (long long)id);
}

/* Reads a role_permissions row (columns id, role_id, resource_type, resource_pattern, permission). */
static void read_role_perm(struct arena *a, sqlite3_stmt *st, struct mt_role_perm *p)
{
	p->id = sqlite3_column_int64(st, 0);
	p->role_id = sqlite3_column_int64(st, 1);
	p->resource_type = db_col_text(a, st, 2);
	p->resource_pattern = db_col_text(a, st, 3);
	p->permission = db_col_text(a, st, 4);
}

static enum mt_error read_role_perms(struct store_conn *c, struct arena *a, struct mt_role *r, struct mt_err *err)
{
	sqlite3_stmt *st = db_stmt(c, SQL_RP_OF_ROLE, err);
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, r->id);
	size_t cap = 8, n = 0;
	struct mt_role_perm *v = arena_alloc(a, cap * sizeof *v);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		v = arena_grow(a, v, n, &cap, sizeof *v);
		read_role_perm(a, st, &v[n++]);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return db_fail(c, err, rc);
	r->perms = v;
	r->n_perms = n;
	return MT_OK;
}

/* Reads the roles a prepared statement yields (columns id, name, workspace, description), with permissions. */
static enum mt_error read_roles(struct store_conn *c, struct arena *a, sqlite3_stmt *st, struct mt_role **out,
                                size_t *n, struct mt_err *err)
{
	size_t cap = 8, cnt = 0;
	struct mt_role *v = arena_alloc(a, cap * sizeof *v);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		v = arena_grow(a, v, cnt, &cap, sizeof *v);
		memset(&v[cnt], 0, sizeof v[cnt]);
		v[cnt].id = sqlite3_column_int64(st, 0);
		v[cnt].name = db_col_text(a, st, 1);
		v[cnt].workspace = db_col_text(a, st, 2);
		v[cnt].description = sqlite3_column_type(st, 3) == SQLITE_NULL ? NULL : db_col_text(a, st, 3);
		cnt++;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return db_fail(c, err, rc);
	for (size_t i = 0; i < cnt; i++)
		if (read_role_perms(c, a, &v[i], err) != MT_OK)
			return err->code;
	*out = v;
	*n = cnt;
	return MT_OK;
}

struct role_job {
	int64_t id, id2;
	const char *name, *workspace, *description, *type, *pattern, *perm;
	int op; /* 0 create, 1 update, 2 delete, 3 perm add, 4 perm remove, 5 perm update, 6 assign, 7 unassign */
};

static enum mt_error role_exists(struct store_conn *c, int64_t id, struct mt_err *err)
{
	sqlite3_stmt *st = db_stmt(c, SQL_ROLE_GET, err);
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, id);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return role_not_found(err, id);
	return rc == SQLITE_ROW ? MT_OK : db_fail(c, err, rc);
}

static enum mt_error name_taken(struct store_conn *c, const char *ws, const char *name, int64_t self, bool *taken,
                                struct mt_err *err)
{
	sqlite3_stmt *st = db_stmt(c, SQL_ROLE_EXISTS, err);
	if (!st)
		return err->code;
	db_bind_text(st, 1, ws);
	db_bind_text(st, 2, name);
	sqlite3_bind_int64(st, 3, self);
	return db_step_exists(c, st, taken, err);
}

static enum mt_error role_job(struct store_conn *c, void *arg, struct mt_err *err)
{
	struct role_job *j = arg;
	sqlite3_stmt *st;
	bool found = false;
	switch (j->op) {
	case 0:
		if (name_taken(c, j->workspace, j->name, -1, &found, err) != MT_OK)
			return err->code;
		if (found)
			return mt_fail(err, MT_RESOURCE_ALREADY_EXISTS, "Role (name=%.200s, workspace=%.200s) already exists.",
			               j->name, j->workspace);
		st = db_stmt(c, SQL_ROLE_INSERT, err);
		if (!st)
			return err->code;
		db_bind_text(st, 1, j->name);
		db_bind_text(st, 2, j->workspace);
		db_bind_text(st, 3, j->description);
		if (db_exec_stmt(c, st, err) != MT_OK)
			return err->code;
		j->id = sqlite3_last_insert_rowid(c->db);
		return MT_OK;
	case 1: {
		st = db_stmt(c, SQL_ROLE_GET, err);
		if (!st)
			return err->code;
		sqlite3_bind_int64(st, 1, j->id);
		int rc = sqlite3_step(st);
		char ws[256] = "";
		if (rc == SQLITE_ROW)
			snprintf(ws, sizeof ws, "%s", (const char *)sqlite3_column_text(st, 2));
		sqlite3_reset(st);
		if (rc == SQLITE_DONE)
			return role_not_found(err, j->id);
		if (rc != SQLITE_ROW)
			return db_fail(c, err, rc);
		if (j->name) {
			if (name_taken(c, ws, j->name, j->id, &found, err) != MT_OK)
				return err->code;
			if (found)
				return mt_fail(err, MT_RESOURCE_ALREADY_EXISTS, "Role with name=%.200s already exists in workspace=%.200s",
				               j->name, ws);
			st = db_stmt(c, SQL_ROLE_SET_NAME, err);
			if (!st)
				return err->code;
			sqlite3_bind_int64(st, 1, j->id);
			db_bind_text(st, 2, j->name);
			if (db_exec_stmt(c, st, err) != MT_OK)
				return err->code;
		}
		if (j->description) {
			st = db_stmt(c, SQL_ROLE_SET_DESC, err);
			if (!st)
				return err->code;
			sqlite3_bind_int64(st, 1, j->id);
			db_bind_text(st, 2, j->description);
			if (db_exec_stmt(c, st, err) != MT_OK)
				return err->code;
		}
		return MT_OK;
	}
	case 2:
		if (role_exists(c, j->id, err) != MT_OK)
			return err->code;
		st = db_stmt(c, SQL_ROLE_DELETE, err);
		if (!st)
			return err->code;
		sqlite3_bind_int64(st, 1, j->id);
		return db_exec_stmt(c, st, err);
	case 3: {
		if (role_exists(c, j->id, err) != MT_OK)
			return err->code;
		st = db_stmt(c, SQL_RP_FIND, err);
		if (!st)
			return err->code;
		sqlite3_bind_int64(st, 1, j->id);
		db_bind_text(st, 2, j->type);
		db_bind_text(st, 3, j->pattern);
		if (db_step_exists(c, st, &found, err) != MT_OK)
			return err->code;
		if (found)
			return mt_fail(err, MT_RESOURCE_ALREADY_EXISTS,
			               "Role permission (role_id=%lld, resource_type=%.100s, resource_pattern=%.200s) already exists.",
			               (long long)j->id, j->type, j->pattern);
		st = db_stmt(c, SQL_RP_INSERT, err);
		if (!st)
			return err->code;
		sqlite3_bind_int64(st, 1, j->id);
		db_bind_text(st, 2, j->type);
		db_bind_text(st, 3, j->pattern);
		db_bind_text(st, 4, j->perm);
		if (db_exec_stmt(c, st, err) != MT_OK)
			return err->code;
		j->id2 = sqlite3_last_insert_rowid(c->db);
		return MT_OK;
	}
	case 4:
	case 5:
		st = db_stmt(c, j->op == 4 ? SQL_RP_DELETE : SQL_RP_SETPERM, err);
		if (!st)
			return err->code;
		sqlite3_bind_int64(st, 1, j->id);
		if (j->op == 5)
			db_bind_text(st, 2, j->perm);
		if (db_exec_stmt(c, st, err) != MT_OK)
			return err->code;
		if (sqlite3_changes(c->db) == 0)
			return mt_fail(err, MT_RESOURCE_DOES_NOT_EXIST, "Role permission with id=%lld not found", (long long)j->id);
		return MT_OK;
	case 6:
		st = db_stmt(c, SQL_USER_EXISTS_ID, err);
		if (!st)
			return err->code;
		sqlite3_bind_int64(st, 1, j->id);
		if (db_step_exists(c, st, &found, err) != MT_OK)
			return err->code;
		if (!found)
			return mt_fail(err, MT_RESOURCE_DOES_NOT_EXIST, "User with id=%lld not found", (long long)j->id);
		if (role_exists(c, j->id2, err) != MT_OK)
			return err->code;
		st = db_stmt(c, SQL_ASSIGN_FIND, err);
		if (!st)
			return err->code;
		sqlite3_bind_int64(st, 1, j->id);
		sqlite3_bind_int64(st, 2, j->id2);
		if (db_step_exists(c, st, &found, err) != MT_OK)
			return err->code;
		if (found)
			return mt_fail(err, MT_RESOURCE_ALREADY_EXISTS,
			               "User role assignment (user_id=%lld, role_id=%lld) already exists", (long long)j->id,
			               (long long)j->id2);
		st = db_stmt(c, SQL_ASSIGN_INSERT, err);
		if (!st)
			return err->code;
		sqlite3_bind_int64(st, 1, j->id);
		sqlite3_bind_int64(st, 2, j->id2);
		if (db_exec_stmt(c, st, err) != MT_OK)
			return err->code;
		j->id = sqlite3_last_insert_rowid(c->db);
		return MT_OK;
	case 7:
		st = db_stmt(c, SQL_ASSIGN_DELETE, err);
		if (!st)
			return err->code;
		sqlite3_bind_int64(st, 1, j->id);
		sqlite3_bind_int64(st, 2, j->id2);
		if (db_exec_stmt(c, st, err) != MT_OK)
			return err->code;
		if (sqlite3_changes(c->db) == 0)
			return mt_fail(err, MT_RESOURCE_DOES_NOT_EXIST, "User role assignment (user_id=%lld, role_id=%lld) not found",
			               (long long)j->id, (long long)j->id2);
		return MT_OK;
	}
	return mt_fail(err, MT_INTERNAL_ERROR, "unknown role job");
}

enum mt_error store_role_create(struct store *s, struct arena *a, const char *name, const char *workspace,
                                const char *description, struct mt_role *out, struct mt_err *err)
{
	struct role_job j = {.name = name, .workspace = workspace, .description = description, .op = 0};
	if (store_write(s, role_job, &j, err) != MT_OK)
		return err->code;
	return store_role_get(s, a, j.id, out, err);
}

enum mt_error store_role_get(struct store *s, struct arena *a, int64_t id, struct mt_role *out, struct mt_err *err)
{
	struct store_conn *c = store_reader(s);
	sqlite3_stmt *st = db_stmt(c, SQL_ROLE_GET, err);
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, id);
	struct mt_role *v;
	size_t n;
	if (read_roles(c, a, st, &v, &n, err) != MT_OK)
		return err->code;
	if (n == 0)
		return role_not_found(err, id);
	*out = v[0];
	return MT_OK;
}

enum mt_error store_role_list(struct store *s, struct arena *a, const char *const *workspaces, size_t n_ws,
                              struct mt_role **out, size_t *n, struct mt_err *err)
{
	struct store_conn *c = store_reader(s);
	sqlite3_stmt *st = db_stmt(c, workspaces ? SQL_ROLE_LIST_WS : SQL_ROLE_LIST, err);
	if (!st)
		return err->code;
	if (workspaces) {
		cJSON *arr = cJSON_CreateArray();
		for (size_t i = 0; i < n_ws; i++)
			cJSON_AddItemToArray(arr, cJSON_CreateString(workspaces[i]));
		char *js = cJSON_PrintUnformatted(arr);
		cJSON_Delete(arr);
		sqlite3_bind_text(st, 1, js, -1, SQLITE_TRANSIENT);
		cJSON_free(js);
	}
	return read_roles(c, a, st, out, n, err);
}

enum mt_error store_role_update(struct store *s, int64_t id, const char *name, const char *description,
                                struct mt_err *err)
{
	struct role_job j = {.id = id, .name = name, .description = description, .op = 1};
	return store_write(s, role_job, &j, err);
}

enum mt_error store_role_delete(struct store *s, int64_t id, struct mt_err *err)
{
	struct role_job j = {.id = id, .op = 2};
	return store_write(s, role_job, &j, err);
}

enum mt_error store_role_perm_add(struct store *s, int64_t role_id, const char *type, const char *pattern,
                                  const char *perm, int64_t *id, struct mt_err *err)
{
	struct role_job j = {.id = role_id, .type = type, .pattern = pattern, .perm = perm, .op = 3};
	if (store_write(s, role_job, &j, err) != MT_OK)
		return err->code;
	*id = j.id2;
	return MT_OK;
}

enum mt_error store_role_perm_get(struct store *s, struct arena *a, int64_t id, struct mt_role_perm *out,
                                  struct mt_err *err)
{
	struct store_conn *c = store_reader(s);
	sqlite3_stmt *st = db_stmt(c, SQL_RP_GET, err);
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, id);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		read_role_perm(a, st, out);
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return mt_fail(err, MT_RESOURCE_DOES_NOT_EXIST, "Role permission with id=%lld not found", (long long)id);
	return rc == SQLITE_ROW ? MT_OK : db_fail(c, err, rc);
}

enum mt_error store_role_perm_remove(struct store *s, int64_t id, struct mt_err *err)
{
	struct role_job j = {.id = id, .op = 4};
	return store_write(s, role_job, &j, err);
}

enum mt_error store_role_perm_update(struct store *s, int64_t id, const char *perm, struct mt_err *err)
{
	struct role_job j = {.id = id, .perm = perm, .op = 5};
	return store_write(s, role_job, &j, err);
}

enum mt_error store_role_assign(struct store *s, int64_t user_id, int64_t role_id, struct mt_role_assignment *out,
                                struct mt_err *err)
{
	struct role_job j = {.id = user_id, .id2 = role_id, .op = 6};
	if (store_write(s, role_job, &j, err) != MT_OK)
		return err->code;
	out->id = j.id;
	out->user_id = user_id;
	out->role_id = role_id;
	return MT_OK;
}

enum mt_error store_role_unassign(struct store *s, int64_t user_id, int64_t role_id, struct mt_err *err)
{
	struct role_job j = {.id = user_id, .id2 = role_id, .op = 7};
	return store_write(s, role_job, &j, err);
}

enum mt_error store_user_roles(struct store *s, struct arena *a, int64_t user_id, struct mt_role **out, size_t *n,
                               struct mt_err *err)
{
	struct store_conn *c = store_reader(s);
	sqlite3_stmt *st = db_stmt(c, SQL_USER_ROLES, err);
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, user_id);
	return read_roles(c, a, st, out, n, err);
}

enum mt_error store_role_users(struct store *s, struct arena *a, int64_t role_id, struct mt_role_assignment **out,
                               size_t *n, struct mt_err *err)
{
	struct store_conn *c = store_reader(s);
	if (role_exists(c, role_id, err) != MT_OK)
		return err->code;
	sqlite3_stmt *st = db_stmt(c, SQL_ROLE_USERS, err);
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, role_id);
	size_t cap = 8, cnt = 0;
	struct mt_role_assignment *v = arena_alloc(a, cap * sizeof *v);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		v = arena_grow(a, v, cnt, &cap, sizeof *v);
		v[cnt].id = sqlite3_column_int64(st, 0);
		v[cnt].user_id = sqlite3_column_int64(st, 1);
		v[cnt].role_id = sqlite3_column_int64(st, 2);
		cnt++;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return db_fail(c, err, rc);
	*out = v;
	*n = cnt;
	return MT_OK;
}

enum mt_error store_acl_rows(struct store *s, struct arena *a, int64_t user_id, const char *type, const char *id,
                             struct mt_acl_row **out, size_t *n, bool *ws_admin, struct mt_err *err)
{
	struct store_conn *c = store_reader(s);
	sqlite3_stmt *st = db_stmt(c, SQL_ACL_ROWS, err);
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, user_id);
	db_bind_text(st, 2, type);
	db_bind_text(st, 3, id);
	size_t cap = 4, cnt = 0;
	struct mt_acl_row *v = arena_alloc(a, cap * sizeof *v);
	*ws_admin = false;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(st, 0);
		if (t && strcmp(t, "workspace") == 0 && strcmp(type, "workspace") != 0) {
			*ws_admin = true;
			continue;
		}
		v = arena_grow(a, v, cnt, &cap, sizeof *v);
		v[cnt].resource_type = db_col_text(a, st, 0);
		v[cnt].resource_pattern = db_col_text(a, st, 1);
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

/* ---- tokens ---- */

static const char SQL_TOKEN_LIST[] =
	"SELECT id, name, created_at, expires_at, revoked_at FROM tokens WHERE user_id = ?1 ORDER BY id";
static const char SQL_TOKEN_REVOKE[] =
	"UPDATE tokens SET revoked_at = COALESCE(revoked_at, ?3) WHERE id = ?2 AND user_id = ?1";

struct token_job2 {
	int64_t user_id, token_id;
};

static enum mt_error token_revoke_job(struct store_conn *c, void *arg, struct mt_err *err)
{
	struct token_job2 *j = arg;
	sqlite3_stmt *st = db_stmt(c, SQL_TOKEN_REVOKE, err);
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, j->user_id);
	sqlite3_bind_int64(st, 2, j->token_id);
	sqlite3_bind_int64(st, 3, mt_now_ms());
	if (db_exec_stmt(c, st, err) != MT_OK)
		return err->code;
	if (sqlite3_changes(c->db) == 0)
		return mt_fail(err, MT_RESOURCE_DOES_NOT_EXIST, "Token with id=%lld not found for this user",
		               (long long)j->token_id);
	return MT_OK;
}

enum mt_error store_token_revoke(struct store *s, int64_t user_id, int64_t token_id, struct mt_err *err)
{
	struct token_job2 j = {user_id, token_id};
	return store_write(s, token_revoke_job, &j, err);
}

static enum mt_error token_create_job(struct store_conn *c, void *arg, struct mt_err *err)
{
	struct token_job *j = arg;
	if (token_job(c, arg, err) != MT_OK)
		return err->code;
	j->user_id = sqlite3_last_insert_rowid(c->db); /* handed back as the new token's id */
	return MT_OK;
}

enum mt_error store_token_create_id(struct store *s, int64_t user_id, const char *token_hash, const char *name,
                                    int64_t expires_at, int64_t *id, struct mt_err *err)
{
	struct token_job j = {user_id, expires_at, token_hash, name};
	if (store_write(s, token_create_job, &j, err) != MT_OK)
		return err->code;
	*id = j.user_id;
	return MT_OK;
}

static int64_t col_i64_or0(sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? 0 : sqlite3_column_int64(st, i);
}

enum mt_error store_token_list(struct store *s, struct arena *a, int64_t user_id, struct mt_token **out, size_t *n,
                               struct mt_err *err)
{
	struct store_conn *c = store_reader(s);
	sqlite3_stmt *st = db_stmt(c, SQL_TOKEN_LIST, err);
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, user_id);
	size_t cap = 8, cnt = 0;
	struct mt_token *v = arena_alloc(a, cap * sizeof *v);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		v = arena_grow(a, v, cnt, &cap, sizeof *v);
		v[cnt].id = sqlite3_column_int64(st, 0);
		v[cnt].name = db_col_text(a, st, 1);
		v[cnt].created_at = col_i64_or0(st, 2);
		v[cnt].expires_at = col_i64_or0(st, 3);
		v[cnt].revoked_at = col_i64_or0(st, 4);
		cnt++;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return db_fail(c, err, rc);
	*out = v;
	*n = cnt;
	return MT_OK;
}

static const char SQL_MV_STAGE[] =
	"SELECT mv.current_stage FROM model_versions mv JOIN registered_models m ON m.model_pk = mv.model_pk"
	" WHERE m.name = ?1 AND mv.version = ?2";

enum mt_error store_acl_version_stage(struct store *s, struct arena *a, const char *name, int64_t version,
                                      const char **stage, struct mt_err *err)
{
	struct store_conn *c = store_reader(s);
	sqlite3_stmt *st = db_stmt(c, SQL_MV_STAGE, err);
	if (!st)
		return err->code;
	db_bind_text(st, 1, name);
	sqlite3_bind_int64(st, 2, version);
	int rc = sqlite3_step(st);
	*stage = rc == SQLITE_ROW ? db_col_text(a, st, 0) : NULL;
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? MT_OK : db_fail(c, err, rc);
}
