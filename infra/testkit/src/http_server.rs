//! A hyper 1 http1 server on its own thread ([`serve_http`]), and on it the ingest test
//! server ([`IngestServer`]): `POST /metrics/prometheus?server_id=` handed to the caller's
//! ingest function with the store behind a mutex (the server crate owns the real adapter;
//! the testkit knows no ipocket type, so the caller wires `ingest_now` in).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;

/// The ingest test server: `POST /metrics/prometheus` on 127.0.0.1, every request handed to
/// the ingest function with the store `S` locked; stops when dropped (or by [`Self::stop`]).
pub struct IngestServer<S> {
    /// `127.0.0.1:PORT` it listens on.
    pub addr: SocketAddr,
    /// The store every push goes to.
    pub store: Arc<Mutex<S>>,
    background: Option<Background>,
}

/// One push as the ingest test server received it.
#[derive(Debug, Clone, Copy)]
pub struct IngestCall<'a> {
    /// The query string (`server_id=...`), if any.
    pub query: Option<&'a str>,
    /// The `Content-Type` header, if any.
    pub content_type: Option<&'a str>,
    /// The body, or `Err(limit)` when it was longer than the limit in bytes.
    pub body: Result<&'a [u8], usize>,
}

/// A hyper http1 server running on its own thread and tokio runtime; it stops (and the
/// thread is joined) when dropped.
pub struct Background {
    /// `127.0.0.1:PORT` it listens on.
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
    serve_tcp_on(addr, workers, move |stream| {
        let handler = handler.clone();
        async move {
            let svc = hyper::service::service_fn(handler);
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), svc)
                .await;
        }
    })
}

/// Runs `on_conn` for every TCP connection accepted on `addr`, on a current-thread runtime
/// of its own thread.
pub fn serve_tcp<C, F>(addr: &str, on_conn: C) -> Background
where
    C: Fn(tokio::net::TcpStream) -> F + Send + Sync + 'static,
    F: std::future::Future<Output = ()> + Send + 'static,
{
    serve_tcp_on(addr, 0, on_conn)
}

fn serve_tcp_on<C, F>(addr: &str, workers: usize, on_conn: C) -> Background
where
    C: Fn(tokio::net::TcpStream) -> F + Send + Sync + 'static,
    F: std::future::Future<Output = ()> + Send + 'static,
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
                tokio::spawn(on_conn(stream));
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

async fn handle<S, F>(
    req: Request<Incoming>,
    store: Arc<Mutex<S>>,
    limit: usize,
    ingest: Arc<F>,
) -> Result<Response<Full<Bytes>>, Infallible>
where
    S: Send + 'static,
    F: Fn(&mut S, IngestCall<'_>) -> (u16, String) + Send + Sync + 'static,
{
    let query = req.uri().query().map(str::to_string);
    let content_type = req
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let path_ok = req.uri().path() == "/metrics/prometheus";
    let body = Limited::new(req.into_body(), limit)
        .collect()
        .await
        .map(|b| b.to_bytes());
    if body.is_ok() && !path_ok {
        return Ok(json(404, "{\"error\":\"not found\"}".into()));
    }
    let (status, text) = tokio::task::spawn_blocking(move || {
        let call = IngestCall {
            query: query.as_deref(),
            content_type: content_type.as_deref(),
            body: body.as_deref().map_err(|_| limit),
        };
        let mut store = store.lock().unwrap();
        ingest(&mut store, call)
    })
    .await
    .unwrap();
    Ok(json(status, text))
}

fn json(status: u16, body: String) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body)))
        .unwrap()
}

impl<S: Send + 'static> IngestServer<S> {
    /// Starts on `addr` ("127.0.0.1:0" for a free port) with `workers` runtime threads (0: a
    /// current-thread runtime). Bodies longer than `max_body_bytes` reach `ingest` as
    /// `Err(max_body_bytes)`; another path than `/metrics/prometheus` is 404. `ingest` answers
    /// (status, JSON body).
    pub fn start<F>(
        addr: &str,
        store: Arc<Mutex<S>>,
        max_body_bytes: usize,
        workers: usize,
        ingest: F,
    ) -> IngestServer<S>
    where
        F: Fn(&mut S, IngestCall<'_>) -> (u16, String) + Send + Sync + 'static,
    {
        let handler_store = store.clone();
        let ingest = Arc::new(ingest);
        let background = serve_http(addr, workers, move |req| {
            handle(req, handler_store.clone(), max_body_bytes, ingest.clone())
        });
        IngestServer {
            addr: background.addr,
            store,
            background: Some(background),
        }
    }

    /// `http://127.0.0.1:PORT/metrics/prometheus`.
    pub fn endpoint(&self) -> String {
        format!("http://{}/metrics/prometheus", self.addr)
    }

    /// Stops listening (connections are refused afterwards) and returns the store.
    pub fn stop(mut self) -> Arc<Mutex<S>> {
        self.background.take();
        self.store.clone()
    }
}
