/* SPDX-License-Identifier: Apache-2.0 */
/* test_search.c: the filter, order_by and page-token grammars of src/search: parsed values of accepted forms and
 * MLflow 3.17.2's error code and message for refused ones (expectations taken from running the reference). */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

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
	ck_assert_int_eq(err.code, MT_INVALID_PARAMETER_VALUE);
	ck_assert_msg(strstr(err.msg, msg_part) != NULL, "%s: message '%s' lacks '%s'", f, err.msg, msg_part);
}

static struct search_order ord(enum search_kind k, const char *clause)
{
	struct search_order o;
	struct mt_err err;
	mt_err_init(&err);
	ck_assert_msg(search_parse_order_by(ar, k, clause, &o, &err) == MT_OK, "%s: %s", clause, err.msg);
	return o;
}

static void bad_ord(enum search_kind k, const char *clause, const char *msg_part)
{
	struct search_order o;
	struct mt_err err;
	mt_err_init(&err);
	ck_assert_msg(search_parse_order_by(ar, k, clause, &o, &err) == MT_INVALID_PARAMETER_VALUE, "accepted: %s", clause);
	ck_assert_msg(strstr(err.msg, msg_part) != NULL, "%s: message '%s' lacks '%s'", clause, err.msg, msg_part);
}

START_TEST(acceptance_filter)
{
	struct search_filter f = ok(SEARCH_RUNS, "metrics.acc > 0.9 and params.lr = '0.01'");
	ck_assert_uint_eq(f.n, 2);
	ck_assert_int_eq(f.conds[0].ent, SEARCH_ENT_METRIC);
	ck_assert_str_eq(f.conds[0].key, "acc");
	ck_assert_int_eq(f.conds[0].op, SEARCH_OP_GT);
	ck_assert(f.conds[0].numeric && f.conds[0].numeric_key && f.conds[0].num == 0.9 && !f.conds[0].is_int);
	ck_assert_str_eq(f.conds[0].num_text, "0.9");
	ck_assert_int_eq(f.conds[1].ent, SEARCH_ENT_PARAM);
	ck_assert_str_eq(f.conds[1].key, "lr");
	ck_assert_int_eq(f.conds[1].op, SEARCH_OP_EQ);
	ck_assert_str_eq(f.conds[1].str, "0.01");
	ck_assert(!f.conds[1].numeric && !f.conds[1].numeric_key);
}
END_TEST

START_TEST(empty_and_blank)
{
	ck_assert_uint_eq(ok(SEARCH_RUNS, NULL).n, 0);
	ck_assert_uint_eq(ok(SEARCH_RUNS, "").n, 0);
	ck_assert_uint_eq(ok(SEARCH_RUNS, "AND").n, 0); /* MLflow skips AND tokens wherever they are */
	/* whitespace only is an error in the reference */
	bad(SEARCH_RUNS, "   ", "Invalid filter '   '. Could not be parsed.");
	bad(SEARCH_EXPERIMENTS, " \t", "Could not be parsed.");
	bad(SEARCH_LOGGED_MODELS, "  ", "Expected a single SQL expression.");
}
END_TEST

START_TEST(quoting_forms)
{
	struct search_filter f = ok(SEARCH_RUNS, "tags.\"my-key\" = 'x' and params.`a b` = \"y z\" and `tags`.`k` = 'v'"
	                                         " and tags.'q' = 'w' and params.`a.b` = 'd'");
	ck_assert_uint_eq(f.n, 5);
	ck_assert_str_eq(f.conds[0].key, "my-key");
	ck_assert_int_eq(f.conds[0].ent, SEARCH_ENT_TAG);
	ck_assert_str_eq(f.conds[1].key, "a b");
	ck_assert_str_eq(f.conds[1].str, "y z");
	ck_assert_int_eq(f.conds[2].ent, SEARCH_ENT_TAG);
	ck_assert_str_eq(f.conds[2].key, "k");
	ck_assert_str_eq(f.conds[3].key, "q");
	ck_assert_str_eq(f.conds[4].key, "a.b");
	/* the reference keeps escapes raw: only the outer quotes go */
	f = ok(SEARCH_RUNS, "tags.k = 'it''s' and tags.j = 'a\\'b' and tags.d = \"say \"\"hi\"\"\" and tags.e = 'a\"b'");
	ck_assert_str_eq(f.conds[0].str, "it''s");
	ck_assert_str_eq(f.conds[1].str, "a\\'b");
	ck_assert_str_eq(f.conds[2].str, "say \"\"hi\"\"");
	ck_assert_str_eq(f.conds[3].str, "a\"b");
	/* a string ending in a backslash: sqlparse closes it at the backslash-quote */
	f = ok(SEARCH_RUNS, "tags.k = 'a\\'");
	ck_assert_str_eq(f.conds[0].str, "a\\");
	f = ok(SEARCH_RUNS, "tags.k = '' and tags.j = \"\" and metrics.a.b = 1 and params.1a = 'x'");
	ck_assert_str_eq(f.conds[0].str, "");
	ck_assert_str_eq(f.conds[1].str, "");
	ck_assert_str_eq(f.conds[2].key, "a.b");
	ck_assert_str_eq(f.conds[3].key, "1a");
	f = ok(SEARCH_RUNS, "tags.k = 'unicodé ☃ 日本' and tags.ké = 'x'");
	ck_assert_str_eq(f.conds[0].str, "unicodé ☃ 日本");
	ck_assert_str_eq(f.conds[1].key, "ké");
	bad(SEARCH_RUNS, "tags.k = x", "Parameter value is either not quoted or unidentified quote types used for string value x.");
	bad(SEARCH_RUNS, "tags.k = `x`", "string value `x`");
	bad(SEARCH_RUNS, "\"tags\".\"k\" = 'x'", "Invalid entity type '\"tags\"'");
	bad(SEARCH_RUNS, "`metrics.a` = 1", "Invalid entity type '`metrics'");
	bad(SEARCH_RUNS, "tags.k = 'unterminated", "Invalid clause(s) in filter string");
	bad(SEARCH_RUNS, "tags. = 'x'", "the key is empty");
}
END_TEST

