-- An inventory file as ipocket wrote it before the migration registry (schema
-- `user_version` 3): the SQL strings of core/src/store.rs at b2bd6fd, then a few rows.
-- Do not edit: it stands for files that exist in the field.
CREATE TABLE projects (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    description TEXT,
    color TEXT NOT NULL DEFAULT '#94a3b8'
);
CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL UNIQUE,
    hashed_password TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('Viewer','Editor','Admin')),
    is_active INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE vendors (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE hosts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    notes TEXT,
    vendor_id INTEGER REFERENCES vendors(id) ON DELETE SET NULL,
    created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE ip_assets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ip_address TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL CHECK (type IN ('VM','OS','BMC','VIP','OTHER')),
    project_id INTEGER REFERENCES projects(id) ON DELETE SET NULL,
    host_id INTEGER REFERENCES hosts(id) ON DELETE SET NULL,
    notes TEXT,
    archived INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX ix_ip_assets_archived_project_type ON ip_assets(archived, project_id, type);
CREATE TABLE tags (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    color TEXT NOT NULL DEFAULT '#e2e8f0',
    created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE ip_asset_tags (
    ip_asset_id INTEGER NOT NULL REFERENCES ip_assets(id) ON DELETE CASCADE,
    tag_id INTEGER NOT NULL REFERENCES tags(id) ON DELETE CASCADE,
    PRIMARY KEY (ip_asset_id, tag_id)
);
CREATE INDEX ix_ip_asset_tags_tag ON ip_asset_tags(tag_id, ip_asset_id);
CREATE TABLE ip_ranges (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    cidr TEXT NOT NULL UNIQUE,
    notes TEXT,
    created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE audit_logs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
    username TEXT,
    target_type TEXT NOT NULL,
    target_id INTEGER NOT NULL,
    target_label TEXT NOT NULL,
    action TEXT NOT NULL,
    changes TEXT,
    created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);
ALTER TABLE ip_assets ADD COLUMN ip_family INTEGER NOT NULL DEFAULT 0;
ALTER TABLE ip_assets ADD COLUMN ip_key BLOB NOT NULL DEFAULT x'';
ALTER TABLE audit_logs ADD COLUMN message TEXT;
CREATE INDEX ix_audit_logs_target ON audit_logs(target_type, target_label, id);
CREATE TABLE ip_asset_tags_v2 (
    ip_asset_id INTEGER NOT NULL REFERENCES ip_assets(id) ON DELETE CASCADE,
    tag_id INTEGER NOT NULL REFERENCES tags(id) ON DELETE CASCADE,
    PRIMARY KEY (ip_asset_id, tag_id)
) WITHOUT ROWID;
INSERT INTO ip_asset_tags_v2 (ip_asset_id, tag_id) SELECT ip_asset_id, tag_id FROM ip_asset_tags;
DROP TABLE ip_asset_tags;
ALTER TABLE ip_asset_tags_v2 RENAME TO ip_asset_tags;
CREATE INDEX ix_ip_asset_tags_tag ON ip_asset_tags(tag_id, ip_asset_id);
CREATE INDEX ix_ip_assets_family_key ON ip_assets(ip_family, ip_key);
CREATE INDEX ix_ip_assets_archived_family_key ON ip_assets(archived, ip_family, ip_key);
CREATE TABLE sessions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash TEXT NOT NULL UNIQUE,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX ix_sessions_user ON sessions(user_id);
PRAGMA user_version = 3;

INSERT INTO projects (name) VALUES ('Core');
INSERT INTO vendors (name) VALUES ('HPE');
INSERT INTO hosts (name, vendor_id) VALUES ('node-01', 1);
INSERT INTO tags (name, color) VALUES ('prod', '#ff0000');
INSERT INTO users (username, hashed_password, role) VALUES ('admin', 'x', 'Admin');
INSERT INTO sessions (token_hash, user_id) VALUES ('0123abcd', 1);
INSERT INTO ip_assets (ip_address, type, project_id, host_id, notes, ip_family, ip_key, created_at, updated_at)
    VALUES ('10.0.0.10', 'OS', 1, 1, 'web', 4, x'0a00000a', '2024-01-01 00:00:00', '2024-01-02 00:00:00');
INSERT INTO ip_assets (ip_address, type, ip_family, ip_key) VALUES ('10.0.0.9', 'VM', 4, x'0a000009');
INSERT INTO ip_asset_tags VALUES (1, 1);
INSERT INTO audit_logs (target_type, target_id, target_label, action, message)
    VALUES ('IP_ASSET', 1, '10.0.0.10', 'CREATE', 'Created IP asset');
