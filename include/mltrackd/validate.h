/* SPDX-License-Identifier: Apache-2.0 */
/* validate.h: MLflow's input rules for names, lengths and ids (mlflow/utils/validation.py), with its
 * error messages, shared by every API module. */
#ifndef MLTRACKD_VALIDATE_H
#define MLTRACKD_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mltrackd/error.h"

#define MT_MAX_ENTITY_KEY_LENGTH 250
#define MT_MAX_PARAM_VAL_LENGTH 6000
#define MT_MAX_TAG_VAL_LENGTH 8000
#define MT_MAX_EXPERIMENT_NAME_LENGTH 500
#define MT_MAX_EXPERIMENT_TAG_KEY_LENGTH 250
#define MT_MAX_EXPERIMENT_TAG_VAL_LENGTH 20000
#define MT_MAX_PARAMS_TAGS_PER_BATCH 100
#define MT_MAX_METRICS_PER_BATCH 1000
#define MT_MAX_ENTITIES_PER_BATCH 1000

/* Number of Unicode code points in a UTF-8 string (Python's len()). */
size_t utf8_len(const char *s);
/* Byte length of the first `chars` code points of s (for truncation). */
size_t utf8_prefix_bytes(const char *s, size_t chars);

/* Param/metric/tag key rule: only [/\w.\- :], and must not normalise to another path
 * (no leading '/', no '..', no '.', no '//', no trailing '/'). `path` names the field in the message. */
enum mt_error validate_key_name(const char *path, const char *name, struct mt_err *err);
/* "'<entity>' exceeds the maximum length of N characters" when value has more than limit code points. */
enum mt_error validate_length(const char *entity, size_t limit, const char *value, struct mt_err *err);
enum mt_error validate_experiment_name(const char *name, struct mt_err *err);
/* A run id: ^[a-zA-Z0-9][\w\-]{0,255}$ */
bool valid_run_id(const char *s);
/* An experiment id as the SQL store knows them: a non-negative decimal integer. */
enum mt_error parse_experiment_id(const char *s, int64_t *out, struct mt_err *err);

#endif
