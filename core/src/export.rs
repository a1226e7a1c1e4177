//! Exports: CSV, JSON, bundle JSON and a zip of them all.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io::{Cursor, Write};

use ipnet::IpNet;
use ipocket_db::{Backend, Sql};
use serde::Serialize;

use crate::csv_cell::escape_cell;
use crate::error::{Error, Result};
use crate::model::{AssetType, IpAsset};
use crate::query::{for_each_ip_asset_in, ArchivedFilter, AssetFilter, ProjectFilter};
use crate::store::Inventory;

/// What to export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExportFormat {
    /// `bundle.json`: every entity, importable as is.
    BundleJson,
    /// `bundle.zip`: `bundle.json` plus every CSV.
    BundleZip,
    /// `ip-assets.csv`.
    IpAssetsCsv,
    /// `ip-assets.json`.
    IpAssetsJson,
    /// `hosts.csv`.
    HostsCsv,
    /// `hosts.json`.
    HostsJson,
    /// `projects.csv`.
    ProjectsCsv,
    /// `projects.json`.
    ProjectsJson,
    /// `vendors.csv`.
    VendorsCsv,
    /// `vendors.json`.
    VendorsJson,
    /// `tags.csv`.
    TagsCsv,
    /// `tags.json`.
    TagsJson,
}

impl ExportFormat {
    /// Every format.
    pub const ALL: [ExportFormat; 12] = [
        ExportFormat::BundleJson,
        ExportFormat::BundleZip,
        ExportFormat::IpAssetsCsv,
        ExportFormat::IpAssetsJson,
        ExportFormat::HostsCsv,
        ExportFormat::HostsJson,
        ExportFormat::ProjectsCsv,
        ExportFormat::ProjectsJson,
        ExportFormat::VendorsCsv,
        ExportFormat::VendorsJson,
        ExportFormat::TagsCsv,
        ExportFormat::TagsJson,
    ];

    /// The conventional file name (`ip-assets.csv`, …).
    pub fn file_name(self) -> &'static str {
        match self {
            ExportFormat::BundleJson => "bundle.json",
            ExportFormat::BundleZip => "bundle.zip",
            ExportFormat::IpAssetsCsv => "ip-assets.csv",
            ExportFormat::IpAssetsJson => "ip-assets.json",
            ExportFormat::HostsCsv => "hosts.csv",
            ExportFormat::HostsJson => "hosts.json",
            ExportFormat::ProjectsCsv => "projects.csv",
            ExportFormat::ProjectsJson => "projects.json",
            ExportFormat::VendorsCsv => "vendors.csv",
            ExportFormat::VendorsJson => "vendors.json",
            ExportFormat::TagsCsv => "tags.csv",
            ExportFormat::TagsJson => "tags.json",
        }
    }

    /// The format of a file name, if it is one of [`ExportFormat::file_name`].
    pub fn from_file_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.file_name() == name)
    }

    /// HTTP media type.
    pub fn media_type(self) -> &'static str {
        match self {
            ExportFormat::BundleZip => "application/zip",
            f if f.file_name().ends_with(".csv") => "text/csv; charset=utf-8",
            _ => "application/json",
        }
    }
}

/// Which ipocket an export is shaped for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum ExportCompat {
    /// This ipocket: every section (tags and IP ranges too), missing text as `""`.
    #[default]
    Native,
    /// The original (Python) ipocket imports it unchanged: its bundle sections only
    /// (vendors, projects, hosts, ip_assets), its key order (assets end with
    /// `created_at`, `updated_at`, `tags`), missing notes and descriptions as `null`,
    /// `exported_at` with microseconds; `bundle.zip` without `tags.csv`.
    Original,
}

impl ExportCompat {
    /// The name used by `--compat` and `?compat=`.
    pub fn as_str(self) -> &'static str {
        match self {
            ExportCompat::Native => "native",
            ExportCompat::Original => "original",
        }
    }
}

impl std::str::FromStr for ExportCompat {
    type Err = Error;

    /// ```
    /// use ipocket_core::ExportCompat;
    /// assert_eq!("original".parse::<ExportCompat>().unwrap(), ExportCompat::Original);
    /// assert!("v1".parse::<ExportCompat>().is_err());
    /// ```
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "native" => Ok(ExportCompat::Native),
            "original" => Ok(ExportCompat::Original),
            _ => Err(Error::invalid(
                "compat",
                format!("unknown export compatibility {s:?} (use native or original)"),
            )),
        }
    }
}

