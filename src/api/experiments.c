/* SPDX-License-Identifier: Apache-2.0 */
/* experiments.c: the experiments endpoints (create, get, get-by-name, ...): request validation with
 * MLflow's rules and messages, store calls, replies. No SQL and no HTTP library here. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api_internal.h"
#include "mltrackd/store_experiments.h"
#include "mltrackd/validate.h"

void api_write_tags(struct jw *w, const char *field, const struct mt_tag *tags, size_t n)
{
	if (n == 0)
		return;
	jw_key(w, field);
	jw_arr_open(w);
	for (size_t i = 0; i < n; i++) {
		jw_obj_open(w);
		jw_kv_str(w, "key", tags[i].key);
		jw_kv_str(w, "value", tags[i].value ? tags[i].value : "");
		jw_obj_close(w);
	}
	jw_arr_close(w);
}

void api_write_experiment(struct jw *w, const struct mt_experiment *e)
{
	jw_obj_open(w);
	char id[32];
	snprintf(id, sizeof id, "%lld", (long long)e->experiment_id);
	jw_kv_str(w, "experiment_id", id);
	jw_kv_str(w, "name", e->name);
	jw_kv_str(w, "artifact_location", e->artifact_location);
	jw_kv_str(w, "lifecycle_stage", e->lifecycle_stage);
	jw_kv_int(w, "last_update_time", e->last_update_time);
	jw_kv_int(w, "creation_time", e->creation_time);
	api_write_tags(w, "tags", e->tags, e->n_tags);
	jw_obj_close(w);
}

enum mt_error api_read_tags(struct mt_request *req, const char *field, struct mt_tag **out, size_t *n,
                            struct mt_err *err)
{
	const cJSON *arr;
	*out = NULL;
	*n = 0;
	if (json_get_array(req->args, field, false, &arr, err) != MT_OK || arr == NULL)
		return err->code;
	size_t cnt = (size_t)cJSON_GetArraySize(arr);
	struct mt_tag *tags = arena_calloc(req->arena, (cnt ? cnt : 1) * sizeof *tags);
	size_t i = 0;
	const cJSON *it;
	cJSON_ArrayForEach(it, arr)
	{
		if (!cJSON_IsObject(it))
			return json_fail_type(err, field, it);
		if (json_get_str(it, "key", true, &tags[i].key, err) != MT_OK)
			return err->code;
		tags[i].value = "";
		if (json_get_str(it, "value", false, &tags[i].value, err) != MT_OK)
			return err->code;
		i++;
	}
	*out = tags;
	*n = i;
	return MT_OK;
}

/* An experiment's artifact_location: a path (MLflow's local store) or a URI of a known artifact scheme,
 * never with a ".." segment. The proxied store only ever serves beneath its own root; this keeps the
 * catalogue honest for the clients that read the location. */
static enum mt_error check_artifact_location(const char *loc, struct mt_err *err)
{
	static const char *const schemes[] = {"mlflow-artifacts", "s3", "gs", "wasbs", "wasb", "abfss", "hdfs", "viewfs",
	                                      "dbfs", "file", "sftp", "ftp", "oss", "http", "https", "uc-volumes"};
	const char *colon = strchr(loc, ':');
	const char *slash = strchr(loc, '/');
	if (colon && (!slash || colon < slash)) {
		size_t n = (size_t)(colon - loc);
		bool known = false;
		for (size_t i = 0; i < sizeof schemes / sizeof schemes[0] && !known; i++)
			known = strlen(schemes[i]) == n && strncasecmp(loc, schemes[i], n) == 0;
		if (!known)
			return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "Unsupported artifact location scheme: '%.200s'", loc);
	}
	for (const char *p = loc; (p = strstr(p, "..")) != NULL; p += 2)
		if ((p == loc || p[-1] == '/') && (p[2] == '\0' || p[2] == '/'))
			return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "Invalid artifact location: '%.200s'", loc);
	return MT_OK;
}

