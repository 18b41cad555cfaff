/* SPDX-License-Identifier: Apache-2.0 */
/* registry.c: the model registry endpoints (registered models, versions, tags, aliases, stages, latest
 * versions, download URIs, search) with MLflow's validation, shapes and messages. No SQL here. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api_internal.h"
#include "mltrackd/search.h"
#include "mltrackd/store_auth.h"
#include "mltrackd/store_models.h"
#include "mltrackd/store_registry.h"
#include "mltrackd/util.h"
#include "mltrackd/validate.h"

#define MAX_REGISTRY_TAG_VALUE 100000

static void write_version(struct jw *w, const struct mt_model_version *v)
{
	jw_obj_open(w);
	jw_kv_str(w, "name", v->name);
	char ver[32];
	snprintf(ver, sizeof ver, "%lld", (long long)v->version);
	jw_kv_str(w, "version", ver);
	jw_kv_int(w, "creation_timestamp", v->creation_timestamp);
	jw_kv_int(w, "last_updated_timestamp", v->last_updated_timestamp);
	jw_kv_str_opt(w, "user_id", v->user_id);
	jw_kv_str(w, "current_stage", v->current_stage);
	jw_kv_str_opt(w, "description", v->description);
	jw_kv_str(w, "source", v->source);
	jw_kv_str(w, "run_id", v->run_id ? v->run_id : "");
	jw_kv_str(w, "status", v->status ? v->status : "READY");
	jw_kv_str_opt(w, "status_message", v->status_message);
	api_write_tags(w, "tags", v->tags, v->n_tags);
	jw_kv_str_opt(w, "run_link", v->run_link);
	if (v->n_aliases) {
		jw_key(w, "aliases");
		jw_arr_open(w);
		for (size_t i = 0; i < v->n_aliases; i++)
			jw_str(w, v->aliases[i]);
		jw_arr_close(w);
	}
	jw_kv_str_opt(w, "model_id", v->model_id);
	jw_obj_close(w);
}

static void write_model(struct jw *w, const struct mt_registered_model *m)
{
	jw_obj_open(w);
	jw_kv_str(w, "name", m->name);
	jw_kv_int(w, "creation_timestamp", m->creation_timestamp);
	jw_kv_int(w, "last_updated_timestamp", m->last_updated_timestamp);
	jw_kv_str_opt(w, "description", m->description);
	if (m->n_latest) {
		jw_key(w, "latest_versions");
		jw_arr_open(w);
		for (size_t i = 0; i < m->n_latest; i++)
			write_version(w, &m->latest[i]);
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

static enum mt_error reply_model(struct mt_request *req, struct mt_response *resp, const char *name, struct mt_err *err)
{
	struct mt_registered_model m;
	if (reg_model_get(req->srv->store, req->arena, name, &m, err) != MT_OK)
		return err->code;
	struct jw *w = http_reply_json(req, resp);
	jw_key(w, "registered_model");
	write_model(w, &m);
	http_reply_json_end(w);
	return MT_OK;
}

static enum mt_error reply_version(struct mt_request *req, struct mt_response *resp, const char *name, int64_t ver,
                                   struct mt_err *err)
{
	struct mt_model_version v;
	if (reg_version_get(req->srv->store, req->arena, name, ver, &v, err) != MT_OK)
		return err->code;
	struct jw *w = http_reply_json(req, resp);
	jw_key(w, "model_version");
	write_version(w, &v);
	http_reply_json_end(w);
	return MT_OK;
}

static enum mt_error read_name(struct mt_request *req, const char *field, const char **name, struct mt_err *err)
{
	if (json_get_str(req->args, field, true, name, err) != MT_OK)
		return err->code;
	if (strlen(*name) > 256)
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "'%s' exceeds the maximum length of 256 characters", field);
	return MT_OK;
}

/* MLflow's version arguments are strings holding an integer. */
static enum mt_error read_version(struct mt_request *req, int64_t *v, struct mt_err *err)
{
	const cJSON *f = json_field(req->args, "version");
	if (f == NULL)
		return json_fail_missing(err, "version");
	if (json_get_i64(req->args, "version", true, v, NULL, err) != MT_OK || *v < 1) {
		mt_err_init(err);
		char *txt = cJSON_PrintUnformatted(f);
		enum mt_error rc = mt_fail(err, MT_INVALID_PARAMETER_VALUE, "Parameter 'version' must be an integer, got %.100s.",
		                           txt ? txt : "?");
		cJSON_free(txt);
		return rc;
	}
	return MT_OK;
}

