/* SPDX-License-Identifier: Apache-2.0 */
/* webhooks_store.c: SQL for webhook subscriptions, the fan-out of outbox events into deliveries (one writer job
 * that also moves the cursor, so a crash loses or doubles nothing) and the delivery log. Sends nothing. */
#include <string.h>

#include "mltrackd/store_webhooks.h"
#include "mltrackd/util.h"
#include "store_internal.h"

#define WH_COLS                                                                                                  \
	"w.webhook_pk, w.webhook_id, w.kind, w.name, w.description, w.url, w.secret, w.auth_header,"               \
	" w.enable_ssl_verification, w.model_name, w.status, w.creation_timestamp, w.last_updated_timestamp"

static const char SQL_WH_INSERT[] =
	"INSERT INTO webhooks (webhook_id, kind, name, description, url, secret, auth_header, enable_ssl_verification,"
	" model_name, status, start_event, creation_timestamp, last_updated_timestamp)"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, (SELECT COALESCE(MAX(id), 0) FROM events), ?11, ?11)";
static const char SQL_WH_EVENT_INSERT[] = "INSERT OR IGNORE INTO webhook_events (webhook_pk, event, position)"
                                          " VALUES (?1, ?2, ?3)";
static const char SQL_WH_EVENTS_DELETE[] = "DELETE FROM webhook_events WHERE webhook_pk = ?1";
static const char SQL_WH_EVENTS_OF[] = "SELECT event FROM webhook_events WHERE webhook_pk = ?1 ORDER BY event";
static const char SQL_WH_GET[] = "SELECT " WH_COLS " FROM webhooks w WHERE w.webhook_id = ?1"
                                 " AND w.deleted_timestamp IS NULL AND (?2 = 0 OR w.kind = ?2)";
static const char SQL_WH_LIST[] =
	"SELECT " WH_COLS " FROM webhooks w WHERE w.deleted_timestamp IS NULL AND (?1 = 0 OR w.kind = ?1)"
	" AND (?2 IS NULL OR w.model_name = ?2) ORDER BY w.creation_timestamp DESC, w.webhook_pk DESC LIMIT ?3 OFFSET ?4";
static const char SQL_WH_ACTIVE[] =
	"SELECT " WH_COLS ", w.start_event FROM webhooks w WHERE w.deleted_timestamp IS NULL AND w.status = 'ACTIVE'"
	" ORDER BY w.webhook_pk";
static const char SQL_WH_UPDATE[] =
	"UPDATE webhooks SET name = COALESCE(?2, name), description = COALESCE(?3, description), url = COALESCE(?4, url),"
	" secret = COALESCE(?5, secret), auth_header = COALESCE(?6, auth_header), status = COALESCE(?7, status),"
	" enable_ssl_verification = CASE WHEN ?8 < 0 THEN enable_ssl_verification ELSE ?8 END,"
	" last_updated_timestamp = ?9 WHERE webhook_pk = ?1";
static const char SQL_WH_DELETE[] =
	"UPDATE webhooks SET deleted_timestamp = ?2, last_updated_timestamp = ?2 WHERE webhook_pk = ?1";
static const char SQL_WH_FAIL_PENDING[] =
	"UPDATE webhook_deliveries SET state = 2, last_error = 'webhook deleted', finished_at = ?2"
	" WHERE webhook_pk = ?1 AND state = 0";

static const char SQL_CURSOR_GET[] = "SELECT last_event_id FROM webhook_cursor WHERE id = 1";
static const char SQL_CURSOR_SET[] = "UPDATE webhook_cursor SET last_event_id = ?1 WHERE id = 1";
static const char SQL_FANOUT_PENDING[] =
	"SELECT (SELECT COALESCE(MAX(id), 0) FROM events) > (SELECT last_event_id FROM webhook_cursor WHERE id = 1)";
static const char SQL_EVENTS_AFTER[] =
	"SELECT id, entity, action, payload, created_at, actor FROM events WHERE id > ?1 ORDER BY id LIMIT ?2";
