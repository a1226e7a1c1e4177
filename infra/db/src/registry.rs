//! The migration registry: components, their steps, and the one table that records them.

use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};

use crate::error::{Error, Result};

/// The bookkeeping table: one row per applied (or adopted) step of each component.
const CREATE_REGISTRY: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (
    component  TEXT NOT NULL,
    version    INTEGER NOT NULL,
    name       TEXT NOT NULL,
    applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    PRIMARY KEY (component, version)
) WITHOUT ROWID";

/// What one migration step does.
#[derive(Debug, Clone, Copy)]
pub enum Step {
    /// Plain SQL, one or more statements. Prefer this: it is what another backend could
    /// reuse.
    Sql(&'static str),
    /// Rust code, for a data migration SQL cannot express (e.g. re-encoding a column).
    /// It runs inside the step's transaction; returning an error rolls the step back.
    Rust(fn(&Transaction<'_>) -> rusqlite::Result<()>),
}

/// One versioned step of a component. Once released, a step is never edited: a change is
/// a new step with the next version.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// The version the component is at once this step is applied (1, 2, 3, …).
    pub version: u32,
    /// A short description, recorded with the version.
    pub name: &'static str,
    /// The work on SQLite.
    pub step: Step,
    /// The same step on PostgreSQL, as plain SQL (one or more statements) giving the same
    /// tables, columns, constraints and indexes. A [`Step::Rust`] data transformation has
    /// no counterpart here: a PostgreSQL database starts empty (or is filled by a copy at the
    /// current version), so only the resulting schema is written.
    pub pg: &'static str,
}

/// The tables one store owns in the shared file, as an ordered list of steps.
#[derive(Debug)]
pub struct Component {
    /// The name versions are recorded under (`inventory`, `samples`, `rulegen`).
    pub name: &'static str,
    /// The steps, versions strictly increasing from 1.
    pub migrations: &'static [Migration],
    /// For files made before the registry existed: called once, when nothing is recorded
    /// for this component, it returns the version the component's tables are already at
    /// (0 when they are absent). Those versions are recorded without running their steps.
    /// It runs in the migration transaction, so it may also retire an old version marker.
    pub legacy_version: Option<fn(&Transaction<'_>) -> rusqlite::Result<u32>>,
}

impl Component {
    /// The newest version this build knows (0 for a component without steps).
    pub fn latest(&self) -> u32 {
        self.migrations.last().map_or(0, |m| m.version)
    }

    pub(crate) fn check(&self) {
        let mut prev = 0;
        for m in self.migrations {
            assert!(
                m.version > prev,
                "component {}: migration versions must increase from 1 ({} after {prev})",
                self.name,
                m.version
            );
            prev = m.version;
        }
    }
}

/// Brings every component in `components` up to date, in the order given: each pending
/// step runs in its own `BEGIN IMMEDIATE` transaction together with its record, so a
/// failing step leaves the file and the recorded version as they were. A component with a
/// recorded version above [`Component::latest`] is refused ([`Error::TooNew`]).
///
/// When everything is current this only reads (no write lock is taken).
///
/// # Panics
///
/// If a component's versions do not strictly increase from 1 (a bug in its declaration).
pub fn migrate(conn: &mut Connection, components: &[&Component]) -> Result<()> {
    for c in components {
        c.check();
    }
    if up_to_date(conn, components)? {
        return Ok(());
    }
    for c in components {
        migrate_component(conn, c)?;
    }
    Ok(())
}

/// [`Error::Behind`] or [`Error::TooNew`] unless every component is at its latest version;
/// only reads (for `serve --no-migrate`, which must not change the schema).
pub fn check_current(conn: &Connection, components: &[&Component]) -> Result<()> {
    for c in components {
        compare(c, recorded_version(conn, c.name)?)?;
    }
    Ok(())
}

/// `found` against `c`'s latest version: behind, too new, or current.
pub(crate) fn compare(c: &Component, found: u32) -> Result<()> {
    match found.cmp(&c.latest()) {
        std::cmp::Ordering::Less => Err(Error::Behind {
            component: c.name,
            found,
            latest: c.latest(),
        }),
        std::cmp::Ordering::Greater => Err(Error::TooNew {
            component: c.name,
            found,
            supported: c.latest(),
        }),
        std::cmp::Ordering::Equal => Ok(()),
    }
}

/// The version recorded for `component` (0 when none, or when the file has no registry).
pub fn recorded_version(conn: &Connection, component: &str) -> Result<u32> {
    if !registry_exists(conn)? {
        return Ok(0);
    }
    Ok(recorded(conn, component)?.unwrap_or(0))
}

fn registry_exists(conn: &Connection) -> Result<bool> {
    Ok(conn.query_row(
        "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'",
        [],
        |r| r.get(0),
    )?)
}

/// The highest recorded version, `None` when nothing is recorded for the component.
fn recorded(conn: &Connection, component: &str) -> Result<Option<u32>> {
    Ok(conn
        .query_row(
            "SELECT max(version) FROM schema_migrations WHERE component = ?1",
            [component],
            |r| r.get::<_, Option<u32>>(0),
        )
        .optional()?
        .flatten())
}

fn up_to_date(conn: &Connection, components: &[&Component]) -> Result<bool> {
    if !registry_exists(conn)? {
        return Ok(components.is_empty());
    }
    for c in components {
        if recorded(conn, c.name)?.unwrap_or(0) != c.latest() {
            return Ok(false);
        }
    }
    Ok(true)
}

fn migrate_component(conn: &mut Connection, c: &Component) -> Result<()> {
    // One transaction per step; the recorded version is read again inside each, so two
    // processes opening the same file at once never apply a step twice.
    loop {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute_batch(CREATE_REGISTRY)?;
        let current = match recorded(&tx, c.name)? {
            Some(v) => v,
            None => adopt_legacy(&tx, c)?,
        };
        if current > c.latest() {
            return Err(Error::TooNew {
                component: c.name,
                found: current,
                supported: c.latest(),
            });
        }
        let Some(m) = c.migrations.iter().find(|m| m.version > current) else {
            tx.commit()?;
            return Ok(());
        };
        let ran = match m.step {
            Step::Sql(sql) => tx.execute_batch(sql),
            Step::Rust(f) => f(&tx),
        };
        ran.map_err(|source| Error::Step {
            component: c.name,
            version: m.version,
            name: m.name,
            source,
        })?;
        record(&tx, c.name, m)?;
        tx.commit()?;
    }
}

/// Records the versions a pre-registry file is already at; returns that version.
fn adopt_legacy(tx: &Transaction<'_>, c: &Component) -> Result<u32> {
    let Some(legacy) = c.legacy_version else {
        return Ok(0);
    };
    let found = legacy(tx)?;
    if found > c.latest() {
        return Err(Error::TooNew {
            component: c.name,
            found,
            supported: c.latest(),
        });
    }
    for m in c.migrations.iter().take_while(|m| m.version <= found) {
        record(tx, c.name, m)?;
    }
    Ok(found)
}

fn record(tx: &Transaction<'_>, component: &str, m: &Migration) -> Result<()> {
    tx.execute(
        "INSERT INTO schema_migrations (component, version, name) VALUES (?1, ?2, ?3)",
        params![component, m.version, m.name],
    )?;
    Ok(())
}
