/* SPDX-License-Identifier: Apache-2.0 */
/* model_versions.c: the model-versions endpoints (create with MLflow 3.17's source checks, get, update,
 * delete, search, transition-stage, get-download-uri, tags). No SQL here; runs and logged models are read
 * through their stores. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api_internal.h"
#include "mltrackd/store_models.h"
#include "mltrackd/store_promotion.h"
#include "mltrackd/store_registry.h"
#include "mltrackd/store_runs.h"
#include "mltrackd/util.h"
#include "mltrackd/validate.h"

/* ---- a URI split the way Python's urllib.parse.urlparse splits it ---- */

struct uri {
	const char *scheme; /* lowercased; "" when none */
	const char *netloc; /* NULL when there is no "//" authority */
	const char *path;
};

static void uri_parse(struct arena *a, const char *s, struct uri *u)
{
	u->scheme = "";
	u->netloc = NULL;
	const char *colon = strchr(s, ':');
	const char *rest = s;
	if (colon && colon > s && isalpha((unsigned char)s[0]) && (unsigned char)s[0] < 0x80) {
		bool ok = true;
		for (const char *p = s; p < colon && ok; p++)
			ok = isalnum((unsigned char)*p) || *p == '+' || *p == '-' || *p == '.';
		if (ok) {
			char *sc = arena_strndup(a, s, (size_t)(colon - s));
			for (char *p = sc; *p; p++)
				*p = (char)tolower((unsigned char)*p);
			u->scheme = sc;
			rest = colon + 1;
		}
	}
	if (rest[0] == '/' && rest[1] == '/') {
		size_t n = strcspn(rest + 2, "/?#");
		u->netloc = arena_strndup(a, rest + 2, n);
		rest += 2 + n;
	}
	u->path = arena_strndup(a, rest, strcspn(rest, "?#"));
}

static int hexval(char c)
{
	return isdigit((unsigned char)c) ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
}

/* One round of unquote (plus: '+' -> ' ' as unquote_plus). Returns a new arena string. */
static char *unquote_once(struct arena *a, const char *s, bool plus)
{
	size_t n = strlen(s), j = 0;
	char *out = arena_alloc(a, n + 1);
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
			out[j++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
			i += 2;
		} else {
			out[j++] = plus && s[i] == '+' ? ' ' : s[i];
		}
	}
	out[j] = '\0';
	return out;
}

static const char *unquote_all(struct arena *a, const char *s, bool plus, size_t *len)
{
	for (int rounds = 0; rounds < 16; rounds++) {
		char *u = unquote_once(a, s, plus);
		/* a decoded NUL shortens the C string: keep the length that was decoded */
		if (strcmp(u, s) == 0)
			break;
		s = u;
	}
	*len = strlen(s);
	return s;
}

static enum mt_error bad_source(struct mt_err *err, const char *source, const char *id_name)
{
	return mt_fail(err, MT_INVALID_PARAMETER_VALUE,
	               "Invalid model version source: '%.1000s'. The %s request parameter must identify the resource that "
	               "contains the source.",
	               source, id_name);
}

static enum mt_error relative_source(struct mt_err *err, const char *source)
{
	return mt_fail(err, MT_INVALID_PARAMETER_VALUE,
	               "Invalid model version source: '%.1000s'. If supplying a source as an http, https, local file path, "
	               "ftp, objectstore, or mlflow-artifacts uri, an absolute path must be provided without relative path "
	               "references present. Please provide an absolute path.",
	               source);
}

/* handlers.py _validate_non_local_source_contains_relative_paths: after full URL-decoding, no NUL, no ".."
 * segment, and the path must already be absolute and normal (Path.resolve() would change it otherwise). */
