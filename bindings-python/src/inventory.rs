//! `ipocket.Inventory`: `ipocket_core::Inventory` for Python.
//!
//! Records come back as plain dicts (the crate's serde shape: `IpAsset` has `type`,
//! `tags`…); the import plan is an `ImportPlan` object that `apply` takes back. Database
//! work runs with the GIL released.

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};

use ipocket_core::{
    import::parse_file, parse_bundle_json, Actor, ArchivedFilter, AssetFilter, AssetType,
    AuditFilter, ExportFormat, ExportOptions, ImportOptions, Inventory, IpAssetPatch, NewIpAsset,
    Page, ProjectFilter, Role, SdOptions,
};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyString};
use pythonize::pythonize;
use serde::Serialize;

use crate::errors::{self, OrPy};
pub(crate) use crate::import_plan::PyImportPlan;

/// Any serde value as Python objects (dicts, lists, str, int, float, bool, None).
pub(crate) fn to_py<'py, T: Serialize + ?Sized>(
    py: Python<'py>,
    v: &T,
) -> PyResult<Bound<'py, PyAny>> {
    Ok(pythonize(py, v)?)
}

pub(crate) fn asset_type_arg(py: Python<'_>, s: &str) -> PyResult<AssetType> {
    s.parse().or_py(py, errors::core_error)
}

/// The IP inventory in one SQLite file (or in memory): assets, projects, hosts, vendors,
/// tags, ranges, the import engine, exports, metrics and service-discovery targets.
///
/// Every write runs as the system actor and is recorded in the audit log.
#[pyclass(module = "ipocket", name = "Inventory")]
pub(crate) struct PyInventory {
    inner: Mutex<Inventory>,
}

impl PyInventory {
    fn lock(&self) -> MutexGuard<'_, Inventory> {
        // A panic inside the crate would poison the lock; the connection itself is still
        // consistent (every write is one transaction), so keep using it.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `f` on the inventory with the GIL released and maps its error.
    fn with<T: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&mut Inventory) -> ipocket_core::Result<T> + Send,
    ) -> PyResult<T> {
        py.detach(|| f(&mut self.lock()))
            .or_py(py, errors::core_error)
    }

    /// Like `with`, then converts the result to Python objects.
    fn query<'py, T: Serialize + Send>(
        &self,
        py: Python<'py>,
        f: impl FnOnce(&mut Inventory) -> ipocket_core::Result<T> + Send,
    ) -> PyResult<Bound<'py, PyAny>> {
        let v = self.with(py, f)?;
        to_py(py, &v)
    }

    pub(crate) fn inventory(&self) -> MutexGuard<'_, Inventory> {
        self.lock()
    }
}

fn role_arg(py: Python<'_>, s: &str) -> PyResult<Role> {
    s.parse().or_py(py, errors::core_error)
}

fn tags_arg(tags: Option<Vec<String>>) -> Vec<String> {
    tags.unwrap_or_default()
}

#[pymethods]
impl PyInventory {
    /// Opens (creating or migrating) the inventory at `path`; `None` opens an empty
    /// in-memory inventory.
    #[new]
    #[pyo3(signature = (path=None))]
    fn new(py: Python<'_>, path: Option<PathBuf>) -> PyResult<Self> {
        let inv = py
            .detach(|| match &path {
                Some(p) => Inventory::open(p),
                None => Inventory::open_in_memory(),
            })
            .or_py(py, errors::core_error)?;
        Ok(PyInventory {
            inner: Mutex::new(inv),
        })
    }

    /// Opens (creating or migrating) the inventory file at `path`.
    #[staticmethod]
    fn open(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        Self::new(py, Some(path))
    }

    /// The schema version of the database.
    fn schema_version(&self, py: Python<'_>) -> PyResult<u32> {
        self.with(py, |i| i.schema_version())
    }

    // ---- IP assets -------------------------------------------------------------------

