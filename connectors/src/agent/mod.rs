//! The scrape agent: scrape each exporter on its interval, write every scrape to a durable
//! on-disk buffer first, push buffered scrapes to the ingest endpoint in the background.
//!
//! - A scrape is stamped with its scrape time (every sample line without a timestamp gets
//!   one), so data pushed hours later keeps its time; lines that do not parse are left out.
//! - Push: oldest first, one scrape per request, `POST <endpoint>?server_id=<id>` with the
//!   scrape's Content-Type. 2xx: the file is deleted. Any other 4xx than 408/429: the server
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
use ipocket_expfmt::{Encoder, Format, Mode, Parser, Record};
use tokio::sync::{watch, Notify};

pub use buffer::{BufferStatus, BufferedScrape, DiskBuffer, Dropped, OpenReport};
pub use config::{
    AgentConfig, AgentSection, BufferConfig, Endpoint, HumanDuration, MetricsConfig,
    PrometheusScraper, Scrapers, ServerConfig,
};
pub use metrics::{AgentMetrics, EndpointCounters};

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
    buffer: Arc<DiskBuffer>,
    metrics: Arc<AgentMetrics>,
    open_report: OpenReport,
    client: HttpClient,
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
                s.timestamp_ms.get_or_insert(taken_at_ms);
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
    /// Opens the buffer (keeping what an earlier run left, removing torn writes).
    pub fn new(config: AgentConfig) -> Result<Agent, AgentError> {
        let (buffer, open_report) = DiskBuffer::open(
            &config.buffer.path,
            config.buffer.max_size_bytes(),
            config.buffer.retention(),
        )
        .map_err(|source| AgentError::Io {
            what: format!("opening buffer {}", config.buffer.path.display()),
            source,
        })?;
        let metrics = AgentMetrics::new(
            config
                .scrapers
                .prometheus
                .endpoints
                .iter()
                .map(|e| e.name.as_str()),
        );
        metrics
            .buffered_bytes
            .store(buffer.bytes(), Ordering::Relaxed);
        metrics
            .buffered_scrapes
            .store(buffer.len() as u64, Ordering::Relaxed);
        Ok(Agent {
            config,
            buffer: Arc::new(buffer),
            metrics: Arc::new(metrics),
            open_report,
            client: ipocket_http::HttpClient::new().with_timeout(Duration::from_secs(86_400)),
            wake: Arc::new(Notify::new()),
            listener: None,
            backoff_min: Duration::from_millis(500),
            backoff_max: Duration::from_secs(60),
        })
    }

    /// Sets the push backoff: first delay and cap (defaults 500 ms and 60 s).
    pub fn with_push_backoff(mut self, min: Duration, max: Duration) -> Agent {
        self.backoff_min = min;
        self.backoff_max = max.max(min);
        self
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
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let mut tasks = tokio::task::JoinSet::new();
        let timeout = self.config.server.timeout.0;
        if self.config.scrapers.prometheus.enabled {
            for (i, ep) in self.config.scrapers.prometheus.endpoints.iter().enumerate() {
                tasks.spawn(scrape_loop(
                    i,
                    ep.clone(),
                    timeout,
                    self.client.clone(),
                    self.buffer.clone(),
                    self.metrics.clone(),
                    self.wake.clone(),
                    shutdown.clone(),
                ));
            }
        }
        let sep = if self.config.server.endpoint.contains('?') {
            '&'
        } else {
            '?'
        };
        let push_url = format!(
            "{}{sep}server_id={}",
            self.config.server.endpoint, self.config.agent.server_id
        );
        tasks.spawn(push_loop(Pusher {
            url: push_url,
            timeout,
            client: self.client.clone(),
            buffer: self.buffer.clone(),
            metrics: self.metrics.clone(),
            wake: self.wake.clone(),
            shutdown: shutdown.clone(),
            backoff_min: self.backoff_min,
            backoff_max: self.backoff_max,
        }));
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

fn log(msg: std::fmt::Arguments<'_>) {
    eprintln!("ipocket agent: {msg}");
}

async fn http(
    client: &HttpClient,
    method: Method,
    url: &str,
    content_type: Option<&str>,
    body: Vec<u8>,
    timeout: Duration,
) -> Result<(u16, String, Vec<u8>), String> {
    let uri: Uri = url.parse().map_err(|e| format!("bad URL {url:?}: {e}"))?;
    let mut headers = vec![(
        "User-Agent",
        concat!("ipocket-agent/", env!("CARGO_PKG_VERSION")),
    )];
    if let Some(ct) = content_type {
        headers.push(("Content-Type", ct));
    }
    let accept = "text/plain;version=0.0.4;q=0.9,application/openmetrics-text;version=1.0.0;q=0.5";
    let work = async {
        let r = client
            .send_body_once_accept(method, &uri, accept, &headers, Bytes::from(body))
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

#[allow(clippy::too_many_arguments)]
async fn scrape_loop(
    index: usize,
    ep: Endpoint,
    timeout: Duration,
    client: HttpClient,
    buffer: Arc<DiskBuffer>,
    metrics: Arc<AgentMetrics>,
    wake: Arc<Notify>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut ticker = tokio::time::interval(ep.interval.0);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let counters = &metrics.endpoints[index];
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = shutdown.wait_for(|s| *s) => return,
        }
        let taken = now_ms();
        let result = http(&client, Method::GET, &ep.url, None, Vec::new(), timeout).await;
        let (ct, body) = match result {
            Ok((200, ct, body)) => (ct, body),
            Ok((status, _, _)) => {
                counters.failures.fetch_add(1, Ordering::Relaxed);
                log(format_args!(
                    "scrape {} ({}): HTTP {status}",
                    ep.name, ep.url
                ));
                continue;
            }
            Err(e) => {
                counters.failures.fetch_add(1, Ordering::Relaxed);
                log(format_args!("scrape {} ({}) failed: {e}", ep.name, ep.url));
                continue;
            }
        };
        let format = Format::from_content_type(&ct).unwrap_or(Format::Text);
        let stamped = stamp(&body, format, taken);
        if stamped.samples == 0 {
            counters.failures.fetch_add(1, Ordering::Relaxed);
            log(format_args!(
                "scrape {}: no valid sample ({} bad lines)",
                ep.name, stamped.rejected_lines
            ));
            continue;
        }
        let buf = buffer.clone();
        let name = ep.name.clone();
        let written = tokio::task::spawn_blocking(move || {
            buf.append(&name, format, taken, stamped.text.as_bytes())?;
            buf.enforce_limits(now_ms())
        })
        .await;
        match written {
            Ok(Ok(dropped)) => {
                counters.scrapes.fetch_add(1, Ordering::Relaxed);
                count_dropped(&metrics, dropped);
            }
            Ok(Err(e)) => {
                counters.failures.fetch_add(1, Ordering::Relaxed);
                log(format_args!("buffer write for {} failed: {e}", ep.name));
            }
            Err(e) => log(format_args!("buffer task failed: {e}")),
        }
        update_gauges(&metrics, &buffer);
        wake.notify_one();
    }
}

fn count_dropped(metrics: &AgentMetrics, d: Dropped) {
    if d.size > 0 {
        metrics.dropped_size.fetch_add(d.size, Ordering::Relaxed);
        log(format_args!(
            "buffer full: dropped the {} oldest scrape(s)",
            d.size
        ));
    }
    if d.age > 0 {
        metrics.dropped_age.fetch_add(d.age, Ordering::Relaxed);
        log(format_args!(
            "dropped {} scrape(s) older than the retention",
            d.age
        ));
    }
}

fn update_gauges(metrics: &AgentMetrics, buffer: &DiskBuffer) {
    metrics
        .buffered_bytes
        .store(buffer.bytes(), Ordering::Relaxed);
    metrics
        .buffered_scrapes
        .store(buffer.len() as u64, Ordering::Relaxed);
}

struct Pusher {
    url: String,
    timeout: Duration,
    client: HttpClient,
    buffer: Arc<DiskBuffer>,
    metrics: Arc<AgentMetrics>,
    wake: Arc<Notify>,
    shutdown: watch::Receiver<bool>,
    backoff_min: Duration,
    backoff_max: Duration,
}

/// A small xorshift generator for jitter (no need for a crypto RNG).
struct Jitter(u64);

impl Jitter {
    fn new() -> Jitter {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1)
            ^ u64::from(std::process::id()) << 32;
        Jitter(seed | 1)
    }

    /// Between half of `d` and all of it ("equal jitter").
    fn apply(&mut self, d: Duration) -> Duration {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        let frac = (self.0 >> 11) as f64 / (1u64 << 53) as f64;
        d.mul_f64(0.5 + 0.5 * frac)
    }
}

