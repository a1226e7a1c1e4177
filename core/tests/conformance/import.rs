//! The import engine on both backends: plans (create, update, skip, with field diffs) and
//! applies of a bundle, a CSV and a JSON file, all or nothing, the stale-plan check, the
//! streamed import; and the same plans, rows and audit rows on SQLite and PostgreSQL
//! (PostgreSQL writes the IP assets with `COPY` and set-based statements).

use ipocket_core::import::{parse_file, StreamEvent, StreamOptions, StreamSource};
use ipocket_core::{
    parse_bundle_json, Actor, AssetType, AuditFilter, Error, ImportAction, ImportOptions,
    ImportPlan, Inventory, NewIpAsset, Page, Role,
};
use ipocket_db::{Backend, Row};

use crate::{fresh, Db};

const TIME: &str = "2026-01-02 03:04:05";

/// Vendors, projects, tags, a range, hosts and assets (IPv4 and IPv6, tags, notes).
const BUNDLE: &str = r##"{"app":"ipocket","schema_version":"1","data":{
  "vendors":[{"name":"HPE"}],
  "projects":[{"name":"Core","description":"core net","color":"#94a3b8"}],
  "tags":[{"name":"prod","color":"#112233"}],
  "ip_ranges":[{"name":"lab","cidr":"10.0.0.0/24","notes":"lab range"}],
  "hosts":[{"name":"node-01","notes":"rack 1","vendor_name":"HPE"}],
  "ip_assets":[
    {"ip_address":"10.0.0.10","type":"VM","project_name":"Core","host_name":"node-01","tags":["prod","edge"],"notes":"web\tfront\\end","archived":false},
    {"ip_address":"10.0.0.11","type":"OS","tags":[],"notes":""},
    {"ip_address":"2001:DB8::1","type":"VIP","project_name":"Core","archived":true}
  ]}}"##;

/// The same addresses: one update of every field kind, one unchanged, one new (on a new
/// host); a host updated.
const CHANGES: &str = r##"{"app":"ipocket","schema_version":"1","data":{
  "projects":[{"name":"Core","description":"core network"}],
  "hosts":[{"name":"node-01","notes":"rack 2"},{"name":"node-02","vendor_name":"HPE"}],
  "ip_assets":[
    {"ip_address":"10.0.0.10","type":"BMC","tags":["prod"],"notes":"moved","archived":true},
    {"ip_address":"10.0.0.11","type":"OS"},
    {"ip_address":"2001:db8::1","archived":false,"tags":["edge","new"]},
    {"ip_address":"10.0.0.12","type":"OTHER","host_name":"node-02"}
  ]}}"##;

fn inventory(b: Backend) -> (Db, Inventory) {
    let (db, mut inv) = fresh(b);
    inv.set_fixed_time(Some(TIME.into()));
    (db, inv)
}

fn plan(inv: &Inventory, json: &str) -> ImportPlan {
    inv.plan(
        parse_bundle_json(json.as_bytes()).unwrap(),
        &ImportOptions::default(),
    )
    .unwrap()
}

/// (entity, key, action, changes as `field: before -> after`) of every planned item.
fn items(p: &ImportPlan) -> Vec<(String, String, ImportAction, Vec<String>)> {
    p.items()
        .map(|it| {
            let changes = it
                .changes
                .iter()
                .map(|c| format!("{}: {:?} -> {:?}", c.field, c.before, c.after))
                .collect();
            (
                format!("{:?}", it.entity),
                it.key.to_string(),
                it.action,
                changes,
            )
        })
        .collect()
}

