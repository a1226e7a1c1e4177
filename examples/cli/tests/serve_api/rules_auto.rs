//! Automatic regeneration (issue #19 item 14, seed 002's data flow) against Debian's real
//! Prometheus: rule writes through the API reach Prometheus without a regenerate call, a
//! burst of writes is one or two runs, and the runs show in the status and in /metrics.

use std::time::{Duration, Instant};

use ipocket_testkit::rules;
use serde_json::{json, Value};

use crate::common::*;

/// The value of the sample `series` (name and labels as written) in a /metrics text.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

fn auto_runs(srv: &Server, token: Option<&str>) -> f64 {
    let text = get(srv, "/metrics", token).text();
    sample(&text, "ipocket_rule_generations_total{trigger=\"auto\"}").expect(&text)
}

/// Waits until the status says no write is pending and the last run covers them.
fn settled(srv: &Server, token: Option<&str>) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let v = get(srv, "/api/v1/prometheus/status", token).json();
        let g = &v["generation"];
        if g["pending_writes"] == 0 && g["last_run"].is_object() {
            return g.clone();
        }
        assert!(Instant::now() < deadline, "never settled: {v}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The `expr` of the alert `name` as Prometheus has loaded it.
fn loaded_expr(prom: &rules::Prometheus, name: &str) -> Option<String> {
    let v = prom.rules_json();
    v["data"]["groups"]
        .as_array()?
        .iter()
        .flat_map(|g| g["rules"].as_array().cloned().unwrap_or_default())
        .find(|r| r["name"] == name)
        .and_then(|r| r["query"].as_str().map(str::to_string))
}

/// Creates a group, an `up == 0` template named `alert` and a rule of it in the group.
fn add_rule(srv: &Server, token: Option<&str>, group: &str, alert: &str) {
    let r = send_json(
        srv,
        "POST",
        "/api/v1/alert-groups",
        token,
        json!({"name": group}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let group_id = r.json()["id"].as_i64().unwrap();
    let template = json!({"name": alert, "query_template": "up == 0"});
    let r = send_json(srv, "POST", "/api/v1/alert-templates", token, template);
    assert_eq!(r.status, 201, "{}", r.text());
    let template_id = r.json()["id"].as_i64().unwrap();
    let rule = json!({"group_id": group_id, "template_id": template_id});
    let r = send_json(srv, "POST", "/api/v1/alert-rules", token, rule);
    assert_eq!(r.status, 201, "{}", r.text());
}

#[test]
fn rule_writes_regenerate_and_reload_by_themselves_debounced() {
    rules::require_peer();
    let prom = rules::Prometheus::start();
    let rules_dir = prom.rules_dir.to_str().unwrap().to_string();
    let srv = start_with(
        &[
            "--rules-dir",
            &rules_dir,
            "--prometheus-url",
            &prom.url,
            "--rules-debounce-ms",
            "1500",
        ],
        Some(ADMIN_PASSWORD),
    );
    let (admin, editor, _viewer) = users(&srv);
    let (ad, ed) = (Some(admin.as_str()), Some(editor.as_str()));
    assert_eq!(auto_runs(&srv, ad), 0.0);

    let r = send_json(
        &srv,
        "POST",
        "/api/v1/alert-groups",
        ed,
        json!({"name": "edge"}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let group_id = r.json()["id"].as_i64().unwrap();
    let r = send_json(
        &srv,
        "POST",
        "/api/v1/alert-templates",
        ed,
        json!({"name": "EdgeDown", "query_template": "up{group_id=\"{{.group_id}}\"} < {{.threshold}}",
               "default_vars": {"threshold": "1"}}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let template_id = r.json()["id"].as_i64().unwrap();
    let started = Instant::now();
    let r = send_json(
        &srv,
        "POST",
        "/api/v1/alert-rules",
        ed,
        json!({"group_id": group_id, "template_id": template_id, "priority": 300}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["priority"], 300);
    assert_eq!(r.json()["merge_strategy"], "override");
    let rule_id = r.json()["id"].as_i64().unwrap();
    for (body, status) in [
        (json!({"priority": 1001}), 422),
        (json!({"merge_strategy": "sideways"}), 400),
    ] {
        let mut rule = json!({"group_id": group_id, "template_id": template_id, "name": "Other"});
        rule.as_object_mut()
            .unwrap()
            .extend(body.as_object().unwrap().clone());
        let r = send_json(&srv, "POST", "/api/v1/alert-rules", ed, rule);
        assert_eq!(r.status, status, "{}", r.text());
    }
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "the write does not wait for the regeneration"
    );

    // No regenerate call: Prometheus gets the rule by itself.
    let deadline = Instant::now() + Duration::from_secs(60);
    while loaded_expr(&prom, "EdgeDown").is_none() {
        assert!(Instant::now() < deadline, "{}", prom.rules_json());
        std::thread::sleep(Duration::from_millis(200));
    }
    let g = settled(&srv, ed);
    assert_eq!(g["auto_regenerate"], true);
    assert_eq!(g["debounce_ms"], 1500);
    let run = &g["last_run"];
    assert_eq!(
        (run["trigger"].as_str(), run["ok"].as_bool()),
        (Some("auto"), Some(true)),
        "{g}"
    );
    assert_eq!(
        run["files_written"],
        json!([format!("group-{group_id}.yml")])
    );
    assert_eq!(run["confirmed_groups"], json!(["ipocket/edge"]));
    assert!(run["error"].is_null());
    let before = auto_runs(&srv, ad);
    assert!(before >= 1.0, "{before}");

    // A burst of 10 writes within the debounce window: one run (two if a write falls
    // after the window closed), and the last value wins.
    for threshold in 2..12 {
        let r = send_json(
            &srv,
            "PUT",
            &format!("/api/v1/alert-rules/{rule_id}"),
            ed,
            json!({"group_id": group_id, "template_id": template_id,
                   "vars": {"threshold": threshold.to_string()}}),
        );
        assert_eq!(r.status, 200, "{}", r.text());
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while loaded_expr(&prom, "EdgeDown").as_deref()
        != Some(&format!("up{{group_id=\"{group_id}\"}} < 11"))
    {
        assert!(
            Instant::now() < deadline,
            "{:?}",
            loaded_expr(&prom, "EdgeDown")
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let g = settled(&srv, ed);
    let runs = auto_runs(&srv, ad) - before;
    assert!((1.0..=2.0).contains(&runs), "10 writes made {runs} runs");
    eprintln!("a burst of 10 rule writes: {runs} automatic regeneration(s)");
    assert_eq!(g["last_run"]["ok"], true, "{g}");

    // /metrics carries the error counter, at 0 here, with HELP and TYPE.
    let text = get(&srv, "/metrics", ad).text();
    assert!(
        text.contains("# TYPE ipocket_rule_generation_errors_total counter"),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            "ipocket_rule_generation_errors_total{trigger=\"auto\",stage=\"generate\"}"
        ),
        Some(0.0)
    );
}

/// A rule folder that cannot be written (here: a file): the automatic run fails, says why
/// in the status, and is counted; so is a failed manual regenerate. Looking up an unknown
/// group is not a generation error.
#[test]
fn failed_generations_are_counted_and_shown() {
    rules::require_peer();
    let prom = rules::Prometheus::start();
    let dir = tempfile::tempdir().unwrap();
    let not_a_dir = dir.path().join("rules.yml");
    std::fs::write(&not_a_dir, "").unwrap();
    let srv = start_with(
        &[
            "--rules-dir",
            not_a_dir.to_str().unwrap(),
            "--prometheus-url",
            &prom.url,
            "--rules-debounce-ms",
            "200",
        ],
        Some(ADMIN_PASSWORD),
    );
    let (admin, editor, _viewer) = users(&srv);
    let (ad, ed) = (Some(admin.as_str()), Some(editor.as_str()));
    add_rule(&srv, ed, "broken", "BrokenDown");
    let deadline = Instant::now() + Duration::from_secs(60);
    let g = loop {
        let g = settled(&srv, ed);
        if g["last_run"]["ok"] == false {
            break g;
        }
        assert!(Instant::now() < deadline, "{g}");
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(g["last_run"]["trigger"], "auto");
    assert!(
        g["last_run"]["error"]
            .as_str()
            .unwrap()
            .contains("rules.yml"),
        "{g}"
    );
    let text = get(&srv, "/metrics", ad).text();
    let errors = |text: &str, trigger: &str| {
        sample(
            text,
            &format!(
                "ipocket_rule_generation_errors_total{{trigger=\"{trigger}\",stage=\"generate\"}}"
            ),
        )
    };
    assert!(errors(&text, "auto").unwrap() >= 1.0, "{text}");
    assert_eq!(errors(&text, "api"), Some(0.0));

    let path = "/api/v1/prometheus/rules/regenerate/nope";
    assert_eq!(request(&srv, "POST", path, ed, None, b"").status, 404);
    let path = "/api/v1/prometheus/rules/regenerate";
    let r = request(&srv, "POST", path, ed, None, b"");
    assert_ne!(r.status, 200, "{}", r.text());
    let text = get(&srv, "/metrics", ad).text();
    assert_eq!(errors(&text, "api"), Some(1.0), "{text}");
    let g = settled(&srv, ed);
    assert_eq!(g["last_run"]["trigger"], "api", "{g}");
}

#[test]
fn auto_regeneration_can_be_turned_off() {
    rules::require_peer();
    let prom = rules::Prometheus::start();
    let rules_dir = prom.rules_dir.to_str().unwrap().to_string();
    let srv = start_with(
        &[
            "--rules-dir",
            &rules_dir,
            "--prometheus-url",
            &prom.url,
            "--rules-auto-regenerate",
            "false",
            "--rules-debounce-ms",
            "100",
        ],
        Some(ADMIN_PASSWORD),
    );
    let (_admin, editor, _viewer) = users(&srv);
    let ed = Some(editor.as_str());
    add_rule(&srv, ed, "quiet", "QuietDown");
    std::thread::sleep(Duration::from_millis(1000));
    assert!(std::fs::read_dir(&prom.rules_dir).unwrap().next().is_none());
    let v = get(&srv, "/api/v1/prometheus/status", ed).json();
    assert_eq!(v["generation"]["auto_regenerate"], false, "{v}");
    assert!(v["generation"]["last_run"].is_null(), "{v}");
}
