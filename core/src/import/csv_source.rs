//! CSV import: `hosts.csv`, `ip-assets.csv` (as in the original) plus
//! `projects.csv`, `vendors.csv` and `tags.csv`, all into one [`Bundle`].

use std::collections::HashMap;
use std::sync::Arc;

use super::bundle_json::AssetSink;
use super::host_links::{HostLinks, HostRow};
use super::{
    parse_bool_text, Bundle, BundleAsset, BundleHost, BundleProject, BundleTag, BundleVendor,
    SourceLocation,
};
use crate::csv_cell::unescape_cell;
use crate::error::{Error, ImportErrors, ImportIssue, Result};
use crate::model::{
    canonical_ip, normalize_color, normalize_tag_name, AssetType, DEFAULT_PROJECT_COLOR,
    DEFAULT_TAG_COLOR,
};

/// What a CSV file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CsvKind {
    /// `name,notes,vendor_name[,project_name,os_ip,bmc_ip]`.
    Hosts,
    /// `ip_address,type,project_name,host_name,notes,archived[,tags,created_at,updated_at]`.
    IpAssets,
    /// `name[,description,color]`.
    Projects,
    /// `name`.
    Vendors,
    /// `name[,color]`.
    Tags,
}

impl CsvKind {
    /// Guesses the kind from a file name (`hosts.csv`, `ip-assets.csv`, `ip_assets.csv`, …).
    pub fn from_file_name(name: &str) -> Option<CsvKind> {
        Some(match super::base_file_name(name).as_str() {
            "hosts.csv" => CsvKind::Hosts,
            "ip-assets.csv" | "ip_assets.csv" => CsvKind::IpAssets,
            "projects.csv" => CsvKind::Projects,
            "vendors.csv" => CsvKind::Vendors,
            "tags.csv" => CsvKind::Tags,
            _ => return None,
        })
    }

    /// Every kind, in the order a detection lists candidates.
    pub const ALL: [CsvKind; 5] = [
        CsvKind::Hosts,
        CsvKind::IpAssets,
        CsvKind::Projects,
        CsvKind::Vendors,
        CsvKind::Tags,
    ];

    /// The file name the readers and exports use for this kind (`ip-assets.csv`).
    pub fn file_name(self) -> &'static str {
        match self {
            CsvKind::Hosts => "hosts.csv",
            CsvKind::IpAssets => "ip-assets.csv",
            CsvKind::Projects => "projects.csv",
            CsvKind::Vendors => "vendors.csv",
            CsvKind::Tags => "tags.csv",
        }
    }

    /// Tells the kind from the header row of an unnamed CSV (an upload sent as `text/csv`):
    /// the one kind whose required columns are all there and that knows every column.
    /// A header that fits several kinds (`name` alone: projects, vendors or tags) or none is
    /// an error naming the candidates, so the caller can ask for the file name instead.
    ///
    /// ```
    /// use ipocket_core::import::CsvKind;
    /// assert_eq!(CsvKind::from_header(b"ip_address,type,project_name,host_name,notes,archived\n"), Ok(CsvKind::IpAssets));
    /// assert_eq!(CsvKind::from_header(b"name,notes,vendor_name\nnode-01,,\n"), Ok(CsvKind::Hosts));
    /// assert_eq!(CsvKind::from_header(b"name,description\n"), Ok(CsvKind::Projects));
    /// let e = CsvKind::from_header(b"name,color\n").unwrap_err();
    /// assert_eq!(e, "the header row fits projects.csv and tags.csv");
    /// ```
    pub fn from_header(data: &[u8]) -> std::result::Result<CsvKind, String> {
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(true)
            .from_reader(data);
        let header = rdr
            .headers()
            .map_err(|e| format!("the header row is not readable CSV: {e}"))?;
        let names: Vec<&str> = header
            .iter()
            .map(|h| h.trim().trim_start_matches('\u{feff}'))
            .collect();
        let fits: Vec<CsvKind> = CsvKind::ALL
            .into_iter()
            .filter(|k| {
                let (required, optional) = k.columns();
                required.iter().all(|c| names.contains(c))
                    && names
                        .iter()
                        .all(|n| required.contains(n) || optional.contains(n))
            })
            .collect();
        match fits.as_slice() {
            [one] => Ok(*one),
            [] => Err(format!(
                "the header row ({}) fits none of hosts.csv, ip-assets.csv, projects.csv, vendors.csv, tags.csv",
                names.join(",")
            )),
            several => {
                let names: Vec<&str> = several.iter().map(|k| k.file_name()).collect();
                let (last, rest) = names.split_last().unwrap_or((&"", &[]));
                Err(format!(
                    "the header row fits {} and {last}",
                    rest.join(", ")
                ))
            }
        }
    }

    fn columns(self) -> (&'static [&'static str], &'static [&'static str]) {
        match self {
            CsvKind::Hosts => (
                &["name", "notes", "vendor_name"],
                &["project_name", "os_ip", "bmc_ip"],
            ),
            CsvKind::IpAssets => (
                &[
                    "ip_address",
                    "type",
                    "project_name",
                    "host_name",
                    "notes",
                    "archived",
                ],
                &["tags", "created_at", "updated_at"],
            ),
            CsvKind::Projects => (&["name"], &["description", "color"]),
            CsvKind::Vendors => (&["name"], &[]),
            CsvKind::Tags => (&["name"], &["color"]),
        }
    }
}

