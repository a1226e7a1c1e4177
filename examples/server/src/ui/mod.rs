//! The web UI under `/ui`: server-rendered HTML (maud) on the same library calls as the API,
//! a cookie session, CSRF tokens on every form, a strict Content-Security-Policy and static
//! files embedded in the binary. The guide is `docs/ui.md`.

mod chart;
pub(crate) mod form;
mod page;
mod pages;
mod session;
pub(crate) mod static_files;
mod widgets;

use hyper::{Method, Response, StatusCode};

use crate::errors::ApiError;
use crate::http::{ApiRequest, Body};
use crate::AppState;
use form::Form;
use page::{redirect, Ctx};
use session::{percent_encode, FLASH_COOKIE};

/// `GET /` and `GET /ui`: the asset list.
pub(crate) fn home() -> Response<Body> {
    redirect("/ui/ip-assets")
}

/// Every `/ui/…` request: `rest` is the path after `/ui`.
pub(crate) async fn route(
    state: &AppState,
    req: &ApiRequest,
    rest: &[&str],
) -> (&'static str, Response<Body>) {
    let get = req.method == Method::GET || req.method == Method::HEAD;
    let post = req.method == Method::POST;
    match rest {
        [] if get => return ("/ui", home()),
        ["static", name] if get => {
            let r = static_files::serve(name).unwrap_or_else(|e| crate::http::error_response(&e));
            return ("/ui/static/{name}", r);
        }
        ["login"] if get => return ("/ui/login", pages::login::form(state, req).await),
        ["login"] if post => return ("/ui/login", pages::login::submit(state, req).await),
        _ => {}
    }
    if !get && !post {
        return (
            "(method)",
            crate::http::error_response(&ApiError::method_not_allowed()),
        );
    }
    let Some(session) = session::current(state, req).await else {
        return ("/ui/login", to_login(req));
    };
    let cx = Ctx {
        state,
        req,
        session,
        flash: session::cookie(req, FLASH_COOKIE)
            .map(session::decode_flash)
            .unwrap_or_default(),
        nonce: session::random_token(),
    };
    let form = if post {
        match Form::read(req).await {
            Ok(f) if csrf_ok(&cx, &f) => Some(f),
            Ok(_) => {
                let e = ApiError::forbidden(
                    "the form did not carry this session's CSRF token (it may be from another site \
                     or an old page): reload the page and try again",
                );
                crate::auth::audit_refusal(state, req, "(csrf)", &e);
                return ("(csrf)", cx.error_page(&e));
            }
            Err(e) => return ("(form)", cx.error_page(&e)),
        }
    } else {
        None
    };
    let (route, answer) = match pages::route(&cx, rest, form.as_ref()).await {
        Some(found) => found,
        None => ("(unmatched)", Err(ApiError::not_found("no such page"))),
    };
    (
        route,
        answer.unwrap_or_else(|e| {
            crate::auth::audit_refusal(state, req, route, &e);
            cx.error_page(&e)
        }),
    )
}

fn csrf_ok(cx: &Ctx<'_>, form: &Form) -> bool {
    form.get("csrf")
        .is_some_and(|t| session::same_token(t, &cx.session.csrf))
}

/// 303 to the login page, which comes back here after logging in.
fn to_login(req: &ApiRequest) -> Response<Body> {
    let mut back = format!("/{}", req.segments.join("/"));
    if req.method != Method::GET || back == "/ui/logout" {
        back = "/ui/ip-assets".into();
    } else if !req.query.is_empty() {
        let q: Vec<String> = req
            .query
            .iter()
            .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
            .collect();
        back = format!("{back}?{}", q.join("&"));
    }
    let mut r = redirect(&format!("/ui/login?return_to={}", percent_encode(&back)));
    *r.status_mut() = StatusCode::SEE_OTHER;
    r
}
