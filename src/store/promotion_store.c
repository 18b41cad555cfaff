/* SPDX-License-Identifier: Apache-2.0 */
/* promotion_store.c: SQL for governed promotion (transition requests, comments, the activity log of a version),
 * each change with its outbox event in the same writer job. Decides nothing about who may act (the API does). */
#include <stdio.h>
#include <string.h>

#include "mltrackd/buf.h"
#include "mltrackd/store_promotion.h"
#include "mltrackd/util.h"
#include "registry_internal.h"
#include "store_internal.h"

/* ---- statements ---- */

#define ACT_COLS                                                                                                 \
	"a.activity_id, a.activity_type, a.from_stage, a.to_stage, a.comment, a.system_comment, a.user_id,"         \
	" a.creation_time, a.last_updated_time"
static const char SQL_ACT_INSERT[] =
	"INSERT INTO model_version_activities (activity_id, mv_pk, activity_type, from_stage, to_stage, comment,"
	" system_comment, user_id, creation_time, last_updated_time) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)";
static const char SQL_ACT_LIST[] =
	"SELECT " ACT_COLS " FROM model_version_activities a WHERE a.mv_pk = ?1 ORDER BY a.activity_pk";
static const char SQL_TR_LIST[] = "SELECT " ACT_COLS " FROM transition_requests r JOIN model_version_activities a"
                                  " ON a.activity_id = r.request_id WHERE r.mv_pk = ?1 ORDER BY r.request_pk";
static const char SQL_TR_EXISTS[] =
	"SELECT 1 FROM transition_requests WHERE mv_pk = ?1 AND to_stage = ?2 AND creator IS ?3";
static const char SQL_TR_INSERT[] = "INSERT INTO transition_requests (request_id, mv_pk, to_stage, comment, creator,"
                                    " creation_time) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
/* ?3 = 0: every open request to the stage; otherwise only the creator ?4's (IS: NULL matches auth-off requests) */
static const char SQL_TR_OPEN[] = "SELECT request_id, comment, creator FROM transition_requests WHERE mv_pk = ?1"
                                  " AND to_stage = ?2 AND (?3 = 0 OR creator IS ?4) ORDER BY request_pk";
static const char SQL_TR_DELETE[] = "DELETE FROM transition_requests WHERE request_id = ?1";
static const char SQL_COMMENT_GET[] =
	"SELECT " ACT_COLS ", m.name, v.version, a.activity_pk FROM model_version_activities a"
	" JOIN model_versions v ON v.mv_pk = a.mv_pk JOIN registered_models m ON m.model_pk = v.model_pk"
	" WHERE a.activity_id = ?1 AND a.activity_type = 'NEW_COMMENT' AND v.current_stage != 'Deleted_Internal'";
static const char SQL_COMMENT_UPDATE[] =
	"UPDATE model_version_activities SET comment = ?2, last_updated_time = ?3 WHERE activity_pk = ?1";
static const char SQL_COMMENT_DELETE[] = "DELETE FROM model_version_activities WHERE activity_pk = ?1";
/* the other live versions in a stage, which archive_existing_versions is about to move to Archived */
static const char SQL_IN_STAGE[] =
	"SELECT o.mv_pk FROM model_versions v JOIN model_versions o ON o.model_pk = v.model_pk"
	" WHERE v.mv_pk = ?1 AND o.current_stage = ?2 AND o.mv_pk != ?1 ORDER BY o.version";

/* ---- helpers ---- */

/* Reads the ACT_COLS of the current row. */
static void read_act(struct arena *a, sqlite3_stmt *st, struct mt_activity *o)
{
	o->id = db_col_text(a, st, 0);
	o->activity_type = db_col_text(a, st, 1);
	o->from_stage = db_col_text(a, st, 2);
	o->to_stage = db_col_text(a, st, 3);
	o->comment = db_col_text(a, st, 4);
	o->system_comment = db_col_text(a, st, 5);
	o->user_id = db_col_text(a, st, 6);
	o->creation_timestamp = sqlite3_column_int64(st, 7);
	o->last_updated_timestamp = sqlite3_column_int64(st, 8);
}

static enum mt_error read_acts(struct store_conn *c, struct arena *a, sqlite3_stmt *st, struct mt_activity **out,
                               size_t *n, struct mt_err *err)
{
	size_t cap = 0;
	int rc;
	*out = NULL;
	*n = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*out = arena_grow(a, *out, *n, &cap, sizeof **out);
		memset(&(*out)[*n], 0, sizeof **out);
		read_act(a, st, &(*out)[(*n)++]);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? MT_OK : db_fail(c, err, rc);
}

