//! Prometheus's rule-file schema (alerting rules), and YAML in and out.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::LabelMap;

/// A whole rule file: `groups:` and nothing else.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleFile {
    /// Rule groups, in file order.
    pub groups: Vec<RuleGroup>,
}

/// One `groups[]` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleGroup {
    /// Group name (unique within the file).
    pub name: String,
    /// Evaluation interval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<String>,
    /// Alert limit per rule (Prometheus ≥ 2.31).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Query offset (Prometheus ≥ 2.53).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query_offset: Option<String>,
    /// Labels added to every rule (Prometheus ≥ 3.0).
    #[serde(default, skip_serializing_if = "LabelMap::is_empty")]
    pub labels: LabelMap,
    /// The rules.
    pub rules: Vec<AlertingRule>,
}

/// One alerting rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertingRule {
    /// Alert name.
    pub alert: String,
    /// PromQL expression.
    pub expr: String,
    /// How long the condition must hold before the alert fires.
    #[serde(default, rename = "for", skip_serializing_if = "Option::is_none")]
    pub for_duration: Option<String>,
    /// How long the alert keeps firing after the condition clears (Prometheus ≥ 2.42).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_firing_for: Option<String>,
    /// Labels.
    #[serde(default, skip_serializing_if = "LabelMap::is_empty")]
    pub labels: LabelMap,
    /// Annotations.
    #[serde(default, skip_serializing_if = "LabelMap::is_empty")]
    pub annotations: LabelMap,
}

impl RuleFile {
    /// Number of rules in all groups.
    pub fn rule_count(&self) -> usize {
        self.groups.iter().map(|g| g.rules.len()).sum()
    }

    /// Renders the file as YAML with `header` (comment lines) on top.
    ///
    /// Strings that YAML 1.1 readers would take for booleans, numbers or dates
    /// (`no`, `on`, `12:30`, `1_000`, ...) are quoted.
    pub fn to_yaml(&self, header: &str) -> Result<String> {
        let mut options = serde_saphyr::SerializerOptions::default();
        options.prefer_block_scalars = false;
        options.indent_step = 2;
        let body = serde_saphyr::to_string_with_options(self, options)
            .map_err(|e| Error::Yaml(e.to_string()))?;
        let mut out = String::with_capacity(header.len() + body.len() + 1);
        for line in header.lines() {
            out.push_str("# ");
            out.push_str(line);
            out.push('\n');
        }
        out.push_str(&body);
        if !out.ends_with('\n') {
            out.push('\n');
        }
        Ok(out)
    }

    /// Parses a rule file strictly (unknown keys are errors).
    pub fn from_yaml(text: &str) -> Result<Self> {
        serde_saphyr::from_str(text).map_err(|e| Error::Yaml(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(value: &str) -> RuleFile {
        RuleFile {
            groups: vec![RuleGroup {
                name: "ipocket/prod".into(),
                interval: Some("1m".into()),
                limit: None,
                query_offset: None,
                labels: LabelMap::new(),
                rules: vec![AlertingRule {
                    alert: "HighCpu".into(),
                    expr: "cpu > 80".into(),
                    for_duration: Some("5m".into()),
                    keep_firing_for: None,
                    labels: LabelMap::from([("team".into(), value.into())]),
                    annotations: LabelMap::from([("summary".into(), value.into())]),
                }],
            }],
        }
    }

    #[test]
    fn yaml_has_header_and_schema_keys() {
        let y = sample("db").to_yaml("Generated.\nDo not edit.").unwrap();
        assert!(y.starts_with("# Generated.\n# Do not edit.\n"), "{y}");
        assert!(y.contains("for: 5m"), "{y}");
        assert!(!y.contains("for_duration"), "{y}");
        assert!(!y.contains("keep_firing_for"), "{y}");
        assert!(!y.contains("limit"), "{y}");
    }

    #[test]
    fn tricky_strings_round_trip_and_are_quoted() {
        let tricky = [
            "no",
            "yes",
            "on",
            "off",
            "true",
            "NULL",
            "~",
            "",
            "1e3",
            "0755",
            "0x1F",
            "12:30",
            "1_000",
            ".inf",
            "-",
            "- x",
            "a: b",
            "#x",
            "@at",
            "`tick",
            "*star",
            "&amp",
            "!tag",
            "%pct",
            "{{ $labels.instance }}",
            " lead",
            "trail ",
            "multi\nline",
            "tab\tx",
            "quote\"d",
            "it's",
            "ünïcödé",
            "2024-01-01",
            "=",
            "?q",
            "|pipe",
            ">gt",
            "[x]",
            "{y}",
        ];
        for value in tricky {
            let f = sample(value);
            let y = f.to_yaml("h").unwrap();
            let back = RuleFile::from_yaml(&y).unwrap_or_else(|e| panic!("{value:?}: {e}\n{y}"));
            assert_eq!(back, f, "{value:?}\n{y}");
        }
        for bare in ["no", "yes", "on", "off", "12:30", "1_000", "2024-01-01"] {
            let y = sample(bare).to_yaml("h").unwrap();
            assert!(
                !y.contains(&format!("team: {bare}\n")),
                "{bare} must be quoted for YAML 1.1 readers:\n{y}"
            );
        }
    }

    #[test]
    fn strict_parse_rejects_unknown_fields() {
        let err = RuleFile::from_yaml("groups:\n- name: a\n  rules: []\n  bogus: 1\n").unwrap_err();
        assert!(err.to_string().contains("bogus"), "{err}");
    }
}
