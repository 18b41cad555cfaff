/* SPDX-License-Identifier: Apache-2.0 */
/* roles.c: MLflow 3.17's role API (roles create/get/list/update/delete, role permissions add/remove/list/update,
 * assign/unassign, users/roles/list, roles/users/list) and the older experiments/permissions/{create,get,update,delete} and
 * registered-models/permissions/{...} of earlier 3.x clients. Who may call is declared in the route table. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"
#include "mltrackd/acl.h"
#include "mltrackd/store_auth.h"
#include "mltrackd/util.h"

static void write_role_perm(struct jw *w, const struct mt_role_perm *p)
{
	jw_obj_open(w);
	jw_kv_int(w, "id", p->id);
	jw_kv_str(w, "permission", p->permission);
	jw_kv_str(w, "resource_pattern", p->resource_pattern);
	jw_kv_str(w, "resource_type", p->resource_type);
	jw_kv_int(w, "role_id", p->role_id);
	jw_obj_close(w);
}

static void write_role(struct jw *w, const struct mt_role *r)
{
	jw_obj_open(w);
	jw_key(w, "description");
	if (r->description)
		jw_str(w, r->description);
	else
		jw_null(w);
	jw_kv_int(w, "id", r->id);
	jw_kv_str(w, "name", r->name);
	jw_key(w, "permissions");
	jw_arr_open(w);
	for (size_t i = 0; i < r->n_perms; i++)
		write_role_perm(w, &r->perms[i]);
	jw_arr_close(w);
	jw_kv_str(w, "workspace", r->workspace);
	jw_obj_close(w);
}

static enum mt_error reply_role(struct mt_request *req, struct mt_response *resp, const struct mt_role *r)
{
	struct jw *w = http_reply_json(req, resp);
	jw_key(w, "role");
	write_role(w, r);
	http_reply_json_end(w);
	return MT_OK;
}

static enum mt_error reply_roles(struct mt_request *req, struct mt_response *resp, const struct mt_role *v, size_t n)
{
	struct jw *w = http_reply_json(req, resp);
	jw_key(w, "roles");
	jw_arr_open(w);
	for (size_t i = 0; i < n; i++)
		write_role(w, &v[i]);
	jw_arr_close(w);
	http_reply_json_end(w);
	return MT_OK;
}

/* MLflow's _get_int_request_param: missing -> the required-parameter error; not an integer -> its message. */
static enum mt_error int_param(struct mt_request *req, const char *name, int64_t *out, struct mt_err *err)
{
	const cJSON *v = json_field(req->args, name);
	if (v == NULL || cJSON_IsNull(v) || (cJSON_IsString(v) && v->valuestring[0] == '\0'))
		return json_fail_missing(err, name);
	if (cJSON_IsNumber(v) && v->valuedouble == (double)(int64_t)v->valuedouble) {
		*out = (int64_t)v->valuedouble;
		return MT_OK;
	}
	if (cJSON_IsString(v)) {
		const char *s = v->valuestring;
		while (*s == ' ')
			s++;
		if (mt_parse_i64(s, out))
			return MT_OK;
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "Parameter '%s' must be an integer. Got: '%.100s'", name,
		               v->valuestring);
	}
	return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "Parameter '%s' must be an integer.", name);
}

static bool blank(const char *s)
{
	if (!s)
		return true;
	while (*s == ' ' || *s == '\t' || *s == '\n')
		s++;
	return *s == '\0';
}

static enum mt_error check_role_name(const char *name, struct mt_err *err)
{
	if (strncmp(name, "__user_", 7) == 0)
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE,
		               "Role name '%.200s' uses the reserved '__user_' prefix, which is held for the per-user "
		               "permission representation. Choose a different name.",
		               name);
	return MT_OK;
}

/* An optional string field that may be null; a non-string is refused with `msg`. */
static enum mt_error opt_str(struct mt_request *req, const char *name, const char **out, const char *msg,
                             struct mt_err *err)
{
	const cJSON *v = json_field(req->args, name);
	*out = NULL;
	if (v == NULL || cJSON_IsNull(v))
		return MT_OK;
	if (!cJSON_IsString(v))
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "%s", msg);
	*out = v->valuestring;
	return MT_OK;
}

