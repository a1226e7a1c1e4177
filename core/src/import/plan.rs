//! Plan (dry run) and apply (one transaction) for every import source.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::net::IpAddr;

use rusqlite::{params, Connection};
use serde::Serialize;

use super::{Bundle, BundleAsset};
use crate::audit::{write_audit, AuditRecord, FieldChange};
use crate::error::{Error, ImportErrors, ImportIssue, Result};
use crate::model::{
    canonical_ip, ip_key, Actor, AssetType, DEFAULT_PROJECT_COLOR, DEFAULT_TAG_COLOR,
};
use crate::store::Inventory;

/// Options of [`Inventory::plan`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportOptions {
    /// Create projects that assets or hosts name but that neither the bundle nor
    /// the inventory has (CSV import does this, as in the original).
    pub create_missing_projects: bool,
    /// Same for vendors named by hosts.
    pub create_missing_vendors: bool,
}

/// What the import does to one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ImportAction {
    /// A new record.
    Create,
    /// Some fields change.
    Update,
    /// Nothing changes.
    Skip,
}

/// Kind of record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportEntity {
    /// Vendor.
    Vendor,
    /// Project.
    Project,
    /// Tag.
    Tag,
    /// IP range.
    IpRange,
    /// Host.
    Host,
    /// IP asset.
    IpAsset,
}

impl ImportEntity {
    fn audit_type(self) -> &'static str {
        match self {
            ImportEntity::Vendor => "VENDOR",
            ImportEntity::Project => "PROJECT",
            ImportEntity::Tag => "TAG",
            ImportEntity::IpRange => "IP_RANGE",
            ImportEntity::Host => "HOST",
            ImportEntity::IpAsset => "IP_ASSET",
        }
    }
}

/// Create / update / skip counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct EntityCounts {
    /// Records created.
    pub create: u64,
    /// Records updated.
    pub update: u64,
    /// Records left as they are.
    pub skip: u64,
}

impl EntityCounts {
    fn add(&mut self, a: ImportAction) {
        match a {
            ImportAction::Create => self.create += 1,
            ImportAction::Update => self.update += 1,
            ImportAction::Skip => self.skip += 1,
        }
    }
}

/// Counts per kind of record and in total.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ImportSummary {
    /// Vendors.
    pub vendors: EntityCounts,
    /// Projects.
    pub projects: EntityCounts,
    /// Tags.
    pub tags: EntityCounts,
    /// IP ranges.
    pub ip_ranges: EntityCounts,
    /// Hosts.
    pub hosts: EntityCounts,
    /// IP assets.
    pub ip_assets: EntityCounts,
    /// All of them.
    pub total: EntityCounts,
}

impl ImportSummary {
    fn add(&mut self, e: ImportEntity, a: ImportAction) {
        let c = match e {
            ImportEntity::Vendor => &mut self.vendors,
            ImportEntity::Project => &mut self.projects,
            ImportEntity::Tag => &mut self.tags,
            ImportEntity::IpRange => &mut self.ip_ranges,
            ImportEntity::Host => &mut self.hosts,
            ImportEntity::IpAsset => &mut self.ip_assets,
        };
        c.add(a);
        self.total.add(a);
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Op {
    Vendor {
        name: String,
    },
    Project {
        id: Option<i64>,
        description: Option<String>,
        color: String,
    },
    Tag {
        id: Option<i64>,
        color: String,
    },
    Range {
        id: Option<i64>,
        name: String,
        notes: Option<String>,
    },
    Host {
        id: Option<i64>,
        notes: Option<String>,
        vendor: Option<String>,
    },
    /// Set the fields in `mask` from the bundle's asset (`merged_tags` when tags were merged).
    AssetUpdate {
        id: i64,
        mask: u8,
        merged_tags: Option<Vec<String>>,
    },
    /// Create the bundle's asset as it is (values read from the bundle at apply time).
    AssetCreate(AssetType),
}

const M_TYPE: u8 = 1;
const M_PROJECT: u8 = 2;
const M_HOST: u8 = 4;
const M_NOTES: u8 = 8;
const M_ARCHIVED: u8 = 16;
const M_TAGS: u8 = 32;
const M_ALL: u8 = 63;

/// Where a planned record comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Src {
    Vendor(usize),
    Project(usize),
    Tag(usize),
    IpRange(usize),
    Host(usize),
    IpAsset(usize),
    /// Named by other records but not listed (key held here).
    Implicit(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Item {
    entity: ImportEntity,
    action: ImportAction,
    src: Src,
    /// Stored changes; empty for asset creates, whose changes are derived from the bundle.
    changes: Vec<FieldChange>,
    warnings: Vec<String>,
    op: Option<Op>,
}

/// The planned fate of one record (a view into an [`ImportPlan`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlannedItem<'p> {
    /// Kind of record.
    pub entity: ImportEntity,
    /// Its natural key (name, CIDR, address).
    pub key: &'p str,
    /// Where it came from in the source (empty for records the import derives).
    pub location: String,
    /// Create, update or skip.
    pub action: ImportAction,
    /// Field-level differences (for creates: every value set).
    pub changes: Cow<'p, [FieldChange]>,
    /// Notes about this record (for example "existing notes kept").
    pub warnings: &'p [String],
}

/// The dry run: what [`Inventory::apply`] would do, computed without writing.
///
/// The plan owns the bundle it was made from; [`ImportPlan::items`] shows
/// each record's action and changes. Serialises as
/// `{"source", "summary", "items": [...], "warnings"}`.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportPlan {
    /// Label of the source.
    pub source: String,
    /// Counts.
    pub summary: ImportSummary,
    /// Warnings about the whole import.
    pub warnings: Vec<ImportIssue>,
    items: Vec<Item>,
    bundle: Bundle,
    audit_mark: i64,
}

impl ImportPlan {
    /// Every record, in apply order.
    pub fn items(&self) -> impl ExactSizeIterator<Item = PlannedItem<'_>> + '_ {
        self.items.iter().map(|it| PlannedItem {
            entity: it.entity,
            key: self.key(&it.src),
            location: self.location(&it.src),
            action: it.action,
            changes: self.changes(it),
            warnings: &it.warnings,
        })
    }

