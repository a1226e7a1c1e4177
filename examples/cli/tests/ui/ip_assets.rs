//! The IP asset pages: the list (filters, paging, sorting), create / edit / archive /
//! restore, the guarded delete, the bulk edit and what a Viewer may not do.

use ipocket_testkit::browser::Browser;
use serde_json::{json, Value};

use crate::common::{self, get, send_json, Server};
use crate::ui_common::{
    browser, csrf_token, login, run, session_cookie, start, with_cookie, USER_PASSWORD,
};

/// The Editor's API token, for seeding.
fn editor(srv: &Server) -> String {
    common::login(srv, "ed", USER_PASSWORD)
}

fn post(srv: &Server, token: &str, path: &str, body: Value) -> Value {
    let r = send_json(srv, "POST", path, Some(token), body);
    assert!(r.status < 300, "POST {path}: {}", r.text());
    r.json()
}

/// Projects alpha and beta, tags prod / edge / db, host node-01; their ids.
fn catalog(srv: &Server, token: &str) -> (i64, i64) {
    let alpha = post(
        srv,
        token,
        "/api/v1/projects",
        json!({"name": "alpha", "color": "#1d4ed8"}),
    );
    let beta = post(
        srv,
        token,
        "/api/v1/projects",
        json!({"name": "beta", "color": "#f59e0b"}),
    );
    for (name, color) in [("prod", "#dc2626"), ("edge", "#16a34a"), ("db", "#7c3aed")] {
        post(
            srv,
            token,
            "/api/v1/tags",
            json!({"name": name, "color": color}),
        );
    }
    post(srv, token, "/api/v1/hosts", json!({"name": "node-01"}));
    (alpha["id"].as_i64().unwrap(), beta["id"].as_i64().unwrap())
}

/// 10.1.0.1 … 10.1.0.30: type by `i % 3`, project by `i % 4`, tags by 5 / 2 / 7; the
/// last one archived.
fn thirty_assets(srv: &Server, token: &str) -> (i64, i64) {
    let (alpha, beta) = catalog(srv, token);
    for i in 1..=30 {
        let mut tags = Vec::new();
        if i % 5 == 0 {
            tags.push("prod");
        }
        if i % 2 == 0 {
            tags.push("edge");
        }
        if i % 7 == 0 {
            tags.push("db");
        }
        let asset_type = ["VM", "OS", "BMC"][i % 3];
        let project = [Some(alpha), Some(beta), None, None][i % 4];
        let notes = if i == 17 {
            "Special Snowflake".to_string()
        } else {
            format!("rack-{i}")
        };
        post(
            srv,
            token,
            "/api/v1/ip-assets",
            json!({
                "ip_address": format!("10.1.0.{i}"),
                "type": asset_type,
                "project_id": project,
                "host_id": null,
                "notes": notes,
                "tags": tags,
            }),
        );
    }
    post(srv, token, "/api/v1/ip-assets/10.1.0.30/archive", json!({}));
    (alpha, beta)
}

async fn rows(b: &Browser) -> usize {
    b.find_all("table.assets tbody tr").await.len()
}

async fn first_ip(b: &Browser) -> String {
    b.text("table.assets tbody tr td[data-label=IP] a").await
}

