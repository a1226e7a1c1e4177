//! Time series of a node's metrics from `metric_samples`, for charts: CPU %, memory and
//! root-filesystem use, network throughput, over a window, downsampled to a bounded number of
//! points so that a chart of a week at 15 s (40,320 scrapes) stays small.
//!
//! The `(server_id, metric_name, labels, timestamp)` index does the work: its label sets are
//! found by index seeks (a skip scan), the wanted ones (idle CPU, real devices, the root
//! filesystem) kept, and each is read as one range scan over the window; the series of one
//! scrape are summed per timestamp in Rust, then one pass: counters become rates
//! between consecutive scrapes (a decrease is a reset and gives no point), and points are
//! averaged into at most `max_points` equal time buckets. The mapping is the node summary's
//! ([`crate::node_summary`]).

use std::ops::ControlFlow;

use ipocket_db::Sql;

use crate::error::StoreError;
use crate::store::SampleStore;

/// A chartable node metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeMetric {
    /// 100 − idle share of all CPUs, from `node_cpu_seconds_total{mode="idle"}`, 0–100.
    CpuPercent,
    /// `node_memory_MemTotal_bytes` − `node_memory_MemAvailable_bytes`, bytes.
    MemoryUsedBytes,
    /// Root filesystem size − avail (`mountpoint="/"`, real filesystems), bytes.
    DiskUsedBytes,
    /// Σ `node_network_receive_bytes_total` per second (`lo`, `docker0`, `virbr0`, `veth*` left out).
    NetworkReceiveBytesPerSec,
    /// Σ `node_network_transmit_bytes_total` per second (same devices).
    NetworkTransmitBytesPerSec,
}

/// One point of a series: (milliseconds since the epoch, value).
pub type Point = (i64, f64);

const PSEUDO_FS: [&str; 5] = ["tmpfs", "devtmpfs", "overlay", "squashfs", "rootfs"];

impl NodeMetric {
    /// The metric names read, and the sign each contributes (a difference: total − available).
    fn parts(self) -> &'static [(&'static str, f64)] {
        match self {
            NodeMetric::CpuPercent => &[("node_cpu_seconds_total", 1.0)],
            NodeMetric::MemoryUsedBytes => &[
                ("node_memory_MemTotal_bytes", 1.0),
                ("node_memory_MemAvailable_bytes", -1.0),
            ],
            NodeMetric::DiskUsedBytes => &[
                ("node_filesystem_size_bytes", 1.0),
                ("node_filesystem_avail_bytes", -1.0),
            ],
            NodeMetric::NetworkReceiveBytesPerSec => &[("node_network_receive_bytes_total", 1.0)],
            NodeMetric::NetworkTransmitBytesPerSec => &[("node_network_transmit_bytes_total", 1.0)],
        }
    }

    /// Whether the series with these labels (canonical JSON) is part of the metric.
    fn wants(self, labels: &str) -> bool {
        let Ok(serde_json::Value::Object(l)) = serde_json::from_str(labels) else {
            return false;
        };
        let get = |k: &str| l.get(k).and_then(|v| v.as_str()).unwrap_or("");
        match self {
            NodeMetric::CpuPercent => get("mode") == "idle",
            NodeMetric::MemoryUsedBytes => true,
            NodeMetric::DiskUsedBytes => {
                get("mountpoint") == "/" && !PSEUDO_FS.contains(&get("fstype"))
            }
            NodeMetric::NetworkReceiveBytesPerSec | NodeMetric::NetworkTransmitBytesPerSec => {
                let dev = get("device");
                !matches!(dev, "lo" | "docker0" | "virbr0") && !dev.starts_with("veth")
            }
        }
    }
}

/// The label sets of `metric_name` for `server_id`, one index seek each (a skip scan of the
/// `(server_id, metric_name, labels, timestamp)` index).
pub(crate) fn label_sets(
    c: &dyn Sql,
    server_id: &str,
    metric_name: &str,
) -> ipocket_db::Result<Vec<String>> {
    let mut out = Vec::new();
    let mut prev = String::new();
    while let Some(next) = c
        .query_one(
            "SELECT min(labels) FROM metric_samples \
             WHERE server_id = ?1 AND metric_name = ?2 AND labels > ?3",
            &[&server_id, &metric_name, &prev],
        )?
        .get::<Option<String>>(0)?
    {
        out.push(next.clone());
        prev = next;
    }
    Ok(out)
}

