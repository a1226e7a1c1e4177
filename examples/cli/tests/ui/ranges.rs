//! Ranges: create with the CIDR normalised, utilization, the drill-down by pages and status,
//! "allocate next free", a /16 that pages.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::common::{get, login as api_login, send_json};
use crate::ui_common::{browser, login, run, start, USER_PASSWORD};

#[test]
fn a_range_shows_its_utilization_pages_its_addresses_and_allocates_the_next_free() {
    let (srv, _) = start();
    let ed = api_login(&srv, "ed", USER_PASSWORD);
    for ip in ["10.0.0.1", "10.0.0.2", "10.0.0.4"] {
        let r = send_json(
            &srv,
            "POST",
            "/api/v1/ip-assets",
            Some(&ed),
            json!({"ip_address": ip, "type": "VM"}),
        );
        assert_eq!(r.status, 201, "{}", r.text());
    }
    run(async {
        let b = browser(&srv).await;
        login(&b, "ed", USER_PASSWORD).await;
        b.goto("/ui/ranges").await;
        b.fill("#f-name", "lab").await;
        b.fill("#f-cidr", "10.0.0.17/24").await;
        b.click("section.panel button[type=submit]").await;
        assert_eq!(
            b.text("[role=status]").await,
            "Created range lab (10.0.0.0/24)."
        );
        let row = b.text("tbody tr").await;
        assert!(
            row.contains("10.0.0.0/24") && row.contains("254") && row.contains("251"),
            "{row}"
        );
        assert!(row.contains("1.2%"), "{row}");
        b.find("tbody meter").await;
        // The same network again: refused at the CIDR field.
        b.fill("#f-name", "again").await;
        b.fill("#f-cidr", "10.0.0.0/24").await;
        b.click("section.panel button[type=submit]").await;
        assert_eq!(b.text("#f-cidr-err").await, "Range CIDR already exists.");
        b.goto("/ui/ranges").await;
        b.screenshot("ranges").await;

        // The drill-down, 10 a page: page 2 starts at .11.
        b.click("tbody a[href$='/addresses']").await;
        let path = b.path().await;
        b.goto(&format!("{path}?per_page=10&page=2")).await;
        let first = b.text("table.range-addresses tbody tr").await;
        assert!(
            first.starts_with("10.0.0.11") && first.contains("free"),
            "{first}"
        );
        assert!(b.text("nav.pager").await.contains("Showing 11–20 of 254"));
        b.goto(&format!("{path}?status=used")).await;
        assert_eq!(b.find_all("table.range-addresses tbody tr").await.len(), 3);
        b.goto(&format!("{path}?status=free&per_page=10")).await;
        let first = b.text("table.range-addresses tbody tr").await;
        assert!(first.starts_with("10.0.0.3"), "{first}");
        let add = b.find("table.range-addresses tbody tr a").await;
        assert_eq!(
            add.attr("href").await.unwrap().as_deref(),
            Some("/ui/ip-assets/new?ip_address=10.0.0.3")
        );

        // Allocate next free, twice: .3, then .5.
        b.goto(&path).await;
        b.fill("#f-notes", "from the range page").await;
        b.click("form[action$='/allocate'] button").await;
        assert_eq!(b.text("[role=status]").await, "Allocated 10.0.0.3.");
        assert_eq!(
            b.find("#allocated")
                .await
                .attr("href")
                .await
                .unwrap()
                .as_deref(),
            Some("/ui/ip-assets/10.0.0.3")
        );
        let a = get(&srv, "/api/v1/ip-assets/10.0.0.3", Some(&ed)).json();
        assert_eq!(
            (a["type"].as_str(), a["notes"].as_str()),
            (Some("VM"), Some("from the range page")),
            "{a}"
        );
        b.click("form[action$='/allocate'] button").await;
        assert_eq!(b.text("[role=status]").await, "Allocated 10.0.0.5.");
        assert_eq!(
            get(&srv, "/api/v1/ip-assets/10.0.0.5", Some(&ed)).status,
            200
        );
        b.screenshot("range-addresses").await;

        // A /16 pages: page 1 only, quickly.
        let big = send_json(
            &srv,
            "POST",
            "/api/v1/ranges",
            Some(&ed),
            json!({"name": "campus", "cidr": "10.8.0.0/16"}),
        )
        .json();
        let started = Instant::now();
        b.goto(&format!("/ui/ranges/{}/addresses", big["id"])).await;
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(b.find_all("table.range-addresses tbody tr").await.len(), 20);
        assert!(b.text("nav.pager").await.contains("Showing 1–20 of 65534"));
        b.goto(&format!(
            "/ui/ranges/{}/addresses?page=3277&status=free",
            big["id"]
        ))
        .await;
        let last = b.text("table.range-addresses tbody tr:last-child").await;
        assert!(last.starts_with("10.8.255.254"), "{last}");

        // Phone width: the table turns into labelled rows.
        b.resize(390, 844).await;
        b.goto(&path).await;
        b.screenshot("range-addresses-phone").await;
        b.close().await;
    });
}
