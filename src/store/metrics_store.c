/* SPDX-License-Identifier: Apache-2.0 */
/* metrics_store.c: metric history reads: one range scan of the points table per series (its primary key
 * is the history order) merged with the series' recent points not yet in it (recent.c), and MLflow's bucket
 * sampling for the charts' bulk-interval endpoint. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mltrackd/arena.h"
#include "mltrackd/store_runs.h"
#include "store_internal.h"

static const char SQL_RUN_PK[] = "SELECT run_pk FROM runs WHERE run_uuid = ?1";
static const char SQL_SERIES[] =
	"SELECT s.series_id FROM metric_series s JOIN metric_keys k ON k.key_id = s.key_id"
	" WHERE s.run_pk = ?1 AND k.key = ?2";
static const char SQL_HISTORY[] =
	"SELECT timestamp, step, value, is_nan FROM metrics"
	" WHERE series_id = ?1 ORDER BY timestamp, step, value, is_nan LIMIT ?2 OFFSET ?3";
static const char SQL_COUNT_RANGE[] =
	"SELECT COUNT(*) FROM metrics WHERE series_id = ?1 AND step BETWEEN ?2 AND ?3";
static const char SQL_BY_STEP[] =
	"SELECT timestamp, step, value, is_nan FROM metrics WHERE series_id = ?1 AND step BETWEEN ?2 AND ?3"
	" ORDER BY step, timestamp, value, is_nan";

/* The series of (run, key): *series = -1 when the run is unknown or the metric was never logged. */
static enum mt_error find_series(struct store_conn *c, const char *run_id, const char *key, int64_t *series,
                                 struct mt_err *err)
{
	sqlite3_stmt *st = db_stmt(c, SQL_RUN_PK, err);
	if (!st)
		return err->code;
	db_bind_text(st, 1, run_id);
	int rc = sqlite3_step(st);
	int64_t pk = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
	sqlite3_reset(st);
	*series = -1;
	if (rc == SQLITE_DONE)
		return MT_OK; /* MLflow's history reads do not check the run: an unknown one has no points */
	if (rc != SQLITE_ROW)
		return db_fail(c, err, rc);
	st = db_stmt(c, SQL_SERIES, err);
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, pk);
	db_bind_text(st, 2, key);
	rc = sqlite3_step(st);
	*series = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? MT_OK : db_fail(c, err, rc);
}

static void read_row(sqlite3_stmt *st, struct recent_point *p)
{
	p->ts = sqlite3_column_int64(st, 0);
	p->step = sqlite3_column_int64(st, 1);
	p->value = sqlite3_column_double(st, 2);
	p->is_nan = sqlite3_column_int(st, 3);
}

static void to_metric(const struct recent_point *p, const char *key, struct mt_metric *m)
{
	memset(m, 0, sizeof *m);
	m->key = key;
	m->timestamp = p->ts;
	m->step = p->step;
	m->value = p->is_nan ? NAN : p->value;
}

static int by_step(const struct recent_point *a, const struct recent_point *b)
{
	if (a->step != b->step)
		return a->step < b->step ? -1 : 1;
	return recent_point_cmp(a, b); /* then timestamp, value, is_nan */
}

static int by_step_q(const void *a, const void *b) { return by_step(a, b); }

/* The points of one ordered statement merged with recent points in the same order: each next() yields the
 * smaller head, an equal pair once (a point merged while this read ran is in both). */
struct merged {
	sqlite3_stmt *st;
	int rc; /* of the last sqlite3_step: SQLITE_ROW while the statement has a head */
	struct recent_point row;
	const struct recent_point *mem;
	size_t nmem, i;
	int (*cmp)(const struct recent_point *, const struct recent_point *);
};

static void merged_start(struct merged *m, sqlite3_stmt *st, const struct recent_point *mem, size_t nmem,
                         int (*cmp)(const struct recent_point *, const struct recent_point *))
{
	*m = (struct merged){.st = st, .mem = mem, .nmem = nmem, .cmp = cmp};
	if ((m->rc = sqlite3_step(st)) == SQLITE_ROW)
		read_row(st, &m->row);
}

