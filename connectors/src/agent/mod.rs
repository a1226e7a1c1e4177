//! The scrape agent: scrape each exporter on its interval, write every scrape to a durable
//! on-disk buffer first, push buffered scrapes to the ingest endpoint in the background, and,
//! when `remote_write` is configured, send them to a remote-write receiver through a queue of
//! their own (the two destinations are independent: one down never holds the other back).
//!
//! - A scrape is stamped with its scrape time (every sample line without a timestamp gets
//!   one), so data pushed hours later keeps its time; lines that do not parse are left out.
//! - Push: oldest first, one scrape per request, `POST <endpoint>?server_id=<id>&job=<name>`
//!   with the scrape's Content-Type. 2xx: the file is deleted. Any other 4xx than 408/429: the server
//!   called the data invalid; the file is dropped and counted (`dropped_total{reason="rejected"}`).
//!   Anything else (network, 5xx, 408, 429): retried with exponential backoff and jitter.
//! - Delivery is at-least-once: a crash between the 2xx and the delete sends a scrape twice.
//! - A failed scrape or a dead exporter is counted and logged; the agent goes on.

mod buffer;
mod config;
mod metrics;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode, Uri};
use ipocket_expfmt::{Encoder, Format, Mode, Parser, Record, Timestamp};
use tokio::sync::{watch, Notify};

pub use buffer::{BufferStatus, BufferedScrape, DiskBuffer, Dropped, OpenReport};
pub use config::{
    AgentConfig, AgentSection, BufferConfig, Endpoint, HumanDuration, MetricsConfig,
    PrometheusScraper, RemoteWriteConfig, Scrapers, ServerConfig, DEFAULT_INTERVAL,
    SERVER_ID_PLACEHOLDERS,
};
pub use metrics::{AgentMetrics, EndpointCounters};

use crate::delivery::{deliver_loop, Delivery, Destination};
use crate::remote_write::RemoteWriteClient;
use crate::remote_write_queue::{QueueLimits, RemoteWriteQueue};
use crate::store::now_ms;

/// Why the agent could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AgentError {
    /// The configuration file could not be read.
    #[error("cannot read {path}: {source}")]
    ConfigRead {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The configuration does not parse, does not have the expected shape, or has a value
    /// out of range.
    #[error("invalid agent configuration: {0}")]
    InvalidConfig(String),
    /// The buffer folder or the metrics listener failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The OS error.
        source: std::io::Error,
    },
}

/// The crate's shared client; the agent applies its own per-call timeout on top.
type HttpClient = ipocket_http::HttpClient;

/// A configured agent, ready to [`run`](Agent::run).
#[derive(Debug)]
pub struct Agent {
    config: AgentConfig,
    server_id: Option<String>,
    server_id_generated: bool,
    buffer: Arc<DiskBuffer>,
    remote_write: Option<Arc<RemoteWriteQueue>>,
    metrics: Arc<AgentMetrics>,
    open_report: OpenReport,
    /// Scrapes (plain HTTP to local exporters).
    client: HttpClient,
    /// Pushes to ipocket (TLS set-up of `server`), when `server` is configured.
    push_client: Option<HttpClient>,
    wake: Arc<Notify>,
    listener: Option<tokio::net::TcpListener>,
    backoff_min: Duration,
    backoff_max: Duration,
}

/// A scrape stamped with its time: the text to buffer and what was in it.
#[derive(Debug, Clone, PartialEq)]
pub struct StampedScrape {
    /// The exposition, every sample with a timestamp.
    pub text: String,
    /// Samples kept.
    pub samples: usize,
    /// Lines that did not parse and were left out.
    pub rejected_lines: usize,
}

/// Gives every sample without a timestamp the scrape time `taken_at_ms`; drops bad lines.
///
/// ```
/// use ipocket_connectors::agent::stamp;
/// use ipocket_expfmt::Format;
/// let s = stamp(b"# TYPE up gauge\nup 1\nold 2 5\nbad{\n", Format::Text, 1_700_000_000_000);
/// assert_eq!(s.text, "# TYPE up gauge\nup 1 1700000000000\nold 2 5\n");
/// assert_eq!((s.samples, s.rejected_lines), (2, 1));
/// ```
pub fn stamp(body: &[u8], format: Format, taken_at_ms: i64) -> StampedScrape {
    let mut enc = Encoder::new(format);
    let mut samples = 0;
    let mut rejected_lines = 0;
    for item in Parser::new(body, format).with_mode(Mode::Lenient) {
        match item {
            Ok(Record::Sample(mut s)) => {
                s.timestamp
                    .get_or_insert(Timestamp::from_millis(taken_at_ms));
                samples += 1;
                enc.sample(&s);
            }
            Ok(r) => enc.record(&r),
            Err(_) => rejected_lines += 1,
        }
    }
    StampedScrape {
        text: enc.finish(),
        samples,
        rejected_lines,
    }
}

