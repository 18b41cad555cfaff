/* SPDX-License-Identifier: Apache-2.0 */
/* config.c: flags and environment variables, with `mlflow server`'s names where they apply.
 * Order: built-in defaults < environment < command line. No I/O beyond printing usage. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "mltrackd/buf.h"
#include "mltrackd/config.h"
#include "mltrackd/log.h"
#include "mltrackd/util.h"

static void usage(FILE *f)
{
	fprintf(f,
	        "Usage: mltrackd [options]\n"
	        "An MLflow-compatible experiment-tracking and model-registry server.\n\n"
	        "  --host HOST                  address to listen on (default 127.0.0.1; env MLFLOW_HOST)\n"
	        "  --port PORT                  port (default 5000; env MLFLOW_PORT)\n"
	        "  --backend-store-uri URI      sqlite:///relative.db or sqlite:////abs/path.db\n"
	        "                               (default sqlite:///mltrackd-data/mltrackd.db; env MLFLOW_BACKEND_STORE_URI)\n"
	        "  --default-artifact-root URI  artifact root of new experiments (default mlflow-artifacts:/ when\n"
	        "                               serving artifacts; env MLFLOW_DEFAULT_ARTIFACT_ROOT)\n"
	        "  --artifacts-destination DIR  where proxied artifacts are stored (default ./mltrackd-data/artifacts;\n"
	        "                               env MLFLOW_ARTIFACTS_DESTINATION)\n"
	        "  --serve-artifacts / --no-serve-artifacts   proxy artifact uploads and downloads (default on)\n"
	        "  --artifacts-only             serve only the artifact API\n"
	        "  --workers N                  HTTP worker threads (default: twice the CPUs, 4 to 64; env MLFLOW_WORKERS)\n"
	        "  --max-body-bytes N           JSON request body limit (default 67108864)\n"
	        "  --allow-insecure-remote      allow listening on a non-loopback address without authentication\n"
	        "  --quiet                      no access log\n"
	        "  --log-format FORMAT          text (default), json or logfmt: one line per request with request id,\n"
	        "                               route, status, latency, bytes and principal (env MLTRACKD_LOG_FORMAT)\n"
	        "  --metrics-port PORT          also serve GET /metrics without authentication on this port (same\n"
	        "                               host); on the main port /metrics needs an authenticated user when\n"
	        "                               authentication is on (env MLTRACKD_METRICS_PORT)\n"
	        "  --app-name basic-auth, --auth  require authentication (HTTP Basic or Bearer tokens) and enforce\n"
	        "                               permissions; the first admin comes from MLFLOW_AUTH_ADMIN_PASSWORD\n"
	        "                               (or MLTRACKD_ADMIN_PASSWORD, or admin_password in MLFLOW_AUTH_CONFIG_PATH)\n"
	        "  --default-permission PERM    READ (default), USE, EDIT, MANAGE or NO_PERMISSIONS\n"
	        "  --admin-username NAME        name of the bootstrapped admin (default admin)\n"
	        "  --login-max-failures N       failed logins per user name within the window before 429 (default 10;\n"
	        "                               0 = no limit)\n"
	        "  --login-max-failures-per-address N   the same per client address (default 50)\n"
	        "  --login-window-seconds N     the failed-login window (default 300)\n"
	        "  --promotion-rule mlflow|strict  who may transition model versions: EDIT (MLflow, default) or the\n"
	        "                               registry levels MANAGE_STAGING_VERSIONS / MANAGE_PRODUCTION_VERSIONS\n"
	        "  --webhook-allowed-schemes LIST   URL schemes webhooks may use (default https; env\n"
	        "                               MLFLOW_WEBHOOK_ALLOWED_SCHEMES)\n"
	        "  --webhook-allow-private-ips  deliver to loopback and private addresses (env MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS)\n"
	        "  --webhook-timeout S          per-attempt timeout (default 30; env MLFLOW_WEBHOOK_REQUEST_TIMEOUT)\n"
	        "  --webhook-backoff-max-ms MS  longest delay between retries (default 300000)\n"
	        "  --webhook-max-age S          give a delivery up after S seconds (default 259200)\n"
	        "  --no-webhook-dispatch        do not run the delivery thread (deliveries wait in the database)\n"
	        "                               secrets are sealed with MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY when set\n"
	        "  --help, --version\n\n"
	        "mltrackd gc [--older-than 30d] [--backend-store-uri URI] [--artifacts-destination DIR]\n"
	        "  permanently removes deleted runs and experiments (deleted at least --older-than ago, default 0)\n"
	        "  with their artifacts, like `mlflow gc`; run it while the server is stopped or idle.\n\n"
	        "mltrackd backup DEST [--backend-store-uri URI] [--artifacts-destination DIR]\n"
	        "  a consistent copy of the database and the artifacts into a new directory, while the server runs\n"
	        "mltrackd restore SRC [--force] [--backend-store-uri URI] [--artifacts-destination DIR]\n"
	        "  puts a backup in place (the server stopped); --force replaces an existing database\n"
	        "mltrackd import --from-mlflow sqlite:///mlflow.db [--artifacts DIR] [--backend-store-uri URI] ...\n"
	        "  brings an MLflow server's SQLite database (and its --artifacts-destination) in; ids kept, idempotent\n\n"
	        "Every option can also be set as MLTRACKD_<OPTION> (e.g. MLTRACKD_PORT=5001).\n");
}

static const char *env2(const char *a, const char *b)
{
	const char *v = getenv(a);
	if (v && *v)
		return v;
	v = b ? getenv(b) : NULL;
	return v && *v ? v : NULL;
}

static bool truthy(const char *v) { return v && (!strcmp(v, "1") || !strcasecmp(v, "true") || !strcasecmp(v, "yes")); }

/* sqlite:///rel.db -> rel.db ; sqlite:////abs.db -> /abs.db ; a plain path is taken as is. */
static char *db_path_from_uri(const char *uri)
{
	if (strncmp(uri, "sqlite:///", 10) == 0)
		return xstrdup(uri + 10);
	if (strstr(uri, "://"))
		return NULL;
	return xstrdup(uri);
}

