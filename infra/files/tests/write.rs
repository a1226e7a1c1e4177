//! The rules of `ipocket_files::write`, one test per situation.

use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

use ipocket_files::{write, Outcome, WriteError};

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    v.sort();
    v
}

fn is_root() -> bool {
    let dir = tempfile::tempdir().unwrap();
    fs::metadata(dir.path()).unwrap().uid() == 0
}

/// A tmpfs mounted for one test, unmounted on drop.
struct Tmpfs {
    _parent: tempfile::TempDir,
    dir: PathBuf,
}

impl Tmpfs {
    /// Mounts a tmpfs of `size` (e.g. `64k`); `None` (after saying why, loudly) when that
    /// is not possible here.
    fn mount(test: &str, size: &str) -> Option<Tmpfs> {
        if !is_root() {
            eprintln!("!!! SKIPPED {test}: needs root to mount a tmpfs (CI runs as root)");
            return None;
        }
        let parent = tempfile::tempdir().unwrap();
        let dir = parent.path().join("mnt");
        fs::create_dir(&dir).unwrap();
        let out = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0755"),
                "tmpfs",
            ])
            .arg(&dir)
            .output();
        match out {
            Ok(o) if o.status.success() => Some(Tmpfs {
                _parent: parent,
                dir,
            }),
            Ok(o) => {
                eprintln!(
                    "!!! SKIPPED {test}: mount -t tmpfs failed: {}",
                    String::from_utf8_lossy(&o.stderr).trim()
                );
                None
            }
            Err(e) => {
                eprintln!("!!! SKIPPED {test}: cannot run mount: {e}");
                None
            }
        }
    }

    fn remount(&self, opts: &str) {
        let ok = Command::new("mount")
            .args(["-o", &format!("remount,{opts}")])
            .arg(&self.dir)
            .status()
            .unwrap()
            .success();
        assert!(ok, "remount {opts}");
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.dir).status();
    }
}

#[test]
fn new_file_is_0644_and_no_temp_file_is_left() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub/folder/targets.json");
    assert!(!ipocket_files::check_target(&path).unwrap());
    assert_eq!(write(&path, b"[]\n").unwrap(), Outcome::Created);
    assert_eq!(fs::read(&path).unwrap(), b"[]\n");
    let mode = fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o7777, 0o644);
    assert!(ipocket_files::check_target(&path).unwrap());
    assert_eq!(write(&path, b"[1]\n").unwrap(), Outcome::Updated);
    assert_eq!(names(path.parent().unwrap()), vec!["targets.json"]);
}

