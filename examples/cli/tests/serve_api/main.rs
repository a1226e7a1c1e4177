//! `ipocket serve` end to end: the real binary on 127.0.0.1 (port 0), a real SQLite file in a
//! temp dir, requests over plain TCP (HTTP/1.1).

use std::io::{BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// Reads the address `ipocket serve` prints.
#[path = "support/serve_addr.rs"]
mod serve_addr;
use serve_addr::read_listen_addr;

/// A vSphere REST stand-in on 127.0.0.1.
#[path = "support/vcenter_stub.rs"]
mod vcenter;
use vcenter::vcenter_stub;

const ADMIN_PASSWORD: &str = "admin-pass-123";

struct Server {
    child: Child,
    addr: String,
    first_lines: Vec<String>,
    _stdout: BufReader<ChildStdout>,
    _dir: tempfile::TempDir,
    #[allow(dead_code)]
    db: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_with(extra: &[&str], admin_password: Option<&str>) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ipocket.db");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ipocket"));
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--quiet", "--db"])
        .arg(&db)
        .args(extra)
        .env_remove("IPOCKET_DB")
        .env_remove("IPOCKET_SD_TOKEN")
        .env_remove("IPOCKET_PUBLIC_READS")
        .env_remove("IPOCKET_INGEST_RETENTION_HOURS")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    match admin_password {
        Some(p) => cmd.env("IPOCKET_ADMIN_PASSWORD", p),
        None => cmd.env_remove("IPOCKET_ADMIN_PASSWORD"),
    };
    let mut child = cmd.spawn().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let (addr, first_lines) = read_listen_addr(&mut stdout);
    Server {
        child,
        addr,
        first_lines,
        _stdout: stdout,
        _dir: dir,
        db,
    }
}

fn start() -> Server {
    start_with(&[], Some(ADMIN_PASSWORD))
}

struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Resp {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    /// Asserts the stable error shape and returns the code.
    fn error_code(&self) -> String {
        let v = self.json();
        let e = &v["error"];
        assert!(e["message"].is_string(), "no error.message in {v}");
        assert!(e.get("details").is_some(), "no error.details in {v}");
        e["code"].as_str().expect("error.code").to_string()
    }
}

fn parse_response(raw: &[u8]) -> Resp {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("end of headers");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    Resp {
        status,
        headers,
        body: raw[split + 4..].to_vec(),
    }
}

fn raw_request(addr: &str, head: &str, body: &[u8]) -> Resp {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s.write_all(head.as_bytes()).unwrap();
    let _ = s.write_all(body);
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    parse_response(&raw)
}

fn request(
    srv: &Server,
    method: &str,
    path: &str,
    token: Option<&str>,
    content_type: Option<&str>,
    body: &[u8],
) -> Resp {
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: {}\r\n",
        srv.addr,
        body.len()
    );
    if let Some(t) = token {
        head.push_str(&format!("Authorization: Bearer {t}\r\n"));
    }
    if let Some(ct) = content_type {
        head.push_str(&format!("Content-Type: {ct}\r\n"));
    }
    head.push_str("\r\n");
    raw_request(&srv.addr, &head, body)
}

fn get(srv: &Server, path: &str, token: Option<&str>) -> Resp {
    request(srv, "GET", path, token, None, b"")
}

fn send_json(srv: &Server, method: &str, path: &str, token: Option<&str>, body: Value) -> Resp {
    request(
        srv,
        method,
        path,
        token,
        Some("application/json"),
        body.to_string().as_bytes(),
    )
}

