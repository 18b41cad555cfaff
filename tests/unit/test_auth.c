/* SPDX-License-Identifier: Apache-2.0 */
/* test_auth.c: password hashing and verification, tokens, base64 and Authorization header parsing. */
#include <stdlib.h>
#include <string.h>

#include "mltrackd/auth.h"
#include "suites.h"

START_TEST(password_hash_round_trip)
{
	char *h = auth_password_hash_new("correct horse battery", 2000);
	ck_assert(strncmp(h, "pbkdf2-sha256$2000$", 19) == 0);
	ck_assert(auth_password_verify("correct horse battery", h));
	ck_assert(!auth_password_verify("correct horse batterY", h));
	ck_assert(!auth_password_verify("", h));
	char *h2 = auth_password_hash_new("correct horse battery", 2000);
	ck_assert_str_ne(h, h2); /* salted */
	ck_assert(!auth_password_verify("x", "pbkdf2-sha256$5$AAAA$AAAA"));
	ck_assert(!auth_password_verify("x", "plain"));
	free(h);
	free(h2);
}
END_TEST

START_TEST(tokens_are_random_and_hashed)
{
	char *a = auth_token_new(), *b = auth_token_new();
	ck_assert_str_ne(a, b);
	ck_assert(strncmp(a, "mlt_", 4) == 0);
	ck_assert_uint_eq(strlen(a), 4 + 43);
	char ha[65], hb[65], ha2[65];
	auth_token_hash(a, ha);
	auth_token_hash(b, hb);
	auth_token_hash(a, ha2);
	ck_assert_str_eq(ha, ha2);
	ck_assert_str_ne(ha, hb);
	free(a);
	free(b);
}
END_TEST

START_TEST(authorization_header_parsing)
{
	struct arena *ar = arena_new();
	struct auth_credentials c;
	struct mt_err err;
	mt_err_init(&err);
	ck_assert_int_eq(auth_parse_header(ar, "Basic YWxpY2U6czNjcjN0OnBhc3M=", &c, &err), MT_OK); /* alice:s3cr3t:pass */
	ck_assert_int_eq(c.scheme, AUTH_BASIC);
	ck_assert_str_eq(c.username, "alice");
	ck_assert_str_eq(c.password, "s3cr3t:pass");
	ck_assert_int_eq(auth_parse_header(ar, "Bearer mlt_abc", &c, &err), MT_OK);
	ck_assert_int_eq(c.scheme, AUTH_BEARER);
	ck_assert_str_eq(c.token, "mlt_abc");
	ck_assert_int_eq(auth_parse_header(ar, NULL, &c, &err), MT_OK);
	ck_assert_int_eq(c.scheme, AUTH_NONE);
	ck_assert_int_eq(auth_parse_header(ar, "Basic !!!", &c, &err), MT_UNAUTHENTICATED);
	mt_err_init(&err);
	ck_assert_int_eq(auth_parse_header(ar, "Basic bm9jb2xvbg==", &c, &err), MT_UNAUTHENTICATED); /* "nocolon" */
	mt_err_init(&err);
	ck_assert_int_eq(auth_parse_header(ar, "Digest x", &c, &err), MT_UNAUTHENTICATED);
	unsigned char out[8];
	ck_assert_int_eq(auth_b64_decode("aGk", 3, out, sizeof out), 2);
	ck_assert(memcmp(out, "hi", 2) == 0);
	arena_free(ar);
}
END_TEST

Suite *auth_suite(void)
{
	Suite *s = suite_create("auth");
	TCase *tc = tcase_create("primitives");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, password_hash_round_trip);
	tcase_add_test(tc, tokens_are_random_and_hashed);
	tcase_add_test(tc, authorization_header_parsing);
	suite_add_tcase(s, tc);
	return s;
}
