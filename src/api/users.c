/* SPDX-License-Identifier: Apache-2.0 */
/* users.c: the user-management API of MLflow's basic-auth app (users create/get/current/list/
 * update-password/update-admin/delete) and its 3.x per-user grants (users/permissions grant/revoke/get).
 * Who may call what is declared in the route table; the self-or-admin rules live here. */
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"
#include "mltrackd/acl.h"
#include "mltrackd/auth.h"
#include "mltrackd/store_auth.h"

static void write_user(struct jw *w, const struct mt_user *u)
{
	jw_obj_open(w);
	jw_kv_int(w, "id", u->id);
	jw_kv_str(w, "username", u->username);
	jw_kv_bool(w, "is_admin", u->is_admin);
	jw_obj_close(w);
}

/* With authentication off every caller is treated as an admin (the server is open). */
static bool caller_is_admin(struct mt_request *req) { return !req->srv->cfg->auth_enabled || req->is_admin; }

static bool caller_is(struct mt_request *req, const char *username)
{
	return req->principal && username && strcmp(req->principal, username) == 0;
}

static enum mt_error check_password(const char *pw, struct mt_err *err)
{
	if (strlen(pw) < AUTH_MIN_PASSWORD_LENGTH)
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "Password must be at least %d characters long.",
		               AUTH_MIN_PASSWORD_LENGTH);
	return MT_OK;
}

MT_HANDLER(api_users_create)
{
	const char *username = NULL, *password = NULL;
	if (json_get_str(req->args, "username", true, &username, err) != MT_OK ||
	    json_get_str(req->args, "password", true, &password, err) != MT_OK || check_password(password, err) != MT_OK)
		return err->code;
	if (strlen(username) > 255)
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "'username' exceeds the maximum length of 255 characters");
	char *hash = auth_password_hash_new(password, AUTH_PBKDF2_ITERATIONS);
	int64_t id = 0;
	enum mt_error rc = store_user_create(req->srv->store, username, hash, false, &id, err);
	free(hash);
	if (rc != MT_OK)
		return rc;
	struct mt_user u = {id, username, NULL, false};
	struct jw *w = http_reply_json(req, resp);
	jw_key(w, "user");
	write_user(w, &u);
	http_reply_json_end(w);
	return MT_OK;
}

MT_HANDLER(api_users_get)
{
	const char *username = NULL;
	struct mt_user u;
	if (json_get_str(req->args, "username", true, &username, err) != MT_OK)
		return err->code;
	if (!caller_is_admin(req) && !caller_is(req, username))
		return mt_fail(err, MT_PERMISSION_DENIED, "Permission denied");
	if (store_user_get(req->srv->store, req->arena, username, &u, err) != MT_OK)
		return err->code;
	struct jw *w = http_reply_json(req, resp);
	jw_key(w, "user");
	write_user(w, &u);
	http_reply_json_end(w);
	return MT_OK;
}

MT_HANDLER(api_users_current)
{
	struct mt_user u;
	if (!req->principal)
		return mt_fail(err, MT_UNAUTHENTICATED, "Authentication is not enabled on this server");
	if (store_user_get(req->srv->store, req->arena, req->principal, &u, err) != MT_OK)
		return err->code;
	struct jw *w = http_reply_json(req, resp);
	jw_key(w, "user");
	write_user(w, &u);
	http_reply_json_end(w);
	return MT_OK;
}

/* Any authenticated user may list the roster, as MLflow 3.17 (without workspaces); each user's roles are shown
 * only to admins and to that user. */
MT_HANDLER(api_users_list)
{
	struct mt_user *v;
	size_t n;
	if (store_user_list(req->srv->store, req->arena, &v, &n, err) != MT_OK)
		return err->code;
	struct jw *w = http_reply_json(req, resp);
	jw_key(w, "users");
	jw_arr_open(w);
	for (size_t i = 0; i < n; i++) {
		struct mt_role *roles = NULL;
		size_t nr = 0;
		if ((caller_is_admin(req) || caller_is(req, v[i].username)) &&
		    store_user_roles(req->srv->store, req->arena, v[i].id, &roles, &nr, err) != MT_OK)
			return err->code;
		jw_obj_open(w);
		jw_kv_int(w, "id", v[i].id);
		jw_kv_str(w, "username", v[i].username);
		jw_kv_bool(w, "is_admin", v[i].is_admin);
		jw_key(w, "roles");
		jw_arr_open(w);
		for (size_t k = 0; k < nr; k++) {
			jw_obj_open(w);
			jw_key(w, "description");
			if (roles[k].description)
				jw_str(w, roles[k].description);
			else
				jw_null(w);
			jw_kv_int(w, "id", roles[k].id);
			jw_kv_str(w, "name", roles[k].name);
			jw_key(w, "permissions");
			jw_arr_open(w);
			for (size_t p = 0; p < roles[k].n_perms; p++) {
				jw_obj_open(w);
				jw_kv_int(w, "id", roles[k].perms[p].id);
				jw_kv_str(w, "permission", roles[k].perms[p].permission);
				jw_kv_str(w, "resource_pattern", roles[k].perms[p].resource_pattern);
				jw_kv_str(w, "resource_type", roles[k].perms[p].resource_type);
				jw_kv_int(w, "role_id", roles[k].perms[p].role_id);
				jw_obj_close(w);
			}
			jw_arr_close(w);
			jw_kv_str(w, "workspace", roles[k].workspace);
			jw_obj_close(w);
		}
		jw_arr_close(w);
		jw_obj_close(w);
	}
	jw_arr_close(w);
	http_reply_json_end(w);
	return MT_OK;
}