START_TEST(numbers)
{
	struct search_filter f = ok(SEARCH_RUNS, "metrics.a = -1 and metrics.b = 1e3 and metrics.c = -1.5E-3 and "
	                                         "metrics.d = .5 and metrics.e = 5. and metrics.f = 00012 and "
	                                         "metrics.g = 99999999999999999999999");
	ck_assert_uint_eq(f.n, 7);
	ck_assert(f.conds[0].is_int && f.conds[0].i64 == -1 && f.conds[0].num == -1.0);
	ck_assert(!f.conds[1].is_int && f.conds[1].num == 1000.0);
	ck_assert_str_eq(f.conds[1].num_text, "1e3");
	ck_assert(fabs(f.conds[2].num + 0.0015) < 1e-12);
	ck_assert(f.conds[3].num == 0.5);
	ck_assert(f.conds[4].num == 5.0 && !f.conds[4].is_int);
	ck_assert(f.conds[5].is_int && f.conds[5].i64 == 12);
	ck_assert(!f.conds[6].is_int && f.conds[6].num == 1e23); /* too big for int64: a double, like float() */
	f = ok(SEARCH_RUNS, "start_time > 5 and end_time <= 5.5 and created >= -5");
	ck_assert_str_eq(f.conds[0].key, "start_time");
	ck_assert(f.conds[0].numeric_key && f.conds[0].is_int && f.conds[0].i64 == 5);
	ck_assert(f.conds[1].num == 5.5 && !f.conds[1].is_int); /* the runs grammar takes floats for times */
	ck_assert_str_eq(f.conds[2].key, "start_time");
	ck_assert(f.conds[2].i64 == -5);
	bad(SEARCH_RUNS, "metrics.a = +5", "Invalid clause(s) in filter string");
	bad(SEARCH_RUNS, "metrics.a = - 5", "Invalid clause(s) in filter string");
	bad(SEARCH_RUNS, "metrics.a = 1e", "Expected numeric value type for metric. Found 1e");
	bad(SEARCH_RUNS, "metrics.a = 1_000", "Found 1_000");
	bad(SEARCH_RUNS, "metrics.a>=1and metrics.b<2", "Found 1and");
	bad(SEARCH_RUNS, "metrics.a = nan", "Expected numeric value type for metric. Found nan");
	bad(SEARCH_RUNS, "metrics.a = '0.9'", "Expected numeric value type for metric. Found '0.9'");
	bad(SEARCH_RUNS, "start_time > '5'", "Expected numeric value type for numeric attribute: start_time. Found '5'");
	bad(SEARCH_RUNS, "start_time = 99999999999999999999999", "Invalid value for numeric attribute 'start_time'");
}
END_TEST

