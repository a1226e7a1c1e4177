//! The one tokio runtime that every network call of the bindings runs on.

use std::future::Future;
use std::sync::OnceLock;

use pyo3::prelude::*;
use tokio::runtime::Runtime;

/// Two workers: the calls are I/O-bound and the machine small; made on first use.
fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("ipocket-py")
            .enable_all()
            .build()
            .expect("a tokio runtime can be built (threads and timers)")
    })
}

/// Runs `f()`'s future to completion on the shared runtime with the GIL released, so other
/// Python threads go on while the request is in flight.
pub(crate) fn block_on<F, Fut, T>(py: Python<'_>, f: F) -> T
where
    F: FnOnce() -> Fut + Send,
    Fut: Future<Output = T>,
    T: Send,
{
    py.detach(|| runtime().block_on(f()))
}
