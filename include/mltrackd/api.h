/* SPDX-License-Identifier: Apache-2.0 */
/* api.h: the handlers the route table points at, one section per resource module under src/api/.
 * A handler parses and validates its request, calls the store, and writes the reply; no SQL, no MHD. */
#ifndef MLTRACKD_API_H
#define MLTRACKD_API_H

#include "mltrackd/route.h"

#define MT_HANDLER(name) enum mt_error name(struct mt_request *req, struct mt_response *resp, struct mt_err *err)

/* ---- src/api/server_info.c ---- */
MT_HANDLER(api_health);
MT_HANDLER(api_version);
MT_HANDLER(api_server_info);
MT_HANDLER(api_metrics); /* src/http/metrics.c */

/* ---- src/api/experiments.c ---- */
MT_HANDLER(api_experiments_create);
MT_HANDLER(api_experiments_get);
MT_HANDLER(api_experiments_get_by_name);
MT_HANDLER(api_experiments_update);
MT_HANDLER(api_experiments_delete);
MT_HANDLER(api_experiments_restore);
MT_HANDLER(api_experiments_set_tag);
MT_HANDLER(api_experiments_delete_tag);

/* ---- src/api/users.c ---- */
MT_HANDLER(api_users_create);
MT_HANDLER(api_users_get);
MT_HANDLER(api_users_current);
MT_HANDLER(api_users_list);
MT_HANDLER(api_users_update_password);
MT_HANDLER(api_users_update_admin);
MT_HANDLER(api_users_delete);
MT_HANDLER(api_users_permissions_grant);
MT_HANDLER(api_users_permissions_revoke);
MT_HANDLER(api_users_permissions_get);
MT_HANDLER(api_users_permissions_list);
MT_HANDLER(api_users_current_permissions);

/* ---- src/api/roles.c (MLflow 3.17 roles; the older per-resource permission API) ---- */
MT_HANDLER(api_roles_create);
MT_HANDLER(api_roles_get);
MT_HANDLER(api_roles_list);
MT_HANDLER(api_roles_update);
MT_HANDLER(api_roles_delete);
MT_HANDLER(api_roles_permissions_add);
MT_HANDLER(api_roles_permissions_remove);
MT_HANDLER(api_roles_permissions_list);
MT_HANDLER(api_roles_permissions_update);
MT_HANDLER(api_roles_assign);
MT_HANDLER(api_roles_unassign);
MT_HANDLER(api_users_roles_list);
MT_HANDLER(api_roles_users_list);
MT_HANDLER(api_legacy_permissions_create);
MT_HANDLER(api_legacy_permissions_get);
MT_HANDLER(api_legacy_permissions_update);
MT_HANDLER(api_legacy_permissions_delete);

/* ---- src/api/tokens.c ---- */
MT_HANDLER(api_tokens_create);
MT_HANDLER(api_tokens_list);
MT_HANDLER(api_tokens_revoke);

/* ---- src/api/runs.c ---- */
MT_HANDLER(api_runs_create);
MT_HANDLER(api_runs_get);
MT_HANDLER(api_runs_update);
MT_HANDLER(api_runs_delete);
MT_HANDLER(api_runs_restore);
MT_HANDLER(api_runs_log_parameter);
MT_HANDLER(api_runs_set_tag);
MT_HANDLER(api_runs_delete_tag);
MT_HANDLER(api_runs_log_model);

/* ---- src/api/metrics.c ---- */
MT_HANDLER(api_runs_log_metric);
MT_HANDLER(api_runs_log_batch);
MT_HANDLER(api_metrics_get_history);
MT_HANDLER(api_metrics_get_history_bulk_interval);
MT_HANDLER(api_metrics_get_history_bulk); /* ajax-only, as MLflow */

