//! `ipocket agent` as a process: kill -9 while it writes, then the buffer is still readable.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ipocket_expfmt::{Format, Parser, Record};

const BIN: &str = env!("CARGO_BIN_EXE_ipocket");

/// Serves the real node_exporter corpus scrape (57 KB) on 127.0.0.1, forever.
fn exporter() -> String {
    let body = ipocket_testkit::data::node_exporter_prom();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let mut buf = [0u8; 4096];
            let _ = conn.read(&mut buf);
            let _ = write!(
                conn,
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = conn.write_all(&body);
        }
    });
    addr
}

fn complete_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|e| e == "prom"))
                .filter(|p| !p.file_name().unwrap().to_string_lossy().starts_with('.'))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn write_config(dir: &Path, exporter: &str) -> std::path::PathBuf {
    let dead = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let cfg = dir.join("agent.yml");
    std::fs::write(
        &cfg,
        format!(
            "scrapers:\n  prometheus:\n    endpoints:\n      - url: \"http://{exporter}/metrics\"\n        name: node_exporter\n        interval: 100ms\nserver:\n  endpoint: \"http://{dead}/metrics/prometheus\"\n  timeout: 1s\nagent:\n  server_id: web-01\nbuffer:\n  path: {}\n  retention_hours: 48\n  max_size_mb: 100\nmetrics:\n  listen: 127.0.0.1:0\n",
            dir.join("buffer").display()
        ),
    )
    .unwrap();
    cfg
}

#[test]
fn check_prints_the_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), "127.0.0.1:1");
    let out = Command::new(BIN)
        .args(["agent", "--check", "--config"])
        .arg(&cfg)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["server_id"], "web-01");
    assert_eq!(v["endpoints"][0]["interval_ms"], 100);

    std::fs::write(&cfg, "server: {}\n").unwrap();
    let out = Command::new(BIN)
        .args(["agent", "--check", "--config"])
        .arg(&cfg)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid agent configuration"));
}

#[test]
fn kill_9_mid_write_leaves_a_readable_buffer() {
    let dir = tempfile::tempdir().unwrap();
    let exporter = exporter();
    let cfg = write_config(dir.path(), &exporter);
    let buffer = dir.path().join("buffer");
    let mut expected_min = 0;
    for round in 0..3 {
        let log = std::fs::File::create(dir.path().join(format!("agent-{round}.log"))).unwrap();
        let mut child = Command::new(BIN)
            .args(["agent", "--config"])
            .arg(&cfg)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        let target = expected_min + 4;
        while complete_files(&buffer).len() < target {
            assert!(Instant::now() < deadline, "agent did not buffer scrapes");
            std::thread::sleep(Duration::from_millis(10));
        }
        // Somewhere in the middle of the next scrape's write.
        std::thread::sleep(Duration::from_millis(37 + 23 * round as u64));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();

        let files = complete_files(&buffer);
        assert!(files.len() >= target);
        expected_min = files.len();
        for f in &files {
            let data = std::fs::read(f).unwrap();
            let mut samples = 0;
            for r in Parser::new(&data, Format::Text) {
                if let Record::Sample(s) = r.unwrap_or_else(|e| panic!("{}: {e}", f.display())) {
                    assert!(s.timestamp.is_some());
                    samples += 1;
                }
            }
            assert_eq!(samples, 507, "{}", f.display());
        }
        let torn = hidden_files(&buffer);
        let v = status(&cfg);
        assert_eq!(v["scrapes"], files.len(), "{v}");
        // --status only looks: a torn temp file stays for the agent's next start to remove.
        assert_eq!(v["temp_files"], torn.len(), "{v}");
        assert_eq!(hidden_files(&buffer), torn);
    }
}

/// The hidden (temp) files of the buffer folder.
fn hidden_files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    v.sort();
    v
}

