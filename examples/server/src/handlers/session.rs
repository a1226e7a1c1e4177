//! `POST /api/v1/auth/login`, `POST /api/v1/auth/logout`, `GET /api/v1/auth/me`.

use hyper::StatusCode;
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

pub(crate) async fn login(state: &AppState, req: &ApiRequest) -> Answer {
    let c: Credentials = req.json()?;
    // The argon2 check (tens of milliseconds) runs on a reading connection; the writer is
    // held only for the short insert of the session.
    let verified = state
        .read_inventory(move |inv| inv.verify_login(&c.username, &c.password))
        .await?;
    let session = match verified {
        Some(v) => state.with_inventory(move |inv| inv.open_session(v)).await?,
        None => None,
    };
    match session {
        Some((user, token)) => Ok(json_response(
            StatusCode::OK,
            &json!({"access_token": token, "token_type": "bearer", "user": user}),
        )),
        None => Err(ApiError::new(
            ApiErrorCode::InvalidCredentials,
            "invalid username or password",
        )),
    }
}

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