/* Appends an activity row and describes it in *o (fields not given stay NULL). */
static enum mt_error add_activity(struct store_conn *c, struct arena *a, int64_t mv, const char *type,
                                  const char *from, const char *to, const char *comment, const char *system_comment,
                                  const char *user, struct mt_activity *o, struct mt_err *err)
{
	char id[33];
	mt_random_hex(id, 16);
	int64_t now = mt_now_ms();
	sqlite3_stmt *st = db_stmt(c, SQL_ACT_INSERT, err);
	if (!st)
		return err->code;
	db_bind_text(st, 1, id);
	sqlite3_bind_int64(st, 2, mv);
	db_bind_text(st, 3, type);
	db_bind_text(st, 4, from);
	db_bind_text(st, 5, to);
	db_bind_text(st, 6, comment);
	db_bind_text(st, 7, system_comment);
	db_bind_text(st, 8, user);
	sqlite3_bind_int64(st, 9, now);
	if (db_exec_stmt(c, st, err) != MT_OK)
		return err->code;
	memset(o, 0, sizeof *o);
	o->id = arena_strdup(a, id);
	o->activity_type = type;
	o->from_stage = from;
	o->to_stage = to;
	o->comment = comment;
	o->system_comment = system_comment;
	o->user_id = user;
	o->creation_timestamp = o->last_updated_timestamp = now;
	return MT_OK;
}

/* ---- events (docs/events.md: transition_request.*, comment.*) ---- */

static void ev_open(struct registry_ev *e, const char *name, int64_t version)
{
	char v[32];
	buf_init(&e->b, 1024u * 1024);
	jw_init(&e->w, &e->b);
	jw_obj_open(&e->w);
	jw_kv_str(&e->w, "name", name);
	snprintf(v, sizeof v, "%lld", (long long)version);
	jw_kv_str(&e->w, "version", v);
}

static void ev_str_or_null(struct registry_ev *e, const char *k, const char *v)
{
	jw_key(&e->w, k);
	v ? jw_str(&e->w, v) : jw_null(&e->w);
}

/* transition_request.<action>: {name, version, from_stage, to_stage, comment, creator, request_id[, actor,
 * actor_comment]} */
static enum mt_error tr_event(struct store_conn *c, const struct registry_ctx *x, const char *action, const char *name,
                              int64_t version, const char *from, const char *to, const char *comment,
                              const char *creator, const char *request_id, bool resolved, const char *actor_comment,
                              struct mt_err *err)
{
	struct registry_ev e;
	ev_open(&e, name, version);
	ev_str_or_null(&e, "from_stage", from);
	jw_kv_str(&e.w, "to_stage", to);
	ev_str_or_null(&e, "comment", comment);
	ev_str_or_null(&e, "creator", creator);
	jw_kv_str(&e.w, "request_id", request_id);
	if (resolved) {
		ev_str_or_null(&e, "actor", x->actor);
		ev_str_or_null(&e, "actor_comment", actor_comment);
	}
	return registry_ev_emit(c, x->actor, "transition_request", action, &e, err);
}

/* comment.<action>: {name, version, comment_id, comment, user_id} (user_id: the comment's author) */
static enum mt_error comment_event(struct store_conn *c, const struct registry_ctx *x, const char *action,
                                   const char *name, int64_t version, const struct mt_activity *cm,
                                   struct mt_err *err)
{
	struct registry_ev e;
	ev_open(&e, name, version);
	jw_kv_str(&e.w, "comment_id", cm->id);
	ev_str_or_null(&e, "comment", cm->comment);
	ev_str_or_null(&e, "user_id", cm->user_id);
	return registry_ev_emit(c, x->actor, "comment", action, &e, err);
}

/* ---- transitions, recorded ---- */

/* Runs transition-stage's step and records it: an activity of `type` (NULL: none, the caller records its own)
 * on the version, and a SYSTEM_TRANSITION on each version archive_existing_versions moved to Archived. */
