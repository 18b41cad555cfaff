/* SPDX-License-Identifier: Apache-2.0 */
/* http.h: the request and response as handlers see them, independent of libmicrohttpd, and the
 * dispatcher (route match -> authorisation -> handler -> error mapping) that Check suites drive directly. */
#ifndef MLTRACKD_HTTP_H
#define MLTRACKD_HTTP_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "mltrackd/arena.h"
#include "mltrackd/buf.h"
#include "mltrackd/error.h"

enum mt_method {
	MT_GET = 1 << 0,
	MT_POST = 1 << 1,
	MT_PUT = 1 << 2,
	MT_PATCH = 1 << 3,
	MT_DELETE = 1 << 4,
	MT_HEAD = 1 << 5,
};

struct mt_server;
struct mt_route;

#define MT_MAX_PATH_PARAMS 4
#define MT_MAX_RESP_HEADERS 8

struct mt_request {
	struct arena *arena;          /* everything below lives here or in the connection layer */
	struct mt_server *srv;
	enum mt_method method;
	const char *url;              /* path as received, decoded, without the query string */
	const char *path;             /* route path after the API prefix ("/mlflow/runs/get") */
	const struct mt_route *route; /* set by the matcher */
	const char *path_params[MT_MAX_PATH_PARAMS]; /* {name} captures, in pattern order */
	int n_path_params;
	cJSON *query;                 /* query parameters: key -> string, repeated key -> array of strings */
	cJSON *args;                  /* the request message: JSON body, or `query` for GET */
	const char *body;             /* raw body (NULL for streamed uploads) */
	size_t body_len;
	bool body_too_large;
	const char *content_type;     /* Content-Type header or NULL */
	/* Header lookup supplied by the connection layer (case-insensitive name). */
	const char *(*header)(void *ctx, const char *name);
	void *header_ctx;
	const char *principal;        /* authenticated user name, NULL when anonymous or auth is off */
	int64_t user_id;              /* the principal's id (0 when none) */
	bool is_admin;
	const char *client_addr;      /* peer address (NULL when unknown): failed logins are limited per address */
	int64_t retry_after;          /* seconds, set with a 429 (Retry-After header) */
	void *acl_memo;               /* the ACL's folds already made for this request (src/auth/acl.c) */
	const char *created_id;       /* set by a handler that created an experiment (creator gets MANAGE) */
	struct artifact_upload *upload; /* streamed upload in progress (ROUTE_STREAM_BODY routes) */
	bool upload_failed;
	struct mt_err upload_err;
	const char *request_id;       /* X-Request-Id: the client's (when well-formed) or one made at intake */
	int64_t started_us;           /* mt_mono_us() at intake, set by the connection layer (0 in-process) */
};

struct mt_resp_header {
	const char *name, *value;
};

struct mt_response {
	int status;
	const char *content_type;
	struct buf body;              /* owned; freed by the connection layer */
	int fd;                       /* >= 0: serve fd_len bytes of this file from fd_offset (fd is owned) */
	off_t fd_offset;
	uint64_t fd_len;
	struct mt_resp_header headers[MT_MAX_RESP_HEADERS];
	int n_headers;
	enum mt_error error;          /* the error answered, MT_OK on success (for logs and metrics) */
	const char *error_msg;        /* its message, in the request's arena (for the request log line) */
};

#define MT_MAX_JSON_BODY (64u * 1024 * 1024)  /* request bodies: log-batch of 1000 metrics is ~100 KiB */
#define MT_MAX_RESPONSE (1024u * 1024 * 1024) /* responses are built in memory up to this */

void mt_response_init(struct mt_response *resp);
void mt_response_free(struct mt_response *resp);
/* Starts a 200 application/json body and returns a writer positioned inside the top-level object. */
struct jw *http_reply_json(struct mt_request *req, struct mt_response *resp);
/* Closes the object opened by http_reply_json. */
void http_reply_json_end(struct jw *w);
/* A 200 `{}`. */
void http_reply_empty(struct mt_response *resp);
void http_reply_text(struct mt_response *resp, int status, const char *content_type, const char *text);
/* MLflow's error body {"error_code": ..., "message": ...} with the code's HTTP status. */
void http_reply_error(struct mt_response *resp, enum mt_error code, const char *message);
void http_add_header(struct mt_response *resp, struct arena *a, const char *name, const char *value);

/* Finds the route for method + url. Fills req->path, req->route and path params. Returns MT_OK,
 * MT_ENDPOINT_NOT_FOUND or MT_METHOD_NOT_ALLOWED. */
enum mt_error mt_route_match(struct mt_request *req, struct mt_err *err);
/* Runs a matched (or unmatched) request through body parsing, authorisation and its handler, and fills
 * resp. Never fails: every error becomes an MLflow error response. */
void mt_dispatch(struct mt_request *req, struct mt_response *resp);
/* Adds key=value to a query object: a repeated key turns the value into an array of strings. */
void http_query_add(cJSON *q, const char *key, const char *value);
/* For ROUTE_STREAM_BODY routes, on the request's first call (headers only): authorises the request and
 * opens its upload sink. false: resp holds the error to answer at once. */
bool mt_dispatch_stream_begin(struct mt_request *req, struct mt_response *resp);
/* Appends one body chunk to the upload sink (errors are kept for the handler to answer). */
void mt_dispatch_stream_write(struct mt_request *req, const char *data, size_t n);
/* Builds a query object from "a=1&b=2&b=3" (percent-decoding), for tests and non-MHD callers. */
cJSON *http_parse_query(const char *qs);

/* ---- the HTTP server (src/http/server.c, the only libmicrohttpd user) ---- */
struct mt_http;
/* Starts listening on cfg host:port with cfg workers threads; requests go through mt_dispatch. */
enum mt_error http_server_start(struct mt_server *srv, struct mt_http **out, struct mt_err *err);
/* Stops accepting, lets in-flight requests finish (bounded wait), then stops the daemon. */
void http_server_stop(struct mt_http *h);

#endif
