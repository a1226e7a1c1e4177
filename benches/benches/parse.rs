//! Full-parse throughput of `ipocket-expfmt` against the peer Rust parsers of the Prometheus
//! text format, `prometheus-parse` and `prometheus-exposition-format-rs`, on the shared
//! corpus. One criterion group per file (`node_exporter`, `prometheus_self`, `fleet`,
//! `fleet_basic`), one function per parser (`ipocket`, `prometheus-parse`,
//! `prometheus-exposition-format-rs`); throughput is in bytes of input, so criterion prints
//! MB/s. Before each group, and outside the timing, the number of samples each parser
//! produces for the file is printed. See `docs/benchmarks.md`.

use std::hint::black_box;
use std::io::BufRead;
use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, SamplingMode, Throughput};
use ipocket_benches::Corpus;
use ipocket_expfmt::parse_all;
use ipocket_expfmt::Format;

/// What one parser made of one file: samples produced, or why it stopped.
struct Outcome {
    /// Samples as the parser represents them.
    samples: u64,
    /// Individual values (a histogram / summary sample of `prometheus-parse` holds one per
    /// bucket / quantile); equal to `samples` for the other parsers.
    values: u64,
    /// The error the parser returned, if it failed.
    error: Option<String>,
}

/// Our parser: the full parse of `ipocket expfmt bench`.
fn ipocket(input: &[u8]) -> Outcome {
    match parse_all(input, Format::Text) {
        Ok(n) => Outcome {
            samples: n,
            values: n,
            error: None,
        },
        Err(e) => Outcome {
            samples: 0,
            values: 0,
            error: Some(e.to_string()),
        },
    }
}

/// `prometheus_parse::Scrape::parse` over the input's lines (its API takes owned lines).
fn prometheus_parse(input: &[u8]) -> Outcome {
    match prometheus_parse::Scrape::parse(input.lines()) {
        Ok(scrape) => {
            let mut values = 0u64;
            for s in &scrape.samples {
                for (k, v) in s.labels.iter() {
                    black_box((k, v));
                }
                values += match &s.value {
                    prometheus_parse::Value::Histogram(h) => h.len() as u64,
                    prometheus_parse::Value::Summary(q) => q.len() as u64,
                    v => {
                        black_box(v);
                        1
                    }
                };
            }
            Outcome {
                samples: scrape.samples.len() as u64,
                values,
                error: None,
            }
        }
        Err(e) => Outcome {
            samples: 0,
            values: 0,
            error: Some(e.to_string()),
        },
    }
}

/// `prometheus_exposition_format_rs::parse_complete` on the input as `&str` (UTF-8 check
/// included, as our parser checks UTF-8 too).
fn exposition_format(input: &[u8]) -> Outcome {
    let text = match std::str::from_utf8(input) {
        Ok(t) => t,
        Err(e) => {
            return Outcome {
                samples: 0,
                values: 0,
                error: Some(e.to_string()),
            }
        }
    };
    match prometheus_exposition_format_rs::parse_complete(text) {
        Ok(metrics) => {
            let mut n = 0u64;
            for m in &metrics {
                for s in &m.samples {
                    n += 1;
                    for (k, v) in &s.labels {
                        black_box((k, v));
                    }
                    black_box((s.value, s.timestamp));
                }
            }
            Outcome {
                samples: n,
                values: n,
                error: None,
            }
        }
        Err(e) => {
            let mut msg = format!("{e:?}");
            if msg.len() > 160 {
                let mut end = 160;
                while !msg.is_char_boundary(end) {
                    end -= 1;
                }
                msg.truncate(end);
                msg.push_str("...");
            }
            Outcome {
                samples: 0,
                values: 0,
                error: Some(msg),
            }
        }
    }
}

/// A parser under test: a full parse of the input.
type ParseFn = fn(&[u8]) -> Outcome;

/// The parsers, by bench function name.
const PARSERS: [(&str, ParseFn); 3] = [
    ("ipocket", ipocket),
    ("prometheus-parse", prometheus_parse),
    ("prometheus-exposition-format-rs", exposition_format),
];

/// Prints, once and untimed, how many samples each parser produces for `input`.
fn report_samples(group: &str, input: &[u8]) {
    eprintln!("samples[{group}] ({} bytes):", input.len());
    for (name, parse) in PARSERS {
        let o = parse(input);
        match o.error {
            None if o.values != o.samples => eprintln!(
                "  {name}: {} samples ({} values: histogram/summary samples merged)",
                o.samples, o.values
            ),
            None => eprintln!("  {name}: {} samples", o.samples),
            Some(e) => eprintln!("  {name}: FAILED ({e})"),
        }
    }
}

/// One group: every parser on `input`.
fn bench_file(c: &mut Criterion, group_name: &str, input: &[u8], large: bool) {
    report_samples(group_name, input);
    let mut group: BenchmarkGroup<'_, WallTime> = c.benchmark_group(group_name);
    group.throughput(Throughput::BytesDecimal(input.len() as u64));
    if large {
        // Tens of MB per iteration: few, long samples.
        group.sample_size(10).sampling_mode(SamplingMode::Flat);
    }
    for (name, parse) in PARSERS {
        group.bench_function(name, |b| b.iter(|| parse(black_box(input))));
    }
    group.finish();
}

/// True when criterion benchmarks for real (`cargo bench` passes `--bench`); false in the
/// quick test mode of `cargo test --benches` / `--all-targets`, and for `--list`.
fn measuring() -> bool {
    let args: Vec<String> = std::env::args().collect();
    args.iter().any(|a| a == "--bench") && !args.iter().any(|a| a == "--list")
}

fn corpus() -> Corpus {
    Corpus::locate().unwrap_or_else(|e| panic!("{e}"))
}

fn small_files(c: &mut Criterion) {
    let corpus = corpus();
    for (group, file) in [
        ("node_exporter", "node_exporter.prom"),
        ("prometheus_self", "prometheus_self.prom"),
    ] {
        let input = corpus.read(file).unwrap_or_else(|e| panic!("{e}"));
        bench_file(c, group, &input, false);
    }
}

fn fleet_files(c: &mut Criterion) {
    if !measuring() {
        eprintln!("fleet, fleet_basic: skipped (criterion test mode; run `cargo bench`)");
        return;
    }
    let corpus = corpus();
    for (group, basic) in [("fleet", false), ("fleet_basic", true)] {
        let path = corpus.fleet(basic).unwrap_or_else(|e| panic!("{e}"));
        let input = ipocket_benches::read(&path).unwrap_or_else(|e| panic!("{e}"));
        bench_file(c, group, &input, true);
    }
}

// `criterion_group!` would generate an undocumented `pub fn`, which the workspace's
// `missing_docs` lint flags; this is what it and `criterion_main!` expand to.
fn main() {
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .configure_from_args();
    small_files(&mut c);
    fleet_files(&mut c);
    c.final_summary();
}
