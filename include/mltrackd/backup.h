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

#endif
