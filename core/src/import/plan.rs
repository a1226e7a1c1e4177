//! Plan: the dry run of an import, computed without writing.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::net::IpAddr;

use ipocket_db::Sql;

use super::field_diff::{diff, non_empty};
use super::report::*;
use super::state::*;
use super::{Bundle, BundleAsset, SourceLocation};
use crate::audit::FieldChange;
use crate::error::{Error, ImportErrors, ImportIssue, Result};
use crate::limits::{check_chars, MAX_NAME_CHARS};
use crate::model::{
    canonical_ip, normalize_color, normalize_tag_name, normalize_tags, required_name,
    DEFAULT_PROJECT_COLOR, DEFAULT_TAG_COLOR,
};
use crate::ranges::normalize_cidr;
use crate::store::Inventory;

pub(crate) fn name_of(m: &HashMap<i64, String>, id: Option<i64>) -> Option<&str> {
    id.and_then(|i| m.get(&i).map(String::as_str))
}

pub(crate) fn item(
    src: Src,
    entity: ImportEntity,
    action: ImportAction,
    changes: Vec<FieldChange>,
    op: Option<Op>,
) -> Item {
    Item {
        entity,
        action,
        src,
        changes,
        warnings: Vec::new(),
        op,
    }
}

fn checker(errors: &mut Vec<ImportIssue>) -> impl FnMut(String, Result<String>, &mut String) + '_ {
    |loc: String, r: Result<String>, slot: &mut String| match r {
        Ok(v) => *slot = v,
        Err(e) => errors.push(ImportIssue::new(
            loc,
            match e {
                Error::Invalid { message, .. } => message,
                other => other.to_string(),
            },
        )),
    }
}

/// Pushes a located error when an optional name or text is longer than its limit.
fn check_len(
    errors: &mut Vec<ImportIssue>,
    loc: &SourceLocation,
    field: &str,
    v: Option<&str>,
    max: usize,
) {
    if let Some(v) = v {
        if let Err(Error::Invalid { message, .. }) = check_chars(field, v, max) {
            errors.push(ImportIssue::new(loc.field(field), message));
        }
    }
}

/// Brings a bundle built in code (connectors) to the form the readers produce:
/// trimmed names, canonical addresses and CIDRs, normalised tags and colours, names
/// and texts within their limits (`max_text` for notes and descriptions).
/// Returns the located errors. (Assets: [`normalize_assets`].)
pub(crate) fn normalize_header(b: &mut Bundle, max_text: usize) -> Vec<ImportIssue> {
    let mut errors = Vec::new();
    for p in &b.projects {
        check_len(
            &mut errors,
            &p.location,
            "description",
            p.description.as_deref(),
            max_text,
        );
    }
    for r in &b.ip_ranges {
        check_len(
            &mut errors,
            &r.location,
            "name",
            r.name.as_deref(),
            MAX_NAME_CHARS,
        );
        check_len(
            &mut errors,
            &r.location,
            "notes",
            r.notes.as_deref(),
            max_text,
        );
    }
    for h in &b.hosts {
        check_len(
            &mut errors,
            &h.location,
            "notes",
            h.notes.as_deref(),
            max_text,
        );
        check_len(
            &mut errors,
            &h.location,
            "vendor_name",
            h.vendor_name.as_deref(),
            MAX_NAME_CHARS,
        );
    }
    let mut check = checker(&mut errors);
    for v in &mut b.vendors {
        let r = required_name("name", &v.name);
        check(v.location.field("name"), r, &mut v.name);
    }
    for p in &mut b.projects {
        let r = required_name("name", &p.name);
        check(p.location.field("name"), r, &mut p.name);
        if let Some(c) = p.color.as_mut() {
            let r = normalize_color(c, DEFAULT_PROJECT_COLOR);
            check(p.location.field("color"), r, c);
        }
    }
    for t in &mut b.tags {
        let r = normalize_tag_name(&t.name);
        check(t.location.field("name"), r, &mut t.name);
        if let Some(c) = t.color.as_mut() {
            let r = normalize_color(c, DEFAULT_TAG_COLOR);
            check(t.location.field("color"), r, c);
        }
    }
    for r in &mut b.ip_ranges {
        let n = normalize_cidr(&r.cidr).map(|n| n.to_string());
        check(r.location.field("cidr"), n, &mut r.cidr);
    }
    for h in &mut b.hosts {
        let r = required_name("name", &h.name);
        check(h.location.field("name"), r, &mut h.name);
        h.vendor_name = h
            .vendor_name
            .take()
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty());
    }
    drop(check);
    errors
}

