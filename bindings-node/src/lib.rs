//! The `ipocket` npm module: Node-API bindings over the ipocket library crates.
//!
//! A thin layer: every behaviour lives in `ipocket-expfmt`, `ipocket-core`,
//! `ipocket-connectors` and `ipocket-rulegen`; this crate converts arguments and results
//! to JavaScript idioms and maps errors to `Error`s with a stable `code` (see `errors`).
//! The user guide is `docs/node.md`.

// `JsFailure` carries every located field a JavaScript error may need (line, column,
// issues, cause…); it is only built on the failure path, right before it is thrown, so its
// size does not matter.
#![allow(clippy::result_large_err)]

pub mod errors;

#[macro_use]
extern crate napi_derive;

pub mod columns;
pub mod connectors;
pub mod expfmt;
pub mod inventory;
pub mod liveness;
pub mod rulegen;
