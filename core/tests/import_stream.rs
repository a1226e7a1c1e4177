//! The streamed import (`Inventory::import_stream`): same plan and same result
//! as plan + apply, chunk by chunk in one transaction, every error of the file
//! reported and nothing written when there is one.

use ipocket_core::import::{
    synthetic_bundle_json, StreamEvent, StreamOptions, StreamReport, StreamSource,
};
use ipocket_core::*;

const NOW: &str = "2024-01-01 00:00:00";

fn empty() -> Inventory {
    let mut inv = Inventory::open_in_memory().unwrap();
    inv.set_fixed_time(Some(NOW.into()));
    inv
}

fn all() -> ExportOptions {
    ExportOptions {
        include_archived: true,
        exported_at: Some("2024-01-01T00:00:00+00:00".into()),
        ..Default::default()
    }
}

fn snapshot(inv: &Inventory) -> String {
    String::from_utf8(inv.export(ExportFormat::BundleJson, &all()).unwrap()).unwrap()
}

/// One planned record as text, for comparing listings.
fn line(i: &PlannedItem<'_>) -> String {
    format!(
        "{:?} {} {} {:?} {:?} {:?}",
        i.action, i.key, i.location, i.entity, i.changes, i.warnings
    )
}

/// Streams `doc` under `name` in chunks of `chunk`; returns the report (or
/// error) and the listing.
fn stream(
    inv: &mut Inventory,
    name: &str,
    doc: &[u8],
    chunk: usize,
    apply: bool,
    options: ImportOptions,
) -> (Result<StreamReport>, Vec<String>, usize) {
    let actor = Actor::system();
    let mut how = if apply {
        StreamOptions::apply(options, &actor)
    } else {
        StreamOptions::dry_run(options)
    };
    how.chunk_size = chunk;
    how.list_items = true;
    let (mut listing, mut restarts) = (Vec::new(), 0);
    let r = inv.import_stream(StreamSource::bytes(name, doc), &how, &mut |e| {
        match e {
            StreamEvent::Item(i) => listing.push(line(i)),
            StreamEvent::Restart => {
                listing.clear();
                restarts += 1
            }
            StreamEvent::Progress(_) => {}
        }
        Ok(())
    });
    (r, listing, restarts)
}

fn plan_and_apply(inv: &mut Inventory, doc: &[u8]) -> (ImportPlan, Vec<String>) {
    let plan = inv
        .plan(parse_bundle_json(doc).unwrap(), &ImportOptions::default())
        .unwrap();
    let listing = plan.items().map(|i| line(&i)).collect();
    inv.apply(&Actor::system(), &plan).unwrap();
    (plan, listing)
}

fn errors(r: Result<StreamReport>) -> Vec<String> {
    match r {
        Err(Error::Import(ImportErrors(v))) => v.into_iter().map(|i| i.to_string()).collect(),
        other => panic!("expected import errors, got {other:?}"),
    }
}

#[test]
fn chunks_give_the_same_plan_and_result_as_one_plan() {
    let first = synthetic_bundle_json(1000, "first");
    let second = synthetic_bundle_json(1000, "second");
    let (mut a, mut b) = (empty(), empty());
    let (plan, want) = plan_and_apply(&mut a, &first);
    let (r, got, restarts) = stream(&mut b, "bundle.json", &first, 64, true, Default::default());
    let r = r.unwrap();
    assert_eq!((r.summary, restarts), (plan.summary, 0));
    assert!(r.import_run_audit_id.is_some());
    assert_eq!(got, want);
    assert_eq!(snapshot(&a), snapshot(&b));

    // the same as updates into the full inventory
    let (plan, want) = plan_and_apply(&mut a, &second);
    let (r, got, _) = stream(&mut b, "bundle.json", &second, 77, true, Default::default());
    assert_eq!(r.unwrap().summary, plan.summary);
    assert_eq!(plan.summary.ip_assets.update, 1000);
    assert_eq!(got, want);
    assert_eq!(snapshot(&a), snapshot(&b));
}

#[test]
fn dry_run_lists_everything_and_writes_nothing() {
    let doc = synthetic_bundle_json(300, "x");
    let mut inv = empty();
    let before = snapshot(&inv);
    let (r, listing, _) = stream(&mut inv, "bundle.json", &doc, 50, false, Default::default());
    let r = r.unwrap();
    assert_eq!(r.import_run_audit_id, None);
    assert_eq!(r.summary.ip_assets.create, 300);
    assert_eq!(listing.len() as u64, r.summary.total.create);
    assert_eq!(snapshot(&inv), before);
}

#[test]
fn errors_in_every_chunk_are_reported_together_and_nothing_is_written() {
    let mut inv = empty();
    let doc = br#"{"schema_version":"1","data":{"hosts":[{"name":"h1"}],"ip_assets":[
        {"ip_address":"10.0.0.1","type":"VM","host_name":"h1"},
        {"ip_address":"10.0.0.2","type":"VM"},
        {"ip_address":"10.0.0.3","type":"VM"},
        {"ip_address":"10.0.0.1","type":"VM"},
        {"ip_address":"10.0.0.5","type":"VM","host_name":"nope"},
        {"ip_address":"10.0.0.6"}]}}"#;
    let before = snapshot(&inv);
    let (r, _, _) = stream(&mut inv, "bundle.json", doc, 2, true, Default::default());
    assert_eq!(
        errors(r),
        [
            "data.ip_assets[3].ip_address: duplicate IP address 10.0.0.1 (first at data.ip_assets[0])",
            "data.ip_assets[4].host_name: host \"nope\" does not exist",
            "data.ip_assets[5].type: type is required for a new IP asset",
        ]
    );
    assert_eq!(snapshot(&inv), before);
    assert!(inv
        .audit_log(&AuditFilter::default(), Page::default())
        .unwrap()
        .items
        .is_empty());
}

