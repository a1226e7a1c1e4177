//! `GET /api/v1/ranges/{id}/map`, both utilizations, and next-free / allocate passing over
//! live undocumented addresses, against the real Prometheus scraping the real node_exporter
//! and closed loopback ports (ipocket_testkit::liveness), then with Prometheus stopped; and
//! without liveness at all.

use std::time::{Duration, Instant};

use ipocket_testkit::liveness::{LiveStack, DOWN_IP, STRAY_IP, UNSCRAPED_IP, UP_IP};
use serde_json::{json, Value};

use crate::common::*;
use crate::openapi::conforms;

fn cell<'a>(map: &'a Value, ip: &str) -> &'a Value {
    map["cells"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["ip"] == ip)
        .unwrap_or_else(|| panic!("no cell {ip}: {}", map["prometheus"]))
}

fn schema(doc: &Value, pattern: &str, method: &str, code: &str) -> Value {
    doc["paths"][pattern][method]["responses"][code]["content"]["application/json"]["schema"]
        .clone()
}

/// 10.9.8.1–10.9.8.19 documented (the stack's three among them): the first free address is
/// the stray, alive one.
fn fill_below_the_stray(srv: &Server, editor: &str) {
    for i in 1..=19 {
        let ip = format!("10.9.8.{i}");
        if [UP_IP, DOWN_IP, UNSCRAPED_IP].contains(&ip.as_str()) {
            continue;
        }
        let r = send_json(
            srv,
            "POST",
            "/api/v1/ip-assets",
            Some(editor),
            json!({"ip_address": ip, "type": "VM"}),
        );
        assert_eq!(r.status, 201, "{}", r.text());
    }
}

