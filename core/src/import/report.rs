//! What a plan says: counts, per-record actions and changes, and the operations apply runs.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use super::field_diff::{diff, non_empty, tags_text};
use super::{Bundle, BundleAsset};
use crate::audit::FieldChange;
use crate::error::ImportIssue;
use crate::model::AssetType;

/// Options of [`Inventory::plan`](crate::Inventory::plan).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportOptions {
    /// Create projects that assets or hosts name but that neither the bundle nor
    /// the inventory has (CSV import does this, as in the original).
    pub create_missing_projects: bool,
    /// Same for vendors named by hosts.
    pub create_missing_vendors: bool,
}

/// What the import does to one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImportAction {
    /// A new record.
    Create,
    /// Some fields change.
    Update,
    /// Nothing changes.
    Skip,
}

impl ImportAction {
    /// The audit action of a written item (a skipped one writes nothing).
    pub(crate) fn audit_action(self) -> &'static str {
        if self == ImportAction::Create {
            "CREATE"
        } else {
            "UPDATE"
        }
    }
}

/// Kind of record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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
    pub(crate) fn audit_type(self) -> &'static str {
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
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntityCounts {
    /// Records created.
    pub create: u64,
    /// Records updated.
    pub update: u64,
    /// Records left as they are.
    pub skip: u64,
}

impl EntityCounts {
    pub(crate) fn add(&mut self, a: ImportAction) {
        match a {
            ImportAction::Create => self.create += 1,
            ImportAction::Update => self.update += 1,
            ImportAction::Skip => self.skip += 1,
        }
    }
}

/// Counts per kind of record and in total.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
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
    pub(crate) fn merge(&mut self, o: &ImportSummary) {
        for (a, b) in [
            (&mut self.vendors, &o.vendors),
            (&mut self.projects, &o.projects),
            (&mut self.tags, &o.tags),
            (&mut self.ip_ranges, &o.ip_ranges),
            (&mut self.hosts, &o.hosts),
            (&mut self.ip_assets, &o.ip_assets),
            (&mut self.total, &o.total),
        ] {
            a.create += b.create;
            a.update += b.update;
            a.skip += b.skip;
        }
    }

    pub(crate) fn add(&mut self, e: ImportEntity, a: ImportAction) {
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
pub(crate) enum Op {
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

pub(crate) const M_TYPE: u8 = 1;
pub(crate) const M_PROJECT: u8 = 2;
pub(crate) const M_HOST: u8 = 4;
pub(crate) const M_NOTES: u8 = 8;
pub(crate) const M_ARCHIVED: u8 = 16;
pub(crate) const M_TAGS: u8 = 32;
pub(crate) const M_ALL: u8 = 63;

/// Where a planned record comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Src {
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
pub(crate) struct Item {
    pub(crate) entity: ImportEntity,
    pub(crate) action: ImportAction,
    pub(crate) src: Src,
    /// Stored changes; empty for asset creates, whose changes are derived from the bundle.
    pub(crate) changes: Vec<FieldChange>,
    pub(crate) warnings: Vec<String>,
    pub(crate) op: Option<Op>,
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

/// The dry run: what [`Inventory::apply`](crate::Inventory::apply) would do, computed without writing.
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
    pub(crate) items: Vec<Item>,
    pub(crate) bundle: Bundle,
    pub(crate) audit_mark: i64,
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

    /// The result in the original ipocket's import response shape:
    /// `{"summary": {"vendors": {"would_create", "would_update", "would_skip"}, …, "total": …},
    /// "errors": [], "warnings": [{"location", "message", "level": "warning"}]}`
    /// (tags and ranges are counted in `total` only, as the original has no such sections).
    pub fn original_result_json(&self) -> serde_json::Value {
        let c = |e: &EntityCounts| serde_json::json!({"would_create": e.create, "would_update": e.update, "would_skip": e.skip});
        let s = &self.summary;
        let warnings: Vec<_> = self
            .warnings
            .iter()
            .map(|w| serde_json::json!({"location": w.location, "message": w.message, "level": "warning"}))
            .collect();
        serde_json::json!({
            "summary": {
                "vendors": c(&s.vendors),
                "projects": c(&s.projects),
                "hosts": c(&s.hosts),
                "ip_assets": c(&s.ip_assets),
                "total": c(&s.total),
            },
            "errors": [],
            "warnings": warnings,
        })
    }

    /// The bundle the plan was made from.
    pub fn bundle(&self) -> &Bundle {
        &self.bundle
    }

    pub(crate) fn key<'p>(&'p self, src: &'p Src) -> &'p str {
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

    pub(crate) fn location(&self, src: &Src) -> String {
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

    pub(crate) fn changes<'p>(&'p self, it: &'p Item) -> Cow<'p, [FieldChange]> {
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

pub(crate) fn create_changes(t: AssetType, a: &BundleAsset) -> Vec<FieldChange> {
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

/// Result of [`Inventory::apply`](crate::Inventory::apply).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplyReport {
    /// Counts, as planned.
    pub summary: ImportSummary,
    /// Audit id of the `IMPORT_RUN` row.
    pub import_run_audit_id: i64,
}
