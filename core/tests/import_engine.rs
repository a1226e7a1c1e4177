//! The import engine on a real SQLite file: plan is a dry run, apply is all or
//! nothing, update semantics per field, errors located and reported together.

use ipocket_core::import::{parse_csv, CsvFile, CsvKind, ImportEntity};
use ipocket_core::*;

fn open() -> (tempfile::TempDir, Inventory) {
    let dir = tempfile::tempdir().unwrap();
    let inv = Inventory::open(dir.path().join("inv.db")).unwrap();
    (dir, inv)
}

fn bundle(json: &str) -> Bundle {
    parse_bundle_json(json.as_bytes()).unwrap()
}

fn run(inv: &mut Inventory, json: &str) -> ImportPlan {
    let plan = inv.plan(bundle(json), &ImportOptions::default()).unwrap();
    inv.apply(&Actor::system(), &plan).unwrap();
    plan
}

const SAMPLE: &str = r##"{"app":"ipocket","schema_version":"1","data":{
  "vendors":[{"name":"HPE"}],
  "projects":[{"name":"Core","description":"","color":"#94a3b8"}],
  "hosts":[{"name":"node-01","notes":"","vendor_name":"HPE"}],
  "ip_assets":[{"ip_address":"10.0.0.10","type":"VM","project_name":"Core","host_name":"node-01","tags":["prod","edge"],"notes":"","archived":false}]}}"##;

#[test]
fn dry_run_counts_and_writes_nothing() {
    let (_d, mut inv) = open();
    let plan = inv.plan(bundle(SAMPLE), &ImportOptions::default()).unwrap();
    let s = plan.summary;
    assert_eq!(
        (
            s.vendors.create,
            s.projects.create,
            s.hosts.create,
            s.ip_assets.create
        ),
        (1, 1, 1, 1)
    );
    assert_eq!(s.tags.create, 2, "tags named by assets are created");
    assert_eq!(s.total.create, 6);
    assert!(inv
        .list_ip_assets(&AssetFilter::default(), Page::all())
        .unwrap()
        .items
        .is_empty());
    assert!(inv.projects().unwrap().is_empty());
    assert_eq!(
        inv.audit_log(&AuditFilter::default(), Page::all())
            .unwrap()
            .total,
        0
    );

    let legacy = plan.original_result_json();
    assert_eq!(legacy["summary"]["ip_assets"]["would_create"], 1);
    assert_eq!(legacy["summary"]["total"]["would_create"], 6);
    assert_eq!(legacy["errors"], serde_json::json!([]));
    let report = inv.apply(&Actor::system(), &plan).unwrap();
    assert_eq!(report.summary, plan.summary);
    let a = inv.ip_asset("10.0.0.10").unwrap();
    assert_eq!(
        (a.project_name.as_deref(), a.host_name.as_deref()),
        (Some("Core"), Some("node-01"))
    );
    assert_eq!(a.tags, vec!["edge", "prod"]);
    // one audit row per created record plus the IMPORT_RUN row
    let log = inv.audit_log(&AuditFilter::default(), Page::all()).unwrap();
    assert_eq!(log.total, 7);
    let run_row = &log.items[0];
    assert_eq!(
        (run_row.target_type.as_str(), run_row.action.as_str()),
        ("IMPORT_RUN", "APPLY")
    );
    assert_eq!(
        run_row.message.as_deref(),
        Some("Import apply source=bundle.json; create=6; update=0; skip=0; warnings=0.")
    );
    assert_eq!(run_row.id, report.import_run_audit_id);

    // the same bundle again: everything skips, nothing but the run row is written
    let again = run(&mut inv, SAMPLE);
    assert_eq!(
        again.summary.total.skip, 4,
        "vendor, project, host, asset (tags only named are not listed)"
    );
    assert_eq!(again.summary.total.create + again.summary.total.update, 0);
    assert_eq!(
        inv.audit_log(&AuditFilter::default(), Page::all())
            .unwrap()
            .total,
        8
    );
}

