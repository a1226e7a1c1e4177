//! Bundle JSON (`schema_version` "1") and the ip-assets JSON export, with
//! every error located by its JSON path.

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::host_links::{HostLinks, HostRow};
use super::{
    parse_bool_text, Bundle, BundleAsset, BundleHost, BundleProject, BundleRange, BundleTag,
    BundleVendor, SourceLocation,
};
use crate::error::{Error, ImportErrors, ImportIssue, Result};
use crate::model::{
    canonical_ip, normalize_color, normalize_tag_name, AssetType, DEFAULT_PROJECT_COLOR,
    DEFAULT_TAG_COLOR,
};
use crate::ranges::normalize_cidr;

struct Reader<'a> {
    obj: &'a Map<String, Value>,
    loc: SourceLocation,
    errors: &'a mut Vec<ImportIssue>,
}

impl Reader<'_> {
    fn check_keys(&mut self, known: &[&str]) {
        for k in self.obj.keys() {
            if !known.contains(&k.as_str()) {
                self.errors.push(ImportIssue::new(
                    self.loc.field(k),
                    format!("unknown field {k:?}"),
                ));
            }
        }
    }

    /// A string field; `null` and absent are `None`; numbers are an error.
    fn string(&mut self, key: &str) -> Option<String> {
        match self.obj.get(key) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(other) => {
                self.errors.push(ImportIssue::new(
                    self.loc.field(key),
                    format!("expected a string, found {}", kind(other)),
                ));
                None
            }
        }
    }

    fn required(&mut self, key: &str) -> Option<String> {
        let v = self.string(key);
        match v.as_deref().map(str::trim) {
            Some(t) if !t.is_empty() => Some(t.to_string()),
            _ if self
                .obj
                .get(key)
                .is_some_and(|v| !v.is_string() && !v.is_null()) =>
            {
                None
            }
            _ => {
                self.errors.push(ImportIssue::new(
                    self.loc.field(key),
                    format!("{key} is required"),
                ));
                None
            }
        }
    }

    fn optional_name(&mut self, key: &str) -> Option<String> {
        self.string(key)
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    }

    fn boolean(&mut self, key: &str) -> Option<bool> {
        match self.obj.get(key) {
            None | Some(Value::Null) => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(Value::Number(n)) if n.as_i64() == Some(0) || n.as_i64() == Some(1) => {
                Some(n.as_i64() == Some(1))
            }
            Some(Value::String(s)) if parse_bool_text(s).is_some() => parse_bool_text(s),
            Some(other) => {
                self.errors.push(ImportIssue::new(
                    self.loc.field(key),
                    format!("expected a boolean, found {other}"),
                ));
                None
            }
        }
    }

    fn color(&mut self, key: &str, default: &str) -> Option<String> {
        let c = self.string(key)?;
        match normalize_color(&c, default) {
            Ok(c) => Some(c),
            Err(e) => {
                self.push_err(key, e);
                None
            }
        }
    }

    fn push_err(&mut self, key: &str, e: Error) {
        let msg = match e {
            Error::Invalid { message, .. } => message,
            other => other.to_string(),
        };
        self.errors.push(ImportIssue::new(self.loc.field(key), msg));
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

const ASSET_KEYS: &[&str] = &[
    "ip_address",
    "type",
    "project_name",
    "host_name",
    "tags",
    "notes",
    "archived",
    "preserve_existing_notes",
    "preserve_existing_type",
    "merge_tags",
    "notes_provided",
    "created_at",
    "updated_at",
    "id",
];

pub(crate) fn read_asset(
    o: &Map<String, Value>,
    loc: SourceLocation,
    errors: &mut Vec<ImportIssue>,
) -> Option<BundleAsset> {
    let mut r = Reader {
        obj: o,
        loc: loc.clone(),
        errors,
    };
    r.check_keys(ASSET_KEYS);
    let ip = r
        .required("ip_address")
        .and_then(|s| match canonical_ip(&s) {
            Ok((_, c)) => Some(c),
            Err(e) => {
                r.push_err("ip_address", e);
                None
            }
        });
    let asset_type = r
        .string("type")
        .and_then(|s| match s.trim().parse::<AssetType>() {
            Ok(t) => Some(t),
            Err(e) => {
                r.push_err("type", e);
                None
            }
        });
    let tags = match o.get("tags") {
        None | Some(Value::Null) => None,
        Some(Value::Array(list)) => {
            let mut names = Vec::new();
            for (i, t) in list.iter().enumerate() {
                match t.as_str().map(normalize_tag_name) {
                    Some(Ok(n)) => {
                        if !names.contains(&n) {
                            names.push(n)
                        }
                    }
                    Some(Err(e)) => r.push_err(&format!("tags[{i}]"), e),
                    None => r.errors.push(ImportIssue::new(
                        loc.field(&format!("tags[{i}]")),
                        format!("expected a string, found {}", kind(t)),
                    )),
                }
            }
            names.sort();
            Some(names)
        }
        Some(Value::String(s)) => {
            let mut names = Vec::new();
            for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                match normalize_tag_name(part) {
                    Ok(n) if !names.contains(&n) => names.push(n),
                    Ok(_) => {}
                    Err(e) => r.push_err("tags", e),
                }
            }
            names.sort();
            Some(names)
        }
        Some(other) => {
            r.errors.push(ImportIssue::new(
                loc.field("tags"),
                format!("expected an array of tag names, found {}", kind(other)),
            ));
            None
        }
    };
    let notes = if o.contains_key("notes") {
        Some(r.string("notes").unwrap_or_default())
    } else {
        None
    };
    let mut a = BundleAsset::new(loc, ip?);
    a.asset_type = asset_type;
    a.project_name = r.optional_name("project_name");
    a.host_name = r.optional_name("host_name");
    a.tags = tags;
    a.notes = notes;
    a.archived = r.boolean("archived");
    a.preserve_existing_notes = r.boolean("preserve_existing_notes") == Some(true);
    a.preserve_existing_type = r.boolean("preserve_existing_type") == Some(true);
    a.merge_tags = r.boolean("merge_tags") == Some(true);
    Some(a)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Section {
    Vendors,
    Projects,
    Tags,
    IpRanges,
    Hosts,
    /// A `hosts.json` export: hosts with their project and OS / BMC addresses.
    HostsFile,
    IpAssets,
}

impl Section {
    fn from_key(k: &str) -> Option<Self> {
        Some(match k {
            "vendors" => Section::Vendors,
            "projects" => Section::Projects,
            "tags" => Section::Tags,
            "ip_ranges" => Section::IpRanges,
            "hosts" => Section::Hosts,
            "ip_assets" => Section::IpAssets,
            _ => return None,
        })
    }
}

/// Reads one object of a section into the bundle.
fn read_item(section: Section, o: &Map<String, Value>, loc: SourceLocation, ctx: &mut Ctx<'_>) {
    let (bundle, errors) = (&mut *ctx.bundle, &mut *ctx.errors);
    match section {
        Section::Vendors => {
            let mut r = Reader {
                obj: o,
                loc: loc.clone(),
                errors,
            };
            r.check_keys(&["name"]);
            if let Some(name) = r.required("name") {
                bundle.vendors.push(BundleVendor {
                    location: loc,
                    name,
                });
            }
        }
        Section::Projects => {
            let mut r = Reader {
                obj: o,
                loc: loc.clone(),
                errors,
            };
            r.check_keys(&["name", "description", "color"]);
            let name = r.required("name");
            let description = r.string("description");
            let color = r.color("color", DEFAULT_PROJECT_COLOR);
            if let Some(name) = name {
                bundle.projects.push(BundleProject {
                    location: loc,
                    name,
                    description,
                    color,
                });
            }
        }
        Section::Tags => {
            let mut r = Reader {
                obj: o,
                loc: loc.clone(),
                errors,
            };
            r.check_keys(&["name", "color"]);
            let name = r
                .required("name")
                .and_then(|n| match normalize_tag_name(&n) {
                    Ok(n) => Some(n),
                    Err(e) => {
                        r.push_err("name", e);
                        None
                    }
                });
            let color = r.color("color", DEFAULT_TAG_COLOR);
            if let Some(name) = name {
                bundle.tags.push(BundleTag {
                    location: loc,
                    name,
                    color,
                });
            }
        }
        Section::IpRanges => {
            let mut r = Reader {
                obj: o,
                loc: loc.clone(),
                errors,
            };
            r.check_keys(&["name", "cidr", "notes"]);
            let name = r.optional_name("name");
            let notes = r.string("notes");
            let cidr = r.required("cidr").and_then(|c| match normalize_cidr(&c) {
                Ok(n) => Some(n.to_string()),
                Err(e) => {
                    r.push_err("cidr", e);
                    None
                }
            });
            if let Some(cidr) = cidr {
                bundle.ip_ranges.push(BundleRange {
                    location: loc,
                    name,
                    cidr,
                    notes,
                });
            }
        }
        Section::Hosts | Section::HostsFile => {
            let mut r = Reader {
                obj: o,
                loc: loc.clone(),
                errors,
            };
            // project_name / os_ip / bmc_ip are exported for people. In a bundle the
            // assets section carries those links, so they are accepted and ignored; in
            // `hosts.json` they link the host as `hosts.csv` does.
            r.check_keys(&[
                "name",
                "notes",
                "vendor_name",
                "project_name",
                "os_ip",
                "bmc_ip",
            ]);
            let name = r.required("name");
            let notes = r.string("notes");
            let vendor_name = r.optional_name("vendor_name");
            let links = (section == Section::HostsFile).then(|| {
                (
                    r.optional_name("project_name"),
                    r.optional_name("os_ip"),
                    r.optional_name("bmc_ip"),
                )
            });
            if let Some(name) = name {
                if let Some((project, os_ip, bmc_ip)) = links {
                    ctx.links.host(
                        &HostRow {
                            name: &name,
                            location: &loc,
                            vendor: vendor_name.as_deref(),
                            project: project.as_deref(),
                            os_ip: os_ip.as_deref(),
                            bmc_ip: bmc_ip.as_deref(),
                        },
                        r.errors,
                    );
                }
                bundle.hosts.push(BundleHost {
                    location: loc,
                    name,
                    notes,
                    vendor_name,
                });
            }
        }
        Section::IpAssets => {
            if let Some(a) = read_asset(o, loc, errors) {
                bundle.ip_assets.push(a);
            }
        }
    }
}

// Streaming reader: the document is walked with serde visitors and only one
// item at a time becomes a `Value`, so a large bundle never exists as a tree.

struct Ctx<'b> {
    bundle: &'b mut Bundle,
    errors: &'b mut Vec<ImportIssue>,
    links: &'b mut HostLinks,
    sink: Option<&'b mut dyn AssetSink>,
    assets_only: bool,
}

