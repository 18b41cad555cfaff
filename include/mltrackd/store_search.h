/* SPDX-License-Identifier: Apache-2.0 */
/* store_search.h: search of runs and experiments from a parsed filter and order-by AST, with offset
 * pagination. The store renders the AST to SQL with placeholders only. */
#ifndef MLTRACKD_STORE_SEARCH_H
#define MLTRACKD_STORE_SEARCH_H

#include "mltrackd/arena.h"
#include "mltrackd/entities.h"
#include "mltrackd/search.h"
#include "mltrackd/store.h"

enum view_type { VIEW_ACTIVE_ONLY = 1, VIEW_DELETED_ONLY = 2, VIEW_ALL = 3 };

struct search_query {
	const struct search_filter *filter;
	const struct search_order *order;
	size_t n_order;
	enum view_type view;
	int64_t offset;
	int64_t limit;      /* rows to return; one more is probed to know whether a next page exists */
	const int64_t *experiment_ids; /* runs: the experiments searched */
	size_t n_experiments;
	/* experiments: the caller's readable set, applied inside the query so pages stay full and correct */
	enum { ACL_ALL, ACL_ONLY, ACL_EXCEPT } acl_mode;
	const int64_t *acl_ids;
	size_t n_acl;
};

/* Runs matching q, loaded in full, in order. *more = a next page exists. */
enum mt_error store_search_runs(struct store *s, struct arena *a, const struct search_query *q, struct mt_run **out,
                                size_t *n, bool *more, struct mt_err *err);
enum mt_error store_search_experiments(struct store *s, struct arena *a, const struct search_query *q,
                                       struct mt_experiment **out, size_t *n, bool *more, struct mt_err *err);

#endif
