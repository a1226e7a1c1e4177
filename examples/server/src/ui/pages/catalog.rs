//! `/ui/projects`, `/ui/tags`, `/ui/vendors`: each a list with a create form (writers), an
//! edit page and a delete with confirmation. Also the form helpers the hosts and ranges pages
//! share (library errors at their form field, the delete panel).

use hyper::StatusCode;
use ipocket_core::{AssetFilter, Page, ProjectFilter};
use maud::{html, Markup};

use crate::errors::ApiError;
use crate::http::Body;
use crate::ui::form::Form;
use crate::ui::page::{Ctx, UiAnswer};
use crate::ui::session::{percent_encode, FlashKind};
use crate::ui::widgets::{colour_css, tag_chip, text_field, FieldErrors};

/// The three catalogs on this page module.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Projects,
    Tags,
    Vendors,
}

impl Kind {
    fn from_segment(s: &str) -> Option<Kind> {
        match s {
            "projects" => Some(Kind::Projects),
            "tags" => Some(Kind::Tags),
            "vendors" => Some(Kind::Vendors),
            _ => None,
        }
    }

    fn segment(self) -> &'static str {
        match self {
            Kind::Projects => "projects",
            Kind::Tags => "tags",
            Kind::Vendors => "vendors",
        }
    }

    /// Route patterns: list, edit, delete.
    fn routes(self) -> [&'static str; 3] {
        match self {
            Kind::Projects => [
                "/ui/projects",
                "/ui/projects/{id}/edit",
                "/ui/projects/{id}/delete",
            ],
            Kind::Tags => ["/ui/tags", "/ui/tags/{id}/edit", "/ui/tags/{id}/delete"],
            Kind::Vendors => [
                "/ui/vendors",
                "/ui/vendors/{id}/edit",
                "/ui/vendors/{id}/delete",
            ],
        }
    }

    fn title(self) -> &'static str {
        match self {
            Kind::Projects => "Projects",
            Kind::Tags => "Tags",
            Kind::Vendors => "Vendors",
        }
    }

    /// "project", for messages.
    fn noun(self) -> &'static str {
        match self {
            Kind::Projects => "project",
            Kind::Tags => "tag",
            Kind::Vendors => "vendor",
        }
    }

    /// The original's message for a duplicate name.
    fn duplicate(self) -> &'static str {
        match self {
            Kind::Projects => "Project name already exists.",
            Kind::Tags => "Tag name already exists.",
            Kind::Vendors => "Vendor name already exists.",
        }
    }

    /// The library's field name of the name (`details.field`).
    fn library_name_field(self) -> &'static str {
        match self {
            Kind::Projects => "project name",
            Kind::Tags => "tag",
            Kind::Vendors => "vendor name",
        }
    }

    fn has_colour(self) -> bool {
        self != Kind::Vendors
    }
}

/// One record of any of the three, as the pages show it.
struct Item {
    id: i64,
    name: String,
    description: Option<String>,
    color: Option<String>,
    /// Assets (projects, tags) or hosts (vendors) that use it.
    uses: u64,
}

/// What a form held, to show it again with its errors.
#[derive(Default)]
struct Values {
    name: String,
    description: String,
    color_hex: String,
    color_pick: String,
}

impl Values {
    fn from_form(f: &Form) -> Values {
        let get = |k: &str| f.get(k).unwrap_or("").to_string();
        Values {
            name: get("name"),
            description: get("description"),
            color_hex: get("color"),
            color_pick: get("color_pick"),
        }
    }

    fn of(item: &Item) -> Values {
        Values {
            name: item.name.clone(),
            description: item.description.clone().unwrap_or_default(),
            color_hex: String::new(),
            color_pick: item.color.clone().unwrap_or_default(),
        }
    }

    /// The hex text wins when given (it is validated); else the colour picker.
    fn colour(&self) -> String {
        let hex = self.color_hex.trim();
        if hex.is_empty() {
            self.color_pick.trim().to_string()
        } else {
            hex.to_string()
        }
    }
}

