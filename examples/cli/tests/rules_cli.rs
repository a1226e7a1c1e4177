//! `ipocket rules` end to end on a real SQLite file and a real rule folder.

use std::path::Path;
use std::process::{Command, Output};

use ipocket_testkit::rules;

fn ipocket(db: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ipocket"))
        .arg("rules")
        .arg("--db")
        .arg(db)
        .args(args)
        .env_remove("IPOCKET_DB")
        .env_remove("IPOCKET_PROMETHEUS_TOKEN")
        .env_remove("IPOCKET_PROMETHEUS_CA_FILE")
        .env_remove("IPOCKET_PROMETHEUS_INSECURE")
        .output()
        .expect("the ipocket binary runs")
}

fn ok(db: &Path, args: &[&str]) -> String {
    let out = ipocket(db, args);
    assert!(
        out.status.success(),
        "ipocket rules {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn templates_rules_groups_targets_generate_and_effective() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ipocket.db");
    let rules_dir = dir.path().join("rules");
    std::fs::create_dir(&rules_dir).unwrap();
    ok(&db, &["settings", "rule_dir", rules_dir.to_str().unwrap()]);
    let settings: serde_json::Value = serde_json::from_str(&ok(
        &db,
        &["settings", "prometheus_rule_dir", "/etc/prometheus/rules"],
    ))
    .unwrap();
    assert_eq!(settings["prometheus_rule_dir"], "/etc/prometheus/rules");
    ok(&db, &["settings", "prometheus_rule_dir", ""]);

    let group: serde_json::Value =
        serde_json::from_str(&ok(&db, &["groups", "add", "prod"])).unwrap();
    assert_eq!(group["name"], "prod");
    ok(
        &db,
        &[
            "targets",
            "add",
            "web-1",
            "10.0.0.5:9100",
            "--group",
            "prod",
        ],
    );

    let template = dir.path().join("node-down.yaml");
    std::fs::write(
        &template,
        "name: NodeDown\n\
         query_template: 'up{group_id=\"{{.group_id}}\"} < {{.threshold}}'\n\
         default_vars: {threshold: \"1\"}\n\
         for_duration: 5m\n\
         severity: critical\n\
         annotations: {summary: 'Node {{ $labels.instance }} is down'}\n",
    )
    .unwrap();
    ok(&db, &["templates", "add", template.to_str().unwrap()]);
    ok(
        &db,
        &["rules", "add", "prod", "NodeDown", "--var", "threshold=2"],
    );

    let dry = ok(&db, &["generate", "--dry-run"]);
    assert!(dry.contains("create group-1.yml (1 rules)"), "{dry}");
    assert!(dry.contains("+  - alert: NodeDown"), "{dry}");
    assert!(
        !rules_dir.join("group-1.yml").exists(),
        "a dry run writes nothing"
    );

    let done = ok(&db, &["generate"]);
    assert!(done.contains("create group-1.yml"), "{done}");
    let file = std::fs::read_to_string(rules_dir.join("group-1.yml")).unwrap();
    assert!(file.contains(r#"expr: up{group_id="1"} < 2"#), "{file}");
    assert!(ok(&db, &["generate"]).contains("unchanged group-1.yml"));

    let files: serde_json::Value = serde_json::from_str(&ok(&db, &["files"])).unwrap();
    assert_eq!(files[0]["file_name"], "group-1.yml");
    assert_eq!(files[0]["rule_count"], 1);

    let effective: serde_json::Value =
        serde_json::from_str(&ok(&db, &["effective", "web-1"])).unwrap();
    assert_eq!(effective["target"]["hostname"], "web-1");
    assert_eq!(effective["rules"].as_array().unwrap().len(), 1);

    // Disabling the only rule empties the group: its file goes away.
    ok(&db, &["rules", "disable", "1"]);
    assert!(ok(&db, &["generate"]).contains("remove group-1.yml"));
    assert!(!rules_dir.join("group-1.yml").exists());
}

#[test]
fn a_bad_rule_is_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ipocket.db");
    let rules_dir = dir.path().join("rules");
    std::fs::create_dir(&rules_dir).unwrap();
    ok(&db, &["settings", "rule_dir", rules_dir.to_str().unwrap()]);
    ok(&db, &["groups", "add", "prod"]);
    let template = dir.path().join("t.yaml");
    std::fs::write(&template, "name: Broken\nquery_template: 'rate(up[5m]'\n").unwrap();
    ok(&db, &["templates", "add", template.to_str().unwrap()]);
    ok(&db, &["rules", "add", "prod", "Broken"]);

    let out = ipocket(&db, &["generate"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("Broken"), "the error names the rule: {err}");
    assert_eq!(
        std::fs::read_dir(&rules_dir).unwrap().count(),
        0,
        "nothing written"
    );
}

#[test]
fn status_of_an_unreachable_prometheus_fails() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ipocket.db");
    // A port nobody listens on: bind one, note it, close it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    ok(
        &db,
        &[
            "settings",
            "prometheus_url",
            &format!("http://127.0.0.1:{port}"),
        ],
    );
    let out = ipocket(&db, &["status"]);
    assert_eq!(out.status.code(), Some(1));
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(status["reachable"], false);
}

