//! Connector runs over HTTP: `POST /api/v1/connectors/prometheus` and
//! `POST /api/v1/connectors/vcenter`. The body holds the connector inputs; `?dry_run=1`
//! (default) answers the plan with per-item diffs, `?apply=1` (Editor) also applies it, in the
//! same shape as `POST /api/v1/import`. Credentials in the body are used for the one run and
//! never stored, echoed or logged.

use ipocket_errors::ApiErrorCode;
use std::time::Duration;

use hyper::StatusCode;
use ipocket_connectors::prometheus::{
    fetch, query_url, PrometheusConnectorError, PrometheusOptions,
};
use ipocket_connectors::vcenter::{collect, session_url, VcenterError, VcenterOptions};
use ipocket_core::{Actor, AssetType, Bundle, ImportOptions};
use ipocket_core::{ApplyReport, ImportPlan};
use ipocket_http::{Auth, Uri};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::Answer;
use crate::auth;
use crate::errors::ApiError;
use crate::http::{json_response, ApiRequest};
use crate::{AppState, Config};

/// The Prometheus connector's inputs (the API body; the UI's jobs store it without `token`).
#[derive(Deserialize, Serialize, Default, Clone)]
#[serde(deny_unknown_fields)]
pub(crate) struct PrometheusBody {
    pub(crate) prometheus_url: String,
    pub(crate) query: String,
    pub(crate) ip_label: String,
    #[serde(default)]
    pub(crate) asset_type: Option<String>,
    #[serde(default)]
    pub(crate) project: Option<String>,
    #[serde(default)]
    pub(crate) tags: Vec<String>,
    /// `user:password` (Basic) or a Bearer token.
    #[serde(default, skip_serializing)]
    pub(crate) token: Option<String>,
    #[serde(default)]
    pub(crate) insecure: bool,
    #[serde(default)]
    pub(crate) timeout_seconds: Option<f64>,
    #[serde(default)]
    pub(crate) keep_ipv6: bool,
}

/// The vCenter connector's inputs (the password is never serialised).
#[derive(Deserialize, Serialize, Default, Clone)]
#[serde(deny_unknown_fields)]
pub(crate) struct VcenterBody {
    pub(crate) server: String,
    pub(crate) username: String,
    #[serde(default, skip_serializing)]
    pub(crate) password: String,
    #[serde(default)]
    pub(crate) insecure: bool,
    #[serde(default)]
    pub(crate) timeout_seconds: Option<f64>,
    /// Bound of each ESXi host name lookup (default 2 s).
    #[serde(default)]
    pub(crate) resolve_timeout_seconds: Option<f64>,
}

/// `resolve_timeout_seconds`: 0 < s <= 60, default `DEFAULT_RESOLVE_TIMEOUT` (2 s).
fn resolve_timeout(t: Option<f64>) -> Result<Duration, ApiError> {
    match t {
        None => Ok(ipocket_connectors::vcenter::DEFAULT_RESOLVE_TIMEOUT),
        Some(s) if s > 0.0 && s <= 60.0 => Ok(Duration::from_secs_f64(s)),
        Some(s) => Err(ApiError::bad_request(format!(
            "resolve_timeout_seconds: expected 0 < seconds <= 60, found {s}"
        ))
        .with_details(json!({"field": "resolve_timeout_seconds"}))),
    }
}

fn timeout(t: Option<f64>) -> Result<Duration, ApiError> {
    match t {
        None => Ok(Duration::from_secs(30)),
        Some(s) if s > 0.0 && s <= 600.0 => Ok(Duration::from_secs_f64(s)),
        Some(s) => Err(ApiError::bad_request(format!(
            "timeout_seconds: expected 0 < seconds <= 600, found {s}"
        ))
        .with_details(json!({"field": "timeout_seconds"}))),
    }
}

/// `Some(actor)` to apply, `None` for a dry run. Both need an Editor: a dry run makes the
/// server fetch a URL the caller chose.
async fn mode(state: &AppState, req: &ApiRequest) -> Result<Option<Actor>, ApiError> {
    let apply = req.flag("apply")?;
    if apply && req.flag("dry_run")? {
        return Err(ApiError::bad_request("say dry_run=1 or apply=1, not both"));
    }
    let actor = auth::require_editor(state, req).await?;
    Ok(apply.then_some(actor))
}

/// Refuses `url` (the first URL a run would request) unless `--connector-allow` lists its
/// host and port; `field` is the input that named it.
fn check_target<E: std::fmt::Display>(
    config: &Config,
    url: Result<Uri, E>,
    field: &str,
) -> Result<(), ApiError> {
    let Some(allow) = &config.connector_allow else {
        return Ok(());
    };
    let url = url.map_err(|e| {
        ApiError::new(ApiErrorCode::InvalidValue, format!("{field}: {e}"))
            .with_details(json!({ "field": field }))
    })?;
    allow.check(&url).map_err(|e| {
        ApiError::new(ApiErrorCode::TargetNotAllowed, format!("{field}: {e}"))
            .with_details(json!({"field": field, "host": e.host, "port": e.port}))
    })
}

fn unreachable_peer(peer: &str, e: impl std::fmt::Display) -> ApiError {
    ApiError::new(ApiErrorCode::ConnectorFailed, format!("{peer}: {e}"))
}

