//! Streamed import: the source is read, planned and (optionally) written in
//! chunks of IP assets inside one transaction, so memory follows the chunk
//! size and the number of hosts and projects, not the number of assets.
//!
//! All or nothing still holds: every chunk is planned before it is written,
//! planning goes on after the first error to collect every error of the
//! file, and any error rolls the one transaction back.

use std::io::Read;
use std::path::Path;

use ipocket_db::Sql;
use serde::Serialize;

use super::apply::Writer;
use super::bundle_json::{read_json, AssetSink, JsonKind, JsonRead};
use super::csv_source::stream_asset_csv;
use super::plan::{normalize_assets, normalize_header, Planner};
use super::report::{ImportPlan, Item};
use super::CsvKind;
use super::{parse_file_with, Bundle, BundleAsset, ImportOptions, ImportSummary, PlannedItem};
use crate::error::{Error, ImportErrors, ImportIssue, Result};
use crate::model::Actor;
use crate::store::{Inventory, INVENTORY_LOCK};

/// IP assets planned (and written) together by default.
pub const DEFAULT_CHUNK: usize = 20_000;

/// A named input that can be opened more than once (a document whose sections
/// come after its IP assets is read twice).
pub struct StreamSource<'a> {
    name: String,
    open: Box<dyn FnMut() -> std::io::Result<Box<dyn Read + 'a>> + 'a>,
    /// Bytes in memory are parsed as a slice (serde_json is faster on slices).
    bytes: Option<&'a [u8]>,
}

impl<'a> StreamSource<'a> {
    /// A file; its name picks the reader as in [`parse_file`](super::parse_file).
    pub fn file(path: &Path) -> StreamSource<'static> {
        let owned = path.to_path_buf();
        StreamSource {
            name: path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .to_string(),
            open: Box::new(move || {
                let f = std::fs::File::open(&owned)?;
                Ok(Box::new(f) as Box<dyn Read>)
            }),
            bytes: None,
        }
    }

    /// Bytes already in memory (an upload), under a file name.
    pub fn bytes(name: &str, data: &'a [u8]) -> Self {
        StreamSource {
            name: name.to_string(),
            open: Box::new(move || Ok(Box::new(data) as Box<dyn Read + 'a>)),
            bytes: Some(data),
        }
    }

    /// The file name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// One pass of a JSON document into `sink`.
    fn read_json(&mut self, sink: &mut dyn AssetSink, assets_only: bool) -> Result<JsonRead> {
        let sink = Some((sink, assets_only));
        match self.bytes {
            Some(b) => read_json(
                serde_json::Deserializer::from_slice(b),
                JsonKind::Bundle,
                "",
                sink,
            ),
            None => read_json(json_reader(self.open()?), JsonKind::Bundle, "", sink),
        }
    }

    fn open(&mut self) -> Result<Box<dyn Read + 'a>> {
        let name = self.name.clone();
        (self.open)().map_err(|e| {
            Error::Io(std::io::Error::new(
                e.kind(),
                format!("reading {name}: {e}"),
            ))
        })
    }
}

/// How to run [`Inventory::import_stream`].
#[derive(Debug, Clone)]
pub struct StreamOptions<'a> {
    /// The planner's options.
    pub import: ImportOptions,
    /// Write as this actor; `None` is a dry run.
    pub apply_as: Option<&'a Actor>,
    /// IP assets planned and written together ([`DEFAULT_CHUNK`]).
    pub chunk_size: usize,
    /// Show each planned record ([`StreamEvent::Item`]); on for a dry run,
    /// off for an apply (building the items costs time).
    pub list_items: bool,
}

impl<'a> StreamOptions<'a> {
    /// A dry run: plan everything, write nothing.
    pub fn dry_run(import: ImportOptions) -> Self {
        StreamOptions {
            import,
            apply_as: None,
            chunk_size: DEFAULT_CHUNK,
            list_items: true,
        }
    }

    /// Plan and write as `actor`, in one transaction.
    pub fn apply(import: ImportOptions, actor: &'a Actor) -> Self {
        StreamOptions {
            import,
            apply_as: Some(actor),
            chunk_size: DEFAULT_CHUNK,
            list_items: false,
        }
    }
}

/// What [`Inventory::import_stream`] shows while it plans.
#[derive(Debug)]
pub enum StreamEvent<'p> {
    /// One planned record, in apply order.
    Item(&'p PlannedItem<'p>),
    /// Forget the records shown so far: they come again (see [`Inventory::import_stream`]).
    Restart,
    /// Records planned (and written, when applying) so far in this pass: sent once per
    /// chunk, whether or not `list_items` is on, so that a long import can show progress.
    Progress(u64),
}

