//! Getting Prometheus metrics in and out of ipocket.
//!
//! - [`ingest`]: the `POST /metrics/prometheus?server_id=…` semantics as a function: lenient
//!   parsing with [`ipocket_expfmt`], storage into the `metric_samples` table of a
//!   [`SampleStore`] (SQLite or PostgreSQL), a typed [`IngestError`] for every 4xx answer.
//! - [`node_summary`]: CPU, memory, root filesystem, network rates and uptime from two
//!   node_exporter scrapes, read from `metric_samples` by `SampleStore::node_summary`;
//!   [`node_series`] the same over time, for charts.
//! - [`remote_write`]: Prometheus remote-write 1.0 (`WriteRequest`, snappy block format) with
//!   retries on 5xx and 429 only; [`remote_write_queue`] puts a durable, bounded queue in
//!   front of it (the agent's and the server's forwarding).
//! - [`agent`]: scrape exporters, buffer every scrape durably on disk, push in the background.
//! - [`prometheus`]: the Prometheus query connector (seed 000): `/api/v1/query` vector
//!   results → IP assets bundle → core's import engine.
//! - [`liveness`]: which inventory addresses Prometheus sees up, down or not at all, cached
//!   with a TTL and a timeout.
//! - [`range_map`]: one cell per address of a range (unused, up, down, undocumented but
//!   alive), the alive utilization, the addresses the allocator passes over.
//! - [`reconcile`]: the Unknown, Reclaimable and Mismatch lists, with bundles for the import
//!   engine.
//! - [`sd_updater`]: the service-discovery updater (seed 004): inventory → file_sd JSON,
//!   written atomically, every interval.
//! - [`vcenter`]: the vCenter connector (vSphere Automation REST API) → hosts and IP assets.
//! - [`remote`]: a typed client of a remote ipocket server (import dry run / apply, SD
//!   target groups); [`plan_view`] lets dry-run reports read local and remote plans alike.
//!
//! Every request goes through the shared client of `ipocket-http` (hyper + rustls, timeout,
//! Bearer/Basic auth, retries), re-exported here as [`http`].
//!
//! The user guides are `docs/ingest.md`, `docs/agent.md`, `docs/prometheus-connector.md`,
//! `docs/vcenter-connector.md` and `docs/service-discovery.md`.

#![forbid(unsafe_code)]

pub mod agent;
mod delivery;
mod error;
pub mod ingest;
pub mod jobs;
pub mod liveness;
pub mod node_series;
pub mod node_summary;
pub mod plan_view;
pub mod prometheus;
pub mod range_map;
pub mod reconcile;
pub mod remote;
pub mod remote_write;
pub mod remote_write_queue;
mod sample_insert;
pub mod sd_inventory;
pub mod sd_preview;
pub mod sd_updater;
mod store;
pub mod vcenter;

pub use delivery::DeliveryCounters;
pub use error::{IngestError, StoreError};
pub use ingest::{ingest, IngestOptions, IngestRequest, IngestResponse};

pub use node_summary::{NodeSnapshot, NodeSummary};
pub use store::{RegisteredServer, SampleStore, StoredSample, SAMPLES_SCHEMA, SWEEP_BATCH};

/// The user guide, `docs/ingest.md`, whose examples run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../docs/ingest.md")]
pub struct IngestGuide;

/// The user guide, `docs/agent.md`, whose examples run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../docs/agent.md")]
pub struct AgentGuide;

/// The user guide, `docs/prometheus-connector.md`, whose examples run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../docs/prometheus-connector.md")]
pub struct PrometheusConnectorGuide;
