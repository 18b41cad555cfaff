/* SPDX-License-Identifier: Apache-2.0 */
/* order_by.c: MLflow's order_by clauses ("<identifier> [ASC|DESC]") per search kind, lists of them with the
 * stores' duplicate check, and logged models' {field_name, ...} entries. Validation only: no SQL here. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "mltrackd/search.h"
#include "search_internal.h"

static bool in(const char *s, const char *const *set)
{
	for (; *set; set++)
		if (!strcmp(s, *set))
			return true;
	return false;
}

static enum mt_error unparsable(struct mt_err *err, const char *clause)
{
	return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "Invalid order_by clause '%.200s'. Could not be parsed.", clause);
}

/* The identifier with its quotes removed, as MLflow's shlex.split(token.replace("`", '"')) leaves it. */
static char *unquote(struct arena *a, const char *p, size_t n)
{
	char *out = arena_alloc(a, n + 1);
	size_t j = 0;
	char q = 0;
	for (size_t i = 0; i < n; i++) {
		char ch = p[i] == '`' ? '"' : p[i];
		if (q == 0 && (ch == '"' || ch == '\'')) {
			q = ch;
		} else if (q && ch == q) {
			q = 0;
		} else if (ch == '\\' && q != '\'' && i + 1 < n &&
		           (q == 0 || p[i + 1] == '"' || p[i + 1] == '\\' || p[i + 1] == '`')) {
			out[j++] = p[++i];
		} else {
			out[j++] = p[i];
		}
	}
	if (q)
		return NULL;
	out[j] = '\0';
	return out;
}

static enum mt_error empty_key(struct mt_err *err, const char *clause)
{
	return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "Invalid order_by clause '%.200s': the key is empty", clause);
}

static enum mt_error order_runs(const char *id, const char *clause, struct search_order *out, struct mt_err *err)
{
	static const char *const types[] = {"metric",    "metrics", "parameter", "parameters", "param",   "params",
	                                    "tag",       "tags",    "attribute", "attr",       "attributes", "run",
	                                    "dataset",   "datasets", NULL};
	static const char *const attrs[] = {"run_id", "run_name", "user_id", "status", "artifact_uri", "start_time",
	                                    "end_time", NULL};
	const char *dot = strchr(id, '.');
	const char *key = dot ? dot + 1 : id;
	out->ent = SEARCH_ENT_ATTRIBUTE;
	if (dot) {
		size_t tn = (size_t)(dot - id);
		char type[16];
		if (tn >= sizeof type)
			tn = sizeof type - 1; /* longer than any valid type: stays invalid */
		memcpy(type, id, tn);
		type[tn] = '\0';
		if ((size_t)(dot - id) >= sizeof type || !in(type, types))
			return mt_fail(err, MT_INVALID_PARAMETER_VALUE,
			               "Invalid entity type '%.*s'. Valid values are ['metric', 'parameter', 'tag', 'attribute', "
			               "'dataset']",
			               search_cap((size_t)(dot - id)), id);
		if (!strncmp(type, "metric", 6))
			out->ent = SEARCH_ENT_METRIC;
		else if (!strncmp(type, "param", 5))
			out->ent = SEARCH_ENT_PARAM;
		else if (!strncmp(type, "tag", 3))
			out->ent = SEARCH_ENT_TAG;
		else if (!strncmp(type, "dataset", 7))
			out->ent = SEARCH_ENT_DATASET;
	}
	if (out->ent == SEARCH_ENT_ATTRIBUTE) {
		if (!strcmp(key, "created") || !strcmp(key, "Created"))
			key = "start_time";
		if (!in(key, attrs))
			return mt_fail(err, MT_INVALID_PARAMETER_VALUE,
			               "Invalid attribute key '%.200s' specified. Valid keys are '{'run_id', 'run_name', 'user_id', "
			               "'status', 'artifact_uri', 'start_time', 'end_time', 'created', 'Created'}'",
			               key);
		out->numeric_key = !strcmp(key, "start_time") || !strcmp(key, "end_time");
	} else if (out->ent == SEARCH_ENT_DATASET) {
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "Invalid identifier type 'dataset'");
	}
	if (key[0] == '\0')
		return empty_key(err, clause);
	out->numeric_key = out->numeric_key || out->ent == SEARCH_ENT_METRIC;
	out->key = key;
	return MT_OK;
}

