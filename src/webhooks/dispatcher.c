/* SPDX-License-Identifier: Apache-2.0 */
/* dispatcher.c: the delivery thread: fans new outbox events out into deliveries (one writer job with the cursor),
 * then sends the oldest pending delivery of every webhook concurrently with libcurl multi, and records each
 * attempt (retry with backoff + jitter + Retry-After, give up after the maximum age). Per-webhook order: a
 * webhook's next delivery starts only when its head is delivered or failed. State lives in the database only. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "mltrackd/config.h"
#include "mltrackd/metrics.h"
#include "mltrackd/store_webhooks.h"
#include "mltrackd/store.h"
#include "mltrackd/util.h"
#include "webhooks_internal.h"

#define MAX_IN_FLIGHT 64
#define POLL_MS 100
#define FANOUT_BATCH 2000

struct wh_dispatcher {
	struct mt_server *srv;
	pthread_t th;
	CURLM *multi;
	volatile int stop;
	struct wh_xfer *xfers[MAX_IN_FLIGHT];
	struct arena *arenas[MAX_IN_FLIGHT];
	int n;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }
void wh_global_init(void) { pthread_once(&curl_once, curl_init_once); }

static bool in_flight(const struct wh_dispatcher *d, int64_t webhook_pk)
{
	for (int i = 0; i < d->n; i++)
		if (d->xfers[i]->webhook_pk == webhook_pk)
			return true;
	return false;
}

static void record(struct wh_dispatcher *d, const struct delivery_result *r)
{
	struct mt_err err;
	mt_err_init(&err);
	if (store_delivery_record(d->srv->store, r, 1, &err) != MT_OK)
		mt_log(MT_LOG_ERROR, "webhooks: cannot record a delivery attempt: %s", err.msg);
}

static void finish(struct wh_dispatcher *d, int i, int code)
{
	struct wh_xfer *x = d->xfers[i];
	const struct mt_config *cfg = d->srv->cfg;
	struct wh_send_result res;
	wh_xfer_finish(x, code, &res);
	int64_t now = mt_now_ms();
	struct delivery_result r = {.pk = x->delivery_pk, .attempt_at = now, .next_attempt_at = now,
	                            .status = res.status, .latency_ms = res.latency_ms, .error = res.error};
	if (res.status >= 200 && res.status < 300) {
		r.state = DELIVERY_DELIVERED;
	} else if (res.refused || x->setup_error || (res.status && !wh_status_retried(res.status))) {
		r.state = DELIVERY_FAILED;
		if (!r.error)
			r.error = arena_printf(x->a, "HTTP %d (not retried)", res.status);
	} else {
		int64_t wait = wh_backoff_ms(x->attempts + 1, cfg->webhook_backoff_base_ms, cfg->webhook_backoff_max_ms,
		                             res.retry_after_s, mt_random_below(0x7fffffffu));
		r.state = DELIVERY_PENDING;
		r.next_attempt_at = now + wait;
		if (!r.error)
			r.error = arena_printf(x->a, "HTTP %d", res.status);
		if (r.next_attempt_at - x->created_at > (int64_t)cfg->webhook_max_age_s * 1000) {
			r.state = DELIVERY_FAILED;
			r.error = arena_printf(x->a, "%s; gave up after the maximum age (%lld s)", r.error,
			                       (long long)cfg->webhook_max_age_s);
		}
	}
	metrics_webhook_delivery(r.state == DELIVERY_DELIVERED ? METRICS_DELIVERY_SUCCESS
	                         : r.state == DELIVERY_FAILED  ? METRICS_DELIVERY_FAILURE
	                                                       : METRICS_DELIVERY_RETRY);
	if (r.state != DELIVERY_DELIVERED)
		mt_log(MT_LOG_WARN, "webhooks: delivery %lld attempt %d: %s%s", (long long)x->delivery_pk, x->attempts + 1,
		       r.error ? r.error : "", r.state == DELIVERY_FAILED ? " (failed)" : " (will retry)");
	record(d, &r);
	curl_multi_remove_handle(d->multi, x->h);
	wh_xfer_free(x);
	arena_free(d->arenas[i]);
	d->n--;
	d->xfers[i] = d->xfers[d->n];
	d->arenas[i] = d->arenas[d->n];
}

/* Starts the due heads; returns the ms until the next not-yet-due head (or POLL_MS). */
static int64_t start_due(struct wh_dispatcher *d)
{
	struct mt_server *srv = d->srv;
	struct arena *a = arena_new();
	struct mt_err err;
	mt_err_init(&err);
	struct mt_delivery *heads;
	size_t n;
	int64_t wait = POLL_MS, now = mt_now_ms();
	if (store_delivery_heads(srv->store, a, &heads, &n, &err) != MT_OK) {
		mt_log(MT_LOG_ERROR, "webhooks: cannot read pending deliveries: %s", err.msg);
		n = 0;
	}
	store_reader_release(srv->store);
	for (size_t i = 0; i < n && d->n < MAX_IN_FLIGHT; i++) {
		struct mt_delivery *h = &heads[i];
		if (in_flight(d, h->webhook_pk))
			continue;
		if (h->next_attempt_at > now) {
			if (h->next_attempt_at - now < wait)
				wait = h->next_attempt_at - now;
			continue;
		}
		struct arena *xa = arena_new();
		struct wh_xfer *x = arena_calloc(xa, sizeof *x);
		bool ok = wh_xfer_init(x, srv, xa, &h->wh, h->delivery_id, h->event, h->body);
		x->delivery_pk = h->pk;
		x->webhook_pk = h->webhook_pk;
		x->created_at = h->created_at;
		x->attempts = h->attempts;
		d->xfers[d->n] = x;
		d->arenas[d->n] = xa;
		d->n++;
		if (!ok || curl_multi_add_handle(d->multi, x->h) != CURLM_OK) {
			if (!x->setup_error)
				x->setup_error = "cannot start the HTTP transfer";
			finish(d, d->n - 1, CURLE_OK);
		}
	}
	arena_free(a);
	return wait;
}

