//! API tokens page: an Admin creates a scoped token (shown once), it reads /metrics and
//! nothing else, the list shows it without the secret, revocation ends it; others get 403.

use crate::common::{get, Server, ADMIN_PASSWORD};
use crate::ui_common::{
    browser, csrf_token, login, run, session_cookie, start, with_cookie, USER_PASSWORD,
};

fn token_id(srv: &Server, admin: &str, name: &str) -> i64 {
    let list = get(srv, "/api/v1/tokens", Some(admin)).json();
    list.as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == name)
        .and_then(|t| t["id"].as_i64())
        .unwrap()
}

#[test]
fn an_admin_creates_a_token_shown_once_lists_and_revokes_it() {
    let (srv, admin) = start();
    run(async {
        let b = browser(&srv).await;
        login(&b, "admin", ADMIN_PASSWORD).await;
        b.goto("/ui/users").await;
        b.click("main a[href='/ui/tokens']").await;
        assert_eq!(b.text("main h1").await, "API tokens");
        assert!(b.text("main").await.contains("No API token yet."));

        // No scope: shown at the scopes.
        b.fill("#f-name", "prometheus").await;
        b.click("#f-scope-metrics").await;
        b.click("#f-scope-sd").await;
        b.click("form[action='/ui/tokens'] button[type=submit]")
            .await;
        assert!(b
            .text("fieldset .field-error")
            .await
            .contains("at least one scope"));

        // Both scopes (checked again after the error), 30 days.
        assert_eq!(
            b.find("#f-name")
                .await
                .prop("value")
                .await
                .unwrap()
                .as_deref(),
            Some("prometheus")
        );
        b.click("#f-scope-metrics").await;
        b.click("#f-scope-sd").await;
        b.fill("#f-expires-in-days", "30").await;
        b.click("form[action='/ui/tokens'] button[type=submit]")
            .await;
        assert!(b.text(".new-token").await.contains("Copy it now"));
        let token = b
            .find("#new-token")
            .await
            .prop("value")
            .await
            .unwrap()
            .unwrap();
        assert!(token.starts_with("ipt_"), "{token}");
        let row = b.text("table.tokens tbody tr").await;
        for want in ["prometheus", "metrics", "sd", "admin", "never"] {
            assert!(row.contains(want), "{want} in {row}");
        }
        b.screenshot("tokens").await;

        // It reads its scopes, nothing else.
        assert_eq!(get(&srv, "/metrics", Some(&token)).status, 200);
        assert_eq!(get(&srv, "/sd/node", Some(&token)).status, 200);
        assert_eq!(get(&srv, "/api/v1/ip-assets", Some(&token)).status, 403);

        // Shown once: the list page never carries it; the last use is there now.
        b.goto("/ui/tokens").await;
        assert!(b.find_all("#new-token").await.is_empty());
        assert!(!b.source().await.contains(&token));
        let row = b.text("table.tokens tbody tr").await;
        assert!(!row.ends_with("never"), "last use recorded: {row}");

        // A duplicate name is shown at the name.
        b.fill("#f-name", "prometheus").await;
        b.click("form[action='/ui/tokens'] button[type=submit]")
            .await;
        assert!(b
            .text(".field.invalid .field-error")
            .await
            .contains("already exists"));

        // A revoke needs the CSRF token; then it ends the token at once.
        let id = token_id(&srv, &admin, "prometheus");
        let cookie = session_cookie(&b).await;
        let r = with_cookie(
            &srv,
            "POST",
            &format!("/ui/tokens/{id}/revoke"),
            &cookie,
            Some("csrf=nope"),
        );
        assert_eq!(r.status, 403);
        b.goto("/ui/tokens").await;
        b.click(&format!("form[action='/ui/tokens/{id}/revoke'] button"))
            .await;
        assert!(b
            .text(".flash-success")
            .await
            .contains("API token prometheus revoked"));
        assert!(b.text("main").await.contains("No API token yet."));
        assert_eq!(get(&srv, "/metrics", Some(&token)).status, 401);

        // Not for Editors: no link, 403 on the page and on a forged form.
        b.client.delete_all_cookies().await.unwrap();
        login(&b, "ed", USER_PASSWORD).await;
        assert!(b
            .find_all("header nav a[href='/ui/tokens']")
            .await
            .is_empty());
        b.goto("/ui/tokens").await;
        assert_eq!(b.text("main h1").await, "Forbidden");
        let cookie = session_cookie(&b).await;
        let csrf = csrf_token(&b).await;
        let r = with_cookie(
            &srv,
            "POST",
            "/ui/tokens",
            &cookie,
            Some(&format!("csrf={csrf}&name=x&scopes=metrics")),
        );
        assert_eq!(r.status, 403);
        b.close().await;
    });
}
