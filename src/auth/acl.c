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
	struct mt_user u;
	struct mt_err lerr;
	mt_err_init(&lerr);
	if (cred.scheme == AUTH_BASIC) {
		if (store_user_get(req->srv->store, req->arena, cred.username, &u, &lerr) != MT_OK ||
		    !auth_password_verify(cred.password, u.password_hash))
			return unauthenticated(err);
	} else if (cred.scheme == AUTH_BEARER) {
		char hex[65];
		auth_token_hash(cred.token, hex);
		if (store_token_user(req->srv->store, req->arena, hex, &u, &lerr) != MT_OK)
			return unauthenticated(err);
	} else {
		return unauthenticated(err);
	}
	req->user_id = u.id;
	req->is_admin = u.is_admin;
	req->principal = u.username;
	cache_put(key, gen, req);
	return MT_OK;
}

/* ---- permission levels ---- */

int acl_level_parse(const char *name)
{
	if (!name)
		return -1;
	if (!strcmp(name, "READ"))
		return ACL_READ;
	if (!strcmp(name, "USE"))
		return ACL_USE;
	if (!strcmp(name, "EDIT"))
		return ACL_EDIT;
	if (!strcmp(name, "MANAGE"))
		return ACL_MANAGE;
	if (!strcmp(name, "NO_PERMISSIONS") || !strcmp(name, "DENY"))
		return ACL_NONE;
	return -1;
}

enum acl_level acl_level_for(struct mt_request *req, const char *resource_type, const char *resource_id)
{
	const struct mt_config *cfg = req->srv->cfg;
	int dflt = acl_level_parse(cfg->default_permission);
	if (dflt < 0)
		dflt = ACL_NONE;
	if (resource_id == NULL)
		return (enum acl_level)dflt;
	const char *perm = NULL;
	struct mt_err err;
	mt_err_init(&err);
	if (store_grant_get(req->srv->store, req->arena, req->user_id, resource_type, resource_id, &perm, &err) != MT_OK)
		return ACL_NONE; /* fail closed on a storage error */
	if (perm == NULL)
		return (enum acl_level)dflt;
	int lvl = acl_level_parse(perm);
	return lvl < 0 ? ACL_NONE : (enum acl_level)lvl;
}

static enum acl_level needed(enum mt_perm p)
{
	switch (p) {
	case PERM_READ: return ACL_READ;
	case PERM_EDIT: return ACL_EDIT;
	case PERM_MANAGE: return ACL_MANAGE;
	case PERM_PUBLIC:
	case PERM_AUTHENTICATED:
	case PERM_ADMIN: break;
	}
	return ACL_MANAGE;
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

static enum mt_error check_level(struct mt_request *req, const char *type, const char *id, enum acl_level need,
                                 struct mt_err *err)
{
	if (acl_level_for(req, type, id) >= need)
		return MT_OK;
	return mt_fail(err, MT_PERMISSION_DENIED, "Permission denied");
}

static enum mt_error authorize_resource(struct mt_request *req, const struct mt_route *r, struct mt_err *err)
{
	enum acl_level need = needed(r->perm);
	const char *v = resource_value(req, r->res_field);
	switch (r->res) {
	case RES_EXPERIMENT:
		/* runs/create without an experiment goes to the Default experiment "0" */
		return check_level(req, "experiment", v ? v : "0", need, err);
	case RES_EXPERIMENT_NAME: {
		int64_t exp = -1;
		if (v)
			store_acl_experiment_by_name(req->srv->store, v, &exp, err);
		if (exp < 0)
			return MT_OK; /* unknown name: the handler answers 404, as MLflow's validator lets it */
		return check_level(req, "experiment", i64s(req->arena, exp), need, err);
	}
	case RES_RUN: {
		if (!v)
			v = resource_value(req, "run_uuid");
		const char *exp = run_experiment(req, v);
		if (!exp)
			return MT_OK; /* unknown run: the handler answers 404 */
		return check_level(req, "experiment", exp, need, err);
	}
	case RES_RUN_LIST: {
		const cJSON *arr = json_field(req->args, r->res_field);
		if (arr && cJSON_IsString(arr)) {
			const char *exp = run_experiment(req, arr->valuestring);
			return exp ? check_level(req, "experiment", exp, need, err) : MT_OK;
		}
		const cJSON *it;
		cJSON_ArrayForEach(it, arr)
		{
			const char *exp = cJSON_IsString(it) ? run_experiment(req, it->valuestring) : NULL;
			if (exp && check_level(req, "experiment", exp, need, err) != MT_OK)
				return err->code;
		}
		return MT_OK;
	}
	case RES_ARTIFACT: {
		/* Proxied artifact paths start with the experiment id: "<exp>/<run>/artifacts/..." */
		if (v && v[0] >= '0' && v[0] <= '9') {
			size_t n = strspn(v, "0123456789");
			if (v[n] == '/' || v[n] == '\0')
				return check_level(req, "experiment", arena_strndup(req->arena, v, n), need, err);
		}
		return check_level(req, "experiment", NULL, need, err);
	}
	case RES_REGISTERED_MODEL:
	case RES_MODEL_VERSION:
		return check_level(req, "registered_model", v, need, err);
	case RES_EXPERIMENT_LIST: {
		/* A route reading several experiments needs the level on each of them. */
		const cJSON *arr = json_field(req->args, r->res_field ? r->res_field : "experiment_ids");
		if (arr && cJSON_IsString(arr))
			return check_level(req, "experiment", arr->valuestring, need, err);
		const cJSON *it;
		int n = 0;
		cJSON_ArrayForEach(it, arr)
		{
			if (!cJSON_IsString(it) || check_level(req, "experiment", it->valuestring, need, err) != MT_OK)
				return mt_fail(err, MT_PERMISSION_DENIED, "Permission denied");
			n++;
		}
		return n ? MT_OK : check_level(req, "experiment", NULL, need, err);
	}
	case RES_GRANT_TARGET: {
		const char *type = resource_value(req, "resource_type");
		if (!type || (strcmp(type, "experiment") && strcmp(type, "registered_model")))
			return MT_OK; /* the handler refuses an unsupported type with a 400 */
		return check_level(req, type, v, need, err);
	}
	case RES_LOGGED_MODEL: {
		int64_t exp = -1;
		if (v)
			store_logged_model_experiment(req->srv->store, v, &exp, err);
		/* an unknown model falls back to the default permission: fail closed */
		return check_level(req, "experiment", exp >= 0 ? i64s(req->arena, exp) : NULL, need, err);
	}
	case RES_SERVER:
	case RES_EXPERIMENT_NEW:
	case RES_WEBHOOK:
	case RES_USER:
		break;
	}
	return check_level(req, "experiment", NULL, need, err);
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
