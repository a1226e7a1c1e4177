//! `ipocket import` / `ipocket export` end to end on a real SQLite file.

use std::path::Path;
use std::process::{Command, Output};

fn ipocket(db: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ipocket"))
        .args(args)
        .arg("--db")
        .arg(db)
        .env_remove("IPOCKET_DB")
        .output()
        .expect("the ipocket binary runs")
}

fn ok(db: &Path, args: &[&str]) -> String {
    let out = ipocket(db, args);
    assert!(
        out.status.success(),
        "ipocket {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `dir/ipocket.db`, an empty inventory (a dry run or an export needs an existing database).
fn empty_inventory(dir: &Path) -> std::path::PathBuf {
    let db = dir.join("ipocket.db");
    ipocket_core::Inventory::open(&db).unwrap();
    db
}

#[test]
fn csv_dry_run_apply_and_export() {
    let dir = tempfile::tempdir().unwrap();
    let db = empty_inventory(dir.path());
    let csv = dir.path().join("ip-assets.csv");
    std::fs::write(
        &csv,
        "ip_address,type,project_name,host_name,notes,archived\n\
         10.0.0.1,VM,,,first,\n\
         2001:db8::1,OS,,,,\n",
    )
    .unwrap();
    let file = csv.to_str().unwrap();

    let dry = ok(&db, &["import", file, "--dry-run"]);
    assert!(
        dry.contains("CREATE ip_asset 10.0.0.1  type: ∅ → VM  notes: ∅ → first"),
        "{dry}"
    );
    assert!(
        dry.contains("dry run: 2 to create, 0 to update, 0 to skip"),
        "{dry}"
    );
    let empty = ok(&db, &["export", "ip-assets.csv"]);
    assert_eq!(
        empty.lines().count(),
        1,
        "a dry run writes nothing: {empty}"
    );

    let applied = ok(&db, &["import", file, "--apply", "--bench"]);
    assert!(
        applied.contains("2 created, 0 updated, 0 skipped"),
        "{applied}"
    );
    assert!(
        applied.contains("bench: streamed read+plan+apply "),
        "{applied}"
    );
    assert!(applied.contains("peak memory "), "{applied}");
    assert!(ok(&db, &["import", file, "--dry-run"]).contains("0 to create, 0 to update, 2 to skip"));

    let exported = ok(&db, &["export", "ip-assets.csv"]);
    assert!(
        exported.contains("10.0.0.1,VM,,,,first,false"),
        "{exported}"
    );
    assert!(exported.contains("2001:db8::1,OS"), "{exported}");
}

#[test]
fn bundle_round_trip_through_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.db"), dir.path().join("b.db"));
    let csv = dir.path().join("ip-assets.csv");
    std::fs::write(
        &csv,
        "ip_address,type,project_name,host_name,notes,archived\n10.1.0.1,BMC,,,n,\n",
    )
    .unwrap();
    ok(&a, &["import", csv.to_str().unwrap(), "--apply"]);
    let bundle = dir.path().join("bundle.json");
    ok(
        &a,
        &[
            "export",
            "bundle.json",
            "--output",
            bundle.to_str().unwrap(),
        ],
    );
    ok(&b, &["import", bundle.to_str().unwrap(), "--apply"]);
    assert_eq!(
        ok(&a, &["export", "ip-assets.json"])
            .replace(char::is_whitespace, "")
            .len(),
        ok(&b, &["export", "ip-assets.json"])
            .replace(char::is_whitespace, "")
            .len()
    );
    assert!(ok(&b, &["export", "ip-assets.csv"]).contains("10.1.0.1,BMC"));
}

#[test]
fn bad_input_names_where_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ipocket.db");
    let csv = dir.path().join("ip-assets.csv");
    std::fs::write(
        &csv,
        "ip_address,type,project_name,host_name,notes,archived\n\
         10.0.0.1,VM,,,,\n\
         10.0.0.300,VM,,,,\n",
    )
    .unwrap();
    let out = ipocket(&db, &["import", csv.to_str().unwrap(), "--apply"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("ip-assets.csv:3"),
        "the error names the line: {err}"
    );
    assert_eq!(
        ok(&db, &["export", "ip-assets.csv"]).lines().count(),
        1,
        "nothing written"
    );

    let out = ipocket(&db, &["export", "nope.txt"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("ip-assets.csv"));
}

#[test]
fn json_plan_is_one_document_and_export_files_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let db = empty_inventory(dir.path());
    let bundle = dir.path().join("bundle.json");
    std::fs::write(
        &bundle,
        r#"{"schema_version":"1","data":{"ip_assets":[{"ip_address":"10.0.0.1","type":"VM"}],
            "hosts":[{"name":"h1","vendor_name":"HPE","os_ip":"10.0.0.2"}],"vendors":[{"name":"HPE"}]}}"#,
    )
    .unwrap();
    let out = ipocket(
        &db,
        &[
            "import",
            bundle.to_str().unwrap(),
            "--dry-run",
            "--json",
            "--bench",
        ],
    );
    assert!(out.status.success());
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(plan["summary"]["total"]["create"], 3);
    assert_eq!(plan["items"].as_array().unwrap().len(), 3);
    assert_eq!(plan["items"][2]["key"], "10.0.0.1");
    assert!(String::from_utf8_lossy(&out.stderr).contains("bench: streamed read+plan "));

    ok(&db, &["import", bundle.to_str().unwrap(), "--apply"]);
    let hosts = dir.path().join("hosts.json");
    ok(
        &db,
        &["export", "hosts.json", "--output", hosts.to_str().unwrap()],
    );
    let other = dir.path().join("other.db");
    let applied = ok(&other, &["import", hosts.to_str().unwrap(), "--apply"]);
    assert!(applied.contains("2 created"), "{applied}");
    assert!(ok(&other, &["export", "vendors.csv"]).contains("HPE"));
}

