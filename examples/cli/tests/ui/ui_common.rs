//! Browser fixtures: a server with an admin, an Editor and a Viewer, and logging in.

use ipocket_testkit::browser::Browser;

use crate::common::{self, raw_request, Resp, Server};

/// The password of the `ed` (Editor) and `vi` (Viewer) users of [`start`].
pub(crate) const USER_PASSWORD: &str = "secret-pw-1";

/// `ipocket serve` with `admin`, `ed` (Editor) and `vi` (Viewer); returns the admin's API
/// token too.
pub(crate) fn start() -> (Server, String) {
    let srv = common::start();
    let (admin, _, _) = common::users(&srv);
    (srv, admin)
}

/// A browser on the server.
pub(crate) async fn browser(srv: &Server) -> Browser {
    Browser::open(&format!("http://{}", srv.addr)).await
}

/// Logs in through the form and lands on the asset list.
pub(crate) async fn login(b: &Browser, user: &str, password: &str) {
    b.goto("/ui/login").await;
    b.fill("#username", user).await;
    b.fill("#password", password).await;
    b.click("form button[type=submit]").await;
    b.find("header nav").await;
}

/// The session cookie of the browser (for raw requests made as that user).
pub(crate) async fn session_cookie(b: &Browser) -> String {
    let c = b
        .client
        .get_named_cookie("ipocket_session")
        .await
        .expect("a session cookie");
    format!("ipocket_session={}", c.value())
}

/// Runs an async test body on a fresh runtime.
pub(crate) fn run<F: std::future::Future<Output = ()>>(f: F) {
    ipocket_testkit::runtime().block_on(f)
}

/// A raw request with the browser's session cookie.
pub(crate) fn with_cookie(
    srv: &Server,
    method: &str,
    path: &str,
    cookie: &str,
    form: Option<&str>,
) -> Resp {
    let body = form.unwrap_or("");
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nCookie: {cookie}\r\nConnection: close\r\nContent-Length: {}\r\n",
        srv.addr,
        body.len()
    );
    if form.is_some() {
        head.push_str("Content-Type: application/x-www-form-urlencoded\r\n");
    }
    head.push_str("\r\n");
    raw_request(&srv.addr, &head, body.as_bytes())
}

/// The CSRF token of the page the browser shows.
pub(crate) async fn csrf_token(b: &Browser) -> String {
    let src = b.source().await;
    src.split("name=\"csrf\" value=\"").nth(1).unwrap()[..32].to_string()
}

/// Waits up to 10 s until the element `css` contains `needle` (the page after a click may
/// still be the old one for a moment).
pub(crate) async fn wait_for_text(b: &Browser, css: &str, needle: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        if let Some(e) = b.find_all(css).await.first() {
            if e.text().await.unwrap_or_default().contains(needle) {
                return;
            }
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{css:?} never contained {needle:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
