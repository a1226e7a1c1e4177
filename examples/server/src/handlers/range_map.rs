//! The range map, the two utilizations and the next free address that passes over live
//! addresses (`ipocket_connectors::range_map`; docs/liveness.md, "Range map"):
//! `GET /api/v1/ranges/{id}/map?page=N`, `GET /api/v1/ranges/utilization`, and the
//! `skip_alive` parameter of `next-free` and `allocate`. The helpers here serve the UI pages
//! too. Liveness comes from the cached answer: its wait is bounded by
//! `--liveness-timeout-secs`, and without `--liveness-prometheus-url` everything still works
//! with the inventory's states only.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;

use hyper::StatusCode;
use ipocket_connectors::liveness::{PrometheusStatus, Snapshot};
use ipocket_connectors::range_map::{
    alive_undocumented, page_net, range_map, status, utilizations as range_utilizations, RangeMap,
    RangeMapError, RangeUtilizations,
};
use ipocket_core::{
    ArchivedFilter, AssetFilter, IpAsset, IpRange, RangeUtilization, SkippedAddress,
};
use ipocket_errors::ApiErrorCode;
use serde::Serialize;
use serde_json::json;

use super::Answer;
use crate::auth;
use crate::errors::ApiError;
use crate::http::{json_response, ApiRequest};
use crate::AppState;

/// The liveness answer (waiting at most the timeout); `None` when liveness is off.
pub(crate) async fn answer(state: &AppState) -> Option<Arc<Snapshot>> {
    match &state.liveness {
        Some(cache) => Some(cache.get().await),
        None => None,
    }
}

