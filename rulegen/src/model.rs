//! Groups, targets, alert templates and alert rules as stored.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use crate::error::Error;

/// Label or annotation map, sorted by name so output is deterministic.
pub type LabelMap = BTreeMap<String, String>;

/// Alert severity, written as the `severity` label.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize, Default,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Page someone.
    Critical,
    /// Look at it soon.
    #[default]
    Warning,
    /// For information.
    Info,
}

impl Severity {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        match s {
            "critical" => Ok(Severity::Critical),
            "warning" => Ok(Severity::Warning),
            "info" => Ok(Severity::Info),
            other => Err(Error::invalid(
                "severity",
                format!("{other:?} is not one of critical, warning, info"),
            )),
        }
    }
}

/// How a rule combines with a same-named rule of lower precedence when a target's
/// effective rules are computed (seed 002, AAMI's `merge_strategy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum MergeStrategy {
    /// Replaces the other rule whole.
    #[default]
    Override,
    /// Its variables, labels and annotations are added to the other rule's (its own win);
    /// its `for`, `keep_firing_for` and severity apply when it sets them.
    Merge,
}

impl MergeStrategy {
    /// The stored and JSON value.
    pub fn as_str(self) -> &'static str {
        match self {
            MergeStrategy::Override => "override",
            MergeStrategy::Merge => "merge",
        }
    }
}

impl FromStr for MergeStrategy {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        match s {
            "override" => Ok(MergeStrategy::Override),
            "merge" => Ok(MergeStrategy::Merge),
            other => Err(Error::invalid(
                "merge_strategy",
                format!("{other:?} is not one of override, merge"),
            )),
        }
    }
}

/// A rule's default priority (AAMI's).
pub const DEFAULT_PRIORITY: i64 = 100;
/// The highest priority.
pub const MAX_PRIORITY: i64 = 1000;

/// A group of targets; each group with enabled rules becomes one rule file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Group {
    /// Database id; also the `{{.group_id}}` variable and the file name `group-<id>.yml`.
    pub id: i64,
    /// Unique name; also `{{.group_name}}`.
    pub name: String,
    /// Free text.
    pub description: String,
    /// Rule-group options written into the file.
    pub options: GroupOptions,
    /// The group made for a target created without groups (`target-<hostname>`): its rules
    /// win over those of shared groups at equal priority.
    pub is_default_own: bool,
}

/// Per-group rule-file options. Fields that the target Prometheus version lacks are
/// validation errors at generation time.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct GroupOptions {
    /// Evaluation interval (`interval`), e.g. `1m`; default: Prometheus's global one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<String>,
    /// `limit` (Prometheus ≥ 2.31): max alerts per rule per evaluation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// `query_offset` (Prometheus ≥ 2.53).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query_offset: Option<String>,
    /// Group-level `labels` (Prometheus ≥ 3.0).
    #[serde(default, skip_serializing_if = "LabelMap::is_empty")]
    pub labels: LabelMap,
}

/// A monitored host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Target {
    /// Database id.
    pub id: i64,
    /// Unique host name.
    pub hostname: String,
    /// Address (IP or IP:port), free text.
    pub address: String,
    /// Ids of the groups the target belongs to, ascending.
    pub group_ids: Vec<i64>,
}

/// A reusable alert definition with `{{.var}}` placeholders.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AlertTemplate {
    /// Database id.
    pub id: i64,
    /// Unique name; the default alert name of rules made from it.
    pub name: String,
    /// Free text; the default `description` annotation.
    pub description: String,
    /// PromQL with `{{.var}}` placeholders.
    pub query_template: String,
    /// Default variable values.
    pub default_vars: BTreeMap<String, String>,
    /// Default `for` duration.
    pub for_duration: Option<String>,
    /// Default `keep_firing_for` (Prometheus ≥ 2.42).
    pub keep_firing_for: Option<String>,
    /// Default severity.
    pub severity: Severity,
    /// Extra labels (may use `{{.var}}`).
    pub labels: LabelMap,
    /// Annotations (may use `{{.var}}` and Prometheus's own `{{ $labels.x }}`).
    pub annotations: LabelMap,
}

