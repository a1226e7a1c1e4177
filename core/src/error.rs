//! The one error type of `ipocket-core`.

use std::fmt;

/// A problem found in import input, with the place it was found.
///
/// `location` is a JSON path (`data.ip_assets[12].ip_address`), a CSV
/// position (`hosts.csv:14:3`) or a file name with a line and column.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ImportIssue {
    /// Where the problem is.
    pub location: String,
    /// What is wrong and what was expected.
    pub message: String,
}

impl ImportIssue {
    /// Builds an issue from a location and a message.
    pub fn new(location: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            location: location.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for ImportIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}

/// Every error of one input, reported together.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ImportErrors(pub Vec<ImportIssue>);

impl ImportErrors {
    /// The original ipocket's import response for a failed validation: zero
    /// counters and every error as `{"location", "message", "level": "error"}`.
    pub fn original_result_json(&self) -> serde_json::Value {
        let zero = serde_json::json!({"would_create": 0, "would_update": 0, "would_skip": 0});
        let errors: Vec<_> = self
            .0
            .iter()
            .map(|e| serde_json::json!({"location": e.location, "message": e.message, "level": "error"}))
            .collect();
        serde_json::json!({
            "summary": {"vendors": zero, "projects": zero, "hosts": zero, "ip_assets": zero, "total": zero},
            "errors": errors,
            "warnings": [],
        })
    }
}

impl fmt::Display for ImportErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        write!(f, "{n} import error{}", if n == 1 { "" } else { "s" })?;
        for issue in &self.0 {
            write!(f, "\n  {issue}")?;
        }
        Ok(())
    }
}

/// Errors of `ipocket-core`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// SQLite reported an error.
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// Reading or writing a file failed.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    /// A value given by the caller is not valid; `field` names it.
    #[error("{field}: {message}")]
    Invalid {
        /// The field or argument that is wrong.
        field: String,
        /// What is wrong and what was expected.
        message: String,
    },
    /// The record does not exist.
    #[error("{entity} not found: {key}")]
    NotFound {
        /// Kind of record (`ip asset`, `project`, …).
        entity: &'static str,
        /// The key that was looked up.
        key: String,
    },
    /// The change conflicts with an existing record (duplicate name, active IP, …).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The actor's role does not allow the operation.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// Import input had one or more errors; nothing was written.
    #[error("{0}")]
    Import(ImportErrors),
    /// The inventory changed between `plan` and `apply`; plan again.
    #[error("the inventory changed since the import was planned; plan it again")]
    StalePlan,
    /// The address range has no free address left.
    #[error("range {0} has no free address")]
    RangeFull(String),
    /// The database was written by a newer ipocket.
    #[error("database schema version {found} is newer than this build supports ({supported})")]
    SchemaTooNew {
        /// Version found in the file.
        found: u32,
        /// Newest version this build knows.
        supported: u32,
    },
    /// A schema migration step failed (it was rolled back; nothing changed).
    #[error("{0}")]
    Migration(ipocket_db::Error),
    /// PostgreSQL, its connection pool, or a value read back reported an error.
    #[error("{0}")]
    Database(ipocket_db::Error),
    /// Password hashing failed.
    #[error("password hashing failed: {0}")]
    Password(String),
    /// Writing a zip archive failed.
    #[error("zip error: {0}")]
    Zip(String),
}

impl Error {
    pub(crate) fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }

    pub(crate) fn not_found(entity: &'static str, key: impl fmt::Display) -> Self {
        Error::NotFound {
            entity,
            key: key.to_string(),
        }
    }

    /// Whether the database refused a write for a UNIQUE or PRIMARY KEY constraint (on
    /// either backend).
    pub(crate) fn is_unique_violation(&self) -> bool {
        match self {
            Error::Sqlite(rusqlite::Error::SqliteFailure(f, _)) => {
                f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                    || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
            }
            Error::Database(e) => e.is_unique_violation(),
            _ => false,
        }
    }

    /// Whether PostgreSQL aborted the transaction for a concurrent one (40001, 40P01):
    /// worth running again ([`ipocket_db::Error::is_concurrency_abort`]).
    pub(crate) fn is_concurrency_abort(&self) -> bool {
        matches!(self, Error::Database(e) if e.is_concurrency_abort())
    }

    /// A refused duplicate as [`Error::Conflict`] ("project \"x\" already exists"); any
    /// other error as it is.
    pub(crate) fn or_conflict(self, what: &str, name: &str) -> Self {
        if self.is_unique_violation() {
            Error::Conflict(format!("{what} {name:?} already exists"))
        } else {
            self
        }
    }
}

impl ipocket_errors::Classify for Error {
    fn kind(&self) -> ipocket_errors::ErrorKind {
        use ipocket_errors::ErrorKind as K;
        match self {
            Error::Invalid { .. } | Error::Import(_) => K::Invalid,
            Error::NotFound { .. } => K::NotFound,
            Error::Conflict(_) | Error::StalePlan | Error::RangeFull(_) => K::Conflict,
            Error::Forbidden(_) => K::Forbidden,
            Error::Sqlite(_)
            | Error::Migration(_)
            | Error::Database(_)
            | Error::Io(_)
            | Error::SchemaTooNew { .. }
            | Error::Password(_)
            | Error::Zip(_) => K::Internal,
        }
    }
}

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<ipocket_db::Error> for Error {
    fn from(e: ipocket_db::Error) -> Self {
        match e {
            ipocket_db::Error::Sqlite(e) => Error::Sqlite(e),
            ipocket_db::Error::TooNew {
                found, supported, ..
            } => Error::SchemaTooNew { found, supported },
            e @ (ipocket_db::Error::Postgres(_)
            | ipocket_db::Error::Pool(_)
            | ipocket_db::Error::Decode(_)
            | ipocket_db::Error::WriteWhileLocked) => Error::Database(e),
            other => Error::Migration(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn original_result_shape_for_errors() {
        let v = ImportErrors(vec![ImportIssue::new("data.ip_assets[0].type", "bad")])
            .original_result_json();
        assert_eq!(v["errors"][0]["level"], "error");
        assert_eq!(v["errors"][0]["location"], "data.ip_assets[0].type");
        assert_eq!(v["summary"]["total"]["would_create"], 0);
    }

    #[test]
    fn import_errors_list_every_issue() {
        let e = Error::Import(ImportErrors(vec![
            ImportIssue::new(
                "data.ip_assets[12].ip_address",
                "invalid IP address \"10.0.0.256\"",
            ),
            ImportIssue::new("hosts.csv:14:3", "unknown column \"vendr\""),
        ]));
        let text = e.to_string();
        assert!(text.starts_with("2 import errors"));
        assert!(text.contains("data.ip_assets[12].ip_address: invalid IP address \"10.0.0.256\""));
        assert!(text.contains("hosts.csv:14:3: unknown column \"vendr\""));
    }
}
