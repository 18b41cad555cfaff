/* SPDX-License-Identifier: Apache-2.0 */
/* gc.h: the `mltrackd gc` subcommand. */
#ifndef MLTRACKD_GC_H
#define MLTRACKD_GC_H

#include "mltrackd/config.h"

/* Returns the process exit status. */
int mt_gc_main(const struct mt_config *cfg);

#endif
