/* SPDX-License-Identifier: Apache-2.0 */
/* webhooks.c: MLflow's webhooks API (/mlflow/webhooks), Databricks' registry webhooks (/mlflow/registry-webhooks)
 * and mltrackd's delivery log (/mltrackd/webhooks/{id}/deliveries). Validates, seals secrets, answers; never
 * answers or logs a secret. No SQL (store_webhooks.h), no HTTP client of its own (webhooks.h). */
#include <string.h>
#include <strings.h>

#include "api_internal.h"
#include "mltrackd/acl.h"
#include "mltrackd/search.h"
#include "mltrackd/store_webhooks.h"
#include "mltrackd/util.h"
#include "mltrackd/webhooks.h"

#define WH_LIST_DEFAULT 100
#define WH_LIST_MAX 1000

/* ---- shared ---- */

static bool auth_on(struct mt_request *req) { return req->srv && req->srv->cfg->auth_enabled; }

static const char *seal(struct mt_request *req, const char *plain)
{
	return plain ? wh_secret_seal(req->arena, req->srv->cfg->webhook_secret_key, plain) : NULL;
}

static void new_uuid(char out[37])
{
	char hex[33];
	mt_random_hex(hex, 16);
	hex[12] = '4';
	hex[16] = "89ab"[mt_random_below(4)];
	int o = 0;
	for (int i = 0; i < 32; i++) {
		if (i == 8 || i == 12 || i == 16 || i == 20)
			out[o++] = '-';
		out[o++] = hex[i];
	}
	out[o] = '\0';
}

static enum mt_error read_paging(struct mt_request *req, int64_t *max, int64_t *offset, struct mt_err *err)
{
	const char *token = NULL;
	bool present = false;
	*max = 0;
	if (json_get_i64(req->args, "max_results", false, max, &present, err) != MT_OK ||
	    json_get_str(req->args, "page_token", false, &token, err) != MT_OK)
		return err->code;
	if (*max == 0)
		*max = WH_LIST_DEFAULT; /* proto default 0 -> MLflow's 100 */
	if (*max < 1 || *max > WH_LIST_MAX)
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "max_results must be between 1 and 1000.");
	return search_page_token_decode(token, offset, err);
}

/* ---- MLflow ---- */

/* MLflow's webhook name rule: 1..63 of [A-Za-z0-9._-], starting and ending with a letter or digit. */
static bool valid_name(const char *s)
{
	size_t n = strlen(s);
	if (n < 1 || n > 63)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
		if (!alnum && ((i == 0 || i == n - 1) || (c != '.' && c != '_' && c != '-')))
			return false;
	}
	return true;
}

static enum mt_error check_name(const char *name, struct mt_err *err)
{
	if (!valid_name(name))
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE,
		               "Webhook name '%.200s' is invalid. It must start and end with a letter or digit, be less than "
		               "63 characters long, and contain only letters, digits, dots (.), underscores (_), and "
		               "hyphens (-).",
		               name);
	return MT_OK;
}

