/* SPDX-License-Identifier: Apache-2.0 */
/* arena.c: per-request bump allocator; blocks are chained and freed together with cleanup hooks.
 * Must not be shared between threads: one request, one thread at a time. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mltrackd/arena.h"
#include "mltrackd/util.h"

#define BLOCK_SIZE (16 * 1024)

struct block {
	struct block *next;
	size_t used, cap;
	_Alignas(16) unsigned char data[];
};

struct cleanup {
	struct cleanup *next;
	void (*fn)(void *);
	void *ctx;
};

struct arena {
	struct block *head;
	struct cleanup *cleanups;
};

static struct block *block_new(size_t cap, struct block *next)
{
	struct block *b = xmalloc(sizeof *b + cap);
	b->next = next;
	b->used = 0;
	b->cap = cap;
	return b;
}

struct arena *arena_new(void)
{
	struct arena *a = xmalloc(sizeof *a);
	a->head = block_new(BLOCK_SIZE, NULL);
	a->cleanups = NULL;
	return a;
}

void arena_free(struct arena *a)
{
	if (a == NULL)
		return;
	for (struct cleanup *c = a->cleanups; c; c = c->next)
		c->fn(c->ctx);
	struct block *b = a->head;
	while (b) {
		struct block *n = b->next;
		free(b);
		b = n;
	}
	free(a);
}

void *arena_alloc(struct arena *a, size_t n)
{
	if (n > SIZE_MAX - BLOCK_SIZE) /* the rounding and the block header below must not wrap */
		abort();
	n = (n + 15) & ~(size_t)15;
	if (n == 0)
		n = 16;
	struct block *b = a->head;
	if (b->cap - b->used < n) {
		if (n > BLOCK_SIZE / 4) {
			/* Big allocation: its own block, linked behind the head so the head keeps filling. */
			struct block *big = block_new(n, b->next);
			b->next = big;
			big->used = n;
			return big->data;
		}
		b = a->head = block_new(BLOCK_SIZE, b);
	}
	void *p = b->data + b->used;
	b->used += n;
	return p;
}

void *arena_calloc(struct arena *a, size_t n)
{
	void *p = arena_alloc(a, n);
	memset(p, 0, n);
	return p;
}

void *arena_grow(struct arena *a, void *old, size_t n, size_t *cap, size_t elem)
{
	if (n < *cap)
		return old;
	/* Half the address space bounds every size here, so neither the doubling nor n + 1 nor arena_alloc's
	 * rounding can wrap; an array that large is a bug or a request that escaped its cap: fail as on OOM. */
	const size_t limit = (SIZE_MAX / 2) / (elem ? elem : 1);
	size_t ncap = *cap ? *cap * 2 : ARENA_GROW_FIRST;
	if (n >= limit || *cap > limit / 2 + 1 || ncap > limit) {
		fprintf(stderr, "mltrackd: arena array of %zu elements of %zu bytes overflows\n", n + 1, elem);
		abort();
	}
	if (ncap <= n)
		ncap = n + 1;
	void *nv = arena_alloc(a, ncap * elem);
	if (n)
		memcpy(nv, old, n * elem);
	*cap = ncap;
	return nv;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
	return arena_strndup(a, s, strlen(s));
}

char *arena_printf(struct arena *a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return arena_strdup(a, "");
	char *p = arena_alloc(a, (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

void arena_on_free(struct arena *a, void (*fn)(void *), void *ctx)
{
	struct cleanup *c = arena_alloc(a, sizeof *c);
	c->fn = fn;
	c->ctx = ctx;
	c->next = a->cleanups;
	a->cleanups = c;
}
