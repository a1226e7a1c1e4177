//! The vCenter connector over HTTP against the vSphere REST stand-in; who may run connectors,
//! the allow-list of their targets, and errors that do not relay a target's answer.

use std::time::Duration;

use ipocket_testkit::stub::{Canned, Stub};
use ipocket_testkit::vcenter::vcenter_stub;
use serde_json::json;

use crate::common::*;

#[test]
fn vcenter_connector_over_http() {
    let vcenter = format!("http://{}", vcenter_stub());
    let srv = start();
    let (_admin, editor, viewer) = users(&srv);
    let body = json!({"server": vcenter, "username": "u", "password": "vc-pass-not-echoed"});
    // A dry run makes the server fetch a URL: Editors only.
    let r = send_json(
        &srv,
        "POST",
        "/api/v1/connectors/vcenter",
        Some(&viewer),
        body.clone(),
    );
    assert_eq!((r.status, r.error_code().as_str()), (403, "forbidden"));
    let r = send_json(
        &srv,
        "POST",
        "/api/v1/connectors/vcenter",
        Some(&editor),
        body.clone(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(!r.text().contains("vc-pass-not-echoed"));
    let v = r.json();
    assert_eq!(v["collected"], json!({"hosts": 1, "vms": 1}));
    let items = v["plan"]["items"].to_string();
    assert!(
        items.contains("10.60.0.1") && items.contains("10.60.1.5"),
        "{v}"
    );
    assert_eq!(v["plan"]["summary"]["ip_assets"]["create"], 2, "{v}");
    let path = "/api/v1/connectors/vcenter?apply=1";
    assert_eq!(
        send_json(&srv, "POST", path, Some(&viewer), body.clone()).status,
        403
    );
    let r = send_json(&srv, "POST", path, Some(&editor), body.clone());
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        get(&srv, "/api/v1/ip-assets/10.60.1.5", Some(&viewer)).json()["type"],
        "VM"
    );
    let r = send_json(
        &srv,
        "POST",
        "/api/v1/connectors/vcenter",
        Some(&editor),
        body.clone(),
    );
    assert_eq!(r.json()["plan"]["summary"]["ip_assets"]["skip"], 2);
    // the host name lookup bound is checked and located
    let mut slow = body.clone();
    slow["resolve_timeout_seconds"] = json!(0);
    let r = send_json(
        &srv,
        "POST",
        "/api/v1/connectors/vcenter",
        Some(&editor),
        slow,
    );
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (400, "bad_request"),
        "{}",
        r.text()
    );
    assert_eq!(
        r.json()["error"]["details"]["field"],
        "resolve_timeout_seconds"
    );
    // An unreachable vCenter is a located 502, without the password.
    let mut bad = body;
    bad["server"] = json!("http://127.0.0.1:1");
    let r = send_json(
        &srv,
        "POST",
        "/api/v1/connectors/vcenter",
        Some(&editor),
        bad,
    );
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (502, "connector_failed")
    );
    assert!(!r.text().contains("vc-pass-not-echoed"));
}

/// A stub that answers every request with `status` and a body holding a secret.
fn leaky(status: u16, content_type: &'static str, body: &str) -> Stub {
    Stub::start(Canned {
        status,
        content_type,
        body: body.to_string(),
        delay: Duration::ZERO,
        require_auth: None,
    })
}

#[test]
fn connector_errors_do_not_relay_the_target_answer() {
    let secret = "internal-admin-panel-7f3a";
    let srv = start();
    let (_admin, editor, _viewer) = users(&srv);
    for stub in [
        leaky(500, "text/html", &format!("<h1>{secret}</h1>")),
        leaky(401, "text/plain", secret),
        leaky(
            200,
            "application/json",
            &format!(r#"{{"status":"error","errorType":"x","error":"{secret}"}}"#),
        ),
    ] {
        let body = json!({"prometheus_url": stub.url(), "query": "up", "ip_label": "instance"});
        let r = send_json(
            &srv,
            "POST",
            "/api/v1/connectors/prometheus",
            Some(&editor),
            body,
        );
        assert_eq!(
            (r.status, r.error_code().as_str()),
            (502, "connector_failed")
        );
        assert!(!r.text().contains(secret), "{}", r.text());
        let vc = json!({"server": stub.url(), "username": "u", "password": "p"});
        let r = send_json(
            &srv,
            "POST",
            "/api/v1/connectors/vcenter",
            Some(&editor),
            vc,
        );
        assert_eq!(r.status, 502, "{}", r.text());
        assert!(!r.text().contains(secret), "{}", r.text());
    }
    // The failure is still named: the status.
    let stub = leaky(500, "text/html", secret);
    let body = json!({"prometheus_url": stub.url(), "query": "up", "ip_label": "instance"});
    let r = send_json(
        &srv,
        "POST",
        "/api/v1/connectors/prometheus",
        Some(&editor),
        body,
    );
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .ends_with("failed with HTTP 500"),
        "{}",
        r.text()
    );
}

#[test]
fn connector_allow_list_refuses_other_targets_before_connecting() {
    let vcenter = vcenter_stub();
    let other = leaky(200, "application/json", "{}");
    let allowed = format!("{vcenter},prometheus.invalid");
    let srv = start_with(&["--connector-allow", &allowed], Some(ADMIN_PASSWORD));
    let (_admin, editor, _viewer) = users(&srv);
    let vc = |server: String| json!({"server": server, "username": "u", "password": "p"});
    let r = send_json(
        &srv,
        "POST",
        "/api/v1/connectors/vcenter",
        Some(&editor),
        vc(format!("http://{vcenter}")),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    // Another port of the same host, and another host: 403 before any connection.
    let r = send_json(
        &srv,
        "POST",
        "/api/v1/connectors/vcenter",
        Some(&editor),
        vc(other.url()),
    );
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (403, "target_not_allowed"),
        "{}",
        r.text()
    );
    let v = r.json();
    assert_eq!(v["error"]["details"]["field"], "server", "{v}");
    assert_eq!(v["error"]["details"]["port"], other.addr.port(), "{v}");
    let prom = json!({"prometheus_url": format!("{}/", other.url()), "query": "up", "ip_label": "instance"});
    let r = send_json(
        &srv,
        "POST",
        "/api/v1/connectors/prometheus?apply=1",
        Some(&editor),
        prom,
    );
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (403, "target_not_allowed")
    );
    assert_eq!(r.json()["error"]["details"]["field"], "prometheus_url");
    let prom =
        json!({"prometheus_url": "http://10.255.0.1:9090", "query": "up", "ip_label": "instance"});
    let r = send_json(
        &srv,
        "POST",
        "/api/v1/connectors/prometheus",
        Some(&editor),
        prom,
    );
    assert_eq!(r.error_code(), "target_not_allowed");
    assert!(
        other.seen.lock().unwrap().is_empty(),
        "the refused target was contacted"
    );

    // A bad entry stops the server at start.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ipocket"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--connector-allow",
            "http://x/",
            "--db",
        ])
        .arg(srv.db.with_file_name("never.db"))
        .env_remove("IPOCKET_CONNECTOR_ALLOW")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--connector-allow"),
        "{out:?}"
    );
    assert!(!srv.db.with_file_name("never.db").exists());
}
