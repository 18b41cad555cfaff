/* SPDX-License-Identifier: Apache-2.0 */
/* test_util.c: arena, buffer, JSON writer and readers, MLflow validation rules, error mapping. */
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mltrackd/arena.h"
#include "mltrackd/buf.h"
#include "mltrackd/json.h"
#include "mltrackd/util.h"
#include "mltrackd/validate.h"
#include "suites.h"

static int cleanups;
static void count_cleanup(void *p) { cleanups += *(int *)p; }

START_TEST(arena_allocates_and_cleans_up)
{
	struct arena *a = arena_new();
	char *s = arena_strdup(a, "hello");
	ck_assert_str_eq(s, "hello");
	char *big = arena_alloc(a, 100000);
	memset(big, 'x', 100000);
	for (int i = 0; i < 5000; i++)
		ck_assert_ptr_nonnull(arena_alloc(a, 24));
	ck_assert_str_eq(arena_printf(a, "%d-%s", 42, "x"), "42-x");
	static int one = 1;
	cleanups = 0;
	arena_on_free(a, count_cleanup, &one);
	arena_on_free(a, count_cleanup, &one);
	arena_free(a);
	ck_assert_int_eq(cleanups, 2);
}
END_TEST

START_TEST(arena_grow_keeps_elements_and_doubles)
{
	struct arena *a = arena_new();
	size_t cap = 0, n = 0;
	int64_t *v = NULL;
	for (int64_t i = 0; i < 1000; i++) {
		int64_t *before = v;
		size_t had = cap;
		v = arena_grow(a, v, n, &cap, sizeof *v);
		ck_assert_uint_gt(cap, n);
		if (n < had) /* room left: the same array, the same capacity */
			ck_assert(v == before && cap == had);
		else
			ck_assert_uint_eq(cap, had ? 2 * had : ARENA_GROW_FIRST);
		v[n++] = i * 7;
	}
	for (size_t i = 0; i < n; i++)
		ck_assert_int_eq(v[i], (int64_t)i * 7);
	ck_assert_uint_eq(cap, 1024);
	/* a preallocated array keeps its first elements when it grows */
	size_t pcap = 2;
	char *p = arena_alloc(a, pcap);
	p[0] = 'x';
	p[1] = 'y';
	p = arena_grow(a, p, 2, &pcap, 1);
	ck_assert_uint_eq(pcap, 4);
	ck_assert(p[0] == 'x' && p[1] == 'y');
	/* a capacity below n (never set by arena_grow itself) still yields room for n + 1 */
	size_t small = 1;
	char *q = arena_grow(a, p, 3, &small, 1);
	ck_assert_uint_ge(small, 4);
	ck_assert(q[0] == 'x' && q[1] == 'y');
	arena_free(a);
}
END_TEST

/* An element count whose size does not fit in size_t aborts (as on OOM) instead of allocating a wrapped size. */
START_TEST(arena_grow_aborts_on_overflow)
{
	struct arena *a = arena_new();
	size_t cap = SIZE_MAX / 16;
	char *v = arena_alloc(a, 16);
	(void)arena_grow(a, v, cap, &cap, 16);
	arena_free(a);
}
END_TEST

START_TEST(buf_respects_its_cap)
{
	struct buf b;
	buf_init(&b, 10);
	buf_puts(&b, "12345");
	ck_assert(!b.overflow);
	buf_puts(&b, "678901");
	ck_assert(b.overflow);
	ck_assert_uint_eq(b.len, 5);
	buf_free(&b);
}
END_TEST