static const char SQL_DELIVERY_INSERT[] =
	"INSERT INTO webhook_deliveries (delivery_id, webhook_pk, event_id, event, body, created_at, next_attempt_at)"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)";

#define DL_COLS                                                                                                  \
	"d.delivery_pk, d.webhook_pk, d.event_id, d.delivery_id, d.event, d.body, d.state, d.attempts, d.created_at,"  \
	" d.next_attempt_at, d.last_attempt_at, d.last_latency_ms, d.finished_at, d.last_status, d.last_error"
/* one index probe per webhook (the partial index on pending rows), not a scan of every pending row */
static const char SQL_HEADS[] =
	"SELECT " DL_COLS ", " WH_COLS " FROM webhooks w JOIN webhook_deliveries d ON d.delivery_pk ="
	" (SELECT p.delivery_pk FROM webhook_deliveries p INDEXED BY webhook_deliveries_pending WHERE p.webhook_pk = w.webhook_pk AND p.state = 0"
	" ORDER BY p.delivery_pk LIMIT 1) WHERE w.deleted_timestamp IS NULL ORDER BY d.next_attempt_at";
/* the next pending delivery of one webhook after the one just delivered (the dispatcher's chain, see
 * store_delivery_next) */
static const char SQL_NEXT[] =
	"SELECT " DL_COLS ", " WH_COLS " FROM webhook_deliveries d INDEXED BY webhook_deliveries_pending"
	" JOIN webhooks w ON w.webhook_pk = d.webhook_pk WHERE d.webhook_pk = ?1 AND d.state = 0 AND d.delivery_pk > ?2"
	" AND d.next_attempt_at <= ?3 AND w.deleted_timestamp IS NULL ORDER BY d.delivery_pk LIMIT 1";
static const char SQL_RECORD[] =
	"UPDATE webhook_deliveries SET state = ?2, attempts = attempts + 1, last_attempt_at = ?3, next_attempt_at = ?4,"
	" last_status = ?5, last_latency_ms = ?6, last_error = ?7, finished_at = CASE WHEN ?2 = 0 THEN NULL ELSE ?3 END"
	" WHERE delivery_pk = ?1 AND state = 0";
static const char SQL_DL_LIST[] = "SELECT " DL_COLS " FROM webhook_deliveries d WHERE d.webhook_pk = ?1"
                                  " ORDER BY d.delivery_pk DESC LIMIT ?2 OFFSET ?3";
static const char SQL_REDELIVER[] =
	"UPDATE webhook_deliveries SET state = 0, next_attempt_at = ?3, created_at = ?3, finished_at = NULL"
	" WHERE webhook_pk = ?1 AND delivery_id = ?2";
static const char SQL_COUNTS[] =
	"SELECT state, COUNT(*) FROM webhook_deliveries WHERE webhook_pk = ?1 GROUP BY state";

/* ---- rows ---- */

static int read_webhook(struct arena *a, sqlite3_stmt *st, int i, struct mt_webhook *w)
{
	memset(w, 0, sizeof *w);
	w->pk = sqlite3_column_int64(st, i++);
	w->id = db_col_text(a, st, i++);
	w->kind = sqlite3_column_int(st, i++);
	w->name = db_col_text(a, st, i++);
	w->description = db_col_text(a, st, i++);
	w->url = db_col_text(a, st, i++);
	w->secret_sealed = db_col_text(a, st, i++);
	w->authorization_sealed = db_col_text(a, st, i++);
	w->ssl_verify = sqlite3_column_int(st, i++) != 0;
	w->model_name = db_col_text(a, st, i++);
	w->status = db_col_text(a, st, i++);
	w->creation_timestamp = sqlite3_column_int64(st, i++);
	w->last_updated_timestamp = sqlite3_column_int64(st, i++);
	return i;
}

