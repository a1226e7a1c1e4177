//! A canned-answer HTTP server on 127.0.0.1 for auth, timeout and proxy-error cases that a
//! real Prometheus cannot produce (Prometheus cannot check Bearer tokens).
#![allow(dead_code, unreachable_pub)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;

/// What the stub answers.
#[derive(Clone)]
pub struct Canned {
    pub status: u16,
    pub content_type: &'static str,
    pub body: String,
    pub delay: Duration,
    /// Answer 401 unless the Authorization header equals this.
    pub require_auth: Option<String>,
}

/// Requests seen: (path and query, Authorization header).
pub type Seen = Arc<Mutex<Vec<(String, Option<String>)>>>;

pub struct Stub {
    pub addr: SocketAddr,
    /// Every request seen: (path and query, Authorization header).
    pub seen: Seen,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
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
    pub fn start(canned: Canned) -> Stub {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        std_listener.set_nonblocking(true).unwrap();
        let addr = std_listener.local_addr().unwrap();
        let (stop_tx, mut stop_rx) = tokio::sync::oneshot::channel::<()>();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let seen2 = seen.clone();
        let canned = Arc::new(canned);
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(std_listener).unwrap();
                loop {
                    let (stream, _) = tokio::select! {
                        c = listener.accept() => match c { Ok(c) => c, Err(_) => continue },
                        _ = &mut stop_rx => return,
                    };
                    let canned = canned.clone();
                    let seen = seen2.clone();
                    tokio::spawn(async move {
                        let svc = hyper::service::service_fn(move |req| {
                            handle(req, canned.clone(), seen.clone())
                        });
                        let _ = hyper::server::conn::http1::Builder::new()
                            .serve_connection(TokioIo::new(stream), svc)
                            .await;
                    });
                }
            });
        });
        Stub {
            addr,
            seen,
            stop: Some(stop_tx),
            thread: Some(thread),
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Stub {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
