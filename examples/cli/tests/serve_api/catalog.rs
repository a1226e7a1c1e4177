//! The catalog (projects, hosts, vendors, tags), IP ranges and utilization, the audit log.

use serde_json::{json, Value};

use crate::common::*;

#[test]
fn catalog_ranges_and_audit_log() {
    let srv = start();
    let (admin, editor, viewer) = users(&srv);
    let post =
        |token: &str, path: &str, body: Value| send_json(&srv, "POST", path, Some(token), body);
    assert_eq!(
        post(&viewer, "/api/v1/projects", json!({"name": "core"})).status,
        403
    );
    // An Admin writes data too (a superset of Editor).
    let r = post(&admin, "/api/v1/projects", json!({"name": "by-admin"}));
    assert_eq!(r.status, 201, "{}", r.text());
    let id = r.json()["id"].as_i64().unwrap();
    let r = request(
        &srv,
        "DELETE",
        &format!("/api/v1/projects/{id}"),
        Some(&admin),
        None,
        b"",
    );
    assert_eq!(r.status, 204);
    let r = post(
        &editor,
        "/api/v1/projects",
        json!({"name": "core", "color": "#AABBCC"}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let project_id = r.json()["id"].as_i64().unwrap();
    let r = post(&editor, "/api/v1/projects", json!({"name": "core"}));
    assert_eq!(r.status, 409);
    let r = post(&editor, "/api/v1/vendors", json!({"name": "Dell"}));
    assert_eq!(r.status, 201);
    let vendor_id = r.json()["id"].as_i64().unwrap();
    assert_eq!(
        post(&editor, "/api/v1/tags", json!({"name": "prod"})).status,
        201
    );
    let r = post(
        &editor,
        "/api/v1/hosts",
        json!({"name": "node-01", "vendor_id": vendor_id}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let host_id = r.json()["id"].as_i64().unwrap();
    let r = post(
        &editor,
        "/api/v1/ranges",
        json!({"name": "lab", "cidr": "192.168.10.17/30"}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["cidr"], "192.168.10.16/30");
    let range_id = r.json()["id"].as_i64().unwrap();
    assert_eq!(
        post(&editor, "/api/v1/ranges", json!({"name": "x"})).status,
        400
    );

    let r = post(
        &editor,
        "/api/v1/ip-assets",
        json!({"ip_address": "192.168.10.17", "type": "OS", "project_id": project_id, "host_id": host_id}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    for (path, n) in [
        ("/api/v1/projects", 1),
        ("/api/v1/vendors", 1),
        ("/api/v1/tags", 1),
        ("/api/v1/hosts", 1),
        ("/api/v1/ranges", 1),
    ] {
        let r = get(&srv, path, Some(&viewer));
        assert_eq!(r.status, 200, "{path}");
        assert_eq!(r.json().as_array().unwrap().len(), n, "{path}");
    }
    let r = get(&srv, &format!("/api/v1/hosts/{host_id}"), Some(&viewer));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(get(&srv, "/api/v1/hosts/999", Some(&viewer)).status, 404);
    let r = get(
        &srv,
        &format!("/api/v1/ranges/{range_id}/utilization"),
        Some(&viewer),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let r = get(
        &srv,
        &format!("/api/v1/ranges/{range_id}/next-free"),
        Some(&viewer),
    );
    assert_eq!(r.json()["ip_address"], "192.168.10.18");
    let v = get(&srv, "/api/v1/ip-assets?project=core", Some(&viewer)).json();
    assert_eq!(v["total"], 1);
    let v = get(&srv, "/sd/node?group_by=project", Some(&viewer)).json();
    assert_eq!(v[0]["labels"]["project"], "core");

    // Addresses and allocation: .17 is used, .18 is next.
    let r = get(
        &srv,
        &format!("/api/v1/ranges/{range_id}/addresses"),
        Some(&viewer),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json().as_array().unwrap().len(), 2);
    let path = format!("/api/v1/ranges/{range_id}/allocate");
    assert_eq!(post(&viewer, &path, json!({"type": "VM"})).status, 403);
    let r = post(&editor, &path, json!({"type": "VM", "tags": ["prod"]}));
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["ip_address"], "192.168.10.18");
    let r = post(&editor, &path, json!({"type": "VM"}));
    assert_eq!(r.status, 409, "{}", r.text());
    assert_eq!(r.error_code(), "range_full");

    // Update and delete.
    let patch =
        |token: &str, path: &str, body: Value| send_json(&srv, "PATCH", path, Some(token), body);
    let r = patch(
        &editor,
        &format!("/api/v1/projects/{project_id}"),
        json!({"name": "core2", "description": null}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["name"], "core2");
    assert_eq!(
        patch(
            &viewer,
            &format!("/api/v1/projects/{project_id}"),
            json!({"name": "x"})
        )
        .status,
        403
    );
    assert_eq!(
        patch(
            &editor,
            &format!("/api/v1/projects/{project_id}"),
            json!({"nam": "x"})
        )
        .status,
        400
    );
    let r = patch(
        &editor,
        &format!("/api/v1/hosts/{host_id}"),
        json!({"vendor_id": null, "notes": "rack 4"}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let r = patch(
        &editor,
        &format!("/api/v1/ranges/{range_id}"),
        json!({"name": "lab-2"}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let r = patch(
        &editor,
        &format!("/api/v1/vendors/{vendor_id}"),
        json!({"name": "HPE"}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let r = request(
        &srv,
        "DELETE",
        &format!("/api/v1/vendors/{vendor_id}"),
        Some(&editor),
        None,
        b"",
    );
    assert_eq!(r.status, 204, "{}", r.text());
    let r = request(
        &srv,
        "DELETE",
        &format!("/api/v1/ranges/{range_id}"),
        Some(&editor),
        None,
        b"",
    );
    assert_eq!(r.status, 204, "{}", r.text());
    assert_eq!(get(&srv, "/api/v1/ranges", Some(&viewer)).json(), json!([]));
    assert_eq!(
        request(&srv, "DELETE", "/api/v1/tags/999", Some(&editor), None, b"").status,
        404
    );

    let r = get(
        &srv,
        "/api/v1/audit-log?target_type=IP_ASSET",
        Some(&viewer),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["total"], 2);
    assert_eq!(get(&srv, "/api/v1/audit-log", None).status, 401);
}
