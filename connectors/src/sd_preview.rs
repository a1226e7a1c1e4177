//! SD preview (issue #21): the exact service-discovery JSON Prometheus will receive, with
//! its counts, the targets Prometheus would mishandle flagged, and what Prometheus sees of
//! each target now (from [`crate::liveness`]).
//!
//! - **duplicate**: the same target (same address, same port; host names without case) is
//!   listed more than once, so Prometheus scrapes it once per distinct label set. The
//!   inventory's own endpoints never produce one (addresses are unique and canonical); a
//!   target-group list passed through from another `http_sd` source can.
//! - **port-less**: no `:port`; Prometheus 2 adds the scheme's (80 or 443), which is rarely
//!   the exporter's.
//! - **state** of a target: from the Prometheus series whose `instance` is the target itself
//!   (`matched: instance`); when there is none, from the series of its address under other
//!   instances (`matched: address`, a hint: this exact target is not scraped yet);
//!   `not_scraped` when Prometheus knows neither, `unknown` when Prometheus could not be
//!   asked or the target is a host name (liveness knows addresses only).
//!
//! ```
//! use ipocket_connectors::sd_preview::preview;
//! use ipocket_connectors::liveness::LiveState;
//! let json = br#"[{"targets":["10.0.0.1:9100","10.0.0.1:9100","10.0.0.2"],"labels":{}}]"#;
//! let p = preview(json, &Err("Prometheus unreachable: refused".into())).unwrap();
//! assert_eq!((p.group_count, p.target_count, p.duplicates, p.port_less), (1, 3, 2, 1));
//! assert_eq!(p.targets[0].state, LiveState::Unknown);
//! assert_eq!(p.json.as_bytes(), json);
//! ```

use std::collections::HashMap;
use std::net::IpAddr;

use ipocket_core::TargetGroup;
use serde::Serialize;

use crate::liveness::{summarize, unix_now, LiveState, Observations, PrometheusStatus};

/// One target of the preview.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TargetPreview {
    /// Index of its group in the JSON.
    pub group: usize,
    /// The target as written (`10.0.0.1:9100`, `[2001:db8::1]:9100`, `host:9100`).
    pub target: String,
    /// Its address, canonical, when the host is an IP address.
    pub address: Option<String>,
    /// Its port, when it has one.
    pub port: Option<u16>,
    /// Listed more than once in the JSON.
    pub duplicate: bool,
    /// Has no port.
    pub port_less: bool,
    /// What Prometheus sees of it now.
    pub state: LiveState,
    /// `instance`: from the series of this exact target; `address`: from the series of its
    /// address under other instances; `None`: no series.
    pub matched: Option<&'static str>,
    /// Unix seconds it (or its address) was last seen up within the liveness window.
    pub last_seen_up: Option<f64>,
    /// The jobs those series are in.
    pub jobs: Vec<String>,
    /// Their `instance` values.
    pub instances: Vec<String>,
}

/// Targets per state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct StateCounts {
    /// `up`.
    pub up: usize,
    /// `down`.
    pub down: usize,
    /// `not_scraped`.
    pub not_scraped: usize,
    /// `unknown`.
    pub unknown: usize,
}

/// The preview of one service-discovery answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SdPreview {
    /// The JSON exactly as Prometheus receives it.
    pub json: String,
    /// Target groups in it.
    pub group_count: usize,
    /// Targets in it (duplicates counted each time).
    pub target_count: usize,
    /// Targets flagged `duplicate`.
    pub duplicates: usize,
    /// Targets flagged `port_less`.
    pub port_less: usize,
    /// Targets per state.
    pub states: StateCounts,
    /// Whether the states come from an answer of Prometheus.
    pub prometheus: PrometheusStatus,
    /// Every target, in JSON order.
    pub targets: Vec<TargetPreview>,
}

