/* SPDX-License-Identifier: Apache-2.0 */
/* tokens.c: mltrackd's bearer-token API (/api/2.0/mltrackd/tokens/{create,list,revoke}): a user manages their
 * own tokens, an admin anyone's. The token is shown once at creation; only its SHA-256 is stored. */
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"
#include "mltrackd/acl.h"
#include "mltrackd/auth.h"
#include "mltrackd/store_auth.h"
#include "mltrackd/util.h"

#define MAX_TOKEN_NAME 256
#define MAX_EXPIRY_SECONDS (10LL * 365 * 24 * 3600)

/* The user whose tokens a request names: `username` (default: the caller); someone else's needs an admin. */
static enum mt_error token_owner(struct mt_request *req, struct mt_user *u, struct mt_err *err)
{
	const char *user = NULL;
	if (json_get_str(req->args, "username", false, &user, err) != MT_OK)
		return err->code;
	if (!user)
		user = req->principal;
	if (!user)
		return json_fail_missing(err, "username");
	bool self = req->principal && strcmp(req->principal, user) == 0;
	if (req->srv->cfg->auth_enabled && !req->is_admin && !self)
		return mt_fail(err, MT_PERMISSION_DENIED, "Permission denied");
	return store_user_get(req->srv->store, req->arena, user, u, err);
}

MT_HANDLER(api_tokens_create)
{
	struct mt_user u;
	const char *name = NULL;
	int64_t expires_in = 0;
	bool has_exp = false;
	if (token_owner(req, &u, err) != MT_OK || json_get_str(req->args, "name", false, &name, err) != MT_OK ||
	    json_get_i64(req->args, "expires_in_seconds", false, &expires_in, &has_exp, err) != MT_OK)
		return err->code;
	if (name && strlen(name) > MAX_TOKEN_NAME)
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "'name' exceeds the maximum length of %d characters",
		               MAX_TOKEN_NAME);
	if (has_exp && (expires_in <= 0 || expires_in > MAX_EXPIRY_SECONDS))
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE,
		               "'expires_in_seconds' must be between 1 and %lld, got %lld", MAX_EXPIRY_SECONDS,
		               (long long)expires_in);
	char *tok = auth_token_new();
	char hex[65];
	auth_token_hash(tok, hex);
	int64_t now = mt_now_ms(), expires_at = has_exp ? now + expires_in * 1000 : 0, id = 0;
	if (store_token_create_id(req->srv->store, u.id, hex, name, expires_at, &id, err) != MT_OK) {
		free(tok);
		return err->code;
	}
	struct jw *w = http_reply_json(req, resp);
	jw_kv_str(w, "token", tok);
	jw_key(w, "token_info");
	jw_obj_open(w);
	jw_kv_int(w, "id", id);
	jw_kv_str(w, "name", name ? name : "");
	jw_kv_str(w, "username", u.username);
	jw_kv_int(w, "creation_time", now);
	if (expires_at)
		jw_kv_int(w, "expiration_time", expires_at);
	jw_obj_close(w);
	http_reply_json_end(w);
	explicit_bzero(tok, strlen(tok));
	free(tok);
	return MT_OK;
}

MT_HANDLER(api_tokens_list)
{
	struct mt_user u;
	struct mt_token *v;
	size_t n;
	if (token_owner(req, &u, err) != MT_OK || store_token_list(req->srv->store, req->arena, u.id, &v, &n, err) != MT_OK)
		return err->code;
	int64_t now = mt_now_ms();
	struct jw *w = http_reply_json(req, resp);
	jw_key(w, "tokens");
	jw_arr_open(w);
	for (size_t i = 0; i < n; i++) {
		jw_obj_open(w);
		jw_kv_int(w, "id", v[i].id);
		jw_kv_str(w, "name", v[i].name);
		jw_kv_int(w, "creation_time", v[i].created_at);
		if (v[i].expires_at)
			jw_kv_int(w, "expiration_time", v[i].expires_at);
		if (v[i].revoked_at)
			jw_kv_int(w, "revocation_time", v[i].revoked_at);
		jw_kv_bool(w, "active", !v[i].revoked_at && (!v[i].expires_at || v[i].expires_at > now));
		jw_obj_close(w);
	}
	jw_arr_close(w);
	http_reply_json_end(w);
	return MT_OK;
}

MT_HANDLER(api_tokens_revoke)
{
	struct mt_user u;
	int64_t id = 0;
	if (token_owner(req, &u, err) != MT_OK || json_get_i64(req->args, "token_id", true, &id, NULL, err) != MT_OK ||
	    store_token_revoke(req->srv->store, u.id, id, err) != MT_OK)
		return err->code;
	acl_invalidate_credentials(); /* a cached verification of this token must not outlive it */
	http_reply_empty(resp);
	return MT_OK;
}