/// What [`Inventory::import_stream`] did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StreamReport {
    /// Label of the source (the file name).
    pub source: String,
    /// Counts.
    pub summary: ImportSummary,
    /// Warnings about the whole import.
    pub warnings: Vec<ImportIssue>,
    /// Audit id of the `IMPORT_RUN` row (`None` for a dry run).
    pub import_run_audit_id: Option<i64>,
}

impl Inventory {
    /// Imports a file of any size with bounded memory: the same plan as
    /// [`Inventory::plan`] (same checks, same per-record items, every error of
    /// the file in one `Err`), made and written chunk by chunk in one
    /// transaction that is rolled back on any error or in a dry run.
    ///
    /// Bundle JSON, `ip-assets.json` and `ip-assets.csv` are read as a stream
    /// (the CSV creates the projects it names, as [`parse_csv`](super::parse_csv)
    /// does, here through `create_missing_projects`); other files are read
    /// whole by [`parse_file`](super::parse_file) and then planned in chunks. With
    /// `list_items`, `on_item` sees every planned record in apply order as
    /// soon as its chunk is planned; an `Err` from it stops the import. A document whose sections
    /// come after its IP assets is read a second time: `on_item` then gets
    /// [`StreamEvent::Restart`] and sees every record again.
    ///
    /// ```
    /// use ipocket_core::import::{StreamEvent, StreamOptions, StreamSource};
    /// use ipocket_core::{Actor, ImportOptions, Inventory};
    /// let mut inv = Inventory::open_in_memory().unwrap();
    /// let doc = br#"[{"ip_address":"10.0.0.1","type":"VM"},{"ip_address":"10.0.0.2","type":"OS"}]"#;
    /// let actor = Actor::system();
    /// let mut how = StreamOptions::apply(ImportOptions::default(), &actor);
    /// how.list_items = true;
    /// let mut seen = 0;
    /// let report = inv
    ///     .import_stream(
    ///         StreamSource::bytes("ip-assets.json", doc),
    ///         &how,
    ///         &mut |event| {
    ///             match event {
    ///                 StreamEvent::Item(_) => seen += 1,
    ///                 StreamEvent::Restart => seen = 0,
    ///                 StreamEvent::Progress(_) => {}
    ///             }
    ///             Ok(())
    ///         },
    ///     )
    ///     .unwrap();
    /// assert_eq!((report.summary.ip_assets.create, seen), (2, 2));
    /// ```
    pub fn import_stream(
        &mut self,
        mut source: StreamSource<'_>,
        how: &StreamOptions<'_>,
        on_item: &mut dyn FnMut(StreamEvent<'_>) -> Result<()>,
    ) -> Result<StreamReport> {
        let now = self.now()?;
        let first = self.in_stream_tx(how, |c| {
            self.stream_pass(c, &mut source, how, &now, &mut *on_item, None)
        });
        match first {
            Ok(r) => Ok(r),
            Err(Stop::Failed(e)) => Err(e),
            Err(Stop::ReadAgain(header)) => {
                // a section came after the assets: the first pass was rolled back; start
                // again with every section known, reading only the assets the second time
                on_item(StreamEvent::Restart)?;
                let second = self.in_stream_tx(how, |c| {
                    self.stream_pass(c, &mut source, how, &now, &mut *on_item, Some(&header))
                });
                match second {
                    Ok(r) => Ok(r),
                    Err(Stop::Failed(e)) => Err(e),
                    Err(Stop::ReadAgain(_)) => Err(Error::Io(std::io::Error::other(format!(
                        "{} changed while it was read",
                        source.name
                    )))),
                }
            }
        }
    }

    /// Runs one pass in one transaction: a write (kept when the pass succeeds) when
    /// applying, a read-only snapshot in a dry run.
    fn in_stream_tx<T>(
        &self,
        how: &StreamOptions<'_>,
        pass: impl FnOnce(&dyn Sql) -> std::result::Result<T, Stop>,
    ) -> std::result::Result<T, Stop> {
        match how.apply_as {
            Some(_) => self.db.write(INVENTORY_LOCK, pass),
            None => self.db.snapshot(pass),
        }
    }

    /// One pass over `source`: with `header` (the second pass), every section is known
    /// before the assets and only the assets are read.
    fn stream_pass(
        &self,
        c: &dyn Sql,
        source: &mut StreamSource<'_>,
        how: &StreamOptions<'_>,
        now: &str,
        on_item: &mut dyn FnMut(StreamEvent<'_>) -> Result<()>,
        header: Option<&Bundle>,
    ) -> std::result::Result<StreamReport, Stop> {
        let limits = self.limits;
        let name = source.name.clone();
        let now = now.to_string();
        let streamed_json = matches!(
            JsonKind::from_file_name(&name),
            Some(JsonKind::Bundle | JsonKind::IpAssets)
        );
        let streamed_csv = CsvKind::from_file_name(&name) == Some(CsvKind::IpAssets);
        let outcome = if streamed_json {
            let mut s = Session::new(c, &name, how, now, limits.max_text_chars, on_item)?;
            if let Some(header) = header {
                s.header(header)?;
                s.header_complete = true;
            }
            let read = source.read_json(&mut s, header.is_some());
            s.finish(read)?
        } else if streamed_csv {
            // ip-assets.csv creates the projects it names (as parse_csv does)
            let mut how = how.clone();
            how.import.create_missing_projects = true;
            let mut s = Session::new(c, &name, &how, now, limits.max_text_chars, on_item)?;
            let errors = stream_asset_csv(&name, source.open()?, &mut s);
            let read = JsonRead {
                bundle: Bundle::default(),
                errors,
                links: Default::default(),
            };
            s.finish(Ok(read))?
        } else {
            let mut data = Vec::new();
            source.open()?.read_to_end(&mut data).map_err(|e| {
                Error::Io(std::io::Error::new(
                    e.kind(),
                    format!("reading {name}: {e}"),
                ))
            })?;
            let mut bundle = parse_file_with(&name, &data, &now, &limits)?;
            drop(data);
            let assets = std::mem::take(&mut bundle.ip_assets);
            let mut s = Session::new(c, &name, how, now, limits.max_text_chars, on_item)?;
            s.header(&bundle)?;
            for a in assets {
                if !s.asset(&bundle, a, true) {
                    break;
                }
            }
            s.finish(Ok(JsonRead {
                bundle,
                errors: Vec::new(),
                links: Default::default(),
            }))?
        };
        match outcome {
            Outcome::Done(r) => Ok(r),
            Outcome::SectionsAfterAssets(header) => Err(Stop::ReadAgain(Box::new(header))),
        }
    }
}

/// Why a pass ends without a report; either way its transaction is rolled back.
enum Stop {
    Failed(Error),
    /// The document has sections after its assets: here they all are.
    ReadAgain(Box<Bundle>),
}

impl From<Error> for Stop {
    fn from(e: Error) -> Self {
        Stop::Failed(e)
    }
}

impl From<ipocket_db::Error> for Stop {
    fn from(e: ipocket_db::Error) -> Self {
        Stop::Failed(e.into())
    }
}

fn json_reader<'r>(
    r: Box<dyn Read + 'r>,
) -> serde_json::Deserializer<serde_json::de::IoRead<std::io::BufReader<Box<dyn Read + 'r>>>> {
    serde_json::Deserializer::from_reader(std::io::BufReader::with_capacity(1 << 16, r))
}

