//! Liveness in the UI (issue #21): the status dots of the asset and host pages and
//! `/ui/reconcile` (lists, dry run, apply), against Debian's real Prometheus scraping the real
//! node_exporter and closed loopback ports (ipocket_testkit::liveness); then Prometheus
//! stopped, a Prometheus that never answers, and a server without liveness.

use std::time::{Duration, Instant};

use ipocket_testkit::browser::Browser;
use ipocket_testkit::liveness::{LiveStack, DOWN_IP, STRAY_IP, UNSCRAPED_IP, UP_IP};
use ipocket_testkit::stub::{Canned, Stub};

use crate::common::{self, get, request, start_with, ADMIN_PASSWORD};
use crate::ui_common::{
    browser, csrf_token, login, run, session_cookie, wait_for_text, with_cookie, USER_PASSWORD,
};

/// The stack's inventory, with host web-01 holding 10.9.8.7 (OS: Prometheus says node-01,
/// a host mismatch) and 10.9.8.8 (BMC).
const BUNDLE: &str = r#"{"app":"ipocket","schema_version":"1","data":{
  "projects":[{"name":"core"}],
  "hosts":[{"name":"web-01"}],
  "ip_assets":[
    {"ip_address":"10.9.8.7","type":"OS","project_name":"core","host_name":"web-01"},
    {"ip_address":"10.9.8.8","type":"BMC","host_name":"web-01"},
    {"ip_address":"10.9.8.9","type":"VM"}]}}"#;

