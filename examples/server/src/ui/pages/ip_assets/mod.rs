//! `/ui/ip-assets`: the list (filters, sorting, paging, bulk edit), create, the detail page
//! with the asset's history, edit, archive / restore and the guarded permanent delete.
//! The address is the key in every path, as in the API.

mod bulk;
mod delete;
mod detail;
mod edit;
mod list;

use ipocket_core::{Host, Inventory, IpAsset, Project, Tag};
use maud::{html, Markup};

use crate::ui::form::Form;
use crate::ui::page::{Ctx, UiAnswer};
use crate::ui::session::percent_encode;
use crate::ui::widgets::colour_css;

pub(crate) async fn route(
    cx: &Ctx<'_>,
    rest: &[&str],
    form: Option<&Form>,
) -> Option<(&'static str, UiAnswer)> {
    let found = match (rest, form) {
        (["ip-assets"], None) => ("/ui/ip-assets", list::page(cx).await),
        (["ip-assets", "bulk-edit"], Some(f)) => {
            ("/ui/ip-assets/bulk-edit", bulk::submit(cx, f).await)
        }
        (["ip-assets", "new"], None) => ("/ui/ip-assets/new", edit::new_form(cx).await),
        (["ip-assets", "new"], Some(f)) => ("/ui/ip-assets/new", edit::create(cx, f).await),
        (["ip-assets", ip], None) => ("/ui/ip-assets/{ip}", detail::page(cx, ip).await),
        (["ip-assets", ip, "edit"], None) => {
            ("/ui/ip-assets/{ip}/edit", edit::edit_form(cx, ip).await)
        }
        (["ip-assets", ip, "edit"], Some(f)) => {
            ("/ui/ip-assets/{ip}/edit", edit::update(cx, ip, f).await)
        }
        (["ip-assets", ip, "archive"], Some(_)) => (
            "/ui/ip-assets/{ip}/archive",
            detail::set_archived(cx, ip, true).await,
        ),
        (["ip-assets", ip, "restore"], Some(_)) => (
            "/ui/ip-assets/{ip}/restore",
            detail::set_archived(cx, ip, false).await,
        ),
        (["ip-assets", ip, "delete"], None) => {
            ("/ui/ip-assets/{ip}/delete", delete::page(cx, ip).await)
        }
        (["ip-assets", ip, "delete"], Some(f)) => {
            ("/ui/ip-assets/{ip}/delete", delete::submit(cx, ip, f).await)
        }
        _ => return None,
    };
    Some(found)
}

/// The page of one asset (IPv6 colons percent-encoded).
pub(crate) fn asset_href(ip: &str) -> String {
    format!("/ui/ip-assets/{}", percent_encode(ip))
}

/// Tags whose assets need the typed confirmation before a delete (as the original).
const RISKY_TAGS: [&str; 4] = ["prod", "production", "critical", "flagged"];

/// Why deleting the asset needs its address typed (empty: it does not): it is in use or
/// marked important (the original's rule).
fn risk_reasons(a: &IpAsset) -> Vec<String> {
    let mut why = Vec::new();
    if let Some(p) = &a.project_name {
        why.push(format!("it belongs to project {p}"));
    }
    if let Some(h) = &a.host_name {
        why.push(format!("it is linked to host {h}"));
    }
    if a.asset_type == ipocket_core::AssetType::Vip {
        why.push("it is a VIP".to_string());
    }
    for t in a.tags.iter().filter(|t| RISKY_TAGS.contains(&t.as_str())) {
        why.push(format!("it is tagged {t}"));
    }
    why
}

/// What the pickers offer, loaded once per page.
struct Choices {
    projects: Vec<Project>,
    hosts: Vec<Host>,
    tags: Vec<Tag>,
}

impl Choices {
    /// `with_hosts`: pages that only show chips need no hosts.
    fn load(inv: &Inventory, with_hosts: bool) -> ipocket_core::Result<Self> {
        Ok(Choices {
            projects: inv.projects()?,
            hosts: if with_hosts { inv.hosts()? } else { Vec::new() },
            tags: inv.tags()?,
        })
    }

    /// The colour classes of the project and tag chips.
    fn colours(&self) -> String {
        let ids: Vec<(String, &str)> = self
            .projects
            .iter()
            .map(|p| (p.id.to_string(), p.color.as_str()))
            .collect();
        let mut css = colour_css("project-", ids.iter().map(|(k, c)| (k.as_str(), *c)));
        css.push_str(&colour_css(
            "tag-",
            self.tags
                .iter()
                .map(|t| (t.name.as_str(), t.color.as_str())),
        ));
        css
    }

    /// The host names for a text input's suggestions (`list="host-names"`).
    fn host_datalist(&self) -> Markup {
        html! {
            datalist #host-names {
                @for h in &self.hosts { option value=(h.name) {} }
            }
        }
    }
}

/// A project chip in the project's colour.
fn project_chip(id: Option<i64>, name: Option<&str>) -> Markup {
    html! {
        @match (id, name) {
            (Some(id), Some(n)) => span class={"chip project-" (id)} { (n) },
            _ => span.muted { "Unassigned" },
        }
    }
}

/// Tag names of a form that are not existing tags: the UI's pickers offer existing tags
/// only (the API and imports create missing ones).
fn unknown_tags(inv: &Inventory, names: &[String]) -> ipocket_core::Result<()> {
    let known = inv.tags()?;
    let missing: Vec<&str> = names
        .iter()
        .map(String::as_str)
        .filter(|n| !known.iter().any(|t| t.name == *n))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(ipocket_core::Error::Invalid {
            field: "tags".into(),
            message: format!("Selected tags do not exist: {}.", missing.join(", ")),
        })
    }
}

/// The host id of a host name typed in a form (blank: none).
fn host_by_name(inv: &Inventory, name: Option<&str>) -> ipocket_core::Result<Option<i64>> {
    let Some(name) = name else { return Ok(None) };
    inv.hosts()?
        .into_iter()
        .find(|h| h.name == name)
        .map(|h| Some(h.id))
        .ok_or_else(|| ipocket_core::Error::Invalid {
            field: "host".into(),
            message: format!("Host {name:?} does not exist."),
        })
}
