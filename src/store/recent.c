/* SPDX-License-Identifier: Apache-2.0 */
/* recent.c: recent metric points, staged in arrival order and merged into the series-clustered table later.
 *
 * The points table is clustered by series (a 100,000-point history is one range scan), so a batch of N distinct
 * keys dirties N leaf pages, each written whole to the WAL at commit: that, not SQL, bounded ingest
 * (docs/performance.md). A point logged without a model or dataset is instead appended to metric_staging (rowid
 * order: a batch dirties a few pages) in the request's transaction, so it is durable when the client has its 200,
 * and once committed it is also held here in memory, by series, sorted in history order. The writer merges the
 * memory into `metrics` in the background, a chunk of series per transaction in series order, so a series' points
 * accumulated since its last merge share one leaf page write; merged series leave memory, and the staging rows
 * older than every point still in memory are trimmed. Readers merge a series' points in memory with its rows in
 * `metrics` (history order, equal points once). After a crash the staging table is replayed at start-up (and
 * flushed at a clean close): INSERT OR IGNORE makes the replay of already-merged rows harmless.
 *
 * Threads: only the writer thread changes this structure (publish after a commit, merge); it reads it without the
 * lock. Readers copy a series under the lock. */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mltrackd/arena.h"
#include "mltrackd/util.h"
#include "store_internal.h"

struct recent_series {
	int64_t id;                 /* 0: empty slot */
	struct recent_point *p;     /* sorted by (timestamp, step, value, is_nan), distinct */
	uint32_t n, cap;
	int64_t first_seq;          /* staging rowid of the oldest point in p (points arrive in rowid order) */
};

struct recent {
	pthread_mutex_t mu; /* held by the writer to change slots, by readers to copy */
	struct recent_series *slots;
	size_t nslots, nkeys; /* nkeys counts slots holding an id, with or without points */
	size_t points;
	size_t cursor;      /* where the next merge starts */
	bool staging_dirty; /* writer: merged rows may remain in metric_staging */
};

/* The writer's points staged by the current transaction, published to memory once it commits. */
struct recent_staged {
	int64_t series, seq;
	struct recent_point pt;
};
struct recent_buf {
	struct recent_staged *v;
	size_t n, cap;
};

enum { RECENT_MIN_SLOTS = 64 };

struct recent *recent_new(void)
{
	struct recent *r = xcalloc(1, sizeof *r);
	pthread_mutex_init(&r->mu, NULL);
	r->nslots = RECENT_MIN_SLOTS;
	r->slots = xcalloc(r->nslots, sizeof *r->slots);
	return r;
}

static void free_slots(struct recent_series *slots, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(slots[i].p);
	free(slots);
}

void recent_free(struct recent *r)
{
	if (!r)
		return;
	free_slots(r->slots, r->nslots);
	pthread_mutex_destroy(&r->mu);
	free(r);
}

size_t recent_points(const struct recent *r) { return r ? r->points : 0; }

bool recent_idle(const struct recent *r) { return !r->points && !r->staging_dirty; }

static size_t slot_of(int64_t id, size_t nslots)
{
	uint64_t h = (uint64_t)id * 0x9E3779B97F4A7C15ull;
	return (size_t)(h >> 20) & (nslots - 1);
}

static struct recent_series *find(const struct recent *r, int64_t id)
{
	size_t i = slot_of(id, r->nslots);
	while (r->slots[i].id && r->slots[i].id != id)
		i = (i + 1) & (r->nslots - 1);
	return &r->slots[i];
}

/* Under mu: a table with room for one more key, without the keys that hold no points. */
static void rehash(struct recent *r)
{
	size_t live = 0;
	for (size_t i = 0; i < r->nslots; i++)
		live += r->slots[i].id && r->slots[i].n;
	size_t n = RECENT_MIN_SLOTS;
	while (n < (live + 1) * 4)
		n *= 2;
	struct recent_series *old = r->slots;
	size_t oldn = r->nslots;
	r->slots = xcalloc(n, sizeof *r->slots);
	r->nslots = n;
	r->nkeys = 0;
	r->cursor = 0;
	for (size_t i = 0; i < oldn; i++) {
		if (!old[i].id)
			continue;
		if (!old[i].n) {
			free(old[i].p);
			continue;
		}
		*find(r, old[i].id) = old[i];
		r->nkeys++;
	}
	free(old);
}

int recent_point_cmp(const struct recent_point *a, const struct recent_point *b)
{
	if (a->ts != b->ts)
		return a->ts < b->ts ? -1 : 1;
	if (a->step != b->step)
		return a->step < b->step ? -1 : 1;
	if (a->value != b->value)
		return a->value < b->value ? -1 : 1;
	return (a->is_nan > b->is_nan) - (a->is_nan < b->is_nan);
}

