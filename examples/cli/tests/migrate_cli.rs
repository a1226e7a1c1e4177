//! `ipocket migrate` on both backends (a real PostgreSQL from the testkit; these tests fail
//! when it is missing), the two backends' schemas compared, concurrent migrators, and
//! `serve --no-migrate` refusals and an unreachable PostgreSQL.

use std::collections::BTreeSet;
use std::process::{Command, Output};

use ipocket_testkit::postgres::Postgres;

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
        "failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

const VERSIONS: &str = "inventory 6\nsamples 1\nconnector_jobs 2\nrulegen 2\n";

/// `table.column nullable` lines, and `table unique? (cols)` index lines (the primary key
/// counted as a unique index, as PostgreSQL has one).
type Shape = (BTreeSet<String>, BTreeSet<String>);

fn sqlite_shape(path: &std::path::Path) -> Shape {
    let conn = rusqlite::Connection::open(path).unwrap();
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let (mut cols, mut idx) = (BTreeSet::new(), BTreeSet::new());
    for t in &tables {
        let mut pk: Vec<(i64, String)> = Vec::new();
        let mut st = conn.prepare(&format!("PRAGMA table_info({t})")).unwrap();
        let rows = st
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(1)?,
                    r.get::<_, bool>(3)?,
                    r.get::<_, i64>(5)?,
                ))
            })
            .unwrap();
        for row in rows {
            let (name, notnull, pk_pos) = row.unwrap();
            // a primary key column is never NULL (PostgreSQL enforces it; SQLite's rowid
            // alias too)
            let nullable = !(notnull || pk_pos > 0);
            cols.insert(format!("{t}.{name} nullable={nullable}"));
            if pk_pos > 0 {
                pk.push((pk_pos, name));
            }
        }
        pk.sort();
        let pk: Vec<String> = pk.into_iter().map(|(_, n)| n).collect();
        idx.insert(format!("{t} unique=true ({})", pk.join(",")));
        let list: Vec<(String, bool)> = conn
            .prepare(&format!("PRAGMA index_list({t})"))
            .unwrap()
            .query_map([], |r| Ok((r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        for (name, unique) in list {
            let cols: Vec<String> = conn
                .prepare(&format!("PRAGMA index_info({name})"))
                .unwrap()
                .query_map([], |r| r.get(2))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            idx.insert(format!("{t} unique={unique} ({})", cols.join(",")));
        }
    }
    (cols, idx)
}

fn pg_shape(pg: &Postgres, db: &str) -> Shape {
    let cols = pg.psql(
        db,
        "SELECT table_name || '.' || column_name || ' nullable=' || \
         CASE is_nullable WHEN 'YES' THEN 'true' ELSE 'false' END \
         FROM information_schema.columns WHERE table_schema = 'public'",
    );
    let idx = pg.psql(
        db,
        "SELECT t.relname || ' unique=' || i.indisunique || ' (' || array_to_string(array( \
           SELECT a.attname FROM unnest(i.indkey) WITH ORDINALITY k(n, o) \
           JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.n ORDER BY k.o), ',') || ')' \
         FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid \
         JOIN pg_namespace ns ON ns.oid = t.relnamespace WHERE ns.nspname = 'public'",
    );
    let set = |s: String| {
        s.lines()
            .map(|l| {
                l.replace("unique=t ", "unique=true ")
                    .replace("unique=f ", "unique=false ")
            })
            .collect()
    };
    (set(cols), set(idx))
}

#[test]
fn both_backends_reach_the_same_versions_tables_columns_and_indexes() {
    let pg = Postgres::shared();
    let url = pg.fresh_db();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("i.db");
    assert_eq!(
        ok(ipocket(&["migrate", "--db", file.to_str().unwrap()])),
        VERSIONS
    );
    assert_eq!(ok(ipocket(&["migrate", "--db", &url])), VERSIONS);
    // again: nothing to do, same answer
    assert_eq!(ok(ipocket(&["migrate", "--db", &url])), VERSIONS);
    let sqlite_url = format!("sqlite:{}", file.display());
    assert_eq!(ok(ipocket(&["migrate", "--db", &sqlite_url])), VERSIONS);

    let db = url.rsplit('/').next().unwrap();
    let (s_cols, s_idx) = sqlite_shape(&file);
    let (p_cols, p_idx) = pg_shape(pg, db);
    assert!(
        s_cols.contains("ip_assets.ip_key nullable=false"),
        "{s_cols:?}"
    );
    assert!(
        s_idx.contains("connector_configs unique=true (connector,name)"),
        "{s_idx:?}"
    );
    let only = |a: &BTreeSet<String>, b: &BTreeSet<String>| -> Vec<String> {
        a.difference(b).cloned().collect()
    };
    assert!(
        s_cols == p_cols,
        "columns only on SQLite: {:?}\ncolumns only on PostgreSQL: {:?}",
        only(&s_cols, &p_cols),
        only(&p_cols, &s_cols)
    );
    assert!(
        s_idx == p_idx,
        "indexes only on SQLite: {:?}\nindexes only on PostgreSQL: {:?}",
        only(&s_idx, &p_idx),
        only(&p_idx, &s_idx)
    );
}

#[test]
fn four_migrate_processes_at_once_apply_every_step_once() {
    let pg = Postgres::shared();
    let url = pg.fresh_db();
    let children: Vec<_> = (0..4)
        .map(|_| {
            Command::new(env!("CARGO_BIN_EXE_ipocket"))
                .args(["migrate", "--db", &url])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        assert_eq!(ok(c.wait_with_output().unwrap()), VERSIONS);
    }
    let db = url.rsplit('/').next().unwrap();
    let rows = pg.psql(
        db,
        "SELECT component || ' ' || count(*) || ' ' || count(DISTINCT version) \
         FROM schema_migrations GROUP BY component ORDER BY component",
    );
    assert_eq!(
        rows,
        "connector_jobs 2 2\ninventory 6 6\nrulegen 2 2\nsamples 1 1\n"
    );
}

#[test]
fn bad_urls_and_unreachable_postgres_are_refused_clearly() {
    let out = ipocket(&["migrate", "--db", "mysql://u:secret@h/db"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("unknown scheme `mysql`") && !err.contains("secret"),
        "{err}"
    );

    let out = ipocket(&[
        "serve",
        "--db",
        "postgres://u:secret@127.0.0.1:1/db",
        "--listen",
        "127.0.0.1:0",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("connecting to postgres://u:***@127.0.0.1:1/db") && !err.contains("secret"),
        "{err}"
    );
}

#[test]
fn serve_no_migrate_refuses_a_schema_that_is_behind_and_leaves_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("i.db");
    let path = file.to_str().unwrap();
    let out = ipocket(&[
        "serve",
        "--no-migrate",
        "--db",
        path,
        "--listen",
        "127.0.0.1:0",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("ipocket migrate"),
        "{err}"
    );
    assert!(!file.exists(), "--no-migrate created the file");

    ok(ipocket(&["migrate", "--db", path]));
    // the file of a build one inventory version older
    let conn = rusqlite::Connection::open(&file).unwrap();
    conn.execute_batch(
        "DROP TABLE login_failures; DELETE FROM schema_migrations WHERE component = 'inventory' AND version = 6",
    )
    .unwrap();
    drop(conn);
    let out = ipocket(&[
        "serve",
        "--no-migrate",
        "--db",
        path,
        "--listen",
        "127.0.0.1:0",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("inventory is at version 5, this build needs 6")
            && err.contains("ipocket migrate"),
        "{err}"
    );
    let conn = rusqlite::Connection::open(&file).unwrap();
    let v: u32 = conn
        .query_row(
            "SELECT max(version) FROM schema_migrations WHERE component = 'inventory'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(v, 5, "--no-migrate migrated");
}
