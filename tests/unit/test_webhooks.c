/* SPDX-License-Identifier: Apache-2.0 */
/* test_webhooks.c: the webhook engine without a network: signature known-answer vectors (MLflow, Standard
 * Webhooks, Databricks), SSRF address classes, the retry delay, secret sealing, and the fan-out of real outbox rows
 * (registry, transition requests, comments) into deliveries for both APIs. */
#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mltrackd/store.h"
#include "mltrackd/store_promotion.h"
#include "mltrackd/store_webhooks.h"
#include "mltrackd/util.h"
#include "mltrackd/webhooks.h"
#include "suites.h"

START_TEST(signatures_known_answers)
{
	char out[128];
	/* Standard Webhooks' own test vector (libraries/python/tests/test_webhooks.py) */
	const char *body = "{\"test\": 2432232314}";
	wh_sign_standard("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", body,
	                 strlen(body), out, sizeof out);
	ck_assert_str_eq(out, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
	/* MLflow: key = the secret's UTF-8 bytes, content "<id>.<ts>.<body>" (computed with Python's hmac) */
	const char *b2 = "{\"a\": 1}";
	wh_sign_mlflow("my-secret", "d-1", "1700000000", b2, strlen(b2), out, sizeof out);
	ck_assert_str_eq(out, "v1,BsTS+ip4KN2s6FLRBVEWvU5xYQzRfRFkunxqEfqgJA8=");
	/* a secret without whsec_ signs as MLflow does */
	char out2[128];
	wh_sign_standard("my-secret", "d-1", "1700000000", b2, strlen(b2), out2, sizeof out2);
	ck_assert_str_eq(out, out2);
	/* Databricks: hex HMAC over the body only */
	const char *b3 = "{\"event\": \"X\"}";
	wh_sign_databricks("my-secret", b3, strlen(b3), out, sizeof out);
	ck_assert_str_eq(out, "524093d8a0d85b2ab8ac3cc757236f7620ae3f4e7391ab8d12fca292dcb31eb2");
}
END_TEST

static enum wh_addr_class cls(const char *ip)
{
	struct sockaddr_in6 s6 = {0};
	struct sockaddr_in s4 = {0};
	if (inet_pton(AF_INET, ip, &s4.sin_addr) == 1) {
		s4.sin_family = AF_INET;
		return wh_addr_classify((struct sockaddr *)&s4);
	}
	ck_assert_int_eq(inet_pton(AF_INET6, ip, &s6.sin6_addr), 1);
	s6.sin6_family = AF_INET6;
	return wh_addr_classify((struct sockaddr *)&s6);
}

START_TEST(ssrf_address_classes)
{
	ck_assert_int_eq(cls("8.8.8.8"), WH_ADDR_PUBLIC);
	ck_assert_int_eq(cls("2606:4700::1111"), WH_ADDR_PUBLIC);
	ck_assert_int_eq(cls("127.0.0.1"), WH_ADDR_LOOPBACK);
	ck_assert_int_eq(cls("127.255.1.2"), WH_ADDR_LOOPBACK);
	ck_assert_int_eq(cls("::1"), WH_ADDR_LOOPBACK);
	ck_assert_int_eq(cls("::ffff:127.0.0.1"), WH_ADDR_LOOPBACK);
	ck_assert_int_eq(cls("10.1.2.3"), WH_ADDR_PRIVATE);
	ck_assert_int_eq(cls("172.16.0.1"), WH_ADDR_PRIVATE);
	ck_assert_int_eq(cls("172.32.0.1"), WH_ADDR_PUBLIC);
	ck_assert_int_eq(cls("192.168.1.1"), WH_ADDR_PRIVATE);
	ck_assert_int_eq(cls("100.64.0.1"), WH_ADDR_PRIVATE);
	ck_assert_int_eq(cls("::ffff:100.64.0.1"), WH_ADDR_PRIVATE);
	ck_assert_int_eq(cls("fd12::1"), WH_ADDR_PRIVATE);
	ck_assert_int_eq(cls("169.254.1.1"), WH_ADDR_LINK_LOCAL);
	ck_assert_int_eq(cls("fe80::1"), WH_ADDR_LINK_LOCAL);
	ck_assert_int_eq(cls("169.254.169.254"), WH_ADDR_METADATA);
	ck_assert_int_eq(cls("64:ff9b::a9fe:a9fe"), WH_ADDR_METADATA); /* NAT64 of 169.254.169.254 */
	ck_assert_int_eq(cls("2002:a9fe:a9fe::1"), WH_ADDR_METADATA);   /* 6to4 of it */
	ck_assert_int_eq(cls("fd00:ec2::254"), WH_ADDR_METADATA);
	ck_assert_int_eq(cls("100.100.100.200"), WH_ADDR_METADATA);
	ck_assert_int_eq(cls("0.0.0.0"), WH_ADDR_RESERVED);
	ck_assert_int_eq(cls("::"), WH_ADDR_RESERVED);
	ck_assert_int_eq(cls("224.0.0.1"), WH_ADDR_RESERVED);
	ck_assert_int_eq(cls("255.255.255.255"), WH_ADDR_RESERVED);
	ck_assert_int_eq(cls("ff02::1"), WH_ADDR_RESERVED);

	struct sockaddr_in lo = {.sin_family = AF_INET};
	inet_pton(AF_INET, "127.0.0.1", &lo.sin_addr);
	ck_assert(!wh_addr_allowed((struct sockaddr *)&lo, false));
	ck_assert(wh_addr_allowed((struct sockaddr *)&lo, true));
	struct sockaddr_in md = {.sin_family = AF_INET};
	inet_pton(AF_INET, "169.254.169.254", &md.sin_addr);
	ck_assert(!wh_addr_allowed((struct sockaddr *)&md, true)); /* never, even with private allowed */
}
END_TEST

START_TEST(backoff_and_retry_policy)
{
	/* jitter keeps the delay in [d/2, d] */
	for (int attempt = 1; attempt <= 12; attempt++) {
		int64_t d = 1000;
		for (int i = 1; i < attempt && d < 60000; i++)
			d *= 2;
		if (d > 60000)
			d = 60000;
		for (uint32_t r = 0; r < 50; r++) {
			int64_t w = wh_backoff_ms(attempt, 1000, 60000, -1, r * 7919u);
			ck_assert_int_ge(w, d / 2);
			ck_assert_int_le(w, d);
		}
	}
	ck_assert_int_eq(wh_backoff_ms(1, 1000, 60000, 30, 0), 30000);        /* Retry-After wins when longer */
	ck_assert_int_le(wh_backoff_ms(8, 1000, 60000, 1, 0), 60000);        /* but not when shorter */
	ck_assert_int_eq(wh_backoff_ms(1, 1000, 60000, 999999, 0), 3600000); /* capped at an hour */
	ck_assert(wh_status_retried(429) && wh_status_retried(500) && wh_status_retried(503) && wh_status_retried(408));
	ck_assert(!wh_status_retried(400) && !wh_status_retried(404) && !wh_status_retried(410) && !wh_status_retried(302));
}
END_TEST

START_TEST(secret_sealing_round_trip)
{
	struct arena *a = arena_new();
	char *p = wh_secret_seal(a, NULL, "s3cret");
	ck_assert_str_eq(p, "p:s3cret");
	ck_assert_str_eq(wh_secret_open(a, NULL, p), "s3cret");
	char *e1 = wh_secret_seal(a, "key-1", "s3cret"), *e2 = wh_secret_seal(a, "key-1", "s3cret");
	ck_assert(strncmp(e1, "e:", 2) == 0);
	ck_assert_ptr_null(strstr(e1, "s3cret"));
	ck_assert_str_ne(e1, e2); /* fresh nonce each time */
	ck_assert_str_eq(wh_secret_open(a, "key-1", e1), "s3cret");
	ck_assert_ptr_null(wh_secret_open(a, "key-2", e1)); /* wrong key */
	ck_assert_ptr_null(wh_secret_open(a, NULL, e1));    /* no key */
	char *t = arena_strdup(a, e1);
	t[5] = t[5] == 'A' ? 'B' : 'A'; /* tampered */
	ck_assert_ptr_null(wh_secret_open(a, "key-1", t));
	arena_free(a);
}
END_TEST

/* ---- fan-out of real outbox rows ---- */

static char dir[256];
static struct store *s;
static struct arena *a;
static struct mt_err err;

static void fan_setup(void)
{
	char path[300];
	snprintf(dir, sizeof dir, "/tmp/mt_webhooks_XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/w.db", dir);
	mt_err_init(&err);
	ck_assert_int_eq(store_open(path, &s, &err), MT_OK);
	a = arena_new();
}

static void fan_teardown(void)
{
	store_close(s);
	arena_free(a);
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static struct mt_webhook *add_hook(const char *id, int kind, const char *model, const char **events, size_t n)
{
	struct mt_webhook *w = arena_calloc(a, sizeof *w);
	w->id = id;
	w->kind = kind;
	w->name = "n";
	w->url = "http://127.0.0.1:1/";
	w->status = "ACTIVE";
	w->model_name = model;
	w->events = events;
	w->n_events = n;
	w->ssl_verify = true;
	ck_assert_int_eq(store_webhook_create(s, w, &err), MT_OK);
	return w;
}

static void fanout(void)
{
	size_t ne, nd;
	do
		ck_assert_int_eq(store_webhook_fanout(s, wh_map_event, 3, &ne, &nd, &err), MT_OK);
	while (ne > 0);
}

/* The deliveries of a webhook, oldest first, as "EVENT" strings joined by spaces; bodies parsed into *bodies. */
static char *deliveries(const struct mt_webhook *w, cJSON **bodies)
{
	struct mt_delivery *v;
	size_t n;
	bool more;
	ck_assert_int_eq(store_delivery_list(s, a, w->pk, 0, 100, &v, &n, &more, &err), MT_OK);
	store_reader_release(s);
	char *out = arena_strdup(a, "");
	if (bodies)
		*bodies = cJSON_CreateArray();
	for (size_t i = n; i-- > 0;) {
		out = arena_printf(a, "%s%s%s", out, *out ? " " : "", v[i].event);
		ck_assert_int_eq(v[i].state, DELIVERY_PENDING);
		if (bodies)
			cJSON_AddItemToArray(*bodies, cJSON_Parse(v[i].body));
	}
	return out;
}

START_TEST(fanout_maps_events_for_both_apis)
{
	struct registry_ctx x = {s, a, "alice"};
	struct mt_registered_model m;
	/* an event before the webhooks exist is not theirs */
	ck_assert_int_eq(store_rm_create(&x, "early", NULL, NULL, 0, &m, &err), MT_OK);
	static const char *ml_events[] = {"registered_model.created", "model_version.created", "model_version_tag.set"};
	static const char *dbx_all[] = {"REGISTERED_MODEL_CREATED", "MODEL_VERSION_CREATED",
	                                "MODEL_VERSION_TRANSITIONED_STAGE", "MODEL_VERSION_TRANSITIONED_TO_PRODUCTION",
	                                "TRANSITION_REQUEST_CREATED", "TRANSITION_REQUEST_TO_PRODUCTION_CREATED",
	                                "COMMENT_CREATED", "MODEL_VERSION_TAG_SET"};
	static const char *dbx_stage[] = {"MODEL_VERSION_TRANSITIONED_TO_ARCHIVED", "TRANSITION_REQUEST_TO_STAGING_CREATED"};
	struct mt_webhook *ml = add_hook("ml", WH_KIND_MLFLOW, NULL, ml_events, 3);
	struct mt_webhook *all = add_hook("all", WH_KIND_DATABRICKS, NULL, dbx_all, 8);
	struct mt_webhook *scoped = add_hook("scoped", WH_KIND_DATABRICKS, "m", dbx_stage, 2);
	struct mt_webhook *other = add_hook("other", WH_KIND_DATABRICKS, "zzz", dbx_all + 1, 7);

	ck_assert_int_eq(store_rm_create(&x, "m", NULL, NULL, 0, &m, &err), MT_OK);
	struct mt_model_version v;
	for (int i = 0; i < 2; i++) {
		struct store_mv_create in = {.name = "m", .source = "s3://b/x", .run_id = ""};
		ck_assert_int_eq(store_mv_create(&x, &in, &v, &err), MT_OK);
	}
	ck_assert_int_eq(store_mv_set_tag(&x, "m", 1, "k", "v", &err), MT_OK);
	ck_assert_int_eq(store_mv_transition_recorded(&x, "m", 1, "Production", false, NULL, &v, &err), MT_OK);
	struct mt_activity act;
	ck_assert_int_eq(store_tr_create(&x, "m", 2, "Production", "please", &act, &err), MT_OK);
	ck_assert_int_eq(store_tr_create(&x, "m", 2, "Staging", NULL, &act, &err), MT_OK);
	/* approving moves 2 to Production and archives 1 */
	struct tr_resolve in = {.name = "m", .version = 2, .stage = "Production", .what = TR_APPROVE, .archive = true};
	ck_assert_int_eq(store_tr_resolve(&x, &in, &act, &err), MT_OK);
	ck_assert_int_eq(store_comment_create(&x, "m", 2, "looks good", &act, &err), MT_OK);
	fanout();

	ck_assert_str_eq(deliveries(ml, NULL), "registered_model.created model_version.created model_version.created "
	                                       "model_version_tag.set");
	cJSON *b;
	ck_assert_str_eq(deliveries(all, &b),
	                 "REGISTERED_MODEL_CREATED MODEL_VERSION_CREATED MODEL_VERSION_CREATED MODEL_VERSION_TAG_SET "
	                 "MODEL_VERSION_TRANSITIONED_STAGE MODEL_VERSION_TRANSITIONED_TO_PRODUCTION "
	                 "TRANSITION_REQUEST_CREATED TRANSITION_REQUEST_TO_PRODUCTION_CREATED TRANSITION_REQUEST_CREATED "
	                 "MODEL_VERSION_TRANSITIONED_STAGE MODEL_VERSION_TRANSITIONED_TO_PRODUCTION "
	                 "MODEL_VERSION_TRANSITIONED_STAGE COMMENT_CREATED");
	/* bodies: Databricks' fields */
	cJSON *tr = cJSON_GetArrayItem(b, 4);
	ck_assert_str_eq(cJSON_GetObjectItem(tr, "model_name")->valuestring, "m");
	ck_assert_str_eq(cJSON_GetObjectItem(tr, "version")->valuestring, "1");
	ck_assert_str_eq(cJSON_GetObjectItem(tr, "to_stage")->valuestring, "Production");
	ck_assert_str_eq(cJSON_GetObjectItem(tr, "from_stage")->valuestring, "None");
	ck_assert_str_eq(cJSON_GetObjectItem(tr, "webhook_id")->valuestring, "all");
	ck_assert(cJSON_IsNumber(cJSON_GetObjectItem(tr, "event_timestamp")));
	ck_assert_ptr_nonnull(cJSON_GetObjectItem(tr, "text"));
	cJSON *req = cJSON_GetArrayItem(b, 6);
	ck_assert_str_eq(cJSON_GetObjectItem(req, "comment")->valuestring, "please");
	ck_assert_str_eq(cJSON_GetObjectItem(req, "creator")->valuestring, "alice");
	ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(b, 3), "tags")->child->child->valuestring, "k");
	cJSON *archived = cJSON_GetArrayItem(b, 11);
	ck_assert_str_eq(cJSON_GetObjectItem(archived, "version")->valuestring, "1");
	ck_assert_str_eq(cJSON_GetObjectItem(archived, "to_stage")->valuestring, "Archived");
	ck_assert_str_eq(cJSON_GetObjectItem(archived, "from_stage")->valuestring, "Production");
	cJSON *comment = cJSON_GetArrayItem(b, 12);
	ck_assert_str_eq(cJSON_GetObjectItem(comment, "comment")->valuestring, "looks good");
	cJSON_Delete(b);
	/* per-stage subscriptions of a model-scoped webhook */
	ck_assert_str_eq(deliveries(scoped, NULL), "TRANSITION_REQUEST_TO_STAGING_CREATED MODEL_VERSION_TRANSITIONED_TO_ARCHIVED");
	ck_assert_str_eq(deliveries(other, NULL), "");

	/* delivery ids are unique; a recorded success leaves the head for the next one */
	struct mt_delivery *h;
	size_t n;
	ck_assert_int_eq(store_delivery_heads(s, a, &h, &n, &err), MT_OK);
	store_reader_release(s);
	ck_assert_int_eq(n, 3);
	int64_t counts[3];
	ck_assert_int_eq(store_delivery_counts(s, ml->pk, counts, &err), MT_OK);
	ck_assert_int_eq(counts[DELIVERY_PENDING], 4);
	for (size_t i = 0; i < n; i++)
		if (h[i].webhook_pk == ml->pk) {
			struct delivery_result r = {.pk = h[i].pk, .state = DELIVERY_DELIVERED, .status = 200};
			ck_assert_int_eq(store_delivery_record(s, &r, 1, &err), MT_OK);
			ck_assert_int_eq(store_delivery_redeliver(s, ml->pk, h[i].delivery_id, &err), MT_OK);
		}
	ck_assert_int_eq(store_delivery_counts(s, ml->pk, counts, &err), MT_OK);
	store_reader_release(s);
	ck_assert_int_eq(counts[DELIVERY_PENDING], 4);
	/* deleting a webhook fails what it still had pending */
	ck_assert_int_eq(store_webhook_delete(s, "ml", WH_KIND_MLFLOW, &err), MT_OK);
	ck_assert_int_eq(store_delivery_counts(s, ml->pk, counts, &err), MT_OK);
	store_reader_release(s);
	ck_assert_int_eq(counts[DELIVERY_FAILED], 4);
}
END_TEST

