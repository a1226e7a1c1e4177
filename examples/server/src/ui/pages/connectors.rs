//! `/ui/connectors`: the Prometheus and vCenter connectors run as background jobs (the
//! request queues the job and returns at once; `/ui/connectors/jobs/{id}` shows its state,
//! plan and log, reloading itself while it runs), saved configurations without secrets, the
//! last result per connector and the job table. Runs (dry runs too) are for Editors.

use hyper::StatusCode;
use ipocket_connectors::jobs::{Job, JobState, SavedConfig};
use ipocket_core::AssetType;
use maud::{html, Markup};
use serde_json::Value;

use crate::errors::ApiError;
use crate::handlers::connectors::{
    prometheus_options, vcenter_options, PrometheusBody, VcenterBody,
};
use crate::jobs::{self, Run};
use crate::ui::form::Form;
use crate::ui::page::{Ctx, UiAnswer};
use crate::ui::session::FlashKind;
use crate::ui::widgets::{select_field, text_field, FieldErrors};

pub(crate) async fn route(
    cx: &Ctx<'_>,
    rest: &[&str],
    form: Option<&Form>,
) -> Option<(&'static str, UiAnswer)> {
    Some(match (rest, form) {
        (["connectors"], None) => ("/ui/connectors", index(cx).await),
        (["connectors", "prometheus"], Some(f)) => {
            ("/ui/connectors/prometheus", run_prometheus(cx, f).await)
        }
        (["connectors", "vcenter"], Some(f)) => {
            ("/ui/connectors/vcenter", run_vcenter(cx, f).await)
        }
        (["connectors", "jobs", id], None) => ("/ui/connectors/jobs/{id}", job_page(cx, id).await),
        (["connectors", "configs", id, "run"], Some(f)) => (
            "/ui/connectors/configs/{id}/run",
            run_config(cx, id, f).await,
        ),
        (["connectors", "configs", id, "delete"], Some(_)) => (
            "/ui/connectors/configs/{id}/delete",
            delete_config(cx, id).await,
        ),
        _ => return None,
    })
}

/// Jobs listed on the page.
const JOBS_SHOWN: u32 = 50;

/// What the forms show: a saved configuration, the submitted values, or empty.
#[derive(Default)]
struct Filled {
    prometheus: PrometheusBody,
    vcenter: VcenterBody,
}

async fn index(cx: &Ctx<'_>) -> UiAnswer {
    let mut filled = Filled {
        prometheus: PrometheusBody {
            ip_label: "instance".into(),
            ..Default::default()
        },
        ..Default::default()
    };
    let mut note = None;
    if let Some(id) = cx.req.param("config") {
        let c = saved_config(cx, id).await?;
        match saved_run(&c)? {
            Run::Vcenter(b) => filled.vcenter = b,
            Run::Prometheus(b) => filled.prometheus = b,
        }
        note = Some(c.name);
    }
    render(cx, StatusCode::OK, &filled, &FieldErrors::default(), note).await
}

