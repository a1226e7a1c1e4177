//! `ipocket.connectors`: the Prometheus and vCenter connectors and the file_sd writer.
//!
//! Each connector call fetches on the shared runtime with the GIL released and returns an
//! object whose `bundle()` is the import bundle, `plan(inventory)` the engine's dry run
//! and (Prometheus) `dry_run_report(plan)` the original's log lines.

use std::path::PathBuf;
use std::time::Duration;

use ipocket_connectors::prometheus::{self, Extraction, PrometheusOptions};
use ipocket_connectors::sd_updater::{write_cycle, SdUpdaterConfig};
use ipocket_connectors::vcenter::{self, Collection, VcenterOptions};
use ipocket_http::Auth;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::errors::{self, OrPy};
use crate::inventory::{asset_type_arg, sd_options, to_py, PyImportPlan, PyInventory};
use crate::remote::{PyRemoteInventory, PyRemotePlan};
use crate::runtime::block_on;

pub(crate) fn timeout_arg(py: Python<'_>, seconds: f64) -> PyResult<Duration> {
    if seconds > 0.0 && seconds.is_finite() {
        Ok(Duration::from_secs_f64(seconds))
    } else {
        Err(errors::invalid(
            py,
            "timeout",
            "must be a positive number of seconds",
        ))
    }
}

/// Runs one instant query and extracts the addresses of `ip_label` (seed 000's rules:
/// `host:port` → host, loopback and bad values skipped with warnings, duplicates once).
///
/// `token` is a Bearer token, or `user:password` for Basic auth.
#[pyfunction]
#[pyo3(signature = (prometheus_url, query, ip_label, *, asset_type="OTHER", project_name=None, tags=None, token=None, insecure=false, ca_file=None, timeout=30.0, keep_ipv6=false, retries=2))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn prometheus_fetch(
    py: Python<'_>,
    prometheus_url: &str,
    query: &str,
    ip_label: &str,
    asset_type: &str,
    project_name: Option<String>,
    tags: Option<Vec<String>>,
    token: Option<String>,
    insecure: bool,
    ca_file: Option<PathBuf>,
    timeout: f64,
    keep_ipv6: bool,
    retries: usize,
) -> PyResult<PrometheusExtraction> {
    let mut opts = PrometheusOptions::new(prometheus_url, query, ip_label);
    opts.asset_type = asset_type_arg(py, asset_type)?;
    opts.project_name = project_name.filter(|p| !p.trim().is_empty());
    opts.tags = tags.unwrap_or_default();
    opts.auth = token
        .filter(|t| !t.is_empty())
        .map(|t| Auth::from_token(&t));
    opts.insecure = insecure;
    opts.ca_file = ca_file;
    opts.timeout = timeout_arg(py, timeout)?;
    opts.keep_ipv6 = keep_ipv6;
    opts.retries = retries;
    let extraction =
        block_on(py, || prometheus::fetch(&opts)).or_py(py, errors::prometheus_connector_error)?;
    Ok(PrometheusExtraction { extraction, opts })
}

/// What one Prometheus query gave: the addresses found and the warnings.
#[pyclass(frozen, module = "ipocket.connectors", name = "PrometheusExtraction")]
pub(crate) struct PrometheusExtraction {
    extraction: Extraction,
    opts: PrometheusOptions,
}

#[pymethods]
impl PrometheusExtraction {
    /// How many samples the vector result had.
    #[getter]
    fn samples(&self) -> usize {
        self.extraction.samples
    }

