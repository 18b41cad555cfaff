/* SPDX-License-Identifier: Apache-2.0 */
/* filter.c: tokenizer and parser of MLflow's search filters (comparisons joined by AND, quoted keys and values,
 * IN lists, IS [NOT] NULL), validated per kind as MLflow 3.17.2's search utils and stores do. Builds an AST in
 * the arena; it must never produce SQL nor unescape a value MLflow keeps raw. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mltrackd/search.h"
#include "search_internal.h"

/* ---- tokenizer (sqlparse's lexing of the subset MLflow accepts) ---- */

static bool wordc(char c) { return isalnum((unsigned char)c) || c == '_' || (unsigned char)c >= 0x80; }

int search_cap(size_t n) { return n > 200 ? 200 : (int)n; }

/* End of a quoted run starting at s (s[0] is the quote), or NULL if unterminated. A doubled quote (and for
 * ' and ", a backslash-quote) does not end it; when the text ends inside, the run closes at the last such
 * quote instead, as sqlparse's backtracking regex does ('a\' is the string a\). */
static const char *quoted_end(const char *s, bool backslash)
{
	char q = s[0];
	const char *p = s + 1, *last = NULL;
	for (;;) {
		if (*p == '\0')
			return last ? last + 1 : NULL;
		if (*p == q) {
			if (p[1] != q)
				return p + 1;
			last = p;
			p += 2;
		} else if (backslash && *p == '\\' && p[1] == q) {
			last = p + 1;
			p += 2;
		} else {
			p++;
		}
	}
}

/* A number per sqlparse: -?\d+(\.\d+)?E-?\d+, -?(\d+\.\d*|\.\d+), -?\d+; a letter or '_' right after one
 * makes the text something else (MLflow then reports "Found 1and"). Returns the end or NULL. */
static const char *number_end(const char *s, bool *is_int)
{
	const char *p = s + (*s == '-');
	const char *d = p;
	while (isdigit((unsigned char)*p))
		p++;
	bool int_part = p > d;
	*is_int = true;
	if (*p == '.') {
		const char *f = p + 1;
		while (isdigit((unsigned char)*f))
			f++;
		if (!int_part && f == p + 1)
			return NULL;
		p = f;
		*is_int = false;
	} else if (!int_part) {
		return NULL;
	}
	if ((*p == 'e' || *p == 'E') && int_part && isdigit((unsigned char)p[-1])) {
		const char *e = p + 1 + (p[1] == '-');
		const char *ed = e;
		while (isdigit((unsigned char)*e))
			e++;
		if (e > ed) {
			p = e;
			*is_int = false;
		}
	}
	if (wordc(*p))
		return NULL;
	return p;
}

struct search_tok search_lex(struct search_lexer *lx)
{
	struct search_tok t = {STK_END, lx->p, 0, false, false, false};
	while (*lx->p && isspace((unsigned char)*lx->p))
		lx->p++;
	const char *s = lx->p;
	t.p = s;
	if (*s == '\0')
		return t;
	switch (*s) {
	case '(': t.kind = STK_LPAREN; t.n = 1; lx->p++; return t;
	case ')': t.kind = STK_RPAREN; t.n = 1; lx->p++; return t;
	case ',': t.kind = STK_COMMA; t.n = 1; lx->p++; return t;
	case ';': t.kind = STK_SEMI; t.n = 1; lx->p++; return t;
	default: break;
	}
	static const char *const ops[] = {"==", "!=", "<>", "<=", ">=", "=", "<", ">"};
	for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
		size_t n = strlen(ops[i]);
		if (strncmp(s, ops[i], n) == 0) {
			t.kind = STK_OP;
			t.n = n;
			lx->p += n;
			return t;
		}
	}
	if (*s == '\'') {
		const char *e = quoted_end(s, true);
		if (!e) {
			t.kind = STK_BAD;
			t.n = strlen(s);
			lx->p += t.n;
			return t;
		}
		t.kind = STK_STRING;
		t.n = (size_t)(e - s);
		lx->p = e;
		return t;
	}
	if (isdigit((unsigned char)*s) || ((*s == '-' || *s == '.') && (isdigit((unsigned char)s[1]) ||
	                                                                 (s[1] == '.' && isdigit((unsigned char)s[2]))))) {
		const char *e = number_end(s, &t.is_int);
		if (e) {
			t.kind = STK_NUMBER;
			t.n = (size_t)(e - s);
			lx->p = e;
			return t;
		}
		if (!isdigit((unsigned char)*s)) {
			t.kind = STK_BAD;
			t.n = 1;
			lx->p++;
			return t;
		}
		/* digits running into letters: a word such as 1and (an identifier part to sqlparse) */
	}
	if (wordc(*s) || *s == '`' || *s == '"') {
		const char *p = s;
		size_t parts = 0;
		bool first = true;
		t.word = t.dq = false;
		for (;;) {
			const char *ps = p;
			if (wordc(*p)) {
				while (wordc(*p))
					p++;
			} else if (*p == '`' || *p == '"' || (*p == '\'' && !first)) {
				const char *e = quoted_end(p, *p != '`');
				if (!e) {
					t.kind = STK_BAD;
					t.n = strlen(s);
					lx->p = s + t.n;
					return t;
				}
				p = e;
			} else {
				break; /* a trailing dot: "tags." */
			}
			parts++;
			if (parts == 1) {
				t.word = wordc(*ps);
				t.dq = *ps == '"';
			}
			first = false;
			if (*p != '.')
				break;
			p++;
			t.word = t.dq = false;
		}
		if (parts != 1) {
			t.word = t.dq = false;
		}
		t.kind = STK_IDENT;
		t.n = (size_t)(p - s);
		lx->p = p;
		return t;
	}
	t.kind = STK_BAD;
	t.n = strnlen(s, 40);
	lx->p++;
	return t;
}