#[test]
fn the_list_filters_pages_and_sorts() {
    let (srv, _) = start();
    let token = editor(&srv);
    let (alpha, _) = thirty_assets(&srv, &token);
    run(async {
        let b = browser(&srv).await;
        login(&b, "ed", USER_PASSWORD).await;
        b.goto("/ui/ip-assets").await;
        assert_eq!(rows(&b).await, 20);
        assert!(b.text(".pager").await.contains("Showing 1–20 of 29"));
        b.screenshot("ip-assets").await;

        // The filter form: text search, then a type.
        b.fill("#f-q", "snowflake").await;
        b.click("form.filters button[type=submit]").await;
        b.find("table.assets").await;
        assert_eq!(rows(&b).await, 1);
        assert_eq!(first_ip(&b).await, "10.1.0.17");
        b.fill("#f-q", "").await;
        b.select("#f-type", "VM").await;
        b.click("form.filters button[type=submit]").await;
        b.find("table.assets").await;
        assert_eq!(rows(&b).await, 9);
        assert!(b.path().await.contains("type=VM"));

        // Project, unassigned, the three tag filters, archived only (as the form sends them).
        for (query, expected) in [
            (format!("project_id={alpha}"), 7),
            ("project_id=unassigned".to_string(), 14),
            ("unassigned-only=1".to_string(), 14),
            ("tag=prod&tag=db".to_string(), 9),
            ("tags_all=prod&tags_all=edge".to_string(), 2),
            ("tags_not=edge".to_string(), 15),
            ("archived-only=1".to_string(), 1),
        ] {
            b.goto(&format!("/ui/ip-assets?{query}")).await;
            assert_eq!(rows(&b).await, expected, "{query}");
        }
        assert_eq!(first_ip(&b).await, "10.1.0.30");
        assert!(b
            .text("table.assets .badge.archived")
            .await
            .contains("archived"));
        b.goto("/ui/ip-assets?q=nothing-like-this").await;
        assert_eq!(b.text("p.empty").await, "No IP assets match these filters.");

        // Paging: 10 per page, then the next page.
        b.goto("/ui/ip-assets").await;
        b.select("#per-page", "10").await;
        b.find("table.assets").await;
        assert!(b.text(".pager").await.contains("Showing 1–10 of 29"));
        b.click(".pager a[rel=next]").await;
        b.find("table.assets").await;
        assert_eq!(first_ip(&b).await, "10.1.0.11");
        assert_eq!(rows(&b).await, 10);
        assert!(b.path().await.contains("per_page=10"));

        // Sorting: by type (BMC < OS < VM), reversed, and addresses numerically.
        b.goto("/ui/ip-assets").await;
        b.click("th a[href*='sort=type']").await;
        b.find("th a[aria-sort=ascending]").await;
        assert_eq!(
            b.text("table.assets tbody tr td[data-label=Type]").await,
            "BMC"
        );
        b.click("th a[href*='sort=type']").await;
        b.find("th a[aria-sort=descending]").await;
        assert_eq!(
            b.text("table.assets tbody tr td[data-label=Type]").await,
            "VM"
        );
        b.goto("/ui/ip-assets?sort=ip&dir=desc").await;
        assert_eq!(first_ip(&b).await, "10.1.0.29");
        b.goto("/ui/ip-assets?sort=project").await;
        assert_eq!(
            b.text("table.assets tbody tr td[data-label=Project]").await,
            "alpha"
        );

        b.resize(390, 844).await;
        b.goto("/ui/ip-assets?per_page=10").await;
        b.screenshot("ip-assets-phone").await;
        b.close().await;
    });
}

#[test]
fn create_edit_archive_and_restore() {
    let (srv, _) = start();
    let token = editor(&srv);
    catalog(&srv, &token);
    run(async {
        let b = browser(&srv).await;
        login(&b, "ed", USER_PASSWORD).await;
        b.goto("/ui/ip-assets").await;
        assert!(b.text("p.empty").await.contains("No IP assets yet."));
        b.click("a[href='/ui/ip-assets/new']").await;

        // An invalid address: the error at its field, nothing created.
        b.fill("#f-ip_address", "10.0.0.300").await;
        b.select("#f-type", "OS").await;
        b.select("#f-project", "1").await;
        b.select("#f-tags", "prod").await;
        b.fill("#f-host", "node-01").await;
        b.fill("#f-notes", "db primary").await;
        b.click("form.asset-form button[type=submit]").await;
        let err = b.text(".field.invalid .field-error").await;
        assert!(err.contains("invalid IP address"), "{err}");
        assert_eq!(b.find("#f-notes").await.text().await.unwrap(), "db primary");
        let list = get(&srv, "/api/v1/ip-assets", Some(&token)).json();
        assert_eq!(list["total"], 0);
        b.screenshot("ip-asset-new").await;

        // Corrected: created with every field, on its page.
        b.fill("#f-ip_address", "10.0.0.30").await;
        b.click("form.asset-form button[type=submit]").await;
        b.find("dl.props").await;
        assert_eq!(b.path().await, "/ui/ip-assets/10.0.0.30");
        assert_eq!(b.text("[role=status]").await, "IP asset 10.0.0.30 created.");
        let props = b.text("dl.props").await;
        for want in ["OS", "alpha", "node-01", "prod", "db primary"] {
            assert!(props.contains(want), "{want} in {props}");
        }

        // The same address again is a conflict, shown at the field.
        b.goto("/ui/ip-assets/new").await;
        b.fill("#f-ip_address", "10.0.0.30").await;
        b.click("form.asset-form button[type=submit]").await;
        assert_eq!(
            b.text(".field.invalid .field-error").await,
            "IP address already exists."
        );

        // A BMC without a host gets the host `server_<ip>`, as in the original.
        b.goto("/ui/ip-assets/new").await;
        b.fill("#f-ip_address", "10.0.0.31").await;
        b.select("#f-type", "BMC").await;
        b.click("form.asset-form button[type=submit]").await;
        b.find("dl.props").await;
        let props = b.text("dl.props").await;
        assert!(props.contains("server_10.0.0.31"), "{props}");

        // Edit: type, no host, notes; the history shows before → after.
        b.goto("/ui/ip-assets/10.0.0.30").await;
        b.click("a[href='/ui/ip-assets/10.0.0.30/edit']").await;
        b.select("#f-type", "VM").await;
        b.fill("#f-host", "").await;
        b.fill("#f-notes", "db replica").await;
        b.click("form.asset-form button[type=submit]").await;
        b.find("dl.props").await;
        assert_eq!(b.text("[role=status]").await, "IP asset 10.0.0.30 saved.");
        let history = b.text("table tbody").await;
        assert!(
            history.contains("notes: db primary → db replica"),
            "{history}"
        );
        assert!(history.contains("type: OS → VM"), "{history}");
        let a = get(&srv, "/api/v1/ip-assets/10.0.0.30", Some(&token)).json();
        assert_eq!(
            (a["type"].as_str(), a["host_id"].as_i64()),
            (Some("VM"), None)
        );

        // Archive, then restore.
        b.click("form[action$='/archive'] button").await;
        b.find(".badge.archived").await;
        assert_eq!(
            b.text("[role=status]").await,
            "IP asset 10.0.0.30 archived."
        );
        b.screenshot("ip-asset-detail").await;
        b.click("form[action$='/restore'] button").await;
        b.find("form[action$='/archive']").await;
        assert_eq!(
            b.text("[role=status]").await,
            "IP asset 10.0.0.30 restored."
        );
        let a = get(&srv, "/api/v1/ip-assets/10.0.0.30", Some(&token)).json();
        assert_eq!(a["archived"], false);
        b.close().await;
    });
}

