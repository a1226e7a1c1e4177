//! `/ui/hosts`: the host list (filter, pages), a new host with its OS and BMC addresses in one
//! step, a host's page with its linked addresses, edit and delete.

use hyper::StatusCode;
use ipocket_core::{AssetType, Host, HostDetail, IpAsset};
use maud::{html, Markup};

use super::catalog::{confirmed, delete_panel, form_errors, path_id, shown_at_form};
use crate::errors::ApiError;
use crate::http::Body;
use crate::ui::form::Form;
use crate::ui::page::{Ctx, UiAnswer};
use crate::ui::pages::liveness::{dot, DotStyle};
use crate::ui::session::{percent_encode, FlashKind};
use crate::ui::widgets::{pager, paging, select_field, tag_chip, text_field, FieldErrors};

pub(crate) async fn route(
    cx: &Ctx<'_>,
    rest: &[&str],
    form: Option<&Form>,
) -> Option<(&'static str, UiAnswer)> {
    Some(match (rest, form) {
        (["hosts"], None) => ("/ui/hosts", list(cx).await),
        (["hosts", "new"], None) => ("/ui/hosts/new", new_page(cx).await),
        (["hosts", "new"], Some(f)) => ("/ui/hosts/new", create(cx, f).await),
        (["hosts", id], None) => ("/ui/hosts/{id}", detail(cx, id).await),
        (["hosts", id, "edit"], None) => ("/ui/hosts/{id}/edit", edit(cx, id).await),
        (["hosts", id, "edit"], Some(f)) => ("/ui/hosts/{id}/edit", update(cx, id, f).await),
        (["hosts", id, "delete"], Some(f)) => ("/ui/hosts/{id}/delete", delete(cx, id, f).await),
        _ => return None,
    })
}

/// Addresses typed as a list: separated by commas and/or white space.
fn address_list(s: &str) -> Vec<&str> {
    s.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|t| !t.is_empty())
        .collect()
}

/// Whether a host matches the list filter: a case-insensitive substring of its name,
/// vendor, notes or one of its addresses.
fn matches(host: &Host, addresses: &[(String, AssetType)], q: &str) -> bool {
    let q = q.to_lowercase();
    let has = |s: &str| s.to_lowercase().contains(&q);
    has(&host.name)
        || host.vendor_name.as_deref().is_some_and(has)
        || host.notes.as_deref().is_some_and(has)
        || addresses.iter().any(|(ip, _)| ip.contains(&q))
}

fn ip_link(ip: &str) -> Markup {
    html! { a.mono href={"/ui/ip-assets/" (percent_encode(ip))} { (ip) } }
}

/// The address's status dot (when liveness is on) and its link.
fn live_ip_link(cx: &Ctx<'_>, ip: &str) -> Markup {
    html! { span.nowrap { (dot(cx, ip, DotStyle::Compact)) (ip_link(ip)) } }
}

async fn list(cx: &Ctx<'_>) -> UiAnswer {
    let (page, per_page) = paging(cx.req)?;
    let q = cx.req.param("q").unwrap_or("").trim().to_string();
    let filter = q.clone();
    let rows = cx
        .state
        .read_inventory(move |inv| {
            let mut all = inv.hosts_with_addresses()?;
            if !filter.is_empty() {
                all.retain(|(h, a)| matches(h, a, &filter));
            }
            Ok(all)
        })
        .await?;
    let total = rows.len() as u64;
    let start = ((page - 1) * per_page).min(total) as usize;
    let shown = &rows[start..(start + per_page as usize).min(rows.len())];
    let writer = cx.session.can_write();
    let kind_list = |a: &[(String, AssetType)], t: AssetType| -> Vec<String> {
        a.iter()
            .filter(|(_, k)| *k == t)
            .map(|(ip, _)| ip.clone())
            .collect()
    };
    let body = html! {
        div.toolbar {
            h1 { "Hosts" }
            span.spacer {}
            @if writer { a.button href="/ui/hosts/new" { "New host" } }
        }
        form.toolbar method="get" action="/ui/hosts" role="search" {
            div {
                label for="q" { "Filter" }
                input #q type="search" name="q" value=(q) placeholder="name, vendor, notes or IP";
            }
            input type="hidden" name="per_page" value=(per_page);
            button.secondary type="submit" { "Filter" }
            @if !q.is_empty() { a href="/ui/hosts" { "Clear" } }
        }
        @if rows.is_empty() {
            p.muted {
                @if q.is_empty() { "No hosts yet." } @else { "No host matches “" (q) "”." }
            }
        } @else {
            div.table-wrap { table.responsive {
                thead { tr {
                    th scope="col" { "Name" }
                    th scope="col" { "Vendor" }
                    th scope="col" { "OS IPs" }
                    th scope="col" { "BMC IPs" }
                    th.num scope="col" { "Other" }
                    th scope="col" { "Notes" }
                } }
                tbody {
                    @for (h, a) in shown {
                        @let other = a.iter().filter(|(_, t)| !matches!(t, AssetType::Os | AssetType::Bmc)).count();
                        tr {
                            td data-label="Name" { a href={"/ui/hosts/" (h.id)} { (h.name) } }
                            td data-label="Vendor" { (h.vendor_name.as_deref().unwrap_or("—")) }
                            td data-label="OS IPs" { @for ip in kind_list(a, AssetType::Os) { (live_ip_link(cx, &ip)) " " } }
                            td data-label="BMC IPs" { @for ip in kind_list(a, AssetType::Bmc) { (live_ip_link(cx, &ip)) " " } }
                            td.num data-label="Other" { (other) }
                            td data-label="Notes" { (h.notes.as_deref().unwrap_or("")) }
                        }
                    }
                }
            } }
            (pager(cx.req, "/ui/hosts", total, page, per_page))
        }
    };
    Ok(cx.page("Hosts", body))
}

