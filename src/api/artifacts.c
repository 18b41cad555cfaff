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
#include "mltrackd/store_registry.h"
#include "mltrackd/store_runs.h"

static enum mt_error served(struct mt_request *req, struct mt_err *err)
{
	if (req->srv->artifacts == NULL)
		return mt_fail(err, MT_TEMPORARILY_UNAVAILABLE,
		               "The artifact proxy is disabled on this server (started with --no-serve-artifacts)");
	return MT_OK;
}

static const char *path_param(struct mt_request *req) { return req->n_path_params > 0 ? req->path_params[0] : ""; }

enum mt_error api_stream_begin(struct mt_request *req, struct mt_err *err)
{
	if (served(req, err) != MT_OK)
		return err->code;
	return artifacts_upload_begin(req->srv->artifacts, req->arena, path_param(req), &req->upload, err);
}

enum mt_error api_stream_write(struct mt_request *req, const char *data, size_t n, struct mt_err *err)
{
	return artifacts_upload_write(req->upload, data, n, err);
}

MT_HANDLER(api_artifacts_put)
{
	if (served(req, err) != MT_OK)
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
	http_add_header(resp, req->arena, "Content-Disposition", arena_printf(req->arena, "attachment; filename=\"%s\"", base));
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
	if (served(req, err) != MT_OK ||
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

/* The run's artifact directory inside the proxied store: "mlflow-artifacts:/<exp>/<run>/artifacts" ->
 * "<exp>/<run>/artifacts". Runs whose artifacts live elsewhere cannot be served by this server. */
static enum mt_error run_root(struct mt_request *req, const char *run_id, const char **uri, const char **rel,
                              struct mt_err *err)
{
	struct mt_run r;
	if (store_run_get(req->srv->store, req->arena, run_id, &r, err) != MT_OK)
		return err->code;
	*uri = r.info.artifact_uri;
	const char *p = r.info.artifact_uri;
	if (strncmp(p, "mlflow-artifacts:", 17) != 0)
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE,
		               "The artifacts of run %.100s are not stored on this server (%.200s)", run_id, p);
	p += 17;
	while (*p == '/')
		p++;
	*rel = p;
	return MT_OK;
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
	const char *full = path[0] ? arena_printf(req->arena, "%s/%s", rel, path) : rel;
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
	    artifacts_open_file(req->srv->artifacts, arena_printf(req->arena, "%s/%s", rel, path), &fd, &size, err) != MT_OK)
		return err->code;
	return serve_file(req, resp, fd, size, path);
}

/* "mlflow-artifacts:/<rest>" -> "<rest>"; runs:/<run>/<sub> -> the run's proxied root + sub; NULL when the
 * location is not in this server's artifact store. */
static const char *proxied_location(struct mt_request *req, const char *loc, struct mt_err *err)
{
	if (loc && strncmp(loc, "mlflow-artifacts:", 17) == 0) {
		loc += 17;
		while (*loc == '/')
			loc++;
		return loc;
	}
	if (loc && strncmp(loc, "runs:/", 6) == 0) {
		const char *p = loc + 6;
		while (*p == '/')
			p++;
		size_t n = strcspn(p, "/");
		const char *uri, *rel;
		if (run_root(req, arena_strndup(req->arena, p, n), &uri, &rel, err) != MT_OK)
			return NULL;
		return p[n] ? arena_printf(req->arena, "%s%s", rel, p + n) : rel;
	}
	return NULL;
}

MT_HANDLER(api_model_version_get_artifact)
{
	const char *name = NULL, *path = NULL;
	int64_t ver = 0;
	if (served(req, err) != MT_OK || json_get_str(req->args, "name", true, &name, err) != MT_OK ||
	    json_get_i64(req->args, "version", true, &ver, NULL, err) != MT_OK ||
	    json_get_str(req->args, "path", true, &path, err) != MT_OK || artifacts_check_path(path, false, err) != MT_OK)
		return err->code;
	struct registry_ctx x = {req->srv->store, req->arena, req->principal};
	struct mt_model_version v;
	if (store_mv_get(&x, name, ver, &v, err) != MT_OK)
		return err->code;
	const char *root = proxied_location(req, v.storage_location ? v.storage_location : v.source, err);
	if (root == NULL)
		return err->code ? err->code
		                 : mt_fail(err, MT_INVALID_PARAMETER_VALUE,
		                           "The artifacts of model version %.200s/%lld are not stored on this server", name,
		                           (long long)ver);
	int fd;
	uint64_t size;
	if (artifacts_open_file(req->srv->artifacts, arena_printf(req->arena, "%s/%s", root, path), &fd, &size, err) != MT_OK)
		return err->code;
	return serve_file(req, resp, fd, size, path);
}
