-- The rule store as ipocket made it before the migration registry (its own
-- rulegen_schema_migrations table at version 1): the SQL strings of rulegen/src/store.rs at
-- b2bd6fd, then rows. Do not edit: it stands for files that exist in the field.
CREATE TABLE IF NOT EXISTS rulegen_schema_migrations (
    version INTEGER PRIMARY KEY,
    applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE TABLE rulegen_groups (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    options TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE rulegen_targets (
    id INTEGER PRIMARY KEY,
    hostname TEXT NOT NULL UNIQUE,
    address TEXT NOT NULL DEFAULT ''
);
CREATE TABLE rulegen_target_groups (
    target_id INTEGER NOT NULL REFERENCES rulegen_targets(id) ON DELETE CASCADE,
    group_id INTEGER NOT NULL REFERENCES rulegen_groups(id) ON DELETE CASCADE,
    PRIMARY KEY (target_id, group_id)
);
CREATE TABLE rulegen_templates (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    query_template TEXT NOT NULL,
    default_vars TEXT NOT NULL DEFAULT '{}',
    for_duration TEXT,
    keep_firing_for TEXT,
    severity TEXT NOT NULL CHECK (severity IN ('critical', 'warning', 'info')),
    labels TEXT NOT NULL DEFAULT '{}',
    annotations TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE rulegen_rules (
    id INTEGER PRIMARY KEY,
    group_id INTEGER NOT NULL REFERENCES rulegen_groups(id) ON DELETE CASCADE,
    template_id INTEGER NOT NULL REFERENCES rulegen_templates(id) ON DELETE RESTRICT,
    name TEXT,
    vars TEXT NOT NULL DEFAULT '{}',
    enabled INTEGER NOT NULL DEFAULT 1,
    for_duration TEXT,
    keep_firing_for TEXT,
    severity TEXT CHECK (severity IN ('critical', 'warning', 'info')),
    labels TEXT NOT NULL DEFAULT '{}',
    annotations TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX rulegen_rules_group ON rulegen_rules(group_id);
CREATE TABLE rulegen_settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
INSERT INTO rulegen_schema_migrations (version, applied_at) VALUES (1, '2025-01-01T00:00:00Z');

INSERT INTO rulegen_groups (name, description) VALUES ('prod', 'production');
INSERT INTO rulegen_templates (name, query_template, severity) VALUES ('NodeDown', 'up == 0', 'critical');
INSERT INTO rulegen_rules (group_id, template_id) VALUES (1, 1);
INSERT INTO rulegen_settings (key, value) VALUES ('backup_count', '5');
