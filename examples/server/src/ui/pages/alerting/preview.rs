//! `GET /ui/alerts/rules/{id}/preview`: the rule's rendered expression evaluated now by the
//! Prometheus of the settings ("would fire now for N series", with their label sets), before
//! any file is generated (`handlers::previews::build_rule_preview`, as
//! `GET /api/v1/alert-rules/{id}/preview`). An unreachable Prometheus or a refused
//! expression is shown on the page, in Prometheus's words.

use std::collections::BTreeSet;

use maud::html;

use crate::errors::ApiError;
use crate::handlers::previews::build_rule_preview;
use crate::ui::page::{Ctx, UiAnswer};

pub(crate) async fn page(cx: &Ctx<'_>, id: &str) -> UiAnswer {
    let id: i64 = id
        .parse()
        .map_err(|_| ApiError::not_found(format!("no rule with id {id:?}")))?;
    let p = build_rule_preview(cx.state, id).await?;
    let names: BTreeSet<&str> = p
        .series
        .iter()
        .flat_map(|s| s.labels.keys().map(String::as_str))
        .collect();
    let body = html! {
        p { a href="/ui/alerts" { "← Alert rules" } }
        h1 { "Preview of " (p.alert) }
        (super::tabs(""))
        dl.props {
            dt { "Group" } dd { (p.group_name) }
            dt { "Expression" } dd { code #rule-expr { (p.expr) } }
            dt { "For" } dd { (p.for_duration.as_deref().unwrap_or("none: fires at the first match")) }
            dt { "Prometheus" } dd { code { (if p.prometheus_url.is_empty() { "not set" } else { p.prometheus_url.as_str() }) } }
        }
        @match &p.error {
            Some(e) => div.flash.flash-error id="rule-verdict" role="alert" { "Not evaluated: " span #rule-error { (e) } }
            None => div class={"flash " (if p.matches > 0 { "flash-warning" } else { "flash-success" })} id="rule-verdict" role="status" { (p.verdict) }
        }
        @if p.evaluated {
            h2 { "Series matching now (" (p.matches) ")" }
            p.muted { "Each would be one alert, with these labels plus the rule's own." }
            div.table-wrap {
                table.data #rule-matches {
                    thead { tr { @for n in &names { th scope="col" { (n) } } th scope="col" { "Value" } } }
                    tbody {
                        @for s in &p.series {
                            tr { @for n in &names { td.mono { (s.labels.get(*n).map(String::as_str).unwrap_or("")) } } td.num { (s.value) } }
                        }
                        @if p.series.is_empty() { tr { td colspan=(names.len() + 1) .muted { "Nothing matches now." } } }
                    }
                }
            }
        }
        p { a.button.secondary href={"/ui/alerts/rules/" (p.rule_id)} { "Edit the rule" } " " a.button.secondary href={"/ui/alerts/rules/" (p.rule_id) "/preview"} { "Evaluate again" } }
    };
    Ok(cx.page(&format!("Preview of {}", p.alert), body))
}
