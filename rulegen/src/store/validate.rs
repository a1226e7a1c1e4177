//! Validation before saving: a template whose query does not parse, or a rule that would not
//! render (a missing variable, bad PromQL, a bad label), is refused at once with the field
//! to blame, instead of being stored and then blocking every regenerate (issue #19).

use super::RuleStore;
use crate::error::{Error, Result};
use crate::generate::render_rule;
use crate::model::{AlertRule, AlertTemplate, NewRule, NewTemplate};
use crate::template::{placeholders, render_query, Vars};

/// Stand-ins for the automatic variables: any group gives the same PromQL syntax.
fn automatic_vars() -> Vars {
    Vars::from([
        ("group_id".to_string(), "1".to_string()),
        ("group_name".to_string(), "group".to_string()),
    ])
}

/// The template input field a generation issue's field comes from.
fn template_field(issue_field: Option<&str>) -> &'static str {
    match issue_field.unwrap_or("") {
        "expr" => "query_template",
        "variables" => "default_vars",
        "for" => "for_duration",
        "keep_firing_for" => "keep_firing_for",
        "alert" => "name",
        f if f.starts_with("labels") => "labels",
        f if f.starts_with("annotations") => "annotations",
        _ => "",
    }
}

/// The rule input field a generation issue's field comes from (`labels.team` → `labels`).
fn rule_field(issue_field: Option<&str>) -> &'static str {
    match issue_field.unwrap_or("") {
        "expr" | "variables" => "vars",
        "for" => "for_duration",
        "keep_firing_for" => "keep_firing_for",
        "alert" => "name",
        f if f.starts_with("labels") => "labels",
        f if f.starts_with("annotations") => "annotations",
        _ => "",
    }
}

impl RuleStore {
    /// Checks a template as [`RuleStore::create_template`] does and, when every variable of
    /// its query has a default (or is automatic), that the rendered query parses as PromQL
    /// for the target Prometheus version. A query with variables left to the rules is parsed
    /// when a rule is saved ([`RuleStore::validate_rule`]). `id` is the template being
    /// replaced: every rule made from it must still render with the new version (the error
    /// names the rule). Errors name the template's field (`query_template`, `labels`, …).
    ///
    /// ```
    /// use ipocket_rulegen::{NewTemplate, RuleStore};
    /// let store = RuleStore::open_in_memory()?;
    /// let bad = NewTemplate { name: "Bad".into(), query_template: "rate(x[5m]".into(), ..Default::default() };
    /// assert!(store.validate_template(None, &bad).unwrap_err().to_string().contains("PromQL does not parse"));
    /// # Ok::<(), ipocket_rulegen::Error>(())
    /// ```
    pub fn validate_template(&self, id: Option<i64>, t: &NewTemplate) -> Result<()> {
        Self::check_template(t)?;
        if let Some(id) = id {
            self.validate_rules_of(id, t)?;
        }
        let mut vars = t.default_vars.clone();
        vars.extend(automatic_vars());
        let names = placeholders(&t.query_template)
            .map_err(|reason| Error::invalid("query_template", reason))?;
        if !names.iter().all(|n| vars.contains_key(n)) {
            return Ok(());
        }
        let query = render_query(&t.query_template, &vars)
            .map_err(|reason| Error::invalid("query_template", reason))?;
        let ast = promql_parser::parser::parse(&query).map_err(|e| {
            Error::invalid(
                "query_template",
                format!("PromQL does not parse: {}", e.trim()),
            )
        })?;
        let version = self.settings()?.target_version;
        match crate::promql_compat::check(&ast, version)
            .into_iter()
            .next()
        {
            Some(problem) => Err(Error::invalid("query_template", problem)),
            None => Ok(()),
        }
    }

    /// Every rule made from template `id` rendered with `t` in its place.
    fn validate_rules_of(&self, id: i64, t: &NewTemplate) -> Result<()> {
        let template = AlertTemplate {
            id,
            name: t.name.clone(),
            description: t.description.clone(),
            query_template: t.query_template.clone(),
            default_vars: t.default_vars.clone(),
            for_duration: t.for_duration.clone(),
            keep_firing_for: t.keep_firing_for.clone(),
            severity: t.severity,
            labels: t.labels.clone(),
            annotations: t.annotations.clone(),
        };
        let version = self.settings()?.target_version;
        for rule in self
            .rules(None)?
            .into_iter()
            .filter(|r| r.template_id == id)
        {
            let group = self.group(rule.group_id)?;
            if let Err(issues) = render_rule(&group, &template, &rule, version) {
                if let Some(i) = issues.into_iter().next() {
                    return Err(Error::invalid(
                        template_field(i.field.as_deref()),
                        format!(
                            "breaks rule {} of group {:?}: {}",
                            rule.id, group.name, i.message
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Checks a rule as [`RuleStore::create_rule`] does and renders it with its group and
    /// template as generation would: the first problem is an [`Error::InvalidInput`] naming
    /// the rule's field (`vars` for the query, `labels`, `annotations`, `for_duration`, …).
    /// `id` is the rule being replaced, if any.
    pub fn validate_rule(&self, id: Option<i64>, r: &NewRule) -> Result<()> {
        self.check_rule(r)?;
        let group = self.group(r.group_id)?;
        let template = self.template(r.template_id)?;
        let rule = AlertRule {
            id: id.unwrap_or(0),
            group_id: r.group_id,
            template_id: r.template_id,
            name: r.name.clone(),
            vars: r.vars.clone(),
            enabled: r.enabled,
            for_duration: r.for_duration.clone(),
            keep_firing_for: r.keep_firing_for.clone(),
            severity: r.severity,
            labels: r.labels.clone(),
            annotations: r.annotations.clone(),
            priority: r.priority,
            merge_strategy: r.merge_strategy,
        };
        let version = self.settings()?.target_version;
        match render_rule(&group, &template, &rule, version) {
            Ok(_) => Ok(()),
            Err(issues) => {
                let first = issues
                    .into_iter()
                    .next()
                    .map(|i| Error::invalid(rule_field(i.field.as_deref()), i.message));
                Err(first.unwrap_or_else(|| Error::invalid("vars", "does not render")))
            }
        }
    }
}
