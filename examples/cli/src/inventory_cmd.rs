//! `ipocket import` and `ipocket export`: the inventory's import engine and exports on a
//! SQLite file, over `ipocket-core`.

use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::Args;
use ipocket_core::import::{StreamEvent, StreamOptions, StreamSource};
use ipocket_core::{
    Actor, ExportCompat, ExportFormat, ExportOptions, ImportAction, ImportOptions, PlannedItem,
};

/// The database every inventory command opens.
#[derive(Args)]
pub(crate) struct DbArg {
    /// The SQLite database (commands that write create it; the others refuse a missing one).
    #[arg(long, env = "IPOCKET_DB", default_value = "ipocket.db", global = true)]
    db: PathBuf,
}

impl DbArg {
    pub(crate) fn path(&self) -> &Path {
        &self.db
    }
}

#[derive(Args)]
pub(crate) struct ImportArgs {
    #[command(flatten)]
    db: DbArg,
    /// Bundle JSON (`*.json`), zip of CSVs (`*.zip`), CSV (`hosts.csv`, `ip-assets.csv`, …)
    /// or Nmap XML (`*.xml`).
    file: PathBuf,
    /// Show what would change (per record: CREATE / UPDATE / SKIP with field diffs); write nothing.
    #[arg(long, conflicts_with = "apply")]
    dry_run: bool,
    /// Apply the import in one transaction: all or nothing.
    #[arg(long)]
    apply: bool,
    /// Create projects and vendors that records name but nothing defines.
    #[arg(long)]
    create_missing: bool,
    /// Print the plan as JSON instead of text.
    #[arg(long)]
    json: bool,
    /// Print how long reading, planning and applying took.
    #[arg(long)]
    bench: bool,
}

#[derive(Args)]
pub(crate) struct ExportArgs {
    #[command(flatten)]
    db: DbArg,
    /// What to export, by file name: bundle.json, bundle.zip, ip-assets.csv, ip-assets.json,
    /// hosts.csv, hosts.json, projects.csv, projects.json, …
    format: String,
    /// Write here (atomically, see docs/files.md) instead of standard output (`-`: standard
    /// output).
    #[arg(long, short)]
    output: Option<PathBuf>,
    /// Include archived IP assets.
    #[arg(long)]
    include_archived: bool,
    /// Only this project.
    #[arg(long)]
    project: Option<String>,
    /// Shape of the JSON files and the zip: `native` (this ipocket's) or `original` (the
    /// original Python ipocket imports it unchanged; see docs/import-export.md).
    #[arg(long, default_value = "native", value_parser = parse_compat)]
    compat: ExportCompat,
}

fn parse_compat(s: &str) -> Result<ExportCompat, String> {
    s.parse().map_err(|e: ipocket_core::Error| e.to_string())
}

fn seconds(since: Instant) -> f64 {
    since.elapsed().as_secs_f64()
}

/// One planned record as a dry-run line (`CREATE ip_asset 10.0.0.1  type: ∅ → VM`).
fn item_line(out: &mut impl Write, item: &PlannedItem<'_>) -> Result<()> {
    let action = match item.action {
        ImportAction::Create => "CREATE",
        ImportAction::Update => "UPDATE",
        ImportAction::Skip => "SKIP",
    };
    let entity = serde_json::to_value(item.entity)?;
    write!(
        out,
        "{action:<6} {} {}",
        entity.as_str().unwrap_or("?"),
        item.key
    )?;
    for change in item.changes.iter() {
        let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "∅".into());
        write!(
            out,
            "  {}: {} → {}",
            change.field,
            show(&change.before),
            show(&change.after)
        )?;
    }
    for warning in item.warnings {
        write!(out, "  (warning: {warning})")?;
    }
    writeln!(out)?;
    Ok(())
}

/// Peak resident memory of this process (Linux `VmHWM`), for `--bench`.
fn peak_memory() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
            let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
            Some(format!("{:.0} MB", kb / 1024.0))
        })
        .unwrap_or_else(|| "n/a".into())
}

