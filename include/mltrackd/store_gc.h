/* SPDX-License-Identifier: Apache-2.0 */
/* store_gc.h: permanent removal of runs and experiments in the deleted state (mltrackd gc). */
#ifndef MLTRACKD_STORE_GC_H
#define MLTRACKD_STORE_GC_H

#include "mltrackd/arena.h"
#include "mltrackd/store.h"

struct gc_victim {
	int64_t experiment_id;
	const char *run_id;       /* NULL for a whole experiment */
	const char *artifact_uri; /* run artifact URI or experiment artifact location */
};

/* Deletes (rows and dependents, in one transaction) the runs deleted at or before cutoff_ms and the
 * experiments deleted at or before it with all their runs; lists what went, for artifact removal. */
enum mt_error store_gc(struct store *s, struct arena *a, int64_t cutoff_ms, struct gc_victim **out, size_t *n,
                       struct mt_err *err);

#endif