async fn render(
    cx: &Ctx<'_>,
    status: StatusCode,
    filled: &Filled,
    errors: &FieldErrors,
    loaded: Option<String>,
) -> UiAnswer {
    let (jobs, configs, last) = cx
        .state
        .jobs
        .with_store(|s| {
            let last = [s.last_result("prometheus")?, s.last_result("vcenter")?];
            Ok((s.recent(JOBS_SHOWN)?, s.configs()?, last))
        })
        .await?;
    let body = html! {
        h1 { "Connectors" }
        p.muted { "Each run is a background job: the page returns at once and the job page shows its plan and log. Credentials are used for the run only and never stored." }
        // The SD preview has no menu entry (the menu must fit one row at 1280 px).
        p { a href="/ui/sd-preview" { "SD preview" } ": the exact JSON Prometheus receives from the service-discovery endpoints, with each target's state." }
        section.cards.last-results aria-label="Last result per connector" {
            @for (name, job) in [("Prometheus", &last[0]), ("vCenter", &last[1])] {
                div.card.last-result {
                    div.label { "Last " (name) " result" }
                    @match job {
                        Some(j) => {
                            div { (state_badge(j.state)) " " a href={"/ui/connectors/jobs/" (j.id)} { "job #" (j.id) } " · " (j.mode) }
                            div.muted { (j.summary.as_deref().or(j.error.as_deref()).unwrap_or("")) }
                        }
                        None => div.muted { "No run yet" }
                    }
                }
            }
        }
        @if cx.session.can_write() {
            @if let Some(name) = &loaded {
                div.flash.flash-info role="status" { "Loaded the saved configuration “" (name) "”: type its credentials again if it needs them." }
            }
            (errors.general(&FIELDS))
            div.connector-forms {
                (prometheus_form(cx, &filled.prometheus, errors))
                (vcenter_form(cx, &filled.vcenter, errors))
            }
        }
        h2 #saved { "Saved configurations" }
        @if configs.is_empty() {
            p.muted { "None yet: tick “save this configuration” on a form." }
        } @else {
            div.table-wrap { table.saved-configs {
                thead { tr { th scope="col" { "Name" } th scope="col" { "Connector" } th scope="col" { "Target" } th scope="col" { "Saved" } th scope="col" { span.visually-hidden { "Actions" } } } }
                tbody { @for c in &configs { (config_row(cx, c)) } }
            } }
        }
        h2 #jobs { "Jobs" }
        (jobs_table(&jobs))
    };
    Ok(cx.page_with(status, "Connectors", "", body))
}

/// Every field of both forms (errors elsewhere are shown above them).
const FIELDS: [&str; 14] = [
    "prometheus_url",
    "query",
    "ip_label",
    "asset_type",
    "project",
    "tags",
    "username",
    "token",
    "timeout_seconds",
    "server",
    "vc_username",
    "password",
    "vc_timeout_seconds",
    "save_as",
];

fn password_field(name: &str, label: &str, errors: &FieldErrors) -> Markup {
    let id = format!("f-{name}");
    html! {
        div.field.invalid[errors.of(name).is_some()] {
            label for=(id) { (label) }
            input type="password" id=(id) name=(name) autocomplete="off";
            @if let Some(m) = errors.of(name) { span.field-error { (m) } }
        }
    }
}

fn checkbox(name: &str, label: &str, checked: bool) -> Markup {
    let id = format!("f-{name}");
    html! {
        div.field { label.inline for=(id) { input type="checkbox" id=(id) name=(name) value="1" checked[checked]; " " (label) } }
    }
}

fn mode_and_save(prefix: &str, errors: &FieldErrors) -> Markup {
    html! {
        fieldset {
            legend { "Mode" }
            label.inline for={(prefix) "-dry-run"} {
                input type="radio" id={(prefix) "-dry-run"} name="mode" value="dry-run" checked; " Dry run (plan only)"
            }
            " "
            label.inline for={(prefix) "-apply"} {
                input type="radio" id={(prefix) "-apply"} name="mode" value="apply"; " Apply"
            }
        }
        (text_field("save_as", "Save this configuration as (optional name, no secrets kept)", "", errors, false))
    }
}

fn timeout_text(t: Option<f64>) -> String {
    t.map(|t| t.to_string()).unwrap_or_default()
}

fn prometheus_form(cx: &Ctx<'_>, b: &PrometheusBody, errors: &FieldErrors) -> Markup {
    let mut types = vec![(String::new(), "(connector default)".to_string())];
    types.extend(
        AssetType::ALL
            .iter()
            .map(|t| (t.as_str().to_string(), t.as_str().to_string())),
    );
    html! {
        form.panel #prometheus method="post" action="/ui/connectors/prometheus" {
            (cx.csrf_field())
            h2 { "Prometheus query" }
            (text_field("prometheus_url", "Prometheus URL", &b.prometheus_url, errors, true))
            (text_field("query", "PromQL query", &b.query, errors, true))
            (text_field("ip_label", "IP label", &b.ip_label, errors, true))
            (select_field("asset_type", "Asset type", &types, b.asset_type.as_deref().unwrap_or(""), errors))
            (text_field("project", "Project (optional)", b.project.as_deref().unwrap_or(""), errors, false))
            (text_field("tags", "Tags (comma separated)", &b.tags.join(", "), errors, false))
            (text_field("username", "Basic auth user (optional)", "", errors, false))
            (password_field("token", "Bearer token, or the Basic auth password", errors))
            (text_field("timeout_seconds", "Timeout (seconds, default 30)", &timeout_text(b.timeout_seconds), errors, false))
            (checkbox("insecure", "Skip TLS certificate verification", b.insecure))
            (checkbox("keep_ipv6", "Keep IPv6 addresses", b.keep_ipv6))
            (mode_and_save("prom", errors))
            button type="submit" { "Run Prometheus job" }
        }
    }
}