/// Export filters (as the original's query parameters).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportOptions {
    /// Include archived assets (default: no).
    pub include_archived: bool,
    /// Only assets of this type.
    pub asset_type: Option<AssetType>,
    /// Only assets of this project (and only this project in the projects list).
    pub project: Option<String>,
    /// Only assets of this host (and only this host in the hosts list).
    pub host: Option<String>,
    /// The bundle's `exported_at`; default now (`YYYY-MM-DDTHH:MM:SS+00:00`, with
    /// microseconds for [`ExportCompat::Original`]).
    pub exported_at: Option<String>,
    /// Shape of the JSON files and the zip (default: this ipocket's).
    pub compat: ExportCompat,
}

#[derive(Serialize)]
struct XAsset<'a> {
    ip_address: &'a str,
    #[serde(rename = "type")]
    asset_type: &'a str,
    project_name: Option<&'a str>,
    host_name: Option<&'a str>,
    tags: &'a [String],
    notes: &'a str,
    archived: bool,
}

#[derive(Serialize)]
struct XAssetFull<'a> {
    #[serde(flatten)]
    base: XAsset<'a>,
    created_at: &'a str,
    updated_at: &'a str,
}

/// An asset as the original ipocket exports it (its key order, `null` notes).
#[derive(Serialize)]
struct XAssetOriginal<'a> {
    ip_address: &'a str,
    #[serde(rename = "type")]
    asset_type: &'a str,
    project_name: Option<&'a str>,
    host_name: Option<&'a str>,
    notes: Option<&'a str>,
    archived: bool,
    created_at: &'a str,
    updated_at: &'a str,
    tags: &'a [String],
}

#[derive(Serialize)]
struct XHost {
    name: String,
    /// `None` only in [`ExportCompat::Original`] (written as `null`).
    notes: Option<String>,
    vendor_name: Option<String>,
    project_name: Option<String>,
    os_ip: Option<String>,
    bmc_ip: Option<String>,
}

#[derive(Serialize)]
struct XProject {
    name: String,
    /// `None` only in [`ExportCompat::Original`] (written as `null`).
    description: Option<String>,
    color: String,
}

#[derive(Serialize)]
struct XName {
    name: String,
}

#[derive(Serialize)]
struct XTag {
    name: String,
    color: String,
}

#[derive(Serialize)]
struct XRange {
    name: String,
    cidr: String,
    notes: String,
}

#[derive(Serialize)]
struct XData<'a> {
    vendors: Vec<XName>,
    projects: Vec<XProject>,
    // The original's bundle has no tag or range sections.
    #[serde(skip_serializing_if = "Option::is_none")]
    tags: Option<Vec<XTag>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ip_ranges: Option<Vec<XRange>>,
    hosts: Vec<XHost>,
    ip_assets: &'a AssetsSer<'a>,
}

#[derive(Serialize)]
struct XBundle<'a> {
    app: &'static str,
    schema_version: &'static str,
    exported_at: String,
    data: XData<'a>,
}

fn x_asset(a: &IpAsset) -> XAsset<'_> {
    XAsset {
        ip_address: &a.ip_address,
        asset_type: a.asset_type.as_str(),
        project_name: a.project_name.as_deref(),
        host_name: a.host_name.as_deref(),
        tags: &a.tags,
        notes: a.notes.as_deref().unwrap_or(""),
        archived: a.archived,
    }
}

/// Project, first OS address, first BMC address of a host.
type DerivedHostColumns = (Option<String>, Option<String>, Option<String>);

fn asset_filter(o: &ExportOptions) -> AssetFilter {
    AssetFilter {
        archived: if o.include_archived {
            ArchivedFilter::All
        } else {
            ArchivedFilter::Active
        },
        asset_type: o.asset_type,
        project: o.project.clone().map(ProjectFilter::Name),
        host: o.host.clone(),
        ..Default::default()
    }
}

/// How one asset is written.
#[derive(Clone, Copy, PartialEq, Eq)]
enum AssetShape {
    /// The bundle's asset (no timestamps).
    Bundle,
    /// `ip-assets.json`: the bundle's asset and its timestamps.
    WithTimes,
    /// The original ipocket's asset (bundle and `ip-assets.json` alike).
    Original,
}

/// The asset list, serialised straight from the database rows.
struct AssetsSer<'a> {
    c: &'a dyn Sql,
    filter: AssetFilter,
    shape: AssetShape,
    error: RefCell<Option<Error>>,
}

