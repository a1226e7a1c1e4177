//! The database every store of the server opens: one SQLite file (each store its own
//! connections, as before), or one PostgreSQL pool that every store of this replica shares
//! (`--db-pool-size` connections at most).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use ipocket_connectors::jobs::JobStore;
use ipocket_connectors::SampleStore;
use ipocket_core::Inventory;
use ipocket_db::{Database, DbUrl, PgDatabase, PoolLimits};
use ipocket_rulegen::RuleStore;

use crate::SCHEMAS;

/// The server's database, as `--db` named it.
#[derive(Clone)]
pub(crate) enum SharedDb {
    Sqlite(PathBuf),
    Postgres {
        pool: PgDatabase,
        url: DbUrl,
        /// This replica's `application_name` (see [`replica_name`]).
        name: String,
    },
}

impl SharedDb {
    /// Opens `url`: the schema brought up to date (once, under the migration lock on
    /// PostgreSQL) or, with `no_migrate`, checked without any change.
    pub(crate) fn open(url: &DbUrl, pool_size: usize, no_migrate: bool) -> Result<SharedDb> {
        match url {
            DbUrl::Sqlite(path) => {
                if no_migrate {
                    sqlite_schema_is_current(path)?;
                }
                Ok(SharedDb::Sqlite(path.clone()))
            }
            DbUrl::Postgres(config, _) => {
                let limits = PoolLimits {
                    max_size: pool_size,
                    ..PoolLimits::default()
                };
                // Each replica's sessions carry its name, so a starting replica sees the
                // others (`other_replicas`).
                let mut config = config.clone();
                let name = replica_name();
                config.application_name(&name);
                let pool = PgDatabase::connect(&config, limits)
                    .with_context(|| format!("connecting to {url}"))?;
                if no_migrate {
                    pool.check_current(&SCHEMAS)
                        .with_context(|| format!("--no-migrate: {url}"))?;
                } else {
                    pool.migrate(&SCHEMAS)
                        .with_context(|| format!("migrating {url}"))?;
                }
                Ok(SharedDb::Postgres {
                    pool,
                    url: url.clone(),
                    name,
                })
            }
        }
    }

    /// The database as logs show it (a path, or the URL without its password).
    pub(crate) fn describe(&self) -> String {
        match self {
            SharedDb::Sqlite(path) => path.display().to_string(),
            SharedDb::Postgres { url, .. } => url.to_string(),
        }
    }

    /// How many other `ipocket serve` replicas have a session open on this database (0 on
    /// SQLite, whose file one server owns).
    pub(crate) fn other_replicas(&self) -> ipocket_db::Result<i64> {
        let SharedDb::Postgres { pool, .. } = self else {
            return Ok(0);
        };
        Database::postgres(pool.clone()).read(|c| {
            c.query_one(
                "SELECT count(DISTINCT application_name) FROM pg_stat_activity \
                 WHERE datname = current_database() AND application_name LIKE ?1 \
                 AND application_name <> current_setting('application_name')",
                &[&format!("{REPLICA_PREFIX}%")],
            )?
            .get(0)
        })
    }

    /// This replica's name and the names of every replica connected now, itself included
    /// (`None` on SQLite).
    pub(crate) fn replicas(&self) -> ipocket_db::Result<Option<(String, Vec<String>)>> {
        let SharedDb::Postgres { pool, name, .. } = self else {
            return Ok(None);
        };
        let mut alive: Vec<String> = Database::postgres(pool.clone()).read(|c| {
            c.query(
                "SELECT DISTINCT application_name FROM pg_stat_activity \
                 WHERE datname = current_database() AND application_name LIKE ?1",
                &[&format!("{REPLICA_PREFIX}%")],
            )?
            .iter()
            .map(|r| r.get(0))
            .collect()
        })?;
        if !alive.contains(name) {
            alive.push(name.clone());
        }
        Ok(Some((name.clone(), alive)))
    }

    /// A handle of the inventory (a connection of its own on SQLite, the pool on
    /// PostgreSQL, already migrated: opening it changes nothing).
    pub(crate) fn inventory(&self) -> ipocket_core::Result<Inventory> {
        match self {
            SharedDb::Sqlite(path) => Inventory::open(path),
            SharedDb::Postgres { pool, .. } => Inventory::open_postgres(pool),
        }
    }

    pub(crate) fn rule_store(&self) -> ipocket_rulegen::Result<RuleStore> {
        match self {
            SharedDb::Sqlite(path) => RuleStore::open(path),
            SharedDb::Postgres { pool, .. } => RuleStore::open_postgres(pool),
        }
    }

