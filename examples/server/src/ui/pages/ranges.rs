//! `/ui/ranges`: ranges with their two utilizations (documented, and alive, loaded by a script),
//! create / edit / delete, the per-address drill-down by pages (all, used or free), "allocate
//! next free" (passing over live undocumented addresses), and the map (`range_map`).

use hyper::StatusCode;
use ipocket_core::{
    AddressStatus, AssetFilter, AssetType, IpAsset, NewIpAsset, Page, RangeUtilization,
};
use maud::{html, Markup};

use super::catalog::{confirmed, delete_panel, form_errors, path_id, shown_at_form};
use super::liveness::{dot, DotStyle};
use super::management::utilization_bar;
use super::range_map;
use crate::errors::ApiError;
use crate::handlers::range_map::avoid;
use crate::http::Body;
use crate::ui::form::Form;
use crate::ui::page::{Ctx, UiAnswer};
use crate::ui::session::{percent_encode, FlashKind};
use crate::ui::widgets::{pager, paging, query_with, select_field, text_field, FieldErrors};

pub(crate) async fn route(
    cx: &Ctx<'_>,
    rest: &[&str],
    form: Option<&Form>,
) -> Option<(&'static str, UiAnswer)> {
    Some(match (rest, form) {
        (["ranges"], None) => (
            "/ui/ranges",
            list(
                cx,
                &Values::default(),
                &FieldErrors::default(),
                StatusCode::OK,
            )
            .await,
        ),
        (["ranges"], Some(f)) => ("/ui/ranges", create(cx, f).await),
        (["ranges", id, "edit"], None) => ("/ui/ranges/{id}/edit", edit(cx, id).await),
        (["ranges", id, "edit"], Some(f)) => ("/ui/ranges/{id}/edit", update(cx, id, f).await),
        (["ranges", id, "delete"], Some(f)) => ("/ui/ranges/{id}/delete", delete(cx, id, f).await),
        (["ranges", id, "addresses"], None) => {
            ("/ui/ranges/{id}/addresses", addresses(cx, id).await)
        }
        (["ranges", id, "allocate"], Some(f)) => {
            ("/ui/ranges/{id}/allocate", allocate(cx, id, f).await)
        }
        (["ranges", "alive.json"], None) => {
            ("/ui/ranges/alive.json", range_map::alive_json(cx).await)
        }
        (["ranges", id, "map"], None) => ("/ui/ranges/{id}/map", range_map::page(cx, id).await),
        _ => return None,
    })
}

/// What the range form held.
#[derive(Default)]
struct Values {
    name: String,
    cidr: String,
    notes: String,
}

impl Values {
    fn from_form(f: &Form) -> Values {
        let get = |k: &str| f.get(k).unwrap_or("").to_string();
        Values {
            name: get("name"),
            cidr: get("cidr"),
            notes: get("notes"),
        }
    }
}

fn errors_of(e: &ApiError) -> FieldErrors {
    form_errors(
        e,
        &[("range name", "name"), ("cidr", "cidr")],
        ("cidr", "Range CIDR already exists."),
    )
}

/// Counts can exceed `u64` only for huge IPv6 prefixes; pages stop there anyway.
fn clamp(n: u128) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

