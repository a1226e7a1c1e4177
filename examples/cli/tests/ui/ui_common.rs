//! Browser fixtures: a server with an admin, an Editor and a Viewer, and logging in.

use ipocket_testkit::browser::Browser;

use crate::common::{self, Server};

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
