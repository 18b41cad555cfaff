/* SPDX-License-Identifier: Apache-2.0 */
/* test_metrics.c: metric logging and reading in process: validation, NaN/inf, duplicates, the latest rule,
 * batch limits and atomicity, pagination, sampling, the ajax bulk history, and concurrent writers. */
#include <math.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mltrackd/arena.h"
#include "mltrackd/buf.h"
#include "mltrackd/store_gc.h"
#include "mltrackd/server.h"
#include "mltrackd/store_runs.h"
#include "mltrackd/util.h"
#include "suites.h"

static struct fixture fx;
static char run[40];

static void setup(void)
{
	fixture_setup(&fx);
	struct fx_response *r = fx_call(&fx, MT_POST, "/api/2.0/mlflow/runs/create", "{\"experiment_id\": \"0\"}");
	ck_assert_int_eq(r->status, 200);
	snprintf(run, sizeof run, "%s", fx_str(r, "run.info.run_id"));
}

static void teardown(void) { fixture_teardown(&fx); }

static struct fx_response *call(enum mt_method m, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static struct fx_response *call(enum mt_method m, const char *path, const char *fmt, ...)
{
	static char text[65536];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	char url[70000];
	if (m == MT_GET) {
		snprintf(url, sizeof url, "/api/2.0/mlflow/%s?%s", path, text);
		return fx_call(&fx, m, url, NULL);
	}
	snprintf(url, sizeof url, "/api/2.0/mlflow/%s", path);
	return fx_call(&fx, m, url, text);
}

#define LOG(...) call(MT_POST, "runs/log-metric", __VA_ARGS__)
#define HISTORY(key) call(MT_GET, "metrics/get-history", "run_id=%s&metric_key=%s", run, key)

static const cJSON *metrics_of(struct fx_response *r) { return cJSON_GetObjectItem(r->json, "metrics"); }
static double num(const cJSON *m, const char *k) { return cJSON_GetObjectItem(m, k)->valuedouble; }

/* The latest value of key in runs/get (NAN when the value is the string "NaN"; -1 when absent). */
static double latest(const char *key)
{
	struct fx_response *r = call(MT_GET, "runs/get", "run_id=%s", run);
	const cJSON *it;
	cJSON_ArrayForEach(it, cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(r->json, "run"), "data"), "metrics"))
	{
		if (strcmp(cJSON_GetObjectItem(it, "key")->valuestring, key) == 0) {
			const cJSON *v = cJSON_GetObjectItem(it, "value");
			return cJSON_IsString(v) ? NAN : v->valuedouble;
		}
	}
	return -1;
}

START_TEST(validation)
{
	struct fx_response *r = LOG("{\"run_id\": \"%s\", \"key\": \"k\", \"value\": 1}", run);
	ck_assert_int_eq(r->status, 400);
	ck_assert_ptr_nonnull(strstr(r->body, "Missing value for required parameter 'timestamp'"));
	r = LOG("{\"run_id\": \"%s\", \"key\": \"k\", \"timestamp\": 1}", run);
	ck_assert_ptr_nonnull(strstr(r->body, "Missing value for required parameter 'value'"));
	r = LOG("{\"run_id\": \"%s\", \"key\": \"\", \"value\": 1, \"timestamp\": 1}", run);
	ck_assert_ptr_nonnull(strstr(r->body, "Missing value for required parameter 'key'"));
	ck_assert_int_eq(LOG("{\"run_id\": \"%s\", \"key\": \"k\", \"value\": \"abc\", \"timestamp\": 1}", run)->status, 400);
	ck_assert_int_eq(LOG("{\"run_id\": \"%s\", \"key\": \"bad*\", \"value\": 1, \"timestamp\": 1}", run)->status, 400);
	ck_assert_int_eq(LOG("{\"run_id\": \"%s\", \"key\": \"a/../b\", \"value\": 1, \"timestamp\": 1}", run)->status, 400);
	r = LOG("{\"run_id\": \"%s\", \"key\": \"k\", \"value\": 1, \"timestamp\": -1}", run);
	ck_assert_ptr_nonnull(strstr(r->body, "metric 'k' (value=1.0). Timestamp must be a nonnegative long"));
	char key[300];
	memset(key, 'k', 251);
	key[251] = '\0';
	ck_assert_int_eq(LOG("{\"run_id\": \"%s\", \"key\": \"%s\", \"value\": 1, \"timestamp\": 1}", run, key)->status, 400);
	r = LOG("{\"run_id\": \"0123456789abcdef0123456789abcdef\", \"key\": \"k\", \"value\": 1, \"timestamp\": 1%s}", "");
	ck_assert_int_eq(r->status, 404);
	/* booleans are numbers to the reference's proto parser (true = 1); strings of digits are values */
	ck_assert_int_eq(LOG("{\"run_id\": \"%s\", \"key\": \"b\", \"value\": true, \"timestamp\": 1}", run)->status, 200);
	ck_assert_int_eq(LOG("{\"run_id\": \"%s\", \"key\": \"s\", \"value\": \"2.5\", \"timestamp\": \"3\", \"step\": \"4\"}",
	                     run)->status, 200);
	ck_assert(latest("b") == 1.0);
	ck_assert(latest("s") == 2.5);
	/* nothing was written by the refused requests */
	ck_assert(latest("k") == -1);
}
END_TEST

