//! Connector runs as background jobs: the `connector_jobs` table (state, who, times, inputs
//! without secrets, summary, capped plan, error, a log appended as the run goes) and the
//! saved connector configurations (`connector_configs`), in the same SQLite file as the
//! inventory. The server's web UI queues a job, runs it on its runtime and records it here.

use std::path::Path;

use ipocket_db::{Component, Migration, Step};
use rusqlite::{params, Connection, OptionalExtension, Row};

use crate::error::StoreError;
use crate::store::now_ms;

/// Plan items kept per job; the plan's summary still counts them all.
pub const PLAN_ITEMS_KEPT: usize = 500;

/// The job store's tables, as the `connector_jobs` component of the migration registry.
/// Never edit a released step: add the next version (docs/database.md).
pub static JOBS_SCHEMA: Component = Component {
    name: "connector_jobs",
    migrations: &[Migration {
        version: 1,
        name: "connector_jobs and connector_configs",
        step: Step::Sql(SCHEMA_1),
    }],
    legacy_version: None,
};

const SCHEMA_1: &str = "
CREATE TABLE connector_jobs (
    id          INTEGER PRIMARY KEY,
    connector   TEXT NOT NULL CHECK (connector IN ('prometheus', 'vcenter')),
    mode        TEXT NOT NULL CHECK (mode IN ('dry-run', 'apply')),
    state       TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed', 'interrupted')),
    user_id     INTEGER,
    username    TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    started_at  INTEGER,
    finished_at INTEGER,
    inputs      TEXT NOT NULL,
    summary     TEXT,
    plan        TEXT,
    error       TEXT,
    log         TEXT NOT NULL DEFAULT ''
);
CREATE INDEX connector_jobs_connector ON connector_jobs (connector, id);
CREATE TABLE connector_configs (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    connector  TEXT NOT NULL CHECK (connector IN ('prometheus', 'vcenter')),
    inputs     TEXT NOT NULL,
    saved_by   TEXT NOT NULL,
    saved_at   INTEGER NOT NULL,
    UNIQUE (connector, name)
);
";

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    /// Waiting for its connector's slot.
    Queued,
    /// Running now.
    Running,
    /// Finished with a plan (and, for an apply, the audit entry).
    Done,
    /// Finished with an error.
    Failed,
    /// The server stopped while the job was queued or running.
    Interrupted,
}

impl JobState {
    /// The stored name: `queued`, `running`, `done`, `failed`, `interrupted`.
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Failed => "failed",
            JobState::Interrupted => "interrupted",
        }
    }

    fn parse(s: &str) -> JobState {
        match s {
            "queued" => JobState::Queued,
            "running" => JobState::Running,
            "done" => JobState::Done,
            "failed" => JobState::Failed,
            _ => JobState::Interrupted,
        }
    }

    /// Queued or running: the job may still change.
    pub fn is_unfinished(self) -> bool {
        matches!(self, JobState::Queued | JobState::Running)
    }
}

/// What a new job is: the connector (`prometheus`, `vcenter`), the mode (`dry-run`, `apply`),
/// who asked, and its inputs as JSON **without secrets**.
#[derive(Debug, Clone)]
pub struct NewJob<'a> {
    /// `prometheus` or `vcenter`.
    pub connector: &'a str,
    /// `dry-run` or `apply`.
    pub mode: &'a str,
    /// The user's id, `None` for the system.
    pub user_id: Option<i64>,
    /// The user's name at the time of the run.
    pub username: &'a str,
    /// The connector inputs, secrets removed by the caller.
    pub inputs: &'a serde_json::Value,
}

/// One job as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    /// Its id.
    pub id: i64,
    /// `prometheus` or `vcenter`.
    pub connector: String,
    /// `dry-run` or `apply`.
    pub mode: String,
    /// Where it is.
    pub state: JobState,
    /// Who ran it.
    pub user_id: Option<i64>,
    /// Their name.
    pub username: String,
    /// Milliseconds since the Unix epoch, as the other times.
    pub created_at: i64,
    /// When it left the queue.
    pub started_at: Option<i64>,
    /// When it finished, failed or was interrupted.
    pub finished_at: Option<i64>,
    /// The inputs (no secrets).
    pub inputs: serde_json::Value,
    /// One line: what the run found and did.
    pub summary: Option<String>,
    /// The plan as the import engine serialises it, items capped at [`PLAN_ITEMS_KEPT`].
    pub plan: Option<serde_json::Value>,
    /// Why it failed.
    pub error: Option<String>,
    /// The run's log, one line per step.
    pub log: String,
}

