//! `GET/POST /api/v1/users` (Admin): enough user management to give out roles.

use hyper::StatusCode;
use ipocket_core::Role;
use serde::Deserialize;

use super::Answer;
use crate::serve::auth;
use crate::serve::http::{json_response, ApiRequest};
use crate::serve::AppState;

#[derive(Deserialize)]
struct NewUser {
    username: String,
    password: String,
    role: Role,
}

pub(crate) async fn list(state: &AppState, req: &ApiRequest) -> Answer {
    auth::require_admin(state, req).await?;
    let users = state.read_inventory(|inv| inv.users()).await?;
    Ok(json_response(StatusCode::OK, &users))
}

pub(crate) async fn create(state: &AppState, req: &ApiRequest) -> Answer {
    let actor = auth::require_admin(state, req).await?;
    let u: NewUser = req.json()?;
    let user = state
        .with_inventory(move |inv| inv.create_user(&actor, &u.username, &u.password, u.role))
        .await?;
    Ok(json_response(StatusCode::CREATED, &user))
}
