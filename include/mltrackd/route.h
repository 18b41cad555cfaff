/* SPDX-License-Identifier: Apache-2.0 */
/* route.h: the declarative route table: method + path pattern -> handler, the resource it touches and the
 * permission it needs. Reading src/http/routes.c tells the whole API. */
#ifndef MLTRACKD_ROUTE_H
#define MLTRACKD_ROUTE_H

#include "mltrackd/http.h"

typedef enum mt_error (*mt_handler)(struct mt_request *req, struct mt_response *resp, struct mt_err *err);

/* What a route touches; the ACL resolves it to the object whose grants apply. */
enum mt_resource {
	RES_SERVER,           /* no object: health, version, server-info */
	RES_EXPERIMENT,       /* experiment id in res_field */
	RES_EXPERIMENT_NAME,  /* experiment name in res_field */
	RES_EXPERIMENT_NEW,   /* creates an experiment */
	RES_EXPERIMENT_LIST,  /* search: results filtered to readable experiments */
	RES_RUN,              /* run id in res_field -> its experiment */
	RES_RUN_LIST,         /* several run ids in res_field */
	RES_LOGGED_MODEL,
	RES_REGISTERED_MODEL,
	RES_MODEL_VERSION,
	RES_ARTIFACT,
	RES_WEBHOOK,
	RES_USER,
	RES_GRANT_TARGET,     /* the resource named by resource_type + resource_id of a grant request */
	RES_ROLE,             /* roles and role assignments (MLflow 3.17 RBAC) */
};

/* Ordered: a principal holding one level holds all below it (MLflow READ < EDIT < MANAGE). */
enum mt_perm {
	PERM_PUBLIC,        /* no authentication at all: /health, /version */
	PERM_AUTHENTICATED, /* any authenticated principal */
	PERM_READ,
	PERM_USE,           /* MLflow's USE: READ plus use (no route of ours needs more than READ for it yet) */
	PERM_EDIT,
	PERM_MANAGE,
	PERM_ADMIN,
};

enum mt_route_flags {
	ROUTE_V2 = 1 << 0,        /* served at /api/2.0 and /ajax-api/2.0 */
	ROUTE_V3 = 1 << 1,        /* served at /api/3.0 and /ajax-api/3.0 */
	ROUTE_AJAX_ONLY = 1 << 2, /* only under /ajax-api/ */
	ROUTE_ROOT = 1 << 3,      /* no prefix: /health, /version */
	ROUTE_RAW_BODY = 1 << 4,  /* body is not JSON (uploads) */
	ROUTE_STREAM_BODY = 1 << 5, /* body streamed to an upload sink as it arrives, after authorisation */
	ROUTE_QUERY_DELETE = 1 << 6, /* a DELETE without a body reads its message from the query (Databricks' SDKs) */
};

struct mt_route {
	unsigned methods;      /* enum mt_method bits */
	const char *pattern;   /* "/mlflow/runs/get", "/mlflow/logged-models/{model_id}", "{path...}" = rest */
	mt_handler handler;    /* NULL: declared, not implemented yet -> 501 NOT_IMPLEMENTED */
	enum mt_resource res;
	const char *res_field; /* where the resource id lives: request field name, or "{name}" path param */
	enum mt_perm perm;
	unsigned flags;
};

extern const struct mt_route mt_routes[];
extern const size_t mt_routes_count;

#endif
