//! IP ranges on both backends: CRUD with audit rows, validation and refused writes,
//! overlapping ranges, utilization, address list pages, next free and allocation (a full
//! range, and eight handles allocating from one range at once).

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use ipocket_core::{
    Actor, AddressStatus, AssetType, AuditFilter, Error, InputLimits, Inventory, NewIpAsset, Page,
    Role, SkippedAddress,
};
use ipocket_db::Backend;

use crate::{fresh, Db};

fn add(inv: &mut Inventory, ip: &str) {
    inv.create_ip_asset(&Actor::system(), &NewIpAsset::new(ip, AssetType::Vm))
        .unwrap();
}

/// The audit rows about ranges, oldest first, as `ACTION label field:before>after …`.
fn range_audit(inv: &Inventory) -> Vec<String> {
    let filter = AuditFilter {
        target_type: Some("IP_RANGE".into()),
        ..Default::default()
    };
    let mut rows: Vec<String> = inv
        .audit_log(&filter, Page::all())
        .unwrap()
        .items
        .into_iter()
        .map(|e| {
            let changes: Vec<String> = e
                .changes
                .iter()
                .map(|c| {
                    format!(
                        "{}:{}>{}",
                        c.field,
                        c.before.as_deref().unwrap_or("-"),
                        c.after.as_deref().unwrap_or("-")
                    )
                })
                .collect();
            format!("{} {} {}", e.action, e.target_label, changes.join(" "))
                .trim_end()
                .to_string()
        })
        .collect();
    rows.reverse();
    rows
}

fn template() -> NewIpAsset {
    NewIpAsset::new("", AssetType::Vm)
}

fn a_range_is_created_listed_updated_and_deleted_with_audit_rows(b: Backend) {
    let (_db, mut inv) = fresh(b);
    let a = Actor::system();
    let lab = inv
        .create_ip_range(&a, " lab ", "192.168.10.17/24", Some("  rack 4 "))
        .unwrap();
    assert_eq!(
        (lab.name.as_str(), lab.cidr.as_str(), lab.notes.as_deref()),
        ("lab", "192.168.10.0/24", Some("rack 4"))
    );
    let v6 = inv
        .create_ip_range(&a, "v6", "2001:DB8::/64", None)
        .unwrap();
    let ten = inv.create_ip_range(&a, "ten", "10.0.0.0/8", None).unwrap();
    assert_eq!(inv.ip_range(lab.id).unwrap(), lab);
    let order: Vec<String> = inv
        .ip_ranges()
        .unwrap()
        .into_iter()
        .map(|r| r.cidr)
        .collect();
    assert_eq!(
        order,
        ["10.0.0.0/8", "192.168.10.0/24", "2001:db8::/64"],
        "IPv4 first, by network"
    );

    let renamed = inv
        .update_ip_range(&a, lab.id, Some("Lab 2"), Some(None))
        .unwrap();
    assert_eq!(
        (
            renamed.name.as_str(),
            renamed.cidr.as_str(),
            renamed.notes.as_deref()
        ),
        ("Lab 2", "192.168.10.0/24", None)
    );
    assert_eq!(inv.ip_range(lab.id).unwrap(), renamed);
    // Nothing changes: no audit row.
    assert_eq!(
        inv.update_ip_range(&a, lab.id, Some("Lab 2"), None)
            .unwrap(),
        renamed
    );
    inv.update_ip_range(&a, ten.id, None, Some(Some("core")))
        .unwrap();
    inv.delete_ip_range(&a, v6.id).unwrap();
    assert!(matches!(inv.ip_range(v6.id), Err(Error::NotFound { .. })));
    assert_eq!(inv.ip_ranges().unwrap().len(), 2);
    assert_eq!(
        range_audit(&inv),
        [
            "CREATE 192.168.10.0/24 name:->lab cidr:->192.168.10.0/24",
            "CREATE 2001:db8::/64 name:->v6 cidr:->2001:db8::/64",
            "CREATE 10.0.0.0/8 name:->ten cidr:->10.0.0.0/8",
            "UPDATE 192.168.10.0/24 name:lab>Lab 2 notes:rack 4>-",
            "UPDATE 10.0.0.0/8 notes:->core",
            "DELETE 2001:db8::/64",
        ]
    );
}

