//! Targets and their group memberships.

use ipocket_db::Sql;

use super::audit::Change;
use super::groups::{group_in, GROUP};
use super::{map_unique, not_found, RuleStore};

/// The audit log's name for a target.
const TARGET: &str = "ALERT_TARGET";
use crate::error::Result;
use crate::model::{Group, Target};
use crate::names::check_name;

impl RuleStore {
    /// Creates a target and puts it into `group_ids`; with none, into a group of its own
    /// (seed 002, as AAMI): `target-<hostname>`, marked `is_default_own`, made here (or,
    /// when an own group of that name is left from a deleted target of the same host
    /// name, taken back with its rules).
    pub fn create_target(
        &self,
        hostname: &str,
        address: &str,
        group_ids: &[i64],
    ) -> Result<Target> {
        check_name("hostname", hostname)?;
        self.audited_many(|tx| {
            let id: i64 = tx
                .query_one(
                    "INSERT INTO rulegen_targets (hostname, address) VALUES (?1, ?2) RETURNING id",
                    &[&hostname, &address],
                )
                .map_err(|e| map_unique(e, "target", hostname))?
                .get(0)?;
            let own = match group_ids {
                [] => Some(own_group(tx, hostname)?),
                _ => None,
            };
            let ids = own.as_ref().map(|(g, _)| vec![g.id]);
            add_memberships(tx, id, ids.as_deref().unwrap_or(group_ids))?;
            let after = target_in(tx, id)?;
            let change = Change::of(TARGET, id, &after.hostname, None, Some(&after));
            // A new own group is a write of its own (audited before the target's).
            let mut changes: Vec<Change> = own.and_then(|(_, made)| made).into_iter().collect();
            changes.push(change);
            Ok((after, changes))
        })
    }

    /// Changes a target's host name and address and, when `group_ids` is given, replaces its
    /// group memberships: all in one transaction, so a refused group leaves it unchanged.
    pub fn update_target(
        &self,
        id: i64,
        hostname: &str,
        address: &str,
        group_ids: Option<&[i64]>,
    ) -> Result<Target> {
        check_name("hostname", hostname)?;
        self.audited(|tx| {
            let before = target_in(tx, id)?;
            tx.execute(
                "UPDATE rulegen_targets SET hostname = ?2, address = ?3 WHERE id = ?1",
                &[&id, &hostname, &address],
            )
            .map_err(|e| map_unique(e, "target", hostname))?;
            if let Some(group_ids) = group_ids {
                replace_memberships(tx, id, group_ids)?;
            }
            let after = target_in(tx, id)?;
            let change = Change::of(TARGET, id, &after.hostname, Some(&before), Some(&after));
            Ok((after, change))
        })
    }

    /// Replaces a target's group memberships.
    pub fn set_target_groups(&self, id: i64, group_ids: &[i64]) -> Result<Target> {
        self.audited(|tx| {
            let before = target_in(tx, id)?;
            replace_memberships(tx, id, group_ids)?;
            let after = target_in(tx, id)?;
            let change = Change::of(TARGET, id, &after.hostname, Some(&before), Some(&after));
            Ok((after, change))
        })
    }

    /// Deletes a target (its memberships go with it).
    pub fn delete_target(&self, id: i64) -> Result<()> {
        self.audited(|tx| {
            let before = target_in(tx, id)?;
            tx.execute("DELETE FROM rulegen_targets WHERE id = ?1", &[&id])?;
            let change = Change::of(TARGET, id, &before.hostname, Some(&before), None);
            Ok(((), change))
        })
    }

    /// One target by id.
    pub fn target(&self, id: i64) -> Result<Target> {
        self.read(|c| target_in(c, id))
    }

    /// A target by id (digits) or host name.
    pub fn find_target(&self, key: &str) -> Result<Target> {
        self.read(|c| {
            if let Ok(id) = key.parse::<i64>() {
                if let Ok(t) = target_in(c, id) {
                    return Ok(t);
                }
            }
            let id: Option<i64> = c
                .query_opt(
                    "SELECT id FROM rulegen_targets WHERE hostname = ?1",
                    &[&key],
                )?
                .map(|r| r.get(0))
                .transpose()?;
            target_in(c, id.ok_or_else(|| not_found("target", key))?)
        })
    }

    /// Every target, by id.
    pub fn targets(&self) -> Result<Vec<Target>> {
        self.read(|c| {
            c.query("SELECT id FROM rulegen_targets ORDER BY id", &[])?
                .iter()
                .map(|r| target_in(c, r.get(0)?))
                .collect()
        })
    }
}

/// The own group of a new target `hostname`: an existing own group of that name without
/// members, else a new one (`Some(change)` to audit).
fn own_group(tx: &dyn Sql, hostname: &str) -> Result<(Group, Option<Change>)> {
    let name = format!("target-{hostname}");
    let left = tx.query_opt(
        "SELECT id FROM rulegen_groups g WHERE name = ?1 AND is_default_own = 1 \
         AND NOT EXISTS (SELECT 1 FROM rulegen_target_groups m WHERE m.group_id = g.id)",
        &[&name],
    )?;
    if let Some(row) = left {
        return Ok((group_in(tx, row.get(0)?)?, None));
    }
    check_name("group name", &name)?;
    let id: i64 = tx
        .query_one(
            "INSERT INTO rulegen_groups (name, description, is_default_own) VALUES (?1, ?2, 1) \
             RETURNING id",
            &[&name, &format!("Default group for target {hostname}")],
        )
        .map_err(|e| map_unique(e, "group", &name))?
        .get(0)?;
    let g = group_in(tx, id)?;
    let change = Change::of(GROUP, g.id, &g.name, None, Some(&g));
    Ok((g, Some(change)))
}

fn replace_memberships(tx: &dyn Sql, id: i64, group_ids: &[i64]) -> Result<()> {
    tx.execute(
        "DELETE FROM rulegen_target_groups WHERE target_id = ?1",
        &[&id],
    )?;
    add_memberships(tx, id, group_ids)
}

/// Puts target `id` into each group (which must exist).
fn add_memberships(tx: &dyn Sql, id: i64, group_ids: &[i64]) -> Result<()> {
    for g in group_ids {
        group_in(tx, *g)?;
        tx.execute(
            "INSERT INTO rulegen_target_groups (target_id, group_id) VALUES (?1, ?2) \
             ON CONFLICT DO NOTHING",
            &[&id, g],
        )?;
    }
    Ok(())
}

/// Target `id` with its groups, read through `c`.
fn target_in(c: &dyn Sql, id: i64) -> Result<Target> {
    let row = c
        .query_opt(
            "SELECT hostname, address FROM rulegen_targets WHERE id = ?1",
            &[&id],
        )?
        .ok_or_else(|| not_found("target", id))?;
    let group_ids = c
        .query(
            "SELECT group_id FROM rulegen_target_groups WHERE target_id = ?1 ORDER BY group_id",
            &[&id],
        )?
        .iter()
        .map(|r| r.get(0))
        .collect::<ipocket_db::Result<Vec<i64>>>()?;
    Ok(Target {
        id,
        hostname: row.get(0)?,
        address: row.get(1)?,
        group_ids,
    })
}
