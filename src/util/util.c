/* SPDX-License-Identifier: Apache-2.0 */
/* util.c: abort-on-OOM allocation, clocks, randomness, strict number parsing and the log sink.
 * Knows nothing of HTTP, SQL or MLflow. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mltrackd/log.h"
#include "mltrackd/util.h"

static void oom(size_t n)
{
	fprintf(stderr, "mltrackd: out of memory allocating %zu bytes\n", n);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom(n);
	return p;
}

void *xcalloc(size_t n, size_t m)
{
	void *p = calloc(n ? n : 1, m ? m : 1);
	if (!p)
		oom(n * m);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		oom(n);
	return q;
}

char *xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = xmalloc(n);
	memcpy(p, s, n);
	return p;
}

int64_t mt_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t mt_mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void mt_random_hex(char *out, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[64];
	size_t done = 0;
	while (done < n) {
		size_t k = n - done < sizeof raw ? n - done : sizeof raw;
		if (RAND_bytes(raw, (int)k) != 1) {
			fprintf(stderr, "mltrackd: RAND_bytes failed\n");
			abort();
		}
		for (size_t i = 0; i < k; i++) {
			out[2 * (done + i)] = hex[raw[i] >> 4];
			out[2 * (done + i) + 1] = hex[raw[i] & 15];
		}
		done += k;
	}
	out[2 * n] = '\0';
}

int mt_lock_database(const char *db_path, char *msg, size_t cap)
{
	char path[4200];
	if (snprintf(path, sizeof path, "%s.lock", db_path) >= (int)sizeof path) {
		snprintf(msg, cap, "database path too long: %s", db_path);
		return -1;
	}
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(msg, cap, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		int e = errno;
		char pid[32] = "";
		ssize_t n = e == EWOULDBLOCK ? pread(fd, pid, sizeof pid - 1, 0) : -1;
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		if (e == EWOULDBLOCK)
			snprintf(msg, cap, "database %s is in use by another mltrackd process%s%s%s; stop it first", db_path,
			         *pid ? " (pid " : "", pid, *pid ? ")" : "");
		else
			snprintf(msg, cap, "cannot lock %s: %s", path, strerror(e));
		close(fd);
		return -1;
	}
	char pid[32];
	int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)n, 0) != n) /* the pid only informs: the flock locks */
		mt_log(MT_LOG_WARN, "cannot write the pid into %s: %s", path, strerror(errno));
	return fd;
}

uint32_t mt_random_below(uint32_t bound)
{
	uint32_t r;
	if (bound == 0)
		return 0;
	uint32_t limit = UINT32_MAX - UINT32_MAX % bound;
	do {
		if (RAND_bytes((unsigned char *)&r, sizeof r) != 1)
			abort();
	} while (r >= limit);
	return r % bound;
}

bool mt_parse_i64(const char *s, int64_t *out)
{
	if (s == NULL || *s == '\0' || *s == ' ' || *s == '\t' || *s == '+')
		return false;
	errno = 0;
	char *end;
	long long v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return false;
	*out = v;
	return true;
}

bool mt_parse_double(const char *s, double *out)
{
	if (s == NULL || *s == '\0' || *s == ' ' || *s == '\t')
		return false;
	errno = 0;
	char *end;
	double v = strtod(s, &end);
	if (*end != '\0' || (errno == ERANGE && fabs(v) > 1.0))
		return false;
	*out = v;
	return true;
}

static enum mt_log_level log_level = MT_LOG_INFO;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

void mt_log_set_level(enum mt_log_level lvl) { log_level = lvl; }

void mt_log(enum mt_log_level lvl, const char *fmt, ...)
{
	static const char *names[] = {"DEBUG", "INFO", "WARN", "ERROR"};
	if (lvl < log_level)
		return;
	if (mt_log_get_format() != MT_LOG_TEXT) {
		/* JSON or logfmt: the formatted text becomes the event's msg (log.c). */
		char msg[2048];
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(msg, sizeof msg, fmt, ap);
		va_end(ap);
		mt_log_event(lvl, msg, NULL, 0);
		return;
	}
	char line[2048];
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	int n = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s ", tm.tm_year + 1900,
	                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000,
	                 names[lvl]);
	va_list ap;
	va_start(ap, fmt);
	if (n > 0 && (size_t)n < sizeof line)
		vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&log_lock);
	fprintf(stderr, "%s\n", line);
	pthread_mutex_unlock(&log_lock);
}

int mt_mkdirs(const char *path, bool is_file)
{
	char tmp[4096];
	if (snprintf(tmp, sizeof tmp, "%s", path) >= (int)sizeof tmp)
		return -1;
	if (is_file) {
		char *slash = strrchr(tmp, '/');
		if (!slash)
			return 0;
		*slash = '\0';
	}
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (tmp[0] && mkdir(tmp, 0755) != 0 && errno != EEXIST)
		return -1;
	return 0;
}
