/* SPDX-License-Identifier: Apache-2.0 */
/* buf.c: capped growable buffer and the streaming JSON writer used for every response body.
 * Must stay free of HTTP and SQL knowledge. */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mltrackd/buf.h"
#include "mltrackd/util.h"

void buf_init(struct buf *b, size_t max)
{
	b->data = NULL;
	b->len = b->cap = 0;
	b->max = max;
	b->overflow = false;
}

void buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	b->overflow = false;
	if (b->data)
		b->data[0] = '\0';
}

static bool reserve(struct buf *b, size_t n)
{
	if (b->overflow)
		return false;
	if (n > b->max || b->len + n > b->max) {
		b->overflow = true;
		return false;
	}
	size_t need = b->len + n + 1;
	if (need <= b->cap)
		return true;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap *= 2;
	b->data = xrealloc(b->data, cap);
	b->cap = cap;
	return true;
}

void buf_append(struct buf *b, const void *p, size_t n)
{
	if (!reserve(b, n))
		return;
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void buf_puts(struct buf *b, const char *s) { buf_append(b, s, strlen(s)); }

void buf_putc(struct buf *b, char c)
{
	if (!b->overflow && b->len + 2 <= b->cap && b->len + 1 <= b->max) { /* the common case: room already */
		b->data[b->len++] = c;
		b->data[b->len] = '\0';
		return;
	}
	buf_append(b, &c, 1);
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
	char small[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof small) {
		buf_append(b, small, (size_t)n);
		return;
	}
	if (!reserve(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

char *buf_steal(struct buf *b, size_t *len)
{
	char *p = b->data;
	if (len)
		*len = b->len;
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

/* ---- JSON writer ---- */

void jw_init(struct jw *w, struct buf *b)
{
	w->b = b;
	w->depth = 0;
	w->first[0] = true;
	w->after_key = false;
}

static void sep(struct jw *w)
{
	if (w->after_key) {
		w->after_key = false;
		return;
	}
	if (!w->first[w->depth])
		buf_putc(w->b, ',');
	w->first[w->depth] = false;
}

static void open(struct jw *w, char c)
{
	sep(w);
	buf_putc(w->b, c);
	if (w->depth + 1 < JW_MAX_DEPTH)
		w->depth++;
	w->first[w->depth] = true;
}

static void close_(struct jw *w, char c)
{
	buf_putc(w->b, c);
	if (w->depth > 0)
		w->depth--;
}

void jw_obj_open(struct jw *w) { open(w, '{'); }
void jw_obj_close(struct jw *w) { close_(w, '}'); }
void jw_arr_open(struct jw *w) { open(w, '['); }
void jw_arr_close(struct jw *w) { close_(w, ']'); }

void json_escape_into(struct buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t start = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		if (i > start)
			buf_append(b, s + start, i - start);
		start = i + 1;
		switch (c) {
		case '"': buf_append(b, "\\\"", 2); break;
		case '\\': buf_append(b, "\\\\", 2); break;
		case '\n': buf_append(b, "\\n", 2); break;
		case '\r': buf_append(b, "\\r", 2); break;
		case '\t': buf_append(b, "\\t", 2); break;
		case '\b': buf_append(b, "\\b", 2); break;
		case '\f': buf_append(b, "\\f", 2); break;
		default: {
			char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
			buf_append(b, u, 6);
		}
		}
	}
	if (n > start)
		buf_append(b, s + start, n - start);
}

/* Whether s needs no JSON escaping (object keys almost never do). */
static bool plain_json(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == '"' || c == '\\')
			return false;
	}
	return true;
}

void jw_key(struct jw *w, const char *k)
{
	sep(w);
	size_t n = strlen(k);
	if (plain_json(k, n) && reserve(w->b, n + 3)) { /* "key": in one copy */
		char *p = w->b->data + w->b->len;
		p[0] = '"';
		memcpy(p + 1, k, n);
		p[n + 1] = '"';
		p[n + 2] = ':';
		w->b->len += n + 3;
		w->b->data[w->b->len] = '\0';
	} else {
		buf_putc(w->b, '"');
		json_escape_into(w->b, k, n);
		buf_append(w->b, "\":", 2);
	}
	w->after_key = true;
}

void jw_strn(struct jw *w, const char *s, size_t n)
{
	sep(w);
	buf_putc(w->b, '"');
	json_escape_into(w->b, s, n);
	buf_putc(w->b, '"');
}

void jw_str(struct jw *w, const char *s) { jw_strn(w, s ? s : "", s ? strlen(s) : 0); }

size_t json_fmt_int(char *out, int64_t v)
{
	char tmp[24], *end = tmp + sizeof tmp, *p = end;
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v; /* INT64_MIN too */
	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*--p = '-';
	size_t n = (size_t)(end - p);
	memcpy(out, p, n);
	out[n] = '\0';
	return n;
}

size_t json_fmt_double(char *out, double v)
{
	if (isnan(v) || isinf(v)) { /* MLflow's JSON: quoted */
		const char *s = isnan(v) ? "\"NaN\"" : v > 0 ? "\"Infinity\"" : "\"-Infinity\"";
		size_t n = strlen(s);
		memcpy(out, s, n + 1);
		return n;
	}
	return (size_t)mt_format_double(out, JSON_NUM_MAX, v);
}

void jw_int(struct jw *w, int64_t v)
{
	char tmp[JSON_NUM_MAX];
	size_t n = json_fmt_int(tmp, v);
	sep(w);
	buf_append(w->b, tmp, n);
}

void jw_double(struct jw *w, double v)
{
	char tmp[JSON_NUM_MAX];
	size_t n = json_fmt_double(tmp, v);
	sep(w);
	buf_append(w->b, tmp, n);
}

void jw_raw(struct jw *w, const char *json, size_t n)
{
	sep(w);
	buf_append(w->b, json, n);
}

void jw_bool(struct jw *w, bool v)
{
	sep(w);
	buf_puts(w->b, v ? "true" : "false");
}

void jw_null(struct jw *w)
{
	sep(w);
	buf_puts(w->b, "null");
}

void jw_kv_str(struct jw *w, const char *k, const char *v) { jw_key(w, k); jw_str(w, v); }
void jw_kv_int(struct jw *w, const char *k, int64_t v) { jw_key(w, k); jw_int(w, v); }
void jw_kv_double(struct jw *w, const char *k, double v) { jw_key(w, k); jw_double(w, v); }
void jw_kv_bool(struct jw *w, const char *k, bool v) { jw_key(w, k); jw_bool(w, v); }
void jw_kv_str_opt(struct jw *w, const char *k, const char *v)
{
	if (v)
		jw_kv_str(w, k, v);
}