fn refused_range_writes_change_nothing(b: Backend) {
    let (db, mut inv) = fresh(b);
    let a = Actor::system();
    let lab = inv.create_ip_range(&a, "lab", "10.9.0.0/24", None).unwrap();
    let invalid = |r: Result<_, Error>| match r {
        Err(Error::Invalid { field, .. }) => field,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        invalid(inv.create_ip_range(&a, "  ", "10.1.0.0/24", None)),
        "range name"
    );
    assert_eq!(
        invalid(inv.create_ip_range(&a, "x", "10.1.0.0/33", None)),
        "cidr"
    );
    assert_eq!(invalid(inv.create_ip_range(&a, "x", "lab", None)), "cidr");
    let e = inv
        .create_ip_range(&a, "again", "10.9.0.77/24", None)
        .unwrap_err();
    assert!(
        matches!(&e, Error::Conflict(m) if m == "range 10.9.0.0/24 already exists"),
        "{e}"
    );
    inv.set_input_limits(InputLimits {
        max_text_chars: 5,
        ..Default::default()
    });
    assert_eq!(
        invalid(inv.create_ip_range(&a, "x", "10.2.0.0/24", Some("too long"))),
        "notes"
    );
    assert_eq!(
        invalid(inv.update_ip_range(&a, lab.id, None, Some(Some("too long")))),
        "notes"
    );
    assert_eq!(
        invalid(inv.update_ip_range(&a, lab.id, Some(" "), None)),
        "range name"
    );
    assert!(matches!(
        inv.update_ip_range(&a, 999, Some("x"), None),
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        inv.delete_ip_range(&a, 999),
        Err(Error::NotFound { .. })
    ));
    let viewer = Actor {
        user_id: None,
        username: Some("viewer".into()),
        role: Some(Role::Viewer),
    };
    for e in [
        inv.create_ip_range(&viewer, "v", "10.3.0.0/24", None)
            .map(|_| ()),
        inv.update_ip_range(&viewer, lab.id, Some("v"), None)
            .map(|_| ()),
        inv.delete_ip_range(&viewer, lab.id),
        inv.allocate_next(&viewer, lab.id, &template()).map(|_| ()),
    ] {
        assert!(matches!(e, Err(Error::Forbidden(_))), "{e:?}");
    }
    assert_eq!(inv.ip_ranges().unwrap(), [lab]);
    assert_eq!(db.count("SELECT COUNT(*) FROM ip_ranges"), 1);
    assert_eq!(db.count("SELECT COUNT(*) FROM ip_assets"), 0);
    assert_eq!(
        db.count("SELECT COUNT(*) FROM audit_logs"),
        1,
        "the create only"
    );
}

fn overlapping_ranges_each_count_the_addresses_inside(b: Backend) {
    let (_db, mut inv) = fresh(b);
    let a = Actor::system();
    let wide = inv
        .create_ip_range(&a, "wide", "10.0.0.0/16", None)
        .unwrap();
    let narrow = inv
        .create_ip_range(&a, "narrow", "10.0.1.0/24", None)
        .unwrap();
    for ip in ["10.0.0.5", "10.0.1.1", "10.0.1.2", "10.1.0.1"] {
        add(&mut inv, ip);
    }
    let all = inv.all_range_utilization().unwrap();
    let used: Vec<(&str, u128)> = all
        .iter()
        .map(|u| (u.range.name.as_str(), u.used))
        .collect();
    assert_eq!(used, [("wide", 3), ("narrow", 2)]);
    assert_eq!(inv.range_utilization(wide.id).unwrap().used, 3);
    assert_eq!(
        inv.next_free_address(narrow.id).unwrap().as_deref(),
        Some("10.0.1.3")
    );
    assert_eq!(
        inv.next_free_address(wide.id).unwrap().as_deref(),
        Some("10.0.0.1")
    );
}

