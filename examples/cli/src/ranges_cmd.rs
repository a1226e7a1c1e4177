//! `ipocket ranges`: the ranges of the inventory with both utilizations, the map of one range,
//! and its next free address passing over live undocumented addresses
//! (`ipocket_connectors::range_map`; docs/liveness.md, "Range map"). Prometheus is optional:
//! without --prometheus-url only the inventory's side is shown.

use std::io::Write;
use std::process::ExitCode;

use anyhow::{bail, Result};
use clap::{Args, Subcommand};
use ipocket_connectors::liveness::{ago, LiveState, Observations};
use ipocket_connectors::range_map::{
    alive_undocumented, range_map, status, utilizations, CellState, RangeMap,
};
use ipocket_core::{normalize_cidr, Inventory, IpRange};
use serde_json::json;

use crate::liveness_cmd::{observe, PrometheusFlags};

#[derive(Args)]
pub(crate) struct RangesArgs {
    #[command(subcommand)]
    command: RangesCommand,
}

#[derive(Subcommand)]
enum RangesCommand {
    /// Every range with its documented and (with --prometheus-url) alive utilization.
    List {
        #[command(flatten)]
        prometheus: PrometheusFlags,
    },
    /// One page of the map of a range: a cell per address, unused / up / down / alive.
    Map {
        /// The range: its id or its CIDR.
        range: String,
        /// The page, from 1 (256 addresses a page).
        #[arg(long, default_value_t = 1)]
        page: u64,
        #[command(flatten)]
        prometheus: PrometheusFlags,
    },
    /// The next free address of a range; with --prometheus-url it passes over the addresses
    /// that are up but undocumented, and says which and why.
    NextFree {
        /// The range: its id or its CIDR.
        range: String,
        /// Do not pass over live undocumented addresses (the default with --prometheus-url is
        /// to pass over them).
        #[arg(long)]
        no_skip_alive: bool,
        #[command(flatten)]
        prometheus: PrometheusFlags,
    },
}

/// A range by id or by CIDR (any spelling of it: `10.0.0.7/24` is `10.0.0.0/24`).
fn find_range(inv: &Inventory, key: &str) -> Result<IpRange> {
    if let Ok(id) = key.trim().parse::<i64>() {
        return Ok(inv.ip_range(id)?);
    }
    let cidr = normalize_cidr(key)?.to_string();
    match inv.ip_ranges()?.into_iter().find(|r| r.cidr == cidr) {
        Some(r) => Ok(r),
        None => bail!("no range {cidr} in the inventory (ipocket ranges list shows them)"),
    }
}

/// The liveness answer: `None` without --prometheus-url.
fn liveness(p: &PrometheusFlags) -> Result<Option<Result<Observations, String>>> {
    match p.options_if_set()? {
        Some(opts) => Ok(Some(observe(&opts)?)),
        None => Ok(None),
    }
}

