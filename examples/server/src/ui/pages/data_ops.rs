//! Data Ops: `/ui/import` (upload, dry run, apply exactly the previewed bytes) and
//! `/ui/export` (every export format with the API's filters, as downloads).

mod export;
pub(crate) mod plan_view;

use hyper::StatusCode;
use ipocket_core::{ImportIssue, ImportOptions, ImportPlan, Inventory};
use maud::{html, Markup};

use crate::errors::ApiError;
use crate::pending_uploads::{PendingFile, PendingImport};
use crate::ui::form::Form;
use crate::ui::page::{Ctx, UiAnswer};
use crate::ui::session::{self, FlashKind};
use crate::ui::static_files;
use crate::ui::widgets::FieldErrors;
use crate::uploads::{self, parse_upload, UploadProblem, FILE_FIELDS};

pub(crate) async fn route(
    cx: &Ctx<'_>,
    rest: &[&str],
    form: Option<&Form>,
) -> Option<(&'static str, UiAnswer)> {
    Some(match (rest, form) {
        (["import"], None) => (
            "/ui/import",
            Ok(upload_page(cx, &FieldErrors::default(), StatusCode::OK)),
        ),
        (["import"], Some(f)) => ("/ui/import", upload(cx, f).await),
        (["import", "apply"], Some(f)) => ("/ui/import/apply", apply_previewed(cx, f).await),
        (["export"], None) => ("/ui/export", export::page(cx).await),
        (["export", file], None) => ("/ui/export/{file}", export::download(cx, file).await),
        _ => return None,
    })
}

fn upload_page(
    cx: &Ctx<'_>,
    errors: &FieldErrors,
    status: StatusCode,
) -> hyper::Response<crate::http::Body> {
    let body = html! {
        h1 { "Data Ops" }
        p { "Import a file, check the dry run, then apply it. " a href="/ui/export" { "Export" } " the inventory as CSV, JSON or a bundle." }
        p.muted {
            "Sample files to start from: "
            a href=(static_files::url("sample-ip-assets.csv")) download="ip-assets.csv" { "ip-assets.csv" }
            ", "
            a href=(static_files::url("sample-hosts.csv")) download="hosts.csv" { "hosts.csv" }
            "."
        }
        (errors.general(&FILE_FIELDS))
        (upload_form(cx, errors))
    };
    cx.page_with(status, "Import", "", body)
}

fn file_input(name: &str, label: &str, accept: &str, errors: &FieldErrors) -> Markup {
    let id = format!("f-{name}");
    let err = errors.of(name);
    html! {
        div.field.invalid[err.is_some()] {
            label for=(id) { (label) }
            input type="file" id=(id) name=(name) accept=(accept)
                aria-invalid=[err.map(|_| "true")] aria-describedby=[err.map(|_| format!("{id}-err"))];
            @if let Some(m) = err { span.field-error id={(id) "-err"} { (m) } }
        }
    }
}

fn upload_form(cx: &Ctx<'_>, errors: &FieldErrors) -> Markup {
    html! {
        form.panel.import-form method="post" action="/ui/import" enctype="multipart/form-data" {
            (cx.csrf_field())
            div.grid-2 {
                fieldset {
                    legend { "One file" }
                    (file_input("file", "bundle.json, bundle.zip, Nmap XML or a CSV (ip-assets.csv, hosts.csv, …)",
                        ".json,.zip,.xml,.csv,application/json,application/zip,text/xml,text/csv", errors))
                }
                fieldset {
                    legend { "Or the CSV pair (either or both)" }
                    (file_input("hosts", "hosts.csv", ".csv,text/csv", errors))
                    (file_input("ip_assets", "ip-assets.csv", ".csv,text/csv", errors))
                }
            }
            fieldset {
                legend { "Mode" }
                label.inline for="mode-dry-run" {
                    input type="radio" id="mode-dry-run" name="mode" value="dry-run" checked;
                    "Dry run (shows the plan, writes nothing)"
                }
                @if cx.session.can_write() {
                    label.inline for="mode-apply" {
                        input type="radio" id="mode-apply" name="mode" value="apply";
                        "Apply at once"
                    }
                }
            }
            div.field {
                label.inline for="create-missing" {
                    // Checked, as the original's CSV import always created them; the plan
                    // lists each one it would create.
                    input type="checkbox" id="create-missing" name="create_missing" value="1" checked;
                    "Create projects and vendors that the file names but the inventory lacks"
                }
            }
            button type="submit" { "Upload" }
        }
    }
}

