//! Connectors over `ipocket-connectors`: the Prometheus query and vCenter connectors
//! (network work returns a Promise) and the service-discovery file writer.

use std::path::PathBuf;
use std::time::Duration;

use ipocket_connectors::prometheus::{self, Extraction, PrometheusOptions};
use ipocket_connectors::sd_updater::{self, SdUpdaterConfig, SdUpdaterError};
use ipocket_connectors::vcenter::{self, VcenterError, VcenterOptions};
use ipocket_core::AssetType;
use ipocket_http::Auth;
use napi::bindgen_prelude::{AsyncTask, Env};
use napi::Task;
use serde_json::Value;

use crate::errors::{IntoJs, JsFailure};
use crate::inventory::{sd_options, ImportPlan, Inventory, SdInputOptions};
use ipocket_errors::ErrorKind;

/// What the Prometheus connector asks (`url`, `query` and `ipLabel` are what matter).
#[napi(object)]
#[derive(Debug)]
pub struct PrometheusConnectorOptions {
    /// Base URL, e.g. `http://127.0.0.1:9090`.
    pub url: String,
    /// PromQL instant query; its vector result carries the addresses.
    pub query: String,
    /// Label holding the address (`host:port` works); default `instance`.
    pub ip_label: Option<String>,
    /// Type of new assets (default `OTHER`; existing assets keep theirs).
    #[napi(js_name = "type")]
    pub asset_type: Option<String>,
    /// Project of every asset (must exist).
    pub project: Option<String>,
    /// Tags of every asset.
    pub tags: Option<Vec<String>>,
    /// Bearer token, or `user:password` for Basic auth.
    pub token: Option<String>,
    /// Skip TLS certificate checks.
    pub insecure: Option<bool>,
    /// Extra PEM CA file.
    pub ca_file: Option<String>,
    /// Per-attempt timeout in milliseconds (default 30000).
    pub timeout_ms: Option<u32>,
    /// Import IPv6 addresses too.
    pub keep_ipv6: Option<bool>,
    /// Retries after transport errors (default 2).
    pub retries: Option<u32>,
}

impl PrometheusConnectorOptions {
    fn to_core(&self) -> Result<PrometheusOptions, JsFailure> {
        let mut o = PrometheusOptions::new(
            &self.url,
            &self.query,
            self.ip_label.as_deref().unwrap_or("instance"),
        );
        if let Some(t) = &self.asset_type {
            o.asset_type = t.parse::<AssetType>()?;
        }
        o.project_name = self.project.clone();
        o.tags = self.tags.clone().unwrap_or_default();
        o.auth = self.token.as_deref().map(Auth::from_token);
        o.insecure = self.insecure.unwrap_or(false);
        o.ca_file = self.ca_file.as_ref().map(PathBuf::from);
        if let Some(ms) = self.timeout_ms {
            o.timeout = Duration::from_millis(ms.into());
        }
        o.keep_ipv6 = self.keep_ipv6.unwrap_or(false);
        if let Some(r) = self.retries {
            o.retries = r as usize;
        }
        Ok(o)
    }
}

/// The addresses one Prometheus query found, with the warnings; plan them against an
/// inventory or write them as a bundle file.
#[napi]
pub struct PrometheusExtraction {
    extraction: Extraction,
    options: PrometheusOptions,
}

#[napi]
impl PrometheusExtraction {
    /// Samples in the answer.
    #[napi(getter)]
    pub fn samples(&self) -> u32 {
        self.extraction.samples as u32
    }

    /// Addresses found, first occurrence order: `{ ip, metric, value, sample }`.
    #[napi(
        getter,
        ts_return_type = "Array<{ ip: string; metric: string; value: string; sample: number }>"
    )]
    pub fn ips(&self) -> Value {
        self.extraction
            .ips
            .iter()
            .map(|x| {
                serde_json::json!({"ip": x.ip, "metric": x.metric, "value": x.value, "sample": x.sample})
            })
            .collect()
    }

    /// Skipped samples and Prometheus's own warnings.
    #[napi(getter)]
    pub fn warnings(&self) -> Vec<String> {
        self.extraction.warnings.clone()
    }

    /// The bundle (schema version 1) file mode writes.
    #[napi(ts_return_type = "Record<string, unknown>")]
    pub fn bundle(&self) -> Value {
        self.extraction.bundle_json(&self.options)
    }

    /// Writes the bundle as pretty JSON to `path`, atomically (file mode).
    #[napi]
    pub fn write_bundle(&self, env: &Env, path: String) -> napi::Result<()> {
        write_json_atomic(&self.bundle(), &path).js(env)
    }

    /// The dry run against an inventory (nothing is written; `inventory.apply(plan)`
    /// writes it).
    #[napi]
    pub fn plan(&self, env: &Env, inventory: &Inventory) -> napi::Result<ImportPlan> {
        let plan = self
            .extraction
            .plan(inventory.core(), &self.options)
            .js(env)?;
        Ok(ImportPlan { plan })
    }

    /// The connector's dry-run report lines for a plan of this extraction.
    #[napi]
    pub fn dry_run_report(&self, plan: &ImportPlan) -> Vec<String> {
        prometheus::dry_run_report(&self.extraction, &plan.plan)
    }
}

