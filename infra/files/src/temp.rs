//! Temp file names and the clean-up of leftovers from interrupted writes.
//!
//! A temp file is `.<name>.ipocket-tmp-<16 hex digits>`: hidden, and ending in neither the
//! target's extension nor any reader's (`*.json`, `*.yml`, `*.rules.yml`, `*.prom`), so no
//! Prometheus glob picks up a half-written file.

use std::collections::hash_map::RandomState;
use std::ffi::{OsStr, OsString};
use std::fs;
use std::hash::{BuildHasher, Hasher};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

const MARK: &str = ".ipocket-tmp-";

/// Leftovers younger than this may belong to a write still running (another process);
/// they are left alone. A live write touches its temp file continuously, so a minute
/// without a change means its writer is gone.
pub(crate) const LEFTOVER_AGE: Duration = Duration::from_secs(60);

/// A fresh temp file name for a target named `name`.
pub(crate) fn temp_name(name: &OsStr) -> OsString {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    // RandomState is randomly keyed per process; with the pid, a counter and the time
    // the name is unique enough, and `create_new` catches the rest.
    let mut h = RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    h.write_u128(
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default(),
    );
    let mut out = OsString::from(".");
    out.push(name);
    out.push(format!("{MARK}{:016x}", h.finish()));
    out
}

/// True for temp file names of this crate (any target).
pub fn is_temp_file_name(name: &str) -> bool {
    name.starts_with('.')
        && name.rsplit_once(MARK).is_some_and(|(stem, hex)| {
            stem.len() > 1 && hex.len() == 16 && hex.bytes().all(|b| b.is_ascii_hexdigit())
        })
}

/// True when `name` is one of our temp files for the target named `target`.
fn is_temp_for(name: &OsStr, target: &OsStr) -> bool {
    let (Some(name), Some(target)) = (name.to_str(), target.to_str()) else {
        return false;
    };
    is_temp_file_name(name)
        && name
            .strip_prefix('.')
            .and_then(|n| n.strip_prefix(target))
            .is_some_and(|rest| rest.starts_with(MARK))
}

/// Removes our temp files for `target` in `dir` that nobody has touched for
/// [`LEFTOVER_AGE`] (a crash or kill -9 mid-write). Best effort: a failure here must not
/// stop the write. Returns how many were removed.
pub(crate) fn remove_leftovers(dir: &Path, target: &OsStr) -> usize {
    let Ok(entries) = fs::read_dir(dir) else {
        return 0;
    };
    let now = SystemTime::now();
    let mut removed = 0;
    for entry in entries.flatten() {
        if !is_temp_for(&entry.file_name(), target) {
            continue;
        }
        let Ok(meta) = entry.metadata() else { continue };
        let idle = meta
            .modified()
            .ok()
            .and_then(|m| now.duration_since(m).ok())
            .unwrap_or_default();
        if meta.is_file() && idle >= LEFTOVER_AGE && fs::remove_file(entry.path()).is_ok() {
            removed += 1;
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_names_never_match_the_readers_globs() {
        for target in [
            "targets.json",
            "group-1.yml",
            "node.rules.yml",
            "1-2-x.prom",
        ] {
            let t = temp_name(OsStr::new(target)).into_string().unwrap();
            assert!(t.starts_with(&format!(".{target}.ipocket-tmp-")), "{t}");
            for ext in [".json", ".yml", ".yaml", ".prom", ".om"] {
                assert!(!t.ends_with(ext), "{t} ends with {ext}");
            }
            assert!(is_temp_file_name(&t), "{t}");
            assert!(is_temp_for(OsStr::new(&t), OsStr::new(target)));
            assert!(!is_temp_for(OsStr::new(&t), OsStr::new("other.json")));
        }
        assert_ne!(
            temp_name(OsStr::new("a.json")),
            temp_name(OsStr::new("a.json"))
        );
        for foreign in [
            "targets.json",
            ".targets.json.swp",
            ".targets.json.ipocket-tmp-xyz",
            ".ipocket-tmp-0123456789abcdef",
        ] {
            assert!(!is_temp_file_name(foreign), "{foreign}");
        }
    }
}