/// One CSV input.
#[derive(Debug, Clone, Copy)]
pub struct CsvFile<'a> {
    /// What it holds.
    pub kind: CsvKind,
    /// Name used in error locations (`hosts.csv`).
    pub name: &'a str,
    /// The bytes (UTF-8).
    pub data: &'a [u8],
}

struct Row<'a> {
    rec: &'a csv::StringRecord,
    idx: &'a HashMap<String, usize>,
    loc: SourceLocation,
}

impl Row<'_> {
    /// A cell, trimmed, with the quote our exports put before a formula-like value taken off.
    fn get(&self, col: &str) -> Option<&str> {
        self.idx
            .get(col)
            .and_then(|i| self.rec.get(*i))
            .map(|c| unescape_cell(c.trim()))
    }
    fn non_empty(&self, col: &str) -> Option<String> {
        self.get(col).filter(|s| !s.is_empty()).map(str::to_string)
    }
}

fn msg(e: Error) -> String {
    match e {
        Error::Invalid { message, .. } => message,
        other => other.to_string(),
    }
}

/// Reads every file; all errors of all files come back together.
///
/// ```
/// use ipocket_core::import::{parse_csv, CsvFile, CsvKind};
/// let hosts = b"name,notes,vendr\nnode-01,,HPE\n";
/// let err = parse_csv(&[CsvFile { kind: CsvKind::Hosts, name: "hosts.csv", data: hosts }]).unwrap_err();
/// assert!(err.to_string().contains(r#"hosts.csv:1:3: unknown column "vendr""#));
/// ```
pub fn parse_csv(files: &[CsvFile<'_>]) -> Result<Bundle> {
    let mut errors = Vec::new();
    let mut b = Bundle {
        source: files.iter().map(|f| f.name).collect::<Vec<_>>().join("+"),
        ..Default::default()
    };
    // OS / BMC addresses of hosts.csv, added unless ip-assets.csv has the address
    let mut links = HostLinks::default();

    for f in files {
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(false)
            .from_reader(f.data);
        let Some((idx, cols)) = read_header(f.name, f.kind, &mut rdr, &mut errors) else {
            continue;
        };
        let mut rec = csv::StringRecord::new();
        loop {
            match rdr.read_record(&mut rec) {
                Ok(false) => break,
                Ok(true) => {}
                Err(e) => {
                    errors.push(csv_error(f.name, &e));
                    if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                        break;
                    }
                    continue;
                }
            }
            let line = rec.position().map(|p| p.line()).unwrap_or(0);
            let row = Row {
                rec: &rec,
                idx: &idx,
                loc: SourceLocation::csv(format!("{}:{line}", f.name), cols.clone()),
            };
            let err = |errors: &mut Vec<ImportIssue>, col: &str, m: String| {
                errors.push(ImportIssue::new(row.loc.field(col), m))
            };
            match f.kind {
                CsvKind::Vendors => match row.non_empty("name") {
                    Some(name) => b.vendors.push(BundleVendor {
                        location: row.loc.clone(),
                        name,
                    }),
                    None => err(&mut errors, "name", "name is required".into()),
                },
                CsvKind::Projects => {
                    let color = row
                        .get("color")
                        .map(|c| normalize_color(c, DEFAULT_PROJECT_COLOR));
                    let color = match color {
                        Some(Err(e)) => {
                            err(&mut errors, "color", msg(e));
                            None
                        }
                        Some(Ok(c)) => Some(c),
                        None => None,
                    };
                    match row.non_empty("name") {
                        Some(name) => b.projects.push(BundleProject {
                            location: row.loc.clone(),
                            name,
                            description: row.get("description").map(str::to_string),
                            color,
                        }),
                        None => err(&mut errors, "name", "name is required".into()),
                    }
                }
                CsvKind::Tags => {
                    let color = match row
                        .get("color")
                        .map(|c| normalize_color(c, DEFAULT_TAG_COLOR))
                    {
                        Some(Err(e)) => {
                            err(&mut errors, "color", msg(e));
                            None
                        }
                        Some(Ok(c)) => Some(c),
                        None => None,
                    };
                    match row.get("name").map(normalize_tag_name) {
                        Some(Ok(name)) => b.tags.push(BundleTag {
                            location: row.loc.clone(),
                            name,
                            color,
                        }),
                        Some(Err(e)) => err(&mut errors, "name", msg(e)),
                        None => err(&mut errors, "name", "name is required".into()),
                    }
                }
                CsvKind::Hosts => {
                    let Some(name) = row.non_empty("name") else {
                        err(&mut errors, "name", "name is required".into());
                        continue;
                    };
                    let vendor_name = row.non_empty("vendor_name");
                    links.host(
                        &HostRow {
                            name: &name,
                            location: &row.loc,
                            vendor: vendor_name.as_deref(),
                            project: row.get("project_name").filter(|s| !s.is_empty()),
                            os_ip: row.get("os_ip").filter(|s| !s.is_empty()),
                            bmc_ip: row.get("bmc_ip").filter(|s| !s.is_empty()),
                        },
                        &mut errors,
                    );
                    b.hosts.push(BundleHost {
                        location: row.loc.clone(),
                        name,
                        notes: row.get("notes").map(str::to_string),
                        vendor_name,
                    });
                }
                CsvKind::IpAssets => {
                    if let Some(a) = asset_row(&row, &mut errors) {
                        if let Some(p) = &a.project_name {
                            links.project_ref(p, &row.loc);
                        }
                        b.ip_assets.push(a);
                    }
                }
            }
        }
    }

    links.finish(&mut b);
    if errors.is_empty() {
        Ok(b)
    } else {
        Err(Error::Import(ImportErrors(errors)))
    }
}