START_TEST(special_values)
{
	ck_assert_int_eq(call(MT_POST, "runs/log-batch",
	                      "{\"run_id\": \"%s\", \"metrics\": [{\"key\": \"nan\", \"value\": \"NaN\", \"timestamp\": 1},"
	                      " {\"key\": \"inf\", \"value\": \"Infinity\", \"timestamp\": 1},"
	                      " {\"key\": \"ninf\", \"value\": \"-Infinity\", \"timestamp\": 1}]}",
	                      run)->status, 200);
	ck_assert(isnan(latest("nan")));
	ck_assert(latest("inf") == 1.7976931348623157e308);
	ck_assert(latest("ninf") == -1.7976931348623157e308);
	struct fx_response *r = HISTORY("nan");
	const cJSON *m = cJSON_GetArrayItem(metrics_of(r), 0);
	ck_assert_str_eq(cJSON_GetObjectItem(m, "value")->valuestring, "NaN");
	/* a NaN point and a 0 point at the same (timestamp, step) are two points */
	ck_assert_int_eq(LOG("{\"run_id\": \"%s\", \"key\": \"nan\", \"value\": 0, \"timestamp\": 1}", run)->status, 200);
	ck_assert_int_eq(cJSON_GetArraySize(metrics_of(HISTORY("nan"))), 2);
}
END_TEST

/* The history's bytes (written by a fast path that escapes the key once): exactly what MLflow's shapes give. */
START_TEST(history_bytes)
{
	ck_assert_int_eq(call(MT_POST, "runs/log-batch",
	                      "{\"run_id\": \"%s\", \"metrics\": [{\"key\": \"a b/c.d\", \"value\": 0.5, \"timestamp\": 1, \"step\": -3},"
	                      " {\"key\": \"a b/c.d\", \"value\": \"NaN\", \"timestamp\": 1700000000000, \"step\": 0},"
	                      " {\"key\": \"a b/c.d\", \"value\": \"-Infinity\", \"timestamp\": 1700000000001, \"step\": 1},"
	                      " {\"key\": \"a b/c.d\", \"value\": 1e-7, \"timestamp\": 1700000000002, \"step\": 2}]}",
	                      run)->status, 200);
	struct fx_response *r = call(MT_GET, "metrics/get-history", "run_id=%s&metric_key=a%%20b/c.d", run);
	ck_assert_int_eq(r->status, 200);
	ck_assert_str_eq(r->body,
	                 "{\"metrics\":[{\"key\":\"a b/c.d\",\"value\":0.5,\"timestamp\":1,\"step\":-3},"
	                 "{\"key\":\"a b/c.d\",\"value\":\"NaN\",\"timestamp\":1700000000000,\"step\":0},"
	                 "{\"key\":\"a b/c.d\",\"value\":-1.7976931348623157e+308,\"timestamp\":1700000000001,\"step\":1},"
	                 "{\"key\":\"a b/c.d\",\"value\":1e-07,\"timestamp\":1700000000002,\"step\":2}]}");
}
END_TEST

