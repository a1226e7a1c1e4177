//! The one logging setup of every command and of `ipocket serve` (docs/logging.md):
//! `tracing` events to standard error, one line each, with an RFC 3339 UTC timestamp and a
//! level, as text or JSON (`--log-format`, `IPOCKET_LOG_FORMAT`), filtered by `RUST_LOG`.
//! Standard output stays for the commands' results (tables, JSON, dumps).

use std::io::IsTerminal;

use clap::ValueEnum;
use tracing_subscriber::EnvFilter;

/// How each log line is written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub(crate) enum LogFormat {
    /// `2026-01-02T03:04:05.123456Z  INFO ipocket::sd_cmd: message key=value`
    #[default]
    Text,
    /// One JSON object a line: `timestamp`, `level`, `fields` (`message` and the rest), `target`.
    Json,
}

/// Info from ipocket's own crates, warnings from the libraries under them.
const DEFAULT_FILTER: &str = "warn,ipocket=info,ipocket_cli=info,ipocket_server=info,\
ipocket_connectors=info,ipocket_core=info,ipocket_rulegen=info,ipocket_http=info,\
ipocket_files=info,ipocket_db=info";

/// Installs the global subscriber. A `RUST_LOG` that does not parse is reported on the first
/// line and the default filter is used, rather than failing the command.
pub(crate) fn init(format: LogFormat) {
    let (filter, bad) = match std::env::var("RUST_LOG") {
        Ok(spec) if !spec.trim().is_empty() => match EnvFilter::try_new(&spec) {
            Ok(f) => (f, None),
            Err(e) => (
                EnvFilter::new(DEFAULT_FILTER),
                Some(format!("{spec:?}: {e}")),
            ),
        },
        _ => (EnvFilter::new(DEFAULT_FILTER), None),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let installed = match format {
        LogFormat::Text => builder
            .with_ansi(std::io::stderr().is_terminal())
            .try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
    if installed.is_ok() {
        if let Some(bad) = bad {
            tracing::warn!("RUST_LOG {bad}; using the default filter");
        }
    }
}
