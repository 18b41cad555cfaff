/* SPDX-License-Identifier: Apache-2.0 */
/* filter.c: tokenizer and parser for MLflow's search filters and order_by clauses (AND-joined
 * comparisons, quoted keys and values, IN lists, IS [NOT] NULL), validated per entity type as
 * mlflow/utils/search_utils.py does. Builds an AST in the arena; never emits SQL. */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mltrackd/buf.h"
#include "mltrackd/search.h"
#include "mltrackd/util.h"

enum tok_kind { T_END, T_IDENT, T_STRING, T_NUMBER, T_OP, T_LPAREN, T_RPAREN, T_COMMA, T_BAD };

struct tok {
	enum tok_kind kind;
	const char *text; /* arena copy: identifier (quotes removed per segment), string content, number, op */
	bool dquoted;     /* a double-quoted token (a string value, or a quoted identifier) */
};

struct lexer {
	struct arena *a;
	const char *p;
};

static bool word(char c) { return isalnum((unsigned char)c) || c == '_' || (unsigned char)c >= 0x80; }

/* A quoted run ('...', "..." or `...`), a doubled quote inside standing for itself; NULL if unterminated. */
static char *quoted(struct lexer *lx, char q)
{
	const char *s = lx->p + 1;
	size_t cap = strlen(s) + 1, j = 0;
	char *out = arena_alloc(lx->a, cap);
	for (;;) {
		if (*s == '\0')
			return NULL;
		if (*s == q) {
			if (s[1] == q) {
				out[j++] = q;
				s += 2;
				continue;
			}
			break;
		}
		if (*s == '\\' && s[1] == q) {
			out[j++] = q;
			s += 2;
			continue;
		}
		out[j++] = *s++;
	}
	out[j] = '\0';
	lx->p = s + 1;
	return out;
}

static struct tok next(struct lexer *lx)
{
	struct tok t = {T_END, "", false};
	while (*lx->p && isspace((unsigned char)*lx->p))
		lx->p++;
	const char *s = lx->p;
	if (*s == '\0')
		return t;
	if (*s == '(' || *s == ')' || *s == ',') {
		t.kind = *s == '(' ? T_LPAREN : *s == ')' ? T_RPAREN : T_COMMA;
		t.text = arena_strndup(lx->a, s, 1);
		lx->p++;
		return t;
	}
	if (*s == '\'' || *s == '"') {
		char *q = quoted(lx, *s);
		if (!q) {
			t.kind = T_BAD;
			t.text = arena_strdup(lx->a, s);
			return t;
		}
		t.dquoted = *s == '"';
		/* "x" followed by ".key" is a quoted identifier segment, as sqlparse sees it */
		t.kind = T_STRING;
		t.text = q;
		return t;
	}
	static const char *const ops[] = {"!=", "<>", ">=", "<=", "=", ">", "<"};
	for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
		size_t n = strlen(ops[i]);
		if (strncmp(s, ops[i], n) == 0) {
			t.kind = T_OP;
			t.text = strcmp(ops[i], "<>") == 0 ? "!=" : ops[i];
			lx->p += n;
			return t;
		}
	}
	if (isdigit((unsigned char)*s) || ((*s == '-' || *s == '+' || *s == '.') && (isdigit((unsigned char)s[1]) || (s[1] == '.' && isdigit((unsigned char)s[2]))))) {
		char *end;
		strtod(s, &end);
		if (end > s && !word(*end)) {
			t.kind = T_NUMBER;
			t.text = arena_strndup(lx->a, s, (size_t)(end - s));
			lx->p = end;
			return t;
		}
	}
	if (word(*s) || *s == '`') {
		/* identifier: segments of word characters, dots, and `quoted` or "quoted" parts after a dot */
		struct buf b;
		buf_init(&b, SEARCH_MAX_FILTER_LEN);
		while (*lx->p) {
			char c = *lx->p;
			if (word(c) || c == '.') {
				buf_putc(&b, c);
				lx->p++;
			} else if (c == '`' || (c == '"' && b.len > 0 && b.data[b.len - 1] == '.')) {
				char *q = quoted(lx, c);
				if (!q) {
					buf_free(&b);
					t.kind = T_BAD;
					t.text = arena_strdup(lx->a, s);
					return t;
				}
				buf_putc(&b, '\x01'); /* \x01 .. \x02 mark a quoted segment (dots inside are literal) */
				buf_puts(&b, q);
				buf_putc(&b, '\x02');
			} else {
				break;
			}
		}
		t.kind = T_IDENT;
		t.text = arena_strndup(lx->a, b.data ? b.data : "", b.len);
		buf_free(&b);
		return t;
	}
	t.kind = T_BAD;
	t.text = arena_strndup(lx->a, s, strnlen(s, 40));
	return t;
}

