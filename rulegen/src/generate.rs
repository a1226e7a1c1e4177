//! Turning stored groups, templates and rules into validated rule files, and
//! computing the effective rules of a target.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::error::{Error, Result, ValidationIssue};
use crate::model::{
    AlertRule, AlertTemplate, Group, LabelMap, MergeStrategy, Severity, Target, AUTOMATIC_VARS,
};
use crate::names::{check_duration, is_valid_label_name};
use crate::rulefile::{AlertingRule, RuleFile, RuleGroup};
use crate::store::RuleStore;
use crate::template::{check_go_template, render_query, render_text, Vars};
use crate::version::{PrometheusVersion, RuleField};

/// Labels added to every generated alert; templates and rules cannot set them.
pub const AUTOMATIC_LABELS: [&str; 3] = ["severity", "group_id", "ipocket_rule_id"];

/// The file name a group's rules are written to.
pub fn file_name_for_group(group_id: i64) -> String {
    format!("group-{group_id}.yml")
}

/// The rule-group name used inside the file for a group.
pub fn prometheus_group_name(group: &Group) -> String {
    format!("ipocket/{}", group.name)
}

/// Where a rendered rule came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleSource {
    /// Group the rule belongs to.
    pub group_id: i64,
    /// Its name.
    pub group_name: String,
    /// The stored rule.
    pub rule_id: i64,
    /// The template the rule applies.
    pub template_id: i64,
    /// Its name.
    pub template_name: String,
    /// The rule file it is written to.
    pub file_name: String,
}

/// One rule after rendering: what Prometheus will evaluate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RenderedRule {
    /// Where it came from.
    pub source: RuleSource,
    /// Alert name.
    pub alert: String,
    /// Rendered PromQL.
    pub expr: String,
    /// `for`.
    pub for_duration: Option<String>,
    /// `keep_firing_for`.
    pub keep_firing_for: Option<String>,
    /// Severity.
    pub severity: Severity,
    /// All labels, automatic ones included.
    pub labels: LabelMap,
    /// All annotations.
    pub annotations: LabelMap,
    /// The variables used (template defaults, overrides and automatic ones).
    pub vars: BTreeMap<String, String>,
    /// The rule's priority (highest first in the file; wins among same-named rules).
    pub priority: i64,
    /// How the rule combines with a same-named rule of lower precedence.
    pub merge_strategy: MergeStrategy,
    /// Effective rules only: ids of the lower-precedence rules of the same alert name whose
    /// overrides this one took in (`merge`), lowest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub merged_from: Vec<i64>,
}

impl RenderedRule {
    fn to_alerting_rule(&self) -> AlertingRule {
        AlertingRule {
            alert: self.alert.clone(),
            expr: self.expr.clone(),
            for_duration: self.for_duration.clone(),
            keep_firing_for: self.keep_firing_for.clone(),
            labels: self.labels.clone(),
            annotations: self.annotations.clone(),
        }
    }
}

fn location(group: &Group, rule: Option<(i64, &str)>) -> String {
    match rule {
        Some((id, name)) => format!(
            "group {:?} (id {}), rule {:?} (id {})",
            group.name, group.id, name, id
        ),
        None => format!("group {:?} (id {})", group.name, group.id),
    }
}

fn issue(loc: &str, field: Option<&str>, message: impl Into<String>) -> ValidationIssue {
    ValidationIssue {
        location: loc.to_string(),
        field: field.map(str::to_string),
        message: message.into(),
    }
}

