/* SPDX-License-Identifier: Apache-2.0 */
/* acl.h: the authorisation hook the dispatcher calls before every handler. It sees the route's declared
 * resource and permission; no handler can be reached without passing it. */
#ifndef MLTRACKD_ACL_H
#define MLTRACKD_ACL_H

#include "mltrackd/http.h"

/* MT_OK to proceed; MT_UNAUTHENTICATED or MT_PERMISSION_DENIED otherwise (err set). Fills the
 * request's principal. */
enum mt_error acl_authorize(struct mt_request *req, struct mt_err *err);
/* After a handler succeeded: the creator of an experiment or registered model gets MANAGE on it. */
void acl_after_success(struct mt_request *req);
/* Any change to users, passwords, admin flags or tokens: every cached credential is re-verified. */
void acl_invalidate_credentials(void);
/* Creates the first admin when authentication is on and there are no users (needs a password of at
 * least 12 characters from the configuration). */
enum mt_error acl_bootstrap(struct mt_server *srv, struct mt_err *err);

/* Permission levels, ordered; DENY is stored as a grant and resolves to NONE. */
enum acl_level { ACL_NONE = 0, ACL_READ = 1, ACL_USE = 2, ACL_EDIT = 3, ACL_MANAGE = 4 };
/* Parses READ, USE, EDIT, MANAGE, NO_PERMISSIONS, DENY; -1 for anything else. */
int acl_level_parse(const char *name);
/* The effective level of the request's principal on an experiment (decimal id) or registered model. */
enum acl_level acl_level_for(struct mt_request *req, const char *resource_type, const char *resource_id);

#endif