fn utilization_counts_active_assets_in_u128(b: Backend) {
    let (_db, mut inv) = fresh(b);
    let a = Actor::system();
    let lab = inv
        .create_ip_range(&a, "lab", "192.168.10.0/24", None)
        .unwrap();
    for ip in [
        "192.168.10.0",
        "192.168.10.1",
        "192.168.10.2",
        "192.168.11.1",
        "192.168.10.3",
    ] {
        add(&mut inv, ip);
    }
    inv.archive_ip_asset(&a, "192.168.10.3").unwrap();
    let u = inv.range_utilization(lab.id).unwrap();
    // The network address counts as used, not as usable: free is usable minus the used
    // usable ones.
    assert_eq!((u.total, u.usable, u.used, u.free), (256, 254, 3, 252));
    assert!((u.percent - 3.0 / 254.0 * 100.0).abs() < 1e-9);
    assert_eq!(u.subnets_64, None);

    let p2p = inv.create_ip_range(&a, "p2p", "10.0.0.0/31", None).unwrap();
    let one = inv.create_ip_range(&a, "one", "10.0.1.1/32", None).unwrap();
    assert_eq!(inv.range_utilization(p2p.id).unwrap().usable, 2);
    add(&mut inv, "10.0.1.1");
    let u = inv.range_utilization(one.id).unwrap();
    assert_eq!((u.usable, u.used, u.free, u.percent), (1, 1, 0, 100.0));

    let v6 = inv
        .create_ip_range(&a, "v6", "2001:db8:0:1::/64", None)
        .unwrap();
    add(&mut inv, "2001:db8:0:1::1");
    add(&mut inv, "2001:db8:0:2::1");
    let u = inv.range_utilization(v6.id).unwrap();
    assert_eq!(
        (u.total, u.used, u.free, u.subnets_64),
        (1u128 << 64, 1, (1u128 << 64) - 1, Some(1))
    );
    let all = inv.create_ip_range(&a, "all", "::/0", None).unwrap();
    let u = inv.range_utilization(all.id).unwrap();
    assert_eq!(
        (u.total, u.used, u.subnets_64),
        (u128::MAX, 2, Some(1u128 << 64))
    );
    assert!(matches!(
        inv.range_utilization(999),
        Err(Error::NotFound { .. })
    ));
    let names: Vec<String> = inv
        .all_range_utilization()
        .unwrap()
        .into_iter()
        .map(|u| u.range.name)
        .collect();
    assert_eq!(names, ["p2p", "one", "lab", "all", "v6"]);
}

