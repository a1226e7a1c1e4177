//! The inventory's catalog behaviours (projects, vendors, tags, hosts) on both backends.

use ipocket_core::{
    Actor, AssetType, AuditFilter, Error, FieldChange, Inventory, NewIpAsset, Page, Role,
};
use ipocket_db::Backend;

use crate::{fresh, Db};

/// A fresh inventory on either backend is at the newest schema version.
fn a_fresh_inventory_is_current(b: Backend) {
    let (_db, inv) = fresh(b);
    assert_eq!(inv.backend(), b);
    assert_eq!(inv.schema_version().unwrap(), ipocket_core::SCHEMA_VERSION);
    assert_eq!(inv.now().unwrap().len(), 19);
}

/// An editor named in the audit rows.
fn editor() -> Actor {
    Actor {
        user_id: None,
        username: Some("alice".into()),
        role: Some(Role::Editor),
    }
}

/// `(target_type, target_label, action)` of every audit row, oldest first.
fn audit_trail(db: &Db) -> Vec<(String, String, String)> {
    db.rows("SELECT target_type, target_label, action FROM audit_logs ORDER BY id")
        .iter()
        .map(|r| (r.get(0).unwrap(), r.get(1).unwrap(), r.get(2).unwrap()))
        .collect()
}

fn row(t: &str, label: &str, action: &str) -> (String, String, String) {
    (t.into(), label.into(), action.into())
}

/// The field changes of the newest audit row about `target_type`.
fn newest_changes(inv: &Inventory, target_type: &str) -> Vec<FieldChange> {
    let filter = AuditFilter {
        target_type: Some(target_type.into()),
        ..Default::default()
    };
    let log = inv.audit_log(&filter, Page::default()).unwrap();
    log.items[0].changes.clone()
}

fn change(field: &'static str, before: Option<&str>, after: Option<&str>) -> FieldChange {
    FieldChange::new(field, before.map(Into::into), after.map(Into::into))
}

fn is_not_found<T: std::fmt::Debug>(r: Result<T, Error>, entity: &str) -> bool {
    matches!(r, Err(Error::NotFound { entity: e, .. }) if e == entity)
}

fn a_project_is_created_listed_updated_and_deleted(b: Backend) {
    let (db, mut inv) = fresh(b);
    let a = editor();
    let p = inv
        .create_project(&a, " Core ", Some(" main "), None)
        .unwrap();
    assert_eq!(
        (p.name.as_str(), p.description.as_deref(), p.color.as_str()),
        ("Core", Some("main"), "#94a3b8")
    );
    assert_eq!(inv.project(p.id).unwrap(), p);
    let alpha = inv
        .create_project(&a, "alpha", None, Some("#AABBCC"))
        .unwrap();
    assert_eq!(alpha.color, "#aabbcc");
    let names: Vec<String> = inv
        .projects()
        .unwrap()
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert_eq!(names, ["Core", "alpha"], "names sort byte by byte");

    let u = inv
        .update_project(&a, p.id, Some("Core 2"), Some(None), Some("#123456"))
        .unwrap();
    assert_eq!(
        (u.name.as_str(), u.description.as_deref(), u.color.as_str()),
        ("Core 2", None, "#123456")
    );
    assert_eq!(inv.project(p.id).unwrap(), u);
    assert_eq!(
        newest_changes(&inv, "PROJECT"),
        [
            change("name", Some("Core"), Some("Core 2")),
            change("description", Some("main"), None),
            change("color", Some("#94a3b8"), Some("#123456")),
        ]
    );

    inv.delete_project(&a, p.id).unwrap();
    assert!(is_not_found(inv.project(p.id), "project"));
    assert!(is_not_found(inv.delete_project(&a, p.id), "project"));
    assert!(is_not_found(
        inv.update_project(&a, p.id, Some("x"), None, None),
        "project"
    ));
    assert_eq!(
        audit_trail(&db),
        [
            row("PROJECT", "Core", "CREATE"),
            row("PROJECT", "alpha", "CREATE"),
            row("PROJECT", "Core 2", "UPDATE"),
            row("PROJECT", "Core 2", "DELETE"),
        ]
    );
    assert_eq!(
        db.count("SELECT COUNT(*) FROM audit_logs WHERE username = 'alice'"),
        4
    );
}

