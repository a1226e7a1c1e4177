//! Data Ops: upload, dry run, apply exactly the previewed file (CSV, bundle JSON, Nmap XML),
//! located errors, the Viewer's limits, and the export downloads.

use std::path::{Path, PathBuf};

use serde_json::json;

use crate::common::{get, send_json, Server};
use crate::ui_common::{
    browser, csrf_token, login, run, session_cookie, start, with_cookie, USER_PASSWORD,
};
use ipocket_testkit::browser::Browser;

/// Writes `name` with `content` into a fresh folder of the server's temp dir (the import
/// dispatches on the file name, so the name is kept).
pub(crate) fn upload_file(srv: &Server, folder: &str, name: &str, content: &str) -> PathBuf {
    let dir = srv._dir.path().join(folder);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path
}

/// Chooses `path` in the file input `css`, sends the upload form and waits for the answer.
async fn upload(b: &Browser, css: &str, path: &Path) {
    b.goto("/ui/import").await;
    b.find(css)
        .await
        .send_keys(&path.display().to_string())
        .await
        .unwrap();
    b.click("form.import-form button[type=submit]").await;
    // The answer is the dry run or the errors: wait until the form's page is gone.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let mut h1 = String::new();
        if let Some(e) = b.find_all("main h1").await.first() {
            h1 = e.text().await.unwrap_or_default();
        }
        if !h1.is_empty() && h1 != "Data Ops" {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no answer to the upload"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

async fn actions(b: &Browser) -> Vec<String> {
    let mut out = Vec::new();
    for e in b.find_all(".import-plan td[data-label=Action] span").await {
        out.push(e.text().await.unwrap());
    }
    out
}

const ASSETS_CSV: &str = "ip_address,type,project_name,host_name,notes,archived\n\
    10.9.0.1,VM,,,web,false\n10.9.0.2,OS,,,,false\n10.9.0.3,VIP,,,,false\n";

#[test]
fn a_csv_dry_run_writes_nothing_and_apply_writes_exactly_the_previewed_file() {
    let (srv, admin) = start();
    let csv = upload_file(&srv, "csv", "ip-assets.csv", ASSETS_CSV);
    run(async {
        let b = browser(&srv).await;
        login(&b, "ed", USER_PASSWORD).await;
        b.goto("/ui/import").await;
        b.screenshot("import").await;
        upload(&b, "#f-file", &csv).await;
        assert_eq!(b.text("main h1").await, "Import dry run");
        assert_eq!(actions(&b).await, ["CREATE", "CREATE", "CREATE"]);
        assert!(b.text(".import-summary tr.total").await.contains("3 0 0"));
        assert!(b.text(".import-plan").await.contains("type: VM"));
        b.screenshot("import-dry-run").await;
        b.resize(390, 844).await;
        b.screenshot("import-dry-run-phone").await;
        b.resize(1280, 900).await;
        // Nothing is written by the dry run.
        assert_eq!(
            get(&srv, "/api/v1/ip-assets/10.9.0.1", Some(&admin)).status,
            404
        );

        // The file changes on disk after the preview: apply still writes the previewed bytes.
        std::fs::write(
            &csv,
            "ip_address,type,project_name,host_name,notes,archived\n",
        )
        .unwrap();
        b.click("form[action='/ui/import/apply'] button[type=submit]")
            .await;
        let flash = b.text(".flash-success").await;
        assert!(
            flash.contains("3 created, 0 updated, 0 unchanged"),
            "{flash}"
        );
        for ip in ["10.9.0.1", "10.9.0.2", "10.9.0.3"] {
            let r = get(&srv, &format!("/api/v1/ip-assets/{ip}"), Some(&admin));
            assert_eq!(r.status, 200, "{ip}");
        }
        b.close().await;
    });
}

#[test]
fn a_stale_or_reused_preview_is_refused_clearly() {
    let (srv, admin) = start();
    let csv = upload_file(&srv, "csv", "ip-assets.csv", ASSETS_CSV);
    run(async {
        let b = browser(&srv).await;
        login(&b, "ed", USER_PASSWORD).await;
        upload(&b, "#f-file", &csv).await;
        // Someone creates one of the addresses meanwhile: the plan would differ.
        let r = send_json(
            &srv,
            "POST",
            "/api/v1/ip-assets",
            Some(&crate::common::login(&srv, "ed", USER_PASSWORD)),
            json!({"ip_address": "10.9.0.2", "type": "OS"}),
        );
        assert_eq!(r.status, 201, "{}", r.text());
        b.click("form[action='/ui/import/apply'] button[type=submit]")
            .await;
        assert!(b
            .text("main [role=alert]")
            .await
            .contains("The inventory changed since your dry run"));
        assert_eq!(actions(&b).await, ["CREATE", "SKIP", "CREATE"]);
        assert_eq!(
            get(&srv, "/api/v1/ip-assets/10.9.0.1", Some(&admin)).status,
            404
        );
        // The new plan applies; going back and applying the old preview again is refused.
        let old = b
            .find("input[name=import_id]")
            .await
            .prop("value")
            .await
            .unwrap();
        b.click("form[action='/ui/import/apply'] button[type=submit]")
            .await;
        assert!(b.text(".flash-success").await.contains("2 created"));
        let cookie = session_cookie(&b).await;
        let token = csrf_token(&b).await;
        let r = with_cookie(
            &srv,
            "POST",
            "/ui/import/apply",
            &cookie,
            Some(&format!("csrf={token}&import_id={}", old.unwrap())),
        );
        assert_eq!(r.status, 303);
        assert_eq!(r.header("location"), Some("/ui/import"));
        assert!(r.header("set-cookie").unwrap().contains("expired"));
        assert_eq!(
            get(&srv, "/api/v1/ip-assets", Some(&admin)).json()["total"],
            3
        );
        b.close().await;
    });
}

#[test]
fn a_bundle_update_shows_before_and_after_and_an_nmap_scan_creates_the_up_hosts() {
    let (srv, admin) = start();
    let ed = crate::common::login(&srv, "ed", USER_PASSWORD);
    let r = send_json(
        &srv,
        "POST",
        "/api/v1/ip-assets",
        Some(&ed),
        json!({"ip_address": "10.1.0.5", "type": "VM", "notes": "old note"}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let bundle = json!({"app": "ipocket", "schema_version": "1", "data": {"ip_assets": [
        {"ip_address": "10.1.0.5", "type": "VM", "notes": "new note"}]}});
    let bundle = upload_file(&srv, "bundle", "bundle.json", &bundle.to_string());
    let nmap = upload_file(
        &srv,
        "nmap",
        "scan.xml",
        r#"<?xml version="1.0"?><nmaprun>
<host><status state="up"/><address addr="10.3.0.1" addrtype="ipv4"/><address addr="00:50:56:00:00:01" addrtype="mac" vendor="VMware"/></host>
<host><status state="down"/><address addr="10.3.0.2" addrtype="ipv4"/></host>
<host><status state="up"/><address addr="10.3.0.3" addrtype="ipv4"/></host>
</nmaprun>"#,
    );
    run(async {
        let b = browser(&srv).await;
        login(&b, "ed", USER_PASSWORD).await;
        upload(&b, "#f-file", &bundle).await;
        assert_eq!(actions(&b).await, ["UPDATE"]);
        assert_eq!(b.text(".import-plan .diff del").await, "old note");
        assert_eq!(b.text(".import-plan .diff ins").await, "new note");
        b.click("form[action='/ui/import/apply'] button[type=submit]")
            .await;
        assert!(b.text(".flash-success").await.contains("1 updated"));
        let r = get(&srv, "/api/v1/ip-assets/10.1.0.5", Some(&admin));
        assert_eq!(r.json()["notes"], "new note");

        upload(&b, "#f-file", &nmap).await;
        assert_eq!(actions(&b).await, ["CREATE", "CREATE"]);
        assert!(b.text(".import-plan").await.contains("10.3.0.1"));
        // The scan's notes carry the upload time: a later apply still matches the preview.
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        b.click("form[action='/ui/import/apply'] button[type=submit]")
            .await;
        b.find(".flash-success").await;
        let r = get(&srv, "/api/v1/ip-assets/10.3.0.1", Some(&admin));
        assert_eq!(r.json()["type"], "VM");
        assert_eq!(
            get(&srv, "/api/v1/ip-assets/10.3.0.2", Some(&admin)).status,
            404
        );
        b.close().await;
    });
}

#[test]
fn an_invalid_csv_shows_every_located_error_and_writes_nothing() {
    let (srv, admin) = start();
    let csv = upload_file(
        &srv,
        "bad",
        "ip-assets.csv",
        "ip_address,type,project_name,host_name,notes,archived\n\
         10.9.9.1,VM,,,,false\n10.9.9.999,VM,,,,false\n10.9.9.3,ROUTER,,,,false\n",
    );
    run(async {
        let b = browser(&srv).await;
        login(&b, "ed", USER_PASSWORD).await;
        // The CSV pair's input works the same way.
        upload(&b, "#f-ip_assets", &csv).await;
        assert_eq!(b.text("main h1").await, "Import errors");
        let errors = b.text(".import-errors tbody").await;
        assert!(errors.contains("ip-assets.csv:3:1"), "{errors}");
        assert!(
            errors.contains("invalid IP address \"10.9.9.999\""),
            "{errors}"
        );
        assert!(errors.contains("ip-assets.csv:4:2"), "{errors}");
        assert!(errors.contains("invalid asset type \"ROUTER\""), "{errors}");
        assert!(b
            .text("main [role=alert]")
            .await
            .contains("Nothing was written"));
        b.screenshot("import-errors").await;
        assert_eq!(
            get(&srv, "/api/v1/ip-assets/10.9.9.1", Some(&admin)).status,
            404
        );
        // No file at all: the error is at the field.
        b.goto("/ui/import").await;
        b.click("form.import-form button[type=submit]").await;
        assert_eq!(b.text("#f-file-err").await, "Choose a file to import.");
        b.close().await;
    });
}

#[test]
fn a_viewer_may_dry_run_but_not_apply() {
    let (srv, admin) = start();
    let csv = upload_file(&srv, "csv", "ip-assets.csv", ASSETS_CSV);
    run(async {
        let b = browser(&srv).await;
        login(&b, "vi", USER_PASSWORD).await;
        b.goto("/ui/import").await;
        assert!(b.find_all("#mode-apply").await.is_empty());
        upload(&b, "#f-file", &csv).await;
        assert_eq!(actions(&b).await.len(), 3);
        assert!(b
            .find_all("form[action='/ui/import/apply']")
            .await
            .is_empty());
        let cookie = session_cookie(&b).await;
        let token = csrf_token(&b).await;
        let r = with_cookie(
            &srv,
            "POST",
            "/ui/import/apply",
            &cookie,
            Some(&format!("csrf={token}&import_id=x")),
        );
        assert_eq!(r.status, 403, "{}", r.text());
        let r = with_cookie(
            &srv,
            "POST",
            "/ui/import",
            &cookie,
            Some(&format!("csrf={token}&mode=apply")),
        );
        assert_eq!(r.status, 403, "{}", r.text());
        assert_eq!(
            get(&srv, "/api/v1/ip-assets/10.9.0.1", Some(&admin)).status,
            404
        );
        b.close().await;
    });
}

#[test]
fn exports_download_with_the_filters() {
    let (srv, _) = start();
    let ed = crate::common::login(&srv, "ed", USER_PASSWORD);
    for (ip, t) in [("10.5.0.1", "VM"), ("10.5.0.2", "OS")] {
        let r = send_json(
            &srv,
            "POST",
            "/api/v1/ip-assets",
            Some(&ed),
            json!({"ip_address": ip, "type": t}),
        );
        assert_eq!(r.status, 201, "{}", r.text());
    }
    run(async {
        let b = browser(&srv).await;
        login(&b, "vi", USER_PASSWORD).await;
        b.goto("/ui/export").await;
        b.screenshot("export").await;
        b.select("#f-type", "VM").await;
        b.click("button[formaction='/ui/export/ip-assets.csv']")
            .await;
        let csv = String::from_utf8(b.downloaded("ip-assets.csv").await).unwrap();
        assert!(csv.starts_with("ip_address,type,"), "{csv}");
        assert!(
            csv.contains("10.5.0.1,VM") && !csv.contains("10.5.0.2"),
            "{csv}"
        );
        b.click("button[formaction='/ui/export/bundle.zip']").await;
        assert!(b.downloaded("bundle.zip").await.starts_with(b"PK"));
        // The original ipocket's layout: four sections, null notes.
        b.select("#f-compat", "original").await;
        b.click("button[formaction='/ui/export/bundle.json']").await;
        let v: serde_json::Value =
            serde_json::from_slice(&b.downloaded("bundle.json").await).unwrap();
        assert_eq!(v["data"].as_object().unwrap().len(), 4, "{v}");
        assert_eq!(v["data"]["ip_assets"][0]["notes"], serde_json::Value::Null);
        // The download answers as an attachment; an unknown file is a 404 page.
        let cookie = session_cookie(&b).await;
        let r = with_cookie(&srv, "GET", "/ui/export/hosts.json", &cookie, None);
        assert_eq!(
            r.header("content-disposition"),
            Some("attachment; filename=\"hosts.json\"")
        );
        let r = with_cookie(&srv, "GET", "/ui/export/nope.txt", &cookie, None);
        assert_eq!(r.status, 404);
        b.close().await;
    });
}