/* Under mu: one committed point into its series (an equal point already there is not added twice). */
static void add(struct recent *r, int64_t id, const struct recent_point *pt, int64_t seq)
{
	if ((r->nkeys + 1) * 2 > r->nslots)
		rehash(r);
	struct recent_series *s = find(r, id);
	if (!s->id) {
		s->id = id;
		r->nkeys++;
	}
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 8;
		s->p = xrealloc(s->p, (size_t)s->cap * sizeof *s->p);
	}
	if (!s->n)
		s->first_seq = seq;
	uint32_t pos = s->n;
	if (pos && recent_point_cmp(&s->p[pos - 1], pt) >= 0) { /* out of order: binary search */
		uint32_t lo = 0, hi = s->n;
		while (lo < hi) {
			uint32_t mid = lo + (hi - lo) / 2;
			if (recent_point_cmp(&s->p[mid], pt) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo < s->n && recent_point_cmp(&s->p[lo], pt) == 0)
			return;
		memmove(&s->p[lo + 1], &s->p[lo], (size_t)(s->n - lo) * sizeof *s->p);
		pos = lo;
	}
	s->p[pos] = *pt;
	s->n++;
	r->points++;
}

void recent_stage(struct store_conn *c, int64_t series, const struct recent_point *pt, int64_t seq)
{
	if (!c->staged)
		c->staged = xcalloc(1, sizeof *c->staged);
	struct recent_buf *b = c->staged;
	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 1024;
		b->v = xrealloc(b->v, b->cap * sizeof *b->v);
	}
	b->v[b->n++] = (struct recent_staged){series, seq, *pt};
}

size_t recent_staged_mark(const struct store_conn *c) { return c->staged ? c->staged->n : 0; }

void recent_staged_truncate(struct store_conn *c, size_t mark)
{
	if (c->staged && c->staged->n > mark)
		c->staged->n = mark;
}

static void clear(struct recent *r)
{
	free_slots(r->slots, r->nslots);
	r->nslots = RECENT_MIN_SLOTS;
	r->slots = xcalloc(r->nslots, sizeof *r->slots);
	r->nkeys = r->points = r->cursor = 0;
}

size_t recent_publish(struct recent *r, struct store_conn *c)
{
	struct recent_buf *b = c->staged;
	size_t n = b ? b->n : 0;
	if (!n && !c->recent_flushed)
		return 0;
	pthread_mutex_lock(&r->mu);
	if (c->recent_flushed) /* this transaction moved every staged row into metrics (gc): memory follows */
		clear(r);
	for (size_t i = 0; i < n; i++)
		add(r, b->v[i].series, &b->v[i].pt, b->v[i].seq);
	pthread_mutex_unlock(&r->mu);
	c->recent_flushed = false;
	if (b) {
		b->n = 0;
		if (b->cap > 65536) { /* a huge batch does not pin its buffer */
			free(b->v);
			b->v = NULL;
			b->cap = 0;
		}
	}
	return n;
}

void recent_staged_free(struct store_conn *c)
{
	if (c->staged)
		free(c->staged->v);
	free(c->staged);
	c->staged = NULL;
}

size_t recent_copy(struct recent *r, int64_t series, struct arena *a, struct recent_point **out)
{
	*out = NULL;
	pthread_mutex_lock(&r->mu);
	const struct recent_series *s = find(r, series);
	size_t n = s->id ? s->n : 0;
	if (n) {
		*out = arena_alloc(a, n * sizeof **out);
		memcpy(*out, s->p, n * sizeof **out);
	}
	pthread_mutex_unlock(&r->mu);
	return n;
}

static const char SQL_SERIES_EXISTS[] = "SELECT 1 FROM metric_series WHERE series_id = ?1";
static const char SQL_MERGE_POINT[] =
	"INSERT OR IGNORE INTO metrics (series_id, timestamp, step, value, is_nan) VALUES (?1, ?2, ?3, ?4, ?5)";
static const char SQL_TRIM[] = "DELETE FROM metric_staging WHERE seq < ?1";

static int by_id(const void *a, const void *b)
{
	int64_t x = (*(struct recent_series *const *)a)->id, y = (*(struct recent_series *const *)b)->id;
	return (x > y) - (x < y);
}

/* The points of the picked series (those whose series still exist), in series order, into metrics. (Rows 32 to
 * a statement cost the same: the time is the B-tree inserts and the pages they dirty, not the statements.) */
