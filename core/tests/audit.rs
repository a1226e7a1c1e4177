//! Every mutation writes its audit row in the same transaction: when the
//! audit row cannot be written, the change is not made either.

use ipocket_core::*;

fn open() -> (tempfile::TempDir, std::path::PathBuf, Inventory) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("inv.db");
    let inv = Inventory::open(&path).unwrap();
    (dir, path, inv)
}

fn count(inv: &Inventory) -> u64 {
    inv.audit_log(&AuditFilter::default(), Page::all())
        .unwrap()
        .total
}

#[test]
fn every_mutation_writes_one_audit_row_naming_its_target() {
    let (_d, _p, mut inv) = open();
    let a = Actor::system();
    let expect = |inv: &Inventory, before: u64, target: &str, action: &str| {
        let log = inv.audit_log(&AuditFilter::default(), Page::all()).unwrap();
        assert_eq!(log.total, before + 1, "{target} {action}");
        assert_eq!(
            (
                log.items[0].target_type.as_str(),
                log.items[0].action.as_str()
            ),
            (target, action)
        );
    };
    let n = count(&inv);
    let p = inv.create_project(&a, "Core", None, None).unwrap();
    expect(&inv, n, "PROJECT", "CREATE");
    let n = count(&inv);
    inv.update_project(&a, p.id, None, Some(Some("d")), None)
        .unwrap();
    expect(&inv, n, "PROJECT", "UPDATE");
    let n = count(&inv);
    let v = inv.create_vendor(&a, "HPE").unwrap();
    expect(&inv, n, "VENDOR", "CREATE");
    let n = count(&inv);
    inv.update_vendor(&a, v.id, "HP").unwrap();
    expect(&inv, n, "VENDOR", "UPDATE");
    let n = count(&inv);
    let h = inv.create_host(&a, "h", None, Some(v.id)).unwrap();
    expect(&inv, n, "HOST", "CREATE");
    let n = count(&inv);
    inv.update_host(&a, h.id, None, Some(Some("x")), None)
        .unwrap();
    expect(&inv, n, "HOST", "UPDATE");
    let n = count(&inv);
    let t = inv.create_tag(&a, "prod", None).unwrap();
    expect(&inv, n, "TAG", "CREATE");
    let n = count(&inv);
    inv.update_tag(&a, t.id, None, Some("#000000")).unwrap();
    expect(&inv, n, "TAG", "UPDATE");
    let n = count(&inv);
    let r = inv.create_ip_range(&a, "lab", "10.0.0.0/24", None).unwrap();
    expect(&inv, n, "IP_RANGE", "CREATE");
    let n = count(&inv);
    inv.update_ip_range(&a, r.id, Some("lab2"), None).unwrap();
    expect(&inv, n, "IP_RANGE", "UPDATE");
    let n = count(&inv);
    inv.create_ip_asset(
        &a,
        &NewIpAsset {
            tags: vec!["prod".into()],
            ..NewIpAsset::new("10.0.0.1", AssetType::Vm)
        },
    )
    .unwrap();
    expect(&inv, n, "IP_ASSET", "CREATE");
    let n = count(&inv);
    inv.update_ip_asset(
        &a,
        "10.0.0.1",
        &IpAssetPatch {
            notes: Some(Some("n".into())),
            ..Default::default()
        },
    )
    .unwrap();
    expect(&inv, n, "IP_ASSET", "UPDATE");
    let n = count(&inv);
    inv.archive_ip_asset(&a, "10.0.0.1").unwrap();
    expect(&inv, n, "IP_ASSET", "ARCHIVE");
    let n = count(&inv);
    inv.unarchive_ip_asset(&a, "10.0.0.1").unwrap();
    expect(&inv, n, "IP_ASSET", "RESTORE");
    let n = count(&inv);
    inv.allocate_next(&a, r.id, &NewIpAsset::new("", AssetType::Vm))
        .unwrap();
    expect(&inv, n, "IP_ASSET", "CREATE");
    let n = count(&inv);
    inv.delete_ip_asset(&a, "10.0.0.1").unwrap();
    expect(&inv, n, "IP_ASSET", "DELETE");
    let n = count(&inv);
    let u = inv.create_user(&a, "ed", "pw", Role::Editor).unwrap();
    expect(&inv, n, "USER", "CREATE");
    let n = count(&inv);
    inv.update_user(&a, u.id, Some(Role::Viewer), None, None)
        .unwrap();
    expect(&inv, n, "USER", "UPDATE");
    let n = count(&inv);
    let (_, token) = inv.login("ed", "pw").unwrap().unwrap();
    expect(&inv, n, "USER", "LOGIN");
    let n = count(&inv);
    inv.logout(&token).unwrap();
    expect(&inv, n, "USER", "LOGOUT");
    let n = count(&inv);
    inv.delete_user(&a, u.id).unwrap();
    expect(&inv, n, "USER", "DELETE");
    let n = count(&inv);
    inv.delete_tag(&a, t.id).unwrap();
    expect(&inv, n, "TAG", "DELETE");
    let n = count(&inv);
    inv.delete_ip_range(&a, r.id).unwrap();
    expect(&inv, n, "IP_RANGE", "DELETE");
    let n = count(&inv);
    inv.delete_host(&a, h.id).unwrap();
    expect(&inv, n, "HOST", "DELETE");
    let n = count(&inv);
    inv.delete_vendor(&a, v.id).unwrap();
    expect(&inv, n, "VENDOR", "DELETE");
    let n = count(&inv);
    inv.delete_project(&a, p.id).unwrap();
    expect(&inv, n, "PROJECT", "DELETE");
}

#[test]
fn a_change_whose_audit_row_fails_is_not_made() {
    let (_d, path, mut inv) = open();
    let a = Actor::system();
    inv.create_ip_asset(&a, &NewIpAsset::new("10.0.0.1", AssetType::Vm))
        .unwrap();
    // make every audit insert fail from now on
    let raw = rusqlite::Connection::open(&path).unwrap();
    raw.execute_batch(
        "CREATE TRIGGER no_audit BEFORE INSERT ON audit_logs BEGIN SELECT RAISE(ABORT, 'audit unavailable'); END;",
    )
    .unwrap();
    assert!(inv.create_project(&a, "Core", None, None).is_err());
    assert!(inv.projects().unwrap().is_empty());
    assert!(inv.archive_ip_asset(&a, "10.0.0.1").is_err());
    assert!(!inv.ip_asset("10.0.0.1").unwrap().archived);
    assert!(inv
        .create_ip_asset(&a, &NewIpAsset::new("10.0.0.2", AssetType::Vm))
        .is_err());
    assert!(inv.ip_asset("10.0.0.2").is_err());
    let plan = inv
        .plan(
            parse_bundle_json(br#"{"schema_version":"1","data":{"ip_assets":[{"ip_address":"10.0.0.3","type":"VM"}]}}"#).unwrap(),
            &ImportOptions::default(),
        )
        .unwrap();
    assert!(inv.apply(&a, &plan).is_err());
    assert!(inv.ip_asset("10.0.0.3").is_err());
}