static enum mt_error load_events(struct store_conn *c, struct arena *a, struct mt_webhook *w, struct mt_err *err)
{
	sqlite3_stmt *st = db_stmt(c, SQL_WH_EVENTS_OF, err);
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, w->pk);
	size_t cap = 16;
	w->events = arena_alloc(a, cap * sizeof *w->events);
	w->n_events = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		w->events = arena_grow(a, w->events, w->n_events, &cap, sizeof *w->events);
		w->events[w->n_events++] = db_col_text(a, st, 0);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? MT_OK : db_fail(c, err, rc);
}

static enum mt_error insert_events(struct store_conn *c, int64_t pk, const char **events, size_t n,
                                   struct mt_err *err)
{
	for (size_t i = 0; i < n; i++) {
		sqlite3_stmt *st = db_stmt(c, SQL_WH_EVENT_INSERT, err);
		if (!st)
			return err->code;
		sqlite3_bind_int64(st, 1, pk);
		db_bind_text(st, 2, events[i]);
		sqlite3_bind_int64(st, 3, (int64_t)i);
		if (db_exec_stmt(c, st, err) != MT_OK)
			return err->code;
	}
	return MT_OK;
}

static enum mt_error get_in(struct store_conn *c, struct arena *a, const char *id, int kind, struct mt_webhook *out,
                            struct mt_err *err)
{
	sqlite3_stmt *st = db_stmt(c, SQL_WH_GET, err);
	if (!st)
		return err->code;
	db_bind_text(st, 1, id);
	sqlite3_bind_int(st, 2, kind);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		read_webhook(a, st, 0, out);
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return mt_fail(err, MT_RESOURCE_DOES_NOT_EXIST, "Webhook with ID %.200s not found.", id);
	if (rc != SQLITE_ROW)
		return db_fail(c, err, rc);
	return load_events(c, a, out, err);
}

/* ---- subscriptions ---- */

static enum mt_error create_job(struct store_conn *c, void *arg, struct mt_err *err)
{
	struct mt_webhook *w = arg;
	sqlite3_stmt *st = db_stmt(c, SQL_WH_INSERT, err);
	if (!st)
		return err->code;
	db_bind_text(st, 1, w->id);
	sqlite3_bind_int(st, 2, w->kind);
	db_bind_text(st, 3, w->name);
	db_bind_text(st, 4, w->description);
	db_bind_text(st, 5, w->url);
	db_bind_text(st, 6, w->secret_sealed);
	db_bind_text(st, 7, w->authorization_sealed);
	sqlite3_bind_int(st, 8, w->ssl_verify ? 1 : 0);
	db_bind_text(st, 9, w->model_name);
	db_bind_text(st, 10, w->status);
	sqlite3_bind_int64(st, 11, w->creation_timestamp);
	if (db_exec_stmt(c, st, err) != MT_OK)
		return err->code;
	w->pk = sqlite3_last_insert_rowid(c->db);
	return insert_events(c, w->pk, w->events, w->n_events, err);
}

enum mt_error store_webhook_create(struct store *s, struct mt_webhook *w, struct mt_err *err)
{
	w->creation_timestamp = w->last_updated_timestamp = mt_now_ms();
	return store_write(s, create_job, w, err);
}

enum mt_error store_webhook_get(struct store *s, struct arena *a, const char *id, int kind, struct mt_webhook *out,
                                struct mt_err *err)
{
	return get_in(store_reader(s), a, id, kind, out, err);
}

enum mt_error store_webhook_list(struct store *s, struct arena *a, int kind, const char *model_name, int64_t offset,
                                 int64_t limit, struct mt_webhook **out, size_t *n, bool *more, struct mt_err *err)
{
	struct store_conn *c = store_reader(s);
	sqlite3_stmt *st = db_stmt(c, SQL_WH_LIST, err);
	if (!st)
		return err->code;
	sqlite3_bind_int(st, 1, kind);
	db_bind_text(st, 2, model_name);
	sqlite3_bind_int64(st, 3, limit + 1);
	sqlite3_bind_int64(st, 4, offset);
	*out = arena_alloc(a, (size_t)(limit + 1) * sizeof **out);
	*n = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		read_webhook(a, st, 0, &(*out)[(*n)++]);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return db_fail(c, err, rc);
	*more = (int64_t)*n > limit;
	if (*more)
		*n = (size_t)limit;
	for (size_t i = 0; i < *n; i++)
		if (load_events(c, a, &(*out)[i], err) != MT_OK)
			return err->code;
	return MT_OK;
}

