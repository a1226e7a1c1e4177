//! The node summary: CPU, memory, root filesystem, network rates and uptime from two
//! node_exporter scrapes (the seed's mapping table), either given as expositions
//! ([`NodeSnapshot::from_exposition`]) or read back from the samples store
//! ([`SampleStore::node_summary`]).
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

use crate::error::StoreError;
use crate::node_series::label_sets;
use crate::store::SampleStore;

/// Filesystem types never taken as "the root filesystem".
const PSEUDO_FS: &[&str] = &["tmpfs", "devtmpfs", "overlay", "squashfs", "rootfs"];

fn skipped_device(dev: &str) -> bool {
    matches!(dev, "lo" | "docker0" | "virbr0") || dev.starts_with("veth")
}

/// The node_exporter metrics the summary reads (the table above).
const METRICS: [&str; 9] = [
    "node_cpu_seconds_total",
    "node_memory_MemTotal_bytes",
    "node_memory_MemAvailable_bytes",
    "node_filesystem_size_bytes",
    "node_filesystem_avail_bytes",
    "node_network_receive_bytes_total",
    "node_network_transmit_bytes_total",
    "node_boot_time_seconds",
    "node_time_seconds",
];

/// What one sample contributes to a snapshot: the mapping, shared by scrapes and stored samples.
#[derive(Debug, Clone, PartialEq)]
enum Part {
    CpuIdle,
    MemTotal,
    MemAvailable,
    RootFsSize,
    RootFsAvail,
    NetRx(String),
    NetTx(String),
    BootTime,
    NodeTime,
}

