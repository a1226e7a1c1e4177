//! The PostgreSQL side of the registry: the same components, versions and
//! `schema_migrations` table as on SQLite, each step's [`Migration::pg`] SQL.
//!
//! Replicas starting together must migrate once: [`migrate_pg`] holds a session-level
//! `pg_advisory_lock` on a dedicated connection (not a pooled one, whose session would
//! outlive the call) for the whole run; each step runs in its own transaction with its
//! record, and the recorded version is read again after the lock is taken.
//!
//! TLS is not supported yet (`NoTls`): a URL with `sslmode=require` is refused at connect.

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::{Client, Config, NoTls};

use crate::error::{Error, Result};
use crate::pg_database::PoolLimits;
use crate::registry::{Component, Migration};

/// The advisory lock key of migrations (`ipocket-migrate` as bytes, fits an `i64`).
pub const MIGRATE_LOCK: i64 = 0x6970_6f63_6b65_746d;

/// The bookkeeping table, with the same columns and formats as on SQLite.
const CREATE_REGISTRY: &str = r#"CREATE TABLE IF NOT EXISTS schema_migrations (
    component  TEXT NOT NULL,
    version    INTEGER NOT NULL,
    name       TEXT NOT NULL,
    applied_at TEXT NOT NULL DEFAULT (to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')),
    PRIMARY KEY (component, version)
)"#;

/// A pool of connections to `config` (deadpool, at most `limits.max_size` connections,
/// verified on reuse; waiting for a free one and connecting are bounded by `limits`). Its
/// `get` runs on a tokio runtime with timers.
///
/// # Errors
///
/// [`Error::Pool`] when the pool cannot be built (no connection is made here).
pub fn pg_pool(config: &Config, limits: &PoolLimits) -> Result<Pool> {
    let manager = Manager::from_config(
        config.clone(),
        NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Verified,
        },
    );
    Pool::builder(manager)
        .max_size(limits.max_size)
        .runtime(deadpool_postgres::Runtime::Tokio1)
        .wait_timeout(Some(limits.wait))
        .create_timeout(Some(limits.connect))
        .build()
        .map_err(|e| Error::Pool(e.to_string()))
}

/// A dedicated connection (its driver task spawned on the current tokio runtime).
pub async fn pg_connect(config: &Config) -> Result<Client> {
    let (client, connection) = config.connect(NoTls).await?;
    tokio::spawn(async move {
        // Ends when the client is dropped; an error here surfaces on the client's calls.
        let _ = connection.await;
    });
    Ok(client)
}

/// Brings every component up to date on PostgreSQL, under the migration advisory lock:
/// the same rules as [`crate::migrate`] (steps in order, each in its own transaction with
/// its record, [`Error::TooNew`] for a newer database). Must run inside a tokio runtime.
///
/// # Panics
///
/// If a component's versions do not strictly increase from 1.
pub async fn migrate_pg(config: &Config, components: &[&Component]) -> Result<()> {
    for c in components {
        c.check();
    }
    let mut client = pg_connect(config).await?;
    check_text_order(&client).await?;
    client
        .execute("SELECT pg_advisory_lock($1)", &[&MIGRATE_LOCK])
        .await?;
    let result = migrate_locked(&mut client, components).await;
    // The lock also goes with the session; unlocking keeps it short when the caller
    // keeps the connection's runtime alive.
    let _ = client
        .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATE_LOCK])
        .await;
    result
}

async fn migrate_locked(client: &mut Client, components: &[&Component]) -> Result<()> {
    // Only when missing: on a current database migrating writes nothing and needs no
    // CREATE privilege (replicas may run as a role that only reads and writes rows).
    let exists: bool = client
        .query_one("SELECT to_regclass('schema_migrations') IS NOT NULL", &[])
        .await?
        .get(0);
    if !exists {
        client.batch_execute(CREATE_REGISTRY).await?;
    }
    for c in components {
        loop {
            let tx = client.transaction().await?;
            let current = recorded(&tx, c.name).await?;
            if current > c.latest() {
                return Err(Error::TooNew {
                    component: c.name,
                    found: current,
                    supported: c.latest(),
                });
            }
            let Some(m) = c.migrations.iter().find(|m| m.version > current) else {
                break;
            };
            tx.batch_execute(m.pg)
                .await
                .map_err(|source| Error::PgStep {
                    component: c.name,
                    version: m.version,
                    name: m.name,
                    source,
                })?;
            record(&tx, c.name, m).await?;
            tx.commit().await?;
        }
    }
    Ok(())
}

/// [`Error::TextOrder`] unless the database's default collation orders text byte by byte
/// (`C`, `POSIX`, `C.UTF-8`): otherwise `ORDER BY name`, unique names and exports would
/// differ from SQLite's. Checked by behaviour, so it holds for libc and ICU collations and
/// every PostgreSQL version alike.
pub async fn check_text_order(client: &Client) -> Result<()> {
    let row = client
        .query_one(
            "SELECT 'B' < 'a' AND 'Z' < '_' AND '_' < 'a' AND 'a' < 'b' AND 'z' < 'é',
                    current_database(), datcollate
             FROM pg_database WHERE datname = current_database()",
            &[],
        )
        .await?;
    if row.get::<_, bool>(0) {
        return Ok(());
    }
    Err(Error::TextOrder {
        database: row.get(1),
        collation: row.get(2),
    })
}

/// The version recorded for `component` on PostgreSQL (0 when none, or no registry yet).
pub async fn recorded_version_pg(client: &Client, component: &str) -> Result<u32> {
    let exists: bool = client
        .query_one("SELECT to_regclass('schema_migrations') IS NOT NULL", &[])
        .await?
        .get(0);
    if !exists {
        return Ok(0);
    }
    recorded(client, component).await
}

/// [`Error::Behind`] or [`Error::TooNew`] unless every component is at its latest version
/// on PostgreSQL; changes nothing (for `serve --no-migrate`).
pub async fn check_current_pg(client: &Client, components: &[&Component]) -> Result<()> {
    check_text_order(client).await?;
    for c in components {
        crate::registry::compare(c, recorded_version_pg(client, c.name).await?)?;
    }
    Ok(())
}

async fn recorded(client: &impl tokio_postgres::GenericClient, component: &str) -> Result<u32> {
    let max: Option<i32> = client
        .query_one(
            "SELECT max(version) FROM schema_migrations WHERE component = $1",
            &[&component],
        )
        .await?
        .get(0);
    Ok(max.map_or(0, |v| v as u32))
}

async fn record(
    tx: &tokio_postgres::Transaction<'_>,
    component: &str,
    m: &Migration,
) -> Result<()> {
    let version = m.version as i32;
    tx.execute(
        "INSERT INTO schema_migrations (component, version, name) VALUES ($1, $2, $3)",
        &[&component, &version, &m.name],
    )
    .await?;
    Ok(())
}