START_TEST(runs_comparators)
{
	static const char *const metric_ok[] = {"=", "!=", ">", ">=", "<", "<="};
	static const enum search_op metric_op[] = {SEARCH_OP_EQ, SEARCH_OP_NE, SEARCH_OP_GT,
	                                           SEARCH_OP_GE, SEARCH_OP_LT, SEARCH_OP_LE};
	for (size_t i = 0; i < 6; i++) {
		char *q = arena_printf(ar, "metrics.m %s 1 and start_time %s 2", metric_ok[i], metric_ok[i]);
		struct search_filter f = ok(SEARCH_RUNS, q);
		ck_assert_int_eq(f.conds[0].op, metric_op[i]);
		ck_assert_int_eq(f.conds[1].op, metric_op[i]);
		ck_assert_str_eq(search_op_name(f.conds[0].op), metric_ok[i]);
	}
	bad(SEARCH_RUNS, "metrics.m LIKE 1", "Invalid comparator 'LIKE' not one of '{'>', '>=', '!=', '=', '<', '<='}");
	bad(SEARCH_RUNS, "metrics.m <> 1", "Invalid comparator '<>' not one of");
	bad(SEARCH_RUNS, "metrics.m == 1", "Invalid comparator '==' not one of");
	bad(SEARCH_RUNS, "metrics.m IS NULL",
	    "IS NULL / IS NOT NULL is only supported for tags and params, not for 'metric' 'm'");
	bad(SEARCH_RUNS, "metrics.m IN (1)", "Expected numeric value type for metric. Found (1)");
	/* params and tags: string comparators and IS [NOT] NULL */
	struct search_filter f = ok(SEARCH_RUNS, "params.p != 'a' and tags.t like 'a%' and tags.t ILIKE '%B' and "
	                                         "params.p is null and tags.t IS NOT NULL");
	ck_assert_int_eq(f.conds[0].op, SEARCH_OP_NE);
	ck_assert_int_eq(f.conds[1].op, SEARCH_OP_LIKE);
	ck_assert_int_eq(f.conds[2].op, SEARCH_OP_ILIKE);
	ck_assert_int_eq(f.conds[3].op, SEARCH_OP_IS_NULL);
	ck_assert(f.conds[3].str == NULL && f.conds[3].list == NULL && !f.conds[3].numeric);
	ck_assert_int_eq(f.conds[4].op, SEARCH_OP_IS_NOT_NULL);
	ck_assert_int_eq(f.conds[4].ent, SEARCH_ENT_TAG);
	bad(SEARCH_RUNS, "params.lr > '0.01'",
	    "Invalid comparator '>' not one of '{'!=', '=', 'LIKE', 'ILIKE', 'IS NULL', 'IS NOT NULL'}'");
	bad(SEARCH_RUNS, "tags.k <> 'x'", "Invalid comparator '<>' not one of");
	bad(SEARCH_RUNS, "tags.k NOT LIKE 'x'", "Invalid comparator 'NOT LIKE' not one of");
	bad(SEARCH_RUNS, "params.lr = 0.01", "Expected a quoted string value for parameter (e.g. 'my-value'). Got value 0.01");
	bad(SEARCH_RUNS, "tags.k IN ('x')", "Expected a quoted string value for tag (e.g. 'my-value'). Got value ('x')");
	bad(SEARCH_RUNS, "tags.k IS 'x'", "Invalid clause(s) in filter string: ''x''");
	/* string attributes */
	f = ok(SEARCH_RUNS, "status = 'FINISHED' and run_name LIKE 'r%' and user_id ILIKE 'U' and artifact_uri != 'x'");
	ck_assert_str_eq(f.conds[1].key, "run_name");
	ck_assert(!f.conds[0].numeric_key);
	bad(SEARCH_RUNS, "status > 'a'", "Invalid comparator '>' not one of '{'!=', '=', 'LIKE', 'ILIKE', 'IN', 'NOT IN'}'");
	bad(SEARCH_RUNS, "status IS NULL", "not for 'attribute' 'status'");
	bad(SEARCH_RUNS, "status IN ('a')", "Only ['run_id'] attributes support comparison with a list of quoted string values.");
	bad(SEARCH_RUNS, "end_time LIKE 5", "Invalid comparator 'LIKE' not one of '{'!=', '=', 'LIKE', 'ILIKE', 'IN', 'NOT IN'}");
	bad(SEARCH_RUNS, "status = 5", "Expected a quoted string value for attributes. Got value 5");
}
END_TEST

START_TEST(runs_identifiers)
{
	struct search_filter f = ok(SEARCH_RUNS, "`Run name` = 'a' and \"Run Name\" = 'b' and attribute.`run name` = 'c' and "
	                                         "Created > 1 and attr.status = 'x' and run.run_id = 'y' and "
	                                         "metric.m = 1 and param.p = 'p' and parameters.q = 'q' and tag.t = 't'");
	ck_assert_uint_eq(f.n, 10);
	ck_assert_str_eq(f.conds[0].key, "run_name");
	ck_assert_str_eq(f.conds[1].key, "run_name");
	ck_assert_str_eq(f.conds[2].key, "run_name");
	ck_assert_str_eq(f.conds[3].key, "start_time");
	ck_assert_int_eq(f.conds[4].ent, SEARCH_ENT_ATTRIBUTE);
	ck_assert_str_eq(f.conds[5].key, "run_id");
	ck_assert_int_eq(f.conds[6].ent, SEARCH_ENT_METRIC);
	ck_assert_int_eq(f.conds[7].ent, SEARCH_ENT_PARAM);
	ck_assert_int_eq(f.conds[8].ent, SEARCH_ENT_PARAM);
	ck_assert_int_eq(f.conds[9].ent, SEARCH_ENT_TAG);
	bad(SEARCH_RUNS, "run name = 'x'", "Invalid clause(s) in filter string");
	bad(SEARCH_RUNS, "foo.bar = 'x'",
	    "Invalid entity type 'foo'. Valid values are ['metric', 'parameter', 'tag', 'attribute', 'dataset']");
	bad(SEARCH_RUNS, "METRICS.a = 1", "Invalid entity type 'METRICS'");
	bad(SEARCH_RUNS, "experiment_id = '1'", "Invalid attribute key 'experiment_id' specified. Valid keys are '{");
	bad(SEARCH_RUNS, "lifecycle_stage = 'x'", "Invalid attribute key 'lifecycle_stage'");
}
END_TEST

