//! `POST /metrics/prometheus` ingest and the background retention sweep.

use std::process::Command;
use std::time::{Duration, Instant};

use ipocket_testkit::peer::{get as peer_get, Peer};
use serde_json::json;

use crate::common::*;

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
    assert_eq!(
        (v["count"].as_u64(), v["has_more"].as_bool()),
        (Some(2), Some(false)),
        "{v}"
    );
    assert_eq!(v["items"][0]["labels"], json!({"cpu": "0", "mode": "idle"}));
    assert_eq!(v["items"][0]["value"], 5.0);
    assert_eq!(v["items"][1]["value"], 7.0);
    let v = get(&srv, &format!("{path}&label=cpu%3D1"), Some(&viewer)).json();
    assert_eq!(
        (v["count"].as_u64(), v["items"][0]["value"].as_f64()),
        (Some(1), Some(7.0))
    );
    let r = get(&srv, &format!("{path}&label=cpu"), Some(&viewer));
    assert_eq!((r.status, r.error_code().as_str()), (400, "bad_request"));
    let r = get(&srv, "/api/v1/servers/web-01/samples", Some(&viewer));
    assert_eq!(r.status, 400);

    // One page at a time: `next_after` until the last page.
    let page = |q: &str| get(&srv, &format!("{path}{q}"), Some(&viewer));
    let v = page("&limit=1").json();
    assert_eq!(
        (v["count"].as_u64(), v["has_more"].as_bool()),
        (Some(1), Some(true)),
        "{v}"
    );
    assert_eq!(v["items"][0]["value"], 5.0);
    let after = v["next_after"].as_str().unwrap().to_string();
    let v = page(&format!("&limit=1&after={}", urlencode(&after))).json();
    assert_eq!(v["items"][0]["value"], 7.0, "{v}");
    assert_eq!(
        (v["has_more"].as_bool(), v["next_after"].is_null()),
        (Some(false), true),
        "{v}"
    );
    for bad in ["0", "10001", "x"] {
        let r = page(&format!("&limit={bad}"));
        assert_eq!(
            (r.status, r.error_code().as_str()),
            (400, "bad_request"),
            "{bad}"
        );
        assert_eq!(r.json()["error"]["details"]["field"], "limit");
    }
    let r = get(
        &srv,
        "/api/v1/servers/web-09/samples?metric=up",
        Some(&viewer),
    );
    assert_eq!(r.status, 404);
}

