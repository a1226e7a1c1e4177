//! Health, `/metrics`, service discovery (`/sd/...` and its token), public reads and the
//! stable error shape.

use std::io::BufReader;
use std::process::{Command, Stdio};

use ipocket_testkit::serve_addr::read_listen_addr;
use serde_json::json;

use crate::common::*;

#[test]
fn health_metrics_sd_and_error_shape() {
    let srv = start();
    let r = get(&srv, "/health", None);
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["status"], "ok");

    // Reads default to authenticated.
    let r = get(&srv, "/metrics", None);
    assert_eq!(r.status, 401);
    assert_eq!(r.error_code(), "unauthorized");
    let r = get(&srv, "/sd/node", None);
    assert_eq!(r.status, 401);

    let admin = login(&srv, "admin", ADMIN_PASSWORD);
    let r = get(&srv, "/metrics", Some(&admin));
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").unwrap().starts_with("text/plain"));
    let text = r.text();
    assert!(text.contains("ipam_ip_total 0\n"), "{text}");
    assert!(
        text.contains(
            "ipocket_http_requests_total{method=\"GET\",route=\"/health\",status=\"200\"} 1"
        ),
        "{text}"
    );
    ipocket_expfmt::parse(text.as_bytes(), ipocket_expfmt::Format::Text).unwrap();

    for path in [
        "/sd/node",
        "/api/v1/sd",
        "/sd/node?group_by=project&port=9200",
    ] {
        let r = get(&srv, path, Some(&admin));
        assert_eq!(r.status, 200, "{path}");
        assert_eq!(r.header("content-type"), Some("application/json"));
        assert_eq!(r.json(), json!([]), "{path}");
    }
    let r = get(&srv, "/sd/node?group_by=nope", Some(&admin));
    assert_eq!(r.status, 422);
    assert_eq!(r.error_code(), "invalid_value");

    let r = get(&srv, "/nope", None);
    assert_eq!(r.status, 404);
    assert_eq!(r.error_code(), "not_found");
    let r = request(&srv, "DELETE", "/health", None, None, b"");
    assert_eq!(r.status, 405);
    assert_eq!(r.error_code(), "method_not_allowed");

    // Bad bodies and bad logins.
    let r = request(
        &srv,
        "POST",
        "/api/v1/auth/login",
        None,
        Some("application/json"),
        b"{nope",
    );
    assert_eq!(r.status, 400);
    assert_eq!(r.error_code(), "bad_request");
    let r = send_json(
        &srv,
        "POST",
        "/api/v1/auth/login",
        None,
        json!({"username": "admin", "password": "wrong"}),
    );
    assert_eq!(r.status, 401);
    assert_eq!(r.error_code(), "invalid_credentials");
    let r = get(&srv, "/metrics", Some("not-a-token"));
    assert_eq!(r.status, 401);

    // Logout revokes the token.
    let r = request(&srv, "POST", "/api/v1/auth/logout", Some(&admin), None, b"");
    assert_eq!(r.status, 204);
    assert_eq!(get(&srv, "/metrics", Some(&admin)).status, 401);
}

#[test]
fn public_reads_and_sd_token() {
    let dir_env = "sd-secret";
    let srv = {
        // IPOCKET_SD_TOKEN is read from the environment.
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("ipocket.db");
        let mut child = Command::new(env!("CARGO_BIN_EXE_ipocket"))
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--quiet",
                "--public-reads",
                "--db",
            ])
            .arg(&db)
            .env("IPOCKET_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("IPOCKET_SD_TOKEN", dir_env)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let (addr, _) = read_listen_addr(&mut stdout);
        Server {
            child,
            addr,
            first_lines: vec![],
            _stdout: stdout,
            _dir: dir,
            db,
            _postgres: None,
        }
    };
    assert_eq!(get(&srv, "/metrics", None).status, 200);
    assert_eq!(get(&srv, "/api/v1/ip-assets", None).status, 200);
    let head = format!(
        "GET /sd/node HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-SD-Token: {dir_env}\r\n\r\n"
    );
    assert_eq!(raw_request(&srv.addr, &head, b"").status, 200);
    let head = "GET /sd/node HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-SD-Token: wrong\r\n\r\n";
    assert_eq!(raw_request(&srv.addr, head, b"").status, 401);
    // Exports still need a login.
    assert_eq!(get(&srv, "/api/v1/export/ip-assets.csv", None).status, 401);
}
