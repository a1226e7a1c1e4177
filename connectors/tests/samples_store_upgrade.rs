//! A samples file made before the migration registry (unversioned tables) is recorded as
//! `samples` version 1 with its rows intact.

use ipocket_connectors::{SampleStore, StoreError, SAMPLES_SCHEMA};
use rusqlite::Connection;

fn recorded(path: &std::path::Path) -> Vec<(String, u32, String, String)> {
    let c = Connection::open(path).unwrap();
    let mut st = c
        .prepare("SELECT component, version, name, applied_at FROM schema_migrations ORDER BY 1, 2")
        .unwrap();
    st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn pre_registry_samples_file_is_recorded_as_version_1() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("samples.db");
    Connection::open(&path)
        .unwrap()
        .execute_batch(include_str!("data/pre_registry_samples.sql"))
        .unwrap();

    let store = SampleStore::open(&path).unwrap();
    assert!(store.is_registered("web-01").unwrap());
    assert_eq!(store.count(Some("web-01")).unwrap(), 2);
    let up = store.latest("web-01", "up", &[("job", "node")]).unwrap();
    assert_eq!(up[0].value, 1.0);
    drop(store);

    let rows = recorded(&path);
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0].0.as_str(), rows[0].1), ("samples", 1));

    drop(SampleStore::open(&path).unwrap());
    assert_eq!(recorded(&path), rows, "a second open is a no-op");
}

#[test]
fn fresh_samples_file_is_at_the_newest_version() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("samples.db");
    let mut store = SampleStore::open(&path).unwrap();
    store.register_server("web-01", None).unwrap();
    assert_eq!(store.schema_version().unwrap(), SAMPLES_SCHEMA.latest());
    let page_size: i64 = Connection::open(&path)
        .unwrap()
        .pragma_query_value(None, "page_size", |r| r.get(0))
        .unwrap();
    assert_eq!(page_size, 8192);
}

#[test]
fn samples_file_from_a_newer_build_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("samples.db");
    drop(SampleStore::open(&path).unwrap());
    Connection::open(&path)
        .unwrap()
        .execute(
            "INSERT INTO schema_migrations (component, version, name) VALUES ('samples', 9, 'x')",
            [],
        )
        .unwrap();
    let err = SampleStore::open(&path).unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Schema(ipocket_db::Error::TooNew { found: 9, .. })
        ),
        "{err}"
    );
}
