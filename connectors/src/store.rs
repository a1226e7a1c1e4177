//! The `metric_samples` table in SQLite, and the registry of known servers.

use std::path::Path;

use ipocket_db::{AuditActor, AuditRow, Component, Migration, Step};
use rusqlite::{params, Connection, OptionalExtension, Transaction};

use crate::error::StoreError;

/// Rows one retention sweep batch deletes at most.
pub const SWEEP_BATCH: u64 = 10_000;

/// The samples store's tables, as the `samples` component of the migration registry
/// (`ipocket-db`). Never edit a released step: add the next version (docs/database.md).
pub static SAMPLES_SCHEMA: Component = Component {
    name: "samples",
    migrations: &[Migration {
        version: 1,
        name: "servers and metric_samples",
        step: Step::Sql(SCHEMA_1),
    }],
    legacy_version: Some(legacy_version),
};

/// Before the registry these tables were made unversioned; if they are there, they are
/// version 1.
fn legacy_version(tx: &Transaction<'_>) -> rusqlite::Result<u32> {
    tx.query_row(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'metric_samples'",
        [],
        |r| r.get(0),
    )
}

/// Version 1 (the unversioned schema of earlier builds, hence `IF NOT EXISTS`).
const SCHEMA_1: &str = "
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
";

pub(crate) const INSERT_SAMPLE: &str = "INSERT INTO metric_samples \
    (server_id, metric_name, metric_type, labels, value, timestamp, help_text, unit) \
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";

/// One stored sample, as [`SampleStore::latest`] returns it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSample {
    /// The sample name as exposed (`node_cpu_seconds_total`, `x_bucket`, …).
    pub metric_name: String,
    /// `counter`, `gauge`, `histogram`, `summary`, `untyped`, … (the family's type).
    pub metric_type: String,
    /// Canonical JSON of the labels: an object with keys sorted, no `__name__`.
    pub labels: String,
    /// The value; SQLite cannot store NaN, so NaN is stored as NULL and read back as NaN.
    pub value: f64,
    /// Milliseconds since the Unix epoch.
    pub timestamp_ms: i64,
    /// The family's HELP text.
    pub help: Option<String>,
    /// The family's UNIT (OpenMetrics).
    pub unit: Option<String>,
}

/// A registered server, as [`SampleStore::registered_servers`] returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisteredServer {
    /// The agent's `server_id`.
    pub server_id: String,
    /// The display name given at registration.
    pub name: Option<String>,
    /// When it was registered (ms since the epoch).
    pub created_at_ms: i64,
    /// Its last accepted push (ms since the epoch), `None` before the first.
    pub last_seen_at_ms: Option<i64>,
}

fn valid_server_id(id: &str) -> bool {
    let b = id.as_bytes();
    !b.is_empty()
        && b.len() <= 64
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
}

/// The samples store: one SQLite file (WAL mode) with the `servers` and `metric_samples`
/// tables. Samples are written by [`crate::ingest`], one transaction per push.
///
/// ```
/// use ipocket_connectors::SampleStore;
/// let dir = tempfile::tempdir()?;
/// let mut store = SampleStore::open(dir.path().join("samples.db"))?;
/// store.register_server("web-01", Some("web 01"))?;
/// assert!(store.is_registered("web-01")?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct SampleStore {
    pub(crate) conn: Connection,
}

impl SampleStore {
    /// Opens (and creates if needed) the store at `path` and migrates its tables.
    ///
    /// The pragmas (8 KiB pages on a new file, WAL, 64 MiB cache, …) are `ipocket-db`'s
    /// (docs/database.md).
    pub fn open(path: impl AsRef<Path>) -> Result<SampleStore, StoreError> {
        let conn = ipocket_db::open(path, &[&SAMPLES_SCHEMA])?;
        Ok(SampleStore { conn })
    }

    /// Checks a server id: 1–64 ASCII letters, digits and hyphens, not starting or ending with a
    /// hyphen (what the original agent allows; UUIDs pass).
    ///
    /// ```
    /// use ipocket_connectors::SampleStore;
    /// assert!(SampleStore::valid_server_id("3f2504e0-4f89-11d3-9a0c-0305e82c3301"));
    /// assert!(SampleStore::valid_server_id("web01"));
    /// assert!(!SampleStore::valid_server_id("-web01"));
    /// assert!(!SampleStore::valid_server_id("web 01"));
    /// ```
    pub fn valid_server_id(id: &str) -> bool {
        valid_server_id(id)
    }

    /// Adds `server_id` to the registry (no-op if it is there; the name is updated), as the
    /// system: see [`SampleStore::register_server_as`].
    pub fn register_server(
        &mut self,
        server_id: &str,
        name: Option<&str>,
    ) -> Result<(), StoreError> {
        self.register_server_as(server_id, name, &AuditActor::system())
    }

