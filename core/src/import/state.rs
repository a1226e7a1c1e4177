//! The inventory as the planner sees it: names, ids and existing assets.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;

use ipocket_db::{Backend, Row, Sql, ToArg};

use crate::error::Result;
use crate::model::AssetType;
use crate::store::each_row;

pub(crate) struct ExistingAsset {
    pub(crate) id: i64,
    pub(crate) asset_type: AssetType,
    pub(crate) project: Option<i64>,
    pub(crate) host: Option<i64>,
    pub(crate) notes: Option<String>,
    pub(crate) archived: bool,
    /// Tag ids (in no particular order).
    pub(crate) tags: Vec<i64>,
}

/// Id → name of projects, hosts and tags (existing assets hold ids, not copies of names).
#[derive(Default)]
pub(crate) struct Names {
    pub(crate) projects: HashMap<i64, String>,
    pub(crate) hosts: HashMap<i64, String>,
    pub(crate) tags: HashMap<i64, String>,
}

impl Names {
    pub(crate) fn load(c: &dyn Sql) -> Result<Self> {
        Ok(Names {
            projects: id_names(c, "SELECT id, name FROM projects")?,
            hosts: id_names(c, "SELECT id, name FROM hosts")?,
            tags: id_names(c, "SELECT id, name FROM tags")?,
        })
    }
}

/// Id → name of the rows `sql` (`SELECT id, name …`) returns.
fn id_names(c: &dyn Sql, sql: &str) -> Result<HashMap<i64, String>> {
    let mut m = HashMap::new();
    each_row(c, sql, &[], |r| {
        m.insert(r.get(0)?, r.get(1)?);
        Ok(())
    })?;
    Ok(m)
}

pub(crate) struct ExistingHost {
    pub(crate) id: i64,
    pub(crate) notes: Option<String>,
    pub(crate) vendor: Option<String>,
}

pub(crate) struct State {
    pub(crate) vendors: HashSet<String>,
    pub(crate) projects: HashMap<String, (i64, Option<String>, String)>,
    pub(crate) tags: HashMap<String, (i64, String)>,
    pub(crate) ranges: HashMap<String, (i64, String, Option<String>)>,
    pub(crate) hosts: HashMap<String, ExistingHost>,
}

pub(crate) fn load_state(c: &dyn Sql) -> Result<State> {
    let mut s = State {
        vendors: HashSet::new(),
        projects: HashMap::new(),
        tags: HashMap::new(),
        ranges: HashMap::new(),
        hosts: HashMap::new(),
    };
    each_row(c, "SELECT name FROM vendors", &[], |r| {
        s.vendors.insert(r.get(0)?);
        Ok(())
    })?;
    each_row(
        c,
        "SELECT id, name, description, color FROM projects",
        &[],
        |r| {
            s.projects
                .insert(r.get(1)?, (r.get(0)?, r.get(2)?, r.get(3)?));
            Ok(())
        },
    )?;
    each_row(c, "SELECT id, name, color FROM tags", &[], |r| {
        s.tags.insert(r.get(1)?, (r.get(0)?, r.get(2)?));
        Ok(())
    })?;
    each_row(c, "SELECT id, cidr, name, notes FROM ip_ranges", &[], |r| {
        s.ranges
            .insert(r.get(1)?, (r.get(0)?, r.get(2)?, r.get(3)?));
        Ok(())
    })?;
    each_row(
        c,
        "SELECT h.id, h.name, h.notes, v.name FROM hosts h LEFT JOIN vendors v ON v.id = h.vendor_id",
        &[],
        |r| {
            s.hosts.insert(
                r.get(1)?,
                ExistingHost {
                    id: r.get(0)?,
                    notes: r.get(2)?,
                    vendor: r.get(3)?,
                },
            );
            Ok(())
        },
    )?;
    Ok(s)
}

/// The IP asset rows before the import: a streamed import writes while it
/// plans, and only these rows can be "existing" for it (its own rows have
/// larger ids, and an address twice in one import is an error anyway).
#[derive(Debug, Clone, Copy)]
pub(crate) struct AssetRows {
    count: i64,
    max_id: i64,
}

impl AssetRows {
    pub(crate) fn load(c: &dyn Sql) -> Result<Self> {
        let r = c.query_one("SELECT count(*), coalesce(max(id), 0) FROM ip_assets", &[])?;
        Ok(AssetRows {
            count: r.get(0)?,
            max_id: r.get(1)?,
        })
    }
}

