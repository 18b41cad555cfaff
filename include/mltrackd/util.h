/* SPDX-License-Identifier: Apache-2.0 */
/* util.h: small process-wide helpers: abort-on-OOM allocation, ids, clocks, logging. */
#ifndef MLTRACKD_UTIL_H
#define MLTRACKD_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Allocation for infrastructure: aborts on OOM. Client-sized data must be capped before it gets here. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t m);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);

/* Wall clock in milliseconds since the epoch (MLflow timestamps). */
int64_t mt_now_ms(void);
/* Monotonic clock in microseconds (latency measurement). */
int64_t mt_mono_us(void);

/* Fills out with 2*n lowercase hex chars of cryptographic randomness, NUL-terminated (out: 2n+1). */
void mt_random_hex(char *out, size_t n);
/* mkdir -p: the directory path, or with is_file the parent directories of the file path; 0 or -1 (errno). */
int mt_mkdirs(const char *path, bool is_file);
/* One process per database: an exclusive advisory lock (flock) on "<db_path>.lock", kept until the process exits
 * (the kernel drops it on any exit, kill -9 included). Returns the descriptor to keep open, or -1 with a reason in
 * msg: another process holds it (its pid, as written in the file) or the file cannot be opened. */
int mt_lock_database(const char *db_path, char *msg, size_t cap);
/* A uniformly random integer in [0, bound). */
uint32_t mt_random_below(uint32_t bound);

/* Strict decimal parses: whole string, no spaces, range checked. */
bool mt_parse_i64(const char *s, int64_t *out);
bool mt_parse_double(const char *s, double *out);

enum mt_log_level { MT_LOG_DEBUG, MT_LOG_INFO, MT_LOG_WARN, MT_LOG_ERROR };
void mt_log_set_level(enum mt_log_level lvl);
void mt_log(enum mt_log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
