/* SPDX-License-Identifier: Apache-2.0 */
/* test_search.c: the filter and order_by grammars: accepted forms with their parsed values, refused forms
 * with MLflow's error code and message, and hard limits. */
#include <string.h>

#include "mltrackd/buf.h"
#include "mltrackd/search.h"
#include "suites.h"

static struct arena *ar;
static void setup(void) { ar = arena_new(); }
static void teardown(void) { arena_free(ar); }

static struct search_filter ok(enum search_kind k, const char *f)
{
	struct search_filter out;
	struct mt_err err;
	mt_err_init(&err);
	ck_assert_msg(search_parse_filter(ar, k, f, &out, &err) == MT_OK, "%s: %s", f, err.msg);
	return out;
}

static void bad(enum search_kind k, const char *f, const char *msg_part)
{
	struct search_filter out;
	struct mt_err err;
	mt_err_init(&err);
	ck_assert_msg(search_parse_filter(ar, k, f, &out, &err) == MT_INVALID_PARAMETER_VALUE, "accepted: %s", f);
	if (msg_part)
		ck_assert_msg(strstr(err.msg, msg_part) != NULL, "%s: message '%s' lacks '%s'", f, err.msg, msg_part);
}

START_TEST(acceptance_filter)
{
	struct search_filter f = ok(SEARCH_RUNS, "metrics.acc > 0.9 and params.lr = '0.01'");
	ck_assert_uint_eq(f.n, 2);
	ck_assert_int_eq(f.conds[0].ent, SE_METRIC);
	ck_assert_str_eq(f.conds[0].key, "acc");
	ck_assert_int_eq(f.conds[0].op, OP_GT);
	ck_assert(f.conds[0].numeric && f.conds[0].num == 0.9);
	ck_assert_int_eq(f.conds[1].ent, SE_PARAM);
	ck_assert_str_eq(f.conds[1].key, "lr");
	ck_assert_str_eq(f.conds[1].str, "0.01");
}
END_TEST

START_TEST(forms_and_aliases)
{
	struct search_filter f = ok(SEARCH_RUNS, "  tags.\"my-key\" = \"x y\"   AND   attribute.run_name ILIKE '%a%' aNd created >= 5 ");
	ck_assert_uint_eq(f.n, 3);
	ck_assert_str_eq(f.conds[0].key, "my-key");
	ck_assert_str_eq(f.conds[0].str, "x y");
	ck_assert_int_eq(f.conds[1].op, OP_ILIKE);
	ck_assert_str_eq(f.conds[2].key, "start_time");
	f = ok(SEARCH_RUNS, "metrics.`a b` >= -1e3 and metric.a.b = 1 and `params`.`i` != 'it''s'");
	ck_assert_str_eq(f.conds[0].key, "a b");
	ck_assert(f.conds[0].num == -1000.0);
	ck_assert_str_eq(f.conds[1].key, "a.b");
	ck_assert_int_eq(f.conds[2].ent, SE_PARAM);
	ck_assert_str_eq(f.conds[2].str, "it's");
	f = ok(SEARCH_RUNS, "run_id IN ('a', 'b') and attributes.run_id NOT IN ('c') and params.x IS NULL and tags.t IS NOT NULL");
	ck_assert_uint_eq(f.conds[0].n_list, 2);
	ck_assert_str_eq(f.conds[0].list[1], "b");
	ck_assert_int_eq(f.conds[1].op, OP_NOT_IN);
	ck_assert_int_eq(f.conds[2].op, OP_IS_NULL);
	ck_assert_int_eq(f.conds[3].op, OP_IS_NOT_NULL);
	f = ok(SEARCH_RUNS, "datasets.name IN ('train') and dataset.digest = 'abc' and `Run name` = 'r'");
	ck_assert_int_eq(f.conds[0].ent, SE_DATASET);
	ck_assert_str_eq(f.conds[2].key, "run_name");
	f = ok(SEARCH_RUNS, "");
	ck_assert_uint_eq(f.n, 0);
	f = ok(SEARCH_RUNS, "metrics.x <> 3");
	ck_assert_int_eq(f.conds[0].op, OP_NE);
	f = ok(SEARCH_EXPERIMENTS, "name LIKE 'a%' and tags.k = 'v' and creation_time > 0");
	ck_assert_uint_eq(f.n, 3);
}
END_TEST

