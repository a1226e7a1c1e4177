//! The HTTP client every ipocket crate shares: hyper 1 + hyper-util's pooled client over
//! rustls (hyper-rustls, ring; webpki roots, optionally the system's CA bundle and a CA file;
//! an optional client certificate; certificate checks off only when asked), a per-attempt
//! timeout, Bearer or Basic auth, and retries with exponential backoff and jitter (backon)
//! for idempotent GETs.
//!
//! Secrets never leave this module in text form: [`Auth`]'s `Debug` is redacted and no
//! error message carries a header or a URL with user info (such URLs are refused).

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Method, Request, Uri};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

/// Credentials sent in the `Authorization` header.
#[derive(Clone, PartialEq, Eq)]
pub enum Auth {
    /// `Authorization: Bearer <token>`.
    Bearer(String),
    /// `Authorization: Basic base64(user:password)`.
    Basic {
        /// User name.
        user: String,
        /// Password.
        password: String,
    },
}

impl Auth {
    /// The seed's `--token` rule: a value containing `:` is `user:password` (Basic auth,
    /// split at the first `:`), anything else is a Bearer token.
    ///
    /// ```
    /// use ipocket_http::Auth;
    /// assert_eq!(Auth::from_token("prom_user:prom_pass").header_value(), "Basic cHJvbV91c2VyOnByb21fcGFzcw==");
    /// assert_eq!(Auth::from_token("abc123").header_value(), "Bearer abc123");
    /// assert_eq!(format!("{:?}", Auth::from_token("u:secret")), "Basic { user: \"u\", password: <redacted> }");
    /// ```
    pub fn from_token(token: &str) -> Auth {
        match token.split_once(':') {
            Some((user, password)) => Auth::Basic {
                user: user.to_string(),
                password: password.to_string(),
            },
            None => Auth::Bearer(token.to_string()),
        }
    }

    /// The `Authorization` header value.
    pub fn header_value(&self) -> String {
        match self {
            Auth::Bearer(t) => format!("Bearer {t}"),
            Auth::Basic { user, password } => {
                format!("Basic {}", base64(format!("{user}:{password}").as_bytes()))
            }
        }
    }
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::Bearer(_) => f.write_str("Bearer(<redacted>)"),
            Auth::Basic { user, .. } => {
                write!(f, "Basic {{ user: {user:?}, password: <redacted> }}")
            }
        }
    }
}

/// How to reach a server that needs credentials or a TLS set-up other than the webpki
/// roots: what the `--token`, `--ca-file` and `--insecure` flags of the front ends fill in.
///
/// ```
/// use ipocket_http::{Auth, ConnectOptions};
/// let o = ConnectOptions::from_flags(Some("prom_user:prom_pass"), None, false);
/// assert!(matches!(o.auth, Some(Auth::Basic { .. })));
/// assert_eq!(ConnectOptions::from_flags(Some("  "), None, false), ConnectOptions::default());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnectOptions {
    /// Sent as `Authorization` on every request.
    pub auth: Option<Auth>,
    /// PEM certificates trusted besides the webpki roots (a private CA, a self-signed server).
    pub ca_file: Option<PathBuf>,
    /// Accept any server certificate (test set-ups only).
    pub insecure_tls: bool,
}

impl ConnectOptions {
    /// From the usual flags: a blank token means none, otherwise [`Auth::from_token`].
    pub fn from_flags(
        token: Option<&str>,
        ca_file: Option<PathBuf>,
        insecure_tls: bool,
    ) -> ConnectOptions {
        ConnectOptions {
            auth: token
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(Auth::from_token),
            ca_file,
            insecure_tls,
        }
    }
}

