//! SQLite store: the `rulegen_*` tables, registered as the `rulegen` component of the
//! migration registry (`ipocket-db`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ipocket_db::{Component, Migration, Step};
use rusqlite::{Connection, Transaction};

use crate::error::{Error, Result};
use crate::model::{GroupOptions, LabelMap};
use crate::names::{check_duration, is_valid_label_name};
use crate::version::PrometheusVersion;

/// The rule store's tables in the shared SQLite file. Never edit a released step: add the
/// next version (docs/database.md).
pub static RULES_SCHEMA: Component = Component {
    name: "rulegen",
    migrations: MIGRATIONS,
    legacy_version: Some(legacy_version),
};

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "groups, targets, templates, rules, settings",
        step: Step::Sql(MIGRATION_1),
    },
    Migration {
        version: 2,
        name: "rule priority and merge strategy, default own groups, generation runs",
        step: Step::Sql(MIGRATION_2),
    },
];

/// Before the registry the store kept its versions in `rulegen_schema_migrations`: they
/// are carried into the registry and the old table is dropped (in the same transaction).
fn legacy_version(tx: &Transaction<'_>) -> rusqlite::Result<u32> {
    let old: bool = tx.query_row(
        "SELECT count(*) > 0 FROM sqlite_master \
         WHERE type = 'table' AND name = 'rulegen_schema_migrations'",
        [],
        |r| r.get(0),
    )?;
    if !old {
        return Ok(0);
    }
    let found = tx.query_row(
        "SELECT COALESCE(MAX(version), 0) FROM rulegen_schema_migrations",
        [],
        |r| r.get(0),
    )?;
    tx.execute_batch("DROP TABLE rulegen_schema_migrations")?;
    Ok(found)
}

const MIGRATION_1: &str = r#"
CREATE TABLE rulegen_groups (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    options TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE rulegen_targets (
    id INTEGER PRIMARY KEY,
    hostname TEXT NOT NULL UNIQUE,
    address TEXT NOT NULL DEFAULT ''
);
CREATE TABLE rulegen_target_groups (
    target_id INTEGER NOT NULL REFERENCES rulegen_targets(id) ON DELETE CASCADE,
    group_id INTEGER NOT NULL REFERENCES rulegen_groups(id) ON DELETE CASCADE,
    PRIMARY KEY (target_id, group_id)
);
CREATE TABLE rulegen_templates (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    query_template TEXT NOT NULL,
    default_vars TEXT NOT NULL DEFAULT '{}',
    for_duration TEXT,
    keep_firing_for TEXT,
    severity TEXT NOT NULL CHECK (severity IN ('critical', 'warning', 'info')),
    labels TEXT NOT NULL DEFAULT '{}',
    annotations TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE rulegen_rules (
    id INTEGER PRIMARY KEY,
    group_id INTEGER NOT NULL REFERENCES rulegen_groups(id) ON DELETE CASCADE,
    template_id INTEGER NOT NULL REFERENCES rulegen_templates(id) ON DELETE RESTRICT,
    name TEXT,
    vars TEXT NOT NULL DEFAULT '{}',
    enabled INTEGER NOT NULL DEFAULT 1,
    for_duration TEXT,
    keep_firing_for TEXT,
    severity TEXT CHECK (severity IN ('critical', 'warning', 'info')),
    labels TEXT NOT NULL DEFAULT '{}',
    annotations TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX rulegen_rules_group ON rulegen_rules(group_id);
CREATE TABLE rulegen_settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"#;

/// Seed 002 (AAMI): a rule's `priority` (0..1000, default 100) and `merge_strategy`
/// decide which of a target's same-named rules applies; a target created without groups
/// gets a group of its own (`is_default_own`). `rulegen_runs` keeps the last generation
/// runs (automatic and manual) for the status pages.
const MIGRATION_2: &str = r#"
ALTER TABLE rulegen_rules ADD COLUMN priority INTEGER NOT NULL DEFAULT 100
    CHECK (priority BETWEEN 0 AND 1000);
ALTER TABLE rulegen_rules ADD COLUMN merge_strategy TEXT NOT NULL DEFAULT 'override'
    CHECK (merge_strategy IN ('override', 'merge'));
ALTER TABLE rulegen_groups ADD COLUMN is_default_own INTEGER NOT NULL DEFAULT 0;
CREATE TABLE rulegen_runs (
    id INTEGER PRIMARY KEY,
    run TEXT NOT NULL
);
"#;

/// Settings kept in the store so every front end uses the same ones.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Settings {
    /// Folder the rule files go to (`rule_dir`).
    pub rule_dir: Option<PathBuf>,
    /// Prometheus base URL, e.g. `http://127.0.0.1:9090` (`prometheus_url`).
    pub prometheus_url: Option<String>,
    /// Prometheus version the files must load on (`target_version`, default 2.42).
    pub target_version: PrometheusVersion,
    /// How many `.bak` copies to keep per file (`backup_count`, default 3).
    pub backup_count: usize,
    /// promtool to run on every file before writing it (`promtool`); unset = no promtool.
    pub promtool: Option<PathBuf>,
    /// The rule folder as Prometheus sees it (`prometheus_rule_dir`), when it differs from
    /// `rule_dir` (a shared volume mounted elsewhere in Prometheus's container): reload
    /// confirmation looks for the files there. Unset: `rule_dir`.
    pub prometheus_rule_dir: Option<PathBuf>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            rule_dir: None,
            prometheus_url: None,
            target_version: PrometheusVersion::DEFAULT,
            backup_count: 3,
            promtool: None,
            prometheus_rule_dir: None,
        }
    }
}

