//! Rendered bodies of the hot read endpoints (`/metrics` gauges, `/sd/node`, `/api/v1/sd`),
//! kept until the database changes.
//!
//! The key of freshness is SQLite's `data_version` ([`ipocket_db::data_version`]) read on a
//! connection of its own
//! that never writes: it changes whenever any other connection commits, so writes through
//! this server, `ipocket` commands run beside it and other processes all invalidate the
//! bodies, and nothing has to remember to bump a counter. Reading it costs microseconds;
//! rendering SD for 100,000 assets costs far more (docs/benchmarks.md).

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

use hyper::body::Bytes;
use rusqlite::Connection;

use super::errors::ApiError;

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
    probe: Mutex<Connection>,
    entries: Mutex<HashMap<String, (i64, Arc<Rendered>)>>,
    /// One render at a time: a burst of misses renders once, the others wait and reuse it.
    rendering: tokio::sync::Mutex<()>,
}

impl RenderCache {
    pub(crate) fn open(db: &Path) -> ipocket_db::Result<Self> {
        let probe = ipocket_db::open_read_only(db)?;
        Ok(RenderCache {
            probe: Mutex::new(probe),
            entries: Mutex::default(),
            rendering: tokio::sync::Mutex::new(()),
        })
    }

    /// The database's change counter as seen from the probe connection.
    fn version(&self) -> Result<i64, ApiError> {
        let probe = self.probe.lock().unwrap_or_else(|p| p.into_inner());
        ipocket_db::data_version(&probe).map_err(|e| {
            tracing::error!("reading data_version failed: {e}");
            ApiError::internal()
        })
    }

    fn fresh(&self, key: &str, version: i64) -> Option<Arc<Rendered>> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_commit_elsewhere_invalidates() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("c.db");
        let writer = ipocket_db::open(&db, &[]).unwrap();
        writer.execute_batch("CREATE TABLE t (x INTEGER);").unwrap();
        let cache = RenderCache::open(&db).unwrap();
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
