/* SPDX-License-Identifier: Apache-2.0 */
/* dispatch.c: the fixed request pipeline, independent of libmicrohttpd: route match (404 / 405), request
 * message (query or JSON body), authorisation, handler, error mapping. Handlers are reached only here. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "mltrackd/acl.h"
#include "mltrackd/api.h"
#include "mltrackd/config.h"
#include "mltrackd/http.h"
#include "mltrackd/metrics.h"
#include "mltrackd/route.h"
#include "mltrackd/store.h"
#include "mltrackd/util.h"

enum prefix { PFX_NONE, PFX_API2, PFX_AJAX2, PFX_API3, PFX_AJAX3 };

static const char *strip_prefix(const char *url, enum prefix *p)
{
	static const struct {
		const char *s;
		enum prefix p;
	} pf[] = {{"/api/2.0/", PFX_API2}, {"/ajax-api/2.0/", PFX_AJAX2}, {"/api/3.0/", PFX_API3}, {"/ajax-api/3.0/", PFX_AJAX3}};
	for (size_t i = 0; i < sizeof pf / sizeof pf[0]; i++) {
		size_t n = strlen(pf[i].s);
		if (strncmp(url, pf[i].s, n) == 0) {
			*p = pf[i].p;
			return url + n - 1; /* keep the leading '/' */
		}
	}
	*p = PFX_NONE;
	return url;
}

static bool prefix_ok(unsigned flags, enum prefix p)
{
	switch (p) {
	case PFX_NONE: return flags & ROUTE_ROOT;
	case PFX_API2: return (flags & ROUTE_V2) && !(flags & ROUTE_AJAX_ONLY);
	case PFX_AJAX2: return flags & ROUTE_V2;
	case PFX_API3: return (flags & ROUTE_V3) && !(flags & ROUTE_AJAX_ONLY);
	case PFX_AJAX3: return flags & ROUTE_V3;
	}
	return false;
}

/* Matches path against pattern; captures {name} segments and a trailing {name...} rest. */
static bool pattern_match(struct mt_request *req, const char *pat, const char *path, bool capture)
{
	int n = 0;
	while (*pat) {
		if (*pat == '{') {
			const char *close = strchr(pat, '}');
			if (!close)
				return false;
			bool rest = close - pat > 4 && strncmp(close - 3, "...", 3) == 0;
			const char *end = rest ? path + strlen(path) : strchrnul(path, '/');
			if (end == path)
				return false; /* captures are never empty */
			if (capture && n < MT_MAX_PATH_PARAMS)
				req->path_params[n] = arena_strndup(req->arena, path, (size_t)(end - path));
			n++;
			path = end;
			pat = close + 1;
			continue;
		}
		if (*pat != *path)
			return false;
		pat++;
		path++;
	}
	if (*path != '\0')
		return false;
	if (capture)
		req->n_path_params = n < MT_MAX_PATH_PARAMS ? n : MT_MAX_PATH_PARAMS;
	return true;
}

enum mt_error mt_route_match(struct mt_request *req, struct mt_err *err)
{
	enum prefix p;
	const char *path = strip_prefix(req->url, &p);
	req->path = path;
	unsigned method = req->method == MT_HEAD ? MT_GET : req->method;
	bool path_seen = false;
	for (size_t i = 0; i < mt_routes_count; i++) {
		const struct mt_route *r = &mt_routes[i];
		if (!prefix_ok(r->flags, p) || !pattern_match(req, r->pattern, path, false))
			continue;
		path_seen = true;
		if (!(r->methods & method))
			continue;
		pattern_match(req, r->pattern, path, true);
		req->route = r;
		return MT_OK;
	}
	if (path_seen)
		return mt_fail(err, MT_METHOD_NOT_ALLOWED, "The method is not allowed for the requested URL: %.200s",
		               req->url);
	return mt_fail(err, MT_ENDPOINT_NOT_FOUND, "No API endpoint matches %.200s", req->url);
}

static void free_json(void *p) { cJSON_Delete(p); }

/* `mlflow server --artifacts-only` answers every tracking, registry and UI-artifact endpoint with 503 and
 * this text (handlers.py _disable_if_artifacts_only); the artifact proxy, server and user routes stay up.
 * Checked before the body is parsed, as the reference's decorator runs before its handler reads the request. */
