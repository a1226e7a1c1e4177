//! The migration registry on a real file: apply, re-open, order, rollback, refusal,
//! several components, adoption of pre-registry files.

use ipocket_db::{open, recorded_version, Component, Error, Migration, Step};
use rusqlite::{Connection, Transaction};

const NOTES_V1: Migration = Migration {
    version: 1,
    name: "notes",
    step: Step::Sql("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL);"),
};

/// Needs step 1's table: fails if the steps ran out of order.
fn notes_v2(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    tx.execute_batch("ALTER TABLE notes ADD COLUMN upper TEXT;")?;
    tx.execute("UPDATE notes SET upper = upper(body)", [])?;
    Ok(())
}

const NOTES_V2: Migration = Migration {
    version: 2,
    name: "upper-case copy",
    step: Step::Rust(notes_v2),
};

static NOTES: Component = Component {
    name: "notes",
    migrations: &[NOTES_V1, NOTES_V2],
    legacy_version: None,
};

static TAGS: Component = Component {
    name: "tags",
    migrations: &[Migration {
        version: 1,
        name: "tags",
        step: Step::Sql("CREATE TABLE tags (name TEXT PRIMARY KEY);"),
    }],
    legacy_version: None,
};

fn recorded_rows(conn: &Connection) -> Vec<(String, u32, String, String)> {
    let mut st = conn
        .prepare("SELECT component, version, name, applied_at FROM schema_migrations ORDER BY 1, 2")
        .unwrap();
    st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn has_table(conn: &Connection, name: &str) -> bool {
    conn.query_row(
        "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = ?1",
        [name],
        |r| r.get(0),
    )
    .unwrap()
}

#[test]
fn fresh_file_gets_every_step_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let conn = open(dir.path().join("a.db"), &[&NOTES]).unwrap();
    assert_eq!(recorded_version(&conn, "notes").unwrap(), 2);
    let rows = recorded_rows(&conn);
    let names: Vec<_> = rows.iter().map(|r| (r.1, r.2.as_str())).collect();
    assert_eq!(names, [(1, "notes"), (2, "upper-case copy")]);
    assert!(rows.iter().all(|r| r.3.ends_with('Z')), "{rows:?}");
    conn.execute("INSERT INTO notes (body, upper) VALUES ('a', 'A')", [])
        .unwrap();
}

#[test]
fn reopening_is_a_no_op_that_takes_no_write_lock() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.db");
    let first = recorded_rows(&open(&path, &[&NOTES]).unwrap());

    // Another connection holds the write lock: a re-open that wanted to write would wait
    // and then fail with SQLITE_BUSY.
    let holder = Connection::open(&path).unwrap();
    holder.execute_batch("BEGIN IMMEDIATE").unwrap();
    let mut conn = Connection::open(&path).unwrap();
    conn.busy_timeout(std::time::Duration::ZERO).unwrap();
    ipocket_db::migrate(&mut conn, &[&NOTES]).unwrap();
    holder.execute_batch("ROLLBACK").unwrap();

    assert_eq!(recorded_rows(&conn), first);
}

#[test]
fn steps_run_in_order_and_a_later_build_continues() {
    static NOTES_V1_ONLY: Component = Component {
        name: "notes",
        migrations: &[NOTES_V1],
        legacy_version: None,
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.db");
    let conn = open(&path, &[&NOTES_V1_ONLY]).unwrap();
    conn.execute("INSERT INTO notes (body) VALUES ('hello')", [])
        .unwrap();
    drop(conn);

    let conn = open(&path, &[&NOTES]).unwrap();
    assert_eq!(recorded_version(&conn, "notes").unwrap(), 2);
    let upper: String = conn
        .query_row("SELECT upper FROM notes", [], |r| r.get(0))
        .unwrap();
    assert_eq!(upper, "HELLO");
}

#[test]
fn a_failing_step_rolls_back_and_keeps_the_recorded_version() {
    static BROKEN: Component = Component {
        name: "notes",
        migrations: &[
            NOTES_V1,
            Migration {
                version: 2,
                name: "half good",
                step: Step::Sql("CREATE TABLE extra (x INTEGER); ALTER TABLE nowhere ADD y;"),
            },
        ],
        legacy_version: None,
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.db");
    let err = open(&path, &[&BROKEN]).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Step {
                component: "notes",
                version: 2,
                ..
            }
        ),
        "{err}"
    );

    let conn = Connection::open(&path).unwrap();
    assert_eq!(recorded_version(&conn, "notes").unwrap(), 1);
    assert!(has_table(&conn, "notes"), "step 1 was committed on its own");
    assert!(!has_table(&conn, "extra"), "step 2 left nothing behind");
    drop(conn);

    // a fixed build applies step 2 on the same file
    let conn = open(&path, &[&NOTES]).unwrap();
    assert_eq!(recorded_version(&conn, "notes").unwrap(), 2);
}

