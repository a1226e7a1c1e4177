//! `ipocket connector prometheus`: the Prometheus query connector (seed 000) over
//! `ipocket-connectors`, in file, dry-run or apply mode.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Result};
use clap::{Args, Subcommand, ValueEnum};
use ipocket_connectors::plan_view::PlanView;
use ipocket_connectors::prometheus::{apply_report, dry_run_report, fetch, PrometheusOptions};
use ipocket_connectors::remote::{RemoteInventory, RemoteOptions};
use ipocket_core::{Actor, AssetType};
use ipocket_http::Auth;
use serde::Serialize;

#[derive(Args)]
pub(crate) struct ConnectorArgs {
    #[command(subcommand)]
    command: ConnectorCommand,
}

#[derive(Subcommand)]
enum ConnectorCommand {
    /// Import the IPs found in one label of a Prometheus instant query (vector results).
    Prometheus(PrometheusArgs),
    /// Import ESXi hosts and VM guest IPs from vCenter (vSphere Automation REST API).
    Vcenter(VcenterArgs),
}

#[derive(Args)]
struct VcenterArgs {
    /// vCenter base URL, e.g. https://vcenter.example (add :port if not 443).
    #[arg(long)]
    server: String,
    /// User name, e.g. administrator@vsphere.local.
    #[arg(long)]
    username: String,
    /// Password (prefer the environment variable).
    #[arg(long, env = "IPOCKET_VCENTER_PASSWORD", hide_env_values = true)]
    password: String,
    /// Skip TLS certificate verification (vCenter's self-signed certificate).
    #[arg(long)]
    insecure: bool,
    /// Also trust the PEM certificate(s) in this file (e.g. the VMCA root).
    #[arg(long)]
    ca_file: Option<PathBuf>,
    /// HTTP timeout in seconds.
    #[arg(long, default_value_t = 30.0)]
    timeout: f64,
    /// Seconds the system resolver may take for one ESXi host name that is not an IP
    /// (the host is skipped with a warning when it does not resolve in time).
    #[arg(long, default_value_t = 2.0)]
    resolve_timeout: f64,
    /// file, dry-run or apply.
    #[arg(long, value_enum, default_value = "dry-run")]
    mode: Mode,
    /// Where file mode writes the bundle (`-` for standard output).
    #[arg(long, short)]
    output: Option<PathBuf>,
    #[command(flatten)]
    inventory: InventoryFlags,
    /// Print the engine's plan as JSON (dry-run and apply).
    #[arg(long)]
    json: bool,
}

/// Where dry-run and apply import: a local inventory file or a remote ipocket server.
#[derive(Args)]
struct InventoryFlags {
    /// The local inventory for dry-run and apply.
    #[arg(long, env = "IPOCKET_DB")]
    db: Option<PathBuf>,
    /// A remote ipocket server (`ipocket serve`) for dry-run and apply, instead of --db.
    #[arg(long, env = "IPOCKET_URL")]
    ipocket_url: Option<String>,
    /// Bearer token of the remote ipocket server (POST /api/v1/auth/login); apply needs an Editor.
    #[arg(long, env = "IPOCKET_TOKEN", hide_env_values = true)]
    ipocket_token: Option<String>,
    /// Skip TLS certificate verification of the ipocket server (test set-ups only).
    #[arg(long)]
    ipocket_insecure: bool,
    /// Also trust the PEM certificate(s) in this file for the ipocket server.
    #[arg(long)]
    ipocket_ca_file: Option<PathBuf>,
}

/// The inventory dry-run and apply work on.
enum Destination {
    Local(PathBuf),
    Remote(Box<RemoteInventory>),
}

