//! `ipocket connector prometheus` and `ipocket sd write` as processes, against Debian's real
//! Prometheus 2.42 on 127.0.0.1 (the test fails when /usr/bin/prometheus is missing).

use std::path::Path;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_ipocket");

use ipocket_testkit::rules;
use ipocket_testkit::vcenter::vcenter_stub;

const QUERY: &str = r#"label_replace(vector(1), "instance", "10.1.2.3:9100", "", "") or label_replace(vector(2), "instance", "127.0.0.1:9100", "", "")"#;

fn ipocket(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_remove("IPOCKET_DB")
        .env_remove("INVENTORY_URL")
        .env_remove("INVENTORY_FORMAT")
        .env_remove("IPOCKET_PROMETHEUS_TOKEN")
        .env_remove("IPOCKET_URL")
        .env_remove("IPOCKET_TOKEN")
        .env_remove("IPOCKET_SD_TOKEN")
        .output()
        .unwrap()
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn connector(url: &str, query: &str, rest: &[&str]) -> Output {
    let mut args = vec![
        "connector",
        "prometheus",
        "--prometheus-url",
        url,
        "--query",
        query,
        "--ip-label",
        "instance",
    ];
    args.extend_from_slice(rest);
    ipocket(&args)
}

#[test]
fn file_dry_run_apply_and_errors_against_real_prometheus() {
    rules::require_peer();
    let prom = rules::Prometheus::start();
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("prometheus-bundle.json");
    let o = connector(
        &prom.url,
        QUERY,
        &[
            "--mode",
            "file",
            "--output",
            bundle.to_str().unwrap(),
            "--asset-type",
            "VM",
            "--tags",
            "monitoring,node",
        ],
    );
    let (_, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains("loopback IP '127.0.0.1' is not allowed"),
        "{err}"
    );
    let b: serde_json::Value = serde_json::from_slice(&std::fs::read(&bundle).unwrap()).unwrap();
    let assets = b["data"]["ip_assets"].as_array().unwrap();
    assert_eq!(assets.len(), 1);
    assert_eq!(assets[0]["ip_address"], "10.1.2.3");
    assert_eq!(assets[0]["type"], "VM");
    assert_eq!(assets[0]["tags"], serde_json::json!(["monitoring", "node"]));

    // the bundle file goes through the ordinary import too
    let db = dir.path().join("inv.db");
    // a dry run reads an existing inventory (a missing one is refused: inventory_cli.rs)
    ipocket_core::Inventory::open(&db).unwrap();
    let db_s = db.to_str().unwrap();
    let o = connector(&prom.url, QUERY, &["--mode", "dry-run", "--db", db_s]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(out.contains("Dry-run IP preview (1): 10.1.2.3"), "{out}");
    assert!(out.contains("- [CREATE] 10.1.2.3: "), "{out}");
    assert!(out.contains("Summary create=1, update=0, skip=0."), "{out}");
    // The query is echoed once (stderr), not in every note; no line ends in "..".
    assert!(
        out.contains("notes=Imported from Prometheus query '…' using label 'instance' (metric=unknown, value=1).\n"),
        "{out}"
    );
    assert!(
        !out.contains("label_replace") && !out.contains(".."),
        "{out}"
    );
    assert_eq!(err.matches("label_replace(vector(1)").count(), 1, "{err}");
    let o = connector(&prom.url, QUERY, &["--mode", "apply", "--db", db_s]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    // Apply says apply, from the first line to the last.
    assert!(!out.to_lowercase().contains("dry-run"), "{out}");
    assert!(
        out.starts_with("IPs found (1): 10.1.2.3\nPer-IP changes applied:\n- [CREATE] 10.1.2.3: "),
        "{out}"
    );
    assert!(out.contains("Import mode: apply (audit entry "), "{out}");
    assert!(
        out.ends_with("Summary create=1, update=0, skip=0.\n"),
        "{out}"
    );
    // --json keeps standard output one JSON document; the apply line goes to stderr.
    let o = connector(
        &prom.url,
        QUERY,
        &["--mode", "apply", "--json", "--db", db_s],
    );
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    let plan: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(plan["summary"]["ip_assets"]["skip"], 1, "{plan}");
    assert!(err.contains("Import mode: apply (audit entry "), "{err}");
    let o = connector(&prom.url, QUERY, &["--mode", "dry-run", "--db", db_s]);
    let (out, _) = text(&o);
    assert!(
        out.contains("- [SKIP] 10.1.2.3: no field changes."),
        "{out}"
    );

    // hard errors: bad PromQL (400 bad_data), scalar result, unreachable remote server
    let o = connector(&prom.url, "up{", &["--mode", "dry-run", "--db", db_s]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("errorType bad_data"), "{err}");
    let o = connector(
        &prom.url,
        "scalar(vector(1))",
        &["--mode", "dry-run", "--db", db_s],
    );
    assert!(text(&o)
        .1
        .contains("Unsupported Prometheus resultType 'scalar'"));
    let o = connector(
        &prom.url,
        QUERY,
        &[
            "--mode",
            "apply",
            "--ipocket-url",
            "http://127.0.0.1:1",
            "--ipocket-token",
            "t0k",
        ],
    );
    let (_, err) = text(&o);
    assert!(
        !o.status.success() && err.contains("connection to http://127.0.0.1:1/api/v1/import"),
        "{err}"
    );
    assert!(!err.contains("t0k"));
    let o = connector(
        &prom.url,
        QUERY,
        &["--mode", "apply", "--ipocket-url", "http://127.0.0.1:1"],
    );
    assert!(text(&o).1.contains("--ipocket-url needs --ipocket-token"));
    let o = connector(
        &prom.url,
        QUERY,
        &[
            "--mode",
            "dry-run",
            "--db",
            db_s,
            "--ipocket-url",
            "http://127.0.0.1:1",
        ],
    );
    assert!(text(&o).1.contains("not both"), "{}", text(&o).1);

    // sd write from the inventory the connector filled
    let targets = dir.path().join("targets/ipocket.json");
    let o = ipocket(&[
        "sd",
        "write",
        "--db",
        db_s,
        "--targets-file",
        targets.to_str().unwrap(),
        "--job",
        "ipam-nodes",
        "--label",
        "environment=test",
        "--port",
        "9200",
    ]);
    assert!(o.status.success(), "{}", text(&o).1);
    let groups: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&targets).unwrap()).unwrap();
    assert_eq!(groups[0]["targets"], serde_json::json!(["10.1.2.3:9200"]));
    assert_eq!(groups[0]["labels"]["job"], "ipam-nodes");
    assert_eq!(groups[0]["labels"]["environment"], "test");
    assert_eq!(groups[0]["labels"]["__metrics_path__"], "/metrics");
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&targets).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o644);
    }
    let o = ipocket(&[
        "sd",
        "write",
        "--db",
        &format!("{db_s}.typo"),
        "--targets-file",
        targets.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    assert!(text(&o).1.contains("no database at"), "{}", text(&o).1);
    assert!(!Path::new(&format!("{db_s}.typo")).exists());

    // issue #22: a device is refused, never replaced; `-` prints the JSON instead
    let o = ipocket(&["sd", "write", "--db", db_s, "--targets-file", "/dev/null"]);
    assert!(!o.status.success());
    let err = text(&o).1;
    assert!(
        err.contains("/dev/null is a character device, not a regular file; refusing to replace it"),
        "{err}"
    );
    {
        use std::os::unix::fs::FileTypeExt;
        let null = std::fs::symlink_metadata("/dev/null").unwrap();
        assert!(null.file_type().is_char_device());
    }
    let o = ipocket(&["sd", "write", "--db", db_s, "--targets-file", "-"]);
    assert!(o.status.success(), "{}", text(&o).1);
    let printed: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(
        printed.as_array().is_some_and(|a| !a.is_empty()),
        "{printed}"
    );
}

#[test]
fn sd_write_reads_the_seeds_inventory_list_of_host_names() {
    use ipocket_testkit::stub::{Canned, Stub};
    // seed 004's inventory service: GET /inventory → a JSON list of host names
    let inventory = Stub::start(Canned {
        status: 200,
        content_type: "application/json",
        body: r#"["sensor_0","sensor_1"]"#.into(),
        delay: std::time::Duration::ZERO,
        require_auth: None,
    });
    let url = format!("{}/inventory", inventory.url());
    let o = ipocket(&[
        "sd",
        "write",
        "--inventory-url",
        &url,
        "--targets-file",
        "-",
    ]);
    assert!(o.status.success(), "{}", text(&o).1);
    let printed: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        printed,
        serde_json::json!([{"targets": ["sensor_0:9100", "sensor_1:9100"],
            "labels": {"__metrics_path__": "/metrics", "job": "sensors", "environment": "production"}}])
    );
    assert_eq!(inventory.seen.lock().unwrap()[0].0, "/inventory");

    // ipocket's filters mean nothing to a list of names: refused, with the flags to drop
    let o = ipocket(&[
        "sd",
        "write",
        "--inventory-url",
        &url,
        "--targets-file",
        "-",
        "--tag",
        "prod",
    ]);
    assert!(!o.status.success());
    assert!(
        text(&o).1.contains(&format!(
            "inventory {url}: a list of host names has no projects"
        )),
        "{}",
        text(&o).1
    );
    let o = ipocket(&[
        "sd",
        "write",
        "--inventory-url",
        &url,
        "--inventory-format",
        "xml",
    ]);
    assert!(
        text(&o).1.contains("expected auto, ipocket or hosts"),
        "{}",
        text(&o).1
    );
    let o = ipocket(&["sd", "write", "--db", "x.db", "--inventory-format", "hosts"]);
    assert!(
        text(&o)
            .1
            .contains("--inventory-format applies to --inventory-url"),
        "{}",
        text(&o).1
    );
    // --inventory-format ipocket asks the server's SD endpoint under the URL
    let o = ipocket(&[
        "sd",
        "write",
        "--inventory-url",
        &url,
        "--inventory-format",
        "ipocket",
        "--targets-file",
        "-",
    ]);
    assert!(!o.status.success());
    let seen = inventory.seen.lock().unwrap();
    assert!(
        seen.last()
            .unwrap()
            .0
            .starts_with("/inventory/api/v1/sd?port=9100"),
        "{seen:?}"
    );
}

