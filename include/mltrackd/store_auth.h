/* SPDX-License-Identifier: Apache-2.0 */
/* store_auth.h: users, tokens, grants, and the lookups the ACL needs to find which experiment a run or
 * artifact path belongs to. Results live in the caller's arena. */
#ifndef MLTRACKD_STORE_AUTH_H
#define MLTRACKD_STORE_AUTH_H

#include <stdbool.h>
#include <stdint.h>

#include "mltrackd/arena.h"
#include "mltrackd/store.h"

struct mt_user {
	int64_t id;
	const char *username;
	const char *password_hash;
	bool is_admin;
};

struct mt_grant {
	const char *resource_type;
	const char *resource_id;
	const char *permission;
};

enum mt_error store_user_count(struct store *s, int64_t *n, struct mt_err *err);
/* Duplicate username -> RESOURCE_ALREADY_EXISTS. */
enum mt_error store_user_create(struct store *s, const char *username, const char *password_hash, bool is_admin,
                                int64_t *id, struct mt_err *err);
/* Unknown -> RESOURCE_DOES_NOT_EXIST. */
enum mt_error store_user_get(struct store *s, struct arena *a, const char *username, struct mt_user *out,
                             struct mt_err *err);
enum mt_error store_user_list(struct store *s, struct arena *a, struct mt_user **out, size_t *n, struct mt_err *err);
enum mt_error store_user_set_password(struct store *s, const char *username, const char *password_hash,
                                      struct mt_err *err);
enum mt_error store_user_set_admin(struct store *s, const char *username, bool is_admin, struct mt_err *err);
enum mt_error store_user_delete(struct store *s, const char *username, struct mt_err *err);

enum mt_error store_token_create(struct store *s, int64_t user_id, const char *token_hash, const char *name,
                                 int64_t expires_at, struct mt_err *err);
/* The user owning an unrevoked, unexpired token hash; none -> RESOURCE_DOES_NOT_EXIST. */
enum mt_error store_token_user(struct store *s, struct arena *a, const char *token_hash, struct mt_user *out,
                               struct mt_err *err);

/* Upserts a grant (user must exist). */
enum mt_error store_grant_set(struct store *s, int64_t user_id, const char *type, const char *id, const char *perm,
                              struct mt_err *err);
enum mt_error store_grant_delete(struct store *s, int64_t user_id, const char *type, const char *id,
                                 struct mt_err *err);
/* The grant's permission, or NULL when none (MT_OK). */
enum mt_error store_grant_get(struct store *s, struct arena *a, int64_t user_id, const char *type, const char *id,
                              const char **perm, struct mt_err *err);
enum mt_error store_grant_list(struct store *s, struct arena *a, int64_t user_id, struct mt_grant **out, size_t *n,
                               struct mt_err *err);
/* Moves registered-model grants to a new name, or drops them. */
enum mt_error store_grant_rename(struct store *s, const char *type, const char *old_id, const char *new_id,
                                 struct mt_err *err);

/* ---- roles (MLflow 3.17 RBAC); a user's direct grants are its synthetic role "__user_<id>__" ---- */
struct mt_role_perm {
	int64_t id, role_id;
	const char *resource_type, *resource_pattern, *permission;
};
struct mt_role {
	int64_t id;
	const char *name, *workspace, *description; /* description may be NULL */
	struct mt_role_perm *perms;
	size_t n_perms;
};
struct mt_role_assignment {
	int64_t id, user_id, role_id;
};
/* A grant row as the ACL folds it: (type, pattern, permission) from any role the user holds. */
struct mt_acl_row {
	const char *resource_type, *resource_pattern, *permission;
};

/* Duplicate (workspace, name) -> RESOURCE_ALREADY_EXISTS. */
enum mt_error store_role_create(struct store *s, struct arena *a, const char *name, const char *workspace,
                                const char *description, struct mt_role *out, struct mt_err *err);
