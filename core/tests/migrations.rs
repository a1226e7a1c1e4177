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

#[test]
fn version_1_file_migrates_with_data_intact() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    Connection::open(&path).unwrap().execute_batch(V1).unwrap();

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
}
