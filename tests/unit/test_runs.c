/* SPDX-License-Identifier: Apache-2.0 */
/* test_runs.c: the runs endpoints in process (create/get shape, names, update, delete/restore, params,
 * tags) and the store's batched loader of full runs. Not for metrics (test_metrics.c). */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "mltrackd/store_runs.h"
#include "suites.h"

static struct fixture fx;

static void setup(void) { fixture_setup(&fx); }
static void teardown(void) { fixture_teardown(&fx); }

/* Creates a run in the Default experiment; body_extra is spliced into the request object. */
static const char *create_run(const char *body_extra)
{
	char body[1024];
	snprintf(body, sizeof body, "{\"experiment_id\": \"0\"%s%s}", body_extra[0] ? ", " : "", body_extra);
	struct fx_response *r = fx_call(&fx, MT_POST, "/api/2.0/mlflow/runs/create", body);
	ck_assert_msg(r->status == 200, "%s", r->body);
	static char id[40];
	snprintf(id, sizeof id, "%s", fx_str(r, "run.info.run_id"));
	return id;
}

static struct fx_response *post(const char *path, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static struct fx_response *post(const char *path, const char *fmt, ...)
{
	char url[128];
	static char body[16384];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(body, sizeof body, fmt, ap);
	va_end(ap);
	snprintf(url, sizeof url, "/api/2.0/mlflow/%s", path);
	return fx_call(&fx, MT_POST, url, body);
}

static struct fx_response *get_run(const char *run_id)
{
	char url[128];
	snprintf(url, sizeof url, "/api/2.0/mlflow/runs/get?run_id=%s", run_id);
	return fx_call(&fx, MT_GET, url, NULL);
}

/* The value of key in the run's data list field ("params" or "tags") of the last runs/get answer. */
static const char *data_value(struct fx_response *r, const char *field, const char *key)
{
	const cJSON *run = cJSON_GetObjectItem(r->json, "run");
	const cJSON *list = cJSON_GetObjectItem(cJSON_GetObjectItem(run, "data"), field);
	const cJSON *it;
	cJSON_ArrayForEach(it, list)
	{
		if (strcmp(cJSON_GetObjectItem(it, "key")->valuestring, key) == 0)
			return cJSON_GetObjectItem(it, "value")->valuestring;
	}
	return NULL;
}

START_TEST(create_and_get_shape)
{
	const char *id = create_run("\"run_name\": \"first\", \"start_time\": 1234, \"tags\": [{\"key\": \"t\", \"value\": \"v\"}]");
	ck_assert_uint_eq(strlen(id), 32);
	for (const char *p = id; *p; p++)
		ck_assert(isxdigit((unsigned char)*p) && !isupper((unsigned char)*p));
	char saved[40];
	snprintf(saved, sizeof saved, "%s", id);
	struct fx_response *r = get_run(saved);
	ck_assert_int_eq(r->status, 200);
	ck_assert_str_eq(fx_str(r, "run.info.run_uuid"), saved);
	ck_assert_str_eq(fx_str(r, "run.info.experiment_id"), "0");
	ck_assert_str_eq(fx_str(r, "run.info.run_name"), "first");
	ck_assert_str_eq(fx_str(r, "run.info.status"), "RUNNING");
	ck_assert_str_eq(fx_str(r, "run.info.lifecycle_stage"), "active");
	ck_assert_str_eq(fx_str(r, "run.info.user_id"), "");
	const char *uri = fx_str(r, "run.info.artifact_uri");
	ck_assert_ptr_nonnull(strstr(uri, saved));
	ck_assert_ptr_nonnull(strstr(uri, "/artifacts"));
	const cJSON *info = cJSON_GetObjectItem(cJSON_GetObjectItem(r->json, "run"), "info");
	ck_assert_ptr_null(cJSON_GetObjectItem(info, "end_time"));
	ck_assert_int_eq((int)cJSON_GetObjectItem(info, "start_time")->valuedouble, 1234);
	ck_assert_str_eq(data_value(r, "tags", "mlflow.runName"), "first");
	ck_assert_str_eq(data_value(r, "tags", "t"), "v");
	ck_assert_ptr_nonnull(cJSON_GetObjectItem(cJSON_GetObjectItem(r->json, "run"), "inputs"));
}
END_TEST

START_TEST(generated_name_and_tag_conflict)
{
	const char *id = create_run("");
	struct fx_response *r = get_run(id);
	const char *name = fx_str(r, "run.info.run_name");
	/* adjective-noun-NNN */
	const char *d1 = strchr(name, '-'), *d2 = d1 ? strchr(d1 + 1, '-') : NULL;
	ck_assert_msg(d1 && d2 && d2[1] && strspn(d2 + 1, "0123456789") == strlen(d2 + 1), "%s", name);
	ck_assert_str_eq(data_value(r, "tags", "mlflow.runName"), name);
	/* the tag alone names the run; a different run_name is refused */
	id = create_run("\"tags\": [{\"key\": \"mlflow.runName\", \"value\": \"from-tag\"}]");
	ck_assert_str_eq(fx_str(get_run(id), "run.info.run_name"), "from-tag");
	r = fx_call(&fx, MT_POST, "/api/2.0/mlflow/runs/create",
	            "{\"run_name\": \"a\", \"tags\": [{\"key\": \"mlflow.runName\", \"value\": \"b\"}]}");
	ck_assert_int_eq(r->status, 400);
	ck_assert_ptr_nonnull(strstr(r->body, "Both 'run_name' argument and 'mlflow.runName' tag"));
	r = fx_call(&fx, MT_POST, "/api/2.0/mlflow/runs/create", "{\"experiment_id\": \"424242\"}");
	ck_assert_int_eq(r->status, 404);
	ck_assert_ptr_nonnull(strstr(r->body, "RESOURCE_DOES_NOT_EXIST"));
}
END_TEST

START_TEST(update_and_rename)
{
	char id[40];
	snprintf(id, sizeof id, "%s", create_run("\"run_name\": \"before\""));
	struct fx_response *r =
		post("runs/update", "{\"run_id\": \"%s\", \"status\": \"FINISHED\", \"end_time\": 99, \"run_name\": \"after\"%s}",
		     id, "");
	ck_assert_int_eq(r->status, 200);
	ck_assert_str_eq(fx_str(r, "run_info.status"), "FINISHED");
	ck_assert_str_eq(fx_str(r, "run_info.run_name"), "after");
	r = get_run(id);
	ck_assert_str_eq(data_value(r, "tags", "mlflow.runName"), "after");
	ck_assert_int_eq(post("runs/set-tag", "{\"run_id\": \"%s\", \"key\": \"mlflow.runName\", \"value\": \"%s\"}", id,
	                      "via-tag")->status, 200);
	ck_assert_str_eq(fx_str(get_run(id), "run.info.run_name"), "via-tag");
	r = post("runs/update", "{\"run_id\": \"%s\", \"status\": \"BOGUS\"%s}", id, "");
	ck_assert_int_eq(r->status, 400);
}
END_TEST

START_TEST(delete_restore_and_inactive_writes)
{
	char id[40];
	snprintf(id, sizeof id, "%s", create_run(""));
	ck_assert_int_eq(post("runs/delete", "{\"run_id\": \"%s\"%s}", id, "")->status, 200);
	ck_assert_int_eq(post("runs/delete", "{\"run_id\": \"%s\"%s}", id, "")->status, 200); /* idempotent */
	ck_assert_str_eq(fx_str(get_run(id), "run.info.lifecycle_stage"), "deleted");
	struct fx_response *r = post("runs/log-parameter", "{\"run_id\": \"%s\", \"key\": \"k\", \"value\": \"%s\"}", id, "v");
	ck_assert_int_eq(r->status, 400);
	ck_assert_ptr_nonnull(strstr(r->body, "must be in the 'active' state"));
	r = post("runs/set-tag", "{\"run_id\": \"%s\", \"key\": \"k\", \"value\": \"%s\"}", id, "v");
	ck_assert_int_eq(r->status, 400);
	ck_assert_int_eq(post("runs/restore", "{\"run_id\": \"%s\"%s}", id, "")->status, 200);
	ck_assert_str_eq(fx_str(get_run(id), "run.info.lifecycle_stage"), "active");
	ck_assert_int_eq(post("runs/log-parameter", "{\"run_id\": \"%s\", \"key\": \"k\", \"value\": \"%s\"}", id, "v")->status,
	                 200);
	r = post("runs/delete", "{\"run_id\": \"%s\"%s}", "0123456789abcdef0123456789abcdef", "");
	ck_assert_int_eq(r->status, 404);
}
END_TEST

START_TEST(params_are_immutable_and_truncated)
{
	char id[40];
	snprintf(id, sizeof id, "%s", create_run(""));
	const char *fmt = "{\"run_id\": \"%s\", \"key\": \"p\", \"value\": \"%s\"}";
	ck_assert_int_eq(post("runs/log-parameter", fmt, id, "1")->status, 200);
	ck_assert_int_eq(post("runs/log-parameter", fmt, id, "1")->status, 200);
	struct fx_response *r = post("runs/log-parameter", fmt, id, "2");
	ck_assert_int_eq(r->status, 400);
	ck_assert_ptr_nonnull(strstr(r->body, "Changing param values is not allowed. Param with key='p'"));
	static char big[7001];
	memset(big, 'x', 7000);
	ck_assert_int_eq(post("runs/log-parameter", "{\"run_id\": \"%s\", \"key\": \"long\", \"value\": \"%s\"}", id, big)->status,
	                 200);
	r = get_run(id);
	ck_assert_uint_eq(strlen(data_value(r, "params", "long")), 6000);
	ck_assert_str_eq(data_value(r, "params", "p"), "1");
	char key[300];
	memset(key, 'k', 251);
	key[251] = '\0';
	r = post("runs/log-parameter", "{\"run_id\": \"%s\", \"key\": \"%s\", \"value\": \"v\"}", id, key);
	ck_assert_int_eq(r->status, 400);
	r = post("runs/log-parameter", "{\"run_id\": \"%s\", \"key\": \"%s\", \"value\": \"v\"}", id, "bad*key");
	ck_assert_int_eq(r->status, 400);
}
END_TEST

START_TEST(tags_set_truncate_delete)
{
	char id[40];
	snprintf(id, sizeof id, "%s", create_run(""));
	static char big[9001];
	memset(big, 'y', 9000);
	ck_assert_int_eq(post("runs/set-tag", "{\"run_id\": \"%s\", \"key\": \"k\", \"value\": \"%s\"}", id, big)->status, 200);
	struct fx_response *r = get_run(id);
	ck_assert_uint_eq(strlen(data_value(r, "tags", "k")), 8000);
	ck_assert_int_eq(post("runs/delete-tag", "{\"run_id\": \"%s\", \"key\": \"%s\"}", id, "k")->status, 200);
	ck_assert_ptr_null(data_value(get_run(id), "tags", "k"));
	r = post("runs/delete-tag", "{\"run_id\": \"%s\", \"key\": \"%s\"}", id, "k");
	ck_assert_int_eq(r->status, 404);
	ck_assert_ptr_nonnull(strstr(r->body, "No tag with name: k in run with id"));
}
END_TEST

START_TEST(get_errors)
{
	struct fx_response *r = fx_call(&fx, MT_GET, "/api/2.0/mlflow/runs/get", NULL);
	ck_assert_int_eq(r->status, 400);
	ck_assert_ptr_nonnull(strstr(r->body, "Missing value for required parameter 'run_id'"));
	r = get_run("0123456789abcdef0123456789abcdef");
	ck_assert_int_eq(r->status, 404);
	ck_assert_ptr_nonnull(strstr(r->body, "Run with id=0123456789abcdef0123456789abcdef not found"));
}
END_TEST

/* store_runs_load gives, for any list of keys (repeats and any order), exactly what store_run_get gives. */
START_TEST(batched_load_matches_single_gets)
{
	enum { N = 6 };
	char ids[N][40];
	int64_t pks[N + 2];
	struct arena *a = arena_new();
	struct mt_err err;
	mt_err_init(&err);
	for (int i = 0; i < N; i++) {
		snprintf(ids[i], sizeof ids[i], "%s", create_run(""));
		char extra[256];
		snprintf(extra, sizeof extra,
		         "\"metrics\": [{\"key\": \"m%d\", \"value\": %d, \"timestamp\": 1}, {\"key\": \"z\", \"value\": 1, "
		         "\"timestamp\": 2}], \"params\": [{\"key\": \"p\", \"value\": \"%d\"}]",
		         i, i, i);
		if (i % 2 == 0)
			ck_assert_int_eq(post("runs/log-batch", "{\"run_id\": \"%s\", %s}", ids[i], extra)->status, 200);
		struct mt_run r;
		ck_assert_int_eq(store_run_get(fx.srv.store, a, ids[i], &r, &err), MT_OK);
		pks[N - 1 - i] = r.info.run_pk;
	}
	pks[N] = pks[0];
	pks[N + 1] = pks[3];
	struct mt_run out[N + 2];
	ck_assert_int_eq(store_runs_load(fx.srv.store, a, pks, N + 2, out, &err), MT_OK);
	for (int i = 0; i < N + 2; i++) {
		struct mt_run one;
		ck_assert_int_eq(store_run_get(fx.srv.store, a, out[i].info.run_id, &one, &err), MT_OK);
		ck_assert_int_eq(out[i].info.run_pk, pks[i]);
		ck_assert_uint_eq(out[i].n_metrics, one.n_metrics);
		ck_assert_uint_eq(out[i].n_params, one.n_params);
		ck_assert_uint_eq(out[i].n_tags, one.n_tags);
		for (size_t k = 0; k < one.n_metrics; k++) {
			ck_assert_str_eq(out[i].metrics[k].key, one.metrics[k].key);
			ck_assert(out[i].metrics[k].value == one.metrics[k].value);
		}
		for (size_t k = 0; k < one.n_params; k++)
			ck_assert_str_eq(out[i].params[k].value, one.params[k].value);
		for (size_t k = 0; k < one.n_tags; k++)
			ck_assert_str_eq(out[i].tags[k].value, one.tags[k].value);
	}
	/* runs created at i = 5, 3, 1 (pks[0], pks[2], pks[4]) have no metrics; the others two each */
	ck_assert_uint_eq(out[0].n_metrics, 0);
	ck_assert_uint_eq(out[1].n_metrics, 2);
	ck_assert_uint_eq(out[N].n_metrics, 0);
	int64_t missing = 987654;
	ck_assert_int_eq(store_runs_load(fx.srv.store, a, &missing, 1, out, &err), MT_RESOURCE_DOES_NOT_EXIST);
	arena_free(a);
}
END_TEST

Suite *runs_suite(void)
{
	Suite *s = suite_create("runs");
	TCase *tc = tcase_create("runs");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, create_and_get_shape);
	tcase_add_test(tc, generated_name_and_tag_conflict);
	tcase_add_test(tc, update_and_rename);
	tcase_add_test(tc, delete_restore_and_inactive_writes);
	tcase_add_test(tc, params_are_immutable_and_truncated);
	tcase_add_test(tc, tags_set_truncate_delete);
	tcase_add_test(tc, get_errors);
	tcase_add_test(tc, batched_load_matches_single_gets);
	suite_add_tcase(s, tc);
	return s;
}
