//! The vCenter connector over the vSphere Automation REST API (vSphere 7.0U2+):
//! `POST /api/session` (Basic auth) → session id; `GET /api/vcenter/host`;
//! `GET /api/vcenter/vm?hosts=<host>` (which VMs run where); `GET /api/vcenter/vm`;
//! `GET /api/vcenter/vm/{vm}/guest/networking/interfaces` (needs VMware Tools);
//! `DELETE /api/session`. VMs become `VM` assets, ESXi hosts become hosts plus an `OS`
//! asset tagged `esxi`, then the bundle goes through core's import engine.
//!
//! ESXi management IPs: the REST API does not expose vmkernel addresses, so a host's IP is
//! its name when the name is an IPv4 address, else what the name resolves to here (the
//! system resolver, bounded by [`VcenterOptions::resolve_timeout`]; IPv4 preferred, an
//! IPv4-mapped answer counts as IPv4); a name that does not resolve to IPv4 is skipped with
//! a warning.
//! The original connector also read `summary.managementServerIp`, which is the *vCenter's*
//! address as the host sees it (every host got the vCenter's IP); that bug is not copied.
//!
//! ```
//! use ipocket_connectors::vcenter::{Collection, VcHost, VcVm};
//! let c = Collection {
//!     hosts: vec![VcHost { id: "host-1".into(), name: "10.0.0.10".into(), resolved: None }],
//!     vms: vec![VcVm { id: "vm-1".into(), name: "web".into(), host_name: Some("10.0.0.10".into()), ips: vec!["10.0.0.21".into()] }],
//!     warnings: vec![],
//! };
//! let (bundle, warnings) = c.bundle_json();
//! assert!(warnings.is_empty());
//! assert_eq!(bundle["data"]["ip_assets"][0]["tags"][0], "esxi");
//! assert_eq!(bundle["data"]["ip_assets"][1]["notes"], "vCenter VM: web (host: 10.0.0.10)");
//! ```

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use hyper::Method;
use ipocket_core::{Bundle, ImportOptions, ImportPlan, Inventory};
use serde_json::{json, Value};

use ipocket_http::{Auth, HttpClient, HttpError};

/// The bundle's `source` label (audit log input).
pub const SOURCE: &str = "connector:vcenter";

/// Connection settings.
#[derive(Debug, Clone)]
pub struct VcenterOptions {
    /// Base URL, `https://vcenter.example` (a port if not 443).
    pub server: String,
    /// User name.
    pub username: String,
    /// Password (never logged; `Debug` of [`Auth`] is redacted — keep it out of logs).
    pub password: String,
    /// Skip certificate checks.
    pub insecure: bool,
    /// Also trust these PEM certificates.
    pub ca_file: Option<std::path::PathBuf>,
    /// Per-request timeout.
    pub timeout: Duration,
    /// How long the system resolver may take for one ESXi host name
    /// ([`DEFAULT_RESOLVE_TIMEOUT`]); a slow or unreachable DNS must not stall the run.
    pub resolve_timeout: Duration,
}

/// Default of [`VcenterOptions::resolve_timeout`].
pub const DEFAULT_RESOLVE_TIMEOUT: Duration = Duration::from_secs(2);

/// A hard failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VcenterError {
    /// No HTTP answer.
    #[error("vCenter request failed: {0}")]
    Http(HttpError),
    /// Login refused (401/403).
    #[error("vCenter login refused (HTTP {0})")]
    Login(u16),
    /// Any other unexpected status. (The body is not quoted: a server that runs connectors
    /// for its users must not relay what some other service on its network said.)
    #[error("vCenter {path} answered HTTP {status}")]
    Status {
        /// API path.
        path: String,
        /// Status.
        status: u16,
    },
    /// Not the documented JSON shape.
    #[error("vCenter {path}: unexpected JSON: {reason}")]
    InvalidJson {
        /// API path.
        path: String,
        /// What was wrong.
        reason: String,
    },
    /// The import engine refused the bundle.
    #[error("import failed: {0}")]
    Import(ipocket_core::Error),
}

/// An ESXi host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VcHost {
    /// `host-10`.
    pub id: String,
    /// Its name in vCenter (often an FQDN or an IP).
    pub name: String,
    /// What a name that is not an IP resolved to on this machine, or why it did not
    /// (`None`: the name is an IP, or was not looked up).
    pub resolved: Option<Result<Ipv4Addr, String>>,
}

/// A virtual machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VcVm {
    /// `vm-42`.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Name of the host it runs on.
    pub host_name: Option<String>,
    /// Guest addresses, interface order.
    pub ips: Vec<String>,
}

