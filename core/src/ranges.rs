//! IP ranges: CIDR records, utilization (IPv4 and IPv6, `u128` counts),
//! per-address drill-down and next-free allocation.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::ops::ControlFlow;

use ipnet::IpNet;
use ipocket_db::{Backend, Row, Sql};
use serde::Serialize;

use crate::assets::{asset_from_row, asset_select, create_asset_in, NewIpAsset};
use crate::audit::{write_audit, AuditRecord, FieldChange};
use crate::dialect;
use crate::error::{Error, Result};
use crate::limits::check_text;
use crate::model::{ip_key, ip_to_u128, required_name, Actor, IpAsset, IpRange};
use crate::store::Inventory;

/// Parses a CIDR non-strictly (`192.168.10.17/24` → `192.168.10.0/24`).
///
/// ```
/// assert_eq!(ipocket_core::normalize_cidr("192.168.10.17/24").unwrap().to_string(), "192.168.10.0/24");
/// assert_eq!(ipocket_core::normalize_cidr("2001:DB8::1/64").unwrap().to_string(), "2001:db8::/64");
/// assert_eq!(ipocket_core::normalize_cidr("::ffff:10.0.0.0/120").unwrap().to_string(), "10.0.0.0/24");
/// ```
///
/// An IPv4-mapped IPv6 prefix of `/96` or longer is the IPv4 prefix it maps (as
/// [`canonical_ip`](crate::canonical_ip) does for addresses).
pub fn normalize_cidr(s: &str) -> Result<IpNet> {
    let t = s.trim();
    t.parse::<IpNet>()
        .map(|n| canonical_net(n).trunc())
        .map_err(|_| Error::invalid("cidr", format!("invalid CIDR {t:?}")))
}

/// `::ffff:a.b.c.d/n` (n ≥ 96) → `a.b.c.d/(n - 96)`; anything else unchanged.
fn canonical_net(net: IpNet) -> IpNet {
    match net {
        IpNet::V6(v6) if v6.prefix_len() >= 96 => match v6.addr().to_ipv4_mapped() {
            Some(v4) => ipnet::Ipv4Net::new(v4, v6.prefix_len() - 96)
                .map(IpNet::V4)
                .unwrap_or(net),
            None => net,
        },
        _ => net,
    }
}

/// Utilization of one range.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RangeUtilization {
    /// The range.
    pub range: IpRange,
    /// Addresses in the prefix (saturates at `u128::MAX` for `::/0`).
    pub total: u128,
    /// Assignable addresses: IPv4 excludes network and broadcast (except /31, /32);
    /// IPv6 counts every address.
    pub usable: u128,
    /// Active assets inside the prefix.
    pub used: u128,
    /// Usable addresses without an active asset.
    pub free: u128,
    /// `used / usable × 100`.
    pub percent: f64,
    /// For IPv6 prefixes of /64 or shorter: how many /64 subnets it holds.
    pub subnets_64: Option<u128>,
}

/// Status of one address in a range drill-down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AddressStatus {
    /// An active asset holds it.
    Used,
    /// Nobody holds it.
    Free,
}

/// One row of [`Inventory::range_addresses`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RangeAddress {
    /// Canonical address.
    pub ip_address: String,
    /// Used or free.
    pub status: AddressStatus,
    /// The active asset, when used.
    pub asset: Option<IpAsset>,
}

fn host_bits(net: &IpNet) -> u32 {
    net.max_prefix_len() as u32 - net.prefix_len() as u32
}

fn pow2(bits: u32) -> u128 {
    if bits >= 128 {
        u128::MAX
    } else {
        1u128 << bits
    }
}

/// First and last assignable address as integers.
fn usable_span(net: &IpNet) -> (u128, u128) {
    let lo = ip_to_u128(net.network());
    let hi = ip_to_u128(net.broadcast());
    match net {
        IpNet::V4(n) if n.prefix_len() <= 30 => (lo + 1, hi - 1),
        _ => (lo, hi),
    }
}

fn from_u128(v4: bool, v: u128) -> IpAddr {
    if v4 {
        IpAddr::V4(Ipv4Addr::from(v as u32))
    } else {
        IpAddr::V6(Ipv6Addr::from(v))
    }
}

fn key_to_u128(key: &[u8]) -> u128 {
    key.iter().fold(0u128, |acc, b| (acc << 8) | *b as u128)
}

const RANGE_COLUMNS: &str = "SELECT id, name, cidr, notes FROM ip_ranges";

