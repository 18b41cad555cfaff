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

/* Run serialisers: RunInfo (as the value of the current slot) and Run {info, data, inputs, outputs}. */
void api_write_run_info(struct jw *w, const struct mt_run_info *i);
void api_write_run(struct jw *w, const struct mt_run *r);
/* with_outputs = false leaves out "outputs" (MLflow's runs/create answer). */
void api_write_run_opts(struct jw *w, const struct mt_run *r, bool with_outputs);
void api_write_metric(struct jw *w, const struct mt_metric *m, bool with_run_id);
/* n points of metric key (a run's history) as api_write_metric writes them, faster. */
void api_write_history(struct jw *w, struct arena *a, const char *key, const struct mt_metric *pts, size_t n);

/* Page tokens: search_page_token_encode/decode in mltrackd/search.h (one implementation, in src/search/). */

/* Param and run-tag rules (name, key length, value truncation); `path` names the key field in messages. */
enum mt_error api_validate_param(struct mt_tag *p, const char *path, struct arena *a, struct mt_err *err);
enum mt_error api_validate_run_tag(struct mt_tag *t, const char *path, struct arena *a, struct mt_err *err);

/* Parses experiment_ids (strings holding integer ids) for a search, dropping, when authentication is on,
 * those the caller may not read (the search's results are thereby filtered inside the query). */
enum mt_error api_read_readable_experiments(struct mt_request *req, const cJSON *ids, int64_t **out, size_t *n,
                                            struct mt_err *err);

/* Reads run_id (falling back to the legacy run_uuid), required. */
enum mt_error api_read_run_id(struct mt_request *req, const char **run_id, struct mt_err *err);

/* ---- the registry (src/api/registered_models.c) ---- */
struct mt_model_version;
struct mt_registered_model;
struct registry_query;
#include "mltrackd/search.h"
#include "mltrackd/store_registry.h"
void api_write_model_version(struct jw *w, const struct mt_model_version *v);
void api_write_registered_model(struct jw *w, const struct mt_registered_model *m);
struct registry_ctx api_registry_ctx(struct mt_request *req);
/* MLflow's model-name rule (non-blank, no '/' or ':', not "." or ".."); `field` names it in messages. */
enum mt_error api_validate_model_name(const char *field, const char *name, struct mt_err *err);
enum mt_error api_read_model_name(struct mt_request *req, const char *field, const char **name, struct mt_err *err);
/* A version as Python's int() reads it ("Parameter 'version' must be an integer, got '...'."). */
enum mt_error api_parse_version(const char *s, int64_t *out, struct mt_err *err);
enum mt_error api_read_version(struct mt_request *req, int64_t *version, struct mt_err *err);
/* None/Staging/Production/Archived, case-insensitively. */
enum mt_error api_canonical_stage(struct arena *a, const char *stage, const char **out, struct mt_err *err);
enum mt_error api_validate_registry_tag(const char *key, const char *value, struct mt_err *err);
/* filter, max_results (MLflow's default and cap per kind), order_by, page_token. */
enum mt_error api_registry_read_search(struct mt_request *req, enum search_kind kind, struct registry_query *q,
                                       struct mt_err *err);

#endif
