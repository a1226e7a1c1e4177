//! IP asset create / restore / update / archive / delete.

use ipocket_db::{Backend, Row, Sql};

use crate::audit::{write_audit, AuditRecord, FieldChange};
use crate::error::{Error, Result};
use crate::limits::check_text;
use crate::model::{canonical_ip, ip_key, normalize_tags, Actor, AssetType, IpAsset};
use crate::store::Inventory;

/// Input of [`Inventory::create_ip_asset`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewIpAsset {
    /// IPv4 or IPv6 text; stored canonically.
    pub ip_address: String,
    /// Kind.
    pub asset_type: AssetType,
    /// Project id.
    pub project_id: Option<i64>,
    /// Host id.
    pub host_id: Option<i64>,
    /// Notes.
    pub notes: Option<String>,
    /// Tag names; missing tags are created.
    pub tags: Vec<String>,
    /// For `BMC` assets without a host: link to (and create) host `server_<ip>`.
    pub auto_host_for_bmc: bool,
}

impl NewIpAsset {
    /// An asset with only address and type.
    pub fn new(ip_address: &str, asset_type: AssetType) -> Self {
        NewIpAsset {
            ip_address: ip_address.to_string(),
            asset_type,
            project_id: None,
            host_id: None,
            notes: None,
            tags: Vec::new(),
            auto_host_for_bmc: false,
        }
    }
}

/// Input of [`Inventory::update_ip_asset`]: `None` keeps a field;
/// `Some(None)` clears it; `tags` replaces the whole set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IpAssetPatch {
    /// New type.
    pub asset_type: Option<AssetType>,
    /// New project (or cleared).
    pub project_id: Option<Option<i64>>,
    /// New host (or cleared).
    pub host_id: Option<Option<i64>>,
    /// New notes (or cleared).
    pub notes: Option<Option<String>>,
    /// New tag set.
    pub tags: Option<Vec<String>>,
}

/// Input of [`Inventory::bulk_update_ip_assets`]: one change for many assets. `None` keeps
/// a field, `Some(None)` clears it; tags are added to and removed from each asset's own set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BulkEdit {
    /// New type.
    pub asset_type: Option<AssetType>,
    /// New project (or cleared).
    pub project_id: Option<Option<i64>>,
    /// New host (or cleared).
    pub host_id: Option<Option<i64>>,
    /// New notes (or cleared).
    pub notes: Option<Option<String>>,
    /// Tags to add; missing tags are created.
    pub add_tags: Vec<String>,
    /// Tags to remove (removal wins over adding the same tag).
    pub remove_tags: Vec<String>,
}

/// The columns [`asset_from_row`] reads, with the joins they need; a statement appends its
/// `WHERE` / `ORDER BY`. The tag list is one comma-joined text per asset.
pub(crate) fn asset_select(b: Backend) -> &'static str {
    match b {
        Backend::Sqlite => {
            "SELECT a.id, a.ip_address, a.type, a.project_id, p.name, a.host_id, h.name,
        a.notes, a.archived, a.created_at, a.updated_at,
        (SELECT group_concat(t.name, ',') FROM ip_asset_tags x JOIN tags t ON t.id = x.tag_id
          WHERE x.ip_asset_id = a.id)
 FROM ip_assets a LEFT JOIN projects p ON p.id = a.project_id LEFT JOIN hosts h ON h.id = a.host_id"
        }
        Backend::Postgres => {
            "SELECT a.id, a.ip_address, a.type, a.project_id, p.name, a.host_id, h.name,
        a.notes, a.archived, a.created_at, a.updated_at,
        (SELECT string_agg(t.name, ',') FROM ip_asset_tags x JOIN tags t ON t.id = x.tag_id
          WHERE x.ip_asset_id = a.id)
 FROM ip_assets a LEFT JOIN projects p ON p.id = a.project_id LEFT JOIN hosts h ON h.id = a.host_id"
        }
    }
}

/// A `group_concat` of tag names (which never contain a comma), sorted by name here: a sort
/// inside the per-row subquery cost SQLite a temporary b-tree per asset.
fn sorted_tags(list: &str) -> Vec<String> {
    let mut tags: Vec<String> = list.split(',').map(str::to_string).collect();
    tags.sort_unstable();
    tags
}

