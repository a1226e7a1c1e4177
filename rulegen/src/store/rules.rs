//! Alert rules.

use ipocket_db::{Row, Sql};

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
            let id: i64 = tx
                .query_one(
                    "INSERT INTO rulegen_rules (group_id, template_id, name, vars, enabled,
                     for_duration, keep_firing_for, severity, labels, annotations, priority,
                     merge_strategy)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) RETURNING id",
                    &[
                        &r.group_id,
                        &r.template_id,
                        &r.name,
                        &to_json(&r.vars),
                        &r.enabled,
                        &r.for_duration,
                        &r.keep_firing_for,
                        &r.severity.map(Severity::as_str),
                        &to_json(&r.labels),
                        &to_json(&r.annotations),
                        &r.priority,
                        &r.merge_strategy.as_str(),
                    ],
                )?
                .get(0)?;
            let rule = rule_in(tx, id)?;
            let change = Change::of(RULE, rule.id, rule_label(&rule), None, Some(&rule));
            Ok((rule, change))
        })
    }

    /// Replaces a rule.
    pub fn update_rule(&self, id: i64, r: &NewRule) -> Result<AlertRule> {
        self.check_rule(r)?;
        self.audited(|tx| {
            let before = rule_in(tx, id)?;
            tx.execute(
                "UPDATE rulegen_rules SET group_id = ?2, template_id = ?3, name = ?4, vars = ?5,
             enabled = ?6, for_duration = ?7, keep_firing_for = ?8, severity = ?9, labels = ?10,
             annotations = ?11, priority = ?12, merge_strategy = ?13 WHERE id = ?1",
                &[
                    &id,
                    &r.group_id,
                    &r.template_id,
                    &r.name,
                    &to_json(&r.vars),
                    &r.enabled,
                    &r.for_duration,
                    &r.keep_firing_for,
                    &r.severity.map(Severity::as_str),
                    &to_json(&r.labels),
                    &to_json(&r.annotations),
                    &r.priority,
                    &r.merge_strategy.as_str(),
                ],
            )?;
            let rule = rule_in(tx, id)?;
            let change = Change::of(RULE, id, rule_label(&rule), Some(&before), Some(&rule));
            Ok((rule, change))
        })
    }

    /// Enables or disables a rule.
    pub fn set_rule_enabled(&self, id: i64, enabled: bool) -> Result<AlertRule> {
        self.audited(|tx| {
            let before = rule_in(tx, id)?;
            tx.execute(
                "UPDATE rulegen_rules SET enabled = ?2 WHERE id = ?1",
                &[&id, &enabled],
            )?;
            let rule = rule_in(tx, id)?;
            let change = Change::of(RULE, id, rule_label(&rule), Some(&before), Some(&rule));
            Ok((rule, change))
        })
    }

    /// Deletes a rule.
    pub fn delete_rule(&self, id: i64) -> Result<()> {
        self.audited(|tx| {
            let before = rule_in(tx, id)?;
            tx.execute("DELETE FROM rulegen_rules WHERE id = ?1", &[&id])?;
            let change = Change::of(RULE, id, rule_label(&before), Some(&before), None);
            Ok(((), change))
        })
    }

    /// One rule by id.
    pub fn rule(&self, id: i64) -> Result<AlertRule> {
        self.read(|c| rule_in(c, id))
    }

    /// Every rule (optionally only those of one group), by id.
    pub fn rules(&self, group_id: Option<i64>) -> Result<Vec<AlertRule>> {
        self.read(|c| {
            let rows = match group_id {
                Some(g) => c.query(
                    &format!(
                        "SELECT {RULE_COLUMNS} FROM rulegen_rules WHERE group_id = ?1 ORDER BY id"
                    ),
                    &[&g],
                )?,
                None => c.query(
                    &format!("SELECT {RULE_COLUMNS} FROM rulegen_rules ORDER BY id"),
                    &[],
                )?,
            };
            rows.iter().map(build_rule).collect()
        })
    }
}

const RULE_COLUMNS: &str = "id, group_id, template_id, name, vars, enabled, \
    for_duration, keep_firing_for, severity, labels, annotations, priority, merge_strategy";

/// Rule `id`, read through `c`.
fn rule_in(c: &dyn Sql, id: i64) -> Result<AlertRule> {
    let sql = format!("SELECT {RULE_COLUMNS} FROM rulegen_rules WHERE id = ?1");
    match c.query_opt(&sql, &[&id])? {
        Some(row) => build_rule(&row),
        None => Err(not_found("rule", id)),
    }
}

fn build_rule(row: &Row) -> Result<AlertRule> {
    let id: i64 = row.get(0)?;
    let ctx = |what: &str| format!("{what} of rule {id}");
    let text = |i: usize| row.get::<String>(i);
    Ok(AlertRule {
        id,
        group_id: row.get(1)?,
        template_id: row.get(2)?,
        name: row.get(3)?,
        vars: json_map(&text(4)?, &ctx("variables"))?,
        enabled: row.get(5)?,
        for_duration: row.get(6)?,
        keep_firing_for: row.get(7)?,
        severity: row
            .get::<Option<String>>(8)?
            .as_deref()
            .map(str::parse)
            .transpose()?,
        labels: json_map(&text(9)?, &ctx("labels"))?,
        annotations: json_map(&text(10)?, &ctx("annotations"))?,
        priority: row.get(11)?,
        merge_strategy: text(12)?.parse::<MergeStrategy>()?,
    })
}