static bool merged_next(struct merged *m, struct recent_point *out)
{
	bool row = m->rc == SQLITE_ROW, mem = m->i < m->nmem;
	if (!row && !mem)
		return false;
	int c = row && mem ? m->cmp(&m->row, &m->mem[m->i]) : row ? -1 : 1;
	if (c > 0) {
		*out = m->mem[m->i++];
		return true;
	}
	*out = m->row;
	if (c == 0)
		m->i++;
	if ((m->rc = sqlite3_step(m->st)) == SQLITE_ROW)
		read_row(m->st, &m->row);
	return true;
}

enum mt_error store_metric_history(struct store *s, struct arena *a, const char *run_id, const char *key,
                                   int64_t offset, int64_t limit, struct mt_metric **out, size_t *n, bool *more,
                                   struct mt_err *err)
{
	struct store_conn *c = store_reader(s);
	int64_t series;
	*out = NULL;
	*n = 0;
	*more = false;
	if (find_series(c, run_id, key, &series, err) != MT_OK)
		return err->code;
	if (series < 0)
		return MT_OK;
	struct recent_point *mem;
	size_t nmem = recent_copy(store_recent(s), series, a, &mem); /* before the scan: see recent.c */
	sqlite3_stmt *st = db_stmt(c, SQL_HISTORY, err);
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, series);
	/* with recent points the page is cut here, after the merge */
	sqlite3_bind_int64(st, 2, nmem || limit < 0 ? -1 : limit + 1); /* one extra row: is there a next page? */
	sqlite3_bind_int64(st, 3, nmem ? 0 : offset);
	const char *k = arena_strdup(a, key);
	size_t cap = 0, cnt = 0;
	struct mt_metric *v = NULL;
	struct merged m;
	struct recent_point p;
	merged_start(&m, st, mem, nmem, recent_point_cmp);
	for (int64_t skip = nmem ? offset : 0; merged_next(&m, &p);) {
		if (skip > 0) {
			skip--;
			continue;
		}
		if (limit >= 0 && (int64_t)cnt == limit) {
			*more = true;
			break;
		}
		v = arena_grow(a, v, cnt, &cap, sizeof *v);
		/* model_id and the dataset stay in the store (logged models read them); MLflow's SQL store
		 * never answers them in a run's history, so neither do we */
		to_metric(&p, k, &v[cnt++]);
	}
	int rc = m.rc;
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail(c, err, rc);
	*out = v;
	*n = cnt;
	return MT_OK;
}

static const char SQL_POINT_EXISTS[] =
	"SELECT 1 FROM metrics WHERE series_id = ?1 AND timestamp = ?2 AND step = ?3 AND value = ?4 AND is_nan = ?5";

/* How many of the recent points are not in the table yet (they count towards the total). */
static enum mt_error count_unmerged(struct store_conn *c, int64_t series, const struct recent_point *mem, size_t nmem,
                                    int64_t *extra, struct mt_err *err)
{
	*extra = 0;
	for (size_t i = 0; i < nmem; i++) {
		sqlite3_stmt *st = db_stmt(c, SQL_POINT_EXISTS, err);
		if (!st)
			return err->code;
		sqlite3_bind_int64(st, 1, series);
		sqlite3_bind_int64(st, 2, mem[i].ts);
		sqlite3_bind_int64(st, 3, mem[i].step);
		sqlite3_bind_double(st, 4, mem[i].value);
		sqlite3_bind_int(st, 5, mem[i].is_nan);
		bool found;
		if (db_step_exists(c, st, &found, err) != MT_OK)
			return err->code;
		*extra += !found;
	}
	return MT_OK;
}