MT_HANDLER(api_users_update_password)
{
	const char *username = NULL, *password = NULL, *current = NULL;
	if (json_get_str(req->args, "username", true, &username, err) != MT_OK ||
	    json_get_str(req->args, "password", true, &password, err) != MT_OK ||
	    json_get_str(req->args, "current_password", false, &current, err) != MT_OK ||
	    check_password(password, err) != MT_OK)
		return err->code;
	if (caller_is(req, username)) {
		/* Self-service re-asserts the current password, as MLflow does, so a stolen session cannot rotate it. */
		struct mt_user u;
		if (!current || !current[0])
			return mt_fail(err, MT_INVALID_PARAMETER_VALUE,
			               "Current password is required when changing your own password.");
		if (store_user_get(req->srv->store, req->arena, username, &u, err) != MT_OK)
			return err->code;
		if (!auth_password_verify(current, u.password_hash))
			return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "Current password is incorrect.");
	} else if (!caller_is_admin(req)) {
		return mt_fail(err, MT_PERMISSION_DENIED, "Permission denied");
	}
	char *hash = auth_password_hash_new(password, AUTH_PBKDF2_ITERATIONS);
	enum mt_error rc = store_user_set_password(req->srv->store, username, hash, err);
	free(hash);
	if (rc != MT_OK)
		return rc;
	acl_invalidate_credentials();
	http_reply_empty(resp);
	return MT_OK;
}

MT_HANDLER(api_users_update_admin)
{
	const char *username = NULL;
	bool is_admin = false;
	if (json_get_str(req->args, "username", true, &username, err) != MT_OK ||
	    json_get_bool(req->args, "is_admin", true, &is_admin, NULL, err) != MT_OK ||
	    store_user_set_admin(req->srv->store, username, is_admin, err) != MT_OK)
		return err->code;
	acl_invalidate_credentials();
	http_reply_empty(resp);
	return MT_OK;
}

MT_HANDLER(api_users_delete)
{
	const char *username = NULL;
	if (json_get_str(req->args, "username", true, &username, err) != MT_OK)
		return err->code;
	if (caller_is(req, username))
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE,
		               "Users cannot delete their own account. Ask another admin to delete this user instead.");
	if (store_user_delete(req->srv->store, username, err) != MT_OK)
		return err->code;
	acl_invalidate_credentials();
	http_reply_empty(resp);
	return MT_OK;
}

/* ---- 3.17 per-user grants: users/permissions/{grant,revoke,get,list}, users/current/permissions ---- */

static enum mt_error reject_workspace_type(const char *type, struct mt_err *err)
{
	if (strcmp(type, "workspace") == 0)
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE,
		               "resource_type 'workspace' is not supported by the per-user permission convenience APIs. Use "
		               "set_workspace_permission / delete_workspace_permission for workspace-wide grants.");
	return MT_OK;
}

static enum mt_error read_grant_target(struct mt_request *req, const char **user, const char **type, const char **id,
                                       const char **perm, struct mt_user *u, struct mt_err *err)
{
	if (json_get_str(req->args, "username", true, user, err) != MT_OK ||
	    json_get_str(req->args, "resource_type", true, type, err) != MT_OK ||
	    json_get_str(req->args, "resource_id", true, id, err) != MT_OK ||
	    (perm && json_get_str(req->args, "permission", true, perm, err) != MT_OK))
		return err->code;
	if (store_user_get(req->srv->store, req->arena, *user, u, err) != MT_OK)
		return err->code;
	return reject_workspace_type(*type, err);
}

