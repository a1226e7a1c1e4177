//! Times next-free allocation under concurrent clients on both backends:
//! `cargo run --release -p ipocket-core --example alloc_bench -- [CLIENTS] [EACH] [USED]`
//! (default 8 clients × 100 allocations, from a /16 whose first USED addresses, default 0,
//! are taken beforehand).
//!
//! Each client is its own `Inventory` handle (its own SQLite connection, or its own
//! PostgreSQL pool, as separate replicas have) and allocates from one range at once; the
//! run checks that every address was handed out once, with one audit row each. SQLite is a
//! file in a temporary folder; PostgreSQL is the testkit's real server (Debian's 15, fsync
//! off), started on 127.0.0.1.

use std::collections::BTreeSet;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use ipocket_core::{Actor, AssetType, Inventory, NewIpAsset};
use ipocket_db::{Backend, DbUrl};
use ipocket_testkit::postgres::FreshDatabase;

fn main() {
    let mut args = std::env::args()
        .skip(1)
        .map(|a| a.parse::<usize>().expect("a count"));
    let clients = args.next().unwrap_or(8);
    let each = args.next().unwrap_or(100);
    let used = args.next().unwrap_or(0);
    println!("{clients} clients x {each} allocations from one /16 with {used} addresses used");
    for b in [Backend::Sqlite, Backend::Postgres] {
        run(b, clients, each, used);
    }
}

fn run(b: Backend, clients: usize, each: usize, used: usize) {
    let fresh = match b {
        Backend::Sqlite => FreshDatabase::sqlite(),
        Backend::Postgres => FreshDatabase::postgres(),
    };
    let url = DbUrl::parse(&fresh.url).expect("a database URL");
    let mut setup = Inventory::open_url(&url).expect("the inventory");
    let range = setup
        .create_ip_range(&Actor::system(), "bench", "10.64.0.0/16", None)
        .expect("a range");
    let template = NewIpAsset::new("", AssetType::Vm);
    for _ in 0..used {
        setup
            .allocate_next(&Actor::system(), range.id, &template)
            .expect("an address");
    }
    let handles: Vec<Inventory> = (0..clients)
        .map(|_| Inventory::open_url(&url).expect("a handle"))
        .collect();
    let start = Arc::new(Barrier::new(clients + 1));
    let threads: Vec<_> = handles
        .into_iter()
        .map(|mut inv| {
            let start = start.clone();
            std::thread::spawn(move || {
                let template = NewIpAsset::new("", AssetType::Vm);
                start.wait();
                (0..each)
                    .map(|_| {
                        let t = Instant::now();
                        let a = inv
                            .allocate_next(&Actor::system(), range.id, &template)
                            .expect("an address");
                        (a.ip_address, t.elapsed())
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    start.wait();
    let t = Instant::now();
    let results: Vec<(String, Duration)> = threads
        .into_iter()
        .flat_map(|t| t.join().expect("a client"))
        .collect();
    let wall = t.elapsed();
    let distinct: BTreeSet<&str> = results.iter().map(|(ip, _)| ip.as_str()).collect();
    let audited = setup
        .audit_log(
            &ipocket_core::AuditFilter {
                target_type: Some("IP_ASSET".into()),
                ..Default::default()
            },
            ipocket_core::Page::all(),
        )
        .expect("the audit log")
        .total;
    assert_eq!(
        distinct.len(),
        clients * each,
        "an address was handed out twice"
    );
    assert_eq!(
        audited as usize,
        used + clients * each,
        "one audit row per allocation"
    );
    let mut latencies: Vec<Duration> = results.iter().map(|(_, d)| *d).collect();
    latencies.sort();
    let pct = |p: usize| latencies[(latencies.len() * p / 100).min(latencies.len() - 1)];
    println!(
        "{:<9} {:>5} distinct  {:>7.3} s wall  {:>7.0} allocations/s  p50 {:>6.2} ms  p99 {:>6.2} ms",
        match b {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        },
        distinct.len(),
        wall.as_secs_f64(),
        (clients * each) as f64 / wall.as_secs_f64(),
        pct(50).as_secs_f64() * 1e3,
        pct(99).as_secs_f64() * 1e3,
    );
}