/// The query running on the shared tokio runtime; settles on the JS thread.
pub struct FetchPrometheus {
    options: PrometheusOptions,
}

impl Task for FetchPrometheus {
    type Output = Result<Extraction, prometheus::PrometheusConnectorError>;
    type JsValue = PrometheusExtraction;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        Ok(napi::bindgen_prelude::block_on(prometheus::fetch(
            &self.options,
        )))
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> napi::Result<Self::JsValue> {
        match output {
            Ok(extraction) => Ok(PrometheusExtraction {
                extraction,
                options: self.options.clone(),
            }),
            Err(e) => Err(JsFailure::from(e).into_napi(&env)),
        }
    }
}

/// Runs the query on Prometheus and extracts the addresses; resolves to a
/// `PrometheusExtraction`, rejects with `IPOCKET_UNAVAILABLE` (Prometheus failed; `status` when it answered) or
/// `IPOCKET_INVALID`.
#[napi(ts_return_type = "Promise<PrometheusExtraction>")]
pub fn fetch_prometheus(
    env: &Env,
    options: PrometheusConnectorOptions,
) -> napi::Result<AsyncTask<FetchPrometheus>> {
    Ok(AsyncTask::new(FetchPrometheus {
        options: options.to_core().js(env)?,
    }))
}

/// What `writeSdFile` did.
#[napi(object)]
#[derive(Debug)]
pub struct SdWriteReport {
    /// Target groups written.
    pub groups: u32,
    /// Targets in all groups.
    pub targets: u32,
    /// False when the file already had this content (it is not rewritten).
    pub written: bool,
}

impl From<SdUpdaterError> for JsFailure {
    fn from(e: SdUpdaterError) -> JsFailure {
        match e {
            SdUpdaterError::Inventory(core) => core.into(),
            other => JsFailure::of(&other),
        }
    }
}

/// One cycle of the service-discovery updater: reads the inventory file at `db` and
/// writes its target groups to `targetsFile` (file_sd JSON, atomically, only when they
/// changed).
#[napi]
pub fn write_sd_file(
    env: &Env,
    db: String,
    targets_file: String,
    options: Option<SdInputOptions>,
) -> napi::Result<SdWriteReport> {
    let mut cfg = SdUpdaterConfig::new(db.as_ref(), targets_file.as_ref());
    if let Some(o) = options {
        let default_path = cfg.sd.metrics_path.take();
        cfg.sd = sd_options(Some(o)).js(env)?;
        cfg.sd.metrics_path = cfg.sd.metrics_path.take().or(default_path);
    }
    // A local inventory: no network, so the cycle (async for the remote source) runs to
    // completion here and the call stays synchronous.
    let r = napi::bindgen_prelude::block_on(sd_updater::write_cycle(&cfg)).js(env)?;
    Ok(SdWriteReport {
        groups: r.groups as u32,
        targets: r.targets as u32,
        written: r.written,
    })
}

/// What the vCenter connector needs.
#[napi(object)]
#[derive(Debug)]
pub struct VcenterConnectorOptions {
    /// Base URL, e.g. `https://vcenter.example`.
    pub server: String,
    /// User name.
    pub username: String,
    /// Password.
    pub password: String,
    /// Skip TLS certificate checks.
    pub insecure: Option<bool>,
    /// Extra PEM CA file.
    pub ca_file: Option<String>,
    /// Per-request timeout in milliseconds (default 30000).
    pub timeout_ms: Option<u32>,
}