#[test]
fn vcenter_resolve_timeout_must_be_positive() {
    let o = ipocket(&[
        "connector",
        "vcenter",
        "--server",
        "http://127.0.0.1:1",
        "--username",
        "u",
        "--password",
        "p",
        "--mode",
        "file",
        "--output",
        "-",
        "--resolve-timeout",
        "0",
    ]);
    assert!(!o.status.success());
    assert!(
        text(&o)
            .1
            .contains("--resolve-timeout must be a positive number of seconds"),
        "{}",
        text(&o).1
    );
}

#[test]
fn vcenter_dry_run_and_apply_against_a_rest_stand_in() {
    let server = format!("http://{}", vcenter_stub());
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("inv.db");
    ipocket_core::Inventory::open(&db).unwrap();
    let run = |mode: &str| {
        let o = Command::new(BIN)
            .args([
                "connector",
                "vcenter",
                "--server",
                &server,
                "--username",
                "u",
            ])
            .args(["--mode", mode, "--db", db.to_str().unwrap()])
            .env("IPOCKET_VCENTER_PASSWORD", "pw-not-echoed")
            .env_remove("IPOCKET_DB")
            .output()
            .unwrap();
        let (out, err) = text(&o);
        assert!(o.status.success(), "{err}");
        assert!(!out.contains("pw-not-echoed") && !err.contains("pw-not-echoed"));
        (out, err)
    };
    let (out, err) = run("dry-run");
    assert!(
        err.contains("Collected 1 hosts and 1 VMs from vCenter"),
        "{err}"
    );
    assert!(out.contains("- [CREATE] 10.60.0.1:"), "{out}");
    assert!(out.contains("- [CREATE] 10.60.1.5:"), "{out}");
    run("apply");
    let (out, _) = run("dry-run");
    assert!(out.contains("- [SKIP] 10.60.1.5:"), "{out}");
}

#[test]
fn connector_help_names_both_sources() {
    let o = ipocket(&["connector", "--help"]);
    let (out, _) = text(&o);
    assert!(o.status.success());
    assert!(
        out.starts_with("Import IPs from Prometheus (an instant query) or vCenter"),
        "{out}"
    );
    let o = ipocket(&["--help"]);
    let (out, _) = text(&o);
    let line = out
        .lines()
        .find(|l| l.trim_start().starts_with("connector"))
        .unwrap();
    assert!(
        line.contains("Prometheus") && line.contains("vCenter"),
        "{line}"
    );
}