fn base64(input: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Why a request got no HTTP answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HttpError {
    /// Not an absolute `http(s)://host[:port]/…` URL, or one with user info.
    #[error("invalid URL {0:?}: expected http(s)://host[:port][/path] without credentials (pass them as a token)")]
    InvalidUrl(String),
    /// The TLS set-up failed (unreadable CA file…).
    #[error("TLS setup: {0}")]
    TlsSetup(String),
    /// Connection refused, reset, DNS failure…
    #[error("connection to {url} failed: {reason}")]
    Transport {
        /// The URL (never holds credentials).
        url: String,
        /// hyper's description.
        reason: String,
    },
    /// No complete answer within the timeout.
    #[error("no answer from {url} within {timeout:?}")]
    Timeout {
        /// The URL.
        url: String,
        /// The per-attempt timeout.
        timeout: Duration,
    },
}

impl ipocket_errors::Classify for HttpError {
    fn kind(&self) -> ipocket_errors::ErrorKind {
        match self {
            HttpError::InvalidUrl(_) | HttpError::TlsSetup(_) => ipocket_errors::ErrorKind::Invalid,
            HttpError::Transport { .. } | HttpError::Timeout { .. } => {
                ipocket_errors::ErrorKind::Unavailable
            }
        }
    }
}

/// An HTTP answer, body read to the end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// `Content-Type`, if any.
    pub content_type: Option<String>,
    /// The body.
    pub body: Bytes,
}

/// What the TLS set-up trusts and presents; the hyper client is rebuilt from it whenever a
/// `with_*` call changes it.
#[derive(Clone, Default)]
struct TlsSettings {
    /// Certificates trusted besides the webpki roots (`--ca-file`).
    extra_roots: Vec<rustls::pki_types::CertificateDer<'static>>,
    /// The system's CA bundle too.
    system_roots: bool,
    /// Accept any server certificate.
    insecure: bool,
    /// Client certificate chain and key (mutual TLS).
    client_auth: Option<Arc<ClientIdentity>>,
}

struct ClientIdentity {
    chain: Vec<rustls::pki_types::CertificateDer<'static>>,
    key: rustls::pki_types::PrivateKeyDer<'static>,
}

/// A pooled HTTP/1.1 client with timeout, auth and retries.
#[derive(Clone)]
pub struct HttpClient {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    tls: TlsSettings,
    timeout: Duration,
    auth: Option<Auth>,
    max_retries: usize,
    min_delay: Duration,
}

impl fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpClient")
            .field("timeout", &self.timeout)
            .field("auth", &self.auth)
            .field("max_retries", &self.max_retries)
            .finish()
    }
}

impl Default for HttpClient {
    fn default() -> Self {
        HttpClient::new()
    }
}

impl HttpClient {
    /// 30 s timeout per attempt, no auth, 3 retries from 200 ms (doubling, jitter);
    /// `https://` checked against the webpki roots.
    pub fn new() -> HttpClient {
        let tls = TlsSettings::default();
        HttpClient {
            client: build_client(tls_config(&tls).expect("the default TLS set-up builds")),
            tls,
            timeout: Duration::from_secs(30),
            auth: None,
            max_retries: 3,
            min_delay: Duration::from_millis(200),
        }
    }

    /// Sets the per-attempt timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Trusts the PEM certificates of `ca_file` too (a private CA or a self-signed server).
    pub fn with_ca_file(mut self, ca_file: &Path) -> Result<Self, HttpError> {
        let certs = read_pem_certs(ca_file)?;
        self.tls.extra_roots.extend(certs);
        self.rebuild()
    }

    /// Trusts the system's CA bundle too, as OpenSSL finds it: the file named by
    /// `SSL_CERT_FILE`, else the first of Debian's, Red Hat's, SUSE's and Alpine's bundle
    /// paths that exists. Where none exists only the webpki roots (and a CA file) are used.
    ///
    /// ```
    /// let c = ipocket_http::HttpClient::new().with_system_roots();
    /// assert!(c.is_ok());
    /// ```
    pub fn with_system_roots(mut self) -> Result<Self, HttpError> {
        self.tls.system_roots = true;
        self.rebuild()
    }

