/* SPDX-License-Identifier: Apache-2.0 */
/* metrics_store.c: metric history reads: one range scan of the points table per series (its primary key
 * is the history order), and MLflow's bucket sampling for the charts' bulk-interval endpoint. */
#include <math.h>
#include <string.h>

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

static void read_point(sqlite3_stmt *st, const char *key, struct mt_metric *m)
{
	memset(m, 0, sizeof *m);
	m->key = key;
	m->timestamp = sqlite3_column_int64(st, 0);
	m->step = sqlite3_column_int64(st, 1);
	m->value = sqlite3_column_int(st, 3) ? NAN : sqlite3_column_double(st, 2);
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
	sqlite3_stmt *st = db_stmt(c, SQL_HISTORY, err);
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, series);
	sqlite3_bind_int64(st, 2, limit < 0 ? -1 : limit + 1); /* one extra row tells whether a next page exists */
	sqlite3_bind_int64(st, 3, offset);
	const char *k = arena_strdup(a, key);
	size_t cap = 0, cnt = 0;
	struct mt_metric *v = NULL;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (limit >= 0 && (int64_t)cnt == limit) {
			*more = true;
			break;
		}
		v = arena_grow(a, v, cnt, &cap, sizeof *v);
		/* model_id and the dataset stay in the store (logged models read them); MLflow's SQL store
		 * never answers them in a run's history, so neither do we */
		read_point(st, k, &v[cnt++]);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail(c, err, rc);
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
	sqlite3_stmt *st = db_stmt(c, SQL_COUNT_RANGE, err);
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, series);
	sqlite3_bind_int64(st, 2, lo);
	sqlite3_bind_int64(st, 3, hi);
	int rc = sqlite3_step(st);
	int64_t total = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	if (rc != SQLITE_ROW)
		return db_fail(c, err, rc);
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
	st = db_stmt(c, SQL_BY_STEP, err);
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, series);
	sqlite3_bind_int64(st, 2, lo);
	sqlite3_bind_int64(st, 3, hi);
	int64_t idx = 0, bucket = 0, next = 0;
	size_t cnt = 0;
	struct mt_metric last;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (idx == next && bucket < k) {
			read_point(st, kk, &v[cnt++]);
			bucket++;
			next = bucket * q + (bucket < r ? bucket : r);
		}
		if (idx == total - 1)
			read_point(st, kk, &last);
		idx++;
	}
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
