//! `/ui/alerts/regenerate`: GET shows, per group's rule file, the diff between the file on
//! disk and what would be generated (a dry run: nothing written); POST (Editor) writes the
//! files (validated, promtool-checked, atomic) and reloads Prometheus, confirming its groups.

use std::time::{Instant, SystemTime};

use ipocket_rulegen::{reload_from_settings_with, FileAction, GenerateReport, RuleGenerator};
use maud::{html, Markup};

use crate::errors::ApiError;
use crate::rules_auto::finish_manual;
use crate::ui::page::{Ctx, UiAnswer};
use crate::ui::session::FlashKind;

async fn generate(cx: &Ctx<'_>, dry_run: bool) -> Result<GenerateReport, ApiError> {
    cx.state
        .with_rules(move |store| {
            RuleGenerator::from_settings(&store.settings()?)?.generate(store, None, dry_run)
        })
        .await
}

fn action_word(a: FileAction) -> &'static str {
    match a {
        FileAction::Create => "new file",
        FileAction::Update => "changed",
        FileAction::Unchanged => "unchanged",
        FileAction::Remove => "removed",
    }
}

/// A unified diff as lines marked added, removed or unchanged (one block element a line).
fn diff_lines(diff: &str) -> Markup {
    html! {
        pre.line-diff {
            @for line in diff.lines().filter(|l| !l.starts_with("+++") && !l.starts_with("---")) {
                @if let Some(rest) = line.strip_prefix('+') { ins { "+ " (rest) } }
                @else if let Some(rest) = line.strip_prefix('-') { del { "- " (rest) } }
                @else if line.starts_with("@@") { span.hunk { (line) } }
                @else { span { "  " (line.strip_prefix(' ').unwrap_or(line)) } }
            }
        }
    }
}

pub(crate) async fn preview(cx: &Ctx<'_>) -> UiAnswer {
    let report = generate(cx, true).await;
    let body = html! {
        h1 { "Regenerate rule files" }
        (super::tabs("/regenerate"))
        @match &report {
            Err(e) => div.flash.flash-error role="alert" #regen-error { (e.message) }
            Ok(r) => {
                p.muted { "Rule folder " code { (r.rule_dir.display()) } ", for Prometheus " (r.target_version) ". Nothing is written until you press the button." }
                @if r.changes.is_empty() { p { "No group has enabled rules: there is nothing to generate." } }
                @for c in &r.changes {
                    section.card.regen-file {
                        h2 { code { (c.file_name) } " " span.muted { "(" (action_word(c.action)) ", " (c.rule_count) " rules)" } }
                        @if c.action == FileAction::Unchanged { p.muted { "The file on disk is what would be generated." } }
                        @else { (diff_lines(&c.diff)) }
                    }
                }
                @if cx.require_write().is_ok() {
                    form method="post" action="/ui/alerts/regenerate" {
                        (cx.csrf_field())
                        button type="submit" #regen-write { "Write the files and reload Prometheus" }
                    }
                }
            }
        }
    };
    Ok(cx.page("Regenerate rule files", body))
}

pub(crate) async fn write(cx: &Ctx<'_>) -> UiAnswer {
    cx.require_write()?;
    let when = (SystemTime::now(), Instant::now());
    let report = match generate(cx, false).await {
        Ok(r) => r,
        Err(e) => {
            let failed = Some(("generate", e.message.clone()));
            finish_manual(cx.state, "ui", when, None, None, failed).await;
            return Ok(cx.redirect("/ui/alerts/regenerate", FlashKind::Error, e.message));
        }
    };
    let files: Vec<String> = report
        .changes
        .iter()
        .filter(|c| c.action != FileAction::Unchanged)
        .map(|c| format!("{} ({})", c.file_name, action_word(c.action)))
        .collect();
    let mut message = if files.is_empty() {
        "Every file was unchanged.".to_string()
    } else {
        format!("Files written: {}.", files.join(", "))
    };
    let settings = cx.state.with_rules(|store| store.settings()).await?;
    if settings.prometheus_url.is_none() {
        finish_manual(cx.state, "ui", when, Some(&report), None, None).await;
        message.push_str(" No Prometheus URL is set: nothing was reloaded.");
        return Ok(cx.redirect("/ui/alerts/regenerate", FlashKind::Warning, message));
    }
    // Reloaded even when nothing changed: the button promises a reload, and it confirms
    // that Prometheus has every group on disk.
    match reload_from_settings_with(&settings, &cx.state.config.prometheus).await {
        Ok(r) => {
            finish_manual(cx.state, "ui", when, Some(&report), Some(&r), None).await;
            message.push_str(&format!(
                " Prometheus reachable and reloaded ({} attempt(s)); groups confirmed: {}.",
                r.attempts,
                if r.confirmed_groups.is_empty() {
                    "none".to_string()
                } else {
                    r.confirmed_groups.join(", ")
                }
            ));
            Ok(cx.redirect("/ui/alerts/regenerate", FlashKind::Success, message))
        }
        Err(e) => {
            let error = ApiError::from(e).message;
            let failed = Some(("reload", error.clone()));
            finish_manual(cx.state, "ui", when, Some(&report), None, failed).await;
            message.push_str(&format!(" The reload failed: {error}"));
            Ok(cx.redirect("/ui/alerts/regenerate", FlashKind::Error, message))
        }
    }
}
