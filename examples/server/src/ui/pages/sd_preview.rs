//! `GET /ui/sd-preview`: what Prometheus will receive from a service-discovery endpoint for
//! the parameters of the form (a GET form: the URL is shareable), byte for byte, with the
//! counts, duplicate and port-less targets flagged, and the live state of each target
//! (`handlers::previews::build_sd_preview`, as `GET /api/v1/sd/preview`).

use hyper::StatusCode;
use ipocket_connectors::liveness::{ago, unix_now, LiveState};
use ipocket_connectors::sd_preview::SdPreview;
use maud::{html, Markup};

use crate::handlers::previews::{build_sd_preview, endpoint_param};
use crate::handlers::system::SdEndpoint;
use crate::ui::form::Form;
use crate::ui::page::{Ctx, UiAnswer};
use crate::ui::session::percent_encode;
use crate::ui::widgets::{select_field, text_field, FieldErrors};

pub(crate) async fn route(
    cx: &Ctx<'_>,
    rest: &[&str],
    form: Option<&Form>,
) -> Option<(&'static str, UiAnswer)> {
    match (rest, form) {
        (["sd-preview"], None) => Some(("/ui/sd-preview", page(cx).await)),
        _ => None,
    }
}

/// The parameters the SD endpoints read (the form's fields).
const PARAMS: [&str; 8] = [
    "port",
    "group_by",
    "project",
    "type",
    "tag",
    "only_assigned",
    "meta",
    "metrics_path",
];

/// Every field of the form.
const FIELDS: [&str; 9] = [
    "endpoint",
    "port",
    "group_by",
    "project",
    "type",
    "tag",
    "only_assigned",
    "meta",
    "metrics_path",
];

