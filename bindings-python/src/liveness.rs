//! `ipocket.liveness` and `ipocket.reconcile`: what Prometheus sees, beside the inventory
//! (`ipocket_connectors::{liveness, reconcile}`, the functions behind `ipocket liveness` and
//! `ipocket reconcile`; docs/liveness.md).
//!
//! The inventory is a file path or an `Inventory`. Prometheus is asked on the shared runtime
//! with the GIL released; an unreachable Prometheus is an answer (`reachable: False`, every
//! documented address `unknown`, every list empty), not an exception. The lists are planned
//! and applied through the one import engine, audited as the CLI's `--apply` does.

use std::path::PathBuf;
use std::time::Duration;

use ipocket_connectors::liveness::{
    inventory_assets, join, observe, parse_span, LivenessOptions, Observations,
};
use ipocket_connectors::reconcile::{
    reconcile as reconcile_lists, ReconcileList, ReconcileOptions,
};
use ipocket_core::{Actor, ImportOptions, Inventory, IpAsset};
use ipocket_http::Auth;
use pyo3::prelude::*;

use crate::connectors::timeout_arg;
use crate::errors::{self, OrPy};
use crate::inventory::{asset_type_arg, to_py, PyImportPlan, PyInventory};
use crate::runtime::block_on;

/// Where the assets come from.
enum Source {
    /// No inventory: every address Prometheus knows is undocumented.
    Nothing,
    /// An inventory file (opened for each read; never created).
    Path(PathBuf),
    /// An open `Inventory`.
    Open(Py<PyInventory>),
}

impl Source {
    fn from_arg(py: Python<'_>, arg: &Bound<'_, PyAny>) -> PyResult<Source> {
        if arg.is_none() {
            return Ok(Source::Nothing);
        }
        if let Ok(inv) = arg.cast::<PyInventory>() {
            return Ok(Source::Open(inv.clone().unbind()));
        }
        let path: PathBuf = arg.extract().map_err(|_| {
            errors::invalid(py, "inventory", "expected a path, an Inventory or None")
        })?;
        // Opening a missing file would create an empty inventory: a mistyped path would
        // look like an inventory with nothing documented.
        if !path.exists() {
            return Err(errors::core_error(
                py,
                ipocket_core::Error::NotFound {
                    entity: "inventory",
                    key: path.display().to_string(),
                },
            ));
        }
        Ok(Source::Path(path))
    }

    /// Runs `f` on the inventory with the GIL released.
    fn with<T: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&mut Inventory) -> ipocket_core::Result<T> + Send,
    ) -> PyResult<T> {
        match self {
            Source::Nothing => Err(errors::invalid(
                py,
                "inventory",
                "this needs the inventory: a path or an Inventory",
            )),
            Source::Path(path) => py
                .detach(|| f(&mut Inventory::open(path)?))
                .or_py(py, errors::core_error),
            Source::Open(inv) => {
                let inv = inv.bind(py).borrow();
                let inv: &PyInventory = &inv;
                py.detach(|| f(&mut inv.inventory()))
                    .or_py(py, errors::core_error)
            }
        }
    }

    /// Every asset, archived ones too (none without an inventory).
    fn assets(&self, py: Python<'_>) -> PyResult<Vec<IpAsset>> {
        if matches!(self, Source::Nothing) {
            return Ok(Vec::new());
        }
        self.with(py, |inv| inventory_assets(inv))
    }
}

/// The liveness keywords both functions take, as the library's options.
#[allow(clippy::too_many_arguments)]
fn liveness_options(
    py: Python<'_>,
    prometheus_url: &str,
    token: Option<String>,
    insecure: bool,
    ca_file: Option<PathBuf>,
    timeout: f64,
    ip_label: &str,
    keep_ipv6: bool,
    matchers: &str,
    window: &str,
    step: &str,
    probes: bool,
) -> PyResult<LivenessOptions> {
    let mut o = LivenessOptions::new(prometheus_url);
    o.auth = token
        .filter(|t| !t.is_empty())
        .map(|t| Auth::from_token(&t));
    o.insecure = insecure;
    o.ca_file = ca_file;
    o.timeout = timeout_arg(py, timeout)?;
    if ip_label.trim().is_empty() {
        return Err(errors::invalid(py, "ip_label", "must not be empty"));
    }
    o.ip_label = ip_label.to_string();
    o.keep_ipv6 = keep_ipv6;
    o.matchers = matchers.to_string();
    o.window = parse_span(window).map_err(|e| errors::invalid(py, "window", e))?;
    o.step = parse_span(step).map_err(|e| errors::invalid(py, "step", e))?;
    if o.window < o.step {
        return Err(errors::invalid(py, "window", "must be at least the step"));
    }
    o.probes = probes;
    Ok(o)
}