/* Experiments and model versions: SearchExperimentsUtils._get_identifier, then attributes only. */
static enum mt_error order_prefixed(enum search_kind kind, const char *id, const char *clause,
                                    struct search_order *out, struct mt_err *err)
{
	static const char *const exp_keys[] = {"name", "experiment_id", "creation_time", "last_update_time", NULL};
	static const char *const mv_keys[] = {"name", "version_number", "creation_timestamp", "last_updated_timestamp",
	                                      NULL};
	bool mv = kind == SEARCH_MODEL_VERSIONS;
	const char *keys_text = mv ? "{'name', 'version_number', 'creation_timestamp', 'last_updated_timestamp'}"
	                           : "{'name', 'experiment_id', 'creation_time', 'last_update_time'}";
	const char *dot = strchr(id, '.');
	const char *key = dot ? dot + 1 : id;
	bool tag = false;
	if (dot) {
		size_t tn = (size_t)(dot - id);
		bool attr = tn == 9 && !strncmp(id, "attribute", 9);
		tag = (tn == 3 && !strncmp(id, "tag", 3)) || (tn == 4 && !strncmp(id, "tags", 4));
		if (!attr && !tag)
			return mt_fail(err, MT_INVALID_PARAMETER_VALUE,
			               "Invalid entity type '%.*s'. Valid entity types are ('attribute', 'tag', 'tags')",
			               search_cap(tn), id);
	}
	if (!tag && !in(key, mv ? mv_keys : exp_keys))
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "Invalid attribute key '%.200s' specified. Valid keys are '%s'",
		               key, keys_text);
	if (tag) {
		if (mv)
			return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "Invalid order by key '%.200s' specified. Valid keys are %s",
			               key, keys_text);
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "Invalid order_by entity: tag");
	}
	(void)clause;
	out->ent = SEARCH_ENT_ATTRIBUTE;
	out->key = key;
	out->numeric_key = strcmp(key, "name") != 0 && strcmp(key, "experiment_id") != 0;
	return MT_OK;
}

/* The rules of MLflow's SQL store (the reference server runs on it), not its file store's: any column of the
 * logged_models table (or an alias), or metrics.<name>; a dataset digest may come without a name. */
enum mt_error search_logged_model_order_field(struct arena *a, const char *field_name, bool ascending,
                                              const char *dataset_name, const char *dataset_digest,
                                              struct search_order *out, struct mt_err *err)
{
	memset(out, 0, sizeof *out);
	out->asc = ascending;
	if (field_name == NULL)
		field_name = ""; /* proto default: refused below as an unknown column, as the reference does */
	if (strnlen(field_name, SEARCH_MAX_ORDER_LEN + 1) > SEARCH_MAX_ORDER_LEN)
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "Invalid order by field name: '%.100s...' is too long",
		               field_name);
	const char *dot = strchr(field_name, '.');
	if (dot) {
		if (dot - field_name != 7 || strncmp(field_name, "metrics", 7) != 0)
			return mt_fail(err, MT_INVALID_PARAMETER_VALUE,
			               "Invalid order by field name: %.200s. Only metrics are supported.", field_name);
		out->ent = SEARCH_ENT_METRIC;
		out->key = arena_strdup(a, dot + 1);
		out->numeric_key = true;
	} else {
		static const char *const aliases[][2] = {{"creation_time", "creation_timestamp_ms"},
		                                         {"creation_timestamp", "creation_timestamp_ms"},
		                                         {"last_updated_timestamp", "last_updated_timestamp_ms"}};
		static const char *const cols[] = {"model_id", "experiment_id", "name", "artifact_location",
		                                   "creation_timestamp_ms", "last_updated_timestamp_ms", "status",
		                                   "lifecycle_stage", "model_type", "source_run_id", "status_message", NULL};
		const char *name = field_name;
		for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
			if (!strcmp(name, aliases[i][0]))
				name = aliases[i][1];
		if (!in(name, cols))
			return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "Invalid order by field name: %.200s", field_name);
		out->ent = SEARCH_ENT_ATTRIBUTE;
		out->key = name;
		out->numeric_key = !strcmp(name, "creation_timestamp_ms") || !strcmp(name, "last_updated_timestamp_ms") ||
		                   !strcmp(name, "experiment_id") || !strcmp(name, "status");
	}
	out->dataset_name = dataset_name && dataset_name[0] ? arena_strdup(a, dataset_name) : NULL;
	out->dataset_digest = dataset_digest && dataset_digest[0] ? arena_strdup(a, dataset_digest) : NULL;
	return MT_OK;
}

