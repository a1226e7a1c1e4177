//! Debian's real Prometheus on 127.0.0.1 (a free port) loading a rule folder, and
//! `promtool check rules`: the harness of the rule-generation tests (rulegen and the CLI).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

pub use crate::peer::PROMETHEUS;
use crate::peer::{get, tls_basic_auth_web_config, Peer};

/// Debian's promtool (package `prometheus`).
pub const PROMTOOL: &str = "/usr/bin/promtool";

const INSTALL: &str =
    "install Debian's package: apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends prometheus";

/// Fails the test (never skips) when the real peer is missing.
pub fn require_peer() {
    for bin in [PROMETHEUS, PROMTOOL] {
        assert!(
            Path::new(bin).exists(),
            "{bin} is missing: this integration test needs the real Prometheus 2.42; {INSTALL}"
        );
    }
}

/// Runs `promtool check rules FILE`; returns (success, stdout+stderr).
pub fn promtool_check(file: &Path) -> (bool, String) {
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

/// A running Prometheus that loads `rules_dir/*.yml`; stopped with POST /-/quit (kill
/// as fallback) on drop.
pub struct Prometheus {
    /// The folder Prometheus loads `*.yml` rule files from.
    pub rules_dir: PathBuf,
    /// `127.0.0.1:PORT` it listens on.
    pub addr: String,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    peer: Peer,
}

impl Prometheus {
    /// Starts Prometheus (1 s scrape and evaluation intervals) on a fresh rule folder.
    pub fn start() -> Self {
        require_peer();
        let mut rules_dir = PathBuf::new();
        let peer = Peer::prometheus_with_config(|work| {
            rules_dir = work.join("rules");
            fs::create_dir_all(&rules_dir).unwrap();
            format!(
                "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files:\n  - {}/*.yml\n",
                rules_dir.display()
            )
        });
        Prometheus {
            url: format!("http://{}", peer.addr),
            addr: peer.addr.clone(),
            rules_dir,
            peer,
        }
    }

    /// Prometheus behind TLS (a self-signed certificate, `work/cert.pem`) and Basic auth
    /// (`prom_user` / `prom_pass`), lifecycle API on, loading `rules_dir/*.yml`.
    pub fn start_tls() -> Self {
        require_peer();
        let mut rules_dir = PathBuf::new();
        let peer = Peer::prometheus_tls_with_config(
            |work| {
                rules_dir = work.join("rules");
                fs::create_dir_all(&rules_dir).unwrap();
                format!(
                    "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files:\n  - {}/*.yml\n",
                    rules_dir.display()
                )
            },
            tls_basic_auth_web_config,
        );
        Prometheus {
            url: format!("https://{}", peer.addr),
            addr: peer.addr.clone(),
            rules_dir,
            peer,
        }
    }

    /// The self-signed certificate of a [`Prometheus::start_tls`] instance.
    pub fn cert_file(&self) -> PathBuf {
        self.peer.work.path().join("cert.pem")
    }

    /// What Prometheus logged so far.
    pub fn log(&self) -> String {
        self.peer.log()
    }

    /// `/api/v1/rules` as JSON.
    pub fn rules_json(&self) -> serde_json::Value {
        let (status, body) = get(&self.addr, "/api/v1/rules").expect("GET /api/v1/rules");
        assert_eq!(status, 200, "{body}");
        serde_json::from_str(&body).expect("rules JSON")
    }
}
