//! `ipocket sd write` / `ipocket sd watch`: the service-discovery updater (seed 004) over
//! `ipocket-connectors`: inventory → Prometheus file_sd JSON, written atomically.

use std::io::Write;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Result};
use clap::{Args, Subcommand};
use ipocket_connectors::liveness::{
    ago, fetch, parse_span, unreachable_text, LivenessOptions, Observations,
};
use ipocket_connectors::remote::RemoteOptions;
use ipocket_connectors::sd_inventory::{InventoryFormat, InventoryUrl};
use ipocket_connectors::sd_preview::{preview, SdPreview};
use ipocket_connectors::sd_updater::{
    file_sd_json, target_groups, watch, write_cycle, CycleReport, SdSource, SdUpdaterConfig,
    SdUpdaterError,
};
use ipocket_core::SdOptions;
use ipocket_http::Auth;

#[derive(Args)]
pub(crate) struct SdArgs {
    #[command(subcommand)]
    command: SdCommand,
}

#[derive(Subcommand)]
enum SdCommand {
    /// Write the targets file once.
    Write(SdFlags),
    /// Write the targets file every --interval; a transient failure is retried with backoff
    /// and never stops the loop (Ctrl-C or SIGTERM stops it); --max-auth-failures refused
    /// tokens in a row do.
    Watch(SdFlags),
    /// Show what `sd write` would give Prometheus, byte for byte, with the counts, duplicate
    /// and port-less targets flagged, and the live state of each target in Prometheus
    /// (--prometheus-url; without it every state is unknown).
    Preview(SdPreviewArgs),
}

/// `sd preview`: the flags of `sd write` plus where to ask about liveness.
#[derive(Args)]
struct SdPreviewArgs {
    #[command(flatten)]
    sd: SdFlags,
    /// The Prometheus that scrapes the targets (liveness, docs/liveness.md).
    #[arg(long, env = "IPOCKET_PROMETHEUS_URL")]
    prometheus_url: Option<String>,
    /// Its credentials: `user:password` for Basic auth, anything else is a Bearer token.
    #[arg(long, env = "IPOCKET_PROMETHEUS_TOKEN", hide_env_values = true)]
    prometheus_token: Option<String>,
    /// Skip TLS certificate verification of --prometheus-url (test set-ups only).
    #[arg(long)]
    prometheus_insecure: bool,
    /// Also trust the PEM certificate(s) in this file for --prometheus-url.
    #[arg(long)]
    prometheus_ca_file: Option<PathBuf>,
    /// Seconds the liveness queries may take together; past it every state is unknown.
    #[arg(long, default_value_t = 5.0)]
    prometheus_timeout: f64,
    /// How far back "last seen up" looks (30d, 12h…).
    #[arg(long, value_parser = parse_span, default_value = "30d")]
    window: Duration,
    /// Resolution of "last seen up".
    #[arg(long, value_parser = parse_span, default_value = "5m")]
    step: Duration,
    /// Print the preview as JSON (its `json` field holds the targets file's text).
    #[arg(long)]
    json: bool,
}

impl SdPreviewArgs {
    /// Asks Prometheus; unreachable (or not given) is an answer, not a failure.
    async fn observations(&self) -> Result<Result<Observations, String>> {
        let Some(url) = &self.prometheus_url else {
            return Ok(Err("no --prometheus-url: states not asked".to_string()));
        };
        if !(self.prometheus_timeout > 0.0 && self.prometheus_timeout.is_finite()) {
            bail!("--prometheus-timeout must be a positive number of seconds");
        }
        let mut o = LivenessOptions::new(url);
        o.auth = self
            .prometheus_token
            .as_deref()
            .filter(|t| !t.is_empty())
            .map(Auth::from_token);
        o.insecure = self.prometheus_insecure;
        o.ca_file = self.prometheus_ca_file.clone();
        o.timeout = Duration::from_secs_f64(self.prometheus_timeout);
        o.window = self.window;
        o.step = self.step;
        Ok(fetch(&o).await.map_err(|e| unreachable_text(&e)))
    }
}

