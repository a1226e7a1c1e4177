//! Who is asking: bearer tokens (login sessions and scoped API tokens of `ipocket-core`),
//! roles, the optional SD token.

use ipocket_core::{Actor, ApiToken, Role, TokenScope, TokenUse, User, API_TOKEN_PREFIX};

use super::errors::ApiError;
use super::http::ApiRequest;
use super::AppState;

/// The bearer token of `Authorization: Bearer <token>` (scheme case-insensitive).
pub(crate) fn bearer_token(req: &ApiRequest) -> Option<String> {
    let value = req.header("authorization")?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then(|| token.to_string())
}

/// 401 for a request without a bearer token; says so when the header is there but lacks the
/// `Bearer` type (what Prometheus 2.42's `http_sd_configs` send unless `type: Bearer` is set).
fn no_bearer(req: &ApiRequest) -> ApiError {
    match req.header("authorization").map(str::trim) {
        Some(v) if !v.is_empty() && !v.contains(' ') => ApiError::unauthorized_because(
            "the Authorization header has no type: send `Authorization: Bearer <token>` \
             (in a Prometheus `authorization:` block, set `type: Bearer`)",
        ),
        _ => ApiError::unauthorized(),
    }
}

/// The logged-in user, or 401. A live API token is refused with 403: it only reads its scopes.
pub(crate) async fn require_user(state: &AppState, req: &ApiRequest) -> Result<User, ApiError> {
    let token = bearer_token(req).ok_or_else(|| no_bearer(req))?;
    if token.starts_with(API_TOKEN_PREFIX) {
        let found = state.read_auth(move |inv| inv.api_token(&token)).await?;
        return Err(match found {
            Some(t) => scope_refusal(&t, "this request needs a login"),
            None => revoked_api_token(),
        });
    }
    let user = state
        .read_auth(move |inv| inv.session_user(&token))
        .await?
        .ok_or_else(ApiError::unauthorized)?;
    let _ = req.user.set(user.clone());
    Ok(user)
}

/// Audits a refusal (403 `forbidden`) of a logged-in user: who, what, why. Every front end's
/// error answer passes here.
pub(crate) fn audit_refusal(state: &AppState, req: &ApiRequest, route: &str, e: &ApiError) {
    if e.code != ipocket_errors::ApiErrorCode::Forbidden {
        return;
    }
    if let Some(user) = req.user.get() {
        let what = format!("{} {route}: {}", req.method, e.message);
        state.security.forbidden(state, user, what);
    }
}

/// A read: authenticated unless the server runs with `--public-reads`.
/// `Ok(None)` means an anonymous, allowed read.
pub(crate) async fn require_reader(
    state: &AppState,
    req: &ApiRequest,
) -> Result<Option<User>, ApiError> {
    if state.config.public_reads && bearer_token(req).is_none() {
        return Ok(None);
    }
    require_user(state, req).await.map(Some)
}

/// A read of `/metrics` or service discovery: like [`require_reader`], or an API token with
/// `scope` (its last use is recorded).
pub(crate) async fn require_scope(
    state: &AppState,
    req: &ApiRequest,
    scope: TokenScope,
) -> Result<(), ApiError> {
    if let Some(token) = bearer_token(req).filter(|t| t.starts_with(API_TOKEN_PREFIX)) {
        let found = state
            .read_auth(move |inv| inv.use_api_token(&token, scope))
            .await?;
        return match found {
            TokenUse::Allowed(_) => Ok(()),
            TokenUse::OtherScope(t) => Err(scope_refusal(
                &t,
                &format!("this needs the scope {scope} ({})", scope.describe()),
            )),
            _ => Err(revoked_api_token()),
        };
    }
    require_reader(state, req).await.map(|_| ())
}

/// A read of service discovery: like [`require_scope`] with `sd`, and a matching `X-SD-Token`
/// (when `IPOCKET_SD_TOKEN` is set) is enough on its own.
pub(crate) async fn require_sd_reader(state: &AppState, req: &ApiRequest) -> Result<(), ApiError> {
    if let (Some(expected), Some(given)) = (&state.config.sd_token, req.header("x-sd-token")) {
        if constant_time_eq(expected.as_bytes(), given.as_bytes()) {
            return Ok(());
        }
        return Err(ApiError::unauthorized());
    }
    require_scope(state, req, TokenScope::Sd).await
}

/// 403 for a live API token used beyond its scopes.
fn scope_refusal(t: &ApiToken, why: &str) -> ApiError {
    let scopes: Vec<&str> = t.scopes.iter().map(|s| s.as_str()).collect();
    ApiError::forbidden(format!(
        "API token {:?} may only read its scopes ({}); {why}",
        t.name,
        scopes.join(", ")
    ))
}

/// 401 for an `ipt_…` token that is not (or no longer) valid.
fn revoked_api_token() -> ApiError {
    ApiError::unauthorized_because("unknown, revoked or expired API token")
}

/// A write of inventory data: Editor or Admin (an Admin is an Editor who also manages users).
pub(crate) async fn require_editor(state: &AppState, req: &ApiRequest) -> Result<Actor, ApiError> {
    let user = require_user(state, req).await?;
    let actor = Actor::user(&user);
    actor.require_data_write()?;
    Ok(actor)
}

/// User management: Admin.
pub(crate) async fn require_admin(state: &AppState, req: &ApiRequest) -> Result<Actor, ApiError> {
    let user = require_user(state, req).await?;
    if user.role != Role::Admin {
        return Err(ApiError::forbidden(format!(
            "role {} cannot manage users",
            user.role
        )));
    }
    Ok(Actor::user(&user))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compares() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
