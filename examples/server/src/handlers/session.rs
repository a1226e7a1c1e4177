//! `POST /api/v1/auth/login`, `POST /api/v1/auth/logout`, `GET /api/v1/auth/me`,
//! `GET /api/v1/auth/sessions`, `DELETE /api/v1/auth/sessions/{id}`; and the password login
//! the web UI shares.

use std::net::IpAddr;

use hyper::StatusCode;
use ipocket_core::{LoginLockout, SecurityEvent, User};
use ipocket_errors::ApiErrorCode;
use serde::Deserialize;
use serde_json::json;

use super::Answer;
use crate::auth;
use crate::errors::ApiError;
use crate::http::{json_response, no_content, ApiRequest};
use crate::AppState;

#[derive(Deserialize)]
struct Credentials {
    username: String,
    password: String,
}

/// A login by password, for the API and the web UI: refused while the user name or the
/// client address is locked out, checked on the password workers (bounded memory and
/// queue), the session opened on the writer; a failure is counted and audited.
pub(crate) async fn password_login(
    state: &AppState,
    username: String,
    password: String,
    peer: Option<IpAddr>,
) -> Result<(User, String), ApiError> {
    let throttle = state.config.login_throttle;
    let name = username.clone();
    let lockout = state
        .read_auth(move |inv| inv.login_lockout(&throttle, &name, peer))
        .await?;
    if let Some(locked) = lockout {
        return Err(too_many_failures(locked));
    }
    let name = username.clone();
    let verified = state
        .passwords
        .run(move |inv, mem| inv.verify_login_with(&name, &password, mem))
        .await?;
    let session = match verified {
        Some(v) => state.with_inventory(move |inv| inv.open_session(v)).await?,
        None => None,
    };
    if let Some(s) = session {
        let name = username.clone();
        state
            .with_inventory(move |inv| inv.clear_login_failures(&name))
            .await?;
        return Ok(s);
    }
    let address = peer.map(|a| a.to_string());
    let name = username.clone();
    let started = state
        .with_inventory(move |inv| inv.record_login_failure(&throttle, &name, peer))
        .await?;
    if let Some(locked) = started {
        let seconds = locked.retry_after_secs();
        tracing::warn!(
            "too many failed logins (user {username:?}, address {}): this {} is locked for {seconds} s",
            address.as_deref().unwrap_or("?"),
            locked.scope
        );
        state.security.push(
            state,
            SecurityEvent::LoginLocked {
                username: username.clone(),
                address: address.clone(),
                scope: locked.scope,
                seconds,
            },
        );
    }
    state
        .security
        .push(state, SecurityEvent::LoginFailed { username, address });
    Err(ApiError::new(
        ApiErrorCode::InvalidCredentials,
        "invalid username or password",
    ))
}

fn too_many_failures(l: LoginLockout) -> ApiError {
    let secs = l.retry_after_secs();
    ApiError::new(
        ApiErrorCode::TooManyRequests,
        format!(
            "too many failed logins for this {}; try again in {secs} s",
            l.scope
        ),
    )
    .with_details(json!({"scope": l.scope, "retry_after": secs}))
    .with_retry_after(secs)
}

pub(crate) async fn login(state: &AppState, req: &ApiRequest) -> Answer {
    let c: Credentials = req.json()?;
    let (user, token) = password_login(state, c.username, c.password, req.peer).await?;
    Ok(json_response(
        StatusCode::OK,
        &json!({"access_token": token, "token_type": "bearer", "user": user}),
    ))
}

/// Ends the token's session. An expired session, or one of a deactivated user, is deleted
/// and answered 401 like an unknown token.
pub(crate) async fn logout(state: &AppState, req: &ApiRequest) -> Answer {
    let token = auth::bearer_token(req).ok_or_else(ApiError::unauthorized)?;
    let ended = state.with_inventory(move |inv| inv.logout(&token)).await?;
    if ended {
        Ok(no_content())
    } else {
        Err(ApiError::unauthorized())
    }
}

pub(crate) async fn me(state: &AppState, req: &ApiRequest) -> Answer {
    let user = auth::require_user(state, req).await?;
    Ok(json_response(StatusCode::OK, &user))
}

/// The caller's own live sessions (never a token), `current` marking this one.
pub(crate) async fn sessions(state: &AppState, req: &ApiRequest) -> Answer {
    let user = auth::require_user(state, req).await?;
    let token = auth::bearer_token(req);
    let list = state
        .read_auth(move |inv| inv.own_sessions(user.id, token.as_deref()))
        .await?;
    Ok(json_response(StatusCode::OK, &list))
}

/// Ends one of the caller's own sessions (404 for anyone else's).
pub(crate) async fn revoke(state: &AppState, req: &ApiRequest, id: &str) -> Answer {
    let user = auth::require_user(state, req).await?;
    let id: i64 = id
        .parse()
        .map_err(|_| ApiError::not_found(format!("no session with id {id:?}")))?;
    state
        .with_inventory(move |inv| inv.revoke_own_session(&user, id))
        .await?;
    Ok(no_content())
}
