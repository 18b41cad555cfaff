/* SPDX-License-Identifier: Apache-2.0 */
/* metrics.c: log-metric, log-batch, get-history and get-history-bulk-interval, with MLflow's limits and
 * messages. A batch is validated whole before anything is written, and written in one writer job. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"
#include "mltrackd/store_runs.h"
#include "mltrackd/validate.h"

/* Reads one metric object; `path` is "" for log-metric and "metrics[i]" inside a batch (MLflow's names). */
static enum mt_error read_metric(const cJSON *obj, const char *path, struct mt_metric *m,
                                 struct mt_err *err)
{
	char f[64];
#define FIELD(name) (snprintf(f, sizeof f, "%s%s%s", path, path[0] ? "." : "", name), f)
	memset(m, 0, sizeof *m);
	const cJSON *v = json_field(obj, "key");
	/* log-metric's schema makes an empty key a missing one; inside a batch it fails the name rule */
	if (v == NULL || (!path[0] && cJSON_IsString(v) && !v->valuestring[0]))
		return json_fail_missing(err, FIELD("key"));
	if (!cJSON_IsString(v))
		return json_fail_type(err, FIELD("key"), v);
	m->key = v->valuestring;
	v = json_field(obj, "value");
	if (v == NULL)
		return json_fail_missing(err, FIELD("value"));
	if (cJSON_IsBool(v)) {
		m->value = cJSON_IsTrue(v) ? 1.0 : 0.0; /* the reference accepts booleans as 1 / 0 */
	} else if (json_get_double(obj, "value", true, &m->value, err) != MT_OK) {
		mt_err_init(err); /* re-word the failure with the field's path inside the batch */
		return json_fail_type(err, FIELD("value"), v);
	}
	v = json_field(obj, "timestamp");
	if (v == NULL)
		return json_fail_missing(err, FIELD("timestamp"));
	bool present = false;
	if (json_get_i64(obj, "timestamp", true, &m->timestamp, &present, err) != MT_OK) {
		mt_err_init(err);
		return json_fail_type(err, FIELD("timestamp"), v);
	}
	if (m->timestamp < 0) {
		char num[40];
		if (isnan(m->value))
			snprintf(num, sizeof num, "nan");
		else if (isinf(m->value))
			snprintf(num, sizeof num, "%sinf", m->value < 0 ? "-" : "");
		else
			mt_format_double(num, sizeof num, m->value);
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE,
		               "Invalid value %lld for parameter '%s' supplied: metric '%.250s' (value=%s). Timestamp must be "
		               "a nonnegative long (64-bit integer) ",
		               (long long)m->timestamp, FIELD("timestamp"), m->key, num);
	}
	v = json_field(obj, "step");
	if (v && json_get_i64(obj, "step", false, &m->step, NULL, err) != MT_OK) {
		mt_err_init(err);
		return json_fail_type(err, FIELD("step"), v);
	}
	if (json_get_str(obj, "model_id", false, &m->model_id, err) != MT_OK ||
	    json_get_str(obj, "dataset_name", false, &m->dataset_name, err) != MT_OK ||
	    json_get_str(obj, "dataset_digest", false, &m->dataset_digest, err) != MT_OK)
		return err->code;
	if (m->model_id && !m->model_id[0])
		m->model_id = NULL;
	if (m->dataset_name && !m->dataset_name[0])
		m->dataset_name = NULL;
	if (m->dataset_digest && !m->dataset_digest[0])
		m->dataset_digest = NULL;
	if (validate_key_name(FIELD("name"), m->key, err) != MT_OK ||
	    validate_length("Metric name", MT_MAX_ENTITY_KEY_LENGTH, m->key, err) != MT_OK)
		return err->code;
#undef FIELD
	return MT_OK;
}

MT_HANDLER(api_runs_log_metric)
{
	const char *run_id;
	struct mt_metric m;
	if (api_read_run_id(req, &run_id, err) != MT_OK || read_metric(req->args, "", &m, err) != MT_OK ||
	    store_run_log_batch(req->srv->store, run_id, &m, 1, NULL, 0, NULL, 0, err) != MT_OK)
		return err->code;
	http_reply_empty(resp);
	return MT_OK;
}

