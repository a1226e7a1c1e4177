//! `ipocket expfmt bench` without the rest of the workspace: the same full parse
//! ([`parse_all`]), one warm-up, then `--runs N` timed parses, the median printed as
//! `FILE BYTES SAMPLES MB/s Msamples/s`. A release build of this crate alone takes a minute
//! where the `ipocket` binary takes many, so before/after builds of the parser can be
//! alternated quickly (docs/benchmarks.md).
//!
//! `cargo run --release -p ipocket-expfmt --example parse_bench -- [--runs N] [--openmetrics] FILE...`

use std::hint::black_box;
use std::time::Instant;

use ipocket_expfmt::{parse_all, Format};

fn main() {
    let mut runs = 7usize;
    let mut format = Format::Text;
    let mut files = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--runs" => {
                runs = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .filter(|&n| n >= 5)
                    .expect("--runs needs a number of at least 5");
            }
            "--openmetrics" => format = Format::OpenMetrics,
            _ => files.push(arg),
        }
    }
    for file in files {
        let input = std::fs::read(&file).unwrap_or_else(|e| panic!("{file}: {e}"));
        let samples = parse_all(&input, format).unwrap_or_else(|e| panic!("{file}: {e}"));
        let mut times: Vec<f64> = (0..runs)
            .map(|_| {
                let start = Instant::now();
                black_box(parse_all(black_box(&input), format).ok());
                start.elapsed().as_secs_f64()
            })
            .collect();
        times.sort_by(f64::total_cmp);
        let median = times[times.len() / 2];
        println!(
            "{file} {} {samples} {:.0} {:.2}",
            input.len(),
            input.len() as f64 / median / 1e6,
            samples as f64 / median / 1e6
        );
    }
}
