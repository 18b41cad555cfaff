/* SPDX-License-Identifier: Apache-2.0 */
/* registered_models.c: the registered-models endpoints (create, get, rename, update, delete, search,
 * get-latest-versions, tags, aliases) and the registry's shared serialisers and rules. No SQL here. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api_internal.h"
#include "mltrackd/acl.h"
#include "mltrackd/search.h"
#include "mltrackd/store_registry.h"
#include "mltrackd/util.h"
#include "mltrackd/validate.h"

#define RM_SEARCH_DEFAULT 100
#define RM_SEARCH_MAX 1000
#define MAX_ALIAS_LENGTH 255

/* ---- serialisers (ModelVersion and RegisteredModel messages) ---- */

void api_write_model_version(struct jw *w, const struct mt_model_version *v)
{
	char ver[32];
	snprintf(ver, sizeof ver, "%lld", (long long)v->version);
	jw_obj_open(w);
	jw_kv_str(w, "name", v->name);
	jw_kv_str(w, "version", ver);
	jw_kv_int(w, "creation_timestamp", v->creation_timestamp);
	jw_kv_int(w, "last_updated_timestamp", v->last_updated_timestamp);
	jw_kv_str_opt(w, "user_id", v->user_id);
	jw_kv_str_opt(w, "current_stage", v->current_stage);
	jw_kv_str_opt(w, "description", v->description);
	jw_kv_str_opt(w, "source", v->source);
	jw_kv_str_opt(w, "run_id", v->run_id);
	jw_kv_str_opt(w, "status", v->status);
	if (v->status_message && v->status_message[0])
		jw_kv_str(w, "status_message", v->status_message);
	api_write_tags(w, "tags", v->tags, v->n_tags);
	jw_kv_str_opt(w, "run_link", v->run_link);
	if (v->n_aliases) {
		jw_key(w, "aliases");
		jw_arr_open(w);
		for (size_t i = 0; i < v->n_aliases; i++)
			jw_str(w, v->aliases[i]);
		jw_arr_close(w);
	}
	jw_obj_close(w);
}

void api_write_registered_model(struct jw *w, const struct mt_registered_model *m)
{
	jw_obj_open(w);
	jw_kv_str(w, "name", m->name);
	jw_kv_int(w, "creation_timestamp", m->creation_timestamp);
	if (m->last_updated_timestamp)
		jw_kv_int(w, "last_updated_timestamp", m->last_updated_timestamp);
	/* RegisteredModel.to_proto sets description only when truthy */
	if (m->description && m->description[0])
		jw_kv_str(w, "description", m->description);
	if (m->n_latest) {
		jw_key(w, "latest_versions");
		jw_arr_open(w);
		for (size_t i = 0; i < m->n_latest; i++)
			api_write_model_version(w, &m->latest[i]);
		jw_arr_close(w);
	}
	api_write_tags(w, "tags", m->tags, m->n_tags);
	if (m->n_aliases) {
		jw_key(w, "aliases");
		jw_arr_open(w);
		for (size_t i = 0; i < m->n_aliases; i++) {
			jw_obj_open(w);
			jw_kv_str(w, "alias", m->aliases[i].key);
			jw_kv_str(w, "version", m->aliases[i].value);
			jw_obj_close(w);
		}
		jw_arr_close(w);
	}
	jw_obj_close(w);
}

/* ---- shared rules (mlflow/utils/validation.py) ---- */

struct registry_ctx api_registry_ctx(struct mt_request *req)
{
	struct registry_ctx x = {req->srv->store, req->arena, req->principal};
	return x;
}

enum mt_error api_validate_model_name(const char *field, const char *name, struct mt_err *err)
{
	bool blank = true;
	for (const char *p = name; p && *p; p++)
		blank = blank && isspace((unsigned char)*p);
	if (name == NULL || blank)
		return json_fail_missing(err, field);
	if (strchr(name, '/') || strchr(name, ':'))
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "Invalid model name '%.500s'. Names cannot contain '/' or ':'.",
		               name);
	/* path_not_unique: with no '/' left, only "." and ".." normalise to another name */
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE,
		               "Invalid value \"%s\" for parameter '%s' supplied: Names may be treated as files in certain "
		               "cases, and must not resolve to other names when treated as such.",
		               name, field);
	return MT_OK;
}

enum mt_error api_read_model_name(struct mt_request *req, const char *field, const char **name, struct mt_err *err)
{
	*name = NULL;
	if (json_get_str(req->args, field, true, name, err) != MT_OK)
		return err->code;
	return api_validate_model_name(field, *name, err);
}