/* ---- identifiers ---- */

struct ident {
	enum search_ent ent;
	const char *key;
	bool numeric_attr;
};

static const char *const RUN_STRING_ATTRS[] = {"run_id", "run_name", "user_id", "status", "artifact_uri"};
static const char *const RUN_NUMERIC_ATTRS[] = {"start_time", "end_time"};

static bool in(const char *s, const char *const *set, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(s, set[i]) == 0)
			return true;
	return false;
}

static enum mt_error bad_entity(struct mt_err *err, const char *type)
{
	return mt_fail(err, MT_INVALID_PARAMETER_VALUE,
	               "Invalid entity type '%.100s'. Valid values are ['metric', 'parameter', 'tag', 'attribute', 'dataset']",
	               type);
}

/* A copy without the quoted-segment markers. */
static char *unmark(struct arena *a, const char *s, size_t n)
{
	char *out = arena_alloc(a, n + 1);
	size_t j = 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] != '\x01' && s[i] != '\x02')
			out[j++] = s[i];
	out[j] = '\0';
	return out;
}

/* mlflow/utils/search_utils.py SearchModelUtils / SearchModelVersionUtils: filters take only the prefixes
 * attribute, tag and tags; order_by keys are attributes whatever their prefix (the reference ignores it). */
static enum mt_error registry_ident(struct arena *a, enum search_kind kind, const char *text, const char *type,
                                    char *key, bool for_order, struct ident *id, struct mt_err *err)
{
	bool rm = kind == SEARCH_REGISTERED_MODELS;
	id->numeric_attr = false;
	if (for_order) {
		id->ent = SE_ATTR;
		if (rm) {
			/* the SQL store maps both timestamp keys to last_updated_time and refuses creation_timestamp */
			if (type == NULL && !strcmp(key, "timestamp"))
				key = "last_updated_timestamp";
			if (type != NULL || (strcmp(key, "name") && strcmp(key, "last_updated_timestamp")))
				return mt_fail(err, MT_INVALID_PARAMETER_VALUE,
				               "Invalid order by key '%.200s' specified. Valid keys are '{'timestamp', 'name'}'",
				               unmark(a, text, strlen(text)));
		} else {
			static const char *const keys[] = {"name", "version_number", "creation_timestamp", "last_updated_timestamp"};
			if (!in(key, keys, 4))
				return mt_fail(err, MT_INVALID_PARAMETER_VALUE,
				               "Invalid attribute key '%.200s' specified. Valid keys are '{'last_updated_timestamp', "
				               "'name', 'creation_timestamp', 'version_number'}'",
				               key);
			id->numeric_attr = strcmp(key, "name") != 0;
		}
		id->key = key;
		return MT_OK;
	}
	if (type && strcmp(type, "attribute") && strcmp(type, "tag") && strcmp(type, "tags"))
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE,
		               "Invalid entity type '%.100s'. Valid entity types are ('attribute', 'tag', 'tags')", type);
	id->ent = (type && strcmp(type, "attribute")) ? SE_TAG : SE_ATTR;
	if (id->ent == SE_ATTR) {
		static const char *const keys[] = {"name", "run_id", "source_path", "version_number"};
		if (rm ? strcmp(key, "name") != 0 : !in(key, keys, 4))
			return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "Invalid attribute key '%.200s' specified. Valid keys are '%s'",
			               key, rm ? "{'name'}" : "{'run_id', 'source_path', 'name', 'version_number'}");
		id->numeric_attr = !strcmp(key, "version_number");
	} else if (key[0] == '\0') {
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "Invalid identifier '%.200s': the key is empty", text);
	}
	id->key = key;
	return MT_OK;
}

