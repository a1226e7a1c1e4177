//! The one error type of `ipocket-db`.

/// Errors of opening and migrating the database.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// SQLite reported an error while opening or bookkeeping.
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The file was written by a newer ipocket: a component has a recorded version above
    /// the newest this build knows. Nothing was changed.
    #[error(
        "the database was written by a newer ipocket: {component} schema version {found} \
         is recorded, this build knows up to {supported}"
    )]
    TooNew {
        /// The component (`inventory`, `samples`, `rulegen`, …).
        component: &'static str,
        /// The version recorded in the file.
        found: u32,
        /// The newest version this build knows.
        supported: u32,
    },
    /// A migration step failed; it was rolled back and its version is not recorded.
    #[error("migration {component} {version} ({name}) failed: {source}")]
    Step {
        /// The component the step belongs to.
        component: &'static str,
        /// The step's version.
        version: u32,
        /// The step's name.
        name: &'static str,
        /// What SQLite (or the step's code) reported.
        #[source]
        source: rusqlite::Error,
    },
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Every failure to open or migrate the file is this machine's (a newer file included:
/// upgrading ipocket is the fix, not different input).
impl ipocket_errors::Classify for Error {
    fn kind(&self) -> ipocket_errors::ErrorKind {
        ipocket_errors::ErrorKind::Internal
    }
}
