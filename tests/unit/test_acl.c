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

enum who { ANON, NOGRANT, READER, USER, EDITOR, MANAGER, ADMIN, WHO__N };
static const char *names[] = {NULL, "nogrant", "reader", "useuser", "editor", "manager", "boss"};
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
	add_user("useuser", false, "USE");
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
	         "\"resource_type\":\"experiment\",\"resource_id\":\"1\",\"permission\":\"READ\",\"role_id\":1,"
	         "\"role_permission_id\":1,\"token_id\":1}",
	         run_id, run_id, run_id, run_id, user);
	snprintf(url, ucap, "%s%s?experiment_id=1&experiment_name=acl-exp&run_id=%s&run_uuid=%s&run_ids=%s&name=m&path=1/%s/artifacts"
	         "&username=%s&resource_type=experiment&resource_id=1&role_id=1",
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
	case PERM_USE: return w >= USER;
	case PERM_EDIT: return w >= EDITOR;
	case PERM_MANAGE: return w >= MANAGER;
	}
	return false;
}

/* Deleting a registered model drops its grants (as MLflow's basic-auth does), and the permission routes
 * change the caller's own grants: put them back so later routes are still judged against the seeded levels. */
static void regrant(void)
{
	static const struct {
		const char *user, *perm;
	} g[] = {{"reader", "READ"}, {"useuser", "USE"}, {"editor", "EDIT"}, {"manager", "MANAGE"}};
	struct mt_err err;
	mt_err_init(&err);
	struct arena *a = arena_new();
	for (size_t i = 0; i < sizeof g / sizeof g[0]; i++) {
		struct mt_user u;
		ck_assert_int_eq(store_user_get(fx.srv.store, a, g[i].user, &u, &err), MT_OK);
		ck_assert_int_eq(store_grant_set(fx.srv.store, u.id, "registered_model", "m", g[i].perm, &err), MT_OK);
		ck_assert_int_eq(store_grant_set(fx.srv.store, u.id, "experiment", "1", g[i].perm, &err), MT_OK);
	}
	arena_free(a);
}