enum mt_error api_parse_version(const char *s, int64_t *out, struct mt_err *err)
{
	/* Python int(): surrounding whitespace and a sign are fine */
	const char *b = s;
	while (*b && isspace((unsigned char)*b))
		b++;
	size_t n = strlen(b);
	while (n && isspace((unsigned char)b[n - 1]))
		n--;
	char tmp[32];
	if (n > 0 && n < sizeof tmp) {
		memcpy(tmp, b[0] == '+' ? b + 1 : b, b[0] == '+' ? n - 1 : n);
		tmp[b[0] == '+' ? n - 1 : n] = '\0';
		if (tmp[0] != '+' && mt_parse_i64(tmp, out))
			return MT_OK;
	}
	return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "Parameter 'version' must be an integer, got '%.100s'.", s);
}

enum mt_error api_read_version(struct mt_request *req, int64_t *version, struct mt_err *err)
{
	const char *s = NULL;
	if (json_get_str(req->args, "version", true, &s, err) != MT_OK)
		return err->code;
	return api_parse_version(s, version, err);
}

enum mt_error api_canonical_stage(struct arena *a, const char *stage, const char **out, struct mt_err *err)
{
	static const char *const stages[] = {"None", "Staging", "Production", "Archived"};
	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(stage, stages[i]) == 0) {
			*out = stages[i];
			return MT_OK;
		}
	}
	(void)a;
	return mt_fail(err, MT_INVALID_PARAMETER_VALUE,
	               "Invalid Model Version stage: %.100s. Value must be one of None, Staging, Production, Archived.", stage);
}

/* Registry tag: key rule, key <= 250, value <= 100000 (both models and versions). */
enum mt_error api_validate_registry_tag(const char *key, const char *value, struct mt_err *err)
{
	if (validate_key_name("key", key, err) != MT_OK || validate_length("key", MT_MAX_ENTITY_KEY_LENGTH, key, err) != MT_OK)
		return err->code;
	if (strcmp(key, "mlflow.prompt.text") == 0 && value && utf8_len(value) > 100000)
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "Prompt text exceeds max length of 100000 characters.");
	return validate_length("value", 100000, value, err);
}

static enum mt_error validate_alias(const char *alias, bool reserved, struct mt_err *err)
{
	if (alias == NULL || alias[0] == '\0')
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "Registered model alias name cannot be empty.");
	for (const unsigned char *p = (const unsigned char *)alias; *p; p++)
		if (!(isalnum(*p) || *p == '_' || *p == '-' || *p >= 0x80))
			return mt_fail(err, MT_INVALID_PARAMETER_VALUE,
			               "Invalid alias name: '%.300s'. Names may only contain alphanumerics, underscores (_), and "
			               "dashes (-).",
			               alias);
	if (validate_length("Registered model alias name", MAX_ALIAS_LENGTH, alias, err) != MT_OK)
		return err->code;
	if (!reserved)
		return MT_OK;
	if (strcasecmp(alias, "latest") == 0)
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "'latest' alias name (case insensitive) is reserved.");
	if ((alias[0] == 'v' || alias[0] == 'V') && alias[1]) {
		bool digits = true;
		for (const char *p = alias + 1; *p; p++)
			digits = digits && isdigit((unsigned char)*p);
		if (digits)
			return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "Version alias name '%.300s' is reserved.", alias);
	}
	return MT_OK;
}

/* ---- handlers ---- */

static void reply_rm(struct mt_request *req, struct mt_response *resp, const struct mt_registered_model *m)
{
	struct jw *w = http_reply_json(req, resp);
	jw_key(w, "registered_model");
	api_write_registered_model(w, m);
	http_reply_json_end(w);
}

MT_HANDLER(api_registered_models_create)
{
	const char *name, *description = NULL;
	struct mt_tag *tags;
	size_t n_tags;
	if (api_read_model_name(req, "name", &name, err) != MT_OK ||
	    json_get_str(req->args, "description", false, &description, err) != MT_OK ||
	    api_read_tags(req, "tags", &tags, &n_tags, err) != MT_OK)
		return err->code;
	for (size_t i = 0; i < n_tags; i++)
		if (api_validate_registry_tag(tags[i].key, tags[i].value, err) != MT_OK)
			return err->code;
	struct registry_ctx x = api_registry_ctx(req);
	struct mt_registered_model m;
	if (store_rm_create(&x, name, description, tags, n_tags, &m, err) != MT_OK)
		return err->code;
	reply_rm(req, resp, &m);
	return MT_OK;
}

MT_HANDLER(api_registered_models_get)
{
	const char *name;
	struct registry_ctx x = api_registry_ctx(req);
	struct mt_registered_model m;
	if (api_read_model_name(req, "name", &name, err) != MT_OK || store_rm_get(&x, name, &m, err) != MT_OK)
		return err->code;
	reply_rm(req, resp, &m);
	return MT_OK;
}