impl Serialize for AssetsSer<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::{Error as _, SerializeSeq};
        let mut seq = s.serialize_seq(None)?;
        let mut ser_error = None;
        let r = for_each_ip_asset_in(self.c, &self.filter, |a| {
            let res = match self.shape {
                AssetShape::WithTimes => seq.serialize_element(&XAssetFull {
                    base: x_asset(&a),
                    created_at: &a.created_at,
                    updated_at: &a.updated_at,
                }),
                AssetShape::Bundle => seq.serialize_element(&x_asset(&a)),
                AssetShape::Original => seq.serialize_element(&XAssetOriginal {
                    ip_address: &a.ip_address,
                    asset_type: a.asset_type.as_str(),
                    project_name: a.project_name.as_deref(),
                    host_name: a.host_name.as_deref(),
                    notes: a.notes.as_deref(),
                    archived: a.archived,
                    created_at: &a.created_at,
                    updated_at: &a.updated_at,
                    tags: &a.tags,
                }),
            };
            res.map_err(|e| {
                ser_error = Some(e);
                Error::Io(std::io::Error::other("serialisation failed"))
            })
        });
        if let Some(e) = ser_error {
            return Err(e);
        }
        if let Err(e) = r {
            *self.error.borrow_mut() = Some(e);
            return Err(S::Error::custom("database error during export"));
        }
        seq.end()
    }
}

fn json_to<W: Write, T: Serialize>(mut w: W, v: &T, assets: Option<&AssetsSer<'_>>) -> Result<()> {
    let r = serde_json::to_writer_pretty(&mut w, v);
    if let Some(e) = assets.and_then(|a| a.error.borrow_mut().take()) {
        return Err(e);
    }
    r.map_err(|e| Error::Io(e.into()))?;
    w.write_all(b"\n")?;
    Ok(())
}

fn csv_to<W: Write>(w: W, header: &[&str], rows: impl Iterator<Item = Vec<String>>) -> Result<()> {
    let mut cw = csv::Writer::from_writer(w);
    cw.write_record(header).map_err(csv_io)?;
    for r in rows {
        write_row(&mut cw, r.iter().map(String::as_str))?;
    }
    cw.flush()?;
    Ok(())
}

/// One CSV row, each cell escaped against formula injection (`csv_cell`).
fn write_row<'a, W: Write>(
    cw: &mut csv::Writer<W>,
    cells: impl IntoIterator<Item = &'a str>,
) -> Result<()> {
    let cells: Vec<_> = cells.into_iter().map(escape_cell).collect();
    cw.write_record(cells.iter().map(|c| c.as_bytes()))
        .map_err(csv_io)
}

fn csv_io(e: csv::Error) -> Error {
    Error::Io(std::io::Error::other(e))
}

/// Missing text: `""` for this ipocket, `None` (`null`) for the original.
fn native_text(o: &ExportOptions, v: Option<String>) -> Option<String> {
    match o.compat {
        ExportCompat::Native => Some(v.unwrap_or_default()),
        ExportCompat::Original => v,
    }
}

const ASSET_CSV_HEADER: [&str; 9] = [
    "ip_address",
    "type",
    "project_name",
    "host_name",
    "tags",
    "notes",
    "archived",
    "created_at",
    "updated_at",
];

/// Vendor names. Lists are sorted here, byte by byte as SQLite's `ORDER BY` does, so that
/// both backends export the same bytes whatever PostgreSQL's collation.
fn vendors_in(c: &dyn Sql) -> Result<Vec<XName>> {
    let mut v = c
        .query("SELECT name FROM vendors", &[])?
        .iter()
        .map(|r| Ok(XName { name: r.get(0)? }))
        .collect::<Result<Vec<_>>>()?;
    v.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(v)
}

/// Projects by name (only the filter's project when it names one).
fn projects_in(c: &dyn Sql, o: &ExportOptions) -> Result<Vec<XProject>> {
    let mut v = Vec::new();
    for r in c.query("SELECT name, description, color FROM projects", &[])? {
        let name: String = r.get(0)?;
        if o.project.as_ref().is_none_or(|n| *n == name) {
            v.push(XProject {
                name,
                description: native_text(o, r.get(1)?),
                color: r.get(2)?,
            });
        }
    }
    v.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(v)
}

