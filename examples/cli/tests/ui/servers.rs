//! The servers dashboard with the real peers: register a server in the browser, run the real
//! `ipocket agent` against the real node_exporter until the server has received two pushes,
//! then the list shows it healthy and its page the node summary and charts with points; a
//! server without a push is "never"; a Viewer sees no register form and gets 403 posting.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ipocket_testkit::peer::Peer;

use crate::common::{get, Server, ADMIN_PASSWORD};
use crate::ui_common::{
    browser, csrf_token, login, run, session_cookie, start, with_cookie, USER_PASSWORD,
};

const BIN: &str = env!("CARGO_BIN_EXE_ipocket");

/// `ipocket agent` scraping `exporter` every second and pushing to `srv` as `server_id`.
fn agent(dir: &std::path::Path, srv: &Server, exporter: &str, server_id: &str) -> Child {
    let cfg = dir.join("agent.yml");
    std::fs::write(
        &cfg,
        format!(
            "scrapers:\n  prometheus:\n    endpoints:\n      - url: \"http://{exporter}/metrics\"\n        name: node_exporter\n        interval: 1s\nserver:\n  endpoint: \"http://{}/metrics/prometheus\"\n  timeout: 5s\nagent:\n  server_id: {server_id}\nbuffer:\n  path: {}\n  retention_hours: 48\n  max_size_mb: 100\n",
            srv.addr,
            dir.join("buffer").display()
        ),
    )
    .unwrap();
    let log = std::fs::File::create(dir.join("agent.log")).unwrap();
    Command::new(BIN)
        .args(["agent", "--config"])
        .arg(&cfg)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap()
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// The server's last push time from the JSON API.
fn last_seen(srv: &Server, token: &str, id: &str) -> Option<i64> {
    let list = get(srv, "/api/v1/servers", Some(token)).json();
    list.as_array()?
        .iter()
        .find(|s| s["server_id"] == id)?
        .get("last_seen_at_ms")?
        .as_i64()
}

/// Runs the agent until the server has seen two distinct pushes, then stops it.
fn push_twice(srv: &Server, token: &str, id: &str) {
    let dir = tempfile::tempdir().unwrap();
    let exporter = Peer::node_exporter();
    let mut child = agent(dir.path(), srv, &exporter.addr, id);
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut seen = Vec::new();
    while seen.len() < 2 {
        assert!(
            Instant::now() < deadline,
            "the agent did not push twice; its log:\n{}",
            std::fs::read_to_string(dir.path().join("agent.log")).unwrap_or_default()
        );
        if let Some(t) = last_seen(srv, token, id) {
            if seen.last() != Some(&t) {
                seen.push(t);
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    child.kill().unwrap();
    child.wait().unwrap();
}

/// The number of points of the first line of chart `id`, from its path's `d`.
async fn points_in(b: &ipocket_testkit::browser::Browser, id: &str) -> usize {
    let path = b.find(&format!("#{id} path.line")).await;
    let d = path.attr("d").await.unwrap().unwrap();
    d.matches(['M', 'L']).count()
}

#[test]
fn a_registered_server_pushed_twice_by_the_agent_shows_its_summary_and_charts() {
    let (srv, admin) = start();
    run(async {
        let b = browser(&srv).await;
        login(&b, "ed", USER_PASSWORD).await;
        b.goto("/ui/servers").await;
        // A bad id is refused at its field.
        b.fill("#f-server_id", "bad id!").await;
        b.click("form[action='/ui/servers'] button[type=submit]")
            .await;
        assert!(b
            .text(".field.invalid .field-error")
            .await
            .contains("letters, digits and inner hyphens"));
        b.fill("#f-server_id", "web-01").await;
        b.fill("#f-name", "Web one").await;
        b.click("form[action='/ui/servers'] button[type=submit]")
            .await;
        assert_eq!(b.path().await, "/ui/servers/web-01");
        assert!(b.text(".flash-success").await.contains("web-01 registered"));
        // The agent's configuration points at this server, under this id.
        let setup = b.text("#agent").await;
        assert!(setup.contains("ipocket agent --config /etc/ipocket/agent.yml"));
        assert!(setup.contains(&format!("http://{}/metrics/prometheus", srv.addr)));
        assert!(setup.contains("server_id: \"web-01\""));
        assert!(b.text("#chart-cpu").await.contains("No data yet"));

        // A second server never pushes.
        b.goto("/ui/servers").await;
        b.fill("#f-server_id", "db-01").await;
        b.click("form[action='/ui/servers'] button[type=submit]")
            .await;

        push_twice(&srv, &admin, "web-01");

        b.goto("/ui/servers").await;
        let web = b.text("table.servers tbody tr:last-child").await;
        assert!(web.contains("Web one") && web.contains("healthy"), "{web}");
        assert!(web.contains("s ago") && web.contains("UTC"), "{web}");
        let db = b.text("table.servers tbody tr:first-child").await;
        assert!(db.contains("db-01") && db.contains("never"), "{db}");
        b.screenshot("servers").await;

        b.click("a[href='/ui/servers/web-01']").await;
        let summary = b.text("#summary").await;
        assert!(
            summary.contains("CPU") && summary.contains('%'),
            "{summary}"
        );
        assert!(
            summary.contains("Memory used") && summary.contains("GiB"),
            "{summary}"
        );
        assert!(summary.contains("Uptime"), "{summary}");
        // Two pushes: two points of memory and disk; CPU and network are rates between them.
        assert!(points_in(&b, "chart-memory").await >= 2);
        assert!(points_in(&b, "chart-disk").await >= 2);
        assert!(!b.find_all("#chart-cpu circle").await.is_empty());
        assert!(b.text("#chart-memory").await.contains("Time (UTC)"));
        b.resize(1280, 1700).await;
        b.screenshot("server-detail").await;
        // Assuming 1 s pushes, the stopped agent's server is stale (red) after 3 s.
        let last = last_seen(&srv, &admin, "web-01").unwrap();
        while now_ms() < last + 3_500 {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        b.goto("/ui/servers?interval=1").await;
        let web = b.text("table.servers tbody tr:last-child").await;
        assert!(web.contains("stale"), "{web}");
        assert!(!b
            .find_all("tr:last-child .badge.health-stale")
            .await
            .is_empty());
        b.goto("/ui/servers/web-01").await;
        // The week keeps the points (the window is wider, the points the same).
        b.click("a[href*='range=1w']").await;
        assert!(points_in(&b, "chart-memory").await >= 2);
        b.close().await;
    });
}

#[test]
fn a_viewer_reads_the_servers_but_cannot_register_one() {
    let (srv, _admin) = start();
    run(async {
        let b = browser(&srv).await;
        login(&b, "admin", ADMIN_PASSWORD).await;
        b.goto("/ui/servers").await;
        b.fill("#f-server_id", "web-02").await;
        b.click("form[action='/ui/servers'] button[type=submit]")
            .await;
        b.client.delete_all_cookies().await.unwrap();
        login(&b, "vi", USER_PASSWORD).await;
        b.goto("/ui/servers").await;
        assert!(b.text("table.servers").await.contains("web-02"));
        assert!(b.find_all("form[action='/ui/servers']").await.is_empty());
        b.goto("/ui/servers/web-02").await;
        assert!(b
            .text("#summary")
            .await
            .contains("No node_exporter samples stored yet"));
        let cookie = session_cookie(&b).await;
        let csrf = csrf_token(&b).await;
        let r = with_cookie(
            &srv,
            "POST",
            "/ui/servers",
            &cookie,
            Some(&format!("csrf={csrf}&server_id=web-03")),
        );
        assert_eq!(r.status, 403);
        b.close().await;
    });
}
