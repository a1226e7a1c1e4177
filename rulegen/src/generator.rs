//! One call per front-end action: generate (or dry-run), reload, list, effective rules.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::client::{ExpectedRuleFile, PrometheusClient, ReloadReport};
use crate::error::{Error, Result};
use crate::files::{group_id_of, RuleFileInfo, RuleFileManager};
use crate::generate::{self, file_name_for_group, EffectiveRules, GenerationPlan};
use crate::store::{RuleStore, Settings};
use crate::version::PrometheusVersion;
use ipocket_http::ConnectOptions;

/// What generation does (or, in a dry run, would do) to one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FileAction {
    /// New file.
    Create,
    /// Content changes.
    Update,
    /// Same content; not touched.
    Unchanged,
    /// File of an emptied or deleted group; removed (kept as `.bak.1`).
    Remove,
}

/// One file in a [`GenerateReport`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileChange {
    /// Group id (from the file name).
    pub group_id: i64,
    /// `group-<id>.yml`.
    pub file_name: String,
    /// What happens to it.
    pub action: FileAction,
    /// Rules in the new file (0 for a removal).
    pub rule_count: usize,
    /// Rule-group names in the new file.
    pub prometheus_groups: Vec<String>,
    /// Unified diff from the disk version to the new one (empty when unchanged).
    pub diff: String,
}

/// Result of [`RuleGenerator::generate`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GenerateReport {
    /// True if nothing was written.
    pub dry_run: bool,
    /// The rule folder.
    pub rule_dir: PathBuf,
    /// Prometheus version the files were made for.
    pub target_version: PrometheusVersion,
    /// Every file looked at, by group id.
    pub changes: Vec<FileChange>,
}

impl GenerateReport {
    /// True if any file was (or would be) created, updated or removed.
    pub fn changed(&self) -> bool {
        self.changes
            .iter()
            .any(|c| c.action != FileAction::Unchanged)
    }
}

/// Generates, validates and writes rule files into one folder.
///
/// ```
/// use ipocket_rulegen::{NewRule, NewTemplate, PrometheusVersion, RuleGenerator, RuleStore};
/// let store = RuleStore::open_in_memory().unwrap();
/// let g = store.create_group("prod", "").unwrap();
/// let t = store.create_template(&NewTemplate {
///     name: "NodeDown".into(),
///     query_template: "up{group_id=\"{{.group_id}}\"} == 0".into(),
///     for_duration: Some("2m".into()),
///     ..Default::default()
/// }).unwrap();
/// store.create_rule(&NewRule::new(g.id, t.id)).unwrap();
///
/// let dir = std::env::temp_dir().join(format!("rulegen-doc-{}", std::process::id()));
/// let generator = RuleGenerator::new(&dir, PrometheusVersion::DEFAULT);
/// let preview = generator.generate(&store, None, true).unwrap();
/// assert!(preview.changes[0].diff.contains("+    expr: up{group_id=\"1\"} == 0"));
/// assert!(!dir.join("group-1.yml").exists(), "a dry run writes nothing");
/// let report = generator.generate(&store, None, false).unwrap();
/// assert!(dir.join("group-1.yml").exists());
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct RuleGenerator {
    files: RuleFileManager,
    version: PrometheusVersion,
    promtool: Option<PathBuf>,
    /// The rule folder as Prometheus names it, if not the same path.
    prometheus_dir: Option<PathBuf>,
}

impl RuleGenerator {
    /// Files go to `rule_dir`, valid for Prometheus `version`; 3 backups, no promtool.
    pub fn new(rule_dir: impl Into<PathBuf>, version: PrometheusVersion) -> Self {
        RuleGenerator {
            files: RuleFileManager::new(rule_dir, 3),
            version,
            promtool: None,
            prometheus_dir: None,
        }
    }

    /// Built from the store's settings; `rule_dir` must be set.
    pub fn from_settings(settings: &Settings) -> Result<Self> {
        let dir = settings.rule_dir.clone().ok_or_else(|| {
            Error::invalid(
                "rule_dir",
                "not set: set the rule folder first (setting `rule_dir`)",
            )
        })?;
        let mut g = Self::new(dir, settings.target_version).with_backups(settings.backup_count);
        if let Some(p) = &settings.promtool {
            g = g.with_promtool(p);
        }
        g.prometheus_dir = settings.prometheus_rule_dir.clone();
        Ok(g)
    }

