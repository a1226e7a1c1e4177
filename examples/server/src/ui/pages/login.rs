//! `/ui/login` and `/ui/logout`.

use hyper::header::{HeaderValue, SET_COOKIE};
use hyper::{Response, StatusCode};
use ipocket_errors::ApiErrorCode;
use maud::html;

use crate::http::{ApiRequest, Body};
use crate::ui::form::Form;
use crate::ui::page::{html_response, layout, redirect, Ctx, UiAnswer};
use crate::ui::session::{self, FlashKind, LOGIN_CSRF_COOKIE, SESSION_COOKIE};
use crate::AppState;

/// Where to go after logging in: a page of this UI only (no open redirect).
fn safe_return_to(v: Option<&str>) -> String {
    match v {
        Some(p)
            if p.starts_with("/ui/")
                && !p.starts_with("//")
                && !p.contains('\\')
                && !p.starts_with("/ui/login") =>
        {
            p.to_string()
        }
        _ => "/ui/ip-assets".to_string(),
    }
}

fn with_cookie(mut r: Response<Body>, cookie: String) -> Response<Body> {
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().append(SET_COOKIE, v);
    }
    r
}

fn login_page(
    state: &AppState,
    req: &ApiRequest,
    status: StatusCode,
    error: Option<&str>,
    username: &str,
    return_to: Option<&str>,
) -> Response<Body> {
    // A login-form token before there is a session: the cookie and the field must match.
    let token = session::cookie(req, LOGIN_CSRF_COOKIE)
        .filter(|t| t.len() == 32 && t.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(str::to_string)
        .unwrap_or_else(session::random_token);
    let return_to = safe_return_to(return_to);
    let flash = session::cookie(req, session::FLASH_COOKIE)
        .map(session::decode_flash)
        .unwrap_or_default();
    let body = html! {
        div.login.panel {
            h1 { "Log in to ipocket" }
            @for (kind, message) in &flash {
                div class={"flash flash-" (kind.as_str())} role="status" { (message) }
            }
            @if let Some(e) = error { div.flash.flash-error role="alert" { (e) } }
            form method="post" action="/ui/login" {
                input type="hidden" name="csrf" value=(token);
                input type="hidden" name="return_to" value=(return_to);
                div.field {
                    label for="username" { "Username" }
                    input #username type="text" name="username" value=(username) autocomplete="username" required autofocus;
                }
                div.field {
                    label for="password" { "Password" }
                    input #password type="password" name="password" autocomplete="current-password" required;
                }
                button type="submit" { "Log in" }
            }
        }
    };
    let r = html_response(status, layout("Log in", None, "", "", body), "");
    let secure = state.config.secure_cookies;
    let r = with_cookie(
        r,
        session::set_cookie(req, secure, LOGIN_CSRF_COOKIE, &token, None),
    );
    if flash.is_empty() {
        r
    } else {
        with_cookie(
            r,
            session::set_cookie(req, secure, session::FLASH_COOKIE, "", Some(0)),
        )
    }
}

/// `GET /ui/login`: the form, or straight on when already logged in.
pub(crate) async fn form(state: &AppState, req: &ApiRequest) -> Response<Body> {
    if session::current(state, req).await.is_some() {
        return redirect(&safe_return_to(req.param("return_to")));
    }
    login_page(state, req, StatusCode::OK, None, "", req.param("return_to"))
}

/// `POST /ui/login`: opens a session and sets its cookie.
pub(crate) async fn submit(state: &AppState, req: &ApiRequest) -> Response<Body> {
    let form = match Form::read(req).await {
        Ok(f) => f,
        Err(e) => return login_page(state, req, e.status, Some(&e.message), "", None),
    };
    let username = form.get("username").unwrap_or("").to_string();
    let expected = session::cookie(req, LOGIN_CSRF_COOKIE).unwrap_or("");
    let given = form.get("csrf").unwrap_or("");
    if expected.is_empty() || !session::same_token(expected, given) {
        let msg = "The login form expired or came from another site. Please try again.";
        return login_page(
            state,
            req,
            StatusCode::FORBIDDEN,
            Some(msg),
            &username,
            form.get("return_to"),
        );
    }
    let password = form.get("password").unwrap_or("").to_string();
    let opened =
        crate::handlers::session::password_login(state, username.clone(), password, req.peer).await;
    match opened {
        Ok((_, token)) => {
            let to = safe_return_to(form.get("return_to"));
            let secure = state.config.secure_cookies;
            let r = with_cookie(
                redirect(&to),
                session::set_cookie(req, secure, SESSION_COOKIE, &token, None),
            );
            with_cookie(
                r,
                session::set_cookie(req, secure, LOGIN_CSRF_COOKIE, "", Some(0)),
            )
        }
        Err(e) if e.code == ApiErrorCode::InvalidCredentials => login_page(
            state,
            req,
            StatusCode::UNAUTHORIZED,
            Some("Invalid username or password."),
            &username,
            form.get("return_to"),
        ),
        Err(e) => login_page(
            state,
            req,
            e.status,
            Some(&e.message),
            &username,
            form.get("return_to"),
        ),
    }
}

/// The paths of a logged-in user: `/ui/logout`.
pub(crate) async fn route(
    cx: &Ctx<'_>,
    rest: &[&str],
    form: Option<&Form>,
) -> Option<(&'static str, UiAnswer)> {
    match (rest, form) {
        (["logout"], None) => Some(("/ui/logout", Ok(confirm_logout(cx)))),
        (["logout"], Some(_)) => Some(("/ui/logout", logout(cx).await)),
        _ => None,
    }
}

/// `GET /ui/logout`: a button (logging out changes state, so it is a POST).
fn confirm_logout(cx: &Ctx<'_>) -> Response<Body> {
    cx.page(
        "Log out",
        html! {
            h1 { "Log out" }
            form method="post" action="/ui/logout" {
                (cx.csrf_field())
                button type="submit" { "Log out " (cx.session.user.username) }
            }
        },
    )
}

/// `POST /ui/logout`: ends the session (the row is deleted) and clears the cookie.
async fn logout(cx: &Ctx<'_>) -> UiAnswer {
    let token = cx.session.token.clone();
    cx.state
        .with_inventory(move |inv| inv.logout(&token))
        .await?;
    let secure = cx.state.config.secure_cookies;
    let r = redirect("/ui/login");
    let r = with_cookie(
        r,
        session::set_cookie(cx.req, secure, SESSION_COOKIE, "", Some(0)),
    );
    let flash = session::encode_flash(&[(FlashKind::Info, "You are logged out.".into())]);
    Ok(with_cookie(
        r,
        session::set_cookie(cx.req, secure, session::FLASH_COOKIE, &flash, None),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn return_to_stays_on_this_site() {
        assert_eq!(safe_return_to(Some("/ui/hosts?q=a")), "/ui/hosts?q=a");
        for bad in [
            "https://evil.example/",
            "//evil.example/ui/",
            "/ui\\..",
            "/api/v1/users",
            "/ui/login",
        ] {
            assert_eq!(safe_return_to(Some(bad)), "/ui/ip-assets", "{bad}");
        }
        assert_eq!(safe_return_to(None), "/ui/ip-assets");
    }
}
