//! `/ui/reconcile` (issue #21): the Unknown, Reclaimable and Mismatch lists of
//! `ipocket_connectors::reconcile`, from the cached liveness answer (the page waits at most
//! `--liveness-timeout-secs`; Prometheus unreachable gives a notice and empty lists, never an
//! error page). `GET /ui/reconcile/dry-run?list=unknown|reclaimable|mismatch` shows the import
//! engine's plan of a list; its button posts `/ui/reconcile/apply`, which computes the list
//! again and applies it only when the plan is still the one shown (as Data Ops does).

use hyper::StatusCode;
use ipocket_connectors::liveness::{ago, unix_now};
use ipocket_connectors::reconcile::{reconcile, Reconciliation};
use ipocket_core::{Bundle, ImportOptions, ImportPlan};
use maud::{html, Markup};

use super::data_ops::{plan_digest, plan_view};
use super::ip_assets::asset_href;
use super::liveness::span_text;
use crate::errors::ApiError;
use crate::handlers::liveness::{all_assets, cache};
use crate::ui::form::Form;
use crate::ui::page::{Ctx, UiAnswer};
use crate::ui::session::FlashKind;

pub(crate) async fn route(
    cx: &Ctx<'_>,
    rest: &[&str],
    form: Option<&Form>,
) -> Option<(&'static str, UiAnswer)> {
    Some(match (rest, form) {
        (["reconcile"], None) => ("/ui/reconcile", page(cx).await),
        (["reconcile", "dry-run"], None) => ("/ui/reconcile/dry-run", dry_run(cx).await),
        (["reconcile", "apply"], Some(f)) => ("/ui/reconcile/apply", apply(cx, f).await),
        _ => return None,
    })
}

/// The lists, each applied through the import engine.
#[derive(Debug, Clone, Copy, PartialEq)]
enum List {
    Unknown,
    Reclaimable,
    Mismatch,
}

impl List {
    fn parse(s: Option<&str>) -> Result<List, ApiError> {
        match s.unwrap_or("") {
            "unknown" => Ok(List::Unknown),
            "reclaimable" => Ok(List::Reclaimable),
            "mismatch" => Ok(List::Mismatch),
            other => Err(ApiError::bad_request(format!(
                "list: expected unknown, reclaimable or mismatch, found {other:?}"
            ))),
        }
    }
    fn as_str(self) -> &'static str {
        match self {
            List::Unknown => "unknown",
            List::Reclaimable => "reclaimable",
            List::Mismatch => "mismatch",
        }
    }
    fn title(self) -> &'static str {
        match self {
            List::Unknown => "Unknown",
            List::Reclaimable => "Reclaimable",
            List::Mismatch => "Mismatch",
        }
    }
}

/// The lists from the cached answer (at most the timeout of waiting) and every asset.
async fn lists(cx: &Ctx<'_>) -> Result<(Reconciliation, f64), ApiError> {
    let snap = cache(cx.state)?.get().await;
    let assets = all_assets(cx.state).await?;
    let opts = cx.state.config.reconcile.clone();
    let fetched_at = snap.result.as_ref().map(|o| o.fetched_at).unwrap_or(0.0);
    let r = tokio::task::spawn_blocking(move || reconcile(&snap.result, &assets, &opts))
        .await
        .map_err(|_| ApiError::internal())?;
    Ok((r, fetched_at))
}

fn bundle_of(cx: &Ctx<'_>, r: &Reconciliation, list: List) -> Bundle {
    match list {
        List::Unknown => r.unknown_bundle(&cx.state.config.reconcile),
        List::Reclaimable => r.reclaimable_bundle(),
        List::Mismatch => r.mismatch_bundle(),
    }
}

/// "12 s ago", or "not in the last 30 d" (the liveness window).
fn when(now: f64, t: Option<f64>, window: &str) -> String {
    t.map_or_else(|| format!("not in the last {window}"), |t| ago(now, t))
}

/// The notice when Prometheus could not be asked: the lists stay empty on purpose.
fn unreachable_notice(r: &Reconciliation) -> Markup {
    html! {
        @if let Some(e) = &r.prometheus.error {
            div.flash.flash-warning.prometheus-unreachable role="alert" {
                strong { "Prometheus unreachable." } " " (e.trim_start_matches("Prometheus unreachable: ")) ". "
                "The lists stay empty until it answers: an outage never makes the inventory look reclaimable."
            }
        }
    }
}

