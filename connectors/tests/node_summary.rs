//! The node summary on real node_exporter output: the corpus scrape and a live exporter.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ipocket_connectors::node_summary::{NodeSnapshot, NodeSummary};
use ipocket_connectors::{ingest, IngestOptions, IngestRequest, SampleStore};
use ipocket_expfmt::Format;
use ipocket_testkit::data;
use ipocket_testkit::peer::{self, Peer};

const MIB: f64 = 1024.0 * 1024.0;
const GIB: f64 = MIB * 1024.0;

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-6 * b.abs().max(1.0)
}

#[test]
fn corpus_scrape_gives_memory_disk_uptime() {
    let body = data::node_exporter_prom();
    let snap = NodeSnapshot::from_exposition(&body, Format::Text, 0);
    assert_eq!(snap.cpu_count, 2);
    assert!(close(snap.cpu_idle_seconds, 6035.89 + 5994.62));
    let devices: Vec<_> = snap.network.keys().map(String::as_str).collect();
    assert_eq!(devices, ["eth0", "ifb0", "ifb1"]);

    let s = NodeSummary::new(None, &snap);
    assert_eq!(
        s.cpu_usage_percent, None,
        "no rate without a previous scrape"
    );
    assert!(s.network.is_empty());
    assert!(close(s.memory_total_mb.unwrap(), 2.5276502016e10 / MIB));
    assert!(close(
        s.memory_used_mb.unwrap(),
        (2.5276502016e10 - 2.4760090624e10) / MIB
    ));
    assert!(close(s.disk_total_gb.unwrap(), 2.70553174016e11 / GIB));
    assert!(close(
        s.disk_used_gb.unwrap(),
        (2.70553174016e11 - 8.2959884288e10) / GIB
    ));
    let pct = s.disk_usage_percent.unwrap();
    assert!(pct > 69.0 && pct < 70.0, "{pct}");
    assert!(close(
        s.uptime_seconds.unwrap(),
        1.79539168294599e9 - 1.79538555e9
    ));
    assert!(close(
        s.uptime_days.unwrap(),
        s.uptime_seconds.unwrap() / 86400.0
    ));
}

