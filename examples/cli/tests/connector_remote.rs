//! The remote modes end to end over real HTTP on 127.0.0.1: the real `ipocket serve` with a
//! SQLite file, Debian's real Prometheus 2.42, and `ipocket connector prometheus` /
//! `ipocket sd write|watch` pointed at the server with `--ipocket-url` / `--inventory-url`.
//! Fails (never skips) when /usr/bin/prometheus is missing.

use std::io::{BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command, Output, Stdio};
use std::time::Duration;

use ipocket_core::Inventory;
use ipocket_testkit::peer;
use ipocket_testkit::serve_addr::read_listen_addr;
use ipocket_testkit::vcenter;
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_ipocket");

const ADMIN_PASSWORD: &str = "admin-pass-123";
const SD_TOKEN: &str = "sd-secret-77";
const QUERY: &str = r#"label_replace(vector(1), "instance", "10.1.2.3:9100", "", "") or label_replace(vector(2), "instance", "127.0.0.1:9100", "", "")"#;

/// `ipocket serve` on a free port with its own SQLite file; killed on drop.
struct Server {
    child: Child,
    addr: String,
    db: PathBuf,
    _stdout: BufReader<ChildStdout>,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn start() -> Server {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("server.db");
        let mut child = Command::new(BIN)
            .args(["serve", "--listen", "127.0.0.1:0", "--quiet", "--db"])
            .arg(&db)
            .env_remove("IPOCKET_DB")
            .env_remove("IPOCKET_PUBLIC_READS")
            .env("IPOCKET_SD_TOKEN", SD_TOKEN)
            .env("IPOCKET_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let (addr, _) = read_listen_addr(&mut stdout);
        Server {
            child,
            addr,
            db,
            _stdout: stdout,
            _dir: dir,
        }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// One JSON request over HTTP/1.1 (`Connection: close`): (status, body).
    fn send(&self, method: &str, path: &str, token: Option<&str>, body: &Value) -> (u16, Value) {
        let body = body.to_string();
        let mut s = TcpStream::connect(&self.addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let auth = token
            .map(|t| format!("Authorization: Bearer {t}\r\n"))
            .unwrap_or_default();
        write!(
            s,
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Type: application/json\r\n{auth}Content-Length: {}\r\n\r\n{body}",
            self.addr,
            body.len()
        )
        .unwrap();
        let mut raw = String::new();
        let _ = s.read_to_string(&mut raw);
        let status = raw.split(' ').nth(1).unwrap().parse().unwrap();
        let body = raw.split_once("\r\n\r\n").map(|x| x.1).unwrap_or("");
        (status, serde_json::from_str(body).unwrap_or(Value::Null))
    }

    fn login(&self, user: &str, password: &str) -> String {
        let (status, v) = self.send(
            "POST",
            "/api/v1/auth/login",
            None,
            &json!({"username": user, "password": password}),
        );
        assert_eq!(status, 200, "{v}");
        v["access_token"].as_str().unwrap().to_string()
    }

    /// (editor token, viewer token).
    fn users(&self) -> (String, String) {
        let admin = self.login("admin", ADMIN_PASSWORD);
        for (name, role) in [("ed", "Editor"), ("vi", "Viewer")] {
            let (status, v) = self.send(
                "POST",
                "/api/v1/users",
                Some(&admin),
                &json!({"username": name, "password": "secret-pw-1", "role": role}),
            );
            assert_eq!(status, 201, "{v}");
        }
        (
            self.login("ed", "secret-pw-1"),
            self.login("vi", "secret-pw-1"),
        )
    }

    fn has_asset(&self, ip: &str) -> bool {
        Inventory::open(&self.db).unwrap().ip_asset(ip).is_ok()
    }
}

fn ipocket(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_remove("IPOCKET_DB")
        .env_remove("INVENTORY_URL")
        .env_remove("IPOCKET_URL")
        .env_remove("IPOCKET_TOKEN")
        .env_remove("IPOCKET_SD_TOKEN")
        .env_remove("IPOCKET_PROMETHEUS_TOKEN")
        .output()
        .unwrap()
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn connector(prom: &str, query: &str, rest: &[&str]) -> Output {
    let mut args = vec![
        "connector",
        "prometheus",
        "--prometheus-url",
        prom,
        "--query",
        query,
        "--ip-label",
        "instance",
        "--asset-type",
        "VM",
    ];
    args.extend_from_slice(rest);
    ipocket(&args)
}

/// Prometheus with a `file_sd` job over `<work>/targets/*.json`; scrapes of the fake 10.x
/// targets go to a loopback "proxy" that never answers.
fn prometheus_with_file_sd(sink: &std::net::TcpListener) -> peer::Peer {
    let sink_addr = sink.local_addr().unwrap();
    peer::Peer::prometheus_with_config(|work| {
        format!(
            "global:\n  scrape_interval: 30s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: file_sd\n    proxy_url: http://{sink_addr}\n    file_sd_configs:\n      - files: ['{}/targets/*.json']\n        refresh_interval: 1s\n",
            work.display()
        )
    })
}

/// Active `file_sd` targets once there are `n`: (address, job label), sorted.
fn wait_for_targets(prom: &peer::Peer, n: usize) -> Vec<(String, String)> {
    prom.wait_for_active_targets("file_sd", n)
        .into_iter()
        .map(|(address, job, _)| (address, job))
        .collect()
}

#[test]
fn connector_dry_run_and_apply_against_a_remote_server_and_real_prometheus() {
    peer::require(peer::PROMETHEUS);
    let sink = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let prom = prometheus_with_file_sd(&sink);
    let prom_url = prom.url("");
    let srv = Server::start();
    let (editor, viewer) = srv.users();
    let url = srv.url();

    // the remote dry run prints what the local one prints, and writes nothing
    let dir = tempfile::tempdir().unwrap();
    let local_db = dir.path().join("local.db");
    ipocket_core::Inventory::open(&local_db).unwrap();
    let local = connector(
        &prom_url,
        QUERY,
        &["--mode", "dry-run", "--db", local_db.to_str().unwrap()],
    );
    assert!(local.status.success(), "{}", text(&local).1);
    let remote = connector(
        &prom_url,
        QUERY,
        &[
            "--mode",
            "dry-run",
            "--ipocket-url",
            &url,
            "--ipocket-token",
            &viewer,
        ],
    );
    let (out, err) = text(&remote);
    assert!(remote.status.success(), "{err}");
    assert_eq!(out, text(&local).0);
    assert!(out.contains("Dry-run IP preview (1): 10.1.2.3"), "{out}");
    assert!(
        out.contains("- [CREATE] 10.1.2.3: type=VM; notes=Imported from Prometheus query"),
        "{out}"
    );
    assert!(
        out.contains("warning: Sample 1 skipped: loopback IP '127.0.0.1' is not allowed."),
        "{out}{err}"
    );
    assert!(
        out.ends_with("Import mode: dry-run. Summary create=1, update=0, skip=0.\n"),
        "{out}"
    );
    assert!(!srv.has_asset("10.1.2.3"), "a dry run wrote to the server");

    // --json: the engine's plan as the server serialised it
    let o = connector(
        &prom_url,
        QUERY,
        &[
            "--mode",
            "dry-run",
            "--json",
            "--ipocket-url",
            &url,
            "--ipocket-token",
            &viewer,
        ],
    );
    let plan: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(plan["summary"]["ip_assets"]["create"], 1);
    assert_eq!(plan["items"][0]["key"], "10.1.2.3");
    assert_eq!(plan["items"][0]["action"], "create");

    // a wrong token and a Viewer's apply are clear errors; the token never shows
    let o = connector(
        &prom_url,
        QUERY,
        &[
            "--mode",
            "apply",
            "--ipocket-url",
            &url,
            "--ipocket-token",
            "wrong-token-xyz",
        ],
    );
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("refused the token (401 unauthorized)"),
        "{err}"
    );
    assert!(!err.contains("wrong-token-xyz"), "{err}");
    let o = connector(
        &prom_url,
        QUERY,
        &[
            "--mode",
            "apply",
            "--ipocket-url",
            &url,
            "--ipocket-token",
            &viewer,
        ],
    );
    let (_, err) = text(&o);
    assert!(err.contains("forbids this (403 forbidden)"), "{err}");
    assert!(!err.contains(&viewer), "{err}");
    assert!(!srv.has_asset("10.1.2.3"));

    // an unknown project: the engine's located error, nothing written
    let o = connector(
        &prom_url,
        QUERY,
        &[
            "--mode",
            "apply",
            "--project",
            "nope",
            "--ipocket-url",
            &url,
            "--ipocket-token",
            &editor,
        ],
    );
    let (_, err) = text(&o);
    assert!(!o.status.success());
    assert!(
        err.contains("ipocket server rejected the bundle: 1 import error\n  data.ip_assets[0].project_name: project \"nope\" does not exist"),
        "{err}"
    );
    assert!(!srv.has_asset("10.1.2.3"));

    // the Editor's apply writes to the server's inventory, with the audit entry id
    let o = connector(
        &prom_url,
        QUERY,
        &[
            "--mode",
            "apply",
            "--tags",
            "monitoring",
            "--ipocket-url",
            &url,
            "--ipocket-token",
            &editor,
        ],
    );
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(out.contains("Import mode: apply (audit entry "), "{out}");
    assert!(
        out.ends_with("Summary create=1, update=0, skip=0.\n"),
        "{out}"
    );
    let asset = Inventory::open(&srv.db)
        .unwrap()
        .ip_asset("10.1.2.3")
        .unwrap();
    assert_eq!(asset.asset_type.as_str(), "VM");
    assert!(asset
        .notes
        .unwrap_or_default()
        .starts_with("Imported from Prometheus query"));

    // the next dry run sees it
    let o = connector(
        &prom_url,
        QUERY,
        &[
            "--mode",
            "dry-run",
            "--tags",
            "monitoring",
            "--ipocket-url",
            &url,
            "--ipocket-token",
            &viewer,
        ],
    );
    let (out, _) = text(&o);
    assert!(out.contains("- [SKIP] 10.1.2.3: "), "{out}");

    // the SD updater reads the server (login token) and Prometheus picks the file up
    let targets = prom.work.path().join("targets/ipocket.json");
    let o = ipocket(&[
        "sd",
        "write",
        "--inventory-url",
        &format!("{url}/sd/node"),
        "--ipocket-token",
        &viewer,
        "--targets-file",
        targets.to_str().unwrap(),
        "--job",
        "ipam-nodes",
    ]);
    assert!(o.status.success(), "{}", text(&o).1);
    assert_eq!(
        wait_for_targets(&prom, 1),
        [("10.1.2.3:9100".to_string(), "ipam-nodes".to_string())]
    );

    // a bad SD token fails loudly and leaves the file as it was
    let before = std::fs::read(&targets).unwrap();
    let o = ipocket(&[
        "sd",
        "write",
        "--inventory-url",
        &url,
        "--sd-token",
        "not-the-sd-token",
        "--targets-file",
        targets.to_str().unwrap(),
    ]);
    let (_, err) = text(&o);
    assert!(!o.status.success());
    assert!(
        err.contains("refused the token (401 unauthorized)"),
        "{err}"
    );
    assert!(!err.contains("not-the-sd-token"), "{err}");
    assert_eq!(std::fs::read(&targets).unwrap(), before);

    // sd watch with the X-SD-Token follows the next import through the server
    let mut watch = Command::new(BIN)
        .args(["sd", "watch", "--inventory-url"])
        .arg(&url)
        .args(["--targets-file", targets.to_str().unwrap()])
        .args(["--interval", "0.2", "--job", "ipam-nodes"])
        .env_remove("IPOCKET_DB")
        .env_remove("INVENTORY_URL")
        .env_remove("IPOCKET_TOKEN")
        .env("IPOCKET_SD_TOKEN", SD_TOKEN)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let more = r#"label_replace(vector(1), "instance", "10.1.2.4:9100", "", "")"#;
    let o = connector(
        &prom_url,
        more,
        &[
            "--mode",
            "apply",
            "--ipocket-url",
            &url,
            "--ipocket-token",
            &editor,
        ],
    );
    assert!(o.status.success(), "{}", text(&o).1);
    let seen = wait_for_targets(&prom, 2);
    let _ = watch.kill();
    let _ = watch.wait();
    assert_eq!(seen[1].0, "10.1.2.4:9100");
    let mut log = String::new();
    watch
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    assert!(log.contains("/api/v1/sd"), "{log}");
    assert!(!log.contains(SD_TOKEN), "{log}");
    assert!(!prom.log().contains("Error reading file"), "{}", prom.log());
    drop(sink);
}

#[test]
fn vcenter_dry_run_and_apply_against_a_remote_server() {
    let vc = format!("http://{}", vcenter::vcenter_stub());
    let srv = Server::start();
    let (editor, viewer) = srv.users();
    let url = srv.url();
    let run = |mode: &str, token: &str| {
        let mut cmd = Command::new(BIN);
        cmd.args(["connector", "vcenter", "--server", &vc, "--username", "u"])
            .args([
                "--mode",
                mode,
                "--ipocket-url",
                &url,
                "--ipocket-token",
                token,
            ])
            .env("IPOCKET_VCENTER_PASSWORD", "pw-not-echoed")
            .env_remove("IPOCKET_DB")
            .env_remove("IPOCKET_TOKEN");
        let o = cmd.output().unwrap();
        let (out, err) = text(&o);
        assert!(!out.contains("pw-not-echoed") && !err.contains("pw-not-echoed"));
        assert!(!out.contains(token) && !err.contains(token));
        (o.status.success(), out, err)
    };
    let (ok, out, err) = run("dry-run", &viewer);
    assert!(ok, "{err}");
    assert!(out.contains("- [CREATE] 10.60.0.1:"), "{out}");
    assert!(out.contains("- [CREATE] 10.60.1.5:"), "{out}");
    assert!(
        out.ends_with("Import mode: dry-run. Summary create=4, update=0, skip=0.\n"),
        "{out}"
    );
    assert!(!srv.has_asset("10.60.1.5"));
    let dir = tempfile::tempdir().unwrap();
    ipocket_core::Inventory::open(dir.path().join("local.db")).unwrap();
    let local = Command::new(BIN)
        .args(["connector", "vcenter", "--server", &vc, "--username", "u"])
        .args(["--mode", "dry-run", "--db"])
        .arg(dir.path().join("local.db"))
        .env("IPOCKET_VCENTER_PASSWORD", "pw-not-echoed")
        .output()
        .unwrap();
    assert_eq!(text(&local).0, out, "remote and local dry runs differ");
    let (ok, _, err) = run("apply", "expired-or-wrong");
    assert!(!ok && err.contains("401 unauthorized"), "{err}");
    let (ok, out, err) = run("apply", &editor);
    assert!(ok, "{err}");
    assert!(out.contains("Import mode: apply (audit entry "), "{out}");
    assert!(!out.contains("dry-run"), "{out}");
    assert!(srv.has_asset("10.60.1.5") && srv.has_asset("10.60.0.1"));
    let (_, out, _) = run("dry-run", &viewer);
    assert!(out.contains("- [SKIP] 10.60.1.5:"), "{out}");
}