fn range_from_row(r: &Row) -> Result<IpRange> {
    Ok(IpRange {
        id: r.get(0)?,
        name: r.get(1)?,
        cidr: r.get(2)?,
        notes: r.get(3)?,
    })
}

fn range_row(c: &dyn Sql, id: i64) -> Result<IpRange> {
    c.query_opt(&format!("{RANGE_COLUMNS} WHERE id = ?1"), &[&id])?
        .map(|r| range_from_row(&r))
        .transpose()?
        .ok_or_else(|| Error::not_found("ip range", id))
}

/// The range inside a write, its row locked until the write ends (PostgreSQL's `FOR
/// UPDATE`; SQLite's write transaction already holds the whole file): allocators of one
/// range on several replicas take turns.
fn range_row_locked(tx: &dyn Sql, id: i64) -> Result<IpRange> {
    let sql = format!(
        "{RANGE_COLUMNS} WHERE id = ?1{}",
        dialect::for_update(tx.backend())
    );
    tx.query_opt(&sql, &[&id])?
        .map(|r| range_from_row(&r))
        .transpose()?
        .ok_or_else(|| Error::not_found("ip range", id))
}

/// Every range, IPv4 first, by network.
fn ranges_in(c: &dyn Sql) -> Result<Vec<IpRange>> {
    let mut v = c
        .query(RANGE_COLUMNS, &[])?
        .iter()
        .map(range_from_row)
        .collect::<Result<Vec<_>>>()?;
    v.sort_by_key(|r| r.cidr.parse::<IpNet>().ok());
    Ok(v)
}

fn count_active(c: &dyn Sql, v4: bool, lo: u128, hi: u128) -> Result<u128> {
    let (fam, l) = ip_key(from_u128(v4, lo));
    let (_, h) = ip_key(from_u128(v4, hi));
    let n: i64 = c
        .query_one(
            "SELECT count(*) FROM ip_assets WHERE archived = 0 AND ip_family = ?1 AND ip_key BETWEEN ?2 AND ?3",
            &[&fam, &l, &h],
        )?
        .get(0)?;
    Ok(n as u128)
}

/// An address the allocator must not hand out although no active asset holds it, and why
/// (e.g. "undocumented but up in Prometheus"); see [`Inventory::next_free_avoiding`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SkippedAddress {
    /// Canonical address.
    pub ip_address: String,
    /// Why it was skipped.
    pub reason: String,
}

/// The answer of [`Inventory::next_free_avoiding`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NextFree {
    /// The lowest free usable address that is not avoided; `None` when there is none.
    pub ip_address: Option<String>,
    /// The avoided addresses passed over on the way to it, lowest first.
    pub skipped: Vec<SkippedAddress>,
}

/// Lowest usable address of `net` without an active asset and not in `avoid` (whose
/// addresses passed over are pushed to `skipped`).
fn first_free_avoiding(
    c: &dyn Sql,
    net: &IpNet,
    avoid: &BTreeMap<IpAddr, String>,
    skipped: &mut Vec<SkippedAddress>,
) -> Result<Option<IpAddr>> {
    let v4 = matches!(net, IpNet::V4(_));
    let (lo, hi) = usable_span(net);
    let mut cursor = lo;
    // Each round: the first address free in the database from `cursor`; if avoided, step
    // past it. The rounds are bounded by the avoided addresses inside the range.
    loop {
        let Some(ip) = first_free_from(c, v4, cursor, hi)? else {
            return Ok(None);
        };
        let Some(reason) = avoid.get(&ip) else {
            return Ok(Some(ip));
        };
        skipped.push(SkippedAddress {
            ip_address: ip.to_string(),
            reason: reason.clone(),
        });
        let at = ip_to_u128(ip);
        if at >= hi {
            return Ok(None);
        }
        cursor = at + 1;
    }
}

/// Lowest usable address of `net` without an active asset.
fn first_free(c: &dyn Sql, net: &IpNet) -> Result<Option<IpAddr>> {
    let (lo, hi) = usable_span(net);
    first_free_from(c, matches!(net, IpNet::V4(_)), lo, hi)
}

/// Used keys the first statement reads while looking for a gap. SQLite steps through the
/// rows as they are walked and stops at the gap: no limit. PostgreSQL sends every row a
/// statement selects: 512 first, twice as many each next time, so a gap near the start
/// costs a short read and a long dense run a few statements.
fn first_key_chunk(b: Backend) -> i64 {
    match b {
        Backend::Sqlite => i64::MAX,
        Backend::Postgres => 512,
    }
}

