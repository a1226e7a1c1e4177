//! The `--db` of the commands: a SQLite file or a PostgreSQL URL (`ipocket_db::DbUrl`).
//! For the commands that only read, a missing file is refused, because opening it would
//! create an empty database and the command would print nothing and exit 0 (a mistyped
//! path looked like an empty inventory). Commands that write create it.

use std::path::Path;

use anyhow::{anyhow, bail, Context, Result};
use ipocket_core::Inventory;
use ipocket_db::DbUrl;

/// `path` when the file exists; otherwise an error naming the path and what creates one.
pub(crate) fn existing(path: &Path) -> Result<&Path> {
    if !path.exists() {
        bail!(
            "no database at {}; check --db or IPOCKET_DB (`ipocket serve`, `ipocket import --apply` \
             and `ipocket users add` create one)",
            path.display()
        );
    }
    Ok(path)
}

/// `path`, refused like [`existing`] unless the command writes (`creates`).
pub(crate) fn for_command(path: &Path, creates: bool) -> Result<&Path> {
    if creates {
        Ok(path)
    } else {
        existing(path)
    }
}

/// The database `--db` names: a SQLite file (refused like [`for_command`] when missing) or a
/// PostgreSQL URL (a missing database is PostgreSQL's error when it is opened).
pub(crate) fn url(db: &Path, creates: bool) -> Result<DbUrl> {
    let text = db
        .to_str()
        .ok_or_else(|| anyhow!("--db {}: not UTF-8", db.display()))?;
    let url = DbUrl::parse(text)?;
    if let DbUrl::Sqlite(path) = &url {
        for_command(path, creates)?;
    }
    Ok(url)
}

/// The inventory of `--db` on either backend (migrated), checked as [`url`] does.
pub(crate) fn open_inventory(db: &Path, creates: bool) -> Result<Inventory> {
    let url = url(db, creates)?;
    Inventory::open_url(&url).with_context(|| format!("opening {url}"))
}
