//! Times the asset list page on both backends:
//! `cargo run --release -p ipocket-core --example list_bench -- [ASSETS] [RUNS]`
//! (default 100,000 assets, the median of 21 runs per query).
//!
//! Fills a SQLite file and a database on the testkit's PostgreSQL (Debian's 15, fsync off,
//! on 127.0.0.1) with the import bench's synthetic bundle (50 projects, a host per 10
//! addresses, 2 of 20 tags per address, a tenth IPv6), then times `list_ip_assets` for the
//! pages the web UI and the API ask for, and prints both backends side by side with their
//! ratio. PostgreSQL is timed twice: right after the import, and after `VACUUM ANALYZE`
//! (what autovacuum does to a table within a minute or so of a large write: planner
//! statistics, and the visibility map that index-only scans need). Each query's result must
//! be the same on both backends.

use std::time::{Duration, Instant};

use ipocket_core::import::synthetic_bundle_json;
use ipocket_core::{
    parse_bundle_json, Actor, AssetFilter, AssetSort, AssetSortField, ImportOptions, Inventory,
    Page, ProjectFilter,
};
use ipocket_db::{Backend, DbUrl};
use ipocket_testkit::postgres::{FreshDatabase, Postgres};

/// One page a user asks for.
struct Case {
    name: &'static str,
    filter: AssetFilter,
    sort: AssetSort,
    page: Page,
}

fn cases(n: usize) -> Vec<Case> {
    let page = |number: u64| Page {
        offset: number.saturating_sub(1) * 100,
        limit: 100,
    };
    let deep = (n as u64 / 100).saturating_sub(10).max(1);
    let by = |field| AssetSort {
        field,
        descending: false,
    };
    vec![
        Case {
            name: "first page",
            filter: AssetFilter::default(),
            sort: AssetSort::default(),
            page: page(1),
        },
        Case {
            name: if n == 100_000 {
                "page 990"
            } else {
                "deep page"
            },
            filter: AssetFilter::default(),
            sort: AssetSort::default(),
            page: page(deep),
        },
        Case {
            name: "project filter",
            filter: AssetFilter {
                project: Some(ProjectFilter::Name("project-7".into())),
                ..Default::default()
            },
            sort: AssetSort::default(),
            page: page(1),
        },
        Case {
            name: "tag filter",
            filter: AssetFilter {
                tags_any: vec!["tag-3".into()],
                ..Default::default()
            },
            sort: AssetSort::default(),
            page: page(1),
        },
        Case {
            name: "project+tag p.5",
            filter: AssetFilter {
                project: Some(ProjectFilter::Name("project-7".into())),
                tags_all: vec!["tag-7".into()],
                ..Default::default()
            },
            sort: AssetSort::default(),
            page: page(5),
        },
        Case {
            name: "text search",
            filter: AssetFilter {
                text: Some("host-12".into()),
                ..Default::default()
            },
            sort: AssetSort::default(),
            page: page(1),
        },
        Case {
            name: "sort by host",
            filter: AssetFilter::default(),
            sort: by(AssetSortField::Host),
            page: page(1),
        },
        Case {
            name: "sort by updated",
            filter: AssetFilter::default(),
            sort: AssetSort {
                field: AssetSortField::Updated,
                descending: true,
            },
            page: page(10),
        },
    ]
}

/// The median time of one case, with the page's total and first address (to compare the
/// backends).
struct Timing {
    median: Duration,
    total: u64,
    first: Option<String>,
}

fn time_cases(inv: &Inventory, cases: &[Case], runs: usize) -> Vec<Timing> {
    cases
        .iter()
        .map(|case| {
            let mut times = Vec::with_capacity(runs);
            let mut last = None;
            for _ in 0..runs {
                let t = Instant::now();
                let page = inv
                    .list_ip_assets_sorted(&case.filter, case.sort, case.page)
                    .expect("a page");
                times.push(t.elapsed());
                last = Some(page);
            }
            times.sort();
            let page = last.expect("at least one run");
            Timing {
                median: times[times.len() / 2],
                total: page.total,
                first: page.items.first().map(|a| a.ip_address.clone()),
            }
        })
        .collect()
}

fn fill(b: Backend, n: usize) -> (FreshDatabase, Inventory) {
    let fresh = match b {
        Backend::Sqlite => FreshDatabase::sqlite(),
        Backend::Postgres => FreshDatabase::postgres(),
    };
    let mut inv = Inventory::open_url(&DbUrl::parse(&fresh.url).expect("a database URL"))
        .expect("the inventory");
    let t = Instant::now();
    let bundle = parse_bundle_json(&synthetic_bundle_json(n, "bench")).expect("the bundle");
    let plan = inv
        .plan(bundle, &ImportOptions::default())
        .expect("the plan");
    inv.apply(&Actor::system(), &plan).expect("the import");
    println!(
        "{:<9} filled with {n} assets in {:.1} s",
        label(b),
        t.elapsed().as_secs_f64()
    );
    (fresh, inv)
}

fn label(b: Backend) -> &'static str {
    match b {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    }
}

fn main() {
    let mut args = std::env::args()
        .skip(1)
        .map(|a| a.parse::<usize>().expect("a count"));
    let n = args.next().unwrap_or(100_000);
    let runs = args.next().unwrap_or(21).max(1);
    let cases = cases(n);
    let mut results = Vec::new();
    let mut keep = Vec::new();
    for b in [Backend::Sqlite, Backend::Postgres] {
        let (fresh, inv) = fill(b, n);
        // One untimed pass warms the caches (SQLite's pages, PostgreSQL's plans and buffers).
        time_cases(&inv, &cases, 1);
        results.push(time_cases(&inv, &cases, runs));
        if b == Backend::Postgres {
            let db = fresh.url.rsplit('/').next().expect("a database name");
            Postgres::shared().psql(db, "VACUUM ANALYZE");
            time_cases(&inv, &cases, 1);
            results.push(time_cases(&inv, &cases, runs));
        }
        keep.push(fresh);
    }
    println!(
        "median of {runs} runs, 100 rows a page; pg: as imported, pg+va: after VACUUM ANALYZE"
    );
    println!(
        "{:<17} {:>7} {:>10} {:>10} {:>10} {:>7} {:>7}",
        "page", "total", "sqlite ms", "pg ms", "pg+va ms", "pg/sq", "va/sq"
    );
    for (i, case) in cases.iter().enumerate() {
        let (s, p, v) = (&results[0][i], &results[1][i], &results[2][i]);
        for other in [p, v] {
            assert_eq!(
                (s.total, &s.first),
                (other.total, &other.first),
                "{}: the backends differ",
                case.name
            );
        }
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        println!(
            "{:<17} {:>7} {:>10.2} {:>10.2} {:>10.2} {:>6.1}x {:>6.1}x",
            case.name,
            s.total,
            ms(s.median),
            ms(p.median),
            ms(v.median),
            ms(p.median) / ms(s.median),
            ms(v.median) / ms(s.median)
        );
    }
}
