/* SPDX-License-Identifier: Apache-2.0 */
/* main.c: start-up order (config, data directories, store, default experiment, HTTP), signals and the
 * graceful shutdown (stop accepting, finish in-flight requests, close the database cleanly). */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mltrackd/auth.h"
#include "mltrackd/config.h"
#include "mltrackd/gc.h"
#include "mltrackd/http.h"
#include "mltrackd/server.h"
#include "mltrackd/store.h"
#include "mltrackd/util.h"

/* mkdir -p for the parent directories of a file path (or the directory itself). */
static int mkdirs(const char *path, bool is_file)
{
	char tmp[4096];
	if (snprintf(tmp, sizeof tmp, "%s", path) >= (int)sizeof tmp)
		return -1;
	if (is_file) {
		char *slash = strrchr(tmp, '/');
		if (!slash)
			return 0;
		*slash = '\0';
	}
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (tmp[0] && mkdir(tmp, 0755) != 0 && errno != EEXIST)
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && (strcmp(argv[1], "user") == 0 || strcmp(argv[1], "routes") == 0)) /* src/auth/commands.c */
		return strcmp(argv[1], "user") == 0 ? mt_user_main(argc - 1, argv + 1) : mt_routes_main(argc - 1, argv + 1);
	struct mt_config cfg;
	bool gc = argc > 1 && strcmp(argv[1], "gc") == 0;
	int rc = gc ? mt_config_load(&cfg, argc - 1, argv + 1) : mt_config_load(&cfg, argc, argv);
	if (gc && rc == 0) {
		rc = mt_gc_main(&cfg);
		mt_config_free(&cfg);
		return rc;
	}
	if (rc != 0) {
		mt_config_free(&cfg);
		return rc > 0 ? 0 : 2;
	}
	if (mkdirs(cfg.db_path, true) != 0 || (cfg.serve_artifacts && mkdirs(cfg.artifacts_destination, false) != 0)) {
		fprintf(stderr, "mltrackd: cannot create data directories for %s: %s\n", cfg.db_path, strerror(errno));
		mt_config_free(&cfg);
		return 1;
	}

	/* Signals are handled by this thread only (sigwait); every thread created below inherits the mask. */
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	struct mt_err err;
	mt_err_init(&err);
	struct mt_server srv;
	if (mt_server_init(&srv, &cfg, &err) != MT_OK) {
		fprintf(stderr, "mltrackd: %s\n", err.msg);
		mt_config_free(&cfg);
		return 1;
	}
	struct mt_http *http = NULL;
	if (http_server_start(&srv, &http, &err) != MT_OK) {
		fprintf(stderr, "mltrackd: %s\n", err.msg);
		mt_server_close(&srv);
		mt_config_free(&cfg);
		return 1;
	}
	mt_log(MT_LOG_INFO, "mltrackd %s listening on http://%s:%d (database %s, schema v%d, %d workers)",
	       MLTRACKD_VERSION, cfg.host, cfg.port, cfg.db_path, store_schema_version(srv.store), cfg.workers);

	int sig = 0;
	sigwait(&sigs, &sig);
	mt_log(MT_LOG_INFO, "received %s: finishing in-flight requests", sig == SIGINT ? "SIGINT" : "SIGTERM");
	http_server_stop(http);
	mt_server_close(&srv);
	mt_config_free(&cfg);
	mt_log(MT_LOG_INFO, "stopped cleanly");
	return 0;
}