/// Lowest address of `[lo, hi]` without an active asset: walks the used keys in order up
/// to the first gap.
fn first_free_from(c: &dyn Sql, v4: bool, lo: u128, hi: u128) -> Result<Option<IpAddr>> {
    let (fam, h) = ip_key(from_u128(v4, hi));
    let mut chunk = first_key_chunk(c.backend());
    let mut cursor = lo;
    loop {
        let (_, from) = ip_key(from_u128(v4, cursor));
        let (mut read, mut found, mut bad_key) = (0, None, None);
        c.for_each_row(
            "SELECT ip_key FROM ip_assets WHERE archived = 0 AND ip_family = ?1 AND ip_key BETWEEN ?2 AND ?3 ORDER BY ip_key LIMIT ?4",
            &[&fam, &from, &h, &chunk],
            &mut |r| {
                read += 1;
                match r.get::<Vec<u8>>(0) {
                    // Keys are distinct and from `cursor` up: one above it leaves it free.
                    Ok(k) if key_to_u128(&k) != cursor => found = Some(Some(cursor)),
                    Ok(_) if cursor == hi => found = Some(None),
                    Ok(_) => {
                        cursor += 1;
                        return ControlFlow::Continue(());
                    }
                    Err(e) => bad_key = Some(e),
                }
                ControlFlow::Break(())
            },
        )?;
        if let Some(e) = bad_key {
            return Err(e.into());
        }
        if let Some(free) = found {
            return Ok(free.map(|at| from_u128(v4, at)));
        }
        if read < chunk {
            return Ok(Some(from_u128(v4, cursor)));
        }
        chunk = chunk.saturating_mul(2);
    }
}

/// Used / free / total of `range`, read through `c`.
fn utilization_in(c: &dyn Sql, range: IpRange) -> Result<RangeUtilization> {
    let net = normalize_cidr(&range.cidr)?;
    let v4 = matches!(net, IpNet::V4(_));
    let bits = host_bits(&net);
    let total = pow2(bits);
    let (ulo, uhi) = usable_span(&net);
    let usable = (uhi - ulo).saturating_add(1);
    let used = count_active(
        c,
        v4,
        ip_to_u128(net.network()),
        ip_to_u128(net.broadcast()),
    )?;
    let used_usable = count_active(c, v4, ulo, uhi)?;
    let free = usable.saturating_sub(used_usable);
    let percent = if usable == 0 {
        0.0
    } else {
        used as f64 / usable as f64 * 100.0
    };
    let subnets_64 = match net {
        IpNet::V6(n) if n.prefix_len() <= 64 => Some(pow2(64 - n.prefix_len() as u32)),
        _ => None,
    };
    Ok(RangeUtilization {
        range,
        total,
        usable,
        used,
        free,
        percent,
        subnets_64,
    })
}

/// The keys of the active assets of `[lo, hi]`, in order.
fn used_keys(c: &dyn Sql, v4: bool, lo: u128, hi: u128) -> Result<Vec<u128>> {
    let (fam, l) = ip_key(from_u128(v4, lo));
    let (_, h) = ip_key(from_u128(v4, hi));
    c.query(
        "SELECT ip_key FROM ip_assets WHERE archived = 0 AND ip_family = ?1 AND ip_key BETWEEN ?2 AND ?3 ORDER BY ip_key",
        &[&fam, &l, &h],
    )?
    .iter()
    .map(|r| Ok(key_to_u128(&r.get::<Vec<u8>>(0)?)))
    .collect()
}

impl Inventory {
    /// All ranges, IPv4 first, by network.
    pub fn ip_ranges(&self) -> Result<Vec<IpRange>> {
        self.read(ranges_in)
    }

