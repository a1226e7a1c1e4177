//! Alert rules.

use rusqlite::{params, OptionalExtension, Row};

use super::audit::Change;
use super::{
    check_labels, check_opt_duration, check_vars, json_map, not_found, to_json, RuleStore,
};

/// The audit log's name for a rule.
const RULE: &str = "ALERT_RULE";

/// A rule in the audit log: its name, else `rule N`.
fn rule_label(r: &AlertRule) -> String {
    r.name.clone().unwrap_or_else(|| format!("rule {}", r.id))
}
use crate::error::{Error, Result};
use crate::model::{AlertRule, MergeStrategy, NewRule, Severity, MAX_PRIORITY};
use crate::names::check_name;

impl RuleStore {
    pub(super) fn check_rule(&self, r: &NewRule) -> Result<()> {
        self.group(r.group_id)?;
        self.template(r.template_id)?;
        if let Some(name) = &r.name {
            check_name("rule name", name)?;
        }
        check_vars(&r.vars)?;
        check_opt_duration("for", &r.for_duration)?;
        check_opt_duration("keep_firing_for", &r.keep_firing_for)?;
        check_labels("labels", &r.labels)?;
        check_labels("annotations", &r.annotations)?;
        if !(0..=MAX_PRIORITY).contains(&r.priority) {
            return Err(Error::invalid(
                "priority",
                format!("{} is not from 0 to {MAX_PRIORITY}", r.priority),
            ));
        }
        Ok(())
    }

    /// Creates a rule (a template applied to a group).
    pub fn create_rule(&self, r: &NewRule) -> Result<AlertRule> {
        self.check_rule(r)?;
        self.audited(|tx| {
            tx.execute(
            "INSERT INTO rulegen_rules (group_id, template_id, name, vars, enabled, for_duration,
             keep_firing_for, severity, labels, annotations, priority, merge_strategy)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
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
                to_json(&r.annotations),
                r.priority,
                r.merge_strategy.as_str()
            ],
        )?;
            let rule = self.rule(tx.last_insert_rowid())?;
            let change = Change::of(RULE, rule.id, rule_label(&rule), None, Some(&rule));
            Ok((rule, change))
        })
    }

    /// Replaces a rule.
    pub fn update_rule(&self, id: i64, r: &NewRule) -> Result<AlertRule> {
        self.check_rule(r)?;
        self.audited(|tx| {
            let before = self.rule(id)?;
            tx.execute(
                "UPDATE rulegen_rules SET group_id = ?2, template_id = ?3, name = ?4, vars = ?5,
             enabled = ?6, for_duration = ?7, keep_firing_for = ?8, severity = ?9, labels = ?10,
             annotations = ?11, priority = ?12, merge_strategy = ?13 WHERE id = ?1",
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
                    to_json(&r.annotations),
                    r.priority,
                    r.merge_strategy.as_str()
                ],
            )?;
            let rule = self.rule(id)?;
            let change = Change::of(RULE, id, rule_label(&rule), Some(&before), Some(&rule));
            Ok((rule, change))
        })
    }

    /// Enables or disables a rule.
    pub fn set_rule_enabled(&self, id: i64, enabled: bool) -> Result<AlertRule> {
        self.audited(|tx| {
            let before = self.rule(id)?;
            tx.execute(
                "UPDATE rulegen_rules SET enabled = ?2 WHERE id = ?1",
                params![id, enabled],
            )?;
            let rule = self.rule(id)?;
            let change = Change::of(RULE, id, rule_label(&rule), Some(&before), Some(&rule));
            Ok((rule, change))
        })
    }

    /// Deletes a rule.
    pub fn delete_rule(&self, id: i64) -> Result<()> {
        self.audited(|tx| {
            let before = self.rule(id)?;
            tx.execute("DELETE FROM rulegen_rules WHERE id = ?1", [id])?;
            let change = Change::of(RULE, id, rule_label(&before), Some(&before), None);
            Ok(((), change))
        })
    }

    const RULE_COLUMNS: &'static str = "id, group_id, template_id, name, vars, enabled, \
        for_duration, keep_firing_for, severity, labels, annotations, priority, merge_strategy";

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
        i64,
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
            r.get(11)?,
            r.get(12)?,
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
            i64,
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
            priority: c.11,
            merge_strategy: c.12.parse::<MergeStrategy>()?,
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
}
