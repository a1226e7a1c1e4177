//! The Prometheus query connector (seed 000): run an instant query on `/api/v1/query`,
//! take IP addresses from one label of the vector result and turn them into a bundle of
//! `ip_assets` for core's import engine.
//!
//! Hard failures are [`PrometheusConnectorError`]s; per-sample problems (missing label,
//! invalid value, IPv6, loopback, duplicates) are warnings and the run goes on.
//!
//! ```
//! use ipocket_connectors::prometheus::{extract_ips, parse_query_response, PrometheusOptions};
//! let body = br#"{"status":"success","data":{"resultType":"vector","result":[
//!   {"metric":{"__name__":"up","instance":"10.1.2.3:9100"},"value":[1700000000,"1"]},
//!   {"metric":{"instance":"127.0.0.1:9100"},"value":[1700000000,"1"]}]}}"#;
//! let resp = parse_query_response(200, body).unwrap();
//! let opts = PrometheusOptions::new("http://127.0.0.1:9090", "up", "instance");
//! let found = extract_ips(&resp, &opts);
//! assert_eq!(found.ips[0].ip, "10.1.2.3");
//! assert_eq!(found.warnings, ["Sample 1 skipped: loopback IP '127.0.0.1' is not allowed."]);
//! let bundle = found.bundle_json(&opts);
//! assert_eq!(bundle["data"]["ip_assets"][0]["preserve_existing_type"], true);
//! ```

use std::collections::HashSet;
use std::net::IpAddr;
use std::time::Duration;

use ipocket_core::{AssetType, Bundle, ImportOptions, ImportPlan, Inventory};
use serde_json::{json, Value};

use crate::plan_view::PlanView;
use ipocket_http::{Auth, HttpClient, HttpError};

/// The bundle's `source` label (audit log input).
pub const SOURCE: &str = "connector:prometheus";

/// What the connector needs; [`PrometheusOptions::new`] sets the defaults.
#[derive(Debug, Clone)]
pub struct PrometheusOptions {
    /// Base URL, e.g. `http://127.0.0.1:9090` (a trailing `/` is fine).
    pub prometheus_url: String,
    /// The PromQL expression (instant query).
    pub query: String,
    /// The label holding the IP, `host:port` or `[v6]:port` (usually `instance`).
    pub ip_label: String,
    /// Type of new assets (default `OTHER`; existing assets keep theirs).
    pub asset_type: AssetType,
    /// Project of every asset (must exist in the inventory).
    pub project_name: Option<String>,
    /// Tags of every asset (replace the existing tags on update).
    pub tags: Vec<String>,
    /// Bearer or Basic credentials ([`Auth::from_token`]).
    pub auth: Option<Auth>,
    /// Skip TLS certificate verification (`https://` only).
    pub insecure: bool,
    /// Also trust the PEM certificates in this file (`https://` only).
    pub ca_file: Option<std::path::PathBuf>,
    /// Per-attempt HTTP timeout (default 30 s).
    pub timeout: Duration,
    /// Import IPv6 addresses instead of skipping them with a warning.
    pub keep_ipv6: bool,
    /// Retries after transport errors (default 2).
    pub retries: usize,
}

impl PrometheusOptions {
    /// The required inputs; type `OTHER`, no project, no tags, no auth, 30 s timeout.
    pub fn new(prometheus_url: &str, query: &str, ip_label: &str) -> Self {
        PrometheusOptions {
            prometheus_url: prometheus_url.to_string(),
            query: query.to_string(),
            ip_label: ip_label.to_string(),
            asset_type: AssetType::Other,
            project_name: None,
            tags: Vec::new(),
            auth: None,
            insecure: false,
            ca_file: None,
            timeout: Duration::from_secs(30),
            keep_ipv6: false,
            retries: 2,
        }
    }
}