#[test]
fn the_map_utilizations_and_next_free_from_the_real_stack_then_unreachable() {
    let mut stack = LiveStack::start();
    let url = stack.url();
    let (srv, (_, editor, viewer)) = start_live(&url, "8", &[]);
    let range = send_json(
        &srv,
        "POST",
        "/api/v1/ranges",
        Some(&editor),
        json!({"name": "lab", "cidr": "10.9.8.0/24"}),
    )
    .json();
    let id = range["id"].as_i64().unwrap();
    let doc = get(&srv, "/api/v1/openapi.json", None).json();

    // The map: every state from the real stack.
    assert_eq!(
        get(&srv, &format!("/api/v1/ranges/{id}/map"), None).status,
        401
    );
    let r = get(&srv, &format!("/api/v1/ranges/{id}/map"), Some(&viewer));
    assert_eq!(r.status, 200, "{}", r.text());
    let map = r.json();
    conforms(
        &doc,
        &schema(&doc, "/api/v1/ranges/{id}/map", "get", "200"),
        &map,
        "map",
    )
    .unwrap();
    assert_eq!(
        (map["page"].as_u64(), map["pages"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(map["cells"].as_array().unwrap().len(), 256);
    assert_eq!(
        map["prometheus"]["reachable"], true,
        "{}",
        map["prometheus"]
    );
    assert_eq!(cell(&map, UP_IP)["state"], "up");
    assert_eq!(cell(&map, UP_IP)["jobs"], json!(["node", "wrongport"]));
    assert_eq!(cell(&map, DOWN_IP)["state"], "down");
    assert_eq!(cell(&map, DOWN_IP)["live"], "down");
    assert_eq!(cell(&map, UNSCRAPED_IP)["state"], "down");
    assert_eq!(cell(&map, UNSCRAPED_IP)["live"], "not_scraped");
    assert_eq!(cell(&map, STRAY_IP)["state"], "alive");
    assert_eq!(cell(&map, STRAY_IP)["asset"], Value::Null);
    assert_eq!(cell(&map, "10.9.8.1")["state"], "unused");
    assert_eq!(cell(&map, "10.9.8.0")["reserved"], true);
    assert_eq!(
        map["counts"],
        json!({"unused": 252, "up": 1, "down": 2, "alive": 1, "documented": 0})
    );
    let r = get(
        &srv,
        &format!("/api/v1/ranges/{id}/map?page=2"),
        Some(&viewer),
    );
    assert_eq!(
        (r.status, r.json()["error"]["details"]["field"].clone()),
        (400, json!("page"))
    );

    // Both utilizations, of all ranges and of one.
    let all = get(&srv, "/api/v1/ranges/utilization", Some(&viewer)).json();
    conforms(
        &doc,
        &schema(&doc, "/api/v1/ranges/utilization", "get", "200"),
        &all,
        "all",
    )
    .unwrap();
    let lab = &all["ranges"][0];
    assert_eq!(
        (lab["used"].as_u64(), lab["usable"].as_u64()),
        (Some(3), Some(254))
    );
    assert_eq!(
        lab["alive"],
        json!({"alive": 2, "documented_up": 1, "undocumented_alive": 1, "percent": 2.0 / 254.0 * 100.0}),
        "{all}"
    );
    let one = get(
        &srv,
        &format!("/api/v1/ranges/{id}/utilization"),
        Some(&viewer),
    )
    .json();
    conforms(
        &doc,
        &schema(&doc, "/api/v1/ranges/{id}/utilization", "get", "200"),
        &one,
        "one",
    )
    .unwrap();
    assert_eq!(one["alive"]["alive"], 2);
    assert_eq!(one["prometheus"]["reachable"], true);

    // Next free passes over the stray (alive, undocumented) by default, and says why.
    fill_below_the_stray(&srv, &editor);
    let next = get(
        &srv,
        &format!("/api/v1/ranges/{id}/next-free"),
        Some(&viewer),
    )
    .json();
    conforms(
        &doc,
        &schema(&doc, "/api/v1/ranges/{id}/next-free", "get", "200"),
        &next,
        "next",
    )
    .unwrap();
    assert_eq!(next["ip_address"], "10.9.8.21", "{next}");
    assert_eq!(next["skip_alive"], true);
    assert_eq!(next["skipped"][0]["ip_address"], STRAY_IP);
    let why = next["skipped"][0]["reason"].as_str().unwrap();
    assert!(
        why.contains("undocumented but up") && why.contains("stray"),
        "{why}"
    );
    let plain = get(
        &srv,
        &format!("/api/v1/ranges/{id}/next-free?skip_alive=0"),
        Some(&viewer),
    )
    .json();
    assert_eq!(
        (
            plain["ip_address"].as_str(),
            plain["skipped"].as_array().unwrap().len()
        ),
        (Some(STRAY_IP), 0)
    );
    let r = send_json(
        &srv,
        "POST",
        &format!("/api/v1/ranges/{id}/allocate"),
        Some(&editor),
        json!({"type": "VM"}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let got = r.json();
    conforms(
        &doc,
        &schema(&doc, "/api/v1/ranges/{id}/allocate", "post", "201"),
        &got,
        "allocate",
    )
    .unwrap();
    assert_eq!(got["ip_address"], "10.9.8.21");
    assert_eq!(got["skipped"][0]["ip_address"], STRAY_IP);

    // Prometheus stops: the map still answers, quickly, with documented cells; next-free no
    // longer knows what is alive, and says so.
    stack.prometheus.kill();
    std::thread::sleep(Duration::from_millis(1100)); // the TTL
    let t = Instant::now();
    let r = get(&srv, &format!("/api/v1/ranges/{id}/map"), Some(&viewer));
    assert!(t.elapsed() < Duration::from_secs(4), "{:?}", t.elapsed());
    assert_eq!(r.status, 200, "{}", r.text());
    let map = r.json();
    assert_eq!(
        map["prometheus"]["reachable"], false,
        "{}",
        map["prometheus"]
    );
    assert!(map["prometheus"]["error"]
        .as_str()
        .unwrap()
        .starts_with("Prometheus unreachable: "));
    assert_eq!(cell(&map, UP_IP)["state"], "documented");
    assert_eq!(cell(&map, UP_IP)["live"], "unknown");
    assert_eq!(cell(&map, STRAY_IP)["state"], "unused");
    let all = get(&srv, "/api/v1/ranges/utilization", Some(&viewer)).json();
    assert_eq!(
        (
            all["prometheus"]["reachable"].clone(),
            all["ranges"][0]["alive"].clone()
        ),
        (json!(false), Value::Null)
    );
    let next = get(
        &srv,
        &format!("/api/v1/ranges/{id}/next-free"),
        Some(&viewer),
    )
    .json();
    assert_eq!(next["ip_address"], STRAY_IP, "{next}");
    assert_eq!(next["prometheus"]["reachable"], false);
}

#[test]
fn without_liveness_the_map_shows_documented_and_unused_only() {
    let srv = start();
    let (_, editor, viewer) = users(&srv);
    for ip in ["10.5.0.1", "10.5.1.2"] {
        let r = send_json(
            &srv,
            "POST",
            "/api/v1/ip-assets",
            Some(&editor),
            json!({"ip_address": ip, "type": "VM"}),
        );
        assert_eq!(r.status, 201, "{}", r.text());
    }
    let big = send_json(
        &srv,
        "POST",
        "/api/v1/ranges",
        Some(&editor),
        json!({"name": "campus", "cidr": "10.5.0.0/16"}),
    )
    .json();
    let id = big["id"].as_i64().unwrap();
    let map = get(
        &srv,
        &format!("/api/v1/ranges/{id}/map?page=2"),
        Some(&viewer),
    )
    .json();
    assert_eq!(
        (map["page"].as_u64(), map["pages"].as_u64()),
        (Some(2), Some(256))
    );
    assert_eq!(map["prometheus"], Value::Null);
    assert_eq!(map["cells"][0]["ip"], "10.5.1.0");
    assert_eq!(cell(&map, "10.5.1.2")["state"], "documented");
    assert_eq!(
        map["counts"],
        json!({"unused": 255, "up": 0, "down": 0, "alive": 0, "documented": 1})
    );
    let all = get(&srv, "/api/v1/ranges/utilization", Some(&viewer)).json();
    assert_eq!(
        (all["prometheus"].clone(), all["ranges"][0]["alive"].clone()),
        (Value::Null, Value::Null)
    );
    let next = get(
        &srv,
        &format!("/api/v1/ranges/{id}/next-free"),
        Some(&viewer),
    )
    .json();
    assert_eq!(
        (next["ip_address"].as_str(), next["skip_alive"].as_bool()),
        (Some("10.5.0.2"), Some(false))
    );
    let r = get(
        &srv,
        &format!("/api/v1/ranges/{id}/next-free?skip_alive=1"),
        Some(&viewer),
    );
    assert_eq!(
        (r.status, r.error_code()),
        (404, "liveness_not_configured".to_string())
    );
    // An IPv6 /64 is paged by its known addresses.
    let r = send_json(
        &srv,
        "POST",
        "/api/v1/ip-assets",
        Some(&editor),
        json!({"ip_address": "2001:db8::7", "type": "VM"}),
    );
    assert_eq!(r.status, 201);
    let v6 = send_json(
        &srv,
        "POST",
        "/api/v1/ranges",
        Some(&editor),
        json!({"name": "v6", "cidr": "2001:db8::/64"}),
    )
    .json();
    let map = get(
        &srv,
        &format!("/api/v1/ranges/{}/map", v6["id"]),
        Some(&viewer),
    )
    .json();
    assert_eq!(
        (
            map["paging"].as_str(),
            map["cells"].as_array().unwrap().len()
        ),
        (Some("known_addresses"), 1)
    );
}
