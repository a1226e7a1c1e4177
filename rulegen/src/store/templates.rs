//! Alert templates.

use ipocket_db::{Row, Sql};

use super::audit::Change;
use super::{
    check_labels, check_opt_duration, check_vars, json_map, map_unique, not_found, to_json,
    RuleStore,
};

/// The audit log's name for a template.
const TEMPLATE: &str = "ALERT_TEMPLATE";
use crate::error::{Error, Result};
use crate::model::{AlertTemplate, NewTemplate};
use crate::names::check_name;

impl RuleStore {
    pub(super) fn check_template(t: &NewTemplate) -> Result<()> {
        check_name("template name", &t.name)?;
        if t.query_template.trim().is_empty() {
            return Err(Error::invalid("query template", "must not be empty"));
        }
        crate::template::placeholders(&t.query_template)
            .map_err(|reason| Error::invalid("query template", reason))?;
        check_vars(&t.default_vars)?;
        check_opt_duration("for", &t.for_duration)?;
        check_opt_duration("keep_firing_for", &t.keep_firing_for)?;
        check_labels("labels", &t.labels)?;
        check_labels("annotations", &t.annotations)
    }

    /// Creates an alert template.
    pub fn create_template(&self, t: &NewTemplate) -> Result<AlertTemplate> {
        Self::check_template(t)?;
        self.audited(|tx| {
            let id: i64 = tx
                .query_one(
                    "INSERT INTO rulegen_templates (name, description, query_template, default_vars,
                     for_duration, keep_firing_for, severity, labels, annotations)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) RETURNING id",
                    &[
                        &t.name,
                        &t.description,
                        &t.query_template,
                        &to_json(&t.default_vars),
                        &t.for_duration,
                        &t.keep_firing_for,
                        &t.severity.as_str(),
                        &to_json(&t.labels),
                        &to_json(&t.annotations),
                    ],
                )
                .map_err(|e| map_unique(e, "template", &t.name))?
                .get(0)?;
            let after = template_in(tx, id)?;
            let change = Change::of(TEMPLATE, after.id, &after.name, None, Some(&after));
            Ok((after, change))
        })
    }

    /// Replaces a template; every rule made from it changes with it.
    pub fn update_template(&self, id: i64, t: &NewTemplate) -> Result<AlertTemplate> {
        Self::check_template(t)?;
        self.audited(|tx| {
            let before = template_in(tx, id)?;
            tx.execute(
                "UPDATE rulegen_templates SET name = ?2, description = ?3, query_template = ?4,
                 default_vars = ?5, for_duration = ?6, keep_firing_for = ?7, severity = ?8,
                 labels = ?9, annotations = ?10 WHERE id = ?1",
                &[
                    &id,
                    &t.name,
                    &t.description,
                    &t.query_template,
                    &to_json(&t.default_vars),
                    &t.for_duration,
                    &t.keep_firing_for,
                    &t.severity.as_str(),
                    &to_json(&t.labels),
                    &to_json(&t.annotations),
                ],
            )
            .map_err(|e| map_unique(e, "template", &t.name))?;
            let after = template_in(tx, id)?;
            let change = Change::of(TEMPLATE, id, &after.name, Some(&before), Some(&after));
            Ok((after, change))
        })
    }

    /// Deletes a template that no rule uses.
    pub fn delete_template(&self, id: i64) -> Result<()> {
        self.audited(|tx| {
            let before = template_in(tx, id)?;
            let used: i64 = tx
                .query_one(
                    "SELECT COUNT(*) FROM rulegen_rules WHERE template_id = ?1",
                    &[&id],
                )?
                .get(0)?;
            if used > 0 {
                return Err(Error::invalid(
                    "template",
                    format!("template {id} is used by {used} rule(s); delete those first"),
                ));
            }
            tx.execute("DELETE FROM rulegen_templates WHERE id = ?1", &[&id])?;
            let change = Change::of(TEMPLATE, id, &before.name, Some(&before), None);
            Ok(((), change))
        })
    }

    /// One template by id.
    pub fn template(&self, id: i64) -> Result<AlertTemplate> {
        self.read(|c| template_in(c, id))
    }

    /// A template by id (digits) or name.
    pub fn find_template(&self, key: &str) -> Result<AlertTemplate> {
        self.read(|c| {
            if let Ok(id) = key.parse::<i64>() {
                if let Ok(t) = template_in(c, id) {
                    return Ok(t);
                }
            }
            let sql = format!("SELECT {TEMPLATE_COLUMNS} FROM rulegen_templates WHERE name = ?1");
            match c.query_opt(&sql, &[&key])? {
                Some(row) => build_template(&row),
                None => Err(not_found("template", key)),
            }
        })
    }

    /// Every template, by id.
    pub fn templates(&self) -> Result<Vec<AlertTemplate>> {
        self.read(|c| {
            let sql = format!("SELECT {TEMPLATE_COLUMNS} FROM rulegen_templates ORDER BY id");
            c.query(&sql, &[])?.iter().map(build_template).collect()
        })
    }
}

const TEMPLATE_COLUMNS: &str = "id, name, description, query_template, default_vars, \
    for_duration, keep_firing_for, severity, labels, annotations";

/// Template `id`, read through `c`.
fn template_in(c: &dyn Sql, id: i64) -> Result<AlertTemplate> {
    let sql = format!("SELECT {TEMPLATE_COLUMNS} FROM rulegen_templates WHERE id = ?1");
    match c.query_opt(&sql, &[&id])? {
        Some(row) => build_template(&row),
        None => Err(not_found("template", id)),
    }
}

fn build_template(row: &Row) -> Result<AlertTemplate> {
    let id: i64 = row.get(0)?;
    let ctx = |what: &str| format!("{what} of template {id}");
    let text = |i: usize| row.get::<String>(i);
    Ok(AlertTemplate {
        id,
        name: text(1)?,
        description: text(2)?,
        query_template: text(3)?,
        default_vars: json_map(&text(4)?, &ctx("variables"))?,
        for_duration: row.get(5)?,
        keep_firing_for: row.get(6)?,
        severity: text(7)?.parse()?,
        labels: json_map(&text(8)?, &ctx("labels"))?,
        annotations: json_map(&text(9)?, &ctx("annotations"))?,
    })
}
