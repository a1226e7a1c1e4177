//! `POST /metrics/prometheus?server_id=` through `ipocket_connectors::ingest`, and the servers
//! registry it checks (`GET/POST /api/v1/servers`).

use hyper::StatusCode;
use ipocket_connectors::ingest::ingest_now;
use ipocket_connectors::{IngestRequest, SampleStore};
use ipocket_errors::ApiErrorCode;
use serde::Deserialize;
use serde_json::json;

use super::Answer;
use crate::auth;
use crate::errors::ApiError;
use crate::http::{json_response, ApiRequest};
use crate::AppState;

/// The agent's push. The registry is the gate, as in the original: an unknown `server_id` is
/// 403 unless the server runs with `--ingest-unregistered`.
pub(crate) async fn push(state: &AppState, req: &ApiRequest) -> Answer {
    let server_id = req.param("server_id").map(str::to_string);
    let content_type = req.header("content-type").map(str::to_string);
    let body = req.body.clone();
    let forward = state.remote_write.clone().map(|queue| {
        let job = req.param("job").map(str::to_string);
        (queue, job, content_type.clone(), body.clone())
    });
    let opts = state.config.ingest.clone();
    let resp = state
        .with_samples(move |store| {
            let r = IngestRequest {
                server_id: server_id.as_deref(),
                content_type: content_type.as_deref(),
                body: &body,
            };
            ingest_now(store, &r, &opts).map_err(ApiError::from)
        })
        .await?;
    if let Some((queue, job, content_type, body)) = forward {
        // Answered once the copy is on disk; the receiver's state does not matter here.
        let server_id = resp.server_id.clone();
        let _ = tokio::task::spawn_blocking(move || {
            crate::remote_write::forward(
                &queue,
                &server_id,
                job.as_deref(),
                content_type.as_deref(),
                crate::remote_write::now_ms(),
                &body,
            )
        })
        .await;
    }
    Ok(json_response(StatusCode::OK, &resp))
}

/// `GET /metrics/prometheus/health`, the seed's ingest health, without a token and without a
/// secret: `healthy`, `degraded` (remote_write forwarding is failing or its queue is 90 %
/// full) or 503 `unhealthy` (the samples store does not answer). `stream_pending` is the
/// seed's name for the pushes waiting in the remote_write queue.
pub(crate) async fn health(state: &AppState) -> Answer {
    let store_ok = state
        .with_samples(|store| Ok(store.ping().is_ok()))
        .await
        .unwrap_or(false);
    let (remote_write, pending, bytes, max_bytes) = match &state.remote_write {
        None => ("off", 0, 0, 0),
        Some(q) => {
            use std::sync::atomic::Ordering::Relaxed;
            let c = q.counters();
            let state = if c.failing.load(Relaxed) {
                "failing"
            } else {
                "ok"
            };
            (
                state,
                c.buffered_items.load(Relaxed),
                c.buffered_bytes.load(Relaxed),
                q.limits().max_bytes,
            )
        }
    };
    let status = if !store_ok {
        "unhealthy"
    } else if remote_write == "failing" || (max_bytes > 0 && bytes * 10 >= max_bytes * 9) {
        "degraded"
    } else {
        "healthy"
    };
    let code = if store_ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    Ok(json_response(
        code,
        &json!({"status": status, "format": "prometheus", "stream_pending": pending,
                "remote_write": remote_write, "queue_bytes": bytes, "max_queue_bytes": max_bytes}),
    ))
}

/// `GET /api/v1/servers/{id}/summary`: CPU, memory, disk, network rates and uptime from the
/// server's last two node_exporter scrapes in the samples store
/// (`SampleStore::node_summary`): pushes of other exporters do not touch it, and it survives
/// restarts.
pub(crate) async fn summary(state: &AppState, req: &ApiRequest, server_id: &str) -> Answer {
    auth::require_reader(state, req).await?;
    let id = server_id.to_string();
    let found = state
        .with_samples(move |store| {
            store.node_summary(&id).map_err(|e| {
                tracing::error!("reading a node summary failed: {e}");
                ApiError::internal()
            })
        })
        .await?;
    let Some((taken_at_ms, summary)) = found else {
        return Err(ApiError::not_found(format!(
            "no node_exporter samples stored for server {server_id:?}"
        )));
    };
    Ok(json_response(
        StatusCode::OK,
        &json!({"server_id": server_id, "taken_at_ms": taken_at_ms, "summary": summary}),
    ))
}

#[derive(Deserialize)]
struct Registration {
    server_id: String,
    name: Option<String>,
}

