/* SPDX-License-Identifier: Apache-2.0 */
/* webhooks.h: the webhook delivery engine (src/webhooks/, the only libcurl user): signatures, secret sealing,
 * the SSRF address policy, the event mapping for both APIs, synchronous test sends and the dispatcher thread.
 * It reads and writes the database only through store_webhooks.h. */
#ifndef MLTRACKD_WEBHOOKS_H
#define MLTRACKD_WEBHOOKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "mltrackd/arena.h"
#include "mltrackd/error.h"
#include "mltrackd/store_webhooks.h"

struct mt_config;
struct mt_server;

/* ---- signatures (sign.c) ---- */
/* MLflow: "v1," + base64(HMAC-SHA256(secret utf-8, "<id>.<ts>.<body>")). out: at least 64 bytes. */
void wh_sign_mlflow(const char *secret, const char *id, const char *ts, const char *body, size_t body_len,
                    char *out, size_t cap);
/* Standard Webhooks v1: as MLflow's, but a "whsec_" secret's key is its base64-decoded rest. */
void wh_sign_standard(const char *secret, const char *id, const char *ts, const char *body, size_t body_len,
                      char *out, size_t cap);
/* Databricks: lowercase hex of HMAC-SHA256(secret utf-8, body). out: at least 65 bytes. */
void wh_sign_databricks(const char *secret, const char *body, size_t body_len, char *out, size_t cap);

/* ---- secrets at rest (secret.c): AES-256-GCM under SHA-256(key) when a key is configured ---- */
/* "p:<plain>" without a key, "e:<base64(nonce|ct|tag)>" with one. Result in the arena. */
char *wh_secret_seal(struct arena *a, const char *key, const char *plain);
/* NULL when sealed with a key we do not have (or tampered). */
char *wh_secret_open(struct arena *a, const char *key, const char *sealed);

/* ---- SSRF policy (ssrf.c) ---- */
enum wh_addr_class {
	WH_ADDR_PUBLIC,
	WH_ADDR_LOOPBACK,
	WH_ADDR_PRIVATE,    /* RFC 1918, CGNAT 100.64/10, ULA fc00::/7 */
	WH_ADDR_LINK_LOCAL, /* 169.254/16, fe80::/10 (cloud metadata lives here) */
	WH_ADDR_METADATA,   /* 169.254.169.254, fd00:ec2::254, 100.100.100.200 */
	WH_ADDR_RESERVED,   /* unspecified, multicast, broadcast, 240/4, documentation... */
};
/* Classifies an address, decoding IPv4-mapped, IPv4-compatible, 6to4 and NAT64 (64:ff9b::/96) forms first. */
enum wh_addr_class wh_addr_classify(const struct sockaddr *sa);
/* Public always; loopback and private only with allow_private; link-local, metadata and reserved never. */
bool wh_addr_allowed(const struct sockaddr *sa, bool allow_private);
const char *wh_addr_class_name(enum wh_addr_class c);

/* Checks a webhook URL as MLflow does at create/update: scheme in the allowed list, a host, and (unless private
 * addresses are allowed) every address the host resolves to is allowed. INVALID_PARAMETER_VALUE otherwise. */
enum mt_error wh_validate_url(const struct mt_config *cfg, const char *url, struct mt_err *err);

/* ---- event mapping (map.c) ---- */
/* MLflow's valid "entity.action" names. */
bool wh_mlflow_event_valid(const char *entity, const char *action);
bool wh_databricks_event_valid(const char *event);
/* The fan-out mapper: which deliveries an outbox event makes for a webhook (store_webhook_fanout's callback). */
void wh_map_event(const struct mt_event *ev, const struct mt_webhook *wh, struct arena *a, webhook_emit_fn emit,
                  void *ectx);
/* MLflow's example `data` for a test delivery of entity.action (JSON text), NULL if unknown. */
const char *wh_mlflow_example(const char *entity, const char *action);
/* Databricks' test body for an event. */
char *wh_databricks_example(struct arena *a, const char *webhook_id, const char *event, const char *model_name);

/* ---- retry policy (deliver.c) ---- */
/* Delay before attempt number `attempts`+1 (attempts >= 1 made so far): base * 2^(attempts-1) capped at max_ms,
 * with jitter in [d/2, d]; a Retry-After (seconds, -1 none) wins when longer (capped at one hour). */
int64_t wh_backoff_ms(int attempts, int64_t base_ms, int64_t max_ms, int64_t retry_after_s, uint32_t rnd);
/* Whether an HTTP status is retried: 408, 425, 429, 5xx. */
bool wh_status_retried(int status);

/* ---- sending (deliver.c) ---- */
struct wh_send_result {
	int status;          /* 0: no HTTP answer */
	char *body;          /* capped response body (arena) */
	char *error;         /* NULL on an HTTP answer */
	int64_t latency_ms;
	int64_t retry_after_s; /* -1 none */
	bool refused;        /* the peer address was refused before connecting */
};
/* One synchronous attempt (test endpoints): the delivery's headers and signatures, no redirects, peer check. */
void wh_send_once(const struct mt_server *srv, struct arena *a, const struct mt_webhook *wh, const char *delivery_id,
                  const char *event, const char *body, struct wh_send_result *out);

/* ---- the dispatcher thread (dispatcher.c) ---- */
struct wh_dispatcher;
struct wh_dispatcher *wh_dispatcher_start(struct mt_server *srv);
void wh_dispatcher_stop(struct wh_dispatcher *d);
/* Wakes the dispatcher (after a webhook or registry change) so it does not wait for its poll interval. */
void wh_dispatcher_kick(struct wh_dispatcher *d);

#endif
