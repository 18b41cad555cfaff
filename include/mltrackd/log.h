/* SPDX-License-Identifier: Apache-2.0 */
/* log.h: structured log lines (JSON or logfmt, chosen at start-up) with typed fields, one line per event,
 * written whole to stderr. Callers pass only what may be logged: never a password, token or header value. */
#ifndef MLTRACKD_LOG_H
#define MLTRACKD_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mltrackd/buf.h"
#include "mltrackd/util.h"

enum mt_log_format { MT_LOG_TEXT, MT_LOG_JSON, MT_LOG_LOGFMT };

/* "text", "json" or "logfmt"; false for anything else. */
bool mt_log_parse_format(const char *s, enum mt_log_format *out);
void mt_log_set_format(enum mt_log_format f);
enum mt_log_format mt_log_get_format(void);

enum mt_log_field_type { MT_LF_STR, MT_LF_INT, MT_LF_NUM, MT_LF_BOOL };

struct mt_log_field {
	const char *key; /* a constant identifier ([a-z_]) */
	enum mt_log_field_type type;
	const char *s;   /* MT_LF_STR; NULL fields are left out */
	int64_t i;       /* MT_LF_INT, MT_LF_BOOL */
	double d;        /* MT_LF_NUM */
};

#define MT_LF_S(k, v) ((struct mt_log_field){.key = (k), .type = MT_LF_STR, .s = (v)})
#define MT_LF_I(k, v) ((struct mt_log_field){.key = (k), .type = MT_LF_INT, .i = (int64_t)(v)})
#define MT_LF_D(k, v) ((struct mt_log_field){.key = (k), .type = MT_LF_NUM, .d = (v)})
#define MT_LF_B(k, v) ((struct mt_log_field){.key = (k), .type = MT_LF_BOOL, .i = (v) ? 1 : 0})

/* Formats one event line (no trailing newline) in format f: ts, level, msg, then the fields in order.
 * Strings are escaped (JSON rules, or logfmt quoting), invalid UTF-8 becomes U+FFFD, each capped at 1 KiB. */
void mt_log_format_line(struct buf *b, enum mt_log_format f, enum mt_log_level lvl, const char *msg,
                        const struct mt_log_field *fields, size_t n);
/* Writes one event in the configured format (text: "msg key=value ..."). */
void mt_log_event(enum mt_log_level lvl, const char *msg, const struct mt_log_field *fields, size_t n);

#endif
