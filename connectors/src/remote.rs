//! A small typed client for a remote ipocket server (`ipocket serve`): the import engine's
//! dry run and apply over `POST /api/v1/import`, and the service-discovery target groups of
//! `GET /api/v1/sd`, on the crate's [`HttpClient`].
//!
//! - Auth is the server's bearer token (`POST /api/v1/auth/login`, `--ipocket-token`);
//!   `X-SD-Token` may stand in for it on the SD endpoint.
//! - Every error answer of the server has one shape, `{"error":{"code","message","details"}}`;
//!   it becomes a [`RemoteError`] variant (401 → [`RemoteError::Unauthorized`], an invalid
//!   bundle → [`RemoteError::ImportInvalid`] with the located issues, …).
//! - The token is never in an error, a log line or `Debug` output, and URLs with user info
//!   are refused.
//!
//! ```no_run
//! # async fn demo() -> Result<(), ipocket_connectors::remote::RemoteError> {
//! use ipocket_connectors::remote::{RemoteInventory, RemoteOptions};
//! let remote = RemoteInventory::new("http://127.0.0.1:8000", Some("token"), &RemoteOptions::default())?;
//! let bundle = serde_json::json!({"schema_version": "1", "data": {"ip_assets": [{"ip_address": "10.0.0.1"}]}});
//! let plan = remote.plan(&bundle).await?;
//! println!("would create {}", plan.summary.ip_assets.create);
//! let applied = remote.apply(&bundle).await?;
//! println!("audit entry {}", applied.report.import_run_audit_id);
//! # Ok(()) }
//! ```

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use hyper::body::Bytes;
use hyper::{Method, Uri};
use ipocket_core::{
    ApplyReport, FieldChange, ImportAction, ImportEntity, ImportIssue, ImportSummary, PlannedItem,
    SdGrouping, SdOptions, TargetGroup,
};
use ipocket_errors::{ApiErrorCode, ErrorKind};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::plan_view::PlanView;
use ipocket_http::{Auth, HttpClient, HttpError};

/// How to reach the server: timeout, TLS, retries of the GETs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteOptions {
    /// Per-request timeout (default 30 s; an apply of a big bundle may need more).
    pub timeout: Duration,
    /// Accept any server certificate (test set-ups only).
    pub insecure: bool,
    /// Also trust the PEM certificate(s) of this file.
    pub ca_file: Option<PathBuf>,
    /// Retries of GET requests (transport errors, timeouts, 429/502/503/504); imports are
    /// POSTs and never retried.
    pub retries: usize,
}

impl Default for RemoteOptions {
    fn default() -> Self {
        RemoteOptions {
            timeout: Duration::from_secs(30),
            insecure: false,
            ca_file: None,
            retries: 3,
        }
    }
}

/// Why the server did not do what was asked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RemoteError {
    /// No HTTP answer: bad URL, connection refused, TLS, timeout.
    #[error("ipocket server: {0}")]
    Http(#[from] HttpError),
    /// 401: no token, a wrong or an expired one.
    #[error("ipocket server {url} refused the token (401 unauthorized): {message}")]
    Unauthorized {
        /// The endpoint.
        url: String,
        /// The server's message.
        message: String,
    },
    /// 403: the token's user may not do this (a Viewer applying an import).
    #[error("ipocket server {url} forbids this (403 forbidden): {message}")]
    Forbidden {
        /// The endpoint.
        url: String,
        /// The server's message.
        message: String,
    },
    /// 422 `import_invalid`: the bundle has errors; nothing was written.
    #[error("ipocket server rejected the bundle: {}", issues_text(.issues, .message))]
    ImportInvalid {
        /// The server's summary line.
        message: String,
        /// Every located problem (`data.ip_assets[0].ip_address: …`).
        issues: Vec<ImportIssue>,
    },
    /// Any other error answer in the API's shape.
    #[error("ipocket server {url} answered {status} {code}: {message}{}", details_text(.details))]
    Api {
        /// The endpoint.
        url: String,
        /// HTTP status.
        status: u16,
        /// The stable machine code (`conflict`, `stale_plan`, `not_found`, …).
        code: String,
        /// The server's message.
        message: String,
        /// `details`, `null` when none.
        details: Value,
    },
    /// An answer that is not the API's (a proxy's HTML page, a wrong URL).
    #[error("{url} answered {status} with no ipocket API error ({content_type}): {snippet:?}; is this an ipocket server?")]
    Unexpected {
        /// The endpoint.
        url: String,
        /// HTTP status.
        status: u16,
        /// `Content-Type`, or `no content type`.
        content_type: String,
        /// The start of the body.
        snippet: String,
    },
    /// A 200 answer whose JSON does not have the expected shape.
    #[error("{url} answered 200 with JSON that is not {expected} (line {line}, column {column}: {message})")]
    InvalidJson {
        /// The endpoint.
        url: String,
        /// What was expected.
        expected: &'static str,
        /// Where parsing stopped.
        line: usize,
        /// Where parsing stopped.
        column: usize,
        /// serde_json's description.
        message: String,
    },
}

