//! `ipocket._native`: the extension module under the `ipocket` Python package.
//!
//! A thin layer over the library crates: `expfmt` (parser, encoder), `inventory`
//! (`ipocket_core::Inventory`), `connectors` (Prometheus, vCenter, service discovery),
//! `liveness` (liveness and reconciliation) and `rulegen`. Every error is mapped in
//! `errors`; async work runs on the shared runtime in `runtime` with the GIL released.

mod connectors;
mod errors;
mod expfmt;
mod expfmt_objects;
mod import_plan;
mod inventory;
mod liveness;
mod remote;
mod rulegen;
mod runtime;

use pyo3::prelude::*;

/// The native part of the `ipocket` package (import `ipocket`, not this module).
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    expfmt::register(m)?;
    inventory::register(m)?;
    import_plan::register(m)?;
    connectors::register(m)?;
    liveness::register(m)?;
    remote::register(m)?;
    rulegen::register(m)?;
    Ok(())
}
