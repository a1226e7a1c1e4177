//! The agent's YAML configuration (the seed's shape).

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use super::AgentError;

/// A duration written as `500ms`, `15s`, `1m`, `2h` (or a bare number of seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HumanDuration(pub Duration);

impl HumanDuration {
    /// Parses `500ms`, `15s`, `1m`, `2h`, `10` (seconds).
    ///
    /// ```
    /// use ipocket_connectors::agent::HumanDuration;
    /// use std::time::Duration;
    /// assert_eq!(HumanDuration::parse("15s").unwrap().0, Duration::from_secs(15));
    /// assert_eq!(HumanDuration::parse("250ms").unwrap().0, Duration::from_millis(250));
    /// assert_eq!(HumanDuration::parse("1m").unwrap().0, Duration::from_secs(60));
    /// assert!(HumanDuration::parse("5 minutes").is_err());
    /// ```
    pub fn parse(s: &str) -> Result<HumanDuration, String> {
        let s = s.trim();
        let split = s
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .unwrap_or(s.len());
        let (num, unit) = s.split_at(split);
        let n: f64 = num
            .parse()
            .map_err(|_| format!("invalid duration {s:?}: expected e.g. 500ms, 15s, 1m, 2h"))?;
        let secs = match unit {
            "ms" => n / 1000.0,
            "" | "s" => n,
            "m" => n * 60.0,
            "h" => n * 3600.0,
            _ => {
                return Err(format!(
                    "invalid duration {s:?}: expected e.g. 500ms, 15s, 1m, 2h"
                ))
            }
        };
        Ok(HumanDuration(Duration::from_secs_f64(secs)))
    }
}

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Num(f64),
            Text(String),
        }
        match Raw::deserialize(d)? {
            Raw::Num(n) if n >= 0.0 => Ok(HumanDuration(Duration::from_secs_f64(n))),
            Raw::Num(n) => Err(serde::de::Error::custom(format!("negative duration {n}"))),
            Raw::Text(t) => HumanDuration::parse(&t).map_err(serde::de::Error::custom),
        }
    }
}

/// One exporter to scrape.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Endpoint {
    /// `http://127.0.0.1:9100/metrics`.
    pub url: String,
    /// A short name (letters, digits, `_`, `-`), used in buffer file names and metrics.
    pub name: String,
    /// How often to scrape (default 15s).
    #[serde(default = "default_interval")]
    pub interval: HumanDuration,
}

fn default_interval() -> HumanDuration {
    HumanDuration(Duration::from_secs(15))
}

/// `scrapers.prometheus`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrometheusScraper {
    /// Whether to scrape at all (default true).
    #[serde(default = "yes")]
    pub enabled: bool,
    /// The exporters.
    #[serde(default)]
    pub endpoints: Vec<Endpoint>,
}

/// `scrapers`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scrapers {
    /// Prometheus exporters.
    pub prometheus: PrometheusScraper,
}

/// `server`: where pushes go.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// `http://host:port/metrics/prometheus`; `?server_id=` is added.
    pub endpoint: String,
    /// Per-request timeout, scrapes and pushes (default 10s).
    #[serde(default = "default_timeout")]
    pub timeout: HumanDuration,
    /// `prometheus` (the only format; accepted for compatibility with the seed's file).
    #[serde(default)]
    pub format: Option<String>,
}

fn default_timeout() -> HumanDuration {
    HumanDuration(Duration::from_secs(10))
}

/// `agent`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentSection {
    /// This machine's id in the server's registry.
    pub server_id: String,
    /// Accepted for compatibility; each endpoint has its own interval.
    #[serde(default)]
    pub interval: Option<HumanDuration>,
}

/// `buffer`: the on-disk buffer.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BufferConfig {
    /// Accepted for compatibility; the buffer is always used (every scrape goes to disk first).
    #[serde(default = "yes")]
    pub enabled: bool,
    /// The folder (default `/var/lib/ipocket/buffer`).
    #[serde(default = "default_buffer_path")]
    pub path: PathBuf,
    /// Scrapes older than this are dropped unsent (default 48).
    #[serde(default = "default_retention")]
    pub retention_hours: f64,
    /// The oldest scrapes are dropped beyond this size (default 100).
    #[serde(default = "default_max_size")]
    pub max_size_mb: f64,
}