pub(crate) fn run(a: RangesArgs) -> Result<ExitCode> {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    match a.command {
        RangesCommand::List { prometheus } => list(&mut out, &prometheus)?,
        RangesCommand::Map {
            range,
            page,
            prometheus,
        } => map(&mut out, &prometheus, &range, page)?,
        RangesCommand::NextFree {
            range,
            no_skip_alive,
            prometheus,
        } => next_free(&mut out, &prometheus, &range, !no_skip_alive)?,
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn prometheus_line(
    out: &mut impl Write,
    live: Option<&Result<Observations, String>>,
) -> Result<()> {
    match live {
        None => writeln!(out, "liveness off (no --prometheus-url)")?,
        Some(Err(e)) => writeln!(out, "liveness unknown: {e}")?,
        Some(Ok(_)) => {}
    }
    Ok(())
}

fn list(out: &mut impl Write, p: &PrometheusFlags) -> Result<()> {
    let inv = p.open_db()?;
    let ranges = inv.all_range_utilization()?;
    let live = liveness(p)?;
    let assets = match &live {
        Some(Ok(_)) => p.assets(true)?,
        _ => Vec::new(),
    };
    let (prometheus, list) = utilizations(ranges, &assets, live.as_ref())?;
    if p.json() {
        serde_json::to_writer_pretty(
            &mut *out,
            &json!({"prometheus": prometheus, "ranges": list}),
        )?;
        writeln!(out)?;
        return Ok(());
    }
    prometheus_line(out, live.as_ref())?;
    writeln!(
        out,
        "{:<5} {:<20} {:<20} {:>10} {:>8} {:>10} {:>8}  UNDOCUMENTED ALIVE",
        "ID", "NAME", "CIDR", "USABLE", "USED", "DOCUMENTED", "ALIVE"
    )?;
    for u in &list {
        let d = &u.documented;
        let (alive, undocumented) = match &u.alive {
            Some(a) => (
                format!("{:.1}%", a.percent),
                a.undocumented_alive.to_string(),
            ),
            None => ("-".into(), "-".into()),
        };
        writeln!(
            out,
            "{:<5} {:<20} {:<20} {:>10} {:>8} {:>9.1}% {:>8}  {}",
            d.range.id,
            d.range.name,
            d.range.cidr,
            d.usable,
            d.used,
            d.percent,
            alive,
            undocumented
        )?;
    }
    Ok(())
}

/// One character a cell in the text map.
fn glyph(state: CellState, reserved: bool) -> char {
    match (state, reserved) {
        (_, true) => '#',
        (CellState::Unused, _) => '.',
        (CellState::Up, _) => 'U',
        (CellState::Down, _) => 'D',
        (CellState::Alive, _) => 'A',
        (CellState::Documented, _) => 'd',
    }
}

fn map(out: &mut impl Write, p: &PrometheusFlags, key: &str, page: u64) -> Result<()> {
    let inv = p.open_db()?;
    let range = find_range(&inv, key)?;
    drop(inv);
    let live = liveness(p)?;
    let assets = p.assets(true)?;
    let m = range_map(&range.cidr, page, &assets, live.as_ref())?;
    if p.json() {
        let mut v = serde_json::to_value(&m)?;
        v["range"] = serde_json::to_value(&range)?;
        serde_json::to_writer_pretty(&mut *out, &v)?;
        writeln!(out)?;
        return Ok(());
    }
    print_map(out, &range, &m, live.as_ref())
}

fn print_map(
    out: &mut impl Write,
    range: &IpRange,
    m: &RangeMap,
    live: Option<&Result<Observations, String>>,
) -> Result<()> {
    writeln!(
        out,
        "{} ({}): page {} of {}",
        range.name, m.cidr, m.page, m.pages
    )?;
    prometheus_line(out, live)?;
    for row in m.cells.chunks(16) {
        let line: String = row
            .iter()
            .map(|c| glyph(c.state, c.reserved).to_string())
            .collect::<Vec<_>>()
            .join(" ");
        writeln!(out, "{:<39} {line}", row[0].ip)?;
    }
    writeln!(
        out,
        "legend: . unused  U documented, up  D documented, down or not scraped  A undocumented but alive  d documented (liveness unknown)  # network/broadcast"
    )?;
    let c = m.counts;
    writeln!(
        out,
        "unused={} up={} down={} alive={} documented={}",
        c.unused, c.up, c.down, c.alive, c.documented
    )?;
    let now = m.prometheus.as_ref().map(|s| s.fetched_at);
    for cell in m.cells.iter().filter(|c| c.state != CellState::Unused) {
        let what = match &cell.asset {
            Some(a) => format!(
                "{} project={}",
                a.asset_type,
                a.project_name.as_deref().unwrap_or("unassigned")
            ),
            None => "undocumented".into(),
        };
        let not_scraped = if cell.live == Some(LiveState::NotScraped) {
            " (not scraped)"
        } else {
            ""
        };
        let seen = match (cell.last_seen_up, now) {
            (Some(t), Some(now)) => format!(" last seen up {}", ago(now, t)),
            _ => String::new(),
        };
        writeln!(
            out,
            "  {:<39} {}{not_scraped}  {what}  jobs={}{seen}",
            cell.ip,
            cell.state.as_str(),
            cell.jobs.join(",")
        )?;
    }
    Ok(())
}

fn next_free(out: &mut impl Write, p: &PrometheusFlags, key: &str, skip: bool) -> Result<()> {
    let inv = p.open_db()?;
    let range = find_range(&inv, key)?;
    let live = if skip { liveness(p)? } else { None };
    let avoid = match &live {
        Some(Ok(obs)) => alive_undocumented(obs, &p.assets(true)?),
        _ => Default::default(),
    };
    let next = inv.next_free_avoiding(range.id, &avoid)?;
    let skip_alive = skip && live.is_some();
    if p.json() {
        let v = json!({
            "ip_address": next.ip_address,
            "skipped": next.skipped,
            "skip_alive": skip_alive,
            "prometheus": live.as_ref().map(status),
        });
        serde_json::to_writer_pretty(&mut *out, &v)?;
        writeln!(out)?;
        return Ok(());
    }
    match &next.ip_address {
        Some(ip) => writeln!(out, "{ip}")?,
        None => writeln!(out, "no free address in {}", range.cidr)?,
    }
    for s in &next.skipped {
        writeln!(out, "skipped {}: {}", s.ip_address, s.reason)?;
    }
    if let Some(Err(e)) = &live {
        writeln!(out, "live addresses not skipped: {e}")?;
    }
    Ok(())
}