impl InventoryFlags {
    /// Exactly one of --db and --ipocket-url (with its token) for dry-run and apply.
    /// A local database must exist unless the mode is apply (a dry run only reads).
    fn destination(self, timeout: Duration, mode: Mode) -> Result<Destination> {
        match (self.db, self.ipocket_url) {
            (Some(_), Some(_)) => bail!(
                "give either --db PATH (a local inventory) or --ipocket-url URL (a remote ipocket server), not both (is IPOCKET_DB set?)"
            ),
            (None, None) => bail!(
                "--mode dry-run and apply need --db PATH (a local inventory) or --ipocket-url URL with --ipocket-token (a remote ipocket server)"
            ),
            (Some(db), None) => {
                crate::db_path::url(&db, mode == Mode::Apply)?;
                Ok(Destination::Local(db))
            }
            (None, Some(url)) => {
                let Some(token) = self.ipocket_token.filter(|t| !t.trim().is_empty()) else {
                    bail!("--ipocket-url needs --ipocket-token TOKEN (or IPOCKET_TOKEN): the server's import API requires a login");
                };
                let options = RemoteOptions {
                    timeout,
                    insecure: self.ipocket_insecure,
                    ca_file: self.ipocket_ca_file,
                    ..RemoteOptions::default()
                };
                let server = RemoteInventory::new(&url, Some(&token), &options)?;
                Ok(Destination::Remote(Box::new(server)))
            }
        }
    }
}