/// Existing assets for the addresses in `keys`: all at once when the import
/// touches a large share of the inventory (`keys × bulk_share ≥ rows`), else
/// one indexed lookup each (on PostgreSQL, [`LOOKUP_BATCH`] keys a statement).
pub(crate) fn load_assets(
    c: &dyn Sql,
    keys: &[&str],
    bulk_share: i64,
    before: AssetRows,
) -> Result<HashMap<IpAddr, ExistingAsset>> {
    let total = before.count;
    let mut out = HashMap::with_capacity(keys.len().min(total as usize));
    if total == 0 {
        return Ok(out);
    }
    let base = "SELECT a.id, a.ip_address, a.type, a.project_id, a.host_id, a.notes, a.archived FROM ip_assets a";
    let asset = |r: &Row| -> Result<(String, ExistingAsset)> {
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
    let tag_links = "SELECT ip_asset_id, tag_id FROM ip_asset_tags";
    let bulk = keys.len() as i64 * bulk_share >= total;
    if bulk {
        let mut by_id: HashMap<i64, IpAddr> = HashMap::with_capacity(total as usize);
        each_row(
            c,
            &format!("{base} WHERE a.id <= ?1"),
            &[&before.max_id],
            |r| {
                let (text, a) = asset(&r)?;
                // rows whose text is not a canonical address never match an import key
                if let Ok(ip) = text.parse::<IpAddr>() {
                    by_id.insert(a.id, ip);
                    out.insert(ip, a);
                }
                Ok(())
            },
        )?;
        each_row(
            c,
            &format!("{tag_links} WHERE ip_asset_id <= ?1"),
            &[&before.max_id],
            |r| {
                let id: i64 = r.get(0)?;
                if let Some(a) = by_id.get(&id).and_then(|ip| out.get_mut(ip)) {
                    a.tags.push(r.get(1)?);
                }
                Ok(())
            },
        )?;
    } else if c.backend() == Backend::Postgres {
        // a round trip per key is slow on a network database: a batch of keys at a time
        for part in keys.chunks(LOOKUP_BATCH) {
            let mut found: HashMap<i64, IpAddr> = HashMap::new();
            each_row(
                c,
                &format!("{base} WHERE a.ip_address IN ({})", placeholders()),
                &padded(part),
                |r| {
                    let (text, a) = asset(&r)?;
                    if let Ok(ip) = text.parse::<IpAddr>() {
                        found.insert(a.id, ip);
                        out.insert(ip, a);
                    }
                    Ok(())
                },
            )?;
            let ids: Vec<i64> = found.keys().copied().collect();
            for part in ids.chunks(LOOKUP_BATCH) {
                each_row(
                    c,
                    &format!("{tag_links} WHERE ip_asset_id IN ({})", placeholders()),
                    &padded(part),
                    |r| {
                        let id: i64 = r.get(0)?;
                        if let Some(a) = found.get(&id).and_then(|ip| out.get_mut(ip)) {
                            a.tags.push(r.get(1)?);
                        }
                        Ok(())
                    },
                )?;
            }
        }
    } else {
        let one = format!("{base} WHERE a.ip_address = ?1");
        let tags_of = format!("{tag_links} WHERE ip_asset_id = ?1");
        for k in keys {
            if let Some(r) = c.query_opt(&one, &[k])? {
                let (text, mut a) = asset(&r)?;
                a.tags = c
                    .query(&tags_of, &[&a.id])?
                    .iter()
                    .map(|r| r.get(1))
                    .collect::<ipocket_db::Result<_>>()?;
                if let Ok(ip) = text.parse::<IpAddr>() {
                    out.insert(ip, a);
                }
            }
        }
    }
    Ok(out)
}

/// Keys looked up together on PostgreSQL.
const LOOKUP_BATCH: usize = 500;

/// `?1, ?2, …` for one batch.
fn placeholders() -> String {
    (1..=LOOKUP_BATCH)
        .map(|i| format!("?{i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A batch's values, the last repeated to fill it (one statement text for every batch).
fn padded<T: ToArg>(part: &[T]) -> Vec<&dyn ToArg> {
    let last = part.last().expect("a batch is never empty");
    part.iter()
        .chain(std::iter::repeat(last))
        .take(LOOKUP_BATCH)
        .map(|v| v as &dyn ToArg)
        .collect()
}
