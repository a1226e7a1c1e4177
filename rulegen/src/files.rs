//! The rule folder: atomic writes (through [`ipocket_files`]), bounded `.bak` backups,
//! stale-file removal, listing, dry-run diffs and the optional promtool check.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

use serde::Serialize;

use crate::diff::unified_diff;
use crate::error::{Error, Result};
use crate::rulefile::RuleFile;

/// Mode of a new rule file: readable by a Prometheus running as another user. An existing
/// file keeps its owner, group and mode.
pub const FILE_MODE: u32 = ipocket_files::NEW_FILE_MODE;

/// Most backups kept per file; larger settings are clamped to this.
pub const MAX_BACKUPS: usize = 100;

/// What a write did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum WriteOutcome {
    /// The file did not exist.
    Created,
    /// The file existed with other content; the old one is now `NAME.bak.1`.
    Updated,
    /// Same content already on disk; nothing touched.
    Unchanged,
}

/// One generated rule file on disk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleFileInfo {
    /// Group id taken from the file name.
    pub group_id: i64,
    /// `group-<id>.yml`.
    pub file_name: String,
    /// Full path.
    pub path: PathBuf,
    /// Rule-group names in the file; empty if it does not parse.
    pub prometheus_groups: Vec<String>,
    /// Number of rules; `None` if the file does not parse.
    pub rule_count: Option<usize>,
    /// Size in bytes.
    pub size_bytes: u64,
    /// Last modification, RFC 3339 UTC (`2026-11-24T01:02:03Z`).
    pub modified: String,
}

/// Manages the generated files (`group-<id>.yml`) in one folder. Other files in the
/// folder (hand-written rules) are never touched.
///
/// Backups are `group-<id>.yml.bak.1` (newest) … `.bak.N`; temp files are
/// `.group-<id>.yml.ipocket-tmp-<hex>`. Neither matches a `*.yml` glob, so Prometheus never
/// loads them (a bare `*` glob would: do not use one).
#[derive(Debug, Clone)]
pub struct RuleFileManager {
    dir: PathBuf,
    backup_count: usize,
}

/// True for names this crate generates: `group-<digits>.yml`.
pub fn is_generated_file_name(name: &str) -> bool {
    group_id_of(name).is_some()
}

