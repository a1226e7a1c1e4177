//! `/health`, `/metrics`, `/sd/node` and `/api/v1/sd`.

use hyper::StatusCode;
use ipocket_core::{ExpositionFormat, SdOptions};
use serde_json::json;

use super::Answer;
use crate::serve::auth;
use crate::serve::http::{bytes_response, json_response, ApiRequest};
use crate::serve::AppState;

pub(crate) async fn health() -> Answer {
    Ok(json_response(
        StatusCode::OK,
        &json!({"status": "ok", "version": env!("CARGO_PKG_VERSION")}),
    ))
}

/// Inventory gauges (from `ipocket-core`) then the server's request counters.
pub(crate) async fn metrics(state: &AppState, req: &ApiRequest) -> Answer {
    auth::require_reader(state, req).await?;
    let mut text = state
        .read_inventory(|inv| Ok(inv.inventory_metrics()?.render(ExpositionFormat::Text)))
        .await?;
    text.push_str(&state.metrics.render());
    Ok(bytes_response(
        StatusCode::OK,
        "text/plain; version=0.0.4; charset=utf-8",
        text.into_bytes(),
    ))
}

fn sd_pairs(req: &ApiRequest) -> impl Iterator<Item = (&str, &str)> {
    req.query.iter().map(|(k, v)| (k.as_str(), v.as_str()))
}

/// The original's `/sd/node`: `port`, `only_assigned`, `project`, `type`, `group_by`.
pub(crate) async fn sd_node(state: &AppState, req: &ApiRequest) -> Answer {
    auth::require_sd_reader(state, req).await?;
    let options = SdOptions::from_query_pairs(sd_pairs(req))?;
    sd_answer(state, options).await
}

/// http_sd with this crate's filters; `__meta_ipocket_*` labels on unless `meta=0`.
pub(crate) async fn http_sd(state: &AppState, req: &ApiRequest) -> Answer {
    auth::require_sd_reader(state, req).await?;
    let options = SdOptions::from_query_pairs(std::iter::once(("meta", "1")).chain(sd_pairs(req)))?;
    sd_answer(state, options).await
}

async fn sd_answer(state: &AppState, options: SdOptions) -> Answer {
    let groups = state
        .read_inventory(move |inv| inv.sd_target_groups(&options))
        .await?;
    Ok(json_response(StatusCode::OK, &groups))
}
