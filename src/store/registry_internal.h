/* SPDX-License-Identifier: Apache-2.0 */
/* registry_internal.h: registry steps other store modules run inside their own writer job (promotion's approve
 * performs the same transition as transition-stage). Included only under src/store/. */
#ifndef MLTRACKD_REGISTRY_INTERNAL_H
#define MLTRACKD_REGISTRY_INTERNAL_H

#include "mltrackd/buf.h"
#include "mltrackd/store_registry.h"
#include "store_internal.h"

/* An event payload under construction (docs/events.md): a JSON object written into its own buffer. */
struct registry_ev {
	struct buf b;
	struct jw w;
};

/* Closes e's payload and appends its outbox row on c, in the caller's transaction (the same as the change it
 * tells of); INVALID_PARAMETER_VALUE when the payload overflowed its buffer. Frees the buffer either way. */
enum mt_error registry_ev_emit(struct store_conn *c, const char *actor, const char *entity, const char *action,
                               struct registry_ev *e, struct mt_err *err);

/* Finds a live (not deleted) model version by model name and number: its mv_pk and, when stage is not NULL,
 * its current stage (copied into a). RESOURCE_DOES_NOT_EXIST, in MLflow's words, when there is none. */
enum mt_error registry_mv_find(struct store_conn *c, struct arena *a, const char *name, int64_t version,
                               int64_t *pk, const char **stage, struct mt_err *err);

/* transition-stage's writer step, on the caller's connection and transaction: moves the version, archives the
 * others when asked, writes model_version.stage_transitioned; *out is the version after the change. */
enum mt_error registry_transition_step(struct store_conn *c, const struct registry_ctx *x, const char *name,
                                       int64_t version, const char *stage, bool archive,
                                       struct mt_model_version *out, struct mt_err *err);

#endif
