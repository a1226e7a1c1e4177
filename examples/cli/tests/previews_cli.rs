//! `ipocket sd preview` and `ipocket rules preview` as processes, against Debian's real
//! Prometheus scraping the real node_exporter and closed loopback ports
//! (ipocket_testkit::liveness), then with Prometheus stopped.

use std::path::Path;
use std::process::{Command, Output};

use ipocket_testkit::liveness::{LiveStack, DOWN_IP, UNSCRAPED_IP, UP_IP};
use ipocket_testkit::stub::{Canned, Stub};
use serde_json::Value;

fn ipocket(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ipocket"))
        .args(args)
        .env_remove("IPOCKET_DB")
        .env_remove("INVENTORY_URL")
        .env_remove("IPOCKET_PROMETHEUS_URL")
        .env_remove("IPOCKET_PROMETHEUS_TOKEN")
        .env_remove("IPOCKET_PROMETHEUS_CA_FILE")
        .env_remove("IPOCKET_PROMETHEUS_INSECURE")
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

fn row<'a>(p: &'a Value, target: &str) -> &'a Value {
    p["targets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["target"] == target)
        .unwrap_or_else(|| panic!("no {target} in {p}"))
}

#[test]
fn sd_preview_flags_duplicates_and_port_less_targets_with_live_states_then_unknown() {
    let mut stack = LiveStack::start();
    let url = stack.url();
    // An http_sd source whose target groups pass through `sd write` as they come: a
    // repeated target (in two groups) and one without a port.
    let groups = format!(
        r#"[{{"targets":["{UP_IP}:9100","{DOWN_IP}:9100"],"labels":{{"env":"a"}}}},
            {{"targets":["{UP_IP}:9100","{UNSCRAPED_IP}"],"labels":{{"env":"b"}}}}]"#
    );
    let source = Stub::start(Canned {
        status: 200,
        content_type: "application/json",
        body: groups,
        delay: std::time::Duration::ZERO,
        require_auth: None,
    });
    let inventory = format!("{}/targets.json", source.url());
    let args = |extra: &[&str]| {
        let mut a = vec![
            "sd",
            "preview",
            "--inventory-url",
            &inventory,
            "--prometheus-url",
            &url,
            "--window",
            "1h",
            "--step",
            "1s",
        ];
        a.extend_from_slice(extra);
        a.iter().map(|s| s.to_string()).collect::<Vec<_>>()
    };
    let run = |extra: &[&str]| {
        let a = args(extra);
        ipocket(&a.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let p: Value = serde_json::from_str(&ok(&run(&["--json"]))).unwrap();
    assert_eq!(p["group_count"], 2, "{p}");
    assert_eq!(p["target_count"], 4);
    assert_eq!(p["duplicates"], 2);
    assert_eq!(p["port_less"], 1);
    let up = row(&p, &format!("{UP_IP}:9100"));
    assert_eq!(
        (up["state"].as_str(), up["duplicate"].as_bool()),
        (Some("up"), Some(true))
    );
    assert_eq!(up["matched"], "instance");
    assert!(up["last_seen_up"].is_number(), "{up}");
    let down = row(&p, &format!("{DOWN_IP}:9100"));
    assert_eq!(
        (down["state"].as_str(), down["duplicate"].as_bool()),
        (Some("down"), Some(false))
    );
    assert_eq!(down["jobs"], serde_json::json!(["gone"]));
    let bare = row(&p, UNSCRAPED_IP);
    assert_eq!(
        (bare["state"].as_str(), bare["port_less"].as_bool()),
        (Some("not_scraped"), Some(true))
    );
    assert_eq!(p["prometheus"]["reachable"], true);

    // The preview's JSON is, byte for byte, what `sd write` writes.
    let written = ok(&ipocket(&[
        "sd",
        "write",
        "--inventory-url",
        &inventory,
        "--targets-file",
        "-",
    ]));
    assert_eq!(p["json"].as_str().unwrap(), written);

    // The text form: the counts, the flags, the file.
    let text = ok(&run(&[]));
    assert!(
        text.starts_with("2 group(s), 4 target(s), 2 duplicate, 1 port-less; up=2 down=1 not_scraped=1 unknown=0"),
        "{text}"
    );
    assert!(text.contains("duplicate"), "{text}");
    assert!(text.contains("no-port"), "{text}");
    assert!(text.ends_with(&written), "{text}");

    // Prometheus stopped: every state unknown, still an answer (exit 0).
    stack.prometheus.kill();
    let p: Value =
        serde_json::from_str(&ok(&run(&["--json", "--prometheus-timeout", "2"]))).unwrap();
    assert_eq!(p["prometheus"]["reachable"], false);
    assert!(
        p["prometheus"]["error"]
            .as_str()
            .unwrap()
            .starts_with("Prometheus unreachable"),
        "{p}"
    );
    assert_eq!(p["states"]["unknown"], 4);
    assert_eq!(p["duplicates"], 2);
}

fn rules(db: &Path, args: &[&str]) -> Output {
    let mut a = vec!["rules", "--db", db.to_str().unwrap()];
    a.extend_from_slice(args);
    ipocket(&a)
}

#[test]
fn rules_preview_evaluates_the_expression_in_the_real_prometheus() {
    let mut stack = LiveStack::start();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rules.db");
    ok(&rules(&db, &["settings", "prometheus_url", &stack.url()]));
    ok(&rules(&db, &["groups", "add", "edge"]));
    for (name, expr, for_duration) in [
        ("NodeDown", "up == 0", "for_duration: 1m\n"),
        ("NodeUp", "up == 1", ""),
        // parses (so it is stored), but Prometheus refuses to evaluate it: `on()` makes
        // every series match every other
        ("Clash", "up * on() up", ""),
    ] {
        let file = dir.path().join(format!("{name}.yaml"));
        std::fs::write(
            &file,
            format!("name: {name}\nquery_template: '{expr}'\n{for_duration}"),
        )
        .unwrap();
        ok(&rules(&db, &["templates", "add", file.to_str().unwrap()]));
        ok(&rules(&db, &["rules", "add", "edge", name]));
    }

    let p: Value =
        serde_json::from_str(&ok(&rules(&db, &["preview", "NodeDown", "--json"]))).unwrap();
    let mut instances: Vec<&str> = p["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["labels"]["instance"].as_str().unwrap())
        .collect();
    instances.sort_unstable();
    // the closed ports: `gone` (10.9.8.8) and `wrongport` (10.9.8.7:9999)
    assert_eq!(
        instances,
        [format!("{UP_IP}:9999"), format!("{DOWN_IP}:9100")],
        "{p}"
    );
    assert_eq!(p["verdict"], "matches now for 2 series; fires after 1m");
    assert_eq!(p["expr"], "up == 0");

    let text = ok(&rules(&db, &["preview", "NodeUp"]));
    assert!(text.contains("would fire now for 2 series"), "{text}");
    assert!(
        text.contains(&format!("instance=\"{UP_IP}:9100\"")),
        "{text}"
    );

    // Prometheus's own error text, exit status 2.
    let o = rules(&db, &["preview", "Clash", "--json"]);
    assert_eq!(o.status.code(), Some(2));
    let p: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(p["evaluated"], false);
    let e = p["error"].as_str().unwrap();
    assert!(
        e.starts_with("Prometheus refused the query (422 execution): ")
            && e.contains("many-to-many"),
        "{e}"
    );

    stack.prometheus.kill();
    let o = rules(&db, &["preview", "NodeUp"]);
    assert_eq!(o.status.code(), Some(2));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("not evaluated: request GET"), "{text}");
}
