//! Lists and create / edit / delete forms of rules, templates, groups and targets. The four
//! kinds share one form shape: a list of fields, the values as text (maps as `key=value`
//! lines), and the library's error at its field.

use std::collections::BTreeMap;

use hyper::StatusCode;
use ipocket_rulegen::generate::effective_rules;
use ipocket_rulegen::{
    AlertRule, AlertTemplate, Group, MergeStrategy, NewRule, NewTemplate, Severity, Target,
};
use maud::{html, Markup};

use super::super::catalog::{confirmed, delete_panel, form_errors, path_id, shown_at_form};
use crate::errors::ApiError;
use crate::ui::form::Form;
use crate::ui::page::{Ctx, UiAnswer};
use crate::ui::session::FlashKind;
use crate::ui::widgets::{select_field, text_field, FieldErrors};

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Rules,
    Templates,
    Groups,
    Targets,
}

impl Kind {
    fn from_segment(s: &str) -> Option<Kind> {
        Some(match s {
            "rules" => Kind::Rules,
            "templates" => Kind::Templates,
            "groups" => Kind::Groups,
            "targets" => Kind::Targets,
            _ => return None,
        })
    }

    /// The list's path; rules are the alerting home page.
    fn path(self) -> &'static str {
        match self {
            Kind::Rules => "/ui/alerts",
            Kind::Templates => "/ui/alerts/templates",
            Kind::Groups => "/ui/alerts/groups",
            Kind::Targets => "/ui/alerts/targets",
        }
    }

    fn item_path(self) -> &'static str {
        match self {
            Kind::Rules => "/ui/alerts/rules",
            _ => self.path(),
        }
    }

    fn title(self) -> &'static str {
        match self {
            Kind::Rules => "Alert rules",
            Kind::Templates => "Alert templates",
            Kind::Groups => "Alert groups",
            Kind::Targets => "Alert targets",
        }
    }

    fn one(self) -> &'static str {
        match self {
            Kind::Rules => "rule",
            Kind::Templates => "template",
            Kind::Groups => "group",
            Kind::Targets => "target",
        }
    }

    /// The form's fields: (name, label, widget).
    fn fields(self) -> &'static [(&'static str, &'static str, Widget)] {
        use Widget::*;
        match self {
            Kind::Templates => &[
                ("name", "Name", Text),
                ("description", "Description", Text),
                (
                    "query_template",
                    "Query (PromQL with {{.var}} placeholders)",
                    Area,
                ),
                (
                    "default_vars",
                    "Default variables (name=value, one a line)",
                    Area,
                ),
                ("for_duration", "For (e.g. 5m)", Text),
                ("keep_firing_for", "Keep firing for", Text),
                ("severity", "Severity", Severity),
                ("labels", "Labels (name=value, one a line)", Area),
                ("annotations", "Annotations (name=value, one a line)", Area),
            ],
            Kind::Rules => &[
                ("template_id", "Template", TemplatePick),
                ("group_id", "Group", GroupPick),
                ("name", "Alert name (empty: the template's)", Text),
                ("vars", "Variables (name=value, one a line)", Area),
                ("enabled", "Enabled", Check),
                ("for_duration", "For (empty: the template's)", Text),
                (
                    "keep_firing_for",
                    "Keep firing for (empty: the template's)",
                    Text,
                ),
                ("severity", "Severity", SeverityOrTemplate),
                ("labels", "Extra labels (name=value, one a line)", Area),
                (
                    "annotations",
                    "Extra annotations (name=value, one a line)",
                    Area,
                ),
                (
                    "priority",
                    "Priority (0 to 1000; among a target's rules of one alert name the highest wins)",
                    Text,
                ),
                ("merge_strategy", "Over a lower rule of the same name", Merge),
            ],
            Kind::Groups => &[
                ("name", "Name", Text),
                ("description", "Description", Text),
                (
                    "interval",
                    "Evaluation interval (empty: Prometheus's global one)",
                    Text,
                ),
            ],
            Kind::Targets => &[
                ("hostname", "Host name", Text),
                ("address", "Address", Text),
                ("group_ids", "Groups", GroupChecks),
            ],
        }
    }

    /// Library field names (as in its errors) → form fields.
    fn renames(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Kind::Templates => &[
                ("template name", "name"),
                ("query template", "query_template"),
                ("query_template", "query_template"),
                ("variables", "default_vars"),
                ("for", "for_duration"),
                ("keep_firing_for", "keep_firing_for"),
                ("severity", "severity"),
                ("labels", "labels"),
                ("annotations", "annotations"),
            ],
            Kind::Rules => &[
                ("rule name", "name"),
                ("name", "name"),
                ("variables", "vars"),
                ("vars", "vars"),
                ("for", "for_duration"),
                ("for_duration", "for_duration"),
                ("keep_firing_for", "keep_firing_for"),
                ("labels", "labels"),
                ("annotations", "annotations"),
                ("priority", "priority"),
                ("merge_strategy", "merge_strategy"),
            ],
            Kind::Groups => &[("group name", "name"), ("interval", "interval")],
            Kind::Targets => &[("hostname", "hostname"), ("target name", "hostname")],
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Widget {
    Text,
    Area,
    Check,
    Severity,
    SeverityOrTemplate,
    /// `merge_strategy`: override or merge.
    Merge,
    TemplatePick,
    GroupPick,
    GroupChecks,
}

/// A form's values as text; `group_ids` holds the ticked ids joined by commas.
type Vals = BTreeMap<&'static str, String>;

fn lines(m: &BTreeMap<String, String>) -> String {
    m.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn opt(s: &Option<String>) -> String {
    s.clone().unwrap_or_default()
}

fn template_vals(t: &AlertTemplate) -> Vals {
    Vals::from([
        ("name", t.name.clone()),
        ("description", t.description.clone()),
        ("query_template", t.query_template.clone()),
        ("default_vars", lines(&t.default_vars)),
        ("for_duration", opt(&t.for_duration)),
        ("keep_firing_for", opt(&t.keep_firing_for)),
        ("severity", t.severity.as_str().into()),
        ("labels", lines(&t.labels)),
        ("annotations", lines(&t.annotations)),
    ])
}

fn rule_vals(r: &AlertRule) -> Vals {
    Vals::from([
        ("template_id", r.template_id.to_string()),
        ("group_id", r.group_id.to_string()),
        ("name", opt(&r.name)),
        ("vars", lines(&r.vars)),
        ("enabled", if r.enabled { "1" } else { "" }.into()),
        ("for_duration", opt(&r.for_duration)),
        ("keep_firing_for", opt(&r.keep_firing_for)),
        (
            "severity",
            r.severity.map(|s| s.as_str()).unwrap_or("").into(),
        ),
        ("labels", lines(&r.labels)),
        ("annotations", lines(&r.annotations)),
        ("priority", r.priority.to_string()),
        ("merge_strategy", r.merge_strategy.as_str().into()),
    ])
}

fn group_vals(g: &Group) -> Vals {
    Vals::from([
        ("name", g.name.clone()),
        ("description", g.description.clone()),
        ("interval", opt(&g.options.interval)),
    ])
}

fn target_vals(t: &Target) -> Vals {
    let ids: Vec<String> = t.group_ids.iter().map(i64::to_string).collect();
    Vals::from([
        ("hostname", t.hostname.clone()),
        ("address", t.address.clone()),
        ("group_ids", ids.join(",")),
    ])
}

fn form_vals(kind: Kind, f: &Form) -> Vals {
    kind.fields()
        .iter()
        .map(|(name, _, widget)| {
            let v = match widget {
                Widget::Check => if f.checked(name) { "1" } else { "" }.to_string(),
                Widget::GroupChecks => f.all(name).join(","),
                _ => f.get(name).unwrap_or("").to_string(),
            };
            (*name, v)
        })
        .collect()
}

/// `name=value` lines into a map; a line without `=` is an error at `field`.
fn parse_map(field: &str, text: &str) -> Result<BTreeMap<String, String>, ApiError> {
    let mut out = BTreeMap::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let Some((k, v)) = line.split_once('=') else {
            return Err(ApiError::bad_request(format!(
                "{field}: expected name=value, found {line:?}"
            ))
            .with_details(serde_json::json!({ "field": field })));
        };
        out.insert(k.trim().to_string(), v.trim().to_string());
    }
    Ok(out)
}

fn some(s: &str) -> Option<String> {
    Some(s.trim().to_string()).filter(|s| !s.is_empty())
}

fn id_at(field: &str, s: &str) -> Result<i64, ApiError> {
    s.parse().map_err(|_| {
        ApiError::bad_request(format!("{field}: choose one"))
            .with_details(serde_json::json!({ "field": field }))
    })
}

fn severity_at(field: &str, s: &str) -> Result<Severity, ApiError> {
    s.parse::<Severity>()
        .map_err(|e| ApiError::from(e).with_details(serde_json::json!({ "field": field })))
}

/// Stores the values through the library (validating first); `id` is the record replaced.
async fn save(cx: &Ctx<'_>, kind: Kind, id: Option<i64>, v: &Vals) -> Result<i64, ApiError> {
    let get = |k: &str| v.get(k).map(String::as_str).unwrap_or("");
    let actor = cx.session.actor();
    match kind {
        Kind::Templates => {
            let t = NewTemplate {
                name: get("name").trim().to_string(),
                description: get("description").trim().to_string(),
                query_template: get("query_template").trim().to_string(),
                default_vars: parse_map("default_vars", get("default_vars"))?,
                for_duration: some(get("for_duration")),
                keep_firing_for: some(get("keep_firing_for")),
                severity: severity_at("severity", get("severity"))?,
                labels: parse_map("labels", get("labels"))?,
                annotations: parse_map("annotations", get("annotations"))?,
            };
            cx.state
                .write_rules(&actor, move |s| {
                    s.validate_template(id, &t)?;
                    Ok(match id {
                        None => s.create_template(&t)?.id,
                        Some(i) => s.update_template(i, &t)?.id,
                    })
                })
                .await
        }
        Kind::Rules => {
            let mut r = NewRule::new(
                id_at("group_id", get("group_id"))?,
                id_at("template_id", get("template_id"))?,
            );
            r.name = some(get("name"));
            r.vars = parse_map("vars", get("vars"))?;
            r.enabled = !get("enabled").is_empty();
            r.for_duration = some(get("for_duration"));
            r.keep_firing_for = some(get("keep_firing_for"));
            r.severity = match get("severity") {
                "" => None,
                s => Some(severity_at("severity", s)?),
            };
            r.labels = parse_map("labels", get("labels"))?;
            r.annotations = parse_map("annotations", get("annotations"))?;
            if !get("priority").trim().is_empty() {
                r.priority = get("priority").trim().parse().map_err(|_| {
                    ApiError::bad_request("priority: expected a whole number from 0 to 1000")
                        .with_details(serde_json::json!({ "field": "priority" }))
                })?;
            }
            r.merge_strategy = match get("merge_strategy") {
                "" => MergeStrategy::Override,
                m => m.parse().map_err(|e| {
                    ApiError::from(e).with_details(serde_json::json!({ "field": "merge_strategy" }))
                })?,
            };
            cx.state
                .write_rules(&actor, move |s| {
                    s.validate_rule(id, &r)?;
                    Ok(match id {
                        None => s.create_rule(&r)?.id,
                        Some(i) => s.update_rule(i, &r)?.id,
                    })
                })
                .await
        }
        Kind::Groups => {
            let (name, description) = (
                get("name").trim().to_string(),
                get("description").trim().to_string(),
            );
            let interval = some(get("interval"));
            cx.state
                .write_rules(&actor, move |s| {
                    Ok(match id {
                        None => {
                            let o = ipocket_rulegen::GroupOptions {
                                interval,
                                ..Default::default()
                            };
                            s.create_group_with(&name, &description, &o)?.id
                        }
                        // Options without a field here (limit, offset, labels) are kept.
                        Some(i) => {
                            let mut o = s.group(i)?.options;
                            o.interval = interval;
                            s.update_group(i, &name, &description, &o)?.id
                        }
                    })
                })
                .await
        }
        Kind::Targets => {
            let (hostname, address) = (
                get("hostname").trim().to_string(),
                get("address").trim().to_string(),
            );
            let groups = get("group_ids")
                .split(',')
                .filter(|s| !s.is_empty())
                .map(|s| id_at("group_ids", s))
                .collect::<Result<Vec<i64>, _>>()?;
            cx.state
                .write_rules(&actor, move |s| {
                    Ok(match id {
                        None => s.create_target(&hostname, &address, &groups)?.id,
                        Some(i) => s.update_target(i, &hostname, &address, Some(&groups))?.id,
                    })
                })
                .await
        }
    }
}

/// Everything the pages show: every record of the four kinds (small tables).
struct Model {
    templates: Vec<AlertTemplate>,
    rules: Vec<AlertRule>,
    groups: Vec<Group>,
    targets: Vec<Target>,
}

async fn model(cx: &Ctx<'_>) -> Result<Model, ApiError> {
    cx.state
        .with_rules(|s| {
            Ok(Model {
                templates: s.templates()?,
                rules: s.rules(None)?,
                groups: s.groups()?,
                targets: s.targets()?,
            })
        })
        .await
}

impl Model {
    fn group_name(&self, id: i64) -> &str {
        self.groups
            .iter()
            .find(|g| g.id == id)
            .map(|g| g.name.as_str())
            .unwrap_or("?")
    }
    fn template_name(&self, id: i64) -> &str {
        self.templates
            .iter()
            .find(|t| t.id == id)
            .map(|t| t.name.as_str())
            .unwrap_or("?")
    }
}

pub(crate) async fn route(
    cx: &Ctx<'_>,
    tail: &[&str],
    form: Option<&Form>,
) -> Option<(&'static str, UiAnswer)> {
    let (seg, rest) = tail.split_first()?;
    let kind = Kind::from_segment(seg)?;
    Some(match (rest, form) {
        ([], None) => ("/ui/alerts/{kind}", list(cx, kind).await),
        ([], Some(f)) => ("/ui/alerts/{kind}", create(cx, kind, f).await),
        ([id], None) => ("/ui/alerts/{kind}/{id}", edit(cx, kind, id).await),
        ([id], Some(f)) => ("/ui/alerts/{kind}/{id}", update(cx, kind, id, f).await),
        ([id, "delete"], Some(f)) => (
            "/ui/alerts/{kind}/{id}/delete",
            delete(cx, kind, id, f).await,
        ),
        _ => return None,
    })
}

pub(crate) async fn list(cx: &Ctx<'_>, kind: Kind) -> UiAnswer {
    let defaults = Vals::from([
        ("severity", "warning".to_string()),
        ("enabled", "1".to_string()),
        ("priority", "100".to_string()),
        ("merge_strategy", "override".to_string()),
    ]);
    list_page(cx, kind, &defaults, &FieldErrors::default(), StatusCode::OK).await
}

async fn list_page(
    cx: &Ctx<'_>,
    kind: Kind,
    vals: &Vals,
    errors: &FieldErrors,
    status: StatusCode,
) -> UiAnswer {
    let m = model(cx).await?;
    let current = if kind == Kind::Rules {
        ""
    } else {
        &kind.path()["/ui/alerts".len()..]
    };
    let body = html! {
        h1 { (kind.title()) }
        (super::tabs(current))
        (table(kind, &m))
        @if cx.require_write().is_ok() {
            section.panel aria-labelledby="new-h" {
                h2 #new-h { "New " (kind.one()) }
                (editor(cx, kind, &m, kind.item_path(), vals, errors, "Create"))
            }
        }
    };
    Ok(cx.page_with(status, kind.title(), "", body))
}

fn table(kind: Kind, m: &Model) -> Markup {
    let link = |id: i64, text: &str| html! { a href={(kind.item_path()) "/" (id)} { (text) } };
    html! {
        table.data #alert-list {
            @match kind {
                Kind::Rules => {
                    thead { tr { th scope="col" { "Alert" } th scope="col" { "Template" } th scope="col" { "Group" } th scope="col" { "Variables" } th scope="col" { "Enabled" } th scope="col" { "Preview" } } }
                    tbody {
                        @for r in &m.rules {
                            tr {
                                td { (link(r.id, r.name.as_deref().unwrap_or(m.template_name(r.template_id)))) }
                                td { (m.template_name(r.template_id)) }
                                td { (m.group_name(r.group_id)) }
                                td { code { (lines(&r.vars).replace('\n', ", ")) } }
                                td { (if r.enabled { "yes" } else { "no" }) }
                                td { a.preview-link href={"/ui/alerts/rules/" (r.id) "/preview"} title="Evaluate the expression now in Prometheus" { "Preview" } }
                            }
                        }
                        @if m.rules.is_empty() { tr { td colspan="6" .muted { "No rules yet." } } }
                    }
                }
                Kind::Templates => {
                    thead { tr { th scope="col" { "Name" } th scope="col" { "Query" } th scope="col" { "Severity" } th scope="col" { "For" } } }
                    tbody {
                        @for t in &m.templates {
                            tr { td { (link(t.id, &t.name)) } td { code { (t.query_template) } } td { (t.severity) } td { (opt(&t.for_duration)) } }
                        }
                        @if m.templates.is_empty() { tr { td colspan="4" .muted { "No templates yet." } } }
                    }
                }
                Kind::Groups => {
                    thead { tr { th scope="col" { "Name" } th scope="col" { "Description" } th scope="col" { "Rules" } th scope="col" { "Targets" } th scope="col" { "File" } } }
                    tbody {
                        @for g in &m.groups {
                            tr {
                                td { (link(g.id, &g.name)) }
                                td { (g.description) }
                                td { (m.rules.iter().filter(|r| r.group_id == g.id).count()) }
                                td { (m.targets.iter().filter(|t| t.group_ids.contains(&g.id)).count()) }
                                td { code { (ipocket_rulegen::generate::file_name_for_group(g.id)) } }
                            }
                        }
                        @if m.groups.is_empty() { tr { td colspan="5" .muted { "No groups yet." } } }
                    }
                }
                Kind::Targets => {
                    thead { tr { th scope="col" { "Host name" } th scope="col" { "Address" } th scope="col" { "Groups" } } }
                    tbody {
                        @for t in &m.targets {
                            tr {
                                td { (link(t.id, &t.hostname)) }
                                td { (t.address) }
                                td { (t.group_ids.iter().map(|g| m.group_name(*g)).collect::<Vec<_>>().join(", ")) }
                            }
                        }
                        @if m.targets.is_empty() { tr { td colspan="3" .muted { "No targets yet." } } }
                    }
                }
            }
        }
    }
}