START_TEST(duplicates_ignored_and_latest_rule)
{
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(call(MT_POST, "runs/log-batch",
		                      "{\"run_id\": \"%s\", \"metrics\": [{\"key\": \"d\", \"value\": 1, \"timestamp\": 5},"
		                      " {\"key\": \"d\", \"value\": 1, \"timestamp\": 5}]}",
		                      run)->status, 200);
	ck_assert_int_eq(cJSON_GetArraySize(metrics_of(HISTORY("d"))), 1);
	/* latest = max by (step, timestamp, value), whatever the logging order */
	LOG("{\"run_id\": \"%s\", \"key\": \"acc\", \"value\": 0.5, \"timestamp\": 10, \"step\": 0}", run);
	LOG("{\"run_id\": \"%s\", \"key\": \"acc\", \"value\": 0.9, \"timestamp\": 20, \"step\": 2}", run);
	LOG("{\"run_id\": \"%s\", \"key\": \"acc\", \"value\": 0.7, \"timestamp\": 30, \"step\": 1}", run);
	ck_assert(latest("acc") == 0.9);
	LOG("{\"run_id\": \"%s\", \"key\": \"acc\", \"value\": 0.1, \"timestamp\": 20, \"step\": 2}", run);
	ck_assert(latest("acc") == 0.9); /* same step and time: the larger value wins */
	LOG("{\"run_id\": \"%s\", \"key\": \"acc\", \"value\": 0.2, \"timestamp\": 21, \"step\": 2}", run);
	ck_assert(latest("acc") == 0.2);
	/* history order: timestamp, step, value */
	const cJSON *h = metrics_of(HISTORY("acc"));
	double want[][3] = {{10, 0, 0.5}, {20, 2, 0.1}, {20, 2, 0.9}, {21, 2, 0.2}, {30, 1, 0.7}};
	ck_assert_int_eq(cJSON_GetArraySize(h), 5);
	for (int i = 0; i < 5; i++) {
		const cJSON *m = cJSON_GetArrayItem(h, i);
		ck_assert(num(m, "timestamp") == want[i][0] && num(m, "step") == want[i][1] && num(m, "value") == want[i][2]);
	}
}
END_TEST

/* The writer caches keys and series by run key; after gc hard-deletes a run, a new run may get the same key
 * and must get a series of its own (not the dead run's cached one). */
START_TEST(metric_cache_after_gc)
{
	for (int round = 0; round < 3; round++) {
		ck_assert_int_eq(LOG("{\"run_id\": \"%s\", \"key\": \"g\", \"value\": %d, \"timestamp\": 1}", run, round)->status,
		                 200);
		ck_assert(latest("g") == round);
		ck_assert_int_eq(call(MT_POST, "runs/delete", "{\"run_id\": \"%s\"}", run)->status, 200);
		struct arena *a = arena_new();
		struct gc_victim *v;
		size_t n;
		struct mt_err err;
		mt_err_init(&err);
		ck_assert_int_eq(store_gc(fx.srv.store, a, mt_now_ms() + 60000, &v, &n, &err), MT_OK);
		ck_assert_int_eq(n, 1);
		arena_free(a);
		struct fx_response *r = fx_call(&fx, MT_POST, "/api/2.0/mlflow/runs/create", "{\"experiment_id\": \"0\"}");
		ck_assert_int_eq(r->status, 200);
		snprintf(run, sizeof run, "%s", fx_str(r, "run.info.run_id"));
		ck_assert(latest("g") == -1); /* the new run has no metric yet */
	}
	ck_assert_int_eq(LOG("{\"run_id\": \"%s\", \"key\": \"g\", \"value\": 7, \"timestamp\": 2}", run)->status, 200);
	const cJSON *h = metrics_of(HISTORY("g"));
	ck_assert_int_eq(cJSON_GetArraySize(h), 1);
	ck_assert(num(cJSON_GetArrayItem(h, 0), "value") == 7);
	ck_assert(latest("g") == 7);
}
END_TEST

/* Sustained writes keep the WAL bounded: checkpoints copy it into the main file and it restarts from the top
 * (a checkpoint that never completes lets it grow without end, which slowed every read). */