START_TEST(json_writer_shapes)
{
	struct buf b;
	buf_init(&b, 1 << 20);
	struct jw w;
	jw_init(&w, &b);
	jw_obj_open(&w);
	jw_kv_str(&w, "a", "q\"\n\x01");
	jw_key(&w, "l");
	jw_arr_open(&w);
	jw_double(&w, 0.1);
	jw_double(&w, NAN);
	jw_double(&w, -INFINITY);
	jw_double(&w, 3.0);
	jw_double(&w, 1e300);
	jw_int(&w, -7);
	jw_int(&w, 0);
	jw_int(&w, INT64_MIN);
	jw_int(&w, INT64_MAX);
	jw_arr_close(&w);
	jw_kv_bool(&w, "t", true);
	jw_kv_int(&w, "k\"\x02", 1700000000000);
	jw_obj_close(&w);
	ck_assert_str_eq(b.data, "{\"a\":\"q\\\"\\n\\u0001\",\"l\":[0.1,\"NaN\",\"-Infinity\",3.0,1e+300,-7,0,"
	                         "-9223372036854775808,9223372036854775807],\"t\":true,\"k\\\"\\u0002\":1700000000000}");
	buf_free(&b);
}
END_TEST

START_TEST(double_format_round_trips)
{
	double vals[] = {0.1, 1.0 / 3, 123456789.123, 1e-7, -2.5e-300, 0.30000000000000004, 9007199254740993.0};
	for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
		char out[40];
		mt_format_double(out, sizeof out, vals[i]);
		ck_assert_msg(strtod(out, NULL) == vals[i], "%s", out);
	}
}
END_TEST