/// A hard failure: nothing is imported.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PrometheusConnectorError {
    /// The connector's own inputs are wrong (empty query, bad URL…).
    #[error("invalid connector input: {0}")]
    InvalidInput(String),
    /// No HTTP answer (connection, timeout, TLS).
    #[error("Prometheus query failed: {0}")]
    Http(HttpError),
    /// 401 or 403. (No error of this type quotes the body of the answer: a server that runs
    /// connectors for its users must not relay what some other service on its network said.)
    #[error("Prometheus refused the credentials (HTTP {status})")]
    Auth {
        /// 401 or 403.
        status: u16,
    },
    /// An HTTP error status without a Prometheus JSON error body (proxy, 404, 405…).
    #[error("Prometheus query failed with HTTP {status}")]
    HttpStatus {
        /// Status code.
        status: u16,
    },
    /// The body is not JSON, or not the API envelope.
    #[error("invalid JSON from Prometheus (HTTP {status}): {reason}")]
    InvalidJson {
        /// Status code.
        status: u16,
        /// What was wrong, located (`data.result[3].metric`).
        reason: String,
    },
    /// `status` is not `success`. The `error` text is kept only with one of Prometheus' own
    /// `errorType`s (a PromQL error is worth reading); any other answer is summed up as
    /// `unknown`, without its text.
    #[error("Prometheus answered status '{status}' (HTTP {http_status}, errorType {error_type}): {error}")]
    Api {
        /// `status` field (`error`).
        status: String,
        /// HTTP status.
        http_status: u16,
        /// `errorType` (`bad_data`, `execution`, `timeout`…).
        error_type: String,
        /// `error` text.
        error: String,
    },
    /// `resultType` other than `vector`.
    #[error("Unsupported Prometheus resultType '{0}'. Expected 'vector'.")]
    UnsupportedResultType(String),
    /// The import engine refused the bundle (for example an unknown project).
    #[error("import failed: {0}")]
    Import(ipocket_core::Error),
}

/// One vector sample: its labels and value.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// Labels, including `__name__` if any.
    pub metric: serde_json::Map<String, Value>,
    /// The value string (`"1"`, `"NaN"`, `"+Inf"`).
    pub value: String,
}

/// A successful `/api/v1/query` answer with a vector result.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct QueryResponse {
    /// The samples, in the order Prometheus returned them.
    pub samples: Vec<Sample>,
    /// Prometheus's own `warnings` (and `infos`).
    pub warnings: Vec<String>,
}

/// The `errorType`s of Prometheus' HTTP API (`web/api/v1/api.go`).
const PROMETHEUS_ERROR_TYPES: [&str; 8] = [
    "timeout",
    "canceled",
    "execution",
    "bad_data",
    "internal",
    "unavailable",
    "not_found",
    "not_acceptable",
];

/// Reads an `/api/v1/query` answer: hard errors for everything seed 000 calls one.
///
/// ```
/// use ipocket_connectors::prometheus::{parse_query_response, PrometheusConnectorError};
/// let e = parse_query_response(200, br#"{"status":"success","data":{"resultType":"scalar","result":[1,"42"]}}"#);
/// assert!(matches!(e, Err(PrometheusConnectorError::UnsupportedResultType(t)) if t == "scalar"));
/// ```
pub fn parse_query_response(
    http_status: u16,
    body: &[u8],
) -> Result<QueryResponse, PrometheusConnectorError> {
    // The typed reader takes the usual success answer in one pass; anything it does not
    // take (an error, another result type, an odd value) goes through the generic reader,
    // which words every failure.
    if let Some(answer) = typed::read_vector(body) {
        return Ok(answer);
    }
    parse_generic(http_status, body)
}

/// The typed reader of a successful vector answer (the fast path of
/// [`parse_query_response`]): the envelope and the sample shape are serde structs, the
/// strings only compared or skipped are borrowed from the body, and each sample's labels are
/// read straight into its map (no `Value` tree of the whole answer, no copy of each map).
mod typed {
    use std::borrow::Cow;

    use serde::de::IgnoredAny;
    use serde::Deserialize;

    use super::{QueryResponse, Sample};

