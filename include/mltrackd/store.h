/* SPDX-License-Identifier: Apache-2.0 */
/* store.h: the storage engine's lifecycle and its two doors: per-thread read connections, and one writer
 * thread that group-commits write jobs. No SQLite type leaks past this interface (a PostgreSQL backend
 * can sit beside it later). Per-resource operations live in store_<resource>.h. */
#ifndef MLTRACKD_STORE_H
#define MLTRACKD_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "mltrackd/error.h"

struct store;
struct store_conn;

/* Opens (creating if needed) the database at path, applies pending migrations (refusing a schema newer
 * than this binary knows), and starts the writer thread. */
enum mt_error store_open(const char *path, struct store **out, struct mt_err *err);
/* Stops the writer after draining its queue, closes every connection. */
void store_close(struct store *s);

/* The calling thread's read connection (opened on first use, closed by store_close). */
struct store_conn *store_reader(struct store *s);

/* Ends whatever the calling thread's read connection still has open (called after every request, so no
 * read transaction outlives its request and pins an old snapshot). */
void store_reader_release(struct store *s);

/* A write job: runs on the writer thread inside a transaction, in its own savepoint. Returning an error
 * rolls back only this job's changes. The job must not block on anything but the database. */
typedef enum mt_error (*store_write_fn)(struct store_conn *c, void *arg, struct mt_err *err);

/* Queues fn(arg) for the writer and waits until the transaction holding it has committed (or failed).
 * Concurrent callers are merged into one transaction (group commit). */
enum mt_error store_write(struct store *s, store_write_fn fn, void *arg, struct mt_err *err);

/* fn(ctx) is called on the writer thread after every commit that added outbox events (registry changes), so the
 * webhook dispatcher wakes at once instead of at its next poll. It runs under the store's queue lock: it must be
 * quick and must not call into the store. fn NULL removes it. */
void store_set_events_hook(struct store *s, void (*fn)(void *), void *ctx);

/* Schema version after migrations (for tests and /health details). */
int store_schema_version(struct store *s);

#endif
