//! The shared fixtures: `ipocket serve` on a free port with its own database, raw HTTP/1.1
//! requests, logins.
//!
//! The database is a SQLite file in the server's temporary folder, or, with
//! `IPOCKET_TEST_DB=postgres` (`./scripts/test` runs these suites both ways), a fresh
//! database on the testkit's real PostgreSQL.

use std::io::{BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::Duration;

use ipocket_testkit::postgres::FreshDatabase;
use ipocket_testkit::serve_addr::read_listen_addr;
use serde_json::{json, Value};

pub(crate) const ADMIN_PASSWORD: &str = "admin-pass-123";

/// `ipocket serve` on a free port with its own database; killed on drop.
pub(crate) struct Server {
    pub(crate) child: Child,
    pub(crate) addr: String,
    pub(crate) first_lines: Vec<String>,
    pub(crate) _stdout: BufReader<ChildStdout>,
    pub(crate) _dir: tempfile::TempDir,
    /// The `--db` value: the SQLite file, or the PostgreSQL URL.
    pub(crate) db: PathBuf,
    pub(crate) _postgres: Option<std::sync::Arc<FreshDatabase>>,
}

/// Whether these tests run their servers on PostgreSQL (`IPOCKET_TEST_DB=postgres`).
pub(crate) fn on_postgres() -> bool {
    match std::env::var("IPOCKET_TEST_DB").as_deref() {
        Ok("postgres") => true,
        Ok("sqlite") | Err(_) => false,
        Ok(other) => panic!("IPOCKET_TEST_DB={other}: use sqlite or postgres"),
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn start_with(extra: &[&str], admin_password: Option<&str>) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let (db, postgres) = if on_postgres() {
        let fresh = FreshDatabase::postgres();
        (PathBuf::from(&fresh.url), Some(std::sync::Arc::new(fresh)))
    } else {
        (dir.path().join("ipocket.db"), None)
    };
    spawn(dir, db, postgres, extra, admin_password)
}

/// Stops `srv` and starts `ipocket serve` again on the same database file (no flags).
pub(crate) fn restart(srv: Server) -> Server {
    let mut srv = srv;
    srv.child.kill().unwrap();
    srv.child.wait().unwrap();
    let dir = std::mem::replace(&mut srv._dir, tempfile::tempdir().unwrap());
    spawn(dir, srv.db.clone(), srv._postgres.clone(), &[], None)
}

fn spawn(
    dir: tempfile::TempDir,
    db: PathBuf,
    postgres: Option<std::sync::Arc<FreshDatabase>>,
    extra: &[&str],
    admin_password: Option<&str>,
) -> Server {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ipocket"));
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--quiet", "--db"])
        .arg(&db)
        .args(extra)
        .env_remove("IPOCKET_DB")
        .env_remove("IPOCKET_SD_TOKEN")
        .env_remove("IPOCKET_PUBLIC_READS")
        .env_remove("IPOCKET_AUTO_HOST_FOR_BMC")
        .env_remove("IPOCKET_INGEST_RETENTION_HOURS")
        .env_remove("IPOCKET_PROMETHEUS_TOKEN")
        .env_remove("IPOCKET_PROMETHEUS_CA_FILE")
        .env_remove("IPOCKET_PROMETHEUS_INSECURE")
        .env_remove("IPOCKET_REMOTE_WRITE_URL")
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
        _postgres: postgres,
    }
}

pub(crate) fn start() -> Server {
    start_with(&[], Some(ADMIN_PASSWORD))
}

pub(crate) struct Resp {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Resp {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    /// Asserts the stable error shape and returns the code.
    pub(crate) fn error_code(&self) -> String {
        let v = self.json();
        let e = &v["error"];
        assert!(e["message"].is_string(), "no error.message in {v}");
        assert!(e.get("details").is_some(), "no error.details in {v}");
        e["code"].as_str().expect("error.code").to_string()
    }
}

pub(crate) fn parse_response(raw: &[u8]) -> Resp {
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

pub(crate) fn raw_request(addr: &str, head: &str, body: &[u8]) -> Resp {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s.write_all(head.as_bytes()).unwrap();
    let _ = s.write_all(body);
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    parse_response(&raw)
}

pub(crate) fn request(
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

pub(crate) fn get(srv: &Server, path: &str, token: Option<&str>) -> Resp {
    request(srv, "GET", path, token, None, b"")
}

pub(crate) fn send_json(
    srv: &Server,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Value,
) -> Resp {
    request(
        srv,
        method,
        path,
        token,
        Some("application/json"),
        body.to_string().as_bytes(),
    )
}

pub(crate) fn login(srv: &Server, user: &str, password: &str) -> String {
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
pub(crate) fn users(srv: &Server) -> (String, String, String) {
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

/// A server whose liveness asks `prometheus_url` (a testkit `LiveStack`: a one-hour window,
/// one-second steps, a one-second cache) with `--liveness-timeout-secs timeout` (short where a
/// test stops Prometheus and waits for "unknown", longer where a busy machine may be slow) and
/// `extra` flags, the stack's inventory imported; with the admin, editor and viewer sessions.
pub(crate) fn start_live(
    prometheus_url: &str,
    timeout: &str,
    extra: &[&str],
) -> (Server, (String, String, String)) {
    let mut args = vec![
        "--liveness-prometheus-url",
        prometheus_url,
        "--liveness-window",
        "1h",
        "--liveness-step",
        "1s",
        "--liveness-ttl-secs",
        "1",
        "--liveness-timeout-secs",
        timeout,
    ];
    args.extend_from_slice(extra);
    let srv = start_with(&args, Some(ADMIN_PASSWORD));
    let sessions = users(&srv);
    let r = request(
        &srv,
        "POST",
        "/api/v1/import?apply=1",
        Some(&sessions.0),
        Some("application/json"),
        ipocket_testkit::liveness::INVENTORY_BUNDLE.as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    (srv, sessions)
}
