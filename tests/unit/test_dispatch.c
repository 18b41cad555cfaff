/* SPDX-License-Identifier: Apache-2.0 */
/* test_dispatch.c: the route table's invariants and the request pipeline: 404/405, Content-Type rules,
 * malformed bodies, error shape, and the endpoints of the skeleton driven in-process. */
#include <stdio.h>
#include <string.h>

#include "mltrackd/metrics.h"
#include "mltrackd/route.h"
#include "suites.h"

START_TEST(route_table_invariants)
{
	for (size_t i = 0; i < mt_routes_count; i++) {
		const struct mt_route *r = &mt_routes[i];
		ck_assert_msg(r->pattern && r->pattern[0] == '/', "route %zu has a bad pattern", i);
		ck_assert_msg(r->methods != 0, "%s has no method", r->pattern);
		ck_assert_msg(r->flags & (ROUTE_V2 | ROUTE_V3 | ROUTE_ROOT), "%s has no prefix", r->pattern);
		ck_assert_msg(r->perm <= PERM_ADMIN, "%s has no permission", r->pattern);
		/* Only the liveness endpoints may skip authentication. */
		if (r->perm == PERM_PUBLIC)
			ck_assert_msg(!strcmp(r->pattern, "/health") || !strcmp(r->pattern, "/version"), "%s is public",
			              r->pattern);
		/* A route acting on one object must say where its id is. */
		if (r->perm >= PERM_READ && r->perm <= PERM_MANAGE)
			ck_assert_msg(r->res_field != NULL, "%s has no resource field", r->pattern);
		for (size_t j = i + 1; j < mt_routes_count; j++)
			ck_assert_msg(strcmp(r->pattern, mt_routes[j].pattern) || !(r->methods & mt_routes[j].methods) ||
			                  !(r->flags & mt_routes[j].flags & (ROUTE_V2 | ROUTE_V3 | ROUTE_ROOT)),
			              "duplicate route %s", r->pattern);
	}
}
END_TEST

static struct fixture fx;
static void setup(void) { fixture_setup(&fx); }
static void teardown(void) { fixture_teardown(&fx); }

START_TEST(unknown_route_is_json_404)
{
	struct fx_response *r = fx_call(&fx, MT_GET, "/api/2.0/mlflow/nope", NULL);
	ck_assert_int_eq(r->status, 404);
	ck_assert_str_eq(fx_str(r, "error_code"), "ENDPOINT_NOT_FOUND");
	r = fx_call(&fx, MT_GET, "/nope", NULL);
	ck_assert_int_eq(r->status, 404);
}
END_TEST

START_TEST(wrong_method_is_405)
{
	struct fx_response *r = fx_call(&fx, MT_GET, "/api/2.0/mlflow/experiments/create", NULL);
	ck_assert_int_eq(r->status, 405);
}
END_TEST

START_TEST(unimplemented_route_is_501)
{
	/* a declared route without a handler answers 501; once every row has one, there is nothing left to call */
	for (size_t i = 0; i < mt_routes_count; i++) {
		const struct mt_route *rt = &mt_routes[i];
		if (rt->handler || !(rt->flags & ROUTE_V2) || strchr(rt->pattern, '{') || !(rt->methods & MT_GET))
			continue;
		char url[512];
		snprintf(url, sizeof url, "/api/2.0%s", rt->pattern);
		struct fx_response *r = fx_call(&fx, MT_GET, url, NULL);
		ck_assert_int_eq(r->status, 501);
		ck_assert_str_eq(fx_str(r, "error_code"), "NOT_IMPLEMENTED");
	}
}
END_TEST

START_TEST(health_and_version)
{
	struct fx_response *r = fx_call(&fx, MT_GET, "/health", NULL);
	ck_assert_int_eq(r->status, 200);
	ck_assert_str_eq(r->body, "OK");
	r = fx_call(&fx, MT_GET, "/version", NULL);
	ck_assert_str_eq(r->body, MLTRACKD_MLFLOW_API_VERSION);
	r = fx_call(&fx, MT_GET, "/api/2.0/health", NULL); /* /health is not under the API prefix */
	ck_assert_int_eq(r->status, 404);
}
END_TEST