/// Renders and validates one rule. All problems of the rule are returned together.
pub fn render_rule(
    group: &Group,
    template: &AlertTemplate,
    rule: &AlertRule,
    version: PrometheusVersion,
) -> Result<RenderedRule, Vec<ValidationIssue>> {
    let alert = rule.name.clone().unwrap_or_else(|| template.name.clone());
    let loc = location(group, Some((rule.id, &alert)));
    let mut issues = Vec::new();

    let mut vars: Vars = template.default_vars.clone();
    for (k, v) in &rule.vars {
        vars.insert(k.clone(), v.clone());
    }
    for auto in AUTOMATIC_VARS {
        if vars.contains_key(auto) {
            issues.push(issue(
                &loc,
                Some("variables"),
                format!("{auto:?} is filled in automatically and cannot be set"),
            ));
        }
    }
    vars.insert("group_id".into(), group.id.to_string());
    vars.insert("group_name".into(), group.name.clone());

    if alert.trim().is_empty() {
        issues.push(issue(&loc, Some("alert"), "alert name is empty"));
    }

    let expr = match render_query(&template.query_template, &vars) {
        Ok(rendered) => {
            match promql_parser::parser::parse(&rendered) {
                Err(parse_error) => issues.push(issue(
                    &loc,
                    Some("expr"),
                    format!(
                        "PromQL does not parse: {} (rendered query: {rendered:?})",
                        parse_error.trim()
                    ),
                )),
                Ok(ast) => {
                    for problem in crate::promql_compat::check(&ast, version) {
                        issues.push(issue(&loc, Some("expr"), problem));
                    }
                }
            }
            rendered
        }
        Err(e) => {
            issues.push(issue(&loc, Some("expr"), format!("query template: {e}")));
            String::new()
        }
    };

    let for_duration = rule
        .for_duration
        .clone()
        .or_else(|| template.for_duration.clone());
    if let Some(d) = &for_duration {
        if let Err(e) = check_duration(d) {
            issues.push(issue(&loc, Some("for"), e));
        }
    }
    let keep_firing_for = rule
        .keep_firing_for
        .clone()
        .or_else(|| template.keep_firing_for.clone());
    if let Some(d) = &keep_firing_for {
        if let Err(e) = check_duration(d) {
            issues.push(issue(&loc, Some("keep_firing_for"), e));
        }
        gate(&mut issues, &loc, RuleField::KeepFiringFor, version);
    }

    let severity = rule.severity.unwrap_or(template.severity);
    let mut labels = LabelMap::new();
    for (k, v) in template.labels.iter().chain(rule.labels.iter()) {
        let field = format!("labels.{k}");
        if AUTOMATIC_LABELS.contains(&k.as_str()) {
            issues.push(issue(
                &loc,
                Some(&field),
                format!("label {k:?} is set automatically and cannot be set"),
            ));
            continue;
        }
        if !is_valid_label_name(k) || k == "__name__" {
            issues.push(issue(
                &loc,
                Some(&field),
                format!("{k:?} is not a valid label name (expected [a-zA-Z_][a-zA-Z0-9_]*)"),
            ));
            continue;
        }
        match render_text(v, &vars).and_then(|v| check_go_template(&v).map(|()| v)) {
            Ok(v) => {
                labels.insert(k.clone(), v);
            }
            Err(e) => issues.push(issue(&loc, Some(&field), format!("template: {e}"))),
        }
    }
    labels.insert("severity".into(), severity.as_str().into());
    labels.insert("group_id".into(), group.id.to_string());
    labels.insert("ipocket_rule_id".into(), rule.id.to_string());

    let mut annotations = LabelMap::new();
    annotations.insert("summary".into(), alert.clone());
    if !template.description.is_empty() {
        annotations.insert("description".into(), template.description.clone());
    }
    for (k, v) in template.annotations.iter().chain(rule.annotations.iter()) {
        let field = format!("annotations.{k}");
        if !is_valid_label_name(k) {
            issues.push(issue(
                &loc,
                Some(&field),
                format!("{k:?} is not a valid annotation name (expected [a-zA-Z_][a-zA-Z0-9_]*)"),
            ));
            continue;
        }
        annotations.insert(k.clone(), v.clone());
    }
    for (k, v) in annotations.iter_mut() {
        match render_text(v, &vars).and_then(|r| check_go_template(&r).map(|()| r)) {
            Ok(r) => *v = r,
            Err(e) => issues.push(issue(
                &loc,
                Some(&format!("annotations.{k}")),
                format!("template: {e}"),
            )),
        }
    }

    if !issues.is_empty() {
        return Err(issues);
    }
    Ok(RenderedRule {
        source: RuleSource {
            group_id: group.id,
            group_name: group.name.clone(),
            rule_id: rule.id,
            template_id: template.id,
            template_name: template.name.clone(),
            file_name: file_name_for_group(group.id),
        },
        alert,
        expr,
        for_duration,
        keep_firing_for,
        severity,
        labels,
        annotations,
        vars,
        priority: rule.priority,
        merge_strategy: rule.merge_strategy,
        merged_from: Vec::new(),
    })
}

