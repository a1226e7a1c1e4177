//! The inventory commands (`import`, `export`, `users`, `tokens`, `rules`) on both backends:
//! the same commands against a SQLite file and against a PostgreSQL URL (the testkit's real
//! server) print the same results and leave the same exports.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use ipocket_testkit::postgres::FreshDatabase;

fn ipocket(db: &str, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ipocket"))
        .args(args)
        .args(["--db", db])
        .env_remove("IPOCKET_DB")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the ipocket binary runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn ok(db: &str, args: &[&str]) -> String {
    let out = ipocket(db, args, "");
    assert!(
        out.status.success(),
        "ipocket {args:?} --db {db} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Runs the same session of commands on `db`; returns what a user would compare.
fn session(db: &str, csv: &str) -> Vec<String> {
    let out = ipocket(
        db,
        &[
            "users",
            "add",
            "ops",
            "--role",
            "Editor",
            "--password-stdin",
        ],
        "a-long-password-1\n",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dry = ok(db, &["import", csv, "--dry-run"]);
    let applied = ok(db, &["import", csv, "--apply"]);
    let again = ok(db, &["import", csv, "--dry-run"]);
    let users = ok(db, &["users", "list"]);
    let token = ok(db, &["tokens", "create", "ci", "--scope", "metrics"]);
    assert!(token.contains("ipt_"), "{token}");
    let tokens = ok(db, &["tokens", "list"]);
    let rules = ok(db, &["rules", "templates", "list"]);
    let csv_export = ok(db, &["export", "ip-assets.csv"]);
    vec![
        dry,
        applied,
        again,
        users
            .lines()
            .map(|l| l.split_whitespace().take(2).collect::<Vec<_>>().join(" "))
            .collect::<Vec<_>>()
            .join("\n"),
        tokens.lines().next().unwrap_or_default().to_string(),
        rules,
        // created_at and updated_at are the clock's
        csv_export
            .lines()
            .map(|l| l.rsplitn(3, ',').last().unwrap())
            .collect::<Vec<_>>()
            .join("\n"),
    ]
}

#[test]
fn the_inventory_commands_give_the_same_results_on_sqlite_and_postgresql() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("ip-assets.csv");
    std::fs::write(
        &csv,
        "ip_address,type,project_name,host_name,notes,archived\n\
         10.0.0.1,VM,,,first,\n\
         10.0.0.2,OS,,,,\n\
         2001:db8::1,OS,,,,\n",
    )
    .unwrap();
    let csv = csv.to_str().unwrap();
    let file = dir.path().join("ipocket.db");
    let sqlite = session(file.to_str().unwrap(), csv);
    let pg = FreshDatabase::postgres();
    let postgres = session(&pg.url, csv);
    assert!(sqlite[0].contains("dry run: 3 to create"), "{}", sqlite[0]);
    assert!(
        sqlite[2].contains("0 to create, 0 to update, 3 to skip"),
        "{}",
        sqlite[2]
    );
    assert_eq!(sqlite, postgres);
}

#[test]
fn a_postgresql_url_that_names_no_database_is_an_error_not_a_new_file() {
    let pg = FreshDatabase::postgres();
    let missing = format!("{}_missing", pg.url);
    let out = ipocket(&missing, &["export", "ip-assets.csv"], "");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("does not exist"), "{err}");
    assert!(!std::path::Path::new(&missing).exists());
}