async fn push_loop(mut p: Pusher) {
    let mut delay = p.backoff_min;
    let mut jitter = Jitter::new();
    loop {
        if *p.shutdown.borrow() {
            return;
        }
        if let Ok(d) = p.buffer.enforce_limits(now_ms()) {
            count_dropped(&p.metrics, d);
        }
        update_gauges(&p.metrics, &p.buffer);
        let Some(scrape) = p.buffer.oldest() else {
            tokio::select! {
                _ = p.wake.notified() => {}
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                _ = p.shutdown.wait_for(|s| *s) => return,
            }
            continue;
        };
        let data = match p.buffer.read(&scrape) {
            Ok(d) => d,
            Err(e) => {
                // Gone (dropped by the size limit meanwhile) or unreadable: forget it.
                log(format_args!(
                    "buffered scrape {} unreadable: {e}",
                    scrape.path.display()
                ));
                let _ = p.buffer.remove(&scrape);
                continue;
            }
        };
        let ct = scrape.format.content_type();
        let result = http(&p.client, Method::POST, &p.url, Some(ct), data, p.timeout).await;
        let retry = match result {
            Ok((200..=299, _, _)) => {
                p.metrics.pushes.fetch_add(1, Ordering::Relaxed);
                if let Err(e) = p.buffer.remove(&scrape) {
                    log(format_args!("cannot delete pushed scrape: {e}"));
                }
                false
            }
            Ok((status, _, body))
                if (400..500).contains(&status) && status != 408 && status != 429 =>
            {
                p.metrics.dropped_rejected.fetch_add(1, Ordering::Relaxed);
                log(format_args!(
                    "server rejected scrape {} with HTTP {status}, dropped: {}",
                    scrape.path.display(),
                    String::from_utf8_lossy(&body[..body.len().min(300)])
                ));
                let _ = p.buffer.remove(&scrape);
                false
            }
            Ok((status, _, body)) => {
                log(format_args!(
                    "push got HTTP {status}, will retry: {}",
                    String::from_utf8_lossy(&body[..body.len().min(300)])
                ));
                true
            }
            Err(e) => {
                log(format_args!("push failed, will retry: {e}"));
                true
            }
        };
        if !retry {
            delay = p.backoff_min;
            continue;
        }
        p.metrics.push_failures.fetch_add(1, Ordering::Relaxed);
        tokio::select! {
            _ = tokio::time::sleep(jitter.apply(delay)) => {}
            _ = p.shutdown.wait_for(|s| *s) => return,
        }
        delay = (delay * 2).min(p.backoff_max);
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
