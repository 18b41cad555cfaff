/* SPDX-License-Identifier: Apache-2.0 */
/* dispatcher.c: the delivery thread: fans new outbox events out into deliveries (one writer job with the cursor),
 * then sends the oldest pending delivery of every webhook concurrently with libcurl multi, and records each
 * attempt (retry with backoff + jitter + Retry-After, give up after the maximum age). Per-webhook order: a
 * webhook's next delivery starts only when its head is delivered or failed. State lives in the database only.
 *
 * Throughput: attempt results are kept in memory and recorded in one writer job per scan (at most FLUSH_AT of
 * them), and a webhook whose head was just delivered goes straight on to its next pending delivery (a chain) without
 * waiting for that record. A crash before the record sends those deliveries again after the restart, with the same
 * delivery ids (at least once). The head query runs only after the results are recorded, so it never sees a
 * delivered one as pending. A commit that adds outbox events wakes the thread (store_set_events_hook). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "mltrackd/config.h"
#include "mltrackd/metrics.h"
#include "mltrackd/store_webhooks.h"
#include "mltrackd/store.h"
#include "mltrackd/util.h"
#include "webhooks_internal.h"

#define MAX_IN_FLIGHT 64
#define POLL_MS 100
#define FANOUT_BATCH 2000
#define FLUSH_AT 256  /* results recorded per writer job at most */
#define SCAN_MS 20    /* while chains run, fan-out and the head query still run this often */