static char *lower(struct arena *a, const char *s)
{
	char *o = arena_strdup(a, s);
	for (char *p = o; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return o;
}

/* events: [{entity, action}] with proto enum names (any case) -> "entity.action" strings */
static enum mt_error read_mlflow_events(struct mt_request *req, const cJSON *arr, const char ***out, size_t *n,
                                        struct mt_err *err)
{
	size_t cnt = (size_t)cJSON_GetArraySize(arr);
	if (cnt == 0)
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE,
		               "Webhook events must be a non-empty list of WebhookEvent objects: [].");
	if (cnt > 64)
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "A webhook may subscribe to at most 64 events");
	const char **ev = arena_alloc(req->arena, cnt * sizeof *ev);
	size_t k = 0;
	const cJSON *e;
	cJSON_ArrayForEach(e, arr)
	{
		const char *entity = NULL, *action = NULL;
		if (!cJSON_IsObject(e))
			return json_fail_type(err, "events", e);
		if (json_get_str(e, "entity", true, &entity, err) != MT_OK ||
		    json_get_str(e, "action", true, &action, err) != MT_OK)
			return err->code;
		char *le = lower(req->arena, entity), *la = lower(req->arena, action);
		if (!wh_mlflow_event_valid(le, la)) {
			bool entity_known = false;
			static const char *const ents[] = {"registered_model", "model_version", "model_version_tag",
			                                   "model_version_alias", "prompt", "prompt_version", "prompt_tag",
			                                   "prompt_version_tag", "prompt_alias", "budget_policy"};
			for (size_t i = 0; i < sizeof ents / sizeof ents[0]; i++)
				entity_known |= strcmp(le, ents[i]) == 0;
			if (!entity_known)
				return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "Invalid webhook event entity '%.100s'", entity);
			/* MLflow's message lists the entity's valid actions */
			static const char *const acts[] = {"created", "deleted", "exceeded", "set", "updated"};
			struct buf b;
			buf_init(&b, 256);
			for (size_t i = 0; i < sizeof acts / sizeof acts[0]; i++)
				if (wh_mlflow_event_valid(le, acts[i]))
					buf_printf(&b, "%s'%s'", b.len ? ", " : "", acts[i]);
			mt_fail(err, MT_INVALID_PARAMETER_VALUE,
			        "Invalid action '%.100s' for entity '%.100s'. Valid actions are: [%s]", la, le,
			        b.data ? b.data : "");
			buf_free(&b);
			return err->code;
		}
		ev[k++] = arena_printf(req->arena, "%s.%s", le, la);
	}
	*out = ev;
	*n = k;
	return MT_OK;
}

static enum mt_error read_status(const char *in, bool databricks, const char **out, struct mt_err *err)
{
	static const char *const st[] = {"ACTIVE", "DISABLED", "TEST_MODE"};
	for (size_t i = 0; i < (databricks ? 3u : 2u); i++)
		if (strcasecmp(in, st[i]) == 0) {
			*out = st[i];
			return MT_OK;
		}
	return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "Invalid webhook status '%.100s'. Valid statuses are: %s", in,
	               databricks ? "ACTIVE, DISABLED, TEST_MODE" : "ACTIVE, DISABLED");
}

static void write_mlflow_webhook(struct jw *w, const struct mt_webhook *h)
{
	jw_obj_open(w);
	jw_kv_str(w, "webhook_id", h->id);
	jw_kv_str(w, "name", h->name ? h->name : "");
	if (h->description && h->description[0])
		jw_kv_str(w, "description", h->description);
	jw_kv_str(w, "url", h->url);
	jw_key(w, "events");
	jw_arr_open(w);
	for (size_t i = 0; i < h->n_events; i++) {
		const char *dot = strchr(h->events[i], '.');
		char ent[64] = "", act[32] = "";
		size_t el = dot ? (size_t)(dot - h->events[i]) : 0;
		for (size_t j = 0; j < el && j < sizeof ent - 1; j++)
			ent[j] = (char)(h->events[i][j] >= 'a' && h->events[i][j] <= 'z' ? h->events[i][j] - 32 : h->events[i][j]);
		for (size_t j = 0; dot && dot[1 + j] && j < sizeof act - 1; j++)
			act[j] = (char)(dot[1 + j] >= 'a' && dot[1 + j] <= 'z' ? dot[1 + j] - 32 : dot[1 + j]);
		jw_obj_open(w);
		jw_kv_str(w, "entity", ent);
		jw_kv_str(w, "action", act);
		jw_obj_close(w);
	}
	jw_arr_close(w);
	jw_kv_str(w, "status", h->status);
	jw_kv_int(w, "creation_timestamp", h->creation_timestamp);
	jw_kv_int(w, "last_updated_timestamp", h->last_updated_timestamp);
	jw_obj_close(w);
}

static void reply_webhook(struct mt_request *req, struct mt_response *resp, const struct mt_webhook *h)
{
	struct jw *w = http_reply_json(req, resp);
	jw_key(w, "webhook");
	write_mlflow_webhook(w, h);
	http_reply_json_end(w);
}