START_TEST(malformed_json_is_400)
{
	struct fx_response *r = fx_call(&fx, MT_POST, "/api/2.0/mlflow/experiments/create", "{\"name\": ");
	ck_assert_int_eq(r->status, 400);
	ck_assert_str_eq(fx_str(r, "error_code"), "MALFORMED_REQUEST");
	r = fx_call(&fx, MT_POST, "/api/2.0/mlflow/experiments/create", "[1,2]");
	ck_assert_int_eq(r->status, 400);
}
END_TEST

START_TEST(experiment_create_get_roundtrip)
{
	struct fx_response *r =
		fx_call(&fx, MT_POST, "/api/2.0/mlflow/experiments/create",
	                "{\"name\":\"exp-a\",\"tags\":[{\"key\":\"team\",\"value\":\"ml\"}]}");
	ck_assert_int_eq(r->status, 200);
	ck_assert_str_eq(fx_str(r, "experiment_id"), "1");
	r = fx_call(&fx, MT_GET, "/api/2.0/mlflow/experiments/get?experiment_id=1", NULL);
	ck_assert_int_eq(r->status, 200);
	ck_assert_str_eq(fx_str(r, "experiment.name"), "exp-a");
	ck_assert_str_eq(fx_str(r, "experiment.artifact_location"), "mlflow-artifacts:/1");
	ck_assert_str_eq(fx_str(r, "experiment.lifecycle_stage"), "active");
	ck_assert_ptr_nonnull(strstr(r->body, "{\"key\":\"team\",\"value\":\"ml\"}"));
	r = fx_call(&fx, MT_GET, "/ajax-api/2.0/mlflow/experiments/get-by-name?experiment_name=exp-a", NULL);
	ck_assert_str_eq(fx_str(r, "experiment.experiment_id"), "1");
	r = fx_call(&fx, MT_GET, "/api/2.0/mlflow/experiments/get?experiment_id=0", NULL);
	ck_assert_str_eq(fx_str(r, "experiment.name"), "Default");
	/* duplicates, unknown ids, bad ids */
	r = fx_call(&fx, MT_POST, "/api/2.0/mlflow/experiments/create", "{\"name\":\"exp-a\"}");
	ck_assert_int_eq(r->status, 400);
	ck_assert_str_eq(fx_str(r, "error_code"), "RESOURCE_ALREADY_EXISTS");
	r = fx_call(&fx, MT_GET, "/api/2.0/mlflow/experiments/get?experiment_id=999", NULL);
	ck_assert_int_eq(r->status, 404);
	ck_assert_str_eq(fx_str(r, "error_code"), "RESOURCE_DOES_NOT_EXIST");
	r = fx_call(&fx, MT_GET, "/api/2.0/mlflow/experiments/get?experiment_id=abc", NULL);
	ck_assert_int_eq(r->status, 400);
	r = fx_call(&fx, MT_GET, "/api/2.0/mlflow/experiments/get-by-name?experiment_name=zzz", NULL);
	ck_assert_int_eq(r->status, 404);
	r = fx_call(&fx, MT_POST, "/api/2.0/mlflow/experiments/create", "{\"name\":5}");
	ck_assert_int_eq(r->status, 400);
	ck_assert_str_eq(fx_str(r, "error_code"), "INVALID_PARAMETER_VALUE");
	r = fx_call(&fx, MT_POST, "/api/2.0/mlflow/experiments/create", "{}");
	ck_assert_int_eq(r->status, 400);
	/* a double-encoded body (legacy clients) is accepted */
	r = fx_call(&fx, MT_POST, "/api/2.0/mlflow/experiments/create", "\"{\\\"name\\\":\\\"exp-b\\\"}\"");
	ck_assert_int_eq(r->status, 200);
	ck_assert_str_eq(fx_str(r, "experiment_id"), "2");
}
END_TEST

START_TEST(oversized_body_is_refused_before_parsing)
{
	struct mt_request req;
	memset(&req, 0, sizeof req);
	req.arena = arena_new();
	req.srv = &fx.srv;
	req.method = MT_POST;
	req.url = "/api/2.0/mlflow/experiments/create";
	req.body = "";
	req.body_too_large = true; /* what the connection layer sets past --max-body-bytes */
	req.content_type = "application/json";
	struct mt_response resp;
	mt_response_init(&resp);
	mt_dispatch(&req, &resp);
	ck_assert_int_eq(resp.status, 400);
	ck_assert_ptr_nonnull(strstr(resp.body.data, "exceeds the limit"));
	mt_response_free(&resp);
	arena_free(req.arena);
}
END_TEST

