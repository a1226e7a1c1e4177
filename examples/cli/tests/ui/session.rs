//! Login, logout, the redirect back, the CSRF check, the security headers.

use crate::common::{raw_request, request};
use crate::ui_common::{browser, login, run, session_cookie, start, with_cookie, USER_PASSWORD};

#[test]
fn login_redirects_back_and_logout_ends_the_session() {
    let (srv, _) = start();
    run(async {
        let b = browser(&srv).await;
        // A page without a session goes to the login form, which remembers where.
        b.goto("/ui/management?x=1").await;
        assert_eq!(
            b.path().await,
            "/ui/login?return_to=%2Fui%2Fmanagement%3Fx%3D1"
        );
        b.screenshot("login").await;

        // A wrong password: the original's message, and no session.
        b.fill("#username", "ed").await;
        b.fill("#password", "wrong").await;
        b.click("form button[type=submit]").await;
        assert_eq!(
            b.text("[role=alert]").await,
            "Invalid username or password."
        );
        assert!(b.client.get_named_cookie("ipocket_session").await.is_err());

        b.fill("#username", "ed").await;
        b.fill("#password", USER_PASSWORD).await;
        b.click("form button[type=submit]").await;
        b.find("header nav").await;
        assert_eq!(b.path().await, "/ui/management?x=1");
        assert!(b.text("header .account").await.contains("ed (Editor)"));
        let cookie = session_cookie(&b).await;
        b.screenshot("management").await;

        // Log out: the cookie no longer opens a page, even replayed by hand.
        b.click("header .account button").await;
        b.find("#username").await;
        assert_eq!(b.text("[role=status]").await, "You are logged out.");
        let head = format!(
            "GET /ui/management HTTP/1.1\r\nHost: {}\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n",
            srv.addr
        );
        let r = raw_request(&srv.addr, &head, b"");
        assert_eq!(r.status, 303);
        assert!(r.header("location").unwrap().starts_with("/ui/login"));
        b.close().await;
    });
}

#[test]
fn failed_login_answers_401_and_a_post_without_the_csrf_token_is_refused() {
    let (srv, _) = start();
    run(async {
        let b = browser(&srv).await;
        login(&b, "ed", USER_PASSWORD).await;
        let cookie = session_cookie(&b).await;
        // The same session, a form without its token (as another site would send it).
        let body = "current_password=x&new_password=y&confirm_new_password=y";
        let r = with_cookie(&srv, "POST", "/ui/account/password", &cookie, Some(body));
        assert_eq!(r.status, 403, "{}", r.text());
        assert!(r.text().contains("CSRF"), "{}", r.text());
        b.close().await;
    });
    // The login form itself: wrong credentials are a 401 page.
    let page = request(&srv, "GET", "/ui/login", None, None, b"");
    let token = page.text().split("name=\"csrf\" value=\"").nth(1).unwrap()[..32].to_string();
    let body = format!("csrf={token}&username=ed&password=nope&return_to=%2Fui%2Fhosts");
    let head = format!(
        "POST /ui/login HTTP/1.1\r\nHost: {}\r\nCookie: ipocket_login_csrf={token}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        srv.addr,
        body.len()
    );
    let r = raw_request(&srv.addr, &head, body.as_bytes());
    assert_eq!(r.status, 401);
    assert!(r.text().contains("Invalid username or password."));
}

#[test]
fn pages_carry_a_strict_content_security_policy_and_static_files_are_cached() {
    let (srv, _) = start();
    let r = request(&srv, "GET", "/ui/login", None, None, b"");
    assert_eq!(r.status, 200);
    let csp = r.header("content-security-policy").unwrap();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert!(csp.contains("frame-ancestors 'none'"));
    assert_eq!(r.header("x-frame-options"), Some("DENY"));
    let cookie = r.header("set-cookie").unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let css_url = r
        .text()
        .split("href=\"/ui/static/style.css")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let css = request(
        &srv,
        "GET",
        &format!("/ui/static/style.css{css_url}"),
        None,
        None,
        b"",
    );
    assert_eq!(css.status, 200);
    assert!(css.header("cache-control").unwrap().contains("immutable"));
    // Behind a TLS proxy the cookies are Secure.
    let head = format!(
        "GET /ui/login HTTP/1.1\r\nHost: {}\r\nX-Forwarded-Proto: https\r\nConnection: close\r\n\r\n",
        srv.addr
    );
    let r = raw_request(&srv.addr, &head, b"");
    assert!(r.header("set-cookie").unwrap().contains("; Secure"));
    // The root goes to the UI.
    let r = request(&srv, "GET", "/", None, None, b"");
    assert_eq!(r.status, 303);
    assert_eq!(r.header("location"), Some("/ui/ip-assets"));
}

#[test]
fn own_sessions_are_listed_and_one_is_revoked_from_the_account_page() {
    let (srv, _) = start();
    // `start` logged `ed` in once for the API; one more API token, then this browser.
    let api_token = crate::common::login(&srv, "ed", USER_PASSWORD);
    run(async {
        let b = browser(&srv).await;
        login(&b, "ed", USER_PASSWORD).await;
        b.goto("/ui/account/sessions").await;
        let rows = b.find_all("table.sessions tbody tr").await;
        assert_eq!(rows.len(), 3);
        // Newest first: this browser, then the newer API token.
        assert!(b
            .text("table.sessions tbody tr:nth-child(1)")
            .await
            .contains("this browser"));
        b.screenshot("account-sessions").await;
        b.click("table.sessions tbody tr:nth-child(2) button").await;
        assert_eq!(b.find_all("table.sessions tbody tr").await.len(), 2);
    });
    let me = request(&srv, "GET", "/api/v1/auth/me", Some(&api_token), None, b"");
    assert_eq!(me.status, 401, "the revoked token is refused");
}
