//! Delivering the items of a [`DiskBuffer`] to one destination, oldest first, one at a time:
//! the agent's pushes to ipocket, the agent's remote_write and the server's remote_write
//! forwarding all run this loop, so all three retry, drop and count the same way.
//!
//! - Delivered (2xx): the file is deleted.
//! - Rejected (a 4xx other than 408 and 429): the receiver calls the data invalid; sending it
//!   again would fail the same way for days, so the file is dropped and counted.
//! - Anything else (no answer, timeout, 5xx, 408, 429): retried after a backoff that doubles
//!   from `backoff_min` to `backoff_max`, with jitter (a random 50–100 % of the delay) so a
//!   fleet that lost its receiver does not come back in lock step. A success resets it.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use hyper::body::Bytes;
use hyper::{Method, Uri};
use ipocket_expfmt::{Encoder, Format, Labels, MetricType, Sample};
use tokio::sync::{watch, Notify};

use crate::agent::{BufferedScrape, DiskBuffer, Dropped};
use crate::remote_write::{RemoteWriteClient, RemoteWriteError, WriteRequest};
use crate::store::now_ms;

/// Counters and gauges of one delivery queue; every update is lock-free.
#[derive(Debug, Default)]
pub struct DeliveryCounters {
    /// Items acknowledged with a 2xx.
    pub sent: AtomicU64,
    /// Samples in the items acknowledged (remote_write only; pushes count items).
    pub samples_sent: AtomicU64,
    /// Attempts that failed and will be retried (no answer, 5xx, 408, 429).
    pub failures: AtomicU64,
    /// Items the receiver refused as invalid (4xx), dropped.
    pub dropped_rejected: AtomicU64,
    /// Items dropped because the queue was over its size limit (oldest first).
    pub dropped_size: AtomicU64,
    /// Items dropped because older than the retention.
    pub dropped_age: AtomicU64,
    /// Items that could not be written to the queue (disk full, permissions), lost.
    pub dropped_write_error: AtomicU64,
    /// Bytes in the queue now.
    pub buffered_bytes: AtomicU64,
    /// Items in the queue now.
    pub buffered_items: AtomicU64,
    /// The last attempt failed and is being retried (the receiver is away).
    pub failing: AtomicBool,
}

impl DeliveryCounters {
    /// Sum of the `dropped_*` counters.
    pub fn dropped_total(&self) -> u64 {
        self.dropped_rejected.load(Ordering::Relaxed)
            + self.dropped_size.load(Ordering::Relaxed)
            + self.dropped_age.load(Ordering::Relaxed)
            + self.dropped_write_error.load(Ordering::Relaxed)
    }

    pub(crate) fn count_dropped(&self, d: Dropped, log_prefix: &str) {
        if d.size > 0 {
            self.dropped_size.fetch_add(d.size, Ordering::Relaxed);
            tracing::warn!(
                "{log_prefix}: queue full: dropped the {} oldest item(s)",
                d.size
            );
        }
        if d.age > 0 {
            self.dropped_age.fetch_add(d.age, Ordering::Relaxed);
            tracing::info!(
                "{log_prefix}: dropped {} item(s) older than the retention",
                d.age
            );
        }
    }

    pub(crate) fn update_gauges(&self, buffer: &DiskBuffer) {
        self.buffered_bytes.store(buffer.bytes(), Ordering::Relaxed);
        self.buffered_items
            .store(buffer.len() as u64, Ordering::Relaxed);
    }

    /// The counters as text-format families named `<prefix>_sent_total`,
    /// `<prefix>_samples_sent_total`, `<prefix>_failures_total`,
    /// `<prefix>_dropped_total{reason="rejected"|"size"|"age"|"write_error"}`,
    /// `<prefix>_queue_bytes` and `<prefix>_queue_length`; `what` names an item in the HELP
    /// texts.
    ///
    /// ```
    /// use ipocket_connectors::DeliveryCounters;
    /// let text = DeliveryCounters::default().render("ipocket_remote_write", "pushes");
    /// assert!(text.contains("ipocket_remote_write_dropped_total{reason=\"size\"} 0\n"));
    /// ipocket_expfmt::parse(text.as_bytes(), ipocket_expfmt::Format::Text).unwrap();
    /// ```
    pub fn render(&self, prefix: &str, what: &str) -> String {
        let mut enc = Encoder::new(Format::Text);
        self.encode(&mut enc, Format::Text, prefix, what);
        enc.finish()
    }