fn gate(issues: &mut Vec<ValidationIssue>, loc: &str, field: RuleField, v: PrometheusVersion) {
    if !v.supports(field) {
        issues.push(issue(
            loc,
            Some(field.yaml_key()),
            format!(
                "`{}` needs Prometheus {} or newer, but the target version is {v}; \
                 remove it or raise the target version",
                field.yaml_key(),
                field.since()
            ),
        ));
    }
}

/// A rule file ready to be written: rendered, validated, serialized.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GeneratedFile {
    /// The group.
    pub group_id: i64,
    /// Its name.
    pub group_name: String,
    /// `group-<id>.yml`.
    pub file_name: String,
    /// Rule-group names in the file (what `/api/v1/rules` will list).
    pub prometheus_groups: Vec<String>,
    /// Number of rules.
    pub rule_count: usize,
    /// The YAML text.
    pub content: String,
    /// The rules, in file order.
    pub rules: Vec<RenderedRule>,
}

/// What a generation run would produce: files to write, and groups whose file must go.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct GenerationPlan {
    /// One file per group with at least one enabled rule.
    pub files: Vec<GeneratedFile>,
    /// Groups considered that have no enabled rule (their file, if any, is removed).
    pub empty_groups: Vec<i64>,
    /// True when every group was considered (so files of deleted groups are stale too).
    pub all_groups: bool,
}

/// Builds (without writing) the rule files for all groups, or for one.
///
/// Every problem in every rule is collected; if there is any, the result is
/// [`Error::Validation`] and nothing should be written.
pub fn plan(
    store: &RuleStore,
    version: PrometheusVersion,
    only_group: Option<i64>,
) -> Result<GenerationPlan> {
    let groups = match only_group {
        Some(id) => vec![store.group(id)?],
        None => store.groups()?,
    };
    let templates: BTreeMap<i64, AlertTemplate> =
        store.templates()?.into_iter().map(|t| (t.id, t)).collect();
    let mut out = GenerationPlan {
        all_groups: only_group.is_none(),
        ..Default::default()
    };
    let mut issues = Vec::new();
    let mut seen_group_names: BTreeSet<String> = BTreeSet::new();
    for group in &groups {
        let rules: Vec<AlertRule> = store
            .rules(Some(group.id))?
            .into_iter()
            .filter(|r| r.enabled)
            .collect();
        if rules.is_empty() {
            out.empty_groups.push(group.id);
            continue;
        }
        match build_group_file(group, &rules, &templates, version) {
            Ok(f) => {
                for name in &f.prometheus_groups {
                    if !seen_group_names.insert(name.clone()) {
                        issues.push(issue(
                            &location(group, None),
                            Some("name"),
                            format!("rule group name {name:?} is used by another group"),
                        ));
                    }
                }
                out.files.push(f)
            }
            Err(mut i) => issues.append(&mut i),
        }
    }
    if !issues.is_empty() {
        return Err(Error::Validation(issues));
    }
    Ok(out)
}