/// `--json`: the plan as the engine serialises it; otherwise the connector's own lines.
fn print_plan<P: PlanView + Serialize>(
    out: &mut impl Write,
    json: bool,
    plan: &P,
    lines: impl FnOnce(&dyn PlanView) -> Vec<String>,
) -> Result<()> {
    if json {
        serde_json::to_writer_pretty(&mut *out, plan)?;
        writeln!(out)?;
    } else {
        for line in lines(plan) {
            writeln!(out, "{line}")?;
        }
    }
    Ok(())
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Mode {
    /// Write the bundle JSON to --output.
    File,
    /// Show per-IP CREATE/UPDATE/SKIP with field diffs; write nothing.
    DryRun,
    /// Import in one transaction.
    Apply,
}

#[derive(Args)]
struct PrometheusArgs {
    /// Prometheus base URL (http://host:port).
    #[arg(long)]
    prometheus_url: String,
    /// PromQL expression (instant query; the result must be a vector).
    #[arg(long)]
    query: String,
    /// Label holding the IP, host:port or [v6]:port.
    #[arg(long)]
    ip_label: String,
    /// Type of new assets: OS, BMC, VM, VIP, OTHER (existing assets keep theirs).
    #[arg(long, default_value = "OTHER")]
    asset_type: String,
    /// Project of every asset (must exist).
    #[arg(long, alias = "project-name")]
    project: Option<String>,
    /// Comma-separated tags of every asset.
    #[arg(long)]
    tags: Option<String>,
    /// Prometheus credentials: `user:password` for Basic auth, anything else is a Bearer token.
    #[arg(long, env = "IPOCKET_PROMETHEUS_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Skip TLS certificate verification (https only; for test set-ups).
    #[arg(long)]
    insecure: bool,
    /// Also trust the PEM certificate(s) in this file (a private CA or a self-signed server).
    #[arg(long)]
    ca_file: Option<PathBuf>,
    /// HTTP timeout in seconds.
    #[arg(long, default_value_t = 30.0)]
    timeout: f64,
    /// Import IPv6 addresses instead of skipping them with a warning.
    #[arg(long)]
    keep_ipv6: bool,
    /// file, dry-run or apply.
    #[arg(long, value_enum, default_value = "dry-run")]
    mode: Mode,
    /// Where file mode writes the bundle (`-` for standard output).
    #[arg(long, short)]
    output: Option<PathBuf>,
    #[command(flatten)]
    inventory: InventoryFlags,
    /// Print the engine's plan as JSON (dry-run and apply).
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(args: ConnectorArgs) -> Result<ExitCode> {
    match args.command {
        ConnectorCommand::Prometheus(a) => prometheus(a),
        ConnectorCommand::Vcenter(a) => vcenter(a),
    }
}

/// The vCenter lines: one per planned record, then the summary (of the dry run, or of the
/// apply with its audit entry).
fn vcenter_lines(applied: Option<i64>, plan: &dyn PlanView) -> Vec<String> {
    let mut lines: Vec<String> = plan
        .planned_items()
        .iter()
        .map(|item| {
            let changes: Vec<String> = item
                .changes
                .iter()
                .map(|ch| format!("{}={}", ch.field, ch.after.clone().unwrap_or_default()))
                .collect();
            let action = match item.action {
                ipocket_core::ImportAction::Create => "CREATE",
                ipocket_core::ImportAction::Update => "UPDATE",
                ipocket_core::ImportAction::Skip => "SKIP",
            };
            format!("- [{action}] {}: {}", item.key, changes.join("; "))
        })
        .collect();
    for w in plan.plan_warnings() {
        lines.push(format!("warning: {w}"));
    }
    let s = plan.summary().total;
    let mode = match applied {
        None => "dry-run".to_string(),
        Some(id) => format!("apply (audit entry {id})"),
    };
    lines.push(format!(
        "Import mode: {mode}. Summary create={}, update={}, skip={}.",
        s.create, s.update, s.skip
    ));
    lines
}

/// `--json`: the plan, with the apply line on standard error so standard output stays one
/// JSON document; otherwise the report `lines` give.
fn print_report<P: PlanView + Serialize>(
    out: &mut impl Write,
    json: bool,
    plan: &P,
    applied: Option<i64>,
    lines: impl FnOnce(&dyn PlanView, Option<i64>) -> Vec<String>,
) -> Result<()> {
    if !json {
        return print_plan(out, false, plan, |p| lines(p, applied));
    }
    print_plan(out, true, plan, |_| Vec::new())?;
    if let Some(id) = applied {
        let s = plan.summary().total;
        tracing::info!(
            audit_id = id,
            "Import mode: apply (audit entry {id}). Summary create={}, update={}, skip={}.",
            s.create,
            s.update,
            s.skip
        );
    }
    Ok(())
}

fn vcenter(a: VcenterArgs) -> Result<ExitCode> {
    use ipocket_connectors::vcenter::{collect, VcenterOptions};
    if !(a.timeout > 0.0 && a.timeout.is_finite()) {
        bail!("--timeout must be a positive number of seconds");
    }
    if !(a.resolve_timeout > 0.0 && a.resolve_timeout.is_finite()) {
        bail!("--resolve-timeout must be a positive number of seconds");
    }
    let timeout = Duration::from_secs_f64(a.timeout);
    let destination = match a.mode {
        Mode::File if a.output.is_none() => bail!("--mode file needs --output PATH (or -)"),
        Mode::File => None,
        Mode::DryRun | Mode::Apply => Some(a.inventory.destination(timeout, a.mode)?),
    };
    let opts = VcenterOptions {
        server: a.server,
        username: a.username,
        password: a.password,
        insecure: a.insecure,
        ca_file: a.ca_file,
        timeout,
        resolve_timeout: Duration::from_secs_f64(a.resolve_timeout),
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let c = rt.block_on(collect(&opts))?;
    tracing::info!(
        "Collected {} hosts and {} VMs from vCenter",
        c.hosts.len(),
        c.vms.len()
    );
    let (bundle, mapping_warnings) = c.bundle_json();
    for w in c.warnings.iter().chain(&mapping_warnings) {
        tracing::warn!("{w}");
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let lines = |p: &dyn PlanView, applied| vcenter_lines(applied, p);
    match destination {
        None => {
            let path = a.output.unwrap_or_default();
            let mut bytes = serde_json::to_vec_pretty(&bundle)?;
            bytes.push(b'\n');
            if path.as_os_str() == "-" {
                out.write_all(&bytes)?;
            } else {
                ipocket_files::write(&path, &bytes)?;
            }
        }
        Some(Destination::Local(db)) => {
            let mut inv = crate::db_path::open_inventory(&db, true)?;
            let plan = c.plan(&inv)?;
            // Applied first, so the report says what happened.
            let applied = match a.mode {
                Mode::Apply => Some(inv.apply(&Actor::system(), &plan)?.import_run_audit_id),
                _ => None,
            };
            print_report(&mut out, a.json, &plan, applied, lines)?;
        }
        Some(Destination::Remote(server)) => {
            if a.mode == Mode::Apply {
                let applied = rt.block_on(server.apply(&bundle))?;
                let id = applied.report.import_run_audit_id;
                print_report(&mut out, a.json, &applied.plan, Some(id), lines)?;
            } else {
                let plan = rt.block_on(server.plan(&bundle))?;
                print_report(&mut out, a.json, &plan, None, lines)?;
            }
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn prometheus(a: PrometheusArgs) -> Result<ExitCode> {
    let asset_type: AssetType = a.asset_type.parse()?;
    if !(a.timeout > 0.0 && a.timeout.is_finite()) {
        bail!("--timeout must be a positive number of seconds");
    }
    let timeout = Duration::from_secs_f64(a.timeout);
    let destination = match a.mode {
        Mode::File if a.output.is_none() => bail!("--mode file needs --output PATH (or -)"),
        Mode::File => None,
        Mode::DryRun | Mode::Apply => Some(a.inventory.destination(timeout, a.mode)?),
    };
    let mut opts = PrometheusOptions::new(&a.prometheus_url, &a.query, &a.ip_label);
    opts.asset_type = asset_type;
    opts.project_name = a.project.filter(|p| !p.trim().is_empty());
    opts.tags = a
        .tags
        .as_deref()
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect();
    opts.auth = a
        .token
        .as_deref()
        .filter(|t| !t.is_empty())
        .map(Auth::from_token);
    opts.insecure = a.insecure;
    opts.ca_file = a.ca_file;
    opts.timeout = timeout;
    opts.keep_ipv6 = a.keep_ipv6;

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let x = rt.block_on(fetch(&opts))?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    tracing::info!(
        "Collected {} IP(s) from {} sample(s) of Prometheus query '{}' (label '{}')",
        x.ips.len(),
        x.samples,
        opts.query,
        opts.ip_label
    );
    let lines = |p: &dyn PlanView, applied: Option<i64>| match applied {
        None => dry_run_report(&x, p),
        Some(id) => apply_report(&x, p, id),
    };
    match destination {
        None => {
            let path = a.output.unwrap_or_default();
            let mut bytes = serde_json::to_vec_pretty(&x.bundle_json(&opts))?;
            bytes.push(b'\n');
            for w in &x.warnings {
                tracing::warn!("{w}");
            }
            if path.as_os_str() == "-" {
                out.write_all(&bytes)?;
            } else {
                ipocket_files::write(&path, &bytes)?;
                tracing::info!(
                    "Wrote bundle with {} IP asset(s) to {}",
                    x.ips.len(),
                    path.display()
                );
            }
        }
        Some(Destination::Local(db)) => {
            let mut inv = crate::db_path::open_inventory(&db, true)?;
            let plan = x.plan(&inv, &opts)?;
            // Applied first, so the report says what happened.
            let applied = match a.mode {
                Mode::Apply => Some(inv.apply(&Actor::system(), &plan)?.import_run_audit_id),
                _ => None,
            };
            print_report(&mut out, a.json, &plan, applied, lines)?;
        }
        Some(Destination::Remote(server)) => {
            let bundle = x.bundle_json(&opts);
            if a.mode == Mode::Apply {
                let applied = rt.block_on(server.apply(&bundle))?;
                let id = applied.report.import_run_audit_id;
                print_report(&mut out, a.json, &applied.plan, Some(id), lines)?;
            } else {
                let plan = rt.block_on(server.plan(&bundle))?;
                print_report(&mut out, a.json, &plan, None, lines)?;
            }
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
