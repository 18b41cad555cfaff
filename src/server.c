/* SPDX-License-Identifier: Apache-2.0 */
/* server.c: the server context: opens the store, resolves the artifact root new experiments get, and
 * makes sure the Default experiment exists. Used by main.c and by the in-process tests. */
#include <stdlib.h>
#include <string.h>

#include "mltrackd/acl.h"
#include "mltrackd/artifacts.h"
#include "mltrackd/server.h"
#include "mltrackd/store.h"
#include "mltrackd/store_experiments.h"
#include "mltrackd/util.h"
#include "mltrackd/webhooks.h"

enum mt_error mt_server_init(struct mt_server *srv, const struct mt_config *cfg, struct mt_err *err)
{
	memset(srv, 0, sizeof *srv);
	srv->cfg = cfg;
	/* As `mlflow server`: an explicit --default-artifact-root wins; with artifacts served, experiments
	 * live under mlflow-artifacts:/ (the client then uploads through our artifact proxy). */
	if (cfg->default_artifact_root && cfg->default_artifact_root[0])
		srv->artifact_root_uri = xstrdup(cfg->default_artifact_root);
	else if (cfg->serve_artifacts)
		srv->artifact_root_uri = xstrdup("mlflow-artifacts:/");
	else
		srv->artifact_root_uri = xstrdup(cfg->artifacts_destination);
	if (store_open(cfg->db_path, &srv->store, err) != MT_OK) {
		free(srv->artifact_root_uri);
		return err->code;
	}
	if (cfg->serve_artifacts && artifacts_open(cfg->artifacts_destination, &srv->artifacts, err) != MT_OK) {
		mt_server_close(srv);
		return err->code;
	}
	if (store_experiment_ensure_default(srv->store, srv->artifact_root_uri, err) != MT_OK ||
	    acl_bootstrap(srv, err) != MT_OK) {
		mt_server_close(srv);
		return err->code;
	}
	if (cfg->webhook_dispatch && !cfg->artifacts_only)
		srv->webhooks = wh_dispatcher_start(srv);
	return MT_OK;
}

void mt_server_close(struct mt_server *srv)
{
	wh_dispatcher_stop(srv->webhooks); /* before the store: it writes delivery results */
	srv->webhooks = NULL;
	store_close(srv->store);
	srv->store = NULL;
	artifacts_close(srv->artifacts);
	srv->artifacts = NULL;
	free(srv->artifact_root_uri);
	srv->artifact_root_uri = NULL;
}