    /// Keeps `n` backups per file (0 = none).
    pub fn with_backups(mut self, n: usize) -> Self {
        self.files = RuleFileManager::new(self.files.dir().to_path_buf(), n);
        self
    }

    /// Runs `promtool check rules` on every changed file before anything is written.
    pub fn with_promtool(mut self, promtool: impl AsRef<Path>) -> Self {
        self.promtool = Some(promtool.as_ref().to_path_buf());
        self
    }

    /// Prometheus reads the rule folder at `dir` (a volume mounted elsewhere in its
    /// container): reload confirmation expects the files there.
    pub fn with_prometheus_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.prometheus_dir = Some(dir.into());
        self
    }

    /// The file manager (listing, backups).
    pub fn files(&self) -> &RuleFileManager {
        &self.files
    }

    /// The target Prometheus version.
    pub fn version(&self) -> PrometheusVersion {
        self.version
    }

    /// Renders and validates without touching the disk.
    pub fn plan(&self, store: &RuleStore, group: Option<i64>) -> Result<GenerationPlan> {
        generate::plan(store, self.version, group)
    }

    /// Generates the files of every group (or of `group`).
    ///
    /// Order: render and validate everything (any problem → [`Error::Validation`],
    /// nothing written); promtool on every changed file if configured; then write new
    /// and changed files; only then remove stale ones (groups without enabled rules,
    /// and — when all groups are generated — files of deleted groups). With `dry_run`
    /// the same checks run and the report carries the diffs, but nothing is written.
    pub fn generate(
        &self,
        store: &RuleStore,
        group: Option<i64>,
        dry_run: bool,
    ) -> Result<GenerateReport> {
        let _lock = store.lock_for_generation()?;
        let plan = self.plan(store, group)?;
        let mut changes = Vec::new();
        for f in &plan.files {
            let diff = self.files.diff(&f.file_name, &f.content)?;
            let action = match self.files.read(&f.file_name)? {
                None => FileAction::Create,
                Some(old) if old == f.content => FileAction::Unchanged,
                Some(_) => FileAction::Update,
            };
            changes.push(FileChange {
                group_id: f.group_id,
                file_name: f.file_name.clone(),
                action,
                rule_count: f.rule_count,
                prometheus_groups: f.prometheus_groups.clone(),
                diff,
            });
        }
        let mut stale: Vec<String> = plan
            .empty_groups
            .iter()
            .map(|id| file_name_for_group(*id))
            .filter(|n| self.files.dir().join(n).exists())
            .collect();
        if plan.all_groups {
            for name in self.files.generated_files()? {
                let keep = plan.files.iter().any(|f| f.file_name == name);
                if !keep && !stale.contains(&name) {
                    stale.push(name);
                }
            }
        }
        for name in &stale {
            let diff = self.files.diff(name, "")?;
            changes.push(FileChange {
                group_id: group_id_of(name).unwrap_or_default(),
                file_name: name.clone(),
                action: FileAction::Remove,
                rule_count: 0,
                prometheus_groups: Vec::new(),
                diff,
            });
        }
        changes.sort_by_key(|c| c.group_id);

        if let Some(promtool) = &self.promtool {
            for f in &plan.files {
                let changed = changes
                    .iter()
                    .any(|c| c.file_name == f.file_name && c.action != FileAction::Unchanged);
                if changed {
                    self.files
                        .check_with_promtool(promtool, &f.file_name, &f.content)?;
                }
            }
        }

        if !dry_run {
            for f in &plan.files {
                self.files.write(&f.file_name, &f.content)?;
            }
            for name in &stale {
                self.files.remove(name)?;
            }
        }
        Ok(GenerateReport {
            dry_run,
            rule_dir: self.files.dir().to_path_buf(),
            target_version: self.version,
            changes,
        })
    }

    /// The generated files on disk.
    pub fn list(&self) -> Result<Vec<RuleFileInfo>> {
        self.files.list()
    }

    /// Rule-group names in the generated files on disk.
    pub fn groups_on_disk(&self) -> Result<Vec<String>> {
        Ok(self
            .files
            .list()?
            .into_iter()
            .flat_map(|f| f.prometheus_groups)
            .collect())
    }

    /// The generated files on disk, each with its rule groups and their rule counts, as
    /// a reload must find them loaded.
    pub fn expected_files(&self) -> Result<Vec<ExpectedRuleFile>> {
        let mut out = Vec::new();
        for name in self.files.generated_files()? {
            let path = self.files.dir().join(&name);
            let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
            let file = crate::rulefile::RuleFile::from_yaml(&text)?;
            // Absolute, as Prometheus names the files it loaded; or in Prometheus's folder.
            let path = match &self.prometheus_dir {
                Some(dir) => dir.join(&name),
                None => std::path::absolute(&path).map_err(|e| Error::io(&path, e))?,
            };
            out.push(ExpectedRuleFile {
                path,
                groups: file
                    .groups
                    .iter()
                    .map(|g| (g.name.clone(), g.rules.len()))
                    .collect(),
            });
        }
        Ok(out)
    }

    /// Reloads Prometheus and confirms that it loaded every generated file on disk, each
    /// group from its own file with its rule count
    /// ([`PrometheusClient::reload_and_confirm_files`]).
    pub async fn reload(&self, client: &PrometheusClient) -> Result<ReloadReport> {
        let expected = self.expected_files()?;
        client.reload_and_confirm_files(&expected).await
    }

    /// Effective rules of a target (id or host name) for this generator's version.
    pub fn effective_rules(&self, store: &RuleStore, target: &str) -> Result<EffectiveRules> {
        generate::effective_rules(store, target, self.version)
    }
}

