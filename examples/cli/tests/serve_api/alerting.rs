//! Alert templates, rules, groups and targets over HTTP, then regenerate and reload against
//! Debian's real Prometheus, and the Prometheus connector against the same Prometheus.

use ipocket_testkit::rules;
use serde_json::json;

use crate::common::*;

/// Alert templates, rules, groups and targets over HTTP (every role), then regenerate,
/// reload and status against Debian's real Prometheus, and the Prometheus connector run
/// against the same Prometheus.
#[test]
fn rules_and_connector_against_a_real_prometheus() {
    rules::require_peer();
    let prom = rules::Prometheus::start();
    let rules_dir = prom.rules_dir.to_str().unwrap().to_string();
    // Explicit regenerates only here (the automatic one: rules_auto.rs).
    let srv = start_with(
        &[
            "--rules-dir",
            &rules_dir,
            "--prometheus-url",
            &prom.url,
            "--rules-auto-regenerate",
            "false",
        ],
        Some(ADMIN_PASSWORD),
    );
    let (_admin, editor, viewer) = users(&srv);
    let (ed, vi) = (Some(editor.as_str()), Some(viewer.as_str()));

    // Viewer reads, Editor writes; no token is 401.
    assert_eq!(get(&srv, "/api/v1/alert-groups", None).status, 401);
    let r = send_json(
        &srv,
        "POST",
        "/api/v1/alert-groups",
        vi,
        json!({"name": "edge"}),
    );
    assert_eq!((r.status, r.error_code().as_str()), (403, "forbidden"));
    let r = send_json(
        &srv,
        "POST",
        "/api/v1/alert-groups",
        ed,
        json!({"name": "edge", "description": "edge routers", "options": {"interval": "30s"}}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let group_id = r.json()["id"].as_i64().unwrap();
    let r = send_json(
        &srv,
        "POST",
        "/api/v1/alert-groups",
        ed,
        json!({"name": "edge"}),
    );
    assert_eq!((r.status, r.error_code().as_str()), (409, "conflict"));
    let r = send_json(
        &srv,
        "POST",
        "/api/v1/alert-groups",
        ed,
        json!({"name": "x", "colour": "red"}),
    );
    assert_eq!(r.status, 400);
    assert!(r.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("\"colour\""));

    let r = send_json(
        &srv,
        "POST",
        "/api/v1/alert-templates",
        ed,
        json!({
            "name": "TargetDown",
            "query_template": "up{group_id=\"{{.group_id}}\"} < {{.threshold}}",
            "default_vars": {"threshold": "1"},
            "for_duration": "1m",
            "severity": "critical",
            "annotations": {"summary": "{{ $labels.instance }} is down"}
        }),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let template_id = r.json()["id"].as_i64().unwrap();
    let r = send_json(
        &srv,
        "POST",
        "/api/v1/alert-rules",
        ed,
        json!({"group_id": group_id, "template_id": template_id, "vars": {"threshold": "2"}}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let rule_id = r.json()["id"].as_i64().unwrap();
    let r = send_json(
        &srv,
        "POST",
        "/api/v1/alert-targets",
        ed,
        json!({"hostname": "router-1", "address": "10.0.0.1:9100", "group_ids": [group_id]}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let target_id = r.json()["id"].as_i64().unwrap();
    let r = send_json(
        &srv,
        "POST",
        "/api/v1/alert-targets",
        ed,
        json!({"hostname": "router-2", "group_ids": [9999]}),
    );
    assert_eq!(r.status, 404, "{}", r.text());
    // An update with an unknown group changes nothing; one without groups keeps them.
    let target_path = format!("/api/v1/alert-targets/{target_id}");
    let r = send_json(
        &srv,
        "PUT",
        &target_path,
        ed,
        json!({"hostname": "router-9", "address": "10.0.0.9:9100", "group_ids": [group_id, 9999]}),
    );
    assert_eq!(r.status, 404, "{}", r.text());
    let r = get(&srv, &target_path, vi);
    assert_eq!(r.json()["hostname"], "router-1", "{}", r.text());
    assert_eq!(r.json()["group_ids"], json!([group_id]));
    let r = send_json(
        &srv,
        "PUT",
        &target_path,
        ed,
        json!({"hostname": "router-1", "address": "10.0.0.1:9101"}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["address"], "10.0.0.1:9101");
    assert_eq!(r.json()["group_ids"], json!([group_id]));

    // Reads by every role.
    for kind in [
        "alert-templates",
        "alert-rules",
        "alert-groups",
        "alert-targets",
    ] {
        let r = get(&srv, &format!("/api/v1/{kind}"), vi);
        assert_eq!(r.status, 200, "{kind}: {}", r.text());
        assert_eq!(r.json().as_array().unwrap().len(), 1, "{kind}");
    }
    let r = get(
        &srv,
        &format!("/api/v1/alert-rules?group_id={group_id}"),
        vi,
    );
    assert_eq!(r.json()[0]["vars"]["threshold"], "2");
    let r = get(&srv, &format!("/api/v1/alert-templates/{template_id}"), vi);
    assert_eq!(r.json()["severity"], "critical");
    assert_eq!(get(&srv, "/api/v1/alert-rules/9999", vi).status, 404);

    // Saving validates at once (issue #19): a query that does not parse, and a rule whose
    // template variable is missing, are refused at their field; nothing is stored.
    let r = send_json(
        &srv,
        "POST",
        "/api/v1/alert-templates",
        ed,
        json!({"name": "Broken", "query_template": "rate(up[5m]"}),
    );
    assert_eq!(r.status, 422, "{}", r.text());
    assert_eq!(r.json()["error"]["details"]["field"], "query_template");
    assert!(!get(&srv, "/api/v1/alert-templates", vi)
        .text()
        .contains("Broken"));
    let r = send_json(
        &srv,
        "POST",
        "/api/v1/alert-templates",
        ed,
        json!({"name": "Open", "query_template": "up{group_id=\"{{.group_id}}\"} < {{.limit}}"}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let open = r.json()["id"].as_i64().unwrap();
    let rule = json!({"group_id": group_id, "template_id": open});
    let r = send_json(&srv, "POST", "/api/v1/alert-rules", ed, rule);
    assert_eq!(r.status, 422, "{}", r.text());
    assert_eq!(r.json()["error"]["details"]["field"], "vars");
    assert!(r.text().contains("limit"), "{}", r.text());
    let rule = json!({"group_id": group_id, "template_id": open, "enabled": false, "vars": {"limit": "1"}});
    let r = send_json(&srv, "POST", "/api/v1/alert-rules", ed, rule);
    assert_eq!(r.status, 201, "{}", r.text());
    let open_rule = r.json()["id"].as_i64().unwrap();
    let r = request(
        &srv,
        "DELETE",
        &format!("/api/v1/alert-templates/{open}"),
        ed,
        None,
        b"",
    );
    assert_eq!(
        r.status,
        422,
        "a template in use is not deleted: {}",
        r.text()
    );
    let path = format!("/api/v1/alert-rules/{open_rule}");
    assert_eq!(request(&srv, "DELETE", &path, vi, None, b"").status, 403);
    assert_eq!(request(&srv, "DELETE", &path, ed, None, b"").status, 204);
    let path = format!("/api/v1/alert-templates/{open}");
    assert_eq!(request(&srv, "DELETE", &path, ed, None, b"").status, 204);

    // Dry run: the diff, nothing written. Viewer may not regenerate.
    let path = "/api/v1/prometheus/rules/regenerate?dry_run=1";
    assert_eq!(request(&srv, "POST", path, vi, None, b"").status, 403);
    let r = request(&srv, "POST", path, ed, None, b"");
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["dry_run"], true);
    assert_eq!(v["changes"][0]["action"], "create");
    let diff = v["changes"][0]["diff"].as_str().unwrap();
    assert!(
        diff.contains(&format!("+    expr: up{{group_id=\"{group_id}\"}} < 2")),
        "{diff}"
    );
    assert!(v["reload"].is_null());
    assert!(std::fs::read_dir(&prom.rules_dir).unwrap().next().is_none());

    // Regenerate one group: the file is written and Prometheus reloads and loads it.
    let r = request(
        &srv,
        "POST",
        &format!("/api/v1/prometheus/rules/regenerate/{group_id}"),
        ed,
        None,
        b"",
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["group_id"], group_id);
    assert_eq!(v["file_name"], format!("group-{group_id}.yml"));
    assert_eq!(v["rules_count"], 1);
    assert_eq!(v["files_generated"], 1);
    assert_eq!(v["reload"]["confirmed_groups"], json!(["ipocket/edge"]));
    assert!(prom.rules_json().to_string().contains("TargetDown"));
    // Same data again: unchanged, so no reload.
    let r = request(
        &srv,
        "POST",
        "/api/v1/prometheus/rules/regenerate",
        ed,
        None,
        b"",
    );
    let v = r.json();
    assert_eq!(v["changes"][0]["action"], "unchanged");
    assert_eq!(v["groups_affected"], 0);
    assert!(v["reload"].is_null());

    let r = get(&srv, "/api/v1/prometheus/rules/files", vi);
    assert_eq!(r.status, 200);
    let v = r.json();
    assert_eq!(v["total"], 1);
    assert_eq!(v["files"][0]["rule_count"], 1);
    assert_eq!(v["files"][0]["file_name"], format!("group-{group_id}.yml"));

    for key in [target_id.to_string(), "router-1".to_string()] {
        let r = get(
            &srv,
            &format!("/api/v1/prometheus/rules/effective/{key}"),
            vi,
        );
        assert_eq!(r.status, 200, "{}", r.text());
        let v = r.json();
        assert_eq!(v["hostname"], "router-1");
        assert_eq!(v["total"], 1);
        assert_eq!(v["rules"][0]["alert"], "TargetDown");
        assert_eq!(v["rules"][0]["source"]["rule_id"], rule_id);
    }
    assert_eq!(
        get(&srv, "/api/v1/prometheus/rules/effective/nope", vi).status,
        404
    );

    let r = get(&srv, "/api/v1/prometheus/status", vi);
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(
        (v["status"].as_str(), v["ready"].as_bool()),
        (Some("healthy"), Some(true))
    );
    assert_eq!(v["last_reload_success"], true, "{v}");
    assert!(v["last_reload"].as_str().is_some(), "{v}");
    assert_eq!(
        request(&srv, "POST", "/api/v1/prometheus/reload", vi, None, b"").status,
        403
    );
    let r = request(&srv, "POST", "/api/v1/prometheus/reload", ed, None, b"");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["status"], "success");
    assert_eq!(
        r.json()["report"]["confirmed_groups"],
        json!(["ipocket/edge"])
    );

    // Replace a rule (PUT) and disable it: the group's file goes away on regenerate.
    let r = send_json(
        &srv,
        "PUT",
        &format!("/api/v1/alert-rules/{rule_id}"),
        ed,
        json!({"group_id": group_id, "template_id": template_id, "enabled": false}),
    );
    assert_eq!(
        (r.status, r.json()["enabled"].as_bool()),
        (200, Some(false))
    );
    let r = request(
        &srv,
        "POST",
        "/api/v1/prometheus/rules/regenerate",
        ed,
        None,
        b"",
    );
    assert_eq!(r.json()["changes"][0]["action"], "remove", "{}", r.text());
    assert!(!prom
        .rules_dir
        .join(format!("group-{group_id}.yml"))
        .exists());

    // The Prometheus connector over HTTP: dry run and apply (Editor: a Viewer may not make
    // the server fetch a URL).
    let query = r#"label_replace(vector(1), "instance", "10.1.2.3:9100", "", "") or label_replace(vector(2), "instance", "127.0.0.1:9100", "", "")"#;
    let body = json!({"prometheus_url": prom.url, "query": query, "ip_label": "instance",
                      "asset_type": "VM", "tags": ["node"], "token": "prom-secret-token"});
    let r = send_json(
        &srv,
        "POST",
        "/api/v1/connectors/prometheus",
        None,
        body.clone(),
    );
    assert_eq!(r.status, 401);
    let r = send_json(
        &srv,
        "POST",
        "/api/v1/connectors/prometheus?dry_run=1",
        vi,
        body.clone(),
    );
    assert_eq!((r.status, r.error_code().as_str()), (403, "forbidden"));
    let r = send_json(
        &srv,
        "POST",
        "/api/v1/connectors/prometheus?dry_run=1",
        ed,
        body.clone(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(!r.text().contains("prom-secret-token"));
    let v = r.json();
    assert_eq!(v["mode"], "dry_run");
    assert_eq!(v["collected"]["ips"], 1);
    assert!(v["warnings"]
        .to_string()
        .contains("loopback IP '127.0.0.1'"));
    assert_eq!(v["plan"]["summary"]["ip_assets"]["create"], 1, "{v}");
    assert!(v["applied"].is_null());
    assert_eq!(get(&srv, "/api/v1/ip-assets/10.1.2.3", vi).status, 404);
    let path = "/api/v1/connectors/prometheus?apply=1";
    assert_eq!(send_json(&srv, "POST", path, vi, body.clone()).status, 403);
    let r = send_json(&srv, "POST", path, ed, body.clone());
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["mode"], "apply");
    let r = get(&srv, "/api/v1/ip-assets/10.1.2.3", vi);
    assert_eq!((r.status, r.json()["type"].as_str()), (200, Some("VM")));
    let r = send_json(
        &srv,
        "POST",
        "/api/v1/connectors/prometheus",
        ed,
        body.clone(),
    );
    assert_eq!(r.json()["plan"]["summary"]["ip_assets"]["skip"], 1);
    let mut bad = body.clone();
    bad["query"] = json!("up{");
    let r = send_json(&srv, "POST", "/api/v1/connectors/prometheus", ed, bad);
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (502, "connector_failed")
    );
    assert!(r.text().contains("bad_data"), "{}", r.text());
    let mut bad = body;
    bad["ip_lable"] = json!("instance");
    let r = send_json(&srv, "POST", "/api/v1/connectors/prometheus", ed, bad);
    assert_eq!(r.status, 400);
    assert!(r.text().contains("ip_lable"));
}

/// `--prometheus-token` and `--prometheus-ca-file`: reload and status of Debian's real
/// Prometheus behind TLS and Basic auth; a wrong password is a 502 naming the 401.
#[test]
fn reload_and_status_of_a_prometheus_behind_tls_and_basic_auth() {
    let prom = rules::Prometheus::start_tls();
    let rules_dir = prom.rules_dir.to_str().unwrap().to_string();
    let ca = prom.cert_file().to_str().unwrap().to_string();
    for (token, ok) in [
        ("prom_user:prom_pass", true),
        ("prom_user:wrong-pass", false),
    ] {
        let srv = start_with(
            &[
                "--rules-dir",
                &rules_dir,
                "--prometheus-url",
                &prom.url,
                "--prometheus-token",
                token,
                "--prometheus-ca-file",
                &ca,
            ],
            Some(ADMIN_PASSWORD),
        );
        let (_admin, editor, _viewer) = users(&srv);
        let ed = Some(editor.as_str());
        let r = get(&srv, "/api/v1/prometheus/status", ed);
        assert_eq!(r.status, 200, "{}", r.text());
        let v = r.json();
        let r = request(&srv, "POST", "/api/v1/prometheus/reload", ed, None, b"");
        if ok {
            assert_eq!(v["status"], "healthy", "{v}");
            assert_eq!(r.status, 200, "{}", r.text());
        } else {
            assert_eq!(v["status"], "unhealthy", "{v}");
            assert!(v["detail"].as_str().unwrap().contains("401"), "{v}");
            assert_eq!(
                (r.status, r.error_code().as_str()),
                (502, "prometheus_failed")
            );
            assert!(r.text().contains("401") && !r.text().contains("wrong-pass"));
        }
    }
}

/// `--connector-ca-file`: a Prometheus connector run reaches Debian's real Prometheus behind
/// TLS (a self-signed certificate) only when the server trusts that certificate.
#[test]
fn connector_runs_trust_the_connector_ca_file() {
    let prom = rules::Prometheus::start_tls();
    let ca = prom.cert_file().to_str().unwrap().to_string();
    let body = json!({
        "prometheus_url": prom.url,
        "query": "label_replace(vector(1), \"instance\", \"10.1.2.3:9100\", \"\", \"\")",
        "ip_label": "instance",
        "token": "prom_user:prom_pass",
    });
    let path = "/api/v1/connectors/prometheus?dry_run=1";
    for (flags, ok) in [
        (vec![], false),
        (vec!["--connector-ca-file", ca.as_str()], true),
    ] {
        let srv = start_with(&flags, Some(ADMIN_PASSWORD));
        let (_admin, editor, _viewer) = users(&srv);
        let r = send_json(&srv, "POST", path, Some(&editor), body.clone());
        if ok {
            assert_eq!(r.status, 200, "{}", r.text());
            assert_eq!(r.json()["plan"]["summary"]["ip_assets"]["create"], 1);
        } else {
            assert_eq!(r.status, 502, "{}", r.text());
            assert!(!r.text().contains("prom_pass"));
        }
    }
}

/// Alert-rule writes and ingest-server registrations leave audit rows naming the Editor,
/// beside the inventory's; a refused write leaves none.
#[test]
fn alert_rule_writes_and_server_registrations_are_audited() {
    let srv = start();
    let (_admin, editor, viewer) = users(&srv);
    let (ed, vi) = (Some(editor.as_str()), Some(viewer.as_str()));
    let r = send_json(
        &srv,
        "POST",
        "/api/v1/alert-groups",
        ed,
        json!({"name": "edge"}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let gid = r.json()["id"].as_i64().unwrap();
    let r = send_json(
        &srv,
        "PUT",
        &format!("/api/v1/alert-groups/{gid}"),
        ed,
        json!({"name": "edge", "description": "edge routers"}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let r = send_json(
        &srv,
        "POST",
        "/api/v1/alert-templates",
        ed,
        json!({"name": "NodeDown", "query_template": "up == 0"}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let r = send_json(
        &srv,
        "POST",
        "/api/v1/alert-targets",
        ed,
        json!({"hostname": "r1", "address": "10.0.0.1:9100", "group_ids": [gid]}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let tid = r.json()["id"].as_i64().unwrap();
    let r = request(
        &srv,
        "DELETE",
        &format!("/api/v1/alert-targets/{tid}"),
        ed,
        None,
        b"",
    );
    assert_eq!(r.status, 204);
    let r = send_json(
        &srv,
        "POST",
        "/api/v1/alert-groups",
        vi,
        json!({"name": "nope"}),
    );
    assert_eq!(r.status, 403);
    let reg = json!({"server_id": "web-01", "name": "web"});
    assert_eq!(
        send_json(&srv, "POST", "/api/v1/servers", ed, reg).status,
        201
    );

    let v = get(&srv, "/api/v1/audit-log?per_page=100", vi).json();
    let rows: Vec<String> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .filter(|e| e["target_type"] != "USER")
        .map(|e| {
            format!(
                "{} {} {} by {}",
                e["target_type"].as_str().unwrap(),
                e["action"].as_str().unwrap(),
                e["target_label"].as_str().unwrap(),
                e["username"].as_str().unwrap_or("system"),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            "ALERT_GROUP CREATE edge by ed",
            "ALERT_GROUP UPDATE edge by ed",
            "ALERT_TEMPLATE CREATE NodeDown by ed",
            "ALERT_TARGET CREATE r1 by ed",
            "ALERT_TARGET DELETE r1 by ed",
            "INGEST_SERVER CREATE web-01 by ed",
        ],
        "{v}"
    );
    let update = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "UPDATE")
        .unwrap();
    assert_eq!(update["changes"][0]["field"], "description", "{update}");
    assert_eq!(update["changes"][0]["after"], "edge routers", "{update}");
}