static enum mt_error check_relative_paths(struct arena *a, const char *source, struct mt_err *err)
{
	size_t len;
	const char *dec = unquote_all(a, source, true, &len);
	/* a %00 decodes to NUL: the C string ends early; compare against the raw form to catch it */
	if (strstr(source, "%00") || strstr(source, "%2500"))
		return relative_source(err, source);
	for (const char *seg = dec;;) {
		const char *end = strchr(seg, '/');
		size_t n = end ? (size_t)(end - seg) : strlen(seg);
		if (n == 2 && seg[0] == '.' && seg[1] == '.')
			return relative_source(err, source);
		if (!end)
			break;
		seg = end + 1;
	}
	struct uri u;
	uri_parse(a, dec, &u);
	/* collapse runs of '/', strip trailing '/' */
	size_t n = strlen(u.path), j = 0;
	char *p = arena_alloc(a, n + 1);
	for (size_t i = 0; i < n; i++)
		if (!(u.path[i] == '/' && j > 0 && p[j - 1] == '/'))
			p[j++] = u.path[i];
	while (j > 0 && p[j - 1] == '/')
		j--;
	p[j] = '\0';
	if (p[0] != '/' || strstr(p, "/./") || (j >= 2 && p[j - 2] == '/' && p[j - 1] == '.'))
		return relative_source(err, source);
	return MT_OK;
}

/* mlflow/store/artifact/host_policy.py: schemes that make the server connect to the host named in the URI
 * are refused (mltrackd trusts no host: its artifact root is served by itself or local). */
static enum mt_error check_host_scheme(const struct uri *u, struct mt_err *err)
{
	static const char *const schemes[] = {"ftp", "sftp", "hdfs", "viewfs", "http", "https", "mlflow-artifacts", "r2",
	                                      "b2", "abfss"};
	for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++) {
		if (strcmp(u->scheme, schemes[i]) != 0)
			continue;
		if (!strcmp(u->scheme, "mlflow-artifacts") && (u->netloc == NULL || u->netloc[0] == '\0'))
			return MT_OK;
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE,
		               "'source' cannot use the '%s' scheme: the '%s' scheme addresses a host other than the tracking "
		               "server's configured artifact storage, so the server would connect to the host named in the URI. "
		               "Set the MLFLOW_ALLOWED_HOST_ADDRESSED_ARTIFACT_SCHEMES environment variable on the server to "
		               "allow it.",
		               u->scheme, u->scheme);
	}
	return MT_OK;
}

static bool is_local(const struct uri *u)
{
	if (u->scheme[0] == '\0' || !strcmp(u->scheme, "file"))
		return true;
	return false;
}

/* Path parts of a URI, each fully unquoted, empty parts dropped. */
static size_t uri_parts(struct arena *a, const char *path, const char ***out)
{
	size_t cap = 8, n = 0;
	const char **v = arena_alloc(a, cap * sizeof *v);
	for (const char *seg = path;;) {
		const char *end = strchr(seg, '/');
		size_t len = end ? (size_t)(end - seg) : strlen(seg);
		if (len) {
			v = arena_grow(a, v, n, &cap, sizeof *v);
			size_t l;
			v[n++] = unquote_all(a, arena_strndup(a, seg, len), false, &l);
		}
		if (!end)
			break;
		seg = end + 1;
	}
	*out = v;
	return n;
}

/* handlers.py _is_uri_within_root: same scheme and authority, and the root's path parts prefix the source's. */
static bool within_root(struct arena *a, const char *source, const char *root)
{
	struct uri s, r;
	uri_parse(a, source, &s);
	uri_parse(a, root, &r);
	if (strcmp(s.scheme, r.scheme) != 0 || strcasecmp(s.netloc ? s.netloc : "", r.netloc ? r.netloc : "") != 0)
		return false;
	const char **sp, **rp;
	size_t ns = uri_parts(a, s.path, &sp), nr = uri_parts(a, r.path, &rp);
	if (nr == 0 || ns < nr)
		return false;
	for (size_t i = 0; i < nr; i++)
		if (strcmp(sp[i], rp[i]) != 0)
			return false;
	return true;
}

/* A local path (or file: URI) as an absolute, normal path; NULL when it is neither. */
static const char *local_path(struct arena *a, const char *uri)
{
	struct uri u;
	uri_parse(a, uri, &u);
	size_t len;
	const char *p = unquote_all(a, u.path, false, &len);
	if (p[0] != '/' || strstr(p, "/../") || strstr(p, "/./"))
		return NULL;
	return p;
}