    /// The bundle the plan was made from.
    pub fn bundle(&self) -> &Bundle {
        &self.bundle
    }

    fn key<'p>(&'p self, src: &'p Src) -> &'p str {
        let b = &self.bundle;
        match src {
            Src::Vendor(i) => &b.vendors[*i].name,
            Src::Project(i) => &b.projects[*i].name,
            Src::Tag(i) => &b.tags[*i].name,
            Src::IpRange(i) => &b.ip_ranges[*i].cidr,
            Src::Host(i) => &b.hosts[*i].name,
            Src::IpAsset(i) => &b.ip_assets[*i].ip_address,
            Src::Implicit(k) => k,
        }
    }

    fn location(&self, src: &Src) -> String {
        let b = &self.bundle;
        match src {
            Src::Vendor(i) => b.vendors[*i].location.item(),
            Src::Project(i) => b.projects[*i].location.item(),
            Src::Tag(i) => b.tags[*i].location.item(),
            Src::IpRange(i) => b.ip_ranges[*i].location.item(),
            Src::Host(i) => b.hosts[*i].location.item(),
            Src::IpAsset(i) => b.ip_assets[*i].location.item(),
            Src::Implicit(_) => String::new(),
        }
    }

    fn changes<'p>(&'p self, it: &'p Item) -> Cow<'p, [FieldChange]> {
        match (&it.op, &it.src) {
            (Some(Op::AssetCreate(t)), Src::IpAsset(i)) => {
                Cow::Owned(create_changes(*t, &self.bundle.ip_assets[*i]))
            }
            _ => Cow::Borrowed(&it.changes),
        }
    }
}

impl Serialize for ImportPlan {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        struct Items<'a>(&'a ImportPlan);
        impl Serialize for Items<'_> {
            fn serialize<S: serde::Serializer>(
                &self,
                s: S,
            ) -> std::result::Result<S::Ok, S::Error> {
                s.collect_seq(self.0.items())
            }
        }
        let mut st = s.serialize_struct("ImportPlan", 4)?;
        st.serialize_field("source", &self.source)?;
        st.serialize_field("summary", &self.summary)?;
        st.serialize_field("items", &Items(self))?;
        st.serialize_field("warnings", &self.warnings)?;
        st.end()
    }
}

fn create_changes(t: AssetType, a: &BundleAsset) -> Vec<FieldChange> {
    let notes = non_empty(&a.notes);
    let mut ch = vec![FieldChange::new("type", None, Some(t.to_string()))];
    diff(&mut ch, "project", None, a.project_name.as_deref());
    diff(&mut ch, "host", None, a.host_name.as_deref());
    diff(&mut ch, "notes", None, notes.as_deref());
    diff(
        &mut ch,
        "tags",
        None,
        a.tags.as_deref().and_then(tags_text).as_deref(),
    );
    if a.archived == Some(true) {
        ch.push(FieldChange::new("archived", None, Some("true".into())));
    }
    ch
}