/// The group id in a generated file name.
pub fn group_id_of(name: &str) -> Option<i64> {
    let digits = name.strip_prefix("group-")?.strip_suffix(".yml")?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

impl RuleFileManager {
    /// A manager for `dir` keeping `backup_count` backups per file (0 = none, at most
    /// [`MAX_BACKUPS`]).
    pub fn new(dir: impl Into<PathBuf>, backup_count: usize) -> Self {
        RuleFileManager {
            dir: dir.into(),
            backup_count: backup_count.min(MAX_BACKUPS),
        }
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, name: &str) -> Result<PathBuf> {
        if !is_generated_file_name(name) {
            return Err(Error::invalid(
                "rule file name",
                format!("{name:?} is not a generated file name (group-<id>.yml)"),
            ));
        }
        Ok(self.dir.join(name))
    }

    fn backup_path(&self, name: &str, n: usize) -> PathBuf {
        self.dir.join(format!("{name}.bak.{n}"))
    }

    fn ensure_dir(&self) -> Result<()> {
        fs::create_dir_all(&self.dir).map_err(|e| Error::io(&self.dir, e))
    }

    /// Current content of a generated file, if it exists.
    pub fn read(&self, name: &str) -> Result<Option<String>> {
        let path = self.path(name)?;
        match fs::read_to_string(&path) {
            Ok(s) => Ok(Some(s)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io(path, e)),
        }
    }

    /// Shifts `.bak.i` to `.bak.i+1`, dropping the oldest, so `.bak.1` is free.
    fn rotate_backups(&self, name: &str) -> Result<()> {
        let n = self.backup_count;
        let oldest = self.backup_path(name, n);
        match fs::remove_file(&oldest) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(oldest, e)),
        }
        for i in (1..n).rev() {
            let from = self.backup_path(name, i);
            if from.exists() {
                let to = self.backup_path(name, i + 1);
                fs::rename(&from, &to).map_err(|e| Error::io(from, e))?;
            }
        }
        Ok(())
    }

    /// Existing backups of a file, newest first.
    pub fn backups(&self, name: &str) -> Result<Vec<PathBuf>> {
        self.path(name)?;
        Ok((1..=self.backup_count.max(1))
            .map(|i| self.backup_path(name, i))
            .filter(|p| p.exists())
            .collect())
    }

    /// Writes `content` with [`ipocket_files::write`] (temp file, fsync, rename, folder
    /// fsync; a symlink followed, a device refused, owner and mode kept, 0644 when new).
    /// The old version becomes `NAME.bak.1`, written the same way. Identical content is
    /// left alone.
    pub fn write(&self, name: &str, content: &str) -> Result<WriteOutcome> {
        let path = self.path(name)?;
        self.ensure_dir()?;
        // Refuse a device or folder before rotating backups for it.
        ipocket_files::check_target(&path)?;
        let old = self.read(name)?;
        if old.as_deref() == Some(content) {
            return Ok(WriteOutcome::Unchanged);
        }
        if let Some(old) = &old {
            if self.backup_count > 0 {
                self.rotate_backups(name)?;
                ipocket_files::write(&self.backup_path(name, 1), old.as_bytes())?;
            }
        }
        ipocket_files::write(&path, content.as_bytes())?;
        Ok(if old.is_some() {
            WriteOutcome::Updated
        } else {
            WriteOutcome::Created
        })
    }

    /// Removes a generated file (the content is kept as `NAME.bak.1` when backups are
    /// on). A symlink is removed as a link: the file it points to is left where it is, and
    /// its content is what the backup keeps. Returns false if there was no file.
    pub fn remove(&self, name: &str) -> Result<bool> {
        let path = self.path(name)?;
        if !path.exists() {
            return Ok(false);
        }
        let is_link = path
            .symlink_metadata()
            .map_err(|e| Error::io(&path, e))?
            .file_type()
            .is_symlink();
        if self.backup_count > 0 {
            self.rotate_backups(name)?;
            let bak = self.backup_path(name, 1);
            if is_link {
                // Renaming would move the link, whose relative target may not resolve from
                // the backup's name; keep a copy of what it served instead.
                let served = fs::read(&path).map_err(|e| Error::io(&path, e))?;
                ipocket_files::write(&bak, &served)?;
                fs::remove_file(&path).map_err(|e| Error::io(&path, e))?;
            } else {
                fs::rename(&path, &bak).map_err(|e| Error::io(&path, e))?;
            }
        } else {
            fs::remove_file(&path).map_err(|e| Error::io(&path, e))?;
        }
        self.sync_dir()?;
        Ok(true)
    }

    fn sync_dir(&self) -> Result<()> {
        fs::File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| Error::io(&self.dir, e))
    }

    /// Names of the generated files in the folder, sorted by group id.
    pub fn generated_files(&self) -> Result<Vec<String>> {
        let entries = match fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::io(&self.dir, e)),
        };
        let mut names: Vec<(i64, String)> = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| Error::io(&self.dir, e))?;
            if let Some(name) = entry.file_name().to_str() {
                if let Some(id) = group_id_of(name) {
                    names.push((id, name.to_string()));
                }
            }
        }
        names.sort();
        Ok(names.into_iter().map(|(_, n)| n).collect())
    }

    /// The generated files with group, rule count, size and modification time.
    pub fn list(&self) -> Result<Vec<RuleFileInfo>> {
        let mut out = Vec::new();
        for name in self.generated_files()? {
            let path = self.dir.join(&name);
            let meta = fs::metadata(&path).map_err(|e| Error::io(&path, e))?;
            let parsed = fs::read_to_string(&path)
                .ok()
                .and_then(|t| RuleFile::from_yaml(&t).ok());
            out.push(RuleFileInfo {
                group_id: group_id_of(&name).unwrap_or_default(),
                prometheus_groups: parsed
                    .as_ref()
                    .map(|f| f.groups.iter().map(|g| g.name.clone()).collect())
                    .unwrap_or_default(),
                rule_count: parsed.as_ref().map(RuleFile::rule_count),
                size_bytes: meta.len(),
                modified: meta.modified().map(rfc3339).unwrap_or_default(),
                file_name: name,
                path,
            });
        }
        Ok(out)
    }

    /// The unified diff between what is on disk and `content` (empty if equal).
    pub fn diff(&self, name: &str, content: &str) -> Result<String> {
        let old = self.read(name)?.unwrap_or_default();
        Ok(unified_diff(
            &old,
            content,
            &format!("a/{name}"),
            &format!("b/{name}"),
        ))
    }

    /// Runs `promtool check rules` on `content`, written to a temp file
    /// `.NAME.promtool-check` in the rule folder (no `*.yml` glob matches it) and
    /// removed afterwards. Nothing else is touched.
    pub fn check_with_promtool(&self, promtool: &Path, name: &str, content: &str) -> Result<()> {
        let final_path = self.path(name)?;
        self.ensure_dir()?;
        let check_path = self.dir.join(format!(".{name}.promtool-check"));
        ipocket_files::write(&check_path, content.as_bytes())?;
        let output = Command::new(promtool)
            .arg("check")
            .arg("rules")
            .arg(&check_path)
            .output();
        let _ = fs::remove_file(&check_path);
        let output = output.map_err(|source| Error::PromtoolUnavailable {
            path: promtool.to_path_buf(),
            source,
        })?;
        if output.status.success() {
            return Ok(());
        }
        let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
        text.push_str(&String::from_utf8_lossy(&output.stderr));
        Err(Error::PromtoolRejected {
            file: final_path,
            output: text.trim_end().to_string(),
        })
    }
}