/// Reads and checks the header line; `None` (with the errors) when it is unusable.
#[allow(clippy::type_complexity)]
fn read_header<R: std::io::Read>(
    name: &str,
    kind: CsvKind,
    rdr: &mut csv::Reader<R>,
    errors: &mut Vec<ImportIssue>,
) -> Option<(HashMap<String, usize>, Arc<Vec<String>>)> {
    let header = match rdr.headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            errors.push(csv_error(name, &e));
            return None;
        }
    };
    let (required, optional) = kind.columns();
    let names: Vec<String> = header
        .iter()
        .map(|h| h.trim().trim_start_matches('\u{feff}').to_string())
        .collect();
    let mut bad_header = false;
    let mut idx = HashMap::new();
    for (i, n) in names.iter().enumerate() {
        if !required.contains(&n.as_str()) && !optional.contains(&n.as_str()) {
            errors.push(ImportIssue::new(
                format!("{}:1:{}", name, i + 1),
                format!("unknown column {n:?}"),
            ));
            bad_header = true;
        } else if idx.insert(n.clone(), i).is_some() {
            errors.push(ImportIssue::new(
                format!("{}:1:{}", name, i + 1),
                format!("duplicate column {n:?}"),
            ));
            bad_header = true;
        }
    }
    let missing: Vec<&str> = required
        .iter()
        .copied()
        .filter(|c| !idx.contains_key(*c))
        .collect();
    if !missing.is_empty() {
        errors.push(ImportIssue::new(
            format!("{}:1", name),
            format!("missing required columns: {}", missing.join(", ")),
        ));
        bad_header = true;
    }
    if bad_header {
        return None;
    }
    Some((idx, Arc::new(names)))
}

