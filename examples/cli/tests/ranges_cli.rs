//! `ipocket ranges list | map | next-free` as processes, against Debian's real Prometheus
//! scraping the real node_exporter and closed loopback ports (ipocket_testkit::liveness), then
//! without Prometheus.

use std::process::{Command, Output};

use ipocket_testkit::liveness::{
    LiveStack, DOWN_IP, INVENTORY_BUNDLE, STRAY_IP, UNSCRAPED_IP, UP_IP,
};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_ipocket");

fn ipocket(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_remove("IPOCKET_DB")
        .env_remove("IPOCKET_PROMETHEUS_URL")
        .env_remove("IPOCKET_PROMETHEUS_TOKEN")
        .output()
        .unwrap()
}

fn ok(o: &Output) -> String {
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        o.status.success(),
        "{out}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    out
}

fn json(o: &Output) -> Value {
    serde_json::from_str(&ok(o)).unwrap()
}

/// The stack's inventory, the range 10.9.8.0/24, and 10.9.8.1–19 documented (so the first
/// free address is the stray, alive one).
const RANGE_BUNDLE: &str = r#"{"app":"ipocket","schema_version":"1","data":{
  "ip_ranges":[{"name":"lab","cidr":"10.9.8.0/24"}],
  "ip_assets":[
    {"ip_address":"10.9.8.1","type":"VM"},{"ip_address":"10.9.8.2","type":"VM"},
    {"ip_address":"10.9.8.3","type":"VM"},{"ip_address":"10.9.8.4","type":"VM"},
    {"ip_address":"10.9.8.5","type":"VM"},{"ip_address":"10.9.8.6","type":"VM"},
    {"ip_address":"10.9.8.10","type":"VM"},{"ip_address":"10.9.8.11","type":"VM"},
    {"ip_address":"10.9.8.12","type":"VM"},{"ip_address":"10.9.8.13","type":"VM"},
    {"ip_address":"10.9.8.14","type":"VM"},{"ip_address":"10.9.8.15","type":"VM"},
    {"ip_address":"10.9.8.16","type":"VM"},{"ip_address":"10.9.8.17","type":"VM"},
    {"ip_address":"10.9.8.18","type":"VM"},{"ip_address":"10.9.8.19","type":"VM"}]}}"#;

#[test]
fn ranges_list_map_and_next_free_from_the_real_stack_and_without_prometheus() {
    let stack = LiveStack::start();
    let url = stack.url();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("inv.db");
    let db = db.to_str().unwrap();
    for (name, body) in [("a.json", INVENTORY_BUNDLE), ("b.json", RANGE_BUNDLE)] {
        let f = dir.path().join(name);
        std::fs::write(&f, body).unwrap();
        ok(&ipocket(&[
            "import",
            "--db",
            db,
            "--apply",
            f.to_str().unwrap(),
        ]));
    }
    let live = |rest: &[&str]| {
        let mut a = vec!["ranges"];
        a.extend_from_slice(rest);
        a.extend_from_slice(&[
            "--db",
            db,
            "--prometheus-url",
            &url,
            "--window",
            "1h",
            "--step",
            "1s",
        ]);
        ipocket(&a)
    };

    // list: both utilizations (19 documented of 254, 2 alive, 1 of them undocumented)
    let v = json(&live(&["list", "--json"]));
    let lab = &v["ranges"][0];
    assert_eq!(lab["used"], 19, "{v}");
    assert_eq!(lab["alive"]["alive"], 2, "{v}");
    assert_eq!(lab["alive"]["undocumented_alive"], 1);
    let text = ok(&live(&["list"]));
    assert!(
        text.contains("10.9.8.0/24") && text.contains("7.5%") && text.contains("0.8%"),
        "{text}"
    );

    // map, by CIDR (any spelling) or id
    let m = json(&live(&["map", "10.9.8.77/24", "--json"]));
    let state = |ip: &str| {
        m["cells"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["ip"] == ip)
            .map(|c| c["state"].as_str().unwrap().to_string())
            .unwrap()
    };
    assert_eq!(state(UP_IP), "up");
    assert_eq!(state(DOWN_IP), "down");
    assert_eq!(state(UNSCRAPED_IP), "down");
    assert_eq!(state(STRAY_IP), "alive");
    assert_eq!(state("10.9.8.30"), "unused");
    let text = ok(&live(&["map", "1"]));
    // row 10.9.8.16: .16–.19 documented and not scraped (D), .20 alive (A), the rest unused
    assert!(
        text.contains("10.9.8.16") && text.contains("D D D D A . ."),
        "{text}"
    );
    assert!(
        text.contains("unused=236 up=1 down=18 alive=1 documented=0"),
        "{text}"
    );

    // next-free passes over the stray, and says why; --no-skip-alive does not
    let text = ok(&live(&["next-free", "1"]));
    assert!(
        text.starts_with(
            "10.9.8.21\nskipped 10.9.8.20: undocumented but up in Prometheus (job stray"
        ),
        "{text}"
    );
    let v = json(&live(&["next-free", "1", "--no-skip-alive", "--json"]));
    assert_eq!(
        (v["ip_address"].as_str(), v["skip_alive"].as_bool()),
        (Some(STRAY_IP), Some(false))
    );

    // without --prometheus-url: the inventory's side only
    let m = json(&ipocket(&[
        "ranges",
        "map",
        "10.9.8.0/24",
        "--db",
        db,
        "--json",
    ]));
    assert_eq!(m["prometheus"], Value::Null);
    assert_eq!(m["counts"]["documented"], 19);
    let text = ok(&ipocket(&["ranges", "next-free", "1", "--db", db]));
    assert_eq!(text, "10.9.8.20\n");
    let text = ok(&ipocket(&["ranges", "list", "--db", db]));
    assert!(text.starts_with("liveness off"), "{text}");
    let o = ipocket(&["ranges", "map", "10.7.0.0/24", "--db", db]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("no range 10.7.0.0/24"));
    let o = ipocket(&["ranges", "map", "1", "--page", "2", "--db", db]);
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("page: expected a page from 1 to 1, found 2")
    );
}
