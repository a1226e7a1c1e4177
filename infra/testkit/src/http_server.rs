//! A minimal HTTP adapter over `ingest()` (the server issue owns the real one): hyper 1
//! http1 on 127.0.0.1, `POST /metrics/prometheus?server_id=`, the store behind a mutex.
#![allow(dead_code, unreachable_pub)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use ipocket_connectors::ingest::{ingest_now, server_id_from_query};
use ipocket_connectors::{IngestError, IngestOptions, IngestRequest, SampleStore};

pub struct IngestServer {
    pub addr: SocketAddr,
    pub store: Arc<Mutex<SampleStore>>,
    background: Option<Background>,
}

/// A hyper http1 server running on its own thread and tokio runtime; it stops (and the
/// thread is joined) when dropped.
pub struct Background {
    pub addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// Serves `handler` on `addr` ("127.0.0.1:0" for a free port) with `workers` runtime threads
/// (0: a current-thread runtime).
pub fn serve_http<H, F>(addr: &str, workers: usize, handler: H) -> Background
where
    H: Fn(Request<Incoming>) -> F + Clone + Send + Sync + 'static,
    F: std::future::Future<Output = Result<Response<Full<Bytes>>, Infallible>> + Send + 'static,
{
    let std_listener = std::net::TcpListener::bind(addr).unwrap();
    std_listener.set_nonblocking(true).unwrap();
    let addr = std_listener.local_addr().unwrap();
    let (stop_tx, mut stop_rx) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::spawn(move || {
        let rt = if workers == 0 {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
        } else {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(workers)
                .enable_all()
                .build()
        }
        .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(std_listener).unwrap();
            loop {
                let (stream, _) = tokio::select! {
                    c = listener.accept() => match c { Ok(c) => c, Err(_) => continue },
                    _ = &mut stop_rx => return,
                };
                let handler = handler.clone();
                tokio::spawn(async move {
                    let svc = hyper::service::service_fn(handler);
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
    });
    Background {
        addr,
        stop: Some(stop_tx),
        thread: Some(thread),
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn handle(
    req: Request<Incoming>,
    store: Arc<Mutex<SampleStore>>,
    opts: Arc<IngestOptions>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let server_id = req.uri().query().and_then(server_id_from_query);
    let content_type = req
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let path_ok = req.uri().path() == "/metrics/prometheus";
    let limit = opts.max_body_bytes;
    let body = match Limited::new(req.into_body(), limit).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            let e = IngestError::BodyTooLarge {
                size: limit + 1,
                limit,
            };
            return Ok(json(e.status(), e.to_json().to_string()));
        }
    };
    if !path_ok {
        return Ok(json(404, "{\"error\":\"not found\"}".into()));
    }
    let result = tokio::task::spawn_blocking(move || {
        let r = IngestRequest {
            server_id: server_id.as_deref(),
            content_type: content_type.as_deref(),
            body: &body,
        };
        let mut store = store.lock().unwrap();
        ingest_now(&mut store, &r, &opts)
    })
    .await
    .unwrap();
    Ok(match result {
        Ok(resp) => json(200, serde_json::to_string(&resp).unwrap()),
        Err(e) => json(e.status(), e.to_json().to_string()),
    })
}

fn json(status: u16, body: String) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body)))
        .unwrap()
}

impl IngestServer {
    /// Starts on `addr` ("127.0.0.1:0" for a free port) over the store file at `db`.
    pub fn start(addr: &str, db: &Path, opts: IngestOptions, workers: usize) -> IngestServer {
        let store = Arc::new(Mutex::new(SampleStore::open(db).unwrap()));
        Self::start_with(addr, store, opts, workers)
    }

    pub fn start_with(
        addr: &str,
        store: Arc<Mutex<SampleStore>>,
        opts: IngestOptions,
        workers: usize,
    ) -> IngestServer {
        let handler_store = store.clone();
        let opts = Arc::new(opts);
        let background = serve_http(addr, workers, move |req| {
            handle(req, handler_store.clone(), opts.clone())
        });
        IngestServer {
            addr: background.addr,
            store,
            background: Some(background),
        }
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}/metrics/prometheus", self.addr)
    }

    /// Stops listening (connections are refused afterwards).
    pub fn stop(mut self) -> Arc<Mutex<SampleStore>> {
        self.shutdown();
        self.store.clone()
    }

    fn shutdown(&mut self) {
        self.background.take();
    }
}
