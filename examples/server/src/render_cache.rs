//! Rendered bodies of the hot read endpoints (`/metrics` gauges, `/sd/node`, `/api/v1/sd`),
//! kept until the database changes.
//!
//! On SQLite the key of freshness is `data_version` ([`ipocket_db::data_version`]) read on a
//! connection of its own
//! that never writes: it changes whenever any other connection commits, so writes through
//! this server, `ipocket` commands run beside it and other processes all invalidate the
//! bodies, and nothing has to remember to bump a counter. Reading it costs microseconds;
//! rendering SD for 100,000 assets costs far more (docs/benchmarks.md).
//!
//! PostgreSQL has no such counter that every replica sees, but every inventory write leaves
//! audit rows in the same transaction (and the cached bodies are made of inventory rows
//! only), so the audit log is one: its newest id, and how many rows the newest
//! [`AUDIT_TAIL`] ids hold. The count catches a transaction that took a lower id but
//! committed after a newer one was seen (the stores' writes are serialised per store, not
//! with each other), and a pruned log changes the newest id or leaves the tail alone. Both
//! come from the primary key's index: a short range scan, whatever the log's size.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use hyper::body::Bytes;
use ipocket_db::{Backend, Database, Sql};

use super::errors::ApiError;
use crate::shared_db::SharedDb;

/// The audit ids whose rows are counted in PostgreSQL's change signal: far more than the
/// writes that can be in flight at once.
const AUDIT_TAIL: i64 = 1000;

/// What the bodies were rendered from: SQLite's `data_version`, or PostgreSQL's audit log
/// signal (newest id, rows in the tail).
type Version = (i64, i64);

/// Bodies kept per route and query; a burst of distinct queries cannot grow it further.
const MAX_ENTRIES: usize = 64;

/// One rendered body, and its gzip form made on the first request that accepts it.
pub(crate) struct Rendered {
    pub(crate) raw: Bytes,
    gzip: OnceLock<Bytes>,
}

impl Rendered {
    /// The gzip form (fast level: SD bodies are large and change with every write).
    pub(crate) fn gzip(&self) -> Bytes {
        self.gzip
            .get_or_init(|| {
                use std::io::Write;
                let mut enc = flate2::write::GzEncoder::new(
                    Vec::with_capacity(self.raw.len() / 8),
                    flate2::Compression::fast(),
                );
                // Writing to a Vec cannot fail.
                let _ = enc.write_all(&self.raw);
                Bytes::from(enc.finish().unwrap_or_default())
            })
            .clone()
    }
}

pub(crate) struct RenderCache {
    probe: Mutex<Database>,
    entries: Mutex<HashMap<String, (Version, Arc<Rendered>)>>,
    /// One render at a time: a burst of misses renders once, the others wait and reuse it.
    rendering: tokio::sync::Mutex<()>,
}

impl RenderCache {
    pub(crate) fn open(db: &SharedDb) -> ipocket_db::Result<Self> {
        let probe = db.own_handle()?;
        Ok(RenderCache {
            probe: Mutex::new(probe),
            entries: Mutex::default(),
            rendering: tokio::sync::Mutex::new(()),
        })
    }

    /// The database's change signal as seen from the probe: any commit (SQLite), or any
    /// audited write of any replica (PostgreSQL) changes it.
    pub(crate) fn version(&self) -> Result<Version, ApiError> {
        let probe = self.probe.lock().unwrap_or_else(|p| p.into_inner());
        let read = match probe.sqlite_connection() {
            Some(conn) => ipocket_db::data_version(conn).map(|v| (v, 0)),
            None => probe.read(|c| audit_signal(c, "%")),
        };
        read.map_err(|e| {
            tracing::error!("reading the database's change signal failed: {e}");
            ApiError::internal()
        })
    }

    /// PostgreSQL's change signal of the rule store alone (its audit rows' target types
    /// start with `ALERT_`), for the leader of the rule regeneration: what the audit tail
    /// holds of them.
    pub(crate) fn rules_version(&self) -> Result<Version, ApiError> {
        let probe = self.probe.lock().unwrap_or_else(|p| p.into_inner());
        probe.read(|c| audit_signal(c, "ALERT_%")).map_err(|e| {
            tracing::error!("reading the rule store's change signal failed: {e}");
            ApiError::internal()
        })
    }

