//! `GET/POST /ui/ip-assets/{ip}/delete`: the permanent delete behind a confirmation page.
//! Always an acknowledgement box; for a high-risk asset also the address typed exactly.
//! The server checks both; the script only keeps the button disabled until then.

use hyper::StatusCode;
use ipocket_core::IpAsset;
use maud::html;

use super::{asset_href, risk_reasons};
use crate::ui::form::Form;
use crate::ui::page::{Ctx, UiAnswer};
use crate::ui::session::FlashKind;
use crate::ui::widgets::FieldErrors;

async fn load(cx: &Ctx<'_>, ip: &str) -> Result<IpAsset, crate::errors::ApiError> {
    let ip = ip.to_string();
    cx.state.read_inventory(move |inv| inv.ip_asset(&ip)).await
}

fn render(
    cx: &Ctx<'_>,
    a: &IpAsset,
    errors: &FieldErrors,
    status: StatusCode,
) -> hyper::Response<crate::http::Body> {
    let why = risk_reasons(a);
    let href = asset_href(&a.ip_address);
    let ack_err = errors.of("acknowledge");
    let ip_err = errors.of("confirm_ip");
    let body = html! {
        h1 { "Delete " span.mono { (a.ip_address) } }
        (errors.general(&["acknowledge", "confirm_ip"]))
        form.panel.danger-zone method="post" action={(href) "/delete"} data-confirm {
            (cx.csrf_field())
            p {
                "This deletes the IP asset permanently; its history stays in the audit log. "
                @if !a.archived { "To keep it for later, " a href=(href) { "archive it" } " instead." }
            }
            @if !why.is_empty() {
                p.flash.flash-warning {
                    "This is a high-risk address: " (why.join(", ")) "."
                }
                div.field.invalid[ip_err.is_some()] {
                    label for="f-confirm_ip" { "Type the IP address " span.mono { (a.ip_address) } " to confirm" }
                    input #f-confirm_ip type="text" name="confirm_ip" autocomplete="off" spellcheck="false"
                        data-confirm-text=(a.ip_address) aria-invalid=[ip_err.map(|_| "true")];
                    @if let Some(m) = ip_err { span.field-error { (m) } }
                }
            }
            div.field.invalid[ack_err.is_some()] {
                label.inline for="f-acknowledge" {
                    input #f-acknowledge type="checkbox" name="acknowledge" value="1" data-confirm-check;
                    "I understand that this cannot be undone."
                }
                @if let Some(m) = ack_err { span.field-error { (m) } }
            }
            div.actions {
                button.danger type="submit" data-confirm-submit { "Delete permanently" }
                a.button.secondary href=(href) { "Cancel" }
            }
        }
    };
    cx.page_with(status, &format!("Delete {}", a.ip_address), "", body)
}

pub(super) async fn page(cx: &Ctx<'_>, ip: &str) -> UiAnswer {
    cx.require_write()?;
    let a = load(cx, ip).await?;
    Ok(render(cx, &a, &FieldErrors::default(), StatusCode::OK))
}

pub(super) async fn submit(cx: &Ctx<'_>, ip: &str, f: &Form) -> UiAnswer {
    cx.require_write()?;
    let a = load(cx, ip).await?;
    let mut errors = FieldErrors::default();
    if !f.checked("acknowledge") {
        errors.add("acknowledge", "Tick the box to confirm.");
    }
    let typed = f.get("confirm_ip").unwrap_or("").trim();
    if !risk_reasons(&a).is_empty() && typed != a.ip_address {
        errors.add(
            "confirm_ip",
            format!("Type {} exactly to delete it.", a.ip_address),
        );
    }
    if !errors.is_empty() {
        return Ok(render(cx, &a, &errors, StatusCode::UNPROCESSABLE_ENTITY));
    }
    let (actor, canon) = (cx.session.actor(), a.ip_address.clone());
    cx.state
        .with_inventory(move |inv| inv.delete_ip_asset(&actor, &canon))
        .await?;
    Ok(cx.redirect(
        "/ui/ip-assets",
        FlashKind::Success,
        format!("IP asset {} deleted.", a.ip_address),
    ))
}