pub(crate) fn asset_from_row(r: &Row) -> Result<IpAsset> {
    let t: String = r.get(2)?;
    let tags: Option<String> = r.get(11)?;
    Ok(IpAsset {
        id: r.get(0)?,
        ip_address: r.get(1)?,
        asset_type: t.parse().unwrap_or(AssetType::Other),
        project_id: r.get(3)?,
        project_name: r.get(4)?,
        host_id: r.get(5)?,
        host_name: r.get(6)?,
        notes: r.get(7)?,
        archived: r.get(8)?,
        created_at: r.get(9)?,
        updated_at: r.get(10)?,
        tags: tags.map(|s| sorted_tags(&s)).unwrap_or_default(),
    })
}

pub(crate) fn load_asset_by_ip(c: &dyn Sql, ip: &str) -> Result<Option<IpAsset>> {
    let sql = format!("{} WHERE a.ip_address = ?1", asset_select(c.backend()));
    c.query_opt(&sql, &[&ip])?
        .map(|r| asset_from_row(&r))
        .transpose()
}

fn load_asset_by_id(c: &dyn Sql, id: i64) -> Result<IpAsset> {
    let sql = format!("{} WHERE a.id = ?1", asset_select(c.backend()));
    match c.query_opt(&sql, &[&id])? {
        Some(r) => asset_from_row(&r),
        None => Err(Error::not_found("ip asset", id)),
    }
}

fn name_of(c: &dyn Sql, table: &str, id: Option<i64>) -> Result<Option<String>> {
    let Some(id) = id else { return Ok(None) };
    let n: Option<String> = c
        .query_opt(&format!("SELECT name FROM {table} WHERE id = ?1"), &[&id])?
        .map(|r| r.get(0))
        .transpose()?;
    match n {
        Some(n) => Ok(Some(n)),
        None => Err(Error::not_found(
            if table == "projects" {
                "project"
            } else {
                "host"
            },
            id,
        )),
    }
}

/// Creates missing tags (default colour, audited) and returns the ids in order.
pub(crate) fn ensure_tags(
    conn: &dyn Sql,
    actor: &Actor,
    now: &str,
    names: &[String],
) -> Result<Vec<i64>> {
    let mut ids = Vec::with_capacity(names.len());
    for n in names {
        let id: Option<i64> = conn
            .query_opt("SELECT id FROM tags WHERE name = ?1", &[n])?
            .map(|r| r.get(0))
            .transpose()?;
        let id = match id {
            Some(id) => id,
            None => {
                let id: i64 = conn
                    .query_one(
                        "INSERT INTO tags (name, created_at, updated_at) VALUES (?1, ?2, ?2) RETURNING id",
                        &[n, &now],
                    )?
                    .get(0)?;
                write_audit(
                    conn,
                    actor,
                    now,
                    &AuditRecord {
                        target_type: "TAG",
                        target_id: id,
                        target_label: n,
                        action: "CREATE",
                        changes: &[FieldChange::new("name", None, Some(n.clone()))],
                        message: None,
                    },
                )?;
                id
            }
        };
        ids.push(id);
    }
    Ok(ids)
}

pub(crate) fn set_tags(c: &dyn Sql, asset_id: i64, tag_ids: &[i64]) -> Result<()> {
    c.execute(
        "DELETE FROM ip_asset_tags WHERE ip_asset_id = ?1",
        &[&asset_id],
    )?;
    for t in tag_ids {
        c.execute(
            "INSERT INTO ip_asset_tags (ip_asset_id, tag_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
            &[&asset_id, t],
        )?;
    }
    Ok(())
}

pub(crate) fn join_tags(tags: &[String]) -> Option<String> {
    if tags.is_empty() {
        None
    } else {
        Some(tags.join(", "))
    }
}

fn diff_push(
    out: &mut Vec<FieldChange>,
    field: &'static str,
    before: Option<String>,
    after: Option<String>,
) {
    if before != after {
        out.push(FieldChange::new(field, before, after));
    }
}

