//! The inventory's tables, as the `inventory` component of the migration registry
//! (`ipocket-db`). Never edit a released step: add the next version. See docs/database.md.

use ipocket_db::{Component, Migration, Step};
use rusqlite::{Connection, Transaction};

use crate::model::{canonical_ip, ip_key};

/// The inventory's tables in the shared SQLite file (or PostgreSQL database: the `PG_*`
/// forms below).
pub static INVENTORY_SCHEMA: Component = Component {
    name: "inventory",
    migrations: &[
        Migration {
            version: 1,
            name: "original ipocket tables",
            step: Step::Sql(MIGRATION_1),
            pg: PG_1,
        },
        Migration {
            version: 2,
            name: "sortable address keys, audit message",
            step: Step::Rust(migration_2),
            pg: PG_2,
        },
        Migration {
            version: 3,
            name: "hashed login sessions",
            step: Step::Sql(MIGRATION_3),
            pg: PG_3,
        },
        Migration {
            version: 4,
            name: "session last use (idle expiry)",
            step: Step::Sql(MIGRATION_4),
            pg: PG_4,
        },
        Migration {
            version: 5,
            name: "scoped API tokens",
            step: Step::Sql(MIGRATION_5),
            pg: PG_5,
        },
        Migration {
            version: 6,
            name: "login failures (throttling shared by replicas)",
            step: Step::Sql(MIGRATION_6),
            pg: PG_6,
        },
    ],
    legacy_version: Some(legacy_version),
};

/// Newest schema version this build writes.
pub const SCHEMA_VERSION: u32 = 6;

/// Before the registry, the inventory's version was `PRAGMA user_version`; a file of the
/// original (Python) ipocket has none but has the version-1 tables.
fn legacy_version(tx: &Transaction<'_>) -> rusqlite::Result<u32> {
    let found: u32 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if found == 0 && table_exists(tx, "ip_assets")? {
        return Ok(1);
    }
    Ok(found)
}

fn migration_2(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    tx.execute_batch(MIGRATION_2)?;
    backfill_ip_keys(tx)?;
    tx.execute_batch(MIGRATION_2_INDEX)
}

/// Version 1: the original ipocket tables (addresses as text only).
const MIGRATION_1: &str = r#"
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
"#;

/// Version 2: sortable address keys (IPv4 and IPv6), audit message, audit index by
/// target, and the tag links as a clustered (`WITHOUT ROWID`) table.
const MIGRATION_2: &str = r#"
ALTER TABLE ip_assets ADD COLUMN ip_family INTEGER NOT NULL DEFAULT 0;
ALTER TABLE ip_assets ADD COLUMN ip_key BLOB NOT NULL DEFAULT x'';
ALTER TABLE audit_logs ADD COLUMN message TEXT;
CREATE INDEX ix_audit_logs_target ON audit_logs(target_type, target_label, id);
"#;

const MIGRATION_2_INDEX: &str = r#"
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
"#;

/// Version 3: login sessions (only a hash of each token is stored). The original's
/// sessions table keeps tokens in clear: it is dropped (everyone logs in again).
const MIGRATION_3: &str = r#"
DROP TABLE IF EXISTS sessions;
CREATE TABLE sessions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash TEXT NOT NULL UNIQUE,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX ix_sessions_user ON sessions(user_id);
"#;

/// Version 4: when each session was last used, for idle expiry (existing sessions count as
/// used at login).
const MIGRATION_4: &str = r#"
ALTER TABLE sessions ADD COLUMN last_seen_at TEXT NOT NULL DEFAULT '';
UPDATE sessions SET last_seen_at = created_at;
"#;

/// Version 5: named, long-lived API tokens limited to read scopes (`metrics`, `sd`), for
/// Prometheus. Only a hash is stored; the creator's name is kept when the user goes.
const MIGRATION_5: &str = r#"
CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    token_hash TEXT NOT NULL UNIQUE,
    scopes TEXT NOT NULL,
    created_by_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_by TEXT,
    created_at TEXT NOT NULL,
    expires_at TEXT,
    last_used_at TEXT
);
"#;

