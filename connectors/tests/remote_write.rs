//! remote_write 1.0 against a real Prometheus 2.42 and against a stub receiver (retry policy).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ipocket_connectors::remote_write::{
    RemoteWriteClient, RemoteWriteError, TimeSeries, WriteRequest,
};
use ipocket_expfmt::Format;
use ipocket_testkit::data;
use ipocket_testkit::peer::{self, Peer};
use ipocket_testkit::runtime;

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn query(prom: &Peer, q: &str) -> serde_json::Value {
    let (status, body) =
        peer::get(&prom.addr, &format!("/api/v1/query?query={}", urlencode(q))).unwrap();
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

#[test]
fn a_node_exporter_scrape_forwarded_to_prometheus_is_queryable() {
    let prom = Peer::prometheus();
    let body = data::node_exporter_prom();
    let ts = now_ms() - 1000;
    let (req, errors) = WriteRequest::from_exposition(
        &body,
        Format::Text,
        ts,
        &[("server_id", "web-01"), ("instance", "10.9.8.7:9100")],
    );
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(req.sample_count(), 507);
    let client = RemoteWriteClient::new(&prom.url("/api/v1/write")).unwrap();
    let rt = runtime();
    assert_eq!(rt.block_on(client.send(&req)).unwrap(), 1);

    let v = query(&prom, "node_memory_MemTotal_bytes{server_id=\"web-01\"}");
    let result = &v["data"]["result"][0];
    assert_eq!(result["metric"]["instance"], "10.9.8.7:9100");
    assert_eq!(result["value"][1], "25276502016");
    let v = query(&prom, "count({server_id=\"web-01\"})");
    assert_eq!(v["data"]["result"][0]["value"][1], "507", "{v}");
    let v = query(
        &prom,
        "node_filesystem_size_bytes{server_id=\"web-01\",mountpoint=\"/\"}",
    );
    assert_eq!(v["data"]["result"][0]["value"][1], "270553174016");

    // Prometheus refuses an out-of-order sample with 400: no retry, a permanent error.
    let old = WriteRequest {
        timeseries: vec![TimeSeries::new(
            "node_memory_MemTotal_bytes",
            [("instance", "10.9.8.7:9100"), ("server_id", "web-01")],
            vec![(1.0, ts - 60_000)],
        )
        .unwrap()],
    };
    match rt.block_on(client.send(&old)) {
        Err(RemoteWriteError::Rejected { status: 400, body }) => {
            assert!(body.contains("out of order"), "{body}")
        }
        other => panic!("expected a 400 rejection, got {other:?}"),
    }

    // A big exposition goes in batches of at most 2,000 samples.
    let big: String = (0..5000)
        .map(|i| format!("ipocket_big{{i=\"{i}\"}} {i}\n"))
        .collect();
    let (req, _) = WriteRequest::from_exposition(big.as_bytes(), Format::Text, ts, &[]);
    assert_eq!(rt.block_on(client.send_batched(req)).unwrap(), 3);
    let v = query(&prom, "count(ipocket_big)");
    assert_eq!(v["data"]["result"][0]["value"][1], "5000", "{v}");

    // Escapes survive.
    let tricky = WriteRequest {
        timeseries: vec![TimeSeries::new(
            "ipocket_tricky",
            [("v", "a\"b\\c\nd é")],
            vec![(2.5, ts)],
        )
        .unwrap()],
    };
    rt.block_on(client.send(&tricky)).unwrap();
    let v = query(&prom, "ipocket_tricky");
    assert_eq!(v["data"]["result"][0]["metric"]["v"], "a\"b\\c\nd é");
    assert_eq!(v["data"]["result"][0]["value"][1], "2.5");
}

/// Requests the stub saw: (headers lowercased, body).
type Seen = Arc<Mutex<Vec<(Vec<(String, String)>, Vec<u8>)>>>;

/// A receiver on 127.0.0.1 that answers each request with the next status of `statuses`.
fn stub(statuses: Vec<u16>) -> (String, Seen) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let seen: Seen = Arc::default();
    let seen2 = seen.clone();
    std::thread::spawn(move || {
        for status in statuses {
            let Ok((mut conn, _)) = listener.accept() else {
                return;
            };
            let mut reader = BufReader::new(conn.try_clone().unwrap());
            let mut headers = Vec::new();
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                let line = line.trim_end();
                if line.is_empty() {
                    break;
                }
                if let Some((k, v)) = line.split_once(':') {
                    headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
                }
            }
            let len: usize = headers
                .iter()
                .find(|h| h.0 == "content-length")
                .map_or(0, |h| h.1.parse().unwrap());
            let mut body = vec![0; len];
            reader.read_exact(&mut body).unwrap();
            seen2.lock().unwrap().push((headers, body));
            let reason = if status == 204 { "" } else { "nope" };
            write!(
                conn,
                "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{reason}",
                reason.len()
            )
            .unwrap();
        }
    });
    (format!("http://{addr}/api/v1/write"), seen)
}

