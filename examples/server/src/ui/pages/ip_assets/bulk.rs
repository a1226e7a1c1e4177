//! The bulk edit of the list: the form (whose checkboxes are the list's rows) and
//! `POST /ui/ip-assets/bulk-edit`, which changes every selected asset in one transaction.

use ipocket_core::{AssetType, BulkEdit};
use maud::{html, Markup};

use super::list::tag_select;
use super::{host_by_name, unknown_tags, Choices};
use crate::http::parse_query;
use crate::ui::form::Form;
use crate::ui::page::{Ctx, UiAnswer};
use crate::ui::session::{percent_encode, FlashKind};

/// The form; the rows' checkboxes (`name="ip"`) join it through `form="bulk"`.
pub(super) fn form(cx: &Ctx<'_>, c: &Choices) -> Markup {
    let filters: Vec<String> = cx
        .req
        .query
        .iter()
        .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
        .collect();
    html! {
        details.bulk.panel {
            summary { "Bulk edit the selected IP assets" }
            form #bulk method="post" action="/ui/ip-assets/bulk-edit" {
                (cx.csrf_field())
                input type="hidden" name="filters" value=(filters.join("&"));
                p.muted { "Tick the rows below, choose the changes, apply. Fields left on “keep” stay as they are." }
                div.filter-grid {
                    div.field {
                        label for="f-bulk_type" { "Type" }
                        select #f-bulk_type name="bulk_type" {
                            option value="" { "(keep)" }
                            @for t in AssetType::ALL { option value=(t.as_str()) { (t.as_str()) } }
                        }
                    }
                    div.field {
                        label for="f-bulk_project" { "Project" }
                        select #f-bulk_project name="bulk_project" {
                            option value="" { "(keep)" }
                            option value="none" { "Unassigned (remove the project)" }
                            @for p in &c.projects { option value=(p.id) { (p.name) } }
                        }
                    }
                    div.field {
                        label for="f-bulk_host" { "Host (blank: keep)" }
                        input #f-bulk_host type="text" name="bulk_host" list="host-names" autocomplete="off";
                        (c.host_datalist())
                    }
                    (tag_select("add_tags", "Add tags", &c.tags, &[]))
                    (tag_select("remove_tags", "Remove tags", &c.tags, &[]))
                    div.field {
                        label for="f-notes_action" { "Notes" }
                        select #f-notes_action name="notes_action" {
                            option value="keep" { "(keep)" }
                            option value="overwrite" { "Overwrite with the text below" }
                            option value="clear" { "Clear" }
                        }
                        label for="f-bulk_notes" { "New notes" }
                        textarea #f-bulk_notes name="bulk_notes" rows="2" {}
                    }
                }
                button type="submit" { "Apply to the selected IP assets" }
            }
        }
    }
}

/// The edit the form asks for (the host is resolved by name later, in the transaction).
fn edit_of(f: &Form) -> Result<BulkEdit, String> {
    let names =
        |field: &str| -> Vec<String> { f.all(field).into_iter().map(str::to_string).collect() };
    let mut edit = BulkEdit {
        add_tags: names("add_tags"),
        remove_tags: names("remove_tags"),
        ..BulkEdit::default()
    };
    if let Some(t) = f.text("bulk_type") {
        edit.asset_type = Some(t.parse::<AssetType>().map_err(|e| e.to_string())?);
    }
    edit.project_id = match f.text("bulk_project").as_deref() {
        None => None,
        Some("none") => Some(None),
        Some(id) => Some(Some(
            id.parse()
                .map_err(|_| format!("project: not a project id: {id:?}"))?,
        )),
    };
    edit.notes = match f.get("notes_action").unwrap_or("keep") {
        "keep" => None,
        "clear" => Some(None),
        "overwrite" => Some(f.text("bulk_notes")),
        other => return Err(format!("notes: unknown action {other:?}")),
    };
    Ok(edit)
}

/// The list with the filters the form was sent from.
fn back_to_list(f: &Form) -> String {
    let pairs: Vec<String> = parse_query(f.get("filters").unwrap_or(""))
        .iter()
        .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
        .collect();
    if pairs.is_empty() {
        "/ui/ip-assets".into()
    } else {
        format!("/ui/ip-assets?{}", pairs.join("&"))
    }
}

pub(super) async fn submit(cx: &Ctx<'_>, f: &Form) -> UiAnswer {
    cx.require_write()?;
    let back = back_to_list(f);
    let ips: Vec<String> = f.all("ip").into_iter().map(str::to_string).collect();
    if ips.is_empty() {
        return Ok(cx.redirect(&back, FlashKind::Warning, "Select at least one IP asset."));
    }
    let mut edit = match edit_of(f) {
        Ok(e) => e,
        Err(m) => {
            return Ok(cx.redirect(&back, FlashKind::Error, format!("Nothing was changed: {m}")))
        }
    };
    let host = f.text("bulk_host");
    let actor = cx.session.actor();
    let done = cx
        .state
        .with_inventory(move |inv| {
            unknown_tags(inv, &edit.add_tags)?;
            unknown_tags(inv, &edit.remove_tags)?;
            if host.is_some() {
                edit.host_id = Some(host_by_name(inv, host.as_deref())?);
            }
            inv.bulk_update_ip_assets(&actor, &ips, &edit)
        })
        .await;
    match done {
        Ok(n) => Ok(cx.redirect(
            &back,
            FlashKind::Success,
            format!("Updated {n} IP asset{}.", if n == 1 { "" } else { "s" }),
        )),
        // One bad row (unknown address, project, host or tag) and nothing was written.
        Err(e) if e.is_invalid() || e.status == hyper::StatusCode::NOT_FOUND => Ok(cx.redirect(
            &back,
            FlashKind::Error,
            format!("Nothing was changed: {}", e.message),
        )),
        Err(e) => Err(e),
    }
}
