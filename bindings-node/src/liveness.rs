//! `liveness` and `reconcile`: what Prometheus sees, beside the inventory
//! (`ipocket_connectors::{liveness, reconcile}`, the functions behind `ipocket liveness` and
//! `ipocket reconcile`; docs/liveness.md).
//!
//! Both return a Promise: Prometheus is asked on the libuv pool. An unreachable Prometheus
//! resolves (`reachable: false`, documented addresses `unknown`, lists empty); only a bad
//! argument rejects. The lists are planned and applied through the one import engine.

use std::path::PathBuf;
use std::time::Duration;

use ipocket_connectors::liveness::{
    self, inventory_assets, join, observe, parse_span, LivenessOptions, Observations,
};
use ipocket_connectors::reconcile::{self, ReconcileList, ReconcileOptions};
use ipocket_core::{AssetType, IpAsset};
use ipocket_errors::ErrorKind;
use ipocket_http::Auth;
use napi::bindgen_prelude::{AsyncTask, ClassInstance, Either, Env};
use napi::Task;
use serde_json::Value;

use crate::errors::{IntoJs, JsFailure};
use crate::inventory::{json, ImportPlan, Inventory};

/// Where and how to ask Prometheus (`url` is what matters).
#[napi(object)]
#[derive(Debug, Clone)]
pub struct LivenessInputOptions {
    /// Base URL, e.g. `http://127.0.0.1:9090`.
    pub url: String,
    /// Bearer token, or `user:password` for Basic auth.
    pub token: Option<String>,
    /// Skip TLS certificate checks.
    pub insecure: Option<bool>,
    /// Extra PEM CA file.
    pub ca_file: Option<String>,
    /// Bound of all the queries together in milliseconds (default 5000); past it the
    /// answer is `unknown`.
    pub timeout_ms: Option<u32>,
    /// Label holding the address (default `instance`).
    pub ip_label: Option<String>,
    /// Report IPv6 addresses too.
    pub keep_ipv6: Option<bool>,
    /// Label matchers put in every selector, e.g. `job=~"node|blackbox"`.
    pub matchers: Option<String>,
    /// How far back "last seen up" looks (`30d`, `12h`…; default `30d`).
    pub window: Option<String>,
    /// Resolution of "last seen up" (default `5m`).
    pub step: Option<String>,
    /// Also read blackbox_exporter's `probe_success` (it wins over `up` for its targets).
    pub probes: Option<bool>,
}

impl LivenessInputOptions {
    fn to_core(&self) -> Result<LivenessOptions, JsFailure> {
        let bad = |field: &str, why: String| {
            let mut f = JsFailure::argument(format!("{field}: {why}"));
            f.field = Some(field.to_string());
            f
        };
        let mut o = LivenessOptions::new(&self.url);
        o.auth = self
            .token
            .as_deref()
            .filter(|t| !t.is_empty())
            .map(Auth::from_token);
        o.insecure = self.insecure.unwrap_or(false);
        o.ca_file = self.ca_file.as_ref().map(PathBuf::from);
        if let Some(ms) = self.timeout_ms {
            if ms == 0 {
                return Err(bad("timeoutMs", "must be above 0".into()));
            }
            o.timeout = Duration::from_millis(ms.into());
        }
        if let Some(label) = &self.ip_label {
            if label.trim().is_empty() {
                return Err(bad("ipLabel", "must not be empty".into()));
            }
            o.ip_label = label.clone();
        }
        o.keep_ipv6 = self.keep_ipv6.unwrap_or(false);
        o.matchers = self.matchers.clone().unwrap_or_default();
        if let Some(w) = &self.window {
            o.window = parse_span(w).map_err(|e| bad("window", e))?;
        }
        if let Some(s) = &self.step {
            o.step = parse_span(s).map_err(|e| bad("step", e))?;
        }
        if o.window < o.step {
            return Err(bad("window", "must be at least the step".into()));
        }
        o.probes = self.probes.unwrap_or(false);
        Ok(o)
    }
}

