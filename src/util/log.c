/* SPDX-License-Identifier: Apache-2.0 */
/* log.c: structured log lines (JSON, logfmt, or the human text format): timestamp, level, message and typed
 * fields, escaped so a value can never break the line. Knows nothing of HTTP; callers choose the fields. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "mltrackd/log.h"

#define MAX_VALUE 1024 /* bytes of one string value kept in a line */

static enum mt_log_format log_format = MT_LOG_TEXT;
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

bool mt_log_parse_format(const char *s, enum mt_log_format *out)
{
	if (!s)
		return false;
	if (strcmp(s, "text") == 0)
		*out = MT_LOG_TEXT;
	else if (strcmp(s, "json") == 0)
		*out = MT_LOG_JSON;
	else if (strcmp(s, "logfmt") == 0)
		*out = MT_LOG_LOGFMT;
	else
		return false;
	return true;
}

void mt_log_set_format(enum mt_log_format f) { log_format = f; }
enum mt_log_format mt_log_get_format(void) { return log_format; }

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 when invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len;
	unsigned min;
	unsigned cp;
	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0) {
		len = 2, min = 0x80, cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3, min = 0x800, cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4, min = 0x10000, cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* Escapes s for a double-quoted JSON or logfmt string (the same rules serve both). */
static void put_escaped(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);
	bool cut = n > MAX_VALUE;
	if (cut)
		n = MAX_VALUE;
	for (size_t i = 0; i < n;) {
		unsigned char c = p[i];
		if (c >= 0x80) {
			size_t l = utf8_len(p + i, n - i);
			if (l == 0) {
				buf_puts(b, "\\ufffd");
				i++;
			} else {
				buf_append(b, p + i, l);
				i += l;
			}
			continue;
		}
		switch (c) {
		case '"': buf_puts(b, "\\\""); break;
		case '\\': buf_puts(b, "\\\\"); break;
		case '\n': buf_puts(b, "\\n"); break;
		case '\r': buf_puts(b, "\\r"); break;
		case '\t': buf_puts(b, "\\t"); break;
		default:
			if (c < 0x20 || c == 0x7f) {
				char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
				buf_append(b, u, 6);
			} else {
				buf_putc(b, (char)c);
			}
		}
		i++;
	}
	if (cut)
		buf_puts(b, "...");
}

/* logfmt leaves a value bare when it has no space, quote, '=' or control byte and is not empty. */
static bool logfmt_bare(const char *s)
{
	if (!*s || strlen(s) > MAX_VALUE)
		return false;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p <= ' ' || *p == '"' || *p == '=' || *p == '\\' || *p >= 0x7f)
			return false;
	return true;
}

static void put_value(struct buf *b, enum mt_log_format f, const struct mt_log_field *x)
{
	switch (x->type) {
	case MT_LF_STR:
		if (f == MT_LOG_JSON || !logfmt_bare(x->s)) {
			buf_putc(b, '"');
			put_escaped(b, x->s);
			buf_putc(b, '"');
		} else {
			buf_puts(b, x->s);
		}
		break;
	case MT_LF_INT: buf_printf(b, "%lld", (long long)x->i); break;
	case MT_LF_NUM:
		if (isfinite(x->d))
			buf_printf(b, "%.3f", x->d);
		else
			buf_puts(b, f == MT_LOG_JSON ? "null" : "NaN");
		break;
	case MT_LF_BOOL: buf_puts(b, x->i ? "true" : "false"); break;
	}
}

void mt_log_format_line(struct buf *b, enum mt_log_format f, enum mt_log_level lvl, const char *msg,
                        const struct mt_log_field *fields, size_t n)
{
	static const char *lvls[] = {"debug", "info", "warn", "error"};
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	char when[96];
	snprintf(when, sizeof when, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
	         tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
	const char *lv = lvls[lvl <= MT_LOG_ERROR ? lvl : MT_LOG_ERROR];
	if (f == MT_LOG_JSON) {
		buf_printf(b, "{\"ts\":\"%s\",\"level\":\"%s\",\"msg\":\"", when, lv);
		put_escaped(b, msg);
		buf_putc(b, '"');
		for (size_t i = 0; i < n; i++) {
			if (fields[i].type == MT_LF_STR && !fields[i].s)
				continue;
			buf_printf(b, ",\"%s\":", fields[i].key);
			put_value(b, f, &fields[i]);
		}
		buf_putc(b, '}');
		return;
	}
	if (f == MT_LOG_LOGFMT) {
		buf_printf(b, "ts=%s level=%s msg=", when, lv);
		struct mt_log_field m = MT_LF_S("msg", msg);
		put_value(b, f, &m);
	} else {
		static const char *upper[] = {"DEBUG", "INFO", "WARN", "ERROR"};
		buf_printf(b, "%s %s ", when, upper[lvl <= MT_LOG_ERROR ? lvl : MT_LOG_ERROR]);
		put_escaped(b, msg);
	}
	for (size_t i = 0; i < n; i++) {
		if (fields[i].type == MT_LF_STR && !fields[i].s)
			continue;
		buf_printf(b, " %s=", fields[i].key);
		put_value(b, MT_LOG_LOGFMT, &fields[i]);
	}
}

void mt_log_event(enum mt_log_level lvl, const char *msg, const struct mt_log_field *fields, size_t n)
{
	struct buf b;
	buf_init(&b, 64 * 1024);
	mt_log_format_line(&b, log_format, lvl, msg, fields, n);
	buf_putc(&b, '\n');
	pthread_mutex_lock(&out_lock);
	if (b.data)
		fwrite(b.data, 1, b.len, stderr);
	pthread_mutex_unlock(&out_lock);
	buf_free(&b);
}