fn print_preview(p: &SdPreview) -> Result<()> {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    writeln!(
        out,
        "{} group(s), {} target(s), {} duplicate, {} port-less; up={} down={} not_scraped={} unknown={}",
        p.group_count,
        p.target_count,
        p.duplicates,
        p.port_less,
        p.states.up,
        p.states.down,
        p.states.not_scraped,
        p.states.unknown
    )?;
    if let Some(e) = &p.prometheus.error {
        writeln!(out, "states unknown: {e}")?;
    }
    writeln!(
        out,
        "{:<30} {:>5} {:<11} {:<19} {:<14} JOBS",
        "TARGET", "GROUP", "STATE", "FLAGS", "LAST SEEN UP"
    )?;
    for t in &p.targets {
        let mut flags = Vec::new();
        if t.duplicate {
            flags.push("duplicate");
        }
        if t.port_less {
            flags.push("no-port");
        }
        let state = match t.matched {
            Some("address") => format!("{}*", t.state.as_str()),
            _ => t.state.as_str().to_string(),
        };
        writeln!(
            out,
            "{:<30} {:>5} {:<11} {:<19} {:<14} {}",
            t.target,
            t.group,
            state,
            if flags.is_empty() {
                "-".to_string()
            } else {
                flags.join(",")
            },
            t.last_seen_up
                .map_or("-".into(), |s| ago(p.prometheus.fetched_at, s)),
            t.jobs.join(",")
        )?;
    }
    if p.targets.iter().any(|t| t.matched == Some("address")) {
        writeln!(
            out,
            "* no series of this exact target: the state of its address under other instances"
        )?;
    }
    writeln!(out, "--- the targets file ({} bytes) ---", p.json.len())?;
    out.write_all(p.json.as_bytes())?;
    out.flush()?;
    Ok(())
}

#[derive(Args)]
struct SdFlags {
    /// The local inventory (must exist).
    #[arg(long, env = "IPOCKET_DB")]
    db: Option<PathBuf>,
    /// An inventory URL instead of --db: a remote ipocket server (its base URL
    /// http://host:8000, or its SD endpoint …/api/v1/sd or …/sd/node), or seed 004's
    /// inventory service answering a JSON list of host names (http://host:1337/inventory).
    #[arg(long, env = "INVENTORY_URL")]
    inventory_url: Option<String>,
    /// What --inventory-url serves: auto (an ipocket endpoint or a URL without a path is
    /// ipocket; any other URL is fetched and its answer decides), ipocket, or hosts (a JSON
    /// list of host names; `job="sensors"`, `environment="production"` unless --job or
    /// --label is given).
    #[arg(long, env = "INVENTORY_FORMAT", default_value = "auto")]
    inventory_format: InventoryFormat,
    /// Bearer token for --inventory-url: an API token of scope sd (`ipocket tokens create`),
    /// or a login token (a Viewer's is enough).
    #[arg(long, env = "IPOCKET_TOKEN", hide_env_values = true)]
    ipocket_token: Option<String>,
    /// `X-SD-Token` for --inventory-url (the server's IPOCKET_SD_TOKEN), instead of a login.
    #[arg(long, env = "IPOCKET_SD_TOKEN", hide_env_values = true)]
    sd_token: Option<String>,
    /// HTTP timeout in seconds for --inventory-url.
    #[arg(long, default_value_t = 10.0)]
    timeout: f64,
    /// The file_sd file to write; point Prometheus's `file_sd_configs` glob at its folder.
    /// `sd write` prints the JSON instead when it is `-`. Written atomically; a symlink is
    /// followed, a device such as /dev/null refused (docs/files.md).
    #[arg(long, env = "TARGETS_FILE", default_value = "/shared/targets.json")]
    targets_file: PathBuf,
    /// Seconds between cycles (watch).
    #[arg(long, env = "UPDATE_INTERVAL", default_value_t = 30.0)]
    interval: f64,
    /// Port appended to every address.
    #[arg(long, env = "METRICS_PORT", default_value_t = 9100)]
    port: u16,
    /// `__metrics_path__` of every group (empty: not set).
    #[arg(long, env = "METRICS_PATH", default_value = "/metrics")]
    metrics_path: String,
    /// `job` label of every group.
    #[arg(long)]
    job: Option<String>,
    /// Extra label of every group, NAME=VALUE (repeatable), e.g. environment=production.
    #[arg(long = "label", value_name = "NAME=VALUE")]
    labels: Vec<String>,
    /// Only these projects (repeatable or comma-separated).
    #[arg(long)]
    project: Vec<String>,
    /// Only these types (repeatable or comma-separated): OS, BMC, VM, VIP, OTHER.
    #[arg(long = "type")]
    types: Vec<String>,
    /// Only assets with one of these tags.
    #[arg(long)]
    tag: Vec<String>,
    /// Drop assets without a project.
    #[arg(long)]
    only_assigned: bool,
    /// none, project, project_type or asset.
    #[arg(long, default_value = "none")]
    group_by: String,
    /// Add `__meta_ipocket_*` labels.
    #[arg(long)]
    meta: bool,
    /// Retries of a failed cycle (watch); only transient failures (no answer, a 5xx) are
    /// retried, a refused token or another 4xx is not.
    #[arg(long, default_value_t = 3)]
    retries: usize,
    /// Stop (exit status 2) after this many cycles in a row refused with 401 or 403 by
    /// --inventory-url (watch); 0: never stop.
    #[arg(long, default_value_t = 3)]
    max_auth_failures: u32,
}

