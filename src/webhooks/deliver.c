/* SPDX-License-Identifier: Apache-2.0 */
/* deliver.c: one delivery attempt as a configured libcurl handle (body, the three header sets, no redirects, no
 * proxies, the connected peer checked before connect), the synchronous send of the test endpoints, and the retry
 * policy. Logs URLs and statuses, never a secret or a signature. */
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "mltrackd/config.h"
#include "mltrackd/json.h"
#include "mltrackd/util.h"
#include "webhooks_internal.h"

#define RESPONSE_CAP 16384 /* the test endpoints echo at most this much of the receiver's body */

bool wh_status_retried(int status) { return status == 408 || status == 425 || status == 429 || status >= 500; }

int64_t wh_backoff_ms(int attempts, int64_t base_ms, int64_t max_ms, int64_t retry_after_s, uint32_t rnd)
{
	if (attempts < 1)
		attempts = 1;
	int64_t d = base_ms;
	for (int i = 1; i < attempts && d < max_ms; i++)
		d *= 2;
	if (d > max_ms)
		d = max_ms;
	d = d / 2 + (d / 2 > 0 ? (int64_t)(rnd % (uint32_t)(d / 2 + 1)) : 0);
	if (retry_after_s >= 0) {
		int64_t ra = (retry_after_s > 3600 ? 3600 : retry_after_s) * 1000;
		if (ra > d)
			d = ra;
	}
	return d;
}

static void iso_now(char *out, size_t cap)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	char base[32];
	strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, cap, "%.20s.%06u+00:00", base, (unsigned)((unsigned long)ts.tv_nsec / 1000u % 1000000u));
}

static size_t on_body(char *p, size_t size, size_t n, void *ctx)
{
	struct wh_xfer *x = ctx;
	size_t len = size * n;
	if (x->resp.len < RESPONSE_CAP)
		buf_append(&x->resp, p, len < RESPONSE_CAP - x->resp.len ? len : RESPONSE_CAP - x->resp.len);
	return len;
}

static size_t on_header(char *p, size_t size, size_t n, void *ctx)
{
	struct wh_xfer *x = ctx;
	size_t len = size * n;
	if (len > 12 && strncasecmp(p, "Retry-After:", 12) == 0) {
		char v[64];
		size_t k = len - 12 < sizeof v - 1 ? len - 12 : sizeof v - 1;
		memcpy(v, p + 12, k);
		v[k] = '\0';
		char *s = v;
		while (*s == ' ')
			s++;
		s[strcspn(s, "\r\n")] = '\0';
		int64_t secs;
		if (mt_parse_i64(s, &secs) && secs >= 0) {
			x->retry_after_s = secs;
		} else {
			time_t t = curl_getdate(s, NULL);
			if (t > 0)
				x->retry_after_s = t > time(NULL) ? (int64_t)(t - time(NULL)) : 0;
		}
	}
	return len;
}

/* Refuses the socket (so nothing is ever sent) when the address curl is about to connect to is not allowed. */
static curl_socket_t open_socket(void *ctx, curlsocktype purpose, struct curl_sockaddr *addr)
{
	struct wh_xfer *x = ctx;
	if (purpose != CURLSOCKTYPE_IPCXN || !wh_addr_allowed(&addr->addr, x->allow_private)) {
		x->refused = true;
		x->refused_class = wh_addr_classify(&addr->addr);
		return CURL_SOCKET_BAD;
	}
	return socket(addr->family, addr->socktype, addr->protocol);
}

static void add_header(struct wh_xfer *x, const char *name, const char *value)
{
	char *h = arena_printf(x->a, "%s: %s", name, value);
	x->headers = curl_slist_append(x->headers, h);
}

