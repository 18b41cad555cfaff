/* SPDX-License-Identifier: Apache-2.0 */
/* migrate.c: applies the embedded migrations/NNNN_*.sql in order, each in its own transaction, and
 * refuses a database whose schema is newer than this binary knows. */
#include <stdio.h>

#include "mltrackd/util.h"
#include "store_internal.h"

static const char SQL_CREATE_VERSIONS[] =
	"CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
	" applied_at INTEGER NOT NULL)";
static const char SQL_MAX_VERSION[] = "SELECT COALESCE(MAX(version), 0) FROM schema_migrations";
static const char SQL_APPLIED[] = "SELECT 1 FROM schema_migrations WHERE version = ?1";
static const char SQL_RECORD[] = "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)";

enum mt_error store_migrate(struct store_conn *c, int *version, struct mt_err *err)
{
	if (db_exec(c, SQL_CREATE_VERSIONS, err) != MT_OK)
		return err->code;
	sqlite3_stmt *st = db_stmt(c, SQL_MAX_VERSION, err);
	if (!st)
		return err->code;
	int current = 0;
	if (sqlite3_step(st) == SQLITE_ROW)
		current = sqlite3_column_int(st, 0);
	sqlite3_reset(st);
	int known = mt_migrations_count ? mt_migrations[mt_migrations_count - 1].version : 0;
	if (current > known)
		return mt_fail(err, MT_INTERNAL_ERROR,
		               "the database schema is version %d but this mltrackd knows only up to %d: "
		               "upgrade mltrackd before opening this database",
		               current, known);
	for (size_t i = 0; i < mt_migrations_count; i++) {
		const struct mt_migration *m = &mt_migrations[i];
		/* Applied by number, not by "above the maximum": migration numbers are reserved by branches that
		 * merge in any order (0002_registry landed after 0003 and 0004), and a database created between
		 * those merges must still receive the lower-numbered one. */
		st = db_stmt(c, SQL_APPLIED, err);
		if (!st)
			return err->code;
		sqlite3_bind_int(st, 1, m->version);
		bool applied = false;
		if (db_step_exists(c, st, &applied, err) != MT_OK)
			return err->code;
		if (applied)
			continue;
		if (db_exec(c, "BEGIN IMMEDIATE", err) != MT_OK)
			return err->code;
		if (db_exec(c, m->sql, err) != MT_OK) {
			db_exec(c, "ROLLBACK", NULL);
			return mt_fail(err, MT_INTERNAL_ERROR, "migration %04d_%s failed", m->version, m->name);
		}
		st = db_stmt(c, SQL_RECORD, err);
		if (!st) {
			db_exec(c, "ROLLBACK", NULL);
			return err->code;
		}
		sqlite3_bind_int(st, 1, m->version);
		sqlite3_bind_text(st, 2, m->name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, mt_now_ms());
		if (db_exec_stmt(c, st, err) != MT_OK || db_exec(c, "COMMIT", err) != MT_OK) {
			db_exec(c, "ROLLBACK", NULL);
			return err->code;
		}
		mt_log(MT_LOG_INFO, "applied migration %04d_%s", m->version, m->name);
		if (m->version > current)
			current = m->version;
	}
	*version = current;
	return MT_OK;
}
