/* SPDX-License-Identifier: Apache-2.0 */
/* backup.h: `mltrackd backup DEST` (a consistent copy of a running server's database and artifacts) and
 * `mltrackd restore SRC [--force]`. */
#ifndef MLTRACKD_BACKUP_H
#define MLTRACKD_BACKUP_H

#include <stdbool.h>

#include "mltrackd/config.h"

/* Both return the process exit status. */
int mt_backup_main(const struct mt_config *cfg, const char *dest);
int mt_restore_main(const struct mt_config *cfg, const char *src, bool force);
/* Copies the directory tree from into to (directories and regular files; no symlinks, no half-written uploads);
 * keep_existing leaves files already there with the same size alone and counts them, and writes the others
 * through a temporary name and a rename (an interrupted copy leaves no short file). 0 on success. */
#include <stdint.h>
int mt_copy_tree(const char *from, const char *to, bool keep_existing, int64_t *files, int64_t *bytes,
                 int64_t *existing, int64_t *skipped);

#endif
