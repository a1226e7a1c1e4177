//! Shared test support for the ipocket crates, used as a `[dev-dependencies]` entry.
//!
//! - [`peer`]: Debian's real Prometheus and node_exporter on 127.0.0.1 with free ports
//!   (plain, or behind TLS and Basic auth), stopped on drop; fails loudly when missing.
//! - [`liveness`]: node_exporter and Prometheus with relabelled loopback targets (up, down,
//!   never up, undocumented) and the inventory that goes with them.
//! - [`postgres`]: Debian's real PostgreSQL on 127.0.0.1 in a temporary folder (as the
//!   `postgres` user when run as root), a fresh database per test; fails loudly when missing.
//! - [`rules`]: a Prometheus that loads a rule folder, and `promtool check rules`.
//! - [`http_server`]: a hyper http1 server on its own thread, and the ingest test server.
//! - [`stub`]: a canned-answer HTTP server (auth, delays, error statuses).
//! - [`tls_proxy`]: HTTPS (optionally mutual TLS) in front of a plain-HTTP test server.
//! - [`vcenter`]: a tiny vSphere Automation REST stand-in.
//! - [`serve_addr`]: the address `ipocket serve` prints.
//! - [`data`]: paths of the shared test data.
//! - `browser` (feature `browser`): headless Chromium through chromedriver, for UI tests.
//!
//! It depends on no ipocket crate, so every crate of the workspace can use it.
#![forbid(unsafe_code)]

#[cfg(feature = "browser")]
pub mod browser;
pub mod data;
pub mod http_server;
pub mod liveness;
pub mod peer;
pub mod postgres;
pub mod rules;
pub mod serve_addr;
pub mod stub;
pub mod tls_proxy;
pub mod vcenter;

/// A current-thread tokio runtime with I/O and timers, for tests that call async code.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}