START_TEST(wal_stays_bounded)
{
	struct buf b;
	buf_init(&b, 1 << 20);
	for (int batch = 0; batch < 30; batch++) {
		buf_reset(&b);
		buf_printf(&b, "{\"run_id\": \"%s\", \"metrics\": [", run);
		for (int k = 0; k < 1000; k++)
			buf_printf(&b, "%s{\"key\": \"w%04d\", \"value\": %d, \"timestamp\": %d, \"step\": %d}", k ? "," : "", k,
			           batch, 1000 + batch, batch);
		buf_puts(&b, "]}");
		ck_assert_int_eq(call(MT_POST, "runs/log-batch", "%s", b.data)->status, 200);
	}
	buf_free(&b);
	char path[300];
	struct stat st;
	snprintf(path, sizeof path, "%s/t.db-wal", fx.dir);
	ck_assert_int_eq(stat(path, &st), 0);
	off_t wal = st.st_size;
	snprintf(path, sizeof path, "%s/t.db", fx.dir);
	/* the checkpoint thread copies frames in the background: give it up to 2 s */
	for (int i = 0; i < 100 && stat(path, &st) == 0 && st.st_size <= 256 * 1024; i++)
		usleep(20 * 1000);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_msg(st.st_size > 256 * 1024, "main file %lld bytes: nothing was checkpointed", (long long)st.st_size);
	ck_assert_msg(wal < 64 * 1024 * 1024 + 4 * 1024 * 1024, "WAL at %lld bytes", (long long)wal);
}
END_TEST

/* A log-batch body with nm metrics of key `key` (steps 0..nm-1) and np params p0..p{np-1}. */
static const char *batch_body(struct buf *b, const char *key, int nm, int np, const char *extra)
{
	buf_reset(b);
	buf_printf(b, "{\"run_id\": \"%s\", \"metrics\": [", run);
	for (int i = 0; i < nm; i++)
		buf_printf(b, "%s{\"key\": \"%s\", \"value\": %d.5, \"timestamp\": %d, \"step\": %d}", i ? "," : "", key, i,
		           1000 + i, i);
	buf_puts(b, "], \"params\": [");
	for (int i = 0; i < np; i++)
		buf_printf(b, "%s{\"key\": \"p%d\", \"value\": \"v\"}", i ? "," : "", i);
	buf_printf(b, "]%s}", extra);
	return b->data;
}

START_TEST(batch_limits_and_atomicity)
{
	struct buf b;
	buf_init(&b, 1 << 24);
	struct fx_response *r = fx_call(&fx, MT_POST, "/api/2.0/mlflow/runs/log-batch", batch_body(&b, "x", 999, 1, ""));
	ck_assert_msg(r->status == 200, "%s", r->body);
	r = fx_call(&fx, MT_POST, "/api/2.0/mlflow/runs/log-batch", batch_body(&b, "y", 1000, 1, ""));
	ck_assert_int_eq(r->status, 400);
	ck_assert_ptr_nonnull(strstr(r->body, "A batch logging request can contain at most 1000"));
	r = fx_call(&fx, MT_POST, "/api/2.0/mlflow/runs/log-batch", batch_body(&b, "y", 1001, 0, ""));
	ck_assert_int_eq(r->status, 400);
	r = fx_call(&fx, MT_POST, "/api/2.0/mlflow/runs/log-batch", batch_body(&b, "y", 0, 101, ""));
	ck_assert_int_eq(r->status, 400);
	/* x: 999 points, y: 10 points, a tag */
	r = fx_call(&fx, MT_POST, "/api/2.0/mlflow/runs/log-batch",
	            batch_body(&b, "y", 10, 0, ", \"tags\": [{\"key\": \"tz\", \"value\": \"v\"}]"));
	ck_assert_int_eq(r->status, 200);
	buf_reset(&b);
	buf_printf(&b,
	           "{\"run_id\": \"%s\", \"metrics\": [{\"key\": \"z1\", \"value\": 1, \"timestamp\": 1}],"
	           " \"params\": [{\"key\": \"new\", \"value\": \"1\"}, {\"key\": \"p0\", \"value\": \"changed\"}],"
	           " \"tags\": [{\"key\": \"tz\", \"value\": \"changed\"}]}",
	           run);
	/* the changed p0 comes after "new" was inserted: the job's savepoint takes "new" back */
	r = fx_call(&fx, MT_POST, "/api/2.0/mlflow/runs/log-batch", b.data);
	ck_assert_int_eq(r->status, 400);
	ck_assert_ptr_nonnull(strstr(r->body, "Changing param values is not allowed"));
	/* duplicate keys and an unknown model are refused too */
	buf_reset(&b);
	buf_printf(&b, "{\"run_id\": \"%s\", \"params\": [{\"key\": \"q\", \"value\": \"1\"}, {\"key\": \"q\", \"value\": \"1\"}]}",
	           run);
	r = fx_call(&fx, MT_POST, "/api/2.0/mlflow/runs/log-batch", b.data);
	ck_assert_ptr_nonnull(strstr(r->body, "Duplicate parameter keys"));
	buf_reset(&b);
	buf_printf(&b, "{\"run_id\": \"%s\", \"metrics\": [{\"key\": \"z2\", \"value\": 1, \"timestamp\": 1, \"model_id\": \"m-x\"}]}",
	           run);
	r = fx_call(&fx, MT_POST, "/api/2.0/mlflow/runs/log-batch", b.data);
	ck_assert_int_eq(r->status, 400);
	ck_assert_ptr_nonnull(strstr(r->body, "BAD_REQUEST"));
	/* what is there: the 999 points of x, 10 of y, p0, the first tz; nothing of the refused batches */
	ck_assert_int_eq(cJSON_GetArraySize(metrics_of(HISTORY("x"))), 999);
	ck_assert_int_eq(cJSON_GetArraySize(metrics_of(HISTORY("y"))), 10);
	ck_assert_ptr_null(metrics_of(HISTORY("z1")));
	ck_assert_ptr_null(metrics_of(HISTORY("z2")));
	r = call(MT_GET, "runs/get", "run_id=%s", run);
	ck_assert_ptr_null(strstr(r->body, "\"new\""));
	ck_assert_ptr_null(strstr(r->body, "changed"));
	ck_assert_ptr_null(strstr(r->body, "\"q\""));
	buf_free(&b);
}
END_TEST