fn address_lists_page_through_used_and_free_addresses(b: Backend) {
    let (_db, mut inv) = fresh(b);
    let a = Actor::system();
    let r = inv.create_ip_range(&a, "lab", "10.1.0.0/29", None).unwrap();
    // Usable .1–.6; .1, .3 and .4 used, .5 archived (free).
    for ip in ["10.1.0.1", "10.1.0.3", "10.1.0.4", "10.1.0.5"] {
        add(&mut inv, ip);
    }
    inv.archive_ip_asset(&a, "10.1.0.5").unwrap();
    let rows = inv.range_addresses(r.id, 0, 100).unwrap();
    let got: Vec<(&str, AddressStatus, Option<&str>)> = rows
        .iter()
        .map(|x| {
            (
                x.ip_address.as_str(),
                x.status,
                x.asset.as_ref().map(|a| a.ip_address.as_str()),
            )
        })
        .collect();
    use AddressStatus::{Free, Used};
    assert_eq!(
        got,
        [
            ("10.1.0.1", Used, Some("10.1.0.1")),
            ("10.1.0.2", Free, None),
            ("10.1.0.3", Used, Some("10.1.0.3")),
            ("10.1.0.4", Used, Some("10.1.0.4")),
            ("10.1.0.5", Free, None),
            ("10.1.0.6", Free, None),
        ]
    );
    let page: Vec<String> = inv
        .range_addresses(r.id, 2, 3)
        .unwrap()
        .into_iter()
        .map(|x| x.ip_address)
        .collect();
    assert_eq!(page, ["10.1.0.3", "10.1.0.4", "10.1.0.5"]);
    assert!(inv.range_addresses(r.id, 6, 10).unwrap().is_empty());
    assert!(inv.range_addresses(r.id, 0, 0).unwrap().is_empty());

    let free = |inv: &Inventory, o, l| inv.range_free_addresses(r.id, o, l).unwrap();
    assert_eq!(free(&inv, 0, 10), ["10.1.0.2", "10.1.0.5", "10.1.0.6"]);
    assert_eq!(free(&inv, 1, 1), ["10.1.0.5"]);
    assert!(free(&inv, 3, 5).is_empty());

    // Deep into an IPv6 /64: the last three addresses.
    let v6 = inv
        .create_ip_range(&a, "v6", "2001:db8::/64", None)
        .unwrap();
    add(&mut inv, "2001:db8::ffff:ffff:ffff:fffe");
    let tail: Vec<(String, AddressStatus)> = inv
        .range_addresses(v6.id, (1u128 << 64) - 3, 10)
        .unwrap()
        .into_iter()
        .map(|x| (x.ip_address, x.status))
        .collect();
    assert_eq!(
        tail,
        [
            ("2001:db8::ffff:ffff:ffff:fffd".to_string(), Free),
            ("2001:db8::ffff:ffff:ffff:fffe".to_string(), Used),
            ("2001:db8::ffff:ffff:ffff:ffff".to_string(), Free),
        ]
    );
    assert_eq!(
        inv.range_free_addresses(v6.id, (1u128 << 64) - 4, 10)
            .unwrap(),
        [
            "2001:db8::ffff:ffff:ffff:fffc",
            "2001:db8::ffff:ffff:ffff:fffd",
            "2001:db8::ffff:ffff:ffff:ffff"
        ]
    );
    assert!(matches!(
        inv.range_addresses(999, 0, 1),
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        inv.range_free_addresses(999, 0, 1),
        Err(Error::NotFound { .. })
    ));
}

