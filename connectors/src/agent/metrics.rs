//! The agent's own metrics.

use std::sync::atomic::{AtomicU64, Ordering};

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
    /// Buffered scrapes pushed and acknowledged with a 2xx.
    pub pushes: AtomicU64,
    /// Push attempts that failed and will be retried (network, 5xx, 429, 408).
    pub push_failures: AtomicU64,
    /// Buffered scrapes the server refused as invalid (4xx), dropped.
    pub dropped_rejected: AtomicU64,
    /// Buffered scrapes dropped because the buffer was full (oldest first).
    pub dropped_size: AtomicU64,
    /// Buffered scrapes dropped because older than the retention.
    pub dropped_age: AtomicU64,
    /// Bytes in the buffer now.
    pub buffered_bytes: AtomicU64,
    /// Scrapes in the buffer now.
    pub buffered_scrapes: AtomicU64,
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

    /// Sum of `dropped_*`.
    pub fn dropped_total(&self) -> u64 {
        self.dropped_rejected.load(Ordering::Relaxed)
            + self.dropped_size.load(Ordering::Relaxed)
            + self.dropped_age.load(Ordering::Relaxed)
    }

    /// The metrics in the text format 0.0.4.
    ///
    /// ```
    /// use ipocket_connectors::agent::AgentMetrics;
    /// let m = AgentMetrics::new(["node_exporter"]);
    /// let text = m.render();
    /// assert!(text.contains("ipocket_agent_scrapes_total{endpoint=\"node_exporter\"} 0\n"));
    /// assert!(text.contains("ipocket_agent_dropped_total{reason=\"size\"} 0\n"));
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
            vec![(Labels::new(), get(&self.pushes))],
        );
        family(
            "ipocket_agent_push_failures_total",
            "Push attempts that failed and are retried.",
            MetricType::Counter,
            vec![(Labels::new(), get(&self.push_failures))],
        );
        family(
            "ipocket_agent_dropped_total",
            "Buffered scrapes dropped unsent, by reason.",
            MetricType::Counter,
            [
                ("rejected", &self.dropped_rejected),
                ("size", &self.dropped_size),
                ("age", &self.dropped_age),
            ]
            .into_iter()
            .map(|(r, a)| ([("reason", r)].into_iter().collect(), get(a)))
            .collect(),
        );
        family(
            "ipocket_agent_buffered_bytes",
            "Bytes in the on-disk buffer.",
            MetricType::Gauge,
            vec![(Labels::new(), get(&self.buffered_bytes))],
        );
        family(
            "ipocket_agent_buffered_scrapes",
            "Scrapes in the on-disk buffer.",
            MetricType::Gauge,
            vec![(Labels::new(), get(&self.buffered_scrapes))],
        );
        enc.finish()
    }
}