/// The client for the store's `prometheus_url` setting, without credentials.
pub fn client_from_settings(settings: &Settings) -> Result<PrometheusClient> {
    client_from_settings_with(settings, &ConnectOptions::default())
}

/// The client for the store's `prometheus_url` setting with `options` (token, CA file,
/// insecure). Credentials are never stored in the database: each front end passes them.
pub fn client_from_settings_with(
    settings: &Settings,
    options: &ConnectOptions,
) -> Result<PrometheusClient> {
    let url = settings.prometheus_url.as_deref().ok_or_else(|| {
        Error::invalid(
            "prometheus_url",
            "not set: set the Prometheus URL first (setting `prometheus_url`)",
        )
    })?;
    PrometheusClient::new(url)?.with_connect_options(options)
}

/// Reloads the Prometheus of the settings and confirms it loaded every generated group
/// in the settings' rule folder. Takes [`Settings`] (not the store) so the future is
/// `Send`: read the settings with [`RuleStore::settings`] first.
pub async fn reload_from_settings(settings: &Settings) -> Result<ReloadReport> {
    reload_from_settings_with(settings, &ConnectOptions::default()).await
}

/// [`reload_from_settings`] reaching Prometheus with `options` (token, CA file, insecure).
pub async fn reload_from_settings_with(
    settings: &Settings,
    options: &ConnectOptions,
) -> Result<ReloadReport> {
    let generator = RuleGenerator::from_settings(settings)?;
    let client = client_from_settings_with(settings, options)?;
    generator.reload(&client).await
}

/// Health, readiness and version of the Prometheus of the settings.
pub async fn status_from_settings(settings: &Settings) -> Result<crate::PrometheusStatus> {
    status_from_settings_with(settings, &ConnectOptions::default()).await
}