static void *run(void *arg)
{
	struct wh_dispatcher *d = arg;
	struct store *s = d->srv->store;
	while (!d->stop) {
		bool busy = false;
		if (store_webhook_fanout_pending(s)) {
			store_reader_release(s);
			struct mt_err err;
			mt_err_init(&err);
			size_t ne = 0, nd = 0;
			if (store_webhook_fanout(s, wh_map_event, FANOUT_BATCH, &ne, &nd, &err) != MT_OK)
				mt_log(MT_LOG_ERROR, "webhooks: fan-out failed: %s", err.msg);
			busy = ne == FANOUT_BATCH;
		}
		store_reader_release(s);
		int64_t wait = start_due(d);
		int running = 0;
		curl_multi_perform(d->multi, &running);
		CURLMsg *m;
		int left;
		while ((m = curl_multi_info_read(d->multi, &left))) {
			if (m->msg != CURLMSG_DONE)
				continue;
			for (int i = 0; i < d->n; i++)
				if (d->xfers[i]->h == m->easy_handle) {
					finish(d, i, m->data.result);
					busy = true;
					break;
				}
		}
		if (busy || d->stop)
			continue;
		curl_multi_poll(d->multi, NULL, 0, (int)(wait < 1 ? 1 : wait), NULL);
	}
	/* in-flight attempts are abandoned: their deliveries stay pending and are sent again after a restart */
	for (int i = 0; i < d->n; i++) {
		curl_multi_remove_handle(d->multi, d->xfers[i]->h);
		wh_xfer_free(d->xfers[i]);
		arena_free(d->arenas[i]);
	}
	d->n = 0;
	store_reader_release(s);
	return NULL;
}

static bool outbox_depth(void *ctx, int64_t *value)
{
	struct mt_server *srv = ctx;
	return store_webhook_outbox_depth(srv->store, value);
}

struct wh_dispatcher *wh_dispatcher_start(struct mt_server *srv)
{
	wh_global_init();
	struct wh_dispatcher *d = xcalloc(1, sizeof *d);
	d->srv = srv;
	d->multi = curl_multi_init();
	if (!d->multi || pthread_create(&d->th, NULL, run, d) != 0) {
		mt_log(MT_LOG_ERROR, "webhooks: cannot start the dispatcher");
		if (d->multi)
			curl_multi_cleanup(d->multi);
		free(d);
		return NULL;
	}
	metrics_set_outbox_depth_fn(outbox_depth, srv); /* mltrackd_webhook_outbox_depth on /metrics */
	return d;
}

void wh_dispatcher_kick(struct wh_dispatcher *d)
{
	if (d)
		curl_multi_wakeup(d->multi);
}

void wh_dispatcher_stop(struct wh_dispatcher *d)
{
	if (!d)
		return;
	metrics_set_outbox_depth_fn(NULL, NULL);
	d->stop = 1;
	curl_multi_wakeup(d->multi);
	pthread_join(d->th, NULL);
	curl_multi_cleanup(d->multi);
	free(d);
}
