//! Apply: one write transaction, all or nothing. Items are written one by one (SQLite);
//! on PostgreSQL the hosts and IP assets go in bulk (`import::copy_load`).

use std::collections::HashMap;

use ipocket_db::{Backend, Sql};

use super::copy_load::CopyBatch;
use super::report::*;
use super::BundleAsset;
use crate::audit::{write_audit, write_audit_id, AuditRecord};
use crate::error::{Error, Result};
use crate::model::{canonical_ip, ip_key, Actor, AssetType};
use crate::store::Inventory;

impl Inventory {
    /// Writes a plan in one write transaction: all or nothing.
    ///
    /// Each created or updated record gets its audit row (with the planned field
    /// changes), and one `IMPORT_RUN` row sums the run up. If anything changed
    /// the inventory after [`Inventory::plan`], nothing is written and
    /// [`Error::StalePlan`] is returned.
    pub fn apply(&mut self, actor: &Actor, plan: &ImportPlan) -> Result<ApplyReport> {
        actor.require_data_write()?;
        let now = self.now()?;
        let run_id = self.write(|tx| {
            if Inventory::audit_mark(tx)? != plan.audit_mark {
                return Err(Error::StalePlan);
            }
            let mut w = Writer::new(tx, actor, now)?;
            w.write(tx, plan)?;
            w.finish(tx, &plan.source, &plan.summary, plan.warnings.len())
        })?;
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
    pub(crate) fn new(tx: &dyn Sql, actor: &'a Actor, now: String) -> Result<Self> {
        actor.require_data_write()?;
        Ok(Writer {
            actor,
            now,
            ids: IdMaps::load(tx)?,
        })
    }

    /// Writes every item of `plan` (a whole plan, or one part of a streamed import), in
    /// order. On PostgreSQL runs of hosts and of IP assets are collected and written in
    /// bulk (`copy_load`), each before the next other item, so the audit rows keep the
    /// order of the items.
    pub(crate) fn write(&mut self, tx: &dyn Sql, plan: &ImportPlan) -> Result<()> {
        let (now, actor) = (self.now.as_str(), self.actor);
        let mut batch = (tx.backend() == Backend::Postgres).then(|| CopyBatch::new(tx, actor, now));
        for it in &plan.items {
            let Some(op) = &it.op else { continue };
            let key = plan.key(&it.src);
            let id = match (op, &it.src, &mut batch) {
                (Op::AssetCreate(_) | Op::AssetUpdate { .. }, Src::IpAsset(i), batch) => {
                    let row = AssetRow::planned(op, &plan.bundle.ip_assets[*i]);
                    if let Some(batch) = batch {
                        batch.push_asset(&mut self.ids, key, &row, it, &plan.changes(it))?;
                        continue;
                    }
                    apply_asset(tx, now, &self.ids, key, &row)?
                }
                (Op::Host { .. }, _, Some(batch)) => {
                    batch.push_host(&mut self.ids, key, it)?;
                    continue;
                }
                (_, _, batch) => {
                    if let Some(batch) = batch {
                        batch.flush(&mut self.ids)?;
                    }
                    apply_op(tx, now, &mut self.ids, key, op)?
                }
            };
            write_audit(
                tx,
                actor,
                now,
                &AuditRecord {
                    target_type: it.entity.audit_type(),
                    target_id: id,
                    target_label: key,
                    action: it.action.audit_action(),
                    changes: &plan.changes(it),
                    message: Some("import"),
                },
            )?;
        }
        if let Some(batch) = &mut batch {
            batch.flush(&mut self.ids)?;
        }
        Ok(())
    }

    /// Writes the `IMPORT_RUN` audit row that sums the run up; returns its id.
    pub(crate) fn finish(
        &self,
        tx: &dyn Sql,
        source: &str,
        summary: &ImportSummary,
        warnings: usize,
    ) -> Result<i64> {
        let s = summary.total;
        let msg = format!(
            "Import apply source={source}; create={}; update={}; skip={}; warnings={warnings}.",
            s.create, s.update, s.skip,
        );
        write_audit_id(
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
        )
    }
}

/// Name → id of the records assets and hosts refer to, kept up to date as the apply
/// creates them.
pub(crate) struct IdMaps {
    pub(crate) vendors: HashMap<String, i64>,
    pub(crate) projects: HashMap<String, i64>,
    pub(crate) tags: HashMap<String, i64>,
    pub(crate) hosts: HashMap<String, i64>,
}

impl IdMaps {
    fn load(c: &dyn Sql) -> Result<Self> {
        Ok(IdMaps {
            vendors: name_ids(c, "SELECT id, name FROM vendors")?,
            projects: name_ids(c, "SELECT id, name FROM projects")?,
            tags: name_ids(c, "SELECT id, name FROM tags")?,
            hosts: name_ids(c, "SELECT id, name FROM hosts")?,
        })
    }
}

/// Name → id of the rows `sql` (`SELECT id, name …`) returns.
fn name_ids(c: &dyn Sql, sql: &str) -> Result<HashMap<String, i64>> {
    let mut m = HashMap::new();
    crate::store::each_row(c, sql, &[], |r| {
        m.insert(r.get(1)?, r.get(0)?);
        Ok(())
    })?;
    Ok(m)
}

pub(crate) fn lookup(
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

fn apply_op(tx: &dyn Sql, now: &str, ids: &mut IdMaps, key: &str, op: &Op) -> Result<i64> {
    Ok(match op {
        Op::Vendor { name } => {
            let id = tx.insert_id(
                "INSERT INTO vendors (name, created_at, updated_at) VALUES (?1, ?2, ?2)",
                &[name, &now],
            )?;
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
                &[id, description, color],
            )?;
            *id
        }
        Op::Project {
            id: None,
            description,
            color,
        } => {
            let id = tx.insert_id(
                "INSERT INTO projects (name, description, color) VALUES (?1, ?2, ?3)",
                &[&key, description, color],
            )?;
            ids.projects.insert(key.to_string(), id);
            id
        }
        Op::Tag {
            id: Some(id),
            color,
        } => {
            tx.execute(
                "UPDATE tags SET color = ?2, updated_at = ?3 WHERE id = ?1",
                &[id, color, &now],
            )?;
            *id
        }
        Op::Tag { id: None, color } => {
            let id = tx.insert_id(
                "INSERT INTO tags (name, color, created_at, updated_at) VALUES (?1, ?2, ?3, ?3)",
                &[&key, color, &now],
            )?;
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
                &[id, name, notes, &now],
            )?;
            *id
        }
        Op::Range {
            id: None,
            name,
            notes,
        } => tx.insert_id(
            "INSERT INTO ip_ranges (name, cidr, notes, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4)",
            &[name, &key, notes, &now],
        )?,
        Op::Host { id, notes, vendor } => {
            let vid = lookup(&ids.vendors, vendor, "vendor")?;
            match id {
                Some(id) => {
                    tx.execute(
                        "UPDATE hosts SET notes = ?2, vendor_id = ?3, updated_at = ?4 WHERE id = ?1",
                        &[id, notes, &vid, &now],
                    )?;
                    *id
                }
                None => {
                    let id = tx.insert_id(
                        "INSERT INTO hosts (name, notes, vendor_id, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4)",
                        &[&key, notes, &vid, &now],
                    )?;
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
pub(crate) struct AssetRow<'a> {
    pub(crate) id: Option<i64>,
    pub(crate) mask: u8,
    pub(crate) asset_type: AssetType,
    pub(crate) project: Option<&'a str>,
    pub(crate) host: Option<&'a str>,
    pub(crate) notes: Option<&'a str>,
    pub(crate) tags: Option<&'a [String]>,
    pub(crate) archived: bool,
}

impl<'a> AssetRow<'a> {
    /// The row an asset create or update writes.
    fn planned(op: &'a Op, a: &'a BundleAsset) -> Self {
        match op {
            Op::AssetCreate(t) => {
                AssetRow::from_bundle(None, M_ALL, *t, a, a.tags.as_deref().or(Some(&[])))
            }
            Op::AssetUpdate {
                id,
                mask,
                merged_tags,
            } => AssetRow::from_bundle(
                Some(*id),
                *mask,
                a.asset_type.unwrap_or(AssetType::Other),
                a,
                merged_tags.as_deref().or(a.tags.as_deref()),
            ),
            _ => unreachable!("only asset operations write asset rows"),
        }
    }

    /// The project and host ids (the same errors as the row-by-row path).
    pub(crate) fn refs(&self, ids: &IdMaps) -> Result<(Option<i64>, Option<i64>)> {
        Ok((
            lookup_ref(&ids.projects, self.project, "project")?,
            lookup_ref(&ids.hosts, self.host, "host")?,
        ))
    }

    /// The tags written (`None`: the asset's tags are left alone).
    pub(crate) fn tags_written(&self) -> Option<&'a [String]> {
        self.tags.filter(|_| self.mask & M_TAGS != 0)
    }

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

/// The id of tag `name` (created earlier in the import, or existing).
pub(crate) fn tag_id(ids: &IdMaps, name: &str) -> Result<i64> {
    ids.tags
        .get(name)
        .copied()
        .ok_or_else(|| Error::not_found("tag", name))
}

fn apply_asset(tx: &dyn Sql, now: &str, ids: &IdMaps, key: &str, a: &AssetRow<'_>) -> Result<i64> {
    let (pid, hid) = a.refs(ids)?;
    let id = match a.id {
        Some(id) => {
            tx.execute(
                "UPDATE ip_assets SET
                    type = CASE WHEN (?8 & 1) <> 0 THEN ?2 ELSE type END,
                    project_id = CASE WHEN (?8 & 2) <> 0 THEN ?3 ELSE project_id END,
                    host_id = CASE WHEN (?8 & 4) <> 0 THEN ?4 ELSE host_id END,
                    notes = CASE WHEN (?8 & 8) <> 0 THEN ?5 ELSE notes END,
                    archived = CASE WHEN (?8 & 16) <> 0 THEN ?6 ELSE archived END,
                    updated_at = ?7
                 WHERE id = ?1",
                &[
                    &id,
                    &a.asset_type.as_str(),
                    &pid,
                    &hid,
                    &a.notes,
                    &a.archived,
                    &now,
                    &a.mask,
                ],
            )?;
            id
        }
        None => {
            let (ip, canon) = canonical_ip(key)?;
            let (fam, k) = ip_key(ip);
            tx.insert_id(
                "INSERT INTO ip_assets (ip_address, ip_family, ip_key, type, project_id, host_id, notes, archived, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)",
                &[&canon, &fam, &k, &a.asset_type.as_str(), &pid, &hid, &a.notes, &a.archived, &now],
            )?
        }
    };
    if let Some(tags) = a.tags_written() {
        if a.id.is_some() {
            tx.execute("DELETE FROM ip_asset_tags WHERE ip_asset_id = ?1", &[&id])?;
        }
        for t in tags {
            tx.execute(
                "INSERT INTO ip_asset_tags (ip_asset_id, tag_id) VALUES (?1, ?2)",
                &[&id, &tag_id(ids, t)?],
            )?;
        }
    }
    Ok(id)
}
