//! One import engine: every source becomes a [`Bundle`]; [`Inventory::plan`]
//! computes the dry run and [`Inventory::apply`] writes it in one transaction.
//!
//! [`Inventory::plan`]: crate::Inventory::plan
//! [`Inventory::apply`]: crate::Inventory::apply

mod apply;
mod bundle_json;
mod bundle_zip;
mod copy_load;
mod csv_source;
mod field_diff;
mod host_links;
mod nmap;
mod plan;
mod report;
mod state;
mod stream;

use std::sync::Arc;

use crate::model::AssetType;

pub use bundle_json::{
    parse_bundle_json, parse_bundle_json_reader, parse_json_files, JsonFile, JsonKind,
};
pub use bundle_zip::{parse_bundle_zip, parse_bundle_zip_with};
pub use csv_source::{parse_csv, CsvFile, CsvKind};
pub use nmap::{parse_nmap_xml, type_from_mac_vendor};
pub use report::{
    ApplyReport, EntityCounts, ImportAction, ImportEntity, ImportOptions, ImportPlan,
    ImportSummary, PlannedItem,
};
pub use stream::{StreamEvent, StreamOptions, StreamReport, StreamSource, DEFAULT_CHUNK};

/// Where an item came from; turns a field name into a located path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceLocation {
    base: String,
    csv_columns: Option<Arc<Vec<String>>>,
}

impl SourceLocation {
    /// A JSON (or XML) item: fields are appended as `.field`.
    pub fn path(base: impl Into<String>) -> Self {
        SourceLocation {
            base: base.into(),
            csv_columns: None,
        }
    }

    /// A CSV row `file:line`: fields become `file:line:column`.
    pub(crate) fn csv(base: String, columns: Arc<Vec<String>>) -> Self {
        SourceLocation {
            base,
            csv_columns: Some(columns),
        }
    }

    /// The item itself.
    pub fn item(&self) -> String {
        self.base.clone()
    }

    /// One field of the item.
    pub fn field(&self, name: &str) -> String {
        match &self.csv_columns {
            None => format!("{}.{name}", self.base),
            Some(cols) => match cols.iter().position(|c| c == name) {
                Some(i) => format!("{}:{}", self.base, i + 1),
                None => self.base.clone(),
            },
        }
    }
}

/// A vendor to import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleVendor {
    /// Where it came from.
    pub location: SourceLocation,
    /// Name (required).
    pub name: String,
}

/// A project to import; `None` fields are left unchanged on update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleProject {
    /// Where it came from.
    pub location: SourceLocation,
    /// Name (the key).
    pub name: String,
    /// Description (`Some("")` clears).
    pub description: Option<String>,
    /// Colour `#rrggbb`, normalised.
    pub color: Option<String>,
}

/// A tag to import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleTag {
    /// Where it came from.
    pub location: SourceLocation,
    /// Normalised name (the key).
    pub name: String,
    /// Colour, normalised.
    pub color: Option<String>,
}

/// A host to import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleHost {
    /// Where it came from.
    pub location: SourceLocation,
    /// Name (the key).
    pub name: String,
    /// Notes (`Some("")` clears).
    pub notes: Option<String>,
    /// Vendor name; must exist or be in the bundle.
    pub vendor_name: Option<String>,
}

/// A range to import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleRange {
    /// Where it came from.
    pub location: SourceLocation,
    /// Name (required to create).
    pub name: Option<String>,
    /// Normalised CIDR (the key).
    pub cidr: String,
    /// Notes (`Some("")` clears).
    pub notes: Option<String>,
}

/// An IP asset to import. `None` means "not provided": an update leaves it alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleAsset {
    /// Where it came from.
    pub location: SourceLocation,
    /// Canonical address (the key).
    pub ip_address: String,
    /// Type (required to create).
    pub asset_type: Option<AssetType>,
    /// Project name; must exist or be in the bundle. Import never clears a project.
    pub project_name: Option<String>,
    /// Host name; must exist or be in the bundle. Import never clears a host.
    pub host_name: Option<String>,
    /// Tags: `None` keeps, `Some` replaces (or merges with `merge_tags`).
    pub tags: Option<Vec<String>>,
    /// Notes: `Some("")` clears.
    pub notes: Option<String>,
    /// Archived flag.
    pub archived: Option<bool>,
    /// Keep a non-empty existing note.
    pub preserve_existing_notes: bool,
    /// Keep the existing type.
    pub preserve_existing_type: bool,
    /// Add the tags to the existing ones instead of replacing them.
    pub merge_tags: bool,
    /// Only create; an existing address (even archived) is left untouched (Nmap).
    pub create_only: bool,
}

