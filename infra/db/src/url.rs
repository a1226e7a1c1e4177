//! Which backend a `--db` / `IPOCKET_DB` value names: a file path or `sqlite:PATH` is
//! SQLite, `postgres://…` / `postgresql://…` is PostgreSQL.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The backend kind, for messages and dispatch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// One SQLite file.
    Sqlite,
    /// A PostgreSQL database.
    Postgres,
}

/// A parsed database URL.
///
/// ```
/// use ipocket_db::{Backend, DbUrl};
/// assert_eq!(DbUrl::parse("ipocket.db")?.backend(), Backend::Sqlite);
/// assert_eq!(DbUrl::parse("sqlite:/var/lib/ipocket.db")?.sqlite_path().unwrap().to_str(), Some("/var/lib/ipocket.db"));
/// let pg = DbUrl::parse("postgres://ipocket:secret@db.example:5432/ipocket")?;
/// assert_eq!(pg.backend(), Backend::Postgres);
/// assert_eq!(pg.to_string(), "postgres://ipocket:***@db.example:5432/ipocket"); // no password in logs
/// assert!(DbUrl::parse("mysql://x/y").unwrap_err().to_string().contains("mysql"));
/// # Ok::<(), ipocket_db::Error>(())
/// ```
#[derive(Clone)]
pub enum DbUrl {
    /// The SQLite file's path.
    Sqlite(PathBuf),
    /// The PostgreSQL connection settings, and the URL as given (for display, redacted).
    Postgres(Box<tokio_postgres::Config>, String),
}

impl DbUrl {
    /// Parses `text`; a clear [`Error::Url`] when it is empty, names an unknown scheme or is
    /// not a valid PostgreSQL URL.
    pub fn parse(text: &str) -> Result<DbUrl> {
        let bad = |why: String| Error::Url {
            url: redact(text),
            why,
        };
        if text.is_empty() {
            return Err(bad(
                "it is empty; give a file path, sqlite:PATH or postgres://…".into(),
            ));
        }
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            let config: tokio_postgres::Config = text
                .parse()
                .map_err(|e| bad(format!("not a valid PostgreSQL URL: {e}")))?;
            if config.get_dbname().is_none() {
                return Err(bad(
                    "it names no database (postgres://user@host:port/DATABASE)".into(),
                ));
            }
            return Ok(DbUrl::Postgres(Box::new(config), text.to_owned()));
        }
        if let Some(path) = text.strip_prefix("sqlite:") {
            if path.is_empty() {
                return Err(bad("sqlite: needs a file path (sqlite:ipocket.db)".into()));
            }
            return Ok(DbUrl::Sqlite(PathBuf::from(path)));
        }
        if let Some((scheme, _)) = text.split_once("://") {
            return Err(bad(format!(
                "unknown scheme `{scheme}`; ipocket supports a file path or sqlite:PATH (SQLite) \
                 and postgres:// or postgresql:// (PostgreSQL)"
            )));
        }
        Ok(DbUrl::Sqlite(PathBuf::from(text)))
    }

    /// Which backend.
    pub fn backend(&self) -> Backend {
        match self {
            DbUrl::Sqlite(_) => Backend::Sqlite,
            DbUrl::Postgres(..) => Backend::Postgres,
        }
    }

    /// The SQLite file, `None` for PostgreSQL.
    pub fn sqlite_path(&self) -> Option<&Path> {
        match self {
            DbUrl::Sqlite(p) => Some(p),
            DbUrl::Postgres(..) => None,
        }
    }
}

impl std::str::FromStr for DbUrl {
    type Err = Error;
    fn from_str(s: &str) -> Result<DbUrl> {
        DbUrl::parse(s)
    }
}

/// The path, or the URL with its password replaced by `***`.
impl fmt::Display for DbUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DbUrl::Sqlite(p) => write!(f, "{}", p.display()),
            DbUrl::Postgres(_, url) => f.write_str(&redact(url)),
        }
    }
}

impl fmt::Debug for DbUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DbUrl({self})")
    }
}

/// `scheme://user:***@host…`: the password of a URL's user info hidden.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((userinfo, host)) = rest.split_once('@') else {
        return url.to_owned();
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backends_and_errors() {
        assert_eq!(
            DbUrl::parse("a.db").unwrap().sqlite_path(),
            Some(Path::new("a.db"))
        );
        assert_eq!(
            DbUrl::parse("postgresql://u@h/db").unwrap().backend(),
            Backend::Postgres
        );
        for (bad, says) in [
            ("", "empty"),
            ("sqlite:", "needs a file path"),
            ("mysql://u@h/db", "unknown scheme `mysql`"),
            (
                "postgres://u:pw@h:notaport/db",
                "not a valid PostgreSQL URL",
            ),
            ("postgres://u:pw@h:5432", "names no database"),
        ] {
            let e = DbUrl::parse(bad).unwrap_err().to_string();
            assert!(e.contains(says), "{bad:?}: {e}");
            assert!(!e.contains("pw"), "password leaked: {e}");
        }
    }
}