fn a_vendor_is_created_renamed_and_deleted(b: Backend) {
    let (db, mut inv) = fresh(b);
    let a = editor();
    let v = inv.create_vendor(&a, " HP ").unwrap();
    assert_eq!(v.name, "HP");
    assert_eq!(inv.vendor(v.id).unwrap(), v);
    inv.create_vendor(&a, "Dell").unwrap();
    let names: Vec<String> = inv.vendors().unwrap().into_iter().map(|v| v.name).collect();
    assert_eq!(names, ["Dell", "HP"]);
    let v2 = inv.update_vendor(&a, v.id, "HPE").unwrap();
    assert_eq!((v2.id, v2.name.as_str()), (v.id, "HPE"));
    assert_eq!(
        newest_changes(&inv, "VENDOR"),
        [change("name", Some("HP"), Some("HPE"))]
    );
    inv.delete_vendor(&a, v.id).unwrap();
    assert!(is_not_found(inv.vendor(v.id), "vendor"));
    assert!(is_not_found(inv.update_vendor(&a, v.id, "X"), "vendor"));
    assert!(is_not_found(inv.delete_vendor(&a, v.id), "vendor"));
    assert_eq!(
        audit_trail(&db),
        [
            row("VENDOR", "HP", "CREATE"),
            row("VENDOR", "Dell", "CREATE"),
            row("VENDOR", "HPE", "UPDATE"),
            row("VENDOR", "HPE", "DELETE"),
        ]
    );
}

fn a_tag_is_created_updated_and_deleted(b: Backend) {
    let (db, mut inv) = fresh(b);
    let a = editor();
    let t = inv.create_tag(&a, "PROD", Some("#FF0000")).unwrap();
    assert_eq!((t.name.as_str(), t.color.as_str()), ("prod", "#ff0000"));
    assert_eq!(inv.tag(t.id).unwrap(), t);
    let edge = inv.create_tag(&a, "edge", None).unwrap();
    assert_eq!(edge.color, "#e2e8f0");
    let names: Vec<String> = inv.tags().unwrap().into_iter().map(|t| t.name).collect();
    assert_eq!(names, ["edge", "prod"]);
    let u = inv
        .update_tag(&a, t.id, Some("Live"), Some("#ABCDEF"))
        .unwrap();
    assert_eq!((u.name.as_str(), u.color.as_str()), ("live", "#abcdef"));
    assert_eq!(
        newest_changes(&inv, "TAG"),
        [
            change("name", Some("prod"), Some("live")),
            change("color", Some("#ff0000"), Some("#abcdef")),
        ]
    );
    inv.delete_tag(&a, t.id).unwrap();
    assert!(is_not_found(inv.tag(t.id), "tag"));
    assert!(is_not_found(inv.update_tag(&a, t.id, None, None), "tag"));
    assert!(is_not_found(inv.delete_tag(&a, t.id), "tag"));
    assert_eq!(
        audit_trail(&db),
        [
            row("TAG", "prod", "CREATE"),
            row("TAG", "edge", "CREATE"),
            row("TAG", "live", "UPDATE"),
            row("TAG", "live", "DELETE"),
        ]
    );
}