/// Every row an import writes, read back in id order (ids included: both backends number
/// the rows alike), and the audit log.
fn state(db: &Db) -> Vec<Vec<Row>> {
    [
        "SELECT id, name, created_at, updated_at FROM vendors ORDER BY id",
        "SELECT id, name, description, color FROM projects ORDER BY id",
        "SELECT id, name, color, created_at, updated_at FROM tags ORDER BY id",
        "SELECT id, name, cidr, notes, created_at, updated_at FROM ip_ranges ORDER BY id",
        "SELECT id, name, notes, vendor_id, created_at, updated_at FROM hosts ORDER BY id",
        "SELECT id, ip_address, ip_family, ip_key, type, project_id, host_id, notes, archived, created_at, updated_at FROM ip_assets ORDER BY id",
        "SELECT ip_asset_id, tag_id FROM ip_asset_tags ORDER BY ip_asset_id, tag_id",
        "SELECT id, user_id, username, target_type, target_id, target_label, action, changes, message, created_at FROM audit_logs ORDER BY id",
    ]
    .iter()
    .map(|sql| db.rows(sql))
    .collect()
}

fn audit_count(db: &Db) -> i64 {
    db.count("SELECT COUNT(*) FROM audit_logs")
}

fn a_bundle_is_planned_created_and_reapplied_as_skips(b: Backend) {
    let (db, mut inv) = inventory(b);
    let p = plan(&inv, BUNDLE);
    assert_eq!(audit_count(&db), 0, "planning writes nothing");
    let s = p.summary;
    assert_eq!(
        (
            s.vendors.create,
            s.projects.create,
            s.tags.create,
            s.ip_ranges.create,
            s.hosts.create,
            s.ip_assets.create
        ),
        (1, 1, 2, 1, 1, 3)
    );
    let listed = items(&p);
    assert!(listed.contains(&(
        "IpAsset".into(),
        "2001:db8::1".into(),
        ImportAction::Create,
        vec![
            "type: None -> Some(\"VIP\")".into(),
            "project: None -> Some(\"Core\")".into(),
            "archived: None -> Some(\"true\")".into(),
        ]
    )));
    let report = inv.apply(&Actor::system(), &p).unwrap();
    assert_eq!(report.summary, p.summary);

    let a = inv.ip_asset("10.0.0.10").unwrap();
    assert_eq!(
        (
            a.asset_type,
            a.project_name.as_deref(),
            a.host_name.as_deref(),
            a.notes.as_deref(),
            a.tags.clone()
        ),
        (
            AssetType::Vm,
            Some("Core"),
            Some("node-01"),
            Some("web\tfront\\end"),
            vec!["edge".to_string(), "prod".to_string()]
        )
    );
    let v6 = inv.ip_asset("2001:db8::1").unwrap();
    assert!(v6.archived && v6.tags.is_empty());
    assert_eq!(inv.ip_asset("10.0.0.11").unwrap().notes, None);

    // one audit row per written record, in apply order, then the run's row
    let log = inv
        .audit_log(&AuditFilter::default(), Page::all())
        .unwrap()
        .items;
    let rows: Vec<(&str, &str, &str)> = log
        .iter()
        .rev()
        .map(|e| {
            (
                e.target_type.as_str(),
                e.target_label.as_str(),
                e.action.as_str(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("VENDOR", "HPE", "CREATE"),
            ("PROJECT", "Core", "CREATE"),
            ("TAG", "prod", "CREATE"),
            ("TAG", "edge", "CREATE"),
            ("IP_RANGE", "10.0.0.0/24", "CREATE"),
            ("HOST", "node-01", "CREATE"),
            ("IP_ASSET", "10.0.0.10", "CREATE"),
            ("IP_ASSET", "10.0.0.11", "CREATE"),
            ("IP_ASSET", "2001:db8::1", "CREATE"),
            ("IMPORT_RUN", "bundle.json", "APPLY"),
        ]
    );
    assert_eq!(log[0].id, report.import_run_audit_id);
    let created = log.iter().find(|e| e.target_label == "10.0.0.10").unwrap();
    assert_eq!(created.target_id, a.id);
    assert_eq!(created.message.as_deref(), Some("import"));
    assert!(created
        .changes
        .iter()
        .any(|c| c.field == "tags" && c.after.as_deref() == Some("edge, prod")));

    // the same bundle again: every record skips, only the run's row is written
    let again = plan(&inv, BUNDLE);
    assert_eq!(again.summary.total.create + again.summary.total.update, 0);
    assert!(items(&again)
        .iter()
        .all(|(_, _, action, changes)| *action == ImportAction::Skip && changes.is_empty()));
    let before = state(&db);
    inv.apply(&Actor::system(), &again).unwrap();
    let after = state(&db);
    assert_eq!(before[..7], after[..7], "no record changes");
    assert_eq!(after[7].len(), before[7].len() + 1, "the run's row");
}

fn updates_are_planned_with_field_diffs_and_applied(b: Backend) {
    let (db, mut inv) = inventory(b);
    inv.apply(&Actor::system(), &plan(&inv, BUNDLE)).unwrap();
    let p = plan(&inv, CHANGES);
    let listed = items(&p);
    let find = |key: &str| listed.iter().find(|i| i.1 == key).unwrap().clone();
    assert_eq!(
        find("10.0.0.10"),
        (
            "IpAsset".into(),
            "10.0.0.10".into(),
            ImportAction::Update,
            vec![
                "type: Some(\"VM\") -> Some(\"BMC\")".into(),
                "notes: Some(\"web\\tfront\\\\end\") -> Some(\"moved\")".into(),
                "tags: Some(\"edge, prod\") -> Some(\"prod\")".into(),
                "archived: Some(\"false\") -> Some(\"true\")".into(),
            ]
        )
    );
    assert_eq!(find("10.0.0.11").2, ImportAction::Skip);
    assert_eq!(find("10.0.0.12").2, ImportAction::Create);
    assert_eq!(
        find("new").2,
        ImportAction::Create,
        "a tag named by an asset"
    );
    assert_eq!(
        find("Core"),
        (
            "Project".into(),
            "Core".into(),
            ImportAction::Update,
            vec!["description: Some(\"core net\") -> Some(\"core network\")".into()]
        )
    );
    let audit_before = audit_count(&db);
    inv.apply(&Actor::system(), &p).unwrap();

    let a = inv.ip_asset("10.0.0.10").unwrap();
    assert_eq!(
        (
            a.asset_type,
            a.notes.as_deref(),
            a.archived,
            a.tags.clone(),
            a.project_name.as_deref(),
            a.host_name.as_deref()
        ),
        (
            AssetType::Bmc,
            Some("moved"),
            true,
            vec!["prod".to_string()],
            Some("Core"),
            Some("node-01")
        ),
        "fields not in the source are left alone"
    );
    let v6 = inv.ip_asset("2001:db8::1").unwrap();
    assert_eq!(
        (v6.archived, v6.tags, v6.asset_type),
        (
            false,
            vec!["edge".to_string(), "new".to_string()],
            AssetType::Vip
        )
    );
    let n = inv.ip_asset("10.0.0.12").unwrap();
    assert_eq!(n.host_name.as_deref(), Some("node-02"));
    assert_eq!(
        db.count("SELECT COUNT(*) FROM hosts WHERE name = 'node-01' AND notes = 'rack 2'"),
        1
    );
    // project, tag "new", two hosts, two asset updates, one create, the run
    assert_eq!(audit_count(&db), audit_before + 8);
    let rows = db.rows(&format!(
        "SELECT target_label, action, changes FROM audit_logs WHERE target_type = 'IP_ASSET' AND target_id = {} ORDER BY id",
        a.id
    ));
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1].get::<String>(1).unwrap(), "UPDATE");
    let changes: String = rows[1].get(2).unwrap();
    assert!(
        changes.contains(r#""field":"type","before":"VM","after":"BMC""#),
        "{changes}"
    );
}

fn csv_and_json_files_are_imported(b: Backend) {
    let (db, mut inv) = inventory(b);
    let csv = b"ip_address,type,project_name,host_name,notes,archived\n10.1.0.1,VM,Edge,,first,\n10.1.0.2,OS,,,,true\n";
    let p = inv
        .plan(
            parse_file("ip-assets.csv", csv, TIME).unwrap(),
            &ImportOptions::default(),
        )
        .unwrap();
    assert_eq!(
        (p.summary.projects.create, p.summary.ip_assets.create),
        (1, 2),
        "the CSV creates the projects it names"
    );
    inv.apply(&Actor::system(), &p).unwrap();
    let a = inv.ip_asset("10.1.0.1").unwrap();
    assert_eq!(
        (a.project_name.as_deref(), a.notes.as_deref()),
        (Some("Edge"), Some("first"))
    );
    assert!(inv.ip_asset("10.1.0.2").unwrap().archived);

    let json = br#"[{"ip_address":"10.1.0.2","type":"OS","archived":false},{"ip_address":"10.1.0.3","type":"VIP","tags":["x"]}]"#;
    let p = inv
        .plan(
            parse_file("ip-assets.json", json, TIME).unwrap(),
            &ImportOptions::default(),
        )
        .unwrap();
    assert_eq!(
        (p.summary.ip_assets.update, p.summary.ip_assets.create),
        (1, 1)
    );
    inv.apply(&Actor::system(), &p).unwrap();
    assert!(!inv.ip_asset("10.1.0.2").unwrap().archived);
    assert_eq!(inv.ip_asset("10.1.0.3").unwrap().tags, vec!["x"]);
    assert_eq!(
        db.count("SELECT COUNT(*) FROM audit_logs WHERE target_type = 'IMPORT_RUN'"),
        2
    );
}

fn reference_errors_are_located_and_nothing_is_planned(b: Backend) {
    let (db, inv) = inventory(b);
    let bad = r#"{"schema_version":"1","data":{"ip_assets":[
        {"ip_address":"10.0.0.1","type":"VM","project_name":"Ghost"},
        {"ip_address":"10.0.0.2","type":"VM","host_name":"nowhere"},
        {"ip_address":"10.0.0.1","type":"VM"}]}}"#;
    let e = inv
        .plan(
            parse_bundle_json(bad.as_bytes()).unwrap(),
            &ImportOptions::default(),
        )
        .unwrap_err();
    let Error::Import(errors) = e else {
        panic!("{e}")
    };
    let located: Vec<&str> = errors.0.iter().map(|i| i.location.as_str()).collect();
    assert_eq!(
        located,
        [
            "data.ip_assets[0].project_name",
            "data.ip_assets[1].host_name",
            "data.ip_assets[2].ip_address"
        ]
    );
    assert_eq!(db.count("SELECT COUNT(*) FROM projects"), 0);
}