    #[derive(Deserialize)]
    struct Envelope<'a> {
        #[serde(borrow)]
        status: Cow<'a, str>,
        #[serde(borrow)]
        data: Data<'a>,
        #[serde(default)]
        warnings: Option<Vec<String>>,
        #[serde(default)]
        infos: Option<Vec<String>>,
    }

    #[derive(Deserialize)]
    struct Data<'a> {
        #[serde(rename = "resultType", borrow)]
        result_type: Cow<'a, str>,
        result: Vec<TypedSample>,
    }

    #[derive(Deserialize)]
    struct TypedSample {
        metric: serde_json::Map<String, serde_json::Value>,
        /// `[timestamp, "value"]`: the timestamp is not kept.
        value: (IgnoredAny, String),
    }

    /// The answer, or `None` when it is not a well-formed successful vector answer (the
    /// generic reader then decides, with the same result for every body this one takes).
    pub(super) fn read_vector(body: &[u8]) -> Option<QueryResponse> {
        let e: Envelope<'_> = serde_json::from_slice(body).ok()?;
        if e.status != "success" || e.data.result_type != "vector" {
            return None;
        }
        let samples = e
            .data
            .result
            .into_iter()
            .map(|s| Sample {
                metric: s.metric,
                value: s.value.1,
            })
            .collect();
        let warnings = e.warnings.into_iter().chain(e.infos).flatten().collect();
        Some(QueryResponse { samples, warnings })
    }
}

/// Reads any answer through a `serde_json::Value`: the located errors of
/// [`parse_query_response`], and the rare success shapes the typed reader leaves (native
/// histograms, non-string values). Public only as the baseline of the liveness bench
/// (`benches/benches/liveness.rs`); call [`parse_query_response`].
#[doc(hidden)]
pub fn parse_generic(
    http_status: u16,
    body: &[u8],
) -> Result<QueryResponse, PrometheusConnectorError> {
    let v: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => {
            if matches!(http_status, 401 | 403) {
                return Err(PrometheusConnectorError::Auth {
                    status: http_status,
                });
            }
            if !(200..300).contains(&http_status) {
                return Err(PrometheusConnectorError::HttpStatus {
                    status: http_status,
                });
            }
            return Err(PrometheusConnectorError::InvalidJson {
                status: http_status,
                reason: e.to_string(),
            });
        }
    };
    let bad = |reason: String| PrometheusConnectorError::InvalidJson {
        status: http_status,
        reason,
    };
    let Some(obj) = v.as_object() else {
        return Err(bad("expected an object at the top".into()));
    };
    let status = obj.get("status").and_then(Value::as_str).unwrap_or("");
    if status != "success" {
        if status.is_empty() && !(200..300).contains(&http_status) {
            return Err(PrometheusConnectorError::HttpStatus {
                status: http_status,
            });
        }
        let error_type = obj
            .get("errorType")
            .and_then(Value::as_str)
            .filter(|t| PROMETHEUS_ERROR_TYPES.contains(t));
        let error = match (error_type, obj.get("error").and_then(Value::as_str)) {
            (Some(_), Some(e)) => e.chars().take(300).collect(),
            _ => "(not shown: not a Prometheus error answer)".to_string(),
        };
        return Err(PrometheusConnectorError::Api {
            status: match status {
                "" => "missing",
                "error" => "error",
                _ => "unexpected",
            }
            .to_string(),
            http_status,
            error_type: error_type.unwrap_or("unknown").to_string(),
            error,
        });
    }
    let data = obj
        .get("data")
        .and_then(Value::as_object)
        .ok_or_else(|| bad("data: expected an object".into()))?;
    let result_type = data
        .get("resultType")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("data.resultType: expected a string".into()))?;
    if result_type != "vector" {
        let known = ["matrix", "scalar", "string"];
        return Err(PrometheusConnectorError::UnsupportedResultType(
            known
                .iter()
                .find(|t| **t == result_type)
                .unwrap_or(&"unknown")
                .to_string(),
        ));
    }
    let result = data
        .get("result")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("data.result: expected an array".into()))?;
    let mut samples = Vec::with_capacity(result.len());
    for (i, item) in result.iter().enumerate() {
        let metric = item
            .get("metric")
            .and_then(Value::as_object)
            .ok_or_else(|| bad(format!("data.result[{i}].metric: expected an object")))?;
        let value = match item.get("value").and_then(Value::as_array) {
            Some(pair) => match pair.get(1) {
                Some(Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
                None => String::new(),
            },
            // native histograms have no "value"; only the labels matter here
            None if item.get("histogram").is_some() => "histogram".into(),
            None => return Err(bad(format!("data.result[{i}].value: expected [ts, \"v\"]"))),
        };
        samples.push(Sample {
            metric: metric.clone(),
            value,
        });
    }
    let mut warnings = Vec::new();
    for key in ["warnings", "infos"] {
        if let Some(list) = obj.get(key).and_then(Value::as_array) {
            warnings.extend(list.iter().map(|w| match w {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            }));
        }
    }
    Ok(QueryResponse { samples, warnings })
}

