//! The OpenAPI document against the router and against real answers.

use serde_json::{json, Value};

use crate::common::*;

/// The JSON Schema keywords the document uses; [`conforms`] implements each of them and the
/// test fails if the document starts using another one.
const SCHEMA_KEYWORDS: &[&str] = &[
    "type",
    "const",
    "enum",
    "required",
    "properties",
    "additionalProperties",
    "items",
    "oneOf",
    "$ref",
    "description",
];

/// Checks `v` against `schema` (the subset of JSON Schema 2020-12 in [`SCHEMA_KEYWORDS`]);
/// the error names the JSON path.
pub(crate) fn conforms(doc: &Value, schema: &Value, v: &Value, at: &str) -> Result<(), String> {
    let Some(schema) = schema.as_object() else {
        return Ok(());
    };
    for k in schema.keys() {
        assert!(
            SCHEMA_KEYWORDS.contains(&k.as_str()),
            "schema keyword {k} at {at} is not checked by this test"
        );
    }
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = r.trim_start_matches("#/components/schemas/");
        let target = &doc["components"]["schemas"][name];
        assert!(target.is_object(), "dangling $ref {r}");
        return conforms(doc, target, v, at);
    }
    if let Some(types) = schema.get("type") {
        let names: Vec<&str> = match types {
            Value::String(t) => vec![t.as_str()],
            Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        let ok = names.iter().any(|t| match *t {
            "object" => v.is_object(),
            "array" => v.is_array(),
            "string" => v.is_string(),
            "integer" => v.is_i64() || v.is_u64(),
            "number" => v.is_number(),
            "boolean" => v.is_boolean(),
            "null" => v.is_null(),
            _ => false,
        });
        if !ok {
            return Err(format!("{at}: expected {types}, found {v}"));
        }
    }
    if let Some(c) = schema.get("const") {
        if c != v {
            return Err(format!("{at}: expected {c}, found {v}"));
        }
    }
    if let Some(e) = schema.get("enum").and_then(Value::as_array) {
        if !e.contains(v) {
            return Err(format!("{at}: {v} is not one of {e:?}"));
        }
    }
    if let Some(options) = schema.get("oneOf").and_then(Value::as_array) {
        let n = options
            .iter()
            .filter(|o| conforms(doc, o, v, at).is_ok())
            .count();
        if n != 1 {
            return Err(format!("{at}: {v} matches {n} of the oneOf schemas"));
        }
    }
    if let Some(o) = v.as_object() {
        for r in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let r = r.as_str().unwrap();
            if !o.contains_key(r) {
                return Err(format!("{at}: required {r:?} is missing"));
            }
        }
        let props = schema.get("properties").and_then(Value::as_object);
        for (k, x) in o {
            match props.and_then(|p| p.get(k)) {
                Some(ps) => conforms(doc, ps, x, &format!("{at}.{k}"))?,
                None => match schema.get("additionalProperties") {
                    Some(Value::Bool(false)) => return Err(format!("{at}: {k:?} is not allowed")),
                    Some(extra) => conforms(doc, extra, x, &format!("{at}.{k}"))?,
                    None => {}
                },
            }
        }
    }
    if let (Some(items), Some(a)) = (schema.get("items"), v.as_array()) {
        for (i, x) in a.iter().enumerate() {
            conforms(doc, items, x, &format!("{at}[{i}]"))?;
        }
    }
    Ok(())
}

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

fn concrete(path: &str) -> String {
    path.replace("{id}", "999")
        .replace("{ip}", "10.99.0.1")
        .replace("{file}", "bundle.json")
        .replace("{server_id}", "web-01")
        .replace("{group_id}", "999")
        .replace("{target_id}", "999")
}

