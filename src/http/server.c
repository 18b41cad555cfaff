/* SPDX-License-Identifier: Apache-2.0 */
/* server.c: libmicrohttpd glue: per-request context and arena, body intake with a hard cap, the call into
 * mt_dispatch, response creation, the access log, and graceful shutdown. The only file that knows MHD. */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mltrackd/config.h"
#include "mltrackd/http.h"
#include "mltrackd/log.h"
#include "mltrackd/metrics.h"
#include "mltrackd/route.h"
#include "mltrackd/util.h"

struct mt_http {
	struct MHD_Daemon **ds; /* one single-threaded daemon per worker, all listening on the port (SO_REUSEPORT) */
	int nd;
	struct MHD_Daemon *metrics_d; /* --metrics-port: GET /metrics only, no authentication */
	struct mt_server *srv;
	atomic_int in_flight;
};

struct conn_ctx {
	struct arena *arena;
	struct mt_request req;
	struct buf body;
	int64_t t0;
	int status;
	size_t resp_bytes;
	uint64_t req_bytes;    /* body bytes received (JSON or streamed upload) */
	enum mt_error error;   /* the error answered (MT_OK when none) and its message, for the log line */
	const char *error_msg;
	char request_id[132];
	struct mt_http *h;
	bool rejected; /* an early answer was queued (e.g. an unauthorised upload) */
};

static enum mt_method parse_method(const char *m)
{
	if (strcmp(m, "GET") == 0)
		return MT_GET;
	if (strcmp(m, "POST") == 0)
		return MT_POST;
	if (strcmp(m, "PUT") == 0)
		return MT_PUT;
	if (strcmp(m, "PATCH") == 0)
		return MT_PATCH;
	if (strcmp(m, "DELETE") == 0)
		return MT_DELETE;
	if (strcmp(m, "HEAD") == 0)
		return MT_HEAD;
	return 0;
}

static enum MHD_Result query_iter(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	(void)kind;
	http_query_add(cls, key, value);
	return MHD_YES;
}

static const char *header_lookup(void *ctx, const char *name)
{
	return MHD_lookup_connection_value(ctx, MHD_HEADER_KIND, name);
}

static void free_json(void *p) { cJSON_Delete(p); }

/* The peer's address as text (failed logins are rate-limited per address); NULL when unknown. */
static const char *client_address(struct arena *a, struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (!ci || !ci->client_addr)
		return NULL;
	char buf[INET6_ADDRSTRLEN] = "";
	const struct sockaddr *sa = ci->client_addr;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, buf, sizeof buf);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, buf, sizeof buf);
	return buf[0] ? arena_strdup(a, buf) : NULL;
}

