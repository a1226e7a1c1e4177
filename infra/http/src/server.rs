//! A small HTTP/1.1 server loop on hyper: accept on a bound listener, serve each connection
//! with a header-read timeout, stop accepting when `shutdown` resolves and give open
//! requests a grace period.
//!
//! ```
//! use std::convert::Infallible;
//! use http_body_util::Full;
//! use hyper::body::Bytes;
//! use hyper::{Request, Response};
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
//! let addr = listener.local_addr().unwrap();
//! let hello = hyper::service::service_fn(|_req: Request<hyper::body::Incoming>| async {
//!     Ok::<_, Infallible>(Response::new(Full::new(Bytes::from("hello\n"))))
//! });
//! let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
//! let server = tokio::spawn(ipocket_http::server::serve(listener, hello, async {
//!     let _ = stopped.await;
//! }));
//! let url = format!("http://{addr}/").parse().unwrap();
//! let r = ipocket_http::HttpClient::new().get(&url, "*/*").await.unwrap();
//! assert_eq!((r.status, &r.body[..]), (200, &b"hello\n"[..]));
//! stop.send(()).unwrap();
//! server.await.unwrap();
//! # });
//! ```

use std::error::Error as StdError;
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use hyper::body::{Body, Incoming};
use hyper::server::conn::http1;
use hyper::service::Service;
use hyper::{Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;

/// Limits of [`serve_with`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServeOptions {
    /// Time a client has to send the request headers; the connection is closed after it.
    pub header_timeout: Duration,
    /// Time open requests get to finish once `shutdown` resolved; then connections are dropped.
    pub shutdown_grace: Duration,
}

impl Default for ServeOptions {
    /// 10 s for the headers, 10 s of grace.
    fn default() -> Self {
        ServeOptions {
            header_timeout: Duration::from_secs(10),
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

/// [`serve_with`] with the default [`ServeOptions`].
pub async fn serve<S, B>(listener: TcpListener, service: S, shutdown: impl Future<Output = ()>)
where
    S: Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn StdError + Send + Sync>>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    let _ = serve_with(listener, service, shutdown, ServeOptions::default()).await;
}

/// Serves HTTP/1.1 (keep-alive) on `listener` with `service` until `shutdown` resolves, then
/// lets open requests finish for at most `options.shutdown_grace`. Returns `false` when the
/// grace period ran out and open connections were dropped.
///
/// Accept errors (such as too many open files) are not fatal: the loop waits 50 ms and goes
/// on, so a burst of connections cannot stop the server.
pub async fn serve_with<S, B>(
    listener: TcpListener,
    service: S,
    shutdown: impl Future<Output = ()>,
    options: ServeOptions,
) -> bool
where
    S: Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn StdError + Send + Sync>>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    serve_peers(listener, move |_| service.clone(), shutdown, options).await
}

/// [`serve_with`], with the service of each connection made from the client's address (the
/// TCP peer), for per-client limits.
pub async fn serve_peers<S, B>(
    listener: TcpListener,
    make_service: impl Fn(SocketAddr) -> S,
    shutdown: impl Future<Output = ()>,
    options: ServeOptions,
) -> bool
where
    S: Service<Request<Incoming>, Response = Response<B>> + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn StdError + Send + Sync>>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(options.header_timeout);
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        tracing::warn!("accept failed: {e}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let conn = graceful.watch(http.serve_connection(TokioIo::new(stream), make_service(peer)));
                tokio::spawn(async move {
                    let _ = conn.await;
                });
            }
            _ = &mut shutdown => break,
        }
    }
    drop(listener);
    tokio::select! {
        _ = graceful.shutdown() => true,
        _ = tokio::time::sleep(options.shutdown_grace) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::convert::Infallible;
    use std::io::{Read, Write};

    use http_body_util::Full;
    use hyper::body::Bytes;

    #[test]
    fn slow_headers_are_cut_off_and_shutdown_stops_the_loop() {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
            let options = ServeOptions {
                header_timeout: Duration::from_millis(200),
                shutdown_grace: Duration::from_secs(1),
            };
            let server = tokio::spawn(serve_with(
                listener,
                hyper::service::service_fn(|req: Request<Incoming>| async move {
                    let path = Bytes::from(req.uri().path().to_string());
                    Ok::<_, Infallible>(Response::new(Full::new(path)))
                }),
                async {
                    let _ = stopped.await;
                },
                options,
            ));
            let answer = tokio::task::spawn_blocking(move || {
                // A client that never finishes its headers gets the connection closed.
                let mut slow = std::net::TcpStream::connect(addr).unwrap();
                slow.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
                slow.write_all(b"GET /slow HTTP/1.1\r\nHost: x\r\n")
                    .unwrap();
                let mut rest = Vec::new();
                let _ = slow.read_to_end(&mut rest);
                let mut ok = std::net::TcpStream::connect(addr).unwrap();
                ok.write_all(b"GET /fine HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    .unwrap();
                let mut text = String::new();
                ok.read_to_string(&mut text).unwrap();
                (String::from_utf8_lossy(&rest).into_owned(), text)
            })
            .await
            .unwrap();
            assert!(!answer.0.contains("/slow"), "{}", answer.0);
            assert!(answer.1.starts_with("HTTP/1.1 200"), "{}", answer.1);
            assert!(answer.1.ends_with("/fine"), "{}", answer.1);
            stop.send(()).unwrap();
            tokio::time::timeout(Duration::from_secs(5), server)
                .await
                .expect("the loop stops on shutdown")
                .unwrap();
            assert!(std::net::TcpStream::connect(addr).is_err());
        });
    }
}