/// The corpus scrape, 10 s later: idle +4 s on cpu0 and +1 s on cpu1, eth0 +1000/+500 bytes.
fn later(body: &str) -> String {
    body.lines()
        .map(|l| {
            let bump = |l: &str, by: f64| {
                let (head, v) = l.rsplit_once(' ').unwrap();
                format!("{head} {}", v.parse::<f64>().unwrap() + by)
            };
            if l.starts_with("node_cpu_seconds_total{cpu=\"0\",mode=\"idle\"}") {
                bump(l, 4.0)
            } else if l.starts_with("node_cpu_seconds_total{cpu=\"1\",mode=\"idle\"}") {
                bump(l, 1.0)
            } else if l.starts_with("node_network_receive_bytes_total{device=\"eth0\"}") {
                bump(l, 1000.0)
            } else if l.starts_with("node_network_transmit_bytes_total{device=\"eth0\"}") {
                bump(l, 500.0)
            } else if l.starts_with("node_time_seconds ") {
                bump(l, 10.0)
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

#[test]
fn two_scrapes_give_cpu_and_network_rates() {
    let body = String::from_utf8(data::node_exporter_prom()).unwrap();
    let a = NodeSnapshot::from_exposition(body.as_bytes(), Format::Text, 0);
    // The scrape times disagree on purpose: the exporter's clock (node_time_seconds) wins.
    let b = NodeSnapshot::from_exposition(later(&body).as_bytes(), Format::Text, 99_000);
    let s = NodeSummary::new(Some(&a), &b);
    // 5 idle seconds of 2 CPUs × 10 s = 25 % idle → 75 % busy.
    assert!(close(s.cpu_usage_percent.unwrap(), 75.0), "{s:?}");
    let eth0 = s.network.iter().find(|n| n.device == "eth0").unwrap();
    assert!(close(eth0.rx_bytes_per_sec, 100.0));
    assert!(close(eth0.tx_bytes_per_sec, 50.0));

    // Counter reset (reboot): no CPU figure, no eth0 rate, never a negative one.
    let s = NodeSummary::new(Some(&b), &a);
    assert_eq!(s.cpu_usage_percent, None);
    assert!(s.network.iter().all(|n| n.device != "eth0"));

    // More idle than wall time (clock skew) is clamped to 0 %.
    let mut c = b.clone();
    c.cpu_idle_seconds = a.cpu_idle_seconds + 100.0;
    assert_eq!(NodeSummary::new(Some(&a), &c).cpu_usage_percent, Some(0.0));
}

/// The stored-samples summary is the scrape summary: the corpus scrape and its later copy
/// ingested (the later one first, as a replayed buffer may), then a postgres_exporter push,
/// then the store reopened.
#[test]
fn stored_scrapes_give_the_same_summary_across_exporters_and_reopening() {
    let body = String::from_utf8(data::node_exporter_prom()).unwrap();
    let later = later(&body);
    let expected = NodeSummary::new(
        Some(&NodeSnapshot::from_exposition(
            body.as_bytes(),
            Format::Text,
            0,
        )),
        &NodeSnapshot::from_exposition(later.as_bytes(), Format::Text, 10_000),
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let mut store = SampleStore::open(&path).unwrap();
    store.register_server("web-01", None).unwrap();
    let push = |store: &mut SampleStore, body: &str, t: i64| {
        let req = IngestRequest {
            server_id: Some("web-01"),
            content_type: None,
            body: body.as_bytes(),
        };
        ingest(store, &req, &IngestOptions::default(), t).unwrap();
    };
    push(&mut store, &later, 10_000);
    push(&mut store, &body, 0);
    push(
        &mut store,
        "pg_up 1\npg_stat_database_numbackends{datname=\"app\"} 3\n",
        11_000,
    );
    assert_eq!(
        store.node_summary("web-01").unwrap(),
        Some((10_000, expected.clone()))
    );
    assert!(!expected.network.is_empty() && expected.cpu_usage_percent.is_some());
    drop(store);
    let store = SampleStore::open(&path).unwrap();
    assert_eq!(
        store.node_summary("web-01").unwrap(),
        Some((10_000, expected))
    );
    assert_eq!(store.node_summary("web-02").unwrap(), None);
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn proc_meminfo_total_bytes() -> f64 {
    let text = std::fs::read_to_string("/proc/meminfo").unwrap();
    let line = text.lines().find(|l| l.starts_with("MemTotal:")).unwrap();
    line.split_whitespace()
        .nth(1)
        .unwrap()
        .parse::<f64>()
        .unwrap()
        * 1024.0
}

#[test]
fn a_live_node_exporter_on_loopback_gives_a_sane_summary() {
    let exporter = Peer::node_exporter();
    let scrape = || {
        let (status, body) = peer::get(&exporter.addr, "/metrics").expect("scrape");
        assert_eq!(status, 200);
        NodeSnapshot::from_exposition(body.as_bytes(), Format::Text, now_ms())
    };
    let a = scrape();
    std::thread::sleep(Duration::from_millis(1200));
    let b = scrape();
    let s = NodeSummary::new(Some(&a), &b);

    let cpus = std::fs::read_to_string("/proc/stat")
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("cpu") && l.as_bytes().get(3).is_some_and(u8::is_ascii_digit))
        .count();
    assert_eq!(b.cpu_count, cpus);
    let cpu = s
        .cpu_usage_percent
        .expect("cpu usage from two live scrapes");
    assert!((0.0..=100.0).contains(&cpu), "{cpu}");
    assert!(close(
        s.memory_total_mb.unwrap(),
        proc_meminfo_total_bytes() / MIB
    ));
    let used = s.memory_used_mb.unwrap();
    assert!(used > 0.0 && used < s.memory_total_mb.unwrap());
    let uptime: f64 = std::fs::read_to_string("/proc/uptime")
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let got = s.uptime_seconds.unwrap();
    // node_boot_time_seconds has 1 s resolution in /proc/stat's btime.
    assert!(
        (got - uptime).abs() < 5.0,
        "uptime {got} vs /proc/uptime {uptime}"
    );
    assert!(s
        .network
        .iter()
        .all(|n| n.rx_bytes_per_sec >= 0.0 && n.tx_bytes_per_sec >= 0.0));
    assert!(s.network.iter().all(|n| n.device != "lo"));
    if let Some(pct) = s.disk_usage_percent {
        assert!((0.0..=100.0).contains(&pct));
    }
}
