//! `GET/POST /ui/ip-assets/new` and `/ui/ip-assets/{ip}/edit`: one form for both. Library
//! errors land at their field; a valid submit redirects to the asset's page.

use hyper::StatusCode;
use ipocket_core::{AssetType, IpAsset, IpAssetPatch, NewIpAsset};
use maud::html;

use super::list::tag_select;
use super::{asset_href, host_by_name, unknown_tags, Choices};
use crate::errors::ApiError;
use crate::ui::form::Form;
use crate::ui::page::{Ctx, UiAnswer};
use crate::ui::session::FlashKind;
use crate::ui::widgets::{select_field, text_field, FieldErrors};

/// The form's values as typed (kept when the form comes back with errors).
#[derive(Clone, Default)]
struct Fields {
    ip_address: String,
    asset_type: String,
    project: String,
    host: String,
    tags: Vec<String>,
    notes: String,
}

const FIELD_NAMES: [&str; 6] = ["ip_address", "type", "project", "host", "tags", "notes"];

impl Fields {
    fn of(a: &IpAsset) -> Self {
        Fields {
            ip_address: a.ip_address.clone(),
            asset_type: a.asset_type.as_str().into(),
            project: a.project_id.map(|p| p.to_string()).unwrap_or_default(),
            host: a.host_name.clone().unwrap_or_default(),
            tags: a.tags.clone(),
            notes: a.notes.clone().unwrap_or_default(),
        }
    }

    fn read(f: &Form) -> Self {
        Fields {
            ip_address: f.get("ip_address").unwrap_or("").trim().into(),
            asset_type: f.get("type").unwrap_or("").into(),
            project: f.get("project").unwrap_or("").into(),
            host: f.get("host").unwrap_or("").trim().into(),
            tags: f.all("tags").into_iter().map(str::to_string).collect(),
            notes: f.get("notes").unwrap_or("").trim().into(),
        }
    }

    /// Type and project, checked before the library sees them.
    fn parsed(&self, errors: &mut FieldErrors) -> (Option<AssetType>, Option<i64>) {
        let t = match self.asset_type.parse::<AssetType>() {
            Ok(t) => Some(t),
            Err(_) => {
                errors.add("type", "Choose a type.");
                None
            }
        };
        let p = match self.project.as_str() {
            "" => None,
            id => match id.parse() {
                Ok(id) => Some(id),
                Err(_) => {
                    errors.add("project", "Choose a project.");
                    None
                }
            },
        };
        (t, p)
    }
}

/// `None`: the create form; `Some(ip)`: the edit form of that asset.
fn render(
    cx: &Ctx<'_>,
    editing: Option<&str>,
    v: &Fields,
    c: &Choices,
    errors: &FieldErrors,
    status: StatusCode,
) -> hyper::Response<crate::http::Body> {
    let (title, action) = match editing {
        None => ("Add IP asset".to_string(), "/ui/ip-assets/new".to_string()),
        Some(ip) => (format!("Edit {ip}"), format!("{}/edit", asset_href(ip))),
    };
    let types: Vec<(String, String)> = AssetType::ALL
        .iter()
        .map(|t| (t.as_str().to_string(), t.as_str().to_string()))
        .collect();
    let mut projects = vec![(String::new(), "Unassigned".to_string())];
    projects.extend(
        c.projects
            .iter()
            .map(|p| (p.id.to_string(), p.name.clone())),
    );
    let host_err = errors.of("host");
    let tags_err = errors.of("tags");
    let notes_err = errors.of("notes");
    let body = html! {
        h1 { (title) }
        (errors.general(&FIELD_NAMES))
        form.panel.asset-form method="post" action=(action) {
            (cx.csrf_field())
            @if editing.is_none() {
                (text_field("ip_address", "IP address", &v.ip_address, errors, true))
            } @else {
                div.field { span.label { "IP address" } div.mono { (v.ip_address) } }
            }
            (select_field("type", "Type", &types, &v.asset_type, errors))
            (select_field("project", "Project", &projects, &v.project, errors))
            div.field.invalid[host_err.is_some()] {
                label for="f-host" { "Host (blank: none)" }
                input #f-host type="text" name="host" value=(v.host) list="host-names" autocomplete="off"
                    aria-invalid=[host_err.map(|_| "true")];
                (c.host_datalist())
                @if let Some(m) = host_err { span.field-error { (m) } }
            }
            div.invalid[tags_err.is_some()] {
                (tag_select("tags", "Tags", &c.tags, &v.tags))
                @if let Some(m) = tags_err { span.field-error { (m) } }
                @if c.tags.is_empty() { p.muted { "No tags yet: " a href="/ui/tags" { "create tags" } " first." } }
            }
            div.field.invalid[notes_err.is_some()] {
                label for="f-notes" { "Notes" }
                textarea #f-notes name="notes" rows="3" { (v.notes) }
                @if let Some(m) = notes_err { span.field-error { (m) } }
            }
            div.actions {
                button type="submit" { @if editing.is_none() { "Create" } @else { "Save" } }
                a.button.secondary href=(editing.map(asset_href).unwrap_or_else(|| "/ui/ip-assets".into())) { "Cancel" }
            }
        }
    };
    cx.page_with(status, &title, "", body)
}