static enum MHD_Result send_response(struct MHD_Connection *conn, struct conn_ctx *cx, struct mt_response *r)
{
	struct MHD_Response *mr;
	if (r->fd >= 0) {
		mr = MHD_create_response_from_fd_at_offset64(r->fd_len, r->fd, (uint64_t)r->fd_offset);
		cx->resp_bytes = r->fd_len;
		metrics_artifact_bytes(0, r->fd_len);
	} else {
		size_t len = 0;
		char *data = buf_steal(&r->body, &len);
		mr = MHD_create_response_from_buffer(len, data ? data : "", data ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
		cx->resp_bytes = len;
	}
	if (!mr)
		return MHD_NO;
	if (r->content_type)
		MHD_add_response_header(mr, MHD_HTTP_HEADER_CONTENT_TYPE, r->content_type);
	MHD_add_response_header(mr, "X-Mltrackd-Version", MLTRACKD_VERSION);
	for (int i = 0; i < r->n_headers; i++)
		MHD_add_response_header(mr, r->headers[i].name, r->headers[i].value);
	MHD_add_response_header(mr, "X-Request-Id", cx->request_id);
	cx->status = r->status;
	cx->error = r->error;
	cx->error_msg = r->error_msg;
	enum MHD_Result ret = MHD_queue_response(conn, (unsigned)r->status, mr);
	MHD_destroy_response(mr);
	return ret;
}

static char boot_id[9];
static pthread_once_t boot_once = PTHREAD_ONCE_INIT;
static void make_boot_id(void) { mt_random_hex(boot_id, 4); }

/* The client's X-Request-Id when it is a plain token (so it cannot forge log fields), else one made here:
 * a random per-process prefix and a counter, unique across restarts. */
static void set_request_id(struct conn_ctx *cx, struct MHD_Connection *conn)
{
	static _Atomic unsigned long long counter;
	const char *given = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Request-Id");
	size_t n = given ? strlen(given) : 0;
	bool ok = n > 0 && n < 129;
	for (size_t i = 0; ok && i < n; i++)
		ok = (given[i] >= 'a' && given[i] <= 'z') || (given[i] >= 'A' && given[i] <= 'Z') ||
		     (given[i] >= '0' && given[i] <= '9') || strchr("._:-", given[i]) != NULL;
	if (ok) {
		memcpy(cx->request_id, given, n + 1);
		return;
	}
	pthread_once(&boot_once, make_boot_id);
	snprintf(cx->request_id, sizeof cx->request_id, "%s-%08llx", boot_id, atomic_fetch_add(&counter, 1) + 1);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
	(void)version;
	struct mt_http *h = cls;
	struct conn_ctx *cx = *con_cls;
	if (cx == NULL) {
		cx = xcalloc(1, sizeof *cx);
		cx->h = h;
		cx->t0 = mt_mono_us();
		cx->arena = arena_new();
		buf_init(&cx->body, h->srv->cfg->max_body);
		struct mt_request *req = &cx->req;
		req->arena = cx->arena;
		req->srv = h->srv;
		req->method = parse_method(method);
		req->url = arena_strdup(cx->arena, url);
		req->query = cJSON_CreateObject();
		arena_on_free(cx->arena, free_json, req->query);
		MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, query_iter, req->query);
		req->content_type = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
		req->header = header_lookup;
		req->header_ctx = conn;
		req->started_us = cx->t0;
		set_request_id(cx, conn);
		req->request_id = cx->request_id;
		req->client_addr = client_address(cx->arena, conn);
		atomic_fetch_add(&h->in_flight, 1);
		metrics_in_flight(1);
		*con_cls = cx;
		struct mt_err merr;
		mt_err_init(&merr);
		if (req->method == MT_PUT && mt_route_match(req, &merr) == MT_OK && (req->route->flags & ROUTE_STREAM_BODY)) {
			/* Uploads are authorised and given their sink before any byte of the body is read. */
			struct mt_response resp;
			mt_response_init(&resp);
			enum MHD_Result ret = MHD_YES;
			if (!mt_dispatch_stream_begin(req, &resp)) {
				cx->rejected = true;
				ret = send_response(conn, cx, &resp);
			}
			mt_response_free(&resp);
			return ret;
		}
		return MHD_YES;
	}
	cx->req_bytes += *upload_data_size;
	if (cx->rejected) {
		*upload_data_size = 0; /* the answer is queued; the rest of the body is discarded */
		return MHD_YES;
	}
	if (*upload_data_size > 0 && cx->req.upload) {
		mt_dispatch_stream_write(&cx->req, upload_data, *upload_data_size);
		metrics_artifact_bytes(*upload_data_size, 0);
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		if (!cx->req.body_too_large) {
			buf_append(&cx->body, upload_data, *upload_data_size);
			if (cx->body.overflow) {
				cx->req.body_too_large = true;
				buf_free(&cx->body);
			}
		}
		*upload_data_size = 0;
		return MHD_YES;
	}
	struct mt_response resp;
	mt_response_init(&resp);
	struct mt_request *req = &cx->req;
	req->body = cx->body.data ? cx->body.data : "";
	req->body_len = cx->body.len;
	if (req->method == 0) {
		http_reply_error(&resp, MT_METHOD_NOT_ALLOWED, "The method is not allowed for the requested URL.");
	} else {
		mt_dispatch(req, &resp);
	}
	enum MHD_Result ret = send_response(conn, cx, &resp);
	mt_response_free(&resp);
	return ret;
}