/// The rules of the three lists (all optional).
#[napi(object)]
#[derive(Debug, Clone, Default)]
pub struct ReconcileRules {
    /// Days after which a down address is reclaimable (default 30; the window is widened
    /// to it).
    pub down_days: Option<f64>,
    /// Target label compared with the asset's project (default `project`; empty: off).
    pub project_label: Option<String>,
    /// … with its type (default `type`; empty: off).
    pub type_label: Option<String>,
    /// … with its host name (default `host`; empty: off).
    pub host_label: Option<String>,
    /// Type of the assets an "unknown" apply creates (default `OTHER`).
    #[napi(js_name = "type")]
    pub asset_type: Option<String>,
    /// Project of the assets an "unknown" apply creates (must exist).
    pub project: Option<String>,
}

impl ReconcileRules {
    fn to_core(&self) -> Result<ReconcileOptions, JsFailure> {
        let mut o = ReconcileOptions::default();
        if let Some(d) = self.down_days {
            if !(d >= 0.0 && d.is_finite() && d <= 3650.0) {
                let mut f =
                    JsFailure::argument("downDays: must be a number of days from 0 to 3650");
                f.field = Some("downDays".into());
                return Err(f);
            }
            o.down_after = Duration::from_secs_f64(d * 86_400.0);
        }
        if let Some(l) = &self.project_label {
            o.project_label = l.clone();
        }
        if let Some(l) = &self.type_label {
            o.type_label = l.clone();
        }
        if let Some(l) = &self.host_label {
            o.host_label = l.clone();
        }
        if let Some(t) = &self.asset_type {
            o.asset_type = t.parse::<AssetType>()?;
        }
        o.project = self.project.clone().filter(|p| !p.trim().is_empty());
        Ok(o)
    }
}

/// Where the assets come from: read now (an open `Inventory` lives on the JS thread), read
/// on the pool (a file), or none.
enum Assets {
    None,
    File(PathBuf),
    Read(Vec<IpAsset>),
}

/// The inventory argument: an `Inventory`, a file path (never created: a mistyped path
/// would look like an empty inventory), or nothing.
type Source<'a> = Option<Either<ClassInstance<'a, Inventory>, String>>;

impl Assets {
    fn of(source: Source<'_>) -> Result<Assets, JsFailure> {
        match source {
            None => Ok(Assets::None),
            Some(Either::A(inv)) => Ok(Assets::Read(inventory_assets(inv.core())?)),
            Some(Either::B(path)) => {
                let path = PathBuf::from(path);
                if !path.exists() {
                    return Err(ipocket_core::Error::NotFound {
                        entity: "inventory",
                        key: path.display().to_string(),
                    }
                    .into());
                }
                Ok(Assets::File(path))
            }
        }
    }

    fn read(self) -> Result<Vec<IpAsset>, JsFailure> {
        match self {
            Assets::None => Ok(Vec::new()),
            Assets::Read(v) => Ok(v),
            Assets::File(p) => Ok(inventory_assets(&ipocket_core::Inventory::open(p)?)?),
        }
    }
}

/// Reads the assets and asks Prometheus (an outage is the answer `Err(text)`).
fn gather(
    assets: Assets,
    opts: &LivenessOptions,
) -> Result<(Vec<IpAsset>, Result<Observations, String>), JsFailure> {
    let assets = assets.read()?;
    let obs = napi::bindgen_prelude::block_on(observe(opts))?;
    Ok((assets, obs))
}

/// One liveness query on the pool.
pub struct LivenessTask {
    opts: LivenessOptions,
    assets: Option<Assets>,
}

impl Task for LivenessTask {
    type Output = Result<liveness::LivenessReport, JsFailure>;
    type JsValue = LivenessReport;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        let assets = self.assets.take().unwrap_or(Assets::None);
        Ok(gather(assets, &self.opts).map(|(assets, obs)| join(&obs, &assets)))
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> napi::Result<Self::JsValue> {
        Ok(LivenessReport {
            report: output.js(&env)?,
        })
    }
}