/// Tags by name.
fn tags_in(c: &dyn Sql) -> Result<Vec<XTag>> {
    let mut v = c
        .query("SELECT name, color FROM tags", &[])?
        .iter()
        .map(|r| {
            Ok(XTag {
                name: r.get(0)?,
                color: r.get(1)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    v.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(v)
}

/// Ranges, IPv4 first, by network (as [`Inventory::ip_ranges`] lists them).
fn ranges_in(c: &dyn Sql) -> Result<Vec<XRange>> {
    let mut v = c
        .query("SELECT name, cidr, notes FROM ip_ranges ORDER BY id", &[])?
        .iter()
        .map(|r| {
            Ok(XRange {
                name: r.get(0)?,
                cidr: r.get(1)?,
                notes: r.get::<Option<String>>(2)?.unwrap_or_default(),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    v.sort_by_key(|r| r.cidr.parse::<IpNet>().ok());
    Ok(v)
}

/// Hosts by name (only the filter's host when it names one), with the columns derived from
/// their active addresses, in address order.
fn hosts_in(c: &dyn Sql, o: &ExportOptions) -> Result<Vec<XHost>> {
    let mut derived: BTreeMap<i64, DerivedHostColumns> = BTreeMap::new();
    for_each_ip_asset_in(c, &AssetFilter::default(), |a| {
        let Some(h) = a.host_id else { return Ok(()) };
        let d = derived.entry(h).or_default();
        if let Some(p) = a.project_name {
            if d.0.as_ref().is_none_or(|cur| p < *cur) {
                d.0 = Some(p);
            }
        }
        if a.asset_type == AssetType::Os && d.1.is_none() {
            d.1 = Some(a.ip_address);
        } else if a.asset_type == AssetType::Bmc && d.2.is_none() {
            d.2 = Some(a.ip_address);
        }
        Ok(())
    })?;
    let sql = "SELECT h.id, h.name, h.notes, v.name FROM hosts h LEFT JOIN vendors v ON v.id = h.vendor_id";
    let mut v = Vec::new();
    for r in c.query(sql, &[])? {
        let name: String = r.get(1)?;
        if o.host.as_ref().is_some_and(|n| *n != name) {
            continue;
        }
        let (project_name, os_ip, bmc_ip) = derived.remove(&r.get(0)?).unwrap_or_default();
        v.push(XHost {
            name,
            notes: native_text(o, r.get(2)?),
            vendor_name: r.get(3)?,
            project_name,
            os_ip,
            bmc_ip,
        });
    }
    v.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(v)
}

/// The bundle's `exported_at`: the inventory's clock (its fixed time when set) as
/// `YYYY-MM-DDTHH:MM:SS+00:00`; with microseconds for the original, as Python's
/// `datetime.now(timezone.utc).isoformat()` writes it.
fn exported_at_in(inv: &Inventory, c: &dyn Sql, original: bool) -> Result<String> {
    if let Some(t) = &inv.fixed_now {
        let micros = if original { ".000000" } else { "" };
        return Ok(format!("{}{micros}+00:00", t.replacen(' ', "T", 1)));
    }
    let sql = match (c.backend(), original) {
        (Backend::Sqlite, true) => "SELECT strftime('%Y-%m-%dT%H:%M:%f000+00:00','now')",
        (Backend::Sqlite, false) => "SELECT strftime('%Y-%m-%dT%H:%M:%S+00:00','now')",
        (Backend::Postgres, true) => {
            "SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"+00:00\"')"
        }
        (Backend::Postgres, false) => {
            "SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"+00:00\"')"
        }
    };
    Ok(c.query_one(sql, &[])?.get(0)?)
}

/// Writes one export file to `w`, every read through `c` (one snapshot).
fn export_in<W: Write>(
    inv: &Inventory,
    c: &dyn Sql,
    format: ExportFormat,
    o: &ExportOptions,
    mut w: W,
) -> Result<()> {
    match format {
        ExportFormat::BundleJson => {
            let original = o.compat == ExportCompat::Original;
            let exported_at = match &o.exported_at {
                Some(t) => t.clone(),
                None => exported_at_in(inv, c, original)?,
            };
            let assets = AssetsSer {
                c,
                filter: asset_filter(o),
                shape: if original {
                    AssetShape::Original
                } else {
                    AssetShape::Bundle
                },
                error: RefCell::new(None),
            };
            let b = XBundle {
                app: "ipocket",
                schema_version: "1",
                exported_at,
                data: XData {
                    vendors: vendors_in(c)?,
                    projects: projects_in(c, o)?,
                    tags: if original { None } else { Some(tags_in(c)?) },
                    ip_ranges: if original { None } else { Some(ranges_in(c)?) },
                    hosts: hosts_in(c, o)?,
                    ip_assets: &assets,
                },
            };
            json_to(w, &b, Some(&assets))
        }
        ExportFormat::IpAssetsJson => {
            let assets = AssetsSer {
                c,
                filter: asset_filter(o),
                shape: match o.compat {
                    ExportCompat::Native => AssetShape::WithTimes,
                    ExportCompat::Original => AssetShape::Original,
                },
                error: RefCell::new(None),
            };
            json_to(w, &assets, Some(&assets))
        }
        ExportFormat::IpAssetsCsv => {
            let mut cw = csv::Writer::from_writer(&mut w);
            cw.write_record(ASSET_CSV_HEADER).map_err(csv_io)?;
            for_each_ip_asset_in(c, &asset_filter(o), |a| {
                write_row(
                    &mut cw,
                    [
                        a.ip_address.as_str(),
                        a.asset_type.as_str(),
                        a.project_name.as_deref().unwrap_or(""),
                        a.host_name.as_deref().unwrap_or(""),
                        a.tags.join(", ").as_str(),
                        a.notes.as_deref().unwrap_or(""),
                        if a.archived { "true" } else { "false" },
                        a.created_at.as_str(),
                        a.updated_at.as_str(),
                    ],
                )
            })?;
            cw.flush()?;
            Ok(())
        }
        ExportFormat::HostsJson => json_to(w, &hosts_in(c, o)?, None),
        ExportFormat::HostsCsv => csv_to(
            w,
            &[
                "name",
                "notes",
                "vendor_name",
                "project_name",
                "os_ip",
                "bmc_ip",
            ],
            hosts_in(c, o)?.into_iter().map(|h| {
                vec![
                    h.name,
                    h.notes.unwrap_or_default(),
                    h.vendor_name.unwrap_or_default(),
                    h.project_name.unwrap_or_default(),
                    h.os_ip.unwrap_or_default(),
                    h.bmc_ip.unwrap_or_default(),
                ]
            }),
        ),
        ExportFormat::ProjectsJson => json_to(w, &projects_in(c, o)?, None),
        ExportFormat::ProjectsCsv => csv_to(
            w,
            &["name", "description", "color"],
            projects_in(c, o)?
                .into_iter()
                .map(|p| vec![p.name, p.description.unwrap_or_default(), p.color]),
        ),
        ExportFormat::VendorsJson => json_to(w, &vendors_in(c)?, None),
        ExportFormat::VendorsCsv => csv_to(
            w,
            &["name"],
            vendors_in(c)?.into_iter().map(|v| vec![v.name]),
        ),
        ExportFormat::TagsJson => json_to(w, &tags_in(c)?, None),
        ExportFormat::TagsCsv => csv_to(
            w,
            &["name", "color"],
            tags_in(c)?.into_iter().map(|t| vec![t.name, t.color]),
        ),
        ExportFormat::BundleZip => {
            let mut zw = zip::ZipWriter::new(Cursor::new(Vec::new()));
            let opts = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated)
                .last_modified_time(zip::DateTime::default());
            let zerr = |e: zip::result::ZipError| Error::Zip(e.to_string());
            let files: &[ExportFormat] = &[
                ExportFormat::BundleJson,
                ExportFormat::IpAssetsCsv,
                ExportFormat::ProjectsCsv,
                ExportFormat::HostsCsv,
                ExportFormat::VendorsCsv,
                ExportFormat::TagsCsv,
            ];
            // The original's zip has no tags.csv.
            let files = match o.compat {
                ExportCompat::Native => files,
                ExportCompat::Original => &files[..5],
            };
            for &f in files {
                zw.start_file(f.file_name(), opts).map_err(zerr)?;
                export_in(inv, c, f, o, &mut zw)?;
            }
            w.write_all(&zw.finish().map_err(zerr)?.into_inner())?;
            Ok(())
        }
    }
}

impl Inventory {
    /// Produces one export file in memory (see [`Inventory::export_to`]).
    ///
    /// ```
    /// use ipocket_core::*;
    /// let mut inv = Inventory::open_in_memory().unwrap();
    /// inv.create_ip_asset(&Actor::system(), &NewIpAsset::new("10.0.0.1", AssetType::Vm)).unwrap();
    /// let csv = String::from_utf8(inv.export(ExportFormat::IpAssetsCsv, &ExportOptions::default()).unwrap()).unwrap();
    /// assert!(csv.starts_with("ip_address,type,project_name,host_name,tags,notes,archived,created_at,updated_at\n10.0.0.1,VM,,,,,false,"));
    /// ```
    pub fn export(&self, format: ExportFormat, o: &ExportOptions) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        self.export_to(format, o, &mut out)?;
        Ok(out)
    }

    /// Writes one export file to `w`, read from one snapshot of the database (no write
    /// committed meanwhile, by any replica, shows in part). On SQLite IP assets are
    /// streamed from the database row by row (CSV, JSON and bundle JSON), so memory does
    /// not grow with the inventory; `bundle.zip` is assembled in memory. The same data
    /// gives the same bytes on both backends.
    pub fn export_to<W: Write>(&self, format: ExportFormat, o: &ExportOptions, w: W) -> Result<()> {
        self.snapshot(|c| export_in(self, c, format, o, w))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Actor, NewIpAsset};

    fn sample() -> Inventory {
        let mut inv = Inventory::open_in_memory().unwrap();
        inv.set_fixed_time(Some("2024-01-01 00:00:00".into()));
        let a = Actor::system();
        let v = inv.create_vendor(&a, "HPE").unwrap();
        let h = inv
            .create_host(&a, "node-01", Some("Rack 1"), Some(v.id))
            .unwrap();
        let core = inv.create_project(&a, "Core", None, None).unwrap();
        let edge = inv
            .create_project(&a, "Alpha", Some("first"), Some("#112233"))
            .unwrap();
        let mk = |ip: &str, t, p: Option<i64>, tags: &[&str]| NewIpAsset {
            project_id: p,
            host_id: Some(h.id),
            tags: tags.iter().map(|s| s.to_string()).collect(),
            ..NewIpAsset::new(ip, t)
        };
        inv.create_ip_asset(&a, &mk("10.0.0.12", AssetType::Bmc, Some(core.id), &[]))
            .unwrap();
        inv.create_ip_asset(
            &a,
            &mk("10.0.0.11", AssetType::Os, Some(core.id), &["prod", "edge"]),
        )
        .unwrap();
        inv.create_ip_asset(&a, &mk("10.0.0.9", AssetType::Os, Some(edge.id), &[]))
            .unwrap();
        inv.archive_ip_asset(&a, "10.0.0.9").unwrap();
        inv
    }

    #[test]
    fn csv_matches_the_original_columns() {
        let inv = sample();
        let csv = String::from_utf8(
            inv.export(ExportFormat::IpAssetsCsv, &ExportOptions::default())
                .unwrap(),
        )
        .unwrap();
        assert_eq!(
            csv,
            "ip_address,type,project_name,host_name,tags,notes,archived,created_at,updated_at\n\
             10.0.0.11,OS,Core,node-01,\"edge, prod\",,false,2024-01-01 00:00:00,2024-01-01 00:00:00\n\
             10.0.0.12,BMC,Core,node-01,,,false,2024-01-01 00:00:00,2024-01-01 00:00:00\n"
        );
        let all = ExportOptions {
            include_archived: true,
            ..Default::default()
        };
        let csv = String::from_utf8(inv.export(ExportFormat::IpAssetsCsv, &all).unwrap()).unwrap();
        assert_eq!(
            csv.lines().nth(1).unwrap().split(',').next(),
            Some("10.0.0.9")
        );
    }

    #[test]
    fn csv_cells_that_start_a_formula_are_quoted_and_import_back_unchanged() {
        let mut inv = Inventory::open_in_memory().unwrap();
        inv.set_fixed_time(Some("2024-01-01 00:00:00".into()));
        let a = Actor::system();
        let p = inv
            .create_project(&a, "=cmd|' /C calc'!A0", Some("+1 555"), None)
            .unwrap();
        inv.create_vendor(&a, "@vendor").unwrap();
        inv.create_tag(&a, "-edge", None).unwrap();
        let h = inv.create_host(&a, "-host", Some("'=kept"), None).unwrap();
        let mut n = NewIpAsset::new("10.0.0.1", AssetType::Vm);
        n.project_id = Some(p.id);
        n.host_id = Some(h.id);
        n.notes = Some("=HYPERLINK(\"http://x\",\"y\")".into());
        n.tags = vec!["-edge".into()];
        inv.create_ip_asset(&a, &n).unwrap();
        let o = ExportOptions::default();
        let csv = |f| String::from_utf8(inv.export(f, &o).unwrap()).unwrap();
        assert_eq!(
            csv(ExportFormat::IpAssetsCsv).lines().nth(1).unwrap(),
            "10.0.0.1,VM,'=cmd|' /C calc'!A0,'-host,'-edge,\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",false,2024-01-01 00:00:00,2024-01-01 00:00:00"
        );
        assert_eq!(
            csv(ExportFormat::ProjectsCsv),
            "name,description,color\n'=cmd|' /C calc'!A0,'+1 555,#94a3b8\n"
        );
        assert_eq!(csv(ExportFormat::VendorsCsv), "name\n'@vendor\n");
        assert_eq!(
            csv(ExportFormat::HostsCsv).lines().nth(1).unwrap(),
            "'-host,''=kept,,'=cmd|' /C calc'!A0,,"
        );
        // the bundle's CSVs are the same files
        let zip = inv.export(ExportFormat::BundleZip, &o).unwrap();
        let mut ar = zip::ZipArchive::new(Cursor::new(zip)).unwrap();
        let mut s = String::new();
        std::io::Read::read_to_string(&mut ar.by_name("vendors.csv").unwrap(), &mut s).unwrap();
        assert_eq!(s, "name\n'@vendor\n");
        // importing the CSVs gives back the original values
        let files: Vec<(crate::import::CsvKind, &str, Vec<u8>)> = [
            ExportFormat::VendorsCsv,
            ExportFormat::ProjectsCsv,
            ExportFormat::HostsCsv,
            ExportFormat::IpAssetsCsv,
        ]
        .into_iter()
        .map(|f| {
            let kind = crate::import::CsvKind::from_file_name(f.file_name()).unwrap();
            (kind, f.file_name(), inv.export(f, &o).unwrap())
        })
        .collect();
        let inputs: Vec<_> = files
            .iter()
            .map(|(kind, name, data)| crate::import::CsvFile {
                kind: *kind,
                name,
                data,
            })
            .collect();
        let mut fresh = Inventory::open_in_memory().unwrap();
        let plan = fresh
            .plan(
                crate::import::parse_csv(&inputs).unwrap(),
                &Default::default(),
            )
            .unwrap();
        fresh.apply(&a, &plan).unwrap();
        let got = fresh.ip_asset("10.0.0.1").unwrap();
        assert_eq!(got.notes, n.notes);
        assert_eq!(got.project_name.as_deref(), Some("=cmd|' /C calc'!A0"));
        assert_eq!(
            (got.host_name.as_deref(), &got.tags[..]),
            (Some("-host"), &["-edge".to_string()][..])
        );
        assert_eq!(
            fresh.projects().unwrap()[0].description.as_deref(),
            Some("+1 555")
        );
        assert_eq!(fresh.vendors().unwrap()[0].name, "@vendor");
        assert_eq!(fresh.hosts().unwrap()[0].notes.as_deref(), Some("'=kept"));
    }

    /// The original ipocket's bundle (`app/exports.py`): four sections, its key order,
    /// `null` for missing text, asset timestamps in SQLite's format.
    const ORIGINAL_BUNDLE: &str = r##"{
  "app": "ipocket",
  "schema_version": "1",
  "exported_at": "2024-01-01T12:00:00.123456+00:00",
  "data": {
    "vendors": [
      {
        "name": "HPE"
      }
    ],
    "projects": [
      {
        "name": "Alpha",
        "description": "first",
        "color": "#112233"
      },
      {
        "name": "Core",
        "description": null,
        "color": "#94a3b8"
      }
    ],
    "hosts": [
      {
        "name": "node-01",
        "notes": "Rack 1",
        "vendor_name": "HPE",
        "project_name": "Core",
        "os_ip": "10.0.0.11",
        "bmc_ip": "10.0.0.12"
      }
    ],
    "ip_assets": [
      {
        "ip_address": "10.0.0.9",
        "type": "OS",
        "project_name": "Alpha",
        "host_name": "node-01",
        "notes": null,
        "archived": true,
        "created_at": "2024-01-01 00:00:00",
        "updated_at": "2024-01-01 00:00:00",
        "tags": []
      },
      {
        "ip_address": "10.0.0.11",
        "type": "OS",
        "project_name": "Core",
        "host_name": "node-01",
        "notes": null,
        "archived": false,
        "created_at": "2024-01-01 00:00:00",
        "updated_at": "2024-01-01 00:00:00",
        "tags": [
          "edge",
          "prod"
        ]
      },
      {
        "ip_address": "10.0.0.12",
        "type": "BMC",
        "project_name": "Core",
        "host_name": "node-01",
        "notes": null,
        "archived": false,
        "created_at": "2024-01-01 00:00:00",
        "updated_at": "2024-01-01 00:00:00",
        "tags": []
      }
    ]
  }
}
"##;

    #[test]
    fn original_compat_bundle_has_the_original_shape_and_reads_back() {
        let mut inv = sample();
        inv.create_tag(&Actor::system(), "spare", None).unwrap();
        let o = ExportOptions {
            include_archived: true,
            exported_at: Some("2024-01-01T12:00:00.123456+00:00".into()),
            compat: ExportCompat::Original,
            ..Default::default()
        };
        let out = inv.export(ExportFormat::BundleJson, &o).unwrap();
        assert_eq!(String::from_utf8(out.clone()).unwrap(), ORIGINAL_BUNDLE);
        // Our own import reads it back: same assets, notes still missing.
        let mut fresh = Inventory::open_in_memory().unwrap();
        let plan = fresh
            .plan(
                crate::import::parse_bundle_json(&out).unwrap(),
                &Default::default(),
            )
            .unwrap();
        fresh.apply(&Actor::system(), &plan).unwrap();
        let all = AssetFilter {
            archived: ArchivedFilter::All,
            ..Default::default()
        };
        let key = |i: &Inventory| {
            let mut v = Vec::new();
            i.for_each_ip_asset(&all, |a| {
                v.push((
                    a.ip_address,
                    a.asset_type,
                    a.project_name,
                    a.host_name,
                    a.notes,
                    a.archived,
                    a.tags,
                ));
                Ok(())
            })
            .unwrap();
            v
        };
        assert_eq!(key(&fresh), key(&inv));
        assert_eq!(fresh.projects().unwrap()[1].description, None);
        // ip-assets.json has the same asset shape; the zip has no tags.csv.
        let assets: serde_json::Value =
            serde_json::from_slice(&inv.export(ExportFormat::IpAssetsJson, &o).unwrap()).unwrap();
        let bundle: serde_json::Value = serde_json::from_str(ORIGINAL_BUNDLE).unwrap();
        assert_eq!(assets, bundle["data"]["ip_assets"]);
        let zip = inv.export(ExportFormat::BundleZip, &o).unwrap();
        let names: Vec<String> = zip::ZipArchive::new(Cursor::new(zip))
            .unwrap()
            .file_names()
            .map(str::to_string)
            .collect();
        assert_eq!(
            names,
            [
                "bundle.json",
                "ip-assets.csv",
                "projects.csv",
                "hosts.csv",
                "vendors.csv"
            ]
        );
    }

    #[test]
    fn original_compat_exported_at_has_microseconds() {
        let inv = sample();
        let o = ExportOptions {
            compat: ExportCompat::Original,
            ..Default::default()
        };
        let v: serde_json::Value =
            serde_json::from_slice(&inv.export(ExportFormat::BundleJson, &o).unwrap()).unwrap();
        let t = v["exported_at"].as_str().unwrap();
        // 2026-01-01T12:00:00.123000+00:00
        assert_eq!((t.len(), &t[19..20], &t[26..]), (32, ".", "+00:00"), "{t}");
    }

    #[test]
    fn hosts_export_derives_project_and_first_os_bmc() {
        let inv = sample();
        let csv = String::from_utf8(
            inv.export(ExportFormat::HostsCsv, &ExportOptions::default())
                .unwrap(),
        )
        .unwrap();
        // the archived Alpha address does not count
        assert_eq!(csv, "name,notes,vendor_name,project_name,os_ip,bmc_ip\nnode-01,Rack 1,HPE,Core,10.0.0.11,10.0.0.12\n");
    }

    #[test]
    fn project_filter_limits_assets_and_projects() {
        let inv = sample();
        let o = ExportOptions {
            project: Some("Alpha".into()),
            include_archived: true,
            exported_at: Some("t".into()),
            ..Default::default()
        };
        let v: serde_json::Value =
            serde_json::from_slice(&inv.export(ExportFormat::BundleJson, &o).unwrap()).unwrap();
        assert_eq!(v["data"]["projects"].as_array().unwrap().len(), 1);
        assert_eq!(v["data"]["ip_assets"][0]["ip_address"], "10.0.0.9");
        assert_eq!(v["schema_version"], "1");
        assert_eq!(v["exported_at"], "t");
    }

    #[test]
    fn empty_inventory_exports_valid_files() {
        let inv = Inventory::open_in_memory().unwrap();
        let o = ExportOptions {
            exported_at: Some("t".into()),
            ..Default::default()
        };
        let b = inv.export(ExportFormat::BundleJson, &o).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&b).unwrap();
        assert_eq!(v["data"]["ip_assets"], serde_json::json!([]));
        assert_eq!(inv.export(ExportFormat::IpAssetsJson, &o).unwrap(), b"[]\n");
        assert!(crate::parse_bundle_json(&b).unwrap().ip_assets.is_empty());
    }

    #[test]
    fn streamed_json_is_pretty_valid_json_in_address_order() {
        let inv = sample();
        let o = ExportOptions {
            include_archived: true,
            ..Default::default()
        };
        let streamed =
            String::from_utf8(inv.export(ExportFormat::IpAssetsJson, &o).unwrap()).unwrap();
        assert!(streamed
            .starts_with("[\n  {\n    \"ip_address\": \"10.0.0.9\",\n    \"type\": \"OS\","));
        let v: serde_json::Value = serde_json::from_str(&streamed).unwrap();
        let ips: Vec<_> = v
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["ip_address"].as_str().unwrap())
            .collect();
        assert_eq!(ips, ["10.0.0.9", "10.0.0.11", "10.0.0.12"]);
        assert_eq!(v[1]["tags"], serde_json::json!(["edge", "prod"]));
        assert_eq!(v[0]["created_at"], "2024-01-01 00:00:00");
    }

    #[test]
    fn zip_holds_every_file_and_is_deterministic() {
        let inv = sample();
        let o = ExportOptions {
            exported_at: Some("t".into()),
            ..Default::default()
        };
        let z1 = inv.export(ExportFormat::BundleZip, &o).unwrap();
        let z2 = inv.export(ExportFormat::BundleZip, &o).unwrap();
        assert_eq!(z1, z2);
        let mut ar = zip::ZipArchive::new(Cursor::new(z1)).unwrap();
        let names: Vec<_> = ar.file_names().map(str::to_string).collect();
        assert_eq!(
            names,
            [
                "bundle.json",
                "ip-assets.csv",
                "projects.csv",
                "hosts.csv",
                "vendors.csv",
                "tags.csv"
            ]
        );
        let mut s = String::new();
        std::io::Read::read_to_string(&mut ar.by_name("vendors.csv").unwrap(), &mut s).unwrap();
        assert_eq!(s, "name\nHPE\n");
    }
}