/// Why a label value gave no address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IpValue {
    /// An IPv4 or IPv6 address (host part of `host:port`, inside `[v6]:port`, or bare).
    Ip(IpAddr),
    /// Not an address (a host name, garbage).
    Invalid,
}

/// Takes the host part of `host:port`, `[v6]:port`, a bare IPv4 or a bare IPv6, and parses it.
///
/// ```
/// use ipocket_connectors::prometheus::{parse_ip_value, IpValue};
/// assert_eq!(parse_ip_value("10.1.2.3:9100"), IpValue::Ip("10.1.2.3".parse().unwrap()));
/// assert_eq!(parse_ip_value("[2001:db8::1]:9100"), IpValue::Ip("2001:db8::1".parse().unwrap()));
/// assert_eq!(parse_ip_value("2001:db8::1"), IpValue::Ip("2001:db8::1".parse().unwrap()));
/// assert_eq!(parse_ip_value(" 10.0.0.9 "), IpValue::Ip("10.0.0.9".parse().unwrap()));
/// assert_eq!(parse_ip_value("db-01.example.internal:9100"), IpValue::Invalid);
/// assert_eq!(parse_ip_value("10.1.2.3:x"), IpValue::Invalid);
/// // an IPv4-mapped IPv6 address is the IPv4 address (one asset, not two)
/// assert_eq!(parse_ip_value("[::ffff:10.1.2.3]:9100"), IpValue::Ip("10.1.2.3".parse().unwrap()));
/// ```
pub fn parse_ip_value(value: &str) -> IpValue {
    let v = value.trim();
    let host = if let Some(rest) = v.strip_prefix('[') {
        match rest.split_once(']') {
            Some((h, tail)) if tail.is_empty() || port_ok(tail.strip_prefix(':')) => h,
            _ => return IpValue::Invalid,
        }
    } else if v.matches(':').count() == 1 {
        let (h, p) = v.split_once(':').unwrap_or((v, ""));
        if !port_ok(Some(p)) {
            return IpValue::Invalid;
        }
        h
    } else {
        v
    };
    match host.parse::<IpAddr>() {
        Ok(ip) => IpValue::Ip(ip.to_canonical()),
        Err(_) => IpValue::Invalid,
    }
}

fn port_ok(p: Option<&str>) -> bool {
    p.is_some_and(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()))
}

