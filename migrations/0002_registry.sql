-- SPDX-License-Identifier: Apache-2.0
-- 0002_registry: the model registry (registered models, versions, tags, aliases) and the events outbox.
-- Names live in one row (registered_models.name); everything else points at the integer key, so a rename is
-- one UPDATE and versions, tags and aliases follow it. Deletes cascade.

CREATE TABLE registered_models (
    model_pk          INTEGER PRIMARY KEY,
    name              TEXT NOT NULL UNIQUE,
    creation_time     INTEGER NOT NULL,
    last_updated_time INTEGER NOT NULL,
    description       TEXT                          -- NULL = never set
);
CREATE INDEX registered_models_by_updated ON registered_models (last_updated_time);

-- tag_pk keeps the order tags were first set in (MLflow answers them in that order).
CREATE TABLE registered_model_tags (
    tag_pk   INTEGER PRIMARY KEY,
    model_pk INTEGER NOT NULL REFERENCES registered_models (model_pk) ON DELETE CASCADE,
    key      TEXT NOT NULL,
    value    TEXT,
    UNIQUE (model_pk, key)
);

-- A deleted version stays as a row in stage 'Deleted_Internal' (as MLflow keeps it), so its number is never
-- handed out again while the model exists; it is invisible to every read.
CREATE TABLE model_versions (
    mv_pk             INTEGER PRIMARY KEY,
    model_pk          INTEGER NOT NULL REFERENCES registered_models (model_pk) ON DELETE CASCADE,
    version           INTEGER NOT NULL,
    creation_time     INTEGER NOT NULL,
    last_updated_time INTEGER NOT NULL,
    description       TEXT,
    user_id           TEXT,
    current_stage     TEXT NOT NULL DEFAULT 'None'
                      CHECK (current_stage IN ('None', 'Staging', 'Production', 'Archived', 'Deleted_Internal')),
    source            TEXT,
    storage_location  TEXT,                         -- what get-download-uri answers (NULL: the source)
    run_id            TEXT,
    run_link          TEXT,
    status            TEXT NOT NULL DEFAULT 'READY',
    status_message    TEXT,
    model_id          TEXT,                         -- MLflow 3 logged model the version was made from
    UNIQUE (model_pk, version)
);
CREATE INDEX model_versions_by_run ON model_versions (run_id);
CREATE INDEX model_versions_by_updated ON model_versions (last_updated_time);

CREATE TABLE model_version_tags (
    tag_pk INTEGER PRIMARY KEY,
    mv_pk  INTEGER NOT NULL REFERENCES model_versions (mv_pk) ON DELETE CASCADE,
    key    TEXT NOT NULL,
    value  TEXT,
    UNIQUE (mv_pk, key)
);
CREATE INDEX model_version_tags_by_key ON model_version_tags (key, value);

CREATE TABLE registered_model_aliases (
    model_pk INTEGER NOT NULL REFERENCES registered_models (model_pk) ON DELETE CASCADE,
    alias    TEXT NOT NULL,
    version  INTEGER NOT NULL,
    PRIMARY KEY (model_pk, alias)
) WITHOUT ROWID;

-- The outbox: every registry change appends its event here in the same transaction as the change, for the
-- webhook dispatcher to deliver. entity/action/payload follow MLflow's webhook events (docs/events.md);
-- payload is the event's `data` object as JSON text.
CREATE TABLE events (
    id         INTEGER PRIMARY KEY,
    entity     TEXT NOT NULL,
    action     TEXT NOT NULL,
    payload    TEXT NOT NULL,
    created_at INTEGER NOT NULL,                    -- ms since the epoch
    actor      TEXT                                 -- the authenticated user, NULL when auth is off
);
CREATE INDEX events_by_entity ON events (entity, action, id);