/// [`normalize_header`] for IP assets.
pub(crate) fn normalize_assets(
    assets: &mut [BundleAsset],
    errors: &mut Vec<ImportIssue>,
    max_text: usize,
) {
    for a in assets.iter() {
        let l = &a.location;
        check_len(errors, l, "notes", a.notes.as_deref(), max_text);
        check_len(
            errors,
            l,
            "project_name",
            a.project_name.as_deref(),
            MAX_NAME_CHARS,
        );
        check_len(
            errors,
            l,
            "host_name",
            a.host_name.as_deref(),
            MAX_NAME_CHARS,
        );
    }
    let mut check = checker(errors);
    for a in assets {
        let r = canonical_ip(&a.ip_address).map(|(_, c)| c);
        check(a.location.field("ip_address"), r, &mut a.ip_address);
        a.project_name = a
            .project_name
            .take()
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty());
        a.host_name = a
            .host_name
            .take()
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty());
        if let Some(tags) = a.tags.as_mut() {
            match normalize_tags(tags.iter()) {
                Ok(t) => *tags = t,
                Err(e) => check(a.location.field("tags"), Err(e), &mut String::new()),
            }
        }
    }
}

/// First places of the addresses seen so far, 8 bytes each: a location such as
/// `data.ip_assets[12]` or `ip-assets.csv:14` is kept as an interned prefix and
/// its number, so a million addresses do not keep a million strings.
#[derive(Default)]
struct FirstSeen {
    prefixes: Vec<String>,
    prefix_ids: HashMap<String, u32>,
    at: HashMap<IpAddr, (u32, u32)>,
}

impl FirstSeen {
    /// Records `ip` at `loc`; when it was seen before, returns where.
    fn insert(&mut self, ip: IpAddr, loc: &str) -> Option<String> {
        if let Some((p, n)) = self.at.get(&ip) {
            let prefix = &self.prefixes[*p as usize];
            return Some(match *n {
                u32::MAX => prefix.clone(),
                n if prefix.ends_with('[') => format!("{prefix}{n}]"),
                n => format!("{prefix}{n}"),
            });
        }
        let (prefix, n) = split_location(loc);
        let id = match self.prefix_ids.get(prefix) {
            Some(id) => *id,
            None => {
                let id = self.prefixes.len() as u32;
                self.prefixes.push(prefix.to_string());
                self.prefix_ids.insert(prefix.to_string(), id);
                id
            }
        };
        self.at.insert(ip, (id, n));
        None
    }
}

/// `data.ip_assets[12]` → (`data.ip_assets[`, 12); `f.csv:14` → (`f.csv:`, 14).
fn split_location(loc: &str) -> (&str, u32) {
    let number = |s: &str| {
        s.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| s.parse().ok())
            .flatten()
    };
    if let Some(body) = loc.strip_suffix(']') {
        if let Some(i) = body.rfind('[') {
            if let Some(n) = number(&body[i + 1..]).filter(|n| *n != u32::MAX) {
                return (&loc[..=i], n);
            }
        }
    } else if let Some(i) = loc.rfind(':') {
        if let Some(n) = number(&loc[i + 1..]).filter(|n| *n != u32::MAX) {
            return (&loc[..=i], n);
        }
    }
    (loc, u32::MAX)
}

/// Items of the sections other than IP assets, in apply order.
#[derive(Default)]
pub(crate) struct HeaderItems {
    pub(crate) vendors: Vec<Item>,
    pub(crate) projects: Vec<Item>,
    pub(crate) implicit_vendors: Vec<Item>,
    pub(crate) tags: Vec<Item>,
    pub(crate) ranges: Vec<Item>,
    pub(crate) hosts: Vec<Item>,
}

/// Items of a run of IP assets: the projects and tags they name first, then the assets.
pub(crate) struct AssetItems {
    pub(crate) implicit_projects: Vec<Item>,
    pub(crate) implicit_tags: Vec<Item>,
    pub(crate) assets: Vec<Item>,
}

