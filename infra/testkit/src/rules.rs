//! Starts Debian's real Prometheus on 127.0.0.1 with a free port for one test, on the
//! peer process harness of the connectors' tests.
#![allow(dead_code, unreachable_pub)]

#[path = "../../../connectors/tests/common/peer_process.rs"]
mod peer_process;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

pub(crate) use peer_process::{get, Peer, PROMETHEUS};

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

/// A running Prometheus that loads `rules_dir/*.yml`; stopped with POST /-/quit (kill
/// as fallback) on drop.
pub(crate) struct Prometheus {
    pub(crate) rules_dir: PathBuf,
    pub(crate) addr: String,
    pub(crate) url: String,
    peer: Peer,
}

impl Prometheus {
    pub(crate) fn start() -> Self {
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

    pub(crate) fn log(&self) -> String {
        self.peer.log()
    }

    /// `/api/v1/rules` as JSON.
    pub(crate) fn rules_json(&self) -> serde_json::Value {
        let (status, body) = get(&self.addr, "/api/v1/rules").expect("GET /api/v1/rules");
        assert_eq!(status, 200, "{body}");
        serde_json::from_str(&body).expect("rules JSON")
    }
}

pub(crate) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}
