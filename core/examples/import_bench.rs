//! Times the import engine: `cargo run --release -p ipocket-core --example import_bench -- 100000`.
//!
//! Generates a bundle with N IP assets (plus projects, vendors, hosts and tags),
//! then times parse, plan and apply into an empty database file, and plan and
//! apply again as updates into the full one. Prints peak memory (VmHWM) on Linux.
//!
//! On PostgreSQL: `-- 100000 --db postgres://…` (an empty database), or `-- 100000
//! --postgres` for a fresh database on the test PostgreSQL the testkit starts (a
//! local PostgreSQL 15 with fsync off, as the tests run it).

use std::time::Instant;

use ipocket_core::import::synthetic_bundle_json as bundle;
use ipocket_core::{
    parse_bundle_json, Actor, ExportFormat, ExportOptions, ImportOptions, Inventory,
};
use ipocket_db::DbUrl;

/// CPU seconds (user + system) of this process so far, from /proc (Linux); the
/// machine may be shared, so CPU time is printed beside wall time.
fn cpu_s() -> f64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            let rest = s.rsplit_once(')')?.1.split_whitespace().collect::<Vec<_>>();
            let ticks: f64 =
                rest.get(11)?.parse::<f64>().ok()? + rest.get(12)?.parse::<f64>().ok()?;
            Some(ticks / 100.0)
        })
        .unwrap_or(0.0)
}

struct Timer(Instant, f64);

impl Timer {
    fn start() -> Self {
        Timer(Instant::now(), cpu_s())
    }
    fn report(&self, what: &str, extra: &str) {
        println!(
            "{what:<17}{:>8.3} s wall {:>8.2} s cpu   rss {:>8}  peak {:>8}   {extra}",
            self.0.elapsed().as_secs_f64(),
            cpu_s() - self.1,
            rss_mb(),
            peak_mb()
        );
    }
}

fn peak_mb() -> String {
    status_mb("VmHWM:")
}

fn rss_mb() -> String {
    status_mb("VmRSS:")
}

fn status_mb(field: &str) -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with(field)).map(|l| {
                l.split_whitespace()
                    .nth(1)
                    .unwrap_or("0")
                    .parse::<f64>()
                    .unwrap_or(0.0)
                    / 1024.0
            })
        })
        .map(|m| format!("{m:.0} MB"))
        .unwrap_or_else(|| "n/a".into())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let n: usize = args
        .first()
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(100_000);
    let dir = tempfile_dir()?;
    let url = match args.get(1).map(String::as_str) {
        None => DbUrl::parse(dir.join("bench.db").to_str().ok_or("temp path")?)?,
        Some("--db") => DbUrl::parse(args.get(2).ok_or("--db needs a URL")?)?,
        Some("--postgres") => {
            DbUrl::parse(&ipocket_testkit::postgres::Postgres::shared().fresh_db())?
        }
        Some(other) => {
            return Err(format!("unknown option {other:?} (--db URL or --postgres)").into())
        }
    };
    let mut inv = Inventory::open_url(&url)?;
    println!("database: {:?}", inv.backend());
    let sys = Actor::system();

    let raw = bundle(n, "first");
    println!("bundle: {n} assets, {:.1} MB JSON", raw.len() as f64 / 1e6);
    let t = Timer::start();
    let b = parse_bundle_json(&raw)?;
    drop(raw);
    t.report("parse", "");
    let t = Timer::start();
    let plan = inv.plan(b, &ImportOptions::default())?;
    t.report(
        "plan (empty db)",
        &format!("create={}", plan.summary.total.create),
    );
    let t = Timer::start();
    inv.apply(&sys, &plan)?;
    t.report("apply (empty db)", "");
    drop(plan);

    let raw = bundle(n, "second");
    let t = Timer::start();
    let b = parse_bundle_json(&raw)?;
    drop(raw);
    t.report("parse", "");
    let t = Timer::start();
    let plan = inv.plan(b, &ImportOptions::default())?;
    let s = plan.summary.total;
    t.report(
        "plan (updates)",
        &format!("update={} skip={}", s.update, s.skip),
    );
    let t = Timer::start();
    inv.apply(&sys, &plan)?;
    t.report("apply (updates)", "");
    drop(plan);

    let t = Timer::start();
    let all = ExportOptions {
        include_archived: true,
        ..Default::default()
    };
    let out = inv.export(ExportFormat::BundleJson, &all)?;
    t.report(
        "export bundle",
        &format!("{:.1} MB", out.len() as f64 / 1e6),
    );
    println!("peak memory      {}", peak_mb());
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

fn tempfile_dir() -> std::io::Result<std::path::PathBuf> {
    let d = std::env::temp_dir().join(format!("ipocket-import-bench-{}", std::process::id()));
    std::fs::create_dir_all(&d)?;
    Ok(d)
}
