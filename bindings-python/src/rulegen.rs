//! `ipocket.rulegen`: alert templates, rules, groups and targets (`RuleStore`) and the
//! rule-file generator (`RuleGenerator`: validate, generate, reload, effective rules).

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use ipocket_rulegen::{
    ConnectOptions, NewRule, NewTemplate, PrometheusClient, PrometheusVersion, RuleGenerator,
    RuleStore,
};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use pythonize::depythonize;

use crate::errors::{self, OrPy};
use crate::inventory::to_py;
use crate::runtime::block_on;

/// Templates, rules, groups, targets and settings in SQLite (a file or in memory).
#[pyclass(module = "ipocket.rulegen", name = "RuleStore")]
pub(crate) struct PyRuleStore {
    inner: Mutex<RuleStore>,
}

impl PyRuleStore {
    fn lock(&self) -> MutexGuard<'_, RuleStore> {
        // Every write is one statement or transaction: a poisoned lock still guards a
        // consistent store.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn query<'py, T: serde::Serialize + Send>(
        &self,
        py: Python<'py>,
        f: impl FnOnce(&RuleStore) -> ipocket_rulegen::Result<T> + Send,
    ) -> PyResult<Bound<'py, PyAny>> {
        let v = py
            .detach(|| f(&self.lock()))
            .or_py(py, errors::rulegen_error)?;
        to_py(py, &v)
    }
}

#[pymethods]
impl PyRuleStore {
    /// Opens (creating or migrating) the store at `path`; `None` keeps it in memory.
    #[new]
    #[pyo3(signature = (path=None))]
    fn new(py: Python<'_>, path: Option<PathBuf>) -> PyResult<Self> {
        let store = py
            .detach(|| match &path {
                Some(p) => RuleStore::open(p),
                None => RuleStore::open_in_memory(),
            })
            .or_py(py, errors::rulegen_error)?;
        Ok(PyRuleStore {
            inner: Mutex::new(store),
        })
    }

    /// Creates a group (one rule file per group).
    #[pyo3(signature = (name, description=""))]
    fn create_group<'py>(
        &self,
        py: Python<'py>,
        name: &str,
        description: &str,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.query(py, |s| s.create_group(name, description))
    }

    /// Every group.
    fn groups<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.query(py, |s| s.groups())
    }

    /// Creates a target (a host name and address) in the given groups; with none, in a new
    /// group of its own, `target-<hostname>`.
    #[pyo3(signature = (hostname, address, group_ids=Vec::new()))]
    fn create_target<'py>(
        &self,
        py: Python<'py>,
        hostname: &str,
        address: &str,
        group_ids: Vec<i64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.query(py, |s| s.create_target(hostname, address, &group_ids))
    }

    /// Every target.
    fn targets<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.query(py, |s| s.targets())
    }

    /// Creates a template from keywords: `name`, `query_template` (required),
    /// `description`, `default_vars`, `for_duration`, `keep_firing_for`, `severity`,
    /// `labels`, `annotations`.
    #[pyo3(signature = (**fields))]
    fn create_template<'py>(
        &self,
        py: Python<'py>,
        fields: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let t: NewTemplate = fields_arg(py, fields, "template")?;
        self.query(py, |s| s.create_template(&t))
    }

    /// Every template.
    fn templates<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.query(py, |s| s.templates())
    }

    /// Creates a rule from keywords: `group_id`, `template_id` (required), `name`,
    /// `vars`, `enabled`, `for_duration`, `keep_firing_for`, `severity`, `labels`,
    /// `annotations`.
    #[pyo3(signature = (**fields))]
    fn create_rule<'py>(
        &self,
        py: Python<'py>,
        fields: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let r: NewRule = fields_arg(py, fields, "rule")?;
        self.query(py, |s| s.create_rule(&r))
    }

    /// Rules of one group, or all.
    #[pyo3(signature = (group_id=None))]
    fn rules<'py>(&self, py: Python<'py>, group_id: Option<i64>) -> PyResult<Bound<'py, PyAny>> {
        self.query(py, |s| s.rules(group_id))
    }
}

/// A serde input struct from keyword arguments; unknown or missing keys are
/// `InvalidInputError`s naming the struct.
fn fields_arg<T: serde::de::DeserializeOwned>(
    py: Python<'_>,
    fields: Option<&Bound<'_, PyDict>>,
    what: &str,
) -> PyResult<T> {
    let empty = PyDict::new(py);
    let fields = fields.unwrap_or(&empty);
    depythonize(fields.as_any()).map_err(|e| errors::invalid(py, what, e))
}

