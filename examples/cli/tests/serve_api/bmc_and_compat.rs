//! Behaviours kept from the original ipocket: the BMC auto-host on API creates
//! (`--auto-host-for-bmc`) and the export it imports unchanged (`?compat=original`).

use serde_json::{json, Value};

use crate::common::*;

fn create(srv: &Server, token: &str, body: Value) -> Value {
    let r = send_json(srv, "POST", "/api/v1/ip-assets", Some(token), body);
    assert_eq!(r.status, 201, "{}", r.text());
    r.json()
}

fn host_names(srv: &Server, token: &str) -> Vec<String> {
    let v = get(srv, "/api/v1/hosts", Some(token)).json();
    let items = v.get("items").unwrap_or(&v).as_array().unwrap().clone();
    items
        .iter()
        .map(|h| h["name"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn bmc_without_host_gets_server_host_by_default() {
    let srv = start();
    let (_, editor, viewer) = users(&srv);
    // A new BMC: host `server_<ip>` created and linked.
    let a = create(
        &srv,
        &editor,
        json!({"ip_address": "10.9.0.1", "type": "BMC"}),
    );
    assert_eq!(a["host_name"], "server_10.9.0.1", "{a}");
    // The host exists already: reused, not duplicated.
    let r = send_json(
        &srv,
        "POST",
        "/api/v1/hosts",
        Some(&editor),
        json!({"name": "server_10.9.0.2"}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let a = create(
        &srv,
        &editor,
        json!({"ip_address": "10.9.0.2", "type": "IPMI_ILO"}),
    );
    assert_eq!(a["host_name"], "server_10.9.0.2");
    // A BMC with a host keeps it; other types get none.
    let a = create(
        &srv,
        &editor,
        json!({"ip_address": "10.9.0.3", "type": "BMC", "host_id": r.json()["id"]}),
    );
    assert_eq!(a["host_name"], "server_10.9.0.2");
    let a = create(
        &srv,
        &editor,
        json!({"ip_address": "10.9.0.4", "type": "OS"}),
    );
    assert_eq!(a["host_name"], Value::Null);
    // An import never does it.
    let r = request(
        &srv,
        "POST",
        "/api/v1/import?apply=1",
        Some(&editor),
        Some("application/json"),
        br#"{"schema_version":"1","data":{"ip_assets":[{"ip_address":"10.9.0.5","type":"BMC"}]}}"#,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let a = get(&srv, "/api/v1/ip-assets/10.9.0.5", Some(&viewer)).json();
    assert_eq!(a["host_name"], Value::Null, "{a}");
    let mut hosts = host_names(&srv, &viewer);
    hosts.sort();
    assert_eq!(hosts, ["server_10.9.0.1", "server_10.9.0.2"]);
    // The created host is audited.
    let v = get(&srv, "/api/v1/audit-log?target_type=HOST", Some(&viewer)).json();
    let created: Vec<_> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "CREATE" && e["target_label"] == "server_10.9.0.1")
        .collect();
    assert_eq!(created.len(), 1, "{v}");
    assert_eq!(created[0]["username"], "ed");
}

#[test]
fn auto_host_for_bmc_can_be_turned_off() {
    let srv = start_with(&["--auto-host-for-bmc=false"], Some(ADMIN_PASSWORD));
    let (_, editor, viewer) = users(&srv);
    let a = create(
        &srv,
        &editor,
        json!({"ip_address": "10.9.1.1", "type": "BMC"}),
    );
    assert_eq!(a["host_name"], Value::Null, "{a}");
    assert!(host_names(&srv, &viewer).is_empty());
}

#[test]
fn original_compat_export_has_the_original_layout_and_imports_back() {
    let srv = start();
    let (_, editor, viewer) = users(&srv);
    create(
        &srv,
        &editor,
        json!({"ip_address": "10.9.2.1", "type": "VM", "tags": ["prod"]}),
    );
    create(
        &srv,
        &editor,
        json!({"ip_address": "10.9.2.2", "type": "BMC"}),
    );
    let r = get(
        &srv,
        "/api/v1/export/bundle.json?compat=original",
        Some(&viewer),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let text = r.text();
    // Key order as the original writes it (serde_json's Value would sort keys).
    let order = |from: &str, keys: &[&str]| {
        let part = &text[text.find(from).unwrap()..];
        let pos: Vec<usize> = keys
            .iter()
            .map(|k| {
                part.find(&format!("\"{k}\":"))
                    .unwrap_or_else(|| panic!("{k} in {text}"))
            })
            .collect();
        assert!(pos.windows(2).all(|w| w[0] < w[1]), "{keys:?} in {text}");
    };
    order("{", &["app", "schema_version", "exported_at", "data"]);
    order("\"data\"", &["vendors", "projects", "hosts", "ip_assets"]);
    order(
        "\"ip_assets\"",
        &[
            "ip_address",
            "type",
            "project_name",
            "host_name",
            "notes",
            "archived",
            "created_at",
            "updated_at",
            "tags",
        ],
    );
    let v = r.json();
    let data = v["data"].as_object().unwrap();
    assert_eq!(data.len(), 4, "no tags or ip_ranges sections: {v}");
    let asset = &v["data"]["ip_assets"][0];
    assert_eq!(asset["notes"], Value::Null);
    assert_eq!(asset["tags"], json!(["prod"]));
    let created = asset["created_at"].as_str().unwrap();
    assert_eq!((created.len(), &created[10..11]), (19, " "), "{created}");
    assert_eq!(v["data"]["hosts"][0]["notes"], Value::Null);
    assert_eq!(v["data"]["hosts"][0]["bmc_ip"], "10.9.2.2");
    let at = v["exported_at"].as_str().unwrap();
    assert!(at.ends_with("+00:00") && at.len() == 32, "{at}");
    // The native export still has every section.
    let native = get(&srv, "/api/v1/export/bundle.json", Some(&viewer)).json();
    assert!(native["data"]["tags"].is_array() && native["data"]["ip_ranges"].is_array());
    // Our own import reads it back: nothing to change.
    let r = request(
        &srv,
        "POST",
        "/api/v1/import?dry_run=1",
        Some(&editor),
        Some("application/json"),
        &r.body,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let summary = r.json()["plan"]["summary"].clone();
    for (section, counts) in summary.as_object().unwrap() {
        assert_eq!(
            (&counts["create"], &counts["update"]),
            (&json!(0), &json!(0)),
            "{section}: {summary}"
        );
    }
    assert_eq!(summary["ip_assets"]["skip"], 2, "{summary}");
    // An unknown mode is refused, located.
    let r = get(&srv, "/api/v1/export/bundle.json?compat=v0", Some(&viewer));
    assert_eq!(r.status, 422, "{}", r.text());
    assert!(r.text().contains("compat"), "{}", r.text());
}
