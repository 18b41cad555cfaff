/* SPDX-License-Identifier: Apache-2.0 */
/* acl.h: the authorisation hook the dispatcher calls before every handler. It sees the route's declared
 * resource and permission; no handler can be reached without passing it. */
#ifndef MLTRACKD_ACL_H
#define MLTRACKD_ACL_H

#include "mltrackd/http.h"

/* MT_OK to proceed; MT_UNAUTHENTICATED or MT_PERMISSION_DENIED otherwise (err set). */
enum mt_error acl_authorize(struct mt_request *req, struct mt_err *err);

#endif