/// The active assets inside `cidr` (all of them with `None`).
async fn active(state: &AppState, cidr: Option<String>) -> Result<Vec<IpAsset>, ApiError> {
    state
        .read_inventory(move |inv| {
            let filter = AssetFilter {
                ip: cidr,
                archived: ArchivedFilter::Active,
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

fn map_error(e: RangeMapError) -> ApiError {
    match e {
        RangeMapError::Page { .. } => {
            ApiError::bad_request(e.to_string()).with_details(json!({"field": "page"}))
        }
        RangeMapError::Cidr(c) => c.into(),
    }
}

/// Page `page` of the map of range `range_id`, with the range.
pub(crate) async fn map_page(
    state: &AppState,
    range_id: i64,
    page: u64,
) -> Result<(IpRange, RangeMap), ApiError> {
    let range = state
        .read_inventory(move |inv| inv.ip_range(range_id))
        .await?;
    // Only the assets of the page's block (the whole range when paged by known addresses).
    let block = page_net(&range.cidr, page).map_err(map_error)?;
    let assets = active(state, Some(block)).await?;
    let snap = answer(state).await;
    let cidr = range.cidr.clone();
    let map = tokio::task::spawn_blocking(move || {
        range_map(&cidr, page, &assets, snap.as_ref().map(|s| &s.result))
    })
    .await
    .map_err(|_| ApiError::internal())?
    .map_err(map_error)?;
    Ok((range, map))
}

/// Both utilizations of `ranges`, and whether the liveness answer was used (`None`: off).
pub(crate) async fn utilizations(
    state: &AppState,
    ranges: Vec<RangeUtilization>,
) -> Result<(Option<PrometheusStatus>, Vec<RangeUtilizations>), ApiError> {
    let snap = answer(state).await;
    let assets = match snap.as_ref().map(|s| s.result.is_ok()) {
        Some(true) => active(state, None).await?,
        _ => Vec::new(),
    };
    tokio::task::spawn_blocking(move || {
        range_utilizations(ranges, &assets, snap.as_ref().map(|s| &s.result))
    })
    .await
    .map_err(|_| ApiError::internal())?
    .map_err(map_error)
}

/// `GET /api/v1/ranges/{id}/map?page=N` (any reader): one page of the map.
pub(crate) async fn map(state: &AppState, req: &ApiRequest, range_id: &str) -> Answer {
    auth::require_reader(state, req).await?;
    let range_id = super::catalog::id(range_id)?;
    let page = req.number("page", 1)?;
    let (range, map) = map_page(state, range_id, page).await?;
    let mut v = serde_json::to_value(&map).map_err(|_| ApiError::internal())?;
    v["range"] = serde_json::to_value(&range).map_err(|_| ApiError::internal())?;
    Ok(json_response(StatusCode::OK, &v))
}

/// `GET /api/v1/ranges/utilization` (any reader): every range with both utilizations.
pub(crate) async fn all_utilizations(state: &AppState, req: &ApiRequest) -> Answer {
    auth::require_reader(state, req).await?;
    let ranges = state
        .read_inventory(|inv| inv.all_range_utilization())
        .await?;
    let (prometheus, ranges) = utilizations(state, ranges).await?;
    Ok(json_response(
        StatusCode::OK,
        &json!({"prometheus": prometheus, "ranges": ranges}),
    ))
}

/// `GET /api/v1/ranges/{id}/utilization` (any reader): both utilizations of one range.
pub(crate) async fn one_utilization(state: &AppState, req: &ApiRequest, range_id: &str) -> Answer {
    auth::require_reader(state, req).await?;
    let range_id = super::catalog::id(range_id)?;
    let u = state
        .read_inventory(move |inv| inv.range_utilization(range_id))
        .await?;
    let (prometheus, mut list) = utilizations(state, vec![u]).await?;
    let mut v = serde_json::to_value(list.remove(0)).map_err(|_| ApiError::internal())?;
    v["prometheus"] = serde_json::to_value(prometheus).map_err(|_| ApiError::internal())?;
    Ok(json_response(StatusCode::OK, &v))
}

/// The addresses the allocator passes over, and whether it does.
pub(crate) struct Avoid {
    /// Address → why.
    pub(crate) addresses: BTreeMap<IpAddr, String>,
    /// Whether live addresses are skipped (asked for, or the default with liveness on).
    pub(crate) skip_alive: bool,
    /// The liveness answer used (`None`: not skipping, or liveness off).
    pub(crate) prometheus: Option<PrometheusStatus>,
}

/// `skip_alive` of a request: absent means "yes when liveness is on"; asking for it with
/// liveness off is a 404 `liveness_not_configured`. With Prometheus unreachable nothing is
/// skipped, and `prometheus.reachable: false` says why.
pub(crate) async fn avoid(state: &AppState, skip_alive: Option<bool>) -> Result<Avoid, ApiError> {
    let skip = match (skip_alive, state.liveness.is_some()) {
        (Some(true), false) => {
            return Err(ApiError::new(
                ApiErrorCode::LivenessNotConfigured,
                "skip_alive needs liveness: start ipocket serve with --liveness-prometheus-url",
            ))
        }
        (Some(s), _) => s,
        (None, on) => on,
    };
    let none = Avoid {
        addresses: BTreeMap::new(),
        skip_alive: skip,
        prometheus: None,
    };
    if !skip {
        return Ok(none);
    }
    let Some(snap) = answer(state).await else {
        return Ok(none);
    };
    let prometheus = Some(status(&snap.result));
    let addresses = if snap.result.is_ok() {
        let assets = active(state, None).await?;
        tokio::task::spawn_blocking(move || match &snap.result {
            Ok(obs) => alive_undocumented(obs, &assets),
            Err(_) => BTreeMap::new(),
        })
        .await
        .map_err(|_| ApiError::internal())?
    } else {
        BTreeMap::new()
    };
    Ok(Avoid {
        addresses,
        skip_alive: skip,
        prometheus,
    })
}

/// The `skip_alive` query parameter: `None` when absent.
pub(crate) fn skip_alive_param(req: &ApiRequest) -> Result<Option<bool>, ApiError> {
    match req.param("skip_alive") {
        None => Ok(None),
        Some(_) => req.flag("skip_alive").map(Some),
    }
}

/// `GET /api/v1/ranges/{id}/next-free[?skip_alive=0|1]` (any reader).
pub(crate) async fn next_free(state: &AppState, req: &ApiRequest, range_id: &str) -> Answer {
    auth::require_reader(state, req).await?;
    let range_id = super::catalog::id(range_id)?;
    let avoid = avoid(state, skip_alive_param(req)?).await?;
    let addresses = avoid.addresses;
    let next = state
        .read_inventory(move |inv| inv.next_free_avoiding(range_id, &addresses))
        .await?;
    Ok(json_response(
        StatusCode::OK,
        &json!({
            "ip_address": next.ip_address,
            "skipped": next.skipped,
            "skip_alive": avoid.skip_alive,
            "prometheus": avoid.prometheus,
        }),
    ))
}

/// The body of an allocation: the asset, and the addresses passed over.
#[derive(Serialize)]
pub(crate) struct Allocated {
    #[serde(flatten)]
    pub(crate) asset: IpAsset,
    pub(crate) skipped: Vec<SkippedAddress>,
}
