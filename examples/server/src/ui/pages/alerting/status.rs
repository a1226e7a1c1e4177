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
        }
    };
    Ok(cx.page("Prometheus status", body))
}
