//! The `Inventory` class: `ipocket-core`'s SQLite inventory for JavaScript.
//!
//! Records come back as plain objects with the field names of ipocket's JSON API and
//! bundles (`ip_address`, `project_id`, …), so an object from `ipAsset()` has the same
//! shape as a bundle entry or a server answer. Options objects use camelCase. Every
//! change is written as the system actor (the audit log says so).

use std::collections::BTreeMap;

use ipocket_core::{
    Actor, ArchivedFilter, AssetFilter, AssetType, AuditFilter, ExportFormat, ExportOptions,
    ImportOptions, IpAssetPatch, NewIpAsset, Page, ProjectFilter, Role, SdGrouping, SdOptions,
};
use napi::bindgen_prelude::{Buffer, Env};
use serde::Serialize;
use serde_json::Value;

use crate::errors::{IntoJs, JsFailure};
use crate::expfmt::{input_bytes, ExpositionFormat, Input};
use ipocket_errors::ErrorKind;

/// JSON of a record (every record type of core serializes).
pub(crate) fn json<T: Serialize>(v: &T) -> Result<Value, JsFailure> {
    serde_json::to_value(v)
        .map_err(|e| JsFailure::new(ErrorKind::Internal, format!("serializing: {e}")))
}

fn asset_type(s: &str) -> Result<AssetType, JsFailure> {
    s.parse::<AssetType>().map_err(JsFailure::from)
}

/// A new IP asset.
#[napi(object)]
#[derive(Debug)]
pub struct NewIpAssetInput {
    /// IPv4 or IPv6 address.
    pub ip_address: String,
    /// `OS`, `BMC`, `VM`, `VIP` or `OTHER`.
    #[napi(js_name = "type")]
    pub asset_type: String,
    /// Project id.
    pub project_id: Option<i64>,
    /// Host id.
    pub host_id: Option<i64>,
    /// Free text.
    pub notes: Option<String>,
    /// Tag names (created when missing).
    pub tags: Option<Vec<String>>,
    /// For a BMC without host: create a host named after the address.
    pub auto_host_for_bmc: Option<bool>,
}

impl NewIpAssetInput {
    fn to_core(&self) -> Result<NewIpAsset, JsFailure> {
        let mut n = NewIpAsset::new(&self.ip_address, asset_type(&self.asset_type)?);
        n.project_id = self.project_id;
        n.host_id = self.host_id;
        n.notes = self.notes.clone();
        n.tags = self.tags.clone().unwrap_or_default();
        n.auto_host_for_bmc = self.auto_host_for_bmc.unwrap_or(false);
        Ok(n)
    }
}

/// Fields to change on an IP asset; a missing key leaves the field as it is, `null`
/// clears it.
#[napi(object)]
#[derive(Debug)]
pub struct IpAssetPatchInput {
    /// New type.
    #[napi(js_name = "type")]
    pub asset_type: Option<String>,
    /// New project id (`null` unassigns).
    pub project_id: Option<Option<i64>>,
    /// New host id (`null` detaches).
    pub host_id: Option<Option<i64>>,
    /// New notes (`null` clears).
    pub notes: Option<Option<String>>,
    /// The new full tag list.
    pub tags: Option<Vec<String>>,
}

/// What `updateUser` changes (absent fields stay).
#[napi(object)]
#[derive(Debug, Default)]
pub struct UserPatchInput {
    /// `Viewer`, `Editor` or `Admin`.
    pub role: Option<String>,
    /// False deactivates the account (its sessions end).
    pub is_active: Option<bool>,
    /// A new password.
    pub password: Option<String>,
}

/// Which entries `auditLog` returns.
#[napi(object)]
#[derive(Debug, Default)]
pub struct AuditQuery {
    /// `IP_ASSET`, `PROJECT`, `HOST`, `VENDOR`, `TAG`, `IP_RANGE`, `USER`, `API_TOKEN` or `IMPORT_RUN`.
    pub target_type: Option<String>,
    /// One target: an address (its whole history) or a name.
    pub target_label: Option<String>,
    /// Rows to skip.
    pub offset: Option<u32>,
    /// Rows to return (default 100).
    pub limit: Option<u32>,
}

fn role_arg(s: &str) -> Result<Role, JsFailure> {
    s.parse::<Role>().map_err(JsFailure::from)
}