START_TEST(refusals_like_mlflow)
{
	bad(SEARCH_RUNS, "metrics.acc > 'x'", "Expected numeric value type for metric");
	bad(SEARCH_RUNS, "params.lr > '1'", "Invalid comparator '>'");
	bad(SEARCH_RUNS, "params.lr = 1", "Expected a quoted string value for parameter");
	bad(SEARCH_RUNS, "foo.bar = 1", "Invalid entity type 'foo'");
	bad(SEARCH_RUNS, "metrics.a = 1 or metrics.b = 2", "Invalid clause(s)");
	bad(SEARCH_RUNS, "run_name IN ('a')", "Only ['run_id']");
	bad(SEARCH_RUNS, "params.lr IN ('a')", "Invalid comparator 'IN'");
	bad(SEARCH_RUNS, "status > 'x'", "Invalid comparator");
	bad(SEARCH_RUNS, "metrics.a", "Invalid clause(s)");
	bad(SEARCH_RUNS, "nope = 'x'", "Invalid attribute key 'nope'");
	bad(SEARCH_RUNS, "datasets.size = 'x'", "Invalid dataset key");
	bad(SEARCH_RUNS, "params.a = 'unterminated", NULL);
	bad(SEARCH_RUNS, "run_id IN ('a' 'b')", NULL);
	bad(SEARCH_RUNS, "run_id IN ()", NULL);
	bad(SEARCH_RUNS, "metrics.a > 1 and", NULL);
	bad(SEARCH_RUNS, "and metrics.a > 1", NULL);
	bad(SEARCH_RUNS, "metrics.a > 1e999", NULL);
	bad(SEARCH_RUNS, "params.a = 'x' ; DROP TABLE runs", NULL);
	bad(SEARCH_EXPERIMENTS, "metrics.a > 1", NULL);
	bad(SEARCH_EXPERIMENTS, "name > 'x'", "Invalid comparator");
	bad(SEARCH_EXPERIMENTS, "tags.=\"x\"", "the key is empty"); /* found by fuzz_search_filter */
	bad(SEARCH_RUNS, "params.`` = 'x'", "the key is empty");
}
END_TEST

START_TEST(limits)
{
	char *big = arena_alloc(ar, SEARCH_MAX_FILTER_LEN + 10);
	memset(big, ' ', SEARCH_MAX_FILTER_LEN + 5);
	big[SEARCH_MAX_FILTER_LEN + 5] = '\0';
	bad(SEARCH_RUNS, big, "longer than");
	struct buf b;
	buf_init(&b, 1 << 20);
	for (int i = 0; i <= SEARCH_MAX_CONDITIONS; i++)
		buf_printf(&b, "%smetrics.m%d > 1", i ? " and " : "", i);
	bad(SEARCH_RUNS, b.data, "Too many conditions");
	buf_free(&b);
}
END_TEST

START_TEST(order_by)
{
	struct search_order o;
	struct mt_err err;
	mt_err_init(&err);
	ck_assert_int_eq(search_parse_order_by(ar, SEARCH_RUNS, "metrics.acc DESC", &o, &err), MT_OK);
	ck_assert(o.ent == SE_METRIC && !o.asc && !strcmp(o.key, "acc"));
	ck_assert_int_eq(search_parse_order_by(ar, SEARCH_RUNS, "params.`a b` asc", &o, &err), MT_OK);
	ck_assert(o.ent == SE_PARAM && o.asc && !strcmp(o.key, "a b"));
	ck_assert_int_eq(search_parse_order_by(ar, SEARCH_RUNS, "attributes.start_time", &o, &err), MT_OK);
	ck_assert(o.ent == SE_ATTR && o.asc);
	ck_assert_int_eq(search_parse_order_by(ar, SEARCH_RUNS, "metrics.acc SIDEWAYS", &o, &err), MT_INVALID_PARAMETER_VALUE);
	mt_err_init(&err);
	ck_assert_int_eq(search_parse_order_by(ar, SEARCH_RUNS, "name", &o, &err), MT_INVALID_PARAMETER_VALUE);
	ck_assert_ptr_nonnull(strstr(err.msg, "Invalid attribute key 'name'"));
	mt_err_init(&err);
	ck_assert_int_eq(search_parse_order_by(ar, SEARCH_EXPERIMENTS, "name DESC", &o, &err), MT_OK);
	ck_assert_int_eq(search_parse_order_by(ar, SEARCH_EXPERIMENTS, "tags.x", &o, &err), MT_INVALID_PARAMETER_VALUE);
}
END_TEST

Suite *search_suite(void)
{
	Suite *s = suite_create("search");
	TCase *tc = tcase_create("grammar");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, acceptance_filter);
	tcase_add_test(tc, forms_and_aliases);
	tcase_add_test(tc, refusals_like_mlflow);
	tcase_add_test(tc, limits);
	tcase_add_test(tc, order_by);
	suite_add_tcase(s, tc);
	return s;
}