static enum mt_error validate_tag(const char *key, const char *value, struct mt_err *err)
{
	if (validate_key_name("key", key, err) != MT_OK || validate_length("key", 250, key, err) != MT_OK ||
	    validate_length("value", MAX_REGISTRY_TAG_VALUE, value, err) != MT_OK)
		return err->code;
	return MT_OK;
}

static const char *canonical_stage(const char *s)
{
	static const char *const stages[] = {"None", "Staging", "Production", "Archived"};
	for (size_t i = 0; i < 4; i++)
		if (strcasecmp(s, stages[i]) == 0)
			return stages[i];
	return NULL;
}

static enum mt_error validate_alias(const char *alias, struct mt_err *err)
{
	size_t n = strlen(alias);
	bool ok = n > 0 && n <= 255;
	for (size_t i = 0; ok && i < n; i++)
		ok = isalnum((unsigned char)alias[i]) || alias[i] == '_' || alias[i] == '-';
	if (!ok)
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE,
		               "Invalid alias name: '%.255s'. Names may only contain alphanumerics, underscores (_), and dashes (-).",
		               alias);
	bool vnum = (alias[0] == 'v' || alias[0] == 'V') && n > 1 && strspn(alias + 1, "0123456789") == n - 1;
	if (strcasecmp(alias, "latest") == 0 || vnum)
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE,
		               "'%.255s' alias name (case insensitive) is reserved.", alias);
	return MT_OK;
}

/* ---- registered models ---- */

MT_HANDLER(api_registered_models_create)
{
	const char *name, *desc = NULL;
	struct mt_tag *tags;
	size_t n;
	if (read_name(req, "name", &name, err) != MT_OK || json_get_str(req->args, "description", false, &desc, err) != MT_OK ||
	    api_read_tags(req, "tags", &tags, &n, err) != MT_OK)
		return err->code;
	for (size_t i = 0; i < n; i++)
		if (validate_tag(tags[i].key, tags[i].value, err) != MT_OK)
			return err->code;
	struct mt_registered_model m;
	if (reg_model_create(req->srv->store, req->arena, name, desc, tags, n, req->principal, &m, err) != MT_OK)
		return err->code;
	struct jw *w = http_reply_json(req, resp);
	jw_key(w, "registered_model");
	write_model(w, &m);
	http_reply_json_end(w);
	return MT_OK;
}

MT_HANDLER(api_registered_models_get)
{
	const char *name;
	if (read_name(req, "name", &name, err) != MT_OK)
		return err->code;
	return reply_model(req, resp, name, err);
}

MT_HANDLER(api_registered_models_rename)
{
	const char *name, *new_name;
	if (read_name(req, "name", &name, err) != MT_OK || read_name(req, "new_name", &new_name, err) != MT_OK ||
	    reg_model_rename(req->srv->store, name, new_name, req->principal, err) != MT_OK)
		return err->code;
	struct mt_err gerr;
	mt_err_init(&gerr);
	store_grant_rename(req->srv->store, "registered_model", name, new_name, &gerr); /* grants follow the model */
	return reply_model(req, resp, new_name, err);
}

MT_HANDLER(api_registered_models_update)
{
	const char *name, *desc = NULL;
	if (read_name(req, "name", &name, err) != MT_OK || json_get_str(req->args, "description", false, &desc, err) != MT_OK ||
	    reg_model_update(req->srv->store, name, desc, req->principal, err) != MT_OK)
		return err->code;
	return reply_model(req, resp, name, err);
}

