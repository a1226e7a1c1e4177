//! `/ui/account/password`: any user changes their own password; every session of the user
//! ends with it, this one included.

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
        p.muted { "Changing it logs you out everywhere, this browser included." }
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
    let changed = cx
        .state
        .with_inventory(move |inv| inv.change_own_password(id, &current, &new))
        .await;
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