enum Outcome {
    Done(StreamReport),
    /// The document has sections after its assets: here they all are.
    SectionsAfterAssets(Bundle),
}

/// One pass of a streamed import over an open transaction.
struct Session<'s> {
    conn: &'s dyn Sql,
    source: String,
    planner: Planner,
    writer: Option<Writer<'s>>,
    on_item: &'s mut dyn FnMut(StreamEvent<'_>) -> Result<()>,
    chunk: Vec<BundleAsset>,
    chunk_size: usize,
    list_items: bool,
    /// Section sizes when the header was planned; `None` before.
    header_sizes: Option<[usize; 5]>,
    /// Every section was given before the assets (the second pass).
    header_complete: bool,
    summary: ImportSummary,
    parse_failed: bool,
    failure: Option<Error>,
    audit_mark: i64,
    /// The inventory's longest note or description.
    max_text: usize,
}

fn sizes(b: &Bundle) -> [usize; 5] {
    [
        b.vendors.len(),
        b.projects.len(),
        b.tags.len(),
        b.ip_ranges.len(),
        b.hosts.len(),
    ]
}

impl<'s> Session<'s> {
    fn new(
        conn: &'s dyn Sql,
        source: &str,
        how: &StreamOptions<'s>,
        now: String,
        max_text: usize,
        on_item: &'s mut dyn FnMut(StreamEvent<'_>) -> Result<()>,
    ) -> Result<Self> {
        let writer = match how.apply_as {
            Some(actor) => Some(Writer::new(conn, actor, now)?),
            None => None,
        };
        Ok(Session {
            conn,
            source: source.to_string(),
            planner: Planner::new(conn, &how.import)?,
            writer,
            on_item,
            chunk: Vec::new(),
            chunk_size: how.chunk_size.max(1),
            list_items: how.list_items,
            header_sizes: None,
            header_complete: false,
            summary: ImportSummary::default(),
            parse_failed: false,
            failure: None,
            audit_mark: Inventory::audit_mark(conn)?,
            max_text,
        })
    }

    /// Plans (and writes) every section but the assets; once.
    fn header(&mut self, header: &Bundle) -> Result<()> {
        if self.header_sizes.is_some() {
            return Ok(());
        }
        self.header_sizes = Some(sizes(header));
        let mut b = Bundle {
            source: self.source.clone(),
            vendors: header.vendors.clone(),
            projects: header.projects.clone(),
            tags: header.tags.clone(),
            ip_ranges: header.ip_ranges.clone(),
            hosts: header.hosts.clone(),
            ip_assets: Vec::new(),
        };
        let errors = normalize_header(&mut b, self.max_text);
        if !errors.is_empty() {
            self.planner.errors.extend(errors);
            return Ok(());
        }
        let h = self.planner.plan_header(&b);
        let mut items = h.vendors;
        items.extend(h.projects);
        items.extend(h.implicit_vendors);
        items.extend(h.tags);
        items.extend(h.ranges);
        items.extend(h.hosts);
        self.emit(b, items)
    }

    /// Shows and writes planned items, unless an error was found.
    fn emit(&mut self, bundle: Bundle, items: Vec<Item>) -> Result<()> {
        if !self.planner.errors.is_empty() {
            return Ok(());
        }
        let mut summary = ImportSummary::default();
        for it in &items {
            summary.add(it.entity, it.action);
        }
        let part = ImportPlan {
            source: self.source.clone(),
            summary,
            warnings: Vec::new(),
            items,
            bundle,
            audit_mark: self.audit_mark,
        };
        if self.list_items {
            for it in part.items() {
                (self.on_item)(StreamEvent::Item(&it))?;
            }
        }
        if let Some(w) = &mut self.writer {
            w.write(self.conn, &part)?;
        }
        self.summary.merge(&summary);
        let (t, part_total) = (self.summary.total, summary.total);
        if part_total.create + part_total.update + part_total.skip == 0 {
            return Ok(());
        }
        (self.on_item)(StreamEvent::Progress(t.create + t.update + t.skip))
    }

    fn flush(&mut self) -> Result<()> {
        if self.chunk.is_empty() {
            return Ok(());
        }
        let mut assets = std::mem::replace(&mut self.chunk, Vec::with_capacity(self.chunk_size));
        normalize_assets(&mut assets, &mut self.planner.errors, self.max_text);
        // bulk reads only when the inventory is small next to the chunk: memory stays bounded
        let a = self.planner.plan_assets(self.conn, &assets, 2)?;
        let mut items = a.implicit_projects;
        items.extend(a.implicit_tags);
        items.extend(a.assets);
        let b = Bundle {
            source: self.source.clone(),
            ip_assets: assets,
            ..Default::default()
        };
        self.emit(b, items)
    }

    fn finish(mut self, read: Result<JsonRead>) -> Result<Outcome> {
        if let Some(e) = self.failure.take() {
            return Err(e);
        }
        let read = read?;
        if !read.errors.is_empty() {
            return Err(Error::Import(ImportErrors(read.errors)));
        }
        let mut header = read.bundle;
        read.links.finish(&mut header);
        if !self.header_complete && self.header_sizes.is_some_and(|s| s != sizes(&header)) {
            return Ok(Outcome::SectionsAfterAssets(header));
        }
        self.header(&header)?;
        self.flush()?;
        if !self.planner.errors.is_empty() {
            return Err(Error::Import(ImportErrors(std::mem::take(
                &mut self.planner.errors,
            ))));
        }
        let warnings = self.planner.warnings();
        let import_run_audit_id = match &self.writer {
            Some(w) => Some(w.finish(self.conn, &self.source, &self.summary, warnings.len())?),
            None => None,
        };
        Ok(Outcome::Done(StreamReport {
            source: self.source,
            summary: self.summary,
            warnings,
            import_run_audit_id,
        }))
    }
}

impl AssetSink for Session<'_> {
    fn asset(&mut self, header: &Bundle, a: BundleAsset, clean: bool) -> bool {
        if self.failure.is_some() {
            return false;
        }
        if !clean || self.parse_failed {
            // the file has errors: only keep reading to report them all
            self.parse_failed = true;
            self.chunk = Vec::new();
            return true;
        }
        let r = self.header(header).and_then(|()| {
            self.chunk.push(a);
            if self.chunk.len() >= self.chunk_size {
                self.flush()
            } else {
                Ok(())
            }
        });
        match r {
            Ok(()) => true,
            Err(e) => {
                self.failure = Some(e);
                false
            }
        }
    }
}
