//! What every page shares: the request context, the layout, and the HTML responses (security
//! headers, flash cookie, redirects).

use hyper::header::{HeaderValue, CACHE_CONTROL, LOCATION, SET_COOKIE};
use hyper::{Response, StatusCode};
use maud::{html, Markup, PreEscaped, DOCTYPE};

use super::session::{self, FlashKind, Session, FLASH_COOKIE};
use super::static_files;
use crate::errors::ApiError;
use crate::http::{bytes_response, ApiRequest, Body};
use crate::AppState;

/// What a page handler returns.
pub(crate) type UiAnswer = Result<Response<Body>, ApiError>;

/// One request of a logged-in user.
pub(crate) struct Ctx<'a> {
    pub(crate) state: &'a AppState,
    pub(crate) req: &'a ApiRequest,
    pub(crate) session: Session,
    /// Messages left by the previous action, shown once.
    pub(crate) flash: Vec<(FlashKind, String)>,
    /// The CSP nonce of this response's `<style>` block.
    pub(crate) nonce: String,
}

impl Ctx<'_> {
    /// 403 unless the user may change inventory data.
    pub(crate) fn require_write(&self) -> Result<(), ApiError> {
        self.session
            .actor()
            .require_data_write()
            .map_err(ApiError::from)
    }

    /// 403 unless the user is an Admin.
    pub(crate) fn require_admin(&self) -> Result<(), ApiError> {
        if self.session.is_admin() {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "role {} cannot manage users",
                self.session.user.role
            )))
        }
    }

    /// The hidden CSRF field every state-changing form carries.
    pub(crate) fn csrf_field(&self) -> Markup {
        html! { input type="hidden" name="csrf" value=(self.session.csrf); }
    }

    /// A full page with status 200.
    pub(crate) fn page(&self, title: &str, body: Markup) -> Response<Body> {
        self.page_with(StatusCode::OK, title, "", body)
    }

    /// A full page: `style` is extra CSS (tag and project colours), sent in the one
    /// `<style>` block this response's nonce allows.
    pub(crate) fn page_with(
        &self,
        status: StatusCode,
        title: &str,
        style: &str,
        body: Markup,
    ) -> Response<Body> {
        let path = self.req.segments.get(1).map(String::as_str).unwrap_or("");
        let markup = layout(title, Some(self), path, style, body);
        let mut r = html_response(status, markup, &self.nonce);
        if !self.flash.is_empty() {
            let clear = session::set_cookie(
                self.req,
                self.state.config.secure_cookies,
                FLASH_COOKIE,
                "",
                Some(0),
            );
            if let Ok(v) = HeaderValue::from_str(&clear) {
                r.headers_mut().append(SET_COOKIE, v);
            }
        }
        r
    }

    /// 303 to `location` (a path of this site), leaving a flash message for the next page.
    pub(crate) fn redirect(
        &self,
        location: &str,
        kind: FlashKind,
        message: impl Into<String>,
    ) -> Response<Body> {
        let mut r = redirect(location);
        let value = session::encode_flash(&[(kind, message.into())]);
        let c = session::set_cookie(
            self.req,
            self.state.config.secure_cookies,
            FLASH_COOKIE,
            &value,
            None,
        );
        if let Ok(v) = HeaderValue::from_str(&c) {
            r.headers_mut().append(SET_COOKIE, v);
        }
        r
    }

    /// The error page of a failed request (403, 404, 409, …), with the navigation.
    pub(crate) fn error_page(&self, e: &ApiError) -> Response<Body> {
        let title = e.status.canonical_reason().unwrap_or("Error");
        let body = html! {
            h1 { (title) }
            p.error-text role="alert" { (e.message) }
            p { a href="/ui/ip-assets" { "Back to the IP assets" } }
        };
        self.page_with(e.status, title, "", body)
    }
}

/// 303 See Other.
pub(crate) fn redirect(location: &str) -> Response<Body> {
    let mut r = bytes_response(
        StatusCode::SEE_OTHER,
        "text/plain; charset=utf-8",
        Vec::new(),
    );
    if let Ok(v) = HeaderValue::from_str(location) {
        r.headers_mut().insert(LOCATION, v);
    }
    r.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// An HTML response with the UI's security headers. Pages hold user data: never cached.
pub(crate) fn html_response(status: StatusCode, markup: Markup, nonce: &str) -> Response<Body> {
    let mut r = bytes_response(status, "text/html; charset=utf-8", markup.into_string());
    let h = r.headers_mut();
    let csp = format!(
        "default-src 'none'; script-src 'self'; style-src 'self' 'nonce-{nonce}'; img-src 'self' data:; \
         connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    );
    if let Ok(v) = HeaderValue::from_str(&csp) {
        h.insert("content-security-policy", v);
    }
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert("referrer-policy", HeaderValue::from_static("same-origin"));
    r
}

/// The navigation: (path segment, label, admin only).
/// [`NEEDS_LIVENESS`] entries show only with `--liveness-prometheus-url`.
const NAV: &[(&str, &str, bool)] = &[
    ("ip-assets", "IP assets", false),
    ("hosts", "Hosts", false),
    ("ranges", "Ranges", false),
    ("projects", "Projects", false),
    ("tags", "Tags", false),
    ("vendors", "Vendors", false),
    ("management", "Dashboard", false),
    ("import", "Data Ops", false),
    ("connectors", "Connectors", false),
    ("reconcile", "Reconcile", false),
    ("alerts", "Alert rules", false),
    ("servers", "Servers", false),
    ("audit-log", "Audit log", false),
    ("users", "Users", true),
    ("tokens", "API tokens", true),
];

/// Pages that only exist when liveness is configured.
const NEEDS_LIVENESS: &[&str] = &["reconcile"];

/// The page shell. `cx` is `None` on the login page (no navigation).
pub(crate) fn layout(
    title: &str,
    cx: Option<&Ctx<'_>>,
    current: &str,
    style: &str,
    body: Markup,
) -> Markup {
    let current = if current == "export" {
        "import"
    } else {
        current
    };
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · ipocket" }
                link rel="stylesheet" href=(static_files::url("style.css"));
                link rel="icon" href=(static_files::url("favicon.svg")) type="image/svg+xml";
                @if let Some(cx) = cx {
                    @if !style.is_empty() {
                        style nonce=(cx.nonce) { (PreEscaped(style)) }
                    }
                }
                script src=(static_files::url("app.js")) defer {}
            }
            body {
                a.skip href="#main" { "Skip to content" }
                header.top {
                    a.brand href="/ui/ip-assets" { "ipocket" }
                    @if let Some(cx) = cx {
                        nav aria-label="Main" {
                            ul {
                                @for (seg, label, admin) in NAV {
                                    @if (!admin || cx.session.is_admin())
                                        && (cx.state.liveness.is_some() || !NEEDS_LIVENESS.contains(seg)) {
                                        li { a href={"/ui/" (seg)} aria-current=[(*seg == current).then_some("page")] { (label) } }
                                    }
                                }
                            }
                        }
                        div.account {
                            a href="/ui/account/password" title="Change password" {
                                (cx.session.user.username) " (" (cx.session.user.role) ")"
                            }
                            form method="post" action="/ui/logout" {
                                (cx.csrf_field())
                                button.link type="submit" { "Log out" }
                            }
                        }
                    }
                }
                main #main {
                    @if let Some(cx) = cx {
                        @for (kind, message) in &cx.flash {
                            div class={"flash flash-" (kind.as_str())} role=(if *kind == FlashKind::Error { "alert" } else { "status" }) { (message) }
                        }
                    }
                    (body)
                }
            }
        }
    }
}
