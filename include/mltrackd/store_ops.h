/* SPDX-License-Identifier: Apache-2.0 */
/* store_ops.h: small read-only figures about the database for operations (GET /metrics gauges).
 * Nothing here writes or holds a transaction past the call. */
#ifndef MLTRACKD_STORE_OPS_H
#define MLTRACKD_STORE_OPS_H

#include <stdint.h>

#include "mltrackd/error.h"

struct store;

/* The newest event id in the registry events outbox (0 when empty). A monotonic counter of events written;
 * with the webhook dispatcher's delivered position it gives the outbox depth. */
enum mt_error store_outbox_last_event_id(struct store *s, int64_t *out, struct mt_err *err);

#endif