static enum mt_error batch_limit(struct mt_err *err, const char *what, int limit, int got)
{
	return mt_fail(err, MT_INVALID_PARAMETER_VALUE,
	               "A batch logging request can contain at most %d %s. Got %d %s. Please split up %s across multiple "
	               "requests and try again.",
	               limit, what, got, what, what);
}

static enum mt_error read_kv_list(struct mt_request *req, const cJSON *arr, const char *name, struct mt_tag **out,
                                  size_t *n, bool is_param, struct mt_err *err)
{
	size_t cnt = arr ? (size_t)cJSON_GetArraySize(arr) : 0;
	struct mt_tag *v = arena_calloc(req->arena, (cnt ? cnt : 1) * sizeof *v);
	size_t i = 0;
	const cJSON *it;
	cJSON_ArrayForEach(it, arr)
	{
		char path[64];
		snprintf(path, sizeof path, "%s[%zu].key", name, i);
		if (!cJSON_IsObject(it))
			return json_fail_type(err, name, it);
		const cJSON *k = json_field(it, "key"), *val = json_field(it, "value");
		if (k == NULL)
			return json_fail_missing(err, path);
		if (!cJSON_IsString(k))
			return json_fail_type(err, path, k);
		if (val && !cJSON_IsString(val))
			return json_fail_type(err, name, val);
		v[i].key = k->valuestring;
		v[i].value = val ? val->valuestring : "";
		if ((is_param ? api_validate_param(&v[i], path, req->arena, err)
		              : api_validate_run_tag(&v[i], path, req->arena, err)) != MT_OK)
			return err->code;
		i++;
	}
	*out = v;
	*n = i;
	return MT_OK;
}

MT_HANDLER(api_runs_log_batch)
{
	const char *run_id;
	const cJSON *jm, *jp, *jt;
	if (api_read_run_id(req, &run_id, err) != MT_OK || json_get_array(req->args, "metrics", false, &jm, err) != MT_OK ||
	    json_get_array(req->args, "params", false, &jp, err) != MT_OK ||
	    json_get_array(req->args, "tags", false, &jt, err) != MT_OK)
		return err->code;
	int nm = jm ? cJSON_GetArraySize(jm) : 0, np = jp ? cJSON_GetArraySize(jp) : 0, nt = jt ? cJSON_GetArraySize(jt) : 0;
	if (nm > MT_MAX_METRICS_PER_BATCH)
		return batch_limit(err, "metrics", MT_MAX_METRICS_PER_BATCH, nm);
	if (np > MT_MAX_PARAMS_TAGS_PER_BATCH)
		return batch_limit(err, "params", MT_MAX_PARAMS_TAGS_PER_BATCH, np);
	if (nt > MT_MAX_PARAMS_TAGS_PER_BATCH)
		return batch_limit(err, "tags", MT_MAX_PARAMS_TAGS_PER_BATCH, nt);
	if (nm + np + nt > MT_MAX_ENTITIES_PER_BATCH)
		return batch_limit(err, "metrics, params, and tags", MT_MAX_ENTITIES_PER_BATCH, nm + np + nt);
	struct mt_metric *metrics = arena_alloc(req->arena, (size_t)(nm ? nm : 1) * sizeof *metrics);
	size_t i = 0;
	const cJSON *it;
	cJSON_ArrayForEach(it, jm)
	{
		char path[32];
		/* MLflow names fields "metrics[i].x" inside a batch, and plainly when the batch holds one metric. */
		if (nm == 1)
			path[0] = '\0';
		else
			snprintf(path, sizeof path, "metrics[%zu]", i);
		if (!cJSON_IsObject(it))
			return json_fail_type(err, "metrics", it);
		if (read_metric(it, path, &metrics[i], err) != MT_OK)
			return err->code;
		i++;
	}
	struct mt_tag *params, *tags;
	size_t n_params, n_tags;
	if (read_kv_list(req, jp, "params", &params, &n_params, true, err) != MT_OK ||
	    read_kv_list(req, jt, "tags", &tags, &n_tags, false, err) != MT_OK)
		return err->code;
	/* Duplicate param keys in one batch are refused, whatever their values (MLflow's rule). */
	for (size_t a = 0; a < n_params; a++)
		for (size_t b = a + 1; b < n_params; b++)
			if (strcmp(params[a].key, params[b].key) == 0)
				return mt_fail(err, MT_INVALID_PARAMETER_VALUE,
				               "Duplicate parameter keys have been submitted: ['%.250s']. Please ensure the request "
				               "contains only one param value per param key.",
				               params[a].key);
	if (store_run_log_batch(req->srv->store, run_id, metrics, i, params, n_params, tags, n_tags, err) != MT_OK)
		return err->code;
	http_reply_empty(resp);
	return MT_OK;
}