/// The create / edit form.
fn editor(
    cx: &Ctx<'_>,
    kind: Kind,
    m: &Model,
    action: &str,
    vals: &Vals,
    errors: &FieldErrors,
    submit: &str,
) -> Markup {
    let known: Vec<&str> = kind.fields().iter().map(|(n, _, _)| *n).collect();
    let val = |n: &str| vals.get(n).cloned().unwrap_or_default();
    let severities = |with_template: bool| {
        let mut o: Vec<(String, String)> = Vec::new();
        if with_template {
            o.push((String::new(), "the template's".into()));
        }
        for s in ["critical", "warning", "info"] {
            o.push((s.into(), s.into()));
        }
        o
    };
    html! {
        (errors.general(&known))
        form.stack method="post" action=(action) {
            (cx.csrf_field())
            @for (name, label, widget) in kind.fields() {
                @match widget {
                    Widget::Text => (text_field(name, label, &val(name), errors, matches!(*name, "name" | "hostname") && kind != Kind::Rules)),
                    Widget::Area => (area_field(name, label, &val(name), errors)),
                    Widget::Check => {
                        div.field {
                            label.inline for={"f-" (name)} {
                                input type="checkbox" id={"f-" (name)} name=(name) value="1" checked[!val(name).is_empty()];
                                " " (label)
                            }
                        }
                    }
                    Widget::Severity => (select_field(name, label, &severities(false), &val(name), errors)),
                    Widget::SeverityOrTemplate => (select_field(name, label, &severities(true), &val(name), errors)),
                    Widget::Merge => (select_field(name, label, &[
                        ("override".to_string(), "override: replaces it".to_string()),
                        ("merge".to_string(), "merge: adds its variables, labels and annotations to it".to_string()),
                    ], &val(name), errors)),
                    Widget::TemplatePick => (select_field(name, label, &m.templates.iter().map(|t| (t.id.to_string(), t.name.clone())).collect::<Vec<_>>(), &val(name), errors)),
                    Widget::GroupPick => (select_field(name, label, &m.groups.iter().map(|g| (g.id.to_string(), g.name.clone())).collect::<Vec<_>>(), &val(name), errors)),
                    Widget::GroupChecks => {
                        fieldset.field {
                            legend { (label) }
                            @let ticked: Vec<String> = val(name).split(',').map(str::to_string).collect();
                            @for g in &m.groups {
                                label.inline for={"f-group-" (g.id)} {
                                    input type="checkbox" id={"f-group-" (g.id)} name=(name) value=(g.id) checked[ticked.contains(&g.id.to_string())];
                                    " " (g.name)
                                }
                            }
                            @if m.groups.is_empty() { p.muted { "No groups yet." } }
                            @if let Some(e) = errors.of(name) { span.field-error { (e) } }
                        }
                    }
                }
            }
            p { button type="submit" { (submit) } }
        }
    }
}

