//! `/ui/servers`: the servers (agents) registered for metric pushes, with last seen and
//! health, and registering one (Editor); `/ui/servers/{id}`: the node summary of the last two
//! node_exporter scrapes stored, charts of CPU, memory, disk and network over the last hour, day or week from
//! `metric_samples` (downsampled by `ipocket_connectors::node_series`), and the agent's
//! configuration to run on that machine.

use hyper::StatusCode;
use ipocket_connectors::node_series::{NodeMetric, Point};
use ipocket_connectors::{NodeSummary, RegisteredServer, SampleStore};
use maud::{html, Markup};

use crate::errors::ApiError;
use crate::ui::chart::{self, Chart, Line, Unit};
use crate::ui::form::Form;
use crate::ui::page::{Ctx, UiAnswer};
use crate::ui::session::FlashKind;
use crate::ui::widgets::{query_with, text_field, FieldErrors};

/// A server is stale when its last push is older than this many push intervals.
const STALE_AFTER_INTERVALS: i64 = 3;
/// The push interval assumed unless `?interval=SECONDS` says otherwise (the agent's default).
const DEFAULT_INTERVAL_S: i64 = 15;
/// Points per chart at most: one per ~2 px of the plot.
const MAX_POINTS: usize = 300;

pub(crate) async fn route(
    cx: &Ctx<'_>,
    rest: &[&str],
    form: Option<&Form>,
) -> Option<(&'static str, UiAnswer)> {
    let found = match (rest, form) {
        (["servers"], None) => ("/ui/servers", list(cx, &FieldErrors::default(), None).await),
        (["servers"], Some(f)) => ("/ui/servers", register(cx, f).await),
        (["servers", id], None) => ("/ui/servers/{id}", detail(cx, id).await),
        _ => return None,
    };
    Some(found)
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn store_failed(e: impl std::fmt::Display) -> ApiError {
    tracing::error!("reading the samples store failed: {e}");
    ApiError::internal()
}

async fn registered(cx: &Ctx<'_>) -> Result<Vec<RegisteredServer>, ApiError> {
    cx.state
        .with_samples(|s| s.registered_servers().map_err(store_failed))
        .await
}

/// The push interval in seconds, from `?interval=` (1 s – 1 day).
fn interval_s(cx: &Ctx<'_>) -> Result<i64, ApiError> {
    match cx.req.param("interval").filter(|s| !s.is_empty()) {
        None => Ok(DEFAULT_INTERVAL_S),
        Some(v) => v
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=86_400).contains(n))
            .ok_or_else(|| {
                ApiError::bad_request(format!(
                    "interval: expected seconds between 1 and 86400, found {v:?}"
                ))
            }),
    }
}

/// "42 s ago", "5 min ago", "3 h ago", "2 d ago".
fn ago(ms: i64) -> String {
    let s = (ms / 1000).max(0);
    match s {
        0..=119 => format!("{s} s ago"),
        120..=7_199 => format!("{} min ago", s / 60),
        7_200..=172_799 => format!("{} h ago", s / 3600),
        _ => format!("{} d ago", s / 86_400),
    }
}

fn health(last_seen: Option<i64>, now: i64, interval_s: i64) -> Markup {
    match last_seen {
        None => html! { span.badge.health-never { "never" } },
        Some(t) if now - t > STALE_AFTER_INTERVALS * interval_s * 1000 => {
            html! { span.badge.health-stale { "stale" } }
        }
        Some(_) => html! { span.badge.health-ok { "healthy" } },
    }
}

fn last_seen(last: Option<i64>, now: i64) -> Markup {
    match last {
        None => html! { span.muted { "never" } },
        Some(t) => html! { (ago(now - t)) br; span.mono.muted { (chart::utc_text(t)) } },
    }
}

/// The list and (for Editors) the register form; `entered` keeps what a failed register sent.
async fn list(
    cx: &Ctx<'_>,
    errors: &FieldErrors,
    entered: Option<(&Form, StatusCode)>,
) -> UiAnswer {
    let interval = interval_s(cx)?;
    let servers = registered(cx).await?;
    let now = now_ms();
    let value = |k: &str| {
        entered
            .and_then(|(f, _)| f.get(k))
            .unwrap_or("")
            .to_string()
    };
    let body = html! {
        h1 { "Servers" }
        p.muted {
            "Servers whose agent pushes node_exporter metrics. Stale (red) after "
            (STALE_AFTER_INTERVALS) " push intervals of " (interval) " s without a push; "
            a href="/ui/servers?interval=60" { "assume 60 s" } " · "
            a href="/ui/servers" { "15 s" } "."
        }
        div.grid-2 {
            section {
                h2 { "Registered servers" }
                @if servers.is_empty() {
                    p.muted { "No server registered yet." }
                } @else {
                    div.table-wrap { table.responsive.servers {
                        thead { tr {
                            th scope="col" { "Name" } th scope="col" { "Server id" }
                            th scope="col" { "Last seen" } th scope="col" { "Health" }
                        } }
                        tbody {
                            @for s in &servers {
                                tr {
                                    td data-label="Name" { a href={"/ui/servers/" (s.server_id)} { (s.name.as_deref().unwrap_or(&s.server_id)) } }
                                    td data-label="Server id" { span.mono { (s.server_id) } }
                                    td data-label="Last seen" { (last_seen(s.last_seen_at_ms, now)) }
                                    td data-label="Health" { (health(s.last_seen_at_ms, now, interval)) }
                                }
                            }
                        }
                    } }
                }
            }
            @if cx.session.can_write() {
                section {
                    h2 { "Register a server" }
                    (errors.general(&["server_id", "name"]))
                    form.panel method="post" action="/ui/servers" {
                        (cx.csrf_field())
                        (text_field("server_id", "Server id (letters, digits, hyphens; e.g. a UUID)", &value("server_id"), errors, true))
                        (text_field("name", "Name (optional)", &value("name"), errors, false))
                        button type="submit" { "Register" }
                    }
                }
            }
        }
    };
    let status = entered.map_or(StatusCode::OK, |(_, s)| s);
    Ok(cx.page_with(status, "Servers", "", body))
}

