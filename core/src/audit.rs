//! The audit log: who changed what, when, with field-level before/after.

use std::borrow::Cow;

use ipocket_db::{Row, Sql, ToArg};
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::model::Actor;
use crate::paging::{Page, PageResult};
use crate::store::Inventory;

/// One changed field; `None` means empty / unset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldChange {
    /// Field name (`type`, `project`, `host`, `notes`, `tags`, `archived`, …).
    pub field: Cow<'static, str>,
    /// Value before the change.
    pub before: Option<String>,
    /// Value after the change.
    pub after: Option<String>,
}

impl FieldChange {
    /// Builds a change.
    pub fn new(
        field: impl Into<Cow<'static, str>>,
        before: Option<String>,
        after: Option<String>,
    ) -> Self {
        FieldChange {
            field: field.into(),
            before,
            after,
        }
    }
}

/// An audit log row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    /// Row id (increasing).
    pub id: i64,
    /// Acting user id, `None` for the system or a deleted user.
    pub user_id: Option<i64>,
    /// Acting user name at the time (`None` for the system).
    pub username: Option<String>,
    /// `IP_ASSET`, `PROJECT`, `HOST`, `VENDOR`, `TAG`, `IP_RANGE`, `USER`, `API_TOKEN`, `IMPORT_RUN`.
    pub target_type: String,
    /// Id of the target row (0 for import runs).
    pub target_id: i64,
    /// Human key of the target (the IP, the name, the import source).
    pub target_label: String,
    /// `CREATE`, `UPDATE`, `ARCHIVE`, `RESTORE`, `DELETE`, `APPLY`, `REVOKE`, …
    pub action: String,
    /// Field-level changes.
    pub changes: Vec<FieldChange>,
    /// Optional free text (import summary, …).
    pub message: Option<String>,
    /// `YYYY-MM-DD HH:MM:SS` UTC.
    pub created_at: String,
}

/// What to write into one audit row.
pub(crate) struct AuditRecord<'a> {
    pub(crate) target_type: &'a str,
    pub(crate) target_id: i64,
    pub(crate) target_label: &'a str,
    pub(crate) action: &'a str,
    pub(crate) changes: &'a [FieldChange],
    pub(crate) message: Option<&'a str>,
}

pub(crate) fn write_audit(
    db: &dyn Sql,
    actor: &Actor,
    now: &str,
    rec: &AuditRecord<'_>,
) -> Result<()> {
    insert_audit(db, actor, now, rec, false).map(drop)
}

/// [`write_audit`], returning the new row's id (`ipocket_db::write_audit_id`: not for rows
/// written by the thousand).
pub(crate) fn write_audit_id(
    db: &dyn Sql,
    actor: &Actor,
    now: &str,
    rec: &AuditRecord<'_>,
) -> Result<i64> {
    Ok(insert_audit(db, actor, now, rec, true)?.expect("asked for the id"))
}

fn insert_audit(
    db: &dyn Sql,
    actor: &Actor,
    now: &str,
    rec: &AuditRecord<'_>,
    with_id: bool,
) -> Result<Option<i64>> {
    let changes = if rec.changes.is_empty() {
        None
    } else {
        Some(serde_json::to_string(rec.changes).expect("changes serialise"))
    };
    let actor = actor.audit_actor();
    let row = ipocket_db::AuditRow {
        target_type: rec.target_type,
        target_id: rec.target_id,
        target_label: rec.target_label,
        action: rec.action,
        changes: changes.as_deref(),
        message: rec.message,
        created_at: Some(now),
    };
    Ok(if with_id {
        Some(ipocket_db::write_audit_id(db, &actor, &row)?)
    } else {
        ipocket_db::write_audit(db, &actor, &row)?;
        None
    })
}

/// Filter for [`Inventory::audit_log`].
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Only this target type.
    pub target_type: Option<String>,
    /// Only this target label (for example one IP: its whole history).
    pub target_label: Option<String>,
}

fn audit_from_row(r: &Row) -> Result<AuditEntry> {
    let changes: Option<String> = r.get(7)?;
    let message: Option<String> = r.get(8)?;
    // rows written by the original ipocket hold free text, not JSON
    let (changes, message) = match changes
        .as_deref()
        .map(serde_json::from_str::<Vec<FieldChange>>)
    {
        Some(Ok(list)) => (list, message),
        Some(Err(_)) => (Vec::new(), message.or(changes)),
        None => (Vec::new(), message),
    };
    Ok(AuditEntry {
        id: r.get(0)?,
        user_id: r.get(1)?,
        username: r.get(2)?,
        target_type: r.get(3)?,
        target_id: r.get(4)?,
        target_label: r.get(5)?,
        action: r.get(6)?,
        changes,
        message,
        created_at: r.get(9)?,
    })
}

impl Inventory {
    /// Audit entries, newest first.
    pub fn audit_log(&self, filter: &AuditFilter, page: Page) -> Result<PageResult<AuditEntry>> {
        // Only the filters given become conditions: PostgreSQL cannot type `?1 IS NULL`.
        let mut conds = Vec::new();
        let mut args: Vec<&dyn ToArg> = Vec::new();
        for (column, value) in [
            ("target_type", &filter.target_type),
            ("target_label", &filter.target_label),
        ] {
            if let Some(v) = value {
                args.push(v);
                conds.push(format!("{column} = ?{}", args.len()));
            }
        }
        let w = if conds.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conds.join(" AND "))
        };
        let (limit, offset) = (page.limit_i64(), page.offset_i64());
        self.read(|c| {
            let total: i64 = c
                .query_one(&format!("SELECT count(*) FROM audit_logs {w}"), &args)?
                .get(0)?;
            let n = args.len();
            let mut paged = args.clone();
            paged.extend([&limit as &dyn ToArg, &offset]);
            let items = c
                .query(
                    &format!(
                        "SELECT id, user_id, username, target_type, target_id, target_label, action, changes, message, created_at
                         FROM audit_logs {w} ORDER BY id DESC LIMIT ?{} OFFSET ?{}",
                        n + 1,
                        n + 2
                    ),
                    &paged,
                )?
                .iter()
                .map(audit_from_row)
                .collect::<Result<Vec<_>>>()?;
            Ok(PageResult {
                items,
                total: total as u64,
            })
        })
    }
}
