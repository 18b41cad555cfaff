/* SPDX-License-Identifier: Apache-2.0 */
/* metrics.c: request counters by route template and status, latency and commit histograms, in-flight
 * requests, artifact bytes and process gauges, in Prometheus text format. Never blocks a request. */
#include <dirent.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mltrackd/api.h"
#include "mltrackd/config.h"
#include "mltrackd/http.h"
#include "mltrackd/metrics.h"
#include "mltrackd/route.h"
#include "mltrackd/store.h"
#include "mltrackd/store_ops.h"
#include "mltrackd/util.h"

/* Status codes tracked individually; anything else lands in the last slot. */
static const int codes[] = {200, 206, 400, 401, 403, 404, 405, 409, 413, 416, 429, 500, 501, 503, 0};
#define NCODES (sizeof codes / sizeof codes[0])
/* Latency buckets, microseconds (le= is rendered in seconds). */
static const int64_t lat_us[] = {250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 1000000, 5000000};
#define NLAT (sizeof lat_us / sizeof lat_us[0])
static const size_t batch_le[] = {1, 2, 4, 8, 16, 32, 64, 128, 256};
#define NBATCH (sizeof batch_le / sizeof batch_le[0])

struct route_stats {
	_Atomic uint64_t count[NCODES];
	_Atomic uint64_t hist[NLAT + 1];
	_Atomic uint64_t sum_us;
};

/* One route row serves several API prefixes; the label names the one used, as the client wrote it
 * (route="/api/2.0/mlflow/runs/log-batch"). */
static const char *const prefixes[] = {"", "/api/2.0", "/ajax-api/2.0", "/api/3.0", "/ajax-api/3.0"};
#define NPFX (sizeof prefixes / sizeof prefixes[0])
#define NSTATS (mt_routes_count * NPFX + 1)

static struct route_stats *stats; /* NSTATS: [route * NPFX + prefix], the last = unmatched */
static _Atomic uint64_t commit_hist[NLAT + 1], commit_sum_us, commit_count;
static _Atomic uint64_t batch_hist[NBATCH + 1], batch_sum;
static _Atomic int64_t in_flight, write_waiting;
static _Atomic uint64_t art_in, art_out;
static _Atomic uint64_t deliveries[3];
static _Atomic(metrics_gauge_fn) outbox_fn;
static void *_Atomic outbox_ctx;
static int64_t started_ms;

void metrics_init(void)
{
	static atomic_flag once = ATOMIC_FLAG_INIT;
	if (atomic_flag_test_and_set(&once))
		return;
	stats = xcalloc(NSTATS, sizeof *stats);
	started_ms = mt_now_ms();
}

static size_t lat_bucket(int64_t us)
{
	size_t i = 0;
	while (i < NLAT && us > lat_us[i])
		i++;
	return i;
}

static size_t stats_index(const struct mt_request *req)
{
	if (!req->route || !req->url || !req->path)
		return NSTATS - 1;
	size_t route = (size_t)(req->route - mt_routes), plen = (size_t)(req->path - req->url), p = 0;
	if (route >= mt_routes_count)
		return NSTATS - 1;
	for (size_t i = 1; i < NPFX; i++)
		if (plen == strlen(prefixes[i]) && strncmp(req->url, prefixes[i], plen) == 0)
			p = i;
	return route * NPFX + p;
}

void metrics_request(const struct mt_request *req, int status, int64_t micros)
{
	if (!stats)
		return;
	struct route_stats *r = &stats[stats_index(req)];
	size_t c = 0;
	while (codes[c] != 0 && codes[c] != status)
		c++;
	atomic_fetch_add_explicit(&r->count[c], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&r->hist[lat_bucket(micros)], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&r->sum_us, (uint64_t)(micros > 0 ? micros : 0), memory_order_relaxed);
}

void metrics_commit(size_t jobs, int64_t micros)
{
	atomic_fetch_add_explicit(&commit_hist[lat_bucket(micros)], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&commit_sum_us, (uint64_t)(micros > 0 ? micros : 0), memory_order_relaxed);
	atomic_fetch_add_explicit(&commit_count, 1, memory_order_relaxed);
	size_t i = 0;
	while (i < NBATCH && jobs > batch_le[i])
		i++;
	atomic_fetch_add_explicit(&batch_hist[i], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&batch_sum, jobs, memory_order_relaxed);
}

void metrics_in_flight(int delta) { atomic_fetch_add_explicit(&in_flight, delta, memory_order_relaxed); }
void metrics_write_waiting(int delta) { atomic_fetch_add_explicit(&write_waiting, delta, memory_order_relaxed); }

void metrics_artifact_bytes(uint64_t in, uint64_t out)
{
	atomic_fetch_add_explicit(&art_in, in, memory_order_relaxed);
	atomic_fetch_add_explicit(&art_out, out, memory_order_relaxed);
}

void metrics_webhook_delivery(enum metrics_delivery outcome)
{
	if ((unsigned)outcome < 3)
		atomic_fetch_add_explicit(&deliveries[outcome], 1, memory_order_relaxed);
}