/// The state colours of this page only (kept out of the shared style sheet).
const STYLE: &str = ".badge.live-up { background: #dcfce7; color: #14532d; }
.badge.live-down { background: #fee2e2; color: #7f1d1d; }
.badge.live-not_scraped { background: #fef3c7; color: #78350f; }
.badge.live-unknown { background: #e2e8f0; color: #475569; }
.badge.flag { background: #fde68a; color: #78350f; font-weight: 600; }
pre.sd-json { background: #0f172a; color: #e2e8f0; padding: 10px 12px; border-radius: var(--radius); max-height: 360px; overflow: auto; white-space: pre-wrap; overflow-wrap: anywhere; }
.card.warn { border-color: #fcd34d; }";

async fn page(cx: &Ctx<'_>) -> UiAnswer {
    let get = |k: &str| cx.req.param(k).unwrap_or("").trim().to_string();
    let pairs: Vec<(String, String)> = cx
        .req
        .query
        .iter()
        .filter(|(k, v)| PARAMS.contains(&k.as_str()) && !v.trim().is_empty())
        .map(|(k, v)| (k.clone(), v.trim().to_string()))
        .collect();
    let mut errors = FieldErrors::default();
    let endpoint = match endpoint_param(cx.req.param("endpoint")) {
        Ok(e) => Some(e),
        Err(e) => {
            errors.add("endpoint", e.message);
            None
        }
    };
    let preview = match endpoint {
        Some(e) => match build_sd_preview(cx.state, e, pairs.clone()).await {
            Ok(p) => Some(p),
            Err(err) if err.status.is_client_error() => {
                errors = FieldErrors::from_api(&err);
                None
            }
            Err(err) => return Err(err),
        },
        None => None,
    };
    let endpoint = endpoint.unwrap_or(SdEndpoint::HttpSd);
    let query: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
        .collect();
    let endpoint_url = if query.is_empty() {
        endpoint.path().to_string()
    } else {
        format!("{}?{}", endpoint.path(), query.join("&"))
    };
    let opt = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(v, l)| (v.to_string(), l.to_string()))
            .collect()
    };
    let body = html! {
        h1 { "SD preview" }
        p.muted {
            "What Prometheus receives from a service-discovery endpoint for these parameters, byte for byte, "
            "with duplicate and port-less targets flagged and what Prometheus sees of each target now."
        }
        form.panel #sd-preview-form method="get" action="/ui/sd-preview" {
            (errors.general(&FIELDS))
            div.filter-grid {
                (select_field("endpoint", "Endpoint", &opt(&[("/api/v1/sd", "/api/v1/sd (http_sd)"), ("/sd/node", "/sd/node (original)")]), endpoint.path(), &errors))
                (text_field("port", "Port", &get("port"), &errors, false))
                (select_field("group_by", "Group by", &opt(&[("", "none"), ("project", "project"), ("project_type", "project and type"), ("asset", "asset")]), &get("group_by"), &errors))
                (text_field("project", "Projects (comma-separated)", &get("project"), &errors, false))
                (text_field("type", "Types (OS, BMC, VM, VIP, OTHER)", &get("type"), &errors, false))
                (text_field("tag", "Tags", &get("tag"), &errors, false))
                (text_field("metrics_path", "__metrics_path__", &get("metrics_path"), &errors, false))
                (select_field("meta", "__meta_ipocket_* labels", &opt(&[("", "endpoint default"), ("1", "on"), ("0", "off")]), &get("meta"), &errors))
                div.field.checks {
                    label.inline { input type="checkbox" name="only_assigned" value="1" checked[!get("only_assigned").is_empty()]; "Only assets with a project" }
                }
            }
            button type="submit" { "Preview" }
        }
        @if let Some(p) = &preview {
            (result(p, &endpoint_url))
        }
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok(cx.page_with(status, "SD preview", STYLE, body))
}

fn state_badge(s: LiveState) -> Markup {
    let text = match s {
        LiveState::NotScraped => "not scraped",
        other => other.as_str(),
    };
    html! { span class={"badge live-" (s.as_str())} { (text) } }
}

fn result(p: &SdPreview, endpoint_url: &str) -> Markup {
    let now = p.prometheus.fetched_at;
    html! {
        section.cards #sd-counts aria-label="Counts" {
            div.card { div.label { "Target groups" } div.value #count-groups { (p.group_count) } }
            div.card { div.label { "Targets" } div.value #count-targets { (p.target_count) } }
            div.card.warn[p.duplicates > 0] { div.label { "Duplicate targets" } div.value #count-duplicates { (p.duplicates) } }
            div.card.warn[p.port_less > 0] { div.label { "Port-less targets" } div.value #count-port-less { (p.port_less) } }
            div.card {
                div.label { "Up · down · not scraped · unknown" }
                div.value.small-value #count-states { (p.states.up) " · " (p.states.down) " · " (p.states.not_scraped) " · " (p.states.unknown) }
            }
        }
        @match &p.prometheus.error {
            Some(e) => p.flash.flash-warning #prometheus-state role="status" { "States unknown: " (e) }
            None => p.muted #prometheus-state { "States from Prometheus, asked " (ago(unix_now(), now)) "." }
        }
        div.table-wrap {
            table.data #sd-targets {
                thead { tr { th scope="col" { "Target" } th scope="col" { "Group" } th scope="col" { "State" } th scope="col" { "Flags" } th scope="col" { "Seen as" } th scope="col" { "Last seen up" } } }
                tbody {
                    @for t in &p.targets {
                        tr data-target=(t.target) {
                            td.mono { (t.target) }
                            td.num { (t.group) }
                            td { (state_badge(t.state))
                                @if t.matched == Some("address") { " " span.muted title="no series of this exact target; the state is its address's under other instances" { "(address)" } } }
                            td {
                                @if t.duplicate { span.badge.flag title="listed more than once: Prometheus scrapes it once per label set" { "duplicate" } " " }
                                @if t.port_less { span.badge.flag title="no port: Prometheus 2 adds 80 or 443" { "no port" } }
                            }
                            td { (t.jobs.join(", ")) @if !t.instances.is_empty() { " " span.muted.mono { "(" (t.instances.join(", ")) ")" } } }
                            td { (t.last_seen_up.map_or("-".to_string(), |s| ago(now, s))) }
                        }
                    }
                    @if p.targets.is_empty() { tr { td colspan="6" .muted { "No target: the endpoint serves [] (Prometheus drops this source's targets)." } } }
                }
            }
        }
        h2 { "The JSON Prometheus receives" }
        p { "From " a #endpoint-link href=(endpoint_url) { code { (endpoint_url) } } " (" (p.json.len()) " bytes):" }
        pre.sd-json #sd-json { (p.json) }
    }
}
