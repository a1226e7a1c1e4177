//! The Connectors page: Prometheus connector runs as background jobs against the real
//! Prometheus (dry run with its plan and log, apply from a saved configuration, a failed run
//! with its error), field errors, and a Viewer who sees the jobs but cannot run one.

use ipocket_testkit::browser::Browser;
use ipocket_testkit::peer::{self, Peer};

use crate::common::get;
use crate::ui_common::{
    browser, csrf_token, login, run, session_cookie, start, wait_for_text, with_cookie,
    USER_PASSWORD,
};

/// Two addresses from Prometheus itself: one kept, one loopback skipped with a warning.
const QUERY: &str = r#"label_replace(vector(1), "instance", "10.1.2.3:9100", "", "") or label_replace(vector(2), "instance", "127.0.0.1:9100", "", "")"#;

/// Fills the Prometheus form and submits it; answers the job page's path.
async fn run_prometheus(b: &Browser, url: &str, apply: bool, save_as: &str) -> String {
    b.goto("/ui/connectors").await;
    b.fill("#f-prometheus_url", url).await;
    b.fill("#f-query", QUERY).await;
    b.select("#f-asset_type", "VM").await;
    b.fill("#prometheus #f-save_as", save_as).await;
    if apply {
        b.click("#prom-apply").await;
    }
    b.click("#prometheus button[type=submit]").await;
    b.path().await
}

#[test]
fn prometheus_runs_are_background_jobs_with_plan_log_and_errors() {
    peer::require(peer::PROMETHEUS);
    let prom = Peer::prometheus();
    let prom_url = prom.url("");
    let (srv, admin) = start();
    run(async {
        let b = browser(&srv).await;
        login(&b, "ed", USER_PASSWORD).await;

        // A dry run: the request returns at once with the job page, which reloads itself
        // until the job is done and shows the plan and the log; nothing is written.
        let path = run_prometheus(&b, &prom_url, false, "lab").await;
        assert!(path.starts_with("/ui/connectors/jobs/"), "{path}");
        assert!(b.text(".flash").await.contains("queued"));
        wait_for_text(&b, "h1", "done").await;
        let plan = b.text("table.import-plan").await;
        assert!(
            plan.contains("10.1.2.3") && plan.contains("CREATE"),
            "{plan}"
        );
        let log = b.text(".job-log").await;
        assert!(log.contains(&format!("querying {prom_url}")), "{log}");
        assert!(
            log.contains("1 addresses") && log.contains("plan: 1 create"),
            "{log}"
        );
        assert!(log.contains("loopback"), "{log}");
        assert!(b.text(".job-summary").await.contains("would 1 create"));
        b.screenshot("connector-job").await;
        assert_eq!(
            get(&srv, "/api/v1/ip-assets/10.1.2.3", Some(&admin)).status,
            404
        );

        // The saved configuration pre-fills the form; applied, the asset exists.
        b.goto("/ui/connectors").await;
        assert!(b.text("table.saved-configs").await.contains("lab"));
        b.click("table.saved-configs a.button").await;
        assert_eq!(
            b.find("#f-query")
                .await
                .prop("value")
                .await
                .unwrap()
                .unwrap(),
            QUERY
        );
        // Saved without a token, it also runs as it is.
        b.goto("/ui/connectors").await;
        b.click("table.saved-configs button[value=apply]").await;
        wait_for_text(&b, "h1", "done").await;
        assert!(b.text("h1").await.contains("apply"));
        assert!(b.text(".job-log").await.contains("applied (audit entry"));
        let asset = get(&srv, "/api/v1/ip-assets/10.1.2.3", Some(&admin));
        assert_eq!(asset.status, 200, "{}", asset.text());
        assert_eq!(asset.json()["type"], "VM");

        // A closed port: the job fails with the connector's error.
        run_prometheus(&b, "http://127.0.0.1:1", false, "").await;
        wait_for_text(&b, "h1", "failed").await;
        let error = b.text(".job-error").await;
        assert!(error.contains("Prometheus"), "{error}");

        // A bad URL is refused at its field before anything is queued.
        run_prometheus(&b, "ftp://example", false, "").await;
        assert_eq!(b.path().await, "/ui/connectors/prometheus");
        assert!(b
            .text("#f-prometheus_url-err, #prometheus .field.invalid")
            .await
            .contains("http://"));

        // The page: last result per connector and the job table, newest first.
        b.goto("/ui/connectors").await;
        let jobs = b.find_all("table.jobs tbody tr").await;
        assert_eq!(jobs.len(), 3);
        assert!(jobs[0].text().await.unwrap().contains("failed"));
        assert!(b.text(".last-result").await.contains("failed"));
        b.resize(1280, 1900).await;
        b.screenshot("connectors").await;
        b.close().await;

        // A Viewer reads the jobs, has no form, and is refused a run.
        let v = browser(&srv).await;
        login(&v, "vi", USER_PASSWORD).await;
        v.goto("/ui/connectors").await;
        assert_eq!(v.find_all("table.jobs tbody tr").await.len(), 3);
        assert!(v.find_all("form#prometheus, form#vcenter").await.is_empty());
        v.goto("/ui/connectors/jobs/1").await;
        assert!(v.text("table.import-plan").await.contains("10.1.2.3"));
        let form = format!(
            "csrf={}&prometheus_url=http%3A%2F%2F127.0.0.1%3A1&query=up&ip_label=instance",
            csrf_token(&v).await
        );
        let r = with_cookie(
            &srv,
            "POST",
            "/ui/connectors/prometheus",
            &session_cookie(&v).await,
            Some(&form),
        );
        assert_eq!(r.status, 403);
        v.close().await;
    });
}

