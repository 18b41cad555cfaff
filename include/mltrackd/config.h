/* SPDX-License-Identifier: Apache-2.0 */
/* config.h: the daemon's settings from flags and environment variables (mlflow server compatible names),
 * and the server context handed to every request. */
#ifndef MLTRACKD_CONFIG_H
#define MLTRACKD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#define MLTRACKD_VERSION "0.1.0"
/* The MLflow version whose REST API we serve; answered at /version (the client gates features on it). */
#define MLTRACKD_MLFLOW_API_VERSION "3.17.2"

struct mt_config {
	const char *host;
	int port;
	const char *backend_store_uri;     /* sqlite:///path */
	char *db_path;                     /* derived from backend_store_uri (owned) */
	const char *default_artifact_root; /* root for new experiments' artifact locations */
	const char *artifacts_destination; /* filesystem root of the proxied artifact store */
	bool serve_artifacts;
	bool artifacts_only;
	int workers;                       /* HTTP worker threads */
	size_t max_body;                   /* JSON request body limit, bytes */
	bool quiet;                        /* no access log */
	/* Authentication (the ACL layer): off by default on loopback, as `mlflow server`; on with --app-name
	 * basic-auth / --auth. */
	bool auth_enabled;
	const char *default_permission;    /* READ, USE, EDIT, MANAGE or NO_PERMISSIONS (MLflow's default: READ) */
	const char *admin_username;        /* the admin bootstrapped on first start */
	const char *admin_password;        /* from MLFLOW_AUTH_ADMIN_PASSWORD / MLTRACKD_ADMIN_PASSWORD / the ini */
	int login_max_failures;            /* failed logins per user name within the window before 429 (0: no limit) */
	int login_max_failures_per_address; /* the same per client address */
	int login_window_seconds;
	bool strict_promotion;             /* transition-stage needs the registry's MANAGE_*_VERSIONS levels, not EDIT */
	char *ini_storage;                 /* owned copy of the auth ini values */
	const char *gc_older_than;         /* `mltrackd gc --older-than` (e.g. 30d) */
	int log_format;                    /* enum mt_log_format: --log-format text|json|logfmt */
	int metrics_port;                  /* > 0: GET /metrics also served, without authentication, on this port */
	/* Webhooks (docs/webhooks.md): MLflow's MLFLOW_WEBHOOK_* variables and flags of our own. */
	const char *webhook_allowed_schemes; /* "https" (MLFLOW_WEBHOOK_ALLOWED_SCHEMES=http,https) */
	bool webhook_allow_private;        /* loopback and private ranges (MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS) */
	const char *webhook_secret_key;    /* MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY: seals secrets at rest */
	int webhook_timeout_s;             /* per attempt (MLFLOW_WEBHOOK_REQUEST_TIMEOUT, default 30) */
	long webhook_backoff_base_ms;      /* first retry delay (default 1000) */
	long webhook_backoff_max_ms;       /* retry delay cap (default 300000) */
	long webhook_max_age_s;            /* a delivery still failing after this is marked failed (default 3 days) */
	bool webhook_dispatch;             /* run the delivery thread (default on) */
};

/* Defaults, then environment (MLTRACKD_* and MLflow's MLFLOW_* names), then argv. Returns 0 to run,
 * 1 when --help/--version was served, -1 on a usage error (message printed). */
int mt_config_load(struct mt_config *cfg, int argc, char **argv);
void mt_config_free(struct mt_config *cfg);

struct store;
struct artifact_store;

/* Shared, read-only after start-up. */
struct mt_server {
	const struct mt_config *cfg;
	struct store *store;
	char *artifact_root_uri; /* "mlflow-artifacts:" style root new experiments are placed under */
	struct artifact_store *artifacts; /* the proxied artifact store (NULL with --no-serve-artifacts) */
	struct wh_dispatcher *webhooks;   /* the webhook delivery thread (NULL when off) */
};

#endif
