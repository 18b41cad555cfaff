/* SPDX-License-Identifier: Apache-2.0 */
/* arena.h: per-request bump allocator with cleanup hooks, freed in one call when a request ends.
 * Allocation never fails (aborts on OOM, server style); callers cap client-sized data before allocating. */
#ifndef MLTRACKD_ARENA_H
#define MLTRACKD_ARENA_H

#include <stdarg.h>
#include <stddef.h>

struct arena;

struct arena *arena_new(void);
/* Runs the cleanup hooks (last registered first), then frees every block and the arena itself. */
void arena_free(struct arena *a);
void *arena_alloc(struct arena *a, size_t n);  /* 16-byte aligned, uninitialised */
void *arena_calloc(struct arena *a, size_t n); /* zeroed */
/* Growing arrays: returns an array with room for at least n + 1 elements of elem bytes, holding the n already
 * in old: old itself while n < *cap, otherwise a new arena array (the capacity doubles, ARENA_GROW_FIRST
 * elements the first time) with the n elements copied and *cap updated. old stays valid but unused (the arena
 * frees it with the rest). Aborts when the size overflows, as on OOM. Usage, with v = NULL and cap = 0 or a
 * preallocated v of cap elements:  v = arena_grow(a, v, n, &cap, sizeof *v); v[n++] = x; */
#define ARENA_GROW_FIRST 8
void *arena_grow(struct arena *a, void *old, size_t n, size_t *cap, size_t elem);
char *arena_strdup(struct arena *a, const char *s);
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_printf(struct arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Registers fn(ctx) to run when the arena is freed (close an fd, unlink a temp file, ...). */
void arena_on_free(struct arena *a, void (*fn)(void *), void *ctx);

#endif