    /// Presents the PEM certificate chain `cert_file` with the PEM private key `key_file`
    /// (PKCS#8, PKCS#1 or SEC1) to servers that ask for a client certificate (mutual TLS).
    pub fn with_client_cert(
        mut self,
        cert_file: &Path,
        key_file: &Path,
    ) -> Result<Self, HttpError> {
        use rustls::pki_types::{pem::PemObject, PrivateKeyDer};
        let chain = read_pem_certs(cert_file)?;
        let key = PrivateKeyDer::from_pem_file(key_file)
            .map_err(|e| HttpError::TlsSetup(format!("{}: {e}", key_file.display())))?;
        self.tls.client_auth = Some(Arc::new(ClientIdentity { chain, key }));
        self.rebuild()
    }

    /// `insecure`: accept any server certificate (signatures are still checked). Only for
    /// test set-ups; the default verifies.
    pub fn with_insecure_tls(mut self, insecure: bool) -> Self {
        if insecure {
            self.tls.insecure = true;
            // Without roots to read and a key already parsed, nothing here can fail.
            if let Ok(c) = tls_config(&self.tls) {
                self.client = build_client(c);
            }
        }
        self
    }

    fn rebuild(mut self) -> Result<Self, HttpError> {
        self.client = build_client(tls_config(&self.tls)?);
        Ok(self)
    }

    /// Sends this `Authorization` on every request.
    pub fn with_auth(mut self, auth: Option<Auth>) -> Self {
        self.auth = auth;
        self
    }

    /// Applies `options`: its auth, then its CA file, then the insecure switch (which wins).
    pub fn with_connect_options(self, options: &ConnectOptions) -> Result<Self, HttpError> {
        let mut c = self.with_auth(options.auth.clone());
        if let Some(ca) = &options.ca_file {
            c = c.with_ca_file(ca)?;
        }
        Ok(c.with_insecure_tls(options.insecure_tls))
    }

    /// Retries of idempotent requests after a transport error, a timeout or a 429/502/503/504
    /// without a JSON body; the first delay doubles each time (at most 10 s), with jitter.
    pub fn with_retries(mut self, max_retries: usize, min_delay: Duration) -> Self {
        self.max_retries = max_retries;
        self.min_delay = min_delay;
        self
    }

    /// Checks and parses a URL: absolute `http://` or `https://`, a host, no user info.
    ///
    /// ```
    /// use ipocket_http::HttpClient;
    /// assert!(HttpClient::parse_url("http://127.0.0.1:9090/api/v1/query").is_ok());
    /// assert!(HttpClient::parse_url("http://u:p@127.0.0.1/").is_err());
    /// assert!(HttpClient::parse_url("ftp://x/").is_err());
    /// ```
    pub fn parse_url(url: &str) -> Result<Uri, HttpError> {
        let invalid = || HttpError::InvalidUrl(redact_userinfo(url));
        let uri: Uri = url.parse().map_err(|_| invalid())?;
        if uri.authority().is_some_and(|a| a.as_str().contains('@')) || uri.host().is_none() {
            return Err(invalid());
        }
        match uri.scheme_str() {
            Some("http" | "https") => Ok(uri),
            _ => Err(invalid()),
        }
    }

    /// `GET url` with `Accept`, retried as [`HttpClient::with_retries`] says.
    pub async fn get(&self, url: &Uri, accept: &str) -> Result<HttpResponse, HttpError> {
        self.request(Method::GET, url, accept, &[]).await
    }