impl BundleAsset {
    /// An asset with only its key and location; every other field unset.
    pub fn new(location: SourceLocation, ip_address: String) -> Self {
        BundleAsset {
            location,
            ip_address,
            asset_type: None,
            project_name: None,
            host_name: None,
            tags: None,
            notes: None,
            archived: None,
            preserve_existing_notes: false,
            preserve_existing_type: false,
            merge_tags: false,
            create_only: false,
        }
    }
}

/// Everything one import source delivers, validated field by field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Bundle {
    /// Label of the source (file name, connector name); goes into the audit log.
    pub source: String,
    /// Vendors.
    pub vendors: Vec<BundleVendor>,
    /// Projects.
    pub projects: Vec<BundleProject>,
    /// Tags with colours.
    pub tags: Vec<BundleTag>,
    /// Ranges.
    pub ip_ranges: Vec<BundleRange>,
    /// Hosts.
    pub hosts: Vec<BundleHost>,
    /// IP assets.
    pub ip_assets: Vec<BundleAsset>,
}

/// The last component of a file name (either slash), lower-cased: what the file readers
/// match on (`x/Hosts.CSV` → `hosts.csv`).
pub(crate) fn base_file_name(name: &str) -> String {
    name.rsplit(['/', '\\'])
        .next()
        .unwrap_or(name)
        .to_ascii_lowercase()
}

/// Parses the lenient booleans of the original: true/false, 1/0, yes/no, y/n.
pub(crate) fn parse_bool_text(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "y" => Some(true),
        "false" | "0" | "no" | "n" => Some(false),
        _ => None,
    }
}

/// Lenient boolean text (`true/false`, `1/0`, `yes/no`, `y/n`), as the original accepts.
pub fn parse_bool(s: &str) -> Option<bool> {
    parse_bool_text(s)
}

/// Reads one uploaded or local file by its name: `*.json` (bundle, or the
/// `ip-assets.json`, `hosts.json`, `projects.json`, `vendors.json`, `tags.json` exports), `*.zip` (bundle.zip), `*.xml` (Nmap), or a CSV:
/// one of the known names (`hosts.csv`, `ip-assets.csv`, …), any other `*.csv` by its header
/// row ([`CsvKind::from_header`]). `discovered_at` is used
/// for Nmap notes. A zip is read with the default [`InputLimits`](crate::InputLimits)
/// ([`parse_file_with`] takes others).
///
/// ```
/// let b = ipocket_core::import::parse_file("ip-assets.csv",
///     b"ip_address,type,project_name,host_name,notes,archived\n10.0.0.1,VM,,,,\n", "t").unwrap();
/// assert_eq!(b.ip_assets[0].ip_address, "10.0.0.1");
/// assert!(ipocket_core::import::parse_file("x.txt", b"", "t").is_err());
/// ```
pub fn parse_file(file_name: &str, data: &[u8], discovered_at: &str) -> crate::Result<Bundle> {
    parse_file_with(
        file_name,
        data,
        discovered_at,
        &crate::InputLimits::default(),
    )
}