bool search_tok_is(const struct search_tok *t, const char *w)
{
	return t->kind == STK_IDENT && t->word && strlen(w) == t->n && strncasecmp(t->p, w, t->n) == 0;
}

/* ---- spans and MLflow's quote helpers ---- */

struct span {
	const char *p;
	size_t n;
};

static bool span_eq(struct span s, const char *w) { return strlen(w) == s.n && memcmp(s.p, w, s.n) == 0; }

static bool span_in(struct span s, const char *const *set)
{
	for (; *set; set++)
		if (span_eq(s, *set))
			return true;
	return false;
}

/* _trim_backticks: `x` -> x */
static struct span trim_bt(struct span s)
{
	if (s.n >= 2 && s.p[0] == '`' && s.p[s.n - 1] == '`')
		return (struct span){s.p + 1, s.n - 2};
	return s;
}

/* _strip_quotes: 'x' or "x" -> x (one pair, nothing unescaped) */
static bool is_quoted(struct span s)
{
	return s.n >= 2 && (s.p[0] == '\'' || s.p[0] == '"') && s.p[s.n - 1] == s.p[0];
}

static struct span strip_q(struct span s)
{
	return is_quoted(s) ? (struct span){s.p + 1, s.n - 2} : s;
}

/* ---- parser state ---- */

struct ctx {
	struct arena *a;
	enum search_kind kind;
	const char *filter;
	struct mt_err *err;
};

enum vkind { V_STRING, V_IDENT, V_NUMBER, V_LIST };

struct val {
	enum vkind kind;
	struct span raw;  /* as written; a list with its parentheses */
	bool dq, is_int;
};

