/* SPDX-License-Identifier: Apache-2.0 */
/* acl.c: authentication (Basic or Bearer, with a cache of verified credentials that any user change
 * invalidates at once) and authorisation of a matched route from its declared resource and permission.
 * Handlers never check permissions themselves; they are unreachable without passing here. */
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mltrackd/acl.h"
#include "mltrackd/auth.h"
#include "mltrackd/config.h"
#include "mltrackd/json.h"
#include "mltrackd/route.h"
#include "mltrackd/store_auth.h"
#include "mltrackd/store_models.h"
#include "mltrackd/util.h"

/* ---- credential cache ---- */

#define CACHE_SLOTS 1024
#define CACHE_TTL_MS (5 * 60 * 1000)

struct cache_ent {
	unsigned char key[32]; /* HMAC-SHA256(secret, Authorization header) */
	uint64_t generation;
	int64_t expires_ms;
	int64_t user_id;
	bool is_admin;
	char username[128];
};

static struct cache_ent cache[CACHE_SLOTS];
static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;
static _Atomic uint64_t generation = 1;
static unsigned char secret[32];
static pthread_once_t secret_once = PTHREAD_ONCE_INIT;

static void make_secret(void)
{
	if (RAND_bytes(secret, sizeof secret) != 1)
		abort();
}

void acl_invalidate_credentials(void) { atomic_fetch_add(&generation, 1); }

static void cache_key(const char *header, unsigned char out[32])
{
	pthread_once(&secret_once, make_secret);
	unsigned int n = 32;
	HMAC(EVP_sha256(), secret, sizeof secret, (const unsigned char *)header, strlen(header), out, &n);
}

static bool cache_get(const unsigned char key[32], struct mt_request *req)
{
	size_t slot = ((size_t)key[0] << 8 | key[1]) % CACHE_SLOTS;
	bool hit = false;
	pthread_mutex_lock(&cache_mu);
	struct cache_ent *e = &cache[slot];
	if (e->generation == atomic_load(&generation) && e->expires_ms > mt_now_ms() && memcmp(e->key, key, 32) == 0) {
		req->user_id = e->user_id;
		req->is_admin = e->is_admin;
		req->principal = arena_strdup(req->arena, e->username);
		hit = true;
	}
	pthread_mutex_unlock(&cache_mu);
	return hit;
}

static void cache_put(const unsigned char key[32], uint64_t gen, const struct mt_request *req)
{
	size_t slot = ((size_t)key[0] << 8 | key[1]) % CACHE_SLOTS;
	pthread_mutex_lock(&cache_mu);
	struct cache_ent *e = &cache[slot];
	memcpy(e->key, key, 32);
	e->generation = gen;
	e->expires_ms = mt_now_ms() + CACHE_TTL_MS;
	e->user_id = req->user_id;
	e->is_admin = req->is_admin;
	snprintf(e->username, sizeof e->username, "%s", req->principal);
	pthread_mutex_unlock(&cache_mu);
}

static enum mt_error unauthenticated(struct mt_err *err)
{
	return mt_fail(err, MT_UNAUTHENTICATED,
	               "You are not authenticated. Please see "
	               "https://www.mlflow.org/docs/latest/auth/index.html#authenticating-to-mlflow on how to authenticate.");
}

/* ---- failed-login rate limiting (per user name and per client address) ---- */

#define RL_SLOTS 2048

struct rl_ent {
	char key[160]; /* "u:<name>" or "a:<address>" */
	int64_t window_start_ms;
	int64_t locked_until_ms;
	int failures;
};

static struct rl_ent rl[RL_SLOTS];
static pthread_mutex_t rl_mu = PTHREAD_MUTEX_INITIALIZER;

void acl_reset_rate_limits(void)
{
	pthread_mutex_lock(&rl_mu);
	memset(rl, 0, sizeof rl);
	pthread_mutex_unlock(&rl_mu);
}

