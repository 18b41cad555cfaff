/* SPDX-License-Identifier: Apache-2.0 */
/* artifacts.c: the proxied artifact API (mlflow-artifacts upload, download with Range, list, delete,
 * multipart answered as unsupported) and the run-level listing and download of the tracking API.
 * Paths are resolved only by src/artifacts/, beneath the root. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "api_internal.h"
#include "mltrackd/artifacts.h"
#include "mltrackd/store_models.h"
#include "mltrackd/store_registry.h"
#include "mltrackd/store_runs.h"

/* With --no-serve-artifacts the reference answers its artifact routes with 503 and this text
 * (handlers.py _disable_unless_serve_artifacts; there as text/plain, here in MLflow's JSON error shape). */
static enum mt_error served(struct mt_request *req, struct mt_err *err)
{
	if (req->srv->artifacts == NULL)
		return mt_fail(err, MT_TEMPORARILY_UNAVAILABLE,
		               "Endpoint: %.200s disabled due to the mlflow server running with `--no-serve-artifacts`. To "
		               "enable artifacts server functionality, run `mlflow server` with `--serve-artifacts`",
		               req->url);
	return MT_OK;
}

/* The file GET and PUT routes are served by a FastAPI router in MLflow 3.17, which words it differently
 * (artifact_router.py; there {"detail": ...}, here MLflow's error shape). */
static enum mt_error served_file(struct mt_request *req, struct mt_err *err)
{
	if (req->srv->artifacts == NULL)
		return mt_fail(err, MT_TEMPORARILY_UNAVAILABLE,
		               "Artifact serving is disabled. Run `mlflow server` with `--serve-artifacts` to enable.");
	return MT_OK;
}

static const char *path_param(struct mt_request *req) { return req->n_path_params > 0 ? req->path_params[0] : ""; }

enum mt_error api_stream_begin(struct mt_request *req, struct mt_err *err)
{
	if (served_file(req, err) != MT_OK)
		return err->code;
	return artifacts_upload_begin(req->srv->artifacts, req->arena, path_param(req), &req->upload, err);
}

enum mt_error api_stream_write(struct mt_request *req, const char *data, size_t n, struct mt_err *err)
{
	return artifacts_upload_write(req->upload, data, n, err);
}

MT_HANDLER(api_artifacts_put)
{
	if (served_file(req, err) != MT_OK)
		return err->code;
	if (req->upload == NULL) {
		/* not streamed (in-process callers): the whole body is at hand */
		if (api_stream_begin(req, err) != MT_OK || artifacts_upload_write(req->upload, req->body, req->body_len, err) != MT_OK)
			return err->code;
	}
	if (req->upload_failed)
		return mt_fail(err, req->upload_err.code, "%s", req->upload_err.msg);
	if (artifacts_upload_commit(req->upload, err) != MT_OK)
		return err->code;
	http_reply_empty(resp);
	return MT_OK;
}

static bool token_char(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || strchr("!#$%&'*+-.^_`|~", c);
}

/* werkzeug's quote_header_value(allow_token=True): a token as is, anything else quoted with '\' and '"'
 * escaped. */
static const char *quote_value(struct arena *a, const char *s)
{
	size_t n = strlen(s);
	bool token = n > 0;
	for (size_t i = 0; i < n && token; i++)
		token = token_char((unsigned char)s[i]);
	if (token)
		return s;
	char *q = arena_alloc(a, 2 * n + 3), *o = q;
	*o++ = '"';
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\\' || s[i] == '"')
			*o++ = '\\';
		*o++ = s[i];
	}
	*o++ = '"';
	*o = '\0';
	return q;
}

/* Content-Disposition as MLflow builds it (RFC 6266 / 5987): an ASCII name as filename=; a non-ASCII name
 * with an ASCII fallback plus filename*=UTF-8''<percent-encoded>. (MLflow's fallback is the NFKD-normalised
 * name, so "é" becomes "e"; ours keeps the name's ASCII characters only, "download" when there are none.) */