fn a_host_is_created_updated_and_deleted(b: Backend) {
    let (db, mut inv) = fresh(b);
    let a = editor();
    let hp = inv.create_vendor(&a, "HP").unwrap();
    let dell = inv.create_vendor(&a, "Dell").unwrap();
    let h = inv
        .create_host(&a, " node-01 ", Some(" rack 1 "), Some(hp.id))
        .unwrap();
    assert_eq!(
        (
            h.name.as_str(),
            h.notes.as_deref(),
            h.vendor_id,
            h.vendor_name.as_deref()
        ),
        ("node-01", Some("rack 1"), Some(hp.id), Some("HP"))
    );
    assert_eq!(inv.host(h.id).unwrap(), h);
    assert_eq!(
        newest_changes(&inv, "HOST"),
        [
            change("name", None, Some("node-01")),
            change("notes", None, Some("rack 1")),
            change("vendor", None, Some("HP")),
        ]
    );
    inv.create_host(&a, "a-host", None, None).unwrap();
    let names: Vec<String> = inv.hosts().unwrap().into_iter().map(|h| h.name).collect();
    assert_eq!(names, ["a-host", "node-01"]);

    let u = inv
        .update_host(&a, h.id, Some("node-1"), Some(None), Some(Some(dell.id)))
        .unwrap();
    assert_eq!(
        (
            u.name.as_str(),
            u.notes.as_deref(),
            u.vendor_name.as_deref()
        ),
        ("node-1", None, Some("Dell"))
    );
    assert_eq!(inv.host(h.id).unwrap(), u);
    let u = inv.update_host(&a, h.id, None, None, Some(None)).unwrap();
    assert_eq!((u.vendor_id, u.vendor_name), (None, None));

    // An unknown vendor is not found, and nothing is written.
    let before = audit_trail(&db);
    assert!(is_not_found(
        inv.create_host(&a, "node-02", None, Some(dell.id + 100)),
        "vendor"
    ));
    assert!(is_not_found(
        inv.update_host(&a, h.id, Some("renamed"), None, Some(Some(dell.id + 100))),
        "vendor"
    ));
    assert_eq!(audit_trail(&db), before);
    assert_eq!(inv.host(h.id).unwrap().name, "node-1");
    assert_eq!(db.count("SELECT COUNT(*) FROM hosts"), 2);

    inv.delete_host(&a, h.id).unwrap();
    assert!(is_not_found(inv.host(h.id), "host"));
    assert!(is_not_found(inv.host_detail(h.id), "host"));
    assert!(is_not_found(
        inv.update_host(&a, h.id, Some("x"), None, None),
        "host"
    ));
    assert!(is_not_found(inv.delete_host(&a, h.id), "host"));
    let hosts: Vec<_> = audit_trail(&db)
        .into_iter()
        .filter(|r| r.0 == "HOST")
        .collect();
    assert_eq!(
        hosts,
        [
            row("HOST", "node-01", "CREATE"),
            row("HOST", "a-host", "CREATE"),
            row("HOST", "node-1", "UPDATE"),
            row("HOST", "node-1", "UPDATE"),
            row("HOST", "node-1", "DELETE"),
        ]
    );
}

/// Names are unique per kind, compared as SQLite's UNIQUE compares them: exactly, so
/// names that differ only in case are different names (tags are lower-cased first).
fn duplicate_names_are_conflicts_and_write_nothing(b: Backend) {
    let (db, mut inv) = fresh(b);
    let a = editor();
    let p = inv.create_project(&a, "Core", None, None).unwrap();
    let p2 = inv.create_project(&a, "core", None, None).unwrap();
    let v = inv.create_vendor(&a, "HPE").unwrap();
    let v2 = inv.create_vendor(&a, "hpe").unwrap();
    let h = inv.create_host(&a, "Node-01", None, None).unwrap();
    let h2 = inv.create_host(&a, "node-01", None, None).unwrap();
    let t = inv.create_tag(&a, "prod", None).unwrap();
    let t2 = inv.create_tag(&a, "edge", None).unwrap();
    let trail = audit_trail(&db);
    let counts = |db: &Db| {
        ["projects", "vendors", "hosts", "tags"]
            .map(|t| db.count(&format!("SELECT COUNT(*) FROM {t}")))
    };
    assert_eq!(counts(&db), [2, 2, 2, 2]);

    let conflict = |r: Result<(), Error>, message: &str| match r {
        Err(Error::Conflict(m)) => assert_eq!(m, message),
        other => panic!("{message}: {other:?}"),
    };
    conflict(
        inv.create_project(&a, "Core", None, None).map(drop),
        r#"project "Core" already exists"#,
    );
    conflict(
        inv.update_project(&a, p2.id, Some("Core"), None, None)
            .map(drop),
        r#"project "Core" already exists"#,
    );
    conflict(
        inv.create_vendor(&a, "HPE").map(drop),
        r#"vendor "HPE" already exists"#,
    );
    conflict(
        inv.update_vendor(&a, v2.id, "HPE").map(drop),
        r#"vendor "HPE" already exists"#,
    );
    conflict(
        inv.create_host(&a, "Node-01", None, None).map(drop),
        r#"host "Node-01" already exists"#,
    );
    conflict(
        inv.update_host(&a, h2.id, Some("Node-01"), None, None)
            .map(drop),
        r#"host "Node-01" already exists"#,
    );
    conflict(
        inv.create_tag(&a, "PROD", None).map(drop),
        r#"tag "prod" already exists"#,
    );
    conflict(
        inv.update_tag(&a, t2.id, Some("Prod"), None).map(drop),
        r#"tag "prod" already exists"#,
    );
    assert_eq!(audit_trail(&db), trail, "a refused write has no audit row");
    assert_eq!(counts(&db), [2, 2, 2, 2]);
    assert_eq!(inv.project(p2.id).unwrap().name, "core");
    assert_eq!(inv.vendor(v2.id).unwrap().name, "hpe");
    assert_eq!(inv.host(h2.id).unwrap().name, "node-01");
    assert_eq!(inv.tag(t2.id).unwrap().name, "edge");
    // A record keeps its own name.
    assert_eq!(
        inv.update_project(&a, p.id, Some("Core"), None, Some("#000000"))
            .unwrap()
            .name,
        "Core"
    );
    assert_eq!(inv.tag(t.id).unwrap().name, "prod");
    assert_eq!(inv.vendor(v.id).unwrap().name, "HPE");
    assert_eq!(inv.host(h.id).unwrap().name, "Node-01");
}