/* The request's log line. Never logs a header value, the query string or a body: credentials travel there
 * (Authorization, users/create's password), so only the path, the principal's name and the error message
 * (which names bad fields, not secrets) appear. */
static void log_request(struct MHD_Connection *conn, struct conn_ctx *cx, int64_t micros, bool completed)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	char addr[INET6_ADDRSTRLEN] = "-";
	if (ci && ci->client_addr) {
		if (ci->client_addr->sa_family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *)ci->client_addr)->sin_addr, addr, sizeof addr);
		else if (ci->client_addr->sa_family == AF_INET6)
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)ci->client_addr)->sin6_addr, addr, sizeof addr);
	}
	static const char *mnames[] = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"};
	const char *m = "?";
	for (int i = 0; i < 6; i++)
		if ((int)cx->req.method == (1 << i))
			m = mnames[i];
	const struct mt_request *req = &cx->req;
	char route[320] = "unmatched";
	if (req->route && req->path && req->url && req->path >= req->url)
		snprintf(route, sizeof route, "%.*s%s", (int)(req->path - req->url), req->url, req->route->pattern);
	char path[320];
	snprintf(path, sizeof path, "%.300s", req->url ? req->url : "");
	const char *ecode = cx->status >= 400 && cx->error != MT_OK ? mt_error_name(cx->error) : NULL;
	const char *emsg = ecode ? cx->error_msg : NULL;
	enum mt_log_level lvl = cx->status >= 500 || !completed ? MT_LOG_WARN : MT_LOG_INFO;
	if (mt_log_get_format() == MT_LOG_TEXT) {
		/* The human format is unquoted: control bytes (a decoded %0a...) must not start a forged line. */
		char user[130];
		snprintf(user, sizeof user, "%.128s", req->principal ? req->principal : "-");
		for (char *p = path; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = '?';
		for (char *p = user; *p; p++)
			if ((unsigned char)*p <= 0x20 || *p == 0x7f)
				*p = '?';
		mt_log(lvl, "%s \"%s %s\" %d %zu %.3fms%s rid=%s route=%s user=%s%s%s", addr, m, path, cx->status,
		       cx->resp_bytes, (double)micros / 1000.0, completed ? "" : " (aborted)", cx->request_id, route, user,
		       ecode ? " error=" : "", ecode ? ecode : "");
		return;
	}
	struct mt_log_field f[] = {
		MT_LF_S("request_id", cx->request_id),
		MT_LF_S("method", m),
		MT_LF_S("path", path),
		MT_LF_S("route", route),
		MT_LF_I("status", cx->status),
		MT_LF_D("latency_ms", (double)micros / 1000.0),
		MT_LF_I("bytes_in", cx->req_bytes),
		MT_LF_I("bytes_out", cx->resp_bytes),
		MT_LF_S("principal", req->principal),
		MT_LF_S("remote", addr),
		MT_LF_S("error_code", ecode),
		MT_LF_S("error", emsg),
		MT_LF_B("aborted", !completed),
	};
	mt_log_event(lvl, "request", f, sizeof f / sizeof f[0]);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct mt_http *h = cls;
	struct conn_ctx *cx = *con_cls;
	if (cx == NULL)
		return;
	int64_t micros = mt_mono_us() - cx->t0;
	metrics_request(&cx->req, cx->status, micros);
	if (!h->srv->cfg->quiet)
		log_request(conn, cx, micros, toe == MHD_REQUEST_TERMINATED_COMPLETED_OK);
	buf_free(&cx->body);
	arena_free(cx->arena);
	free(cx);
	*con_cls = NULL;
	atomic_fetch_sub(&h->in_flight, 1);
	metrics_in_flight(-1);
}

/* The --metrics-port listener: GET /metrics only, without authentication (for a scraper on a private
 * network); everything else is 404. */
