//! Hosts: the list with its filter, a new host with inline OS/BMC addresses (all or none),
//! the host's page with its linked addresses, delete.

use serde_json::json;

use crate::common::{get, login as api_login, send_json};
use crate::ui_common::{browser, login, run, start, USER_PASSWORD};

#[test]
fn a_new_host_with_inline_addresses_is_created_whole_shown_and_deleted() {
    let (srv, _) = start();
    let ed = api_login(&srv, "ed", USER_PASSWORD);
    let post = |path: &str, body| send_json(&srv, "POST", path, Some(&ed), body).json();
    let vendor = post("/api/v1/vendors", json!({"name": "HPE"}))["id"].to_string();
    let project = post(
        "/api/v1/projects",
        json!({"name": "Core", "color": "#1d4ed8"}),
    )["id"]
        .as_i64()
        .unwrap();
    post("/api/v1/hosts", json!({"name": "db-01", "notes": "rack 2"}));
    run(async {
        let b = browser(&srv).await;
        login(&b, "ed", USER_PASSWORD).await;
        b.goto("/ui/hosts").await;
        b.click("a[href='/ui/hosts/new']").await;
        b.fill("#f-name", "node-01").await;
        b.select("#f-vendor_id", &vendor).await;
        b.fill("#f-notes", "rack 4").await;
        b.fill("#f-os_ips", "10.0.0.1, 10.0.0.2").await;
        b.fill("#f-bmc_ips", "10.0.1.1 10.0.0.300").await;
        b.select("#f-project_id", &project.to_string()).await;
        b.click("form.panel button[type=submit]").await;
        // A bad BMC address: refused at its field, the form kept, nothing created.
        assert_eq!(
            b.text("#f-bmc_ips-err").await,
            "invalid IP address \"10.0.0.300\""
        );
        assert_eq!(
            b.find("#f-os_ips")
                .await
                .prop("value")
                .await
                .unwrap()
                .as_deref(),
            Some("10.0.0.1, 10.0.0.2")
        );
        assert_eq!(
            get(&srv, "/api/v1/ip-assets/10.0.0.1", Some(&ed)).status,
            404
        );
        let hosts = get(&srv, "/api/v1/hosts", Some(&ed)).json();
        assert_eq!(hosts.as_array().unwrap().len(), 1, "{hosts}");

        b.fill("#f-bmc_ips", "10.0.1.1").await;
        b.click("form.panel button[type=submit]").await;
        assert_eq!(
            b.text("[role=status]").await,
            "Created host node-01 with 3 IPs."
        );
        assert_eq!(b.text("h1").await, "Host node-01");
        let host_path = b.path().await;
        let host_id: i64 = host_path.rsplit('/').next().unwrap().parse().unwrap();
        for (ip, ty) in [("10.0.0.1", "OS"), ("10.0.0.2", "OS"), ("10.0.1.1", "BMC")] {
            let a = get(&srv, &format!("/api/v1/ip-assets/{ip}"), Some(&ed)).json();
            assert_eq!(
                (
                    a["type"].as_str(),
                    a["host_id"].as_i64(),
                    a["project_id"].as_i64()
                ),
                (Some(ty), Some(host_id), Some(project)),
                "{a}"
            );
        }
        // The host's page links each address to its asset page.
        let links: Vec<String> = {
            let mut v = Vec::new();
            for a in b.find_all("section.host-ips a.mono").await {
                v.push(a.attr("href").await.unwrap().unwrap());
            }
            v
        };
        assert_eq!(
            links,
            [
                "/ui/ip-assets/10.0.0.1",
                "/ui/ip-assets/10.0.0.2",
                "/ui/ip-assets/10.0.1.1"
            ]
        );
        assert!(b.text("dl.props").await.contains("HPE"));
        b.screenshot("host-detail").await;

        // The list, filtered by an address.
        b.goto("/ui/hosts").await;
        let all = b.text("table").await;
        assert!(all.contains("db-01") && all.contains("node-01"), "{all}");
        b.screenshot("hosts").await;
        b.fill("#q", "10.0.1").await;
        b.click("form[role=search] button").await;
        let filtered = b.text("table").await;
        assert!(
            filtered.contains("node-01") && !filtered.contains("db-01"),
            "{filtered}"
        );

        // Edit, then delete: the addresses stay, unlinked.
        b.goto(&format!("{host_path}/edit")).await;
        b.fill("#f-name", "node-1").await;
        b.click("form.panel button[type=submit]").await;
        assert_eq!(b.text("[role=status]").await, "Saved host node-1.");
        b.click("#confirm-delete").await;
        b.click(".danger-zone button[type=submit]").await;
        assert_eq!(b.text("[role=status]").await, "Deleted host node-1.");
        assert_eq!(b.path().await, "/ui/hosts");
        let a = get(&srv, "/api/v1/ip-assets/10.0.0.1", Some(&ed)).json();
        assert!(a["host_id"].is_null(), "{a}");
        b.close().await;
    });
}