#[test]
fn create_items_list_every_value() {
    let (_d, inv) = open();
    let plan = inv.plan(bundle(SAMPLE), &ImportOptions::default()).unwrap();
    let it = plan.items().last().unwrap();
    assert_eq!(
        (it.key, it.location.as_str(), it.action),
        ("10.0.0.10", "data.ip_assets[0]", ImportAction::Create)
    );
    let fields: Vec<_> = it
        .changes
        .iter()
        .map(|c| (c.field.as_ref(), c.after.as_deref()))
        .collect();
    assert_eq!(
        fields,
        [
            ("type", Some("VM")),
            ("project", Some("Core")),
            ("host", Some("node-01")),
            ("tags", Some("edge, prod"))
        ]
    );
    let json = serde_json::to_value(&plan).unwrap();
    assert_eq!(json["items"][5]["changes"][0]["after"], "VM");
    assert_eq!(json["items"].as_array().unwrap().len(), plan.items().len());
}

#[test]
fn update_changes_only_provided_fields() {
    let (_d, mut inv) = open();
    run(&mut inv, SAMPLE);
    let plan = run(
        &mut inv,
        r#"{"schema_version":"1","data":{"ip_assets":[{"ip_address":"10.0.0.10","notes":"hello"}]}}"#,
    );
    let it = plan
        .items()
        .find(|i| i.entity == ImportEntity::IpAsset)
        .unwrap();
    assert_eq!(it.action, ImportAction::Update);
    assert_eq!(
        it.changes.as_ref(),
        [FieldChange::new("notes", None, Some("hello".into()))]
    );
    let a = inv.ip_asset("10.0.0.10").unwrap();
    assert_eq!(a.asset_type, AssetType::Vm);
    assert_eq!(a.project_name.as_deref(), Some("Core"));
    assert_eq!(a.tags, vec!["edge", "prod"]);
    let log = inv
        .audit_log(
            &AuditFilter {
                target_label: Some("10.0.0.10".into()),
                ..Default::default()
            },
            Page::all(),
        )
        .unwrap();
    assert_eq!(log.items[0].changes, it.changes.as_ref());
}

#[test]
fn preserve_flags_and_tag_merge_vs_replace() {
    let (_d, mut inv) = open();
    run(&mut inv, SAMPLE);
    run(
        &mut inv,
        r#"{"schema_version":"1","data":{"ip_assets":[{"ip_address":"10.0.0.10","notes":"manual"}]}}"#,
    );
    let plan = run(
        &mut inv,
        r#"{"schema_version":"1","data":{"ip_assets":[{"ip_address":"10.0.0.10","type":"OTHER","notes":"from connector",
            "preserve_existing_notes":true,"preserve_existing_type":true,"merge_tags":true,"tags":["esxi"]}]}}"#,
    );
    let it = plan
        .items()
        .find(|i| i.entity == ImportEntity::IpAsset)
        .unwrap();
    assert_eq!(it.warnings, ["notes preserved (existing note kept)"]);
    let a = inv.ip_asset("10.0.0.10").unwrap();
    assert_eq!(a.notes.as_deref(), Some("manual"));
    assert_eq!(a.asset_type, AssetType::Vm);
    assert_eq!(a.tags, vec!["edge", "esxi", "prod"]);
    // replace (no merge_tags) and notes replaced
    run(
        &mut inv,
        r#"{"schema_version":"1","data":{"ip_assets":[{"ip_address":"10.0.0.10","tags":["x"],"notes":"new","type":"OS"}]}}"#,
    );
    let a = inv.ip_asset("10.0.0.10").unwrap();
    assert_eq!(
        (a.tags.clone(), a.notes.as_deref(), a.asset_type),
        (vec!["x".to_string()], Some("new"), AssetType::Os)
    );
    // preserve_existing_notes with an empty existing note takes the new one
    run(
        &mut inv,
        r#"{"schema_version":"1","data":{"ip_assets":[{"ip_address":"10.0.0.10","notes":""}]}}"#,
    );
    run(
        &mut inv,
        r#"{"schema_version":"1","data":{"ip_assets":[{"ip_address":"10.0.0.10","notes":"filled","preserve_existing_notes":true}]}}"#,
    );
    assert_eq!(
        inv.ip_asset("10.0.0.10").unwrap().notes.as_deref(),
        Some("filled")
    );
}

