//! The SD preview and the alert-rule preview in a real browser, against Debian's real
//! Prometheus scraping the real node_exporter and closed loopback ports
//! (ipocket_testkit::liveness); then Prometheus is stopped and both pages still render,
//! saying why nothing is known.

use ipocket_testkit::liveness::{LiveStack, DOWN_IP, UNSCRAPED_IP, UP_IP};
use serde_json::json;

use crate::common::{get, send_json, start_live};
use crate::ui_common::{browser, login, run, wait_for_text, USER_PASSWORD};

#[test]
fn sd_preview_and_rule_preview_pages_show_what_prometheus_sees() {
    let mut stack = LiveStack::start();
    let url = stack.url();
    let (srv, (_, ed, vi)) = start_live(
        &url,
        "5",
        &["--prometheus-url", &url, "--rules-auto-regenerate", "false"],
    );
    let r = send_json(
        &srv,
        "POST",
        "/api/v1/alert-groups",
        Some(&ed),
        json!({"name": "edge"}),
    );
    let group = r.json()["id"].as_i64().unwrap();
    let mut rule_ids = Vec::new();
    for (name, expr, for_) in [
        ("NodeDown", "up == 0", Some("1m")),
        ("Clash", "up * on() up", None),
    ] {
        let r = send_json(
            &srv,
            "POST",
            "/api/v1/alert-templates",
            Some(&ed),
            json!({"name": name, "query_template": expr, "for_duration": for_,
                   "description": "preview test"}),
        );
        assert_eq!(r.status, 201, "{}", r.text());
        let t = r.json()["id"].as_i64().unwrap();
        let r = send_json(
            &srv,
            "POST",
            "/api/v1/alert-rules",
            Some(&ed),
            json!({"group_id": group, "template_id": t}),
        );
        rule_ids.push(r.json()["id"].as_i64().unwrap());
    }
    let node_body = get(&srv, "/sd/node?port=9100&group_by=project", Some(&vi)).text();

    run(async {
        let b = browser(&srv).await;
        login(&b, "vi", USER_PASSWORD).await;

        // Reached from the Connectors page (it has no menu entry).
        b.goto("/ui/connectors").await;
        b.click("a[href='/ui/sd-preview']").await;
        assert_eq!(b.text("h1").await, "SD preview");

        // The form: /sd/node, grouped by project.
        b.select("#f-endpoint", "/sd/node").await;
        b.fill("#f-port", "9100").await;
        b.select("#f-group_by", "project").await;
        b.click("#sd-preview-form button[type=submit]").await;
        assert_eq!(b.text("#count-groups").await, "2");
        assert_eq!(b.text("#count-targets").await, "3");
        assert_eq!(b.text("#count-duplicates").await, "0");
        assert_eq!(b.text("#count-states").await, "1 · 1 · 1 · 0");
        let state = |ip: &str| format!("tr[data-target=\"{ip}:9100\"] td:nth-child(3)");
        assert!(b.text(&state(UP_IP)).await.starts_with("up"));
        assert!(b.text(&state(DOWN_IP)).await.starts_with("down"));
        assert!(b
            .text(&state(UNSCRAPED_IP))
            .await
            .starts_with("not scraped"));
        // The JSON shown is the endpoint's body, and the link goes to that endpoint.
        assert_eq!(b.text("#sd-json").await, node_body);
        assert_eq!(
            b.text("#endpoint-link").await,
            "/sd/node?port=9100&group_by=project"
        );
        // tall enough to show the JSON under the table
        b.resize(1280, 1180).await;
        b.screenshot("sd-preview").await;
        b.resize(1280, 800).await;

        // A bad port: the page renders, the field says why.
        b.goto("/ui/sd-preview?port=0").await;
        assert!(b
            .text("#f-port-err")
            .await
            .contains("port must be 1..65535"));

        // The rule list's Preview action.
        b.goto("/ui/alerts").await;
        b.click(&format!(
            "a[href=\"/ui/alerts/rules/{}/preview\"]",
            rule_ids[0]
        ))
        .await;
        wait_for_text(
            &b,
            "#rule-verdict",
            "matches now for 2 series; fires after 1m",
        )
        .await;
        let table = b.text("#rule-matches").await;
        assert!(table.contains(&format!("{DOWN_IP}:9100")), "{table}");
        assert!(table.contains("gone"), "{table}");
        b.screenshot("alert-rule-preview").await;

        // A refused expression: Prometheus's own words on the page.
        b.goto(&format!("/ui/alerts/rules/{}", rule_ids[1])).await;
        b.click("#rule-preview-link").await;
        let e = b.text("#rule-error").await;
        assert!(
            e.contains("422 execution") && e.contains("many-to-many"),
            "{e}"
        );

        // Prometheus stopped: both pages still render, saying so.
        stack.prometheus.kill();
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        b.goto("/ui/sd-preview?endpoint=/sd/node").await;
        wait_for_text(&b, "#prometheus-state", "Prometheus unreachable").await;
        assert_eq!(b.text("#count-states").await, "0 · 0 · 0 · 3");
        b.goto(&format!("/ui/alerts/rules/{}/preview", rule_ids[0]))
            .await;
        wait_for_text(&b, "#rule-verdict", "Not evaluated").await;
        b.close().await;
    });
}