/// Which assets `listIpAssets` returns.
#[napi(object)]
#[derive(Debug, Default)]
pub struct AssetQuery {
    /// An address or a CIDR prefix.
    pub ip: Option<String>,
    /// Project name.
    pub project: Option<String>,
    /// Only assets without project.
    pub unassigned_only: Option<bool>,
    /// Asset type.
    #[napi(js_name = "type")]
    pub asset_type: Option<String>,
    /// Host name.
    pub host: Option<String>,
    /// Any of these tags.
    pub tags_any: Option<Vec<String>>,
    /// All of these tags.
    pub tags_all: Option<Vec<String>>,
    /// None of these tags.
    pub tags_not: Option<Vec<String>>,
    /// `active` (default), `archived` or `all`.
    pub archived: Option<String>,
    /// Text search over address, notes, host and project.
    pub text: Option<String>,
    /// Rows to skip.
    pub offset: Option<u32>,
    /// Rows to return (default 100).
    pub limit: Option<u32>,
}

impl AssetQuery {
    fn to_core(&self) -> Result<(AssetFilter, Page), JsFailure> {
        let archived = match self.archived.as_deref() {
            None | Some("active") => ArchivedFilter::Active,
            Some("archived") => ArchivedFilter::Archived,
            Some("all") => ArchivedFilter::All,
            Some(o) => {
                return Err(JsFailure::argument(format!(
                    "archived: {o:?} is not one of active, archived, all"
                )))
            }
        };
        let filter = AssetFilter {
            ip: self.ip.clone(),
            project: self.project.clone().map(ProjectFilter::Name),
            unassigned_only: self.unassigned_only.unwrap_or(false),
            asset_type: self.asset_type.as_deref().map(asset_type).transpose()?,
            host: self.host.clone(),
            tags_any: self.tags_any.clone().unwrap_or_default(),
            tags_all: self.tags_all.clone().unwrap_or_default(),
            tags_not: self.tags_not.clone().unwrap_or_default(),
            archived,
            text: self.text.clone(),
        };
        let page = Page {
            offset: self.offset.unwrap_or(0).into(),
            limit: self.limit.unwrap_or(100).into(),
        };
        Ok((filter, page))
    }
}

/// Options of `planImport`.
#[napi(object)]
#[derive(Debug, Default)]
pub struct ImportInputOptions {
    /// Create projects that records name but that do not exist.
    pub create_missing_projects: Option<bool>,
    /// Create vendors that hosts name but that do not exist.
    pub create_missing_vendors: Option<bool>,
    /// `discovered_at` for Nmap XML notes (default: now).
    pub discovered_at: Option<String>,
}

/// Options of `export`.
#[napi(object)]
#[derive(Debug, Default)]
pub struct ExportInputOptions {
    /// Include archived assets.
    pub include_archived: Option<bool>,
    /// Only this asset type.
    #[napi(js_name = "type")]
    pub asset_type: Option<String>,
    /// Only this project (name).
    pub project: Option<String>,
    /// Only this host (name).
    pub host: Option<String>,
    /// The `exported_at` stamp of a bundle (default: now).
    pub exported_at: Option<String>,
}

/// Options of `sdTargetGroups` (Prometheus `file_sd` / `http_sd` target groups).
#[napi(object)]
#[derive(Debug, Default)]
pub struct SdInputOptions {
    /// Port added to each address (default 9100).
    pub port: Option<u16>,
    /// `__metrics_path__` label, if any.
    pub metrics_path: Option<String>,
    /// Only these projects (names).
    pub projects: Option<Vec<String>>,
    /// Only these asset types.
    pub types: Option<Vec<String>>,
    /// Only assets with any of these tags.
    pub tags: Option<Vec<String>>,
    /// Only assets with a project.
    pub only_assigned: Option<bool>,
    /// `single` (default), `project`, `project-type` or `asset`.
    pub group_by: Option<String>,
    /// Add `__meta_ipocket_*` labels (default true).
    pub meta_labels: Option<bool>,
    /// Labels added to every group.
    pub labels: Option<BTreeMap<String, String>>,
}