/// Renders, validates and serializes the file of one group from its enabled rules.
pub fn build_group_file(
    group: &Group,
    rules: &[AlertRule],
    templates: &BTreeMap<i64, AlertTemplate>,
    version: PrometheusVersion,
) -> Result<GeneratedFile, Vec<ValidationIssue>> {
    let gloc = location(group, None);
    let mut issues = Vec::new();
    let o = &group.options;
    if let Some(i) = &o.interval {
        if let Err(e) = check_duration(i) {
            issues.push(issue(&gloc, Some("interval"), e));
        }
    }
    if o.limit.is_some() {
        gate(&mut issues, &gloc, RuleField::Limit, version);
    }
    if let Some(q) = &o.query_offset {
        if let Err(e) = check_duration(q) {
            issues.push(issue(&gloc, Some("query_offset"), e));
        }
        gate(&mut issues, &gloc, RuleField::QueryOffset, version);
    }
    if !o.labels.is_empty() {
        gate(&mut issues, &gloc, RuleField::GroupLabels, version);
        for k in o.labels.keys() {
            if !is_valid_label_name(k) || k == "__name__" {
                issues.push(issue(
                    &gloc,
                    Some(&format!("labels.{k}")),
                    format!("{k:?} is not a valid label name"),
                ));
            }
        }
    }

    let mut rendered = Vec::new();
    for rule in rules {
        let Some(template) = templates.get(&rule.template_id) else {
            issues.push(issue(
                &gloc,
                None,
                format!(
                    "rule {} uses template {} which does not exist",
                    rule.id, rule.template_id
                ),
            ));
            continue;
        };
        match render_rule(group, template, rule, version) {
            Ok(r) => rendered.push(r),
            Err(mut i) => issues.append(&mut i),
        }
    }
    rendered.sort_by(|a, b| {
        (a.alert.as_str(), a.source.rule_id).cmp(&(b.alert.as_str(), b.source.rule_id))
    });
    for pair in rendered.windows(2) {
        if pair[0].alert == pair[1].alert {
            issues.push(issue(
                &location(group, Some((pair[1].source.rule_id, &pair[1].alert))),
                Some("alert"),
                format!(
                    "alert name {:?} is also used by rule {} in this group; give one of them its own name",
                    pair[1].alert, pair[0].source.rule_id
                ),
            ));
        }
    }
    if !issues.is_empty() {
        return Err(issues);
    }
    // Written highest priority first (AAMI's order), then by alert name.
    rendered.sort_by(|a, b| {
        (b.priority, a.alert.as_str(), a.source.rule_id).cmp(&(
            a.priority,
            b.alert.as_str(),
            b.source.rule_id,
        ))
    });

    let file = RuleFile {
        groups: vec![RuleGroup {
            name: prometheus_group_name(group),
            interval: o.interval.clone(),
            limit: o.limit,
            query_offset: o.query_offset.clone(),
            labels: o.labels.clone(),
            rules: rendered
                .iter()
                .map(RenderedRule::to_alerting_rule)
                .collect(),
        }],
    };
    let header = format!(
        "Generated by ipocket-rulegen from group {:?} (id {}) for Prometheus {version}.\n\
         Do not edit: the next generation overwrites this file.",
        group.name, group.id
    );
    let content = match file.to_yaml(&header) {
        Ok(c) => c,
        Err(e) => return Err(vec![issue(&gloc, None, e.to_string())]),
    };
    Ok(GeneratedFile {
        group_id: group.id,
        group_name: group.name.clone(),
        file_name: file_name_for_group(group.id),
        prometheus_groups: file.groups.iter().map(|g| g.name.clone()).collect(),
        rule_count: file.rule_count(),
        content,
        rules: rendered,
    })
}

/// The rules that apply to one target through its groups.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EffectiveRules {
    /// The target.
    pub target: Target,
    /// One rule per alert name: the winner among the target's enabled rules of that name
    /// (see [`effective_rules`]), each with its source, ordered by alert name.
    pub rules: Vec<RenderedRule>,
    /// The rules that lost to a same-named rule of higher precedence.
    pub overridden: Vec<OverriddenRule>,
}

/// A rule of a target's groups that a same-named rule of higher precedence replaced (or
/// merged into itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OverriddenRule {
    /// The rule.
    pub rule_id: i64,
    /// Its group.
    pub group_id: i64,
    /// Its group's name.
    pub group_name: String,
    /// The alert name.
    pub alert: String,
    /// The rule in effect instead.
    pub by_rule_id: i64,
    /// `true` when its overrides live on in the winner (`merge`).
    pub merged: bool,
}

/// A rule of a target with its precedence (priority, in the target's own group, id) and group.
type Candidate = ((i64, bool, i64), AlertRule, Group);