impl Agent {
    /// Opens the buffer (keeping what an earlier run left, removing torn writes), the
    /// remote_write queue when configured, builds the TLS set-up of the push (system roots,
    /// `server.ca_file`, the client certificate) and reads the server id (configured or
    /// saved); a missing one is generated by [`Agent::ensure_server_id`] or at the start of
    /// [`Agent::run`]. Writes nothing but the buffer folders.
    pub fn new(config: AgentConfig) -> Result<Agent, AgentError> {
        let server_id = saved_server_id(&config)?;
        let io = |what: String| move |source| AgentError::Io { what, source };
        let (buffer, open_report) = DiskBuffer::open(
            &config.buffer.path,
            config.buffer.max_size_bytes(),
            config.buffer.retention(),
        )
        .map_err(io(format!(
            "opening buffer {}",
            config.buffer.path.display()
        )))?;
        let mut metrics = AgentMetrics::new(
            config
                .scrapers
                .prometheus
                .endpoints
                .iter()
                .map(|e| e.name.as_str()),
        );
        metrics.push.update_gauges(&buffer);
        let push_client = match &config.server {
            Some(server) => Some(push_client(server)?),
            None => None,
        };
        let remote_write = match (&config.remote_write, config.remote_write_buffer()) {
            (Some(rw), Some(dir)) => {
                let client = RemoteWriteClient::new(&rw.url)
                    .and_then(|c| {
                        c.with_retries(0, Duration::from_millis(1))
                            .with_timeout(config.timeout())
                            .with_connect_options(
                                &ipocket_http::ConnectOptions::from_flags(
                                    rw.token.as_deref(),
                                    rw.ca_file.clone(),
                                    false,
                                ),
                                true,
                            )
                    })
                    .map_err(|e| AgentError::InvalidConfig(format!("remote_write: {e}")))?;
                let limits = QueueLimits {
                    max_bytes: rw.max_size_mb.map_or(config.buffer.max_size_bytes(), |m| {
                        (m * 1024.0 * 1024.0) as u64
                    }),
                    retention: config.buffer.retention(),
                    ..QueueLimits::default()
                };
                let (queue, _) = RemoteWriteQueue::open(dir.clone(), client, limits).map_err(
                    io(format!("opening the remote_write queue {}", dir.display())),
                )?;
                metrics.remote_write = Some(queue.counters());
                Some(Arc::new(queue))
            }
            _ => None,
        };
        Ok(Agent {
            config,
            server_id,
            server_id_generated: false,
            buffer: Arc::new(buffer),
            remote_write,
            metrics: Arc::new(metrics),
            open_report,
            client: ipocket_http::HttpClient::new().with_timeout(Duration::from_secs(86_400)),
            push_client,
            wake: Arc::new(Notify::new()),
            listener: None,
            backoff_min: Duration::from_millis(500),
            backoff_max: Duration::from_secs(60),
        })
    }

    /// Sets the push backoff (to ipocket and to remote_write): first delay and cap (defaults
    /// 500 ms and 60 s).
    pub fn with_push_backoff(mut self, min: Duration, max: Duration) -> Agent {
        self.backoff_min = min;
        self.backoff_max = max.max(min);
        self
    }

    /// The server id pushes carry (none before a generated one is made), and whether this
    /// run generated it.
    pub fn server_id(&self) -> (Option<&str>, bool) {
        (self.server_id.as_deref(), self.server_id_generated)
    }

