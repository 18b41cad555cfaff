/* SPDX-License-Identifier: Apache-2.0 */
/* test_acl.c: the generated permission matrix (every route x every kind of principal -> allowed, 401 or
 * 403 exactly as the route table declares), credential-cache invalidation, creator grants, bootstrap. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mltrackd/acl.h"
#include "mltrackd/auth.h"
#include "mltrackd/route.h"
#include "mltrackd/store_auth.h"
#include "suites.h"

static struct fixture fx;

enum who { ANON, NOGRANT, READER, EDITOR, MANAGER, ADMIN, WHO__N };
static const char *names[] = {NULL, "nogrant", "reader", "editor", "manager", "boss"};
static const char *pw = "a-long-password-1";
static char headers[WHO__N][256];
static char run_id[40];

static void add_user(const char *name, bool admin, const char *perm)
{
	struct mt_err err;
	mt_err_init(&err);
	char *h = auth_password_hash_new(pw, 1000); /* cheap hash: the matrix is about decisions */
	int64_t id;
	ck_assert_msg(store_user_create(fx.srv.store, name, h, admin, &id, &err) == MT_OK, "%s", err.msg);
	free(h);
	if (perm) {
		ck_assert_int_eq(store_grant_set(fx.srv.store, id, "experiment", "1", perm, &err), MT_OK);
		ck_assert_int_eq(store_grant_set(fx.srv.store, id, "registered_model", "m", perm, &err), MT_OK);
	}
}

static void setup(void)
{
	fixture_setup(&fx);
	acl_invalidate_credentials(); /* user ids differ between fixtures */
	fx_auth_header = NULL;
	fx_call(&fx, MT_POST, "/api/2.0/mlflow/experiments/create", "{\"name\":\"acl-exp\"}");
	/* a run in experiment 1, written straight into the table (the runs API is tested elsewhere) */
	sqlite3 *db;
	ck_assert_int_eq(sqlite3_open(fx.cfg.db_path, &db), SQLITE_OK);
	snprintf(run_id, sizeof run_id, "0123456789abcdef0123456789abcdef");
	char sql[256];
	snprintf(sql, sizeof sql, "INSERT INTO runs (run_uuid, experiment_id) VALUES ('%s', 1)", run_id);
	ck_assert_int_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, "INSERT INTO logged_models (model_id, experiment_id, name, artifact_location,"
	                                  " creation_timestamp_ms, last_updated_timestamp_ms, status)"
	                                  " VALUES ('m-0123', 1, 'mm', 'x', 0, 0, 1)", NULL, NULL, NULL),
	                 SQLITE_OK);
	sqlite3_close(db);
	add_user("nogrant", false, NULL);
	add_user("reader", false, "READ");
	add_user("editor", false, "EDIT");
	add_user("manager", false, "MANAGE");
	add_user("boss", true, NULL);
	add_user("target", false, NULL);
	for (int w = NOGRANT; w < WHO__N; w++) {
		char raw[128];
		snprintf(raw, sizeof raw, "%s:%s", names[w], pw);
		char b64[128];
		auth_b64_encode((const unsigned char *)raw, strlen(raw), b64, sizeof b64);
		snprintf(headers[w], sizeof headers[w], "Basic %s", b64);
	}
	((struct mt_config *)&fx.cfg)->auth_enabled = true;
	((struct mt_config *)&fx.cfg)->default_permission = "NO_PERMISSIONS";
}

static void teardown(void)
{
	fx_auth_header = NULL;
	fixture_teardown(&fx);
}

