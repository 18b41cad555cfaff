/* SPDX-License-Identifier: Apache-2.0 */
/* search.h: MLflow's search grammars (filter strings and order_by clauses of search-runs and
 * search-experiments, logged models, registered models, model versions) parsed from untrusted text into a validated AST. No SQL: the store renders the AST
 * with every value bound. */
#ifndef MLTRACKD_SEARCH_H
#define MLTRACKD_SEARCH_H

#include <stdbool.h>
#include <stddef.h>

#include "mltrackd/arena.h"
#include "mltrackd/error.h"

enum search_kind {
	SEARCH_RUNS,
	SEARCH_EXPERIMENTS,
	SEARCH_LOGGED_MODELS,
	SEARCH_REGISTERED_MODELS, /* attribute name; tags. Order keys: name, last_updated_timestamp (alias timestamp) */
	SEARCH_MODEL_VERSIONS,    /* attributes name, run_id, source_path, version_number; tags. Order keys: name,
	                           * version_number, creation_timestamp, last_updated_timestamp */
};

enum search_ent { SE_METRIC, SE_PARAM, SE_TAG, SE_ATTR, SE_DATASET };

enum search_op {
	OP_EQ, OP_NE, OP_GT, OP_GE, OP_LT, OP_LE, OP_LIKE, OP_ILIKE, OP_IN, OP_NOT_IN, OP_IS_NULL, OP_IS_NOT_NULL,
};

struct search_cond {
	enum search_ent ent;
	const char *key;      /* canonical: attribute aliases resolved (created -> start_time, "Run name" -> run_name) */
	enum search_op op;
	bool numeric;         /* value is num (metrics, numeric attributes) */
	double num;
	const char *str;      /* string value */
	const char **list;    /* IN / NOT IN values */
	size_t n_list;
};

struct search_filter {
	struct search_cond *conds;
	size_t n;
};

struct search_order {
	enum search_ent ent;
	const char *key;
	bool asc;
};

#define SEARCH_MAX_FILTER_LEN (64 * 1024)
#define SEARCH_MAX_CONDITIONS 256
#define SEARCH_MAX_LIST 1000

/* Parses a filter (NULL or blank = no condition). Errors: INVALID_PARAMETER_VALUE with MLflow's messages. */
enum mt_error search_parse_filter(struct arena *a, enum search_kind kind, const char *filter, struct search_filter *out,
                                  struct mt_err *err);
/* Parses one order_by clause "<identifier> [ASC|DESC]". */
enum mt_error search_parse_order_by(struct arena *a, enum search_kind kind, const char *clause, struct search_order *out,
                                    struct mt_err *err);

const char *search_op_name(enum search_op op);

#endif