    /// Any method with extra headers (values are never logged); only idempotent methods
    /// (GET, HEAD, DELETE) are retried. The body is empty.
    pub async fn request(
        &self,
        method: Method,
        url: &Uri,
        accept: &str,
        headers: &[(&str, &str)],
    ) -> Result<HttpResponse, HttpError> {
        let idempotent = matches!(method, Method::GET | Method::HEAD | Method::DELETE);
        let backoff = ExponentialBuilder::default()
            .with_min_delay(self.min_delay)
            .with_max_delay(Duration::from_secs(10))
            .with_max_times(if idempotent { self.max_retries } else { 0 })
            .with_jitter();
        let attempt = || async {
            let r = self
                .send_once(method.clone(), url, accept, headers, Bytes::new())
                .await?;
            if matches!(r.status, 429 | 502 | 503 | 504)
                && !r
                    .content_type
                    .as_deref()
                    .is_some_and(|c| c.starts_with("application/json"))
            {
                return Err(Attempt::Retry(r));
            }
            Ok(r)
        };
        let retried = attempt
            .retry(backoff)
            .when(|_| true)
            .notify(|e, delay| {
                let retry_in_ms = delay.as_millis() as u64;
                match e {
                    Attempt::Retry(r) => {
                        tracing::debug!(%url, status = r.status, retry_in_ms, "HTTP {} from {url}, retrying", r.status)
                    }
                    Attempt::Failed(e) => tracing::debug!(%url, retry_in_ms, "{e}, retrying"),
                }
            });
        match retried.await {
            Ok(r) => Ok(r),
            Err(Attempt::Retry(r)) => Ok(r),
            Err(Attempt::Failed(e)) => Err(e),
        }
    }

    /// One attempt with a body and no retries (for callers with their own retry rules, such
    /// as remote_write, which retries 5xx and 429 only).
    pub async fn send_body_once(
        &self,
        method: Method,
        url: &Uri,
        headers: &[(&str, &str)],
        body: Bytes,
    ) -> Result<HttpResponse, HttpError> {
        self.send_body_once_accept(method, url, "*/*", headers, body)
            .await
    }

    /// [`HttpClient::send_body_once`] with an `Accept` header.
    pub async fn send_body_once_accept(
        &self,
        method: Method,
        url: &Uri,
        accept: &str,
        headers: &[(&str, &str)],
        body: Bytes,
    ) -> Result<HttpResponse, HttpError> {
        match self.send_once(method, url, accept, headers, body).await {
            Ok(r) => Ok(r),
            Err(Attempt::Retry(r)) => Ok(r),
            Err(Attempt::Failed(e)) => Err(e),
        }
    }

    async fn send_once(
        &self,
        method: Method,
        url: &Uri,
        accept: &str,
        headers: &[(&str, &str)],
        body: Bytes,
    ) -> Result<HttpResponse, Attempt> {
        let mut b = Request::builder()
            .method(method)
            .uri(url.clone())
            .header("Accept", accept);
        if !headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("user-agent"))
        {
            b = b.header("User-Agent", concat!("ipocket/", env!("CARGO_PKG_VERSION")));
        }
        if let Some(auth) = &self.auth {
            b = b.header("Authorization", auth.header_value());
        }
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        let req = b.body(Full::new(body)).map_err(|e| {
            Attempt::Failed(HttpError::Transport {
                url: url.to_string(),
                reason: e.to_string(),
            })
        })?;
        let work = async {
            let resp = self.client.request(req).await.map_err(|e| {
                let mut reason = e.to_string();
                let mut src = std::error::Error::source(&e);
                while let Some(s) = src {
                    reason.push_str(": ");
                    reason.push_str(&s.to_string());
                    src = s.source();
                }
                HttpError::Transport {
                    url: url.to_string(),
                    reason,
                }
            })?;
            let status = resp.status().as_u16();
            let content_type = resp
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            let body = resp
                .into_body()
                .collect()
                .await
                .map_err(|e| HttpError::Transport {
                    url: url.to_string(),
                    reason: e.to_string(),
                })?
                .to_bytes();
            Ok(HttpResponse {
                status,
                content_type,
                body,
            })
        };
        match tokio::time::timeout(self.timeout, work).await {
            Ok(r) => r.map_err(Attempt::Failed),
            Err(_) => Err(Attempt::Failed(HttpError::Timeout {
                url: url.to_string(),
                timeout: self.timeout,
            })),
        }
    }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn roots() -> rustls::RootCertStore {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    roots
}