/// The seed's extraction rules for one sample: the address in label `label`, refused when
/// missing, not an address, loopback, or IPv6 without `keep_ipv6`. The error is the reason,
/// a sentence (the callers prefix the sample's position). The liveness join uses the same rules.
///
/// ```
/// use ipocket_connectors::prometheus::sample_ip;
/// let m = serde_json::json!({"instance": "[2001:db8::1]:9100"});
/// let m = m.as_object().unwrap();
/// assert_eq!(sample_ip(m, "instance", true).unwrap().to_string(), "2001:db8::1");
/// assert!(sample_ip(m, "instance", false).unwrap_err().contains("keep_ipv6 is off"));
/// ```
pub fn sample_ip(
    metric: &serde_json::Map<String, Value>,
    label: &str,
    keep_ipv6: bool,
) -> Result<IpAddr, String> {
    let Some(raw) = metric.get(label).and_then(Value::as_str) else {
        return Err(format!("label '{label}' is missing."));
    };
    let ip = match parse_ip_value(raw) {
        IpValue::Invalid => {
            return Err(format!(
                "label '{label}' value '{raw}' does not contain a valid IPv4 address."
            ))
        }
        IpValue::Ip(ip) => ip,
    };
    if ip.is_loopback() {
        return Err(format!("loopback IP '{ip}' is not allowed."));
    }
    if ip.is_ipv6() && !keep_ipv6 {
        return Err(format!(
            "IPv6 address '{ip}' is not imported (keep_ipv6 is off)."
        ));
    }
    Ok(ip)
}

/// One address taken from a sample.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtractedIp {
    /// Canonical address text.
    pub ip: String,
    /// `__name__` of the sample, or `unknown`.
    pub metric: String,
    /// The sample value.
    pub value: String,
    /// Index of the sample in `data.result`.
    pub sample: usize,
}

/// The addresses of one run plus the warnings.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Extraction {
    /// Samples in the answer.
    pub samples: usize,
    /// Addresses, first occurrence order, no duplicates.
    pub ips: Vec<ExtractedIp>,
    /// Soft problems, in sample order (Prometheus's own warnings come first, prefixed).
    pub warnings: Vec<String>,
    /// The query that was run (the reports show it once, not in every note).
    pub query: String,
}

/// Applies the seed's extraction rules to every sample.
pub fn extract_ips(resp: &QueryResponse, opts: &PrometheusOptions) -> Extraction {
    let mut out = Extraction {
        samples: resp.samples.len(),
        query: opts.query.clone(),
        ..Extraction::default()
    };
    out.warnings.extend(
        resp.warnings
            .iter()
            .map(|w| format!("Prometheus warning: {w}")),
    );
    let mut seen = HashSet::new();
    for (i, s) in resp.samples.iter().enumerate() {
        let ip = match sample_ip(&s.metric, &opts.ip_label, opts.keep_ipv6) {
            Ok(ip) => ip,
            Err(why) => {
                out.warnings.push(format!("Sample {i} skipped: {why}"));
                continue;
            }
        };
        let ip = ip.to_string();
        if !seen.insert(ip.clone()) {
            out.warnings.push(format!("Duplicate IP '{ip}' skipped."));
            continue;
        }
        let metric = s
            .metric
            .get("__name__")
            .and_then(Value::as_str)
            .unwrap_or("unknown")
            .to_string();
        out.ips.push(ExtractedIp {
            ip,
            metric,
            value: s.value.clone(),
            sample: i,
        });
    }
    out
}

impl Extraction {
    /// The bundle JSON (`schema_version` "1") exactly as seed 000 maps it.
    pub fn bundle_json(&self, opts: &PrometheusOptions) -> Value {
        let assets: Vec<Value> = self
            .ips
            .iter()
            .map(|x| {
                let mut a = json!({
                    "ip_address": x.ip,
                    "type": opts.asset_type.as_str(),
                    "notes": format!(
                        "Imported from Prometheus query '{}' using label '{}' (metric={}, value={}).",
                        opts.query, opts.ip_label, x.metric, x.value
                    ),
                    "preserve_existing_notes": true,
                    "preserve_existing_type": true,
                    "archived": false,
                });
                if let Some(p) = &opts.project_name {
                    a["project_name"] = json!(p);
                }
                if !opts.tags.is_empty() {
                    a["tags"] = json!(opts.tags);
                }
                a
            })
            .collect();
        json!({
            "app": "ipocket",
            "schema_version": "1",
            "data": { "ip_assets": assets },
        })
    }

