//! `POST /api/v1/import` (dry run or apply, one engine for every format) and
//! `GET /api/v1/export/{file}`.

use hyper::body::Bytes;
use hyper::header::{HeaderValue, CONTENT_DISPOSITION};
use hyper::StatusCode;
use ipocket_core::import::{parse_file_with, CsvKind};
use ipocket_core::{Bundle, ExportFormat, ExportOptions, ImportOptions, InputLimits};
use ipocket_errors::ApiErrorCode;
use serde_json::json;

use super::Answer;
use crate::auth;
use crate::errors::ApiError;
use crate::http::{bytes_response, json_response, ApiRequest};
use crate::pending_uploads::PendingFile;
use crate::ui::form::Form;
use crate::uploads;
use crate::AppState;

/// What `POST /api/v1/import` received: one raw body with the file name the engine
/// dispatches on, or the files of a `multipart/form-data` upload.
enum Upload {
    Raw { name: String, body: Bytes },
    Files(Vec<PendingFile>),
}

impl Upload {
    async fn read(req: &ApiRequest) -> Result<Upload, ApiError> {
        let media = req
            .header("content-type")
            .unwrap_or("")
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        let named = req.param("file").filter(|s| !s.is_empty());
        if media == "multipart/form-data" {
            if named.is_some() {
                return Err(ApiError::bad_request(
                    "?file= names a raw body; a multipart upload names its files in the fields \"file\", \"hosts\" and \"ip_assets\"",
                )
                .with_details(json!({"field": "file"})));
            }
            let form = Form::read(req).await?;
            let files = uploads::files_of(&form).map_err(|p| {
                ApiError::bad_request(p.api_message()).with_details(json!({"field": "file"}))
            })?;
            return Ok(Upload::Files(files));
        }
        let body = req.body.clone();
        if let Some(name) = named {
            return Ok(Upload::Raw {
                name: name.to_string(),
                body,
            });
        }
        let name = match media.as_str() {
            "application/json" => "bundle.json",
            "application/zip" => "bundle.zip",
            "application/xml" | "text/xml" => "nmap.xml",
            // Which CSV it is shows in its header row (the core knows each kind's columns).
            "text/csv" | "application/csv" => CsvKind::from_header(&body)
                .map_err(|m| {
                    ApiError::bad_request(format!(
                        "{m}: say which with ?file=hosts.csv|ip-assets.csv|projects.csv|vendors.csv|tags.csv"
                    ))
                    .with_details(json!({"field": "file"}))
                })?
                .file_name(),
            _ => {
                return Err(ApiError::new(
                    ApiErrorCode::UnsupportedMediaType,
                    "say what the body is: Content-Type application/json, application/zip, \
                     application/xml, text/csv or multipart/form-data, or \
                     ?file=bundle.json|bundle.zip|nmap.xml|ip-assets.csv|hosts.csv|…",
                ))
            }
        };
        Ok(Upload::Raw {
            name: name.to_string(),
            body,
        })
    }

    fn bundle(&self, now: &str, limits: &InputLimits) -> ipocket_core::Result<Bundle> {
        match self {
            Upload::Raw { name, body } => parse_file_with(name, body, now, limits),
            Upload::Files(files) => uploads::parse_upload(files, now, limits),
        }
    }
}

pub(crate) async fn import(state: &AppState, req: &ApiRequest) -> Answer {
    let apply = req.flag("apply")?;
    if apply && req.flag("dry_run")? {
        return Err(ApiError::bad_request("say dry_run=1 or apply=1, not both"));
    }
    // Any user may look at a plan; applying it writes data (Editor).
    let actor = if apply {
        Some(auth::require_editor(state, req).await?)
    } else {
        auth::require_user(state, req).await?;
        None
    };
    let upload = Upload::read(req).await?;
    let create_missing = req.flag("create_missing")?;
    let options = ImportOptions {
        create_missing_projects: create_missing,
        create_missing_vendors: create_missing,
    };
    // Parsing and planning a big file takes a connection and a core for seconds.
    let _slot = state.import_slot()?;
    let (plan, report) = match actor {
        // A dry run reads only: it runs on a reading connection, beside writers.
        None => {
            state
                .read_inventory(move |inv| {
                    let bundle = upload.bundle(&inv.now()?, inv.input_limits())?;
                    Ok((inv.plan(bundle, &options)?, None))
                })
                .await?
        }
        Some(actor) => {
            state
                .with_inventory(move |inv| {
                    let bundle = upload.bundle(&inv.now()?, inv.input_limits())?;
                    let plan = inv.plan(bundle, &options)?;
                    let report = inv.apply(&actor, &plan)?;
                    Ok((plan, Some(report)))
                })
                .await?
        }
    };
    let mode = if apply { "apply" } else { "dry_run" };
    Ok(json_response(
        StatusCode::OK,
        &json!({"mode": mode, "plan": plan, "applied": report}),
    ))
}

fn content_type(file: &str) -> &'static str {
    if file.ends_with(".csv") {
        "text/csv; charset=utf-8"
    } else if file.ends_with(".zip") {
        "application/zip"
    } else {
        "application/json"
    }
}

pub(crate) async fn export(state: &AppState, req: &ApiRequest, file: &str) -> Answer {
    auth::require_user(state, req).await?;
    export_file(state, req, file).await
}

/// The export `file` with the filters of the query (`include_archived`, `type`, `project`,
/// `host`) and its shape (`compat=native|original`) as an attachment; the caller has checked who asks (API token or UI session).
pub(crate) async fn export_file(state: &AppState, req: &ApiRequest, file: &str) -> Answer {
    let Some(format) = ExportFormat::from_file_name(file) else {
        let known: Vec<&str> = ExportFormat::ALL.iter().map(|f| f.file_name()).collect();
        return Err(ApiError::not_found(format!("unknown export {file:?}"))
            .with_details(json!({ "known": known })));
    };
    let mut options = ExportOptions {
        include_archived: req.flag("include_archived")?,
        project: req
            .param("project")
            .filter(|s| !s.is_empty())
            .map(str::to_string),
        host: req
            .param("host")
            .filter(|s| !s.is_empty())
            .map(str::to_string),
        ..ExportOptions::default()
    };
    if let Some(t) = req.param("type").filter(|s| !s.is_empty()) {
        options.asset_type = Some(t.parse()?);
    }
    if let Some(c) = req.param("compat").filter(|s| !s.is_empty()) {
        options.compat = c.parse()?;
    }
    let bytes = state
        .read_inventory(move |inv| inv.export(format, &options))
        .await?;
    let name = format.file_name();
    let mut r = bytes_response(StatusCode::OK, content_type(name), bytes);
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        r.headers_mut().insert(CONTENT_DISPOSITION, v);
    }
    Ok(r)
}
