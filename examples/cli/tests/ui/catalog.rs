//! Projects, tags and vendors: create (a duplicate refused at the name), edit, delete; and
//! what a Viewer may not do.

use serde_json::json;

use crate::common::{login as api_login, send_json};
use crate::ui_common::{
    browser, csrf_token, login, run, session_cookie, start, with_cookie, USER_PASSWORD,
};

#[test]
fn projects_are_created_edited_and_deleted_and_a_duplicate_is_refused_at_the_name() {
    let (srv, _) = start();
    run(async {
        let b = browser(&srv).await;
        login(&b, "ed", USER_PASSWORD).await;
        b.goto("/ui/projects").await;
        b.fill("#f-name", "Core").await;
        b.fill("#f-description", "the core network").await;
        b.fill("#f-color", "#1D4ED8").await;
        b.click("form[action='/ui/projects'] button[type=submit]")
            .await;
        assert_eq!(b.text("[role=status]").await, "Created project Core.");
        assert!(b.text("tbody").await.contains("#1d4ed8"));
        // The chip has the project's colour (from the nonce'd style block).
        let chip = b.find("tbody .chip").await;
        assert_eq!(
            chip.css_value("background-color").await.unwrap(),
            "rgba(29, 78, 216, 1)"
        );

        b.fill("#f-name", "Core").await;
        b.click("form[action='/ui/projects'] button[type=submit]")
            .await;
        assert_eq!(b.text("#f-name-err").await, "Project name already exists.");
        b.fill("#f-name", "Edge").await;
        b.fill("#f-color", "red").await;
        // The pattern attribute would stop the browser: submit as a script-less client would.
        b.client
            .execute(
                "document.querySelector('#f-color').removeAttribute('pattern')",
                vec![],
            )
            .await
            .unwrap();
        b.click("form[action='/ui/projects'] button[type=submit]")
            .await;
        assert!(b
            .text("#f-color-err")
            .await
            .contains("must be a hex value like #1a2b3c"));
        b.fill("#f-color", "").await;
        b.click("form[action='/ui/projects'] button[type=submit]")
            .await;
        assert_eq!(b.text("[role=status]").await, "Created project Edge.");
        b.screenshot("projects").await;

        b.click("a[aria-label='Edit Core']").await;
        b.fill("#f-name", "Core-1").await;
        b.click("form.panel button[type=submit]").await;
        assert_eq!(b.text("[role=status]").await, "Saved project Core-1.");
        b.click("a[aria-label='Edit Core-1']").await;
        b.click("#confirm-delete").await;
        b.click(".danger-zone button[type=submit]").await;
        assert_eq!(b.text("[role=status]").await, "Deleted project Core-1.");
        assert!(!b.text("tbody").await.contains("Core-1"));
        b.close().await;
    });
}

