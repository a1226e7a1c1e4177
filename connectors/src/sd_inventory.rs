//! An inventory URL as a service-discovery source (seed 004's `INVENTORY_URL`): either a
//! remote ipocket server, or the seed's own inventory service, whose `GET /inventory`
//! answers a JSON list of host names (`["sensor_0", "sensor_1"]`).
//!
//! A host list becomes one target group, as the seed's updater wrote it: every name with
//! `:METRICS_PORT`, `__metrics_path__`, and the labels given, or the seed's
//! `job="sensors"`, `environment="production"` when none are. [`InventoryFormat::Auto`]
//! tells the formats apart: an ipocket SD endpoint (`…/api/v1/sd`, `…/sd/node`) or a bare
//! `scheme://host:port` is ipocket; any other URL is fetched as given and its answer decides
//! (a list of strings: host names; a list of objects: target groups, as any `http_sd`
//! endpoint answers; a page or a redirect, as an ipocket server behind a path prefix
//! answers: ipocket).
//!
//! ```
//! use ipocket_connectors::sd_inventory::host_list_groups;
//! let g = host_list_groups(&["sensor_0".into(), "10.0.0.5:9200".into(), "2001:db8::1".into()], &Default::default()).unwrap();
//! assert_eq!(g[0].targets, ["sensor_0:9100", "10.0.0.5:9200", "[2001:db8::1]:9100"]);
//! assert_eq!(g[0].labels["job"], "sensors");
//! ```

use std::collections::HashSet;
use std::fmt;
use std::net::Ipv6Addr;
use std::str::FromStr;

use ipocket_core::{SdGrouping, SdOptions, TargetGroup};
use serde_json::Value;

use crate::remote::{RemoteError, RemoteInventory, RemoteOptions};
use crate::sd_updater::SdUpdaterError;

/// The labels seed 004's updater put on its one group when none are given.
pub const SEED_LABELS: [(&str, &str); 2] = [("job", "sensors"), ("environment", "production")];

/// What `INVENTORY_URL` serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InventoryFormat {
    /// Decide from the URL, then from the answer (module docs).
    #[default]
    Auto,
    /// An ipocket server: its base URL or its SD endpoint.
    Ipocket,
    /// Seed 004's inventory service: a JSON list of host names at the URL itself.
    Hosts,
}

impl FromStr for InventoryFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(InventoryFormat::Auto),
            "ipocket" => Ok(InventoryFormat::Ipocket),
            "hosts" => Ok(InventoryFormat::Hosts),
            _ => Err(format!(
                "unknown inventory format {s:?}: expected auto, ipocket or hosts"
            )),
        }
    }
}

/// An inventory URL and the client that reads it.
#[derive(Debug, Clone)]
pub struct InventoryUrl {
    url: String,
    format: InventoryFormat,
    /// The ipocket client, on the server's base URL (the endpoint suffix stripped); it
    /// also fetches the URL as given (same token, `X-SD-Token`, timeout and retries).
    server: RemoteInventory,
}

impl fmt::Display for InventoryUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.reads_ipocket() {
            write!(f, "{}/api/v1/sd", self.server.base_url())
        } else {
            write!(f, "{}", self.url)
        }
    }
}

/// Seed 004's INVENTORY_URL may name ipocket's SD endpoint; the client wants the base URL.
///
/// ```
/// use ipocket_connectors::sd_inventory::server_base;
/// assert_eq!(server_base("http://h:8000/sd/node/"), "http://h:8000");
/// assert_eq!(server_base("http://h:8000/p/api/v1/sd"), "http://h:8000/p");
/// assert_eq!(server_base("http://h:1337/inventory"), "http://h:1337/inventory");
/// ```
pub fn server_base(url: &str) -> &str {
    let u = url.trim().trim_end_matches('/');
    u.strip_suffix("/api/v1/sd")
        .or_else(|| u.strip_suffix("/sd/node"))
        .unwrap_or(u)
}

/// True for an ipocket SD endpoint or a URL without a path: no need to look at the answer.
fn looks_like_ipocket(url: &str) -> bool {
    let base = server_base(url);
    let after_scheme = base.split_once("://").map_or(base, |(_, rest)| rest);
    base.len() != url.trim().trim_end_matches('/').len() || !after_scheme.contains('/')
}

impl InventoryUrl {
    /// A client of `url` sending `Authorization: Bearer <token>` when a token is given.
    pub fn new(
        url: &str,
        format: InventoryFormat,
        token: Option<&str>,
        options: &RemoteOptions,
    ) -> Result<InventoryUrl, RemoteError> {
        Ok(InventoryUrl {
            url: url.trim().to_string(),
            format,
            server: RemoteInventory::new(server_base(url), token, options)?,
        })
    }

    /// Sends `X-SD-Token` (an ipocket server's `IPOCKET_SD_TOKEN`).
    pub fn with_sd_token(mut self, sd_token: Option<&str>) -> Self {
        self.server = self.server.with_sd_token(sd_token);
        self
    }

    /// True when no answer needs looking at: an ipocket server's `GET /api/v1/sd`.
    fn reads_ipocket(&self) -> bool {
        self.format == InventoryFormat::Ipocket
            || (self.format == InventoryFormat::Auto && looks_like_ipocket(&self.url))
    }

    /// The format asked for.
    pub fn format(&self) -> InventoryFormat {
        self.format
    }

