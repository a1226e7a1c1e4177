//! The management dashboard's counts (seed: `/ui/management`).

use serde::Serialize;

use crate::error::Result;
use crate::store::Inventory;

/// How much the inventory holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
pub struct InventorySummary {
    /// Active IP assets.
    pub active_ip_total: u64,
    /// Archived IP assets.
    pub archived_ip_total: u64,
    /// Active IP assets without a project.
    pub unassigned_ip_total: u64,
    /// Hosts.
    pub host_total: u64,
    /// Vendors.
    pub vendor_total: u64,
    /// Projects.
    pub project_total: u64,
    /// Tags.
    pub tag_total: u64,
    /// IP ranges.
    pub range_total: u64,
}

impl Inventory {
    /// Counts of every kind of record, in one read.
    ///
    /// ```
    /// let inv = ipocket_core::Inventory::open_in_memory().unwrap();
    /// assert_eq!(inv.summary().unwrap().active_ip_total, 0);
    /// ```
    pub fn summary(&self) -> Result<InventorySummary> {
        let n = |v: i64| v.max(0) as u64;
        let r = self.read(|c| {
            Ok(c.query_one(
                "SELECT
                   (SELECT count(*) FROM ip_assets WHERE archived = 0),
                   (SELECT count(*) FROM ip_assets WHERE archived = 1),
                   (SELECT count(*) FROM ip_assets WHERE archived = 0 AND project_id IS NULL),
                   (SELECT count(*) FROM hosts),
                   (SELECT count(*) FROM vendors),
                   (SELECT count(*) FROM projects),
                   (SELECT count(*) FROM tags),
                   (SELECT count(*) FROM ip_ranges)",
                &[],
            )?)
        })?;
        Ok(InventorySummary {
            active_ip_total: n(r.get(0)?),
            archived_ip_total: n(r.get(1)?),
            unassigned_ip_total: n(r.get(2)?),
            host_total: n(r.get(3)?),
            vendor_total: n(r.get(4)?),
            project_total: n(r.get(5)?),
            tag_total: n(r.get(6)?),
            range_total: n(r.get(7)?),
        })
    }
}
