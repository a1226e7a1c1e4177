//! `ipocket copy` between a real SQLite file and the testkit's real PostgreSQL 15 (these
//! fail when it is missing): a round trip SQLite → PostgreSQL → SQLite with rows in every
//! component gives back the same rows, ids and sequences, and byte-equal exports; a target
//! with rows, a bad URL, a missing source and a copy onto itself are refused.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

use ipocket_core::{Actor, AssetType, Inventory, NewIpAsset, TokenScope};
use ipocket_testkit::postgres::Postgres;
use rusqlite::types::Value;

fn ipocket(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ipocket"))
        .args(args)
        .env_remove("IPOCKET_DB")
        .output()
        .unwrap()
}

fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn refused(out: Output) -> String {
    assert!(
        !out.status.success(),
        "succeeded: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stderr).unwrap()
}

/// A SQLite database with rows in every component: the inventory through its library
/// (catalog, addresses in both families, an archived and a deleted one, tags, a range,
/// an API token), the rest as the stores write them.
fn stocked(path: &Path) {
    ok(ipocket(&["migrate", "--db", path.to_str().unwrap()]));
    let mut inv = Inventory::open(path).unwrap();
    let a = Actor::system();
    let v = inv.create_vendor(&a, "Ökovendor").unwrap();
    let core = inv
        .create_project(&a, "core", Some("the core"), None)
        .unwrap();
    let edge = inv
        .create_project(&a, "Edge", None, Some("#123456"))
        .unwrap();
    let h = inv
        .create_host(&a, "node-01", Some("rack \"1\""), Some(v.id))
        .unwrap();
    for (i, ip) in [
        "10.0.0.1",
        "10.0.0.2",
        "2001:db8::1",
        "192.168.1.10",
        "10.0.0.3",
    ]
    .into_iter()
    .enumerate()
    {
        let mut n = NewIpAsset::new(ip, [AssetType::Os, AssetType::Bmc, AssetType::Vm][i % 3]);
        n.project_id = Some([core.id, edge.id][i % 2]);
        n.host_id = (i < 2).then_some(h.id);
        n.tags = vec![["prod", "edge"][i % 2].to_string()];
        n.notes = (i == 3).then(|| "=SUM(A1)\nline two".to_string());
        inv.create_ip_asset(&a, &n).unwrap();
    }
    inv.archive_ip_asset(&a, "192.168.1.10").unwrap();
    inv.delete_ip_asset(&a, "10.0.0.3").unwrap();
    inv.create_ip_range(&a, "lan", "10.0.0.0/24", None).unwrap();
    inv.create_api_token(&a, "prometheus", &[TokenScope::Sd], Some(30))
        .unwrap();
    drop(inv);
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch(
        "INSERT INTO users (username, hashed_password, role, is_active) VALUES ('ann', 'x', 'Admin', 1);
         INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at)
             VALUES ('h1', 1, '2026-01-01 00:00:00', '2026-01-01 00:00:01');
         INSERT INTO audit_logs (user_id, username, target_type, target_id, target_label, action, changes)
             VALUES (1, 'ann', 'USER', 1, 'ann', 'LOGIN', NULL);
         INSERT INTO servers (server_id, name, created_at, last_seen_at) VALUES ('srv-a', 'A', 1, NULL), ('srv-b', NULL, 2, 3);
         INSERT INTO connector_jobs (connector, mode, state, username, created_at, inputs, log)
             VALUES ('prometheus', 'dry-run', 'done', 'ann', 1700000000000, '{}', 'line 1\nline 2');
         INSERT INTO connector_configs (name, connector, inputs, saved_by, saved_at)
             VALUES ('default', 'vcenter', '{\"url\":\"https://vc\"}', 'ann', 1700000000001);
         INSERT INTO rulegen_templates (name, query_template, severity) VALUES ('up', 'up == 0', 'critical');
         INSERT INTO rulegen_groups (name, description) VALUES ('nodes', 'all nodes');
         INSERT INTO rulegen_targets (hostname, address) VALUES ('node-01', '10.0.0.1');
         INSERT INTO rulegen_target_groups (target_id, group_id) VALUES (1, 1);
         INSERT INTO rulegen_rules (group_id, template_id, name, enabled, priority) VALUES (1, 1, 'node down', 0, 7);
         INSERT INTO rulegen_settings (key, value) VALUES ('prometheus_url', 'http://127.0.0.1:9090');
         INSERT INTO rulegen_runs (run) VALUES ('{\"ok\":true}');",
    )
    .unwrap();
    // more samples than a few batches hold; reals, NULLs and large integers
    let tx = conn.unchecked_transaction().unwrap();
    for i in 0..300i64 {
        tx.execute(
            "INSERT INTO metric_samples (server_id, metric_name, metric_type, labels, value, timestamp)
             VALUES (?1, 'node_load1', 'gauge', ?2, ?3, ?4)",
            rusqlite::params![
                ["srv-a", "srv-b"][i as usize % 2],
                format!("{{\"cpu\":\"{i}\"}}"),
                (i % 5 != 0).then_some(i as f64 / 3.0),
                1_700_000_000_000 + i
            ],
        )
        .unwrap();
    }
    tx.commit().unwrap();
}

/// Every table's rows (the migration record aside: each database keeps its own), in key
/// order, and the AUTOINCREMENT sequences.
fn content(path: &Path) -> BTreeMap<String, Vec<Vec<Value>>> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let tables: Vec<String> = conn
        .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name <> 'schema_migrations'",
        )
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut out = BTreeMap::new();
    for t in tables {
        let mut st = conn
            .prepare(&format!("SELECT * FROM \"{t}\" ORDER BY 1, 2"))
            .unwrap();
        let n = st.column_count();
        let rows: Vec<Vec<Value>> = st
            .query_map([], |r| (0..n).map(|i| r.get::<_, Value>(i)).collect())
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        out.insert(t, rows);
    }
    out
}