pub(crate) fn sd_options(o: Option<SdInputOptions>) -> Result<SdOptions, JsFailure> {
    let o = o.unwrap_or_default();
    let d = SdOptions::default();
    let grouping = match o.group_by.as_deref() {
        None | Some("single") => SdGrouping::Single,
        Some("project") => SdGrouping::Project,
        Some("project-type") => SdGrouping::ProjectType,
        Some("asset") => SdGrouping::Asset,
        Some(g) => {
            return Err(JsFailure::argument(format!(
                "groupBy: {g:?} is not one of single, project, project-type, asset"
            )))
        }
    };
    Ok(SdOptions {
        port: o.port.unwrap_or(d.port),
        metrics_path: o.metrics_path,
        projects: o.projects.unwrap_or_default(),
        types: o
            .types
            .unwrap_or_default()
            .iter()
            .map(|t| asset_type(t))
            .collect::<Result<_, _>>()?,
        tags: o.tags.unwrap_or_default(),
        only_assigned: o.only_assigned.unwrap_or(false),
        grouping,
        meta_labels: o.meta_labels.unwrap_or(true),
        extra_labels: o.labels.unwrap_or_default(),
    })
}

/// The dry run of an import: what would be created, updated or skipped. Pass it to
/// `Inventory.apply` to write it.
#[napi]
pub struct ImportPlan {
    pub(crate) plan: ipocket_core::ImportPlan,
}

#[napi]
impl ImportPlan {
    /// Where the records came from (file name or connector).
    #[napi(getter)]
    pub fn source(&self) -> String {
        self.plan.source.clone()
    }

    /// Create/update/skip counts per entity.
    #[napi(getter, ts_return_type = "ImportSummary")]
    pub fn summary(&self, env: &Env) -> napi::Result<Value> {
        json(&self.plan.summary).js(env)
    }

    /// Located warnings (`{ location, message }`).
    #[napi(
        getter,
        ts_return_type = "Array<{ location: string; message: string }>"
    )]
    pub fn warnings(&self, env: &Env) -> napi::Result<Value> {
        json(&self.plan.warnings).js(env)
    }

    /// Every planned record with its action and field changes.
    #[napi(ts_return_type = "Array<PlannedItem>")]
    pub fn items(&self, env: &Env) -> napi::Result<Value> {
        json(&self.plan.items().collect::<Vec<_>>()).js(env)
    }
}

/// An ipocket inventory in one SQLite file (or in memory).
#[napi]
pub struct Inventory {
    inv: ipocket_core::Inventory,
}

#[napi]
impl Inventory {
    /// Opens (and creates or migrates) the inventory file at `path`.
    #[napi(factory)]
    pub fn open(env: &Env, path: String) -> napi::Result<Inventory> {
        Ok(Inventory {
            inv: ipocket_core::Inventory::open(path).js(env)?,
        })
    }

    /// A fresh inventory in memory (tests, scratch work).
    #[napi(factory)]
    pub fn open_in_memory(env: &Env) -> napi::Result<Inventory> {
        Ok(Inventory {
            inv: ipocket_core::Inventory::open_in_memory().js(env)?,
        })
    }

    /// The schema version of the file.
    #[napi]
    pub fn schema_version(&self, env: &Env) -> napi::Result<u32> {
        self.inv.schema_version().js(env)
    }

    /// Creates an IP asset.
    #[napi(ts_return_type = "IpAsset")]
    pub fn create_ip_asset(&mut self, env: &Env, asset: NewIpAssetInput) -> napi::Result<Value> {
        let new = asset.to_core().js(env)?;
        let a = self.inv.create_ip_asset(&Actor::system(), &new).js(env)?;
        json(&a).js(env)
    }

    /// The asset with this address (throws `IPOCKET_NOT_FOUND`).
    #[napi(ts_return_type = "IpAsset")]
    pub fn ip_asset(&self, env: &Env, ip: String) -> napi::Result<Value> {
        json(&self.inv.ip_asset(&ip).js(env)?).js(env)
    }

    /// Changes fields of an asset.
    #[napi(ts_return_type = "IpAsset")]
    pub fn update_ip_asset(
        &mut self,
        env: &Env,
        ip: String,
        patch: IpAssetPatchInput,
    ) -> napi::Result<Value> {
        let p = IpAssetPatch {
            asset_type: patch
                .asset_type
                .as_deref()
                .map(asset_type)
                .transpose()
                .js(env)?,
            project_id: patch.project_id,
            host_id: patch.host_id,
            notes: patch.notes,
            tags: patch.tags,
        };
        let a = self
            .inv
            .update_ip_asset(&Actor::system(), &ip, &p)
            .js(env)?;
        json(&a).js(env)
    }