MT_HANDLER(api_webhooks_create)
{
	const char *name, *url, *description = NULL, *secret = NULL, *status_in = NULL, *status = "ACTIVE";
	const cJSON *events;
	struct mt_webhook h = {0};
	if (json_get_str(req->args, "name", true, &name, err) != MT_OK ||
	    json_get_str(req->args, "url", true, &url, err) != MT_OK ||
	    json_get_array(req->args, "events", true, &events, err) != MT_OK ||
	    json_get_str(req->args, "description", false, &description, err) != MT_OK ||
	    json_get_str(req->args, "secret", false, &secret, err) != MT_OK ||
	    json_get_str(req->args, "status", false, &status_in, err) != MT_OK)
		return err->code;
	if (status_in && read_status(status_in, false, &status, err) != MT_OK)
		return err->code;
	if (check_name(name, err) != MT_OK || wh_validate_url(req->srv->cfg, url, err) != MT_OK ||
	    read_mlflow_events(req, events, &h.events, &h.n_events, err) != MT_OK)
		return err->code;
	char id[37];
	new_uuid(id);
	h.id = id;
	h.kind = WH_KIND_MLFLOW;
	h.name = name;
	h.url = url;
	h.description = description && *description ? description : NULL;
	h.secret_sealed = secret && *secret ? seal(req, secret) : NULL;
	h.status = status;
	h.ssl_verify = true;
	if (store_webhook_create(req->srv->store, &h, err) != MT_OK)
		return err->code;
	reply_webhook(req, resp, &h);
	return MT_OK;
}

MT_HANDLER(api_webhooks_list)
{
	int64_t max, offset;
	struct mt_webhook *v;
	size_t n;
	bool more;
	if (read_paging(req, &max, &offset, err) != MT_OK ||
	    store_webhook_list(req->srv->store, req->arena, WH_KIND_MLFLOW, NULL, offset, max, &v, &n, &more, err) != MT_OK)
		return err->code;
	struct jw *w = http_reply_json(req, resp);
	jw_key(w, "webhooks");
	jw_arr_open(w);
	for (size_t i = 0; i < n; i++)
		write_mlflow_webhook(w, &v[i]);
	jw_arr_close(w);
	if (more)
		jw_kv_str(w, "next_page_token", search_page_token_encode(req->arena, offset + max));
	http_reply_json_end(w);
	return MT_OK;
}

MT_HANDLER(api_webhooks_get)
{
	struct mt_webhook h;
	if (store_webhook_get(req->srv->store, req->arena, req->path_params[0], WH_KIND_MLFLOW, &h, err) != MT_OK)
		return err->code;
	reply_webhook(req, resp, &h);
	return MT_OK;
}

MT_HANDLER(api_webhooks_update)
{
	struct webhook_update u = {.id = req->path_params[0], .kind = WH_KIND_MLFLOW, .ssl_verify = -1};
	const char *secret = NULL, *status_in = NULL;
	const cJSON *events = NULL;
	if (json_get_str(req->args, "name", false, &u.name, err) != MT_OK ||
	    json_get_str(req->args, "description", false, &u.description, err) != MT_OK ||
	    json_get_str(req->args, "url", false, &u.url, err) != MT_OK ||
	    json_get_array(req->args, "events", false, &events, err) != MT_OK ||
	    json_get_str(req->args, "secret", false, &secret, err) != MT_OK ||
	    json_get_str(req->args, "status", false, &status_in, err) != MT_OK)
		return err->code;
	/* MLflow: an empty name/url means "not given" (proto default) */
	if (u.name && !*u.name)
		u.name = NULL;
	if (u.url && !*u.url)
		u.url = NULL;
	if (status_in && read_status(status_in, false, &u.status, err) != MT_OK)
		return err->code;
	if ((u.name && check_name(u.name, err) != MT_OK) ||
	    (u.url && wh_validate_url(req->srv->cfg, u.url, err) != MT_OK))
		return err->code;
	if (events && cJSON_GetArraySize(events) > 0 && read_mlflow_events(req, events, &u.events, &u.n_events, err) != MT_OK)
		return err->code;
	if (secret)
		u.secret_sealed = *secret ? seal(req, secret) : "";
	struct mt_webhook h;
	if (store_webhook_update(req->srv->store, req->arena, &u, &h, err) != MT_OK)
		return err->code;
	reply_webhook(req, resp, &h);
	return MT_OK;
}

MT_HANDLER(api_webhooks_delete)
{
	if (store_webhook_delete(req->srv->store, req->path_params[0], WH_KIND_MLFLOW, err) != MT_OK)
		return err->code;
	http_reply_empty(resp);
	return MT_OK;
}

