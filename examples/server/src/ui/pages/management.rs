//! `/ui/management`: the dashboard (counts, range utilization, recent changes).

use ipocket_core::{AuditFilter, Page};
use maud::{html, Markup};

use crate::ui::form::Form;
use crate::ui::page::{Ctx, UiAnswer};

pub(crate) async fn route(
    cx: &Ctx<'_>,
    rest: &[&str],
    form: Option<&Form>,
) -> Option<(&'static str, UiAnswer)> {
    match (rest, form) {
        (["management"], None) => Some(("/ui/management", dashboard(cx).await)),
        _ => None,
    }
}

/// A utilization bar that needs no inline style (CSP): a `<meter>`.
pub(crate) fn utilization_bar(percent: f64) -> Markup {
    html! {
        meter min="0" max="100" low="70" high="90" optimum="0" value=(format!("{percent:.1}")) title={(format!("{percent:.1}")) "% used"} {}
        " " span.mono { (format!("{percent:.1}")) "%" }
    }
}

async fn dashboard(cx: &Ctx<'_>) -> UiAnswer {
    let (summary, ranges, recent) = cx
        .state
        .read_inventory(|inv| {
            Ok((
                inv.summary()?,
                inv.all_range_utilization()?,
                inv.audit_log(&AuditFilter::default(), Page::number(1, 10))?,
            ))
        })
        .await?;
    let cards = [
        ("Active IP assets", summary.active_ip_total, "/ui/ip-assets"),
        (
            "Archived",
            summary.archived_ip_total,
            "/ui/ip-assets?archived-only=1",
        ),
        (
            "Unassigned",
            summary.unassigned_ip_total,
            "/ui/ip-assets?unassigned-only=1",
        ),
        ("Hosts", summary.host_total, "/ui/hosts"),
        ("Vendors", summary.vendor_total, "/ui/vendors"),
        ("Projects", summary.project_total, "/ui/projects"),
        ("Tags", summary.tag_total, "/ui/tags"),
        ("Ranges", summary.range_total, "/ui/ranges"),
    ];
    let body = html! {
        h1 { "Dashboard" }
        section.cards aria-label="Counts" {
            @for (label, value, href) in cards {
                a.card href=(href) {
                    div.value { (value) }
                    div.label { (label) }
                }
            }
        }
        div.grid-2 {
            section {
                h2 { "Range utilization" }
                @if ranges.is_empty() {
                    p.muted { "No ranges yet. " a href="/ui/ranges" { "Add one" } "." }
                } @else {
                    div.table-wrap { table {
                        thead { tr { th { "Range" } th { "CIDR" } th.num { "Used" } th.num { "Free" } th { "Utilization" } } }
                        tbody {
                            @for u in &ranges {
                                tr {
                                    td { a href={"/ui/ranges/" (u.range.id) "/addresses"} { (u.range.name) } }
                                    td.mono { (u.range.cidr) }
                                    td.num { (u.used) }
                                    td.num { (u.free) }
                                    td { (utilization_bar(u.percent)) }
                                }
                            }
                        }
                    } }
                }
            }
            section {
                h2 { "Recent changes" }
                @if recent.items.is_empty() {
                    p.muted { "Nothing changed yet." }
                } @else {
                    div.table-wrap { table {
                        thead { tr { th { "When (UTC)" } th { "Who" } th { "What" } } }
                        tbody {
                            @for e in &recent.items {
                                tr {
                                    td.mono { (e.created_at) }
                                    td { (e.username.as_deref().unwrap_or("System")) }
                                    td { (e.action) " " (e.target_type) " " strong { (e.target_label) } }
                                }
                            }
                        }
                    } }
                    p { a href="/ui/audit-log" { "The whole audit log" } }
                }
            }
        }
    };
    Ok(cx.page("Dashboard", body))
}
