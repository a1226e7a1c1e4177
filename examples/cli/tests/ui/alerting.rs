//! Alert rules against Debian's real Prometheus: a template and a rule made in the browser,
//! bad PromQL and a missing variable refused at their fields with nothing stored, the
//! regenerate diff, write (checked by the real promtool) + reload with the group confirmed, the status page, a target's
//! effective rules, and a Viewer who only reads.

use ipocket_testkit::rules;
use serde_json::json;

use crate::common::{get, send_json, start_with, users, ADMIN_PASSWORD};
use crate::ui_common::{
    browser, csrf_token, login, run, session_cookie, with_cookie, USER_PASSWORD,
};

#[test]
fn alert_rules_are_made_validated_regenerated_and_loaded_by_a_real_prometheus() {
    let prom = rules::Prometheus::start();
    let rules_dir = prom.rules_dir.to_str().unwrap().to_string();
    let srv = start_with(
        &[
            "--rules-dir",
            &rules_dir,
            "--prometheus-url",
            &prom.url,
            "--promtool",
            rules::PROMTOOL,
            // The diff page is checked before any write reaches the files.
            "--rules-auto-regenerate",
            "false",
        ],
        Some(ADMIN_PASSWORD),
    );
    let (_admin, ed, vi) = users(&srv);
    let r = send_json(
        &srv,
        "POST",
        "/api/v1/alert-groups",
        Some(&ed),
        json!({"name": "edge"}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let group = r.json()["id"].as_i64().unwrap();
    let r = send_json(
        &srv,
        "POST",
        "/api/v1/alert-targets",
        Some(&ed),
        json!({"hostname": "r1", "address": "10.0.0.1", "group_ids": [group]}),
    );
    let target = r.json()["id"].as_i64().unwrap();

    run(async {
        let b = browser(&srv).await;
        login(&b, "ed", USER_PASSWORD).await;

        // A template whose PromQL does not parse: refused at the query field, not stored.
        b.goto("/ui/alerts/templates").await;
        b.fill("#f-name", "TargetDown").await;
        b.fill("#f-query_template", "rate(x[5m]").await;
        b.fill("#f-for_duration", "1m").await;
        b.click("section.panel button[type=submit]").await;
        let err = b.text("#f-query_template-err").await;
        assert!(err.contains("PromQL does not parse"), "{err}");
        b.screenshot("alert-rule-error").await;
        let stored = get(&srv, "/api/v1/alert-templates", Some(&vi)).json();
        assert_eq!(stored, json!([]));

        // Fixed, with a variable left to the rules: stored.
        b.fill(
            "#f-query_template",
            "up{group_id=\"{{.group_id}}\"} < {{.min_up}}",
        )
        .await;
        b.click("section.panel button[type=submit]").await;
        assert_eq!(b.text("[role=status]").await, "The template was created.");

        // The same name again: refused at the name field.
        b.goto("/ui/alerts/templates").await;
        b.fill("#f-name", "TargetDown").await;
        b.fill("#f-query_template", "up == 0").await;
        b.click("section.panel button[type=submit]").await;
        let err = b.text("#f-name-err").await;
        assert!(err.contains("already exists"), "{err}");

        // A group and a target in it, through the forms.
        b.goto("/ui/alerts/groups").await;
        b.fill("#f-name", "core").await;
        b.fill("#f-interval", "30s").await;
        b.click("section.panel button[type=submit]").await;
        assert_eq!(b.text("[role=status]").await, "The group was created.");
        let core = b.path().await.rsplit('/').next().unwrap().to_string();
        b.goto("/ui/alerts/targets").await;
        b.fill("#f-hostname", "sw1").await;
        b.click(&format!("#f-group-{core}")).await;
        b.click("section.panel button[type=submit]").await;
        assert_eq!(b.text("[role=status]").await, "The target was created.");
        b.goto("/ui/alerts/targets").await;
        let rows = b.text("#alert-list tbody").await;
        assert!(rows.contains("sw1") && rows.contains("core"), "{rows}");

        // A rule without the variable: refused at the variables field.
        b.goto("/ui/alerts").await;
        b.select("#f-group_id", &group.to_string()).await;
        b.click("section.panel button[type=submit]").await;
        let err = b.text("#f-vars-err").await;
        assert!(err.contains("min_up"), "{err}");
        assert_eq!(
            get(&srv, "/api/v1/alert-rules", Some(&vi)).json(),
            json!([])
        );
        b.fill("#f-vars", "min_up=1").await;
        // Priority and merge strategy (seed 002) through the form.
        b.fill("#f-priority", "250").await;
        b.select("#f-merge_strategy", "merge").await;
        b.click("section.panel button[type=submit]").await;
        assert_eq!(b.text("[role=status]").await, "The rule was created.");
        let stored = get(&srv, "/api/v1/alert-rules", Some(&vi)).json();
        assert_eq!(
            (&stored[0]["priority"], &stored[0]["merge_strategy"]),
            (&json!(250), &json!("merge")),
            "{stored}"
        );
        b.goto("/ui/alerts").await;
        let row = b.text("#alert-list tbody tr").await;
        assert!(
            row.contains("TargetDown") && row.contains("edge") && row.contains("min_up=1"),
            "{row}"
        );
        b.screenshot("alert-rules").await;

        // A template edit that breaks its rule is refused at the query, naming the rule.
        b.goto("/ui/alerts/templates").await;
        b.click("#alert-list a").await;
        b.fill(
            "#f-query_template",
            "up{group_id=\"{{.group_id}}\"} < {{.min_up}} and",
        )
        .await;
        b.click("section.panel button[type=submit]").await;
        let err = b.text("#f-query_template-err").await;
        assert!(
            err.contains("breaks rule") && err.contains("PromQL does not parse"),
            "{err}"
        );

        // The diff before writing: the new file with the rule's lines; nothing on disk yet.
        b.goto("/ui/alerts/regenerate").await;
        let added = b.text("pre.line-diff").await;
        assert!(
            added.contains(&format!("+     expr: up{{group_id=\"{group}\"}} < 1")),
            "{added}"
        );
        assert!(added.contains("alert: TargetDown"), "{added}");
        assert!(std::fs::read_dir(&prom.rules_dir).unwrap().next().is_none());
        b.screenshot("alerts-regenerate").await;

        // Write and reload: the real Prometheus loads the group.
        b.click("#regen-write").await;
        let done = b.text("[role=status]").await;
        assert!(
            done.contains(&format!("group-{group}.yml (new file)")),
            "{done}"
        );
        assert!(
            done.contains("reloaded") && done.contains("groups confirmed: ipocket/edge"),
            "{done}"
        );
        assert!(prom.rules_json().to_string().contains("TargetDown"));
        assert!(b.text("main").await.contains("unchanged"));

        // Status: reachable and ready.
        b.goto("/ui/alerts/status").await;
        assert_eq!(b.text("#prom-reachable").await, "yes");
        assert_eq!(b.text("#prom-ready").await, "yes");
        assert!(!b.text("#prom-version").await.is_empty());
        let last = b.text("#prom-last-reload").await;
        assert!(
            last.starts_with("20") && last.ends_with("(succeeded)"),
            "{last}"
        );
        assert!(b.text("main").await.contains(rules::PROMTOOL));
        // Generation: automatic regeneration is off here; the last run is the UI's write.
        assert!(b.text("#gen-auto").await.starts_with("off"));
        let last = b.text("#gen-last").await;
        assert!(
            last.contains("(ui, ") && last.ends_with("succeeded"),
            "{last}"
        );
        assert_eq!(b.text("#gen-files").await, format!("group-{group}.yml"));
        assert_eq!(b.text("#gen-groups").await, "ipocket/edge");
        b.screenshot("alerts-status").await;

        // The target's effective rules.
        b.goto(&format!("/ui/alerts/targets/{target}")).await;
        let eff = b.text("#effective-rules tbody").await;
        assert!(eff.contains("TargetDown") && eff.contains("edge"), "{eff}");
        assert!(b.find_all("#overridden-rules").await.is_empty());
        // In group core too, with a TargetDown of lower priority: edge's rule (250, merge)
        // stays in effect and takes core's in.
        let rules = get(&srv, "/api/v1/alert-rules", Some(&vi)).json();
        let (edge_rule, template) = (&rules[0]["id"], &rules[0]["template_id"]);
        let core: i64 = core.parse().unwrap();
        let r = send_json(
            &srv,
            "POST",
            "/api/v1/alert-rules",
            Some(&ed),
            json!({"group_id": core, "template_id": template, "vars": {"min_up": "3"}}),
        );
        assert_eq!(r.status, 201, "{}", r.text());
        let core_rule = r.json()["id"].as_i64().unwrap();
        let r = send_json(
            &srv,
            "PUT",
            &format!("/api/v1/alert-targets/{target}"),
            Some(&ed),
            json!({"hostname": "r1", "address": "10.0.0.1", "group_ids": [group, core]}),
        );
        assert_eq!(r.status, 200, "{}", r.text());
        b.goto(&format!("/ui/alerts/targets/{target}")).await;
        let eff = b.text("#effective-rules tbody").await;
        assert!(eff.contains("edge") && eff.contains("< 1"), "{eff}");
        let over = b.text("#overridden-rules").await;
        assert_eq!(
            over,
            format!("TargetDown of group core (rule {core_rule}): merged into rule {edge_rule}")
        );
        b.close().await;

        // A Viewer reads the pages without any form, and a POST is refused.
        let v = browser(&srv).await;
        login(&v, "vi", USER_PASSWORD).await;
        for page in [
            "/ui/alerts",
            "/ui/alerts/templates",
            "/ui/alerts/regenerate",
        ] {
            v.goto(page).await;
            v.find("#main h1").await;
            assert!(
                v.find_all("main form").await.is_empty(),
                "{page} has a form"
            );
        }
        v.goto(&format!("/ui/alerts/targets/{target}")).await;
        assert!(v.find_all("main form").await.is_empty());
        let (cookie, csrf) = (session_cookie(&v).await, csrf_token(&v).await);
        for path in ["/ui/alerts/regenerate", "/ui/alerts/templates"] {
            let r = with_cookie(
                &srv,
                "POST",
                path,
                &cookie,
                Some(&format!("csrf={csrf}&name=X&query_template=up")),
            );
            assert_eq!(r.status, 403, "{path}: {}", r.text());
        }
        v.close().await;
    });
}