    /// Creates an IP asset (IPv4 or IPv6, stored canonically); missing tags are created.
    #[pyo3(signature = (ip_address, r#type="OTHER", *, project_id=None, host_id=None, notes=None, tags=None, auto_host_for_bmc=false))]
    #[allow(clippy::too_many_arguments)]
    fn create_ip_asset<'py>(
        &self,
        py: Python<'py>,
        ip_address: &str,
        r#type: &str,
        project_id: Option<i64>,
        host_id: Option<i64>,
        notes: Option<String>,
        tags: Option<Vec<String>>,
        auto_host_for_bmc: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let mut new = NewIpAsset::new(ip_address, asset_type_arg(py, r#type)?);
        new.project_id = project_id;
        new.host_id = host_id;
        new.notes = notes;
        new.tags = tags_arg(tags);
        new.auto_host_for_bmc = auto_host_for_bmc;
        self.query(py, |i| i.create_ip_asset(&Actor::system(), &new))
    }

    /// One IP asset by address; raises `NotFoundError`.
    fn ip_asset<'py>(&self, py: Python<'py>, ip_address: &str) -> PyResult<Bound<'py, PyAny>> {
        self.query(py, |i| i.ip_asset(ip_address))
    }

    /// Changes the fields given as keywords: `type`, `project_id`, `host_id`, `notes`
    /// (`None` clears the last three) and `tags` (replaces the set).
    #[pyo3(signature = (ip_address, **changes))]
    fn update_ip_asset<'py>(
        &self,
        py: Python<'py>,
        ip_address: &str,
        changes: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let mut patch = IpAssetPatch::default();
        if let Some(changes) = changes {
            for (k, v) in changes.iter() {
                let key: String = k.extract()?;
                match key.as_str() {
                    "type" => patch.asset_type = Some(asset_type_arg(py, &v.extract::<String>()?)?),
                    "project_id" => patch.project_id = Some(v.extract()?),
                    "host_id" => patch.host_id = Some(v.extract()?),
                    "notes" => patch.notes = Some(v.extract()?),
                    "tags" => patch.tags = Some(v.extract()?),
                    other => {
                        return Err(errors::invalid(
                            py,
                            other,
                            "unknown field (use type, project_id, host_id, notes, tags)",
                        ))
                    }
                }
            }
        }
        self.query(py, |i| {
            i.update_ip_asset(&Actor::system(), ip_address, &patch)
        })
    }

    /// Archives (soft-deletes) an asset.
    fn archive_ip_asset<'py>(
        &self,
        py: Python<'py>,
        ip_address: &str,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.query(py, |i| i.archive_ip_asset(&Actor::system(), ip_address))
    }

    /// Restores an archived asset.
    fn unarchive_ip_asset<'py>(
        &self,
        py: Python<'py>,
        ip_address: &str,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.query(py, |i| i.unarchive_ip_asset(&Actor::system(), ip_address))
    }

    /// Deletes an asset for good.
    fn delete_ip_asset(&self, py: Python<'_>, ip_address: &str) -> PyResult<()> {
        self.with(py, |i| i.delete_ip_asset(&Actor::system(), ip_address))
    }

    /// Lists assets matching every condition given; returns `{"items": [...], "total": n}`.
    ///
    /// `ip` is an address or a prefix (`10.0.0.0/24`); `project` a name or an id;
    /// `archived` is `"active"`, `"archived"` or `"all"`; `text` searches address, notes,
    /// host, project and tags.
    #[pyo3(signature = (*, ip=None, project=None, unassigned_only=false, r#type=None, host=None, tags_any=None, tags_all=None, tags_not=None, archived="active", text=None, offset=0, limit=100))]
    #[allow(clippy::too_many_arguments)]
    fn list_ip_assets<'py>(
        &self,
        py: Python<'py>,
        ip: Option<String>,
        project: Option<&Bound<'py, PyAny>>,
        unassigned_only: bool,
        r#type: Option<&str>,
        host: Option<String>,
        tags_any: Option<Vec<String>>,
        tags_all: Option<Vec<String>>,
        tags_not: Option<Vec<String>>,
        archived: &str,
        text: Option<String>,
        offset: u64,
        limit: u64,
    ) -> PyResult<Bound<'py, PyAny>> {
        let project = match project {
            None => None,
            Some(p) if p.is_instance_of::<PyString>() => Some(ProjectFilter::Name(p.extract()?)),
            Some(p) => Some(ProjectFilter::Id(p.extract()?)),
        };
        let filter = AssetFilter {
            ip,
            project,
            unassigned_only,
            asset_type: r#type.map(|t| asset_type_arg(py, t)).transpose()?,
            host,
            tags_any: tags_arg(tags_any),
            tags_all: tags_arg(tags_all),
            tags_not: tags_arg(tags_not),
            archived: match archived {
                "active" => ArchivedFilter::Active,
                "archived" => ArchivedFilter::Archived,
                "all" => ArchivedFilter::All,
                other => {
                    return Err(errors::invalid(
                        py,
                        "archived",
                        format!("expected \"active\", \"archived\" or \"all\", found {other:?}"),
                    ))
                }
            },
            text,
        };
        self.query(py, |i| i.list_ip_assets(&filter, Page { offset, limit }))
    }

    // ---- users and the audit log -----------------------------------------------------

    /// Every user account by name (`id`, `username`, `role`, `is_active`; never a hash).
    fn users<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.query(py, |i| i.users())
    }

    /// Creates a user: `role` is `"Viewer"`, `"Editor"` or `"Admin"`. The password is
    /// hashed with argon2 (with the GIL released).
    #[pyo3(signature = (username, password, role="Viewer"))]
    fn create_user<'py>(
        &self,
        py: Python<'py>,
        username: &str,
        password: &str,
        role: &str,
    ) -> PyResult<Bound<'py, PyAny>> {
        let role = role_arg(py, role)?;
        self.query(py, |i| {
            i.create_user(&Actor::system(), username, password, role)
        })
    }

    /// Changes a user's role, active flag and/or password; the last active Admin cannot be
    /// demoted or deactivated.
    #[pyo3(signature = (id, *, role=None, is_active=None, password=None))]
    fn update_user<'py>(
        &self,
        py: Python<'py>,
        id: i64,
        role: Option<&str>,
        is_active: Option<bool>,
        password: Option<&str>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let role = role.map(|r| role_arg(py, r)).transpose()?;
        self.query(py, |i| {
            i.update_user(&Actor::system(), id, role, is_active, password)
        })
    }

    /// Deletes a user (not the last active Admin); their sessions end with them.
    fn delete_user(&self, py: Python<'_>, id: i64) -> PyResult<()> {
        self.with(py, |i| i.delete_user(&Actor::system(), id))
    }

    /// The audit log, newest first: `{"items": [...], "total": n}`. `target_type` is
    /// `IP_ASSET`, `PROJECT`, `HOST`, `VENDOR`, `TAG`, `IP_RANGE`, `USER`, `API_TOKEN` or `IMPORT_RUN`;
    /// `target_label` one target (an address: its whole history).
    #[pyo3(signature = (*, target_type=None, target_label=None, offset=0, limit=100))]
    fn audit_log<'py>(
        &self,
        py: Python<'py>,
        target_type: Option<String>,
        target_label: Option<String>,
        offset: u64,
        limit: u64,
    ) -> PyResult<Bound<'py, PyAny>> {
        let filter = AuditFilter {
            target_type,
            target_label,
        };
        self.query(py, |i| i.audit_log(&filter, Page { offset, limit }))
    }

    // ---- catalog ---------------------------------------------------------------------

    /// Every project.
    fn projects<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.query(py, |i| i.projects())
    }

    /// Creates a project (`color` is `#rrggbb`).
    #[pyo3(signature = (name, description=None, color=None))]
    fn create_project<'py>(
        &self,
        py: Python<'py>,
        name: &str,
        description: Option<String>,
        color: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.query(py, |i| {
            i.create_project(
                &Actor::system(),
                name,
                description.as_deref(),
                color.as_deref(),
            )
        })
    }

    /// Deletes a project (its assets become unassigned).
    fn delete_project(&self, py: Python<'_>, id: i64) -> PyResult<()> {
        self.with(py, |i| i.delete_project(&Actor::system(), id))
    }

    /// Every vendor.
    fn vendors<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.query(py, |i| i.vendors())
    }

    /// Creates a vendor.
    fn create_vendor<'py>(&self, py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyAny>> {
        self.query(py, |i| i.create_vendor(&Actor::system(), name))
    }

    /// Every tag.
    fn tags<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.query(py, |i| i.tags())
    }

    /// Creates a tag (name normalised to lower case).
    #[pyo3(signature = (name, color=None))]
    fn create_tag<'py>(
        &self,
        py: Python<'py>,
        name: &str,
        color: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.query(py, |i| {
            i.create_tag(&Actor::system(), name, color.as_deref())
        })
    }

    /// Every host.
    fn hosts<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.query(py, |i| i.hosts())
    }

    /// Creates a host.
    #[pyo3(signature = (name, notes=None, vendor_id=None))]
    fn create_host<'py>(
        &self,
        py: Python<'py>,
        name: &str,
        notes: Option<String>,
        vendor_id: Option<i64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.query(py, |i| {
            i.create_host(&Actor::system(), name, notes.as_deref(), vendor_id)
        })
    }

    // ---- ranges ----------------------------------------------------------------------

    /// Every IP range.
    fn ip_ranges<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.query(py, |i| i.ip_ranges())
    }

    /// Creates a range from a CIDR (stored canonically).
    #[pyo3(signature = (name, cidr, notes=None))]
    fn create_ip_range<'py>(
        &self,
        py: Python<'py>,
        name: &str,
        cidr: &str,
        notes: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.query(py, |i| {
            i.create_ip_range(&Actor::system(), name, cidr, notes.as_deref())
        })
    }

    /// Deletes a range (its assets stay).
    fn delete_ip_range(&self, py: Python<'_>, id: i64) -> PyResult<()> {
        self.with(py, |i| i.delete_ip_range(&Actor::system(), id))
    }

    /// Total, usable, used and free addresses and the percentage used of one range.
    fn range_utilization<'py>(
        &self,
        py: Python<'py>,
        range_id: i64,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.query(py, |i| i.range_utilization(range_id))
    }

    /// `range_utilization` of every range.
    fn all_range_utilization<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.query(py, |i| i.all_range_utilization())
    }

    /// Addresses of a range, used or free, from `offset`.
    #[pyo3(signature = (range_id, offset=0, limit=256))]
    fn range_addresses<'py>(
        &self,
        py: Python<'py>,
        range_id: i64,
        offset: u128,
        limit: u64,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.query(py, |i| i.range_addresses(range_id, offset, limit))
    }

    /// The first free usable address of a range, or `None`.
    fn next_free_address(&self, py: Python<'_>, range_id: i64) -> PyResult<Option<String>> {
        self.with(py, |i| i.next_free_address(range_id))
    }

    /// Creates an asset on the first free address of a range (`RangeFullError` if none).
    #[pyo3(signature = (range_id, r#type="OTHER", *, project_id=None, notes=None, tags=None))]
    fn allocate_next<'py>(
        &self,
        py: Python<'py>,
        range_id: i64,
        r#type: &str,
        project_id: Option<i64>,
        notes: Option<String>,
        tags: Option<Vec<String>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let mut template = NewIpAsset::new("", asset_type_arg(py, r#type)?);
        template.project_id = project_id;
        template.notes = notes;
        template.tags = tags_arg(tags);
        self.query(py, |i| {
            i.allocate_next(&Actor::system(), range_id, &template)
        })
    }

    // ---- import / export -------------------------------------------------------------

    /// Plans an import without writing: `data` is the content of a bundle JSON, bundle
    /// zip, CSV (`ip-assets.csv`, `hosts.csv`…) or Nmap XML file, told apart by
    /// `file_name`. Raises `ImportValidationError` listing every located error.
    #[pyo3(signature = (data, file_name="bundle.json", *, discovered_at=None, create_missing_projects=false, create_missing_vendors=false))]
    fn plan_import(
        &self,
        py: Python<'_>,
        data: &Bound<'_, PyAny>,
        file_name: &str,
        discovered_at: Option<String>,
        create_missing_projects: bool,
        create_missing_vendors: bool,
    ) -> PyResult<PyImportPlan> {
        let bytes: Vec<u8> = if let Ok(s) = data.cast::<PyString>() {
            s.to_cow()?.as_bytes().to_vec()
        } else {
            data.extract()?
        };
        let options = ImportOptions {
            create_missing_projects,
            create_missing_vendors,
        };
        let plan = self.with(py, |i| {
            let at = match discovered_at {
                Some(a) => a,
                None => i.now()?,
            };
            let bundle = parse_file(file_name, &bytes, &at)?;
            i.plan(bundle, &options)
        })?;
        Ok(PyImportPlan { plan })
    }

    /// Plans the import of a bundle given as a dict (`{"schema_version": "1", "data": {...}}`).
    #[pyo3(signature = (bundle, *, create_missing_projects=false, create_missing_vendors=false))]
    fn plan_bundle(
        &self,
        py: Python<'_>,
        bundle: &Bound<'_, PyAny>,
        create_missing_projects: bool,
        create_missing_vendors: bool,
    ) -> PyResult<PyImportPlan> {
        let json: String = py
            .import("json")?
            .call_method1("dumps", (bundle,))?
            .extract()?;
        let options = ImportOptions {
            create_missing_projects,
            create_missing_vendors,
        };
        let plan = self.with(py, |i| {
            i.plan(parse_bundle_json(json.as_bytes())?, &options)
        })?;
        Ok(PyImportPlan { plan })
    }

    /// Applies a plan in one transaction (all or nothing); `StalePlanError` if the
    /// inventory changed since it was planned. Returns the summary and the audit id.
    fn apply<'py>(
        &self,
        py: Python<'py>,
        plan: PyRef<'py, PyImportPlan>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let plan = &plan.plan;
        self.query(py, |i| i.apply(&Actor::system(), plan))
    }

    /// Exports as `bundle.json`, `bundle.zip`, `ip-assets.csv`, `ip-assets.json`,
    /// `hosts.csv`, `hosts.json`, `projects.csv`, `projects.json`, `vendors.csv`,
    /// `vendors.json`, `tags.csv` or `tags.json`.
    #[pyo3(signature = (format="bundle.json", *, include_archived=false, r#type=None, project=None, host=None, exported_at=None))]
    #[allow(clippy::too_many_arguments)]
    fn export<'py>(
        &self,
        py: Python<'py>,
        format: &str,
        include_archived: bool,
        r#type: Option<&str>,
        project: Option<String>,
        host: Option<String>,
        exported_at: Option<String>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let fmt = ExportFormat::from_file_name(format).ok_or_else(|| {
            let names: Vec<&str> = ExportFormat::ALL.iter().map(|f| f.file_name()).collect();
            errors::invalid(
                py,
                "format",
                format!("unknown export {format:?} (one of {})", names.join(", ")),
            )
        })?;
        let options = ExportOptions {
            include_archived,
            asset_type: r#type.map(|t| asset_type_arg(py, t)).transpose()?,
            project,
            host,
            exported_at,
            ..ExportOptions::default()
        };
        let bytes = self.with(py, |i| i.export(fmt, &options))?;
        Ok(PyBytes::new(py, &bytes))
    }

    /// The inventory gauges (`ipam_*`) as exposition text (`"text"` or `"openmetrics"`).
    #[pyo3(signature = (format="text"))]
    fn metrics_text(&self, py: Python<'_>, format: &str) -> PyResult<String> {
        let format = crate::expfmt::format_arg(py, format)?;
        let m = self.with(py, |i| i.inventory_metrics())?;
        Ok(m.render(format))
    }

    /// Prometheus service-discovery target groups (`[{"targets": [...], "labels": {...}}]`).
    ///
    /// `group_by` is `none`, `project`, `project_type` or `asset`; `meta_labels` adds
    /// `__meta_ipocket_*` labels; `labels` are added to every group.
    #[pyo3(signature = (*, port=9100, metrics_path=None, projects=None, types=None, tags=None, only_assigned=false, group_by="none", meta_labels=true, labels=None))]
    #[allow(clippy::too_many_arguments)]
    fn sd_targets<'py>(
        &self,
        py: Python<'py>,
        port: u16,
        metrics_path: Option<String>,
        projects: Option<Vec<String>>,
        types: Option<Vec<String>>,
        tags: Option<Vec<String>>,
        only_assigned: bool,
        group_by: &str,
        meta_labels: bool,
        labels: Option<std::collections::BTreeMap<String, String>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let o = sd_options(
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
        self.query(py, |i| i.sd_target_groups(&o))
    }

    fn __repr__(&self) -> String {
        "Inventory(...)".to_string()
    }
}