impl Ctx<'_> {
    fn reborrow(&mut self) -> Ctx<'_> {
        Ctx {
            bundle: &mut *self.bundle,
            errors: &mut *self.errors,
            links: &mut *self.links,
            // an explicit coercion: the trait object's lifetime shortens with the borrow
            sink: match &mut self.sink {
                Some(s) => Some(&mut **s as &mut dyn AssetSink),
                None => None,
            },
            assets_only: self.assets_only,
        }
    }
}

/// What a position in the document expects; anything else is recorded as a located error.
trait Shape<'de>: Sized {
    fn path(&self) -> String;
    fn errors(&mut self) -> &mut Vec<ImportIssue>;
    fn expected(&self) -> &'static str;
    fn wrong(mut self, found: &str) {
        let (p, e) = (self.path(), self.expected());
        self.errors()
            .push(ImportIssue::new(p, format!("expected {e}, found {found}")));
    }
    fn null(self) {
        self.wrong("null")
    }
    fn map<A: MapAccess<'de>>(self, mut m: A) -> std::result::Result<(), A::Error> {
        while m.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        self.wrong("an object");
        Ok(())
    }
    fn seq<A: SeqAccess<'de>>(self, mut s: A) -> std::result::Result<(), A::Error> {
        while s.next_element::<IgnoredAny>()?.is_some() {}
        self.wrong("an array");
        Ok(())
    }
}