struct update_job {
	const struct webhook_update *u;
	struct arena *a;
	struct mt_webhook *out;
	bool is_delete;
};

static enum mt_error update_job_fn(struct store_conn *c, void *arg, struct mt_err *err)
{
	struct update_job *j = arg;
	const struct webhook_update *u = j->u;
	struct mt_webhook cur;
	if (get_in(c, j->a, u->id, u->kind, &cur, err) != MT_OK)
		return err->code;
	int64_t now = mt_now_ms();
	sqlite3_stmt *st;
	if (j->is_delete) {
		if (!(st = db_stmt(c, SQL_WH_DELETE, err)))
			return err->code;
		sqlite3_bind_int64(st, 1, cur.pk);
		sqlite3_bind_int64(st, 2, now);
		if (db_exec_stmt(c, st, err) != MT_OK || !(st = db_stmt(c, SQL_WH_FAIL_PENDING, err)))
			return err->code;
		sqlite3_bind_int64(st, 1, cur.pk);
		sqlite3_bind_int64(st, 2, now);
		return db_exec_stmt(c, st, err);
	}
	if (!(st = db_stmt(c, SQL_WH_UPDATE, err)))
		return err->code;
	sqlite3_bind_int64(st, 1, cur.pk);
	db_bind_text(st, 2, u->name);
	db_bind_text(st, 3, u->description);
	db_bind_text(st, 4, u->url);
	db_bind_text(st, 5, u->secret_sealed);
	db_bind_text(st, 6, u->authorization_sealed);
	db_bind_text(st, 7, u->status);
	sqlite3_bind_int(st, 8, u->ssl_verify);
	sqlite3_bind_int64(st, 9, now);
	if (db_exec_stmt(c, st, err) != MT_OK)
		return err->code;
	if (u->events) {
		if (!(st = db_stmt(c, SQL_WH_EVENTS_DELETE, err)))
			return err->code;
		sqlite3_bind_int64(st, 1, cur.pk);
		if (db_exec_stmt(c, st, err) != MT_OK || insert_events(c, cur.pk, u->events, u->n_events, err) != MT_OK)
			return err->code;
	}
	return get_in(c, j->a, u->id, u->kind, j->out, err);
}

enum mt_error store_webhook_update(struct store *s, struct arena *a, const struct webhook_update *u,
                                   struct mt_webhook *out, struct mt_err *err)
{
	struct update_job j = {.u = u, .a = a, .out = out};
	return store_write(s, update_job_fn, &j, err);
}

enum mt_error store_webhook_delete(struct store *s, const char *id, int kind, struct mt_err *err)
{
	struct webhook_update u = {.id = id, .kind = kind};
	struct arena *a = arena_new();
	struct update_job j = {.u = &u, .a = a, .is_delete = true};
	enum mt_error rc = store_write(s, update_job_fn, &j, err);
	arena_free(a);
	return rc;
}

/* ---- fan-out ---- */

struct fanout_job {
	webhook_map_fn map;
	int64_t limit;
	size_t n_events, n_deliveries;
	struct arena *a;
	/* while emitting */
	struct store_conn *c;
	const struct mt_event *ev;
	const struct mt_webhook *wh;
	int64_t now;
	enum mt_error rc;
	struct mt_err *err;
};

static void uuid4(char out[37])
{
	char hex[33];
	mt_random_hex(hex, 16);
	hex[12] = '4';
	hex[16] = "89ab"[mt_random_below(4)];
	int o = 0;
	for (int i = 0; i < 32; i++) {
		if (i == 8 || i == 12 || i == 16 || i == 20)
			out[o++] = '-';
		out[o++] = hex[i];
	}
	out[o] = '\0';
}