MT_HANDLER(api_registered_models_delete)
{
	const char *name;
	if (read_name(req, "name", &name, err) != MT_OK || reg_model_delete(req->srv->store, name, req->principal, err) != MT_OK)
		return err->code;
	struct mt_err gerr;
	mt_err_init(&gerr);
	store_grant_rename(req->srv->store, "registered_model", name, NULL, &gerr); /* a deleted model's grants go */
	http_reply_empty(resp);
	return MT_OK;
}

MT_HANDLER(api_registered_models_set_tag)
{
	const char *name, *key, *value = "";
	if (read_name(req, "name", &name, err) != MT_OK || json_get_str(req->args, "key", true, &key, err) != MT_OK ||
	    json_get_str(req->args, "value", false, &value, err) != MT_OK || validate_tag(key, value, err) != MT_OK ||
	    reg_model_tag(req->srv->store, name, key, value, req->principal, err) != MT_OK)
		return err->code;
	http_reply_empty(resp);
	return MT_OK;
}

MT_HANDLER(api_registered_models_delete_tag)
{
	const char *name, *key;
	if (read_name(req, "name", &name, err) != MT_OK || json_get_str(req->args, "key", true, &key, err) != MT_OK ||
	    reg_model_tag(req->srv->store, name, key, NULL, req->principal, err) != MT_OK)
		return err->code;
	http_reply_empty(resp);
	return MT_OK;
}

static enum mt_error read_query(struct mt_request *req, enum search_kind kind, int64_t dflt, int64_t cap,
                                struct reg_query *q, struct search_filter *f, struct mt_err *err)
{
	const char *filter = NULL, *token = NULL;
	const cJSON *order;
	bool has_max = false;
	memset(q, 0, sizeof *q);
	q->limit = dflt;
	if (json_get_str(req->args, "filter", false, &filter, err) != MT_OK ||
	    json_get_str(req->args, "page_token", false, &token, err) != MT_OK ||
	    json_get_i64(req->args, "max_results", false, &q->limit, &has_max, err) != MT_OK ||
	    json_get_array(req->args, "order_by", false, &order, err) != MT_OK ||
	    search_parse_filter(req->arena, kind, filter, f, err) != MT_OK || api_page_token_decode(token, &q->offset, err) != MT_OK)
		return err->code;
	if (!has_max)
		q->limit = dflt;
	if (q->limit < 1 || q->limit > cap)
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE,
		               "Invalid value for max_results. It must be at most %lld, but got value %lld", (long long)cap,
		               (long long)q->limit);
	size_t n = order ? (size_t)cJSON_GetArraySize(order) : 0;
	struct search_order *o = arena_alloc(req->arena, (n ? n : 1) * sizeof *o);
	size_t i = 0;
	const cJSON *it;
	cJSON_ArrayForEach(it, order)
	{
		if (!cJSON_IsString(it))
			return json_fail_type(err, "order_by", order);
		if (search_parse_order_by(req->arena, kind, it->valuestring, &o[i], err) != MT_OK)
			return err->code;
		i++;
	}
	q->filter = f;
	q->order = o;
	q->n_order = i;
	return MT_OK;
}

MT_HANDLER(api_registered_models_search)
{
	struct reg_query q;
	struct search_filter f;
	struct mt_registered_model *v;
	size_t n;
	bool more;
	if (read_query(req, SEARCH_REGISTERED_MODELS, 100, 1000, &q, &f, err) != MT_OK ||
	    reg_models_search(req->srv->store, req->arena, &q, &v, &n, &more, err) != MT_OK)
		return err->code;
	struct jw *w = http_reply_json(req, resp);
	if (n) {
		jw_key(w, "registered_models");
		jw_arr_open(w);
		for (size_t i = 0; i < n; i++)
			write_model(w, &v[i]);
		jw_arr_close(w);
	}
	if (more)
		jw_kv_str(w, "next_page_token", api_page_token_encode(req->arena, q.offset + (int64_t)n));
	http_reply_json_end(w);
	return MT_OK;
}

