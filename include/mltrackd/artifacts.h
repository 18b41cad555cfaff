/* SPDX-License-Identifier: Apache-2.0 */
/* artifacts.h: the filesystem artifact store: one function validates a client path, every file operation
 * resolves it beneath the root without following a symlink, and uploads are written to a temporary file
 * that is fsynced and renamed into place only when complete. */
#ifndef MLTRACKD_ARTIFACTS_H
#define MLTRACKD_ARTIFACTS_H

#include <stdbool.h>
#include <stdint.h>

#include "mltrackd/arena.h"
#include "mltrackd/error.h"

struct artifact_store;

/* Opens (creating if needed) the root directory. */
enum mt_error artifacts_open(const char *root, struct artifact_store **out, struct mt_err *err);
void artifacts_close(struct artifact_store *st);

/* A client path is relative and normal: no empty, "." or ".." segment, no leading '/', no NUL, backslash
 * or '#', and no percent-encoded byte left after the server's one decoding (which would be a second,
 * smuggled encoding). allow_empty: "" names the root (listing). 400 "Invalid path" otherwise. */
enum mt_error artifacts_check_path(const char *path, bool allow_empty, struct mt_err *err);

struct artifact_entry {
	const char *name; /* basename */
	bool is_dir;
	int64_t size;
};

/* Entries of a directory (sorted by name); a file or a missing path -> *exists = false, MT_OK. */
enum mt_error artifacts_list(struct artifact_store *st, struct arena *a, const char *path, struct artifact_entry **out,
                             size_t *n, bool *exists, struct mt_err *err);
/* Opens a regular file for reading; missing -> RESOURCE_DOES_NOT_EXIST, directory -> INVALID_PARAMETER_VALUE.
 * The caller owns *fd. */
enum mt_error artifacts_open_file(struct artifact_store *st, const char *path, int *fd, uint64_t *size,
                                  struct mt_err *err);
/* Removes a file or a directory tree; missing -> RESOURCE_DOES_NOT_EXIST. */
enum mt_error artifacts_delete(struct artifact_store *st, const char *path, struct mt_err *err);

struct artifact_upload;
/* Creates the parent directories and a temporary file beside the target. The arena owns the upload: if it
 * is freed before commit (a dropped connection, an error), the temporary file is removed. */
enum mt_error artifacts_upload_begin(struct artifact_store *st, struct arena *a, const char *path,
                                     struct artifact_upload **out, struct mt_err *err);
enum mt_error artifacts_upload_write(struct artifact_upload *up, const void *data, size_t n, struct mt_err *err);
/* fsync, rename into place, fsync the directory. */
enum mt_error artifacts_upload_commit(struct artifact_upload *up, struct mt_err *err);
uint64_t artifacts_upload_bytes(const struct artifact_upload *up);

/* Content type guessed from the file name (application/octet-stream when unknown). */
const char *artifacts_mime_type(const char *name);

#endif
