//! Handlers, one module per resource. Each checks who asks, calls a library crate, answers.

pub(crate) mod alerting;
pub(crate) mod api_tokens;
pub(crate) mod assets;
pub(crate) mod catalog;
pub(crate) mod connectors;
pub(crate) mod data_ops;
pub(crate) mod ingest;
pub(crate) mod liveness;
pub(crate) mod previews;
pub(crate) mod prometheus_rules;
pub(crate) mod range_map;
pub(crate) mod session;
pub(crate) mod system;
pub(crate) mod users;

use hyper::Response;

use super::errors::ApiError;
use super::http::Body;

/// What every handler returns.
pub(crate) type Answer = Result<Response<Body>, ApiError>;