struct V<S>(S);

impl<'de, S: Shape<'de>> Visitor<'de> for V<S> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0.expected())
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> std::result::Result<(), E> {
        self.0.wrong("a boolean");
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> std::result::Result<(), E> {
        self.0.wrong("a number");
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> std::result::Result<(), E> {
        self.0.wrong("a number");
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> std::result::Result<(), E> {
        self.0.wrong("a number");
        Ok(())
    }
    fn visit_str<E: de::Error>(self, _: &str) -> std::result::Result<(), E> {
        self.0.wrong("a string");
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> std::result::Result<(), E> {
        self.0.null();
        Ok(())
    }
    fn visit_none<E: de::Error>(self) -> std::result::Result<(), E> {
        self.0.null();
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, s: A) -> std::result::Result<(), A::Error> {
        self.0.seq(s)
    }
    fn visit_map<A: MapAccess<'de>>(self, m: A) -> std::result::Result<(), A::Error> {
        self.0.map(m)
    }
}

impl<'de, S: Shape<'de>> DeserializeSeed<'de> for V<S> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

/// The whole document: a bundle object, or a top-level array of one section.
struct RootShape<'b> {
    ctx: Ctx<'b>,
    kind: JsonKind,
    /// Path prefix of top-level array items (`hosts.json` → `hosts.json[3]`).
    prefix: String,
}

impl<'de> Shape<'de> for RootShape<'_> {
    fn path(&self) -> String {
        "(root)".into()
    }
    fn errors(&mut self) -> &mut Vec<ImportIssue> {
        self.ctx.errors
    }
    fn expected(&self) -> &'static str {
        match self.kind {
            JsonKind::Bundle => "a bundle object or an array of IP assets",
            JsonKind::IpAssets => "an array of IP assets",
            JsonKind::Hosts => "an array of hosts",
            JsonKind::Projects => "an array of projects",
            JsonKind::Vendors => "an array of vendors",
            JsonKind::Tags => "an array of tags",
        }
    }
    fn seq<A: SeqAccess<'de>>(self, s: A) -> std::result::Result<(), A::Error> {
        if self.kind == JsonKind::Bundle {
            self.ctx.bundle.source = "ip-assets.json".into();
        }
        let section = match self.kind {
            JsonKind::Bundle | JsonKind::IpAssets => Section::IpAssets,
            JsonKind::Hosts => Section::HostsFile,
            JsonKind::Projects => Section::Projects,
            JsonKind::Vendors => Section::Vendors,
            JsonKind::Tags => Section::Tags,
        };
        SectionShape {
            section,
            path: self.prefix,
            ctx: self.ctx,
        }
        .seq(s)
    }
    fn map<A: MapAccess<'de>>(mut self, mut m: A) -> std::result::Result<(), A::Error> {
        if self.kind != JsonKind::Bundle {
            while m.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            self.wrong("an object");
            return Ok(());
        }
        let (mut version_ok, mut data_seen) = (None::<String>, false);
        while let Some(k) = m.next_key::<String>()? {
            match k.as_str() {
                "app" | "exported_at" => {
                    m.next_value::<IgnoredAny>()?;
                }
                "schema_version" => {
                    let v: Value = m.next_value()?;
                    version_ok = Some(if v == Value::String("1".into()) {
                        String::new()
                    } else {
                        v.to_string()
                    });
                }
                "data" => {
                    data_seen = true;
                    m.next_value_seed(V(DataShape(self.ctx.reborrow())))?;
                }
                _ => {
                    m.next_value::<IgnoredAny>()?;
                    self.ctx
                        .errors
                        .push(ImportIssue::new(k.clone(), format!("unknown field {k:?}")));
                }
            }
        }
        match version_ok.as_deref() {
            Some("") => {}
            other => self.ctx.errors.push(ImportIssue::new(
                "schema_version",
                format!(
                    "unsupported schema_version {} (expected the string \"1\")",
                    other.unwrap_or("(missing)")
                ),
            )),
        }
        if !data_seen {
            self.ctx
                .errors
                .push(ImportIssue::new("data", "data is required"));
        }
        Ok(())
    }
}

