//! The status dots of the asset and host pages (issue #21): the pages render at once with an
//! empty, hidden placeholder per address ([`dot`]); `app.js` then asks `GET /ui/liveness?ip=…`
//! (this session, JSON) with a client-side timeout and fills them. Only this request waits
//! for Prometheus (at most `--liveness-timeout-secs`, through the shared cache); without
//! `--liveness-prometheus-url` no placeholder is rendered at all.

use std::net::IpAddr;

use hyper::StatusCode;
use ipocket_connectors::liveness::{address_liveness, ago, unix_now, AddressLiveness, LiveState};
use maud::{html, Markup};
use serde::Serialize;

use crate::errors::ApiError;
use crate::http::{error_response, json_response};
use crate::ui::form::Form;
use crate::ui::page::{Ctx, UiAnswer};

pub(crate) async fn route(
    cx: &Ctx<'_>,
    rest: &[&str],
    form: Option<&Form>,
) -> Option<(&'static str, UiAnswer)> {
    match (rest, form) {
        (["liveness"], None) => Some(("/ui/liveness", Ok(dots(cx).await))),
        _ => None,
    }
}

/// How a dot is shown: a compact one in a list (the words in its tooltip and for screen
/// readers), or one with its words beside it on a detail page.
#[derive(Clone, Copy, PartialEq)]
pub(crate) enum DotStyle {
    Compact,
    Full,
}

/// The placeholder `app.js` fills for `ip` (nothing when liveness is off). Hidden until
/// filled, so a page without JavaScript shows no empty dots.
pub(crate) fn dot(cx: &Ctx<'_>, ip: &str, style: DotStyle) -> Markup {
    let Some(cache) = &cx.state.liveness else {
        return html! {};
    };
    // The server gives up on Prometheus after its timeout; the browser waits a bit longer.
    let wait_ms = cache.options().timeout.as_millis() + 2_000;
    html! {
        span.live.live-full[style == DotStyle::Full] data-live-ip=(ip) data-live-wait-ms=(wait_ms) hidden {
            span.live-dot aria-hidden="true" {}
            span.live-text.visually-hidden[style == DotStyle::Compact] {}
        }
    }
}

/// One address as the dots show it: the words are the server's, the script only places them.
#[derive(Serialize)]
struct Dot {
    /// The address as asked.
    ip: String,
    /// `up`, `down`, `not_scraped` or `unknown` (the dot's colour).
    state: LiveState,
    /// "up", "down", "not scraped", "unknown — Prometheus unreachable".
    label: String,
    /// "last seen up 3 s ago", "not up in the last 30 d", why it is unknown…
    detail: String,
    /// Jobs and instances, for the tooltip.
    seen_in: String,
}

/// "30 d", "12 h", "90 s".
pub(crate) fn span_text(secs: u64) -> String {
    match secs {
        s if s >= 86_400 && s % 86_400 == 0 => format!("{} d", s / 86_400),
        s if s >= 3_600 && s % 3_600 == 0 => format!("{} h", s / 3_600),
        s => format!("{s} s"),
    }
}

fn dot_of(asked: &str, a: &AddressLiveness, now: f64, window: &str, error: &str) -> Dot {
    let label = match a.state {
        LiveState::Up => "up",
        LiveState::Down => "down",
        LiveState::NotScraped => "not scraped",
        LiveState::Unknown => "unknown — Prometheus unreachable",
    };
    let detail = match (a.state, a.last_seen_up) {
        (LiveState::Unknown, _) => error.to_string(),
        (LiveState::NotScraped, _) => "no Prometheus target carries this address".into(),
        (_, Some(t)) => format!("last seen up {}", ago(now, t)),
        (_, None) => format!("not up in the last {window}"),
    };
    let seen_in = if a.jobs.is_empty() {
        String::new()
    } else {
        format!(
            "jobs: {}; instances: {}",
            a.jobs.join(", "),
            a.instances.join(", ")
        )
    };
    Dot {
        ip: asked.to_string(),
        state: a.state,
        label: label.into(),
        detail,
        seen_in,
    }
}