/// The liveness of every inventory address and of every address Prometheus knows.
#[napi]
pub struct LivenessReport {
    report: liveness::LivenessReport,
}

#[napi]
impl LivenessReport {
    /// Whether the states come from an answer; `error` says why not.
    #[napi(getter, ts_return_type = "LivenessPrometheusStatus")]
    pub fn prometheus(&self, env: &Env) -> napi::Result<Value> {
        json(&self.report.prometheus).js(env)
    }

    /// Every address, IPv4 first, in numeric order.
    #[napi(getter, ts_return_type = "Array<AddressLiveness>")]
    pub fn addresses(&self, env: &Env) -> napi::Result<Value> {
        json(&self.report.addresses).js(env)
    }

    /// Skipped samples and Prometheus's own warnings.
    #[napi(getter)]
    pub fn warnings(&self) -> Vec<String> {
        self.report.warnings.clone()
    }

    /// Everything as one object (the shape of `ipocket liveness --json` and the API);
    /// `JSON.stringify` uses it.
    #[napi(js_name = "toJSON", ts_return_type = "LivenessReportJson")]
    pub fn to_json(&self, env: &Env) -> napi::Result<Value> {
        json(&self.report).js(env)
    }
}

/// The state of every inventory address and of every address Prometheus knows: `up`,
/// `down`, `not_scraped` or (Prometheus unreachable) `unknown`, with "last seen up", jobs and
/// instances. `inventory` is an `Inventory`, a file path, or `null` (every address
/// undocumented). Resolves even when Prometheus is down (`prometheus.reachable` false);
/// throws `IPOCKET_INVALID` for a bad option, `IPOCKET_NOT_FOUND` for a missing file.
#[napi(
    ts_args_type = "inventory: Inventory | string | null, options: LivenessInputOptions",
    ts_return_type = "Promise<LivenessReport>"
)]
pub fn liveness(
    env: &Env,
    inventory: Option<Either<ClassInstance<'_, Inventory>, String>>,
    options: LivenessInputOptions,
) -> napi::Result<AsyncTask<LivenessTask>> {
    let opts = options.to_core().js(env)?;
    let assets = Assets::of(inventory).js(env)?;
    Ok(AsyncTask::new(LivenessTask {
        opts,
        assets: Some(assets),
    }))
}

/// One reconciliation on the pool.
pub struct ReconcileTask {
    opts: LivenessOptions,
    rules: ReconcileOptions,
    assets: Option<Assets>,
}

impl Task for ReconcileTask {
    type Output = Result<reconcile::Reconciliation, JsFailure>;
    type JsValue = Reconciliation;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        let assets = self.assets.take().unwrap_or(Assets::None);
        Ok(gather(assets, &self.opts)
            .map(|(assets, obs)| reconcile::reconcile(&obs, &assets, &self.rules)))
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> napi::Result<Self::JsValue> {
        Ok(Reconciliation {
            lists: output.js(&env)?,
            rules: self.rules.clone(),
        })
    }
}

/// The three reconciliation lists of `inventory` (an `Inventory` or a file path): Unknown
/// (alive, undocumented), Reclaimable (not scraped, or down for more than `rules.downDays`)
/// and Mismatch (labels that disagree, targets never up). Resolves to a `Reconciliation`
/// (lists empty when Prometheus could not be asked).
#[napi(
    ts_args_type = "inventory: Inventory | string, options: LivenessInputOptions, rules?: ReconcileRules",
    ts_return_type = "Promise<Reconciliation>"
)]
pub fn reconcile(
    env: &Env,
    inventory: Either<ClassInstance<'_, Inventory>, String>,
    options: LivenessInputOptions,
    rules: Option<ReconcileRules>,
) -> napi::Result<AsyncTask<ReconcileTask>> {
    let mut opts = options.to_core().js(env)?;
    let rules = rules.unwrap_or_default().to_core().js(env)?;
    rules.fit(&mut opts);
    let assets = Assets::of(Some(inventory)).js(env)?;
    Ok(AsyncTask::new(ReconcileTask {
        opts,
        rules,
        assets: Some(assets),
    }))
}

