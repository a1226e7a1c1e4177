//! The agent's own metrics.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::DeliveryCounters;

use ipocket_expfmt::{Encoder, Format, Labels, MetricType, Sample};

/// Counters per endpoint.
#[derive(Debug, Default)]
pub struct EndpointCounters {
    /// The endpoint name.
    pub name: String,
    /// Scrapes that succeeded and were buffered.
    pub scrapes: AtomicU64,
    /// Scrapes that failed (exporter down, timeout, non-200, buffer write error).
    pub failures: AtomicU64,
}

/// Counters and gauges of one agent; all updates are lock-free.
#[derive(Debug, Default)]
pub struct AgentMetrics {
    /// One entry per configured endpoint, in config order.
    pub endpoints: Vec<EndpointCounters>,
    /// Pushes to ipocket (`server`): `sent` are scrapes acknowledged with a 2xx, `failures`
    /// attempts retried, `dropped_*` scrapes dropped unsent, `buffered_*` the buffer.
    pub push: Arc<DeliveryCounters>,
    /// The remote_write queue, when `remote_write` is configured.
    pub remote_write: Option<Arc<DeliveryCounters>>,
}

impl AgentMetrics {
    /// Metrics for these endpoint names.
    pub fn new<'a>(names: impl IntoIterator<Item = &'a str>) -> AgentMetrics {
        AgentMetrics {
            endpoints: names
                .into_iter()
                .map(|n| EndpointCounters {
                    name: n.to_string(),
                    ..EndpointCounters::default()
                })
                .collect(),
            ..AgentMetrics::default()
        }
    }

    /// Scrapes dropped unsent by the push to ipocket, all reasons.
    pub fn dropped_total(&self) -> u64 {
        self.push.dropped_total()
    }

    /// The metrics in the text format 0.0.4.
    ///
    /// ```
    /// use ipocket_connectors::agent::AgentMetrics;
    /// let m = AgentMetrics::new(["node_exporter"]);
    /// let text = m.render();
    /// assert!(text.contains("ipocket_agent_scrapes_total{endpoint=\"node_exporter\"} 0\n"));
    /// assert!(text.contains("ipocket_agent_dropped_total{reason=\"size\"} 0\n"));
    /// assert!(!text.contains("ipocket_agent_remote_write_")); // not configured
    /// ipocket_expfmt::parse(text.as_bytes(), ipocket_expfmt::Format::Text).unwrap();
    /// ```
    pub fn render(&self) -> String {
        let mut enc = Encoder::new(Format::Text);
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed) as f64;
        let mut family = |name: &str, help: &str, t: MetricType, rows: Vec<(Labels<'_>, f64)>| {
            enc.help(name, help);
            enc.metric_type(name, t);
            for (labels, v) in rows {
                enc.sample(&Sample::new(name.to_string(), labels, v));
            }
        };
        let per = |f: fn(&EndpointCounters) -> &AtomicU64| {
            self.endpoints
                .iter()
                .map(|e| {
                    (
                        [("endpoint", e.name.as_str())].into_iter().collect(),
                        get(f(e)),
                    )
                })
                .collect::<Vec<_>>()
        };
        family(
            "ipocket_agent_scrapes_total",
            "Scrapes that succeeded and were written to the buffer.",
            MetricType::Counter,
            per(|e| &e.scrapes),
        );
        family(
            "ipocket_agent_scrape_failures_total",
            "Scrapes that failed.",
            MetricType::Counter,
            per(|e| &e.failures),
        );
        family(
            "ipocket_agent_pushes_total",
            "Buffered scrapes acknowledged by the server with a 2xx.",
            MetricType::Counter,
            vec![(Labels::new(), get(&self.push.sent))],
        );
        family(
            "ipocket_agent_push_failures_total",
            "Push attempts that failed and are retried.",
            MetricType::Counter,
            vec![(Labels::new(), get(&self.push.failures))],
        );
        family(
            "ipocket_agent_dropped_total",
            "Buffered scrapes dropped unsent, by reason.",
            MetricType::Counter,
            [
                ("rejected", &self.push.dropped_rejected),
                ("size", &self.push.dropped_size),
                ("age", &self.push.dropped_age),
            ]
            .into_iter()
            .map(|(r, a)| ([("reason", r)].into_iter().collect(), get(a)))
            .collect(),
        );
        family(
            "ipocket_agent_buffered_bytes",
            "Bytes in the on-disk buffer.",
            MetricType::Gauge,
            vec![(Labels::new(), get(&self.push.buffered_bytes))],
        );
        family(
            "ipocket_agent_buffered_scrapes",
            "Scrapes in the on-disk buffer.",
            MetricType::Gauge,
            vec![(Labels::new(), get(&self.push.buffered_items))],
        );
        let mut text = enc.finish();
        if let Some(rw) = &self.remote_write {
            text.push_str(&rw.render("ipocket_agent_remote_write", "scrapes"));
        }
        text
    }
}
