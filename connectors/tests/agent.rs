//! The agent end to end, in process: a stub exporter, the ingest adapter over a real SQLite
//! file, the on-disk buffer in a temp folder.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ipocket_connectors::agent::{Agent, AgentConfig};
use ipocket_connectors::ingest::answer_push;
use ipocket_connectors::{IngestOptions, SampleStore};
use ipocket_testkit::http_server::IngestServer;
use ipocket_testkit::peer::{self, Peer};

/// The ingest test server over `ingest_now()` and the SQLite file `db`, on `addr`.
fn ingest_server(addr: &str, db: &Path) -> IngestServer<SampleStore> {
    let store = Arc::new(Mutex::new(SampleStore::open(db).unwrap()));
    let opts = IngestOptions::default();
    IngestServer::start(addr, store, opts.max_body_bytes, 1, move |store, call| {
        answer_push(store, call.query, call.content_type, call.body, &opts)
    })
}

/// An exporter on 127.0.0.1 whose `stub_scrapes_total` counts the scrapes it served.
struct StubExporter {
    addr: String,
    served: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
}

impl StubExporter {
    fn start() -> StubExporter {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let served = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (s2, st2) = (served.clone(), stop.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if st2.load(Ordering::Relaxed) {
                    return;
                }
                let Ok(mut conn) = conn else { continue };
                let mut buf = [0u8; 4096];
                let _ = conn.read(&mut buf);
                let n = s2.fetch_add(1, Ordering::Relaxed) + 1;
                let body = format!(
                    "# HELP stub_scrapes_total Scrapes served.\n# TYPE stub_scrapes_total counter\nstub_scrapes_total {n}\n# TYPE stub_info gauge\nstub_info{{version=\"1 SMP x\",ip=\"10.1.2.3\"}} 1\nstub_bad_line{{\n"
                );
                let _ = write!(
                    conn,
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        StubExporter { addr, served, stop }
    }
}

impl Drop for StubExporter {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = std::net::TcpStream::connect(&self.addr);
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn config(
    buffer: &std::path::Path,
    server: &str,
    endpoints: &[(&str, &str)],
    max_mb: f64,
    tail: &str,
) -> AgentConfig {
    let mut eps = String::new();
    for (name, url) in endpoints {
        eps.push_str(&format!(
            "      - url: \"{url}\"\n        name: {name}\n        interval: 100ms\n"
        ));
    }
    let yaml = format!(
        "scrapers:\n  prometheus:\n    enabled: true\n    endpoints:\n{eps}server:\n  endpoint: \"{server}\"\n  timeout: 2s\nagent:\n  server_id: web-01\nbuffer:\n  path: {}\n  retention_hours: 48\n  max_size_mb: {max_mb}\n{tail}",
        buffer.display()
    );
    AgentConfig::from_yaml(&yaml).unwrap()
}

fn wait_until(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// The samples file, read through a connection of its own (the store has none to lend).
fn samples_file(db: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(db).unwrap()
}

fn scrape_count(db: &Path) -> Vec<(i64, i64)> {
    samples_file(db)
        .prepare("SELECT timestamp, count(*) FROM metric_samples WHERE metric_name = 'stub_scrapes_total' GROUP BY timestamp ORDER BY timestamp")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn server_down_then_back_nothing_lost_nothing_duplicated() {
    let dir = tempfile::tempdir().unwrap();
    let exporter = StubExporter::start();
    let port = free_port();
    let server_addr = format!("127.0.0.1:{port}");
    let cfg = config(
        &dir.path().join("buffer"),
        &format!("http://{server_addr}/metrics/prometheus"),
        &[("stub", &format!("http://{}/metrics", exporter.addr))],
        100.0,
        "",
    );
    let agent = Agent::new(cfg)
        .unwrap()
        .with_push_backoff(Duration::from_millis(50), Duration::from_millis(400));
    let metrics = agent.metrics();
    let buffer = agent.buffer();
    let rt = rt();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let handle = rt.spawn(agent.run(stop_rx));

    // Server down: scrapes pile up on disk, pushes fail and back off.
    wait_until("10 buffered scrapes", Duration::from_secs(20), || {
        buffer.len() >= 10
    });
    assert!(metrics.push.failures.load(Ordering::Relaxed) >= 1);
    assert_eq!(metrics.push.sent.load(Ordering::Relaxed), 0);

    // Server back on the same address.
    let db = dir.path().join("samples.db");
    let server = ingest_server(&server_addr, &db);
    server
        .store
        .lock()
        .unwrap()
        .register_server("web-01", None)
        .unwrap();
    wait_until("the buffer to drain", Duration::from_secs(30), || {
        metrics.push.sent.load(Ordering::Relaxed) >= 15 && buffer.is_empty()
    });
    stop_tx.send(true).unwrap();
    rt.block_on(handle).unwrap();

    let scrapes = metrics.endpoints[0].scrapes.load(Ordering::Relaxed);
    let pushed = metrics.push.sent.load(Ordering::Relaxed);
    let store = server.stop();
    let store = store.lock().unwrap();
    let rows = scrape_count(&db);
    // Every scrape arrived once, with its own scrape timestamp; a scrape taken after the
    // buffer drained may still wait on disk.
    assert_eq!(rows.len() as u64, pushed, "{rows:?}");
    assert!(rows.iter().all(|&(_, n)| n == 1), "{rows:?}");
    assert_eq!(scrapes, pushed + buffer.len() as u64);
    assert_eq!(metrics.dropped_total(), 0);
    // The values 1..=N show that the oldest went first and none is missing.
    let values: Vec<f64> = samples_file(&db)
        .prepare(
            "SELECT value FROM metric_samples WHERE metric_name = 'stub_scrapes_total' ORDER BY id",
        )
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut sorted = values.clone();
    sorted.sort_by(f64::total_cmp);
    assert_eq!(values, sorted, "pushed oldest first");
    // The bad exporter line was left out by the agent; the label with spaces kept.
    let info = store.latest("web-01", "stub_info", &[]).unwrap();
    assert_eq!(info[0].labels, r#"{"ip":"10.1.2.3","version":"1 SMP x"}"#);
    assert_eq!(
        store.latest("web-01", "stub_bad_line", &[]).unwrap().len(),
        0
    );
    assert!(exporter.served.load(Ordering::Relaxed) >= scrapes);
}

#[test]
fn data_the_server_rejects_is_dropped_not_retried() {
    let dir = tempfile::tempdir().unwrap();
    let exporter = StubExporter::start();
    let db = dir.path().join("samples.db");
    // web-01 is not registered: every push gets 403.
    let server = ingest_server("127.0.0.1:0", &db);
    let cfg = config(
        &dir.path().join("buffer"),
        &server.endpoint(),
        &[("stub", &format!("http://{}/metrics", exporter.addr))],
        100.0,
        "",
    );
    let agent = Agent::new(cfg).unwrap();
    let metrics = agent.metrics();
    let buffer = agent.buffer();
    let rt = rt();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let handle = rt.spawn(agent.run(stop_rx));
    wait_until("5 rejections", Duration::from_secs(20), || {
        metrics.push.dropped_rejected.load(Ordering::Relaxed) >= 5
    });
    stop_tx.send(true).unwrap();
    rt.block_on(handle).unwrap();
    assert_eq!(
        metrics.push.failures.load(Ordering::Relaxed),
        0,
        "a 403 is never retried"
    );
    assert!(buffer.len() <= 1);
    assert_eq!(server.store.lock().unwrap().count(None).unwrap(), 0);
}

#[test]
fn a_full_buffer_drops_the_oldest_and_counts_them() {
    let dir = tempfile::tempdir().unwrap();
    let exporter = StubExporter::start();
    let cfg = config(
        &dir.path().join("buffer"),
        &format!("http://127.0.0.1:{}/metrics/prometheus", free_port()),
        &[("stub", &format!("http://{}/metrics", exporter.addr))],
        0.001,
        "",
    );
    let limit = cfg.buffer.max_size_bytes();
    let agent = Agent::new(cfg).unwrap();
    let metrics = agent.metrics();
    let buffer = agent.buffer();
    let rt = rt();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let handle = rt.spawn(agent.run(stop_rx));
    wait_until("drops", Duration::from_secs(20), || {
        metrics.push.dropped_size.load(Ordering::Relaxed) >= 3
    });
    stop_tx.send(true).unwrap();
    rt.block_on(handle).unwrap();
    assert!(buffer.bytes() <= limit, "{} > {limit}", buffer.bytes());
    let scrapes = metrics.endpoints[0].scrapes.load(Ordering::Relaxed);
    assert_eq!(
        scrapes,
        buffer.len() as u64 + metrics.push.dropped_size.load(Ordering::Relaxed),
        "every scrape is either buffered or counted as dropped"
    );
    // What is left is the newest: the oldest file has the highest first-seen sequence.
    let text = std::fs::read_to_string(&buffer.oldest().unwrap().path).unwrap();
    let n: u64 = text
        .lines()
        .find(|l| l.starts_with("stub_scrapes_total "))
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    assert!(n > metrics.push.dropped_size.load(Ordering::Relaxed), "{n}");
}

#[test]
fn a_dead_exporter_never_stops_the_agent_and_metrics_are_served() {
    let dir = tempfile::tempdir().unwrap();
    let exporter = StubExporter::start();
    let mut node = Peer::node_exporter();
    let db = dir.path().join("samples.db");
    let server = ingest_server("127.0.0.1:0", &db);
    server
        .store
        .lock()
        .unwrap()
        .register_server("web-01", None)
        .unwrap();
    let cfg = config(
        &dir.path().join("buffer"),
        &server.endpoint(),
        &[
            ("stub", &format!("http://{}/metrics", exporter.addr)),
            ("node_exporter", &node.url("/metrics")),
            (
                "nothing",
                &format!("http://127.0.0.1:{}/metrics", free_port()),
            ),
        ],
        100.0,
        "metrics:\n  listen: 127.0.0.1:0\n",
    );
    let mut agent = Agent::new(cfg).unwrap();
    let metrics = agent.metrics();
    let rt = rt();
    let addr = rt.block_on(agent.bind_metrics()).unwrap().unwrap();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let handle = rt.spawn(agent.run(stop_rx));
    wait_until("node_exporter scrapes", Duration::from_secs(20), || {
        metrics.endpoints[1].scrapes.load(Ordering::Relaxed) >= 2
    });
    node.kill(); // the exporter dies
    let before = metrics.endpoints[0].scrapes.load(Ordering::Relaxed);
    wait_until(
        "failures on the dead exporters, stub still scraped",
        Duration::from_secs(20),
        || {
            metrics.endpoints[1].failures.load(Ordering::Relaxed) >= 3
                && metrics.endpoints[2].failures.load(Ordering::Relaxed) >= 3
                && metrics.endpoints[0].scrapes.load(Ordering::Relaxed) >= before + 3
        },
    );
    let (status, text) = peer::get(&addr.to_string(), "/metrics").unwrap();
    assert_eq!(status, 200);
    ipocket_expfmt::parse(text.as_bytes(), ipocket_expfmt::Format::Text).unwrap();
    assert!(
        text.contains("ipocket_agent_scrape_failures_total{endpoint=\"nothing\"}"),
        "{text}"
    );
    assert!(text.contains("ipocket_agent_buffered_bytes "), "{text}");
    stop_tx.send(true).unwrap();
    rt.block_on(handle).unwrap();
    let store = server.stop();
    let store = store.lock().unwrap();
    assert!(!store
        .latest("web-01", "node_memory_MemTotal_bytes", &[])
        .unwrap()
        .is_empty());
}

/// The endpoints line of a config: one stub endpoint without an interval of its own.
fn stub_endpoint(exporter: &StubExporter) -> String {
    format!(
        "scrapers:\n  prometheus:\n    endpoints:\n      - url: \"http://{}/metrics\"\n        name: stub\n",
        exporter.addr
    )
}

#[path = "agent/identity_and_interval.rs"]
mod identity_and_interval;
#[path = "agent/remote_write_out.rs"]
mod remote_write_out;
#[path = "agent/tls.rs"]
mod tls;
