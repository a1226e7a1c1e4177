//! Text limits on every entry path (create, update, import) and IPv4-mapped addresses
//! stored once.

use ipocket_core::import::parse_file;
use ipocket_core::*;

fn inventory(max_text_chars: usize) -> Inventory {
    let mut inv = Inventory::open_in_memory().unwrap();
    inv.set_input_limits(InputLimits {
        max_text_chars,
        ..InputLimits::default()
    });
    inv
}

/// The field an `Error::Invalid` names, or a panic with what came instead.
fn invalid_field<T: std::fmt::Debug>(r: Result<T>) -> String {
    match r {
        Err(Error::Invalid { field, message }) => {
            assert!(message.contains("is longer than"), "{message}");
            field
        }
        other => panic!("expected a length error, got {other:?}"),
    }
}

#[test]
fn every_create_and_update_checks_names_and_texts() {
    let mut inv = inventory(20);
    let a = Actor::system();
    let long_text = "n".repeat(21);
    let long_name = "x".repeat(MAX_NAME_CHARS + 1);
    let ok_text = "é".repeat(20);

    assert_eq!(
        invalid_field(inv.create_project(&a, &long_name, None, None)),
        "project name"
    );
    assert_eq!(
        invalid_field(inv.create_project(&a, "p", Some(&long_text), None)),
        "description"
    );
    let p = inv.create_project(&a, "p", Some(&ok_text), None).unwrap();
    assert_eq!(
        invalid_field(inv.update_project(&a, p.id, None, Some(Some(&long_text)), None)),
        "description"
    );
    assert_eq!(
        invalid_field(inv.create_vendor(&a, &long_name)),
        "vendor name"
    );
    let v = inv.create_vendor(&a, "v").unwrap();
    assert_eq!(
        invalid_field(inv.update_vendor(&a, v.id, &long_name)),
        "vendor name"
    );
    assert_eq!(invalid_field(inv.create_tag(&a, &long_name, None)), "tag");
    assert_eq!(
        invalid_field(inv.create_host(&a, "h", Some(&long_text), None)),
        "notes"
    );
    assert_eq!(
        invalid_field(inv.create_host(&a, &long_name, None, None)),
        "host name"
    );
    let h = inv.create_host(&a, "h", None, None).unwrap();
    assert_eq!(
        invalid_field(inv.update_host(&a, h.id, None, Some(Some(&long_text)), None)),
        "notes"
    );
    assert_eq!(
        invalid_field(inv.create_ip_range(&a, "r", "10.0.0.0/24", Some(&long_text))),
        "notes"
    );
    let r = inv.create_ip_range(&a, "r", "10.0.0.0/24", None).unwrap();
    assert_eq!(
        invalid_field(inv.update_ip_range(&a, r.id, Some(&long_name), None)),
        "range name"
    );
    let mut n = NewIpAsset::new("10.0.0.1", AssetType::Vm);
    n.notes = Some(long_text.clone());
    assert_eq!(invalid_field(inv.create_ip_asset(&a, &n)), "notes");
    assert_eq!(invalid_field(inv.allocate_next(&a, r.id, &n)), "notes");
    n.notes = None;
    n.tags = vec![long_name.clone()];
    assert_eq!(invalid_field(inv.create_ip_asset(&a, &n)), "tag");
    n.tags.clear();
    inv.create_ip_asset(&a, &n).unwrap();
    let patch = IpAssetPatch {
        notes: Some(Some(long_text.clone())),
        ..Default::default()
    };
    assert_eq!(
        invalid_field(inv.update_ip_asset(&a, "10.0.0.1", &patch)),
        "notes"
    );
    let bulk = BulkEdit {
        notes: Some(Some(long_text.clone())),
        ..Default::default()
    };
    assert_eq!(
        invalid_field(inv.bulk_update_ip_assets(&a, &["10.0.0.1"], &bulk)),
        "notes"
    );
    assert_eq!(
        invalid_field(inv.create_user(&a, &long_name, "a-long-password", Role::Viewer)),
        "username"
    );
    // nothing of the refused calls was written
    assert_eq!(
        inv.projects().unwrap()[0].description.as_deref(),
        Some(&*ok_text)
    );
    assert_eq!(inv.ip_asset("10.0.0.1").unwrap().notes, None);
    assert_eq!(inv.hosts().unwrap().len(), 1);
}

#[test]
fn a_note_stored_before_the_limit_does_not_block_other_edits() {
    let mut inv = inventory(4096);
    let a = Actor::system();
    let mut n = NewIpAsset::new("10.0.0.1", AssetType::Vm);
    n.notes = Some("n".repeat(100));
    inv.create_ip_asset(&a, &n).unwrap();
    inv.set_input_limits(InputLimits {
        max_text_chars: 10,
        ..InputLimits::default()
    });
    // the web UI sends every field again, the old note included
    let patch = IpAssetPatch {
        asset_type: Some(AssetType::Os),
        notes: Some(n.notes.clone()),
        ..Default::default()
    };
    assert_eq!(
        inv.update_ip_asset(&a, "10.0.0.1", &patch)
            .unwrap()
            .asset_type,
        AssetType::Os
    );
}

