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

/* Experiment of a run (by uuid) and of an experiment name; -1 when unknown. */
enum mt_error store_acl_run_experiment(struct store *s, const char *run_uuid, int64_t *exp, struct mt_err *err);
enum mt_error store_acl_experiment_by_name(struct store *s, const char *name, int64_t *exp, struct mt_err *err);

#endif
