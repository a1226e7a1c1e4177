//! Groups.

use ipocket_db::{Row, Sql};

use super::audit::Change;
use super::{check_options, map_unique, not_found, to_json, RuleStore};

/// The audit log's name for a group.
pub(super) const GROUP: &str = "ALERT_GROUP";

const GROUP_COLUMNS: &str = "id, name, description, options, is_default_own";

use crate::error::{Error, Result};
use crate::model::{Group, GroupOptions};
use crate::names::check_name;

impl RuleStore {
    /// Creates a group.
    pub fn create_group(&self, name: &str, description: &str) -> Result<Group> {
        self.create_group_with(name, description, &GroupOptions::default())
    }

    /// Creates a group with rule-file options.
    pub fn create_group_with(
        &self,
        name: &str,
        description: &str,
        options: &GroupOptions,
    ) -> Result<Group> {
        check_name("group name", name)?;
        check_options(options)?;
        self.audited(|tx| {
            let id: i64 = tx
                .query_one(
                    "INSERT INTO rulegen_groups (name, description, options) VALUES (?1, ?2, ?3) \
                     RETURNING id",
                    &[&name, &description, &to_json(options)],
                )
                .map_err(|e| map_unique(e, "group", name))?
                .get(0)?;
            let g = group_in(tx, id)?;
            let change = Change::of(GROUP, g.id, &g.name, None, Some(&g));
            Ok((g, change))
        })
    }

    /// Replaces a group's name, description and options.
    pub fn update_group(
        &self,
        id: i64,
        name: &str,
        description: &str,
        options: &GroupOptions,
    ) -> Result<Group> {
        check_name("group name", name)?;
        check_options(options)?;
        self.audited(|tx| {
            let before = group_in(tx, id)?;
            tx.execute(
                "UPDATE rulegen_groups SET name = ?2, description = ?3, options = ?4 WHERE id = ?1",
                &[&id, &name, &description, &to_json(options)],
            )
            .map_err(|e| map_unique(e, "group", name))?;
            let g = group_in(tx, id)?;
            let change = Change::of(GROUP, id, &g.name, Some(&before), Some(&g));
            Ok((g, change))
        })
    }

    /// Deletes a group, its rules and its memberships.
    pub fn delete_group(&self, id: i64) -> Result<()> {
        self.audited(|tx| {
            let before = group_in(tx, id)?;
            tx.execute("DELETE FROM rulegen_groups WHERE id = ?1", &[&id])?;
            Ok(((), Change::of(GROUP, id, &before.name, Some(&before), None)))
        })
    }

    /// One group by id.
    pub fn group(&self, id: i64) -> Result<Group> {
        self.read(|c| group_in(c, id))
    }

    /// A group by id (digits) or name.
    pub fn find_group(&self, key: &str) -> Result<Group> {
        self.read(|c| {
            if let Ok(id) = key.parse::<i64>() {
                if let Ok(g) = group_in(c, id) {
                    return Ok(g);
                }
            }
            let sql = format!("SELECT {GROUP_COLUMNS} FROM rulegen_groups WHERE name = ?1");
            match c.query_opt(&sql, &[&key])? {
                Some(row) => build_group(&row),
                None => Err(not_found("group", key)),
            }
        })
    }

    /// Every group, by id.
    pub fn groups(&self) -> Result<Vec<Group>> {
        self.read(|c| {
            let sql = format!("SELECT {GROUP_COLUMNS} FROM rulegen_groups ORDER BY id");
            c.query(&sql, &[])?.iter().map(build_group).collect()
        })
    }
}

/// Group `id`, read through `c` (a write's transaction sees its own changes).
pub(super) fn group_in(c: &dyn Sql, id: i64) -> Result<Group> {
    let sql = format!("SELECT {GROUP_COLUMNS} FROM rulegen_groups WHERE id = ?1");
    match c.query_opt(&sql, &[&id])? {
        Some(row) => build_group(&row),
        None => Err(not_found("group", id)),
    }
}

fn build_group(row: &Row) -> Result<Group> {
    let id: i64 = row.get(0)?;
    let options: String = row.get(3)?;
    let options = serde_json::from_str(&options).map_err(|source| Error::Json {
        context: format!("options of group {id}"),
        source,
    })?;
    Ok(Group {
        id,
        name: row.get(1)?,
        description: row.get(2)?,
        options,
        is_default_own: row.get(4)?,
    })
}