static const char *disposition(struct arena *a, const char *name)
{
	size_t n = strlen(name);
	char *ascii = arena_alloc(a, n + 1), *o = ascii;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)name[i] < 0x80)
			*o++ = name[i];
	*o = '\0';
	if ((size_t)(o - ascii) == n)
		return arena_printf(a, "attachment; filename=%s", quote_value(a, name));
	char *pct = arena_alloc(a, 3 * n + 1), *p = pct;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];
		if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || strchr("!#$&+-.^_`|~", c)) {
			*p++ = (char)c;
		} else {
			snprintf(p, 4, "%%%02X", c);
			p += 3;
		}
	}
	*p = '\0';
	return arena_printf(a, "attachment; filename=%s; filename*=UTF-8''%s", quote_value(a, ascii[0] ? ascii : "download"),
	                    pct);
}

/* Serves an open file: whole, or one "bytes=a-b" range (206; 416 when unsatisfiable). */
static enum mt_error serve_file(struct mt_request *req, struct mt_response *resp, int fd, uint64_t size,
                                const char *name)
{
	const char *base = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
	resp->status = 200;
	resp->content_type = artifacts_mime_type(base);
	resp->fd = fd;
	resp->fd_offset = 0;
	resp->fd_len = size;
	http_add_header(resp, req->arena, "Content-Disposition", disposition(req->arena, base));
	http_add_header(resp, req->arena, "X-Content-Type-Options", "nosniff");
	http_add_header(resp, req->arena, "Accept-Ranges", "bytes");
	const char *range = req->header ? req->header(req->header_ctx, "Range") : NULL;
	if (range == NULL || strncasecmp(range, "bytes=", 6) != 0 || strchr(range, ','))
		return MT_OK; /* no range, or a multi-range: the whole file (allowed by RFC 9110) */
	const char *spec = range + 6;
	char *end;
	uint64_t first, last;
	if (*spec == '-') {
		uint64_t suffix = strtoull(spec + 1, &end, 10);
		if (*end || end == spec + 1 || suffix == 0)
			goto unsatisfiable;
		first = suffix >= size ? 0 : size - suffix;
		last = size ? size - 1 : 0;
	} else {
		first = strtoull(spec, &end, 10);
		if (end == spec || *end != '-')
			return MT_OK; /* malformed: ignore the header */
		const char *l = end + 1;
		last = *l ? strtoull(l, &end, 10) : (size ? size - 1 : 0);
		if (*l && *end)
			return MT_OK;
		if (last >= size)
			last = size ? size - 1 : 0;
	}
	if (size == 0 || first >= size || first > last)
		goto unsatisfiable;
	resp->status = 206;
	resp->fd_offset = (off_t)first;
	resp->fd_len = last - first + 1;
	http_add_header(resp, req->arena, "Content-Range",
	                arena_printf(req->arena, "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64, first, last, size));
	return MT_OK;
unsatisfiable:
	close(fd);
	resp->fd = -1;
	resp->n_headers = 0;
	http_reply_error(resp, MT_INVALID_PARAMETER_VALUE, "Requested range not satisfiable");
	resp->status = 416;
	http_add_header(resp, req->arena, "Content-Range", arena_printf(req->arena, "bytes */%" PRIu64, size));
	return MT_OK;
}

MT_HANDLER(api_artifacts_get)
{
	int fd;
	uint64_t size;
	if (served_file(req, err) != MT_OK ||
	    artifacts_open_file(req->srv->artifacts, path_param(req), &fd, &size, err) != MT_OK)
		return err->code;
	return serve_file(req, resp, fd, size, path_param(req));
}

/* "files": [{path, is_dir, file_size}] with each path prefixed (run listings are relative to the run root). */
static void write_entries(struct jw *w, struct arena *a, const struct artifact_entry *e, size_t n, const char *prefix)
{
	if (n == 0)
		return;
	jw_key(w, "files");
	jw_arr_open(w);
	for (size_t i = 0; i < n; i++) {
		jw_obj_open(w);
		jw_kv_str(w, "path", prefix && prefix[0] ? arena_printf(a, "%s/%s", prefix, e[i].name) : e[i].name);
		jw_kv_bool(w, "is_dir", e[i].is_dir);
		if (!e[i].is_dir)
			jw_kv_int(w, "file_size", e[i].size);
		jw_obj_close(w);
	}
	jw_arr_close(w);
}

/* Strips trailing slashes (a listing of "a/b/" is the listing of "a/b"). */
static const char *trim(struct arena *a, const char *p)
{
	if (!p)
		return "";
	size_t n = strlen(p);
	while (n > 0 && p[n - 1] == '/')
		n--;
	return arena_strndup(a, p, n);
}

MT_HANDLER(api_artifacts_list)
{
	const char *path = NULL;
	struct artifact_entry *e;
	size_t n;
	bool exists;
	if (served(req, err) != MT_OK || json_get_str(req->args, "path", false, &path, err) != MT_OK ||
	    artifacts_list(req->srv->artifacts, req->arena, trim(req->arena, path), &e, &n, &exists, err) != MT_OK)
		return err->code;
	/* basenames only, and {} for a file or a missing path, as MLflow's proxy answers */
	struct jw *w = http_reply_json(req, resp);
	write_entries(w, req->arena, e, n, NULL);
	http_reply_json_end(w);
	return MT_OK;
}

MT_HANDLER(api_artifacts_delete)
{
	if (served(req, err) != MT_OK || artifacts_delete(req->srv->artifacts, trim(req->arena, path_param(req)), err) != MT_OK)
		return err->code;
	http_reply_empty(resp);
	return MT_OK;
}

MT_HANDLER(api_artifacts_mpu)
{
	(void)resp;
	if (served(req, err) != MT_OK || artifacts_check_path(path_param(req), false, err) != MT_OK)
		return err->code;
	/* The client checks that the message starts with this text and then falls back to a single PUT. */
	return mt_fail(err, MT_NOT_IMPLEMENTED, "Multipart upload is not supported for the current artifact repository");
}

/* A location inside the proxied store: "mlflow-artifacts:/<exp>/<run>/artifacts" (or the fully qualified
 * "mlflow-artifacts://<host>/<exp>/...") -> "<exp>/<run>/artifacts", as MLflow's
 * _get_proxied_run_artifact_destination_path takes the URI's path. Other schemes are not served here. The
 * result is still only a client path: every open checks it again beneath the root. */
static enum mt_error proxied_rel(const char *what, const char *uri, const char **rel, struct mt_err *err)
{
	const char *p = uri;
	if (p == NULL || strncmp(p, "mlflow-artifacts:", 17) != 0)
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "The artifacts of %.100s are not stored on this server (%.200s)",
		               what, p ? p : "");
	p += 17;
	if (p[0] == '/' && p[1] == '/')
		p = strchrnul(p + 2, '/'); /* skip the authority */
	while (*p == '/')
		p++;
	*rel = p;
	return MT_OK;
}

/* The run's artifact directory inside the proxied store. */
static enum mt_error run_root(struct mt_request *req, const char *run_id, const char **uri, const char **rel,
                              struct mt_err *err)
{
	struct mt_run r;
	if (store_run_get(req->srv->store, req->arena, run_id, &r, err) != MT_OK)
		return err->code;
	*uri = r.info.artifact_uri;
	return proxied_rel(arena_printf(req->arena, "run %s", run_id), r.info.artifact_uri, rel, err);
}

/* rel + "/" + path, or rel alone for an empty path. */
static const char *join(struct arena *a, const char *rel, const char *path)
{
	if (!path || !path[0])
		return rel;
	return rel[0] ? arena_printf(a, "%s/%s", rel, path) : path;
}

static enum mt_error read_run_and_path(struct mt_request *req, const char **run_id, const char **path,
                                       struct mt_err *err)
{
	*path = NULL;
	if (api_read_run_id(req, run_id, err) != MT_OK || json_get_str(req->args, "path", false, path, err) != MT_OK)
		return err->code;
	*path = trim(req->arena, *path);
	return artifacts_check_path(*path, true, err);
}

MT_HANDLER(api_run_artifacts_list)
{
	const char *run_id, *path, *uri, *rel;
	struct artifact_entry *e = NULL;
	size_t n = 0;
	bool exists;
	if (served(req, err) != MT_OK || read_run_and_path(req, &run_id, &path, err) != MT_OK ||
	    run_root(req, run_id, &uri, &rel, err) != MT_OK)
		return err->code;
	const char *full = join(req->arena, rel, path);
	if (artifacts_list(req->srv->artifacts, req->arena, full, &e, &n, &exists, err) != MT_OK)
		return err->code;
	struct jw *w = http_reply_json(req, resp);
	jw_kv_str(w, "root_uri", uri);
	write_entries(w, req->arena, e, n, path);
	http_reply_json_end(w);
	return MT_OK;
}

MT_HANDLER(api_get_artifact)
{
	const char *run_id, *path, *uri, *rel;
	int fd;
	uint64_t size;
	if (served(req, err) != MT_OK || read_run_and_path(req, &run_id, &path, err) != MT_OK)
		return err->code;
	if (!path[0])
		return json_fail_missing(err, "path");
	if (run_root(req, run_id, &uri, &rel, err) != MT_OK ||
	    artifacts_open_file(req->srv->artifacts, join(req->arena, rel, path), &fd, &size, err) != MT_OK)
		return err->code;
	return serve_file(req, resp, fd, size, path);
}

/* GET /model-versions/get-artifact?name=&version=&path=: a file of a registered version, from its download
 * URI (storage location, else source). A runs:/<run>/<dir> source is the run's artifact directory + dir. */
MT_HANDLER(api_model_version_get_artifact)
{
	const char *name = NULL, *path = NULL;
	int64_t ver;
	struct mt_model_version v;
	struct registry_ctx x = api_registry_ctx(req);
	int fd;
	uint64_t size;
	if (served(req, err) != MT_OK || api_read_model_name(req, "name", &name, err) != MT_OK ||
	    api_read_version(req, &ver, err) != MT_OK || json_get_str(req->args, "path", true, &path, err) != MT_OK)
		return err->code;
	path = trim(req->arena, path);
	if (artifacts_check_path(path, false, err) != MT_OK || store_mv_get(&x, name, ver, &v, err) != MT_OK)
		return err->code;
	const char *uri = v.storage_location && v.storage_location[0] ? v.storage_location : v.source, *rel = NULL;
	if (uri && strncmp(uri, "runs:/", 6) == 0) {
		const char *run_id = uri + 6, *slash = strchr(run_id, '/'), *run_uri;
		const char *sub = slash ? slash + 1 : "";
		run_id = slash ? arena_strndup(req->arena, run_id, (size_t)(slash - run_id)) : run_id;
		if (run_root(req, run_id, &run_uri, &rel, err) != MT_OK)
			return err->code;
		rel = join(req->arena, rel, trim(req->arena, sub));
	} else if (proxied_rel(arena_printf(req->arena, "model version %.100s/%" PRId64, name, ver), uri, &rel, err) !=
	           MT_OK) {
		return err->code;
	}
	if (artifacts_open_file(req->srv->artifacts, join(req->arena, rel, path), &fd, &size, err) != MT_OK)
		return err->code;
	return serve_file(req, resp, fd, size, path);
}

/* The logged model's artifact directory inside the proxied store. */
static enum mt_error model_root(struct mt_request *req, const char **uri, const char **rel, struct mt_err *err)
{
	struct mt_logged_model m;
	const char *id = path_param(req);
	if (store_logged_model_get(req->srv->store, req->arena, id, false, &m, err) != MT_OK)
		return err->code;
	*uri = m.artifact_uri;
	return proxied_rel(arena_printf(req->arena, "logged model %s", id), m.artifact_uri, rel, err);
}

/* GET /mlflow/logged-models/{id}/artifacts/directories?artifact_directory_path=: as the run listing. */
MT_HANDLER(api_logged_model_artifacts_list)
{
	const char *path = NULL, *uri, *rel;
	struct artifact_entry *e = NULL;
	size_t n = 0;
	bool exists;
	if (served(req, err) != MT_OK || json_get_str(req->args, "artifact_directory_path", false, &path, err) != MT_OK)
		return err->code;
	path = trim(req->arena, path);
	if (artifacts_check_path(path, true, err) != MT_OK || model_root(req, &uri, &rel, err) != MT_OK ||
	    artifacts_list(req->srv->artifacts, req->arena, join(req->arena, rel, path), &e, &n, &exists, err) != MT_OK)
		return err->code;
	struct jw *w = http_reply_json(req, resp);
	jw_kv_str(w, "root_uri", uri);
	write_entries(w, req->arena, e, n, path);
	http_reply_json_end(w);
	return MT_OK;
}

/* GET /ajax-api/2.0/mlflow/logged-models/{id}/artifacts/files?artifact_file_path=: one file of the model. */
MT_HANDLER(api_logged_model_artifact_file)
{
	const char *path = NULL, *uri, *rel;
	int fd;
	uint64_t size;
	if (served(req, err) != MT_OK || json_get_str(req->args, "artifact_file_path", false, &path, err) != MT_OK)
		return err->code;
	if (!path || !path[0])
		return mt_fail(err, MT_BAD_REQUEST, "Request must include the \"artifact_file_path\" query parameter.");
	path = trim(req->arena, path);
	if (artifacts_check_path(path, false, err) != MT_OK || model_root(req, &uri, &rel, err) != MT_OK ||
	    artifacts_open_file(req->srv->artifacts, join(req->arena, rel, path), &fd, &size, err) != MT_OK)
		return err->code;
	return serve_file(req, resp, fd, size, path);
}

#define UI_UPLOAD_MAX (10u * 1024 * 1024)

/* POST /ajax-api/2.0/mlflow/upload-artifact?run_uuid=&path=: the UI's small-file upload (raw body, at most
 * 10 MB), stored into the run's artifact directory. Checks and messages in handlers.py's order. */
MT_HANDLER(api_upload_artifact)
{
	const char *run_id = NULL, *path = NULL, *uri, *rel;
	struct artifact_upload *up;
	if (served(req, err) != MT_OK || json_get_str(req->args, "run_uuid", false, &run_id, err) != MT_OK ||
	    json_get_str(req->args, "path", false, &path, err) != MT_OK)
		return err->code;
	if (!run_id || !run_id[0])
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "Request must specify run_uuid.");
	if (!path || !path[0])
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "Request must specify path.");
	if (artifacts_check_path(path, false, err) != MT_OK)
		return err->code;
	if (req->body_too_large || req->body_len > UI_UPLOAD_MAX)
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "Artifact size is too large. Max size is 10MB.");
	if (req->body_len == 0)
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "Request must specify data.");
	if (run_root(req, run_id, &uri, &rel, err) != MT_OK ||
	    artifacts_upload_begin(req->srv->artifacts, req->arena, join(req->arena, rel, path), &up, err) != MT_OK ||
	    artifacts_upload_write(up, req->body, req->body_len, err) != MT_OK || artifacts_upload_commit(up, err) != MT_OK)
		return err->code;
	http_reply_text(resp, 200, "application/json", "");
	return MT_OK;
}
