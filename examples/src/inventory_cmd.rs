//! `ipocket import` and `ipocket export`: the inventory's import engine and exports on a
//! SQLite file, over `ipocket-core`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::Args;
use ipocket_core::import::parse_file;
use ipocket_core::{Actor, ExportFormat, ExportOptions, ImportAction, ImportOptions, Inventory};

/// The database every inventory command opens.
#[derive(Args)]
pub(crate) struct DbArg {
    /// The SQLite database (created if missing).
    #[arg(long, env = "IPOCKET_DB", default_value = "ipocket.db")]
    db: PathBuf,
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
    /// Write here instead of standard output.
    #[arg(long, short)]
    output: Option<PathBuf>,
    /// Include archived IP assets.
    #[arg(long)]
    include_archived: bool,
    /// Only this project.
    #[arg(long)]
    project: Option<String>,
}

fn open(db: &Path) -> Result<Inventory> {
    Inventory::open(db).with_context(|| format!("opening {}", db.display()))
}

fn seconds(since: Instant) -> f64 {
    since.elapsed().as_secs_f64()
}

pub(crate) fn import(args: ImportArgs) -> Result<ExitCode> {
    if !args.dry_run && !args.apply {
        bail!("say --dry-run to see the plan or --apply to import");
    }
    let mut inventory = open(&args.db.db)?;
    let started = Instant::now();
    let data =
        std::fs::read(&args.file).with_context(|| format!("reading {}", args.file.display()))?;
    let name = args
        .file
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let bundle = parse_file(name, &data, &inventory.now()?)?;
    let read_s = seconds(started);

    let started = Instant::now();
    let options = ImportOptions {
        create_missing_projects: args.create_missing,
        create_missing_vendors: args.create_missing,
    };
    let plan = inventory.plan(bundle, &options)?;
    let plan_s = seconds(started);

    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    if args.json {
        serde_json::to_writer_pretty(&mut out, &plan)?;
        writeln!(out)?;
    } else if args.dry_run {
        for item in plan.items() {
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
        }
    }
    for warning in &plan.warnings {
        writeln!(out, "warning: {warning}")?;
    }
    let t = plan.summary.total;
    if args.dry_run {
        let (c, u, s) = (t.create, t.update, t.skip);
        writeln!(
            out,
            "dry run: {c} to create, {u} to update, {s} to skip; nothing written"
        )?;
    }

    if args.apply {
        let started = Instant::now();
        let report = inventory.apply(&Actor::system(), &plan)?;
        let apply_s = seconds(started);
        writeln!(
            out,
            "applied in one transaction (audit entry {}): {} created, {} updated, {} skipped",
            report.import_run_audit_id, t.create, t.update, t.skip
        )?;
        if args.bench {
            writeln!(
                out,
                "bench: read {read_s:.3} s, plan {plan_s:.3} s, apply {apply_s:.3} s"
            )?;
        }
    } else if args.bench {
        writeln!(out, "bench: read {read_s:.3} s, plan {plan_s:.3} s")?;
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
    let inventory = open(&args.db.db)?;
    let options = ExportOptions {
        include_archived: args.include_archived,
        project: args.project,
        ..ExportOptions::default()
    };
    let bytes = inventory.export(format, &options)?;
    match args.output {
        Some(path) => {
            std::fs::write(&path, &bytes).with_context(|| format!("writing {}", path.display()))?
        }
        None => std::io::stdout().write_all(&bytes)?,
    }
    Ok(ExitCode::SUCCESS)
}
