//! The one error type of `ipocket-db`.

/// Errors of naming, opening and migrating the database.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// SQLite reported an error while opening or bookkeeping.
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// PostgreSQL (or the connection to it) reported an error while connecting or
    /// bookkeeping.
    #[error("PostgreSQL error: {}", pg_detail(.0))]
    Postgres(#[from] tokio_postgres::Error),
    /// No PostgreSQL connection could be had from the pool.
    #[error("PostgreSQL connection pool: {0}")]
    Pool(String),
    /// A value read from the database is not of the type the store expects.
    #[error("database value: {0}")]
    Decode(String),
    /// A write through a store handle that holds its own write lock
    /// ([`crate::Database::lock_writes`]); it would wait for itself.
    #[error("this store holds its write lock (a rule generation is reading); write after it ends")]
    WriteWhileLocked,
    /// A copy between databases was refused before writing anything: the target holds
    /// rows, or the two differ in versions, tables or columns.
    #[error("copy refused: {0}")]
    CopyRefused(String),
    /// Copying one table failed; the whole copy was rolled back.
    #[error("copying table {table}: {source}")]
    CopyTable {
        /// The table.
        table: String,
        /// What the database reported.
        #[source]
        source: Box<Error>,
    },
    /// A `--db` / `IPOCKET_DB` value that names no usable database.
    #[error("database URL {url}: {why}")]
    Url {
        /// The value, its password hidden.
        url: String,
        /// What is wrong and what is accepted.
        why: String,
    },
    /// The schema is older than this build and migrating was not allowed (`serve
    /// --no-migrate`): run `ipocket migrate` first.
    #[error(
        "the database schema is behind this build: {component} is at version {found}, this \
         build needs {latest}; run `ipocket migrate --db …` first (or start without --no-migrate)"
    )]
    Behind {
        /// The component.
        component: &'static str,
        /// The version recorded.
        found: u32,
        /// The newest version this build knows.
        latest: u32,
    },
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
    /// A PostgreSQL migration step failed; it was rolled back and its version is not
    /// recorded.
    #[error("migration {component} {version} ({name}) failed on PostgreSQL: {}", pg_detail(.source))]
    PgStep {
        /// The component the step belongs to.
        component: &'static str,
        /// The step's version.
        version: u32,
        /// The step's name.
        name: &'static str,
        /// What PostgreSQL reported.
        #[source]
        source: tokio_postgres::Error,
    },
    /// The PostgreSQL database compares text by a language's rules (its default collation
    /// is not `C`); nothing was changed.
    #[error("PostgreSQL database {database:?} sorts text by a language's rules (LC_COLLATE {collation}, or an ICU locale); {}", TEXT_ORDER_HELP)]
    TextOrder {
        /// The database.
        database: String,
        /// Its default collation as PostgreSQL names it.
        collation: String,
    },
}

/// Collation check message: see [`Error::TextOrder`].
const TEXT_ORDER_HELP: &str = "ipocket needs text compared byte by byte (as SQLite does), so that \
     lists, unique names and exports are the same on both backends; create the database with \
     `CREATE DATABASE ipocket TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C'` (or LC_COLLATE \
     'C.UTF-8') and run `ipocket copy` into it";

/// The server's own message (tokio-postgres shows only "db error" for it).
fn pg_detail(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} {}: {}", db.severity(), db.code().code(), db.message()),
        None => e.to_string(),
    }
}

impl Error {
    /// Whether a UNIQUE (or PRIMARY KEY) constraint refused the write, on either backend.
    pub fn is_unique_violation(&self) -> bool {
        match self {
            Error::Sqlite(rusqlite::Error::SqliteFailure(f, _)) => {
                f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                    || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
            }
            Error::Postgres(e) => {
                e.code() == Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION)
            }
            _ => false,
        }
    }

    /// Whether PostgreSQL aborted the transaction for a concurrent one (serialization
    /// failure, SQLSTATE 40001; deadlock, 40P01): the same transaction, run again from the
    /// start, may succeed ([`crate::Database::write_retrying`]). Never on SQLite, whose
    /// writers wait for each other (busy timeout) instead.
    pub fn is_concurrency_abort(&self) -> bool {
        use tokio_postgres::error::SqlState;
        match self {
            Error::Postgres(e) => {
                e.code() == Some(&SqlState::T_R_SERIALIZATION_FAILURE)
                    || e.code() == Some(&SqlState::T_R_DEADLOCK_DETECTED)
            }
            _ => false,
        }
    }
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A bad URL is the caller's input; every other failure to open or migrate is this
/// machine's (a newer or older schema included: upgrading or migrating is the fix, not
/// different input).
impl ipocket_errors::Classify for Error {
    fn kind(&self) -> ipocket_errors::ErrorKind {
        match self {
            Error::Url { .. } => ipocket_errors::ErrorKind::Invalid,
            Error::CopyRefused(_) => ipocket_errors::ErrorKind::Conflict,
            _ => ipocket_errors::ErrorKind::Internal,
        }
    }
}
