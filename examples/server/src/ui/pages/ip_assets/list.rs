//! `GET /ui/ip-assets`: filters in a GET form, sortable columns, paging, and for writers the
//! row checkboxes of the bulk edit form.

use ipocket_core::{
    ArchivedFilter, AssetFilter, AssetSort, AssetSortField, AssetType, IpAsset, Page, PageResult,
    ProjectFilter, Tag,
};
use maud::{html, Markup};

use super::{asset_href, project_chip, Choices};
use crate::errors::ApiError;
use crate::http::ApiRequest;
use crate::ui::page::{Ctx, UiAnswer};
use crate::ui::pages::liveness::{dot, DotStyle};
use crate::ui::widgets::{pager, paging, sort_header, tag_chip};

const PATH: &str = "/ui/ip-assets";

/// Notes longer than this are cut in the list (the detail page shows them whole).
const NOTES_SHOWN: usize = 60;

/// The listing the query string asks for.
struct ListQuery {
    filter: AssetFilter,
    sort: AssetSort,
    page: u64,
    per_page: u64,
}

/// Every non-blank value of a repeated parameter (multi-selects).
fn values(req: &ApiRequest, name: &str) -> Vec<String> {
    req.query
        .iter()
        .filter(|(k, v)| k == name && !v.trim().is_empty())
        .map(|(_, v)| v.trim().to_string())
        .collect()
}

fn parse(req: &ApiRequest) -> Result<ListQuery, ApiError> {
    let mut filter = AssetFilter {
        text: req
            .param("q")
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string),
        tags_any: values(req, "tag"),
        tags_all: values(req, "tags_all"),
        tags_not: values(req, "tags_not"),
        unassigned_only: req.flag("unassigned-only")?,
        ..AssetFilter::default()
    };
    if req.flag("archived-only")? {
        filter.archived = ArchivedFilter::Archived;
    }
    filter.project = match req.param("project_id").unwrap_or("") {
        "" => None,
        "unassigned" => Some(ProjectFilter::Unassigned),
        id => Some(ProjectFilter::Id(id.parse().map_err(|_| {
            ApiError::bad_request(format!(
                "project_id: expected a project id or unassigned, found {id:?}"
            ))
        })?)),
    };
    if let Some(t) = req.param("type").filter(|s| !s.is_empty()) {
        filter.asset_type = Some(t.parse::<AssetType>()?);
    }
    let field = match req.param("sort").unwrap_or("") {
        "" | "ip" => AssetSortField::Address,
        "type" => AssetSortField::Type,
        "project" => AssetSortField::Project,
        "host" => AssetSortField::Host,
        "updated" => AssetSortField::Updated,
        other => {
            return Err(ApiError::bad_request(format!(
                "sort: expected ip, type, project, host or updated, found {other:?}"
            )))
        }
    };
    let sort = AssetSort {
        field,
        descending: req.param("dir") == Some("desc"),
    };
    let (page, per_page) = paging(req)?;
    Ok(ListQuery {
        filter,
        sort,
        page,
        per_page,
    })
}

pub(super) async fn page(cx: &Ctx<'_>) -> UiAnswer {
    let q = parse(cx.req)?;
    let (filter, sort, window) = (q.filter.clone(), q.sort, Page::number(q.page, q.per_page));
    let writer = cx.session.can_write();
    let (choices, result) = cx
        .state
        .read_inventory(move |inv| {
            Ok((
                // the hosts are suggestions of the bulk form: writers only
                Choices::load(inv, writer)?,
                inv.list_ip_assets_sorted(&filter, sort, window)?,
            ))
        })
        .await?;
    let body = html! {
        div.toolbar {
            h1 { "IP assets" }
            span.spacer {}
            @if writer { a.button href="/ui/ip-assets/new" { "Add IP asset" } }
        }
        (filters(cx.req, &choices))
        @if writer { (super::bulk::form(cx, &choices)) }
        (table(cx, &q, &result, writer))
        (pager(cx.req, PATH, result.total, q.page, q.per_page))
    };
    Ok(cx.page_with(hyper::StatusCode::OK, "IP assets", &choices.colours(), body))
}

/// A labelled multi-select of the existing tags.
pub(super) fn tag_select(name: &str, label: &str, tags: &[Tag], selected: &[String]) -> Markup {
    let id = format!("f-{name}");
    html! {
        div.field {
            label for=(id) { (label) }
            select id=(id) name=(name) multiple size=(tags.len().clamp(2, 4)) {
                @for t in tags {
                    option value=(t.name) selected[selected.contains(&t.name)] { (t.name) }
                }
            }
        }
    }
}