/// `ipocket agent --status` as JSON.
fn status(cfg: &Path) -> serde_json::Value {
    let out = Command::new(BIN)
        .args(["agent", "--status", "--config"])
        .arg(cfg)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// `--status` used to open the buffer as the agent does, removing every temp file as
/// torn, the running agent's write in flight included (a lost scrape, 3 in 300 calls).
#[test]
fn status_beside_a_running_agent_only_looks() {
    let dir = tempfile::tempdir().unwrap();
    let exporter = exporter();
    let cfg = write_config(dir.path(), &exporter);
    let buffer = dir.path().join("buffer");
    let log_path = dir.path().join("agent.log");
    let mut agent = Command::new(BIN)
        .args(["agent", "--config"])
        .arg(&cfg)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log_path).unwrap())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while complete_files(&buffer).len() < 2 {
        assert!(Instant::now() < deadline, "agent did not buffer scrapes");
        std::thread::sleep(Duration::from_millis(10));
    }
    // A write in flight, as the agent names it (the real ones come and go every 100 ms).
    let in_flight =
        buffer.join(".9999999999999-0000009999-node_exporter.prom.ipocket-tmp-0123456789abcdef");
    std::fs::write(&in_flight, b"node_load1 0.").unwrap();
    for _ in 0..40 {
        let v = status(&cfg);
        assert!(v["scrapes"].as_u64().unwrap() >= 2, "{v}");
        assert!(v["temp_files"].as_u64().unwrap() >= 1, "{v}");
        assert!(in_flight.exists(), "--status removed a temp file");
    }
    let _ = agent.kill();
    let _ = agent.wait();
    let log = std::fs::read_to_string(&log_path).unwrap();
    assert!(!log.contains("buffer write for"), "{log}");
}

/// Writing to a closed pipe (`ipocket … | head -0`) ends quietly with 141 (128 + SIGPIPE),
/// for every command: no panic, no error message.
#[test]
fn a_closed_standard_output_ends_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), "127.0.0.1:1");
    let db = dir.path().join("ipocket.db");
    ipocket_core::Inventory::open(&db).unwrap();
    let cfg_s = cfg.to_str().unwrap();
    let db_s = db.to_str().unwrap();
    for args in [
        vec!["agent", "--status", "--config", cfg_s],
        vec!["agent", "--check", "--config", cfg_s],
        vec!["export", "bundle.json", "--db", db_s],
        vec!["users", "--db", db_s, "list"],
        vec!["rules", "--db", db_s, "settings"],
    ] {
        // `true` has exited, closing the pipe's read end, before ipocket writes.
        let out = Command::new("sh")
            .arg("-c")
            .arg(r#"(sleep 0.3; "$@"; echo "status=$?" >&2) | true"#)
            .arg("sh")
            .arg(BIN)
            .args(&args)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.trim(), "status=141", "{args:?}: {err}");
    }
}

