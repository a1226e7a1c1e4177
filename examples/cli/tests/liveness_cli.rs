//! `ipocket liveness` and `ipocket reconcile` as processes, against Debian's real Prometheus
//! scraping the real node_exporter and closed loopback ports (ipocket_testkit::liveness).

use std::process::{Command, Output};
use std::time::{Duration, Instant};

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

#[test]
fn liveness_and_the_three_lists_from_the_real_stack_then_unknown_when_prometheus_stops() {
    let mut stack = LiveStack::start();
    let url = stack.url();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("inv.db");
    let db = db.to_str().unwrap();
    let bundle = dir.path().join("b.json");
    std::fs::write(&bundle, INVENTORY_BUNDLE).unwrap();
    ok(&ipocket(&[
        "import",
        "--db",
        db,
        "--apply",
        bundle.to_str().unwrap(),
    ]));
    let common = |cmd: &str| {
        vec![
            cmd.to_string(),
            "--prometheus-url".into(),
            url.clone(),
            "--db".into(),
            db.to_string(),
            "--window".into(),
            "1h".into(),
            "--step".into(),
            "1s".into(),
        ]
    };
    let run = |cmd: &str, rest: &[&str]| {
        let mut a = common(cmd);
        a.extend(rest.iter().map(|s| s.to_string()));
        ipocket(&a.iter().map(String::as_str).collect::<Vec<_>>())
    };

    // liveness: every state but unknown
    let v = json(&run("liveness", &["--json"]));
    assert_eq!(v["prometheus"]["reachable"], true, "{v}");
    let by_ip = |ip: &str| {
        v["addresses"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["ip"] == ip)
            .cloned()
            .unwrap_or_else(|| panic!("{ip} missing: {v}"))
    };
    let up = by_ip(UP_IP);
    assert_eq!(up["state"], "up");
    assert_eq!(up["jobs"], serde_json::json!(["node", "wrongport"]));
    assert_eq!(up["documented"], true);
    let last = up["last_seen_up"].as_f64().unwrap();
    let now = v["prometheus"]["fetched_at"].as_f64().unwrap();
    assert!((now - last).abs() < 30.0, "last seen up {last}, now {now}");
    assert_eq!(by_ip(DOWN_IP)["state"], "down");
    assert_eq!(by_ip(DOWN_IP)["last_seen_up"], Value::Null);
    assert_eq!(by_ip(UNSCRAPED_IP)["state"], "not_scraped");
    assert_eq!(by_ip(STRAY_IP)["state"], "up");
    assert_eq!(by_ip(STRAY_IP)["documented"], false);
    let table = ok(&run("liveness", &[]));
    assert!(
        table.contains("up=2 down=1 not_scraped=1 unknown=0"),
        "{table}"
    );

    // reconcile: each list
    let r = json(&run("reconcile", &["--json", "--down-days", "1"]));
    let ips = |list: &str| -> Vec<String> {
        r[list]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["ip"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(ips("unknown"), [STRAY_IP]);
    assert_eq!(ips("reclaimable"), [DOWN_IP, UNSCRAPED_IP]);
    let mismatch: Vec<(String, String)> = r["mismatch"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["kind"].as_str().unwrap().into(),
                m["job"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        mismatch,
        [
            ("project".to_string(), "node".to_string()),
            ("host".into(), "node".into()),
            ("never_up".into(), "wrongport".into()),
        ],
        "{r}"
    );

    // the import engine's plan, then the apply, of each list
    let plan = ok(&run("reconcile", &["--plan", "reclaimable"]));
    assert!(
        plan.contains(&format!("- [UPDATE] {DOWN_IP}: archived false -> true")),
        "{plan}"
    );
    assert!(
        plan.contains("Import mode: dry-run. Summary create=0, update=2, skip=0."),
        "{plan}"
    );
    let applied = ok(&run(
        "reconcile",
        &["--apply", "unknown", "--asset-type", "VM"],
    ));
    assert!(
        applied.contains(&format!("- [CREATE] {STRAY_IP}: ")),
        "{applied}"
    );
    assert!(
        applied.contains("Import mode: apply (audit entry "),
        "{applied}"
    );
    ok(&run("reconcile", &["--apply", "reclaimable"]));
    let applied = ok(&run("reconcile", &["--apply", "mismatch"]));
    assert!(
        applied.contains(&format!("- [UPDATE] {UP_IP}: ")),
        "{applied}"
    );
    let after = json(&run("reconcile", &["--json"]));
    assert_eq!(after["unknown"], serde_json::json!([]), "{after}");
    assert_eq!(after["reclaimable"], serde_json::json!([]), "{after}");
    let left: Vec<_> = after["mismatch"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["kind"].as_str().unwrap())
        .collect();
    assert_eq!(left, ["never_up"], "project and host taken: {after}");
    let exported = ok(&ipocket(&[
        "export",
        "--db",
        db,
        "ip-assets.json",
        "--include-archived",
    ]));
    assert!(exported.contains(STRAY_IP), "{exported}");

    // Prometheus stops: unknown, quickly, and no list
    stack.prometheus.kill();
    let t = Instant::now();
    let v = json(&run("liveness", &["--json", "--timeout", "2"]));
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    assert_eq!(v["prometheus"]["reachable"], false);
    let e = v["prometheus"]["error"].as_str().unwrap();
    assert!(e.starts_with("Prometheus unreachable: "), "{e}");
    assert!(
        v["addresses"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["state"] == "unknown"),
        "{v}"
    );
    let r = ok(&run("reconcile", &[]));
    assert!(r.starts_with("unknown: Prometheus unreachable: "), "{r}");
    let o = run("reconcile", &["--apply", "reclaimable"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr)
        .contains("nothing to plan or apply: Prometheus unreachable"));
}
