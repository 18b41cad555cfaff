-- SPDX-License-Identifier: Apache-2.0
-- 0007_acl: MLflow 3.17's roles (a role holds grants on resource patterns, users are assigned roles). A user's
-- direct grants live in a synthetic role '__user_<id>__' as in MLflow; `grants` becomes a view over it.

CREATE TABLE roles (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT NOT NULL,
    workspace   TEXT NOT NULL DEFAULT 'default',
    description TEXT,
    UNIQUE (workspace, name)
);

-- resource_type: experiment, registered_model, run, logged_model, registered_model_version, workspace, ...;
-- resource_pattern: an id/name or '*'; permission: READ, USE, EDIT, MANAGE, DENY (and the registry's
-- MANAGE_STAGING_VERSIONS / MANAGE_PRODUCTION_VERSIONS, mltrackd's governed promotion levels).
CREATE TABLE role_permissions (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    role_id          INTEGER NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    resource_type    TEXT NOT NULL,
    resource_pattern TEXT NOT NULL,
    permission       TEXT NOT NULL,
    UNIQUE (role_id, resource_type, resource_pattern)
);
CREATE INDEX role_permissions_by_resource ON role_permissions (resource_type, resource_pattern);

CREATE TABLE user_roles (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role_id INTEGER NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    UNIQUE (user_id, role_id)
);
CREATE INDEX user_roles_by_role ON user_roles (role_id);

-- Existing direct grants move into each user's synthetic role (NO_PERMISSIONS grants are no longer grantable).
INSERT INTO roles (name, workspace)
    SELECT DISTINCT '__user_' || user_id || '__', 'default' FROM grants WHERE permission <> 'NO_PERMISSIONS';
INSERT INTO user_roles (user_id, role_id)
    SELECT u.id, r.id FROM users u JOIN roles r ON r.workspace = 'default' AND r.name = '__user_' || u.id || '__';
INSERT INTO role_permissions (role_id, resource_type, resource_pattern, permission)
    SELECT r.id, g.resource_type, g.resource_id, g.permission FROM grants g
    JOIN roles r ON r.workspace = 'default' AND r.name = '__user_' || g.user_id || '__'
    WHERE g.permission <> 'NO_PERMISSIONS';
DROP TABLE grants;

-- The direct grants as before, for the store modules that rename or drop a resource's grants.
CREATE VIEW grants AS
    SELECT ur.user_id AS user_id, rp.resource_type AS resource_type, rp.resource_pattern AS resource_id,
           rp.permission AS permission, rp.id AS rp_id
    FROM role_permissions rp
    JOIN roles r ON r.id = rp.role_id
    JOIN user_roles ur ON ur.role_id = r.id AND r.name = '__user_' || ur.user_id || '__';

CREATE TRIGGER grants_delete INSTEAD OF DELETE ON grants BEGIN
    DELETE FROM role_permissions WHERE id = OLD.rp_id;
END;

CREATE TRIGGER grants_update INSTEAD OF UPDATE ON grants BEGIN
    UPDATE OR REPLACE role_permissions SET resource_pattern = NEW.resource_id, permission = NEW.permission
        WHERE id = OLD.rp_id;
END;

CREATE TRIGGER grants_insert INSTEAD OF INSERT ON grants BEGIN
    INSERT OR IGNORE INTO roles (name, workspace) VALUES ('__user_' || NEW.user_id || '__', 'default');
    INSERT OR IGNORE INTO user_roles (user_id, role_id)
        SELECT NEW.user_id, id FROM roles WHERE workspace = 'default' AND name = '__user_' || NEW.user_id || '__';
    INSERT OR REPLACE INTO role_permissions (role_id, resource_type, resource_pattern, permission)
        SELECT id, NEW.resource_type, NEW.resource_id, NEW.permission FROM roles
        WHERE workspace = 'default' AND name = '__user_' || NEW.user_id || '__';
END;

-- A deleted user's synthetic role goes with them (user ids may be reused).
CREATE TRIGGER users_delete_synthetic_role AFTER DELETE ON users BEGIN
    DELETE FROM roles WHERE workspace = 'default' AND name = '__user_' || OLD.id || '__';
END;