static enum mt_error artifacts_only_gate(const struct mt_request *req, struct mt_err *err)
{
	static const char *const server_routes[] = {"/health", "/version", "/mlflow/server-info", "/metrics"};
	const struct mt_route *r = req->route;
	if (req->srv == NULL || !req->srv->cfg->artifacts_only || r->res == RES_ARTIFACT || r->res == RES_USER ||
	    r->res == RES_GRANT_TARGET)
		return MT_OK;
	for (size_t i = 0; r->res == RES_SERVER && i < sizeof server_routes / sizeof server_routes[0]; i++)
		if (strcmp(r->pattern, server_routes[i]) == 0)
			return MT_OK; /* registry searches are RES_SERVER too, and refused */
	return mt_fail(err, MT_TEMPORARILY_UNAVAILABLE,
	               "Endpoint: %.200s disabled due to the mlflow server running in `--artifacts-only` mode. To enable "
	               "tracking server functionality, run `mlflow server` without `--artifacts-only`",
	               req->url);
}

/* The request message: the query string for GET, else the JSON body (MLflow's rules: Content-Type must be
 * application/json on POST/PUT, an empty body is {}, a body double-encoded as a JSON string is decoded twice). */
static enum mt_error parse_args(struct mt_request *req, struct mt_err *err)
{
	if (req->query == NULL) {
		req->query = cJSON_CreateObject();
		arena_on_free(req->arena, free_json, req->query);
	}
	if (req->method == MT_GET || req->method == MT_HEAD || (req->route->flags & ROUTE_RAW_BODY)) {
		req->args = req->query;
		return MT_OK;
	}
	if (req->method == MT_DELETE && (req->route->flags & ROUTE_QUERY_DELETE) && req->body_len == 0 &&
	    cJSON_GetArraySize(req->query) > 0) {
		req->args = req->query;
		return MT_OK;
	}
	if (req->body_too_large)
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "Request body exceeds the limit of %u bytes",
		               req->srv ? (unsigned)req->srv->cfg->max_body : MT_MAX_JSON_BODY);
	if (req->method == MT_POST || req->method == MT_PUT) {
		if (req->content_type == NULL)
			return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "Bad Request. Content-Type header is missing.");
		size_t n = strcspn(req->content_type, "; ");
		if (n != strlen("application/json") || strncasecmp(req->content_type, "application/json", n) != 0)
			return mt_fail(err, MT_INVALID_PARAMETER_VALUE,
			               "Bad Request. Content-Type must be one of ['application/json'].");
	}
	size_t len = req->body_len;
	const char *body = req->body;
	while (len > 0 && (body[0] == ' ' || body[0] == '\n' || body[0] == '\r' || body[0] == '\t')) {
		body++;
		len--;
	}
	if (len == 0) {
		req->args = cJSON_CreateObject();
		arena_on_free(req->arena, free_json, req->args);
		return MT_OK;
	}
	cJSON *j = cJSON_ParseWithLength(body, len);
	if (j == NULL)
		return mt_fail(err, MT_MALFORMED_REQUEST, "Malformed request: the body is not valid JSON");
	arena_on_free(req->arena, free_json, j);
	if (cJSON_IsString(j)) {
		cJSON *inner = cJSON_Parse(j->valuestring);
		if (inner == NULL)
			return mt_fail(err, MT_MALFORMED_REQUEST, "Malformed request: the body is not valid JSON");
		arena_on_free(req->arena, free_json, inner);
		j = inner;
	}
	if (!cJSON_IsObject(j))
		return mt_fail(err, MT_MALFORMED_REQUEST, "Malformed request: the body must be a JSON object");
	req->args = j;
	return MT_OK;
}

