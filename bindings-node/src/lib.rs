//! The `ipocket` npm module: Node-API bindings over the ipocket library crates.
//!
//! A thin layer: every behaviour lives in `ipocket-expfmt`, `ipocket-core`,
//! `ipocket-connectors` and `ipocket-rulegen`; this crate converts arguments and results
//! to JavaScript idioms and maps errors to `Error`s with a stable `code` (see `errors`).
//! The user guide is `docs/node.md`.

pub mod errors;


#[macro_use]
extern crate napi_derive;

pub mod expfmt;
pub mod inventory;
pub mod connectors;
pub mod rulegen;
