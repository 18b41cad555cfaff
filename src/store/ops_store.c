/* SPDX-License-Identifier: Apache-2.0 */
/* ops_store.c: read-only figures about the database for operations (the /metrics gauges).
 * Reads only, on the calling thread's reader connection; never writes, never scans a large table. */
#include "mltrackd/store.h"
#include "mltrackd/store_ops.h"
#include "store_internal.h"

/* events.id is the INTEGER PRIMARY KEY: MAX() is one b-tree seek. */
static const char SQL_OUTBOX_LAST_ID[] = "SELECT COALESCE(MAX(id), 0) FROM events";

enum mt_error store_outbox_last_event_id(struct store *s, int64_t *out, struct mt_err *err)
{
	struct store_conn *c = store_reader(s);
	sqlite3_stmt *st = db_stmt(c, SQL_OUTBOX_LAST_ID, err);
	if (!st)
		return err->code;
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		enum mt_error e = db_fail(c, err, rc);
		sqlite3_reset(st);
		return e;
	}
	*out = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return MT_OK;
}
