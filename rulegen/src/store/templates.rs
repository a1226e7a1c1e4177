//! Alert templates.

use rusqlite::{params, OptionalExtension, Row};

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
            tx.execute(
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
            let after = self.template(tx.last_insert_rowid())?;
            let change = Change::of(TEMPLATE, after.id, &after.name, None, Some(&after));
            Ok((after, change))
        })
    }

    /// Replaces a template; every rule made from it changes with it.
    pub fn update_template(&self, id: i64, t: &NewTemplate) -> Result<AlertTemplate> {
        Self::check_template(t)?;
        self.audited(|tx| {
            let before = self.template(id)?;
            tx.execute(
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
            let after = self.template(id)?;
            let change = Change::of(TEMPLATE, id, &after.name, Some(&before), Some(&after));
            Ok((after, change))
        })
    }

    /// Deletes a template that no rule uses.
    pub fn delete_template(&self, id: i64) -> Result<()> {
        self.audited(|tx| {
            let before = self.template(id)?;
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
            tx.execute("DELETE FROM rulegen_templates WHERE id = ?1", [id])?;
            let change = Change::of(TEMPLATE, id, &before.name, Some(&before), None);
            Ok(((), change))
        })
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
}