impl SampleStore {
    /// The series of `metric` for `server_id` between `from_ms` and `to_ms` (inclusive), at
    /// most `max_points` points (bucket averages when there are more scrapes than that).
    ///
    /// ```
    /// use ipocket_connectors::node_series::NodeMetric;
    /// use ipocket_connectors::{ingest, IngestOptions, IngestRequest, SampleStore};
    /// let dir = tempfile::tempdir()?;
    /// let mut store = SampleStore::open(dir.path().join("s.db"))?;
    /// store.register_server("web-01", None)?;
    /// for (t, avail) in [(1_000, 600.0), (16_000, 400.0)] {
    ///     let body = format!("node_memory_MemTotal_bytes 1000 {t}\nnode_memory_MemAvailable_bytes {avail} {t}\n");
    ///     let req = IngestRequest { server_id: Some("web-01"), content_type: None, body: body.as_bytes() };
    ///     ingest(&mut store, &req, &IngestOptions::default(), t)?;
    /// }
    /// let s = store.node_series("web-01", NodeMetric::MemoryUsedBytes, 0, 20_000, 300)?;
    /// assert_eq!(s, vec![(1_000, 400.0), (16_000, 600.0)]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn node_series(
        &self,
        server_id: &str,
        metric: NodeMetric,
        from_ms: i64,
        to_ms: i64,
        max_points: usize,
    ) -> Result<Vec<Point>, StoreError> {
        const WINDOW: &str = "SELECT timestamp, value FROM metric_samples \
             WHERE server_id = ?1 AND metric_name = ?2 AND labels = ?3 \
             AND timestamp >= ?4 AND timestamp <= ?5 AND value IS NOT NULL";
        let parts = metric.parts();
        // Each series comes in time order; sorting their concatenation groups one scrape.
        let mut all: Vec<(i64, f64, u32)> = Vec::new();
        self.db.read(|c| -> ipocket_db::Result<()> {
            for (bit, (name, sign)) in parts.iter().enumerate() {
                for labels in label_sets(c, server_id, name)? {
                    if !metric.wants(&labels) {
                        continue;
                    }
                    // Streamed (one row in memory at a time on SQLite): a week is many rows.
                    let mut failed = None;
                    c.for_each_row(
                        WINDOW,
                        &[&server_id, name, &labels, &from_ms, &to_ms],
                        &mut |r| match r.get::<i64>(0).and_then(|t| Ok((t, r.get::<f64>(1)?))) {
                            Ok((t, v)) => {
                                all.push((t, sign * v, 1 << bit));
                                ControlFlow::Continue(())
                            }
                            Err(e) => {
                                failed = Some(e);
                                ControlFlow::Break(())
                            }
                        },
                    )?;
                    if let Some(e) = failed {
                        return Err(e);
                    }
                }
            }
            Ok(())
        })?;
        all.sort_unstable_by_key(|r| r.0);
        let all_parts = (1u32 << parts.len()) - 1;
        let mut rows: Vec<(i64, f64, i64)> = Vec::new();
        let mut present = 0u32;
        for (t, v, bit) in all {
            match rows.last_mut() {
                Some(last) if last.0 == t => {
                    last.1 += v;
                    last.2 += 1;
                    present |= bit;
                }
                _ => {
                    if present != all_parts {
                        rows.pop(); // a scrape without every part: no point
                    }
                    rows.push((t, v, 1));
                    present = bit;
                }
            }
        }
        if present != all_parts {
            rows.pop();
        }
        let points = match metric {
            NodeMetric::CpuPercent => cpu_percent(&rows),
            NodeMetric::NetworkReceiveBytesPerSec | NodeMetric::NetworkTransmitBytesPerSec => {
                let sums: Vec<Point> = rows.iter().map(|&(t, v, _)| (t, v)).collect();
                counter_rates(&sums)
            }
            NodeMetric::MemoryUsedBytes | NodeMetric::DiskUsedBytes => {
                rows.iter().map(|&(t, v, _)| (t, v.max(0.0))).collect()
            }
        };
        Ok(downsample(&points, from_ms, to_ms, max_points))
    }
}

