//! The inventory's export behaviours on both backends: each format's content and filters,
//! the clock, and the same bytes from SQLite and PostgreSQL for the same data.
//!
//! Projects, vendors, hosts and ranges are written with plain SQL (their operations are
//! converted elsewhere); addresses and their tags through `create_ip_asset`.

use std::io::Read;

use ipocket_core::{
    Actor, AssetType, ExportCompat, ExportFormat, ExportOptions, Inventory, NewIpAsset,
};
use ipocket_db::{Backend, Database};

use crate::{fresh, Db};

const NOW: &str = "2024-01-01 00:00:00";

/// Runs `sql` (several statements, `;`-separated, none holding a `;`) on `db`.
fn exec(db: &Db, sql: &str) {
    let d = Database::open(&db.url, &[]).unwrap();
    d.write(1, |c| {
        for s in sql.split(';').map(str::trim).filter(|s| !s.is_empty()) {
            c.execute(s, &[])?;
        }
        Ok::<_, ipocket_db::Error>(())
    })
    .unwrap();
}

fn id_of(db: &Db, table: &str, name: &str) -> i64 {
    db.rows(&format!("SELECT id FROM {table} WHERE name = '{name}'"))[0]
        .get(0)
        .unwrap()
}

/// An inventory with names that sort differently byte by byte than in a language's
/// collation (`beta` after `Core`, `Ärger` last), cells that start a formula, IPv6, an
/// archived address, a host of two projects, ranges of both families.
fn sample(b: Backend) -> (Db, Inventory) {
    let (db, mut inv) = fresh(b);
    inv.set_fixed_time(Some(NOW.into()));
    exec(
        &db,
        "INSERT INTO vendors (name) VALUES ('HPE'), ('dell'), ('Ökovendor'), ('=cmd');
         INSERT INTO projects (name, description, color) VALUES
           ('Core', NULL, '#94a3b8'), ('Alpha', 'first', '#112233'),
           ('beta', '', '#000000'), ('Ärger', '+1 555 \"quoted\"', '#ffffff');
         INSERT INTO hosts (name, notes, vendor_id) VALUES
           ('node-01', 'Rack 1', (SELECT id FROM vendors WHERE name = 'HPE')),
           ('node-02', NULL, NULL),
           ('-host', '''=kept', (SELECT id FROM vendors WHERE name = 'Ökovendor'));
         INSERT INTO tags (name, color) VALUES ('spare', '#abcdef');
         INSERT INTO ip_ranges (name, cidr, notes) VALUES
           ('v6', '2001:db8::/64', 'six'), ('lan', '10.0.0.0/24', NULL),
           ('all', '10.0.0.0/8', 'every')",
    );
    let a = Actor::system();
    let (core, alpha) = (
        id_of(&db, "projects", "Core"),
        id_of(&db, "projects", "Alpha"),
    );
    let (beta, arger) = (
        id_of(&db, "projects", "beta"),
        id_of(&db, "projects", "Ärger"),
    );
    let (n1, n2) = (
        id_of(&db, "hosts", "node-01"),
        id_of(&db, "hosts", "node-02"),
    );
    let assets = [
        (
            "10.0.0.12",
            AssetType::Bmc,
            Some(core),
            Some(n1),
            None,
            &[][..],
        ),
        (
            "10.0.0.11",
            AssetType::Os,
            Some(core),
            Some(n1),
            None,
            &["prod", "edge"][..],
        ),
        (
            "10.0.0.9",
            AssetType::Os,
            Some(alpha),
            Some(n1),
            None,
            &[][..],
        ),
        (
            "10.0.0.100",
            AssetType::Vm,
            None,
            Some(n2),
            Some("he said \"hi\"\nnext"),
            &["zeta"][..],
        ),
        (
            "2001:db8::1",
            AssetType::Vip,
            Some(beta),
            Some(n2),
            Some("six"),
            &["prod"][..],
        ),
        (
            "192.168.1.1",
            AssetType::Other,
            Some(arger),
            None,
            Some("=SUM(A1)"),
            &[][..],
        ),
        (
            "10.0.0.2",
            AssetType::Os,
            Some(beta),
            Some(n2),
            None,
            &[][..],
        ),
    ];
    for (ip, t, project_id, host_id, notes, tags) in assets {
        let mut n = NewIpAsset::new(ip, t);
        n.project_id = project_id;
        n.host_id = host_id;
        n.notes = notes.map(str::to_string);
        n.tags = tags.iter().map(|s| s.to_string()).collect();
        inv.create_ip_asset(&a, &n).unwrap();
    }
    inv.archive_ip_asset(&a, "10.0.0.9").unwrap();
    (db, inv)
}

fn text(inv: &Inventory, f: ExportFormat, o: &ExportOptions) -> String {
    String::from_utf8(inv.export(f, o).unwrap()).unwrap()
}

/// The option sets the byte-equality check exports with: each filter, both shapes.
fn option_sets() -> Vec<ExportOptions> {
    let mut v = Vec::new();
    for compat in [ExportCompat::Native, ExportCompat::Original] {
        let base = ExportOptions {
            compat,
            ..Default::default()
        };
        v.extend([
            base.clone(),
            ExportOptions {
                include_archived: true,
                ..base.clone()
            },
            ExportOptions {
                project: Some("Core".into()),
                include_archived: true,
                ..base.clone()
            },
            ExportOptions {
                host: Some("node-02".into()),
                ..base.clone()
            },
            ExportOptions {
                asset_type: Some(AssetType::Os),
                exported_at: Some("given".into()),
                ..base
            },
        ]);
    }
    v
}

#[test]
fn every_format_gives_the_same_bytes_on_both_backends() {
    let (_s, sqlite) = sample(Backend::Sqlite);
    let (_p, postgres) = sample(Backend::Postgres);
    let mut compared = 0;
    for o in option_sets() {
        for f in ExportFormat::ALL {
            let (a, b) = (
                sqlite.export(f, &o).unwrap(),
                postgres.export(f, &o).unwrap(),
            );
            if a != b {
                panic!(
                    "{f:?} {o:?} differs:\n--- SQLite\n{}\n--- PostgreSQL\n{}",
                    String::from_utf8_lossy(&a),
                    String::from_utf8_lossy(&b)
                );
            }
            compared += 1;
        }
    }
    assert_eq!(compared, 10 * ExportFormat::ALL.len());
    // the check can fail: one changed note changes the bytes
    let before = postgres.export(ExportFormat::BundleZip, &ExportOptions::default());
    let patch = ipocket_core::IpAssetPatch {
        notes: Some(Some("changed".into())),
        ..Default::default()
    };
    let mut postgres = postgres;
    postgres
        .update_ip_asset(&Actor::system(), "10.0.0.2", &patch)
        .unwrap();
    let after = postgres.export(ExportFormat::BundleZip, &ExportOptions::default());
    assert_ne!(before.unwrap(), after.unwrap());
}

/// More addresses than PostgreSQL fetches from a stream at once (500): the same bytes, and
/// every address once, in order.
#[test]
fn a_long_export_streams_the_same_bytes_on_both_backends() {
    let exports = |b: Backend| {
        let (db, mut inv) = fresh(b);
        inv.set_fixed_time(Some(NOW.into()));
        exec(&db, "INSERT INTO hosts (name) VALUES ('h')");
        let host = id_of(&db, "hosts", "h");
        for i in 0..1100u32 {
            let mut n = NewIpAsset::new(
                &format!("10.{}.{}.{}", i % 3, i / 256, i % 256),
                AssetType::Os,
            );
            n.host_id = (i % 2 == 0).then_some(host);
            n.tags = vec![format!("t{}", i % 4)];
            inv.create_ip_asset(&Actor::system(), &n).unwrap();
        }
        let o = ExportOptions::default();
        [
            ExportFormat::IpAssetsCsv,
            ExportFormat::BundleJson,
            ExportFormat::HostsCsv,
        ]
        .map(|f| inv.export(f, &o).unwrap())
    };
    let (sqlite, postgres) = (exports(Backend::Sqlite), exports(Backend::Postgres));
    assert!(sqlite == postgres, "the exports differ");
    let csv = String::from_utf8(postgres[0].clone()).unwrap();
    let ips: Vec<&str> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(ips.len(), 1100);
    assert_eq!((ips[0], ips[1099]), ("10.0.0.0", "10.2.4.73"));
    let hosts = String::from_utf8(postgres[2].clone()).unwrap();
    assert_eq!(
        hosts,
        "name,notes,vendor_name,project_name,os_ip,bmc_ip\nh,,,,10.0.0.0,\n"
    );
}

fn lists_sort_byte_by_byte_and_derive_host_columns(b: Backend) {
    let (_db, inv) = sample(b);
    let o = ExportOptions::default();
    assert_eq!(
        text(&inv, ExportFormat::ProjectsCsv, &o),
        "name,description,color\nAlpha,first,#112233\nCore,,#94a3b8\nbeta,,#000000\n\
         Ärger,\"'+1 555 \"\"quoted\"\"\",#ffffff\n"
    );
    assert_eq!(
        text(&inv, ExportFormat::VendorsCsv, &o),
        "name\n'=cmd\nHPE\ndell\nÖkovendor\n"
    );
    assert_eq!(
        text(&inv, ExportFormat::TagsCsv, &o),
        "name,color\nedge,#e2e8f0\nprod,#e2e8f0\nspare,#abcdef\nzeta,#e2e8f0\n"
    );
    // node-01: its archived Alpha address does not count; node-02: the smallest project
    // name byte by byte, no OS or BMC address of its own but 10.0.0.2
    assert_eq!(
        text(&inv, ExportFormat::HostsCsv, &o),
        "name,notes,vendor_name,project_name,os_ip,bmc_ip\n\
         '-host,''=kept,Ökovendor,,,\n\
         node-01,Rack 1,HPE,Core,10.0.0.11,10.0.0.12\n\
         node-02,,,beta,10.0.0.2,\n"
    );
    let v: serde_json::Value =
        serde_json::from_slice(&inv.export(ExportFormat::BundleJson, &o).unwrap()).unwrap();
    let ranges: Vec<_> = v["data"]["ip_ranges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["cidr"].as_str().unwrap(), r["notes"].as_str().unwrap()))
        .collect();
    assert_eq!(
        ranges,
        [
            ("10.0.0.0/8", "every"),
            ("10.0.0.0/24", ""),
            ("2001:db8::/64", "six")
        ]
    );
}

fn assets_export_in_address_order_with_their_times(b: Backend) {
    let (_db, inv) = sample(b);
    let all = ExportOptions {
        include_archived: true,
        ..Default::default()
    };
    assert_eq!(
        text(&inv, ExportFormat::IpAssetsCsv, &all),
        "ip_address,type,project_name,host_name,tags,notes,archived,created_at,updated_at\n\
         10.0.0.2,OS,beta,node-02,,,false,2024-01-01 00:00:00,2024-01-01 00:00:00\n\
         10.0.0.9,OS,Alpha,node-01,,,true,2024-01-01 00:00:00,2024-01-01 00:00:00\n\
         10.0.0.11,OS,Core,node-01,\"edge, prod\",,false,2024-01-01 00:00:00,2024-01-01 00:00:00\n\
         10.0.0.12,BMC,Core,node-01,,,false,2024-01-01 00:00:00,2024-01-01 00:00:00\n\
         10.0.0.100,VM,,node-02,zeta,\"he said \"\"hi\"\"\nnext\",false,2024-01-01 00:00:00,2024-01-01 00:00:00\n\
         192.168.1.1,OTHER,Ärger,,,'=SUM(A1),false,2024-01-01 00:00:00,2024-01-01 00:00:00\n\
         2001:db8::1,VIP,beta,node-02,prod,six,false,2024-01-01 00:00:00,2024-01-01 00:00:00\n"
    );
    let v: serde_json::Value =
        serde_json::from_slice(&inv.export(ExportFormat::IpAssetsJson, &all).unwrap()).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 7);
    assert_eq!(v[1]["archived"], true);
    assert_eq!(v[2]["tags"], serde_json::json!(["edge", "prod"]));
    assert_eq!(v[0]["notes"], "");
    let original = ExportOptions {
        compat: ExportCompat::Original,
        ..all
    };
    let v: serde_json::Value =
        serde_json::from_slice(&inv.export(ExportFormat::IpAssetsJson, &original).unwrap())
            .unwrap();
    assert_eq!(v[0]["notes"], serde_json::Value::Null);
}

fn filters_limit_assets_projects_and_hosts(b: Backend) {
    let (_db, inv) = sample(b);
    let bundle = |o: &ExportOptions| -> serde_json::Value {
        serde_json::from_slice(&inv.export(ExportFormat::BundleJson, o).unwrap()).unwrap()
    };
    let names = |v: &serde_json::Value, key: &str, field: &str| -> Vec<String> {
        v["data"][key]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x[field].as_str().unwrap().to_string())
            .collect()
    };
    let v = bundle(&ExportOptions {
        project: Some("beta".into()),
        ..Default::default()
    });
    assert_eq!(names(&v, "projects", "name"), ["beta"]);
    assert_eq!(
        names(&v, "ip_assets", "ip_address"),
        ["10.0.0.2", "2001:db8::1"]
    );
    assert_eq!(names(&v, "hosts", "name").len(), 3, "every host");
    let v = bundle(&ExportOptions {
        host: Some("node-01".into()),
        include_archived: true,
        ..Default::default()
    });
    assert_eq!(names(&v, "hosts", "name"), ["node-01"]);
    assert_eq!(
        names(&v, "ip_assets", "ip_address"),
        ["10.0.0.9", "10.0.0.11", "10.0.0.12"]
    );
    let v = bundle(&ExportOptions {
        asset_type: Some(AssetType::Vip),
        ..Default::default()
    });
    assert_eq!(names(&v, "ip_assets", "ip_address"), ["2001:db8::1"]);
    let v = bundle(&ExportOptions {
        project: Some("nope".into()),
        ..Default::default()
    });
    assert!(names(&v, "projects", "name").is_empty());
    assert!(names(&v, "ip_assets", "ip_address").is_empty());
}

fn the_bundle_is_stamped_with_the_inventorys_clock(b: Backend) {
    let (_db, mut inv) = sample(b);
    let stamp = |inv: &Inventory, compat| -> String {
        let o = ExportOptions {
            compat,
            ..Default::default()
        };
        let v: serde_json::Value =
            serde_json::from_slice(&inv.export(ExportFormat::BundleJson, &o).unwrap()).unwrap();
        v["exported_at"].as_str().unwrap().to_string()
    };
    assert_eq!(
        stamp(&inv, ExportCompat::Native),
        "2024-01-01T00:00:00+00:00"
    );
    assert_eq!(
        stamp(&inv, ExportCompat::Original),
        "2024-01-01T00:00:00.000000+00:00"
    );
    inv.set_fixed_time(None);
    let before = inv.now().unwrap();
    let native = stamp(&inv, ExportCompat::Native);
    let after = inv.now().unwrap();
    assert_eq!((native.len(), &native[19..]), (25, "+00:00"), "{native}");
    let stored = native[..19].replacen('T', " ", 1);
    assert!(
        before <= stored && stored <= after,
        "{before} {native} {after}"
    );
    let original = stamp(&inv, ExportCompat::Original);
    assert_eq!(original.len(), 32, "{original}");
    assert_eq!((&original[19..20], &original[26..]), (".", "+00:00"));
}

fn the_zip_holds_every_file_as_exported_alone(b: Backend) {
    let (_db, inv) = sample(b);
    let o = ExportOptions::default();
    let zip = inv.export(ExportFormat::BundleZip, &o).unwrap();
    assert_eq!(zip, inv.export(ExportFormat::BundleZip, &o).unwrap());
    let mut ar = zip::ZipArchive::new(std::io::Cursor::new(zip)).unwrap();
    let names: Vec<String> = ar.file_names().map(str::to_string).collect();
    assert_eq!(
        names,
        [
            "bundle.json",
            "ip-assets.csv",
            "projects.csv",
            "hosts.csv",
            "vendors.csv",
            "tags.csv"
        ]
    );
    for name in names {
        let mut inside = Vec::new();
        ar.by_name(&name).unwrap().read_to_end(&mut inside).unwrap();
        let alone = ExportFormat::from_file_name(&name).unwrap();
        assert_eq!(inside, inv.export(alone, &o).unwrap(), "{name}");
    }
}

fn an_empty_inventory_exports_valid_files_and_exports_write_nothing(b: Backend) {
    let (db, inv) = fresh(b);
    let o = ExportOptions {
        exported_at: Some("t".into()),
        ..Default::default()
    };
    let bundle = text(&inv, ExportFormat::BundleJson, &o);
    assert_eq!(
        bundle,
        "{\n  \"app\": \"ipocket\",\n  \"schema_version\": \"1\",\n  \"exported_at\": \"t\",\n  \
         \"data\": {\n    \"vendors\": [],\n    \"projects\": [],\n    \"tags\": [],\n    \
         \"ip_ranges\": [],\n    \"hosts\": [],\n    \"ip_assets\": []\n  }\n}\n"
    );
    assert_eq!(text(&inv, ExportFormat::IpAssetsJson, &o), "[]\n");
    assert_eq!(text(&inv, ExportFormat::VendorsCsv, &o), "name\n");
    for f in ExportFormat::ALL {
        inv.export(f, &o).unwrap();
    }
    assert_eq!(db.count("SELECT COUNT(*) FROM audit_logs"), 0);
}

ipocket_testkit::on_both_backends!(
    lists_sort_byte_by_byte_and_derive_host_columns,
    assets_export_in_address_order_with_their_times,
    filters_limit_assets_projects_and_hosts,
    the_bundle_is_stamped_with_the_inventorys_clock,
    the_zip_holds_every_file_as_exported_alone,
    an_empty_inventory_exports_valid_files_and_exports_write_nothing,
);