/// A rule's overrides merged over `base`'s (`rule`'s win): variables, labels and
/// annotations are unioned; `for`, `keep_firing_for` and severity are `rule`'s when set.
/// The template stays `rule`'s.
fn merge_rule(base: &AlertRule, rule: &AlertRule) -> AlertRule {
    let union = |a: &BTreeMap<String, String>, b: &BTreeMap<String, String>| {
        let mut m = a.clone();
        m.extend(b.iter().map(|(k, v)| (k.clone(), v.clone())));
        m
    };
    AlertRule {
        vars: union(&base.vars, &rule.vars),
        labels: union(&base.labels, &rule.labels),
        annotations: union(&base.annotations, &rule.annotations),
        for_duration: rule
            .for_duration
            .clone()
            .or_else(|| base.for_duration.clone()),
        keep_firing_for: rule
            .keep_firing_for
            .clone()
            .or_else(|| base.keep_firing_for.clone()),
        severity: rule.severity.or(base.severity),
        ..rule.clone()
    }
}

/// Computes the effective rules of a target (by id or host name), seed 002's semantics
/// with a defined order.
///
/// The target's enabled rules are keyed by alert name. Within one name they are applied
/// from the lowest precedence to the highest, precedence being (`priority`, the rule is in
/// the target's own group, rule id): an `override` rule replaces what came before, a
/// `merge` rule takes it in ([`MergeStrategy::Merge`]). So the highest priority wins; at
/// equal priority the target's own group wins over shared groups, then the newer rule.
/// Each group's file still holds all its rules: Prometheus evaluates every file.
pub fn effective_rules(
    store: &RuleStore,
    target: &str,
    version: PrometheusVersion,
) -> Result<EffectiveRules> {
    let target = store.find_target(target)?;
    let templates: BTreeMap<i64, AlertTemplate> =
        store.templates()?.into_iter().map(|t| (t.id, t)).collect();
    // Alert name → (precedence, rule, group) of every candidate.
    let mut by_alert: BTreeMap<String, Vec<Candidate>> = BTreeMap::new();
    for gid in &target.group_ids {
        let group = store.group(*gid)?;
        for rule in store
            .rules(Some(group.id))?
            .into_iter()
            .filter(|r| r.enabled)
        {
            let Some(t) = templates.get(&rule.template_id) else {
                continue;
            };
            let alert = rule.name.clone().unwrap_or_else(|| t.name.clone());
            let precedence = (rule.priority, group.is_default_own, rule.id);
            by_alert
                .entry(alert)
                .or_default()
                .push((precedence, rule, group.clone()));
        }
    }
    let mut rules = Vec::new();
    let mut overridden = Vec::new();
    let mut issues = Vec::new();
    for (alert, mut candidates) in by_alert {
        candidates.sort_by_key(|c| c.0);
        let mut acc: Option<(AlertRule, Group, Vec<i64>)> = None;
        let mut losers: Vec<(i64, i64, String, bool)> = Vec::new();
        for (_, rule, group) in candidates {
            acc = Some(match acc.take() {
                None => (rule, group, Vec::new()),
                Some((prev, prev_group, mut merged)) => {
                    let merge = rule.merge_strategy == MergeStrategy::Merge;
                    losers.push((prev.id, prev_group.id, prev_group.name.clone(), merge));
                    if merge {
                        merged.push(prev.id);
                        (merge_rule(&prev, &rule), group, merged)
                    } else {
                        (rule, group, Vec::new())
                    }
                }
            });
        }
        let Some((rule, group, merged_from)) = acc else {
            continue;
        };
        for (rule_id, group_id, group_name, merged) in losers {
            overridden.push(OverriddenRule {
                rule_id,
                group_id,
                group_name,
                alert: alert.clone(),
                by_rule_id: rule.id,
                // Taken in only if every later step merged too.
                merged: merged && merged_from.contains(&rule_id),
            });
        }
        let template = &templates[&rule.template_id];
        match render_rule(&group, template, &rule, version) {
            Ok(mut r) => {
                r.merged_from = merged_from;
                rules.push(r);
            }
            Err(mut i) => issues.append(&mut i),
        }
    }
    if !issues.is_empty() {
        return Err(Error::Validation(issues));
    }
    Ok(EffectiveRules {
        target,
        rules,
        overridden,
    })
}

#[cfg(test)]
mod tests;
