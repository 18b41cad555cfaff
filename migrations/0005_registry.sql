-- SPDX-License-Identifier: Apache-2.0
-- 0005_registry: registered models, versions, tags, aliases, and the event outbox every registry change
-- writes to in the same transaction (delivered later by the webhooks dispatcher).

CREATE TABLE registered_models (
    rm_pk             INTEGER PRIMARY KEY,
    name              TEXT NOT NULL UNIQUE,
    creation_time     INTEGER NOT NULL,
    last_updated_time INTEGER NOT NULL,
    description       TEXT
);

CREATE TABLE registered_model_tags (
    rm_pk INTEGER NOT NULL REFERENCES registered_models (rm_pk) ON DELETE CASCADE,
    key   TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (rm_pk, key)
) WITHOUT ROWID;

-- Versions are numbered max+1 and never reused; a deleted version keeps its row with current_stage
-- 'Deleted_Internal', as MLflow's SQL store does.
CREATE TABLE model_versions (
    rm_pk             INTEGER NOT NULL REFERENCES registered_models (rm_pk) ON DELETE CASCADE,
    version           INTEGER NOT NULL,
    creation_time     INTEGER NOT NULL,
    last_updated_time INTEGER NOT NULL,
    description       TEXT,
    user_id           TEXT,
    current_stage     TEXT NOT NULL DEFAULT 'None',
    source            TEXT NOT NULL,
    run_id            TEXT,
    run_link          TEXT,
    status            TEXT NOT NULL DEFAULT 'READY',
    status_message    TEXT,
    storage_location  TEXT,
    model_id          TEXT,
    PRIMARY KEY (rm_pk, version)
) WITHOUT ROWID;
CREATE INDEX model_versions_by_run ON model_versions (run_id);

CREATE TABLE model_version_tags (
    rm_pk   INTEGER NOT NULL,
    version INTEGER NOT NULL,
    key     TEXT NOT NULL,
    value   TEXT NOT NULL,
    PRIMARY KEY (rm_pk, version, key),
    FOREIGN KEY (rm_pk, version) REFERENCES model_versions (rm_pk, version) ON DELETE CASCADE
) WITHOUT ROWID;

CREATE TABLE registered_model_aliases (
    rm_pk   INTEGER NOT NULL REFERENCES registered_models (rm_pk) ON DELETE CASCADE,
    alias   TEXT NOT NULL,
    version INTEGER NOT NULL,
    PRIMARY KEY (rm_pk, alias)
) WITHOUT ROWID;

-- The outbox: one row per registry change, written in the change's own transaction.
CREATE TABLE events (
    id         INTEGER PRIMARY KEY,
    entity     TEXT NOT NULL,      -- registered_model, model_version, model_version_tag, model_version_alias, ...
    action     TEXT NOT NULL,      -- created, updated, deleted, set, renamed, transitioned
    payload    TEXT NOT NULL,      -- JSON, the shape MLflow's webhooks send for that event
    actor      TEXT,
    created_at INTEGER NOT NULL
);
