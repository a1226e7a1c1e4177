//! The one way ipocket writes a file that others read (file_sd targets, rule files and
//! their backups, export and connector bundles, the agent's buffered scrapes).
//!
//! [`write`] replaces a file atomically and safely:
//!
//! - a temp file in the same folder as the target, fsync, rename over the target, fsync
//!   of the folder: a reader sees the old or the new content, never half of it;
//! - a **symlink** is followed at write time: its final target is replaced (the temp file
//!   sits beside it) and the link stays a link (Kubernetes ConfigMaps, `/etc` layouts);
//! - a target that is **not a regular file** (device, FIFO, socket, folder) is refused
//!   with [`WriteError::NotRegularFile`], never replaced (`/dev/null` stays a device);
//! - an existing file keeps its **owner, group and mode**; a new file gets mode 0644
//!   whatever the umask, so a Prometheus running as another user can read it;
//! - the temp name `.<name>.ipocket-tmp-<hex>` matches no reader's glob (`*.json`,
//!   `*.yml`); leftovers of a crashed write are removed by the next write of that target;
//! - the **same bytes** are not rewritten ([`Outcome::Unchanged`], mtime kept), so callers
//!   can skip a reload;
//! - errors name the path and the OS condition (`no space left on device (ENOSPC)`); the
//!   old file stays intact and no temp file is left behind.
//!
//! ```
//! use ipocket_files::{write, Outcome};
//! let dir = tempfile::tempdir().unwrap();
//! let path = dir.path().join("targets/ipocket.json");
//! assert_eq!(write(&path, b"[]\n").unwrap(), Outcome::Created);
//! assert_eq!(write(&path, b"[]\n").unwrap(), Outcome::Unchanged);
//! assert_eq!(write(&path, b"[{}]\n").unwrap(), Outcome::Updated);
//! ```

#![forbid(unsafe_code)]

mod error;
mod temp;