/// Every PEM certificate of `file`; none at all is an error.
fn read_pem_certs(
    file: &Path,
) -> Result<Vec<rustls::pki_types::CertificateDer<'static>>, HttpError> {
    use rustls::pki_types::{pem::PemObject, CertificateDer};
    let bad = |e: String| HttpError::TlsSetup(format!("{}: {e}", file.display()));
    let certs = CertificateDer::pem_file_iter(file)
        .map_err(|e| bad(e.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(e.to_string()))?;
    if certs.is_empty() {
        return Err(bad("no PEM certificate found".into()));
    }
    Ok(certs)
}

/// Where OpenSSL-based tools find the system's CA bundle on Linux distributions.
const SYSTEM_BUNDLES: [&str; 4] = [
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/ssl/cert.pem",
];

/// The system bundle: `SSL_CERT_FILE` when set (an unreadable one is an error), else the
/// first well-known bundle that exists; `None` when there is none.
fn system_bundle() -> Result<Option<Vec<rustls::pki_types::CertificateDer<'static>>>, HttpError> {
    if let Some(f) = std::env::var_os("SSL_CERT_FILE").filter(|f| !f.is_empty()) {
        return read_pem_certs(Path::new(&f)).map(Some);
    }
    match SYSTEM_BUNDLES.iter().map(Path::new).find(|p| p.is_file()) {
        Some(p) => read_pem_certs(p).map(Some),
        None => Ok(None),
    }
}

fn tls_config(tls: &TlsSettings) -> Result<rustls::ClientConfig, HttpError> {
    let builder = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .expect("ring supports the default TLS versions");
    let verified = if tls.insecure {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCert(provider())))
    } else {
        let mut roots = roots();
        if tls.system_roots {
            // A bundle holds some certificates webpki cannot use (old, odd encodings): those
            // are skipped, as rustls-native-certs users do.
            let _ = roots.add_parsable_certificates(system_bundle()?.unwrap_or_default());
        }
        for cert in &tls.extra_roots {
            roots
                .add(cert.clone())
                .map_err(|e| HttpError::TlsSetup(format!("CA file: {e}")))?;
        }
        builder.with_root_certificates(roots)
    };
    match &tls.client_auth {
        None => Ok(verified.with_no_client_auth()),
        Some(id) => verified
            .with_client_auth_cert(id.chain.clone(), id.key.clone_key())
            .map_err(|e| HttpError::TlsSetup(format!("client certificate: {e}"))),
    }
}

fn build_client(tls: rustls::ClientConfig) -> Client<HttpsConnector<HttpConnector>, Full<Bytes>> {
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .build();
    Client::builder(TokioExecutor::new()).build(connector)
}

/// `insecure`: any certificate chain and name is accepted; handshake signatures are checked.
#[derive(Debug)]
struct AcceptAnyCert(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AcceptAnyCert {
    fn verify_server_cert(
        &self,
        _end_entity: &rustls::pki_types::CertificateDer<'_>,
        _intermediates: &[rustls::pki_types::CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

enum Attempt {
    Retry(HttpResponse),
    Failed(HttpError),
}

fn redact_userinfo(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://<redacted>@{}", &url[..s], &url[at + 1..]),
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648() {
        for (i, o) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(i.as_bytes()), o);
        }
    }

    #[test]
    fn user_info_is_never_echoed() {
        let e = HttpClient::parse_url("http://u:hunter2@127.0.0.1/").unwrap_err();
        assert!(!e.to_string().contains("hunter2"), "{e}");
    }

    #[test]
    fn password_with_colon_splits_at_the_first() {
        assert_eq!(
            Auth::from_token("u:a:b"),
            Auth::Basic {
                user: "u".into(),
                password: "a:b".into()
            }
        );
    }
}