START_TEST(permission_matrix)
{
	enum who w = (enum who)_i;
	fx_auth_header = w == ANON ? NULL : headers[w];
	for (size_t i = 0; i < mt_routes_count; i++) {
		const struct mt_route *r = &mt_routes[i];
		/* No route is skipped: the destructive admin ones name the caller (users/delete refuses deleting oneself,
		 * update-admin lacks is_admin) or only the admin's own run touches them (roles/delete, roles/unassign). */
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
			if (!strcmp(r->pattern, "/mlflow/registered-models/delete") || strstr(r->pattern, "/permissions/"))
				regrant();
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

static int64_t user_id_of(const char *name)
{
	struct mt_err err;
	mt_err_init(&err);
	struct arena *a = arena_new();
	struct mt_user u;
	ck_assert_int_eq(store_user_get(fx.srv.store, a, name, &u, &err), MT_OK);
	arena_free(a);
	return u.id;
}

static int get_exp_as(enum who w, const char *url)
{
	fx_auth_header = headers[w];
	return fx_call(&fx, MT_GET, url, NULL)->status;
}

START_TEST(deny_through_a_role_overrides_a_grant)
{
	const char *exp1 = "/api/2.0/mlflow/experiments/get?experiment_id=1";
	ck_assert_int_eq(get_exp_as(EDITOR, exp1), 200);
	fx_auth_header = headers[ADMIN];
	struct fx_response *r = fx_call(&fx, MT_POST, "/api/3.0/mlflow/roles/create", "{\"name\":\"blocked\",\"workspace\":\"default\"}");
	ck_assert_int_eq(r->status, 200);
	char body[256];
	int64_t role = (int64_t)cJSON_GetObjectItem(cJSON_GetObjectItem(r->json, "role"), "id")->valuedouble;
	snprintf(body, sizeof body,
	         "{\"role_id\":%lld,\"resource_type\":\"experiment\",\"resource_pattern\":\"*\",\"permission\":\"DENY\"}",
	         (long long)role);
	ck_assert_int_eq(fx_call(&fx, MT_POST, "/api/3.0/mlflow/roles/permissions/add", body)->status, 200);
	snprintf(body, sizeof body, "{\"username\":\"editor\",\"role_id\":%lld}", (long long)role);
	ck_assert_int_eq(fx_call(&fx, MT_POST, "/api/3.0/mlflow/roles/assign", body)->status, 200);
	ck_assert_int_eq(get_exp_as(EDITOR, exp1), 403); /* DENY wins over the direct EDIT (same key folds) */
	ck_assert_int_eq(get_exp_as(READER, exp1), 200);
	/* search hides it too */
	fx_auth_header = headers[EDITOR];
	r = fx_call(&fx, MT_POST, "/api/2.0/mlflow/experiments/search", "{\"max_results\":10}");
	ck_assert_int_eq(r->status, 200);
	ck_assert_ptr_null(cJSON_GetObjectItem(r->json, "experiments"));
	fx_auth_header = headers[ADMIN];
	ck_assert_int_eq(fx_call(&fx, MT_DELETE, "/api/3.0/mlflow/roles/unassign", body)->status, 200);
	ck_assert_int_eq(get_exp_as(EDITOR, exp1), 200);
}
END_TEST

START_TEST(wildcard_role_grant_and_run_tier)
{
	struct mt_err err;
	mt_err_init(&err);
	const char *exp1 = "/api/2.0/mlflow/experiments/get?experiment_id=1";
	char run_url[160];
	snprintf(run_url, sizeof run_url, "/api/2.0/mlflow/runs/get?run_id=%s", run_id);
	ck_assert_int_eq(get_exp_as(NOGRANT, exp1), 403); /* default NO_PERMISSIONS */
	int64_t uid = user_id_of("nogrant");
	ck_assert_int_eq(store_grant_set(fx.srv.store, uid, "experiment", "*", "READ", &err), MT_OK);
	ck_assert_int_eq(get_exp_as(NOGRANT, exp1), 200);
	ck_assert_int_eq(get_exp_as(NOGRANT, run_url), 200); /* runs inherit it */
	/* an unknown run is denied, not 404: no oracle for which run ids exist */
	ck_assert_int_eq(get_exp_as(NOGRANT, "/api/2.0/mlflow/runs/get?run_id=ffffffffffffffffffffffffffffffff"), 403);
	/* the run tier: a reader with (run, *, DENY) keeps the experiment but loses its runs */
	ck_assert_int_eq(store_grant_set(fx.srv.store, user_id_of("reader"), "run", "*", "DENY", &err), MT_OK);
	ck_assert_int_eq(get_exp_as(READER, exp1), 200);
	fx_auth_header = headers[READER];
	char body[160];
	snprintf(body, sizeof body, "{\"run_id\":\"%s\"}", run_id);
	ck_assert_int_eq(fx_call(&fx, MT_GET, "/api/2.0/mlflow/metrics/get-history?run_id=0123456789abcdef0123456789abcdef&metric_key=m", NULL)->status, 403);
	/* and an editor's (run, *, READ) narrows what EDIT on the experiment allows for runs (tier override) */
	ck_assert_int_eq(store_grant_set(fx.srv.store, user_id_of("editor"), "run", "*", "READ", &err), MT_OK);
	fx_auth_header = headers[EDITOR];
	ck_assert_int_eq(fx_call(&fx, MT_POST, "/api/2.0/mlflow/runs/set-tag",
	                         "{\"run_id\":\"0123456789abcdef0123456789abcdef\",\"key\":\"k\",\"value\":\"v\"}")->status,
	                 403);
	ck_assert_int_eq(fx_call(&fx, MT_POST, "/api/2.0/mlflow/experiments/set-experiment-tag",
	                         "{\"experiment_id\":\"1\",\"key\":\"k\",\"value\":\"v\"}")->status,
	                 200);
}
END_TEST

START_TEST(grant_validation_follows_mlflow)
{
	fx_auth_header = headers[ADMIN];
	struct fx_response *r = fx_call(&fx, MT_POST, "/api/3.0/mlflow/users/permissions/grant",
	                                "{\"username\":\"target\",\"resource_type\":\"run\",\"resource_id\":\"1\",\"permission\":\"READ\"}");
	ck_assert_int_eq(r->status, 400);
	ck_assert_ptr_nonnull(strstr(r->body, "supports only wildcard"));
	r = fx_call(&fx, MT_POST, "/api/3.0/mlflow/users/permissions/grant",
	            "{\"username\":\"target\",\"resource_type\":\"experiment\",\"resource_id\":\"1\",\"permission\":\"NO_PERMISSIONS\"}");
	ck_assert_int_eq(r->status, 400);
	r = fx_call(&fx, MT_POST, "/api/3.0/mlflow/users/permissions/grant",
	            "{\"username\":\"target\",\"resource_type\":\"bogus\",\"resource_id\":\"1\",\"permission\":\"READ\"}");
	ck_assert_int_eq(r->status, 400);
	ck_assert_ptr_nonnull(strstr(r->body, "Invalid resource type 'bogus'"));
	const char *ok = "{\"username\":\"target\",\"resource_type\":\"experiment\",\"resource_id\":\"1\",\"permission\":\"USE\"}";
	ck_assert_int_eq(fx_call(&fx, MT_POST, "/api/3.0/mlflow/users/permissions/grant", ok)->status, 200);
	r = fx_call(&fx, MT_POST, "/api/3.0/mlflow/users/permissions/grant", ok);
	ck_assert_int_eq(r->status, 400);
	ck_assert_str_eq(fx_str(r, "error_code"), "RESOURCE_ALREADY_EXISTS");
	r = fx_call(&fx, MT_GET, "/api/3.0/mlflow/users/permissions/get?username=target&resource_type=experiment&resource_id=1", NULL);
	ck_assert_int_eq(r->status, 200);
	ck_assert_str_eq(fx_str(r, "permission"), "USE");
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(r->json, "allowed")));
	/* the registry's promotion levels: registered models only */
	r = fx_call(&fx, MT_POST, "/api/3.0/mlflow/users/permissions/grant",
	            "{\"username\":\"target\",\"resource_type\":\"experiment\",\"resource_id\":\"2\",\"permission\":\"MANAGE_STAGING_VERSIONS\"}");
	ck_assert_int_eq(r->status, 400);
	r = fx_call(&fx, MT_POST, "/api/3.0/mlflow/users/permissions/grant",
	            "{\"username\":\"target\",\"resource_type\":\"registered_model\",\"resource_id\":\"m\",\"permission\":\"MANAGE_STAGING_VERSIONS\"}");
	ck_assert_int_eq(r->status, 200);
}
END_TEST

