//! Read and create for the catalog: projects, vendors, tags, hosts, ranges (utilization, next
//! free address) and the audit log. Update and delete are not served yet.

use hyper::StatusCode;
use ipocket_core::{AuditFilter, Page};
use serde::Deserialize;
use serde_json::json;

use super::Answer;
use crate::serve::auth;
use crate::serve::errors::ApiError;
use crate::serve::http::{json_response, ApiRequest};
use crate::serve::AppState;

/// The catalog collections served under `/api/v1/{name}`.
#[derive(Clone, Copy)]
pub(crate) enum Collection {
    Projects,
    Vendors,
    Tags,
    Hosts,
    Ranges,
}

impl Collection {
    pub(crate) fn from_segment(s: &str) -> Option<Self> {
        Some(match s {
            "projects" => Collection::Projects,
            "vendors" => Collection::Vendors,
            "tags" => Collection::Tags,
            "hosts" => Collection::Hosts,
            "ranges" => Collection::Ranges,
            _ => return None,
        })
    }
}

pub(crate) async fn list(state: &AppState, req: &ApiRequest, c: Collection) -> Answer {
    auth::require_reader(state, req).await?;
    let value = state
        .read_inventory(move |inv| {
            let to = |v: Result<serde_json::Value, serde_json::Error>| {
                v.map_err(|e| ipocket_core::Error::Io(std::io::Error::other(e)))
            };
            match c {
                Collection::Projects => to(serde_json::to_value(inv.projects()?)),
                Collection::Vendors => to(serde_json::to_value(inv.vendors()?)),
                Collection::Tags => to(serde_json::to_value(inv.tags()?)),
                Collection::Hosts => to(serde_json::to_value(inv.hosts()?)),
                Collection::Ranges => to(serde_json::to_value(inv.ip_ranges()?)),
            }
        })
        .await?;
    Ok(json_response(StatusCode::OK, &value))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewRecord {
    name: String,
    description: Option<String>,
    color: Option<String>,
    notes: Option<String>,
    vendor_id: Option<i64>,
    cidr: Option<String>,
}

pub(crate) async fn create(state: &AppState, req: &ApiRequest, c: Collection) -> Answer {
    let actor = auth::require_editor(state, req).await?;
    let r: NewRecord = req.json()?;
    if matches!(c, Collection::Ranges) && r.cidr.is_none() {
        return Err(ApiError::bad_request("cidr: required for a range"));
    }
    let value = state
        .with_inventory(move |inv| {
            let to = |v: Result<serde_json::Value, serde_json::Error>| {
                v.map_err(|e| ipocket_core::Error::Io(std::io::Error::other(e)))
            };
            let (d, col, n) = (
                r.description.as_deref(),
                r.color.as_deref(),
                r.notes.as_deref(),
            );
            match c {
                Collection::Projects => to(serde_json::to_value(
                    inv.create_project(&actor, &r.name, d, col)?,
                )),
                Collection::Vendors => {
                    to(serde_json::to_value(inv.create_vendor(&actor, &r.name)?))
                }
                Collection::Tags => to(serde_json::to_value(inv.create_tag(&actor, &r.name, col)?)),
                Collection::Hosts => to(serde_json::to_value(inv.create_host(
                    &actor,
                    &r.name,
                    n,
                    r.vendor_id,
                )?)),
                Collection::Ranges => to(serde_json::to_value(inv.create_ip_range(
                    &actor,
                    &r.name,
                    r.cidr.as_deref().unwrap_or_default(),
                    n,
                )?)),
            }
        })
        .await?;
    Ok(json_response(StatusCode::CREATED, &value))
}

fn id(s: &str) -> Result<i64, ApiError> {
    s.parse()
        .map_err(|_| ApiError::not_found(format!("no record with id {s:?}")))
}

pub(crate) async fn host(state: &AppState, req: &ApiRequest, host_id: &str) -> Answer {
    auth::require_reader(state, req).await?;
    let host_id = id(host_id)?;
    let detail = state
        .read_inventory(move |inv| inv.host_detail(host_id))
        .await?;
    Ok(json_response(StatusCode::OK, &detail))
}

pub(crate) async fn range_utilization(
    state: &AppState,
    req: &ApiRequest,
    range_id: &str,
) -> Answer {
    auth::require_reader(state, req).await?;
    let range_id = id(range_id)?;
    let u = state
        .read_inventory(move |inv| inv.range_utilization(range_id))
        .await?;
    Ok(json_response(StatusCode::OK, &u))
}

pub(crate) async fn range_next_free(state: &AppState, req: &ApiRequest, range_id: &str) -> Answer {
    auth::require_reader(state, req).await?;
    let range_id = id(range_id)?;
    let next = state
        .read_inventory(move |inv| inv.next_free_address(range_id))
        .await?;
    Ok(json_response(StatusCode::OK, &json!({"ip_address": next})))
}

pub(crate) async fn audit_log(state: &AppState, req: &ApiRequest) -> Answer {
    auth::require_user(state, req).await?;
    let filter = AuditFilter {
        target_type: req
            .param("target_type")
            .filter(|s| !s.is_empty())
            .map(str::to_string),
        target_label: req
            .param("target_label")
            .filter(|s| !s.is_empty())
            .map(str::to_string),
    };
    let page_no: u64 = req
        .param("page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(1)
        .max(1);
    let per_page: u64 = req
        .param("per_page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(50)
        .clamp(1, 1000);
    let result = state
        .read_inventory(move |inv| inv.audit_log(&filter, Page::number(page_no, per_page)))
        .await?;
    Ok(json_response(
        StatusCode::OK,
        &json!({"items": result.items, "total": result.total, "page": page_no, "per_page": per_page}),
    ))
}