/// `ipocket serve` on `prometheus_url` with a 1 s TTL and `timeout` seconds of waiting; the
/// stack's inventory imported; users admin, ed (Editor), vi (Viewer).
fn server(prometheus_url: &str, timeout: &str) -> common::Server {
    let srv = start_with(
        &[
            "--liveness-prometheus-url",
            prometheus_url,
            "--liveness-window",
            "1h",
            "--liveness-step",
            "1s",
            "--liveness-ttl-secs",
            "1",
            "--liveness-timeout-secs",
            timeout,
            "--reconcile-down-days",
            "0.5",
            "--max-page-size",
            "50",
        ],
        Some(ADMIN_PASSWORD),
    );
    let (admin, _, _) = common::users(&srv);
    let r = request(
        &srv,
        "POST",
        "/api/v1/import?apply=1",
        Some(&admin),
        Some("application/json"),
        BUNDLE.as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    srv
}

/// Waits up to 10 s until the dot of `ip` shows `state`; returns its tooltip.
pub(crate) async fn dot_state(b: &Browser, ip: &str, state: &str) -> String {
    let css = format!(r#".live[data-live-ip="{ip}"][data-live-state="{state}"]"#);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(e) = b.find_all(&css).await.first() {
            assert!(e.is_displayed().await.unwrap(), "{css} is hidden");
            return e.attr("title").await.unwrap().unwrap_or_default();
        }
        assert!(
            Instant::now() < deadline,
            "no dot {css} on {}:\n{}",
            b.path().await,
            b.source().await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The count card `id` of /ui/reconcile.
async fn count(b: &Browser, id: &str) -> String {
    b.text(&format!("#count-{id} .value")).await
}

#[test]
fn dots_reconcile_dry_run_and_apply_from_the_real_stack_then_prometheus_stopped() {
    let mut stack = LiveStack::start();
    let srv = server(&stack.url(), "2");
    run(async {
        let b = browser(&srv).await;
        login(&b, "ed", USER_PASSWORD).await;

        // the asset list: one dot per row, from the real Prometheus
        b.goto("/ui/ip-assets").await;
        let up = dot_state(&b, UP_IP, "up").await;
        assert!(
            up.contains("last seen up") && up.contains("jobs: node, wrongport"),
            "{up}"
        );
        let down = dot_state(&b, DOWN_IP, "down").await;
        assert!(
            down.contains("not up in the last 12 h") && down.contains("jobs: gone"),
            "{down}"
        );
        let ns = dot_state(&b, UNSCRAPED_IP, "not_scraped").await;
        assert!(ns.contains("no Prometheus target"), "{ns}");
        b.screenshot("ip-assets-liveness").await;

        // the host list and the host's page
        b.goto("/ui/hosts").await;
        dot_state(&b, UP_IP, "up").await;
        dot_state(&b, DOWN_IP, "down").await;
        b.click("td[data-label=Name] a").await;
        dot_state(&b, UP_IP, "up").await;
        dot_state(&b, DOWN_IP, "down").await;

        // the asset's page: the words beside the dot
        b.goto(&format!("/ui/ip-assets/{UP_IP}")).await;
        dot_state(&b, UP_IP, "up").await;
        let words = b.text(".live-full .live-text").await;
        assert!(
            words.starts_with("up, last seen up") && words.contains("jobs: node"),
            "{words}"
        );

        // /ui/reconcile: the three lists and their counts
        b.goto("/ui/reconcile").await;
        assert!(b.text("header nav").await.contains("Reconcile"));
        assert_eq!(count(&b, "unknown").await, "1");
        assert_eq!(count(&b, "reclaimable").await, "2");
        assert_eq!(count(&b, "mismatch").await, "3");
        assert!(b.text("table.reconcile-unknown").await.contains(STRAY_IP));
        let reclaimable = b.text("table.reconcile-reclaimable").await;
        assert!(
            reclaimable.contains(DOWN_IP) && reclaimable.contains(UNSCRAPED_IP),
            "{reclaimable}"
        );
        assert!(reclaimable.contains("not scraped") && reclaimable.contains("down"));
        let mismatch = b.text("table.reconcile-mismatch").await;
        for what in [
            "project",
            "host",
            "never up",
            "web-01",
            "node-01",
            "wrongport",
        ] {
            assert!(mismatch.contains(what), "{what} in {mismatch}");
        }
        let nav_height = b
            .client
            .execute(
                "return document.querySelector('header.top nav ul').getBoundingClientRect().height",
                vec![],
            )
            .await
            .unwrap();
        assert!(
            nav_height.as_f64().unwrap() < 45.0,
            "the navigation wraps at 1280 px: {nav_height}"
        );
        assert!(b
            .text("table.reconcile-unknown")
            .await
            .contains("Document it"));
        b.resize(1280, 1150).await;
        b.screenshot("reconcile").await;
        b.resize(1280, 900).await;

        // dry run of Unknown through the import engine, then apply
        b.click("#dry-run-unknown").await;
        let plan = b.text("table.import-plan").await;
        assert!(plan.contains(STRAY_IP) && plan.contains("CREATE"), "{plan}");
        assert!(plan.contains("Seen up by Prometheus"), "{plan}");
        b.screenshot("reconcile-dry-run").await;
        b.click("#apply").await;
        wait_for_text(&b, ".flash-success", "Unknown list applied: 1 created").await;
        assert_eq!(count(&b, "unknown").await, "0");

        // Reclaimable: archive both, with the diff
        b.click("#dry-run-reclaimable").await;
        let plan = b.text("table.import-plan").await;
        assert_eq!(plan.matches("UPDATE").count(), 2, "{plan}");
        assert!(plan.contains("archived") && plan.contains("true"), "{plan}");
        b.click("#apply").await;
        wait_for_text(
            &b,
            ".flash-success",
            "Reclaimable list applied: 0 created, 2 updated",
        )
        .await;
        assert_eq!(count(&b, "reclaimable").await, "0");

        // Mismatch: the asset takes Prometheus's project and host (both created); the
        // never-up target stays listed, as the inventory cannot fix it
        b.click("#dry-run-mismatch").await;
        let plan = b.text("table.import-plan").await;
        assert!(
            plan.contains(UP_IP) && plan.contains("node-01") && plan.contains("web"),
            "{plan}"
        );
        b.screenshot("reconcile-mismatch-dry-run").await;
        b.click("#apply").await;
        wait_for_text(&b, ".flash-success", "Mismatch list applied").await;
        assert_eq!(count(&b, "mismatch").await, "1");
        assert!(b
            .text("table.reconcile-mismatch")
            .await
            .contains("never up"));
        let (admin, viewer) = (
            common::login(&srv, "admin", ADMIN_PASSWORD),
            common::login(&srv, "vi", USER_PASSWORD),
        );
        let created = get(
            &srv,
            &format!("/api/v1/ip-assets/{STRAY_IP}"),
            Some(&viewer),
        )
        .json();
        assert_eq!(
            (created["type"].as_str(), created["archived"].as_bool()),
            (Some("OTHER"), Some(false))
        );
        let archived = get(
            &srv,
            &format!("/api/v1/ip-assets/{UNSCRAPED_IP}"),
            Some(&viewer),
        )
        .json();
        assert_eq!(archived["archived"], true, "{archived}");
        let taken = get(&srv, &format!("/api/v1/ip-assets/{UP_IP}"), Some(&viewer)).json();
        assert_eq!(
            (taken["project_name"].as_str(), taken["host_name"].as_str()),
            (Some("web"), Some("node-01")),
            "{taken}"
        );
        let audit = get(&srv, "/api/v1/audit-log", Some(&admin)).text();
        assert!(
            audit.contains("reconcile:unknown")
                && audit.contains("reconcile:reclaimable")
                && audit.contains("reconcile:mismatch"),
            "{audit}"
        );

        // an apply whose plan is not the one shown writes nothing (409, the new plan)
        let cookie = session_cookie(&b).await;
        let csrf = csrf_token(&b).await;
        let r = with_cookie(
            &srv,
            "POST",
            "/ui/reconcile/apply",
            &cookie,
            Some(&format!("csrf={csrf}&list=unknown&plan=stale")),
        );
        assert_eq!(r.status, 409, "{}", r.text());
        assert!(r.text().contains("changed since your dry run"));

        // the dots endpoint: at most --max-page-size addresses, each a valid one
        let many: Vec<String> = (1..=51).map(|i| format!("ip=10.0.0.{i}")).collect();
        let r = with_cookie(
            &srv,
            "GET",
            &format!("/ui/liveness?{}", many.join("&")),
            &cookie,
            None,
        );
        assert_eq!(r.status, 400, "{}", r.text());
        assert!(r.text().contains("at most 50 addresses"), "{}", r.text());
        let r = with_cookie(&srv, "GET", "/ui/liveness?ip=10.0.0.999", &cookie, None);
        assert_eq!((r.status, r.error_code()), (400, "bad_request".to_string()));
        let r = with_cookie(
            &srv,
            "GET",
            &format!("/ui/liveness?ip={UP_IP}"),
            &cookie,
            None,
        );
        assert_eq!(r.json()["addresses"][0]["state"], "up", "{}", r.text());
        assert!(get(&srv, &format!("/ui/liveness?ip={UP_IP}"), None).status == 303);

        // a Viewer sees the plan, not the button, and a forged apply is refused
        b.click("header .account button[type=submit]").await;
        login(&b, "vi", USER_PASSWORD).await;
        b.goto("/ui/reconcile/dry-run?list=unknown").await;
        assert!(b.find_all("#apply").await.is_empty());
        assert!(b
            .text("main")
            .await
            .contains("may look at plans but not apply"));
        let (cookie, csrf) = (session_cookie(&b).await, csrf_token(&b).await);
        let r = with_cookie(
            &srv,
            "POST",
            "/ui/reconcile/apply",
            &cookie,
            Some(&format!("csrf={csrf}&list=unknown&plan=x")),
        );
        assert_eq!(r.status, 403, "{}", r.text());

        // Prometheus stops: pages render at once, the dots turn grey, the lists say why
        stack.prometheus.kill();
        tokio::time::sleep(Duration::from_millis(1100)).await; // the TTL
        let t = Instant::now();
        b.goto("/ui/ip-assets").await;
        assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
        let why = dot_state(&b, UP_IP, "unknown").await;
        assert!(
            why.contains("unknown — Prometheus unreachable")
                && why.contains("Prometheus unreachable: "),
            "{why}"
        );
        dot_state(&b, STRAY_IP, "unknown").await;
        assert!(b
            .text(".live-notice")
            .await
            .contains("unknown — Prometheus unreachable"));
        b.screenshot("ip-assets-liveness-unreachable").await;
        b.goto("/ui/reconcile").await;
        assert!(b
            .text(".prometheus-unreachable")
            .await
            .contains("Prometheus unreachable"));
        assert_eq!(count(&b, "reclaimable").await, "—");
        assert!(b
            .text("#reclaimable")
            .await
            .contains("Not known while Prometheus is unreachable"));
        assert!(b.find_all("#dry-run-reclaimable").await.is_empty());
        b.screenshot("reconcile-unreachable").await;
        b.goto("/ui/reconcile/dry-run?list=reclaimable").await;
        wait_for_text(
            &b,
            ".flash-error",
            "Nothing to plan or apply: Prometheus unreachable",
        )
        .await;
        b.close().await;
    });
}

#[test]
fn a_prometheus_that_never_answers_never_delays_a_page() {
    let stub = Stub::start(Canned {
        status: 200,
        content_type: "application/json",
        body: r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#.into(),
        delay: Duration::from_secs(30),
        require_auth: None,
    });
    let srv = server(&format!("http://{}", stub.addr), "1");
    run(async {
        let b = browser(&srv).await;
        login(&b, "ed", USER_PASSWORD).await;
        let t = Instant::now();
        b.goto("/ui/ip-assets").await;
        assert!(
            t.elapsed() < Duration::from_millis(900),
            "{:?}",
            t.elapsed()
        );
        assert_eq!(b.find_all(".live[data-live-ip]").await.len(), 3);
        let why = dot_state(&b, UP_IP, "unknown").await;
        assert!(why.contains("no answer"), "{why}");
        b.goto("/ui/reconcile").await;
        assert!(b
            .text(".prometheus-unreachable")
            .await
            .contains("no answer"));
        b.close().await;
    });
}

#[test]
fn without_liveness_there_are_no_dots_and_no_reconcile_page() {
    let (srv, admin) = crate::ui_common::start();
    let r = common::send_json(
        &srv,
        "POST",
        "/api/v1/ip-assets",
        Some(&admin),
        serde_json::json!({"ip_address": "10.0.0.1", "type": "VM"}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    run(async {
        let b = browser(&srv).await;
        login(&b, "admin", ADMIN_PASSWORD).await;
        b.goto("/ui/ip-assets").await;
        assert!(b.text("table.assets").await.contains("10.0.0.1"));
        assert!(b.find_all("[data-live-ip]").await.is_empty());
        assert!(!b.text("header nav").await.contains("Reconcile"));
        b.goto("/ui/reconcile").await;
        assert!(b.text("main").await.contains("liveness is off"));
        let cookie = session_cookie(&b).await;
        let r = with_cookie(&srv, "GET", "/ui/liveness?ip=10.0.0.1", &cookie, None);
        assert_eq!(
            (r.status, r.error_code()),
            (404, "liveness_not_configured".to_string())
        );
        b.close().await;
    });
}