/* Reads MLflow's basic_auth.ini ([mlflow] default_permission, admin_username, admin_password). */
static void load_auth_ini(struct mt_config *cfg, const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "mltrackd: cannot read MLFLOW_AUTH_CONFIG_PATH %s\n", path);
		return;
	}
	struct buf store;
	buf_init(&store, 1 << 16);
	char line[1024];
	size_t offs[3] = {0, 0, 0};
	bool have[3] = {false, false, false};
	static const char *keys[] = {"default_permission", "admin_username", "admin_password"};
	while (fgets(line, sizeof line, f)) {
		char *eq = strchr(line, '=');
		if (!eq || line[0] == '#' || line[0] == ';')
			continue;
		char *k = line, *v = eq + 1;
		*eq = '\0';
		while (*k == ' ' || *k == '\t')
			k++;
		for (char *e = k + strlen(k); e > k && (e[-1] == ' ' || e[-1] == '\t'); e--)
			e[-1] = '\0';
		while (*v == ' ' || *v == '\t')
			v++;
		v[strcspn(v, "\r\n")] = '\0';
		for (char *e = v + strlen(v); e > v && (e[-1] == ' ' || e[-1] == '\t'); e--)
			e[-1] = '\0';
		for (int i = 0; i < 3; i++)
			if (strcmp(k, keys[i]) == 0 && *v) {
				offs[i] = store.len;
				have[i] = true;
				buf_append(&store, v, strlen(v) + 1);
			}
	}
	fclose(f);
	if (store.data == NULL)
		return;
	cfg->ini_storage = buf_steal(&store, NULL);
	if (have[0])
		cfg->default_permission = cfg->ini_storage + offs[0];
	if (have[1])
		cfg->admin_username = cfg->ini_storage + offs[1];
	if (have[2])
		cfg->admin_password = cfg->ini_storage + offs[2];
}

