-- SPDX-License-Identifier: Apache-2.0
-- 0003_auth: users, bearer tokens and per-resource grants for the ACL layer.

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,                    -- pbkdf2-sha256$iterations$salt$hash
    is_admin      INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL
);

-- Bearer tokens: only the SHA-256 of the token is kept; the token is shown once at creation.
CREATE TABLE tokens (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash  TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER,                            -- ms since epoch, NULL = never
    revoked_at  INTEGER
);
CREATE INDEX tokens_by_user ON tokens (user_id);

-- Direct grants. resource_type: 'experiment' (resource_id = decimal id) or 'registered_model' (name).
-- permission: READ, USE, EDIT, MANAGE, NO_PERMISSIONS, DENY.
CREATE TABLE grants (
    user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    resource_type TEXT NOT NULL,
    resource_id   TEXT NOT NULL,
    permission    TEXT NOT NULL,
    PRIMARY KEY (user_id, resource_type, resource_id)
) WITHOUT ROWID;
CREATE INDEX grants_by_resource ON grants (resource_type, resource_id);