/// Host and port of a target: `host:port`, `[v6]:port`, a bare IPv6 address or a bare host.
///
/// ```
/// use ipocket_connectors::sd_preview::split_target;
/// assert_eq!(split_target("10.0.0.1:9100"), ("10.0.0.1", Some(9100)));
/// assert_eq!(split_target("[2001:db8::1]:9100"), ("2001:db8::1", Some(9100)));
/// assert_eq!(split_target("2001:db8::1"), ("2001:db8::1", None));
/// assert_eq!(split_target("sensor_0"), ("sensor_0", None));
/// ```
pub fn split_target(target: &str) -> (&str, Option<u16>) {
    let t = target.trim();
    if let Some(rest) = t.strip_prefix('[') {
        if let Some((host, after)) = rest.split_once(']') {
            return (host, after.strip_prefix(':').and_then(|p| p.parse().ok()));
        }
        return (t, None);
    }
    match t.split_once(':') {
        Some((host, port)) if !port.contains(':') => (host, port.parse().ok()),
        _ => (t, None),
    }
}

/// Previews `json` (a list of target groups, as an SD endpoint serves it or the file_sd
/// file holds it) against what Prometheus said, or why it could not be asked.
pub fn preview(json: &[u8], obs: &Result<Observations, String>) -> Result<SdPreview, String> {
    let text = std::str::from_utf8(json).map_err(|e| format!("not UTF-8: {e}"))?;
    let groups: Vec<TargetGroup> =
        serde_json::from_str(text).map_err(|e| format!("not a list of target groups: {e}"))?;
    let mut targets = Vec::new();
    let mut seen: HashMap<(String, Option<u16>), usize> = HashMap::new();
    for (g, group) in groups.iter().enumerate() {
        for target in &group.targets {
            let (host, port) = split_target(target);
            let ip = host.parse::<IpAddr>().ok().map(|ip| ip.to_canonical());
            let key = ip.map_or_else(|| host.to_ascii_lowercase(), |ip| ip.to_string());
            *seen.entry((key, port)).or_default() += 1;
            let (state, matched, last_seen_up, jobs, instances) = observe(target, ip, obs);
            targets.push(TargetPreview {
                group: g,
                target: target.clone(),
                address: ip.map(|ip| ip.to_string()),
                port,
                duplicate: false,
                port_less: port.is_none(),
                state,
                matched,
                last_seen_up,
                jobs,
                instances,
            });
        }
    }
    let mut states = StateCounts::default();
    for t in &mut targets {
        let (host, port) = split_target(&t.target);
        let key = t
            .address
            .clone()
            .unwrap_or_else(|| host.to_ascii_lowercase());
        t.duplicate = seen.get(&(key, port)).is_some_and(|n| *n > 1);
        let count = match t.state {
            LiveState::Up => &mut states.up,
            LiveState::Down => &mut states.down,
            LiveState::NotScraped => &mut states.not_scraped,
            LiveState::Unknown => &mut states.unknown,
        };
        *count += 1;
    }
    let prometheus = match obs {
        Ok(o) => PrometheusStatus {
            reachable: true,
            fetched_at: o.fetched_at,
            error: None,
        },
        Err(e) => PrometheusStatus {
            reachable: false,
            fetched_at: unix_now(),
            error: Some(e.clone()),
        },
    };
    Ok(SdPreview {
        json: text.to_string(),
        group_count: groups.len(),
        target_count: targets.len(),
        duplicates: targets.iter().filter(|t| t.duplicate).count(),
        port_less: targets.iter().filter(|t| t.port_less).count(),
        states,
        prometheus,
        targets,
    })
}

type Observed = (
    LiveState,
    Option<&'static str>,
    Option<f64>,
    Vec<String>,
    Vec<String>,
);

