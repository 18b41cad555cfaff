/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_search_filter.c: arbitrary bytes as a search filter (runs and experiments grammars) and as an
 * order_by clause. Invariants: no crash; a successful parse yields conditions with a key and a value of
 * the declared shape. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mltrackd/search.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 100000)
		return 0;
	char *s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	for (int kind = 0; kind < 2; kind++) {
		struct arena *a = arena_new();
		struct search_filter f;
		struct mt_err err;
		mt_err_init(&err);
		if (search_parse_filter(a, (enum search_kind)kind, s, &f, &err) == MT_OK) {
			for (size_t i = 0; i < f.n; i++) {
				const struct search_cond *c = &f.conds[i];
				if (!c->key || !c->key[0])
					abort();
				if (c->op == OP_IN || c->op == OP_NOT_IN) {
					if (c->n_list == 0 || !c->list)
						abort();
				} else if (c->op != OP_IS_NULL && c->op != OP_IS_NOT_NULL && !c->numeric && !c->str) {
					abort();
				}
			}
		} else if (err.code != MT_INVALID_PARAMETER_VALUE || !err.msg[0]) {
			abort();
		}
		struct search_order o;
		mt_err_init(&err);
		if (search_parse_order_by(a, (enum search_kind)kind, s, &o, &err) == MT_OK && (!o.key || !o.key[0]))
			abort();
		arena_free(a);
	}
	free(s);
	return 0;
}