/* A URL and body that name experiment 1 / run R / model m in every place a route may look. */
static void build_request(const struct mt_route *r, enum who w, char *url, size_t ucap, char *body, size_t bcap)
{
	char path[512];
	size_t j = 0;
	for (const char *p = r->pattern; *p && j + 64 < sizeof path;) {
		if (*p == '{') {
			const char *close = strchr(p, '}');
			bool rest = close - p > 4 && strncmp(close - 3, "...", 3) == 0;
			if (rest)
				j += (size_t)snprintf(path + j, sizeof path - j, "1/%s/artifacts/x.txt", run_id);
			else
				j += (size_t)snprintf(path + j, sizeof path - j, "m-0123");
			p = close + 1;
		} else {
			path[j++] = *p++;
		}
	}
	path[j] = '\0';
	const char *prefix = (r->flags & ROUTE_ROOT) ? "" : (r->flags & ROUTE_V2) ? "/ajax-api/2.0" : "/api/3.0";
	const char *user = (!strcmp(r->pattern, "/mlflow/users/permissions/grant") ||
	                    !strcmp(r->pattern, "/mlflow/users/permissions/revoke"))
	                       ? "target"
	                       : (names[w] ? names[w] : "nobody");
	snprintf(body, bcap,
	         "{\"experiment_id\":\"1\",\"experiment_ids\":[\"1\"],\"experiment_name\":\"acl-exp\",\"run_id\":\"%s\","
	         "\"run_uuid\":\"%s\","
	         "\"run_ids\":[\"%s\"],\"name\":\"m\",\"path\":\"1/%s/artifacts\",\"username\":\"%s\","
	         "\"resource_type\":\"experiment\",\"resource_id\":\"1\",\"permission\":\"READ\"}",
	         run_id, run_id, run_id, run_id, user);
	snprintf(url, ucap, "%s%s?experiment_id=1&experiment_name=acl-exp&run_id=%s&run_uuid=%s&run_ids=%s&name=m&path=1/%s/artifacts"
	         "&username=%s&resource_type=experiment&resource_id=1",
	         prefix, path, run_id, run_id, run_id, run_id, user);
}

static bool expected_allowed(const struct mt_route *r, enum who w)
{
	if (r->perm == PERM_PUBLIC)
		return true;
	if (w == ANON)
		return false;
	if (w == ADMIN)
		return true;
	switch (r->perm) {
	case PERM_PUBLIC:
	case PERM_AUTHENTICATED: return true;
	case PERM_ADMIN: return false;
	case PERM_READ: return w >= READER;
	case PERM_EDIT: return w >= EDITOR;
	case PERM_MANAGE: return w >= MANAGER;
	}
	return false;
}

/* Deleting a registered model drops its grants (as MLflow's basic-auth does): put them back so the routes
 * after registered-models/delete are still judged against the seeded levels. */
static void regrant_model(void)
{
	static const struct {
		const char *user, *perm;
	} g[] = {{"reader", "READ"}, {"editor", "EDIT"}, {"manager", "MANAGE"}};
	struct mt_err err;
	mt_err_init(&err);
	struct arena *a = arena_new();
	for (size_t i = 0; i < 3; i++) {
		struct mt_user u;
		ck_assert_int_eq(store_user_get(fx.srv.store, a, g[i].user, &u, &err), MT_OK);
		ck_assert_int_eq(store_grant_set(fx.srv.store, u.id, "registered_model", "m", g[i].perm, &err), MT_OK);
	}
	arena_free(a);
}

START_TEST(permission_matrix)
{
	enum who w = (enum who)_i;
	fx_auth_header = w == ANON ? NULL : headers[w];
	for (size_t i = 0; i < mt_routes_count; i++) {
		const struct mt_route *r = &mt_routes[i];
		/* destructive admin routes would change the principals under test */
		if (!strcmp(r->pattern, "/mlflow/users/delete") || !strcmp(r->pattern, "/mlflow/users/update-admin"))
			continue;
		char url[1024], body[1024];
		build_request(r, w, url, sizeof url, body, sizeof body);
		/* the creator of a registered model gets MANAGE on it: create another one than the model under test */
		char *named = strstr(body, "\"name\":\"m\"");
		if (!strcmp(r->pattern, "/mlflow/registered-models/create") && named)
			memcpy(named, "\"name\":\"n\"", 10);
		unsigned methods[] = {MT_GET, MT_POST, MT_PUT, MT_PATCH, MT_DELETE};
		for (size_t k = 0; k < 5; k++) {
			if (!(r->methods & methods[k]))
				continue;
			if (methods[k] == MT_PUT) /* uploads are streamed by the connection layer */
				continue;
			struct fx_response *res = fx_call(&fx, methods[k], url, methods[k] == MT_GET ? NULL : body);
			bool denied = res->status == 401 || res->status == 403;
			bool allowed = expected_allowed(r, w);
			ck_assert_msg(allowed != denied, "%s %s as %s: got %d, expected %s (%s)", k == 0 ? "GET" : "non-GET",
			              r->pattern, names[w] ? names[w] : "anonymous", res->status, allowed ? "allowed" : "denied",
			              res->body);
			if (w == ANON && r->perm != PERM_PUBLIC)
				ck_assert_int_eq(res->status, 401);
			if (!strcmp(r->pattern, "/mlflow/registered-models/delete"))
				regrant_model();
		}
	}
}
END_TEST

