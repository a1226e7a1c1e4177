//! `GET /api/v1/liveness`, `GET /api/v1/reconcile` and `POST /api/v1/reconcile/apply`: what
//! the Prometheus of `--liveness-prometheus-url` sees, beside the inventory
//! (`ipocket_connectors::{liveness, reconcile}`; docs/liveness.md). Every answer comes from
//! the cached liveness (a TTL, a bounded wait): a slow or stopped Prometheus gives 200 with
//! `prometheus.reachable: false`, never a hung request.

use std::sync::Arc;

use hyper::StatusCode;
use ipocket_connectors::liveness::{join, LivenessCache, Snapshot};
use ipocket_connectors::reconcile::{encode_gauges, reconcile, ReconcileList};
use ipocket_core::{ArchivedFilter, AssetFilter, IpAsset};
use ipocket_errors::ApiErrorCode;
use serde_json::json;

use super::connectors::plan_and_answer;
use super::Answer;
use crate::auth;
use crate::errors::ApiError;
use crate::http::{json_response, ApiRequest};
use crate::AppState;

pub(crate) fn cache(state: &AppState) -> Result<&Arc<LivenessCache>, ApiError> {
    state.liveness.as_ref().ok_or_else(|| {
        ApiError::new(
            ApiErrorCode::LivenessNotConfigured,
            "liveness is off: start ipocket serve with --liveness-prometheus-url",
        )
    })
}

/// Every asset, archived ones too (an alive archived address is "unknown").
pub(crate) async fn all_assets(state: &AppState) -> Result<Vec<IpAsset>, ApiError> {
    state
        .read_inventory(|inv| {
            let filter = AssetFilter {
                archived: ArchivedFilter::All,
                ..AssetFilter::default()
            };
            let mut out = Vec::new();
            inv.for_each_ip_asset(&filter, |a| {
                out.push(a);
                Ok(())
            })?;
            Ok(out)
        })
        .await
}

/// `GET /api/v1/liveness` (any reader): every documented address and every address
/// Prometheus knows, with its state, last seen up, jobs and instances.
pub(crate) async fn liveness(state: &AppState, req: &ApiRequest) -> Answer {
    auth::require_reader(state, req).await?;
    let snap = cache(state)?.get().await;
    let assets = all_assets(state).await?;
    let report = tokio::task::spawn_blocking(move || join(&snap.result, &assets))
        .await
        .map_err(|_| ApiError::internal())?;
    Ok(json_response(StatusCode::OK, &report))
}

/// `GET /api/v1/reconcile` (any reader): the Unknown, Reclaimable and Mismatch lists.
pub(crate) async fn lists(state: &AppState, req: &ApiRequest) -> Answer {
    auth::require_reader(state, req).await?;
    let snap = cache(state)?.get().await;
    let assets = all_assets(state).await?;
    let opts = state.config.reconcile.clone();
    let r = tokio::task::spawn_blocking(move || reconcile(&snap.result, &assets, &opts))
        .await
        .map_err(|_| ApiError::internal())?;
    Ok(json_response(StatusCode::OK, &r))
}

/// `POST /api/v1/reconcile/apply?list=unknown|reclaimable`: the import engine's plan of that
/// list (dry run, any user), or with `apply=1` (Editor) its apply, answered like
/// `POST /api/v1/import`. The lists are computed again here, from the server's own data.
pub(crate) async fn apply(state: &AppState, req: &ApiRequest) -> Answer {
    let apply = req.flag("apply")?;
    if apply && req.flag("dry_run")? {
        return Err(ApiError::bad_request("say dry_run=1 or apply=1, not both"));
    }
    let actor = if apply {
        Some(auth::require_editor(state, req).await?)
    } else {
        auth::require_user(state, req).await?;
        None
    };
    let list_text = req.param("list").unwrap_or("");
    let list: ReconcileList = list_text.parse().map_err(|e: String| {
        ApiError::bad_request(format!("list: {e}")).with_details(json!({"field": "list"}))
    })?;
    let snap = cache(state)?.get().await;
    if let Err(e) = &snap.result {
        return Err(ApiError::new(ApiErrorCode::PrometheusFailed, e.clone()));
    }
    let _slot = state.import_slot()?;
    let assets = all_assets(state).await?;
    let opts = state.config.reconcile.clone();
    let (bundle, count) = tokio::task::spawn_blocking(move || {
        let r = reconcile(&snap.result, &assets, &opts);
        r.bundle(list, &opts).map(|b| {
            let count = b.ip_assets.len();
            (b, count)
        })
    })
    .await
    .map_err(|_| ApiError::internal())?
    .map_err(|e| ApiError::new(ApiErrorCode::PrometheusFailed, e))?;
    let collected = json!({ "list": list_text, "addresses": count });
    plan_and_answer(state, actor, bundle, collected, Vec::new()).await
}

/// The drift gauges for `/metrics`, from the last liveness answer without waiting for
/// Prometheus (a stale one starts a refresh in the background); empty before the first
/// answer and when liveness is off. Rendered once per answer and database change.
pub(crate) async fn gauges(
    state: &AppState,
    format: ipocket_core::ExpositionFormat,
    key: &str,
) -> Result<hyper::body::Bytes, ApiError> {
    let Some(snap): Option<Arc<Snapshot>> = state.liveness.as_ref().and_then(|c| c.peek()) else {
        return Ok(hyper::body::Bytes::new());
    };
    let key = format!("{key}#liveness#{}", snap.seq);
    let body = state
        .render_cache
        .get_or_render(key, || async {
            let assets = all_assets(state).await?;
            let opts = state.config.reconcile.clone();
            let text = tokio::task::spawn_blocking(move || {
                let mut enc = ipocket_expfmt::Encoder::new(format);
                encode_gauges(&mut enc, &snap.result, &assets, &opts);
                enc.as_str().to_string()
            })
            .await
            .map_err(|_| ApiError::internal())?;
            Ok(hyper::body::Bytes::from(text))
        })
        .await?;
    Ok(body.raw.clone())
}
