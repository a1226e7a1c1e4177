//! Every connection runs with the pragmas `ipocket_db::configure` sets.

use rusqlite::Connection;

fn pragma(conn: &Connection, name: &str) -> String {
    conn.query_row(&format!("PRAGMA {name}"), [], |r| {
        r.get::<_, rusqlite::types::Value>(0)
    })
    .map(|v| match v {
        rusqlite::types::Value::Integer(i) => i.to_string(),
        rusqlite::types::Value::Text(s) => s,
        other => format!("{other:?}"),
    })
    .unwrap()
}

#[test]
fn a_file_connection_has_every_pragma() {
    let dir = tempfile::tempdir().unwrap();
    let conn = ipocket_db::open(dir.path().join("a.db"), &[]).unwrap();
    assert_eq!(pragma(&conn, "journal_mode"), "wal");
    assert_eq!(pragma(&conn, "page_size"), "8192");
    assert_eq!(pragma(&conn, "busy_timeout"), "5000");
    assert_eq!(pragma(&conn, "foreign_keys"), "1");
    assert_eq!(pragma(&conn, "synchronous"), "1", "NORMAL");
    assert_eq!(pragma(&conn, "cache_size"), "-65536");
    assert_eq!(pragma(&conn, "temp_store"), "2", "MEMORY");
}

#[test]
fn an_existing_file_keeps_its_page_size() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    Connection::open(&path)
        .unwrap()
        .execute_batch("PRAGMA page_size = 4096; CREATE TABLE t (x INTEGER);")
        .unwrap();
    let conn = ipocket_db::open(&path, &[]).unwrap();
    assert_eq!(pragma(&conn, "page_size"), "4096");
    assert_eq!(pragma(&conn, "journal_mode"), "wal");
}

#[test]
fn in_memory_has_the_per_connection_pragmas() {
    let conn = ipocket_db::open_in_memory(&[]).unwrap();
    assert_eq!(pragma(&conn, "foreign_keys"), "1");
    assert_eq!(pragma(&conn, "busy_timeout"), "5000");
    assert_eq!(pragma(&conn, "synchronous"), "1");
}

#[test]
fn data_version_moves_when_another_connection_commits() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.db");
    let writer = ipocket_db::open(&path, &[]).unwrap();
    let probe = ipocket_db::open_read_only(&path).unwrap();
    let v0 = ipocket_db::data_version(&probe).unwrap();
    assert_eq!(ipocket_db::data_version(&probe).unwrap(), v0);
    writer.execute_batch("CREATE TABLE t (x INTEGER)").unwrap();
    assert_ne!(ipocket_db::data_version(&probe).unwrap(), v0);
    assert!(
        probe.execute_batch("CREATE TABLE u (x INTEGER)").is_err(),
        "read-only"
    );
}
