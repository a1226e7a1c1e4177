//! Export → import into an empty inventory → export gives the same bytes,
//! for bundle JSON, the CSV set and the zip.

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipocket_core::import::{parse_csv, parse_json_files, CsvFile, CsvKind, JsonFile, JsonKind};
use ipocket_core::*;
use proptest::prelude::*;
use serde_json::{json, Value};

const NOW: &str = "2024-01-01 00:00:00";

fn empty() -> Inventory {
    let mut inv = Inventory::open_in_memory().unwrap();
    inv.set_fixed_time(Some(NOW.into()));
    inv
}

fn import(inv: &mut Inventory, b: Bundle) {
    let plan = inv.plan(b, &ImportOptions::default()).unwrap();
    inv.apply(&Actor::system(), &plan).unwrap();
}

fn opts() -> ExportOptions {
    ExportOptions {
        include_archived: true,
        exported_at: Some("2024-01-01T00:00:00+00:00".into()),
        ..Default::default()
    }
}

fn color() -> impl Strategy<Value = String> {
    "#[0-9a-f]{6}"
}

fn ip() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        (0u32..4096).prop_map(|n| IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + n))),
        any::<u128>().prop_map(|n| IpAddr::V6(Ipv6Addr::from(n))),
    ]
}

prop_compose! {
    fn inventory_bundle()(
        projects in proptest::collection::btree_map("[A-Za-z]([A-Za-z0-9 _-]{0,7}[A-Za-z0-9])?", (color(), "(=|\\+|-|@|'=|''-)?[a-z ,\"]{0,10}"), 0..4),
        vendors in proptest::collection::btree_set("[A-Z][a-z]{1,6}", 0..3),
        tags in proptest::collection::btree_map("[a-z0-9_-]{1,6}", color(), 0..5),
        hosts in proptest::collection::btree_map("[a-z]{1,6}-[0-9]{1,2}", ("[a-z ]{0,8}", any::<prop::sample::Index>(), any::<bool>()), 0..4),
        assets in proptest::collection::vec(
            (ip(), 0usize..5, any::<prop::sample::Index>(), any::<bool>(), any::<prop::sample::Index>(), any::<bool>(),
             proptest::collection::vec(any::<prop::sample::Index>(), 0..3), "(=|\\+|-|@|'@|'x)?[a-zA-Z0-9 ,;\"\n]{0,12}", any::<bool>()),
            0..25),
        ranges in proptest::collection::btree_set((0u32..64, 24u8..31), 0..3),
    ) -> Value {
        let types = ["OS", "BMC", "VM", "VIP", "OTHER"];
        let pnames: Vec<&String> = projects.keys().collect();
        let vnames: Vec<&String> = vendors.iter().collect();
        let tnames: Vec<&String> = tags.keys().collect();
        let hnames: Vec<&String> = hosts.keys().collect();
        let mut seen = BTreeSet::new();
        let mut ip_assets = Vec::new();
        for (ip, t, p, has_p, h, has_h, tg, notes, archived) in assets {
            if !seen.insert(ip) { continue; }
            let tag_list: BTreeSet<&String> = if tnames.is_empty() { BTreeSet::new() } else { tg.iter().map(|i| *i.get(&tnames)).collect() };
            ip_assets.push(json!({
                "ip_address": ip.to_string(), "type": types[t],
                "project_name": if has_p && !pnames.is_empty() { Some(p.get(&pnames).as_str()) } else { None },
                "host_name": if has_h && !hnames.is_empty() { Some(h.get(&hnames).as_str()) } else { None },
                "tags": tag_list, "notes": notes, "archived": archived,
            }));
        }
        json!({"app": "ipocket", "schema_version": "1", "data": {
            "vendors": vendors.iter().map(|v| json!({"name": v})).collect::<Vec<_>>(),
            "projects": projects.iter().map(|(n, (c, d))| json!({"name": n, "color": c, "description": d})).collect::<Vec<_>>(),
            "tags": tags.iter().map(|(n, c)| json!({"name": n, "color": c})).collect::<Vec<_>>(),
            "ip_ranges": ranges.iter().map(|(n, len)| json!({"name": format!("r{n}"), "cidr": format!("10.{n}.0.0/{len}")})).collect::<Vec<_>>(),
            "hosts": hosts.iter().map(|(n, (notes, v, has_v))| json!({"name": n, "notes": notes,
                "vendor_name": if *has_v && !vnames.is_empty() { Some(v.get(&vnames).as_str()) } else { None }})).collect::<Vec<_>>(),
            "ip_assets": ip_assets,
        }})
    }
}

fn csv_set(inv: &Inventory) -> Vec<(&'static str, Vec<u8>)> {
    [
        ExportFormat::IpAssetsCsv,
        ExportFormat::HostsCsv,
        ExportFormat::ProjectsCsv,
        ExportFormat::VendorsCsv,
        ExportFormat::TagsCsv,
    ]
    .into_iter()
    .map(|f| (f.file_name(), inv.export(f, &opts()).unwrap()))
    .collect()
}

