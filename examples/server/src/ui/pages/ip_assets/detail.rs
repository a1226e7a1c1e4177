//! `GET /ui/ip-assets/{ip}`: every field and the asset's audit history; the buttons Edit,
//! Archive / Restore and Delete for writers. `POST …/archive` and `…/restore`.

use ipocket_core::{AuditFilter, Page};
use maud::html;

use super::{asset_href, project_chip, Choices};
use crate::ui::page::{Ctx, UiAnswer};
use crate::ui::pages::liveness::{dot, DotStyle};
use crate::ui::session::FlashKind;
use crate::ui::widgets::tag_chip;

/// History rows shown (the audit log page has the rest).
const HISTORY_ROWS: u64 = 50;

pub(super) async fn page(cx: &Ctx<'_>, ip: &str) -> UiAnswer {
    let ip = ip.to_string();
    let (a, history, choices) = cx
        .state
        .read_inventory(move |inv| {
            let a = inv.ip_asset(&ip)?;
            let filter = AuditFilter {
                target_type: Some("IP_ASSET".into()),
                target_label: Some(a.ip_address.clone()),
            };
            let history = inv.audit_log(&filter, Page::number(1, HISTORY_ROWS))?;
            Ok((a, history, Choices::load(inv, false)?))
        })
        .await?;
    let href = asset_href(&a.ip_address);
    let body = html! {
        div.toolbar {
            h1 {
                span.mono { (a.ip_address) }
                @if a.archived { " " span.badge.archived { "archived" } }
            }
            span.spacer {}
            @if cx.session.can_write() {
                div.actions {
                    a.button href={(href) "/edit"} { "Edit" }
                    @if a.archived {
                        form method="post" action={(href) "/restore"} {
                            (cx.csrf_field())
                            button.secondary type="submit" { "Restore" }
                        }
                    } @else {
                        form method="post" action={(href) "/archive"} {
                            (cx.csrf_field())
                            button.secondary type="submit" { "Archive" }
                        }
                    }
                    a.button.danger href={(href) "/delete"} { "Delete" }
                }
            }
        }
        section.panel aria-label="Fields" {
            dl.props {
                dt { "Type" } dd { (a.asset_type.as_str()) }
                dt { "Project" } dd { (project_chip(a.project_id, a.project_name.as_deref())) }
                dt { "Host" }
                dd {
                    @match (a.host_id, &a.host_name) {
                        (Some(id), Some(n)) => a href={"/ui/hosts/" (id)} { (n) },
                        _ => span.muted { "None" },
                    }
                }
                dt { "Tags" }
                dd {
                    @for t in &a.tags { (tag_chip(t)) }
                    @if a.tags.is_empty() { span.muted { "None" } }
                }
                dt { "Notes" } dd.notes-full { (a.notes.as_deref().unwrap_or("")) }
                dt { "Status" } dd { @if a.archived { "Archived" } @else { "Active" } }
                @if cx.state.liveness.is_some() {
                    dt { "Liveness" } dd { (dot(cx, &a.ip_address, DotStyle::Full)) }
                }
                dt { "Created (UTC)" } dd.mono { (a.created_at) }
                dt { "Updated (UTC)" } dd.mono { (a.updated_at) }
            }
        }
        h2 { "History" }
        @if history.items.is_empty() {
            p.muted { "No recorded changes." }
        } @else {
            div.table-wrap { table.responsive {
                thead { tr {
                    th scope="col" { "When (UTC)" }
                    th scope="col" { "Who" }
                    th scope="col" { "Action" }
                    th scope="col" { "Changes" }
                } }
                tbody {
                    @for e in &history.items {
                        tr {
                            td.mono.nowrap data-label="When" { (e.created_at) }
                            td data-label="Who" { (e.username.as_deref().unwrap_or("System")) }
                            td data-label="Action" { span class={"action-" (e.action)} { (e.action) } }
                            td.diff data-label="Changes" {
                                @for c in &e.changes {
                                    div {
                                        strong { (c.field) ": " }
                                        @match &c.before { Some(b) => del { (b) }, None => span.muted { "none" } }
                                        " → "
                                        @match &c.after { Some(v) => ins { (v) }, None => span.muted { "none" } }
                                    }
                                }
                                @if let Some(m) = &e.message { div { (m) } }
                            }
                        }
                    }
                }
            } }
            @if history.total > HISTORY_ROWS {
                p.muted { "The latest " (HISTORY_ROWS) " of " (history.total) " changes." }
            }
        }
        p { a href="/ui/ip-assets" { "← All IP assets" } }
    };
    Ok(cx.page_with(
        hyper::StatusCode::OK,
        &a.ip_address,
        &choices.colours(),
        body,
    ))
}

/// Archive (`true`) or restore, then back to the asset's page.
pub(super) async fn set_archived(cx: &Ctx<'_>, ip: &str, archive: bool) -> UiAnswer {
    cx.require_write()?;
    let (actor, ip) = (cx.session.actor(), ip.to_string());
    let a = cx
        .state
        .with_inventory(move |inv| {
            if archive {
                inv.archive_ip_asset(&actor, &ip)
            } else {
                inv.unarchive_ip_asset(&actor, &ip)
            }
        })
        .await?;
    let done = if archive { "archived" } else { "restored" };
    Ok(cx.redirect(
        &asset_href(&a.ip_address),
        FlashKind::Success,
        format!("IP asset {} {done}.", a.ip_address),
    ))
}