fn bool_text(b: bool) -> Option<String> {
    Some(b.to_string())
}

impl Inventory {
    /// Creates an IP asset. An archived asset with the same address is
    /// restored instead (same id, new values); an active one is a conflict.
    pub fn create_ip_asset(&mut self, actor: &Actor, new: &NewIpAsset) -> Result<IpAsset> {
        actor.require_data_write()?;
        let max_text = self.limits.max_text_chars;
        let now = self.now()?;
        self.write(|tx| create_asset_in(tx, actor, &now, new, max_text))
    }

    /// One asset by address (any spelling of it), archived or not.
    pub fn ip_asset(&self, ip: &str) -> Result<IpAsset> {
        let (_, canon) = canonical_ip(ip)?;
        self.read(|c| load_asset_by_ip(c, &canon))?
            .ok_or_else(|| Error::not_found("ip asset", canon))
    }

    /// Changes the fields the patch names; writes no audit row when nothing changed.
    pub fn update_ip_asset(
        &mut self,
        actor: &Actor,
        ip: &str,
        patch: &IpAssetPatch,
    ) -> Result<IpAsset> {
        actor.require_data_write()?;
        let (_, canon) = canonical_ip(ip)?;
        let max_text = self.limits.max_text_chars;
        let now = self.now()?;
        self.write(|tx| {
            let old = load_asset_by_ip(tx, &canon)?
                .ok_or_else(|| Error::not_found("ip asset", &canon))?;
            if !update_loaded(tx, actor, &now, &old, patch, max_text)? {
                return Ok(old);
            }
            load_asset_by_id(tx, old.id)
        })
    }

    /// Applies one edit to every asset of `ips` in one transaction, all or nothing: an
    /// unknown address or a bad value writes nothing. Each changed asset gets the same
    /// audit row as [`Inventory::update_ip_asset`] would write. Returns how many assets
    /// changed (an edit that changes nothing on an asset does not count).
    ///
    /// ```
    /// use ipocket_core::*;
    /// let mut inv = Inventory::open_in_memory().unwrap();
    /// let actor = Actor::system();
    /// for ip in ["10.0.0.1", "10.0.0.2"] {
    ///     inv.create_ip_asset(&actor, &NewIpAsset::new(ip, AssetType::Vm)).unwrap();
    /// }
    /// let edit = BulkEdit { add_tags: vec!["edge".into()], ..Default::default() };
    /// assert_eq!(inv.bulk_update_ip_assets(&actor, &["10.0.0.1", "10.0.0.2"], &edit).unwrap(), 2);
    /// assert_eq!(inv.ip_asset("10.0.0.2").unwrap().tags, vec!["edge"]);
    /// ```
    pub fn bulk_update_ip_assets<S: AsRef<str>>(
        &mut self,
        actor: &Actor,
        ips: &[S],
        edit: &BulkEdit,
    ) -> Result<usize> {
        actor.require_data_write()?;
        let add = normalize_tags(&edit.add_tags)?;
        let remove = normalize_tags(&edit.remove_tags)?;
        let max_text = self.limits.max_text_chars;
        let now = self.now()?;
        self.write(|tx| {
            let mut changed = 0;
            for ip in ips {
                let (_, canon) = canonical_ip(ip.as_ref())?;
                let old = load_asset_by_ip(tx, &canon)?
                    .ok_or_else(|| Error::not_found("ip asset", &canon))?;
                let tags = (!add.is_empty() || !remove.is_empty()).then(|| {
                    let mut t: Vec<String> = old
                        .tags
                        .iter()
                        .chain(&add)
                        .filter(|t| !remove.contains(t))
                        .cloned()
                        .collect();
                    t.sort_unstable();
                    t.dedup();
                    t
                });
                let patch = IpAssetPatch {
                    asset_type: edit.asset_type,
                    project_id: edit.project_id,
                    host_id: edit.host_id,
                    notes: edit.notes.clone(),
                    tags,
                };
                if update_loaded(tx, actor, &now, &old, &patch, max_text)? {
                    changed += 1;
                }
            }
            Ok(changed)
        })
    }