    /// [`DeliveryCounters::render`] into `enc`, whose format is `format`: in OpenMetrics a
    /// counter's family is named without `_total` (its samples keep it).
    pub fn encode(&self, enc: &mut Encoder, format: Format, prefix: &str, what: &str) {
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed) as f64;
        let mut family =
            |suffix: &str, help: String, t: MetricType, rows: Vec<(Labels<'_>, f64)>| {
                let name = format!("{prefix}_{suffix}");
                let family = match (format, t) {
                    (Format::OpenMetrics, MetricType::Counter) => {
                        name.strip_suffix("_total").unwrap_or(&name)
                    }
                    _ => &name,
                };
                enc.help(family, &help);
                enc.metric_type(family, t);
                for (labels, v) in rows {
                    enc.sample(&Sample::new(name.clone(), labels, v));
                }
            };
        let one = |a: &AtomicU64| vec![(Labels::new(), get(a))];
        family(
            "sent_total",
            format!("Queued {what} acknowledged by the receiver with a 2xx."),
            MetricType::Counter,
            one(&self.sent),
        );
        family(
            "samples_sent_total",
            format!("Samples in the queued {what} acknowledged."),
            MetricType::Counter,
            one(&self.samples_sent),
        );
        family(
            "failures_total",
            "Send attempts that failed and are retried.".to_string(),
            MetricType::Counter,
            one(&self.failures),
        );
        family(
            "dropped_total",
            format!("Queued {what} dropped unsent, by reason."),
            MetricType::Counter,
            [
                ("rejected", &self.dropped_rejected),
                ("size", &self.dropped_size),
                ("age", &self.dropped_age),
                ("write_error", &self.dropped_write_error),
            ]
            .into_iter()
            .map(|(r, a)| ([("reason", r)].into_iter().collect(), get(a)))
            .collect(),
        );
        family(
            "queue_bytes",
            "Bytes in the on-disk queue.".to_string(),
            MetricType::Gauge,
            one(&self.buffered_bytes),
        );
        family(
            "queue_length",
            format!("Queued {what} waiting to be sent."),
            MetricType::Gauge,
            one(&self.buffered_items),
        );
    }
}

/// Where a queue's items go.
#[derive(Debug, Clone)]
pub(crate) enum Destination {
    /// `POST <url>&job=<item key>` of the buffered exposition to ipocket's ingest endpoint
    /// (`url` already holds `?server_id=`).
    Ingest {
        url: String,
        client: ipocket_http::HttpClient,
        timeout: Duration,
    },
    /// Each item as remote-write requests with the labels `server_id` and `job` of its key
    /// (see [`queue_key`]).
    RemoteWrite(RemoteWriteClient),
}

/// The name of a remote_write queue item: `<server_id>_<job>`, or `<server_id>` alone.
/// Server ids have no `_` (letters, digits, inner hyphens), so the first `_` splits.
pub(crate) fn queue_key(server_id: &str, job: Option<&str>) -> String {
    match job {
        Some(j) => format!("{server_id}_{j}"),
        None => server_id.to_string(),
    }
}

fn parse_queue_key(key: &str) -> (&str, Option<&str>) {
    match key.split_once('_') {
        Some((id, job)) => (id, Some(job)),
        None => (key, None),
    }
}

/// What became of one attempt.
enum Outcome {
    Delivered { samples: u64 },
    Rejected(String),
    Retry(String),
}

fn shorten(body: &[u8]) -> String {
    String::from_utf8_lossy(&body[..body.len().min(300)])
        .trim()
        .to_string()
}

impl Destination {
    async fn deliver(&self, item: &BufferedScrape, data: Vec<u8>) -> Outcome {
        match self {
            Destination::Ingest {
                url,
                client,
                timeout,
            } => {
                let url = format!("{url}&job={}", item.endpoint);
                let ct = item.format.content_type();
                match http_post(client, &url, ct, data, *timeout).await {
                    Ok((200..=299, _)) => Outcome::Delivered { samples: 0 },
                    Ok((status, body))
                        if (400..500).contains(&status) && status != 408 && status != 429 =>
                    {
                        Outcome::Rejected(format!("HTTP {status}: {}", shorten(&body)))
                    }
                    Ok((status, body)) => {
                        Outcome::Retry(format!("HTTP {status}: {}", shorten(&body)))
                    }
                    Err(e) => Outcome::Retry(e),
                }
            }
            Destination::RemoteWrite(client) => {
                let (server_id, job) = parse_queue_key(&item.endpoint);
                let mut labels = vec![("server_id", server_id)];
                labels.extend(job.map(|j| ("job", j)));
                let (req, _bad) =
                    WriteRequest::from_exposition(&data, item.format, item.taken_at_ms, &labels);
                let samples = req.sample_count() as u64;
                for batch in req.into_batches(2000) {
                    match client.send(&batch).await {
                        Ok(_) => {}
                        Err(e @ RemoteWriteError::Rejected { .. }) => {
                            return Outcome::Rejected(e.to_string())
                        }
                        Err(e) => return Outcome::Retry(e.to_string()),
                    }
                }
                Outcome::Delivered { samples }
            }
        }
    }
}

