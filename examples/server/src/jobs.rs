//! Connector runs as background jobs (the web UI's Connectors page): a job is recorded
//! `queued` in the `connector_jobs` table (`ipocket-connectors`' `JobStore`), the request
//! returns at once, and the run happens on the runtime with the same library calls as the
//! API handlers, appending log lines as it goes. One run per connector at a time; others wait
//! queued. Secrets live in the spawned task only, never in the table.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use ipocket_connectors::jobs::{JobStore, NewJob};
use ipocket_connectors::prometheus::fetch;
use ipocket_connectors::vcenter::collect;
use ipocket_core::{Actor, Bundle, ImportPlan, ImportSummary};
use tokio::sync::Semaphore;

use crate::errors::ApiError;
use crate::handlers::connectors::{
    plan_and_apply, prometheus_options, vcenter_options, PrometheusBody, VcenterBody,
};
use crate::leadership::{Duty, JOBS_DUTY};
use crate::shared_db::SharedDb;
use crate::AppState;

/// The job store and one run slot per connector.
pub(crate) struct Jobs {
    store: Arc<Mutex<JobStore>>,
    prometheus_slot: Semaphore,
    vcenter_slot: Semaphore,
    /// On PostgreSQL: the database and the duty of interrupting the jobs of replicas that
    /// died ([`watch_orphans`]).
    orphans: Option<(SharedDb, Arc<Duty>)>,
}

/// How often the leader of the orphaned-job check looks for jobs of replicas that are gone.
pub(crate) const ORPHAN_CHECK_EVERY: Duration = Duration::from_secs(30);

/// What to run, with its secrets (kept in memory for the run only).
pub(crate) enum Run {
    Prometheus(PrometheusBody),
    Vcenter(VcenterBody),
}

impl Run {
    pub(crate) fn connector(&self) -> &'static str {
        match self {
            Run::Prometheus(_) => "prometheus",
            Run::Vcenter(_) => "vcenter",
        }
    }

    /// The inputs as stored: the bodies skip their secrets when serialised.
    pub(crate) fn inputs(&self) -> serde_json::Value {
        match self {
            Run::Prometheus(b) => serde_json::to_value(b),
            Run::Vcenter(b) => serde_json::to_value(b),
        }
        .unwrap_or_default()
    }
}

impl Jobs {
    /// Wraps the store after marking `interrupted` the jobs nothing runs any more: on
    /// SQLite every unfinished job (the previous server's), on PostgreSQL those whose replica
    /// is not connected (the running replicas' jobs go on); this replica's jobs carry its
    /// name from now on.
    pub(crate) fn new(mut store: JobStore, db: &SharedDb, log: bool) -> anyhow::Result<Jobs> {
        let interrupted = match db.replicas()? {
            None => store.interrupt_unfinished()?,
            Some((me, alive)) => {
                store.set_owner(&me);
                store.interrupt_orphans(&alive)?
            }
        };
        if interrupted > 0 {
            tracing::warn!("{interrupted} connector job(s) of a stopped server marked interrupted");
        }
        let orphans = matches!(db, SharedDb::Postgres { .. }).then(|| {
            let duty = Duty::new("orphaned-job check", JOBS_DUTY, db.clone(), log);
            (db.clone(), duty)
        });
        Ok(Jobs {
            store: Arc::new(Mutex::new(store)),
            prometheus_slot: Semaphore::new(1),
            vcenter_slot: Semaphore::new(1),
            orphans,
        })
    }

    /// Whether [`watch_orphans`] has work (several replicas may share the database).
    pub(crate) fn shared(&self) -> bool {
        self.orphans.is_some()
    }

    /// Runs `f` with the store on the blocking pool.
    pub(crate) async fn with_store<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&JobStore) -> Result<T, ipocket_connectors::StoreError> + Send + 'static,
    {
        let store = Arc::clone(&self.store);
        tokio::task::spawn_blocking(move || {
            let s = store.lock().unwrap_or_else(|p| p.into_inner());
            f(&s).map_err(ApiError::from)
        })
        .await
        .unwrap_or_else(|_| Err(ApiError::internal()))
    }
}

/// On PostgreSQL, for as long as the server runs: every [`ORPHAN_CHECK_EVERY`], the leader of
/// the check marks `interrupted` the unfinished jobs of replicas no longer connected (one
/// killed, or cut off, while a job ran), so they do not show `running` for ever.
pub(crate) async fn watch_orphans(state: Arc<AppState>) {
    let Some((db, duty)) = state.jobs.orphans.clone() else {
        return;
    };
    let mut ticks = tokio::time::interval(ORPHAN_CHECK_EVERY);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        if !duty.leads().await {
            continue;
        }
        let db = db.clone();
        let found = state
            .jobs
            .with_store(move |s| {
                let Some((_, alive)) = db.replicas()? else {
                    return Ok(0);
                };
                s.interrupt_orphans(&alive)
            })
            .await;
        match found {
            Ok(0) => {}
            Ok(n) => {
                tracing::warn!("{n} connector job(s) of a replica that stopped marked interrupted")
            }
            Err(e) => tracing::error!("looking for orphaned connector jobs: {}", e.message),
        }
    }
}