/// Version 6: failed logins, counted per user name and per client address
/// (`crate::login_throttle`); milliseconds since the epoch.
const MIGRATION_6: &str = r#"
CREATE TABLE login_failures (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    scope TEXT NOT NULL CHECK (scope IN ('user','address')),
    subject TEXT NOT NULL,
    failed_at_ms INTEGER NOT NULL
);
CREATE INDEX login_failures_subject ON login_failures (scope, subject, failed_at_ms);
CREATE INDEX login_failures_time ON login_failures (failed_at_ms);
"#;

/// `CURRENT_TIMESTAMP` as SQLite writes it (`YYYY-MM-DD HH:MM:SS`, UTC), for PostgreSQL
/// defaults: timestamps stay TEXT in the same format on both backends, so exports compare
/// byte for byte.
macro_rules! pg_now {
    () => {
        "(to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'))"
    };
}

/// PostgreSQL, version 1. SQLite's `INTEGER` is `BIGINT` (the same i64 values, 0/1 flags
/// included), its rowid keys are identity columns.
const PG_1: &str = concat!(
    r#"
CREATE TABLE projects (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    description TEXT,
    color TEXT NOT NULL DEFAULT '#94a3b8'
);
CREATE TABLE users (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    hashed_password TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('Viewer','Editor','Admin')),
    is_active BIGINT NOT NULL DEFAULT 1
);
CREATE TABLE vendors (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL DEFAULT "#,
    pg_now!(),
    r#",
    updated_at TEXT NOT NULL DEFAULT "#,
    pg_now!(),
    r#"
);
CREATE TABLE hosts (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    notes TEXT,
    vendor_id BIGINT REFERENCES vendors(id) ON DELETE SET NULL,
    created_at TEXT NOT NULL DEFAULT "#,
    pg_now!(),
    r#",
    updated_at TEXT NOT NULL DEFAULT "#,
    pg_now!(),
    r#"
);
CREATE TABLE ip_assets (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    ip_address TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL CHECK (type IN ('VM','OS','BMC','VIP','OTHER')),
    project_id BIGINT REFERENCES projects(id) ON DELETE SET NULL,
    host_id BIGINT REFERENCES hosts(id) ON DELETE SET NULL,
    notes TEXT,
    archived BIGINT NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL DEFAULT "#,
    pg_now!(),
    r#",
    updated_at TEXT NOT NULL DEFAULT "#,
    pg_now!(),
    r#"
);
CREATE INDEX ix_ip_assets_archived_project_type ON ip_assets(archived, project_id, type);
CREATE TABLE tags (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    color TEXT NOT NULL DEFAULT '#e2e8f0',
    created_at TEXT NOT NULL DEFAULT "#,
    pg_now!(),
    r#",
    updated_at TEXT NOT NULL DEFAULT "#,
    pg_now!(),
    r#"
);
CREATE TABLE ip_asset_tags (
    ip_asset_id BIGINT NOT NULL REFERENCES ip_assets(id) ON DELETE CASCADE,
    tag_id BIGINT NOT NULL REFERENCES tags(id) ON DELETE CASCADE,
    PRIMARY KEY (ip_asset_id, tag_id)
);
CREATE INDEX ix_ip_asset_tags_tag ON ip_asset_tags(tag_id, ip_asset_id);
CREATE TABLE ip_ranges (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    name TEXT NOT NULL,
    cidr TEXT NOT NULL UNIQUE,
    notes TEXT,
    created_at TEXT NOT NULL DEFAULT "#,
    pg_now!(),
    r#",
    updated_at TEXT NOT NULL DEFAULT "#,
    pg_now!(),
    r#"
);
CREATE TABLE audit_logs (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    user_id BIGINT REFERENCES users(id) ON DELETE SET NULL,
    username TEXT,
    target_type TEXT NOT NULL,
    target_id BIGINT NOT NULL,
    target_label TEXT NOT NULL,
    action TEXT NOT NULL,
    changes TEXT,
    created_at TEXT NOT NULL DEFAULT "#,
    pg_now!(),
    r#"
);
"#
);

