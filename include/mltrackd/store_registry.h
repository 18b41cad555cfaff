/* SPDX-License-Identifier: Apache-2.0 */
/* store_registry.h: the model registry (registered models, versions, tags, aliases, stages) and its events
 * outbox. Every change is one writer job that also appends its event row, so a rejected change writes neither.
 * Validation of names, keys and stages is the API's job; results live in the caller's arena. */
#ifndef MLTRACKD_STORE_REGISTRY_H
#define MLTRACKD_STORE_REGISTRY_H

#include "mltrackd/arena.h"
#include "mltrackd/entities.h"
#include "mltrackd/search.h"
#include "mltrackd/store.h"

#define MT_PROMPT_TAG_KEY "mlflow.prompt.is_prompt"

struct mt_model_version {
	const char *name;
	int64_t version;
	int64_t creation_timestamp, last_updated_timestamp;
	const char *description; /* NULL: unset (omitted); "" is answered */
	const char *user_id;     /* NULL: omitted */
	const char *current_stage;
	const char *source, *run_id, *run_link, *status, *status_message;
	const char *storage_location; /* what get-download-uri answers; NULL -> source */
	const char *model_id;
	struct mt_tag *tags;
	size_t n_tags;
	const char **aliases; /* filled only by reads that answer aliases (get, by-alias, latest, writes) */
	size_t n_aliases;
};

struct mt_registered_model {
	const char *name;
	int64_t creation_timestamp, last_updated_timestamp;
	const char *description;
	struct mt_model_version *latest; /* the newest version of each stage, without aliases (as MLflow) */
	size_t n_latest;
	struct mt_tag *tags;
	size_t n_tags;
	struct mt_tag *aliases; /* key = alias, value = version (decimal) */
	size_t n_aliases;
};

/* The actor recorded on events: the authenticated user or NULL. */
struct registry_ctx {
	struct store *s;
	struct arena *a;
	const char *actor;
};

/* ---- registered models ---- */
/* Taken name -> RESOURCE_ALREADY_EXISTS. description NULL: stored as "" (the proto default). */
enum mt_error store_rm_create(const struct registry_ctx *x, const char *name, const char *description,
                              const struct mt_tag *tags, size_t n_tags, struct mt_registered_model *out,
                              struct mt_err *err);
/* Unknown -> RESOURCE_DOES_NOT_EXIST "Registered Model with name=... not found". */
enum mt_error store_rm_get(const struct registry_ctx *x, const char *name, struct mt_registered_model *out,
                           struct mt_err *err);
enum mt_error store_rm_rename(const struct registry_ctx *x, const char *name, const char *new_name,
                              struct mt_registered_model *out, struct mt_err *err);
/* description NULL -> "" (the reference stores the proto default). */
enum mt_error store_rm_update(const struct registry_ctx *x, const char *name, const char *description,
                              struct mt_registered_model *out, struct mt_err *err);
/* Deletes the model with its versions, tags and aliases, and its grants. */
enum mt_error store_rm_delete(const struct registry_ctx *x, const char *name, struct mt_err *err);
/* Upsert / delete (a missing tag is not an error, as MLflow). */
enum mt_error store_rm_set_tag(const struct registry_ctx *x, const char *name, const char *key, const char *value,
                               struct mt_err *err);
enum mt_error store_rm_delete_tag(const struct registry_ctx *x, const char *name, const char *key, struct mt_err *err);
/* stages: canonical names; n_stages 0 = every stage. Each with its aliases. */
enum mt_error store_rm_latest_versions(const struct registry_ctx *x, const char *name, const char *const *stages,
                                       size_t n_stages, struct mt_model_version **out, size_t *n, struct mt_err *err);

/* ---- aliases ---- */
/* The version must exist (RESOURCE_DOES_NOT_EXIST); an existing alias moves. */
enum mt_error store_alias_set(const struct registry_ctx *x, const char *name, const char *alias, int64_t version,
                              struct mt_err *err);
/* The model must exist; a missing alias is not an error. */
enum mt_error store_alias_delete(const struct registry_ctx *x, const char *name, const char *alias,
                                 struct mt_err *err);
/* Unknown alias -> INVALID_PARAMETER_VALUE (as MLflow); "latest" (any case) = the newest version. */
enum mt_error store_alias_get(const struct registry_ctx *x, const char *name, const char *alias,
                              struct mt_model_version *out, struct mt_err *err);

/* ---- model versions ---- */
struct store_mv_create {
	const char *name, *source, *run_id, *run_link, *description, *model_id;
	const char *storage_location; /* resolved by the caller for models:/ sources; NULL = source */
	const struct mt_tag *tags;
	size_t n_tags;
};
/* New version = 1 + the highest number the model ever had; status READY. Updates the model's timestamp;
 * with model_id, appends {name, version} to the logged model's mlflow.modelVersions tag. */
enum mt_error store_mv_create(const struct registry_ctx *x, const struct store_mv_create *in,
                              struct mt_model_version *out, struct mt_err *err);
/* Unknown (or deleted) -> RESOURCE_DOES_NOT_EXIST "Model Version (name=..., version=...) not found". */
enum mt_error store_mv_get(const struct registry_ctx *x, const char *name, int64_t version,
                           struct mt_model_version *out, struct mt_err *err);
/* description NULL: cleared (as the reference does when the field is absent). */
enum mt_error store_mv_update(const struct registry_ctx *x, const char *name, int64_t version,
                              const char *description, struct mt_model_version *out, struct mt_err *err);
/* stage canonical; archive moves the other versions in that stage to Archived. */
enum mt_error store_mv_transition(const struct registry_ctx *x, const char *name, int64_t version, const char *stage,
                                  bool archive, struct mt_model_version *out, struct mt_err *err);
/* Soft delete as MLflow (number never reused, fields redacted, aliases dropped). */
enum mt_error store_mv_delete(const struct registry_ctx *x, const char *name, int64_t version, struct mt_err *err);
enum mt_error store_mv_set_tag(const struct registry_ctx *x, const char *name, int64_t version, const char *key,
                               const char *value, struct mt_err *err);
enum mt_error store_mv_delete_tag(const struct registry_ctx *x, const char *name, int64_t version, const char *key,
                                  struct mt_err *err);

/* ---- search ---- */
struct registry_query {
	const struct search_filter *filter;
	const struct search_order *order;
	size_t n_order;
	int64_t offset, limit;
	/* The caller's readable models (the ACL's), applied inside the query so pages stay full: 0 every model,
	 * 1 only the names in acl_names, 2 all but them; acl_names is a JSON array of names. */
	int acl_mode;
	const char *acl_names;
};
enum mt_error store_rm_search(const struct registry_ctx *x, const struct registry_query *q,
                              struct mt_registered_model **out, size_t *n, bool *more, struct mt_err *err);
enum mt_error store_mv_search(const struct registry_ctx *x, const struct registry_query *q,
                              struct mt_model_version **out, size_t *n, bool *more, struct mt_err *err);

/* ---- the events outbox ---- */
struct mt_event {
	int64_t id;
	const char *entity, *action, *payload, *actor;
	int64_t created_at;
};
/* Events with id > after_id, oldest first, at most limit. */
enum mt_error store_events_list(const struct registry_ctx *x, int64_t after_id, int64_t limit, struct mt_event **out,
                                size_t *n, struct mt_err *err);

#endif
