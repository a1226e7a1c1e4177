//! Liveness joined to 100,000 assets from a Prometheus answer of 100,000 `up` series (and the
//! 100,000 "last seen up" samples): reading both answers, building the observations, the
//! join, and the three reconciliation lists. 90,000 addresses are both documented and scraped
//! (one in ten of them down), 10,000 scraped only (unknown), 10,000 documented only (not
//! scraped). Figures in docs/benchmarks.md.

use std::time::Duration;

use criterion::{Criterion, Throughput};
use ipocket_connectors::liveness::{join, LivenessOptions, Observations};
use ipocket_connectors::prometheus::{parse_generic, parse_query_response};
use ipocket_connectors::reconcile::{reconcile, ReconcileOptions};
use ipocket_core::{AssetType, IpAsset};

const N: usize = 100_000;
const NOW: f64 = 1_800_000_000.0;

fn ip(i: usize) -> String {
    format!("10.{}.{}.{}", i >> 16 & 255, i >> 8 & 255, i & 255)
}

/// The two answers for addresses 10,000..110,000 (as Prometheus writes them).
fn answers() -> (Vec<u8>, Vec<u8>) {
    let (mut up, mut last) = (String::new(), String::new());
    for i in 10_000..10_000 + N {
        let sep = if up.is_empty() { "" } else { "," };
        let v = if i % 10 == 0 { "0" } else { "1" };
        up.push_str(&format!(
            r#"{sep}{{"metric":{{"__name__":"up","instance":"{}:9100","job":"node","project":"p{}"}},"value":[{NOW},"{v}"]}}"#,
            ip(i),
            i % 50
        ));
        let t = if i % 10 == 0 {
            NOW - 40.0 * 86_400.0
        } else {
            NOW
        };
        last.push_str(&format!(
            r#"{sep}{{"metric":{{"instance":"{}:9100","job":"node","project":"p{}"}},"value":[{NOW},"{t}"]}}"#,
            ip(i),
            i % 50
        ));
    }
    let wrap = |r: String| {
        format!(r#"{{"status":"success","data":{{"resultType":"vector","result":[{r}]}}}}"#)
            .into_bytes()
    };
    (wrap(up), wrap(last))
}

/// Assets 0..100,000.
fn assets() -> Vec<IpAsset> {
    (0..N)
        .map(|i| IpAsset {
            id: i as i64 + 1,
            ip_address: ip(i),
            asset_type: AssetType::Vm,
            project_id: None,
            project_name: Some(format!("p{}", i % 50)),
            host_id: None,
            host_name: None,
            tags: Vec::new(),
            notes: None,
            archived: false,
            created_at: String::new(),
            updated_at: String::new(),
        })
        .collect()
}

fn main() {
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .sample_size(10)
        .configure_from_args();
    let (up, last) = answers();
    let assets = assets();
    let opts = LivenessOptions::new("http://127.0.0.1:9090");
    let observe = || {
        let a = parse_query_response(200, &up).unwrap();
        let b = parse_query_response(200, &last).unwrap();
        Observations::from_answers(&opts, NOW, &a, &b, None)
    };
    let obs = Ok(observe());
    let report = join(&obs, &assets);
    assert_eq!(report.addresses.len(), N + 10_000);
    let r = reconcile(&obs, &assets, &ReconcileOptions::default());
    assert_eq!(r.unknown.len(), 9_000);
    assert_eq!(r.reclaimable.len(), 10_000 + 9_000);

    let mut g = c.benchmark_group("liveness_100k");
    g.throughput(Throughput::Elements(N as u64));
    g.bench_function("parse", |b| {
        b.iter(|| parse_query_response(200, &up).unwrap())
    });
    // The generic `serde_json::Value` reader alone: how the answer was read before the
    // typed one (and how an error answer still is).
    g.bench_function("parse_generic", |b| {
        b.iter(|| parse_generic(200, &up).unwrap())
    });
    g.bench_function("parse_and_observe", |b| b.iter(observe));
    g.bench_function("join", |b| b.iter(|| join(&obs, &assets)));
    g.bench_function("reconcile", |b| {
        b.iter(|| reconcile(&obs, &assets, &ReconcileOptions::default()))
    });
    g.finish();
    c.final_summary();
}
