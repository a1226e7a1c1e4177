//! The server's own request counters, rendered with `ipocket-expfmt` after the inventory gauges.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use ipocket_expfmt::{Encoder, Format, Labels, MetricType, Sample};

/// One exported family: name, HELP text and how to read the value.
type Family = (&'static str, &'static str, fn(&Counts) -> f64);

#[derive(Default)]
struct Counts {
    requests: u64,
    seconds: f64,
}

/// Requests by method, route pattern and status code.
#[derive(Default)]
pub(crate) struct RequestMetrics {
    by_key: Mutex<BTreeMap<(String, &'static str, u16), Counts>>,
}

impl RequestMetrics {
    pub(crate) fn observe(&self, method: &str, route: &'static str, status: u16, took: Duration) {
        let mut m = self.by_key.lock().unwrap_or_else(|p| p.into_inner());
        let c = m.entry((method.to_string(), route, status)).or_default();
        c.requests += 1;
        c.seconds += took.as_secs_f64();
    }

    /// `ipocket_http_requests_total` and `ipocket_http_request_duration_seconds_total`.
    #[cfg(test)]
    pub(crate) fn render(&self) -> String {
        let mut enc = Encoder::new(Format::Text);
        self.encode(&mut enc, Format::Text);
        enc.finish()
    }

    /// Writes both families into `enc` (in `format`, the encoder's): in OpenMetrics a
    /// counter's family is named without `_total`, which only its samples carry.
    pub(crate) fn encode(&self, enc: &mut Encoder, format: Format) {
        let m = self.by_key.lock().unwrap_or_else(|p| p.into_inner());
        let families: [Family; 2] = [
            (
                "ipocket_http_requests_total",
                "HTTP requests answered, by method, route and status.",
                |c| c.requests as f64,
            ),
            (
                "ipocket_http_request_duration_seconds_total",
                "Seconds spent answering HTTP requests, by method, route and status.",
                |c| c.seconds,
            ),
        ];
        for (name, help, value) in families {
            let family = match format {
                Format::OpenMetrics => name.strip_suffix("_total").unwrap_or(name),
                Format::Text => name,
            };
            enc.help(family, help);
            enc.metric_type(family, MetricType::Counter);
            for ((method, route, status), c) in m.iter() {
                let status = status.to_string();
                let labels: Labels<'_> = [
                    ("method", method.as_str()),
                    ("route", *route),
                    ("status", status.as_str()),
                ]
                .into_iter()
                .collect();
                enc.sample(&Sample::new(name, labels, value(c)));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters() {
        let m = RequestMetrics::default();
        m.observe("GET", "/health", 200, Duration::from_millis(2));
        m.observe("GET", "/health", 200, Duration::from_millis(2));
        let text = m.render();
        assert!(text.contains(
            "ipocket_http_requests_total{method=\"GET\",route=\"/health\",status=\"200\"} 2\n"
        ));
        assert!(ipocket_expfmt::parse(text.as_bytes(), Format::Text).is_ok());
    }

    #[test]
    fn openmetrics_counters_name_their_family_without_total() {
        let m = RequestMetrics::default();
        m.observe("GET", "/health", 200, Duration::from_millis(2));
        let mut enc = Encoder::new(Format::OpenMetrics);
        m.encode(&mut enc, Format::OpenMetrics);
        let text = enc.finish();
        assert!(
            text.contains("# TYPE ipocket_http_requests counter\n"),
            "{text}"
        );
        assert!(
            text.contains("ipocket_http_requests_total{method=\"GET\""),
            "{text}"
        );
        assert!(text.ends_with("# EOF\n"));
        ipocket_expfmt::parse(text.as_bytes(), Format::OpenMetrics).unwrap();
    }
}