#[test]
fn a_vcenter_job_runs_with_a_password_that_is_never_stored() {
    let vcenter = format!("http://{}", ipocket_testkit::vcenter::vcenter_stub());
    let (srv, admin) = start();
    run(async {
        let b = browser(&srv).await;
        login(&b, "ed", USER_PASSWORD).await;
        b.goto("/ui/connectors").await;
        // No password: refused at its field.
        b.fill("#f-server", &vcenter).await;
        b.fill("#f-vc_username", "u").await;
        b.click("#vcenter button[type=submit]").await;
        assert!(b
            .text("#vcenter .field.invalid")
            .await
            .contains("never stored"));
        b.fill("#f-password", "vc-pass-not-stored").await;
        b.fill("#vcenter #f-save_as", "dc1").await;
        b.click("#vc-apply").await;
        b.click("#vcenter button[type=submit]").await;
        wait_for_text(&b, "h1", "done").await;
        assert!(b.text(".job-log").await.contains("1 hosts, 1 VMs"));
        assert!(b.text("table.import-plan").await.contains("10.60.1.5"));
        assert!(!b.source().await.contains("vc-pass-not-stored"));
        let asset = get(&srv, "/api/v1/ip-assets/10.60.1.5", Some(&admin));
        assert_eq!(asset.json()["type"], "VM");
        // The saved configuration comes back without the password.
        b.goto("/ui/connectors").await;
        b.click("table.saved-configs a.button").await;
        assert_eq!(
            b.find("#f-server")
                .await
                .prop("value")
                .await
                .unwrap()
                .unwrap(),
            vcenter
        );
        assert_eq!(
            b.find("#f-password")
                .await
                .prop("value")
                .await
                .unwrap()
                .unwrap(),
            ""
        );
        b.close().await;
    });
    // Neither the database nor its write-ahead log holds the password.
    for file in [srv.db.clone(), srv.db.with_extension("db-wal")] {
        let bytes = std::fs::read(&file).unwrap_or_default();
        assert!(!String::from_utf8_lossy(&bytes).contains("vc-pass-not-stored"));
    }
}

/// `ipocket serve` on an existing database file; killed on drop.
struct Restarted {
    child: std::process::Child,
    addr: String,
}

impl Drop for Restarted {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve_again(db: &std::path::Path) -> Restarted {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_ipocket"))
        .args(["serve", "--listen", "127.0.0.1:0", "--quiet", "--db"])
        .arg(db)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    let addr = line
        .split("http://")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_string();
    Restarted { child, addr }
}

#[test]
fn a_server_restart_marks_a_running_job_interrupted() {
    // A "Prometheus" that accepts the connection and never answers: the job stays running.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", silent.local_addr().unwrap());
    let (mut srv, _) = start();
    run(async {
        let b = browser(&srv).await;
        login(&b, "ed", USER_PASSWORD).await;
        b.goto("/ui/connectors").await;
        b.fill("#f-prometheus_url", &url).await;
        b.fill("#f-query", "up").await;
        b.fill("#f-timeout_seconds", "600").await;
        b.click("#prometheus button[type=submit]").await;
        wait_for_text(&b, "h1", "running").await;
        b.close().await;
    });
    srv.child.kill().unwrap();
    srv.child.wait().unwrap();
    let again = serve_again(&srv.db);
    run(async {
        let b = Browser::open(&format!("http://{}", again.addr)).await;
        login(&b, "ed", USER_PASSWORD).await;
        b.goto("/ui/connectors/jobs/1").await;
        assert!(b.text("h1").await.contains("interrupted"));
        assert!(b
            .text(".job-log")
            .await
            .contains("interrupted: the server stopped"));
        // Not running any more: the page no longer reloads itself.
        assert!(b.find_all("meta[http-equiv=refresh]").await.is_empty());
        b.close().await;
    });
}
