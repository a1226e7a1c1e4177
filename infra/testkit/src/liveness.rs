//! The liveness test stack: Debian's real node_exporter and Prometheus on 127.0.0.1, with
//! the instance-relabel trick giving inventory-style addresses to loopback targets, and the
//! inventory bundle that makes every state of every reconciliation list appear.
//!
//! | job | scraped | `instance` | state |
//! |---|---|---|---|
//! | `node` | node_exporter | `10.9.8.7:9100`, labels project=web, host=node-01 | up |
//! | `wrongport` | a closed port | `10.9.8.7:9999` | never up (mismatch) |
//! | `gone` | a closed port | `10.9.8.8:9100` | down, never up (reclaimable) |
//! | `stray` | node_exporter | `10.9.8.20:9100` | up, undocumented (unknown) |
//!
//! [`INVENTORY_BUNDLE`] documents 10.9.8.7 (project `core`: a mismatch), 10.9.8.8 and
//! 10.9.8.9 (not scraped: reclaimable).

use std::time::{Duration, Instant};

use crate::peer::{get, Peer};

/// Up, documented, with disagreeing labels and a never-up second target.
pub const UP_IP: &str = "10.9.8.7";
/// Down (a closed port), documented.
pub const DOWN_IP: &str = "10.9.8.8";
/// Documented, scraped by no job.
pub const UNSCRAPED_IP: &str = "10.9.8.9";
/// Up, undocumented.
pub const STRAY_IP: &str = "10.9.8.20";

/// The inventory of the stack (bundle JSON; project `core` is created with it).
pub const INVENTORY_BUNDLE: &str = r#"{"app":"ipocket","schema_version":"1","data":{
  "projects":[{"name":"core"}],
  "ip_assets":[
    {"ip_address":"10.9.8.7","type":"OS","project_name":"core"},
    {"ip_address":"10.9.8.8","type":"VM"},
    {"ip_address":"10.9.8.9","type":"VM"}]}}"#;

/// node_exporter and a Prometheus scraping it (and two closed ports) every second.
pub struct LiveStack {
    /// Prometheus (stop it with `prometheus.kill()` for the "unreachable" case).
    pub prometheus: Peer,
    /// The node_exporter both up jobs scrape.
    pub node: Peer,
}

fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

fn job(name: &str, target: &str, instance: &str, labels: &str) -> String {
    format!(
        "  - job_name: {name}\n    static_configs:\n      - targets: ['{target}']\n        labels: {{{labels}}}\n    relabel_configs:\n      - target_label: instance\n        replacement: '{instance}'\n"
    )
}

impl LiveStack {
    /// Starts both and waits (30 s at most) until every job has been scraped and the node
    /// job's "last seen up" is known.
    pub fn start() -> LiveStack {
        let node = Peer::node_exporter();
        let (closed_a, closed_b) = (closed_port(), closed_port());
        let node_addr = node.addr.clone();
        let prometheus = Peer::prometheus_with_config(|_| {
            let mut c = "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\nscrape_configs:\n".to_string();
            c += &job(
                "node",
                &node_addr,
                "10.9.8.7:9100",
                "project: web, host: node-01",
            );
            c += &job(
                "wrongport",
                &format!("127.0.0.1:{closed_a}"),
                "10.9.8.7:9999",
                "",
            );
            c += &job(
                "gone",
                &format!("127.0.0.1:{closed_b}"),
                "10.9.8.8:9100",
                "",
            );
            c += &job("stray", &node_addr, "10.9.8.20:9100", "");
            c
        });
        let stack = LiveStack { prometheus, node };
        stack.wait_until("count(up == 1) == 2 and count(up == 0) == 2");
        stack.wait_until("count(last_over_time(timestamp(up == 1)[1h:1s])) == 2");
        stack
    }

    /// `http://127.0.0.1:PORT` of Prometheus.
    pub fn url(&self) -> String {
        self.prometheus.url("")
    }

    fn wait_until(&self, query: &str) {
        let path = format!("/api/v1/query?query={}", encode(query));
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let body = get(&self.prometheus.addr, &path)
                .map(|r| r.1)
                .unwrap_or_default();
            let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
            if v["data"]["result"]
                .as_array()
                .is_some_and(|r| !r.is_empty())
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{query} not true within 30 s: {body}\nlog:\n{}",
                self.prometheus.log()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