    /// The target groups the inventory gives for these options.
    pub async fn target_groups(&self, sd: &SdOptions) -> Result<Vec<TargetGroup>, SdUpdaterError> {
        if self.reads_ipocket() {
            return Ok(self.server.sd_target_groups(sd).await?);
        }
        let answer = match self.format {
            InventoryFormat::Hosts => self.server.get_json(&self.url).await?,
            InventoryFormat::Auto | InventoryFormat::Ipocket => {
                match self.server.get_json(&self.url).await {
                    Ok(v) => v,
                    // an HTML page or a redirect (to a login): an ipocket server under a prefix
                    Err(RemoteError::InvalidJson { .. }) => {
                        return Ok(self.server.sd_target_groups(sd).await?)
                    }
                    Err(RemoteError::Unexpected { status, .. }) if (300..400).contains(&status) => {
                        return Ok(self.server.sd_target_groups(sd).await?)
                    }
                    Err(e) => return Err(e.into()),
                }
            }
        };
        let bad = |reason: String| SdUpdaterError::InventoryAnswer {
            url: self.url.clone(),
            reason,
        };
        let Value::Array(items) = answer else {
            return Err(bad(format!(
                "expected a JSON list of host names (seed 004) or of target groups, got {}",
                kind_of(&answer)
            )));
        };
        if items.iter().any(Value::is_object) && self.format == InventoryFormat::Auto {
            let mut groups: Vec<TargetGroup> = serde_json::from_value(Value::Array(items))
                .map_err(|e| bad(format!("a list of target groups: {e}")))?;
            for g in &mut groups {
                for (k, v) in &sd.extra_labels {
                    g.labels.entry(k.clone()).or_insert_with(|| v.clone());
                }
            }
            return Ok(groups);
        }
        let mut hosts = Vec::with_capacity(items.len());
        for (i, item) in items.into_iter().enumerate() {
            match item {
                Value::String(s) => hosts.push(s),
                other => {
                    return Err(bad(format!(
                        "[{i}] is {}, expected a host name (a JSON string)",
                        kind_of(&other)
                    )))
                }
            }
        }
        host_list_groups(&hosts, sd).map_err(bad)
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// Seed 004's one target group from a list of host names: `name:port` (a name that already
/// has a port is kept, an IPv6 address is bracketed, a repeated name is listed once, the
/// order kept), `__metrics_path__`, `sd.extra_labels` or else [`SEED_LABELS`]. Filters and
/// grouping are ipocket's and are refused here (a list has no projects, types or tags);
/// `meta_labels` is ignored (a name has no `__meta_ipocket_*` facts).
pub fn host_list_groups(hosts: &[String], sd: &SdOptions) -> Result<Vec<TargetGroup>, String> {
    let filtered = !sd.projects.is_empty()
        || !sd.types.is_empty()
        || !sd.tags.is_empty()
        || sd.only_assigned
        || sd.grouping != SdGrouping::Single;
    if filtered {
        return Err(
            "a list of host names has no projects, types, tags or groups: drop \
             --project, --type, --tag, --only-assigned and --group-by"
                .into(),
        );
    }
    let mut seen = HashSet::new();
    let mut targets = Vec::with_capacity(hosts.len());
    for (i, h) in hosts.iter().enumerate() {
        let name = h.trim();
        if name.is_empty() || name.contains(char::is_whitespace) || name.contains('/') {
            return Err(format!("[{i}] {h:?} is not a host name"));
        }
        let target = if let Ok(v6) = name.parse::<Ipv6Addr>() {
            format!("[{v6}]:{}", sd.port)
        } else if has_port(name) {
            name.to_string()
        } else {
            format!("{name}:{}", sd.port)
        };
        if seen.insert(target.clone()) {
            targets.push(target);
        }
    }
    let mut labels = sd.extra_labels.clone();
    if labels.is_empty() {
        labels.extend(SEED_LABELS.map(|(k, v)| (k.to_string(), v.to_string())));
    }
    if let Some(p) = &sd.metrics_path {
        labels.insert("__metrics_path__".into(), p.clone());
    }
    Ok(vec![TargetGroup { targets, labels }])
}

/// `host:9100` or `[v6]:9100`.
fn has_port(name: &str) -> bool {
    let Some((host, port)) = name.rsplit_once(':') else {
        return false;
    };
    let host_ok = !host.contains(':') || (host.starts_with('[') && host.ends_with(']'));
    host_ok && !port.is_empty() && port.parse::<u16>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipocket_urls_are_told_apart_from_an_inventory_path() {
        assert!(looks_like_ipocket("http://h:8000"));
        assert!(looks_like_ipocket("http://h:8000/"));
        assert!(looks_like_ipocket("http://h:8000/sd/node"));
        assert!(looks_like_ipocket("https://h/prefix/api/v1/sd/"));
        assert!(!looks_like_ipocket(
            "http://inventory_server:1337/inventory"
        ));
        assert!(!looks_like_ipocket("https://h/prefix"));
    }

    #[test]
    fn filters_are_refused_and_bad_names_located() {
        let sd = SdOptions {
            tags: vec!["x".into()],
            ..SdOptions::default()
        };
        assert!(host_list_groups(&[], &sd).unwrap_err().contains("--tag"));
        let e = host_list_groups(&["a".into(), "b c".into()], &SdOptions::default());
        assert_eq!(e.unwrap_err(), r#"[1] "b c" is not a host name"#);
        let g = host_list_groups(&[], &SdOptions::default()).unwrap();
        assert!(g[0].targets.is_empty(), "the seed writes an empty group");
    }
}