/// The files of the upload form, or the error to show at its field.
fn uploaded_files(f: &Form) -> Result<Vec<PendingFile>, FieldErrors> {
    uploads::files_of(f).map_err(|problem| {
        let mut errors = FieldErrors::default();
        errors.add(
            "file",
            match problem {
                UploadProblem::NoFile => "Choose a file to import.",
                UploadProblem::FileAndPair => "Choose either one file or the CSV pair, not both.",
            },
        );
        errors
    })
}

/// A plan, or the located errors of a file that does not validate (nothing is written).
enum Planned {
    Plan(Box<ImportPlan>),
    Invalid(Vec<ImportIssue>),
}

fn plan_upload(inv: &Inventory, p: &PendingImport) -> ipocket_core::Result<Planned> {
    let options = ImportOptions {
        create_missing_projects: p.create_missing,
        create_missing_vendors: p.create_missing,
    };
    let planned = parse_upload(&p.files, &p.uploaded_at, inv.input_limits())
        .and_then(|b| inv.plan(b, &options));
    match planned {
        Ok(plan) => Ok(Planned::Plan(Box::new(plan))),
        Err(ipocket_core::Error::Import(errors)) => Ok(Planned::Invalid(errors.0)),
        Err(e) => Err(e),
    }
}

/// What apply found: the report, a different plan than the preview, or errors.
enum Applied {
    Done(Box<ImportPlan>),
    Changed(Box<ImportPlan>),
    Invalid(Vec<ImportIssue>),
}

/// Plans and, when `expect` is the previewed plan's digest (or `None`: one step), applies in
/// the writer's turn, so nothing changes between the two.
fn plan_and_apply(
    inv: &mut Inventory,
    actor: &ipocket_core::Actor,
    p: &PendingImport,
    expect: Option<&str>,
) -> ipocket_core::Result<Applied> {
    let plan = match plan_upload(inv, p)? {
        Planned::Plan(plan) => *plan,
        Planned::Invalid(errors) => return Ok(Applied::Invalid(errors)),
    };
    if expect.is_some_and(|d| d != plan_digest(&plan)) {
        return Ok(Applied::Changed(Box::new(plan)));
    }
    inv.apply(actor, &plan)?;
    Ok(Applied::Done(Box::new(plan)))
}

/// A digest of what the plan shows (counts, items, changes, warnings).
pub(crate) fn plan_digest(plan: &ImportPlan) -> String {
    use blake2::Digest;
    let json = serde_json::to_vec(plan).unwrap_or_default();
    session::hex(&blake2::Blake2s256::digest(&json))
}

async fn upload(cx: &Ctx<'_>, f: &Form) -> UiAnswer {
    let apply = match f.get("mode").unwrap_or("dry-run") {
        "dry-run" => false,
        "apply" => true,
        other => {
            return Err(ApiError::bad_request(format!(
                "mode: expected dry-run or apply, found {other:?}"
            )))
        }
    };
    if apply {
        cx.require_write()?;
    }
    let files = match uploaded_files(f) {
        Ok(files) => files,
        Err(errors) => return Ok(upload_page(cx, &errors, StatusCode::UNPROCESSABLE_ENTITY)),
    };
    let pending = PendingImport {
        files,
        create_missing: f.checked("create_missing"),
        uploaded_at: cx.state.read_inventory(|inv| inv.now()).await?,
        plan_digest: String::new(),
    };
    let _slot = cx.state.import_slot()?;
    if apply {
        let actor = cx.session.actor();
        let p = pending.clone();
        let applied = cx
            .state
            .with_inventory(move |inv| plan_and_apply(inv, &actor, &p, None))
            .await?;
        return Ok(after_apply(cx, applied, pending));
    }
    let p = pending.clone();
    let planned = cx
        .state
        .read_inventory(move |inv| plan_upload(inv, &p))
        .await?;
    Ok(match planned {
        Planned::Plan(plan) => preview(cx, *plan, pending, None),
        Planned::Invalid(errors) => invalid_page(cx, &errors),
    })
}