/// What the host form held.
#[derive(Default)]
struct Values {
    name: String,
    vendor_id: String,
    notes: String,
    project_id: String,
    os_ips: String,
    bmc_ips: String,
}

impl Values {
    fn from_form(f: &Form) -> Values {
        let get = |k: &str| f.get(k).unwrap_or("").to_string();
        Values {
            name: get("name"),
            vendor_id: get("vendor_id"),
            notes: get("notes"),
            project_id: get("project_id"),
            os_ips: get("os_ips"),
            bmc_ips: get("bmc_ips"),
        }
    }
}

/// An optional id from a `<select>` (`""` is none).
fn optional_id(field: &str, s: &str) -> Result<Option<i64>, ApiError> {
    if s.trim().is_empty() {
        return Ok(None);
    }
    s.trim()
        .parse()
        .map(Some)
        .map_err(|_| ApiError::bad_request(format!("{field}: expected an id, found {s:?}")))
}

/// (vendor options, project options) for the selects, each with "none" first.
async fn choices(cx: &Ctx<'_>) -> Result<(Vec<(String, String)>, Vec<(String, String)>), ApiError> {
    cx.state
        .read_inventory(|inv| {
            let mut vendors = vec![(String::new(), "— none —".to_string())];
            vendors.extend(
                inv.vendors()?
                    .into_iter()
                    .map(|v| (v.id.to_string(), v.name)),
            );
            let mut projects = vec![(String::new(), "— unassigned —".to_string())];
            projects.extend(
                inv.projects()?
                    .into_iter()
                    .map(|p| (p.id.to_string(), p.name)),
            );
            Ok((vendors, projects))
        })
        .await
}

fn notes_field(value: &str, errors: &FieldErrors) -> Markup {
    html! {
        div.field {
            label for="f-notes" { "Notes" }
            textarea #f-notes name="notes" { (value) }
            @if let Some(m) = errors.of("notes") { span.field-error { (m) } }
        }
    }
}

const FORM_FIELDS: [&str; 6] = [
    "name",
    "vendor_id",
    "notes",
    "project_id",
    "os_ips",
    "bmc_ips",
];

async fn new_page(cx: &Ctx<'_>) -> UiAnswer {
    cx.require_write()?;
    new_form(
        cx,
        &Values::default(),
        &FieldErrors::default(),
        StatusCode::OK,
    )
    .await
}

async fn new_form(cx: &Ctx<'_>, v: &Values, errors: &FieldErrors, status: StatusCode) -> UiAnswer {
    let (vendors, projects) = choices(cx).await?;
    let body = html! {
        p { a href="/ui/hosts" { "‹ Hosts" } }
        h1 { "New host" }
        (errors.general(&FORM_FIELDS))
        form.panel method="post" action="/ui/hosts/new" {
            (cx.csrf_field())
            div.grid-2 {
                div {
                    (text_field("name", "Name", &v.name, errors, true))
                    (select_field("vendor_id", "Vendor", &vendors, &v.vendor_id, errors))
                    (notes_field(&v.notes, errors))
                }
                div {
                    (text_field("os_ips", "OS IPs", &v.os_ips, errors, false))
                    (text_field("bmc_ips", "BMC IPs", &v.bmc_ips, errors, false))
                    p.muted.hint { "Separate addresses with commas or spaces. They are created as OS / BMC IP assets linked to this host, all or none." }
                    (select_field("project_id", "Project of these IPs", &projects, &v.project_id, errors))
                }
            }
            div.actions {
                button type="submit" { "Create host" }
                a.button.secondary href="/ui/hosts" { "Cancel" }
            }
        }
    };
    Ok(cx.page_with(status, "New host", "", body))
}