async fn register(cx: &Ctx<'_>, f: &Form) -> UiAnswer {
    cx.require_write()?;
    let id = f.get("server_id").unwrap_or("").trim().to_string();
    let name = f.text("name");
    if !SampleStore::valid_server_id(&id) {
        let mut e = FieldErrors::default();
        e.add(
            "server_id",
            "Expected 1–64 letters, digits and inner hyphens (e.g. a UUID).",
        );
        return list(cx, &e, Some((f, StatusCode::UNPROCESSABLE_ENTITY))).await;
    }
    let sid = id.clone();
    let actor = cx.session.actor().audit_actor();
    cx.state
        .with_samples(move |s| {
            s.register_server_as(&sid, name.as_deref(), &actor)
                .map_err(store_failed)
        })
        .await?;
    Ok(cx.redirect(
        &format!("/ui/servers/{id}"),
        FlashKind::Success,
        format!("Server {id} registered: run the agent below on it."),
    ))
}

/// The chart window: `?range=1h|1d|1w`.
fn range_ms(cx: &Ctx<'_>) -> Result<(&'static str, i64), ApiError> {
    const H: i64 = 3_600_000;
    match cx.req.param("range").unwrap_or("1h") {
        "1h" => Ok(("1h", H)),
        "1d" => Ok(("1d", 24 * H)),
        "1w" => Ok(("1w", 7 * 24 * H)),
        other => Err(ApiError::bad_request(format!(
            "range: expected 1h, 1d or 1w, found {other:?}"
        ))),
    }
}

const SERIES: [NodeMetric; 5] = [
    NodeMetric::CpuPercent,
    NodeMetric::MemoryUsedBytes,
    NodeMetric::DiskUsedBytes,
    NodeMetric::NetworkReceiveBytesPerSec,
    NodeMetric::NetworkTransmitBytesPerSec,
];

async fn detail(cx: &Ctx<'_>, id: &str) -> UiAnswer {
    let (range, span) = range_ms(cx)?;
    let interval = interval_s(cx)?;
    let server = registered(cx)
        .await?
        .into_iter()
        .find(|s| s.server_id == id)
        .ok_or_else(|| ApiError::not_found(format!("no registered server {id:?}")))?;
    let now = now_ms();
    let from = now - span;
    let sid = server.server_id.clone();
    let (series, summary): (Vec<Vec<Point>>, Option<NodeSummary>) = cx
        .state
        .with_samples(move |s| {
            let series = SERIES
                .iter()
                .map(|m| s.node_series(&sid, *m, from, now, MAX_POINTS))
                .collect::<Result<_, _>>()
                .map_err(store_failed)?;
            let summary = s.node_summary(&sid).map_err(store_failed)?;
            Ok((series, summary.map(|(_, summary)| summary)))
        })
        .await?;
    let chart = |cid: &'static str, title: &'static str, unit: Unit, lines: Vec<Line<'_>>| {
        Chart {
            id: cid,
            title,
            unit,
            from_ms: from,
            to_ms: now,
            lines,
        }
        .render()
    };
    let one = |i: usize, label: &'static str| Line {
        label,
        class: "s1",
        points: &series[i],
    };
    let title = server
        .name
        .clone()
        .unwrap_or_else(|| server.server_id.clone());
    let body = html! {
        p { a href="/ui/servers" { "← Servers" } }
        h1 { (title) " " (health(server.last_seen_at_ms, now, interval)) }
        p.muted {
            "Server id " span.mono { (server.server_id) } " · last seen "
            (last_seen(server.last_seen_at_ms, now))
        }
        h2 { "Summary" }
        (summary_cards(summary.as_ref()))
        h2 #charts { "Over time" }
        nav.range-links aria-label="Chart range" {
            @for (r, label) in [("1h", "Last hour"), ("1d", "Last day"), ("1w", "Last week")] {
                a href={"/ui/servers/" (server.server_id) (query_with(cx.req, &[("range", Some(r))])) "#charts"}
                    aria-current=[(r == range).then_some("page")] { (label) }
                " "
            }
        }
        div.charts {
            (chart("chart-cpu", "CPU usage", Unit::Percent, vec![one(0, "CPU")]))
            (chart("chart-memory", "Memory used", Unit::Bytes, vec![one(1, "memory")]))
            (chart("chart-disk", "Disk used (/)", Unit::Bytes, vec![one(2, "disk")]))
            (chart("chart-network", "Network throughput", Unit::BytesPerSec, vec![
                Line { label: "received", class: "s1", points: &series[3] },
                Line { label: "transmitted", class: "s2", points: &series[4] },
            ]))
        }
        (agent_setup(cx, &server.server_id))
    };
    Ok(cx.page_with(StatusCode::OK, &title, "", body))
}