pub(crate) async fn route(
    cx: &Ctx<'_>,
    rest: &[&str],
    form: Option<&Form>,
) -> Option<(&'static str, UiAnswer)> {
    let kind = Kind::from_segment(rest.first()?)?;
    let [list_route, edit_route, delete_route] = kind.routes();
    Some(match (rest, form) {
        ([_], None) => (list_route, list(cx, kind).await),
        ([_], Some(f)) => (list_route, create(cx, kind, f).await),
        ([_, id, "edit"], None) => (edit_route, edit(cx, kind, id).await),
        ([_, id, "edit"], Some(f)) => (edit_route, update(cx, kind, id, f).await),
        ([_, id, "delete"], Some(f)) => (delete_route, delete(cx, kind, id, f).await),
        _ => return None,
    })
}

/// A record id from the path; anything else is a 404.
pub(crate) fn path_id(s: &str) -> Result<i64, ApiError> {
    s.parse()
        .map_err(|_| ApiError::not_found(format!("no record with id {s:?}")))
}

/// The library's error at the form's field: `renames` maps library field names to form
/// field names; a conflict (duplicate) goes to `conflict.0` with the message `conflict.1`.
pub(crate) fn form_errors(
    e: &ApiError,
    renames: &[(&str, &str)],
    conflict: (&str, &str),
) -> FieldErrors {
    let mut out = FieldErrors::default();
    if e.status == StatusCode::CONFLICT {
        out.add(conflict.0, conflict.1);
        return out;
    }
    let found = FieldErrors::from_api(e);
    for (library, field) in renames {
        if let Some(m) = found.of(library) {
            out.add(field, m);
            return out;
        }
    }
    found
}

/// Whether the library's error belongs on the form (bad input, duplicate) rather than on an
/// error page.
pub(crate) fn shown_at_form(e: &ApiError) -> bool {
    e.is_invalid() || e.status == StatusCode::CONFLICT
}

/// The delete panel: a checkbox that must be ticked (checked on the server too).
pub(crate) fn delete_panel(cx: &Ctx<'_>, action: &str, what: &str, consequence: &str) -> Markup {
    html! {
        section.panel.danger-zone aria-labelledby="delete-h" {
            h2 #delete-h { "Delete" }
            p.muted { (consequence) }
            form method="post" action=(action) data-confirm {
                (cx.csrf_field())
                label.inline for="confirm-delete" {
                    input #confirm-delete type="checkbox" name="confirm" value="1" required data-confirm-check;
                    "Yes, delete " (what)
                }
                p { button.danger type="submit" data-confirm-submit { "Delete" } }
            }
        }
    }
}

/// `Err` (shown as a 422 page by the caller) unless the delete form's checkbox was ticked.
pub(crate) fn confirmed(f: &Form) -> Result<(), ApiError> {
    if f.checked("confirm") {
        Ok(())
    } else {
        Err(ApiError::bad_request(
            "tick the confirmation box to delete (nothing was deleted)",
        ))
    }
}

async fn load(cx: &Ctx<'_>, kind: Kind) -> Result<Vec<Item>, ApiError> {
    cx.state
        .read_inventory(move |inv| {
            let count = |f: AssetFilter| -> ipocket_core::Result<u64> {
                Ok(inv
                    .list_ip_assets(
                        &f,
                        Page {
                            offset: 0,
                            limit: 0,
                        },
                    )?
                    .total)
            };
            Ok(match kind {
                Kind::Projects => {
                    let mut v = Vec::new();
                    for p in inv.projects()? {
                        let uses = count(AssetFilter {
                            project: Some(ProjectFilter::Id(p.id)),
                            ..Default::default()
                        })?;
                        v.push(Item {
                            id: p.id,
                            name: p.name,
                            description: p.description,
                            color: Some(p.color),
                            uses,
                        });
                    }
                    v
                }
                Kind::Tags => {
                    let mut v = Vec::new();
                    for t in inv.tags()? {
                        let uses = count(AssetFilter {
                            tags_any: vec![t.name.clone()],
                            ..Default::default()
                        })?;
                        v.push(Item {
                            id: t.id,
                            name: t.name,
                            description: None,
                            color: Some(t.color),
                            uses,
                        });
                    }
                    v
                }
                Kind::Vendors => {
                    let hosts = inv.hosts()?;
                    inv.vendors()?
                        .into_iter()
                        .map(|v| Item {
                            uses: hosts.iter().filter(|h| h.vendor_id == Some(v.id)).count() as u64,
                            id: v.id,
                            name: v.name,
                            description: None,
                            color: None,
                        })
                        .collect()
                }
            })
        })
        .await
}

