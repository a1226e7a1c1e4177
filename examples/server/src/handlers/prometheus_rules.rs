//! The rule endpoints of seed 002 over `ipocket-rulegen`:
//! `POST /api/v1/prometheus/rules/regenerate[/{group_id}]`, `GET /api/v1/prometheus/rules/files`,
//! `GET /api/v1/prometheus/rules/effective/{target_id}`, `POST /api/v1/prometheus/reload`,
//! `GET /api/v1/prometheus/status`. The rule folder and the Prometheus URL are the rulegen
//! settings (`--rules-dir`, `--prometheus-url`, or `ipocket rules settings`).

use std::time::{Instant, SystemTime};

use hyper::StatusCode;
use ipocket_rulegen::generate::effective_rules;
use ipocket_rulegen::{
    reload_from_settings_with, status_from_settings_with, FileAction, GenerateReport, ReloadReport,
    RuleGenerator, Settings,
};
use serde_json::json;

use super::Answer;
use crate::auth;
use crate::errors::ApiError;
use crate::http::{json_response, ApiRequest};
use crate::rules_auto::finish_manual;
use crate::AppState;

fn seconds(started: Instant) -> String {
    format!("{:.3}s", started.elapsed().as_secs_f64())
}

/// Reloads Prometheus after a generation that changed files, unless `reload=0` or no
/// Prometheus URL is set. `Ok(None)`: no reload was asked for.
async fn reload_after(
    state: &AppState,
    req: &ApiRequest,
    settings: &Settings,
    report: &GenerateReport,
) -> Result<Option<ReloadReport>, ApiError> {
    let wanted = match req.param("reload") {
        None => true,
        Some(_) => req.flag("reload")?,
    };
    if report.dry_run || !wanted || !report.changed() || settings.prometheus_url.is_none() {
        return Ok(None);
    }
    let r = reload_from_settings_with(settings, &state.config.prometheus)
        .await
        .map_err(|e| {
            // The files are written; say so next to the reload failure.
            let written: Vec<_> = report.changes.iter().map(|c| &c.file_name).collect();
            ApiError::from(e).with_details(json!({"files_written": written}))
        })?;
    Ok(Some(r))
}

/// `POST /api/v1/prometheus/rules/regenerate[/{group_id}]` (Editor). `?dry_run=1` shows the
/// diffs and writes nothing. The group is an id or a name.
pub(crate) async fn regenerate(state: &AppState, req: &ApiRequest, group: Option<&str>) -> Answer {
    auth::require_editor(state, req).await?;
    let dry_run = req.flag("dry_run")?;
    let started = Instant::now();
    let when = (SystemTime::now(), started);
    let single = group.is_some();
    let group = group.map(str::to_string);
    // An unknown group is the caller's mistake, not a failed generation: looked up first.
    let gid = match group {
        Some(g) => Some(
            state
                .with_rules(move |s| s.find_group(&g).map(|g| g.id))
                .await?,
        ),
        None => None,
    };
    let generated = state
        .with_rules(move |store| {
            let settings = store.settings()?;
            let report = RuleGenerator::from_settings(&settings)?.generate(store, gid, dry_run)?;
            Ok((settings, report))
        })
        .await;
    let (settings, report) = match generated {
        Ok(done) => done,
        Err(e) => {
            if !dry_run {
                let failed = Some(("generate", e.message.clone()));
                finish_manual(state, "api", when, None, None, failed).await;
            }
            return Err(e);
        }
    };
    let reload = reload_after(state, req, &settings, &report).await;
    if !dry_run {
        let (ok, failed) = match &reload {
            Ok(r) => (r.as_ref(), None),
            Err(e) => (None, Some(("reload", e.message.clone()))),
        };
        finish_manual(state, "api", when, Some(&report), ok, failed).await;
    }
    let reload = reload?;
    let written = |c: &&ipocket_rulegen::FileChange| {
        matches!(c.action, FileAction::Create | FileAction::Update)
    };
    let mut body = json!({
        "dry_run": report.dry_run,
        "rule_dir": report.rule_dir,
        "target_version": report.target_version.to_string(),
        "changes": report.changes,
        "errors": [],
        "reload": reload,
        "duration": seconds(started),
    });
    let obj = body.as_object_mut().ok_or_else(ApiError::internal)?;
    if let [one] = report
        .changes
        .iter()
        .filter(|c| c.action != FileAction::Remove)
        .collect::<Vec<_>>()
        .as_slice()
    {
        if single {
            obj.insert("group_id".into(), json!(one.group_id));
            obj.insert("file_name".into(), json!(one.file_name));
            obj.insert("rules_count".into(), json!(one.rule_count));
        }
    }
    obj.insert(
        "groups_affected".into(),
        json!(report
            .changes
            .iter()
            .filter(|c| c.action != FileAction::Unchanged)
            .count()),
    );
    obj.insert(
        "files_generated".into(),
        json!(report.changes.iter().filter(written).count()),
    );
    Ok(json_response(StatusCode::OK, &body))
}

/// `GET /api/v1/prometheus/rules/files`.
pub(crate) async fn files(state: &AppState, req: &ApiRequest) -> Answer {
    auth::require_user(state, req).await?;
    let files = state
        .with_rules(|store| RuleGenerator::from_settings(&store.settings()?)?.list())
        .await?;
    Ok(json_response(
        StatusCode::OK,
        &json!({"total": files.len(), "files": files}),
    ))
}

/// `GET /api/v1/prometheus/rules/effective/{target}` (id or host name).
pub(crate) async fn effective(state: &AppState, req: &ApiRequest, target: &str) -> Answer {
    auth::require_user(state, req).await?;
    let target = target.to_string();
    let e = state
        .with_rules(move |store| {
            let version = store.settings()?.target_version;
            effective_rules(store, &target, version)
        })
        .await?;
    Ok(json_response(
        StatusCode::OK,
        &json!({
            "target_id": e.target.id,
            "hostname": e.target.hostname,
            "target": e.target,
            "total": e.rules.len(),
            "rules": e.rules,
            "overridden": e.overridden,
        }),
    ))
}

/// `POST /api/v1/prometheus/reload` (Editor): reload, then confirm every generated group
/// was loaded.
pub(crate) async fn reload(state: &AppState, req: &ApiRequest) -> Answer {
    auth::require_editor(state, req).await?;
    let settings = state.with_rules(|store| store.settings()).await?;
    let report = reload_from_settings_with(&settings, &state.config.prometheus).await?;
    Ok(json_response(
        StatusCode::OK,
        &json!({
            "status": "success",
            "message": "Prometheus reloaded and loaded every generated rule group",
            "report": report,
        }),
    ))
}

/// `GET /api/v1/prometheus/status`: always 200 when a URL is set; `status` says
/// `healthy` or `unhealthy` and `detail` why; `generation` the automatic regeneration and
/// the last generation run.
pub(crate) async fn status(state: &AppState, req: &ApiRequest) -> Answer {
    auth::require_user(state, req).await?;
    let settings = state.with_rules(|store| store.settings()).await?;
    let s = status_from_settings_with(&settings, &state.config.prometheus).await?;
    let word = if s.healthy && s.ready {
        "healthy"
    } else {
        "unhealthy"
    };
    let mut body = json!(s);
    let generation = crate::rules_auto::status(state).await?;
    if let Some(o) = body.as_object_mut() {
        o.insert("status".into(), json!(word));
        o.insert("generation".into(), json!(generation));
    }
    Ok(json_response(StatusCode::OK, &body))
}