void metrics_set_outbox_depth_fn(metrics_gauge_fn fn, void *ctx)
{
	atomic_store(&outbox_ctx, ctx);
	atomic_store(&outbox_fn, fn);
}

static uint64_t ld(_Atomic uint64_t *p) { return atomic_load_explicit(p, memory_order_relaxed); }

static void route_label(struct buf *b, size_t i)
{
	if (i >= NSTATS - 1) {
		buf_puts(b, "route=\"unmatched\"");
		return;
	}
	/* Patterns are ASCII literals without quotes or backslashes: no label escaping needed. */
	buf_printf(b, "route=\"%s%s\"", prefixes[i % NPFX], mt_routes[i / NPFX].pattern);
}

static void render_hist(struct buf *b, const char *name, const char *labels, _Atomic uint64_t *hist,
                        uint64_t sum_us)
{
	uint64_t cum = 0;
	for (size_t k = 0; k <= NLAT; k++) {
		cum += ld(&hist[k]);
		if (k < NLAT)
			buf_printf(b, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, labels, labels[0] ? "," : "", (double)lat_us[k] / 1e6,
			           (unsigned long long)cum);
		else
			buf_printf(b, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, labels, labels[0] ? "," : "", (unsigned long long)cum);
	}
	/* No empty "{}" on a family without labels: valid 0.0.4, but some parsers reject it. */
	const char *open = labels[0] ? "{" : "", *close = labels[0] ? "}" : "";
	buf_printf(b, "%s_sum%s%s%s %.6f\n%s_count%s%s%s %llu\n", name, open, labels, close, (double)sum_us / 1e6, name,
	           open, labels, close, (unsigned long long)cum);
}

static long proc_status_kb(const char *field)
{
	FILE *f = fopen("/proc/self/status", "r");
	if (!f)
		return -1;
	char line[256];
	long v = -1;
	size_t n = strlen(field);
	while (fgets(line, sizeof line, f))
		if (strncmp(line, field, n) == 0 && line[n] == ':')
			v = strtol(line + n + 1, NULL, 10);
	fclose(f);
	return v;
}

static long open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		return -1;
	long n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the directory stream itself */
}

/* utime + stime from /proc/self/stat (fields 14 and 15, after the parenthesised command name). */
static double process_cpu_seconds(void)
{
	FILE *f = fopen("/proc/self/stat", "r");
	if (!f)
		return -1;
	char line[1024];
	double v = -1;
	if (fgets(line, sizeof line, f)) {
		char *p = strrchr(line, ')');
		unsigned long long ut = 0, st = 0;
		if (p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) == 2)
			v = (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
	}
	fclose(f);
	return v;
}

