//! The one logging setup (docs/logging.md): every command's log lines on standard error carry
//! an RFC 3339 UTC timestamp and a level, as text or JSON (`--log-format`,
//! `IPOCKET_LOG_FORMAT`), filtered by `RUST_LOG`; `sd watch` gives up on refused tokens;
//! a long import reports progress.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_ipocket");
const CSV_HEADER: &str = "ip_address,type,project_name,host_name,notes,archived\n";

fn ipocket(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .env_remove("IPOCKET_DB")
        .env_remove("INVENTORY_URL")
        .env_remove("IPOCKET_TOKEN")
        .env_remove("IPOCKET_SD_TOKEN")
        .env_remove("RUST_LOG")
        .env_remove("IPOCKET_LOG_FORMAT")
        .env_remove("IPOCKET_PROGRESS_SECONDS");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("the ipocket binary runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `2026-01-02T03:04:05.123456Z`: RFC 3339, UTC, with a fraction.
fn is_rfc3339_utc(t: &str) -> bool {
    let b = t.as_bytes();
    let digits = |r: std::ops::Range<usize>| r.into_iter().all(|i| b[i].is_ascii_digit());
    b.len() >= 21
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19)
        && b[19] == b'.'
        && digits(20..b.len() - 1)
        && b[b.len() - 1] == b'Z'
}

/// An inventory with one asset, and the path of a targets file beside it.
fn inventory(dir: &Path) -> (PathBuf, PathBuf) {
    let db = dir.join("ipocket.db");
    let csv = dir.join("ip-assets.csv");
    std::fs::write(&csv, format!("{CSV_HEADER}10.0.0.1,VM,,,,\n")).unwrap();
    let o = ipocket(
        &[
            "import",
            "--apply",
            csv.to_str().unwrap(),
            "--db",
            db.to_str().unwrap(),
        ],
        &[],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    // a short import says nothing at the default period (5 s)
    assert!(!stderr(&o).contains("import: "), "{}", stderr(&o));
    (db, dir.join("targets.json"))
}

#[test]
fn text_lines_carry_an_rfc3339_timestamp_and_a_level() {
    let dir = tempfile::tempdir().unwrap();
    let (db, targets) = inventory(dir.path());
    let args = [
        "sd",
        "write",
        "--db",
        db.to_str().unwrap(),
        "--targets-file",
        targets.to_str().unwrap(),
    ];
    let o = ipocket(&args, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    let line = err
        .lines()
        .find(|l| l.contains("wrote 1 target(s) in 1 group(s)"))
        .unwrap_or_else(|| panic!("no 'wrote' line: {err}"));
    let mut words = line.split_whitespace();
    let ts = words.next().unwrap();
    assert!(is_rfc3339_utc(ts), "{ts:?} in {line:?}");
    assert_eq!(words.next(), Some("INFO"), "{line}");

    // RUST_LOG=warn silences info; the result (the file) is the same
    let o = ipocket(&args, &[("RUST_LOG", "warn")]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stderr(&o), "");

    // a bad RUST_LOG is said once and the default filter is used
    let o = ipocket(&args, &[("RUST_LOG", "ipocket=loud")]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("RUST_LOG \"ipocket=loud\""),
        "{}",
        stderr(&o)
    );
    assert!(
        stderr(&o).contains("unchanged, 1 target(s)"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn json_lines_are_one_object_each_from_the_flag_or_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let (db, targets) = inventory(dir.path());
    let base = [
        "sd",
        "write",
        "--db",
        db.to_str().unwrap(),
        "--targets-file",
        targets.to_str().unwrap(),
    ];
    let mut with_flag = base.to_vec();
    with_flag.extend(["--log-format", "json"]);
    for (args, env) in [
        (with_flag, vec![]),
        (base.to_vec(), vec![("IPOCKET_LOG_FORMAT", "json")]),
    ] {
        let o = ipocket(&args, &env);
        assert!(o.status.success(), "{}", stderr(&o));
        let err = stderr(&o);
        assert!(!err.is_empty());
        for line in err.lines() {
            let v: serde_json::Value =
                serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line:?}"));
            assert!(is_rfc3339_utc(v["timestamp"].as_str().unwrap()), "{line}");
            assert_eq!(v["level"], "INFO", "{line}");
            assert!(v["fields"]["message"].is_string(), "{line}");
        }
        let v: serde_json::Value = serde_json::from_str(err.lines().last().unwrap()).unwrap();
        assert!(
            v["fields"]["message"]
                .as_str()
                .unwrap()
                .contains("target(s) in 1 group(s)"),
            "{v}"
        );
        assert_eq!(v["fields"]["targets"], 1, "{v}");
    }
    // the flag is checked
    let o = ipocket(&["--log-format", "xml", "sd", "write"], &[]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("--log-format"), "{}", stderr(&o));
}

/// A server that answers every request with `answer(n)` (n: the request's number from 0) and
/// counts them.
fn stub(answer: fn(usize) -> (u16, &'static str, &'static str)) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let count = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&count);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let n = seen.fetch_add(1, Ordering::SeqCst);
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|r| r > 0) && line != "\r\n" {
                line.clear();
            }
            let (status, content_type, body) = answer(n);
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (addr, count)
}

fn watch(url: &str, targets: &Path, extra: &[&str]) -> (Output, Duration) {
    let started = Instant::now();
    let mut child = Command::new(BIN)
        .args(["sd", "watch", "--inventory-url", url, "--interval", "0.1"])
        .args(["--targets-file", targets.to_str().unwrap()])
        .args(extra)
        .env_remove("IPOCKET_DB")
        .env_remove("INVENTORY_URL")
        .env_remove("RUST_LOG")
        .env_remove("IPOCKET_LOG_FORMAT")
        .env("IPOCKET_TOKEN", "a-wrong-token")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let mut err = String::new();
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut err)
                .unwrap();
            panic!("sd watch did not stop in 30 s: {err}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    (child.wait_with_output().unwrap(), started.elapsed())
}

const REFUSED: &str = r#"{"error":{"code":"unauthorized","message":"a valid bearer token is required","details":null}}"#;

#[test]
fn sd_watch_logs_each_refused_token_once_and_stops_after_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let targets = dir.path().join("targets.json");
    // an ipocket server refusing the token, and seed 004's inventory service behind a proxy
    // answering a plain-text 401
    fn ipocket_401(_: usize) -> (u16, &'static str, &'static str) {
        (401, "application/json", REFUSED)
    }
    fn plain_401(_: usize) -> (u16, &'static str, &'static str) {
        (401, "text/plain", "401 Unauthorized")
    }
    for (answer, path, limit, refusal) in [
        (
            ipocket_401 as fn(usize) -> (u16, &'static str, &'static str),
            "",
            3,
            "refused the token (401 unauthorized)",
        ),
        (plain_401, "/inventory", 2, "answered 401"),
    ] {
        let (addr, requests) = stub(answer);
        let url = format!("http://{addr}{path}");
        let limit_s = limit.to_string();
        let (o, took) = watch(&url, &targets, &["--max-auth-failures", &limit_s]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{err}");
        // one request a cycle: a refusal is not retried
        assert_eq!(requests.load(Ordering::SeqCst), limit, "{err}");
        assert!(took < Duration::from_secs(10), "{took:?}");
        let refusals: Vec<&str> = err.lines().filter(|l| l.contains(refusal)).collect();
        assert_eq!(refusals.len(), limit, "{err}");
        for line in &refusals {
            assert_eq!(line.split_whitespace().nth(1), Some("ERROR"), "{line}");
            assert!(line.contains(&addr), "{line}");
            assert!(line.contains("status=401"), "{line}");
        }
        let last = err.lines().last().unwrap();
        assert!(
            last.starts_with(&format!(
                "ipocket: sd watch: stopping after {limit} cycle(s) in a row refused by"
            )),
            "{err}"
        );
        assert!(
            !last.contains(refusal),
            "the refusal is printed twice: {err}"
        );
        assert!(!err.contains("a-wrong-token"), "{err}");
        assert!(!targets.exists());
    }
}

#[test]
fn sd_watch_retries_a_transient_failure_with_a_warning_each_time() {
    let dir = tempfile::tempdir().unwrap();
    let targets = dir.path().join("targets.json");
    let (addr, requests) = stub(|n| match n {
        0 | 1 => (500, "text/plain", "upstream down"),
        _ => (
            200,
            "application/json",
            r#"[{"targets":["10.0.0.1:9100"],"labels":{"job":"node"}}]"#,
        ),
    });
    let mut child = Command::new(BIN)
        .args(["sd", "watch", "--inventory-url", &format!("http://{addr}")])
        .args([
            "--interval",
            "0.2",
            "--targets-file",
            targets.to_str().unwrap(),
        ])
        .env_remove("RUST_LOG")
        .env_remove("IPOCKET_LOG_FORMAT")
        .env("IPOCKET_TOKEN", "t")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !targets.exists() {
        assert!(Instant::now() < deadline, "no targets file after 30 s");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(100));
    let _ = child.kill();
    let o = child.wait_with_output().unwrap();
    let err = stderr(&o);
    let warnings: Vec<&str> = err.lines().filter(|l| l.contains("retrying")).collect();
    assert_eq!(warnings.len(), 2, "{err}");
    for line in &warnings {
        assert_eq!(line.split_whitespace().nth(1), Some("WARN"), "{line}");
        assert!(line.contains("answered 500"), "{line}");
    }
    assert!(err.contains("updated"), "{err}");
    assert!(requests.load(Ordering::SeqCst) >= 3);
}

#[test]
fn a_long_import_logs_its_progress_when_standard_error_is_not_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ipocket.db");
    let csv = dir.path().join("ip-assets.csv");
    // more than two chunks of the streamed import (20 000 records each)
    let mut text = String::from(CSV_HEADER);
    for i in 0..45_000u32 {
        let [_, b, c, d] = i.to_be_bytes();
        text.push_str(&format!("10.{b}.{c}.{d},VM,,,,\n"));
    }
    std::fs::write(&csv, text).unwrap();
    let args = [
        "import",
        "--apply",
        csv.to_str().unwrap(),
        "--db",
        db.to_str().unwrap(),
    ];
    let o = ipocket(&args, &[("IPOCKET_PROGRESS_SECONDS", "0")]);
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    let progress: Vec<&str> = err.lines().filter(|l| l.contains("import: ")).collect();
    assert!(progress.len() >= 3, "{err}");
    assert!(progress[0].contains("import: 20000 records"), "{err}");
    assert!(
        progress.last().unwrap().contains("import: 45000 records"),
        "{err}"
    );
    for line in &progress {
        assert_eq!(line.split_whitespace().nth(1), Some("INFO"), "{line}");
        assert!(line.contains("/s"), "{line}");
    }
    assert!(String::from_utf8_lossy(&o.stdout).contains("45000 created"));
}

