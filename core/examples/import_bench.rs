//! Times the import engine: `cargo run --release -p ipocket-core --example import_bench -- 100000`.
//!
//! Generates a bundle with N IP assets (plus projects, vendors, hosts and tags),
//! then times parse, plan and apply into an empty database file, and plan and
//! apply again as updates into the full one. Prints peak memory (VmHWM) on Linux.

use std::time::Instant;

use ipocket_core::{
    parse_bundle_json, Actor, ExportFormat, ExportOptions, ImportOptions, Inventory,
};

fn bundle(n: usize, note: &str) -> Vec<u8> {
    let mut s = String::with_capacity(n * 160);
    s.push_str(r#"{"app":"ipocket","schema_version":"1","data":{"vendors":["#);
    for v in 0..5 {
        s.push_str(&format!(
            r#"{}{{"name":"vendor-{v}"}}"#,
            if v > 0 { "," } else { "" }
        ));
    }
    s.push_str(r#"],"projects":["#);
    for p in 0..50 {
        s.push_str(&format!(
            r##"{}{{"name":"project-{p}","color":"#1a2b3c"}}"##,
            if p > 0 { "," } else { "" }
        ));
    }
    s.push_str(r#"],"tags":["#);
    for t in 0..20 {
        s.push_str(&format!(
            r##"{}{{"name":"tag-{t}","color":"#aabbcc"}}"##,
            if t > 0 { "," } else { "" }
        ));
    }
    let hosts = (n / 10).max(1);
    s.push_str(r#"],"hosts":["#);
    for h in 0..hosts {
        s.push_str(&format!(
            r#"{}{{"name":"host-{h}","notes":"rack {}","vendor_name":"vendor-{}"}}"#,
            if h > 0 { "," } else { "" },
            h % 40,
            h % 5
        ));
    }
    s.push_str(r#"],"ip_assets":["#);
    let types = ["OS", "BMC", "VM", "VIP", "OTHER"];
    for i in 0..n {
        let ip = if i % 10 == 9 {
            format!("2001:db8::{:x}:{:x}", i >> 16, i & 0xffff)
        } else {
            let v = 0x0a00_0000u32 + i as u32;
            format!(
                "{}.{}.{}.{}",
                v >> 24,
                (v >> 16) & 255,
                (v >> 8) & 255,
                v & 255
            )
        };
        s.push_str(&format!(
            r#"{}{{"ip_address":"{ip}","type":"{}","project_name":"project-{}","host_name":"host-{}","tags":["tag-{}","tag-{}"],"notes":"{note} {i}","archived":false}}"#,
            if i > 0 { "," } else { "" },
            types[i % 5],
            i % 50,
            i % hosts,
            i % 20,
            (i + 7) % 20
        ));
    }
    s.push_str("]}}");
    s.into_bytes()
}

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
    let n: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(100_000);
    let dir = tempfile_dir()?;
    let path = dir.join("bench.db");
    let mut inv = Inventory::open(&path)?;
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