/// `table rows` of the copy's report.
fn reported(stdout: &str) -> BTreeMap<String, usize> {
    stdout
        .lines()
        .filter_map(|l| l.strip_suffix(" rows"))
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            Some((w.next()?.to_string(), w.next()?.parse().ok()?))
        })
        .collect()
}

#[test]
fn sqlite_to_postgres_and_back_keeps_every_row_id_and_sequence() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source.db");
    stocked(&source);
    let pg = Postgres::shared().fresh_db();
    let from = format!("sqlite:{}", source.display());
    let out = ok(ipocket(&[
        "copy",
        "--from",
        &from,
        "--to",
        &pg,
        "--batch-rows",
        "7",
    ]));
    assert!(
        out.contains(
            "verified: the inventory exports (bundle.json, ip-assets.json) are byte-equal"
        ),
        "{out}"
    );
    let before = content(&source);
    let counts = reported(&out);
    for (table, rows) in &before {
        if table != "sqlite_sequence" {
            assert_eq!(counts.get(table), Some(&rows.len()), "{table}: {out}");
        }
    }
    assert_eq!(counts["metric_samples"], 300);
    assert_eq!(counts.len(), before.len() - 1, "{out}");

    let back = dir.path().join("back.db");
    let out = ok(ipocket(&[
        "copy",
        "--from",
        &pg,
        "--to",
        back.to_str().unwrap(),
    ]));
    assert!(out.contains("verified:"), "{out}");
    let after = content(&back);
    for (table, rows) in &before {
        assert_eq!(Some(rows), after.get(table), "{table}");
    }
    assert_eq!(before.len(), after.len());

    // PostgreSQL hands out ids past the copied ones and past the deleted 10.0.0.3 (id 5)
    let mut inv = Inventory::open_url(&ipocket_db::DbUrl::parse(&pg).unwrap()).unwrap();
    let a = inv
        .create_ip_asset(
            &Actor::system(),
            &NewIpAsset::new("10.0.0.9", AssetType::Vm),
        )
        .unwrap();
    assert_eq!(a.id, 6);
}

#[test]
fn a_target_with_rows_is_refused_and_left_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source.db");
    stocked(&source);
    let pg = Postgres::shared().fresh_db();
    let src = source.to_str().unwrap();
    ok(ipocket(&["copy", "--from", src, "--to", &pg]));
    let other = dir.path().join("other.db");
    ok(ipocket(&["migrate", "--db", other.to_str().unwrap()]));
    let mut inv = Inventory::open(&other).unwrap();
    inv.create_vendor(&Actor::system(), "only here").unwrap();
    drop(inv);
    for (from, to) in [
        (other.to_str().unwrap(), pg.as_str()),
        (pg.as_str(), other.to_str().unwrap()),
    ] {
        let err = refused(ipocket(&["copy", "--from", from, "--to", to]));
        assert!(
            err.contains("the target is not empty: ") && err.contains("no row was written"),
            "{err}"
        );
    }
    assert!(
        refused(ipocket(&["copy", "--from", src, "--to", &pg])).contains("audit_logs ("),
        "the refusal names the tables with rows"
    );
    let check = dir.path().join("check.db");
    ok(ipocket(&[
        "copy",
        "--from",
        &pg,
        "--to",
        check.to_str().unwrap(),
    ]));
    assert_eq!(content(&check), content(&source), "PostgreSQL was changed");
    let vendors = content(&other)["vendors"].len();
    assert_eq!(vendors, 1, "the SQLite target was changed");
}

#[test]
fn bad_urls_a_missing_or_outdated_source_and_a_copy_onto_itself_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.db");
    let target = dir.path().join("t.db");
    let (m, t) = (missing.to_str().unwrap(), target.to_str().unwrap());
    let err = refused(ipocket(&[
        "copy",
        "--from",
        t,
        "--to",
        "mysql://u:secret@h/db",
    ]));
    assert!(
        err.contains("--to") && err.contains("unknown scheme `mysql`"),
        "{err}"
    );
    assert!(!err.contains("secret"), "{err}");
    let err = refused(ipocket(&["copy", "--from", m, "--to", t]));
    assert!(
        err.contains("--from") && err.contains("no database at"),
        "{err}"
    );
    assert!(
        !missing.exists() && !target.exists(),
        "a refused copy created a file"
    );
    ok(ipocket(&["migrate", "--db", t]));
    let err = refused(ipocket(&[
        "copy",
        "--from",
        t,
        "--to",
        &format!("sqlite:{t}"),
    ]));
    assert!(err.contains("name the same database"), "{err}");
    // a file only the inventory has opened: the other components are not there yet
    let partial = dir.path().join("partial.db");
    drop(Inventory::open(&partial).unwrap());
    let other = dir.path().join("other.db");
    let err = refused(ipocket(&[
        "copy",
        "--from",
        partial.to_str().unwrap(),
        "--to",
        other.to_str().unwrap(),
    ]));
    assert!(
        err.contains("has samples schema version 0, this build 1")
            && err.contains("ipocket migrate --db"),
        "{err}"
    );
    assert!(!other.exists(), "a refused copy created the target");
    let err = refused(ipocket(&[
        "copy",
        "--from",
        t,
        "--to",
        "postgres://u:secret@127.0.0.1:1/db",
    ]));
    assert!(err.contains("opening and migrating the target"), "{err}");
    assert!(!err.contains("secret"), "{err}");
}