/// Formats a time as RFC 3339 UTC with seconds.
pub(crate) fn rfc3339(t: SystemTime) -> String {
    let secs = match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => d.as_secs() as i64,
        Err(_) => 0,
    };
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil-from-days (proleptic Gregorian), days since 1970-01-01.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;
    use std::time::Duration;

    const V1: &str = "groups:\n- name: a\n  rules: []\n";

    fn v(n: usize) -> String {
        format!("groups:\n- name: g{n}\n  rules: []\n")
    }

    #[test]
    fn names() {
        assert_eq!(group_id_of("group-12.yml"), Some(12));
        for bad in [
            "group-.yml",
            "group-1.yaml",
            "group-1.yml.bak.1",
            ".group-1.yml.abc",
            "x.yml",
            "group-a.yml",
        ] {
            assert_eq!(group_id_of(bad), None, "{bad}");
        }
        let m = RuleFileManager::new("/nonexistent", 1);
        assert!(m.write("../etc.yml", "x").is_err());
    }

    #[test]
    fn rfc3339_known_values() {
        let at = |s: u64| rfc3339(SystemTime::UNIX_EPOCH + Duration::from_secs(s));
        assert_eq!(at(0), "1970-01-01T00:00:00Z");
        assert_eq!(at(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(at(951_782_400), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn write_creates_with_mode_0644_and_skips_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        let rules = dir.path().join("rules");
        let m = RuleFileManager::new(&rules, 2);
        assert_eq!(m.write("group-1.yml", V1).unwrap(), WriteOutcome::Created);
        let mode = fs::metadata(rules.join("group-1.yml"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, FILE_MODE);
        assert_eq!(m.write("group-1.yml", V1).unwrap(), WriteOutcome::Unchanged);
        assert!(m.backups("group-1.yml").unwrap().is_empty());
        let left: Vec<String> = fs::read_dir(&rules)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(left, vec!["group-1.yml".to_string()], "no temp file left");
    }

    #[test]
    fn update_keeps_a_private_mode_and_refuses_a_device() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("group-1.yml");
        fs::write(&path, V1).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        let m = RuleFileManager::new(dir.path(), 1);
        assert_eq!(
            m.write("group-1.yml", &v(2)).unwrap(),
            WriteOutcome::Updated
        );
        let mode = fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        // A rule file linked to /dev/null: refused, the link and the backups untouched.
        let null = dir.path().join("group-2.yml");
        std::os::unix::fs::symlink("/dev/null", &null).unwrap();
        let err = m.write("group-2.yml", V1).unwrap_err();
        assert!(err.to_string().contains("character device"), "{err}");
        assert!(null.symlink_metadata().unwrap().file_type().is_symlink());
        assert!(m.backups("group-2.yml").unwrap().is_empty());
    }

    #[test]
    fn removing_a_linked_rule_file_removes_the_link_and_keeps_its_content() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("real")).unwrap();
        fs::write(dir.path().join("real/group-4.yml"), V1).unwrap();
        let link = dir.path().join("group-4.yml");
        std::os::unix::fs::symlink("real/group-4.yml", &link).unwrap();
        let m = RuleFileManager::new(dir.path(), 1);
        assert!(m.remove("group-4.yml").unwrap());
        assert!(link.symlink_metadata().is_err(), "the link is gone");
        assert_eq!(
            fs::read_to_string(dir.path().join("real/group-4.yml")).unwrap(),
            V1
        );
        let bak = m.backup_path("group-4.yml", 1);
        assert!(!bak.symlink_metadata().unwrap().file_type().is_symlink());
        assert_eq!(fs::read_to_string(bak).unwrap(), V1);
    }

    #[test]
    fn backups_are_bounded_and_newest_first() {
        let dir = tempfile::tempdir().unwrap();
        let m = RuleFileManager::new(dir.path(), 2);
        for n in 0..5 {
            m.write("group-3.yml", &v(n)).unwrap();
        }
        let baks = m.backups("group-3.yml").unwrap();
        assert_eq!(baks.len(), 2);
        assert_eq!(fs::read_to_string(&baks[0]).unwrap(), v(3));
        assert_eq!(fs::read_to_string(&baks[1]).unwrap(), v(2));
        assert_eq!(m.read("group-3.yml").unwrap().unwrap(), v(4));
        assert!(!dir.path().join("group-3.yml.bak.3").exists());
    }

    #[test]
    fn backup_count_is_clamped() {
        let m = RuleFileManager::new("/x", usize::MAX);
        assert_eq!(m.backup_count, MAX_BACKUPS);
    }

    #[test]
    fn zero_backups_keeps_none() {
        let dir = tempfile::tempdir().unwrap();
        let m = RuleFileManager::new(dir.path(), 0);
        m.write("group-3.yml", &v(1)).unwrap();
        m.write("group-3.yml", &v(2)).unwrap();
        assert!(m.backups("group-3.yml").unwrap().is_empty());
        assert!(m.remove("group-3.yml").unwrap());
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn remove_keeps_a_backup_and_list_ignores_foreign_files() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("static.yml"), V1).unwrap();
        let m = RuleFileManager::new(dir.path(), 3);
        m.write("group-10.yml", V1).unwrap();
        m.write("group-2.yml", "not: [valid").unwrap();
        let list = m.list().unwrap();
        assert_eq!(
            list.iter()
                .map(|f| f.file_name.as_str())
                .collect::<Vec<_>>(),
            vec!["group-2.yml", "group-10.yml"]
        );
        assert_eq!(list[0].rule_count, None);
        assert_eq!(list[1].rule_count, Some(0));
        assert_eq!(list[1].prometheus_groups, vec!["a".to_string()]);
        assert_eq!(list[1].size_bytes, V1.len() as u64);
        assert!(list[1].modified.ends_with('Z'));
        assert!(m.remove("group-10.yml").unwrap());
        assert!(!m.remove("group-10.yml").unwrap());
        assert_eq!(
            fs::read_to_string(dir.path().join("group-10.yml.bak.1")).unwrap(),
            V1
        );
        assert!(dir.path().join("static.yml").exists());
        assert_eq!(
            m.generated_files().unwrap(),
            vec!["group-2.yml".to_string()]
        );
    }

    #[test]
    fn diff_against_disk() {
        let dir = tempfile::tempdir().unwrap();
        let m = RuleFileManager::new(dir.path(), 1);
        let d = m.diff("group-1.yml", V1).unwrap();
        assert!(d.contains("+groups:"), "{d}");
        m.write("group-1.yml", V1).unwrap();
        assert_eq!(m.diff("group-1.yml", V1).unwrap(), "");
        let d = m.diff("group-1.yml", &v(7)).unwrap();
        assert!(d.contains("-- name: a\n+- name: g7\n"), "{d}");
    }

    #[test]
    fn missing_promtool_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let m = RuleFileManager::new(dir.path(), 1);
        let err = m
            .check_with_promtool(Path::new("/nonexistent/promtool"), "group-1.yml", V1)
            .unwrap_err();
        assert!(matches!(err, Error::PromtoolUnavailable { .. }), "{err}");
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            0,
            "check file removed"
        );
    }
}
