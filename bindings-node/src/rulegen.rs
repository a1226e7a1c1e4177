//! Alert rule generation over `ipocket-rulegen`: the `RuleStore` (groups, targets,
//! templates, rules in SQLite), rule-file generation, and the `PrometheusClient` whose
//! network calls return Promises.
//!
//! Templates and rules are given as the objects rulegen reads (`query_template`,
//! `default_vars`, `group_id`, `template_id`, …), the same shape the records come back in.

use std::time::Duration;

use ipocket_rulegen::{NewRule, NewTemplate, PrometheusVersion, RuleGenerator};
use napi::bindgen_prelude::{AsyncTask, Env};
use napi::{ScopedTask, Unknown};
use serde_json::Value;

use crate::errors::{IntoJs, JsFailure};
use crate::inventory::json;

fn version(v: Option<String>) -> Result<PrometheusVersion, JsFailure> {
    match v {
        None => Ok(PrometheusVersion::DEFAULT),
        Some(s) => Ok(s.parse::<PrometheusVersion>()?),
    }
}

fn from_object<T: serde::de::DeserializeOwned>(what: &str, v: Value) -> Result<T, JsFailure> {
    serde_json::from_value(v).map_err(|e| JsFailure::argument(format!("{what}: {e}")))
}

/// Options of `RuleStore.generate`.
#[napi(object)]
#[derive(Debug, Default)]
pub struct GenerateOptions {
    /// Only compute the changes and diffs; write nothing.
    pub dry_run: Option<bool>,
    /// Only this group (id); default every group.
    pub group_id: Option<i64>,
    /// Prometheus version the files target, e.g. `2.42` (default).
    pub prometheus_version: Option<String>,
    /// Backups kept per file (`.bak`, `.bak.1`, …).
    pub backups: Option<u32>,
    /// Check each file with this promtool before writing it.
    pub promtool: Option<String>,
}

/// Groups, targets, alert templates and rules, kept in one SQLite file.
#[napi]
pub struct RuleStore {
    store: ipocket_rulegen::RuleStore,
}

#[napi]
impl RuleStore {
    /// Opens (or creates) the rule store at `path`.
    #[napi(factory)]
    pub fn open(env: &Env, path: String) -> napi::Result<RuleStore> {
        Ok(RuleStore {
            store: ipocket_rulegen::RuleStore::open(path).js(env)?,
        })
    }

    /// A fresh store in memory.
    #[napi(factory)]
    pub fn open_in_memory(env: &Env) -> napi::Result<RuleStore> {
        Ok(RuleStore {
            store: ipocket_rulegen::RuleStore::open_in_memory().js(env)?,
        })
    }

    /// Creates a group.
    #[napi(ts_return_type = "RuleGroupRecord")]
    pub fn create_group(
        &self,
        env: &Env,
        name: String,
        description: Option<String>,
    ) -> napi::Result<Value> {
        let g = self
            .store
            .create_group(&name, description.as_deref().unwrap_or(""))
            .js(env)?;
        json(&g).js(env)
    }

    /// Every group.
    #[napi(ts_return_type = "Array<RuleGroupRecord>")]
    pub fn groups(&self, env: &Env) -> napi::Result<Value> {
        json(&self.store.groups().js(env)?).js(env)
    }

    /// Creates a target (a host name and address) in some groups; with none, in a new group
    /// of its own, `target-<hostname>`.
    #[napi(ts_return_type = "RuleTarget")]
    pub fn create_target(
        &self,
        env: &Env,
        hostname: String,
        address: String,
        group_ids: Vec<i64>,
    ) -> napi::Result<Value> {
        let t = self
            .store
            .create_target(&hostname, &address, &group_ids)
            .js(env)?;
        json(&t).js(env)
    }

    /// Every target.
    #[napi(ts_return_type = "Array<RuleTarget>")]
    pub fn targets(&self, env: &Env) -> napi::Result<Value> {
        json(&self.store.targets().js(env)?).js(env)
    }

    /// Creates an alert template (`{ name, query_template, default_vars?, for_duration?,
    /// severity?, labels?, annotations?, … }`).
    #[napi(ts_return_type = "AlertTemplate")]
    pub fn create_template(
        &self,
        env: &Env,
        #[napi(ts_arg_type = "NewAlertTemplate")] template: Value,
    ) -> napi::Result<Value> {
        let t: NewTemplate = from_object("template", template).js(env)?;
        json(&self.store.create_template(&t).js(env)?).js(env)
    }

    /// Every template.
    #[napi(ts_return_type = "Array<AlertTemplate>")]
    pub fn templates(&self, env: &Env) -> napi::Result<Value> {
        json(&self.store.templates().js(env)?).js(env)
    }

    /// Creates a rule: a template applied to a group with its own variables
    /// (`{ group_id, template_id, vars?, severity?, … }`).
    #[napi(ts_return_type = "AlertRule")]
    pub fn create_rule(
        &self,
        env: &Env,
        #[napi(ts_arg_type = "NewAlertRule")] rule: Value,
    ) -> napi::Result<Value> {
        let r: NewRule = from_object("rule", rule).js(env)?;
        json(&self.store.create_rule(&r).js(env)?).js(env)
    }

    /// Every rule, or those of one group.
    #[napi(ts_return_type = "Array<AlertRule>")]
    pub fn rules(&self, env: &Env, group_id: Option<i64>) -> napi::Result<Value> {
        json(&self.store.rules(group_id).js(env)?).js(env)
    }

