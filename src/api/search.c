/* SPDX-License-Identifier: Apache-2.0 */
/* search.c: runs/search and experiments/search: request fields, MLflow's defaults and caps, the parsed
 * filter and order_by, opaque page tokens. The store turns the AST into bound SQL. */
#include <string.h>
#include <strings.h>

#include "api_internal.h"
#include "mltrackd/acl.h"
#include "mltrackd/search.h"
#include "mltrackd/store_auth.h"
#include "mltrackd/util.h"
#include "mltrackd/store_search.h"
#include "mltrackd/validate.h"

#define SEARCH_DEFAULT_MAX_RESULTS 1000
#define SEARCH_MAX_RESULTS 50000

/* view_type / run_view_type: an enum name or its number. */
static enum mt_error read_view(struct mt_request *req, const char *field, enum view_type *out, struct mt_err *err)
{
	const cJSON *v = json_field(req->args, field);
	*out = VIEW_ACTIVE_ONLY;
	if (v == NULL)
		return MT_OK;
	if (cJSON_IsString(v)) {
		if (!strcasecmp(v->valuestring, "ACTIVE_ONLY") || !strcmp(v->valuestring, "1"))
			return MT_OK;
		if (!strcasecmp(v->valuestring, "DELETED_ONLY") || !strcmp(v->valuestring, "2")) {
			*out = VIEW_DELETED_ONLY;
			return MT_OK;
		}
		if (!strcasecmp(v->valuestring, "ALL") || !strcmp(v->valuestring, "3")) {
			*out = VIEW_ALL;
			return MT_OK;
		}
	} else if (cJSON_IsNumber(v) && v->valuedouble >= 1 && v->valuedouble <= 3) {
		*out = (enum view_type)(int)v->valuedouble;
		return MT_OK;
	}
	return json_fail_type(err, field, v);
}

static enum mt_error read_max_results(struct mt_request *req, int64_t *out, struct mt_err *err)
{
	*out = SEARCH_DEFAULT_MAX_RESULTS;
	bool present = false;
	if (json_get_i64(req->args, "max_results", false, out, &present, err) != MT_OK)
		return err->code;
	if (!present)
		*out = SEARCH_DEFAULT_MAX_RESULTS;
	if (*out > SEARCH_MAX_RESULTS)
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE,
		               "Invalid value %lld for parameter 'max_results' supplied: It must be at most %d.",
		               (long long)*out, SEARCH_MAX_RESULTS);
	if (*out <= 0)
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE,
		               "Invalid value %lld for parameter 'max_results' supplied: It must be a positive integer.",
		               (long long)*out);
	return MT_OK;
}

static enum mt_error read_order_by(struct mt_request *req, enum search_kind kind, struct search_order **out, size_t *n,
                                   struct mt_err *err)
{
	const cJSON *arr;
	*out = NULL;
	*n = 0;
	if (json_get_array(req->args, "order_by", false, &arr, err) != MT_OK || arr == NULL)
		return err->code;
	size_t cnt = (size_t)cJSON_GetArraySize(arr);
	if (cnt > 32)
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "At most 32 order_by clauses are supported");
	struct search_order *o = arena_alloc(req->arena, (cnt ? cnt : 1) * sizeof *o);
	size_t i = 0;
	const cJSON *it;
	cJSON_ArrayForEach(it, arr)
	{
		if (!cJSON_IsString(it))
			return json_fail_type(err, "order_by", arr);
		if (search_parse_order_by(req->arena, kind, it->valuestring, &o[i], err) != MT_OK)
			return err->code;
		for (size_t k = 0; k < i; k++)
			if (o[k].ent == o[i].ent && !strcmp(o[k].key, o[i].key))
				return mt_fail(err, MT_INVALID_PARAMETER_VALUE,
				               "`order_by` contains duplicate fields: %.200s", it->valuestring);
		i++;
	}
	*out = o;
	*n = i;
	return MT_OK;
}

enum mt_error api_read_readable_experiments(struct mt_request *req, const cJSON *ids, int64_t **out, size_t *n,
                                            struct mt_err *err)
{
	size_t n_ids = ids ? (size_t)cJSON_GetArraySize(ids) : 0;
	int64_t *exp = arena_alloc(req->arena, (n_ids ? n_ids : 1) * sizeof *exp);
	size_t k = 0;
	const cJSON *it;
	cJSON_ArrayForEach(it, ids)
	{
		if (!cJSON_IsString(it))
			return json_fail_type(err, "experiment_ids", ids);
		if (parse_experiment_id(it->valuestring, &exp[k], err) != MT_OK)
			return err->code;
		/* With authentication on, experiments the caller may not read are dropped from the search, as the
		 * reference's basic-auth app does: nothing of theirs appears, in any page. */
		if (!acl_can_search_in(req, it->valuestring))
			continue;
		k++;
	}
	*out = exp;
	*n = k;
	return MT_OK;
}