/// The node summary comes from the stored node_exporter samples: a push of another exporter
/// (the seed's postgres_exporter job) leaves it as it was, and a restart keeps it, rates too.
#[test]
fn node_summary_merges_exporters_and_survives_a_restart() {
    let exporter = Peer::node_exporter();
    let srv = start();
    let (_, editor, viewer) = users(&srv);
    let reg = json!({"server_id": "web-01"});
    let r = send_json(&srv, "POST", "/api/v1/servers", Some(&editor), reg);
    assert_eq!(r.status, 201);
    let push = |srv: &Server, job: &str, body: &[u8]| {
        let path = format!("/metrics/prometheus?server_id=web-01&job={job}");
        let r = request(
            srv,
            "POST",
            &path,
            None,
            Some("text/plain; version=0.0.4"),
            body,
        );
        assert_eq!(r.status, 200, "{}", r.text());
    };
    let scrape = || {
        let (status, body) = peer_get(&exporter.addr, "/metrics").expect("scrape node_exporter");
        assert_eq!(status, 200);
        body
    };
    let summary = |srv: &Server| {
        let r = get(srv, "/api/v1/servers/web-01/summary", Some(&viewer));
        assert_eq!(r.status, 200, "{}", r.text());
        r.json()
    };
    assert_eq!(
        get(&srv, "/api/v1/servers/web-01/summary", Some(&viewer)).error_code(),
        "not_found"
    );
    push(&srv, "node_exporter", scrape().as_bytes());
    std::thread::sleep(Duration::from_millis(1100));
    push(&srv, "node_exporter", scrape().as_bytes());
    let before = summary(&srv);
    let s = &before["summary"];
    let cpu = s["cpu_usage_percent"]
        .as_f64()
        .expect("a CPU rate from two scrapes");
    assert!((0.0..=100.0).contains(&cpu), "{before}");
    assert!(s["memory_total_mb"].as_f64().unwrap() > 0.0, "{before}");
    assert!(s["uptime_seconds"].as_f64().unwrap() > 0.0, "{before}");

    push(
        &srv,
        "postgres",
        b"# TYPE pg_up gauge\npg_up 1\npg_stat_database_numbackends{datname=\"app\"} 3\n",
    );
    assert_eq!(
        summary(&srv),
        before,
        "another exporter's push changed the summary"
    );

    let srv = restart(srv);
    assert_eq!(
        summary(&srv),
        before,
        "the summary did not survive the restart"
    );
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
        get(&srv, &path, Some(&viewer)).json()["count"].clone()
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
fn ingest_refuses_samples_over_the_label_limits_and_far_in_the_future() {
    let srv = start_with(
        &[
            "--ingest-max-labels",
            "100",
            "--ingest-max-future-skew-seconds",
            "60",
        ],
        Some(ADMIN_PASSWORD),
    );
    let (_, editor, viewer) = users(&srv);
    let reg = json!({"server_id": "web-01"});
    assert_eq!(
        send_json(&srv, "POST", "/api/v1/servers", Some(&editor), reg).status,
        201
    );
    let push = |body: &[u8]| {
        request(
            &srv,
            "POST",
            "/metrics/prometheus?server_id=web-01",
            None,
            Some("text/plain; version=0.0.4"),
            body,
        )
    };
    // One sample with 40,000 labels (about 430 kB): refused at once, located.
    let mut wide = String::from("up 1\nwide{");
    for i in 0..40_000 {
        wide.push_str(&format!("label_{i}=\"v\","));
    }
    wide.push_str("} 1\n");
    let started = Instant::now();
    let r = push(wide.as_bytes());
    let took = started.elapsed();
    eprintln!("40,000 labels refused in {took:?}");
    assert!(took < Duration::from_secs(2), "{took:?}");
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (422, "sample_limit"),
        "{}",
        r.text()
    );
    let v = r.json();
    assert_eq!(v["error"]["details"]["line"], 2, "{v}");
    assert_eq!(v["error"]["details"]["metric"], "wide", "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("40000 labels, more than the limit of 100"),
        "{v}"
    );
    let long = format!("x{{path=\"{}\"}} 1\n", "a".repeat(3000));
    let r = push(long.as_bytes());
    assert_eq!(r.status, 422);
    assert_eq!(r.json()["error"]["details"]["label"], "path");

    // The year 3000 is refused; a minute ahead is the configured skew.
    let r = push(b"up 1 32503680000000\n");
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (422, "timestamp_out_of_bounds"),
        "{}",
        r.text()
    );
    assert_eq!(r.json()["error"]["details"]["max_future_skew_ms"], 60_000);
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let r = push(format!("up 1 {}\n", now_ms + 600_000).as_bytes());
    assert_eq!(r.error_code(), "timestamp_out_of_bounds");
    let r = push(format!("up 1 {}\n", now_ms + 1_000).as_bytes());
    assert_eq!(r.status, 200, "{}", r.text());
    // Nothing of the refused pushes was stored.
    let v = get(
        &srv,
        "/api/v1/servers/web-01/samples?metric=up",
        Some(&viewer),
    )
    .json();
    assert_eq!(v["items"].as_array().unwrap().len(), 1, "{v}");
    assert_eq!(v["items"][0]["timestamp_ms"], now_ms + 1_000, "{v}");
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[test]
fn samples_are_paged_and_capped() {
    // 3,000 series of one metric: the default page is 1000, the flag caps `limit`.
    let srv = start_with(&["--samples-max-limit", "2000"], Some(ADMIN_PASSWORD));
    let (_, editor, viewer) = users(&srv);
    let reg = json!({"server_id": "web-01"});
    assert_eq!(
        send_json(&srv, "POST", "/api/v1/servers", Some(&editor), reg).status,
        201
    );
    let body: String = (0..3000)
        .map(|i| format!("many{{i=\"{i:05}\"}} {i}\n"))
        .collect();
    let r = request(
        &srv,
        "POST",
        "/metrics/prometheus?server_id=web-01",
        None,
        Some("text/plain; version=0.0.4"),
        body.as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let path = "/api/v1/servers/web-01/samples?metric=many";
    let v = get(&srv, path, Some(&viewer)).json();
    assert_eq!(
        (v["count"].as_u64(), v["limit"].as_u64()),
        (Some(1000), Some(1000))
    );
    assert_eq!(v["has_more"], true);
    let r = get(&srv, &format!("{path}&limit=2001"), Some(&viewer));
    assert_eq!(r.status, 400);
    assert!(
        r.text().contains("limit: expected 1..=2000"),
        "{}",
        r.text()
    );
    // Walking the pages gives every series once, in order.
    let (mut seen, mut after) = (Vec::new(), None::<String>);
    loop {
        let q = match &after {
            Some(a) => format!("{path}&limit=2000&after={}", urlencode(a)),
            None => format!("{path}&limit=2000"),
        };
        let v = get(&srv, &q, Some(&viewer)).json();
        seen.extend(
            v["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["value"].as_f64().unwrap()),
        );
        match v["next_after"].as_str() {
            Some(a) => after = Some(a.to_string()),
            None => break,
        }
    }
    assert_eq!(seen, (0..3000).map(f64::from).collect::<Vec<_>>());
}
