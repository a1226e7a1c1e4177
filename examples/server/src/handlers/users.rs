//! `/api/v1/users` (Admin): list, create, update (role, active, password), delete; and the
//! self-service password change.

use hyper::StatusCode;
use ipocket_core::Role;
use serde::Deserialize;

use super::Answer;
use crate::auth;
use crate::errors::ApiError;
use crate::http::{json_response, no_content, ApiRequest};
use crate::AppState;

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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserPatch {
    role: Option<Role>,
    is_active: Option<bool>,
    password: Option<String>,
}

fn user_id(s: &str) -> Result<i64, ApiError> {
    s.parse()
        .map_err(|_| ApiError::not_found(format!("no user with id {s:?}")))
}

/// Role, active flag, password rotation. An inactive user's tokens stop working at once.
pub(crate) async fn update(state: &AppState, req: &ApiRequest, id: &str) -> Answer {
    let actor = auth::require_admin(state, req).await?;
    let id = user_id(id)?;
    let p: UserPatch = req.json()?;
    let user = state
        .with_inventory(move |inv| {
            inv.update_user(&actor, id, p.role, p.is_active, p.password.as_deref())
        })
        .await?;
    Ok(json_response(StatusCode::OK, &user))
}

pub(crate) async fn delete(state: &AppState, req: &ApiRequest, id: &str) -> Answer {
    let actor = auth::require_admin(state, req).await?;
    let id = user_id(id)?;
    state
        .with_inventory(move |inv| inv.delete_user(&actor, id))
        .await?;
    Ok(no_content())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PasswordChange {
    current_password: String,
    new_password: String,
}

/// `POST /api/v1/auth/password`: any user changes their own password.
pub(crate) async fn change_own_password(state: &AppState, req: &ApiRequest) -> Answer {
    let user = auth::require_user(state, req).await?;
    let p: PasswordChange = req.json()?;
    change_password(state, user.id, p.current_password, p.new_password).await?;
    Ok(no_content())
}

/// A self-service password change for the API and the web UI: both hashes on the password
/// workers (bounded memory), the write on the writer.
pub(crate) async fn change_password(
    state: &AppState,
    user_id: i64,
    current: String,
    new: String,
) -> Result<(), ApiError> {
    let change = state
        .passwords
        .run(move |inv, mem| inv.check_own_password_change(user_id, &current, &new, mem))
        .await?;
    state
        .with_inventory(move |inv| inv.apply_own_password_change(change))
        .await
}
