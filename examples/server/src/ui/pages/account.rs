//! `/ui/account/password`: any user changes their own password; every session of the user
//! ends with it, this one included. `/ui/account/sessions`: the user's own sessions, each
//! with a button that ends it.

use hyper::StatusCode;
use maud::html;

use crate::ui::form::Form;
use crate::ui::page::{Ctx, UiAnswer};
use crate::ui::session::FlashKind;
use crate::ui::widgets::FieldErrors;

pub(crate) async fn route(
    cx: &Ctx<'_>,
    rest: &[&str],
    form: Option<&Form>,
) -> Option<(&'static str, UiAnswer)> {
    match (rest, form) {
        (["account", "password"], None) => Some((
            "/ui/account/password",
            Ok(page(cx, &FieldErrors::default(), StatusCode::OK)),
        )),
        (["account", "password"], Some(f)) => Some(("/ui/account/password", change(cx, f).await)),
        (["account", "sessions"], None) => Some(("/ui/account/sessions", sessions_page(cx).await)),
        (["account", "sessions", id, "revoke"], Some(_)) => {
            Some(("/ui/account/sessions/{id}/revoke", revoke(cx, id).await))
        }
        _ => None,
    }
}

const FIELDS: [(&str, &str, &str); 3] = [
    ("current_password", "Current password", "current-password"),
    ("new_password", "New password", "new-password"),
    ("confirm_new_password", "New password again", "new-password"),
];

fn page(
    cx: &Ctx<'_>,
    errors: &FieldErrors,
    status: StatusCode,
) -> hyper::Response<crate::http::Body> {
    let body = html! {
        h1 { "Change your password" }
        p.muted {
            "Changing it logs you out everywhere, this browser included. "
            a href="/ui/account/sessions" { "Your sessions" }
        }
        (errors.general(&["current_password", "new_password", "confirm_new_password"]))
        form.panel method="post" action="/ui/account/password" {
            (cx.csrf_field())
            @for (name, label, autocomplete) in FIELDS {
                @let err = errors.of(name);
                div.field.invalid[err.is_some()] {
                    label for=(name) { (label) }
                    input id=(name) type="password" name=(name) autocomplete=(autocomplete) required
                        aria-invalid=[err.map(|_| "true")];
                    @if let Some(m) = err { span.field-error { (m) } }
                }
            }
            button type="submit" { "Change password" }
        }
    };
    cx.page_with(status, "Change password", "", body)
}

async fn change(cx: &Ctx<'_>, f: &Form) -> UiAnswer {
    let current = f.get("current_password").unwrap_or("").to_string();
    let new = f.get("new_password").unwrap_or("").to_string();
    if f.get("confirm_new_password").unwrap_or("") != new {
        let mut e = FieldErrors::default();
        e.add("confirm_new_password", "the two new passwords differ");
        return Ok(page(cx, &e, StatusCode::UNPROCESSABLE_ENTITY));
    }
    let id = cx.session.user.id;
    let changed = crate::handlers::users::change_password(cx.state, id, current, new).await;
    match changed {
        Ok(()) => {
            // The library ended every session of the user, this one included.
            Ok(cx.redirect(
                "/ui/login",
                FlashKind::Success,
                "Password changed. Log in with the new one.",
            ))
        }
        Err(e) if e.is_invalid() => Ok(page(
            cx,
            &FieldErrors::from_api(&e),
            StatusCode::UNPROCESSABLE_ENTITY,
        )),
        Err(e) => Err(e),
    }
}

/// The user's own live sessions, newest first: when, last use, and a Revoke button.
async fn sessions_page(cx: &Ctx<'_>) -> UiAnswer {
    let (id, token) = (cx.session.user.id, cx.session.token.clone());
    let list = cx
        .state
        .read_auth(move |inv| inv.own_sessions(id, Some(&token)))
        .await?;
    let body = html! {
        h1 { "Your sessions" }
        p.muted {
            "Every browser and API token logged in as you. A session ends after "
            "a period without use, or at the latest some days after its login. "
            a href="/ui/account/password" { "Change your password" } " to end them all."
        }
        div.table-wrap { table.responsive.sessions {
            thead { tr {
                th scope="col" { "Logged in (UTC)" }
                th scope="col" { "Last used (UTC)" }
                th scope="col" { span.visually-hidden { "Revoke" } }
            } }
            tbody {
                @for s in &list {
                    tr {
                        td data-label="Logged in" {
                            (s.created_at)
                            @if s.current { " " span.badge { "this browser" } }
                        }
                        td data-label="Last used" { (s.last_seen_at) }
                        td {
                            form method="post" action={"/ui/account/sessions/" (s.id) "/revoke"} {
                                (cx.csrf_field())
                                button.danger type="submit" aria-label={"Revoke the session of " (s.created_at)} { "Revoke" }
                            }
                        }
                    }
                }
            }
        } }
    };
    Ok(cx.page("Your sessions", body))
}

/// `POST /ui/account/sessions/{id}/revoke`: ends one of the user's own sessions; ending this
/// browser's goes to the login page.
async fn revoke(cx: &Ctx<'_>, id: &str) -> UiAnswer {
    let id = crate::ui::pages::catalog::path_id(id)?;
    let user = cx.session.user.clone();
    let (uid, token) = (user.id, cx.session.token.clone());
    let current = cx
        .state
        .read_auth(move |inv| inv.own_sessions(uid, Some(&token)))
        .await?
        .iter()
        .any(|s| s.id == id && s.current);
    cx.state
        .with_inventory(move |inv| inv.revoke_own_session(&user, id))
        .await?;
    if current {
        return Ok(cx.redirect("/ui/login", FlashKind::Info, "You are logged out."));
    }
    Ok(cx.redirect(
        "/ui/account/sessions",
        FlashKind::Success,
        "The session was revoked.",
    ))
}
