//! The server's database as today's builds leave it (inventory at `user_version` 3,
//! unversioned samples tables, the rule store's own migrations table), opened the way
//! `ipocket serve` opens it: every row survives, each component is recorded once, and a
//! second start changes nothing.

use ipocket_connectors::SampleStore;
use ipocket_core::Inventory;
use ipocket_rulegen::RuleStore;
use rusqlite::Connection;

const INVENTORY: &str = include_str!("../../../core/tests/data/pre_registry_inventory_v3.sql");
const SAMPLES: &str = include_str!("../../../connectors/tests/data/pre_registry_samples.sql");
const RULES: &str = include_str!("../../../rulegen/tests/data/pre_registry_rulegen_v1.sql");

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

fn open_like_the_server(path: &std::path::Path) -> (Inventory, SampleStore, RuleStore) {
    (
        Inventory::open(path).unwrap(),
        SampleStore::open(path).unwrap(),
        RuleStore::open(path).unwrap(),
    )
}

#[test]
fn todays_server_file_upgrades_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ipocket.db");
    Connection::open(&path)
        .unwrap()
        .execute_batch(&format!("{INVENTORY}\n{SAMPLES}\n{RULES}"))
        .unwrap();

    let (inv, samples, rules) = open_like_the_server(&path);
    assert_eq!(inv.ip_asset("10.0.0.10").unwrap().tags, vec!["prod"]);
    assert_eq!(samples.count(None).unwrap(), 2);
    assert_eq!(rules.groups().unwrap()[0].name, "prod");
    drop((inv, samples, rules));

    let rows = recorded(&path);
    let versions: Vec<(&str, u32)> = rows.iter().map(|r| (r.0.as_str(), r.1)).collect();
    // Every inventory step from the first, then the other components' steps.
    let mut expected: Vec<(&str, u32)> = (1..=ipocket_core::SCHEMA_VERSION)
        .map(|v| ("inventory", v))
        .collect();
    expected.extend([("rulegen", 1), ("rulegen", 2), ("samples", 1)]);
    assert_eq!(versions, expected);

    drop(open_like_the_server(&path));
    assert_eq!(recorded(&path), rows, "a second start is a no-op");
}