/// The three lists of one reconciliation; `plan` and `apply` run Unknown (create) or
/// Reclaimable (archive) through the import engine.
#[napi]
pub struct Reconciliation {
    lists: reconcile::Reconciliation,
    rules: ReconcileOptions,
}

impl Reconciliation {
    fn planned(&self, list: &str, inventory: &Inventory) -> Result<ImportPlan, JsFailure> {
        let list: ReconcileList = list.parse().map_err(|e: String| {
            let mut f = JsFailure::argument(format!("list: {e}"));
            f.field = Some("list".into());
            f
        })?;
        let bundle = self
            .lists
            .bundle(list, &self.rules)
            .map_err(|e| JsFailure::new(ErrorKind::Unavailable, e))?;
        let plan = inventory
            .core()
            .plan(bundle, &ipocket_core::ImportOptions::default())?;
        Ok(ImportPlan { plan })
    }
}

#[napi]
impl Reconciliation {
    /// Whether the lists come from an answer; `error` says why not.
    #[napi(getter, ts_return_type = "LivenessPrometheusStatus")]
    pub fn prometheus(&self, env: &Env) -> napi::Result<Value> {
        json(&self.lists.prometheus).js(env)
    }

    /// Alive in Prometheus, not in the inventory.
    #[napi(getter, ts_return_type = "Array<UnknownAddress>")]
    pub fn unknown(&self, env: &Env) -> napi::Result<Value> {
        json(&self.lists.unknown).js(env)
    }

    /// In the inventory, not scraped or down for too long.
    #[napi(getter, ts_return_type = "Array<ReclaimableAddress>")]
    pub fn reclaimable(&self, env: &Env) -> napi::Result<Value> {
        json(&self.lists.reclaimable).js(env)
    }

    /// Prometheus's labels or targets that disagree with the inventory.
    #[napi(getter, ts_return_type = "Array<Mismatch>")]
    pub fn mismatch(&self, env: &Env) -> napi::Result<Value> {
        json(&self.lists.mismatch).js(env)
    }

    /// The age after which a down address is reclaimable, in seconds.
    #[napi(getter)]
    pub fn down_after_seconds(&self) -> f64 {
        self.lists.down_after_seconds as f64
    }

    /// Everything as one object (the shape of `ipocket reconcile --json` and the API);
    /// `JSON.stringify` uses it.
    #[napi(js_name = "toJSON", ts_return_type = "ReconciliationJson")]
    pub fn to_json(&self, env: &Env) -> napi::Result<Value> {
        json(&self.lists).js(env)
    }

    /// The import engine's dry run of `list` (`'unknown'`: create; `'reclaimable'`:
    /// archive; `'mismatch'`: take Prometheus's project, type and host) against
    /// `inventory`; `inventory.apply(plan)` writes it. Throws
    /// `IPOCKET_UNAVAILABLE` when Prometheus could not be asked.
    #[napi(ts_args_type = "list: 'unknown' | 'reclaimable' | 'mismatch', inventory: Inventory")]
    pub fn plan(&self, env: &Env, list: String, inventory: &Inventory) -> napi::Result<ImportPlan> {
        self.planned(&list, inventory).js(env)
    }

    /// Plans and applies `list` in one transaction, audited with the source
    /// `reconcile:unknown`, `reconcile:reclaimable` or `reconcile:mismatch` (as
    /// `ipocket reconcile --apply`).
    #[napi(
        ts_args_type = "list: 'unknown' | 'reclaimable' | 'mismatch', inventory: Inventory",
        ts_return_type = "ApplyReport"
    )]
    pub fn apply(&self, env: &Env, list: String, inventory: &mut Inventory) -> napi::Result<Value> {
        let plan = self.planned(&list, inventory).js(env)?;
        inventory.apply(env, &plan)
    }
}