static void fanout_emit(void *ectx, const char *event, const char *body)
{
	struct fanout_job *j = ectx;
	if (j->rc != MT_OK)
		return;
	char id[37];
	uuid4(id);
	sqlite3_stmt *st = db_stmt(j->c, SQL_DELIVERY_INSERT, j->err);
	if (!st) {
		j->rc = j->err->code;
		return;
	}
	db_bind_text(st, 1, id);
	sqlite3_bind_int64(st, 2, j->wh->pk);
	sqlite3_bind_int64(st, 3, j->ev->id);
	db_bind_text(st, 4, event);
	db_bind_text(st, 5, body);
	sqlite3_bind_int64(st, 6, j->now);
	j->rc = db_exec_stmt(j->c, st, j->err);
	if (j->rc == MT_OK)
		j->n_deliveries++;
}

static enum mt_error fanout_job_fn(struct store_conn *c, void *arg, struct mt_err *err)
{
	struct fanout_job *j = arg;
	struct arena *a = j->a;
	j->c = c;
	j->err = err;
	j->rc = MT_OK;
	j->now = mt_now_ms();
	sqlite3_stmt *st = db_stmt(c, SQL_CURSOR_GET, err);
	if (!st)
		return err->code;
	int64_t cursor = 0;
	if (sqlite3_step(st) == SQLITE_ROW)
		cursor = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);

	/* the active webhooks, with their events and the first event each may see */
	if (!(st = db_stmt(c, SQL_WH_ACTIVE, err)))
		return err->code;
	size_t cap = 16, scap = 16, nw = 0; /* one capacity each: arena_grow keeps them equal */
	struct mt_webhook *whs = arena_alloc(a, cap * sizeof *whs);
	int64_t *starts = arena_alloc(a, scap * sizeof *starts);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		whs = arena_grow(a, whs, nw, &cap, sizeof *whs);
		starts = arena_grow(a, starts, nw, &scap, sizeof *starts);
		int i = read_webhook(a, st, 0, &whs[nw]);
		starts[nw++] = sqlite3_column_int64(st, i);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return db_fail(c, err, rc);
	for (size_t i = 0; i < nw; i++)
		if (load_events(c, a, &whs[i], err) != MT_OK)
			return err->code;

	/* the events (read fully before inserting: one statement at a time) */
	if (!(st = db_stmt(c, SQL_EVENTS_AFTER, err)))
		return err->code;
	sqlite3_bind_int64(st, 1, cursor);
	sqlite3_bind_int64(st, 2, j->limit);
	size_t ecap = 64, ne = 0;
	struct mt_event *evs = arena_alloc(a, ecap * sizeof *evs);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		evs = arena_grow(a, evs, ne, &ecap, sizeof *evs);
		struct mt_event *e = &evs[ne++];
		e->id = sqlite3_column_int64(st, 0);
		e->entity = db_col_text(a, st, 1);
		e->action = db_col_text(a, st, 2);
		e->payload = db_col_text(a, st, 3);
		e->created_at = sqlite3_column_int64(st, 4);
		e->actor = db_col_text(a, st, 5);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return db_fail(c, err, rc);
	for (size_t e = 0; e < ne; e++) {
		j->ev = &evs[e];
		for (size_t w = 0; w < nw; w++) {
			if (evs[e].id <= starts[w])
				continue;
			j->wh = &whs[w];
			j->map(&evs[e], &whs[w], a, fanout_emit, j);
			if (j->rc != MT_OK)
				return j->rc;
		}
		cursor = evs[e].id;
	}
	j->n_events = ne;
	if (ne == 0)
		return MT_OK;
	if (!(st = db_stmt(c, SQL_CURSOR_SET, err)))
		return err->code;
	sqlite3_bind_int64(st, 1, cursor);
	return db_exec_stmt(c, st, err);
}