fn login(srv: &Server, user: &str, password: &str) -> String {
    let r = send_json(
        srv,
        "POST",
        "/api/v1/auth/login",
        None,
        json!({"username": user, "password": password}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["token_type"], "bearer");
    v["access_token"].as_str().unwrap().to_string()
}

/// Admin token, plus an Editor and a Viewer created by the admin.
fn users(srv: &Server) -> (String, String, String) {
    let admin = login(srv, "admin", ADMIN_PASSWORD);
    for (name, role) in [("ed", "Editor"), ("vi", "Viewer")] {
        let r = send_json(
            srv,
            "POST",
            "/api/v1/users",
            Some(&admin),
            json!({"username": name, "password": "secret-pw-1", "role": role}),
        );
        assert_eq!(r.status, 201, "{}", r.text());
    }
    let editor = login(srv, "ed", "secret-pw-1");
    let viewer = login(srv, "vi", "secret-pw-1");
    (admin, editor, viewer)
}

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

#[test]
fn ip_assets_every_role() {
    let srv = start();
    let (admin, editor, viewer) = users(&srv);
    let new = json!({"ip_address": "10.0.0.1", "type": "VM", "tags": ["prod"], "notes": "web"});

    // Viewer and Admin cannot write data (as in the original); no token is 401.
    assert_eq!(
        send_json(&srv, "POST", "/api/v1/ip-assets", None, new.clone()).status,
        401
    );
    for token in [&viewer, &admin] {
        let r = send_json(&srv, "POST", "/api/v1/ip-assets", Some(token), new.clone());
        assert_eq!(r.status, 403);
        assert_eq!(r.error_code(), "forbidden");
    }
    // Viewer and Editor cannot manage users.
    for token in [&viewer, &editor] {
        assert_eq!(get(&srv, "/api/v1/users", Some(token)).status, 403);
    }
    assert_eq!(
        get(&srv, "/api/v1/users", Some(&admin))
            .json()
            .as_array()
            .unwrap()
            .len(),
        3
    );

    let r = send_json(
        &srv,
        "POST",
        "/api/v1/ip-assets",
        Some(&editor),
        new.clone(),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["tags"], json!(["prod"]));
    let r = send_json(
        &srv,
        "POST",
        "/api/v1/ip-assets",
        Some(&editor),
        new.clone(),
    );
    assert_eq!(r.status, 409);
    assert_eq!(r.error_code(), "conflict");
    let r = send_json(
        &srv,
        "POST",
        "/api/v1/ip-assets",
        Some(&editor),
        json!({"ip_address": "2001:DB8::1", "type": "OS", "tags": "edge, prod"}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["ip_address"], "2001:db8::1");
    let r = send_json(
        &srv,
        "POST",
        "/api/v1/ip-assets",
        Some(&editor),
        json!({"ip_address": "10.0.0.300", "type": "VM"}),
    );
    assert_eq!(r.status, 422);
    let r = send_json(
        &srv,
        "POST",
        "/api/v1/ip-assets",
        Some(&editor),
        json!({"ip_address": "10.0.0.3", "type": "vm"}),
    );
    assert_eq!(r.status, 422);
    assert_eq!(r.error_code(), "invalid_value");
    for i in 2..=5 {
        let r = send_json(
            &srv,
            "POST",
            "/api/v1/ip-assets",
            Some(&editor),
            json!({"ip_address": format!("10.0.1.{i}"), "type": "BMC"}),
        );
        assert_eq!(r.status, 201);
    }

    // Lists: filters and pagination; readers of every role.
    let r = get(&srv, "/api/v1/ip-assets", Some(&viewer));
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["total"], 6);
    let v = get(
        &srv,
        "/api/v1/ip-assets?type=BMC&per_page=3&page=2",
        Some(&admin),
    )
    .json();
    assert_eq!(v["total"], 4);
    assert_eq!(v["items"].as_array().unwrap().len(), 1);
    assert_eq!(v["page"], 2);
    let v = get(&srv, "/api/v1/ip-assets?tag=prod", Some(&viewer)).json();
    assert_eq!(v["total"], 2);
    let v = get(&srv, "/api/v1/ip-assets?ip=10.0.1.0%2F24", Some(&viewer)).json();
    assert_eq!(v["total"], 4);
    let v = get(&srv, "/api/v1/ip-assets?q=web", Some(&viewer)).json();
    assert_eq!(v["total"], 1);
    assert_eq!(
        get(&srv, "/api/v1/ip-assets?per_page=0", Some(&viewer)).status,
        400
    );
    assert_eq!(
        get(&srv, "/api/v1/ip-assets?archived=maybe", Some(&viewer)).status,
        400
    );

    let r = get(&srv, "/api/v1/ip-assets/2001:db8::1", Some(&viewer));
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["type"], "OS");
    assert_eq!(
        get(&srv, "/api/v1/ip-assets/10.9.9.9", Some(&viewer)).status,
        404
    );

    // Update with presence semantics.
    let r = send_json(
        &srv,
        "PATCH",
        "/api/v1/ip-assets/10.0.0.1",
        Some(&viewer),
        json!({"notes": "x"}),
    );
    assert_eq!(r.status, 403);
    let r = send_json(
        &srv,
        "PATCH",
        "/api/v1/ip-assets/10.0.0.1",
        Some(&editor),
        json!({"notes": null, "type": "VIP", "tags": ["a", "b"]}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(
        (v["notes"].clone(), v["type"].clone()),
        (Value::Null, json!("VIP"))
    );
    assert_eq!(v["tags"], json!(["a", "b"]));
    let r = send_json(
        &srv,
        "PATCH",
        "/api/v1/ip-assets/10.0.0.1",
        Some(&editor),
        json!({"owner": 1}),
    );
    assert_eq!(r.status, 400);

    // Archive, restore, delete.
    let r = request(
        &srv,
        "POST",
        "/api/v1/ip-assets/10.0.0.1/archive",
        Some(&editor),
        None,
        b"",
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["archived"], true);
    assert_eq!(
        get(&srv, "/api/v1/ip-assets", Some(&viewer)).json()["total"],
        5
    );
    assert_eq!(
        get(&srv, "/api/v1/ip-assets?archived=archived", Some(&viewer)).json()["total"],
        1
    );
    let r = request(
        &srv,
        "POST",
        "/api/v1/ip-assets/10.0.0.1/restore",
        Some(&editor),
        None,
        b"",
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["archived"], false);
    let r = request(
        &srv,
        "DELETE",
        "/api/v1/ip-assets/10.0.1.5",
        Some(&viewer),
        None,
        b"",
    );
    assert_eq!(r.status, 403);
    let r = request(
        &srv,
        "DELETE",
        "/api/v1/ip-assets/10.0.1.5",
        Some(&editor),
        None,
        b"",
    );
    assert_eq!(r.status, 204);
    assert_eq!(
        get(&srv, "/api/v1/ip-assets/10.0.1.5", Some(&viewer)).status,
        404
    );

    // Service discovery sees them (IPv6 bracketed); /metrics counts them.
    let v = get(&srv, "/sd/node?type=OS", Some(&viewer)).json();
    assert_eq!(v[0]["targets"], json!(["[2001:db8::1]:9100"]));
    let v = get(&srv, "/api/v1/sd?tag=edge&port=9200", Some(&viewer)).json();
    assert_eq!(v.as_array().unwrap().len(), 1);
    assert_eq!(v[0]["targets"], json!(["[2001:db8::1]:9200"]));
    let text = get(&srv, "/metrics", Some(&viewer)).text();
    assert!(text.contains("ipam_ip_total 5\n"), "{text}");
}

#[test]
fn concurrent_writers_lose_nothing() {
    let srv = start();
    let (_, editor, _) = users(&srv);
    std::thread::scope(|s| {
        for t in 0..6 {
            let (srv, editor) = (&srv, &editor);
            s.spawn(move || {
                for i in 0..15 {
                    let r = send_json(
                        srv,
                        "POST",
                        "/api/v1/ip-assets",
                        Some(editor),
                        json!({"ip_address": format!("10.1.{t}.{i}"), "type": "VM"}),
                    );
                    assert_eq!(r.status, 201, "{}", r.text());
                }
            });
        }
        // Readers alongside: every answer is a 200, never "database is locked".
        for _ in 0..3 {
            let (srv, editor) = (&srv, &editor);
            s.spawn(move || {
                for path in ["/api/v1/ip-assets", "/sd/node", "/metrics"].repeat(10) {
                    let r = get(srv, path, Some(editor));
                    assert_eq!(r.status, 200, "{path}: {}", r.text());
                }
            });
        }
    });
    let v = get(&srv, "/api/v1/ip-assets?per_page=1", Some(&editor)).json();
    assert_eq!(v["total"], 90);
}

const BUNDLE: &str = r#"{"schema_version":"1","data":{
  "projects":[{"name":"core"}],
  "ip_assets":[{"ip_address":"10.2.0.1","type":"VM","project_name":"core","tags":["prod"]},
               {"ip_address":"10.2.0.2","type":"OS"}]}}"#;

#[test]
fn import_dry_run_apply_and_export() {
    let srv = start();
    let (admin, editor, viewer) = users(&srv);
    let post = |token: &str, query: &str, ct: Option<&str>, body: &[u8]| {
        request(
            &srv,
            "POST",
            &format!("/api/v1/import{query}"),
            Some(token),
            ct,
            body,
        )
    };

    // A dry run (any user) shows the plan with per-item diffs and writes nothing.
    let r = post(
        &viewer,
        "?dry_run=1",
        Some("application/json"),
        BUNDLE.as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["mode"], "dry_run");
    assert_eq!(v["plan"]["summary"]["ip_assets"]["create"], 2);
    assert!(v["plan"]["items"].as_array().unwrap().len() >= 3);
    assert!(v["applied"].is_null());
    assert_eq!(
        get(&srv, "/api/v1/ip-assets", Some(&viewer)).json()["total"],
        0
    );

    // Applying is the Editor's.
    for token in [&viewer, &admin] {
        let r = post(
            token,
            "?apply=1",
            Some("application/json"),
            BUNDLE.as_bytes(),
        );
        assert_eq!(r.status, 403);
    }
    let r = post(
        &editor,
        "?apply=1",
        Some("application/json"),
        BUNDLE.as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.json()["applied"]["import_run_audit_id"].is_number());
    assert_eq!(
        get(&srv, "/api/v1/ip-assets", Some(&viewer)).json()["total"],
        2
    );

    // Again: every item is a skip.
    let v = post(
        &editor,
        "?dry_run=1",
        Some("application/json"),
        BUNDLE.as_bytes(),
    )
    .json();
    assert_eq!(v["plan"]["summary"]["ip_assets"]["skip"], 2);

    // CSV by file name, with an update diff.
    let csv = b"ip_address,type,project_name,host_name,notes,archived\n10.2.0.2,OS,,,changed,\n";
    let r = post(&editor, "?file=ip-assets.csv&dry_run=1", None, csv);
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["plan"]["summary"]["ip_assets"]["update"], 1);

    // Bad input: located errors, nothing written.
    let bad =
        br#"{"schema_version":"1","data":{"ip_assets":[{"ip_address":"10.2.0.300","type":"VM"}]}}"#;
    let r = post(&editor, "?apply=1", Some("application/json"), bad);
    assert_eq!(r.status, 422);
    assert_eq!(r.error_code(), "import_invalid");
    let details = r.json()["error"]["details"].clone();
    assert!(
        details[0]["location"]
            .as_str()
            .unwrap()
            .contains("ip_assets[0]"),
        "{details}"
    );
    let r = post(&editor, "?dry_run=1", Some("text/plain"), b"x");
    assert_eq!(r.status, 415);
    assert_eq!(r.error_code(), "unsupported_media_type");
    assert_eq!(
        post(
            &editor,
            "?dry_run=1&apply=1",
            Some("application/json"),
            BUNDLE.as_bytes()
        )
        .status,
        400
    );

    // Exports.
    let r = get(&srv, "/api/v1/export/ip-assets.csv", Some(&viewer));
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").unwrap().starts_with("text/csv"));
    assert!(r.text().contains("10.2.0.1"));
    let r = get(
        &srv,
        "/api/v1/export/bundle.json?project=core",
        Some(&viewer),
    );
    assert_eq!(r.status, 200);
    let v = r.json();
    assert_eq!(v["data"]["ip_assets"].as_array().unwrap().len(), 1);
    let r = get(&srv, "/api/v1/export/bundle.zip", Some(&viewer));
    assert_eq!(r.status, 200);
    assert!(r.body.starts_with(b"PK"));
    let r = get(&srv, "/api/v1/export/nope.txt", Some(&viewer));
    assert_eq!(r.status, 404);
    assert_eq!(get(&srv, "/api/v1/export/bundle.json", None).status, 401);
}

