/* SPDX-License-Identifier: Apache-2.0 */
/* test_ops.c: operations in process: structured log lines (JSON and logfmt escaping, invalid UTF-8, caps)
 * and the /metrics exposition (counters by route template and prefix, the outbox and delivery hooks); the default
 * worker count. */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mltrackd/config.h"
#include "mltrackd/log.h"
#include "mltrackd/metrics.h"
#include "suites.h"

static char *line(enum mt_log_format f, const char *msg, const struct mt_log_field *fl, size_t n)
{
	struct buf b;
	buf_init(&b, 1 << 20);
	mt_log_format_line(&b, f, MT_LOG_WARN, msg, fl, n);
	return b.data; /* freed by the caller */
}

START_TEST(json_line_is_valid_json_with_typed_fields)
{
	struct mt_log_field f[] = {MT_LF_S("path", "/a \"b\"\\c\n\x01\xff\xc3\xa9"), MT_LF_I("status", 404),
	                           MT_LF_D("latency_ms", 1.5), MT_LF_S("principal", NULL), MT_LF_B("aborted", false)};
	char *s = line(MT_LOG_JSON, "request", f, 5);
	cJSON *j = cJSON_Parse(s);
	ck_assert_ptr_nonnull(j);
	ck_assert_str_eq(cJSON_GetObjectItem(j, "level")->valuestring, "warn");
	ck_assert_str_eq(cJSON_GetObjectItem(j, "msg")->valuestring, "request");
	/* the invalid byte became U+FFFD, the valid é stayed */
	ck_assert_str_eq(cJSON_GetObjectItem(j, "path")->valuestring, "/a \"b\"\\c\n\x01\xef\xbf\xbd\xc3\xa9");
	ck_assert_int_eq(cJSON_GetObjectItem(j, "status")->valueint, 404);
	ck_assert(cJSON_GetObjectItem(j, "latency_ms")->valuedouble == 1.5);
	ck_assert_ptr_null(cJSON_GetObjectItem(j, "principal")); /* NULL strings are left out */
	ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(j, "aborted")));
	ck_assert_ptr_null(strchr(s, '\n'));
	cJSON_Delete(j);
	free(s);
}
END_TEST

START_TEST(logfmt_quotes_only_when_needed)
{
	struct mt_log_field f[] = {MT_LF_S("route", "/api/2.0/mlflow/runs/get"), MT_LF_S("error", "bad \"x\" = y"),
	                           MT_LF_S("empty", ""), MT_LF_I("status", 200)};
	char *s = line(MT_LOG_LOGFMT, "request", f, 4);
	ck_assert_ptr_nonnull(strstr(s, " level=warn msg=request route=/api/2.0/mlflow/runs/get "));
	ck_assert_ptr_nonnull(strstr(s, " error=\"bad \\\"x\\\" = y\" empty=\"\" status=200"));
	ck_assert(strncmp(s, "ts=", 3) == 0);
	free(s);
}
END_TEST

START_TEST(long_values_are_capped)
{
	char big[5000];
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	struct mt_log_field f[] = {MT_LF_S("path", big)};
	char *s = line(MT_LOG_JSON, "request", f, 1);
	ck_assert_uint_lt(strlen(s), 1200);
	ck_assert_ptr_nonnull(strstr(s, "aaa...\""));
	free(s);
}
END_TEST

START_TEST(format_names)
{
	enum mt_log_format f;
	ck_assert(mt_log_parse_format("json", &f) && f == MT_LOG_JSON);
	ck_assert(mt_log_parse_format("logfmt", &f) && f == MT_LOG_LOGFMT);
	ck_assert(mt_log_parse_format("text", &f) && f == MT_LOG_TEXT);
	ck_assert(!mt_log_parse_format("JSON", &f));
	ck_assert(!mt_log_parse_format(NULL, &f));
}
END_TEST

static struct fixture fx;
static void setup(void) { fixture_setup(&fx); }
static void teardown(void) { fixture_teardown(&fx); }

static long long value_of(const char *text, const char *series)
{
	/* at the start of a line: not the series' # HELP / # TYPE comments */
	for (const char *p = strstr(text, series); p; p = strstr(p + 1, series))
		if (p > text && p[-1] == '\n' && p[strlen(series)] == ' ')
			return strtoll(p + strlen(series) + 1, NULL, 10);
	return -1;
}

