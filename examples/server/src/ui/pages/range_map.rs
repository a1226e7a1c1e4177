//! `/ui/ranges/{id}/map`: one coloured cell per address (unused, documented and up,
//! documented and down, undocumented but alive; "documented" when liveness is off or
//! Prometheus unreachable), 256 a page, each linking to its asset or to "document it"; and
//! `/ui/ranges/alive.json`, the alive utilizations the range pages load with a script so that
//! Prometheus never delays them (docs/liveness.md, "Range map").

use hyper::StatusCode;
use ipocket_connectors::liveness::{ago, LiveState};
use ipocket_connectors::range_map::{CellState, MapCell, Paging, RangeMap};
use maud::{html, Markup};
use serde_json::json;

use super::catalog::path_id;
use crate::handlers::range_map::{map_page, utilizations};
use crate::http::json_response;
use crate::ui::page::{Ctx, UiAnswer};
use crate::ui::session::percent_encode;
use crate::ui::widgets::query_with;

/// What a state is called in the legend and the cells' titles.
fn label(s: CellState) -> &'static str {
    match s {
        CellState::Unused => "Unused",
        CellState::Up => "Documented, up",
        CellState::Down => "Documented, down or not scraped",
        CellState::Alive => "Undocumented but alive",
        CellState::Documented => "Documented (liveness unknown)",
    }
}

/// `GET /ui/ranges/{id}/map?page=N`.
pub(crate) async fn page(cx: &Ctx<'_>, id: &str) -> UiAnswer {
    let rid = path_id(id)?;
    let page = cx.req.number("page", 1)?;
    let (range, map) = map_page(cx.state, rid, page).await?;
    let writer = cx.session.can_write();
    let title = format!("Map of {} ({})", range.name, range.cidr);
    let shown: Vec<CellState> = CellState::ALL
        .into_iter()
        .filter(|s| match s {
            // "documented" only stands in for up/down when nothing is known.
            CellState::Documented => {
                map.prometheus.as_ref().is_none_or(|p| !p.reachable) || map.counts.documented > 0
            }
            CellState::Up | CellState::Down | CellState::Alive => {
                map.prometheus.as_ref().is_some_and(|p| p.reachable)
            }
            CellState::Unused => true,
        })
        .collect();
    let body = html! {
        p {
            a href="/ui/ranges" { "‹ Ranges" } " · "
            a href={"/ui/ranges/" (range.id) "/addresses"} { "Addresses of " (range.name) }
        }
        h1 { (title) }
        (liveness_notice(&map))
        ul.map-legend aria-label="Legend" {
            @for s in &shown {
                li { span class={"map-swatch state-" (s.as_str())} {} " " (label(*s)) " " span.muted { "(" (map.counts.of(*s)) ")" } }
            }
        }
        @if map.paging == Paging::KnownAddresses {
            p.muted.hint { "An IPv6 range this large is shown by its known addresses (documented, or up in Prometheus), in order, 256 a page." }
        }
        (map_pager(cx, &range.id, &map))
        @if map.cells.is_empty() {
            p.muted { "No known address in this range yet." }
        } @else {
            ol.range-map aria-label={"Addresses " (map.cells[0].ip) " to " (map.cells[map.cells.len() - 1].ip)} {
                @for c in &map.cells { (cell(c, writer, map.prometheus.as_ref().map(|p| p.fetched_at))) }
            }
        }
        (map_pager(cx, &range.id, &map))
    };
    Ok(cx.page_with(StatusCode::OK, &title, "", body))
}

fn liveness_notice(map: &RangeMap) -> Markup {
    html! {
        @match &map.prometheus {
            None => {
                p.notice #liveness-status { "Liveness is off (start the server with --liveness-prometheus-url): only unused and documented addresses are shown." }
            }
            Some(st) if !st.reachable => {
                p.notice.error-text #liveness-status role="status" {
                    "Liveness unknown: " (st.error.as_deref().unwrap_or("Prometheus unreachable")) ". Documented addresses are shown without their state."
                }
            }
            Some(_) => {}
        }
    }
}