/// Renders, validates and writes rule files (one per group) into `rule_dir`.
#[pyclass(frozen, module = "ipocket.rulegen", name = "RuleGenerator")]
pub(crate) struct PyRuleGenerator {
    inner: RuleGenerator,
}

#[pymethods]
impl PyRuleGenerator {
    /// `prometheus_version` (`"2.42"`, `"3.0"`…) decides which rule fields are allowed;
    /// `promtool` also runs `promtool check rules` on every changed file.
    #[new]
    #[pyo3(signature = (rule_dir, prometheus_version="2.42", *, backups=3, promtool=None))]
    fn new(
        py: Python<'_>,
        rule_dir: PathBuf,
        prometheus_version: &str,
        backups: usize,
        promtool: Option<PathBuf>,
    ) -> PyResult<Self> {
        let version: PrometheusVersion = prometheus_version
            .parse()
            .or_py(py, errors::rulegen_error)?;
        let mut g = RuleGenerator::new(rule_dir, version).with_backups(backups);
        if let Some(p) = promtool {
            g = g.with_promtool(p);
        }
        Ok(PyRuleGenerator { inner: g })
    }

    /// Renders and validates every rule (of one group) without writing; returns the plan
    /// (files and their content) or raises `RuleValidationError` with every issue.
    #[pyo3(signature = (store, group_id=None))]
    fn validate<'py>(
        &self,
        py: Python<'py>,
        store: PyRef<'py, PyRuleStore>,
        group_id: Option<i64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let store: &PyRuleStore = &store;
        let plan = py
            .detach(|| self.inner.plan(&store.lock(), group_id))
            .or_py(py, errors::rulegen_error)?;
        to_py(py, &plan)
    }

    /// Generates the files (of one group); with `dry_run` nothing is written and the
    /// report carries the diffs.
    #[pyo3(signature = (store, group_id=None, dry_run=false))]
    fn generate<'py>(
        &self,
        py: Python<'py>,
        store: PyRef<'py, PyRuleStore>,
        group_id: Option<i64>,
        dry_run: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let store: &PyRuleStore = &store;
        let report = py
            .detach(|| self.inner.generate(&store.lock(), group_id, dry_run))
            .or_py(py, errors::rulegen_error)?;
        to_py(py, &report)
    }

    /// Reloads Prometheus (`/-/reload`, lifecycle API) and confirms it loaded every
    /// group on disk. `token`: `user:password` for Basic auth, anything else is a Bearer
    /// token; `ca_file` and `insecure` as for the Prometheus connector.
    #[pyo3(signature = (prometheus_url, *, timeout=10.0, token=None, ca_file=None, insecure=false))]
    fn reload<'py>(
        &self,
        py: Python<'py>,
        prometheus_url: &str,
        timeout: f64,
        token: Option<&str>,
        ca_file: Option<PathBuf>,
        insecure: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        if !(timeout > 0.0 && timeout.is_finite()) {
            return Err(errors::invalid(
                py,
                "timeout",
                "must be a positive number of seconds",
            ));
        }
        let options = ConnectOptions::from_flags(token, ca_file, insecure);
        let client = PrometheusClient::new(prometheus_url)
            .and_then(|c| c.with_connect_options(&options))
            .or_py(py, errors::rulegen_error)?
            .with_timeout(Duration::from_secs_f64(timeout));
        let report =
            block_on(py, || self.inner.reload(&client)).or_py(py, errors::rulegen_error)?;
        to_py(py, &report)
    }

    /// The rules that apply to one target (id or host name), with where each comes from.
    fn effective_rules<'py>(
        &self,
        py: Python<'py>,
        store: PyRef<'py, PyRuleStore>,
        target: &str,
    ) -> PyResult<Bound<'py, PyAny>> {
        let store: &PyRuleStore = &store;
        let eff = py
            .detach(|| self.inner.effective_rules(&store.lock(), target))
            .or_py(py, errors::rulegen_error)?;
        to_py(py, &eff)
    }
}

/// Registers the rulegen classes on `m`.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyRuleStore>()?;
    m.add_class::<PyRuleGenerator>()?;
    Ok(())
}
