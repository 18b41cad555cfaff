-- SPDX-License-Identifier: Apache-2.0
-- 0006_promotion: governed promotion (Databricks' transition requests and comments) on model versions.
-- Holds who did what and when; the stage itself stays in model_versions (0002). Rows go with their version's row.

-- Every recorded action on a version, Databricks' Activity: requests made, approved, rejected, cancelled, and
-- comments (NEW_COMMENT rows are the comments: edited in place, removed when deleted). activity_id is the id
-- the API answers (32 hex); a request's id is the id of its REQUESTED_TRANSITION activity.
CREATE TABLE model_version_activities (
    activity_pk       INTEGER PRIMARY KEY,
    activity_id       TEXT NOT NULL UNIQUE,
    mv_pk             INTEGER NOT NULL REFERENCES model_versions (mv_pk) ON DELETE CASCADE,
    activity_type     TEXT NOT NULL
                      CHECK (activity_type IN ('APPLIED_TRANSITION', 'REQUESTED_TRANSITION', 'CANCELLED_REQUEST',
                                               'APPROVED_REQUEST', 'REJECTED_REQUEST', 'SYSTEM_TRANSITION',
                                               'NEW_COMMENT')),
    from_stage        TEXT,
    to_stage          TEXT,
    comment           TEXT,
    system_comment    TEXT,
    user_id           TEXT,                          -- the authenticated user, NULL with auth off
    creation_time     INTEGER NOT NULL,
    last_updated_time INTEGER NOT NULL
);
CREATE INDEX model_version_activities_by_version ON model_version_activities (mv_pk, activity_pk);

-- Open requests only: approving, rejecting or cancelling one deletes its row (its activity stays).
CREATE TABLE transition_requests (
    request_pk    INTEGER PRIMARY KEY,
    request_id    TEXT NOT NULL UNIQUE,              -- = activity_id of its REQUESTED_TRANSITION activity
    mv_pk         INTEGER NOT NULL REFERENCES model_versions (mv_pk) ON DELETE CASCADE,
    to_stage      TEXT NOT NULL CHECK (to_stage IN ('None', 'Staging', 'Production', 'Archived')),
    comment       TEXT,
    creator       TEXT,                              -- NULL with auth off
    creation_time INTEGER NOT NULL
);
CREATE INDEX transition_requests_by_version ON transition_requests (mv_pk, to_stage);