/// CSS for the chips of `items`.
fn chip_css(kind: Kind, items: &[Item]) -> String {
    let keys: Vec<(String, &str)> = items
        .iter()
        .filter_map(|i| {
            let key = match kind {
                Kind::Projects => i.id.to_string(),
                Kind::Tags => i.name.clone(),
                Kind::Vendors => return None,
            };
            Some((key, i.color.as_deref()?))
        })
        .collect();
    let prefix = if kind == Kind::Projects {
        "project-"
    } else {
        "tag-"
    };
    colour_css(prefix, keys.iter().map(|(k, c)| (k.as_str(), *c)))
}

fn chip(kind: Kind, item: &Item) -> Markup {
    match kind {
        Kind::Projects => html! { span class={"chip project-" (item.id)} { (item.name) } },
        Kind::Tags => tag_chip(&item.name),
        Kind::Vendors => html! { (item.name) },
    }
}

/// Where the "used by" count links to.
fn uses_link(kind: Kind, item: &Item) -> String {
    let q = percent_encode(&item.name);
    match kind {
        Kind::Projects => format!("/ui/ip-assets?project_id={}", item.id),
        Kind::Tags => format!("/ui/ip-assets?tag={q}"),
        Kind::Vendors => format!("/ui/hosts?q={q}"),
    }
}

/// A colour between 0 and 360° hue as the original suggests them (pastel HSL), from `seed`.
pub(crate) fn suggested_colour(seed: u64) -> String {
    let h = (seed % 360) as f64;
    let (s, l) = (0.55, 0.78);
    let f = |n: f64| {
        let k = (n + h / 30.0) % 12.0;
        let a = s * f64::min(l, 1.0 - l);
        let c = l - a * f64::min(k - 3.0, 9.0 - k).clamp(-1.0, 1.0);
        (c * 255.0).round() as u8
    };
    format!("#{:02x}{:02x}{:02x}", f(0.0), f(8.0), f(4.0))
}

fn time_seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos() as u64 ^ d.as_secs())
        .unwrap_or(0)
}

