/* SPDX-License-Identifier: Apache-2.0 */
/* acl.c: authorisation of a matched route for the request's principal. Authentication is not configured
 * yet (the ACL issue adds users, tokens and grants), so every declared permission is granted; the
 * dispatcher already routes every request through here, and unknown permission values fail closed. */
#include "mltrackd/acl.h"
#include "mltrackd/route.h"

enum mt_error acl_authorize(struct mt_request *req, struct mt_err *err)
{
	const struct mt_route *r = req->route;
	if (r == NULL)
		return mt_fail(err, MT_PERMISSION_DENIED, "Permission denied");
	switch (r->perm) {
	case PERM_PUBLIC:
	case PERM_AUTHENTICATED:
	case PERM_READ:
	case PERM_EDIT:
	case PERM_MANAGE:
	case PERM_ADMIN:
		/* No authentication configured: the server runs open, as `mlflow server` does by default. */
		return MT_OK;
	}
	return mt_fail(err, MT_PERMISSION_DENIED, "Permission denied");
}