fn unchanged_updates_write_no_audit_row(b: Backend) {
    let (db, mut inv) = fresh(b);
    let a = editor();
    let p = inv
        .create_project(&a, "Core", Some("main"), Some("#112233"))
        .unwrap();
    let v = inv.create_vendor(&a, "HPE").unwrap();
    let h = inv
        .create_host(&a, "node-01", Some("rack 1"), Some(v.id))
        .unwrap();
    let t = inv.create_tag(&a, "prod", Some("#445566")).unwrap();
    let n = db.count("SELECT COUNT(*) FROM audit_logs");
    assert_eq!(
        inv.update_project(
            &a,
            p.id,
            Some(" Core "),
            Some(Some("main ")),
            Some("#112233")
        )
        .unwrap(),
        p
    );
    assert_eq!(inv.update_project(&a, p.id, None, None, None).unwrap(), p);
    assert_eq!(inv.update_vendor(&a, v.id, " HPE").unwrap(), v);
    assert_eq!(
        inv.update_host(
            &a,
            h.id,
            Some("node-01"),
            Some(Some("rack 1")),
            Some(Some(v.id))
        )
        .unwrap(),
        h
    );
    assert_eq!(inv.update_host(&a, h.id, None, None, None).unwrap(), h);
    assert_eq!(
        inv.update_tag(&a, t.id, Some("PROD"), Some("#445566"))
            .unwrap(),
        t
    );
    assert_eq!(db.count("SELECT COUNT(*) FROM audit_logs"), n);
}

fn bad_input_and_readers_are_refused_and_write_nothing(b: Backend) {
    let (db, mut inv) = fresh(b);
    let a = editor();
    let invalid = |r: Result<(), Error>, field: &str| match r {
        Err(Error::Invalid { field: f, .. }) => assert_eq!(f, field),
        other => panic!("{field}: {other:?}"),
    };
    invalid(
        inv.create_project(&a, "  ", None, None).map(drop),
        "project name",
    );
    invalid(
        inv.create_project(&a, "p", None, Some("red")).map(drop),
        "color",
    );
    invalid(inv.create_vendor(&a, "").map(drop), "vendor name");
    invalid(inv.create_tag(&a, "bad tag", None).map(drop), "tag");
    invalid(inv.create_host(&a, "", None, None).map(drop), "host name");
    inv.set_input_limits(ipocket_core::InputLimits {
        max_text_chars: 4,
        ..Default::default()
    });
    invalid(
        inv.create_host(&a, "h", Some("too long"), None).map(drop),
        "notes",
    );
    invalid(
        inv.create_project(&a, "p", Some("too long"), None)
            .map(drop),
        "description",
    );
    let p = inv.create_project(&a, "p", Some("ok"), None).unwrap();
    invalid(
        inv.update_project(&a, p.id, None, Some(Some("too long")), None)
            .map(drop),
        "description",
    );
    invalid(
        inv.update_project(&a, p.id, Some(""), None, None).map(drop),
        "project name",
    );
    let viewer = Actor {
        role: Some(Role::Viewer),
        ..editor()
    };
    assert!(matches!(
        inv.create_vendor(&viewer, "HPE"),
        Err(Error::Forbidden(_))
    ));
    assert!(matches!(
        inv.delete_project(&viewer, p.id),
        Err(Error::Forbidden(_))
    ));
    assert_eq!(db.count("SELECT COUNT(*) FROM audit_logs"), 1);
    assert_eq!(inv.projects().unwrap(), [p]);
    assert_eq!(
        db.count("SELECT (SELECT COUNT(*) FROM vendors) + (SELECT COUNT(*) FROM hosts) + (SELECT COUNT(*) FROM tags)"),
        0
    );
}

