/* SPDX-License-Identifier: Apache-2.0 */
/* runs.c: the runs endpoints (create, get, update, delete, restore, log-parameter, set-tag, delete-tag)
 * with MLflow's validation and messages, and the Run serialisers shared with search. No SQL here. */
#include <stdio.h>
#include <string.h>

#include "api_internal.h"
#include "mltrackd/store_runs.h"
#include "mltrackd/util.h"
#include "mltrackd/validate.h"

/* ---- serialisers ---- */

void api_write_run_info(struct jw *w, const struct mt_run_info *i)
{
	char exp[32];
	snprintf(exp, sizeof exp, "%lld", (long long)i->experiment_id);
	jw_obj_open(w);
	jw_kv_str(w, "run_uuid", i->run_id);
	jw_kv_str(w, "experiment_id", exp);
	jw_kv_str(w, "run_name", i->run_name ? i->run_name : "");
	jw_kv_str(w, "user_id", i->user_id ? i->user_id : "");
	jw_kv_str(w, "status", i->status);
	jw_kv_int(w, "start_time", i->start_time);
	if (i->has_end_time)
		jw_kv_int(w, "end_time", i->end_time);
	jw_kv_str(w, "artifact_uri", i->artifact_uri);
	jw_kv_str(w, "lifecycle_stage", i->lifecycle_stage);
	jw_kv_str(w, "run_id", i->run_id);
	jw_obj_close(w);
}

void api_write_metric(struct jw *w, const struct mt_metric *m, bool with_run_id)
{
	jw_obj_open(w);
	jw_kv_str(w, "key", m->key);
	jw_kv_double(w, "value", m->value);
	jw_kv_int(w, "timestamp", m->timestamp);
	jw_kv_int(w, "step", m->step);
	jw_kv_str_opt(w, "dataset_name", m->dataset_name);
	jw_kv_str_opt(w, "dataset_digest", m->dataset_digest);
	jw_kv_str_opt(w, "model_id", m->model_id);
	if (with_run_id)
		jw_kv_str_opt(w, "run_id", m->run_id);
	jw_obj_close(w);
}

void api_write_history(struct jw *w, struct arena *a, const char *key, const struct mt_metric *pts, size_t n)
{
	/* the points of one key, none with a dataset, model or run id (what a run's history holds): the same bytes
	 * as api_write_metric, with the {"key":...,"value": prefix escaped once instead of per point */
	struct buf pre;
	buf_init(&pre, 8192);
	struct jw pw;
	jw_init(&pw, &pre);
	jw_obj_open(&pw);
	jw_kv_str(&pw, "key", key);
	buf_puts(&pre, ",\"value\":");
	bool plain = !pre.overflow;
	for (size_t i = 0; i < n && plain; i++)
		plain = !pts[i].dataset_name && !pts[i].dataset_digest && !pts[i].model_id && strcmp(pts[i].key, key) == 0;
	if (!plain) {
		buf_free(&pre);
		for (size_t i = 0; i < n; i++)
			api_write_metric(w, &pts[i], false);
		return;
	}
	char *tail = arena_alloc(a, pre.len + 3 * JSON_NUM_MAX + 32);
	memcpy(tail, pre.data, pre.len);
	for (size_t i = 0; i < n; i++) {
		char *p = tail + pre.len;
		p += json_fmt_double(p, pts[i].value);
		memcpy(p, ",\"timestamp\":", 13);
		p += 13;
		p += json_fmt_int(p, pts[i].timestamp);
		memcpy(p, ",\"step\":", 8);
		p += 8;
		p += json_fmt_int(p, pts[i].step);
		*p++ = '}';
		jw_raw(w, tail, (size_t)(p - tail));
	}
	buf_free(&pre);
}

void api_write_run(struct jw *w, const struct mt_run *r) { api_write_run_opts(w, r, true); }