async fn list(cx: &Ctx<'_>, v: &Values, errors: &FieldErrors, status: StatusCode) -> UiAnswer {
    let ranges = cx
        .state
        .read_inventory(|inv| inv.all_range_utilization())
        .await?;
    let writer = cx.session.can_write();
    let body = html! {
        h1 { "Ranges" }
        (errors.general(&["name", "cidr", "notes"]))
        @if ranges.is_empty() {
            p.muted { "No ranges yet." }
        } @else {
            div.table-wrap { table.responsive {
                thead { tr {
                    th scope="col" { "Name" }
                    th scope="col" { "CIDR" }
                    th.num scope="col" { "Usable" }
                    th.num scope="col" { "Used" }
                    th.num scope="col" { "Free" }
                    th scope="col" { "Documented" }
                    th scope="col" { "Alive" }
                    th scope="col" { "Map" }
                    th scope="col" { "Notes" }
                    @if writer { th scope="col" { span.visually-hidden { "Actions" } } }
                } }
                tbody {
                    @for u in &ranges {
                        tr {
                            td data-label="Name" { a href={"/ui/ranges/" (u.range.id) "/addresses"} { (u.range.name) } }
                            td.mono data-label="CIDR" { (u.range.cidr) }
                            td.num data-label="Usable" { (u.usable) }
                            td.num data-label="Used" { (u.used) }
                            td.num data-label="Free" { (u.free) }
                            td data-label="Documented" { (utilization_bar(u.percent)) }
                            td data-label="Alive" { (range_map::alive_cell(cx, u.range.id)) }
                            td data-label="Map" { a href={"/ui/ranges/" (u.range.id) "/map"} aria-label={"Map of " (u.range.name)} { "Map" } }
                            td data-label="Notes" { (u.range.notes.as_deref().unwrap_or("")) }
                            @if writer {
                                td data-label="" { a href={"/ui/ranges/" (u.range.id) "/edit"} aria-label={"Edit " (u.range.name)} { "Edit" } }
                            }
                        }
                    }
                }
            } }
        }
        @if writer {
            section.panel aria-labelledby="new-h" {
                h2 #new-h { "New range" }
                form method="post" action="/ui/ranges" {
                    (cx.csrf_field())
                    div.form-row {
                        (text_field("name", "Name", &v.name, errors, true))
                        (text_field("cidr", "CIDR", &v.cidr, errors, true))
                        (text_field("notes", "Notes", &v.notes, errors, false))
                    }
                    p.muted.hint { "The CIDR is normalised: 192.168.10.17/24 is stored as 192.168.10.0/24." }
                    button type="submit" { "Create range" }
                }
            }
        }
    };
    Ok(cx.page_with(status, "Ranges", "", body))
}