async fn choices(cx: &Ctx<'_>) -> Result<Choices, ApiError> {
    cx.state
        .read_inventory(|inv| Choices::load(inv, true))
        .await
}

pub(super) async fn new_form(cx: &Ctx<'_>) -> UiAnswer {
    cx.require_write()?;
    // `?ip_address=` comes from "Add" in a range's drill-down and "document it" on its map.
    let v = Fields {
        asset_type: "VM".into(),
        ip_address: cx.req.param("ip_address").unwrap_or("").trim().to_string(),
        ..Fields::default()
    };
    Ok(render(
        cx,
        None,
        &v,
        &choices(cx).await?,
        &FieldErrors::default(),
        StatusCode::OK,
    ))
}

pub(super) async fn edit_form(cx: &Ctx<'_>, ip: &str) -> UiAnswer {
    cx.require_write()?;
    let ip = ip.to_string();
    let (asset, c) = cx
        .state
        .read_inventory(move |inv| Ok((inv.ip_asset(&ip)?, Choices::load(inv, true)?)))
        .await?;
    let v = Fields::of(&asset);
    Ok(render(
        cx,
        Some(&asset.ip_address),
        &v,
        &c,
        &FieldErrors::default(),
        StatusCode::OK,
    ))
}

/// The kind of record a 404 of the library is about.
fn entity_of(e: &ApiError) -> Option<&str> {
    e.details.get("entity").and_then(|v| v.as_str())
}

/// The library's refusal placed at the form's fields; other errors stay errors.
fn field_errors(e: ApiError) -> Result<FieldErrors, ApiError> {
    if e.is_invalid() {
        return Ok(FieldErrors::from_api(&e));
    }
    let mut errors = FieldErrors::default();
    if e.status == StatusCode::CONFLICT {
        errors.add("ip_address", "IP address already exists.");
    } else if entity_of(&e) == Some("project") {
        errors.add("project", "Project not found.");
    } else {
        return Err(e);
    }
    Ok(errors)
}

/// The form again with its errors (422).
async fn again(cx: &Ctx<'_>, editing: Option<&str>, v: &Fields, errors: &FieldErrors) -> UiAnswer {
    let c = choices(cx).await?;
    Ok(render(
        cx,
        editing,
        v,
        &c,
        errors,
        StatusCode::UNPROCESSABLE_ENTITY,
    ))
}

pub(super) async fn create(cx: &Ctx<'_>, f: &Form) -> UiAnswer {
    cx.require_write()?;
    let v = Fields::read(f);
    let mut errors = FieldErrors::default();
    let (t, project_id) = v.parsed(&mut errors);
    let Some(t) = t.filter(|_| errors.is_empty()) else {
        return again(cx, None, &v, &errors).await;
    };
    let (actor, w) = (cx.session.actor(), v.clone());
    let auto_host = cx.state.config.auto_host_for_bmc;
    let created = cx
        .state
        .with_inventory(move |inv| {
            unknown_tags(inv, &w.tags)?;
            let mut new = NewIpAsset::new(&w.ip_address, t);
            new.project_id = project_id;
            new.host_id = host_by_name(inv, Some(w.host.as_str()).filter(|h| !h.is_empty()))?;
            new.notes = Some(w.notes).filter(|n| !n.is_empty());
            new.tags = w.tags;
            new.auto_host_for_bmc = auto_host;
            inv.create_ip_asset(&actor, &new)
        })
        .await;
    match created {
        Ok(a) => Ok(cx.redirect(
            &asset_href(&a.ip_address),
            FlashKind::Success,
            format!("IP asset {} created.", a.ip_address),
        )),
        Err(e) => again(cx, None, &v, &field_errors(e)?).await,
    }
}

pub(super) async fn update(cx: &Ctx<'_>, ip: &str, f: &Form) -> UiAnswer {
    cx.require_write()?;
    let mut v = Fields::read(f);
    v.ip_address = ip.to_string();
    let mut errors = FieldErrors::default();
    let (t, project_id) = v.parsed(&mut errors);
    let Some(t) = t.filter(|_| errors.is_empty()) else {
        return again(cx, Some(ip), &v, &errors).await;
    };
    let (actor, w) = (cx.session.actor(), v.clone());
    let saved = cx
        .state
        .with_inventory(move |inv| {
            unknown_tags(inv, &w.tags)?;
            let host = Some(w.host.as_str()).filter(|h| !h.is_empty());
            let patch = IpAssetPatch {
                asset_type: Some(t),
                project_id: Some(project_id),
                host_id: Some(host_by_name(inv, host)?),
                notes: Some(Some(w.notes).filter(|n| !n.is_empty())),
                tags: Some(w.tags),
            };
            inv.update_ip_asset(&actor, &w.ip_address, &patch)
        })
        .await;
    match saved {
        Ok(a) => Ok(cx.redirect(
            &asset_href(&a.ip_address),
            FlashKind::Success,
            format!("IP asset {} saved.", a.ip_address),
        )),
        // The asset itself is gone (or the path is no address): the error page.
        Err(e)
            if entity_of(&e) == Some("ip asset")
                || e.details.get("field").and_then(|f| f.as_str()) == Some("ip_address") =>
        {
            Err(e)
        }
        Err(e) => again(cx, Some(ip), &v, &field_errors(e)?).await,
    }
}