START_TEST(datasets_and_lists)
{
	struct search_filter f = ok(SEARCH_RUNS, "datasets.name IN ('train', \"dev\",) and dataset.digest = 'abc' and "
	                                         "dataset.context NOT IN ('eval') and run_id IN ('a' 'b', 'it\\'s') and "
	                                         "run_id in ('it''s')");
	ck_assert_int_eq(f.conds[0].ent, SEARCH_ENT_DATASET);
	ck_assert_int_eq(f.conds[0].op, SEARCH_OP_IN);
	ck_assert_uint_eq(f.conds[0].n_list, 2);
	ck_assert_str_eq(f.conds[0].list[0], "train");
	ck_assert_str_eq(f.conds[0].list[1], "dev");
	ck_assert_str_eq(f.conds[1].key, "digest");
	ck_assert_int_eq(f.conds[2].op, SEARCH_OP_NOT_IN);
	ck_assert_uint_eq(f.conds[3].n_list, 2);
	ck_assert_str_eq(f.conds[3].list[0], "ab"); /* Python concatenates adjacent literals */
	ck_assert_str_eq(f.conds[3].list[1], "it's");
	ck_assert_str_eq(f.conds[4].list[0], "its");
	bad(SEARCH_RUNS, "dataset.foo = 'a'", "Invalid dataset key 'foo' specified. Valid keys are '{'name', 'digest', 'context'}'");
	bad(SEARCH_RUNS, "dataset.name > 'a'", "Invalid comparator '>' not one of");
	bad(SEARCH_RUNS, "dataset.name IS NULL", "not for 'dataset' 'name'");
	bad(SEARCH_RUNS, "dataset.name = 5", "Expected a quoted string value for dataset attributes. Got value 5");
	bad(SEARCH_RUNS, "run_id IN ()", "expected a non-empty list of string values, but got empty list");
	bad(SEARCH_RUNS, "run_id IN ('a', 1)", "but got different type in list: ('a', 1)");
	bad(SEARCH_RUNS, "run_id IN (a, b)", "but got ill-formed list.");
	bad(SEARCH_RUNS, "run_id IN ('a'", "Invalid clause(s) in filter string");
	bad(SEARCH_RUNS, "run_id IN 'a'", "Invalid clause(s) in filter string: ''a''");
	bad(SEARCH_RUNS, "run_id = ('a')", "Invalid comparator '='");
}
END_TEST

START_TEST(and_chains_and_clauses)
{
	struct search_filter f = ok(SEARCH_RUNS, "  metrics.a>1   AnD\tmetrics.b<2 and and tags.k='x'AND tags.j='y' and");
	ck_assert_uint_eq(f.n, 4);
	ck_assert_str_eq(f.conds[3].key, "j");
	ck_assert_str_eq(f.conds[3].str, "y");
	f = ok(SEARCH_RUNS, "metrics.a > 1 metrics.b > 2"); /* no AND needed, as in the reference */
	ck_assert_uint_eq(f.n, 2);
	bad(SEARCH_RUNS, "metrics.a > 1 OR metrics.b < 2", "Invalid clause(s) in filter string: 'OR'");
	bad(SEARCH_RUNS, "(metrics.a > 1)", "Invalid clause(s) in filter string: '('");
	bad(SEARCH_RUNS, "metrics.a > 1; metrics.b > 2",
	    "Search filter contained multiple expression 'metrics.a > 1; metrics.b > 2'. Provide AND-ed expression list.");
	bad(SEARCH_RUNS, "tags.k = 'x' -- c", "Invalid clause(s) in filter string");
	bad(SEARCH_RUNS, "tags.k = 'x' 'y'", "Invalid clause(s) in filter string: ''y''");
	bad(SEARCH_RUNS, "tags.k =", "Invalid clause(s) in filter string");
}
END_TEST