static enum mt_error transition_recorded(struct store_conn *c, const struct registry_ctx *x, const char *name,
                                         int64_t version, const char *stage, bool archive, const char *comment,
                                         const char *type, struct mt_model_version *out, struct mt_err *err)
{
	int64_t mv = 0;
	const char *from = NULL;
	if (registry_mv_find(c, x->a, name, version, &mv, &from, err) != MT_OK)
		return err->code;
	int64_t *others = NULL;
	size_t n = 0, cap = 0;
	if (archive) {
		sqlite3_stmt *st = db_stmt(c, SQL_IN_STAGE, err);
		if (!st)
			return err->code;
		sqlite3_bind_int64(st, 1, mv);
		db_bind_text(st, 2, stage);
		int rc;
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			others = arena_grow(x->a, others, n, &cap, sizeof *others);
			others[n++] = sqlite3_column_int64(st, 0);
		}
		sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			return db_fail(c, err, rc);
	}
	if (registry_transition_step(c, x, name, version, stage, archive, out, err) != MT_OK)
		return err->code;
	struct mt_activity act;
	if (type && add_activity(c, x->a, mv, type, from, stage, comment, NULL, x->actor, &act, err) != MT_OK)
		return err->code;
	for (size_t i = 0; i < n; i++) {
		char *why = arena_printf(x->a, "Archived by the transition of version %lld to %s", (long long)version, stage);
		if (add_activity(c, x->a, others[i], "SYSTEM_TRANSITION", stage, "Archived", NULL, why, x->actor, &act, err) !=
		    MT_OK)
			return err->code;
	}
	return MT_OK;
}

struct transition_job {
	const struct registry_ctx *x;
	const char *name, *stage, *comment;
	int64_t version;
	bool archive;
	struct mt_model_version *out;
};

static enum mt_error transition_job(struct store_conn *c, void *arg, struct mt_err *err)
{
	struct transition_job *j = arg;
	return transition_recorded(c, j->x, j->name, j->version, j->stage, j->archive, j->comment, "APPLIED_TRANSITION",
	                           j->out, err);
}

enum mt_error store_mv_transition_recorded(const struct registry_ctx *x, const char *name, int64_t version,
                                           const char *stage, bool archive, const char *comment,
                                           struct mt_model_version *out, struct mt_err *err)
{
	struct transition_job j = {.x = x, .name = name, .version = version, .stage = stage, .archive = archive,
	                           .comment = comment, .out = out};
	return store_write(x->s, transition_job, &j, err);
}

/* ---- transition requests ---- */

struct tr_job {
	const struct registry_ctx *x;
	const char *name, *stage, *comment, *id;
	int64_t version;
	const struct tr_resolve *in;
	struct mt_activity *out;
	const char **model_name;
};

static enum mt_error tr_create_job(struct store_conn *c, void *arg, struct mt_err *err)
{
	struct tr_job *j = arg;
	int64_t mv = 0;
	const char *from = NULL;
	if (registry_mv_find(c, j->x->a, j->name, j->version, &mv, &from, err) != MT_OK)
		return err->code;
	sqlite3_stmt *st = db_stmt(c, SQL_TR_EXISTS, err);
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, mv);
	db_bind_text(st, 2, j->stage);
	db_bind_text(st, 3, j->x->actor);
	bool taken;
	if (db_step_exists(c, st, &taken, err) != MT_OK)
		return err->code;
	if (taken)
		return mt_fail(err, MT_RESOURCE_ALREADY_EXISTS,
		               "A transition request to stage '%s' for Model Version (name=%.500s, version=%lld) by this "
		               "user is already open.",
		               j->stage, j->name, (long long)j->version);
	if (add_activity(c, j->x->a, mv, "REQUESTED_TRANSITION", from, j->stage, j->comment, NULL, j->x->actor,
	                 j->out, err) != MT_OK)
		return err->code;
	st = db_stmt(c, SQL_TR_INSERT, err);
	if (!st)
		return err->code;
	db_bind_text(st, 1, j->out->id);
	sqlite3_bind_int64(st, 2, mv);
	db_bind_text(st, 3, j->stage);
	db_bind_text(st, 4, j->comment);
	db_bind_text(st, 5, j->x->actor);
	sqlite3_bind_int64(st, 6, j->out->creation_timestamp);
	if (db_exec_stmt(c, st, err) != MT_OK)
		return err->code;
	return tr_event(c, j->x, "created", j->name, j->version, from, j->stage, j->comment, j->x->actor, j->out->id,
	                false, NULL, err);
}

enum mt_error store_tr_create(const struct registry_ctx *x, const char *name, int64_t version, const char *stage,
                              const char *comment, struct mt_activity *out, struct mt_err *err)
{
	struct tr_job j = {.x = x, .name = name, .version = version, .stage = stage, .comment = comment, .out = out};
	return store_write(x->s, tr_create_job, &j, err);
}