/// The OpenAPI document and the router agree both ways: every documented operation is routed
/// (no 405, no "no such endpoint"), every undocumented method on a documented path is 405, and
/// every route pattern the router names is a documented path.
#[test]
fn openapi_document_matches_the_router() {
    let srv = start();
    let r = get(&srv, "/api/v1/openapi.json", None);
    assert_eq!(r.status, 200);
    let doc = r.json();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    let mut operations = 0;
    for (path, ops) in paths {
        let ops = ops.as_object().unwrap();
        for method in METHODS {
            let r = request(
                &srv,
                &method.to_uppercase(),
                &concrete(path),
                None,
                None,
                b"",
            );
            let v = r.json();
            if let Some(op) = ops.get(method) {
                operations += 1;
                assert!(
                    r.status != 405 && v["error"]["message"] != "no such endpoint",
                    "{method} {path} is documented but not routed: {v}"
                );
                let responses = op["responses"].as_object().unwrap();
                assert!(
                    responses.keys().any(|k| k.starts_with('2')),
                    "{method} {path}: no success response"
                );
                for (code, resp) in responses {
                    let body_schema = resp["content"]
                        .as_object()
                        .and_then(|c| c.values().next())
                        .map(|m| &m["schema"]);
                    assert!(
                        code == "204" || body_schema.is_some(),
                        "{method} {path} {code}: no response schema"
                    );
                }
                if ["post", "put", "patch"].contains(&method)
                    && !path.ends_with("/archive")
                    && !path.ends_with("/restore")
                    && !path.ends_with("/logout")
                    && !path.ends_with("/allocate")
                    && !path.ends_with("/reconcile/apply")
                    && !path.contains("/prometheus/")
                {
                    assert!(
                        op["requestBody"]["content"].is_object(),
                        "{method} {path}: no request body schema"
                    );
                }
            } else {
                assert_eq!(
                    (r.status, v["error"]["code"].as_str()),
                    (405, Some("method_not_allowed")),
                    "{method} {path} is not documented, so it must be 405"
                );
            }
        }
    }
    assert!(operations >= 80, "{operations}");

    for file in ["routing.rs", "handlers/alerting.rs"] {
        let src = std::fs::read_to_string(format!(
            "{}/../server/src/{file}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        for literal in src.split('"').skip(1).step_by(2) {
            // `/` only redirects to the web UI (HTML, docs/ui.md), which is not API.
            if literal.starts_with('/') && !literal.contains(' ') && literal != "/" {
                assert!(
                    paths.contains_key(literal),
                    "route {literal} ({file}) is missing from openapi.json"
                );
            }
        }
    }
}

/// Real answers of the server conform to the schemas the document gives for them.
#[test]
fn openapi_schemas_match_real_responses() {
    let rules_dir = tempfile::tempdir().unwrap();
    let srv = start_with(
        &["--rules-dir", rules_dir.path().to_str().unwrap()],
        Some(ADMIN_PASSWORD),
    );
    let (admin, editor, _viewer) = users(&srv);
    let doc = get(&srv, "/api/v1/openapi.json", None).json();
    let check = |method: &str, pattern: &str, path: &str, token: &str, body: Option<Value>| {
        let r = match &body {
            Some(b) => send_json(&srv, method, path, Some(token), b.clone()),
            None => request(&srv, method, path, Some(token), None, b""),
        };
        let op = &doc["paths"][pattern][method.to_lowercase()];
        assert!(op.is_object(), "{method} {pattern} is not documented");
        if let Some(b) = &body {
            let schema = &op["requestBody"]["content"]["application/json"]["schema"];
            conforms(&doc, schema, b, "request").unwrap_or_else(|e| {
                panic!("{method} {path}: the request body does not match the document: {e}")
            });
        }
        let code = r.status.to_string();
        // Errors fall under `default` (the Error schema); a success must be listed.
        let resp = op["responses"]
            .get(&code)
            .or_else(|| (r.status >= 400).then(|| &op["responses"]["default"]))
            .unwrap_or_else(|| {
                panic!("{method} {path} answered undocumented {code}: {}", r.text())
            });
        if code != "204" {
            let schema = &resp["content"]["application/json"]["schema"];
            conforms(&doc, schema, &r.json(), "response")
                .unwrap_or_else(|e| panic!("{method} {path} ({code}): {e}\n{}", r.text()));
        }
        r
    };
    let ed = editor.as_str();
    check("GET", "/health", "/health", ed, None);
    check(
        "GET",
        "/metrics/prometheus/health",
        "/metrics/prometheus/health",
        ed,
        None,
    );
    check("GET", "/api/v1/auth/me", "/api/v1/auth/me", ed, None);
    let own = check(
        "GET",
        "/api/v1/auth/sessions",
        "/api/v1/auth/sessions",
        ed,
        None,
    )
    .json();
    assert_eq!(own[0]["current"], true, "{own}");
    check("GET", "/api/v1/users", "/api/v1/users", &admin, None);
    let token = check(
        "POST",
        "/api/v1/tokens",
        "/api/v1/tokens",
        &admin,
        Some(json!({"name": "prom", "scopes": ["metrics", "sd"], "expires_in_days": 30})),
    )
    .json();
    check("GET", "/api/v1/tokens", "/api/v1/tokens", &admin, None);
    check(
        "DELETE",
        "/api/v1/tokens/{id}",
        &format!("/api/v1/tokens/{}", token["id"]),
        &admin,
        None,
    );
    let project = check(
        "POST",
        "/api/v1/projects",
        "/api/v1/projects",
        ed,
        Some(json!({"name": "core", "description": "core network", "color": "#112233"})),
    )
    .json();
    check("GET", "/api/v1/projects", "/api/v1/projects", ed, None);
    check(
        "POST",
        "/api/v1/tags",
        "/api/v1/tags",
        ed,
        Some(json!({"name": "prod"})),
    );
    check(
        "POST",
        "/api/v1/vendors",
        "/api/v1/vendors",
        ed,
        Some(json!({"name": "Dell"})),
    );
    let host = check(
        "POST",
        "/api/v1/hosts",
        "/api/v1/hosts",
        ed,
        Some(json!({"name": "node-1", "notes": null})),
    )
    .json();
    let range = check(
        "POST",
        "/api/v1/ranges",
        "/api/v1/ranges",
        ed,
        Some(json!({"name": "lab", "cidr": "10.5.0.0/29"})),
    )
    .json();
    check(
        "POST",
        "/api/v1/ip-assets",
        "/api/v1/ip-assets",
        ed,
        Some(
            json!({"ip_address": "10.5.0.2", "type": "OS", "project_id": project["id"],
                    "host_id": host["id"], "tags": ["prod"], "notes": "first"}),
        ),
    );
    check(
        "GET",
        "/api/v1/ip-assets",
        "/api/v1/ip-assets?tag=prod",
        ed,
        None,
    );
    check(
        "GET",
        "/api/v1/ip-assets/{ip}",
        "/api/v1/ip-assets/10.5.0.2",
        ed,
        None,
    );
    check(
        "PATCH",
        "/api/v1/ip-assets/{ip}",
        "/api/v1/ip-assets/10.5.0.2",
        ed,
        Some(json!({"notes": null, "tags": "prod"})),
    );
    check(
        "GET",
        "/api/v1/ip-assets/{ip}",
        "/api/v1/ip-assets/10.9.9.9",
        ed,
        None,
    );
    let (hid, rid) = (host["id"].as_i64().unwrap(), range["id"].as_i64().unwrap());
    check(
        "GET",
        "/api/v1/hosts/{id}",
        &format!("/api/v1/hosts/{hid}"),
        ed,
        None,
    );
    for (pattern, tail) in [
        ("/api/v1/ranges/{id}/utilization", "utilization"),
        ("/api/v1/ranges/{id}/next-free", "next-free"),
        ("/api/v1/ranges/{id}/addresses", "addresses"),
    ] {
        check(
            "GET",
            pattern,
            &format!("/api/v1/ranges/{rid}/{tail}"),
            ed,
            None,
        );
    }
    check(
        "POST",
        "/api/v1/ranges/{id}/allocate",
        &format!("/api/v1/ranges/{rid}/allocate"),
        ed,
        None,
    );
    check("GET", "/api/v1/audit-log", "/api/v1/audit-log", ed, None);
    check("GET", "/sd/node", "/sd/node", ed, None);
    check("GET", "/api/v1/sd", "/api/v1/sd", ed, None);
    check(
        "POST",
        "/api/v1/servers",
        "/api/v1/servers",
        ed,
        Some(json!({"server_id": "web-01", "name": null})),
    );
    check("GET", "/api/v1/servers", "/api/v1/servers", ed, None);

    let group = check(
        "POST",
        "/api/v1/alert-groups",
        "/api/v1/alert-groups",
        ed,
        Some(json!({"name": "edge", "options": {"interval": "1m"}})),
    )
    .json();
    let template = check(
        "POST",
        "/api/v1/alert-templates",
        "/api/v1/alert-templates",
        ed,
        Some(json!({"name": "Down", "query_template": "up == 0", "severity": "info"})),
    )
    .json();
    check(
        "POST",
        "/api/v1/alert-rules",
        "/api/v1/alert-rules",
        ed,
        Some(json!({"group_id": group["id"], "template_id": template["id"], "severity": null})),
    );
    check(
        "POST",
        "/api/v1/alert-targets",
        "/api/v1/alert-targets",
        ed,
        Some(json!({"hostname": "r1", "address": "10.5.0.2", "group_ids": [group["id"]]})),
    );
    for kind in [
        "alert-groups",
        "alert-templates",
        "alert-rules",
        "alert-targets",
    ] {
        let path = format!("/api/v1/{kind}");
        check("GET", &path, &path, ed, None);
        check(
            "GET",
            &format!("{path}/{{id}}"),
            &format!("{path}/1"),
            ed,
            None,
        );
    }
    check(
        "POST",
        "/api/v1/prometheus/rules/regenerate/{group_id}",
        "/api/v1/prometheus/rules/regenerate/edge",
        ed,
        None,
    );
    check(
        "POST",
        "/api/v1/prometheus/rules/regenerate",
        "/api/v1/prometheus/rules/regenerate?dry_run=1",
        ed,
        None,
    );
    check(
        "GET",
        "/api/v1/prometheus/rules/files",
        "/api/v1/prometheus/rules/files",
        ed,
        None,
    );
    check(
        "GET",
        "/api/v1/prometheus/rules/effective/{target_id}",
        "/api/v1/prometheus/rules/effective/r1",
        ed,
        None,
    );
    check(
        "POST",
        "/api/v1/import",
        "/api/v1/import?dry_run=1",
        ed,
        Some(
            json!({"app": "ipocket", "schema_version": "1", "data": {"ip_assets": [{"ip_address": "10.5.0.3", "type": "VM"}]}}),
        ),
    );
}