    /// Creates a range; the CIDR is normalised and must be unique.
    pub fn create_ip_range(
        &mut self,
        actor: &Actor,
        name: &str,
        cidr: &str,
        notes: Option<&str>,
    ) -> Result<IpRange> {
        actor.require_data_write()?;
        let name = required_name("range name", name)?;
        let cidr = normalize_cidr(cidr)?.to_string();
        let notes = notes
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string);
        check_text("notes", notes.as_deref(), self.limits.max_text_chars)?;
        let now = self.now()?;
        let taken = || Error::Conflict(format!("range {cidr} already exists"));
        let id = self.write(|tx| {
            if tx
                .query_opt("SELECT 1 FROM ip_ranges WHERE cidr = ?1", &[&cidr])?
                .is_some()
            {
                return Err(taken());
            }
            let id: i64 = tx
                .query_one(
                    "INSERT INTO ip_ranges (name, cidr, notes, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4) RETURNING id",
                    &[&name, &cidr, &notes, &now],
                )
                .map_err(|e| {
                    let e = Error::from(e);
                    if e.is_unique_violation() {
                        taken()
                    } else {
                        e
                    }
                })?
                .get(0)?;
            let ch = [
                FieldChange::new("name", None, Some(name.clone())),
                FieldChange::new("cidr", None, Some(cidr.clone())),
            ];
            write_audit(
                tx,
                actor,
                &now,
                &AuditRecord {
                    target_type: "IP_RANGE",
                    target_id: id,
                    target_label: &cidr,
                    action: "CREATE",
                    changes: &ch,
                    message: None,
                },
            )?;
            Ok(id)
        })?;
        Ok(IpRange {
            id,
            name,
            cidr,
            notes,
        })
    }

    /// One range by id.
    pub fn ip_range(&self, id: i64) -> Result<IpRange> {
        self.read(|c| range_row(c, id))
    }

    /// Renames a range or changes its notes (`Some(None)` clears). The CIDR is its identity and does not change.
    pub fn update_ip_range(
        &mut self,
        actor: &Actor,
        id: i64,
        name: Option<&str>,
        notes: Option<Option<&str>>,
    ) -> Result<IpRange> {
        actor.require_data_write()?;
        let max_text = self.limits.max_text_chars;
        self.write(|tx| {
            let old = range_row(tx, id)?;
            let new = IpRange {
                name: match name {
                    Some(n) => required_name("range name", n)?,
                    None => old.name.clone(),
                },
                notes: match notes {
                    Some(n) => n
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(str::to_string),
                    None => old.notes.clone(),
                },
                ..old.clone()
            };
            if new.notes != old.notes {
                check_text("notes", new.notes.as_deref(), max_text)?;
            }
            let mut ch = Vec::new();
            if new.name != old.name {
                ch.push(FieldChange::new(
                    "name",
                    Some(old.name.clone()),
                    Some(new.name.clone()),
                ));
            }
            if new.notes != old.notes {
                ch.push(FieldChange::new(
                    "notes",
                    old.notes.clone(),
                    new.notes.clone(),
                ));
            }
            if ch.is_empty() {
                return Ok(old);
            }
            let now = self.now_in(tx)?;
            tx.execute(
                "UPDATE ip_ranges SET name = ?2, notes = ?3, updated_at = ?4 WHERE id = ?1",
                &[&id, &new.name, &new.notes, &now],
            )?;
            write_audit(
                tx,
                actor,
                &now,
                &AuditRecord {
                    target_type: "IP_RANGE",
                    target_id: id,
                    target_label: &new.cidr,
                    action: "UPDATE",
                    changes: &ch,
                    message: None,
                },
            )?;
            Ok(new)
        })
    }

    /// Deletes a range (the addresses stay).
    pub fn delete_ip_range(&mut self, actor: &Actor, id: i64) -> Result<()> {
        actor.require_data_write()?;
        let now = self.now()?;
        self.write(|tx| {
            let r = range_row(tx, id)?;
            tx.execute("DELETE FROM ip_ranges WHERE id = ?1", &[&id])?;
            write_audit(
                tx,
                actor,
                &now,
                &AuditRecord {
                    target_type: "IP_RANGE",
                    target_id: id,
                    target_label: &r.cidr,
                    action: "DELETE",
                    changes: &[],
                    message: None,
                },
            )
        })
    }

    /// Used / free / total of one range.
    pub fn range_utilization(&self, range_id: i64) -> Result<RangeUtilization> {
        self.read(|c| utilization_in(c, range_row(c, range_id)?))
    }

    /// Utilization of every range.
    pub fn all_range_utilization(&self) -> Result<Vec<RangeUtilization>> {
        self.read(|c| {
            ranges_in(c)?
                .into_iter()
                .map(|r| utilization_in(c, r))
                .collect()
        })
    }

    /// Drill-down: `limit` usable addresses from position `offset` of the range
    /// (0 = first usable), each marked used (with its asset) or free.
    pub fn range_addresses(
        &self,
        range_id: i64,
        offset: u128,
        limit: u64,
    ) -> Result<Vec<RangeAddress>> {
        self.read(|c| {
            let range = range_row(c, range_id)?;
            let net = normalize_cidr(&range.cidr)?;
            let v4 = matches!(net, IpNet::V4(_));
            let (ulo, uhi) = usable_span(&net);
            let Some(start) = ulo.checked_add(offset).filter(|s| *s <= uhi) else {
                return Ok(Vec::new());
            };
            let end = start
                .saturating_add((limit as u128).saturating_sub(1))
                .min(uhi);
            if limit == 0 {
                return Ok(Vec::new());
            }
            let (fam, l) = ip_key(from_u128(v4, start));
            let (_, h) = ip_key(from_u128(v4, end));
            let sql = format!(
                "{} WHERE a.archived = 0 AND a.ip_family = ?1 AND a.ip_key BETWEEN ?2 AND ?3 ORDER BY a.ip_key",
                asset_select(c.backend())
            );
            let used = c
                .query(&sql, &[&fam, &l, &h])?
                .iter()
                .map(asset_from_row)
                .collect::<Result<Vec<IpAsset>>>()?;
            Ok(address_rows(v4, start, end, used))
        })
    }

    /// Drill-down of the free addresses only: `limit` of them from the `offset`-th free
    /// usable address of the range (the count is [`RangeUtilization::free`]). Reads the keys
    /// of the range's active assets once; the free addresses themselves are computed.
    pub fn range_free_addresses(
        &self,
        range_id: i64,
        offset: u128,
        limit: u64,
    ) -> Result<Vec<String>> {
        let (net, used) = self.read(|c| {
            let net = normalize_cidr(&range_row(c, range_id)?.cidr)?;
            let (lo, hi) = usable_span(&net);
            Ok((net, used_keys(c, matches!(net, IpNet::V4(_)), lo, hi)?))
        })?;
        let v4 = matches!(net, IpNet::V4(_));
        let (lo, hi) = usable_span(&net);
        let mut out = Vec::new();
        let mut skip = offset;
        let mut cursor = lo;
        // The free runs are the gaps between used addresses, and the tail after the last.
        let gaps = used
            .iter()
            .map(|u| (*u, true))
            .chain(std::iter::once((hi, false)));
        for (end, end_is_used) in gaps {
            if (out.len() as u64) >= limit {
                break;
            }
            // Free run [cursor, end) — or [cursor, end] for the tail.
            let run = (end - cursor).saturating_add(if end_is_used { 0 } else { 1 });
            if skip >= run {
                skip -= run;
            } else {
                let mut a = cursor + skip;
                skip = 0;
                while (out.len() as u64) < limit && (a < end || (!end_is_used && a == end)) {
                    out.push(from_u128(v4, a).to_string());
                    if a == u128::MAX {
                        break;
                    }
                    a += 1;
                }
            }
            if end_is_used {
                cursor = end.saturating_add(1);
                if cursor > hi {
                    break;
                }
            }
        }
        Ok(out)
    }

    /// The lowest free usable address of a range (read only; may be taken by the time you use it).
    pub fn next_free_address(&self, range_id: i64) -> Result<Option<String>> {
        self.read(|c| {
            let net = normalize_cidr(&range_row(c, range_id)?.cidr)?;
            Ok(first_free(c, &net)?.map(|ip| ip.to_string()))
        })
    }

    /// The lowest free usable address of a range that is not in `avoid` (address → why),
    /// with the avoided addresses passed over (read only, like [`Self::next_free_address`]).
    /// Addresses of `avoid` are canonical ([`IpAddr::to_canonical`]).
    pub fn next_free_avoiding(
        &self,
        range_id: i64,
        avoid: &BTreeMap<IpAddr, String>,
    ) -> Result<NextFree> {
        self.read(|c| {
            let net = normalize_cidr(&range_row(c, range_id)?.cidr)?;
            let mut skipped = Vec::new();
            let ip = first_free_avoiding(c, &net, avoid, &mut skipped)?;
            Ok(NextFree {
                ip_address: ip.map(|ip| ip.to_string()),
                skipped,
            })
        })
    }

    /// [`Self::allocate_next`] that passes over the addresses of `avoid` (address → why) and
    /// returns them beside the asset; a range whose free addresses are all avoided is full.
    pub fn allocate_next_avoiding(
        &mut self,
        actor: &Actor,
        range_id: i64,
        template: &NewIpAsset,
        avoid: &BTreeMap<IpAddr, String>,
    ) -> Result<(IpAsset, Vec<SkippedAddress>)> {
        actor.require_data_write()?;
        let max_text = self.limits.max_text_chars;
        let now = self.now()?;
        self.write_retrying(|tx| {
            let range = range_row_locked(tx, range_id)?;
            let net = normalize_cidr(&range.cidr)?;
            let mut skipped = Vec::new();
            let ip = first_free_avoiding(tx, &net, avoid, &mut skipped)?
                .ok_or_else(|| Error::RangeFull(range.cidr.clone()))?;
            let new = NewIpAsset {
                ip_address: ip.to_string(),
                ..template.clone()
            };
            Ok((create_asset_in(tx, actor, &now, &new, max_text)?, skipped))
        })
    }

    /// Finds the lowest free address of a range and creates the asset there, in one write
    /// transaction with its audit row: two allocators never get the same address, on one
    /// SQLite file (`BEGIN IMMEDIATE`) or on several replicas of one PostgreSQL database
    /// (the range's row is locked; the unique address is the backstop; a transaction
    /// PostgreSQL aborts for a concurrent one runs again, up to
    /// [`ipocket_db::WRITE_ATTEMPTS`] times, then [`Error::Conflict`]).
    /// `template.ip_address` is ignored. An archived asset at that address is restored.
    pub fn allocate_next(
        &mut self,
        actor: &Actor,
        range_id: i64,
        template: &NewIpAsset,
    ) -> Result<IpAsset> {
        actor.require_data_write()?;
        let max_text = self.limits.max_text_chars;
        let now = self.now()?;
        self.write_retrying(|tx| {
            let range = range_row_locked(tx, range_id)?;
            let net = normalize_cidr(&range.cidr)?;
            let ip = first_free(tx, &net)?.ok_or_else(|| Error::RangeFull(range.cidr.clone()))?;
            let new = NewIpAsset {
                ip_address: ip.to_string(),
                ..template.clone()
            };
            create_asset_in(tx, actor, &now, &new, max_text)
        })
    }
}