static enum mt_error parse_ident(struct arena *a, enum search_kind kind, const char *text, bool for_order,
                                 struct ident *id, struct mt_err *err)
{
	/* split at the first '.' outside a quoted segment */
	const char *dot = NULL;
	bool quoted_seg = false;
	for (const char *p = text; *p; p++) {
		if (*p == '\x01' || *p == '\x02')
			quoted_seg = *p == '\x01';
		else if (*p == '.' && !quoted_seg) {
			dot = p;
			break;
		}
	}
	char *type = dot ? unmark(a, text, (size_t)(dot - text)) : NULL;
	char *key = unmark(a, dot ? dot + 1 : text, strlen(dot ? dot + 1 : text));
	/* an empty key ("tags." or "``") names nothing, in every grammar (found by fuzz_search_filter) */
	if (key[0] == '\0')
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "Invalid identifier '%.200s': the key is empty", text);
	id->numeric_attr = false;
	if (kind == SEARCH_REGISTERED_MODELS || kind == SEARCH_MODEL_VERSIONS)
		return registry_ident(a, kind, text, type, key, for_order, id, err);
	if (type == NULL) {
		id->ent = SE_ATTR;
	} else if (!strcmp(type, "metric") || !strcmp(type, "metrics")) {
		id->ent = SE_METRIC;
	} else if (!strcmp(type, "param") || !strcmp(type, "params") || !strcmp(type, "parameter") ||
	           !strcmp(type, "parameters")) {
		id->ent = SE_PARAM;
	} else if (!strcmp(type, "tag") || !strcmp(type, "tags")) {
		id->ent = SE_TAG;
	} else if (!strcmp(type, "attribute") || !strcmp(type, "attributes") || !strcmp(type, "attr") ||
	           !strcmp(type, "run")) {
		id->ent = SE_ATTR;
	} else if (!strcmp(type, "dataset") || !strcmp(type, "datasets")) {
		id->ent = SE_DATASET;
	} else {
		return bad_entity(err, type);
	}
	if (kind == SEARCH_LOGGED_MODELS) {
		/* mlflow/utils/search_logged_model_utils.py: prefixes are exactly attributes/metrics/params/tags */
		if (type && strcmp(type, "attributes") && strcmp(type, "metrics") && strcmp(type, "params") && strcmp(type, "tags"))
			return mt_fail(err, MT_INVALID_PARAMETER_VALUE,
			               "Invalid entity type: '%.100s'. Expected one of ['attributes', 'metrics', 'params', 'tags'].",
			               type);
		if (id->ent == SE_ATTR) {
			if (!strcmp(key, "creation_time") || !strcmp(key, "creation_timestamp"))
				key = "creation_timestamp_ms";
			else if (!strcmp(key, "last_updated_timestamp"))
				key = "last_updated_timestamp_ms";
			static const char *const keys[] = {"name", "model_id", "model_type", "status", "source_run_id",
			                                   "experiment_id", "creation_timestamp_ms", "last_updated_timestamp_ms"};
			if (!in(key, keys, 8))
				return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "Invalid attribute key '%.200s' for logged models", key);
			id->numeric_attr = !strcmp(key, "creation_timestamp_ms") || !strcmp(key, "last_updated_timestamp_ms");
		}
		if (key[0] == '\0')
			return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "Invalid identifier '%.200s': the key is empty", text);
		id->key = key;
		return MT_OK;
	}
	if (kind == SEARCH_EXPERIMENTS) {
		if (id->ent == SE_ATTR) {
			static const char *const keys[] = {"name", "experiment_id", "creation_time", "last_update_time"};
			if (!in(key, keys, 4))
				return mt_fail(err, MT_INVALID_PARAMETER_VALUE,
				               "Invalid attribute key '%.200s' specified. Valid keys are "
				               "'{'name', 'experiment_id', 'creation_time', 'last_update_time'}'",
				               key);
			id->numeric_attr = !strcmp(key, "creation_time") || !strcmp(key, "last_update_time");
		} else if (id->ent != SE_TAG || for_order) {
			if (!(id->ent == SE_TAG && !for_order))
				return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "Invalid identifier '%.200s' for experiments", text);
		}
		id->key = key;
		return MT_OK;
	}
	if (id->ent == SE_ATTR) {
		if (!strcmp(key, "created") || !strcmp(key, "Created"))
			key = "start_time";
		else if (!strcmp(key, "run name") || !strcmp(key, "Run name") || !strcmp(key, "Run Name"))
			key = "run_name";
		if (in(key, RUN_NUMERIC_ATTRS, 2))
			id->numeric_attr = true;
		else if (!in(key, RUN_STRING_ATTRS, 5))
			return mt_fail(err, MT_INVALID_PARAMETER_VALUE,
			               "Invalid attribute key '%.200s' specified. Valid keys are '{'run_name', 'created', 'run_id', "
			               "'user_id', 'end_time', 'run name', 'Run Name', 'Run name', 'status', 'artifact_uri', "
			               "'start_time', 'Created'}'",
			               key);
	} else if (id->ent == SE_DATASET) {
		static const char *const keys[] = {"name", "digest", "context"};
		if (for_order || !in(key, keys, 3))
			return mt_fail(err, MT_INVALID_PARAMETER_VALUE,
			               "Invalid dataset key '%.200s' specified. Valid keys are '{'name', 'digest', 'context'}'", key);
	}
	if (key[0] == '\0')
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "Invalid identifier '%.200s': the key is empty", text);
	id->key = key;
	return MT_OK;
}

