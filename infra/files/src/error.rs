//! The one error type of the crate; every message names the path and the OS condition.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// Why a write failed. The target is left as it was (except for [`WriteError::Io`] with
/// [`Step::SyncFolder`], where the new content is in place but maybe not yet durable).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WriteError {
    /// The target exists and is not a regular file (device, FIFO, socket, directory).
    #[error("{} is {what}, not a regular file; refusing to replace it", .path.display())]
    NotRegularFile {
        /// The target (after following symlinks).
        path: PathBuf,
        /// What it is: `a character device`, `a directory`…
        what: &'static str,
    },
    /// The existing file's owner could not be given to the new version (not root, and
    /// the file belongs to someone else); replacing it would silently change its owner.
    #[error("{}: cannot keep its owner (uid {uid}, gid {gid}): {}; refusing to replace it",
        .path.display(), os_condition(.source))]
    OwnerNotKept {
        /// The target.
        path: PathBuf,
        /// Owner of the existing file.
        uid: u32,
        /// Group of the existing file.
        gid: u32,
        /// The fchown error.
        source: io::Error,
    },
    /// A file system call failed.
    #[error("{step} {}: {}{}", .path.display(), os_condition(.source), step.consequence())]
    Io {
        /// The target (or the folder, for folder steps).
        path: PathBuf,
        /// What was being done.
        step: Step,
        /// The OS error.
        source: io::Error,
    },
}

/// A target that is not a regular file is the caller's mistake (a wrong path); everything
/// else is this machine's file system.
impl ipocket_errors::Classify for WriteError {
    fn kind(&self) -> ipocket_errors::ErrorKind {
        match self {
            WriteError::NotRegularFile { .. } => ipocket_errors::ErrorKind::Invalid,
            _ => ipocket_errors::ErrorKind::Internal,
        }
    }
}

/// The step of a write that failed (for the message).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Step {
    /// Looking at the target or following its symlinks.
    Inspect,
    /// Creating the target's folder.
    CreateFolder,
    /// Creating, filling or syncing the temp file.
    WriteTemp,
    /// Renaming the temp file over the target.
    Rename,
    /// Syncing the folder after the rename.
    SyncFolder,
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Step::Inspect => "reading",
            Step::CreateFolder => "creating the folder of",
            Step::WriteTemp | Step::Rename => "writing",
            Step::SyncFolder => "syncing the folder of",
        })
    }
}

impl Step {
    fn consequence(self) -> &'static str {
        match self {
            Step::SyncFolder => " (the new content is in place but may not survive a crash)",
            _ => " (the file was not changed)",
        }
    }
}

impl WriteError {
    /// The OS error kind, for callers that map errors to their own kinds.
    pub fn io_kind(&self) -> io::ErrorKind {
        match self {
            WriteError::NotRegularFile { .. } => io::ErrorKind::InvalidInput,
            WriteError::OwnerNotKept { source, .. } | WriteError::Io { source, .. } => {
                source.kind()
            }
        }
    }
}

impl From<WriteError> for io::Error {
    fn from(e: WriteError) -> io::Error {
        io::Error::new(e.io_kind(), e.to_string())
    }
}

/// The OS condition in words with its errno name, e.g. `no space left on device (ENOSPC)`.
pub(crate) fn os_condition(e: &io::Error) -> String {
    use io::ErrorKind as K;
    let named = match e.kind() {
        K::StorageFull => "no space left on device (ENOSPC)",
        K::QuotaExceeded => "disk quota exceeded (EDQUOT)",
        K::ReadOnlyFilesystem => "read-only file system (EROFS)",
        K::FileTooLarge => "file too large (EFBIG)",
        K::PermissionDenied if e.raw_os_error() == Some(1) => "operation not permitted (EPERM)",
        K::PermissionDenied => "permission denied (EACCES)",
        K::NotFound => "no such file or directory (ENOENT)",
        K::NotADirectory => "not a directory (ENOTDIR)",
        K::IsADirectory => "is a directory (EISDIR)",
        K::CrossesDevices => "cross-device link (EXDEV)",
        _ => return e.to_string(),
    };
    named.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_os = "linux")]
    #[test]
    fn os_conditions_are_named_with_their_errno() {
        let at = |n| os_condition(&io::Error::from_raw_os_error(n));
        assert_eq!(at(28), "no space left on device (ENOSPC)");
        assert_eq!(at(122), "disk quota exceeded (EDQUOT)");
        assert_eq!(at(30), "read-only file system (EROFS)");
        assert_eq!(at(13), "permission denied (EACCES)");
        assert_eq!(at(1), "operation not permitted (EPERM)");
        assert!(at(5).contains("os error 5"), "{}", at(5));
    }

    #[test]
    fn messages_name_the_path_and_keep_the_kind() {
        let e = WriteError::Io {
            path: "/x/t.json".into(),
            step: Step::WriteTemp,
            source: io::Error::from(io::ErrorKind::StorageFull),
        };
        assert_eq!(
            e.to_string(),
            "writing /x/t.json: no space left on device (ENOSPC) (the file was not changed)"
        );
        assert_eq!(io::Error::from(e).kind(), io::ErrorKind::StorageFull);
    }
}