/// A saved connector configuration (no secrets: they are typed again for each run).
#[derive(Debug, Clone, PartialEq)]
pub struct SavedConfig {
    /// Its id.
    pub id: i64,
    /// The name it was saved under (unique per connector).
    pub name: String,
    /// `prometheus` or `vcenter`.
    pub connector: String,
    /// The inputs.
    pub inputs: serde_json::Value,
    /// Who saved it last.
    pub saved_by: String,
    /// When (ms since the epoch).
    pub saved_at: i64,
}

const JOB_COLUMNS: &str = "id, connector, mode, state, user_id, username, created_at, started_at, \
    finished_at, inputs, summary, plan, error, log";

fn json_column(text: Option<String>) -> Option<serde_json::Value> {
    text.and_then(|t| serde_json::from_str(&t).ok())
}

fn job_from_row(r: &Row<'_>) -> rusqlite::Result<Job> {
    Ok(Job {
        id: r.get(0)?,
        connector: r.get(1)?,
        mode: r.get(2)?,
        state: JobState::parse(&r.get::<_, String>(3)?),
        user_id: r.get(4)?,
        username: r.get(5)?,
        created_at: r.get(6)?,
        started_at: r.get(7)?,
        finished_at: r.get(8)?,
        inputs: json_column(r.get(9)?).unwrap_or_default(),
        summary: r.get(10)?,
        plan: json_column(r.get(11)?),
        error: r.get(12)?,
        log: r.get(13)?,
    })
}

/// Keeps the first [`PLAN_ITEMS_KEPT`] items of a serialised plan and records how many were
/// left out in `items_left_out`, so a plan of 100,000 addresses does not bloat the table.
pub fn cap_plan(mut plan: serde_json::Value) -> serde_json::Value {
    if let Some(items) = plan.get_mut("items").and_then(|i| i.as_array_mut()) {
        if items.len() > PLAN_ITEMS_KEPT {
            let left_out = items.len() - PLAN_ITEMS_KEPT;
            items.truncate(PLAN_ITEMS_KEPT);
            plan["items_left_out"] = left_out.into();
        }
    }
    plan
}

/// The job store.
///
/// ```
/// use ipocket_connectors::jobs::{JobState, JobStore, NewJob};
/// let dir = tempfile::tempdir()?;
/// let store = JobStore::open(dir.path().join("ipocket.db"))?;
/// let inputs = serde_json::json!({"prometheus_url": "http://127.0.0.1:9090"});
/// let id = store.create(&NewJob { connector: "prometheus", mode: "dry-run", user_id: Some(2),
///     username: "ed", inputs: &inputs })?;
/// store.start(id)?;
/// store.append_log(id, "querying http://127.0.0.1:9090")?;
/// store.finish(id, "1 address: 1 create", serde_json::json!({"items": []}))?;
/// let job = store.job(id)?.unwrap();
/// assert_eq!(job.state, JobState::Done);
/// assert!(job.log.contains("querying"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct JobStore {
    conn: Connection,
}

impl JobStore {
    /// Opens (and creates if needed) the store at `path` and migrates its tables.
    pub fn open(path: impl AsRef<Path>) -> Result<JobStore, StoreError> {
        Ok(JobStore {
            conn: ipocket_db::open(path, &[&JOBS_SCHEMA])?,
        })
    }

    /// Marks every queued or running job `interrupted` (at server start: no process runs
    /// them any more) and returns how many there were.
    pub fn interrupt_unfinished(&self) -> Result<usize, StoreError> {
        Ok(self.conn.execute(
            "UPDATE connector_jobs SET state = 'interrupted', finished_at = ?1, \
             error = 'the server stopped before the job finished', \
             log = log || 'interrupted: the server stopped' || char(10) \
             WHERE state IN ('queued', 'running')",
            [now_ms()],
        )?)
    }

