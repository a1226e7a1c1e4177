//! Seed 003's "HTTPS POST" to the server: the agent trusts a CA file and presents a client
//! certificate (mutual TLS) to a TLS proxy in front of the ingest test server.

use super::*;
use ipocket_testkit::tls_proxy::TlsProxy;

fn https_config(
    dir: &Path,
    exporter: &StubExporter,
    proxy: &TlsProxy,
    tls_lines: &str,
    name: &str,
) -> AgentConfig {
    let yaml = format!(
        "{}server:\n  endpoint: \"https://{}/metrics/prometheus\"\n  timeout: 2s\n{tls_lines}agent:\n  server_id: web-01\n  interval: 100ms\nbuffer:\n  path: {}\n",
        stub_endpoint(exporter),
        proxy.addr,
        dir.join(name).display()
    );
    AgentConfig::from_yaml(&yaml).unwrap()
}

/// Runs the agent until `done` or 1.5 s (when `done` is `None`), returns its metrics.
fn run_for(cfg: AgentConfig, done: Option<&dyn Fn(&AgentMetrics) -> bool>) -> Arc<AgentMetrics> {
    let agent = Agent::new(cfg)
        .unwrap()
        .with_push_backoff(Duration::from_millis(50), Duration::from_millis(200));
    let metrics = agent.metrics();
    let rt = rt();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let handle = rt.spawn(agent.run(stop_rx));
    match done {
        Some(f) => wait_until("pushes over TLS", Duration::from_secs(20), || f(&metrics)),
        None => std::thread::sleep(Duration::from_millis(1500)),
    }
    stop_tx.send(true).unwrap();
    rt.block_on(handle).unwrap();
    metrics
}

use ipocket_connectors::agent::AgentMetrics;

#[test]
fn pushes_over_https_with_a_ca_file_and_a_client_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let (server_dir, client_dir) = (dir.path().join("srv"), dir.path().join("cli"));
    std::fs::create_dir(&server_dir).unwrap();
    std::fs::create_dir(&client_dir).unwrap();
    let (cert, key) = peer::self_signed_cert(&server_dir);
    let (client_cert, client_key) = peer::self_signed_cert(&client_dir);
    let exporter = StubExporter::start();
    let server = ingest_server("127.0.0.1:0", &dir.path().join("samples.db"));
    server
        .store
        .lock()
        .unwrap()
        .register_server("web-01", None)
        .unwrap();
    let proxy = TlsProxy::start(
        &server.addr.to_string(),
        &cert,
        &key,
        Some(client_cert.as_path()),
    );

    // The server's certificate is not trusted without the CA file: nothing gets through.
    let m = run_for(https_config(dir.path(), &exporter, &proxy, "", "b1"), None);
    assert_eq!(m.push.sent.load(Ordering::Relaxed), 0);
    assert!(m.push.failures.load(Ordering::Relaxed) >= 1);

    // Trusted, but no client certificate: the proxy refuses the handshake.
    let ca = format!("  ca_file: {}\n", cert.display());
    let before = proxy.failed_handshakes.load(Ordering::Relaxed);
    let m = run_for(https_config(dir.path(), &exporter, &proxy, &ca, "b2"), None);
    assert_eq!(m.push.sent.load(Ordering::Relaxed), 0);
    assert!(proxy.failed_handshakes.load(Ordering::Relaxed) > before);
    assert_eq!(server.store.lock().unwrap().count(None).unwrap(), 0);

    // With both: pushed and stored.
    let mtls = format!(
        "{ca}  client_cert: {}\n  client_key: {}\n",
        client_cert.display(),
        client_key.display()
    );
    let cfg = https_config(dir.path(), &exporter, &proxy, &mtls, "b3");
    run_for(
        cfg,
        Some(&|m: &AgentMetrics| m.push.sent.load(Ordering::Relaxed) >= 3),
    );
    assert!(server.store.lock().unwrap().count(Some("web-01")).unwrap() >= 3);

    // A certificate without its key is a configuration error, located.
    let half = format!("{ca}  client_cert: {}\n", client_cert.display());
    let yaml = format!(
        "{}server:\n  endpoint: \"https://{}/metrics/prometheus\"\n{half}buffer:\n  path: {}\n",
        stub_endpoint(&exporter),
        proxy.addr,
        dir.path().join("b4").display()
    );
    let e = AgentConfig::from_yaml(&yaml).unwrap_err().to_string();
    assert!(e.contains("client_key"), "{e}");
}