static bool is_loopback(const char *h)
{
	return !strcmp(h, "localhost") || !strncmp(h, "127.", 4) || !strcmp(h, "::1");
}

int mt_config_load(struct mt_config *cfg, int argc, char **argv)
{
	memset(cfg, 0, sizeof *cfg);
	long ncpu = 2;
	cfg->host = "127.0.0.1";
	cfg->port = 5000;
	cfg->backend_store_uri = "sqlite:///mltrackd-data/mltrackd.db";
	cfg->artifacts_destination = "./mltrackd-data/artifacts";
	cfg->serve_artifacts = true;
	cfg->max_body = 64u * 1024 * 1024;
	cfg->default_permission = "READ";
	cfg->admin_username = "admin";
	cfg->login_max_failures = 10;
	cfg->login_max_failures_per_address = 50;
	cfg->login_window_seconds = 300;
	cfg->webhook_allowed_schemes = "https";
	cfg->webhook_timeout_s = 30;
	cfg->webhook_backoff_base_ms = 1000;
	cfg->webhook_backoff_max_ms = 300000;
	cfg->webhook_max_age_s = 3 * 86400;
	cfg->webhook_dispatch = true;
	bool insecure = false;
	const char *v;
	if ((v = env2("MLTRACKD_HOST", "MLFLOW_HOST")))
		cfg->host = v;
	if ((v = env2("MLTRACKD_PORT", "MLFLOW_PORT")))
		cfg->port = strtol(v, NULL, 10) > 0 ? (int)strtol(v, NULL, 10) : cfg->port;
	if ((v = env2("MLTRACKD_BACKEND_STORE_URI", "MLFLOW_BACKEND_STORE_URI")))
		cfg->backend_store_uri = v;
	if ((v = env2("MLTRACKD_DEFAULT_ARTIFACT_ROOT", "MLFLOW_DEFAULT_ARTIFACT_ROOT")))
		cfg->default_artifact_root = v;
	if ((v = env2("MLTRACKD_ARTIFACTS_DESTINATION", "MLFLOW_ARTIFACTS_DESTINATION")))
		cfg->artifacts_destination = v;
	if ((v = env2("MLTRACKD_SERVE_ARTIFACTS", "MLFLOW_SERVE_ARTIFACTS")))
		cfg->serve_artifacts = truthy(v);
	if ((v = env2("MLTRACKD_ARTIFACTS_ONLY", "MLFLOW_ARTIFACTS_ONLY")))
		cfg->artifacts_only = truthy(v);
	if ((v = env2("MLTRACKD_WORKERS", "MLFLOW_WORKERS")))
		cfg->workers = (int)strtol(v, NULL, 10);
	if ((v = env2("MLTRACKD_ALLOW_INSECURE_REMOTE", NULL)))
		insecure = truthy(v);
	if ((v = env2("MLTRACKD_QUIET", NULL)))
		cfg->quiet = truthy(v);
	const char *log_format = env2("MLTRACKD_LOG_FORMAT", NULL);
	const char *metrics_port = env2("MLTRACKD_METRICS_PORT", NULL);
	if ((v = env2("MLFLOW_AUTH_CONFIG_PATH", NULL)))
		load_auth_ini(cfg, v);
	if ((v = env2("MLTRACKD_AUTH", NULL)))
		cfg->auth_enabled = truthy(v);
	if ((v = env2("MLTRACKD_DEFAULT_PERMISSION", NULL)))
		cfg->default_permission = v;
	if ((v = env2("MLTRACKD_ADMIN_USERNAME", NULL)))
		cfg->admin_username = v;
	if ((v = env2("MLTRACKD_ADMIN_PASSWORD", "MLFLOW_AUTH_ADMIN_PASSWORD")))
		cfg->admin_password = v;
	if ((v = env2("MLTRACKD_LOGIN_MAX_FAILURES", NULL)))
		cfg->login_max_failures = (int)strtol(v, NULL, 10);
	if ((v = env2("MLTRACKD_LOGIN_MAX_FAILURES_PER_ADDRESS", NULL)))
		cfg->login_max_failures_per_address = (int)strtol(v, NULL, 10);
	if ((v = env2("MLTRACKD_LOGIN_WINDOW_SECONDS", NULL)))
		cfg->login_window_seconds = (int)strtol(v, NULL, 10);
	if ((v = env2("MLTRACKD_PROMOTION_RULE", NULL)))
		cfg->strict_promotion = strcmp(v, "strict") == 0;

	enum { O_HOST = 1, O_PORT, O_BACKEND, O_ROOT, O_DEST, O_SERVE, O_NOSERVE, O_ONLY, O_WORKERS, O_MAXBODY,
	       O_INSECURE, O_QUIET, O_HELP, O_VERSION, O_APPNAME, O_AUTH, O_DEFPERM, O_ADMINUSER, O_OLDER,
	       O_LOGFORMAT, O_METRICSPORT, O_LOGIN_MAX, O_LOGIN_MAX_ADDR, O_LOGIN_WINDOW, O_PROMOTION,
	       O_WH_SCHEMES, O_WH_PRIVATE, O_WH_TIMEOUT, O_WH_BACKOFF, O_WH_AGE, O_WH_NODISPATCH };
	if ((v = env2("MLTRACKD_WEBHOOK_ALLOWED_SCHEMES", "MLFLOW_WEBHOOK_ALLOWED_SCHEMES")))
		cfg->webhook_allowed_schemes = v;
	if ((v = env2("MLTRACKD_WEBHOOK_ALLOW_PRIVATE_IPS", "MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS")))
		cfg->webhook_allow_private = truthy(v);
	if ((v = env2("MLTRACKD_WEBHOOK_SECRET_ENCRYPTION_KEY", "MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY")))
		cfg->webhook_secret_key = v;
	if ((v = env2("MLTRACKD_WEBHOOK_TIMEOUT", "MLFLOW_WEBHOOK_REQUEST_TIMEOUT")) && strtol(v, NULL, 10) > 0)
		cfg->webhook_timeout_s = (int)strtol(v, NULL, 10);
	if ((v = env2("MLTRACKD_WEBHOOK_BACKOFF_BASE_MS", NULL)) && strtol(v, NULL, 10) > 0)
		cfg->webhook_backoff_base_ms = strtol(v, NULL, 10);
	if ((v = env2("MLTRACKD_WEBHOOK_BACKOFF_MAX_MS", NULL)) && strtol(v, NULL, 10) > 0)
		cfg->webhook_backoff_max_ms = strtol(v, NULL, 10);
	if ((v = env2("MLTRACKD_WEBHOOK_MAX_AGE", NULL)) && strtol(v, NULL, 10) > 0)
		cfg->webhook_max_age_s = strtol(v, NULL, 10);
	if ((v = env2("MLTRACKD_WEBHOOK_DISPATCH", NULL)))
		cfg->webhook_dispatch = truthy(v);

	static const struct option opts[] = {
		{"host", required_argument, NULL, O_HOST}, {"port", required_argument, NULL, O_PORT},
		{"backend-store-uri", required_argument, NULL, O_BACKEND},
		{"default-artifact-root", required_argument, NULL, O_ROOT},
		{"artifacts-destination", required_argument, NULL, O_DEST},
		{"serve-artifacts", no_argument, NULL, O_SERVE}, {"no-serve-artifacts", no_argument, NULL, O_NOSERVE},
		{"artifacts-only", no_argument, NULL, O_ONLY}, {"workers", required_argument, NULL, O_WORKERS},
		{"max-body-bytes", required_argument, NULL, O_MAXBODY},
		{"allow-insecure-remote", no_argument, NULL, O_INSECURE}, {"quiet", no_argument, NULL, O_QUIET},
		{"app-name", required_argument, NULL, O_APPNAME}, {"auth", no_argument, NULL, O_AUTH},
		{"default-permission", required_argument, NULL, O_DEFPERM},
		{"admin-username", required_argument, NULL, O_ADMINUSER},
		{"older-than", required_argument, NULL, O_OLDER},
		{"log-format", required_argument, NULL, O_LOGFORMAT},
		{"metrics-port", required_argument, NULL, O_METRICSPORT},
		{"login-max-failures", required_argument, NULL, O_LOGIN_MAX},
		{"login-max-failures-per-address", required_argument, NULL, O_LOGIN_MAX_ADDR},
		{"login-window-seconds", required_argument, NULL, O_LOGIN_WINDOW},
		{"promotion-rule", required_argument, NULL, O_PROMOTION},
		{"webhook-allowed-schemes", required_argument, NULL, O_WH_SCHEMES},
		{"webhook-allow-private-ips", no_argument, NULL, O_WH_PRIVATE},
		{"webhook-timeout", required_argument, NULL, O_WH_TIMEOUT},
		{"webhook-backoff-max-ms", required_argument, NULL, O_WH_BACKOFF},
		{"webhook-max-age", required_argument, NULL, O_WH_AGE},
		{"no-webhook-dispatch", no_argument, NULL, O_WH_NODISPATCH},
		{"help", no_argument, NULL, O_HELP}, {"version", no_argument, NULL, O_VERSION}, {NULL, 0, NULL, 0}};
	optind = 1;
	int c;
	char *end;
	while ((c = getopt_long(argc, argv, "h:p:w:", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
		case O_HOST: cfg->host = optarg; break;
		case 'p':
		case O_PORT:
			cfg->port = (int)strtol(optarg, &end, 10);
			if (*end || cfg->port <= 0 || cfg->port > 65535) {
				fprintf(stderr, "mltrackd: invalid --port '%s'\n", optarg);
				return -1;
			}
			break;
		case O_BACKEND: cfg->backend_store_uri = optarg; break;
		case O_ROOT: cfg->default_artifact_root = optarg; break;
		case O_DEST: cfg->artifacts_destination = optarg; break;
		case O_SERVE: cfg->serve_artifacts = true; break;
		case O_NOSERVE: cfg->serve_artifacts = false; break;
		case O_ONLY: cfg->artifacts_only = true; break;
		case 'w':
		case O_WORKERS:
			cfg->workers = (int)strtol(optarg, &end, 10);
			if (*end || cfg->workers <= 0 || cfg->workers > 1024) {
				fprintf(stderr, "mltrackd: invalid --workers '%s'\n", optarg);
				return -1;
			}
			break;
		case O_MAXBODY: cfg->max_body = (size_t)strtoull(optarg, NULL, 10); break;
		case O_INSECURE: insecure = true; break;
		case O_QUIET: cfg->quiet = true; break;
		case O_APPNAME:
			if (strcmp(optarg, "basic-auth") != 0) {
				fprintf(stderr, "mltrackd: unsupported --app-name '%s' (only basic-auth)\n", optarg);
				return -1;
			}
			cfg->auth_enabled = true;
			break;
		case O_AUTH: cfg->auth_enabled = true; break;
		case O_DEFPERM: cfg->default_permission = optarg; break;
		case O_ADMINUSER: cfg->admin_username = optarg; break;
		case O_OLDER: cfg->gc_older_than = optarg; break;
		case O_LOGFORMAT: log_format = optarg; break;
		case O_METRICSPORT: metrics_port = optarg; break;
		case O_LOGIN_MAX:
		case O_LOGIN_MAX_ADDR:
		case O_LOGIN_WINDOW: {
			long n = strtol(optarg, &end, 10);
			if (*end || n < 0 || n > 1000000) {
				fprintf(stderr, "mltrackd: invalid value '%s' for a login limit\n", optarg);
				return -1;
			}
			*(c == O_LOGIN_MAX ? &cfg->login_max_failures
			  : c == O_LOGIN_MAX_ADDR ? &cfg->login_max_failures_per_address
			                          : &cfg->login_window_seconds) = (int)n;
			break;
		}
		case O_PROMOTION:
			if (strcmp(optarg, "strict") != 0 && strcmp(optarg, "mlflow") != 0) {
				fprintf(stderr, "mltrackd: --promotion-rule must be mlflow or strict\n");
				return -1;
			}
			cfg->strict_promotion = strcmp(optarg, "strict") == 0;
			break;
		case O_WH_SCHEMES: cfg->webhook_allowed_schemes = optarg; break;
		case O_WH_PRIVATE: cfg->webhook_allow_private = true; break;
		case O_WH_TIMEOUT: cfg->webhook_timeout_s = strtol(optarg, NULL, 10) > 0 ? (int)strtol(optarg, NULL, 10) : 30; break;
		case O_WH_BACKOFF: cfg->webhook_backoff_max_ms = strtol(optarg, NULL, 10) > 0 ? strtol(optarg, NULL, 10) : 300000; break;
		case O_WH_AGE: cfg->webhook_max_age_s = strtol(optarg, NULL, 10) > 0 ? strtol(optarg, NULL, 10) : 259200; break;
		case O_WH_NODISPATCH: cfg->webhook_dispatch = false; break;
		case O_HELP: usage(stdout); return 1;
		case O_VERSION: printf("mltrackd %s (MLflow REST API %s)\n", MLTRACKD_VERSION, MLTRACKD_MLFLOW_API_VERSION); return 1;
		default: usage(stderr); return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "mltrackd: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	enum mt_log_format lf = MT_LOG_TEXT;
	if (log_format && !mt_log_parse_format(log_format, &lf)) {
		fprintf(stderr, "mltrackd: invalid --log-format '%s' (text, json or logfmt)\n", log_format);
		return -1;
	}
	cfg->log_format = (int)lf;
	if (metrics_port) {
		long mp = strtol(metrics_port, &end, 10);
		if (*end || mp <= 0 || mp > 65535 || mp == cfg->port) {
			fprintf(stderr, "mltrackd: invalid --metrics-port '%s' (1-65535, not the main port)\n", metrics_port);
			return -1;
		}
		cfg->metrics_port = (int)mp;
	}
	if (cfg->workers <= 0) {
		/* Twice the cores: each worker accepts its own connections and blocks while a request runs, so with
		 * one worker per core a burst of connections can all land on one of them and leave a core idle
		 * (search-runs at 16 clients on 2 cores: 88-220 req/s with 2 workers, 230-250 with 4). */
		ncpu = sysconf(_SC_NPROCESSORS_ONLN);
		cfg->workers = ncpu < 2 ? 4 : ncpu > 32 ? 64 : 2 * (int)ncpu;
	}
	if (cfg->max_body < 1024)
		cfg->max_body = 1024;
	cfg->db_path = db_path_from_uri(cfg->backend_store_uri);
	if (!cfg->db_path) {
		fprintf(stderr, "mltrackd: unsupported --backend-store-uri '%s' (only sqlite:/// is supported)\n",
		        cfg->backend_store_uri);
		return -1;
	}
	static const char *perms[] = {"READ", "USE", "EDIT", "MANAGE", "NO_PERMISSIONS"};
	bool perm_ok = false;
	for (size_t i = 0; i < sizeof perms / sizeof perms[0]; i++)
		perm_ok |= strcmp(cfg->default_permission, perms[i]) == 0;
	if (!perm_ok) {
		fprintf(stderr, "mltrackd: invalid default permission '%s'\n", cfg->default_permission);
		return -1;
	}
	if (!is_loopback(cfg->host) && !insecure && !cfg->auth_enabled) {
		fprintf(stderr,
		        "mltrackd: refusing to listen on '%s' without authentication; pass --allow-insecure-remote "
		        "to do it anyway\n",
		        cfg->host);
		return -1;
	}
	return 0;
}

void mt_config_free(struct mt_config *cfg)
{
	free(cfg->db_path);
	cfg->db_path = NULL;
	free(cfg->ini_storage);
	cfg->ini_storage = NULL;
}