/// What one run collected.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Collection {
    /// ESXi hosts.
    pub hosts: Vec<VcHost>,
    /// VMs.
    pub vms: Vec<VcVm>,
    /// Soft problems while collecting (guest info unavailable…).
    pub warnings: Vec<String>,
}

/// The first usable IPv4 address; an IPv4-mapped IPv6 one (`::ffff:a.b.c.d`) counts as IPv4.
fn first_ipv4<'a>(candidates: impl IntoIterator<Item = &'a str>) -> Option<Ipv4Addr> {
    candidates
        .into_iter()
        .filter_map(
            |c| match c.trim().parse::<std::net::IpAddr>().ok()?.to_canonical() {
                std::net::IpAddr::V4(v4) => Some(v4),
                std::net::IpAddr::V6(_) => None,
            },
        )
        .find(|ip| !ip.is_loopback() && !ip.is_unspecified() && !ip.is_link_local())
}

impl Collection {
    /// The bundle (hosts, host `OS` assets tagged `esxi`, `VM` assets) and the mapping
    /// warnings. Duplicate IPs: the first wins (hosts before VMs).
    pub fn bundle_json(&self) -> (Value, Vec<String>) {
        let mut warnings = Vec::new();
        let mut seen = HashSet::new();
        let mut hosts = Vec::new();
        let mut assets = Vec::new();
        for h in &self.hosts {
            if h.name.trim().is_empty() {
                warnings.push("Skipped host without a name.".to_string());
                continue;
            }
            hosts.push(json!({"name": h.name, "notes": "Imported from vCenter host inventory."}));
            let ip = match (first_ipv4([h.name.as_str()]), &h.resolved) {
                (Some(ip), _) => ip,
                (None, Some(Ok(ip))) => {
                    if ip.is_loopback() {
                        warnings.push(format!(
                            "Host '{}' resolves to the loopback address {ip} on this machine; imported as is, check its DNS.",
                            h.name
                        ));
                    }
                    *ip
                }
                (None, Some(Err(why))) => {
                    warnings.push(format!(
                        "Skipped host '{}' because its name {why} (the REST API does not expose vmkernel addresses; make the name resolvable here or name the host by its IP).",
                        h.name
                    ));
                    continue;
                }
                (None, None) => {
                    warnings.push(format!(
                        "Skipped host '{}' because no IPv4 management IP was found (the REST API does not expose vmkernel addresses; name the host by its IP).",
                        h.name
                    ));
                    continue;
                }
            };
            if !seen.insert(ip) {
                warnings.push(format!(
                    "Duplicate IP '{ip}' skipped for host '{}'.",
                    h.name
                ));
                continue;
            }
            assets.push(json!({
                "ip_address": ip.to_string(), "type": "OS", "host_name": h.name,
                "tags": ["esxi"], "notes": format!("vCenter host: {}", h.name),
                "preserve_existing_notes": true, "merge_tags": true, "archived": false,
            }));
        }
        for vm in &self.vms {
            if vm.name.trim().is_empty() {
                warnings.push("Skipped VM without a name.".to_string());
                continue;
            }
            let Some(ip) = first_ipv4(vm.ips.iter().map(String::as_str)) else {
                warnings.push(format!(
                    "Skipped VM '{}' because no IPv4 guest IP was found.",
                    vm.name
                ));
                continue;
            };
            if !seen.insert(ip) {
                warnings.push(format!("Duplicate IP '{ip}' skipped for VM '{}'.", vm.name));
                continue;
            }
            let host = vm.host_name.as_deref().unwrap_or("unknown");
            assets.push(json!({
                "ip_address": ip.to_string(), "type": "VM",
                "notes": format!("vCenter VM: {} (host: {host})", vm.name),
                "preserve_existing_notes": true, "merge_tags": true, "archived": false,
            }));
        }
        let bundle = json!({"app": "ipocket", "schema_version": "1",
            "data": {"hosts": hosts, "ip_assets": assets}});
        (bundle, warnings)
    }

    /// The bundle for core's engine.
    pub fn bundle(&self) -> Result<Bundle, VcenterError> {
        let bytes = serde_json::to_vec(&self.bundle_json().0).unwrap_or_default();
        let mut b = ipocket_core::parse_bundle_json(&bytes)?;
        b.source = SOURCE.to_string();
        Ok(b)
    }

    /// The dry run against a local inventory.
    pub fn plan(&self, inventory: &Inventory) -> Result<ImportPlan, VcenterError> {
        Ok(inventory.plan(self.bundle()?, &ImportOptions::default())?)
    }
}