/* Unknown -> RESOURCE_DOES_NOT_EXIST "Role with id=N not found". */
enum mt_error store_role_get(struct store *s, struct arena *a, int64_t id, struct mt_role *out, struct mt_err *err);
/* workspaces NULL: every role; else those in the n_ws workspaces. */
enum mt_error store_role_list(struct store *s, struct arena *a, const char *const *workspaces, size_t n_ws,
                              struct mt_role **out, size_t *n, struct mt_err *err);
enum mt_error store_role_update(struct store *s, int64_t id, const char *name, const char *description,
                                struct mt_err *err);
enum mt_error store_role_delete(struct store *s, int64_t id, struct mt_err *err);
enum mt_error store_role_perm_add(struct store *s, int64_t role_id, const char *type, const char *pattern,
                                  const char *perm, int64_t *id, struct mt_err *err);
enum mt_error store_role_perm_get(struct store *s, struct arena *a, int64_t id, struct mt_role_perm *out,
                                  struct mt_err *err);
enum mt_error store_role_perm_remove(struct store *s, int64_t id, struct mt_err *err);
enum mt_error store_role_perm_update(struct store *s, int64_t id, const char *perm, struct mt_err *err);
/* Duplicate -> RESOURCE_ALREADY_EXISTS; unknown role -> RESOURCE_DOES_NOT_EXIST. */
enum mt_error store_role_assign(struct store *s, int64_t user_id, int64_t role_id, struct mt_role_assignment *out,
                                struct mt_err *err);
enum mt_error store_role_unassign(struct store *s, int64_t user_id, int64_t role_id, struct mt_err *err);
enum mt_error store_user_roles(struct store *s, struct arena *a, int64_t user_id, struct mt_role **out, size_t *n,
                               struct mt_err *err);
enum mt_error store_role_users(struct store *s, struct arena *a, int64_t role_id, struct mt_role_assignment **out,
                               size_t *n, struct mt_err *err);
/* Inserts a direct grant into the user's synthetic role; an existing one -> RESOURCE_ALREADY_EXISTS when
 * !upsert. Deleting a missing one -> RESOURCE_DOES_NOT_EXIST. */
enum mt_error store_grant_add(struct store *s, int64_t user_id, const char *type, const char *id, const char *perm,
                              bool upsert, struct mt_err *err);

/* Every grant of the user (through any role) on `type` matching `id` exactly or '*' (id NULL: every pattern);
 * *ws_admin is set when the user holds MANAGE on ('workspace', '*'). */
enum mt_error store_acl_rows(struct store *s, struct arena *a, int64_t user_id, const char *type, const char *id,
                             struct mt_acl_row **out, size_t *n, bool *ws_admin, struct mt_err *err);

/* ---- tokens ---- */
struct mt_token {
	int64_t id;
	const char *name;
	int64_t created_at, expires_at, revoked_at; /* 0 = none */
};
enum mt_error store_token_create_id(struct store *s, int64_t user_id, const char *token_hash, const char *name,
                                    int64_t expires_at, int64_t *id, struct mt_err *err);
enum mt_error store_token_list(struct store *s, struct arena *a, int64_t user_id, struct mt_token **out, size_t *n,
                               struct mt_err *err);
/* Revokes the user's token; unknown or someone else's -> RESOURCE_DOES_NOT_EXIST. */
enum mt_error store_token_revoke(struct store *s, int64_t user_id, int64_t token_id, struct mt_err *err);

/* Experiment of a run (by uuid) and of an experiment name; -1 when unknown. */
enum mt_error store_acl_run_experiment(struct store *s, const char *run_uuid, int64_t *exp, struct mt_err *err);
/* Current stage of a model version; NULL when unknown. */
enum mt_error store_acl_version_stage(struct store *s, struct arena *a, const char *name, int64_t version,
                                      const char **stage, struct mt_err *err);
enum mt_error store_acl_experiment_by_name(struct store *s, const char *name, int64_t *exp, struct mt_err *err);

#endif