/// Result of [`Inventory::apply`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApplyReport {
    /// Counts, as planned.
    pub summary: ImportSummary,
    /// Audit id of the `IMPORT_RUN` row.
    pub import_run_audit_id: i64,
}

struct ExistingAsset {
    id: i64,
    asset_type: AssetType,
    project: Option<i64>,
    host: Option<i64>,
    notes: Option<String>,
    archived: bool,
    /// Tag ids, sorted by tag name.
    tags: Vec<i64>,
}

/// Id → name of projects, hosts and tags (existing assets hold ids, not copies of names).
#[derive(Default)]
struct Names {
    projects: HashMap<i64, String>,
    hosts: HashMap<i64, String>,
    tags: HashMap<i64, String>,
}

impl Names {
    fn load(conn: &Connection) -> Result<Self> {
        let map = |sql: &str| -> Result<HashMap<i64, String>> {
            let mut st = conn.prepare(sql)?;
            let m = st
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?;
            Ok(m)
        };
        Ok(Names {
            projects: map("SELECT id, name FROM projects")?,
            hosts: map("SELECT id, name FROM hosts")?,
            tags: map("SELECT id, name FROM tags")?,
        })
    }
}

struct ExistingHost {
    id: i64,
    notes: Option<String>,
    vendor: Option<String>,
}

struct State {
    vendors: HashSet<String>,
    projects: HashMap<String, (i64, Option<String>, String)>,
    tags: HashMap<String, (i64, String)>,
    ranges: HashMap<String, (i64, String, Option<String>)>,
    hosts: HashMap<String, ExistingHost>,
}

fn load_state(conn: &Connection) -> Result<State> {
    let mut s = State {
        vendors: HashSet::new(),
        projects: HashMap::new(),
        tags: HashMap::new(),
        ranges: HashMap::new(),
        hosts: HashMap::new(),
    };
    let mut st = conn.prepare("SELECT name FROM vendors")?;
    for n in st.query_map([], |r| r.get::<_, String>(0))? {
        s.vendors.insert(n?);
    }
    let mut st = conn.prepare("SELECT id, name, description, color FROM projects")?;
    let mut rows = st.query([])?;
    while let Some(r) = rows.next()? {
        s.projects
            .insert(r.get(1)?, (r.get(0)?, r.get(2)?, r.get(3)?));
    }
    let mut st = conn.prepare("SELECT id, name, color FROM tags")?;
    let mut rows = st.query([])?;
    while let Some(r) = rows.next()? {
        s.tags.insert(r.get(1)?, (r.get(0)?, r.get(2)?));
    }
    let mut st = conn.prepare("SELECT id, cidr, name, notes FROM ip_ranges")?;
    let mut rows = st.query([])?;
    while let Some(r) = rows.next()? {
        s.ranges
            .insert(r.get(1)?, (r.get(0)?, r.get(2)?, r.get(3)?));
    }
    let mut st = conn.prepare("SELECT h.id, h.name, h.notes, v.name FROM hosts h LEFT JOIN vendors v ON v.id = h.vendor_id")?;
    let mut rows = st.query([])?;
    while let Some(r) = rows.next()? {
        s.hosts.insert(
            r.get(1)?,
            ExistingHost {
                id: r.get(0)?,
                notes: r.get(2)?,
                vendor: r.get(3)?,
            },
        );
    }
    Ok(s)
}

