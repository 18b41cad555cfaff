/* SPDX-License-Identifier: Apache-2.0 */
/* logged_models.c: MLflow 3 logged models (create, get, finalize, delete, tags, params, search) and a
 * run's inputs (datasets, models) and outputs (models), with the reference's validation and shapes. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api_internal.h"
#include "mltrackd/search.h"
#include "mltrackd/store_models.h"
#include "mltrackd/util.h"
#include "mltrackd/validate.h"

static const char *const status_names[] = {"LOGGED_MODEL_STATUS_UNSPECIFIED", "LOGGED_MODEL_PENDING",
                                           "LOGGED_MODEL_READY", "LOGGED_MODEL_UPLOAD_FAILED"};

static void write_model(struct jw *w, const struct mt_logged_model *m)
{
	char exp[32];
	snprintf(exp, sizeof exp, "%lld", (long long)m->experiment_id);
	jw_obj_open(w);
	jw_key(w, "info");
	jw_obj_open(w);
	jw_kv_str(w, "experiment_id", exp);
	jw_kv_str(w, "model_id", m->model_id);
	jw_kv_str(w, "name", m->name);
	jw_kv_str(w, "artifact_uri", m->artifact_uri);
	jw_kv_int(w, "creation_timestamp_ms", m->creation_timestamp_ms);
	jw_kv_int(w, "last_updated_timestamp_ms", m->last_updated_timestamp_ms);
	jw_kv_str_opt(w, "model_type", m->model_type);
	jw_kv_str_opt(w, "source_run_id", m->source_run_id);
	jw_kv_str(w, "status", status_names[m->status >= 0 && m->status <= 3 ? m->status : 0]);
	jw_kv_str_opt(w, "status_message", m->status_message);
	api_write_tags(w, "tags", m->tags, m->n_tags);
	jw_obj_close(w);
	jw_key(w, "data");
	jw_obj_open(w);
	api_write_tags(w, "params", m->params, m->n_params);
	if (m->n_metrics) {
		jw_key(w, "metrics");
		jw_arr_open(w);
		for (size_t i = 0; i < m->n_metrics; i++)
			api_write_metric(w, &m->metrics[i], true);
		jw_arr_close(w);
	}
	jw_obj_close(w);
	jw_obj_close(w);
}

static enum mt_error reply_model(struct mt_request *req, struct mt_response *resp, const struct mt_logged_model *m)
{
	struct jw *w = http_reply_json(req, resp);
	jw_key(w, "model");
	write_model(w, m);
	http_reply_json_end(w);
	return MT_OK;
}

/* Reads a {key, value} list where values are required strings (params/tags of logged models). */
static enum mt_error read_kv(struct mt_request *req, const cJSON *obj, const char *field, struct mt_tag **out, size_t *n,
                             struct mt_err *err)
{
	const cJSON *arr;
	*out = NULL;
	*n = 0;
	if (json_get_array(obj, field, false, &arr, err) != MT_OK || !arr)
		return err->code;
	size_t cnt = (size_t)cJSON_GetArraySize(arr);
	struct mt_tag *v = arena_calloc(req->arena, (cnt ? cnt : 1) * sizeof *v);
	size_t i = 0;
	const cJSON *it;
	cJSON_ArrayForEach(it, arr)
	{
		if (!cJSON_IsObject(it))
			return json_fail_type(err, field, it);
		if (json_get_str(it, "key", true, &v[i].key, err) != MT_OK)
			return err->code;
		v[i].value = "";
		if (json_get_str(it, "value", false, &v[i].value, err) != MT_OK)
			return err->code;
		i++;
	}
	*out = v;
	*n = i;
	return MT_OK;
}

static const char *model_id_param(struct mt_request *req) { return req->n_path_params > 0 ? req->path_params[0] : ""; }

