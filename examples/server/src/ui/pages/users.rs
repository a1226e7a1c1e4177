//! `/ui/users` (Admin only): the users, creating one, and per user `/ui/users/{id}`: role,
//! active flag, password rotation and deletion. The library's rules (not yourself, not the
//! last active Admin) come back as errors on the form; any change ends the user's sessions.

use hyper::StatusCode;
use ipocket_core::{Role, User};
use maud::{html, Markup};

use crate::errors::ApiError;
use crate::http::Body;
use crate::ui::form::Form;
use crate::ui::page::{Ctx, UiAnswer};
use crate::ui::session::FlashKind;
use crate::ui::widgets::{select_field, text_field, FieldErrors};

pub(crate) async fn route(
    cx: &Ctx<'_>,
    rest: &[&str],
    form: Option<&Form>,
) -> Option<(&'static str, UiAnswer)> {
    let (pattern, answer) = match (rest, form) {
        (["users"], None) => ("/ui/users", list(cx, &FieldErrors::default(), None).await),
        (["users"], Some(f)) => ("/ui/users", create(cx, f).await),
        (["users", id], None) => ("/ui/users/{id}", edit_page(cx, id).await),
        (["users", id], Some(f)) => ("/ui/users/{id}", update(cx, id, f).await),
        (["users", id, "delete"], Some(f)) => ("/ui/users/{id}/delete", delete(cx, id, f).await),
        _ => return None,
    };
    // Every handler starts with `require_admin`: reads are Admin-only too.
    Some((pattern, answer))
}

const ROLES: [Role; 3] = [Role::Viewer, Role::Editor, Role::Admin];

fn role_options() -> Vec<(String, String)> {
    ROLES
        .iter()
        .map(|r| (r.as_str().to_string(), r.as_str().to_string()))
        .collect()
}

fn active_checkbox(id: &str, checked: bool) -> Markup {
    html! {
        div.field {
            label.inline for=(id) {
                input type="checkbox" id=(id) name="is_active" value="1" checked[checked];
                "Active (may log in)"
            }
        }
    }
}

async fn all_users(cx: &Ctx<'_>) -> Result<Vec<User>, ApiError> {
    cx.state.read_inventory(|inv| inv.users()).await
}

async fn user_by_id(cx: &Ctx<'_>, id: &str) -> Result<User, ApiError> {
    let id: i64 = id
        .parse()
        .map_err(|_| ApiError::not_found(format!("no user with id {id:?}")))?;
    all_users(cx)
        .await?
        .into_iter()
        .find(|u| u.id == id)
        .ok_or_else(|| ApiError::not_found(format!("no user with id {id}")))
}

/// The list and the create form; `entered` keeps what a failed create sent.
async fn list(
    cx: &Ctx<'_>,
    errors: &FieldErrors,
    entered: Option<(&Form, StatusCode)>,
) -> UiAnswer {
    cx.require_admin()?;
    let users = all_users(cx).await?;
    let value = |k: &str| {
        entered
            .and_then(|(f, _)| f.get(k))
            .unwrap_or("")
            .to_string()
    };
    let role = entered
        .and_then(|(f, _)| f.get("role"))
        .unwrap_or("Viewer")
        .to_string();
    let active = entered.is_none_or(|(f, _)| f.checked("is_active"));
    let body = html! {
        h1 { "Users" }
        p.muted { "Prometheus and other machines read /metrics and service discovery with " a href="/ui/tokens" { "API tokens" } ", not with a user." }
        div.grid-2 {
            section {
                h2 { "All users" }
                div.table-wrap { table.responsive.users {
                    thead { tr { th scope="col" { "Username" } th scope="col" { "Role" } th scope="col" { "Status" } th scope="col" { span.visually-hidden { "Edit" } } } }
                    tbody {
                        @for u in &users {
                            tr {
                                td data-label="Username" {
                                    strong { (u.username) }
                                    @if u.id == cx.session.user.id { " " span.muted { "(you)" } }
                                }
                                td data-label="Role" { span.badge { (u.role) } }
                                td data-label="Status" {
                                    @if u.is_active { "Active" } @else { span.badge.archived { "Inactive" } }
                                }
                                td { a href={"/ui/users/" (u.id)} aria-label={"Edit " (u.username)} { "Edit" } }
                            }
                        }
                    }
                } }
            }
            section {
                h2 { "New user" }
                (errors.general(&["username", "password", "role"]))
                form.panel method="post" action="/ui/users" {
                    (cx.csrf_field())
                    (text_field("username", "Username", &value("username"), errors, true))
                    (password_field("password", "Password", errors, true))
                    (select_field("role", "Role", &role_options(), &role, errors))
                    (active_checkbox("f-is-active", active))
                    button type="submit" { "Create user" }
                }
            }
        }
    };
    let status = entered.map_or(StatusCode::OK, |(_, s)| s);
    Ok(cx.page_with(status, "Users", "", body))
}