    /// Archives an asset (it stays in the file, out of default queries).
    #[napi(ts_return_type = "IpAsset")]
    pub fn archive_ip_asset(&mut self, env: &Env, ip: String) -> napi::Result<Value> {
        json(&self.inv.archive_ip_asset(&Actor::system(), &ip).js(env)?).js(env)
    }

    /// Brings an archived asset back.
    #[napi(ts_return_type = "IpAsset")]
    pub fn unarchive_ip_asset(&mut self, env: &Env, ip: String) -> napi::Result<Value> {
        json(&self.inv.unarchive_ip_asset(&Actor::system(), &ip).js(env)?).js(env)
    }

    /// Deletes an asset.
    #[napi]
    pub fn delete_ip_asset(&mut self, env: &Env, ip: String) -> napi::Result<()> {
        self.inv.delete_ip_asset(&Actor::system(), &ip).js(env)
    }

    /// Assets matching `query`, one page: `{ items, total }`.
    #[napi(ts_return_type = "{ items: Array<IpAsset>; total: number }")]
    pub fn list_ip_assets(&self, env: &Env, query: Option<AssetQuery>) -> napi::Result<Value> {
        let (filter, page) = query.unwrap_or_default().to_core().js(env)?;
        json(&self.inv.list_ip_assets(&filter, page).js(env)?).js(env)
    }

    /// Every user account by name (never a password hash).
    #[napi(ts_return_type = "Array<User>")]
    pub fn users(&self, env: &Env) -> napi::Result<Value> {
        json(&self.inv.users().js(env)?).js(env)
    }