struct DataShape<'b>(Ctx<'b>);

impl<'de> Shape<'de> for DataShape<'_> {
    fn path(&self) -> String {
        "data".into()
    }
    fn errors(&mut self) -> &mut Vec<ImportIssue> {
        self.0.errors
    }
    fn expected(&self) -> &'static str {
        "an object"
    }
    fn map<A: MapAccess<'de>>(mut self, mut m: A) -> std::result::Result<(), A::Error> {
        while let Some(k) = m.next_key::<String>()? {
            match Section::from_key(&k) {
                // the second pass of a streamed import reads only the assets
                Some(s) if self.0.assets_only && s != Section::IpAssets => {
                    m.next_value::<IgnoredAny>()?;
                }
                Some(section) => {
                    let path = format!("data.{k}");
                    m.next_value_seed(V(SectionShape {
                        section,
                        path,
                        ctx: self.0.reborrow(),
                    }))?;
                }
                None => {
                    m.next_value::<IgnoredAny>()?;
                    self.0.errors.push(ImportIssue::new(
                        format!("data.{k}"),
                        format!("unknown section {k:?}"),
                    ));
                }
            }
        }
        Ok(())
    }
}

struct SectionShape<'b> {
    section: Section,
    path: String,
    ctx: Ctx<'b>,
}

