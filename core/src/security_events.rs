//! Security events that change no data but belong in the audit log: failed logins,
//! lockouts, refused requests. A server collects them and writes them in batches, so a storm
//! of failed logins costs one short transaction now and then, not one per attempt.

use ipocket_db::Sql;

use crate::audit::{write_audit, AuditRecord};
use crate::error::Result;
use crate::model::{Actor, User};
use crate::store::Inventory;

/// One security event. All are audited on the `USER` they concern (the attempted name for a
/// login, id 0 when no such user exists) and do not count as inventory changes.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SecurityEvent {
    /// A wrong password, or an unknown or inactive user (`LOGIN_FAILED`, by no one).
    LoginFailed {
        /// The user name that was tried.
        username: String,
        /// The client address, as the server saw it.
        address: Option<String>,
    },
    /// Too many failures: logins are refused without a password check (`LOGIN_LOCKED`).
    LoginLocked {
        /// The user name that was tried.
        username: String,
        /// The client address.
        address: Option<String>,
        /// What is locked: `user` or `address`.
        scope: &'static str,
        /// Seconds the lock lasts.
        seconds: u64,
    },
    /// A logged-in user asked for something its role does not allow (`FORBIDDEN`).
    Forbidden {
        /// Who asked.
        user: User,
        /// What was refused and why (`POST /api/v1/users: role Viewer cannot manage users`).
        what: String,
    },
}

impl Inventory {
    /// Writes security events as audit rows, in one transaction.
    ///
    /// ```
    /// use ipocket_core::{AuditFilter, Inventory, Page, SecurityEvent};
    /// let mut inv = Inventory::open_in_memory().unwrap();
    /// inv.record_security_events(&[SecurityEvent::LoginFailed {
    ///     username: "mallory".into(),
    ///     address: Some("192.0.2.7".into()),
    /// }]).unwrap();
    /// let rows = inv.audit_log(&AuditFilter::default(), Page::default()).unwrap().items;
    /// assert_eq!((rows[0].action.as_str(), rows[0].target_label.as_str()), ("LOGIN_FAILED", "mallory"));
    /// ```
    pub fn record_security_events(&mut self, events: &[SecurityEvent]) -> Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        let now = self.now()?;
        self.write(|tx| {
            for e in events {
                let (actor, target_id, label, action, message) = match e {
                    SecurityEvent::LoginFailed { username, address } => (
                        Actor::system(),
                        user_id(tx, username)?,
                        username.as_str(),
                        "LOGIN_FAILED",
                        format!("failed login{}", from(address)),
                    ),
                    SecurityEvent::LoginLocked {
                        username,
                        address,
                        scope,
                        seconds,
                    } => (
                        Actor::system(),
                        user_id(tx, username)?,
                        username.as_str(),
                        "LOGIN_LOCKED",
                        format!(
                            "logins refused for {seconds} s (too many failures for this {scope}){}",
                            from(address)
                        ),
                    ),
                    SecurityEvent::Forbidden { user, what } => (
                        Actor::user(user),
                        user.id,
                        user.username.as_str(),
                        "FORBIDDEN",
                        what.clone(),
                    ),
                };
                write_audit(
                    tx,
                    &actor,
                    &now,
                    &AuditRecord {
                        target_type: "USER",
                        target_id,
                        target_label: label,
                        action,
                        changes: &[],
                        message: Some(&message),
                    },
                )?;
            }
            Ok(())
        })
    }
}

fn from(address: &Option<String>) -> String {
    address
        .as_ref()
        .map(|a| format!(" from {a}"))
        .unwrap_or_default()
}

fn user_id(c: &dyn Sql, username: &str) -> Result<i64> {
    Ok(
        c.query_opt("SELECT id FROM users WHERE username = ?1", &[&username])?
            .map(|r| r.get(0))
            .transpose()?
            .unwrap_or(0),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Role;
    use crate::{AuditFilter, Page};

    #[test]
    fn events_become_user_audit_rows_that_do_not_count_as_data_changes() {
        let mut inv = Inventory::open_in_memory().unwrap();
        let vi = inv
            .create_user(&Actor::system(), "vi", "pw", Role::Viewer)
            .unwrap();
        let mark = inv.read(Inventory::audit_mark).unwrap();
        inv.record_security_events(&[
            SecurityEvent::LoginFailed {
                username: "vi".into(),
                address: Some("127.0.0.1".into()),
            },
            SecurityEvent::LoginLocked {
                username: "nobody".into(),
                address: None,
                scope: "user",
                seconds: 60,
            },
            SecurityEvent::Forbidden {
                user: vi.clone(),
                what: "POST /api/v1/users: role Viewer cannot manage users".into(),
            },
        ])
        .unwrap();
        let rows = inv
            .audit_log(&AuditFilter::default(), Page::default())
            .unwrap()
            .items;
        let got: Vec<_> = rows
            .iter()
            .take(3)
            .map(|r| {
                (
                    r.action.as_str(),
                    r.target_id,
                    r.target_label.as_str(),
                    r.username.as_deref(),
                    r.message.as_deref().unwrap_or(""),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    "FORBIDDEN",
                    vi.id,
                    "vi",
                    Some("vi"),
                    "POST /api/v1/users: role Viewer cannot manage users"
                ),
                (
                    "LOGIN_LOCKED",
                    0,
                    "nobody",
                    None,
                    "logins refused for 60 s (too many failures for this user)"
                ),
                (
                    "LOGIN_FAILED",
                    vi.id,
                    "vi",
                    None,
                    "failed login from 127.0.0.1"
                ),
            ]
        );
        assert_eq!(inv.read(Inventory::audit_mark).unwrap(), mark);
    }
}
