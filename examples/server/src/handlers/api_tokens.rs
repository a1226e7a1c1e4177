//! `/api/v1/tokens` (Admin): scoped API tokens for Prometheus: list, create (the token is in
//! this one answer only), revoke.

use hyper::StatusCode;
use ipocket_core::{ApiToken, TokenScope};
use serde::{Deserialize, Serialize};

use super::Answer;
use crate::auth;
use crate::errors::ApiError;
use crate::http::{json_response, no_content, ApiRequest};
use crate::AppState;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewToken {
    name: String,
    /// Names, checked by the library (an unknown one is a 422 at `scopes`).
    scopes: Vec<String>,
    expires_in_days: Option<u32>,
}

/// The created token: what the listing shows, and the secret once.
#[derive(Serialize)]
struct Created {
    #[serde(flatten)]
    info: ApiToken,
    token: String,
}

pub(crate) async fn list(state: &AppState, req: &ApiRequest) -> Answer {
    auth::require_admin(state, req).await?;
    let tokens = state.read_inventory(|inv| inv.api_tokens()).await?;
    Ok(json_response(StatusCode::OK, &tokens))
}

pub(crate) async fn create(state: &AppState, req: &ApiRequest) -> Answer {
    let actor = auth::require_admin(state, req).await?;
    let t: NewToken = req.json()?;
    let (info, token) = state
        .with_inventory(move |inv| {
            let scopes = t
                .scopes
                .iter()
                .map(|s| s.parse())
                .collect::<ipocket_core::Result<Vec<TokenScope>>>()?;
            inv.create_api_token(&actor, &t.name, &scopes, t.expires_in_days)
        })
        .await?;
    Ok(json_response(StatusCode::CREATED, &Created { info, token }))
}

pub(crate) async fn revoke(state: &AppState, req: &ApiRequest, id: &str) -> Answer {
    let actor = auth::require_admin(state, req).await?;
    let id: i64 = id
        .parse()
        .map_err(|_| ApiError::not_found(format!("no API token with id {id:?}")))?;
    state
        .with_inventory(move |inv| inv.revoke_api_token(&actor, id))
        .await?;
    Ok(no_content())
}