static bool depth_fn(void *ctx, int64_t *v)
{
	*v = *(int64_t *)ctx;
	return true;
}

START_TEST(metrics_count_routes_by_prefix_and_expose_hooks)
{
	metrics_init();
	struct buf b;
	buf_init(&b, 1 << 24);
	metrics_render_server(&fx.srv, &b);
	const char *v3 = "mltrackd_http_requests_total{route=\"/api/2.0/mlflow/experiments/search\",code=\"200\"}";
	const char *ajax = "mltrackd_http_requests_total{route=\"/ajax-api/2.0/mlflow/experiments/search\",code=\"200\"}";
	long long before = value_of(b.data, v3), before_ajax = value_of(b.data, ajax);
	ck_assert_int_eq(fx_call(&fx, MT_GET, "/api/2.0/mlflow/experiments/search?max_results=1", NULL)->status, 200);
	ck_assert_int_eq(fx_call(&fx, MT_GET, "/api/2.0/mlflow/experiments/search?max_results=1", NULL)->status, 200);
	ck_assert_int_eq(fx_call(&fx, MT_GET, "/ajax-api/2.0/mlflow/experiments/search?max_results=1", NULL)->status, 200);
	ck_assert_int_eq(fx_call(&fx, MT_POST, "/api/2.0/mlflow/registered-models/create", "{\"name\": \"m-ops\"}")->status,
	                 200);
	static int64_t depth = 7;
	metrics_set_outbox_depth_fn(depth_fn, &depth);
	metrics_webhook_delivery(METRICS_DELIVERY_RETRY);
	buf_reset(&b);
	metrics_render_server(&fx.srv, &b);
	metrics_set_outbox_depth_fn(NULL, NULL);
	ck_assert_int_eq(value_of(b.data, v3), (before < 0 ? 0 : before) + 2);
	ck_assert_int_eq(value_of(b.data, ajax), (before_ajax < 0 ? 0 : before_ajax) + 1);
	ck_assert_int_eq(value_of(b.data, "mltrackd_webhook_outbox_depth"), 7);
	ck_assert_int_ge(value_of(b.data, "mltrackd_webhook_deliveries_total{outcome=\"retry\"}"), 1);
	ck_assert_int_ge(value_of(b.data, "mltrackd_events_outbox_last_id"), 1);
	ck_assert_ptr_nonnull(strstr(b.data, "# TYPE mltrackd_http_request_duration_seconds histogram\n"));
	buf_free(&b);
}
END_TEST

/* Twice the cores, 4 to 64: one worker per core let a burst of connections land on one worker and idle a core. */
START_TEST(default_workers_twice_the_cores)
{
	unsetenv("MLFLOW_WORKERS");
	struct mt_config cfg;
	char *argv[] = {"mltrackd", "--quiet", NULL};
	ck_assert_int_eq(mt_config_load(&cfg, 2, argv), 0);
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int want = ncpu < 2 ? 4 : ncpu > 32 ? 64 : 2 * (int)ncpu;
	ck_assert_int_eq(cfg.workers, want);
	ck_assert_int_ge(cfg.workers, 4);
	mt_config_free(&cfg);
	char *argv2[] = {"mltrackd", "--quiet", "--workers", "3", NULL};
	ck_assert_int_eq(mt_config_load(&cfg, 4, argv2), 0);
	ck_assert_int_eq(cfg.workers, 3);
	mt_config_free(&cfg);
}
END_TEST

Suite *ops_suite(void)
{
	Suite *s = suite_create("ops");
	TCase *t = tcase_create("log");
	tcase_add_test(t, json_line_is_valid_json_with_typed_fields);
	tcase_add_test(t, logfmt_quotes_only_when_needed);
	tcase_add_test(t, long_values_are_capped);
	tcase_add_test(t, format_names);
	tcase_add_test(t, default_workers_twice_the_cores);
	suite_add_tcase(s, t);
	t = tcase_create("metrics");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, metrics_count_routes_by_prefix_and_expose_hooks);
	suite_add_tcase(s, t);
	return s;
}