fn errors_of(e: &ApiError) -> FieldErrors {
    form_errors(
        e,
        &[("host name", "name")],
        ("name", "Host name already exists."),
    )
}

async fn create(cx: &Ctx<'_>, f: &Form) -> UiAnswer {
    cx.require_write()?;
    let v = Values::from_form(f);
    let vendor_id = optional_id("vendor_id", &v.vendor_id)?;
    let project_id = optional_id("project_id", &v.project_id)?;
    let actor = cx.session.actor();
    let (name, notes) = (v.name.clone(), v.notes.clone());
    let (os, bmc) = (v.os_ips.clone(), v.bmc_ips.clone());
    let created = cx
        .state
        .with_inventory(move |inv| {
            inv.create_host_with_addresses(
                &actor,
                &name,
                Some(&notes),
                vendor_id,
                project_id,
                &address_list(&os),
                &address_list(&bmc),
            )
        })
        .await;
    match created {
        Ok((host, assets)) => {
            let message = match assets.len() {
                0 => format!("Created host {}.", host.name),
                1 => format!("Created host {} with 1 IP.", host.name),
                n => format!("Created host {} with {n} IPs.", host.name),
            };
            Ok(cx.redirect(
                &format!("/ui/hosts/{}", host.id),
                FlashKind::Success,
                message,
            ))
        }
        Err(e) if shown_at_form(&e) => {
            new_form(cx, &v, &errors_of(&e), StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => Err(e),
    }
}

fn asset_table(cx: &Ctx<'_>, caption: &str, assets: &[IpAsset]) -> Markup {
    html! {
        section.host-ips {
            h2 { (caption) " " span.muted { "(" (assets.len()) ")" } }
            @if assets.is_empty() {
                p.muted { "None." }
            } @else {
                div.table-wrap { table.responsive {
                    thead { tr {
                        th scope="col" { "IP address" }
                        th scope="col" { "Type" }
                        th scope="col" { "Project" }
                        th scope="col" { "Tags" }
                        th scope="col" { "Notes" }
                    } }
                    tbody {
                        @for a in assets {
                            tr {
                                td data-label="IP address" { (live_ip_link(cx, &a.ip_address)) }
                                td data-label="Type" { span.badge { (a.asset_type) } }
                                td data-label="Project" {
                                    @match (a.project_id, &a.project_name) {
                                        (Some(id), Some(name)) => span class={"chip project-" (id)} { (name) },
                                        _ => span.muted { "Unassigned" },
                                    }
                                }
                                td data-label="Tags" { @for t in &a.tags { (tag_chip(t)) } }
                                td data-label="Notes" { (a.notes.as_deref().unwrap_or("")) }
                            }
                        }
                    }
                } }
            }
        }
    }
}

/// Chip colours of the projects and tags shown on a host's page.
async fn chip_css(cx: &Ctx<'_>) -> Result<String, ApiError> {
    let (projects, tags) = cx
        .state
        .read_inventory(|inv| Ok((inv.projects()?, inv.tags()?)))
        .await?;
    let ids: Vec<(String, String)> = projects
        .into_iter()
        .map(|p| (p.id.to_string(), p.color))
        .collect();
    let mut css = crate::ui::widgets::colour_css(
        "project-",
        ids.iter().map(|(k, c)| (k.as_str(), c.as_str())),
    );
    css.push_str(&crate::ui::widgets::colour_css(
        "tag-",
        tags.iter().map(|t| (t.name.as_str(), t.color.as_str())),
    ));
    Ok(css)
}

async fn load_detail(cx: &Ctx<'_>, id: &str) -> Result<HostDetail, ApiError> {
    let id = path_id(id)?;
    cx.state
        .read_inventory(move |inv| inv.host_detail(id))
        .await
}

async fn detail(cx: &Ctx<'_>, id: &str) -> UiAnswer {
    let d = load_detail(cx, id).await?;
    let h = &d.host;
    let linked = d.os.len() + d.bmc.len() + d.other.len();
    let body = html! {
        p { a href="/ui/hosts" { "‹ Hosts" } }
        div.toolbar {
            h1 { "Host " (h.name) }
            span.spacer {}
            @if cx.session.can_write() { a.button href={"/ui/hosts/" (h.id) "/edit"} { "Edit" } }
        }
        section.panel {
            dl.props {
                dt { "Name" } dd { (h.name) }
                dt { "Vendor" } dd { (h.vendor_name.as_deref().unwrap_or("—")) }
                dt { "Notes" } dd { (h.notes.as_deref().unwrap_or("—")) }
                dt { "Linked IPs" } dd { (linked) }
            }
        }
        (asset_table(cx, "OS IPs", &d.os))
        (asset_table(cx, "BMC IPs", &d.bmc))
        (asset_table(cx, "Other IPs", &d.other))
        @if cx.session.can_write() {
            (delete_panel(cx, &format!("/ui/hosts/{}/delete", h.id), &format!("host {}", h.name),
                &format!("Its {linked} linked IP assets stay, without a host.")))
        }
    };
    Ok(cx.page_with(
        StatusCode::OK,
        &format!("Host {}", h.name),
        &chip_css(cx).await?,
        body,
    ))
}

async fn edit(cx: &Ctx<'_>, id: &str) -> UiAnswer {
    cx.require_write()?;
    let h = load_detail(cx, id).await?.host;
    let v = Values {
        name: h.name.clone(),
        vendor_id: h.vendor_id.map(|v| v.to_string()).unwrap_or_default(),
        notes: h.notes.clone().unwrap_or_default(),
        ..Default::default()
    };
    edit_form(cx, &h, &v, &FieldErrors::default(), StatusCode::OK).await
}

async fn edit_form(
    cx: &Ctx<'_>,
    h: &Host,
    v: &Values,
    errors: &FieldErrors,
    status: StatusCode,
) -> Result<hyper::Response<Body>, ApiError> {
    let (vendors, _) = choices(cx).await?;
    let title = format!("Edit host {}", h.name);
    let body = html! {
        p { a href={"/ui/hosts/" (h.id)} { "‹ Host " (h.name) } }
        h1 { (title) }
        (errors.general(&["name", "vendor_id", "notes"]))
        form.panel method="post" action={"/ui/hosts/" (h.id) "/edit"} {
            (cx.csrf_field())
            (text_field("name", "Name", &v.name, errors, true))
            (select_field("vendor_id", "Vendor", &vendors, &v.vendor_id, errors))
            (notes_field(&v.notes, errors))
            p.muted.hint { "Link or unlink IPs on the IP asset pages." }
            div.actions {
                button type="submit" { "Save" }
                a.button.secondary href={"/ui/hosts/" (h.id)} { "Cancel" }
            }
        }
    };
    Ok(cx.page_with(status, &title, "", body))
}

async fn update(cx: &Ctx<'_>, id: &str, f: &Form) -> UiAnswer {
    cx.require_write()?;
    let host = load_detail(cx, id).await?.host;
    let v = Values::from_form(f);
    let vendor_id = optional_id("vendor_id", &v.vendor_id)?;
    let actor = cx.session.actor();
    let (hid, name, notes) = (host.id, v.name.clone(), v.notes.clone());
    let saved = cx
        .state
        .with_inventory(move |inv| {
            inv.update_host(
                &actor,
                hid,
                Some(&name),
                Some(Some(&notes)),
                Some(vendor_id),
            )
        })
        .await;
    match saved {
        Ok(h) => Ok(cx.redirect(
            &format!("/ui/hosts/{}", h.id),
            FlashKind::Success,
            format!("Saved host {}.", h.name),
        )),
        Err(e) if shown_at_form(&e) => {
            edit_form(
                cx,
                &host,
                &v,
                &errors_of(&e),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

async fn delete(cx: &Ctx<'_>, id: &str, f: &Form) -> UiAnswer {
    cx.require_write()?;
    confirmed(f)?;
    let host = load_detail(cx, id).await?.host;
    let actor = cx.session.actor();
    let hid = host.id;
    cx.state
        .with_inventory(move |inv| inv.delete_host(&actor, hid))
        .await?;
    Ok(cx.redirect(
        "/ui/hosts",
        FlashKind::Success,
        format!("Deleted host {}.", host.name),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_lists_split_on_commas_and_spaces() {
        assert_eq!(
            address_list(" 10.0.0.1,10.0.0.2  10.0.0.3,\n, 2001:db8::1 "),
            ["10.0.0.1", "10.0.0.2", "10.0.0.3", "2001:db8::1"]
        );
        assert!(address_list(" , ").is_empty());
    }

    #[test]
    fn the_filter_reads_name_vendor_notes_and_addresses() {
        let h = Host {
            id: 1,
            name: "Node-01".into(),
            notes: Some("rack 4".into()),
            vendor_id: Some(1),
            vendor_name: Some("HPE".into()),
        };
        let a = vec![("10.1.2.3".to_string(), AssetType::Os)];
        for q in ["node", "hpe", "RACK", "1.2.3"] {
            assert!(matches(&h, &a, q), "{q}");
        }
        assert!(!matches(&h, &a, "dell"));
    }
}
