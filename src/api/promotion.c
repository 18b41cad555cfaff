/* SPDX-License-Identifier: Apache-2.0 */
/* promotion.c: governed promotion with Databricks' REST shapes: transition-requests create/list/approve/reject/
 * delete, comments create/update/delete, and a version's activity log. No SQL here; the route table's level is
 * checked by the ACL, the per-object rules (a request's creator, a comment's author) here. */
#include <string.h>

#include "api_internal.h"
#include "mltrackd/acl.h"
#include "mltrackd/store_promotion.h"
#include "mltrackd/validate.h"

/* Databricks' limit on comments: [1 .. 65535] characters. */
#define COMMENT_MAX 65535

static bool same_user(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

/* The caller's level on a registered model: everything with auth off, MANAGE for admins. */
static enum acl_level model_level(struct mt_request *req, const char *name)
{
	if (!req->srv || !req->srv->cfg->auth_enabled || req->is_admin)
		return ACL_MANAGE;
	return acl_level_for(req, "registered_model", name);
}

static enum mt_error read_comment(struct mt_request *req, bool required, const char **out, struct mt_err *err)
{
	*out = NULL;
	if (json_get_str(req->args, "comment", required, out, err) != MT_OK)
		return err->code;
	if (*out == NULL)
		return MT_OK;
	size_t n = strlen(*out);
	if (required && n == 0)
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "Missing value for required parameter 'comment'.");
	if (n > COMMENT_MAX)
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE,
		               "Parameter 'comment' is %zu characters long; the limit is %d.", n, COMMENT_MAX);
	return MT_OK;
}

static enum mt_error read_target(struct mt_request *req, const char **name, int64_t *version, const char **stage,
                                 struct mt_err *err)
{
	const char *stage_in;
	if (api_read_model_name(req, "name", name, err) != MT_OK || api_read_version(req, version, err) != MT_OK)
		return err->code;
	if (!stage)
		return MT_OK;
	if (json_get_str(req->args, "stage", true, &stage_in, err) != MT_OK)
		return err->code;
	return api_canonical_stage(req->arena, stage_in, stage, err);
}

/* Activity fields; NULL ones are omitted (proto3). */
static void write_activity_fields(struct jw *w, const struct mt_activity *a)
{
	jw_kv_str_opt(w, "id", a->id);
	jw_kv_str_opt(w, "activity_type", a->activity_type);
	jw_kv_str_opt(w, "from_stage", a->from_stage);
	jw_kv_str_opt(w, "to_stage", a->to_stage);
	jw_kv_str_opt(w, "comment", a->comment);
	jw_kv_str_opt(w, "system_comment", a->system_comment);
	jw_kv_str_opt(w, "user_id", a->user_id);
	jw_kv_int(w, "creation_timestamp", a->creation_timestamp);
	jw_kv_int(w, "last_updated_timestamp", a->last_updated_timestamp);
}

static void write_activities(struct jw *w, const char *field, const struct mt_activity *v, size_t n)
{
	if (n == 0)
		return;
	jw_key(w, field);
	jw_arr_open(w);
	for (size_t i = 0; i < n; i++) {
		jw_obj_open(w);
		write_activity_fields(w, &v[i]);
		jw_obj_close(w);
	}
	jw_arr_close(w);
}

static void reply_activity(struct mt_request *req, struct mt_response *resp, const char *field,
                           const struct mt_activity *a)
{
	struct jw *w = http_reply_json(req, resp);
	jw_key(w, field);
	jw_obj_open(w);
	write_activity_fields(w, a);
	jw_obj_close(w);
	http_reply_json_end(w);
}

/* ---- transition requests ---- */

MT_HANDLER(api_transition_requests_create)
{
	const char *name, *stage, *comment;
	int64_t version;
	if (read_target(req, &name, &version, &stage, err) != MT_OK || read_comment(req, false, &comment, err) != MT_OK)
		return err->code;
	struct registry_ctx x = api_registry_ctx(req);
	struct mt_activity a;
	if (store_tr_create(&x, name, version, stage, comment, &a, err) != MT_OK)
		return err->code;
	/* Databricks' TransitionRequest: what the caller may do with it next. Approving or rejecting needs the right
	 * to make this transition: EDIT under MLflow's rule, the registry level for the stage under
	 * --promotion-rule strict (the routes' check, acl.c). */
	bool can_resolve = model_level(req, name) >= ACL_EDIT &&
	                   acl_can_transition(req, name, arena_printf(req->arena, "%lld", (long long)version), stage);
	struct jw *w = http_reply_json(req, resp);
	jw_key(w, "request");
	jw_obj_open(w);
	write_activity_fields(w, &a);
	jw_key(w, "available_actions");
	jw_arr_open(w);
	if (can_resolve) {
		jw_str(w, "APPROVE_TRANSITION_REQUEST");
		jw_str(w, "REJECT_TRANSITION_REQUEST");
	}
	jw_str(w, "CANCEL_TRANSITION_REQUEST"); /* the caller is its creator */
	jw_arr_close(w);
	jw_obj_close(w);
	http_reply_json_end(w);
	return MT_OK;
}

