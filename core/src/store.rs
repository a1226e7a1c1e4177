//! The SQLite store: opening (pragmas and migrations live in `ipocket-db`), the clock,
//! write transactions.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior};

use crate::error::Result;
use crate::limits::InputLimits;
use crate::schema::INVENTORY_SCHEMA;

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
    pub(crate) limits: InputLimits,
    pub(crate) session_policy: crate::sessions::SessionPolicy,
}

impl Inventory {
    /// Opens (creating if missing) an inventory file and migrates it to [`SCHEMA_VERSION`](crate::SCHEMA_VERSION).
    ///
    /// The connection has `ipocket-db`'s pragmas: WAL journaling, `synchronous=NORMAL`,
    /// foreign keys on and a 5 s busy timeout (docs/database.md).
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        Self::setup(ipocket_db::open(path, &[&INVENTORY_SCHEMA])?)
    }

    /// An inventory that lives in memory (tests, dry runs).
    pub fn open_in_memory() -> Result<Self> {
        Self::setup(ipocket_db::open_in_memory(&[&INVENTORY_SCHEMA])?)
    }

    fn setup(conn: Connection) -> Result<Self> {
        let version = ipocket_db::recorded_version(&conn, INVENTORY_SCHEMA.name)?;
        let marker: u32 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if marker != version {
            // Builds before the registry read `user_version` as the inventory version and
            // refuse a newer one; keeping it in step keeps them from damaging a newer file.
            conn.pragma_update(None, "user_version", version)?;
        }
        Ok(Inventory {
            conn,
            fixed_now: None,
            limits: InputLimits::default(),
            session_policy: Default::default(),
        })
    }

    /// The inventory's schema version in the open file (as recorded in the registry).
    pub fn schema_version(&self) -> Result<u32> {
        Ok(ipocket_db::recorded_version(
            &self.conn,
            INVENTORY_SCHEMA.name,
        )?)
    }

    /// Freezes the clock used for `created_at`, `updated_at` and audit times
    /// (`YYYY-MM-DD HH:MM:SS`). For reproducible exports and tests.
    pub fn set_fixed_time(&mut self, now: Option<String>) {
        self.fixed_now = now;
    }

    /// Sets the limits this connection checks input against (text lengths, zip expansion).
    pub fn set_input_limits(&mut self, limits: InputLimits) {
        self.limits = limits;
    }

    /// The limits this connection checks input against.
    pub fn input_limits(&self) -> &InputLimits {
        &self.limits
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
    /// change counter, because every mutation writes an audit row. User and API-token
    /// rows (logins, user and token management) do not count: they cannot affect an import.
    pub(crate) fn audit_mark(conn: &Connection) -> Result<i64> {
        Ok(conn
            .query_row(
                "SELECT id FROM audit_logs WHERE target_type NOT IN ('USER', 'API_TOKEN') ORDER BY id DESC LIMIT 1",
                [],
                |r| r.get::<_, i64>(0),
            )
            .optional()?
            .unwrap_or(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use crate::SCHEMA_VERSION;

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
        let marker: u32 = inv
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(
            marker, SCHEMA_VERSION,
            "kept for builds before the registry"
        );
    }

    #[test]
    fn newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("i.db");
        drop(Inventory::open(&p).unwrap());
        let c = Connection::open(&p).unwrap();
        c.execute(
            "INSERT INTO schema_migrations (component, version, name) VALUES ('inventory', 99, 'x')",
            [],
        )
        .unwrap();
        drop(c);
        assert!(matches!(
            Inventory::open(&p),
            Err(Error::SchemaTooNew {
                found: 99,
                supported: SCHEMA_VERSION
            })
        ));
    }

    #[test]
    fn pre_registry_file_with_a_newer_user_version_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("i.db");
        Connection::open(&p)
            .unwrap()
            .pragma_update(None, "user_version", 99)
            .unwrap();
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
