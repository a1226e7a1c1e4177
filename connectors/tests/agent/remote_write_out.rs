//! `remote_write` in the agent's config: scrapes go straight to the real Prometheus (started
//! with `--web.enable-remote-write-receiver`), instead of or besides the push to ipocket.

use super::*;

fn query(prom: &Peer, q: &str) -> serde_json::Value {
    let enc: String = q
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    let (status, body) = peer::get(&prom.addr, &format!("/api/v1/query?query={enc}")).unwrap();
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

fn scalar(v: &serde_json::Value) -> Option<f64> {
    v["data"]["result"][0]["value"][1].as_str()?.parse().ok()
}

/// Only `remote_write`, no `server`: every scrape is queryable in Prometheus with the labels
/// `server_id` and `job` (the endpoint name), each sample with its scrape time.
#[test]
fn scrapes_go_to_prometheus_by_remote_write_instead_of_ipocket() {
    let dir = tempfile::tempdir().unwrap();
    let prom = Peer::prometheus();
    let exporter = StubExporter::start();
    let yaml = format!(
        "{}remote_write:\n  url: \"{}\"\nagent:\n  server_id: web-01\n  interval: 100ms\nbuffer:\n  path: {}\n",
        stub_endpoint(&exporter),
        prom.url("/api/v1/write"),
        dir.path().join("buffer").display()
    );
    let agent = Agent::new(AgentConfig::from_yaml(&yaml).unwrap()).unwrap();
    let metrics = agent.metrics();
    let rw = metrics.remote_write.clone().expect("remote_write counters");
    let rt = rt();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let handle = rt.spawn(agent.run(stop_rx));
    wait_until("5 scrapes sent", Duration::from_secs(20), || {
        rw.sent.load(Ordering::Relaxed) >= 5
    });
    stop_tx.send(true).unwrap();
    rt.block_on(handle).unwrap();
    let sent = rw.sent.load(Ordering::Relaxed);
    assert_eq!(rw.dropped_total(), 0);
    // Nothing was meant for ipocket.
    assert_eq!(metrics.push.sent.load(Ordering::Relaxed), 0);
    assert!(dir.path().join("buffer-remote-write").is_dir());

    let v = query(
        &prom,
        "count_over_time(stub_scrapes_total{server_id=\"web-01\",job=\"stub\"}[10m])",
    );
    assert_eq!(scalar(&v), Some(sent as f64), "{v}");
    let v = query(&prom, "stub_info{job=\"stub\"}");
    assert_eq!(
        v["data"]["result"][0]["metric"]["version"], "1 SMP x",
        "{v}"
    );
    // The exporter's bad line was left out by the agent, never sent.
    let v = query(&prom, "count({__name__=~\"stub_bad_line.*\"})");
    assert_eq!(v["data"]["result"].as_array().map(Vec::len), Some(0), "{v}");
}

/// Both destinations: ipocket down does not hold back remote_write, and each gets every
/// scrape once it is back.
#[test]
fn remote_write_and_the_push_to_ipocket_are_independent() {
    let dir = tempfile::tempdir().unwrap();
    let prom = Peer::prometheus();
    let exporter = StubExporter::start();
    let port = free_port();
    let yaml = format!(
        "{}server:\n  endpoint: \"http://127.0.0.1:{port}/metrics/prometheus\"\n  timeout: 1s\nremote_write:\n  url: \"{}\"\nagent:\n  server_id: web-02\n  interval: 100ms\nbuffer:\n  path: {}\n",
        stub_endpoint(&exporter),
        prom.url("/api/v1/write"),
        dir.path().join("buffer").display()
    );
    let agent = Agent::new(AgentConfig::from_yaml(&yaml).unwrap())
        .unwrap()
        .with_push_backoff(Duration::from_millis(50), Duration::from_millis(200));
    let metrics = agent.metrics();
    let rw = metrics.remote_write.clone().unwrap();
    let rt = rt();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let handle = rt.spawn(agent.run(stop_rx));
    wait_until(
        "remote_write while ipocket is down",
        Duration::from_secs(20),
        || rw.sent.load(Ordering::Relaxed) >= 5,
    );
    assert_eq!(metrics.push.sent.load(Ordering::Relaxed), 0);
    assert!(metrics.push.failures.load(Ordering::Relaxed) >= 1);

    let server = ingest_server(&format!("127.0.0.1:{port}"), &dir.path().join("s.db"));
    server
        .store
        .lock()
        .unwrap()
        .register_server("web-02", None)
        .unwrap();
    wait_until("ipocket catches up", Duration::from_secs(30), || {
        metrics.push.sent.load(Ordering::Relaxed) >= 5
            && metrics.push.buffered_items.load(Ordering::Relaxed) == 0
    });
    stop_tx.send(true).unwrap();
    rt.block_on(handle).unwrap();
    let v = query(
        &prom,
        "count_over_time(stub_scrapes_total{server_id=\"web-02\"}[10m])",
    );
    assert_eq!(
        scalar(&v),
        Some(rw.sent.load(Ordering::Relaxed) as f64),
        "{v}"
    );
    let text = metrics.render();
    assert!(
        text.contains("ipocket_agent_remote_write_sent_total "),
        "{text}"
    );
    ipocket_expfmt::parse(text.as_bytes(), ipocket_expfmt::Format::Text).unwrap();
}