MT_HANDLER(api_transition_requests_list)
{
	const char *name;
	int64_t version;
	struct mt_activity *v;
	size_t n;
	struct registry_ctx x = api_registry_ctx(req);
	if (read_target(req, &name, &version, NULL, err) != MT_OK || store_tr_list(&x, name, version, &v, &n, err) != MT_OK)
		return err->code;
	struct jw *w = http_reply_json(req, resp);
	write_activities(w, "requests", v, n);
	http_reply_json_end(w);
	return MT_OK;
}

static enum mt_error resolve(struct mt_request *req, struct mt_response *resp, enum tr_resolution what,
                             struct mt_err *err)
{
	struct tr_resolve in = {.what = what};
	bool present = false;
	if (read_target(req, &in.name, &in.version, &in.stage, err) != MT_OK ||
	    read_comment(req, false, &in.comment, err) != MT_OK)
		return err->code;
	if (what == TR_APPROVE) {
		/* required by Databricks' API, as a bool */
		if (json_get_bool(req->args, "archive_existing_versions", true, &in.archive, &present, err) != MT_OK)
			return err->code;
		if (in.archive && strcmp(in.stage, "Staging") != 0 && strcmp(in.stage, "Production") != 0)
			return mt_fail(err, MT_INVALID_PARAMETER_VALUE,
			               "Model version transition cannot archive existing model versions because '%.100s' is not "
			               "an Active stage. Valid stages are ['Staging', 'Production']",
			               in.stage);
	}
	if (what == TR_CANCEL) {
		/* Databricks requires `creator`; here it defaults to the caller. Only the creator, or a MANAGE holder,
		 * may cancel (the route declares READ: the level to see the request at all). */
		const char *creator = req->principal;
		if (json_get_str(req->args, "creator", false, &creator, err) != MT_OK)
			return err->code;
		if (creator && creator[0] == '\0' && !req->principal)
			creator = NULL;
		in.creator = creator;
		enum acl_level lvl = model_level(req, in.name);
		if (lvl < ACL_READ || (!same_user(creator, req->principal) && lvl < ACL_MANAGE))
			return mt_fail(err, MT_PERMISSION_DENIED,
			               "Permission denied: only the creator of a transition request or a user with MANAGE on "
			               "registered model '%.500s' may delete it",
			               in.name);
	}
	struct registry_ctx x = api_registry_ctx(req);
	struct mt_activity a;
	if (store_tr_resolve(&x, &in, &a, err) != MT_OK)
		return err->code;
	reply_activity(req, resp, "activity", &a);
	return MT_OK;
}

MT_HANDLER(api_transition_requests_approve) { return resolve(req, resp, TR_APPROVE, err); }
MT_HANDLER(api_transition_requests_reject) { return resolve(req, resp, TR_REJECT, err); }
MT_HANDLER(api_transition_requests_delete) { return resolve(req, resp, TR_CANCEL, err); }

/* Databricks' transition-stage with a comment: MLflow's transition, recorded as APPLIED_TRANSITION with the
 * comment; the answer is a ModelVersionDatabricks (here: the MLflow model version's fields). */
MT_HANDLER(api_databricks_transition_stage)
{
	const char *name, *stage, *comment;
	int64_t version;
	bool archive = false, present = false;
	if (read_target(req, &name, &version, &stage, err) != MT_OK || read_comment(req, false, &comment, err) != MT_OK ||
	    json_get_bool(req->args, "archive_existing_versions", true, &archive, &present, err) != MT_OK)
		return err->code;
	if (archive && strcmp(stage, "Staging") != 0 && strcmp(stage, "Production") != 0)
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE,
		               "Model version transition cannot archive existing model versions because '%.100s' is not an "
		               "Active stage. Valid stages are ['Staging', 'Production']",
		               stage);
	struct registry_ctx x = api_registry_ctx(req);
	struct mt_model_version v;
	if (store_mv_transition_recorded(&x, name, version, stage, archive, comment, &v, err) != MT_OK)
		return err->code;
	struct jw *w = http_reply_json(req, resp);
	jw_key(w, "model_version_databricks");
	api_write_model_version(w, &v);
	http_reply_json_end(w);
	return MT_OK;
}