async fn page(cx: &Ctx<'_>) -> UiAnswer {
    let (r, fetched_at) = lists(cx).await?;
    let now = unix_now();
    let opts = cache(cx.state)?.options();
    let (url, window) = (&opts.prometheus_url, span_text(opts.window.as_secs()));
    let known = r.prometheus.reachable;
    let down = span_text(r.down_after_seconds);
    let counts = [
        ("unknown", "Unknown", r.unknown.len()),
        ("reclaimable", "Reclaimable", r.reclaimable.len()),
        ("mismatch", "Mismatch", r.mismatch.len()),
    ];
    let body = html! {
        h1 { "Reconcile" }
        p {
            "What Prometheus sees, beside the inventory. "
            @if r.prometheus.reachable {
                span.muted.prometheus-answer { "Prometheus " span.mono { (url) } " answered " (ago(now, fetched_at)) "." }
            }
        }
        (unreachable_notice(&r))
        div.cards.reconcile-counts {
            @for (id, label, n) in counts {
                a.card href={"#" (id)} id={"count-" (id)} {
                    // Unknown while Prometheus is: not "0"
                    div.value { @if known { (n) } @else { "—" } }
                    div.label { (label) }
                }
            }
        }
        section #unknown {
            h2 { "Unknown " @if known { span.muted { "(" (r.unknown.len()) ")" } } }
            p.hint.muted { "Alive in Prometheus, not in the inventory. Applying creates them (an archived one is restored)." }
            @if r.unknown.is_empty() { (none(known)) } @else {
                div.table-wrap { table.responsive.reconcile-unknown {
                    thead { tr {
                        th scope="col" { "IP address" } th scope="col" { "Last seen up" }
                        th scope="col" { "Jobs" } th scope="col" { "Instances" } th scope="col" { "Inventory" }
                    } }
                    tbody { @for u in &r.unknown {
                        tr {
                            td.mono data-label="IP address" { (u.ip) }
                            td data-label="Last seen up" { (when(now, u.last_seen_up, &window)) }
                            td data-label="Jobs" { (u.jobs.join(", ")) }
                            td.mono data-label="Instances" { (u.instances.join(", ")) }
                            td data-label="Inventory" {
                                @if u.archived { a href=(asset_href(&u.ip)) { span.badge.archived { "archived" } } }
                                @else { a href={"/ui/ip-assets/new?ip_address=" (u.ip)} { "Document it" } }
                            }
                        }
                    } }
                } }
                (dry_run_link(List::Unknown, r.unknown.len()))
            }
        }
        section #reclaimable {
            h2 { "Reclaimable " @if known { span.muted { "(" (r.reclaimable.len()) ")" } } }
            p.hint.muted { "In the inventory, and scraped by no Prometheus target or down for more than " (down) ". Applying archives them." }
            @if r.reclaimable.is_empty() { (none(known)) } @else {
                div.table-wrap { table.responsive.reconcile-reclaimable {
                    thead { tr {
                        th scope="col" { "IP address" } th scope="col" { "State" } th scope="col" { "Last seen up" }
                        th scope="col" { "Jobs" } th scope="col" { "Type" } th scope="col" { "Project" } th scope="col" { "Host" }
                    } }
                    tbody { @for a in &r.reclaimable {
                        tr {
                            td.mono data-label="IP address" { a href=(asset_href(&a.ip)) { (a.ip) } }
                            td data-label="State" { span class={"badge live-state-" (a.state.as_str())} { (a.state.as_str().replace('_', " ")) } }
                            td data-label="Last seen up" { (when(now, a.last_seen_up, &window)) }
                            td data-label="Jobs" { (a.jobs.join(", ")) }
                            td data-label="Type" { (a.asset_type.as_str()) }
                            td data-label="Project" { (a.project.as_deref().unwrap_or("—")) }
                            td data-label="Host" { (a.host.as_deref().unwrap_or("—")) }
                        }
                    } }
                } }
                (dry_run_link(List::Reclaimable, r.reclaimable.len()))
            }
        }
        section #mismatch {
            h2 { "Mismatch " @if known { span.muted { "(" (r.mismatch.len()) ")" } } }
            p.hint.muted { "Prometheus's labels disagree with the inventory, or a target of a live address was never up (a wrong port, an exporter not installed). Applying gives the assets Prometheus's project, type and host where its targets agree (a missing project or host is created); never-up targets are fixed in the scrape configuration." }
            @if r.mismatch.is_empty() { (none(known)) } @else {
                div.table-wrap { table.responsive.reconcile-mismatch {
                    thead { tr {
                        th scope="col" { "IP address" } th scope="col" { "What" } th scope="col" { "Job" }
                        th scope="col" { "Instance" } th scope="col" { "Inventory" } th scope="col" { "Prometheus" }
                    } }
                    tbody { @for m in &r.mismatch {
                        tr {
                            td.mono data-label="IP address" { a href=(asset_href(&m.ip)) { (m.ip) } }
                            td data-label="What" { (m.kind.as_str().replace('_', " ")) }
                            td data-label="Job" { (m.job) }
                            td.mono data-label="Instance" { (m.instance) }
                            td data-label="Inventory" { @match &m.inventory { Some(v) => (v), None => span.muted { "none" } } }
                            td data-label="Prometheus" { @match &m.prometheus { Some(v) => (v), None => span.muted { "none" } } }
                        }
                    } }
                } }
                (dry_run_link(List::Mismatch, r.mismatch_bundle().ip_assets.len()))
            }
        }
    };
    Ok(cx.page("Reconcile", body))
}

fn none(known: bool) -> Markup {
    html! {
        p.muted.empty {
            @if known { "None." } @else { "Not known while Prometheus is unreachable." }
        }
    }
}

