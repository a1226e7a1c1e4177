//! Body-size limits and header/body timeouts.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::common::*;

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
