//! `ipocket rules …`: alert templates, rules, groups and targets, rule-file generation and the
//! Prometheus reload, over `ipocket-rulegen`. Lists and reports print as JSON.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use ipocket_rulegen::generate::effective_rules;
use ipocket_rulegen::preview::{find_rule, preview_rule, render_stored_rule, RulePreview};
use ipocket_rulegen::{
    client_from_settings_with, reload_from_settings_with, status_from_settings_with,
    ConnectOptions, FileAction, GenerationRun, GroupOptions, MergeStrategy, NewRule, NewTemplate,
    RuleGenerator, RuleStore,
};
use serde::Serialize;

#[derive(Args)]
pub(crate) struct RulesArgs {
    /// The SQLite database (commands that add create it; the others refuse a missing one).
    #[arg(long, env = "IPOCKET_DB", default_value = "ipocket.db", global = true)]
    db: PathBuf,
    #[command(subcommand)]
    command: RulesCommand,
}

#[derive(Subcommand)]
enum RulesCommand {
    /// Show the settings, or set one (rule_dir, prometheus_url, target_version, backup_count, promtool, prometheus_rule_dir).
    Settings {
        /// Setting to change.
        key: Option<String>,
        /// New value; empty unsets.
        value: Option<String>,
    },
    /// Groups of targets: each group with enabled rules becomes one rule file.
    #[command(subcommand)]
    Groups(GroupsCommand),
    /// Monitored hosts and their groups.
    #[command(subcommand)]
    Targets(TargetsCommand),
    /// Alert templates (PromQL with {{.var}} placeholders).
    #[command(subcommand)]
    Templates(TemplatesCommand),
    /// Rules: a template applied to a group.
    #[command(subcommand)]
    Rules(RuleCommand),
    /// Validate and write the rule files (one per group), or show the diff with --dry-run.
    Generate {
        /// Only this group (id or name).
        #[arg(long)]
        group: Option<String>,
        /// Show what would change; write nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// List the rule files on disk.
    Files,
    /// Ask Prometheus to reload and confirm it loaded the files' groups.
    Reload(PrometheusFlags),
    /// Prometheus health, readiness and version.
    Status(PrometheusFlags),
    /// Evaluate a rule's expression now in Prometheus (the `prometheus_url` setting): which
    /// series it matches, so would fire for, before any file is generated. Exit status 2
    /// when Prometheus could not evaluate it (unreachable, or it refused the expression).
    Preview {
        /// Rule id, or its alert name when only one rule has it.
        rule: String,
        #[command(flatten)]
        prometheus: PrometheusFlags,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Every rule that applies to a target (id or host name), with where it comes from.
    Effective {
        /// Target id or host name.
        target: String,
    },
}

/// How to reach the Prometheus of the `prometheus_url` setting; the same flags as
/// `ipocket connector prometheus`. Credentials are never stored in the database.
#[derive(Args)]
struct PrometheusFlags {
    /// Prometheus credentials: `user:password` for Basic auth, anything else is a Bearer token.
    #[arg(long, env = "IPOCKET_PROMETHEUS_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Skip TLS certificate verification (https only; for test set-ups).
    #[arg(long, env = "IPOCKET_PROMETHEUS_INSECURE")]
    insecure: bool,
    /// Also trust the PEM certificate(s) in this file (a private CA or a self-signed server).
    #[arg(long, env = "IPOCKET_PROMETHEUS_CA_FILE")]
    ca_file: Option<PathBuf>,
}

impl PrometheusFlags {
    fn options(self) -> ConnectOptions {
        ConnectOptions::from_flags(self.token.as_deref(), self.ca_file, self.insecure)
    }
}

#[derive(Subcommand)]
enum GroupsCommand {
    /// List groups.
    List,
    /// Create a group.
    Add {
        /// Unique name.
        name: String,
        /// Free text.
        #[arg(long, default_value = "")]
        description: String,
        /// Rule-group options as JSON or YAML (interval, limit, query_offset, labels).
        #[arg(long)]
        options: Option<String>,
    },
    /// Rename or re-describe a group.
    Update {
        /// Group id or name.
        group: String,
        /// New name.
        name: String,
        /// Free text.
        #[arg(long, default_value = "")]
        description: String,
        /// Rule-group options as JSON or YAML.
        #[arg(long)]
        options: Option<String>,
    },
    /// Delete a group and its rules.
    Delete {
        /// Group id or name.
        group: String,
    },
}

#[derive(Subcommand)]
enum TargetsCommand {
    /// List targets.
    List,
    /// Create a target.
    Add {
        /// Unique host name.
        hostname: String,
        /// Address (IP or IP:port).
        address: String,
        /// Group (id or name) to join; repeat for several. None: the target gets a group of
        /// its own, `target-<hostname>`.
        #[arg(long = "group")]
        groups: Vec<String>,
    },
    /// Replace a target's groups.
    SetGroups {
        /// Target id or host name.
        target: String,
        /// Groups (id or name).
        #[arg(long = "group")]
        groups: Vec<String>,
    },
    /// Delete a target.
    Delete {
        /// Target id or host name.
        target: String,
    },
}

#[derive(Subcommand)]
enum TemplatesCommand {
    /// List templates.
    List,
    /// Create a template from a YAML or JSON file (fields of NewTemplate).
    Add {
        /// The file.
        file: PathBuf,
    },
    /// Replace a template from a YAML or JSON file.
    Update {
        /// Template id or name.
        template: String,
        /// The file.
        file: PathBuf,
    },
    /// Delete a template (refused while rules use it).
    Delete {
        /// Template id or name.
        template: String,
    },
}

#[derive(Subcommand)]
enum RuleCommand {
    /// List rules, optionally of one group.
    List {
        /// Group id or name.
        #[arg(long)]
        group: Option<String>,
    },
    /// Apply a template to a group.
    Add {
        /// Group id or name.
        group: String,
        /// Template id or name.
        template: String,
        /// Alert name (default: the template's).
        #[arg(long)]
        name: Option<String>,
        /// Variable override NAME=VALUE; repeat for several.
        #[arg(long = "var", value_parser = parse_var)]
        vars: Vec<(String, String)>,
        /// Create it disabled.
        #[arg(long)]
        disabled: bool,
        /// 0 to 1000: among a target's rules of one alert name the highest wins.
        #[arg(long, default_value_t = ipocket_rulegen::model::DEFAULT_PRIORITY)]
        priority: i64,
        /// Over a lower rule of the same name: `override` replaces it, `merge` adds this
        /// rule's variables, labels and annotations to it.
        #[arg(long, default_value = "override")]
        merge_strategy: MergeStrategy,
    },
    /// Replace a rule from a YAML or JSON file (fields of NewRule).
    Update {
        /// Rule id.
        id: i64,
        /// The file.
        file: PathBuf,
    },
    /// Enable a rule.
    Enable {
        /// Rule id.
        id: i64,
    },
    /// Disable a rule (kept, not generated).
    Disable {
        /// Rule id.
        id: i64,
    },
    /// Delete a rule.
    Delete {
        /// Rule id.
        id: i64,
    },
}

fn parse_var(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .ok_or_else(|| format!("expected NAME=VALUE, got {s:?}"))
}

fn print_json(value: &impl Serialize) -> Result<()> {
    outln!("{}", serde_json::to_string_pretty(value)?)?;
    Ok(())
}

/// The preview as text: the verdict, then one line per matching series.
fn print_rule_preview(p: &RulePreview) -> Result<()> {
    outln!("{} (rule {}, group {})", p.alert, p.rule_id, p.group_name)?;
    outln!("expr: {}", p.expr)?;
    if let Some(f) = &p.for_duration {
        outln!("for: {f}")?;
    }
    outln!("{}", p.verdict)?;
    for s in &p.series {
        let labels: Vec<String> = s.labels.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
        outln!("  {{{}}} {}", labels.join(", "), s.value)?;
    }
    Ok(())
}

/// Reads a YAML (or JSON, which is YAML) file into `T`.
fn read_yaml<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_saphyr::from_str(&text).with_context(|| format!("{}", path.display()))
}

fn options(text: Option<&str>) -> Result<GroupOptions> {
    match text {
        None => Ok(GroupOptions::default()),
        Some(t) => serde_saphyr::from_str(t).context("--options"),
    }
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

impl RulesCommand {
    /// Creates something from nothing, so may start a database (everything else reads, or
    /// changes records that a new database would not have; `generate` would write empty
    /// rule files over the real ones).
    fn creates(&self) -> bool {
        matches!(
            self,
            RulesCommand::Settings { key: Some(_), .. }
                | RulesCommand::Groups(GroupsCommand::Add { .. })
                | RulesCommand::Targets(TargetsCommand::Add { .. })
                | RulesCommand::Templates(TemplatesCommand::Add { .. })
        )
    }
}

pub(crate) fn run(args: RulesArgs) -> Result<ExitCode> {
    let url = crate::db_path::url(&args.db, args.command.creates())?;
    let store = RuleStore::open_url(&url).with_context(|| format!("opening {url}"))?;
    let group_id = |key: &str| store.find_group(key).map(|g| g.id);
    match args.command {
        RulesCommand::Settings { key: None, .. } => print_json(&store.settings()?)?,
        RulesCommand::Settings {
            key: Some(key),
            value,
        } => print_json(&store.set_setting(&key, value.as_deref().unwrap_or(""))?)?,
        RulesCommand::Groups(cmd) => match cmd {
            GroupsCommand::List => print_json(&store.groups()?)?,
            GroupsCommand::Add {
                name,
                description,
                options: o,
            } => print_json(&store.create_group_with(
                &name,
                &description,
                &options(o.as_deref())?,
            )?)?,
            GroupsCommand::Update {
                group,
                name,
                description,
                options: o,
            } => print_json(&store.update_group(
                group_id(&group)?,
                &name,
                &description,
                &options(o.as_deref())?,
            )?)?,
            GroupsCommand::Delete { group } => store.delete_group(group_id(&group)?)?,
        },
        RulesCommand::Targets(cmd) => match cmd {
            TargetsCommand::List => print_json(&store.targets()?)?,
            TargetsCommand::Add {
                hostname,
                address,
                groups,
            } => {
                let ids = groups
                    .iter()
                    .map(|g| group_id(g))
                    .collect::<Result<Vec<_>, _>>()?;
                print_json(&store.create_target(&hostname, &address, &ids)?)?
            }
            TargetsCommand::SetGroups { target, groups } => {
                let ids = groups
                    .iter()
                    .map(|g| group_id(g))
                    .collect::<Result<Vec<_>, _>>()?;
                print_json(&store.set_target_groups(store.find_target(&target)?.id, &ids)?)?
            }
            TargetsCommand::Delete { target } => {
                store.delete_target(store.find_target(&target)?.id)?
            }
        },
        RulesCommand::Templates(cmd) => match cmd {
            TemplatesCommand::List => print_json(&store.templates()?)?,
            TemplatesCommand::Add { file } => {
                print_json(&store.create_template(&read_yaml::<NewTemplate>(&file)?)?)?
            }
            TemplatesCommand::Update { template, file } => print_json(&store.update_template(
                store.find_template(&template)?.id,
                &read_yaml::<NewTemplate>(&file)?,
            )?)?,
            TemplatesCommand::Delete { template } => {
                store.delete_template(store.find_template(&template)?.id)?
            }
        },
        RulesCommand::Rules(cmd) => match cmd {
            RuleCommand::List { group } => {
                print_json(&store.rules(group.as_deref().map(group_id).transpose()?)?)?
            }
            RuleCommand::Add {
                group,
                template,
                name,
                vars,
                disabled,
                priority,
                merge_strategy,
            } => {
                let mut rule = NewRule::new(group_id(&group)?, store.find_template(&template)?.id);
                rule.name = name;
                rule.vars = vars.into_iter().collect();
                rule.enabled = !disabled;
                rule.priority = priority;
                rule.merge_strategy = merge_strategy;
                print_json(&store.create_rule(&rule)?)?
            }
            RuleCommand::Update { id, file } => {
                print_json(&store.update_rule(id, &read_yaml::<NewRule>(&file)?)?)?
            }
            RuleCommand::Enable { id } => print_json(&store.set_rule_enabled(id, true)?)?,
            RuleCommand::Disable { id } => print_json(&store.set_rule_enabled(id, false)?)?,
            RuleCommand::Delete { id } => store.delete_rule(id)?,
        },
        RulesCommand::Generate { group, dry_run } => {
            let settings = store.settings()?;
            let group = group.as_deref().map(group_id).transpose()?;
            let (at, started) = (std::time::SystemTime::now(), std::time::Instant::now());
            let generated = RuleGenerator::from_settings(&settings)
                .and_then(|g| g.generate(&store, group, dry_run));
            if !dry_run {
                let error = generated.as_ref().err().map(ToString::to_string);
                let report = generated.as_ref().ok();
                store.record_run(&GenerationRun::finished(
                    "cli", at, started, report, None, error,
                ))?;
            }
            let report = generated?;
            for change in &report.changes {
                let action = match change.action {
                    FileAction::Create => "create",
                    FileAction::Update => "update",
                    FileAction::Unchanged => "unchanged",
                    FileAction::Remove => "remove",
                };
                outln!(
                    "{action} {} ({} rules)",
                    change.file_name,
                    change.rule_count
                )?;
                if dry_run && !change.diff.is_empty() {
                    out!("{}", change.diff)?;
                }
            }
            if dry_run {
                outln!("dry run: nothing written to {}", report.rule_dir.display())?;
            }
        }
        RulesCommand::Files => {
            print_json(&RuleGenerator::from_settings(&store.settings()?)?.list()?)?
        }
        RulesCommand::Reload(flags) => {
            let settings = store.settings()?;
            let options = flags.options();
            print_json(&runtime()?.block_on(reload_from_settings_with(&settings, &options))?)?
        }
        RulesCommand::Status(flags) => {
            let settings = store.settings()?;
            let options = flags.options();
            let status = runtime()?.block_on(status_from_settings_with(&settings, &options))?;
            // The last generation run (the server's automatic ones included), as the server's
            // status shows it.
            let mut shown = serde_json::to_value(&status)?;
            if let Some(o) = shown.as_object_mut() {
                o.insert("last_run".into(), serde_json::to_value(store.last_run()?)?);
            }
            print_json(&shown)?;
            if !(status.healthy && status.ready) {
                return Ok(ExitCode::from(1));
            }
        }
        RulesCommand::Preview {
            rule,
            prometheus,
            json,
        } => {
            let settings = store.settings()?;
            let id = find_rule(&store, &rule)?;
            let rendered = render_stored_rule(&store, id, settings.target_version)?;
            let p = match client_from_settings_with(&settings, &prometheus.options()) {
                Ok(client) => runtime()?.block_on(preview_rule(&client, &rendered)),
                Err(e) => RulePreview::from_answer(
                    &rendered,
                    settings.prometheus_url.as_deref().unwrap_or(""),
                    Err(e),
                ),
            };
            if json {
                print_json(&p)?;
            } else {
                print_rule_preview(&p)?;
            }
            if !p.evaluated {
                return Ok(ExitCode::from(2));
            }
        }
        RulesCommand::Effective { target } => {
            let version = store.settings()?.target_version;
            print_json(&effective_rules(&store, &target, version)?)?
        }
    }
    Ok(ExitCode::SUCCESS)
}
