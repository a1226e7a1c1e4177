//! `ipocket expfmt check|dump|bench`: the parser on files.

use std::hint::black_box;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use ipocket_expfmt::{parse_all, write_float, Format, Mode, Parser, Record};

#[derive(Args)]
pub(crate) struct ExpfmtArgs {
    #[command(subcommand)]
    command: ExpfmtCommand,
}

#[derive(Subcommand)]
enum ExpfmtCommand {
    /// Validate files; print each error as FILE:LINE:COL: message and exit 1 if any.
    Check {
        /// Files to check.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Read OpenMetrics instead of the text format.
        #[arg(long)]
        openmetrics: bool,
    },
    /// Print every sample as a JSON line: name, labels, value, timestamp_ms (and timestamp,
    /// exact seconds, when milliseconds cannot say it).
    Dump {
        /// The file to dump.
        file: PathBuf,
        /// Read OpenMetrics instead of the text format.
        #[arg(long)]
        openmetrics: bool,
    },
    /// Time a full parse (every label decoded, every value parsed) of each file; print
    /// `FILE BYTES SAMPLES MB/s Msamples/s` per file (median of the runs).
    Bench {
        /// Files to parse.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Read OpenMetrics instead of the text format.
        #[arg(long)]
        openmetrics: bool,
        /// Timed runs per file, after one warm-up run; the median is printed.
        #[arg(long, default_value_t = 7, value_parser = clap::value_parser!(u32).range(5..))]
        runs: u32,
    },
}

pub(crate) fn run(args: ExpfmtArgs) -> Result<ExitCode> {
    match args.command {
        ExpfmtCommand::Check { files, openmetrics } => check(&files, format(openmetrics)),
        ExpfmtCommand::Dump { file, openmetrics } => dump(&file, format(openmetrics)),
        ExpfmtCommand::Bench {
            files,
            openmetrics,
            runs,
        } => bench(&files, format(openmetrics), runs),
    }
}

fn format(openmetrics: bool) -> Format {
    if openmetrics {
        Format::OpenMetrics
    } else {
        Format::Text
    }
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("reading {}", path.display()))
}

fn check(files: &[PathBuf], format: Format) -> Result<ExitCode> {
    let mut failed = false;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for file in files {
        let input = read(file)?;
        for item in Parser::new(&input, format).with_mode(Mode::Lenient) {
            if let Err(e) = item {
                failed = true;
                writeln!(
                    out,
                    "{}:{}:{}: {}",
                    file.display(),
                    e.line,
                    e.column,
                    e.kind
                )?;
            }
        }
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn dump(file: &Path, format: Format) -> Result<ExitCode> {
    let input = read(file)?;
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut line = String::new();
    for item in Parser::new(&input, format) {
        let Record::Sample(s) = item.with_context(|| format!("{}", file.display()))? else {
            continue;
        };
        line.clear();
        line.push_str("{\"name\":");
        line.push_str(&serde_json::to_string(&s.name)?);
        line.push_str(",\"labels\":{");
        for (i, l) in s.labels.iter().enumerate() {
            if i > 0 {
                line.push(',');
            }
            line.push_str(&serde_json::to_string(&l.name)?);
            line.push(':');
            line.push_str(&serde_json::to_string(&l.value)?);
        }
        line.push_str("},\"value\":\"");
        write_float(&mut line, s.value);
        line.push('"');
        if let Some(ts) = s.timestamp {
            // int64 milliseconds (rounded down) when they fit; the exact seconds as a string
            // when milliseconds do not say it all (sub-millisecond digits, beyond int64)
            if let Some(ms) = ts.as_millis() {
                line.push_str(&format!(",\"timestamp_ms\":{ms}"));
            }
            if ts.as_exact_millis().is_none() {
                line.push_str(&format!(",\"timestamp\":\"{ts}\""));
            }
        }
        line.push_str("}\n");
        out.write_all(line.as_bytes())?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn bench(files: &[PathBuf], format: Format, runs: u32) -> Result<ExitCode> {
    for file in files {
        let input = read(file)?;
        let samples = parse_all(&input, format).with_context(|| format!("{}", file.display()))?;
        let mut times: Vec<Duration> = (0..runs)
            .map(|_| {
                let start = Instant::now();
                let n = parse_all(black_box(&input), format);
                let elapsed = start.elapsed();
                black_box(n.ok());
                elapsed
            })
            .collect();
        times.sort();
        let median = times[times.len() / 2].as_secs_f64();
        outln!(
            "{} {} {} {:.0} {:.2}",
            file.display(),
            input.len(),
            samples,
            input.len() as f64 / median / 1e6,
            samples as f64 / median / 1e6
        )?;
    }
    Ok(ExitCode::SUCCESS)
}