fn config(f: &SdFlags) -> Result<SdUpdaterConfig> {
    if !(f.interval > 0.0 && f.interval.is_finite()) {
        bail!("--interval / UPDATE_INTERVAL must be a positive number of seconds");
    }
    let source = match (&f.db, &f.inventory_url) {
        (Some(_), Some(_)) => bail!(
            "give either --db PATH (IPOCKET_DB) or --inventory-url URL (INVENTORY_URL), not both"
        ),
        (None, None) => bail!(
            "say which inventory: --db PATH (IPOCKET_DB) or --inventory-url URL (INVENTORY_URL)"
        ),
        (Some(_), None) if f.inventory_format != InventoryFormat::Auto => {
            bail!("--inventory-format applies to --inventory-url, not to --db")
        }
        (Some(db), None) => SdSource::Local(db.clone()),
        (None, Some(url)) => {
            if !(f.timeout > 0.0 && f.timeout.is_finite()) {
                bail!("--timeout must be a positive number of seconds");
            }
            let options = RemoteOptions {
                timeout: Duration::from_secs_f64(f.timeout),
                ..RemoteOptions::default()
            };
            let token = f.ipocket_token.as_deref().filter(|t| !t.is_empty());
            let source = InventoryUrl::new(url, f.inventory_format, token, &options)?
                .with_sd_token(f.sd_token.as_deref());
            SdSource::Url(Box::new(source))
        }
    };
    let port = f.port.to_string();
    let mut pairs: Vec<(&str, &str)> = vec![("port", &port), ("group_by", &f.group_by)];
    pairs.extend(f.project.iter().map(|p| ("project", p.as_str())));
    pairs.extend(f.types.iter().map(|t| ("type", t.as_str())));
    pairs.extend(f.tag.iter().map(|t| ("tag", t.as_str())));
    let mut sd = SdOptions::from_query_pairs(pairs)?;
    sd.only_assigned = f.only_assigned;
    sd.meta_labels = f.meta;
    sd.metrics_path = Some(f.metrics_path.clone()).filter(|p| !p.is_empty());
    if let Some(job) = &f.job {
        sd.extra_labels.insert("job".into(), job.clone());
    }
    for l in &f.labels {
        let Some((k, v)) = l.split_once('=') else {
            bail!("--label {l:?}: expected NAME=VALUE");
        };
        let valid = k
            .chars()
            .enumerate()
            .all(|(i, c)| c == '_' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit()));
        if k.is_empty() || !valid {
            bail!("--label {l:?}: {k:?} is not a valid Prometheus label name");
        }
        sd.extra_labels.insert(k.to_string(), v.to_string());
    }
    let mut cfg = SdUpdaterConfig::with_source(source, &f.targets_file);
    cfg.sd = sd;
    cfg.interval = Duration::from_secs_f64(f.interval);
    cfg.retries = f.retries;
    Ok(cfg)
}