async fn http_post(
    client: &ipocket_http::HttpClient,
    url: &str,
    content_type: &str,
    body: Vec<u8>,
    timeout: Duration,
) -> Result<(u16, Bytes), String> {
    let uri: Uri = url.parse().map_err(|e| format!("bad URL {url:?}: {e}"))?;
    let headers = [
        (
            "User-Agent",
            concat!("ipocket-agent/", env!("CARGO_PKG_VERSION")),
        ),
        ("Content-Type", content_type),
    ];
    let work = client.send_body_once(Method::POST, &uri, &headers, Bytes::from(body));
    match tokio::time::timeout(timeout, work).await {
        Ok(Ok(r)) => Ok((r.status, r.body)),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!("timeout after {timeout:?}")),
    }
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

/// One queue being delivered.
pub(crate) struct Delivery {
    /// `ipocket agent: push`, `ipocket serve: remote_write`: the start of every log line.
    pub(crate) log_prefix: String,
    pub(crate) destination: Destination,
    pub(crate) buffer: Arc<DiskBuffer>,
    pub(crate) counters: Arc<DeliveryCounters>,
    /// Notified when an item is added.
    pub(crate) wake: Arc<Notify>,
    pub(crate) shutdown: watch::Receiver<bool>,
    pub(crate) backoff_min: Duration,
    pub(crate) backoff_max: Duration,
}

/// Sends the queue's items, oldest first, until `shutdown`.
pub(crate) async fn deliver_loop(mut p: Delivery) {
    let mut delay = p.backoff_min;
    let mut jitter = Jitter::new();
    loop {
        if *p.shutdown.borrow() {
            return;
        }
        if let Ok(d) = p.buffer.enforce_limits(now_ms()) {
            p.counters.count_dropped(d, &p.log_prefix);
        }
        p.counters.update_gauges(&p.buffer);
        let Some(item) = p.buffer.oldest() else {
            tokio::select! {
                _ = p.wake.notified() => {}
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                _ = p.shutdown.wait_for(|s| *s) => return,
            }
            continue;
        };
        let data = match p.buffer.read(&item) {
            Ok(d) => d,
            Err(e) => {
                // Gone (dropped by the size limit meanwhile) or unreadable: forget it.
                tracing::warn!(
                    "{}: queued item {} unreadable: {e}",
                    p.log_prefix,
                    item.path.display()
                );
                let _ = p.buffer.remove(&item);
                continue;
            }
        };
        let retry = match p.destination.deliver(&item, data).await {
            Outcome::Delivered { samples } => {
                p.counters.sent.fetch_add(1, Ordering::Relaxed);
                p.counters
                    .samples_sent
                    .fetch_add(samples, Ordering::Relaxed);
                p.counters.failing.store(false, Ordering::Relaxed);
                if let Err(e) = p.buffer.remove(&item) {
                    tracing::warn!("{}: cannot delete a sent item: {e}", p.log_prefix);
                }
                None
            }
            Outcome::Rejected(msg) => {
                p.counters.dropped_rejected.fetch_add(1, Ordering::Relaxed);
                p.counters.failing.store(false, Ordering::Relaxed);
                tracing::warn!(
                    "{}: the receiver rejected {}, dropped: {msg}",
                    p.log_prefix,
                    item.path.display()
                );
                let _ = p.buffer.remove(&item);
                None
            }
            Outcome::Retry(msg) => Some(msg),
        };
        let Some(msg) = retry else {
            delay = p.backoff_min;
            continue;
        };
        tracing::warn!("{}: send failed, will retry: {msg}", p.log_prefix);
        p.counters.failures.fetch_add(1, Ordering::Relaxed);
        p.counters.failing.store(true, Ordering::Relaxed);
        tokio::select! {
            _ = tokio::time::sleep(jitter.apply(delay)) => {}
            _ = p.shutdown.wait_for(|s| *s) => return,
        }
        delay = (delay * 2).min(p.backoff_max);
    }
}
