//! The audit log: field changes as before → after, the label filter, paging.

use serde_json::json;

use crate::common::send_json;
use crate::ui_common::{browser, login, run, start, USER_PASSWORD};

#[test]
fn the_audit_log_shows_changes_filters_by_label_and_pages() {
    let (srv, _) = start();
    let ed = crate::common::login(&srv, "ed", USER_PASSWORD);
    let send = |method: &str, path: &str, body: serde_json::Value| {
        let r = send_json(&srv, method, path, Some(&ed), body);
        assert!(r.status < 300, "{method} {path}: {}", r.text());
    };
    send(
        "POST",
        "/api/v1/ip-assets",
        json!({"ip_address": "10.2.0.1", "type": "VM", "notes": "first"}),
    );
    send(
        "PATCH",
        "/api/v1/ip-assets/10.2.0.1",
        json!({"notes": "second", "type": "OS"}),
    );
    for i in 1..=12 {
        send(
            "POST",
            "/api/v1/ip-assets",
            json!({"ip_address": format!("10.2.1.{i}"), "type": "VM"}),
        );
    }
    run(async {
        let b = browser(&srv).await;
        login(&b, "vi", USER_PASSWORD).await;
        b.goto("/ui/audit-log?per_page=10&target_type=IP_ASSET")
            .await;
        assert_eq!(b.find_all("table.audit tbody tr").await.len(), 10);
        // Newest first.
        assert!(b
            .text("table.audit tbody tr:first-child")
            .await
            .contains("10.2.1.12"));
        b.click(".pager a[rel=next]").await;
        assert!(b.path().await.contains("page=2"));
        assert!(b.text("table.audit").await.contains("10.2.1.2"));

        b.goto("/ui/audit-log").await;
        b.fill("#f-target-label", "10.2.0.1").await;
        b.click("form.toolbar button[type=submit]").await;
        b.find("a[href='/ui/audit-log']").await;
        let rows = b.find_all("table.audit tbody tr").await;
        assert_eq!(rows.len(), 2);
        let update = rows[0].text().await.unwrap();
        assert!(
            update.contains("UPDATE") && update.contains("ed"),
            "{update}"
        );
        let changes = b.text("table.audit tbody tr:first-child .diff").await;
        assert!(changes.contains("notes: first → second"), "{changes}");
        assert!(changes.contains("type: VM → OS"), "{changes}");
        assert!(rows[1].text().await.unwrap().contains("CREATE"));
        b.find("table.audit a[href='/ui/ip-assets/10.2.0.1']").await;
        b.screenshot("audit-log").await;
        // A type filter.
        b.goto("/ui/audit-log?target_type=USER").await;
        let users = b.text("table.audit tbody").await;
        assert!(
            users.contains("LOGIN") && !users.contains("10.2."),
            "{users}"
        );
        b.close().await;
    });
}