fn password_field(name: &str, label: &str, errors: &FieldErrors, required: bool) -> Markup {
    let id = format!("f-{name}");
    let err = errors.of(name);
    html! {
        div.field.invalid[err.is_some()] {
            label for=(id) { (label) }
            input type="password" id=(id) name=(name) autocomplete="new-password" required[required]
                aria-invalid=[err.map(|_| "true")];
            @if let Some(m) = err { span.field-error { (m) } }
        }
    }
}

fn parse_role(f: &Form) -> Result<Role, FieldErrors> {
    f.get("role").unwrap_or("").parse::<Role>().map_err(|_| {
        let mut e = FieldErrors::default();
        e.add("role", "Choose Viewer, Editor or Admin.");
        e
    })
}

/// The library's error at its field; a duplicate name in the original's words.
fn user_errors(e: &ApiError) -> FieldErrors {
    if e.status == StatusCode::CONFLICT && e.message.contains("already exists") {
        let mut errors = FieldErrors::default();
        errors.add("username", "Username already exists.");
        errors
    } else {
        FieldErrors::from_api(e)
    }
}

fn shown_on_form(e: &ApiError) -> bool {
    e.is_invalid() || e.status == StatusCode::CONFLICT
}

async fn create(cx: &Ctx<'_>, f: &Form) -> UiAnswer {
    cx.require_admin()?;
    let role = match parse_role(f) {
        Ok(r) => r,
        Err(e) => return list(cx, &e, Some((f, StatusCode::UNPROCESSABLE_ENTITY))).await,
    };
    let actor = cx.session.actor();
    let username = f.get("username").unwrap_or("").to_string();
    let password = f.get("password").unwrap_or("").to_string();
    let active = f.checked("is_active");
    let created = cx
        .state
        .with_inventory(move |inv| {
            let u = inv.create_user(&actor, &username, &password, role)?;
            if active {
                Ok(u)
            } else {
                inv.update_user(&actor, u.id, None, Some(false), None)
            }
        })
        .await;
    match created {
        Ok(u) => Ok(cx.redirect(
            "/ui/users",
            FlashKind::Success,
            format!("User {} created ({}).", u.username, u.role),
        )),
        Err(e) if shown_on_form(&e) => list(cx, &user_errors(&e), Some((f, e.status))).await,
        Err(e) => Err(e),
    }
}

async fn edit_page(cx: &Ctx<'_>, id: &str) -> UiAnswer {
    cx.require_admin()?;
    let u = user_by_id(cx, id).await?;
    Ok(edit(cx, &u, &FieldErrors::default(), StatusCode::OK))
}

