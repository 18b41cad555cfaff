-- SPDX-License-Identifier: Apache-2.0
-- 0004_models_inputs: MLflow 3 logged models (params, tags), datasets, and run inputs/outputs.

CREATE TABLE logged_models (
    model_pk                  INTEGER PRIMARY KEY,
    model_id                  TEXT NOT NULL UNIQUE,        -- "m-" + 32 hex
    experiment_id             INTEGER NOT NULL REFERENCES experiments (experiment_id) ON DELETE CASCADE,
    name                      TEXT NOT NULL,
    artifact_location         TEXT NOT NULL,
    creation_timestamp_ms     INTEGER NOT NULL,
    last_updated_timestamp_ms INTEGER NOT NULL,
    status                    INTEGER NOT NULL,            -- 1 PENDING, 2 READY, 3 UPLOAD_FAILED
    lifecycle_stage           TEXT NOT NULL DEFAULT 'active',
    model_type                TEXT,
    source_run_id             TEXT,
    status_message            TEXT
);
CREATE INDEX logged_models_by_experiment ON logged_models (experiment_id, lifecycle_stage, creation_timestamp_ms);

CREATE TABLE logged_model_params (
    model_pk INTEGER NOT NULL REFERENCES logged_models (model_pk) ON DELETE CASCADE,
    key      TEXT NOT NULL,
    value    TEXT NOT NULL,
    PRIMARY KEY (model_pk, key)
) WITHOUT ROWID;

CREATE TABLE logged_model_tags (
    model_pk INTEGER NOT NULL REFERENCES logged_models (model_pk) ON DELETE CASCADE,
    key      TEXT NOT NULL,
    value    TEXT NOT NULL,
    PRIMARY KEY (model_pk, key)
) WITHOUT ROWID;

-- A dataset is unique per (experiment, name, digest), as in MLflow.
CREATE TABLE datasets (
    dataset_pk    INTEGER PRIMARY KEY,
    experiment_id INTEGER NOT NULL REFERENCES experiments (experiment_id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    digest        TEXT NOT NULL,
    source_type   TEXT NOT NULL,
    source        TEXT NOT NULL,
    schema        TEXT,
    profile       TEXT,
    UNIQUE (experiment_id, name, digest)
);

CREATE TABLE run_dataset_inputs (
    run_pk     INTEGER NOT NULL REFERENCES runs (run_pk) ON DELETE CASCADE,
    dataset_pk INTEGER NOT NULL REFERENCES datasets (dataset_pk) ON DELETE CASCADE,
    PRIMARY KEY (run_pk, dataset_pk)
) WITHOUT ROWID;

CREATE TABLE run_dataset_input_tags (
    run_pk     INTEGER NOT NULL,
    dataset_pk INTEGER NOT NULL,
    key        TEXT NOT NULL,
    value      TEXT NOT NULL,
    PRIMARY KEY (run_pk, dataset_pk, key),
    FOREIGN KEY (run_pk, dataset_pk) REFERENCES run_dataset_inputs (run_pk, dataset_pk) ON DELETE CASCADE
) WITHOUT ROWID;

-- Logged models a run used (direction 'input') or produced (direction 'output', with the step).
CREATE TABLE run_model_io (
    run_pk    INTEGER NOT NULL REFERENCES runs (run_pk) ON DELETE CASCADE,
    direction TEXT NOT NULL CHECK (direction IN ('input', 'output')),
    model_id  TEXT NOT NULL,
    step      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (run_pk, direction, model_id)
) WITHOUT ROWID;
CREATE INDEX metrics_by_model ON metrics (model_id) WHERE model_id IS NOT NULL;