fn yes() -> bool {
    true
}
fn default_buffer_path() -> PathBuf {
    PathBuf::from("/var/lib/ipocket/buffer")
}
fn default_retention() -> f64 {
    48.0
}
fn default_max_size() -> f64 {
    100.0
}

/// `metrics`: where the agent serves its own metrics.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsConfig {
    /// `127.0.0.1:9465`; port 0 picks a free port (logged).
    pub listen: String,
}

/// The whole file.
///
/// ```
/// let yaml = r#"
/// scrapers:
///   prometheus:
///     enabled: true
///     endpoints:
///       - url: "http://127.0.0.1:9100/metrics"
///         name: "node_exporter"
///         interval: 15s
/// server:
///   endpoint: "http://127.0.0.1:8080/metrics/prometheus"
///   format: "prometheus"
///   timeout: 10s
/// agent:
///   server_id: "web-01"
///   interval: 15s
/// buffer:
///   enabled: true
///   path: /tmp/ipocket-buffer
///   retention_hours: 48
///   max_size_mb: 100
/// "#;
/// let c = ipocket_connectors::agent::AgentConfig::from_yaml(yaml)?;
/// assert_eq!(c.scrapers.prometheus.endpoints[0].name, "node_exporter");
/// assert_eq!(c.buffer.max_size_bytes(), 100 << 20);
/// # Ok::<(), ipocket_connectors::agent::AgentError>(())
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentConfig {
    /// What to scrape.
    pub scrapers: Scrapers,
    /// Where to push.
    pub server: ServerConfig,
    /// Who we are.
    pub agent: AgentSection,
    /// The on-disk buffer.
    pub buffer: BufferConfig,
    /// The agent's own metrics endpoint (optional).
    #[serde(default)]
    pub metrics: Option<MetricsConfig>,
}

impl BufferConfig {
    /// `max_size_mb` in bytes.
    pub fn max_size_bytes(&self) -> u64 {
        (self.max_size_mb * 1024.0 * 1024.0) as u64
    }

    /// `retention_hours` as a duration.
    pub fn retention(&self) -> Duration {
        Duration::from_secs_f64(self.retention_hours * 3600.0)
    }
}

impl AgentConfig {
    /// Parses and checks a YAML document.
    pub fn from_yaml(text: &str) -> Result<AgentConfig, AgentError> {
        let c: AgentConfig =
            serde_saphyr::from_str(text).map_err(|e| AgentError::InvalidConfig(e.to_string()))?;
        c.check()?;
        Ok(c)
    }

    /// Reads and checks a YAML file.
    pub fn from_file(path: &std::path::Path) -> Result<AgentConfig, AgentError> {
        let text = std::fs::read_to_string(path).map_err(|source| AgentError::ConfigRead {
            path: path.to_path_buf(),
            source,
        })?;
        AgentConfig::from_yaml(&text)
    }

    fn check(&self) -> Result<(), AgentError> {
        let bad = |m: String| Err(AgentError::InvalidConfig(m));
        if !crate::SampleStore::valid_server_id(&self.agent.server_id) {
            return bad(format!(
                "agent.server_id {:?}: expected 1-64 letters, digits and inner hyphens",
                self.agent.server_id
            ));
        }
        if !self.server.endpoint.starts_with("http://") {
            return bad(format!(
                "server.endpoint {:?}: expected an http:// URL",
                self.server.endpoint
            ));
        }
        if let Some(f) = &self.server.format {
            if f != "prometheus" {
                return bad(format!(
                    "server.format {f:?}: only \"prometheus\" is supported"
                ));
            }
        }
        let mut names = std::collections::HashSet::new();
        for e in &self.scrapers.prometheus.endpoints {
            if e.name.is_empty()
                || !e
                    .name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            {
                return bad(format!(
                    "endpoint name {:?}: expected letters, digits, _ and -",
                    e.name
                ));
            }
            if !names.insert(e.name.as_str()) {
                return bad(format!("endpoint name {:?} is used twice", e.name));
            }
            if !e.url.starts_with("http://") {
                return bad(format!(
                    "endpoint {} url {:?}: expected http://",
                    e.name, e.url
                ));
            }
            if e.interval.0 < Duration::from_millis(100) {
                return bad(format!("endpoint {} interval below 100ms", e.name));
            }
        }
        if self.buffer.max_size_mb <= 0.0 || self.buffer.retention_hours <= 0.0 {
            return bad("buffer.max_size_mb and buffer.retention_hours must be > 0".into());
        }
        Ok(())
    }
}
