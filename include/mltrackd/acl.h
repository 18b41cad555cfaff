/* SPDX-License-Identifier: Apache-2.0 */
/* acl.h: the authorisation hook the dispatcher calls before every handler. It sees the route's declared
 * resource and permission; no handler can be reached without passing it. */
#ifndef MLTRACKD_ACL_H
#define MLTRACKD_ACL_H

#include <stdbool.h>
#include <stdint.h>

#include "mltrackd/http.h"

struct mt_route;

/* MT_OK to proceed; MT_UNAUTHENTICATED, MT_PERMISSION_DENIED or MT_REQUEST_LIMIT_EXCEEDED otherwise (err
 * set). Fills the request's principal. */
enum mt_error acl_authorize(struct mt_request *req, struct mt_err *err);
/* After a handler succeeded: the creator of an experiment or registered model gets MANAGE on it. */
void acl_after_success(struct mt_request *req);
/* Any change to users, passwords, admin flags or tokens: every cached credential is re-verified. */
void acl_invalidate_credentials(void);
/* Checks the route table (every route declares a permission the ACL can enforce), then creates the first
 * admin when authentication is on and there are no users (password of at least 12 characters). */
enum mt_error acl_bootstrap(struct mt_server *srv, struct mt_err *err);
/* The route-table check alone: a route with PERM_PUBLIC that is not on the public list, an unknown
 * permission, or a resource permission without a resource to check it on fails it. */
enum mt_error acl_check_routes(const struct mt_route *routes, size_t n, struct mt_err *err);
/* Forgets failed-login counters (tests). */
void acl_reset_rate_limits(void);

/* Permission levels, ordered. DENY is a veto; the two promotion levels are the registry's (Databricks)
 * between EDIT and MANAGE, grantable on registered models only. */
enum acl_level {
	ACL_DENY = -1,
	ACL_NONE = 0,
	ACL_READ = 1,
	ACL_USE = 2,
	ACL_EDIT = 3,
	ACL_MANAGE_STAGING = 4,
	ACL_MANAGE_PRODUCTION = 5,
	ACL_MANAGE = 6,
};
#define ACL_INVALID (-2)
/* READ, USE, EDIT, MANAGE, NO_PERMISSIONS, DENY, MANAGE_STAGING_VERSIONS, MANAGE_PRODUCTION_VERSIONS;
 * ACL_INVALID for anything else. */
int acl_level_parse(const char *name);
const char *acl_level_name(enum acl_level l);
/* The effective level of the request's principal on (resource_type, resource_id): its grants through any
 * role (DENY wins within a key, else the highest), floored at the default permission; the default when it
 * holds none. Admins: MANAGE. */
enum acl_level acl_level_for(struct mt_request *req, const char *resource_type, const char *resource_id);
/* As acl_level_for, for another user. */
enum acl_level acl_level_of_user(struct mt_request *req, int64_t user_id, bool is_admin, const char *resource_type,
                                 const char *resource_id);
/* Whether the principal may move model version `name`/`version` to `to_stage` (server's promotion rule). */
bool acl_can_transition(struct mt_request *req, const char *name, const char *version, const char *to_stage);

/* MLflow 3.17's grant checks, with its messages: a known resource type; a pattern the type's grain allows
 * (an exact id only on experiment, registered_model and the other top-level types, else '*'); a permission
 * grantable on the type (workspace: USE or MANAGE; resources: READ, USE, EDIT, MANAGE, DENY, plus the
 * registry's MANAGE_STAGING_VERSIONS and MANAGE_PRODUCTION_VERSIONS on registered models). */
enum mt_error acl_validate_type(const char *type, struct mt_err *err);
enum mt_error acl_validate_pattern(const char *type, const char *pattern, struct mt_err *err);
enum mt_error acl_validate_permission(const char *perm, const char *type, struct mt_err *err);

/* Experiments a search may return: ACL_ALL, only `ids`, or all except `ids` (ids in the arena). */
enum acl_filter_mode { ACL_FILTER_ALL, ACL_FILTER_ONLY, ACL_FILTER_EXCEPT };
enum mt_error acl_readable_experiments(struct mt_request *req, enum acl_filter_mode *mode, int64_t **ids, size_t *n,
                                       struct mt_err *err);

/* Whether a search may return what experiment `experiment_id` holds: READ on it and on the tier the route
 * searches (runs, or logged models for logged-models routes), the tier falling back to the experiment. */
bool acl_can_search_in(struct mt_request *req, const char *experiment_id);

/* Registered models a registry search may return (names as a JSON array in the arena); with versions, a
 * denied or unreadable registered_model_version tier hides every model's versions it governs. */
enum mt_error acl_readable_models(struct mt_request *req, bool versions, enum acl_filter_mode *mode,
                                  const char **names_json, struct mt_err *err);

#endif