    /// The bundle for core's engine, parsed from [`Extraction::bundle_json`] so that file
    /// mode and dry-run/apply see the same input.
    pub fn bundle(&self, opts: &PrometheusOptions) -> Result<Bundle, PrometheusConnectorError> {
        let bytes = serde_json::to_vec(&self.bundle_json(opts)).unwrap_or_default();
        let mut b = ipocket_core::parse_bundle_json(&bytes)?;
        b.source = SOURCE.to_string();
        Ok(b)
    }

    /// The dry run against a local inventory (projects must exist already).
    pub fn plan(
        &self,
        inventory: &Inventory,
        opts: &PrometheusOptions,
    ) -> Result<ImportPlan, PrometheusConnectorError> {
        Ok(inventory.plan(self.bundle(opts)?, &ImportOptions::default())?)
    }
}

/// Runs the query and extracts the addresses (no import).
pub async fn fetch(opts: &PrometheusOptions) -> Result<Extraction, PrometheusConnectorError> {
    if opts.query.trim().is_empty() {
        return Err(PrometheusConnectorError::InvalidInput(
            "query is empty".into(),
        ));
    }
    if opts.ip_label.trim().is_empty() {
        return Err(PrometheusConnectorError::InvalidInput(
            "ip_label is empty".into(),
        ));
    }
    let url = query_url(&opts.prometheus_url, &opts.query)?;
    let client = query_client(
        opts.ca_file.as_deref(),
        opts.insecure,
        opts.timeout,
        opts.auth.clone(),
        opts.retries,
    )?;
    let r = client.get(&url, "application/json").await?;
    let resp = parse_query_response(r.status, &r.body)?;
    Ok(extract_ips(&resp, opts))
}

/// The shared HTTP client as the Prometheus queries use it (connector and liveness).
pub(crate) fn query_client(
    ca_file: Option<&std::path::Path>,
    insecure: bool,
    timeout: Duration,
    auth: Option<Auth>,
    retries: usize,
) -> Result<HttpClient, HttpError> {
    let mut client = HttpClient::new();
    if let Some(ca) = ca_file {
        client = client.with_ca_file(ca)?;
    }
    Ok(client
        .with_insecure_tls(insecure)
        .with_timeout(timeout)
        .with_auth(auth)
        .with_retries(retries, Duration::from_millis(200)))
}

/// `{base}/api/v1/query?query=<urlencoded>`.
///
/// ```
/// let u = ipocket_connectors::prometheus::query_url("http://127.0.0.1:9090/", "up{job=\"node\"} == 1").unwrap();
/// assert_eq!(u.to_string(), "http://127.0.0.1:9090/api/v1/query?query=up%7Bjob%3D%22node%22%7D%20%3D%3D%201");
/// ```
pub fn query_url(base: &str, query: &str) -> Result<hyper::Uri, PrometheusConnectorError> {
    HttpClient::parse_url(base)?;
    let url = format!(
        "{}/api/v1/query?query={}",
        base.trim_end_matches('/'),
        urlencode(query)
    );
    Ok(HttpClient::parse_url(&url)?)
}

pub(crate) fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The dry-run log lines of the original UI, from the extraction and the engine's plan:
/// an IP preview (first 20), one line per IP asset with its action and field diffs (at most
/// 100), the warnings and the summary. `plan` is a local [`ImportPlan`] or a server's
/// [`RemotePlan`](crate::remote::RemotePlan): the lines are the same. The query, which every
/// note repeats, shows as `'…'` in the diffs (the caller prints it once).
///
/// ```
/// use ipocket_connectors::prometheus::*;
/// let resp = parse_query_response(200, br#"{"status":"success","data":{"resultType":"vector","result":[
///   {"metric":{"instance":"10.0.0.1:9100"},"value":[1,"1"]}]}}"#).unwrap();
/// let opts = PrometheusOptions::new("http://127.0.0.1:9090", "up", "instance");
/// let x = extract_ips(&resp, &opts);
/// let inv = ipocket_core::Inventory::open_in_memory().unwrap();
/// let lines = dry_run_report(&x, &x.plan(&inv, &opts).unwrap());
/// assert_eq!(lines[0], "Dry-run IP preview (1): 10.0.0.1");
/// assert_eq!(lines[2], "- [CREATE] 10.0.0.1: type=OTHER; notes=Imported from Prometheus query '…' using label 'instance' (metric=unknown, value=1).");
/// assert_eq!(lines.last().unwrap(), "Import mode: dry-run. Summary create=1, update=0, skip=0.");
/// ```
pub fn dry_run_report(x: &Extraction, plan: &(impl PlanView + ?Sized)) -> Vec<String> {
    report(x, plan, None)
}