void api_write_run_opts(struct jw *w, const struct mt_run *r, bool with_outputs)
{
	jw_obj_open(w);
	jw_key(w, "info");
	api_write_run_info(w, &r->info);
	jw_key(w, "data");
	jw_obj_open(w);
	if (r->n_metrics) {
		jw_key(w, "metrics");
		jw_arr_open(w);
		for (size_t i = 0; i < r->n_metrics; i++)
			api_write_metric(w, &r->metrics[i], false);
		jw_arr_close(w);
	}
	api_write_tags(w, "params", r->params, r->n_params);
	api_write_tags(w, "tags", r->tags, r->n_tags);
	jw_obj_close(w);
	jw_key(w, "inputs");
	jw_obj_open(w);
	if (r->n_dataset_inputs) {
		jw_key(w, "dataset_inputs");
		jw_arr_open(w);
		for (size_t i = 0; i < r->n_dataset_inputs; i++) {
			const struct mt_dataset_input *d = &r->dataset_inputs[i];
			jw_obj_open(w);
			api_write_tags(w, "tags", d->tags, d->n_tags);
			jw_key(w, "dataset");
			jw_obj_open(w);
			jw_kv_str(w, "name", d->dataset.name);
			jw_kv_str(w, "digest", d->dataset.digest);
			jw_kv_str(w, "source_type", d->dataset.source_type);
			jw_kv_str(w, "source", d->dataset.source);
			jw_kv_str_opt(w, "schema", d->dataset.schema);
			jw_kv_str_opt(w, "profile", d->dataset.profile);
			jw_obj_close(w);
			jw_obj_close(w);
		}
		jw_arr_close(w);
	}
	if (r->n_model_inputs) {
		jw_key(w, "model_inputs");
		jw_arr_open(w);
		for (size_t i = 0; i < r->n_model_inputs; i++) {
			jw_obj_open(w);
			jw_kv_str(w, "model_id", r->model_inputs[i].model_id);
			jw_obj_close(w);
		}
		jw_arr_close(w);
	}
	jw_obj_close(w);
	if (!with_outputs) {
		jw_obj_close(w);
		return;
	}
	jw_key(w, "outputs");
	jw_obj_open(w);
	if (r->n_model_outputs) {
		jw_key(w, "model_outputs");
		jw_arr_open(w);
		for (size_t i = 0; i < r->n_model_outputs; i++) {
			jw_obj_open(w);
			jw_kv_str(w, "model_id", r->model_outputs[i].model_id);
			jw_kv_int(w, "step", r->model_outputs[i].step);
			jw_obj_close(w);
		}
		jw_arr_close(w);
	}
	jw_obj_close(w);
	jw_obj_close(w);
}

enum mt_error api_read_run_id(struct mt_request *req, const char **run_id, struct mt_err *err)
{
	*run_id = NULL;
	if (json_get_str(req->args, "run_id", false, run_id, err) != MT_OK)
		return err->code;
	if (*run_id == NULL || (*run_id)[0] == '\0') {
		*run_id = NULL;
		if (json_get_str(req->args, "run_uuid", false, run_id, err) != MT_OK)
			return err->code;
	}
	if (*run_id == NULL || (*run_id)[0] == '\0')
		return json_fail_missing(err, "run_id");
	return MT_OK;
}

/* ---- generated run names, in MLflow's adjective-noun-NNN shape ---- */

static const char *const adjectives[] = {
	"able", "bold", "brave", "bright", "calm", "clean", "clever", "crisp", "eager", "fair", "fast", "gentle",
	"glad", "grand", "happy", "keen", "kind", "lively", "loud", "lucky", "mellow", "merry", "neat", "nimble",
	"polite", "proud", "quick", "quiet", "rare", "rich", "shy", "silent", "smart", "sunny", "swift", "tidy",
	"vivid", "warm", "wise", "zealous"};
