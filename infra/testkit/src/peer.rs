//! A real peer process (Debian's Prometheus or node_exporter) on 127.0.0.1 with a free
//! port, stopped on drop. Shared by the tests of connectors, rulegen and the CLI.

use std::fs;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Debian's Prometheus (package `prometheus`).
pub const PROMETHEUS: &str = "/usr/bin/prometheus";
/// Debian's node_exporter (package `prometheus-node-exporter`).
pub const NODE_EXPORTER: &str = "/usr/bin/prometheus-node-exporter";

const INSTALL: &str = "install Debian's packages: apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends prometheus prometheus-node-exporter";

/// Fails the test (never skips) when the real peer is missing.
pub fn require(bin: &str) {
    assert!(
        Path::new(bin).exists(),
        "{bin} is missing: this integration test needs the real peer; {INSTALL}"
    );
}

/// A child process that logs `msg="Listening on" address=127.0.0.1:PORT`, stopped on drop.
pub struct Peer {
    /// The peer's own temp folder (configuration, data, log, certificates).
    pub work: tempfile::TempDir,
    /// `127.0.0.1:PORT` it listens on.
    pub addr: String,
    log_path: PathBuf,
    child: Child,
    quit_path: Option<&'static str>,
}

impl Peer {
    fn spawn(
        bin: &str,
        args: &[String],
        work: tempfile::TempDir,
        quit: Option<&'static str>,
    ) -> Peer {
        require(bin);
        let log_path = work.path().join("peer.log");
        let log = fs::File::create(&log_path).unwrap();
        let mut child = Command::new(bin)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {bin}: {e}; {INSTALL}"));
        let deadline = Instant::now() + Duration::from_secs(30);
        let addr = loop {
            let text = fs::read_to_string(&log_path).unwrap_or_default();
            if let Some(addr) = listening_address(&text) {
                break addr;
            }
            if let Some(status) = child.try_wait().unwrap() {
                panic!("{bin} exited early ({status}); log:\n{text}");
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("{bin} did not log \"Listening on\" within 30 s; log:\n{text}");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        Peer {
            work,
            addr,
            log_path,
            child,
            quit_path: quit,
        }
    }

    /// Prometheus with `--web.enable-remote-write-receiver` and no scrape jobs.
    pub fn prometheus() -> Peer {
        Peer::prometheus_with_config(|_| "global:\n  scrape_interval: 15s\n".to_string())
    }

    /// Prometheus with the configuration `config(work_dir)` returns.
    pub fn prometheus_with_config(config: impl FnOnce(&Path) -> String) -> Peer {
        let work = tempfile::tempdir().unwrap();
        let config_path = work.path().join("prometheus.yml");
        fs::write(&config_path, config(work.path())).unwrap();
        let config = config_path;
        let args = vec![
            format!("--config.file={}", config.display()),
            format!("--storage.tsdb.path={}", work.path().join("data").display()),
            "--storage.tsdb.use-lockfile".into(),
            "--web.listen-address=127.0.0.1:0".into(),
            "--web.enable-lifecycle".into(),
            "--web.enable-remote-write-receiver".into(),
            "--log.level=info".into(),
        ];
        let p = Peer::spawn(PROMETHEUS, &args, work, Some("/-/quit"));
        p.wait_for("/-/ready");
        p
    }

    /// Prometheus with `--web.config.file` = what `web_config(work_dir)` returns (TLS, basic
    /// auth). Ready once it logs "Listening on" (plain-HTTP readiness polling cannot work).
    pub fn prometheus_tls(web_config: impl FnOnce(&Path) -> String) -> Peer {
        Peer::prometheus_tls_with_config(|_| "global:\n  scrape_interval: 15s\n".into(), web_config)
    }

    /// [`Peer::prometheus_tls`] with the configuration `config(work_dir)` returns and the
    /// lifecycle API on (`/-/reload`).
    pub fn prometheus_tls_with_config(
        config: impl FnOnce(&Path) -> String,
        web_config: impl FnOnce(&Path) -> String,
    ) -> Peer {
        require(PROMETHEUS);
        let work = tempfile::tempdir().unwrap();
        let config_path = work.path().join("prometheus.yml");
        fs::write(&config_path, config(work.path())).unwrap();
        let web = work.path().join("web.yml");
        fs::write(&web, web_config(work.path())).unwrap();
        let args = vec![
            format!("--config.file={}", config_path.display()),
            format!("--web.config.file={}", web.display()),
            format!("--storage.tsdb.path={}", work.path().join("data").display()),
            "--web.listen-address=127.0.0.1:0".into(),
            "--web.enable-lifecycle".into(),
            "--log.level=info".into(),
        ];
        let p = Peer::spawn(PROMETHEUS, &args, work, None);
        std::thread::sleep(Duration::from_millis(300));
        p
    }

    /// node_exporter (Debian's `prometheus-node-exporter`), systemd collector off.
    pub fn node_exporter() -> Peer {
        let work = tempfile::tempdir().unwrap();
        let args = vec![
            "--web.listen-address=127.0.0.1:0".into(),
            "--no-collector.systemd".into(),
        ];
        let p = Peer::spawn(NODE_EXPORTER, &args, work, None);
        p.wait_for("/metrics");
        p
    }

    fn wait_for(&self, path: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while get(&self.addr, path).map(|r| r.0) != Some(200) {
            assert!(
                Instant::now() < deadline,
                "{path} not 200 within 30 s; log:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Prometheus's active targets of scrape pool `pool`, sorted, as (address, `job` label,
    /// `__meta_filepath`).
    pub fn active_targets(&self, pool: &str) -> Vec<(String, String, String)> {
        let (status, body) = get(&self.addr, "/api/v1/targets?state=active").unwrap();
        assert_eq!(status, 200, "{body}");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        let text = |v: &serde_json::Value| v.as_str().unwrap_or("").to_string();
        let mut out: Vec<_> = v["data"]["activeTargets"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["scrapePool"] == pool)
            .map(|t| {
                let found = &t["discoveredLabels"];
                (
                    text(&found["__address__"]),
                    text(&t["labels"]["job"]),
                    text(&found["__meta_filepath"]),
                )
            })
            .collect();
        out.sort();
        out
    }

    /// Waits (30 s at most) until scrape pool `pool` has exactly `n` active targets.
    pub fn wait_for_active_targets(&self, pool: &str, n: usize) -> Vec<(String, String, String)> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let a = self.active_targets(pool);
            if a.len() == n {
                return a;
            }
            assert!(
                Instant::now() < deadline,
                "{n} targets not active in {pool} within 30 s: {a:?}\nlog:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// `http://ADDR{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// What the peer logged so far.
    pub fn log(&self) -> String {
        fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// Stops the process (kill), as when an exporter dies.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `bcrypt("prom_pass")`, for `basic_auth_users` of a Prometheus web config.
pub const PROM_PASS_BCRYPT: &str = "$2b$10$7rzlwSYeppLNwnKuDHwLQuP.70OWC6cymlEvwaoPZ8F7Zc3Ju6Dfi";

/// A self-signed certificate for 127.0.0.1 made with the `openssl` CLI in `dir`:
/// (`cert.pem`, `key.pem`).
pub fn self_signed_cert(dir: &Path) -> (PathBuf, PathBuf) {
    require("/usr/bin/openssl");
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let st = Command::new("/usr/bin/openssl")
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .args([
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-addext",
            "basicConstraints=critical,CA:FALSE",
        ])
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    (cert, key)
}

/// A web config with TLS (a fresh self-signed certificate in `dir`) and the Basic-auth user
/// `prom_user` / `prom_pass`.
pub fn tls_basic_auth_web_config(dir: &Path) -> String {
    let (cert, key) = self_signed_cert(dir);
    format!(
        "tls_server_config:\n  cert_file: {}\n  key_file: {}\nbasic_auth_users:\n  prom_user: '{PROM_PASS_BCRYPT}'\n",
        cert.display(),
        key.display()
    )
}

/// HTTP/1.0 request (so the body is never chunked) on loopback: (status, body).
pub fn request(addr: &str, method: &str, path: &str) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(
        s,
        "{method} {path} HTTP/1.0\r\nHost: {addr}\r\nContent-Length: 0\r\n\r\n"
    )
    .ok()?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).ok()?;
    let text = String::from_utf8_lossy(&buf).into_owned();
    let status: u16 = text.split_whitespace().nth(1)?.parse().ok()?;
    let body = text.split_once("\r\n\r\n").map(|x| x.1).unwrap_or("");
    Some((status, body.to_string()))
}

/// `GET path` with [`request`]: (status, body).
pub fn get(addr: &str, path: &str) -> Option<(u16, String)> {
    request(addr, "GET", path)
}

fn listening_address(log: &str) -> Option<String> {
    for line in log.lines() {
        if line.contains("msg=\"Listening on\"") {
            let rest = line.split("address=").nth(1)?;
            let addr = rest.split_whitespace().next()?.trim_matches('"');
            return Some(addr.to_string());
        }
    }
    None
}

impl Drop for Peer {
    fn drop(&mut self) {
        if let Some(path) = self.quit_path {
            let _ = request(&self.addr, "POST", path);
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = self.child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