#[test]
fn serve_logs_its_start_and_each_request_as_json() {
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("serve.log");
    let mut child = Command::new(BIN)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--log-format",
            "json",
            "--db",
        ])
        .arg(dir.path().join("ipocket.db"))
        .env_remove("IPOCKET_DB")
        .env_remove("RUST_LOG")
        .env_remove("IPOCKET_LOG_FORMAT")
        .env("IPOCKET_ADMIN_PASSWORD", "a-long-enough-admin-password")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log_path).unwrap())
        .spawn()
        .unwrap();
    // standard output: the admin line, then `ipocket serve: listening on http://ADDR …`
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    while !first.contains("listening on") {
        first.clear();
        assert!(
            stdout.read_line(&mut first).unwrap() > 0,
            "no listening line"
        );
    }
    let addr = first
        .split("http://")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .unwrap_or_else(|| panic!("no address in {first:?}"))
        .to_string();
    let mut s = std::net::TcpStream::connect(&addr).unwrap();
    write!(
        s,
        "GET /health?secret=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let deadline = Instant::now() + Duration::from_secs(10);
    let lines: Vec<serde_json::Value> = loop {
        let text = std::fs::read_to_string(&log_path).unwrap();
        if text.contains("/health") || Instant::now() > deadline {
            break text
                .lines()
                .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l:?}")))
                .collect();
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let _ = child.kill();
    let _ = child.wait();
    let start = lines
        .iter()
        .find(|v| v["fields"]["listen"] == addr.as_str())
        .unwrap_or_else(|| panic!("no start line: {lines:?}"));
    assert_eq!(start["level"], "INFO");
    assert!(is_rfc3339_utc(start["timestamp"].as_str().unwrap()));
    assert_eq!(start["fields"]["version"], env!("CARGO_PKG_VERSION"));
    assert!(start["fields"]["db"]
        .as_str()
        .unwrap()
        .ends_with("ipocket.db"));
    assert!(start["fields"]["sqlite"].is_string(), "{start}");
    let request = lines
        .iter()
        .find(|v| v["fields"]["route"] == "/health")
        .unwrap_or_else(|| panic!("no request line: {lines:?}"));
    assert_eq!(request["target"], "ipocket_server::access");
    assert_eq!(request["fields"]["status"], 200);
    assert_eq!(request["fields"]["method"], "GET");
    assert!(!request.to_string().contains("secret"), "{request}");
}
