/* SPDX-License-Identifier: Apache-2.0 */
/* test_import.c: store_import_mlflow on small hand-made MLflow databases (an old schema without registry tables or
 * runs.deleted_time; not an MLflow file at all). Does not start a server or touch the network. */
#include <check.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mltrackd/store.h"
#include "mltrackd/store_import.h"
#include "suites.h"

static const char MLFLOW_OLD[] =
	"CREATE TABLE experiments (experiment_id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL, artifact_location TEXT,"
	" lifecycle_stage TEXT, creation_time BIGINT, last_update_time BIGINT);"
	"CREATE TABLE experiment_tags (key TEXT, value TEXT, experiment_id INTEGER, PRIMARY KEY (key, experiment_id));"
	"CREATE TABLE runs (run_uuid TEXT PRIMARY KEY, name TEXT, user_id TEXT, status TEXT, start_time BIGINT,"
	" end_time BIGINT, lifecycle_stage TEXT, artifact_uri TEXT, experiment_id INTEGER);"
	"CREATE TABLE params (key TEXT, value TEXT, run_uuid TEXT, PRIMARY KEY (key, run_uuid));"
	"CREATE TABLE tags (key TEXT, value TEXT, run_uuid TEXT, PRIMARY KEY (key, run_uuid));"
	"CREATE TABLE metrics (key TEXT, value FLOAT, timestamp BIGINT, run_uuid TEXT, step BIGINT, is_nan BOOLEAN,"
	" PRIMARY KEY (key, timestamp, step, run_uuid, value, is_nan));"
	"CREATE TABLE latest_metrics (key TEXT, value FLOAT, timestamp BIGINT, step BIGINT, is_nan BOOLEAN,"
	" run_uuid TEXT, PRIMARY KEY (key, run_uuid));"
	"INSERT INTO experiments VALUES (5, 'old', 'file:///data/mlruns/5', 'active', 10, 11);"
	"INSERT INTO experiments VALUES (6, 'elsewhere', 's3://bucket/6', 'deleted', 12, 13);"
	"INSERT INTO runs VALUES ('r1', 'first', 'u', 'FINISHED', 100, 200, 'active', 'file:///data/mlruns/5/r1/artifacts',"
	" 5);"
	"INSERT INTO runs VALUES ('r2', 'second', 'u', 'WEIRD', 100, NULL, 'active', '/data/mlruns/5/r2/artifacts', 5);"
	"INSERT INTO runs VALUES ('r3', 'third', 'u', 'RUNNING', 100, NULL, 'active', 's3://bucket/6/r3/artifacts', 6);"
	"INSERT INTO params VALUES ('lr', '0.1', 'r1');"
	"INSERT INTO metrics VALUES ('loss', 0.5, 1000, 'r1', 0, 0), ('loss', 0.25, 1001, 'r1', 1, 0),"
	" ('loss', 0, 1002, 'r1', 2, 1);"
	"INSERT INTO latest_metrics VALUES ('loss', 0, 1002, 2, 1, 'r1');";

struct seen {
	int runs_lines, registry_skipped;
	long long imported_total;
};

static void on_step(void *ctx, const struct store_import_step *s)
{
	struct seen *seen = ctx;
	if (s->started)
		return;
	if (!strcmp(s->what, "runs"))
		seen->runs_lines++;
	if (!strcmp(s->what, "registered models") && s->note && strstr(s->note, "not in this MLflow schema"))
		seen->registry_skipped++;
	if (!s->note)
		seen->imported_total += s->imported;
}

