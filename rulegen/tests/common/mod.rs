//! Starts Debian's real Prometheus on 127.0.0.1 with a free port for one test.
#![allow(dead_code)]

use std::fs;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub(crate) const PROMETHEUS: &str = "/usr/bin/prometheus";
pub(crate) const PROMTOOL: &str = "/usr/bin/promtool";

const INSTALL: &str =
    "install Debian's package: apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends prometheus";

/// Fails the test (never skips) when the real peer is missing.
pub(crate) fn require_peer() {
    for bin in [PROMETHEUS, PROMTOOL] {
        assert!(
            Path::new(bin).exists(),
            "{bin} is missing: this integration test needs the real Prometheus 2.42; {INSTALL}"
        );
    }
}

/// Runs `promtool check rules FILE`; returns (success, stdout+stderr).
pub(crate) fn promtool_check(file: &Path) -> (bool, String) {
    require_peer();
    let out = Command::new(PROMTOOL)
        .args(["check", "rules"])
        .arg(file)
        .output()
        .expect("run promtool");
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

/// A running Prometheus; stopped with POST /-/quit (kill as fallback) on drop.
pub(crate) struct Prometheus {
    pub(crate) work: tempfile::TempDir,
    pub(crate) rules_dir: PathBuf,
    pub(crate) addr: String,
    pub(crate) url: String,
    log_path: PathBuf,
    child: Child,
}

impl Prometheus {
    pub(crate) fn start() -> Self {
        require_peer();
        let work = tempfile::tempdir().expect("temp dir");
        let rules_dir = work.path().join("rules");
        fs::create_dir_all(&rules_dir).unwrap();
        fs::create_dir_all(work.path().join("data")).unwrap();
        let config = work.path().join("prometheus.yml");
        fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files:\n  - {}/*.yml\n",
                rules_dir.display()
            ),
        )
        .unwrap();
        let log_path = work.path().join("prometheus.log");
        let log = fs::File::create(&log_path).unwrap();
        let mut child = Command::new(PROMETHEUS)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                work.path().join("data").display()
            ))
            .arg("--storage.tsdb.use-lockfile")
            .arg("--web.listen-address=127.0.0.1:0")
            .arg("--web.enable-lifecycle")
            .arg("--log.level=info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {PROMETHEUS}: {e}; {INSTALL}"));

        let deadline = Instant::now() + Duration::from_secs(30);
        let addr = loop {
            let text = fs::read_to_string(&log_path).unwrap_or_default();
            if let Some(addr) = listening_address(&text) {
                break addr;
            }
            if let Some(status) = child.try_wait().unwrap() {
                panic!("Prometheus exited early ({status}); log:\n{text}");
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("Prometheus did not log \"Listening on\" within 30 s; log:\n{text}");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let mut p = Prometheus {
            url: format!("http://{addr}"),
            addr,
            rules_dir,
            log_path,
            child,
            work,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if p.http("GET", "/-/ready").map(|r| r.0) == Some(200) {
                break;
            }
            if let Some(status) = p.child.try_wait().unwrap() {
                panic!("Prometheus exited ({status}); log:\n{}", p.log());
            }
            assert!(
                Instant::now() < deadline,
                "Prometheus not ready within 30 s; log:\n{}",
                p.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        p
    }

    pub(crate) fn log(&self) -> String {
        fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// A plain HTTP/1.1 request to this Prometheus (loopback only); None if it fails.
    pub(crate) fn http(&self, method: &str, path: &str) -> Option<(u16, String)> {
        let mut s = TcpStream::connect(&self.addr).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
        write!(
            s,
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            self.addr
        )
        .ok()?;
        let mut buf = Vec::new();
        s.read_to_end(&mut buf).ok()?;
        let text = String::from_utf8_lossy(&buf).into_owned();
        let status: u16 = text.split_whitespace().nth(1)?.parse().ok()?;
        let body = text.split_once("\r\n\r\n").map(|x| x.1).unwrap_or("");
        // Chunked bodies: good enough for JSON search (chunk sizes stay in the text).
        Some((status, body.to_string()))
    }

    /// `/api/v1/rules` as JSON.
    pub(crate) fn rules_json(&self) -> serde_json::Value {
        let body = get_http10(&self.url, "/api/v1/rules");
        serde_json::from_str(&body).expect("rules JSON")
    }
}

/// A GET independent of the crate's own client; HTTP/1.0 so the body is not chunked.
fn get_http10(base: &str, path: &str) -> String {
    let addr = base.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).expect("connect");
    write!(s, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut buf = String::new();
    s.read_to_string(&mut buf).unwrap();
    buf.split_once("\r\n\r\n")
        .map(|x| x.1.to_string())
        .unwrap_or_default()
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

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.http("POST", "/-/quit");
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}