START_TEST(experiments)
{
	struct search_filter f = ok(SEARCH_EXPERIMENTS, "name LIKE 'a%' and tags.k = 'v' and creation_time > 0 and "
	                                                "attribute.last_update_time <= 5 and tag.t IS NULL and "
	                                                "experiment_id IN ('1', '02') and experiment_id != '3'");
	ck_assert_uint_eq(f.n, 7);
	ck_assert_int_eq(f.conds[1].ent, SEARCH_ENT_TAG);
	ck_assert(f.conds[2].numeric_key && f.conds[2].is_int && f.conds[2].i64 == 0);
	ck_assert_str_eq(f.conds[3].key, "last_update_time");
	ck_assert_int_eq(f.conds[4].op, SEARCH_OP_IS_NULL);
	ck_assert_uint_eq(f.conds[5].n_list, 2);
	ck_assert_str_eq(f.conds[5].list[1], "02");
	ck_assert_str_eq(f.conds[6].str, "3");
	bad(SEARCH_EXPERIMENTS, "attributes.name = 'x'",
	    "Invalid entity type 'attributes'. Valid entity types are ('attribute', 'tag', 'tags')");
	bad(SEARCH_EXPERIMENTS, "metrics.a > 1", "Invalid entity type 'metrics'");
	bad(SEARCH_EXPERIMENTS, "lifecycle_stage = 'active'",
	    "Invalid attribute key 'lifecycle_stage' specified. Valid keys are '{'name', 'experiment_id', 'creation_time', "
	    "'last_update_time'}'");
	bad(SEARCH_EXPERIMENTS, "name IN ('a')", "Only ['experiment_id'] attributes support comparison with a list");
	bad(SEARCH_EXPERIMENTS, "name > 'a'", "Invalid comparator '>' not one of");
	bad(SEARCH_EXPERIMENTS, "name IS NULL", "IS NULL / IS NOT NULL is only supported for tags, not for attribute 'name'");
	bad(SEARCH_EXPERIMENTS, "experiment_id = 1", "Expected a quoted string value for attributes. Got value 1");
	bad(SEARCH_EXPERIMENTS, "experiment_id = 'abc'", "Invalid experiment ID 'abc'. Experiment ID must be a valid integer.");
	bad(SEARCH_EXPERIMENTS, "experiment_id > '1'", "Invalid comparator for experiment_id: >");
	bad(SEARCH_EXPERIMENTS, "creation_time > 5.5", "Invalid value for numeric attribute 'creation_time': '5.5'");
	bad(SEARCH_EXPERIMENTS, "creation_time LIKE 5", "Invalid comparator 'LIKE' not one of");
	bad(SEARCH_EXPERIMENTS, "tags.k > 'x'", "Invalid comparator for tag: >");
	bad(SEARCH_EXPERIMENTS, "tags.k = 5", "Expected a quoted string value for tag (e.g. 'my-value'). Got value 5");
}
END_TEST

START_TEST(registry)
{
	struct search_filter f = ok(SEARCH_REGISTERED_MODELS, "name IN ('a', 'b') and attribute.name LIKE 'a%' and "
	                                                      "tags.k = 'x' and tag.`k.x` ILIKE 'y'");
	ck_assert_uint_eq(f.n, 4);
	ck_assert_uint_eq(f.conds[0].n_list, 2);
	ck_assert_str_eq(f.conds[3].key, "k.x");
	bad(SEARCH_REGISTERED_MODELS, "`name` = 'x'", "Invalid attribute key '`name`' specified. Valid keys are '{'name'}'");
	bad(SEARCH_REGISTERED_MODELS, "run_id = 'x'", "Invalid attribute key 'run_id'");
	bad(SEARCH_REGISTERED_MODELS, "name > 'a'", "Invalid comparator for attribute: >");
	bad(SEARCH_REGISTERED_MODELS, "tags.k > 'x'", "Invalid comparator for tag: >");
	bad(SEARCH_REGISTERED_MODELS, "tags.k IS NULL", "Invalid comparator for tag: IS NULL");
	bad(SEARCH_REGISTERED_MODELS, "name = 5",
	    "Expected a quoted string value or a list of quoted string values for attributes. Got value 5");
	f = ok(SEARCH_MODEL_VERSIONS, "name = 'm' and run_id IN ('r') and source_path = 's' and version_number > 5 and "
	                              "version_number = '7'");
	ck_assert_uint_eq(f.n, 5);
	ck_assert_str_eq(f.conds[2].key, "source_path");
	ck_assert(f.conds[3].numeric && f.conds[3].is_int && f.conds[3].i64 == 5);
	ck_assert(f.conds[4].numeric && f.conds[4].i64 == 7 && f.conds[4].str == NULL); /* int('7'), as the store does */
	bad(SEARCH_MODEL_VERSIONS, "source_path IN ('x')", "Only ['name', 'run_id'] attributes support comparison");
	bad(SEARCH_MODEL_VERSIONS, "version_number = 5.5", "Invalid value for numeric attribute 'version_number': 5.5");
	bad(SEARCH_MODEL_VERSIONS, "version_number = 'abc'", "Invalid value for numeric attribute 'version_number': 'abc'");
	bad(SEARCH_MODEL_VERSIONS, "version_number LIKE '5'", "Invalid comparator for attribute version_number: LIKE");
	bad(SEARCH_MODEL_VERSIONS, "name = 5", "attributes support comparison with numeric values.");
	bad(SEARCH_MODEL_VERSIONS, "creation_timestamp > 5", "Invalid attribute key 'creation_timestamp'");
	bad(SEARCH_MODEL_VERSIONS, "run_id > 'x'", "Invalid comparator for attribute: >");
}
END_TEST