/* A local source is allowed only inside the local artifact directory of its run or logged model. */
static bool local_within(struct arena *a, const char *source, const char *root)
{
	struct uri r;
	uri_parse(a, root, &r);
	if (!is_local(&r))
		return false;
	const char *sp = local_path(a, source), *rp = local_path(a, root);
	if (!sp || !rp)
		return false;
	size_t n = strlen(rp);
	while (n > 1 && rp[n - 1] == '/')
		n--;
	return strncmp(sp, rp, n) == 0 && (sp[n] == '\0' || sp[n] == '/');
}

static enum mt_error local_refused(struct mt_err *err, const char *source, const char *id_name, const char *what)
{
	return mt_fail(err, MT_INVALID_PARAMETER_VALUE,
	               "Invalid model version source: '%.1000s'. To use a local path as a model version source, the %s "
	               "request parameter has to be specified and the local path has to be contained within the artifact "
	               "directory of the %s specified by the %s.",
	               source, id_name, what, id_name);
}

/* A models:/ URI parsed as mlflow's _parse_model_uri: either a logged-model id, or a name with a version,
 * a stage, an alias, or nothing (= latest). */
struct model_uri {
	const char *model_id, *name, *version, *stage, *alias;
};

static bool parse_models_uri(struct arena *a, const struct uri *u, struct model_uri *m)
{
	memset(m, 0, sizeof *m);
	const char *path = u->path;
	if (path[0] != '/' || path[1] == '\0')
		return false;
	while (*path == '/')
		path++;
	const char *slash = strchr(path, '/');
	if (slash) {
		if (strchr(slash + 1, '/') || slash == path)
			return false;
		m->name = arena_strndup(a, path, (size_t)(slash - path));
		const char *suffix = slash + 1;
		bool blank = true, digits = suffix[0] != '\0';
		for (const char *p = suffix; *p; p++) {
			blank = blank && isspace((unsigned char)*p);
			digits = digits && isdigit((unsigned char)*p);
		}
		if (blank)
			return false;
		if (digits)
			m->version = suffix;
		else if (strcasecmp(suffix, "latest") != 0)
			m->stage = suffix;
		return true;
	}
	const char *at = strrchr(path, '@');
	if (at) {
		if (at[1] == '\0')
			return false;
		m->name = arena_strndup(a, path, (size_t)(at - path));
		m->alias = at + 1;
		return true;
	}
	m->model_id = path;
	return true;
}

/* ---- create ---- */

struct mv_request {
	const char *name, *source, *run_id, *model_id, *run_link, *description;
	bool has_run_id, has_model_id, prompt;
	struct mt_tag *tags;
	size_t n_tags;
	const char *storage_location;
};

/* handlers.py _resolve_registered_model_source_lineage: models:/<name>/<v|stage|latest> and models:/<name>@alias
 * become models:/<name>/<version>, inheriting that version's run_id and model_id; its storage is the target's. */