MT_HANDLER(api_roles_create)
{
	const char *name = NULL, *ws = NULL, *desc = NULL;
	const cJSON *n = json_field(req->args, "name"), *wv = json_field(req->args, "workspace");
	if (!n || cJSON_IsNull(n))
		return json_fail_missing(err, "name");
	if (!wv || cJSON_IsNull(wv))
		return json_fail_missing(err, "workspace");
	name = cJSON_IsString(n) ? n->valuestring : NULL;
	ws = cJSON_IsString(wv) ? wv->valuestring : NULL;
	if (blank(name))
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "Role name cannot be empty.");
	if (blank(ws))
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "Workspace cannot be empty.");
	if (opt_str(req, "description", &desc, "Role description must be a string or null.", err) != MT_OK ||
	    check_role_name(name, err) != MT_OK)
		return err->code;
	struct mt_role r;
	if (store_role_create(req->srv->store, req->arena, name, ws, desc, &r, err) != MT_OK)
		return err->code;
	return reply_role(req, resp, &r);
}

MT_HANDLER(api_roles_get)
{
	int64_t id;
	struct mt_role r;
	if (int_param(req, "role_id", &id, err) != MT_OK || store_role_get(req->srv->store, req->arena, id, &r, err) != MT_OK)
		return err->code;
	return reply_role(req, resp, &r);
}

MT_HANDLER(api_roles_list)
{
	const cJSON *wv = json_field(req->args, "workspace");
	const char **ws = NULL;
	size_t n_ws = 0;
	if (wv) {
		size_t cap = cJSON_IsArray(wv) ? (size_t)cJSON_GetArraySize(wv) : 1;
		ws = arena_alloc(req->arena, (cap ? cap : 1) * sizeof *ws);
		const cJSON *it = cJSON_IsArray(wv) ? wv->child : wv;
		for (; it; it = cJSON_IsArray(wv) ? it->next : NULL) {
			if (!cJSON_IsString(it) || blank(it->valuestring))
				return mt_fail(err, MT_INVALID_PARAMETER_VALUE,
				               "Parameter 'workspace' must be a non-empty string when provided.");
			ws[n_ws++] = it->valuestring;
		}
	}
	struct mt_role *v;
	size_t n;
	if (store_role_list(req->srv->store, req->arena, ws, n_ws, &v, &n, err) != MT_OK)
		return err->code;
	return reply_roles(req, resp, v, n);
}

MT_HANDLER(api_roles_update)
{
	int64_t id;
	const char *name = NULL, *desc = NULL;
	if (int_param(req, "role_id", &id, err) != MT_OK)
		return err->code;
	const cJSON *n = json_field(req->args, "name"), *d = json_field(req->args, "description");
	bool has_name = n && !cJSON_IsNull(n), has_desc = d && !cJSON_IsNull(d);
	if (!has_name && !has_desc)
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE,
		               "At least one of 'name' or 'description' must be provided to update a role.");
	if (has_name) {
		if (!cJSON_IsString(n) || blank(n->valuestring))
			return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "Role name cannot be empty.");
		name = n->valuestring;
	}
	if (has_desc) {
		if (!cJSON_IsString(d))
			return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "Role description must be a string.");
		desc = d->valuestring;
	}
	if (name && check_role_name(name, err) != MT_OK)
		return err->code;
	struct mt_role r;
	if (store_role_update(req->srv->store, id, name, desc, err) != MT_OK ||
	    store_role_get(req->srv->store, req->arena, id, &r, err) != MT_OK)
		return err->code;
	return reply_role(req, resp, &r);
}

MT_HANDLER(api_roles_delete)
{
	int64_t id;
	if (int_param(req, "role_id", &id, err) != MT_OK || store_role_delete(req->srv->store, id, err) != MT_OK)
		return err->code;
	http_reply_empty(resp);
	return MT_OK;
}

static enum mt_error reply_role_perm(struct mt_request *req, struct mt_response *resp, int64_t id, struct mt_err *err)
{
	struct mt_role_perm p;
	if (store_role_perm_get(req->srv->store, req->arena, id, &p, err) != MT_OK)
		return err->code;
	struct jw *w = http_reply_json(req, resp);
	jw_key(w, "role_permission");
	write_role_perm(w, &p);
	http_reply_json_end(w);
	return MT_OK;
}

MT_HANDLER(api_roles_permissions_add)
{
	int64_t role, id;
	const char *type = NULL, *pattern = NULL, *perm = NULL;
	if (int_param(req, "role_id", &role, err) != MT_OK ||
	    json_get_str(req->args, "resource_type", true, &type, err) != MT_OK ||
	    json_get_str(req->args, "resource_pattern", true, &pattern, err) != MT_OK ||
	    json_get_str(req->args, "permission", true, &perm, err) != MT_OK ||
	    acl_validate_permission(perm, type, err) != MT_OK || acl_validate_pattern(type, pattern, err) != MT_OK ||
	    store_role_perm_add(req->srv->store, role, type, pattern, perm, &id, err) != MT_OK)
		return err->code;
	return reply_role_perm(req, resp, id, err);
}