fn edit(cx: &Ctx<'_>, u: &User, errors: &FieldErrors, status: StatusCode) -> hyper::Response<Body> {
    let is_self = u.id == cx.session.user.id;
    let body = html! {
        p { a href="/ui/users" { "‹ All users" } }
        h1 { "User " (u.username) }
        (errors.general(&["role", "password", "confirm_username"]))
        div.grid-2 {
            section {
                h2 { "Role, status, password" }
                form.panel method="post" action={"/ui/users/" (u.id)} {
                    (cx.csrf_field())
                    (select_field("role", "Role", &role_options(), u.role.as_str(), errors))
                    (active_checkbox("f-is-active", u.is_active))
                    (password_field("password", "New password (leave empty to keep)", errors, false))
                    p.muted {
                        "Saving a change ends every session of " (u.username)
                        @if is_self { ", yours included" } "."
                    }
                    button type="submit" { "Save" }
                }
            }
            section {
                h2 { "Delete" }
                form.panel method="post" action={"/ui/users/" (u.id) "/delete"} data-confirm {
                    (cx.csrf_field())
                    @let err = errors.of("confirm_username");
                    div.field.invalid[err.is_some()] {
                        label for="f-confirm-username" { "Type " strong { (u.username) } " to confirm" }
                        input #f-confirm-username type="text" name="confirm_username" autocomplete="off"
                            data-confirm-text=(u.username) aria-invalid=[err.map(|_| "true")];
                        @if let Some(m) = err { span.field-error { (m) } }
                    }
                    button.danger type="submit" data-confirm-submit { "Delete user" }
                }
            }
        }
    };
    cx.page_with(status, &format!("User {}", u.username), "", body)
}

async fn update(cx: &Ctx<'_>, id: &str, f: &Form) -> UiAnswer {
    cx.require_admin()?;
    let u = user_by_id(cx, id).await?;
    let role = match parse_role(f) {
        Ok(r) => r,
        Err(e) => return Ok(edit(cx, &u, &e, StatusCode::UNPROCESSABLE_ENTITY)),
    };
    let active = f.checked("is_active");
    let password = f
        .get("password")
        .filter(|p| !p.is_empty())
        .map(str::to_string);
    let changed = role != u.role || active != u.is_active || password.is_some();
    let (actor, uid) = (cx.session.actor(), u.id);
    let updated = cx
        .state
        .with_inventory(move |inv| {
            inv.update_user(&actor, uid, Some(role), Some(active), password.as_deref())
        })
        .await;
    match updated {
        Ok(_) if !changed => Ok(cx.redirect(
            "/ui/users",
            FlashKind::Info,
            format!("Nothing to change for {}.", u.username),
        )),
        Ok(_) if u.id == cx.session.user.id => Ok(cx.redirect(
            "/ui/login",
            FlashKind::Success,
            "Your account was changed and your sessions ended: log in again.",
        )),
        Ok(_) => Ok(cx.redirect(
            "/ui/users",
            FlashKind::Success,
            format!("User {} saved; their sessions ended.", u.username),
        )),
        Err(e) if shown_on_form(&e) => Ok(edit(cx, &u, &user_errors(&e), e.status)),
        Err(e) => Err(e),
    }
}

async fn delete(cx: &Ctx<'_>, id: &str, f: &Form) -> UiAnswer {
    cx.require_admin()?;
    let u = user_by_id(cx, id).await?;
    if f.get("confirm_username").map(str::trim) != Some(u.username.as_str()) {
        let mut e = FieldErrors::default();
        e.add(
            "confirm_username",
            format!("Type the username {} exactly to delete it.", u.username),
        );
        return Ok(edit(cx, &u, &e, StatusCode::UNPROCESSABLE_ENTITY));
    }
    let (actor, uid) = (cx.session.actor(), u.id);
    let deleted = cx
        .state
        .with_inventory(move |inv| inv.delete_user(&actor, uid))
        .await;
    match deleted {
        Ok(()) => Ok(cx.redirect(
            "/ui/users",
            FlashKind::Success,
            format!("User {} deleted.", u.username),
        )),
        Err(e) if shown_on_form(&e) => Ok(edit(cx, &u, &FieldErrors::from_api(&e), e.status)),
        Err(e) => Err(e),
    }
}
