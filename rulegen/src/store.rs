//! SQLite store: own `rulegen_*` tables with versioned migrations.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, OptionalExtension, Row};

use crate::error::{Error, Result};
use crate::model::{
    AlertRule, AlertTemplate, Group, GroupOptions, LabelMap, NewRule, NewTemplate, Severity, Target,
};
use crate::names::{check_duration, check_name, is_valid_label_name};
use crate::version::PrometheusVersion;

/// Migrations in order; index + 1 is the schema version. Never edit a shipped entry.
const MIGRATIONS: &[&str] = &[r#"
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
"#];

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
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            rule_dir: None,
            prometheus_url: None,
            target_version: PrometheusVersion::DEFAULT,
            backup_count: 3,
            promtool: None,
        }
    }
}

/// Names of the settings accepted by [`RuleStore::set_setting`].
pub const SETTING_KEYS: [&str; 5] = [
    "rule_dir",
    "prometheus_url",
    "target_version",
    "backup_count",
    "promtool",
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
        if crate::generate::AUTOMATIC_VARS.contains(&name.as_str()) {
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

impl RuleStore {
    /// Opens (creating if needed) the SQLite file at `path` and migrates it.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let conn = Connection::open(path)?;
        Self::init(conn)
    }

    /// An in-memory store (tests, dry experiments).
    pub fn open_in_memory() -> Result<Self> {
        Self::init(Connection::open_in_memory()?)
    }

    fn init(conn: Connection) -> Result<Self> {
        conn.pragma_update(None, "foreign_keys", true)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let mut store = RuleStore { conn };
        store.migrate()?;
        Ok(store)
    }

    /// The schema version this build creates.
    pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

    /// The schema version of the open database.
    pub fn schema_version(&self) -> Result<i64> {
        Ok(self.conn.query_row(
            "SELECT COALESCE(MAX(version), 0) FROM rulegen_schema_migrations",
            [],
            |r| r.get(0),
        )?)
    }

    fn migrate(&mut self) -> Result<()> {
        self.conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS rulegen_schema_migrations (
                version INTEGER PRIMARY KEY,
                applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
            )",
        )?;
        let current = self.schema_version()?;
        if current > Self::SCHEMA_VERSION {
            return Err(Error::SchemaTooNew {
                found: current,
                supported: Self::SCHEMA_VERSION,
            });
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
            let tx = self.conn.transaction()?;
            tx.execute_batch(sql)?;
            tx.execute(
                "INSERT INTO rulegen_schema_migrations (version) VALUES (?1)",
                [i as i64 + 1],
            )?;
            tx.commit()?;
        }
        Ok(())
    }

    // ---------------------------------------------------------------- groups

    /// Creates a group.
    pub fn create_group(&self, name: &str, description: &str) -> Result<Group> {
        self.create_group_with(name, description, &GroupOptions::default())
    }

    /// Creates a group with rule-file options.
    pub fn create_group_with(
        &self,
        name: &str,
        description: &str,
        options: &GroupOptions,
    ) -> Result<Group> {
        check_name("group name", name)?;
        check_options(options)?;
        self.conn
            .execute(
                "INSERT INTO rulegen_groups (name, description, options) VALUES (?1, ?2, ?3)",
                params![name, description, to_json(options)],
            )
            .map_err(|e| map_unique(e, "group", name))?;
        self.group(self.conn.last_insert_rowid())
    }

    /// Replaces a group's name, description and options.
    pub fn update_group(
        &self,
        id: i64,
        name: &str,
        description: &str,
        options: &GroupOptions,
    ) -> Result<Group> {
        check_name("group name", name)?;
        check_options(options)?;
        let n = self
            .conn
            .execute(
                "UPDATE rulegen_groups SET name = ?2, description = ?3, options = ?4 WHERE id = ?1",
                params![id, name, description, to_json(options)],
            )
            .map_err(|e| map_unique(e, "group", name))?;
        if n == 0 {
            return Err(not_found("group", id));
        }
        self.group(id)
    }

    /// Deletes a group, its rules and its memberships.
    pub fn delete_group(&self, id: i64) -> Result<()> {
        let n = self
            .conn
            .execute("DELETE FROM rulegen_groups WHERE id = ?1", [id])?;
        if n == 0 {
            return Err(not_found("group", id));
        }
        Ok(())
    }

    fn group_from_row(row: &Row<'_>) -> rusqlite::Result<(i64, String, String, String)> {
        Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
    }

    fn build_group(raw: (i64, String, String, String)) -> Result<Group> {
        let options = serde_json::from_str(&raw.3).map_err(|source| Error::Json {
            context: format!("options of group {}", raw.0),
            source,
        })?;
        Ok(Group {
            id: raw.0,
            name: raw.1,
            description: raw.2,
            options,
        })
    }

    /// One group by id.
    pub fn group(&self, id: i64) -> Result<Group> {
        let raw = self
            .conn
            .query_row(
                "SELECT id, name, description, options FROM rulegen_groups WHERE id = ?1",
                [id],
                Self::group_from_row,
            )
            .optional()?
            .ok_or_else(|| not_found("group", id))?;
        Self::build_group(raw)
    }

    /// A group by id (digits) or name.
    pub fn find_group(&self, key: &str) -> Result<Group> {
        if let Ok(id) = key.parse::<i64>() {
            if let Ok(g) = self.group(id) {
                return Ok(g);
            }
        }
        let id: Option<i64> = self
            .conn
            .query_row(
                "SELECT id FROM rulegen_groups WHERE name = ?1",
                [key],
                |r| r.get(0),
            )
            .optional()?;
        self.group(id.ok_or_else(|| not_found("group", key))?)
    }

    /// Every group, by id.
    pub fn groups(&self) -> Result<Vec<Group>> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, name, description, options FROM rulegen_groups ORDER BY id")?;
        let raws = stmt
            .query_map([], Self::group_from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        raws.into_iter().map(Self::build_group).collect()
    }

    // --------------------------------------------------------------- targets

    /// Creates a target and puts it into `group_ids`.
    pub fn create_target(
        &self,
        hostname: &str,
        address: &str,
        group_ids: &[i64],
    ) -> Result<Target> {
        check_name("hostname", hostname)?;
        let tx = self.conn.unchecked_transaction()?;
        tx.execute(
            "INSERT INTO rulegen_targets (hostname, address) VALUES (?1, ?2)",
            params![hostname, address],
        )
        .map_err(|e| map_unique(e, "target", hostname))?;
        let id = tx.last_insert_rowid();
        for g in group_ids {
            self.group(*g)?;
            tx.execute(
                "INSERT OR IGNORE INTO rulegen_target_groups (target_id, group_id) VALUES (?1, ?2)",
                params![id, g],
            )?;
        }
        tx.commit()?;
        self.target(id)
    }

    /// Changes a target's host name and address.
    pub fn update_target(&self, id: i64, hostname: &str, address: &str) -> Result<Target> {
        check_name("hostname", hostname)?;
        let n = self
            .conn
            .execute(
                "UPDATE rulegen_targets SET hostname = ?2, address = ?3 WHERE id = ?1",
                params![id, hostname, address],
            )
            .map_err(|e| map_unique(e, "target", hostname))?;
        if n == 0 {
            return Err(not_found("target", id));
        }
        self.target(id)
    }

    /// Replaces a target's group memberships.
    pub fn set_target_groups(&self, id: i64, group_ids: &[i64]) -> Result<Target> {
        self.target(id)?;
        let tx = self.conn.unchecked_transaction()?;
        tx.execute(
            "DELETE FROM rulegen_target_groups WHERE target_id = ?1",
            [id],
        )?;
        for g in group_ids {
            self.group(*g)?;
            tx.execute(
                "INSERT OR IGNORE INTO rulegen_target_groups (target_id, group_id) VALUES (?1, ?2)",
                params![id, g],
            )?;
        }
        tx.commit()?;
        self.target(id)
    }

    /// Deletes a target (its memberships go with it).
    pub fn delete_target(&self, id: i64) -> Result<()> {
        let n = self
            .conn
            .execute("DELETE FROM rulegen_targets WHERE id = ?1", [id])?;
        if n == 0 {
            return Err(not_found("target", id));
        }
        Ok(())
    }

    /// One target by id.
    pub fn target(&self, id: i64) -> Result<Target> {
        let (hostname, address): (String, String) = self
            .conn
            .query_row(
                "SELECT hostname, address FROM rulegen_targets WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?
            .ok_or_else(|| not_found("target", id))?;
        let mut stmt = self.conn.prepare(
            "SELECT group_id FROM rulegen_target_groups WHERE target_id = ?1 ORDER BY group_id",
        )?;
        let group_ids = stmt
            .query_map([id], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<i64>>>()?;
        Ok(Target {
            id,
            hostname,
            address,
            group_ids,
        })
    }

    /// A target by id (digits) or host name.
    pub fn find_target(&self, key: &str) -> Result<Target> {
        if let Ok(id) = key.parse::<i64>() {
            if let Ok(t) = self.target(id) {
                return Ok(t);
            }
        }
        let id: Option<i64> = self
            .conn
            .query_row(
                "SELECT id FROM rulegen_targets WHERE hostname = ?1",
                [key],
                |r| r.get(0),
            )
            .optional()?;
        self.target(id.ok_or_else(|| not_found("target", key))?)
    }

    /// Every target, by id.
    pub fn targets(&self) -> Result<Vec<Target>> {
        let mut stmt = self
            .conn
            .prepare("SELECT id FROM rulegen_targets ORDER BY id")?;
        let ids = stmt
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<i64>>>()?;
        ids.into_iter().map(|id| self.target(id)).collect()
    }

    // ------------------------------------------------------------- templates

    fn check_template(t: &NewTemplate) -> Result<()> {
        check_name("template name", &t.name)?;
        if t.query_template.trim().is_empty() {
            return Err(Error::invalid("query template", "must not be empty"));
        }
        check_vars(&t.default_vars)?;
        check_opt_duration("for", &t.for_duration)?;
        check_opt_duration("keep_firing_for", &t.keep_firing_for)?;
        check_labels("labels", &t.labels)?;
        check_labels("annotations", &t.annotations)
    }

    /// Creates an alert template.
    pub fn create_template(&self, t: &NewTemplate) -> Result<AlertTemplate> {
        Self::check_template(t)?;
        self.conn
            .execute(
                "INSERT INTO rulegen_templates (name, description, query_template, default_vars,
                 for_duration, keep_firing_for, severity, labels, annotations)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    t.name,
                    t.description,
                    t.query_template,
                    to_json(&t.default_vars),
                    t.for_duration,
                    t.keep_firing_for,
                    t.severity.as_str(),
                    to_json(&t.labels),
                    to_json(&t.annotations)
                ],
            )
            .map_err(|e| map_unique(e, "template", &t.name))?;
        self.template(self.conn.last_insert_rowid())
    }

    /// Replaces a template; every rule made from it changes with it.
    pub fn update_template(&self, id: i64, t: &NewTemplate) -> Result<AlertTemplate> {
        Self::check_template(t)?;
        let n = self
            .conn
            .execute(
                "UPDATE rulegen_templates SET name = ?2, description = ?3, query_template = ?4,
                 default_vars = ?5, for_duration = ?6, keep_firing_for = ?7, severity = ?8,
                 labels = ?9, annotations = ?10 WHERE id = ?1",
                params![
                    id,
                    t.name,
                    t.description,
                    t.query_template,
                    to_json(&t.default_vars),
                    t.for_duration,
                    t.keep_firing_for,
                    t.severity.as_str(),
                    to_json(&t.labels),
                    to_json(&t.annotations)
                ],
            )
            .map_err(|e| map_unique(e, "template", &t.name))?;
        if n == 0 {
            return Err(not_found("template", id));
        }
        self.template(id)
    }

    /// Deletes a template that no rule uses.
    pub fn delete_template(&self, id: i64) -> Result<()> {
        self.template(id)?;
        let used: i64 = self.conn.query_row(
            "SELECT COUNT(*) FROM rulegen_rules WHERE template_id = ?1",
            [id],
            |r| r.get(0),
        )?;
        if used > 0 {
            return Err(Error::invalid(
                "template",
                format!("template {id} is used by {used} rule(s); delete those first"),
            ));
        }
        self.conn
            .execute("DELETE FROM rulegen_templates WHERE id = ?1", [id])?;
        Ok(())
    }

    fn template_from_row(row: &Row<'_>) -> rusqlite::Result<[Option<String>; 9]> {
        let mut out: [Option<String>; 9] = Default::default();
        for (i, slot) in out.iter_mut().enumerate() {
            *slot = row.get(i + 1)?;
        }
        Ok(out)
    }

    fn build_template(id: i64, c: [Option<String>; 9]) -> Result<AlertTemplate> {
        let [name, description, query, vars, for_d, kff, severity, labels, annotations] = c;
        let ctx = |what: &str| format!("{what} of template {id}");
        Ok(AlertTemplate {
            id,
            name: name.unwrap_or_default(),
            description: description.unwrap_or_default(),
            query_template: query.unwrap_or_default(),
            default_vars: json_map(vars.as_deref().unwrap_or("{}"), &ctx("variables"))?,
            for_duration: for_d,
            keep_firing_for: kff,
            severity: severity.as_deref().unwrap_or("warning").parse()?,
            labels: json_map(labels.as_deref().unwrap_or("{}"), &ctx("labels"))?,
            annotations: json_map(annotations.as_deref().unwrap_or("{}"), &ctx("annotations"))?,
        })
    }

    const TEMPLATE_COLUMNS: &'static str = "id, name, description, query_template, default_vars, \
        for_duration, keep_firing_for, severity, labels, annotations";

    /// One template by id.
    pub fn template(&self, id: i64) -> Result<AlertTemplate> {
        let sql = format!(
            "SELECT {} FROM rulegen_templates WHERE id = ?1",
            Self::TEMPLATE_COLUMNS
        );
        let cols = self
            .conn
            .query_row(&sql, [id], Self::template_from_row)
            .optional()?
            .ok_or_else(|| not_found("template", id))?;
        Self::build_template(id, cols)
    }

    /// A template by id (digits) or name.
    pub fn find_template(&self, key: &str) -> Result<AlertTemplate> {
        if let Ok(id) = key.parse::<i64>() {
            if let Ok(t) = self.template(id) {
                return Ok(t);
            }
        }
        let id: Option<i64> = self
            .conn
            .query_row(
                "SELECT id FROM rulegen_templates WHERE name = ?1",
                [key],
                |r| r.get(0),
            )
            .optional()?;
        self.template(id.ok_or_else(|| not_found("template", key))?)
    }

    /// Every template, by id.
    pub fn templates(&self) -> Result<Vec<AlertTemplate>> {
        let sql = format!(
            "SELECT {} FROM rulegen_templates ORDER BY id",
            Self::TEMPLATE_COLUMNS
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt
            .query_map([], |r| {
                Ok((r.get::<_, i64>(0)?, Self::template_from_row(r)?))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter()
            .map(|(id, c)| Self::build_template(id, c))
            .collect()
    }

    // ----------------------------------------------------------------- rules

    fn check_rule(&self, r: &NewRule) -> Result<()> {
        self.group(r.group_id)?;
        self.template(r.template_id)?;
        if let Some(name) = &r.name {
            check_name("rule name", name)?;
        }
        check_vars(&r.vars)?;
        check_opt_duration("for", &r.for_duration)?;
        check_opt_duration("keep_firing_for", &r.keep_firing_for)?;
        check_labels("labels", &r.labels)?;
        check_labels("annotations", &r.annotations)
    }

    /// Creates a rule (a template applied to a group).
    pub fn create_rule(&self, r: &NewRule) -> Result<AlertRule> {
        self.check_rule(r)?;
        self.conn.execute(
            "INSERT INTO rulegen_rules (group_id, template_id, name, vars, enabled, for_duration,
             keep_firing_for, severity, labels, annotations)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![
                r.group_id,
                r.template_id,
                r.name,
                to_json(&r.vars),
                r.enabled,
                r.for_duration,
                r.keep_firing_for,
                r.severity.map(Severity::as_str),
                to_json(&r.labels),
                to_json(&r.annotations)
            ],
        )?;
        self.rule(self.conn.last_insert_rowid())
    }

    /// Replaces a rule.
    pub fn update_rule(&self, id: i64, r: &NewRule) -> Result<AlertRule> {
        self.check_rule(r)?;
        let n = self.conn.execute(
            "UPDATE rulegen_rules SET group_id = ?2, template_id = ?3, name = ?4, vars = ?5,
             enabled = ?6, for_duration = ?7, keep_firing_for = ?8, severity = ?9, labels = ?10,
             annotations = ?11 WHERE id = ?1",
            params![
                id,
                r.group_id,
                r.template_id,
                r.name,
                to_json(&r.vars),
                r.enabled,
                r.for_duration,
                r.keep_firing_for,
                r.severity.map(Severity::as_str),
                to_json(&r.labels),
                to_json(&r.annotations)
            ],
        )?;
        if n == 0 {
            return Err(not_found("rule", id));
        }
        self.rule(id)
    }

    /// Enables or disables a rule.
    pub fn set_rule_enabled(&self, id: i64, enabled: bool) -> Result<AlertRule> {
        let n = self.conn.execute(
            "UPDATE rulegen_rules SET enabled = ?2 WHERE id = ?1",
            params![id, enabled],
        )?;
        if n == 0 {
            return Err(not_found("rule", id));
        }
        self.rule(id)
    }

    /// Deletes a rule.
    pub fn delete_rule(&self, id: i64) -> Result<()> {
        let n = self
            .conn
            .execute("DELETE FROM rulegen_rules WHERE id = ?1", [id])?;
        if n == 0 {
            return Err(not_found("rule", id));
        }
        Ok(())
    }

    const RULE_COLUMNS: &'static str = "id, group_id, template_id, name, vars, enabled, \
        for_duration, keep_firing_for, severity, labels, annotations";

    #[allow(clippy::type_complexity)]
    fn rule_from_row(
        r: &Row<'_>,
    ) -> rusqlite::Result<(
        i64,
        i64,
        i64,
        Option<String>,
        String,
        bool,
        Option<String>,
        Option<String>,
        Option<String>,
        String,
        String,
    )> {
        Ok((
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
            r.get(6)?,
            r.get(7)?,
            r.get(8)?,
            r.get(9)?,
            r.get(10)?,
        ))
    }

    #[allow(clippy::type_complexity)]
    fn build_rule(
        c: (
            i64,
            i64,
            i64,
            Option<String>,
            String,
            bool,
            Option<String>,
            Option<String>,
            Option<String>,
            String,
            String,
        ),
    ) -> Result<AlertRule> {
        let id = c.0;
        let ctx = |what: &str| format!("{what} of rule {id}");
        Ok(AlertRule {
            id,
            group_id: c.1,
            template_id: c.2,
            name: c.3,
            vars: json_map(&c.4, &ctx("variables"))?,
            enabled: c.5,
            for_duration: c.6,
            keep_firing_for: c.7,
            severity: c.8.as_deref().map(str::parse).transpose()?,
            labels: json_map(&c.9, &ctx("labels"))?,
            annotations: json_map(&c.10, &ctx("annotations"))?,
        })
    }

    /// One rule by id.
    pub fn rule(&self, id: i64) -> Result<AlertRule> {
        let sql = format!(
            "SELECT {} FROM rulegen_rules WHERE id = ?1",
            Self::RULE_COLUMNS
        );
        let c = self
            .conn
            .query_row(&sql, [id], Self::rule_from_row)
            .optional()?
            .ok_or_else(|| not_found("rule", id))?;
        Self::build_rule(c)
    }

    /// Every rule (optionally only those of one group), by id.
    pub fn rules(&self, group_id: Option<i64>) -> Result<Vec<AlertRule>> {
        let sql = format!(
            "SELECT {} FROM rulegen_rules WHERE (?1 IS NULL OR group_id = ?1) ORDER BY id",
            Self::RULE_COLUMNS
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt
            .query_map([group_id], Self::rule_from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter().map(Self::build_rule).collect()
    }

    // -------------------------------------------------------------- settings

    /// Sets one setting (see [`SETTING_KEYS`]); an empty value clears it.
    pub fn set_setting(&self, key: &str, value: &str) -> Result<Settings> {
        if !SETTING_KEYS.contains(&key) {
            return Err(Error::invalid(
                "setting",
                format!("{key:?} is not one of {}", SETTING_KEYS.join(", ")),
            ));
        }
        if value.is_empty() {
            self.conn
                .execute("DELETE FROM rulegen_settings WHERE key = ?1", [key])?;
            return self.settings();
        }
        match key {
            "target_version" => {
                value.parse::<PrometheusVersion>()?;
            }
            "backup_count" => {
                value.parse::<usize>().map_err(|_| {
                    Error::invalid("backup_count", format!("{value:?} is not a number"))
                })?;
            }
            "prometheus_url" => {
                crate::client::PrometheusClient::new(value)?;
            }
            _ => {}
        }
        self.conn.execute(
            "INSERT INTO rulegen_settings (key, value) VALUES (?1, ?2)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
        self.settings()
    }

    /// All settings, with defaults for those not set.
    pub fn settings(&self) -> Result<Settings> {
        let mut stmt = self
            .conn
            .prepare("SELECT key, value FROM rulegen_settings")?;
        let pairs = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut s = Settings::default();
        for (k, v) in pairs {
            match k.as_str() {
                "rule_dir" => s.rule_dir = Some(PathBuf::from(v)),
                "prometheus_url" => s.prometheus_url = Some(v),
                "target_version" => s.target_version = v.parse()?,
                "backup_count" => {
                    s.backup_count = v.parse().map_err(|_| {
                        Error::invalid("backup_count", format!("{v:?} is not a number"))
                    })?
                }
                "promtool" => s.promtool = Some(PathBuf::from(v)),
                _ => {}
            }
        }
        Ok(s)
    }
}

fn not_found(kind: &'static str, key: impl ToString) -> Error {
    Error::NotFound {
        kind,
        key: key.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template(name: &str) -> NewTemplate {
        NewTemplate {
            name: name.into(),
            query_template: "cpu > {{.threshold}}".into(),
            default_vars: BTreeMap::from([("threshold".into(), "80".into())]),
            for_duration: Some("5m".into()),
            ..Default::default()
        }
    }

    #[test]
    fn migrations_are_recorded_and_idempotent() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite");
        let s = RuleStore::open(&path).unwrap();
        assert_eq!(s.schema_version().unwrap(), RuleStore::SCHEMA_VERSION);
        s.create_group("prod", "").unwrap();
        drop(s);
        let s = RuleStore::open(&path).unwrap();
        assert_eq!(s.groups().unwrap().len(), 1);
        s.conn
            .execute(
                "INSERT INTO rulegen_schema_migrations (version) VALUES (?1)",
                [RuleStore::SCHEMA_VERSION + 1],
            )
            .unwrap();
        drop(s);
        let err = RuleStore::open(&path).unwrap_err();
        assert!(matches!(err, Error::SchemaTooNew { .. }), "{err}");
    }

    #[test]
    fn group_crud_and_unique_names() {
        let s = RuleStore::open_in_memory().unwrap();
        let g = s.create_group("prod", "production").unwrap();
        assert_eq!(s.find_group("prod").unwrap(), g);
        assert_eq!(s.find_group(&g.id.to_string()).unwrap(), g);
        let err = s.create_group("prod", "").unwrap_err();
        assert!(
            matches!(err, Error::AlreadyExists { kind: "group", .. }),
            "{err}"
        );
        let opts = GroupOptions {
            interval: Some("30s".into()),
            ..Default::default()
        };
        let g2 = s.update_group(g.id, "production", "", &opts).unwrap();
        assert_eq!(g2.options.interval.as_deref(), Some("30s"));
        let bad = GroupOptions {
            interval: Some("30 seconds".into()),
            ..Default::default()
        };
        assert!(s.update_group(g.id, "production", "", &bad).is_err());
        s.delete_group(g.id).unwrap();
        assert!(matches!(s.group(g.id), Err(Error::NotFound { .. })));
        assert!(matches!(s.delete_group(g.id), Err(Error::NotFound { .. })));
    }

    #[test]
    fn targets_and_membership() {
        let s = RuleStore::open_in_memory().unwrap();
        let a = s.create_group("a", "").unwrap();
        let b = s.create_group("b", "").unwrap();
        let t = s.create_target("db-01", "10.0.0.5", &[b.id, a.id]).unwrap();
        assert_eq!(t.group_ids, vec![a.id, b.id]);
        assert_eq!(s.find_target("db-01").unwrap(), t);
        let t = s.set_target_groups(t.id, &[b.id]).unwrap();
        assert_eq!(t.group_ids, vec![b.id]);
        assert!(matches!(
            s.set_target_groups(t.id, &[999]),
            Err(Error::NotFound { kind: "group", .. })
        ));
        assert_eq!(
            s.target(t.id).unwrap().group_ids,
            vec![b.id],
            "failed set is rolled back"
        );
        s.delete_group(b.id).unwrap();
        assert!(s.target(t.id).unwrap().group_ids.is_empty());
        assert!(matches!(
            s.create_target("db-01", "", &[]),
            Err(Error::AlreadyExists { .. })
        ));
        assert!(matches!(
            s.create_target("db-02", "", &[42]),
            Err(Error::NotFound { .. })
        ));
        assert!(
            s.find_target("db-02").is_err(),
            "failed create is rolled back"
        );
    }

    #[test]
    fn templates_and_rules() {
        let s = RuleStore::open_in_memory().unwrap();
        let g = s.create_group("prod", "").unwrap();
        let t = s.create_template(&template("HighCpu")).unwrap();
        assert_eq!(t.default_vars["threshold"], "80");
        assert_eq!(s.templates().unwrap(), vec![t.clone()]);
        let mut nr = NewRule::new(g.id, t.id);
        nr.vars.insert("threshold".into(), "95".into());
        nr.severity = Some(Severity::Critical);
        let r = s.create_rule(&nr).unwrap();
        assert_eq!(r.vars["threshold"], "95");
        assert_eq!(r.severity, Some(Severity::Critical));
        let r = s.set_rule_enabled(r.id, false).unwrap();
        assert!(!r.enabled);
        assert_eq!(s.rules(Some(g.id)).unwrap(), vec![r.clone()]);
        assert!(s.rules(Some(g.id + 1)).unwrap().is_empty());
        let err = s.delete_template(t.id).unwrap_err().to_string();
        assert!(err.contains("used by 1 rule"), "{err}");
        s.delete_rule(r.id).unwrap();
        s.delete_template(t.id).unwrap();
    }

    #[test]
    fn input_checks() {
        let s = RuleStore::open_in_memory().unwrap();
        let g = s.create_group("prod", "").unwrap();
        let mut bad = template("X");
        bad.labels.insert("bad-name".into(), "v".into());
        assert!(s
            .create_template(&bad)
            .unwrap_err()
            .to_string()
            .contains("bad-name"));
        let mut bad = template("X");
        bad.for_duration = Some("5 minutes".into());
        assert!(s.create_template(&bad).is_err());
        let mut bad = template("X");
        bad.default_vars.insert("group_id".into(), "1".into());
        let err = s.create_template(&bad).unwrap_err().to_string();
        assert!(err.contains("automatically"), "{err}");
        let t = s.create_template(&template("X")).unwrap();
        let mut r = NewRule::new(g.id, t.id);
        r.labels.insert("__name__".into(), "x".into());
        assert!(s.create_rule(&r).is_err());
        assert!(matches!(
            s.create_rule(&NewRule::new(g.id, 999)),
            Err(Error::NotFound {
                kind: "template",
                ..
            })
        ));
    }

    #[test]
    fn settings_round_trip() {
        let s = RuleStore::open_in_memory().unwrap();
        assert_eq!(s.settings().unwrap(), Settings::default());
        s.set_setting("target_version", "3.1").unwrap();
        s.set_setting("rule_dir", "/tmp/rules").unwrap();
        let st = s.set_setting("backup_count", "5").unwrap();
        assert_eq!(st.target_version, PrometheusVersion::new(3, 1));
        assert_eq!(st.backup_count, 5);
        assert!(s.set_setting("target_version", "latest").is_err());
        assert!(s.set_setting("colour", "blue").is_err());
        assert!(s.set_setting("prometheus_url", "ftp://x").is_err());
        let st = s.set_setting("rule_dir", "").unwrap();
        assert_eq!(st.rule_dir, None);
    }
}
