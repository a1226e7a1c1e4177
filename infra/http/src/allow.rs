//! [`TargetAllowList`]: the hosts (and ports) a server lets its users' connector runs reach.

use std::fmt;

use hyper::Uri;

/// Hosts, each with an optional port, that a URL must name to be reached. A server that
/// fetches URLs its users type (connector runs) checks them here before connecting, so that
/// a user cannot make it probe the rest of its network.
///
/// Hosts match exactly (ASCII case aside; IPv6 with or without brackets); an entry without a
/// port allows every port of that host. A name is matched as written, before DNS: list the
/// names your users type.
///
/// ```
/// use ipocket_http::{HttpClient, TargetAllowList};
/// let allow = TargetAllowList::parse(["prometheus.lan:9090", "10.0.0.5", "[::1]:8443"])?;
/// let ok = |u: &str| allow.check(&HttpClient::parse_url(u).unwrap()).is_ok();
/// assert!(ok("http://Prometheus.lan:9090/api/v1/query"));
/// assert!(!ok("http://prometheus.lan:9100/"));
/// assert!(ok("https://10.0.0.5/"));
/// assert!(ok("https://[::1]:8443/"));
/// assert!(!ok("http://127.0.0.1:9090/"));
/// assert!(TargetAllowList::parse(["http://x/"]).is_err());
/// # Ok::<(), String>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TargetAllowList {
    entries: Vec<(String, Option<u16>)>,
}

/// A URL whose host and port are not in a [`TargetAllowList`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{host}:{port} is not among the connector targets this server allows")]
pub struct TargetNotAllowed {
    /// The URL's host (brackets stripped from IPv6).
    pub host: String,
    /// The URL's port (the scheme's default when it names none).
    pub port: u16,
}

impl ipocket_errors::Classify for TargetNotAllowed {
    fn kind(&self) -> ipocket_errors::ErrorKind {
        ipocket_errors::ErrorKind::Forbidden
    }
}

fn normal_host(h: &str) -> String {
    h.trim_start_matches('[')
        .trim_end_matches(']')
        .trim_end_matches('.')
        .to_ascii_lowercase()
}

impl TargetAllowList {
    /// Reads `HOST`, `HOST:PORT`, `[IPV6]:PORT` or a bare IPv6 address per item; an item may
    /// also be a comma-separated list. Errors name the bad item.
    pub fn parse<I, S>(items: I) -> Result<TargetAllowList, String>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut entries = Vec::new();
        for item in items {
            for raw in item
                .as_ref()
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
            {
                entries.push(Self::entry(raw)?);
            }
        }
        Ok(TargetAllowList { entries })
    }

    fn entry(raw: &str) -> Result<(String, Option<u16>), String> {
        let bad = |why: &str| format!("{raw:?}: {why} (expected HOST, HOST:PORT or [IPV6]:PORT)");
        let (host, port) = if let Some(rest) = raw.strip_prefix('[') {
            let (h, tail) = rest.split_once(']').ok_or_else(|| bad("no closing ]"))?;
            match tail {
                "" => (h, None),
                t => (
                    h,
                    Some(t.strip_prefix(':').ok_or_else(|| bad("junk after ]"))?),
                ),
            }
        } else if raw.matches(':').count() == 1 {
            let (h, p) = raw.split_once(':').unwrap_or((raw, ""));
            (h, Some(p))
        } else {
            (raw, None)
        };
        if host.is_empty()
            || host
                .chars()
                .any(|c| c.is_whitespace() || matches!(c, '/' | '@' | '?' | '#'))
        {
            return Err(bad("not a host"));
        }
        let port = match port {
            None => None,
            Some(p) => Some(
                p.parse::<u16>()
                    .ok()
                    .filter(|p| *p > 0)
                    .ok_or_else(|| bad("not a port from 1 to 65535"))?,
            ),
        };
        Ok((normal_host(host), port))
    }

    /// Whether the list is empty (an empty list allows nothing).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// `Ok` when `url`'s host and port are listed; checked before any connection is made.
    pub fn check(&self, url: &Uri) -> Result<(), TargetNotAllowed> {
        let host = normal_host(url.host().unwrap_or(""));
        let port = url.port_u16().unwrap_or(match url.scheme_str() {
            Some("https") => 443,
            _ => 80,
        });
        let listed = self
            .entries
            .iter()
            .any(|(h, p)| *h == host && p.is_none_or(|p| p == port));
        if listed {
            Ok(())
        } else {
            Err(TargetNotAllowed { host, port })
        }
    }
}

impl fmt::Display for TargetAllowList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (h, p)) in self.entries.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            let h = if h.contains(':') {
                format!("[{h}]")
            } else {
                h.clone()
            };
            match p {
                Some(p) => write!(f, "{h}:{p}")?,
                None => f.write_str(&h)?,
            }
        }
        Ok(())
    }
}