MT_HANDLER(api_webhooks_test)
{
	struct mt_webhook h;
	if (store_webhook_get(req->srv->store, req->arena, req->path_params[0], WH_KIND_MLFLOW, &h, err) != MT_OK)
		return err->code;
	const char *event = h.n_events ? h.events[0] : "registered_model.created";
	const cJSON *ev = json_field(req->args, "event");
	if (ev) {
		const cJSON *one = cJSON_CreateArray();
		cJSON *arr = (cJSON *)one;
		cJSON_AddItemReferenceToArray(arr, (cJSON *)ev);
		const char **evs;
		size_t n;
		enum mt_error rc = read_mlflow_events(req, arr, &evs, &n, err);
		cJSON_Delete(arr);
		if (rc != MT_OK)
			return rc;
		event = evs[0];
	}
	char entity[64] = "";
	const char *dot = strchr(event, '.');
	size_t el = dot && (size_t)(dot - event) < sizeof entity ? (size_t)(dot - event) : 0;
	memcpy(entity, event, el);
	entity[el] = '\0';
	const char *data = wh_mlflow_example(entity, dot ? dot + 1 : "");
	char id[37];
	new_uuid(id);
	struct wh_send_result r;
	if (h.secret_sealed && !h.secret_sealed[0])
		h.secret_sealed = NULL;
	wh_send_once(req->srv, req->arena, &h, id, event, data ? data : "{}", &r);
	struct jw *w = http_reply_json(req, resp);
	jw_key(w, "result");
	jw_obj_open(w);
	jw_kv_bool(w, "success", r.status > 0 && r.status < 400);
	if (r.status > 0) {
		jw_kv_int(w, "response_status", r.status);
		jw_kv_str(w, "response_body", r.body ? r.body : "");
	} else {
		jw_kv_str(w, "error_message", arena_printf(req->arena, "Failed to test webhook: %s", r.error ? r.error : ""));
	}
	jw_obj_close(w);
	http_reply_json_end(w);
	return MT_OK;
}

/* ---- Databricks registry webhooks ---- */

/* Model-scoped: MANAGE on the model; registry-wide: admin. Nothing to check with auth off. */
static enum mt_error may_manage(struct mt_request *req, const char *model_name, struct mt_err *err)
{
	if (!auth_on(req) || req->is_admin)
		return MT_OK;
	if (!model_name)
		return mt_fail(err, MT_PERMISSION_DENIED,
		               "Permission denied: registry-wide webhooks can only be managed by an admin");
	if (acl_level_for(req, "registered_model", model_name) < ACL_MANAGE)
		return mt_fail(err, MT_PERMISSION_DENIED,
		               "Permission denied: managing webhooks of registered model '%.500s' needs MANAGE", model_name);
	return MT_OK;
}

static enum mt_error read_dbx_events(struct mt_request *req, const cJSON *arr, const char *model_name,
                                     const char ***out, size_t *n, struct mt_err *err)
{
	size_t cnt = (size_t)cJSON_GetArraySize(arr);
	if (cnt == 0)
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "Webhook events must be a non-empty list.");
	if (cnt > 64)
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "A webhook may subscribe to at most 64 events");
	const char **ev = arena_alloc(req->arena, cnt * sizeof *ev);
	size_t k = 0;
	const cJSON *e;
	cJSON_ArrayForEach(e, arr)
	{
		if (!cJSON_IsString(e))
			return json_fail_type(err, "events", e);
		if (!wh_databricks_event_valid(e->valuestring))
			return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "Invalid registry webhook event '%.100s'", e->valuestring);
		if (model_name && strcmp(e->valuestring, "REGISTERED_MODEL_CREATED") == 0)
			return mt_fail(err, MT_INVALID_PARAMETER_VALUE,
			               "REGISTERED_MODEL_CREATED is only allowed on registry-wide webhooks (without model_name)");
		ev[k++] = e->valuestring;
	}
	*out = ev;
	*n = k;
	return MT_OK;
}