/// Asks Prometheus with the GIL released: `Err(text)` when it could not be asked.
fn ask(py: Python<'_>, opts: &LivenessOptions) -> PyResult<Result<Observations, String>> {
    block_on(py, || observe(opts)).or_py(py, errors::prometheus_connector_error)
}

/// The state of every inventory address and of every address Prometheus knows: `up`,
/// `down`, `not_scraped` or (Prometheus unreachable) `unknown`, with "last seen up", jobs and
/// instances. `inventory` is a path, an `Inventory` or `None` (every address undocumented).
///
/// Returns `{"prometheus": {"reachable", "fetched_at", "error"}, "addresses": [{"ip",
/// "state", "last_seen_up", "jobs", "instances", "documented"}], "warnings"}`. Raises
/// `InvalidInputError` for a bad argument, never for Prometheus's own failures.
#[pyfunction]
#[pyo3(signature = (inventory, prometheus_url, *, token=None, insecure=false, ca_file=None, timeout=5.0, ip_label="instance", keep_ipv6=false, matchers="", window="30d", step="5m", probes=false))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn liveness<'py>(
    py: Python<'py>,
    inventory: &Bound<'py, PyAny>,
    prometheus_url: &str,
    token: Option<String>,
    insecure: bool,
    ca_file: Option<PathBuf>,
    timeout: f64,
    ip_label: &str,
    keep_ipv6: bool,
    matchers: &str,
    window: &str,
    step: &str,
    probes: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let opts = liveness_options(
        py,
        prometheus_url,
        token,
        insecure,
        ca_file,
        timeout,
        ip_label,
        keep_ipv6,
        matchers,
        window,
        step,
        probes,
    )?;
    let assets = Source::from_arg(py, inventory)?.assets(py)?;
    let obs = ask(py, &opts)?;
    let report = py.detach(|| join(&obs, &assets));
    to_py(py, &report)
}

/// The three reconciliation lists of `inventory` (a path or an `Inventory`): Unknown
/// (alive, undocumented), Reclaimable (not scraped, or down for more than `down_days`) and
/// Mismatch (labels that disagree, targets never up). Takes the keywords of `liveness`; the
/// window is widened to `down_days` at least.
#[pyfunction]
#[pyo3(signature = (inventory, prometheus_url, *, token=None, insecure=false, ca_file=None, timeout=5.0, ip_label="instance", keep_ipv6=false, matchers="", window="30d", step="5m", probes=false, down_days=30.0, project_label="project", type_label="type", host_label="host", asset_type="OTHER", project=None))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn reconcile(
    py: Python<'_>,
    inventory: &Bound<'_, PyAny>,
    prometheus_url: &str,
    token: Option<String>,
    insecure: bool,
    ca_file: Option<PathBuf>,
    timeout: f64,
    ip_label: &str,
    keep_ipv6: bool,
    matchers: &str,
    window: &str,
    step: &str,
    probes: bool,
    down_days: f64,
    project_label: &str,
    type_label: &str,
    host_label: &str,
    asset_type: &str,
    project: Option<String>,
) -> PyResult<PyReconciliation> {
    let mut opts = liveness_options(
        py,
        prometheus_url,
        token,
        insecure,
        ca_file,
        timeout,
        ip_label,
        keep_ipv6,
        matchers,
        window,
        step,
        probes,
    )?;
    if !(down_days >= 0.0 && down_days.is_finite() && down_days <= 3650.0) {
        return Err(errors::invalid(
            py,
            "down_days",
            "must be a number of days from 0 to 3650",
        ));
    }
    let ropts = ReconcileOptions {
        down_after: Duration::from_secs_f64(down_days * 86_400.0),
        project_label: project_label.to_string(),
        type_label: type_label.to_string(),
        host_label: host_label.to_string(),
        asset_type: asset_type_arg(py, asset_type)?,
        project: project.filter(|p| !p.trim().is_empty()),
    };
    ropts.fit(&mut opts);
    let source = Source::from_arg(py, inventory)?;
    if matches!(source, Source::Nothing) {
        return Err(errors::invalid(
            py,
            "inventory",
            "reconciliation needs the inventory: a path or an Inventory",
        ));
    }
    let assets = source.assets(py)?;
    let obs = ask(py, &opts)?;
    let lists = py.detach(|| reconcile_lists(&obs, &assets, &ropts));
    Ok(PyReconciliation {
        lists,
        opts: ropts,
        source,
    })
}

