//! The inventory's store: opening (pragmas and migrations live in `ipocket-db`), the clock,
//! reads and write transactions on either backend.

use std::path::Path;

use ipocket_db::{Backend, Database, DbUrl, PgDatabase, Sql};
use rusqlite::Connection;

use crate::error::{Error, Result};
use crate::limits::InputLimits;
use crate::schema::INVENTORY_SCHEMA;

/// The PostgreSQL advisory lock key that serialises the inventory's writes across
/// connections, processes and replicas (SQLite's `BEGIN IMMEDIATE` does it there).
pub(crate) const INVENTORY_LOCK: i64 = 0x6970_6f63_6b65_7469;

/// The inventory: one database connection (a SQLite file, or a PostgreSQL pool) and the
/// rules around it.
///
/// ```
/// use ipocket_core::{Inventory, Actor, NewIpAsset, AssetType};
/// let mut inv = Inventory::open_in_memory().unwrap();
/// let a = inv.create_ip_asset(&Actor::system(), &NewIpAsset::new("10.0.0.1", AssetType::Vm)).unwrap();
/// assert_eq!(a.ip_address, "10.0.0.1");
/// ```
#[derive(Debug)]
pub struct Inventory {
    pub(crate) db: Database,
    pub(crate) fixed_now: Option<String>,
    pub(crate) limits: InputLimits,
    pub(crate) session_policy: crate::sessions::SessionPolicy,
}

impl Inventory {
    /// Opens (creating if missing) an inventory file and migrates it to [`SCHEMA_VERSION`](crate::SCHEMA_VERSION).
    ///
    /// The connection has `ipocket-db`'s pragmas: WAL journaling, `synchronous=NORMAL`,
    /// foreign keys on and a 5 s busy timeout (docs/database.md).
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        Self::setup_sqlite(ipocket_db::open(path, &[&INVENTORY_SCHEMA])?)
    }

    /// An inventory that lives in memory (tests, dry runs).
    pub fn open_in_memory() -> Result<Self> {
        Self::setup_sqlite(ipocket_db::open_in_memory(&[&INVENTORY_SCHEMA])?)
    }

    /// Opens the database a `--db` value names (a SQLite file or a PostgreSQL URL) and
    /// migrates the inventory's tables.
    pub fn open_url(url: &DbUrl) -> Result<Self> {
        match url {
            DbUrl::Sqlite(path) => Self::open(path),
            DbUrl::Postgres(..) => Ok(Self::on(Database::open(url, &[&INVENTORY_SCHEMA])?)),
        }
    }

    /// The inventory on a PostgreSQL database whose pool other stores share; migrates it.
    pub fn open_postgres(db: &PgDatabase) -> Result<Self> {
        db.migrate(&[&INVENTORY_SCHEMA])?;
        Ok(Self::on(Database::postgres(db.clone())))
    }

    fn setup_sqlite(conn: Connection) -> Result<Self> {
        let version = ipocket_db::recorded_version(&conn, INVENTORY_SCHEMA.name)?;
        let marker: u32 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if marker != version {
            // Builds before the registry read `user_version` as the inventory version and
            // refuse a newer one; keeping it in step keeps them from damaging a newer file.
            conn.pragma_update(None, "user_version", version)?;
        }
        Ok(Self::on(Database::sqlite(conn)))
    }

    fn on(db: Database) -> Self {
        Inventory {
            db,
            fixed_now: None,
            limits: InputLimits::default(),
            session_policy: Default::default(),
        }
    }

    /// Which backend the inventory runs on.
    pub fn backend(&self) -> Backend {
        self.db.backend()
    }

    /// The inventory's schema version in the open database (as recorded in the registry).
    pub fn schema_version(&self) -> Result<u32> {
        Ok(self.db.recorded_version(INVENTORY_SCHEMA.name)?)
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

    /// The current time as stored (`YYYY-MM-DD HH:MM:SS`, UTC): the database's clock, so
    /// that replicas on one PostgreSQL agree.
    pub fn now(&self) -> Result<String> {
        self.db.read(|c| self.now_in(c))
    }

    /// [`Inventory::now`] read through `c` (inside a transaction: its own connection).
    pub(crate) fn now_in(&self, c: &dyn Sql) -> Result<String> {
        if let Some(t) = &self.fixed_now {
            return Ok(t.clone());
        }
        Ok(c.query_one(crate::dialect::now_sql(c.backend()), &[])?
            .get(0)?)
    }

    /// Runs `f`'s reads (on PostgreSQL on one pooled connection).
    pub(crate) fn read<T>(&self, f: impl FnOnce(&dyn Sql) -> Result<T>) -> Result<T> {
        self.db.read(f)
    }

    /// Runs `f`'s reads on one snapshot of the database (a read transaction, rolled back):
    /// a read of several statements (an export, an import's dry run) sees no write committed
    /// meanwhile, from any replica.
    pub(crate) fn snapshot<T>(&self, f: impl FnOnce(&dyn Sql) -> Result<T>) -> Result<T> {
        self.db.snapshot(f)
    }

    /// Runs `f` as one write transaction, committed when it returns `Ok`, with no other
    /// inventory write in between (SQLite's `BEGIN IMMEDIATE`; on PostgreSQL the
    /// inventory's advisory lock, across replicas). Reads inside go through `f`'s argument.
    pub(crate) fn write<T>(&self, f: impl FnOnce(&dyn Sql) -> Result<T>) -> Result<T> {
        self.db.write(INVENTORY_LOCK, f)
    }

    /// [`Inventory::write`] for a write that can lose a race with another replica
    /// (next-free allocation): run again, from the start, while PostgreSQL aborts it for a
    /// concurrent transaction (40001, 40P01) or a UNIQUE constraint refuses what a
    /// concurrent writer has just taken; after [`ipocket_db::WRITE_ATTEMPTS`] runs,
    /// [`Error::Conflict`] (HTTP 409: try again). `f` builds its result from what it reads
    /// through its argument only, since a failed run left nothing behind.
    pub(crate) fn write_retrying<T>(&self, f: impl FnMut(&dyn Sql) -> Result<T>) -> Result<T> {
        let lost_a_race = |e: &Error| e.is_concurrency_abort() || e.is_unique_violation();
        self.db
            .write_retrying(INVENTORY_LOCK, lost_a_race, f)
            .map_err(|e| {
                if lost_a_race(&e) {
                    Error::Conflict(format!(
                        "concurrent writers kept this write from committing in {} attempts \
                         ({e}); try again",
                        ipocket_db::WRITE_ATTEMPTS
                    ))
                } else {
                    e
                }
            })
    }

    /// The id of the newest audit row about inventory data (0 when none): a
    /// change counter, because every mutation writes an audit row. User and API-token
    /// rows (logins, user and token management) do not count: they cannot affect an import.
    pub(crate) fn audit_mark(c: &dyn Sql) -> Result<i64> {
        Ok(c.query_opt(
            "SELECT id FROM audit_logs WHERE target_type NOT IN ('USER', 'API_TOKEN') ORDER BY id DESC LIMIT 1",
            &[],
        )?
        .map(|r| r.get::<i64>(0))
        .transpose()?
        .unwrap_or(0))
    }
}