/* What Python's repr() prints, for values picked to cover every branch. */
START_TEST(double_format_is_python_repr)
{
	static const struct {
		double v;
		const char *repr;
	} cases[] = {
		{0.1, "0.1"}, {0.5, "0.5"}, {1.0 / 3, "0.3333333333333333"}, {2.0 / 3, "0.6666666666666666"},
		{0.30000000000000004, "0.30000000000000004"}, {1e-4, "0.0001"}, {1e-5, "1e-05"}, {1.5e-5, "1.5e-05"},
		{1234.5678, "1234.5678"}, {-0.0, "-0.0"}, {0.0, "0.0"}, {3.0, "3.0"}, {-7.0, "-7.0"},
		{1e16, "1e+16"}, {1234567890123456.0, "1234567890123456.0"}, {1.2345e16, "1.2345e+16"},
		{123456789012345680.0, "1.2345678901234568e+17"}, {1e300, "1e+300"}, {2.5e-300, "2.5e-300"},
		{5e-324, "5e-324"}, {1.7976931348623157e308, "1.7976931348623157e+308"}, {0.1 + 0.2 - 0.3, "5.551115123125783e-17"},
		{4503599627370495.5, "4503599627370495.5"}, {0.9999999999999999, "0.9999999999999999"},
		{9.999999999999999e-5, "9.999999999999999e-05"}, {123.456e-10, "1.23456e-08"}, {0.25, "0.25"},
		{2.0e-6, "2e-06"}, {3.814697265625e-06, "3.814697265625e-06"}, {1.1, "1.1"}, {100.5, "100.5"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char out[40];
		mt_format_double(out, sizeof out, cases[i].v);
		ck_assert_msg(strcmp(out, cases[i].repr) == 0, "%.17g: got %s, want %s", cases[i].v, out, cases[i].repr);
	}
}
END_TEST

/* The exact fast path against printf + strtod, which is what it replaces, over random doubles of every
 * magnitude the fast path takes and beyond: same text, and it reads back to the same double. */
static void reference_digits(double x, char *out, size_t cap)
{
	for (int p = 15; p <= 17; p++) {
		snprintf(out, cap, "%.*g", p, x);
		if (p == 17 || strtod(out, NULL) == x)
			return;
	}
}

START_TEST(double_format_matches_printf)
{
	uint64_t state = 0x9E3779B97F4A7C15ull;
	for (int i = 0; i < 40000; i++) {
		state ^= state << 13;
		state ^= state >> 7;
		state ^= state << 17;
		double mant = (double)(state >> 11) / 9007199254740992.0; /* [0, 1) with 53 random bits */
		int ex = (int)(state % 60) - 25;                           /* 1e-25 .. 1e34 */
		double x = (mant + 0.1) * pow(10, ex) * ((state >> 7 & 1) ? -1 : 1);
		if (x == floor(x))
			continue;
		char got[40], want[40];
		mt_format_double(got, sizeof got, x);
		ck_assert_msg(strtod(got, NULL) == x, "%.17g -> %s", x, got);
		if (fabs(x) >= 1e-4 && fabs(x) < 1e15) { /* there printf's %g and repr agree on notation */
			reference_digits(x, want, sizeof want);
			ck_assert_msg(strcmp(got, want) == 0, "%.17g: got %s, want %s", x, got, want);
		}
	}
}
END_TEST

START_TEST(json_getters_follow_mlflow)
{
	cJSON *o = cJSON_Parse("{\"s\":\"x\",\"n\":5,\"e\":\"\",\"i\":\"12\",\"d\":\"NaN\",\"b\":\"True\",\"runId\":\"r\",\"bad\":true}");
	struct mt_err err;
	const char *s = NULL;
	mt_err_init(&err);
	ck_assert_int_eq(json_get_str(o, "s", true, &s, &err), MT_OK);
	ck_assert_str_eq(s, "x");
	ck_assert_int_eq(json_get_str(o, "run_id", true, &s, &err), MT_OK); /* camelCase accepted */
	ck_assert_str_eq(s, "r");
	ck_assert_int_eq(json_get_str(o, "n", true, &s, &err), MT_INVALID_PARAMETER_VALUE);
	ck_assert_ptr_nonnull(strstr(err.msg, "Invalid value 5 for parameter 'n' supplied"));
	mt_err_init(&err);
	ck_assert_int_eq(json_get_str(o, "e", true, &s, &err), MT_INVALID_PARAMETER_VALUE);
	ck_assert_ptr_nonnull(strstr(err.msg, "Missing value for required parameter 'e'"));
	mt_err_init(&err);
	int64_t i = 0;
	ck_assert_int_eq(json_get_i64(o, "i", true, &i, NULL, &err), MT_OK);
	ck_assert_int_eq(i, 12);
	double d = 0;
	ck_assert_int_eq(json_get_double(o, "d", true, &d, &err), MT_OK);
	ck_assert(isnan(d));
	ck_assert_int_eq(json_get_double(o, "bad", true, &d, &err), MT_INVALID_PARAMETER_VALUE);
	mt_err_init(&err);
	bool b = false;
	ck_assert_int_eq(json_get_bool(o, "b", true, &b, NULL, &err), MT_OK);
	ck_assert(b);
	const cJSON *arr;
	ck_assert_int_eq(json_get_array(o, "s", true, &arr, &err), MT_OK); /* lone query value -> [value] */
	ck_assert_int_eq(cJSON_GetArraySize(arr), 1);
	/* wrapping in place keeps the key and every other field reachable */
	ck_assert_int_eq(json_get_array(o, "s", true, &arr, &err), MT_OK);
	ck_assert_int_eq(json_get_str(o, "runId", true, &s, &err), MT_OK);
	ck_assert_int_eq(json_get_i64(o, "i", true, &i, NULL, &err), MT_OK);
	cJSON_Delete(o);
}
END_TEST

START_TEST(key_names_follow_mlflow)
{
	struct mt_err err;
	const char *good[] = {"acc", "a/b", "train loss", "x:y", "a.b-c_d", "ümlaut"};
	const char *bad[] = {"", "/a", "a/", "a//b", "..", "a/../b", "./a", "a/.", "a*b", "a\\b", "a\"b"};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		mt_err_init(&err);
		ck_assert_msg(validate_key_name("key", good[i], &err) == MT_OK, "%s: %s", good[i], err.msg);
	}
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		mt_err_init(&err);
		ck_assert_msg(validate_key_name("key", bad[i], &err) == MT_INVALID_PARAMETER_VALUE, "%s", bad[i]);
	}
	mt_err_init(&err);
	char *long_val = calloc(1, 300);
	memset(long_val, 'a', 251);
	ck_assert_int_eq(validate_length("key", 250, long_val, &err), MT_INVALID_PARAMETER_VALUE);
	ck_assert_str_eq(err.msg, "'key' exceeds the maximum length of 250 characters");
	free(long_val);
	ck_assert_uint_eq(utf8_len("héllo"), 5);
	ck_assert(valid_run_id("0123abcd"));
	ck_assert(!valid_run_id("../x"));
	ck_assert(!valid_run_id(""));
}
END_TEST