fn next_free_skips_used_and_avoided_addresses(b: Backend) {
    let (db, mut inv) = fresh(b);
    let a = Actor::system();
    let r = inv.create_ip_range(&a, "lab", "10.3.0.0/29", None).unwrap();
    for ip in ["10.3.0.1", "10.3.0.3"] {
        add(&mut inv, ip);
    }
    assert_eq!(
        inv.next_free_address(r.id).unwrap().as_deref(),
        Some("10.3.0.2")
    );
    let avoid: BTreeMap<IpAddr, String> = [("10.3.0.2", "up in Prometheus"), ("10.3.0.5", "up")]
        .into_iter()
        .map(|(ip, why)| (ip.parse().unwrap(), why.to_string()))
        .collect();
    let n = inv.next_free_avoiding(r.id, &avoid).unwrap();
    assert_eq!(n.ip_address.as_deref(), Some("10.3.0.4"));
    assert_eq!(
        n.skipped,
        [SkippedAddress {
            ip_address: "10.3.0.2".into(),
            reason: "up in Prometheus".into()
        }]
    );
    let (got, skipped) = inv
        .allocate_next_avoiding(&a, r.id, &template(), &avoid)
        .unwrap();
    assert_eq!((got.ip_address.as_str(), skipped.len()), ("10.3.0.4", 1));
    let (got, skipped) = inv
        .allocate_next_avoiding(&a, r.id, &template(), &avoid)
        .unwrap();
    let passed: Vec<&str> = skipped.iter().map(|s| s.ip_address.as_str()).collect();
    assert_eq!(
        (got.ip_address.as_str(), passed),
        ("10.3.0.6", vec!["10.3.0.2", "10.3.0.5"])
    );
    // Only avoided addresses are left: full for the avoiding allocator, not for the plain one.
    assert!(matches!(
        inv.allocate_next_avoiding(&a, r.id, &template(), &avoid),
        Err(Error::RangeFull(c)) if c == "10.3.0.0/29"
    ));
    let mut t = template();
    t.notes = Some("allocated".into());
    t.tags = vec!["new".into()];
    let got = inv.allocate_next(&a, r.id, &t).unwrap();
    assert_eq!(
        (
            got.ip_address.as_str(),
            got.notes.as_deref(),
            got.tags.clone()
        ),
        ("10.3.0.2", Some("allocated"), vec!["new".to_string()])
    );
    // An archived address inside the range is handed out again: the same asset, restored.
    let old = inv.ip_asset("10.3.0.1").unwrap();
    inv.archive_ip_asset(&a, "10.3.0.1").unwrap();
    let again = inv.allocate_next(&a, r.id, &template()).unwrap();
    assert_eq!((again.ip_address.as_str(), again.id), ("10.3.0.1", old.id));
    let actions: Vec<String> = inv
        .audit_log(
            &AuditFilter {
                target_type: Some("IP_ASSET".into()),
                ..Default::default()
            },
            Page::all(),
        )
        .unwrap()
        .items
        .into_iter()
        .map(|e| format!("{} {}", e.action, e.target_label))
        .collect();
    assert_eq!(
        actions[..4],
        [
            "RESTORE 10.3.0.1",
            "ARCHIVE 10.3.0.1",
            "CREATE 10.3.0.2",
            "CREATE 10.3.0.6"
        ]
    );
    assert_eq!(db.count("SELECT COUNT(*) FROM ip_assets"), 5);
}

fn allocating_in_a_full_range_is_range_full_and_writes_nothing(b: Backend) {
    let (db, mut inv) = fresh(b);
    let a = Actor::system();
    let r = inv.create_ip_range(&a, "p2p", "10.5.0.0/31", None).unwrap();
    let got: Vec<String> = (0..2)
        .map(|_| inv.allocate_next(&a, r.id, &template()).unwrap().ip_address)
        .collect();
    assert_eq!(got, ["10.5.0.0", "10.5.0.1"]);
    assert_eq!(inv.next_free_address(r.id).unwrap(), None);
    let audit_rows = db.count("SELECT COUNT(*) FROM audit_logs");
    let e = inv.allocate_next(&a, r.id, &template()).unwrap_err();
    assert!(
        matches!(&e, Error::RangeFull(c) if c == "10.5.0.0/31"),
        "{e}"
    );
    assert_eq!(
        ipocket_errors::Classify::kind(&e),
        ipocket_errors::ErrorKind::Conflict
    );
    assert!(matches!(
        inv.allocate_next(&a, 999, &template()),
        Err(Error::NotFound { .. })
    ));
    // A template the asset rules refuse leaves the range as it was.
    let r2 = inv
        .create_ip_range(&a, "more", "10.6.0.0/30", None)
        .unwrap();
    let mut bad = template();
    bad.tags = vec!["not a tag!".into()];
    assert!(matches!(
        inv.allocate_next(&a, r2.id, &bad),
        Err(Error::Invalid { .. })
    ));
    assert_eq!(db.count("SELECT COUNT(*) FROM ip_assets"), 2);
    assert_eq!(
        db.count("SELECT COUNT(*) FROM audit_logs"),
        audit_rows + 1,
        "the second range's CREATE only"
    );
}