fn issues_text(issues: &[ImportIssue], message: &str) -> String {
    if issues.is_empty() {
        return message.to_string();
    }
    let lines: Vec<String> = issues.iter().map(|i| format!("\n  {i}")).collect();
    format!("{message}{}", lines.concat())
}

fn details_text(details: &Value) -> String {
    if details.is_null() {
        String::new()
    } else {
        format!(" (details: {details})")
    }
}

/// One record of a server's plan (the owned form of [`PlannedItem`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemotePlanItem {
    /// Kind of record.
    pub entity: ImportEntity,
    /// Natural key (name, CIDR, address).
    pub key: String,
    /// Where it came from in the bundle.
    pub location: String,
    /// Create, update or skip.
    pub action: ImportAction,
    /// Field-level differences.
    pub changes: Vec<FieldChange>,
    /// Notes about this record.
    pub warnings: Vec<String>,
}

/// The import engine's plan as the server computed it; serialises exactly as
/// [`ImportPlan`](ipocket_core::ImportPlan) does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemotePlan {
    /// Label of the source.
    pub source: String,
    /// Counts.
    pub summary: ImportSummary,
    /// Every record, in apply order.
    pub items: Vec<RemotePlanItem>,
    /// Warnings about the whole import.
    pub warnings: Vec<ImportIssue>,
}

impl PlanView for RemotePlan {
    fn summary(&self) -> ImportSummary {
        self.summary
    }

    fn plan_warnings(&self) -> &[ImportIssue] {
        &self.warnings
    }

    fn planned_items(&self) -> Vec<PlannedItem<'_>> {
        self.items
            .iter()
            .map(|i| PlannedItem {
                entity: i.entity,
                key: &i.key,
                location: i.location.clone(),
                action: i.action,
                changes: std::borrow::Cow::Borrowed(&i.changes),
                warnings: &i.warnings,
            })
            .collect()
    }
}

/// What an apply did: the plan it ran and the server's report (audit entry id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoteApply {
    /// The plan the server applied.
    pub plan: RemotePlan,
    /// Counts and the `IMPORT_RUN` audit id.
    pub report: ApplyReport,
}

#[derive(Deserialize)]
struct ImportAnswer {
    plan: RemotePlan,
    applied: Option<ApplyReport>,
}

#[derive(Deserialize)]
struct ErrorAnswer {
    error: ErrorBody,
}

#[derive(Deserialize)]
struct ErrorBody {
    code: String,
    message: String,
    #[serde(default)]
    details: Value,
}

/// A remote ipocket server: base URL, token and one pooled HTTP client.
#[derive(Clone)]
pub struct RemoteInventory {
    base: String,
    client: HttpClient,
    sd_token: Option<String>,
}