    fn fresh(&self, key: &str, version: Version) -> Option<Arc<Rendered>> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries
            .get(key)
            .filter(|(v, _)| *v == version)
            .map(|(_, b)| b.clone())
    }

    /// The body for `key`: the kept one if the database has not changed since it was
    /// rendered, else `render()`'s (kept for the next callers).
    pub(crate) async fn get_or_render<F, Fut>(
        &self,
        key: String,
        render: F,
    ) -> Result<Arc<Rendered>, ApiError>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<Bytes, ApiError>>,
    {
        if let Some(b) = self.fresh(&key, self.version()?) {
            return Ok(b);
        }
        let _one = self.rendering.lock().await;
        // Read before rendering: a commit during the render leaves the entry stale, never wrong.
        let version = self.version()?;
        if let Some(b) = self.fresh(&key, version) {
            return Ok(b);
        }
        let body = Arc::new(Rendered {
            raw: render().await?,
            gzip: OnceLock::new(),
        });
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.retain(|_, (v, _)| *v == version);
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(key, (version, body.clone()));
        Ok(body)
    }
}

/// PostgreSQL's change signal (see the module's comment), of the audit rows whose target
/// type is `LIKE target_types`: the newest such id in the tail, and how many the tail holds.
fn audit_signal(c: &dyn Sql, target_types: &str) -> ipocket_db::Result<Version> {
    debug_assert_eq!(c.backend(), Backend::Postgres);
    let newest: i64 = c
        .query_one("SELECT coalesce(max(id), 0) FROM audit_logs", &[])?
        .get(0)?;
    let row = c.query_one(
        "SELECT coalesce(max(id), 0), count(*) FROM audit_logs \
         WHERE id > ?1 AND target_type LIKE ?2",
        &[&(newest - AUDIT_TAIL), &target_types],
    )?;
    Ok((row.get(0)?, row.get(1)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_commit_elsewhere_invalidates() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("c.db");
        let writer = ipocket_db::open(&db, &[]).unwrap();
        writer.execute_batch("CREATE TABLE t (x INTEGER);").unwrap();
        let cache = RenderCache::open(&SharedDb::Sqlite(db.clone())).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let renders = std::cell::Cell::new(0);
        let get = || {
            rt.block_on(cache.get_or_render("k".into(), || async {
                renders.set(renders.get() + 1);
                Ok(Bytes::from(renders.get().to_string()))
            }))
            .unwrap()
        };
        assert_eq!(get().raw, "1");
        assert_eq!(get().raw, "1", "unchanged database: the kept body");
        writer.execute("INSERT INTO t VALUES (1)", []).unwrap();
        assert_eq!(
            get().raw,
            "2",
            "a commit by another connection: rendered again"
        );
        let kept = get();
        assert_eq!(kept.raw, "2");
        let mut back = String::new();
        use std::io::Read;
        flate2::read::GzDecoder::new(&kept.gzip()[..])
            .read_to_string(&mut back)
            .unwrap();
        assert_eq!(back, "2");
    }
}

#[cfg(test)]
mod postgres_tests {
    use super::*;
    use ipocket_core::{Actor, AssetType, NewIpAsset};

    fn count_renders(
        cache: &RenderCache,
        rt: &tokio::runtime::Runtime,
        n: &std::cell::Cell<u32>,
    ) -> Bytes {
        rt.block_on(cache.get_or_render("k".into(), || async {
            n.set(n.get() + 1);
            Ok(Bytes::from(n.get().to_string()))
        }))
        .unwrap()
        .raw
        .clone()
    }

    /// Another replica's write, and a write that commits with an older id than one already
    /// seen, both invalidate the bodies this replica kept.
    #[test]
    fn a_write_through_another_replica_invalidates() {
        let url = ipocket_testkit::postgres::Postgres::shared().fresh_db();
        let url = ipocket_db::DbUrl::parse(&url).unwrap();
        let here = SharedDb::open(&url, 2, false).unwrap();
        let there = SharedDb::open(&url, 2, false).unwrap();
        let cache = RenderCache::open(&here).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let n = std::cell::Cell::new(0);
        assert_eq!(count_renders(&cache, &rt, &n), "1");
        assert_eq!(count_renders(&cache, &rt, &n), "1", "nothing changed: kept");
        let mut inv = there.inventory().unwrap();
        inv.create_ip_asset(
            &Actor::system(),
            &NewIpAsset::new("10.0.0.1", AssetType::Vm),
        )
        .unwrap();
        assert_eq!(
            count_renders(&cache, &rt, &n),
            "2",
            "the other replica's write"
        );
        assert_eq!(count_renders(&cache, &rt, &n), "2");
        let SharedDb::Postgres { pool, .. } = &there else {
            unreachable!()
        };
        // What a transaction that took its id before the newest one and committed after
        // does.
        Database::postgres(pool.clone())
            .write(1, |tx| {
                tx.execute(
                    "INSERT INTO audit_logs (id, target_type, target_id, target_label, action, \
                     changes, created_at) \
                     VALUES (0, 'ip_asset', 1, 'x', 'UPDATE', '', '2026-01-01 00:00:00')",
                    &[],
                )
            })
            .unwrap_or_else(|e| panic!("insert: {e}"));
        assert_eq!(
            count_renders(&cache, &rt, &n),
            "3",
            "a late commit of an older id"
        );
    }
}