impl<'de> Shape<'de> for SectionShape<'_> {
    fn path(&self) -> String {
        self.path.clone()
    }
    fn errors(&mut self) -> &mut Vec<ImportIssue> {
        self.ctx.errors
    }
    fn expected(&self) -> &'static str {
        "an array"
    }
    fn null(self) {}
    fn seq<A: SeqAccess<'de>>(mut self, mut s: A) -> std::result::Result<(), A::Error> {
        let mut i = 0usize;
        while let Some(v) = s.next_element::<Value>()? {
            let loc = format!("{}[{i}]", self.path);
            i += 1;
            let ctx = &mut self.ctx;
            match (self.section, v, &mut ctx.sink) {
                (Section::IpAssets, Value::Object(o), Some(sink)) => {
                    if let Some(a) = read_asset(&o, SourceLocation::path(loc), ctx.errors) {
                        if !sink.asset(ctx.bundle, a, ctx.errors.is_empty()) {
                            return Err(de::Error::custom(SINK_STOPPED));
                        }
                    }
                }
                (section, v, _) => item_value(section, v, loc, ctx),
            }
        }
        Ok(())
    }
}

fn item_value(section: Section, v: Value, loc: String, ctx: &mut Ctx<'_>) {
    match v {
        Value::Object(o) => read_item(section, &o, SourceLocation::path(loc), ctx),
        other => ctx.errors.push(ImportIssue::new(
            loc,
            format!("expected an object, found {}", kind(&other)),
        )),
    }
}

fn syntax_error(e: &serde_json::Error) -> Error {
    Error::Import(ImportErrors(vec![ImportIssue::new(
        format!("line {} column {}", e.line(), e.column()),
        format!("invalid JSON: {e}"),
    )]))
}

/// What a JSON file holds, by its export name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonKind {
    /// A bundle (`bundle.json`, any other `*.json`); a top-level array is read as IP assets.
    Bundle,
    /// `ip-assets.json`: an array of IP assets.
    IpAssets,
    /// `hosts.json`: an array of `{name, notes, vendor_name, project_name, os_ip, bmc_ip}`;
    /// as with `hosts.csv`, `os_ip` / `bmc_ip` become OS / BMC assets of the host and
    /// the projects and vendors named are created.
    Hosts,
    /// `projects.json`: an array of `{name, description, color}`.
    Projects,
    /// `vendors.json`: an array of `{name}`.
    Vendors,
    /// `tags.json`: an array of `{name, color}`.
    Tags,
}

impl JsonKind {
    /// The kind of a file by its name (`hosts.json`, `x/projects.json`, …); any
    /// other `*.json` is [`JsonKind::Bundle`], anything else `None`.
    pub fn from_file_name(name: &str) -> Option<JsonKind> {
        Some(match super::base_file_name(name).as_str() {
            "ip-assets.json" | "ip_assets.json" => JsonKind::IpAssets,
            "hosts.json" => JsonKind::Hosts,
            "projects.json" => JsonKind::Projects,
            "vendors.json" => JsonKind::Vendors,
            "tags.json" => JsonKind::Tags,
            b if b.ends_with(".json") => JsonKind::Bundle,
            _ => return None,
        })
    }
}

/// One JSON input of [`parse_json_files`].
#[derive(Debug, Clone, Copy)]
pub struct JsonFile<'a> {
    /// What it holds.
    pub kind: JsonKind,
    /// Its name: the source label, and the prefix of error paths of the array files.
    pub name: &'a str,
    /// The bytes.
    pub data: &'a [u8],
}