static void write_dbx_webhook(struct jw *w, const struct mt_webhook *h)
{
	jw_obj_open(w);
	jw_kv_str(w, "id", h->id);
	jw_kv_int(w, "creation_timestamp", h->creation_timestamp);
	jw_kv_int(w, "last_updated_timestamp", h->last_updated_timestamp);
	if (h->description && h->description[0])
		jw_kv_str(w, "description", h->description);
	jw_key(w, "events");
	jw_arr_open(w);
	for (size_t i = 0; i < h->n_events; i++)
		jw_str(w, h->events[i]);
	jw_arr_close(w);
	jw_kv_str_opt(w, "model_name", h->model_name);
	jw_kv_str(w, "status", h->status);
	jw_key(w, "http_url_spec");
	jw_obj_open(w);
	jw_kv_str(w, "url", h->url);
	jw_kv_bool(w, "enable_ssl_verification", h->ssl_verify);
	jw_obj_close(w);
	jw_obj_close(w);
}

static void reply_dbx(struct mt_request *req, struct mt_response *resp, const struct mt_webhook *h)
{
	struct jw *w = http_reply_json(req, resp);
	jw_key(w, "webhook");
	write_dbx_webhook(w, h);
	http_reply_json_end(w);
}

struct url_spec {
	const char *url, *secret, *authorization;
	int ssl_verify;
};

static enum mt_error read_url_spec(struct mt_request *req, bool required, struct url_spec *s, struct mt_err *err)
{
	memset(s, 0, sizeof *s);
	s->ssl_verify = -1;
	if (json_field(req->args, "job_spec"))
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "job_spec webhooks are not supported; use http_url_spec");
	const cJSON *spec = json_field(req->args, "http_url_spec");
	if (!spec) {
		if (required)
			return json_fail_missing(err, "http_url_spec");
		return MT_OK;
	}
	if (!cJSON_IsObject(spec))
		return json_fail_type(err, "http_url_spec", spec);
	bool v = true, present = false;
	if (json_get_str(spec, "url", true, &s->url, err) != MT_OK ||
	    json_get_str(spec, "secret", false, &s->secret, err) != MT_OK ||
	    json_get_str(spec, "authorization", false, &s->authorization, err) != MT_OK ||
	    json_get_bool(spec, "enable_ssl_verification", false, &v, &present, err) != MT_OK)
		return err->code;
	s->ssl_verify = present ? v : (required ? 1 : -1);
	return wh_validate_url(req->srv->cfg, s->url, err);
}

MT_HANDLER(api_registry_webhooks_create)
{
	const char *model = NULL, *description = NULL, *status_in = NULL, *status = "ACTIVE";
	const cJSON *events;
	struct url_spec spec;
	struct mt_webhook h = {0};
	if (json_get_array(req->args, "events", true, &events, err) != MT_OK ||
	    json_get_str(req->args, "model_name", false, &model, err) != MT_OK ||
	    json_get_str(req->args, "description", false, &description, err) != MT_OK ||
	    json_get_str(req->args, "status", false, &status_in, err) != MT_OK)
		return err->code;
	if (model && !*model)
		model = NULL;
	if ((status_in && read_status(status_in, true, &status, err) != MT_OK) ||
	    read_dbx_events(req, events, model, &h.events, &h.n_events, err) != MT_OK ||
	    may_manage(req, model, err) != MT_OK || read_url_spec(req, true, &spec, err) != MT_OK)
		return err->code;
	if (model) {
		struct registry_ctx x = api_registry_ctx(req);
		struct mt_registered_model m;
		if (store_rm_get(&x, model, &m, err) != MT_OK)
			return err->code;
	}
	char id[33];
	mt_random_hex(id, 16);
	h.id = id;
	h.kind = WH_KIND_DATABRICKS;
	h.url = spec.url;
	h.model_name = model;
	h.description = description;
	h.status = status;
	h.ssl_verify = spec.ssl_verify != 0;
	h.secret_sealed = spec.secret && *spec.secret ? seal(req, spec.secret) : NULL;
	h.authorization_sealed = spec.authorization && *spec.authorization ? seal(req, spec.authorization) : NULL;
	if (store_webhook_create(req->srv->store, &h, err) != MT_OK)
		return err->code;
	reply_dbx(req, resp, &h);
	return MT_OK;
}

