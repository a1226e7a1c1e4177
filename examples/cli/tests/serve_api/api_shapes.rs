//! What a first API client runs into (#19 item 10): one project, vendor, tag or range by id;
//! next-free on a full range; non-finite sample values; `/metrics` in OpenMetrics for
//! Prometheus (scraped by the real Prometheus 2.42); a registered server's name.

use std::time::{Duration, Instant};

use ipocket_testkit::peer::{get as peer_get, Peer};
use serde_json::{json, Value};

use crate::common::*;

#[test]
fn single_records_by_id_and_next_free_of_a_full_range() {
    let srv = start();
    let (_, editor, viewer) = users(&srv);
    let post = |path: &str, body: Value| send_json(&srv, "POST", path, Some(&editor), body);
    let created = [
        (
            "projects",
            post(
                "/api/v1/projects",
                json!({"name": "core", "color": "#AABBCC"}),
            ),
        ),
        ("vendors", post("/api/v1/vendors", json!({"name": "Dell"}))),
        ("tags", post("/api/v1/tags", json!({"name": "prod"}))),
        (
            "ranges",
            post(
                "/api/v1/ranges",
                json!({"name": "p2p", "cidr": "10.9.0.0/31"}),
            ),
        ),
    ];
    for (collection, r) in created {
        assert_eq!(r.status, 201, "{collection}: {}", r.text());
        let record = r.json();
        let path = format!("/api/v1/{collection}/{}", record["id"]);
        let got = get(&srv, &path, Some(&viewer));
        assert_eq!(got.status, 200, "{path}: {}", got.text());
        assert_eq!(got.json(), record, "{path}");
        assert_eq!(get(&srv, &path, None).status, 401, "{path}");
        let missing = get(&srv, &format!("/api/v1/{collection}/99999"), Some(&viewer));
        assert_eq!(missing.status, 404, "{collection}");
        assert_eq!(missing.error_code(), "not_found");
    }

    // A full range: next-free is the same object with a null address (docs/server.md).
    let range = get(&srv, "/api/v1/ranges", Some(&viewer)).json()[0]["id"].clone();
    for _ in 0..2 {
        let r = post(
            &format!("/api/v1/ranges/{range}/allocate"),
            json!({"type": "VM"}),
        );
        assert_eq!(r.status, 201, "{}", r.text());
    }
    let r = get(
        &srv,
        &format!("/api/v1/ranges/{range}/next-free"),
        Some(&viewer),
    );
    assert_eq!(r.status, 200);
    assert_eq!(
        r.json(),
        json!({"ip_address": null, "skipped": [], "skip_alive": false, "prometheus": null})
    );
}

#[test]
fn servers_show_their_name_and_samples_show_nan_and_infinities_as_prometheus_does() {
    let srv = start();
    let (_, editor, viewer) = users(&srv);
    let reg = json!({"server_id": "web-01", "name": "Web front 1"});
    let r = send_json(&srv, "POST", "/api/v1/servers", Some(&editor), reg);
    assert_eq!(r.status, 201, "{}", r.text());
    let v = get(&srv, "/api/v1/servers", Some(&viewer)).json();
    assert_eq!(v[0]["server_id"], "web-01");
    assert_eq!(v[0]["name"], "Web front 1", "{v}");
    assert!(v[0]["created_at_ms"].as_i64().unwrap() > 0, "{v}");
    assert!(v[0]["last_seen_at_ms"].is_null(), "{v}");

    let body = "odd{k=\"a\"} NaN\nodd{k=\"b\"} +Inf\nodd{k=\"c\"} -Inf\nodd{k=\"d\"} 1.5\n";
    let r = request(
        &srv,
        "POST",
        "/metrics/prometheus?server_id=web-01",
        None,
        Some("text/plain; version=0.0.4"),
        body.as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let v = get(
        &srv,
        "/api/v1/servers/web-01/samples?metric=odd",
        Some(&viewer),
    )
    .json();
    let values: Vec<Value> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["value"].clone())
        .collect();
    assert_eq!(
        values,
        [json!("NaN"), json!("+Inf"), json!("-Inf"), json!(1.5)]
    );
}

/// Prometheus's scrape `Accept` (2.42).
const PROMETHEUS_ACCEPT: &str = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

fn metrics_with_accept(srv: &Server, token: &str, accept: &str) -> Resp {
    let head = format!(
        "GET /metrics HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nAuthorization: Bearer {token}\r\nAccept: {accept}\r\n\r\n",
        srv.addr
    );
    raw_request(&srv.addr, &head, b"")
}

#[test]
fn metrics_answer_openmetrics_when_the_scraper_prefers_it() {
    let srv = start();
    let admin = login(&srv, "admin", ADMIN_PASSWORD);
    let r = metrics_with_accept(&srv, &admin, PROMETHEUS_ACCEPT);
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-type"),
        Some("application/openmetrics-text; version=1.0.0; charset=utf-8")
    );
    assert_eq!(r.header("vary"), Some("accept"));
    let text = r.text();
    assert!(text.ends_with("# EOF\n"), "{text}");
    assert_eq!(text.matches("# EOF").count(), 1, "{text}");
    assert!(
        text.contains("# TYPE ipocket_http_requests counter\n"),
        "{text}"
    );
    assert!(text.contains("ipam_ip_total 0\n"), "{text}");
    ipocket_expfmt::parse(text.as_bytes(), ipocket_expfmt::Format::OpenMetrics).unwrap();
    // The text format stays the answer for anyone else.
    for accept in [
        "text/plain",
        "*/*",
        "text/plain;q=1, application/openmetrics-text;q=0.5",
    ] {
        let r = metrics_with_accept(&srv, &admin, accept);
        assert!(
            r.header("content-type").unwrap().starts_with("text/plain"),
            "{accept}"
        );
        assert!(!r.text().contains("# EOF"), "{accept}");
    }

    // The real Prometheus scrapes it as OpenMetrics: the counter's metadata is under its
    // family name, which only the OpenMetrics parser reports.
    let peer = Peer::prometheus_with_config(|_| {
        format!(
            "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: ipocket\n    authorization:\n      credentials: {admin}\n    static_configs:\n      - targets: ['{}']\n",
            srv.addr
        )
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, targets) = peer_get(&peer.addr, "/api/v1/targets?state=active").unwrap();
        let t: Value = serde_json::from_str(&targets).unwrap();
        let health = t["data"]["activeTargets"][0]["health"].clone();
        let (_, meta) =
            peer_get(&peer.addr, "/api/v1/metadata?metric=ipocket_http_requests").unwrap();
        let m: Value = serde_json::from_str(&meta).unwrap();
        if health == "up" && m["data"]["ipocket_http_requests"][0]["type"] == "counter" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "Prometheus did not scrape /metrics as OpenMetrics within 30 s: {targets}\n{meta}\nlog:\n{}",
            peer.log()
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    let (_, q) = peer_get(
        &peer.addr,
        "/api/v1/query?query=ipocket_http_requests_total%7Broute%3D%22%2Fmetrics%22%7D",
    )
    .unwrap();
    let q: Value = serde_json::from_str(&q).unwrap();
    assert!(!q["data"]["result"].as_array().unwrap().is_empty(), "{q}");
}