fn vcenter_form(cx: &Ctx<'_>, b: &VcenterBody, errors: &FieldErrors) -> Markup {
    html! {
        form.panel #vcenter method="post" action="/ui/connectors/vcenter" {
            (cx.csrf_field())
            h2 { "vCenter" }
            (text_field("server", "vCenter server (host or https:// URL)", &b.server, errors, true))
            (text_field("vc_username", "Username", &b.username, errors, true))
            (password_field("password", "Password", errors))
            (text_field("vc_timeout_seconds", "Timeout (seconds, default 30)", &timeout_text(b.timeout_seconds), errors, false))
            (checkbox("vc_insecure", "Skip TLS certificate verification", b.insecure))
            (mode_and_save("vc", errors))
            button type="submit" { "Run vCenter job" }
        }
    }
}

fn config_row(cx: &Ctx<'_>, c: &SavedConfig) -> Markup {
    let target = match c.connector.as_str() {
        "vcenter" => c.inputs["server"].as_str().unwrap_or("").to_string(),
        _ => format!(
            "{} · {}",
            c.inputs["prometheus_url"].as_str().unwrap_or(""),
            c.inputs["query"].as_str().unwrap_or("")
        ),
    };
    html! {
        tr {
            td data-label="Name" { (c.name) }
            td data-label="Connector" { (c.connector) }
            td data-label="Target" { span.mono { (target) } }
            td.nowrap data-label="Saved" { (when(Some(c.saved_at))) " by " (c.saved_by) }
            td.actions {
                @if cx.session.can_write() {
                    a.button.secondary href={"/ui/connectors?config=" (c.id) "#" (c.connector)} { "Run again" }
                    @if !needs_secret(c) {
                        form method="post" action={"/ui/connectors/configs/" (c.id) "/run"} {
                            (cx.csrf_field())
                            button.secondary type="submit" name="mode" value="dry-run" { "Dry run now" }
                            " "
                            button.secondary type="submit" name="mode" value="apply" { "Apply now" }
                        }
                    }
                    form method="post" action={"/ui/connectors/configs/" (c.id) "/delete"} {
                        (cx.csrf_field())
                        button.link type="submit" aria-label={"Delete " (c.name)} { "Delete" }
                    }
                }
            }
        }
    }
}

fn state_badge(s: JobState) -> Markup {
    html! { span class={"badge job-" (s.as_str())} { (s.as_str()) } }
}

fn jobs_table(jobs: &[Job]) -> Markup {
    html! {
        @if jobs.is_empty() {
            p.muted { "No job yet." }
        } @else {
            div.table-wrap { table.responsive.jobs {
                thead { tr {
                    th scope="col" { "Job" } th scope="col" { "Connector" } th scope="col" { "Mode" } th scope="col" { "State" }
                    th scope="col" { "Started" } th scope="col" { "Finished" } th scope="col" { "By" } th scope="col" { "Summary" }
                } }
                tbody {
                    @for j in jobs {
                        tr {
                            td data-label="Job" { a href={"/ui/connectors/jobs/" (j.id)} { "#" (j.id) } }
                            td data-label="Connector" { (j.connector) }
                            td data-label="Mode" { (j.mode) }
                            td data-label="State" { (state_badge(j.state)) }
                            td.nowrap data-label="Started" { (when(j.started_at)) }
                            td.nowrap data-label="Finished" { (when(j.finished_at)) }
                            td data-label="By" { (j.username) }
                            td data-label="Summary" { (j.summary.as_deref().or(j.error.as_deref()).unwrap_or("")) }
                        }
                    }
                }
            } }
        }
    }
}