MT_HANDLER(api_registry_webhooks_list)
{
	const char *model = NULL;
	const cJSON *events = NULL;
	int64_t max, offset;
	if (json_get_str(req->args, "model_name", false, &model, err) != MT_OK ||
	    json_get_array(req->args, "events", false, &events, err) != MT_OK || read_paging(req, &max, &offset, err) != MT_OK)
		return err->code;
	if (model && !*model)
		model = NULL;
	/* a non-admin sees only the webhooks of models it may MANAGE (filtered on the page read here) */
	bool filter_perm = auth_on(req) && !req->is_admin;
	/* the events filter (any match) is applied on the page read here */
	struct mt_webhook *v;
	size_t n;
	bool more;
	if (store_webhook_list(req->srv->store, req->arena, WH_KIND_DATABRICKS, model, offset, max, &v, &n, &more, err) !=
	    MT_OK)
		return err->code;
	struct jw *w = http_reply_json(req, resp);
	jw_key(w, "webhooks");
	jw_arr_open(w);
	for (size_t i = 0; i < n; i++) {
		bool match = !events || cJSON_GetArraySize(events) == 0;
		const cJSON *e;
		cJSON_ArrayForEach(e, events)
		{
			for (size_t k = 0; !match && cJSON_IsString(e) && k < v[i].n_events; k++)
				match = strcmp(v[i].events[k], e->valuestring) == 0;
		}
		struct mt_err perr;
		mt_err_init(&perr);
		if (match && filter_perm && may_manage(req, v[i].model_name, &perr) != MT_OK)
			match = false;
		if (match)
			write_dbx_webhook(w, &v[i]);
	}
	jw_arr_close(w);
	if (more)
		jw_kv_str(w, "next_page_token", search_page_token_encode(req->arena, offset + max));
	http_reply_json_end(w);
	return MT_OK;
}

static enum mt_error load_dbx(struct mt_request *req, const char **id, struct mt_webhook *h, struct mt_err *err)
{
	if (json_get_str(req->args, "id", true, id, err) != MT_OK ||
	    store_webhook_get(req->srv->store, req->arena, *id, WH_KIND_DATABRICKS, h, err) != MT_OK)
		return err->code;
	return may_manage(req, h->model_name, err);
}

MT_HANDLER(api_registry_webhooks_update)
{
	const char *id, *status_in = NULL;
	struct mt_webhook cur, h;
	if (load_dbx(req, &id, &cur, err) != MT_OK)
		return err->code;
	struct webhook_update u = {.id = id, .kind = WH_KIND_DATABRICKS, .ssl_verify = -1};
	const cJSON *events = NULL;
	struct url_spec spec;
	if (json_get_str(req->args, "description", false, &u.description, err) != MT_OK ||
	    json_get_str(req->args, "status", false, &status_in, err) != MT_OK ||
	    json_get_array(req->args, "events", false, &events, err) != MT_OK ||
	    read_url_spec(req, false, &spec, err) != MT_OK)
		return err->code;
	if (status_in && read_status(status_in, true, &u.status, err) != MT_OK)
		return err->code;
	if (events && read_dbx_events(req, events, cur.model_name, &u.events, &u.n_events, err) != MT_OK)
		return err->code;
	u.url = spec.url;
	u.ssl_verify = spec.ssl_verify;
	if (spec.secret)
		u.secret_sealed = *spec.secret ? seal(req, spec.secret) : "";
	if (spec.authorization)
		u.authorization_sealed = *spec.authorization ? seal(req, spec.authorization) : "";
	if (store_webhook_update(req->srv->store, req->arena, &u, &h, err) != MT_OK)
		return err->code;
	reply_dbx(req, resp, &h);
	return MT_OK;
}

MT_HANDLER(api_registry_webhooks_delete)
{
	const char *id;
	struct mt_webhook h;
	if (load_dbx(req, &id, &h, err) != MT_OK || store_webhook_delete(req->srv->store, id, WH_KIND_DATABRICKS, err) != MT_OK)
		return err->code;
	http_reply_empty(resp);
	return MT_OK;
}

