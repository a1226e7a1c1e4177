//! `ipocket serve` end to end: the real binary on 127.0.0.1 (port 0), a real SQLite file in a
//! temp dir, requests over plain TCP (HTTP/1.1). One test binary, one module per area; the
//! shared fixtures are in `common`.

mod common;

mod alerting;
mod api_shapes;
mod api_tokens;
mod assets;
mod auth;
mod bmc_and_compat;
mod catalog;
mod connectors;
mod data_ops;
mod ingest;
mod input_limits;
mod limits;
mod liveness;
mod openapi;
mod previews;
mod range_map;
mod remote_write;
mod replicas_pg;
mod rules_auto;
mod sd_metrics;
mod sessions;