fn a_failing_item_rolls_everything_back(b: Backend) {
    let (db, mut inv) = inventory(b);
    let p = plan(
        &inv,
        r#"{"schema_version":"1","data":{"projects":[{"name":"P"}],"tags":[{"name":"t"}],"ip_assets":[
        {"ip_address":"10.0.0.1","type":"VM","tags":["t"]},{"ip_address":"10.0.0.2","type":"VM"}]}}"#,
    );
    // a row written behind the engine's back (no audit row, so the plan looks fresh)
    db.rows("INSERT INTO ip_assets (ip_address, type) VALUES ('10.0.0.2', 'OS')");
    let e = inv.apply(&Actor::system(), &p).unwrap_err();
    assert!(e.to_string().contains("ip_address"), "{e}");
    for (table, left) in [
        ("projects", 0),
        ("tags", 0),
        ("ip_assets", 1),
        ("ip_asset_tags", 0),
        ("audit_logs", 0),
    ] {
        assert_eq!(
            db.count(&format!("SELECT COUNT(*) FROM {table}")),
            left,
            "{table} rolled back"
        );
    }
    // the inventory goes on working on the same handle
    inv.create_ip_asset(
        &Actor::system(),
        &NewIpAsset::new("10.0.0.3", AssetType::Vm),
    )
    .unwrap();
}