MT_HANDLER(api_logged_models_create)
{
	const char *exp = NULL, *name = NULL, *type = NULL, *run = NULL;
	struct store_model_create in;
	memset(&in, 0, sizeof in);
	struct mt_tag *params, *tags;
	if (json_get_str(req->args, "experiment_id", true, &exp, err) != MT_OK ||
	    json_get_str(req->args, "name", false, &name, err) != MT_OK ||
	    json_get_str(req->args, "model_type", false, &type, err) != MT_OK ||
	    json_get_str(req->args, "source_run_id", false, &run, err) != MT_OK ||
	    read_kv(req, req->args, "params", &params, &in.n_params, err) != MT_OK ||
	    read_kv(req, req->args, "tags", &tags, &in.n_tags, err) != MT_OK ||
	    parse_experiment_id(exp, &in.experiment_id, err) != MT_OK)
		return err->code;
	if (name && name[0] && strpbrk(name, "/:.%\"'"))
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE,
		               "Invalid model name ('%.200s') provided. Model name must be a non-empty string and cannot "
		               "contain the following characters: ('/', ':', '.', '%%', '\"', \"'\")",
		               name);
	char hex[33];
	mt_random_hex(hex, 16);
	in.model_id = arena_printf(req->arena, "m-%s", hex);
	in.name = name && name[0] ? name : arena_printf(req->arena, "model-%.8s", hex);
	in.model_type = type && type[0] ? type : NULL;
	in.source_run_id = run && run[0] ? run : NULL;
	in.params = params;
	in.tags = tags;
	struct mt_logged_model m;
	if (store_logged_model_create(req->srv->store, req->arena, &in, &m, err) != MT_OK)
		return err->code;
	return reply_model(req, resp, &m);
}

MT_HANDLER(api_logged_models_get)
{
	bool allow_deleted = false;
	const cJSON *q = json_field(req->query, "allow_deleted");
	if (q && cJSON_IsString(q) && strcasecmp(q->valuestring, "true") == 0)
		allow_deleted = true;
	struct mt_logged_model m;
	if (store_logged_model_get(req->srv->store, req->arena, model_id_param(req), allow_deleted, &m, err) != MT_OK)
		return err->code;
	return reply_model(req, resp, &m);
}

MT_HANDLER(api_logged_models_finalize)
{
	/* MLflow's handler acts on the body's model_id (the client sends both, identical). */
	const char *id = NULL;
	if (json_get_str(req->args, "model_id", true, &id, err) != MT_OK)
		return err->code;
	const cJSON *st = json_field(req->args, "status");
	int status = -1;
	if (st == NULL)
		return json_fail_missing(err, "status");
	if (cJSON_IsNumber(st))
		status = (int)st->valuedouble;
	else if (cJSON_IsString(st))
		for (int i = 0; i < 4; i++)
			if (!strcmp(st->valuestring, status_names[i]))
				status = i;
	if (status < 1 || status > 3)
		return json_fail_type(err, "status", st);
	struct mt_logged_model m;
	if (store_logged_model_finalize(req->srv->store, id, status, err) != MT_OK ||
	    store_logged_model_get(req->srv->store, req->arena, id, false, &m, err) != MT_OK)
		return err->code;
	return reply_model(req, resp, &m);
}

MT_HANDLER(api_logged_models_delete)
{
	if (store_logged_model_delete(req->srv->store, model_id_param(req), err) != MT_OK)
		return err->code;
	http_reply_empty(resp);
	return MT_OK;
}

MT_HANDLER(api_logged_models_set_tags)
{
	struct mt_tag *tags;
	size_t n;
	if (read_kv(req, req->args, "tags", &tags, &n, err) != MT_OK)
		return err->code;
	for (size_t i = 0; i < n; i++)
		if (validate_key_name("key", tags[i].key, err) != MT_OK)
			return err->code;
	if (store_logged_model_set_tags(req->srv->store, model_id_param(req), tags, n, err) != MT_OK)
		return err->code;
	http_reply_empty(resp);
	return MT_OK;
}