/// The lines of an applied import: [`dry_run_report`]'s, worded as done, ending with the
/// audit entry of the import run (`audit_id`).
///
/// ```
/// use ipocket_connectors::prometheus::*;
/// let resp = parse_query_response(200, br#"{"status":"success","data":{"resultType":"vector","result":[
///   {"metric":{"instance":"10.0.0.1:9100"},"value":[1,"1"]}]}}"#).unwrap();
/// let opts = PrometheusOptions::new("http://127.0.0.1:9090", "up", "instance");
/// let x = extract_ips(&resp, &opts);
/// let mut inv = ipocket_core::Inventory::open_in_memory().unwrap();
/// let plan = x.plan(&inv, &opts).unwrap();
/// let done = inv.apply(&ipocket_core::Actor::system(), &plan).unwrap();
/// let lines = apply_report(&x, &plan, done.import_run_audit_id);
/// assert_eq!(lines[0], "IPs found (1): 10.0.0.1");
/// assert!(lines.iter().all(|l| !l.contains("dry-run")), "{lines:?}");
/// assert!(lines.last().unwrap().starts_with("Import mode: apply (audit entry "));
/// ```
pub fn apply_report(x: &Extraction, plan: &(impl PlanView + ?Sized), audit_id: i64) -> Vec<String> {
    report(x, plan, Some(audit_id))
}

fn report(x: &Extraction, plan: &(impl PlanView + ?Sized), applied: Option<i64>) -> Vec<String> {
    const PREVIEW: usize = 20;
    const DETAIL: usize = 100;
    let mut lines = Vec::new();
    let preview: Vec<&str> = x.ips.iter().take(PREVIEW).map(|i| i.ip.as_str()).collect();
    let more = if x.ips.len() > PREVIEW { ", …" } else { "" };
    let (found, details) = match applied {
        None => ("Dry-run IP preview", "Dry-run per-IP change details:"),
        Some(_) => ("IPs found", "Per-IP changes applied:"),
    };
    lines.push(format!(
        "{found} ({}): {}{more}",
        x.ips.len(),
        preview.join(", ")
    ));
    lines.push(details.into());
    // Every note names the whole query: once (by the caller) is enough.
    let quoted = format!("'{}'", x.query);
    let show = |v: &Option<String>| match v {
        None => "∅".to_string(),
        Some(v) if x.query.is_empty() => v.clone(),
        Some(v) => v.replace(&quoted, "'…'"),
    };
    let assets: Vec<_> = plan
        .planned_items()
        .into_iter()
        .filter(|i| i.entity == ipocket_core::ImportEntity::IpAsset)
        .collect();
    for item in assets.iter().take(DETAIL) {
        let tag = match item.action {
            ipocket_core::ImportAction::Create => "CREATE",
            ipocket_core::ImportAction::Update => "UPDATE",
            ipocket_core::ImportAction::Skip => "SKIP",
        };
        let mut parts: Vec<String> = item
            .changes
            .iter()
            .map(|c| {
                if item.action == ipocket_core::ImportAction::Create {
                    format!("{}={}", c.field, show(&c.after))
                } else {
                    format!("{} {} -> {}", c.field, show(&c.before), show(&c.after))
                }
            })
            .collect();
        parts.extend(item.warnings.iter().cloned());
        if parts.is_empty() {
            parts.push("no field changes".to_string());
        }
        let mut line = format!("- [{tag}] {}: {}", item.key, parts.join("; "));
        // A note or warning that is a sentence already ends the line.
        if !line.ends_with('.') {
            line.push('.');
        }
        lines.push(line);
    }
    if assets.len() > DETAIL {
        lines.push(format!(
            "- Detail truncated: {} more IP(s).",
            assets.len() - DETAIL
        ));
    }
    for w in &x.warnings {
        lines.push(format!("warning: {w}"));
    }
    for w in plan.plan_warnings() {
        lines.push(format!("warning: {w}"));
    }
    let s = plan.summary().ip_assets;
    let mode = match applied {
        None => "dry-run".to_string(),
        Some(id) => format!("apply (audit entry {id})"),
    };
    lines.push(format!(
        "Import mode: {mode}. Summary create={}, update={}, skip={}.",
        s.create, s.update, s.skip
    ));
    lines
}

