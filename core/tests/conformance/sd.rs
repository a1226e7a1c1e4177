//! Prometheus service-discovery target groups on both backends.

use std::collections::BTreeMap;

use ipocket_core::{Actor, AssetType, Error, Inventory, NewIpAsset, SdGrouping, SdOptions};
use ipocket_db::Backend;

use crate::{fresh, Db};

/// Two projects, a host, tags, IPv4 and IPv6 addresses and an archived one.
fn seed(inv: &mut Inventory) {
    let a = Actor::system();
    let core = inv.create_project(&a, "core", None, None).unwrap();
    let edge = inv.create_project(&a, "edge", None, None).unwrap();
    let host = inv.create_host(&a, "node-01", None, None).unwrap();
    let mk = |ip: &str, t, project: Option<i64>, tags: &[&str]| NewIpAsset {
        project_id: project,
        tags: tags.iter().map(|t| t.to_string()).collect(),
        ..NewIpAsset::new(ip, t)
    };
    for new in [
        NewIpAsset {
            host_id: Some(host.id),
            ..mk("10.20.0.2", AssetType::Vm, Some(core.id), &["prod"])
        },
        mk("10.20.0.10", AssetType::Os, Some(core.id), &[]),
        mk("2001:db8::1", AssetType::Vm, None, &["prod", "edge"]),
        mk("192.168.1.5", AssetType::Bmc, Some(edge.id), &["edge"]),
        mk("10.20.0.3", AssetType::Vm, Some(edge.id), &["prod"]),
    ] {
        inv.create_ip_asset(&a, &new).unwrap();
    }
    inv.archive_ip_asset(&a, "10.20.0.3").unwrap();
}

fn seeded(b: Backend) -> (Db, Inventory) {
    let (db, mut inv) = fresh(b);
    seed(&mut inv);
    (db, inv)
}

fn json(inv: &Inventory, o: &SdOptions) -> String {
    serde_json::to_string(&inv.sd_target_groups(o).unwrap()).unwrap()
}

fn query(pairs: &[(&str, &str)]) -> SdOptions {
    SdOptions::from_query_pairs(pairs.iter().copied()).unwrap()
}

fn the_original_node_groups(b: Backend) {
    let (_db, inv) = seeded(b);
    assert_eq!(
        json(&inv, &SdOptions::node_compat()),
        r#"[{"targets":["10.20.0.2:9100","10.20.0.10:9100","192.168.1.5:9100","[2001:db8::1]:9100"],"labels":{"project":"multiple","type":"multiple"}}]"#,
        "active addresses in address order, archived ones left out"
    );
    assert_eq!(
        json(&inv, &query(&[("group_by", "project"), ("port", "9200")])),
        concat!(
            r#"[{"targets":["10.20.0.2:9200","10.20.0.10:9200"],"labels":{"project":"core","type":"multiple"}},"#,
            r#"{"targets":["192.168.1.5:9200"],"labels":{"project":"edge","type":"BMC"}},"#,
            r#"{"targets":["[2001:db8::1]:9200"],"labels":{"project":"unassigned","type":"VM"}}]"#
        )
    );
}

fn filters_pick_the_targets(b: Backend) {
    let (_db, inv) = seeded(b);
    let targets = |o: &SdOptions| -> Vec<String> {
        inv.sd_target_groups(o)
            .unwrap()
            .into_iter()
            .flat_map(|g| g.targets)
            .collect()
    };
    assert_eq!(
        targets(&query(&[("tag", "PROD")])),
        ["10.20.0.2:9100", "[2001:db8::1]:9100"]
    );
    assert_eq!(
        targets(&query(&[("type", "VM,BMC"), ("project", "core,edge")])),
        ["10.20.0.2:9100", "192.168.1.5:9100"]
    );
    assert_eq!(
        targets(&query(&[("only_assigned", "true"), ("tag", "edge")])),
        ["192.168.1.5:9100"]
    );
    assert_eq!(json(&inv, &query(&[("project", "nope")])), "[]");
    assert_eq!(
        json(&inv, &query(&[("project", "CORE")])),
        "[]",
        "names are exact"
    );
    let bad = SdOptions {
        tags: vec!["bad tag".into()],
        ..SdOptions::default()
    };
    assert!(matches!(
        inv.sd_target_groups(&bad),
        Err(Error::Invalid { field, .. }) if field == "tag"
    ));
}

fn per_asset_groups_carry_meta_labels(b: Backend) {
    let (_db, inv) = seeded(b);
    let o = SdOptions {
        grouping: SdGrouping::Asset,
        metrics_path: Some("/probe".into()),
        extra_labels: BTreeMap::from([("job".to_string(), "node".to_string())]),
        ..SdOptions::default()
    };
    let groups = inv.sd_target_groups(&o).unwrap();
    assert_eq!(groups.len(), 4);
    assert_eq!(
        serde_json::to_string(&groups[0]).unwrap(),
        concat!(
            r#"{"targets":["10.20.0.2:9100"],"labels":{"__meta_ipocket_host":"node-01","#,
            r#""__meta_ipocket_ip":"10.20.0.2","__meta_ipocket_project":"core","#,
            r#""__meta_ipocket_tags":",prod,","__meta_ipocket_type":"VM","#,
            r#""__metrics_path__":"/probe","job":"node","project":"core","type":"VM"}}"#
        )
    );
    assert_eq!(groups[3].labels["__meta_ipocket_tags"], ",edge,prod,");
    assert_eq!(groups[3].labels["__meta_ipocket_host"], "");
    let o = SdOptions {
        grouping: SdGrouping::ProjectType,
        ..SdOptions::default()
    };
    let keys: Vec<(String, String)> = inv
        .sd_target_groups(&o)
        .unwrap()
        .into_iter()
        .map(|g| (g.labels["project"].clone(), g.labels["type"].clone()))
        .collect();
    let key = |p: &str, t: &str| (p.to_string(), t.to_string());
    assert_eq!(
        keys,
        [
            key("core", "OS"),
            key("core", "VM"),
            key("edge", "BMC"),
            key("unassigned", "VM")
        ]
    );
}

fn an_empty_inventory_has_no_groups(b: Backend) {
    let (_db, inv) = fresh(b);
    assert_eq!(json(&inv, &SdOptions::node_compat()), "[]");
}

ipocket_testkit::on_both_backends!(
    the_original_node_groups,
    filters_pick_the_targets,
    per_asset_groups_carry_meta_labels,
    an_empty_inventory_has_no_groups,
);

/// The same data gives the same target groups, byte for byte, on both backends.
#[test]
fn target_groups_are_equal_between_backends() {
    let (_s, sqlite) = seeded(Backend::Sqlite);
    let (_p, postgres) = seeded(Backend::Postgres);
    let mut options = vec![
        SdOptions::node_compat(),
        query(&[("only_assigned", "1"), ("group_by", "project")]),
        query(&[("tag", "edge"), ("meta", "1")]),
    ];
    for grouping in [
        SdGrouping::Single,
        SdGrouping::Project,
        SdGrouping::ProjectType,
        SdGrouping::Asset,
    ] {
        options.push(SdOptions {
            grouping,
            ..SdOptions::default()
        });
    }
    for o in &options {
        assert_eq!(json(&sqlite, o), json(&postgres, o), "{o:?}");
    }
}
