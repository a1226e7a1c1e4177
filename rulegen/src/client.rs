//! The Prometheus lifecycle client: reload with retries, confirm, status; on the shared
//! HTTP client of `ipocket-http` (http and https, Bearer or Basic auth, CA file).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use backon::{ExponentialBuilder, Retryable};
use ipocket_http::{Auth, ConnectOptions, HttpClient, HttpError, Method};
use serde::Serialize;
use serde_json::Value;

use crate::error::{Error, Result};

/// Talks to one Prometheus at `http(s)://host:port[/prefix]`, with optional credentials
/// (Bearer or Basic) and TLS trust settings.
///
/// ```
/// use ipocket_rulegen::PrometheusClient;
/// use ipocket_http::Auth;
/// let c = PrometheusClient::new("https://127.0.0.1:19090/")
///     .unwrap()
///     .with_auth(Some(Auth::from_token("prom_user:prom_pass")));
/// assert_eq!(c.base_url(), "https://127.0.0.1:19090");
/// assert!(PrometheusClient::new("ftp://x").is_err());
/// assert!(PrometheusClient::new("http://user:pass@127.0.0.1:9090").is_err());
/// ```
#[derive(Debug, Clone)]
pub struct PrometheusClient {
    base: String,
    // Retries of this client are off: `reload` retries with its own rules, GETs are not retried.
    http: HttpClient,
    timeout: Duration,
    retries: usize,
    retry_delay: Duration,
}

/// Result of [`PrometheusClient::status`]; never an error, the failure is in `detail`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PrometheusStatus {
    /// Base URL asked.
    pub url: String,
    /// An HTTP answer came back.
    pub reachable: bool,
    /// `/-/healthy` answered 200.
    pub healthy: bool,
    /// `/-/ready` answered 200.
    pub ready: bool,
    /// Version from `/api/v1/status/buildinfo`, if readable.
    pub version: Option<String>,
    /// When Prometheus last loaded its configuration and rules (`lastConfigTime` of
    /// `/api/v1/status/runtimeinfo`, RFC 3339), if readable.
    pub last_reload: Option<String>,
    /// Whether that last (re)load worked (`reloadConfigSuccess`), if readable.
    pub last_reload_success: Option<bool>,
    /// What went wrong, if anything.
    pub detail: Option<String>,
}

/// A rule group as Prometheus has loaded it (`/api/v1/rules`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LoadedRuleGroup {
    /// Group name.
    pub name: String,
    /// File it came from.
    pub file: String,
    /// Names of its rules.
    pub rules: Vec<String>,
}

/// A generated rule file as Prometheus must have loaded it: its path and, per rule group,
/// the number of rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExpectedRuleFile {
    /// Where the file is (as Prometheus sees it; compared canonicalized when it exists).
    pub path: PathBuf,
    /// Rule-group name → rule count.
    pub groups: BTreeMap<String, usize>,
}

/// `a` and `b` name the same file: equal once canonicalized (symlinks, `..`, relative
/// paths resolved), or, if either cannot be, as written.
fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// What is wrong with `loaded` for one expected file (`None`: all its groups are listed
/// from that very file with the same rule counts, and no other group comes from it).
fn file_mismatch(expected: &ExpectedRuleFile, loaded: &[LoadedRuleGroup]) -> Option<String> {
    let from_file: Vec<&LoadedRuleGroup> = loaded
        .iter()
        .filter(|l| same_file(Path::new(&l.file), &expected.path))
        .collect();
    let path = expected.path.display();
    if from_file.is_empty() {
        let elsewhere: Vec<String> = loaded
            .iter()
            .filter(|l| expected.groups.contains_key(&l.name))
            .map(|l| format!("{:?} from {}", l.name, l.file))
            .collect();
        let hint = if elsewhere.is_empty() {
            String::new()
        } else {
            format!(
                " (a group of the same name is loaded from another file: {})",
                elsewhere.join(", ")
            )
        };
        return Some(format!("no rule group from {path} is loaded{hint}"));
    }
    let got: BTreeMap<&str, usize> = from_file
        .iter()
        .map(|l| (l.name.as_str(), l.rules.len()))
        .collect();
    let want: BTreeMap<&str, usize> = expected
        .groups
        .iter()
        .map(|(k, v)| (k.as_str(), *v))
        .collect();
    (got != want).then(|| {
        format!("{path} is loaded with groups (name: rules) {got:?}, but the file has {want:?}")
    })
}

