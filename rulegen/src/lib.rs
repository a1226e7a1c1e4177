//! # ipocket-rulegen
//!
//! Alert templates, rules, groups and targets, kept in SQLite, rendered into
//! Prometheus rule files (one per group), validated before anything is written,
//! written atomically with bounded backups, and loaded into Prometheus with a
//! confirmed reload.
//!
//! ```
//! use ipocket_rulegen::{NewRule, NewTemplate, RuleStore, PrometheusVersion};
//! use std::collections::BTreeMap;
//!
//! let store = RuleStore::open_in_memory()?;
//! let prod = store.create_group("prod", "production hosts")?;
//! store.create_target("db-01", "10.0.0.5", &[prod.id])?;
//! let cpu = store.create_template(&NewTemplate {
//!     name: "HighCpu".into(),
//!     query_template: "avg by (instance) (rate(node_cpu_seconds_total{mode!=\"idle\",group_id=\"{{.group_id}}\"}[5m])) * 100 > {{.threshold}}".into(),
//!     default_vars: BTreeMap::from([("threshold".into(), "80".into())]),
//!     for_duration: Some("5m".into()),
//!     ..Default::default()
//! })?;
//! let mut rule = NewRule::new(prod.id, cpu.id);
//! rule.vars.insert("threshold".into(), "90".into());
//! store.create_rule(&rule)?;
//!
//! let plan = ipocket_rulegen::generate::plan(&store, PrometheusVersion::DEFAULT, None)?;
//! assert!(plan.files[0].content.contains("> 90"));
//!
//! let eff = ipocket_rulegen::generate::effective_rules(&store, "db-01", PrometheusVersion::DEFAULT)?;
//! assert_eq!(eff.rules[0].source.group_name, "prod");
//! # Ok::<(), ipocket_rulegen::Error>(())
//! ```
#![forbid(unsafe_code)]

pub mod client;
pub mod diff;
mod error;
pub mod files;
pub mod generate;
pub mod generator;
pub mod model;
pub mod names;
pub mod preview;
pub mod promql_compat;
pub mod rulefile;
pub mod store;
pub mod template;
pub mod version;

pub use client::{
    ExpectedRuleFile, LoadedRuleGroup, PrometheusClient, PrometheusStatus, QuerySample,
    ReloadReport,
};
pub use error::{Error, Result, ValidationIssue};
pub use files::{RuleFileInfo, RuleFileManager, WriteOutcome};
pub use generate::{
    EffectiveRules, GeneratedFile, GenerationPlan, OverriddenRule, RenderedRule, RuleSource,
};
pub use generator::{
    client_from_settings, client_from_settings_with, reload_from_settings,
    reload_from_settings_with, status_from_settings, status_from_settings_with, FileAction,
    FileChange, GenerateReport, RuleGenerator,
};
/// The connection options the `*_with` functions take (token, CA file, insecure).
pub use ipocket_db::AuditActor;
pub use ipocket_http::{Auth, ConnectOptions};
pub use model::{
    AlertRule, AlertTemplate, Group, GroupOptions, LabelMap, MergeStrategy, NewRule, NewTemplate,
    Severity, Target,
};
pub use rulefile::{AlertingRule, RuleFile, RuleGroup};
pub use store::runs::GenerationRun;
pub use store::{GenerationLock, RuleStore, Settings, RULES_SCHEMA, SETTING_KEYS};
pub use version::{PrometheusVersion, RuleField};

/// Compiles the examples of `docs/rule-generation.md` as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../docs/rule-generation.md")]
pub struct RuleGenerationDocs;