/* A model version straight into the tables (the registry API is tested elsewhere). */
static void seed_version(const char *stage)
{
	sqlite3 *db;
	ck_assert_int_eq(sqlite3_open(fx.cfg.db_path, &db), SQLITE_OK);
	char sql[512];
	snprintf(sql, sizeof sql,
	         "INSERT INTO registered_models (name, creation_time, last_updated_time) VALUES ('m', 0, 0);"
	         "INSERT INTO model_versions (model_pk, version, creation_time, last_updated_time, current_stage)"
	         " SELECT model_pk, 1, 0, 0, '%s' FROM registered_models WHERE name = 'm';",
	         stage);
	ck_assert_int_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static int transition_as(const char *user, const char *stage)
{
	char raw[128], b64[128], h[160], body[160];
	snprintf(raw, sizeof raw, "%s:%s", user, pw);
	auth_b64_encode((const unsigned char *)raw, strlen(raw), b64, sizeof b64);
	snprintf(h, sizeof h, "Basic %s", b64);
	fx_auth_header = h;
	snprintf(body, sizeof body, "{\"name\":\"m\",\"version\":\"1\",\"stage\":\"%s\",\"archive_existing_versions\":false}",
	         stage);
	int st = fx_call(&fx, MT_POST, "/api/2.0/mlflow/model-versions/transition-stage", body)->status;
	fx_auth_header = NULL;
	return st;
}

START_TEST(governed_promotion)
{
	seed_version("None");
	add_user("stager", false, NULL);
	add_user("releaser", false, NULL);
	struct mt_err err;
	mt_err_init(&err);
	ck_assert_int_eq(store_grant_set(fx.srv.store, user_id_of("stager"), "registered_model", "m",
	                                 "MANAGE_STAGING_VERSIONS", &err), MT_OK);
	ck_assert_int_eq(store_grant_set(fx.srv.store, user_id_of("releaser"), "registered_model", "m",
	                                 "MANAGE_PRODUCTION_VERSIONS", &err), MT_OK);
	/* MLflow's rule: EDIT may transition */
	ck_assert_int_ne(transition_as("editor", "Staging"), 403);
	ck_assert_int_eq(transition_as("reader", "Staging"), 403);
	/* the strict rule: EDIT may not; staging managers move among None/Archived/Staging only */
	((struct mt_config *)&fx.cfg)->strict_promotion = true;
	ck_assert_int_eq(transition_as("editor", "Staging"), 403);
	ck_assert_int_ne(transition_as("stager", "Staging"), 403);
	ck_assert_int_eq(transition_as("stager", "Production"), 403);
	ck_assert_int_ne(transition_as("releaser", "Production"), 403);
	/* now in Production: moving it out needs the production level too */
	ck_assert_int_eq(transition_as("stager", "Archived"), 403);
	ck_assert_int_ne(transition_as("manager", "Archived"), 403);
	((struct mt_config *)&fx.cfg)->strict_promotion = false;
}
END_TEST

static int call_as(const char *user, enum mt_method m, const char *url, const char *body)
{
	char raw[128], b64[128], h[160];
	snprintf(raw, sizeof raw, "%s:%s", user, pw);
	auth_b64_encode((const unsigned char *)raw, strlen(raw), b64, sizeof b64);
	snprintf(h, sizeof h, "Basic %s", b64);
	fx_auth_header = h;
	int st = fx_call(&fx, m, url, body)->status;
	fx_auth_header = NULL;
	return st;
}

/* Files a transition request as user; the number of available_actions in the answer (each one checked known). */
static int actions_as(const char *user, const char *body)
{
	char raw[128], b64[128], h[160];
	snprintf(raw, sizeof raw, "%s:%s", user, pw);
	auth_b64_encode((const unsigned char *)raw, strlen(raw), b64, sizeof b64);
	snprintf(h, sizeof h, "Basic %s", b64);
	fx_auth_header = h;
	struct fx_response *r = fx_call(&fx, MT_POST, "/api/2.0/mlflow/transition-requests/create", body);
	fx_auth_header = NULL;
	ck_assert_int_eq(r->status, 200);
	cJSON *acts = cJSON_GetObjectItem(cJSON_GetObjectItem(r->json, "request"), "available_actions");
	ck_assert(cJSON_IsArray(acts));
	int n = 0;
	const cJSON *a;
	cJSON_ArrayForEach(a, acts)
	{
		ck_assert(strcmp(a->valuestring, "APPROVE_TRANSITION_REQUEST") == 0 ||
		          strcmp(a->valuestring, "REJECT_TRANSITION_REQUEST") == 0 ||
		          strcmp(a->valuestring, "CANCEL_TRANSITION_REQUEST") == 0);
		n++;
	}
	return n;
}

START_TEST(approving_a_request_needs_the_transition_right)
{
	seed_version("None");
	add_user("stager", false, NULL);
	struct mt_err err;
	mt_err_init(&err);
	ck_assert_int_eq(store_grant_set(fx.srv.store, user_id_of("stager"), "registered_model", "m",
	                                 "MANAGE_STAGING_VERSIONS", &err), MT_OK);
	((struct mt_config *)&fx.cfg)->strict_promotion = true;
	/* anyone with READ may file a request */
	const char *to_staging = "{\"name\":\"m\",\"version\":\"1\",\"stage\":\"Staging\"}";
	const char *to_prod = "{\"name\":\"m\",\"version\":\"1\",\"stage\":\"Production\"}";
	ck_assert_int_eq(call_as("reader", MT_POST, "/api/2.0/mlflow/transition-requests/create", to_staging), 200);
	ck_assert_int_eq(call_as("reader", MT_POST, "/api/2.0/mlflow/transition-requests/create", to_prod), 200);
	/* a new request offers approve/reject only to whom may make that transition */
	ck_assert_int_eq(actions_as("editor", to_staging), 1); /* cancel only */
	ck_assert_int_eq(actions_as("stager", to_staging), 3); /* approve, reject, cancel */
	ck_assert_int_eq(actions_as("stager", to_prod), 1);
	ck_assert_int_eq(actions_as("manager", to_prod), 3);
	const char *approve_prod =
		"{\"name\":\"m\",\"version\":\"1\",\"stage\":\"Production\",\"archive_existing_versions\":false}";
	const char *approve_staging =
		"{\"name\":\"m\",\"version\":\"1\",\"stage\":\"Staging\",\"archive_existing_versions\":false}";
	/* EDIT approves under MLflow's rule only; the staging manager approves Staging, not Production */
	ck_assert_int_eq(call_as("editor", MT_POST, "/api/2.0/mlflow/transition-requests/approve", approve_staging), 403);
	ck_assert_int_eq(call_as("stager", MT_POST, "/api/2.0/mlflow/transition-requests/approve", approve_prod), 403);
	ck_assert_int_eq(call_as("stager", MT_POST, "/api/2.0/mlflow/transition-requests/reject", approve_prod), 403);
	ck_assert_int_eq(call_as("stager", MT_POST, "/api/2.0/mlflow/transition-requests/approve", approve_staging), 200);
	ck_assert_int_eq(call_as("manager", MT_POST, "/api/2.0/mlflow/transition-requests/approve", approve_prod), 200);
	/* the version is in Production now: moving it out needs the production level */
	const char *back = "{\"name\":\"m\",\"version\":\"1\",\"stage\":\"Archived\"}";
	ck_assert_int_eq(actions_as("stager", back), 1);
	ck_assert_int_eq(actions_as("manager", back), 3);
	((struct mt_config *)&fx.cfg)->strict_promotion = false;
	ck_assert_int_eq(actions_as("editor", to_staging), 3); /* MLflow's rule: EDIT may */
}
END_TEST

START_TEST(failed_logins_are_rate_limited)
{
	((struct mt_config *)&fx.cfg)->login_max_failures = 3;
	acl_reset_rate_limits();
	char raw[] = "reader:wrong-password-123", b64[64], bad[96];
	auth_b64_encode((const unsigned char *)raw, strlen(raw), b64, sizeof b64);
	snprintf(bad, sizeof bad, "Basic %s", b64);
	fx_auth_header = bad;
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(fx_call(&fx, MT_GET, "/api/2.0/mlflow/experiments/get?experiment_id=1", NULL)->status, 401);
	struct fx_response *r = fx_call(&fx, MT_GET, "/api/2.0/mlflow/experiments/get?experiment_id=1", NULL);
	ck_assert_int_eq(r->status, 429);
	ck_assert_str_eq(fx_str(r, "error_code"), "REQUEST_LIMIT_EXCEEDED");
	/* even the right password waits (the limit is per user name, not per password) */
	fx_auth_header = headers[READER];
	ck_assert_int_eq(fx_call(&fx, MT_GET, "/api/2.0/mlflow/experiments/get?experiment_id=1", NULL)->status, 429);
	/* other users are not affected */
	fx_auth_header = headers[EDITOR];
	ck_assert_int_eq(fx_call(&fx, MT_GET, "/api/2.0/mlflow/experiments/get?experiment_id=1", NULL)->status, 200);
	acl_reset_rate_limits();
	fx_auth_header = headers[READER];
	ck_assert_int_eq(fx_call(&fx, MT_GET, "/api/2.0/mlflow/experiments/get?experiment_id=1", NULL)->status, 200);
	((struct mt_config *)&fx.cfg)->login_max_failures = 10;
}
END_TEST

START_TEST(revoked_token_is_refused_at_once)
{
	fx_auth_header = headers[READER];
	struct fx_response *r = fx_call(&fx, MT_POST, "/api/2.0/mltrackd/tokens/create", "{\"name\":\"ci\"}");
	ck_assert_int_eq(r->status, 200);
	char tok[128], h[160];
	snprintf(tok, sizeof tok, "%s", fx_str(r, "token"));
	int64_t id = (int64_t)cJSON_GetObjectItem(cJSON_GetObjectItem(r->json, "token_info"), "id")->valuedouble;
	snprintf(h, sizeof h, "Bearer %s", tok);
	fx_auth_header = h;
	ck_assert_int_eq(fx_call(&fx, MT_GET, "/api/2.0/mlflow/experiments/get?experiment_id=1", NULL)->status, 200);
	/* someone else may not list or revoke it */
	fx_auth_header = headers[EDITOR];
	ck_assert_int_eq(fx_call(&fx, MT_GET, "/api/2.0/mltrackd/tokens/list?username=reader", NULL)->status, 403);
	fx_auth_header = headers[READER];
	r = fx_call(&fx, MT_GET, "/api/2.0/mltrackd/tokens/list", NULL);
	ck_assert_int_eq(r->status, 200);
	ck_assert_ptr_null(strstr(r->body, tok)); /* shown once: never listed */
	char body[96];
	snprintf(body, sizeof body, "{\"token_id\":%lld}", (long long)id);
	ck_assert_int_eq(fx_call(&fx, MT_POST, "/api/2.0/mltrackd/tokens/revoke", body)->status, 200);
	fx_auth_header = h;
	ck_assert_int_eq(fx_call(&fx, MT_GET, "/api/2.0/mlflow/experiments/get?experiment_id=1", NULL)->status, 401);
}
END_TEST

START_TEST(route_without_permission_fails_startup)
{
	struct mt_err err;
	mt_err_init(&err);
	ck_assert_int_eq(acl_check_routes(mt_routes, mt_routes_count, &err), MT_OK);
	/* A positional row that leaves out its permission does not even compile (-Werror=missing-field-initializers);
	 * one written with designators gets PERM_PUBLIC (zero) silently, and start-up refuses it. */
	const struct mt_route missing[] = {{.methods = MT_GET, .pattern = "/mlflow/new-thing", .res = RES_RUN,
	                                    .res_field = "run_id", .flags = ROUTE_V2}};
	ck_assert_int_ne(acl_check_routes(missing, 1, &err), MT_OK);
	ck_assert_ptr_nonnull(strstr(err.msg, "/mlflow/new-thing"));
	/* a resource permission with nothing to check it on */
	const struct mt_route nores[] = {{MT_GET, "/mlflow/x", NULL, RES_SERVER, NULL, PERM_READ, ROUTE_V2}};
	mt_err_init(&err);
	ck_assert_int_ne(acl_check_routes(nores, 1, &err), MT_OK);
	/* the start-up path runs the same check */
	mt_err_init(&err);
	ck_assert_int_eq(acl_bootstrap(&fx.srv, &err), MT_OK);
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
	tcase_add_test(tc, deny_through_a_role_overrides_a_grant);
	tcase_add_test(tc, wildcard_role_grant_and_run_tier);
	tcase_add_test(tc, grant_validation_follows_mlflow);
	tcase_add_test(tc, governed_promotion);
	tcase_add_test(tc, approving_a_request_needs_the_transition_right);
	tcase_add_test(tc, failed_logins_are_rate_limited);
	tcase_add_test(tc, revoked_token_is_refused_at_once);
	tcase_add_test(tc, route_without_permission_fails_startup);
	suite_add_tcase(s, tc);
	return s;
}
