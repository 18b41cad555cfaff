/* SPDX-License-Identifier: Apache-2.0 */
/* import.c: `mltrackd import --from-mlflow sqlite:///path/mlflow.db [--artifacts DIR]`: an MLflow server's SQLite
 * database and proxied artifact store into this data directory (its server stopped). Idempotent; says what it
 * imported and what it skipped and why. Never writes to the MLflow side. */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mltrackd/backup.h"
#include "mltrackd/import.h"
#include "mltrackd/store.h"
#include "mltrackd/store_import.h"
#include "mltrackd/util.h"

static void on_step(void *ctx, const struct store_import_step *s)
{
	(void)ctx;
	bool tty = isatty(STDERR_FILENO);
	if (s->started) { /* progress on a terminal only: the table being copied and how many rows it has */
		if (tty) {
			fprintf(stderr, "\rimporting %s (%lld rows)...%-20s", s->what, (long long)s->source_rows, "");
			fflush(stderr);
		}
		return;
	}
	if (tty)
		fprintf(stderr, "\r%-70s\r", ""); /* clears the progress line before the summary line */
	if (s->note) {
		printf("  %-30s skipped: %s\n", s->what, s->note);
	} else {
		long long skipped = s->source_rows >= 0 && s->source_rows > s->imported ? s->source_rows - s->imported : 0;
		printf("  %-30s %10lld imported", s->what, (long long)s->imported);
		if (s->source_rows >= 0)
			printf(" of %lld", (long long)s->source_rows);
		if (skipped)
			printf(" (%lld skipped: already here, conflicting with a row of ours, or under something skipped)",
			       skipped);
		printf("\n");
	}
	fflush(stdout);
}

int mt_import_main(const struct mt_config *cfg, const char *from_uri, const char *artifacts)
{
	if (!from_uri || strncmp(from_uri, "sqlite:///", 10) != 0 || from_uri[10] == '\0') {
		fprintf(stderr, "mltrackd import: --from-mlflow needs sqlite:///relative.db or sqlite:////abs/path.db\n");
		return 2;
	}
	const char *mlflow_db = from_uri + 10;
	if (access(mlflow_db, R_OK) != 0) {
		fprintf(stderr, "mltrackd import: cannot read %s\n", mlflow_db);
		return 2;
	}
	/* like the server at start: the database's directory is created when missing */
	mt_mkdirs(cfg->db_path, true);
	char why[4400];
	if (mt_lock_database(cfg->db_path, why, sizeof why) < 0) { /* a running server would cache stale ids */
		fprintf(stderr, "mltrackd import: %s\n", why);
		return 1;
	}
	struct mt_err err;
	mt_err_init(&err);
	struct store *s;
	if (store_open(cfg->db_path, &s, &err) != MT_OK) { /* creates and migrates ours if needed */
		fprintf(stderr, "mltrackd import: %s\n", err.msg);
		return 1;
	}
	store_close(s);
	char arts_real[4096];
	if (artifacts && *artifacts && !realpath(artifacts, arts_real)) {
		fprintf(stderr, "mltrackd import: cannot resolve --artifacts %s\n", artifacts);
		return 2;
	}
	printf("importing %s into %s\n", mlflow_db, cfg->db_path);
	int64_t t0 = mt_now_ms();
	const char *arts_dir = artifacts && *artifacts ? arts_real : NULL;
	if (store_import_mlflow(cfg->db_path, mlflow_db, arts_dir, on_step, NULL, &err) != MT_OK) {
		fprintf(stderr, "mltrackd import: %s (nothing was imported)\n", err.msg);
		return 1;
	}
	if (artifacts && *artifacts) {
		int64_t files, bytes, existing, skipped;
		if (isatty(STDERR_FILENO)) {
			fprintf(stderr, "\rcopying the artifact files...");
			fflush(stderr);
		}
		if (mt_copy_tree(artifacts, cfg->artifacts_destination, true, &files, &bytes, &existing, &skipped) != 0) {
			fprintf(stderr, "mltrackd import: copying the artifacts from %s failed\n", artifacts);
			return 1;
		}
		if (isatty(STDERR_FILENO))
			fprintf(stderr, "\r%-70s\r", "");
		printf("  %-30s %10lld imported (%lld bytes); %lld already here; %lld skipped (not regular files)\n",
		       "artifact files", (long long)files, (long long)bytes, (long long)existing, (long long)skipped);
	} else {
		printf("  %-30s skipped: no --artifacts given\n", "artifact files");
	}
	printf("done in %lld ms\n", (long long)(mt_now_ms() - t0));
	return 0;
}
