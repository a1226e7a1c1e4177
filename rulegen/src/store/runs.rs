//! The last generation runs (automatic and manual), for the status pages. A log, not data
//! the users edit: rows are not audited, and only the newest [`KEPT_RUNS`] are kept.

use std::time::{Instant, SystemTime};

use serde::{Deserialize, Serialize};

use super::RuleStore;
use crate::client::ReloadReport;
use crate::error::{Error, Result};
use crate::generator::{FileAction, GenerateReport};

/// Rows kept in `rulegen_runs`.
pub const KEPT_RUNS: i64 = 100;

/// What one generation run did: files written and removed, the confirmed reload, or the
/// error that stopped it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenerationRun {
    /// What started it: `auto` (a write to the rule store), `api`, `ui` or `cli`.
    pub trigger: String,
    /// When it started, RFC 3339 UTC.
    pub started_at: String,
    /// How long it took, in milliseconds.
    pub duration_ms: u64,
    /// Files written and reload (if any) confirmed.
    pub ok: bool,
    /// Files created or updated.
    pub files_written: Vec<String>,
    /// Files removed.
    pub files_removed: Vec<String>,
    /// Whether Prometheus was reloaded (only when files changed).
    pub reloaded: bool,
    /// Rule groups the reload confirmed.
    pub confirmed_groups: Vec<String>,
    /// Store writes this run covered (automatic runs: the writes of one debounce window).
    pub writes: u64,
    /// Why it failed.
    pub error: Option<String>,
}

impl GenerationRun {
    /// A run that started at `started` (wall clock `at`) by `trigger`, with what it did.
    pub fn finished(
        trigger: &str,
        at: SystemTime,
        started: Instant,
        report: Option<&GenerateReport>,
        reload: Option<&ReloadReport>,
        error: Option<String>,
    ) -> Self {
        let files = |keep: fn(FileAction) -> bool| -> Vec<String> {
            report
                .map(|r| {
                    r.changes
                        .iter()
                        .filter(|c| keep(c.action))
                        .map(|c| c.file_name.clone())
                        .collect()
                })
                .unwrap_or_default()
        };
        GenerationRun {
            trigger: trigger.to_string(),
            started_at: crate::files::rfc3339(at),
            duration_ms: started.elapsed().as_millis() as u64,
            ok: error.is_none(),
            files_written: files(|a| matches!(a, FileAction::Create | FileAction::Update)),
            files_removed: files(|a| a == FileAction::Remove),
            reloaded: reload.is_some(),
            confirmed_groups: reload
                .map(|r| r.confirmed_groups.clone())
                .unwrap_or_default(),
            writes: 0,
            error,
        }
    }
}

impl RuleStore {
    /// Keeps `run` as the newest run (and drops all but the newest [`KEPT_RUNS`]).
    pub fn record_run(&self, run: &GenerationRun) -> Result<()> {
        let json = serde_json::to_string(run).map_err(|source| Error::Json {
            context: "generation run".into(),
            source,
        })?;
        self.db.write(super::RULES_LOCK, |tx| {
            tx.execute("INSERT INTO rulegen_runs (run) VALUES (?1)", &[&json])?;
            tx.execute(
                "DELETE FROM rulegen_runs WHERE id <= (SELECT MAX(id) FROM rulegen_runs) - ?1",
                &[&KEPT_RUNS],
            )?;
            Ok(())
        })
    }

    /// The newest run, if any.
    pub fn last_run(&self) -> Result<Option<GenerationRun>> {
        let json: Option<String> = self.read(|c| {
            c.query_opt("SELECT run FROM rulegen_runs ORDER BY id DESC LIMIT 1", &[])?
                .map(|r| r.get(0))
                .transpose()
                .map_err(Into::into)
        })?;
        json.map(|j| {
            serde_json::from_str(&j).map_err(|source| Error::Json {
                context: "generation run".into(),
                source,
            })
        })
        .transpose()
    }
}
