//! `/health`'s look at the database: which backend, whether it answers (within
//! [`CHECK_TIMEOUT`]), and each schema component's recorded version against this build's.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use ipocket_db::{Backend, Database};
use serde::Serialize;

use crate::shared_db::SharedDb;
use crate::SCHEMAS;

/// Longer than this and the database counts as unreachable (a load balancer's probe must
/// get an answer, not wait for the pool's own timeouts).
const CHECK_TIMEOUT: Duration = Duration::from_secs(5);

pub(crate) struct DbHealth {
    /// A read-only connection (SQLite) or the shared pool (PostgreSQL).
    probe: Arc<Mutex<Database>>,
    backend: Backend,
}

/// What `/health` reports under `database`.
#[derive(Serialize, Debug)]
pub(crate) struct DbReport {
    backend: &'static str,
    reachable: bool,
    /// Every component at this build's version.
    schema_current: bool,
    components: Vec<ComponentVersion>,
    /// Why the database is not usable, when it is not.
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

#[derive(Serialize, Debug)]
struct ComponentVersion {
    name: &'static str,
    version: u32,
    latest: u32,
}

impl DbReport {
    pub(crate) fn ok(&self) -> bool {
        self.reachable && self.schema_current
    }
}

impl DbHealth {
    pub(crate) fn open(db: &SharedDb) -> ipocket_db::Result<DbHealth> {
        let probe = db.own_handle()?;
        Ok(DbHealth {
            backend: probe.backend(),
            probe: Arc::new(Mutex::new(probe)),
        })
    }

    pub(crate) async fn check(&self) -> DbReport {
        let probe = Arc::clone(&self.probe);
        let read = tokio::task::spawn_blocking(move || {
            let probe = probe.lock().unwrap_or_else(|p| p.into_inner());
            // One statement (one round trip on PostgreSQL) for every component's version.
            let recorded = probe.read(|c| {
                c.query(
                    "SELECT component, MAX(version) FROM schema_migrations GROUP BY component",
                    &[],
                )?
                .iter()
                .map(|r| Ok((r.get::<String>(0)?, r.get::<u32>(1)?)))
                .collect::<ipocket_db::Result<Vec<_>>>()
            })?;
            Ok::<_, ipocket_db::Error>(
                SCHEMAS
                    .iter()
                    .map(|c| ComponentVersion {
                        name: c.name,
                        version: recorded
                            .iter()
                            .find(|(name, _)| name == c.name)
                            .map_or(0, |(_, v)| *v),
                        latest: c.latest(),
                    })
                    .collect::<Vec<_>>(),
            )
        });
        let backend = match self.backend {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        };
        let unreachable = |why: String| DbReport {
            backend,
            reachable: false,
            schema_current: false,
            components: Vec::new(),
            error: Some(why),
        };
        match tokio::time::timeout(CHECK_TIMEOUT, read).await {
            Err(_) => unreachable(format!(
                "the database did not answer within {} s",
                CHECK_TIMEOUT.as_secs()
            )),
            Ok(Err(_)) => unreachable("the database check failed".into()),
            Ok(Ok(Err(e))) => {
                tracing::warn!("/health: the database does not answer: {e}");
                unreachable(e.to_string())
            }
            Ok(Ok(Ok(components))) => {
                let stale: Vec<String> = components
                    .iter()
                    .filter(|c| c.version != c.latest)
                    .map(|c| {
                        format!(
                            "{} is at schema version {}, this build runs on {}",
                            c.name, c.version, c.latest
                        )
                    })
                    .collect();
                DbReport {
                    backend,
                    reachable: true,
                    schema_current: stale.is_empty(),
                    components,
                    error: (!stale.is_empty()).then(|| stale.join("; ")),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ipocket_db::DbUrl;
    use ipocket_testkit::postgres::Postgres;

    fn check(h: &DbHealth) -> serde_json::Value {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let report = rt.block_on(h.check());
        let mut v = serde_json::to_value(&report).unwrap();
        v["ok"] = report.ok().into();
        v
    }

    #[test]
    fn sqlite_current_then_behind() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.db");
        let db = SharedDb::open(&DbUrl::Sqlite(path.clone()), 1, false).unwrap();
        ipocket_db::open(&path, &SCHEMAS).unwrap();
        let h = DbHealth::open(&db).unwrap();
        let v = check(&h);
        assert_eq!(v["backend"], "sqlite");
        assert_eq!(v["ok"], true, "{v}");
        assert_eq!(v["components"].as_array().unwrap().len(), SCHEMAS.len());
        rusqlite::Connection::open(&path)
            .unwrap()
            .execute("DELETE FROM schema_migrations WHERE component = 'rulegen' AND version = (SELECT max(version) FROM schema_migrations WHERE component = 'rulegen')", [])
            .unwrap();
        let v = check(&h);
        assert_eq!(
            (v["ok"].clone(), v["reachable"].clone()),
            (false.into(), true.into())
        );
        assert!(
            v["error"]
                .as_str()
                .unwrap()
                .contains("rulegen is at schema version"),
            "{v}"
        );
    }

    /// A PostgreSQL that stops taking connections: not ok, with PostgreSQL's reason.
    #[test]
    fn postgres_reachable_then_refusing() {
        let pg = Postgres::shared();
        let url = pg.fresh_db();
        let name = url.rsplit('/').next().unwrap().to_string();
        let db = SharedDb::open(&DbUrl::parse(&url).unwrap(), 2, false).unwrap();
        let h = DbHealth::open(&db).unwrap();
        let v = check(&h);
        assert_eq!(
            (v["backend"].clone(), v["ok"].clone()),
            ("postgres".into(), true.into()),
            "{v}"
        );
        pg.psql(
            "postgres",
            &format!(
                "ALTER DATABASE {name} ALLOW_CONNECTIONS false; \
                 SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
            ),
        );
        let v = check(&h);
        assert_eq!(
            (v["ok"].clone(), v["reachable"].clone()),
            (false.into(), false.into()),
            "{v}"
        );
        assert!(
            v["error"]
                .as_str()
                .unwrap()
                .contains("not currently accepting connections"),
            "{v}"
        );
        pg.psql(
            "postgres",
            &format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true"),
        );
        assert_eq!(check(&h)["ok"], true, "back when the database is");
    }
}