/// Parses a bundle (`{"app":"ipocket","schema_version":"1","data":{…}}`) or the
/// ip-assets JSON export (a top-level array of assets).
///
/// The document is read as a stream: only one item at a time is held as a
/// JSON tree. All errors of the document are returned together, each with its
/// JSON path:
///
/// ```
/// let err = ipocket_core::parse_bundle_json(br#"{"schema_version":"1","data":{"ip_assets":[
///     {"ip_address":"10.0.0.256","type":"VM"}, {"ip_address":"10.0.0.1","type":"vm"}]}}"#).unwrap_err();
/// let text = err.to_string();
/// assert!(text.contains(r#"data.ip_assets[0].ip_address: invalid IP address "10.0.0.256""#));
/// assert!(text.contains("data.ip_assets[1].type: invalid asset type"));
/// ```
pub fn parse_bundle_json(input: &[u8]) -> Result<Bundle> {
    finish(read_json(
        serde_json::Deserializer::from_slice(input),
        JsonKind::Bundle,
        "",
        None,
    ))
}

/// [`parse_bundle_json`] from a reader (a file, an upload body): the raw
/// document is never held in memory as a whole.
///
/// ```
/// let file = std::io::Cursor::new(br#"[{"ip_address":"10.0.0.1","type":"VM"}]"#.to_vec());
/// let b = ipocket_core::import::parse_bundle_json_reader(file).unwrap();
/// assert_eq!(b.ip_assets.len(), 1);
/// ```
pub fn parse_bundle_json_reader<R: std::io::Read>(input: R) -> Result<Bundle> {
    finish(read_json(
        serde_json::Deserializer::from_reader(std::io::BufReader::new(input)),
        JsonKind::Bundle,
        "",
        None,
    ))
}

/// Reads JSON export files (`hosts.json`, `projects.json`, `ip-assets.json`, a
/// bundle, …) into one bundle; all errors of all files come back together. As
/// with CSV, a host's `os_ip` / `bmc_ip` is imported as an asset unless an
/// IP-assets file lists that address.
///
/// ```
/// use ipocket_core::import::{parse_json_files, JsonFile, JsonKind};
/// let hosts = br#"[{"name":"node-01","notes":"","vendor_name":"HPE","project_name":"Core","os_ip":"10.0.0.11","bmc_ip":null}]"#;
/// let b = parse_json_files(&[JsonFile { kind: JsonKind::Hosts, name: "hosts.json", data: hosts }]).unwrap();
/// assert_eq!((b.hosts.len(), b.ip_assets.len(), b.vendors.len(), b.projects.len()), (1, 1, 1, 1));
/// let err = parse_json_files(&[JsonFile { kind: JsonKind::Projects, name: "projects.json",
///     data: br#"[{"name":"Core","color":"red"}]"# }]).unwrap_err();
/// assert!(err.to_string().contains("projects.json[0].color: color \"red\""));
/// ```
pub fn parse_json_files(files: &[JsonFile<'_>]) -> Result<Bundle> {
    let mut out = Bundle {
        source: files.iter().map(|f| f.name).collect::<Vec<_>>().join("+"),
        ..Default::default()
    };
    let mut errors = Vec::new();
    let mut links = HostLinks::default();
    for f in files {
        let prefix = if f.kind == JsonKind::Bundle {
            ""
        } else {
            f.name
        };
        match read_json(
            serde_json::Deserializer::from_slice(f.data),
            f.kind,
            prefix,
            None,
        ) {
            Ok(r) => {
                errors.extend(r.errors);
                let b = r.bundle;
                out.vendors.extend(b.vendors);
                out.projects.extend(b.projects);
                out.tags.extend(b.tags);
                out.ip_ranges.extend(b.ip_ranges);
                out.hosts.extend(b.hosts);
                out.ip_assets.extend(b.ip_assets);
                links.extend(r.links);
            }
            Err(e) => {
                match e {
                    Error::Import(ImportErrors(v)) => errors.extend(v.into_iter().map(|i| {
                        ImportIssue::new(format!("{}: {}", f.name, i.location), i.message)
                    })),
                    other => return Err(other),
                }
            }
        }
    }
    links.finish(&mut out);
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(Error::Import(ImportErrors(errors)))
    }
}

