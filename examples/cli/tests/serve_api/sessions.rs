//! Hardening of logins and sessions (issue #18): lockout per user and per address, a bounded
//! password-check queue, sessions that expire, the own-sessions API and page, audited
//! failures and refusals, and a failed start that creates no admin.

use std::io::BufReader;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ipocket_testkit::serve_addr::read_listen_addr;
use serde_json::{json, Value};

use crate::common::*;

fn try_login(srv: &Server, user: &str, password: &str) -> Resp {
    send_json(
        srv,
        "POST",
        "/api/v1/auth/login",
        None,
        json!({"username": user, "password": password}),
    )
}

/// The audit rows about users, newest first, once `found` holds (security events are written
/// in the background, in batches).
fn audit_until(srv: &Server, admin: &str, found: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let r = get(
            srv,
            "/api/v1/audit-log?target_type=USER&per_page=500",
            Some(admin),
        );
        assert_eq!(r.status, 200, "{}", r.text());
        let items = r.json()["items"].as_array().unwrap().clone();
        if found(&items) || Instant::now() > deadline {
            return items;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn has(items: &[Value], action: &str, label: &str, message_part: &str) -> bool {
    items.iter().any(|e| {
        e["action"] == action
            && e["target_label"] == label
            && e["message"].as_str().unwrap_or("").contains(message_part)
    })
}

#[test]
fn failed_logins_lock_the_user_then_the_address_and_are_audited() {
    let srv = start_with(
        &[
            "--login-failures-per-user",
            "3",
            "--login-failures-per-address",
            "6",
            "--login-lockout-secs",
            "4",
        ],
        Some(ADMIN_PASSWORD),
    );
    let (admin, _, _) = users(&srv);
    for _ in 0..3 {
        let r = try_login(&srv, "ed", "wrong");
        assert_eq!(
            (r.status, r.error_code().as_str()),
            (401, "invalid_credentials")
        );
    }
    // Locked: even the right password is refused, without a check, until Retry-After.
    let r = try_login(&srv, "ed", "secret-pw-1");
    assert_eq!(r.status, 429, "{}", r.text());
    assert_eq!(r.error_code(), "too_many_requests");
    assert_eq!(r.json()["error"]["details"]["scope"], "user");
    let wait: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=4).contains(&wait), "{wait}");
    // Another user from the same address still logs in (3 of 6 address failures so far).
    login(&srv, "vi", "secret-pw-1");
    // Unknown names count against the address too: 6 failures lock the address for everyone.
    for i in 0..3 {
        assert_eq!(try_login(&srv, &format!("ghost{i}"), "x").status, 401);
    }
    let r = try_login(&srv, "vi", "secret-pw-1");
    assert_eq!(r.status, 429, "{}", r.text());
    assert_eq!(r.json()["error"]["details"]["scope"], "address");

    let items = audit_until(&srv, &admin, |items| {
        has(items, "LOGIN_LOCKED", "ghost2", "address") && has(items, "LOGIN_FAILED", "ghost0", "")
    });
    assert!(
        has(&items, "LOGIN_FAILED", "ed", "from 127.0.0.1"),
        "{items:?}"
    );
    assert!(
        has(&items, "LOGIN_LOCKED", "ed", "for this user"),
        "{items:?}"
    );
    assert!(
        has(&items, "LOGIN_LOCKED", "ghost2", "for this address"),
        "{items:?}"
    );
    let ghost = items
        .iter()
        .find(|e| e["action"] == "LOGIN_FAILED" && e["target_label"] == "ghost0")
        .expect("the unknown user's failure is audited under the attempted name");
    assert_eq!(ghost["target_id"], 0);
    // Refused logins are not audited one by one: 7 failures, 2 locks, nothing for the 429s.
    let failures = items
        .iter()
        .filter(|e| e["action"] == "LOGIN_FAILED")
        .count();
    assert_eq!(failures, 6, "{items:?}");

    std::thread::sleep(Duration::from_secs(5));
    login(&srv, "ed", "secret-pw-1");
}