/// The addresses of the query (`ip`, repeated), each a valid address; at most
/// `--max-page-size` of them (the script asks by pages of 100).
fn asked(cx: &Ctx<'_>) -> Result<Vec<(String, IpAddr)>, ApiError> {
    let ips: Vec<&str> = cx
        .req
        .query
        .iter()
        .filter(|(k, _)| k == "ip")
        .map(|(_, v)| v.trim())
        .collect();
    let max = cx.state.config.max_page_size;
    if ips.len() as u64 > max {
        return Err(ApiError::bad_request(format!(
            "ip: at most {max} addresses per request (--max-page-size), found {}",
            ips.len()
        ))
        .with_details(serde_json::json!({"field": "ip"})));
    }
    ips.into_iter()
        .map(|s| {
            s.parse::<IpAddr>()
                .map(|ip| (s.to_string(), ip))
                .map_err(|_| {
                    ApiError::bad_request(format!("ip: invalid IP address {s:?}"))
                        .with_details(serde_json::json!({"field": "ip"}))
                })
        })
        .collect()
}

/// `GET /ui/liveness?ip=…&ip=…`: the dots of these addresses, as JSON
/// (`{"reachable","addresses":[{"ip","state","label","detail","seen_in"}]}`); errors in the
/// API's JSON shape.
async fn dots(cx: &Ctx<'_>) -> hyper::Response<crate::http::Body> {
    let answer = async {
        let cache = crate::handlers::liveness::cache(cx.state)?;
        let asked = asked(cx)?;
        let snap = cache.get().await;
        let window = span_text(cache.options().window.as_secs());
        let now = unix_now();
        let error = snap.result.as_ref().err().cloned().unwrap_or_default();
        let addresses: Vec<Dot> = asked
            .iter()
            .map(|(text, ip)| {
                let a = address_liveness(&snap.result, *ip, true);
                dot_of(text, &a, now, &window, &error)
            })
            .collect();
        Ok::<_, ApiError>(serde_json::json!({
            "reachable": snap.result.is_ok(),
            "addresses": addresses,
        }))
    };
    match answer.await {
        Ok(v) => json_response(StatusCode::OK, &v),
        Err(e) => error_response(&e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(state: LiveState, last: Option<f64>, jobs: &[&str]) -> AddressLiveness {
        AddressLiveness {
            ip: "10.0.0.1".into(),
            state,
            last_seen_up: last,
            jobs: jobs.iter().map(|s| s.to_string()).collect(),
            instances: jobs.iter().map(|_| "10.0.0.1:9100".to_string()).collect(),
            documented: true,
        }
    }

    #[test]
    fn spans_read_in_their_largest_whole_unit() {
        assert_eq!(span_text(30 * 86_400), "30 d");
        assert_eq!(span_text(43_200), "12 h");
        assert_eq!(span_text(90), "90 s");
    }

    #[test]
    fn each_state_reads_as_words() {
        let up = dot_of(
            "10.0.0.1",
            &addr(LiveState::Up, Some(990.0), &["node"]),
            1000.0,
            "30 d",
            "",
        );
        assert_eq!(
            (up.label.as_str(), up.detail.as_str()),
            ("up", "last seen up 10 s ago")
        );
        assert_eq!(up.seen_in, "jobs: node; instances: 10.0.0.1:9100");
        let down = dot_of(
            "10.0.0.1",
            &addr(LiveState::Down, None, &["gone"]),
            1000.0,
            "30 d",
            "",
        );
        assert_eq!(down.detail, "not up in the last 30 d");
        let ns = dot_of(
            "10.0.0.1",
            &addr(LiveState::NotScraped, None, &[]),
            1000.0,
            "30 d",
            "",
        );
        assert_eq!(
            (ns.label.as_str(), ns.seen_in.as_str()),
            ("not scraped", "")
        );
        let unknown = dot_of(
            "10.0.0.1",
            &addr(LiveState::Unknown, None, &[]),
            1000.0,
            "30 d",
            "Prometheus unreachable: refused",
        );
        assert_eq!(unknown.label, "unknown — Prometheus unreachable");
        assert_eq!(unknown.detail, "Prometheus unreachable: refused");
    }
}