enum mt_error store_tr_list(const struct registry_ctx *x, const char *name, int64_t version, struct mt_activity **out,
                            size_t *n, struct mt_err *err)
{
	struct store_conn *c = store_reader(x->s);
	int64_t mv = 0;
	const char *stage = NULL;
	if (registry_mv_find(c, x->a, name, version, &mv, &stage, err) != MT_OK)
		return err->code;
	sqlite3_stmt *st = db_stmt(c, SQL_TR_LIST, err);
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, mv);
	return read_acts(c, x->a, st, out, n, err);
}

struct open_req {
	const char *id, *comment, *creator;
};

static enum mt_error open_requests(struct store_conn *c, struct arena *a, int64_t mv, const struct tr_resolve *in,
                                   struct open_req **out, size_t *n, struct mt_err *err)
{
	sqlite3_stmt *st = db_stmt(c, SQL_TR_OPEN, err);
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, mv);
	db_bind_text(st, 2, in->stage);
	sqlite3_bind_int(st, 3, in->what == TR_CANCEL);
	db_bind_text(st, 4, in->creator);
	size_t cap = 0;
	int rc;
	*out = NULL;
	*n = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*out = arena_grow(a, *out, *n, &cap, sizeof **out);
		(*out)[*n].id = db_col_text(a, st, 0);
		(*out)[*n].comment = db_col_text(a, st, 1);
		(*out)[*n].creator = db_col_text(a, st, 2);
		(*n)++;
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? MT_OK : db_fail(c, err, rc);
}

static enum mt_error tr_resolve_job(struct store_conn *c, void *arg, struct mt_err *err)
{
	struct tr_job *j = arg;
	const struct tr_resolve *in = j->in;
	struct arena *a = j->x->a;
	int64_t mv = 0;
	const char *from = NULL;
	if (registry_mv_find(c, a, in->name, in->version, &mv, &from, err) != MT_OK)
		return err->code;
	struct open_req *reqs = NULL;
	size_t n = 0;
	if (open_requests(c, a, mv, in, &reqs, &n, err) != MT_OK)
		return err->code;
	if (n == 0) {
		bool by = in->what == TR_CANCEL && in->creator;
		return mt_fail(err, MT_RESOURCE_DOES_NOT_EXIST,
		               "No open transition request to stage '%s'%s%.200s%s for Model Version (name=%.500s, "
		               "version=%lld)",
		               in->stage, by ? " by '" : "", by ? in->creator : "", by ? "'" : "", in->name,
		               (long long)in->version);
	}
	if (in->what == TR_APPROVE) {
		struct mt_model_version after;
		if (transition_recorded(c, j->x, in->name, in->version, in->stage, in->archive, NULL, NULL, &after, err) !=
		    MT_OK)
			return err->code;
	}
	static const char *const action[] = {[TR_APPROVE] = "approved", [TR_REJECT] = "rejected", [TR_CANCEL] = "deleted"};
	static const char *const type[] = {[TR_APPROVE] = "APPROVED_REQUEST", [TR_REJECT] = "REJECTED_REQUEST",
	                                   [TR_CANCEL] = "CANCELLED_REQUEST"};
	for (size_t i = 0; i < n; i++) {
		sqlite3_stmt *st = db_stmt(c, SQL_TR_DELETE, err);
		if (!st)
			return err->code;
		db_bind_text(st, 1, reqs[i].id);
		if (db_exec_stmt(c, st, err) != MT_OK ||
		    tr_event(c, j->x, action[in->what], in->name, in->version, from, in->stage, reqs[i].comment,
		             reqs[i].creator, reqs[i].id, true, in->comment, err) != MT_OK)
			return err->code;
	}
	return add_activity(c, a, mv, type[in->what], from, in->stage, in->comment, NULL, j->x->actor, j->out, err);
}

enum mt_error store_tr_resolve(const struct registry_ctx *x, const struct tr_resolve *in, struct mt_activity *out,
                               struct mt_err *err)
{
	struct tr_job j = {.x = x, .in = in, .out = out};
	return store_write(x->s, tr_resolve_job, &j, err);
}

/* ---- comments ---- */

