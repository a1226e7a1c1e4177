//! The range map of one page of a /16 and the alive utilization of the whole /16, from an
//! inventory of 50,000 documented addresses in 10.20.0.0/16 and a liveness answer of 60,000
//! addresses (45,000 of the documented ones, one in ten down, and 15,000 undocumented, up):
//! what `GET /api/v1/ranges/{id}/map` and `GET /api/v1/ranges/utilization` compute once
//! the liveness answer is cached. Figures in docs/benchmarks.md.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use criterion::{Criterion, Throughput};
use ipocket_connectors::liveness::{Observations, Series};
use ipocket_connectors::range_map::{
    alive_undocumented, alive_utilization, documented_set, page_net, range_map,
};
use ipocket_core::{AssetType, IpAsset, IpRange, RangeUtilization};

const CIDR: &str = "10.20.0.0/16";
const NOW: f64 = 1_800_000_000.0;

fn ip(i: u32) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(Ipv4Addr::new(10, 20, 0, 0)) + i)
}

/// Addresses 1..=50,000 of the /16, documented.
fn assets() -> Vec<IpAsset> {
    (1..=50_000)
        .map(|i| IpAsset {
            id: i64::from(i),
            ip_address: ip(i).to_string(),
            asset_type: AssetType::Vm,
            project_id: None,
            project_name: Some(format!("p{}", i % 50)),
            host_id: None,
            host_name: None,
            tags: Vec::new(),
            notes: None,
            archived: false,
            created_at: String::new(),
            updated_at: String::new(),
        })
        .collect()
}

/// Addresses 5,001..=65,000 scraped: up but one in ten.
fn observations() -> Observations {
    let mut by_ip = BTreeMap::new();
    for i in 5_001..=65_000u32 {
        let up = i % 10 != 0;
        by_ip.insert(
            IpAddr::V4(ip(i)),
            vec![Series {
                job: "node".into(),
                instance: format!("{}:9100", ip(i)),
                metric: "up",
                up,
                last_seen_up: up.then_some(NOW),
                labels: BTreeMap::new(),
            }],
        );
    }
    Observations {
        fetched_at: NOW,
        by_ip,
        warnings: Vec::new(),
    }
}

fn main() {
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .sample_size(20)
        .configure_from_args();
    let assets = assets();
    let live = Ok(observations());
    let page = 100; // 10.20.99.0/24: documented, scraped, up and down
    let block: Vec<IpAsset> = {
        let net: ipnet::IpNet = page_net(CIDR, page).unwrap().parse().unwrap();
        assets
            .iter()
            .filter(|a| net.contains(&a.ip_address.parse::<IpAddr>().unwrap()))
            .cloned()
            .collect()
    };
    let m = range_map(CIDR, page, &block, Some(&live)).unwrap();
    assert_eq!((m.cells.len(), m.pages), (256, 256));
    assert!(m.counts.up > 200 && m.counts.down > 20, "{:?}", m.counts);
    let u = RangeUtilization {
        range: IpRange {
            id: 1,
            name: "campus".into(),
            cidr: CIDR.into(),
            notes: None,
        },
        total: 65_536,
        usable: 65_534,
        used: 50_000,
        free: 15_534,
        percent: 50_000.0 / 65_534.0 * 100.0,
        subnets_64: None,
    };
    let Ok(obs) = &live else { unreachable!() };
    let documented = documented_set(&assets);
    let a = alive_utilization(&u, &documented, obs).unwrap();
    assert_eq!((a.alive, a.undocumented_alive), (54_000, 13_500));

    let mut g = c.benchmark_group("range_map_slash16");
    g.throughput(Throughput::Elements(256));
    g.bench_function("map_page_from_the_page_assets", |b| {
        b.iter(|| range_map(CIDR, page, &block, Some(&live)).unwrap())
    });
    g.bench_function("map_page_from_all_50k_assets", |b| {
        b.iter(|| range_map(CIDR, page, &assets, Some(&live)).unwrap())
    });
    g.throughput(Throughput::Elements(65_536));
    g.bench_function("alive_utilization", |b| {
        b.iter(|| alive_utilization(&u, &documented, obs).unwrap())
    });
    g.bench_function("alive_utilization_with_documented_set", |b| {
        b.iter(|| alive_utilization(&u, &documented_set(&assets), obs).unwrap())
    });
    g.bench_function("avoid_list", |b| {
        b.iter(|| alive_undocumented(obs, &assets))
    });
    g.finish();
    c.final_summary();
}
