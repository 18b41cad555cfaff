/* SPDX-License-Identifier: Apache-2.0 */
/* store_backup.h: database copies through SQLite's online backup API (src/store/backup_store.c). */
#ifndef MLTRACKD_STORE_BACKUP_H
#define MLTRACKD_STORE_BACKUP_H

#include <stdint.h>

#include "mltrackd/error.h"

/* Copies the database at src (which may be in use by a running server: the copy is one read transaction, a
 * snapshot of the last commit) to a new file dst; fills the schema version and the copy's size in pages. */
enum mt_error store_backup_copy(const char *src, const char *dst, int *schema_version, int64_t *pages,
                                struct mt_err *err);
/* PRAGMA quick_check of the database file at path: MT_OK when it answers "ok". */
enum mt_error store_check_file(const char *path, struct mt_err *err);

#endif