/// What a confirmed reload did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReloadReport {
    /// Base URL.
    pub url: String,
    /// `POST /-/reload` attempts made (1 when the first one worked).
    pub attempts: usize,
    /// Rule groups found in `/api/v1/rules` after the reload.
    pub confirmed_groups: Vec<String>,
    /// Files whose every group (same names, same rule counts) `/api/v1/rules` lists from
    /// that file ([`PrometheusClient::reload_and_confirm_files`]; empty otherwise).
    pub confirmed_files: Vec<PathBuf>,
    /// Time taken from the first attempt to the last check, in milliseconds.
    pub elapsed_ms: u64,
}

/// One sample of an instant query's vector.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QuerySample {
    /// Its labels (`__name__` included when the expression keeps it).
    pub labels: BTreeMap<String, String>,
    /// Its value as Prometheus wrote it (`"1"`, `"NaN"`).
    pub value: String,
}

/// Percent-encodes a query parameter (RFC 3986 unreserved characters kept).
fn urlencode(s: &str) -> String {
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

fn trim_body(b: &str) -> String {
    let t = b.trim();
    if t.len() > 300 {
        let mut end = 300;
        while !t.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}…", &t[..end])
    } else {
        t.to_string()
    }
}

impl PrometheusClient {
    /// A client for the Prometheus at `base_url` (`http://` or `https://`, no credentials in
    /// the URL: give them with [`PrometheusClient::with_auth`]), 10 s timeout per request,
    /// 3 reload attempts; `https://` is checked against the webpki roots.
    pub fn new(base_url: &str) -> Result<Self> {
        let base = base_url.trim().trim_end_matches('/').to_string();
        HttpClient::parse_url(&base)
            .map_err(|e| Error::invalid("Prometheus URL", e.to_string()))?;
        let timeout = Duration::from_secs(10);
        Ok(PrometheusClient {
            base,
            http: HttpClient::new()
                .with_timeout(timeout)
                .with_retries(0, Duration::ZERO),
            timeout,
            retries: 3,
            retry_delay: Duration::from_millis(500),
        })
    }

    /// Sends these credentials on every request (`None`: none).
    pub fn with_auth(mut self, auth: Option<Auth>) -> Self {
        self.http = self.http.with_auth(auth);
        self
    }

    /// Also trusts the PEM certificates of `ca_file` (a private CA or a self-signed Prometheus).
    pub fn with_ca_file(mut self, ca_file: &Path) -> Result<Self> {
        self.http = self.http.with_ca_file(ca_file).map_err(tls_setup)?;
        Ok(self)
    }

    /// `true`: accept any server certificate (test set-ups only); the default verifies.
    pub fn with_insecure_tls(mut self, insecure: bool) -> Self {
        self.http = self.http.with_insecure_tls(insecure);
        self
    }

    /// Applies auth, CA file and the insecure switch at once (what the front ends' flags fill).
    pub fn with_connect_options(mut self, options: &ConnectOptions) -> Result<Self> {
        self.http = self.http.with_connect_options(options).map_err(tls_setup)?;
        Ok(self)
    }