static struct rl_ent *rl_slot(const char *key)
{
	uint64_t h = 1469598103934665603ull;
	for (const char *p = key; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	return &rl[h % RL_SLOTS];
}

/* Seconds until `key` may try again (0: now). Called with rl_mu held. */
static int64_t rl_blocked(const char *key, int64_t now)
{
	struct rl_ent *e = rl_slot(key);
	if (strcmp(e->key, key) != 0 || e->locked_until_ms <= now)
		return 0;
	return (e->locked_until_ms - now + 999) / 1000;
}

/* Counts a failure; `max` failures within the window lock the key for a window from the last one. */
static void rl_fail(const char *key, int max, int64_t window_ms, int64_t now)
{
	if (max <= 0)
		return;
	struct rl_ent *e = rl_slot(key);
	if (strcmp(e->key, key) != 0 || now - e->window_start_ms >= window_ms) {
		snprintf(e->key, sizeof e->key, "%s", key);
		e->window_start_ms = now;
		e->failures = 0;
		e->locked_until_ms = 0;
	}
	if (++e->failures >= max)
		e->locked_until_ms = now + window_ms;
}

static void rl_forget(const char *key)
{
	struct rl_ent *e = rl_slot(key);
	if (strcmp(e->key, key) == 0)
		memset(e, 0, sizeof *e);
}

/* The keys one authentication attempt is counted under (user may be NULL for a token). */
static void rl_keys(struct mt_request *req, const char *user, char ukey[160], char akey[160])
{
	snprintf(ukey, 160, "u:%.150s", user ? user : "");
	snprintf(akey, 160, "a:%.150s", req->client_addr ? req->client_addr : "");
}

static enum mt_error too_many(struct mt_request *req, int64_t retry_s, struct mt_err *err)
{
	req->retry_after = retry_s > 0 ? retry_s : 1;
	return mt_fail(err, MT_REQUEST_LIMIT_EXCEEDED,
	               "Too many failed login attempts; try again in %lld seconds.", (long long)req->retry_after);
}

static enum mt_error authenticate(struct mt_request *req, struct mt_err *err)
{
	const char *header = req->header ? req->header(req->header_ctx, "Authorization") : NULL;
	if (header == NULL || header[0] == '\0')
		return unauthenticated(err);
	unsigned char key[32];
	cache_key(header, key);
	if (cache_get(key, req))
		return MT_OK;
	/* Read the generation before verifying: a change racing with us invalidates what we cache. */
	uint64_t gen = atomic_load(&generation);
	struct auth_credentials cred;
	struct mt_err perr;
	mt_err_init(&perr);
	if (auth_parse_header(req->arena, header, &cred, &perr) != MT_OK)
		return unauthenticated(err);
	const struct mt_config *cfg = req->srv->cfg;
	int64_t window_ms = (int64_t)cfg->login_window_seconds * 1000, now = mt_now_ms();
	char ukey[160], akey[160];
	rl_keys(req, cred.scheme == AUTH_BASIC ? cred.username : NULL, ukey, akey);
	pthread_mutex_lock(&rl_mu);
	int64_t wait = cred.scheme == AUTH_BASIC ? rl_blocked(ukey, now) : 0;
	if (wait == 0 && req->client_addr)
		wait = rl_blocked(akey, now);
	pthread_mutex_unlock(&rl_mu);
	if (wait > 0)
		return too_many(req, wait, err);
	struct mt_user u;
	struct mt_err lerr;
	mt_err_init(&lerr);
	bool ok = false;
	if (cred.scheme == AUTH_BASIC) {
		ok = store_user_get(req->srv->store, req->arena, cred.username, &u, &lerr) == MT_OK &&
		     auth_password_verify(cred.password, u.password_hash);
	} else if (cred.scheme == AUTH_BEARER) {
		char hex[65];
		auth_token_hash(cred.token, hex);
		ok = store_token_user(req->srv->store, req->arena, hex, &u, &lerr) == MT_OK;
	}
	pthread_mutex_lock(&rl_mu);
	if (!ok) {
		now = mt_now_ms(); /* after the verification's cost */
		if (cred.scheme == AUTH_BASIC)
			rl_fail(ukey, cfg->login_max_failures, window_ms, now);
		if (req->client_addr)
			rl_fail(akey, cfg->login_max_failures_per_address, window_ms, now);
	} else if (cred.scheme == AUTH_BASIC) {
		rl_forget(ukey);
	}
	pthread_mutex_unlock(&rl_mu);
	if (!ok)
		return unauthenticated(err);
	req->user_id = u.id;
	req->is_admin = u.is_admin;
	req->principal = u.username;
	cache_put(key, gen, req);
	return MT_OK;
}

/* ---- permission levels ---- */

static const char *const level_names[] = {"NO_PERMISSIONS", "READ", "USE", "EDIT", "MANAGE_STAGING_VERSIONS",
                                          "MANAGE_PRODUCTION_VERSIONS", "MANAGE"};

int acl_level_parse(const char *name)
{
	if (!name)
		return ACL_INVALID;
	if (!strcmp(name, "DENY"))
		return ACL_DENY;
	for (int i = 0; i < (int)(sizeof level_names / sizeof level_names[0]); i++)
		if (!strcmp(name, level_names[i]))
			return i;
	return ACL_INVALID;
}

const char *acl_level_name(enum acl_level l)
{
	if (l == ACL_DENY)
		return "DENY";
	return l >= ACL_NONE && l <= ACL_MANAGE ? level_names[l] : "NO_PERMISSIONS";
}

#define SILENT (-3) /* no grant at a key: the next key or the default speaks */

static int default_level(const struct mt_request *req)
{
	int d = acl_level_parse(req->srv->cfg->default_permission);
	return d < ACL_NONE ? ACL_NONE : d;
}

/* A positive grant never resolves below the default permission; DENY and NO_PERMISSIONS are kept. */
static int floor_level(const struct mt_request *req, int l)
{
	if (l <= ACL_NONE)
		return l;
	int d = default_level(req);
	return l > d ? l : d;
}

#define MEMO_SLOTS 8
struct acl_memo {
	struct {
		int64_t uid;
		const char *type, *id;
		int level;
		bool admin;
	} e[MEMO_SLOTS];
	int n;
};

static int fold_key_uncached(struct mt_request *req, int64_t uid, const char *type, const char *id, bool *admin);

/* Folds the user's grants at one key (exact id or '*'): DENY wins, else the highest; SILENT without any.
 * A request asks the same key more than once (a run's experiment READ, then its tier's fallback): folds are
 * remembered for the request. */
static int fold_key(struct mt_request *req, int64_t uid, const char *type, const char *id, bool *admin)
{
	struct acl_memo *m = req->acl_memo;
	if (!m)
		m = req->acl_memo = arena_calloc(req->arena, sizeof *m);
	const char *key = id ? id : "*";
	for (int i = 0; i < m->n; i++)
		if (m->e[i].uid == uid && !strcmp(m->e[i].type, type) && !strcmp(m->e[i].id, key)) {
			if (m->e[i].admin)
				*admin = true;
			return m->e[i].level;
		}
	bool a = false;
	int l = fold_key_uncached(req, uid, type, key, &a);
	if (a)
		*admin = true;
	if (m->n < MEMO_SLOTS) {
		m->e[m->n].uid = uid;
		m->e[m->n].type = arena_strdup(req->arena, type);
		m->e[m->n].id = arena_strdup(req->arena, key);
		m->e[m->n].level = l;
		m->e[m->n].admin = a;
		m->n++;
	}
	return l;
}

static int fold_key_uncached(struct mt_request *req, int64_t uid, const char *type, const char *id, bool *admin)
{
	struct mt_acl_row *rows;
	size_t n;
	bool ws_admin = false;
	struct mt_err err;
	mt_err_init(&err);
	if (store_acl_rows(req->srv->store, req->arena, uid, type, id ? id : "*", &rows, &n, &ws_admin, &err) != MT_OK)
		return ACL_DENY; /* fail closed on a storage error */
	if (ws_admin)
		*admin = true;
	bool denied = false;
	int best = SILENT;
	for (size_t i = 0; i < n; i++) {
		int l = acl_level_parse(rows[i].permission);
		if (l == ACL_DENY)
			denied = true;
		else if (l > best)
			best = l;
	}
	return denied ? ACL_DENY : best;
}

enum action { A_READ, A_USE, A_UPDATE, A_DELETE, A_NOT_DENIED, A_STAGE };

struct requirement {
	const char *type, *id;
	enum action act;
	const char *fb_type, *fb_id; /* consulted only when the user holds no grant at (type, id) */
};

/* The level governing a requirement (tier override: the first key holding a grant decides). */
static int governing(struct mt_request *req, int64_t uid, const struct requirement *r, bool *admin)
{
	int l = fold_key(req, uid, r->type, r->id, admin);
	if (l == SILENT && r->fb_type)
		l = fold_key(req, uid, r->fb_type, r->fb_id, admin);
	if (*admin)
		return ACL_MANAGE;
	return l == SILENT ? default_level(req) : floor_level(req, l);
}

static bool action_met(enum action a, int l)
{
	switch (a) {
	case A_READ: return l >= ACL_READ;
	case A_USE: return l >= ACL_USE;
	case A_UPDATE:
	case A_STAGE: return l >= ACL_EDIT;
	case A_DELETE: return l >= ACL_MANAGE;
	case A_NOT_DENIED: return l != ACL_DENY;
	}
	return false;
}

enum acl_level acl_level_of_user(struct mt_request *req, int64_t user_id, bool is_admin, const char *resource_type,
                                 const char *resource_id)
{
	if (is_admin)
		return ACL_MANAGE;
	bool admin = false;
	struct requirement r = {resource_type, resource_id ? resource_id : "*", A_READ, NULL, NULL};
	return (enum acl_level)governing(req, user_id, &r, &admin);
}

enum acl_level acl_level_for(struct mt_request *req, const char *resource_type, const char *resource_id)
{
	if (req->srv == NULL || !req->srv->cfg->auth_enabled)
		return ACL_MANAGE;
	return acl_level_of_user(req, req->user_id, req->is_admin, resource_type, resource_id);
}

/* The request field or {path} capture a route names as its resource id (first value of a list). */
static const char *resource_value(struct mt_request *req, const char *field)
{
	if (!field)
		return NULL;
	if (field[0] == '{') {
		/* path params are captured in pattern order; the resource is the first one */
		return req->n_path_params > 0 ? req->path_params[0] : NULL;
	}
	const cJSON *v = json_field(req->args, field);
	if (v && cJSON_IsArray(v))
		v = cJSON_GetArrayItem(v, 0);
	if (v && cJSON_IsNumber(v))
		return arena_printf(req->arena, "%lld", (long long)v->valuedouble);
	return v && cJSON_IsString(v) ? v->valuestring : NULL;
}

static const char *i64s(struct arena *a, int64_t v) { return arena_printf(a, "%lld", (long long)v); }

/* Resolves the experiment (as a decimal string) a run id belongs to; NULL when the run is unknown. */
static const char *run_experiment(struct mt_request *req, const char *run_id)
{
	int64_t exp = -1;
	struct mt_err err;
	mt_err_init(&err);
	if (!run_id || store_acl_run_experiment(req->srv->store, run_id, &exp, &err) != MT_OK || exp < 0)
		return NULL;
	return i64s(req->arena, exp);
}

static bool version_stage_ok(struct mt_request *req, int level, const char *name, const char *version,
                             const char *to_stage)
{
	if (!req->srv->cfg->strict_promotion)
		return level >= ACL_EDIT; /* MLflow's rule: EDIT may transition */
	bool production = to_stage && strcasecmp(to_stage, "Production") == 0;
	int64_t v = 0;
	if (!production && name && version && mt_parse_i64(version, &v)) {
		const char *cur = NULL;
		struct mt_err err;
		mt_err_init(&err);
		store_acl_version_stage(req->srv->store, req->arena, name, v, &cur, &err);
		production = cur && strcmp(cur, "Production") == 0;
	}
	return level >= (production ? ACL_MANAGE_PRODUCTION : ACL_MANAGE_STAGING);
}

static enum mt_error check_all(struct mt_request *req, const struct requirement *rs, size_t n, struct mt_err *err)
{
	bool admin = false;
	for (size_t i = 0; i < n; i++) {
		int l = governing(req, req->user_id, &rs[i], &admin);
		bool ok = rs[i].act == A_STAGE ? version_stage_ok(req, l, rs[i].fb_id, resource_value(req, "version"),
		                                                  resource_value(req, "stage"))
		                               : action_met(rs[i].act, l);
		if (!ok && !admin)
			return mt_fail(err, MT_PERMISSION_DENIED, "Permission denied");
	}
	return MT_OK;
}

bool acl_can_transition(struct mt_request *req, const char *name, const char *version, const char *to_stage)
{
	if (req->srv == NULL || !req->srv->cfg->auth_enabled || req->is_admin)
		return true;
	bool admin = false;
	struct requirement r = {"registered_model_version", "*", A_STAGE, "registered_model", name};
	int l = governing(req, req->user_id, &r, &admin);
	return admin || version_stage_ok(req, l, name, version, to_stage);
}

static enum action route_action(enum mt_perm p)
{
	switch (p) {
	case PERM_READ: return A_READ;
	case PERM_USE: return A_USE;
	case PERM_EDIT: return A_UPDATE;
	case PERM_MANAGE:
	case PERM_PUBLIC:
	case PERM_AUTHENTICATED:
	case PERM_ADMIN: break;
	}
	return A_DELETE;
}

#define MAX_REQ 8
struct reqs {
	struct requirement r[MAX_REQ];
	size_t n;
};

static void add(struct reqs *q, const char *type, const char *id, enum action a, const char *fb_type, const char *fb_id)
{
	if (q->n < MAX_REQ)
		q->r[q->n++] = (struct requirement){type, id, a, fb_type, fb_id};
}

/* An operation on something inside an experiment: READ on the experiment and the action on the tier, which
 * falls back to the experiment when the user holds no grant on the tier (MLflow 3.17's requirements). */
static void add_in_experiment(struct reqs *q, const char *tier, const char *exp, enum action a)
{
	add(q, "experiment", exp, A_READ, NULL, NULL);
	add(q, tier, "*", a, "experiment", exp);
}

static bool is(const struct mt_route *r, const char *pattern) { return strcmp(r->pattern, pattern) == 0; }

static enum mt_error denied(struct mt_err *err) { return mt_fail(err, MT_PERMISSION_DENIED, "Permission denied"); }

static enum mt_error authorize_resource(struct mt_request *req, const struct mt_route *r, struct mt_err *err)
{
	enum action act = route_action(r->perm);
	const char *v = resource_value(req, r->res_field);
	struct reqs q = {.n = 0};
	switch (r->res) {
	case RES_EXPERIMENT: {
		/* runs/create without an experiment goes to the Default experiment "0" */
		const char *exp = v ? v : "0";
		add(&q, "experiment", exp, act, NULL, NULL);
		if (is(r, "/mlflow/runs/create"))
			add(&q, "run", "*", A_NOT_DENIED, NULL, NULL);
		else if (is(r, "/mlflow/logged-models"))
			add(&q, "logged_model", "*", A_NOT_DENIED, NULL, NULL);
		else if (is(r, "/mlflow/experiments/delete") || is(r, "/mlflow/experiments/restore")) {
			add(&q, "run", "*", A_DELETE, "experiment", exp);
			add(&q, "logged_model", "*", A_DELETE, "experiment", exp);
		}
		break;
	}
	case RES_EXPERIMENT_NAME: {
		int64_t exp = -1;
		if (v)
			store_acl_experiment_by_name(req->srv->store, v, &exp, err);
		if (exp < 0)
			return MT_OK; /* unknown name: the handler answers 404, as MLflow's validator lets it */
		add(&q, "experiment", i64s(req->arena, exp), act, NULL, NULL);
		break;
	}
	case RES_RUN:
	case RES_RUN_LIST: {
		const cJSON *arr = json_field(req->args, r->res_field);
		if (r->res == RES_RUN || (arr && cJSON_IsString(arr))) {
			if (!v && r->res == RES_RUN)
				v = resource_value(req, "run_uuid");
			const char *exp = run_experiment(req, v);
			if (!exp)
				return v ? denied(err) : MT_OK; /* an unknown run denies (no oracle); none: the handler's 400 */
			add_in_experiment(&q, "run", exp, act);
			break;
		}
		const cJSON *it;
		cJSON_ArrayForEach(it, arr)
		{
			const char *exp = cJSON_IsString(it) ? run_experiment(req, it->valuestring) : NULL;
			if (!exp)
				return denied(err);
			struct reqs one = {.n = 0};
			add_in_experiment(&one, "run", exp, act);
			if (check_all(req, one.r, one.n, err) != MT_OK)
				return err->code;
		}
		return MT_OK;
	}
	case RES_ARTIFACT: {
		/* Proxied artifact paths start with the experiment id: "<exp>/<run>/artifacts/..." */
		if (v && v[0] >= '0' && v[0] <= '9') {
			size_t n = strspn(v, "0123456789");
			if (v[n] == '/' || v[n] == '\0') {
				const char *exp = arena_strndup(req->arena, v, n);
				if (v[n] == '/' && v[n + 1] != '\0')
					add_in_experiment(&q, "run", exp, act);
				else
					add(&q, "experiment", exp, act, NULL, NULL);
				break;
			}
		}
		add(&q, "experiment", "*", act, NULL, NULL); /* a path outside any experiment: wildcard or default */
		break;
	}
	case RES_LOGGED_MODEL: {
		int64_t exp = -1;
		if (v)
			store_logged_model_experiment(req->srv->store, v, &exp, err);
		if (exp < 0)
			return denied(err); /* an unknown model denies, as MLflow (no oracle for ids) */
		add_in_experiment(&q, "logged_model", i64s(req->arena, exp), act);
		break;
	}
	case RES_REGISTERED_MODEL:
		add(&q, "registered_model", v, act, NULL, NULL);
		if (is(r, "/mlflow/registered-models/delete"))
			add(&q, "registered_model_version", "*", A_DELETE, "registered_model", v);
		else if (is(r, "/mlflow/registered-models/alias") && req->method != MT_GET)
			add(&q, "registered_model_version", "*", A_READ, "registered_model", v);
		else if (is(r, "/mlflow/model-versions/create"))
			add(&q, "registered_model_version", "*", A_NOT_DENIED, NULL, NULL);
		break;
	case RES_MODEL_VERSION:
		add(&q, "registered_model", v, A_READ, NULL, NULL);
		/* transition-stage and approving a transition request: the server's promotion rule */
		add(&q, "registered_model_version", "*",
		    is(r, "/mlflow/model-versions/transition-stage") || is(r, "/mlflow/databricks/model-versions/transition-stage") ||
		            is(r, "/mlflow/transition-requests/approve") || is(r, "/mlflow/transition-requests/reject")
		        ? A_STAGE
		        : act,
		    "registered_model", v);
		break;
	case RES_GRANT_TARGET: {
		const char *type = resource_value(req, "resource_type");
		if (v && strcmp(v, "*") == 0)
			return denied(err); /* a wildcard grant is not anyone's resource: admins only */
		if (!type || (strcmp(type, "experiment") && strcmp(type, "registered_model")))
			return MT_OK; /* the handler refuses an unsupported type with a 400 */
		add(&q, type, v, act, NULL, NULL);
		break;
	}
	case RES_EXPERIMENT_LIST: {
		/* a route reading several experiments needs the level on each of them */
		const cJSON *arr = json_field(req->args, r->res_field ? r->res_field : "experiment_ids");
		const cJSON *it;
		if (arr && cJSON_IsString(arr)) {
			add(&q, "experiment", arr->valuestring, act, NULL, NULL);
			break;
		}
		cJSON_ArrayForEach(it, arr)
		{
			if (!cJSON_IsString(it))
				return denied(err);
			struct requirement one = {"experiment", it->valuestring, act, NULL, NULL};
			if (check_all(req, &one, 1, err) != MT_OK)
				return err->code;
		}
		if (arr && cJSON_GetArraySize(arr) > 0)
			return MT_OK;
		add(&q, "experiment", "*", act, NULL, NULL);
		break;
	}
	case RES_SERVER:
	case RES_EXPERIMENT_NEW:
	case RES_WEBHOOK:
	case RES_USER:
	case RES_ROLE:
		add(&q, "experiment", "*", act, NULL, NULL);
		break;
	}
	return check_all(req, q.r, q.n, err);
}

bool acl_can_search_in(struct mt_request *req, const char *experiment_id)
{
	if (req->srv == NULL || !req->srv->cfg->auth_enabled || req->is_admin)
		return true;
	const char *tier = req->route && strstr(req->route->pattern, "/logged-models") ? "logged_model" : "run";
	struct reqs q = {.n = 0};
	add_in_experiment(&q, tier, experiment_id, A_READ);
	struct mt_err err;
	mt_err_init(&err);
	return check_all(req, q.r, q.n, &err) == MT_OK;
}

/* The resources of `type` the principal may read, as "all", "only these" or "all but these" (exceptions are
 * the exact-id patterns whose fold, with the wildcard grants, differs from the wildcard's verdict). */
static enum mt_error readable_set(struct mt_request *req, const char *type, enum acl_filter_mode *mode,
                                  const char ***ids, size_t *n, struct mt_err *err)
{
	*mode = ACL_FILTER_ALL;
	*ids = NULL;
	*n = 0;
	if (req->srv == NULL || !req->srv->cfg->auth_enabled || req->is_admin)
		return MT_OK;
	struct mt_acl_row *rows;
	size_t nr;
	bool ws_admin = false;
	if (store_acl_rows(req->srv->store, req->arena, req->user_id, type, NULL, &rows, &nr, &ws_admin, err) != MT_OK)
		return err->code;
	if (ws_admin)
		return MT_OK;
	/* the wildcard grants alone decide every resource without a grant of its own */
	bool wdeny = false;
	int wbest = SILENT;
	for (size_t i = 0; i < nr; i++) {
		if (strcmp(rows[i].resource_pattern, "*") != 0)
			continue;
		int l = acl_level_parse(rows[i].permission);
		if (l == ACL_DENY)
			wdeny = true;
		else if (l > wbest)
			wbest = l;
	}
	int wl = wdeny ? ACL_DENY : wbest;
	bool base = (wl == SILENT ? default_level(req) : floor_level(req, wl)) >= ACL_READ;
	const char **v = arena_alloc(req->arena, (nr ? nr : 1) * sizeof *v);
	size_t cnt = 0;
	for (size_t i = 0; i < nr; i++) {
		const char *id = rows[i].resource_pattern;
		if (strcmp(id, "*") == 0)
			continue;
		bool seen = false;
		for (size_t k = 0; k < cnt && !seen; k++)
			seen = strcmp(v[k], id) == 0;
		bool d = wdeny;
		int best = wbest;
		for (size_t j = 0; j < nr && !seen; j++) {
			if (strcmp(rows[j].resource_pattern, id) != 0)
				continue;
			int l = acl_level_parse(rows[j].permission);
			if (l == ACL_DENY)
				d = true;
			else if (l > best)
				best = l;
		}
		if (seen)
			continue;
		bool readable = !d && floor_level(req, best) >= ACL_READ;
		if (readable != base)
			v[cnt++] = id;
	}
	*mode = base ? ACL_FILTER_EXCEPT : ACL_FILTER_ONLY;
	*ids = v;
	*n = cnt;
	if (base && cnt == 0)
		*mode = ACL_FILTER_ALL;
	return MT_OK;
}

enum mt_error acl_readable_experiments(struct mt_request *req, enum acl_filter_mode *mode, int64_t **ids, size_t *n,
                                       struct mt_err *err)
{
	const char **v;
	size_t nv;
	if (readable_set(req, "experiment", mode, &v, &nv, err) != MT_OK)
		return err->code;
	*ids = arena_alloc(req->arena, (nv ? nv : 1) * sizeof **ids);
	*n = 0;
	for (size_t i = 0; i < nv; i++)
		if (mt_parse_i64(v[i], &(*ids)[*n]))
			(*n)++;
	return MT_OK;
}

enum mt_error acl_readable_models(struct mt_request *req, bool versions, enum acl_filter_mode *mode,
                                  const char **names_json, struct mt_err *err)
{
	const char **v;
	size_t nv;
	*names_json = NULL;
	if (readable_set(req, "registered_model", mode, &v, &nv, err) != MT_OK)
		return err->code;
	if (versions && req->srv && req->srv->cfg->auth_enabled && !req->is_admin) {
		/* a grant on the version tier decides versions for every model (tier override) */
		bool admin = false;
		int l = fold_key(req, req->user_id, "registered_model_version", "*", &admin);
		if (!admin && l != SILENT && floor_level(req, l) < ACL_READ) {
			*mode = ACL_FILTER_ONLY;
			nv = 0;
		}
	}
	if (*mode == ACL_FILTER_ALL)
		return MT_OK;
	cJSON *arr = cJSON_CreateArray();
	for (size_t i = 0; i < nv; i++)
		cJSON_AddItemToArray(arr, cJSON_CreateString(v[i]));
	char *js = cJSON_PrintUnformatted(arr);
	cJSON_Delete(arr);
	*names_json = arena_strdup(req->arena, js);
	cJSON_free(js);
	return MT_OK;
}

/* ---- the route table check ---- */

static const char *const public_routes[] = {"/health", "/version"};

enum mt_error acl_check_routes(const struct mt_route *routes, size_t n, struct mt_err *err)
{
	for (size_t i = 0; i < n; i++) {
		const struct mt_route *r = &routes[i];
		const char *p = r->pattern ? r->pattern : "(null)";
		if (r->perm == PERM_PUBLIC) {
			bool listed = false;
			for (size_t k = 0; k < sizeof public_routes / sizeof public_routes[0]; k++)
				listed |= strcmp(p, public_routes[k]) == 0;
			if (!listed)
				return mt_fail(err, MT_INTERNAL_ERROR,
				               "route %.200s has no permission declaration (PERM_PUBLIC is reserved for the "
				               "listed public routes)",
				               p);
			continue;
		}
		if ((int)r->perm < 0 || r->perm > PERM_ADMIN)
			return mt_fail(err, MT_INTERNAL_ERROR, "route %.200s declares an unknown permission %d", p, (int)r->perm);
		if (r->flags == 0 || r->methods == 0)
			return mt_fail(err, MT_INTERNAL_ERROR, "route %.200s declares no methods or prefix", p);
		bool resource_perm = r->perm == PERM_READ || r->perm == PERM_USE || r->perm == PERM_EDIT || r->perm == PERM_MANAGE;
		bool has_resource = r->res != RES_SERVER && r->res != RES_USER && r->res != RES_WEBHOOK &&
		                    r->res != RES_EXPERIMENT_NEW && r->res != RES_ROLE;
		if (resource_perm && !has_resource)
			return mt_fail(err, MT_INTERNAL_ERROR, "route %.200s needs a resource permission but names no resource", p);
		if (resource_perm && r->res != RES_EXPERIMENT_LIST && r->res != RES_EXPERIMENT && r->res_field == NULL)
			return mt_fail(err, MT_INTERNAL_ERROR, "route %.200s does not say where its resource id is", p);
	}
	return MT_OK;
}

enum mt_error acl_authorize(struct mt_request *req, struct mt_err *err)
{
	const struct mt_route *r = req->route;
	if (r == NULL)
		return mt_fail(err, MT_PERMISSION_DENIED, "Permission denied");
	if (r->perm == PERM_PUBLIC)
		return MT_OK;
	if (req->srv == NULL || !req->srv->cfg->auth_enabled)
		return MT_OK; /* authentication off: open server, as `mlflow server` without --app-name */
	if (authenticate(req, err) != MT_OK)
		return err->code;
	if (req->is_admin)
		return MT_OK;
	switch (r->perm) {
	case PERM_PUBLIC:
	case PERM_AUTHENTICATED: return MT_OK;
	case PERM_ADMIN: return mt_fail(err, MT_PERMISSION_DENIED, "Permission denied");
	case PERM_READ:
	case PERM_USE:
	case PERM_EDIT:
	case PERM_MANAGE: return authorize_resource(req, r, err);
	}
	return mt_fail(err, MT_PERMISSION_DENIED, "Permission denied");
}

void acl_after_success(struct mt_request *req)
{
	if (!req->srv || !req->srv->cfg->auth_enabled || req->user_id == 0 || !req->route)
		return;
	struct mt_err err;
	mt_err_init(&err);
	if (req->route->res == RES_EXPERIMENT_NEW && req->created_id)
		store_grant_set(req->srv->store, req->user_id, "experiment", req->created_id, "MANAGE", &err);
	else if (req->route->res == RES_REGISTERED_MODEL && req->method == MT_POST && req->route->perm == PERM_AUTHENTICATED)
		store_grant_set(req->srv->store, req->user_id, "registered_model", resource_value(req, "name"), "MANAGE", &err);
	if (err.code != MT_OK)
		mt_log(MT_LOG_WARN, "could not grant MANAGE to the creator: %s", err.msg);
}

enum mt_error acl_bootstrap(struct mt_server *srv, struct mt_err *err)
{
	const struct mt_config *cfg = srv->cfg;
	if (acl_check_routes(mt_routes, mt_routes_count, err) != MT_OK)
		return err->code;
	if (!cfg->auth_enabled) {
		mt_log(MT_LOG_WARN, "authentication is off: anyone who can reach %s:%d has full access", cfg->host, cfg->port);
		return MT_OK;
	}
	int64_t n = 0;
	if (store_user_count(srv->store, &n, err) != MT_OK)
		return err->code;
	if (n > 0)
		return MT_OK;
	const char *pw = cfg->admin_password;
	if (!pw || strlen(pw) < AUTH_MIN_PASSWORD_LENGTH)
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE,
		               "authentication is on and there are no users: set MLFLOW_AUTH_ADMIN_PASSWORD (at least %d "
		               "characters) to create the admin '%s'",
		               AUTH_MIN_PASSWORD_LENGTH, cfg->admin_username);
	char *hash = auth_password_hash_new(pw, AUTH_PBKDF2_ITERATIONS);
	enum mt_error rc = store_user_create(srv->store, cfg->admin_username, hash, true, NULL, err);
	free(hash);
	if (rc == MT_OK)
		mt_log(MT_LOG_INFO, "created the admin user '%s'", cfg->admin_username);
	return rc;
}