static enum mt_error resolve_lineage(struct mt_request *req, struct mv_request *r, struct mt_err *err)
{
	struct uri u;
	uri_parse(req->arena, r->source, &u);
	if (strcmp(u.scheme, "models") != 0)
		return MT_OK;
	if (u.netloc && u.netloc[0])
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE,
		               "Invalid model version source: '%.1000s'. Registered model sources must use the active model "
		               "registry.",
		               r->source);
	struct model_uri m;
	if (!parse_models_uri(req->arena, &u, &m))
		return bad_source(err, r->source, "model_id");
	if (m.model_id)
		return MT_OK;
	struct registry_ctx x = api_registry_ctx(req);
	struct mt_registered_model rm;
	if (store_rm_get(&x, m.name, &rm, err) != MT_OK)
		return err->code;
	for (size_t i = 0; i < rm.n_tags; i++)
		if (!strcmp(rm.tags[i].key, MT_PROMPT_TAG_KEY) && !strcasecmp(rm.tags[i].value ? rm.tags[i].value : "", "true"))
			return mt_fail(err, MT_INVALID_PARAMETER_VALUE,
			               "Invalid model version source: '%.1000s'. Prompt versions cannot be used as model version "
			               "sources.",
			               r->source);
	int64_t version = 0;
	struct mt_model_version src;
	if (m.version) {
		if (api_parse_version(m.version, &version, err) != MT_OK)
			return err->code;
	} else if (m.alias) {
		if (store_alias_get(&x, m.name, m.alias, &src, err) != MT_OK)
			return err->code;
		version = src.version;
	} else {
		const char *stage = NULL;
		if (m.stage && api_canonical_stage(req->arena, m.stage, &stage, err) != MT_OK)
			return err->code;
		struct mt_model_version *latest;
		size_t n;
		if (store_rm_latest_versions(&x, m.name, stage ? &stage : NULL, stage ? 1 : 0, &latest, &n, err) != MT_OK)
			return err->code;
		for (size_t i = 0; i < n; i++)
			version = latest[i].version > version ? latest[i].version : version;
		if (n == 0)
			return mt_fail(err, MT_RESOURCE_DOES_NOT_EXIST, "No versions of model with name '%.500s'%s%.100s%s found",
			               m.name, stage ? " and stage '" : "", stage ? stage : "", stage ? "'" : "");
	}
	if (store_mv_get(&x, m.name, version, &src, err) != MT_OK)
		return err->code;
	const char *src_run = src.run_id ? src.run_id : "", *src_model = src.model_id ? src.model_id : "";
	if ((r->has_run_id && strcmp(r->run_id, src_run) != 0) || (r->has_model_id && strcmp(r->model_id, src_model) != 0))
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE,
		               "Invalid model version source: '%.1000s'. The run_id and model_id request parameters must match "
		               "the referenced model version.",
		               r->source);
	r->source = arena_printf(req->arena, "models:/%s/%lld", m.name, (long long)src.version);
	if (!r->has_run_id)
		r->run_id = src.run_id;
	if (!r->has_model_id)
		r->model_id = src.model_id;
	r->storage_location = src.storage_location ? src.storage_location : src.source;
	return MT_OK;
}

/* The run a source names; an unknown run is "the run_id must identify the resource" (as _get_source_run). */
static enum mt_error source_run(struct mt_request *req, const char *run_id, const char *source, struct mt_run *run,
                                struct mt_err *err)
{
	struct mt_err e2;
	mt_err_init(&e2);
	if (store_run_get(req->srv->store, req->arena, run_id, run, &e2) == MT_OK)
		return MT_OK;
	if (e2.code == MT_RESOURCE_DOES_NOT_EXIST)
		return bad_source(err, source, "run_id");
	return mt_fail(err, e2.code, "%s", e2.msg);
}

static enum mt_error source_model(struct mt_request *req, const char *model_id, const char *source,
                                  struct mt_logged_model *m, struct mt_err *err)
{
	struct mt_err e2;
	mt_err_init(&e2);
	if (store_logged_model_get(req->srv->store, req->arena, model_id, false, m, &e2) == MT_OK)
		return MT_OK;
	if (e2.code == MT_RESOURCE_DOES_NOT_EXIST)
		return bad_source(err, source, "model_id");
	return mt_fail(err, e2.code, "%s", e2.msg);
}

static bool is_mlflow_artifacts(struct arena *a, const char *source)
{
	struct uri u;
	uri_parse(a, source, &u);
	return strcmp(u.scheme, "mlflow-artifacts") == 0;
}

/* handlers.py _validate_source_run */
static enum mt_error validate_source_run(struct mt_request *req, const char *source, const char *run_id,
                                         struct mt_err *err)
{
	struct uri u;
	uri_parse(req->arena, source, &u);
	if (is_local(&u)) {
		struct mt_run run;
		if (run_id && run_id[0]) {
			if (source_run(req, run_id, source, &run, err) != MT_OK)
				return err->code;
			if (local_within(req->arena, source, run.info.artifact_uri))
				return MT_OK;
		}
		return local_refused(err, source, "run_id", "run");
	}
	if (check_relative_paths(req->arena, source, err) != MT_OK)
		return err->code;
	if (!strcmp(u.scheme, "runs")) {
		if (u.netloc && u.netloc[0])
			return bad_source(err, source, "run_id");
		const char *p = u.path;
		if (p[0] != '/' || p[1] == '\0' || p[1] == '/')
			return mt_fail(err, MT_INVALID_PARAMETER_VALUE,
			               "Not a proper runs:/ URI: %.1000s. Runs URIs must be of the form "
			               "'runs:/<run_id>/run-relative/path/to/artifact'",
			               source);
		size_t n = strcspn(p + 1, "/");
		if (run_id && run_id[0] && strlen(run_id) == n && strncmp(p + 1, run_id, n) == 0)
			return MT_OK;
		return bad_source(err, source, "run_id");
	}
	if (!strcmp(u.scheme, "models")) {
		struct model_uri m;
		if ((u.netloc && u.netloc[0]) || !parse_models_uri(req->arena, &u, &m) || m.model_id)
			return bad_source(err, source, "model_id");
	}
	if (is_mlflow_artifacts(req->arena, source)) {
		struct mt_run run;
		if (run_id && run_id[0]) {
			if (source_run(req, run_id, source, &run, err) != MT_OK)
				return err->code;
			if (within_root(req->arena, source, run.info.artifact_uri))
				return MT_OK;
		}
		return bad_source(err, source, "run_id");
	}
	return MT_OK;
}