/* ---- src/api/logged_models.c ---- */
MT_HANDLER(api_logged_models_create);
MT_HANDLER(api_logged_models_get);
MT_HANDLER(api_logged_models_finalize);
MT_HANDLER(api_logged_models_delete);
MT_HANDLER(api_logged_models_set_tags);
MT_HANDLER(api_logged_models_delete_tag);
MT_HANDLER(api_logged_models_log_params);
MT_HANDLER(api_logged_models_search);
MT_HANDLER(api_runs_log_inputs);
MT_HANDLER(api_experiments_search_datasets);
MT_HANDLER(api_runs_log_outputs);

/* ---- src/api/artifacts.c ---- */
MT_HANDLER(api_artifacts_put);
MT_HANDLER(api_artifacts_get);
MT_HANDLER(api_artifacts_list);
MT_HANDLER(api_artifacts_delete);
MT_HANDLER(api_artifacts_mpu);
MT_HANDLER(api_run_artifacts_list);
MT_HANDLER(api_get_artifact);
MT_HANDLER(api_model_version_get_artifact);
MT_HANDLER(api_upload_artifact);
MT_HANDLER(api_logged_model_artifacts_list);
MT_HANDLER(api_logged_model_artifact_file);
/* Streaming upload hooks called by the dispatcher (ROUTE_STREAM_BODY). */
enum mt_error api_stream_begin(struct mt_request *req, struct mt_err *err);
enum mt_error api_stream_write(struct mt_request *req, const char *data, size_t n, struct mt_err *err);

/* ---- src/api/search.c ---- */
MT_HANDLER(api_runs_search);
MT_HANDLER(api_experiments_search);

/* ---- src/api/registered_models.c ---- */
MT_HANDLER(api_registered_models_create);
MT_HANDLER(api_registered_models_get);
MT_HANDLER(api_registered_models_rename);
MT_HANDLER(api_registered_models_update);
MT_HANDLER(api_registered_models_delete);
MT_HANDLER(api_registered_models_search);
MT_HANDLER(api_registered_models_get_latest_versions);
MT_HANDLER(api_registered_models_set_tag);
MT_HANDLER(api_registered_models_delete_tag);
MT_HANDLER(api_registered_models_set_alias);
MT_HANDLER(api_registered_models_delete_alias);
MT_HANDLER(api_registered_models_get_alias);

/* ---- src/api/model_versions.c ---- */
MT_HANDLER(api_model_versions_create);
MT_HANDLER(api_model_versions_get);
MT_HANDLER(api_model_versions_update);
MT_HANDLER(api_model_versions_delete);
MT_HANDLER(api_model_versions_search);
MT_HANDLER(api_model_versions_transition_stage);
MT_HANDLER(api_model_versions_get_download_uri);
MT_HANDLER(api_model_versions_set_tag);
MT_HANDLER(api_model_versions_delete_tag);

/* ---- src/api/promotion.c (Databricks' transition requests and comments) ---- */
MT_HANDLER(api_transition_requests_create);
MT_HANDLER(api_transition_requests_list);
MT_HANDLER(api_transition_requests_approve);
MT_HANDLER(api_transition_requests_reject);
MT_HANDLER(api_transition_requests_delete);
MT_HANDLER(api_databricks_transition_stage);
MT_HANDLER(api_comments_create);
MT_HANDLER(api_comments_update);
MT_HANDLER(api_comments_delete);
MT_HANDLER(api_activities_list);

/* ---- src/api/webhooks.c (MLflow's and Databricks' webhooks, mltrackd's delivery log) ---- */
MT_HANDLER(api_webhooks_create);
MT_HANDLER(api_webhooks_list);
MT_HANDLER(api_webhooks_get);
MT_HANDLER(api_webhooks_update);
MT_HANDLER(api_webhooks_delete);
MT_HANDLER(api_webhooks_test);
MT_HANDLER(api_registry_webhooks_create);
MT_HANDLER(api_registry_webhooks_list);
MT_HANDLER(api_registry_webhooks_update);
MT_HANDLER(api_registry_webhooks_delete);
MT_HANDLER(api_registry_webhooks_test);
MT_HANDLER(api_webhook_deliveries_list);
MT_HANDLER(api_webhook_redeliver);

#endif
