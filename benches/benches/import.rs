//! The inventory import engine (`ipocket-core`): parse, plan and apply of a generated bundle
//! of 10,000 IP assets (with projects, vendors, hosts and tags) into a SQLite file, empty and
//! full (every note changed), and the streamed import (`Inventory::import_stream`, read +
//! plan + apply in chunks) into an empty file. Throughput is in assets, so criterion prints assets/s. The
//! 100,000 and 1,000,000 asset figures come from `core/examples/import_bench.rs`
//! and `ipocket import --bench`; see `docs/benchmarks.md`.

use std::time::Duration;

use criterion::{BatchSize, Criterion, Throughput};
use ipocket_core::import::{synthetic_bundle_json, StreamOptions, StreamSource};
use ipocket_core::{parse_bundle_json, Actor, ImportOptions, Inventory};

const ASSETS: usize = 10_000;

fn main() {
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .sample_size(10)
        .configure_from_args();
    let first = synthetic_bundle_json(ASSETS, "first");
    let second = synthetic_bundle_json(ASSETS, "second");
    let options = ImportOptions::default();
    let dir = tempfile::tempdir().expect("a temporary folder");
    let mut runs = 0;
    let mut fresh = || {
        runs += 1;
        Inventory::open(dir.path().join(format!("bench-{runs}.db"))).expect("a new database")
    };

    let mut g = c.benchmark_group("import_10k");
    g.throughput(Throughput::Elements(ASSETS as u64));
    g.bench_function("parse", |b| b.iter(|| parse_bundle_json(&first).unwrap()));
    g.bench_function("plan_empty", |b| {
        let inv = fresh();
        b.iter_batched(
            || parse_bundle_json(&first).unwrap(),
            |bundle| inv.plan(bundle, &options).unwrap(),
            BatchSize::LargeInput,
        )
    });
    g.bench_function("apply_empty", |b| {
        b.iter_batched(
            || {
                let inv = fresh();
                let plan = inv
                    .plan(parse_bundle_json(&first).unwrap(), &options)
                    .unwrap();
                (inv, plan)
            },
            |(mut inv, plan)| inv.apply(&Actor::system(), &plan).unwrap(),
            BatchSize::PerIteration,
        )
    });
    g.bench_function("apply_updates", |b| {
        b.iter_batched(
            || {
                let mut inv = fresh();
                let plan = inv
                    .plan(parse_bundle_json(&first).unwrap(), &options)
                    .unwrap();
                inv.apply(&Actor::system(), &plan).unwrap();
                let plan = inv
                    .plan(parse_bundle_json(&second).unwrap(), &options)
                    .unwrap();
                (inv, plan)
            },
            |(mut inv, plan)| inv.apply(&Actor::system(), &plan).unwrap(),
            BatchSize::PerIteration,
        )
    });
    // the bounded-memory path of `ipocket import`: read + plan + apply in
    // chunks, beside the in-memory plan + apply above
    g.bench_function("stream_apply_empty", |b| {
        let actor = Actor::system();
        let how = StreamOptions::apply(options.clone(), &actor);
        b.iter_batched(
            &mut fresh,
            |mut inv| {
                inv.import_stream(
                    StreamSource::bytes("bundle.json", &first),
                    &how,
                    &mut |_| Ok(()),
                )
                .unwrap()
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();
    c.final_summary();
}
