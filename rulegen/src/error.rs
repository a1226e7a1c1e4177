//! The one error type of this crate.

use std::fmt;
use std::path::PathBuf;

/// Result alias used across the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// One problem found while validating generated rules, located precisely.
///
/// `location` names the group and rule (with their ids) and `field` the part of the
/// rule that is wrong, so a message reads like
/// `group "prod" (id 1), rule "HighCpu" (id 4), expr: PromQL does not parse: ...`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ValidationIssue {
    /// Which group / rule the problem is in.
    pub location: String,
    /// Which field of the rule (`expr`, `labels.team`, `for`, ...), if one.
    pub field: Option<String>,
    /// What is wrong and, where possible, what was expected.
    pub message: String,
}

impl fmt::Display for ValidationIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.field {
            Some(field) => write!(f, "{}, {}: {}", self.location, field, self.message),
            None => write!(f, "{}: {}", self.location, self.message),
        }
    }
}

fn list_issues(issues: &[ValidationIssue]) -> String {
    issues
        .iter()
        .map(|i| format!("  - {i}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Everything that can go wrong in rule generation, storage, files and reloads.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The SQLite store failed.
    #[error("database error: {0}")]
    Database(#[from] rusqlite::Error),
    /// The database was written by a newer version of this crate.
    #[error("database schema version {found} is newer than this program supports ({supported})")]
    SchemaTooNew {
        /// Version found in the database.
        found: i64,
        /// Highest version this build knows.
        supported: i64,
    },
    /// A schema migration step failed (it was rolled back; nothing changed).
    #[error("{0}")]
    Migration(ipocket_db::Error),
    /// The database failed otherwise (PostgreSQL, its pool, a value of an unexpected
    /// type, a write while this store holds its generation lock).
    #[error("{0}")]
    Backend(ipocket_db::Error),
    /// A referenced object does not exist.
    #[error("{kind} {key} not found")]
    NotFound {
        /// `group`, `target`, `template` or `rule`.
        kind: &'static str,
        /// The id or name that was looked up.
        key: String,
    },
    /// A unique name is already taken.
    #[error("{kind} {key:?} already exists")]
    AlreadyExists {
        /// `group`, `target`, `template` or `rule`.
        kind: &'static str,
        /// The name that clashed.
        key: String,
    },
    /// An input value is malformed (bad name, bad duration, bad version string, ...).
    #[error("invalid {field}: {reason}")]
    InvalidInput {
        /// Which input was bad.
        field: String,
        /// Why, and what was expected.
        reason: String,
    },
    /// Generated rules failed validation; nothing was written.
    #[error("{} rule validation error(s), nothing was written:\n{}", .0.len(), list_issues(.0))]
    Validation(Vec<ValidationIssue>),
    /// `promtool check rules` refused a generated file; nothing was written.
    #[error("promtool check rules refused the file for {file} (nothing was written):\n{output}")]
    PromtoolRejected {
        /// The rule file that would have been written.
        file: PathBuf,
        /// promtool's stdout and stderr.
        output: String,
    },
    /// promtool could not be started.
    #[error("could not run promtool at {path}: {source} (install Debian's `prometheus` package or set the promtool path)")]
    PromtoolUnavailable {
        /// The promtool path that was tried.
        path: PathBuf,
        /// The spawn error.
        source: std::io::Error,
    },
    /// A file operation failed.
    #[error("I/O error on {path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A rule file (or its backup) could not be written; the message names the file and
    /// the OS condition, and the previous file is left as it was.
    #[error("{0}")]
    File(#[from] ipocket_files::WriteError),
    /// YAML could not be written or read.
    #[error("YAML error: {0}")]
    Yaml(String),
    /// JSON stored in the database or sent by Prometheus is malformed.
    #[error("JSON error in {context}: {source}")]
    Json {
        /// Where the JSON came from.
        context: String,
        /// The parse error.
        source: serde_json::Error,
    },
    /// The HTTP request could not be made (connection refused, timeout, bad URL, ...).
    #[error("request {method} {url} failed: {reason}")]
    Http {
        /// HTTP method.
        method: &'static str,
        /// Full URL.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// Prometheus answered with an unexpected HTTP status.
    #[error("Prometheus answered {status} to {method} {url}: {body}")]
    UnexpectedStatus {
        /// HTTP method.
        method: &'static str,
        /// Full URL.
        url: String,
        /// HTTP status code.
        status: u16,
        /// Response body (trimmed).
        body: String,
    },
    /// Prometheus answered 401: the credentials are missing or wrong.
    #[error(
        "Prometheus refused the credentials: it answered {status} Unauthorized to {method} {url}; \
check the token (`user:password` for Basic auth, anything else is a Bearer token) against the \
basic_auth_users of its web config"
    )]
    Unauthorized {
        /// HTTP method.
        method: &'static str,
        /// Full URL.
        url: String,
        /// HTTP status code (401).
        status: u16,
    },
    /// `/-/reload` answered 403: Prometheus runs without `--web.enable-lifecycle`.
    #[error("Prometheus at {url} refused the reload: the lifecycle API is not enabled (start Prometheus with --web.enable-lifecycle)")]
    LifecycleDisabled {
        /// Base URL of Prometheus.
        url: String,
    },
    /// Prometheus tried to reload and failed; the previous rules stay active.
    #[error("Prometheus at {url} failed to reload its configuration ({status}: {body}); it keeps the previous rule set. \
Prometheus does not say why in its answer: look in the Prometheus log for \"loading groups failed\" or \"error loading rules\", \
and run `promtool check rules` on the rule files")]
    ReloadFailed {
        /// Base URL of Prometheus.
        url: String,
        /// HTTP status code (usually 500).
        status: u16,
        /// Response body (generic).
        body: String,
    },
    /// Prometheus refused to evaluate a query: the expression does not parse, its
    /// evaluation failed or timed out (Prometheus's own `errorType` and `error`).
    #[error("Prometheus refused the query ({status} {error_type}): {error}")]
    QueryRefused {
        /// The query endpoint.
        url: String,
        /// HTTP status code (400 bad_data, 422 execution, 503 timeout).
        status: u16,
        /// Prometheus's `errorType`.
        error_type: String,
        /// Prometheus's `error`, as it wrote it.
        error: String,
    },
    /// The reload was accepted but the checks after it failed.
    #[error("Prometheus at {url} accepted the reload but it is not confirmed: {reason}")]
    ReloadNotConfirmed {
        /// Base URL of Prometheus.
        url: String,
        /// Which check failed.
        reason: String,
    },
}

impl ipocket_errors::Classify for Error {
    fn kind(&self) -> ipocket_errors::ErrorKind {
        use ipocket_errors::ErrorKind as K;
        match self {
            Error::NotFound { .. } => K::NotFound,
            Error::AlreadyExists { .. } => K::Conflict,
            Error::InvalidInput { .. }
            | Error::Validation(_)
            | Error::PromtoolRejected { .. }
            | Error::QueryRefused { .. } => K::Invalid,
            Error::File(e) => e.kind(),
            // Prometheus did not do its part; its own status, 401 included,
            // is in the variant: for our caller the peer is what failed.
            // Prometheus refused our credentials: the peer relation failed our caller, who is
            // not the one unauthorized (the status is in the variant).
            Error::Http { .. }
            | Error::Unauthorized { .. }
            | Error::UnexpectedStatus { .. }
            | Error::LifecycleDisabled { .. }
            | Error::ReloadFailed { .. }
            | Error::ReloadNotConfirmed { .. } => K::Unavailable,
            // promtool is a local program: missing, it is this machine's set-up.
            Error::PromtoolUnavailable { .. }
            | Error::Migration(_)
            | Error::Backend(_)
            | Error::Database(_)
            | Error::SchemaTooNew { .. }
            | Error::Io { .. }
            | Error::Yaml(_)
            | Error::Json { .. } => K::Internal,
        }
    }
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::InvalidInput {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

impl From<ipocket_db::Error> for Error {
    fn from(e: ipocket_db::Error) -> Self {
        match e {
            ipocket_db::Error::Sqlite(e) => Error::Database(e),
            ipocket_db::Error::TooNew {
                found, supported, ..
            } => Error::SchemaTooNew {
                found: found.into(),
                supported: supported.into(),
            },
            e @ (ipocket_db::Error::Step { .. }
            | ipocket_db::Error::PgStep { .. }
            | ipocket_db::Error::Behind { .. }) => Error::Migration(e),
            other => Error::Backend(other),
        }
    }
}
