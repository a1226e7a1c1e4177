//! IP asset rules on a real SQLite file: restore-on-recreate, canonical IPv6,
//! filters, pagination and the audit trail.

use ipocket_core::*;

fn open() -> (tempfile::TempDir, Inventory) {
    let dir = tempfile::tempdir().unwrap();
    let inv = Inventory::open(dir.path().join("inv.db")).unwrap();
    (dir, inv)
}

#[test]
fn creating_an_archived_ip_restores_the_same_row() {
    let (_d, mut inv) = open();
    let sys = Actor::system();
    let first = inv
        .create_ip_asset(
            &sys,
            &NewIpAsset {
                notes: Some("old".into()),
                tags: vec!["a".into()],
                ..NewIpAsset::new("10.0.0.5", AssetType::Vm)
            },
        )
        .unwrap();
    assert!(matches!(
        inv.create_ip_asset(&sys, &NewIpAsset::new("10.0.0.5", AssetType::Os)),
        Err(Error::Conflict(_))
    ));
    inv.archive_ip_asset(&sys, "10.0.0.5").unwrap();
    let again = inv
        .create_ip_asset(&sys, &NewIpAsset::new("10.0.0.5", AssetType::Os))
        .unwrap();
    assert_eq!(again.id, first.id);
    assert!(!again.archived);
    assert_eq!(again.asset_type, AssetType::Os);
    assert_eq!(again.notes, None);
    assert!(again.tags.is_empty());
    let log = inv
        .audit_log(
            &AuditFilter {
                target_label: Some("10.0.0.5".into()),
                ..Default::default()
            },
            Page::all(),
        )
        .unwrap();
    let actions: Vec<_> = log.items.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["RESTORE", "ARCHIVE", "CREATE"]);
    let restore = &log.items[0];
    assert!(restore.changes.contains(&FieldChange::new(
        "type",
        Some("VM".into()),
        Some("OS".into())
    )));
    assert!(restore.changes.contains(&FieldChange::new(
        "archived",
        Some("true".into()),
        Some("false".into())
    )));
}

#[test]
fn ipv6_spellings_are_one_address() {
    let (_d, mut inv) = open();
    let sys = Actor::system();
    inv.create_ip_asset(&sys, &NewIpAsset::new("2001:DB8:0:0::1", AssetType::Vm))
        .unwrap();
    assert!(matches!(
        inv.create_ip_asset(&sys, &NewIpAsset::new("2001:db8::1", AssetType::Vm)),
        Err(Error::Conflict(_))
    ));
    assert_eq!(
        inv.ip_asset("2001:0db8::0001").unwrap().ip_address,
        "2001:db8::1"
    );
    assert!(matches!(
        inv.ip_asset("10.0.0.256"),
        Err(Error::Invalid { .. })
    ));
    assert!(matches!(
        inv.ip_asset("10.9.9.9"),
        Err(Error::NotFound { .. })
    ));
}