MT_HANDLER(api_runs_search)
{
	const cJSON *ids;
	const char *filter = NULL, *token = NULL;
	struct search_query q;
	memset(&q, 0, sizeof q);
	struct search_filter f;
	struct search_order *order;
	if (json_get_array(req->args, "experiment_ids", false, &ids, err) != MT_OK ||
	    json_get_str(req->args, "filter", false, &filter, err) != MT_OK ||
	    json_get_str(req->args, "page_token", false, &token, err) != MT_OK || read_view(req, "run_view_type", &q.view, err) != MT_OK ||
	    read_max_results(req, &q.limit, err) != MT_OK || read_order_by(req, SEARCH_RUNS, &order, &q.n_order, err) != MT_OK ||
	    search_parse_filter(req->arena, SEARCH_RUNS, filter, &f, err) != MT_OK ||
	    search_page_token_decode(token, &q.offset, err) != MT_OK)
		return err->code;
	int64_t *exp;
	size_t k;
	if (api_read_readable_experiments(req, ids, &exp, &k, err) != MT_OK)
		return err->code;
	q.filter = &f;
	q.order = order;
	q.experiment_ids = exp;
	q.n_experiments = k;
	struct mt_run *runs = NULL;
	size_t n = 0;
	bool more = false;
	if (k > 0 && store_search_runs(req->srv->store, req->arena, &q, &runs, &n, &more, err) != MT_OK)
		return err->code;
	struct jw *w = http_reply_json(req, resp);
	if (n) {
		jw_key(w, "runs");
		jw_arr_open(w);
		for (size_t i = 0; i < n; i++)
			api_write_run(w, &runs[i]);
		jw_arr_close(w);
	}
	if (more)
		jw_kv_str(w, "next_page_token", search_page_token_encode(req->arena, q.offset + (int64_t)n));
	http_reply_json_end(w);
	return MT_OK;
}

MT_HANDLER(api_experiments_search)
{
	const char *filter = NULL, *token = NULL;
	struct search_query q;
	memset(&q, 0, sizeof q);
	struct search_filter f;
	struct search_order *order;
	if (json_get_str(req->args, "filter", false, &filter, err) != MT_OK ||
	    json_get_str(req->args, "page_token", false, &token, err) != MT_OK || read_view(req, "view_type", &q.view, err) != MT_OK ||
	    read_max_results(req, &q.limit, err) != MT_OK ||
	    read_order_by(req, SEARCH_EXPERIMENTS, &order, &q.n_order, err) != MT_OK ||
	    search_parse_filter(req->arena, SEARCH_EXPERIMENTS, filter, &f, err) != MT_OK ||
	    search_page_token_decode(token, &q.offset, err) != MT_OK)
		return err->code;
	q.filter = &f;
	q.order = order;
	if (req->srv->cfg->auth_enabled && !req->is_admin) {
		/* the readable set, from grants through any role, wildcards, DENY and the default permission */
		enum acl_filter_mode mode;
		int64_t *ids;
		if (acl_readable_experiments(req, &mode, &ids, &q.n_acl, err) != MT_OK)
			return err->code;
		q.acl_mode = mode == ACL_FILTER_ONLY ? ACL_ONLY : mode == ACL_FILTER_EXCEPT ? ACL_EXCEPT : ACL_ALL;
		q.acl_ids = ids;
	}
	struct mt_experiment *v;
	size_t n;
	bool more;
	if (store_search_experiments(req->srv->store, req->arena, &q, &v, &n, &more, err) != MT_OK)
		return err->code;
	struct jw *w = http_reply_json(req, resp);
	if (n) {
		jw_key(w, "experiments");
		jw_arr_open(w);
		for (size_t i = 0; i < n; i++)
			api_write_experiment(w, &v[i]);
		jw_arr_close(w);
	}
	if (more)
		jw_kv_str(w, "next_page_token", search_page_token_encode(req->arena, q.offset + (int64_t)n));
	http_reply_json_end(w);
	return MT_OK;
}
