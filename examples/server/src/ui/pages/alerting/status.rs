//! `GET /ui/alerts/status`: what `/api/v1/prometheus/status` answers (reachable, ready,
//! version, last reload), and the rule-file settings.

use ipocket_rulegen::status_from_settings_with;
use maud::html;

use crate::ui::page::{Ctx, UiAnswer};

pub(crate) async fn page(cx: &Ctx<'_>) -> UiAnswer {
    let settings = cx.state.with_rules(|store| store.settings()).await?;
    let status = match &settings.prometheus_url {
        Some(_) => Some(status_from_settings_with(&settings, &cx.state.config.prometheus).await?),
        None => None,
    };
    let generation = crate::rules_auto::status(cx.state).await?;
    let yes_no = |b: bool| if b { "yes" } else { "no" };
    let body = html! {
        h1 { "Prometheus status" }
        (super::tabs("/status"))
        @match &status {
            None => p.muted { "No Prometheus URL is set (start the server with --prometheus-url, or `ipocket rules settings`)." }
            Some(s) => {
                dl.props {
                    dt { "URL" } dd { code { (s.url) } }
                    dt { "Reachable" } dd.ok[s.reachable].bad[!s.reachable] #prom-reachable { (yes_no(s.reachable)) }
                    dt { "Healthy" } dd.ok[s.healthy].bad[!s.healthy] { (yes_no(s.healthy)) }
                    dt { "Ready" } dd.ok[s.ready].bad[!s.ready] #prom-ready { (yes_no(s.ready)) }
                    dt { "Version" } dd #prom-version { (s.version.as_deref().unwrap_or("unknown")) }
                    dt { "Last reload" }
                    dd #prom-last-reload {
                        (s.last_reload.as_deref().unwrap_or("unknown"))
                        @match s.last_reload_success {
                            Some(true) => " (succeeded)",
                            Some(false) => span.error-text { " (failed: Prometheus kept its previous rules)" },
                            None => "",
                        }
                    }
                    @if let Some(d) = &s.detail { dt { "Detail" } dd.error-text { (d) } }
                }
            }
        }
        h2 { "Rule files" }
        dl.props {
            dt { "Rule folder" } dd { (settings.rule_dir.as_ref().map(|p| p.display().to_string()).unwrap_or_else(|| "not set".into())) }
            dt { "Target version" } dd { (settings.target_version) }
            dt { "promtool" } dd { (settings.promtool.as_ref().map(|p| p.display().to_string()).unwrap_or_else(|| "not used".into())) }
            @if let Some(d) = &settings.prometheus_rule_dir { dt { "Rule folder in Prometheus" } dd { (d.display()) } }
        }
        h2 { "Generation" }
        dl.props #generation {
            dt { "Automatic regeneration" }
            dd #gen-auto {
                @if generation.auto_regenerate {
                    "on, " (generation.debounce_ms) " ms after a change"
                    @if generation.pending_writes > 0 { " (" (generation.pending_writes) " change(s) waiting)" }
                } @else { "off (--rules-auto-regenerate false)" }
            }
            @match &generation.last_run {
                None => { dt { "Last run" } dd #gen-last { "none yet" } }
                Some(run) => {
                    dt { "Last run" }
                    dd #gen-last {
                        (run.started_at) " (" (run.trigger) ", " (run.duration_ms) " ms) "
                        @if run.ok { span.ok #gen-result { "succeeded" } } @else { span.error-text #gen-result { "failed" } }
                    }
                    dt { "Files written" } dd #gen-files { @if run.files_written.is_empty() { "none" } @else { (run.files_written.join(", ")) } }
                    @if !run.files_removed.is_empty() { dt { "Files removed" } dd { (run.files_removed.join(", ")) } }
                    dt { "Confirmed groups" } dd #gen-groups { @if run.reloaded { (run.confirmed_groups.join(", ")) } @else { "no reload" } }
                    @if let Some(e) = &run.error { dt { "Error" } dd.error-text #gen-error { (e) } }
                }
            }
        }
    };
    Ok(cx.page("Prometheus status", body))
}