enum mt_error store_webhook_fanout(struct store *s, webhook_map_fn map, int64_t limit, size_t *n_events,
                                   size_t *n_deliveries, struct mt_err *err)
{
	struct fanout_job j = {.map = map, .limit = limit, .a = arena_new()};
	enum mt_error rc = store_write(s, fanout_job_fn, &j, err);
	arena_free(j.a);
	*n_events = rc == MT_OK ? j.n_events : 0;
	*n_deliveries = rc == MT_OK ? j.n_deliveries : 0;
	return rc;
}

bool store_webhook_fanout_pending(struct store *s)
{
	struct mt_err err;
	mt_err_init(&err);
	struct store_conn *c = store_reader(s);
	sqlite3_stmt *st = db_stmt(c, SQL_FANOUT_PENDING, &err);
	if (!st)
		return false;
	bool pending = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) != 0;
	sqlite3_reset(st);
	return pending;
}

/* Deliveries still to make plus events not yet fanned out to deliveries (/metrics' outbox depth). */
static const char SQL_OUTBOX_DEPTH[] =
	"SELECT (SELECT count(*) FROM webhook_deliveries WHERE state = 0)"
	" + (SELECT count(*) FROM events WHERE id > (SELECT last_event_id FROM webhook_cursor WHERE id = 1))";

bool store_webhook_outbox_depth(struct store *s, int64_t *depth)
{
	struct mt_err err;
	mt_err_init(&err);
	struct store_conn *c = store_reader(s);
	sqlite3_stmt *st = db_stmt(c, SQL_OUTBOX_DEPTH, &err);
	if (!st)
		return false;
	bool ok = sqlite3_step(st) == SQLITE_ROW;
	if (ok)
		*depth = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return ok;
}

/* ---- deliveries ---- */

static int read_delivery(struct arena *a, sqlite3_stmt *st, struct mt_delivery *d)
{
	int i = 0;
	d->pk = sqlite3_column_int64(st, i++);
	d->webhook_pk = sqlite3_column_int64(st, i++);
	d->event_id = sqlite3_column_int64(st, i++);
	d->delivery_id = db_col_text(a, st, i++);
	d->event = db_col_text(a, st, i++);
	d->body = db_col_text(a, st, i++);
	d->state = sqlite3_column_int(st, i++);
	d->attempts = sqlite3_column_int(st, i++);
	d->created_at = sqlite3_column_int64(st, i++);
	d->next_attempt_at = sqlite3_column_int64(st, i++);
	d->last_attempt_at = sqlite3_column_int64(st, i++);
	d->last_latency_ms = sqlite3_column_int64(st, i++);
	d->finished_at = sqlite3_column_int64(st, i++);
	d->last_status = sqlite3_column_int(st, i++);
	d->last_error = db_col_text(a, st, i++);
	return i;
}

static enum mt_error read_deliveries(struct store_conn *c, struct arena *a, sqlite3_stmt *st, bool with_wh,
                                     struct mt_delivery **out, size_t *n, struct mt_err *err)
{
	size_t cap = 16;
	*out = arena_alloc(a, cap * sizeof **out);
	*n = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*out = arena_grow(a, *out, *n, &cap, sizeof **out);
		struct mt_delivery *d = &(*out)[(*n)++];
		memset(d, 0, sizeof *d);
		int i = read_delivery(a, st, d);
		if (with_wh)
			read_webhook(a, st, i, &d->wh);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? MT_OK : db_fail(c, err, rc);
}

enum mt_error store_delivery_heads(struct store *s, struct arena *a, struct mt_delivery **out, size_t *n,
                                   struct mt_err *err)
{
	struct store_conn *c = store_reader(s);
	sqlite3_stmt *st = db_stmt(c, SQL_HEADS, err);
	if (!st)
		return err->code;
	return read_deliveries(c, a, st, true, out, n, err);
}