pub(crate) async fn register(state: &AppState, req: &ApiRequest) -> Answer {
    let actor = auth::require_editor(state, req).await?.audit_actor();
    let r: Registration = req.json()?;
    if !SampleStore::valid_server_id(&r.server_id) {
        return Err(ApiError::new(
            ApiErrorCode::InvalidValue,
            format!(
                "server_id: invalid server_id {:?}: expected 1-64 letters, digits and inner hyphens",
                r.server_id
            ),
        )
        .with_details(serde_json::json!({"field": "server_id"})));
    }
    let id = r.server_id.clone();
    state
        .with_samples(move |store| {
            store
                .register_server_as(&r.server_id, r.name.as_deref(), &actor)
                .map_err(|e| {
                    tracing::error!("registering a server failed: {e}");
                    ApiError::internal()
                })
        })
        .await?;
    Ok(json_response(
        StatusCode::CREATED,
        &json!({"server_id": id}),
    ))
}

pub(crate) async fn servers(state: &AppState, req: &ApiRequest) -> Answer {
    auth::require_reader(state, req).await?;
    let list = state
        .with_samples(|store| {
            store.registered_servers().map_err(|e| {
                tracing::error!("listing servers failed: {e}");
                ApiError::internal()
            })
        })
        .await?;
    let items: Vec<_> = list
        .into_iter()
        .map(|s| {
            json!({"server_id": s.server_id, "name": s.name,
                   "created_at_ms": s.created_at_ms, "last_seen_at_ms": s.last_seen_at_ms})
        })
        .collect();
    Ok(json_response(StatusCode::OK, &items))
}

/// Series per page of the samples listing when `limit` is not given (at most the
/// `--samples-max-limit`).
const SAMPLES_DEFAULT_LIMIT: usize = 1000;

/// `GET /api/v1/servers/{id}/samples?metric=NAME[&label=NAME=VALUE…][&limit=N][&after=C]`:
/// the latest stored sample of every series of one metric pushed by that server, one page
/// at a time (ordered by labels; `next_after` is the `after` of the next page, `null` on the
/// last).
pub(crate) async fn samples(state: &AppState, req: &ApiRequest, server_id: &str) -> Answer {
    auth::require_reader(state, req).await?;
    let metric = req
        .param("metric")
        .filter(|m| !m.is_empty())
        .ok_or_else(|| {
            ApiError::bad_request("metric: required (?metric=node_load1)")
                .with_details(json!({"field": "metric"}))
        })?
        .to_string();
    let mut filters = Vec::new();
    for (k, v) in req.query.iter().filter(|(k, _)| k == "label") {
        let (name, value) = v.split_once('=').ok_or_else(|| {
            ApiError::bad_request(format!("{k}: expected NAME=VALUE, found {v:?}"))
                .with_details(json!({"field": "label"}))
        })?;
        filters.push((name.to_string(), value.to_string()));
    }
    let max = state.config.samples_max_limit;
    let limit = match req.param("limit").filter(|l| !l.is_empty()) {
        None => SAMPLES_DEFAULT_LIMIT.min(max),
        Some(l) => l
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=max).contains(n))
            .ok_or_else(|| {
                ApiError::bad_request(format!("limit: expected 1..={max}, found {l:?}"))
                    .with_details(json!({"field": "limit"}))
            })?,
    };
    let after = req
        .param("after")
        .filter(|a| !a.is_empty())
        .map(str::to_string);
    let id = server_id.to_string();
    let (rows, more) = state
        .with_samples(move |store| {
            if !store.is_registered(&id).map_err(store_failed)?
                && store.count(Some(&id)).map_err(store_failed)? == 0
            {
                return Err(ApiError::not_found(format!("no server {id:?}")));
            }
            let f: Vec<(&str, &str)> = filters
                .iter()
                .map(|(a, b)| (a.as_str(), b.as_str()))
                .collect();
            store
                .latest_page(&id, &metric, &f, after.as_deref(), limit)
                .map_err(store_failed)
        })
        .await?;
    let next_after = more
        .then(|| rows.last().map(|s| s.labels.clone()))
        .flatten();
    let items: Vec<_> = rows
        .into_iter()
        .map(|s| {
            let labels: serde_json::Value =
                serde_json::from_str(&s.labels).unwrap_or(serde_json::Value::Null);
            json!({
                "metric_name": s.metric_name,
                "metric_type": s.metric_type,
                "labels": labels,
                "value": sample_value(s.value),
                "timestamp_ms": s.timestamp_ms,
                "help": s.help,
                "unit": s.unit,
            })
        })
        .collect();
    Ok(json_response(
        StatusCode::OK,
        &json!({"server_id": server_id, "count": items.len(), "limit": limit,
                "has_more": more, "next_after": next_after, "items": items}),
    ))
}

/// A sample value as JSON: a number, or — JSON having no NaN or infinities — the strings
/// Prometheus's own API writes for them (`"NaN"`, `"+Inf"`, `"-Inf"`).
fn sample_value(v: f64) -> serde_json::Value {
    if v.is_nan() {
        json!("NaN")
    } else if v.is_infinite() {
        json!(if v > 0.0 { "+Inf" } else { "-Inf" })
    } else {
        json!(v)
    }
}

fn store_failed(e: impl std::fmt::Display) -> ApiError {
    tracing::error!("reading the samples store failed: {e}");
    ApiError::internal()
}
