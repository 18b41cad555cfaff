/* SPDX-License-Identifier: Apache-2.0 */
/* store_import.h: bringing an MLflow SQLite database into ours (src/store/import_store.c). */
#ifndef MLTRACKD_STORE_IMPORT_H
#define MLTRACKD_STORE_IMPORT_H

#include <stdint.h>

#include "mltrackd/error.h"

struct store_import_step {
	const char *what;
	int64_t source_rows; /* rows of the MLflow table it reads; -1 when the table is not there */
	int64_t imported;    /* rows added (0 on a second import) */
	const char *note;    /* why the step did nothing, or NULL */
	int started;         /* 1: called before the step runs (for progress), 0: its result */
};
typedef void (*store_import_progress_fn)(void *ctx, const struct store_import_step *step);

/* Copies everything of mlflow_db that ours can hold into the database at db_path (migrated, its server stopped),
 * in one transaction, keeping ids; rows already present, or conflicting with ours, are skipped. artifacts_dir (an
 * absolute, resolved path, or NULL): file: locations and plain paths under it become mlflow-artifacts:/<rest>. */
enum mt_error store_import_mlflow(const char *db_path, const char *mlflow_db, const char *artifacts_dir,
                                  store_import_progress_fn progress, void *ctx, struct mt_err *err);

#endif
