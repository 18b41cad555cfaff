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

struct mt_metric {
	const char *key;
	double value; /* NaN and infinities as they are */
	int64_t timestamp;
	int64_t step;
	const char *model_id;       /* MLflow 3: NULL when absent */
	const char *dataset_name;
	const char *dataset_digest;
	const char *run_id;         /* set in bulk history answers */
};

struct mt_run_info {
	int64_t run_pk; /* internal */
	const char *run_id;
	int64_t experiment_id;
	const char *run_name;
	const char *user_id;
	const char *status;
	int64_t start_time;
	bool has_end_time;
	int64_t end_time;
	const char *artifact_uri;
	const char *lifecycle_stage;
};

struct mt_dataset {
	const char *name, *digest, *source_type, *source, *schema, *profile;
};

struct mt_dataset_input {
	struct mt_dataset dataset;
	struct mt_tag *tags;
	size_t n_tags;
};

struct mt_model_io {
	const char *model_id;
	int64_t step; /* outputs only */
};

struct mt_logged_model {
	const char *model_id;
	int64_t experiment_id;
	const char *name;
	const char *artifact_uri;
	int64_t creation_timestamp_ms, last_updated_timestamp_ms;
	int status; /* 1 PENDING, 2 READY, 3 UPLOAD_FAILED */
	const char *lifecycle_stage;
	const char *model_type, *source_run_id, *status_message;
	struct mt_tag *tags;
	size_t n_tags;
	struct mt_tag *params;
	size_t n_params;
	struct mt_metric *metrics;
	size_t n_metrics;
};

struct mt_run {
	struct mt_run_info info;
	struct mt_metric *metrics; /* latest value per key */
	size_t n_metrics;
	struct mt_tag *params;
	size_t n_params;
	struct mt_tag *tags;
	size_t n_tags;
	struct mt_dataset_input *dataset_inputs;
	size_t n_dataset_inputs;
	struct mt_model_io *model_inputs;
	size_t n_model_inputs;
	struct mt_model_io *model_outputs;
	size_t n_model_outputs;
};

#endif