MT_HANDLER(api_registered_models_latest_versions)
{
	const char *name;
	const cJSON *stages;
	if (read_name(req, "name", &name, err) != MT_OK || json_get_array(req->args, "stages", false, &stages, err) != MT_OK)
		return err->code;
	size_t ns = stages ? (size_t)cJSON_GetArraySize(stages) : 0;
	const char **st = arena_alloc(req->arena, (ns ? ns : 1) * sizeof *st);
	size_t k = 0;
	const cJSON *it;
	cJSON_ArrayForEach(it, stages)
	{
		if (!cJSON_IsString(it) || !canonical_stage(it->valuestring))
			return mt_fail(err, MT_INVALID_PARAMETER_VALUE,
			               "Invalid Model Version stage: %.50s. Value must be one of None, Staging, Production, Archived.",
			               cJSON_IsString(it) ? it->valuestring : "?");
		st[k++] = canonical_stage(it->valuestring);
	}
	struct mt_model_version *v;
	size_t n;
	if (reg_latest_versions(req->srv->store, req->arena, name, st, k, &v, &n, err) != MT_OK)
		return err->code;
	struct jw *w = http_reply_json(req, resp);
	if (n) {
		jw_key(w, "model_versions");
		jw_arr_open(w);
		for (size_t i = 0; i < n; i++)
			write_version(w, &v[i]);
		jw_arr_close(w);
	}
	http_reply_json_end(w);
	return MT_OK;
}

MT_HANDLER(api_registered_models_alias_set)
{
	const char *name, *alias;
	int64_t ver;
	if (read_name(req, "name", &name, err) != MT_OK || json_get_str(req->args, "alias", true, &alias, err) != MT_OK ||
	    validate_alias(alias, err) != MT_OK || read_version(req, &ver, err) != MT_OK ||
	    reg_alias_set(req->srv->store, name, alias, ver, req->principal, err) != MT_OK)
		return err->code;
	http_reply_empty(resp);
	return MT_OK;
}

MT_HANDLER(api_registered_models_alias_delete)
{
	const char *name, *alias;
	if (read_name(req, "name", &name, err) != MT_OK || json_get_str(req->args, "alias", true, &alias, err) != MT_OK ||
	    reg_alias_delete(req->srv->store, name, alias, req->principal, err) != MT_OK)
		return err->code;
	http_reply_empty(resp);
	return MT_OK;
}

MT_HANDLER(api_registered_models_alias_get)
{
	const char *name, *alias;
	struct mt_model_version v;
	if (read_name(req, "name", &name, err) != MT_OK || json_get_str(req->args, "alias", true, &alias, err) != MT_OK ||
	    reg_alias_get(req->srv->store, req->arena, name, alias, &v, err) != MT_OK)
		return err->code;
	struct jw *w = http_reply_json(req, resp);
	jw_key(w, "model_version");
	write_version(w, &v);
	http_reply_json_end(w);
	return MT_OK;
}

/* ---- model versions ---- */

/* Where a version's files are: runs:/<run>/<path> -> the run's artifact URI + path; models:/<m-id> -> the
 * logged model's artifact URI; a remote URI is its own location. Local paths and traversal are refused
 * (MLflow's source-validation CVE class). */