START_TEST(logged_models)
{
	struct search_filter f = ok(SEARCH_LOGGED_MODELS, "metrics.acc > 0.5 and params.p = 'x' and params.q = \"y\" and "
	                                                  "tags.t IN ('a','b') and creation_time > 5 and name = x and "
	                                                  "attributes.status = 'READY' and metrics.`a b` != 1");
	ck_assert_uint_eq(f.n, 8);
	ck_assert_int_eq(f.conds[0].ent, SEARCH_ENT_METRIC);
	ck_assert_str_eq(f.conds[1].str, "x");
	ck_assert_str_eq(f.conds[2].str, "\"y\""); /* the reference strips only single quotes */
	ck_assert_uint_eq(f.conds[3].n_list, 2);
	ck_assert_str_eq(f.conds[4].key, "creation_timestamp_ms");
	ck_assert(f.conds[4].numeric_key && f.conds[4].numeric);
	ck_assert_str_eq(f.conds[5].str, "x");
	ck_assert_str_eq(f.conds[6].key, "status");
	ck_assert_str_eq(f.conds[7].key, "a b");
	bad(SEARCH_LOGGED_MODELS, "metric.acc > 1",
	    "Invalid entity type: 'metric'. Expected one of ['attributes', 'metrics', 'params', 'tags'].");
	bad(SEARCH_LOGGED_MODELS, "metrics.acc LIKE 0.5",
	    "Invalid comparison operator for metrics.acc: 'LIKE'. Expected one of ('<', '<=', '>', '>=', '=', '!=').");
	bad(SEARCH_LOGGED_MODELS, "params.p > 'a'",
	    "Invalid comparison operator for params.p: '>'. Expected one of ('=', '!=', 'LIKE', 'ILIKE', 'IN', 'NOT IN').");
	bad(SEARCH_LOGGED_MODELS, "tags.t IS NULL", "Expected a comparison with 3 tokens.");
	bad(SEARCH_LOGGED_MODELS, "metrics.a > 1 OR params.p = 'x'", "Expected a list of comparisons separated by 'AND'");
	bad(SEARCH_LOGGED_MODELS, "foo = 'x'", "Invalid attribute key 'foo'");
	bad(SEARCH_LOGGED_MODELS, "metrics.acc > '0.5'", "Invalid numeric value");
}
END_TEST

START_TEST(limits)
{
	size_t n = SEARCH_MAX_FILTER_LEN + 10;
	char *big = arena_alloc(ar, n + 1);
	memset(big, ' ', n);
	memcpy(big, "tags.k = 'x'", 12);
	big[n] = '\0';
	bad(SEARCH_RUNS, big, "longer than");
	size_t cap = 20 * (SEARCH_MAX_CONDITIONS + 2), used = 0;
	char *many = arena_alloc(ar, cap);
	for (int i = 0; i <= SEARCH_MAX_CONDITIONS; i++)
		used += (size_t)snprintf(many + used, cap - used, "%smetrics.m%d > 1", i ? " and " : "", i % 10);
	bad(SEARCH_RUNS, many, "Too many conditions");
	cap = 6 * (SEARCH_MAX_LIST + 2) + 32;
	char *list = arena_alloc(ar, cap);
	used = (size_t)snprintf(list, cap, "run_id IN (");
	for (int i = 0; i <= SEARCH_MAX_LIST; i++)
		used += (size_t)snprintf(list + used, cap - used, "'a',");
	snprintf(list + used, cap - used, ")");
	bad(SEARCH_RUNS, list, "more than");
	char *key = arena_alloc(ar, SEARCH_MAX_KEY_LEN + 32);
	memcpy(key, "tags.", 5);
	memset(key + 5, 'k', SEARCH_MAX_KEY_LEN);
	memcpy(key + 5 + SEARCH_MAX_KEY_LEN, " = 'x'", 7);
	bad(SEARCH_RUNS, key, "longer than");
}
END_TEST