/// `YYYY-MM-DD HH:MM:SS` UTC of a time in ms since the epoch; `–` for none.
fn when(ms: Option<i64>) -> String {
    let Some(ms) = ms else { return "–".into() };
    let (year, month, day, h, m, s) = crate::ui::chart::utc(ms);
    format!("{year:04}-{month:02}-{day:02} {h:02}:{m:02}:{s:02}")
}

fn timeout_field(f: &Form, name: &str, errors: &mut FieldErrors) -> Option<f64> {
    let t = f.text(name)?;
    match t.parse::<f64>() {
        Ok(s) if s > 0.0 && s <= 600.0 => Some(s),
        _ => {
            errors.add(name, "expected a number of seconds above 0, at most 600");
            None
        }
    }
}

fn required(f: &Form, name: &str, errors: &mut FieldErrors) -> String {
    let v = f.text(name).unwrap_or_default();
    if v.is_empty() {
        errors.add(name, "required");
    }
    v
}

fn apply_mode(f: &Form) -> bool {
    f.get("mode") == Some("apply")
}

async fn run_prometheus(cx: &Ctx<'_>, f: &Form) -> UiAnswer {
    cx.require_write()?;
    let mut errors = FieldErrors::default();
    let url = required(f, "prometheus_url", &mut errors);
    if !(url.is_empty() || url.starts_with("http://") || url.starts_with("https://")) {
        errors.add("prometheus_url", "expected an http:// or https:// URL");
    }
    let secret = f.get("token").unwrap_or("").to_string();
    let token = match f.text("username") {
        Some(user) => Some(format!("{user}:{secret}")),
        None => Some(secret).filter(|t| !t.is_empty()),
    };
    let body = PrometheusBody {
        prometheus_url: url,
        query: required(f, "query", &mut errors),
        ip_label: required(f, "ip_label", &mut errors),
        asset_type: f.text("asset_type"),
        project: f.text("project"),
        tags: f
            .get("tags")
            .unwrap_or("")
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .collect(),
        token,
        insecure: f.checked("insecure"),
        timeout_seconds: timeout_field(f, "timeout_seconds", &mut errors),
        keep_ipv6: f.checked("keep_ipv6"),
    };
    if errors.is_empty() {
        // The library's own checks (asset type), at their field before anything is queued.
        if let Err(e) = prometheus_options(&body, &cx.state.config) {
            errors = FieldErrors::from_api(&e);
        }
    }
    if !errors.is_empty() {
        let filled = Filled {
            prometheus: body,
            ..Default::default()
        };
        return render(cx, StatusCode::UNPROCESSABLE_ENTITY, &filled, &errors, None).await;
    }
    queue(cx, f, Run::Prometheus(body)).await
}

async fn run_vcenter(cx: &Ctx<'_>, f: &Form) -> UiAnswer {
    cx.require_write()?;
    let mut errors = FieldErrors::default();
    let body = VcenterBody {
        server: required(f, "server", &mut errors),
        username: required(f, "vc_username", &mut errors),
        password: f.get("password").unwrap_or("").to_string(),
        insecure: f.checked("vc_insecure"),
        timeout_seconds: timeout_field(f, "vc_timeout_seconds", &mut errors),
        resolve_timeout_seconds: None,
    };
    if body.password.is_empty() {
        errors.add(
            "password",
            "required (it is never stored: type it for each run)",
        );
    }
    if errors.is_empty() {
        // The allow-list and the timeout, at their field before anything is queued.
        if let Err(e) = vcenter_options(body.clone(), &cx.state.config) {
            errors = FieldErrors::from_api(&e);
        }
    }
    if !errors.is_empty() {
        let filled = Filled {
            vcenter: body,
            prometheus: PrometheusBody {
                ip_label: "instance".into(),
                ..Default::default()
            },
        };
        return render(cx, StatusCode::UNPROCESSABLE_ENTITY, &filled, &errors, None).await;
    }
    queue(cx, f, Run::Vcenter(body)).await
}