MT_HANDLER(api_roles_permissions_remove)
{
	int64_t id;
	if (int_param(req, "role_permission_id", &id, err) != MT_OK || store_role_perm_remove(req->srv->store, id, err) != MT_OK)
		return err->code;
	http_reply_empty(resp);
	return MT_OK;
}

MT_HANDLER(api_roles_permissions_list)
{
	int64_t id;
	struct mt_role r;
	if (int_param(req, "role_id", &id, err) != MT_OK || store_role_get(req->srv->store, req->arena, id, &r, err) != MT_OK)
		return err->code;
	struct jw *w = http_reply_json(req, resp);
	jw_key(w, "role_permissions");
	jw_arr_open(w);
	for (size_t i = 0; i < r.n_perms; i++)
		write_role_perm(w, &r.perms[i]);
	jw_arr_close(w);
	http_reply_json_end(w);
	return MT_OK;
}

MT_HANDLER(api_roles_permissions_update)
{
	int64_t id;
	const char *perm = NULL;
	struct mt_role_perm p;
	if (int_param(req, "role_permission_id", &id, err) != MT_OK ||
	    json_get_str(req->args, "permission", true, &perm, err) != MT_OK ||
	    store_role_perm_get(req->srv->store, req->arena, id, &p, err) != MT_OK ||
	    acl_validate_permission(perm, p.resource_type, err) != MT_OK ||
	    store_role_perm_update(req->srv->store, id, perm, err) != MT_OK)
		return err->code;
	return reply_role_perm(req, resp, id, err);
}

static void write_assignment(struct jw *w, const struct mt_role_assignment *a)
{
	jw_obj_open(w);
	jw_kv_int(w, "id", a->id);
	jw_kv_int(w, "role_id", a->role_id);
	jw_kv_int(w, "user_id", a->user_id);
	jw_obj_close(w);
}

MT_HANDLER(api_roles_assign)
{
	const char *user = NULL;
	int64_t role;
	struct mt_user u;
	struct mt_role_assignment a;
	if (json_get_str(req->args, "username", true, &user, err) != MT_OK || int_param(req, "role_id", &role, err) != MT_OK ||
	    store_user_get(req->srv->store, req->arena, user, &u, err) != MT_OK ||
	    store_role_assign(req->srv->store, u.id, role, &a, err) != MT_OK)
		return err->code;
	struct jw *w = http_reply_json(req, resp);
	jw_key(w, "assignment");
	write_assignment(w, &a);
	http_reply_json_end(w);
	return MT_OK;
}

MT_HANDLER(api_roles_unassign)
{
	const char *user = NULL;
	int64_t role;
	struct mt_user u;
	if (json_get_str(req->args, "username", true, &user, err) != MT_OK || int_param(req, "role_id", &role, err) != MT_OK ||
	    store_user_get(req->srv->store, req->arena, user, &u, err) != MT_OK ||
	    store_role_unassign(req->srv->store, u.id, role, err) != MT_OK)
		return err->code;
	http_reply_empty(resp);
	return MT_OK;
}

MT_HANDLER(api_users_roles_list)
{
	const char *user = NULL;
	struct mt_user u;
	struct mt_role *v;
	size_t n;
	if (json_get_str(req->args, "username", true, &user, err) != MT_OK)
		return err->code;
	bool self = req->principal && strcmp(req->principal, user) == 0;
	if (req->srv->cfg->auth_enabled && !req->is_admin && !self)
		return mt_fail(err, MT_PERMISSION_DENIED, "Permission denied");
	if (store_user_get(req->srv->store, req->arena, user, &u, err) != MT_OK ||
	    store_user_roles(req->srv->store, req->arena, u.id, &v, &n, err) != MT_OK)
		return err->code;
	return reply_roles(req, resp, v, n);
}

MT_HANDLER(api_roles_users_list)
{
	int64_t role;
	struct mt_role_assignment *v;
	size_t n;
	if (int_param(req, "role_id", &role, err) != MT_OK ||
	    store_role_users(req->srv->store, req->arena, role, &v, &n, err) != MT_OK)
		return err->code;
	struct jw *w = http_reply_json(req, resp);
	jw_key(w, "assignments");
	jw_arr_open(w);
	for (size_t i = 0; i < n; i++)
		write_assignment(w, &v[i]);
	jw_arr_close(w);
	http_reply_json_end(w);
	return MT_OK;
}

/* ---- the older per-resource API (MLflow 2.x - 3.16 clients): experiments/permissions/{create,get,update,delete} and
 * registered-models/permissions/{...}, stored as direct grants like users/permissions/grant ---- */

