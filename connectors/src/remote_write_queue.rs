//! A durable, bounded remote_write queue: what `ipocket serve --remote-write-url` forwards and
//! what `ipocket agent` sends when its config has `remote_write`. Each item (an accepted push,
//! or a scrape) is written to disk first, as the agent's buffer writes scrapes, and sent in
//! the background by the shared delivery loop: a receiver that is down never slows down or
//! fails the caller; the queue grows up to its size limit, then drops its oldest items, each
//! counted.

use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use ipocket_expfmt::Format;
use tokio::sync::{watch, Notify};

use crate::agent::{DiskBuffer, OpenReport};
use crate::delivery::{deliver_loop, queue_key, Delivery, DeliveryCounters, Destination};
use crate::remote_write::RemoteWriteClient;
use crate::store::now_ms;

/// Limits of a [`RemoteWriteQueue`].
#[derive(Debug, Clone)]
pub struct QueueLimits {
    /// Beyond this many bytes on disk the oldest items are dropped (default 256 MiB).
    pub max_bytes: u64,
    /// Items older than this are dropped unsent (default 48 h; Prometheus itself refuses
    /// samples older than its head block, about 1–3 h, as out of bounds).
    pub retention: Duration,
    /// First retry delay, doubling (default 500 ms).
    pub backoff_min: Duration,
    /// Longest retry delay (default 60 s).
    pub backoff_max: Duration,
    /// fsync every queued item (default true). The server turns it off: its queue is then as
    /// durable as the samples store beside it (SQLite WAL, `synchronous=NORMAL`: survives a
    /// crash of the process, not a power cut) and a push costs no extra fsync.
    pub fsync: bool,
}

impl Default for QueueLimits {
    fn default() -> Self {
        QueueLimits {
            max_bytes: 256 << 20,
            retention: Duration::from_secs(48 * 3600),
            backoff_min: Duration::from_millis(500),
            backoff_max: Duration::from_secs(60),
            fsync: true,
        }
    }
}

/// A remote_write receiver with a queue on disk in front of it.
///
/// ```no_run
/// use ipocket_connectors::remote_write::RemoteWriteClient;
/// use ipocket_connectors::remote_write_queue::{QueueLimits, RemoteWriteQueue};
/// # async fn f() -> Result<(), Box<dyn std::error::Error>> {
/// let client = RemoteWriteClient::new("http://127.0.0.1:9090/api/v1/write")?;
/// let (queue, _report) = RemoteWriteQueue::open("/var/lib/ipocket/remote-write".into(), client, QueueLimits::default())?;
/// let queue = std::sync::Arc::new(queue);
/// let (stop, stopped) = tokio::sync::watch::channel(false);
/// tokio::spawn(queue.clone().run(stopped, "ipocket serve: remote_write"));
/// // From a blocking thread: a push accepted for server web-01, job node_exporter.
/// queue.enqueue("web-01", Some("node_exporter"), ipocket_expfmt::Format::Text, 1_700_000_000_000, b"up 1\n");
/// stop.send(true)?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct RemoteWriteQueue {
    buffer: Arc<DiskBuffer>,
    client: RemoteWriteClient,
    counters: Arc<DeliveryCounters>,
    wake: Arc<Notify>,
    limits: QueueLimits,
}

/// Whether `job` may be a queue item's `job` label: what the agent allows as an endpoint
/// name (letters, digits, `_`, `-`), 1–64 bytes.
///
/// ```
/// use ipocket_connectors::remote_write_queue::valid_job;
/// assert!(valid_job("node_exporter"));
/// assert!(!valid_job("a b"));
/// assert!(!valid_job(""));
/// ```
pub fn valid_job(job: &str) -> bool {
    (1..=64).contains(&job.len())
        && job
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

impl RemoteWriteQueue {
    /// Opens (creating) the queue folder `dir`: items a previous run left are sent first,
    /// torn writes removed. The client should not retry by itself (`with_retries(0, …)`):
    /// the queue retries with its own backoff, for as long as the retention allows.
    pub fn open(
        dir: PathBuf,
        client: RemoteWriteClient,
        limits: QueueLimits,
    ) -> io::Result<(RemoteWriteQueue, OpenReport)> {
        let (buffer, report) = DiskBuffer::open(dir, limits.max_bytes, limits.retention)?;
        let buffer = buffer.with_fsync(limits.fsync);
        let counters = Arc::new(DeliveryCounters::default());
        counters.update_gauges(&buffer);
        Ok((
            RemoteWriteQueue {
                buffer: Arc::new(buffer),
                client,
                counters,
                wake: Arc::new(Notify::new()),
                limits,
            },
            report,
        ))
    }

    /// Writes one exposition durably to the queue (blocking: call it from a blocking thread)
    /// for `server_id` (and `job`, when valid), stamped `received_at_ms` where a sample has
    /// no timestamp, then enforces the limits. A failed write is counted
    /// (`dropped_total{reason="write_error"}`) and returned; the caller goes on.
    pub fn enqueue(
        &self,
        server_id: &str,
        job: Option<&str>,
        format: Format,
        received_at_ms: i64,
        body: &[u8],
    ) -> io::Result<()> {
        let job = job.filter(|j| valid_job(j));
        let written = self
            .buffer
            .append(&queue_key(server_id, job), format, received_at_ms, body)
            .and_then(|_| self.buffer.enforce_limits(now_ms()));
        match written {
            Ok(dropped) => {
                self.counters.count_dropped(dropped, "remote_write queue");
                self.counters.update_gauges(&self.buffer);
                self.wake.notify_one();
                Ok(())
            }
            Err(e) => {
                self.counters
                    .dropped_write_error
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                Err(e)
            }
        }
    }

    /// Sends queued items until `shutdown` becomes true; log lines start with `log_prefix`.
    pub async fn run(self: Arc<Self>, shutdown: watch::Receiver<bool>, log_prefix: &str) {
        let (min, max) = (self.limits.backoff_min, self.limits.backoff_max);
        self.run_with(shutdown, log_prefix, min, max).await
    }

    /// [`RemoteWriteQueue::run`] with another backoff (the agent's).
    pub(crate) async fn run_with(
        self: Arc<Self>,
        shutdown: watch::Receiver<bool>,
        log_prefix: &str,
        backoff_min: Duration,
        backoff_max: Duration,
    ) {
        deliver_loop(Delivery {
            log_prefix: log_prefix.to_string(),
            destination: Destination::RemoteWrite(self.client.clone()),
            buffer: self.buffer.clone(),
            counters: self.counters.clone(),
            wake: self.wake.clone(),
            shutdown,
            backoff_min,
            backoff_max,
        })
        .await
    }

    /// The live counters.
    pub fn counters(&self) -> Arc<DeliveryCounters> {
        self.counters.clone()
    }

    /// The queue's limits.
    pub fn limits(&self) -> &QueueLimits {
        &self.limits
    }

    /// The on-disk queue.
    pub fn buffer(&self) -> Arc<DiskBuffer> {
        self.buffer.clone()
    }
}