static enum mt_error resolve_source(struct mt_request *req, const char *source, const char **run_id,
                                    const char **model_id, const char **location, struct mt_err *err)
{
	if (strstr(source, "..") || strchr(source, '\\') || !strstr(source, ":") || strncasecmp(source, "file:", 5) == 0 ||
	    strlen(source) > 4096)
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE,
		               "Invalid model version source: '%.200s'. Use a runs:/, models:/ or remote artifact URI.", source);
	if (strncmp(source, "runs:/", 6) == 0) {
		/* As the reference: the location of a runs:/ source is the source itself (the client resolves it
		 * through the run), and an absent run_id is taken from it. */
		const char *p = source + 6;
		while (*p == '/')
			p++;
		if (!*run_id || !(*run_id)[0])
			*run_id = arena_strndup(req->arena, p, strcspn(p, "/"));
		*location = source;
		return MT_OK;
	}
	if (strncmp(source, "models:/m-", 10) == 0) {
		const char *mid = source + 8;
		struct mt_logged_model m;
		if (store_logged_model_get(req->srv->store, req->arena, mid, false, &m, err) != MT_OK)
			return err->code;
		*location = m.artifact_uri;
		if ((!*run_id || !(*run_id)[0]) && m.source_run_id)
			*run_id = m.source_run_id;
		if (!*model_id || !(*model_id)[0])
			*model_id = m.model_id;
		return MT_OK;
	}
	*location = source;
	return MT_OK;
}

MT_HANDLER(api_model_versions_create)
{
	struct reg_version_create in;
	memset(&in, 0, sizeof in);
	struct mt_tag *tags;
	if (read_name(req, "name", &in.name, err) != MT_OK || json_get_str(req->args, "source", true, &in.source, err) != MT_OK ||
	    json_get_str(req->args, "run_id", false, &in.run_id, err) != MT_OK ||
	    json_get_str(req->args, "run_link", false, &in.run_link, err) != MT_OK ||
	    json_get_str(req->args, "description", false, &in.description, err) != MT_OK ||
	    json_get_str(req->args, "model_id", false, &in.model_id, err) != MT_OK ||
	    api_read_tags(req, "tags", &tags, &in.n_tags, err) != MT_OK)
		return err->code;
	for (size_t i = 0; i < in.n_tags; i++)
		if (validate_tag(tags[i].key, tags[i].value, err) != MT_OK)
			return err->code;
	in.tags = tags;
	if (resolve_source(req, in.source, &in.run_id, &in.model_id, &in.storage_location, err) != MT_OK)
		return err->code;
	if (in.run_id && !in.run_id[0])
		in.run_id = NULL;
	if (in.model_id && !in.model_id[0])
		in.model_id = NULL;
	in.user_id = req->principal;
	struct mt_model_version v;
	if (reg_version_create(req->srv->store, req->arena, &in, req->principal, &v, err) != MT_OK)
		return err->code;
	if (in.model_id) {
		/* the logged model records where it was registered (tag mlflow.modelVersions), as MLflow does */
		struct mt_tag t = {"mlflow.modelVersions",
		                   arena_printf(req->arena, "[{\"name\": \"%s\", \"version\": \"%lld\"}]", v.name, (long long)v.version)};
		struct mt_err terr;
		mt_err_init(&terr);
		store_logged_model_set_tags(req->srv->store, in.model_id, &t, 1, &terr);
	}
	struct jw *w = http_reply_json(req, resp);
	jw_key(w, "model_version");
	write_version(w, &v);
	http_reply_json_end(w);
	return MT_OK;
}

MT_HANDLER(api_model_versions_get)
{
	const char *name;
	int64_t ver;
	if (read_name(req, "name", &name, err) != MT_OK || read_version(req, &ver, err) != MT_OK)
		return err->code;
	return reply_version(req, resp, name, ver, err);
}

MT_HANDLER(api_model_versions_update)
{
	const char *name, *desc = NULL;
	int64_t ver;
	if (read_name(req, "name", &name, err) != MT_OK || read_version(req, &ver, err) != MT_OK ||
	    json_get_str(req->args, "description", false, &desc, err) != MT_OK ||
	    reg_version_update(req->srv->store, name, ver, desc, req->principal, err) != MT_OK)
		return err->code;
	return reply_version(req, resp, name, ver, err);
}