struct legacy {
	const char *type;     /* experiment | registered_model */
	const char *id_field; /* experiment_id | name */
	const char *reply;    /* experiment_permission | registered_model_permission */
	const char *label;    /* for messages */
};
static const struct legacy LEGACY_EXP = {"experiment", "experiment_id", "experiment_permission", "Experiment"};
static const struct legacy LEGACY_RM = {"registered_model", "name", "registered_model_permission", "Registered model"};

static const struct legacy *legacy_of(const struct mt_request *req)
{
	return strstr(req->route->pattern, "/registered-models/") ? &LEGACY_RM : &LEGACY_EXP;
}

static enum mt_error legacy_args(struct mt_request *req, const struct legacy *L, bool want_perm, const char **id,
                                 struct mt_user *u, const char **perm, struct mt_err *err)
{
	const char *user = NULL;
	if (json_get_str(req->args, L->id_field, true, id, err) != MT_OK ||
	    json_get_str(req->args, "username", true, &user, err) != MT_OK ||
	    (want_perm && json_get_str(req->args, "permission", true, perm, err) != MT_OK) ||
	    store_user_get(req->srv->store, req->arena, user, u, err) != MT_OK)
		return err->code;
	if (want_perm && acl_validate_permission(*perm, L->type, err) != MT_OK)
		return err->code;
	return MT_OK;
}

static void write_legacy(struct mt_request *req, struct mt_response *resp, const struct legacy *L, const char *id,
                         int64_t user_id, const char *perm)
{
	struct jw *w = http_reply_json(req, resp);
	jw_key(w, L->reply);
	jw_obj_open(w);
	jw_kv_str(w, L == &LEGACY_RM ? "name" : "experiment_id", id);
	jw_kv_int(w, "user_id", user_id);
	jw_kv_str(w, "permission", perm);
	if (L == &LEGACY_RM)
		jw_kv_str(w, "workspace", "default");
	jw_obj_close(w);
	http_reply_json_end(w);
}

static enum mt_error legacy_missing(struct mt_request *req, const struct legacy *L, const char *id, struct mt_err *err)
{
	return mt_fail(err, MT_RESOURCE_DOES_NOT_EXIST, "%s permission with %s=%.200s and username=%.200s not found",
	               L->label, L->id_field, id, json_field(req->args, "username")->valuestring);
}

MT_HANDLER(api_legacy_permissions_create)
{
	const struct legacy *L = legacy_of(req);
	const char *id, *perm;
	struct mt_user u;
	if (legacy_args(req, L, true, &id, &u, &perm, err) != MT_OK)
		return err->code;
	if (store_grant_add(req->srv->store, u.id, L->type, id, perm, false, err) != MT_OK) {
		if (err->code == MT_RESOURCE_ALREADY_EXISTS)
			mt_fail(err, MT_RESOURCE_ALREADY_EXISTS, "%s permission (%s=%.200s, username=%.200s) already exists.",
			        L->label, L->id_field, id, u.username);
		return err->code;
	}
	write_legacy(req, resp, L, id, u.id, perm);
	return MT_OK;
}

MT_HANDLER(api_legacy_permissions_get)
{
	const struct legacy *L = legacy_of(req);
	const char *id, *perm = NULL;
	struct mt_user u;
	if (legacy_args(req, L, false, &id, &u, NULL, err) != MT_OK ||
	    store_grant_get(req->srv->store, req->arena, u.id, L->type, id, &perm, err) != MT_OK)
		return err->code;
	if (!perm)
		return legacy_missing(req, L, id, err);
	write_legacy(req, resp, L, id, u.id, perm);
	return MT_OK;
}

MT_HANDLER(api_legacy_permissions_update)
{
	const struct legacy *L = legacy_of(req);
	const char *id, *perm, *old = NULL;
	struct mt_user u;
	if (legacy_args(req, L, true, &id, &u, &perm, err) != MT_OK ||
	    store_grant_get(req->srv->store, req->arena, u.id, L->type, id, &old, err) != MT_OK)
		return err->code;
	if (!old)
		return legacy_missing(req, L, id, err);
	if (store_grant_set(req->srv->store, u.id, L->type, id, perm, err) != MT_OK)
		return err->code;
	http_reply_empty(resp);
	return MT_OK;
}

MT_HANDLER(api_legacy_permissions_delete)
{
	const struct legacy *L = legacy_of(req);
	const char *id;
	struct mt_user u;
	if (legacy_args(req, L, false, &id, &u, NULL, err) != MT_OK)
		return err->code;
	if (store_grant_delete(req->srv->store, u.id, L->type, id, err) != MT_OK)
		return err->code == MT_RESOURCE_DOES_NOT_EXIST ? legacy_missing(req, L, id, err) : err->code;
	http_reply_empty(resp);
	return MT_OK;
}
