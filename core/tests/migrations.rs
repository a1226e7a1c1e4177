//! Opening a version-1 database (the original ipocket layout, addresses as
//! text only) migrates it to the current schema with every row intact.

use ipocket_core::{AssetFilter, Inventory, Page, SCHEMA_VERSION};
use rusqlite::Connection;

const V1: &str = r#"
CREATE TABLE projects (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE, description TEXT, color TEXT NOT NULL DEFAULT '#94a3b8');
CREATE TABLE users (id INTEGER PRIMARY KEY AUTOINCREMENT, username TEXT NOT NULL UNIQUE, hashed_password TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('Viewer','Editor','Admin')), is_active INTEGER NOT NULL DEFAULT 1);
CREATE TABLE vendors (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP, updated_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP);
CREATE TABLE hosts (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE, notes TEXT, vendor_id INTEGER REFERENCES vendors(id) ON DELETE SET NULL,
    created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP, updated_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP);
CREATE TABLE ip_assets (id INTEGER PRIMARY KEY AUTOINCREMENT, ip_address TEXT NOT NULL UNIQUE, type TEXT NOT NULL CHECK (type IN ('VM','OS','BMC','VIP','OTHER')),
    project_id INTEGER REFERENCES projects(id) ON DELETE SET NULL, host_id INTEGER REFERENCES hosts(id) ON DELETE SET NULL, notes TEXT,
    archived INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP, updated_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP);
CREATE INDEX ix_ip_assets_archived_project_type ON ip_assets(archived, project_id, type);
CREATE TABLE tags (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE, color TEXT NOT NULL DEFAULT '#e2e8f0',
    created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP, updated_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP);
CREATE TABLE ip_asset_tags (ip_asset_id INTEGER NOT NULL REFERENCES ip_assets(id) ON DELETE CASCADE, tag_id INTEGER NOT NULL REFERENCES tags(id) ON DELETE CASCADE,
    PRIMARY KEY (ip_asset_id, tag_id));
CREATE INDEX ix_ip_asset_tags_tag ON ip_asset_tags(tag_id, ip_asset_id);
CREATE TABLE ip_ranges (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, cidr TEXT NOT NULL UNIQUE, notes TEXT,
    created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP, updated_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP);
CREATE TABLE audit_logs (id INTEGER PRIMARY KEY AUTOINCREMENT, user_id INTEGER REFERENCES users(id) ON DELETE SET NULL, username TEXT,
    target_type TEXT NOT NULL, target_id INTEGER NOT NULL, target_label TEXT NOT NULL, action TEXT NOT NULL, changes TEXT,
    created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP);
PRAGMA user_version = 1;

INSERT INTO projects (name) VALUES ('Core');
INSERT INTO vendors (name) VALUES ('HPE');
INSERT INTO hosts (name, vendor_id) VALUES ('node-01', 1);
INSERT INTO tags (name, color) VALUES ('prod', '#ff0000');
INSERT INTO ip_assets (ip_address, type, project_id, host_id, notes, created_at, updated_at)
    VALUES ('10.0.0.10', 'OS', 1, 1, 'web', '2024-01-01 00:00:00', '2024-01-02 00:00:00');
INSERT INTO ip_assets (ip_address, type) VALUES ('10.0.0.9', 'VM');
INSERT INTO ip_assets (ip_address, type, archived) VALUES ('2001:DB8::1', 'VM', 1);
INSERT INTO ip_assets (ip_address, type) VALUES ('010.000.000.001', 'OTHER');
INSERT INTO ip_asset_tags VALUES (1, 1);
INSERT INTO audit_logs (target_type, target_id, target_label, action, changes) VALUES ('IP_ASSET', 1, '10.0.0.10', 'CREATE', 'Created IP asset');
"#;

/// What the original (Python, Alembic) ipocket adds to the version-1 layout:
/// no `user_version`, an `alembic_version` table, `ip_int`, clear-text sessions.
const ORIGINAL_EXTRAS: &str = r#"
PRAGMA user_version = 0;
CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY);
INSERT INTO alembic_version VALUES ('0009');
ALTER TABLE ip_assets ADD COLUMN ip_int INTEGER;
UPDATE ip_assets SET ip_int = 167772170 WHERE ip_address = '10.0.0.10';
CREATE TABLE sessions (id INTEGER PRIMARY KEY AUTOINCREMENT, token TEXT NOT NULL UNIQUE,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE, created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP);
INSERT INTO users (username, hashed_password, role) VALUES ('old', '$2b$04$invalidinvalidinvalidinvalidinvalidinvalidinvalidinva', 'Editor');
INSERT INTO sessions (token, user_id) VALUES ('clear-text-token', 1);
"#;

#[test]
fn version_1_file_migrates_with_data_intact() {
    migrate_and_check(V1);
}

#[test]
fn original_ipocket_file_migrates_with_data_intact() {
    let (_dir, path) = migrate_and_check(&format!("{V1}{ORIGINAL_EXTRAS}"));
    let inv = Inventory::open(&path).unwrap();
    // clear-text sessions of the original are gone; the user stays
    assert!(inv.session_user("clear-text-token").unwrap().is_none());
    assert_eq!(inv.users().unwrap()[0].username, "old");
    // the original's free-text audit changes are shown as the message
    let log = inv.audit_log(&Default::default(), Page::all()).unwrap();
    assert_eq!(log.items[0].message.as_deref(), Some("Created IP asset"));
    assert!(log.items[0].changes.is_empty());
}

