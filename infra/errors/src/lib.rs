//! The one classification of ipocket's errors.
//!
//! Every library error type of ipocket implements [`Classify`]: its `kind()` answers with an
//! [`ErrorKind`].
//! Each front end maps kinds in one table: the server to an HTTP status, Python to an
//! exception class, Node to an error `code`. So the same failure is the same kind
//! everywhere, and a new error variant needs only its `kind()` arm.
//!
//! [`ApiErrorCode`] is the vocabulary of the HTTP API's error answers
//! (`{"error":{"code":…}}`), shared by the server that writes them and the client
//! (`ipocket_connectors::remote`) that reads them.
//!
//! This crate depends on nothing, so every crate of ours can use it.

#![forbid(unsafe_code)]

mod api_code;
mod kind;

pub use api_code::ApiErrorCode;
pub use kind::{Classify, ErrorKind};