static int hook_calls;
static void count_hook(void *ctx) { (*(int *)ctx)++; }

/* The dispatcher's wake-up: called after a commit that added outbox events, not after other writes. The chain
 * read: the pending delivery after a given one, only when due, only of that webhook. */
START_TEST(events_hook_and_next_delivery)
{
	struct registry_ctx x = {s, a, "alice"};
	struct mt_registered_model m;
	static const char *ml_events[] = {"model_version_tag.set"};
	struct mt_webhook *ml = add_hook("ml", WH_KIND_MLFLOW, NULL, ml_events, 1);
	hook_calls = 0;
	store_set_events_hook(s, count_hook, &hook_calls);
	ck_assert_int_eq(store_rm_create(&x, "m", NULL, NULL, 0, &m, &err), MT_OK);
	ck_assert_int_eq(hook_calls, 1);
	/* a write without events (a refused one, then a webhook's own row) does not call it */
	ck_assert_int_eq(store_rm_create(&x, "m", NULL, NULL, 0, &m, &err), MT_RESOURCE_ALREADY_EXISTS);
	static const char *other_events[] = {"model_version.created"};
	add_hook("other", WH_KIND_MLFLOW, NULL, other_events, 1);
	ck_assert_int_eq(hook_calls, 1);
	struct mt_model_version v;
	struct store_mv_create in = {.name = "m", .source = "s3://b/x", .run_id = ""};
	ck_assert_int_eq(store_mv_create(&x, &in, &v, &err), MT_OK);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(store_mv_set_tag(&x, "m", 1, arena_printf(a, "k%d", i), "v", &err), MT_OK);
	ck_assert_int_eq(hook_calls, 5);
	store_set_events_hook(s, NULL, NULL);
	ck_assert_int_eq(store_mv_set_tag(&x, "m", 1, "k9", "v", &err), MT_OK);
	ck_assert_int_eq(hook_calls, 5);
	fanout();

	struct mt_delivery *h, *next;
	size_t n, nn;
	ck_assert_int_eq(store_delivery_heads(s, a, &h, &n, &err), MT_OK);
	int64_t head = -1;
	for (size_t i = 0; i < n; i++)
		if (h[i].webhook_pk == ml->pk)
			head = h[i].pk;
	ck_assert_int_ne(head, -1);
	int64_t now = mt_now_ms() + 1000;
	int64_t after = head, seen = 1;
	for (;;) {
		ck_assert_int_eq(store_delivery_next(s, a, ml->pk, after, now, &next, &nn, &err), MT_OK);
		if (!nn)
			break;
		ck_assert_int_eq(next[0].webhook_pk, ml->pk);
		ck_assert_int_gt(next[0].pk, after);
		ck_assert_str_eq(next[0].event, "model_version_tag.set");
		ck_assert_str_eq(next[0].wh.id, "ml");
		after = next[0].pk;
		seen++;
	}
	ck_assert_int_eq(seen, 4);
	/* not yet due: nothing */
	ck_assert_int_eq(store_delivery_next(s, a, ml->pk, head, 0, &next, &nn, &err), MT_OK);
	ck_assert_int_eq(nn, 0);
	store_reader_release(s);
}
END_TEST

Suite *webhooks_suite(void)
{
	Suite *su = suite_create("webhooks");
	TCase *t = tcase_create("engine");
	tcase_add_test(t, signatures_known_answers);
	tcase_add_test(t, ssrf_address_classes);
	tcase_add_test(t, backoff_and_retry_policy);
	tcase_add_test(t, secret_sealing_round_trip);
	suite_add_tcase(su, t);
	TCase *f = tcase_create("fanout");
	tcase_add_checked_fixture(f, fan_setup, fan_teardown);
	tcase_add_test(f, fanout_maps_events_for_both_apis);
	tcase_add_test(f, events_hook_and_next_delivery);
	suite_add_tcase(su, f);
	return su;
}