fn a_stale_plan_is_refused(b: Backend) {
    let (db, mut inv) = inventory(b);
    let p = plan(&inv, BUNDLE);
    inv.create_ip_asset(
        &Actor::system(),
        &NewIpAsset::new("10.9.9.9", AssetType::Vm),
    )
    .unwrap();
    assert!(matches!(
        inv.apply(&Actor::system(), &p),
        Err(Error::StalePlan)
    ));
    assert_eq!(db.count("SELECT COUNT(*) FROM ip_assets"), 1);
    assert_eq!(audit_count(&db), 1, "only the asset created meanwhile");
    // planned again, it applies
    inv.apply(&Actor::system(), &plan(&inv, BUNDLE)).unwrap();
    assert_eq!(db.count("SELECT COUNT(*) FROM ip_assets"), 4);
}

fn a_user_applies_and_is_named_in_every_audit_row(b: Backend) {
    let (db, mut inv) = inventory(b);
    db.rows("INSERT INTO users (username, hashed_password, role) VALUES ('ed', 'x', 'Editor')");
    let ed = Actor {
        user_id: Some(1),
        username: Some("ed".into()),
        role: Some(Role::Editor),
    };
    let viewer = Actor {
        role: Some(Role::Viewer),
        ..ed.clone()
    };
    let p = plan(&inv, BUNDLE);
    assert!(matches!(inv.apply(&viewer, &p), Err(Error::Forbidden(_))));
    inv.apply(&ed, &p).unwrap();
    assert_eq!(
        db.count("SELECT COUNT(*) FROM audit_logs WHERE user_id = 1 AND username = 'ed'"),
        audit_count(&db)
    );
}