/// The three lists of one reconciliation, and the dry run and apply of Unknown and
/// Reclaimable through the import engine.
#[pyclass(frozen, module = "ipocket", name = "Reconciliation")]
pub(crate) struct PyReconciliation {
    lists: ipocket_connectors::reconcile::Reconciliation,
    opts: ReconcileOptions,
    source: Source,
}

impl PyReconciliation {
    /// The engine's plan of `list` on `inventory`, or on the inventory it was computed from.
    fn planned<T: Send>(
        &self,
        py: Python<'_>,
        list: &str,
        inventory: Option<PyRef<'_, PyInventory>>,
        then: impl FnOnce(&mut Inventory, ipocket_core::ImportPlan) -> ipocket_core::Result<T> + Send,
    ) -> PyResult<T> {
        let list: ReconcileList = list.parse().map_err(|e| errors::invalid(py, "list", e))?;
        let bundle = self
            .lists
            .bundle(list, &self.opts)
            .map_err(|e| errors::unavailable(py, e))?;
        let run = move |inv: &mut Inventory| {
            let plan = inv.plan(bundle, &ImportOptions::default())?;
            then(inv, plan)
        };
        match inventory {
            Some(inv) => {
                let inv: &PyInventory = &inv;
                py.detach(|| run(&mut inv.inventory()))
                    .or_py(py, errors::core_error)
            }
            None => self.source.with(py, run),
        }
    }
}

#[pymethods]
impl PyReconciliation {
    /// `{"reachable", "fetched_at", "error"}`: every list is empty when Prometheus could not
    /// be asked, and `error` says why.
    #[getter]
    fn prometheus<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.lists.prometheus)
    }

    /// Alive in Prometheus, not in the inventory: `[{"ip", "last_seen_up", "jobs",
    /// "instances", "archived"}]`.
    #[getter]
    fn unknown<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.lists.unknown)
    }

    /// In the inventory, not scraped or down for too long: `[{"ip", "state",
    /// "last_seen_up", "jobs", "project", "type", "host"}]`.
    #[getter]
    fn reclaimable<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.lists.reclaimable)
    }

    /// Prometheus disagrees with the inventory: `[{"ip", "kind", "job", "instance",
    /// "inventory", "prometheus"}]`, `kind` one of `project`, `type`, `host`, `never_up`.
    #[getter]
    fn mismatch<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.lists.mismatch)
    }

    /// The age after which a down address is reclaimable, in seconds.
    #[getter]
    fn down_after_seconds(&self) -> u64 {
        self.lists.down_after_seconds
    }

    /// Everything as one dict (the shape of `ipocket reconcile --json` and the API).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.lists)
    }

    /// The import engine's dry run of `list` (`"unknown"`: create; `"reclaimable"`:
    /// archive; `"mismatch"`: take Prometheus's project, type and host) on `inventory`, or on the inventory the lists came from; `Inventory.apply`
    /// writes it. Raises `UnavailableError` when Prometheus could not be asked.
    #[pyo3(signature = (list, inventory=None))]
    fn plan(
        &self,
        py: Python<'_>,
        list: &str,
        inventory: Option<PyRef<'_, PyInventory>>,
    ) -> PyResult<PyImportPlan> {
        let plan = self.planned(py, list, inventory, |_, plan| Ok(plan))?;
        Ok(PyImportPlan::new(plan))
    }

    /// Plans and applies `list` in one transaction, audited with the source
    /// `reconcile:unknown` or `reconcile:reclaimable` (as `ipocket reconcile --apply`).
    /// Returns what `Inventory.apply` returns.
    #[pyo3(signature = (list, inventory=None))]
    fn apply<'py>(
        &self,
        py: Python<'py>,
        list: &str,
        inventory: Option<PyRef<'py, PyInventory>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let report = self.planned(py, list, inventory, |inv, plan| {
            inv.apply(&Actor::system(), &plan)
        })?;
        to_py(py, &report)
    }

    fn __repr__(&self) -> String {
        let l = &self.lists;
        format!(
            "Reconciliation(reachable={}, unknown={}, reclaimable={}, mismatch={})",
            if l.prometheus.reachable {
                "True"
            } else {
                "False"
            },
            l.unknown.len(),
            l.reclaimable.len(),
            l.mismatch.len()
        )
    }
}

/// Registers the functions and the class on `m`.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyReconciliation>()?;
    m.add_function(wrap_pyfunction!(liveness, m)?)?;
    m.add_function(wrap_pyfunction!(reconcile, m)?)?;
    Ok(())
}
