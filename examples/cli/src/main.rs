//! `ipocket`: the command-line front end of the ipocket crates.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// `println!` that returns the write's `io::Result` instead of panicking when standard output
/// is a closed pipe (`ipocket … | head -1`); [`main`] ends quietly on that error.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*)
    }};
}

/// `print!` as [`outln!`] is `println!`.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        write!(std::io::stdout().lock(), $($arg)*)
    }};
}

mod agent_cmd;
mod bench_serve_cmd;
mod connector_cmd;
mod copy_cmd;
mod db_path;
mod expfmt_cmd;
mod inventory_cmd;
mod liveness_cmd;
mod logging;
mod migrate_cmd;
mod progress;
mod ranges_cmd;
mod rules_cmd;
mod sd_cmd;
mod tokens_cmd;
mod users_cmd;

#[derive(Parser)]
#[command(
    name = "ipocket",
    version,
    about = "IP inventory joined with Prometheus"
)]
struct Cli {
    /// Log lines on standard error as text or as JSON objects (one a line); RUST_LOG
    /// filters them (default: info; docs/logging.md).
    #[arg(
        long,
        env = "IPOCKET_LOG_FORMAT",
        value_enum,
        default_value = "text",
        global = true
    )]
    log_format: logging::LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Parse, check, dump and benchmark Prometheus text / OpenMetrics files.
    Expfmt(expfmt_cmd::ExpfmtArgs),
    /// Import a bundle, CSV or Nmap XML file into the inventory (--dry-run or --apply).
    Import(inventory_cmd::ImportArgs),
    /// Export the inventory as CSV, JSON, bundle JSON or a zip of CSVs.
    Export(inventory_cmd::ExportArgs),
    /// Scrape exporters, buffer each scrape on disk, push to the ingest endpoint.
    Agent(agent_cmd::AgentArgs),
    /// Import IPs from Prometheus (an instant query) or vCenter (ESXi hosts, VM guests):
    /// write a bundle file, dry-run or apply through the import engine.
    Connector(connector_cmd::ConnectorArgs),
    /// Which inventory addresses Prometheus sees up, down or not at all (docs/liveness.md).
    Liveness(liveness_cmd::LivenessArgs),
    /// The Unknown, Reclaimable and Mismatch lists; plan or apply one through the import engine.
    Reconcile(liveness_cmd::ReconcileArgs),
    /// Ranges with both utilizations, the map of a range, its next free address (skipping
    /// live undocumented addresses with --prometheus-url).
    Ranges(ranges_cmd::RangesArgs),
    /// Write Prometheus file_sd targets from the inventory (once, or every interval).
    Sd(sd_cmd::SdArgs),
    /// Alert rule templates, rules, groups and targets; rule files; Prometheus reload.
    Rules(rules_cmd::RulesArgs),
    /// User accounts on the database, offline: add, passwd, list, revoke-sessions.
    Users(users_cmd::UsersArgs),
    /// Scoped API tokens for Prometheus (metrics, sd), offline: create, list, revoke.
    Tokens(tokens_cmd::TokensArgs),
    /// Bring the database's schema up to date (SQLite or PostgreSQL) and print the versions.
    Migrate(migrate_cmd::MigrateArgs),
    /// Copy a whole database to an empty one, SQLite to PostgreSQL or back, and verify that
    /// the inventory's exports of both are byte-equal (docs/database.md).
    Copy(copy_cmd::CopyArgs),
    /// Serve the inventory, service discovery, /metrics and ingest over HTTP (docs/server.md).
    Serve(Box<ipocket_server::ServeArgs>),
    /// Load bench of `ipocket serve` with N assets, node_exporter as the peer (docs/benchmarks.md).
    BenchServe(bench_serve_cmd::BenchServeArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    logging::init(cli.log_format);
    let result = match cli.command {
        Command::Agent(args) => agent_cmd::run(args),
        Command::Connector(args) => connector_cmd::run(args),
        Command::Sd(args) => sd_cmd::run(args),
        Command::Liveness(args) => liveness_cmd::liveness(args),
        Command::Reconcile(args) => liveness_cmd::reconcile_cmd(args),
        Command::Ranges(args) => ranges_cmd::run(args),
        Command::Expfmt(args) => expfmt_cmd::run(args),
        Command::Import(args) => inventory_cmd::import(args),
        Command::Export(args) => inventory_cmd::export(args),
        Command::Rules(args) => rules_cmd::run(args),
        Command::Users(args) => users_cmd::run(args),
        Command::Tokens(args) => tokens_cmd::run(args),
        Command::Migrate(args) => migrate_cmd::run(args),
        Command::Copy(args) => copy_cmd::run(args),
        Command::Serve(args) => ipocket_server::run(*args),
        Command::BenchServe(args) => bench_serve_cmd::run(args),
    };
    match result {
        Ok(code) => code,
        // The reader of standard output has gone (`| head`): stop quietly, with the status
        // a shell shows for a process ended by SIGPIPE (128 + 13), as `cat` or `git` would.
        Err(e) if is_broken_pipe(&e) => ExitCode::from(141),
        Err(e) => {
            eprintln!("ipocket: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// A write to a closed pipe anywhere in the error's chain (direct, or inside a JSON writer).
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        let kind = cause
            .downcast_ref::<std::io::Error>()
            .map(std::io::Error::kind)
            .or_else(|| {
                cause
                    .downcast_ref::<serde_json::Error>()
                    .and_then(serde_json::Error::io_error_kind)
            });
        kind == Some(std::io::ErrorKind::BrokenPipe)
    })
}
