//! `ipocket liveness` and `ipocket reconcile`: what Prometheus sees, beside the inventory
//! (`ipocket-connectors`' `liveness` and `reconcile`; docs/liveness.md).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Result};
use clap::{Args, ValueEnum};
use ipocket_connectors::liveness::{
    ago, fetch, join, parse_span, unreachable_text, LiveState, LivenessOptions,
};
use ipocket_connectors::reconcile::{reconcile, ReconcileList, ReconcileOptions, Reconciliation};
use ipocket_core::{Actor, ArchivedFilter, AssetFilter, AssetType, Inventory, IpAsset};
use ipocket_http::Auth;

/// The Prometheus flags of both commands (those of `ipocket connector prometheus`, plus the
/// liveness ones).
#[derive(Args)]
pub(crate) struct PrometheusFlags {
    /// Prometheus base URL (http://host:port); `liveness` and `reconcile` need it, without it
    /// `ranges` shows the inventory's side only.
    #[arg(long, env = "IPOCKET_PROMETHEUS_URL")]
    prometheus_url: Option<String>,
    /// Prometheus credentials: `user:password` for Basic auth, anything else is a Bearer token.
    #[arg(long, env = "IPOCKET_PROMETHEUS_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Skip TLS certificate verification (https only; for test set-ups).
    #[arg(long)]
    insecure: bool,
    /// Also trust the PEM certificate(s) in this file.
    #[arg(long)]
    ca_file: Option<PathBuf>,
    /// Seconds all the queries may take together; past it the answer is "unknown".
    #[arg(long, default_value_t = 5.0)]
    timeout: f64,
    /// Label holding the address, host:port or [v6]:port.
    #[arg(long, default_value = "instance")]
    ip_label: String,
    /// Also report IPv6 addresses (skipped with a warning otherwise).
    #[arg(long)]
    keep_ipv6: bool,
    /// Label matchers for every selector, e.g. `job=~"node|blackbox"`.
    #[arg(long = "match", default_value = "")]
    matchers: String,
    /// How far back "last seen up" looks (30d, 12h…).
    #[arg(long, value_parser = parse_span, default_value = "30d")]
    window: Duration,
    /// Resolution of "last seen up" (the subquery step).
    #[arg(long, value_parser = parse_span, default_value = "5m")]
    step: Duration,
    /// Also read blackbox_exporter's `probe_success` (it wins over `up` for its targets).
    #[arg(long)]
    probes: bool,
    /// The inventory.
    #[arg(long, env = "IPOCKET_DB")]
    db: Option<PathBuf>,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

impl PrometheusFlags {
    fn options(&self) -> Result<LivenessOptions> {
        match self.options_if_set()? {
            Some(o) => Ok(o),
            None => bail!("this command needs --prometheus-url URL (or IPOCKET_PROMETHEUS_URL)"),
        }
    }

    /// The options, or `None` without --prometheus-url (liveness off).
    pub(crate) fn options_if_set(&self) -> Result<Option<LivenessOptions>> {
        let Some(url) = &self.prometheus_url else {
            return Ok(None);
        };
        if !(self.timeout > 0.0 && self.timeout.is_finite()) {
            bail!("--timeout must be a positive number of seconds");
        }
        let mut o = LivenessOptions::new(url);
        o.auth = self
            .token
            .as_deref()
            .filter(|t| !t.is_empty())
            .map(Auth::from_token);
        o.insecure = self.insecure;
        o.ca_file = self.ca_file.clone();
        o.timeout = Duration::from_secs_f64(self.timeout);
        o.ip_label = self.ip_label.clone();
        o.keep_ipv6 = self.keep_ipv6;
        o.matchers = self.matchers.clone();
        o.window = self.window;
        o.step = self.step;
        o.probes = self.probes;
        Ok(Some(o))
    }

    /// Print JSON.
    pub(crate) fn json(&self) -> bool {
        self.json
    }

    /// The inventory of --db (required).
    pub(crate) fn open_db(&self) -> Result<Inventory> {
        let Some(db) = &self.db else {
            bail!("this command needs the inventory: --db PATH (or IPOCKET_DB)");
        };
        crate::db_path::open_inventory(db, false)
    }

