/* SPDX-License-Identifier: Apache-2.0 */
/* test_store.c: migrations (applied once, newer schema refused), the writer's group commit (concurrent
 * jobs all commit; a failing job rolls back alone), and reads after writes. */
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mltrackd/store.h"
#include "mltrackd/store_experiments.h"
#include "store/store_internal.h"
#include "suites.h"

static char dir[256];
static char path[300];

static void setup(void)
{
	snprintf(dir, sizeof dir, "/tmp/mt_store_XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/s.db", dir);
}

static void teardown(void)
{
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

START_TEST(migrations_apply_once_and_refuse_newer)
{
	struct store *s;
	struct mt_err err;
	mt_err_init(&err);
	ck_assert_int_eq(store_open(path, &s, &err), MT_OK);
	int v = store_schema_version(s);
	ck_assert_int_ge(v, 1);
	store_close(s);
	ck_assert_int_eq(store_open(path, &s, &err), MT_OK); /* re-open: nothing re-applied */
	ck_assert_int_eq(store_schema_version(s), v);
	store_close(s);
	sqlite3 *db;
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, "INSERT INTO schema_migrations VALUES (9999, 'future', 0)", NULL, NULL, NULL),
	                 SQLITE_OK);
	sqlite3_close(db);
	mt_err_init(&err);
	ck_assert_int_eq(store_open(path, &s, &err), MT_INTERNAL_ERROR);
	ck_assert_ptr_nonnull(strstr(err.msg, "newer") ? err.msg : strstr(err.msg, "knows only"));
}
END_TEST

struct worker_arg {
	struct store *s;
	int n, base;
	int failures;
};

static void *worker(void *p)
{
	struct worker_arg *a = p;
	for (int i = 0; i < a->n; i++) {
		char name[64];
		snprintf(name, sizeof name, "exp-%d-%d", a->base, i);
		struct mt_err err;
		mt_err_init(&err);
		int64_t id;
		if (store_experiment_create(a->s, name, NULL, "mlflow-artifacts:/", NULL, 0, &id, &err) != MT_OK)
			a->failures++;
	}
	return NULL;
}

START_TEST(group_commit_under_concurrency)
{
	struct store *s;
	struct mt_err err;
	mt_err_init(&err);
	ck_assert_int_eq(store_open(path, &s, &err), MT_OK);
	pthread_t t[8];
	struct worker_arg args[8];
	for (int i = 0; i < 8; i++) {
		args[i] = (struct worker_arg){s, 50, i, 0};
		pthread_create(&t[i], NULL, worker, &args[i]);
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(t[i], NULL);
		ck_assert_int_eq(args[i].failures, 0);
	}
	/* A duplicate fails alone; its neighbours in the same batch are unaffected. */
	int64_t id;
	mt_err_init(&err);
	ck_assert_int_eq(store_experiment_create(s, "exp-0-0", NULL, "r", NULL, 0, &id, &err), MT_RESOURCE_ALREADY_EXISTS);
	struct arena *a = arena_new();
	struct mt_experiment e;
	mt_err_init(&err);
	ck_assert_int_eq(store_experiment_get_by_name(s, a, "exp-7-49", &e, &err), MT_OK);
	ck_assert_str_eq(e.lifecycle_stage, "active");
	arena_free(a);
	store_close(s);
}
END_TEST

struct fail_job_arg {
	int calls;
};

static enum mt_error insert_then_fail(struct store_conn *c, void *arg, struct mt_err *err)
{
	struct fail_job_arg *a = arg;
	a->calls++;
	db_exec(c, "INSERT INTO experiments (name, artifact_location, creation_time, last_update_time)"
	           " VALUES ('ghost', 'x', 0, 0)", err);
	return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "rejected");
}

START_TEST(failed_job_writes_nothing)
{
	struct store *s;
	struct mt_err err;
	mt_err_init(&err);
	ck_assert_int_eq(store_open(path, &s, &err), MT_OK);
	struct fail_job_arg fa = {0};
	ck_assert_int_eq(store_write(s, insert_then_fail, &fa, &err), MT_INVALID_PARAMETER_VALUE);
	ck_assert_int_eq(fa.calls, 1);
	struct arena *a = arena_new();
	struct mt_experiment e;
	mt_err_init(&err);
	ck_assert_int_eq(store_experiment_get_by_name(s, a, "ghost", &e, &err), MT_RESOURCE_DOES_NOT_EXIST);
	arena_free(a);
	store_close(s);
}
END_TEST

Suite *store_suite(void)
{
	Suite *s = suite_create("store");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, migrations_apply_once_and_refuse_newer);
	tcase_add_test(tc, group_commit_under_concurrency);
	tcase_add_test(tc, failed_job_writes_nothing);
	suite_add_tcase(s, tc);
	return s;
}
