//! Apply: one `BEGIN IMMEDIATE` transaction, all or nothing.

use std::collections::HashMap;

use rusqlite::{params, Connection};

use super::report::*;
use super::BundleAsset;
use crate::audit::{write_audit, AuditRecord};
use crate::error::{Error, Result};
use crate::model::{canonical_ip, ip_key, Actor, AssetType};
use crate::store::Inventory;

impl Inventory {
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
        let mut w = Writer::new(&tx, actor, now)?;
        w.write(&tx, plan)?;
        let run_id = w.finish(&tx, &plan.source, &plan.summary, plan.warnings.len())?;
        tx.commit()?;
        Ok(ApplyReport {
            summary: plan.summary,
            import_run_audit_id: run_id,
        })
    }
}

/// Writes planned items inside an open write transaction, with their audit rows.
pub(crate) struct Writer<'a> {
    actor: &'a Actor,
    now: String,
    ids: IdMaps,
}

impl<'a> Writer<'a> {
    pub(crate) fn new(tx: &Connection, actor: &'a Actor, now: String) -> Result<Self> {
        actor.require_data_write()?;
        Ok(Writer {
            actor,
            now,
            ids: IdMaps::load(tx)?,
        })
    }

    /// Writes every item of `plan` (a whole plan, or one part of a streamed import).
    pub(crate) fn write(&mut self, tx: &Connection, plan: &ImportPlan) -> Result<()> {
        let (now, actor) = (self.now.as_str(), self.actor);
        for it in &plan.items {
            let Some(op) = &it.op else { continue };
            let key = plan.key(&it.src);
            let id = match (op, &it.src) {
                (Op::AssetCreate(t), Src::IpAsset(i)) => {
                    let a = &plan.bundle.ip_assets[*i];
                    let row =
                        AssetRow::from_bundle(None, M_ALL, *t, a, a.tags.as_deref().or(Some(&[])));
                    apply_asset(tx, now, &self.ids, key, &row)?
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
                    apply_asset(tx, now, &self.ids, key, &row)?
                }
                _ => apply_op(tx, now, &mut self.ids, key, op)?,
            };
            write_audit(
                tx,
                actor,
                now,
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
        Ok(())
    }

    /// Writes the `IMPORT_RUN` audit row that sums the run up; returns its id.
    pub(crate) fn finish(
        &self,
        tx: &Connection,
        source: &str,
        summary: &ImportSummary,
        warnings: usize,
    ) -> Result<i64> {
        let s = summary.total;
        let msg = format!(
            "Import apply source={source}; create={}; update={}; skip={}; warnings={warnings}.",
            s.create, s.update, s.skip,
        );
        write_audit(
            tx,
            self.actor,
            &self.now,
            &AuditRecord {
                target_type: "IMPORT_RUN",
                target_id: 0,
                target_label: source,
                action: "APPLY",
                changes: &[],
                message: Some(&msg),
            },
        )?;
        Ok(tx.last_insert_rowid())
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
