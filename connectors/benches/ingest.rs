//! Ingest throughput on real node_exporter payloads (507 samples, 57 KB each).
//!
//! `cargo bench -p ipocket-connectors --bench ingest [-- --agents 1000 --pushes 3 --spread-ms 15000 --loopback-only]`
//!
//! 1. store: `ingest()` straight into a SQLite file, 1,000 server ids round robin; then the
//!    same into PostgreSQL (the testkit's server on 127.0.0.1: Debian's PostgreSQL 15 with
//!    fsync off; `--sqlite-only` leaves it out);
//! 2. loopback: 1,000 simulated agents push over HTTP/1.1 on 127.0.0.1 to the hyper adapter
//!    over `ingest()`, all at once; throughput and p50/p99 request latency.
#![allow(missing_docs, unreachable_pub)]

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hyper::body::Bytes;
use ipocket_connectors::ingest::answer_push;
use ipocket_connectors::{ingest, IngestOptions, IngestRequest, SampleStore};
use ipocket_db::DbUrl;
use ipocket_http::{HttpClient, Method};
use ipocket_testkit::http_server::IngestServer;

const CT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The hyper adapter over `ingest_now()` and the SQLite file `db`, on `addr`, one worker.
fn ingest_server(addr: &str, db: &Path) -> IngestServer<SampleStore> {
    let store = Arc::new(Mutex::new(SampleStore::open(db).unwrap()));
    let opts = IngestOptions::default();
    IngestServer::start(addr, store, opts.max_body_bytes, 1, move |store, call| {
        answer_push(store, call.query, call.content_type, call.body, &opts)
    })
}

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// `n` pushes of `body` through `ingest()` into `store`, round robin over `ids`.
fn store_case(label: &str, mut store: SampleStore, ids: &[String], n: usize, body: &[u8]) {
    for id in ids {
        store.register_server(id, None).unwrap();
    }
    let opts = IngestOptions::default();
    let start = Instant::now();
    let mut samples = 0usize;
    for i in 0..n {
        let req = IngestRequest {
            server_id: Some(&ids[i % ids.len()]),
            content_type: Some(CT),
            body,
        };
        samples += ingest(&mut store, &req, &opts, 1_800_000_000_000 + i as i64)
            .unwrap()
            .metrics_received;
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{label}: {n} pushes, {samples} samples in {secs:.2} s = {:.0} samples/s ({:.2} ms/push)",
        samples as f64 / secs,
        secs * 1000.0 / n as f64
    );
    assert_eq!(store.count(None).unwrap(), samples as u64);
}

fn main() {
    let agents = arg("--agents", 1000);
    let skip_store = std::env::args().any(|a| a == "--loopback-only");
    let pushes = arg("--pushes", 3);
    // 0: every agent pushes at once (a burst); N: agent a first pushes at a*N/agents ms and
    // then every N ms, like a fleet on a scrape interval of N ms.
    let spread_ms = arg("--spread-ms", 0) as u64;
    let body = ipocket_testkit::data::node_exporter_prom();
    let dir = tempfile::tempdir().unwrap();

    // 1. Straight into SQLite, then PostgreSQL.
    let ids: Vec<String> = (0..agents).map(|i| format!("srv-{i:05}")).collect();
    let n = if skip_store { 0 } else { agents * pushes };
    if n > 0 {
        let sqlite = SampleStore::open(dir.path().join("direct.db")).unwrap();
        store_case("store", sqlite, &ids, n, &body);
        if !std::env::args().any(|a| a == "--sqlite-only") {
            let fresh = ipocket_testkit::postgres::FreshDatabase::postgres();
            let pg = SampleStore::open_url(&DbUrl::parse(&fresh.url).unwrap()).unwrap();
            store_case("store (PostgreSQL)", pg, &ids, n, &body);
        }
    }
    if std::env::args().any(|a| a == "--store-only") {
        return;
    }

    // 2. Over loopback HTTP.
    let db = dir.path().join("loopback.db");
    let srv = ingest_server("127.0.0.1:0", &db);
    {
        let mut st = srv.store.lock().unwrap();
        for id in &ids {
            st.register_server(id, None).unwrap();
        }
    }
    let url = srv.endpoint();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let body = Bytes::from(body);
    let (lat, secs, samples) = rt.block_on(async move {
        // The agents' own client (pooled keep-alive connections), as in production.
        let client = HttpClient::new();
        let start = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        let ids = Arc::new(ids);
        for a in 0..agents {
            let (client, body, url, ids) = (client.clone(), body.clone(), url.clone(), ids.clone());
            tasks.spawn(async move {
                let mut lat = Vec::with_capacity(pushes);
                let mut samples = 0u64;
                let offset = Duration::from_millis(spread_ms * a as u64 / agents as u64);
                for k in 0..pushes {
                    if spread_ms > 0 {
                        let at = start + offset + Duration::from_millis(spread_ms * k as u64);
                        tokio::time::sleep_until(at.into()).await;
                    }
                    let uri =
                        HttpClient::parse_url(&format!("{url}?server_id={}", ids[a])).unwrap();
                    let headers = [("Content-Type", CT)];
                    let t = Instant::now();
                    let resp = client
                        .send_body_once(Method::POST, &uri, &headers, body.clone())
                        .await
                        .unwrap();
                    assert_eq!(resp.status, 200);
                    lat.push(t.elapsed());
                    let v: serde_json::Value = serde_json::from_slice(&resp.body).unwrap();
                    samples += v["metrics_received"].as_u64().unwrap();
                }
                (lat, samples)
            });
        }
        let mut all = Vec::new();
        let mut samples = 0;
        while let Some(r) = tasks.join_next().await {
            let (l, s) = r.unwrap();
            all.extend(l);
            samples += s;
        }
        (all, start.elapsed().as_secs_f64(), samples)
    });
    let mut lat: Vec<Duration> = lat;
    lat.sort();
    let p =
        |q: f64| lat[((lat.len() as f64 * q) as usize).min(lat.len() - 1)].as_secs_f64() * 1000.0;
    println!(
        "loopback (spread {spread_ms} ms): {agents} agents x {pushes} pushes = {} requests, {samples} samples in {secs:.2} s = {:.0} samples/s, {:.0} req/s; latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        lat.len(),
        samples as f64 / secs,
        lat.len() as f64 / secs,
        p(0.50),
        p(0.99),
        p(1.0)
    );
    let stored = srv.store.lock().unwrap().count(None).unwrap();
    assert_eq!(stored, samples);
}