/// The addresses `start..=end` as rows, marked used where `used` (the active assets among
/// them, in address order) holds them.
fn address_rows(v4: bool, start: u128, end: u128, used: Vec<IpAsset>) -> Vec<RangeAddress> {
    let mut used = used.into_iter().peekable();
    let mut out = Vec::with_capacity((end - start + 1).min(10_000) as usize);
    let mut cur = start;
    loop {
        let ip = from_u128(v4, cur);
        let asset = if used
            .peek()
            .map(|a| a.ip_address.parse::<IpAddr>().ok() == Some(ip))
            .unwrap_or(false)
        {
            used.next()
        } else {
            None
        };
        out.push(RangeAddress {
            ip_address: ip.to_string(),
            status: if asset.is_some() {
                AddressStatus::Used
            } else {
                AddressStatus::Free
            },
            asset,
        });
        if cur == end {
            break;
        }
        cur += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::AssetType;

    fn add(inv: &mut Inventory, ip: &str) {
        inv.create_ip_asset(&Actor::system(), &NewIpAsset::new(ip, AssetType::Vm))
            .unwrap();
    }

    #[test]
    fn ipv4_utilization_excludes_network_and_broadcast() {
        let mut inv = Inventory::open_in_memory().unwrap();
        let r = inv
            .create_ip_range(&Actor::system(), "lab", "192.168.10.17/24", None)
            .unwrap();
        assert_eq!(r.cidr, "192.168.10.0/24");
        add(&mut inv, "192.168.10.1");
        add(&mut inv, "192.168.10.2");
        add(&mut inv, "192.168.11.1");
        add(&mut inv, "192.168.10.3");
        inv.archive_ip_asset(&Actor::system(), "192.168.10.3")
            .unwrap();
        let u = inv.range_utilization(r.id).unwrap();
        assert_eq!((u.total, u.usable, u.used, u.free), (256, 254, 2, 252));
        assert!((u.percent - 2.0 / 254.0 * 100.0).abs() < 1e-9);
        assert_eq!(u.subnets_64, None);
    }

    #[test]
    fn small_ipv4_prefixes() {
        let mut inv = Inventory::open_in_memory().unwrap();
        let a = Actor::system();
        let r31 = inv.create_ip_range(&a, "p2p", "10.0.0.0/31", None).unwrap();
        let r32 = inv.create_ip_range(&a, "one", "10.0.1.1/32", None).unwrap();
        assert_eq!(inv.range_utilization(r31.id).unwrap().usable, 2);
        assert_eq!(inv.range_utilization(r32.id).unwrap().usable, 1);
        assert_eq!(
            inv.next_free_address(r32.id).unwrap().as_deref(),
            Some("10.0.1.1")
        );
        add(&mut inv, "10.0.1.1");
        assert_eq!(inv.next_free_address(r32.id).unwrap(), None);
        assert!(matches!(
            inv.allocate_next(&a, r32.id, &NewIpAsset::new("", AssetType::Vm)),
            Err(Error::RangeFull(_))
        ));
    }

    #[test]
    fn ipv6_slash_64_counts_in_u128() {
        let mut inv = Inventory::open_in_memory().unwrap();
        let r = inv
            .create_ip_range(&Actor::system(), "v6", "2001:db8:0:1::/64", None)
            .unwrap();
        add(&mut inv, "2001:db8:0:1::1");
        add(&mut inv, "2001:db8:0:2::1");
        let u = inv.range_utilization(r.id).unwrap();
        assert_eq!(u.total, 1u128 << 64);
        assert_eq!(u.used, 1);
        assert_eq!(u.free, (1u128 << 64) - 1);
        assert_eq!(u.subnets_64, Some(1));
        let big = inv
            .create_ip_range(&Actor::system(), "v6-48", "2001:db8::/48", None)
            .unwrap();
        assert_eq!(
            inv.range_utilization(big.id).unwrap().subnets_64,
            Some(1 << 16)
        );
        let all = inv
            .create_ip_range(&Actor::system(), "all", "::/0", None)
            .unwrap();
        assert_eq!(inv.range_utilization(all.id).unwrap().total, u128::MAX);
        assert_eq!(
            inv.next_free_address(r.id).unwrap().as_deref(),
            Some("2001:db8:0:1::")
        );
    }

    #[test]
    fn range_rename_keeps_cidr() {
        let mut inv = Inventory::open_in_memory().unwrap();
        let a = Actor::system();
        let r = inv
            .create_ip_range(&a, "lab", "10.9.0.0/24", Some("n"))
            .unwrap();
        let r2 = inv
            .update_ip_range(&a, r.id, Some("Lab 2"), Some(None))
            .unwrap();
        assert_eq!(
            (r2.name.as_str(), r2.cidr.as_str(), r2.notes.clone()),
            ("Lab 2", "10.9.0.0/24", None)
        );
        assert!(matches!(
            inv.create_ip_range(&a, "x", "10.9.0.7/24", None),
            Err(Error::Conflict(_))
        ));
        inv.delete_ip_range(&a, r.id).unwrap();
        assert!(inv.ip_range(r.id).is_err());
    }

    #[test]
    fn drill_down_marks_used_and_free() {
        let mut inv = Inventory::open_in_memory().unwrap();
        let r = inv
            .create_ip_range(&Actor::system(), "lab", "10.1.0.0/29", None)
            .unwrap();
        add(&mut inv, "10.1.0.2");
        let rows = inv.range_addresses(r.id, 0, 100).unwrap();
        assert_eq!(rows.len(), 6);
        assert_eq!(rows[0].ip_address, "10.1.0.1");
        assert_eq!(rows[1].status, AddressStatus::Used);
        assert_eq!(rows[1].asset.as_ref().unwrap().ip_address, "10.1.0.2");
        assert_eq!(rows[2].status, AddressStatus::Free);
        let tail = inv.range_addresses(r.id, 5, 10).unwrap();
        assert_eq!(tail.len(), 1);
        assert_eq!(tail[0].ip_address, "10.1.0.6");
        assert!(inv.range_addresses(r.id, 6, 10).unwrap().is_empty());
    }

    #[test]
    fn ipv6_drill_down_pages_deep_into_a_slash_64() {
        let mut inv = Inventory::open_in_memory().unwrap();
        let r = inv
            .create_ip_range(&Actor::system(), "v6", "2001:db8::/64", None)
            .unwrap();
        add(&mut inv, "2001:db8::ffff:ffff:ffff:fffe");
        let tail = inv.range_addresses(r.id, (1u128 << 64) - 3, 10).unwrap();
        let got: Vec<_> = tail
            .iter()
            .map(|a| (a.ip_address.as_str(), a.status))
            .collect();
        assert_eq!(
            got,
            [
                ("2001:db8::ffff:ffff:ffff:fffd", AddressStatus::Free),
                ("2001:db8::ffff:ffff:ffff:fffe", AddressStatus::Used),
                ("2001:db8::ffff:ffff:ffff:ffff", AddressStatus::Free),
            ]
        );
        assert!(inv.range_addresses(r.id, u128::MAX, 10).unwrap().is_empty());
    }

    #[test]
    fn allocate_fills_gaps_and_restores_archived() {
        let mut inv = Inventory::open_in_memory().unwrap();
        let a = Actor::system();
        let r = inv.create_ip_range(&a, "lab", "10.2.0.0/24", None).unwrap();
        add(&mut inv, "10.2.0.1");
        add(&mut inv, "10.2.0.3");
        let t = NewIpAsset::new("", AssetType::Vm);
        assert_eq!(
            inv.allocate_next(&a, r.id, &t).unwrap().ip_address,
            "10.2.0.2"
        );
        assert_eq!(
            inv.allocate_next(&a, r.id, &t).unwrap().ip_address,
            "10.2.0.4"
        );
        let old = inv.ip_asset("10.2.0.1").unwrap();
        inv.archive_ip_asset(&a, "10.2.0.1").unwrap();
        let again = inv.allocate_next(&a, r.id, &t).unwrap();
        assert_eq!((again.ip_address.as_str(), again.id), ("10.2.0.1", old.id));
    }

    #[test]
    fn next_free_passes_over_avoided_addresses_and_says_why() {
        let mut inv = Inventory::open_in_memory().unwrap();
        let a = Actor::system();
        let r = inv.create_ip_range(&a, "lab", "10.3.0.0/29", None).unwrap();
        add(&mut inv, "10.3.0.1");
        let avoid: BTreeMap<IpAddr, String> = [("10.3.0.2", "alive"), ("10.3.0.4", "alive")]
            .into_iter()
            .map(|(ip, why)| (ip.parse().unwrap(), why.to_string()))
            .collect();
        let n = inv.next_free_avoiding(r.id, &avoid).unwrap();
        assert_eq!(n.ip_address.as_deref(), Some("10.3.0.3"));
        assert_eq!(
            n.skipped,
            [SkippedAddress {
                ip_address: "10.3.0.2".into(),
                reason: "alive".into()
            }]
        );
        let t = NewIpAsset::new("", AssetType::Vm);
        let (got, skipped) = inv.allocate_next_avoiding(&a, r.id, &t, &avoid).unwrap();
        assert_eq!((got.ip_address.as_str(), skipped.len()), ("10.3.0.3", 1));
        let (got, skipped) = inv.allocate_next_avoiding(&a, r.id, &t, &avoid).unwrap();
        let passed: Vec<_> = skipped.iter().map(|s| s.ip_address.as_str()).collect();
        assert_eq!(
            (got.ip_address.as_str(), passed),
            ("10.3.0.5", vec!["10.3.0.2", "10.3.0.4"])
        );
        add(&mut inv, "10.3.0.6");
        // .2 and .4 are the only free ones left, both avoided: full, and nothing written.
        assert_eq!(
            inv.next_free_avoiding(r.id, &avoid).unwrap().ip_address,
            None
        );
        assert!(matches!(
            inv.allocate_next_avoiding(&a, r.id, &t, &avoid),
            Err(Error::RangeFull(_))
        ));
        assert_eq!(
            inv.next_free_address(r.id).unwrap().as_deref(),
            Some("10.3.0.2")
        );
        // The last usable address avoided.
        let r32 = inv.create_ip_range(&a, "one", "10.4.0.9/32", None).unwrap();
        let last: BTreeMap<IpAddr, String> = [("10.4.0.9".parse().unwrap(), "up".into())].into();
        let n = inv.next_free_avoiding(r32.id, &last).unwrap();
        assert_eq!((n.ip_address, n.skipped.len()), (None, 1));
    }

    #[test]
    fn free_addresses_page_over_the_gaps() {
        let mut inv = Inventory::open_in_memory().unwrap();
        let r = inv
            .create_ip_range(&Actor::system(), "lab", "10.0.0.0/29", None)
            .unwrap();
        // Usable .1–.6; .1, .3 and .4 used.
        for ip in ["10.0.0.1", "10.0.0.3", "10.0.0.4"] {
            add(&mut inv, ip);
        }
        let free = |inv: &Inventory, o, l| inv.range_free_addresses(r.id, o, l).unwrap();
        assert_eq!(free(&inv, 0, 10), ["10.0.0.2", "10.0.0.5", "10.0.0.6"]);
        assert_eq!(free(&inv, 1, 1), ["10.0.0.5"]);
        assert_eq!(free(&inv, 2, 5), ["10.0.0.6"]);
        assert!(free(&inv, 3, 5).is_empty());
        add(&mut inv, "10.0.0.6");
        assert_eq!(free(&inv, 0, 10), ["10.0.0.2", "10.0.0.5"]);
        let big = inv
            .create_ip_range(&Actor::system(), "big", "10.1.0.0/16", None)
            .unwrap();
        let page = inv.range_free_addresses(big.id, 65_530, 10).unwrap();
        assert_eq!(
            page,
            [
                "10.1.255.251",
                "10.1.255.252",
                "10.1.255.253",
                "10.1.255.254"
            ]
        );
    }
}