fn one_sample() -> WriteRequest {
    WriteRequest {
        timeseries: vec![TimeSeries::new("up", [("job", "node")], vec![(1.0, 1000)]).unwrap()],
    }
}

#[test]
fn retries_on_5xx_and_429_only_with_the_required_headers() {
    let rt = runtime();
    let (url, seen) = stub(vec![503, 429, 500, 204]);
    let client = RemoteWriteClient::new(&url)
        .unwrap()
        .with_retries(5, Duration::from_millis(5));
    assert_eq!(rt.block_on(client.send(&one_sample())).unwrap(), 4);
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 4);
    let (headers, body) = &seen[3];
    let h = |name: &str| headers.iter().find(|h| h.0 == name).map(|h| h.1.as_str());
    assert_eq!(h("content-encoding"), Some("snappy"));
    assert_eq!(h("content-type"), Some("application/x-protobuf"));
    assert_eq!(h("x-prometheus-remote-write-version"), Some("0.1.0"));
    assert!(h("user-agent").unwrap().starts_with("ipocket/"));
    let raw = snap::raw::Decoder::new().decompress_vec(body).unwrap();
    assert_eq!(raw, one_sample().to_protobuf());
    // Every attempt sends the same bytes (idempotent retries).
    assert!(seen.iter().all(|(_, b)| b == body));

    for status in [400u16, 401, 404, 413] {
        let (url, seen) = stub(vec![status, 204]);
        let client = RemoteWriteClient::new(&url)
            .unwrap()
            .with_retries(5, Duration::from_millis(5));
        let err = rt.block_on(client.send(&one_sample())).unwrap_err();
        assert!(
            matches!(err, RemoteWriteError::Rejected { status: s, .. } if s == status),
            "{err}"
        );
        assert_eq!(
            seen.lock().unwrap().len(),
            1,
            "a {status} must not be retried"
        );
    }

    let (url, seen) = stub(vec![503, 503, 503]);
    let client = RemoteWriteClient::new(&url)
        .unwrap()
        .with_retries(2, Duration::from_millis(5));
    let err = rt.block_on(client.send(&one_sample())).unwrap_err();
    assert!(
        matches!(err, RemoteWriteError::Retryable { status: 503, .. }),
        "{err}"
    );
    assert_eq!(seen.lock().unwrap().len(), 3);
}

#[test]
fn a_dead_receiver_is_a_transport_error_after_the_retries() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = RemoteWriteClient::new(&format!("http://127.0.0.1:{port}/api/v1/write"))
        .unwrap()
        .with_retries(2, Duration::from_millis(5));
    let err = runtime().block_on(client.send(&one_sample())).unwrap_err();
    assert!(matches!(err, RemoteWriteError::Transport(_)), "{err}");
}
