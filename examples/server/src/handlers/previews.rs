//! `GET /api/v1/sd/preview` and `GET /api/v1/alert-rules/{id}/preview` (issue #21): what
//! Prometheus will receive from a service-discovery endpoint, with the live state of each
//! target, and what an alert rule's expression matches now. Both answer 200 whatever
//! Prometheus does: an unreachable one, or its refusal of an expression, is in the answer.

use std::time::Duration;

use hyper::StatusCode;
use ipocket_connectors::sd_preview::{preview, SdPreview};
use ipocket_rulegen::preview::{preview_rule, render_stored_rule, RulePreview};
use ipocket_rulegen::{client_from_settings_with, PrometheusClient};
use serde_json::json;

use super::system::{sd_body, SdEndpoint};
use super::Answer;
use crate::auth;
use crate::errors::ApiError;
use crate::http::{json_response, ApiRequest};
use crate::AppState;

/// Bound of one rule-preview query (Prometheus's own default query timeout is 2 min).
const RULE_PREVIEW_TIMEOUT: Duration = Duration::from_secs(5);

/// The SD endpoint a preview is about: `endpoint=/api/v1/sd` (default) or `/sd/node`.
pub(crate) fn endpoint_param(value: Option<&str>) -> Result<SdEndpoint, ApiError> {
    match value.filter(|v| !v.is_empty()) {
        None => Ok(SdEndpoint::HttpSd),
        Some(v) => SdEndpoint::from_path(v).ok_or_else(|| {
            ApiError::bad_request(format!(
                "endpoint: expected /api/v1/sd or /sd/node, found {v:?}"
            ))
            .with_details(json!({"field": "endpoint"}))
        }),
    }
}

/// The preview of `endpoint` for its query parameters `pairs` (the preview's own `endpoint`
/// aside): the endpoint's body, byte for byte, and the liveness of each target.
pub(crate) async fn build_sd_preview(
    state: &AppState,
    endpoint: SdEndpoint,
    pairs: Vec<(String, String)>,
) -> Result<SdPreview, ApiError> {
    let pairs: Vec<(String, String)> = pairs.into_iter().filter(|(k, _)| k != "endpoint").collect();
    let body = sd_body(state, endpoint, pairs).await?;
    let observations = match &state.liveness {
        Some(cache) => cache.get().await.result.clone(),
        None => Err(
            "liveness is off: start ipocket serve with --liveness-prometheus-url to see states"
                .to_string(),
        ),
    };
    tokio::task::spawn_blocking(move || preview(&body.raw, &observations))
        .await
        .map_err(|_| ApiError::internal())?
        .map_err(|_| ApiError::internal())
}

/// `GET /api/v1/sd/preview?endpoint=…&<the endpoint's parameters>` (any reader).
pub(crate) async fn sd_preview(state: &AppState, req: &ApiRequest) -> Answer {
    auth::require_reader(state, req).await?;
    let endpoint = endpoint_param(req.param("endpoint"))?;
    let p = build_sd_preview(state, endpoint, req.query.clone()).await?;
    Ok(json_response(StatusCode::OK, &p))
}

/// The preview of stored rule `rule_id` against the Prometheus of the `prometheus_url`
/// setting (with the server's Prometheus token and TLS options).
pub(crate) async fn build_rule_preview(
    state: &AppState,
    rule_id: i64,
) -> Result<RulePreview, ApiError> {
    let settings = state.with_rules(|s| s.settings()).await?;
    let version = settings.target_version;
    let rendered = state
        .with_rules(move |s| render_stored_rule(s, rule_id, version))
        .await?;
    let client = client_from_settings_with(&settings, &state.config.prometheus)
        .map(|c: PrometheusClient| c.with_timeout(RULE_PREVIEW_TIMEOUT));
    Ok(match client {
        Ok(c) => preview_rule(&c, &rendered).await,
        Err(e) => RulePreview::from_answer(
            &rendered,
            settings.prometheus_url.as_deref().unwrap_or(""),
            Err(e),
        ),
    })
}

/// `GET /api/v1/alert-rules/{id}/preview` (any user, as the rule itself).
pub(crate) async fn rule_preview(state: &AppState, req: &ApiRequest, rid: &str) -> Answer {
    auth::require_user(state, req).await?;
    let id = rid
        .parse::<i64>()
        .map_err(|_| ApiError::not_found(format!("no record with id {rid:?}")))?;
    let p = build_rule_preview(state, id).await?;
    Ok(json_response(StatusCode::OK, &p))
}
