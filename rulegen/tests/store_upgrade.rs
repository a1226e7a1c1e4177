//! A rule store made before the migration registry (its own `rulegen_schema_migrations`
//! table) is carried into the registry with its rows intact.

use ipocket_rulegen::{Error, RuleStore};
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

fn old_file(dir: &tempfile::TempDir) -> std::path::PathBuf {
    let path = dir.path().join("rules.db");
    Connection::open(&path)
        .unwrap()
        .execute_batch(include_str!("data/pre_registry_rulegen_v1.sql"))
        .unwrap();
    path
}

#[test]
fn pre_registry_rule_store_is_carried_into_the_registry() {
    let dir = tempfile::tempdir().unwrap();
    let path = old_file(&dir);

    let store = RuleStore::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), RuleStore::SCHEMA_VERSION);
    assert_eq!(store.groups().unwrap()[0].name, "prod");
    let rules = store.rules(None).unwrap();
    assert_eq!(rules.len(), 1);
    // Version 2 gives old rules AAMI's defaults.
    assert_eq!(
        (rules[0].priority, rules[0].merge_strategy),
        (100, ipocket_rulegen::MergeStrategy::Override)
    );
    assert!(!store.groups().unwrap()[0].is_default_own);
    assert_eq!(store.settings().unwrap().backup_count, 5);
    drop(store);

    let rows = recorded(&path);
    let versions: Vec<(&str, u32)> = rows.iter().map(|r| (r.0.as_str(), r.1)).collect();
    assert_eq!(versions, vec![("rulegen", 1), ("rulegen", 2)]);
    let c = Connection::open(&path).unwrap();
    let old_table: i64 = c
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE name = 'rulegen_schema_migrations'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(old_table, 0, "the old migrations table is retired");
    drop(c);

    drop(RuleStore::open(&path).unwrap());
    assert_eq!(recorded(&path), rows, "a second open is a no-op");
}

#[test]
fn pre_registry_rule_store_from_a_newer_build_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = old_file(&dir);
    Connection::open(&path)
        .unwrap()
        .execute(
            "INSERT INTO rulegen_schema_migrations (version) VALUES (3)",
            [],
        )
        .unwrap();
    let err = RuleStore::open(&path).unwrap_err();
    assert!(
        matches!(
            err,
            Error::SchemaTooNew {
                found: 3,
                supported: 2
            }
        ),
        "{err}"
    );
    let c = Connection::open(&path).unwrap();
    let kept: i64 = c
        .query_row(
            "SELECT max(version) FROM rulegen_schema_migrations",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(kept, 3, "nothing changed");
}