/// CPU % between consecutive scrapes of (time, Σ idle seconds, CPU count); no point when the
/// CPU count changed or the idle counter went back (reboot).
fn cpu_percent(rows: &[(i64, f64, i64)]) -> Vec<Point> {
    rows.windows(2)
        .filter_map(|w| {
            let ((t0, idle0, n0), (t1, idle1, n1)) = (w[0], w[1]);
            let dt = (t1 - t0) as f64 / 1000.0;
            let d_idle = idle1 - idle0;
            (n0 == n1 && n1 > 0 && dt > 0.0 && d_idle >= 0.0).then(|| {
                let busy = 100.0 - d_idle / (dt * n1 as f64) * 100.0;
                (t1, busy.clamp(0.0, 100.0))
            })
        })
        .collect()
}

/// Per-second rates of a counter between consecutive points, stamped at the later one; a
/// decrease is a counter reset and gives no point.
///
/// ```
/// use ipocket_connectors::node_series::counter_rates;
/// let c = [(0, 100.0), (10_000, 600.0), (20_000, 50.0), (30_000, 250.0)];
/// assert_eq!(counter_rates(&c), vec![(10_000, 50.0), (30_000, 20.0)]);
/// ```
pub fn counter_rates(points: &[Point]) -> Vec<Point> {
    points
        .windows(2)
        .filter_map(|w| {
            let ((t0, v0), (t1, v1)) = (w[0], w[1]);
            let dt = (t1 - t0) as f64 / 1000.0;
            (dt > 0.0 && v1 >= v0).then(|| (t1, (v1 - v0) / dt))
        })
        .collect()
}