/// The fields of a create or edit form.
fn fields(kind: Kind, v: &Values, errors: &FieldErrors, new: bool) -> Markup {
    let pick_err = errors.of("color");
    html! {
        (text_field("name", "Name", &v.name, errors, true))
        @if kind == Kind::Projects {
            (text_field("description", "Description", &v.description, errors, false))
        }
        @if kind.has_colour() {
            div.field.colour-field.invalid[pick_err.is_some()] {
                label for="f-color_pick" { "Colour" }
                div.colour-inputs {
                    input #f-color_pick type="color" name="color_pick" value=(v.color_pick);
                    @if kind == Kind::Tags {
                        button.secondary type="button" data-suggest-color="f-color_pick" { "Suggest colour" }
                    }
                }
                label for="f-color" { "…or a hex value" }
                input #f-color type="text" name="color" value=(v.color_hex) placeholder="#1a2b3c"
                    pattern="#[0-9a-fA-F]{6}" aria-invalid=[pick_err.map(|_| "true")]
                    aria-describedby=[pick_err.map(|_| "f-color-err")];
                @if let Some(m) = pick_err { span.field-error #f-color-err { (m) } }
                @if new && kind == Kind::Tags {
                    span.muted.hint { "A suggested colour is preset; the hex value wins when given." }
                } @else {
                    span.muted.hint { "The hex value wins when given." }
                }
            }
        }
    }
}

async fn list(cx: &Ctx<'_>, kind: Kind) -> UiAnswer {
    list_page(
        cx,
        kind,
        Values::default(),
        FieldErrors::default(),
        StatusCode::OK,
    )
    .await
}

async fn list_page(
    cx: &Ctx<'_>,
    kind: Kind,
    mut values: Values,
    errors: FieldErrors,
    status: StatusCode,
) -> UiAnswer {
    let items = load(cx, kind).await?;
    if values.color_pick.is_empty() {
        values.color_pick = match kind {
            Kind::Tags => suggested_colour(time_seed()),
            _ => ipocket_core::DEFAULT_PROJECT_COLOR.to_string(),
        };
    }
    let seg = kind.segment();
    let writer = cx.session.can_write();
    let uses_label = if kind == Kind::Vendors {
        "Hosts"
    } else {
        "IP assets"
    };
    let body = html! {
        h1 { (kind.title()) }
        (errors.general(&["name", "description", "color"]))
        div.catalog-layout {
            section.catalog-list aria-label={(kind.title()) " list"} {
                @if items.is_empty() {
                    p.muted { "No " (seg) " yet." }
                } @else {
                    div.table-wrap { table.responsive {
                        thead { tr {
                            th scope="col" { "Name" }
                            @if kind == Kind::Projects { th scope="col" { "Description" } }
                            @if kind.has_colour() { th scope="col" { "Colour" } }
                            th.num scope="col" { (uses_label) }
                            @if writer { th scope="col" { span.visually-hidden { "Actions" } } }
                        } }
                        tbody {
                            @for i in &items {
                                tr {
                                    td data-label="Name" { (chip(kind, i)) }
                                    @if kind == Kind::Projects {
                                        td data-label="Description" { (i.description.as_deref().unwrap_or("")) }
                                    }
                                    @if kind.has_colour() {
                                        td.mono data-label="Colour" { (i.color.as_deref().unwrap_or("")) }
                                    }
                                    td.num data-label=(uses_label) { a href=(uses_link(kind, i)) { (i.uses) } }
                                    @if writer {
                                        td data-label="" { a href={"/ui/" (seg) "/" (i.id) "/edit"} aria-label={"Edit " (i.name)} { "Edit" } }
                                    }
                                }
                            }
                        }
                    } }
                }
            }
            @if writer {
                section.panel aria-labelledby="new-h" {
                    h2 #new-h { "New " (kind.noun()) }
                    form method="post" action={"/ui/" (seg)} {
                        (cx.csrf_field())
                        (fields(kind, &values, &errors, true))
                        button type="submit" { "Create " (kind.noun()) }
                    }
                }
            }
        }
    };
    Ok(cx.page_with(status, kind.title(), &chip_css(kind, &items), body))
}

/// The library call of a create or an update; `id` `None` creates.
async fn save(cx: &Ctx<'_>, kind: Kind, id: Option<i64>, v: &Values) -> Result<String, ApiError> {
    let actor = cx.session.actor();
    let name = v.name.clone();
    let description = v.description.clone();
    let colour = v.colour();
    cx.state
        .with_inventory(move |inv| {
            let colour = Some(colour.as_str()).filter(|c| !c.is_empty());
            Ok(match (kind, id) {
                (Kind::Projects, None) => {
                    inv.create_project(&actor, &name, Some(&description), colour)?
                        .name
                }
                (Kind::Projects, Some(id)) => {
                    inv.update_project(&actor, id, Some(&name), Some(Some(&description)), colour)?
                        .name
                }
                (Kind::Tags, None) => inv.create_tag(&actor, &name, colour)?.name,
                (Kind::Tags, Some(id)) => inv.update_tag(&actor, id, Some(&name), colour)?.name,
                (Kind::Vendors, None) => inv.create_vendor(&actor, &name)?.name,
                (Kind::Vendors, Some(id)) => inv.update_vendor(&actor, id, &name)?.name,
            })
        })
        .await
}

fn errors_of(kind: Kind, e: &ApiError) -> FieldErrors {
    form_errors(
        e,
        &[(kind.library_name_field(), "name"), ("color", "color")],
        ("name", kind.duplicate()),
    )
}

async fn create(cx: &Ctx<'_>, kind: Kind, f: &Form) -> UiAnswer {
    cx.require_write()?;
    let v = Values::from_form(f);
    match save(cx, kind, None, &v).await {
        Ok(name) => Ok(cx.redirect(
            &format!("/ui/{}", kind.segment()),
            FlashKind::Success,
            format!("Created {} {name}.", kind.noun()),
        )),
        Err(e) if shown_at_form(&e) => {
            list_page(
                cx,
                kind,
                v,
                errors_of(kind, &e),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

async fn find(cx: &Ctx<'_>, kind: Kind, id: i64) -> Result<Item, ApiError> {
    load(cx, kind)
        .await?
        .into_iter()
        .find(|i| i.id == id)
        .ok_or_else(|| ApiError::not_found(format!("{} not found: {id}", kind.noun())))
}

async fn edit(cx: &Ctx<'_>, kind: Kind, id: &str) -> UiAnswer {
    cx.require_write()?;
    let item = find(cx, kind, path_id(id)?).await?;
    Ok(edit_page(
        cx,
        kind,
        &item,
        &Values::of(&item),
        &FieldErrors::default(),
        StatusCode::OK,
    ))
}

fn edit_page(
    cx: &Ctx<'_>,
    kind: Kind,
    item: &Item,
    v: &Values,
    errors: &FieldErrors,
    status: StatusCode,
) -> hyper::Response<Body> {
    let seg = kind.segment();
    let consequence = match kind {
        Kind::Projects => format!("Its {} IP assets stay, without a project.", item.uses),
        Kind::Tags => format!("It is removed from its {} IP assets.", item.uses),
        Kind::Vendors => format!("Its {} hosts stay, without a vendor.", item.uses),
    };
    let title = format!("Edit {} {}", kind.noun(), item.name);
    let body = html! {
        p { a href={"/ui/" (seg)} { "‹ " (kind.title()) } }
        h1 { (title) }
        (errors.general(&["name", "description", "color"]))
        form.panel method="post" action={"/ui/" (seg) "/" (item.id) "/edit"} {
            (cx.csrf_field())
            (fields(kind, v, errors, false))
            div.actions {
                button type="submit" { "Save" }
                a.button.secondary href={"/ui/" (seg)} { "Cancel" }
            }
        }
        (delete_panel(cx, &format!("/ui/{seg}/{}/delete", item.id), &format!("{} {}", kind.noun(), item.name), &consequence))
    };
    cx.page_with(status, &title, "", body)
}

async fn update(cx: &Ctx<'_>, kind: Kind, id: &str, f: &Form) -> UiAnswer {
    cx.require_write()?;
    let id = path_id(id)?;
    let v = Values::from_form(f);
    match save(cx, kind, Some(id), &v).await {
        Ok(name) => Ok(cx.redirect(
            &format!("/ui/{}", kind.segment()),
            FlashKind::Success,
            format!("Saved {} {name}.", kind.noun()),
        )),
        Err(e) if shown_at_form(&e) => {
            let item = find(cx, kind, id).await?;
            Ok(edit_page(
                cx,
                kind,
                &item,
                &v,
                &errors_of(kind, &e),
                StatusCode::UNPROCESSABLE_ENTITY,
            ))
        }
        Err(e) => Err(e),
    }
}

async fn delete(cx: &Ctx<'_>, kind: Kind, id: &str, f: &Form) -> UiAnswer {
    cx.require_write()?;
    let id = path_id(id)?;
    confirmed(f)?;
    let item = find(cx, kind, id).await?;
    let actor = cx.session.actor();
    cx.state
        .with_inventory(move |inv| match kind {
            Kind::Projects => inv.delete_project(&actor, id),
            Kind::Tags => inv.delete_tag(&actor, id),
            Kind::Vendors => inv.delete_vendor(&actor, id),
        })
        .await?;
    Ok(cx.redirect(
        &format!("/ui/{}", kind.segment()),
        FlashKind::Success,
        format!("Deleted {} {}.", kind.noun(), item.name),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggested_colours_are_valid_pastel_hex() {
        for seed in [0, 1, 119, 240, 359, 360, u64::MAX] {
            let c = suggested_colour(seed);
            assert!(ipocket_core::normalize_color(&c, "#000000").is_ok(), "{c}");
            // Pastel: every channel light enough for dark text.
            for i in [1, 3, 5] {
                assert!(u8::from_str_radix(&c[i..i + 2], 16).unwrap() >= 0x98, "{c}");
            }
        }
        assert_eq!(suggested_colour(0), "#e6a8a8");
    }

    #[test]
    fn hex_text_wins_over_the_picker() {
        let v = Values {
            color_hex: " #ABCDEF ".into(),
            color_pick: "#000000".into(),
            ..Default::default()
        };
        assert_eq!(v.colour(), "#ABCDEF");
        let v = Values {
            color_pick: "#000000".into(),
            ..Default::default()
        };
        assert_eq!(v.colour(), "#000000");
    }
}