fn migrate_and_check(old_sql: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    Connection::open(&path)
        .unwrap()
        .execute_batch(old_sql)
        .unwrap();

    let inv = Inventory::open(&path).unwrap();
    assert_eq!(inv.schema_version().unwrap(), SCHEMA_VERSION);

    let a = inv.ip_asset("10.0.0.10").unwrap();
    assert_eq!(a.project_name.as_deref(), Some("Core"));
    assert_eq!(a.host_name.as_deref(), Some("node-01"));
    assert_eq!(a.tags, vec!["prod"]);
    assert_eq!(a.notes.as_deref(), Some("web"));
    assert_eq!(
        (a.created_at.as_str(), a.updated_at.as_str()),
        ("2024-01-01 00:00:00", "2024-01-02 00:00:00")
    );
    assert_eq!(inv.hosts().unwrap()[0].vendor_name.as_deref(), Some("HPE"));
    assert_eq!(inv.tags().unwrap()[0].color, "#ff0000");

    // IPv6 text was canonicalised by the migration, and is found by any spelling
    let v6 = inv.ip_asset("2001:db8:0::1").unwrap();
    assert_eq!(v6.ip_address, "2001:db8::1");
    assert!(v6.archived);

    // numeric order and prefix queries work on migrated rows; the zero-padded
    // legacy text stays as it was and sorts last
    let all = inv
        .list_ip_assets(
            &AssetFilter {
                archived: ipocket_core::ArchivedFilter::All,
                ..Default::default()
            },
            Page::all(),
        )
        .unwrap();
    let ips: Vec<_> = all.items.iter().map(|a| a.ip_address.as_str()).collect();
    assert_eq!(
        ips,
        ["10.0.0.9", "10.0.0.10", "2001:db8::1", "010.000.000.001"]
    );
    let f = AssetFilter {
        ip: Some("10.0.0.8/29".into()),
        ..Default::default()
    };
    assert_eq!(inv.list_ip_assets(&f, Page::all()).unwrap().total, 2);

    // the old audit row is still there, new rows are appended after it
    let log = inv.audit_log(&Default::default(), Page::all()).unwrap();
    assert_eq!(log.total, 1);
    drop(inv);

    // opening again is a no-op
    let inv = Inventory::open(&path).unwrap();
    assert_eq!(inv.schema_version().unwrap(), SCHEMA_VERSION);
    assert_eq!(
        inv.audit_log(&Default::default(), Page::all())
            .unwrap()
            .total,
        1
    );
    (dir, path)
}

/// The registry's rows for one component: (version, name, applied_at).
fn recorded(path: &std::path::Path, component: &str) -> Vec<(u32, String, String)> {
    let c = Connection::open(path).unwrap();
    let mut st = c
        .prepare(
            "SELECT version, name, applied_at FROM schema_migrations \
             WHERE component = ?1 ORDER BY version",
        )
        .unwrap();
    st.query_map([component], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn pre_registry_file_is_recorded_at_its_user_version_with_rows_intact() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v3.db");
    Connection::open(&path)
        .unwrap()
        .execute_batch(include_str!("data/pre_registry_inventory_v3.sql"))
        .unwrap();

    let inv = Inventory::open(&path).unwrap();
    assert_eq!(inv.schema_version().unwrap(), SCHEMA_VERSION);
    let a = inv.ip_asset("10.0.0.10").unwrap();
    assert_eq!(a.tags, vec!["prod"]);
    assert_eq!(a.host_name.as_deref(), Some("node-01"));
    assert_eq!(inv.users().unwrap()[0].username, "admin");
    let f = AssetFilter {
        ip: Some("10.0.0.8/29".into()),
        ..Default::default()
    };
    assert_eq!(inv.list_ip_assets(&f, Page::all()).unwrap().total, 2);
    drop(inv);

    // versions 1..=3 adopted, no step re-run: the session (dropped by step 3) survives, and
    // step 4 counts it as last used at its login; step 5 adds the API tokens, step 6 the
    // login failures
    let rows = recorded(&path, "inventory");
    let versions: Vec<u32> = rows.iter().map(|r| r.0).collect();
    assert_eq!(versions, [1, 2, 3, 4, 5, 6]);
    let c = Connection::open(&path).unwrap();
    let sessions: i64 = c
        .query_row(
            "SELECT count(*) FROM sessions WHERE last_seen_at = created_at",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(sessions, 1);
    let marker: u32 = c
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(marker, SCHEMA_VERSION);
    drop(c);

    // a second open changes nothing
    drop(Inventory::open(&path).unwrap());
    assert_eq!(recorded(&path, "inventory"), rows);
}

#[test]
fn version_1_file_is_recorded_then_migrated() {
    let (_dir, path) = migrate_and_check(V1);
    let names: Vec<(u32, String)> = recorded(&path, "inventory")
        .into_iter()
        .map(|r| (r.0, r.1))
        .collect();
    assert_eq!(
        names,
        [
            (1, "original ipocket tables".to_string()),
            (2, "sortable address keys, audit message".to_string()),
            (3, "hashed login sessions".to_string()),
            (4, "session last use (idle expiry)".to_string()),
            (5, "scoped API tokens".to_string()),
            (
                6,
                "login failures (throttling shared by replicas)".to_string()
            ),
        ]
    );
}