/* handlers.py _validate_source_model */
static enum mt_error validate_source_model(struct mt_request *req, const char *source, const char *model_id,
                                           struct mt_err *err)
{
	struct uri u;
	struct mt_logged_model lm;
	uri_parse(req->arena, source, &u);
	if (is_local(&u)) {
		if (source_model(req, model_id, source, &lm, err) != MT_OK)
			return err->code;
		if (local_within(req->arena, source, lm.artifact_uri))
			return MT_OK;
		return local_refused(err, source, "model_id", "run");
	}
	if (check_relative_paths(req->arena, source, err) != MT_OK)
		return err->code;
	if (!strcmp(u.scheme, "models")) {
		struct model_uri m;
		if ((u.netloc && u.netloc[0]) || !parse_models_uri(req->arena, &u, &m))
			return bad_source(err, source, "model_id");
		if (m.model_id) {
			if (!strcmp(m.model_id, model_id))
				return MT_OK;
			return bad_source(err, source, "model_id");
		}
	}
	if (!strcmp(u.scheme, "runs"))
		return bad_source(err, source, "model_id");
	if (is_mlflow_artifacts(req->arena, source)) {
		if (source_model(req, model_id, source, &lm, err) != MT_OK)
			return err->code;
		if (within_root(req->arena, source, lm.artifact_uri))
			return MT_OK;
		return bad_source(err, source, "model_id");
	}
	return MT_OK;
}

static bool tags_say_prompt(const struct mt_tag *tags, size_t n)
{
	const char *v = "false";
	for (size_t i = 0; i < n; i++)
		if (!strcmp(tags[i].key, MT_PROMPT_TAG_KEY))
			v = tags[i].value ? tags[i].value : "";
	return strcasecmp(v, "true") == 0;
}

