//! User management: create, log in as the new user, deactivation ends the session, delete
//! with the exact username, the last-Admin rule, and non-Admins kept out.

use crate::common::{get, ADMIN_PASSWORD};
use crate::ui_common::{
    browser, csrf_token, login, run, session_cookie, start, wait_for_text, with_cookie,
    USER_PASSWORD,
};

fn user_id(srv: &crate::common::Server, admin: &str, name: &str) -> i64 {
    let users = get(srv, "/api/v1/users", Some(admin)).json();
    users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == name)
        .and_then(|u| u["id"].as_i64())
        .unwrap()
}

#[test]
fn an_admin_creates_an_editor_who_logs_in_and_deactivation_ends_their_session() {
    let (srv, admin) = start();
    run(async {
        let b = browser(&srv).await;
        login(&b, "admin", ADMIN_PASSWORD).await;
        b.goto("/ui/users").await;
        // A duplicate name is shown at the field.
        b.fill("#f-username", "ed").await;
        b.fill("#f-password", "pw-new-1").await;
        b.click("form[action='/ui/users'] button[type=submit]")
            .await;
        assert_eq!(
            b.text(".field.invalid .field-error").await,
            "Username already exists."
        );
        b.fill("#f-username", "newed").await;
        b.fill("#f-password", "pw-new-1").await;
        b.select("#f-role", "Editor").await;
        b.click("form[action='/ui/users'] button[type=submit]")
            .await;
        assert!(b
            .text(".flash-success")
            .await
            .contains("User newed created (Editor)"));
        b.screenshot("users").await;

        // The new Editor logs in (same browser, fresh cookies).
        b.client.delete_all_cookies().await.unwrap();
        login(&b, "newed", "pw-new-1").await;
        assert!(b.text("header .account").await.contains("newed (Editor)"));
        let newed_cookie = session_cookie(&b).await;
        assert_eq!(
            with_cookie(&srv, "GET", "/ui/management", &newed_cookie, None).status,
            200
        );

        // The admin deactivates them: their session ends at once.
        b.client.delete_all_cookies().await.unwrap();
        login(&b, "admin", ADMIN_PASSWORD).await;
        let id = user_id(&srv, &admin, "newed");
        b.goto(&format!("/ui/users/{id}")).await;
        b.click("#f-is-active").await;
        b.click(&format!(
            "form[action='/ui/users/{id}'] button[type=submit]"
        ))
        .await;
        assert!(b.text(".flash-success").await.contains("sessions ended"));
        assert!(b.text("table.users").await.contains("Inactive"));
        let r = with_cookie(&srv, "GET", "/ui/management", &newed_cookie, None);
        assert_eq!(r.status, 303);
        assert!(r.header("location").unwrap().starts_with("/ui/login"));

        // Delete needs the exact username: the button waits for it, the server checks it.
        b.goto(&format!("/ui/users/{id}")).await;
        let delete = format!("form[action='/ui/users/{id}/delete'] button[type=submit]");
        b.fill("#f-confirm-username", "newe").await;
        assert!(!b.find(&delete).await.is_enabled().await.unwrap());
        let cookie = session_cookie(&b).await;
        let token = csrf_token(&b).await;
        let r = with_cookie(
            &srv,
            "POST",
            &format!("/ui/users/{id}/delete"),
            &cookie,
            Some(&format!("csrf={token}&confirm_username=newe")),
        );
        assert_eq!(r.status, 422);
        assert!(r.text().contains("exactly"));
        b.fill("#f-confirm-username", "newed").await;
        b.click(&delete).await;
        assert!(b
            .text(".flash-success")
            .await
            .contains("User newed deleted."));
        assert!(!b.text("table.users").await.contains("newed"));
        b.close().await;
    });
}

#[test]
fn the_last_admin_rule_and_self_deletion_are_shown_and_non_admins_get_403() {
    let (srv, admin) = start();
    let admin_id = user_id(&srv, &admin, "admin");
    run(async {
        let b = browser(&srv).await;
        login(&b, "admin", ADMIN_PASSWORD).await;
        b.goto(&format!("/ui/users/{admin_id}")).await;
        b.select("#f-role", "Viewer").await;
        b.click(&format!(
            "form[action='/ui/users/{admin_id}'] button[type=submit]"
        ))
        .await;
        assert!(b
            .text("main [role=alert]")
            .await
            .contains("the last active Admin cannot be demoted"));
        b.fill("#f-confirm-username", "admin").await;
        b.click(&format!(
            "form[action='/ui/users/{admin_id}/delete'] button[type=submit]"
        ))
        .await;
        wait_for_text(&b, "main [role=alert]", "you cannot delete yourself").await;
        assert_eq!(
            get(&srv, "/api/v1/users", Some(&admin))
                .json()
                .as_array()
                .unwrap()
                .len(),
            3
        );

        b.client.delete_all_cookies().await.unwrap();
        login(&b, "ed", USER_PASSWORD).await;
        assert!(b
            .find_all("header nav a[href='/ui/users']")
            .await
            .is_empty());
        b.goto("/ui/users").await;
        assert_eq!(b.text("main h1").await, "Forbidden");
        let cookie = session_cookie(&b).await;
        assert_eq!(
            with_cookie(&srv, "GET", "/ui/users", &cookie, None).status,
            403
        );
        let token = csrf_token(&b).await;
        let r = with_cookie(
            &srv,
            "POST",
            "/ui/users",
            &cookie,
            Some(&format!("csrf={token}&username=x&password=y&role=Admin")),
        );
        assert_eq!(r.status, 403);
        b.close().await;
    });
}
