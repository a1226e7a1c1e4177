//! # ipocket-http
//!
//! The one HTTP stack of ipocket, a leaf crate (it depends on no other ipocket crate):
//!
//! - [`client`]: [`HttpClient`], hyper 1 + hyper-util's pooled client over rustls (webpki
//!   roots, an optional CA file, certificate checks off only when asked), a per-attempt
//!   timeout, Bearer or Basic [`Auth`], and retries with backoff for idempotent requests.
//!   The connectors, rulegen's Prometheus lifecycle client, the CLI and the bindings all
//!   reach other servers through it; [`ConnectOptions`] is the shared "token, CA file,
//!   insecure" set their flags fill in.
//! - [`TargetAllowList`]: the hosts and ports a server lets its users' requests reach.
//! - [`server`]: a small HTTP/1.1 serve loop (header timeout, graceful shutdown) for
//!   endpoints such as the agent's `/metrics`.
#![forbid(unsafe_code)]

mod allow;
pub mod client;
pub mod server;

pub use allow::{TargetAllowList, TargetNotAllowed};
pub use client::{Auth, ConnectOptions, HttpClient, HttpError, HttpResponse};
pub use hyper::body::Bytes;
pub use hyper::{Method, Uri};
