//! Login, sessions, the bootstrap admin and user management; a restart keeps the sessions; a
//! graceful shutdown on SIGTERM.

use std::io::BufReader;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ipocket_testkit::serve_addr::read_listen_addr;
use serde_json::json;

use crate::common::*;

#[test]
fn generated_admin_password_and_graceful_shutdown() {
    let mut srv = start_with(&[], None);
    let line = srv
        .first_lines
        .iter()
        .find(|l| l.contains("created admin user"))
        .expect("bootstrap line")
        .clone();
    let password = line
        .split("with password ")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap();
    assert!(password.len() >= 24);
    let token = login(&srv, "admin", password);
    assert_eq!(
        get(&srv, "/api/v1/auth/me", Some(&token)).json()["role"],
        "Admin"
    );

    let pid = srv.child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(s) = srv.child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "server did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status:?}");
}

#[test]
fn restart_keeps_data_and_sessions() {
    let srv = start();
    let (_, editor, _) = users(&srv);
    let r = send_json(
        &srv,
        "POST",
        "/api/v1/ip-assets",
        Some(&editor),
        json!({"ip_address": "10.3.0.1", "type": "VM"}),
    );
    assert_eq!(r.status, 201);
    let db = srv.db.clone();
    let mut srv = srv;
    srv.child.kill().unwrap();
    srv.child.wait().unwrap();
    // A second server on the same file: no second admin, the token still works.
    let mut child = Command::new(env!("CARGO_BIN_EXE_ipocket"))
        .args(["serve", "--listen", "127.0.0.1:0", "--quiet", "--db"])
        .arg(&db)
        .env_remove("IPOCKET_ADMIN_PASSWORD")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let (addr, lines) = read_listen_addr(&mut stdout);
    assert!(
        !lines.iter().any(|l| l.contains("created admin")),
        "{lines:?}"
    );
    let head = format!(
        "GET /api/v1/ip-assets/10.3.0.1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer {editor}\r\n\r\n"
    );
    let r = raw_request(&addr, &head, b"");
    assert_eq!(r.status, 200, "{}", r.text());
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn user_management() {
    let srv = start();
    let (admin, editor, viewer) = users(&srv);
    let list = get(&srv, "/api/v1/users", Some(&admin)).json();
    let id_of = |name: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|u| u["username"] == name)
            .unwrap()["id"]
            .as_i64()
            .unwrap()
    };
    let (vi, ed, ad) = (id_of("vi"), id_of("ed"), id_of("admin"));

    // Only the Admin manages users.
    let r = send_json(
        &srv,
        "PATCH",
        &format!("/api/v1/users/{vi}"),
        Some(&editor),
        json!({"role": "Editor"}),
    );
    assert_eq!(r.status, 403);
    // Promote the viewer: it may now write.
    let r = send_json(
        &srv,
        "PATCH",
        &format!("/api/v1/users/{vi}"),
        Some(&admin),
        json!({"role": "Editor"}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    // A role change ends the user's sessions: the new role starts with a fresh login.
    assert_eq!(get(&srv, "/api/v1/auth/me", Some(&viewer)).status, 401);
    let viewer = login(&srv, "vi", "secret-pw-1");
    let r = send_json(
        &srv,
        "POST",
        "/api/v1/ip-assets",
        Some(&viewer),
        json!({"ip_address": "10.4.0.1", "type": "VM"}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    // Deactivate the editor: its token stops working.
    let r = send_json(
        &srv,
        "PATCH",
        &format!("/api/v1/users/{ed}"),
        Some(&admin),
        json!({"is_active": false}),
    );
    assert_eq!(r.status, 200);
    assert_eq!(get(&srv, "/api/v1/auth/me", Some(&editor)).status, 401);
    // The last admin cannot be demoted, nor delete itself.
    let r = send_json(
        &srv,
        "PATCH",
        &format!("/api/v1/users/{ad}"),
        Some(&admin),
        json!({"role": "Viewer"}),
    );
    assert!(
        r.status == 409 || r.status == 422 || r.status == 403,
        "{}",
        r.status
    );
    r.error_code();
    let r = request(
        &srv,
        "DELETE",
        &format!("/api/v1/users/{ad}"),
        Some(&admin),
        None,
        b"",
    );
    assert!(r.status >= 400 && r.status < 500, "{}", r.status);
    let r = request(
        &srv,
        "DELETE",
        &format!("/api/v1/users/{ed}"),
        Some(&admin),
        None,
        b"",
    );
    assert_eq!(r.status, 204);
    assert_eq!(
        request(&srv, "DELETE", "/api/v1/users/999", Some(&admin), None, b"").status,
        404
    );

    // Self-service password change.
    let r = send_json(
        &srv,
        "POST",
        "/api/v1/auth/password",
        Some(&viewer),
        json!({"current_password": "wrong", "new_password": "new-secret-2"}),
    );
    assert!(r.status >= 400 && r.status < 500, "{}", r.status);
    let r = send_json(
        &srv,
        "POST",
        "/api/v1/auth/password",
        Some(&viewer),
        json!({"current_password": "secret-pw-1", "new_password": "new-secret-2"}),
    );
    assert_eq!(r.status, 204, "{}", r.text());
    // The change ended the sessions, the caller's too.
    assert_eq!(get(&srv, "/api/v1/auth/me", Some(&viewer)).status, 401);
    login(&srv, "vi", "new-secret-2");
}