#[test]
fn password_checks_beyond_the_workers_and_queue_answer_503() {
    let srv = start_with(
        &[
            "--max-concurrent-logins",
            "1",
            "--login-queue",
            "0",
            "--login-failures-per-user",
            "0",
            "--login-failures-per-address",
            "0",
        ],
        Some(ADMIN_PASSWORD),
    );
    let answers: Vec<(u16, Option<String>, String)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|_| {
                s.spawn(|| {
                    let r = try_login(&srv, "admin", "wrong");
                    let code = r.error_code();
                    (r.status, r.header("retry-after").map(str::to_string), code)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let busy: Vec<_> = answers.iter().filter(|a| a.0 == 503).collect();
    assert!(!busy.is_empty(), "{answers:?}");
    assert!(
        busy.iter()
            .all(|a| a.1.as_deref() == Some("1") && a.2 == "server_busy"),
        "{answers:?}"
    );
    assert!(
        answers.iter().all(|a| a.0 == 503 || a.0 == 401),
        "{answers:?}"
    );
    // The server is fine afterwards: with no queue, a check is taken only while a worker
    // waits for one, so the first try may come just before the worker is back.
    let ok = (0..100).any(|_| {
        let r = try_login(&srv, "admin", ADMIN_PASSWORD);
        if r.status != 503 {
            assert_eq!(r.status, 200, "{}", r.text());
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
        false
    });
    assert!(ok, "still busy after the storm");
}

#[test]
fn idle_sessions_end_and_the_token_is_refused() {
    // 0.001 h = 3.6 s without use (last use is recorded once a minute, so here: 3.6 s after
    // the login).
    let srv = start_with(&["--session-idle-hours", "0.001"], Some(ADMIN_PASSWORD));
    let t = login(&srv, "admin", ADMIN_PASSWORD);
    assert_eq!(get(&srv, "/api/v1/auth/me", Some(&t)).status, 200);
    std::thread::sleep(Duration::from_secs(5));
    assert_eq!(get(&srv, "/api/v1/auth/me", Some(&t)).status, 401);
    let r = request(&srv, "POST", "/api/v1/auth/logout", Some(&t), None, b"");
    assert_eq!(r.status, 401);
}

#[test]
fn own_sessions_are_listed_and_revoked_by_api_and_page() {
    let srv = start();
    let (admin, _, _) = users(&srv);
    let t1 = login(&srv, "ed", "secret-pw-1");
    let t2 = login(&srv, "ed", "secret-pw-1");
    let r = get(&srv, "/api/v1/auth/sessions", Some(&t2));
    assert_eq!(r.status, 200, "{}", r.text());
    let text = r.text();
    assert!(
        !text.contains(&t1) && !text.contains(&t2),
        "no token: {text}"
    );
    let list = r.json();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 3, "users() logged ed in once too: {list:?}");
    assert_eq!(list[0]["current"], true);
    for s in list {
        assert!(s["id"].is_i64() && s["created_at"].is_string() && s["last_seen_at"].is_string());
    }
    // Someone else's session is not found; one's own ends.
    let admins = get(&srv, "/api/v1/auth/sessions", Some(&admin)).json();
    let admin_id = admins[0]["id"].as_i64().unwrap();
    let path = format!("/api/v1/auth/sessions/{admin_id}");
    let r = request(&srv, "DELETE", &path, Some(&t2), None, b"");
    assert_eq!((r.status, r.error_code().as_str()), (404, "not_found"));
    assert_eq!(get(&srv, "/api/v1/auth/me", Some(&admin)).status, 200);
    let t1_id = list[1]["id"].as_i64().unwrap();
    let path = format!("/api/v1/auth/sessions/{t1_id}");
    assert_eq!(
        request(&srv, "DELETE", &path, Some(&t2), None, b"").status,
        204
    );
    assert_eq!(get(&srv, "/api/v1/auth/me", Some(&t1)).status, 401);
    assert_eq!(get(&srv, "/api/v1/auth/me", Some(&t2)).status, 200);

    // The web UI's account page lists them with a Revoke button per session (CSRF-checked).
    let page = |token: &str| {
        let head = format!(
            "GET /ui/account/sessions HTTP/1.1\r\nHost: x\r\nConnection: close\r\nCookie: ipocket_session={token}\r\n\r\n"
        );
        raw_request(&srv.addr, &head, b"")
    };
    let r = page(&t2);
    assert_eq!(r.status, 200, "{}", r.text());
    let html = r.text();
    assert!(html.contains("this browser"), "{html}");
    let csrf = html
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_string();
    let other = list[2]["id"].as_i64().unwrap();
    let post = |csrf: &str| {
        let body = format!("csrf={csrf}");
        let head = format!(
            "POST /ui/account/sessions/{other}/revoke HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\
             Cookie: ipocket_session={t2}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
             Content-Length: {}\r\n\r\n",
            body.len()
        );
        raw_request(&srv.addr, &head, body.as_bytes())
    };
    assert_eq!(post("0000").status, 403, "no CSRF token, no revoke");
    let r = post(&csrf);
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(r.header("location"), Some("/ui/account/sessions"));
    let left = get(&srv, "/api/v1/auth/sessions", Some(&t2)).json();
    assert_eq!(left.as_array().unwrap().len(), 1, "{left}");
}

#[test]
fn refusals_of_logged_in_users_are_audited() {
    let srv = start();
    let (admin, _, viewer) = users(&srv);
    let r = send_json(
        &srv,
        "POST",
        "/api/v1/users",
        Some(&viewer),
        json!({"username": "x", "password": "y", "role": "Admin"}),
    );
    assert_eq!(r.status, 403);
    let r = send_json(
        &srv,
        "POST",
        "/api/v1/ip-assets",
        Some(&viewer),
        json!({"ip_address": "10.9.0.1", "type": "VM"}),
    );
    assert_eq!(r.status, 403);
    let items = audit_until(&srv, &admin, |items| {
        has(items, "FORBIDDEN", "vi", "POST /api/v1/ip-assets")
    });
    assert!(
        has(
            &items,
            "FORBIDDEN",
            "vi",
            "POST /api/v1/users: role Viewer cannot manage users"
        ),
        "{items:?}"
    );
    assert!(
        has(
            &items,
            "FORBIDDEN",
            "vi",
            "POST /api/v1/ip-assets: role Viewer cannot change inventory data"
        ),
        "{items:?}"
    );
    let by = items.iter().find(|e| e["action"] == "FORBIDDEN").unwrap();
    assert_eq!(by["username"], "vi");
}

#[test]
fn a_start_on_a_busy_port_creates_no_admin() {
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ipocket.db");
    let serve = |listen: &str| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ipocket"));
        cmd.args(["serve", "--quiet", "--listen", listen, "--db"])
            .arg(&db)
            .env_remove("IPOCKET_ADMIN_PASSWORD")
            .env_remove("IPOCKET_DB")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    };
    let failed = serve(&format!("127.0.0.1:{port}")).output().unwrap();
    assert!(!failed.status.success());
    let out = String::from_utf8_lossy(&failed.stdout);
    assert!(!out.contains("created admin"), "{out}");
    assert!(
        String::from_utf8_lossy(&failed.stderr).contains("binding"),
        "{}",
        String::from_utf8_lossy(&failed.stderr)
    );
    drop(busy);
    // The next start creates the admin and shows its password, then the one listening line.
    let mut child = serve("127.0.0.1:0").stderr(Stdio::null()).spawn().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let (_, lines) = read_listen_addr(&mut stdout);
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("created admin user \"admin\" with password")),
        "{lines:?}"
    );
}