    /// Creates a user of `ipocket serve` on this file: `role` is `Viewer` (default),
    /// `Editor` or `Admin`; the password is hashed with argon2.
    #[napi(
        ts_return_type = "User",
        ts_args_type = "username: string, password: string, role?: 'Viewer' | 'Editor' | 'Admin'"
    )]
    pub fn create_user(
        &mut self,
        env: &Env,
        username: String,
        password: String,
        role: Option<String>,
    ) -> napi::Result<Value> {
        let role = role_arg(role.as_deref().unwrap_or("Viewer")).js(env)?;
        let u = self
            .inv
            .create_user(&Actor::system(), &username, &password, role)
            .js(env)?;
        json(&u).js(env)
    }

    /// Changes a user's role, active flag and/or password; the last active Admin cannot be
    /// demoted or deactivated.
    #[napi(ts_return_type = "User")]
    pub fn update_user(
        &mut self,
        env: &Env,
        id: i64,
        patch: UserPatchInput,
    ) -> napi::Result<Value> {
        let role = patch.role.as_deref().map(role_arg).transpose().js(env)?;
        let u = self
            .inv
            .update_user(
                &Actor::system(),
                id,
                role,
                patch.is_active,
                patch.password.as_deref(),
            )
            .js(env)?;
        json(&u).js(env)
    }

    /// Deletes a user (not the last active Admin).
    #[napi]
    pub fn delete_user(&mut self, env: &Env, id: i64) -> napi::Result<()> {
        self.inv.delete_user(&Actor::system(), id).js(env)
    }

    /// The audit log, newest first, one page: `{ items, total }`.
    #[napi(ts_return_type = "{ items: Array<AuditEntry>; total: number }")]
    pub fn audit_log(&self, env: &Env, query: Option<AuditQuery>) -> napi::Result<Value> {
        let q = query.unwrap_or_default();
        let filter = AuditFilter {
            target_type: q.target_type,
            target_label: q.target_label,
        };
        let page = Page {
            offset: q.offset.unwrap_or(0).into(),
            limit: q.limit.unwrap_or(100).into(),
        };
        json(&self.inv.audit_log(&filter, page).js(env)?).js(env)
    }

    /// Every project.
    #[napi(ts_return_type = "Array<Project>")]
    pub fn projects(&self, env: &Env) -> napi::Result<Value> {
        json(&self.inv.projects().js(env)?).js(env)
    }

    /// Creates a project.
    #[napi(ts_return_type = "Project")]
    pub fn create_project(
        &mut self,
        env: &Env,
        name: String,
        description: Option<String>,
        color: Option<String>,
    ) -> napi::Result<Value> {
        let p = self
            .inv
            .create_project(
                &Actor::system(),
                &name,
                description.as_deref(),
                color.as_deref(),
            )
            .js(env)?;
        json(&p).js(env)
    }

    /// Deletes a project (its assets become unassigned).
    #[napi]
    pub fn delete_project(&mut self, env: &Env, id: i64) -> napi::Result<()> {
        self.inv.delete_project(&Actor::system(), id).js(env)
    }

    /// Every host.
    #[napi(ts_return_type = "Array<Host>")]
    pub fn hosts(&self, env: &Env) -> napi::Result<Value> {
        json(&self.inv.hosts().js(env)?).js(env)
    }

    /// Creates a host.
    #[napi(ts_return_type = "Host")]
    pub fn create_host(
        &mut self,
        env: &Env,
        name: String,
        notes: Option<String>,
        vendor_id: Option<i64>,
    ) -> napi::Result<Value> {
        let h = self
            .inv
            .create_host(&Actor::system(), &name, notes.as_deref(), vendor_id)
            .js(env)?;
        json(&h).js(env)
    }

    /// Deletes a host.
    #[napi]
    pub fn delete_host(&mut self, env: &Env, id: i64) -> napi::Result<()> {
        self.inv.delete_host(&Actor::system(), id).js(env)
    }

    /// Every vendor.
    #[napi(ts_return_type = "Array<Vendor>")]
    pub fn vendors(&self, env: &Env) -> napi::Result<Value> {
        json(&self.inv.vendors().js(env)?).js(env)
    }

    /// Creates a vendor.
    #[napi(ts_return_type = "Vendor")]
    pub fn create_vendor(&mut self, env: &Env, name: String) -> napi::Result<Value> {
        json(&self.inv.create_vendor(&Actor::system(), &name).js(env)?).js(env)
    }

    /// Every tag.
    #[napi(ts_return_type = "Array<Tag>")]
    pub fn tags(&self, env: &Env) -> napi::Result<Value> {
        json(&self.inv.tags().js(env)?).js(env)
    }

    /// Creates a tag.
    #[napi(ts_return_type = "Tag")]
    pub fn create_tag(
        &mut self,
        env: &Env,
        name: String,
        color: Option<String>,
    ) -> napi::Result<Value> {
        let t = self
            .inv
            .create_tag(&Actor::system(), &name, color.as_deref())
            .js(env)?;
        json(&t).js(env)
    }

    /// Every IP range.
    #[napi(ts_return_type = "Array<IpRange>")]
    pub fn ip_ranges(&self, env: &Env) -> napi::Result<Value> {
        json(&self.inv.ip_ranges().js(env)?).js(env)
    }

    /// Creates an IP range from a CIDR.
    #[napi(ts_return_type = "IpRange")]
    pub fn create_ip_range(
        &mut self,
        env: &Env,
        name: String,
        cidr: String,
        notes: Option<String>,
    ) -> napi::Result<Value> {
        let r = self
            .inv
            .create_ip_range(&Actor::system(), &name, &cidr, notes.as_deref())
            .js(env)?;
        json(&r).js(env)
    }

    /// How full a range is. Counts are numbers (exact up to 2^53 addresses).
    #[napi(ts_return_type = "RangeUtilization")]
    pub fn range_utilization(&self, env: &Env, range_id: i64) -> napi::Result<Value> {
        let u = self.inv.range_utilization(range_id).js(env)?;
        Ok(serde_json::json!({
            "range": json(&u.range).js(env)?,
            "total": u.total as f64,
            "usable": u.usable as f64,
            "used": u.used as f64,
            "free": u.free as f64,
            "percent": u.percent,
        }))
    }

    /// The first free address of a range, or `null`.
    #[napi]
    pub fn next_free_address(&self, env: &Env, range_id: i64) -> napi::Result<Option<String>> {
        self.inv.next_free_address(range_id).js(env)
    }

    /// Creates an asset on the first free address of a range (`ip_address` of the
    /// template is ignored).
    #[napi(ts_return_type = "IpAsset")]
    pub fn allocate_next(
        &mut self,
        env: &Env,
        range_id: i64,
        template: NewIpAssetInput,
    ) -> napi::Result<Value> {
        let t = template.to_core().js(env)?;
        let a = self
            .inv
            .allocate_next(&Actor::system(), range_id, &t)
            .js(env)?;
        json(&a).js(env)
    }

    /// Reads an import file (bundle `.json` / `.zip`, Nmap `.xml`, `hosts.csv`,
    /// `ip-assets.csv`, …; the name picks the reader) and plans it against the inventory.
    /// Nothing is written; bad input throws `IPOCKET_INVALID` (`name` `ImportValidationError`) with every
    /// located issue.
    #[napi]
    pub fn plan_import(
        &self,
        env: &Env,
        file_name: String,
        data: Input<'_>,
        options: Option<ImportInputOptions>,
    ) -> napi::Result<ImportPlan> {
        let o = options.unwrap_or_default();
        let discovered_at = match o.discovered_at {
            Some(d) => d,
            None => self.inv.now().js(env)?,
        };
        let bytes = input_bytes(&data)?;
        let bundle =
            ipocket_core::import::parse_file(&file_name, &bytes, &discovered_at).js(env)?;
        let opts = ImportOptions {
            create_missing_projects: o.create_missing_projects.unwrap_or(false),
            create_missing_vendors: o.create_missing_vendors.unwrap_or(false),
        };
        Ok(ImportPlan {
            plan: self.inv.plan(bundle, &opts).js(env)?,
        })
    }

    /// Writes a plan in one transaction (all or nothing). Throws `IPOCKET_CONFLICT` (`name` `StalePlanError`)
    /// when the inventory changed since the plan was made.
    #[napi(ts_return_type = "ApplyReport")]
    pub fn apply(&mut self, env: &Env, plan: &ImportPlan) -> napi::Result<Value> {
        let r = self.inv.apply(&Actor::system(), &plan.plan).js(env)?;
        Ok(serde_json::json!({
            "summary": json(&r.summary).js(env)?,
            "import_run_audit_id": r.import_run_audit_id,
        }))
    }

    /// Exports in one of the formats named by their file name: `bundle.json`,
    /// `bundle.zip`, `ip-assets.csv`, `ip-assets.json`, `hosts.csv`, …
    #[napi]
    pub fn export(
        &self,
        env: &Env,
        file_name: String,
        options: Option<ExportInputOptions>,
    ) -> napi::Result<Buffer> {
        let format = ExportFormat::from_file_name(&file_name)
            .ok_or_else(|| {
                let names: Vec<_> = ExportFormat::ALL.iter().map(|f| f.file_name()).collect();
                JsFailure::argument(format!(
                    "unknown export {file_name:?}: expected one of {}",
                    names.join(", ")
                ))
            })
            .js(env)?;
        let o = options.unwrap_or_default();
        let opts = ExportOptions {
            include_archived: o.include_archived.unwrap_or(false),
            asset_type: o
                .asset_type
                .as_deref()
                .map(asset_type)
                .transpose()
                .js(env)?,
            project: o.project,
            host: o.host,
            exported_at: o.exported_at,
            ..ExportOptions::default()
        };
        Ok(self.inv.export(format, &opts).js(env)?.into())
    }

    /// The inventory gauges (`ipam_*`) as families of `{ labels, value }` samples.
    #[napi(ts_return_type = "Array<InventoryMetricFamily>")]
    pub fn metrics(&self, env: &Env) -> napi::Result<Value> {
        json(&self.inv.inventory_metrics().js(env)?.families).js(env)
    }

    /// The inventory gauges as exposition text, ready for a `/metrics` answer.
    #[napi]
    pub fn render_metrics(
        &self,
        env: &Env,
        format: Option<ExpositionFormat>,
    ) -> napi::Result<String> {
        let f = match format {
            Some(ExpositionFormat::OpenMetrics) => ipocket_expfmt::Format::OpenMetrics,
            _ => ipocket_expfmt::Format::Text,
        };
        Ok(self.inv.inventory_metrics().js(env)?.render(f))
    }

    /// Prometheus service-discovery target groups (`[{ targets, labels }]`).
    #[napi(ts_return_type = "Array<TargetGroup>")]
    pub fn sd_target_groups(
        &self,
        env: &Env,
        options: Option<SdInputOptions>,
    ) -> napi::Result<Value> {
        let o = sd_options(options).js(env)?;
        json(&self.inv.sd_target_groups(&o).js(env)?).js(env)
    }
}

impl Inventory {
    pub(crate) fn core(&self) -> &ipocket_core::Inventory {
        &self.inv
    }
}
