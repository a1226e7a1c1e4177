//! Groups.

use rusqlite::{params, OptionalExtension, Row};

use super::audit::Change;
use super::{check_options, map_unique, not_found, to_json, RuleStore};

/// The audit log's name for a group.
pub(super) const GROUP: &str = "ALERT_GROUP";

/// id, name, description, options (JSON), is_default_own.
type RawGroup = (i64, String, String, String, bool);
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
            tx.execute(
                "INSERT INTO rulegen_groups (name, description, options) VALUES (?1, ?2, ?3)",
                params![name, description, to_json(options)],
            )
            .map_err(|e| map_unique(e, "group", name))?;
            let g = self.group(tx.last_insert_rowid())?;
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
            let before = self.group(id)?;
            tx.execute(
                "UPDATE rulegen_groups SET name = ?2, description = ?3, options = ?4 WHERE id = ?1",
                params![id, name, description, to_json(options)],
            )
            .map_err(|e| map_unique(e, "group", name))?;
            let g = self.group(id)?;
            let change = Change::of(GROUP, id, &g.name, Some(&before), Some(&g));
            Ok((g, change))
        })
    }

    /// Deletes a group, its rules and its memberships.
    pub fn delete_group(&self, id: i64) -> Result<()> {
        self.audited(|tx| {
            let before = self.group(id)?;
            tx.execute("DELETE FROM rulegen_groups WHERE id = ?1", [id])?;
            Ok(((), Change::of(GROUP, id, &before.name, Some(&before), None)))
        })
    }

    fn group_from_row(row: &Row<'_>) -> rusqlite::Result<RawGroup> {
        Ok((
            row.get(0)?,
            row.get(1)?,
            row.get(2)?,
            row.get(3)?,
            row.get(4)?,
        ))
    }

    fn build_group(raw: RawGroup) -> Result<Group> {
        let options = serde_json::from_str(&raw.3).map_err(|source| Error::Json {
            context: format!("options of group {}", raw.0),
            source,
        })?;
        Ok(Group {
            id: raw.0,
            name: raw.1,
            description: raw.2,
            options,
            is_default_own: raw.4,
        })
    }

    /// One group by id.
    pub fn group(&self, id: i64) -> Result<Group> {
        let raw = self
            .conn
            .query_row(
                "SELECT id, name, description, options, is_default_own FROM rulegen_groups WHERE id = ?1",
                [id],
                Self::group_from_row,
            )
            .optional()?
            .ok_or_else(|| not_found("group", id))?;
        Self::build_group(raw)
    }

    /// A group by id (digits) or name.
    pub fn find_group(&self, key: &str) -> Result<Group> {
        if let Ok(id) = key.parse::<i64>() {
            if let Ok(g) = self.group(id) {
                return Ok(g);
            }
        }
        let id: Option<i64> = self
            .conn
            .query_row(
                "SELECT id FROM rulegen_groups WHERE name = ?1",
                [key],
                |r| r.get(0),
            )
            .optional()?;
        self.group(id.ok_or_else(|| not_found("group", key))?)
    }

    /// Every group, by id.
    pub fn groups(&self) -> Result<Vec<Group>> {
        let mut stmt = self.conn.prepare(
            "SELECT id, name, description, options, is_default_own FROM rulegen_groups ORDER BY id",
        )?;
        let raws = stmt
            .query_map([], Self::group_from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        raws.into_iter().map(Self::build_group).collect()
    }
}
