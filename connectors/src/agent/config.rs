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
    /// A short name (letters, digits, `_`, `-`; at most 64), used in buffer file names, metrics
    /// and as the `job` of its samples.
    pub name: String,
    /// How often to scrape; none: `agent.interval`, else 15s. [`AgentConfig::from_yaml`]
    /// fills it in.
    #[serde(default)]
    pub interval: Option<HumanDuration>,
}

/// The scrape interval when neither the endpoint nor `agent.interval` sets one.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(15);

impl Endpoint {
    /// The scrape interval.
    pub fn interval(&self) -> Duration {
        self.interval.map_or(DEFAULT_INTERVAL, |d| d.0)
    }
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
    /// `http(s)://host:port/metrics/prometheus`; `?server_id=…&job=…` is added.
    pub endpoint: String,
    /// Per-request timeout, scrapes and pushes (default 10s).
    #[serde(default = "default_timeout")]
    pub timeout: HumanDuration,
    /// `prometheus` (the only format; accepted for compatibility with the seed's file).
    #[serde(default)]
    pub format: Option<String>,
    /// PEM certificate(s) trusted for an `https://` endpoint besides the webpki roots and the
    /// system's CA bundle (a private CA).
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// PEM client certificate (chain) for mutual TLS; needs `client_key`.
    #[serde(default)]
    pub client_cert: Option<PathBuf>,
    /// PEM private key of `client_cert`.
    #[serde(default)]
    pub client_key: Option<PathBuf>,
}

/// `remote_write`: send every scrape to a remote-write 1.0 receiver too (Prometheus with
/// `--web.enable-remote-write-receiver`, Mimir, VictoriaMetrics, Thanos Receive), through a
/// queue of its own on disk.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemoteWriteConfig {
    /// `http(s)://host:port/api/v1/write`.
    pub url: String,
    /// `user:password` for Basic auth, anything else a Bearer token.
    #[serde(default)]
    pub token: Option<String>,
    /// PEM certificate(s) trusted besides the webpki roots and the system's CA bundle.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// The queue folder (default: `buffer.path` with `-remote-write` appended).
    #[serde(default)]
    pub buffer_path: Option<PathBuf>,
    /// The oldest queued scrapes are dropped beyond this size (default `buffer.max_size_mb`).
    #[serde(default)]
    pub max_size_mb: Option<f64>,
}

impl std::fmt::Debug for RemoteWriteConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteWriteConfig")
            .field("url", &self.url)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("ca_file", &self.ca_file)
            .field("buffer_path", &self.buffer_path)
            .field("max_size_mb", &self.max_size_mb)
            .finish()
    }
}

fn default_timeout() -> HumanDuration {
    HumanDuration(Duration::from_secs(10))
}

/// `agent`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentSection {
    /// This machine's id in the server's registry. None, empty or a placeholder of the seed
    /// (`auto-generated-uuid`, `auto`, the nil UUID): the id in `<state_dir>/server_id`,
    /// generated (a random UUID) and saved there on the first run.
    #[serde(default)]
    pub server_id: Option<String>,
    /// How often to scrape the endpoints that set no interval of their own (default 15s).
    #[serde(default)]
    pub interval: Option<HumanDuration>,
    /// Where the agent keeps its state, the generated server id (default: the folder that
    /// holds `buffer.path`, `/var/lib/ipocket`).
    #[serde(default)]
    pub state_dir: Option<PathBuf>,
}

/// The `server_id` values of the seed's example files that mean "generate one".
pub const SERVER_ID_PLACEHOLDERS: [&str; 4] = [
    "",
    "auto",
    "auto-generated-uuid",
    "00000000-0000-0000-0000-000000000000",
];

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

/// The whole file. `server` (push to ipocket), `remote_write` (send to a remote-write
/// receiver) or both.
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
    /// Where to push (ipocket's ingest endpoint).
    #[serde(default)]
    pub server: Option<ServerConfig>,
    /// A remote-write receiver every scrape goes to as well (or instead).
    #[serde(default)]
    pub remote_write: Option<RemoteWriteConfig>,
    /// Who we are.
    #[serde(default)]
    pub agent: AgentSection,
    /// The on-disk buffer (every key has a default).
    #[serde(default)]
    pub buffer: BufferConfig,
    /// The agent's own metrics endpoint (optional).
    #[serde(default)]
    pub metrics: Option<MetricsConfig>,
}

impl Default for BufferConfig {
    fn default() -> Self {
        BufferConfig {
            enabled: true,
            path: default_buffer_path(),
            retention_hours: default_retention(),
            max_size_mb: default_max_size(),
        }
    }
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
    /// Parses and checks a YAML document; endpoints without an interval get `agent.interval`.
    ///
    /// ```
    /// let yaml = "scrapers:\n  prometheus:\n    endpoints:\n      - {url: 'http://127.0.0.1:9100/metrics', name: node}\nserver:\n  endpoint: https://ipocket.example.internal/metrics/prometheus\nagent:\n  interval: 30s\n";
    /// let c = ipocket_connectors::agent::AgentConfig::from_yaml(yaml)?;
    /// assert_eq!(c.scrapers.prometheus.endpoints[0].interval().as_secs(), 30);
    /// assert_eq!(c.agent.server_id, None); // generated on the first run
    /// # Ok::<(), ipocket_connectors::agent::AgentError>(())
    /// ```
    pub fn from_yaml(text: &str) -> Result<AgentConfig, AgentError> {
        let c = AgentConfig::parse_unchecked(text)?;
        c.check()?;
        Ok(c)
    }

