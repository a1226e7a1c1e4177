//! A canned-answer HTTP server on 127.0.0.1 for auth, timeout and proxy-error cases that a
//! real Prometheus cannot produce (Prometheus cannot check Bearer tokens).
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::http_server::{serve_http, Background};
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};

/// What the stub answers.
#[derive(Clone)]
pub struct Canned {
    /// HTTP status.
    pub status: u16,
    /// `Content-Type` header.
    pub content_type: &'static str,
    /// Response body.
    pub body: String,
    /// Wait this long before answering.
    pub delay: Duration,
    /// Answer 401 unless the Authorization header equals this.
    pub require_auth: Option<String>,
}

/// Requests seen: (path and query, Authorization header).
pub type Seen = Arc<Mutex<Vec<(String, Option<String>)>>>;

/// The canned-answer server on 127.0.0.1 (a free port); stops when dropped.
pub struct Stub {
    /// `127.0.0.1:PORT` it listens on.
    pub addr: SocketAddr,
    /// Every request seen: (path and query, Authorization header).
    pub seen: Seen,
    _server: Background,
}

async fn handle(
    req: Request<Incoming>,
    canned: Arc<Canned>,
    seen: Seen,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let auth = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let pq = req
        .uri()
        .path_and_query()
        .map(|p| p.to_string())
        .unwrap_or_default();
    seen.lock().unwrap().push((pq, auth.clone()));
    tokio::time::sleep(canned.delay).await;
    if let Some(want) = &canned.require_auth {
        if auth.as_deref() != Some(want) {
            return Ok(Response::builder()
                .status(401)
                .header("content-type", "text/plain; charset=utf-8")
                .header("www-authenticate", "Basic")
                .body(Full::new(Bytes::from("Unauthorized\n")))
                .unwrap());
        }
    }
    Ok(Response::builder()
        .status(canned.status)
        .header("content-type", canned.content_type)
        .body(Full::new(Bytes::from(canned.body.clone())))
        .unwrap())
}

impl Stub {
    /// Starts answering every request with `canned`.
    pub fn start(canned: Canned) -> Stub {
        let seen: Seen = Arc::new(Mutex::new(Vec::new()));
        let handler_seen = seen.clone();
        let canned = Arc::new(canned);
        let server = serve_http("127.0.0.1:0", 0, move |req| {
            handle(req, canned.clone(), handler_seen.clone())
        });
        Stub {
            addr: server.addr,
            seen,
            _server: server,
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}
