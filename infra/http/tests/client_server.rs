//! The client against the server helper on 127.0.0.1: retries only for idempotent methods,
//! auth header, timeout.

use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use ipocket_http::{Auth, HttpClient, HttpError, Method};

/// Serves `status` to every request, counting them and keeping the last `Authorization`.
async fn start(
    status: u16,
    delay: Duration,
) -> (String, Arc<AtomicUsize>, Arc<Mutex<Option<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let hits = Arc::new(AtomicUsize::new(0));
    let auth = Arc::new(Mutex::new(None));
    let (h, a) = (hits.clone(), auth.clone());
    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
        let (h, a) = (h.clone(), a.clone());
        async move {
            h.fetch_add(1, Ordering::SeqCst);
            *a.lock().unwrap() = req
                .headers()
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            tokio::time::sleep(delay).await;
            let mut r = Response::new(Full::new(Bytes::from_static(b"busy")));
            *r.status_mut() = hyper::StatusCode::from_u16(status).unwrap();
            Ok::<_, Infallible>(r)
        }
    });
    tokio::spawn(ipocket_http::server::serve(
        listener,
        service,
        std::future::pending(),
    ));
    (base, hits, auth)
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn get_is_retried_on_503_and_post_is_not() {
    rt().block_on(async {
        let (base, hits, auth) = start(503, Duration::ZERO).await;
        let url = HttpClient::parse_url(&format!("{base}/x")).unwrap();
        let c = HttpClient::new()
            .with_retries(2, Duration::from_millis(5))
            .with_auth(Some(Auth::from_token("u:p")));
        let r = c.get(&url, "*/*").await.unwrap();
        assert_eq!((r.status, hits.load(Ordering::SeqCst)), (503, 3));
        assert_eq!(auth.lock().unwrap().as_deref(), Some("Basic dTpw"));
        let r = c.request(Method::POST, &url, "*/*", &[]).await.unwrap();
        assert_eq!((r.status, hits.load(Ordering::SeqCst)), (503, 4));
    });
}

#[test]
fn a_slow_answer_times_out() {
    rt().block_on(async {
        let (base, _, _) = start(200, Duration::from_secs(5)).await;
        let url = HttpClient::parse_url(&base).unwrap();
        let c = HttpClient::new()
            .with_retries(0, Duration::ZERO)
            .with_timeout(Duration::from_millis(100));
        let e = c.get(&url, "*/*").await.unwrap_err();
        assert!(matches!(e, HttpError::Timeout { .. }), "{e:?}");
    });
}
