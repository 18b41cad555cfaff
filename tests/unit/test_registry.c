/* SPDX-License-Identifier: Apache-2.0 */
/* test_registry.c: the registry store: round trips, version numbering, stages and archiving, aliases, rename and
 * cascade, search, and the events outbox (written with each change, not written when the change is rejected). */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mltrackd/store.h"
#include "mltrackd/store_registry.h"
#include "suites.h"

static char dir[256];
static char path[300];
static struct store *s;
static struct arena *a;
static struct registry_ctx x;
static struct mt_err err;

static void setup(void)
{
	snprintf(dir, sizeof dir, "/tmp/mt_registry_XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/r.db", dir);
	mt_err_init(&err);
	ck_assert_int_eq(store_open(path, &s, &err), MT_OK);
	a = arena_new();
	x = (struct registry_ctx){s, a, "alice"};
}

static void teardown(void)
{
	store_close(s);
	arena_free(a);
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static size_t n_events(void)
{
	struct mt_event *ev;
	size_t n;
	ck_assert_int_eq(store_events_list(&x, 0, 100000, &ev, &n, &err), MT_OK);
	return n;
}

static const struct mt_event *last_event(void)
{
	struct mt_event *ev;
	size_t n;
	ck_assert_int_eq(store_events_list(&x, 0, 100000, &ev, &n, &err), MT_OK);
	ck_assert_uint_gt(n, 0);
	return &ev[n - 1];
}

static struct mt_model_version new_version(const char *name, const char *source)
{
	struct store_mv_create in = {.name = name, .source = source, .run_id = ""};
	struct mt_model_version v;
	mt_err_init(&err);
	ck_assert_msg(store_mv_create(&x, &in, &v, &err) == MT_OK, "%s", err.msg);
	return v;
}

START_TEST(round_trip_and_numbering)
{
	struct mt_tag tags[] = {{"z", "1"}, {"a", "2"}};
	struct mt_registered_model m;
	ck_assert_int_eq(store_rm_create(&x, "m", "desc", tags, 2, &m, &err), MT_OK);
	ck_assert_str_eq(m.name, "m");
	ck_assert_str_eq(m.description, "desc");
	ck_assert_uint_eq(m.n_tags, 2);
	ck_assert_str_eq(m.tags[0].key, "z"); /* insertion order, as MLflow answers */
	ck_assert_int_eq(m.creation_timestamp, m.last_updated_timestamp);

	struct mt_model_version v1 = new_version("m", "s3://b/1"), v2 = new_version("m", "s3://b/2");
	ck_assert_int_eq(v1.version, 1);
	ck_assert_int_eq(v2.version, 2);
	ck_assert_str_eq(v1.status, "READY");
	ck_assert_str_eq(v1.current_stage, "None");
	ck_assert_str_eq(v1.description, "");
	ck_assert_ptr_null(v1.user_id);
	ck_assert_int_eq(store_mv_delete(&x, "m", 2, &err), MT_OK);
	mt_err_init(&err);
	ck_assert_int_eq(store_mv_get(&x, "m", 2, &v2, &err), MT_RESOURCE_DOES_NOT_EXIST);
	ck_assert_int_eq(new_version("m", "s3://b/3").version, 3); /* never reused */

	ck_assert_int_eq(store_rm_get(&x, "m", &m, &err), MT_OK);
	ck_assert_uint_eq(m.n_latest, 1); /* both live versions are in stage None: the newest answers */
	ck_assert_int_eq(m.latest[0].version, 3);

	/* delete the model, recreate: numbering starts again */
	ck_assert_int_eq(store_rm_delete(&x, "m", &err), MT_OK);
	ck_assert_int_eq(store_rm_create(&x, "m", NULL, NULL, 0, &m, &err), MT_OK);
	ck_assert_int_eq(new_version("m", "s3://b/1").version, 1);
}
END_TEST

START_TEST(events_follow_changes)
{
	struct mt_registered_model m;
	struct mt_tag tags[] = {{"k", "v"}};
	ck_assert_int_eq(store_rm_create(&x, "m", NULL, tags, 1, &m, &err), MT_OK);
	const struct mt_event *e = last_event();
	ck_assert_str_eq(e->entity, "registered_model");
	ck_assert_str_eq(e->action, "created");
	ck_assert_str_eq(e->payload, "{\"name\":\"m\",\"tags\":{\"k\":\"v\"},\"description\":\"\"}");
	ck_assert_str_eq(e->actor, "alice");

	new_version("m", "s3://b/1");
	e = last_event();
	ck_assert_str_eq(e->entity, "model_version");
	ck_assert_str_eq(e->action, "created");
	ck_assert_str_eq(e->payload,
	                 "{\"name\":\"m\",\"version\":\"1\",\"source\":\"s3://b/1\",\"run_id\":null,\"tags\":{},"
	                 "\"description\":null}");

	ck_assert_int_eq(store_mv_set_tag(&x, "m", 1, "t", "1", &err), MT_OK);
	ck_assert_str_eq(last_event()->payload, "{\"name\":\"m\",\"version\":\"1\",\"key\":\"t\",\"value\":\"1\"}");
	ck_assert_int_eq(store_alias_set(&x, "m", "champ", 1, &err), MT_OK);
	ck_assert_str_eq(last_event()->entity, "model_version_alias");
	ck_assert_str_eq(last_event()->payload, "{\"name\":\"m\",\"alias\":\"champ\",\"version\":\"1\"}");

	/* rejected changes write no event (and nothing else) */
	size_t before = n_events();
	mt_err_init(&err);
	ck_assert_int_eq(store_rm_create(&x, "m", NULL, NULL, 0, &m, &err), MT_RESOURCE_ALREADY_EXISTS);
	mt_err_init(&err);
	ck_assert_int_eq(store_alias_set(&x, "m", "x", 9, &err), MT_RESOURCE_DOES_NOT_EXIST);
	mt_err_init(&err);
	ck_assert_int_eq(store_mv_set_tag(&x, "nope", 1, "t", "1", &err), MT_RESOURCE_DOES_NOT_EXIST);
	mt_err_init(&err);
	ck_assert_int_eq(store_rm_rename(&x, "nope", "other", &m, &err), MT_RESOURCE_DOES_NOT_EXIST);
	ck_assert_uint_eq(n_events(), before);

	/* a job that fails after its first writes rolls them back with the event: a version made from an unknown
	 * logged model inserts the version, then fails tagging the logged model */
	struct store_mv_create in = {.name = "m", .source = "s3://b/x", .run_id = "", .model_id = "m-unknown"};
	struct mt_model_version v;
	mt_err_init(&err);
	ck_assert_int_eq(store_mv_create(&x, &in, &v, &err), MT_RESOURCE_DOES_NOT_EXIST);
	ck_assert_uint_eq(n_events(), before);
	mt_err_init(&err);
	ck_assert_int_eq(store_mv_get(&x, "m", 2, &v, &err), MT_RESOURCE_DOES_NOT_EXIST);
	ck_assert_int_eq(new_version("m", "s3://b/2").version, 2);

	/* own catalogue: rename, stage transition, delete */
	ck_assert_int_eq(store_rm_rename(&x, "m", "n", &m, &err), MT_OK);
	ck_assert_str_eq(last_event()->action, "renamed");
	ck_assert_str_eq(last_event()->payload, "{\"name\":\"n\",\"old_name\":\"m\"}");
	ck_assert_int_eq(store_rm_delete(&x, "n", &err), MT_OK);
	ck_assert_str_eq(last_event()->entity, "registered_model");
	ck_assert_str_eq(last_event()->action, "deleted");
}
END_TEST

START_TEST(stages_and_archiving)
{
	struct mt_registered_model m;
	ck_assert_int_eq(store_rm_create(&x, "m", NULL, NULL, 0, &m, &err), MT_OK);
	for (int i = 0; i < 3; i++)
		new_version("m", "s3://b/v");
	struct mt_model_version v;
	ck_assert_int_eq(store_mv_transition(&x, "m", 1, "Production", false, &v, &err), MT_OK);
	ck_assert_int_eq(store_mv_transition(&x, "m", 3, "Production", false, &v, &err), MT_OK);
	ck_assert_int_eq(store_mv_transition(&x, "m", 2, "Production", true, &v, &err), MT_OK);
	ck_assert_str_eq(v.current_stage, "Production");
	const struct mt_event *e = last_event();
	ck_assert_str_eq(e->action, "stage_transitioned");
	ck_assert_str_eq(e->payload, "{\"name\":\"m\",\"version\":\"2\",\"from_stage\":\"None\",\"to_stage\":"
	                             "\"Production\",\"archive_existing_versions\":true,\"archived_versions\":[\"1\",\"3\"]}");
	ck_assert_int_eq(store_mv_get(&x, "m", 1, &v, &err), MT_OK);
	ck_assert_str_eq(v.current_stage, "Archived");
	ck_assert_int_eq(store_mv_get(&x, "m", 3, &v, &err), MT_OK);
	ck_assert_str_eq(v.current_stage, "Archived");
	const char *prod[] = {"Production"};
	struct mt_model_version *lv;
	size_t n;
	ck_assert_int_eq(store_rm_latest_versions(&x, "m", prod, 1, &lv, &n, &err), MT_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(lv[0].version, 2);
	ck_assert_int_eq(store_rm_latest_versions(&x, "m", NULL, 0, &lv, &n, &err), MT_OK);
	ck_assert_uint_eq(n, 2); /* Archived (3) and Production (2), ordered by each stage's first version */
	ck_assert_str_eq(lv[0].current_stage, "Archived");
	ck_assert_int_eq(lv[0].version, 3);
	/* the model's timestamp follows the transition */
	ck_assert_int_eq(store_rm_get(&x, "m", &m, &err), MT_OK);
	ck_assert_int_ge(m.last_updated_timestamp, v.last_updated_timestamp);
}
END_TEST

START_TEST(aliases)
{
	struct mt_registered_model m;
	ck_assert_int_eq(store_rm_create(&x, "m", NULL, NULL, 0, &m, &err), MT_OK);
	new_version("m", "s3://b/1");
	new_version("m", "s3://b/2");
	ck_assert_int_eq(store_alias_set(&x, "m", "champ", 1, &err), MT_OK);
	ck_assert_int_eq(store_alias_set(&x, "m", "champ", 2, &err), MT_OK); /* moves */
	struct mt_model_version v;
	ck_assert_int_eq(store_alias_get(&x, "m", "champ", &v, &err), MT_OK);
	ck_assert_int_eq(v.version, 2);
	ck_assert_uint_eq(v.n_aliases, 1);
	ck_assert_int_eq(store_alias_get(&x, "m", "LaTeSt", &v, &err), MT_OK);
	ck_assert_int_eq(v.version, 2);
	mt_err_init(&err);
	ck_assert_int_eq(store_alias_get(&x, "m", "nope", &v, &err), MT_INVALID_PARAMETER_VALUE);
	ck_assert_str_eq(err.msg, "Registered model alias nope not found.");
	ck_assert_int_eq(store_rm_get(&x, "m", &m, &err), MT_OK);
	ck_assert_uint_eq(m.n_aliases, 1);
	ck_assert_str_eq(m.aliases[0].value, "2");
	/* deleting the version drops its aliases; rename keeps the rest */
	ck_assert_int_eq(store_alias_set(&x, "m", "old", 1, &err), MT_OK);
	ck_assert_int_eq(store_mv_delete(&x, "m", 2, &err), MT_OK);
	ck_assert_int_eq(store_rm_rename(&x, "m", "n", &m, &err), MT_OK);
	ck_assert_uint_eq(m.n_aliases, 1);
	ck_assert_str_eq(m.aliases[0].key, "old");
	ck_assert_int_eq(store_alias_get(&x, "n", "old", &v, &err), MT_OK);
	ck_assert_str_eq(v.name, "n");
}
END_TEST

START_TEST(search_with_bound_values)
{
	struct mt_registered_model m;
	const char *names[] = {"a-1", "a-2", "b'); DROP TABLE events; --"};
	for (size_t i = 0; i < 3; i++)
		ck_assert_int_eq(store_rm_create(&x, names[i], NULL, NULL, 0, &m, &err), MT_OK);
	struct mt_tag prompt = {MT_PROMPT_TAG_KEY, "true"};
	ck_assert_int_eq(store_rm_create(&x, "a-prompt", NULL, &prompt, 1, &m, &err), MT_OK);
	struct search_filter f;
	ck_assert_int_eq(search_parse_filter(a, SEARCH_REGISTERED_MODELS, "name LIKE 'a-%'", &f, &err), MT_OK);
	struct search_order o;
	ck_assert_int_eq(search_parse_order_by(a, SEARCH_REGISTERED_MODELS, "name DESC", &o, &err), MT_OK);
	struct registry_query q = {&f, &o, 1, 0, 10, 0, NULL};
	struct mt_registered_model *out;
	size_t n;
	bool more;
	ck_assert_int_eq(store_rm_search(&x, &q, &out, &n, &more, &err), MT_OK);
	ck_assert_uint_eq(n, 2); /* the prompt is hidden */
	ck_assert_str_eq(out[0].name, "a-2");
	ck_assert(!more);
	/* MLflow keeps '' inside a single-quoted value as two quotes; a double-quoted value carries a lone ' */
	ck_assert_int_eq(search_parse_filter(a, SEARCH_REGISTERED_MODELS, "name = \"b'); DROP TABLE events; --\"", &f, &err),
	                 MT_OK);
	q.n_order = 0;
	ck_assert_int_eq(store_rm_search(&x, &q, &out, &n, &more, &err), MT_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(out[0].name, names[2]);
	ck_assert_uint_gt(n_events(), 0); /* the table is still there */
	ck_assert_int_eq(search_parse_filter(a, SEARCH_REGISTERED_MODELS, "tags.`mlflow.prompt.is_prompt` = 'true'", &f, &err),
	                 MT_OK);
	ck_assert_int_eq(store_rm_search(&x, &q, &out, &n, &more, &err), MT_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(out[0].name, "a-prompt");
	/* paging */
	ck_assert_int_eq(search_parse_filter(a, SEARCH_REGISTERED_MODELS, NULL, &f, &err), MT_OK);
	q.limit = 2;
	ck_assert_int_eq(store_rm_search(&x, &q, &out, &n, &more, &err), MT_OK);
	ck_assert_uint_eq(n, 2);
	ck_assert(more);
	/* model versions: numeric version_number, given quoted */
	new_version("a-1", "s3://x/1");
	new_version("a-1", "s3://x/2");
	ck_assert_int_eq(search_parse_filter(a, SEARCH_MODEL_VERSIONS, "name = 'a-1' AND version_number >= '2'", &f, &err),
	                 MT_OK);
	struct mt_model_version *mv;
	q.limit = 10;
	ck_assert_int_eq(store_mv_search(&x, &q, &mv, &n, &more, &err), MT_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(mv[0].version, 2);
	mt_err_init(&err);
	ck_assert_int_eq(search_parse_filter(a, SEARCH_MODEL_VERSIONS, "version_number = 2.5", &f, &err),
	                 MT_INVALID_PARAMETER_VALUE);
	mt_err_init(&err);
	ck_assert_int_eq(search_parse_filter(a, SEARCH_REGISTERED_MODELS, "run_id = 'x'", &f, &err),
	                 MT_INVALID_PARAMETER_VALUE);
}
END_TEST

/* 0002_registry was numbered before 0003/0004 but merged after them: a database created in between must still
 * receive it. */
START_TEST(migration_gap_is_filled)
{
	store_close(s);
	sqlite3 *db;
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db,
	                              "DROP TABLE events; DROP TABLE registered_model_aliases; DROP TABLE model_version_tags;"
	                              " DROP TABLE model_versions; DROP TABLE registered_model_tags;"
	                              " DROP TABLE registered_models; DELETE FROM schema_migrations WHERE version = 2;",
	                              NULL, NULL, NULL),
	                 SQLITE_OK);
	sqlite3_close(db);
	ck_assert_int_eq(store_open(path, &s, &err), MT_OK);
	x.s = s;
	struct mt_registered_model m;
	ck_assert_int_eq(store_rm_create(&x, "m", NULL, NULL, 0, &m, &err), MT_OK);
	ck_assert_uint_eq(n_events(), 1);
}
END_TEST

Suite *registry_suite(void)
{
	Suite *su = suite_create("registry");
	TCase *tc = tcase_create("store");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, round_trip_and_numbering);
	tcase_add_test(tc, events_follow_changes);
	tcase_add_test(tc, stages_and_archiving);
	tcase_add_test(tc, aliases);
	tcase_add_test(tc, search_with_bound_values);
	tcase_add_test(tc, migration_gap_is_filled);
	suite_add_tcase(su, tc);
	return su;
}