    /// Records a queued job and returns its id.
    pub fn create(&self, job: &NewJob<'_>) -> Result<i64, StoreError> {
        self.conn.execute(
            "INSERT INTO connector_jobs (connector, mode, state, user_id, username, created_at, inputs) \
             VALUES (?1, ?2, 'queued', ?3, ?4, ?5, ?6)",
            params![
                job.connector,
                job.mode,
                job.user_id,
                job.username,
                now_ms(),
                job.inputs.to_string()
            ],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    /// The job left the queue.
    pub fn start(&self, id: i64) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE connector_jobs SET state = 'running', started_at = ?2 WHERE id = ?1",
            params![id, now_ms()],
        )?;
        Ok(())
    }

    /// Appends one line to the job's log.
    pub fn append_log(&self, id: i64, line: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE connector_jobs SET log = log || ?2 || char(10) WHERE id = ?1",
            params![id, line],
        )?;
        Ok(())
    }

    /// The job finished: its one-line summary and its plan (capped with [`cap_plan`]).
    pub fn finish(
        &self,
        id: i64,
        summary: &str,
        plan: serde_json::Value,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE connector_jobs SET state = 'done', finished_at = ?2, summary = ?3, plan = ?4 \
             WHERE id = ?1",
            params![id, now_ms(), summary, cap_plan(plan).to_string()],
        )?;
        Ok(())
    }

    /// The job failed with `error` (also appended to the log).
    pub fn fail(&self, id: i64, error: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE connector_jobs SET state = 'failed', finished_at = ?2, error = ?3, \
             log = log || 'error: ' || ?3 || char(10) WHERE id = ?1",
            params![id, now_ms(), error],
        )?;
        Ok(())
    }

    /// One job.
    pub fn job(&self, id: i64) -> Result<Option<Job>, StoreError> {
        let sql = format!("SELECT {JOB_COLUMNS} FROM connector_jobs WHERE id = ?1");
        Ok(self.conn.query_row(&sql, [id], job_from_row).optional()?)
    }

    /// The newest `limit` jobs, newest first.
    pub fn recent(&self, limit: u32) -> Result<Vec<Job>, StoreError> {
        let sql = format!("SELECT {JOB_COLUMNS} FROM connector_jobs ORDER BY id DESC LIMIT ?1");
        let mut st = self.conn.prepare(&sql)?;
        let rows = st.query_map([limit], job_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The newest finished (done or failed) job of `connector`: its last result.
    pub fn last_result(&self, connector: &str) -> Result<Option<Job>, StoreError> {
        let sql = format!(
            "SELECT {JOB_COLUMNS} FROM connector_jobs WHERE connector = ?1 \
             AND state IN ('done', 'failed') ORDER BY id DESC LIMIT 1"
        );
        Ok(self
            .conn
            .query_row(&sql, [connector], job_from_row)
            .optional()?)
    }

    /// Saves (or replaces, by connector and name) a configuration; returns its id.
    pub fn save_config(
        &self,
        connector: &str,
        name: &str,
        inputs: &serde_json::Value,
        saved_by: &str,
    ) -> Result<i64, StoreError> {
        Ok(self.conn.query_row(
            "INSERT INTO connector_configs (name, connector, inputs, saved_by, saved_at) \
             VALUES (?1, ?2, ?3, ?4, ?5) \
             ON CONFLICT (connector, name) DO UPDATE SET inputs = excluded.inputs, \
             saved_by = excluded.saved_by, saved_at = excluded.saved_at RETURNING id",
            params![name, connector, inputs.to_string(), saved_by, now_ms()],
            |r| r.get(0),
        )?)
    }

    /// Every saved configuration, by connector and name.
    pub fn configs(&self) -> Result<Vec<SavedConfig>, StoreError> {
        let mut st = self.conn.prepare(
            "SELECT id, name, connector, inputs, saved_by, saved_at FROM connector_configs \
             ORDER BY connector, name",
        )?;
        let rows = st.query_map([], config_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// One saved configuration.
    pub fn config(&self, id: i64) -> Result<Option<SavedConfig>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT id, name, connector, inputs, saved_by, saved_at FROM connector_configs \
                 WHERE id = ?1",
                [id],
                config_from_row,
            )
            .optional()?)
    }

    /// Deletes a saved configuration; `false` when there was none.
    pub fn delete_config(&self, id: i64) -> Result<bool, StoreError> {
        Ok(self
            .conn
            .execute("DELETE FROM connector_configs WHERE id = ?1", [id])?
            > 0)
    }
}