/// Saves the configuration when asked, queues the job and goes to its page.
async fn queue(cx: &Ctx<'_>, f: &Form, run: Run) -> UiAnswer {
    let mut saved = String::new();
    if let Some(name) = f.text("save_as") {
        let (connector, mut inputs, by) = (
            run.connector(),
            run.inputs(),
            cx.session.user.username.clone(),
        );
        let secret = match &run {
            Run::Prometheus(b) => b.token.is_some(),
            Run::Vcenter(_) => true,
        };
        inputs[NEEDS_SECRET] = secret.into();
        saved = format!("; configuration “{name}” saved");
        cx.state
            .jobs
            .with_store(move |s| s.save_config(connector, &name, &inputs, &by))
            .await?;
    }
    let apply = apply_mode(f);
    let id = jobs::start(cx.state, run, cx.session.actor(), apply).await?;
    let mode = if apply { "apply" } else { "dry run" };
    Ok(cx.redirect(
        &format!("/ui/connectors/jobs/{id}"),
        FlashKind::Success,
        format!("Job #{id} ({mode}) queued{saved}"),
    ))
}

/// The key of a saved configuration's inputs that says whether it ran with a secret (then
/// "Run again" pre-fills the form for the secret to be typed; else it can run at once).
const NEEDS_SECRET: &str = "needs_secret";

fn needs_secret(c: &SavedConfig) -> bool {
    c.inputs[NEEDS_SECRET].as_bool().unwrap_or(true)
}

/// The run a saved configuration describes (without its secrets).
fn saved_run(c: &SavedConfig) -> Result<Run, ApiError> {
    let mut inputs = c.inputs.clone();
    if let Some(o) = inputs.as_object_mut() {
        o.remove(NEEDS_SECRET);
    }
    let bad = |e: serde_json::Error| {
        ApiError::bad_request(format!("saved configuration {:?}: {e}", c.name))
    };
    Ok(match c.connector.as_str() {
        "vcenter" => Run::Vcenter(serde_json::from_value(inputs).map_err(bad)?),
        _ => Run::Prometheus(serde_json::from_value(inputs).map_err(bad)?),
    })
}

/// The saved configuration `id` (a path segment or query value), or 404.
async fn saved_config(cx: &Ctx<'_>, id: &str) -> Result<SavedConfig, ApiError> {
    let missing = || ApiError::not_found("no such saved configuration");
    let id: i64 = id.parse().map_err(|_| missing())?;
    cx.state
        .jobs
        .with_store(move |s| s.config(id))
        .await?
        .ok_or_else(missing)
}

/// Runs a saved configuration that needs no secret, as it is.
async fn run_config(cx: &Ctx<'_>, id: &str, f: &Form) -> UiAnswer {
    cx.require_write()?;
    let c = saved_config(cx, id).await?;
    if needs_secret(&c) {
        return Err(ApiError::bad_request(
            "this configuration needs its credentials: use Run again and type them",
        ));
    }
    queue(cx, f, saved_run(&c)?).await
}

async fn delete_config(cx: &Ctx<'_>, id: &str) -> UiAnswer {
    cx.require_write()?;
    let id: i64 = id
        .parse()
        .map_err(|_| ApiError::not_found("no such saved configuration"))?;
    if !cx
        .state
        .jobs
        .with_store(move |s| s.delete_config(id))
        .await?
    {
        return Err(ApiError::not_found("no such saved configuration"));
    }
    Ok(cx.redirect(
        "/ui/connectors#saved",
        FlashKind::Success,
        "Saved configuration deleted",
    ))
}

