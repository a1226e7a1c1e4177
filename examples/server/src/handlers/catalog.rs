//! The catalog: projects, vendors, tags, hosts and ranges (list, create, update, delete; a
//! host's detail; a range's utilization, addresses, next free address and allocation) and the
//! audit log.

use hyper::StatusCode;
use ipocket_core::AuditFilter;
use serde::Deserialize;
use serde_json::json;

use super::{range_map, Answer};
use crate::auth;
use crate::errors::ApiError;
use crate::http::{json_response, ApiRequest};
use crate::AppState;

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

/// `GET /api/v1/{projects,vendors,tags,ranges}/{id}`: one record as the list shows it.
/// (`/api/v1/hosts/{id}` is [`host`]: the host with its addresses.)
pub(crate) async fn one(state: &AppState, req: &ApiRequest, c: Collection, rid: &str) -> Answer {
    auth::require_reader(state, req).await?;
    let rid = id(rid)?;
    let value = state
        .read_inventory(move |inv| {
            let to = |v: Result<serde_json::Value, serde_json::Error>| {
                v.map_err(|e| ipocket_core::Error::Io(std::io::Error::other(e)))
            };
            match c {
                Collection::Projects => to(serde_json::to_value(inv.project(rid)?)),
                Collection::Vendors => to(serde_json::to_value(inv.vendor(rid)?)),
                Collection::Tags => to(serde_json::to_value(inv.tag(rid)?)),
                Collection::Hosts => to(serde_json::to_value(inv.host(rid)?)),
                Collection::Ranges => to(serde_json::to_value(inv.ip_range(rid)?)),
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

pub(crate) fn id(s: &str) -> Result<i64, ApiError> {
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
    let (page_no, per_page, page) = req.page(50, state.config.max_page_size)?;
    let result = state
        .read_inventory(move |inv| inv.audit_log(&filter, page))
        .await?;
    Ok(json_response(
        StatusCode::OK,
        &json!({"items": result.items, "total": result.total, "page": page_no, "per_page": per_page}),
    ))
}

/// A PATCH body: key present with `null` clears, absent keeps.
struct Fields(serde_json::Map<String, serde_json::Value>);

impl Fields {
    fn check(&self, allowed: &[&str]) -> Result<(), ApiError> {
        match self.0.keys().find(|k| !allowed.contains(&k.as_str())) {
            Some(k) => Err(ApiError::bad_request(format!(
                "unknown field {k:?} (expected {})",
                allowed.join(", ")
            ))),
            None => Ok(()),
        }
    }

    /// A string that cannot be cleared.
    fn text(&self, key: &str) -> Result<Option<String>, ApiError> {
        match self.0.get(key) {
            None => Ok(None),
            Some(serde_json::Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(ApiError::bad_request(format!("{key}: expected a string"))),
        }
    }

    /// A string that `null` clears.
    fn nullable_text(&self, key: &str) -> Result<Option<Option<String>>, ApiError> {
        match self.0.get(key) {
            None => Ok(None),
            Some(serde_json::Value::Null) => Ok(Some(None)),
            Some(serde_json::Value::String(s)) => Ok(Some(Some(s.clone()))),
            Some(_) => Err(ApiError::bad_request(format!(
                "{key}: expected a string or null"
            ))),
        }
    }

    fn nullable_id(&self, key: &str) -> Result<Option<Option<i64>>, ApiError> {
        match self.0.get(key) {
            None => Ok(None),
            Some(serde_json::Value::Null) => Ok(Some(None)),
            Some(v) => v.as_i64().map(|i| Some(Some(i))).ok_or_else(|| {
                ApiError::bad_request(format!("{key}: expected an integer or null"))
            }),
        }
    }
}

pub(crate) async fn update(state: &AppState, req: &ApiRequest, c: Collection, rid: &str) -> Answer {
    let actor = auth::require_editor(state, req).await?;
    let rid = id(rid)?;
    let f = Fields(req.json()?);
    let to = |v: Result<serde_json::Value, serde_json::Error>| {
        v.map_err(|e| ipocket_core::Error::Io(std::io::Error::other(e)))
    };
    let value = match c {
        Collection::Projects => {
            f.check(&["name", "description", "color"])?;
            let (name, desc, color) = (
                f.text("name")?,
                f.nullable_text("description")?,
                f.text("color")?,
            );
            state
                .with_inventory(move |inv| {
                    to(serde_json::to_value(inv.update_project(
                        &actor,
                        rid,
                        name.as_deref(),
                        desc.as_ref().map(|d| d.as_deref()),
                        color.as_deref(),
                    )?))
                })
                .await?
        }
        Collection::Vendors => {
            f.check(&["name"])?;
            let name = f
                .text("name")?
                .ok_or_else(|| ApiError::bad_request("name: required"))?;
            state
                .with_inventory(move |inv| {
                    to(serde_json::to_value(inv.update_vendor(&actor, rid, &name)?))
                })
                .await?
        }
        Collection::Tags => {
            f.check(&["name", "color"])?;
            let (name, color) = (f.text("name")?, f.text("color")?);
            state
                .with_inventory(move |inv| {
                    to(serde_json::to_value(inv.update_tag(
                        &actor,
                        rid,
                        name.as_deref(),
                        color.as_deref(),
                    )?))
                })
                .await?
        }
        Collection::Hosts => {
            f.check(&["name", "notes", "vendor_id"])?;
            let (name, notes, vendor) = (
                f.text("name")?,
                f.nullable_text("notes")?,
                f.nullable_id("vendor_id")?,
            );
            state
                .with_inventory(move |inv| {
                    to(serde_json::to_value(inv.update_host(
                        &actor,
                        rid,
                        name.as_deref(),
                        notes.as_ref().map(|n| n.as_deref()),
                        vendor,
                    )?))
                })
                .await?
        }
        Collection::Ranges => {
            f.check(&["name", "notes"])?;
            let (name, notes) = (f.text("name")?, f.nullable_text("notes")?);
            state
                .with_inventory(move |inv| {
                    to(serde_json::to_value(inv.update_ip_range(
                        &actor,
                        rid,
                        name.as_deref(),
                        notes.as_ref().map(|n| n.as_deref()),
                    )?))
                })
                .await?
        }
    };
    Ok(json_response(StatusCode::OK, &value))
}

pub(crate) async fn delete(state: &AppState, req: &ApiRequest, c: Collection, rid: &str) -> Answer {
    let actor = auth::require_editor(state, req).await?;
    let rid = id(rid)?;
    state
        .with_inventory(move |inv| match c {
            Collection::Projects => inv.delete_project(&actor, rid),
            Collection::Vendors => inv.delete_vendor(&actor, rid),
            Collection::Tags => inv.delete_tag(&actor, rid),
            Collection::Hosts => inv.delete_host(&actor, rid),
            Collection::Ranges => inv.delete_ip_range(&actor, rid),
        })
        .await?;
    Ok(crate::http::no_content())
}

/// Most addresses one `GET /api/v1/ranges/{id}/addresses` lists.
const MAX_RANGE_ADDRESSES: u64 = 4096;

/// `GET /api/v1/ranges/{id}/addresses?offset=&limit=`: every address of the range with its status.
pub(crate) async fn range_addresses(state: &AppState, req: &ApiRequest, range_id: &str) -> Answer {
    auth::require_reader(state, req).await?;
    let range_id = id(range_id)?;
    let offset: u128 = match req.param("offset").filter(|s| !s.is_empty()) {
        None => 0,
        Some(v) => v.parse().map_err(|_| {
            ApiError::bad_request(format!("offset: expected a whole number, found {v:?}"))
                .with_details(json!({"field": "offset"}))
        })?,
    };
    let limit = req.number("limit", 256)?;
    if !(1..=MAX_RANGE_ADDRESSES).contains(&limit) {
        return Err(ApiError::bad_request(format!(
            "limit: limit must be from 1 to {MAX_RANGE_ADDRESSES}, found {limit}"
        ))
        .with_details(json!({"field": "limit"})));
    }
    let list = state
        .read_inventory(move |inv| inv.range_addresses(range_id, offset, limit))
        .await?;
    Ok(json_response(StatusCode::OK, &list))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Allocation {
    #[serde(rename = "type")]
    asset_type: String,
    project_id: Option<i64>,
    host_id: Option<i64>,
    notes: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
}

/// `POST /api/v1/ranges/{id}/allocate[?skip_alive=0|1]`: creates the next free address of
/// the range (409 when full), passing over the live undocumented addresses as
/// [`range_map::avoid`] says; answers the asset with the addresses `skipped`.
pub(crate) async fn range_allocate(state: &AppState, req: &ApiRequest, range_id: &str) -> Answer {
    let actor = auth::require_editor(state, req).await?;
    let range_id = id(range_id)?;
    let a: Allocation = req.json()?;
    let avoid = range_map::avoid(state, range_map::skip_alive_param(req)?)
        .await?
        .addresses;
    // The address is a placeholder: allocate_next picks the next free one.
    let mut template = ipocket_core::NewIpAsset::new("0.0.0.0", a.asset_type.parse()?);
    template.project_id = a.project_id;
    template.host_id = a.host_id;
    template.notes = a.notes;
    template.tags = a.tags;
    template.auto_host_for_bmc = state.config.auto_host_for_bmc;
    let (asset, skipped) = state
        .with_inventory(move |inv| inv.allocate_next_avoiding(&actor, range_id, &template, &avoid))
        .await?;
    Ok(json_response(
        StatusCode::CREATED,
        &range_map::Allocated { asset, skipped },
    ))
}
