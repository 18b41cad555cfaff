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
#include <unistd.h>

#include "mltrackd/backup.h"
#include "mltrackd/auth.h"
#include "mltrackd/config.h"
#include "mltrackd/gc.h"
#include "mltrackd/http.h"
#include "mltrackd/import.h"
#include "mltrackd/log.h"
#include "mltrackd/server.h"
#include "mltrackd/store.h"
#include "mltrackd/util.h"

int main(int argc, char **argv)
{
	if (argc > 1 && (strcmp(argv[1], "user") == 0 || strcmp(argv[1], "routes") == 0)) /* src/auth/commands.c */
		return strcmp(argv[1], "user") == 0 ? mt_user_main(argc - 1, argv + 1) : mt_routes_main(argc - 1, argv + 1);
	struct mt_config cfg;
	/* mltrackd backup DEST [options] / mltrackd restore SRC [--force] [options]: the path, then the usual flags */
	bool backup = argc > 1 && strcmp(argv[1], "backup") == 0, restore = argc > 1 && strcmp(argv[1], "restore") == 0;
	if (backup || restore) {
		if (argc < 3 || argv[2][0] == '-') {
			fprintf(stderr, "usage: mltrackd %s\n", backup ? "backup DEST [--backend-store-uri URI] [--artifacts-destination DIR]"
			                                               : "restore SRC [--force] [--backend-store-uri URI] [--artifacts-destination DIR]");
			return 2;
		}
		const char *path = argv[2];
		bool force = false;
		char **rest = calloc((size_t)argc, sizeof *rest);
		int n = 0;
		rest[n++] = argv[0];
		for (int i = 3; i < argc; i++) {
			if (restore && strcmp(argv[i], "--force") == 0)
				force = true;
			else
				rest[n++] = argv[i];
		}
		int crc = mt_config_load(&cfg, n, rest);
		if (crc == 0)
			crc = backup ? mt_backup_main(&cfg, path) : mt_restore_main(&cfg, path, force);
		else
			crc = crc > 0 ? 0 : 2;
		mt_config_free(&cfg);
		free(rest);
		return crc;
	}
	/* mltrackd import --from-mlflow sqlite:///path/mlflow.db [--artifacts DIR] [options] */
	if (argc > 1 && strcmp(argv[1], "import") == 0) {
		const char *from = NULL, *arts = NULL;
		char **rest = calloc((size_t)argc, sizeof *rest);
		int n = 0;
		rest[n++] = argv[0];
		for (int i = 2; i < argc; i++) {
			if (strcmp(argv[i], "--from-mlflow") == 0 && i + 1 < argc)
				from = argv[++i];
			else if (strcmp(argv[i], "--artifacts") == 0 && i + 1 < argc)
				arts = argv[++i];
			else
				rest[n++] = argv[i];
		}
		int crc = mt_config_load(&cfg, n, rest);
		crc = crc == 0 ? mt_import_main(&cfg, from, arts) : crc > 0 ? 0 : 2;
		mt_config_free(&cfg);
		free(rest);
		return crc;
	}
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
	mt_log_set_format((enum mt_log_format)cfg.log_format);
	if (mt_mkdirs(cfg.db_path, true) != 0 || (cfg.serve_artifacts && mt_mkdirs(cfg.artifacts_destination, false) != 0)) {
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

	char why[4400];
	int lock_fd = mt_lock_database(cfg.db_path, why, sizeof why); /* held until exit */
	if (lock_fd < 0) {
		fprintf(stderr, "mltrackd: %s\n", why);
		mt_config_free(&cfg);
		return 1;
	}
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
	if (cfg.metrics_port > 0)
		mt_log(MT_LOG_INFO, "metrics (no authentication) on http://%s:%d/metrics", cfg.host, cfg.metrics_port);

	int sig = 0;
	sigwait(&sigs, &sig);
	mt_log(MT_LOG_INFO, "received %s: finishing in-flight requests", sig == SIGINT ? "SIGINT" : "SIGTERM");
	http_server_stop(http);
	mt_server_close(&srv);
	mt_config_free(&cfg);
	close(lock_fd);
	mt_log(MT_LOG_INFO, "stopped cleanly");
	return 0;
}