#[test]
fn deleting_a_high_risk_asset_needs_the_address_typed() {
    let (srv, _) = start();
    let token = editor(&srv);
    let (alpha, _) = catalog(&srv, &token);
    post(
        &srv,
        &token,
        "/api/v1/ip-assets",
        json!({"ip_address": "10.9.0.1", "type": "VM", "project_id": alpha}),
    );
    post(
        &srv,
        &token,
        "/api/v1/ip-assets",
        json!({"ip_address": "10.9.0.2", "type": "VM"}),
    );
    run(async {
        let b = browser(&srv).await;
        login(&b, "ed", USER_PASSWORD).await;
        b.goto("/ui/ip-assets/10.9.0.1").await;
        b.click("a[href='/ui/ip-assets/10.9.0.1/delete']").await;
        let submit = b.find("[data-confirm-submit]").await;
        assert!(!submit.is_enabled().await.unwrap());
        b.click("#f-acknowledge").await;
        assert!(
            !submit.is_enabled().await.unwrap(),
            "the address is not typed yet"
        );
        b.fill("#f-confirm_ip", "10.9.0.").await;
        assert!(!submit.is_enabled().await.unwrap());
        b.fill("#f-confirm_ip", "10.9.0.1").await;
        assert!(submit.is_enabled().await.unwrap());
        assert!(b.text(".flash-warning").await.contains("project alpha"));
        b.screenshot("ip-asset-delete").await;

        // The server checks too: acknowledged but without the address, nothing is deleted.
        let csrf = csrf_token(&b).await;
        let cookie = session_cookie(&b).await;
        let body = format!("csrf={csrf}&acknowledge=1");
        let r = with_cookie(
            &srv,
            "POST",
            "/ui/ip-assets/10.9.0.1/delete",
            &cookie,
            Some(&body),
        );
        assert_eq!(r.status, 422, "{}", r.text());
        assert!(r.text().contains("Type 10.9.0.1 exactly"));
        assert_eq!(
            get(&srv, "/api/v1/ip-assets/10.9.0.1", Some(&token)).status,
            200
        );

        b.click("[data-confirm-submit]").await;
        b.find("[role=status]").await;
        assert_eq!(b.path().await, "/ui/ip-assets");
        assert_eq!(b.text("[role=status]").await, "IP asset 10.9.0.1 deleted.");
        assert_eq!(
            get(&srv, "/api/v1/ip-assets/10.9.0.1", Some(&token)).status,
            404
        );

        // A low-risk asset needs the box only.
        b.goto("/ui/ip-assets/10.9.0.2/delete").await;
        assert!(b.find_all("#f-confirm_ip").await.is_empty());
        b.click("#f-acknowledge").await;
        b.click("[data-confirm-submit]").await;
        b.find("[role=status]").await;
        assert_eq!(
            get(&srv, "/api/v1/ip-assets/10.9.0.2", Some(&token)).status,
            404
        );
        b.close().await;
    });
}

