/* SPDX-License-Identifier: Apache-2.0 */
/* backup_store.c: SQLite's online backup API for `mltrackd backup`, and a file check for `restore`. Reads the
 * source in one read transaction (one consistent snapshot); never writes to the source. */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "mltrackd/store_backup.h"

static enum mt_error sqlite_fail(sqlite3 *db, struct mt_err *err, const char *what)
{
	return mt_fail(err, MT_INTERNAL_ERROR, "%s: %s", what, db ? sqlite3_errmsg(db) : "out of memory");
}

enum mt_error store_backup_copy(const char *src, const char *dst, int *schema_version, int64_t *pages,
                                struct mt_err *err)
{
	sqlite3 *from = NULL, *to = NULL;
	enum mt_error rc = MT_OK;
	if (sqlite3_open_v2(src, &from, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		rc = sqlite_fail(from, err, "cannot open the database");
		goto out;
	}
	sqlite3_busy_timeout(from, 10000);
	if (sqlite3_open_v2(dst, &to, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK) {
		rc = sqlite_fail(to, err, "cannot create the copy");
		goto out;
	}
	sqlite3_backup *b = sqlite3_backup_init(to, "main", from, "main");
	if (!b) {
		rc = sqlite_fail(to, err, "cannot start the copy");
		goto out;
	}
	/* -1: every page in one step, so in one read transaction of the source: a snapshot of its last commit,
	 * whatever the running server writes meanwhile (WAL readers do not block its writer) */
	int r = sqlite3_backup_step(b, -1);
	*pages = sqlite3_backup_pagecount(b);
	sqlite3_backup_finish(b);
	if (r != SQLITE_DONE) {
		rc = mt_fail(err, MT_INTERNAL_ERROR, "copy failed: %s", sqlite3_errstr(r));
		goto out;
	}
	sqlite3_stmt *st = NULL;
	*schema_version = 0;
	if (sqlite3_prepare_v2(to, "SELECT max(version) FROM schema_migrations", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		*schema_version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
out:
	sqlite3_close(to);
	sqlite3_close(from);
	return rc;
}

enum mt_error store_check_file(const char *path, struct mt_err *err)
{
	sqlite3 *db = NULL;
	enum mt_error rc = MT_OK;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		rc = sqlite_fail(db, err, "cannot open the backup's database");
		goto out;
	}
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, "PRAGMA quick_check", -1, &st, NULL) != SQLITE_OK) {
		rc = sqlite_fail(db, err, "cannot check the backup's database");
		goto out;
	}
	int r = sqlite3_step(st);
	const char *res = r == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
	if (!res || strcmp(res, "ok") != 0)
		rc = mt_fail(err, MT_INTERNAL_ERROR, "the backup's database fails its check: %.200s", res ? res : "no answer");
	sqlite3_finalize(st);
out:
	sqlite3_close(db);
	return rc;
}
