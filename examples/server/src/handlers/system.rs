//! `/health`, `/metrics`, `/sd/node` and `/api/v1/sd`.

use hyper::body::Bytes;
use hyper::header::{HeaderValue, CONTENT_ENCODING, VARY};
use hyper::StatusCode;
use ipocket_core::{ExpositionFormat, SdOptions, TokenScope};
use ipocket_expfmt::Encoder;
use serde_json::json;

use std::sync::Arc;

use super::Answer;
use crate::auth;
use crate::errors::ApiError;
use crate::http::{bytes_response, json_response, ApiRequest};
use crate::render_cache::Rendered;
use crate::AppState;

/// `GET /health`: 200 when the database answers with every schema component at this
/// build's version, else 503 with the reason (a load balancer then sends no request here).
pub(crate) async fn health(state: &AppState) -> Answer {
    let database = state.db_health.check().await;
    let (code, status) = if database.ok() {
        (StatusCode::OK, "ok")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
    };
    Ok(json_response(
        code,
        &json!({"status": status, "version": env!("CARGO_PKG_VERSION"), "database": database}),
    ))
}

/// Inventory gauges (from `ipocket-core`) then the server's request counters, in the text
/// format or, when the scraper's `Accept` prefers it (Prometheus does), OpenMetrics 1.0.0.
pub(crate) async fn metrics(state: &AppState, req: &ApiRequest) -> Answer {
    auth::require_scope(state, req, TokenScope::Metrics).await?;
    let format = ExpositionFormat::from_accept(req.header("accept").unwrap_or(""));
    let key = match format {
        ExpositionFormat::Text => "/metrics",
        ExpositionFormat::OpenMetrics => "/metrics#openmetrics",
    };
    let gauges = state
        .render_cache
        .get_or_render(key.into(), || async {
            // Without the end (`# EOF`): the request counters follow.
            let text = state
                .read_inventory(move |inv| {
                    let mut enc = Encoder::new(format);
                    inv.inventory_metrics()?.encode(&mut enc);
                    Ok(enc.as_str().to_string())
                })
                .await?;
            Ok(Bytes::from(text))
        })
        .await?;
    let drift = super::liveness::gauges(state, format, key).await?;
    // The request counters change with every request: rendered each time (a few lines).
    let mut enc = Encoder::new(format);
    state.metrics.encode(&mut enc, format);
    state.rules_auto.encode(&mut enc, format);
    if let Some(queue) = &state.remote_write {
        queue
            .counters()
            .encode(&mut enc, format, "ipocket_remote_write", "pushes");
    }
    let own = enc.finish();
    let mut body = Vec::with_capacity(gauges.raw.len() + drift.len() + own.len());
    body.extend_from_slice(&gauges.raw);
    body.extend_from_slice(&drift);
    body.extend_from_slice(own.as_bytes());
    let mut r = bytes_response(StatusCode::OK, format.content_type(), body);
    r.headers_mut()
        .insert(VARY, HeaderValue::from_static("accept"));
    Ok(r)
}

fn sd_pairs(req: &ApiRequest) -> Vec<(String, String)> {
    req.query.clone()
}

/// The original's `/sd/node`: `port`, `only_assigned`, `project`, `type`, `group_by`.
pub(crate) async fn sd_node(state: &AppState, req: &ApiRequest) -> Answer {
    auth::require_sd_reader(state, req).await?;
    let body = sd_body(state, SdEndpoint::Node, sd_pairs(req)).await?;
    sd_answer(req, body).await
}

/// http_sd with this crate's filters; `__meta_ipocket_*` labels on unless `meta=0`.
pub(crate) async fn http_sd(state: &AppState, req: &ApiRequest) -> Answer {
    auth::require_sd_reader(state, req).await?;
    let body = sd_body(state, SdEndpoint::HttpSd, sd_pairs(req)).await?;
    sd_answer(req, body).await
}

/// The two service-discovery endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SdEndpoint {
    /// `/sd/node` (the original's: no `__meta_ipocket_*` labels unless `meta=1`).
    Node,
    /// `/api/v1/sd` (`__meta_ipocket_*` labels unless `meta=0`).
    HttpSd,
}

impl SdEndpoint {
    pub(crate) const ALL: [SdEndpoint; 2] = [SdEndpoint::HttpSd, SdEndpoint::Node];

    pub(crate) fn path(self) -> &'static str {
        match self {
            SdEndpoint::Node => "/sd/node",
            SdEndpoint::HttpSd => "/api/v1/sd",
        }
    }

    pub(crate) fn from_path(path: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.path() == path)
    }

    fn options(self, pairs: &[(String, String)]) -> ipocket_core::Result<SdOptions> {
        let pairs = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()));
        match self {
            SdEndpoint::Node => SdOptions::from_query_pairs(pairs),
            SdEndpoint::HttpSd => {
                SdOptions::from_query_pairs(std::iter::once(("meta", "1")).chain(pairs))
            }
        }
    }
}

/// The exact body an SD endpoint serves for these query parameters: the target groups as
/// JSON, rendered once per database change and query (the SD preview reads the same entry).
pub(crate) async fn sd_body(
    state: &AppState,
    endpoint: SdEndpoint,
    mut pairs: Vec<(String, String)>,
) -> Result<Arc<Rendered>, ApiError> {
    let options = endpoint.options(&pairs)?;
    pairs.sort_unstable();
    let key = pairs
        .iter()
        .fold(endpoint.path().to_string(), |mut k, (a, b)| {
            // Lengths first so no two queries share a key.
            k.push_str(&format!("&{}:{a}={b}", a.len()));
            k
        });
    state
        .render_cache
        .get_or_render(key, || async {
            let groups = state
                .read_inventory(move |inv| inv.sd_target_groups(&options))
                .await?;
            serde_json::to_vec(&groups)
                .map(Bytes::from)
                .map_err(|_| ApiError::internal())
        })
        .await
}

/// The body as JSON, gzipped when the client accepts it.
async fn sd_answer(req: &ApiRequest, body: Arc<Rendered>) -> Answer {
    if !accepts_gzip(req) {
        return Ok(bytes_response(
            StatusCode::OK,
            "application/json",
            body.raw.clone(),
        ));
    }
    // Compressed once per database change, off the async threads.
    let gz = tokio::task::spawn_blocking(move || body.gzip())
        .await
        .map_err(|_| ApiError::internal())?;
    let mut r = bytes_response(StatusCode::OK, "application/json", gz);
    let h = r.headers_mut();
    h.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    h.insert(VARY, HeaderValue::from_static("accept-encoding"));
    Ok(r)
}

/// `Accept-Encoding` lists gzip (and not with `q=0`).
fn accepts_gzip(req: &ApiRequest) -> bool {
    req.header("accept-encoding").is_some_and(|v| {
        v.split(',').any(|part| {
            let mut it = part.split(';').map(str::trim);
            it.next().is_some_and(|c| c.eq_ignore_ascii_case("gzip"))
                && it.all(|p| {
                    !matches!(
                        p.replace(' ', "").as_str(),
                        "q=0" | "q=0.0" | "q=0.00" | "q=0.000"
                    )
                })
        })
    })
}