MT_HANDLER(api_users_permissions_grant)
{
	const char *user, *type, *id, *perm = NULL;
	struct mt_user u;
	if (read_grant_target(req, &user, &type, &id, &perm, &u, err) != MT_OK || acl_validate_pattern(type, id, err) != MT_OK ||
	    acl_validate_permission(perm, type, err) != MT_OK)
		return err->code;
	if (store_grant_add(req->srv->store, u.id, type, id, perm, false, err) != MT_OK) {
		if (err->code == MT_RESOURCE_ALREADY_EXISTS)
			mt_fail(err, MT_RESOURCE_ALREADY_EXISTS,
			        "Permission for user=%.200s on resource_type=%.100s, resource_id=%.200s already exists.", user, type,
			        id);
		return err->code;
	}
	http_reply_empty(resp);
	return MT_OK;
}

MT_HANDLER(api_users_permissions_revoke)
{
	const char *user, *type, *id;
	struct mt_user u;
	if (read_grant_target(req, &user, &type, &id, NULL, &u, err) != MT_OK || acl_validate_type(type, err) != MT_OK)
		return err->code;
	if (store_grant_delete(req->srv->store, u.id, type, id, err) != MT_OK) {
		if (err->code == MT_RESOURCE_DOES_NOT_EXIST)
			mt_fail(err, MT_RESOURCE_DOES_NOT_EXIST,
			        "Permission for user=%.200s on resource_type=%.100s, resource_id=%.200s not found.", user, type, id);
		return err->code;
	}
	http_reply_empty(resp);
	return MT_OK;
}

MT_HANDLER(api_users_permissions_get)
{
	const char *user, *type, *id;
	struct mt_user u;
	if (json_get_str(req->args, "username", true, &user, err) != MT_OK)
		return err->code;
	if (!caller_is_admin(req) && !caller_is(req, user))
		return mt_fail(err, MT_PERMISSION_DENIED, "Permission denied");
	if (read_grant_target(req, &user, &type, &id, NULL, &u, err) != MT_OK || acl_validate_type(type, err) != MT_OK)
		return err->code;
	if (strcmp(id, "*") != 0 && strcmp(type, "experiment") != 0 && strcmp(type, "registered_model") != 0)
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE,
		               "resource_type '%.100s' is not supported by the per-user permission convenience APIs.", type);
	/* evaluated exactly as a request of that user would be */
	enum acl_level lvl = acl_level_of_user(req, u.id, u.is_admin, type, id);
	struct jw *w = http_reply_json(req, resp);
	jw_kv_bool(w, "allowed", lvl >= ACL_USE);
	jw_kv_str(w, "permission", acl_level_name(lvl));
	http_reply_json_end(w);
	return MT_OK;
}

/* Every grant the user holds through any role, MLflow's rows. */
static enum mt_error reply_user_permissions(struct mt_request *req, struct mt_response *resp, const struct mt_user *u,
                                            struct mt_err *err)
{
	struct mt_role *roles;
	size_t n;
	if (store_user_roles(req->srv->store, req->arena, u->id, &roles, &n, err) != MT_OK)
		return err->code;
	struct jw *w = http_reply_json(req, resp);
	jw_kv_bool(w, "is_admin", u->is_admin);
	jw_key(w, "permissions");
	jw_arr_open(w);
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < roles[i].n_perms; k++) {
			const struct mt_role_perm *p = &roles[i].perms[k];
			jw_obj_open(w);
			jw_kv_str(w, "permission", p->permission);
			jw_kv_str(w, "resource_pattern", p->resource_pattern);
			jw_kv_str(w, "resource_type", p->resource_type);
			jw_kv_int(w, "role_id", roles[i].id);
			jw_kv_str(w, "role_name", roles[i].name);
			jw_kv_str(w, "workspace", roles[i].workspace);
			jw_obj_close(w);
		}
	jw_arr_close(w);
	http_reply_json_end(w);
	return MT_OK;
}

MT_HANDLER(api_users_permissions_list)
{
	const char *user = NULL;
	struct mt_user u;
	if (json_get_str(req->args, "username", true, &user, err) != MT_OK)
		return err->code;
	if (!caller_is_admin(req) && !caller_is(req, user))
		return mt_fail(err, MT_PERMISSION_DENIED, "Permission denied");
	if (store_user_get(req->srv->store, req->arena, user, &u, err) != MT_OK)
		return err->code;
	return reply_user_permissions(req, resp, &u, err);
}

MT_HANDLER(api_users_current_permissions)
{
	struct mt_user u;
	if (!req->principal)
		return mt_fail(err, MT_UNAUTHENTICATED, "Authentication is not enabled on this server");
	if (store_user_get(req->srv->store, req->arena, req->principal, &u, err) != MT_OK)
		return err->code;
	return reply_user_permissions(req, resp, &u, err);
}
