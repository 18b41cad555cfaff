/* SPDX-License-Identifier: Apache-2.0 */
/* buf.h: a growable byte buffer with a mandatory size cap, and a streaming JSON writer on top of it.
 * Responses are written straight into one buffer (no cJSON tree) so large replies stay cheap. */
#ifndef MLTRACKD_BUF_H
#define MLTRACKD_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf {
	char *data;      /* NUL-terminated when len > 0 */
	size_t len, cap;
	size_t max;      /* appends past max set overflow and are dropped */
	bool overflow;
};

void buf_init(struct buf *b, size_t max);
void buf_free(struct buf *b);
void buf_reset(struct buf *b);
void buf_append(struct buf *b, const void *p, size_t n);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Detaches the data (caller frees with free()); the buffer is left empty. */
char *buf_steal(struct buf *b, size_t *len);

/* Writes d in the shortest form that parses back to the same double; NaN/Inf are not handled here. */
int mt_format_double(char *out, size_t cap, double d);

#define JW_MAX_DEPTH 32

struct jw {
	struct buf *b;
	int depth;
	bool first[JW_MAX_DEPTH];
	bool after_key;
};

void jw_init(struct jw *w, struct buf *b);
void jw_obj_open(struct jw *w);
void jw_obj_close(struct jw *w);
void jw_arr_open(struct jw *w);
void jw_arr_close(struct jw *w);
void jw_key(struct jw *w, const char *k);
void jw_str(struct jw *w, const char *s);
void jw_strn(struct jw *w, const char *s, size_t n);
void jw_int(struct jw *w, int64_t v);
/* A number as a JSON token into out (at least JSON_NUM_MAX bytes); NaN and infinities as MLflow writes them
 * ("NaN", "Infinity", "-Infinity", quoted). Return the length. */
#define JSON_NUM_MAX 48
size_t json_fmt_int(char *out, int64_t v);
size_t json_fmt_double(char *out, double v);
/* A complete JSON value already written (a separator is added as for any value). */
void jw_raw(struct jw *w, const char *json, size_t n);
/* Protobuf JSON: NaN and infinities travel as the strings "NaN", "Infinity", "-Infinity". */
void jw_double(struct jw *w, double v);
void jw_bool(struct jw *w, bool v);
void jw_null(struct jw *w);
/* Key + value in one call. */
void jw_kv_str(struct jw *w, const char *k, const char *v);
void jw_kv_int(struct jw *w, const char *k, int64_t v);
void jw_kv_double(struct jw *w, const char *k, double v);
void jw_kv_bool(struct jw *w, const char *k, bool v);
/* Skips the field when v is NULL (proto2 presence: unset fields are omitted). */
void jw_kv_str_opt(struct jw *w, const char *k, const char *v);
/* Appends s JSON-escaped (without quotes). */
void json_escape_into(struct buf *b, const char *s, size_t n);

#endif