    /// The addresses, in result order: `[{"ip", "metric", "value", "sample"}]`.
    #[getter]
    fn ips<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let items = self
            .extraction
            .ips
            .iter()
            .map(|x| {
                let d = PyDict::new(py);
                d.set_item("ip", &x.ip)?;
                d.set_item("metric", &x.metric)?;
                d.set_item("value", &x.value)?;
                d.set_item("sample", x.sample)?;
                Ok(d)
            })
            .collect::<PyResult<Vec<_>>>()?;
        PyList::new(py, items)
    }

    /// Soft problems (missing label, not an address, loopback, duplicate).
    #[getter]
    fn warnings(&self) -> Vec<String> {
        self.extraction.warnings.clone()
    }

    /// The import bundle (`schema_version` "1") exactly as seed 000 maps it.
    fn bundle<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.extraction.bundle_json(&self.opts))
    }

    /// The engine's dry run against `inventory` (projects must exist already).
    fn plan(&self, py: Python<'_>, inventory: PyRef<'_, PyInventory>) -> PyResult<PyImportPlan> {
        let inv: &PyInventory = &inventory;
        let plan = py
            .detach(|| self.extraction.plan(&inv.inventory(), &self.opts))
            .or_py(py, errors::prometheus_connector_error)?;
        Ok(PyImportPlan::new(plan))
    }

    /// The original's dry-run log lines: IP preview, per-IP CREATE/UPDATE/SKIP with
    /// field diffs, warnings and the summary; `plan` is a local `ImportPlan` or a
    /// `RemotePlan` of a server.
    fn dry_run_report(&self, plan: &Bound<'_, PyAny>) -> PyResult<Vec<String>> {
        if let Ok(local) = plan.cast::<PyImportPlan>() {
            return Ok(prometheus::dry_run_report(
                &self.extraction,
                &local.get().plan,
            ));
        }
        let remote = plan.cast::<PyRemotePlan>()?;
        Ok(prometheus::dry_run_report(
            &self.extraction,
            &remote.get().plan,
        ))
    }

    /// The lines of an applied import: `dry_run_report`'s worded as done, ending with the
    /// import run's audit entry `audit_id`.
    fn apply_report(&self, plan: &Bound<'_, PyAny>, audit_id: i64) -> PyResult<Vec<String>> {
        if let Ok(local) = plan.cast::<PyImportPlan>() {
            return Ok(prometheus::apply_report(
                &self.extraction,
                &local.get().plan,
                audit_id,
            ));
        }
        let remote = plan.cast::<PyRemotePlan>()?;
        Ok(prometheus::apply_report(
            &self.extraction,
            &remote.get().plan,
            audit_id,
        ))
    }

    fn __repr__(&self) -> String {
        format!(
            "PrometheusExtraction(samples={}, ips={}, warnings={})",
            self.extraction.samples,
            self.extraction.ips.len(),
            self.extraction.warnings.len()
        )
    }
}

/// Logs in to vCenter (vSphere Automation REST API) and collects ESXi hosts and VMs with
/// their guest addresses.
#[pyfunction]
#[pyo3(signature = (server, username, password, *, insecure=false, ca_file=None, timeout=30.0))]
pub(crate) fn vcenter_collect(
    py: Python<'_>,
    server: String,
    username: String,
    password: String,
    insecure: bool,
    ca_file: Option<PathBuf>,
    timeout: f64,
) -> PyResult<VcenterCollection> {
    let opts = VcenterOptions {
        server,
        username,
        password,
        insecure,
        ca_file,
        timeout: timeout_arg(py, timeout)?,
        resolve_timeout: vcenter::DEFAULT_RESOLVE_TIMEOUT,
    };
    let collection = block_on(py, || vcenter::collect(&opts)).or_py(py, errors::vcenter_error)?;
    Ok(VcenterCollection { collection })
}

/// What one vCenter run collected.
#[pyclass(frozen, module = "ipocket.connectors", name = "VcenterCollection")]
pub(crate) struct VcenterCollection {
    collection: Collection,
}

#[pymethods]
impl VcenterCollection {
    /// ESXi hosts: `[{"id", "name"}]`.
    #[getter]
    fn hosts<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let items = self
            .collection
            .hosts
            .iter()
            .map(|h| {
                let d = PyDict::new(py);
                d.set_item("id", &h.id)?;
                d.set_item("name", &h.name)?;
                Ok(d)
            })
            .collect::<PyResult<Vec<_>>>()?;
        PyList::new(py, items)
    }

    /// VMs: `[{"id", "name", "host_name", "ips"}]`.
    #[getter]
    fn vms<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let items = self
            .collection
            .vms
            .iter()
            .map(|v| {
                let d = PyDict::new(py);
                d.set_item("id", &v.id)?;
                d.set_item("name", &v.name)?;
                d.set_item("host_name", &v.host_name)?;
                d.set_item("ips", &v.ips)?;
                Ok(d)
            })
            .collect::<PyResult<Vec<_>>>()?;
        PyList::new(py, items)
    }

    /// Soft problems while collecting.
    #[getter]
    fn warnings(&self) -> Vec<String> {
        self.collection.warnings.clone()
    }

    /// The import bundle and the mapping warnings.
    fn bundle<'py>(&self, py: Python<'py>) -> PyResult<(Bound<'py, PyAny>, Vec<String>)> {
        let (bundle, warnings) = self.collection.bundle_json();
        Ok((to_py(py, &bundle)?, warnings))
    }

    /// The engine's dry run against `inventory`.
    fn plan(&self, py: Python<'_>, inventory: PyRef<'_, PyInventory>) -> PyResult<PyImportPlan> {
        let inv: &PyInventory = &inventory;
        let plan = py
            .detach(|| self.collection.plan(&inv.inventory()))
            .or_py(py, errors::vcenter_error)?;
        Ok(PyImportPlan::new(plan))
    }
}