static const char *const nouns[] = {
	"ant", "bat", "bear", "bee", "bird", "cat", "colt", "crab", "crow", "deer", "dog", "dove", "duck", "eel",
	"elk", "finch", "fish", "fox", "frog", "goat", "hare", "hawk", "hen", "jay", "koi", "lark", "lynx", "mole",
	"moth", "mouse", "owl", "ox", "ram", "seal", "shark", "slug", "snail", "squid", "toad", "wolf"};

static const char *random_run_name(struct arena *a)
{
	return arena_printf(a, "%s-%s-%u", adjectives[mt_random_below(sizeof adjectives / sizeof adjectives[0])],
	                    nouns[mt_random_below(sizeof nouns / sizeof nouns[0])], mt_random_below(1000));
}

/* ---- validation shared by run writes ---- */

static enum mt_error validate_tag(const char *path_key, struct mt_tag *t, struct arena *a, struct mt_err *err)
{
	if (validate_key_name(path_key, t->key, err) != MT_OK ||
	    validate_length(path_key, MT_MAX_ENTITY_KEY_LENGTH, t->key, err) != MT_OK)
		return err->code;
	/* Over-long tag values are truncated, as MLflow does with MLFLOW_TRUNCATE_LONG_VALUES (its default). */
	if (t->value && utf8_len(t->value) > MT_MAX_TAG_VAL_LENGTH)
		t->value = arena_strndup(a, t->value, utf8_prefix_bytes(t->value, MT_MAX_TAG_VAL_LENGTH));
	return MT_OK;
}

static const char *valid_status(const char *s)
{
	static const char *const ok[] = {"RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED"};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
		if (strcmp(s, ok[i]) == 0)
			return ok[i];
	return NULL;
}

/* ---- handlers ---- */

MT_HANDLER(api_runs_create)
{
	const char *exp = NULL, *user = "", *run_name = NULL;
	int64_t start = 0, exp_id = 0;
	struct mt_tag *tags;
	size_t n_tags;
	if (json_get_str(req->args, "experiment_id", false, &exp, err) != MT_OK ||
	    json_get_str(req->args, "user_id", false, &user, err) != MT_OK ||
	    json_get_str(req->args, "run_name", false, &run_name, err) != MT_OK ||
	    json_get_i64(req->args, "start_time", false, &start, NULL, err) != MT_OK ||
	    api_read_tags(req, "tags", &tags, &n_tags, err) != MT_OK)
		return err->code;
	/* An absent experiment is the Default one (the reference fails with a foreign-key error instead). */
	if (exp && exp[0] && parse_experiment_id(exp, &exp_id, err) != MT_OK)
		return err->code;
	const char *tag_name = NULL;
	for (size_t i = 0; i < n_tags; i++) {
		/* MLflow's create_run stores its tags without the key-name and key-length checks set-tag applies
		 * (a start_run(tags={"a*b": ...}) works against it), so only over-long values are cut here. */
		struct mt_tag *t = &tags[i];
		if (t->value && utf8_len(t->value) > MT_MAX_TAG_VAL_LENGTH)
			t->value = arena_strndup(req->arena, t->value, utf8_prefix_bytes(t->value, MT_MAX_TAG_VAL_LENGTH));
		if (strcmp(t->key, "mlflow.runName") == 0)
			tag_name = t->value;
	}
	if (run_name && run_name[0] && tag_name && tag_name[0] && strcmp(run_name, tag_name) != 0)
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE,
		               "Both 'run_name' argument and 'mlflow.runName' tag are specified, but with different values "
		               "(run_name='%.250s', mlflow.runName='%.250s').",
		               run_name, tag_name);
	const char *name = run_name && run_name[0] ? run_name : tag_name && tag_name[0] ? tag_name : random_run_name(req->arena);
	char id[33];
	mt_random_hex(id, 16);
	struct store_run_create in = {id, exp_id, user, start, name, tags, n_tags};
	struct mt_run r;
	if (store_run_create(req->srv->store, req->arena, &in, &r, err) != MT_OK)
		return err->code;
	struct jw *w = http_reply_json(req, resp);
	jw_key(w, "run");
	api_write_run_opts(w, &r, false); /* MLflow's create answer has no "outputs" */
	http_reply_json_end(w);
	return MT_OK;
}