/* ---- grant validation (MLflow 3.17's permissions.py rules and messages) ---- */

static const char *const resource_types[] = {
	"assessment", "experiment", "gateway_endpoint", "gateway_model_definition", "gateway_secret", "logged_model",
	"mcp_server", "mcp_server_version", "prompt", "prompt_version", "registered_model", "registered_model_version",
	"review_queue", "run", "scorer", "scorer_version", "trace", "workspace"};
/* Types that take an exact id as well as '*'; the rest (sub-resource tiers, workspace) are wildcard-only. */
static const char *const id_types[] = {"experiment", "registered_model", "prompt", "scorer", "gateway_secret",
                                       "gateway_endpoint", "gateway_model_definition", "mcp_server"};

static bool in_list(const char *s, const char *const *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(s, v[i]) == 0)
			return true;
	return false;
}

enum mt_error acl_validate_type(const char *type, struct mt_err *err)
{
	if (in_list(type, resource_types, sizeof resource_types / sizeof resource_types[0]))
		return MT_OK;
	char all[600];
	size_t o = 0;
	for (size_t i = 0; i < sizeof resource_types / sizeof resource_types[0]; i++)
		o += (size_t)snprintf(all + o, sizeof all - o, "%s'%s'", i ? ", " : "", resource_types[i]);
	return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "Invalid resource type '%.100s'. Valid resource types are: (%s)",
	               type, all);
}