static enum mt_error fail(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static enum mt_error fail(struct ctx *c, const char *fmt, ...)
{
	char msg[MT_ERR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return mt_fail(c->err, MT_INVALID_PARAMETER_VALUE, "%s", msg);
}

static enum mt_error bad_clause(struct ctx *c, struct span s)
{
	if (c->kind == SEARCH_LOGGED_MODELS) {
		/* the filter as Python's repr() quotes it: in double quotes when it holds a ' and no " */
		char q = strchr(c->filter, '\'') && !strchr(c->filter, '"') ? '"' : '\'';
		return fail(c,
		            "Invalid filter string: %c%.200s%c. Expected a list of comparisons separated by 'AND' (e.g. "
		            "'metrics.loss > 0.1 AND params.lr = 0.01').",
		            q, c->filter, q);
	}
	if (s.n == 0)
		return fail(c, "Invalid clause(s) in filter string: the filter ends in the middle of a comparison");
	return fail(c, "Invalid clause(s) in filter string: '%.*s'", search_cap(s.n), s.p);
}

static char *dup(struct ctx *c, struct span s) { return arena_strndup(c->a, s.p, s.n); }

const char *search_op_name(enum search_op op)
{
	static const char *const names[] = {"=", "!=", ">", ">=", "<", "<=", "LIKE", "ILIKE", "IN", "NOT IN", "IS NULL",
	                                    "IS NOT NULL"};
	return (unsigned)op < sizeof names / sizeof names[0] ? names[op] : "?";
}

const char *search_ent_name(enum search_ent e)
{
	static const char *const n[] = {"metric", "parameter", "tag", "attribute", "dataset"};
	return (unsigned)e < sizeof n / sizeof n[0] ? n[e] : "?";
}

/* The comparator as written, upper-cased (MLflow compares comparator.upper()); *op set when it is one. */
static bool op_of(const char *text, enum search_op *op)
{
	static const char *const names[] = {"=", "!=", ">", ">=", "<", "<=", "LIKE", "ILIKE", "IN", "NOT IN", "IS NULL",
	                                    "IS NOT NULL"};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (!strcmp(text, names[i])) {
			*op = (enum search_op)i;
			return true;
		}
	return false;
}

static bool op_in(const char *cmp, const char *const *set) { return span_in((struct span){cmp, strlen(cmp)}, set); }

static const char *const METRIC_OPS[] = {">", ">=", "!=", "=", "<", "<=", NULL};
static const char *const STRING_OPS[] = {"!=", "=", "LIKE", "ILIKE", NULL};
static const char *const STRING_LIST_OPS[] = {"!=", "=", "LIKE", "ILIKE", "IN", "NOT IN", NULL};
static const char *const NULLABLE_OPS[] = {"!=", "=", "LIKE", "ILIKE", "IS NULL", "IS NOT NULL", NULL};
#define METRIC_OPS_TEXT "{'>', '>=', '!=', '=', '<', '<='}"
#define STRING_LIST_OPS_TEXT "{'!=', '=', 'LIKE', 'ILIKE', 'IN', 'NOT IN'}"
#define NULLABLE_OPS_TEXT "{'!=', '=', 'LIKE', 'ILIKE', 'IS NULL', 'IS NOT NULL'}"

/* ---- values ---- */

/* Python's int() of a string: optional blanks, sign, digits ('_' between digits), blanks. */
static bool py_int(struct span s, int64_t *out)
{
	size_t i = 0, j = s.n;
	while (i < j && isspace((unsigned char)s.p[i]))
		i++;
	while (j > i && isspace((unsigned char)s.p[j - 1]))
		j--;
	bool neg = false;
	if (i < j && (s.p[i] == '+' || s.p[i] == '-'))
		neg = s.p[i++] == '-';
	if (i == j || !isdigit((unsigned char)s.p[i]) || !isdigit((unsigned char)s.p[j - 1]))
		return false;
	uint64_t v = 0;
	for (; i < j; i++) {
		if (s.p[i] == '_' && isdigit((unsigned char)s.p[i + 1]) && isdigit((unsigned char)s.p[i - 1]))
			continue;
		if (!isdigit((unsigned char)s.p[i]))
			return false;
		unsigned d = (unsigned)(s.p[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	if (v > (uint64_t)INT64_MAX + (neg ? 1u : 0u))
		return false;
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return true;
}

/* A numeric token into the condition (num, and i64 when it is an integer that fits). */
static bool set_number(struct ctx *c, struct search_cond *cd, struct span s, bool is_int)
{
	char *text = dup(c, s);
	errno = 0;
	char *end;
	double v = strtod(text, &end);
	if (end == text || *end != '\0' || !isfinite(v))
		return false;
	cd->numeric = true;
	cd->num = v;
	cd->num_text = text;
	cd->is_int = false;
	if (is_int) {
		errno = 0;
		long long i = strtoll(text, &end, 10);
		if (errno == 0 && *end == '\0') {
			cd->i64 = (int64_t)i;
			cd->is_int = true;
		}
	}
	return true;
}

static void put(char *b, size_t *bn, char ch)
{
	if (b)
		b[*bn] = ch;
	(*bn)++;
}

/* One Python string literal at *pp (ast.literal_eval's rules for '...' and "..."), appended to b; with b NULL
 * only its decoded length is added to *bn. */
static bool py_string(const char **pp, const char *end, char *b, size_t *bn)
{
	const char *p = *pp;
	char q = *p++;
	if (p + 1 < end && p[0] == q && p[1] == q)
		return false; /* triple quotes: not supported */
	for (;;) {
		if (p >= end || *p == '\n' || *p == '\r')
			return false;
		char ch = *p++;
		if (ch == q)
			break;
		if (ch != '\\') {
			put(b, bn, ch);
			continue;
		}
		if (p >= end)
			return false;
		char e = *p++;
		switch (e) {
		case '\\': put(b, bn, '\\'); break;
		case '\'': put(b, bn, '\''); break;
		case '"': put(b, bn, '"'); break;
		case 'n': put(b, bn, '\n'); break;
		case 't': put(b, bn, '\t'); break;
		case 'r': put(b, bn, '\r'); break;
		case 'a': put(b, bn, '\a'); break;
		case 'b': put(b, bn, '\b'); break;
		case 'f': put(b, bn, '\f'); break;
		case 'v': put(b, bn, '\v'); break;
		case '\n': break;
		default:
			if (isdigit((unsigned char)e) || e == 'x' || e == 'u' || e == 'U' || e == 'N')
				return false; /* numeric and named escapes: refused rather than half-supported */
			put(b, bn, '\\'); /* Python keeps an unknown escape as written */
			put(b, bn, e);
		}
	}
	*pp = p;
	return true;
}

/* MLflow's _parse_list_from_sql_token: ast.literal_eval of "(...)" must give one string or a tuple of them. */
static enum mt_error parse_list(struct ctx *c, struct span raw, struct search_cond *cd)
{
	static const char ill[] =
		"While parsing a list in the query, expected a non-empty list of string values, but got ill-formed list.";
	const char *p = raw.p + 1, *end = raw.p + raw.n - 1;
	size_t cap = 8;
	cd->list = arena_alloc(c->a, cap * sizeof *cd->list);
	cd->n_list = 0;
	for (;;) {
		while (p < end && isspace((unsigned char)*p))
			p++;
		if (p == end)
			break;
		if (*p != '\'' && *p != '"') {
			bool other = isdigit((unsigned char)*p) || *p == '-' || *p == '+' || *p == '.' ||
			             !strncmp(p, "True", 4) || !strncmp(p, "False", 5) || !strncmp(p, "None", 4);
			if (other)
				return fail(c,
				            "While parsing a list in the query, expected string value, punctuation, or whitespace, "
				            "but got different type in list: %.*s",
				            search_cap(raw.n), raw.p);
			return fail(c, "%s", ill);
		}
		/* adjacent literals concatenate ('a' 'b' is 'ab'); a first pass measures them, so each value takes no
		 * more memory than its own source text */
		const char *q = p;
		size_t bn = 0;
		while (q < end && (*q == '\'' || *q == '"')) {
			if (!py_string(&q, end, NULL, &bn))
				return fail(c, "%s", ill);
			while (q < end && isspace((unsigned char)*q))
				q++;
		}
		char *b = arena_alloc(c->a, bn + 1);
		bn = 0;
		while (p < q && (*p == '\'' || *p == '"')) {
			(void)py_string(&p, end, b, &bn);
			while (p < q && isspace((unsigned char)*p))
				p++;
		}
		b[bn] = '\0';
		if (cd->n_list == SEARCH_MAX_LIST)
			return fail(c, "While parsing a list in the query, got more than %d values", SEARCH_MAX_LIST);
		cd->list = arena_grow(c->a, cd->list, cd->n_list, &cap, sizeof *cd->list);
		cd->list[cd->n_list++] = b;
		if (p == end)
			break;
		if (*p != ',')
			return fail(c, "%s", ill);
		p++;
	}
	if (cd->n_list == 0)
		return fail(c, "While parsing a list in the query, expected a non-empty list of string values, but got "
		               "empty list");
	return MT_OK;
}

/* _strip_quotes(value, expect_quoted_value=True) of a string or identifier token. */
static enum mt_error quoted_value(struct ctx *c, const struct val *v, struct search_cond *cd)
{
	if (!is_quoted(v->raw))
		return fail(c,
		            "Parameter value is either not quoted or unidentified quote types used for string value %.*s. "
		            "Use either single or double quotes.",
		            search_cap(v->raw.n), v->raw.p);
	cd->str = dup(c, strip_q(v->raw));
	return MT_OK;
}

static bool stringish(const struct val *v) { return v->kind == V_STRING || v->kind == V_IDENT; }

/* ---- identifiers ---- */

static const char *const RUN_ENTITY_TYPES[] = {"metric",    "metrics",    "parameter", "parameters", "param",
                                               "params",    "tag",        "tags",      "attribute",  "attr",
                                               "attributes", "run",       "dataset",   "datasets",   NULL};

static enum search_ent run_entity(struct span t)
{
	if (span_eq(t, "metric") || span_eq(t, "metrics"))
		return SEARCH_ENT_METRIC;
	if (span_eq(t, "tag") || span_eq(t, "tags"))
		return SEARCH_ENT_TAG;
	if (span_eq(t, "dataset") || span_eq(t, "datasets"))
		return SEARCH_ENT_DATASET;
	if (span_eq(t, "attribute") || span_eq(t, "attr") || span_eq(t, "attributes") || span_eq(t, "run"))
		return SEARCH_ENT_ATTRIBUTE;
	return SEARCH_ENT_PARAM;
}

/* Python's identifier.split(".", 1) */
static bool split_dot(struct span s, struct span *type, struct span *key)
{
	const char *d = memchr(s.p, '.', s.n);
	if (!d)
		return false;
	*type = (struct span){s.p, (size_t)(d - s.p)};
	*key = (struct span){d + 1, s.n - (size_t)(d - s.p) - 1};
	return true;
}

#define RUN_ATTR_KEYS_TEXT                                                                                         \
	"{'run_id', 'run_name', 'user_id', 'status', 'artifact_uri', 'start_time', 'end_time', 'created', 'Created', " \
	"'run name', 'Run name', 'Run Name'}"
struct ident {
	enum search_ent ent;
	const char *key;
	bool numeric; /* numeric column */
};

static enum mt_error empty_key(struct ctx *c, struct span raw)
{
	return fail(c, "Invalid identifier '%.*s': the key is empty", search_cap(raw.n), raw.p);
}

static enum mt_error ident_runs(struct ctx *c, struct span raw, struct ident *id)
{
	struct span type, key;
	id->ent = SEARCH_ENT_ATTRIBUTE;
	if (split_dot(raw, &type, &key)) {
		type = trim_bt(type);
		if (!span_in(type, RUN_ENTITY_TYPES))
			return fail(c,
			            "Invalid entity type '%.*s'. Valid values are ['metric', 'parameter', 'tag', 'attribute', "
			            "'dataset']",
			            search_cap(type.n), type.p);
		id->ent = run_entity(type);
	} else {
		key = raw;
	}
	key = trim_bt(strip_q(key));
	id->numeric = id->ent == SEARCH_ENT_METRIC;
	if (id->ent == SEARCH_ENT_ATTRIBUTE) {
		static const char *const str_keys[] = {"run_id", "run_name", "user_id", "status", "artifact_uri", NULL};
		static const char *const name_alias[] = {"run name", "Run name", "Run Name", NULL};
		static const char *const time_alias[] = {"created", "Created", NULL};
		if (span_in(key, name_alias)) {
			id->key = "run_name";
		} else if (span_in(key, time_alias)) {
			id->key = "start_time";
			id->numeric = true;
		} else if (span_eq(key, "start_time") || span_eq(key, "end_time")) {
			id->key = dup(c, key);
			id->numeric = true;
		} else if (span_in(key, str_keys)) {
			id->key = dup(c, key);
		} else {
			return fail(c, "Invalid attribute key '%.*s' specified. Valid keys are '" RUN_ATTR_KEYS_TEXT "'",
			            search_cap(key.n), key.p);
		}
		return MT_OK;
	}
	if (id->ent == SEARCH_ENT_DATASET) {
		static const char *const ds_keys[] = {"name", "digest", "context", NULL};
		if (!span_in(key, ds_keys))
			return fail(c, "Invalid dataset key '%.*s' specified. Valid keys are '{'name', 'digest', 'context'}'",
			            search_cap(key.n), key.p);
	}
	if (key.n == 0)
		return empty_key(c, raw);
	id->key = dup(c, key);
	return MT_OK;
}

/* Experiments and the registry: prefixes exactly attribute, tag, tags (no backticks trimmed). */
static enum mt_error ident_prefixed(struct ctx *c, struct span raw, const char *const *keys, const char *keys_text,
                                    bool check_raw, struct ident *id)
{
	struct span type, key;
	id->ent = SEARCH_ENT_ATTRIBUTE;
	if (split_dot(raw, &type, &key)) {
		static const char *const types[] = {"attribute", "tag", "tags", NULL};
		if (!span_in(type, types))
			return fail(c, "Invalid entity type '%.*s'. Valid entity types are ('attribute', 'tag', 'tags')",
			            search_cap(type.n), type.p);
		if (!span_eq(type, "attribute"))
			id->ent = SEARCH_ENT_TAG;
	} else {
		key = raw;
	}
	/* the registry checks the attribute key before removing its quotes, experiments after */
	if (id->ent == SEARCH_ENT_ATTRIBUTE && check_raw && !span_in(key, keys))
		return fail(c, "Invalid attribute key '%.*s' specified. Valid keys are '%s'", search_cap(key.n), key.p,
		            keys_text);
	key = trim_bt(strip_q(key));
	if (id->ent == SEARCH_ENT_ATTRIBUTE && !span_in(key, keys))
		return fail(c, "Invalid attribute key '%.*s' specified. Valid keys are '%s'", search_cap(key.n), key.p,
		            keys_text);
	if (key.n == 0)
		return empty_key(c, raw);
	id->key = dup(c, key);
	id->numeric = false;
	return MT_OK;
}

/* Logged models: ^([a-z]+)\.(.+)$ names an entity; otherwise an attribute, aliases resolved. */
static const char *const LM_ATTRS[] = {"name",          "model_id",           "model_type",
                                       "status",        "source_run_id",      "experiment_id",
                                       "creation_timestamp_ms", "last_updated_timestamp_ms", NULL};

static const char *lm_alias(struct span k)
{
	if (span_eq(k, "creation_time") || span_eq(k, "creation_timestamp"))
		return "creation_timestamp_ms";
	if (span_eq(k, "last_updated_timestamp"))
		return "last_updated_timestamp_ms";
	return NULL;
}

static struct span strip_all_bt(struct span s)
{
	while (s.n && s.p[0] == '`') {
		s.p++;
		s.n--;
	}
	while (s.n && s.p[s.n - 1] == '`')
		s.n--;
	return s;
}

static enum mt_error ident_logged(struct ctx *c, struct span raw, struct ident *id)
{
	size_t i = 0;
	while (i < raw.n && raw.p[i] >= 'a' && raw.p[i] <= 'z')
		i++;
	struct span key;
	if (i > 0 && i + 1 < raw.n && raw.p[i] == '.') {
		struct span type = {raw.p, i};
		key = strip_all_bt((struct span){raw.p + i + 1, raw.n - i - 1});
		if (span_eq(type, "metrics"))
			id->ent = SEARCH_ENT_METRIC;
		else if (span_eq(type, "params"))
			id->ent = SEARCH_ENT_PARAM;
		else if (span_eq(type, "tags"))
			id->ent = SEARCH_ENT_TAG;
		else if (span_eq(type, "attributes"))
			id->ent = SEARCH_ENT_ATTRIBUTE;
		else
			return fail(c, "Invalid entity type: '%.*s'. Expected one of ['attributes', 'metrics', 'params', 'tags'].",
			            search_cap(type.n), type.p);
	} else {
		id->ent = SEARCH_ENT_ATTRIBUTE;
		key = strip_all_bt(raw);
	}
	id->numeric = id->ent == SEARCH_ENT_METRIC;
	if (id->ent == SEARCH_ENT_ATTRIBUTE) {
		const char *al = lm_alias(key);
		if (!al && !span_in(key, LM_ATTRS))
			return fail(c, "Invalid attribute key '%.*s' for logged models", search_cap(key.n), key.p);
		id->key = al ? al : dup(c, key);
		id->numeric = !strcmp(id->key, "creation_timestamp_ms") || !strcmp(id->key, "last_updated_timestamp_ms");
		return MT_OK;
	}
	if (key.n == 0)
		return empty_key(c, raw);
	id->key = dup(c, key);
	return MT_OK;
}

/* ---- per-kind validation: identifier, value, comparator, in MLflow's order ---- */

static enum mt_error check_runs(struct ctx *c, struct span lhs, const char *cmp, const struct val *v,
                                struct search_cond *cd)
{
	struct ident id = {0};
	if (ident_runs(c, lhs, &id) != MT_OK)
		return c->err->code;
	cd->ent = id.ent;
	cd->key = id.key;
	cd->numeric_key = id.numeric;
	const char *tname = search_ent_name(id.ent);
	if (!v) {
		if (id.ent != SEARCH_ENT_TAG && id.ent != SEARCH_ENT_PARAM)
			return fail(c, "IS NULL / IS NOT NULL is only supported for tags and params, not for '%s' '%s'", tname,
			            id.key);
		return MT_OK;
	}
	/* SearchUtils._get_value */
	switch (id.ent) {
	case SEARCH_ENT_METRIC:
		if (v->kind != V_NUMBER || !set_number(c, cd, v->raw, v->is_int))
			return fail(c, "Expected numeric value type for metric. Found %.*s", search_cap(v->raw.n), v->raw.p);
		break;
	case SEARCH_ENT_PARAM:
	case SEARCH_ENT_TAG:
		if (!stringish(v))
			return fail(c, "Expected a quoted string value for %s (e.g. 'my-value'). Got value %.*s", tname,
			            search_cap(v->raw.n), v->raw.p);
		if (quoted_value(c, v, cd) != MT_OK)
			return c->err->code;
		break;
	case SEARCH_ENT_ATTRIBUTE:
		if (id.numeric) {
			if (v->kind != V_NUMBER || !set_number(c, cd, v->raw, v->is_int))
				return fail(c, "Expected numeric value type for numeric attribute: %s. Found %.*s", id.key,
				            search_cap(v->raw.n), v->raw.p);
			if (v->is_int && !cd->is_int)
				return fail(c, "Invalid value for numeric attribute '%s': %.*s", id.key, search_cap(v->raw.n),
				            v->raw.p);
		} else if (stringish(v)) {
			if (quoted_value(c, v, cd) != MT_OK)
				return c->err->code;
		} else if (v->kind == V_LIST) {
			if (strcmp(id.key, "run_id") != 0)
				return fail(c, "Only ['run_id'] attributes support comparison with a list of quoted string values.");
			if (parse_list(c, v->raw, cd) != MT_OK)
				return c->err->code;
		} else {
			return fail(c, "Expected a quoted string value for attributes. Got value %.*s", search_cap(v->raw.n),
			            v->raw.p);
		}
		break;
	case SEARCH_ENT_DATASET:
		if (stringish(v)) {
			if (quoted_value(c, v, cd) != MT_OK)
				return c->err->code;
		} else if (v->kind == V_LIST) {
			if (parse_list(c, v->raw, cd) != MT_OK)
				return c->err->code;
		} else {
			return fail(c, "Expected a quoted string value for dataset attributes. Got value %.*s",
			            search_cap(v->raw.n), v->raw.p);
		}
		break;
	}
	/* the store's is_metric / is_param / ... checks (their messages, unbalanced quotes included) */
	switch (id.ent) {
	case SEARCH_ENT_METRIC:
		if (!op_in(cmp, METRIC_OPS))
			return fail(c, "Invalid comparator '%s' not one of '" METRIC_OPS_TEXT, cmp);
		break;
	case SEARCH_ENT_PARAM:
		if (!op_in(cmp, NULLABLE_OPS))
			return fail(c, "Invalid comparator '%s' not one of '" NULLABLE_OPS_TEXT "'", cmp);
		break;
	case SEARCH_ENT_TAG:
		if (!op_in(cmp, NULLABLE_OPS))
			return fail(c, "Invalid comparator '%s' not one of '" NULLABLE_OPS_TEXT, cmp);
		break;
	case SEARCH_ENT_ATTRIBUTE:
		if (id.numeric && !op_in(cmp, METRIC_OPS))
			return fail(c, "Invalid comparator '%s' not one of '" STRING_LIST_OPS_TEXT, cmp);
		if (!id.numeric && !op_in(cmp, STRING_LIST_OPS))
			return fail(c, "Invalid comparator '%s' not one of '" STRING_LIST_OPS_TEXT "'", cmp);
		break;
	case SEARCH_ENT_DATASET:
		if (!op_in(cmp, STRING_LIST_OPS))
			return fail(c, "Invalid comparator '%s' not one of '" STRING_LIST_OPS_TEXT, cmp);
		break;
	}
	return MT_OK;
}

static enum mt_error check_experiments(struct ctx *c, struct span lhs, const char *cmp, const struct val *v,
                                       struct search_cond *cd)
{
	static const char *const keys[] = {"name", "experiment_id", "creation_time", "last_update_time", NULL};
	struct ident id = {0};
	if (ident_prefixed(c, lhs, keys, "{'name', 'experiment_id', 'creation_time', 'last_update_time'}", false, &id) !=
	    MT_OK)
		return c->err->code;
	bool numeric = id.ent == SEARCH_ENT_ATTRIBUTE &&
	               (!strcmp(id.key, "creation_time") || !strcmp(id.key, "last_update_time"));
	cd->ent = id.ent;
	cd->key = id.key;
	cd->numeric_key = numeric;
	if (!v) {
		if (id.ent != SEARCH_ENT_TAG)
			return fail(c, "IS NULL / IS NOT NULL is only supported for tags, not for attribute '%s'", id.key);
		return MT_OK;
	}
	if (id.ent == SEARCH_ENT_TAG) {
		if (!stringish(v))
			return fail(c, "Expected a quoted string value for tag (e.g. 'my-value'). Got value %.*s",
			            search_cap(v->raw.n), v->raw.p);
		if (quoted_value(c, v, cd) != MT_OK)
			return c->err->code;
		if (!op_in(cmp, STRING_OPS))
			return fail(c, "Invalid comparator for tag: %s", cmp);
		return MT_OK;
	}
	if (numeric) {
		if (v->kind != V_NUMBER || !set_number(c, cd, v->raw, v->is_int))
			return fail(c, "Expected numeric value type for numeric attribute: %s. Found %.*s", id.key,
			            search_cap(v->raw.n), v->raw.p);
		if (!op_in(cmp, METRIC_OPS))
			return fail(c, "Invalid comparator '%s' not one of '" STRING_LIST_OPS_TEXT, cmp);
		if (!cd->is_int)
			return fail(c, "Invalid value for numeric attribute '%s': '%.*s'", id.key, search_cap(v->raw.n),
			            v->raw.p);
		return MT_OK;
	}
	if (stringish(v)) {
		if (quoted_value(c, v, cd) != MT_OK)
			return c->err->code;
	} else if (v->kind == V_LIST) {
		if (strcmp(id.key, "experiment_id") != 0)
			return fail(c, "Only ['experiment_id'] attributes support comparison with a list of quoted string values.");
		if (parse_list(c, v->raw, cd) != MT_OK)
			return c->err->code;
	} else {
		return fail(c, "Expected a quoted string value for attributes. Got value %.*s", search_cap(v->raw.n),
		            v->raw.p);
	}
	if (!strcmp(id.key, "experiment_id")) {
		static const char *const ops[] = {"=", "!=", "IN", "NOT IN", NULL};
		if (!op_in(cmp, ops))
			return fail(c, "Invalid comparator for experiment_id: %s", cmp);
		int64_t e;
		for (size_t i = 0; i < (cd->list ? cd->n_list : 1); i++) {
			const char *s = cd->list ? cd->list[i] : cd->str;
			if (!py_int((struct span){s, strlen(s)}, &e))
				return fail(c, "Invalid experiment ID '%.100s'. Experiment ID must be a valid integer.", s);
		}
		return MT_OK;
	}
	if (!op_in(cmp, STRING_LIST_OPS))
		return fail(c, "Invalid comparator '%s' not one of '" STRING_LIST_OPS_TEXT "'", cmp);
	if (!op_in(cmp, STRING_OPS))
		return fail(c, "Invalid comparator for string attribute: %s", cmp);
	return MT_OK;
}

static enum mt_error check_registry(struct ctx *c, struct span lhs, const char *cmp, const struct val *v,
                                    struct search_cond *cd)
{
	bool mv = c->kind == SEARCH_MODEL_VERSIONS;
	static const char *const rm_keys[] = {"name", NULL};
	static const char *const mv_keys[] = {"name", "version_number", "run_id", "source_path", NULL};
	struct ident id = {0};
	if (ident_prefixed(c, lhs, mv ? mv_keys : rm_keys,
	                   mv ? "{'name', 'version_number', 'run_id', 'source_path'}" : "{'name'}", true, &id) != MT_OK)
		return c->err->code;
	bool numeric = mv && id.ent == SEARCH_ENT_ATTRIBUTE && !strcmp(id.key, "version_number");
	cd->ent = id.ent;
	cd->key = id.key;
	cd->numeric_key = numeric;
	if (!v) /* the reference fails with a 500 here */
		return fail(c, "Invalid comparator for %s: %s", id.ent == SEARCH_ENT_TAG ? "tag" : "attribute", cmp);
	if (id.ent == SEARCH_ENT_TAG) {
		if (!stringish(v))
			return fail(c, "Expected a quoted string value for tag (e.g. 'my-value'). Got value %.*s",
			            search_cap(v->raw.n), v->raw.p);
		if (quoted_value(c, v, cd) != MT_OK)
			return c->err->code;
		if (!op_in(cmp, STRING_OPS))
			return fail(c, "Invalid comparator for tag: %s", cmp);
		return MT_OK;
	}
	if (stringish(v)) {
		if (quoted_value(c, v, cd) != MT_OK)
			return c->err->code;
	} else if (v->kind == V_LIST) {
		bool ok = !strcmp(id.key, "name") || (mv && !strcmp(id.key, "run_id"));
		if (!ok)
			return fail(c, "Only %s attributes support comparison with a list of quoted string values.",
			            mv ? "['name', 'run_id']" : "['name']");
		if (parse_list(c, v->raw, cd) != MT_OK)
			return c->err->code;
	} else if (v->kind == V_NUMBER && mv) {
		if (!numeric)
			return fail(c, "Only the '{'version_number', 'creation_timestamp', 'last_updated_timestamp'}' "
			               "attributes support comparison with numeric values.");
	} else {
		return fail(c, "Expected a quoted string value or a list of quoted string values for attributes. Got value %.*s",
		            search_cap(v->raw.n), v->raw.p);
	}
	if (numeric) {
		if (!op_in(cmp, METRIC_OPS))
			return fail(c, "Invalid comparator for attribute %s: %s", id.key, cmp);
		int64_t n;
		if (v->kind == V_NUMBER && !v->is_int)
			return fail(c, "Invalid value for numeric attribute '%s': %.*s", id.key, search_cap(v->raw.n), v->raw.p);
		struct span s = v->kind == V_NUMBER ? v->raw : (struct span){cd->str, strlen(cd->str)};
		if (!py_int(s, &n))
			return fail(c, "Invalid value for numeric attribute '%s': %s%.*s%s", id.key, v->kind == V_NUMBER ? "" : "'",
			            search_cap(s.n), s.p, v->kind == V_NUMBER ? "" : "'");
		cd->numeric = true;
		cd->is_int = true;
		cd->i64 = n;
		cd->num = (double)n;
		cd->num_text = dup(c, s);
		cd->str = NULL;
		return MT_OK;
	}
	bool list_ok = op_in(cmp, STRING_LIST_OPS) &&
	               (op_in(cmp, STRING_OPS) || !strcmp(id.key, "name") || (mv && !strcmp(id.key, "run_id")));
	if (!list_ok)
		return fail(c, "Invalid comparator for attribute: %s", cmp);
	return MT_OK;
}

static enum mt_error check_logged(struct ctx *c, struct span lhs, const char *cmp, const struct val *v,
                                  struct search_cond *cd)
{
	struct ident id = {0};
	if (ident_logged(c, lhs, &id) != MT_OK)
		return c->err->code;
	cd->ent = id.ent;
	cd->key = id.key;
	cd->numeric_key = id.numeric;
	const char *type = id.ent == SEARCH_ENT_METRIC ? "metrics"
	                   : id.ent == SEARCH_ENT_PARAM ? "params"
	                   : id.ent == SEARCH_ENT_TAG   ? "tags"
	                                                : "attributes";
	static const char *const num_ops[] = {"<", "<=", ">", ">=", "=", "!=", NULL};
	if (id.numeric ? !op_in(cmp, num_ops) : !op_in(cmp, STRING_LIST_OPS))
		return fail(c, "Invalid comparison operator for %s.%.200s: '%s'. Expected one of %s.", type, id.key, cmp,
		            id.numeric ? "('<', '<=', '>', '>=', '=', '!=')" : "('=', '!=', 'LIKE', 'ILIKE', 'IN', 'NOT IN')");
	bool list_op = !strcmp(cmp, "IN") || !strcmp(cmp, "NOT IN");
	if (id.numeric) {
		if (v->kind != V_NUMBER || !set_number(c, cd, v->raw, v->is_int))
			return fail(c, "Invalid numeric value for %s.%.200s: %.*s", type, id.key, search_cap(v->raw.n), v->raw.p);
		return MT_OK;
	}
	if (v->kind == V_LIST) {
		if (!list_op)
			return bad_clause(c, v->raw);
		return parse_list(c, v->raw, cd);
	}
	if (list_op)
		return bad_clause(c, v->raw);
	/* value.strip("'"): every leading and trailing single quote goes, double quotes stay */
	struct span s = v->raw;
	while (s.n && s.p[0] == '\'') {
		s.p++;
		s.n--;
	}
	while (s.n && s.p[s.n - 1] == '\'')
		s.n--;
	cd->str = dup(c, s);
	return MT_OK;
}

/* ---- the statement ---- */

static bool keyword(const struct search_tok *t)
{
	static const char *const kws[] = {"AND", "OR", "NOT", "IN", "IS", "NULL", "LIKE", "ILIKE", "RLIKE", NULL};
	for (const char *const *k = kws; *k; k++)
		if (search_tok_is(t, *k))
			return true;
	return false;
}

static struct span tspan(const struct search_tok *t) { return (struct span){t->p, t->n}; }

/* The extent of a parenthesised list starting at t (an LPAREN): up to its matching ')'. */
static bool paren_extent(struct search_lexer *lx, const struct search_tok *t, struct span *out)
{
	int depth = 1;
	for (;;) {
		struct search_tok u = search_lex(lx);
		if (u.kind == STK_END || u.kind == STK_BAD)
			return false;
		if (u.kind == STK_LPAREN) {
			if (++depth > 16)
				return false;
		} else if (u.kind == STK_RPAREN && --depth == 0) {
			*out = (struct span){t->p, (size_t)(u.p + 1 - t->p)};
			return true;
		}
	}
}

enum mt_error search_parse_filter(struct arena *a, enum search_kind kind, const char *filter, struct search_filter *out,
                                  struct mt_err *err)
{
	out->conds = NULL;
	out->n = 0;
	if (filter == NULL || filter[0] == '\0')
		return MT_OK;
	struct ctx c = {a, kind, filter, err};
	if (strnlen(filter, SEARCH_MAX_FILTER_LEN + 1) > SEARCH_MAX_FILTER_LEN)
		return fail(&c, "The filter string is longer than %d bytes", SEARCH_MAX_FILTER_LEN);
	const char *s = filter;
	while (*s && isspace((unsigned char)*s))
		s++;
	if (*s == '\0') {
		if (kind == SEARCH_LOGGED_MODELS)
			return fail(&c, "Invalid filter string: '%.200s'. Expected a single SQL expression.", filter);
		return fail(&c, "Invalid filter '%.200s'. Could not be parsed.", filter);
	}
	struct search_lexer lx = {filter};
	size_t cap = 8;
	out->conds = arena_alloc(a, cap * sizeof *out->conds);
	for (;;) {
		struct search_tok t = search_lex(&lx);
		if (t.kind == STK_END)
			return MT_OK;
		if (search_tok_is(&t, "AND"))
			continue; /* MLflow skips AND wherever it stands, and needs none between comparisons */
		if (t.kind == STK_SEMI) {
			if (kind == SEARCH_LOGGED_MODELS)
				return fail(&c, "Invalid filter string: '%.200s'. Expected a single SQL expression.", filter);
			return fail(&c, "Search filter contained multiple expression '%.200s'. Provide AND-ed expression list.",
			            filter);
		}
		if (t.kind != STK_IDENT || keyword(&t))
			return bad_clause(&c, tspan(&t));
		if (t.n > SEARCH_MAX_KEY_LEN)
			return fail(&c, "Invalid identifier '%.100s...': longer than %d bytes", t.p, SEARCH_MAX_KEY_LEN);
		if (out->n == SEARCH_MAX_CONDITIONS)
			return fail(&c, "Too many conditions in the filter (at most %d)", SEARCH_MAX_CONDITIONS);
		struct span lhs = tspan(&t);
		/* comparator */
		const char *cmp;
		bool is_null = false, list_op = false;
		struct search_tok o = search_lex(&lx);
		if (o.kind == STK_OP) {
			cmp = arena_strndup(a, o.p, o.n);
		} else if (search_tok_is(&o, "LIKE") || search_tok_is(&o, "ILIKE")) {
			cmp = search_tok_is(&o, "LIKE") ? "LIKE" : "ILIKE";
		} else if (search_tok_is(&o, "IN")) {
			cmp = "IN";
			list_op = true;
		} else if (search_tok_is(&o, "NOT")) {
			struct search_tok o2 = search_lex(&lx);
			if (search_tok_is(&o2, "IN")) {
				cmp = "NOT IN";
				list_op = true;
			} else if (search_tok_is(&o2, "LIKE") || search_tok_is(&o2, "ILIKE")) {
				cmp = search_tok_is(&o2, "LIKE") ? "NOT LIKE" : "NOT ILIKE";
			} else {
				return bad_clause(&c, tspan(&o2));
			}
		} else if (search_tok_is(&o, "IS")) {
			struct search_tok o2 = search_lex(&lx);
			cmp = "IS NULL";
			if (search_tok_is(&o2, "NOT")) {
				cmp = "IS NOT NULL";
				o2 = search_lex(&lx);
			}
			if (!search_tok_is(&o2, "NULL"))
				return bad_clause(&c, tspan(&o2));
			is_null = true;
		} else {
			return bad_clause(&c, o.kind == STK_END ? lhs : tspan(&o));
		}
		if (is_null && kind == SEARCH_LOGGED_MODELS)
			return fail(&c, "Invalid comparison: %.*s %s. Expected a comparison with 3 tokens.", search_cap(lhs.n),
			            lhs.p, cmp);
		/* value */
		struct val v = {V_STRING, {NULL, 0}, false, false};
		if (!is_null) {
			struct search_tok u = search_lex(&lx);
			v.raw = tspan(&u);
			if (u.kind == STK_LPAREN) {
				if (!paren_extent(&lx, &u, &v.raw))
					return bad_clause(&c, tspan(&u));
				v.kind = V_LIST;
			} else if (list_op) {
				return bad_clause(&c, tspan(&u));
			} else if (u.kind == STK_STRING) {
				v.kind = V_STRING;
			} else if (u.kind == STK_NUMBER) {
				v.kind = V_NUMBER;
				v.is_int = u.is_int;
			} else if (u.kind == STK_IDENT && !keyword(&u)) {
				v.kind = V_IDENT;
				v.dq = u.dq;
			} else {
				return bad_clause(&c, u.kind == STK_END ? lhs : tspan(&u));
			}
		}
		struct search_cond cd;
		memset(&cd, 0, sizeof cd);
		enum mt_error rc;
		switch (kind) {
		case SEARCH_RUNS: rc = check_runs(&c, lhs, cmp, is_null ? NULL : &v, &cd); break;
		case SEARCH_EXPERIMENTS: rc = check_experiments(&c, lhs, cmp, is_null ? NULL : &v, &cd); break;
		case SEARCH_LOGGED_MODELS: rc = check_logged(&c, lhs, cmp, &v, &cd); break;
		case SEARCH_REGISTERED_MODELS:
		case SEARCH_MODEL_VERSIONS: rc = check_registry(&c, lhs, cmp, is_null ? NULL : &v, &cd); break;
		default: rc = fail(&c, "Unknown search kind");
		}
		if (rc != MT_OK)
			return rc;
		if (!op_of(cmp, &cd.op))
			return fail(&c, "Invalid comparator '%s'", cmp);
		/* MLflow accepts a list after '=' (it fails later, in SQL); a list goes with IN / NOT IN only */
		if ((cd.list != NULL) != (cd.op == SEARCH_OP_IN || cd.op == SEARCH_OP_NOT_IN))
			return fail(&c, "Invalid comparator '%s' for the value %.*s", cmp, search_cap(v.raw.n), v.raw.p);
		out->conds = arena_grow(a, out->conds, out->n, &cap, sizeof *out->conds);
		out->conds[out->n++] = cd;
	}
}
