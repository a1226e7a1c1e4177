//! The node summary: CPU, memory, root filesystem, network rates and uptime from two
//! node_exporter scrapes (the seed's mapping table).
//!
//! | node_exporter metric | summary field |
//! |---|---|
//! | `node_cpu_seconds_total{mode="idle"}` (all CPUs) | `cpu_usage_percent` = 100 − Δidle / (Δt × CPUs) × 100, clamped 0–100 |
//! | `node_memory_MemTotal_bytes` | `memory_total_mb` (bytes / 1024²) |
//! | `node_memory_MemAvailable_bytes` | `memory_used_mb` = total − available |
//! | `node_filesystem_size_bytes{mountpoint="/"}` | `disk_total_gb` (bytes / 1024³) |
//! | `node_filesystem_avail_bytes{mountpoint="/"}` | `disk_used_gb` = size − avail |
//! | `node_network_receive_bytes_total` | `network[].rx_bytes_per_sec` (Δ / Δt, per device) |
//! | `node_network_transmit_bytes_total` | `network[].tx_bytes_per_sec` |
//! | `node_boot_time_seconds` | `uptime_seconds` = `node_time_seconds` (or scrape time) − boot |

use std::collections::BTreeMap;

use ipocket_expfmt::{Format, Mode, Parser, Record};
use serde::Serialize;

/// Filesystem types never taken as "the root filesystem".
const PSEUDO_FS: &[&str] = &["tmpfs", "devtmpfs", "overlay", "squashfs", "rootfs"];

fn skipped_device(dev: &str) -> bool {
    matches!(dev, "lo" | "docker0" | "virbr0") || dev.starts_with("veth")
}

/// What one scrape says, reduced to the metrics the summary needs.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct NodeSnapshot {
    /// When the scrape was taken (ms since the epoch), as the caller says.
    pub taken_at_ms: i64,
    /// Σ `node_cpu_seconds_total{mode="idle"}` over all CPUs.
    pub cpu_idle_seconds: f64,
    /// Number of CPUs (rows with `mode="idle"`).
    pub cpu_count: usize,
    /// `node_memory_MemTotal_bytes`.
    pub memory_total_bytes: Option<f64>,
    /// `node_memory_MemAvailable_bytes`.
    pub memory_available_bytes: Option<f64>,
    /// `node_filesystem_size_bytes{mountpoint="/"}` (real filesystems only).
    pub root_fs_size_bytes: Option<f64>,
    /// `node_filesystem_avail_bytes{mountpoint="/"}`.
    pub root_fs_avail_bytes: Option<f64>,
    /// Per device: (received, transmitted) byte counters; `lo`, `docker0`, `virbr0`, `veth*` left out.
    pub network: BTreeMap<String, (f64, f64)>,
    /// `node_boot_time_seconds`.
    pub boot_time_seconds: Option<f64>,
    /// `node_time_seconds` (the exporter's clock at scrape time).
    pub node_time_seconds: Option<f64>,
}

impl NodeSnapshot {
    /// Reads a node_exporter exposition (lenient: bad lines are skipped).
    ///
    /// ```
    /// use ipocket_connectors::node_summary::NodeSnapshot;
    /// use ipocket_expfmt::Format;
    /// let text = b"node_cpu_seconds_total{cpu=\"0\",mode=\"idle\"} 100\nnode_memory_MemTotal_bytes 1024\n";
    /// let snap = NodeSnapshot::from_exposition(text, Format::Text, 0);
    /// assert_eq!((snap.cpu_count, snap.cpu_idle_seconds), (1, 100.0));
    /// assert_eq!(snap.memory_total_bytes, Some(1024.0));
    /// ```
    pub fn from_exposition(body: &[u8], format: Format, taken_at_ms: i64) -> NodeSnapshot {
        let mut snap = NodeSnapshot {
            taken_at_ms,
            ..NodeSnapshot::default()
        };
        let mut parser = Parser::new(body, format).with_mode(Mode::Lenient);
        while let Some(item) = parser.next_ref() {
            let Ok(Record::Sample(s)) = item else {
                continue;
            };
            let l = &s.labels;
            match s.name.as_ref() {
                "node_cpu_seconds_total" if l.get("mode") == Some("idle") => {
                    snap.cpu_idle_seconds += s.value;
                    snap.cpu_count += 1;
                }
                "node_memory_MemTotal_bytes" => snap.memory_total_bytes = Some(s.value),
                "node_memory_MemAvailable_bytes" => snap.memory_available_bytes = Some(s.value),
                "node_filesystem_size_bytes" | "node_filesystem_avail_bytes"
                    if l.get("mountpoint") == Some("/")
                        && !PSEUDO_FS.contains(&l.get("fstype").unwrap_or("")) =>
                {
                    if s.name == "node_filesystem_size_bytes" {
                        snap.root_fs_size_bytes = Some(s.value);
                    } else {
                        snap.root_fs_avail_bytes = Some(s.value);
                    }
                }
                "node_network_receive_bytes_total" | "node_network_transmit_bytes_total" => {
                    let Some(dev) = l.get("device").filter(|d| !skipped_device(d)) else {
                        continue;
                    };
                    let e = snap.network.entry(dev.to_string()).or_insert((0.0, 0.0));
                    if s.name == "node_network_receive_bytes_total" {
                        e.0 = s.value;
                    } else {
                        e.1 = s.value;
                    }
                }
                "node_boot_time_seconds" => snap.boot_time_seconds = Some(s.value),
                "node_time_seconds" => snap.node_time_seconds = Some(s.value),
                _ => {}
            }
        }
        snap
    }