struct Session<'a> {
    client: HttpClient,
    base: &'a str,
    id: String,
}

impl Session<'_> {
    async fn get_json(&self, path: &str) -> Result<(u16, Value), VcenterError> {
        let url = HttpClient::parse_url(&format!("{}{path}", self.base))?;
        let r = self
            .client
            .request(
                Method::GET,
                &url,
                "application/json",
                &[("vmware-api-session-id", &self.id)],
            )
            .await?;
        if !(200..300).contains(&r.status) {
            return Ok((r.status, Value::Null));
        }
        let v = serde_json::from_slice(&r.body).map_err(|e| VcenterError::InvalidJson {
            path: path.to_string(),
            reason: e.to_string(),
        })?;
        Ok((r.status, v))
    }

    async fn list(&self, path: &str) -> Result<Vec<Value>, VcenterError> {
        match self.get_json(path).await? {
            (200, Value::Array(items)) => Ok(items),
            (200, _) => Err(VcenterError::InvalidJson {
                path: path.to_string(),
                reason: "expected an array".into(),
            }),
            (status, _) => Err(VcenterError::Status {
                path: path.to_string(),
                status,
            }),
        }
    }
}

fn field<'v>(v: &'v Value, key: &str, path: &str) -> Result<&'v str, VcenterError> {
    v.get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| VcenterError::InvalidJson {
            path: path.to_string(),
            reason: format!("item without a string '{key}'"),
        })
}

/// The login URL of `server` (`{server}/api/session`): the first URL a run requests, and
/// every other one shares its scheme, host and port.
///
/// ```
/// let u = ipocket_connectors::vcenter::session_url("https://vc.example:8443/").unwrap();
/// assert_eq!(u.to_string(), "https://vc.example:8443/api/session");
/// assert!(ipocket_connectors::vcenter::session_url("vc.example").is_err());
/// ```
pub fn session_url(server: &str) -> Result<ipocket_http::Uri, HttpError> {
    HttpClient::parse_url(&format!("{}/api/session", server.trim_end_matches('/')))
}

/// Resolves an ESXi host name with the system resolver within `timeout`: the first IPv4
/// answer (an IPv4-mapped IPv6 one counts), else why not (the text follows "its name").
///
/// ```
/// use ipocket_connectors::vcenter::resolve_host;
/// use std::time::Duration;
/// let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
/// let ip = rt.block_on(resolve_host("localhost", Duration::from_secs(2))).unwrap();
/// assert_eq!(ip.to_string(), "127.0.0.1");
/// ```
pub async fn resolve_host(name: &str, timeout: Duration) -> Result<Ipv4Addr, String> {
    let lookup = tokio::net::lookup_host((name.trim().to_string(), 0u16));
    let addrs: Vec<IpAddr> = match tokio::time::timeout(timeout, lookup).await {
        Err(_) => {
            return Err(format!(
                "did not resolve within {}s (resolve timeout)",
                timeout.as_secs_f64()
            ))
        }
        Ok(Err(e)) => return Err(format!("does not resolve ({e})")),
        Ok(Ok(a)) => a.map(|a| a.ip().to_canonical()).collect(),
    };
    addrs
        .iter()
        .find_map(|ip| match ip {
            IpAddr::V4(v4) => Some(*v4),
            IpAddr::V6(_) => None,
        })
        .ok_or_else(|| {
            let v6: Vec<String> = addrs.iter().map(IpAddr::to_string).collect();
            format!(
                "resolves to no IPv4 address ({}); ipocket records ESXi hosts by IPv4",
                v6.join(", ")
            )
        })
}

/// Resolves every host name that is not an IP, all at once (one slow name must not make
/// the others wait).
async fn resolve_hosts(hosts: &mut [VcHost], timeout: Duration) {
    let mut lookups = tokio::task::JoinSet::new();
    for (i, h) in hosts.iter().enumerate() {
        let name = h.name.trim().to_string();
        if !name.is_empty() && name.parse::<IpAddr>().is_err() {
            lookups.spawn(async move { (i, resolve_host(&name, timeout).await) });
        }
    }
    while let Some(done) = lookups.join_next().await {
        if let Ok((i, r)) = done {
            hosts[i].resolved = Some(r);
        }
    }
}