#[test]
fn import_can_unarchive_and_archive() {
    let (_d, mut inv) = open();
    run(
        &mut inv,
        r#"{"schema_version":"1","data":{"ip_assets":[{"ip_address":"10.0.0.1","type":"VM","archived":true}]}}"#,
    );
    let a = inv.ip_asset("10.0.0.1").unwrap();
    assert!(a.archived);
    run(
        &mut inv,
        r#"{"schema_version":"1","data":{"ip_assets":[{"ip_address":"10.0.0.1","archived":false}]}}"#,
    );
    let b = inv.ip_asset("10.0.0.1").unwrap();
    assert!(!b.archived);
    assert_eq!(a.id, b.id);
}

#[test]
fn every_reference_error_reported_and_nothing_written() {
    let (_d, inv) = open();
    let b = bundle(
        r#"{"schema_version":"1","data":{
        "hosts":[{"name":"h1","vendor_name":"Nope"}],
        "ip_assets":[{"ip_address":"10.0.0.1","type":"VM","project_name":"Ghost"},
                     {"ip_address":"10.0.0.2","type":"VM","host_name":"h9"},
                     {"ip_address":"10.0.0.3"},
                     {"ip_address":"10.0.0.4","type":"VM"},
                     {"ip_address":"10.0.0.4","type":"OS"}]}}"#,
    );
    let err = inv.plan(b, &ImportOptions::default()).unwrap_err();
    let Error::Import(ImportErrors(list)) = err else {
        panic!("{err:?}")
    };
    let got: Vec<String> = list.iter().map(ToString::to_string).collect();
    assert_eq!(
        got,
        [
            "data.hosts[0].vendor_name: vendor \"Nope\" does not exist",
            "data.ip_assets[0].project_name: project \"Ghost\" does not exist",
            "data.ip_assets[1].host_name: host \"h9\" does not exist",
            "data.ip_assets[2].type: type is required for a new IP asset",
            "data.ip_assets[4].ip_address: duplicate IP address 10.0.0.4 (first at data.ip_assets[3])",
        ]
    );
    // CSV-style auto-creation is an option
    let ok = inv
        .plan(
            bundle(r#"{"schema_version":"1","data":{"ip_assets":[{"ip_address":"10.0.0.1","type":"VM","project_name":"Ghost"}]}}"#),
            &ImportOptions { create_missing_projects: true, ..Default::default() },
        )
        .unwrap();
    assert_eq!(ok.summary.projects.create, 1);
}

#[test]
fn stale_plan_is_refused() {
    let (_d, mut inv) = open();
    let plan = inv.plan(bundle(SAMPLE), &ImportOptions::default()).unwrap();
    // a data change makes the plan stale
    inv.create_vendor(&Actor::system(), "Dell").unwrap();
    assert!(matches!(
        inv.apply(&Actor::system(), &plan),
        Err(Error::StalePlan)
    ));
    assert!(inv
        .list_ip_assets(&AssetFilter::default(), Page::all())
        .unwrap()
        .items
        .is_empty());
    // logins and user management do not
    let fresh = inv.plan(bundle(SAMPLE), &ImportOptions::default()).unwrap();
    inv.create_user(&Actor::system(), "ed", "pw", Role::Editor)
        .unwrap();
    inv.login("ed", "pw").unwrap().unwrap();
    inv.apply(&Actor::system(), &fresh).unwrap();
}