/// Streams `doc` (named `name`) in chunks of two assets; the items it listed.
fn stream(
    inv: &mut Inventory,
    name: &str,
    doc: &[u8],
    apply: Option<&Actor>,
) -> (ipocket_core::import::StreamReport, usize) {
    let mut how = match apply {
        Some(actor) => StreamOptions::apply(ImportOptions::default(), actor),
        None => StreamOptions::dry_run(ImportOptions::default()),
    };
    how.chunk_size = 2;
    how.list_items = true;
    let mut seen = 0;
    let report = inv
        .import_stream(StreamSource::bytes(name, doc), &how, &mut |e| {
            match e {
                StreamEvent::Item(_) => seen += 1,
                StreamEvent::Restart => seen = 0,
                StreamEvent::Progress(_) => {}
            }
            Ok(())
        })
        .unwrap();
    (report, seen)
}

fn a_streamed_import_plans_and_applies_in_chunks(b: Backend) {
    let (db, mut inv) = inventory(b);
    let (dry, listed) = stream(&mut inv, "bundle.json", BUNDLE.as_bytes(), None);
    assert_eq!(dry.import_run_audit_id, None);
    assert_eq!(dry.summary, plan(&inv, BUNDLE).summary);
    assert_eq!(listed, plan(&inv, BUNDLE).items().count());
    assert_eq!(audit_count(&db), 0, "a dry run writes nothing");

    let actor = Actor::system();
    let (done, _) = stream(&mut inv, "bundle.json", BUNDLE.as_bytes(), Some(&actor));
    assert_eq!(done.summary.ip_assets.create, 3);
    assert_eq!(
        inv.ip_asset("10.0.0.10").unwrap().tags,
        vec!["edge", "prod"]
    );
    // sections after the assets: the document is read twice, the first pass rolled back
    let late = br##"{"schema_version":"1","data":{
      "ip_assets":[{"ip_address":"10.2.0.1","type":"VM","project_name":"Late"},
                   {"ip_address":"10.2.0.2","type":"VM"},{"ip_address":"10.2.0.3","type":"OS"}],
      "projects":[{"name":"Late"}]}}"##;
    let (r, listed) = stream(&mut inv, "bundle.json", late, Some(&actor));
    assert_eq!(
        (
            r.summary.projects.create,
            r.summary.ip_assets.create,
            listed
        ),
        (1, 3, 4)
    );
    assert_eq!(
        inv.ip_asset("10.2.0.1").unwrap().project_name.as_deref(),
        Some("Late")
    );
    assert_eq!(
        db.count("SELECT COUNT(*) FROM audit_logs WHERE target_label = 'Late'"),
        1
    );
    // a failing streamed apply keeps nothing
    let count = db.count("SELECT COUNT(*) FROM ip_assets");
    let audits = audit_count(&db);
    let bad = br#"[{"ip_address":"10.3.0.1","type":"VM"},{"ip_address":"10.3.0.2","type":"VM"},{"ip_address":"10.3.0.3","project_name":"Ghost","type":"VM"}]"#;
    let mut how = StreamOptions::apply(ImportOptions::default(), &actor);
    how.chunk_size = 2;
    let e = inv
        .import_stream(
            StreamSource::bytes("ip-assets.json", bad),
            &how,
            &mut |_| Ok(()),
        )
        .unwrap_err();
    assert!(matches!(e, Error::Import(_)), "{e}");
    assert_eq!(db.count("SELECT COUNT(*) FROM ip_assets"), count);
    assert_eq!(audit_count(&db), audits);
}

