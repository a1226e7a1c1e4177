//! Opening a connection: the pragmas every ipocket connection runs with.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use crate::error::Result;
use crate::registry::{migrate, Component};

/// How long a connection waits for another one's write lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Opens (creating if missing) the database file at `path`, sets the pragmas (see
/// [`configure`]) and brings `components` up to date (see [`migrate`]).
///
/// ```
/// let dir = tempfile::tempdir()?;
/// let conn = ipocket_db::open(dir.path().join("a.db"), &[])?;
/// let mode: String = conn.pragma_query_value(None, "journal_mode", |r| r.get(0))?;
/// assert_eq!(mode, "wal");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn open(path: impl AsRef<Path>, components: &[&Component]) -> Result<Connection> {
    let mut conn = Connection::open(path)?;
    // 8 KiB pages: fewer B-tree splits in the wide metric_samples series index, measured
    // 208,000 -> 335,000 samples/s stored (docs/benchmarks.md). Only takes effect on a new
    // file, so it goes before anything is written, WAL mode included.
    conn.pragma_update(None, "page_size", 8192)?;
    // WAL: readers (the server's reader connections, the render cache probe, CLI commands
    // run beside the server) never block the writer, and the writer never blocks them.
    conn.pragma_update(None, "journal_mode", "WAL")?;
    configure(&conn)?;
    migrate(&mut conn, components)?;
    Ok(conn)
}

/// An in-memory database (tests, dry runs) with the same pragmas as [`open`] (but no WAL,
/// which needs a file) and `components` applied.
pub fn open_in_memory(components: &[&Component]) -> Result<Connection> {
    let mut conn = Connection::open_in_memory()?;
    configure(&conn)?;
    migrate(&mut conn, components)?;
    Ok(conn)
}

/// Sets the per-connection pragmas (they are not stored in the file, so every connection
/// needs them). [`open`] calls it; call it on a connection opened some other way.
pub fn configure(conn: &Connection) -> Result<()> {
    // Several connections and processes share the file: wait for a write lock rather than
    // fail with SQLITE_BUSY at once.
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // Off by default in SQLite, per connection; the schemas rely on ON DELETE CASCADE /
    // SET NULL / RESTRICT (tags, hosts, rule groups).
    conn.pragma_update(None, "foreign_keys", true)?;
    // With WAL, NORMAL syncs at checkpoints only: a power cut may lose the last commits
    // but never corrupts the file, and a commit costs no fsync.
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    // 64 MiB page cache (an upper bound, filled on demand): large import transactions and
    // the growing series index stay in memory instead of spilling.
    conn.pragma_update(None, "cache_size", -65536)?;
    // Sorts and temporary indexes of big queries stay in memory, off the disk.
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    Ok(())
}

/// A read-only connection that never migrates: for probes such as [`data_version`].
pub fn open_read_only(path: impl AsRef<Path>) -> Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    Ok(conn)
}

/// The file's change counter as seen from `conn`: it changes whenever another connection
/// commits (SQLite's `PRAGMA data_version`), so it tells a cache whether the data changed.
///
/// ```
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("a.db");
/// let writer = ipocket_db::open(&path, &[])?;
/// let probe = ipocket_db::open_read_only(&path)?;
/// let before = ipocket_db::data_version(&probe)?;
/// writer.execute_batch("CREATE TABLE t (x INTEGER)")?;
/// assert_ne!(ipocket_db::data_version(&probe)?, before);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn data_version(conn: &Connection) -> Result<i64> {
    Ok(conn.pragma_query_value(None, "data_version", |r| r.get(0))?)
}