MT_HANDLER(api_metrics_get_history)
{
	const char *run_id, *key = NULL, *token = NULL;
	int64_t max_results = -1, offset = 0;
	bool has_max = false, more = false;
	if (api_read_run_id(req, &run_id, err) != MT_OK || json_get_str(req->args, "metric_key", true, &key, err) != MT_OK ||
	    json_get_str(req->args, "page_token", false, &token, err) != MT_OK ||
	    json_get_i64(req->args, "max_results", false, &max_results, &has_max, err) != MT_OK ||
	    search_page_token_decode(token, &offset, err) != MT_OK)
		return err->code;
	if (has_max && max_results <= 0)
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE,
		               "Invalid value %lld for parameter 'max_results' supplied. It must be a positive integer.",
		               (long long)max_results);
	struct mt_metric *pts;
	size_t n;
	if (store_metric_history(req->srv->store, req->arena, run_id, key, offset, has_max ? max_results : -1, &pts, &n,
	                         &more, err) != MT_OK)
		return err->code;
	struct jw *w = http_reply_json(req, resp);
	if (n) {
		jw_key(w, "metrics");
		jw_arr_open(w);
		api_write_history(w, req->arena, key, pts, n);
		jw_arr_close(w);
	}
	if (more)
		jw_kv_str(w, "next_page_token", search_page_token_encode(req->arena, offset + (int64_t)n));
	http_reply_json_end(w);
	return MT_OK;
}

#define MAX_RUNS_BULK 100
#define MAX_RESULTS_PER_RUN 2500

MT_HANDLER(api_metrics_get_history_bulk_interval)
{
	const cJSON *ids;
	const char *key = NULL;
	int64_t start = 0, end = 0, max_results = MAX_RESULTS_PER_RUN;
	bool has_start = false, has_end = false;
	if (json_get_array(req->args, "run_ids", true, &ids, err) != MT_OK ||
	    json_get_str(req->args, "metric_key", true, &key, err) != MT_OK ||
	    json_get_i64(req->args, "start_step", false, &start, &has_start, err) != MT_OK ||
	    json_get_i64(req->args, "end_step", false, &end, &has_end, err) != MT_OK ||
	    json_get_i64(req->args, "max_results", false, &max_results, NULL, err) != MT_OK)
		return err->code;
	int n_ids = cJSON_GetArraySize(ids);
	if (n_ids == 0)
		return json_fail_missing(err, "run_ids");
	if (n_ids > MAX_RUNS_BULK)
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE,
		               "GetMetricHistoryBulkInterval request must specify at most %d run_ids. Received %d run_ids.",
		               MAX_RUNS_BULK, n_ids);
	if (max_results < 1 || max_results > MAX_RESULTS_PER_RUN)
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "max_results must be between 1 and %d.", MAX_RESULTS_PER_RUN);
	if (has_start != has_end)
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE,
		               "If either start step or end step are specified, both must be specified.");
	if (has_start && start > end)
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE,
		               "end_step must be greater than start_step. Found start_step=%lld and end_step=%lld.",
		               (long long)start, (long long)end);
	const cJSON *it;
	cJSON_ArrayForEach(it, ids) if (!cJSON_IsString(it)) return json_fail_type(err, "run_ids", ids);
	struct mt_metric **per = arena_alloc(req->arena, (size_t)n_ids * sizeof *per);
	size_t *counts = arena_alloc(req->arena, (size_t)n_ids * sizeof *counts);
	int i = 0;
	cJSON_ArrayForEach(it, ids)
	{
		if (store_metric_sampled(req->srv->store, req->arena, it->valuestring, key, has_start, start, end, max_results,
		                         &per[i], &counts[i], err) != MT_OK)
			return err->code;
		for (size_t k = 0; k < counts[i]; k++)
			per[i][k].run_id = it->valuestring;
		i++;
	}
	struct jw *w = http_reply_json(req, resp);
	bool any = false;
	for (int r = 0; r < n_ids; r++)
		any |= counts[r] > 0;
	if (any) {
		jw_key(w, "metrics");
		jw_arr_open(w);
		for (int r = 0; r < n_ids; r++)
			for (size_t k = 0; k < counts[r]; k++)
				api_write_metric(w, &per[r][k], true);
		jw_arr_close(w);
	}
	http_reply_json_end(w);
	return MT_OK;
}

