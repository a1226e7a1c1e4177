//! `--remote-write-url`: every accepted push is forwarded to a remote-write receiver through
//! `ipocket_connectors`' durable, bounded queue (the folder `--remote-write-queue-dir`). The
//! push is answered once its copy is on disk; sending happens in the background, so a
//! receiver that is down never slows down or fails a push.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use ipocket_connectors::remote_write::RemoteWriteClient;
use ipocket_connectors::remote_write_queue::{QueueLimits, RemoteWriteQueue};
use ipocket_expfmt::Format;

use crate::ServeArgs;

/// Opens the queue when `--remote-write-url` is given; a bad URL, CA file or queue folder
/// fails the start.
pub(crate) fn open_queue(args: &ServeArgs) -> Result<Option<Arc<RemoteWriteQueue>>> {
    let Some(url) = &args.remote_write_url else {
        return Ok(None);
    };
    let options = ipocket_http::ConnectOptions::from_flags(
        args.remote_write_token.as_deref(),
        args.remote_write_ca_file.clone(),
        false,
    );
    // The queue retries with its own backoff: no retries inside one attempt.
    let client = RemoteWriteClient::new(url)
        .and_then(|c| {
            c.with_retries(0, Duration::from_millis(1))
                .with_timeout(Duration::from_secs(30))
                .with_connect_options(&options, true)
        })
        .context("--remote-write-url")?;
    let dir = queue_dir(args)?;
    let limits = QueueLimits {
        max_bytes: (args.remote_write_queue_max_mb * 1024.0 * 1024.0) as u64,
        retention: Duration::from_secs_f64(args.remote_write_queue_max_hours * 3600.0),
        // As durable as the samples store the push went to, without an fsync per push.
        fsync: false,
        ..QueueLimits::default()
    };
    let (queue, report) = RemoteWriteQueue::open(dir.clone(), client, limits)
        .with_context(|| format!("opening the remote_write queue {}", dir.display()))?;
    if report.recovered > 0 {
        tracing::info!(
            "remote_write: {} push(es) from an earlier run still to send",
            report.recovered
        );
    }
    Ok(Some(Arc::new(queue)))
}

/// `--remote-write-queue-dir`, or the SQLite file's path with `.remote-write` appended; on
/// PostgreSQL a folder of this replica's must be named.
fn queue_dir(args: &ServeArgs) -> Result<PathBuf> {
    if let Some(dir) = &args.remote_write_queue_dir {
        return Ok(dir.clone());
    }
    match args.db.sqlite_path() {
        Some(db) => {
            let mut p = db.as_os_str().to_owned();
            p.push(".remote-write");
            Ok(p.into())
        }
        None => anyhow::bail!(
            "--remote-write-url with a PostgreSQL --db needs --remote-write-queue-dir (a \
             folder of this replica's own: the queue is not shared)"
        ),
    }
}

/// Refuses, before anything is opened, a remote_write set-up without a queue folder.
pub(crate) fn check_queue_dir(args: &ServeArgs) -> Result<()> {
    if args
        .remote_write_url
        .as_deref()
        .is_some_and(|u| !u.is_empty())
    {
        queue_dir(args)?;
    }
    Ok(())
}

/// Queues an accepted push (blocking: call from the blocking pool). A failed write is logged
/// and counted (`ipocket_remote_write_dropped_total{reason="write_error"}`); the push itself
/// was stored and stays accepted.
pub(crate) fn forward(
    queue: &RemoteWriteQueue,
    server_id: &str,
    job: Option<&str>,
    content_type: Option<&str>,
    received_at_ms: i64,
    body: &[u8],
) {
    let format = Format::from_content_type(content_type.unwrap_or("")).unwrap_or(Format::Text);
    if let Err(e) = queue.enqueue(server_id, job, format, received_at_ms, body) {
        tracing::error!("remote_write: queueing a push of {server_id} failed: {e}");
    }
}

/// Milliseconds since the epoch: the time stamped on samples of a push without their own.
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