const char *search_op_name(enum search_op op)
{
	static const char *const names[] = {"=", "!=", ">", ">=", "<", "<=", "LIKE", "ILIKE", "IN", "NOT IN", "IS NULL",
	                                    "IS NOT NULL"};
	return names[op];
}

static bool op_allowed(enum search_kind kind, const struct ident *id, enum search_op op)
{
	bool string_ops = op == OP_EQ || op == OP_NE || op == OP_LIKE || op == OP_ILIKE;
	bool numeric_ops = op <= OP_LE;
	if (kind == SEARCH_REGISTERED_MODELS || kind == SEARCH_MODEL_VERSIONS) {
		if (id->ent == SE_TAG)
			return string_ops;
		if (id->numeric_attr)
			return numeric_ops;
		return string_ops || op == OP_IN || op == OP_NOT_IN;
	}
	switch (id->ent) {
	case SE_METRIC: return numeric_ops;
	case SE_PARAM:
	case SE_TAG:
		if (kind == SEARCH_LOGGED_MODELS)
			return string_ops || op == OP_IN || op == OP_NOT_IN;
		return string_ops || op == OP_IS_NULL || op == OP_IS_NOT_NULL;
	case SE_DATASET: return string_ops || op == OP_IN || op == OP_NOT_IN;
	case SE_ATTR:
		if (id->numeric_attr)
			return numeric_ops;
		if (kind == SEARCH_EXPERIMENTS)
			return string_ops;
		return string_ops || op == OP_IN || op == OP_NOT_IN;
	}
	return false;
}

static const char *valid_ops_text(enum search_kind kind, const struct ident *id)
{
	if ((kind == SEARCH_REGISTERED_MODELS || kind == SEARCH_MODEL_VERSIONS) && !id->numeric_attr)
		return id->ent == SE_TAG ? "{'!=', '=', 'LIKE', 'ILIKE'}" : "{'!=', '=', 'LIKE', 'ILIKE', 'IN', 'NOT IN'}";
	switch (id->ent) {
	case SE_METRIC: return "{'>', '>=', '!=', '=', '<', '<='}";
	case SE_PARAM:
	case SE_TAG: return "{'!=', '=', 'LIKE', 'ILIKE', 'IS NULL', 'IS NOT NULL'}";
	case SE_DATASET: return "{'!=', '=', 'LIKE', 'ILIKE', 'IN', 'NOT IN'}";
	case SE_ATTR:
		if (id->numeric_attr)
			return "{'>', '>=', '!=', '=', '<', '<='}";
		return kind == SEARCH_EXPERIMENTS ? "{'!=', '=', 'LIKE', 'ILIKE'}" : "{'!=', '=', 'LIKE', 'ILIKE', 'IN', 'NOT IN'}";
	}
	return "{}";
}

static const char *ent_name(enum search_ent e)
{
	static const char *const n[] = {"metric", "parameter", "tag", "attribute", "dataset"};
	return n[e];
}

static bool kw(const struct tok *t, const char *w) { return t->kind == T_IDENT && strcasecmp(t->text, w) == 0; }

