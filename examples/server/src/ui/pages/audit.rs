//! `/ui/audit-log`: every change, newest first, filtered by target type and label, with the
//! field changes as before → after.

use ipocket_core::{AuditEntry, AuditFilter, Page};
use maud::{html, Markup};

use crate::ui::form::Form;
use crate::ui::page::{Ctx, UiAnswer};
use crate::ui::widgets::{change_list, pager, paging};

pub(crate) async fn route(
    cx: &Ctx<'_>,
    rest: &[&str],
    form: Option<&Form>,
) -> Option<(&'static str, UiAnswer)> {
    match (rest, form) {
        (["audit-log"], None) => Some(("/ui/audit-log", list(cx).await)),
        _ => None,
    }
}

/// The target types the library writes.
const TARGET_TYPES: [(&str, &str); 9] = [
    ("IP_ASSET", "IP assets"),
    ("HOST", "Hosts"),
    ("PROJECT", "Projects"),
    ("VENDOR", "Vendors"),
    ("TAG", "Tags"),
    ("IP_RANGE", "Ranges"),
    ("USER", "Users"),
    ("API_TOKEN", "API tokens"),
    ("IMPORT_RUN", "Import runs"),
];

async fn list(cx: &Ctx<'_>) -> UiAnswer {
    let (page, per_page) = paging(cx.req)?;
    let text = |k: &str| {
        cx.req
            .param(k)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let filter = AuditFilter {
        target_type: text("target_type"),
        target_label: text("target_label"),
    };
    let (ty, label) = (
        filter.target_type.clone().unwrap_or_default(),
        filter.target_label.clone().unwrap_or_default(),
    );
    let found = cx
        .state
        .read_inventory(move |inv| inv.audit_log(&filter, Page::number(page, per_page)))
        .await?;
    let body = html! {
        h1 { "Audit log" }
        form.toolbar method="get" action="/ui/audit-log" {
            div {
                label for="f-target-type" { "Target type" }
                select #f-target-type name="target_type" {
                    option value="" { "All types" }
                    @for (v, l) in TARGET_TYPES { option value=(v) selected[v == ty] { (l) } }
                }
            }
            div {
                label for="f-target-label" { "Target (exact IP, name or source)" }
                input #f-target-label type="text" name="target_label" value=(label);
            }
            input type="hidden" name="per_page" value=(per_page);
            button type="submit" { "Filter" }
            @if !ty.is_empty() || !label.is_empty() { a href="/ui/audit-log" { "Clear" } }
        }
        @if found.items.is_empty() {
            p.muted { "No entries." }
        } @else {
            div.table-wrap { table.responsive.audit {
                thead { tr {
                    th scope="col" { "When (UTC)" } th scope="col" { "Who" } th scope="col" { "Action" }
                    th scope="col" { "Target" } th scope="col" { "Changes" }
                } }
                tbody { @for e in &found.items { (entry_row(e)) } }
            } }
        }
        (pager(cx.req, "/ui/audit-log", found.total, page, per_page))
    };
    Ok(cx.page("Audit log", body))
}

fn entry_row(e: &AuditEntry) -> Markup {
    html! {
        tr {
            td.nowrap data-label="When" { span.mono { (e.created_at) } }
            td data-label="Who" {
                @match &e.username { Some(u) => (u), None => span.muted { "System" } }
            }
            td data-label="Action" { span.badge { (e.action) } }
            td data-label="Target" {
                span.muted { (e.target_type) } " "
                @if e.target_type == "IP_ASSET" {
                    a.mono href={"/ui/ip-assets/" (e.target_label)} { (e.target_label) }
                } @else {
                    strong { (e.target_label) }
                }
            }
            td data-label="Changes" {
                @if !e.changes.is_empty() { (change_list(&e.changes)) }
                @if let Some(m) = &e.message { div { (m) } }
            }
        }
    }
}