MT_HANDLER(api_runs_get)
{
	const char *run_id;
	struct mt_run r;
	if (api_read_run_id(req, &run_id, err) != MT_OK || store_run_get(req->srv->store, req->arena, run_id, &r, err) != MT_OK)
		return err->code;
	struct jw *w = http_reply_json(req, resp);
	jw_key(w, "run");
	api_write_run(w, &r);
	http_reply_json_end(w);
	return MT_OK;
}

MT_HANDLER(api_runs_update)
{
	const char *run_id, *status = NULL, *name = NULL;
	int64_t end = 0;
	bool has_end = false;
	struct mt_run_info info;
	if (api_read_run_id(req, &run_id, err) != MT_OK || json_get_str(req->args, "status", false, &status, err) != MT_OK ||
	    json_get_i64(req->args, "end_time", false, &end, &has_end, err) != MT_OK ||
	    json_get_str(req->args, "run_name", false, &name, err) != MT_OK)
		return err->code;
	if (status && status[0] && !valid_status(status))
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE,
		               "Invalid run status '%.50s'. Valid values: RUNNING, SCHEDULED, FINISHED, FAILED, KILLED", status);
	if (store_run_update(req->srv->store, req->arena, run_id, status && status[0] ? valid_status(status) : NULL,
	                     has_end, end, name, &info, err) != MT_OK)
		return err->code;
	struct jw *w = http_reply_json(req, resp);
	jw_key(w, "run_info");
	api_write_run_info(w, &info);
	http_reply_json_end(w);
	return MT_OK;
}

static enum mt_error set_deleted(struct mt_request *req, struct mt_response *resp, bool deleted, struct mt_err *err)
{
	const char *run_id;
	if (api_read_run_id(req, &run_id, err) != MT_OK || store_run_set_deleted(req->srv->store, run_id, deleted, err) != MT_OK)
		return err->code;
	http_reply_empty(resp);
	return MT_OK;
}

MT_HANDLER(api_runs_delete) { return set_deleted(req, resp, true, err); }
MT_HANDLER(api_runs_restore) { return set_deleted(req, resp, false, err); }

MT_HANDLER(api_runs_log_parameter)
{
	const char *run_id;
	struct mt_tag p = {NULL, ""};
	if (api_read_run_id(req, &run_id, err) != MT_OK || json_get_str(req->args, "key", true, &p.key, err) != MT_OK ||
	    json_get_str(req->args, "value", false, &p.value, err) != MT_OK)
		return err->code;
	if (api_validate_param(&p, "key", req->arena, err) != MT_OK ||
	    store_run_log_batch(req->srv->store, run_id, NULL, 0, &p, 1, NULL, 0, err) != MT_OK)
		return err->code;
	http_reply_empty(resp);
	return MT_OK;
}

MT_HANDLER(api_runs_set_tag)
{
	const char *run_id;
	struct mt_tag t = {NULL, ""};
	if (api_read_run_id(req, &run_id, err) != MT_OK || json_get_str(req->args, "key", true, &t.key, err) != MT_OK ||
	    json_get_str(req->args, "value", false, &t.value, err) != MT_OK ||
	    validate_tag("key", &t, req->arena, err) != MT_OK ||
	    store_run_log_batch(req->srv->store, run_id, NULL, 0, NULL, 0, &t, 1, err) != MT_OK)
		return err->code;
	http_reply_empty(resp);
	return MT_OK;
}

MT_HANDLER(api_runs_delete_tag)
{
	const char *run_id, *key = NULL;
	if (api_read_run_id(req, &run_id, err) != MT_OK || json_get_str(req->args, "key", true, &key, err) != MT_OK ||
	    store_run_delete_tag(req->srv->store, run_id, key, err) != MT_OK)
		return err->code;
	http_reply_empty(resp);
	return MT_OK;
}

