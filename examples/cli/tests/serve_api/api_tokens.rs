//! Scoped API tokens: created by an Admin, read `/metrics` and service discovery with
//! `Authorization: Bearer`, refused everywhere else, listed with their last use, revoked.

use serde_json::json;

use crate::common::*;

fn raw_get(srv: &Server, path: &str, extra_headers: &str) -> Resp {
    let head = format!(
        "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n{extra_headers}\r\n",
        srv.addr
    );
    raw_request(&srv.addr, &head, b"")
}

#[test]
fn scoped_tokens_read_metrics_and_sd_only_and_stop_when_revoked() {
    let srv = start();
    let (admin, editor, _viewer) = users(&srv);
    let create = |token: &str, body: serde_json::Value| {
        send_json(&srv, "POST", "/api/v1/tokens", Some(token), body)
    };

    // Only an Admin manages tokens; the library checks the input.
    let r = create(&editor, json!({"name": "p", "scopes": ["metrics"]}));
    assert_eq!((r.status, r.error_code().as_str()), (403, "forbidden"));
    assert_eq!(get(&srv, "/api/v1/tokens", Some(&editor)).status, 403);
    let r = create(&admin, json!({"name": "p", "scopes": ["metrics", "write"]}));
    assert_eq!(r.status, 422, "{}", r.text());
    assert_eq!(r.json()["error"]["details"]["field"], "scopes");
    let r = create(&admin, json!({"name": "p", "scopes": []}));
    assert_eq!(r.status, 422, "{}", r.text());

    let r = create(
        &admin,
        json!({"name": "prometheus", "scopes": ["metrics", "sd"], "expires_in_days": 90}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let both = r.json();
    let token = both["token"].as_str().unwrap().to_string();
    assert!(token.starts_with("ipt_") && token.len() == 68, "{token}");
    assert_eq!(both["created_by"], "admin");
    assert!(both["expires_at"].is_string() && both["last_used_at"].is_null());
    let r = create(&admin, json!({"name": "prometheus", "scopes": ["sd"]}));
    assert_eq!((r.status, r.error_code().as_str()), (409, "conflict"));
    let metrics_only = create(&admin, json!({"name": "m", "scopes": ["metrics"]})).json();
    let metrics_only = metrics_only["token"].as_str().unwrap().to_string();

    // What Prometheus sends (`authorization:` / `bearer_token`) reads its scopes.
    for path in ["/metrics", "/sd/node", "/api/v1/sd?group_by=project"] {
        let r = get(&srv, path, Some(&token));
        assert_eq!(r.status, 200, "{path}: {}", r.text());
    }
    assert_eq!(get(&srv, "/metrics", Some(&metrics_only)).status, 200);
    let r = get(&srv, "/sd/node", Some(&metrics_only));
    assert_eq!((r.status, r.error_code().as_str()), (403, "forbidden"));
    assert!(r.text().contains("scope sd"), "{}", r.text());

    // Nowhere else: not the API (reads included), not the web UI.
    for (method, path) in [
        ("GET", "/api/v1/ip-assets"),
        ("GET", "/api/v1/auth/me"),
        ("GET", "/api/v1/tokens"),
        ("POST", "/api/v1/ip-assets"),
        ("GET", "/api/v1/export/bundle.json"),
    ] {
        let r = send_json(&srv, method, path, Some(&token), json!({}));
        assert_eq!(r.status, 403, "{method} {path}: {}", r.text());
        assert!(r.text().contains("needs a login"), "{}", r.text());
    }
    let r = raw_get(
        &srv,
        "/ui/ip-assets",
        &format!("Cookie: ipocket_session={token}\r\n"),
    );
    assert_eq!(r.status, 303);
    assert!(r.header("location").unwrap().starts_with("/ui/login"));

    // Listed without the secret, with its creator and last use; creation audited.
    let r = get(&srv, "/api/v1/tokens", Some(&admin));
    assert_eq!(r.status, 200);
    assert!(!r.text().contains(&token), "{}", r.text());
    let list = r.json();
    let prom = list
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "prometheus")
        .unwrap()
        .clone();
    assert_eq!(prom["scopes"], json!(["metrics", "sd"]));
    assert!(prom["last_used_at"].is_string(), "{prom}");
    let audit = get(
        &srv,
        "/api/v1/audit-log?target_type=API_TOKEN",
        Some(&admin),
    )
    .json();
    let rows: Vec<_> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap(),
                e["username"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(rows, [("CREATE", "admin"), ("CREATE", "admin")]);

    // Revoked: 401 at once, audited.
    let path = format!("/api/v1/tokens/{}", prom["id"]);
    assert_eq!(
        request(&srv, "DELETE", &path, Some(&editor), None, b"").status,
        403
    );
    assert_eq!(
        request(&srv, "DELETE", &path, Some(&admin), None, b"").status,
        204
    );
    assert_eq!(
        request(&srv, "DELETE", &path, Some(&admin), None, b"").status,
        404
    );
    for path in ["/metrics", "/sd/node"] {
        let r = get(&srv, path, Some(&token));
        assert_eq!((r.status, r.error_code().as_str()), (401, "unauthorized"));
        assert!(r.text().contains("revoked"), "{}", r.text());
    }
    let audit = get(
        &srv,
        "/api/v1/audit-log?target_type=API_TOKEN",
        Some(&admin),
    )
    .json();
    assert_eq!(audit["items"][0]["action"], "REVOKE");
    assert_eq!(audit["items"][0]["target_label"], "prometheus");
}

/// Prometheus 2.42's `http_sd_configs` send `Authorization: <token>` without a type unless
/// `type: Bearer` is set: the 401 says so.
#[test]
fn an_authorization_header_without_a_type_is_explained() {
    let srv = start();
    let r = raw_get(&srv, "/sd/node", "Authorization: ipt_abc\r\n");
    assert_eq!((r.status, r.error_code().as_str()), (401, "unauthorized"));
    assert!(r.text().contains("type: Bearer"), "{}", r.text());
    let r = get(&srv, "/sd/node", None);
    assert!(!r.text().contains("type: Bearer"), "{}", r.text());
}
