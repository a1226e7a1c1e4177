//! Bundle JSON (`schema_version` "1") and the ip-assets JSON export, with
//! every error located by its JSON path.

use serde_json::{Map, Value};

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

fn items<'a>(v: Option<&'a Value>, path: &str, errors: &mut Vec<ImportIssue>) -> &'a [Value] {
    match v {
        None | Some(Value::Null) => &[],
        Some(Value::Array(a)) => a,
        Some(other) => {
            errors.push(ImportIssue::new(
                path,
                format!("expected an array, found {}", kind(other)),
            ));
            &[]
        }
    }
}

fn each_object<'a>(
    list: &'a [Value],
    path: &str,
    errors: &mut Vec<ImportIssue>,
) -> Vec<(&'a Map<String, Value>, SourceLocation)> {
    let mut out = Vec::with_capacity(list.len());
    for (i, v) in list.iter().enumerate() {
        let loc = format!("{path}[{i}]");
        match v {
            Value::Object(o) => out.push((o, SourceLocation::path(loc))),
            other => errors.push(ImportIssue::new(
                loc,
                format!("expected an object, found {}", kind(other)),
            )),
        }
    }
    out
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

fn read_data(data: &Map<String, Value>, bundle: &mut Bundle, errors: &mut Vec<ImportIssue>) {
    let known = [
        "vendors",
        "projects",
        "tags",
        "ip_ranges",
        "hosts",
        "ip_assets",
    ];
    for k in data.keys() {
        if !known.contains(&k.as_str()) {
            errors.push(ImportIssue::new(
                format!("data.{k}"),
                format!("unknown section {k:?}"),
            ));
        }
    }
    for (o, loc) in each_object(
        items(data.get("vendors"), "data.vendors", errors),
        "data.vendors",
        errors,
    ) {
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
    for (o, loc) in each_object(
        items(data.get("projects"), "data.projects", errors),
        "data.projects",
        errors,
    ) {
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
    for (o, loc) in each_object(
        items(data.get("tags"), "data.tags", errors),
        "data.tags",
        errors,
    ) {
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
    for (o, loc) in each_object(
        items(data.get("ip_ranges"), "data.ip_ranges", errors),
        "data.ip_ranges",
        errors,
    ) {
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
    for (o, loc) in each_object(
        items(data.get("hosts"), "data.hosts", errors),
        "data.hosts",
        errors,
    ) {
        let mut r = Reader {
            obj: o,
            loc: loc.clone(),
            errors,
        };
        // project_name / os_ip / bmc_ip are exported for people; the assets
        // section carries those links, so they are accepted and ignored here.
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
        if let Some(name) = name {
            bundle.hosts.push(BundleHost {
                location: loc,
                name,
                notes,
                vendor_name,
            });
        }
    }
    for (o, loc) in each_object(
        items(data.get("ip_assets"), "data.ip_assets", errors),
        "data.ip_assets",
        errors,
    ) {
        if let Some(a) = read_asset(o, loc, errors) {
            bundle.ip_assets.push(a);
        }
    }
}

fn syntax_error(e: &serde_json::Error) -> Error {
    Error::Import(ImportErrors(vec![ImportIssue::new(
        format!("line {} column {}", e.line(), e.column()),
        format!("invalid JSON: {e}"),
    )]))
}

/// Parses a bundle (`{"app":"ipocket","schema_version":"1","data":{…}}`) or the
/// ip-assets JSON export (a top-level array of assets).
///
/// All errors of the document are returned together, each with its JSON path:
///
/// ```
/// let err = ipocket_core::parse_bundle_json(br#"{"schema_version":"1","data":{"ip_assets":[
///     {"ip_address":"10.0.0.256","type":"VM"}, {"ip_address":"10.0.0.1","type":"vm"}]}}"#).unwrap_err();
/// let text = err.to_string();
/// assert!(text.contains(r#"data.ip_assets[0].ip_address: invalid IP address "10.0.0.256""#));
/// assert!(text.contains("data.ip_assets[1].type: invalid asset type"));
/// ```
pub fn parse_bundle_json(input: &[u8]) -> Result<Bundle> {
    let root: Value = serde_json::from_slice(input).map_err(|e| syntax_error(&e))?;
    let mut errors = Vec::new();
    let mut bundle = Bundle {
        source: "bundle.json".into(),
        ..Default::default()
    };
    match &root {
        Value::Array(list) => {
            bundle.source = "ip-assets.json".into();
            for (i, v) in list.iter().enumerate() {
                let loc = format!("[{i}]");
                match v {
                    Value::Object(o) => {
                        if let Some(a) = read_asset(o, SourceLocation::path(loc), &mut errors) {
                            bundle.ip_assets.push(a);
                        }
                    }
                    other => errors.push(ImportIssue::new(
                        loc,
                        format!("expected an object, found {}", kind(other)),
                    )),
                }
            }
        }
        Value::Object(o) => {
            for k in o.keys() {
                if !["app", "schema_version", "exported_at", "data"].contains(&k.as_str()) {
                    errors.push(ImportIssue::new(k.clone(), format!("unknown field {k:?}")));
                }
            }
            match o.get("schema_version") {
                Some(Value::String(s)) if s == "1" => {}
                other => errors.push(ImportIssue::new(
                    "schema_version",
                    format!(
                        "unsupported schema_version {} (expected the string \"1\")",
                        other
                            .map(Value::to_string)
                            .unwrap_or_else(|| "(missing)".into())
                    ),
                )),
            }
            match o.get("data") {
                Some(Value::Object(d)) => read_data(d, &mut bundle, &mut errors),
                Some(other) => errors.push(ImportIssue::new(
                    "data",
                    format!("expected an object, found {}", kind(other)),
                )),
                None => errors.push(ImportIssue::new("data", "data is required")),
            }
        }
        other => errors.push(ImportIssue::new(
            "(root)",
            format!(
                "expected a bundle object or an array of IP assets, found {}",
                kind(other)
            ),
        )),
    }
    if errors.is_empty() {
        Ok(bundle)
    } else {
        Err(Error::Import(ImportErrors(errors)))
    }
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