MT_HANDLER(api_logged_models_delete_tag)
{
	const char *key = req->n_path_params > 1 ? req->path_params[1] : "";
	if (store_logged_model_delete_tag(req->srv->store, model_id_param(req), key, err) != MT_OK)
		return err->code;
	http_reply_empty(resp);
	return MT_OK;
}

MT_HANDLER(api_logged_models_log_params)
{
	struct mt_tag *params;
	size_t n;
	if (read_kv(req, req->args, "params", &params, &n, err) != MT_OK)
		return err->code;
	for (size_t i = 0; i < n; i++)
		if (api_validate_param(&params[i], "key", req->arena, err) != MT_OK)
			return err->code;
	if (store_logged_model_log_params(req->srv->store, model_id_param(req), params, n, err) != MT_OK)
		return err->code;
	http_reply_empty(resp);
	return MT_OK;
}

#define LOGGED_MODELS_DEFAULT_MAX_RESULTS 50

MT_HANDLER(api_logged_models_search)
{
	const cJSON *ids, *order;
	const char *filter = NULL, *token = NULL;
	int64_t max_results = LOGGED_MODELS_DEFAULT_MAX_RESULTS;
	bool has_max = false;
	struct logged_model_query q;
	memset(&q, 0, sizeof q);
	struct search_filter f;
	if (json_get_array(req->args, "experiment_ids", true, &ids, err) != MT_OK ||
	    json_get_str(req->args, "filter", false, &filter, err) != MT_OK ||
	    json_get_str(req->args, "page_token", false, &token, err) != MT_OK ||
	    json_get_i64(req->args, "max_results", false, &max_results, &has_max, err) != MT_OK ||
	    json_get_array(req->args, "order_by", false, &order, err) != MT_OK ||
	    search_parse_filter(req->arena, SEARCH_LOGGED_MODELS, filter, &f, err) != MT_OK ||
	    search_page_token_decode(token, &q.offset, err) != MT_OK)
		return err->code;
	const cJSON *datasets;
	if (json_get_array(req->args, "datasets", false, &datasets, err) != MT_OK)
		return err->code;
	size_t n_ds = datasets ? (size_t)cJSON_GetArraySize(datasets) : 0;
	if (n_ds > 100)
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "`datasets` holds at most 100 entries");
	struct logged_model_dataset *ds = arena_calloc(req->arena, (n_ds ? n_ds : 1) * sizeof *ds);
	size_t di = 0;
	const cJSON *it;
	cJSON_ArrayForEach(it, datasets)
	{
		if (!cJSON_IsObject(it))
			return json_fail_type(err, "datasets", it);
		if (json_get_str(it, "dataset_name", false, &ds[di].name, err) != MT_OK ||
		    json_get_str(it, "dataset_digest", false, &ds[di].digest, err) != MT_OK)
			return err->code;
		if (ds[di].name == NULL || ds[di].name[0] == '\0')
			return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "`dataset_name` in the `datasets` clause must be specified.");
		if (ds[di].digest && ds[di].digest[0] == '\0')
			ds[di].digest = NULL; /* the reference treats an empty digest as none given */
		di++;
	}
	if (!has_max || max_results <= 0)
		max_results = LOGGED_MODELS_DEFAULT_MAX_RESULTS;
	if (max_results > 50000)
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "max_results must be at most 50000");
	int64_t *exp;
	size_t k;
	if (api_read_readable_experiments(req, ids, &exp, &k, err) != MT_OK)
		return err->code;
	size_t n_order = order ? (size_t)cJSON_GetArraySize(order) : 0;
	if (n_order > SEARCH_MAX_ORDER_CLAUSES)
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "order_by holds at most %d clauses", SEARCH_MAX_ORDER_CLAUSES);
	struct search_order *o = arena_alloc(req->arena, (n_order ? n_order : 1) * sizeof *o);
	size_t oi = 0;
	cJSON_ArrayForEach(it, order)
	{
		const char *field = NULL, *dname = NULL, *ddigest = NULL;
		bool asc = true, has_asc = false;
		if (!cJSON_IsObject(it))
			return json_fail_type(err, "order_by", it);
		if (json_get_str(it, "field_name", false, &field, err) != MT_OK ||
		    json_get_bool(it, "ascending", false, &asc, &has_asc, err) != MT_OK ||
		    json_get_str(it, "dataset_name", false, &dname, err) != MT_OK ||
		    json_get_str(it, "dataset_digest", false, &ddigest, err) != MT_OK ||
		    search_logged_model_order_field(req->arena, field, has_asc ? asc : true, dname, ddigest, &o[oi], err) != MT_OK)
			return err->code;
		oi++;
	}
	q.experiment_ids = exp;
	q.n_experiments = k;
	q.filter = &f;
	q.order = o;
	q.n_order = oi;
	q.limit = max_results;
	q.datasets = ds;
	q.n_datasets = di;
	struct mt_logged_model *v = NULL;
	size_t n = 0;
	bool more = false;
	if (k > 0 && store_logged_models_search(req->srv->store, req->arena, &q, &v, &n, &more, err) != MT_OK)
		return err->code;
	struct jw *w = http_reply_json(req, resp);
	if (n) {
		jw_key(w, "models");
		jw_arr_open(w);
		for (size_t i = 0; i < n; i++)
			write_model(w, &v[i]);
		jw_arr_close(w);
	}
	if (more)
		jw_kv_str(w, "next_page_token", search_page_token_encode(req->arena, q.offset + (int64_t)n));
	http_reply_json_end(w);
	return MT_OK;
}