/// The planning state that carries from one part of an import to the next:
/// [`Inventory::plan`] runs it once over a whole bundle, a streamed import
/// (`import::stream`) over the header and then over each chunk of assets.
pub(crate) struct Planner {
    options: ImportOptions,
    st: State,
    names: Option<Names>,
    new_hosts: HashSet<String>,
    implicit_projects: HashSet<String>,
    implicit_tags: HashSet<String>,
    seen: FirstSeen,
    asset_rows: AssetRows,
    /// Located problems found so far; any means nothing is written.
    pub(crate) errors: Vec<ImportIssue>,
    /// A project or host of the inventory is changed.
    pub(crate) related_updated: bool,
}

impl Planner {
    pub(crate) fn new(conn: &dyn Sql, options: &ImportOptions) -> Result<Self> {
        Ok(Planner {
            options: options.clone(),
            st: load_state(conn)?,
            names: None,
            new_hosts: HashSet::new(),
            implicit_projects: HashSet::new(),
            implicit_tags: HashSet::new(),
            seen: FirstSeen::default(),
            asset_rows: AssetRows::load(conn)?,
            errors: Vec::new(),
            related_updated: false,
        })
    }

    /// Plans vendors, projects, tags, ranges and hosts of `b` (normalised).
    pub(crate) fn plan_header(&mut self, b: &Bundle) -> HeaderItems {
        let mut out = HeaderItems::default();
        // vendors
        let mut seen: HashMap<&str, String> = HashMap::new();
        for (idx, v) in b.vendors.iter().enumerate() {
            if let Some(first) = seen.insert(&v.name, v.location.item()) {
                self.errors.push(ImportIssue::new(
                    v.location.field("name"),
                    format!("duplicate vendor {:?} (first at {first})", v.name),
                ));
                continue;
            }
            if self.st.vendors.contains(&v.name) {
                out.vendors.push(item(
                    Src::Vendor(idx),
                    ImportEntity::Vendor,
                    ImportAction::Skip,
                    vec![],
                    None,
                ));
            } else {
                self.st.vendors.insert(v.name.clone());
                let ch = vec![FieldChange::new("name", None, Some(v.name.clone()))];
                out.vendors.push(item(
                    Src::Vendor(idx),
                    ImportEntity::Vendor,
                    ImportAction::Create,
                    ch,
                    Some(Op::Vendor {
                        name: v.name.clone(),
                    }),
                ));
            }
        }

        // projects
        let mut seen: HashMap<&str, String> = HashMap::new();
        for (idx, p) in b.projects.iter().enumerate() {
            if let Some(first) = seen.insert(&p.name, p.location.item()) {
                self.errors.push(ImportIssue::new(
                    p.location.field("name"),
                    format!("duplicate project {:?} (first at {first})", p.name),
                ));
                continue;
            }
            let desc = p.description.as_ref().map(|d| non_empty(&Some(d.clone())));
            match self.st.projects.get(&p.name) {
                Some((id, old_desc, old_color)) => {
                    let new_desc = desc.clone().unwrap_or_else(|| old_desc.clone());
                    let new_color = p.color.clone().unwrap_or_else(|| old_color.clone());
                    let mut ch = Vec::new();
                    diff(
                        &mut ch,
                        "description",
                        old_desc.as_deref(),
                        new_desc.as_deref(),
                    );
                    diff(&mut ch, "color", Some(old_color), Some(&new_color));
                    if ch.is_empty() {
                        out.projects.push(item(
                            Src::Project(idx),
                            ImportEntity::Project,
                            ImportAction::Skip,
                            ch,
                            None,
                        ));
                    } else {
                        self.related_updated = true;
                        let op = Op::Project {
                            id: Some(*id),
                            description: new_desc,
                            color: new_color,
                        };
                        out.projects.push(item(
                            Src::Project(idx),
                            ImportEntity::Project,
                            ImportAction::Update,
                            ch,
                            Some(op),
                        ));
                    }
                }
                None => {
                    let color = p
                        .color
                        .clone()
                        .unwrap_or_else(|| DEFAULT_PROJECT_COLOR.to_string());
                    let desc = desc.flatten();
                    let mut ch = vec![FieldChange::new("name", None, Some(p.name.clone()))];
                    diff(&mut ch, "description", None, desc.as_deref());
                    diff(&mut ch, "color", None, Some(&color));
                    self.st
                        .projects
                        .insert(p.name.clone(), (0, desc.clone(), color.clone()));
                    let op = Op::Project {
                        id: None,
                        description: desc,
                        color,
                    };
                    out.projects.push(item(
                        Src::Project(idx),
                        ImportEntity::Project,
                        ImportAction::Create,
                        ch,
                        Some(op),
                    ));
                }
            }
        }

        // tags
        let mut seen: HashMap<&str, String> = HashMap::new();
        for (idx, t) in b.tags.iter().enumerate() {
            if let Some(first) = seen.insert(&t.name, t.location.item()) {
                self.errors.push(ImportIssue::new(
                    t.location.field("name"),
                    format!("duplicate tag {:?} (first at {first})", t.name),
                ));
                continue;
            }
            match self.st.tags.get(&t.name) {
                Some((id, old)) => {
                    let new = t.color.clone().unwrap_or_else(|| old.clone());
                    let mut ch = Vec::new();
                    diff(&mut ch, "color", Some(old), Some(&new));
                    let (a, op) = if ch.is_empty() {
                        (ImportAction::Skip, None)
                    } else {
                        (
                            ImportAction::Update,
                            Some(Op::Tag {
                                id: Some(*id),
                                color: new,
                            }),
                        )
                    };
                    out.tags
                        .push(item(Src::Tag(idx), ImportEntity::Tag, a, ch, op));
                }
                None => {
                    let color = t
                        .color
                        .clone()
                        .unwrap_or_else(|| DEFAULT_TAG_COLOR.to_string());
                    let ch = vec![
                        FieldChange::new("name", None, Some(t.name.clone())),
                        FieldChange::new("color", None, Some(color.clone())),
                    ];
                    self.st.tags.insert(t.name.clone(), (0, color.clone()));
                    out.tags.push(item(
                        Src::Tag(idx),
                        ImportEntity::Tag,
                        ImportAction::Create,
                        ch,
                        Some(Op::Tag { id: None, color }),
                    ));
                }
            }
        }

        // ranges
        let mut seen: HashMap<&str, String> = HashMap::new();
        for (idx, r) in b.ip_ranges.iter().enumerate() {
            if let Some(first) = seen.insert(&r.cidr, r.location.item()) {
                self.errors.push(ImportIssue::new(
                    r.location.field("cidr"),
                    format!("duplicate range {} (first at {first})", r.cidr),
                ));
                continue;
            }
            let notes = r.notes.as_ref().map(|n| non_empty(&Some(n.clone())));
            match self.st.ranges.get(&r.cidr) {
                Some((id, old_name, old_notes)) => {
                    let name = r.name.clone().unwrap_or_else(|| old_name.clone());
                    let new_notes = notes.unwrap_or_else(|| old_notes.clone());
                    let mut ch = Vec::new();
                    diff(&mut ch, "name", Some(old_name), Some(&name));
                    diff(&mut ch, "notes", old_notes.as_deref(), new_notes.as_deref());
                    let (a, op) = if ch.is_empty() {
                        (ImportAction::Skip, None)
                    } else {
                        (
                            ImportAction::Update,
                            Some(Op::Range {
                                id: Some(*id),
                                name,
                                notes: new_notes,
                            }),
                        )
                    };
                    out.ranges
                        .push(item(Src::IpRange(idx), ImportEntity::IpRange, a, ch, op));
                }
                None => {
                    let Some(name) = r.name.clone() else {
                        self.errors.push(ImportIssue::new(
                            r.location.field("name"),
                            "name is required for a new range",
                        ));
                        continue;
                    };
                    let notes = notes.flatten();
                    let mut ch = vec![
                        FieldChange::new("name", None, Some(name.clone())),
                        FieldChange::new("cidr", None, Some(r.cidr.clone())),
                    ];
                    diff(&mut ch, "notes", None, notes.as_deref());
                    out.ranges.push(item(
                        Src::IpRange(idx),
                        ImportEntity::IpRange,
                        ImportAction::Create,
                        ch,
                        Some(Op::Range {
                            id: None,
                            name,
                            notes,
                        }),
                    ));
                }
            }
        }

        // hosts (vendors may be created on demand)
        let mut implicit_vendors: BTreeSet<String> = BTreeSet::new();
        let mut seen: HashMap<&str, String> = HashMap::new();
        for (idx, h) in b.hosts.iter().enumerate() {
            if let Some(first) = seen.insert(&h.name, h.location.item()) {
                self.errors.push(ImportIssue::new(
                    h.location.field("name"),
                    format!("duplicate host {:?} (first at {first})", h.name),
                ));
                continue;
            }
            if let Some(v) = &h.vendor_name {
                if !self.st.vendors.contains(v) {
                    if self.options.create_missing_vendors {
                        implicit_vendors.insert(v.clone());
                    } else {
                        self.errors.push(ImportIssue::new(
                            h.location.field("vendor_name"),
                            format!("vendor {v:?} does not exist"),
                        ));
                        continue;
                    }
                }
            }
            let notes = h.notes.as_ref().map(|n| non_empty(&Some(n.clone())));
            match self.st.hosts.get(&h.name) {
                Some(old) => {
                    let new_notes = notes.unwrap_or_else(|| old.notes.clone());
                    let new_vendor = h.vendor_name.clone().or_else(|| old.vendor.clone());
                    let mut ch = Vec::new();
                    diff(&mut ch, "notes", old.notes.as_deref(), new_notes.as_deref());
                    diff(
                        &mut ch,
                        "vendor",
                        old.vendor.as_deref(),
                        new_vendor.as_deref(),
                    );
                    if ch.is_empty() {
                        out.hosts.push(item(
                            Src::Host(idx),
                            ImportEntity::Host,
                            ImportAction::Skip,
                            ch,
                            None,
                        ));
                    } else {
                        self.related_updated = true;
                        let op = Op::Host {
                            id: Some(old.id),
                            notes: new_notes,
                            vendor: new_vendor,
                        };
                        out.hosts.push(item(
                            Src::Host(idx),
                            ImportEntity::Host,
                            ImportAction::Update,
                            ch,
                            Some(op),
                        ));
                    }
                }
                None => {
                    let notes = notes.flatten();
                    let mut ch = vec![FieldChange::new("name", None, Some(h.name.clone()))];
                    diff(&mut ch, "notes", None, notes.as_deref());
                    diff(&mut ch, "vendor", None, h.vendor_name.as_deref());
                    self.new_hosts.insert(h.name.clone());
                    let op = Op::Host {
                        id: None,
                        notes,
                        vendor: h.vendor_name.clone(),
                    };
                    out.hosts.push(item(
                        Src::Host(idx),
                        ImportEntity::Host,
                        ImportAction::Create,
                        ch,
                        Some(op),
                    ));
                }
            }
        }

        for v in implicit_vendors {
            let ch = vec![FieldChange::new("name", None, Some(v.clone()))];
            let mut it = item(
                Src::Implicit(v.clone()),
                ImportEntity::Vendor,
                ImportAction::Create,
                ch,
                Some(Op::Vendor { name: v.clone() }),
            );
            it.warnings.push("created because a host names it".into());
            out.implicit_vendors.push(it);
        }
        out
    }

