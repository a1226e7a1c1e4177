//! The Prometheus lifecycle client: reload with retries, confirm, status.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use backon::{ExponentialBuilder, Retryable};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Method, Request, Uri};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde::Serialize;
use serde_json::Value;

use crate::error::{Error, Result};

/// Talks to one Prometheus over plain HTTP (`http://host:port[/prefix]`).
///
/// ```
/// let c = ipocket_rulegen::PrometheusClient::new("http://127.0.0.1:19090/").unwrap();
/// assert_eq!(c.base_url(), "http://127.0.0.1:19090");
/// assert!(ipocket_rulegen::PrometheusClient::new("ftp://x").is_err());
/// ```
#[derive(Debug, Clone)]
pub struct PrometheusClient {
    base: String,
    client: Client<HttpConnector, Full<Bytes>>,
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

/// What a confirmed reload did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReloadReport {
    /// Base URL.
    pub url: String,
    /// `POST /-/reload` attempts made (1 when the first one worked).
    pub attempts: usize,
    /// Rule groups found in `/api/v1/rules` after the reload.
    pub confirmed_groups: Vec<String>,
    /// Time taken from the first attempt to the last check, in milliseconds.
    pub elapsed_ms: u64,
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
    /// A client for the Prometheus at `base_url` (only `http://`), 10 s timeout per
    /// request, 3 reload attempts.
    pub fn new(base_url: &str) -> Result<Self> {
        let base = base_url.trim().trim_end_matches('/').to_string();
        let uri: Uri = base
            .parse()
            .map_err(|e| Error::invalid("Prometheus URL", format!("{base_url:?}: {e}")))?;
        if uri.scheme_str() != Some("http") || uri.host().is_none() {
            return Err(Error::invalid(
                "Prometheus URL",
                format!(
                    "{base_url:?} must look like http://host:port (https is not supported yet)"
                ),
            ));
        }
        let client = Client::builder(TokioExecutor::new()).build_http();
        Ok(PrometheusClient {
            base,
            client,
            timeout: Duration::from_secs(10),
            retries: 3,
            retry_delay: Duration::from_millis(500),
        })
    }

    /// Sets the timeout of each request.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
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
        let http_err = |reason: String| Error::Http {
            method: m,
            url: url.clone(),
            reason,
        };
        let req = Request::builder()
            .method(method)
            .uri(&url)
            .header(
                "user-agent",
                concat!("ipocket-rulegen/", env!("CARGO_PKG_VERSION")),
            )
            .body(Full::new(Bytes::new()))
            .map_err(|e| http_err(e.to_string()))?;
        let fut = async {
            let resp = self
                .client
                .request(req)
                .await
                .map_err(|e| http_err(error_chain(&e)))?;
            let status = resp.status().as_u16();
            let body = resp
                .into_body()
                .collect()
                .await
                .map_err(|e| http_err(e.to_string()))?
                .to_bytes();
            Ok::<_, Error>((status, String::from_utf8_lossy(&body).into_owned()))
        };
        tokio::time::timeout(self.timeout, fut)
            .await
            .map_err(|_| http_err(format!("no answer within {:?}", self.timeout)))?
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
            detail: None,
        };
        match self.healthy().await {
            Ok(h) => {
                st.reachable = true;
                st.healthy = h;
            }
            Err(e) => {
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

    /// Reloads, then confirms: `/-/ready` is 200 (waited for up to the timeout),
    /// `prometheus_config_last_reload_successful` is 1, and every name in
    /// `expected_groups` is listed by `/api/v1/rules`.
    pub async fn reload_and_confirm(&self, expected_groups: &[String]) -> Result<ReloadReport> {
        let start = Instant::now();
        let attempts = self.reload().await?;
        let deadline = Instant::now() + self.timeout;
        loop {
            match self.ready().await {
                Ok(true) => break,
                Ok(false) | Err(_) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Ok(false) => {
                    return Err(Error::ReloadNotConfirmed {
                        url: self.base.clone(),
                        reason: format!("/-/ready did not answer 200 within {:?}", self.timeout),
                    })
                }
                Err(e) => return Err(e),
            }
        }
        if !self.last_reload_successful().await? {
            return Err(Error::ReloadNotConfirmed {
                url: self.base.clone(),
                reason: "prometheus_config_last_reload_successful is 0: the previous rule set is still active; \
                         look in the Prometheus log for \"error loading rules\""
                    .into(),
            });
        }
        let loaded = self.rule_groups().await?;
        let missing: Vec<&String> = expected_groups
            .iter()
            .filter(|g| !loaded.iter().any(|l| &l.name == *g))
            .collect();
        if !missing.is_empty() {
            return Err(Error::ReloadNotConfirmed {
                url: self.base.clone(),
                reason: format!(
                    "/api/v1/rules does not list {missing:?}; check that rule_files in prometheus.yml \
                     covers the rule folder (e.g. <rule_dir>/*.yml) and that Prometheus can read it"
                ),
            });
        }
        Ok(ReloadReport {
            url: self.base.clone(),
            attempts,
            confirmed_groups: expected_groups.to_vec(),
            elapsed_ms: start.elapsed().as_millis() as u64,
        })
    }
}

/// The value of an unlabelled sample `name VALUE` in the text exposition format.
fn parse_gauge(body: &str, name: &str) -> Option<f64> {
    body.lines().find_map(|line| {
        let rest = line.strip_prefix(name)?;
        let value = rest.strip_prefix(' ')?.split_whitespace().next()?;
        value.parse().ok()
    })
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    s
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
}