START_TEST(changed_password_takes_effect_at_once)
{
	fx_auth_header = headers[READER];
	struct fx_response *r = fx_call(&fx, MT_GET, "/api/2.0/mlflow/experiments/get?experiment_id=1", NULL);
	ck_assert_int_eq(r->status, 200); /* now cached */
	fx_auth_header = headers[ADMIN];
	r = fx_call(&fx, MT_PATCH, "/api/2.0/mlflow/users/update-password",
	            "{\"username\":\"reader\",\"password\":\"another-long-password\"}");
	ck_assert_int_eq(r->status, 200);
	fx_auth_header = headers[READER];
	r = fx_call(&fx, MT_GET, "/api/2.0/mlflow/experiments/get?experiment_id=1", NULL);
	ck_assert_int_eq(r->status, 401);
	/* a deleted user's cached credential stops working too */
	fx_auth_header = headers[EDITOR];
	ck_assert_int_eq(fx_call(&fx, MT_GET, "/api/2.0/mlflow/experiments/get?experiment_id=1", NULL)->status, 200);
	fx_auth_header = headers[ADMIN];
	ck_assert_int_eq(fx_call(&fx, MT_DELETE, "/api/2.0/mlflow/users/delete", "{\"username\":\"editor\"}")->status, 200);
	fx_auth_header = headers[EDITOR];
	ck_assert_int_eq(fx_call(&fx, MT_GET, "/api/2.0/mlflow/experiments/get?experiment_id=1", NULL)->status, 401);
}
END_TEST

START_TEST(creator_gets_manage)
{
	fx_auth_header = headers[NOGRANT];
	struct fx_response *r = fx_call(&fx, MT_POST, "/api/2.0/mlflow/experiments/create", "{\"name\":\"mine\"}");
	ck_assert_int_eq(r->status, 200);
	char id[32];
	snprintf(id, sizeof id, "%s", fx_str(r, "experiment_id"));
	char url[128];
	snprintf(url, sizeof url, "/api/2.0/mlflow/experiments/get?experiment_id=%s", id);
	ck_assert_int_eq(fx_call(&fx, MT_GET, url, NULL)->status, 200);
	char body[128];
	snprintf(body, sizeof body, "{\"experiment_id\":\"%s\"}", id);
	ck_assert_int_eq(fx_call(&fx, MT_POST, "/api/2.0/mlflow/experiments/delete", body)->status, 200);
	/* someone else without a grant cannot see it */
	fx_auth_header = headers[READER];
	ck_assert_int_eq(fx_call(&fx, MT_GET, url, NULL)->status, 403);
}
END_TEST

START_TEST(tokens_authenticate)
{
	struct mt_err err;
	mt_err_init(&err);
	char *tok = auth_token_new();
	char hex[65];
	auth_token_hash(tok, hex);
	struct arena *a = arena_new();
	struct mt_user u;
	ck_assert_int_eq(store_user_get(fx.srv.store, a, "reader", &u, &err), MT_OK);
	ck_assert_int_eq(store_token_create(fx.srv.store, u.id, hex, "ci", 0, &err), MT_OK);
	char h[128];
	snprintf(h, sizeof h, "Bearer %s", tok);
	fx_auth_header = h;
	ck_assert_int_eq(fx_call(&fx, MT_GET, "/api/2.0/mlflow/experiments/get?experiment_id=1", NULL)->status, 200);
	ck_assert_int_eq(fx_call(&fx, MT_POST, "/api/2.0/mlflow/experiments/delete", "{\"experiment_id\":\"1\"}")->status, 403);
	fx_auth_header = "Bearer mlt_not-a-token";
	ck_assert_int_eq(fx_call(&fx, MT_GET, "/api/2.0/mlflow/experiments/get?experiment_id=1", NULL)->status, 401);
	free(tok);
	arena_free(a);
}
END_TEST

Suite *acl_suite(void)
{
	Suite *s = suite_create("acl");
	TCase *tc = tcase_create("matrix");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, permission_matrix, ANON, WHO__N);
	tcase_add_test(tc, changed_password_takes_effect_at_once);
	tcase_add_test(tc, creator_gets_manage);
	tcase_add_test(tc, tokens_authenticate);
	suite_add_tcase(s, tc);
	return s;
}