enum mt_error search_parse_filter(struct arena *a, enum search_kind kind, const char *filter, struct search_filter *out,
                                  struct mt_err *err)
{
	out->conds = NULL;
	out->n = 0;
	if (filter == NULL)
		return MT_OK;
	if (strlen(filter) > SEARCH_MAX_FILTER_LEN)
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "The filter string is longer than %d characters",
		               SEARCH_MAX_FILTER_LEN);
	struct lexer lx = {a, filter};
	struct tok t = next(&lx);
	if (t.kind == T_END)
		return MT_OK;
	size_t cap = 8;
	out->conds = arena_alloc(a, cap * sizeof *out->conds);
	for (;;) {
		if (out->n == SEARCH_MAX_CONDITIONS)
			return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "Too many conditions in the filter (at most %d)",
			               SEARCH_MAX_CONDITIONS);
		if (t.kind == T_STRING && t.dquoted) {
			/* a double-quoted bare identifier, e.g. "run name" = 'x' */
			t.kind = T_IDENT;
			t.text = arena_printf(a, "\x01%s\x02", t.text);
		}
		if (t.kind != T_IDENT || kw(&t, "and"))
			return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "Invalid clause(s) in filter string: '%.200s'", t.text);
		struct ident id;
		const char *ident_text = t.text;
		if (parse_ident(a, kind, ident_text, false, &id, err) != MT_OK)
			return err->code;
		struct search_cond c;
		memset(&c, 0, sizeof c);
		c.ent = id.ent;
		c.key = id.key;
		t = next(&lx);
		if (t.kind == T_OP) {
			c.op = !strcmp(t.text, "=") ? OP_EQ : !strcmp(t.text, "!=") ? OP_NE : !strcmp(t.text, ">") ? OP_GT
			     : !strcmp(t.text, ">=") ? OP_GE : !strcmp(t.text, "<") ? OP_LT : OP_LE;
		} else if (kw(&t, "like")) {
			c.op = OP_LIKE;
		} else if (kw(&t, "ilike")) {
			c.op = OP_ILIKE;
		} else if (kw(&t, "in")) {
			c.op = OP_IN;
		} else if (kw(&t, "not")) {
			t = next(&lx);
			if (!kw(&t, "in"))
				return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "Invalid clause(s) in filter string: 'NOT %.200s'", t.text);
			c.op = OP_NOT_IN;
		} else if (kw(&t, "is")) {
			t = next(&lx);
			c.op = OP_IS_NULL;
			if (kw(&t, "not")) {
				c.op = OP_IS_NOT_NULL;
				t = next(&lx);
			}
			if (!kw(&t, "null"))
				return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "Invalid clause(s) in filter string: 'IS %.200s'", t.text);
		} else {
			return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "Invalid clause(s) in filter string: '%.200s'", ident_text);
		}
		if (!op_allowed(kind, &id, c.op))
			return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "Invalid comparator '%s' not one of '%s'", search_op_name(c.op),
			               valid_ops_text(kind, &id));
		if (c.op != OP_IS_NULL && c.op != OP_IS_NOT_NULL) {
			t = next(&lx);
			bool numeric = id.ent == SE_METRIC || (id.ent == SE_ATTR && id.numeric_attr);
			if (c.op == OP_IN || c.op == OP_NOT_IN) {
				if (id.ent == SE_ATTR && kind == SEARCH_RUNS && strcmp(id.key, "run_id") != 0)
					return mt_fail(err, MT_INVALID_PARAMETER_VALUE,
					               "Only ['run_id'] attributes support comparison with a list of quoted string values.");
				if (kind == SEARCH_REGISTERED_MODELS && strcmp(id.key, "name") != 0)
					return mt_fail(err, MT_INVALID_PARAMETER_VALUE,
					               "Only ['name'] attributes support comparison with a list of quoted string values.");
				if (kind == SEARCH_MODEL_VERSIONS && strcmp(id.key, "name") != 0 && strcmp(id.key, "run_id") != 0)
					return mt_fail(err, MT_INVALID_PARAMETER_VALUE,
					               "Only ['name', 'run_id'] attributes support comparison with a list of quoted string "
					               "values.");
				if (t.kind != T_LPAREN)
					return mt_fail(err, MT_INVALID_PARAMETER_VALUE,
					               "While parsing a list in the query, expected a non-empty list of string values, but got %.200s",
					               t.text);
				size_t lcap = 8;
				c.list = arena_alloc(a, lcap * sizeof *c.list);
				for (;;) {
					t = next(&lx);
					if (t.kind != T_STRING)
						return mt_fail(err, MT_INVALID_PARAMETER_VALUE,
						               "While parsing a list in the query, expected string value, punctuation, or "
						               "whitespace, but got different type in list: %.200s",
						               t.text);
					if (c.n_list == SEARCH_MAX_LIST)
						return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "IN lists hold at most %d values", SEARCH_MAX_LIST);
					if (c.n_list == lcap) {
						const char **nl = arena_alloc(a, 2 * lcap * sizeof *nl);
						memcpy(nl, c.list, lcap * sizeof *nl);
						c.list = nl;
						lcap *= 2;
					}
					c.list[c.n_list++] = t.text;
					t = next(&lx);
					if (t.kind == T_RPAREN)
						break;
					if (t.kind != T_COMMA)
						return mt_fail(err, MT_INVALID_PARAMETER_VALUE,
						               "While parsing a list in the query, expected a comma or a closing parenthesis");
				}
			} else if (numeric) {
				/* model versions: version_number takes an integer, quoted or not (the store calls int()) */
				if (kind == SEARCH_MODEL_VERSIONS) {
					int64_t v;
					if ((t.kind != T_NUMBER && t.kind != T_STRING) || !mt_parse_i64(t.text, &v))
						return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "Invalid value for numeric attribute '%.100s': %.200s",
						               id.key, t.kind == T_STRING ? arena_printf(a, "'%s'", t.text) : t.text);
					t.kind = T_NUMBER;
				}
				if (t.kind != T_NUMBER || !mt_parse_double(t.text, &c.num) || !isfinite(c.num)) {
					if (id.ent == SE_METRIC)
						return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "Expected numeric value type for metric. Found %.200s",
						               t.kind == T_STRING ? arena_printf(a, "'%s'", t.text) : t.text);
					return mt_fail(err, MT_INVALID_PARAMETER_VALUE,
					               "Expected numeric value type for numeric attribute: %.100s. Found %.200s", id.key, t.text);
				}
				c.numeric = true;
			} else {
				if (t.kind != T_STRING)
					return mt_fail(err, MT_INVALID_PARAMETER_VALUE,
					               "Expected a quoted string value for %s (e.g. 'my-value'). Got value %.200s",
					               id.ent == SE_ATTR ? "attributes" : ent_name(id.ent), t.text);
				c.str = t.text;
			}
		}
		if (out->n == cap) {
			struct search_cond *nc = arena_alloc(a, 2 * cap * sizeof *nc);
			memcpy(nc, out->conds, cap * sizeof *nc);
			out->conds = nc;
			cap *= 2;
		}
		out->conds[out->n++] = c;
		t = next(&lx);
		if (t.kind == T_END)
			return MT_OK;
		if (!kw(&t, "and"))
			return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "Invalid clause(s) in filter string: '%.200s'", t.text);
		t = next(&lx);
	}
}

enum mt_error search_parse_order_by(struct arena *a, enum search_kind kind, const char *clause, struct search_order *out,
                                    struct mt_err *err)
{
	if (clause == NULL || strlen(clause) > 4096)
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "Invalid order_by clause");
	struct lexer lx = {a, clause};
	struct tok t = next(&lx);
	if (t.kind == T_STRING && t.dquoted) {
		t.kind = T_IDENT;
		t.text = arena_printf(a, "\x01%s\x02", t.text);
	}
	if (t.kind != T_IDENT)
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "Invalid order_by clause '%.200s'. Could not be parsed.", clause);
	struct ident id;
	if (parse_ident(a, kind, t.text, true, &id, err) != MT_OK)
		return err->code;
	out->ent = id.ent;
	out->key = id.key;
	out->asc = true;
	t = next(&lx);
	if (kw(&t, "desc")) {
		out->asc = false;
		t = next(&lx);
	} else if (kw(&t, "asc")) {
		t = next(&lx);
	}
	if (t.kind != T_END)
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE,
		               "Invalid ordering key in order_by clause '%.200s'. Valid values are ['ASC', 'DESC']", clause);
	return MT_OK;
}