    /// Sets the timeout of each request.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self.http = self.http.with_timeout(timeout);
        self
    }

    /// Sets how many times `POST /-/reload` is tried (at least 1) and the first delay
    /// between tries (it doubles each time).
    pub fn with_retries(mut self, attempts: usize, first_delay: Duration) -> Self {
        self.retries = attempts.max(1);
        self.retry_delay = first_delay;
        self
    }

    /// The base URL without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    async fn request(&self, method: Method, path: &str) -> Result<(u16, String)> {
        let url = format!("{}{}", self.base, path);
        let m: &'static str = match method {
            Method::POST => "POST",
            _ => "GET",
        };
        let http_err = |e: HttpError| Error::Http {
            method: m,
            url: url.clone(),
            reason: match e {
                HttpError::Transport { reason, .. } => reason,
                HttpError::Timeout { timeout, .. } => format!("no answer within {timeout:?}"),
                other => other.to_string(),
            },
        };
        let uri = HttpClient::parse_url(&url).map_err(http_err)?;
        let agent = [(
            "User-Agent",
            concat!("ipocket-rulegen/", env!("CARGO_PKG_VERSION")),
        )];
        let r = self
            .http
            .request(method, &uri, "*/*", &agent)
            .await
            .map_err(http_err)?;
        if r.status == 401 {
            return Err(Error::Unauthorized {
                method: m,
                url,
                status: r.status,
            });
        }
        Ok((r.status, String::from_utf8_lossy(&r.body).into_owned()))
    }

    async fn get_ok(&self, path: &str) -> Result<String> {
        let (status, body) = self.request(Method::GET, path).await?;
        if status != 200 {
            return Err(Error::UnexpectedStatus {
                method: "GET",
                url: format!("{}{}", self.base, path),
                status,
                body: trim_body(&body),
            });
        }
        Ok(body)
    }

    async fn get_json(&self, path: &str) -> Result<Value> {
        let body = self.get_ok(path).await?;
        let v: Value = serde_json::from_str(&body).map_err(|source| Error::Json {
            context: format!("answer of {}{}", self.base, path),
            source,
        })?;
        if v["status"] != "success" {
            return Err(Error::UnexpectedStatus {
                method: "GET",
                url: format!("{}{}", self.base, path),
                status: 200,
                body: trim_body(&body),
            });
        }
        Ok(v)
    }

    /// `GET /-/healthy` answered 200.
    pub async fn healthy(&self) -> Result<bool> {
        Ok(self.request(Method::GET, "/-/healthy").await?.0 == 200)
    }

    /// `GET /-/ready` answered 200 (503 while starting or stopping).
    pub async fn ready(&self) -> Result<bool> {
        Ok(self.request(Method::GET, "/-/ready").await?.0 == 200)
    }

    /// Health, readiness and version; failures are reported in the result.
    pub async fn status(&self) -> PrometheusStatus {
        let mut st = PrometheusStatus {
            url: self.base.clone(),
            reachable: false,
            healthy: false,
            ready: false,
            version: None,
            last_reload: None,
            last_reload_success: None,
            detail: None,
        };
        match self.healthy().await {
            Ok(h) => {
                st.reachable = true;
                st.healthy = h;
            }
            Err(e) => {
                // A refused login still means Prometheus answered.
                st.reachable = matches!(e, Error::Unauthorized { .. });
                st.detail = Some(e.to_string());
                return st;
            }
        }
        match self.ready().await {
            Ok(r) => st.ready = r,
            Err(e) => st.detail = Some(e.to_string()),
        }
        if let Ok(v) = self.get_json("/api/v1/status/buildinfo").await {
            st.version = v["data"]["version"].as_str().map(str::to_string);
        }
        if let Ok(v) = self.get_json("/api/v1/status/runtimeinfo").await {
            st.last_reload = v["data"]["lastConfigTime"].as_str().map(str::to_string);
            st.last_reload_success = v["data"]["reloadConfigSuccess"].as_bool();
        }
        if st.detail.is_none() && !(st.healthy && st.ready) {
            st.detail = Some(format!(
                "healthy={}, ready={} (Prometheus answers 503 on /-/ready while starting or stopping)",
                st.healthy, st.ready
            ));
        }
        st
    }

    async fn reload_once(&self) -> Result<()> {
        let (status, body) = self.request(Method::POST, "/-/reload").await?;
        match status {
            200 => Ok(()),
            403 => Err(Error::LifecycleDisabled {
                url: self.base.clone(),
            }),
            500 => Err(Error::ReloadFailed {
                url: self.base.clone(),
                status,
                body: trim_body(&body),
            }),
            _ => Err(Error::UnexpectedStatus {
                method: "POST",
                url: format!("{}/-/reload", self.base),
                status,
                body: trim_body(&body),
            }),
        }
    }

    /// `POST /-/reload`, retried with exponential backoff when Prometheus cannot be
    /// reached or answers 502/503/504. A 500 (Prometheus failed to load the new
    /// configuration) and a 403 (lifecycle API off) are not retried. Returns the
    /// number of attempts.
    pub async fn reload(&self) -> Result<usize> {
        let attempts = AtomicUsize::new(0);
        let op = || async {
            attempts.fetch_add(1, Ordering::SeqCst);
            self.reload_once().await
        };
        op.retry(
            ExponentialBuilder::default()
                .with_min_delay(self.retry_delay)
                .with_max_times(self.retries - 1),
        )
        .when(|e: &Error| {
            matches!(e, Error::Http { .. })
                || matches!(e, Error::UnexpectedStatus { status, .. } if matches!(status, 502..=504))
        })
        .await?;
        Ok(attempts.load(Ordering::SeqCst))
    }

    /// The live value of `prometheus_config_last_reload_successful`, read from
    /// Prometheus's own `/metrics`.
    ///
    /// Not via `/api/v1/query`: that only sees the gauge if Prometheus scrapes itself,
    /// and then only as of the last scrape, which is stale right after a reload.
    pub async fn last_reload_successful(&self) -> Result<bool> {
        let body = self.get_ok("/metrics").await?;
        parse_gauge(&body, "prometheus_config_last_reload_successful")
            .map(|v| v == 1.0)
            .ok_or_else(|| Error::ReloadNotConfirmed {
                url: self.base.clone(),
                reason: "/metrics has no prometheus_config_last_reload_successful sample".into(),
            })
    }

    /// The rule groups Prometheus has loaded (`/api/v1/rules`).
    pub async fn rule_groups(&self) -> Result<Vec<LoadedRuleGroup>> {
        let v = self.get_json("/api/v1/rules").await?;
        let groups = v["data"]["groups"].as_array().cloned().unwrap_or_default();
        Ok(groups
            .iter()
            .map(|g| LoadedRuleGroup {
                name: g["name"].as_str().unwrap_or_default().to_string(),
                file: g["file"].as_str().unwrap_or_default().to_string(),
                rules: g["rules"]
                    .as_array()
                    .map(|rs| {
                        rs.iter()
                            .map(|r| r["name"].as_str().unwrap_or_default().to_string())
                            .collect()
                    })
                    .unwrap_or_default(),
            })
            .collect())
    }

    /// Evaluates `expr` now (`GET /api/v1/query`, an instant query) and returns the label
    /// sets and values of the resulting vector. Prometheus's refusal (a bad expression, a
    /// failed or timed-out evaluation) is [`Error::QueryRefused`] with Prometheus's own
    /// error text; a result that is not a vector (a scalar, a string) is refused too, since
    /// an alerting rule needs a vector.
    pub async fn instant_query(&self, expr: &str) -> Result<Vec<QuerySample>> {
        let path = format!("/api/v1/query?query={}", urlencode(expr));
        let (status, body) = self.request(Method::GET, &path).await?;
        let url = format!("{}/api/v1/query", self.base);
        let v: Value = match serde_json::from_str(&body) {
            Ok(v) => v,
            Err(_) => {
                return Err(Error::UnexpectedStatus {
                    method: "GET",
                    url,
                    status,
                    body: trim_body(&body),
                })
            }
        };
        if v["status"] != "success" {
            return Err(Error::QueryRefused {
                url,
                status,
                error_type: v["errorType"].as_str().unwrap_or("unknown").to_string(),
                error: v["error"].as_str().unwrap_or("no error text").to_string(),
            });
        }
        let kind = v["data"]["resultType"].as_str().unwrap_or_default();
        if kind != "vector" {
            return Err(Error::QueryRefused {
                url,
                status,
                error_type: "not_a_vector".into(),
                error: format!(
                    "the expression gives a {kind}, an alerting rule needs an instant vector"
                ),
            });
        }
        let samples = v["data"]["result"].as_array().cloned().unwrap_or_default();
        Ok(samples
            .iter()
            .map(|s| QuerySample {
                labels: s["metric"]
                    .as_object()
                    .map(|m| {
                        m.iter()
                            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                            .collect()
                    })
                    .unwrap_or_default(),
                value: s["value"][1].as_str().unwrap_or_default().to_string(),
            })
            .collect())
    }

    /// Reloads, then confirms: `/-/ready` is 200 (waited for up to the timeout),
    /// `prometheus_config_last_reload_successful` is 1, and every name in
    /// `expected_groups` is listed by `/api/v1/rules` (from any file: to check the files
    /// too, use [`PrometheusClient::reload_and_confirm_files`]).
    pub async fn reload_and_confirm(&self, expected_groups: &[String]) -> Result<ReloadReport> {
        let start = Instant::now();
        let attempts = self.reload().await?;
        let loaded = self.confirm_reloaded().await?;
        let missing: Vec<&String> = expected_groups
            .iter()
            .filter(|g| !loaded.iter().any(|l| &l.name == *g))
            .collect();
        if !missing.is_empty() {
            return Err(self.not_confirmed(format!(
                "/api/v1/rules does not list {missing:?}; {RULE_FILES_HINT}"
            )));
        }
        Ok(ReloadReport {
            url: self.base.clone(),
            attempts,
            confirmed_groups: expected_groups.to_vec(),
            confirmed_files: Vec::new(),
            elapsed_ms: start.elapsed().as_millis() as u64,
        })
    }

    /// [`PrometheusClient::reload_and_confirm`], but each expected file must be the one
    /// its groups are loaded from: `/api/v1/rules` lists, with that `file` path (compared
    /// canonicalized), exactly the file's group names with the same rule counts. A group
    /// of the same name loaded from another file does not count.
    pub async fn reload_and_confirm_files(
        &self,
        expected: &[ExpectedRuleFile],
    ) -> Result<ReloadReport> {
        let start = Instant::now();
        let attempts = self.reload().await?;
        let loaded = self.confirm_reloaded().await?;
        let problems: Vec<String> = expected
            .iter()
            .filter_map(|f| file_mismatch(f, &loaded))
            .collect();
        if !problems.is_empty() {
            return Err(self.not_confirmed(format!("{}; {RULE_FILES_HINT}", problems.join("; "))));
        }
        Ok(ReloadReport {
            url: self.base.clone(),
            attempts,
            confirmed_groups: expected
                .iter()
                .flat_map(|f| f.groups.keys().cloned())
                .collect(),
            confirmed_files: expected.iter().map(|f| f.path.clone()).collect(),
            elapsed_ms: start.elapsed().as_millis() as u64,
        })
    }

    fn not_confirmed(&self, reason: String) -> Error {
        Error::ReloadNotConfirmed {
            url: self.base.clone(),
            reason,
        }
    }

    /// After a reload: waits for `/-/ready`, checks the reload gauge, and returns what
    /// `/api/v1/rules` lists.
    async fn confirm_reloaded(&self) -> Result<Vec<LoadedRuleGroup>> {
        let deadline = Instant::now() + self.timeout;
        loop {
            match self.ready().await {
                Ok(true) => break,
                Ok(false) | Err(_) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Ok(false) => {
                    return Err(self.not_confirmed(format!(
                        "/-/ready did not answer 200 within {:?}",
                        self.timeout
                    )))
                }
                Err(e) => return Err(e),
            }
        }
        if !self.last_reload_successful().await? {
            return Err(self.not_confirmed(
                "prometheus_config_last_reload_successful is 0: the previous rule set is still active; \
                 look in the Prometheus log for \"error loading rules\""
                    .into(),
            ));
        }
        self.rule_groups().await
    }
}