fn cell(c: &MapCell, writer: bool, now: Option<f64>) -> Markup {
    let last_octet = c.ip.rsplit(['.', ':']).next().unwrap_or(&c.ip);
    let mut title = format!("{} — {}", c.ip, label(c.state).to_lowercase());
    if c.live == Some(LiveState::NotScraped) && c.state == CellState::Down {
        title.push_str(" (not scraped)");
    }
    if let Some(a) = &c.asset {
        title.push_str(&format!(
            "; {}, project {}",
            a.asset_type,
            a.project_name.as_deref().unwrap_or("unassigned")
        ));
        if let Some(h) = &a.host_name {
            title.push_str(&format!(", host {h}"));
        }
    }
    if !c.jobs.is_empty() {
        title.push_str(&format!("; jobs {}", c.jobs.join(", ")));
    }
    if let (Some(t), Some(now)) = (c.last_seen_up, now) {
        title.push_str(&format!("; last seen up {}", ago(now, t)));
    }
    if c.reserved {
        title.push_str(" (network or broadcast address)");
    }
    let ip = percent_encode(&c.ip);
    let class = format!(
        "map-cell state-{}{}",
        c.state.as_str(),
        if c.reserved { " reserved" } else { "" }
    );
    html! {
        li class=(class) data-ip=(c.ip) data-state=(c.state.as_str()) {
            @if c.asset.is_some() {
                a href={"/ui/ip-assets/" (ip)} title=(title) aria-label=(title) { (last_octet) }
            } @else if writer && !c.reserved {
                @let doc = format!("{title}; document it");
                a href={"/ui/ip-assets/new?ip_address=" (ip)} title=(doc) aria-label=(doc) { (last_octet) }
            } @else {
                span title=(title) aria-label=(title) { (last_octet) }
            }
        }
    }
}

fn map_pager(cx: &Ctx<'_>, range_id: &i64, map: &RangeMap) -> Markup {
    let path = format!("/ui/ranges/{range_id}/map");
    let link = |p: u64| {
        let page = p.to_string();
        format!(
            "{path}{}",
            query_with(cx.req, &[("page", Some(page.as_str()))])
        )
    };
    let span = match (map.cells.first(), map.cells.last()) {
        (Some(a), Some(b)) => format!("{} – {}", a.ip, b.ip),
        _ => String::new(),
    };
    html! {
        @if map.pages > 1 {
            nav.pager.map-pager aria-label="Map pages" {
                @if map.page > 1 { a href=(link(1)) rel="first" { "« First" } " " a href=(link(map.page - 1)) rel="prev" { "‹ Previous" } " " }
                span { "Page " (map.page) " of " (map.pages) ": " span.mono { (span) } }
                @if map.page < map.pages { " " a href=(link(map.page + 1)) rel="next" { "Next ›" } " " a href=(link(map.pages)) rel="last" { "Last »" } }
                form.inline method="get" action=(path) {
                    label for="map-page" { "Go to page" }
                    " " input #map-page type="number" name="page" min="1" max=(map.pages) value=(map.page);
                    " " button type="submit" { "Go" }
                }
            }
        }
    }
}

/// `GET /ui/ranges/alive.json`: the alive utilization of every range (the page's session;
/// waits for Prometheus at most --liveness-timeout-secs, the script at most a few seconds).
pub(crate) async fn alive_json(cx: &Ctx<'_>) -> UiAnswer {
    let ranges = cx
        .state
        .read_inventory(|inv| inv.all_range_utilization())
        .await?;
    let (prometheus, list) = utilizations(cx.state, ranges).await?;
    let ranges: Vec<_> = list
        .iter()
        .map(|u| json!({"id": u.documented.range.id, "alive": u.alive}))
        .collect();
    Ok(json_response(
        StatusCode::OK,
        &json!({"prometheus": prometheus, "ranges": ranges}),
    ))
}

/// The "Alive" figure of a range, filled in by app.js from `/ui/ranges/alive.json`
/// (`—` when liveness is off).
pub(crate) fn alive_cell(cx: &Ctx<'_>, range_id: i64) -> Markup {
    html! {
        @if cx.state.liveness.is_some() {
            span.alive-figure data-alive-range=(range_id) { span.muted { "loading…" } }
        } @else {
            span.muted title="Liveness is off" { "—" }
        }
    }
}
