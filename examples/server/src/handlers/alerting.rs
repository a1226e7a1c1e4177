//! CRUD of the alerting model of `ipocket-rulegen`: `/api/v1/alert-templates`,
//! `/api/v1/alert-rules`, `/api/v1/alert-groups`, `/api/v1/alert-targets`. Viewer reads,
//! Editor writes; templates and rules are validated before they are saved (a query that does
//! not parse or a missing variable is a 422 naming the field). Bodies are the rulegen inputs
//! (`NewTemplate`, `NewRule`, …); unknown fields are refused so a typo never passes silently.

use hyper::StatusCode;
use ipocket_rulegen::{GroupOptions, NewRule, NewTemplate};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::Answer;
use crate::auth;
use crate::errors::ApiError;
use crate::http::{json_response, no_content, ApiRequest};
use crate::AppState;

/// The four collections.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Templates,
    Rules,
    Groups,
    Targets,
}

impl Kind {
    pub(crate) fn from_segment(s: &str) -> Option<Self> {
        Some(match s {
            "alert-templates" => Kind::Templates,
            "alert-rules" => Kind::Rules,
            "alert-groups" => Kind::Groups,
            "alert-targets" => Kind::Targets,
            _ => return None,
        })
    }

    pub(crate) fn collection_route(self) -> &'static str {
        match self {
            Kind::Templates => "/api/v1/alert-templates",
            Kind::Rules => "/api/v1/alert-rules",
            Kind::Groups => "/api/v1/alert-groups",
            Kind::Targets => "/api/v1/alert-targets",
        }
    }

    pub(crate) fn item_route(self) -> &'static str {
        match self {
            Kind::Templates => "/api/v1/alert-templates/{id}",
            Kind::Rules => "/api/v1/alert-rules/{id}",
            Kind::Groups => "/api/v1/alert-groups/{id}",
            Kind::Targets => "/api/v1/alert-targets/{id}",
        }
    }

    /// Fields a create or replace body may carry.
    fn fields(self) -> &'static [&'static str] {
        match self {
            Kind::Templates => &[
                "name",
                "description",
                "query_template",
                "default_vars",
                "for_duration",
                "keep_firing_for",
                "severity",
                "labels",
                "annotations",
            ],
            Kind::Rules => &[
                "group_id",
                "template_id",
                "name",
                "vars",
                "enabled",
                "for_duration",
                "keep_firing_for",
                "severity",
                "labels",
                "annotations",
                "priority",
                "merge_strategy",
            ],
            Kind::Groups => &["name", "description", "options"],
            Kind::Targets => &["hostname", "address", "group_ids"],
        }
    }
}

#[derive(Deserialize)]
struct GroupBody {
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    options: GroupOptions,
}

#[derive(Deserialize)]
struct TargetBody {
    hostname: String,
    #[serde(default)]
    address: String,
    group_ids: Option<Vec<i64>>,
}

/// The body as `T`, refusing fields the kind does not have (named in the message).
fn body<T: DeserializeOwned>(req: &ApiRequest, kind: Kind) -> Result<T, ApiError> {
    let map: Map<String, Value> = req.json()?;
    let allowed = kind.fields();
    if let Some(bad) = map.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(ApiError::bad_request(format!(
            "unknown field {bad:?} (expected {})",
            allowed.join(", ")
        ))
        .with_details(serde_json::json!({"field": bad})));
    }
    serde_json::from_value(Value::Object(map))
        .map_err(|e| ApiError::bad_request(format!("request body is not the expected JSON: {e}")))
}

fn id(s: &str) -> Result<i64, ApiError> {
    s.parse()
        .map_err(|_| ApiError::not_found(format!("no record with id {s:?}")))
}

fn to_value<T: serde::Serialize>(v: T) -> ipocket_rulegen::Result<Value> {
    serde_json::to_value(v).map_err(|source| ipocket_rulegen::Error::Json {
        context: "response".into(),
        source,
    })
}