impl From<PrometheusConnectorError> for ApiError {
    fn from(e: PrometheusConnectorError) -> Self {
        use PrometheusConnectorError as E;
        match e {
            E::InvalidInput(m) => ApiError::new(
                ApiErrorCode::InvalidValue,
                format!("invalid connector input: {m}"),
            ),
            E::Import(core) => ApiError::from(core),
            other => unreachable_peer("Prometheus", other),
        }
    }
}

impl From<VcenterError> for ApiError {
    fn from(e: VcenterError) -> Self {
        match e {
            VcenterError::Import(core) => ApiError::from(core),
            other => unreachable_peer("vCenter", other),
        }
    }
}

/// Plans `bundle` (on a reading connection for a dry run, on the writer for an apply so the
/// plan and its apply see the same data); applies it when `actor` is given.
pub(crate) async fn plan_and_apply(
    state: &AppState,
    actor: Option<Actor>,
    bundle: Bundle,
) -> Result<(ImportPlan, Option<ApplyReport>), ApiError> {
    let options = ImportOptions::default();
    Ok(match actor {
        None => {
            state
                .read_inventory(move |inv| Ok((inv.plan(bundle, &options)?, None)))
                .await?
        }
        Some(actor) => {
            state
                .with_inventory(move |inv| {
                    let plan = inv.plan(bundle, &options)?;
                    let report = inv.apply(&actor, &plan)?;
                    Ok((plan, Some(report)))
                })
                .await?
        }
    })
}

/// Plans (and applies) `bundle` and answers like the import endpoint.
pub(crate) async fn plan_and_answer(
    state: &AppState,
    actor: Option<Actor>,
    bundle: Bundle,
    collected: serde_json::Value,
    warnings: Vec<String>,
) -> Answer {
    let (plan, applied) = plan_and_apply(state, actor, bundle).await?;
    let mode = if applied.is_some() {
        "apply"
    } else {
        "dry_run"
    };
    Ok(json_response(
        StatusCode::OK,
        &json!({
            "mode": mode,
            "collected": collected,
            "warnings": warnings,
            "plan": plan,
            "applied": applied,
        }),
    ))
}

/// The library's options for `b` (asset type, timeout and the allow-list checked, errors at
/// their field), with the server's `--connector-ca-file`.
pub(crate) fn prometheus_options(
    b: &PrometheusBody,
    config: &Config,
) -> Result<PrometheusOptions, ApiError> {
    check_target(
        config,
        query_url(&b.prometheus_url, &b.query),
        "prometheus_url",
    )?;
    let mut opts = PrometheusOptions::new(&b.prometheus_url, &b.query, &b.ip_label);
    if let Some(t) = b.asset_type.as_deref().filter(|t| !t.is_empty()) {
        opts.asset_type = t
            .parse::<AssetType>()
            .map_err(|e| ApiError::from(e).with_details(json!({"field": "asset_type"})))?;
    }
    opts.project_name = b.project.clone().filter(|p| !p.trim().is_empty());
    opts.tags = b
        .tags
        .iter()
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .collect();
    opts.auth = b
        .token
        .as_deref()
        .filter(|t| !t.is_empty())
        .map(Auth::from_token);
    opts.insecure = b.insecure;
    opts.timeout = timeout(b.timeout_seconds)?;
    opts.keep_ipv6 = b.keep_ipv6;
    opts.ca_file = config.connector_ca_file.clone();
    Ok(opts)
}

/// The library's options for `b` (timeout and the allow-list checked), with the server's
/// `--connector-ca-file`.
pub(crate) fn vcenter_options(b: VcenterBody, config: &Config) -> Result<VcenterOptions, ApiError> {
    check_target(config, session_url(&b.server), "server")?;
    Ok(VcenterOptions {
        timeout: timeout(b.timeout_seconds)?,
        server: b.server,
        username: b.username,
        password: b.password,
        insecure: b.insecure,
        ca_file: config.connector_ca_file.clone(),
        resolve_timeout: resolve_timeout(b.resolve_timeout_seconds)?,
    })
}

/// `POST /api/v1/connectors/prometheus`: the seed 000 query connector.
pub(crate) async fn prometheus(state: &AppState, req: &ApiRequest) -> Answer {
    let actor = mode(state, req).await?;
    let b: PrometheusBody = req.json()?;
    let opts = prometheus_options(&b, &state.config)?;
    let x = fetch(&opts).await?;
    let bundle = x.bundle(&opts)?;
    let collected = json!({"samples": x.samples, "ips": x.ips.len()});
    plan_and_answer(state, actor, bundle, collected, x.warnings).await
}

/// `POST /api/v1/connectors/vcenter`: ESXi hosts and VM guest addresses.
pub(crate) async fn vcenter(state: &AppState, req: &ApiRequest) -> Answer {
    let actor = mode(state, req).await?;
    let b: VcenterBody = req.json()?;
    // `password` has a serde default for saved UI configurations; the API still needs one.
    if b.password.is_empty() {
        return Err(
            ApiError::bad_request("password: required").with_details(json!({"field": "password"}))
        );
    }
    let opts = vcenter_options(b, &state.config)?;
    let c = collect(&opts).await?;
    drop(opts);
    let (_, mapping_warnings) = c.bundle_json();
    let bundle = c.bundle()?;
    let collected = json!({"hosts": c.hosts.len(), "vms": c.vms.len()});
    let warnings = c.warnings.into_iter().chain(mapping_warnings).collect();
    plan_and_answer(state, actor, bundle, collected, warnings).await
}