/// Imports through the streamed engine: the file is read, planned and applied
/// chunk by chunk in one transaction, so memory stays bounded for any size.
/// The dry-run listing (or `--json` items) is spooled to an anonymous
/// temporary file and printed only when the whole file planned cleanly.
pub(crate) fn import(args: ImportArgs) -> Result<ExitCode> {
    if !args.dry_run && !args.apply {
        bail!("say --dry-run to see the plan or --apply to import");
    }
    // A dry run only reads: a mistyped --db must not become an empty inventory.
    let mut inventory = crate::db_path::open_inventory(&args.db.db, args.apply)?;
    let started = Instant::now();
    let options = ImportOptions {
        create_missing_projects: args.create_missing,
        create_missing_vendors: args.create_missing,
    };
    let actor = Actor::system();
    let listing = args.json || args.dry_run;
    let mut how = if args.apply {
        StreamOptions::apply(options, &actor)
    } else {
        StreamOptions::dry_run(options)
    };
    how.list_items = listing;
    let mut spool = std::io::BufWriter::new(tempfile::tempfile().context("creating a spool file")?);
    let mut first = true;
    let mut progress = crate::progress::Progress::start("import");
    let mut on_item = |event: StreamEvent<'_>| -> ipocket_core::Result<()> {
        let io = |e: std::io::Error| ipocket_core::Error::Io(e);
        match event {
            StreamEvent::Restart => {
                spool.flush().map_err(io)?;
                spool.get_mut().set_len(0).map_err(io)?;
                spool.seek(SeekFrom::Start(0)).map_err(io)?;
                first = true;
                progress.update(0);
            }
            StreamEvent::Progress(done) => progress.update(done),
            StreamEvent::Item(item) if args.json => {
                if !first {
                    spool.write_all(b",\n").map_err(io)?;
                }
                first = false;
                serde_json::to_writer(&mut spool, item)
                    .map_err(|e| io(std::io::Error::other(e)))?;
            }
            StreamEvent::Item(item) if listing => {
                item_line(&mut spool, item).map_err(|e| io(std::io::Error::other(e)))?;
            }
            StreamEvent::Item(_) => {}
        }
        Ok(())
    };
    let report = inventory.import_stream(StreamSource::file(&args.file), &how, &mut on_item);
    progress.finish();
    let report = report?;
    let elapsed = seconds(started);

    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut spooled = spool.into_inner().context("writing the spool file")?;
    spooled.seek(SeekFrom::Start(0))?;
    if args.json {
        writeln!(
            out,
            "{{\"source\": {},\n\"summary\": {},\n\"items\": [",
            serde_json::to_string(&report.source)?,
            serde_json::to_string(&report.summary)?
        )?;
        std::io::copy(&mut spooled, &mut out)?;
        writeln!(
            out,
            "],\n\"warnings\": {}}}",
            serde_json::to_string(&report.warnings)?
        )?;
    } else {
        if listing {
            std::io::copy(&mut spooled, &mut out)?;
        }
        for warning in &report.warnings {
            writeln!(out, "warning: {warning}")?;
        }
    }
    let t = report.summary.total;
    if args.dry_run && !args.json {
        let (c, u, s) = (t.create, t.update, t.skip);
        writeln!(
            out,
            "dry run: {c} to create, {u} to update, {s} to skip; nothing written"
        )?;
    }
    if let Some(id) = report.import_run_audit_id {
        if !args.json {
            writeln!(
                out,
                "applied in one transaction (audit entry {id}): {} created, {} updated, {} skipped",
                t.create, t.update, t.skip
            )?;
        }
    }
    if args.bench {
        let what = if args.apply {
            "read+plan+apply"
        } else {
            "read+plan"
        };
        // to stderr with --json so that standard output stays one JSON document
        let line = format!(
            "bench: streamed {what} {elapsed:.3} s, {} records, peak memory {}",
            t.create + t.update + t.skip,
            peak_memory()
        );
        if args.json {
            eprintln!("{line}");
        } else {
            writeln!(out, "{line}")?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn export(args: ExportArgs) -> Result<ExitCode> {
    let Some(format) = ExportFormat::from_file_name(&args.format) else {
        let known: Vec<&str> = ExportFormat::ALL.iter().map(|f| f.file_name()).collect();
        bail!(
            "unknown export {:?}: one of {}",
            args.format,
            known.join(", ")
        );
    };
    let inventory = crate::db_path::open_inventory(&args.db.db, false)?;
    let options = ExportOptions {
        include_archived: args.include_archived,
        project: args.project,
        compat: args.compat,
        ..ExportOptions::default()
    };
    let bytes = inventory.export(format, &options)?;
    match args.output.filter(|p| p.as_os_str() != "-") {
        Some(path) => {
            ipocket_files::write(&path, &bytes)?;
        }
        None => std::io::stdout().write_all(&bytes)?,
    }
    Ok(ExitCode::SUCCESS)
}
