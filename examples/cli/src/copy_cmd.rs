//! `ipocket copy`: moves a whole database to the other backend (SQLite → PostgreSQL when one
//! machine is no longer enough, and back), then proves the inventory came across unchanged:
//! every export of the source and of the target must be the same bytes.

use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::Args;
use ipocket_core::{ExportFormat, ExportOptions, Inventory};
use ipocket_db::{Database, DbUrl};
use ipocket_server::SCHEMAS;

#[derive(Args)]
pub(crate) struct CopyArgs {
    /// The database to copy (only read): a path or sqlite:PATH, or
    /// postgres://user[:password]@host[:port]/database. Its schema must be this build's
    /// (`ipocket migrate` it first).
    #[arg(long)]
    from: String,
    /// The database to copy into, in the same forms: migrated to this build's schema first,
    /// and refused unless it holds no rows. Written in one transaction: all or nothing.
    #[arg(long)]
    to: String,
    /// Rows read from the source at a time (memory stays flat however large a table is).
    #[arg(long, default_value_t = ipocket_db::COPY_BATCH_ROWS as u32,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    batch_rows: u32,
}

/// The exports compared after a copy: the bundle (every entity) and `ip-assets.json` (the
/// addresses' times too), archived addresses included, with the same stamp. The other
/// files are views of the same rows.
const VERIFIED: [ExportFormat; 2] = [ExportFormat::BundleJson, ExportFormat::IpAssetsJson];

pub(crate) fn run(args: CopyArgs) -> Result<ExitCode> {
    let from_url = DbUrl::parse(&args.from).context("--from")?;
    let to_url = DbUrl::parse(&args.to).context("--to")?;
    refuse_same(&from_url, &to_url)?;
    if let DbUrl::Sqlite(path) = &from_url {
        crate::db_path::existing(path).context("--from")?;
    }
    let from =
        Database::open(&from_url, &[]).with_context(|| format!("opening the source {from_url}"))?;
    for c in SCHEMAS {
        let (found, latest) = (from.recorded_version(c.name)?, c.latest());
        if found < latest {
            bail!(
                "the source {from_url} has {} schema version {found}, this build {latest}; \
                 bring it up to date first: ipocket migrate --db {from_url}",
                c.name
            );
        }
        if found > latest {
            bail!(
                "the source {from_url} has {} schema version {found}, newer than this build's \
                 {latest}; copy it with the ipocket that wrote it",
                c.name
            );
        }
    }
    let to = Database::open(&to_url, &SCHEMAS)
        .with_context(|| format!("opening and migrating the target {to_url}"))?;
    outln!("copying {from_url} to {to_url}")?;
    let mut total = 0u64;
    let copied =
        ipocket_db::copy_database(&from, &to, &SCHEMAS, args.batch_rows as usize, &mut |t| {
            total += t.rows;
            tracing::info!(table = %t.table, rows = t.rows, "table copied");
        })
        .with_context(|| format!("copying {from_url} to {to_url}; no row was written"))?;
    drop((from, to));
    for t in &copied {
        outln!("  {:<24} {:>10} rows", t.table, t.rows)?;
    }
    outln!("copied {total} rows in {} tables", copied.len())?;

    let differing = compare_exports(&from_url, &to_url)?;
    if differing.is_empty() {
        let names: Vec<&str> = VERIFIED.iter().map(|f| f.file_name()).collect();
        outln!(
            "verified: the inventory exports ({}) are byte-equal on both databases",
            names.join(", ")
        )?;
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!(
            "ipocket: verification FAILED: the copy was committed, but these inventory exports \
             differ between {from_url} and {to_url}: {}",
            differing.join(", ")
        );
        Ok(ExitCode::from(1))
    }
}

/// Refuses a copy of a database onto itself (it would be refused as not empty anyway, but
/// an empty one would "copy" and verify nothing).
fn refuse_same(from: &DbUrl, to: &DbUrl) -> Result<()> {
    let same = match (from, to) {
        (DbUrl::Sqlite(a), DbUrl::Sqlite(b)) => {
            a == b || matches!((a.canonicalize(), b.canonicalize()), (Ok(x), Ok(y)) if x == y)
        }
        (DbUrl::Postgres(..), DbUrl::Postgres(..)) => from.to_string() == to.to_string(),
        _ => false,
    };
    if same {
        bail!("--from and --to name the same database ({from})");
    }
    Ok(())
}

