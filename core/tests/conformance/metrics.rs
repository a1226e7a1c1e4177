//! The inventory's `/metrics` gauges and the dashboard summary on both backends.

use ipocket_core::{Actor, AssetType, ExpositionFormat, Inventory, InventorySummary, NewIpAsset};
use ipocket_db::Backend;

use crate::{fresh, Db};

/// Addresses with and without a project, an archived one, a host, a vendor, a tag, and two
/// ranges (written as rows: creating ranges is the ranges module's behaviour).
fn seeded(b: Backend) -> (Db, Inventory) {
    let (db, mut inv) = fresh(b);
    let a = Actor::system();
    let p = inv.create_project(&a, "core", None, None).unwrap();
    inv.create_project(&a, "spare", None, None).unwrap();
    let v = inv.create_vendor(&a, "HPE").unwrap();
    inv.create_host(&a, "node-01", None, Some(v.id)).unwrap();
    for (ip, t, project) in [
        ("10.0.0.1", AssetType::Vm, Some(p.id)),
        ("10.0.0.2", AssetType::Os, None),
        ("10.0.0.3", AssetType::Os, None),
        ("10.0.1.1", AssetType::Os, Some(p.id)),
        ("2001:db8::1", AssetType::Vip, None),
    ] {
        let new = NewIpAsset {
            project_id: project,
            tags: vec!["prod".into()],
            ..NewIpAsset::new(ip, t)
        };
        inv.create_ip_asset(&a, &new).unwrap();
    }
    inv.archive_ip_asset(&a, "10.0.0.3").unwrap();
    for (name, cidr) in [("lab \"a\"", "10.0.0.0/24"), ("v6", "2001:db8::/64")] {
        // `rows` runs the statement on a connection of its own; RETURNING makes it a query.
        db.rows(&format!(
            "INSERT INTO ip_ranges (name, cidr, created_at, updated_at)
             VALUES ('{}', '{cidr}', '2026-01-01 00:00:00', '2026-01-01 00:00:00') RETURNING id",
            name.replace('\'', "''")
        ));
    }
    (db, inv)
}

fn the_summary_counts_every_kind_of_record(b: Backend) {
    let (_db, inv) = fresh(b);
    assert_eq!(inv.summary().unwrap(), InventorySummary::default());
    let (_db, inv) = seeded(b);
    assert_eq!(
        inv.summary().unwrap(),
        InventorySummary {
            active_ip_total: 4,
            archived_ip_total: 1,
            unassigned_ip_total: 2,
            host_total: 1,
            vendor_total: 1,
            project_total: 2,
            tag_total: 1,
            range_total: 2,
        }
    );
}

fn metrics_count_the_inventory(b: Backend) {
    let (_db, inv) = seeded(b);
    let m = inv.inventory_metrics().unwrap();
    for (name, value) in [
        ("ipam_ip_total", 5.0),
        ("ipam_ip_archived_total", 1.0),
        ("ipam_ip_unassigned_project_total", 2.0),
        ("ipam_ip_unassigned_owner_total", 0.0),
        ("ipam_ip_unassigned_both_total", 0.0),
    ] {
        assert_eq!(m.value(name), Some(value), "{name}");
    }
    let samples = |name: &str| -> Vec<(Vec<(String, String)>, f64)> {
        m.families
            .iter()
            .find(|f| f.name == name)
            .unwrap()
            .samples
            .iter()
            .map(|s| (s.labels.clone(), s.value))
            .collect()
    };
    let l = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    assert_eq!(
        samples("ipam_ip_active"),
        [
            (l(&[("type", "OS")]), 2.0),
            (l(&[("type", "BMC")]), 0.0),
            (l(&[("type", "VM")]), 1.0),
            (l(&[("type", "VIP")]), 1.0),
            (l(&[("type", "OTHER")]), 0.0),
        ]
    );
    let lab = l(&[("range", "lab \"a\""), ("cidr", "10.0.0.0/24")]);
    let v6 = l(&[("range", "v6"), ("cidr", "2001:db8::/64")]);
    assert_eq!(
        samples("ipam_range_used_addresses"),
        [(lab.clone(), 2.0), (v6.clone(), 1.0)]
    );
    assert_eq!(
        samples("ipam_range_usable_addresses"),
        [(lab, 254.0), (v6, 2f64.powi(64))]
    );
}

/// The same data renders the same `/metrics` text, byte for byte, on both backends.
fn metrics_text_is_equal_between_backends() {
    let (_s, sqlite) = seeded(Backend::Sqlite);
    let (_p, postgres) = seeded(Backend::Postgres);
    for format in [ExpositionFormat::Text, ExpositionFormat::OpenMetrics] {
        let text = |inv: &Inventory| inv.inventory_metrics().unwrap().render(format);
        assert_eq!(text(&sqlite), text(&postgres));
    }
}

#[test]
fn metrics_text_is_equal_on_both_backends() {
    metrics_text_is_equal_between_backends()
}

ipocket_testkit::on_both_backends!(
    the_summary_counts_every_kind_of_record,
    metrics_count_the_inventory,
);
