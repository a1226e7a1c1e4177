//! The `--db` of the commands that only read: a missing file is refused, because opening it
//! would create an empty database and the command would print nothing and exit 0 (a
//! mistyped path looked like an empty inventory). Commands that write create it.

use std::path::Path;

use anyhow::{bail, Result};

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