#[test]
fn imports_locate_every_field_over_its_limit() {
    let inv = inventory(10);
    let long_name = "x".repeat(MAX_NAME_CHARS + 1);
    let bundle = serde_json::json!({"app": "ipocket", "schema_version": "1", "data": {
        "projects": [{"name": "p", "description": "d".repeat(11)}],
        "hosts": [{"name": "h", "notes": "n".repeat(11), "vendor_name": long_name}],
        "ip_ranges": [{"name": long_name, "cidr": "10.0.0.0/24", "notes": "n".repeat(11)}],
        "ip_assets": [
            {"ip_address": "10.0.0.1", "type": "VM", "notes": "ok"},
            {"ip_address": "10.0.0.2", "type": "VM", "notes": "n".repeat(11), "host_name": long_name},
        ],
    }});
    let b = parse_bundle_json(bundle.to_string().as_bytes()).unwrap();
    let Err(Error::Import(ImportErrors(issues))) = inv.plan(b, &ImportOptions::default()) else {
        panic!("expected import errors");
    };
    let mut at: Vec<&str> = issues.iter().map(|i| i.location.as_str()).collect();
    at.sort_unstable();
    assert_eq!(
        at,
        [
            "data.hosts[0].notes",
            "data.hosts[0].vendor_name",
            "data.ip_assets[1].host_name",
            "data.ip_assets[1].notes",
            "data.ip_ranges[0].name",
            "data.ip_ranges[0].notes",
            "data.projects[0].description",
        ]
    );
    assert!(issues
        .iter()
        .any(|i| i.message == "notes is longer than 10 characters (11)"));

    // CSV rows are located by line and column; the streamed import checks the same
    let csv = format!(
        "ip_address,type,project_name,host_name,notes,archived\n10.0.0.1,VM,,,{},\n",
        "n".repeat(11)
    );
    let b = parse_file("ip-assets.csv", csv.as_bytes(), "t").unwrap();
    let Err(Error::Import(ImportErrors(issues))) = inv.plan(b, &ImportOptions::default()) else {
        panic!("expected import errors");
    };
    assert_eq!(issues[0].location, "ip-assets.csv:2:5");
    let mut inv = inv;
    let streamed = inv.import_stream(
        import::StreamSource::bytes("ip-assets.csv", csv.as_bytes()),
        &import::StreamOptions::dry_run(ImportOptions::default()),
        &mut |_| Ok(()),
    );
    let Err(Error::Import(ImportErrors(issues))) = streamed else {
        panic!("expected import errors, got {streamed:?}");
    };
    assert_eq!(issues[0].location, "ip-assets.csv:2:5");
}

#[test]
fn ipv4_mapped_addresses_are_the_ipv4_address() {
    let mut inv = Inventory::open_in_memory().unwrap();
    let a = Actor::system();
    let created = inv
        .create_ip_asset(&a, &NewIpAsset::new("::ffff:10.0.0.1", AssetType::Vm))
        .unwrap();
    assert_eq!(created.ip_address, "10.0.0.1");
    assert!(matches!(
        inv.create_ip_asset(&a, &NewIpAsset::new("10.0.0.1", AssetType::Vm)),
        Err(Error::Conflict(_))
    ));
    assert_eq!(inv.ip_asset("::FFFF:a00:1").unwrap().id, created.id);
    let r = inv
        .create_ip_range(&a, "mapped", "::ffff:10.0.0.0/120", None)
        .unwrap();
    assert_eq!(r.cidr, "10.0.0.0/24");
    assert_eq!(inv.range_utilization(r.id).unwrap().used, 1);
    let (h, assets) = inv
        .create_host_with_addresses(&a, "h", None, None, None, &["::ffff:10.0.0.2"], &[])
        .unwrap();
    assert_eq!(assets[0].ip_address, "10.0.0.2");
    assert_eq!(h.name, "h");
    // an import (and so every connector's bundle) names the address once
    let b = parse_bundle_json(
        br#"{"schema_version":"1","data":{"ip_assets":[
            {"ip_address":"::ffff:10.0.0.3","type":"VM"},{"ip_address":"10.0.0.3","type":"VM"}]}}"#,
    )
    .unwrap();
    let Err(Error::Import(ImportErrors(issues))) = inv.plan(b, &ImportOptions::default()) else {
        panic!("the same address twice must be refused");
    };
    assert_eq!(issues[0].location, "data.ip_assets[1].ip_address");
    assert_eq!(
        inv.list_ip_assets(&AssetFilter::default(), Page::all())
            .unwrap()
            .total,
        2
    );
}