    /// Soft-deletes an asset (`archived = true`). Archiving an archived asset is a no-op.
    pub fn archive_ip_asset(&mut self, actor: &Actor, ip: &str) -> Result<IpAsset> {
        self.set_archived(actor, ip, true)
    }

    /// Un-archives an asset without changing its other fields.
    pub fn unarchive_ip_asset(&mut self, actor: &Actor, ip: &str) -> Result<IpAsset> {
        self.set_archived(actor, ip, false)
    }

    fn set_archived(&mut self, actor: &Actor, ip: &str, archived: bool) -> Result<IpAsset> {
        actor.require_data_write()?;
        let (_, canon) = canonical_ip(ip)?;
        let now = self.now()?;
        self.write(|tx| {
            let old = load_asset_by_ip(tx, &canon)?
                .ok_or_else(|| Error::not_found("ip asset", &canon))?;
            if old.archived == archived {
                return Ok(old);
            }
            tx.execute(
                "UPDATE ip_assets SET archived = ?2, updated_at = ?3 WHERE id = ?1",
                &[&old.id, &archived, &now],
            )?;
            write_audit(
                tx,
                actor,
                &now,
                &AuditRecord {
                    target_type: "IP_ASSET",
                    target_id: old.id,
                    target_label: &canon,
                    action: if archived { "ARCHIVE" } else { "RESTORE" },
                    changes: &[FieldChange::new(
                        "archived",
                        bool_text(!archived),
                        bool_text(archived),
                    )],
                    message: None,
                },
            )?;
            load_asset_by_id(tx, old.id)
        })
    }

    /// Deletes an asset permanently.
    pub fn delete_ip_asset(&mut self, actor: &Actor, ip: &str) -> Result<()> {
        actor.require_data_write()?;
        let (_, canon) = canonical_ip(ip)?;
        let now = self.now()?;
        self.write(|tx| {
            let old = load_asset_by_ip(tx, &canon)?
                .ok_or_else(|| Error::not_found("ip asset", &canon))?;
            tx.execute("DELETE FROM ip_assets WHERE id = ?1", &[&old.id])?;
            write_audit(
                tx,
                actor,
                &now,
                &AuditRecord {
                    target_type: "IP_ASSET",
                    target_id: old.id,
                    target_label: &canon,
                    action: "DELETE",
                    changes: &[],
                    message: Some("Deleted IP asset."),
                },
            )
        })
    }
}

/// Writes `patch` over `old` (loaded in this transaction) with its audit row; `false` when
/// nothing changed (then nothing is written).
fn update_loaded(
    conn: &dyn Sql,
    actor: &Actor,
    now: &str,
    old: &IpAsset,
    patch: &IpAssetPatch,
    max_text: usize,
) -> Result<bool> {
    let new_type = patch.asset_type.unwrap_or(old.asset_type);
    let new_project = patch.project_id.unwrap_or(old.project_id);
    let new_host = patch.host_id.unwrap_or(old.host_id);
    let new_notes = match &patch.notes {
        Some(n) => n.clone().filter(|s| !s.is_empty()),
        None => old.notes.clone(),
    };
    if new_notes != old.notes {
        check_text("notes", new_notes.as_deref(), max_text)?;
    }
    let new_tags = match &patch.tags {
        Some(t) => normalize_tags(t)?,
        None => old.tags.clone(),
    };
    let mut changes = Vec::new();
    diff_push(
        &mut changes,
        "type",
        Some(old.asset_type.to_string()),
        Some(new_type.to_string()),
    );
    diff_push(
        &mut changes,
        "project",
        old.project_name.clone(),
        name_of(conn, "projects", new_project)?,
    );
    diff_push(
        &mut changes,
        "host",
        old.host_name.clone(),
        name_of(conn, "hosts", new_host)?,
    );
    diff_push(&mut changes, "notes", old.notes.clone(), new_notes.clone());
    diff_push(
        &mut changes,
        "tags",
        join_tags(&old.tags),
        join_tags(&new_tags),
    );
    if changes.is_empty() {
        return Ok(false);
    }
    conn.execute(
        "UPDATE ip_assets SET type = ?2, project_id = ?3, host_id = ?4, notes = ?5, updated_at = ?6 WHERE id = ?1",
        &[&old.id, &new_type.as_str(), &new_project, &new_host, &new_notes, &now],
    )?;
    if new_tags != old.tags {
        let ids = ensure_tags(conn, actor, now, &new_tags)?;
        set_tags(conn, old.id, &ids)?;
    }
    write_audit(
        conn,
        actor,
        now,
        &AuditRecord {
            target_type: "IP_ASSET",
            target_id: old.id,
            target_label: &old.ip_address,
            action: "UPDATE",
            changes: &changes,
            message: None,
        },
    )?;
    Ok(true)
}