void mt_dispatch(struct mt_request *req, struct mt_response *resp)
{
	struct mt_err err;
	mt_err_init(&err);
	int64_t t0 = mt_mono_us();
	enum mt_error rc = req->route ? MT_OK : mt_route_match(req, &err);
	if (rc == MT_OK)
		rc = artifacts_only_gate(req, &err);
	if (rc == MT_OK)
		rc = parse_args(req, &err);
	if (rc == MT_OK)
		rc = acl_authorize(req, &err);
	if (rc == MT_OK) {
		if (req->route->handler == NULL)
			rc = mt_fail(&err, MT_NOT_IMPLEMENTED, "The endpoint %.200s is not implemented by this mltrackd",
			             req->url);
		else
			rc = req->route->handler(req, resp, &err);
		if (rc == MT_OK)
			acl_after_success(req);
	}
	if (rc == MT_OK && resp->body.overflow)
		rc = mt_fail(&err, MT_INTERNAL_ERROR, "The response is too large; request fewer results");
	if (rc != MT_OK) {
		http_reply_error(resp, rc, err.msg);
		resp->error_msg = arena_strdup(req->arena, err.msg);
		if (rc == MT_UNAUTHENTICATED)
			http_add_header(resp, req->arena, "WWW-Authenticate", "Basic realm=\"mlflow\"");
		if (rc == MT_REQUEST_LIMIT_EXCEEDED && req->retry_after > 0)
			http_add_header(resp, req->arena, "Retry-After", arena_printf(req->arena, "%lld", (long long)req->retry_after));
	}
	if (req->srv && req->srv->store)
		store_reader_release(req->srv->store);
	/* In process (tests) the request is counted here; over HTTP the connection layer counts it when the
	 * reply is sent, so requests refused before dispatch and transfer time are included. */
	if (req->started_us == 0)
		metrics_request(req, resp->status, mt_mono_us() - t0);
}

bool mt_dispatch_stream_begin(struct mt_request *req, struct mt_response *resp)
{
	struct mt_err err;
	mt_err_init(&err);
	enum mt_error rc = req->route ? MT_OK : mt_route_match(req, &err);
	if (rc == MT_OK)
		rc = artifacts_only_gate(req, &err);
	if (rc == MT_OK)
		rc = parse_args(req, &err);
	if (rc == MT_OK)
		rc = acl_authorize(req, &err); /* before a single byte is written */
	if (rc == MT_OK)
		rc = api_stream_begin(req, &err);
	if (rc == MT_OK)
		return true;
	http_reply_error(resp, rc, err.msg);
	resp->error_msg = arena_strdup(req->arena, err.msg);
	if (rc == MT_UNAUTHENTICATED)
		http_add_header(resp, req->arena, "WWW-Authenticate", "Basic realm=\"mlflow\"");
	if (rc == MT_REQUEST_LIMIT_EXCEEDED && req->retry_after > 0)
		http_add_header(resp, req->arena, "Retry-After", arena_printf(req->arena, "%lld", (long long)req->retry_after));
	return false;
}

void mt_dispatch_stream_write(struct mt_request *req, const char *data, size_t n)
{
	if (req->upload && !req->upload_failed && api_stream_write(req, data, n, &req->upload_err) != MT_OK)
		req->upload_failed = true;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static char *url_decode(const char *s, size_t n)
{
	char *out = cJSON_malloc(n + 1);
	size_t j = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '+') {
			out[j++] = ' ';
		} else if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
			out[j++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
			i += 2;
		} else {
			out[j++] = s[i];
		}
	}
	out[j] = '\0';
	return out;
}

void http_query_add(cJSON *q, const char *key, const char *value)
{
	cJSON *prev = cJSON_GetObjectItemCaseSensitive(q, key);
	if (prev == NULL) {
		cJSON_AddItemToObject(q, key, cJSON_CreateString(value ? value : ""));
	} else if (cJSON_IsArray(prev)) {
		cJSON_AddItemToArray(prev, cJSON_CreateString(value ? value : ""));
	} else {
		cJSON *arr = cJSON_CreateArray();
		cJSON_AddItemToArray(arr, cJSON_CreateString(prev->valuestring));
		cJSON_AddItemToArray(arr, cJSON_CreateString(value ? value : ""));
		cJSON_ReplaceItemInObjectCaseSensitive(q, key, arr);
	}
}

cJSON *http_parse_query(const char *qs)
{
	cJSON *q = cJSON_CreateObject();
	while (qs && *qs) {
		size_t n = strcspn(qs, "&");
		const char *eq = memchr(qs, '=', n);
		size_t kn = eq ? (size_t)(eq - qs) : n;
		if (kn > 0) {
			char *k = url_decode(qs, kn);
			char *v = eq ? url_decode(eq + 1, n - kn - 1) : NULL;
			http_query_add(q, k, v);
			cJSON_free(k);
			cJSON_free(v);
		}
		qs += n;
		if (*qs == '&')
			qs++;
	}
	return q;
}