/* ---- experiments/search-datasets (ajax: the UI's dataset dropdown) ---- */

#define SEARCH_DATASETS_MAX_EXPERIMENTS 20
#define SEARCH_DATASETS_MAX_RESULTS 1000

MT_HANDLER(api_experiments_search_datasets)
{
	const cJSON *ids;
	if (json_get_array(req->args, "experiment_ids", false, &ids, err) != MT_OK)
		return err->code;
	int n_ids = ids ? cJSON_GetArraySize(ids) : 0;
	if (n_ids == 0)
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE,
		               "SearchDatasets request must specify at least one experiment_id.");
	if (n_ids > SEARCH_DATASETS_MAX_EXPERIMENTS)
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE,
		               "SearchDatasets request cannot specify more than %d experiment_ids. Received %d "
		               "experiment_ids.",
		               SEARCH_DATASETS_MAX_EXPERIMENTS, n_ids);
	int64_t *exp;
	size_t k;
	if (api_read_readable_experiments(req, ids, &exp, &k, err) != MT_OK)
		return err->code;
	struct mt_dataset_summary *v;
	size_t n = 0;
	if (store_dataset_summaries(req->srv->store, req->arena, exp, k, SEARCH_DATASETS_MAX_RESULTS, &v, &n, err) != MT_OK)
		return err->code;
	struct jw *w = http_reply_json(req, resp);
	if (n) {
		jw_key(w, "dataset_summaries");
		jw_arr_open(w);
		for (size_t i = 0; i < n; i++) {
			jw_obj_open(w);
			jw_kv_str(w, "experiment_id", arena_printf(req->arena, "%lld", (long long)v[i].experiment_id));
			jw_kv_str(w, "name", v[i].name);
			jw_kv_str(w, "digest", v[i].digest);
			if (v[i].context)
				jw_kv_str(w, "context", v[i].context);
			jw_obj_close(w);
		}
		jw_arr_close(w);
	}
	http_reply_json_end(w);
	return MT_OK;
}

/* ---- run inputs and outputs ---- */

static enum mt_error too_long(struct mt_err *err, const char *what, size_t max)
{
	return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "'%s' exceeds the maximum length of %zu characters", what, max);
}