/// A labelled `<textarea>` with its error below it.
fn area_field(name: &str, label: &str, value: &str, errors: &FieldErrors) -> Markup {
    let id = format!("f-{name}");
    let err = errors.of(name);
    html! {
        div.field.invalid[err.is_some()] {
            label for=(id) { (label) }
            textarea id=(id) name=(name) rows="3"
                aria-invalid=[err.map(|_| "true")] aria-describedby=[err.map(|_| format!("{id}-err"))] { (value) }
            @if let Some(m) = err { span.field-error id={(id) "-err"} role="alert" { (m) } }
        }
    }
}

fn errors_for(kind: Kind, e: &ApiError) -> FieldErrors {
    let duplicate = match kind {
        Kind::Targets => "hostname",
        _ => "name",
    };
    // "invalid query template: why" → "query template: why", which `form_errors` shortens
    // to "why" at the field.
    let shown = ApiError {
        status: e.status,
        code: e.code,
        message: e
            .message
            .strip_prefix("invalid ")
            .unwrap_or(&e.message)
            .to_string(),
        details: e.details.clone(),
        retry_after: e.retry_after,
    };
    form_errors(&shown, kind.renames(), (duplicate, &e.message))
}

async fn create(cx: &Ctx<'_>, kind: Kind, f: &Form) -> UiAnswer {
    cx.require_write()?;
    let vals = form_vals(kind, f);
    match save(cx, kind, None, &vals).await {
        Ok(id) => Ok(cx.redirect(
            &format!("{}/{id}", kind.item_path()),
            FlashKind::Success,
            format!("The {} was created.", kind.one()),
        )),
        Err(e) if shown_at_form(&e) => {
            list_page(
                cx,
                kind,
                &vals,
                &errors_for(kind, &e),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

async fn update(cx: &Ctx<'_>, kind: Kind, id: &str, f: &Form) -> UiAnswer {
    cx.require_write()?;
    let id = path_id(id)?;
    let vals = form_vals(kind, f);
    match save(cx, kind, Some(id), &vals).await {
        Ok(_) => Ok(cx.redirect(
            &format!("{}/{id}", kind.item_path()),
            FlashKind::Success,
            format!("The {} was saved.", kind.one()),
        )),
        Err(e) if shown_at_form(&e) => {
            edit_page(
                cx,
                kind,
                id,
                Some(&vals),
                &errors_for(kind, &e),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

async fn delete(cx: &Ctx<'_>, kind: Kind, id: &str, f: &Form) -> UiAnswer {
    cx.require_write()?;
    let id = path_id(id)?;
    confirmed(f)?;
    let done = cx
        .state
        .write_rules(&cx.session.actor(), move |s| match kind {
            Kind::Templates => s.delete_template(id),
            Kind::Rules => s.delete_rule(id),
            Kind::Groups => s.delete_group(id),
            Kind::Targets => s.delete_target(id),
        })
        .await;
    match done {
        Ok(()) => Ok(cx.redirect(
            kind.path(),
            FlashKind::Success,
            format!("The {} was deleted.", kind.one()),
        )),
        Err(e) if shown_at_form(&e) => Ok(cx.redirect(
            &format!("{}/{id}", kind.item_path()),
            FlashKind::Error,
            e.message,
        )),
        Err(e) => Err(e),
    }
}

async fn edit(cx: &Ctx<'_>, kind: Kind, id: &str) -> UiAnswer {
    let id = path_id(id)?;
    edit_page(cx, kind, id, None, &FieldErrors::default(), StatusCode::OK).await
}

async fn edit_page(
    cx: &Ctx<'_>,
    kind: Kind,
    id: i64,
    submitted: Option<&Vals>,
    errors: &FieldErrors,
    status: StatusCode,
) -> UiAnswer {
    let m = model(cx).await?;
    let stored = match kind {
        Kind::Templates => m.templates.iter().find(|t| t.id == id).map(template_vals),
        Kind::Rules => m.rules.iter().find(|r| r.id == id).map(rule_vals),
        Kind::Groups => m.groups.iter().find(|g| g.id == id).map(group_vals),
        Kind::Targets => m.targets.iter().find(|t| t.id == id).map(target_vals),
    }
    .ok_or_else(|| ApiError::not_found(format!("{} {id} not found", kind.one())))?;
    let vals = submitted.unwrap_or(&stored);
    let name = match kind {
        Kind::Rules => stored
            .get("name")
            .filter(|n| !n.is_empty())
            .cloned()
            .unwrap_or_else(|| {
                stored
                    .get("template_id")
                    .and_then(|t| t.parse().ok())
                    .map(|t| m.template_name(t).to_string())
                    .unwrap_or_default()
            }),
        Kind::Targets => stored.get("hostname").cloned().unwrap_or_default(),
        _ => stored.get("name").cloned().unwrap_or_default(),
    };
    let effective = match kind {
        Kind::Targets => Some(
            cx.state
                .with_rules(move |s| {
                    effective_rules(s, &id.to_string(), s.settings()?.target_version)
                })
                .await?,
        ),
        _ => None,
    };
    let action = format!("{}/{id}", kind.item_path());
    let current = if kind == Kind::Rules {
        ""
    } else {
        &kind.path()["/ui/alerts".len()..]
    };
    let title = format!("{} {name}", kind.one());
    let body = html! {
        p { a href=(kind.path()) { "← " (kind.title()) } }
        h1 { (kind.one()) " " (name) }
        @if kind == Kind::Rules {
            p { a.button.secondary #rule-preview-link href={"/ui/alerts/rules/" (id) "/preview"} { "Preview: what it matches now" } }
        }
        (super::tabs(current))
        @if let Some(e) = &effective {
            section.panel aria-labelledby="eff-h" {
                h2 #eff-h { "Effective rules" }
                table.data #effective-rules {
                    thead { tr { th scope="col" { "Alert" } th scope="col" { "Group" } th scope="col" { "Expression" } th scope="col" { "For" } th scope="col" { "Severity" } } }
                    tbody {
                        @for r in &e.rules {
                            tr { td { (r.alert) } td { (r.source.group_name) } td { code { (r.expr) } } td { (opt(&r.for_duration)) } td { (r.severity) } }
                        }
                        @if e.rules.is_empty() { tr { td colspan="5" .muted { "No enabled rule applies to this target." } } }
                    }
                }
                @if !e.overridden.is_empty() {
                    p.muted { "Overridden here by a rule of higher priority (or of the target's own group):" }
                    ul #overridden-rules {
                        @for o in &e.overridden {
                            li { (o.alert) " of group " (o.group_name) " (rule " (o.rule_id) "): "
                                @if o.merged { "merged into rule " } @else { "replaced by rule " } (o.by_rule_id) }
                        }
                    }
                }
            }
        }
        @if cx.require_write().is_ok() {
            section.panel aria-labelledby="edit-h" {
                h2 #edit-h { "Edit" }
                (editor(cx, kind, &m, &action, vals, errors, "Save"))
            }
            (delete_panel(cx, &format!("{action}/delete"), &format!("this {}", kind.one()), "Regenerate afterwards to update the rule files."))
        } @else {
            dl.props {
                @for (field, label, _) in kind.fields() {
                    dt { (label) } dd { (stored.get(field).cloned().unwrap_or_default()) }
                }
            }
        }
    };
    Ok(cx.page_with(status, &title, "", body))
}