enum mt_error store_delivery_next(struct store *s, struct arena *a, int64_t webhook_pk, int64_t after_pk, int64_t now,
                                  struct mt_delivery **out, size_t *n, struct mt_err *err)
{
	struct store_conn *c = store_reader(s);
	sqlite3_stmt *st = db_stmt(c, SQL_NEXT, err);
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, webhook_pk);
	sqlite3_bind_int64(st, 2, after_pk);
	sqlite3_bind_int64(st, 3, now);
	return read_deliveries(c, a, st, true, out, n, err);
}

struct record_job {
	const struct delivery_result *r;
	size_t n;
};

static enum mt_error record_job_fn(struct store_conn *c, void *arg, struct mt_err *err)
{
	struct record_job *j = arg;
	for (size_t i = 0; i < j->n; i++) {
		const struct delivery_result *r = &j->r[i];
		sqlite3_stmt *st = db_stmt(c, SQL_RECORD, err);
		if (!st)
			return err->code;
		sqlite3_bind_int64(st, 1, r->pk);
		sqlite3_bind_int(st, 2, r->state);
		sqlite3_bind_int64(st, 3, r->attempt_at);
		sqlite3_bind_int64(st, 4, r->next_attempt_at);
		if (r->status)
			sqlite3_bind_int(st, 5, r->status);
		sqlite3_bind_int64(st, 6, r->latency_ms);
		db_bind_text(st, 7, r->error);
		if (db_exec_stmt(c, st, err) != MT_OK)
			return err->code;
	}
	return MT_OK;
}

enum mt_error store_delivery_record(struct store *s, const struct delivery_result *r, size_t n, struct mt_err *err)
{
	struct record_job j = {.r = r, .n = n};
	return store_write(s, record_job_fn, &j, err);
}

enum mt_error store_delivery_list(struct store *s, struct arena *a, int64_t webhook_pk, int64_t offset, int64_t limit,
                                  struct mt_delivery **out, size_t *n, bool *more, struct mt_err *err)
{
	struct store_conn *c = store_reader(s);
	sqlite3_stmt *st = db_stmt(c, SQL_DL_LIST, err);
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, webhook_pk);
	sqlite3_bind_int64(st, 2, limit + 1);
	sqlite3_bind_int64(st, 3, offset);
	if (read_deliveries(c, a, st, false, out, n, err) != MT_OK)
		return err->code;
	*more = (int64_t)*n > limit;
	if (*more)
		*n = (size_t)limit;
	return MT_OK;
}

struct redeliver_job {
	int64_t webhook_pk;
	const char *delivery_id;
};

static enum mt_error redeliver_job_fn(struct store_conn *c, void *arg, struct mt_err *err)
{
	struct redeliver_job *j = arg;
	sqlite3_stmt *st = db_stmt(c, SQL_REDELIVER, err);
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, j->webhook_pk);
	db_bind_text(st, 2, j->delivery_id);
	sqlite3_bind_int64(st, 3, mt_now_ms());
	if (db_exec_stmt(c, st, err) != MT_OK)
		return err->code;
	if (sqlite3_changes(c->db) == 0)
		return mt_fail(err, MT_RESOURCE_DOES_NOT_EXIST, "Delivery with ID %.200s not found.", j->delivery_id);
	return MT_OK;
}

enum mt_error store_delivery_redeliver(struct store *s, int64_t webhook_pk, const char *delivery_id,
                                       struct mt_err *err)
{
	struct redeliver_job j = {.webhook_pk = webhook_pk, .delivery_id = delivery_id};
	return store_write(s, redeliver_job_fn, &j, err);
}

enum mt_error store_delivery_counts(struct store *s, int64_t webhook_pk, int64_t counts[3], struct mt_err *err)
{
	struct store_conn *c = store_reader(s);
	sqlite3_stmt *st = db_stmt(c, SQL_COUNTS, err);
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, webhook_pk);
	counts[0] = counts[1] = counts[2] = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int state = sqlite3_column_int(st, 0);
		if (state >= 0 && state < 3)
			counts[state] = sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? MT_OK : db_fail(c, err, rc);
}