/// One row of `ip-assets.csv`; its errors are pushed.
fn asset_row(row: &Row<'_>, errors: &mut Vec<ImportIssue>) -> Option<BundleAsset> {
    let err = |errors: &mut Vec<ImportIssue>, col: &str, m: String| {
        errors.push(ImportIssue::new(row.loc.field(col), m))
    };
    let ip = match row.get("ip_address").map(canonical_ip) {
        Some(Ok((_, c))) => Some(c),
        Some(Err(e)) => {
            err(errors, "ip_address", msg(e));
            None
        }
        None => None,
    };
    let asset_type = match row.non_empty("type").map(|t| t.parse::<AssetType>()) {
        Some(Ok(t)) => Some(t),
        Some(Err(e)) => {
            err(errors, "type", msg(e));
            None
        }
        None => None,
    };
    let archived = match row.non_empty("archived") {
        None => None,
        Some(s) => match parse_bool_text(&s) {
            Some(v) => Some(v),
            None => {
                err(
                    errors,
                    "archived",
                    format!("expected true or false, found {s:?}"),
                );
                None
            }
        },
    };
    let tags = match row.get("tags") {
        None => None,
        Some(cell) => {
            let mut v = Vec::new();
            for part in cell.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                match normalize_tag_name(part) {
                    Ok(n) if !v.contains(&n) => v.push(n),
                    Ok(_) => {}
                    Err(e) => err(errors, "tags", msg(e)),
                }
            }
            v.sort();
            Some(v)
        }
    };
    let ip = ip?;
    let mut a = BundleAsset::new(row.loc.clone(), ip);
    a.asset_type = asset_type;
    a.project_name = row.non_empty("project_name");
    a.host_name = row.non_empty("host_name");
    // CSV always provides notes: an empty cell clears them.
    a.notes = Some(row.get("notes").unwrap_or("").to_string());
    a.archived = archived;
    a.tags = tags;
    Some(a)
}

/// Reads an `ip-assets.csv` as a stream, handing each row's asset to `sink`
/// (projects named are left to the planner's `create_missing_projects`).
/// Returns the file's errors.
pub(crate) fn stream_asset_csv<R: std::io::Read>(
    name: &str,
    input: R,
    sink: &mut dyn AssetSink,
) -> Vec<ImportIssue> {
    let mut errors = Vec::new();
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(input);
    let Some((idx, cols)) = read_header(name, CsvKind::IpAssets, &mut rdr, &mut errors) else {
        return errors;
    };
    let header = Bundle::default();
    let mut rec = csv::StringRecord::new();
    loop {
        match rdr.read_record(&mut rec) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                errors.push(csv_error(name, &e));
                if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                    break;
                }
                continue;
            }
        }
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        let row = Row {
            rec: &rec,
            idx: &idx,
            loc: SourceLocation::csv(format!("{name}:{line}"), cols.clone()),
        };
        if let Some(a) = asset_row(&row, &mut errors) {
            if !sink.asset(&header, a, errors.is_empty()) {
                break;
            }
        }
    }
    errors
}