#[test]
fn ingest_push() {
    let srv = start();
    let (_, editor, viewer) = users(&srv);
    let body = b"# TYPE up gauge\nup 1\nnode_load1 0.5\nbad line here\n";
    let push = |query: &str, body: &[u8]| {
        request(
            &srv,
            "POST",
            &format!("/metrics/prometheus{query}"),
            None,
            Some("text/plain; version=0.0.4"),
            body,
        )
    };
    let r = push("?server_id=web-01", body);
    assert_eq!(r.status, 403);
    assert_eq!(r.error_code(), "unknown_server");
    let r = push("", body);
    assert_eq!(r.status, 400);
    assert_eq!(r.error_code(), "missing_server_id");

    let reg = json!({"server_id": "web-01", "name": "web"});
    assert_eq!(
        send_json(&srv, "POST", "/api/v1/servers", Some(&viewer), reg.clone()).status,
        403
    );
    assert_eq!(
        send_json(&srv, "POST", "/api/v1/servers", Some(&editor), reg).status,
        201
    );
    let r = push("?server_id=web-01", body);
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["metrics_received"], 2);
    assert_eq!(v["rejected_lines"], 1);
    let r = push("?server_id=web-01", b"  \n");
    assert_eq!(r.status, 400);
    assert_eq!(r.error_code(), "empty_body");
    let v = get(&srv, "/api/v1/servers", Some(&viewer)).json();
    assert_eq!(v[0]["server_id"], "web-01");

    // Node summary from the last two pushes.
    let scrape = |idle: f64, time: f64| {
        format!(
            "node_cpu_seconds_total{{cpu=\"0\",mode=\"idle\"}} {idle}\nnode_time_seconds {time}\nnode_memory_MemTotal_bytes 1073741824\nnode_memory_MemAvailable_bytes 536870912\n"
        )
    };
    assert_eq!(
        push("?server_id=web-01", scrape(100.0, 1000.0).as_bytes()).status,
        200
    );
    let v = get(&srv, "/api/v1/servers/web-01/summary", Some(&viewer)).json();
    assert!(v["summary"]["cpu_usage_percent"].is_null(), "{v}");
    assert_eq!(
        push("?server_id=web-01", scrape(107.5, 1010.0).as_bytes()).status,
        200
    );
    let v = get(&srv, "/api/v1/servers/web-01/summary", Some(&viewer)).json();
    assert_eq!(v["summary"]["cpu_usage_percent"], 25.0, "{v}");
    assert_eq!(v["summary"]["memory_total_mb"], 1024.0, "{v}");
    let r = get(&srv, "/api/v1/servers/web-02/summary", Some(&viewer));
    assert_eq!(r.status, 404);

    // Stored samples: the latest value of each series of one metric, label filters.
    let two_cpus = "node_cpu_seconds_total{cpu=\"0\",mode=\"idle\"} 5\nnode_cpu_seconds_total{cpu=\"1\",mode=\"idle\"} 7\n";
    assert_eq!(push("?server_id=web-01", two_cpus.as_bytes()).status, 200);
    let path = "/api/v1/servers/web-01/samples?metric=node_cpu_seconds_total";
    assert_eq!(get(&srv, path, None).status, 401);
    let v = get(&srv, path, Some(&viewer)).json();
    assert_eq!(v["total"], 2, "{v}");
    assert_eq!(v["items"][0]["labels"], json!({"cpu": "0", "mode": "idle"}));
    assert_eq!(v["items"][0]["value"], 5.0);
    assert_eq!(v["items"][1]["value"], 7.0);
    let v = get(&srv, &format!("{path}&label=cpu%3D1"), Some(&viewer)).json();
    assert_eq!(
        (v["total"].as_u64(), v["items"][0]["value"].as_f64()),
        (Some(1), Some(7.0))
    );
    let r = get(&srv, &format!("{path}&label=cpu"), Some(&viewer));
    assert_eq!((r.status, r.error_code().as_str()), (400, "bad_request"));
    let r = get(&srv, "/api/v1/servers/web-01/samples", Some(&viewer));
    assert_eq!(r.status, 400);
    let r = get(
        &srv,
        "/api/v1/servers/web-09/samples?metric=up",
        Some(&viewer),
    );
    assert_eq!(r.status, 404);
}

