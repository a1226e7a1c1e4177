//! How a dry run reads: counts per kind of record, then each record's action and field
//! changes; or every located error of a file that does not validate.

use ipocket_core::{EntityCounts, ImportAction, ImportEntity, ImportIssue, ImportPlan};
use maud::{html, Markup};

use crate::ui::widgets::change_list;

/// Records shown per plan; the counts above the table cover them all.
const SHOWN_ITEMS: usize = 500;

fn entity_label(e: ImportEntity) -> &'static str {
    match e {
        ImportEntity::Vendor => "Vendor",
        ImportEntity::Project => "Project",
        ImportEntity::Tag => "Tag",
        ImportEntity::IpRange => "IP range",
        ImportEntity::Host => "Host",
        ImportEntity::IpAsset => "IP asset",
    }
}

fn action_label(a: ImportAction) -> &'static str {
    match a {
        ImportAction::Create => "CREATE",
        ImportAction::Update => "UPDATE",
        ImportAction::Skip => "SKIP",
    }
}

pub(crate) fn plan(plan: &ImportPlan) -> Markup {
    let s = &plan.summary;
    let rows: [(&str, &EntityCounts); 6] = [
        ("Vendors", &s.vendors),
        ("Projects", &s.projects),
        ("Tags", &s.tags),
        ("IP ranges", &s.ip_ranges),
        ("Hosts", &s.hosts),
        ("IP assets", &s.ip_assets),
    ];
    let total = plan.items().len();
    html! {
        h2 { "Summary" }
        div.table-wrap { table.import-summary {
            thead { tr { th scope="col" { "Records" } th.num scope="col" { "Create" } th.num scope="col" { "Update" } th.num scope="col" { "Skip" } } }
            tbody {
                @for (label, c) in rows {
                    @if c.create + c.update + c.skip > 0 {
                        tr { th scope="row" { (label) } td.num { (c.create) } td.num { (c.update) } td.num { (c.skip) } }
                    }
                }
                tr.total { th scope="row" { "Total" } td.num { (s.total.create) } td.num { (s.total.update) } td.num { (s.total.skip) } }
            }
        } }
        @if !plan.warnings.is_empty() {
            h2 { "Warnings" }
            ul.import-warnings {
                @for w in &plan.warnings { li { span.mono { (w.location) } ": " (w.message) } }
            }
        }
        h2 { "Records" }
        @if total == 0 {
            p.muted { "The file holds no records." }
        } @else {
            div.table-wrap { table.responsive.import-plan {
                thead { tr {
                    th scope="col" { "Kind" } th scope="col" { "Key" } th scope="col" { "Action" }
                    th scope="col" { "Changes" } th scope="col" { "Source" }
                } }
                tbody {
                    @for item in plan.items().take(SHOWN_ITEMS) {
                        tr {
                            td data-label="Kind" { (entity_label(item.entity)) }
                            td data-label="Key" { span.mono { (item.key) } }
                            td data-label="Action" { span class={"action-" (action_label(item.action))} { (action_label(item.action)) } }
                            td data-label="Changes" {
                                @if !item.changes.is_empty() { (change_list(&item.changes)) }
                                @for w in item.warnings { div.muted { (w) } }
                            }
                            td data-label="Source" { span.mono { (item.location) } }
                        }
                    }
                }
            } }
            @if total > SHOWN_ITEMS {
                p.muted { "… and " (total - SHOWN_ITEMS) " more records not shown (the summary counts them all)." }
            }
        }
    }
}

pub(super) fn errors(errors: &[ImportIssue]) -> Markup {
    let n = errors.len();
    html! {
        div.flash.flash-error role="alert" {
            (n) " error" @if n != 1 { "s" } " found. Nothing was written: fix the file and upload it again."
        }
        div.table-wrap { table.responsive.import-errors {
            thead { tr { th scope="col" { "Location" } th scope="col" { "Problem" } } }
            tbody {
                @for e in errors {
                    tr { td data-label="Location" { span.mono { (e.location) } } td data-label="Problem" { (e.message) } }
                }
            }
        } }
    }
}