/// Hosts and VMs (with guest addresses) read from vCenter; plan them against an inventory
/// or write them as a bundle file.
#[napi]
pub struct VcenterCollection {
    collection: vcenter::Collection,
}

#[napi]
impl VcenterCollection {
    /// ESXi hosts: `{ id, name }`.
    #[napi(getter, ts_return_type = "Array<{ id: string; name: string }>")]
    pub fn hosts(&self) -> Value {
        self.collection
            .hosts
            .iter()
            .map(|h| serde_json::json!({"id": h.id, "name": h.name}))
            .collect()
    }

    /// VMs: `{ id, name, host_name, ips }`.
    #[napi(
        getter,
        ts_return_type = "Array<{ id: string; name: string; host_name: string | null; ips: string[] }>"
    )]
    pub fn vms(&self) -> Value {
        self.collection
            .vms
            .iter()
            .map(|v| {
                serde_json::json!({"id": v.id, "name": v.name, "host_name": v.host_name, "ips": v.ips})
            })
            .collect()
    }

    /// Collection warnings plus the mapping warnings of the bundle.
    #[napi(getter)]
    pub fn warnings(&self) -> Vec<String> {
        let (_, mapping) = self.collection.bundle_json();
        self.collection
            .warnings
            .iter()
            .cloned()
            .chain(mapping)
            .collect()
    }

    /// The bundle file mode writes (hosts, `OS` assets of hosts, `VM` assets).
    #[napi(ts_return_type = "Record<string, unknown>")]
    pub fn bundle(&self) -> Value {
        self.collection.bundle_json().0
    }

    /// Writes the bundle as pretty JSON to `path`, atomically (file mode).
    #[napi]
    pub fn write_bundle(&self, env: &Env, path: String) -> napi::Result<()> {
        write_json_atomic(&self.bundle(), &path).js(env)
    }

    /// The dry run against an inventory (`inventory.apply(plan)` writes it).
    #[napi]
    pub fn plan(&self, env: &Env, inventory: &Inventory) -> napi::Result<ImportPlan> {
        let plan = self.collection.plan(inventory.core()).js(env)?;
        Ok(ImportPlan { plan })
    }
}

impl From<VcenterError> for JsFailure {
    fn from(e: VcenterError) -> JsFailure {
        let failure = JsFailure::of(&e);
        match e {
            VcenterError::Login(status) | VcenterError::Status { status, .. } => {
                failure.status(status)
            }
            VcenterError::Import(core) => core.into(),
            _ => failure,
        }
    }
}

/// The vCenter session (login, listings, logout) on the shared tokio runtime.
pub struct FetchVcenter {
    options: VcenterOptions,
}

impl Task for FetchVcenter {
    type Output = Result<vcenter::Collection, VcenterError>;
    type JsValue = VcenterCollection;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        Ok(napi::bindgen_prelude::block_on(vcenter::collect(
            &self.options,
        )))
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> napi::Result<Self::JsValue> {
        match output {
            Ok(collection) => Ok(VcenterCollection { collection }),
            Err(e) => Err(JsFailure::from(e).into_napi(&env)),
        }
    }
}

/// Logs in to vCenter, reads hosts, VMs and guest addresses, logs out; resolves to a
/// `VcenterCollection`, rejects with `IPOCKET_UNAVAILABLE` (`status` 401 for a refused login).
#[napi(ts_return_type = "Promise<VcenterCollection>")]
pub fn fetch_vcenter(options: VcenterConnectorOptions) -> AsyncTask<FetchVcenter> {
    AsyncTask::new(FetchVcenter {
        options: VcenterOptions {
            server: options.server,
            username: options.username,
            password: options.password,
            insecure: options.insecure.unwrap_or(false),
            ca_file: options.ca_file.map(PathBuf::from),
            timeout: Duration::from_millis(options.timeout_ms.unwrap_or(30_000).into()),
            resolve_timeout: vcenter::DEFAULT_RESOLVE_TIMEOUT,
        },
    })
}

fn write_json_atomic(value: &Value, path: &str) -> Result<(), JsFailure> {
    let mut bytes = serde_json::to_vec_pretty(value)
        .map_err(|e| JsFailure::new(ErrorKind::Internal, e.to_string()))?;
    bytes.push(b'\n');
    ipocket_files::write(std::path::Path::new(path), &bytes)
        .map(drop)
        .map_err(|e| JsFailure::of(&e))
}
