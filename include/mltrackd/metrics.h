/* SPDX-License-Identifier: Apache-2.0 */
/* metrics.h: process-wide counters and histograms, lock-free (relaxed atomics), rendered in the
 * Prometheus text exposition format 0.0.4 at GET /metrics. */
#ifndef MLTRACKD_METRICS_H
#define MLTRACKD_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mltrackd/buf.h"

struct mt_request;
struct mt_server;

/* Sized from the route table; call once before serving. Idempotent. */
void metrics_init(void);
/* One finished request (called once per request by the connection layer): its route template and API prefix
 * (req->route / req->url; unmatched when no route matched), status and latency from intake to the reply. */
void metrics_request(const struct mt_request *req, int status, int64_t micros);
/* One writer transaction: jobs merged into it and the time it took to commit. */
void metrics_commit(size_t jobs, int64_t micros);
void metrics_in_flight(int delta);
/* Write jobs queued for, or being committed by, the writer thread (store_write). */
void metrics_write_waiting(int delta);
void metrics_artifact_bytes(uint64_t in, uint64_t out);

/* Webhooks: the delivery side reports each attempt's outcome, and may register a function that returns the
 * outbox depth (events not yet delivered). Until one is registered /metrics exports only the outbox's newest
 * event id (mltrackd_events_outbox_last_id), which a dashboard can compare with delivered positions. */
enum metrics_delivery { METRICS_DELIVERY_SUCCESS, METRICS_DELIVERY_RETRY, METRICS_DELIVERY_FAILURE };
void metrics_webhook_delivery(enum metrics_delivery outcome);
/* fn(ctx, &depth) -> true when depth was read; called while rendering /metrics, so it must be quick. */
typedef bool (*metrics_gauge_fn)(void *ctx, int64_t *value);
void metrics_set_outbox_depth_fn(metrics_gauge_fn fn, void *ctx);

/* Appends the exposition text of the process-wide figures. */
void metrics_render(struct buf *b);
/* metrics_render plus the gauges read from the database (srv may be NULL: those are left out). */
void metrics_render_server(struct mt_server *srv, struct buf *b);

#endif