    /// The rule files a generation would write (validated; nothing is written).
    #[napi(ts_return_type = "GenerationPlan")]
    pub fn plan(
        &self,
        env: &Env,
        prometheus_version: Option<String>,
        group_id: Option<i64>,
    ) -> napi::Result<Value> {
        let v = version(prometheus_version).js(env)?;
        let p = ipocket_rulegen::generate::plan(&self.store, v, group_id).js(env)?;
        json(&p).js(env)
    }

    /// The rules that apply to a target (by host name or address) through its groups.
    #[napi(ts_return_type = "Record<string, unknown>")]
    pub fn effective_rules(
        &self,
        env: &Env,
        target: String,
        prometheus_version: Option<String>,
    ) -> napi::Result<Value> {
        let v = version(prometheus_version).js(env)?;
        let e = ipocket_rulegen::generate::effective_rules(&self.store, &target, v).js(env)?;
        json(&e).js(env)
    }

    /// Renders, validates and writes one rule file per group into `ruleDir` (atomically,
    /// with backups); returns what changed with diffs. Nothing is written when any rule
    /// is invalid (`IPOCKET_INVALID`, `name` `RuleValidationError`, lists every issue).
    #[napi(ts_return_type = "GenerateReport")]
    pub fn generate(
        &self,
        env: &Env,
        rule_dir: String,
        options: Option<GenerateOptions>,
    ) -> napi::Result<Value> {
        let o = options.unwrap_or_default();
        let mut g = RuleGenerator::new(rule_dir, version(o.prometheus_version).js(env)?);
        if let Some(n) = o.backups {
            g = g.with_backups(n as usize);
        }
        if let Some(p) = o.promtool {
            g = g.with_promtool(p);
        }
        let report = g
            .generate(&self.store, o.group_id, o.dry_run.unwrap_or(false))
            .js(env)?;
        json(&report).js(env)
    }
}

/// Options of the `PrometheusClient` constructor.
#[napi(object)]
#[derive(Debug, Default)]
pub struct PrometheusClientOptions {
    /// Per-request timeout in milliseconds.
    pub timeout_ms: Option<u32>,
    /// Bearer token, or `user:password` for Basic auth.
    pub token: Option<String>,
    /// Skip TLS certificate checks.
    pub insecure: Option<bool>,
    /// Extra PEM CA file.
    pub ca_file: Option<String>,
}

/// Prometheus's lifecycle and rules API (`/-/reload`, `/api/v1/rules`, health).
#[napi]
pub struct PrometheusClient {
    client: ipocket_rulegen::PrometheusClient,
}

enum ClientCall {
    Reload,
    ReloadAndConfirm(Vec<String>),
    RuleGroups,
    Status,
}

/// One client call on the shared tokio runtime.
pub struct PrometheusCall {
    client: ipocket_rulegen::PrometheusClient,
    call: ClientCall,
}

impl<'task> ScopedTask<'task> for PrometheusCall {
    type Output = Result<Value, JsFailure>;
    type JsValue = Unknown<'task>;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        let c = &self.client;
        Ok(napi::bindgen_prelude::block_on(async {
            match &self.call {
                ClientCall::Reload => c.reload().await.map(Value::from).map_err(Into::into),
                ClientCall::ReloadAndConfirm(groups) => json(&c.reload_and_confirm(groups).await?),
                ClientCall::RuleGroups => json(&c.rule_groups().await?),
                ClientCall::Status => json(&c.status().await),
            }
        }))
    }

    fn resolve(&mut self, env: &'task Env, output: Self::Output) -> napi::Result<Unknown<'task>> {
        env.to_js_value(&output.js(env)?)
    }
}

#[napi]
impl PrometheusClient {
    /// A client of the Prometheus at `baseUrl` (e.g. `http://127.0.0.1:9090`).
    #[napi(constructor)]
    pub fn new(
        env: &Env,
        base_url: String,
        options: Option<PrometheusClientOptions>,
    ) -> napi::Result<PrometheusClient> {
        let o = options.unwrap_or_default();
        let connect = ipocket_rulegen::ConnectOptions::from_flags(
            o.token.as_deref(),
            o.ca_file.map(std::path::PathBuf::from),
            o.insecure.unwrap_or(false),
        );
        let mut client = ipocket_rulegen::PrometheusClient::new(&base_url)
            .and_then(|c| c.with_connect_options(&connect))
            .js(env)?;
        if let Some(ms) = o.timeout_ms {
            client = client.with_timeout(Duration::from_millis(ms.into()));
        }
        Ok(PrometheusClient { client })
    }

    fn call(&self, call: ClientCall) -> AsyncTask<PrometheusCall> {
        AsyncTask::new(PrometheusCall {
            client: self.client.clone(),
            call,
        })
    }

    /// `POST /-/reload`; resolves to the number of attempts it took.
    #[napi(ts_return_type = "Promise<number>")]
    pub fn reload(&self) -> AsyncTask<PrometheusCall> {
        self.call(ClientCall::Reload)
    }

    /// Reloads, then polls `/api/v1/rules` until every expected group is loaded.
    #[napi(ts_return_type = "Promise<ReloadReport>")]
    pub fn reload_and_confirm(&self, expected_groups: Vec<String>) -> AsyncTask<PrometheusCall> {
        self.call(ClientCall::ReloadAndConfirm(expected_groups))
    }

    /// The rule groups Prometheus has loaded (`/api/v1/rules`).
    #[napi(ts_return_type = "Promise<Array<{ name: string; file: string; rules: string[] }>>")]
    pub fn rule_groups(&self) -> AsyncTask<PrometheusCall> {
        self.call(ClientCall::RuleGroups)
    }

    /// Reachable, healthy, ready and version; never rejects.
    #[napi(ts_return_type = "Promise<PrometheusStatus>")]
    pub fn status(&self) -> AsyncTask<PrometheusCall> {
        self.call(ClientCall::Status)
    }
}