MT_HANDLER(api_registered_models_rename)
{
	const char *name, *new_name;
	struct registry_ctx x = api_registry_ctx(req);
	struct mt_registered_model m;
	if (api_read_model_name(req, "name", &name, err) != MT_OK ||
	    api_read_model_name(req, "new_name", &new_name, err) != MT_OK ||
	    store_rm_rename(&x, name, new_name, &m, err) != MT_OK)
		return err->code;
	reply_rm(req, resp, &m);
	return MT_OK;
}

MT_HANDLER(api_registered_models_update)
{
	const char *name, *description = NULL;
	struct registry_ctx x = api_registry_ctx(req);
	struct mt_registered_model m;
	if (api_read_model_name(req, "name", &name, err) != MT_OK ||
	    json_get_str(req->args, "description", false, &description, err) != MT_OK ||
	    store_rm_update(&x, name, description, &m, err) != MT_OK)
		return err->code;
	reply_rm(req, resp, &m);
	return MT_OK;
}

MT_HANDLER(api_registered_models_delete)
{
	const char *name;
	struct registry_ctx x = api_registry_ctx(req);
	if (api_read_model_name(req, "name", &name, err) != MT_OK || store_rm_delete(&x, name, err) != MT_OK)
		return err->code;
	http_reply_empty(resp);
	return MT_OK;
}

MT_HANDLER(api_registered_models_set_tag)
{
	const char *name, *key, *value = "";
	struct registry_ctx x = api_registry_ctx(req);
	if (api_read_model_name(req, "name", &name, err) != MT_OK || json_get_str(req->args, "key", true, &key, err) != MT_OK ||
	    json_get_str(req->args, "value", false, &value, err) != MT_OK ||
	    api_validate_registry_tag(key, value, err) != MT_OK || store_rm_set_tag(&x, name, key, value, err) != MT_OK)
		return err->code;
	http_reply_empty(resp);
	return MT_OK;
}

MT_HANDLER(api_registered_models_delete_tag)
{
	const char *name, *key;
	struct registry_ctx x = api_registry_ctx(req);
	if (api_read_model_name(req, "name", &name, err) != MT_OK || json_get_str(req->args, "key", true, &key, err) != MT_OK ||
	    validate_key_name("key", key, err) != MT_OK || store_rm_delete_tag(&x, name, key, err) != MT_OK)
		return err->code;
	http_reply_empty(resp);
	return MT_OK;
}

MT_HANDLER(api_registered_models_get_latest_versions)
{
	const char *name;
	const cJSON *arr = NULL;
	if (api_read_model_name(req, "name", &name, err) != MT_OK ||
	    json_get_array(req->args, "stages", false, &arr, err) != MT_OK)
		return err->code;
	size_t n_stages = arr ? (size_t)cJSON_GetArraySize(arr) : 0;
	const char **stages = arena_alloc(req->arena, (n_stages ? n_stages : 1) * sizeof *stages);
	size_t i = 0;
	const cJSON *it;
	cJSON_ArrayForEach(it, arr)
	{
		if (!cJSON_IsString(it))
			return json_fail_type(err, "stages", arr);
		if (api_canonical_stage(req->arena, it->valuestring, &stages[i++], err) != MT_OK)
			return err->code;
	}
	struct registry_ctx x = api_registry_ctx(req);
	struct mt_model_version *v;
	size_t n;
	if (store_rm_latest_versions(&x, name, stages, n_stages, &v, &n, err) != MT_OK)
		return err->code;
	struct jw *w = http_reply_json(req, resp);
	if (n) {
		jw_key(w, "model_versions");
		jw_arr_open(w);
		for (size_t k = 0; k < n; k++)
			api_write_model_version(w, &v[k]);
		jw_arr_close(w);
	}
	http_reply_json_end(w);
	return MT_OK;
}

MT_HANDLER(api_registered_models_set_alias)
{
	const char *name, *alias;
	int64_t version;
	struct registry_ctx x = api_registry_ctx(req);
	if (api_read_model_name(req, "name", &name, err) != MT_OK ||
	    json_get_str(req->args, "alias", true, &alias, err) != MT_OK || validate_alias(alias, true, err) != MT_OK ||
	    api_read_version(req, &version, err) != MT_OK || store_alias_set(&x, name, alias, version, err) != MT_OK)
		return err->code;
	http_reply_empty(resp);
	return MT_OK;
}

