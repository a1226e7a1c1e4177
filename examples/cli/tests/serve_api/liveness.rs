//! `GET /api/v1/liveness`, `GET /api/v1/reconcile`, `POST /api/v1/reconcile/apply` and the
//! drift gauges of `/metrics`, against the real Prometheus scraping the real node_exporter
//! and closed loopback ports (ipocket_testkit::liveness), then with Prometheus stopped.

use std::time::{Duration, Instant};

use ipocket_testkit::liveness::{LiveStack, DOWN_IP, STRAY_IP, UNSCRAPED_IP, UP_IP};
use serde_json::Value;

use crate::common::*;
use crate::openapi::conforms;

fn ips(v: &Value, list: &str) -> Vec<String> {
    v[list]
        .as_array()
        .unwrap_or_else(|| panic!("{list}: {v}"))
        .iter()
        .map(|x| x["ip"].as_str().unwrap().to_string())
        .collect()
}

fn gauge(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .map(|v| v.parse().unwrap())
}

#[test]
fn liveness_reconcile_apply_and_gauges_from_the_real_stack_then_unreachable() {
    let mut stack = LiveStack::start();
    let url = stack.url();
    let (srv, (admin, editor, viewer)) = start_live(&url, "2", &["--reconcile-down-days", "0.5"]);
    let doc = get(&srv, "/api/v1/openapi.json", None).json();
    let schema = |pattern: &str, method: &str| {
        doc["paths"][pattern][method]["responses"]["200"]["content"]["application/json"]["schema"]
            .clone()
    };

    // liveness, read by a viewer; anonymous is refused
    assert_eq!(get(&srv, "/api/v1/liveness", None).status, 401);
    let r = get(&srv, "/api/v1/liveness", Some(&viewer));
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    conforms(&doc, &schema("/api/v1/liveness", "get"), &v, "liveness").unwrap();
    let state = |ip: &str| {
        v["addresses"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["ip"] == ip)
            .map(|a| a["state"].as_str().unwrap().to_string())
    };
    assert_eq!(state(UP_IP).as_deref(), Some("up"), "{v}");
    assert_eq!(state(DOWN_IP).as_deref(), Some("down"));
    assert_eq!(state(UNSCRAPED_IP).as_deref(), Some("not_scraped"));
    assert_eq!(state(STRAY_IP).as_deref(), Some("up"));

    // the three lists
    let r = get(&srv, "/api/v1/reconcile", Some(&viewer));
    let lists = r.json();
    conforms(
        &doc,
        &schema("/api/v1/reconcile", "get"),
        &lists,
        "reconcile",
    )
    .unwrap();
    assert_eq!(ips(&lists, "unknown"), [STRAY_IP]);
    assert_eq!(ips(&lists, "reclaimable"), [DOWN_IP, UNSCRAPED_IP]);
    let kinds: Vec<&str> = lists["mismatch"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["project", "host", "never_up"], "{lists}");
    assert_eq!(lists["down_after_seconds"], 43_200);

    // the drift gauges (the first scrape may come before the first answer: poll)
    let deadline = Instant::now() + Duration::from_secs(10);
    let metrics = loop {
        let text = get(&srv, "/metrics", Some(&admin)).text();
        if gauge(&text, "ipam_ip_alive_total").is_some() {
            break text;
        }
        assert!(Instant::now() < deadline, "no drift gauges: {text}");
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(gauge(&metrics, "ipam_liveness_prometheus_up"), Some(1.0));
    assert_eq!(gauge(&metrics, "ipam_ip_alive_total"), Some(1.0));
    assert_eq!(gauge(&metrics, "ipam_ip_down_total"), Some(1.0));
    assert_eq!(gauge(&metrics, "ipam_ip_not_scraped_total"), Some(1.0));
    assert_eq!(gauge(&metrics, "ipam_ip_unknown_alive_total"), Some(1.0));
    assert_eq!(gauge(&metrics, "ipam_ip_reclaimable_total"), Some(2.0));
    assert_eq!(gauge(&metrics, "ipam_ip_mismatch_total"), Some(3.0));

    // plan (any user), apply (Editor only), through the import engine
    let apply = "/api/v1/reconcile/apply";
    let r = request(
        &srv,
        "POST",
        &format!("{apply}?list=reclaimable"),
        Some(&viewer),
        None,
        b"",
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let plan = r.json();
    assert_eq!(plan["mode"], "dry_run");
    assert_eq!(plan["plan"]["summary"]["ip_assets"]["update"], 2, "{plan}");
    let r = request(
        &srv,
        "POST",
        &format!("{apply}?list=reclaimable&apply=1"),
        Some(&viewer),
        None,
        b"",
    );
    assert_eq!(r.status, 403, "{}", r.text());
    let r = request(
        &srv,
        "POST",
        &format!("{apply}?list=everything"),
        Some(&viewer),
        None,
        b"",
    );
    assert_eq!(r.status, 400, "{}", r.text());
    let r = request(
        &srv,
        "POST",
        &format!("{apply}?list=unknown&apply=1"),
        Some(&editor),
        None,
        b"",
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let done = r.json();
    conforms(&doc, &schema(apply, "post"), &done, "apply").unwrap();
    assert_eq!(done["mode"], "apply");
    assert_eq!(done["plan"]["summary"]["ip_assets"]["create"], 1, "{done}");
    let asset = get(
        &srv,
        &format!("/api/v1/ip-assets/{STRAY_IP}"),
        Some(&viewer),
    )
    .json();
    assert_eq!(asset["type"], "OTHER", "{asset}");
    let audit = get(&srv, "/api/v1/audit-log", Some(&admin)).text();
    assert!(audit.contains("reconcile:unknown"), "{audit}");
    let r = request(
        &srv,
        "POST",
        &format!("{apply}?list=reclaimable&apply=1"),
        Some(&editor),
        None,
        b"",
    );
    assert_eq!(r.json()["plan"]["summary"]["ip_assets"]["update"], 2);
    let archived = get(
        &srv,
        &format!("/api/v1/ip-assets/{UNSCRAPED_IP}"),
        Some(&viewer),
    )
    .json();
    assert_eq!(archived["archived"], true, "{archived}");
    let after = get(&srv, "/api/v1/reconcile", Some(&viewer)).json();
    assert_eq!(ips(&after, "unknown"), Vec::<String>::new(), "{after}");
    assert_eq!(ips(&after, "reclaimable"), Vec::<String>::new(), "{after}");
    // mismatch: a dry run shows the project and host taken from the labels (both created)
    let r = request(
        &srv,
        "POST",
        &format!("{apply}?list=mismatch"),
        Some(&viewer),
        None,
        b"",
    );
    let plan = r.json();
    assert_eq!(plan["plan"]["summary"]["ip_assets"]["update"], 1, "{plan}");
    assert_eq!(plan["plan"]["summary"]["projects"]["create"], 1, "{plan}");
    assert_eq!(plan["plan"]["summary"]["hosts"]["create"], 1, "{plan}");

    // Prometheus stops: 200 with unknown, quickly; no list; apply refused; gauge 0
    stack.prometheus.kill();
    std::thread::sleep(Duration::from_millis(1100)); // the TTL
    let t = Instant::now();
    let r = get(&srv, "/api/v1/liveness", Some(&viewer));
    assert!(t.elapsed() < Duration::from_secs(4), "{:?}", t.elapsed());
    let v = r.json();
    assert_eq!(v["prometheus"]["reachable"], false, "{v}");
    assert!(v["prometheus"]["error"]
        .as_str()
        .unwrap()
        .starts_with("Prometheus unreachable: "));
    assert!(v["addresses"]
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a["state"] == "unknown"));
    let lists = get(&srv, "/api/v1/reconcile", Some(&viewer)).json();
    assert!(ips(&lists, "reclaimable").is_empty() && ips(&lists, "unknown").is_empty());
    let r = request(
        &srv,
        "POST",
        &format!("{apply}?list=reclaimable&apply=1"),
        Some(&editor),
        None,
        b"",
    );
    assert_eq!(
        (r.status, r.error_code()),
        (502, "prometheus_failed".to_string())
    );
    let text = get(&srv, "/metrics", Some(&admin)).text();
    assert_eq!(
        gauge(&text, "ipam_liveness_prometheus_up"),
        Some(0.0),
        "{text}"
    );
    assert_eq!(
        gauge(&text, "ipam_ip_alive_total"),
        None,
        "absent while unknown"
    );
}

#[test]
fn without_the_flag_liveness_is_off_and_a_url_outside_the_allow_list_does_not_start() {
    let srv = start();
    let (_, _, viewer) = users(&srv);
    let r = get(&srv, "/api/v1/liveness", Some(&viewer));
    assert_eq!(
        (r.status, r.error_code()),
        (404, "liveness_not_configured".to_string())
    );
    assert!(!get(&srv, "/metrics", Some(&viewer))
        .text()
        .contains("ipam_liveness"));
    let dir = tempfile::tempdir().unwrap();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_ipocket"))
        .args(["serve", "--listen", "127.0.0.1:0", "--db"])
        .arg(dir.path().join("x.db"))
        .args([
            "--liveness-prometheus-url",
            "http://127.0.0.1:9/",
            "--connector-allow",
            "prom.lan",
        ])
        .env_remove("IPOCKET_DB")
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("--liveness-prometheus-url is not in --connector-allow"),
        "{err}"
    );
}