#[test]
fn ingest_retention_sweeps_old_samples_in_the_background() {
    // 0.001 h = 3.6 s: the sweep runs every second.
    let srv = start_with(&["--ingest-retention-hours", "0.001"], Some(ADMIN_PASSWORD));
    let (_, editor, viewer) = users(&srv);
    let reg = json!({"server_id": "web-01", "name": "web"});
    let r = send_json(&srv, "POST", "/api/v1/servers", Some(&editor), reg);
    assert_eq!(r.status, 201, "{}", r.text());
    let body = b"old_metric{a=\"1\"} 1 1000\nold_metric{a=\"2\"} 2 2000\nfresh_metric 3\n";
    let r = request(
        &srv,
        "POST",
        "/metrics/prometheus?server_id=web-01",
        None,
        Some("text/plain; version=0.0.4"),
        body,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let total = |metric: &str| {
        let path = format!("/api/v1/servers/web-01/samples?metric={metric}");
        get(&srv, &path, Some(&viewer)).json()["total"].clone()
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while total("old_metric") != json!(0) {
        assert!(
            Instant::now() < deadline,
            "samples from 1970 still stored: {}",
            total("old_metric")
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(total("fresh_metric"), json!(1), "a fresh sample is kept");

    let refused = Command::new(env!("CARGO_BIN_EXE_ipocket"))
        .args(["serve", "--ingest-retention-hours=-1"])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("not a number of hours"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
}

#[test]
fn body_limits() {
    let srv = start_with(&["--max-body-bytes", "1024"], Some(ADMIN_PASSWORD));
    // Announced too large: refused before reading.
    let head = format!(
        "POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        1 << 20
    );
    let r = raw_request(&srv.addr, &head, b"");
    assert_eq!(r.status, 413);
    assert_eq!(r.error_code(), "body_too_large");
    // Streamed (chunked) past the limit.
    let chunk = vec![b'a'; 2048];
    let mut body = format!("{:x}\r\n", chunk.len()).into_bytes();
    body.extend_from_slice(&chunk);
    body.extend_from_slice(b"\r\n0\r\n\r\n");
    let head =
        "POST /api/v1/import?dry_run=1 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
    let r = raw_request(&srv.addr, head, &body);
    assert_eq!(r.status, 413);
    // Under the limit is fine.
    let r = send_json(
        &srv,
        "POST",
        "/api/v1/auth/login",
        None,
        json!({"username": "admin", "password": ADMIN_PASSWORD}),
    );
    assert_eq!(r.status, 200);
}

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
fn header_and_body_timeouts() {
    let srv = start_with(
        &["--header-timeout", "1", "--body-timeout", "1"],
        Some(ADMIN_PASSWORD),
    );
    // Headers that never finish: the connection is closed.
    let started = Instant::now();
    let mut s = TcpStream::connect(&srv.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n").unwrap();
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    assert!(started.elapsed() < Duration::from_secs(8));
    assert!(!String::from_utf8_lossy(&raw).contains(" 200 "));
    // A body that never arrives: 408 with the error shape.
    let head = "POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 50\r\n\r\n{";
    let r = raw_request(&srv.addr, head, b"");
    assert_eq!(r.status, 408);
    assert_eq!(r.error_code(), "body_timeout");
}

#[test]
fn catalog_ranges_and_audit_log() {
    let srv = start();
    let (admin, editor, viewer) = users(&srv);
    let post =
        |token: &str, path: &str, body: Value| send_json(&srv, "POST", path, Some(token), body);
    assert_eq!(
        post(&viewer, "/api/v1/projects", json!({"name": "core"})).status,
        403
    );
    assert_eq!(
        post(&admin, "/api/v1/projects", json!({"name": "core"})).status,
        403
    );
    let r = post(
        &editor,
        "/api/v1/projects",
        json!({"name": "core", "color": "#AABBCC"}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let project_id = r.json()["id"].as_i64().unwrap();
    let r = post(&editor, "/api/v1/projects", json!({"name": "core"}));
    assert_eq!(r.status, 409);
    let r = post(&editor, "/api/v1/vendors", json!({"name": "Dell"}));
    assert_eq!(r.status, 201);
    let vendor_id = r.json()["id"].as_i64().unwrap();
    assert_eq!(
        post(&editor, "/api/v1/tags", json!({"name": "prod"})).status,
        201
    );
    let r = post(
        &editor,
        "/api/v1/hosts",
        json!({"name": "node-01", "vendor_id": vendor_id}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let host_id = r.json()["id"].as_i64().unwrap();
    let r = post(
        &editor,
        "/api/v1/ranges",
        json!({"name": "lab", "cidr": "192.168.10.17/30"}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["cidr"], "192.168.10.16/30");
    let range_id = r.json()["id"].as_i64().unwrap();
    assert_eq!(
        post(&editor, "/api/v1/ranges", json!({"name": "x"})).status,
        400
    );

    let r = post(
        &editor,
        "/api/v1/ip-assets",
        json!({"ip_address": "192.168.10.17", "type": "OS", "project_id": project_id, "host_id": host_id}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    for (path, n) in [
        ("/api/v1/projects", 1),
        ("/api/v1/vendors", 1),
        ("/api/v1/tags", 1),
        ("/api/v1/hosts", 1),
        ("/api/v1/ranges", 1),
    ] {
        let r = get(&srv, path, Some(&viewer));
        assert_eq!(r.status, 200, "{path}");
        assert_eq!(r.json().as_array().unwrap().len(), n, "{path}");
    }
    let r = get(&srv, &format!("/api/v1/hosts/{host_id}"), Some(&viewer));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(get(&srv, "/api/v1/hosts/999", Some(&viewer)).status, 404);
    let r = get(
        &srv,
        &format!("/api/v1/ranges/{range_id}/utilization"),
        Some(&viewer),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let r = get(
        &srv,
        &format!("/api/v1/ranges/{range_id}/next-free"),
        Some(&viewer),
    );
    assert_eq!(r.json()["ip_address"], "192.168.10.18");
    let v = get(&srv, "/api/v1/ip-assets?project=core", Some(&viewer)).json();
    assert_eq!(v["total"], 1);
    let v = get(&srv, "/sd/node?group_by=project", Some(&viewer)).json();
    assert_eq!(v[0]["labels"]["project"], "core");

    // Addresses and allocation: .17 is used, .18 is next.
    let r = get(
        &srv,
        &format!("/api/v1/ranges/{range_id}/addresses"),
        Some(&viewer),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json().as_array().unwrap().len(), 2);
    let path = format!("/api/v1/ranges/{range_id}/allocate");
    assert_eq!(post(&viewer, &path, json!({"type": "VM"})).status, 403);
    let r = post(&editor, &path, json!({"type": "VM", "tags": ["prod"]}));
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["ip_address"], "192.168.10.18");
    let r = post(&editor, &path, json!({"type": "VM"}));
    assert_eq!(r.status, 409, "{}", r.text());
    assert_eq!(r.error_code(), "range_full");

    // Update and delete.
    let patch =
        |token: &str, path: &str, body: Value| send_json(&srv, "PATCH", path, Some(token), body);
    let r = patch(
        &editor,
        &format!("/api/v1/projects/{project_id}"),
        json!({"name": "core2", "description": null}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["name"], "core2");
    assert_eq!(
        patch(
            &viewer,
            &format!("/api/v1/projects/{project_id}"),
            json!({"name": "x"})
        )
        .status,
        403
    );
    assert_eq!(
        patch(
            &editor,
            &format!("/api/v1/projects/{project_id}"),
            json!({"nam": "x"})
        )
        .status,
        400
    );
    let r = patch(
        &editor,
        &format!("/api/v1/hosts/{host_id}"),
        json!({"vendor_id": null, "notes": "rack 4"}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let r = patch(
        &editor,
        &format!("/api/v1/ranges/{range_id}"),
        json!({"name": "lab-2"}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let r = patch(
        &editor,
        &format!("/api/v1/vendors/{vendor_id}"),
        json!({"name": "HPE"}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let r = request(
        &srv,
        "DELETE",
        &format!("/api/v1/vendors/{vendor_id}"),
        Some(&editor),
        None,
        b"",
    );
    assert_eq!(r.status, 204, "{}", r.text());
    let r = request(
        &srv,
        "DELETE",
        &format!("/api/v1/ranges/{range_id}"),
        Some(&editor),
        None,
        b"",
    );
    assert_eq!(r.status, 204, "{}", r.text());
    assert_eq!(get(&srv, "/api/v1/ranges", Some(&viewer)).json(), json!([]));
    assert_eq!(
        request(&srv, "DELETE", "/api/v1/tags/999", Some(&editor), None, b"").status,
        404
    );

    let r = get(
        &srv,
        "/api/v1/audit-log?target_type=IP_ASSET",
        Some(&viewer),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["total"], 2);
    assert_eq!(get(&srv, "/api/v1/audit-log", None).status, 401);
}

/// Starts a server on an existing database file (no bootstrap password needed).
fn start_on(db: &std::path::Path) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ipocket"))
        .args(["serve", "--listen", "127.0.0.1:0", "--quiet", "--db"])
        .arg(db)
        .env_remove("IPOCKET_ADMIN_PASSWORD")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let (addr, _) = read_listen_addr(&mut stdout);
    (child, addr)
}

fn post_import(addr: &str, token: &str, bundle: &[u8]) -> Resp {
    let head = format!(
        "POST /api/v1/import?apply=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        bundle.len()
    );
    raw_request(addr, &head, bundle)
}

#[test]
fn kill_9_during_apply_is_all_or_nothing() {
    let mut srv = start();
    let (_, editor, _) = users(&srv);
    let n = 20_000;
    // First apply: creates every asset; its duration tells when the second is mid-way.
    let started = Instant::now();
    let r = post_import(
        &srv.addr,
        &editor,
        &ipocket_core::import::synthetic_bundle_json(n, "first"),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let took = started.elapsed();

    // Second apply changes every note; kill -9 the server half-way through it.
    let second = ipocket_core::import::synthetic_bundle_json(n, "second");
    let (addr, token) = (srv.addr.clone(), editor.clone());
    let sender = std::thread::spawn(move || {
        let head = format!(
            "POST /api/v1/import?apply=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            second.len()
        );
        let mut s = TcpStream::connect(&addr).unwrap();
        let _ = s.write_all(head.as_bytes());
        let _ = s.write_all(&second);
        let mut raw = Vec::new();
        let _ = s.read_to_end(&mut raw);
    });
    std::thread::sleep(took / 2);
    srv.child.kill().unwrap(); // SIGKILL
    srv.child.wait().unwrap();
    sender.join().unwrap();

    let (mut child, addr) = start_on(&srv.db);
    let count = |q: &str| {
        let head = format!(
            "GET /api/v1/ip-assets?per_page=1&{q} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer {editor}\r\n\r\n"
        );
        let r = raw_request(&addr, &head, b"");
        assert_eq!(r.status, 200, "{}", r.text());
        r.json()["total"].as_u64().unwrap()
    };
    assert_eq!(count(""), n as u64);
    let changed = count("q=second");
    eprintln!(
        "first apply {took:?}; after kill -9 mid-way through the second: {changed} of {n} changed"
    );
    assert!(
        changed == 0 || changed == n as u64,
        "half an import: {changed}"
    );
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn sigterm_during_apply_finishes_the_write() {
    let mut srv = start();
    let (_, editor, _) = users(&srv);
    let n = 20_000;
    let started = Instant::now();
    let r = post_import(
        &srv.addr,
        &editor,
        &ipocket_core::import::synthetic_bundle_json(n, "first"),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let took = started.elapsed();

    let second = ipocket_core::import::synthetic_bundle_json(n, "second");
    let (addr, token) = (srv.addr.clone(), editor.clone());
    let sender = std::thread::spawn(move || post_import(&addr, &token, &second));
    std::thread::sleep(took / 2);
    let pid = srv.child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    // The accepted apply is answered, then the server exits cleanly.
    let r = sender.join().unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(srv.child.wait().unwrap().success());

    let (mut child, addr) = start_on(&srv.db);
    let head = format!(
        "GET /api/v1/ip-assets?per_page=1&q=second HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer {editor}\r\n\r\n"
    );
    let r = raw_request(&addr, &head, b"");
    assert_eq!(r.json()["total"], n);
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
    login(&srv, "vi", "new-secret-2");
}

/// The JSON Schema keywords the document uses; [`conforms`] implements each of them and the
/// test fails if the document starts using another one.
const SCHEMA_KEYWORDS: &[&str] = &[
    "type",
    "const",
    "enum",
    "required",
    "properties",
    "additionalProperties",
    "items",
    "oneOf",
    "$ref",
    "description",
];

/// Checks `v` against `schema` (the subset of JSON Schema 2020-12 in [`SCHEMA_KEYWORDS`]);
/// the error names the JSON path.
fn conforms(doc: &Value, schema: &Value, v: &Value, at: &str) -> Result<(), String> {
    let Some(schema) = schema.as_object() else {
        return Ok(());
    };
    for k in schema.keys() {
        assert!(
            SCHEMA_KEYWORDS.contains(&k.as_str()),
            "schema keyword {k} at {at} is not checked by this test"
        );
    }
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = r.trim_start_matches("#/components/schemas/");
        let target = &doc["components"]["schemas"][name];
        assert!(target.is_object(), "dangling $ref {r}");
        return conforms(doc, target, v, at);
    }
    if let Some(types) = schema.get("type") {
        let names: Vec<&str> = match types {
            Value::String(t) => vec![t.as_str()],
            Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        let ok = names.iter().any(|t| match *t {
            "object" => v.is_object(),
            "array" => v.is_array(),
            "string" => v.is_string(),
            "integer" => v.is_i64() || v.is_u64(),
            "number" => v.is_number(),
            "boolean" => v.is_boolean(),
            "null" => v.is_null(),
            _ => false,
        });
        if !ok {
            return Err(format!("{at}: expected {types}, found {v}"));
        }
    }
    if let Some(c) = schema.get("const") {
        if c != v {
            return Err(format!("{at}: expected {c}, found {v}"));
        }
    }
    if let Some(e) = schema.get("enum").and_then(Value::as_array) {
        if !e.contains(v) {
            return Err(format!("{at}: {v} is not one of {e:?}"));
        }
    }
    if let Some(options) = schema.get("oneOf").and_then(Value::as_array) {
        let n = options
            .iter()
            .filter(|o| conforms(doc, o, v, at).is_ok())
            .count();
        if n != 1 {
            return Err(format!("{at}: {v} matches {n} of the oneOf schemas"));
        }
    }
    if let Some(o) = v.as_object() {
        for r in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let r = r.as_str().unwrap();
            if !o.contains_key(r) {
                return Err(format!("{at}: required {r:?} is missing"));
            }
        }
        let props = schema.get("properties").and_then(Value::as_object);
        for (k, x) in o {
            match props.and_then(|p| p.get(k)) {
                Some(ps) => conforms(doc, ps, x, &format!("{at}.{k}"))?,
                None => match schema.get("additionalProperties") {
                    Some(Value::Bool(false)) => return Err(format!("{at}: {k:?} is not allowed")),
                    Some(extra) => conforms(doc, extra, x, &format!("{at}.{k}"))?,
                    None => {}
                },
            }
        }
    }
    if let (Some(items), Some(a)) = (schema.get("items"), v.as_array()) {
        for (i, x) in a.iter().enumerate() {
            conforms(doc, items, x, &format!("{at}[{i}]"))?;
        }
    }
    Ok(())
}

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

fn concrete(path: &str) -> String {
    path.replace("{id}", "999")
        .replace("{ip}", "10.99.0.1")
        .replace("{file}", "bundle.json")
        .replace("{server_id}", "web-01")
        .replace("{group_id}", "999")
        .replace("{target_id}", "999")
}

/// The OpenAPI document and the router agree both ways: every documented operation is routed
/// (no 405, no "no such endpoint"), every undocumented method on a documented path is 405, and
/// every route pattern the router names is a documented path.
#[test]
fn openapi_document_matches_the_router() {
    let srv = start();
    let r = get(&srv, "/api/v1/openapi.json", None);
    assert_eq!(r.status, 200);
    let doc = r.json();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    let mut operations = 0;
    for (path, ops) in paths {
        let ops = ops.as_object().unwrap();
        for method in METHODS {
            let r = request(
                &srv,
                &method.to_uppercase(),
                &concrete(path),
                None,
                None,
                b"",
            );
            let v = r.json();
            if let Some(op) = ops.get(method) {
                operations += 1;
                assert!(
                    r.status != 405 && v["error"]["message"] != "no such endpoint",
                    "{method} {path} is documented but not routed: {v}"
                );
                let responses = op["responses"].as_object().unwrap();
                assert!(
                    responses.keys().any(|k| k.starts_with('2')),
                    "{method} {path}: no success response"
                );
                for (code, resp) in responses {
                    let body_schema = resp["content"]
                        .as_object()
                        .and_then(|c| c.values().next())
                        .map(|m| &m["schema"]);
                    assert!(
                        code == "204" || body_schema.is_some(),
                        "{method} {path} {code}: no response schema"
                    );
                }
                if ["post", "put", "patch"].contains(&method)
                    && !path.ends_with("/archive")
                    && !path.ends_with("/restore")
                    && !path.ends_with("/logout")
                    && !path.ends_with("/allocate")
                    && !path.contains("/prometheus/")
                {
                    assert!(
                        op["requestBody"]["content"].is_object(),
                        "{method} {path}: no request body schema"
                    );
                }
            } else {
                assert_eq!(
                    (r.status, v["error"]["code"].as_str()),
                    (405, Some("method_not_allowed")),
                    "{method} {path} is not documented, so it must be 405"
                );
            }
        }
    }
    assert!(operations >= 80, "{operations}");

    for file in ["routing.rs", "handlers/alerting.rs"] {
        let src = std::fs::read_to_string(format!(
            "{}/../server/src/{file}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        for literal in src.split('"').skip(1).step_by(2) {
            if literal.starts_with('/') && !literal.contains(' ') {
                assert!(
                    paths.contains_key(literal),
                    "route {literal} ({file}) is missing from openapi.json"
                );
            }
        }
    }
}

/// Real answers of the server conform to the schemas the document gives for them.
#[test]
fn openapi_schemas_match_real_responses() {
    let rules_dir = tempfile::tempdir().unwrap();
    let srv = start_with(
        &["--rules-dir", rules_dir.path().to_str().unwrap()],
        Some(ADMIN_PASSWORD),
    );
    let (admin, editor, _viewer) = users(&srv);
    let doc = get(&srv, "/api/v1/openapi.json", None).json();
    let check = |method: &str, pattern: &str, path: &str, token: &str, body: Option<Value>| {
        let r = match &body {
            Some(b) => send_json(&srv, method, path, Some(token), b.clone()),
            None => request(&srv, method, path, Some(token), None, b""),
        };
        let op = &doc["paths"][pattern][method.to_lowercase()];
        assert!(op.is_object(), "{method} {pattern} is not documented");
        if let Some(b) = &body {
            let schema = &op["requestBody"]["content"]["application/json"]["schema"];
            conforms(&doc, schema, b, "request").unwrap_or_else(|e| {
                panic!("{method} {path}: the request body does not match the document: {e}")
            });
        }
        let code = r.status.to_string();
        // Errors fall under `default` (the Error schema); a success must be listed.
        let resp = op["responses"]
            .get(&code)
            .or_else(|| (r.status >= 400).then(|| &op["responses"]["default"]))
            .unwrap_or_else(|| {
                panic!("{method} {path} answered undocumented {code}: {}", r.text())
            });
        if code != "204" {
            let schema = &resp["content"]["application/json"]["schema"];
            conforms(&doc, schema, &r.json(), "response")
                .unwrap_or_else(|e| panic!("{method} {path} ({code}): {e}\n{}", r.text()));
        }
        r
    };
    let ed = editor.as_str();
    check("GET", "/health", "/health", ed, None);
    check("GET", "/api/v1/auth/me", "/api/v1/auth/me", ed, None);
    check("GET", "/api/v1/users", "/api/v1/users", &admin, None);
    let project = check(
        "POST",
        "/api/v1/projects",
        "/api/v1/projects",
        ed,
        Some(json!({"name": "core", "description": "core network", "color": "#112233"})),
    )
    .json();
    check("GET", "/api/v1/projects", "/api/v1/projects", ed, None);
    check(
        "POST",
        "/api/v1/tags",
        "/api/v1/tags",
        ed,
        Some(json!({"name": "prod"})),
    );
    check(
        "POST",
        "/api/v1/vendors",
        "/api/v1/vendors",
        ed,
        Some(json!({"name": "Dell"})),
    );
    let host = check(
        "POST",
        "/api/v1/hosts",
        "/api/v1/hosts",
        ed,
        Some(json!({"name": "node-1", "notes": null})),
    )
    .json();
    let range = check(
        "POST",
        "/api/v1/ranges",
        "/api/v1/ranges",
        ed,
        Some(json!({"name": "lab", "cidr": "10.5.0.0/29"})),
    )
    .json();
    check(
        "POST",
        "/api/v1/ip-assets",
        "/api/v1/ip-assets",
        ed,
        Some(
            json!({"ip_address": "10.5.0.2", "type": "OS", "project_id": project["id"],
                    "host_id": host["id"], "tags": ["prod"], "notes": "first"}),
        ),
    );
    check(
        "GET",
        "/api/v1/ip-assets",
        "/api/v1/ip-assets?tag=prod",
        ed,
        None,
    );
    check(
        "GET",
        "/api/v1/ip-assets/{ip}",
        "/api/v1/ip-assets/10.5.0.2",
        ed,
        None,
    );
    check(
        "PATCH",
        "/api/v1/ip-assets/{ip}",
        "/api/v1/ip-assets/10.5.0.2",
        ed,
        Some(json!({"notes": null, "tags": "prod"})),
    );
    check(
        "GET",
        "/api/v1/ip-assets/{ip}",
        "/api/v1/ip-assets/10.9.9.9",
        ed,
        None,
    );
    let (hid, rid) = (host["id"].as_i64().unwrap(), range["id"].as_i64().unwrap());
    check(
        "GET",
        "/api/v1/hosts/{id}",
        &format!("/api/v1/hosts/{hid}"),
        ed,
        None,
    );
    for (pattern, tail) in [
        ("/api/v1/ranges/{id}/utilization", "utilization"),
        ("/api/v1/ranges/{id}/next-free", "next-free"),
        ("/api/v1/ranges/{id}/addresses", "addresses"),
    ] {
        check(
            "GET",
            pattern,
            &format!("/api/v1/ranges/{rid}/{tail}"),
            ed,
            None,
        );
    }
    check(
        "POST",
        "/api/v1/ranges/{id}/allocate",
        &format!("/api/v1/ranges/{rid}/allocate"),
        ed,
        None,
    );
    check("GET", "/api/v1/audit-log", "/api/v1/audit-log", ed, None);
    check("GET", "/sd/node", "/sd/node", ed, None);
    check("GET", "/api/v1/sd", "/api/v1/sd", ed, None);
    check(
        "POST",
        "/api/v1/servers",
        "/api/v1/servers",
        ed,
        Some(json!({"server_id": "web-01", "name": null})),
    );
    check("GET", "/api/v1/servers", "/api/v1/servers", ed, None);

    let group = check(
        "POST",
        "/api/v1/alert-groups",
        "/api/v1/alert-groups",
        ed,
        Some(json!({"name": "edge", "options": {"interval": "1m"}})),
    )
    .json();
    let template = check(
        "POST",
        "/api/v1/alert-templates",
        "/api/v1/alert-templates",
        ed,
        Some(json!({"name": "Down", "query_template": "up == 0", "severity": "info"})),
    )
    .json();
    check(
        "POST",
        "/api/v1/alert-rules",
        "/api/v1/alert-rules",
        ed,
        Some(json!({"group_id": group["id"], "template_id": template["id"], "severity": null})),
    );
    check(
        "POST",
        "/api/v1/alert-targets",
        "/api/v1/alert-targets",
        ed,
        Some(json!({"hostname": "r1", "address": "10.5.0.2", "group_ids": [group["id"]]})),
    );
    for kind in [
        "alert-groups",
        "alert-templates",
        "alert-rules",
        "alert-targets",
    ] {
        let path = format!("/api/v1/{kind}");
        check("GET", &path, &path, ed, None);
        check(
            "GET",
            &format!("{path}/{{id}}"),
            &format!("{path}/1"),
            ed,
            None,
        );
    }
    check(
        "POST",
        "/api/v1/prometheus/rules/regenerate/{group_id}",
        "/api/v1/prometheus/rules/regenerate/edge",
        ed,
        None,
    );
    check(
        "POST",
        "/api/v1/prometheus/rules/regenerate",
        "/api/v1/prometheus/rules/regenerate?dry_run=1",
        ed,
        None,
    );
    check(
        "GET",
        "/api/v1/prometheus/rules/files",
        "/api/v1/prometheus/rules/files",
        ed,
        None,
    );
    check(
        "GET",
        "/api/v1/prometheus/rules/effective/{target_id}",
        "/api/v1/prometheus/rules/effective/r1",
        ed,
        None,
    );
    check(
        "POST",
        "/api/v1/import",
        "/api/v1/import?dry_run=1",
        ed,
        Some(
            json!({"app": "ipocket", "schema_version": "1", "data": {"ip_assets": [{"ip_address": "10.5.0.3", "type": "VM"}]}}),
        ),
    );
}

/// The real Prometheus harness of the rulegen crate.
#[path = "../../../rulegen/tests/common/mod.rs"]
mod peer;

/// Alert templates, rules, groups and targets over HTTP (every role), then regenerate,
/// reload and status against Debian's real Prometheus, and the Prometheus connector run
/// against the same Prometheus.
#[test]
fn rules_and_connector_against_a_real_prometheus() {
    peer::require_peer();
    let prom = peer::Prometheus::start();
    let rules_dir = prom.rules_dir.to_str().unwrap().to_string();
    let srv = start_with(
        &["--rules-dir", &rules_dir, "--prometheus-url", &prom.url],
        Some(ADMIN_PASSWORD),
    );
    let (_admin, editor, viewer) = users(&srv);
    let (ed, vi) = (Some(editor.as_str()), Some(viewer.as_str()));

    // Viewer reads, Editor writes; no token is 401.
    assert_eq!(get(&srv, "/api/v1/alert-groups", None).status, 401);
    let r = send_json(
        &srv,
        "POST",
        "/api/v1/alert-groups",
        vi,
        json!({"name": "edge"}),
    );
    assert_eq!((r.status, r.error_code().as_str()), (403, "forbidden"));
    let r = send_json(
        &srv,
        "POST",
        "/api/v1/alert-groups",
        ed,
        json!({"name": "edge", "description": "edge routers", "options": {"interval": "30s"}}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let group_id = r.json()["id"].as_i64().unwrap();
    let r = send_json(
        &srv,
        "POST",
        "/api/v1/alert-groups",
        ed,
        json!({"name": "edge"}),
    );
    assert_eq!((r.status, r.error_code().as_str()), (409, "conflict"));
    let r = send_json(
        &srv,
        "POST",
        "/api/v1/alert-groups",
        ed,
        json!({"name": "x", "colour": "red"}),
    );
    assert_eq!(r.status, 400);
    assert!(r.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("\"colour\""));

    let r = send_json(
        &srv,
        "POST",
        "/api/v1/alert-templates",
        ed,
        json!({
            "name": "TargetDown",
            "query_template": "up{group_id=\"{{.group_id}}\"} < {{.threshold}}",
            "default_vars": {"threshold": "1"},
            "for_duration": "1m",
            "severity": "critical",
            "annotations": {"summary": "{{ $labels.instance }} is down"}
        }),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let template_id = r.json()["id"].as_i64().unwrap();
    let r = send_json(
        &srv,
        "POST",
        "/api/v1/alert-rules",
        ed,
        json!({"group_id": group_id, "template_id": template_id, "vars": {"threshold": "2"}}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let rule_id = r.json()["id"].as_i64().unwrap();
    let r = send_json(
        &srv,
        "POST",
        "/api/v1/alert-targets",
        ed,
        json!({"hostname": "router-1", "address": "10.0.0.1:9100", "group_ids": [group_id]}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let target_id = r.json()["id"].as_i64().unwrap();
    let r = send_json(
        &srv,
        "POST",
        "/api/v1/alert-targets",
        ed,
        json!({"hostname": "router-2", "group_ids": [9999]}),
    );
    assert_eq!(r.status, 404, "{}", r.text());
    // An update with an unknown group changes nothing; one without groups keeps them.
    let target_path = format!("/api/v1/alert-targets/{target_id}");
    let r = send_json(
        &srv,
        "PUT",
        &target_path,
        ed,
        json!({"hostname": "router-9", "address": "10.0.0.9:9100", "group_ids": [group_id, 9999]}),
    );
    assert_eq!(r.status, 404, "{}", r.text());
    let r = get(&srv, &target_path, vi);
    assert_eq!(r.json()["hostname"], "router-1", "{}", r.text());
    assert_eq!(r.json()["group_ids"], json!([group_id]));
    let r = send_json(
        &srv,
        "PUT",
        &target_path,
        ed,
        json!({"hostname": "router-1", "address": "10.0.0.1:9101"}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["address"], "10.0.0.1:9101");
    assert_eq!(r.json()["group_ids"], json!([group_id]));

    // Reads by every role.
    for kind in [
        "alert-templates",
        "alert-rules",
        "alert-groups",
        "alert-targets",
    ] {
        let r = get(&srv, &format!("/api/v1/{kind}"), vi);
        assert_eq!(r.status, 200, "{kind}: {}", r.text());
        assert_eq!(r.json().as_array().unwrap().len(), 1, "{kind}");
    }
    let r = get(
        &srv,
        &format!("/api/v1/alert-rules?group_id={group_id}"),
        vi,
    );
    assert_eq!(r.json()[0]["vars"]["threshold"], "2");
    let r = get(&srv, &format!("/api/v1/alert-templates/{template_id}"), vi);
    assert_eq!(r.json()["severity"], "critical");
    assert_eq!(get(&srv, "/api/v1/alert-rules/9999", vi).status, 404);

    // A rule that does not render is refused with its location; nothing is written.
    let r = send_json(
        &srv,
        "POST",
        "/api/v1/alert-templates",
        ed,
        json!({"name": "Broken", "query_template": "rate(up[5m]"}),
    );
    let broken = r.json()["id"].as_i64().unwrap();
    let r = send_json(
        &srv,
        "POST",
        "/api/v1/alert-rules",
        ed,
        json!({"group_id": group_id, "template_id": broken}),
    );
    let broken_rule = r.json()["id"].as_i64().unwrap();
    let r = request(
        &srv,
        "POST",
        "/api/v1/prometheus/rules/regenerate",
        ed,
        None,
        b"",
    );
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (422, "rules_invalid"),
        "{}",
        r.text()
    );
    assert!(r.json()["error"]["details"][0]["location"]
        .as_str()
        .unwrap()
        .contains("edge"));
    assert!(std::fs::read_dir(&prom.rules_dir).unwrap().next().is_none());
    let r = request(
        &srv,
        "DELETE",
        &format!("/api/v1/alert-templates/{broken}"),
        ed,
        None,
        b"",
    );
    assert_eq!(
        r.status,
        422,
        "a template in use is not deleted: {}",
        r.text()
    );
    let path = format!("/api/v1/alert-rules/{broken_rule}");
    assert_eq!(request(&srv, "DELETE", &path, vi, None, b"").status, 403);
    assert_eq!(request(&srv, "DELETE", &path, ed, None, b"").status, 204);
    let path = format!("/api/v1/alert-templates/{broken}");
    assert_eq!(request(&srv, "DELETE", &path, ed, None, b"").status, 204);

    // Dry run: the diff, nothing written. Viewer may not regenerate.
    let path = "/api/v1/prometheus/rules/regenerate?dry_run=1";
    assert_eq!(request(&srv, "POST", path, vi, None, b"").status, 403);
    let r = request(&srv, "POST", path, ed, None, b"");
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["dry_run"], true);
    assert_eq!(v["changes"][0]["action"], "create");
    let diff = v["changes"][0]["diff"].as_str().unwrap();
    assert!(
        diff.contains(&format!("+    expr: up{{group_id=\"{group_id}\"}} < 2")),
        "{diff}"
    );
    assert!(v["reload"].is_null());
    assert!(std::fs::read_dir(&prom.rules_dir).unwrap().next().is_none());

    // Regenerate one group: the file is written and Prometheus reloads and loads it.
    let r = request(
        &srv,
        "POST",
        &format!("/api/v1/prometheus/rules/regenerate/{group_id}"),
        ed,
        None,
        b"",
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["group_id"], group_id);
    assert_eq!(v["file_name"], format!("group-{group_id}.yml"));
    assert_eq!(v["rules_count"], 1);
    assert_eq!(v["files_generated"], 1);
    assert_eq!(v["reload"]["confirmed_groups"], json!(["ipocket/edge"]));
    assert!(prom.rules_json().to_string().contains("TargetDown"));
    // Same data again: unchanged, so no reload.
    let r = request(
        &srv,
        "POST",
        "/api/v1/prometheus/rules/regenerate",
        ed,
        None,
        b"",
    );
    let v = r.json();
    assert_eq!(v["changes"][0]["action"], "unchanged");
    assert_eq!(v["groups_affected"], 0);
    assert!(v["reload"].is_null());

    let r = get(&srv, "/api/v1/prometheus/rules/files", vi);
    assert_eq!(r.status, 200);
    let v = r.json();
    assert_eq!(v["total"], 1);
    assert_eq!(v["files"][0]["rule_count"], 1);
    assert_eq!(v["files"][0]["file_name"], format!("group-{group_id}.yml"));

    for key in [target_id.to_string(), "router-1".to_string()] {
        let r = get(
            &srv,
            &format!("/api/v1/prometheus/rules/effective/{key}"),
            vi,
        );
        assert_eq!(r.status, 200, "{}", r.text());
        let v = r.json();
        assert_eq!(v["hostname"], "router-1");
        assert_eq!(v["total"], 1);
        assert_eq!(v["rules"][0]["alert"], "TargetDown");
        assert_eq!(v["rules"][0]["source"]["rule_id"], rule_id);
    }
    assert_eq!(
        get(&srv, "/api/v1/prometheus/rules/effective/nope", vi).status,
        404
    );

    let r = get(&srv, "/api/v1/prometheus/status", vi);
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(
        (v["status"].as_str(), v["ready"].as_bool()),
        (Some("healthy"), Some(true))
    );
    assert_eq!(
        request(&srv, "POST", "/api/v1/prometheus/reload", vi, None, b"").status,
        403
    );
    let r = request(&srv, "POST", "/api/v1/prometheus/reload", ed, None, b"");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["status"], "success");
    assert_eq!(
        r.json()["report"]["confirmed_groups"],
        json!(["ipocket/edge"])
    );

    // Replace a rule (PUT) and disable it: the group's file goes away on regenerate.
    let r = send_json(
        &srv,
        "PUT",
        &format!("/api/v1/alert-rules/{rule_id}"),
        ed,
        json!({"group_id": group_id, "template_id": template_id, "enabled": false}),
    );
    assert_eq!(
        (r.status, r.json()["enabled"].as_bool()),
        (200, Some(false))
    );
    let r = request(
        &srv,
        "POST",
        "/api/v1/prometheus/rules/regenerate",
        ed,
        None,
        b"",
    );
    assert_eq!(r.json()["changes"][0]["action"], "remove", "{}", r.text());
    assert!(!prom
        .rules_dir
        .join(format!("group-{group_id}.yml"))
        .exists());

    // The Prometheus connector over HTTP: dry run (any user), apply (Editor).
    let query = r#"label_replace(vector(1), "instance", "10.1.2.3:9100", "", "") or label_replace(vector(2), "instance", "127.0.0.1:9100", "", "")"#;
    let body = json!({"prometheus_url": prom.url, "query": query, "ip_label": "instance",
                      "asset_type": "VM", "tags": ["node"], "token": "prom-secret-token"});
    let r = send_json(
        &srv,
        "POST",
        "/api/v1/connectors/prometheus",
        None,
        body.clone(),
    );
    assert_eq!(r.status, 401);
    let r = send_json(
        &srv,
        "POST",
        "/api/v1/connectors/prometheus?dry_run=1",
        vi,
        body.clone(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(!r.text().contains("prom-secret-token"));
    let v = r.json();
    assert_eq!(v["mode"], "dry_run");
    assert_eq!(v["collected"]["ips"], 1);
    assert!(v["warnings"]
        .to_string()
        .contains("loopback IP '127.0.0.1'"));
    assert_eq!(v["plan"]["summary"]["ip_assets"]["create"], 1, "{v}");
    assert!(v["applied"].is_null());
    assert_eq!(get(&srv, "/api/v1/ip-assets/10.1.2.3", vi).status, 404);
    let path = "/api/v1/connectors/prometheus?apply=1";
    assert_eq!(send_json(&srv, "POST", path, vi, body.clone()).status, 403);
    let r = send_json(&srv, "POST", path, ed, body.clone());
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["mode"], "apply");
    let r = get(&srv, "/api/v1/ip-assets/10.1.2.3", vi);
    assert_eq!((r.status, r.json()["type"].as_str()), (200, Some("VM")));
    let r = send_json(
        &srv,
        "POST",
        "/api/v1/connectors/prometheus",
        vi,
        body.clone(),
    );
    assert_eq!(r.json()["plan"]["summary"]["ip_assets"]["skip"], 1);
    let mut bad = body.clone();
    bad["query"] = json!("up{");
    let r = send_json(&srv, "POST", "/api/v1/connectors/prometheus", vi, bad);
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (502, "connector_failed")
    );
    assert!(r.text().contains("bad_data"), "{}", r.text());
    let mut bad = body;
    bad["ip_lable"] = json!("instance");
    let r = send_json(&srv, "POST", "/api/v1/connectors/prometheus", vi, bad);
    assert_eq!(r.status, 400);
    assert!(r.text().contains("ip_lable"));
}

#[test]
fn vcenter_connector_over_http() {
    let vcenter = format!("http://{}", vcenter_stub());
    let srv = start();
    let (_admin, editor, viewer) = users(&srv);
    let body = json!({"server": vcenter, "username": "u", "password": "vc-pass-not-echoed"});
    let r = send_json(
        &srv,
        "POST",
        "/api/v1/connectors/vcenter",
        Some(&viewer),
        body.clone(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(!r.text().contains("vc-pass-not-echoed"));
    let v = r.json();
    assert_eq!(v["collected"], json!({"hosts": 1, "vms": 1}));
    let items = v["plan"]["items"].to_string();
    assert!(
        items.contains("10.60.0.1") && items.contains("10.60.1.5"),
        "{v}"
    );
    assert_eq!(v["plan"]["summary"]["ip_assets"]["create"], 2, "{v}");
    let path = "/api/v1/connectors/vcenter?apply=1";
    assert_eq!(
        send_json(&srv, "POST", path, Some(&viewer), body.clone()).status,
        403
    );
    let r = send_json(&srv, "POST", path, Some(&editor), body.clone());
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        get(&srv, "/api/v1/ip-assets/10.60.1.5", Some(&viewer)).json()["type"],
        "VM"
    );
    let r = send_json(
        &srv,
        "POST",
        "/api/v1/connectors/vcenter",
        Some(&viewer),
        body.clone(),
    );
    assert_eq!(r.json()["plan"]["summary"]["ip_assets"]["skip"], 2);
    // An unreachable vCenter is a located 502, without the password.
    let mut bad = body;
    bad["server"] = json!("http://127.0.0.1:1");
    let r = send_json(
        &srv,
        "POST",
        "/api/v1/connectors/vcenter",
        Some(&viewer),
        bad,
    );
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (502, "connector_failed")
    );
    assert!(!r.text().contains("vc-pass-not-echoed"));
}