/// Records the job `queued` and spawns its run; returns the job id. `actor` is who asked;
/// `apply` writes the plan as them.
pub(crate) async fn start(
    state: &AppState,
    run: Run,
    actor: Actor,
    apply: bool,
) -> Result<i64, ApiError> {
    let inputs = run.inputs();
    let connector = run.connector();
    let (user_id, username) = (
        actor.user_id,
        actor.username.clone().unwrap_or_else(|| "system".into()),
    );
    let id = state
        .jobs
        .with_store(move |s| {
            s.create(&NewJob {
                connector,
                mode: if apply { "apply" } else { "dry-run" },
                user_id,
                username: &username,
                inputs: &inputs,
            })
        })
        .await?;
    let state = state.me.upgrade().ok_or_else(ApiError::internal)?;
    tokio::spawn(async move {
        let slot = match run {
            Run::Prometheus(_) => &state.jobs.prometheus_slot,
            Run::Vcenter(_) => &state.jobs.vcenter_slot,
        };
        // The semaphore is never closed; a failed acquire would only skip the limit.
        let _permit = slot.acquire().await.ok();
        let log = Log { state: &state, id };
        log.store(move |s| s.start(id)).await;
        // The run in its own task: a panic in it fails the job instead of leaving it running.
        let inner = Arc::clone(&state);
        let result = tokio::spawn(async move {
            let log = Log { state: &inner, id };
            execute(&log, run, apply.then_some(actor)).await
        })
        .await
        .unwrap_or_else(|_| Err(ApiError::internal()));
        match result {
            Ok((summary, plan)) => {
                let plan = serde_json::to_value(&plan).unwrap_or_default();
                log.store(move |s| s.finish(id, &summary, plan)).await;
            }
            Err(e) => {
                let message = e.message;
                log.store(move |s| s.fail(id, &message)).await;
            }
        }
    });
    Ok(id)
}

/// Writes to one job's row.
struct Log<'a> {
    state: &'a AppState,
    id: i64,
}

impl Log<'_> {
    async fn line(&self, line: String) {
        let id = self.id;
        self.store(move |s| s.append_log(id, &line)).await;
    }

    /// A failed write of the job's own row is reported on standard error: the run goes on.
    async fn store<F>(&self, f: F)
    where
        F: FnOnce(&JobStore) -> Result<(), ipocket_connectors::StoreError> + Send + 'static,
    {
        if let Err(e) = self.state.jobs.with_store(f).await {
            tracing::error!("connector job {}: {}", self.id, e.message);
        }
    }
}

/// The run itself: collect, bundle, plan (and apply). Answers the one-line summary and plan.
async fn execute(
    log: &Log<'_>,
    run: Run,
    actor: Option<Actor>,
) -> Result<(String, ImportPlan), ApiError> {
    let (bundle, found): (Bundle, String) = match run {
        Run::Prometheus(b) => {
            let opts = prometheus_options(&b, &log.state.config)?;
            log.line(format!(
                "querying {} for {} (IP label {})",
                b.prometheus_url, b.query, b.ip_label
            ))
            .await;
            let x = fetch(&opts).await?;
            for w in &x.warnings {
                log.line(format!("warning: {w}")).await;
            }
            let found = format!(
                "{} samples, {} addresses, {} warnings",
                x.samples,
                x.ips.len(),
                x.warnings.len()
            );
            log.line(found.clone()).await;
            (x.bundle(&opts)?, found)
        }
        Run::Vcenter(b) => {
            log.line(format!("connecting to {} as {}", b.server, b.username))
                .await;
            let opts = vcenter_options(b, &log.state.config)?;
            let c = collect(&opts).await?;
            drop(opts);
            let (_, mapping_warnings) = c.bundle_json();
            for w in c.warnings.iter().chain(&mapping_warnings) {
                log.line(format!("warning: {w}")).await;
            }
            let found = format!("{} hosts, {} VMs", c.hosts.len(), c.vms.len());
            log.line(found.clone()).await;
            (c.bundle()?, found)
        }
    };
    let applying = actor.is_some();
    let (plan, applied) = plan_and_apply(log.state, actor, bundle).await?;
    let counts = counts(&plan.summary);
    log.line(format!("plan: {counts}")).await;
    let summary = match applied {
        Some(report) => {
            log.line(format!(
                "applied (audit entry {})",
                report.import_run_audit_id
            ))
            .await;
            format!("{found}; applied {counts}")
        }
        None if applying => format!("{found}; {counts}"),
        None => format!("{found}; would {counts}"),
    };
    Ok((summary, plan))
}

fn counts(s: &ImportSummary) -> String {
    format!(
        "{} create, {} update, {} skip",
        s.total.create, s.total.update, s.total.skip
    )
}
