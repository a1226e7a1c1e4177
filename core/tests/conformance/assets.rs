//! IP assets on both backends: create, restore, update, archive, delete, with audit rows.

use ipocket_core::{
    Actor, AssetType, AuditFilter, BulkEdit, Error, IpAssetPatch, NewIpAsset, Page,
};
use ipocket_db::Backend;

use crate::fresh;

fn an_asset_is_created_read_updated_archived_restored_and_deleted(b: Backend) {
    let (db, mut inv) = fresh(b);
    let actor = Actor::system();
    let mut new = NewIpAsset::new("10.0.0.1", AssetType::Vm);
    new.tags = vec!["prod".into(), "edge".into()];
    new.notes = Some("first".into());
    let a = inv.create_ip_asset(&actor, &new).unwrap();
    assert_eq!(a.ip_address, "10.0.0.1");
    assert_eq!(a.tags, vec!["edge", "prod"]);
    assert_eq!(inv.ip_asset("10.0.0.1").unwrap(), a);
    let e = inv.create_ip_asset(&actor, &new).unwrap_err();
    assert!(matches!(e, Error::Conflict(_)), "{e}");

    let patch = IpAssetPatch {
        notes: Some(None),
        tags: Some(vec!["prod".into()]),
        ..Default::default()
    };
    let u = inv.update_ip_asset(&actor, "10.0.0.1", &patch).unwrap();
    assert_eq!((u.notes, u.tags), (None, vec!["prod".to_string()]));
    assert!(inv.archive_ip_asset(&actor, "10.0.0.1").unwrap().archived);
    let back = inv
        .create_ip_asset(&actor, &NewIpAsset::new("10.0.0.1", AssetType::Os))
        .unwrap();
    assert_eq!(
        (back.id, back.archived, back.asset_type),
        (a.id, false, AssetType::Os)
    );
    inv.delete_ip_asset(&actor, "10.0.0.1").unwrap();
    assert!(matches!(
        inv.ip_asset("10.0.0.1"),
        Err(Error::NotFound { .. })
    ));

    let actions: Vec<String> = inv
        .audit_log(
            &AuditFilter {
                target_label: Some("10.0.0.1".into()),
                ..Default::default()
            },
            Page::default(),
        )
        .unwrap()
        .items
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(
        actions,
        ["DELETE", "RESTORE", "ARCHIVE", "UPDATE", "CREATE"]
    );
    assert_eq!(
        db.count("SELECT COUNT(*) FROM tags"),
        2,
        "tags are created once"
    );
}

fn a_bulk_edit_is_all_or_nothing(b: Backend) {
    let (db, mut inv) = fresh(b);
    let actor = Actor::system();
    for ip in ["10.0.0.1", "10.0.0.2"] {
        inv.create_ip_asset(&actor, &NewIpAsset::new(ip, AssetType::Vm))
            .unwrap();
    }
    let edit = BulkEdit {
        add_tags: vec!["edge".into()],
        ..Default::default()
    };
    let e = inv
        .bulk_update_ip_assets(&actor, &["10.0.0.1", "10.0.0.9"], &edit)
        .unwrap_err();
    assert!(matches!(e, Error::NotFound { .. }), "{e}");
    assert!(
        inv.ip_asset("10.0.0.1").unwrap().tags.is_empty(),
        "rolled back"
    );
    assert_eq!(db.count("SELECT COUNT(*) FROM tags"), 0);
    assert_eq!(
        inv.bulk_update_ip_assets(&actor, &["10.0.0.1", "10.0.0.2"], &edit)
            .unwrap(),
        2
    );
    assert_eq!(inv.ip_asset("10.0.0.2").unwrap().tags, vec!["edge"]);
}

fn an_ipv6_address_is_stored_canonically(b: Backend) {
    let (_db, mut inv) = fresh(b);
    let a = inv
        .create_ip_asset(
            &Actor::system(),
            &NewIpAsset::new("2001:DB8:0::1", AssetType::Vip),
        )
        .unwrap();
    assert_eq!(a.ip_address, "2001:db8::1");
    assert_eq!(inv.ip_asset("2001:db8:0:0::1").unwrap().id, a.id);
}

ipocket_testkit::on_both_backends!(
    an_asset_is_created_read_updated_archived_restored_and_deleted,
    a_bulk_edit_is_all_or_nothing,
    an_ipv6_address_is_stored_canonically,
);