#[test]
fn generate_then_reload_a_real_prometheus() {
    rules::require_peer();
    let prometheus = rules::Prometheus::start();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ipocket.db");
    ok(
        &db,
        &[
            "settings",
            "rule_dir",
            prometheus.rules_dir.to_str().unwrap(),
        ],
    );
    ok(&db, &["settings", "prometheus_url", &prometheus.url]);
    ok(&db, &["settings", "promtool", rules::PROMTOOL]);
    ok(&db, &["groups", "add", "edge"]);
    let template = dir.path().join("t.yaml");
    std::fs::write(&template, "name: TargetDown\nquery_template: 'up == 0'\n").unwrap();
    ok(&db, &["templates", "add", template.to_str().unwrap()]);
    ok(&db, &["rules", "add", "edge", "TargetDown"]);
    ok(&db, &["generate"]);

    let report: serde_json::Value = serde_json::from_str(&ok(&db, &["reload"])).unwrap();
    assert_eq!(
        report["confirmed_groups"],
        serde_json::json!(["ipocket/edge"])
    );
    let status: serde_json::Value = serde_json::from_str(&ok(&db, &["status"])).unwrap();
    assert_eq!(status["ready"], true);
    // The last generation run, as the server's status shows it.
    assert_eq!(status["last_run"]["trigger"], "cli", "{status}");
    assert_eq!(status["last_run"]["ok"], true, "{status}");
    assert_eq!(
        status["last_run"]["files_written"],
        serde_json::json!(["group-1.yml"])
    );
    assert!(prometheus.rules_json().to_string().contains("TargetDown"));
}