/// [`parse_file`] with the zip limits of `limits` (an upload is read with the server's).
pub fn parse_file_with(
    file_name: &str,
    data: &[u8],
    discovered_at: &str,
    limits: &crate::InputLimits,
) -> crate::Result<Bundle> {
    let lower = file_name.to_ascii_lowercase();
    if let Some(kind) = JsonKind::from_file_name(&lower) {
        if matches!(kind, JsonKind::Bundle | JsonKind::IpAssets) {
            let mut b = parse_bundle_json(data)?;
            if b.source == "bundle.json" {
                b.source = file_name.to_string();
            }
            return Ok(b);
        }
        parse_json_files(&[JsonFile {
            kind,
            name: file_name,
            data,
        }])
    } else if lower.ends_with(".zip") {
        parse_bundle_zip_with(data, limits)
    } else if lower.ends_with(".xml") {
        parse_nmap_xml(data, discovered_at)
    } else if lower.ends_with(".csv") {
        // A CSV of another name (`my-assets.csv`) is told by its header row.
        let kind = match CsvKind::from_file_name(&lower) {
            Some(kind) => kind,
            None => CsvKind::from_header(data).map_err(|m| {
                crate::Error::Import(crate::ImportErrors(vec![crate::ImportIssue::new(
                    format!("{file_name}:1"),
                    format!("{m}; name the file hosts.csv, ip-assets.csv, projects.csv, vendors.csv or tags.csv"),
                )]))
            })?,
        };
        parse_csv(&[CsvFile {
            kind,
            name: file_name,
            data,
        }])
    } else {
        Err(crate::Error::Import(crate::ImportErrors(vec![crate::ImportIssue::new(
            file_name,
            "unknown file type (expected .json, .zip, .xml or hosts.csv / ip-assets.csv / projects.csv / vendors.csv / tags.csv)",
        )])))
    }
}

/// A synthetic bundle for benchmarks and load tests: `n` IP assets (one in ten
/// IPv6; types, projects, hosts and two tags each, spread evenly), 5 vendors,
/// 50 projects, `n/10` hosts and 20 tags. Every note is `"<note> <i>"`, so a
/// second bundle with another `note` updates every asset.
///
/// ```
/// let b = ipocket_core::parse_bundle_json(&ipocket_core::import::synthetic_bundle_json(100, "x")).unwrap();
/// assert_eq!((b.ip_assets.len(), b.hosts.len(), b.projects.len()), (100, 10, 50));
/// ```
pub fn synthetic_bundle_json(n: usize, note: &str) -> Vec<u8> {
    let mut s = String::with_capacity(n * 160);
    s.push_str(r#"{"app":"ipocket","schema_version":"1","data":{"vendors":["#);
    for v in 0..5 {
        s.push_str(&format!(
            r#"{}{{"name":"vendor-{v}"}}"#,
            if v > 0 { "," } else { "" }
        ));
    }
    s.push_str(r#"],"projects":["#);
    for p in 0..50 {
        s.push_str(&format!(
            r##"{}{{"name":"project-{p}","color":"#1a2b3c"}}"##,
            if p > 0 { "," } else { "" }
        ));
    }
    s.push_str(r#"],"tags":["#);
    for t in 0..20 {
        s.push_str(&format!(
            r##"{}{{"name":"tag-{t}","color":"#aabbcc"}}"##,
            if t > 0 { "," } else { "" }
        ));
    }
    let hosts = (n / 10).max(1);
    s.push_str(r#"],"hosts":["#);
    for h in 0..hosts {
        s.push_str(&format!(
            r#"{}{{"name":"host-{h}","notes":"rack {}","vendor_name":"vendor-{}"}}"#,
            if h > 0 { "," } else { "" },
            h % 40,
            h % 5
        ));
    }
    s.push_str(r#"],"ip_assets":["#);
    let types = ["OS", "BMC", "VM", "VIP", "OTHER"];
    for i in 0..n {
        let ip = if i % 10 == 9 {
            format!("2001:db8::{:x}:{:x}", i >> 16, i & 0xffff)
        } else {
            let v = 0x0a00_0000u32 + i as u32;
            format!(
                "{}.{}.{}.{}",
                v >> 24,
                (v >> 16) & 255,
                (v >> 8) & 255,
                v & 255
            )
        };
        s.push_str(&format!(
            r#"{}{{"ip_address":"{ip}","type":"{}","project_name":"project-{}","host_name":"host-{}","tags":["tag-{}","tag-{}"],"notes":"{note} {i}","archived":false}}"#,
            if i > 0 { "," } else { "" },
            types[i % 5],
            i % 50,
            i % hosts,
            i % 20,
            (i + 7) % 20
        ));
    }
    s.push_str("]}}");
    s.into_bytes()
}