START_TEST(prometheus_metrics_count_requests)
{
	metrics_init();
	fx_call(&fx, MT_GET, "/api/2.0/mlflow/experiments/get?experiment_id=0", NULL);
	fx_call(&fx, MT_GET, "/api/2.0/mlflow/experiments/get?experiment_id=12345", NULL);
	fx_call(&fx, MT_POST, "/api/2.0/mlflow/experiments/create", "{\"name\":\"m\"}");
	struct fx_response *r = fx_call(&fx, MT_GET, "/metrics", NULL);
	ck_assert_int_eq(r->status, 200);
	ck_assert_ptr_nonnull(strstr(r->body, "mltrackd_http_requests_total{route=\"/api/2.0/mlflow/experiments/get\",code=\"200\"}"));
	ck_assert_ptr_nonnull(strstr(r->body, "mltrackd_http_requests_total{route=\"/api/2.0/mlflow/experiments/get\",code=\"404\"}"));
	ck_assert_ptr_nonnull(strstr(r->body, "mltrackd_http_request_duration_seconds_bucket{route=\"/api/2.0/mlflow/experiments/create\",le=\"+Inf\"}"));
	ck_assert_ptr_nonnull(strstr(r->body, "mltrackd_db_commit_batch_jobs_count"));
	ck_assert_ptr_nonnull(strstr(r->body, "process_resident_memory_bytes"));
}
END_TEST

START_TEST(artifacts_only_serves_only_artifacts)
{
	fx.cfg.artifacts_only = true;
	struct fx_response *r = fx_call(&fx, MT_GET, "/api/2.0/mlflow/experiments/get?experiment_id=0", NULL);
	ck_assert_int_eq(r->status, 503);
	ck_assert_ptr_nonnull(strstr(r->body, "--artifacts-only"));
	r = fx_call(&fx, MT_GET, "/api/2.0/mlflow-artifacts/artifacts?path=0", NULL);
	ck_assert_int_eq(r->status, 200);
	ck_assert_int_eq(fx_call(&fx, MT_GET, "/health", NULL)->status, 200);
	fx.cfg.artifacts_only = false;
}
END_TEST

START_TEST(artifact_location_allow_list)
{
	struct fx_response *r = fx_call(&fx, MT_POST, "/api/2.0/mlflow/experiments/create",
	                                "{\"name\":\"x1\",\"artifact_location\":\"bogus://host/x\"}");
	ck_assert_int_eq(r->status, 400);
	r = fx_call(&fx, MT_POST, "/api/2.0/mlflow/experiments/create",
	            "{\"name\":\"x2\",\"artifact_location\":\"s3://bucket/../other\"}");
	ck_assert_int_eq(r->status, 400);
	r = fx_call(&fx, MT_POST, "/api/2.0/mlflow/experiments/create",
	            "{\"name\":\"x3\",\"artifact_location\":\"s3://bucket/models\"}");
	ck_assert_int_eq(r->status, 200);
	r = fx_call(&fx, MT_POST, "/api/2.0/mlflow/experiments/create", "{\"name\":\"x4\",\"artifact_location\":\"/data/arts\"}");
	ck_assert_int_eq(r->status, 200);
}
END_TEST

Suite *dispatch_suite(void)
{
	Suite *s = suite_create("dispatch");
	TCase *t = tcase_create("table");
	tcase_add_test(t, route_table_invariants);
	suite_add_tcase(s, t);
	TCase *tc = tcase_create("pipeline");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, unknown_route_is_json_404);
	tcase_add_test(tc, wrong_method_is_405);
	tcase_add_test(tc, unimplemented_route_is_501);
	tcase_add_test(tc, health_and_version);
	tcase_add_test(tc, malformed_json_is_400);
	tcase_add_test(tc, experiment_create_get_roundtrip);
	tcase_add_test(tc, oversized_body_is_refused_before_parsing);
	tcase_add_test(tc, prometheus_metrics_count_requests);
	tcase_add_test(tc, artifacts_only_serves_only_artifacts);
	tcase_add_test(tc, artifact_location_allow_list);
	suite_add_tcase(s, tc);
	return s;
}
