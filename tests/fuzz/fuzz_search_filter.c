/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_search_filter.c: arbitrary bytes as a filter of every search kind, as an order_by clause, as a logged
 * model's order field and as a page token. Owns only invariants: no crash, and success means a well-formed AST. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mltrackd/search.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_filter(const struct search_filter *f)
{
	if (f->n > SEARCH_MAX_CONDITIONS || (f->n && !f->conds))
		abort();
	for (size_t i = 0; i < f->n; i++) {
		const struct search_cond *c = &f->conds[i];
		if (!c->key || !c->key[0] || strlen(c->key) > SEARCH_MAX_KEY_LEN || (unsigned)c->ent > SEARCH_ENT_DATASET ||
		    (unsigned)c->op > SEARCH_OP_IS_NOT_NULL)
			abort();
		switch (c->op) {
		case SEARCH_OP_IN:
		case SEARCH_OP_NOT_IN:
			if (!c->list || c->n_list == 0 || c->n_list > SEARCH_MAX_LIST || c->str || c->numeric)
				abort();
			for (size_t j = 0; j < c->n_list; j++)
				if (!c->list[j])
					abort();
			break;
		case SEARCH_OP_IS_NULL:
		case SEARCH_OP_IS_NOT_NULL:
			if (c->list || c->str || c->numeric || (c->ent != SEARCH_ENT_TAG && c->ent != SEARCH_ENT_PARAM))
				abort();
			break;
		default:
			if (c->list || (c->numeric == (c->str != NULL)))
				abort();
			if (c->numeric && (!c->num_text || c->num != c->num))
				abort();
			if (c->numeric && c->is_int && (double)c->i64 != c->num)
				abort();
			if (c->ent == SEARCH_ENT_METRIC && !c->numeric)
				abort();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 100000)
		return 0;
	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	struct arena *a = arena_new();
	struct mt_err err;
	for (int kind = SEARCH_RUNS; kind <= SEARCH_MODEL_VERSIONS; kind++) {
		struct search_filter f;
		mt_err_init(&err);
		if (search_parse_filter(a, (enum search_kind)kind, s, &f, &err) == MT_OK)
			check_filter(&f);
		else if (err.code != MT_INVALID_PARAMETER_VALUE || !err.msg[0])
			abort();
		struct search_order o;
		mt_err_init(&err);
		if (search_parse_order_by(a, (enum search_kind)kind, s, &o, &err) == MT_OK) {
			if (!o.key || !o.key[0])
				abort();
		} else if (err.code != MT_INVALID_PARAMETER_VALUE || !err.msg[0]) {
			abort();
		}
	}
	struct search_order o;
	mt_err_init(&err);
	if (search_logged_model_order_field(a, s, true, NULL, NULL, &o, &err) == MT_OK && (!o.key || !o.key[0]))
		abort();
	int64_t off;
	mt_err_init(&err);
	if (search_page_token_decode(s, &off, &err) == MT_OK) {
		if (off < 0)
			abort();
		/* only our own encoding (or nothing) decodes */
		if (s[0] && strcmp(search_page_token_encode(a, off), s) != 0)
			abort();
	}
	arena_free(a);
	free(s);
	return 0;
}