/// Seed 002 (AAMI): a target added without groups gets its own group; a rule there with
/// `--merge-strategy merge` wins over the shared group's at equal priority and takes in
/// its variables; `--priority` above it makes the shared rule win again.
#[test]
fn own_groups_priority_and_merge_in_effective_rules() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ipocket.db");
    ok(&db, &["groups", "add", "prod"]);
    let target: serde_json::Value =
        serde_json::from_str(&ok(&db, &["targets", "add", "web-1", "10.0.0.5"])).unwrap();
    let groups: serde_json::Value = serde_json::from_str(&ok(&db, &["groups", "list"])).unwrap();
    let own = &groups[1];
    assert_eq!(
        (own["name"].as_str(), own["is_default_own"].as_bool()),
        (Some("target-web-1"), Some(true))
    );
    assert_eq!(target["group_ids"], serde_json::json!([own["id"]]));
    ok(
        &db,
        &[
            "targets",
            "set-groups",
            "web-1",
            "--group",
            "prod",
            "--group",
            "target-web-1",
        ],
    );
    let template = dir.path().join("t.yaml");
    std::fs::write(
        &template,
        "name: Load\nquery_template: 'load1 > {{.max}} and on() vector({{.min}})'\n\
         default_vars: {max: \"1\", min: \"0\"}\n",
    )
    .unwrap();
    ok(&db, &["templates", "add", template.to_str().unwrap()]);
    ok(
        &db,
        &[
            "rules", "add", "prod", "Load", "--var", "max=8", "--var", "min=2",
        ],
    );
    ok(
        &db,
        &[
            "rules",
            "add",
            "target-web-1",
            "Load",
            "--var",
            "max=16",
            "--merge-strategy",
            "merge",
        ],
    );
    let eff: serde_json::Value = serde_json::from_str(&ok(&db, &["effective", "web-1"])).unwrap();
    assert_eq!(eff["rules"].as_array().unwrap().len(), 1, "{eff}");
    let rule = &eff["rules"][0];
    assert_eq!(rule["source"]["group_name"], "target-web-1");
    assert_eq!(rule["expr"], "load1 > 16 and on() vector(2)", "{rule}");
    assert_eq!(rule["merged_from"], serde_json::json!([1]));
    assert_eq!(eff["overridden"][0]["rule_id"], 1);

    let raise = dir.path().join("r.yaml");
    std::fs::write(
        &raise,
        "group_id: 1\ntemplate_id: 1\nvars: {max: \"8\", min: \"2\"}\npriority: 500\n",
    )
    .unwrap();
    ok(&db, &["rules", "update", "1", raise.to_str().unwrap()]);
    let eff: serde_json::Value = serde_json::from_str(&ok(&db, &["effective", "web-1"])).unwrap();
    assert_eq!(eff["rules"][0]["source"]["group_name"], "prod", "{eff}");
    assert_eq!(eff["rules"][0]["expr"], "load1 > 8 and on() vector(2)");
    let out = ipocket(
        &db,
        &[
            "rules",
            "add",
            "prod",
            "Load",
            "--merge-strategy",
            "sideways",
        ],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("sideways"));
}

#[test]
fn reload_and_status_of_a_prometheus_behind_tls_and_basic_auth() {
    let prometheus = rules::Prometheus::start_tls();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ipocket.db");
    let rule_dir = prometheus.rules_dir.to_str().unwrap();
    ok(&db, &["settings", "rule_dir", rule_dir]);
    ok(&db, &["settings", "prometheus_url", &prometheus.url]);
    ok(&db, &["settings", "promtool", rules::PROMTOOL]);
    ok(&db, &["groups", "add", "edge"]);
    let template = dir.path().join("t.yaml");
    std::fs::write(&template, "name: TargetDown\nquery_template: 'up == 0'\n").unwrap();
    ok(&db, &["templates", "add", template.to_str().unwrap()]);
    ok(&db, &["rules", "add", "edge", "TargetDown"]);
    ok(&db, &["generate"]);
    let ca = prometheus.cert_file();
    let ca = ca.to_str().unwrap();

    let flags = ["--token", "prom_user:prom_pass", "--ca-file", ca];
    let report: serde_json::Value =
        serde_json::from_str(&ok(&db, &[&["reload"][..], &flags].concat())).unwrap();
    assert_eq!(
        report["confirmed_groups"],
        serde_json::json!(["ipocket/edge"])
    );

    // The same options from the environment; --insecure instead of the CA file.
    let out = Command::new(env!("CARGO_BIN_EXE_ipocket"))
        .args(["rules", "--db"])
        .arg(&db)
        .arg("status")
        .env("IPOCKET_PROMETHEUS_TOKEN", "prom_user:prom_pass")
        .env("IPOCKET_PROMETHEUS_INSECURE", "true")
        .env_remove("IPOCKET_PROMETHEUS_CA_FILE")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(status["ready"], true, "{status}");

    // A wrong password: a clear 401, the password never printed.
    let out = ipocket(
        &db,
        &["reload", "--token", "prom_user:wrong-pass", "--ca-file", ca],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("401") && err.contains("credentials"), "{err}");
    assert!(!err.contains("wrong-pass"), "{err}");
}