MT_HANDLER(api_experiments_create)
{
	const char *name = NULL, *location = NULL;
	struct mt_tag *tags;
	size_t n_tags;
	if (json_get_str(req->args, "name", true, &name, err) != MT_OK ||
	    json_get_str(req->args, "artifact_location", false, &location, err) != MT_OK ||
	    api_read_tags(req, "tags", &tags, &n_tags, err) != MT_OK)
		return err->code;
	if (validate_experiment_name(name, err) != MT_OK)
		return err->code;
	if (location && strncmp(location, "runs:", 5) == 0)
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "Artifact location cannot be a runs:/ URI. Given: '%.500s'",
		               location);
	if (location && location[0] && check_artifact_location(location, err) != MT_OK)
		return err->code;
	for (size_t i = 0; i < n_tags; i++) {
		if (validate_key_name("key", tags[i].key, err) != MT_OK ||
		    validate_length("key", MT_MAX_EXPERIMENT_TAG_KEY_LENGTH, tags[i].key, err) != MT_OK ||
		    validate_length("value", MT_MAX_EXPERIMENT_TAG_VAL_LENGTH, tags[i].value, err) != MT_OK)
			return err->code;
	}
	int64_t id;
	if (store_experiment_create(req->srv->store, name, location, req->srv->artifact_root_uri, tags, n_tags, &id,
	                            err) != MT_OK)
		return err->code;
	struct jw *w = http_reply_json(req, resp);
	req->created_id = arena_printf(req->arena, "%lld", (long long)id);
	jw_kv_str(w, "experiment_id", req->created_id);
	http_reply_json_end(w);
	return MT_OK;
}

MT_HANDLER(api_experiments_get)
{
	const char *sid = NULL;
	int64_t id;
	struct mt_experiment e;
	if (json_get_str(req->args, "experiment_id", true, &sid, err) != MT_OK ||
	    parse_experiment_id(sid, &id, err) != MT_OK ||
	    store_experiment_get(req->srv->store, req->arena, id, &e, err) != MT_OK)
		return err->code;
	struct jw *w = http_reply_json(req, resp);
	jw_key(w, "experiment");
	api_write_experiment(w, &e);
	http_reply_json_end(w);
	return MT_OK;
}

MT_HANDLER(api_experiments_get_by_name)
{
	const char *name = NULL;
	struct mt_experiment e;
	if (json_get_str(req->args, "experiment_name", true, &name, err) != MT_OK ||
	    store_experiment_get_by_name(req->srv->store, req->arena, name, &e, err) != MT_OK)
		return err->code;
	struct jw *w = http_reply_json(req, resp);
	jw_key(w, "experiment");
	api_write_experiment(w, &e);
	http_reply_json_end(w);
	return MT_OK;
}

/* Reads the required experiment_id (a string on the wire) as the SQL store's integer id. */
static enum mt_error read_experiment_id(struct mt_request *req, int64_t *id, struct mt_err *err)
{
	const char *sid = NULL;
	if (json_get_str(req->args, "experiment_id", true, &sid, err) != MT_OK)
		return err->code;
	return parse_experiment_id(sid, id, err);
}

MT_HANDLER(api_experiments_update)
{
	int64_t id;
	const char *new_name = NULL;
	if (read_experiment_id(req, &id, err) != MT_OK || json_get_str(req->args, "new_name", true, &new_name, err) != MT_OK ||
	    validate_experiment_name(new_name, err) != MT_OK ||
	    store_experiment_rename(req->srv->store, id, new_name, err) != MT_OK)
		return err->code;
	http_reply_empty(resp);
	return MT_OK;
}

MT_HANDLER(api_experiments_delete)
{
	int64_t id;
	if (read_experiment_id(req, &id, err) != MT_OK || store_experiment_delete(req->srv->store, id, err) != MT_OK)
		return err->code;
	http_reply_empty(resp);
	return MT_OK;
}

MT_HANDLER(api_experiments_restore)
{
	int64_t id;
	if (read_experiment_id(req, &id, err) != MT_OK || store_experiment_restore(req->srv->store, id, err) != MT_OK)
		return err->code;
	http_reply_empty(resp);
	return MT_OK;
}

MT_HANDLER(api_experiments_set_tag)
{
	int64_t id;
	const char *key = NULL, *value = "";
	if (read_experiment_id(req, &id, err) != MT_OK || json_get_str(req->args, "key", true, &key, err) != MT_OK ||
	    json_get_str(req->args, "value", false, &value, err) != MT_OK ||
	    validate_key_name("key", key, err) != MT_OK ||
	    validate_length("key", MT_MAX_EXPERIMENT_TAG_KEY_LENGTH, key, err) != MT_OK ||
	    validate_length("value", MT_MAX_EXPERIMENT_TAG_VAL_LENGTH, value, err) != MT_OK ||
	    store_experiment_set_tag(req->srv->store, id, key, value, err) != MT_OK)
		return err->code;
	http_reply_empty(resp);
	return MT_OK;
}

MT_HANDLER(api_experiments_delete_tag)
{
	int64_t id;
	const char *key = NULL;
	if (read_experiment_id(req, &id, err) != MT_OK || json_get_str(req->args, "key", true, &key, err) != MT_OK ||
	    store_experiment_delete_tag(req->srv->store, id, key, err) != MT_OK)
		return err->code;
	http_reply_empty(resp);
	return MT_OK;
}