struct wh_dispatcher {
	struct mt_server *srv;
	pthread_t th;
	CURLM *multi;
	volatile int stop;
	struct wh_xfer *xfers[MAX_IN_FLIGHT];
	struct arena *arenas[MAX_IN_FLIGHT];
	int n;
	/* attempt results not yet recorded (their error texts live in ra) */
	struct delivery_result results[FLUSH_AT];
	int nresults;
	struct arena *ra;
	/* webhooks whose head was just delivered: (webhook_pk, delivery_pk) to continue after */
	int64_t chain_wh[MAX_IN_FLIGHT], chain_after[MAX_IN_FLIGHT];
	int nchain;
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

/* Records the kept results in one writer job. */
static void flush(struct wh_dispatcher *d)
{
	if (!d->nresults)
		return;
	struct mt_err err;
	mt_err_init(&err);
	if (store_delivery_record(d->srv->store, d->results, (size_t)d->nresults, &err) != MT_OK)
		mt_log(MT_LOG_ERROR, "webhooks: cannot record %d delivery attempts: %s", d->nresults, err.msg);
	d->nresults = 0;
	arena_free(d->ra);
	d->ra = arena_new();
}

static void keep(struct wh_dispatcher *d, const struct delivery_result *r)
{
	if (d->nresults == FLUSH_AT)
		flush(d);
	struct delivery_result *k = &d->results[d->nresults++];
	*k = *r;
	k->error = r->error ? arena_strdup(d->ra, r->error) : NULL;
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
	keep(d, &r);
	if (r.state == DELIVERY_DELIVERED && d->nchain < MAX_IN_FLIGHT) {
		d->chain_wh[d->nchain] = x->webhook_pk;
		d->chain_after[d->nchain++] = x->delivery_pk;
	}
	curl_multi_remove_handle(d->multi, x->h);
	wh_xfer_free(x);
	arena_free(d->arenas[i]);
	d->n--;
	d->xfers[i] = d->xfers[d->n];
	d->arenas[i] = d->arenas[d->n];
}

/* Starts one attempt of delivery h (a slot must be free). */
static void start_one(struct wh_dispatcher *d, const struct mt_delivery *h)
{
	struct arena *xa = arena_new();
	struct wh_xfer *x = arena_calloc(xa, sizeof *x);
	bool ok = wh_xfer_init(x, d->srv, xa, &h->wh, h->delivery_id, h->event, h->body);
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

/* Continues every chain: the next pending delivery of a webhook whose head was just delivered. */
static bool continue_chains(struct wh_dispatcher *d)
{
	int nchain = d->nchain;
	if (!nchain)
		return false;
	struct arena *a = arena_new();
	int64_t now = mt_now_ms();
	bool started = false;
	d->nchain = 0; /* finish() may add entries again while this runs (a setup failure is not delivered) */
	int64_t wh[MAX_IN_FLIGHT], after[MAX_IN_FLIGHT];
	memcpy(wh, d->chain_wh, (size_t)nchain * sizeof *wh);
	memcpy(after, d->chain_after, (size_t)nchain * sizeof *after);
	for (int i = 0; i < nchain && d->n < MAX_IN_FLIGHT; i++) {
		struct mt_err err;
		mt_err_init(&err);
		struct mt_delivery *next;
		size_t n = 0;
		if (in_flight(d, wh[i]))
			continue;
		if (store_delivery_next(d->srv->store, a, wh[i], after[i], now, &next, &n, &err) != MT_OK)
			mt_log(MT_LOG_ERROR, "webhooks: cannot read the next delivery: %s", err.msg);
		if (n) {
			start_one(d, &next[0]);
			started = true;
		}
	}
	store_reader_release(d->srv->store);
	arena_free(a);
	return started;
}

/* Starts the due heads; returns the ms until the next not-yet-due head (or POLL_MS). */
static int64_t start_due(struct wh_dispatcher *d)
{
	struct mt_server *srv = d->srv;
	flush(d); /* the head query must not see a delivered result as pending */
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
		start_one(d, h);
	}
	arena_free(a);
	return wait;
}

static void *run(void *arg)
{
	struct wh_dispatcher *d = arg;
	struct store *s = d->srv->store;
	pthread_setname_np(pthread_self(), "mt-webhooks"); /* per-thread CPU in top, perf and the benchmarks */
	/* Deliveries are background work: under a burst the API's threads get the cores first and the outbox absorbs
	 * the difference (Linux schedules threads, so this lowers only this one). Failure is harmless. */
	if (setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 10) != 0)
		mt_log(MT_LOG_DEBUG, "webhooks: cannot lower the dispatcher's priority");
	int64_t wait = 0, next_scan = 0;
	bool fanout_full = false;
	while (!d->stop) {
		int64_t now = mt_mono_us() / 1000;
		/* a scan: record the results, fan new events out, start the due heads of idle webhooks */
		if (d->n == 0 || d->nresults >= FLUSH_AT / 2 || now >= next_scan || fanout_full) {
			flush(d);
			fanout_full = false;
			if (store_webhook_fanout_pending(s)) {
				store_reader_release(s);
				struct mt_err err;
				mt_err_init(&err);
				size_t ne = 0, nd = 0;
				if (store_webhook_fanout(s, wh_map_event, FANOUT_BATCH, &ne, &nd, &err) != MT_OK)
					mt_log(MT_LOG_ERROR, "webhooks: fan-out failed: %s", err.msg);
				fanout_full = ne == FANOUT_BATCH;
			}
			store_reader_release(s);
			wait = start_due(d);
			next_scan = now + SCAN_MS;
		}
		int running = 0;
		curl_multi_perform(d->multi, &running);
		bool done = false;
		CURLMsg *m;
		int left;
		while ((m = curl_multi_info_read(d->multi, &left))) {
			if (m->msg != CURLMSG_DONE)
				continue;
			for (int i = 0; i < d->n; i++)
				if (d->xfers[i]->h == m->easy_handle) {
					finish(d, i, m->data.result);
					done = true;
					break;
				}
		}
		if (continue_chains(d) || done || fanout_full || d->stop)
			continue;
		if (d->n == 0 && d->nresults) /* idle: record now rather than at the next wake-up */
			continue;
		int64_t until_scan = next_scan - mt_mono_us() / 1000;
		int64_t ms = d->n ? (until_scan < wait ? until_scan : wait) : wait;
		curl_multi_poll(d->multi, NULL, 0, (int)(ms < 1 ? 1 : ms > POLL_MS ? POLL_MS : ms), NULL);
	}
	flush(d);
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

static void kick_hook(void *ctx) { curl_multi_wakeup(((struct wh_dispatcher *)ctx)->multi); }

struct wh_dispatcher *wh_dispatcher_start(struct mt_server *srv)
{
	wh_global_init();
	struct wh_dispatcher *d = xcalloc(1, sizeof *d);
	d->srv = srv;
	d->ra = arena_new();
	d->multi = curl_multi_init();
	if (!d->multi || pthread_create(&d->th, NULL, run, d) != 0) {
		mt_log(MT_LOG_ERROR, "webhooks: cannot start the dispatcher");
		if (d->multi)
			curl_multi_cleanup(d->multi);
		arena_free(d->ra);
		free(d);
		return NULL;
	}
	store_set_events_hook(srv->store, kick_hook, d);
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
	store_set_events_hook(d->srv->store, NULL, NULL);
	d->stop = 1;
	curl_multi_wakeup(d->multi);
	pthread_join(d->th, NULL);
	curl_multi_cleanup(d->multi);
	arena_free(d->ra);
	free(d);
}