/// A template applied to a group, with overrides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AlertRule {
    /// Database id.
    pub id: i64,
    /// The group it applies to.
    pub group_id: i64,
    /// The template it renders. Template edits apply to every rule made from it.
    pub template_id: i64,
    /// Alert name; `None` uses the template's name.
    pub name: Option<String>,
    /// Variable overrides (win over the template's defaults).
    pub vars: BTreeMap<String, String>,
    /// Disabled rules are kept but not generated.
    pub enabled: bool,
    /// `for` override.
    pub for_duration: Option<String>,
    /// `keep_firing_for` override.
    pub keep_firing_for: Option<String>,
    /// Severity override.
    pub severity: Option<Severity>,
    /// Labels added to (and overriding) the template's.
    pub labels: LabelMap,
    /// Annotations added to (and overriding) the template's.
    pub annotations: LabelMap,
    /// 0..1000 (default 100): among a target's rules of the same alert name, the highest
    /// wins; rules are written in this order (highest first) in the group's file.
    pub priority: i64,
    /// How it combines with a same-named rule of lower precedence.
    pub merge_strategy: MergeStrategy,
}

/// Input for creating or replacing a template.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
pub struct NewTemplate {
    /// See [`AlertTemplate::name`].
    pub name: String,
    /// See [`AlertTemplate::description`].
    #[serde(default)]
    pub description: String,
    /// See [`AlertTemplate::query_template`].
    pub query_template: String,
    /// See [`AlertTemplate::default_vars`].
    #[serde(default)]
    pub default_vars: BTreeMap<String, String>,
    /// See [`AlertTemplate::for_duration`].
    #[serde(default)]
    pub for_duration: Option<String>,
    /// See [`AlertTemplate::keep_firing_for`].
    #[serde(default)]
    pub keep_firing_for: Option<String>,
    /// See [`AlertTemplate::severity`].
    #[serde(default)]
    pub severity: Severity,
    /// See [`AlertTemplate::labels`].
    #[serde(default)]
    pub labels: LabelMap,
    /// See [`AlertTemplate::annotations`].
    #[serde(default)]
    pub annotations: LabelMap,
}

/// Input for creating or replacing a rule.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct NewRule {
    /// See [`AlertRule::group_id`].
    pub group_id: i64,
    /// See [`AlertRule::template_id`].
    pub template_id: i64,
    /// See [`AlertRule::name`].
    #[serde(default)]
    pub name: Option<String>,
    /// See [`AlertRule::vars`].
    #[serde(default)]
    pub vars: BTreeMap<String, String>,
    /// See [`AlertRule::enabled`]. Defaults to `true`.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// See [`AlertRule::for_duration`].
    #[serde(default)]
    pub for_duration: Option<String>,
    /// See [`AlertRule::keep_firing_for`].
    #[serde(default)]
    pub keep_firing_for: Option<String>,
    /// See [`AlertRule::severity`].
    #[serde(default)]
    pub severity: Option<Severity>,
    /// See [`AlertRule::labels`].
    #[serde(default)]
    pub labels: LabelMap,
    /// See [`AlertRule::annotations`].
    #[serde(default)]
    pub annotations: LabelMap,
    /// See [`AlertRule::priority`]. Defaults to 100.
    #[serde(default = "default_priority")]
    pub priority: i64,
    /// See [`AlertRule::merge_strategy`]. Defaults to `override`.
    #[serde(default)]
    pub merge_strategy: MergeStrategy,
}

fn yes() -> bool {
    true
}

fn default_priority() -> i64 {
    DEFAULT_PRIORITY
}

impl NewRule {
    /// A rule applying `template_id` to `group_id`, enabled, with no overrides.
    pub fn new(group_id: i64, template_id: i64) -> Self {
        NewRule {
            group_id,
            template_id,
            name: None,
            vars: BTreeMap::new(),
            enabled: true,
            for_duration: None,
            keep_firing_for: None,
            severity: None,
            labels: LabelMap::new(),
            annotations: LabelMap::new(),
            priority: DEFAULT_PRIORITY,
            merge_strategy: MergeStrategy::Override,
        }
    }
}

/// Variables filled in automatically at generation; templates and rules cannot set them.
pub const AUTOMATIC_VARS: [&str; 2] = ["group_id", "group_name"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severity_round_trip_and_error() {
        for s in [Severity::Critical, Severity::Warning, Severity::Info] {
            assert_eq!(s.as_str().parse::<Severity>().unwrap(), s);
        }
        let err = "fatal".parse::<Severity>().unwrap_err().to_string();
        assert!(err.contains("\"fatal\" is not one of"), "{err}");
    }

    #[test]
    fn new_rule_json_defaults_to_enabled() {
        let r: NewRule = serde_json::from_str(r#"{"group_id":1,"template_id":2}"#).unwrap();
        assert!(r.enabled);
        assert_eq!(r, NewRule::new(1, 2));
    }
}
