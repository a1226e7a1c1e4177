//! Security events (failed logins, lockouts, refused requests) on their way to the audit log.
//! A request only queues its event; one writer task at a time writes everything queued in
//! one transaction. So a login storm becomes a few batched writes, and a failed login never
//! waits for the writer (an import apply may hold it for seconds).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use ipocket_core::{SecurityEvent, User};

use crate::AppState;

/// Events waiting beyond this are dropped (and counted on standard error): memory stays
/// bounded if the database cannot keep up.
const MAX_PENDING: usize = 10_000;

#[derive(Default)]
pub(crate) struct SecurityLog {
    /// Waiting events, and whether a writer task is running.
    pending: Mutex<(Vec<SecurityEvent>, bool)>,
    dropped: AtomicU64,
}

impl SecurityLog {
    /// Queues `event`; starts a writer unless one runs.
    pub(crate) fn push(&self, state: &AppState, event: SecurityEvent) {
        let start = {
            let mut p = self.pending.lock().unwrap_or_else(|p| p.into_inner());
            if p.0.len() >= MAX_PENDING {
                let n = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
                if n.is_power_of_two() {
                    tracing::error!("{n} security events not audited (queue full)");
                }
                return;
            }
            p.0.push(event);
            !std::mem::replace(&mut p.1, true)
        };
        if let (true, Some(state)) = (start, state.me.upgrade()) {
            tokio::spawn(write_all(state));
        }
    }

    /// A refused request of a logged-in user.
    pub(crate) fn forbidden(&self, state: &AppState, user: &User, what: String) {
        self.push(
            state,
            SecurityEvent::Forbidden {
                user: user.clone(),
                what,
            },
        );
    }

    /// Takes the queue, or marks the writer stopped when it is empty (under one lock, so an
    /// event pushed meanwhile is never left without a writer).
    fn take(&self) -> Vec<SecurityEvent> {
        let mut p = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        if p.0.is_empty() {
            p.1 = false;
        }
        std::mem::take(&mut p.0)
    }
}

async fn write_all(state: Arc<AppState>) {
    loop {
        let batch = state.security.take();
        if batch.is_empty() {
            return;
        }
        let n = batch.len();
        let written = state
            .with_inventory(move |inv| inv.record_security_events(&batch))
            .await;
        if written.is_err() {
            tracing::error!("{n} security events could not be audited");
        }
    }
}
