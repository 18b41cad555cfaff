-- SPDX-License-Identifier: Apache-2.0
-- 0001_tracking: experiments, runs, params, tags and metrics.
-- Integer surrogate keys inside; MLflow's string ids (run uuid, experiment id as decimal) at the API edge.

CREATE TABLE experiments (
    experiment_id     INTEGER PRIMARY KEY,          -- MLflow's id; "0" is the Default experiment
    name              TEXT NOT NULL UNIQUE,         -- unique across active and deleted, as MLflow
    artifact_location TEXT NOT NULL,
    lifecycle_stage   TEXT NOT NULL DEFAULT 'active' CHECK (lifecycle_stage IN ('active', 'deleted')),
    creation_time     INTEGER NOT NULL,
    last_update_time  INTEGER NOT NULL
);
CREATE INDEX experiments_by_stage_time ON experiments (lifecycle_stage, creation_time);

CREATE TABLE experiment_tags (
    experiment_id INTEGER NOT NULL REFERENCES experiments (experiment_id) ON DELETE CASCADE,
    key           TEXT NOT NULL,
    value         TEXT,
    PRIMARY KEY (experiment_id, key)
) WITHOUT ROWID;

CREATE TABLE runs (
    run_pk          INTEGER PRIMARY KEY,
    run_uuid        TEXT NOT NULL UNIQUE,           -- 32 lowercase hex
    experiment_id   INTEGER NOT NULL REFERENCES experiments (experiment_id) ON DELETE CASCADE,
    name            TEXT NOT NULL DEFAULT '',
    user_id         TEXT NOT NULL DEFAULT '',
    status          TEXT NOT NULL DEFAULT 'RUNNING'
                    CHECK (status IN ('RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED')),
    start_time      INTEGER,
    end_time        INTEGER,
    artifact_uri    TEXT NOT NULL DEFAULT '',
    lifecycle_stage TEXT NOT NULL DEFAULT 'active' CHECK (lifecycle_stage IN ('active', 'deleted')),
    deleted_time    INTEGER
);
CREATE INDEX runs_by_experiment ON runs (experiment_id, lifecycle_stage, start_time);

CREATE TABLE run_tags (
    run_pk INTEGER NOT NULL REFERENCES runs (run_pk) ON DELETE CASCADE,
    key    TEXT NOT NULL,
    value  TEXT,
    PRIMARY KEY (run_pk, key)
) WITHOUT ROWID;

CREATE TABLE params (
    run_pk INTEGER NOT NULL REFERENCES runs (run_pk) ON DELETE CASCADE,
    key    TEXT NOT NULL,
    value  TEXT NOT NULL,
    PRIMARY KEY (run_pk, key)
) WITHOUT ROWID;

-- Metric keys are interned once; a series is one (run, key) pair and also carries the latest value,
-- kept in the same transaction as the points, so search and order-by never scan the history.
CREATE TABLE metric_keys (
    key_id INTEGER PRIMARY KEY,
    key    TEXT NOT NULL UNIQUE
);

CREATE TABLE metric_series (
    series_id        INTEGER PRIMARY KEY,
    run_pk           INTEGER NOT NULL REFERENCES runs (run_pk) ON DELETE CASCADE,
    key_id           INTEGER NOT NULL REFERENCES metric_keys (key_id),
    latest_value     REAL NOT NULL,                 -- latest = max by (step, timestamp, value)
    latest_timestamp INTEGER NOT NULL,
    latest_step      INTEGER NOT NULL,
    latest_is_nan    INTEGER NOT NULL DEFAULT 0,
    UNIQUE (run_pk, key_id)
);
CREATE INDEX metric_series_by_key ON metric_series (key_id, latest_value);

-- One row per point; the primary key is MLflow's uniqueness rule (a repeated identical point is ignored)
-- and its order is the history order MLflow answers: timestamp, step, value.
CREATE TABLE metrics (
    series_id      INTEGER NOT NULL REFERENCES metric_series (series_id) ON DELETE CASCADE,
    timestamp      INTEGER NOT NULL,
    step           INTEGER NOT NULL,
    value          REAL NOT NULL,                   -- 0 when is_nan
    is_nan         INTEGER NOT NULL DEFAULT 0,
    model_id       TEXT,
    dataset_name   TEXT,
    dataset_digest TEXT,
    PRIMARY KEY (series_id, timestamp, step, value, is_nan)
) WITHOUT ROWID;