/// `SdOptions` from keyword arguments (grouping names parsed by the crate).
#[allow(clippy::too_many_arguments)]
pub(crate) fn sd_options(
    py: Python<'_>,
    port: u16,
    metrics_path: Option<String>,
    projects: Option<Vec<String>>,
    types: Option<Vec<String>>,
    tags: Option<Vec<String>>,
    only_assigned: bool,
    group_by: &str,
    meta_labels: bool,
    labels: Option<std::collections::BTreeMap<String, String>>,
) -> PyResult<SdOptions> {
    if port == 0 {
        return Err(errors::invalid(py, "port", "port must be 1..65535"));
    }
    let grouping = SdOptions::from_query_pairs([("group_by", group_by)])
        .or_py(py, errors::core_error)?
        .grouping;
    Ok(SdOptions {
        port,
        metrics_path,
        projects: projects.unwrap_or_default(),
        types: types
            .unwrap_or_default()
            .iter()
            .map(|t| asset_type_arg(py, t))
            .collect::<PyResult<_>>()?,
        tags: tags.unwrap_or_default(),
        only_assigned,
        grouping,
        meta_labels,
        extra_labels: labels.unwrap_or_default(),
    })
}

/// Registers the inventory classes on `m`.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyInventory>()?;
    Ok(())
}
