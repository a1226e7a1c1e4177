//! `/ui/tokens` (Admin only): the scoped API tokens Prometheus reads `/metrics` and service
//! discovery with: the list (never a token), creating one (the token is on the answer page,
//! that once) and revoking one.

use hyper::StatusCode;
use ipocket_core::{ApiToken, TokenScope};
use maud::{html, Markup};

use crate::errors::ApiError;
use crate::ui::form::Form;
use crate::ui::page::{Ctx, UiAnswer};
use crate::ui::pages::catalog::path_id;
use crate::ui::session::FlashKind;
use crate::ui::widgets::{text_field, FieldErrors};

pub(crate) async fn route(
    cx: &Ctx<'_>,
    rest: &[&str],
    form: Option<&Form>,
) -> Option<(&'static str, UiAnswer)> {
    let (pattern, answer) = match (rest, form) {
        (["tokens"], None) => ("/ui/tokens", list(cx, &FieldErrors::default(), None).await),
        (["tokens"], Some(f)) => ("/ui/tokens", create(cx, f).await),
        (["tokens", id, "revoke"], Some(_)) => ("/ui/tokens/{id}/revoke", revoke(cx, id).await),
        _ => return None,
    };
    Some((pattern, answer))
}

/// What the page shows besides the list: a failed create's input, or a new token.
enum Shown<'a> {
    Failed(&'a Form, StatusCode),
    Created(&'a ApiToken, &'a str),
}

async fn list(cx: &Ctx<'_>, errors: &FieldErrors, shown: Option<Shown<'_>>) -> UiAnswer {
    cx.require_admin()?;
    let tokens = cx.state.read_inventory(|inv| inv.api_tokens()).await?;
    let entered = match &shown {
        Some(Shown::Failed(f, _)) => Some(*f),
        _ => None,
    };
    let value = |k: &str| entered.and_then(|f| f.get(k)).unwrap_or("").to_string();
    let scope_checked =
        |s: TokenScope| entered.is_none_or(|f| f.all("scopes").contains(&s.as_str()));
    let body = html! {
        h1 { "API tokens" }
        p.muted {
            "Read-only tokens for Prometheus and other machines, sent as "
            code { "Authorization: Bearer <token>" } ". Each reads only its scopes; "
            "the API and this web UI refuse them (people log in as "
            a href="/ui/users" { "users" } ")."
        }
        @if let Some(Shown::Created(t, token)) = &shown {
            (created_panel(t, token))
        }
        section {
                h2 { "All tokens" }
                @if tokens.is_empty() {
                    p.muted { "No API token yet." }
                } @else {
                    div.table-wrap { table.responsive.tokens {
                        thead { tr {
                            th scope="col" { "Name" } th scope="col" { "Scopes" }
                            th scope="col" { "Created by" } th scope="col" { "Created (UTC)" }
                            th scope="col" { "Expires (UTC)" } th scope="col" { "Last used (UTC)" }
                            th scope="col" { span.visually-hidden { "Revoke" } }
                        } }
                        tbody {
                            @for t in &tokens { (token_row(cx, t)) }
                        }
                    } }
                }
        }
        section {
                h2 { "New token" }
                (errors.general(&["name", "scopes", "expires_in_days"]))
                form.panel.token-form method="post" action="/ui/tokens" {
                    (cx.csrf_field())
                    (text_field("name", "Name (what it is for)", &value("name"), errors, true))
                    @let err = errors.of("scopes");
                    fieldset.invalid[err.is_some()] {
                        legend { "Scopes" }
                        @for s in TokenScope::ALL {
                            div { label.inline for={"f-scope-" (s)} {
                                input type="checkbox" id={"f-scope-" (s)} name="scopes" value=(s) checked[scope_checked(s)];
                                strong { (s) } " — " (s.describe())
                            } }
                        }
                        @if let Some(m) = err { span.field-error { (m) } }
                    }
                    @let err = errors.of("expires_in_days");
                    div.field.invalid[err.is_some()] {
                        label for="f-expires-in-days" { "Expires after (days; empty: never)" }
                        input #f-expires-in-days type="number" name="expires_in_days" min="1"
                            max=(ipocket_core::MAX_TOKEN_DAYS) value=(value("expires_in_days"))
                            aria-invalid=[err.map(|_| "true")];
                        @if let Some(m) = err { span.field-error { (m) } }
                    }
                    button type="submit" { "Create token" }
                }
        }
    };
    let status = match shown {
        Some(Shown::Failed(_, s)) => s,
        _ => StatusCode::OK,
    };
    Ok(cx.page_with(status, "API tokens", "", body))
}

