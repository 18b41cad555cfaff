/* SPDX-License-Identifier: Apache-2.0 */
/* response.c: building responses: JSON bodies through the streaming writer, MLflow error bodies, text.
 * Independent of libmicrohttpd. */
#include <string.h>
#include <unistd.h>

#include "mltrackd/http.h"

void mt_response_init(struct mt_response *resp)
{
	memset(resp, 0, sizeof *resp);
	resp->status = 200;
	resp->fd = -1;
	buf_init(&resp->body, MT_MAX_RESPONSE);
}

void mt_response_free(struct mt_response *resp) { buf_free(&resp->body); }

struct jw *http_reply_json(struct mt_request *req, struct mt_response *resp)
{
	struct jw *w = arena_alloc(req->arena, sizeof *w);
	resp->status = 200;
	resp->content_type = "application/json";
	buf_reset(&resp->body);
	jw_init(w, &resp->body);
	jw_obj_open(w);
	return w;
}

void http_reply_json_end(struct jw *w) { jw_obj_close(w); }

void http_reply_empty(struct mt_response *resp)
{
	resp->status = 200;
	resp->content_type = "application/json";
	buf_reset(&resp->body);
	buf_puts(&resp->body, "{}");
}

void http_reply_text(struct mt_response *resp, int status, const char *content_type, const char *text)
{
	resp->status = status;
	resp->content_type = content_type;
	buf_reset(&resp->body);
	buf_puts(&resp->body, text);
}

void http_reply_error(struct mt_response *resp, enum mt_error code, const char *message)
{
	struct jw w;
	if (resp->fd >= 0) {
		/* An error after a file was opened: the file is not sent. */
		close(resp->fd);
		resp->fd = -1;
	}
	resp->status = mt_error_http_status(code);
	resp->content_type = "application/json";
	resp->error = code;
	buf_reset(&resp->body);
	jw_init(&w, &resp->body);
	jw_obj_open(&w);
	jw_kv_str(&w, "error_code", mt_error_name(code));
	jw_kv_str(&w, "message", message && message[0] ? message : mt_error_name(code));
	jw_obj_close(&w);
}

void http_add_header(struct mt_response *resp, struct arena *a, const char *name, const char *value)
{
	if (resp->n_headers >= MT_MAX_RESP_HEADERS)
		return;
	resp->headers[resp->n_headers].name = arena_strdup(a, name);
	resp->headers[resp->n_headers].value = arena_strdup(a, value);
	resp->n_headers++;
}