/// The exports (see [`VERIFIED`]) that differ between the two databases, each with its
/// sizes. The source's export is spooled to a temporary file and the target's compared
/// with it as it is written, so memory stays flat however large the inventory.
fn compare_exports(from: &DbUrl, to: &DbUrl) -> Result<Vec<String>> {
    let source = Inventory::open_url(from).with_context(|| format!("opening the source {from}"))?;
    let target = Inventory::open_url(to).with_context(|| format!("opening the target {to}"))?;
    let o = ExportOptions {
        include_archived: true,
        exported_at: Some("copy check".into()),
        ..Default::default()
    };
    let mut differing = Vec::new();
    for f in VERIFIED {
        let name = f.file_name();
        let mut spool = BufWriter::new(tempfile::tempfile()?);
        source
            .export_to(f, &o, &mut spool)
            .with_context(|| format!("exporting {name} from the source"))?;
        let mut spool = spool.into_inner().map_err(|e| e.into_error())?;
        let source_len = spool.seek(SeekFrom::End(0))?;
        spool.rewind()?;
        let mut check = SameBytes {
            expected: BufReader::new(spool),
            same: true,
            written: 0,
        };
        target
            .export_to(f, &o, &mut check)
            .with_context(|| format!("exporting {name} from the target"))?;
        if !check.finish()? {
            differing.push(format!(
                "{name} ({source_len} bytes in the source, {} in the target)",
                check.written
            ));
        }
    }
    Ok(differing)
}

/// A writer that compares what is written with what `expected` reads.
struct SameBytes<R> {
    expected: R,
    same: bool,
    written: u64,
}

impl<R: Read> SameBytes<R> {
    /// Whether everything written matched and nothing more was expected.
    fn finish(&mut self) -> std::io::Result<bool> {
        Ok(self.same && self.expected.read(&mut [0u8; 1])? == 0)
    }
}

impl<R: Read> Write for SameBytes<R> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.written += buf.len() as u64;
        if self.same {
            let mut want = vec![0u8; buf.len()];
            let mut got = 0;
            while got < want.len() {
                match self.expected.read(&mut want[got..])? {
                    0 => break,
                    n => got += n,
                }
            }
            self.same = got == buf.len() && want == buf;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ipocket_core::Actor;

    #[test]
    fn exports_that_differ_are_named_with_their_sizes() {
        let dir = tempfile::tempdir().unwrap();
        let url = |name: &str| DbUrl::parse(dir.path().join(name).to_str().unwrap()).unwrap();
        let (a, b) = (url("a.db"), url("b.db"));
        for u in [&a, &b] {
            let mut inv = Inventory::open_url(u).unwrap();
            inv.create_vendor(&Actor::system(), "same").unwrap();
        }
        assert!(compare_exports(&a, &b).unwrap().is_empty());
        let mut inv = Inventory::open_url(&b).unwrap();
        inv.create_vendor(&Actor::system(), "only in b").unwrap();
        let differing = compare_exports(&a, &b).unwrap();
        let len = |u: &DbUrl| {
            let o = ExportOptions {
                include_archived: true,
                exported_at: Some("copy check".into()),
                ..Default::default()
            };
            let inv = Inventory::open_url(u).unwrap();
            inv.export(ExportFormat::BundleJson, &o).unwrap().len()
        };
        assert_eq!(
            differing,
            [format!(
                "bundle.json ({} bytes in the source, {} in the target)",
                len(&a),
                len(&b)
            )]
        );
    }

    #[test]
    fn same_bytes_sees_a_change_a_missing_end_and_an_extra_one() {
        let check = |expected: &[u8], written: &[&[u8]]| {
            let mut w = SameBytes {
                expected,
                same: true,
                written: 0,
            };
            for chunk in written {
                w.write_all(chunk).unwrap();
            }
            w.finish().unwrap()
        };
        assert!(check(b"abcdef", &[b"ab", b"cde", b"f"]));
        assert!(check(b"", &[]));
        assert!(!check(b"abcdef", &[b"ab", b"cXe", b"f"]));
        assert!(!check(b"abcdef", &[b"abcde"]));
        assert!(!check(b"abc", &[b"abc", b"d"]));
    }
}