    /// Seconds from `prev` to `self`: the exporter's own clock when both scrapes have
    /// `node_time_seconds`, the scrape times otherwise.
    fn seconds_since(&self, prev: &NodeSnapshot) -> f64 {
        match (prev.node_time_seconds, self.node_time_seconds) {
            (Some(a), Some(b)) if b > a => b - a,
            _ => (self.taken_at_ms - prev.taken_at_ms) as f64 / 1000.0,
        }
    }
}

/// Network rates of one device between two scrapes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NetworkRate {
    /// Interface name.
    pub device: String,
    /// Received bytes per second (`network_download_bytes` of the original).
    pub rx_bytes_per_sec: f64,
    /// Transmitted bytes per second (`network_upload_bytes`).
    pub tx_bytes_per_sec: f64,
}

/// The summary of a node, from the latest scrape and (for rates) the one before.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct NodeSummary {
    /// 0–100; `None` without a previous scrape, when the CPU count changed, or on a counter reset.
    pub cpu_usage_percent: Option<f64>,
    /// MemTotal in MiB.
    pub memory_total_mb: Option<f64>,
    /// MemTotal − MemAvailable in MiB.
    pub memory_used_mb: Option<f64>,
    /// Used / total × 100.
    pub memory_usage_percent: Option<f64>,
    /// Root filesystem size in GiB.
    pub disk_total_gb: Option<f64>,
    /// Root filesystem size − avail in GiB.
    pub disk_used_gb: Option<f64>,
    /// Used / total × 100.
    pub disk_usage_percent: Option<f64>,
    /// Per-device rates (devices present in both scrapes, counters not reset), by name.
    pub network: Vec<NetworkRate>,
    /// Seconds since boot.
    pub uptime_seconds: Option<f64>,
    /// The same in days.
    pub uptime_days: Option<f64>,
}

const MIB: f64 = 1024.0 * 1024.0;
const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

fn percent(part: f64, whole: f64) -> Option<f64> {
    (whole > 0.0).then(|| (part / whole * 100.0).clamp(0.0, 100.0))
}

impl NodeSummary {
    /// The summary of `cur`; rates (CPU, network) need `prev`, an earlier scrape of the same node.
    ///
    /// ```
    /// use ipocket_connectors::node_summary::{NodeSnapshot, NodeSummary};
    /// use ipocket_expfmt::Format;
    /// let a = NodeSnapshot::from_exposition(
    ///     b"node_cpu_seconds_total{cpu=\"0\",mode=\"idle\"} 100\nnode_cpu_seconds_total{cpu=\"1\",mode=\"idle\"} 100\n",
    ///     Format::Text, 0);
    /// let b = NodeSnapshot::from_exposition(
    ///     b"node_cpu_seconds_total{cpu=\"0\",mode=\"idle\"} 109\nnode_cpu_seconds_total{cpu=\"1\",mode=\"idle\"} 106\n",
    ///     Format::Text, 10_000);
    /// // 15 idle seconds out of 2 CPUs × 10 s: 25 % busy.
    /// assert_eq!(NodeSummary::new(Some(&a), &b).cpu_usage_percent, Some(25.0));
    /// ```
    pub fn new(prev: Option<&NodeSnapshot>, cur: &NodeSnapshot) -> NodeSummary {
        let mut s = NodeSummary::default();
        if let (Some(total), Some(avail)) = (cur.memory_total_bytes, cur.memory_available_bytes) {
            let used = (total - avail).max(0.0);
            s.memory_total_mb = Some(total / MIB);
            s.memory_used_mb = Some(used / MIB);
            s.memory_usage_percent = percent(used, total);
        } else {
            s.memory_total_mb = cur.memory_total_bytes.map(|t| t / MIB);
        }
        if let (Some(size), Some(avail)) = (cur.root_fs_size_bytes, cur.root_fs_avail_bytes) {
            let used = (size - avail).max(0.0);
            s.disk_total_gb = Some(size / GIB);
            s.disk_used_gb = Some(used / GIB);
            s.disk_usage_percent = percent(used, size);
        }
        if let Some(boot) = cur.boot_time_seconds {
            let now = cur
                .node_time_seconds
                .unwrap_or(cur.taken_at_ms as f64 / 1000.0);
            let up = (now - boot).max(0.0);
            s.uptime_seconds = Some(up);
            s.uptime_days = Some(up / 86_400.0);
        }
        let Some(prev) = prev else { return s };
        let dt = cur.seconds_since(prev);
        if dt <= 0.0 {
            return s;
        }
        let d_idle = cur.cpu_idle_seconds - prev.cpu_idle_seconds;
        if cur.cpu_count > 0 && cur.cpu_count == prev.cpu_count && d_idle >= 0.0 {
            let idle_share = d_idle / (dt * cur.cpu_count as f64);
            s.cpu_usage_percent = Some((100.0 - idle_share * 100.0).clamp(0.0, 100.0));
        }
        for (dev, &(rx, tx)) in &cur.network {
            let Some(&(prx, ptx)) = prev.network.get(dev) else {
                continue;
            };
            if rx < prx || tx < ptx {
                continue; // counter reset (reboot, driver reload)
            }
            s.network.push(NetworkRate {
                device: dev.clone(),
                rx_bytes_per_sec: (rx - prx) / dt,
                tx_bytes_per_sec: (tx - ptx) / dt,
            });
        }
        s
    }
}