static enum MHD_Result on_metrics_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                          const char *version, const char *upload_data, size_t *upload_data_size,
                                          void **con_cls)
{
	(void)version;
	(void)upload_data;
	struct mt_http *h = cls;
	static int seen;
	if (*con_cls == NULL) {
		*con_cls = &seen;
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	struct MHD_Response *mr;
	unsigned status;
	if ((strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0) && strcmp(url, "/metrics") == 0) {
		struct buf b;
		buf_init(&b, 64u * 1024 * 1024);
		metrics_render_server(h->srv, &b);
		size_t len = 0;
		char *data = buf_steal(&b, &len);
		mr = MHD_create_response_from_buffer(len, data ? data : "", data ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
		if (mr)
			MHD_add_response_header(mr, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8");
		status = MHD_HTTP_OK;
	} else {
		static const char nf[] = "Not Found: this port serves only GET /metrics\n";
		mr = MHD_create_response_from_buffer(sizeof nf - 1, (void *)nf, MHD_RESPMEM_PERSISTENT);
		status = MHD_HTTP_NOT_FOUND;
	}
	if (!mr)
		return MHD_NO;
	enum MHD_Result ret = MHD_queue_response(conn, status, mr);
	MHD_destroy_response(mr);
	return ret;
}

static void mhd_log(void *cls, const char *fmt, va_list ap);

static struct MHD_Daemon *start_metrics_listener(struct mt_http *h, const struct mt_config *cfg, struct mt_err *err)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
	struct addrinfo *ai = NULL;
	char port[16];
	snprintf(port, sizeof port, "%d", cfg->metrics_port);
	int gai = getaddrinfo(cfg->host, port, &hints, &ai);
	if (gai != 0) {
		mt_fail(err, MT_INVALID_PARAMETER_VALUE, "cannot resolve host '%s': %s", cfg->host, gai_strerror(gai));
		return NULL;
	}
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG | MHD_USE_ITC;
	if (ai->ai_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	struct MHD_Daemon *d = MHD_start_daemon(flags, (uint16_t)cfg->metrics_port, NULL, NULL, on_metrics_request, h,
	                                        MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
	                                        MHD_OPTION_SOCK_ADDR, ai->ai_addr,
	                                        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
	                                        MHD_OPTION_CONNECTION_LIMIT, (unsigned)16,
	                                        MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)1,
	                                        MHD_OPTION_END);
	freeaddrinfo(ai);
	if (!d)
		mt_fail(err, MT_INTERNAL_ERROR, "cannot listen on %s:%d for --metrics-port (address in use or not permitted)",
		        cfg->host, cfg->metrics_port);
	return d;
}

static int unhex(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Percent-decoding of the URL path and query, done once, as libmicrohttpd would, except that "%00" is left
 * encoded: a decoded NUL would silently cut the C string (a path "a%00b" would become "a"); kept encoded,
 * the validators see it and refuse it. */
static size_t unescape(void *cls, struct MHD_Connection *conn, char *s)
{
	(void)cls;
	(void)conn;
	size_t j = 0;
	for (size_t i = 0; s[i]; i++) {
		int hi, lo;
		if (s[i] == '%' && (hi = unhex(s[i + 1])) >= 0 && (lo = unhex(s[i + 2])) >= 0 && (hi | lo) != 0) {
			s[j++] = (char)(hi * 16 + lo);
			i += 2;
		} else {
			s[j++] = s[i];
		}
	}
	s[j] = '\0';
	return j;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	char msg[512];
	vsnprintf(msg, sizeof msg, fmt, ap);
	size_t n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	mt_log(MT_LOG_WARN, "http: %s", msg);
}

/* SO_REUSEPORT, which spreads connections over the workers' sockets, would also let a second mltrackd (same user)
 * join the port and silently take half of the connections. A socket bound without it conflicts with any listener
 * on the port, so one such probe before the workers bind refuses a taken port as a plain server would. */
static bool port_in_use(const struct addrinfo *ai)
{
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	int one = 1; /* connections of a previous run in TIME_WAIT are no conflict */
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	bool taken = bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno == EADDRINUSE;
	close(fd);
	return taken;
}

enum mt_error http_server_start(struct mt_server *srv, struct mt_http **out, struct mt_err *err)
{
	const struct mt_config *cfg = srv->cfg;
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
	struct addrinfo *ai = NULL;
	char port[16];
	snprintf(port, sizeof port, "%d", cfg->port);
	int gai = getaddrinfo(cfg->host, port, &hints, &ai);
	if (gai != 0)
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "cannot resolve host '%s': %s", cfg->host, gai_strerror(gai));
	if (cfg->port != 0 && port_in_use(ai)) {
		freeaddrinfo(ai);
		return mt_fail(err, MT_INTERNAL_ERROR, "cannot listen on %s:%d: address already in use", cfg->host, cfg->port);
	}
	metrics_init();
	struct mt_http *h = xcalloc(1, sizeof *h);
	h->srv = srv;
	atomic_init(&h->in_flight, 0);
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG | MHD_USE_ITC;
	if (ai->ai_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	/* One daemon with one thread per worker, each with its own listening socket on the same port, rather than
	 * libmicrohttpd's thread pool: the pool's workers share one socket and whichever wakes first accepts a burst
	 * of up to ten connections, so 16 clients connecting at once could all land on one worker and leave a core
	 * idle for as long as they stayed connected (search-runs at 16 clients on 2 cores: 82-250 req/s from run to
	 * run). With SO_REUSEPORT the kernel spreads connections over the sockets by their addresses. */
	int n = cfg->workers > 0 ? cfg->workers : 1;
	h->ds = xcalloc((size_t)n, sizeof *h->ds);
	for (; h->nd < n; h->nd++) {
		struct MHD_Daemon *d = MHD_start_daemon(
		        flags, (uint16_t)cfg->port, NULL, NULL, on_request, h, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
		        MHD_OPTION_SOCK_ADDR, ai->ai_addr, MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
		        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120,
		        /* per-connection pool (headers, read buffer): libmicrohttpd 0.9.75 zeroes the part a request used
		         * when it resets the pool, so a bigger pool costs every request; 64 KiB holds any realistic header
		         * block, and bodies stream through in chunks */
		        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024), MHD_OPTION_LISTENING_ADDRESS_REUSE,
		        (unsigned)1, MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL, MHD_OPTION_END);
		if (!d)
			break;
		h->ds[h->nd] = d;
		if (h->nd == 0 && cfg->port == 0) { /* an ephemeral port: the other sockets join the one bound */
			const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
			uint16_t bound = htons(di ? di->port : 0);
			if (ai->ai_family == AF_INET6)
				((struct sockaddr_in6 *)(void *)ai->ai_addr)->sin6_port = bound;
			else
				((struct sockaddr_in *)(void *)ai->ai_addr)->sin_port = bound;
		}
	}
	freeaddrinfo(ai);
	if (h->nd < n) {
		for (int i = 0; i < h->nd; i++)
			MHD_stop_daemon(h->ds[i]);
		free(h->ds);
		free(h);
		return mt_fail(err, MT_INTERNAL_ERROR, "cannot listen on %s:%d (address in use or not permitted)",
		               cfg->host, cfg->port);
	}
	if (cfg->metrics_port > 0 && !(h->metrics_d = start_metrics_listener(h, cfg, err))) {
		for (int i = 0; i < h->nd; i++)
			MHD_stop_daemon(h->ds[i]);
		free(h->ds);
		free(h);
		return err->code;
	}
	*out = h;
	return MT_OK;
}

void http_server_stop(struct mt_http *h)
{
	if (!h)
		return;
	for (int i = 0; i < h->nd; i++) {
		MHD_socket ls = MHD_quiesce_daemon(h->ds[i]);
		if (ls != MHD_INVALID_SOCKET)
			close(ls);
	}
	/* Let requests already being served finish (up to 30 s), then stop the worker threads. */
	for (int i = 0; i < 3000 && atomic_load(&h->in_flight) > 0; i++)
		usleep(10000);
	for (int i = 0; i < h->nd; i++)
		MHD_stop_daemon(h->ds[i]);
	free(h->ds);
	if (h->metrics_d)
		MHD_stop_daemon(h->metrics_d);
	free(h);
}
