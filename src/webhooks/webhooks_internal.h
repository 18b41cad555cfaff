/* SPDX-License-Identifier: Apache-2.0 */
/* webhooks_internal.h: one delivery attempt in flight (shared by deliver.c and dispatcher.c). Included only under
 * src/webhooks/. */
#ifndef MLTRACKD_WEBHOOKS_INTERNAL_H
#define MLTRACKD_WEBHOOKS_INTERNAL_H

#include <curl/curl.h>
#include <strings.h>

#include "mltrackd/buf.h"
#include "mltrackd/webhooks.h"

struct wh_xfer {
	struct arena *a;
	CURL *h;
	struct curl_slist *headers;
	char *body;
	size_t body_len;
	struct buf resp;
	int64_t retry_after_s;
	int64_t start_us;
	bool allow_private, refused;
	enum wh_addr_class refused_class;
	const char *setup_error;
	/* the dispatcher's bookkeeping */
	int64_t delivery_pk, webhook_pk, created_at;
	int attempts;
};

/* Builds the request (body with its envelope, headers, signatures) and a configured easy handle. false: setup_error
 * says why (nothing to send). */
bool wh_xfer_init(struct wh_xfer *x, const struct mt_server *srv, struct arena *a, const struct mt_webhook *wh,
                  const char *delivery_id, const char *event, const char *data);
void wh_xfer_finish(struct wh_xfer *x, int curl_code, struct wh_send_result *out);
void wh_xfer_free(struct wh_xfer *x);
/* curl_global_init, once per process (dispatcher.c). */
void wh_global_init(void);

#endif