/// Existing assets for the addresses in `keys`: all at once when the import
/// touches a large share of the inventory, else one indexed lookup each.
fn load_assets(conn: &Connection, keys: &[&str]) -> Result<HashMap<IpAddr, ExistingAsset>> {
    let total: i64 = conn.query_row("SELECT count(*) FROM ip_assets", [], |r| r.get(0))?;
    let mut out = HashMap::with_capacity(keys.len().min(total as usize));
    if total == 0 {
        return Ok(out);
    }
    let base = "SELECT a.id, a.ip_address, a.type, a.project_id, a.host_id, a.notes, a.archived FROM ip_assets a";
    let row = |r: &rusqlite::Row<'_>| -> rusqlite::Result<(String, ExistingAsset)> {
        let t: String = r.get(2)?;
        Ok((
            r.get(1)?,
            ExistingAsset {
                id: r.get(0)?,
                asset_type: t.parse().unwrap_or(AssetType::Other),
                project: r.get(3)?,
                host: r.get(4)?,
                notes: r.get(5)?,
                archived: r.get(6)?,
                tags: Vec::new(),
            },
        ))
    };
    let tag_order =
        "SELECT x.ip_asset_id, x.tag_id FROM ip_asset_tags x JOIN tags t ON t.id = x.tag_id";
    let bulk = keys.len() as i64 * 8 >= total;
    if bulk {
        let mut by_id: HashMap<i64, IpAddr> = HashMap::with_capacity(total as usize);
        let mut st = conn.prepare(base)?;
        let mut rows = st.query([])?;
        while let Some(r) = rows.next()? {
            let (text, a) = row(r)?;
            // rows whose text is not a canonical address never match an import key
            if let Ok(ip) = text.parse::<IpAddr>() {
                by_id.insert(a.id, ip);
                out.insert(ip, a);
            }
        }
        let mut st = conn.prepare(&format!("{tag_order} ORDER BY t.name"))?;
        let mut rows = st.query([])?;
        while let Some(r) = rows.next()? {
            let id: i64 = r.get(0)?;
            if let Some(a) = by_id.get(&id).and_then(|ip| out.get_mut(ip)) {
                a.tags.push(r.get(1)?);
            }
        }
    } else {
        let mut st = conn.prepare(&format!("{base} WHERE a.ip_address = ?1"))?;
        let mut tg = conn.prepare(&format!(
            "{tag_order} WHERE x.ip_asset_id = ?1 ORDER BY t.name"
        ))?;
        for k in keys {
            let mut rows = st.query_map([k], row)?;
            if let Some(r) = rows.next() {
                let (text, mut a) = r?;
                a.tags = tg
                    .query_map([a.id], |r| r.get(1))?
                    .collect::<rusqlite::Result<_>>()?;
                if let Ok(ip) = text.parse::<IpAddr>() {
                    out.insert(ip, a);
                }
            }
        }
    }
    Ok(out)
}

fn name_of(m: &HashMap<i64, String>, id: Option<i64>) -> Option<&str> {
    id.and_then(|i| m.get(&i).map(String::as_str))
}

fn diff(out: &mut Vec<FieldChange>, field: &str, before: Option<&str>, after: Option<&str>) {
    if before != after {
        out.push(FieldChange::new(
            field,
            before.map(str::to_string),
            after.map(str::to_string),
        ));
    }
}