    /// The server id: the configured or saved one, else a new random UUID saved in
    /// `<state_dir>/server_id` first (see [`resolve_server_id`]). Returns it and whether it
    /// was generated now.
    pub fn ensure_server_id(&mut self) -> Result<(String, bool), AgentError> {
        if let Some(id) = &self.server_id {
            return Ok((id.clone(), self.server_id_generated));
        }
        let (id, generated) = resolve_server_id(&self.config)?;
        self.server_id = Some(id.clone());
        self.server_id_generated = generated;
        Ok((id, generated))
    }

    /// What opening the buffer found.
    pub fn open_report(&self) -> OpenReport {
        self.open_report
    }

    /// The live metrics.
    pub fn metrics(&self) -> Arc<AgentMetrics> {
        self.metrics.clone()
    }

    /// The buffer.
    pub fn buffer(&self) -> Arc<DiskBuffer> {
        self.buffer.clone()
    }

    /// The remote_write queue, when configured.
    pub fn remote_write(&self) -> Option<Arc<RemoteWriteQueue>> {
        self.remote_write.clone()
    }

    /// Binds the metrics listener of the config (if any) and returns its address.
    pub async fn bind_metrics(&mut self) -> Result<Option<SocketAddr>, AgentError> {
        let Some(m) = &self.config.metrics else {
            return Ok(None);
        };
        let listener = tokio::net::TcpListener::bind(&m.listen)
            .await
            .map_err(|source| AgentError::Io {
                what: format!("listening on {}", m.listen),
                source,
            })?;
        let addr = listener.local_addr().ok();
        self.listener = Some(listener);
        Ok(addr)
    }

    /// Runs until `shutdown` becomes true. Needs a tokio runtime with time and I/O enabled.
    /// Without a server id (and when one cannot be generated and saved) it logs why and
    /// returns at once.
    pub async fn run(mut self, mut shutdown: watch::Receiver<bool>) {
        let server_id = match self.ensure_server_id() {
            Ok((id, true)) => {
                tracing::info!(server_id = %id, "generated server id {id}");
                id
            }
            Ok((id, false)) => id,
            Err(e) => {
                tracing::error!("ipocket agent cannot start: {e}");
                return;
            }
        };
        let mut tasks = tokio::task::JoinSet::new();
        let timeout = self.config.timeout();
        let sinks = Sinks {
            push: self.push_client.as_ref().map(|_| self.buffer.clone()),
            remote_write: self.remote_write.clone(),
            server_id: server_id.clone(),
        };
        if self.config.scrapers.prometheus.enabled {
            for (i, ep) in self.config.scrapers.prometheus.endpoints.iter().enumerate() {
                tasks.spawn(scrape_loop(
                    i,
                    ep.clone(),
                    timeout,
                    self.client.clone(),
                    sinks.clone(),
                    self.metrics.clone(),
                    self.wake.clone(),
                    shutdown.clone(),
                ));
            }
        }
        if let (Some(server), Some(client)) = (&self.config.server, &self.push_client) {
            let sep = if server.endpoint.contains('?') {
                '&'
            } else {
                '?'
            };
            tasks.spawn(deliver_loop(Delivery {
                log_prefix: "ipocket agent: push".into(),
                destination: Destination::Ingest {
                    url: format!("{}{sep}server_id={server_id}", server.endpoint),
                    client: client.clone(),
                    timeout,
                },
                buffer: self.buffer.clone(),
                counters: self.metrics.push.clone(),
                wake: self.wake.clone(),
                shutdown: shutdown.clone(),
                backoff_min: self.backoff_min,
                backoff_max: self.backoff_max,
            }));
        }
        if let Some(queue) = &self.remote_write {
            let queue = queue.clone();
            let stop = shutdown.clone();
            let (min, max) = (self.backoff_min, self.backoff_max);
            tasks.spawn(async move {
                queue
                    .run_with(stop, "ipocket agent: remote_write", min, max)
                    .await
            });
        }
        if let Some(listener) = self.listener {
            tasks.spawn(serve_metrics(
                listener,
                self.metrics.clone(),
                shutdown.clone(),
            ));
        }
        let _ = shutdown.wait_for(|stop| *stop).await;
        while tasks.join_next().await.is_some() {}
    }
}

