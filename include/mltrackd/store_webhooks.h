/* SPDX-License-Identifier: Apache-2.0 */
/* store_webhooks.h: webhook subscriptions (MLflow's and Databricks' APIs), the fan-out of outbox events into
 * durable deliveries, and the delivery log. No HTTP, no crypto: secrets arrive already sealed by src/webhooks/. */
#ifndef MLTRACKD_STORE_WEBHOOKS_H
#define MLTRACKD_STORE_WEBHOOKS_H

#include <stdbool.h>
#include <stdint.h>

#include "mltrackd/arena.h"
#include "mltrackd/error.h"
#include "mltrackd/store.h"
#include "mltrackd/store_registry.h"

enum webhook_kind { WH_KIND_ANY = 0, WH_KIND_MLFLOW = 1, WH_KIND_DATABRICKS = 2 };

struct mt_webhook {
	int64_t pk;
	const char *id;
	int kind;
	const char *name, *description, *url, *model_name, *status;
	const char *secret_sealed;        /* stored form (see migrations/0005); never answered */
	const char *authorization_sealed; /* Databricks' http_url_spec.authorization, sealed */
	bool ssl_verify;
	const char **events; /* in the order given */
	size_t n_events;
	int64_t creation_timestamp, last_updated_timestamp;
};

/* w->id, kind, url, status, events... filled by the caller; timestamps set here. */
enum mt_error store_webhook_create(struct store *s, struct mt_webhook *w, struct mt_err *err);
/* Unknown or deleted -> RESOURCE_DOES_NOT_EXIST "Webhook with ID <id> not found.". kind ANY matches both. */
enum mt_error store_webhook_get(struct store *s, struct arena *a, const char *id, int kind, struct mt_webhook *out,
                                struct mt_err *err);
/* Newest first (as MLflow), offset/limit paging; model_name (Databricks) filters when not NULL. */
enum mt_error store_webhook_list(struct store *s, struct arena *a, int kind, const char *model_name, int64_t offset,
                                 int64_t limit, struct mt_webhook **out, size_t *n, bool *more, struct mt_err *err);

/* NULL fields / ssl_verify < 0 / events NULL: unchanged. */
struct webhook_update {
	const char *id;
	int kind;
	const char *name, *description, *url, *secret_sealed, *authorization_sealed, *status;
	int ssl_verify;
	const char **events;
	size_t n_events;
};
enum mt_error store_webhook_update(struct store *s, struct arena *a, const struct webhook_update *u,
                                   struct mt_webhook *out, struct mt_err *err);
/* Soft delete; its pending deliveries are marked failed ("webhook deleted"). */
enum mt_error store_webhook_delete(struct store *s, const char *id, int kind, struct mt_err *err);

/* ---- fan-out: outbox events -> deliveries ---- */

/* Called for each (event, active webhook created before it); calls emit once per delivery to create. */
typedef void (*webhook_emit_fn)(void *ectx, const char *event, const char *body);
typedef void (*webhook_map_fn)(const struct mt_event *ev, const struct mt_webhook *wh, struct arena *a,
                               webhook_emit_fn emit, void *ectx);
/* One writer job: the events after the fan-out cursor (at most limit), their deliveries, the cursor moved.
 * *n_events: how many events were consumed. */
enum mt_error store_webhook_fanout(struct store *s, webhook_map_fn map, int64_t limit, size_t *n_events,
                                   size_t *n_deliveries, struct mt_err *err);
/* Pending deliveries plus events not yet fanned out; false when the read fails. */
bool store_webhook_outbox_depth(struct store *s, int64_t *depth);
/* Whether events wait for fan-out (cheap read). */
bool store_webhook_fanout_pending(struct store *s);

enum delivery_state { DELIVERY_PENDING = 0, DELIVERY_DELIVERED = 1, DELIVERY_FAILED = 2 };

struct mt_delivery {
	int64_t pk, webhook_pk, event_id;
	const char *delivery_id, *event, *body;
	int state, attempts;
	int64_t created_at, next_attempt_at, last_attempt_at, last_latency_ms, finished_at;
	int last_status; /* 0: none */
	const char *last_error;
	struct mt_webhook wh; /* filled by store_delivery_heads: id, kind, url, secrets, ssl_verify, status */
};
/* The oldest pending delivery of every webhook that is not deleted (per-webhook order). */
enum mt_error store_delivery_heads(struct store *s, struct arena *a, struct mt_delivery **out, size_t *n,
                                   struct mt_err *err);
/* The pending delivery of webhook_pk that follows after_pk, if it is due by now (0 or 1 row in *out). The dispatcher
 * calls it right after after_pk was delivered, before that result is recorded: after_pk is still pending in the
 * database, so the head query cannot serve this. */
enum mt_error store_delivery_next(struct store *s, struct arena *a, int64_t webhook_pk, int64_t after_pk, int64_t now,
                                  struct mt_delivery **out, size_t *n, struct mt_err *err);

struct delivery_result {
	int64_t pk;
	int state;               /* the new state */
	int64_t attempt_at, next_attempt_at;
	int status;              /* 0: no HTTP answer */
	int64_t latency_ms;
	const char *error;       /* NULL on success */
};
enum mt_error store_delivery_record(struct store *s, const struct delivery_result *r, size_t n, struct mt_err *err);

/* The delivery log of a webhook, newest first. */
enum mt_error store_delivery_list(struct store *s, struct arena *a, int64_t webhook_pk, int64_t offset, int64_t limit,
                                  struct mt_delivery **out, size_t *n, bool *more, struct mt_err *err);
/* Makes a delivery pending again, due now, with the same delivery id (its age counts from now). */
enum mt_error store_delivery_redeliver(struct store *s, int64_t webhook_pk, const char *delivery_id,
                                       struct mt_err *err);
/* Counts by state for a webhook (tests, metrics). */
enum mt_error store_delivery_counts(struct store *s, int64_t webhook_pk, int64_t counts[3], struct mt_err *err);

#endif