#[test]
fn a_bad_field_late_in_the_file_stops_everything_with_the_field_errors_only() {
    let mut inv = empty();
    let mut doc = String::from(r#"{"schema_version":"1","data":{"ip_assets":["#);
    for i in 0..100 {
        doc.push_str(&format!(
            r#"{}{{"ip_address":"10.0.1.{i}","type":"VM","project_name":"missing"}}"#,
            if i > 0 { "," } else { "" }
        ));
    }
    doc.push_str(r#",{"ip_address":"10.0.0.256","type":"VM"}]}}"#);
    let (r, _, _) = stream(
        &mut inv,
        "bundle.json",
        doc.as_bytes(),
        10,
        true,
        Default::default(),
    );
    assert_eq!(
        errors(r),
        ["data.ip_assets[100].ip_address: invalid IP address \"10.0.0.256\""]
    );
    assert_eq!(snapshot(&inv), snapshot(&empty()));
}

#[test]
fn sections_after_the_assets_are_read_first_on_a_second_pass() {
    let doc = br#"{"data":{"ip_assets":[{"ip_address":"10.0.0.1","type":"OS","host_name":"h1","project_name":"P"}],
        "hosts":[{"name":"h1","notes":"n"}],"projects":[{"name":"P"}]},"schema_version":"1"}"#;
    let (mut a, mut b) = (empty(), empty());
    plan_and_apply(&mut a, doc);
    let (r, listing, restarts) = stream(&mut b, "bundle.json", doc, 1, true, Default::default());
    let r = r.unwrap();
    assert_eq!(restarts, 1);
    assert_eq!(listing.len(), 3);
    assert_eq!(r.summary.total.create, 3);
    assert_eq!(snapshot(&a), snapshot(&b));
}

#[test]
fn projects_named_by_assets_are_created_once_across_chunks() {
    let mut doc = String::from("[");
    for i in 0..10 {
        doc.push_str(&format!(
            r#"{}{{"ip_address":"10.0.0.{i}","type":"VM","project_name":"p{}","tags":["t{}"]}}"#,
            if i > 0 { "," } else { "" },
            i % 2,
            i % 3
        ));
    }
    doc.push(']');
    let mut inv = empty();
    let options = ImportOptions {
        create_missing_projects: true,
        ..Default::default()
    };
    let (r, listing, _) = stream(&mut inv, "ip-assets.json", doc.as_bytes(), 3, true, options);
    let s = r.unwrap().summary;
    assert_eq!(
        (s.projects.create, s.tags.create, s.ip_assets.create),
        (2, 3, 10)
    );
    assert_eq!(listing.len(), 15);
    assert_eq!(inv.projects().unwrap().len(), 2);
}

#[test]
fn other_sources_are_planned_in_chunks_too() {
    let csv = b"ip_address,type,project_name,host_name,notes,archived\n10.0.0.1,VM,Core,,a,\n10.0.0.2,OS,Core,,b,\n10.0.0.1,VM,,,,\n";
    let mut inv = empty();
    let (r, _, _) = stream(&mut inv, "ip-assets.csv", csv, 1, true, Default::default());
    assert_eq!(
        errors(r),
        ["ip-assets.csv:4:1: duplicate IP address 10.0.0.1 (first at ip-assets.csv:2)"]
    );
    let (r, listing, _) = stream(
        &mut inv,
        "ip-assets.csv",
        &csv[..csv.len() - 17],
        1,
        true,
        Default::default(),
    );
    let s = r.unwrap().summary;
    assert_eq!((s.projects.create, s.ip_assets.create), (1, 2));
    assert_eq!(listing.len(), 3);
    let hosts = br#"[{"name":"h1","vendor_name":"HPE","project_name":"Core","os_ip":"10.0.0.1","bmc_ip":"10.0.0.9"}]"#;
    let (r, _, _) = stream(&mut inv, "hosts.json", hosts, 1, true, Default::default());
    let s = r.unwrap().summary;
    assert_eq!(
        (
            s.vendors.create,
            s.hosts.create,
            s.ip_assets.update,
            s.ip_assets.create
        ),
        (1, 1, 1, 1)
    );
    let (r, _, _) = stream(&mut inv, "hosts.txt", b"", 1, true, Default::default());
    assert!(r.unwrap_err().to_string().contains("unknown file type"));
}

#[test]
fn progress_is_reported_once_per_chunk_without_the_listing() {
    let doc = synthetic_bundle_json(300, "x");
    let mut inv = empty();
    let actor = Actor::system();
    let mut how = StreamOptions::apply(ImportOptions::default(), &actor);
    how.chunk_size = 100;
    let (mut progress, mut items) = (Vec::new(), 0);
    let r = inv
        .import_stream(StreamSource::bytes("bundle.json", &doc), &how, &mut |e| {
            match e {
                StreamEvent::Progress(n) => progress.push(n),
                StreamEvent::Item(_) => items += 1,
                StreamEvent::Restart => progress.clear(),
            }
            Ok(())
        })
        .unwrap();
    assert_eq!(items, 0);
    // the three chunks of assets, then the sections planned with the last one
    let total = r.summary.total.create;
    assert!(progress.len() >= 3, "{progress:?}");
    assert!(progress.windows(2).all(|w| w[0] < w[1]), "{progress:?}");
    assert_eq!(progress.last(), Some(&total));
}