#[test]
fn failure_in_the_middle_of_apply_rolls_everything_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("inv.db");
    let mut inv = Inventory::open(&path).unwrap();
    let b = bundle(
        r#"{"schema_version":"1","data":{"projects":[{"name":"P"}],"ip_assets":[
        {"ip_address":"10.0.0.1","type":"VM"},{"ip_address":"10.0.0.2","type":"VM"}]}}"#,
    );
    let plan = inv.plan(b, &ImportOptions::default()).unwrap();
    // someone writes behind the engine's back (no audit row, so the plan looks fresh)
    let raw = rusqlite::Connection::open(&path).unwrap();
    raw.execute("INSERT INTO ip_assets (ip_address, ip_family, ip_key, type) VALUES ('10.0.0.2', 4, x'0a000002', 'OS')", []).unwrap();
    assert!(inv.apply(&Actor::system(), &plan).is_err());
    assert!(
        inv.projects().unwrap().is_empty(),
        "project create was rolled back"
    );
    assert!(
        inv.ip_asset("10.0.0.1").is_err(),
        "first asset was rolled back"
    );
    assert_eq!(
        inv.audit_log(&AuditFilter::default(), Page::all())
            .unwrap()
            .total,
        0
    );
}

#[test]
fn viewers_may_plan_but_not_apply() {
    let (_d, mut inv) = open();
    let v = inv
        .create_user(&Actor::system(), "v", "pw", Role::Viewer)
        .unwrap();
    let plan = inv.plan(bundle(SAMPLE), &ImportOptions::default()).unwrap();
    assert!(matches!(
        inv.apply(&Actor::user(&v), &plan),
        Err(Error::Forbidden(_))
    ));
}

#[test]
fn csv_semantics_of_the_original() {
    let (_d, mut inv) = open();
    let hosts = b"name,notes,vendor_name,project_name,os_ip,bmc_ip\nnode-01,Rack 1,HPE,Core,10.0.0.11,10.0.0.12\n";
    let assets = b"ip_address,type,project_name,host_name,tags,notes,archived\n10.0.0.10,VM,Core,node-01,prod,web server,false\n";
    let b = parse_csv(&[
        CsvFile {
            kind: CsvKind::Hosts,
            name: "hosts.csv",
            data: hosts,
        },
        CsvFile {
            kind: CsvKind::IpAssets,
            name: "ip-assets.csv",
            data: assets,
        },
    ])
    .unwrap();
    let plan = inv.plan(b, &ImportOptions::default()).unwrap();
    assert_eq!(
        plan.summary.vendors.create, 1,
        "CSV creates vendors it names"
    );
    assert_eq!(
        plan.summary.projects.create, 1,
        "CSV creates projects it names"
    );
    assert_eq!(plan.summary.ip_assets.create, 3);
    inv.apply(&Actor::system(), &plan).unwrap();
    let os = inv.ip_asset("10.0.0.11").unwrap();
    assert_eq!(
        (
            os.asset_type,
            os.host_name.as_deref(),
            os.project_name.as_deref()
        ),
        (AssetType::Os, Some("node-01"), Some("Core"))
    );
    // an empty notes cell clears; an absent tags column leaves tags alone
    let b = parse_csv(&[CsvFile {
        kind: CsvKind::IpAssets,
        name: "ip-assets.csv",
        data: b"ip_address,type,project_name,host_name,notes,archived\n10.0.0.10,,,,,\n",
    }])
    .unwrap();
    let plan = inv.plan(b, &ImportOptions::default()).unwrap();
    inv.apply(&Actor::system(), &plan).unwrap();
    let a = inv.ip_asset("10.0.0.10").unwrap();
    assert_eq!((a.notes, a.tags), (None, vec!["prod".to_string()]));
}

#[test]
fn nmap_never_touches_existing_addresses() {
    let (_d, mut inv) = open();
    run(
        &mut inv,
        r#"{"schema_version":"1","data":{"ip_assets":[{"ip_address":"10.0.0.10","type":"OS","notes":"mine","archived":true}]}}"#,
    );
    let xml = br#"<nmaprun><host><status state="up"/><address addr="10.0.0.10" addrtype="ipv4"/></host>
        <host><status state="up"/><address addr="10.0.0.12" addrtype="ipv4"/><address addr="00:0C:29:00:00:01" addrtype="mac" vendor="VMware"/></host></nmaprun>"#;
    let b = parse_nmap_xml(xml, "2024-01-01T00:00:00+00:00").unwrap();
    let plan = inv.plan(b, &ImportOptions::default()).unwrap();
    assert_eq!(
        (plan.summary.ip_assets.create, plan.summary.ip_assets.skip),
        (1, 1)
    );
    inv.apply(&Actor::system(), &plan).unwrap();
    let old = inv.ip_asset("10.0.0.10").unwrap();
    assert_eq!((old.notes.as_deref(), old.archived), (Some("mine"), true));
    let new = inv.ip_asset("10.0.0.12").unwrap();
    assert_eq!(new.asset_type, AssetType::Vm);
    assert_eq!(
        new.notes.as_deref(),
        Some("Discovered via nmap upload at 2024-01-01T00:00:00+00:00")
    );
}