/// Arguments built at run time, as a statement takes them.
pub(crate) fn dyn_args(values: &[rusqlite::types::Value]) -> Vec<&dyn ipocket_db::ToArg> {
    values.iter().map(|v| v as &dyn ipocket_db::ToArg).collect()
}

/// Calls `f` with each row of `sql` in turn, stopping at its first error (on SQLite one row
/// in memory at a time).
pub(crate) fn each_row(
    c: &dyn Sql,
    sql: &str,
    args: &[&dyn ipocket_db::ToArg],
    mut f: impl FnMut(ipocket_db::Row) -> Result<()>,
) -> Result<()> {
    let mut failed = None;
    c.for_each_row(sql, args, &mut |r| match f(r) {
        Ok(()) => std::ops::ControlFlow::Continue(()),
        Err(e) => {
            failed = Some(e);
            std::ops::ControlFlow::Break(())
        }
    })?;
    failed.map_or(Ok(()), Err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SCHEMA_VERSION;

    #[test]
    fn fresh_database_is_at_the_newest_version_with_pragmas() {
        let dir = tempfile::tempdir().unwrap();
        let inv = Inventory::open(dir.path().join("i.db")).unwrap();
        assert_eq!(inv.schema_version().unwrap(), SCHEMA_VERSION);
        let mode: String = inv
            .db
            .sqlite_connection()
            .unwrap()
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        let fk: i64 = inv
            .db
            .sqlite_connection()
            .unwrap()
            .pragma_query_value(None, "foreign_keys", |r| r.get(0))
            .unwrap();
        assert_eq!(fk, 1);
        let bt: i64 = inv
            .db
            .sqlite_connection()
            .unwrap()
            .pragma_query_value(None, "busy_timeout", |r| r.get(0))
            .unwrap();
        assert_eq!(bt, 5000);
        let marker: u32 = inv
            .db
            .sqlite_connection()
            .unwrap()
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

    #[test]
    fn a_write_that_keeps_losing_races_is_a_conflict_after_its_attempts() {
        let url = DbUrl::parse(&ipocket_testkit::postgres::Postgres::shared().fresh_db()).unwrap();
        let inv = Inventory::open_url(&url).unwrap();
        let mut runs = 0;
        let e = inv
            .write_retrying(|tx| {
                runs += 1;
                tx.execute(
                    "DO $$ BEGIN RAISE EXCEPTION 'lost' USING ERRCODE = '40001'; END $$",
                    &[],
                )?;
                Ok(())
            })
            .unwrap_err();
        assert_eq!(runs, ipocket_db::WRITE_ATTEMPTS);
        assert!(
            matches!(&e, Error::Conflict(m) if m.starts_with("concurrent writers kept this write from committing in 5 attempts") && m.contains("40001")),
            "{e}"
        );
        assert_eq!(
            ipocket_errors::Classify::kind(&e),
            ipocket_errors::ErrorKind::Conflict
        );
        // Any other error is returned as it is, after one run.
        let mut runs = 0;
        let e = inv
            .write_retrying(|_| -> Result<()> {
                runs += 1;
                Err(Error::invalid("x", "bad"))
            })
            .unwrap_err();
        assert!(matches!(e, Error::Invalid { .. }) && runs == 1, "{e}");
    }
}
