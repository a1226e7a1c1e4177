//! A tiny vSphere Automation REST stand-in for the vCenter connector's CLI tests (no vCenter
//! can run here): the documented response shapes for one ESXi host and one VM.

/// Starts a tiny vSphere REST stand-in on 127.0.0.1 (raw HTTP/1.1, one request per connection,
/// on a thread that lives as long as the test) and returns its `127.0.0.1:PORT`.
pub fn vcenter_stub() -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let mut buf = vec![0u8; 8192];
            let n = conn.read(&mut buf).unwrap_or(0);
            let req = String::from_utf8_lossy(&buf[..n]).into_owned();
            let line = req.lines().next().unwrap_or("").to_string();
            let (status, body) = if line.starts_with("POST /api/session ") {
                (201, "\"sess-1\"")
            } else if line.starts_with("DELETE /api/session ") {
                (204, "")
            } else if line.starts_with("GET /api/vcenter/host ") {
                (
                    200,
                    r#"[{"host":"host-1","name":"10.60.0.1","connection_state":"CONNECTED"}]"#,
                )
            } else if line.starts_with("GET /api/vcenter/vm?hosts=host-1 ")
                || line.starts_with("GET /api/vcenter/vm ")
            {
                (
                    200,
                    r#"[{"vm":"vm-1","name":"app-01","power_state":"POWERED_ON"}]"#,
                )
            } else if line.starts_with("GET /api/vcenter/vm/vm-1/guest/networking/interfaces ") {
                (
                    200,
                    r#"[{"mac_address":"00:50:56:00:00:01","ip":{"ip_addresses":[{"ip_address":"10.60.1.5","prefix_length":24}]}}]"#,
                )
            } else {
                (404, "{}")
            };
            let _ = write!(
                conn,
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    addr
}