enum mt_error acl_validate_pattern(const char *type, const char *pattern, struct mt_err *err)
{
	if (acl_validate_type(type, err) != MT_OK)
		return err->code;
	if (strcmp(pattern, "*") == 0 || in_list(type, id_types, sizeof id_types / sizeof id_types[0]))
		return MT_OK;
	return mt_fail(err, MT_INVALID_PARAMETER_VALUE,
	               "Invalid resource_pattern '%.200s' for resource_type='%.100s'. This resource type supports only "
	               "wildcard ('*') grants.",
	               pattern, type);
}

enum mt_error acl_validate_permission(const char *perm, const char *type, struct mt_err *err)
{
	int l = acl_level_parse(perm);
	bool promotion = l == ACL_MANAGE_STAGING || l == ACL_MANAGE_PRODUCTION;
	if (l == ACL_INVALID)
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE,
		               "Invalid permission '%.100s'. Valid permissions are: ('READ', 'USE', 'EDIT', 'MANAGE', "
		               "'NO_PERMISSIONS', 'DENY', 'MANAGE_STAGING_VERSIONS', 'MANAGE_PRODUCTION_VERSIONS')",
		               perm);
	if (acl_validate_type(type, err) != MT_OK)
		return err->code;
	if (strcmp(type, "workspace") == 0) {
		if (l == ACL_USE || l == ACL_MANAGE)
			return MT_OK;
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE,
		               "Invalid permission '%.100s' for resource_type='workspace'. Workspace-wide grants accept only: "
		               "('MANAGE', 'USE').",
		               perm);
	}
	/* the registry's promotion levels (mltrackd): on registered models and their versions only */
	if (l == ACL_NONE || (promotion && strcmp(type, "registered_model") && strcmp(type, "registered_model_version")))
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE,
		               "Invalid permission '%.100s' for resource_type='%.100s'. Resource-level grants accept only: "
		               "('DENY', 'EDIT', 'MANAGE', 'READ', 'USE')%s.",
		               perm, type, promotion ? " (MANAGE_*_VERSIONS on registered models only)" : "");
	return MT_OK;
}
