//! Password checks (logins, own-password changes) run on a few threads of their own, each
//! with its own reading connection and argon2 working memory kept between checks. Argon2
//! needs 19 MiB per check: run on the shared blocking pool, every thread's allocator arena
//! kept its own copy and a login storm grew the process by gigabytes. Here the memory is
//! `workers × 19 MiB`, allocated once, and work beyond the queue is refused with 503.

use std::panic::AssertUnwindSafe;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};

use ipocket_core::{Inventory, PasswordMemory};

use crate::errors::ApiError;

type Job = Box<dyn FnOnce(&Inventory, &mut PasswordMemory) + Send>;

pub(crate) struct PasswordWorkers {
    jobs: SyncSender<Job>,
}

impl PasswordWorkers {
    /// One worker thread per connection; at most `queue` checks wait for a worker.
    pub(crate) fn start(connections: Vec<Inventory>, queue: usize) -> std::io::Result<Self> {
        let (jobs, rx) = sync_channel::<Job>(queue);
        let rx = Arc::new(Mutex::new(rx));
        for (i, inv) in connections.into_iter().enumerate() {
            let rx = Arc::clone(&rx);
            std::thread::Builder::new()
                .name(format!("ipocket-password-{i}"))
                .spawn(move || work(&inv, &rx))?;
        }
        Ok(PasswordWorkers { jobs })
    }

    /// Runs `f` on a worker; `server_busy` (503) at once when the queue is full.
    pub(crate) async fn run<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&Inventory, &mut PasswordMemory) -> ipocket_core::Result<T> + Send + 'static,
    {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |inv, mem| {
            let _ = tx.send(f(inv, mem));
        });
        match self.jobs.try_send(job) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => return Err(ApiError::busy("password checks")),
            Err(TrySendError::Disconnected(_)) => return Err(ApiError::internal()),
        }
        match rx.await {
            Ok(r) => r.map_err(ApiError::from),
            Err(_) => Err(ApiError::internal()),
        }
    }
}

fn work(inv: &Inventory, rx: &Mutex<Receiver<Job>>) {
    let mut mem = PasswordMemory::default();
    loop {
        let job = match rx.lock() {
            Ok(r) => r.recv(),
            Err(p) => p.into_inner().recv(),
        };
        let Ok(job) = job else { return };
        // A panicking check answers 500 (its sender is dropped); the worker stays.
        let _ = std::panic::catch_unwind(AssertUnwindSafe(|| job(inv, &mut mem)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn checks_beyond_the_workers_and_the_queue_are_refused() {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let pool = Arc::new(
                PasswordWorkers::start(vec![Inventory::open_in_memory().unwrap()], 1).unwrap(),
            );
            let (release, gate) = std::sync::mpsc::channel::<()>();
            let gate = Arc::new(Mutex::new(gate));
            let blocked = |pool: &Arc<PasswordWorkers>| {
                let (pool, gate) = (Arc::clone(pool), Arc::clone(&gate));
                tokio::spawn(async move {
                    pool.run(move |_, _| {
                        let _ = gate.lock().unwrap().recv();
                        Ok(1)
                    })
                    .await
                })
            };
            // One running, one queued: the third is refused at once.
            let running = blocked(&pool);
            tokio::time::sleep(Duration::from_millis(100)).await;
            let queued = blocked(&pool);
            tokio::time::sleep(Duration::from_millis(100)).await;
            let refused = pool.run(|_, _| Ok(3)).await.unwrap_err();
            assert_eq!(refused.status, 503);
            assert_eq!(refused.retry_after, Some(1));
            release.send(()).unwrap();
            release.send(()).unwrap();
            assert_eq!(running.await.unwrap().unwrap(), 1);
            assert_eq!(queued.await.unwrap().unwrap(), 1);
            // A panic answers 500 and the worker goes on.
            let e = pool
                .run(|_, _| -> ipocket_core::Result<()> { panic!("boom") })
                .await;
            assert_eq!(e.unwrap_err().status, 500);
            assert_eq!(pool.run(|_, _| Ok(4)).await.unwrap(), 4);
        });
    }
}