async fn create(cx: &Ctx<'_>, f: &Form) -> UiAnswer {
    cx.require_write()?;
    let v = Values::from_form(f);
    let actor = cx.session.actor();
    let (name, cidr, notes) = (v.name.clone(), v.cidr.clone(), v.notes.clone());
    let created = cx
        .state
        .with_inventory(move |inv| inv.create_ip_range(&actor, &name, &cidr, Some(&notes)))
        .await;
    match created {
        Ok(r) => Ok(cx.redirect(
            "/ui/ranges",
            FlashKind::Success,
            format!("Created range {} ({}).", r.name, r.cidr),
        )),
        Err(e) if shown_at_form(&e) => {
            list(cx, &v, &errors_of(&e), StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => Err(e),
    }
}

async fn utilization(cx: &Ctx<'_>, id: &str) -> Result<RangeUtilization, ApiError> {
    let id = path_id(id)?;
    cx.state
        .read_inventory(move |inv| inv.range_utilization(id))
        .await
}

async fn edit(cx: &Ctx<'_>, id: &str) -> UiAnswer {
    cx.require_write()?;
    let u = utilization(cx, id).await?;
    let v = Values {
        name: u.range.name.clone(),
        cidr: u.range.cidr.clone(),
        notes: u.range.notes.clone().unwrap_or_default(),
    };
    Ok(edit_page(
        cx,
        &u,
        &v,
        &FieldErrors::default(),
        StatusCode::OK,
    ))
}

fn edit_page(
    cx: &Ctx<'_>,
    u: &RangeUtilization,
    v: &Values,
    errors: &FieldErrors,
    status: StatusCode,
) -> hyper::Response<Body> {
    let r = &u.range;
    let title = format!("Edit range {}", r.name);
    let body = html! {
        p { a href="/ui/ranges" { "‹ Ranges" } }
        h1 { (title) }
        (errors.general(&["name", "notes"]))
        form.panel method="post" action={"/ui/ranges/" (r.id) "/edit"} {
            (cx.csrf_field())
            (text_field("name", "Name", &v.name, errors, true))
            div.field {
                label for="f-cidr" { "CIDR" }
                input #f-cidr type="text" value=(r.cidr) readonly aria-describedby="cidr-hint";
                span.muted.hint #cidr-hint { "The CIDR is the range's identity: create a new range to change it." }
            }
            (text_field("notes", "Notes", &v.notes, errors, false))
            div.actions {
                button type="submit" { "Save" }
                a.button.secondary href="/ui/ranges" { "Cancel" }
            }
        }
        (delete_panel(cx, &format!("/ui/ranges/{}/delete", r.id), &format!("range {} ({})", r.name, r.cidr),
            &format!("Its {} IP assets stay.", u.used)))
    };
    cx.page_with(status, &title, "", body)
}

async fn update(cx: &Ctx<'_>, id: &str, f: &Form) -> UiAnswer {
    cx.require_write()?;
    let u = utilization(cx, id).await?;
    let v = Values::from_form(f);
    let actor = cx.session.actor();
    let (rid, name, notes) = (u.range.id, v.name.clone(), v.notes.clone());
    let saved = cx
        .state
        .with_inventory(move |inv| {
            inv.update_ip_range(&actor, rid, Some(&name), Some(Some(&notes)))
        })
        .await;
    match saved {
        Ok(r) => Ok(cx.redirect(
            "/ui/ranges",
            FlashKind::Success,
            format!("Saved range {} ({}).", r.name, r.cidr),
        )),
        Err(e) if shown_at_form(&e) => Ok(edit_page(
            cx,
            &u,
            &v,
            &errors_of(&e),
            StatusCode::UNPROCESSABLE_ENTITY,
        )),
        Err(e) => Err(e),
    }
}

async fn delete(cx: &Ctx<'_>, id: &str, f: &Form) -> UiAnswer {
    cx.require_write()?;
    confirmed(f)?;
    let u = utilization(cx, id).await?;
    let actor = cx.session.actor();
    let rid = u.range.id;
    cx.state
        .with_inventory(move |inv| inv.delete_ip_range(&actor, rid))
        .await?;
    Ok(cx.redirect(
        "/ui/ranges",
        FlashKind::Success,
        format!("Deleted range {} ({}).", u.range.name, u.range.cidr),
    ))
}

/// The drill-down's status filter.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Status {
    All,
    Used,
    Free,
}

impl Status {
    fn parse(s: Option<&str>) -> Result<Status, ApiError> {
        match s.unwrap_or("") {
            "" | "all" => Ok(Status::All),
            "used" => Ok(Status::Used),
            "free" => Ok(Status::Free),
            other => Err(ApiError::bad_request(format!(
                "status: expected all, used or free, found {other:?}"
            ))),
        }
    }
}

/// One row of the drill-down.
struct Row {
    ip: String,
    asset: Option<IpAsset>,
}

async fn addresses(cx: &Ctx<'_>, id: &str) -> UiAnswer {
    let (page, per_page) = paging(cx.req)?;
    let status = Status::parse(cx.req.param("status"))?;
    let u = utilization(cx, id).await?;
    let (rid, cidr) = (u.range.id, u.range.cidr.clone());
    let offset = u128::from((page - 1) * per_page);
    let (rows, total): (Vec<Row>, Option<u64>) = cx
        .state
        .read_inventory(move |inv| {
            Ok(match status {
                Status::All => {
                    let rows = inv
                        .range_addresses(rid, offset, per_page)?
                        .into_iter()
                        .map(|a| Row {
                            asset: a.asset.filter(|_| a.status == AddressStatus::Used),
                            ip: a.ip_address,
                        })
                        .collect();
                    (rows, None)
                }
                Status::Used => {
                    let f = AssetFilter {
                        ip: Some(cidr),
                        ..Default::default()
                    };
                    let found = inv.list_ip_assets(&f, Page::number(page, per_page))?;
                    let rows = found
                        .items
                        .into_iter()
                        .map(|a| Row {
                            ip: a.ip_address.clone(),
                            asset: Some(a),
                        })
                        .collect();
                    (rows, Some(found.total))
                }
                Status::Free => {
                    let rows = inv
                        .range_free_addresses(rid, offset, per_page)?
                        .into_iter()
                        .map(|ip| Row { ip, asset: None })
                        .collect();
                    (rows, None)
                }
            })
        })
        .await?;
    let total = total.unwrap_or(match status {
        Status::Free => clamp(u.free),
        _ => clamp(u.usable),
    });
    let choices = allocation_choices(cx).await?;
    let r = &u.range;
    let path = format!("/ui/ranges/{}/addresses", r.id);
    let writer = cx.session.can_write();
    let allocated = cx.req.param("allocated").filter(|s| !s.is_empty());
    let title = format!("Range {} ({})", r.name, r.cidr);
    let body = html! {
        p { a href="/ui/ranges" { "‹ Ranges" } }
        h1 { (title) }
        p { a.button.secondary href={"/ui/ranges/" (r.id) "/map"} { "Show the map" } }
        section.panel.range-summary {
            dl.props {
                dt { "Usable" } dd { (u.usable) }
                dt { "Used" } dd { (u.used) }
                dt { "Free" } dd { (u.free) }
                dt { "Documented" } dd { (utilization_bar(u.percent)) }
                dt { "Alive" } dd { (range_map::alive_cell(cx, r.id)) }
                @if let Some(n) = &r.notes { dt { "Notes" } dd { (n) } }
            }
        }
        @if writer {
            (allocate_form(cx, r.id, &choices, allocated))
        }
        nav.toolbar aria-label="Status filter" {
            span.muted { "Show:" }
            @for (s, key, label) in [(Status::All, "all", "All"), (Status::Used, "used", "Used"), (Status::Free, "free", "Free")] {
                @let href = format!("{path}{}", query_with(cx.req, &[("status", Some(key)), ("page", None), ("allocated", None)]));
                @if s == status { span.current-filter aria-current="true" { (label) } }
                @else { a href=(href) { (label) } }
            }
        }
        @if rows.is_empty() {
            p.muted { "No addresses on this page." }
        } @else {
            div.table-wrap { table.responsive.range-addresses {
                thead { tr {
                    th scope="col" { "Address" }
                    th scope="col" { "Status" }
                    th scope="col" { "Type" }
                    th scope="col" { "Project" }
                    th scope="col" { "Host" }
                    th scope="col" { "Notes" }
                } }
                tbody {
                    @for row in &rows { (address_row(cx, row, writer)) }
                }
            } }
        }
        (pager(cx.req, &path, total, page, per_page))
    };
    Ok(cx.page_with(StatusCode::OK, &title, "", body))
}

fn address_row(cx: &Ctx<'_>, row: &Row, writer: bool) -> Markup {
    let ip_path = percent_encode(&row.ip);
    html! {
        tr {
            @match &row.asset {
                Some(a) => {
                    td.mono data-label="Address" { span.nowrap { (dot(cx, &row.ip, DotStyle::Compact)) a href={"/ui/ip-assets/" (ip_path)} { (row.ip) } } }
                    td data-label="Status" { span.badge.used { "used" } }
                    td data-label="Type" { (a.asset_type) }
                    td data-label="Project" { (a.project_name.as_deref().unwrap_or("Unassigned")) }
                    td data-label="Host" {
                        @if let (Some(id), Some(name)) = (a.host_id, &a.host_name) { a href={"/ui/hosts/" (id)} { (name) } }
                    }
                    td data-label="Notes" { (a.notes.as_deref().unwrap_or("")) }
                }
                None => {
                    td.mono data-label="Address" { span.nowrap { (dot(cx, &row.ip, DotStyle::Compact)) (row.ip) } }
                    td data-label="Status" { span.badge.free { "free" } }
                    td data-label="" colspan="4" {
                        @if writer { a href={"/ui/ip-assets/new?ip_address=" (ip_path)} aria-label={"Add " (row.ip)} { "Add" } }
                    }
                }
            }
        }
    }
}

/// Type and project options of the allocate form.
struct Choices {
    types: Vec<(String, String)>,
    projects: Vec<(String, String)>,
}

async fn allocation_choices(cx: &Ctx<'_>) -> Result<Choices, ApiError> {
    let projects = cx.state.read_inventory(|inv| inv.projects()).await?;
    let mut p = vec![(String::new(), "— unassigned —".to_string())];
    p.extend(projects.into_iter().map(|x| (x.id.to_string(), x.name)));
    Ok(Choices {
        types: AssetType::ALL
            .iter()
            .map(|t| (t.as_str().to_string(), t.as_str().to_string()))
            .collect(),
        projects: p,
    })
}

fn allocate_form(cx: &Ctx<'_>, range_id: i64, c: &Choices, allocated: Option<&str>) -> Markup {
    let none = FieldErrors::default();
    html! {
        section.panel aria-labelledby="alloc-h" {
            h2 #alloc-h { "Allocate the next free address" }
            form.form-row method="post" action={"/ui/ranges/" (range_id) "/allocate"} {
                (cx.csrf_field())
                (select_field("type", "Type", &c.types, "VM", &none))
                (select_field("project_id", "Project", &c.projects, "", &none))
                (text_field("notes", "Notes", "", &none, false))
                @if cx.state.liveness.is_some() {
                    div.field.checks {
                        label.inline { input #f-skip-alive type="checkbox" name="skip_alive" value="1" checked; "Skip addresses alive in Prometheus but not documented" }
                    }
                }
                div.field { button type="submit" { "Allocate next free" } }
            }
            @if let Some(ip) = allocated {
                p { "Allocated: " a.mono #allocated href={"/ui/ip-assets/" (percent_encode(ip))} { (ip) } }
            }
        }
    }
}

async fn allocate(cx: &Ctx<'_>, id: &str, f: &Form) -> UiAnswer {
    cx.require_write()?;
    let rid = path_id(id)?;
    let back = format!("/ui/ranges/{rid}/addresses");
    let asset_type: AssetType = f.get("type").unwrap_or("VM").parse()?;
    let project_id = match f.text("project_id") {
        None => None,
        Some(p) => Some(p.parse::<i64>().map_err(|_| {
            ApiError::bad_request(format!("project_id: expected an id, found {p:?}"))
        })?),
    };
    // The address is a placeholder: allocate_next picks the lowest free one.
    let template = NewIpAsset {
        project_id,
        notes: f.text("notes"),
        auto_host_for_bmc: cx.state.config.auto_host_for_bmc,
        ..NewIpAsset::new("0.0.0.0", asset_type)
    };
    // An unchecked box is absent from the form: with liveness on, absent means "no".
    let skip = cx
        .state
        .liveness
        .is_some()
        .then(|| f.get("skip_alive").is_some());
    let avoid = avoid(cx.state, skip).await?.addresses;
    let actor = cx.session.actor();
    let done = cx
        .state
        .with_inventory(move |inv| inv.allocate_next_avoiding(&actor, rid, &template, &avoid))
        .await;
    match done {
        Ok((a, skipped)) => {
            let mut msg = format!("Allocated {}.", a.ip_address);
            for s in &skipped {
                msg.push_str(&format!(" Skipped {}: {}.", s.ip_address, s.reason));
            }
            Ok(cx.redirect(
                &format!("{back}?allocated={}", percent_encode(&a.ip_address)),
                FlashKind::Success,
                msg,
            ))
        }
        Err(e) if e.status == StatusCode::CONFLICT => {
            Ok(cx.redirect(&back, FlashKind::Error, e.message))
        }
        Err(e) => Err(e),
    }
}