/// Receives the IP assets of a streamed document one at a time.
pub(crate) trait AssetSink {
    /// `header` holds the sections read so far; `clean` is false once any
    /// error was found (the sink then only counts). Returning false stops the
    /// reading (the sink keeps its own error).
    fn asset(&mut self, header: &Bundle, a: BundleAsset, clean: bool) -> bool;
}

/// What one pass over a document found.
pub(crate) struct JsonRead {
    pub(crate) bundle: Bundle,
    pub(crate) errors: Vec<ImportIssue>,
    pub(crate) links: HostLinks,
}

/// Reads a document; with a `sink`, IP assets go there instead of the bundle,
/// and `assets_only` skips every other section (the second pass of a stream).
pub(crate) fn read_json<'de, R: serde_json::de::Read<'de>>(
    mut de: serde_json::Deserializer<R>,
    kind: JsonKind,
    prefix: &str,
    sink: Option<(&mut dyn AssetSink, bool)>,
) -> Result<JsonRead> {
    let mut errors = Vec::new();
    let mut links = HostLinks::default();
    let mut bundle = Bundle {
        source: match kind {
            JsonKind::Bundle => "bundle.json".into(),
            _ => prefix.to_string(),
        },
        ..Default::default()
    };
    let (sink, assets_only) = match sink {
        Some((s, only)) => (Some(s), only),
        None => (None, false),
    };
    let r = V(RootShape {
        ctx: Ctx {
            bundle: &mut bundle,
            errors: &mut errors,
            links: &mut links,
            sink: sink.map(|s| -> &mut dyn AssetSink { s }),
            assets_only,
        },
        kind,
        prefix: prefix.to_string(),
    })
    .deserialize(&mut de)
    .and_then(|()| de.end());
    r.map_err(|e| syntax_error(&e))?;
    Ok(JsonRead {
        bundle,
        errors,
        links,
    })
}

/// The message of the serde error that ends reading when the sink says stop.
const SINK_STOPPED: &str = "import stopped";

