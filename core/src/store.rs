//! The SQLite store: opening, pragmas, versioned migrations.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior};

use crate::error::{Error, Result};
use crate::model::{canonical_ip, ip_key};

/// The inventory: one SQLite connection and the rules around it.
///
/// ```
/// use ipocket_core::{Inventory, Actor, NewIpAsset, AssetType};
/// let mut inv = Inventory::open_in_memory().unwrap();
/// let a = inv.create_ip_asset(&Actor::system(), &NewIpAsset::new("10.0.0.1", AssetType::Vm)).unwrap();
/// assert_eq!(a.ip_address, "10.0.0.1");
/// ```
#[derive(Debug)]
pub struct Inventory {
    pub(crate) conn: Connection,
    fixed_now: Option<String>,
}

/// Newest schema version this build writes.
pub const SCHEMA_VERSION: u32 = 3;

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

/// Version 3: login sessions (only a hash of each token is stored).
const MIGRATION_3: &str = r#"
CREATE TABLE sessions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash TEXT NOT NULL UNIQUE,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX ix_sessions_user ON sessions(user_id);
"#;

impl Inventory {
    /// Opens (creating if missing) an inventory file and migrates it to [`SCHEMA_VERSION`].
    ///
    /// Sets WAL journaling, `synchronous=NORMAL`, foreign keys on and a 5 s busy timeout.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        Self::setup(conn)
    }

    /// An inventory that lives in memory (tests, dry runs).
    pub fn open_in_memory() -> Result<Self> {
        Self::setup(Connection::open_in_memory()?)
    }

    fn setup(conn: Connection) -> Result<Self> {
        conn.busy_timeout(Duration::from_secs(5))?;
        conn.pragma_update(None, "foreign_keys", true)?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        // 64 MiB page cache: large import transactions would otherwise spill
        conn.pragma_update(None, "cache_size", -65536)?;
        conn.pragma_update(None, "temp_store", "MEMORY")?;
        let mut inv = Inventory {
            conn,
            fixed_now: None,
        };
        inv.migrate()?;
        Ok(inv)
    }

    /// The schema version of the open file.
    pub fn schema_version(&self) -> Result<u32> {
        Ok(self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get::<_, u32>(0))?)
    }

    fn migrate(&mut self) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut found: u32 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if found == 0 && table_exists(&tx, "ip_assets")? {
            // a database of the original (Python) ipocket: its layout is version 1
            found = 1;
        }
        if found > SCHEMA_VERSION {
            return Err(Error::SchemaTooNew {
                found,
                supported: SCHEMA_VERSION,
            });
        }
        if found < 1 {
            tx.execute_batch(MIGRATION_1)?;
        }
        if found < 2 {
            tx.execute_batch(MIGRATION_2)?;
            backfill_ip_keys(&tx)?;
            tx.execute_batch(MIGRATION_2_INDEX)?;
        }
        if found < 3 {
            if table_exists(&tx, "sessions")? {
                // the original's sessions keep tokens in clear: they are dropped
                // (everyone logs in again) for sessions that keep only a hash
                tx.execute_batch("DROP TABLE sessions;")?;
            }
            tx.execute_batch(MIGRATION_3)?;
        }
        if found != SCHEMA_VERSION {
            tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Freezes the clock used for `created_at`, `updated_at` and audit times
    /// (`YYYY-MM-DD HH:MM:SS`). For reproducible exports and tests.
    pub fn set_fixed_time(&mut self, now: Option<String>) {
        self.fixed_now = now;
    }

    /// The current time as stored (`YYYY-MM-DD HH:MM:SS`, UTC).
    pub fn now(&self) -> Result<String> {
        if let Some(t) = &self.fixed_now {
            return Ok(t.clone());
        }
        Ok(self
            .conn
            .query_row("SELECT strftime('%Y-%m-%d %H:%M:%S','now')", [], |r| {
                r.get(0)
            })?)
    }

    /// Starts a write transaction that takes the write lock at once (`BEGIN IMMEDIATE`).
    pub(crate) fn write_tx(&mut self) -> Result<Transaction<'_>> {
        Ok(self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?)
    }

    /// The id of the newest audit row about inventory data (0 when none): a
    /// change counter, because every mutation writes an audit row. User rows
    /// (logins, user management) do not count: they cannot affect an import.
    pub(crate) fn audit_mark(conn: &Connection) -> Result<i64> {
        Ok(conn
            .query_row(
                "SELECT id FROM audit_logs WHERE target_type <> 'USER' ORDER BY id DESC LIMIT 1",
                [],
                |r| r.get::<_, i64>(0),
            )
            .optional()?
            .unwrap_or(0))
    }
}

fn table_exists(conn: &Connection, name: &str) -> Result<bool> {
    Ok(conn.query_row(
        "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = ?1",
        [name],
        |r| r.get(0),
    )?)
}

fn backfill_ip_keys(tx: &Transaction<'_>) -> Result<()> {
    let rows: Vec<(i64, String)> = {
        let mut st = tx.prepare("SELECT id, ip_address FROM ip_assets")?;
        let it = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        it.collect::<std::result::Result<_, _>>()?
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
    fn fresh_database_is_at_the_newest_version_with_pragmas() {
        let dir = tempfile::tempdir().unwrap();
        let inv = Inventory::open(dir.path().join("i.db")).unwrap();
        assert_eq!(inv.schema_version().unwrap(), SCHEMA_VERSION);
        let mode: String = inv
            .conn
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        let fk: i64 = inv
            .conn
            .pragma_query_value(None, "foreign_keys", |r| r.get(0))
            .unwrap();
        assert_eq!(fk, 1);
        let bt: i64 = inv
            .conn
            .pragma_query_value(None, "busy_timeout", |r| r.get(0))
            .unwrap();
        assert_eq!(bt, 5000);
    }

    #[test]
    fn newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("i.db");
        drop(Inventory::open(&p).unwrap());
        let c = Connection::open(&p).unwrap();
        c.pragma_update(None, "user_version", 99).unwrap();
        drop(c);
        assert!(matches!(
            Inventory::open(&p),
            Err(Error::SchemaTooNew { found: 99, .. })
        ));
    }

    #[test]
    fn fixed_time_is_used() {
        let mut inv = Inventory::open_in_memory().unwrap();
        inv.set_fixed_time(Some("2024-01-01 00:00:00".into()));
        assert_eq!(inv.now().unwrap(), "2024-01-01 00:00:00");
        inv.set_fixed_time(None);
        assert_eq!(inv.now().unwrap().len(), 19);
    }
}