#[test]
fn export_output_dash_is_stdout_a_symlink_is_kept_and_a_device_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ipocket.db");
    let bundle = dir.path().join("bundle.json");
    std::fs::write(
        &bundle,
        r#"{"schema_version":"1","data":{"ip_assets":[{"ip_address":"10.0.0.1","type":"VM"}]}}"#,
    )
    .unwrap();
    ok(&db, &["import", bundle.to_str().unwrap(), "--apply"]);
    let printed = ok(&db, &["export", "ip-assets.csv"]);
    assert!(printed.contains("10.0.0.1"), "{printed}");
    assert_eq!(ok(&db, &["export", "ip-assets.csv", "-o", "-"]), printed);

    // an export through a symlink replaces its target and keeps the link
    std::fs::create_dir(dir.path().join("real")).unwrap();
    let link = dir.path().join("assets.csv");
    std::os::unix::fs::symlink("real/assets.csv", &link).unwrap();
    ok(
        &db,
        &["export", "ip-assets.csv", "-o", link.to_str().unwrap()],
    );
    assert!(link.symlink_metadata().unwrap().file_type().is_symlink());
    assert_eq!(
        std::fs::read_to_string(dir.path().join("real/assets.csv")).unwrap(),
        printed
    );

    let out = ipocket(&db, &["export", "ip-assets.csv", "-o", "/dev/null"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("/dev/null is a character device, not a regular file; refusing to replace it"),
        "{err}"
    );
    use std::os::unix::fs::FileTypeExt;
    let null = std::fs::symlink_metadata("/dev/null").unwrap();
    assert!(null.file_type().is_char_device());
}

/// A mistyped `--db` used to create an empty database and print nothing with exit 0: every
/// command that only reads refuses it; the commands that write still create it.
#[test]
fn read_only_commands_refuse_a_missing_database_and_writers_create_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("typo.db");
    let csv = dir.path().join("ip-assets.csv");
    std::fs::write(
        &csv,
        "ip_address,type,project_name,host_name,notes,archived\n10.0.0.1,VM,,,,\n",
    )
    .unwrap();
    let file = csv.to_str().unwrap();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_ipocket"))
            .args(args)
            .env_remove("IPOCKET_DB")
            .env_remove("IPOCKET_URL")
            .env_remove("IPOCKET_TOKEN")
            .output()
            .unwrap()
    };
    let db_s = db.to_str().unwrap();
    let readers: Vec<Vec<&str>> = vec![
        vec!["export", "bundle.json", "--db", db_s],
        vec!["import", file, "--dry-run", "--db", db_s],
        vec!["rules", "--db", db_s, "groups", "list"],
        vec!["rules", "--db", db_s, "settings"],
        vec!["rules", "--db", db_s, "generate"],
        vec!["users", "--db", db_s, "list"],
        vec!["users", "--db", db_s, "revoke-sessions", "admin"],
        vec!["sd", "write", "--db", db_s, "--targets-file", "-"],
        // Refused before Prometheus is asked (nothing listens on port 1).
        vec![
            "connector",
            "prometheus",
            "--prometheus-url",
            "http://127.0.0.1:1",
            "--query",
            "up",
            "--ip-label",
            "instance",
            "--mode",
            "dry-run",
            "--db",
            db_s,
        ],
    ];
    for args in &readers {
        let o = run(args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains(&format!("no database at {db_s}; check --db or IPOCKET_DB")),
            "{args:?}: {err}"
        );
        assert!(o.stdout.is_empty(), "{args:?}");
        assert!(!db.exists(), "{args:?} created {db_s}");
    }

    // Writers create it.
    let o = run(&["import", file, "--apply", "--db", db_s]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(db.exists());
    let out = String::from_utf8(run(&["export", "ip-assets.csv", "--db", db_s]).stdout).unwrap();
    assert!(out.contains("10.0.0.1"), "{out}");
    let rules_db = dir.path().join("rules.db");
    let rules_s = rules_db.to_str().unwrap();
    let o = run(&["rules", "--db", rules_s, "groups", "add", "linux"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(rules_db.exists());
}

#[test]
fn original_compat_export_through_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.db"), dir.path().join("b.db"));
    let csv = dir.path().join("ip-assets.csv");
    std::fs::write(
        &csv,
        "ip_address,type,project_name,host_name,tags,notes,archived\n10.1.0.1,BMC,,,prod,,\n",
    )
    .unwrap();
    ok(&a, &["import", csv.to_str().unwrap(), "--apply"]);
    let bundle = dir.path().join("bundle.json");
    let path = bundle.to_str().unwrap();
    ok(
        &a,
        &["export", "bundle.json", "--compat", "original", "-o", path],
    );
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&bundle).unwrap()).unwrap();
    let keys: Vec<_> = v["data"].as_object().unwrap().keys().cloned().collect();
    assert_eq!(keys.len(), 4, "{keys:?}");
    let asset = &v["data"]["ip_assets"][0];
    // No host from an import, even for a BMC; notes missing are null.
    assert_eq!(
        (&asset["host_name"], &asset["notes"], &asset["tags"]),
        (
            &serde_json::Value::Null,
            &serde_json::Value::Null,
            &serde_json::json!(["prod"])
        )
    );
    ok(&b, &["import", path, "--apply"]);
    assert!(ok(&b, &["export", "ip-assets.csv"]).contains("10.1.0.1,BMC,,,prod,,false"));
    let out = ipocket(&a, &["export", "bundle.json", "--compat", "v0"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--compat") && err.contains("original"),
        "{err}"
    );
}