fn summary_cards(summary: Option<&NodeSummary>) -> Markup {
    const MIB: f64 = 1024.0 * 1024.0;
    const GIB: f64 = MIB * 1024.0;
    let Some(s) = summary else {
        return html! {
            p.muted #summary { "No node_exporter samples stored yet: the summary needs one scrape, its rates (CPU, network) two." }
        };
    };
    let or_dash = |v: Option<String>| v.unwrap_or_else(|| "–".to_string());
    let used_of = |used: Option<f64>, total: Option<f64>, unit: f64| match (used, total) {
        (Some(u), Some(t)) => Some(format!(
            "{} / {}",
            chart::format_bytes(u * unit, Unit::Bytes),
            chart::format_bytes(t * unit, Unit::Bytes)
        )),
        _ => None,
    };
    let rx: f64 = s.network.iter().map(|n| n.rx_bytes_per_sec).sum();
    let tx: f64 = s.network.iter().map(|n| n.tx_bytes_per_sec).sum();
    let net = (!s.network.is_empty()).then(|| {
        format!(
            "↓ {} ↑ {}",
            chart::format_bytes(rx, Unit::BytesPerSec),
            chart::format_bytes(tx, Unit::BytesPerSec)
        )
    });
    let uptime = s.uptime_seconds.map(|u| {
        let u = u as i64;
        format!(
            "{} d {} h {} min",
            u / 86_400,
            u % 86_400 / 3600,
            u % 3600 / 60
        )
    });
    let cards = [
        (
            "CPU",
            s.cpu_usage_percent.map(|v| format!("{v:.1} %")),
            "needs two pushes",
        ),
        (
            "Memory used",
            used_of(s.memory_used_mb, s.memory_total_mb, MIB),
            "",
        ),
        (
            "Disk used (/)",
            used_of(s.disk_used_gb, s.disk_total_gb, GIB),
            "",
        ),
        ("Network", net, "needs two pushes"),
        ("Uptime", uptime, ""),
    ];
    html! {
        div.cards #summary {
            @for (label, value, missing) in cards {
                div.card {
                    div.label { (label) }
                    div.value.small-value { (or_dash(value.clone())) }
                    @if value.is_none() && !missing.is_empty() { div.label { (missing) } }
                }
            }
        }
    }
}

/// The agent configuration for this server and the command that runs it.
fn agent_setup(cx: &Ctx<'_>, server_id: &str) -> Markup {
    let host = cx.req.header("host").unwrap_or("IPOCKET_HOST:8080");
    let yaml = format!(
        "scrapers:\n  prometheus:\n    endpoints:\n      - url: \"http://127.0.0.1:9100/metrics\"\n        name: node_exporter\n        interval: 15s\nserver:\n  endpoint: \"http://{host}/metrics/prometheus\"\n  timeout: 10s\nagent:\n  server_id: \"{server_id}\"\nbuffer:\n  path: /var/lib/ipocket-agent/buffer\n  retention_hours: 48\n  max_size_mb: 100\n"
    );
    html! {
        section.agent-setup #agent {
            h2 { "Run the agent on this server" }
            p { "Save this as " code { "/etc/ipocket/agent.yml" } " on the machine (node_exporter on port 9100), then run:" }
            pre.mono { code { "ipocket agent --check --config /etc/ipocket/agent.yml\nipocket agent --config /etc/ipocket/agent.yml" } }
            pre.mono.agent-config { code { (yaml) } }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_is_never_then_healthy_then_stale_after_three_intervals() {
        let now = 1_000_000;
        let h = |last| health(last, now, 15).into_string();
        assert!(h(None).contains("never"));
        assert!(h(Some(now - 45_000)).contains("healthy"));
        assert!(h(Some(now - 45_001)).contains("health-stale"));
    }

    #[test]
    fn ago_picks_a_readable_unit() {
        assert_eq!(ago(5_000), "5 s ago");
        assert_eq!(ago(600_000), "10 min ago");
        assert_eq!(ago(3 * 3_600_000), "3 h ago");
        assert_eq!(ago(3 * 86_400_000), "3 d ago");
    }
}