use std::fs::{self, File, Metadata, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{fchown, FileTypeExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

pub use error::{Step, WriteError};
pub use temp::is_temp_file_name;

/// Mode of a new file: readable by everyone, writable by its owner.
pub const NEW_FILE_MODE: u32 = 0o644;

/// Symlinks followed before giving up (as Linux's `MAXSYMLINKS`).
const MAX_SYMLINKS: usize = 40;

/// What a write did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The file did not exist.
    Created,
    /// The file existed with other content and was replaced.
    Updated,
    /// The file already held these bytes; it was not touched.
    Unchanged,
}

impl Outcome {
    /// True when the file on disk changed (readers should reload).
    pub fn is_written(self) -> bool {
        self != Outcome::Unchanged
    }
}

/// How to write; [`write`] uses the defaults.
#[derive(Debug, Clone, Copy)]
pub struct WriteOptions {
    create_folders: bool,
    remove_leftovers: bool,
    sync: bool,
}

impl Default for WriteOptions {
    fn default() -> Self {
        WriteOptions {
            create_folders: true,
            remove_leftovers: true,
            sync: true,
        }
    }
}

impl WriteOptions {
    /// Whether missing folders of the target are created (default: yes).
    pub fn create_folders(mut self, yes: bool) -> Self {
        self.create_folders = yes;
        self
    }

    /// Whether our stale temp files for this target are removed before writing (default:
    /// yes; it lists the folder, so a writer of many new files in one folder, such as the
    /// agent's buffer, turns it off and cleans up once when it opens the folder).
    pub fn remove_leftovers(mut self, yes: bool) -> Self {
        self.remove_leftovers = yes;
        self
    }

    /// Whether the temp file and the folder are fsynced (default: yes). Without, the write is
    /// still atomic and survives a crash of the process, but not a power cut: for data that
    /// is as durable as a SQLite database in WAL mode with `synchronous=NORMAL` beside it
    /// (the server's remote_write queue), at a fraction of the cost.
    pub fn sync(mut self, yes: bool) -> Self {
        self.sync = yes;
        self
    }

    /// Writes `bytes` to `path` with these options; see the [crate] documentation.
    pub fn write(&self, path: &Path, bytes: &[u8]) -> Result<Outcome, WriteError> {
        let target = resolve_symlinks(path)?;
        let existing = regular_file_or_none(&target)?;
        if let Some(meta) = &existing {
            if same_content(&target, meta, bytes).unwrap_or(false) {
                return Ok(Outcome::Unchanged);
            }
        }
        let (dir, name) = split(&target);
        if existing.is_none() && self.create_folders {
            fs::create_dir_all(&dir).map_err(|source| WriteError::Io {
                path: target.clone(),
                step: Step::CreateFolder,
                source,
            })?;
        }
        if self.remove_leftovers {
            temp::remove_leftovers(&dir, name);
        }
        let tmp = dir.join(temp::temp_name(name));
        let written = fill_temp(&tmp, &target, existing.as_ref(), bytes, self.sync)
            .and_then(|()| {
                fs::rename(&tmp, &target).map_err(|source| WriteError::Io {
                    path: target.clone(),
                    step: Step::Rename,
                    source,
                })
            })
            .inspect_err(|_| {
                let _ = fs::remove_file(&tmp);
            });
        written?;
        if self.sync {
            sync_folder(&dir).map_err(|source| WriteError::Io {
                path: target.clone(),
                step: Step::SyncFolder,
                source,
            })?;
        }
        Ok(if existing.is_some() {
            Outcome::Updated
        } else {
            Outcome::Created
        })
    }
}

/// Writes `bytes` to `path` atomically with the default [`WriteOptions`]; see the
/// [crate] documentation for the rules.
pub fn write(path: &Path, bytes: &[u8]) -> Result<Outcome, WriteError> {
    WriteOptions::default().write(path, bytes)
}

/// Checks, without writing, that [`write`] may replace `path`: `Ok(true)` when a regular
/// file is there (through symlinks), `Ok(false)` when nothing is, the error [`write`] would
/// give for a device, FIFO, socket or folder. For callers that do work before the write
/// (rulegen's backups) and must not do it for a target that will be refused.
pub fn check_target(path: &Path) -> Result<bool, WriteError> {
    Ok(regular_file_or_none(&resolve_symlinks(path)?)?.is_some())
}

/// Follows `path` through symlinks (relative ones from their own folder) to the file a
/// write must replace; a dangling link resolves to the missing file it points at.
pub fn resolve_symlinks(path: &Path) -> Result<PathBuf, WriteError> {
    let inspect = |source| WriteError::Io {
        path: path.to_path_buf(),
        step: Step::Inspect,
        source,
    };
    let mut current = path.to_path_buf();
    for _ in 0..MAX_SYMLINKS {
        match fs::symlink_metadata(&current) {
            Ok(m) if m.file_type().is_symlink() => {
                let link = fs::read_link(&current).map_err(inspect)?;
                current = match current.parent() {
                    Some(parent) if link.is_relative() => parent.join(link),
                    _ => link,
                };
            }
            Ok(_) => return Ok(current),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(current),
            Err(e) => return Err(inspect(e)),
        }
    }
    Err(inspect(io::Error::other(
        "too many levels of symbolic links (ELOOP)",
    )))
}

/// The metadata of `path` if it is a regular file, `None` if it does not exist, an error
/// naming what it is otherwise.
fn regular_file_or_none(path: &Path) -> Result<Option<Metadata>, WriteError> {
    let meta = match fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(WriteError::Io {
                path: path.to_path_buf(),
                step: Step::Inspect,
                source,
            })
        }
    };
    let t = meta.file_type();
    let what = if t.is_file() {
        return Ok(Some(meta));
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_fifo() {
        "a FIFO (named pipe)"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_dir() {
        "a directory"
    } else {
        "not a regular file"
    };
    Err(WriteError::NotRegularFile {
        path: path.to_path_buf(),
        what,
    })
}

/// True when the file already holds exactly `bytes` (compared only if the sizes match).
fn same_content(path: &Path, meta: &Metadata, bytes: &[u8]) -> io::Result<bool> {
    if meta.len() != bytes.len() as u64 {
        return Ok(false);
    }
    let mut old = Vec::with_capacity(bytes.len());
    File::open(path)?.read_to_end(&mut old)?;
    Ok(old == bytes)
}

/// The target's folder (`.` for a bare name) and file name.
fn split(target: &Path) -> (PathBuf, &std::ffi::OsStr) {
    let dir = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    (dir, target.file_name().unwrap_or(target.as_os_str()))
}

/// Creates the temp file, writes `bytes`, gives it the old file's owner and mode (or
/// 0644), fsyncs it (when `sync`).
fn fill_temp(
    tmp: &Path,
    target: &Path,
    existing: Option<&Metadata>,
    bytes: &[u8],
    sync: bool,
) -> Result<(), WriteError> {
    let io_err = |source| WriteError::Io {
        path: target.to_path_buf(),
        step: Step::WriteTemp,
        source,
    };
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(tmp)
        .map_err(io_err)?;
    file.write_all(bytes).map_err(io_err)?;
    let mode = match existing {
        Some(old) => {
            let mine = file.metadata().map_err(io_err)?;
            if (mine.uid(), mine.gid()) != (old.uid(), old.gid()) {
                fchown(&file, Some(old.uid()), Some(old.gid())).map_err(|source| {
                    WriteError::OwnerNotKept {
                        path: target.to_path_buf(),
                        uid: old.uid(),
                        gid: old.gid(),
                        source,
                    }
                })?;
            }
            old.mode() & 0o7777
        }
        None => NEW_FILE_MODE,
    };
    // After the chown, which clears set-id bits; explicit, so the umask does not apply.
    file.set_permissions(fs::Permissions::from_mode(mode))
        .map_err(io_err)?;
    if sync {
        file.sync_all().map_err(io_err)?;
    }
    Ok(())
}

fn sync_folder(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}
