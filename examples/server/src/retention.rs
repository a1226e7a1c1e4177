//! The ingest retention sweep: samples stored by pushes are deleted once they are older than
//! `--ingest-retention-hours`, in the background, one short batch at a time, so a push never
//! waits for more than one batch. With several replicas on PostgreSQL only the leader of
//! the sweep ([`crate::leadership`]) sweeps.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ipocket_connectors::SWEEP_BATCH;

use super::AppState;

/// How often to sweep: a tenth of the retention, between one second and one hour.
fn interval(retention: Duration) -> Duration {
    (retention / 10).clamp(Duration::from_secs(1), Duration::from_secs(3600))
}

/// Sweeps now and then every [`interval`], for as long as the server runs.
pub(crate) async fn run(state: Arc<AppState>, retention: Duration, log: bool) {
    let mut ticks = tokio::time::interval(interval(retention));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        if !state.retention_duty.leads().await {
            continue;
        }
        match sweep(&state, retention).await {
            Ok(0) => {}
            Ok(n) if log => tracing::info!(
                "ingest retention: deleted {n} samples older than {} h",
                retention.as_secs_f64() / 3600.0
            ),
            Ok(_) => {}
            // A failed sweep (disk full, locked file) is retried at the next tick.
            Err(e) => tracing::error!("ingest retention sweep failed: {e}"),
        }
    }
}

/// Deletes every sample older than `retention`, a batch per lock of the store.
async fn sweep(state: &AppState, retention: Duration) -> anyhow::Result<u64> {
    let now_ms = SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis() as i64;
    let cutoff_ms = now_ms.saturating_sub(retention.as_millis() as i64);
    let mut total = 0;
    loop {
        let samples = Arc::clone(&state.samples);
        let n = tokio::task::spawn_blocking(move || {
            let mut store = samples.lock().unwrap_or_else(|p| p.into_inner());
            store.sweep_batch_older_than(cutoff_ms)
        })
        .await??;
        total += n;
        if n < SWEEP_BATCH {
            return Ok(total);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interval_is_a_tenth_of_the_retention_within_bounds() {
        assert_eq!(interval(Duration::from_secs(3)), Duration::from_secs(1));
        assert_eq!(interval(Duration::from_secs(600)), Duration::from_secs(60));
        assert_eq!(
            interval(Duration::from_secs(7 * 24 * 3600)),
            Duration::from_secs(3600)
        );
    }
}
