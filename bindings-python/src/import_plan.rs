//! `ipocket.ImportPlan` and `ipocket.PlannedItem`: the import engine's dry run as Python
//! objects; `Inventory.apply` takes the plan back.

use ipocket_core::ImportPlan;
use pyo3::prelude::*;
use pyo3::types::PyList;

use crate::inventory::to_py;

/// The dry run of an import: counts, every record's action and field changes, warnings.
/// Pass it to `Inventory.apply` to write it.
#[pyclass(frozen, module = "ipocket", name = "ImportPlan")]
pub(crate) struct PyImportPlan {
    pub(crate) plan: ImportPlan,
}

impl PyImportPlan {
    pub(crate) fn new(plan: ImportPlan) -> Self {
        PyImportPlan { plan }
    }
}

#[pymethods]
impl PyImportPlan {
    /// The source label (file name or connector).
    #[getter]
    fn source(&self) -> &str {
        &self.plan.source
    }

    /// Create/update/skip counts per kind (`vendors`, `projects`, `tags`, `ip_ranges`,
    /// `hosts`, `ip_assets`) and in `total`.
    #[getter]
    fn summary<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.plan.summary)
    }

    /// Warnings about the whole import, as `ImportIssue(location, message)`.
    #[getter]
    fn warnings<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let class = py.import("ipocket.errors")?.getattr("ImportIssue")?;
        let items = self
            .plan
            .warnings
            .iter()
            .map(|w| class.call1((w.location.as_str(), w.message.as_str())))
            .collect::<PyResult<Vec<_>>>()?;
        PyList::new(py, items)
    }

    /// Every record in apply order, as `PlannedItem` objects.
    #[getter]
    fn items<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let items = self
            .plan
            .items()
            .map(|it| {
                Ok(PlannedItem {
                    entity: to_py(py, &it.entity)?.extract()?,
                    key: it.key.to_string(),
                    location: it.location.clone(),
                    action: to_py(py, &it.action)?.extract()?,
                    changes: to_py(py, &*it.changes)?.unbind(),
                    warnings: it.warnings.to_vec(),
                })
            })
            .collect::<PyResult<Vec<_>>>()?;
        PyList::new(py, items)
    }

    /// The plan as one dict: `{"source", "summary", "items", "warnings"}`.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.plan)
    }

    /// The original ipocket's import response shape (`would_create`… per section).
    fn original_result<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.plan.original_result_json())
    }

    fn __len__(&self) -> usize {
        self.plan.items().len()
    }

    fn __repr__(&self) -> String {
        let t = self.plan.summary.total;
        format!(
            "ImportPlan(source='{}', create={}, update={}, skip={})",
            self.plan.source, t.create, t.update, t.skip
        )
    }
}

/// The planned fate of one record.
#[pyclass(frozen, module = "ipocket", name = "PlannedItem", get_all)]
pub(crate) struct PlannedItem {
    /// `vendor`, `project`, `tag`, `ip_range`, `host` or `ip_asset`.
    entity: String,
    /// Its natural key (name, CIDR, address).
    key: String,
    /// Where it came from (`data.ip_assets[3]`, `ip-assets.csv:4`), or `""`.
    location: String,
    /// `create`, `update` or `skip`.
    action: String,
    /// Field changes: `[{"field", "before", "after"}]`.
    changes: Py<PyAny>,
    /// Notes about this record.
    warnings: Vec<String>,
}

#[pymethods]
impl PlannedItem {
    fn __repr__(&self) -> String {
        format!(
            "PlannedItem(entity='{}', key='{}', action='{}')",
            self.entity, self.key, self.action
        )
    }
}

/// Registers the import plan classes on `m`.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyImportPlan>()?;
    m.add_class::<PlannedItem>()?;
    Ok(())
}
