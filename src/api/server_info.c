/* SPDX-License-Identifier: Apache-2.0 */
/* server_info.c: /health, /version and /api/3.0/mlflow/server-info: liveness and what this server is.
 * The answers describe mltrackd truthfully; the client adapts its behaviour to them. */
#include "api_internal.h"

MT_HANDLER(api_health)
{
	(void)req;
	(void)err;
	http_reply_text(resp, 200, "text/plain; charset=utf-8", "OK");
	return MT_OK;
}

MT_HANDLER(api_version)
{
	(void)req;
	(void)err;
	/* The MLflow client parses this with packaging.Version and gates features on it, so we answer the
	 * MLflow API version we implement; our own version is in the X-Mltrackd-Version header. */
	http_reply_text(resp, 200, "text/plain; charset=utf-8", MLTRACKD_MLFLOW_API_VERSION);
	return MT_OK;
}

MT_HANDLER(api_server_info)
{
	(void)err;
	struct jw *w = http_reply_json(req, resp);
	jw_kv_str(w, "store_type", "SqlStore");
	jw_kv_bool(w, "workspaces_enabled", false);
	jw_kv_bool(w, "trace_archival_enabled", false);
	/* Uploads are streamed in one PUT; the client falls back to it when multipart is off. */
	jw_kv_bool(w, "multipart_uploads_enabled", false);
	jw_kv_bool(w, "multipart_downloads_enabled", false);
	jw_kv_bool(w, "presigned_upload_run_id_supported", false);
	jw_kv_bool(w, "presigned_upload_model_id_supported", false);
	http_reply_json_end(w);
	return MT_OK;
}