fn observe(target: &str, ip: Option<IpAddr>, obs: &Result<Observations, String>) -> Observed {
    let (Ok(obs), Some(ip)) = (obs, ip) else {
        return (LiveState::Unknown, None, None, Vec::new(), Vec::new());
    };
    let Some(series) = obs.by_ip.get(&ip) else {
        return (LiveState::NotScraped, None, None, Vec::new(), Vec::new());
    };
    let exact: Vec<_> = series
        .iter()
        .filter(|s| s.instance == target)
        .cloned()
        .collect();
    let (matched, (state, last, jobs, instances)) = if exact.is_empty() {
        ("address", summarize(series))
    } else {
        ("instance", summarize(&exact))
    };
    (state, Some(matched), last, jobs, instances)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::liveness::{LivenessOptions, Observations};
    use crate::prometheus::parse_query_response;

    fn observations() -> Observations {
        let up = parse_query_response(200, br#"{"status":"success","data":{"resultType":"vector","result":[
          {"metric":{"__name__":"up","job":"node","instance":"10.0.0.1:9100"},"value":[1700000000,"1"]},
          {"metric":{"__name__":"up","job":"app","instance":"10.0.0.2:8080"},"value":[1700000000,"0"]}]}}"#).unwrap();
        let last = parse_query_response(
            200,
            br#"{"status":"success","data":{"resultType":"vector","result":[]}}"#,
        )
        .unwrap();
        Observations::from_answers(
            &LivenessOptions::new("http://127.0.0.1:9090"),
            1700000000.0,
            &up,
            &last,
            None,
        )
    }

    #[test]
    fn states_by_instance_then_by_address() {
        let json = br#"[{"targets":["10.0.0.1:9100","10.0.0.2:9100","10.0.0.3:9100","sensor_0:9100"],"labels":{"job":"x"}}]"#;
        let p = preview(json, &Ok(observations())).unwrap();
        let got: Vec<_> = p.targets.iter().map(|t| (t.state, t.matched)).collect();
        assert_eq!(
            got,
            [
                (LiveState::Up, Some("instance")),
                (LiveState::Down, Some("address")),
                (LiveState::NotScraped, None),
                (LiveState::Unknown, None),
            ]
        );
        assert_eq!(p.targets[1].jobs, ["app"]);
        assert_eq!(
            p.states,
            StateCounts {
                up: 1,
                down: 1,
                not_scraped: 1,
                unknown: 1
            }
        );
        assert!(p.prometheus.reachable);
        assert_eq!((p.duplicates, p.port_less), (0, 0));
    }

    #[test]
    fn duplicates_across_groups_and_spellings_and_port_less() {
        let json = br#"[{"targets":["10.0.0.1:9100","[::ffff:10.0.0.1]:9100","Host:1"],"labels":{}},
                        {"targets":["host:1","10.0.0.1:9200","2001:db8::1","10.0.0.9"],"labels":{"a":"b"}}]"#;
        let p = preview(json, &Ok(observations())).unwrap();
        let flags: Vec<_> = p
            .targets
            .iter()
            .map(|t| (t.target.as_str(), t.duplicate, t.port_less))
            .collect();
        assert_eq!(
            flags,
            [
                ("10.0.0.1:9100", true, false),
                ("[::ffff:10.0.0.1]:9100", true, false),
                ("Host:1", true, false),
                ("host:1", true, false),
                ("10.0.0.1:9200", false, false),
                ("2001:db8::1", false, true),
                ("10.0.0.9", false, true),
            ]
        );
        assert_eq!((p.group_count, p.target_count), (2, 7));
        // the same address under another port: the address's state, as a hint
        assert_eq!(p.targets[4].matched, Some("address"));
        assert_eq!(p.targets[4].state, LiveState::Up);
    }

    #[test]
    fn unreachable_is_unknown_and_bad_json_is_an_error() {
        let p = preview(b"[]", &Err("Prometheus unreachable: x".into())).unwrap();
        assert_eq!(
            p.prometheus.error.as_deref(),
            Some("Prometheus unreachable: x")
        );
        assert_eq!(p.target_count, 0);
        assert!(preview(b"{}", &Ok(observations()))
            .unwrap_err()
            .contains("not a list of target groups"));
    }
}