static char *one_text(const char *db_path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	char *out = NULL;
	ck_assert_int_eq(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		out = strdup(sqlite3_column_type(st, 0) == SQLITE_NULL ? "NULL" : (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(db);
	return out;
}

static void expect(const char *db_path, const char *sql, const char *want)
{
	char *got = one_text(db_path, sql);
	ck_assert_msg(got && !strcmp(got, want), "%s: got %s, want %s", sql, got ? got : "(no row)", want);
	free(got);
}

/* In a new temporary folder dir (a mkdtemp template): theirs, an MLflow file made by mlflow_sql, and ours, a
 * fresh migrated database. */
static void make_dbs(char *dir, char ours[256], char theirs[256], const char *mlflow_sql)
{
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(ours, 256, "%s/ours.db", dir);
	snprintf(theirs, 256, "%s/mlflow.db", dir);
	sqlite3 *db = NULL;
	ck_assert_int_eq(sqlite3_open(theirs, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, mlflow_sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	struct mt_err err;
	mt_err_init(&err);
	struct store *s = NULL;
	ck_assert_int_eq(store_open(ours, &s, &err), MT_OK);
	store_close(s);
}

static void remove_dir(const char *dir)
{
	char cmd[400];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}

START_TEST(old_schema_mapped_and_idempotent)
{
	char dir[] = "/tmp/mt_import_XXXXXX", ours[256], theirs[256];
	make_dbs(dir, ours, theirs, MLFLOW_OLD);
	struct mt_err err;
	mt_err_init(&err);
	struct store *s = NULL;

	struct seen seen = {0};
	ck_assert_msg(store_import_mlflow(ours, theirs, "/data/mlruns", on_step, &seen, &err) == MT_OK, "%s", err.msg);
	ck_assert_int_eq(seen.runs_lines, 1); /* the variant for this schema only */
	ck_assert_int_eq(seen.registry_skipped, 1);
	expect(ours, "SELECT artifact_location FROM experiments WHERE experiment_id = 5", "mlflow-artifacts:/5");
	expect(ours, "SELECT artifact_location FROM experiments WHERE experiment_id = 6", "s3://bucket/6");
	expect(ours, "SELECT lifecycle_stage FROM experiments WHERE experiment_id = 6", "deleted");
	expect(ours, "SELECT artifact_uri FROM runs WHERE run_uuid = 'r1'", "mlflow-artifacts:/5/r1/artifacts");
	expect(ours, "SELECT artifact_uri FROM runs WHERE run_uuid = 'r2'", "mlflow-artifacts:/5/r2/artifacts");
	expect(ours, "SELECT artifact_uri FROM runs WHERE run_uuid = 'r3'", "s3://bucket/6/r3/artifacts");
	expect(ours, "SELECT status FROM runs WHERE run_uuid = 'r2'", "FINISHED"); /* unknown status */
	expect(ours, "SELECT deleted_time FROM runs WHERE run_uuid = 'r1'", "NULL");
	expect(ours, "SELECT count(*) FROM metrics", "3");
	expect(ours, "SELECT is_nan FROM metrics WHERE step = 2", "1");
	long long first = seen.imported_total;
	ck_assert_int_gt(first, 0);

	memset(&seen, 0, sizeof seen);
	ck_assert_msg(store_import_mlflow(ours, theirs, "/data/mlruns", on_step, &seen, &err) == MT_OK, "%s", err.msg);
	ck_assert_int_eq(seen.imported_total, 0);
	expect(ours, "SELECT count(*) FROM metrics", "3");

	/* without --artifacts, nothing is mapped (a fresh database) */
	char ours2[300];
	snprintf(ours2, sizeof ours2, "%s/ours2.db", dir);
	ck_assert_int_eq(store_open(ours2, &s, &err), MT_OK);
	store_close(s);
	memset(&seen, 0, sizeof seen);
	ck_assert_msg(store_import_mlflow(ours2, theirs, NULL, on_step, &seen, &err) == MT_OK, "%s", err.msg);
	expect(ours2, "SELECT artifact_uri FROM runs WHERE run_uuid = 'r1'", "file:///data/mlruns/5/r1/artifacts");
	remove_dir(dir);
}
END_TEST

START_TEST(not_an_mlflow_database)
{
	char dir[] = "/tmp/mt_import_XXXXXX", ours[256], theirs[256];
	make_dbs(dir, ours, theirs, "CREATE TABLE t (x);");
	struct mt_err err;
	mt_err_init(&err);
	struct seen seen = {0};
	ck_assert_int_eq(store_import_mlflow(ours, theirs, NULL, on_step, &seen, &err), MT_INVALID_PARAMETER_VALUE);
	ck_assert_ptr_nonnull(strstr(err.msg, "not an MLflow tracking database"));
	/* the other file was opened read-only: nothing was added to it */
	expect(theirs, "SELECT count(*) FROM sqlite_master", "1");
	remove_dir(dir);
}
END_TEST

/* A step that fails part-way (here: a params table without its value column) rolls back the steps before it:
 * the import is all or nothing. */
START_TEST(failed_step_rolls_back)
{
	static const char mlflow[] =
		"CREATE TABLE experiments (experiment_id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL,"
		" artifact_location TEXT, lifecycle_stage TEXT, creation_time BIGINT, last_update_time BIGINT);"
		"CREATE TABLE runs (run_uuid TEXT PRIMARY KEY, name TEXT, user_id TEXT, status TEXT, start_time BIGINT,"
		" end_time BIGINT, lifecycle_stage TEXT, artifact_uri TEXT, experiment_id INTEGER);"
		"CREATE TABLE params (key TEXT, run_uuid TEXT);"
		"INSERT INTO experiments VALUES (5, 'old', 's3://b/5', 'active', 10, 11);"
		"INSERT INTO runs VALUES ('r1', 'first', 'u', 'FINISHED', 1, 2, 'active', 's3://b/5/r1', 5);";
	char dir[] = "/tmp/mt_import_XXXXXX", ours[256], theirs[256];
	make_dbs(dir, ours, theirs, mlflow);
	struct mt_err err;
	mt_err_init(&err);
	struct seen seen = {0};
	ck_assert_int_eq(store_import_mlflow(ours, theirs, NULL, on_step, &seen, &err), MT_INTERNAL_ERROR);
	ck_assert_msg(strstr(err.msg, "importing params failed") != NULL, "%s", err.msg);
	expect(ours, "SELECT count(*) FROM experiments WHERE name = 'old'", "0");
	expect(ours, "SELECT count(*) FROM runs", "0");
	remove_dir(dir);
}
END_TEST

Suite *import_suite(void)
{
	Suite *s = suite_create("import");
	TCase *tc = tcase_create("mlflow");
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, old_schema_mapped_and_idempotent);
	tcase_add_test(tc, not_an_mlflow_database);
	tcase_add_test(tc, failed_step_rolls_back);
	suite_add_tcase(s, tc);
	return s;
}