/// Writes the file_sd targets of an inventory to `targets_file` atomically (seed 004), only
/// when they changed. `source` is an inventory file or a `RemoteInventory` (a server's
/// `/api/v1/sd`, as `ipocket sd write --inventory-url`). Returns
/// `{"groups", "targets", "written"}`.
#[pyfunction]
#[pyo3(signature = (source, targets_file, *, port=9100, metrics_path=Some("/metrics".to_string()), projects=None, types=None, tags=None, only_assigned=false, group_by="none", meta_labels=true, labels=None))]
#[pyo3(
    text_signature = "(source, targets_file, *, port=9100, metrics_path='/metrics', projects=None, types=None, tags=None, only_assigned=False, group_by='none', meta_labels=True, labels=None)"
)]
#[allow(clippy::too_many_arguments)]
pub(crate) fn sd_write<'py>(
    py: Python<'py>,
    source: &Bound<'py, PyAny>,
    targets_file: PathBuf,
    port: u16,
    metrics_path: Option<String>,
    projects: Option<Vec<String>>,
    types: Option<Vec<String>>,
    tags: Option<Vec<String>>,
    only_assigned: bool,
    group_by: &str,
    meta_labels: bool,
    labels: Option<std::collections::BTreeMap<String, String>>,
) -> PyResult<Bound<'py, PyDict>> {
    let mut cfg = match source.cast::<PyRemoteInventory>() {
        Ok(remote) => SdUpdaterConfig::remote(remote.get().server.clone(), &targets_file),
        Err(_) => SdUpdaterConfig::new(&source.extract::<PathBuf>()?, &targets_file),
    };
    cfg.sd = sd_options(
        py,
        port,
        metrics_path,
        projects,
        types,
        tags,
        only_assigned,
        group_by,
        meta_labels,
        labels,
    )?;
    let r = block_on(py, || write_cycle(&cfg)).or_py(py, errors::sd_error)?;
    let d = PyDict::new(py);
    d.set_item("groups", r.groups)?;
    d.set_item("targets", r.targets)?;
    d.set_item("written", r.written)?;
    Ok(d)
}

/// Writes `data` to `path` the way ipocket writes every file others read (docs/files.md):
/// temp file beside the target, fsync, rename, folder fsync; a symlink followed, a device
/// refused, owner and mode kept (0644 when new), the same bytes not rewritten. Returns
/// `"created"`, `"updated"` or `"unchanged"`; raises `InvalidInputError` for a path that is
/// not a regular file, `InternalError` when the file system fails.
#[pyfunction]
pub(crate) fn write_file(py: Python<'_>, path: PathBuf, data: &[u8]) -> PyResult<&'static str> {
    match py.detach(|| ipocket_files::write(&path, data)) {
        Ok(ipocket_files::Outcome::Created) => Ok("created"),
        Ok(ipocket_files::Outcome::Updated) => Ok("updated"),
        Ok(ipocket_files::Outcome::Unchanged) => Ok("unchanged"),
        Err(e) => Err(errors::write_error(py, e)),
    }
}

/// Registers the connector classes and functions on `m`.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PrometheusExtraction>()?;
    m.add_class::<VcenterCollection>()?;
    m.add_function(wrap_pyfunction!(prometheus_fetch, m)?)?;
    m.add_function(wrap_pyfunction!(vcenter_collect, m)?)?;
    m.add_function(wrap_pyfunction!(sd_write, m)?)?;
    m.add_function(wrap_pyfunction!(write_file, m)?)?;
    Ok(())
}