/// Logs in, lists hosts, VMs and guest addresses, resolves host names, logs out.
pub async fn collect(opts: &VcenterOptions) -> Result<Collection, VcenterError> {
    let base = opts.server.trim_end_matches('/');
    let mut client = HttpClient::new();
    if let Some(ca) = &opts.ca_file {
        client = client.with_ca_file(ca)?;
    }
    let client = client
        .with_insecure_tls(opts.insecure)
        .with_timeout(opts.timeout)
        .with_retries(2, Duration::from_millis(200));
    let login = session_url(base)?;
    let basic = Auth::Basic {
        user: opts.username.clone(),
        password: opts.password.clone(),
    }
    .header_value();
    let r = client
        .request(
            Method::POST,
            &login,
            "application/json",
            &[("Authorization", &basic)],
        )
        .await?;
    if matches!(r.status, 401 | 403) {
        return Err(VcenterError::Login(r.status));
    }
    if !(200..300).contains(&r.status) {
        return Err(VcenterError::Status {
            path: "/api/session".into(),
            status: r.status,
        });
    }
    let id: String = serde_json::from_slice(&r.body).map_err(|e| VcenterError::InvalidJson {
        path: "/api/session".into(),
        reason: format!("expected the session id as a JSON string: {e}"),
    })?;
    let s = Session { client, base, id };
    let mut result = collect_in(&s).await;
    // log out, best effort
    if let Ok(url) = HttpClient::parse_url(&format!("{base}/api/session")) {
        let _ = s
            .client
            .request(
                Method::DELETE,
                &url,
                "application/json",
                &[("vmware-api-session-id", &s.id)],
            )
            .await;
    }
    if let Ok(c) = &mut result {
        resolve_hosts(&mut c.hosts, opts.resolve_timeout).await;
    }
    result
}

async fn collect_in(s: &Session<'_>) -> Result<Collection, VcenterError> {
    let mut c = Collection::default();
    let mut vm_host: HashMap<String, String> = HashMap::new();
    for h in s.list("/api/vcenter/host").await? {
        let host = VcHost {
            id: field(&h, "host", "/api/vcenter/host")?.to_string(),
            name: h
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            resolved: None,
        };
        let path = format!("/api/vcenter/vm?hosts={}", host.id);
        for vm in s.list(&path).await? {
            vm_host.insert(field(&vm, "vm", &path)?.to_string(), host.name.clone());
        }
        c.hosts.push(host);
    }
    for vm in s.list("/api/vcenter/vm").await? {
        let id = field(&vm, "vm", "/api/vcenter/vm")?.to_string();
        let name = vm
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let path = format!("/api/vcenter/vm/{id}/guest/networking/interfaces");
        let mut ips = Vec::new();
        match s.get_json(&path).await? {
            (200, Value::Array(nics)) => {
                for nic in &nics {
                    let addrs = nic
                        .pointer("/ip/ip_addresses")
                        .and_then(Value::as_array)
                        .cloned()
                        .unwrap_or_default();
                    ips.extend(
                        addrs
                            .iter()
                            .filter_map(|a| a.get("ip_address").and_then(Value::as_str))
                            .map(str::to_string),
                    );
                }
            }
            (status, _) => c.warnings.push(format!(
                "VM '{name}': guest networking unavailable (HTTP {status}; VMware Tools not running?)."
            )),
        }
        c.vms.push(VcVm {
            host_name: vm_host.get(&id).cloned(),
            id,
            name,
            ips,
        });
    }
    Ok(c)
}

// No `#[source]`: the message already holds the cause, and `{:#}` chains would repeat it.
impl From<HttpError> for VcenterError {
    fn from(e: HttpError) -> Self {
        VcenterError::Http(e)
    }
}

impl From<ipocket_core::Error> for VcenterError {
    fn from(e: ipocket_core::Error) -> Self {
        VcenterError::Import(e)
    }
}

impl ipocket_errors::Classify for VcenterError {
    fn kind(&self) -> ipocket_errors::ErrorKind {
        match self {
            VcenterError::Http(e) => e.kind(),
            // vCenter refused or answered nonsense: the peer failed our caller.
            VcenterError::Login(_)
            | VcenterError::Status { .. }
            | VcenterError::InvalidJson { .. } => ipocket_errors::ErrorKind::Unavailable,
            VcenterError::Import(e) => e.kind(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ipv4_mapped_guest_address_is_its_ipv4_address() {
        assert_eq!(
            first_ipv4(["fe80::1", "::ffff:10.0.0.7", "10.0.0.8"]),
            Some(Ipv4Addr::new(10, 0, 0, 7))
        );
        assert_eq!(first_ipv4(["::ffff:127.0.0.1", "2001:db8::1"]), None);
    }
}
