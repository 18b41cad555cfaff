/* SPDX-License-Identifier: Apache-2.0 */
/* test_registry.c: every registry change writes its outbox event in the same transaction, and a rejected
 * change writes neither the change nor an event. */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "suites.h"

static struct fixture fx;
static void setup(void) { fixture_setup(&fx); }
static void teardown(void) { fixture_teardown(&fx); }

static int count(const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	ck_assert_int_eq(sqlite3_open(fx.cfg.db_path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	int n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

START_TEST(events_follow_changes)
{
	ck_assert_int_eq(fx_call(&fx, MT_POST, "/api/2.0/mlflow/registered-models/create",
	                         "{\"name\":\"m\",\"tags\":[{\"key\":\"t\",\"value\":\"v\"}]}")->status, 200);
	ck_assert_int_eq(count("SELECT COUNT(*) FROM events WHERE entity='registered_model' AND action='created'"
	                       " AND json_extract(payload, '$.tags.t') = 'v'"),
	                 1);
	struct fx_response *r = fx_call(&fx, MT_POST, "/api/2.0/mlflow/model-versions/create",
	                                "{\"name\":\"m\",\"source\":\"mlflow-artifacts:/1/x\"}");
	ck_assert_int_eq(r->status, 200);
	ck_assert_str_eq(fx_str(r, "model_version.status"), "READY");
	ck_assert_int_eq(count("SELECT COUNT(*) FROM events WHERE entity='model_version' AND action='created'"
	                       " AND json_extract(payload, '$.version') = '1'"),
	                 1);
	fx_call(&fx, MT_POST, "/api/2.0/mlflow/registered-models/alias", "{\"name\":\"m\",\"alias\":\"champ\",\"version\":\"1\"}");
	fx_call(&fx, MT_POST, "/api/2.0/mlflow/model-versions/set-tag", "{\"name\":\"m\",\"version\":\"1\",\"key\":\"k\",\"value\":\"v\"}");
	ck_assert_int_eq(count("SELECT COUNT(*) FROM events WHERE entity='model_version_alias' AND action='created'"), 1);
	ck_assert_int_eq(count("SELECT COUNT(*) FROM events WHERE entity='model_version_tag' AND action='set'"), 1);
	int before = count("SELECT COUNT(*) FROM events");
	/* rejected changes: nothing written, no event */
	ck_assert_int_eq(fx_call(&fx, MT_POST, "/api/2.0/mlflow/registered-models/create", "{\"name\":\"m\"}")->status, 400);
	ck_assert_int_eq(fx_call(&fx, MT_POST, "/api/2.0/mlflow/model-versions/create",
	                         "{\"name\":\"nope\",\"source\":\"mlflow-artifacts:/1/x\"}")->status, 404);
	ck_assert_int_eq(fx_call(&fx, MT_POST, "/api/2.0/mlflow/model-versions/create",
	                         "{\"name\":\"m\",\"source\":\"/etc/passwd\"}")->status, 400);
	ck_assert_int_eq(fx_call(&fx, MT_DELETE, "/api/2.0/mlflow/model-versions/delete-tag",
	                         "{\"name\":\"m\",\"version\":\"1\",\"key\":\"zz\"}")->status, 404);
	ck_assert_int_eq(count("SELECT COUNT(*) FROM events"), before);
	ck_assert_int_eq(count("SELECT COUNT(*) FROM model_versions"), 1);
}
END_TEST

Suite *registry_suite(void)
{
	Suite *s = suite_create("registry");
	TCase *tc = tcase_create("events");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, events_follow_changes);
	suite_add_tcase(s, tc);
	return s;
}
