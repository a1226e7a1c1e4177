//! `ipocket tokens create|list|revoke` on a real SQLite file: the token printed once on
//! standard output, listed without it, revoked by name, audited as the system.

use std::path::Path;
use std::process::{Command, Output};

use ipocket_core::{AuditFilter, Inventory, Page, TokenScope, TokenUse};

fn tokens(db: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ipocket"))
        .arg("tokens")
        .args(args)
        // After the subcommand, as the docs write it (`--db` is global).
        .arg("--db")
        .arg(db)
        .env_remove("IPOCKET_DB")
        .output()
        .unwrap()
}

fn ok(db: &Path, args: &[&str]) -> (String, String) {
    let out = tokens(db, args);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "ipocket tokens {args:?}: {err}");
    (String::from_utf8(out.stdout).unwrap(), err)
}

fn failed(db: &Path, args: &[&str]) -> String {
    let out = tokens(db, args);
    assert!(!out.status.success(), "ipocket tokens {args:?} succeeded");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn create_list_revoke_offline() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ipocket.db");
    // A mistyped --db creates nothing.
    let err = failed(&db, &["list"]);
    assert!(err.contains("no database at"), "{err}");
    assert!(!db.exists());
    drop(Inventory::open(&db).unwrap());

    let (token, note) = ok(&db, &["create", "prometheus", "--scope", "metrics,sd"]);
    let token = token.trim_end();
    assert!(
        token.starts_with("ipt_") && !token.contains(' '),
        "{token:?}"
    );
    assert!(note.contains("shown once"), "{note}");
    let (_, note) = ok(
        &db,
        &[
            "create",
            "sd-only",
            "--scope",
            "sd",
            "--expires-in-days",
            "7",
        ],
    );
    assert!(note.contains("expires"), "{note}");
    let err = failed(&db, &["create", "x", "--scope", "metrics,admin"]);
    assert!(err.contains("unknown scope \"admin\""), "{err}");
    let err = failed(&db, &["create", "prometheus", "--scope", "sd"]);
    assert!(err.contains("already exists"), "{err}");
    failed(
        &db,
        &["create", "x", "--scope", "sd", "--expires-in-days", "0"],
    );

    let inv = Inventory::open(&db).unwrap();
    assert!(matches!(
        inv.use_api_token(token, TokenScope::Sd).unwrap(),
        TokenUse::Allowed(_)
    ));
    drop(inv);
    let (list, _) = ok(&db, &["list"]);
    assert!(!list.contains(token), "{list}");
    let row = list.lines().find(|l| l.contains("prometheus")).unwrap();
    assert!(
        row.contains("metrics,sd") && row.contains("(system)"),
        "{row}"
    );
    // Used once above: a last use, and no expiry.
    assert!(row.contains("never") && !row.ends_with("never"), "{row}");
    let row = list.lines().find(|l| l.contains("sd-only")).unwrap();
    assert!(
        !row.contains("(expired)") && row.ends_with("never"),
        "{row}"
    );

    let (out, _) = ok(&db, &["revoke", "prometheus"]);
    assert!(out.contains("revoked"), "{out}");
    let err = failed(&db, &["revoke", "prometheus"]);
    assert!(err.contains("no API token named"), "{err}");
    let inv = Inventory::open(&db).unwrap();
    assert_eq!(
        inv.use_api_token(token, TokenScope::Sd).unwrap(),
        TokenUse::Unknown
    );
    let log = inv
        .audit_log(&AuditFilter::default(), Page::default())
        .unwrap()
        .items;
    let rows: Vec<(&str, &str, bool)> = log
        .iter()
        .filter(|e| e.target_type == "API_TOKEN")
        .map(|e| {
            (
                e.action.as_str(),
                e.target_label.as_str(),
                e.username.is_none(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("REVOKE", "prometheus", true),
            ("CREATE", "sd-only", true),
            ("CREATE", "prometheus", true)
        ]
    );
}