pub(crate) async fn list(state: &AppState, req: &ApiRequest, kind: Kind) -> Answer {
    auth::require_user(state, req).await?;
    let group = match req.param("group_id").filter(|s| !s.is_empty()) {
        Some(g) if kind == Kind::Rules => Some(g.parse::<i64>().map_err(|_| {
            ApiError::bad_request(format!("group_id: expected a number, found {g:?}"))
        })?),
        _ => None,
    };
    let value = state
        .with_rules(move |s| match kind {
            Kind::Templates => to_value(s.templates()?),
            Kind::Rules => to_value(s.rules(group)?),
            Kind::Groups => to_value(s.groups()?),
            Kind::Targets => to_value(s.targets()?),
        })
        .await?;
    Ok(json_response(StatusCode::OK, &value))
}

pub(crate) async fn get(state: &AppState, req: &ApiRequest, kind: Kind, rid: &str) -> Answer {
    auth::require_user(state, req).await?;
    let rid = id(rid)?;
    let value = state
        .with_rules(move |s| match kind {
            Kind::Templates => to_value(s.template(rid)?),
            Kind::Rules => to_value(s.rule(rid)?),
            Kind::Groups => to_value(s.group(rid)?),
            Kind::Targets => to_value(s.target(rid)?),
        })
        .await?;
    Ok(json_response(StatusCode::OK, &value))
}

/// Create (`rid` = None, 201) or replace (`PUT`, 200).
pub(crate) async fn save(
    state: &AppState,
    req: &ApiRequest,
    kind: Kind,
    rid: Option<&str>,
) -> Answer {
    let actor = auth::require_editor(state, req).await?;
    let rid = rid.map(id).transpose()?;
    let value = match kind {
        Kind::Templates => {
            let t: NewTemplate = body(req, kind)?;
            state
                .write_rules(&actor, move |s| {
                    s.validate_template(rid, &t)?;
                    match rid {
                        None => to_value(s.create_template(&t)?),
                        Some(i) => to_value(s.update_template(i, &t)?),
                    }
                })
                .await?
        }
        Kind::Rules => {
            let r: NewRule = body(req, kind)?;
            state
                .write_rules(&actor, move |s| {
                    s.validate_rule(rid, &r)?;
                    match rid {
                        None => to_value(s.create_rule(&r)?),
                        Some(i) => to_value(s.update_rule(i, &r)?),
                    }
                })
                .await?
        }
        Kind::Groups => {
            let g: GroupBody = body(req, kind)?;
            state
                .write_rules(&actor, move |s| match rid {
                    None => to_value(s.create_group_with(&g.name, &g.description, &g.options)?),
                    Some(i) => to_value(s.update_group(i, &g.name, &g.description, &g.options)?),
                })
                .await?
        }
        Kind::Targets => {
            let t: TargetBody = body(req, kind)?;
            state
                .write_rules(&actor, move |s| match rid {
                    None => to_value(s.create_target(
                        &t.hostname,
                        &t.address,
                        t.group_ids.as_deref().unwrap_or_default(),
                    )?),
                    Some(i) => to_value(s.update_target(
                        i,
                        &t.hostname,
                        &t.address,
                        t.group_ids.as_deref(),
                    )?),
                })
                .await?
        }
    };
    let status = if rid.is_some() {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok(json_response(status, &value))
}

pub(crate) async fn delete(state: &AppState, req: &ApiRequest, kind: Kind, rid: &str) -> Answer {
    let actor = auth::require_editor(state, req).await?;
    let rid = id(rid)?;
    state
        .write_rules(&actor, move |s| match kind {
            Kind::Templates => s.delete_template(rid),
            Kind::Rules => s.delete_rule(rid),
            Kind::Groups => s.delete_group(rid),
            Kind::Targets => s.delete_target(rid),
        })
        .await?;
    Ok(no_content())
}