fn finish(r: Result<JsonRead>) -> Result<Bundle> {
    let r = r?;
    if !r.errors.is_empty() {
        return Err(Error::Import(ImportErrors(r.errors)));
    }
    let mut b = r.bundle;
    r.links.finish(&mut b);
    Ok(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errs(input: &str) -> Vec<String> {
        match parse_bundle_json(input.as_bytes()) {
            Err(Error::Import(ImportErrors(v))) => v.into_iter().map(|i| i.to_string()).collect(),
            other => panic!("expected import errors, got {other:?}"),
        }
    }

    #[test]
    fn reads_the_original_bundle_shape() {
        let b = parse_bundle_json(br##"{"app":"ipocket","schema_version":"1","exported_at":"2024-01-01T12:00:00+00:00",
         "data":{"vendors":[{"name":"HPE"}],
         "projects":[{"name":"Core","description":"","color":"#94A3B8"}],
         "hosts":[{"name":"node-01","notes":"","vendor_name":"HPE","project_name":"Core","os_ip":"10.0.0.11","bmc_ip":"10.0.0.12"}],
         "ip_assets":[{"ip_address":"10.0.0.10","type":"VM","project_name":"Core","host_name":"node-01","tags":["prod","edge"],"notes":"","archived":false}]}}"##).unwrap();
        assert_eq!(b.vendors[0].name, "HPE");
        assert_eq!(b.projects[0].color.as_deref(), Some("#94a3b8"));
        let a = &b.ip_assets[0];
        assert_eq!(
            a.tags.as_deref(),
            Some(&["edge".to_string(), "prod".to_string()][..])
        );
        assert_eq!(a.notes.as_deref(), Some(""));
        assert_eq!(a.archived, Some(false));
        assert_eq!(a.location.field("type"), "data.ip_assets[0].type");
    }

    #[test]
    fn integer_schema_version_is_rejected() {
        let e = errs(r#"{"schema_version":1,"data":{}}"#);
        assert_eq!(e.len(), 1);
        assert!(e[0].starts_with("schema_version: unsupported schema_version 1"));
    }

    #[test]
    fn every_error_is_reported_in_one_pass() {
        let e = errs(
            r#"{"schema_version":"1","data":{
            "vendors":[{"name":""}],
            "projects":[{"name":"P","color":"red"}],
            "hosts":[{"name":"h","vendr":"x"}],
            "ip_assets":[{"ip_address":"10.0.0.1","type":"VM"},{"ip_address":"10.0.0.256","type":"VM"},
                         {"ip_address":"10.0.0.3","type":"XX","tags":["ok","b a d"],"archived":"maybe"}]}}"#,
        );
        let want = [
            "data.vendors[0].name: name is required",
            "data.projects[0].color: color \"red\" must be a hex value like #1a2b3c",
            "data.hosts[0].vendr: unknown field \"vendr\"",
            "data.ip_assets[1].ip_address: invalid IP address \"10.0.0.256\"",
            "data.ip_assets[2].type: invalid asset type \"XX\" (use OS, BMC, VM, VIP, OTHER)",
            "data.ip_assets[2].tags[1]: tag name \"b a d\" may include letters, digits, dash and underscore only",
            "data.ip_assets[2].archived: expected a boolean, found \"maybe\"",
        ];
        assert_eq!(e, want);
    }

    #[test]
    fn wrong_shapes_are_located() {
        assert_eq!(
            errs("42"),
            ["(root): expected a bundle object or an array of IP assets, found a number"]
        );
        assert_eq!(
            errs(r#"{"schema_version":"1","data":[1]}"#),
            ["data: expected an object, found an array"]
        );
        assert_eq!(
            errs(
                r#"{"schema_version":"1","data":{"hosts":{"a":1},"ip_assets":[1,null],"vendors":null,"zones":[]}}"#
            ),
            [
                "data.hosts: expected an array, found an object",
                "data.ip_assets[0]: expected an object, found a number",
                "data.ip_assets[1]: expected an object, found null",
                "data.zones: unknown section \"zones\"",
            ]
        );
        assert_eq!(
            errs(r#"{"owner":"x"}"#),
            [
                "owner: unknown field \"owner\"",
                "schema_version: unsupported schema_version (missing) (expected the string \"1\")",
                "data: data is required",
            ]
        );
        assert_eq!(
            errs(r#"["x"]"#),
            ["[0]: expected an object, found a string"]
        );
    }

    #[test]
    fn reader_and_slice_agree() {
        let doc = r#"{"schema_version":"1","data":{"ip_assets":[{"ip_address":"10.0.0.256","type":"VM"},
            {"ip_address":"10.0.0.1","type":"VM","tags":["a"]}]}}"#;
        let from_reader = parse_bundle_json_reader(doc.as_bytes())
            .unwrap_err()
            .to_string();
        assert_eq!(
            from_reader,
            parse_bundle_json(doc.as_bytes()).unwrap_err().to_string()
        );
        let ok = doc.replace("10.0.0.256", "10.0.0.2");
        assert_eq!(
            parse_bundle_json_reader(ok.as_bytes()).unwrap(),
            parse_bundle_json(ok.as_bytes()).unwrap()
        );
        let bad = parse_bundle_json_reader(&b"{\n\n  oops"[..])
            .unwrap_err()
            .to_string();
        assert!(bad.contains("line 3 column"), "{bad}");
    }

    #[test]
    fn syntax_errors_have_line_and_column() {
        let e = errs("{\n \"schema_version\": \"1\",\n \"data\": {,}\n}");
        assert!(e[0].starts_with("line 3 column"), "{e:?}");
    }

    #[test]
    fn ip_assets_export_array_is_accepted() {
        let b = parse_bundle_json(br#"[{"ip_address":"2001:DB8::1","type":"VM","created_at":"x","updated_at":"y","tags":[]}]"#).unwrap();
        assert_eq!(b.ip_assets[0].ip_address, "2001:db8::1");
        assert_eq!(b.source, "ip-assets.json");
    }

    #[test]
    fn lenient_booleans_and_comma_tags() {
        let b = parse_bundle_json(br#"{"schema_version":"1","data":{"ip_assets":[
            {"ip_address":"10.0.0.1","type":"IPMI_ILO","archived":"yes","merge_tags":1,"tags":"b, A"}]}}"#).unwrap();
        let a = &b.ip_assets[0];
        assert_eq!(a.asset_type, Some(AssetType::Bmc));
        assert_eq!(a.archived, Some(true));
        assert!(a.merge_tags);
        assert_eq!(
            a.tags.as_deref(),
            Some(&["a".to_string(), "b".to_string()][..])
        );
        assert_eq!(a.notes, None);
    }
}
