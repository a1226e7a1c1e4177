//! Automatic rule regeneration (issue #19 item 14, seed 002's data flow): every write to
//! the rule store (API and web UI) schedules one regenerate + write + confirmed reload, in
//! the background, debounced (`--rules-debounce-ms`: a burst of writes is one run), one
//! run at a time. It runs only while the rule folder and the Prometheus URL are set.
//! Every run (automatic or manual) is counted for `/metrics` and kept in the store's run
//! log for the status pages.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use ipocket_expfmt::{Encoder, Format, Labels, MetricType, Sample};
use ipocket_rulegen::{
    reload_from_settings_with, GenerateReport, GenerationRun, ReloadReport, RuleGenerator,
};
use tokio::sync::Notify;

use crate::AppState;

/// How often the leader of the regeneration looks for rule changes made through other
/// replicas (PostgreSQL only).
const REPLICA_POLL: Duration = Duration::from_secs(10);

/// What started a generation run (the `trigger` label).
pub(crate) const TRIGGERS: [&str; 3] = ["auto", "api", "ui"];
/// Where a failed run stopped (the `stage` label).
const STAGES: [&str; 2] = ["generate", "reload"];

/// The scheduler's state and the generation counters.
pub(crate) struct RulesAuto {
    /// `--rules-auto-regenerate`.
    pub(crate) enabled: bool,
    /// `--rules-debounce-ms`.
    pub(crate) debounce: Duration,
    /// Writes scheduled so far, and the number the last run covered.
    requested: AtomicU64,
    covered: AtomicU64,
    wake: Notify,
    /// Runs by trigger, and failed runs by (trigger, stage).
    runs: Mutex<BTreeMap<&'static str, u64>>,
    errors: Mutex<BTreeMap<(&'static str, &'static str), u64>>,
}

impl RulesAuto {
    pub(crate) fn new(enabled: bool, debounce: Duration) -> Self {
        RulesAuto {
            enabled,
            debounce,
            requested: AtomicU64::new(0),
            covered: AtomicU64::new(0),
            wake: Notify::new(),
            runs: Mutex::new(TRIGGERS.iter().map(|t| (*t, 0)).collect()),
            errors: Mutex::new(
                TRIGGERS
                    .iter()
                    .flat_map(|t| STAGES.iter().map(move |s| ((*t, *s), 0)))
                    .collect(),
            ),
        }
    }

    /// A write to the rule store happened: one run will follow (never blocks).
    pub(crate) fn schedule(&self) {
        if self.enabled {
            self.requested.fetch_add(1, Ordering::SeqCst);
            self.wake.notify_one();
        }
    }

    /// Writes not yet covered by a finished run.
    pub(crate) fn pending(&self) -> u64 {
        self.requested.load(Ordering::SeqCst) - self.covered.load(Ordering::SeqCst)
    }

    /// Counts a run of `trigger`, failed at `stage` if given.
    pub(crate) fn count(&self, trigger: &'static str, failed: Option<&'static str>) {
        *self
            .runs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(trigger)
            .or_default() += 1;
        if let Some(stage) = failed {
            *self
                .errors
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .entry((trigger, stage))
                .or_default() += 1;
        }
    }

    /// `ipocket_rule_generations_total{trigger}` and
    /// `ipocket_rule_generation_errors_total{trigger,stage}`.
    pub(crate) fn encode(&self, enc: &mut Encoder, format: Format) {
        let family = |name: &'static str| match format {
            Format::OpenMetrics => name.strip_suffix("_total").unwrap_or(name),
            Format::Text => name,
        };
        let name = "ipocket_rule_generations_total";
        enc.help(
            family(name),
            "Rule generation runs (regenerate, write, reload), by trigger.",
        );
        enc.metric_type(family(name), MetricType::Counter);
        for (trigger, n) in self.runs.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            let labels: Labels<'_> = [("trigger", *trigger)].into_iter().collect();
            enc.sample(&Sample::new(name, labels, *n as f64));
        }
        let name = "ipocket_rule_generation_errors_total";
        enc.help(
            family(name),
            "Rule generation runs that failed, by trigger and stage (generate: rendering, \
             validation, promtool or writing; reload: Prometheus did not confirm).",
        );
        enc.metric_type(family(name), MetricType::Counter);
        for ((trigger, stage), n) in self.errors.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            let labels: Labels<'_> = [("trigger", *trigger), ("stage", *stage)]
                .into_iter()
                .collect();
            enc.sample(&Sample::new(name, labels, *n as f64));
        }
    }
}

