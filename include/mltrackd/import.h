/* SPDX-License-Identifier: Apache-2.0 */
/* import.h: `mltrackd import --from-mlflow sqlite:///path/mlflow.db [--artifacts DIR]`. */
#ifndef MLTRACKD_IMPORT_H
#define MLTRACKD_IMPORT_H

#include "mltrackd/config.h"

/* Returns the process exit status. */
int mt_import_main(const struct mt_config *cfg, const char *from_uri, const char *artifacts);

#endif