// No `#[source]`: the message already holds the cause, and `{:#}` chains would repeat it.
impl From<HttpError> for PrometheusConnectorError {
    fn from(e: HttpError) -> Self {
        PrometheusConnectorError::Http(e)
    }
}

impl From<ipocket_core::Error> for PrometheusConnectorError {
    fn from(e: ipocket_core::Error) -> Self {
        PrometheusConnectorError::Import(e)
    }
}

impl ipocket_errors::Classify for PrometheusConnectorError {
    fn kind(&self) -> ipocket_errors::ErrorKind {
        use PrometheusConnectorError as E;
        match self {
            E::InvalidInput(_) => ipocket_errors::ErrorKind::Invalid,
            E::Http(e) => e.kind(),
            // Prometheus refused the credentials or the query, or answered nonsense: the
            // peer failed our caller (its status is in the variant).
            E::Auth { .. }
            | E::HttpStatus { .. }
            | E::InvalidJson { .. }
            | E::Api { .. }
            | E::UnsupportedResultType(_) => ipocket_errors::ErrorKind::Unavailable,
            E::Import(e) => e.kind(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The typed reader takes a body only when the generic one reads it the same way.
    #[test]
    fn the_typed_reader_agrees_with_the_generic_one_or_leaves_the_body_to_it() {
        let dir = format!("{}/tests/data/prometheus", env!("CARGO_MANIFEST_DIR"));
        let mut bodies: Vec<Vec<u8>> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| std::fs::read(e.unwrap().path()).unwrap())
            .collect();
        assert!(bodies.len() > 10, "{dir}");
        for odd in [
            // escapes, a label map with a repeated key, warnings and infos
            r#"{"status":"success","warnings":["w"],"infos":["i"],"data":{"resultType":"vector","result":[
              {"metric":{"a":"x\"y","a":"z","instance":"10.0.0.1:9100"},"value":[1.5,"1"]}]}}"#,
            // a value that is not a string, a native histogram, a 3-element pair
            r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,2]}]}}"#,
            r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"histogram":[1,{}]}]}}"#,
            r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"2",3]}]}}"#,
            // repeated top-level keys, warnings that are not strings, null warnings
            r#"{"status":"error","status":"success","data":{"resultType":"vector","result":[]}}"#,
            r#"{"status":"success","warnings":[1],"data":{"resultType":"vector","result":[]}}"#,
            r#"{"status":"success","warnings":null,"data":{"resultType":"vector","result":[]}}"#,
            // the data before the status, a metric that is not an object, no data
            r#"{"data":{"result":[],"resultType":"vector"},"status":"success"}"#,
            r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":1,"value":[1,"1"]}]}}"#,
            r#"{"status":"success"}"#,
        ] {
            bodies.push(odd.as_bytes().to_vec());
        }
        let mut fast = 0;
        for body in &bodies {
            let text = String::from_utf8_lossy(body);
            if let Some(typed) = typed::read_vector(body) {
                fast += 1;
                let generic = parse_generic(200, body).unwrap();
                assert_eq!(typed, generic, "{text}");
            }
            assert_eq!(
                format!("{:?}", parse_query_response(200, body)),
                format!("{:?}", parse_generic(200, body)),
                "{text}"
            );
        }
        assert!(fast >= 6, "the usual answers take the fast path ({fast})");
    }
}