START_TEST(order_by)
{
	struct search_order o = ord(SEARCH_RUNS, "metrics.acc DESC");
	ck_assert_int_eq(o.ent, SEARCH_ENT_METRIC);
	ck_assert_str_eq(o.key, "acc");
	ck_assert(!o.asc && o.numeric_key);
	o = ord(SEARCH_RUNS, "metrics.acc  asc");
	ck_assert(o.asc);
	o = ord(SEARCH_RUNS, "created Desc");
	ck_assert_str_eq(o.key, "start_time");
	ck_assert(!o.asc);
	o = ord(SEARCH_RUNS, "tags.`a b` DESC");
	ck_assert_int_eq(o.ent, SEARCH_ENT_TAG);
	ck_assert_str_eq(o.key, "a b");
	o = ord(SEARCH_RUNS, "tags.\"a b\"");
	ck_assert_str_eq(o.key, "a b");
	ck_assert(o.asc);
	o = ord(SEARCH_RUNS, "params.p");
	ck_assert_int_eq(o.ent, SEARCH_ENT_PARAM);
	o = ord(SEARCH_RUNS, "attributes.run_name");
	ck_assert_str_eq(o.key, "run_name");
	ck_assert(!o.numeric_key);
	bad_ord(SEARCH_RUNS, "`Run name` DESC", "Invalid attribute key 'Run name' specified. Valid keys are '{");
	bad_ord(SEARCH_RUNS, "datasets.name", "Invalid identifier type 'dataset'");
	bad_ord(SEARCH_RUNS, "metrics.acc DESC ASC", "Invalid order_by clause 'metrics.acc DESC ASC'. Could not be parsed.");
	bad_ord(SEARCH_RUNS, "metrics.acc DOWN", "Invalid ordering key in order_by clause 'metrics.acc DOWN'.");
	bad_ord(SEARCH_RUNS, "", "Could not be parsed.");
	bad_ord(SEARCH_RUNS, "metrics.acc, params.p", "Could not be parsed.");
	bad_ord(SEARCH_RUNS, "bogus.x", "Invalid entity type 'bogus'");
	o = ord(SEARCH_EXPERIMENTS, "last_update_time ASC");
	ck_assert_str_eq(o.key, "last_update_time");
	bad_ord(SEARCH_EXPERIMENTS, "tags.k", "Invalid order_by entity: tag");
	bad_ord(SEARCH_EXPERIMENTS, "attributes.name", "Invalid entity type 'attributes'");
	o = ord(SEARCH_REGISTERED_MODELS, "timestamp DESC");
	ck_assert_str_eq(o.key, "last_updated_timestamp");
	ck_assert(!o.asc);
	bad_ord(SEARCH_REGISTERED_MODELS, "creation_timestamp",
	        "Invalid order by key 'creation_timestamp' specified. Valid keys are '{'timestamp', 'name'}'");
	bad_ord(SEARCH_REGISTERED_MODELS, "attribute.name", "Invalid order by key 'attribute.name'");
	o = ord(SEARCH_MODEL_VERSIONS, "version_number DESC");
	ck_assert(o.numeric_key && !o.asc);
	bad_ord(SEARCH_MODEL_VERSIONS, "run_id", "Invalid attribute key 'run_id' specified.");
	bad_ord(SEARCH_MODEL_VERSIONS, "tags.k", "Invalid order by key 'k' specified. Valid keys are {");
}
END_TEST

START_TEST(order_by_lists)
{
	const char *runs[] = {"metrics.a", "params.a DESC", "created"};
	struct search_order *o;
	struct mt_err err;
	mt_err_init(&err);
	ck_assert_int_eq(search_parse_order_by_list(ar, SEARCH_RUNS, runs, 3, &o, &err), MT_OK);
	ck_assert_int_eq(o[1].ent, SEARCH_ENT_PARAM);
	ck_assert(!o[1].asc);
	ck_assert_str_eq(o[2].key, "start_time");
	const char *dup[] = {"metrics.a", "metric.a DESC"};
	ck_assert_int_eq(search_parse_order_by_list(ar, SEARCH_RUNS, dup, 2, &o, &err), MT_INVALID_PARAMETER_VALUE);
	ck_assert_ptr_nonnull(strstr(err.msg, "`order_by` contains duplicate fields: ['metrics.a', 'metric.a DESC']"));
	const char *rm[] = {"timestamp", "last_updated_timestamp DESC"};
	mt_err_init(&err);
	ck_assert_int_eq(search_parse_order_by_list(ar, SEARCH_REGISTERED_MODELS, rm, 2, &o, &err),
	                 MT_INVALID_PARAMETER_VALUE);
	const char *ex[] = {"name", "name DESC"}; /* the experiments store does not check */
	mt_err_init(&err);
	ck_assert_int_eq(search_parse_order_by_list(ar, SEARCH_EXPERIMENTS, ex, 2, &o, &err), MT_OK);
	ck_assert_int_eq(search_parse_order_by_list(ar, SEARCH_RUNS, NULL, 0, &o, &err), MT_OK);
	ck_assert_ptr_null(o);
}
END_TEST