fn csv_error(name: &str, e: &csv::Error) -> ImportIssue {
    let loc = match e.position() {
        Some(p) => format!("{name}:{}", p.line()),
        None => name.to_string(),
    };
    let m = match e.kind() {
        csv::ErrorKind::Utf8 { .. } => "CSV is not valid UTF-8".to_string(),
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("expected {expected_len} fields, found {len}"),
        _ => e.to_string(),
    };
    ImportIssue::new(loc, m)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(kind: CsvKind, name: &str, data: &str) -> Result<Bundle> {
        parse_csv(&[CsvFile {
            kind,
            name,
            data: data.as_bytes(),
        }])
    }

    fn errs(r: Result<Bundle>) -> Vec<String> {
        match r {
            Err(Error::Import(ImportErrors(v))) => v.into_iter().map(|i| i.to_string()).collect(),
            other => panic!("expected errors, got {other:?}"),
        }
    }

    #[test]
    fn the_header_row_tells_an_unnamed_csv() {
        let kind = |h: &str| CsvKind::from_header(h.as_bytes());
        assert_eq!(
            kind("\u{feff}ip_address,type,project_name,host_name,notes,archived,tags\n"),
            Ok(CsvKind::IpAssets)
        );
        assert_eq!(kind("name,notes,vendor_name,os_ip\n"), Ok(CsvKind::Hosts));
        assert_eq!(kind("name,description,color\n"), Ok(CsvKind::Projects));
        assert_eq!(
            kind("name\n"),
            Err("the header row fits projects.csv, vendors.csv and tags.csv".into())
        );
        let none = kind("ip,kind\n").unwrap_err();
        assert!(
            none.starts_with("the header row (ip,kind) fits none of hosts.csv"),
            "{none}"
        );
        // Any other *.csv name is read by its header; an unclear one says how to name it.
        let b = crate::import::parse_file(
            "upload.csv",
            b"ip_address,type,project_name,host_name,notes,archived\n10.0.0.1,VM,,,,\n",
            "t",
        )
        .unwrap();
        assert_eq!(b.ip_assets[0].ip_address, "10.0.0.1");
        let e = errs(crate::import::parse_file("mine.csv", b"name\nx\n", "t"));
        assert_eq!(e, ["mine.csv:1: the header row fits projects.csv, vendors.csv and tags.csv; name the file hosts.csv, ip-assets.csv, projects.csv, vendors.csv or tags.csv"]);
    }

    #[test]
    fn original_samples_parse() {
        let b = parse_csv(&[
            CsvFile { kind: CsvKind::Hosts, name: "hosts.csv", data: b"name,notes,vendor_name,project_name,os_ip,bmc_ip\nnode-01,Rack 1,HPE,Core,10.0.0.11,10.0.0.12\n" },
            CsvFile { kind: CsvKind::IpAssets, name: "ip-assets.csv", data: b"ip_address,type,project_name,host_name,tags,notes,archived\n10.0.0.10,VM,Core,node-01,prod,web server,false\n" },
        ])
        .unwrap();
        assert_eq!(b.vendors.len(), 1);
        assert_eq!(b.projects.len(), 1);
        assert_eq!(b.hosts[0].notes.as_deref(), Some("Rack 1"));
        let ips: Vec<_> = b
            .ip_assets
            .iter()
            .map(|a| (a.ip_address.as_str(), a.asset_type))
            .collect();
        assert_eq!(
            ips,
            vec![
                ("10.0.0.10", Some(AssetType::Vm)),
                ("10.0.0.11", Some(AssetType::Os)),
                ("10.0.0.12", Some(AssetType::Bmc))
            ]
        );
        assert_eq!(b.ip_assets[1].host_name.as_deref(), Some("node-01"));
    }

    #[test]
    fn all_row_errors_with_line_and_column() {
        let e = errs(one(
            CsvKind::IpAssets,
            "ip-assets.csv",
            "ip_address,type,project_name,host_name,notes,archived\n10.0.0.1,VM,,,,\n10.0.0.256,VM,,,,\n10.0.0.3,vm,,,,maybe\n",
        ));
        assert_eq!(
            e,
            vec![
                "ip-assets.csv:3:1: invalid IP address \"10.0.0.256\"",
                "ip-assets.csv:4:2: invalid asset type \"vm\" (use OS, BMC, VM, VIP, OTHER)",
                "ip-assets.csv:4:6: expected true or false, found \"maybe\"",
            ]
        );
    }

    #[test]
    fn header_problems() {
        let e = errs(one(CsvKind::Hosts, "hosts.csv", "name,vendr\nx,y\n"));
        assert_eq!(
            e,
            vec![
                "hosts.csv:1:2: unknown column \"vendr\"",
                "hosts.csv:1: missing required columns: notes, vendor_name"
            ]
        );
    }

    #[test]
    fn tags_column_absent_keeps_present_empty_clears_and_notes_always_provided() {
        let b = one(
            CsvKind::IpAssets,
            "ip-assets.csv",
            "ip_address,type,project_name,host_name,notes,archived\n10.0.0.1,VM,,,,\n",
        )
        .unwrap();
        assert_eq!(b.ip_assets[0].tags, None);
        assert_eq!(b.ip_assets[0].notes.as_deref(), Some(""));
        let b = one(
            CsvKind::IpAssets,
            "ip-assets.csv",
            "ip_address,type,project_name,host_name,notes,archived,tags\n10.0.0.1,VM,,,,,\n",
        )
        .unwrap();
        assert_eq!(b.ip_assets[0].tags, Some(vec![]));
    }

    #[test]
    fn bad_utf8_and_ragged_rows_are_located() {
        let e = errs(parse_csv(&[CsvFile {
            kind: CsvKind::Vendors,
            name: "vendors.csv",
            data: b"name\nok\n\xff\xfe\n",
        }]));
        assert_eq!(e, vec!["vendors.csv:3: CSV is not valid UTF-8"]);
        let e = errs(one(CsvKind::Vendors, "vendors.csv", "name\na,b\n"));
        assert_eq!(e, vec!["vendors.csv:2: expected 1 fields, found 2"]);
    }

    #[test]
    fn kinds_from_file_names() {
        assert_eq!(
            CsvKind::from_file_name("x/ip_assets.csv"),
            Some(CsvKind::IpAssets)
        );
        assert_eq!(CsvKind::from_file_name("HOSTS.csv"), Some(CsvKind::Hosts));
        assert_eq!(CsvKind::from_file_name("other.csv"), None);
    }
}
