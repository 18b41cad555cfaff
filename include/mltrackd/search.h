/* SPDX-License-Identifier: Apache-2.0 */
/* search.h: MLflow's search grammars (filter strings, order_by clauses, page tokens) parsed from untrusted
 * text into a validated AST, per kind as mlflow/utils/search_utils.py 3.17.2 and the stores validate them.
 * No SQL here: the store renders the AST with every value bound. */
#ifndef MLTRACKD_SEARCH_H
#define MLTRACKD_SEARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mltrackd/arena.h"
#include "mltrackd/error.h"

enum search_kind {
	SEARCH_RUNS,              /* metric(s)./param(s)./parameter(s)./tag(s)./attribute(s)./attr./run./dataset(s). */
	SEARCH_EXPERIMENTS,       /* attributes name, experiment_id, creation_time, last_update_time; tag(s). */
	SEARCH_LOGGED_MODELS,     /* attributes./metrics./params./tags. (search_logged_model_utils.py) */
	SEARCH_REGISTERED_MODELS, /* attribute name; tag(s). Order keys: name, timestamp = last_updated_timestamp */
	SEARCH_MODEL_VERSIONS,    /* attributes name, run_id, source_path, version_number; tag(s). Order keys: name,
	                           * version_number, creation_timestamp, last_updated_timestamp */
};

enum search_ent { SEARCH_ENT_METRIC, SEARCH_ENT_PARAM, SEARCH_ENT_TAG, SEARCH_ENT_ATTRIBUTE, SEARCH_ENT_DATASET };

/* The order is relied upon by renderers: EQ..LE are the plain comparisons, EQ and NE first. */
enum search_op {
	SEARCH_OP_EQ,
	SEARCH_OP_NE,
	SEARCH_OP_GT,
	SEARCH_OP_GE,
	SEARCH_OP_LT,
	SEARCH_OP_LE,
	SEARCH_OP_LIKE,
	SEARCH_OP_ILIKE,
	SEARCH_OP_IN,
	SEARCH_OP_NOT_IN,
	SEARCH_OP_IS_NULL,
	SEARCH_OP_IS_NOT_NULL,
};

struct search_cond {
	enum search_ent ent;
	/* canonical: attribute aliases resolved ("created" -> start_time, "Run name" -> run_name, logged models'
	 * creation_time -> creation_timestamp_ms); quotes around the key removed, nothing unescaped inside */
	const char *key;
	enum search_op op;
	bool numeric_key; /* the column is numeric (metric, or a numeric attribute such as start_time) */
	/* Exactly one value shape, by op: IS [NOT] NULL none; IN / NOT IN list; otherwise num (numeric) or str. */
	bool numeric;     /* value is a number: num, and i64 when is_int */
	double num;
	int64_t i64;
	bool is_int;          /* the literal was an integer that fits int64 */
	const char *num_text; /* the number as written (or the quoted text MLflow converts, version_number = '5') */
	/* A string value is the text between its quotes exactly as MLflow keeps it: 'it''s' is it''s. */
	const char *str;
	const char **list; /* IN / NOT IN: n_list >= 1 strings (Python literal escapes applied, as MLflow's
	                    * ast.literal_eval does) */
	size_t n_list;
};

struct search_filter {
	struct search_cond *conds;
	size_t n;
};

struct search_order {
	enum search_ent ent; /* ATTRIBUTE for registry and experiment keys */
	const char *key;     /* canonical, as in struct search_cond */
	bool asc;
	bool numeric_key;
	const char *dataset_name;   /* logged models' metric order only, else NULL */
	const char *dataset_digest; /* idem; only with dataset_name */
};

#define SEARCH_MAX_FILTER_LEN (64 * 1024) /* bytes of a filter string */
#define SEARCH_MAX_CONDITIONS 256         /* comparisons in one filter */
#define SEARCH_MAX_LIST 1000              /* values in one IN list */
#define SEARCH_MAX_KEY_LEN 1024           /* bytes of one key */
#define SEARCH_MAX_ORDER_LEN 4096         /* bytes of one order_by clause */
#define SEARCH_MAX_ORDER_CLAUSES 100      /* clauses in one order_by list */
#define SEARCH_PAGE_TOKEN_MAX 64          /* bytes of a page token we accept */

/* Parses a filter. NULL or "" = no condition. A whitespace-only filter is refused, as MLflow does.
 * Errors: INVALID_PARAMETER_VALUE with MLflow's messages (the offending token named, length-capped). */
enum mt_error search_parse_filter(struct arena *a, enum search_kind kind, const char *filter, struct search_filter *out,
                                  struct mt_err *err);

/* Parses one order_by clause "<identifier> [ASC|DESC]" (case-insensitive direction; quoted keys allowed).
 * For SEARCH_LOGGED_MODELS the identifier is a field name as search_logged_model_order_field takes. */
enum mt_error search_parse_order_by(struct arena *a, enum search_kind kind, const char *clause, struct search_order *out,
                                    struct mt_err *err);

/* Parses n clauses into *out (arena array; NULL when n == 0). A field named twice is refused for runs,
 * registered models and model versions, as the reference stores do (they answer 500; we answer 400). */
enum mt_error search_parse_order_by_list(struct arena *a, enum search_kind kind, const char *const *clauses, size_t n,
                                         struct search_order **out, struct mt_err *err);

/* Logged models' order_by entry {field_name, ascending, dataset_name, dataset_digest}: field_name is
 * "metrics.<name>" or an attribute (name, model_id, model_type, status, source_run_id, creation_time,
 * creation_timestamp, last_updated_timestamp); dataset_digest needs dataset_name. Strings are copied. */
enum mt_error search_logged_model_order_field(struct arena *a, const char *field_name, bool ascending,
                                              const char *dataset_name, const char *dataset_digest,
                                              struct search_order *out, struct mt_err *err);

/* "=", "!=", ">", ..., "NOT IN", "IS NOT NULL". */
const char *search_op_name(enum search_op op);
/* "metric", "parameter", "tag", "attribute", "dataset" (MLflow's entity names). */
const char *search_ent_name(enum search_ent ent);

/* Opaque page token for an offset >= 0: base64url of a versioned record with a check value. */
const char *search_page_token_encode(struct arena *a, int64_t offset);
/* NULL or "" = offset 0. Anything that search_page_token_encode did not produce (garbage, tampering, a
 * negative offset, an overlong token) is INVALID_PARAMETER_VALUE "Invalid page token ...". */
enum mt_error search_page_token_decode(const char *tok, int64_t *offset, struct mt_err *err);

#endif