fn json_set(inv: &Inventory) -> Vec<(&'static str, Vec<u8>)> {
    [
        ExportFormat::VendorsJson,
        ExportFormat::ProjectsJson,
        ExportFormat::TagsJson,
        ExportFormat::HostsJson,
        ExportFormat::IpAssetsJson,
    ]
    .into_iter()
    .map(|f| (f.file_name(), inv.export(f, &opts()).unwrap()))
    .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn bundle_json_round_trip_is_byte_identical(src in inventory_bundle()) {
        let mut first = empty();
        import(&mut first, parse_bundle_json(src.to_string().as_bytes()).unwrap());
        let a = first.export(ExportFormat::BundleJson, &opts()).unwrap();
        let mut second = empty();
        import(&mut second, parse_bundle_json(&a).unwrap());
        let b = second.export(ExportFormat::BundleJson, &opts()).unwrap();
        prop_assert_eq!(String::from_utf8(a).unwrap(), String::from_utf8(b).unwrap());
    }

    #[test]
    fn csv_round_trip_is_byte_identical(src in inventory_bundle()) {
        let mut first = empty();
        import(&mut first, parse_bundle_json(src.to_string().as_bytes()).unwrap());
        let a = csv_set(&first);
        let files: Vec<CsvFile<'_>> = a.iter().map(|(n, d)| CsvFile { kind: CsvKind::from_file_name(n).unwrap(), name: n, data: d }).collect();
        let mut second = empty();
        import(&mut second, parse_csv(&files).unwrap());
        let b = csv_set(&second);
        for ((n, x), (_, y)) in a.iter().zip(&b) {
            prop_assert_eq!(String::from_utf8_lossy(x), String::from_utf8_lossy(y), "{}", n);
        }
    }

    #[test]
    fn json_exports_round_trip_is_byte_identical(src in inventory_bundle()) {
        let mut first = empty();
        import(&mut first, parse_bundle_json(src.to_string().as_bytes()).unwrap());
        let a = json_set(&first);
        let files: Vec<JsonFile<'_>> = a.iter().map(|(n, d)| JsonFile { kind: JsonKind::from_file_name(n).unwrap(), name: n, data: d }).collect();
        let mut second = empty();
        import(&mut second, parse_json_files(&files).unwrap());
        let b = json_set(&second);
        for ((n, x), (_, y)) in a.iter().zip(&b) {
            prop_assert_eq!(String::from_utf8_lossy(x), String::from_utf8_lossy(y), "{}", n);
        }
    }

    #[test]
    fn zip_round_trip_is_byte_identical(src in inventory_bundle()) {
        let mut first = empty();
        import(&mut first, parse_bundle_json(src.to_string().as_bytes()).unwrap());
        let a = first.export(ExportFormat::BundleZip, &opts()).unwrap();
        let mut second = empty();
        import(&mut second, ipocket_core::parse_bundle_zip(&a).unwrap());
        prop_assert!(a == second.export(ExportFormat::BundleZip, &opts()).unwrap());
    }
}

#[test]
fn json_export_of_assets_reimports() {
    let mut first = empty();
    let b = parse_bundle_json(br#"{"schema_version":"1","data":{"ip_assets":[{"ip_address":"10.0.0.1","type":"VM","tags":["a"],"notes":"n"},{"ip_address":"::1","type":"OS","archived":true}]}}"#).unwrap();
    import(&mut first, b);
    let a = first.export(ExportFormat::IpAssetsJson, &opts()).unwrap();
    let mut second = empty();
    import(&mut second, parse_bundle_json(&a).unwrap());
    assert_eq!(
        a,
        second.export(ExportFormat::IpAssetsJson, &opts()).unwrap()
    );
}

#[test]
fn hosts_and_projects_json_import_on_their_own() {
    let mut first = empty();
    let b = parse_bundle_json(br##"{"schema_version":"1","data":{"vendors":[{"name":"HPE"}],
        "projects":[{"name":"Core","description":"d","color":"#112233"}],
        "hosts":[{"name":"node-01","notes":"rack 1","vendor_name":"HPE"}],
        "ip_assets":[{"ip_address":"10.0.0.11","type":"OS","project_name":"Core","host_name":"node-01"},
                     {"ip_address":"10.0.0.12","type":"BMC","project_name":"Core","host_name":"node-01"}]}}"##).unwrap();
    import(&mut first, b);
    let projects = first.export(ExportFormat::ProjectsJson, &opts()).unwrap();
    let hosts = first.export(ExportFormat::HostsJson, &opts()).unwrap();
    let mut second = empty();
    import(
        &mut second,
        import::parse_file("projects.json", &projects, NOW).unwrap(),
    );
    let plan = second
        .plan(
            import::parse_file("hosts.json", &hosts, NOW).unwrap(),
            &ImportOptions::default(),
        )
        .unwrap();
    // the host, its vendor, and its OS and BMC addresses; the project exists
    let s = plan.summary;
    assert_eq!(
        (
            s.hosts.create,
            s.vendors.create,
            s.ip_assets.create,
            s.projects.skip
        ),
        (1, 1, 2, 1)
    );
    second.apply(&Actor::system(), &plan).unwrap();
    for f in [
        ExportFormat::ProjectsJson,
        ExportFormat::HostsJson,
        ExportFormat::VendorsJson,
        ExportFormat::IpAssetsJson,
    ] {
        assert_eq!(
            String::from_utf8(first.export(f, &opts()).unwrap()).unwrap(),
            String::from_utf8(second.export(f, &opts()).unwrap()).unwrap(),
            "{f:?}"
        );
    }
    let err = import::parse_file(
        "hosts.json",
        br#"[{"name":"h","os_ip":"10.0.0.999"},{"nam":"x"}]"#,
        NOW,
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains(r#"hosts.json[0].os_ip: invalid IP address "10.0.0.999""#),
        "{err}"
    );
    assert!(
        err.contains(r#"hosts.json[1].nam: unknown field "nam""#),
        "{err}"
    );
    assert!(
        err.contains("hosts.json[1].name: name is required"),
        "{err}"
    );
    let err = import::parse_file("projects.json", br#"{"name":"x"}"#, NOW)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("expected an array of projects, found an object"),
        "{err}"
    );
}