void metrics_render(struct buf *b)
{
	metrics_init();
	buf_puts(b, "# HELP mltrackd_http_requests_total Requests answered, by route template and status code.\n"
	            "# TYPE mltrackd_http_requests_total counter\n");
	for (size_t i = 0; i < NSTATS; i++)
		for (size_t c = 0; c < NCODES; c++) {
			uint64_t v = ld(&stats[i].count[c]);
			if (!v)
				continue;
			buf_puts(b, "mltrackd_http_requests_total{");
			route_label(b, i);
			if (codes[c])
				buf_printf(b, ",code=\"%d\"} %llu\n", codes[c], (unsigned long long)v);
			else
				buf_printf(b, ",code=\"other\"} %llu\n", (unsigned long long)v);
		}
	buf_puts(b, "# HELP mltrackd_http_request_duration_seconds Time from request intake to reply, by route.\n"
	            "# TYPE mltrackd_http_request_duration_seconds histogram\n");
	for (size_t i = 0; i < NSTATS; i++) {
		uint64_t total = 0;
		for (size_t k = 0; k <= NLAT; k++)
			total += ld(&stats[i].hist[k]);
		if (!total)
			continue;
		struct buf lbl;
		buf_init(&lbl, 1024);
		route_label(&lbl, i);
		render_hist(b, "mltrackd_http_request_duration_seconds", lbl.data, stats[i].hist, ld(&stats[i].sum_us));
		buf_free(&lbl);
	}
	buf_printf(b, "# HELP mltrackd_http_in_flight_requests Requests being served now.\n"
	              "# TYPE mltrackd_http_in_flight_requests gauge\nmltrackd_http_in_flight_requests %lld\n",
	           (long long)atomic_load(&in_flight));
	buf_printf(b, "# HELP mltrackd_db_write_queue_jobs Write requests queued for or being committed by the writer.\n"
	              "# TYPE mltrackd_db_write_queue_jobs gauge\nmltrackd_db_write_queue_jobs %lld\n",
	           (long long)atomic_load(&write_waiting));
	buf_puts(b, "# HELP mltrackd_db_commit_duration_seconds Writer transaction commit latency.\n"
	            "# TYPE mltrackd_db_commit_duration_seconds histogram\n");
	render_hist(b, "mltrackd_db_commit_duration_seconds", "", commit_hist, ld(&commit_sum_us));
	buf_puts(b, "# HELP mltrackd_db_commit_batch_jobs Write requests merged into one transaction (group commit).\n"
	            "# TYPE mltrackd_db_commit_batch_jobs histogram\n");
	uint64_t cum = 0;
	for (size_t k = 0; k <= NBATCH; k++) {
		cum += ld(&batch_hist[k]);
		if (k < NBATCH)
			buf_printf(b, "mltrackd_db_commit_batch_jobs_bucket{le=\"%zu\"} %llu\n", batch_le[k], (unsigned long long)cum);
		else
			buf_printf(b, "mltrackd_db_commit_batch_jobs_bucket{le=\"+Inf\"} %llu\n", (unsigned long long)cum);
	}
	buf_printf(b, "mltrackd_db_commit_batch_jobs_sum %llu\nmltrackd_db_commit_batch_jobs_count %llu\n",
	           (unsigned long long)ld(&batch_sum), (unsigned long long)cum);
	buf_printf(b, "# HELP mltrackd_artifact_bytes_total Artifact bytes received and sent.\n"
	              "# TYPE mltrackd_artifact_bytes_total counter\n"
	              "mltrackd_artifact_bytes_total{direction=\"in\"} %llu\nmltrackd_artifact_bytes_total{direction=\"out\"} %llu\n",
	           (unsigned long long)ld(&art_in), (unsigned long long)ld(&art_out));
	buf_printf(b, "# HELP mltrackd_webhook_deliveries_total Webhook delivery attempts, by outcome.\n"
	              "# TYPE mltrackd_webhook_deliveries_total counter\n"
	              "mltrackd_webhook_deliveries_total{outcome=\"success\"} %llu\n"
	              "mltrackd_webhook_deliveries_total{outcome=\"retry\"} %llu\n"
	              "mltrackd_webhook_deliveries_total{outcome=\"failure\"} %llu\n",
	           (unsigned long long)ld(&deliveries[METRICS_DELIVERY_SUCCESS]),
	           (unsigned long long)ld(&deliveries[METRICS_DELIVERY_RETRY]),
	           (unsigned long long)ld(&deliveries[METRICS_DELIVERY_FAILURE]));
	metrics_gauge_fn fn = atomic_load(&outbox_fn);
	int64_t depth;
	if (fn && fn(atomic_load(&outbox_ctx), &depth))
		buf_printf(b, "# HELP mltrackd_webhook_outbox_depth Registry events not yet delivered to every webhook.\n"
		              "# TYPE mltrackd_webhook_outbox_depth gauge\nmltrackd_webhook_outbox_depth %lld\n",
		           (long long)depth);
	long rss = proc_status_kb("VmRSS"), hwm = proc_status_kb("VmHWM");
	buf_printf(b, "# HELP process_resident_memory_bytes Resident memory size.\n# TYPE process_resident_memory_bytes gauge\n"
	              "process_resident_memory_bytes %lld\n"
	              "# HELP mltrackd_process_peak_resident_memory_bytes Peak resident memory size.\n"
	              "# TYPE mltrackd_process_peak_resident_memory_bytes gauge\nmltrackd_process_peak_resident_memory_bytes %lld\n"
	              "# HELP process_open_fds Open file descriptors.\n# TYPE process_open_fds gauge\nprocess_open_fds %ld\n",
	           (long long)rss * 1024, (long long)hwm * 1024, open_fds());
	double cpu = process_cpu_seconds();
	if (cpu >= 0)
		buf_printf(b, "# HELP process_cpu_seconds_total User and system CPU time spent.\n"
		              "# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total %.2f\n",
		           cpu);
	long max_fds = sysconf(_SC_OPEN_MAX);
	buf_printf(b, "# HELP process_max_fds Limit of open file descriptors.\n# TYPE process_max_fds gauge\n"
	              "process_max_fds %ld\n"
	              "# HELP process_start_time_seconds Start time of the process since the epoch.\n"
	              "# TYPE process_start_time_seconds gauge\nprocess_start_time_seconds %.3f\n"
	              "# HELP mltrackd_build_info The running version, and the MLflow REST API it serves.\n"
	              "# TYPE mltrackd_build_info gauge\n"
	              "mltrackd_build_info{version=\"%s\",mlflow_api=\"%s\"} 1\n",
	           max_fds, (double)started_ms / 1000.0, MLTRACKD_VERSION, MLTRACKD_MLFLOW_API_VERSION);
}

void metrics_render_server(struct mt_server *srv, struct buf *b)
{
	metrics_render(b);
	if (!srv || !srv->store)
		return;
	struct mt_err err;
	mt_err_init(&err);
	int64_t last = 0;
	if (store_outbox_last_event_id(srv->store, &last, &err) == MT_OK)
		buf_printf(b, "# HELP mltrackd_events_outbox_last_id Id of the newest registry event in the outbox.\n"
		              "# TYPE mltrackd_events_outbox_last_id gauge\nmltrackd_events_outbox_last_id %lld\n",
		           (long long)last);
	store_reader_release(srv->store);
}

MT_HANDLER(api_metrics)
{
	(void)err;
	resp->status = 200;
	resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
	buf_reset(&resp->body);
	metrics_render_server(req->srv, &resp->body);
	return MT_OK;
}