#[test]
fn bulk_edit_assigns_a_project_and_adds_a_tag_to_the_selected_rows() {
    let (srv, _) = start();
    let token = editor(&srv);
    let (_, beta) = catalog(&srv, &token);
    for i in 1..=5 {
        post(
            &srv,
            &token,
            "/api/v1/ip-assets",
            json!({"ip_address": format!("10.5.0.{i}"), "type": "VM", "tags": ["db"]}),
        );
    }
    run(async {
        let b = browser(&srv).await;
        login(&b, "ed", USER_PASSWORD).await;
        b.goto("/ui/ip-assets?per_page=50").await;
        for ip in ["10.5.0.1", "10.5.0.3", "10.5.0.4"] {
            b.click(&format!("input[name=ip][value='{ip}']")).await;
        }
        b.click("details.bulk summary").await;
        b.select("#f-bulk_project", &beta.to_string()).await;
        b.select("#f-add_tags", "edge").await;
        b.click("#bulk button[type=submit]").await;
        b.find("[role=status]").await;
        assert_eq!(b.text("[role=status]").await, "Updated 3 IP assets.");
        assert_eq!(
            b.path().await,
            "/ui/ip-assets?per_page=50",
            "the filters are kept"
        );
        for i in 1..=5 {
            let a = get(&srv, &format!("/api/v1/ip-assets/10.5.0.{i}"), Some(&token)).json();
            let picked = [1, 3, 4].contains(&i);
            assert_eq!(
                a["project_id"].as_i64(),
                picked.then_some(beta),
                "10.5.0.{i}"
            );
            let tags: Vec<&str> = a["tags"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t.as_str().unwrap())
                .collect();
            assert_eq!(
                tags,
                if picked {
                    vec!["db", "edge"]
                } else {
                    vec!["db"]
                },
                "10.5.0.{i}"
            );
        }

        // All or nothing: a row that no longer exists, and nothing changes.
        b.click("input[name=ip][value='10.5.0.2']").await;
        b.click("input[name=ip][value='10.5.0.5']").await;
        send_json(
            &srv,
            "DELETE",
            "/api/v1/ip-assets/10.5.0.5",
            Some(&token),
            json!(null),
        );
        b.click("details.bulk summary").await;
        b.select("#f-bulk_type", "VIP").await;
        b.click("#bulk button[type=submit]").await;
        let alert = b.text(".flash-error").await;
        assert!(alert.starts_with("Nothing was changed"), "{alert}");
        let a = get(&srv, "/api/v1/ip-assets/10.5.0.2", Some(&token)).json();
        assert_eq!(a["type"], "VM");
        b.close().await;
    });
}

#[test]
fn a_viewer_sees_no_write_controls_and_cannot_post() {
    let (srv, _) = start();
    let token = editor(&srv);
    post(
        &srv,
        &token,
        "/api/v1/ip-assets",
        json!({"ip_address": "10.7.0.1", "type": "VM"}),
    );
    post(
        &srv,
        &token,
        "/api/v1/ip-assets",
        json!({"ip_address": "2001:DB8::1", "type": "VIP"}),
    );
    run(async {
        let b = browser(&srv).await;
        login(&b, "vi", USER_PASSWORD).await;
        b.goto("/ui/ip-assets").await;
        assert_eq!(rows(&b).await, 2);
        assert!(b.find_all("input[name=ip]").await.is_empty());
        // An IPv6 key travels percent-encoded in the link.
        b.click("a[href='/ui/ip-assets/2001%3Adb8%3A%3A1']").await;
        assert_eq!(b.text("h1").await, "2001:db8::1");
        assert!(b.find_all("details.bulk").await.is_empty());
        assert!(b.find_all("a[href='/ui/ip-assets/new']").await.is_empty());
        b.goto("/ui/ip-assets/10.7.0.1").await;
        b.find("dl.props").await;
        assert!(b
            .find_all("a[href$='/edit'], a[href$='/delete'], form[action$='/archive']")
            .await
            .is_empty());

        // A form post with the Viewer's valid CSRF token is still refused.
        let csrf = csrf_token(&b).await;
        let cookie = session_cookie(&b).await;
        let body = format!("csrf={csrf}&ip_address=10.7.0.2&type=VM");
        let r = with_cookie(&srv, "POST", "/ui/ip-assets/new", &cookie, Some(&body));
        assert_eq!(r.status, 403, "{}", r.text());
        assert_eq!(
            get(&srv, "/api/v1/ip-assets/10.7.0.2", Some(&token)).status,
            404
        );
        b.goto("/ui/ip-assets/new").await;
        assert_eq!(b.text("h1").await, "Forbidden");
        b.close().await;
    });
}
