//! `ipocket users add|passwd|list|revoke-sessions` on a real SQLite file: offline recovery,
//! audited as the system actor, passwords never in argv.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use ipocket_core::{AuditFilter, Inventory, Page};

fn users(db: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ipocket"))
        .arg("users")
        .args(args)
        // After the subcommand, as the docs write it (`--db` is global).
        .arg("--db")
        .arg(db)
        .env_remove("IPOCKET_DB")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn ok(db: &Path, args: &[&str], stdin: &str) -> String {
    let out = users(db, args, stdin);
    assert!(
        out.status.success(),
        "ipocket users {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn add_passwd_list_and_revoke_sessions_offline() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ipocket.db");
    let added = ok(
        &db,
        &["add", "root", "--role", "Admin", "--password-stdin"],
        "first-pw\n",
    );
    assert!(added.contains("created user \"root\" (Admin)"), "{added}");
    ok(
        &db,
        &["add", "vi", "--role", "Viewer", "--password-stdin"],
        "vi-pw\n",
    );
    let list = ok(&db, &["list"], "");
    assert!(list.contains("root") && list.contains("Admin"), "{list}");
    assert!(list.contains("vi") && list.contains("Viewer"), "{list}");

    // Two sessions; a new password ends them and the old one stops working.
    let mut inv = Inventory::open(&db).unwrap();
    let (_, t1) = inv.login("root", "first-pw").unwrap().unwrap();
    inv.login("vi", "vi-pw").unwrap().unwrap();
    drop(inv);
    ok(&db, &["passwd", "root", "--password-stdin"], "second-pw\n");
    let inv = Inventory::open(&db).unwrap();
    assert!(inv.session_user(&t1).unwrap().is_none());
    assert!(inv.authenticate("root", "first-pw").unwrap().is_none());
    assert!(inv.authenticate("root", "second-pw").unwrap().is_some());
    drop(inv);
    let revoked = ok(&db, &["revoke-sessions", "vi"], "");
    assert!(revoked.contains("1 session(s)"), "{revoked}");

    // Every change is audited, by the system (no user).
    let inv = Inventory::open(&db).unwrap();
    let log = inv
        .audit_log(&AuditFilter::default(), Page::default())
        .unwrap()
        .items;
    let by_system: Vec<(&str, &str)> = log
        .iter()
        .filter(|e| e.username.is_none() && e.target_type == "USER")
        .map(|e| (e.action.as_str(), e.target_label.as_str()))
        .collect();
    for want in [
        ("CREATE", "root"),
        ("CREATE", "vi"),
        ("UPDATE", "root"),
        ("UPDATE", "vi"),
    ] {
        assert!(by_system.contains(&want), "{want:?} in {by_system:?}");
    }
}

#[test]
fn refusals_are_clear_and_no_password_comes_from_argv() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ipocket.db");
    // Not a terminal and no --password-stdin: refused, nothing created.
    let out = users(&db, &["add", "ed", "--role", "Editor"], "pw\n");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--password-stdin"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A password as an argument is not an option at all.
    let out = users(
        &db,
        &["add", "ed", "--role", "Editor", "--password", "pw"],
        "",
    );
    assert!(!out.status.success());
    let out = users(
        &db,
        &["add", "ed", "--role", "Chief", "--password-stdin"],
        "pw\n",
    );
    assert!(!out.status.success());
    let out = users(&db, &["passwd", "nobody", "--password-stdin"], "pw\n");
    assert!(String::from_utf8_lossy(&out.stderr).contains("no user named \"nobody\""));
    let out = users(
        &db,
        &["add", "ed", "--role", "Editor", "--password-stdin"],
        "\n",
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("empty"));
    assert!(Inventory::open(&db).unwrap().users().unwrap().is_empty());
}
