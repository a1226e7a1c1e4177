-- The samples tables as ipocket made them before the migration registry (unversioned
-- CREATE IF NOT EXISTS): the SQL string of connectors/src/store.rs at b2bd6fd, then rows.
-- Do not edit: it stands for files that exist in the field.
CREATE TABLE IF NOT EXISTS servers (
    server_id    TEXT PRIMARY KEY,
    name         TEXT,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER
);
CREATE TABLE IF NOT EXISTS metric_samples (
    id          INTEGER PRIMARY KEY,
    server_id   TEXT NOT NULL,
    metric_name TEXT NOT NULL,
    metric_type TEXT NOT NULL,
    labels      TEXT NOT NULL DEFAULT '{}',
    value       REAL,
    timestamp   INTEGER NOT NULL,
    help_text   TEXT,
    unit        TEXT
);
CREATE INDEX IF NOT EXISTS metric_samples_series
    ON metric_samples (server_id, metric_name, labels, timestamp);
CREATE INDEX IF NOT EXISTS metric_samples_time ON metric_samples (timestamp);

INSERT INTO servers (server_id, name, created_at, last_seen_at) VALUES ('web-01', 'web 01', 1700000000000, 1700000060000);
INSERT INTO metric_samples (server_id, metric_name, metric_type, labels, value, timestamp, help_text)
    VALUES ('web-01', 'node_load1', 'gauge', '{}', 0.5, 1700000060000, 'load');
INSERT INTO metric_samples (server_id, metric_name, metric_type, labels, value, timestamp)
    VALUES ('web-01', 'up', 'gauge', '{"job":"node"}', 1, 1700000060000);