/// Waits for scheduled writes and runs one generation per debounce window, for as long as
/// the server runs. Writes made during a run are covered by the next one.
///
/// With several replicas on PostgreSQL only the leader of the duty generates (the rule
/// files and the reload must happen once): it also wakes every [`REPLICA_POLL`] and runs
/// when the rule store's change signal (its audit rows) moved, which is how writes made
/// through the other replicas reach it; a follower's own writes are left to the leader.
pub(crate) async fn run(state: Arc<AppState>, log: bool) {
    let auto = &state.rules_auto;
    let duty = &state.rules_duty;
    let mut seen = None;
    loop {
        if duty.shared() {
            let _ = tokio::time::timeout(REPLICA_POLL, auto.wake.notified()).await;
        } else {
            auto.wake.notified().await;
        }
        if !duty.leads().await {
            auto.covered
                .store(auto.requested.load(Ordering::SeqCst), Ordering::SeqCst);
            continue;
        }
        if duty.shared() {
            match state.render_cache.rules_version() {
                Ok(now) if seen != Some(now) => {
                    auto.requested.fetch_add(1, Ordering::SeqCst);
                }
                Ok(_) => {}
                Err(_) => continue,
            }
        }
        while auto.pending() > 0 {
            tokio::time::sleep(auto.debounce).await;
            if duty.shared() {
                // What this run covers: a later rule write (any replica's) moves it again.
                seen = state.render_cache.rules_version().ok();
            }
            let upto = auto.requested.load(Ordering::SeqCst);
            let writes = upto - auto.covered.load(Ordering::SeqCst);
            if let Some(mut run) = run_once(&state).await {
                run.writes = writes;
                if !run.ok {
                    tracing::error!(trigger = %run.trigger, "rules: {}", describe(&run));
                } else if log {
                    tracing::info!(trigger = %run.trigger, "rules: {}", describe(&run));
                }
                record(&state, run).await;
            }
            auto.covered.store(upto, Ordering::SeqCst);
        }
    }
}

/// One line for the server log.
pub(crate) fn describe(run: &GenerationRun) -> String {
    match &run.error {
        Some(e) => format!(
            "{} regeneration after {} write(s) failed: {e}",
            run.trigger, run.writes
        ),
        None => format!(
            "{} regeneration after {} write(s): {} file(s) written, {} removed, {}",
            run.trigger,
            run.writes,
            run.files_written.len(),
            run.files_removed.len(),
            if run.reloaded {
                format!("reload confirmed {:?}", run.confirmed_groups)
            } else {
                "no reload needed".to_string()
            }
        ),
    }
}

/// Keeps `run` in the store's run log (a failure to do so is only logged).
pub(crate) async fn record(state: &AppState, run: GenerationRun) {
    if let Err(e) = state.with_rules(move |s| s.record_run(&run)).await {
        tracing::error!("rules: could not record a generation run: {}", e.message);
    }
}