#[test]
fn symlink_is_followed_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    // A ConfigMap-like layout: file.json -> ..data/file.json, ..data -> ..v1 (relative).
    fs::create_dir(dir.path().join("..v1")).unwrap();
    fs::write(dir.path().join("..v1/file.json"), b"old").unwrap();
    std::os::unix::fs::symlink("..v1", dir.path().join("..data")).unwrap();
    let link = dir.path().join("file.json");
    std::os::unix::fs::symlink("..data/file.json", &link).unwrap();

    assert_eq!(write(&link, b"new").unwrap(), Outcome::Updated);
    assert!(fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(fs::read(dir.path().join("..v1/file.json")).unwrap(), b"new");
    assert_eq!(names(&dir.path().join("..v1")), vec!["file.json"]);

    // A dangling link: its target is created, the link stays.
    let dangling = dir.path().join("d.yml");
    std::os::unix::fs::symlink("real.yml", &dangling).unwrap();
    assert_eq!(write(&dangling, b"x").unwrap(), Outcome::Created);
    assert!(fs::symlink_metadata(&dangling)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(fs::read(dir.path().join("real.yml")).unwrap(), b"x");
}

#[test]
fn devices_fifos_sockets_and_folders_are_refused() {
    assert!(ipocket_files::check_target(Path::new("/dev/null")).is_err());
    let err = write(Path::new("/dev/null"), b"x").unwrap_err();
    assert_eq!(
        err.to_string(),
        "/dev/null is a character device, not a regular file; refusing to replace it"
    );
    assert!(fs::metadata("/dev/null")
        .unwrap()
        .file_type()
        .is_char_device());

    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let sock = dir.path().join("sock");
    let _listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    let folder = dir.path().join("folder.json");
    fs::create_dir(&folder).unwrap();
    let via_link = dir.path().join("null.json");
    std::os::unix::fs::symlink("/dev/null", &via_link).unwrap();
    for (path, what) in [
        (&fifo, "a FIFO (named pipe)"),
        (&sock, "a socket"),
        (&folder, "a directory"),
        (&via_link, "a character device"),
    ] {
        match write(path, b"x") {
            Err(WriteError::NotRegularFile { what: w, .. }) => assert_eq!(w, what),
            other => panic!("{}: {other:?}", path.display()),
        }
    }
    assert!(fs::symlink_metadata(&via_link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(
        names(dir.path()),
        vec!["fifo", "folder.json", "null.json", "sock"]
    );
}

#[test]
fn owner_group_and_mode_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("group-1.yml");
    fs::write(&path, b"old").unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
    let owner = if is_root() {
        std::os::unix::fs::chown(&path, Some(4321), Some(8765)).unwrap();
        (4321, 8765)
    } else {
        eprintln!(
            "!!! owner_group_and_mode_are_kept: not root, checks the mode and own owner only"
        );
        let m = fs::metadata(&path).unwrap();
        (m.uid(), m.gid())
    };
    assert_eq!(write(&path, b"new").unwrap(), Outcome::Updated);
    let m = fs::metadata(&path).unwrap();
    assert_eq!((m.uid(), m.gid()), owner);
    assert_eq!(m.mode() & 0o7777, 0o640);
    assert_eq!(fs::read(&path).unwrap(), b"new");
}

#[test]
fn same_bytes_are_not_rewritten() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.json");
    write(&path, b"same").unwrap();
    let past = SystemTime::now() - Duration::from_secs(3600);
    fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(past)
        .unwrap();
    let inode = fs::metadata(&path).unwrap().ino();
    assert_eq!(write(&path, b"same").unwrap(), Outcome::Unchanged);
    let m = fs::metadata(&path).unwrap();
    assert_eq!((m.modified().unwrap(), m.ino()), (past, inode));
    assert!(write(&path, b"other").unwrap().is_written());
}

#[test]
fn leftover_temp_files_of_the_target_are_removed() {
    let dir = tempfile::tempdir().unwrap();
    let stale = dir.path().join(".t.json.ipocket-tmp-00000000000000aa");
    let fresh = dir.path().join(".t.json.ipocket-tmp-00000000000000bb");
    let other = dir.path().join(".u.json.ipocket-tmp-00000000000000cc");
    let foreign = dir.path().join(".t.json.swp");
    for p in [&stale, &fresh, &other, &foreign] {
        fs::write(p, b"torn").unwrap();
    }
    let past = SystemTime::now() - Duration::from_secs(3600);
    for p in [&stale, &other, &foreign] {
        let f = fs::File::options().write(true).open(p).unwrap();
        f.set_modified(past).unwrap();
    }
    write(&dir.path().join("t.json"), b"[]").unwrap();
    assert!(
        !stale.exists(),
        "a stale temp file of this target is removed"
    );
    assert!(fresh.exists(), "a recent one may be a live write: kept");
    assert!(
        other.exists(),
        "another target's temp file is not ours to judge"
    );
    assert!(
        foreign.exists(),
        "files not named like ours are never touched"
    );
}

#[test]
fn full_disk_names_enospc_and_keeps_the_old_file() {
    let Some(fs_) = Tmpfs::mount("full_disk_names_enospc_and_keeps_the_old_file", "64k") else {
        return;
    };
    let path = fs_.dir.join("targets.json");
    write(&path, b"old").unwrap();
    let err = write(&path, &vec![b'x'; 1 << 20]).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("no space left on device (ENOSPC)"), "{msg}");
    assert!(msg.contains(&path.display().to_string()), "{msg}");
    assert_eq!(err.io_kind(), std::io::ErrorKind::StorageFull);
    assert_eq!(fs::read(&path).unwrap(), b"old");
    assert_eq!(names(&fs_.dir), vec!["targets.json"]);
}

#[test]
fn read_only_folder_names_erofs_and_keeps_the_old_file() {
    let Some(fs_) = Tmpfs::mount("read_only_folder_names_erofs_and_keeps_the_old_file", "1m")
    else {
        return;
    };
    let path = fs_.dir.join("group-1.yml");
    write(&path, b"old").unwrap();
    fs_.remount("ro");
    let err = write(&path, b"new").unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("read-only file system (EROFS)"), "{msg}");
    assert!(msg.contains(&path.display().to_string()), "{msg}");
    assert_eq!(fs::read(&path).unwrap(), b"old");
    assert_eq!(names(&fs_.dir), vec!["group-1.yml"]);
}

#[test]
fn permission_denied_folder_names_eacces_when_not_root() {
    if is_root() {
        eprintln!(
            "!!! SKIPPED permission_denied_folder_names_eacces_when_not_root: root ignores \
             folder modes (read_only_folder_names_erofs_and_keeps_the_old_file covers root)"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.json");
    write(&path, b"old").unwrap();
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o555)).unwrap();
    let err = write(&path, b"new").unwrap_err();
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    assert!(
        err.to_string().contains("permission denied (EACCES)"),
        "{err}"
    );
    assert_eq!(fs::read(&path).unwrap(), b"old");
}