    /// Plans a run of (normalised) IP assets. Existing rows are read all at once
    /// when `keys × bulk_share` reaches the inventory's size, else one lookup each.
    pub(crate) fn plan_assets(
        &mut self,
        conn: &dyn Sql,
        assets: &[BundleAsset],
        bulk_share: i64,
    ) -> Result<AssetItems> {
        let keys: Vec<&str> = assets.iter().map(|a| a.ip_address.as_str()).collect();
        let existing = load_assets(conn, &keys, bulk_share, self.asset_rows)?;
        if !existing.is_empty() && self.names.is_none() {
            self.names = Some(Names::load(conn)?);
        }
        let empty = Names::default();
        let names = self.names.as_ref().unwrap_or(&empty);
        let mut implicit_projects: BTreeSet<String> = BTreeSet::new();
        let mut implicit_tags: BTreeSet<String> = BTreeSet::new();
        let mut asset_items = Vec::with_capacity(assets.len());
        for (idx, a) in assets.iter().enumerate() {
            let Ok(ip) = a.ip_address.parse::<IpAddr>() else {
                continue; // not canonical: reported by normalisation
            };
            if let Some(first) = self.seen.insert(ip, &a.location.item()) {
                self.errors.push(ImportIssue::new(
                    a.location.field("ip_address"),
                    format!("duplicate IP address {} (first at {first})", a.ip_address),
                ));
                continue;
            }
            let mut bad = false;
            if let Some(p) = &a.project_name {
                if !self.st.projects.contains_key(p) && !self.implicit_projects.contains(p) {
                    if self.options.create_missing_projects {
                        implicit_projects.insert(p.clone());
                    } else {
                        self.errors.push(ImportIssue::new(
                            a.location.field("project_name"),
                            format!("project {p:?} does not exist"),
                        ));
                        bad = true;
                    }
                }
            }
            if let Some(h) = &a.host_name {
                if !self.st.hosts.contains_key(h) && !self.new_hosts.contains(h) {
                    self.errors.push(ImportIssue::new(
                        a.location.field("host_name"),
                        format!("host {h:?} does not exist"),
                    ));
                    bad = true;
                }
            }
            if let Some(tags) = &a.tags {
                for t in tags {
                    if !self.st.tags.contains_key(t) && !self.implicit_tags.contains(t) {
                        implicit_tags.insert(t.clone());
                    }
                }
            }
            let old = existing.get(&ip);
            match old {
                None => {
                    let Some(t) = a.asset_type else {
                        self.errors.push(ImportIssue::new(
                            a.location.field("type"),
                            "type is required for a new IP asset",
                        ));
                        continue;
                    };
                    if bad {
                        continue;
                    }
                    asset_items.push(item(
                        Src::IpAsset(idx),
                        ImportEntity::IpAsset,
                        ImportAction::Create,
                        Vec::new(),
                        Some(Op::AssetCreate(t)),
                    ));
                }
                Some(old) => {
                    if bad {
                        continue;
                    }
                    if a.create_only {
                        let mut it = item(
                            Src::IpAsset(idx),
                            ImportEntity::IpAsset,
                            ImportAction::Skip,
                            vec![],
                            None,
                        );
                        it.warnings
                            .push("address already in the inventory; left unchanged".into());
                        asset_items.push(it);
                        continue;
                    }
                    let mut warn = Vec::new();
                    let mut mask = 0u8;
                    let mut ch = Vec::new();
                    if !a.preserve_existing_type {
                        if let Some(t) = a.asset_type.filter(|t| *t != old.asset_type) {
                            mask |= M_TYPE;
                            ch.push(FieldChange::new(
                                "type",
                                Some(old.asset_type.to_string()),
                                Some(t.to_string()),
                            ));
                        }
                    }
                    let old_project = name_of(&names.projects, old.project);
                    if let Some(p) = a
                        .project_name
                        .as_deref()
                        .filter(|p| Some(*p) != old_project)
                    {
                        mask |= M_PROJECT;
                        ch.push(FieldChange::new(
                            "project",
                            old_project.map(str::to_string),
                            Some(p.to_string()),
                        ));
                    }
                    let old_host = name_of(&names.hosts, old.host);
                    if let Some(h) = a.host_name.as_deref().filter(|h| Some(*h) != old_host) {
                        mask |= M_HOST;
                        ch.push(FieldChange::new(
                            "host",
                            old_host.map(str::to_string),
                            Some(h.to_string()),
                        ));
                    }
                    if a.notes.is_some() {
                        let new = non_empty(&a.notes);
                        if new != old.notes {
                            if a.preserve_existing_notes
                                && old.notes.as_deref().is_some_and(|n| !n.is_empty())
                            {
                                warn.push("notes preserved (existing note kept)".to_string());
                            } else {
                                mask |= M_NOTES;
                                ch.push(FieldChange::new("notes", old.notes.clone(), new));
                            }
                        }
                    }
                    let mut merged_tags = None;
                    if let Some(t) = &a.tags {
                        let mut old_tags: Vec<&str> = old
                            .tags
                            .iter()
                            .filter_map(|i| names.tags.get(i).map(String::as_str))
                            .collect();
                        old_tags.sort_unstable();
                        let new_tags: Vec<&str> = if a.merge_tags {
                            let mut all = old_tags.clone();
                            for x in t {
                                if !all.contains(&x.as_str()) {
                                    all.push(x);
                                }
                            }
                            all.sort_unstable();
                            all
                        } else {
                            t.iter().map(String::as_str).collect()
                        };
                        if new_tags != old_tags {
                            mask |= M_TAGS;
                            let join = |v: &[&str]| {
                                if v.is_empty() {
                                    None
                                } else {
                                    Some(v.join(", "))
                                }
                            };
                            ch.push(FieldChange::new("tags", join(&old_tags), join(&new_tags)));
                            if a.merge_tags {
                                merged_tags =
                                    Some(new_tags.iter().map(|s| s.to_string()).collect());
                            }
                        }
                    }
                    if let Some(arch) = a.archived.filter(|x| *x != old.archived) {
                        mask |= M_ARCHIVED;
                        ch.push(FieldChange::new(
                            "archived",
                            Some(old.archived.to_string()),
                            Some(arch.to_string()),
                        ));
                    }
                    let (action, op) = if mask == 0 {
                        (ImportAction::Skip, None)
                    } else {
                        (
                            ImportAction::Update,
                            Some(Op::AssetUpdate {
                                id: old.id,
                                mask,
                                merged_tags,
                            }),
                        )
                    };
                    let mut it = item(Src::IpAsset(idx), ImportEntity::IpAsset, action, ch, op);
                    it.warnings = warn;
                    asset_items.push(it);
                }
            }
        }

        let mut out = AssetItems {
            implicit_projects: Vec::new(),
            implicit_tags: Vec::new(),
            assets: asset_items,
        };
        for p in implicit_projects {
            let ch = vec![
                FieldChange::new("name", None, Some(p.clone())),
                FieldChange::new("color", None, Some(DEFAULT_PROJECT_COLOR.into())),
            ];
            let mut it = item(
                Src::Implicit(p.clone()),
                ImportEntity::Project,
                ImportAction::Create,
                ch,
                Some(Op::Project {
                    id: None,
                    description: None,
                    color: DEFAULT_PROJECT_COLOR.into(),
                }),
            );
            it.warnings
                .push("created because an IP asset names it".into());
            out.implicit_projects.push(it);
            self.implicit_projects.insert(p);
        }
        for t in implicit_tags {
            let ch = vec![
                FieldChange::new("name", None, Some(t.clone())),
                FieldChange::new("color", None, Some(DEFAULT_TAG_COLOR.into())),
            ];
            out.implicit_tags.push(item(
                Src::Implicit(t.clone()),
                ImportEntity::Tag,
                ImportAction::Create,
                ch,
                Some(Op::Tag {
                    id: None,
                    color: DEFAULT_TAG_COLOR.into(),
                }),
            ));
            self.implicit_tags.insert(t);
        }
        Ok(out)
    }