/// The flags of HTTPS pushes (seed 003): the server's certificate is trusted through the
/// system's CA bundle (`SSL_CERT_FILE`, as OpenSSL reads it) or `--ca-file`, and the client
/// certificate of `--client-cert`/`--client-key` gets through a proxy that requires one.
#[test]
fn https_pushes_trust_the_system_bundle_or_ca_file_and_present_a_client_certificate() {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Arc;
    let dir = tempfile::tempdir().unwrap();
    let (srv_dir, cli_dir) = (dir.path().join("srv"), dir.path().join("cli"));
    std::fs::create_dir(&srv_dir).unwrap();
    std::fs::create_dir(&cli_dir).unwrap();
    let (cert, key) = ipocket_testkit::peer::self_signed_cert(&srv_dir);
    let (client_cert, client_key) = ipocket_testkit::peer::self_signed_cert(&cli_dir);
    // A stand-in ingest endpoint that counts the pushes it accepted.
    let pushes = Arc::new(AtomicU64::new(0));
    let counted = pushes.clone();
    let backend = ipocket_testkit::http_server::serve_http("127.0.0.1:0", 0, move |req| {
        let counted = counted.clone();
        async move {
            if req.uri().path() == "/metrics/prometheus"
                && req
                    .uri()
                    .query()
                    .is_some_and(|q| q.contains("server_id=web-01"))
            {
                counted.fetch_add(1, Ordering::Relaxed);
            }
            Ok(hyper::Response::new(http_body_util::Full::new(
                hyper::body::Bytes::from_static(b"{\"status\":\"success\"}"),
            )))
        }
    });
    let proxy = ipocket_testkit::tls_proxy::TlsProxy::start(
        &backend.addr.to_string(),
        &cert,
        &key,
        Some(client_cert.as_path()),
    );
    let exporter = exporter();
    let cfg = dir.path().join("agent.yml");
    std::fs::write(
        &cfg,
        format!(
            "scrapers:\n  prometheus:\n    endpoints:\n      - url: \"http://{exporter}/metrics\"\n        name: node_exporter\nserver:\n  endpoint: \"https://{}/metrics/prometheus\"\n  timeout: 2s\nagent:\n  server_id: web-01\n  interval: 100ms\nbuffer:\n  path: {}\n",
            proxy.addr,
            dir.path().join("buffer").display()
        ),
    )
    .unwrap();
    let client_flags = [
        "--client-cert".to_string(),
        client_cert.display().to_string(),
        "--client-key".to_string(),
        client_key.display().to_string(),
    ];
    // Runs the agent for `secs` seconds; returns how many pushes arrived meanwhile.
    let run = |ssl_cert_file: Option<&Path>, extra: &[String], secs: u64| {
        let before = pushes.load(Ordering::Relaxed);
        let mut cmd = Command::new(BIN);
        cmd.args(["agent", "--config"])
            .arg(&cfg)
            .args(extra)
            .env_remove("IPOCKET_AGENT_CA_FILE")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        match ssl_cert_file {
            Some(f) => cmd.env("SSL_CERT_FILE", f),
            None => cmd.env_remove("SSL_CERT_FILE"),
        };
        let mut child = cmd.spawn().unwrap();
        let deadline = Instant::now() + Duration::from_secs(secs);
        while Instant::now() < deadline && pushes.load(Ordering::Relaxed) < before + 3 {
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
        pushes.load(Ordering::Relaxed) - before
    };
    // Not trusted (only the webpki roots and the machine's bundle): nothing arrives.
    assert_eq!(run(None, &client_flags, 2), 0);
    // Trusted through the system bundle, no flag for it.
    assert!(run(Some(&cert), &client_flags, 20) >= 3);
    // Trusted through --ca-file.
    let mut flags = client_flags.to_vec();
    flags.extend(["--ca-file".to_string(), cert.display().to_string()]);
    assert!(run(None, &flags, 20) >= 3);
    // Without the client certificate the proxy refuses the handshake.
    let refused = proxy.failed_handshakes.load(Ordering::Relaxed);
    assert_eq!(
        run(
            None,
            &["--ca-file".to_string(), cert.display().to_string()],
            2
        ),
        0
    );
    assert!(proxy.failed_handshakes.load(Ordering::Relaxed) > refused);
    // A half pair is refused by the flag parser.
    let out = Command::new(BIN)
        .args(["agent", "--check", "--config"])
        .arg(&cfg)
        .args(["--client-cert", "x.pem"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// `--remote-write-url` and `--remote-write-token` on the command line: `--check` shows the
/// receiver and the kind of credentials, never the secret; without any destination the
/// configuration is refused.
#[test]
fn remote_write_flags_in_check_and_a_config_without_a_destination() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("agent.yml");
    std::fs::write(
        &cfg,
        "scrapers:\n  prometheus:\n    endpoints:\n      - {url: \"http://127.0.0.1:9100/metrics\", name: node_exporter}\nagent:\n  interval: 30s\nbuffer:\n  path: /tmp/never-used\n",
    )
    .unwrap();
    let out = Command::new(BIN)
        .args(["agent", "--check", "--config"])
        .arg(&cfg)
        .env_remove("IPOCKET_AGENT_REMOTE_WRITE_URL")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no destination"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = Command::new(BIN)
        .args(["agent", "--check", "--config"])
        .arg(&cfg)
        .args([
            "--remote-write-url",
            "https://mimir.example.internal/api/v1/push",
            "--remote-write-token",
            "tenant:s3cret-pass",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("s3cret"), "{text}");
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        v["remote_write"]["url"],
        "https://mimir.example.internal/api/v1/push"
    );
    assert_eq!(v["remote_write"]["auth"], "basic");
    assert_eq!(
        v["remote_write"]["buffer_path"],
        "/tmp/never-used-remote-write"
    );
    assert_eq!(v["server"], serde_json::Value::Null);
    assert_eq!(
        v["server_id"],
        serde_json::Value::Null,
        "generated on the first run"
    );
    assert_eq!(v["endpoints"][0]["interval_ms"], 30_000);
}