fn is_stdout(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// One log line per watch cycle: info when it wrote, warning for a transient failure (after
/// its retries, each logged by the updater), error for a refusal retrying cannot fix.
fn log_cycle(cfg: &SdUpdaterConfig, r: &Result<CycleReport, SdUpdaterError>) {
    let file = cfg.targets_file.display();
    match r {
        Ok(r) if r.written => tracing::info!(
            targets = r.targets,
            groups = r.groups,
            file = %file,
            "updated {file}: {} target(s) in {} group(s)",
            r.targets,
            r.groups
        ),
        Ok(r) => tracing::info!(targets = r.targets, "unchanged: {} target(s)", r.targets),
        Err(e) if e.is_transient() => tracing::warn!(
            inventory = %cfg.source,
            status = e.http_status(),
            "sd cycle failed (previous file kept, next try in {:?}): {e}",
            cfg.interval
        ),
        Err(e) => tracing::error!(
            inventory = %cfg.source,
            status = e.http_status(),
            "sd cycle failed, not retried (previous file kept): {e}"
        ),
    }
}

pub(crate) fn run(args: SdArgs) -> Result<ExitCode> {
    match args.command {
        SdCommand::Write(f) => {
            let cfg = config(&f)?;
            if let Some(db) = &f.db {
                crate::db_path::existing(db)?;
            }
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            if is_stdout(&cfg.targets_file) {
                let groups = rt.block_on(target_groups(&cfg))?;
                std::io::stdout().write_all(&file_sd_json(&groups))?;
                return Ok(ExitCode::SUCCESS);
            }
            let r = rt.block_on(write_cycle(&cfg))?;
            tracing::info!(
                targets = r.targets,
                groups = r.groups,
                file = %cfg.targets_file.display(),
                written = r.written,
                "{} {} target(s) in {} group(s): {}",
                if r.written { "wrote" } else { "unchanged," },
                r.targets,
                r.groups,
                cfg.targets_file.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        SdCommand::Preview(a) => {
            let cfg = config(&a.sd)?;
            if let Some(db) = &a.sd.db {
                crate::db_path::existing(db)?;
            }
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            let (groups, observations) =
                rt.block_on(async { (target_groups(&cfg).await, a.observations().await) });
            let json = file_sd_json(&groups?);
            let p = preview(&json, &observations?).map_err(anyhow::Error::msg)?;
            if a.json {
                let mut out = std::io::stdout().lock();
                serde_json::to_writer_pretty(&mut out, &p)?;
                writeln!(out)?;
            } else {
                print_preview(&p)?;
            }
            Ok(ExitCode::SUCCESS)
        }
        SdCommand::Watch(f) => {
            let cfg = config(&f)?;
            if is_stdout(&cfg.targets_file) {
                bail!("sd watch rewrites a file every interval: give --targets-file a path, not -");
            }
            tracing::info!(
                inventory = %cfg.source,
                file = %cfg.targets_file.display(),
                interval_s = cfg.interval.as_secs_f64(),
                port = cfg.sd.port,
                "sd watch starting: inventory {}, targets file {}, interval {:?}, port {}",
                cfg.source,
                cfg.targets_file.display(),
                cfg.interval,
                cfg.sd.port
            );
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            let max_auth_failures = f.max_auth_failures;
            let gave_up = rt.block_on(async move {
                let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
                let mut term =
                    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
                tokio::spawn(async move {
                    tokio::select! {
                        _ = tokio::signal::ctrl_c() => {}
                        _ = term.recv() => {}
                    }
                    let _ = stop_tx.send(true);
                });
                let mut refused = 0u32;
                let gave_up = watch(&cfg, stop_rx, |r| {
                    log_cycle(&cfg, r);
                    match r {
                        Err(e) if e.is_auth_failure() => refused += 1,
                        _ => refused = 0,
                    }
                    if max_auth_failures > 0 && refused >= max_auth_failures {
                        ControlFlow::Break(refused)
                    } else {
                        ControlFlow::Continue(())
                    }
                })
                .await;
                if gave_up.is_none() {
                    tracing::info!("sd watch stopped");
                }
                Ok::<_, anyhow::Error>(gave_up.map(|n| (n, cfg.source.to_string())))
            })?;
            if let Some((n, source)) = gave_up {
                // the refusals themselves were logged, one line each: say only why we stop
                bail!(
                    "sd watch: stopping after {n} cycle(s) in a row refused by {source} (401/403, \
                     see above); check --ipocket-token / --sd-token (--max-auth-failures)"
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