impl Part {
    /// The part a sample of `name` with these labels (`label(name)`) is, if any.
    fn of<'l>(name: &str, label: impl Fn(&str) -> Option<&'l str>) -> Option<Part> {
        let root_fs = || {
            label("mountpoint") == Some("/") && !PSEUDO_FS.contains(&label("fstype").unwrap_or(""))
        };
        let device = || {
            label("device")
                .filter(|d| !skipped_device(d))
                .map(str::to_string)
        };
        match name {
            "node_cpu_seconds_total" => (label("mode") == Some("idle")).then_some(Part::CpuIdle),
            "node_memory_MemTotal_bytes" => Some(Part::MemTotal),
            "node_memory_MemAvailable_bytes" => Some(Part::MemAvailable),
            "node_filesystem_size_bytes" => root_fs().then_some(Part::RootFsSize),
            "node_filesystem_avail_bytes" => root_fs().then_some(Part::RootFsAvail),
            "node_network_receive_bytes_total" => device().map(Part::NetRx),
            "node_network_transmit_bytes_total" => device().map(Part::NetTx),
            "node_boot_time_seconds" => Some(Part::BootTime),
            "node_time_seconds" => Some(Part::NodeTime),
            _ => None,
        }
    }
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
            if let Some(part) = Part::of(&s.name, |k| s.labels.get(k)) {
                snap.apply(part, s.value);
            }
        }
        snap
    }

    /// Adds what one sample says.
    fn apply(&mut self, part: Part, value: f64) {
        match part {
            Part::CpuIdle => {
                self.cpu_idle_seconds += value;
                self.cpu_count += 1;
            }
            Part::MemTotal => self.memory_total_bytes = Some(value),
            Part::MemAvailable => self.memory_available_bytes = Some(value),
            Part::RootFsSize => self.root_fs_size_bytes = Some(value),
            Part::RootFsAvail => self.root_fs_avail_bytes = Some(value),
            Part::NetRx(dev) => self.network.entry(dev).or_insert((0.0, 0.0)).0 = value,
            Part::NetTx(dev) => self.network.entry(dev).or_insert((0.0, 0.0)).1 = value,
            Part::BootTime => self.boot_time_seconds = Some(value),
            Part::NodeTime => self.node_time_seconds = Some(value),
        }
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

impl SampleStore {
    /// The summary of `server_id`'s latest node_exporter scrape in `metric_samples` (its
    /// timestamp, ms), with rates against the scrape before it; `None` when no node_exporter
    /// sample is stored. Only the metrics of the table above are read, so pushes of other
    /// exporters (postgres_exporter, …) leave it alone, and it survives restarts.
    ///
    /// A scrape is the samples sharing one timestamp (the agent stamps a scrape with its
    /// time; a push without timestamps gets the time it arrived). Each wanted series (idle
    /// CPUs, real devices, the root filesystem) costs one index seek for its last two rows.
    ///
    /// ```
    /// use ipocket_connectors::{ingest, IngestOptions, IngestRequest, SampleStore};
    /// let dir = tempfile::tempdir()?;
    /// let mut store = SampleStore::open(dir.path().join("s.db"))?;
    /// store.register_server("web-01", None)?;
    /// let push = |store: &mut SampleStore, body: &str, t: i64| {
    ///     let req = IngestRequest { server_id: Some("web-01"), content_type: None, body: body.as_bytes() };
    ///     ingest(store, &req, &IngestOptions::default(), t).map(|_| ())
    /// };
    /// push(&mut store, "node_cpu_seconds_total{cpu=\"0\",mode=\"idle\"} 100\n", 0)?;
    /// push(&mut store, "node_cpu_seconds_total{cpu=\"0\",mode=\"idle\"} 107.5\n", 10_000)?;
    /// push(&mut store, "pg_up 1\n", 12_000)?; // another exporter: no effect
    /// let (taken_at_ms, s) = store.node_summary("web-01")?.unwrap();
    /// assert_eq!((taken_at_ms, s.cpu_usage_percent), (10_000, Some(25.0)));
    /// assert!(store.node_summary("web-02")?.is_none());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn node_summary(&self, server_id: &str) -> Result<Option<(i64, NodeSummary)>, StoreError> {
        const LAST_TWO: &str = "SELECT timestamp, value FROM metric_samples \
             WHERE server_id = ?1 AND metric_name = ?2 AND labels = ?3 AND value IS NOT NULL \
             ORDER BY timestamp DESC LIMIT 2";
        // Per wanted series: its part and its last two (timestamp, value), newest first.
        let mut series: Vec<(Part, Vec<(i64, f64)>)> = Vec::new();
        self.db.read(|c| -> ipocket_db::Result<()> {
            for name in METRICS {
                for labels in label_sets(c, server_id, name)? {
                    let Ok(map) = serde_json::from_str::<BTreeMap<String, String>>(&labels) else {
                        continue;
                    };
                    let Some(part) = Part::of(name, |k| map.get(k).map(String::as_str)) else {
                        continue;
                    };
                    let rows = c
                        .query(LAST_TWO, &[&server_id, &name, &labels])?
                        .iter()
                        .map(|r| Ok((r.get::<i64>(0)?, r.get::<f64>(1)?)))
                        .collect::<ipocket_db::Result<Vec<_>>>()?;
                    if !rows.is_empty() {
                        series.push((part, rows));
                    }
                }
            }
            Ok(())
        })?;
        let Some(cur_t) = series.iter().map(|(_, rows)| rows[0].0).max() else {
            return Ok(None);
        };
        // The series of the latest scrape; the one before it is their newest earlier row
        // (a series that stopped being exported is not part of either).
        series.retain(|(_, rows)| rows[0].0 == cur_t);
        let prev_t = series
            .iter()
            .filter_map(|(_, rows)| rows.get(1).map(|r| r.0))
            .max();
        let mut cur = NodeSnapshot {
            taken_at_ms: cur_t,
            ..NodeSnapshot::default()
        };
        let mut prev = prev_t.map(|t| NodeSnapshot {
            taken_at_ms: t,
            ..NodeSnapshot::default()
        });
        for (part, rows) in series {
            if let (Some(p), Some(&(t, v))) = (prev.as_mut(), rows.get(1)) {
                if t == p.taken_at_ms {
                    p.apply(part.clone(), v);
                }
            }
            cur.apply(part, rows[0].1);
        }
        Ok(Some((cur_t, NodeSummary::new(prev.as_ref(), &cur))))
    }
}