START_TEST(logged_model_order)
{
	struct search_order o;
	struct mt_err err;
	mt_err_init(&err);
	ck_assert_int_eq(search_logged_model_order_field(ar, "metrics.acc", false, "ds", "d1", &o, &err), MT_OK);
	ck_assert_int_eq(o.ent, SEARCH_ENT_METRIC);
	ck_assert_str_eq(o.key, "acc");
	ck_assert_str_eq(o.dataset_name, "ds");
	ck_assert_str_eq(o.dataset_digest, "d1");
	ck_assert(!o.asc);
	/* the rules of MLflow's SQL store: aliases, any column, no trimming, digest without name allowed */
	ck_assert_int_eq(search_logged_model_order_field(ar, "creation_time", true, NULL, NULL, &o, &err), MT_OK);
	ck_assert_str_eq(o.key, "creation_timestamp_ms");
	ck_assert(o.numeric_key && o.asc);
	ck_assert_int_eq(search_logged_model_order_field(ar, "experiment_id", true, NULL, NULL, &o, &err), MT_OK);
	ck_assert_int_eq(search_logged_model_order_field(ar, "status_message", false, NULL, NULL, &o, &err), MT_OK);
	ck_assert_int_eq(search_logged_model_order_field(ar, " creation_time ", true, NULL, NULL, &o, &err),
	                 MT_INVALID_PARAMETER_VALUE);
	ck_assert_str_eq(err.msg, "Invalid order by field name:  creation_time ");
	mt_err_init(&err);
	ck_assert_int_eq(search_logged_model_order_field(ar, "params.x", true, NULL, NULL, &o, &err),
	                 MT_INVALID_PARAMETER_VALUE);
	ck_assert_str_eq(err.msg, "Invalid order by field name: params.x. Only metrics are supported.");
	mt_err_init(&err);
	ck_assert_int_eq(search_logged_model_order_field(ar, "metrics.acc", true, NULL, "d", &o, &err), MT_OK);
	ck_assert_ptr_null(o.dataset_name);
	ck_assert_str_eq(o.dataset_digest, "d");
	ck_assert_int_eq(search_logged_model_order_field(ar, NULL, true, NULL, NULL, &o, &err), MT_INVALID_PARAMETER_VALUE);
	ck_assert_str_eq(err.msg, "Invalid order by field name: ");
}
END_TEST

START_TEST(page_tokens)
{
	static const int64_t offs[] = {0, 1, 100, 1000000007, INT64_MAX};
	for (size_t i = 0; i < sizeof offs / sizeof offs[0]; i++) {
		const char *t = search_page_token_encode(ar, offs[i]);
		ck_assert_uint_le(strlen(t), SEARCH_PAGE_TOKEN_MAX);
		ck_assert(strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == strlen(t));
		int64_t back = -1;
		struct mt_err err;
		mt_err_init(&err);
		ck_assert_int_eq(search_page_token_decode(t, &back, &err), MT_OK);
		ck_assert(back == offs[i]);
	}
	int64_t off = 7;
	struct mt_err err;
	mt_err_init(&err);
	ck_assert_int_eq(search_page_token_decode(NULL, &off, &err), MT_OK);
	ck_assert(off == 0);
	ck_assert_int_eq(search_page_token_decode("", &off, &err), MT_OK);
	/* every single-character change of a good token is refused */
	const char *good = search_page_token_encode(ar, 12345);
	size_t n = strlen(good);
	char *t = arena_strdup(ar, good);
	for (size_t i = 0; i < n; i++) {
		char saved = t[i];
		t[i] = saved == 'A' ? 'B' : 'A';
		mt_err_init(&err);
		ck_assert_msg(search_page_token_decode(t, &off, &err) == MT_INVALID_PARAMETER_VALUE, "tampered %s", t);
		ck_assert_ptr_nonnull(strstr(err.msg, "Invalid page token"));
		t[i] = saved;
	}
	static const char *const garbage[] = {"abc", "eyJvZmZzZXQiOiAxMH0=", "!!!!!!!!!!!!!!!!!!", "bXQxOjEw",
	                                      "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"};
	for (size_t i = 0; i < sizeof garbage / sizeof garbage[0]; i++) {
		mt_err_init(&err);
		ck_assert_int_eq(search_page_token_decode(garbage[i], &off, &err), MT_INVALID_PARAMETER_VALUE);
	}
	/* a negative offset encodes as 0; a forged record with the sign bit set is refused by its check or range */
	const char *z = search_page_token_encode(ar, -5);
	mt_err_init(&err);
	ck_assert_int_eq(search_page_token_decode(z, &off, &err), MT_OK);
	ck_assert(off == 0);
}
END_TEST

Suite *search_suite(void)
{
	Suite *s = suite_create("search");
	TCase *tc = tcase_create("grammar");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, acceptance_filter);
	tcase_add_test(tc, empty_and_blank);
	tcase_add_test(tc, quoting_forms);
	tcase_add_test(tc, numbers);
	tcase_add_test(tc, runs_comparators);
	tcase_add_test(tc, runs_identifiers);
	tcase_add_test(tc, datasets_and_lists);
	tcase_add_test(tc, and_chains_and_clauses);
	tcase_add_test(tc, experiments);
	tcase_add_test(tc, registry);
	tcase_add_test(tc, logged_models);
	tcase_add_test(tc, limits);
	tcase_add_test(tc, order_by);
	tcase_add_test(tc, order_by_lists);
	tcase_add_test(tc, logged_model_order);
	tcase_add_test(tc, page_tokens);
	suite_add_tcase(s, tc);
	return s;
}
