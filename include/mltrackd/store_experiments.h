/* SPDX-License-Identifier: Apache-2.0 */
/* store_experiments.h: experiments and their tags. Results are allocated in the caller's arena. */
#ifndef MLTRACKD_STORE_EXPERIMENTS_H
#define MLTRACKD_STORE_EXPERIMENTS_H

#include "mltrackd/arena.h"
#include "mltrackd/entities.h"
#include "mltrackd/store.h"

/* Creates the experiment; artifact_location NULL or "" places it at <artifact_root>/<id>.
 * A taken name (active or deleted) -> RESOURCE_ALREADY_EXISTS. */
enum mt_error store_experiment_create(struct store *s, const char *name, const char *artifact_location,
                                      const char *artifact_root, const struct mt_tag *tags, size_t n_tags,
                                      int64_t *id_out, struct mt_err *err);
/* Unknown id -> RESOURCE_DOES_NOT_EXIST. Deleted experiments are returned too. */
enum mt_error store_experiment_get(struct store *s, struct arena *a, int64_t id, struct mt_experiment *out,
                                   struct mt_err *err);
/* Unknown name -> RESOURCE_DOES_NOT_EXIST. */
enum mt_error store_experiment_get_by_name(struct store *s, struct arena *a, const char *name,
                                           struct mt_experiment *out, struct mt_err *err);
/* Soft-deletes an active experiment and marks all its runs deleted (unknown or already deleted ->
 * RESOURCE_DOES_NOT_EXIST), or restores a deleted one with its runs. */
enum mt_error store_experiment_delete(struct store *s, int64_t id, struct mt_err *err);
enum mt_error store_experiment_restore(struct store *s, int64_t id, struct mt_err *err);
/* Renames an active experiment (deleted -> INVALID_STATE; name taken -> RESOURCE_ALREADY_EXISTS). */
enum mt_error store_experiment_rename(struct store *s, int64_t id, const char *new_name, struct mt_err *err);
/* Upserts / deletes a tag of an active experiment (deleted -> INVALID_PARAMETER_VALUE; unknown tag on
 * delete -> RESOURCE_DOES_NOT_EXIST). */
enum mt_error store_experiment_set_tag(struct store *s, int64_t id, const char *key, const char *value,
                                       struct mt_err *err);
enum mt_error store_experiment_delete_tag(struct store *s, int64_t id, const char *key, struct mt_err *err);

/* Creates experiment 0 "Default" at <artifact_root>/0 if it does not exist. */
enum mt_error store_experiment_ensure_default(struct store *s, const char *artifact_root, struct mt_err *err);

#endif