START_TEST(every_error_code_maps)
{
	for (int c = 0; c < MT_ERROR__COUNT; c++) {
		int st = mt_error_http_status((enum mt_error)c);
		ck_assert(st >= 200 && st < 600);
		ck_assert_ptr_nonnull(mt_error_name((enum mt_error)c));
	}
	ck_assert_int_eq(mt_error_http_status(MT_RESOURCE_ALREADY_EXISTS), 400);
	ck_assert_int_eq(mt_error_http_status(MT_RESOURCE_DOES_NOT_EXIST), 404);
	ck_assert_str_eq(mt_error_name(MT_INVALID_PARAMETER_VALUE), "INVALID_PARAMETER_VALUE");
	struct mt_err err;
	mt_err_init(&err);
	mt_fail(&err, MT_INVALID_PARAMETER_VALUE, "first");
	mt_fail(&err, MT_INTERNAL_ERROR, "second");
	ck_assert_int_eq(err.code, MT_INVALID_PARAMETER_VALUE);
	ck_assert_str_eq(err.msg, "first");
}
END_TEST

/* One process per database: a second lock on the same file (another open file description, as another process
 * would have) is refused with the holder's pid; released, it can be taken again. */
START_TEST(database_lock_is_exclusive)
{
	char dir[] = "/tmp/mt_unit_lock_XXXXXX", db[256], path[300], msg[512];
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(db, sizeof db, "%s/db.sqlite", dir);
	int fd = mt_lock_database(db, msg, sizeof msg);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(mt_lock_database(db, msg, sizeof msg), -1);
	char want[64];
	snprintf(want, sizeof want, "(pid %ld)", (long)getpid());
	ck_assert_msg(strstr(msg, "in use by another mltrackd process") && strstr(msg, want), "%s", msg);
	close(fd);
	fd = mt_lock_database(db, msg, sizeof msg);
	ck_assert_int_ge(fd, 0);
	close(fd);
	snprintf(path, sizeof path, "%s.lock", db);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(rmdir(dir), 0);
	ck_assert_int_eq(mt_lock_database("/proc/no/such/dir/db", msg, sizeof msg), -1);
	ck_assert_msg(strstr(msg, "cannot open"), "%s", msg);
}
END_TEST

Suite *util_suite(void)
{
	Suite *s = suite_create("util");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, arena_allocates_and_cleans_up);
	tcase_add_test(tc, arena_grow_keeps_elements_and_doubles);
	tcase_add_test_raise_signal(tc, arena_grow_aborts_on_overflow, SIGABRT);
	tcase_add_test(tc, buf_respects_its_cap);
	tcase_add_test(tc, json_writer_shapes);
	tcase_add_test(tc, double_format_round_trips);
	tcase_add_test(tc, double_format_is_python_repr);
	tcase_add_test(tc, double_format_matches_printf);
	tcase_add_test(tc, json_getters_follow_mlflow);
	tcase_add_test(tc, key_names_follow_mlflow);
	tcase_add_test(tc, every_error_code_maps);
	tcase_add_test(tc, database_lock_is_exclusive);
	suite_add_tcase(s, tc);
	return s;
}
