//! The range map and the two utilizations in the browser, against the real Prometheus
//! scraping the real node_exporter and closed loopback ports (ipocket_testkit::liveness):
//! every cell state, the links to the asset and to "document it", allocation passing over the
//! live undocumented address, then Prometheus stopped: the pages still render and say why.

use std::time::Duration;

use ipocket_testkit::liveness::{LiveStack, DOWN_IP, STRAY_IP, UNSCRAPED_IP, UP_IP};
use serde_json::json;

use crate::common::{send_json, start_live};
use crate::liveness::dot_state;
use crate::ui_common::{browser, login, run, wait_for_text, USER_PASSWORD};

async fn state_of(b: &ipocket_testkit::browser::Browser, ip: &str) -> String {
    b.find(&format!("li.map-cell[data-ip='{ip}']"))
        .await
        .attr("data-state")
        .await
        .unwrap()
        .unwrap_or_default()
}

async fn href_of(b: &ipocket_testkit::browser::Browser, ip: &str) -> String {
    b.find(&format!("li.map-cell[data-ip='{ip}'] a"))
        .await
        .attr("href")
        .await
        .unwrap()
        .unwrap_or_default()
}

#[test]
fn the_range_map_shows_every_state_from_the_real_stack_and_survives_prometheus_stopping() {
    let mut stack = LiveStack::start();
    let url = stack.url();
    let (srv, (_, editor, _)) = start_live(&url, "8", &[]);
    let range = send_json(
        &srv,
        "POST",
        "/api/v1/ranges",
        Some(&editor),
        json!({"name": "lab", "cidr": "10.9.8.0/24"}),
    )
    .json();
    let id = range["id"].as_i64().unwrap();
    run(async {
        let b = browser(&srv).await;
        login(&b, "ed", USER_PASSWORD).await;

        // The list: documented % from the page, alive % loaded by the script.
        b.goto("/ui/ranges").await;
        wait_for_text(&b, "tbody [data-alive-range]", "0.8%").await;
        let row = b.text("tbody tr").await;
        assert!(
            row.contains("1.2%") && row.contains("(1 undocumented)"),
            "{row}"
        );
        b.screenshot("ranges-two-utilizations").await;

        // The map: one cell per address, each state from the real stack.
        b.goto(&format!("/ui/ranges/{id}/map")).await;
        assert_eq!(b.find_all("ol.range-map li.map-cell").await.len(), 256);
        assert_eq!(state_of(&b, UP_IP).await, "up");
        assert_eq!(state_of(&b, DOWN_IP).await, "down");
        assert_eq!(state_of(&b, UNSCRAPED_IP).await, "down");
        assert_eq!(state_of(&b, STRAY_IP).await, "alive");
        assert_eq!(state_of(&b, "10.9.8.1").await, "unused");
        assert_eq!(href_of(&b, UP_IP).await, format!("/ui/ip-assets/{UP_IP}"));
        assert_eq!(
            href_of(&b, STRAY_IP).await,
            format!("/ui/ip-assets/new?ip_address={STRAY_IP}")
        );
        let title = b
            .find(&format!("li.map-cell[data-ip='{UNSCRAPED_IP}'] a"))
            .await
            .attr("title")
            .await
            .unwrap()
            .unwrap();
        assert!(title.contains("not scraped"), "{title}");
        let legend = b.text("ul.map-legend").await;
        assert!(
            legend.contains("Undocumented but alive (1)") && legend.contains("Documented, up (1)"),
            "{legend}"
        );
        assert!(b.find_all("#liveness-status").await.is_empty());
        b.screenshot("range-map").await;

        // "Document it": the new-asset form with the address filled in.
        b.click(&format!("li.map-cell[data-ip='{STRAY_IP}'] a"))
            .await;
        let ip = b.find("#f-ip_address").await.prop("value").await.unwrap();
        assert_eq!(ip.as_deref(), Some(STRAY_IP));

        // Allocate next free passes over the stray, and says why.
        for i in (1..=19).filter(|i| ![7, 8, 9].contains(i)) {
            let r = send_json(
                &srv,
                "POST",
                "/api/v1/ip-assets",
                Some(&editor),
                json!({"ip_address": format!("10.9.8.{i}"), "type": "VM"}),
            );
            assert_eq!(r.status, 201, "{}", r.text());
        }
        b.goto(&format!("/ui/ranges/{id}/addresses")).await;
        // status dots on the address list: documented and up, and free but alive
        dot_state(&b, UP_IP, "up").await;
        dot_state(&b, STRAY_IP, "up").await;
        assert!(b.find("#f-skip-alive").await.is_selected().await.unwrap());
        b.click("form[action$='/allocate'] button").await;
        let flash = b.text("[role=status]").await;
        assert!(
            flash.starts_with("Allocated 10.9.8.21. Skipped 10.9.8.20: undocumented but up"),
            "{flash}"
        );

        // A /16 has 256 pages of 256 cells, with page links.
        let big = send_json(
            &srv,
            "POST",
            "/api/v1/ranges",
            Some(&editor),
            json!({"name": "campus", "cidr": "10.40.0.0/16"}),
        )
        .json();
        b.goto(&format!("/ui/ranges/{}/map?page=2", big["id"]))
            .await;
        assert!(b.text("nav.map-pager").await.contains("Page 2 of 256"));
        assert_eq!(b.find_all("ol.range-map li").await.len(), 256);
        assert_eq!(
            b.find("ol.range-map li")
                .await
                .attr("data-ip")
                .await
                .unwrap()
                .as_deref(),
            Some("10.40.1.0")
        );
        b.click("nav.map-pager a[rel=next]").await;
        assert!(b.path().await.ends_with("page=3"));

        // Prometheus stops: the map renders, says why, and shows documented cells.
        stack.prometheus.kill();
        tokio::time::sleep(Duration::from_millis(1100)).await; // the TTL
        b.goto(&format!("/ui/ranges/{id}/map")).await;
        let notice = b.text("#liveness-status").await;
        assert!(notice.contains("Prometheus unreachable"), "{notice}");
        assert_eq!(state_of(&b, UP_IP).await, "documented");
        let legend = b.text("ul.map-legend").await;
        assert!(!legend.contains("Documented, up"), "{legend}");
        b.screenshot("range-map-unreachable").await;
        b.goto("/ui/ranges").await;
        wait_for_text(&b, "tbody [data-alive-range]", "unknown").await;
        b.close().await;
    });
}