#[test]
fn a_file_from_a_newer_build_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.db");
    let conn = open(&path, &[&NOTES]).unwrap();
    conn.execute(
        "INSERT INTO schema_migrations (component, version, name) VALUES ('notes', 3, 'future')",
        [],
    )
    .unwrap();
    let before = recorded_rows(&conn);
    drop(conn);

    let err = open(&path, &[&TAGS, &NOTES]).unwrap_err();
    assert!(
        matches!(
            err,
            Error::TooNew {
                component: "notes",
                found: 3,
                supported: 2
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("newer ipocket"), "{err}");
    let conn = Connection::open(&path).unwrap();
    // TAGS came first in the list and was applied; NOTES was not touched
    assert_eq!(recorded_version(&conn, "tags").unwrap(), 1);
    let notes: Vec<_> = recorded_rows(&conn)
        .into_iter()
        .filter(|r| r.0 == "notes")
        .collect();
    assert_eq!(notes, before);
}

#[test]
fn two_components_share_one_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.db");
    drop(open(&path, &[&TAGS]).unwrap());
    let conn = open(&path, &[&NOTES, &TAGS]).unwrap();
    assert_eq!(recorded_version(&conn, "tags").unwrap(), 1);
    assert_eq!(recorded_version(&conn, "notes").unwrap(), 2);
    assert_eq!(recorded_rows(&conn).len(), 3);
    drop(conn);
    // each store may open with only its own component
    let conn = open(&path, &[&TAGS]).unwrap();
    assert_eq!(recorded_rows(&conn).len(), 3);
}

#[test]
fn a_pre_registry_file_is_adopted_at_its_legacy_version() {
    fn legacy(tx: &Transaction<'_>) -> rusqlite::Result<u32> {
        // the old build's marker is its user_version; retire it here
        let v: u32 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
        tx.pragma_update(None, "user_version", 0)?;
        Ok(v)
    }
    static ADOPTING: Component = Component {
        name: "notes",
        migrations: &[NOTES_V1, NOTES_V2],
        legacy_version: Some(legacy),
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    Connection::open(&path)
        .unwrap()
        .execute_batch(
            "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL);
             INSERT INTO notes (body) VALUES ('kept');
             PRAGMA user_version = 1;",
        )
        .unwrap();

    let conn = open(&path, &[&ADOPTING]).unwrap();
    let rows = recorded_rows(&conn);
    assert_eq!(rows.len(), 2, "version 1 adopted, version 2 applied");
    let upper: String = conn
        .query_row("SELECT upper FROM notes", [], |r| r.get(0))
        .unwrap();
    assert_eq!(upper, "KEPT");
    drop(conn);
    let conn = open(&path, &[&ADOPTING]).unwrap();
    assert_eq!(recorded_rows(&conn), rows, "second open is a no-op");
}

#[test]
fn a_pre_registry_file_above_the_known_version_is_refused() {
    static ADOPTING: Component = Component {
        name: "notes",
        migrations: &[NOTES_V1],
        legacy_version: Some(|_| Ok(7)),
    };
    let dir = tempfile::tempdir().unwrap();
    let err = open(dir.path().join("a.db"), &[&ADOPTING]).unwrap_err();
    assert!(matches!(err, Error::TooNew { found: 7, .. }), "{err}");
}

#[test]
#[should_panic(expected = "must increase")]
fn versions_out_of_order_are_a_bug() {
    static BAD: Component = Component {
        name: "bad",
        migrations: &[NOTES_V2, NOTES_V1],
        legacy_version: None,
    };
    let _ = ipocket_db::open_in_memory(&[&BAD]);
}