/* runs/log-model (legacy; MLflow 2.x clients and some flavors call it after uploading a model's files): the model's
 * summary is appended to the run's mlflow.log-model.history tag. */
#define LOG_MODEL_HISTORY_MAX (1024 * 1024)

MT_HANDLER(api_runs_log_model)
{
	const char *run_id, *model_json = NULL;
	if (api_read_run_id(req, &run_id, err) != MT_OK ||
	    json_get_str(req->args, "model_json", true, &model_json, err) != MT_OK)
		return err->code;
	cJSON *model = cJSON_Parse(model_json);
	if (!cJSON_IsObject(model)) { /* the reference: a JSON that is not an object is a 500; we say what is wrong */
		cJSON_Delete(model);
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "Malformed model info. \n %.500s \n is not a valid JSON.",
		               model_json);
	}
	static const char *const required[] = {"artifact_path", "flavors", "run_id", "utc_time_created"};
	struct buf missing;
	buf_init(&missing, 256);
	for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
		if (!cJSON_HasObjectItem(model, required[i]))
			buf_printf(&missing, "%s'%s'", missing.len ? ", " : "", required[i]);
	if (missing.len) {
		mt_fail(err, MT_INVALID_PARAMETER_VALUE, "Model json is missing mandatory fields: {%s}", missing.data);
		buf_free(&missing);
		cJSON_Delete(model);
		return err->code;
	}
	buf_free(&missing);
	/* What MLflow keeps of it (Model.get_tags_dict): run_id, artifact_path (both dropped when null),
	 * utc_time_created, model_uuid (null when absent, as Model.from_dict leaves it), and the flavors without their "config". */
	cJSON *item = cJSON_CreateObject();
	static const char *const kept[] = {"run_id", "artifact_path", "utc_time_created"};
	for (size_t i = 0; i < sizeof kept / sizeof kept[0]; i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(model, kept[i]);
		if (v && !cJSON_IsNull(v))
			cJSON_AddItemToObject(item, kept[i], cJSON_Duplicate(v, true));
	}
	const cJSON *uuid = cJSON_GetObjectItemCaseSensitive(model, "model_uuid");
	cJSON_AddItemToObject(item, "model_uuid", uuid ? cJSON_Duplicate(uuid, true) : cJSON_CreateNull());
	cJSON *flavors = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(model, "flavors"), true);
	const cJSON *fl;
	cJSON_ArrayForEach(fl, flavors)
	{
		if (cJSON_IsObject(fl))
			cJSON_DeleteItemFromObjectCaseSensitive((cJSON *)fl, "config");
	}
	cJSON_AddItemToObject(item, "flavors", flavors ? flavors : cJSON_CreateObject());
	cJSON_Delete(model);
	enum mt_error rc =
		store_run_append_json_tag(req->srv->store, run_id, "mlflow.log-model.history", item, LOG_MODEL_HISTORY_MAX, err);
	cJSON_Delete(item);
	if (rc != MT_OK)
		return rc;
	http_reply_empty(resp);
	return MT_OK;
}

enum mt_error api_validate_param(struct mt_tag *p, const char *path, struct arena *a, struct mt_err *err)
{
	if (validate_key_name(path, p->key, err) != MT_OK ||
	    validate_length("Param key", MT_MAX_ENTITY_KEY_LENGTH, p->key, err) != MT_OK)
		return err->code;
	if (p->value == NULL)
		p->value = "";
	/* Over-long values are truncated to 6000 characters (MLFLOW_TRUNCATE_LONG_VALUES, on by default). */
	if (utf8_len(p->value) > MT_MAX_PARAM_VAL_LENGTH)
		p->value = arena_strndup(a, p->value, utf8_prefix_bytes(p->value, MT_MAX_PARAM_VAL_LENGTH));
	return MT_OK;
}

enum mt_error api_validate_run_tag(struct mt_tag *t, const char *path, struct arena *a, struct mt_err *err)
{
	return validate_tag(path, t, a, err);
}