impl fmt::Debug for RemoteInventory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemoteInventory")
            .field("base", &self.base)
            .field("client", &self.client)
            .field("sd_token", &self.sd_token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl RemoteInventory {
    /// A client of the server at `url` (`http(s)://host:port`, maybe with a path prefix),
    /// sending `Authorization: Bearer <token>` when a token is given.
    ///
    /// ```
    /// use ipocket_connectors::remote::{RemoteInventory, RemoteOptions};
    /// let r = RemoteInventory::new("http://127.0.0.1:8000/", Some("s3cret"), &RemoteOptions::default()).unwrap();
    /// assert_eq!(r.base_url(), "http://127.0.0.1:8000");
    /// assert!(!format!("{r:?}").contains("s3cret"));
    /// assert!(RemoteInventory::new("http://admin:pw@127.0.0.1/", None, &RemoteOptions::default()).is_err());
    /// ```
    pub fn new(
        url: &str,
        token: Option<&str>,
        options: &RemoteOptions,
    ) -> Result<RemoteInventory, RemoteError> {
        let uri = HttpClient::parse_url(url.trim())?;
        if uri.query().is_some() {
            // parse_url refused user info, so the URL holds no secret to hide
            return Err(HttpError::InvalidUrl(url.trim().to_string()).into());
        }
        let mut client = HttpClient::new();
        if let Some(ca) = &options.ca_file {
            client = client.with_ca_file(ca)?;
        }
        let client = client
            .with_insecure_tls(options.insecure)
            .with_timeout(options.timeout)
            .with_retries(options.retries, Duration::from_millis(200))
            .with_auth(
                token
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(|t| Auth::Bearer(t.to_string())),
            );
        Ok(RemoteInventory {
            base: url.trim().trim_end_matches('/').to_string(),
            client,
            sd_token: None,
        })
    }

    /// Sends `X-SD-Token` on SD requests (the server's `IPOCKET_SD_TOKEN`).
    pub fn with_sd_token(mut self, sd_token: Option<&str>) -> Self {
        self.sd_token = sd_token.filter(|t| !t.is_empty()).map(str::to_string);
        self
    }

    /// The base URL, without a trailing `/`.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// The dry run of a bundle JSON (`{"schema_version":"1","data":{…}}`): nothing is written.
    pub async fn plan(&self, bundle: &Value) -> Result<RemotePlan, RemoteError> {
        let bytes = serde_json::to_vec(bundle).unwrap_or_default();
        self.plan_file("bundle.json", &bytes).await
    }

    /// Imports a bundle JSON in one transaction (needs an Editor's token).
    pub async fn apply(&self, bundle: &Value) -> Result<RemoteApply, RemoteError> {
        let bytes = serde_json::to_vec(bundle).unwrap_or_default();
        self.apply_file("bundle.json", &bytes).await
    }

    /// The dry run of any file the import engine reads, by name (`bundle.json`,
    /// `bundle.zip`, `nmap.xml`, `ip-assets.csv`, `hosts.csv`).
    pub async fn plan_file(
        &self,
        file_name: &str,
        bytes: &[u8],
    ) -> Result<RemotePlan, RemoteError> {
        Ok(self.import(file_name, bytes, false).await?.plan)
    }

    /// Imports any file the import engine reads, by name.
    pub async fn apply_file(
        &self,
        file_name: &str,
        bytes: &[u8],
    ) -> Result<RemoteApply, RemoteError> {
        let a = self.import(file_name, bytes, true).await?;
        match a.applied {
            Some(report) => Ok(RemoteApply {
                plan: a.plan,
                report,
            }),
            None => Err(RemoteError::InvalidJson {
                url: self.import_url(file_name, true)?.to_string(),
                expected: "an apply answer",
                line: 1,
                column: 1,
                message: "\"applied\" is null".into(),
            }),
        }
    }

    fn import_url(&self, file_name: &str, apply: bool) -> Result<Uri, RemoteError> {
        let mode = if apply { "apply=1" } else { "dry_run=1" };
        let url = format!(
            "{}/api/v1/import?file={}&{mode}",
            self.base,
            crate::prometheus::urlencode(file_name)
        );
        Ok(HttpClient::parse_url(&url)?)
    }

    async fn import(
        &self,
        file_name: &str,
        bytes: &[u8],
        apply: bool,
    ) -> Result<ImportAnswer, RemoteError> {
        let url = self.import_url(file_name, apply)?;
        let ct = if file_name.ends_with(".json") {
            "application/json"
        } else {
            "application/octet-stream"
        };
        let r = self
            .client
            .send_body_once_accept(
                Method::POST,
                &url,
                "application/json",
                &[("Content-Type", ct)],
                Bytes::copy_from_slice(bytes),
            )
            .await?;
        decode(
            &url,
            r,
            "an import answer {\"mode\", \"plan\", \"applied\"}",
        )
    }

    /// `GET url` (any URL, e.g. seed 004's `INVENTORY_URL`) with this client's token and
    /// `X-SD-Token`, as JSON; a non-200 answer is an error as for the API's routes.
    pub async fn get_json(&self, url: &str) -> Result<Value, RemoteError> {
        let uri = HttpClient::parse_url(url.trim())?;
        let r = self
            .client
            .request(Method::GET, &uri, "application/json", &self.sd_headers())
            .await?;
        decode(&uri, r, "JSON")
    }

    fn sd_headers(&self) -> Vec<(&str, &str)> {
        self.sd_token
            .as_deref()
            .map(|t| ("X-SD-Token", t))
            .into_iter()
            .collect()
    }

    /// The target groups of `GET /api/v1/sd` for these options (port, filters, grouping,
    /// `__metrics_path__`, meta labels); `extra_labels` are added here, under each group's own.
    pub async fn sd_target_groups(
        &self,
        options: &SdOptions,
    ) -> Result<Vec<TargetGroup>, RemoteError> {
        let url = HttpClient::parse_url(&format!("{}/api/v1/sd?{}", self.base, sd_query(options)))?;
        let r = self
            .client
            .request(Method::GET, &url, "application/json", &self.sd_headers())
            .await?;
        let mut groups: Vec<TargetGroup> = decode(&url, r, "a list of target groups")?;
        for g in &mut groups {
            for (k, v) in &options.extra_labels {
                g.labels.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
        Ok(groups)
    }
}

/// The SD query string the server's `SdOptions::from_query_pairs` reads back.
fn sd_query(o: &SdOptions) -> String {
    use crate::prometheus::urlencode;
    let mut q = vec![
        format!("port={}", o.port),
        format!("only_assigned={}", o.only_assigned),
        format!("meta={}", o.meta_labels),
        format!(
            "group_by={}",
            match o.grouping {
                SdGrouping::Single => "none",
                SdGrouping::Project => "project",
                SdGrouping::ProjectType => "project_type",
                SdGrouping::Asset => "asset",
            }
        ),
    ];
    q.extend(
        o.projects
            .iter()
            .map(|p| format!("project={}", urlencode(p))),
    );
    q.extend(o.types.iter().map(|t| format!("type={}", t.as_str())));
    q.extend(o.tags.iter().map(|t| format!("tag={}", urlencode(t))));
    if let Some(p) = &o.metrics_path {
        q.push(format!("metrics_path={}", urlencode(p)));
    }
    q.join("&")
}

/// A 200 answer → `T`; an error answer → its typed [`RemoteError`].
fn decode<T: serde::de::DeserializeOwned>(
    url: &Uri,
    r: ipocket_http::HttpResponse,
    expected: &'static str,
) -> Result<T, RemoteError> {
    let url_text = url.to_string();
    if r.status == 200 {
        return serde_json::from_slice(&r.body).map_err(|e| RemoteError::InvalidJson {
            url: url_text,
            expected,
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        });
    }
    let Ok(ErrorAnswer { error }) = serde_json::from_slice::<ErrorAnswer>(&r.body) else {
        let text = String::from_utf8_lossy(&r.body);
        return Err(RemoteError::Unexpected {
            url: url_text,
            status: r.status,
            content_type: r.content_type.unwrap_or_else(|| "no content type".into()),
            snippet: text.chars().take(200).collect(),
        });
    };
    let code = ApiErrorCode::parse(&error.code);
    Err(match (r.status, code) {
        (401, _) => RemoteError::Unauthorized {
            url: url_text,
            message: error.message,
        },
        (403, _) => RemoteError::Forbidden {
            url: url_text,
            message: error.message,
        },
        (_, Some(ApiErrorCode::ImportInvalid)) => RemoteError::ImportInvalid {
            issues: serde_json::from_value(error.details).unwrap_or_default(),
            message: error.message,
        },
        (status, _) => RemoteError::Api {
            url: url_text,
            status,
            code: error.code,
            message: error.message,
            details: error.details,
        },
    })
}

impl RemoteError {
    /// The HTTP status of the server's answer (`None`: no answer, or a 200 that did not decode).
    pub fn status(&self) -> Option<u16> {
        match self {
            RemoteError::Http(_) | RemoteError::InvalidJson { .. } => None,
            RemoteError::Unauthorized { .. } => Some(401),
            RemoteError::Forbidden { .. } => Some(403),
            RemoteError::ImportInvalid { .. } => Some(422),
            RemoteError::Api { status, .. } | RemoteError::Unexpected { status, .. } => {
                Some(*status)
            }
        }
    }

    /// The API error code of an [`RemoteError::Api`] answer, when this build knows it.
    pub fn api_code(&self) -> Option<ApiErrorCode> {
        match self {
            RemoteError::Api { code, .. } => ApiErrorCode::parse(code),
            _ => None,
        }
    }
}

impl ipocket_errors::Classify for RemoteError {
    fn kind(&self) -> ErrorKind {
        match self {
            RemoteError::Http(e) => e.kind(),
            RemoteError::Unauthorized { .. } => ErrorKind::Unauthorized,
            RemoteError::Forbidden { .. } => ErrorKind::Forbidden,
            RemoteError::ImportInvalid { .. } => ErrorKind::Invalid,
            RemoteError::Api { status, .. } => match self.api_code().map(ApiErrorCode::kind) {
                // The server's own fault is, for its client, a peer that failed.
                Some(ErrorKind::Internal) => ErrorKind::Unavailable,
                Some(kind) => kind,
                // A code this build does not know yet: judge by the status.
                None => match status {
                    404 => ErrorKind::NotFound,
                    409 => ErrorKind::Conflict,
                    413 => ErrorKind::TooLarge,
                    400..=499 => ErrorKind::Invalid,
                    _ => ErrorKind::Unavailable,
                },
            },
            RemoteError::Unexpected { .. } | RemoteError::InvalidJson { .. } => {
                ErrorKind::Unavailable
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, body: &str) -> ipocket_http::HttpResponse {
        ipocket_http::HttpResponse {
            status,
            content_type: Some("application/json".into()),
            body: Bytes::copy_from_slice(body.as_bytes()),
        }
    }

    fn url() -> Uri {
        "http://127.0.0.1:8000/api/v1/import?file=bundle.json&dry_run=1"
            .parse()
            .unwrap()
    }

    #[test]
    fn error_shapes_become_typed_errors() {
        let e = decode::<Value>(&url(), answer(401, r#"{"error":{"code":"unauthorized","message":"a valid bearer token is required","details":null}}"#), "x").unwrap_err();
        assert!(matches!(e, RemoteError::Unauthorized { .. }), "{e:?}");
        let e = decode::<Value>(&url(), answer(422, r#"{"error":{"code":"import_invalid","message":"1 import error","details":[{"location":"data.ip_assets[0].ip_address","message":"not an IP address"}]}}"#), "x").unwrap_err();
        assert_eq!(
            e.to_string(),
            "ipocket server rejected the bundle: 1 import error\n  data.ip_assets[0].ip_address: not an IP address"
        );
        let e = decode::<Value>(
            &url(),
            answer(
                409,
                r#"{"error":{"code":"stale_plan","message":"changed","details":null}}"#,
            ),
            "x",
        )
        .unwrap_err();
        assert!(
            matches!(&e, RemoteError::Api { status: 409, code, .. } if code == "stale_plan"),
            "{e:?}"
        );
        let mut html = answer(502, "<html>bad gateway</html>");
        html.content_type = Some("text/html".into());
        let e = decode::<Value>(&url(), html, "x").unwrap_err();
        assert!(e.to_string().contains("is this an ipocket server?"), "{e}");
        let e = decode::<RemotePlan>(&url(), answer(200, r#"{"plan":1}"#), "a plan").unwrap_err();
        assert!(
            matches!(e, RemoteError::InvalidJson { line: 1, .. }),
            "{e:?}"
        );
    }

    #[test]
    fn sd_query_round_trips_through_the_server_parser() {
        let mut o = SdOptions::node_compat();
        o.port = 9200;
        o.projects = vec!["core net".into()];
        o.types = vec![ipocket_core::AssetType::Vm];
        o.tags = vec!["a&b".into()];
        o.grouping = SdGrouping::ProjectType;
        o.metrics_path = Some("/m".into());
        o.only_assigned = true;
        let q = sd_query(&o);
        let pairs: Vec<(String, String)> = q
            .split('&')
            .map(|kv| {
                let (k, v) = kv.split_once('=').unwrap();
                (k.to_string(), percent_decode(v))
            })
            .collect();
        let back = SdOptions::from_query_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .unwrap();
        assert_eq!(back, o);
    }

    fn percent_decode(s: &str) -> String {
        let b = s.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'%' {
                out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
                i += 3;
            } else {
                out.push(b[i]);
                i += 1;
            }
        }
        String::from_utf8(out).unwrap()
    }
}
