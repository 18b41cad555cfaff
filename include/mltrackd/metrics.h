/* SPDX-License-Identifier: Apache-2.0 */
/* metrics.h: process-wide counters and histograms, lock-free (relaxed atomics), rendered in the
 * Prometheus text exposition format 0.0.4 at GET /metrics. */
#ifndef MLTRACKD_METRICS_H
#define MLTRACKD_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "mltrackd/buf.h"

/* Sized from the route table; call once before serving. Idempotent. */
void metrics_init(void);
/* One finished request: route index in mt_routes (or -1 when no route matched), status, latency. */
void metrics_request(long route, int status, int64_t micros);
/* One writer transaction: jobs merged into it and the time it took to commit. */
void metrics_commit(size_t jobs, int64_t micros);
void metrics_in_flight(int delta);
void metrics_artifact_bytes(uint64_t in, uint64_t out);
/* Appends the exposition text. */
void metrics_render(struct buf *b);

#endif