MT_HANDLER(api_model_versions_delete)
{
	const char *name;
	int64_t ver;
	if (read_name(req, "name", &name, err) != MT_OK || read_version(req, &ver, err) != MT_OK ||
	    reg_version_delete(req->srv->store, name, ver, req->principal, err) != MT_OK)
		return err->code;
	http_reply_empty(resp);
	return MT_OK;
}

MT_HANDLER(api_model_versions_transition)
{
	const char *name, *stage;
	int64_t ver;
	bool archive = false;
	if (read_name(req, "name", &name, err) != MT_OK || read_version(req, &ver, err) != MT_OK ||
	    json_get_str(req->args, "stage", true, &stage, err) != MT_OK ||
	    json_get_bool(req->args, "archive_existing_versions", false, &archive, NULL, err) != MT_OK)
		return err->code;
	const char *canon = canonical_stage(stage);
	if (!canon)
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE,
		               "Invalid Model Version stage: %.50s. Value must be one of None, Staging, Production, Archived.", stage);
	if (archive && strcmp(canon, "Staging") != 0 && strcmp(canon, "Production") != 0)
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE,
		               "Model version transition cannot archive existing model versions because '%.50s' is not an Active "
		               "stage. Valid stages are ['Staging', 'Production']",
		               stage);
	if (reg_version_transition(req->srv->store, name, ver, canon, archive, req->principal, err) != MT_OK)
		return err->code;
	return reply_version(req, resp, name, ver, err);
}

MT_HANDLER(api_model_versions_download_uri)
{
	const char *name;
	int64_t ver;
	struct mt_model_version v;
	if (read_name(req, "name", &name, err) != MT_OK || read_version(req, &ver, err) != MT_OK ||
	    reg_version_get(req->srv->store, req->arena, name, ver, &v, err) != MT_OK)
		return err->code;
	struct jw *w = http_reply_json(req, resp);
	jw_kv_str(w, "artifact_uri", v.storage_location ? v.storage_location : v.source);
	http_reply_json_end(w);
	return MT_OK;
}

MT_HANDLER(api_model_versions_set_tag)
{
	const char *name, *key, *value = "";
	int64_t ver;
	if (read_name(req, "name", &name, err) != MT_OK || read_version(req, &ver, err) != MT_OK ||
	    json_get_str(req->args, "key", true, &key, err) != MT_OK ||
	    json_get_str(req->args, "value", false, &value, err) != MT_OK || validate_tag(key, value, err) != MT_OK ||
	    reg_version_tag(req->srv->store, name, ver, key, value, req->principal, err) != MT_OK)
		return err->code;
	http_reply_empty(resp);
	return MT_OK;
}

MT_HANDLER(api_model_versions_delete_tag)
{
	const char *name, *key;
	int64_t ver;
	if (read_name(req, "name", &name, err) != MT_OK || read_version(req, &ver, err) != MT_OK ||
	    json_get_str(req->args, "key", true, &key, err) != MT_OK ||
	    reg_version_tag(req->srv->store, name, ver, key, NULL, req->principal, err) != MT_OK)
		return err->code;
	http_reply_empty(resp);
	return MT_OK;
}

MT_HANDLER(api_model_versions_search)
{
	struct reg_query q;
	struct search_filter f;
	struct mt_model_version *v;
	size_t n;
	bool more;
	if (read_query(req, SEARCH_MODEL_VERSIONS, 200000, 200000, &q, &f, err) != MT_OK ||
	    reg_versions_search(req->srv->store, req->arena, &q, &v, &n, &more, err) != MT_OK)
		return err->code;
	struct jw *w = http_reply_json(req, resp);
	if (n) {
		jw_key(w, "model_versions");
		jw_arr_open(w);
		for (size_t i = 0; i < n; i++)
			write_version(w, &v[i]);
		jw_arr_close(w);
	}
	if (more)
		jw_kv_str(w, "next_page_token", api_page_token_encode(req->arena, q.offset + (int64_t)n));
	http_reply_json_end(w);
	return MT_OK;
}