static enum mt_error merge_series(struct store_conn *c, struct recent_series *const *pick, size_t n,
                                  struct mt_err *err)
{
	for (size_t k = 0; k < n; k++) {
		const struct recent_series *s = pick[k];
		sqlite3_stmt *st = db_stmt(c, SQL_SERIES_EXISTS, err);
		if (!st)
			return err->code;
		sqlite3_bind_int64(st, 1, s->id);
		bool found;
		if (db_step_exists(c, st, &found, err) != MT_OK)
			return err->code;
		if (!found) /* its run was removed for good (gc) after the points were logged */
			continue;
		for (uint32_t i = 0; i < s->n; i++) {
			if (!(st = db_stmt(c, SQL_MERGE_POINT, err)))
				return err->code;
			sqlite3_bind_int64(st, 1, s->id);
			sqlite3_bind_int64(st, 2, s->p[i].ts);
			sqlite3_bind_int64(st, 3, s->p[i].step);
			sqlite3_bind_double(st, 4, s->p[i].value);
			sqlite3_bind_int(st, 5, s->p[i].is_nan);
			if (db_exec_stmt(c, st, err) != MT_OK)
				return err->code;
		}
	}
	return MT_OK;
}

enum mt_error recent_merge(struct recent *r, struct store_conn *c, size_t max_points, struct mt_err *err)
{
	if (!r->points) {
		if (!r->staging_dirty)
			return MT_OK;
		/* every staged row has been merged: empty the table (one small transaction) */
		if (db_exec(c, "DELETE FROM metric_staging", err) != MT_OK)
			return err->code;
		r->staging_dirty = false;
		return MT_OK;
	}
	/* the series to merge: from the cursor on, whole series, until max_points */
	size_t cap = 64, n = 0, taken = 0, i = r->cursor % r->nslots, walked = 0;
	struct recent_series **pick = xmalloc(cap * sizeof *pick);
	int64_t oldest = INT64_MAX;
	for (size_t k = 0; k < r->nslots; k++)
		if (r->slots[k].n && r->slots[k].first_seq < oldest)
			oldest = r->slots[k].first_seq;
	for (; walked < r->nslots && taken < max_points; walked++, i = (i + 1) & (r->nslots - 1)) {
		struct recent_series *s = &r->slots[i];
		if (!s->n)
			continue;
		if (n == cap)
			pick = xrealloc(pick, (cap *= 2) * sizeof *pick);
		pick[n++] = s;
		taken += s->n;
	}
	qsort(pick, n, sizeof *pick, by_id); /* series order: neighbouring series share leaf pages */
	enum mt_error rc = db_exec(c, "BEGIN IMMEDIATE", err);
	if (rc == MT_OK) {
		sqlite3_stmt *st = db_stmt(c, SQL_TRIM, err); /* rows older than any point in memory are merged */
		if (!st)
			rc = err->code;
		else {
			sqlite3_bind_int64(st, 1, oldest);
			rc = db_exec_stmt(c, st, err);
		}
		if (rc == MT_OK)
			rc = merge_series(c, pick, n, err);
		db_reset_all(c);
		if (rc == MT_OK)
			rc = db_exec(c, "COMMIT", err);
		if (rc != MT_OK)
			db_exec(c, "ROLLBACK", NULL);
	}
	if (rc == MT_OK) {
		pthread_mutex_lock(&r->mu);
		for (size_t k = 0; k < n; k++) {
			r->points -= pick[k]->n;
			free(pick[k]->p);
			pick[k]->p = NULL;
			pick[k]->n = pick[k]->cap = 0;
		}
		r->cursor = i;
		if (!r->points)
			clear(r);
		else if (r->nkeys > 4 * (r->points + 16)) /* mostly empty keys: rebuild smaller */
			rehash(r);
		pthread_mutex_unlock(&r->mu);
		r->staging_dirty = true;
	}
	free(pick);
	return rc;
}

static const char SQL_REPLAY[] =
	"INSERT OR IGNORE INTO metrics (series_id, timestamp, step, value, is_nan)"
	" SELECT st.series_id, st.timestamp, st.step, st.value, st.is_nan FROM metric_staging st"
	" WHERE EXISTS (SELECT 1 FROM metric_series s WHERE s.series_id = st.series_id)"
	" ORDER BY st.series_id, st.timestamp, st.step, st.value, st.is_nan";

enum mt_error recent_flush_sql(struct store_conn *c, struct mt_err *err)
{
	if (db_exec(c, SQL_REPLAY, err) != MT_OK || db_exec(c, "DELETE FROM metric_staging", err) != MT_OK)
		return err->code;
	c->recent_flushed = true;
	return MT_OK;
}

enum mt_error recent_replay(struct store_conn *c, struct mt_err *err)
{
	if (db_exec(c, "BEGIN IMMEDIATE", err) != MT_OK)
		return err->code;
	if (recent_flush_sql(c, err) != MT_OK || db_exec(c, "COMMIT", err) != MT_OK) {
		db_exec(c, "ROLLBACK", NULL);
		c->recent_flushed = false;
		return err->code;
	}
	c->recent_flushed = false;
	return MT_OK;
}