/// Counts and records a manual run (`api` or `ui`; dry runs are not runs). `failed`: the
/// stage and the error text.
pub(crate) async fn finish_manual(
    state: &AppState,
    trigger: &'static str,
    (at, started): (SystemTime, Instant),
    report: Option<&GenerateReport>,
    reload: Option<&ReloadReport>,
    failed: Option<(&'static str, String)>,
) {
    let (stage, error) = failed.unzip();
    state.rules_auto.count(trigger, stage);
    let mut run = GenerationRun::finished(trigger, at, started, report, reload, error);
    run.writes = 0;
    record(state, run).await;
}

/// What the status pages show: the switch, the debounce, writes waiting, the last run.
#[derive(serde::Serialize)]
pub(crate) struct GenerationStatus {
    pub(crate) auto_regenerate: bool,
    pub(crate) debounce_ms: u64,
    pub(crate) pending_writes: u64,
    pub(crate) last_run: Option<GenerationRun>,
}

pub(crate) async fn status(state: &AppState) -> Result<GenerationStatus, crate::errors::ApiError> {
    let auto = &state.rules_auto;
    Ok(GenerationStatus {
        auto_regenerate: auto.enabled,
        debounce_ms: auto.debounce.as_millis() as u64,
        pending_writes: auto.pending(),
        last_run: state.with_rules(|s| s.last_run()).await?,
    })
}

/// Regenerates every group and reloads when files changed; `None` when the rule folder or
/// the Prometheus URL is not set (nothing to do).
async fn run_once(state: &AppState) -> Option<GenerationRun> {
    let (at, started) = (SystemTime::now(), Instant::now());
    let store = Arc::clone(&state.rules);
    let generated = tokio::task::spawn_blocking(move || {
        let store = store.lock().unwrap_or_else(|p| p.into_inner());
        let settings = store.settings()?;
        if settings.rule_dir.is_none() || settings.prometheus_url.is_none() {
            return Ok(None);
        }
        let report = RuleGenerator::from_settings(&settings)?.generate(&store, None, false)?;
        Ok::<_, ipocket_rulegen::Error>(Some((settings, report)))
    })
    .await
    .map_err(|e| format!("the generation task failed: {e}"))
    .and_then(|r| r.map_err(|e| e.to_string()));
    let auto = &state.rules_auto;
    let (settings, report) = match generated {
        Ok(None) => return None,
        Ok(Some(done)) => done,
        Err(e) => {
            auto.count("auto", Some("generate"));
            let error = Some(e);
            return Some(GenerationRun::finished(
                "auto", at, started, None, None, error,
            ));
        }
    };
    if !report.changed() {
        auto.count("auto", None);
        return Some(GenerationRun::finished(
            "auto",
            at,
            started,
            Some(&report),
            None,
            None,
        ));
    }
    match reload_from_settings_with(&settings, &state.config.prometheus).await {
        Ok(reload) => {
            auto.count("auto", None);
            Some(GenerationRun::finished(
                "auto",
                at,
                started,
                Some(&report),
                Some(&reload),
                None,
            ))
        }
        Err(e) => {
            auto.count("auto", Some("reload"));
            Some(GenerationRun::finished(
                "auto",
                at,
                started,
                Some(&report),
                None,
                Some(format!("files written, but the reload failed: {e}")),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_render_with_help_type_and_zeros() {
        let auto = RulesAuto::new(true, Duration::from_millis(1));
        auto.count("auto", None);
        auto.count("api", Some("generate"));
        let mut enc = Encoder::new(Format::Text);
        auto.encode(&mut enc, Format::Text);
        let text = enc.finish();
        assert!(
            text.contains("# TYPE ipocket_rule_generation_errors_total counter"),
            "{text}"
        );
        assert!(
            text.contains("# HELP ipocket_rule_generations_total "),
            "{text}"
        );
        assert!(
            text.contains("ipocket_rule_generations_total{trigger=\"auto\"} 1"),
            "{text}"
        );
        assert!(
            text.contains(
                "ipocket_rule_generation_errors_total{trigger=\"api\",stage=\"generate\"} 1"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "ipocket_rule_generation_errors_total{trigger=\"auto\",stage=\"reload\"} 0"
            ),
            "{text}"
        );
    }

    #[test]
    fn schedule_counts_pending_writes_only_when_enabled() {
        let on = RulesAuto::new(true, Duration::from_millis(1));
        on.schedule();
        on.schedule();
        assert_eq!(on.pending(), 2);
        let off = RulesAuto::new(false, Duration::from_millis(1));
        off.schedule();
        assert_eq!(off.pending(), 0);
    }
}