/* MLflow's sampling of the n points in [lo, hi] (step order) into at most max_results. */
static enum mt_error sample(struct store_conn *c, struct arena *a, int64_t series, const char *key, int64_t lo,
                            int64_t hi, const struct recent_point *mem, size_t nmem, int64_t max_results,
                            struct mt_metric **out, size_t *n, struct mt_err *err)
{
	sqlite3_stmt *st = db_stmt(c, SQL_COUNT_RANGE, err);
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, series);
	sqlite3_bind_int64(st, 2, lo);
	sqlite3_bind_int64(st, 3, hi);
	int rc = sqlite3_step(st);
	int64_t total = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0, extra;
	sqlite3_reset(st);
	if (rc != SQLITE_ROW)
		return db_fail(c, err, rc);
	if (count_unmerged(c, series, mem, nmem, &extra, err) != MT_OK)
		return err->code;
	total += extra;
	if (total == 0)
		return MT_OK;
	if (max_results < 1)
		max_results = 1;
	/* NTILE(k) over N ordered rows: the first N mod k buckets hold ceil(N/k) rows, the rest floor(N/k);
	 * keep each bucket's first row, then make sure the very last row is present (replacing the last
	 * sample when already at k), exactly as MLflow's SQL store does. */
	int64_t k = max_results < total ? max_results : total;
	int64_t q = total / k, r = total % k;
	struct mt_metric *v = arena_alloc(a, (size_t)(k + 1) * sizeof *v);
	const char *kk = arena_strdup(a, key);
	if (!(st = db_stmt(c, SQL_BY_STEP, err)))
		return err->code;
	sqlite3_bind_int64(st, 1, series);
	sqlite3_bind_int64(st, 2, lo);
	sqlite3_bind_int64(st, 3, hi);
	int64_t idx = 0, bucket = 0, next = 0;
	size_t cnt = 0;
	struct mt_metric last;
	struct merged m;
	struct recent_point p;
	merged_start(&m, st, mem, nmem, by_step);
	while (merged_next(&m, &p)) {
		if (idx == next && bucket < k) {
			to_metric(&p, kk, &v[cnt++]);
			bucket++;
			next = bucket * q + (bucket < r ? bucket : r);
		}
		if (idx == total - 1)
			to_metric(&p, kk, &last);
		idx++;
	}
	rc = m.rc;
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return db_fail(c, err, rc);
	if (idx > 0 && idx == total) {
		struct mt_metric *tail = &v[cnt - 1];
		bool same = tail->step == last.step && tail->timestamp == last.timestamp &&
		            (tail->value == last.value || (isnan(tail->value) && isnan(last.value)));
		if (!same) {
			if ((int64_t)cnt >= max_results)
				v[cnt - 1] = last;
			else
				v[cnt++] = last;
		}
	}
	*out = v;
	*n = cnt;
	return MT_OK;
}

enum mt_error store_metric_sampled(struct store *s, struct arena *a, const char *run_id, const char *key,
                                   bool has_range, int64_t start_step, int64_t end_step, int64_t max_results,
                                   struct mt_metric **out, size_t *n, struct mt_err *err)
{
	struct store_conn *c = store_reader(s);
	int64_t series;
	*out = NULL;
	*n = 0;
	if (find_series(c, run_id, key, &series, err) != MT_OK)
		return err->code;
	if (series < 0)
		return MT_OK;
	int64_t lo = has_range ? start_step : INT64_MIN, hi = has_range ? end_step : INT64_MAX;
	struct recent_point *mem;
	size_t nmem = recent_copy(store_recent(s), series, a, &mem), kept = 0; /* before the reads: see recent.c */
	for (size_t i = 0; i < nmem; i++)
		if (mem[i].step >= lo && mem[i].step <= hi)
			mem[kept++] = mem[i];
	if (!kept)
		return sample(c, a, series, key, lo, hi, NULL, 0, max_results, out, n, err);
	qsort(mem, kept, sizeof *mem, by_step_q);
	/* one snapshot for the count, the probes and the scan, so the total is the number of points scanned */
	if (db_exec(c, "BEGIN", err) != MT_OK)
		return err->code;
	enum mt_error rc = sample(c, a, series, key, lo, hi, mem, kept, max_results, out, n, err);
	db_reset_all(c);
	db_exec(c, "COMMIT", NULL);
	return rc;
}