#[test]
fn update_changes_named_fields_and_audits_before_after() {
    let (_d, mut inv) = open();
    let sys = Actor::system();
    let p = inv.create_project(&sys, "Core", None, None).unwrap();
    inv.create_ip_asset(
        &sys,
        &NewIpAsset {
            notes: Some("keep".into()),
            ..NewIpAsset::new("10.0.0.1", AssetType::Vm)
        },
    )
    .unwrap();
    let patch = IpAssetPatch {
        project_id: Some(Some(p.id)),
        tags: Some(vec!["Edge".into(), "prod".into()]),
        ..Default::default()
    };
    let a = inv.update_ip_asset(&sys, "10.0.0.1", &patch).unwrap();
    assert_eq!(a.project_name.as_deref(), Some("Core"));
    assert_eq!(a.notes.as_deref(), Some("keep"));
    assert_eq!(a.tags, vec!["edge", "prod"]);
    let log = inv
        .audit_log(
            &AuditFilter {
                target_type: Some("IP_ASSET".into()),
                ..Default::default()
            },
            Page::all(),
        )
        .unwrap();
    assert_eq!(
        log.items[0].changes,
        vec![
            FieldChange::new("project", None, Some("Core".into())),
            FieldChange::new("tags", None, Some("edge, prod".into())),
        ]
    );
    // clearing with Some(None)
    let a = inv
        .update_ip_asset(
            &sys,
            "10.0.0.1",
            &IpAssetPatch {
                project_id: Some(None),
                notes: Some(None),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!((a.project_id, a.notes), (None, None));
    // a no-op update writes no audit row
    let before = inv
        .audit_log(&AuditFilter::default(), Page::all())
        .unwrap()
        .total;
    inv.update_ip_asset(
        &sys,
        "10.0.0.1",
        &IpAssetPatch {
            asset_type: Some(AssetType::Vm),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(
        inv.audit_log(&AuditFilter::default(), Page::all())
            .unwrap()
            .total,
        before
    );
    // unknown project
    assert!(matches!(
        inv.update_ip_asset(
            &sys,
            "10.0.0.1",
            &IpAssetPatch {
                project_id: Some(Some(99)),
                ..Default::default()
            }
        ),
        Err(Error::NotFound { .. })
    ));
}

#[test]
fn a_viewer_cannot_write_assets_an_editor_and_an_admin_can() {
    let (_d, mut inv) = open();
    let v = inv
        .create_user(&Actor::system(), "v", "pw", Role::Viewer)
        .unwrap();
    assert!(matches!(
        inv.create_ip_asset(
            &Actor::user(&v),
            &NewIpAsset::new("10.0.0.1", AssetType::Vm)
        ),
        Err(Error::Forbidden(_))
    ));
    // Admin is a superset of Editor (the original refused it every data write).
    let ad = inv
        .create_user(&Actor::system(), "ad", "pw", Role::Admin)
        .unwrap();
    inv.create_ip_asset(
        &Actor::user(&ad),
        &NewIpAsset::new("10.0.0.2", AssetType::Vm),
    )
    .unwrap();
    let ed = inv
        .create_user(&Actor::system(), "ed", "pw", Role::Editor)
        .unwrap();
    inv.create_ip_asset(
        &Actor::user(&ed),
        &NewIpAsset::new("10.0.0.1", AssetType::Vm),
    )
    .unwrap();
    let log = inv
        .audit_log(
            &AuditFilter {
                target_type: Some("IP_ASSET".into()),
                ..Default::default()
            },
            Page::all(),
        )
        .unwrap();
    assert_eq!(log.items[0].username.as_deref(), Some("ed"));
}

#[test]
fn bmc_auto_host() {
    let (_d, mut inv) = open();
    let sys = Actor::system();
    let auto = |ip: &str, t| NewIpAsset {
        auto_host_for_bmc: true,
        ..NewIpAsset::new(ip, t)
    };
    let a = inv
        .create_ip_asset(&sys, &auto("10.0.0.7", AssetType::Bmc))
        .unwrap();
    assert_eq!(a.host_name.as_deref(), Some("server_10.0.0.7"));
    // The host is audited as created for the BMC.
    let log = inv
        .audit_log(
            &AuditFilter {
                target_type: Some("HOST".into()),
                ..Default::default()
            },
            Page::all(),
        )
        .unwrap();
    assert_eq!(
        (log.items.len(), log.items[0].target_label.as_str()),
        (1, "server_10.0.0.7")
    );
    // An existing host of that name is reused; a given host wins; other types get none.
    let h = inv
        .create_host(&sys, "server_10.0.0.8", None, None)
        .unwrap();
    let a = inv
        .create_ip_asset(&sys, &auto("10.0.0.8", AssetType::Bmc))
        .unwrap();
    assert_eq!(a.host_id, Some(h.id));
    let given = NewIpAsset {
        host_id: Some(h.id),
        ..auto("10.0.0.9", AssetType::Bmc)
    };
    assert_eq!(
        inv.create_ip_asset(&sys, &given).unwrap().host_id,
        Some(h.id)
    );
    let vm = inv.create_ip_asset(&sys, &auto("10.0.0.10", AssetType::Vm));
    assert_eq!(vm.unwrap().host_id, None);
    // Off (the default of the library, imports and connectors): no host.
    let off = inv
        .create_ip_asset(&sys, &NewIpAsset::new("10.0.0.11", AssetType::Bmc))
        .unwrap();
    assert_eq!(off.host_id, None);
    // Re-creating an archived BMC (a restore) links it too, as the original did.
    inv.archive_ip_asset(&sys, "10.0.0.11").unwrap();
    let back = inv
        .create_ip_asset(&sys, &auto("10.0.0.11", AssetType::Bmc))
        .unwrap();
    assert_eq!(back.host_name.as_deref(), Some("server_10.0.0.11"));
    assert_eq!(inv.hosts().unwrap().len(), 3);
}

#[test]
fn filters_search_and_pagination() {
    let (_d, mut inv) = open();
    let sys = Actor::system();
    let core = inv.create_project(&sys, "Core", None, None).unwrap();
    let h = inv.create_host(&sys, "node-01", None, None).unwrap();
    let add = |inv: &mut Inventory,
               ip: &str,
               t,
               p: Option<i64>,
               host: Option<i64>,
               tags: &[&str],
               notes: &str| {
        inv.create_ip_asset(
            &sys,
            &NewIpAsset {
                project_id: p,
                host_id: host,
                tags: tags.iter().map(|s| s.to_string()).collect(),
                notes: Some(notes.to_string()),
                ..NewIpAsset::new(ip, t)
            },
        )
        .unwrap();
    };
    add(
        &mut inv,
        "10.0.0.1",
        AssetType::Os,
        Some(core.id),
        Some(h.id),
        &["prod", "edge"],
        "primary web",
    );
    add(
        &mut inv,
        "10.0.0.2",
        AssetType::Bmc,
        Some(core.id),
        Some(h.id),
        &["prod"],
        "",
    );
    add(
        &mut inv,
        "10.0.1.1",
        AssetType::Vm,
        None,
        None,
        &["lab"],
        "100% test_box",
    );
    add(
        &mut inv,
        "2001:db8::10",
        AssetType::Vm,
        None,
        None,
        &[],
        "v6",
    );
    add(&mut inv, "10.0.0.3", AssetType::Vm, None, None, &[], "gone");
    inv.archive_ip_asset(&sys, "10.0.0.3").unwrap();

    let ips = |f: AssetFilter| -> Vec<String> {
        inv.list_ip_assets(&f, Page::all())
            .unwrap()
            .items
            .into_iter()
            .map(|a| a.ip_address)
            .collect()
    };
    assert_eq!(
        ips(AssetFilter::default()),
        ["10.0.0.1", "10.0.0.2", "10.0.1.1", "2001:db8::10"]
    );
    assert_eq!(
        ips(AssetFilter {
            ip: Some("10.0.0.0/24".into()),
            ..Default::default()
        }),
        ["10.0.0.1", "10.0.0.2"]
    );
    assert_eq!(
        ips(AssetFilter {
            ip: Some("2001:db8::/64".into()),
            ..Default::default()
        }),
        ["2001:db8::10"]
    );
    assert_eq!(
        ips(AssetFilter {
            ip: Some("10.0.1.1".into()),
            ..Default::default()
        }),
        ["10.0.1.1"]
    );
    assert_eq!(
        ips(AssetFilter {
            project: Some(ProjectFilter::Name("Core".into())),
            ..Default::default()
        })
        .len(),
        2
    );
    assert_eq!(
        ips(AssetFilter {
            unassigned_only: true,
            ..Default::default()
        }),
        ["10.0.1.1", "2001:db8::10"]
    );
    assert_eq!(
        ips(AssetFilter {
            asset_type: Some(AssetType::Bmc),
            ..Default::default()
        }),
        ["10.0.0.2"]
    );
    assert_eq!(
        ips(AssetFilter {
            host: Some("node-01".into()),
            ..Default::default()
        })
        .len(),
        2
    );
    assert_eq!(
        ips(AssetFilter {
            tags_any: vec!["edge".into(), "lab".into()],
            ..Default::default()
        }),
        ["10.0.0.1", "10.0.1.1"]
    );
    assert_eq!(
        ips(AssetFilter {
            tags_all: vec!["prod".into(), "edge".into()],
            ..Default::default()
        }),
        ["10.0.0.1"]
    );
    assert_eq!(
        ips(AssetFilter {
            tags_not: vec!["prod".into()],
            ..Default::default()
        }),
        ["10.0.1.1", "2001:db8::10"]
    );
    assert_eq!(
        ips(AssetFilter {
            archived: ArchivedFilter::Archived,
            ..Default::default()
        }),
        ["10.0.0.3"]
    );
    assert_eq!(
        ips(AssetFilter {
            archived: ArchivedFilter::All,
            ..Default::default()
        })
        .len(),
        5
    );
    assert_eq!(
        ips(AssetFilter {
            text: Some("WEB".into()),
            ..Default::default()
        }),
        ["10.0.0.1"]
    );
    assert_eq!(
        ips(AssetFilter {
            text: Some("node-".into()),
            ..Default::default()
        })
        .len(),
        2
    );
    assert_eq!(
        ips(AssetFilter {
            text: Some("100%".into()),
            ..Default::default()
        }),
        ["10.0.1.1"]
    );
    assert_eq!(
        ips(AssetFilter {
            text: Some("%".into()),
            ..Default::default()
        }),
        ["10.0.1.1"]
    );
    assert_eq!(
        ips(AssetFilter {
            text: Some("core".into()),
            ..Default::default()
        })
        .len(),
        2
    );
    assert!(inv
        .list_ip_assets(
            &AssetFilter {
                ip: Some("10.0.0.0/33".into()),
                ..Default::default()
            },
            Page::all()
        )
        .is_err());

    let p2 = inv
        .list_ip_assets(&AssetFilter::default(), Page::number(2, 3))
        .unwrap();
    assert_eq!(p2.total, 4);
    assert_eq!(p2.items.len(), 1);
    assert_eq!(p2.items[0].ip_address, "2001:db8::10");
}

#[test]
fn deleting_project_or_host_unlinks_assets() {
    let (_d, mut inv) = open();
    let sys = Actor::system();
    let p = inv.create_project(&sys, "Core", None, None).unwrap();
    let h = inv.create_host(&sys, "h", None, None).unwrap();
    inv.create_ip_asset(
        &sys,
        &NewIpAsset {
            project_id: Some(p.id),
            host_id: Some(h.id),
            ..NewIpAsset::new("10.0.0.1", AssetType::Os)
        },
    )
    .unwrap();
    inv.delete_project(&sys, p.id).unwrap();
    inv.delete_host(&sys, h.id).unwrap();
    let a = inv.ip_asset("10.0.0.1").unwrap();
    assert_eq!((a.project_id, a.host_id), (None, None));
    inv.delete_ip_asset(&sys, "10.0.0.1").unwrap();
    assert!(matches!(
        inv.ip_asset("10.0.0.1"),
        Err(Error::NotFound { .. })
    ));
}
