//! `ipocket serve --remote-write-url`: accepted pushes forwarded to the real Prometheus
//! (`--web.enable-remote-write-receiver`) through the queue on disk; a receiver that is down
//! neither slows nor fails a push, the bounded queue drops its oldest and counts them; and
//! `GET /metrics/prometheus/health`.

use std::time::{Duration, Instant};

use ipocket_testkit::peer::{self, Peer};

use crate::common::*;

fn push(srv: &Server, query: &str, body: &str) -> Resp {
    request(
        srv,
        "POST",
        &format!("/metrics/prometheus{query}"),
        None,
        Some("text/plain; version=0.0.4"),
        body.as_bytes(),
    )
}

fn prom_query(prom: &Peer, q: &str) -> serde_json::Value {
    let enc: String = q
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    let (status, body) = peer::get(&prom.addr, &format!("/api/v1/query?query={enc}")).unwrap();
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

/// The value of a sample line of `/metrics`.
fn metric(text: &str, line_start: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(line_start))
        .unwrap_or_else(|| panic!("no {line_start} in\n{text}"))
        .trim()
        .parse()
        .unwrap()
}

fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn accepted_pushes_are_forwarded_to_prometheus() {
    let prom = Peer::prometheus();
    let url = prom.url("/api/v1/write");
    // Named: on PostgreSQL there is no database file to put the queue beside.
    let queue_dir = tempfile::tempdir().unwrap();
    let srv = start_with(
        &[
            "--ingest-unregistered",
            "--remote-write-url",
            &url,
            "--remote-write-queue-dir",
            queue_dir.path().to_str().unwrap(),
        ],
        Some(ADMIN_PASSWORD),
    );
    let (admin, _, _) = users(&srv);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    // Two exporters of one server share metric names: `job` keeps their series apart.
    let node = format!(
        "go_goroutines 7 {}\nnode_load1 0.25 {}\n",
        now - 2000,
        now - 2000
    );
    let pg = format!("go_goroutines 11 {}\npg_up 1\n", now - 1500);
    assert_eq!(
        push(&srv, "?server_id=db-01&job=node_exporter", &node).status,
        200
    );
    assert_eq!(
        push(&srv, "?server_id=db-01&job=postgres_exporter", &pg).status,
        200
    );
    // A refused push is not forwarded.
    assert_eq!(push(&srv, "?server_id=db-01", "  \n").status, 400);

    wait_until("two pushes forwarded", || {
        let t = get(&srv, "/metrics", Some(&admin)).text();
        metric(&t, "ipocket_remote_write_sent_total ") >= 2.0
    });
    let v = prom_query(&prom, "go_goroutines{server_id=\"db-01\"}");
    let mut by_job: Vec<(String, String)> = v["data"]["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["metric"]["job"].as_str().unwrap().to_string(),
                r["value"][1].as_str().unwrap().to_string(),
            )
        })
        .collect();
    by_job.sort();
    assert_eq!(
        by_job,
        [
            ("node_exporter".to_string(), "7".to_string()),
            ("postgres_exporter".to_string(), "11".to_string())
        ],
        "{v}"
    );
    // A sample without a timestamp gets the time the push was accepted.
    let v = prom_query(
        &prom,
        "pg_up{server_id=\"db-01\",job=\"postgres_exporter\"}",
    );
    assert_eq!(v["data"]["result"][0]["value"][1], "1", "{v}");
    let t = get(&srv, "/metrics", Some(&admin)).text();
    assert_eq!(metric(&t, "ipocket_remote_write_samples_sent_total "), 4.0);
    assert_eq!(metric(&t, "ipocket_remote_write_queue_length "), 0.0);
    ipocket_expfmt::parse(t.as_bytes(), ipocket_expfmt::Format::Text).unwrap();

    let h = get(&srv, "/metrics/prometheus/health", None);
    assert_eq!(h.status, 200);
    let v = h.json();
    assert_eq!(v["status"], "healthy", "{v}");
    assert_eq!(v["remote_write"], "ok", "{v}");
    assert_eq!(v["stream_pending"], 0, "{v}");
    assert!(
        !h.text().contains(&prom.addr),
        "the receiver's address is not shown"
    );
}

#[test]
fn a_receiver_that_is_down_never_slows_or_fails_pushes_and_the_queue_is_bounded() {
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let queue_dir = tempfile::tempdir().unwrap();
    let url = format!("http://{dead}/api/v1/write");
    // A 16 KiB queue: about a dozen of the 1.2 KB pushes below.
    let srv = start_with(
        &[
            "--ingest-unregistered",
            "--remote-write-url",
            &url,
            "--remote-write-queue-dir",
            queue_dir.path().to_str().unwrap(),
            "--remote-write-queue-max-mb",
            "0.015625",
        ],
        Some(ADMIN_PASSWORD),
    );
    let (admin, _, _) = users(&srv);
    let body: String = (0..40)
        .map(|i| format!("node_network_receive_bytes_total{{device=\"eth{i}\"}} {i}\n"))
        .collect();
    let mut took = Vec::new();
    for _ in 0..40 {
        let t = Instant::now();
        let r = push(&srv, "?server_id=web-01&job=node_exporter", &body);
        took.push(t.elapsed());
        assert_eq!(r.status, 200, "{}", r.text());
    }
    took.sort();
    eprintln!(
        "push latency with the receiver down: p50 {:?}, max {:?}",
        took[took.len() / 2],
        took[took.len() - 1]
    );
    assert!(took[took.len() - 1] < Duration::from_secs(2), "{took:?}");
    // Every push was stored.
    let v = get(
        &srv,
        "/api/v1/servers/web-01/samples?metric=node_network_receive_bytes_total",
        Some(&admin),
    )
    .json();
    assert_eq!(v["count"], 40, "{v}");

    let t = get(&srv, "/metrics", Some(&admin)).text();
    let dropped = metric(&t, "ipocket_remote_write_dropped_total{reason=\"size\"} ");
    let queued = metric(&t, "ipocket_remote_write_queue_length ");
    assert!(dropped >= 20.0, "{t}");
    assert_eq!(
        dropped + queued,
        40.0,
        "every push is queued or counted as dropped"
    );
    assert!(
        metric(&t, "ipocket_remote_write_queue_bytes ") <= 16384.0,
        "{t}"
    );
    let on_disk = std::fs::read_dir(queue_dir.path()).unwrap().count();
    assert_eq!(on_disk as f64, queued);
    wait_until("a failed send", || {
        let t = get(&srv, "/metrics", Some(&admin)).text();
        metric(&t, "ipocket_remote_write_failures_total ") >= 1.0
    });

    // The health answer says so, without a token.
    let v = get(&srv, "/metrics/prometheus/health", None).json();
    assert_eq!(v["status"], "degraded", "{v}");
    assert_eq!(v["remote_write"], "failing", "{v}");
    assert_eq!(v["stream_pending"].as_f64(), Some(queued), "{v}");
    assert_eq!(v["max_queue_bytes"], 16384, "{v}");
}

#[test]
fn ingest_health_without_remote_write() {
    let srv = start();
    let r = get(&srv, "/metrics/prometheus/health", None);
    assert_eq!(r.status, 200);
    let v = r.json();
    assert_eq!(v["status"], "healthy", "{v}");
    assert_eq!(v["format"], "prometheus");
    assert_eq!(v["remote_write"], "off");
    assert_eq!(v["stream_pending"], 0);
    assert_eq!(
        request(&srv, "POST", "/metrics/prometheus/health", None, None, b"").status,
        405
    );
}