    pub(crate) fn job_store(&self) -> Result<JobStore, ipocket_connectors::StoreError> {
        match self {
            SharedDb::Sqlite(path) => JobStore::open(path),
            SharedDb::Postgres { pool, .. } => JobStore::open_postgres(pool),
        }
    }

    pub(crate) fn sample_store(&self) -> Result<SampleStore, ipocket_connectors::StoreError> {
        match self {
            SharedDb::Sqlite(path) => SampleStore::open(path),
            SharedDb::Postgres { pool, .. } => SampleStore::open_postgres(pool),
        }
    }

    /// A handle for the server's own reads (leadership, `/health`, the render cache's
    /// change signal): a read-only connection on SQLite, the shared pool on PostgreSQL.
    pub(crate) fn own_handle(&self) -> ipocket_db::Result<Database> {
        match self {
            SharedDb::Sqlite(path) => Ok(Database::sqlite(ipocket_db::open_read_only(path)?)),
            SharedDb::Postgres { pool, .. } => Ok(Database::postgres(pool.clone())),
        }
    }
}

/// The start of every replica's PostgreSQL `application_name`.
const REPLICA_PREFIX: &str = "ipocket serve ";

/// This replica's `application_name`: the prefix, the host name and a random part (two
/// replicas on one host differ).
fn replica_name() -> String {
    use password_hash::rand_core::{OsRng, RngCore};
    let host = std::fs::read_to_string("/etc/hostname").unwrap_or_default();
    let host: String = host.trim().chars().take(24).collect();
    format!("{REPLICA_PREFIX}{host} {:08x}", OsRng.next_u32())
}

/// `--no-migrate` on SQLite: the file must exist with every component at this build's
/// version.
fn sqlite_schema_is_current(db: &Path) -> Result<()> {
    if !db.exists() {
        anyhow::bail!(
            "--no-migrate: no database at {}; run `ipocket migrate --db {}` first",
            db.display(),
            db.display()
        );
    }
    let conn = ipocket_db::open_read_only(db)?;
    ipocket_db::check_current(&conn, &SCHEMAS)
        .with_context(|| format!("--no-migrate: {}", db.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pg_url() -> DbUrl {
        DbUrl::parse(&ipocket_testkit::postgres::Postgres::shared().fresh_db()).unwrap()
    }

    #[test]
    fn a_replica_sees_the_others_on_its_database() {
        let url = pg_url();
        let a = SharedDb::open(&url, 2, false).unwrap();
        assert_eq!(
            a.other_replicas().unwrap(),
            0,
            "its own sessions do not count"
        );
        let b = SharedDb::open(&url, 2, false).unwrap();
        assert_eq!(a.other_replicas().unwrap(), 1);
        assert_eq!(b.other_replicas().unwrap(), 1);
        let dir = tempfile::tempdir().unwrap();
        let sqlite = SharedDb::open(&DbUrl::Sqlite(dir.path().join("a.db")), 1, false).unwrap();
        assert_eq!(sqlite.other_replicas().unwrap(), 0);
    }

    /// `--no-migrate` refuses an empty database without creating anything, and accepts one
    /// that `ipocket migrate` (here: a start without the flag) brought up to date.
    #[test]
    fn no_migrate_checks_and_writes_nothing() {
        let url = pg_url();
        let e = SharedDb::open(&url, 2, true).err().unwrap();
        assert!(format!("{e:#}").contains("behind this build"), "{e:#}");
        let SharedDb::Postgres { pool, .. } = SharedDb::open(&url, 2, false).unwrap() else {
            unreachable!()
        };
        let tables = |pool: &PgDatabase| -> i64 {
            Database::postgres(pool.clone())
                .read(|c| {
                    c.query_one(
                        "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'",
                        &[],
                    )?
                    .get(0)
                })
                .unwrap()
        };
        let before = tables(&pool);
        assert!(before > 5);
        let again = SharedDb::open(&url, 2, true).unwrap();
        assert_eq!(tables(&pool), before);
        again.inventory().unwrap();
        again.rule_store().unwrap();
        again.job_store().unwrap();
    }

    #[test]
    fn the_pool_size_is_the_flags() {
        let url = pg_url();
        let SharedDb::Postgres { pool, .. } = SharedDb::open(&url, 3, false).unwrap() else {
            unreachable!()
        };
        assert!(format!("{pool:?}").contains("max_size: 3"), "{pool:?}");
    }
}