MT_HANDLER(api_registered_models_delete_alias)
{
	const char *name, *alias;
	struct registry_ctx x = api_registry_ctx(req);
	if (api_read_model_name(req, "name", &name, err) != MT_OK ||
	    json_get_str(req->args, "alias", true, &alias, err) != MT_OK || validate_alias(alias, false, err) != MT_OK ||
	    store_alias_delete(&x, name, alias, err) != MT_OK)
		return err->code;
	http_reply_empty(resp);
	return MT_OK;
}

MT_HANDLER(api_registered_models_get_alias)
{
	const char *name, *alias;
	struct registry_ctx x = api_registry_ctx(req);
	struct mt_model_version v;
	if (api_read_model_name(req, "name", &name, err) != MT_OK ||
	    json_get_str(req->args, "alias", true, &alias, err) != MT_OK || validate_alias(alias, false, err) != MT_OK ||
	    store_alias_get(&x, name, alias, &v, err) != MT_OK)
		return err->code;
	struct jw *w = http_reply_json(req, resp);
	jw_key(w, "model_version");
	api_write_model_version(w, &v);
	http_reply_json_end(w);
	return MT_OK;
}

/* ---- search (shared by registered models and model versions) ---- */

enum mt_error api_registry_read_search(struct mt_request *req, enum search_kind kind, struct registry_query *q,
                                       struct mt_err *err)
{
	const char *filter = NULL, *token = NULL;
	bool present = false;
	bool versions = kind == SEARCH_MODEL_VERSIONS;
	/* proto defaults as the server sees an absent field: 100 for models, 200000 for versions */
	int64_t max = versions ? 200000 : RM_SEARCH_DEFAULT, cap = versions ? 200000 : RM_SEARCH_MAX;
	memset(q, 0, sizeof *q);
	if (json_get_str(req->args, "filter", false, &filter, err) != MT_OK ||
	    json_get_i64(req->args, "max_results", false, &max, &present, err) != MT_OK ||
	    json_get_str(req->args, "page_token", false, &token, err) != MT_OK)
		return err->code;
	if (max > cap)
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE,
		               "Invalid value for request parameter max_results. It must be at most %lld, but got value %lld",
		               (long long)cap, (long long)max);
	if (max < (versions ? 1 : 0))
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE,
		               "Invalid value for max_results. It must be a positive integer, but got %lld", (long long)max);
	struct search_filter *f = arena_calloc(req->arena, sizeof *f);
	if (search_parse_filter(req->arena, kind, filter, f, err) != MT_OK)
		return err->code;
	const cJSON *arr;
	if (json_get_array(req->args, "order_by", false, &arr, err) != MT_OK)
		return err->code;
	size_t cnt = arr ? (size_t)cJSON_GetArraySize(arr) : 0;
	if (cnt > 16)
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "At most 16 order_by clauses are supported");
	struct search_order *o = arena_alloc(req->arena, (cnt ? cnt : 1) * sizeof *o);
	size_t i = 0;
	const cJSON *it;
	cJSON_ArrayForEach(it, arr)
	{
		if (!cJSON_IsString(it))
			return json_fail_type(err, "order_by", arr);
		if (search_parse_order_by(req->arena, kind, it->valuestring, &o[i++], err) != MT_OK)
			return err->code;
	}
	if (search_page_token_decode(token, &q->offset, err) != MT_OK)
		return err->code;
	q->filter = f;
	q->order = o;
	q->n_order = cnt;
	q->limit = max;
	/* with authentication on, only the models the caller may read (and, for versions, whose version tier is
	 * readable), filtered inside the query */
	enum acl_filter_mode mode;
	if (acl_readable_models(req, versions, &mode, &q->acl_names, err) != MT_OK)
		return err->code;
	q->acl_mode = mode == ACL_FILTER_ONLY ? 1 : mode == ACL_FILTER_EXCEPT ? 2 : 0;
	return MT_OK;
}

MT_HANDLER(api_registered_models_search)
{
	struct registry_query q;
	if (api_registry_read_search(req, SEARCH_REGISTERED_MODELS, &q, err) != MT_OK)
		return err->code;
	struct registry_ctx x = api_registry_ctx(req);
	struct mt_registered_model *m;
	size_t n;
	bool more;
	if (store_rm_search(&x, &q, &m, &n, &more, err) != MT_OK)
		return err->code;
	struct jw *w = http_reply_json(req, resp);
	if (n) {
		jw_key(w, "registered_models");
		jw_arr_open(w);
		for (size_t i = 0; i < n; i++)
			api_write_registered_model(w, &m[i]);
		jw_arr_close(w);
	}
	if (more)
		jw_kv_str(w, "next_page_token", search_page_token_encode(req->arena, q.offset + q.limit));
	http_reply_json_end(w);
	return MT_OK;
}
