//! Projects, vendors, tags and hosts.

use ipocket_db::{Row, Sql};

use crate::audit::{write_audit, AuditRecord, FieldChange};
use crate::error::{Error, Result};
use crate::limits::check_text;
use crate::model::{
    normalize_color, normalize_tag_name, required_name, Actor, Host, Project, Tag, Vendor,
    DEFAULT_PROJECT_COLOR, DEFAULT_TAG_COLOR,
};
use crate::store::Inventory;

fn audit_simple(
    c: &dyn Sql,
    actor: &Actor,
    now: &str,
    (target_type, id, label): (&str, i64, &str),
    action: &str,
    changes: &[FieldChange],
) -> Result<()> {
    write_audit(
        c,
        actor,
        now,
        &AuditRecord {
            target_type,
            target_id: id,
            target_label: label,
            action,
            changes,
            message: None,
        },
    )
}

fn push(
    out: &mut Vec<FieldChange>,
    field: &'static str,
    before: Option<String>,
    after: Option<String>,
) {
    if before != after {
        out.push(FieldChange::new(field, before, after));
    }
}

fn empty_none(s: Option<&str>) -> Option<String> {
    s.map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// The id an `INSERT … RETURNING id` gave back; a refused duplicate name as a conflict.
fn inserted_id(
    c: &dyn Sql,
    sql: &str,
    args: &[&dyn ipocket_db::ToArg],
    what: &str,
    name: &str,
) -> Result<i64> {
    let row = c
        .query_one(sql, args)
        .map_err(|e| Error::from(e).or_conflict(what, name))?;
    Ok(row.get(0)?)
}

/// Runs an `UPDATE`; a refused duplicate name as a conflict.
fn update_named(
    c: &dyn Sql,
    sql: &str,
    args: &[&dyn ipocket_db::ToArg],
    what: &str,
    name: &str,
) -> Result<()> {
    c.execute(sql, args)
        .map_err(|e| Error::from(e).or_conflict(what, name))?;
    Ok(())
}

const PROJECT_SELECT: &str = "SELECT id, name, description, color FROM projects";
const VENDOR_SELECT: &str = "SELECT id, name FROM vendors";
const TAG_SELECT: &str = "SELECT id, name, color FROM tags";
const HOST_SELECT: &str =
    "SELECT h.id, h.name, h.notes, h.vendor_id, v.name FROM hosts h LEFT JOIN vendors v ON v.id = h.vendor_id";

fn project_from_row(r: &Row) -> Result<Project> {
    Ok(Project {
        id: r.get(0)?,
        name: r.get(1)?,
        description: r.get(2)?,
        color: r.get(3)?,
    })
}

fn vendor_from_row(r: &Row) -> Result<Vendor> {
    Ok(Vendor {
        id: r.get(0)?,
        name: r.get(1)?,
    })
}

fn tag_from_row(r: &Row) -> Result<Tag> {
    Ok(Tag {
        id: r.get(0)?,
        name: r.get(1)?,
        color: r.get(2)?,
    })
}

fn host_from_row(r: &Row) -> Result<Host> {
    Ok(Host {
        id: r.get(0)?,
        name: r.get(1)?,
        notes: r.get(2)?,
        vendor_id: r.get(3)?,
        vendor_name: r.get(4)?,
    })
}

/// Every row of `select` (one of the `*_SELECT`s) ordered by `order`.
fn all_of<T>(
    c: &dyn Sql,
    select: &str,
    order: &str,
    from_row: fn(&Row) -> Result<T>,
) -> Result<Vec<T>> {
    c.query(&format!("{select} ORDER BY {order}"), &[])?
        .iter()
        .map(from_row)
        .collect()
}

/// The row of `select` whose `id_column` is `id`; [`Error::NotFound`] as `what`.
fn one_of<T>(
    c: &dyn Sql,
    (select, id_column): (&str, &str),
    what: &'static str,
    id: i64,
    from_row: fn(&Row) -> Result<T>,
) -> Result<T> {
    match c.query_opt(&format!("{select} WHERE {id_column} = ?1"), &[&id])? {
        Some(r) => from_row(&r),
        None => Err(Error::not_found(what, id)),
    }
}

fn project_in(c: &dyn Sql, id: i64) -> Result<Project> {
    one_of(c, (PROJECT_SELECT, "id"), "project", id, project_from_row)
}

fn vendor_in(c: &dyn Sql, id: i64) -> Result<Vendor> {
    one_of(c, (VENDOR_SELECT, "id"), "vendor", id, vendor_from_row)
}

fn tag_in(c: &dyn Sql, id: i64) -> Result<Tag> {
    one_of(c, (TAG_SELECT, "id"), "tag", id, tag_from_row)
}

fn host_in(c: &dyn Sql, id: i64) -> Result<Host> {
    one_of(c, (HOST_SELECT, "h.id"), "host", id, host_from_row)
}

fn hosts_in(c: &dyn Sql) -> Result<Vec<Host>> {
    all_of(c, HOST_SELECT, "h.name", host_from_row)
}

/// The name of vendor `id` (`None` for none); [`Error::NotFound`] when it does not exist.
fn vendor_name_in(c: &dyn Sql, id: Option<i64>) -> Result<Option<String>> {
    id.map(|v| vendor_in(c, v).map(|v| v.name)).transpose()
}

impl Inventory {
    /// All projects by name.
    pub fn projects(&self) -> Result<Vec<Project>> {
        self.read(|c| all_of(c, PROJECT_SELECT, "name", project_from_row))
    }

    /// One project by id.
    ///
    /// ```
    /// use ipocket_core::{Actor, Inventory};
    /// let mut inv = Inventory::open_in_memory()?;
    /// let p = inv.create_project(&Actor::system(), "core", None, None)?;
    /// assert_eq!(inv.project(p.id)?.name, "core");
    /// assert!(inv.project(p.id + 1).is_err());
    /// # Ok::<(), ipocket_core::Error>(())
    /// ```
    pub fn project(&self, id: i64) -> Result<Project> {
        self.read(|c| project_in(c, id))
    }

    /// Creates a project; colour blank means the default `#94a3b8`.
    pub fn create_project(
        &mut self,
        actor: &Actor,
        name: &str,
        description: Option<&str>,
        color: Option<&str>,
    ) -> Result<Project> {
        actor.require_data_write()?;
        let name = required_name("project name", name)?;
        let color = normalize_color(color.unwrap_or(""), DEFAULT_PROJECT_COLOR)?;
        let description = empty_none(description);
        check_text(
            "description",
            description.as_deref(),
            self.limits.max_text_chars,
        )?;
        let now = self.now()?;
        self.write(|tx| {
            let id = inserted_id(
                tx,
                "INSERT INTO projects (name, description, color) VALUES (?1, ?2, ?3) RETURNING id",
                &[&name, &description, &color],
                "project",
                &name,
            )?;
            let mut ch = vec![FieldChange::new("name", None, Some(name.clone()))];
            push(&mut ch, "description", None, description.clone());
            push(&mut ch, "color", None, Some(color.clone()));
            audit_simple(tx, actor, &now, ("PROJECT", id, &name), "CREATE", &ch)?;
            Ok(Project {
                id,
                name: name.clone(),
                description: description.clone(),
                color: color.clone(),
            })
        })
    }

    /// Changes a project's name, description or colour (`None` keeps).
    pub fn update_project(
        &mut self,
        actor: &Actor,
        id: i64,
        name: Option<&str>,
        description: Option<Option<&str>>,
        color: Option<&str>,
    ) -> Result<Project> {
        actor.require_data_write()?;
        let max_text = self.limits.max_text_chars;
        let now = self.now()?;
        self.write(|tx| {
            let old = project_in(tx, id)?;
            let new = Project {
                id,
                name: match name {
                    Some(n) => required_name("project name", n)?,
                    None => old.name.clone(),
                },
                description: match description {
                    Some(d) => empty_none(d),
                    None => old.description.clone(),
                },
                color: match color {
                    Some(c) => normalize_color(c, DEFAULT_PROJECT_COLOR)?,
                    None => old.color.clone(),
                },
            };
            if new.description != old.description {
                // only a changed value: one stored before the limit does not block other edits
                check_text("description", new.description.as_deref(), max_text)?;
            }
            let mut ch = Vec::new();
            push(
                &mut ch,
                "name",
                Some(old.name.clone()),
                Some(new.name.clone()),
            );
            push(
                &mut ch,
                "description",
                old.description.clone(),
                new.description.clone(),
            );
            push(
                &mut ch,
                "color",
                Some(old.color.clone()),
                Some(new.color.clone()),
            );
            if ch.is_empty() {
                return Ok(old);
            }
            update_named(
                tx,
                "UPDATE projects SET name = ?2, description = ?3, color = ?4 WHERE id = ?1",
                &[&id, &new.name, &new.description, &new.color],
                "project",
                &new.name,
            )?;
            audit_simple(tx, actor, &now, ("PROJECT", id, &new.name), "UPDATE", &ch)?;
            Ok(new)
        })
    }

    /// Deletes a project; its addresses become unassigned.
    pub fn delete_project(&mut self, actor: &Actor, id: i64) -> Result<()> {
        self.delete_named(actor, "projects", "PROJECT", "project", id)
    }

    fn delete_named(
        &mut self,
        actor: &Actor,
        table: &str,
        tt: &str,
        what: &'static str,
        id: i64,
    ) -> Result<()> {
        actor.require_data_write()?;
        let now = self.now()?;
        self.write(|tx| {
            let name: String = tx
                .query_opt(&format!("SELECT name FROM {table} WHERE id = ?1"), &[&id])?
                .ok_or_else(|| Error::not_found(what, id))?
                .get(0)?;
            tx.execute(&format!("DELETE FROM {table} WHERE id = ?1"), &[&id])?;
            audit_simple(tx, actor, &now, (tt, id, &name), "DELETE", &[])
        })
    }

    /// All vendors by name.
    pub fn vendors(&self) -> Result<Vec<Vendor>> {
        self.read(|c| all_of(c, VENDOR_SELECT, "name", vendor_from_row))
    }

    /// One vendor by id.
    pub fn vendor(&self, id: i64) -> Result<Vendor> {
        self.read(|c| vendor_in(c, id))
    }

    /// Creates a vendor.
    pub fn create_vendor(&mut self, actor: &Actor, name: &str) -> Result<Vendor> {
        actor.require_data_write()?;
        let name = required_name("vendor name", name)?;
        let now = self.now()?;
        self.write(|tx| {
            let id = inserted_id(
                tx,
                "INSERT INTO vendors (name, created_at, updated_at) VALUES (?1, ?2, ?2) RETURNING id",
                &[&name, &now],
                "vendor",
                &name,
            )?;
            audit_simple(
                tx,
                actor,
                &now,
                ("VENDOR", id, &name),
                "CREATE",
                &[FieldChange::new("name", None, Some(name.clone()))],
            )?;
            Ok(Vendor {
                id,
                name: name.clone(),
            })
        })
    }

    /// Deletes a vendor; its hosts keep existing without a vendor.
    pub fn delete_vendor(&mut self, actor: &Actor, id: i64) -> Result<()> {
        self.delete_named(actor, "vendors", "VENDOR", "vendor", id)
    }

    /// All tags by name.
    pub fn tags(&self) -> Result<Vec<Tag>> {
        self.read(|c| all_of(c, TAG_SELECT, "name", tag_from_row))
    }

    /// One tag by id.
    pub fn tag(&self, id: i64) -> Result<Tag> {
        self.read(|c| tag_in(c, id))
    }

    /// Creates a tag (name normalised to lower case; colour default `#e2e8f0`).
    pub fn create_tag(&mut self, actor: &Actor, name: &str, color: Option<&str>) -> Result<Tag> {
        actor.require_data_write()?;
        let name = normalize_tag_name(name)?;
        let color = normalize_color(color.unwrap_or(""), DEFAULT_TAG_COLOR)?;
        let now = self.now()?;
        self.write(|tx| {
            let id = inserted_id(
                tx,
                "INSERT INTO tags (name, color, created_at, updated_at) VALUES (?1, ?2, ?3, ?3) RETURNING id",
                &[&name, &color, &now],
                "tag",
                &name,
            )?;
            let ch = [
                FieldChange::new("name", None, Some(name.clone())),
                FieldChange::new("color", None, Some(color.clone())),
            ];
            audit_simple(tx, actor, &now, ("TAG", id, &name), "CREATE", &ch)?;
            Ok(Tag {
                id,
                name: name.clone(),
                color: color.clone(),
            })
        })
    }

    /// Deletes a tag and its links to addresses.
    pub fn delete_tag(&mut self, actor: &Actor, id: i64) -> Result<()> {
        self.delete_named(actor, "tags", "TAG", "tag", id)
    }

    /// All hosts by name.
    pub fn hosts(&self) -> Result<Vec<Host>> {
        self.read(hosts_in)
    }

    /// Creates a host.
    pub fn create_host(
        &mut self,
        actor: &Actor,
        name: &str,
        notes: Option<&str>,
        vendor_id: Option<i64>,
    ) -> Result<Host> {
        let (host, _) =
            self.create_host_with_addresses(actor, name, notes, vendor_id, None, &[], &[])?;
        Ok(host)
    }

    /// Creates a host and its `OS` and `BMC` addresses (linked to it, in `project_id`) in one
    /// transaction, as the original's host form does. An address that is not an IP, is
    /// listed twice or is already active is an [`Error::Invalid`] at field `os_ips` or
    /// `bmc_ips`, and nothing is created. An archived address is restored.
    #[allow(clippy::too_many_arguments)]
    pub fn create_host_with_addresses(
        &mut self,
        actor: &Actor,
        name: &str,
        notes: Option<&str>,
        vendor_id: Option<i64>,
        project_id: Option<i64>,
        os_ips: &[&str],
        bmc_ips: &[&str],
    ) -> Result<(Host, Vec<crate::IpAsset>)> {
        actor.require_data_write()?;
        let name = required_name("host name", name)?;
        let notes = empty_none(notes);
        let max_text = self.limits.max_text_chars;
        check_text("notes", notes.as_deref(), max_text)?;
        let now = self.now()?;
        self.write(|tx| {
            let vendor_name = vendor_name_in(tx, vendor_id)?;
            let wanted = wanted_host_addresses(tx, os_ips, bmc_ips)?;
            let id = inserted_id(
                tx,
                "INSERT INTO hosts (name, notes, vendor_id, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4) RETURNING id",
                &[&name, &notes, &vendor_id, &now],
                "host",
                &name,
            )?;
            let mut ch = vec![FieldChange::new("name", None, Some(name.clone()))];
            push(&mut ch, "notes", None, notes.clone());
            push(&mut ch, "vendor", None, vendor_name.clone());
            audit_simple(tx, actor, &now, ("HOST", id, &name), "CREATE", &ch)?;
            let mut assets = Vec::with_capacity(wanted.len());
            for (ip, ty) in wanted {
                let new = crate::NewIpAsset {
                    project_id,
                    host_id: Some(id),
                    ..crate::NewIpAsset::new(&ip, ty)
                };
                assets.push(crate::assets::create_asset_in(
                    tx, actor, &now, &new, max_text,
                )?);
            }
            let host = Host {
                id,
                name: name.clone(),
                notes: notes.clone(),
                vendor_id,
                vendor_name,
            };
            Ok((host, assets))
        })
    }

    /// Every host by name with the active addresses linked to it (address order): one query
    /// over the assets for a host list, instead of one per host.
    pub fn hosts_with_addresses(&self) -> Result<Vec<HostWithAddresses>> {
        self.read(|c| {
            let mut by_host: std::collections::HashMap<i64, Vec<(String, crate::AssetType)>> =
                std::collections::HashMap::new();
            crate::store::each_row(
                c,
                "SELECT host_id, ip_address, type FROM ip_assets
                 WHERE archived = 0 AND host_id IS NOT NULL ORDER BY ip_family, ip_key",
                &[],
                |r| {
                    let t: String = r.get(2)?;
                    by_host
                        .entry(r.get(0)?)
                        .or_default()
                        .push((r.get(1)?, t.parse().unwrap_or(crate::AssetType::Other)));
                    Ok(())
                },
            )?;
            Ok(hosts_in(c)?
                .into_iter()
                .map(|h| {
                    let a = by_host.remove(&h.id).unwrap_or_default();
                    (h, a)
                })
                .collect())
        })
    }

    /// One host by id.
    pub fn host(&self, id: i64) -> Result<Host> {
        self.read(|c| host_in(c, id))
    }

    /// A host with its active addresses split into OS, BMC and other (as the
    /// original's host page).
    pub fn host_detail(&self, id: i64) -> Result<HostDetail> {
        let host = self.host(id)?;
        let f = crate::AssetFilter {
            host: Some(host.name.clone()),
            ..Default::default()
        };
        let mut d = HostDetail {
            host,
            os: Vec::new(),
            bmc: Vec::new(),
            other: Vec::new(),
        };
        for a in self.list_ip_assets(&f, crate::Page::all())?.items {
            match a.asset_type {
                crate::AssetType::Os => d.os.push(a),
                crate::AssetType::Bmc => d.bmc.push(a),
                _ => d.other.push(a),
            }
        }
        Ok(d)
    }

    /// Changes a host's name, notes (`Some(None)` clears) or vendor (`Some(None)` clears).
    pub fn update_host(
        &mut self,
        actor: &Actor,
        id: i64,
        name: Option<&str>,
        notes: Option<Option<&str>>,
        vendor_id: Option<Option<i64>>,
    ) -> Result<Host> {
        actor.require_data_write()?;
        let max_text = self.limits.max_text_chars;
        let now = self.now()?;
        self.write(|tx| {
            let old = host_in(tx, id)?;
            let new_vendor_id = vendor_id.unwrap_or(old.vendor_id);
            let vendor_name = vendor_name_in(tx, new_vendor_id)?;
            let new = Host {
                id,
                name: match name {
                    Some(n) => required_name("host name", n)?,
                    None => old.name.clone(),
                },
                notes: match notes {
                    Some(n) => empty_none(n),
                    None => old.notes.clone(),
                },
                vendor_id: new_vendor_id,
                vendor_name,
            };
            if new.notes != old.notes {
                check_text("notes", new.notes.as_deref(), max_text)?;
            }
            let mut ch = Vec::new();
            push(
                &mut ch,
                "name",
                Some(old.name.clone()),
                Some(new.name.clone()),
            );
            push(&mut ch, "notes", old.notes.clone(), new.notes.clone());
            push(
                &mut ch,
                "vendor",
                old.vendor_name.clone(),
                new.vendor_name.clone(),
            );
            if ch.is_empty() {
                return Ok(old);
            }
            update_named(
                tx,
                "UPDATE hosts SET name = ?2, notes = ?3, vendor_id = ?4, updated_at = ?5 WHERE id = ?1",
                &[&id, &new.name, &new.notes, &new.vendor_id, &now],
                "host",
                &new.name,
            )?;
            audit_simple(tx, actor, &now, ("HOST", id, &new.name), "UPDATE", &ch)?;
            Ok(new)
        })
    }

    /// Renames a vendor.
    pub fn update_vendor(&mut self, actor: &Actor, id: i64, name: &str) -> Result<Vendor> {
        actor.require_data_write()?;
        let now = self.now()?;
        self.write(|tx| {
            let old = vendor_in(tx, id)?;
            let name = required_name("vendor name", name)?;
            if name == old.name {
                return Ok(old);
            }
            update_named(
                tx,
                "UPDATE vendors SET name = ?2, updated_at = ?3 WHERE id = ?1",
                &[&id, &name, &now],
                "vendor",
                &name,
            )?;
            let ch = [FieldChange::new("name", Some(old.name), Some(name.clone()))];
            audit_simple(tx, actor, &now, ("VENDOR", id, &name), "UPDATE", &ch)?;
            Ok(Vendor { id, name })
        })
    }

    /// Renames a tag and/or changes its colour.
    pub fn update_tag(
        &mut self,
        actor: &Actor,
        id: i64,
        name: Option<&str>,
        color: Option<&str>,
    ) -> Result<Tag> {
        actor.require_data_write()?;
        let now = self.now()?;
        self.write(|tx| {
            let old = tag_in(tx, id)?;
            let new = Tag {
                id,
                name: match name {
                    Some(n) => normalize_tag_name(n)?,
                    None => old.name.clone(),
                },
                color: match color {
                    Some(c) => normalize_color(c, DEFAULT_TAG_COLOR)?,
                    None => old.color.clone(),
                },
            };
            let mut ch = Vec::new();
            push(
                &mut ch,
                "name",
                Some(old.name.clone()),
                Some(new.name.clone()),
            );
            push(
                &mut ch,
                "color",
                Some(old.color.clone()),
                Some(new.color.clone()),
            );
            if ch.is_empty() {
                return Ok(old);
            }
            update_named(
                tx,
                "UPDATE tags SET name = ?2, color = ?3, updated_at = ?4 WHERE id = ?1",
                &[&id, &new.name, &new.color, &now],
                "tag",
                &new.name,
            )?;
            audit_simple(tx, actor, &now, ("TAG", id, &new.name), "UPDATE", &ch)?;
            Ok(new)
        })
    }

    /// Deletes a host; linked addresses keep existing without a host.
    pub fn delete_host(&mut self, actor: &Actor, id: i64) -> Result<()> {
        self.delete_named(actor, "hosts", "HOST", "host", id)
    }
}

/// The addresses of a new host's form as (canonical address, type): each must be an IP,
/// listed once and not held by an active asset (an archived one is restored), else an
/// [`Error::Invalid`] at the list's field.
fn wanted_host_addresses(
    c: &dyn Sql,
    os_ips: &[&str],
    bmc_ips: &[&str],
) -> Result<Vec<(String, crate::AssetType)>> {
    let mut wanted: Vec<(String, crate::AssetType)> = Vec::new();
    for (field, list, ty) in [
        ("os_ips", os_ips, crate::AssetType::Os),
        ("bmc_ips", bmc_ips, crate::AssetType::Bmc),
    ] {
        for ip in list {
            let (_, canon) = crate::canonical_ip(ip).map_err(|_| {
                Error::invalid(field, format!("invalid IP address {:?}", ip.trim()))
            })?;
            if wanted.iter().any(|(w, _)| *w == canon) {
                return Err(Error::invalid(field, format!("{canon} is listed twice")));
            }
            if crate::assets::load_asset_by_ip(c, &canon)?.is_some_and(|a| !a.archived) {
                return Err(Error::invalid(
                    field,
                    format!("IP address {canon} already exists"),
                ));
            }
            wanted.push((canon, ty));
        }
    }
    Ok(wanted)
}

/// A host and the (address, type) of its active assets, in address order.
pub type HostWithAddresses = (Host, Vec<(String, crate::AssetType)>);

/// A host and its active addresses by kind.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct HostDetail {
    /// The host.
    pub host: Host,
    /// Active `OS` addresses.
    pub os: Vec<crate::IpAsset>,
    /// Active `BMC` addresses.
    pub bmc: Vec<crate::IpAsset>,
    /// Other active addresses.
    pub other: Vec<crate::IpAsset>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::paging::Page;
    use crate::AuditFilter;

    #[test]
    fn project_colour_defaults_and_duplicates_conflict() {
        let mut inv = Inventory::open_in_memory().unwrap();
        let a = Actor::system();
        let p = inv.create_project(&a, " Core ", None, None).unwrap();
        assert_eq!(
            (p.name.as_str(), p.color.as_str()),
            ("Core", DEFAULT_PROJECT_COLOR)
        );
        assert!(matches!(
            inv.create_project(&a, "Core", None, None),
            Err(Error::Conflict(_))
        ));
        let p = inv
            .update_project(&a, p.id, None, None, Some("#AABBCC"))
            .unwrap();
        assert_eq!(p.color, "#aabbcc");
        let log = inv
            .audit_log(
                &AuditFilter {
                    target_type: Some("PROJECT".into()),
                    ..Default::default()
                },
                Page::default(),
            )
            .unwrap();
        assert_eq!(log.total, 2);
        assert_eq!(log.items[0].changes[0].field, "color");
        assert_eq!(
            log.items[0].changes[0].before.as_deref(),
            Some(DEFAULT_PROJECT_COLOR)
        );
    }

    #[test]
    fn unchanged_update_writes_no_audit_row() {
        let mut inv = Inventory::open_in_memory().unwrap();
        let a = Actor::system();
        let p = inv.create_project(&a, "Core", None, None).unwrap();
        inv.update_project(&a, p.id, Some("Core"), None, None)
            .unwrap();
        let log = inv
            .audit_log(&AuditFilter::default(), Page::default())
            .unwrap();
        assert_eq!(log.total, 1);
    }

    #[test]
    fn host_vendor_tag_updates_and_host_detail() {
        let mut inv = Inventory::open_in_memory().unwrap();
        let a = Actor::system();
        let v = inv.create_vendor(&a, "HP").unwrap();
        let v = inv.update_vendor(&a, v.id, "HPE").unwrap();
        let h = inv
            .create_host(&a, "node-01", Some("r1"), Some(v.id))
            .unwrap();
        let h2 = inv
            .update_host(&a, h.id, Some("node-1"), Some(None), Some(None))
            .unwrap();
        assert_eq!(
            (h2.name.as_str(), h2.notes.clone(), h2.vendor_id),
            ("node-1", None, None)
        );
        inv.create_host(&a, "other", None, None).unwrap();
        assert!(matches!(
            inv.update_host(&a, h.id, Some("other"), None, None),
            Err(Error::Conflict(_))
        ));
        let t = inv.create_tag(&a, "prod", None).unwrap();
        assert_eq!(
            inv.update_tag(&a, t.id, Some("Live"), Some("#ABCDEF"))
                .unwrap()
                .name,
            "live"
        );
        let mk = |ip: &str, ty| crate::NewIpAsset {
            host_id: Some(h.id),
            ..crate::NewIpAsset::new(ip, ty)
        };
        inv.create_ip_asset(&a, &mk("10.0.0.1", crate::AssetType::Os))
            .unwrap();
        inv.create_ip_asset(&a, &mk("10.0.0.2", crate::AssetType::Bmc))
            .unwrap();
        inv.create_ip_asset(&a, &mk("10.0.0.3", crate::AssetType::Vm))
            .unwrap();
        inv.create_ip_asset(&a, &mk("10.0.0.4", crate::AssetType::Os))
            .unwrap();
        inv.archive_ip_asset(&a, "10.0.0.4").unwrap();
        let d = inv.host_detail(h.id).unwrap();
        assert_eq!((d.os.len(), d.bmc.len(), d.other.len()), (1, 1, 1));
        let log = inv
            .audit_log(
                &AuditFilter {
                    target_type: Some("HOST".into()),
                    target_label: Some("node-1".into()),
                },
                Page::all(),
            )
            .unwrap();
        assert_eq!(log.items[0].changes.len(), 3);
    }

    #[test]
    fn tag_names_are_validated() {
        let mut inv = Inventory::open_in_memory().unwrap();
        let a = Actor::system();
        assert_eq!(
            inv.create_tag(&a, "PROD", Some("#FF0000")).unwrap().name,
            "prod"
        );
        assert!(matches!(
            inv.create_tag(&a, "bad tag", None),
            Err(Error::Invalid { .. })
        ));
        assert!(matches!(
            inv.create_tag(&a, "x", Some("red")),
            Err(Error::Invalid { .. })
        ));
    }

    #[test]
    fn host_with_unknown_vendor_is_not_found() {
        let mut inv = Inventory::open_in_memory().unwrap();
        let a = Actor::system();
        assert!(matches!(
            inv.create_host(&a, "h", None, Some(9)),
            Err(Error::NotFound { .. })
        ));
        let v = inv.create_vendor(&a, "HPE").unwrap();
        let h = inv
            .create_host(&a, "node-01", Some("rack 1"), Some(v.id))
            .unwrap();
        assert_eq!(h.vendor_name.as_deref(), Some("HPE"));
        inv.delete_vendor(&a, v.id).unwrap();
        assert_eq!(inv.hosts().unwrap()[0].vendor_id, None);
    }

    #[test]
    fn host_with_addresses_is_one_transaction() {
        let mut inv = Inventory::open_in_memory().unwrap();
        let a = Actor::system();
        let p = inv.create_project(&a, "Core", None, None).unwrap();
        let (h, assets) = inv
            .create_host_with_addresses(
                &a,
                "node-01",
                None,
                None,
                Some(p.id),
                &["10.0.0.1", "10.0.0.2"],
                &["10.0.1.1"],
            )
            .unwrap();
        assert_eq!(assets.len(), 3);
        let d = inv.host_detail(h.id).unwrap();
        assert_eq!((d.os.len(), d.bmc.len()), (2, 1));
        assert_eq!(d.bmc[0].project_id, Some(p.id));
        // A bad address, a repeated one or one in use: nothing is created, the field is named.
        for (os, bmc, field) in [
            (&["10.0.0.9", "10.0.0.300"][..], &[][..], "os_ips"),
            (&["10.0.0.9"][..], &["10.0.0.9"][..], "bmc_ips"),
            (&[][..], &["10.0.0.1"][..], "bmc_ips"),
        ] {
            match inv.create_host_with_addresses(&a, "node-02", None, None, None, os, bmc) {
                Err(Error::Invalid { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(inv.hosts().unwrap().len(), 1);
        assert!(inv.ip_asset("10.0.0.9").is_err());
        let listed = inv.hosts_with_addresses().unwrap();
        let ips: Vec<&str> = listed[0].1.iter().map(|(ip, _)| ip.as_str()).collect();
        assert_eq!(ips, ["10.0.0.1", "10.0.0.2", "10.0.1.1"]);
        assert_eq!(listed[0].1[2].1, crate::AssetType::Bmc);
    }
}
