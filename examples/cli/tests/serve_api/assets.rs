//! IP assets: every role's reads and writes, and concurrent writers.

use serde_json::{json, Value};

use crate::common::*;

#[test]
fn ip_assets_every_role() {
    let srv = start();
    let (admin, editor, viewer) = users(&srv);
    let new = json!({"ip_address": "10.0.0.1", "type": "VM", "tags": ["prod"], "notes": "web"});

    // A Viewer cannot write data; no token is 401. An Admin can (Admin is a superset of
    // Editor, unlike the original ipocket).
    assert_eq!(
        send_json(&srv, "POST", "/api/v1/ip-assets", None, new.clone()).status,
        401
    );
    let r = send_json(
        &srv,
        "POST",
        "/api/v1/ip-assets",
        Some(&viewer),
        new.clone(),
    );
    assert_eq!(r.status, 403);
    assert_eq!(r.error_code(), "forbidden");
    let by_admin = json!({"ip_address": "10.0.0.250", "type": "VM"});
    let r = send_json(&srv, "POST", "/api/v1/ip-assets", Some(&admin), by_admin);
    assert_eq!(r.status, 201, "{}", r.text());
    let path = "/api/v1/ip-assets/10.0.0.250";
    assert_eq!(
        request(&srv, "DELETE", path, Some(&admin), None, b"").status,
        204
    );
    // Viewer and Editor cannot manage users.
    for token in [&viewer, &editor] {
        assert_eq!(get(&srv, "/api/v1/users", Some(token)).status, 403);
    }
    assert_eq!(
        get(&srv, "/api/v1/users", Some(&admin))
            .json()
            .as_array()
            .unwrap()
            .len(),
        3
    );

    let r = send_json(
        &srv,
        "POST",
        "/api/v1/ip-assets",
        Some(&editor),
        new.clone(),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["tags"], json!(["prod"]));
    let r = send_json(
        &srv,
        "POST",
        "/api/v1/ip-assets",
        Some(&editor),
        new.clone(),
    );
    assert_eq!(r.status, 409);
    assert_eq!(r.error_code(), "conflict");
    let r = send_json(
        &srv,
        "POST",
        "/api/v1/ip-assets",
        Some(&editor),
        json!({"ip_address": "2001:DB8::1", "type": "OS", "tags": "edge, prod"}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["ip_address"], "2001:db8::1");
    let r = send_json(
        &srv,
        "POST",
        "/api/v1/ip-assets",
        Some(&editor),
        json!({"ip_address": "10.0.0.300", "type": "VM"}),
    );
    assert_eq!(r.status, 422);
    let r = send_json(
        &srv,
        "POST",
        "/api/v1/ip-assets",
        Some(&editor),
        json!({"ip_address": "10.0.0.3", "type": "vm"}),
    );
    assert_eq!(r.status, 422);
    assert_eq!(r.error_code(), "invalid_value");
    for i in 2..=5 {
        let r = send_json(
            &srv,
            "POST",
            "/api/v1/ip-assets",
            Some(&editor),
            json!({"ip_address": format!("10.0.1.{i}"), "type": "BMC"}),
        );
        assert_eq!(r.status, 201);
    }

    // Lists: filters and pagination; readers of every role.
    let r = get(&srv, "/api/v1/ip-assets", Some(&viewer));
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["total"], 6);
    let v = get(
        &srv,
        "/api/v1/ip-assets?type=BMC&per_page=3&page=2",
        Some(&admin),
    )
    .json();
    assert_eq!(v["total"], 4);
    assert_eq!(v["items"].as_array().unwrap().len(), 1);
    assert_eq!(v["page"], 2);
    let v = get(&srv, "/api/v1/ip-assets?tag=prod", Some(&viewer)).json();
    assert_eq!(v["total"], 2);
    let v = get(&srv, "/api/v1/ip-assets?ip=10.0.1.0%2F24", Some(&viewer)).json();
    assert_eq!(v["total"], 4);
    let v = get(&srv, "/api/v1/ip-assets?q=web", Some(&viewer)).json();
    assert_eq!(v["total"], 1);
    assert_eq!(
        get(&srv, "/api/v1/ip-assets?per_page=0", Some(&viewer)).status,
        400
    );
    assert_eq!(
        get(&srv, "/api/v1/ip-assets?archived=maybe", Some(&viewer)).status,
        400
    );

    let r = get(&srv, "/api/v1/ip-assets/2001:db8::1", Some(&viewer));
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["type"], "OS");
    assert_eq!(
        get(&srv, "/api/v1/ip-assets/10.9.9.9", Some(&viewer)).status,
        404
    );

    // Update with presence semantics.
    let r = send_json(
        &srv,
        "PATCH",
        "/api/v1/ip-assets/10.0.0.1",
        Some(&viewer),
        json!({"notes": "x"}),
    );
    assert_eq!(r.status, 403);
    let r = send_json(
        &srv,
        "PATCH",
        "/api/v1/ip-assets/10.0.0.1",
        Some(&editor),
        json!({"notes": null, "type": "VIP", "tags": ["a", "b"]}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(
        (v["notes"].clone(), v["type"].clone()),
        (Value::Null, json!("VIP"))
    );
    assert_eq!(v["tags"], json!(["a", "b"]));
    let r = send_json(
        &srv,
        "PATCH",
        "/api/v1/ip-assets/10.0.0.1",
        Some(&editor),
        json!({"owner": 1}),
    );
    assert_eq!(r.status, 400);

    // Archive, restore, delete.
    let r = request(
        &srv,
        "POST",
        "/api/v1/ip-assets/10.0.0.1/archive",
        Some(&editor),
        None,
        b"",
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["archived"], true);
    assert_eq!(
        get(&srv, "/api/v1/ip-assets", Some(&viewer)).json()["total"],
        5
    );
    assert_eq!(
        get(&srv, "/api/v1/ip-assets?archived=archived", Some(&viewer)).json()["total"],
        1
    );
    let r = request(
        &srv,
        "POST",
        "/api/v1/ip-assets/10.0.0.1/restore",
        Some(&editor),
        None,
        b"",
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["archived"], false);
    let r = request(
        &srv,
        "DELETE",
        "/api/v1/ip-assets/10.0.1.5",
        Some(&viewer),
        None,
        b"",
    );
    assert_eq!(r.status, 403);
    let r = request(
        &srv,
        "DELETE",
        "/api/v1/ip-assets/10.0.1.5",
        Some(&editor),
        None,
        b"",
    );
    assert_eq!(r.status, 204);
    assert_eq!(
        get(&srv, "/api/v1/ip-assets/10.0.1.5", Some(&viewer)).status,
        404
    );

    // Service discovery sees them (IPv6 bracketed); /metrics counts them.
    let v = get(&srv, "/sd/node?type=OS", Some(&viewer)).json();
    assert_eq!(v[0]["targets"], json!(["[2001:db8::1]:9100"]));
    let v = get(&srv, "/api/v1/sd?tag=edge&port=9200", Some(&viewer)).json();
    assert_eq!(v.as_array().unwrap().len(), 1);
    assert_eq!(v[0]["targets"], json!(["[2001:db8::1]:9200"]));
    let text = get(&srv, "/metrics", Some(&viewer)).text();
    assert!(text.contains("ipam_ip_total 5\n"), "{text}");
}

#[test]
fn concurrent_writers_lose_nothing() {
    let srv = start();
    let (_, editor, _) = users(&srv);
    std::thread::scope(|s| {
        for t in 0..6 {
            let (srv, editor) = (&srv, &editor);
            s.spawn(move || {
                for i in 0..15 {
                    let r = send_json(
                        srv,
                        "POST",
                        "/api/v1/ip-assets",
                        Some(editor),
                        json!({"ip_address": format!("10.1.{t}.{i}"), "type": "VM"}),
                    );
                    assert_eq!(r.status, 201, "{}", r.text());
                }
            });
        }
        // Readers alongside: every answer is a 200, never "database is locked".
        for _ in 0..3 {
            let (srv, editor) = (&srv, &editor);
            s.spawn(move || {
                for path in ["/api/v1/ip-assets", "/sd/node", "/metrics"].repeat(10) {
                    let r = get(srv, path, Some(editor));
                    assert_eq!(r.status, 200, "{path}: {}", r.text());
                }
            });
        }
    });
    let v = get(&srv, "/api/v1/ip-assets?per_page=1", Some(&editor)).json();
    assert_eq!(v["total"], 90);
}