async fn job_page(cx: &Ctx<'_>, id: &str) -> UiAnswer {
    let id: i64 = id.parse().map_err(|_| ApiError::not_found("no such job"))?;
    let j = cx
        .state
        .jobs
        .with_store(move |s| s.job(id))
        .await?
        .ok_or_else(|| ApiError::not_found("no such job"))?;
    let inputs: Vec<(String, String)> = j
        .inputs
        .as_object()
        .map(|o| {
            o.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), input_text(v)))
                .collect()
        })
        .unwrap_or_default();
    let body = html! {
        @if j.state.is_unfinished() {
            // Reloads the page every 2 s while the job runs (CSP-safe, works without JS).
            meta http-equiv="refresh" content="2";
        }
        p { a href="/ui/connectors#jobs" { "← Connectors" } }
        h1 { "Job #" (j.id) ": " (j.connector) " " (j.mode) " " (state_badge(j.state)) }
        dl.job-facts {
            dt { "Run by" } dd { (j.username) }
            dt { "Queued" } dd { (when(Some(j.created_at))) " UTC" }
            dt { "Started" } dd { (when(j.started_at)) }
            dt { "Finished" } dd { (when(j.finished_at)) }
            @if let Some(s) = &j.summary { dt { "Summary" } dd.job-summary { (s) } }
            @if let Some(e) = &j.error { dt { "Error" } dd.error-text.job-error role="alert" { (e) } }
            @for (k, v) in &inputs { dt { (k) } dd { span.mono { (v) } } }
        }
        h2 { "Log" }
        pre.job-log aria-live="polite" { (j.log) }
        @if let Some(plan) = &j.plan { (plan_view(plan)) }
    };
    Ok(cx.page(&format!("Job #{}", j.id), body))
}

/// An input as read: text as is, a list comma separated, anything else as JSON.
fn input_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(input_text).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

/// The stored plan (the import engine's JSON): counts, then each record.
fn plan_view(plan: &Value) -> Markup {
    let kinds = [
        ("vendors", "Vendors"),
        ("projects", "Projects"),
        ("tags", "Tags"),
        ("ip_ranges", "IP ranges"),
        ("hosts", "Hosts"),
        ("ip_assets", "IP assets"),
        ("total", "Total"),
    ];
    let items = plan["items"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    let n = |v: &Value| v.as_u64().unwrap_or(0);
    html! {
        h2 { "Plan" }
        div.table-wrap { table.import-summary {
            thead { tr { th scope="col" { "Records" } th.num scope="col" { "Create" } th.num scope="col" { "Update" } th.num scope="col" { "Skip" } } }
            tbody {
                @for (key, label) in kinds {
                    @let c = &plan["summary"][key];
                    @if key == "total" || n(&c["create"]) + n(&c["update"]) + n(&c["skip"]) > 0 {
                        tr { th scope="row" { (label) } td.num { (n(&c["create"])) } td.num { (n(&c["update"])) } td.num { (n(&c["skip"])) } }
                    }
                }
            }
        } }
        @if items.is_empty() {
            p.muted { "The plan holds no records." }
        } @else {
            div.table-wrap { table.responsive.import-plan {
                thead { tr { th scope="col" { "Kind" } th scope="col" { "Key" } th scope="col" { "Action" } th scope="col" { "Changes" } } }
                tbody {
                    @for item in items {
                        @let action = item["action"].as_str().unwrap_or("").to_uppercase();
                        tr {
                            td data-label="Kind" { (item["entity"].as_str().unwrap_or("").replace('_', " ")) }
                            td data-label="Key" { span.mono { (item["key"].as_str().unwrap_or("")) } }
                            td data-label="Action" { span class={"action-" (action)} { (action) } }
                            td data-label="Changes" {
                                @for c in item["changes"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
                                    div { (c["field"].as_str().unwrap_or("")) ": " (c["before"].as_str().unwrap_or("–")) " → " (c["after"].as_str().unwrap_or("–")) }
                                }
                            }
                        }
                    }
                }
            } }
            @if let Some(more) = plan["items_left_out"].as_u64() {
                p.muted { "… and " (more) " more records not kept (the counts above cover them all)." }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::when;

    #[test]
    fn times_read_as_utc_dates() {
        assert_eq!(when(Some(0)), "1970-01-01 00:00:00");
        assert_eq!(when(Some(1_709_210_096_000)), "2024-02-29 12:34:56");
        assert_eq!(when(None), "–");
    }
}