fn dry_run_link(list: List, n: usize) -> Markup {
    html! {
        p.actions {
            a.button.secondary id={"dry-run-" (list.as_str())} href={"/ui/reconcile/dry-run?list=" (list.as_str())} {
                "Dry run: " (match list { List::Unknown => "create ", List::Reclaimable => "archive ", List::Mismatch => "update " }) (n)
            }
        }
    }
}

/// The import engine's plan of one list, on a reading connection.
async fn plan_of(cx: &Ctx<'_>, bundle: Bundle) -> Result<ImportPlan, ApiError> {
    cx.state
        .read_inventory(move |inv| inv.plan(bundle, &ImportOptions::default()))
        .await
}

async fn dry_run(cx: &Ctx<'_>) -> UiAnswer {
    let list = List::parse(cx.req.param("list"))?;
    let (r, _) = lists(cx).await?;
    if !r.prometheus.reachable {
        return Ok(cx.redirect("/ui/reconcile", FlashKind::Error, unreachable_flash(&r)));
    }
    let _slot = cx.state.import_slot()?;
    let plan = plan_of(cx, bundle_of(cx, &r, list)).await?;
    Ok(preview(cx, list, &plan, None))
}

fn unreachable_flash(r: &Reconciliation) -> String {
    format!(
        "Nothing to plan or apply: {}",
        r.prometheus
            .error
            .as_deref()
            .unwrap_or("Prometheus unreachable")
    )
}

/// The dry run of `list`, with the apply button for writers (carrying the plan's digest).
fn preview(
    cx: &Ctx<'_>,
    list: List,
    plan: &ImportPlan,
    changed: Option<&str>,
) -> hyper::Response<crate::http::Body> {
    let title = format!("Reconcile dry run: {}", list.title());
    let n = plan.summary.total.create + plan.summary.total.update;
    let body = html! {
        p { a href="/ui/reconcile" { "‹ Reconcile" } }
        h1 { (title) }
        @if let Some(m) = changed { div.flash.flash-warning role="alert" { (m) } }
        p { "The import engine's plan of the " strong { (list.title()) } " list (source " span.mono { (plan.source) } "). Nothing has been written yet." }
        (plan_view::plan(plan))
        @if cx.session.can_write() {
            form.panel method="post" action="/ui/reconcile/apply" {
                (cx.csrf_field())
                input type="hidden" name="list" value=(list.as_str());
                input type="hidden" name="plan" value=(plan_digest(plan));
                p.muted { "Computes the list again and applies it in one transaction if the plan is still this one; audited as " span.mono { (plan.source) } "." }
                button #apply type="submit" disabled[n == 0] { "Apply: " (n) " change" @if n != 1 { "s" } }
                " " a href="/ui/reconcile" { "Cancel" }
            }
        } @else {
            p.muted { "Your role may look at plans but not apply them." }
        }
    };
    let status = if changed.is_some() {
        StatusCode::CONFLICT
    } else {
        StatusCode::OK
    };
    cx.page_with(status, &title, "", body)
}

/// What the apply found: done, or a plan that is not the one the user saw.
enum Applied {
    Done(Box<ImportPlan>),
    Changed(Box<ImportPlan>),
}

async fn apply(cx: &Ctx<'_>, f: &Form) -> UiAnswer {
    cx.require_write()?;
    let list = List::parse(f.get("list"))?;
    let expect = f.get("plan").unwrap_or("").to_string();
    let (r, _) = lists(cx).await?;
    if !r.prometheus.reachable {
        return Ok(cx.redirect("/ui/reconcile", FlashKind::Error, unreachable_flash(&r)));
    }
    let _slot = cx.state.import_slot()?;
    let bundle = bundle_of(cx, &r, list);
    let actor = cx.session.actor();
    let applied = cx
        .state
        .with_inventory(move |inv| {
            let plan = inv.plan(bundle, &ImportOptions::default())?;
            if plan_digest(&plan) != expect {
                return Ok(Applied::Changed(Box::new(plan)));
            }
            inv.apply(&actor, &plan)?;
            Ok(Applied::Done(Box::new(plan)))
        })
        .await?;
    Ok(match applied {
        Applied::Done(plan) => {
            let t = plan.summary.total;
            cx.redirect(
                "/ui/reconcile",
                FlashKind::Success,
                format!(
                    "{} list applied: {} created, {} updated, {} unchanged.",
                    list.title(),
                    t.create,
                    t.update,
                    t.skip
                ),
            )
        }
        Applied::Changed(plan) => preview(
            cx,
            list,
            &plan,
            Some(
                "The list or the inventory changed since your dry run, so the plan is different \
                 now. Nothing was written: check the new plan below and apply it again.",
            ),
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_three_lists_parse() {
        for l in [List::Unknown, List::Reclaimable, List::Mismatch] {
            assert_eq!(List::parse(Some(l.as_str())).unwrap(), l);
        }
        let e = List::parse(Some("everything")).unwrap_err();
        assert!(e
            .message
            .contains("expected unknown, reclaimable or mismatch"));
    }
}
