//! The one writer of `audit_logs` rows. The inventory (`ipocket-core`) owns the table; the
//! rule store and the samples store write their rows here too, in the transaction of the
//! write they record, so the audit log covers every write to the file.
use crate::error::Result;
use crate::sql::Sql;
use crate::url::Backend;

/// Who made a change: a user (id and name at the time), or the system (both `None`: the CLI,
/// bootstrap, background work).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditActor {
    /// The user's id.
    pub user_id: Option<i64>,
    /// The user's name at the time of the change.
    pub username: Option<String>,
}

impl AuditActor {
    /// The system: no user.
    pub fn system() -> AuditActor {
        AuditActor::default()
    }
}

/// One row of `audit_logs`.
#[derive(Debug, Clone, Copy)]
pub struct AuditRow<'a> {
    /// `IP_ASSET`, `ALERT_RULE`, `INGEST_SERVER`, … (upper case).
    pub target_type: &'a str,
    /// Id of the target row (0 when it has none).
    pub target_id: i64,
    /// Human key of the target (the IP, the name).
    pub target_label: &'a str,
    /// `CREATE`, `UPDATE`, `DELETE`, …
    pub action: &'a str,
    /// Field-level changes as JSON, `[{"field","before","after"}, …]` (core's `FieldChange`
    /// list), or `None`.
    pub changes: Option<&'a str>,
    /// Free text.
    pub message: Option<&'a str>,
    /// `YYYY-MM-DD HH:MM:SS` UTC; `None`: SQLite's clock now.
    pub created_at: Option<&'a str>,
}

/// Writes `row` as done by `actor` (the one writer of audit rows, for every store), on
/// either backend: the same row, `created_at` from the database's clock in the same format
/// when the row has none.
///
/// ```
/// use ipocket_db::{write_audit, AuditActor, AuditRow, Sql};
/// let conn = rusqlite::Connection::open_in_memory()?;
/// conn.execute_batch("CREATE TABLE audit_logs (id INTEGER PRIMARY KEY, user_id INTEGER, username TEXT,
///     target_type TEXT, target_id INTEGER, target_label TEXT, action TEXT, changes TEXT,
///     message TEXT, created_at TEXT)")?;
/// let row = AuditRow { target_type: "ALERT_GROUP", target_id: 1, target_label: "prod",
///     action: "CREATE", changes: None, message: None, created_at: None };
/// let ed = AuditActor { user_id: Some(2), username: Some("ed".into()) };
/// write_audit(&conn, &ed, &row)?;
/// let who: String = Sql::query_one(&conn, "SELECT username FROM audit_logs", &[])?.get(0)?;
/// assert_eq!(who, "ed");
/// # Ok::<(), ipocket_db::Error>(())
/// ```
pub fn write_audit(db: &dyn Sql, actor: &AuditActor, row: &AuditRow<'_>) -> Result<()> {
    insert_audit(db, actor, row, false).map(drop)
}

/// [`write_audit`], returning the new row's id. Not for rows written by the thousand:
/// on SQLite `RETURNING` makes the insert keep a statement journal.
pub fn write_audit_id(db: &dyn Sql, actor: &AuditActor, row: &AuditRow<'_>) -> Result<i64> {
    let id = insert_audit(db, actor, row, true)?;
    Ok(id.expect("RETURNING gives the id"))
}

/// The audit insert with `$now` as the clock of a row without `created_at`.
macro_rules! audit_insert {
    ($now:literal) => {
        concat!(
            "INSERT INTO audit_logs (user_id, username, target_type, target_id, target_label, action, changes, message, created_at) ",
            "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, COALESCE(?9, ",
            $now,
            "))"
        )
    };
}

fn insert_audit(
    db: &dyn Sql,
    actor: &AuditActor,
    row: &AuditRow<'_>,
    returning: bool,
) -> Result<Option<i64>> {
    let sql = match (db.backend(), returning) {
        (Backend::Sqlite, false) => {
            concat!(audit_insert!("strftime('%Y-%m-%d %H:%M:%S','now')"), "")
        }
        (Backend::Sqlite, true) => concat!(
            audit_insert!("strftime('%Y-%m-%d %H:%M:%S','now')"),
            " RETURNING id"
        ),
        (Backend::Postgres, false) => concat!(
            audit_insert!("to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')"),
            ""
        ),
        (Backend::Postgres, true) => concat!(
            audit_insert!("to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')"),
            " RETURNING id"
        ),
    };
    let args: [&dyn crate::sql::ToArg; 9] = [
        &actor.user_id,
        &actor.username,
        &row.target_type,
        &row.target_id,
        &row.target_label,
        &row.action,
        &row.changes,
        &row.message,
        &row.created_at,
    ];
    if returning {
        return Ok(Some(db.query_one(sql, &args)?.get(0)?));
    }
    db.execute(sql, &args)?;
    Ok(None)
}

/// Whether the database holds the inventory's `audit_logs` table (a store opened on a
/// database of its own, or in memory, has none and writes no audit rows).
pub fn has_audit_table(db: &dyn Sql) -> Result<bool> {
    db.has_table("audit_logs")
}