#[test]
fn tags_get_a_suggested_colour_and_vendors_are_renamed() {
    let (srv, _) = start();
    run(async {
        let b = browser(&srv).await;
        login(&b, "ed", USER_PASSWORD).await;
        b.goto("/ui/tags").await;
        let preset = b
            .find("#f-color_pick")
            .await
            .attr("value")
            .await
            .unwrap()
            .unwrap();
        assert!(preset.len() == 7 && preset.starts_with('#'), "{preset}");
        b.click("button[data-suggest-color]").await;
        b.fill("#f-name", "Prod").await;
        b.click("form[action='/ui/tags'] button[type=submit]").await;
        assert_eq!(b.text("[role=status]").await, "Created tag prod.");
        b.fill("#f-name", "PROD").await;
        b.click("form[action='/ui/tags'] button[type=submit]").await;
        assert_eq!(b.text("#f-name-err").await, "Tag name already exists.");
        b.fill("#f-name", "edge").await;
        b.fill("#f-color", "#ff8800").await;
        b.click("form[action='/ui/tags'] button[type=submit]").await;
        b.screenshot("tags").await;
        b.click("a[aria-label='Edit edge']").await;
        b.fill("#f-name", "edge-1").await;
        b.click("form.panel button[type=submit]").await;
        assert_eq!(b.text("[role=status]").await, "Saved tag edge-1.");
        b.click("a[aria-label='Edit edge-1']").await;
        b.click("#confirm-delete").await;
        b.click(".danger-zone button[type=submit]").await;
        assert_eq!(b.text("[role=status]").await, "Deleted tag edge-1.");

        b.goto("/ui/vendors").await;
        for name in ["HPE", "Dell"] {
            b.fill("#f-name", name).await;
            b.click("form[action='/ui/vendors'] button[type=submit]")
                .await;
            assert_eq!(
                b.text("[role=status]").await,
                format!("Created vendor {name}.")
            );
        }
        b.fill("#f-name", "Dell").await;
        b.click("form[action='/ui/vendors'] button[type=submit]")
            .await;
        assert_eq!(b.text("#f-name-err").await, "Vendor name already exists.");
        b.goto("/ui/vendors").await;
        b.click("a[aria-label='Edit HPE']").await;
        b.fill("#f-name", "Dell").await;
        b.click("form.panel button[type=submit]").await;
        assert_eq!(b.text("#f-name-err").await, "Vendor name already exists.");
        b.fill("#f-name", "HP Enterprise").await;
        b.click("form.panel button[type=submit]").await;
        assert_eq!(b.text("[role=status]").await, "Saved vendor HP Enterprise.");
        b.screenshot("vendors").await;
        b.click("a[aria-label='Edit Dell']").await;
        b.click("#confirm-delete").await;
        b.click(".danger-zone button[type=submit]").await;
        assert_eq!(b.text("[role=status]").await, "Deleted vendor Dell.");
        b.close().await;
    });
}

#[test]
fn a_viewer_sees_no_write_controls_and_a_viewer_post_is_forbidden() {
    let (srv, _) = start();
    let ed = api_login(&srv, "ed", USER_PASSWORD);
    let post = |path: &str, body| send_json(&srv, "POST", path, Some(&ed), body).json();
    post("/api/v1/projects", json!({"name": "Core"}));
    let host = post("/api/v1/hosts", json!({"name": "node-01"}))["id"].clone();
    let range = post(
        "/api/v1/ranges",
        json!({"name": "lab", "cidr": "10.0.0.0/24"}),
    )["id"]
        .clone();
    run(async {
        let b = browser(&srv).await;
        login(&b, "vi", USER_PASSWORD).await;
        for page in [
            "/ui/projects".to_string(),
            "/ui/tags".into(),
            "/ui/vendors".into(),
            "/ui/hosts".into(),
            format!("/ui/hosts/{host}"),
            "/ui/ranges".into(),
            format!("/ui/ranges/{range}/addresses"),
        ] {
            b.goto(&page).await;
            b.find("h1").await;
            // The only form with a method=post is the logout button in the header.
            let forms = b.find_all("main form[method=post]").await;
            assert!(forms.is_empty(), "{page} has a write form");
            assert!(
                b.find_all("a[href$='/edit'], a[href='/ui/hosts/new']")
                    .await
                    .is_empty(),
                "{page}"
            );
        }
        b.goto(&format!("/ui/ranges/{range}/addresses?status=free"))
            .await;
        assert!(b.find_all("a[href^='/ui/ip-assets/new']").await.is_empty());
        // Forged posts with the Viewer's valid CSRF token: 403, nothing changes.
        let csrf = csrf_token(&b).await;
        let cookie = session_cookie(&b).await;
        for (path, form) in [
            ("/ui/projects".to_string(), "name=Edge".to_string()),
            ("/ui/vendors".into(), "name=HPE".into()),
            ("/ui/hosts/new".into(), "name=x&os_ips=10.0.0.9".into()),
            (format!("/ui/hosts/{host}/delete"), "confirm=1".into()),
            (format!("/ui/ranges/{range}/allocate"), "type=VM".into()),
            (format!("/ui/ranges/{range}/delete"), "confirm=1".into()),
        ] {
            let body = format!("csrf={csrf}&{form}");
            let r = with_cookie(&srv, "POST", &path, &cookie, Some(&body));
            assert_eq!(r.status, 403, "{path}: {}", r.text());
        }
        b.close().await;
    });
    let hosts = crate::common::get(&srv, "/api/v1/hosts", Some(&ed)).json();
    assert_eq!(hosts.as_array().unwrap().len(), 1);
}