/// A range filled past the keys one statement reads (512): next free and allocation
/// still find the first gap, and a full range is full.
fn next_free_reads_past_a_dense_run_of_used_addresses(b: Backend) {
    let (_db, mut inv) = fresh(b);
    let a = Actor::system();
    let r = inv
        .create_ip_range(&a, "dense", "10.8.0.0/22", None)
        .unwrap();
    let nth = |n: u32| {
        std::net::Ipv4Addr::from(u32::from(std::net::Ipv4Addr::new(10, 8, 0, 0)) + n).to_string()
    };
    for n in 1..=1022 {
        if n == 513 {
            assert_eq!(inv.next_free_address(r.id).unwrap(), Some(nth(513)));
        }
        assert_eq!(
            inv.allocate_next(&a, r.id, &template()).unwrap().ip_address,
            nth(n)
        );
    }
    assert_eq!(inv.next_free_address(r.id).unwrap(), None);
    assert!(matches!(
        inv.allocate_next(&a, r.id, &template()),
        Err(Error::RangeFull(_))
    ));
    inv.archive_ip_asset(&a, &nth(1000)).unwrap();
    assert_eq!(inv.next_free_address(r.id).unwrap(), Some(nth(1000)));
    inv.archive_ip_asset(&a, &nth(600)).unwrap();
    let avoid: BTreeMap<IpAddr, String> = [(nth(600).parse().unwrap(), "up".to_string())].into();
    assert_eq!(
        inv.next_free_avoiding(r.id, &avoid).unwrap().ip_address,
        Some(nth(1000))
    );
    assert_eq!(inv.range_utilization(r.id).unwrap().free, 2);
}

/// Eight handles (each its own connection or pool, as eight replicas have) allocate 50
/// addresses each from one range at once: every address handed out once, one audit row each.
fn concurrent_allocators_never_share_an_address(b: Backend) {
    const THREADS: usize = 8;
    const EACH: usize = 50;
    let db = Db::new(b);
    let mut setup = db.inventory();
    let r = setup
        .create_ip_range(&Actor::system(), "pool", "10.20.0.0/22", None)
        .unwrap();
    let handles: Vec<Inventory> = (0..THREADS).map(|_| db.inventory()).collect();
    let start = std::sync::Arc::new(std::sync::Barrier::new(THREADS));
    let threads: Vec<_> = handles
        .into_iter()
        .map(|mut inv| {
            let start = start.clone();
            std::thread::spawn(move || {
                start.wait();
                (0..EACH)
                    .map(|_| {
                        inv.allocate_next(&Actor::system(), r.id, &template())
                            .unwrap()
                            .ip_address
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let got: Vec<String> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    let distinct: BTreeSet<IpAddr> = got.iter().map(|ip| ip.parse().unwrap()).collect();
    assert_eq!(got.len(), THREADS * EACH);
    assert_eq!(
        distinct.len(),
        THREADS * EACH,
        "an address was handed out twice"
    );
    // Each allocation took the lowest free address: together the first 400 usable ones.
    let first: IpAddr = "10.20.0.1".parse().unwrap();
    let last: IpAddr = "10.20.1.144".parse().unwrap();
    assert_eq!(
        (distinct.first(), distinct.last()),
        (Some(&first), Some(&last))
    );
    assert_eq!(
        db.count(
            "SELECT COUNT(*) FROM audit_logs WHERE target_type = 'IP_ASSET' AND action = 'CREATE'"
        ),
        (THREADS * EACH) as i64
    );
    assert_eq!(
        db.count(
            "SELECT COUNT(DISTINCT target_label) FROM audit_logs WHERE target_type = 'IP_ASSET'"
        ),
        (THREADS * EACH) as i64
    );
    let u = setup.range_utilization(r.id).unwrap();
    assert_eq!(u.used, (THREADS * EACH) as u128);
}

ipocket_testkit::on_both_backends!(
    a_range_is_created_listed_updated_and_deleted_with_audit_rows,
    refused_range_writes_change_nothing,
    overlapping_ranges_each_count_the_addresses_inside,
    utilization_counts_active_assets_in_u128,
    address_lists_page_through_used_and_free_addresses,
    next_free_skips_used_and_avoided_addresses,
    allocating_in_a_full_range_is_range_full_and_writes_nothing,
    next_free_reads_past_a_dense_run_of_used_addresses,
    concurrent_allocators_never_share_an_address,
);