fn config_from_row(r: &Row<'_>) -> rusqlite::Result<SavedConfig> {
    Ok(SavedConfig {
        id: r.get(0)?,
        name: r.get(1)?,
        connector: r.get(2)?,
        inputs: json_column(r.get(3)?).unwrap_or_default(),
        saved_by: r.get(4)?,
        saved_at: r.get(5)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn store() -> (tempfile::TempDir, JobStore) {
        let dir = tempfile::tempdir().unwrap();
        let s = JobStore::open(dir.path().join("j.db")).unwrap();
        (dir, s)
    }

    fn new_job<'a>(inputs: &'a serde_json::Value) -> NewJob<'a> {
        NewJob {
            connector: "prometheus",
            mode: "apply",
            user_id: Some(2),
            username: "ed",
            inputs,
        }
    }

    #[test]
    fn a_restart_interrupts_queued_and_running_jobs_only() {
        let (dir, s) = store();
        let inputs = json!({"query": "up"});
        let queued = s.create(&new_job(&inputs)).unwrap();
        let running = s.create(&new_job(&inputs)).unwrap();
        s.start(running).unwrap();
        let done = s.create(&new_job(&inputs)).unwrap();
        s.start(done).unwrap();
        s.finish(done, "ok", json!({"items": []})).unwrap();
        drop(s);
        let s = JobStore::open(dir.path().join("j.db")).unwrap();
        assert_eq!(s.interrupt_unfinished().unwrap(), 2);
        for id in [queued, running] {
            let j = s.job(id).unwrap().unwrap();
            assert_eq!(j.state, JobState::Interrupted);
            assert!(j.finished_at.is_some() && j.log.contains("interrupted"));
        }
        assert_eq!(s.job(done).unwrap().unwrap().state, JobState::Done);
        assert_eq!(s.interrupt_unfinished().unwrap(), 0);
    }

    #[test]
    fn a_failure_is_logged_and_is_the_last_result() {
        let (_dir, s) = store();
        let inputs = json!({});
        let id = s.create(&new_job(&inputs)).unwrap();
        s.start(id).unwrap();
        s.append_log(id, "querying x").unwrap();
        s.fail(id, "connection refused").unwrap();
        let j = s.last_result("prometheus").unwrap().unwrap();
        assert_eq!((j.id, j.state), (id, JobState::Failed));
        assert_eq!(j.log, "querying x\nerror: connection refused\n");
        assert!(s.last_result("vcenter").unwrap().is_none());
        assert_eq!(s.recent(10).unwrap().len(), 1);
    }

    #[test]
    fn a_large_plan_keeps_its_first_items() {
        let items: Vec<_> = (0..PLAN_ITEMS_KEPT + 3)
            .map(|i| json!({"key": i}))
            .collect();
        let capped = cap_plan(json!({"summary": {}, "items": items}));
        assert_eq!(capped["items"].as_array().unwrap().len(), PLAN_ITEMS_KEPT);
        assert_eq!(capped["items_left_out"], 3);
        let small = cap_plan(json!({"items": [1]}));
        assert!(small.get("items_left_out").is_none());
    }

    #[test]
    fn saving_a_config_again_replaces_it() {
        let (_dir, s) = store();
        let a = s
            .save_config("prometheus", "lab", &json!({"query": "up"}), "ed")
            .unwrap();
        let b = s
            .save_config("prometheus", "lab", &json!({"query": "up2"}), "admin")
            .unwrap();
        assert_eq!(a, b);
        let c = s.config(a).unwrap().unwrap();
        assert_eq!(
            (c.inputs["query"].as_str(), c.saved_by.as_str()),
            (Some("up2"), "admin")
        );
        assert_eq!(s.configs().unwrap().len(), 1);
        assert!(s.delete_config(a).unwrap());
        assert!(!s.delete_config(a).unwrap());
    }
}