/// The client of pushes to ipocket: webpki roots, the system's CA bundle, `server.ca_file`,
/// and the client certificate when one is configured.
fn push_client(server: &ServerConfig) -> Result<HttpClient, AgentError> {
    let tls = |key: &str| {
        let key = key.to_string();
        move |e: ipocket_http::HttpError| AgentError::InvalidConfig(format!("{key}: {e}"))
    };
    let mut c = HttpClient::new()
        .with_timeout(Duration::from_secs(86_400))
        .with_system_roots()
        .map_err(tls("system CA bundle (SSL_CERT_FILE)"))?;
    if let Some(ca) = &server.ca_file {
        c = c.with_ca_file(ca).map_err(tls("server.ca_file"))?;
    }
    if let (Some(cert), Some(key)) = (&server.client_cert, &server.client_key) {
        c = c
            .with_client_cert(cert, key)
            .map_err(tls("server.client_cert/client_key"))?;
    }
    Ok(c)
}

/// The file in the state folder that keeps a generated server id.
pub const SERVER_ID_FILE: &str = "server_id";

/// The server id of this agent: `agent.server_id` unless it is missing or a placeholder
/// ([`SERVER_ID_PLACEHOLDERS`]); else the one saved in `<state_dir>/server_id`; else a new
/// random UUID (v4), saved there atomically before it is used, so every later run (and a
/// reinstall that keeps the state folder) pushes as the same server. Returns the id and
/// whether it was generated now.
pub fn resolve_server_id(config: &AgentConfig) -> Result<(String, bool), AgentError> {
    if let Some(id) = saved_server_id(config)? {
        return Ok((id, false));
    }
    let path = config.state_dir().join(SERVER_ID_FILE);
    let id = random_uuid_v4();
    ipocket_files::write(&path, format!("{id}\n").as_bytes()).map_err(|e| AgentError::Io {
        what: format!("saving the generated server id to {}", path.display()),
        source: std::io::Error::new(e.io_kind(), e.to_string()),
    })?;
    Ok((id, true))
}

/// The configured server id, else the saved one, else `None`; reads only.
pub fn saved_server_id(config: &AgentConfig) -> Result<Option<String>, AgentError> {
    if let Some(id) = config.configured_server_id() {
        return Ok(Some(id.to_string()));
    }
    let path = config.state_dir().join(SERVER_ID_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let id = text.trim();
            if crate::SampleStore::valid_server_id(id) {
                return Ok(Some(id.to_string()));
            }
            Err(AgentError::InvalidConfig(format!(
                "{}: {id:?} is not a server id (1-64 letters, digits and inner hyphens); fix or delete the file",
                path.display()
            )))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(AgentError::Io {
            what: format!("reading {}", path.display()),
            source,
        }),
    }
}