/* One integer from a query on the test's database file (its own connection). */
static long long db_int(const char *sql)
{
	sqlite3 *db;
	ck_assert_int_eq(sqlite3_open_v2(fx.cfg.db_path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	sqlite3_stmt *st;
	ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	long long v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static void db_run(const char *sql)
{
	sqlite3 *db;
	ck_assert_int_eq(sqlite3_open_v2(fx.cfg.db_path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	ck_assert_msg(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK, "%s", sqlite3_errmsg(db));
	sqlite3_close(db);
}

/* What the reads answer for key r: the whole history, pages of 7 (bodies joined), and three samplings. */
static void recent_reads(struct buf *out)
{
	buf_reset(out);
	buf_puts(out, HISTORY("r")->body);
	char token[128] = "";
	for (;;) {
		struct fx_response *r = call(MT_GET, "metrics/get-history", "run_id=%s&metric_key=r&max_results=7%s%s", run,
		                             token[0] ? "&page_token=" : "", token);
		ck_assert_int_eq(r->status, 200);
		buf_puts(out, r->body);
		const char *next = fx_str(r, "next_page_token");
		if (!next)
			break;
		snprintf(token, sizeof token, "%s", next);
	}
	buf_puts(out, call(MT_GET, "metrics/get-history-bulk-interval", "run_ids=%s&metric_key=r&max_results=10", run)->body);
	buf_puts(out, call(MT_GET, "metrics/get-history-bulk-interval", "run_ids=%s&metric_key=r&max_results=17", run)->body);
	buf_puts(out, call(MT_GET, "metrics/get-history-bulk-interval",
	                   "run_ids=%s&metric_key=r&start_step=40&end_step=60&max_results=5", run)->body);
}

/* Recent points (src/store/recent.c): plain points are staged and read from memory until the writer merges them
 * into the series; every read answers the same before and after the merge, with points in memory interleaved
 * with merged ones (out of order), duplicates of merged points, -0.0 and NaN; after the idle merge the staging
 * table is empty. Rows left in it by a crash are replayed at start (a duplicate and an orphan ignored). */
START_TEST(recent_points_merge)
{
	struct buf b, before, after;
	buf_init(&b, 1 << 20);
	buf_init(&before, 1 << 22);
	buf_init(&after, 1 << 22);
	/* even timestamps, merged by the idle writer */
	buf_printf(&b, "{\"run_id\": \"%s\", \"metrics\": [", run);
	for (int i = 0; i < 100; i++)
		buf_printf(&b, "%s{\"key\": \"r\", \"value\": %d.25, \"timestamp\": %d, \"step\": %d}", i ? "," : "", i,
		           1000 + 2 * i, i);
	buf_puts(&b, "]}");
	ck_assert_int_eq(fx_call(&fx, MT_POST, "/api/2.0/mlflow/runs/log-batch", b.data)->status, 200);
	for (int i = 0; i < 100 && db_int("SELECT count(*) FROM metrics") < 100; i++)
		usleep(20000);
	ck_assert_int_eq(db_int("SELECT count(*) FROM metrics"), 100);
	/* odd timestamps in reverse order, duplicates of merged points, an earlier point, -0.0 and NaN: in memory */
	buf_reset(&b);
	buf_printf(&b, "{\"run_id\": \"%s\", \"metrics\": [", run);
	for (int i = 99; i >= 0; i -= 2)
		buf_printf(&b, "{\"key\": \"r\", \"value\": %d.75, \"timestamp\": %d, \"step\": %d},", i, 1001 + 2 * i, i);
	for (int i = 0; i < 100; i += 10)
		buf_printf(&b, "{\"key\": \"r\", \"value\": %d.25, \"timestamp\": %d, \"step\": %d},", i, 1000 + 2 * i, i);
	buf_puts(&b, "{\"key\": \"r\", \"value\": -0.0, \"timestamp\": 5, \"step\": 50},"
	             "{\"key\": \"r\", \"value\": \"NaN\", \"timestamp\": 6, \"step\": 51}]}");
	ck_assert_int_eq(fx_call(&fx, MT_POST, "/api/2.0/mlflow/runs/log-batch", b.data)->status, 200);
	ck_assert_int_eq(db_int("SELECT count(*) FROM metrics"), 100); /* the idle merge waits 200 ms */
	ck_assert_int_eq(cJSON_GetArraySize(metrics_of(HISTORY("r"))), 152);
	recent_reads(&before); /* (a merge during these reads changes nothing they answer) */
	ck_assert_ptr_nonnull(strstr(before.data, "\"value\":\"NaN\""));
	for (int i = 0; i < 100 && db_int("SELECT count(*) FROM metrics") < 152; i++)
		usleep(20000);
	ck_assert_int_eq(db_int("SELECT count(*) FROM metrics"), 152);
	recent_reads(&after);
	ck_assert_str_eq(after.data, before.data);
	for (int i = 0; i < 100 && db_int("SELECT count(*) FROM metric_staging") > 0; i++)
		usleep(20000);
	ck_assert_int_eq(db_int("SELECT count(*) FROM metric_staging"), 0);
	/* a crash's leftovers: a new point, a duplicate and a row of a series that is gone */
	mt_server_close(&fx.srv);
	long long series = db_int("SELECT series_id FROM metric_series");
	char sql[512];
	snprintf(sql, sizeof sql, "INSERT INTO metric_staging (series_id, timestamp, step, value, is_nan) VALUES"
	         " (%lld, 99999, 1000, 1.5, 0), (%lld, 1000, 0, 0.25, 0), (%lld, 1, 1, 1, 0)", series, series, series + 99);
	db_run(sql);
	struct mt_err err;
	mt_err_init(&err);
	ck_assert_msg(mt_server_init(&fx.srv, &fx.cfg, &err) == MT_OK, "%s", err.msg);
	ck_assert_int_eq(db_int("SELECT count(*) FROM metric_staging"), 0);
	ck_assert_int_eq(db_int("SELECT count(*) FROM metrics"), 153);
	ck_assert_int_eq(cJSON_GetArraySize(metrics_of(HISTORY("r"))), 153);
	buf_free(&b);
	buf_free(&before);
	buf_free(&after);
}
END_TEST

START_TEST(history_pagination)
{
	struct buf b;
	buf_init(&b, 1 << 20);
	ck_assert_int_eq(fx_call(&fx, MT_POST, "/api/2.0/mlflow/runs/log-batch", batch_body(&b, "p", 25, 0, ""))->status, 200);
	char token[128] = "";
	int seen = 0, pages = 0;
	for (;;) {
		struct fx_response *r = call(MT_GET, "metrics/get-history", "run_id=%s&metric_key=p&max_results=10%s%s", run,
		                             token[0] ? "&page_token=" : "", token);
		ck_assert_int_eq(r->status, 200);
		const cJSON *it;
		cJSON_ArrayForEach(it, metrics_of(r)) ck_assert_int_eq((int)num(it, "step"), seen++);
		pages++;
		const char *next = fx_str(r, "next_page_token");
		if (!next)
			break;
		snprintf(token, sizeof token, "%s", next);
	}
	ck_assert_int_eq(seen, 25);
	ck_assert_int_eq(pages, 3);
	ck_assert_int_eq(call(MT_GET, "metrics/get-history", "run_id=%s&metric_key=p&page_token=garbage", run)->status, 400);
	ck_assert_int_eq(call(MT_GET, "metrics/get-history", "run_id=%s&metric_key=p&max_results=0", run)->status, 400);
	/* an unknown run or key has no points (as MLflow: no 404 here) */
	struct fx_response *r =
		call(MT_GET, "metrics/get-history", "run_id=0123456789abcdef0123456789abcdef&metric_key=p%s", "");
	ck_assert_int_eq(r->status, 200);
	ck_assert_str_eq(r->body, "{}");
	buf_free(&b);
}
END_TEST

START_TEST(bulk_interval_sampling)
{
	struct buf b;
	buf_init(&b, 1 << 20);
	buf_printf(&b, "{\"run_id\": \"%s\", \"metrics\": [", run);
	for (int i = 0, n = 0; i < 1000; i += 3, n++)
		buf_printf(&b, "%s{\"key\": \"s\", \"value\": %d, \"timestamp\": %d, \"step\": %d}", n ? "," : "", i, 1000 + i, i);
	buf_puts(&b, "]}");
	ck_assert_int_eq(fx_call(&fx, MT_POST, "/api/2.0/mlflow/runs/log-batch", b.data)->status, 200);
	/* NTILE(10) over 334 points: 4 buckets of 34, 6 of 33; first of each, the last point replaces the tenth */
	struct fx_response *r =
		call(MT_GET, "metrics/get-history-bulk-interval", "run_ids=%s&metric_key=s&max_results=10", run);
	int want[] = {0, 102, 204, 306, 408, 507, 606, 705, 804, 999};
	ck_assert_int_eq(cJSON_GetArraySize(metrics_of(r)), 10);
	for (int i = 0; i < 10; i++)
		ck_assert_int_eq((int)num(cJSON_GetArrayItem(metrics_of(r), i), "step"), want[i]);
	r = call(MT_GET, "metrics/get-history-bulk-interval", "run_ids=%s&metric_key=s&start_step=3&end_step=9", run);
	ck_assert_int_eq(cJSON_GetArraySize(metrics_of(r)), 3);
	ck_assert_int_eq(call(MT_GET, "metrics/get-history-bulk-interval", "run_ids=%s&metric_key=s&start_step=3", run)->status,
	                 400);
	ck_assert_int_eq(
		call(MT_GET, "metrics/get-history-bulk-interval", "run_ids=%s&metric_key=s&max_results=2501", run)->status, 400);
	buf_free(&b);
}
END_TEST

START_TEST(ajax_history_bulk)
{
	char other[40];
	struct fx_response *r = fx_call(&fx, MT_POST, "/api/2.0/mlflow/runs/create", "{\"experiment_id\": \"0\"}");
	snprintf(other, sizeof other, "%s", fx_str(r, "run.info.run_id"));
	for (int i = 0; i < 3; i++) {
		LOG("{\"run_id\": \"%s\", \"key\": \"m\", \"value\": %d, \"timestamp\": %d}", run, i, 10 - i);
		LOG("{\"run_id\": \"%s\", \"key\": \"m\", \"value\": %d, \"timestamp\": %d}", other, i, 10 - i);
	}
	char url[256];
	snprintf(url, sizeof url, "/ajax-api/2.0/mlflow/metrics/get-history-bulk?run_id=%s&run_id=%s&metric_key=m", other, run);
	r = fx_call(&fx, MT_GET, url, NULL);
	ck_assert_int_eq(r->status, 200);
	const cJSON *ms = metrics_of(r);
	ck_assert_int_eq(cJSON_GetArraySize(ms), 6);
	const char *first = strcmp(run, other) < 0 ? run : other;
	/* runs in id order, each by timestamp */
	ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(ms, 0), "run_id")->valuestring, first);
	ck_assert(num(cJSON_GetArrayItem(ms, 0), "timestamp") == 8);
	ck_assert(num(cJSON_GetArrayItem(ms, 2), "timestamp") == 10);
	snprintf(url, sizeof url, "/ajax-api/2.0/mlflow/metrics/get-history-bulk?run_id=%s&run_id=%s&metric_key=m&max_results=4",
	         other, run);
	ck_assert_int_eq(cJSON_GetArraySize(metrics_of(fx_call(&fx, MT_GET, url, NULL))), 4);
	snprintf(url, sizeof url, "/ajax-api/2.0/mlflow/metrics/get-history-bulk?run_id=%s&metric_key=m&max_results=-1", run);
	ck_assert_int_eq(cJSON_GetArraySize(metrics_of(fx_call(&fx, MT_GET, url, NULL))), 2); /* MLflow's [:-1] */
	snprintf(url, sizeof url, "/ajax-api/2.0/mlflow/metrics/get-history-bulk?run_id=%s&metric_key=zz", run);
	r = fx_call(&fx, MT_GET, url, NULL);
	ck_assert_str_eq(r->body, "{\"metrics\":[]}");
	r = fx_call(&fx, MT_GET, "/ajax-api/2.0/mlflow/metrics/get-history-bulk?metric_key=m", NULL);
	ck_assert_int_eq(r->status, 400);
	ck_assert_ptr_nonnull(strstr(r->body, "must specify at least one run_id"));
	snprintf(url, sizeof url, "/ajax-api/2.0/mlflow/metrics/get-history-bulk?run_id=%s", run);
	ck_assert_ptr_nonnull(strstr(fx_call(&fx, MT_GET, url, NULL)->body, "must specify a metric_key"));
	snprintf(url, sizeof url, "/api/2.0/mlflow/metrics/get-history-bulk?run_id=%s&metric_key=m", run);
	ck_assert_int_eq(fx_call(&fx, MT_GET, url, NULL)->status, 404); /* ajax-only */
}
END_TEST

/* Several threads log batches through the writer at once: every point lands, and each series' latest value
 * is the maximum by (step, timestamp, value) whatever the interleaving. */
struct writer_arg {
	struct store *s;
	int t, failures;
};

static void *writer_thread(void *p)
{
	struct writer_arg *a = p;
	for (int b = 0; b < 20; b++) {
		struct mt_metric ms[50];
		for (int i = 0; i < 50; i++) {
			memset(&ms[i], 0, sizeof ms[i]);
			ms[i].key = i % 2 ? "shared" : (a->t % 2 ? "odd" : "even");
			ms[i].value = a->t * 1000 + b * 50 + i;
			ms[i].timestamp = 1;
			ms[i].step = b * 50 + i;
		}
		struct mt_err err;
		mt_err_init(&err);
		if (store_run_log_batch(a->s, run, ms, 50, NULL, 0, NULL, 0, &err) != MT_OK)
			a->failures++;
	}
	return NULL;
}

START_TEST(concurrent_writers)
{
	enum { T = 4 };
	pthread_t th[T];
	struct writer_arg args[T];
	for (int i = 0; i < T; i++) {
		args[i] = (struct writer_arg){fx.srv.store, i, 0};
		pthread_create(&th[i], NULL, writer_thread, &args[i]);
	}
	for (int i = 0; i < T; i++) {
		pthread_join(th[i], NULL);
		ck_assert_int_eq(args[i].failures, 0);
	}
	struct arena *a = arena_new();
	struct mt_err err;
	mt_err_init(&err);
	struct mt_metric *pts;
	size_t n;
	bool more;
	ck_assert_int_eq(store_metric_history(fx.srv.store, a, run, "shared", 0, -1, &pts, &n, &more, &err), MT_OK);
	ck_assert_uint_eq(n, T * 20 * 25);
	ck_assert_int_eq(store_metric_history(fx.srv.store, a, run, "even", 0, -1, &pts, &n, &more, &err), MT_OK);
	ck_assert_uint_eq(n, 2 * 20 * 25);
	/* the last step (999) was logged by every thread; the largest value there is thread 3's */
	ck_assert(latest("shared") == 3 * 1000 + 999);
	ck_assert(latest("odd") == 3 * 1000 + 998);
	ck_assert(latest("even") == 2 * 1000 + 998);
	arena_free(a);
}
END_TEST

Suite *metrics_suite(void)
{
	Suite *s = suite_create("metrics");
	TCase *tc = tcase_create("metrics");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, validation);
	tcase_add_test(tc, special_values);
	tcase_add_test(tc, duplicates_ignored_and_latest_rule);
	tcase_add_test(tc, batch_limits_and_atomicity);
	tcase_add_test(tc, history_pagination);
	tcase_add_test(tc, bulk_interval_sampling);
	tcase_add_test(tc, ajax_history_bulk);
	tcase_add_test(tc, concurrent_writers);
	tcase_add_test(tc, metric_cache_after_gc);
	tcase_add_test(tc, wal_stays_bounded);
	tcase_add_test(tc, history_bytes);
	tcase_add_test(tc, recent_points_merge);
	suite_add_tcase(s, tc);
	return s;
}
