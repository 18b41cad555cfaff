/* SPDX-License-Identifier: Apache-2.0 */
/* entities.h: MLflow entities as plain structs shared by the store (which fills them, arena-allocated)
 * and the API (which validates and serialises them). */
#ifndef MLTRACKD_ENTITIES_H
#define MLTRACKD_ENTITIES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mt_tag {
	const char *key;
	const char *value;
};

struct mt_experiment {
	int64_t experiment_id;
	const char *name;
	const char *artifact_location;
	const char *lifecycle_stage; /* "active" | "deleted" */
	int64_t creation_time;
	int64_t last_update_time;
	struct mt_tag *tags;
	size_t n_tags;
};

#endif
