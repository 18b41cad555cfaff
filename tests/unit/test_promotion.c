/* SPDX-License-Identifier: Apache-2.0 */
/* test_promotion.c: governed promotion: the store (requests opened, approved with the transition and archiving,
 * rejected, cancelled by creator; comments; the activity log; one outbox event per change, none for a refused
 * one) and, through the dispatcher with auth on, who may cancel a request or change a comment. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mltrackd/acl.h"
#include "mltrackd/auth.h"
#include "mltrackd/store.h"
#include "mltrackd/store_auth.h"
#include "mltrackd/store_promotion.h"
#include "suites.h"

static char dir[256];
static char path[300];
static struct store *s;
static struct arena *a;
static struct registry_ctx x;
static struct mt_err err;

static void setup(void)
{
	snprintf(dir, sizeof dir, "/tmp/mt_promotion_XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/p.db", dir);
	mt_err_init(&err);
	ck_assert_int_eq(store_open(path, &s, &err), MT_OK);
	a = arena_new();
	x = (struct registry_ctx){s, a, "alice"};
	struct mt_registered_model m;
	ck_assert_int_eq(store_rm_create(&x, "m", NULL, NULL, 0, &m, &err), MT_OK);
	for (int i = 0; i < 3; i++) {
		struct store_mv_create in = {.name = "m", .source = "s3://b/x", .run_id = ""};
		struct mt_model_version v;
		ck_assert_int_eq(store_mv_create(&x, &in, &v, &err), MT_OK);
	}
}

static void teardown(void)
{
	store_close(s);
	arena_free(a);
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static size_t events(struct mt_event **ev)
{
	size_t n;
	ck_assert_int_eq(store_events_list(&x, 0, 100000, ev, &n, &err), MT_OK);
	return n;
}

static const char *stage_of(int64_t version)
{
	struct mt_model_version v;
	ck_assert_int_eq(store_mv_get(&x, "m", version, &v, &err), MT_OK);
	return v.current_stage;
}

START_TEST(request_approve_transitions_and_archives)
{
	struct mt_model_version v;
	ck_assert_int_eq(store_mv_transition(&x, "m", 1, "Production", false, &v, &err), MT_OK);
	struct mt_activity r;
	ck_assert_int_eq(store_tr_create(&x, "m", 2, "Production", "ship it", &r, &err), MT_OK);
	ck_assert_str_eq(r.activity_type, "REQUESTED_TRANSITION");
	ck_assert_str_eq(r.from_stage, "None");
	ck_assert_str_eq(r.user_id, "alice");
	ck_assert_uint_eq(strlen(r.id), 32);
	/* the same creator asking again while it is open */
	struct mt_activity r2;
	mt_err_init(&err);
	ck_assert_int_eq(store_tr_create(&x, "m", 2, "Production", NULL, &r2, &err), MT_RESOURCE_ALREADY_EXISTS);

	struct mt_activity *open;
	size_t n;
	ck_assert_int_eq(store_tr_list(&x, "m", 2, &open, &n, &err), MT_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(open[0].id, r.id);
	ck_assert_str_eq(open[0].comment, "ship it");

	struct mt_event *ev;
	size_t before = events(&ev);
	x.actor = "bob";
	struct tr_resolve in = {.name = "m", .version = 2, .stage = "Production", .comment = "ok", .what = TR_APPROVE,
	                        .archive = true};
	struct mt_activity act;
	ck_assert_int_eq(store_tr_resolve(&x, &in, &act, &err), MT_OK);
	ck_assert_str_eq(act.activity_type, "APPROVED_REQUEST");
	ck_assert_str_eq(act.user_id, "bob");
	ck_assert_str_eq(stage_of(2), "Production");
	ck_assert_str_eq(stage_of(1), "Archived");
	ck_assert_int_eq(store_tr_list(&x, "m", 2, &open, &n, &err), MT_OK);
	ck_assert_uint_eq(n, 0);

	/* the transition's event, then the approval's, both in the approval's transaction */
	size_t after = events(&ev);
	ck_assert_uint_eq(after, before + 2);
	ck_assert_str_eq(ev[before].entity, "model_version");
	ck_assert_str_eq(ev[before].action, "stage_transitioned");
	ck_assert_ptr_nonnull(strstr(ev[before].payload, "\"archived_versions\":[\"1\"]"));
	ck_assert_str_eq(ev[before + 1].entity, "transition_request");
	ck_assert_str_eq(ev[before + 1].action, "approved");
	ck_assert_str_eq(ev[before + 1].actor, "bob");
	ck_assert_ptr_nonnull(strstr(ev[before + 1].payload, "\"creator\":\"alice\""));
	ck_assert_ptr_nonnull(strstr(ev[before + 1].payload, "\"actor\":\"bob\""));
	ck_assert_ptr_nonnull(strstr(ev[before + 1].payload, "\"comment\":\"ship it\""));
	char rid[64];
	snprintf(rid, sizeof rid, "\"request_id\":\"%s\"", r.id);
	ck_assert_ptr_nonnull(strstr(ev[before + 1].payload, rid));

	/* nothing open any more: approving again is refused and writes nothing */
	mt_err_init(&err);
	ck_assert_int_eq(store_tr_resolve(&x, &in, &act, &err), MT_RESOURCE_DOES_NOT_EXIST);
	ck_assert_uint_eq(events(&ev), after);

	struct mt_activity *log;
	ck_assert_int_eq(store_activities_list(&x, "m", 2, &log, &n, &err), MT_OK);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(log[0].activity_type, "REQUESTED_TRANSITION");
	ck_assert_str_eq(log[1].activity_type, "APPROVED_REQUEST");
	/* the version the approval archived says so */
	ck_assert_int_eq(store_activities_list(&x, "m", 1, &log, &n, &err), MT_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(log[0].activity_type, "SYSTEM_TRANSITION");
	ck_assert_str_eq(log[0].from_stage, "Production");
	ck_assert_str_eq(log[0].to_stage, "Archived");
	ck_assert_str_eq(log[0].system_comment, "Archived by the transition of version 2 to Production");

	/* a direct transition, recorded */
	ck_assert_int_eq(store_mv_transition_recorded(&x, "m", 3, "Production", true, "hotfix", &v, &err), MT_OK);
	ck_assert_str_eq(v.current_stage, "Production");
	ck_assert_str_eq(stage_of(2), "Archived");
	ck_assert_int_eq(store_activities_list(&x, "m", 3, &log, &n, &err), MT_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(log[0].activity_type, "APPLIED_TRANSITION");
	ck_assert_str_eq(log[0].comment, "hotfix");
	ck_assert_str_eq(log[0].user_id, "bob");
	ck_assert_int_eq(store_activities_list(&x, "m", 2, &log, &n, &err), MT_OK);
	ck_assert_str_eq(log[n - 1].activity_type, "SYSTEM_TRANSITION");
}
END_TEST

START_TEST(reject_and_cancel_leave_the_stage)
{
	struct mt_activity r, act;
	ck_assert_int_eq(store_tr_create(&x, "m", 3, "Staging", NULL, &r, &err), MT_OK);
	struct tr_resolve rej = {.name = "m", .version = 3, .stage = "Staging", .comment = "not yet", .what = TR_REJECT};
	ck_assert_int_eq(store_tr_resolve(&x, &rej, &act, &err), MT_OK);
	ck_assert_str_eq(act.activity_type, "REJECTED_REQUEST");
	ck_assert_str_eq(stage_of(3), "None");

	/* two creators ask; cancelling is per creator */
	ck_assert_int_eq(store_tr_create(&x, "m", 3, "Staging", NULL, &r, &err), MT_OK);
	x.actor = "carol";
	ck_assert_int_eq(store_tr_create(&x, "m", 3, "Staging", NULL, &r, &err), MT_OK);
	struct tr_resolve cancel = {.name = "m", .version = 3, .stage = "Staging", .creator = "dave", .what = TR_CANCEL};
	mt_err_init(&err);
	ck_assert_int_eq(store_tr_resolve(&x, &cancel, &act, &err), MT_RESOURCE_DOES_NOT_EXIST);
	cancel.creator = "alice";
	ck_assert_int_eq(store_tr_resolve(&x, &cancel, &act, &err), MT_OK);
	ck_assert_str_eq(act.activity_type, "CANCELLED_REQUEST");
	struct mt_activity *open;
	size_t n;
	ck_assert_int_eq(store_tr_list(&x, "m", 3, &open, &n, &err), MT_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(open[0].user_id, "carol");
	ck_assert_str_eq(stage_of(3), "None");
	struct mt_event *ev;
	size_t ne = events(&ev);
	ck_assert_str_eq(ev[ne - 1].action, "deleted");
	ck_assert_str_eq(ev[ne - 1].entity, "transition_request");

	/* an unknown version writes nothing */
	mt_err_init(&err);
	ck_assert_int_eq(store_tr_create(&x, "m", 9, "Staging", NULL, &r, &err), MT_RESOURCE_DOES_NOT_EXIST);
	ck_assert_uint_eq(events(&ev), ne);
}
END_TEST

START_TEST(comments_lifecycle)
{
	struct mt_activity c, u;
	ck_assert_int_eq(store_comment_create(&x, "m", 1, "looks good", &c, &err), MT_OK);
	ck_assert_str_eq(c.activity_type, "NEW_COMMENT");
	ck_assert_str_eq(c.user_id, "alice");
	const char *model;
	struct mt_activity got;
	ck_assert_int_eq(store_comment_get(&x, c.id, &got, &model, &err), MT_OK);
	ck_assert_str_eq(model, "m");
	ck_assert_str_eq(got.comment, "looks good");
	ck_assert_int_eq(store_comment_update(&x, c.id, "edited", &u, &err), MT_OK);
	ck_assert_str_eq(u.comment, "edited");
	ck_assert_int_ge(u.last_updated_timestamp, c.creation_timestamp);
	ck_assert_int_eq(u.creation_timestamp, c.creation_timestamp);

	struct mt_event *ev;
	size_t n = events(&ev);
	ck_assert_str_eq(ev[n - 1].entity, "comment");
	ck_assert_str_eq(ev[n - 1].action, "updated");
	ck_assert_ptr_nonnull(strstr(ev[n - 1].payload, "\"comment\":\"edited\""));
	ck_assert_ptr_nonnull(strstr(ev[n - 1].payload, "\"user_id\":\"alice\""));
	ck_assert_ptr_nonnull(strstr(ev[n - 1].payload, "\"version\":\"1\""));

	ck_assert_int_eq(store_comment_delete(&x, c.id, &err), MT_OK);
	mt_err_init(&err);
	ck_assert_int_eq(store_comment_get(&x, c.id, &got, &model, &err), MT_RESOURCE_DOES_NOT_EXIST);
	mt_err_init(&err);
	ck_assert_int_eq(store_comment_delete(&x, c.id, &err), MT_RESOURCE_DOES_NOT_EXIST);
	ck_assert_uint_eq(events(&ev), n + 1);
	ck_assert_str_eq(ev[n].action, "deleted");

	/* a deleted version's comments are gone with it; a renamed model keeps them */
	ck_assert_int_eq(store_comment_create(&x, "m", 2, "on v2", &c, &err), MT_OK);
	struct mt_registered_model rm;
	ck_assert_int_eq(store_rm_rename(&x, "m", "m2", &rm, &err), MT_OK);
	ck_assert_int_eq(store_comment_get(&x, c.id, &got, &model, &err), MT_OK);
	ck_assert_str_eq(model, "m2");
	ck_assert_int_eq(store_mv_delete(&x, "m2", 2, &err), MT_OK);
	mt_err_init(&err);
	ck_assert_int_eq(store_comment_get(&x, c.id, &got, &model, &err), MT_RESOURCE_DOES_NOT_EXIST);
}
END_TEST

/* ---- through the dispatcher, with authentication on ---- */

static struct fixture fx;
static const char *pw = "a-long-password-1";
static char hdr[4][256]; /* owner (MANAGE via creation), reader, reader2, manager */

static void auth_setup(void)
{
	fixture_setup(&fx);
	acl_invalidate_credentials();
	fx_auth_header = NULL;
	static const char *users[] = {"owner", "reader", "reader2", "manager"};
	for (int i = 0; i < 4; i++) {
		struct mt_err e;
		mt_err_init(&e);
		char *h = auth_password_hash_new(pw, 1000);
		int64_t id;
		ck_assert_int_eq(store_user_create(fx.srv.store, users[i], h, false, &id, &e), MT_OK);
		free(h);
		if (i > 0)
			ck_assert_int_eq(store_grant_set(fx.srv.store, id, "registered_model", "gm", i == 3 ? "MANAGE" : "READ",
			                                 &e),
			                 MT_OK);
		char raw[128], b64[128];
		snprintf(raw, sizeof raw, "%s:%s", users[i], pw);
		auth_b64_encode((const unsigned char *)raw, strlen(raw), b64, sizeof b64);
		snprintf(hdr[i], sizeof hdr[i], "Basic %s", b64);
	}
	((struct mt_config *)&fx.cfg)->auth_enabled = true;
	((struct mt_config *)&fx.cfg)->default_permission = "NO_PERMISSIONS";
	fx_auth_header = hdr[0];
	ck_assert_int_eq(fx_call(&fx, MT_POST, "/api/2.0/mlflow/registered-models/create", "{\"name\":\"gm\"}")->status,
	                 200);
	ck_assert_int_eq(fx_call(&fx, MT_POST, "/api/2.0/mlflow/model-versions/create",
	                         "{\"name\":\"gm\",\"source\":\"s3://b/x\"}")
	                     ->status,
	                 200);
}

static void auth_teardown(void)
{
	fx_auth_header = NULL;
	fixture_teardown(&fx);
}

#define TR "/api/2.0/mlflow/transition-requests/"
#define CM "/api/2.0/mlflow/comments/"

START_TEST(only_creator_or_manage_cancels)
{
	fx_auth_header = hdr[1]; /* a reader may request */
	struct fx_response *r =
		fx_call(&fx, MT_POST, TR "create", "{\"name\":\"gm\",\"version\":\"1\",\"stage\":\"Staging\"}");
	ck_assert_msg(r->status == 200, "%s", r->body);
	ck_assert_str_eq(fx_str(r, "request.user_id"), "reader");
	/* ...but not approve (EDIT) */
	r = fx_call(&fx, MT_POST, TR "approve",
	            "{\"name\":\"gm\",\"version\":\"1\",\"stage\":\"Staging\",\"archive_existing_versions\":false}");
	ck_assert_int_eq(r->status, 403);
	/* another reader cannot cancel reader's request, in the body or in the query */
	fx_auth_header = hdr[2];
	r = fx_call(&fx, MT_DELETE, TR "delete",
	            "{\"name\":\"gm\",\"version\":\"1\",\"stage\":\"Staging\",\"creator\":\"reader\"}");
	ck_assert_int_eq(r->status, 403);
	r = fx_call(&fx, MT_DELETE, TR "delete?name=gm&version=1&stage=Staging&creator=reader", NULL);
	ck_assert_int_eq(r->status, 403);
	/* a MANAGE holder can */
	fx_auth_header = hdr[3];
	r = fx_call(&fx, MT_DELETE, TR "delete?name=gm&version=1&stage=Staging&creator=reader", NULL);
	ck_assert_msg(r->status == 200, "%s", r->body);
	ck_assert_str_eq(fx_str(r, "activity.activity_type"), "CANCELLED_REQUEST");
	ck_assert_str_eq(fx_str(r, "activity.user_id"), "manager");
	/* and the creator can cancel their own (creator defaults to the caller) */
	fx_auth_header = hdr[1];
	ck_assert_int_eq(
		fx_call(&fx, MT_POST, TR "create", "{\"name\":\"gm\",\"version\":\"1\",\"stage\":\"Staging\"}")->status, 200);
	r = fx_call(&fx, MT_DELETE, TR "delete", "{\"name\":\"gm\",\"version\":\"1\",\"stage\":\"Staging\"}");
	ck_assert_msg(r->status == 200, "%s", r->body);
	/* the owner (MANAGE by creation) approves a request */
	ck_assert_int_eq(
		fx_call(&fx, MT_POST, TR "create", "{\"name\":\"gm\",\"version\":\"1\",\"stage\":\"Production\"}")->status,
		200);
	fx_auth_header = hdr[0];
	r = fx_call(&fx, MT_POST, TR "approve",
	            "{\"name\":\"gm\",\"version\":\"1\",\"stage\":\"Production\",\"archive_existing_versions\":true}");
	ck_assert_msg(r->status == 200, "%s", r->body);
	r = fx_call(&fx, MT_GET, "/api/2.0/mlflow/model-versions/get?name=gm&version=1", NULL);
	ck_assert_str_eq(fx_str(r, "model_version.current_stage"), "Production");
}
END_TEST

START_TEST(comment_author_rules)
{
	fx_auth_header = hdr[1];
	struct fx_response *r =
		fx_call(&fx, MT_POST, CM "create", "{\"name\":\"gm\",\"version\":\"1\",\"comment\":\"first\"}");
	ck_assert_msg(r->status == 200, "%s", r->body);
	char id[64], body[256], url[256];
	snprintf(id, sizeof id, "%s", fx_str(r, "comment.id"));
	ck_assert_str_eq(fx_str(r, "comment.user_id"), "reader");
	snprintf(body, sizeof body, "{\"id\":\"%s\",\"comment\":\"changed\"}", id);
	snprintf(url, sizeof url, CM "delete?id=%s", id);
	/* another reader may neither edit nor delete it */
	fx_auth_header = hdr[2];
	ck_assert_int_eq(fx_call(&fx, MT_PATCH, CM "update", body)->status, 403);
	ck_assert_int_eq(fx_call(&fx, MT_DELETE, url, NULL)->status, 403);
	/* a manager may delete but not edit */
	fx_auth_header = hdr[3];
	ck_assert_int_eq(fx_call(&fx, MT_PATCH, CM "update", body)->status, 403);
	/* the author edits */
	fx_auth_header = hdr[1];
	r = fx_call(&fx, MT_PATCH, CM "update", body);
	ck_assert_msg(r->status == 200, "%s", r->body);
	ck_assert_str_eq(fx_str(r, "comment.comment"), "changed");
	fx_auth_header = hdr[3];
	ck_assert_int_eq(fx_call(&fx, MT_DELETE, url, NULL)->status, 200);
	ck_assert_int_eq(fx_call(&fx, MT_DELETE, url, NULL)->status, 404);
	/* an empty comment is refused */
	fx_auth_header = hdr[1];
	ck_assert_int_eq(fx_call(&fx, MT_POST, CM "create", "{\"name\":\"gm\",\"version\":\"1\",\"comment\":\"\"}")->status,
	                 400);
}
END_TEST

Suite *promotion_suite(void)
{
	Suite *su = suite_create("promotion");
	TCase *tc = tcase_create("store");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, request_approve_transitions_and_archives);
	tcase_add_test(tc, reject_and_cancel_leave_the_stage);
	tcase_add_test(tc, comments_lifecycle);
	suite_add_tcase(su, tc);
	TCase *ta = tcase_create("auth");
	tcase_add_checked_fixture(ta, auth_setup, auth_teardown);
	tcase_set_timeout(ta, 30);
	tcase_add_test(ta, only_creator_or_manage_cancels);
	tcase_add_test(ta, comment_author_rules);
	suite_add_tcase(su, ta);
	return su;
}
