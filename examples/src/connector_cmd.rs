//! `ipocket connector prometheus`: the Prometheus query connector (seed 000) over
//! `ipocket-connectors`, in file, dry-run or apply mode.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use ipocket_connectors::http::Auth;
use ipocket_connectors::prometheus::{dry_run_report, fetch, PrometheusOptions};
use ipocket_core::{Actor, AssetType, Inventory};

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
    /// file, dry-run or apply.
    #[arg(long, value_enum, default_value = "dry-run")]
    mode: Mode,
    /// Where file mode writes the bundle (`-` for standard output).
    #[arg(long, short)]
    output: Option<PathBuf>,
    /// The local inventory for dry-run and apply.
    #[arg(long, env = "IPOCKET_DB")]
    db: Option<PathBuf>,
    /// Print the engine's plan as JSON (dry-run and apply).
    #[arg(long)]
    json: bool,
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
    /// The local inventory for dry-run and apply.
    #[arg(long, env = "IPOCKET_DB")]
    db: Option<PathBuf>,
    /// A remote ipocket server for dry-run and apply (not available until the server lands).
    #[arg(long)]
    ipocket_url: Option<String>,
    /// API token of the remote ipocket server.
    #[arg(long, env = "IPOCKET_TOKEN", hide_env_values = true)]
    ipocket_token: Option<String>,
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

fn vcenter(a: VcenterArgs) -> Result<ExitCode> {
    use ipocket_connectors::vcenter::{collect, VcenterOptions};
    if !(a.timeout > 0.0 && a.timeout.is_finite()) {
        bail!("--timeout must be a positive number of seconds");
    }
    match a.mode {
        Mode::File if a.output.is_none() => bail!("--mode file needs --output PATH (or -)"),
        Mode::DryRun | Mode::Apply if a.db.is_none() => {
            bail!("--mode dry-run and apply need --db PATH (a local inventory)")
        }
        _ => {}
    }
    let opts = VcenterOptions {
        server: a.server,
        username: a.username,
        password: a.password,
        insecure: a.insecure,
        ca_file: a.ca_file,
        timeout: Duration::from_secs_f64(a.timeout),
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let c = rt.block_on(collect(&opts))?;
    eprintln!(
        "Collected {} hosts and {} VMs from vCenter",
        c.hosts.len(),
        c.vms.len()
    );
    let (bundle, mapping_warnings) = c.bundle_json();
    for w in c.warnings.iter().chain(&mapping_warnings) {
        eprintln!("warning: {w}");
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match a.mode {
        Mode::File => {
            let path = a.output.unwrap_or_default();
            let mut bytes = serde_json::to_vec_pretty(&bundle)?;
            bytes.push(b'\n');
            if path.as_os_str() == "-" {
                out.write_all(&bytes)?;
            } else {
                ipocket_connectors::sd_updater::write_atomic(&path, &bytes)
                    .with_context(|| format!("writing {}", path.display()))?;
            }
        }
        Mode::DryRun | Mode::Apply => {
            let db = a.db.unwrap_or_default();
            let mut inv =
                Inventory::open(&db).with_context(|| format!("opening {}", db.display()))?;
            let plan = c.plan(&inv)?;
            if a.json {
                serde_json::to_writer_pretty(&mut out, &plan)?;
                writeln!(out)?;
            } else {
                for item in plan.items() {
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
                    writeln!(out, "- [{action}] {}: {}", item.key, changes.join("; "))?;
                }
            }
            let s = plan.summary.total;
            if a.mode == Mode::Apply {
                inv.apply(&Actor::system(), &plan)?;
            }
            let mode = if a.mode == Mode::Apply {
                "apply"
            } else {
                "dry-run"
            };
            writeln!(
                out,
                "Import mode: {mode}. Import summary: create={}, update={}, skip={}.",
                s.create, s.update, s.skip
            )?;
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
    match a.mode {
        Mode::File if a.output.is_none() => bail!("--mode file needs --output PATH (or -)"),
        Mode::DryRun | Mode::Apply if a.ipocket_url.is_some() => bail!(
            "--ipocket-url: the remote ipocket server API is not available until the server lands; use --db PATH for a local inventory"
        ),
        Mode::DryRun | Mode::Apply if a.db.is_none() => {
            bail!("--mode dry-run and apply need --db PATH (a local inventory)")
        }
        _ => {}
    }
    let _ = &a.ipocket_token;
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
    opts.timeout = Duration::from_secs_f64(a.timeout);
    opts.keep_ipv6 = a.keep_ipv6;

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let x = rt.block_on(fetch(&opts))?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    eprintln!(
        "Collected {} IP(s) from {} sample(s) of Prometheus query '{}' (label '{}')",
        x.ips.len(),
        x.samples,
        opts.query,
        opts.ip_label
    );
    match a.mode {
        Mode::File => {
            let path = a.output.unwrap_or_default();
            let mut bytes = serde_json::to_vec_pretty(&x.bundle_json(&opts))?;
            bytes.push(b'\n');
            for w in &x.warnings {
                eprintln!("warning: {w}");
            }
            if path.as_os_str() == "-" {
                out.write_all(&bytes)?;
            } else {
                ipocket_connectors::sd_updater::write_atomic(&path, &bytes)
                    .with_context(|| format!("writing {}", path.display()))?;
                eprintln!(
                    "Wrote bundle with {} IP asset(s) to {}",
                    x.ips.len(),
                    path.display()
                );
            }
        }
        Mode::DryRun | Mode::Apply => {
            let db = a.db.unwrap_or_default();
            let mut inv =
                Inventory::open(&db).with_context(|| format!("opening {}", db.display()))?;
            let plan = x.plan(&inv, &opts)?;
            if a.json {
                serde_json::to_writer_pretty(&mut out, &plan)?;
                writeln!(out)?;
            } else {
                for line in dry_run_report(&x, &plan) {
                    writeln!(out, "{line}")?;
                }
            }
            if a.mode == Mode::Apply {
                let report = inv.apply(&Actor::system(), &plan)?;
                let s = plan.summary.ip_assets;
                writeln!(
                    out,
                    "Import mode: apply (audit entry {}). Summary create={}, update={}, skip={}.",
                    report.import_run_audit_id, s.create, s.update, s.skip
                )?;
            }
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
