/* SPDX-License-Identifier: Apache-2.0 */
/* search_internal.h: the tokenizer shared by filter.c and order_by.c (spans into the caller's text, no copy).
 * Internal to src/search/; it owns no validation and must not be included from outside that directory. */
#ifndef MLTRACKD_SEARCH_INTERNAL_H
#define MLTRACKD_SEARCH_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "mltrackd/search.h"

enum search_tok_kind {
	STK_END,
	STK_IDENT,  /* dotted parts: words, `quoted`, "quoted", and 'quoted' after a dot */
	STK_STRING, /* '...' standing alone */
	STK_NUMBER, /* -?digits[.digits][e-?digits], or -?.digits */
	STK_OP,     /* = == != <> < <= > >= */
	STK_LPAREN,
	STK_RPAREN,
	STK_COMMA,
	STK_SEMI,
	STK_BAD, /* a byte that starts no token, or an unterminated quote */
};

struct search_tok {
	enum search_tok_kind kind;
	const char *p; /* raw text in the input, quotes included */
	size_t n;
	bool word;   /* IDENT made of one plain word (a keyword candidate) */
	bool dq;     /* IDENT made of one "..." part */
	bool is_int; /* NUMBER without fraction or exponent */
};

struct search_lexer {
	const char *p;
};

struct search_tok search_lex(struct search_lexer *lx);
/* t is the plain word w, case-insensitively. */
bool search_tok_is(const struct search_tok *t, const char *w);
/* Length to print a span in a message (capped). */
int search_cap(size_t n);

#endif