fn filters(req: &ApiRequest, c: &Choices) -> Markup {
    let param = |n: &str| req.param(n).unwrap_or("").to_string();
    let project = param("project_id");
    let asset_type = param("type");
    html! {
        form.panel.filters method="get" action=(PATH) aria-label="Filters" {
            div.filter-grid {
                div.field {
                    label for="f-q" { "Search" }
                    input #f-q type="search" name="q" value=(param("q")) placeholder="Address, notes, host, project, tag";
                }
                div.field {
                    label for="f-project" { "Project" }
                    select #f-project name="project_id" {
                        option value="" { "Any project" }
                        option value="unassigned" selected[project == "unassigned"] { "Unassigned" }
                        @for p in &c.projects {
                            option value=(p.id) selected[project == p.id.to_string()] { (p.name) }
                        }
                    }
                }
                div.field {
                    label for="f-type" { "Type" }
                    select #f-type name="type" {
                        option value="" { "Any type" }
                        @for t in AssetType::ALL {
                            option value=(t.as_str()) selected[asset_type == t.as_str()] { (t.as_str()) }
                        }
                    }
                }
                (tag_select("tag", "Any of the tags", &c.tags, &values(req, "tag")))
                (tag_select("tags_all", "All of the tags", &c.tags, &values(req, "tags_all")))
                (tag_select("tags_not", "None of the tags", &c.tags, &values(req, "tags_not")))
                div.field.checks {
                    label.inline for="f-unassigned-only" {
                        input #f-unassigned-only type="checkbox" name="unassigned-only" value="1"
                            checked[req.flag("unassigned-only").unwrap_or(false)];
                        "Unassigned only"
                    }
                    label.inline for="f-archived-only" {
                        input #f-archived-only type="checkbox" name="archived-only" value="1"
                            checked[req.flag("archived-only").unwrap_or(false)];
                        "Archived only"
                    }
                }
            }
            @for keep in ["sort", "dir", "per_page"] {
                @if let Some(v) = req.param(keep) { input type="hidden" name=(keep) value=(v); }
            }
            div.actions {
                button type="submit" { "Filter" }
                a.button.secondary href=(PATH) { "Clear" }
            }
        }
    }
}

fn table(cx: &Ctx<'_>, q: &ListQuery, result: &PageResult<IpAsset>, writer: bool) -> Markup {
    let req = cx.req;
    if result.items.is_empty() {
        let filtered = req.query.iter().any(|(k, v)| {
            !v.is_empty() && !matches!(k.as_str(), "sort" | "dir" | "page" | "per_page")
        });
        return html! {
            p.panel.muted.empty {
                @if filtered { "No IP assets match these filters." }
                @else if q.page > 1 { "This page is empty." }
                @else {
                    "No IP assets yet."
                    @if writer { " " a href="/ui/ip-assets/new" { "Add the first one" } "." }
                }
            }
        };
    }
    html! {
        div.table-wrap {
            table.responsive.assets {
                thead { tr {
                    @if writer {
                        th scope="col" {
                            label.visually-hidden for="select-all" { "Select all on this page" }
                            input #select-all type="checkbox" data-select-all="ip";
                        }
                    }
                    (sort_header(req, PATH, "ip", "IP address"))
                    (sort_header(req, PATH, "type", "Type"))
                    (sort_header(req, PATH, "project", "Project"))
                    (sort_header(req, PATH, "host", "Host"))
                    th scope="col" { "Tags" }
                    th scope="col" { "Notes" }
                    (sort_header(req, PATH, "updated", "Updated (UTC)"))
                } }
                tbody {
                    @for (i, a) in result.items.iter().enumerate() {
                        tr {
                            @if writer {
                                td {
                                    label.visually-hidden for={"sel-" (i)} { "Select " (a.ip_address) }
                                    input id={"sel-" (i)} type="checkbox" name="ip" value=(a.ip_address) form="bulk";
                                }
                            }
                            td.mono data-label="IP" {
                                (dot(cx, &a.ip_address, DotStyle::Compact))
                                a href=(asset_href(&a.ip_address)) { (a.ip_address) }
                                @if a.archived { " " span.badge.archived { "archived" } }
                            }
                            td data-label="Type" { (a.asset_type.as_str()) }
                            td data-label="Project" { (project_chip(a.project_id, a.project_name.as_deref())) }
                            td data-label="Host" {
                                @match (a.host_id, &a.host_name) {
                                    (Some(id), Some(n)) => a href={"/ui/hosts/" (id)} { (n) },
                                    _ => span.muted { "—" },
                                }
                            }
                            td data-label="Tags" { @for t in &a.tags { (tag_chip(t)) } }
                            td.notes data-label="Notes" title=[a.notes.as_deref()] { (short_notes(a.notes.as_deref())) }
                            td.mono.nowrap data-label="Updated" { (a.updated_at) }
                        }
                    }
                }
            }
        }
    }
}

/// The first [`NOTES_SHOWN`] characters, with an ellipsis when cut.
fn short_notes(notes: Option<&str>) -> String {
    let n = notes.unwrap_or("");
    match n.char_indices().nth(NOTES_SHOWN) {
        Some((cut, _)) => format!("{}…", n[..cut].trim_end()),
        None => n.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_notes_are_cut_on_a_character_boundary() {
        assert_eq!(short_notes(None), "");
        assert_eq!(short_notes(Some("rack 7")), "rack 7");
        let long = "ä".repeat(NOTES_SHOWN + 5);
        let cut = short_notes(Some(&long));
        assert_eq!(cut.chars().count(), NOTES_SHOWN + 1);
        assert!(cut.ends_with('…'));
    }
}