enum mt_error search_parse_order_by(struct arena *a, enum search_kind kind, const char *clause, struct search_order *out,
                                    struct mt_err *err)
{
	memset(out, 0, sizeof *out);
	out->asc = true;
	if (clause == NULL)
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "Invalid order_by clause: none given");
	if (strnlen(clause, SEARCH_MAX_ORDER_LEN + 1) > SEARCH_MAX_ORDER_LEN)
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "Invalid order_by clause '%.100s...': longer than %d bytes",
		               clause, SEARCH_MAX_ORDER_LEN);
	struct search_lexer lx = {clause};
	struct search_tok t = search_lex(&lx);
	if (t.kind != STK_IDENT)
		return unparsable(err, clause);
	struct search_tok d = search_lex(&lx);
	if (d.kind != STK_END) {
		if (d.kind != STK_IDENT || !d.word || search_lex(&lx).kind != STK_END)
			return unparsable(err, clause);
		if (search_tok_is(&d, "DESC"))
			out->asc = false;
		else if (!search_tok_is(&d, "ASC"))
			return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "Invalid ordering key in order_by clause '%.200s'.", clause);
	}
	char *id = unquote(a, t.p, t.n);
	if (id == NULL)
		return unparsable(err, clause);
	bool asc = out->asc;
	switch (kind) {
	case SEARCH_RUNS: return order_runs(id, clause, out, err);
	case SEARCH_EXPERIMENTS:
	case SEARCH_MODEL_VERSIONS: return order_prefixed(kind, id, clause, out, err);
	case SEARCH_REGISTERED_MODELS:
		if (!strcmp(id, "timestamp") || !strcmp(id, "last_updated_timestamp")) {
			out->key = "last_updated_timestamp";
			out->numeric_key = true;
		} else if (!strcmp(id, "name")) {
			out->key = "name";
		} else {
			return mt_fail(err, MT_INVALID_PARAMETER_VALUE,
			               "Invalid order by key '%.200s' specified. Valid keys are '{'timestamp', 'name'}'", id);
		}
		out->ent = SEARCH_ENT_ATTRIBUTE;
		return MT_OK;
	case SEARCH_LOGGED_MODELS: return search_logged_model_order_field(a, id, asc, NULL, NULL, out, err);
	}
	return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "Unknown search kind");
}

enum mt_error search_parse_order_by_list(struct arena *a, enum search_kind kind, const char *const *clauses, size_t n,
                                         struct search_order **out, struct mt_err *err)
{
	*out = NULL;
	if (n == 0)
		return MT_OK;
	if (n > SEARCH_MAX_ORDER_CLAUSES)
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "order_by holds at most %d clauses", SEARCH_MAX_ORDER_CLAUSES);
	struct search_order *o = arena_calloc(a, n * sizeof *o);
	bool dup_check = kind == SEARCH_RUNS || kind == SEARCH_REGISTERED_MODELS || kind == SEARCH_MODEL_VERSIONS;
	for (size_t i = 0; i < n; i++) {
		if (search_parse_order_by(a, kind, clauses[i], &o[i], err) != MT_OK)
			return err->code;
		for (size_t j = 0; dup_check && j < i; j++) {
			if (o[j].ent != o[i].ent || strcmp(o[j].key, o[i].key) != 0)
				continue;
			/* MLflow prints the whole list (a Python list repr); we print its first clauses */
			char list[400];
			size_t used = 0;
			for (size_t k = 0; k < n && used + 8 < sizeof list; k++) {
				int w = snprintf(list + used, sizeof list - used, "%s'%.100s'", k ? ", " : "", clauses[k]);
				if (w < 0)
					break;
				used += (size_t)w < sizeof list - used ? (size_t)w : sizeof list - used - 1;
			}
			return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "`order_by` contains duplicate fields: [%s]", list);
		}
	}
	*out = o;
	return MT_OK;
}
