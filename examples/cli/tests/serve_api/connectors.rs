//! The vCenter connector over HTTP against the vSphere REST stand-in.

use ipocket_testkit::vcenter::vcenter_stub;
use serde_json::json;

use crate::common::*;

#[test]
fn vcenter_connector_over_http() {
    let vcenter = format!("http://{}", vcenter_stub());
    let srv = start();
    let (_admin, editor, viewer) = users(&srv);
    let body = json!({"server": vcenter, "username": "u", "password": "vc-pass-not-echoed"});
    let r = send_json(
        &srv,
        "POST",
        "/api/v1/connectors/vcenter",
        Some(&viewer),
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
        Some(&viewer),
        body.clone(),
    );
    assert_eq!(r.json()["plan"]["summary"]["ip_assets"]["skip"], 2);
    // An unreachable vCenter is a located 502, without the password.
    let mut bad = body;
    bad["server"] = json!("http://127.0.0.1:1");
    let r = send_json(
        &srv,
        "POST",
        "/api/v1/connectors/vcenter",
        Some(&viewer),
        bad,
    );
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (502, "connector_failed")
    );
    assert!(!r.text().contains("vc-pass-not-echoed"));
}
