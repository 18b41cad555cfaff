/* SPDX-License-Identifier: Apache-2.0 */
/* api_internal.h: helpers shared by the API modules: entity serialisers and common request reads.
 * Included only under src/api/. */
#ifndef MLTRACKD_API_INTERNAL_H
#define MLTRACKD_API_INTERNAL_H

#include "mltrackd/api.h"
#include "mltrackd/buf.h"
#include "mltrackd/config.h"
#include "mltrackd/entities.h"
#include "mltrackd/json.h"

/* Writes an Experiment message as the value of the current key/array slot. */
void api_write_experiment(struct jw *w, const struct mt_experiment *e);
/* Writes "tags": [{key, value}...] (omitted when empty, as proto3 JSON omits empty repeated fields). */
void api_write_tags(struct jw *w, const char *field, const struct mt_tag *tags, size_t n);
/* Reads a repeated {key, value} list field; each key required. Values default to "". */
enum mt_error api_read_tags(struct mt_request *req, const char *field, struct mt_tag **out, size_t *n,
                            struct mt_err *err);

#endif