/* ---- comments ---- */

static void reply_comment(struct mt_request *req, struct mt_response *resp, const struct mt_activity *a,
                          const char *model)
{
	enum acl_level lvl = model_level(req, model);
	bool author = same_user(a->user_id, req->principal);
	struct jw *w = http_reply_json(req, resp);
	jw_key(w, "comment");
	jw_obj_open(w);
	jw_kv_str(w, "id", a->id);
	jw_kv_str_opt(w, "comment", a->comment);
	jw_kv_str_opt(w, "user_id", a->user_id);
	jw_kv_int(w, "creation_timestamp", a->creation_timestamp);
	jw_kv_int(w, "last_updated_timestamp", a->last_updated_timestamp);
	jw_key(w, "available_actions");
	jw_arr_open(w);
	if (author)
		jw_str(w, "EDIT_COMMENT");
	if (author || lvl >= ACL_MANAGE)
		jw_str(w, "DELETE_COMMENT");
	jw_arr_close(w);
	jw_obj_close(w);
	http_reply_json_end(w);
}

MT_HANDLER(api_comments_create)
{
	const char *name, *comment;
	int64_t version;
	struct registry_ctx x = api_registry_ctx(req);
	struct mt_activity a;
	if (read_target(req, &name, &version, NULL, err) != MT_OK || read_comment(req, true, &comment, err) != MT_OK ||
	    store_comment_create(&x, name, version, comment, &a, err) != MT_OK)
		return err->code;
	reply_comment(req, resp, &a, name);
	return MT_OK;
}

/* The comment `id` names, if the caller may change it: its author may edit it; its author or a MANAGE holder
 * on the model may delete it. Others get PERMISSION_DENIED, or RESOURCE_DOES_NOT_EXIST without READ. */
static enum mt_error comment_for_change(struct mt_request *req, bool del, const char **id, const char **model,
                                        struct mt_err *err)
{
	if (json_get_str(req->args, "id", true, id, err) != MT_OK)
		return err->code;
	struct registry_ctx x = api_registry_ctx(req);
	struct mt_activity cm;
	if (store_comment_get(&x, *id, &cm, model, err) != MT_OK)
		return err->code;
	enum acl_level lvl = model_level(req, *model);
	if (lvl < ACL_READ)
		return mt_fail(err, MT_RESOURCE_DOES_NOT_EXIST, "Comment with id=%.200s not found", *id);
	bool author = same_user(cm.user_id, req->principal);
	if (author || (del && lvl >= ACL_MANAGE))
		return MT_OK;
	return mt_fail(err, MT_PERMISSION_DENIED, "Permission denied: only the author of comment %.200s may %s it", *id,
	               del ? "delete (or a user with MANAGE on the model)" : "edit");
}

MT_HANDLER(api_comments_update)
{
	const char *id, *model, *comment;
	if (comment_for_change(req, false, &id, &model, err) != MT_OK || read_comment(req, true, &comment, err) != MT_OK)
		return err->code;
	struct registry_ctx x = api_registry_ctx(req);
	struct mt_activity a;
	if (store_comment_update(&x, id, comment, &a, err) != MT_OK)
		return err->code;
	reply_comment(req, resp, &a, model);
	return MT_OK;
}

MT_HANDLER(api_comments_delete)
{
	const char *id, *model;
	struct registry_ctx x = api_registry_ctx(req);
	if (comment_for_change(req, true, &id, &model, err) != MT_OK || store_comment_delete(&x, id, err) != MT_OK)
		return err->code;
	http_reply_empty(resp);
	return MT_OK;
}

/* ---- the activity log (mltrackd: Databricks shows it in its UI only) ---- */

MT_HANDLER(api_activities_list)
{
	const char *name;
	int64_t version;
	struct mt_activity *v;
	size_t n;
	struct registry_ctx x = api_registry_ctx(req);
	if (read_target(req, &name, &version, NULL, err) != MT_OK ||
	    store_activities_list(&x, name, version, &v, &n, err) != MT_OK)
		return err->code;
	struct jw *w = http_reply_json(req, resp);
	write_activities(w, "activities", v, n);
	http_reply_json_end(w);
	return MT_OK;
}