#[test]
fn project_and_host_updates_are_diffed_and_warned() {
    let (_d, mut inv) = open();
    run(&mut inv, SAMPLE);
    let plan = run(
        &mut inv,
        r##"{"schema_version":"1","data":{"projects":[{"name":"Core","color":"#000000"}],"hosts":[{"name":"node-01","notes":"moved"}],
            "tags":[{"name":"prod","color":"#ff0000"}],"ip_ranges":[{"name":"lab","cidr":"10.0.0.1/24"}]}}"##,
    );
    assert_eq!(plan.summary.projects.update, 1);
    assert_eq!(plan.summary.hosts.update, 1);
    assert_eq!(plan.summary.tags.update, 1);
    assert_eq!(plan.summary.ip_ranges.create, 1);
    assert_eq!(plan.warnings.len(), 1);
    assert_eq!(inv.projects().unwrap()[0].color, "#000000");
    assert_eq!(inv.hosts().unwrap()[0].notes.as_deref(), Some("moved"));
    assert_eq!(
        inv.hosts().unwrap()[0].vendor_name.as_deref(),
        Some("HPE"),
        "vendor kept when not given"
    );
    assert_eq!(inv.ip_ranges().unwrap()[0].cidr, "10.0.0.0/24");
    let plan_json = serde_json::to_value(&plan).unwrap();
    assert_eq!(plan_json["summary"]["projects"]["update"], 1);
    assert_eq!(plan_json["items"][0]["action"], "update");
}

#[test]
fn bundles_built_in_code_are_normalised_and_checked() {
    use ipocket_core::import::{BundleAsset, SourceLocation};
    let (_d, mut inv) = open();
    let mk = |i: usize, ip: &str| {
        let mut a = BundleAsset::new(
            SourceLocation::path(format!("connector[{i}]")),
            ip.to_string(),
        );
        a.asset_type = Some(AssetType::Vm);
        a
    };
    let mut a0 = mk(0, " 2001:DB8::1 ");
    a0.tags = Some(vec!["Prod".into(), "prod".into()]);
    let bad = Bundle {
        source: "connector".into(),
        ip_assets: vec![a0.clone(), mk(1, "2001:db8:0::1"), mk(2, "10.0.0.999")],
        ..Default::default()
    };
    let Error::Import(ImportErrors(list)) = inv.plan(bad, &ImportOptions::default()).unwrap_err()
    else {
        panic!()
    };
    assert_eq!(list.len(), 1);
    assert_eq!(
        list[0].to_string(),
        "connector[2].ip_address: invalid IP address \"10.0.0.999\""
    );
    let dup = Bundle {
        ip_assets: vec![a0.clone(), mk(1, "2001:db8:0::1")],
        ..Default::default()
    };
    let Error::Import(ImportErrors(list)) = inv.plan(dup, &ImportOptions::default()).unwrap_err()
    else {
        panic!()
    };
    assert_eq!(
        list[0].to_string(),
        "connector[1].ip_address: duplicate IP address 2001:db8::1 (first at connector[0])"
    );
    let ok = Bundle {
        source: "connector".into(),
        ip_assets: vec![a0],
        ..Default::default()
    };
    let plan = inv.plan(ok, &ImportOptions::default()).unwrap();
    inv.apply(&Actor::system(), &plan).unwrap();
    assert_eq!(inv.ip_asset("2001:db8::1").unwrap().tags, vec!["prod"]);
}