/// PostgreSQL, version 2: the columns and indexes of SQLite's version 2. No backfill (a
/// PostgreSQL database never holds version-1 rows) and no table rebuild (`WITHOUT ROWID`
/// is SQLite's; the primary key already clusters nothing on PostgreSQL).
const PG_2: &str = r#"
ALTER TABLE ip_assets ADD COLUMN ip_family BIGINT NOT NULL DEFAULT 0;
ALTER TABLE ip_assets ADD COLUMN ip_key BYTEA NOT NULL DEFAULT '\x'::bytea;
ALTER TABLE audit_logs ADD COLUMN message TEXT;
CREATE INDEX ix_audit_logs_target ON audit_logs(target_type, target_label, id);
CREATE INDEX ix_ip_assets_family_key ON ip_assets(ip_family, ip_key);
CREATE INDEX ix_ip_assets_archived_family_key ON ip_assets(archived, ip_family, ip_key);
"#;

/// PostgreSQL, version 3.
const PG_3: &str = concat!(
    r#"
DROP TABLE IF EXISTS sessions;
CREATE TABLE sessions (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at TEXT NOT NULL DEFAULT "#,
    pg_now!(),
    r#"
);
CREATE INDEX ix_sessions_user ON sessions(user_id);
"#
);

/// PostgreSQL, version 4.
const PG_4: &str = r#"
ALTER TABLE sessions ADD COLUMN last_seen_at TEXT NOT NULL DEFAULT '';
UPDATE sessions SET last_seen_at = created_at;
"#;

/// PostgreSQL, version 5.
const PG_5: &str = r#"
CREATE TABLE api_tokens (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    token_hash TEXT NOT NULL UNIQUE,
    scopes TEXT NOT NULL,
    created_by_id BIGINT REFERENCES users(id) ON DELETE SET NULL,
    created_by TEXT,
    created_at TEXT NOT NULL,
    expires_at TEXT,
    last_used_at TEXT
);
"#;

const PG_6: &str = r#"
CREATE TABLE login_failures (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    scope TEXT NOT NULL CHECK (scope IN ('user','address')),
    subject TEXT NOT NULL,
    failed_at_ms BIGINT NOT NULL
);
CREATE INDEX login_failures_subject ON login_failures (scope, subject, failed_at_ms);
CREATE INDEX login_failures_time ON login_failures (failed_at_ms);
"#;

fn table_exists(conn: &Connection, name: &str) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = ?1",
        [name],
        |r| r.get(0),
    )
}

fn backfill_ip_keys(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    let rows: Vec<(i64, String)> = {
        let mut st = tx.prepare("SELECT id, ip_address FROM ip_assets")?;
        let it = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        it.collect::<rusqlite::Result<_>>()?
    };
    let mut up = tx.prepare(
        "UPDATE ip_assets SET ip_address = ?2, ip_family = ?3, ip_key = ?4 WHERE id = ?1",
    )?;
    for (id, text) in rows {
        // Version 1 files may hold text the strict parser rejects (zero-padded
        // IPv4); such rows keep their text and sort last (family 9, key = text).
        match canonical_ip(&text) {
            Ok((ip, canon)) => {
                let (fam, key) = ip_key(ip);
                up.execute(rusqlite::params![id, canon, fam, key])?;
            }
            Err(_) => {
                up.execute(rusqlite::params![id, text, 9, text.as_bytes()])?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_version_is_the_newest_step() {
        assert_eq!(INVENTORY_SCHEMA.latest(), SCHEMA_VERSION);
    }
}