/// Names of the settings accepted by [`RuleStore::set_setting`].
pub const SETTING_KEYS: [&str; 6] = [
    "rule_dir",
    "prometheus_url",
    "target_version",
    "backup_count",
    "promtool",
    "prometheus_rule_dir",
];

/// The rule generation store.
///
/// ```
/// use ipocket_rulegen::{RuleStore, NewTemplate, NewRule};
/// let store = RuleStore::open_in_memory().unwrap();
/// let g = store.create_group("prod", "").unwrap();
/// let t = store.create_template(&NewTemplate {
///     name: "NodeDown".into(),
///     query_template: "up{group_id=\"{{.group_id}}\"} == 0".into(),
///     ..Default::default()
/// }).unwrap();
/// let r = store.create_rule(&NewRule::new(g.id, t.id)).unwrap();
/// assert!(r.enabled);
/// ```
#[derive(Debug)]
pub struct RuleStore {
    conn: Connection,
    /// Who the audit rows of writes name (see [`RuleStore::as_actor`]).
    actor: std::cell::RefCell<ipocket_db::AuditActor>,
}

fn json_map(s: &str, context: &str) -> Result<BTreeMap<String, String>> {
    serde_json::from_str(s).map_err(|source| Error::Json {
        context: context.to_string(),
        source,
    })
}

fn to_json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "{}".to_string())
}

fn unique_violation(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _)
        if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
            || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY)
}

fn map_unique(e: rusqlite::Error, kind: &'static str, key: &str) -> Error {
    if unique_violation(&e) {
        Error::AlreadyExists {
            kind,
            key: key.to_string(),
        }
    } else {
        Error::Database(e)
    }
}

fn check_labels(field: &str, labels: &LabelMap) -> Result<()> {
    for name in labels.keys() {
        if !is_valid_label_name(name) || name == "__name__" {
            return Err(Error::invalid(
                field,
                format!("{name:?} is not a valid label name (expected [a-zA-Z_][a-zA-Z0-9_]*, not __name__)"),
            ));
        }
    }
    Ok(())
}

fn check_opt_duration(field: &str, d: &Option<String>) -> Result<()> {
    if let Some(d) = d {
        check_duration(d).map_err(|reason| Error::invalid(field, reason))?;
    }
    Ok(())
}

fn check_vars(vars: &BTreeMap<String, String>) -> Result<()> {
    for name in vars.keys() {
        if !is_valid_label_name(name) {
            return Err(Error::invalid(
                "variables",
                format!("{name:?} is not a valid variable name (expected [a-zA-Z_][a-zA-Z0-9_]*)"),
            ));
        }
        if crate::model::AUTOMATIC_VARS.contains(&name.as_str()) {
            return Err(Error::invalid(
                "variables",
                format!("{name:?} is filled in automatically and cannot be set"),
            ));
        }
    }
    Ok(())
}

fn check_options(o: &GroupOptions) -> Result<()> {
    check_opt_duration("interval", &o.interval)?;
    check_opt_duration("query_offset", &o.query_offset)?;
    check_labels("group labels", &o.labels)
}

mod audit;
mod groups;
mod rules;
pub mod runs;
mod settings;
mod targets;
mod templates;
#[cfg(test)]
mod tests;
mod validate;

impl RuleStore {
    /// Opens (creating if needed) the SQLite file at `path` and migrates it, with
    /// `ipocket-db`'s pragmas (WAL, foreign keys, 5 s busy timeout; docs/database.md).
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        Ok(RuleStore {
            conn: ipocket_db::open(path, &[&RULES_SCHEMA])?,
            actor: Default::default(),
        })
    }

    /// An in-memory store (tests, dry experiments).
    pub fn open_in_memory() -> Result<Self> {
        Ok(RuleStore {
            conn: ipocket_db::open_in_memory(&[&RULES_SCHEMA])?,
            actor: Default::default(),
        })
    }

    /// Takes the database's write lock until the guard is dropped: every read through
    /// this store then sees one consistent snapshot, and other connections (another
    /// generator, a CLI editing rules) wait for it (up to the 5 s busy timeout).
    /// Generation holds it from the first read to the last file operation.
    pub fn lock_for_generation(&self) -> Result<GenerationLock<'_>> {
        let tx = rusqlite::Transaction::new_unchecked(
            &self.conn,
            rusqlite::TransactionBehavior::Immediate,
        )?;
        Ok(GenerationLock { _tx: tx })
    }

    /// The schema version this build creates.
    pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

    /// The schema version of the open database (as recorded in the registry).
    pub fn schema_version(&self) -> Result<i64> {
        Ok(ipocket_db::recorded_version(&self.conn, RULES_SCHEMA.name)?.into())
    }
}

/// Guard returned by [`RuleStore::lock_for_generation`]; releases the lock on drop.
#[derive(Debug)]
pub struct GenerationLock<'a> {
    _tx: rusqlite::Transaction<'a>,
}

fn not_found(kind: &'static str, key: impl ToString) -> Error {
    Error::NotFound {
        kind,
        key: key.to_string(),
    }
}