MT_HANDLER(api_model_versions_create)
{
	struct mv_request r;
	memset(&r, 0, sizeof r);
	r.run_id = "";
	r.model_id = "";
	if (api_read_model_name(req, "name", &r.name, err) != MT_OK ||
	    json_get_str(req->args, "source", true, &r.source, err) != MT_OK ||
	    json_get_str(req->args, "run_id", false, &r.run_id, err) != MT_OK ||
	    json_get_str(req->args, "model_id", false, &r.model_id, err) != MT_OK ||
	    json_get_str(req->args, "run_link", false, &r.run_link, err) != MT_OK ||
	    json_get_str(req->args, "description", false, &r.description, err) != MT_OK ||
	    api_read_tags(req, "tags", &r.tags, &r.n_tags, err) != MT_OK)
		return err->code;
	r.has_run_id = json_field(req->args, "run_id") != NULL;
	r.has_model_id = json_field(req->args, "model_id") != NULL;
	for (size_t i = 0; i < r.n_tags; i++)
		if (api_validate_registry_tag(r.tags[i].key, r.tags[i].value, err) != MT_OK)
			return err->code;
	r.prompt = tags_say_prompt(r.tags, r.n_tags);
	if (r.prompt && strcmp(r.source, "dummy-source") != 0 && strcmp(r.source, "prompt-template") != 0)
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE,
		               "Invalid prompt source: '%.1000s'. Prompt sources must use an MLflow placeholder.", r.source);
	struct uri u;
	uri_parse(req->arena, r.source, &u);
	if (check_host_scheme(&u, err) != MT_OK)
		return err->code;
	if (!r.prompt) {
		if (resolve_lineage(req, &r, err) != MT_OK)
			return err->code;
		if (r.model_id && r.model_id[0] ? validate_source_model(req, r.source, r.model_id, err) != MT_OK
		                                : validate_source_run(req, r.source, r.run_id, err) != MT_OK)
			return err->code;
	}
	/* the SQL store: a models:/<model_id> source is stored at the logged model's location, and a version made
	 * from a logged model inherits its source run */
	struct model_uri mu;
	uri_parse(req->arena, r.source, &u);
	const char *lm_id = NULL;
	if (!strcmp(u.scheme, "models") && parse_models_uri(req->arena, &u, &mu) && mu.model_id)
		lm_id = mu.model_id;
	if (lm_id || (r.model_id && r.model_id[0] && !(r.run_id && r.run_id[0]))) {
		struct mt_logged_model lm;
		struct mt_err e2;
		mt_err_init(&e2);
		const char *id = lm_id ? lm_id : r.model_id;
		if (store_logged_model_get(req->srv->store, req->arena, id, false, &lm, &e2) != MT_OK)
			/* the reference answers INTERNAL_ERROR 500 here (and the client would retry); a 400 is the truth */
			return mt_fail(err, e2.code == MT_RESOURCE_DOES_NOT_EXIST ? MT_INVALID_PARAMETER_VALUE : e2.code,
			               "Unable to fetch model from model URI source artifact location '%.1000s'. Error: %s",
			               r.source, e2.msg);
		if (lm_id)
			r.storage_location = lm.artifact_uri;
		if (!(r.run_id && r.run_id[0]) && lm.source_run_id)
			r.run_id = lm.source_run_id;
	}
	struct store_mv_create in = {
		.name = r.name,
		.source = r.source,
		.run_id = r.run_id,
		.run_link = r.run_link,
		.description = r.description,
		.model_id = r.prompt ? NULL : (r.model_id && r.model_id[0] ? r.model_id : NULL),
		.storage_location = r.storage_location,
		.tags = r.tags,
		.n_tags = r.n_tags,
	};
	struct registry_ctx x = api_registry_ctx(req);
	struct mt_model_version v;
	if (store_mv_create(&x, &in, &v, err) != MT_OK)
		return err->code;
	struct jw *w = http_reply_json(req, resp);
	jw_key(w, "model_version");
	api_write_model_version(w, &v);
	http_reply_json_end(w);
	return MT_OK;
}

/* ---- the rest ---- */

static void reply_mv(struct mt_request *req, struct mt_response *resp, const struct mt_model_version *v)
{
	struct jw *w = http_reply_json(req, resp);
	jw_key(w, "model_version");
	api_write_model_version(w, v);
	http_reply_json_end(w);
}

MT_HANDLER(api_model_versions_get)
{
	const char *name;
	int64_t version;
	struct registry_ctx x = api_registry_ctx(req);
	struct mt_model_version v;
	if (api_read_model_name(req, "name", &name, err) != MT_OK || api_read_version(req, &version, err) != MT_OK ||
	    store_mv_get(&x, name, version, &v, err) != MT_OK)
		return err->code;
	reply_mv(req, resp, &v);
	return MT_OK;
}

MT_HANDLER(api_model_versions_update)
{
	const char *name, *description = NULL;
	int64_t version;
	struct registry_ctx x = api_registry_ctx(req);
	struct mt_model_version v;
	if (api_read_model_name(req, "name", &name, err) != MT_OK || api_read_version(req, &version, err) != MT_OK ||
	    json_get_str(req->args, "description", false, &description, err) != MT_OK ||
	    store_mv_update(&x, name, version, description, &v, err) != MT_OK)
		return err->code;
	reply_mv(req, resp, &v);
	return MT_OK;
}