MT_HANDLER(api_runs_log_inputs)
{
	const char *run_id;
	const cJSON *ds, *models;
	if (api_read_run_id(req, &run_id, err) != MT_OK || json_get_array(req->args, "datasets", false, &ds, err) != MT_OK ||
	    json_get_array(req->args, "models", false, &models, err) != MT_OK)
		return err->code;
	size_t nd = ds ? (size_t)cJSON_GetArraySize(ds) : 0, nm = models ? (size_t)cJSON_GetArraySize(models) : 0;
	if (nd > 1000)
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "A request can log at most 1000 dataset inputs");
	struct mt_dataset_input *in = arena_calloc(req->arena, (nd ? nd : 1) * sizeof *in);
	size_t i = 0;
	const cJSON *it;
	cJSON_ArrayForEach(it, ds)
	{
		const cJSON *d = json_field(it, "dataset");
		struct mt_dataset *x = &in[i].dataset;
		if (!cJSON_IsObject(d))
			return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "Dataset cannot be None");
		static const char *const req_fields[] = {"name", "digest", "source_type", "source"};
		const char **dst[] = {&x->name, &x->digest, &x->source_type, &x->source};
		for (int f = 0; f < 4; f++) {
			if (json_get_str(d, req_fields[f], false, dst[f], err) != MT_OK)
				return err->code;
			if (*dst[f] == NULL)
				return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "Dataset %s cannot be None", req_fields[f]);
		}
		if (json_get_str(d, "schema", false, &x->schema, err) != MT_OK ||
		    json_get_str(d, "profile", false, &x->profile, err) != MT_OK)
			return err->code;
		if (utf8_len(x->name) > 500)
			return too_long(err, "name", 500);
		if (utf8_len(x->digest) > 36)
			return too_long(err, "digest", 36);
		if (strlen(x->source) > 65535)
			return too_long(err, "source", 65535);
		if (x->schema && strlen(x->schema) > 1048575)
			return too_long(err, "schema", 1048575);
		if (x->profile && strlen(x->profile) > 16777215)
			return too_long(err, "profile", 16777215);
		if (read_kv(req, it, "tags", &in[i].tags, &in[i].n_tags, err) != MT_OK)
			return err->code;
		for (size_t t = 0; t < in[i].n_tags; t++) {
			if (utf8_len(in[i].tags[t].key) > 255)
				return too_long(err, "key", 255);
			if (utf8_len(in[i].tags[t].value) > 500)
				return too_long(err, "value", 500);
		}
		i++;
	}
	const char **mids = arena_alloc(req->arena, (nm ? nm : 1) * sizeof *mids);
	size_t j = 0;
	cJSON_ArrayForEach(it, models)
	{
		if (json_get_str(it, "model_id", true, &mids[j], err) != MT_OK)
			return err->code;
		j++;
	}
	if (store_run_log_inputs(req->srv->store, run_id, in, i, mids, j, err) != MT_OK)
		return err->code;
	http_reply_empty(resp);
	return MT_OK;
}

MT_HANDLER(api_runs_log_outputs)
{
	const char *run_id;
	const cJSON *models;
	if (api_read_run_id(req, &run_id, err) != MT_OK || json_get_array(req->args, "models", true, &models, err) != MT_OK)
		return err->code;
	size_t n = (size_t)cJSON_GetArraySize(models);
	struct mt_model_io *out = arena_calloc(req->arena, (n ? n : 1) * sizeof *out);
	size_t i = 0;
	const cJSON *it;
	cJSON_ArrayForEach(it, models)
	{
		if (json_get_str(it, "model_id", true, &out[i].model_id, err) != MT_OK ||
		    json_get_i64(it, "step", false, &out[i].step, NULL, err) != MT_OK)
			return err->code;
		i++;
	}
	if (store_run_log_outputs(req->srv->store, run_id, out, i, err) != MT_OK)
		return err->code;
	http_reply_empty(resp);
	return MT_OK;
}