async fn apply_previewed(cx: &Ctx<'_>, f: &Form) -> UiAnswer {
    cx.require_write()?;
    let user_id = cx.session.user.id;
    let id = f.get("import_id").unwrap_or("");
    let Some(pending) = cx.state.pending_imports.get(user_id, id) else {
        return Ok(cx.redirect(
            "/ui/import",
            FlashKind::Error,
            "That preview has expired or was applied already: upload the file again.",
        ));
    };
    let _slot = cx.state.import_slot()?;
    let actor = cx.session.actor();
    let p = pending.clone();
    let applied = cx
        .state
        .with_inventory(move |inv| {
            let digest = p.plan_digest.clone();
            plan_and_apply(inv, &actor, &p, Some(&digest))
        })
        .await?;
    if matches!(applied, Applied::Done(_)) {
        cx.state.pending_imports.remove(id);
    }
    Ok(after_apply(cx, applied, pending))
}

fn after_apply(
    cx: &Ctx<'_>,
    applied: Applied,
    pending: PendingImport,
) -> hyper::Response<crate::http::Body> {
    match applied {
        Applied::Done(plan) => {
            let t = plan.summary.total;
            cx.redirect(
                "/ui/import",
                FlashKind::Success,
                format!(
                    "Import of {} applied: {} created, {} updated, {} unchanged.",
                    plan.source, t.create, t.update, t.skip
                ),
            )
        }
        Applied::Changed(plan) => preview(
            cx,
            *plan,
            pending,
            Some(
                "The inventory changed since your dry run, so the plan is different now. \
                 Nothing was written: check the new plan below and apply it again.",
            ),
        ),
        Applied::Invalid(errors) => invalid_page(cx, &errors),
    }
}

/// The dry run page; keeps the upload for "Apply this import".
fn preview(
    cx: &Ctx<'_>,
    plan: ImportPlan,
    mut pending: PendingImport,
    changed: Option<&str>,
) -> hyper::Response<crate::http::Body> {
    let id = session::random_token();
    let can_write = cx.session.can_write();
    if can_write {
        pending.plan_digest = plan_digest(&plan);
        cx.state
            .pending_imports
            .put(cx.session.user.id, id.clone(), pending);
    }
    let body = html! {
        h1 { "Import dry run" }
        @if let Some(m) = changed { div.flash.flash-warning role="alert" { (m) } }
        p { "Source " strong { (plan.source) } ". Nothing has been written yet." }
        (plan_view::plan(&plan))
        @if can_write {
            form.panel method="post" action="/ui/import/apply" {
                (cx.csrf_field())
                input type="hidden" name="import_id" value=(id);
                p.muted { "Applies exactly the file previewed here, in one transaction." }
                button type="submit" { "Apply this import" }
                " " a href="/ui/import" { "Cancel" }
            }
        } @else {
            p.muted { "Your role may look at plans but not apply them." }
            p { a href="/ui/import" { "Upload another file" } }
        }
    };
    let status = if changed.is_some() {
        StatusCode::CONFLICT
    } else {
        StatusCode::OK
    };
    cx.page_with(status, "Import dry run", "", body)
}

fn invalid_page(cx: &Ctx<'_>, errors: &[ImportIssue]) -> hyper::Response<crate::http::Body> {
    let body = html! {
        h1 { "Import errors" }
        (plan_view::errors(errors))
        h2 { "Try again" }
        (upload_form(cx, &FieldErrors::default()))
    };
    cx.page_with(StatusCode::UNPROCESSABLE_ENTITY, "Import errors", "", body)
}