    /// [`SampleStore::register_server`] by `actor`: a new server, or a new name, leaves an
    /// `INGEST_SERVER` row in the inventory's audit log (when the file holds it), in the same
    /// transaction. Registering again unchanged writes nothing.
    ///
    /// ```
    /// use ipocket_connectors::SampleStore;
    /// use ipocket_db::AuditActor;
    /// let dir = tempfile::tempdir()?;
    /// let db = dir.path().join("ipocket.db");
    /// let inv = ipocket_core::Inventory::open(&db)?;
    /// let mut store = SampleStore::open(&db)?;
    /// let ed = AuditActor { user_id: None, username: Some("ed".into()) };
    /// store.register_server_as("web-01", Some("web"), &ed)?;
    /// store.register_server_as("web-01", Some("web"), &ed)?;
    /// let log = inv.audit_log(&Default::default(), ipocket_core::Page::all())?;
    /// assert_eq!(log.total, 1);
    /// assert_eq!((log.items[0].target_type.as_str(), log.items[0].username.as_deref()), ("INGEST_SERVER", Some("ed")));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn register_server_as(
        &mut self,
        server_id: &str,
        name: Option<&str>,
        actor: &AuditActor,
    ) -> Result<(), StoreError> {
        if !valid_server_id(server_id) {
            return Err(StoreError::InvalidServerId(server_id.to_string()));
        }
        // IMMEDIATE: read-then-write in a deferred transaction fails at once (SQLITE_BUSY)
        // when another connection committed in between.
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let before: Option<Option<String>> = tx
            .query_row(
                "SELECT name FROM servers WHERE server_id = ?1",
                [server_id],
                |r| r.get(0),
            )
            .optional()?;
        let action = match &before {
            None => "CREATE",
            Some(old) if old.as_deref() != name => "UPDATE",
            Some(_) => return Ok(()),
        };
        tx.execute(
            "INSERT INTO servers (server_id, name, created_at) VALUES (?1, ?2, ?3)
             ON CONFLICT(server_id) DO UPDATE SET name = excluded.name",
            params![server_id, name, now_ms()],
        )?;
        if ipocket_db::has_audit_log(&tx)? {
            let changes = serde_json::json!([{
                "field": "name", "before": before.flatten(), "after": name,
            }])
            .to_string();
            ipocket_db::write_audit_row(
                &tx,
                actor,
                &AuditRow {
                    target_type: "INGEST_SERVER",
                    target_id: 0,
                    target_label: server_id,
                    action,
                    changes: Some(&changes),
                    message: None,
                    created_at: None,
                },
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Whether `server_id` is registered.
    pub fn is_registered(&self, server_id: &str) -> Result<bool, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT 1 FROM servers WHERE server_id = ?1")?
            .query_row([server_id], |_| Ok(()))
            .optional()?
            .is_some())
    }

    /// Registered servers with their last push time (ms), ordered by id.
    pub fn servers(&self) -> Result<Vec<(String, Option<i64>)>, StoreError> {
        let mut st = self
            .conn
            .prepare("SELECT server_id, last_seen_at FROM servers ORDER BY server_id")?;
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Registered servers with name, registration time and last push, ordered by id.
    ///
    /// ```
    /// use ipocket_connectors::SampleStore;
    /// let dir = tempfile::tempdir()?;
    /// let mut store = SampleStore::open(dir.path().join("samples.db"))?;
    /// store.register_server("web-01", Some("web 01"))?;
    /// let all = store.registered_servers()?;
    /// assert_eq!((all[0].name.as_deref(), all[0].last_seen_at_ms), (Some("web 01"), None));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn registered_servers(&self) -> Result<Vec<RegisteredServer>, StoreError> {
        let mut st = self.conn.prepare(
            "SELECT server_id, name, created_at, last_seen_at FROM servers ORDER BY server_id",
        )?;
        let rows = st.query_map([], |r| {
            Ok(RegisteredServer {
                server_id: r.get(0)?,
                name: r.get(1)?,
                created_at_ms: r.get(2)?,
                last_seen_at_ms: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The latest sample of every series of `metric_name` for `server_id` whose labels match
    /// all `(name, value)` pairs of `filters`, ordered by labels.
    ///
    /// Uses the `(server_id, metric_name, labels, timestamp)` index; filters are checked with
    /// `json_extract` on the rows of that metric only. Every series at once: a front end that
    /// answers strangers pages with [`SampleStore::latest_page`].
    pub fn latest(
        &self,
        server_id: &str,
        metric_name: &str,
        filters: &[(&str, &str)],
    ) -> Result<Vec<StoredSample>, StoreError> {
        self.latest_rows(server_id, metric_name, filters, None, i64::MAX)
    }

    /// One page of [`SampleStore::latest`]: at most `limit` series whose labels sort after
    /// `after` (the `labels` of the last sample of the previous page; `None` for the first),
    /// and whether more follow. Each page seeks in the index, so the last page of a million
    /// series costs what the first does.
    ///
    /// ```
    /// use ipocket_connectors::{ingest, IngestOptions, IngestRequest, SampleStore};
    /// let dir = tempfile::tempdir()?;
    /// let mut store = SampleStore::open(dir.path().join("s.db"))?;
    /// store.register_server("web-01", None)?;
    /// let body = b"x{i=\"1\"} 1\nx{i=\"2\"} 2\nx{i=\"3\"} 3\n";
    /// let req = IngestRequest { server_id: Some("web-01"), content_type: None, body };
    /// ingest(&mut store, &req, &IngestOptions::default(), 0)?;
    /// let (first, more) = store.latest_page("web-01", "x", &[], None, 2)?;
    /// assert_eq!((first.len(), more), (2, true));
    /// let (rest, more) = store.latest_page("web-01", "x", &[], Some(&first[1].labels), 2)?;
    /// assert_eq!((rest[0].value, more), (3.0, false));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn latest_page(
        &self,
        server_id: &str,
        metric_name: &str,
        filters: &[(&str, &str)],
        after: Option<&str>,
        limit: usize,
    ) -> Result<(Vec<StoredSample>, bool), StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX - 1);
        // One row more than asked tells whether another page follows.
        let mut rows = self.latest_rows(server_id, metric_name, filters, after, limit + 1)?;
        let more = rows.len() as i64 > limit;
        rows.truncate(limit as usize);
        Ok((rows, more))
    }

    fn latest_rows(
        &self,
        server_id: &str,
        metric_name: &str,
        filters: &[(&str, &str)],
        after: Option<&str>,
        limit: i64,
    ) -> Result<Vec<StoredSample>, StoreError> {
        let mut sql = String::from(
            "SELECT metric_name, metric_type, labels, value, max(timestamp), help_text, unit \
             FROM metric_samples WHERE server_id = ?1 AND metric_name = ?2",
        );
        let mut args: Vec<rusqlite::types::Value> =
            vec![server_id.to_string().into(), metric_name.to_string().into()];
        if let Some(after) = after {
            args.push(after.to_string().into());
            sql.push_str(&format!(" AND labels > ?{}", args.len()));
        }
        for (name, value) in filters {
            args.push(format!("$.\"{}\"", name.replace('"', "")).into());
            args.push((*value).to_string().into());
            sql.push_str(&format!(
                " AND json_extract(labels, ?{}) = ?{}",
                args.len() - 1,
                args.len()
            ));
        }
        args.push(limit.into());
        sql.push_str(&format!(
            " GROUP BY labels ORDER BY labels LIMIT ?{}",
            args.len()
        ));
        let mut st = self.conn.prepare_cached(&sql)?;
        let rows = st.query_map(rusqlite::params_from_iter(args.iter()), |r| {
            Ok(StoredSample {
                metric_name: r.get(0)?,
                metric_type: r.get(1)?,
                labels: r.get(2)?,
                value: r.get::<_, Option<f64>>(3)?.unwrap_or(f64::NAN),
                timestamp_ms: r.get(4)?,
                help: r.get(5)?,
                unit: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Number of stored samples (for one server, or all).
    pub fn count(&self, server_id: Option<&str>) -> Result<u64, StoreError> {
        let n: i64 = match server_id {
            Some(id) => self.conn.query_row(
                "SELECT count(*) FROM metric_samples WHERE server_id = ?1",
                [id],
                |r| r.get(0),
            )?,
            None => self
                .conn
                .query_row("SELECT count(*) FROM metric_samples", [], |r| r.get(0))?,
        };
        Ok(n as u64)
    }

    /// Retention sweep: deletes samples older than `cutoff_ms` in batches of
    /// [`SWEEP_BATCH`] rows (one short transaction each). Returns rows deleted.
    pub fn sweep_older_than(&mut self, cutoff_ms: i64) -> Result<u64, StoreError> {
        let mut total = 0u64;
        loop {
            let n = self.sweep_batch_older_than(cutoff_ms)?;
            total += n;
            if n < SWEEP_BATCH {
                return Ok(total);
            }
        }
    }

    /// One batch of the retention sweep: deletes up to [`SWEEP_BATCH`] samples older than
    /// `cutoff_ms`. A caller that shares the store releases it between batches, so pushes
    /// wait for one batch at most.
    pub fn sweep_batch_older_than(&mut self, cutoff_ms: i64) -> Result<u64, StoreError> {
        let n = self.conn.execute(
            "DELETE FROM metric_samples WHERE id IN \
             (SELECT id FROM metric_samples WHERE timestamp < ?1 LIMIT ?2)",
            params![cutoff_ms, SWEEP_BATCH as i64],
        )?;
        Ok(n as u64)
    }

    /// The underlying connection, for queries this type does not offer.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }
}

/// Milliseconds since the Unix epoch, now.
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