/// Create-or-restore inside an open transaction (shared with range allocation).
pub(crate) fn create_asset_in(
    conn: &dyn Sql,
    actor: &Actor,
    now: &str,
    new: &NewIpAsset,
    max_text: usize,
) -> Result<IpAsset> {
    let (ip, canon) = canonical_ip(&new.ip_address)?;
    let tags = normalize_tags(&new.tags)?;
    check_text("notes", new.notes.as_deref(), max_text)?;
    let project_name = name_of(conn, "projects", new.project_id)?;
    let mut host_id = new.host_id;
    let existing = load_asset_by_ip(conn, &canon)?;
    if let Some(e) = &existing {
        if !e.archived {
            return Err(Error::Conflict(format!(
                "IP address {canon} already exists"
            )));
        }
    }
    if host_id.is_none() && new.auto_host_for_bmc && new.asset_type == AssetType::Bmc {
        let name = format!("server_{canon}");
        let id: Option<i64> = conn
            .query_opt("SELECT id FROM hosts WHERE name = ?1", &[&name])?
            .map(|r| r.get(0))
            .transpose()?;
        host_id = Some(match id {
            Some(id) => id,
            None => {
                let id: i64 = conn
                    .query_one(
                        "INSERT INTO hosts (name, created_at, updated_at) VALUES (?1, ?2, ?2) RETURNING id",
                        &[&name, &now],
                    )?
                    .get(0)?;
                write_audit(
                    conn,
                    actor,
                    now,
                    &AuditRecord {
                        target_type: "HOST",
                        target_id: id,
                        target_label: &name,
                        action: "CREATE",
                        changes: &[FieldChange::new("name", None, Some(name.clone()))],
                        message: Some("Created for BMC address."),
                    },
                )?;
                id
            }
        });
    }
    let host_name = name_of(conn, "hosts", host_id)?;
    let notes = new.notes.clone().filter(|s| !s.is_empty());
    let tag_ids = ensure_tags(conn, actor, now, &tags)?;
    let (fam, key) = ip_key(ip);
    let (id, action, changes) = match existing {
        Some(old) => {
            conn.execute(
                "UPDATE ip_assets SET archived = 0, type = ?2, project_id = ?3, host_id = ?4, notes = ?5, updated_at = ?6 WHERE id = ?1",
                &[&old.id, &new.asset_type.as_str(), &new.project_id, &host_id, &notes, &now],
            )?;
            let mut ch = vec![FieldChange::new(
                "archived",
                bool_text(true),
                bool_text(false),
            )];
            diff_push(
                &mut ch,
                "type",
                Some(old.asset_type.to_string()),
                Some(new.asset_type.to_string()),
            );
            diff_push(&mut ch, "project", old.project_name.clone(), project_name);
            diff_push(&mut ch, "host", old.host_name.clone(), host_name);
            diff_push(&mut ch, "notes", old.notes.clone(), notes);
            diff_push(&mut ch, "tags", join_tags(&old.tags), join_tags(&tags));
            (old.id, "RESTORE", ch)
        }
        None => {
            let id: i64 = conn
                .query_one(
                    "INSERT INTO ip_assets (ip_address, ip_family, ip_key, type, project_id, host_id, notes, archived, created_at, updated_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0, ?8, ?8) RETURNING id",
                    &[&canon, &fam, &key, &new.asset_type.as_str(), &new.project_id, &host_id, &notes, &now],
                )?
                .get(0)?;
            let mut ch = vec![FieldChange::new(
                "type",
                None,
                Some(new.asset_type.to_string()),
            )];
            diff_push(&mut ch, "project", None, project_name);
            diff_push(&mut ch, "host", None, host_name);
            diff_push(&mut ch, "notes", None, notes);
            diff_push(&mut ch, "tags", None, join_tags(&tags));
            (id, "CREATE", ch)
        }
    };
    set_tags(conn, id, &tag_ids)?;
    write_audit(
        conn,
        actor,
        now,
        &AuditRecord {
            target_type: "IP_ASSET",
            target_id: id,
            target_label: &canon,
            action,
            changes: &changes,
            message: None,
        },
    )?;
    load_asset_by_id(conn, id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AuditFilter, Page};

    fn inventory_with(ips: &[&str]) -> Inventory {
        let mut inv = Inventory::open_in_memory().unwrap();
        for ip in ips {
            let mut a = NewIpAsset::new(ip, AssetType::Vm);
            a.tags = vec!["old".into()];
            inv.create_ip_asset(&Actor::system(), &a).unwrap();
        }
        inv
    }

    #[test]
    fn bulk_update_writes_each_change_with_its_audit_row() {
        let mut inv = inventory_with(&["10.0.0.1", "10.0.0.2", "10.0.0.3"]);
        let actor = Actor::system();
        let p = inv.create_project(&actor, "core", None, None).unwrap().id;
        let edit = BulkEdit {
            project_id: Some(Some(p)),
            add_tags: vec!["Edge".into()],
            remove_tags: vec!["old".into()],
            notes: Some(Some("moved".into())),
            ..Default::default()
        };
        let n = inv
            .bulk_update_ip_assets(&actor, &["10.0.0.1", "10.0.0.3"], &edit)
            .unwrap();
        assert_eq!(n, 2);
        let a = inv.ip_asset("10.0.0.3").unwrap();
        assert_eq!(a.project_name.as_deref(), Some("core"));
        assert_eq!(a.tags, vec!["edge"]);
        assert_eq!(a.notes.as_deref(), Some("moved"));
        assert_eq!(inv.ip_asset("10.0.0.2").unwrap().tags, vec!["old"]);
        let log = inv
            .audit_log(
                &AuditFilter {
                    target_label: Some("10.0.0.1".into()),
                    ..Default::default()
                },
                Page::default(),
            )
            .unwrap();
        assert_eq!(log.items[0].action, "UPDATE");
        let fields: Vec<&str> = log.items[0].changes.iter().map(|c| &*c.field).collect();
        assert_eq!(fields, ["project", "notes", "tags"]);
        // The same edit again changes nothing and writes no row.
        assert_eq!(
            inv.bulk_update_ip_assets(&actor, &["10.0.0.1"], &edit)
                .unwrap(),
            0
        );
    }

    #[test]
    fn bulk_update_is_all_or_nothing() {
        let mut inv = inventory_with(&["10.0.0.1", "10.0.0.2"]);
        let edit = BulkEdit {
            asset_type: Some(AssetType::Vip),
            ..Default::default()
        };
        let e = inv
            .bulk_update_ip_assets(&Actor::system(), &["10.0.0.1", "10.0.0.9"], &edit)
            .unwrap_err();
        assert!(matches!(e, Error::NotFound { .. }), "{e}");
        assert_eq!(inv.ip_asset("10.0.0.1").unwrap().asset_type, AssetType::Vm);
        let bad_host = BulkEdit {
            host_id: Some(Some(999)),
            ..Default::default()
        };
        assert!(inv
            .bulk_update_ip_assets(&Actor::system(), &["10.0.0.1"], &bad_host)
            .is_err());
        let viewer = Actor {
            user_id: Some(1),
            username: Some("vi".into()),
            role: Some(crate::Role::Viewer),
        };
        assert!(inv
            .bulk_update_ip_assets(&viewer, &["10.0.0.1"], &edit)
            .is_err());
    }
}