MT_HANDLER(api_model_versions_transition_stage)
{
	const char *name, *stage_in, *stage;
	int64_t version;
	bool archive = false, present = false;
	if (api_read_model_name(req, "name", &name, err) != MT_OK || api_read_version(req, &version, err) != MT_OK ||
	    json_get_str(req->args, "stage", true, &stage_in, err) != MT_OK ||
	    json_get_bool(req->args, "archive_existing_versions", false, &archive, &present, err) != MT_OK ||
	    api_canonical_stage(req->arena, stage_in, &stage, err) != MT_OK)
		return err->code;
	/* the reference raises this without an error code (INTERNAL_ERROR 500, which clients retry); it is a 400 */
	if (archive && strcmp(stage, "Staging") != 0 && strcmp(stage, "Production") != 0)
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE,
		               "Model version transition cannot archive existing model versions because '%.100s' is not an "
		               "Active stage. Valid stages are ['Staging', 'Production']",
		               stage_in);
	struct registry_ctx x = api_registry_ctx(req);
	struct mt_model_version v;
	/* recorded: the version's activity log (src/store/promotion_store.c) shows the transition */
	if (store_mv_transition_recorded(&x, name, version, stage, archive, NULL, &v, err) != MT_OK)
		return err->code;
	reply_mv(req, resp, &v);
	return MT_OK;
}

MT_HANDLER(api_model_versions_delete)
{
	const char *name;
	int64_t version;
	struct registry_ctx x = api_registry_ctx(req);
	if (api_read_model_name(req, "name", &name, err) != MT_OK || api_read_version(req, &version, err) != MT_OK ||
	    store_mv_delete(&x, name, version, err) != MT_OK)
		return err->code;
	http_reply_empty(resp);
	return MT_OK;
}

MT_HANDLER(api_model_versions_get_download_uri)
{
	const char *name;
	int64_t version;
	struct registry_ctx x = api_registry_ctx(req);
	struct mt_model_version v;
	if (api_read_model_name(req, "name", &name, err) != MT_OK || api_read_version(req, &version, err) != MT_OK ||
	    store_mv_get(&x, name, version, &v, err) != MT_OK)
		return err->code;
	/* storage_location or source, as the SQL store answers: runs:/ sources are returned as they are (the client
	 * resolves them), models:/<id> sources answer the logged model's artifact location */
	struct jw *w = http_reply_json(req, resp);
	jw_kv_str(w, "artifact_uri", v.storage_location ? v.storage_location : (v.source ? v.source : ""));
	http_reply_json_end(w);
	return MT_OK;
}

MT_HANDLER(api_model_versions_set_tag)
{
	const char *name, *key, *value = "";
	int64_t version;
	struct registry_ctx x = api_registry_ctx(req);
	if (api_read_model_name(req, "name", &name, err) != MT_OK || api_read_version(req, &version, err) != MT_OK ||
	    json_get_str(req->args, "key", true, &key, err) != MT_OK ||
	    json_get_str(req->args, "value", false, &value, err) != MT_OK ||
	    api_validate_registry_tag(key, value, err) != MT_OK ||
	    store_mv_set_tag(&x, name, version, key, value, err) != MT_OK)
		return err->code;
	http_reply_empty(resp);
	return MT_OK;
}

MT_HANDLER(api_model_versions_delete_tag)
{
	const char *name, *key;
	int64_t version;
	struct registry_ctx x = api_registry_ctx(req);
	if (api_read_model_name(req, "name", &name, err) != MT_OK || api_read_version(req, &version, err) != MT_OK ||
	    json_get_str(req->args, "key", true, &key, err) != MT_OK || validate_key_name("key", key, err) != MT_OK ||
	    store_mv_delete_tag(&x, name, version, key, err) != MT_OK)
		return err->code;
	http_reply_empty(resp);
	return MT_OK;
}

MT_HANDLER(api_model_versions_search)
{
	struct registry_query q;
	if (api_registry_read_search(req, SEARCH_MODEL_VERSIONS, &q, err) != MT_OK)
		return err->code;
	struct registry_ctx x = api_registry_ctx(req);
	struct mt_model_version *v;
	size_t n;
	bool more;
	if (store_mv_search(&x, &q, &v, &n, &more, err) != MT_OK)
		return err->code;
	struct jw *w = http_reply_json(req, resp);
	if (n) {
		jw_key(w, "model_versions");
		jw_arr_open(w);
		for (size_t i = 0; i < n; i++)
			api_write_model_version(w, &v[i]);
		jw_arr_close(w);
	}
	if (more)
		jw_kv_str(w, "next_page_token", search_page_token_encode(req->arena, q.offset + q.limit));
	http_reply_json_end(w);
	return MT_OK;
}