    /// Every asset (archived too) of --db; none without it.
    pub(crate) fn assets(&self, required: bool) -> Result<Vec<IpAsset>> {
        let Some(db) = &self.db else {
            if required {
                bail!("this command needs the inventory: --db PATH (or IPOCKET_DB)");
            }
            return Ok(Vec::new());
        };
        let inv = crate::db_path::open_inventory(db, false)?;
        let filter = AssetFilter {
            archived: ArchivedFilter::All,
            ..AssetFilter::default()
        };
        let mut out = Vec::new();
        inv.for_each_ip_asset(&filter, |a| {
            out.push(a);
            Ok(())
        })?;
        Ok(out)
    }
}

#[derive(Args)]
pub(crate) struct LivenessArgs {
    #[command(flatten)]
    prometheus: PrometheusFlags,
}

/// Asks Prometheus; an unreachable one is an answer (`unknown`), not a failure.
pub(crate) fn observe(
    opts: &LivenessOptions,
) -> Result<Result<ipocket_connectors::liveness::Observations, String>> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    Ok(rt.block_on(fetch(opts)).map_err(|e| unreachable_text(&e)))
}

pub(crate) fn liveness(a: LivenessArgs) -> Result<ExitCode> {
    let opts = a.prometheus.options()?;
    let assets = a.prometheus.assets(false)?;
    let report = join(&observe(&opts)?, &assets);
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    if a.prometheus.json {
        serde_json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
    } else {
        match &report.prometheus.error {
            Some(e) => writeln!(out, "unknown: {e}")?,
            None => writeln!(out, "Prometheus {}: reachable", opts.prometheus_url)?,
        }
        let now = report.prometheus.fetched_at;
        writeln!(
            out,
            "{:<39} {:<11} {:<14} {:<10} JOBS",
            "ADDRESS", "STATE", "LAST SEEN UP", "INVENTORY"
        )?;
        for x in &report.addresses {
            writeln!(
                out,
                "{:<39} {:<11} {:<14} {:<10} {}",
                x.ip,
                x.state.as_str(),
                x.last_seen_up.map_or("-".into(), |t| ago(now, t)),
                if x.documented { "yes" } else { "no" },
                x.jobs.join(",")
            )?;
        }
        let n = |s| report.count(s, None);
        writeln!(
            out,
            "up={} down={} not_scraped={} unknown={}",
            n(LiveState::Up),
            n(LiveState::Down),
            n(LiveState::NotScraped),
            n(LiveState::Unknown)
        )?;
        for w in &report.warnings {
            writeln!(out, "warning: {w}")?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum List {
    /// Create the addresses alive in Prometheus and missing from the inventory.
    Unknown,
    /// Archive the addresses not scraped, or down for longer than --down-days.
    Reclaimable,
    /// Give the assets Prometheus's project, type and host where its targets agree.
    Mismatch,
}

impl From<List> for ReconcileList {
    fn from(l: List) -> Self {
        match l {
            List::Unknown => ReconcileList::Unknown,
            List::Reclaimable => ReconcileList::Reclaimable,
            List::Mismatch => ReconcileList::Mismatch,
        }
    }
}

#[derive(Args)]
pub(crate) struct ReconcileArgs {
    #[command(flatten)]
    prometheus: PrometheusFlags,
    /// Days after which a down address is reclaimable (the window is widened to it).
    #[arg(long, default_value_t = 30.0)]
    down_days: f64,
    /// Target label compared with the asset's project (empty: no check).
    #[arg(long, default_value = "project")]
    project_label: String,
    /// Target label compared with the asset's type (empty: no check).
    #[arg(long, default_value = "type")]
    type_label: String,
    /// Target label compared with the asset's host name (empty: no check).
    #[arg(long, default_value = "host")]
    host_label: String,
    /// Show the import engine's plan of this list (CREATE/UPDATE/SKIP with field diffs).
    #[arg(long, value_enum, conflicts_with = "apply")]
    plan: Option<List>,
    /// Apply this list through the import engine (one transaction, audited).
    #[arg(long, value_enum)]
    apply: Option<List>,
    /// Type of the assets `--apply unknown` creates.
    #[arg(long, default_value = "OTHER")]
    asset_type: String,
    /// Project of the assets `--apply unknown` creates (must exist).
    #[arg(long)]
    project: Option<String>,
}

pub(crate) fn reconcile_cmd(a: ReconcileArgs) -> Result<ExitCode> {
    if !(a.down_days >= 0.0 && a.down_days.is_finite() && a.down_days <= 3650.0) {
        bail!("--down-days must be a number of days from 0 to 3650");
    }
    let ropts = ReconcileOptions {
        down_after: Duration::from_secs_f64(a.down_days * 86_400.0),
        project_label: a.project_label.clone(),
        type_label: a.type_label.clone(),
        host_label: a.host_label.clone(),
        asset_type: a.asset_type.parse::<AssetType>()?,
        project: a.project.clone().filter(|p| !p.trim().is_empty()),
    };
    let mut opts = a.prometheus.options()?;
    ropts.fit(&mut opts);
    let assets = a.prometheus.assets(true)?;
    let r = reconcile(&observe(&opts)?, &assets, &ropts);
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let list = a.apply.or(a.plan);
    let Some(list) = list else {
        if a.prometheus.json {
            serde_json::to_writer_pretty(&mut out, &r)?;
            writeln!(out)?;
        } else {
            print_lists(&mut out, &r)?;
        }
        out.flush()?;
        return Ok(ExitCode::SUCCESS);
    };
    let bundle = r.bundle(list.into(), &ropts).map_err(anyhow::Error::msg)?;
    let db = a.prometheus.db.clone().unwrap_or_default();
    let mut inv = crate::db_path::open_inventory(&db, false)?;
    let plan = inv.plan(bundle, &ipocket_core::ImportOptions::default())?;
    let applied = match a.apply {
        Some(_) => Some(inv.apply(&Actor::system(), &plan)?.import_run_audit_id),
        None => None,
    };
    if a.prometheus.json {
        serde_json::to_writer_pretty(&mut out, &plan)?;
        writeln!(out)?;
    } else {
        for item in plan.items() {
            let changes: Vec<String> = item
                .changes
                .iter()
                .map(|c| {
                    format!(
                        "{} {} -> {}",
                        c.field,
                        c.before.as_deref().unwrap_or("∅"),
                        c.after.as_deref().unwrap_or("∅")
                    )
                })
                .collect();
            let action = match item.action {
                ipocket_core::ImportAction::Create => "CREATE",
                ipocket_core::ImportAction::Update => "UPDATE",
                ipocket_core::ImportAction::Skip => "SKIP",
            };
            writeln!(out, "- [{action}] {}: {}", item.key, changes.join("; "))?;
        }
    }
    let s = plan.summary.ip_assets;
    let mode = applied.map_or("dry-run".to_string(), |id| {
        format!("apply (audit entry {id})")
    });
    // On standard error with --json, so that standard output stays one document.
    let summary = format!(
        "Import mode: {mode}. Summary create={}, update={}, skip={}.",
        s.create, s.update, s.skip
    );
    if a.prometheus.json {
        eprintln!("{summary}");
    } else {
        writeln!(out, "{summary}")?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn print_lists(out: &mut impl Write, r: &Reconciliation) -> Result<()> {
    if let Some(e) = &r.prometheus.error {
        writeln!(out, "unknown: {e}; no list can be computed")?;
        return Ok(());
    }
    let now = r.prometheus.fetched_at;
    let seen = |t: Option<f64>| t.map_or("never in window".to_string(), |t| ago(now, t));
    writeln!(
        out,
        "Unknown ({}): alive in Prometheus, not in the inventory",
        r.unknown.len()
    )?;
    for u in &r.unknown {
        let archived = if u.archived { " (archived)" } else { "" };
        writeln!(out, "  {}{archived}  jobs={}", u.ip, u.jobs.join(","))?;
    }
    writeln!(
        out,
        "Reclaimable ({}): in the inventory, not scraped or down for more than {} d",
        r.reclaimable.len(),
        r.down_after_seconds as f64 / 86_400.0
    )?;
    for x in &r.reclaimable {
        writeln!(
            out,
            "  {}  {}  last seen up: {}",
            x.ip,
            x.state.as_str(),
            seen(x.last_seen_up)
        )?;
    }
    writeln!(
        out,
        "Mismatch ({}): Prometheus disagrees with the inventory",
        r.mismatch.len()
    )?;
    for m in &r.mismatch {
        writeln!(
            out,
            "  {}  {}  job={} instance={}  inventory={} prometheus={}",
            m.ip,
            m.kind.as_str(),
            m.job,
            m.instance,
            m.inventory.as_deref().unwrap_or("∅"),
            m.prometheus.as_deref().unwrap_or("∅")
        )?;
    }
    Ok(())
}