    /// The import-wide warnings.
    pub(crate) fn warnings(&self) -> Vec<ImportIssue> {
        if self.related_updated {
            vec![ImportIssue::new(
                "import",
                "some related records (projects, hosts) are updated by this import",
            )]
        } else {
            Vec::new()
        }
    }
}

impl Inventory {
    /// Computes what importing `bundle` would do, without writing anything.
    ///
    /// Every reference problem (unknown project, host or vendor; an address twice
    /// in the source; a new asset without a type) is collected; any error means
    /// `Err(Error::Import(..))` with all of them.
    pub fn plan(&self, mut bundle: Bundle, options: &ImportOptions) -> Result<ImportPlan> {
        let max_text = self.limits.max_text_chars;
        let mut errors = normalize_header(&mut bundle, max_text);
        normalize_assets(&mut bundle.ip_assets, &mut errors, max_text);
        if !errors.is_empty() {
            return Err(Error::Import(ImportErrors(errors)));
        }
        // one snapshot: every query of the plan sees the same inventory, the one whose
        // audit mark the plan carries
        let (audit_mark, planner, h, a) = self.snapshot(|c| -> Result<_> {
            let audit_mark = Inventory::audit_mark(c)?;
            let mut planner = Planner::new(c, options)?;
            let h = planner.plan_header(&bundle);
            let a = planner.plan_assets(c, &bundle.ip_assets, 8)?;
            Ok((audit_mark, planner, h, a))
        })?;
        if !planner.errors.is_empty() {
            return Err(Error::Import(ImportErrors(planner.errors)));
        }
        let mut items = Vec::with_capacity(bundle.ip_assets.len() + 16);
        items.extend(h.vendors);
        items.extend(h.projects);
        items.extend(h.implicit_vendors);
        items.extend(a.implicit_projects);
        items.extend(h.tags);
        items.extend(a.implicit_tags);
        items.extend(h.ranges);
        items.extend(h.hosts);
        items.extend(a.assets);
        let mut summary = ImportSummary::default();
        for it in &items {
            summary.add(it.entity, it.action);
        }
        Ok(ImportPlan {
            source: bundle.source.clone(),
            summary,
            items,
            warnings: planner.warnings(),
            bundle,
            audit_mark,
        })
    }
}