/// A random (version 4) UUID from the OS's generator.
fn random_uuid_v4() -> String {
    use password_hash::rand_core::{OsRng, RngCore};
    let mut b = [0u8; 16];
    OsRng.fill_bytes(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

async fn http_get(
    client: &HttpClient,
    url: &str,
    timeout: Duration,
) -> Result<(u16, String, Vec<u8>), String> {
    let uri: Uri = url.parse().map_err(|e| format!("bad URL {url:?}: {e}"))?;
    let headers = [(
        "User-Agent",
        concat!("ipocket-agent/", env!("CARGO_PKG_VERSION")),
    )];
    let accept = "text/plain;version=0.0.4;q=0.9,application/openmetrics-text;version=1.0.0;q=0.5";
    let work = async {
        let r = client
            .send_body_once_accept(Method::GET, &uri, accept, &headers, Bytes::new())
            .await
            .map_err(|e| e.to_string())?;
        Ok((
            r.status,
            r.content_type.unwrap_or_default(),
            r.body.to_vec(),
        ))
    };
    tokio::time::timeout(timeout, work)
        .await
        .map_err(|_| format!("timeout after {timeout:?}"))?
}

/// Where a scrape goes once taken: the push buffer (when `server` is configured) and the
/// remote_write queue (when `remote_write` is).
#[derive(Clone)]
struct Sinks {
    push: Option<Arc<DiskBuffer>>,
    remote_write: Option<Arc<RemoteWriteQueue>>,
    server_id: String,
}

#[allow(clippy::too_many_arguments)]
async fn scrape_loop(
    index: usize,
    ep: Endpoint,
    timeout: Duration,
    client: HttpClient,
    sinks: Sinks,
    metrics: Arc<AgentMetrics>,
    wake: Arc<Notify>,
    mut shutdown: watch::Receiver<bool>,
) {
    // The first tick is at once: scrape on start, then every interval.
    let mut ticker = tokio::time::interval(ep.interval());
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let counters = &metrics.endpoints[index];
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = shutdown.wait_for(|s| *s) => return,
        }
        let taken = now_ms();
        let (ct, body) = match http_get(&client, &ep.url, timeout).await {
            Ok((200, ct, body)) => (ct, body),
            Ok((status, _, _)) => {
                counters.failures.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(
                    endpoint = %ep.name,
                    url = %ep.url,
                    status,
                    "scrape {} ({}): HTTP {status}",
                    ep.name,
                    ep.url
                );
                continue;
            }
            Err(e) => {
                counters.failures.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(
                    endpoint = %ep.name,
                    url = %ep.url,
                    "scrape {} ({}) failed: {e}",
                    ep.name,
                    ep.url
                );
                continue;
            }
        };
        let format = Format::from_content_type(&ct).unwrap_or(Format::Text);
        let stamped = stamp(&body, format, taken);
        if stamped.samples == 0 {
            counters.failures.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(
                endpoint = %ep.name,
                "scrape {}: no valid sample ({} bad lines)",
                ep.name,
                stamped.rejected_lines
            );
            continue;
        }
        let (sinks2, name) = (sinks.clone(), ep.name.clone());
        let written = tokio::task::spawn_blocking(move || {
            let text = stamped.text.as_bytes();
            let mut dropped = Dropped::default();
            if let Some(buf) = &sinks2.push {
                buf.append(&name, format, taken, text)?;
                dropped = buf.enforce_limits(now_ms())?;
            }
            if let Some(q) = &sinks2.remote_write {
                q.enqueue(&sinks2.server_id, Some(&name), format, taken, text)?;
            }
            Ok::<_, std::io::Error>(dropped)
        })
        .await;
        match written {
            Ok(Ok(dropped)) => {
                counters.scrapes.fetch_add(1, Ordering::Relaxed);
                metrics.push.count_dropped(dropped, "ipocket agent: push");
            }
            Ok(Err(e)) => {
                counters.failures.fetch_add(1, Ordering::Relaxed);
                tracing::error!(endpoint = %ep.name, "buffer write for {} failed: {e}", ep.name);
            }
            Err(e) => tracing::error!("buffer task failed: {e}"),
        }
        if let Some(buf) = &sinks.push {
            metrics.push.update_gauges(buf);
        }
        wake.notify_one();
    }
}

/// `GET /metrics` (any other path: 404) on the shared server loop until `shutdown`.
async fn serve_metrics(
    listener: tokio::net::TcpListener,
    metrics: Arc<AgentMetrics>,
    mut shutdown: watch::Receiver<bool>,
) {
    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
        let metrics = metrics.clone();
        async move { Ok::<_, std::convert::Infallible>(metrics_response(&req, &metrics)) }
    });
    let stop = async move {
        let _ = shutdown.wait_for(|s| *s).await;
    };
    let options = ipocket_http::server::ServeOptions {
        header_timeout: Duration::from_secs(5),
        shutdown_grace: Duration::from_secs(1),
    };
    let _ = ipocket_http::server::serve_with(listener, service, stop, options).await;
}

fn metrics_response(req: &Request<Incoming>, metrics: &AgentMetrics) -> Response<Full<Bytes>> {
    let (status, body) = match (req.method(), req.uri().path()) {
        (&Method::GET | &Method::HEAD, "/metrics") => (StatusCode::OK, metrics.render()),
        _ => (
            StatusCode::NOT_FOUND,
            "not found: try /metrics\n".to_string(),
        ),
    };
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static(Format::Text.content_type()),
    );
    r
}

impl ipocket_errors::Classify for AgentError {
    fn kind(&self) -> ipocket_errors::ErrorKind {
        match self {
            AgentError::ConfigRead { source, .. }
                if source.kind() == std::io::ErrorKind::NotFound =>
            {
                ipocket_errors::ErrorKind::NotFound
            }
            AgentError::InvalidConfig(_) => ipocket_errors::ErrorKind::Invalid,
            AgentError::ConfigRead { .. } => ipocket_errors::ErrorKind::Internal,
            AgentError::Io { .. } => ipocket_errors::ErrorKind::Internal,
        }
    }
}