ipocket_testkit::on_both_backends!(
    a_bundle_is_planned_created_and_reapplied_as_skips,
    updates_are_planned_with_field_diffs_and_applied,
    csv_and_json_files_are_imported,
    reference_errors_are_located_and_nothing_is_planned,
    a_failing_item_rolls_everything_back,
    a_stale_plan_is_refused,
    a_user_applies_and_is_named_in_every_audit_row,
    a_streamed_import_plans_and_applies_in_chunks,
);

/// One scenario on a backend: its plans (as the API serialises them) and every row after
/// each apply.
fn scenario(b: Backend) -> (Vec<serde_json::Value>, Vec<Vec<Vec<Row>>>) {
    let (db, mut inv) = inventory(b);
    let actor = Actor::system();
    let (mut plans, mut states) = (Vec::new(), Vec::new());
    for doc in [BUNDLE, CHANGES, CHANGES] {
        let p = plan(&inv, doc);
        plans.push(serde_json::to_value(&p).unwrap());
        inv.apply(&actor, &p).unwrap();
        states.push(state(&db));
    }
    let big = ipocket_core::import::synthetic_bundle_json(300, "first");
    stream(&mut inv, "bundle.json", &big, Some(&actor));
    states.push(state(&db));
    let p = inv
        .plan(
            parse_bundle_json(&ipocket_core::import::synthetic_bundle_json(300, "second")).unwrap(),
            &ImportOptions::default(),
        )
        .unwrap();
    plans.push(serde_json::to_value(&p).unwrap());
    inv.apply(&actor, &p).unwrap();
    states.push(state(&db));
    // chunks far smaller than the inventory: existing rows are looked up by address
    let third = ipocket_core::import::synthetic_bundle_json(300, "third");
    let (dry, _) = stream(&mut inv, "bundle.json", &third, None);
    let (done, _) = stream(&mut inv, "bundle.json", &third, Some(&actor));
    assert_eq!(
        (dry.summary, done.summary.ip_assets.update),
        (done.summary, 300)
    );
    states.push(state(&db));
    (plans, states)
}

#[test]
fn both_backends_give_the_same_plans_rows_and_audit_rows() {
    let (sqlite_plans, sqlite_states) = scenario(Backend::Sqlite);
    let (pg_plans, pg_states) = scenario(Backend::Postgres);
    assert_eq!(sqlite_plans, pg_plans);
    assert_eq!(sqlite_states.len(), pg_states.len());
    for (step, (s, p)) in sqlite_states.iter().zip(&pg_states).enumerate() {
        for (table, (s, p)) in s.iter().zip(p).enumerate() {
            assert_eq!(s.len(), p.len(), "step {step}, table {table}: row counts");
            for (s, p) in s.iter().zip(p) {
                assert_eq!(s, p, "step {step}, table {table}");
            }
        }
    }
    assert!(
        sqlite_states[4][5].len() > 300,
        "the synthetic bundle was applied"
    );
}