/// What deleting a record still in use does (the schema's foreign keys, the same on both
/// backends): addresses lose their project or host, hosts their vendor, addresses a
/// deleted tag; only the deleted record gets an audit row.
fn deleting_a_record_in_use_unlinks_it(b: Backend) {
    let (db, mut inv) = fresh(b);
    let a = editor();
    let p = inv.create_project(&a, "Core", None, None).unwrap();
    let v = inv.create_vendor(&a, "HPE").unwrap();
    let h = inv.create_host(&a, "node-01", None, Some(v.id)).unwrap();
    let new = NewIpAsset {
        project_id: Some(p.id),
        host_id: Some(h.id),
        tags: vec!["prod".into(), "edge".into()],
        ..NewIpAsset::new("10.0.0.1", AssetType::Os)
    };
    let asset = inv.create_ip_asset(&a, &new).unwrap();
    let prod = inv.tags().unwrap().into_iter().find(|t| t.name == "prod");
    let n = db.count("SELECT COUNT(*) FROM audit_logs");

    inv.delete_project(&a, p.id).unwrap();
    inv.delete_vendor(&a, v.id).unwrap();
    inv.delete_tag(&a, prod.unwrap().id).unwrap();
    let host = inv.host(h.id).unwrap();
    assert_eq!((host.vendor_id, host.vendor_name), (None, None));
    let now = inv.ip_asset("10.0.0.1").unwrap();
    assert_eq!(
        (now.id, now.project_id, now.host_id, now.tags.clone()),
        (asset.id, None, Some(h.id), vec!["edge".to_string()])
    );
    inv.delete_host(&a, h.id).unwrap();
    let now = inv.ip_asset("10.0.0.1").unwrap();
    assert_eq!((now.host_id, now.host_name), (None, None));
    assert_eq!(
        now.updated_at, asset.updated_at,
        "the address is not edited"
    );
    assert_eq!(db.count("SELECT COUNT(*) FROM ip_asset_tags"), 1);
    assert_eq!(
        audit_trail(&db)[n as usize..],
        [
            row("PROJECT", "Core", "DELETE"),
            row("VENDOR", "HPE", "DELETE"),
            row("TAG", "prod", "DELETE"),
            row("HOST", "node-01", "DELETE"),
        ]
    );
}

fn a_host_with_addresses_is_all_or_nothing(b: Backend) {
    let (db, mut inv) = fresh(b);
    let a = editor();
    let p = inv.create_project(&a, "Core", None, None).unwrap();
    inv.create_ip_asset(&a, &NewIpAsset::new("10.0.0.10", AssetType::Vm))
        .unwrap();
    let old = inv.archive_ip_asset(&a, "10.0.0.10").unwrap();
    let (h, assets) = inv
        .create_host_with_addresses(
            &a,
            "node-01",
            None,
            None,
            Some(p.id),
            &["10.0.0.10", "10.0.0.2"],
            &["2001:DB8::1"],
        )
        .unwrap();
    let listed: Vec<(&str, AssetType, Option<i64>)> = assets
        .iter()
        .map(|x| (x.ip_address.as_str(), x.asset_type, x.host_id))
        .collect();
    assert_eq!(
        listed,
        [
            ("10.0.0.10", AssetType::Os, Some(h.id)),
            ("10.0.0.2", AssetType::Os, Some(h.id)),
            ("2001:db8::1", AssetType::Bmc, Some(h.id)),
        ]
    );
    assert_eq!(
        (assets[0].id, assets[0].archived),
        (old.id, false),
        "restored"
    );
    let d = inv.host_detail(h.id).unwrap();
    assert_eq!(d.host, h);
    assert_eq!((d.os.len(), d.bmc.len(), d.other.len()), (2, 1, 0));
    assert_eq!(d.bmc[0].project_id, Some(p.id));
    let with = inv.hosts_with_addresses().unwrap();
    let ips: Vec<&str> = with[0].1.iter().map(|(ip, _)| ip.as_str()).collect();
    assert_eq!(
        ips,
        ["10.0.0.2", "10.0.0.10", "2001:db8::1"],
        "address order"
    );

    let trail = audit_trail(&db);
    // Refused before anything is written: a bad, a repeated or an active address.
    for (os, bmc, field) in [
        (&["10.0.0.9", "10.0.0.300"][..], &[][..], "os_ips"),
        (&["10.0.0.9"][..], &["10.0.0.9"][..], "bmc_ips"),
        (&[][..], &["10.0.0.2"][..], "bmc_ips"),
    ] {
        match inv.create_host_with_addresses(&a, "node-02", None, None, None, os, bmc) {
            Err(Error::Invalid { field: f, .. }) => assert_eq!(f, field),
            other => panic!("{other:?}"),
        }
    }
    // Refused after the host and an address are written: all of it is rolled back.
    assert!(is_not_found(
        inv.create_host_with_addresses(
            &a,
            "node-02",
            None,
            None,
            Some(p.id + 9),
            &["10.0.0.9"],
            &[]
        ),
        "project"
    ));
    assert!(matches!(
        inv.create_host_with_addresses(&a, "node-01", None, None, None, &["10.0.0.9"], &[]),
        Err(Error::Conflict(_))
    ));
    assert_eq!(audit_trail(&db), trail);
    assert_eq!(db.count("SELECT COUNT(*) FROM hosts"), 1);
    assert_eq!(db.count("SELECT COUNT(*) FROM ip_assets"), 3);
    assert!(is_not_found(inv.ip_asset("10.0.0.9"), "ip asset"));
    assert_eq!(
        db.count("SELECT COUNT(*) FROM audit_logs WHERE target_type = 'HOST'"),
        1
    );
}

