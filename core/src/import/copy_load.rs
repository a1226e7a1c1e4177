//! The hosts and IP assets of an import on PostgreSQL (the sections that come by the
//! thousand): loaded with `COPY … FROM STDIN` into temporary staging tables, then written
//! with one set-based statement per step (update, insert, tag links, audit rows), inside
//! the apply's transaction. Same rows, same ids order, same audit rows as the row-by-row
//! path ([`super::apply`]) that SQLite takes.

use ipocket_db::{CopyRows, Sql};

use super::apply::{lookup, tag_id, AssetRow, IdMaps};
use super::report::{Item, Op, M_TAGS};
use crate::audit::FieldChange;
use crate::error::Result;
use crate::model::{canonical_ip, ip_key, Actor};

/// The staging tables: created once per transaction, dropped at its end.
const STAGE: &str = "CREATE TEMP TABLE IF NOT EXISTS import_stage (
    seq BIGINT PRIMARY KEY, id BIGINT, ip_address TEXT NOT NULL, ip_family BIGINT,
    ip_key BYTEA, type TEXT NOT NULL, project_id BIGINT, host_id BIGINT, notes TEXT,
    archived BIGINT NOT NULL, mask BIGINT NOT NULL, action TEXT NOT NULL, changes TEXT
) ON COMMIT DROP";
const STAGE_TAGS: &str = "CREATE TEMP TABLE IF NOT EXISTS import_stage_tags (
    seq BIGINT NOT NULL, tag_id BIGINT NOT NULL
) ON COMMIT DROP";

/// Updates only the fields the plan changes (`mask`, as the row-by-row update).
const UPDATE: &str = "UPDATE ip_assets a SET
    type = CASE WHEN (s.mask & 1) <> 0 THEN s.type ELSE a.type END,
    project_id = CASE WHEN (s.mask & 2) <> 0 THEN s.project_id ELSE a.project_id END,
    host_id = CASE WHEN (s.mask & 4) <> 0 THEN s.host_id ELSE a.host_id END,
    notes = CASE WHEN (s.mask & 8) <> 0 THEN s.notes ELSE a.notes END,
    archived = CASE WHEN (s.mask & 16) <> 0 THEN s.archived ELSE a.archived END,
    updated_at = ?1
    FROM import_stage s WHERE s.id IS NOT NULL AND a.id = s.id";

/// Inserts the new rows in item order (ids ascend as SQLite's do) and notes their ids.
const INSERT: &str = "WITH created AS (
    INSERT INTO ip_assets (ip_address, ip_family, ip_key, type, project_id, host_id, notes, archived, created_at, updated_at)
    SELECT ip_address, ip_family, ip_key, type, project_id, host_id, notes, archived, CAST(?1 AS TEXT), CAST(?1 AS TEXT)
    FROM import_stage WHERE id IS NULL ORDER BY seq
    RETURNING id, ip_address)
    UPDATE import_stage s SET id = c.id FROM created c WHERE s.id IS NULL AND s.ip_address = c.ip_address";

const UNTAG: &str = "DELETE FROM ip_asset_tags t USING import_stage s
    WHERE (s.mask & 32) <> 0 AND t.ip_asset_id = s.id";
const TAG: &str = "INSERT INTO ip_asset_tags (ip_asset_id, tag_id)
    SELECT s.id, t.tag_id FROM import_stage_tags t JOIN import_stage s ON s.seq = t.seq";

const HOST_STAGE: &str = "CREATE TEMP TABLE IF NOT EXISTS import_stage_hosts (
    seq BIGINT PRIMARY KEY, id BIGINT, name TEXT NOT NULL, notes TEXT, vendor_id BIGINT,
    action TEXT NOT NULL, changes TEXT
) ON COMMIT DROP";
const HOST_UPDATE: &str =
    "UPDATE hosts h SET notes = s.notes, vendor_id = s.vendor_id, updated_at = ?1
    FROM import_stage_hosts s WHERE s.id IS NOT NULL AND h.id = s.id";
/// Inserts the new hosts in item order; their names and ids (the assets name them).
const HOST_INSERT: &str = "WITH created AS (
    INSERT INTO hosts (name, notes, vendor_id, created_at, updated_at)
    SELECT name, notes, vendor_id, CAST(?1 AS TEXT), CAST(?1 AS TEXT)
    FROM import_stage_hosts WHERE id IS NULL ORDER BY seq
    RETURNING id, name)
    UPDATE import_stage_hosts s SET id = c.id FROM created c WHERE s.id IS NULL AND s.name = c.name
    RETURNING s.name, s.id";

/// One audit row per staged record, in item order (`message` as the row-by-row path
/// writes it).
fn audit_from(stage: &str, target_type: &str, label: &str) -> String {
    format!(
        "INSERT INTO audit_logs (user_id, username, target_type, target_id, target_label, action, changes, message, created_at)
         SELECT CAST(?1 AS BIGINT), CAST(?2 AS TEXT), '{target_type}', s.id, s.{label}, s.action, s.changes, 'import', CAST(?3 AS TEXT)
         FROM {stage} s ORDER BY s.seq"
    )
}

fn changes_json(changes: &[FieldChange]) -> Option<String> {
    (!changes.is_empty()).then(|| serde_json::to_string(changes).expect("changes serialise"))
}

