/* SPDX-License-Identifier: Apache-2.0 */
/* check_main.c: runs every Check suite of tests/unit. A suite is added here by name. */
#include <check.h>
#include <stdlib.h>

#include "mltrackd/util.h"
#include "suites.h"

int main(void)
{
	mt_log_set_level(MT_LOG_ERROR);
	SRunner *sr = srunner_create(util_suite());
	srunner_add_suite(sr, dispatch_suite());
	srunner_add_suite(sr, store_suite());
	srunner_add_suite(sr, auth_suite());
	srunner_add_suite(sr, acl_suite());
	srunner_add_suite(sr, search_suite());
	srunner_add_suite(sr, registry_suite());
	srunner_add_suite(sr, promotion_suite());
	srunner_add_suite(sr, artifacts_suite());
	srunner_add_suite(sr, runs_suite());
	srunner_add_suite(sr, metrics_suite());
	srunner_add_suite(sr, ops_suite());
	srunner_add_suite(sr, import_suite());
	srunner_add_suite(sr, webhooks_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
