/* SPDX-License-Identifier: Apache-2.0 */
/* suites.h: the Check suites of tests/unit, one per module, and the in-process test fixture. */
#ifndef MT_TEST_SUITES_H
#define MT_TEST_SUITES_H

#include <check.h>

#include "mltrackd/config.h"
#include "mltrackd/http.h"

Suite *util_suite(void);
Suite *dispatch_suite(void);
Suite *store_suite(void);
Suite *auth_suite(void);
Suite *acl_suite(void);
Suite *search_suite(void);
Suite *registry_suite(void);
Suite *promotion_suite(void);
Suite *artifacts_suite(void);
Suite *runs_suite(void);
Suite *metrics_suite(void);
Suite *ops_suite(void);
Suite *import_suite(void);
Suite *webhooks_suite(void);

/* A server on a fresh temporary database, driven through mt_dispatch without sockets. */
struct fixture {
	char dir[256];
	struct mt_config cfg;
	struct mt_server srv;
};
void fixture_setup(struct fixture *f);
void fixture_teardown(struct fixture *f);

/* Runs one request; returns the status, with the body in *body (static per call, valid until next). */
struct fx_response {
	int status;
	char *body;  /* heap, freed by the next fx_call */
	cJSON *json; /* parsed body or NULL */
};
struct fx_response *fx_call(struct fixture *f, enum mt_method m, const char *url, const char *body);
/* The Authorization header fx_call sends (NULL: none). */
extern const char *fx_auth_header;
/* The string at a dotted path in the last response JSON, e.g. "experiment.name". */
const char *fx_str(struct fx_response *r, const char *path);

#endif
