//! `ipocket.connectors.RemoteInventory`: a remote ipocket server's import API (dry run and
//! apply), for the connectors' `--ipocket-url` mode. The HTTP work runs on the shared
//! runtime with the GIL released.

use std::path::PathBuf;
use std::time::Duration;

use ipocket_connectors::remote::{RemoteInventory, RemoteOptions, RemotePlan};
use ipocket_core::ApplyReport;
use pyo3::prelude::*;
use pythonize::depythonize;
use serde_json::Value;

use crate::errors::{self, OrPy};
use crate::inventory::to_py;
use crate::runtime::block_on;

/// A remote ipocket server (`ipocket serve`): `plan(bundle)` asks for a dry run,
/// `apply(bundle)` imports in one transaction on the server (an Editor's token).
#[pyclass(frozen, module = "ipocket.connectors", name = "RemoteInventory")]
pub(crate) struct PyRemoteInventory {
    pub(crate) server: RemoteInventory,
}

#[pymethods]
impl PyRemoteInventory {
    /// `url` is the server's base URL; `token` a login token (`POST /api/v1/auth/login`).
    #[new]
    #[pyo3(signature = (url, token=None, *, timeout=30.0, insecure=false, ca_file=None))]
    fn new(
        py: Python<'_>,
        url: &str,
        token: Option<String>,
        timeout: f64,
        insecure: bool,
        ca_file: Option<PathBuf>,
    ) -> PyResult<Self> {
        if !(timeout > 0.0 && timeout.is_finite()) {
            return Err(errors::invalid(
                py,
                "timeout",
                "must be a positive number of seconds",
            ));
        }
        let options = RemoteOptions {
            timeout: Duration::from_secs_f64(timeout),
            insecure,
            ca_file,
            ..RemoteOptions::default()
        };
        let token = token.filter(|t| !t.trim().is_empty());
        let server = RemoteInventory::new(url, token.as_deref(), &options)
            .or_py(py, errors::remote_error)?;
        Ok(PyRemoteInventory { server })
    }

    /// The server's dry run of `bundle` (a bundle `dict`, as `bundle()` of a connector
    /// returns); nothing is written.
    fn plan(&self, py: Python<'_>, bundle: &Bound<'_, PyAny>) -> PyResult<PyRemotePlan> {
        let bundle = bundle_arg(py, bundle)?;
        let plan = block_on(py, || self.server.plan(&bundle)).or_py(py, errors::remote_error)?;
        Ok(PyRemotePlan {
            plan,
            applied: None,
        })
    }

    /// Imports `bundle` on the server in one transaction; the result carries the plan
    /// the server ran and its report (`applied`).
    fn apply(&self, py: Python<'_>, bundle: &Bound<'_, PyAny>) -> PyResult<PyRemotePlan> {
        let bundle = bundle_arg(py, bundle)?;
        let done = block_on(py, || self.server.apply(&bundle)).or_py(py, errors::remote_error)?;
        Ok(PyRemotePlan {
            plan: done.plan,
            applied: Some(done.report),
        })
    }

    fn __repr__(&self) -> String {
        format!("RemoteInventory({:?})", self.server.base_url())
    }
}

fn bundle_arg(py: Python<'_>, bundle: &Bound<'_, PyAny>) -> PyResult<Value> {
    depythonize(bundle).map_err(|e| errors::invalid(py, "bundle", e))
}

/// A plan computed by a remote server, and its apply report when it was applied.
#[pyclass(frozen, module = "ipocket.connectors", name = "RemotePlan")]
pub(crate) struct PyRemotePlan {
    pub(crate) plan: RemotePlan,
    applied: Option<ApplyReport>,
}

#[pymethods]
impl PyRemotePlan {
    /// Create/update/skip counts per entity, as `ImportPlan.summary`.
    #[getter]
    fn summary<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.plan.summary)
    }

    /// The server's apply report (`import_run_audit_id`…), `None` for a dry run.
    #[getter]
    fn applied<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.applied.as_ref().map(|r| to_py(py, r)).transpose()
    }

    /// The plan as the engine serialises it (as `ImportPlan.to_dict()`).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.plan)
    }

    fn __repr__(&self) -> String {
        let s = self.plan.summary.ip_assets;
        format!(
            "RemotePlan(ip_assets: create={}, update={}, skip={}, applied={})",
            s.create,
            s.update,
            s.skip,
            self.applied.is_some()
        )
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyRemoteInventory>()?;
    m.add_class::<PyRemotePlan>()?;
    Ok(())
}