bool wh_xfer_init(struct wh_xfer *x, const struct mt_server *srv, struct arena *a, const struct mt_webhook *wh,
                  const char *delivery_id, const char *event, const char *data)
{
	const struct mt_config *cfg = srv->cfg;
	memset(x, 0, sizeof *x);
	x->a = a;
	x->retry_after_s = -1;
	x->allow_private = cfg->webhook_allow_private;
	buf_init(&x->resp, RESPONSE_CAP + 1);
	x->start_us = mt_mono_us();

	char ts[24];
	snprintf(ts, sizeof ts, "%lld", (long long)(mt_now_ms() / 1000));
	if (wh->kind == WH_KIND_MLFLOW) {
		/* {"entity", "action", "timestamp", "data"} as mlflow/webhooks/delivery.py (json.dumps separators) */
		const char *dot = strchr(event, '.');
		char iso[64];
		iso_now(iso, sizeof iso);
		struct buf b;
		buf_init(&b, 64u << 20);
		buf_puts(&b, "{\"entity\": \"");
		json_escape_into(&b, event, dot ? (size_t)(dot - event) : strlen(event));
		buf_puts(&b, "\", \"action\": \"");
		json_escape_into(&b, dot ? dot + 1 : "", dot ? strlen(dot + 1) : 0);
		buf_printf(&b, "\", \"timestamp\": \"%s\", \"data\": ", iso);
		/* the outbox stores compact JSON; MLflow sends json.dumps' spacing */
		cJSON *dj = cJSON_Parse(data);
		if (dj)
			json_dump_python(&b, dj);
		else
			buf_puts(&b, data);
		cJSON_Delete(dj);
		buf_puts(&b, "}");
		x->body_len = b.len;
		x->body = arena_strndup(a, b.data, b.len);
		buf_free(&b);
	} else {
		x->body = arena_strdup(a, data);
		x->body_len = strlen(data);
	}

	const char *key = cfg->webhook_secret_key;
	/* "" is a secret removed by an update */
	bool has_secret = wh->secret_sealed && wh->secret_sealed[0];
	char *secret = has_secret ? wh_secret_open(a, key, wh->secret_sealed) : NULL;
	if (has_secret && !secret) {
		x->setup_error = "the webhook secret cannot be decrypted (MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY changed?)";
		return false;
	}
	add_header(x, "Content-Type", "application/json");
	add_header(x, "User-Agent", "mltrackd-webhooks/" MLTRACKD_VERSION);
	add_header(x, "Expect", "");
	char sig[128];
	if (wh->kind == WH_KIND_MLFLOW) {
		add_header(x, "X-MLflow-Delivery-Id", delivery_id);
		add_header(x, "X-MLflow-Timestamp", ts);
		if (secret && *secret) {
			wh_sign_mlflow(secret, delivery_id, ts, x->body, x->body_len, sig, sizeof sig);
			add_header(x, "X-MLflow-Signature", sig);
		}
	} else {
		if (secret && *secret) {
			wh_sign_databricks(secret, x->body, x->body_len, sig, sizeof sig);
			add_header(x, "X-Databricks-Signature", sig);
		}
		char *auth = wh->authorization_sealed ? wh_secret_open(a, key, wh->authorization_sealed) : NULL;
		if (auth && *auth)
			add_header(x, "Authorization", auth);
	}
	/* Standard Webhooks v1 on every delivery */
	add_header(x, "webhook-id", delivery_id);
	add_header(x, "webhook-timestamp", ts);
	if (secret && *secret) {
		wh_sign_standard(secret, delivery_id, ts, x->body, x->body_len, sig, sizeof sig);
		add_header(x, "webhook-signature", sig);
	}

	CURL *h = curl_easy_init();
	if (!h) {
		x->setup_error = "cannot create an HTTP handle";
		return false;
	}
	x->h = h;
	const char *schemes = cfg->webhook_allowed_schemes ? cfg->webhook_allowed_schemes : "https";
	curl_easy_setopt(h, CURLOPT_URL, wh->url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, schemes);
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, schemes);
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_PROXY, "");
	curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_POST, 1L);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, x->body);
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)x->body_len);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, x->headers);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)(cfg->webhook_timeout_s > 0 ? cfg->webhook_timeout_s : 30) * 1000L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, open_socket);
	curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, x);
	curl_easy_setopt(h, CURLOPT_PRIVATE, x);
	if (wh->kind == WH_KIND_DATABRICKS && !wh->ssl_verify) {
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	return true;
}

void wh_xfer_finish(struct wh_xfer *x, int curl_code, struct wh_send_result *out)
{
	memset(out, 0, sizeof *out);
	out->latency_ms = (mt_mono_us() - x->start_us) / 1000;
	out->retry_after_s = x->retry_after_s;
	out->refused = x->refused;
	if (x->setup_error) {
		out->error = arena_strdup(x->a, x->setup_error);
	} else if (x->refused) {
		out->error = arena_printf(x->a, "refused to connect to a %s address", wh_addr_class_name(x->refused_class));
	} else if (curl_code != CURLE_OK) {
		out->error = arena_printf(x->a, "%s", curl_easy_strerror((CURLcode)curl_code));
	} else {
		long status = 0;
		curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &status);
		out->status = (int)status;
	}
	out->body = x->resp.data ? arena_strndup(x->a, x->resp.data, x->resp.len) : arena_strdup(x->a, "");
}

void wh_xfer_free(struct wh_xfer *x)
{
	if (x->h)
		curl_easy_cleanup(x->h);
	x->h = NULL;
	curl_slist_free_all(x->headers);
	x->headers = NULL;
	buf_free(&x->resp);
}

void wh_send_once(const struct mt_server *srv, struct arena *a, const struct mt_webhook *wh, const char *delivery_id,
                  const char *event, const char *body, struct wh_send_result *out)
{
	struct wh_xfer x;
	int code = CURLE_OK;
	wh_global_init();
	if (wh_xfer_init(&x, srv, a, wh, delivery_id, event, body))
		code = curl_easy_perform(x.h);
	wh_xfer_finish(&x, code, out);
	wh_xfer_free(&x);
	mt_log(MT_LOG_INFO, "webhook test %s %s -> %d%s%s (%lld ms)", wh->id, event, out->status,
	       out->error ? " " : "", out->error ? out->error : "", (long long)out->latency_ms);
}