/// At most `max_points` points: `points` (sorted by time) as they are when they fit, or else
/// the average time and value of each of `max_points` equal buckets of `[from_ms, to_ms]`
/// that has points.
///
/// ```
/// use ipocket_connectors::node_series::downsample;
/// let pts: Vec<(i64, f64)> = (0..10).map(|i| (i * 10, i as f64)).collect();
/// assert_eq!(downsample(&pts, 0, 99, 20), pts);
/// assert_eq!(downsample(&pts, 0, 99, 2), vec![(20, 2.0), (70, 7.0)]);
/// ```
pub fn downsample(points: &[Point], from_ms: i64, to_ms: i64, max_points: usize) -> Vec<Point> {
    if points.len() <= max_points || max_points == 0 {
        return points.to_vec();
    }
    let span = (to_ms - from_ms).max(1) as i128 + 1;
    let buckets = max_points as i128;
    let mut out = Vec::with_capacity(max_points);
    let mut current: Option<(i128, i128, f64, u32)> = None; // (bucket, Σt, Σv, n)
    let flush = |c: (i128, i128, f64, u32), out: &mut Vec<Point>| {
        let (_, st, sv, n) = c;
        out.push(((st / n as i128) as i64, sv / n as f64));
    };
    for &(t, v) in points {
        let b = ((t - from_ms).max(0) as i128 * buckets / span).min(buckets - 1);
        match current {
            Some((cb, st, sv, n)) if cb == b => current = Some((cb, st + t as i128, sv + v, n + 1)),
            other => {
                if let Some(c) = other {
                    flush(c, &mut out);
                }
                current = Some((b, t as i128, v, 1));
            }
        }
    }
    if let Some(c) = current {
        flush(c, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ingest, IngestOptions, IngestRequest};

    fn push(store: &mut SampleStore, t: i64, body: &str) {
        let req = IngestRequest {
            server_id: Some("n1"),
            content_type: None,
            body: body.as_bytes(),
        };
        ingest(store, &req, &IngestOptions::default(), t).unwrap();
    }

    fn store() -> (tempfile::TempDir, SampleStore) {
        let dir = tempfile::tempdir().unwrap();
        let mut store = SampleStore::open(dir.path().join("s.db")).unwrap();
        store.register_server("n1", None).unwrap();
        (dir, store)
    }

    #[test]
    fn cpu_network_and_disk_follow_the_summary_mapping() {
        let (_d, mut s) = store();
        let scrape = |idle0: f64, idle1: f64, rx: f64| {
            format!(
                "node_cpu_seconds_total{{cpu=\"0\",mode=\"idle\"}} {idle0}\n\
                 node_cpu_seconds_total{{cpu=\"1\",mode=\"idle\"}} {idle1}\n\
                 node_cpu_seconds_total{{cpu=\"0\",mode=\"user\"}} 5\n\
                 node_network_receive_bytes_total{{device=\"eth0\"}} {rx}\n\
                 node_network_receive_bytes_total{{device=\"lo\"}} 999999\n\
                 node_filesystem_size_bytes{{mountpoint=\"/\",fstype=\"ext4\"}} 100\n\
                 node_filesystem_avail_bytes{{mountpoint=\"/\",fstype=\"ext4\"}} 30\n\
                 node_filesystem_avail_bytes{{mountpoint=\"/run\",fstype=\"tmpfs\"}} 1\n"
            )
        };
        push(&mut s, 0, &scrape(100.0, 100.0, 1000.0));
        push(&mut s, 10_000, &scrape(109.0, 106.0, 6000.0));
        push(&mut s, 20_000, &scrape(1.0, 1.0, 10.0)); // reboot: counters reset
        let cpu = s
            .node_series("n1", NodeMetric::CpuPercent, 0, 30_000, 300)
            .unwrap();
        assert_eq!(cpu, vec![(10_000, 25.0)]);
        let rx = s
            .node_series("n1", NodeMetric::NetworkReceiveBytesPerSec, 0, 30_000, 300)
            .unwrap();
        assert_eq!(rx, vec![(10_000, 500.0)]);
        let disk = s
            .node_series("n1", NodeMetric::DiskUsedBytes, 0, 30_000, 300)
            .unwrap();
        assert_eq!(disk, vec![(0, 70.0), (10_000, 70.0), (20_000, 70.0)]);
        // The window bounds the rows; another server's rows are not read.
        let late = s
            .node_series("n1", NodeMetric::DiskUsedBytes, 5_000, 30_000, 300)
            .unwrap();
        assert_eq!(late.len(), 2);
        assert!(s
            .node_series("n2", NodeMetric::DiskUsedBytes, 0, 30_000, 300)
            .unwrap()
            .is_empty());
    }

    #[test]
    fn a_week_at_15_s_comes_back_as_at_most_300_points_quickly() {
        let (_d, s) = store();
        let week = 7 * 24 * 3600 * 1000_i64;
        let step = 15_000;
        s.db.write(0, |tx| -> ipocket_db::Result<()> {
            for i in 0..week / step {
                let t = i * step;
                // Other modes are stored too (and skipped by the label-set seek).
                for (cpu, mode) in (0..4).flat_map(|c| [(c, "idle"), (c, "user")]) {
                    let labels = format!("{{\"cpu\":\"{cpu}\",\"mode\":\"{mode}\"}}");
                    tx.execute(
                        "INSERT INTO metric_samples (server_id, metric_name, metric_type, \
                         labels, value, timestamp) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                        &[
                            &"n1",
                            &"node_cpu_seconds_total",
                            &"counter",
                            &labels,
                            &((i * 10) as f64),
                            &t,
                        ],
                    )?;
                }
            }
            Ok(())
        })
        .unwrap();
        let started = std::time::Instant::now();
        let cpu = s
            .node_series("n1", NodeMetric::CpuPercent, 0, week, 300)
            .unwrap();
        let took = started.elapsed();
        assert_eq!(cpu.len(), 300);
        // 10 idle seconds per 15 s on each of 4 CPUs: one third busy.
        assert!(cpu.iter().all(|&(_, v)| (v - 100.0 / 3.0).abs() < 1e-9));
        assert!(took < std::time::Duration::from_secs(5), "{took:?}");
    }

    #[test]
    fn downsample_keeps_sparse_points_and_averages_dense_ones() {
        assert!(downsample(&[], 0, 10, 300).is_empty());
        assert_eq!(downsample(&[(5, 1.0)], 0, 10, 300), vec![(5, 1.0)]);
        let dense: Vec<Point> = (0..1000).map(|i| (i, 1.0)).collect();
        let d = downsample(&dense, 0, 999, 300);
        assert!(d.len() <= 300 && d.len() >= 299);
        assert!(d.windows(2).all(|w| w[0].0 < w[1].0));
    }
}