    /// Parses without [`AgentConfig::check`], for a caller that changes values first
    /// (command-line flags) and checks after.
    pub fn parse_unchecked(text: &str) -> Result<AgentConfig, AgentError> {
        let mut c: AgentConfig =
            serde_saphyr::from_str(text).map_err(|e| AgentError::InvalidConfig(e.to_string()))?;
        let default = c.agent.interval.unwrap_or(HumanDuration(DEFAULT_INTERVAL));
        for e in &mut c.scrapers.prometheus.endpoints {
            e.interval.get_or_insert(default);
        }
        Ok(c)
    }

    /// The per-request timeout of scrapes and pushes (`server.timeout`, default 10s).
    pub fn timeout(&self) -> Duration {
        self.server
            .as_ref()
            .map_or(default_timeout().0, |s| s.timeout.0)
    }

    /// The folder of the agent's state (`agent.state_dir`, else the buffer's parent folder).
    pub fn state_dir(&self) -> PathBuf {
        if let Some(d) = &self.agent.state_dir {
            return d.clone();
        }
        match self.buffer.path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        }
    }

    /// The remote_write queue folder (`remote_write.buffer_path`, else `buffer.path` with
    /// `-remote-write` appended).
    pub fn remote_write_buffer(&self) -> Option<PathBuf> {
        let rw = self.remote_write.as_ref()?;
        Some(rw.buffer_path.clone().unwrap_or_else(|| {
            let mut p = self.buffer.path.clone().into_os_string();
            p.push("-remote-write");
            PathBuf::from(p)
        }))
    }

    /// The configured server id, unless it is missing or a placeholder.
    pub fn configured_server_id(&self) -> Option<&str> {
        self.agent
            .server_id
            .as_deref()
            .map(str::trim)
            .filter(|id| !SERVER_ID_PLACEHOLDERS.contains(id))
    }

    /// Reads and checks a YAML file.
    pub fn from_file(path: &std::path::Path) -> Result<AgentConfig, AgentError> {
        let c = AgentConfig::read_unchecked(path)?;
        c.check()?;
        Ok(c)
    }

    /// Reads a YAML file without [`AgentConfig::check`] (see [`AgentConfig::parse_unchecked`]).
    pub fn read_unchecked(path: &std::path::Path) -> Result<AgentConfig, AgentError> {
        let text = std::fs::read_to_string(path).map_err(|source| AgentError::ConfigRead {
            path: path.to_path_buf(),
            source,
        })?;
        AgentConfig::parse_unchecked(&text)
    }

    /// Checks the values (also after flags changed them).
    pub fn check(&self) -> Result<(), AgentError> {
        let bad = |m: String| Err(AgentError::InvalidConfig(m));
        if let Some(id) = self.configured_server_id() {
            if !crate::SampleStore::valid_server_id(id) {
                return bad(format!(
                    "agent.server_id {id:?}: expected 1-64 letters, digits and inner hyphens"
                ));
            }
        }
        if self.server.is_none() && self.remote_write.is_none() {
            return bad(
                "no destination: set server.endpoint (ipocket), remote_write.url, or both".into(),
            );
        }
        if let Some(server) = &self.server {
            let e = &server.endpoint;
            if !(e.starts_with("http://") || e.starts_with("https://"))
                || ipocket_http::HttpClient::parse_url(e).is_err()
            {
                return bad(format!(
                    "server.endpoint {e:?}: expected an http:// or https:// URL"
                ));
            }
            if let Some(f) = &server.format {
                if f != "prometheus" {
                    return bad(format!(
                        "server.format {f:?}: only \"prometheus\" is supported"
                    ));
                }
            }
            if server.client_cert.is_some() != server.client_key.is_some() {
                return bad("server.client_cert and server.client_key go together".into());
            }
        }
        if let Some(rw) = &self.remote_write {
            if ipocket_http::HttpClient::parse_url(&rw.url).is_err() {
                return bad(format!(
                    "remote_write.url {:?}: expected an http:// or https:// URL without credentials (use remote_write.token)",
                    rw.url
                ));
            }
            if rw.max_size_mb.is_some_and(|m| m <= 0.0) {
                return bad("remote_write.max_size_mb must be > 0".into());
            }
        }
        if let Some(i) = self.agent.interval {
            if i.0 < Duration::from_millis(100) {
                return bad("agent.interval below 100ms".into());
            }
        }
        let mut names = std::collections::HashSet::new();
        for e in &self.scrapers.prometheus.endpoints {
            if !crate::remote_write_queue::valid_job(&e.name) {
                return bad(format!(
                    "endpoint name {:?}: expected 1-64 letters, digits, _ and -",
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
            if e.interval.is_some_and(|i| i.0 < Duration::from_millis(100)) {
                return bad(format!("endpoint {} interval below 100ms", e.name));
            }
        }
        if self.buffer.max_size_mb <= 0.0 || self.buffer.retention_hours <= 0.0 {
            return bad("buffer.max_size_mb and buffer.retention_hours must be > 0".into());
        }
        Ok(())
    }
}
