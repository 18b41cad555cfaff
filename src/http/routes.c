/* SPDX-License-Identifier: Apache-2.0 */
/* routes.c: THE route table. Every MLflow endpoint is declared here with the resource it touches and the
 * permission it needs (MLflow's basic-auth rules); a NULL handler answers 501 NOT_IMPLEMENTED. */
#include <stddef.h>

#include "mltrackd/api.h"
#include "mltrackd/route.h"

#define GET MT_GET
#define POST MT_POST
#define PUT MT_PUT
#define PATCH MT_PATCH
#define DELETE MT_DELETE

const struct mt_route mt_routes[] = {
	/* ---- server ---- */
	{GET, "/health", api_health, RES_SERVER, NULL, PERM_PUBLIC, ROUTE_ROOT},
	{GET, "/version", api_version, RES_SERVER, NULL, PERM_PUBLIC, ROUTE_ROOT},
	{GET, "/mlflow/server-info", api_server_info, RES_SERVER, NULL, PERM_AUTHENTICATED, ROUTE_V3},
	{GET, "/metrics", api_metrics, RES_SERVER, NULL, PERM_AUTHENTICATED, ROUTE_ROOT},

	/* ---- experiments ---- */
	{POST, "/mlflow/experiments/create", api_experiments_create, RES_EXPERIMENT_NEW, NULL, PERM_AUTHENTICATED, ROUTE_V2},
	{GET, "/mlflow/experiments/get", api_experiments_get, RES_EXPERIMENT, "experiment_id", PERM_READ, ROUTE_V2},
	{GET, "/mlflow/experiments/get-by-name", api_experiments_get_by_name, RES_EXPERIMENT_NAME, "experiment_name", PERM_READ, ROUTE_V2},
	{GET | POST, "/mlflow/experiments/search", api_experiments_search, RES_EXPERIMENT_LIST, NULL, PERM_AUTHENTICATED, ROUTE_V2},
	{POST, "/mlflow/experiments/update", api_experiments_update, RES_EXPERIMENT, "experiment_id", PERM_EDIT, ROUTE_V2},
	{POST, "/mlflow/experiments/delete", api_experiments_delete, RES_EXPERIMENT, "experiment_id", PERM_MANAGE, ROUTE_V2},
	{POST, "/mlflow/experiments/restore", api_experiments_restore, RES_EXPERIMENT, "experiment_id", PERM_MANAGE, ROUTE_V2},
	{POST, "/mlflow/experiments/set-experiment-tag", api_experiments_set_tag, RES_EXPERIMENT, "experiment_id", PERM_EDIT, ROUTE_V2},
	{POST, "/mlflow/experiments/delete-experiment-tag", api_experiments_delete_tag, RES_EXPERIMENT, "experiment_id", PERM_EDIT, ROUTE_V2},
	{POST, "/mlflow/experiments/search-datasets", api_experiments_search_datasets, RES_EXPERIMENT_LIST, "experiment_ids", PERM_READ, ROUTE_V2 | ROUTE_AJAX_ONLY},

	/* ---- runs ---- */
	{POST, "/mlflow/runs/create", api_runs_create, RES_EXPERIMENT, "experiment_id", PERM_EDIT, ROUTE_V2},
	{GET, "/mlflow/runs/get", api_runs_get, RES_RUN, "run_id", PERM_READ, ROUTE_V2},
	{POST, "/mlflow/runs/update", api_runs_update, RES_RUN, "run_id", PERM_EDIT, ROUTE_V2},
	{POST, "/mlflow/runs/delete", api_runs_delete, RES_RUN, "run_id", PERM_MANAGE, ROUTE_V2},
	{POST, "/mlflow/runs/restore", api_runs_restore, RES_RUN, "run_id", PERM_MANAGE, ROUTE_V2},
	{POST, "/mlflow/runs/log-parameter", api_runs_log_parameter, RES_RUN, "run_id", PERM_EDIT, ROUTE_V2},
	{POST, "/mlflow/runs/set-tag", api_runs_set_tag, RES_RUN, "run_id", PERM_EDIT, ROUTE_V2},
	{POST, "/mlflow/runs/delete-tag", api_runs_delete_tag, RES_RUN, "run_id", PERM_EDIT, ROUTE_V2},
	{POST, "/mlflow/runs/log-model", api_runs_log_model, RES_RUN, "run_id", PERM_EDIT, ROUTE_V2},
	{POST, "/mlflow/runs/log-inputs", api_runs_log_inputs, RES_RUN, "run_id", PERM_EDIT, ROUTE_V2},
	{POST, "/mlflow/runs/outputs", api_runs_log_outputs, RES_RUN, "run_id", PERM_EDIT, ROUTE_V2},

	/* ---- metrics ---- */
	{POST, "/mlflow/runs/log-metric", api_runs_log_metric, RES_RUN, "run_id", PERM_EDIT, ROUTE_V2},
	{POST, "/mlflow/runs/log-batch", api_runs_log_batch, RES_RUN, "run_id", PERM_EDIT, ROUTE_V2},
	{GET, "/mlflow/metrics/get-history", api_metrics_get_history, RES_RUN, "run_id", PERM_READ, ROUTE_V2},
	{GET, "/mlflow/metrics/get-history-bulk-interval", api_metrics_get_history_bulk_interval, RES_RUN_LIST, "run_ids", PERM_READ, ROUTE_V2},
	{GET, "/mlflow/metrics/get-history-bulk", api_metrics_get_history_bulk, RES_RUN_LIST, "run_id", PERM_READ, ROUTE_V2 | ROUTE_AJAX_ONLY},

	/* ---- search ---- */
	{POST, "/mlflow/runs/search", api_runs_search, RES_EXPERIMENT_LIST, "experiment_ids", PERM_AUTHENTICATED, ROUTE_V2},

	/* ---- artifacts ---- */
	{GET, "/mlflow/artifacts/list", api_run_artifacts_list, RES_RUN, "run_id", PERM_READ, ROUTE_V2},
	{GET, "/get-artifact", api_get_artifact, RES_RUN, "run_id", PERM_READ, ROUTE_ROOT},
	{GET, "/model-versions/get-artifact", api_model_version_get_artifact, RES_MODEL_VERSION, "name", PERM_READ, ROUTE_ROOT},
	{POST, "/mlflow/upload-artifact", api_upload_artifact, RES_RUN, "run_uuid", PERM_EDIT, ROUTE_V2 | ROUTE_AJAX_ONLY | ROUTE_RAW_BODY},
	{GET, "/mlflow-artifacts/artifacts", api_artifacts_list, RES_ARTIFACT, "path", PERM_READ, ROUTE_V2},
	{GET, "/mlflow-artifacts/artifacts/{path...}", api_artifacts_get, RES_ARTIFACT, "{path}", PERM_READ, ROUTE_V2},
	{PUT, "/mlflow-artifacts/artifacts/{path...}", api_artifacts_put, RES_ARTIFACT, "{path}", PERM_EDIT, ROUTE_V2 | ROUTE_RAW_BODY | ROUTE_STREAM_BODY},
	{DELETE, "/mlflow-artifacts/artifacts/{path...}", api_artifacts_delete, RES_ARTIFACT, "{path}", PERM_MANAGE, ROUTE_V2},
	{POST, "/mlflow-artifacts/mpu/create/{path...}", api_artifacts_mpu, RES_ARTIFACT, "{path}", PERM_EDIT, ROUTE_V2},
	{POST, "/mlflow-artifacts/mpu/complete/{path...}", api_artifacts_mpu, RES_ARTIFACT, "{path}", PERM_EDIT, ROUTE_V2},
	{POST, "/mlflow-artifacts/mpu/abort/{path...}", api_artifacts_mpu, RES_ARTIFACT, "{path}", PERM_EDIT, ROUTE_V2},

	/* ---- logged models ---- */
	{POST, "/mlflow/logged-models", api_logged_models_create, RES_EXPERIMENT, "experiment_id", PERM_EDIT, ROUTE_V2},
	{POST, "/mlflow/logged-models/search", api_logged_models_search, RES_EXPERIMENT_LIST, "experiment_ids", PERM_AUTHENTICATED, ROUTE_V2},
	{GET, "/mlflow/logged-models/{model_id}", api_logged_models_get, RES_LOGGED_MODEL, "{model_id}", PERM_READ, ROUTE_V2},
	{PATCH, "/mlflow/logged-models/{model_id}", api_logged_models_finalize, RES_LOGGED_MODEL, "{model_id}", PERM_EDIT, ROUTE_V2},
	{DELETE, "/mlflow/logged-models/{model_id}", api_logged_models_delete, RES_LOGGED_MODEL, "{model_id}", PERM_MANAGE, ROUTE_V2},
	{PATCH, "/mlflow/logged-models/{model_id}/tags", api_logged_models_set_tags, RES_LOGGED_MODEL, "{model_id}", PERM_EDIT, ROUTE_V2},
	{DELETE, "/mlflow/logged-models/{model_id}/tags/{tag_key...}", api_logged_models_delete_tag, RES_LOGGED_MODEL, "{model_id}", PERM_MANAGE, ROUTE_V2},
	{POST, "/mlflow/logged-models/{model_id}/params", api_logged_models_log_params, RES_LOGGED_MODEL, "{model_id}", PERM_EDIT, ROUTE_V2},
	{GET, "/mlflow/logged-models/{model_id}/artifacts/directories", api_logged_model_artifacts_list, RES_LOGGED_MODEL, "{model_id}", PERM_READ, ROUTE_V2},
	{GET, "/mlflow/logged-models/{model_id}/artifacts/files", api_logged_model_artifact_file, RES_LOGGED_MODEL, "{model_id}", PERM_READ, ROUTE_V2 | ROUTE_AJAX_ONLY},

	/* ---- registered models ---- */
	{POST, "/mlflow/registered-models/create", api_registered_models_create, RES_REGISTERED_MODEL, "name", PERM_AUTHENTICATED, ROUTE_V2},
	{GET, "/mlflow/registered-models/get", api_registered_models_get, RES_REGISTERED_MODEL, "name", PERM_READ, ROUTE_V2},
	{POST, "/mlflow/registered-models/rename", api_registered_models_rename, RES_REGISTERED_MODEL, "name", PERM_EDIT, ROUTE_V2},
	{PATCH, "/mlflow/registered-models/update", api_registered_models_update, RES_REGISTERED_MODEL, "name", PERM_EDIT, ROUTE_V2},
	{DELETE, "/mlflow/registered-models/delete", api_registered_models_delete, RES_REGISTERED_MODEL, "name", PERM_MANAGE, ROUTE_V2},
	{GET, "/mlflow/registered-models/search", api_registered_models_search, RES_SERVER, NULL, PERM_AUTHENTICATED, ROUTE_V2},
	{GET | POST, "/mlflow/registered-models/get-latest-versions", api_registered_models_get_latest_versions, RES_REGISTERED_MODEL, "name", PERM_READ, ROUTE_V2},
	{POST, "/mlflow/registered-models/set-tag", api_registered_models_set_tag, RES_REGISTERED_MODEL, "name", PERM_EDIT, ROUTE_V2},
	{DELETE, "/mlflow/registered-models/delete-tag", api_registered_models_delete_tag, RES_REGISTERED_MODEL, "name", PERM_EDIT, ROUTE_V2},
	{POST, "/mlflow/registered-models/alias", api_registered_models_set_alias, RES_REGISTERED_MODEL, "name", PERM_EDIT, ROUTE_V2},
	{DELETE, "/mlflow/registered-models/alias", api_registered_models_delete_alias, RES_REGISTERED_MODEL, "name", PERM_MANAGE, ROUTE_V2},
	{GET, "/mlflow/registered-models/alias", api_registered_models_get_alias, RES_REGISTERED_MODEL, "name", PERM_READ, ROUTE_V2},

	/* ---- model versions ---- */
	{POST, "/mlflow/model-versions/create", api_model_versions_create, RES_REGISTERED_MODEL, "name", PERM_EDIT, ROUTE_V2},
	{GET, "/mlflow/model-versions/get", api_model_versions_get, RES_MODEL_VERSION, "name", PERM_READ, ROUTE_V2},
	{PATCH, "/mlflow/model-versions/update", api_model_versions_update, RES_MODEL_VERSION, "name", PERM_EDIT, ROUTE_V2},
	{DELETE, "/mlflow/model-versions/delete", api_model_versions_delete, RES_MODEL_VERSION, "name", PERM_MANAGE, ROUTE_V2},
	{GET, "/mlflow/model-versions/search", api_model_versions_search, RES_SERVER, NULL, PERM_AUTHENTICATED, ROUTE_V2},
	{POST, "/mlflow/model-versions/transition-stage", api_model_versions_transition_stage, RES_MODEL_VERSION, "name", PERM_EDIT, ROUTE_V2},
	{GET, "/mlflow/model-versions/get-download-uri", api_model_versions_get_download_uri, RES_MODEL_VERSION, "name", PERM_READ, ROUTE_V2},
	{POST, "/mlflow/model-versions/set-tag", api_model_versions_set_tag, RES_MODEL_VERSION, "name", PERM_EDIT, ROUTE_V2},
	{DELETE, "/mlflow/model-versions/delete-tag", api_model_versions_delete_tag, RES_MODEL_VERSION, "name", PERM_MANAGE, ROUTE_V2},

	/* ---- governed promotion (Databricks' REST shapes). Approve/reject and Databricks' transition-stage (with a
	 * comment): EDIT here, as transition-stage; the stage-specific levels (MANAGE_STAGING / MANAGE_PRODUCTION)
	 * are the ACL's. transition-requests/delete: READ here, and the handler
	 * lets only the request's creator or a MANAGE holder cancel it; both DELETEs also take their fields in the
	 * query string (ROUTE_QUERY_DELETE), as Databricks' SDKs send them. comments/update and /delete name only a
	 * comment id: any authenticated caller reaches the handler, which allows the comment's author (and, to
	 * delete, a MANAGE holder on its model) and answers others as if the comment did not exist without READ. ---- */
	{POST, "/mlflow/transition-requests/create", api_transition_requests_create, RES_MODEL_VERSION, "name", PERM_READ, ROUTE_V2},
	{GET, "/mlflow/transition-requests/list", api_transition_requests_list, RES_MODEL_VERSION, "name", PERM_READ, ROUTE_V2},
	{POST, "/mlflow/transition-requests/approve", api_transition_requests_approve, RES_MODEL_VERSION, "name", PERM_EDIT, ROUTE_V2},
	{POST, "/mlflow/transition-requests/reject", api_transition_requests_reject, RES_MODEL_VERSION, "name", PERM_EDIT, ROUTE_V2},
	{DELETE, "/mlflow/transition-requests/delete", api_transition_requests_delete, RES_MODEL_VERSION, "name", PERM_READ, ROUTE_V2 | ROUTE_QUERY_DELETE},
	{POST, "/mlflow/databricks/model-versions/transition-stage", api_databricks_transition_stage, RES_MODEL_VERSION, "name", PERM_EDIT, ROUTE_V2},
	{POST, "/mlflow/comments/create", api_comments_create, RES_MODEL_VERSION, "name", PERM_READ, ROUTE_V2},
	{PATCH, "/mlflow/comments/update", api_comments_update, RES_SERVER, NULL, PERM_AUTHENTICATED, ROUTE_V2},
	{DELETE, "/mlflow/comments/delete", api_comments_delete, RES_SERVER, NULL, PERM_AUTHENTICATED, ROUTE_V2 | ROUTE_QUERY_DELETE},
	{GET, "/mlflow/activities/list", api_activities_list, RES_MODEL_VERSION, "name", PERM_READ, ROUTE_V2},

	/* ---- webhooks (admin only, as MLflow's basic-auth) ---- */
	{POST, "/mlflow/webhooks", api_webhooks_create, RES_WEBHOOK, NULL, PERM_ADMIN, ROUTE_V2},
	{GET, "/mlflow/webhooks", api_webhooks_list, RES_WEBHOOK, NULL, PERM_ADMIN, ROUTE_V2},
	{GET, "/mlflow/webhooks/{webhook_id}", api_webhooks_get, RES_WEBHOOK, "{webhook_id}", PERM_ADMIN, ROUTE_V2},
	{PATCH, "/mlflow/webhooks/{webhook_id}", api_webhooks_update, RES_WEBHOOK, "{webhook_id}", PERM_ADMIN, ROUTE_V2},
	{DELETE, "/mlflow/webhooks/{webhook_id}", api_webhooks_delete, RES_WEBHOOK, "{webhook_id}", PERM_ADMIN, ROUTE_V2},
	{POST, "/mlflow/webhooks/{webhook_id}/test", api_webhooks_test, RES_WEBHOOK, "{webhook_id}", PERM_ADMIN, ROUTE_V2},
	/* Databricks' registry webhooks: MANAGE on the model (model-scoped) or admin (registry-wide), checked in
	 * src/api/webhooks.c once the webhook's model is known */
	{POST, "/mlflow/registry-webhooks/create", api_registry_webhooks_create, RES_SERVER, NULL, PERM_AUTHENTICATED, ROUTE_V2},
	{GET, "/mlflow/registry-webhooks/list", api_registry_webhooks_list, RES_SERVER, NULL, PERM_AUTHENTICATED, ROUTE_V2},
	{PATCH, "/mlflow/registry-webhooks/update", api_registry_webhooks_update, RES_SERVER, NULL, PERM_AUTHENTICATED, ROUTE_V2},
	{DELETE, "/mlflow/registry-webhooks/delete", api_registry_webhooks_delete, RES_SERVER, NULL, PERM_AUTHENTICATED, ROUTE_V2 | ROUTE_QUERY_DELETE},
	{POST, "/mlflow/registry-webhooks/test", api_registry_webhooks_test, RES_SERVER, NULL, PERM_AUTHENTICATED, ROUTE_V2},
	/* mltrackd's own: the delivery log of a webhook (either API) and redelivery; same permission as the webhook */
	{GET, "/mltrackd/webhooks/{webhook_id}/deliveries", api_webhook_deliveries_list, RES_SERVER, NULL, PERM_AUTHENTICATED, ROUTE_V2},
	{POST, "/mltrackd/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver", api_webhook_redeliver, RES_SERVER, NULL, PERM_AUTHENTICATED, ROUTE_V2},

	/* ---- users (basic-auth app); self-or-admin rules are in src/api/users.c ---- */
	{POST, "/mlflow/users/create", api_users_create, RES_USER, "username", PERM_ADMIN, ROUTE_V2},
	{GET, "/mlflow/users/get", api_users_get, RES_USER, "username", PERM_AUTHENTICATED, ROUTE_V2},
	{GET, "/mlflow/users/current", api_users_current, RES_USER, NULL, PERM_AUTHENTICATED, ROUTE_V2},
	{GET, "/mlflow/users/list", api_users_list, RES_USER, NULL, PERM_AUTHENTICATED, ROUTE_V2},
	{PATCH, "/mlflow/users/update-password", api_users_update_password, RES_USER, "username", PERM_AUTHENTICATED, ROUTE_V2},
	{PATCH, "/mlflow/users/update-admin", api_users_update_admin, RES_USER, "username", PERM_ADMIN, ROUTE_V2},
	{DELETE, "/mlflow/users/delete", api_users_delete, RES_USER, "username", PERM_ADMIN, ROUTE_V2},
	{POST, "/mlflow/users/permissions/grant", api_users_permissions_grant, RES_GRANT_TARGET, "resource_id", PERM_MANAGE, ROUTE_V3},
	{POST, "/mlflow/users/permissions/revoke", api_users_permissions_revoke, RES_GRANT_TARGET, "resource_id", PERM_MANAGE, ROUTE_V3},
	{GET, "/mlflow/users/permissions/get", api_users_permissions_get, RES_USER, "username", PERM_AUTHENTICATED, ROUTE_V3},
	{GET, "/mlflow/users/permissions/list", api_users_permissions_list, RES_USER, "username", PERM_AUTHENTICATED, ROUTE_V3},
	{GET, "/mlflow/users/current/permissions", api_users_current_permissions, RES_USER, NULL, PERM_AUTHENTICATED, ROUTE_V3},

	/* ---- roles (MLflow 3.17 RBAC; admins only: workspace admins are not modelled) ---- */
	{POST, "/mlflow/roles/create", api_roles_create, RES_ROLE, NULL, PERM_ADMIN, ROUTE_V3},
	{GET, "/mlflow/roles/get", api_roles_get, RES_ROLE, "role_id", PERM_ADMIN, ROUTE_V3},
	{GET, "/mlflow/roles/list", api_roles_list, RES_ROLE, NULL, PERM_ADMIN, ROUTE_V3},
	{PATCH, "/mlflow/roles/update", api_roles_update, RES_ROLE, "role_id", PERM_ADMIN, ROUTE_V3},
	{DELETE, "/mlflow/roles/delete", api_roles_delete, RES_ROLE, "role_id", PERM_ADMIN, ROUTE_V3},
	{POST, "/mlflow/roles/permissions/add", api_roles_permissions_add, RES_ROLE, "role_id", PERM_ADMIN, ROUTE_V3},
	{DELETE, "/mlflow/roles/permissions/remove", api_roles_permissions_remove, RES_ROLE, "role_permission_id", PERM_ADMIN, ROUTE_V3},
	{GET, "/mlflow/roles/permissions/list", api_roles_permissions_list, RES_ROLE, "role_id", PERM_ADMIN, ROUTE_V3},
	{PATCH, "/mlflow/roles/permissions/update", api_roles_permissions_update, RES_ROLE, "role_permission_id", PERM_ADMIN, ROUTE_V3},
	{POST, "/mlflow/roles/assign", api_roles_assign, RES_ROLE, "role_id", PERM_ADMIN, ROUTE_V3},
	{DELETE, "/mlflow/roles/unassign", api_roles_unassign, RES_ROLE, "role_id", PERM_ADMIN, ROUTE_V3},
	{GET, "/mlflow/users/roles/list", api_users_roles_list, RES_USER, "username", PERM_AUTHENTICATED, ROUTE_V3},
	{GET, "/mlflow/roles/users/list", api_roles_users_list, RES_ROLE, "role_id", PERM_ADMIN, ROUTE_V3},

	/* ---- the older per-resource permission API (earlier 3.x clients; gone from MLflow 3.17) ---- */
	{POST, "/mlflow/experiments/permissions/create", api_legacy_permissions_create, RES_EXPERIMENT, "experiment_id", PERM_MANAGE, ROUTE_V2},
	{GET, "/mlflow/experiments/permissions/get", api_legacy_permissions_get, RES_EXPERIMENT, "experiment_id", PERM_MANAGE, ROUTE_V2},
	{PATCH, "/mlflow/experiments/permissions/update", api_legacy_permissions_update, RES_EXPERIMENT, "experiment_id", PERM_MANAGE, ROUTE_V2},
	{DELETE, "/mlflow/experiments/permissions/delete", api_legacy_permissions_delete, RES_EXPERIMENT, "experiment_id", PERM_MANAGE, ROUTE_V2},
	{POST, "/mlflow/registered-models/permissions/create", api_legacy_permissions_create, RES_REGISTERED_MODEL, "name", PERM_MANAGE, ROUTE_V2},
	{GET, "/mlflow/registered-models/permissions/get", api_legacy_permissions_get, RES_REGISTERED_MODEL, "name", PERM_MANAGE, ROUTE_V2},
	{PATCH, "/mlflow/registered-models/permissions/update", api_legacy_permissions_update, RES_REGISTERED_MODEL, "name", PERM_MANAGE, ROUTE_V2},
	{DELETE, "/mlflow/registered-models/permissions/delete", api_legacy_permissions_delete, RES_REGISTERED_MODEL, "name", PERM_MANAGE, ROUTE_V2},

	/* ---- bearer tokens (mltrackd's own; self or admin, checked in src/api/tokens.c) ---- */
	{POST, "/mltrackd/tokens/create", api_tokens_create, RES_USER, "username", PERM_AUTHENTICATED, ROUTE_V2},
	{GET, "/mltrackd/tokens/list", api_tokens_list, RES_USER, "username", PERM_AUTHENTICATED, ROUTE_V2},
	{POST, "/mltrackd/tokens/revoke", api_tokens_revoke, RES_USER, "username", PERM_AUTHENTICATED, ROUTE_V2},
};

const size_t mt_routes_count = sizeof mt_routes / sizeof mt_routes[0];