/// [`status_from_settings`] reaching Prometheus with `options` (token, CA file, insecure).
pub async fn status_from_settings_with(
    settings: &Settings,
    options: &ConnectOptions,
) -> Result<crate::PrometheusStatus> {
    Ok(client_from_settings_with(settings, options)?.status().await)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{NewRule, NewTemplate};
    use std::fs;

    fn setup() -> (RuleStore, i64, i64, i64) {
        let s = RuleStore::open_in_memory().unwrap();
        let a = s.create_group("a", "").unwrap().id;
        let b = s.create_group("b", "").unwrap().id;
        let t = s
            .create_template(&NewTemplate {
                name: "Up".into(),
                query_template: "up{group_id=\"{{.group_id}}\"} == 0".into(),
                ..Default::default()
            })
            .unwrap()
            .id;
        s.create_rule(&NewRule::new(a, t)).unwrap();
        s.create_rule(&NewRule::new(b, t)).unwrap();
        (s, a, b, t)
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn second_run_is_unchanged_and_touches_nothing() {
        let (s, _, _, _) = setup();
        let dir = tempfile::tempdir().unwrap();
        let g = RuleGenerator::new(dir.path(), PrometheusVersion::DEFAULT);
        let first = g.generate(&s, None, false).unwrap();
        assert!(first.changed());
        let before = fs::metadata(dir.path().join("group-1.yml"))
            .unwrap()
            .modified()
            .unwrap();
        let second = g.generate(&s, None, false).unwrap();
        assert!(!second.changed(), "{second:?}");
        assert!(second.changes.iter().all(|c| c.diff.is_empty()));
        let after = fs::metadata(dir.path().join("group-1.yml"))
            .unwrap()
            .modified()
            .unwrap();
        assert_eq!(before, after);
        assert_eq!(names(dir.path()), vec!["group-1.yml", "group-2.yml"]);
    }

    #[test]
    fn one_group_leaves_other_files_alone_and_removes_its_own_when_emptied() {
        let (s, a, b, _) = setup();
        let dir = tempfile::tempdir().unwrap();
        let g = RuleGenerator::new(dir.path(), PrometheusVersion::DEFAULT);
        g.generate(&s, None, false).unwrap();
        // Group b is deleted, group a has its only rule disabled.
        s.delete_group(b).unwrap();
        let rule = s.rules(Some(a)).unwrap()[0].id;
        s.set_rule_enabled(rule, false).unwrap();
        let report = g.generate(&s, Some(a), false).unwrap();
        assert_eq!(report.changes.len(), 1);
        assert_eq!(report.changes[0].action, FileAction::Remove);
        assert_eq!(
            names(dir.path()),
            vec!["group-1.yml.bak.1", "group-2.yml"],
            "only group a's file went; b's stale file waits for a full run"
        );
        let report = g.generate(&s, None, false).unwrap();
        assert_eq!(report.changes[0].file_name, "group-2.yml");
        assert_eq!(report.changes[0].action, FileAction::Remove);
        assert_eq!(
            names(dir.path()),
            vec!["group-1.yml.bak.1", "group-2.yml.bak.1"]
        );
    }

    #[test]
    fn one_invalid_group_blocks_every_write() {
        let (s, _, b, _) = setup();
        let dir = tempfile::tempdir().unwrap();
        let g = RuleGenerator::new(dir.path(), PrometheusVersion::DEFAULT);
        let bad = s
            .create_template(&NewTemplate {
                name: "Bad".into(),
                query_template: "up ==".into(),
                ..Default::default()
            })
            .unwrap();
        s.create_rule(&NewRule::new(b, bad.id)).unwrap();
        let err = g.generate(&s, None, false).unwrap_err();
        assert!(matches!(err, Error::Validation(_)), "{err}");
        assert!(
            names(dir.path()).is_empty(),
            "group a is valid but not written either"
        );
        let err = g.generate(&s, None, true).unwrap_err();
        assert!(
            matches!(err, Error::Validation(_)),
            "dry run validates too: {err}"
        );
    }

    #[test]
    fn settings_are_required() {
        let err = RuleGenerator::from_settings(&Settings::default()).unwrap_err();
        assert!(err.to_string().contains("rule_dir"), "{err}");
        let err = client_from_settings(&Settings::default()).unwrap_err();
        assert!(err.to_string().contains("prometheus_url"), "{err}");
        let s = Settings {
            rule_dir: Some("/tmp/x".into()),
            backup_count: 0,
            target_version: PrometheusVersion::new(3, 0),
            ..Default::default()
        };
        let g = RuleGenerator::from_settings(&s).unwrap();
        assert_eq!(g.version(), PrometheusVersion::new(3, 0));
        assert_eq!(g.files().dir(), Path::new("/tmp/x"));
    }

    #[test]
    fn expected_files_name_prometheus_s_folder_when_it_differs() {
        let (s, _, _, _) = setup();
        let dir = tempfile::tempdir().unwrap();
        let g = RuleGenerator::new(dir.path(), PrometheusVersion::DEFAULT);
        g.generate(&s, None, false).unwrap();
        let here = g.expected_files().unwrap();
        assert_eq!(here[0].path, dir.path().join("group-1.yml"));
        assert_eq!(here[0].groups["ipocket/a"], 1);
        let settings = Settings {
            rule_dir: Some(dir.path().into()),
            prometheus_rule_dir: Some("/etc/prometheus/rules/generated".into()),
            ..Default::default()
        };
        let there = RuleGenerator::from_settings(&settings)
            .unwrap()
            .expected_files()
            .unwrap();
        assert_eq!(
            there[1].path,
            Path::new("/etc/prometheus/rules/generated/group-2.yml")
        );
    }
}