static enum mt_error comment_create_job(struct store_conn *c, void *arg, struct mt_err *err)
{
	struct tr_job *j = arg;
	int64_t mv = 0;
	const char *stage = NULL;
	if (registry_mv_find(c, j->x->a, j->name, j->version, &mv, &stage, err) != MT_OK ||
	    add_activity(c, j->x->a, mv, "NEW_COMMENT", NULL, NULL, j->comment, NULL, j->x->actor, j->out, err) != MT_OK)
		return err->code;
	return comment_event(c, j->x, "created", j->name, j->version, j->out, err);
}

enum mt_error store_comment_create(const struct registry_ctx *x, const char *name, int64_t version,
                                   const char *comment, struct mt_activity *out, struct mt_err *err)
{
	struct tr_job j = {.x = x, .name = name, .version = version, .comment = comment, .out = out};
	return store_write(x->s, comment_create_job, &j, err);
}

/* The comment `id` with its model's name and version, and its row key. */
static enum mt_error comment_load(struct store_conn *c, struct arena *a, const char *id, struct mt_activity *o,
                                  const char **name, int64_t *version, int64_t *pk, struct mt_err *err)
{
	sqlite3_stmt *st = db_stmt(c, SQL_COMMENT_GET, err);
	if (!st)
		return err->code;
	db_bind_text(st, 1, id);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		memset(o, 0, sizeof *o);
		read_act(a, st, o);
		*name = db_col_text(a, st, 9);
		*version = sqlite3_column_int64(st, 10);
		*pk = sqlite3_column_int64(st, 11);
	}
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return MT_OK;
	if (rc != SQLITE_DONE)
		return db_fail(c, err, rc);
	return mt_fail(err, MT_RESOURCE_DOES_NOT_EXIST, "Comment with id=%.200s not found", id);
}

enum mt_error store_comment_get(const struct registry_ctx *x, const char *id, struct mt_activity *out,
                                const char **model_name, struct mt_err *err)
{
	int64_t version, pk;
	return comment_load(store_reader(x->s), x->a, id, out, model_name, &version, &pk, err);
}

static enum mt_error comment_update_job(struct store_conn *c, void *arg, struct mt_err *err)
{
	struct tr_job *j = arg;
	const char *name;
	int64_t version, pk, now = mt_now_ms();
	if (comment_load(c, j->x->a, j->id, j->out, &name, &version, &pk, err) != MT_OK)
		return err->code;
	sqlite3_stmt *st = db_stmt(c, SQL_COMMENT_UPDATE, err);
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, pk);
	db_bind_text(st, 2, j->comment);
	sqlite3_bind_int64(st, 3, now);
	if (db_exec_stmt(c, st, err) != MT_OK)
		return err->code;
	j->out->comment = j->comment;
	j->out->last_updated_timestamp = now;
	return comment_event(c, j->x, "updated", name, version, j->out, err);
}

enum mt_error store_comment_update(const struct registry_ctx *x, const char *id, const char *comment,
                                   struct mt_activity *out, struct mt_err *err)
{
	struct tr_job j = {.x = x, .id = id, .comment = comment, .out = out};
	return store_write(x->s, comment_update_job, &j, err);
}

static enum mt_error comment_delete_job(struct store_conn *c, void *arg, struct mt_err *err)
{
	struct tr_job *j = arg;
	struct mt_activity cm;
	const char *name;
	int64_t version, pk;
	if (comment_load(c, j->x->a, j->id, &cm, &name, &version, &pk, err) != MT_OK)
		return err->code;
	sqlite3_stmt *st = db_stmt(c, SQL_COMMENT_DELETE, err);
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, pk);
	if (db_exec_stmt(c, st, err) != MT_OK)
		return err->code;
	return comment_event(c, j->x, "deleted", name, version, &cm, err);
}

enum mt_error store_comment_delete(const struct registry_ctx *x, const char *id, struct mt_err *err)
{
	struct tr_job j = {.x = x, .id = id};
	return store_write(x->s, comment_delete_job, &j, err);
}

/* ---- the activity log ---- */

enum mt_error store_activities_list(const struct registry_ctx *x, const char *name, int64_t version,
                                    struct mt_activity **out, size_t *n, struct mt_err *err)
{
	struct store_conn *c = store_reader(x->s);
	int64_t mv = 0;
	const char *stage = NULL;
	if (registry_mv_find(c, x->a, name, version, &mv, &stage, err) != MT_OK)
		return err->code;
	sqlite3_stmt *st = db_stmt(c, SQL_ACT_LIST, err);
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, mv);
	return read_acts(c, x->a, st, out, n, err);
}