fn token_row(cx: &Ctx<'_>, t: &ApiToken) -> Markup {
    html! {
        tr {
            td data-label="Name" { strong { (t.name) } }
            td data-label="Scopes" { @for s in &t.scopes { span.badge { (s) } " " } }
            td data-label="Created by" { (t.created_by.as_deref().unwrap_or("System")) }
            td.mono data-label="Created" { (t.created_at) }
            td.mono data-label="Expires" {
                (t.expires_at.as_deref().unwrap_or("never"))
                @if t.expired { " " span.badge.archived { "expired" } }
            }
            td.mono data-label="Last used" { (t.last_used_at.as_deref().unwrap_or("never")) }
            td {
                form method="post" action={"/ui/tokens/" (t.id) "/revoke"} {
                    (cx.csrf_field())
                    button.danger type="submit" aria-label={"Revoke " (t.name)} { "Revoke" }
                }
            }
        }
    }
}

/// The new token, this once, with where it goes in Prometheus.
fn created_panel(t: &ApiToken, token: &str) -> Markup {
    let sd = t.scopes.contains(&TokenScope::Sd);
    html! {
        section.panel.new-token role="status" aria-labelledby="new-token-title" {
            h2 #new-token-title { "Token " (t.name) " created" }
            p { strong { "Copy it now: it is not shown again." } " Only a hash is kept." }
            label for="new-token" { "Token" }
            input #new-token.mono type="text" readonly value=(token) autocomplete="off" spellcheck="false";
            p.muted {
                "Save it as a file Prometheus can read (" code { "/etc/prometheus/ipocket.token" }
                ") and refer to it from the job"
                @if sd { " (in " code { "http_sd_configs" } ", " code { "type: Bearer" } " is required)" }
                ". See docs/server.md."
            }
        }
    }
}

async fn create(cx: &Ctx<'_>, f: &Form) -> UiAnswer {
    cx.require_admin()?;
    let name = f.get("name").unwrap_or("").to_string();
    let scopes: Vec<String> = f.all("scopes").into_iter().map(str::to_string).collect();
    let days = match f.text("expires_in_days").map(|d| d.parse::<u32>()) {
        None => None,
        Some(Ok(d)) => Some(d),
        Some(Err(_)) => {
            let mut e = FieldErrors::default();
            e.add(
                "expires_in_days",
                "Give a whole number of days, or leave it empty.",
            );
            let failed = Shown::Failed(f, StatusCode::UNPROCESSABLE_ENTITY);
            return list(cx, &e, Some(failed)).await;
        }
    };
    let actor = cx.session.actor();
    let created = cx
        .state
        .with_inventory(move |inv| {
            let scopes = scopes
                .iter()
                .map(|s| s.parse())
                .collect::<ipocket_core::Result<Vec<TokenScope>>>()?;
            inv.create_api_token(&actor, &name, &scopes, days)
        })
        .await;
    match created {
        // Answered here, not redirected: the token must not travel in a cookie or URL.
        Ok((t, token)) => {
            list(
                cx,
                &FieldErrors::default(),
                Some(Shown::Created(&t, &token)),
            )
            .await
        }
        Err(e) if e.is_invalid() || e.status == StatusCode::CONFLICT => {
            let errors = token_errors(&e);
            list(cx, &errors, Some(Shown::Failed(f, e.status))).await
        }
        Err(e) => Err(e),
    }
}

/// The library's error at its field; a duplicate name at the name.
fn token_errors(e: &ApiError) -> FieldErrors {
    if e.status == StatusCode::CONFLICT {
        let mut errors = FieldErrors::default();
        errors.add("name", "An API token with this name already exists.");
        return errors;
    }
    FieldErrors::from_api(e)
}

async fn revoke(cx: &Ctx<'_>, id: &str) -> UiAnswer {
    cx.require_admin()?;
    let id = path_id(id)?;
    let actor = cx.session.actor();
    let t = cx
        .state
        .with_inventory(move |inv| inv.revoke_api_token(&actor, id))
        .await?;
    Ok(cx.redirect(
        "/ui/tokens",
        FlashKind::Success,
        format!("API token {} revoked; it no longer works.", t.name),
    ))
}