/// A run of planned hosts or IP assets waiting to be written in bulk. Hosts are written
/// before the first asset is taken (an asset names its host by id), assets before the
/// next host, so the audit rows keep the order of the items.
pub(crate) struct CopyBatch<'w> {
    tx: &'w dyn Sql,
    actor: &'w Actor,
    now: &'w str,
    hosts: CopyRows,
    assets: CopyRows,
    tags: CopyRows,
    /// Items pushed in this transaction (the staging key; goes on across flushes).
    seq: i64,
}

impl<'w> CopyBatch<'w> {
    pub(crate) fn new(tx: &'w dyn Sql, actor: &'w Actor, now: &'w str) -> Self {
        CopyBatch {
            tx,
            actor,
            now,
            hosts: CopyRows::default(),
            assets: CopyRows::default(),
            tags: CopyRows::default(),
            seq: 0,
        }
    }

    /// Adds the host `key` of item `it` (an [`Op::Host`]); an unknown vendor is refused
    /// here, as the row-by-row path refuses it.
    pub(crate) fn push_host(&mut self, ids: &mut IdMaps, key: &str, it: &Item) -> Result<()> {
        let Some(Op::Host { id, notes, vendor }) = &it.op else {
            unreachable!("only host items are pushed as hosts")
        };
        self.flush_assets()?;
        let vid = lookup(&ids.vendors, vendor, "vendor")?;
        self.seq += 1;
        self.hosts.push(&[
            &self.seq,
            id,
            &key,
            notes,
            &vid,
            &it.action.audit_action(),
            &changes_json(&it.changes),
        ]);
        Ok(())
    }

    /// Adds the asset `key` of item `it`; a project, host or tag it names that is not
    /// known is refused here, as the row-by-row path refuses it.
    pub(crate) fn push_asset(
        &mut self,
        ids: &mut IdMaps,
        key: &str,
        row: &AssetRow<'_>,
        it: &Item,
        changes: &[FieldChange],
    ) -> Result<()> {
        self.flush_hosts(ids)?;
        let (pid, hid) = row.refs(ids)?;
        let (fam, k) = match row.id {
            Some(_) => (None, None),
            None => {
                let (ip, _) = canonical_ip(key)?;
                let (fam, k) = ip_key(ip);
                (Some(fam), Some(k))
            }
        };
        let tags = row.tags_written();
        // the tag links are replaced only when tags are written
        let mask = if tags.is_some() {
            row.mask
        } else {
            row.mask & !M_TAGS
        };
        let changes = changes_json(changes);
        self.seq += 1;
        for t in tags.unwrap_or_default() {
            self.tags.push(&[&self.seq, &tag_id(ids, t)?]);
        }
        self.assets.push(&[
            &self.seq,
            &row.id,
            &key,
            &fam,
            &k,
            &row.asset_type.as_str(),
            &pid,
            &hid,
            &row.notes,
            &row.archived,
            &mask,
            &it.action.audit_action(),
            &changes,
        ]);
        Ok(())
    }

    /// Writes everything pushed so far.
    pub(crate) fn flush(&mut self, ids: &mut IdMaps) -> Result<()> {
        self.flush_hosts(ids)?;
        self.flush_assets()
    }

    /// Writes the hosts pushed since the last flush, with their audit rows; notes the new
    /// hosts' ids in `ids`.
    fn flush_hosts(&mut self, ids: &mut IdMaps) -> Result<()> {
        if self.hosts.is_empty() {
            return Ok(());
        }
        let (tx, now) = (self.tx, self.now);
        tx.execute(HOST_STAGE, &[])?;
        tx.execute("TRUNCATE import_stage_hosts", &[])?;
        tx.copy_in(
            "COPY import_stage_hosts (seq, id, name, notes, vendor_id, action, changes) FROM STDIN",
            std::mem::take(&mut self.hosts),
        )?;
        tx.execute(HOST_UPDATE, &[&now])?;
        for r in tx.query(HOST_INSERT, &[&now])? {
            ids.hosts.insert(r.get(0)?, r.get(1)?);
        }
        self.audit("import_stage_hosts", "HOST", "name")
    }

    /// Writes the assets pushed since the last flush, with their tag links and audit rows.
    fn flush_assets(&mut self) -> Result<()> {
        if self.assets.is_empty() {
            return Ok(());
        }
        let (tx, now) = (self.tx, self.now);
        let assets = std::mem::take(&mut self.assets);
        let tags = std::mem::take(&mut self.tags);
        tx.execute(STAGE, &[])?;
        tx.execute(STAGE_TAGS, &[])?;
        tx.execute("TRUNCATE import_stage, import_stage_tags", &[])?;
        tx.copy_in(
            "COPY import_stage (seq, id, ip_address, ip_family, ip_key, type, project_id, host_id, notes, archived, mask, action, changes) FROM STDIN",
            assets,
        )?;
        if !tags.is_empty() {
            tx.copy_in("COPY import_stage_tags (seq, tag_id) FROM STDIN", tags)?;
        }
        tx.execute(UPDATE, &[&now])?;
        tx.execute(INSERT, &[&now])?;
        tx.execute(UNTAG, &[])?;
        tx.execute(TAG, &[])?;
        self.audit("import_stage", "IP_ASSET", "ip_address")
    }

    fn audit(&self, stage: &str, target_type: &str, label: &str) -> Result<()> {
        let who = self.actor.audit_actor();
        self.tx.execute(
            &audit_from(stage, target_type, label),
            &[&who.user_id, &who.username, &self.now],
        )?;
        Ok(())
    }
}
