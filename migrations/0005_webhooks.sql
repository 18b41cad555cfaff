-- SPDX-License-Identifier: Apache-2.0
-- 0005_webhooks: webhook subscriptions (MLflow's and Databricks' APIs) and their durable deliveries.
-- Events themselves stay in `events` (0002); this only records who wants them and what was sent.

-- One row per webhook. kind 1 = MLflow (/mlflow/webhooks), 2 = Databricks (/mlflow/registry-webhooks).
-- secret / auth_header: "p:<text>" (no encryption key configured) or "e:<base64(nonce|ciphertext|tag)>"
-- (AES-256-GCM); never answered by the API. start_event: the newest event id when it was created (it gets only
-- later events). Deleted webhooks keep their row (deleted_timestamp set, as MLflow's soft delete).
CREATE TABLE webhooks (
    webhook_pk             INTEGER PRIMARY KEY,
    webhook_id             TEXT NOT NULL UNIQUE,
    kind                   INTEGER NOT NULL CHECK (kind IN (1, 2)),
    name                   TEXT,
    description            TEXT,
    url                    TEXT NOT NULL,
    secret                 TEXT,
    auth_header          TEXT,
    enable_ssl_verification INTEGER NOT NULL DEFAULT 1,
    model_name             TEXT,
    status                 TEXT NOT NULL,
    start_event            INTEGER NOT NULL,
    creation_timestamp     INTEGER NOT NULL,
    last_updated_timestamp INTEGER NOT NULL,
    deleted_timestamp      INTEGER
);
CREATE INDEX webhooks_by_creation ON webhooks (kind, creation_timestamp);

-- Subscribed events: "entity.action" (MLflow) or the Databricks event name.
CREATE TABLE webhook_events (
    webhook_pk INTEGER NOT NULL REFERENCES webhooks (webhook_pk) ON DELETE CASCADE,
    event      TEXT NOT NULL,
    position   INTEGER NOT NULL,
    PRIMARY KEY (webhook_pk, event)
);

-- The fan-out cursor: events up to last_event_id have their deliveries rows (written in the same transaction).
CREATE TABLE webhook_cursor (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    last_event_id INTEGER NOT NULL
);
INSERT INTO webhook_cursor (id, last_event_id) SELECT 1, COALESCE(MAX(id), 0) FROM events;

-- One row per (webhook, event) to send. delivery_id is stable across retries (X-MLflow-Delivery-Id, webhook-id).
-- state: 0 pending, 1 delivered, 2 failed (gave up: max age, or a status that is not retried).
-- body: the message data (MLflow: the envelope's `data`; Databricks: the whole body, fixed at fan-out).
CREATE TABLE webhook_deliveries (
    delivery_pk     INTEGER PRIMARY KEY,
    delivery_id     TEXT NOT NULL UNIQUE,
    webhook_pk      INTEGER NOT NULL REFERENCES webhooks (webhook_pk) ON DELETE CASCADE,
    event_id        INTEGER,
    event           TEXT NOT NULL,
    body            TEXT NOT NULL,
    state           INTEGER NOT NULL DEFAULT 0,
    attempts        INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    last_attempt_at INTEGER,
    last_status     INTEGER,
    last_latency_ms INTEGER,
    last_error      TEXT,
    finished_at     INTEGER
);
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (webhook_pk, delivery_pk) WHERE state = 0;
CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries (webhook_pk, delivery_pk);