MT_HANDLER(api_registry_webhooks_test)
{
	const char *id, *event = NULL;
	struct mt_webhook h;
	if (load_dbx(req, &id, &h, err) != MT_OK || json_get_str(req->args, "event", false, &event, err) != MT_OK)
		return err->code;
	if (event && *event) {
		if (!wh_databricks_event_valid(event))
			return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "Invalid registry webhook event '%.100s'", event);
	} else {
		event = h.n_events ? h.events[mt_random_below((uint32_t)h.n_events)] : "MODEL_VERSION_CREATED";
	}
	if (h.secret_sealed && !h.secret_sealed[0])
		h.secret_sealed = NULL;
	if (h.authorization_sealed && !h.authorization_sealed[0])
		h.authorization_sealed = NULL;
	char did[37];
	new_uuid(did);
	struct wh_send_result r;
	wh_send_once(req->srv, req->arena, &h, did, event, wh_databricks_example(req->arena, h.id, event, h.model_name),
	             &r);
	struct jw *w = http_reply_json(req, resp);
	jw_kv_int(w, "status_code", r.status);
	jw_kv_str(w, "body", r.status > 0 ? (r.body ? r.body : "") : (r.error ? r.error : ""));
	http_reply_json_end(w);
	return MT_OK;
}

/* ---- mltrackd: the delivery log ---- */

static enum mt_error load_any(struct mt_request *req, struct mt_webhook *h, struct mt_err *err)
{
	if (store_webhook_get(req->srv->store, req->arena, req->path_params[0], WH_KIND_ANY, h, err) != MT_OK)
		return err->code;
	if (h->kind == WH_KIND_MLFLOW && auth_on(req) && !req->is_admin)
		return mt_fail(err, MT_PERMISSION_DENIED, "Permission denied: MLflow webhooks can only be managed by an admin");
	return h->kind == WH_KIND_DATABRICKS ? may_manage(req, h->model_name, err) : MT_OK;
}

static const char *state_name(int s)
{
	return s == DELIVERY_DELIVERED ? "DELIVERED" : s == DELIVERY_FAILED ? "FAILED" : "PENDING";
}

MT_HANDLER(api_webhook_deliveries_list)
{
	struct mt_webhook h;
	int64_t max, offset;
	struct mt_delivery *v;
	size_t n;
	bool more;
	if (load_any(req, &h, err) != MT_OK || read_paging(req, &max, &offset, err) != MT_OK ||
	    store_delivery_list(req->srv->store, req->arena, h.pk, offset, max, &v, &n, &more, err) != MT_OK)
		return err->code;
	struct jw *w = http_reply_json(req, resp);
	jw_key(w, "deliveries");
	jw_arr_open(w);
	for (size_t i = 0; i < n; i++) {
		const struct mt_delivery *d = &v[i];
		jw_obj_open(w);
		jw_kv_str(w, "delivery_id", d->delivery_id);
		jw_kv_str(w, "event", d->event);
		if (d->event_id)
			jw_kv_int(w, "event_id", d->event_id);
		jw_kv_str(w, "state", state_name(d->state));
		jw_kv_int(w, "attempts", d->attempts);
		jw_kv_int(w, "created_at", d->created_at);
		if (d->state == DELIVERY_PENDING)
			jw_kv_int(w, "next_attempt_at", d->next_attempt_at);
		if (d->attempts) {
			jw_kv_int(w, "last_attempt_at", d->last_attempt_at);
			jw_kv_int(w, "last_latency_ms", d->last_latency_ms);
		}
		if (d->last_status)
			jw_kv_int(w, "last_status", d->last_status);
		jw_kv_str_opt(w, "last_error", d->last_error);
		if (d->finished_at)
			jw_kv_int(w, "finished_at", d->finished_at);
		jw_obj_close(w);
	}
	jw_arr_close(w);
	if (more)
		jw_kv_str(w, "next_page_token", search_page_token_encode(req->arena, offset + max));
	http_reply_json_end(w);
	return MT_OK;
}

MT_HANDLER(api_webhook_redeliver)
{
	struct mt_webhook h;
	if (load_any(req, &h, err) != MT_OK ||
	    store_delivery_redeliver(req->srv->store, h.pk, req->path_params[1], err) != MT_OK)
		return err->code;
	wh_dispatcher_kick(req->srv->webhooks);
	http_reply_empty(resp);
	return MT_OK;
}
