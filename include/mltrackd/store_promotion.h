/* SPDX-License-Identifier: Apache-2.0 */
/* store_promotion.h: governed promotion on model versions (Databricks' transition requests, comments and the
 * activity log). Each change is one writer job with its outbox event; who may do it is decided by the API. */
#ifndef MLTRACKD_STORE_PROMOTION_H
#define MLTRACKD_STORE_PROMOTION_H

#include "mltrackd/store_registry.h"

/* Databricks' Activity (also the shape of a listed transition request and of a comment). NULL fields: omitted. */
struct mt_activity {
	const char *id;            /* 32 hex */
	const char *activity_type; /* REQUESTED_TRANSITION, APPROVED_REQUEST, ..., NEW_COMMENT */
	const char *from_stage, *to_stage;
	const char *comment, *system_comment;
	const char *user_id; /* NULL with auth off */
	int64_t creation_timestamp, last_updated_timestamp;
};

enum tr_resolution { TR_APPROVE, TR_REJECT, TR_CANCEL };

/* transition-stage, recorded: store_mv_transition's change and event, plus an APPLIED_TRANSITION activity (with
 * the optional comment) and a SYSTEM_TRANSITION activity on each version archive moved to Archived. */
enum mt_error store_mv_transition_recorded(const struct registry_ctx *x, const char *name, int64_t version,
                                           const char *stage, bool archive, const char *comment,
                                           struct mt_model_version *out, struct mt_err *err);

/* Opens a request to move name/version to `stage` (canonical). The version must exist; the same creator asking
 * again for the same stage while a request is open -> RESOURCE_ALREADY_EXISTS. Event transition_request.created. */
enum mt_error store_tr_create(const struct registry_ctx *x, const char *name, int64_t version, const char *stage,
                              const char *comment, struct mt_activity *out, struct mt_err *err);
/* The open requests of a version, oldest first. */
enum mt_error store_tr_list(const struct registry_ctx *x, const char *name, int64_t version, struct mt_activity **out,
                            size_t *n, struct mt_err *err);
/* Closes the open requests to `stage`: every one for approve/reject, only `creator`'s for cancel (creator NULL
 * matches a request made with auth off). None open -> RESOURCE_DOES_NOT_EXIST. Approve also transitions the
 * version (archive: the others in that stage go to Archived, each with a SYSTEM_TRANSITION activity) and writes
 * model_version.stage_transitioned.
 * One transition_request.<approved|rejected|deleted> event per closed request; *out is the actor's activity. */
struct tr_resolve {
	const char *name;
	int64_t version;
	const char *stage, *comment, *creator;
	enum tr_resolution what;
	bool archive;
};
enum mt_error store_tr_resolve(const struct registry_ctx *x, const struct tr_resolve *in, struct mt_activity *out,
                               struct mt_err *err);

/* Comments: NEW_COMMENT activities. Unknown id (or its version deleted) -> RESOURCE_DOES_NOT_EXIST. */
enum mt_error store_comment_create(const struct registry_ctx *x, const char *name, int64_t version,
                                   const char *comment, struct mt_activity *out, struct mt_err *err);
/* The comment with the name of its model (for permission checks). */
enum mt_error store_comment_get(const struct registry_ctx *x, const char *id, struct mt_activity *out,
                                const char **model_name, struct mt_err *err);
enum mt_error store_comment_update(const struct registry_ctx *x, const char *id, const char *comment,
                                   struct mt_activity *out, struct mt_err *err);
enum mt_error store_comment_delete(const struct registry_ctx *x, const char *id, struct mt_err *err);

/* Every activity of a version (requests, resolutions, comments), oldest first. */
enum mt_error store_activities_list(const struct registry_ctx *x, const char *name, int64_t version,
                                    struct mt_activity **out, size_t *n, struct mt_err *err);

#endif
