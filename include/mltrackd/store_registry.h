/* SPDX-License-Identifier: Apache-2.0 */
/* store_registry.h: registered models, model versions, tags, aliases and stage transitions. Every change
 * writes its event row (the webhook outbox) in the same transaction. Results live in the caller's arena. */
#ifndef MLTRACKD_STORE_REGISTRY_H
#define MLTRACKD_STORE_REGISTRY_H

#include "mltrackd/arena.h"
#include "mltrackd/entities.h"
#include "mltrackd/search.h"
#include "mltrackd/store.h"

struct mt_model_version {
	int64_t rm_pk; /* internal */
	const char *name;
	int64_t version;
	int64_t creation_timestamp, last_updated_timestamp;
	const char *description, *user_id, *current_stage, *source, *run_id, *run_link, *status, *status_message;
	const char *storage_location, *model_id;
	struct mt_tag *tags;
	size_t n_tags;
	const char **aliases;
	size_t n_aliases;
};

struct mt_registered_model {
	const char *name;
	int64_t creation_timestamp, last_updated_timestamp;
	const char *description;
	struct mt_tag *tags;
	size_t n_tags;
	struct mt_tag *aliases; /* key = alias, value = version */
	size_t n_aliases;
	struct mt_model_version *latest; /* latest version per stage */
	size_t n_latest;
};

enum mt_error reg_model_create(struct store *s, struct arena *a, const char *name, const char *description,
                               const struct mt_tag *tags, size_t n_tags, const char *actor,
                               struct mt_registered_model *out, struct mt_err *err);
enum mt_error reg_model_get(struct store *s, struct arena *a, const char *name, struct mt_registered_model *out,
                            struct mt_err *err);
enum mt_error reg_model_rename(struct store *s, const char *name, const char *new_name, const char *actor,
                               struct mt_err *err);
enum mt_error reg_model_update(struct store *s, const char *name, const char *description, const char *actor,
                               struct mt_err *err);
enum mt_error reg_model_delete(struct store *s, const char *name, const char *actor, struct mt_err *err);
/* value NULL deletes the tag (unknown -> RESOURCE_DOES_NOT_EXIST). */
enum mt_error reg_model_tag(struct store *s, const char *name, const char *key, const char *value, const char *actor,
                            struct mt_err *err);

struct reg_version_create {
	const char *name, *source, *run_id, *run_link, *description, *model_id, *storage_location, *user_id;
	const struct mt_tag *tags;
	size_t n_tags;
};
enum mt_error reg_version_create(struct store *s, struct arena *a, const struct reg_version_create *in,
                                 const char *actor, struct mt_model_version *out, struct mt_err *err);
enum mt_error reg_version_get(struct store *s, struct arena *a, const char *name, int64_t version,
                              struct mt_model_version *out, struct mt_err *err);
enum mt_error reg_version_update(struct store *s, const char *name, int64_t version, const char *description,
                                 const char *actor, struct mt_err *err);
enum mt_error reg_version_delete(struct store *s, const char *name, int64_t version, const char *actor,
                                 struct mt_err *err);
/* stage is canonical (None, Staging, Production, Archived). */
enum mt_error reg_version_transition(struct store *s, const char *name, int64_t version, const char *stage,
                                     bool archive_existing, const char *actor, struct mt_err *err);
enum mt_error reg_version_tag(struct store *s, const char *name, int64_t version, const char *key, const char *value,
                              const char *actor, struct mt_err *err);
enum mt_error reg_alias_set(struct store *s, const char *name, const char *alias, int64_t version, const char *actor,
                            struct mt_err *err);
enum mt_error reg_alias_delete(struct store *s, const char *name, const char *alias, const char *actor,
                               struct mt_err *err);
/* The version an alias points to; "latest" (any case) is the newest version. Unknown alias -> 400. */
enum mt_error reg_alias_get(struct store *s, struct arena *a, const char *name, const char *alias,
                            struct mt_model_version *out, struct mt_err *err);
/* Latest version per stage (all stages when n_stages == 0). */
enum mt_error reg_latest_versions(struct store *s, struct arena *a, const char *name, const char *const *stages,
                                  size_t n_stages, struct mt_model_version **out, size_t *n, struct mt_err *err);

struct reg_query {
	const struct search_filter *filter;
	const struct search_order *order;
	size_t n_order;
	int64_t offset, limit;
	bool include_prompts;
};
enum mt_error reg_models_search(struct store *s, struct arena *a, const struct reg_query *q,
                                struct mt_registered_model **out, size_t *n, bool *more, struct mt_err *err);
enum mt_error reg_versions_search(struct store *s, struct arena *a, const struct reg_query *q,
                                  struct mt_model_version **out, size_t *n, bool *more, struct mt_err *err);

#endif
