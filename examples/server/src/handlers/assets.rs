//! `/api/v1/ip-assets`: list (filters, pagination), get, create, update, archive, restore, delete.

use hyper::StatusCode;
use ipocket_core::{
    ArchivedFilter, AssetFilter, AssetType, IpAssetPatch, NewIpAsset, ProjectFilter,
};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::Answer;
use crate::auth;
use crate::errors::ApiError;
use crate::http::{json_response, no_content, ApiRequest};
use crate::AppState;

fn list_param(req: &ApiRequest, name: &str) -> Vec<String> {
    req.query
        .iter()
        .filter(|(k, _)| k == name)
        .flat_map(|(_, v)| v.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

fn asset_type(v: &str) -> Result<AssetType, ApiError> {
    v.parse::<AssetType>().map_err(ApiError::from)
}

/// The filter from the query string (see docs/server.md).
fn filter(req: &ApiRequest) -> Result<AssetFilter, ApiError> {
    let mut f = AssetFilter {
        ip: req
            .param("ip")
            .filter(|s| !s.is_empty())
            .map(str::to_string),
        host: req
            .param("host")
            .filter(|s| !s.is_empty())
            .map(str::to_string),
        text: req.param("q").filter(|s| !s.is_empty()).map(str::to_string),
        unassigned_only: req.flag("unassigned_only")?,
        tags_any: list_param(req, "tag"),
        tags_all: list_param(req, "tags_all"),
        tags_not: list_param(req, "tags_not"),
        ..AssetFilter::default()
    };
    if let Some(t) = req.param("type").filter(|s| !s.is_empty()) {
        f.asset_type = Some(asset_type(t)?);
    }
    if let Some(p) = req.param("project").filter(|s| !s.is_empty()) {
        f.project = Some(ProjectFilter::Name(p.to_string()));
    }
    if let Some(id) = req.param("project_id").filter(|s| !s.is_empty()) {
        let id = id.parse().map_err(|_| {
            ApiError::bad_request(format!("project_id: expected a number, found {id:?}"))
        })?;
        f.project = Some(ProjectFilter::Id(id));
    }
    f.archived = match req.param("archived").unwrap_or("active") {
        "" | "active" | "false" | "0" => ArchivedFilter::Active,
        "archived" | "true" | "1" => ArchivedFilter::Archived,
        "all" => ArchivedFilter::All,
        other => {
            return Err(ApiError::bad_request(format!(
                "archived: expected active, archived or all, found {other:?}"
            )))
        }
    };
    Ok(f)
}

pub(crate) async fn list(state: &AppState, req: &ApiRequest) -> Answer {
    auth::require_reader(state, req).await?;
    let f = filter(req)?;
    let (page_no, per_page, page) = req.page(50, state.config.max_page_size)?;
    let result = state
        .read_inventory(move |inv| inv.list_ip_assets(&f, page))
        .await?;
    Ok(json_response(
        StatusCode::OK,
        &json!({"items": result.items, "total": result.total, "page": page_no, "per_page": per_page}),
    ))
}

pub(crate) async fn get(state: &AppState, req: &ApiRequest, ip: &str) -> Answer {
    auth::require_reader(state, req).await?;
    let ip = ip.to_string();
    let asset = state.read_inventory(move |inv| inv.ip_asset(&ip)).await?;
    Ok(json_response(StatusCode::OK, &asset))
}

/// Tags as a list or a comma-separated string (as the original accepted).
#[derive(Deserialize)]
#[serde(untagged)]
enum Tags {
    List(Vec<String>),
    Text(String),
}

impl Tags {
    fn into_vec(self) -> Vec<String> {
        match self {
            Tags::List(v) => v,
            Tags::Text(s) => s
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    ip_address: String,
    #[serde(rename = "type")]
    asset_type: String,
    project_id: Option<i64>,
    host_id: Option<i64>,
    notes: Option<String>,
    tags: Option<Tags>,
}

pub(crate) async fn create(state: &AppState, req: &ApiRequest) -> Answer {
    let actor = auth::require_editor(state, req).await?;
    let b: CreateBody = req.json()?;
    let mut new = NewIpAsset::new(&b.ip_address, asset_type(&b.asset_type)?);
    new.project_id = b.project_id;
    new.host_id = b.host_id;
    new.notes = b.notes;
    new.tags = b.tags.map(Tags::into_vec).unwrap_or_default();
    new.auto_host_for_bmc = state.config.auto_host_for_bmc;
    let asset = state
        .with_inventory(move |inv| inv.create_ip_asset(&actor, &new))
        .await?;
    Ok(json_response(StatusCode::CREATED, &asset))
}

fn optional_id(key: &str, v: &Value) -> Result<Option<i64>, ApiError> {
    match v {
        Value::Null => Ok(None),
        Value::Number(n) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| ApiError::bad_request(format!("{key}: expected an integer or null"))),
        _ => Err(ApiError::bad_request(format!(
            "{key}: expected an integer or null"
        ))),
    }
}

/// Presence semantics: a key with `null` clears, an absent key keeps; `tags` replaces the set.
fn patch_from(body: Map<String, Value>) -> Result<IpAssetPatch, ApiError> {
    let mut p = IpAssetPatch::default();
    for (key, v) in body {
        match key.as_str() {
            "type" => {
                let t = v
                    .as_str()
                    .ok_or_else(|| ApiError::bad_request("type: expected a string"))?;
                p.asset_type = Some(asset_type(t)?);
            }
            "project_id" => p.project_id = Some(optional_id(&key, &v)?),
            "host_id" => p.host_id = Some(optional_id(&key, &v)?),
            "notes" => {
                p.notes = Some(match v {
                    Value::Null => None,
                    Value::String(s) => Some(s),
                    _ => return Err(ApiError::bad_request("notes: expected a string or null")),
                })
            }
            "tags" => {
                let tags: Tags = serde_json::from_value(v).map_err(|_| {
                    ApiError::bad_request(
                        "tags: expected a list of names or a comma-separated string",
                    )
                })?;
                p.tags = Some(tags.into_vec());
            }
            other => {
                return Err(ApiError::bad_request(format!(
                    "unknown field {other:?} (expected type, project_id, host_id, notes, tags)"
                )))
            }
        }
    }
    Ok(p)
}

pub(crate) async fn update(state: &AppState, req: &ApiRequest, ip: &str) -> Answer {
    let actor = auth::require_editor(state, req).await?;
    let body: Map<String, Value> = req.json()?;
    let patch = patch_from(body)?;
    let ip = ip.to_string();
    let asset = state
        .with_inventory(move |inv| inv.update_ip_asset(&actor, &ip, &patch))
        .await?;
    Ok(json_response(StatusCode::OK, &asset))
}

/// `archive = true`: archive (soft delete); `false`: restore.
pub(crate) async fn archive(state: &AppState, req: &ApiRequest, ip: &str, archive: bool) -> Answer {
    let actor = auth::require_editor(state, req).await?;
    let ip = ip.to_string();
    let asset = state
        .with_inventory(move |inv| {
            if archive {
                inv.archive_ip_asset(&actor, &ip)
            } else {
                inv.unarchive_ip_asset(&actor, &ip)
            }
        })
        .await?;
    Ok(json_response(StatusCode::OK, &asset))
}

pub(crate) async fn delete(state: &AppState, req: &ApiRequest, ip: &str) -> Answer {
    let actor = auth::require_editor(state, req).await?;
    let ip = ip.to_string();
    state
        .with_inventory(move |inv| inv.delete_ip_asset(&actor, &ip))
        .await?;
    Ok(no_content())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patch_presence() {
        let body = json!({"project_id": null, "notes": "x", "tags": "a, b"});
        let p = patch_from(body.as_object().unwrap().clone()).unwrap();
        assert_eq!(p.project_id, Some(None));
        assert_eq!(p.host_id, None);
        assert_eq!(p.notes, Some(Some("x".into())));
        assert_eq!(p.tags, Some(vec!["a".into(), "b".into()]));
        assert!(patch_from(json!({"owner": 1}).as_object().unwrap().clone()).is_err());
    }
}