const RULE_FILES_HINT: &str = "check that rule_files in prometheus.yml covers the rule folder \
    (e.g. <rule_dir>/*.yml) and that Prometheus can read it";

/// The value of an unlabelled sample `name VALUE` in the text exposition format.
fn parse_gauge(body: &str, name: &str) -> Option<f64> {
    body.lines().find_map(|line| {
        let rest = line.strip_prefix(name)?;
        let value = rest.strip_prefix(' ')?.split_whitespace().next()?;
        value.parse().ok()
    })
}

fn tls_setup(e: HttpError) -> Error {
    Error::invalid("Prometheus TLS", e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::TcpListener;

    /// A one-thread HTTP stub on 127.0.0.1 answering requests from a script, in order.
    /// Returns the base URL and a handle yielding the request lines it saw.
    fn stub(answers: Vec<(u16, &'static str)>) -> (String, std::thread::JoinHandle<Vec<String>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let handle = std::thread::spawn(move || {
            let mut seen = Vec::new();
            for (status, body) in answers {
                let (mut sock, _) = listener.accept().unwrap();
                let mut buf = [0u8; 4096];
                let n = sock.read(&mut buf).unwrap();
                let req = String::from_utf8_lossy(&buf[..n]);
                seen.push(req.lines().next().unwrap_or_default().to_string());
                let resp = format!(
                    "HTTP/1.1 {status} X\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                sock.write_all(resp.as_bytes()).unwrap();
            }
            seen
        });
        (url, handle)
    }

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    #[test]
    fn reload_retries_on_503_then_succeeds() {
        let (url, h) = stub(vec![(503, "starting"), (200, "")]);
        let c = PrometheusClient::new(&url)
            .unwrap()
            .with_retries(3, Duration::from_millis(10));
        assert_eq!(rt().block_on(c.reload()).unwrap(), 2);
        assert_eq!(h.join().unwrap(), vec!["POST /-/reload HTTP/1.1"; 2]);
    }

    #[test]
    fn reload_500_is_not_retried_and_points_to_the_log() {
        let (url, h) = stub(vec![(
            500,
            "failed to reload config: one or more errors occurred",
        )]);
        let c = PrometheusClient::new(&url)
            .unwrap()
            .with_retries(3, Duration::from_millis(10));
        let err = rt().block_on(c.reload()).unwrap_err();
        let msg = err.to_string();
        assert!(
            matches!(err, Error::ReloadFailed { status: 500, .. }),
            "{msg}"
        );
        assert!(msg.contains("Prometheus log"), "{msg}");
        assert_eq!(h.join().unwrap().len(), 1);
    }

    #[test]
    fn reload_403_says_enable_lifecycle() {
        let (url, _h) = stub(vec![(403, "Lifecycle API is not enabled.")]);
        let c = PrometheusClient::new(&url).unwrap();
        let err = rt().block_on(c.reload()).unwrap_err();
        assert!(err.to_string().contains("--web.enable-lifecycle"), "{err}");
    }

    #[test]
    fn unreachable_gives_up_after_the_attempts() {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let c = PrometheusClient::new(&format!("http://127.0.0.1:{port}"))
            .unwrap()
            .with_retries(2, Duration::from_millis(5));
        let err = rt().block_on(c.reload()).unwrap_err();
        assert!(matches!(err, Error::Http { .. }), "{err}");
        let st = rt().block_on(c.status());
        assert!(!st.reachable && !st.ready && st.detail.is_some(), "{st:?}");
    }

    #[test]
    fn confirm_fails_when_reload_gauge_is_zero() {
        let gauge = "# TYPE prometheus_config_last_reload_successful gauge\nprometheus_config_last_reload_successful 0\n";
        let (url, h) = stub(vec![(200, ""), (200, "Ready"), (200, gauge)]);
        let c = PrometheusClient::new(&url).unwrap();
        let err = rt().block_on(c.reload_and_confirm(&[])).unwrap_err();
        assert!(
            err.to_string().contains("last_reload_successful is 0"),
            "{err}"
        );
        let seen = h.join().unwrap();
        assert_eq!(seen[1], "GET /-/ready HTTP/1.1");
        assert_eq!(seen[2], "GET /metrics HTTP/1.1");
    }

    #[test]
    fn gauge_parsing() {
        let body = "# HELP x\nfoo_total 3\nfoo 1.5e0\nfoo{a=\"b\"} 9\n";
        assert_eq!(parse_gauge(body, "foo"), Some(1.5));
        assert_eq!(parse_gauge(body, "foo_total"), Some(3.0));
        assert_eq!(parse_gauge(body, "bar"), None);
    }

    #[test]
    fn confirm_fails_when_group_is_missing() {
        let gauge = "prometheus_config_last_reload_successful_x 0\nprometheus_config_last_reload_successful 1\n";
        let rules = r#"{"status":"success","data":{"groups":[{"name":"other","file":"/x.yml","rules":[{"name":"A"}]}]}}"#;
        let (url, _h) = stub(vec![(200, ""), (200, "Ready"), (200, gauge), (200, rules)]);
        let c = PrometheusClient::new(&url).unwrap();
        let err = rt()
            .block_on(c.reload_and_confirm(&["ipocket/prod".to_string()]))
            .unwrap_err();
        assert!(err.to_string().contains("ipocket/prod"), "{err}");
        assert!(err.to_string().contains("rule_files"), "{err}");
    }

    fn expected(path: &str, groups: &[(&str, usize)]) -> ExpectedRuleFile {
        ExpectedRuleFile {
            path: PathBuf::from(path),
            groups: groups.iter().map(|(n, c)| (n.to_string(), *c)).collect(),
        }
    }

    fn loaded(name: &str, file: &str, rules: usize) -> LoadedRuleGroup {
        LoadedRuleGroup {
            name: name.into(),
            file: file.into(),
            rules: (0..rules).map(|i| format!("A{i}")).collect(),
        }
    }

    #[test]
    fn a_same_named_group_from_another_file_does_not_confirm() {
        let want = expected("/rules/group-1.yml", &[("ipocket/prod", 2)]);
        let decoy = [loaded("ipocket/prod", "/etc/prometheus/decoy.yml", 2)];
        let why = file_mismatch(&want, &decoy).unwrap();
        assert!(
            why.contains("no rule group from /rules/group-1.yml"),
            "{why}"
        );
        assert!(why.contains("another file"), "{why}");
        assert!(why.contains("decoy.yml"), "{why}");
        let ok = [
            decoy[0].clone(),
            loaded("ipocket/prod", "/rules/group-1.yml", 2),
        ];
        assert_eq!(file_mismatch(&want, &ok), None);
    }

    #[test]
    fn rule_counts_and_extra_groups_must_match() {
        let want = expected("/rules/group-1.yml", &[("ipocket/prod", 2)]);
        let fewer = [loaded("ipocket/prod", "/rules/group-1.yml", 1)];
        let why = file_mismatch(&want, &fewer).unwrap();
        assert!(why.contains("\"ipocket/prod\": 1"), "{why}");
        let extra = [
            loaded("ipocket/prod", "/rules/group-1.yml", 2),
            loaded("old", "/rules/group-1.yml", 1),
        ];
        assert!(file_mismatch(&want, &extra).is_some());
    }

    #[test]
    fn paths_are_compared_canonicalized() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("group-1.yml");
        std::fs::write(&file, "groups: []").unwrap();
        let dotted = dir.path().join(".").join("group-1.yml");
        let want = ExpectedRuleFile {
            path: file,
            groups: BTreeMap::from([("g".to_string(), 1)]),
        };
        let l = [loaded("g", dotted.to_str().unwrap(), 1)];
        assert_eq!(file_mismatch(&want, &l), None);
    }

    #[test]
    fn confirm_files_fails_on_a_decoy_over_http() {
        let gauge = "prometheus_config_last_reload_successful 1\n";
        let rules = r#"{"status":"success","data":{"groups":[{"name":"ipocket/prod","file":"/elsewhere/decoy.yml","rules":[{"name":"A"}]}]}}"#;
        let (url, _h) = stub(vec![(200, ""), (200, "Ready"), (200, gauge), (200, rules)]);
        let c = PrometheusClient::new(&url).unwrap();
        let want = [expected("/rules/group-1.yml", &[("ipocket/prod", 1)])];
        let err = rt()
            .block_on(c.reload_and_confirm_files(&want))
            .unwrap_err();
        assert!(matches!(err, Error::ReloadNotConfirmed { .. }), "{err}");
        assert!(err.to_string().contains("decoy.yml"), "{err}");
    }
}