/// Two handles on one database see each other's catalog writes, and a name taken
/// through one is a conflict through the other.
fn two_handles_share_the_catalog(b: Backend) {
    let (db, mut one) = fresh(b);
    let mut two = db.inventory();
    let a = editor();
    let p = one.create_project(&a, "Core", None, None).unwrap();
    assert_eq!(two.project(p.id).unwrap(), p);
    assert!(matches!(
        two.create_project(&a, "Core", None, None),
        Err(Error::Conflict(_))
    ));
    let u = two
        .update_project(&a, p.id, Some("Edge"), None, None)
        .unwrap();
    assert_eq!(one.projects().unwrap(), [u]);
}

/// Handles racing to create one host with one address (as replicas would): exactly one
/// wins, and there is one host, one address and their two audit rows.
fn concurrent_creates_of_one_name_make_one_record(b: Backend) {
    let (db, _inv) = fresh(b);
    let handles: Vec<Inventory> = (0..4).map(|_| db.inventory()).collect();
    let results: Vec<Result<i64, Error>> = std::thread::scope(|s| {
        let racers: Vec<_> = handles
            .into_iter()
            .map(|mut inv| {
                s.spawn(move || {
                    let a = editor();
                    inv.create_host_with_addresses(
                        &a,
                        "node-01",
                        None,
                        None,
                        None,
                        &["10.0.0.1"],
                        &[],
                    )
                    .map(|(h, _)| h.id)
                })
            })
            .collect();
        racers.into_iter().map(|r| r.join().unwrap()).collect()
    });
    let won = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(won, 1, "{results:?}");
    for r in &results {
        match r {
            Ok(_) => {}
            // Writes are serialised, checks included: a loser's check already sees the
            // winner's address (not only the name's UNIQUE index refusing it).
            Err(Error::Invalid { field, .. }) => assert_eq!(field, "os_ips"),
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(db.count("SELECT COUNT(*) FROM hosts"), 1);
    assert_eq!(db.count("SELECT COUNT(*) FROM ip_assets"), 1);
    assert_eq!(db.count("SELECT COUNT(*) FROM audit_logs"), 2);
}

ipocket_testkit::on_both_backends!(
    a_fresh_inventory_is_current,
    a_project_is_created_listed_updated_and_deleted,
    a_vendor_is_created_renamed_and_deleted,
    a_tag_is_created_updated_and_deleted,
    a_host_is_created_updated_and_deleted,
    duplicate_names_are_conflicts_and_write_nothing,
    unchanged_updates_write_no_audit_row,
    bad_input_and_readers_are_refused_and_write_nothing,
    deleting_a_record_in_use_unlinks_it,
    a_host_with_addresses_is_all_or_nothing,
    two_handles_share_the_catalog,
    concurrent_creates_of_one_name_make_one_record,
);