fn non_empty(s: &Option<String>) -> Option<String> {
    s.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

fn tags_text(t: &[String]) -> Option<String> {
    if t.is_empty() {
        None
    } else {
        Some(t.join(", "))
    }
}

fn item(
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

impl Inventory {
    /// Computes what importing `bundle` would do, without writing anything.
    ///
    /// Every reference problem (unknown project, host or vendor; an address twice
    /// in the source; a new asset without a type) is collected; any error means
    /// `Err(Error::Import(..))` with all of them.
    pub fn plan(&self, bundle: Bundle, options: &ImportOptions) -> Result<ImportPlan> {
        let conn = &self.conn;
        let audit_mark = Inventory::audit_mark(conn)?;
        let mut st = load_state(conn)?;
        let mut errors: Vec<ImportIssue> = Vec::new();
        let mut warnings: Vec<ImportIssue> = Vec::new();
        let mut items: Vec<Item> = Vec::with_capacity(bundle.ip_assets.len() + 16);
        let mut related_updated = false;

        // vendors
        let mut seen: HashMap<&str, String> = HashMap::new();
        for (idx, v) in bundle.vendors.iter().enumerate() {
            if let Some(first) = seen.insert(&v.name, v.location.item()) {
                errors.push(ImportIssue::new(
                    v.location.field("name"),
                    format!("duplicate vendor {:?} (first at {first})", v.name),
                ));
                continue;
            }
            if st.vendors.contains(&v.name) {
                items.push(item(
                    Src::Vendor(idx),
                    ImportEntity::Vendor,
                    ImportAction::Skip,
                    vec![],
                    None,
                ));
            } else {
                st.vendors.insert(v.name.clone());
                let ch = vec![FieldChange::new("name", None, Some(v.name.clone()))];
                items.push(item(
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
        for (idx, p) in bundle.projects.iter().enumerate() {
            if let Some(first) = seen.insert(&p.name, p.location.item()) {
                errors.push(ImportIssue::new(
                    p.location.field("name"),
                    format!("duplicate project {:?} (first at {first})", p.name),
                ));
                continue;
            }
            let desc = p.description.as_ref().map(|d| non_empty(&Some(d.clone())));
            match st.projects.get(&p.name) {
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
                        items.push(item(
                            Src::Project(idx),
                            ImportEntity::Project,
                            ImportAction::Skip,
                            ch,
                            None,
                        ));
                    } else {
                        related_updated = true;
                        let op = Op::Project {
                            id: Some(*id),
                            description: new_desc,
                            color: new_color,
                        };
                        items.push(item(
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
                    st.projects
                        .insert(p.name.clone(), (0, desc.clone(), color.clone()));
                    let op = Op::Project {
                        id: None,
                        description: desc,
                        color,
                    };
                    items.push(item(
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
        let mut tag_items = Vec::new();
        for (idx, t) in bundle.tags.iter().enumerate() {
            if let Some(first) = seen.insert(&t.name, t.location.item()) {
                errors.push(ImportIssue::new(
                    t.location.field("name"),
                    format!("duplicate tag {:?} (first at {first})", t.name),
                ));
                continue;
            }
            match st.tags.get(&t.name) {
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
                    tag_items.push(item(Src::Tag(idx), ImportEntity::Tag, a, ch, op));
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
                    st.tags.insert(t.name.clone(), (0, color.clone()));
                    tag_items.push(item(
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
        let mut range_items = Vec::new();
        let mut seen: HashMap<&str, String> = HashMap::new();
        for (idx, r) in bundle.ip_ranges.iter().enumerate() {
            if let Some(first) = seen.insert(&r.cidr, r.location.item()) {
                errors.push(ImportIssue::new(
                    r.location.field("cidr"),
                    format!("duplicate range {} (first at {first})", r.cidr),
                ));
                continue;
            }
            let notes = r.notes.as_ref().map(|n| non_empty(&Some(n.clone())));
            match st.ranges.get(&r.cidr) {
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
                    range_items.push(item(Src::IpRange(idx), ImportEntity::IpRange, a, ch, op));
                }
                None => {
                    let Some(name) = r.name.clone() else {
                        errors.push(ImportIssue::new(
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
                    range_items.push(item(
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
        let mut host_items = Vec::new();
        let mut seen: HashMap<&str, String> = HashMap::new();
        let mut new_hosts: HashSet<String> = HashSet::new();
        for (idx, h) in bundle.hosts.iter().enumerate() {
            if let Some(first) = seen.insert(&h.name, h.location.item()) {
                errors.push(ImportIssue::new(
                    h.location.field("name"),
                    format!("duplicate host {:?} (first at {first})", h.name),
                ));
                continue;
            }
            if let Some(v) = &h.vendor_name {
                if !st.vendors.contains(v) {
                    if options.create_missing_vendors {
                        implicit_vendors.insert(v.clone());
                    } else {
                        errors.push(ImportIssue::new(
                            h.location.field("vendor_name"),
                            format!("vendor {v:?} does not exist"),
                        ));
                        continue;
                    }
                }
            }
            let notes = h.notes.as_ref().map(|n| non_empty(&Some(n.clone())));
            match st.hosts.get(&h.name) {
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
                        host_items.push(item(
                            Src::Host(idx),
                            ImportEntity::Host,
                            ImportAction::Skip,
                            ch,
                            None,
                        ));
                    } else {
                        related_updated = true;
                        let op = Op::Host {
                            id: Some(old.id),
                            notes: new_notes,
                            vendor: new_vendor,
                        };
                        host_items.push(item(
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
                    new_hosts.insert(h.name.clone());
                    let op = Op::Host {
                        id: None,
                        notes,
                        vendor: h.vendor_name.clone(),
                    };
                    host_items.push(item(
                        Src::Host(idx),
                        ImportEntity::Host,
                        ImportAction::Create,
                        ch,
                        Some(op),
                    ));
                }
            }
        }

        // assets
        let keys: Vec<&str> = bundle
            .ip_assets
            .iter()
            .map(|a| a.ip_address.as_str())
            .collect();
        let existing = load_assets(conn, &keys)?;
        let names = if existing.is_empty() {
            Names::default()
        } else {
            Names::load(conn)?
        };
        let mut implicit_projects: BTreeSet<String> = BTreeSet::new();
        let mut implicit_tags: BTreeSet<String> = BTreeSet::new();
        let mut asset_items = Vec::with_capacity(bundle.ip_assets.len());
        let mut seen: HashMap<&str, usize> = HashMap::with_capacity(bundle.ip_assets.len());
        for (idx, a) in bundle.ip_assets.iter().enumerate() {
            if let Some(first) = seen.insert(&a.ip_address, idx) {
                errors.push(ImportIssue::new(
                    a.location.field("ip_address"),
                    format!(
                        "duplicate IP address {} (first at {})",
                        a.ip_address,
                        bundle.ip_assets[first].location.item()
                    ),
                ));
                continue;
            }
            let mut bad = false;
            if let Some(p) = &a.project_name {
                if !st.projects.contains_key(p) {
                    if options.create_missing_projects {
                        implicit_projects.insert(p.clone());
                    } else {
                        errors.push(ImportIssue::new(
                            a.location.field("project_name"),
                            format!("project {p:?} does not exist"),
                        ));
                        bad = true;
                    }
                }
            }
            if let Some(h) = &a.host_name {
                if !st.hosts.contains_key(h) && !new_hosts.contains(h) {
                    errors.push(ImportIssue::new(
                        a.location.field("host_name"),
                        format!("host {h:?} does not exist"),
                    ));
                    bad = true;
                }
            }
            if let Some(tags) = &a.tags {
                for t in tags {
                    if !st.tags.contains_key(t) {
                        implicit_tags.insert(t.clone());
                    }
                }
            }
            let old = a
                .ip_address
                .parse::<IpAddr>()
                .ok()
                .and_then(|ip| existing.get(&ip));
            match old {
                None => {
                    let Some(t) = a.asset_type else {
                        errors.push(ImportIssue::new(
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
                        let old_tags: Vec<&str> = old
                            .tags
                            .iter()
                            .filter_map(|i| names.tags.get(i).map(String::as_str))
                            .collect();
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

        if !errors.is_empty() {
            return Err(Error::Import(ImportErrors(errors)));
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
            items.push(it);
        }
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
            items.push(it);
        }
        items.extend(tag_items);
        for t in implicit_tags {
            let ch = vec![
                FieldChange::new("name", None, Some(t.clone())),
                FieldChange::new("color", None, Some(DEFAULT_TAG_COLOR.into())),
            ];
            items.push(item(
                Src::Implicit(t.clone()),
                ImportEntity::Tag,
                ImportAction::Create,
                ch,
                Some(Op::Tag {
                    id: None,
                    color: DEFAULT_TAG_COLOR.into(),
                }),
            ));
        }
        items.extend(range_items);
        items.extend(host_items);
        items.extend(asset_items);

        if related_updated {
            warnings.push(ImportIssue::new(
                "import",
                "some related records (projects, hosts) are updated by this import",
            ));
        }
        let mut summary = ImportSummary::default();
        for it in &items {
            summary.add(it.entity, it.action);
        }
        Ok(ImportPlan {
            source: bundle.source.clone(),
            summary,
            items,
            warnings,
            bundle,
            audit_mark,
        })
    }

    /// Writes a plan in one `BEGIN IMMEDIATE` transaction: all or nothing.
    ///
    /// Each created or updated record gets its audit row (with the planned field
    /// changes), and one `IMPORT_RUN` row sums the run up. If anything changed
    /// the inventory after [`Inventory::plan`], nothing is written and
    /// [`Error::StalePlan`] is returned.
    pub fn apply(&mut self, actor: &Actor, plan: &ImportPlan) -> Result<ApplyReport> {
        actor.require_data_write()?;
        let now = self.now()?;
        let tx = self.write_tx()?;
        if Inventory::audit_mark(&tx)? != plan.audit_mark {
            return Err(Error::StalePlan);
        }
        let mut ids = IdMaps::load(&tx)?;
        for it in &plan.items {
            let Some(op) = &it.op else { continue };
            let key = plan.key(&it.src);
            let id = match (op, &it.src) {
                (Op::AssetCreate(t), Src::IpAsset(i)) => {
                    let a = &plan.bundle.ip_assets[*i];
                    let row =
                        AssetRow::from_bundle(None, M_ALL, *t, a, a.tags.as_deref().or(Some(&[])));
                    apply_asset(&tx, &now, &ids, key, &row)?
                }
                (
                    Op::AssetUpdate {
                        id,
                        mask,
                        merged_tags,
                    },
                    Src::IpAsset(i),
                ) => {
                    let a = &plan.bundle.ip_assets[*i];
                    let tags = merged_tags.as_deref().or(a.tags.as_deref());
                    let row = AssetRow::from_bundle(
                        Some(*id),
                        *mask,
                        a.asset_type.unwrap_or(AssetType::Other),
                        a,
                        tags,
                    );
                    apply_asset(&tx, &now, &ids, key, &row)?
                }
                _ => apply_op(&tx, &now, &mut ids, key, op)?,
            };
            write_audit(
                &tx,
                actor,
                &now,
                &AuditRecord {
                    target_type: it.entity.audit_type(),
                    target_id: id,
                    target_label: key,
                    action: if it.action == ImportAction::Create {
                        "CREATE"
                    } else {
                        "UPDATE"
                    },
                    changes: &plan.changes(it),
                    message: Some("import"),
                },
            )?;
        }
        let s = plan.summary.total;
        let msg = format!(
            "Import apply source={}; create={}; update={}; skip={}; warnings={}.",
            plan.source,
            s.create,
            s.update,
            s.skip,
            plan.warnings.len()
        );
        write_audit(
            &tx,
            actor,
            &now,
            &AuditRecord {
                target_type: "IMPORT_RUN",
                target_id: 0,
                target_label: &plan.source,
                action: "APPLY",
                changes: &[],
                message: Some(&msg),
            },
        )?;
        let run_id = tx.last_insert_rowid();
        tx.commit()?;
        Ok(ApplyReport {
            summary: plan.summary,
            import_run_audit_id: run_id,
        })
    }
}

struct IdMaps {
    vendors: HashMap<String, i64>,
    projects: HashMap<String, i64>,
    tags: HashMap<String, i64>,
    hosts: HashMap<String, i64>,
}

impl IdMaps {
    fn load(conn: &Connection) -> Result<Self> {
        let map = |sql: &str| -> Result<HashMap<String, i64>> {
            let mut st = conn.prepare(sql)?;
            let m = st
                .query_map([], |r| Ok((r.get(1)?, r.get(0)?)))?
                .collect::<rusqlite::Result<_>>()?;
            Ok(m)
        };
        Ok(IdMaps {
            vendors: map("SELECT id, name FROM vendors")?,
            projects: map("SELECT id, name FROM projects")?,
            tags: map("SELECT id, name FROM tags")?,
            hosts: map("SELECT id, name FROM hosts")?,
        })
    }
}

fn lookup(
    map: &HashMap<String, i64>,
    name: &Option<String>,
    what: &'static str,
) -> Result<Option<i64>> {
    match name {
        None => Ok(None),
        Some(n) => map
            .get(n)
            .copied()
            .map(Some)
            .ok_or_else(|| Error::not_found(what, n)),
    }
}

fn apply_op(tx: &Connection, now: &str, ids: &mut IdMaps, key: &str, op: &Op) -> Result<i64> {
    Ok(match op {
        Op::Vendor { name } => {
            tx.prepare_cached(
                "INSERT INTO vendors (name, created_at, updated_at) VALUES (?1, ?2, ?2)",
            )?
            .execute(params![name, now])?;
            let id = tx.last_insert_rowid();
            ids.vendors.insert(name.clone(), id);
            id
        }
        Op::Project {
            id: Some(id),
            description,
            color,
        } => {
            tx.execute(
                "UPDATE projects SET description = ?2, color = ?3 WHERE id = ?1",
                params![id, description, color],
            )?;
            *id
        }
        Op::Project {
            id: None,
            description,
            color,
        } => {
            tx.execute(
                "INSERT INTO projects (name, description, color) VALUES (?1, ?2, ?3)",
                params![key, description, color],
            )?;
            let id = tx.last_insert_rowid();
            ids.projects.insert(key.to_string(), id);
            id
        }
        Op::Tag {
            id: Some(id),
            color,
        } => {
            tx.execute(
                "UPDATE tags SET color = ?2, updated_at = ?3 WHERE id = ?1",
                params![id, color, now],
            )?;
            *id
        }
        Op::Tag { id: None, color } => {
            tx.prepare_cached(
                "INSERT INTO tags (name, color, created_at, updated_at) VALUES (?1, ?2, ?3, ?3)",
            )?
            .execute(params![key, color, now])?;
            let id = tx.last_insert_rowid();
            ids.tags.insert(key.to_string(), id);
            id
        }
        Op::Range {
            id: Some(id),
            name,
            notes,
        } => {
            tx.execute(
                "UPDATE ip_ranges SET name = ?2, notes = ?3, updated_at = ?4 WHERE id = ?1",
                params![id, name, notes, now],
            )?;
            *id
        }
        Op::Range {
            id: None,
            name,
            notes,
        } => {
            tx.execute("INSERT INTO ip_ranges (name, cidr, notes, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4)", params![name, key, notes, now])?;
            tx.last_insert_rowid()
        }
        Op::Host { id, notes, vendor } => {
            let vid = lookup(&ids.vendors, vendor, "vendor")?;
            match id {
                Some(id) => {
                    tx.prepare_cached("UPDATE hosts SET notes = ?2, vendor_id = ?3, updated_at = ?4 WHERE id = ?1")?.execute(params![id, notes, vid, now])?;
                    *id
                }
                None => {
                    tx.prepare_cached("INSERT INTO hosts (name, notes, vendor_id, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4)")?.execute(params![key, notes, vid, now])?;
                    let id = tx.last_insert_rowid();
                    ids.hosts.insert(key.to_string(), id);
                    id
                }
            }
        }
        Op::AssetUpdate { .. } => unreachable!("asset updates are applied from the bundle"),
        Op::AssetCreate(_) => unreachable!("asset creates are applied from the bundle"),
    })
}

/// Values of one asset row, borrowed from the bundle; `mask` says which to write on update.
struct AssetRow<'a> {
    id: Option<i64>,
    mask: u8,
    asset_type: AssetType,
    project: Option<&'a str>,
    host: Option<&'a str>,
    notes: Option<&'a str>,
    tags: Option<&'a [String]>,
    archived: bool,
}

impl<'a> AssetRow<'a> {
    fn from_bundle(
        id: Option<i64>,
        mask: u8,
        asset_type: AssetType,
        a: &'a BundleAsset,
        tags: Option<&'a [String]>,
    ) -> Self {
        AssetRow {
            id,
            mask,
            asset_type,
            project: a.project_name.as_deref(),
            host: a.host_name.as_deref(),
            notes: a.notes.as_deref().map(str::trim).filter(|n| !n.is_empty()),
            tags,
            archived: a.archived.unwrap_or(false),
        }
    }
}

fn lookup_ref(
    map: &HashMap<String, i64>,
    name: Option<&str>,
    what: &'static str,
) -> Result<Option<i64>> {
    match name {
        None => Ok(None),
        Some(n) => map
            .get(n)
            .copied()
            .map(Some)
            .ok_or_else(|| Error::not_found(what, n)),
    }
}

fn apply_asset(
    tx: &Connection,
    now: &str,
    ids: &IdMaps,
    key: &str,
    a: &AssetRow<'_>,
) -> Result<i64> {
    let pid = lookup_ref(&ids.projects, a.project, "project")?;
    let hid = lookup_ref(&ids.hosts, a.host, "host")?;
    let id = match a.id {
        Some(id) => {
            tx.prepare_cached(
                "UPDATE ip_assets SET
                    type = CASE WHEN ?8 & 1 THEN ?2 ELSE type END,
                    project_id = CASE WHEN ?8 & 2 THEN ?3 ELSE project_id END,
                    host_id = CASE WHEN ?8 & 4 THEN ?4 ELSE host_id END,
                    notes = CASE WHEN ?8 & 8 THEN ?5 ELSE notes END,
                    archived = CASE WHEN ?8 & 16 THEN ?6 ELSE archived END,
                    updated_at = ?7
                 WHERE id = ?1",
            )?
            .execute(params![
                id,
                a.asset_type.as_str(),
                pid,
                hid,
                a.notes,
                a.archived,
                now,
                a.mask
            ])?;
            id
        }
        None => {
            let (ip, canon) = canonical_ip(key)?;
            let (fam, k) = ip_key(ip);
            tx.prepare_cached(
                "INSERT INTO ip_assets (ip_address, ip_family, ip_key, type, project_id, host_id, notes, archived, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)",
            )?
            .execute(params![canon, fam, k, a.asset_type.as_str(), pid, hid, a.notes, a.archived, now])?;
            tx.last_insert_rowid()
        }
    };
    if let Some(tags) = a.tags.filter(|_| a.mask & M_TAGS != 0) {
        if a.id.is_some() {
            tx.prepare_cached("DELETE FROM ip_asset_tags WHERE ip_asset_id = ?1")?
                .execute([id])?;
        }
        let mut ins =
            tx.prepare_cached("INSERT INTO ip_asset_tags (ip_asset_id, tag_id) VALUES (?1, ?2)")?;
        for t in tags {
            let tid = *ids.tags.get(t).ok_or_else(|| Error::not_found("tag", t))?;
            ins.execute([id, tid])?;
        }
    }
    Ok(id)
}
