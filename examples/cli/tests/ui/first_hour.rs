//! The README's first hour, in the browser alone: the admin logs in, creates an Editor; the
//! Editor downloads the sample CSV from Data Ops, imports it (dry run, then apply) and sees
//! the dashboard.

use crate::common::{self, ADMIN_PASSWORD};
use crate::ui_common::{browser, login, run};

#[test]
fn a_new_user_logs_in_creates_an_editor_imports_the_sample_and_sees_the_dashboard() {
    let srv = common::start();
    run(async {
        let b = browser(&srv).await;
        login(&b, "admin", ADMIN_PASSWORD).await;
        b.goto("/ui/users").await;
        b.fill("#f-username", "maria").await;
        b.fill("#f-password", "maria-pw-1").await;
        b.select("#f-role", "Editor").await;
        b.click("form[action='/ui/users'] button[type=submit]")
            .await;
        assert!(b.text("main table").await.contains("maria"));
        b.click("header .account button").await;

        login(&b, "maria", "maria-pw-1").await;
        b.goto("/ui/import").await;
        b.click("a[download='ip-assets.csv']").await;
        b.downloaded("ip-assets.csv").await;
        let sample = b.download_dir().join("ip-assets.csv");
        b.find("#f-file")
            .await
            .send_keys(&sample.display().to_string())
            .await
            .unwrap();
        b.click("form.import-form button[type=submit]").await;
        assert_eq!(b.text("main h1").await, "Import dry run");
        let plan = b.text("main").await;
        assert!(
            plan.contains("10.0.1.20") && plan.contains("CREATE"),
            "{plan}"
        );
        b.click("form[action='/ui/import/apply'] button[type=submit]")
            .await;

        b.goto("/ui/management").await;
        let cards = b.text("section.cards").await;
        assert!(cards.starts_with("4\nActive IP assets"), "{cards}");
        assert!(cards.contains("2\nProjects"), "{cards}");
        b.goto("/ui/ip-assets").await;
        assert!(b.text("main table").await.contains("10.0.1.21"));
        b.close().await;
    });
}