#define MAX_RUNS_HISTORY_BULK 100
#define MAX_HISTORY_BULK_RESULTS 25000

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The UI's older chart endpoint: the points of one metric for up to 100 runs, runs in id order, each in
 * history order, at most max_results (25000) in all. Unknown runs contribute nothing. */
MT_HANDLER(api_metrics_get_history_bulk)
{
	const cJSON *ids;
	const char *key = NULL;
	int64_t max_results = MAX_HISTORY_BULK_RESULTS;
	if (json_get_array(req->args, "run_id", false, &ids, err) != MT_OK)
		return err->code;
	int n_ids = ids ? cJSON_GetArraySize(ids) : 0;
	if (n_ids == 0)
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "GetMetricHistoryBulk request must specify at least one run_id.");
	if (n_ids > MAX_RUNS_HISTORY_BULK)
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE,
		               "GetMetricHistoryBulk request cannot specify more than %d run_ids. Received %d run_ids.",
		               MAX_RUNS_HISTORY_BULK, n_ids);
	const cJSON *k = json_field(req->args, "metric_key");
	if (k == NULL)
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "GetMetricHistoryBulk request must specify a metric_key.");
	/* MLflow answers a mistyped max_results with an HTML 500; a proper 400 here */
	if (json_get_str(req->args, "metric_key", false, &key, err) != MT_OK ||
	    json_get_i64(req->args, "max_results", false, &max_results, NULL, err) != MT_OK)
		return err->code;
	if (max_results > MAX_HISTORY_BULK_RESULTS)
		max_results = MAX_HISTORY_BULK_RESULTS;
	const char **sorted = arena_alloc(req->arena, (size_t)n_ids * sizeof *sorted);
	int n = 0;
	const cJSON *it;
	cJSON_ArrayForEach(it, ids)
	{
		if (!cJSON_IsString(it))
			return json_fail_type(err, "run_id", it);
		sorted[n++] = it->valuestring;
	}
	qsort(sorted, (size_t)n, sizeof *sorted, cmp_str);
	/* MLflow's store takes LIMIT max_results (none when negative) and the handler then slices [:max_results],
	 * so a negative value drops that many points from the end; reproduce both steps. */
	int64_t limit = max_results < 0 ? -1 : max_results, total = 0;
	struct mt_metric **per = arena_alloc(req->arena, (size_t)n * sizeof *per);
	size_t *counts = arena_calloc(req->arena, (size_t)n * sizeof *counts);
	for (int i = 0; i < n; i++) {
		if (i > 0 && strcmp(sorted[i], sorted[i - 1]) == 0)
			continue; /* the store reads run_uuid IN (...): a repeated id counts once */
		if (limit >= 0 && total >= limit)
			break;
		bool more;
		if (store_metric_history(req->srv->store, req->arena, sorted[i], key, 0, limit < 0 ? -1 : limit - total,
		                         &per[i], &counts[i], &more, err) != MT_OK)
			return err->code;
		total += (int64_t)counts[i];
	}
	int64_t keep = max_results < 0 ? (total + max_results > 0 ? total + max_results : 0) : total;
	struct jw *w = http_reply_json(req, resp);
	jw_key(w, "metrics");
	jw_arr_open(w);
	for (int i = 0; i < n && keep > 0; i++)
		for (size_t j = 0; j < counts[i] && keep > 0; j++, keep--) {
			per[i][j].run_id = sorted[i];
			api_write_metric(w, &per[i][j], true);
		}
	jw_arr_close(w);
	http_reply_json_end(w);
	return MT_OK;
}
