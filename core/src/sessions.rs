//! Login sessions: bearer tokens of which only a hash is stored, ended by logout, by
//! revocation, by an absolute age and by idleness ([`SessionPolicy`]).

use std::time::Duration;

use ipocket_db::{Sql, ToArg};
use rusqlite::ErrorCode;
use serde::Serialize;

use crate::dialect::shift_time;
use crate::error::{Error, Result};
use crate::model::{Actor, User};
use crate::store::{Inventory, INVENTORY_LOCK};
use crate::users::{audit_user, delete_sessions_of, user_row, VerifiedLogin};

/// How long sessions live. Both limits are checked on every use of a token.
///
/// ```
/// use ipocket_core::SessionPolicy;
/// let p = SessionPolicy::default();
/// assert_eq!((p.max_age_secs, p.idle_secs), (7 * 86_400, 86_400));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPolicy {
    /// Seconds after the login a session ends, however busy it is.
    pub max_age_secs: i64,
    /// Seconds without a request after which a session ends.
    pub idle_secs: i64,
}

impl Default for SessionPolicy {
    /// 7 days absolute, 24 hours idle.
    fn default() -> Self {
        SessionPolicy {
            max_age_secs: 7 * 86_400,
            idle_secs: 86_400,
        }
    }
}

/// One of a user's own sessions as shown to that user: never the token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionInfo {
    /// Stable, non-secret id (the row id).
    pub id: i64,
    /// Login time, `YYYY-MM-DD HH:MM:SS` UTC.
    pub created_at: String,
    /// Last request, to the minute ([`TOUCH_EVERY_SECS`]).
    pub last_seen_at: String,
    /// Whether this is the session asking.
    pub current: bool,
}

/// `last_seen_at` is written at most once per this many seconds, so most token checks only
/// read.
pub const TOUCH_EVERY_SECS: i64 = 60;

pub(crate) fn token_hash(token: &str) -> String {
    use blake2::Digest;
    let d = blake2::Blake2s256::digest(token.as_bytes());
    d.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn new_token() -> String {
    use argon2::password_hash::rand_core::{OsRng, RngCore};
    let mut b = [0u8; 32];
    OsRng.fill_bytes(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A session found by its token, judged against the policy at `now`.
struct SessionRow {
    id: i64,
    user_id: i64,
    live: bool,
    /// `last_seen_at` is older than [`TOUCH_EVERY_SECS`].
    stale: bool,
}

/// The stored time `secs` seconds before `now`: a session or token time compared with it
/// as text (`YYYY-MM-DD HH:MM:SS` sorts as it reads).
pub(crate) fn ago(now: &str, secs: i64) -> Result<String> {
    shift_time(now, -secs)
}

/// The times a session is judged by at `now`: created after the first, last seen after
/// the second is live.
fn live_since(now: &str, p: SessionPolicy) -> Result<(String, String)> {
    Ok((ago(now, p.max_age_secs)?, ago(now, p.idle_secs)?))
}

fn session_row(
    c: &dyn Sql,
    token: &str,
    now: &str,
    p: SessionPolicy,
) -> Result<Option<SessionRow>> {
    let (created_after, seen_after) = live_since(now, p)?;
    c.query_opt(
        "SELECT id, user_id,
                created_at > ?2 AND last_seen_at > ?3,
                last_seen_at <= ?4
         FROM sessions WHERE token_hash = ?1",
        &[
            &token_hash(token),
            &created_after,
            &seen_after,
            &ago(now, TOUCH_EVERY_SECS)?,
        ],
    )?
    .map(|r| {
        Ok(SessionRow {
            id: r.get(0)?,
            user_id: r.get(1)?,
            live: r.get(2)?,
            stale: r.get(3)?,
        })
    })
    .transpose()
}

impl Inventory {
    /// Runs a small write without waiting for the writer: a token check must stay fast
    /// while an import holds the write lock. While another write is under way the write is
    /// skipped (the next check retries it). `sql` is one statement ending in its `WHERE`
    /// clause, run through `c` (a reading connection, not a transaction).
    ///
    /// SQLite: the statement, with no busy wait. PostgreSQL: the statement also asks for the
    /// inventory's write lock (`pg_try_advisory_xact_lock`, held by its own transaction until
    /// it ends) and changes nothing when another write holds it; holding it, no write is
    /// under way, so no row it touches can be locked and it never waits either.
    pub(crate) fn write_if_free(&self, c: &dyn Sql, sql: &str, args: &[&dyn ToArg]) -> Result<()> {
        let Some(conn) = self.db.sqlite_connection() else {
            let sql = format!("{sql} AND pg_try_advisory_xact_lock(?{})", args.len() + 1);
            let mut with_lock = args.to_vec();
            with_lock.push(&INVENTORY_LOCK);
            c.execute(&sql, &with_lock)?;
            return Ok(());
        };
        let saved: i64 = conn.pragma_query_value(None, "busy_timeout", |r| r.get(0))?;
        conn.busy_timeout(Duration::ZERO)?;
        let r = Sql::execute(conn, sql, args);
        conn.busy_timeout(Duration::from_millis(saved.max(0) as u64))?;
        match r {
            Ok(_) => Ok(()),
            Err(ipocket_db::Error::Sqlite(rusqlite::Error::SqliteFailure(e, _)))
                if matches!(e.code, ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) =>
            {
                Ok(())
            }
            Err(e) => Err(e.into()),
        }
    }
}

impl Inventory {
    /// How long sessions live (see [`Inventory::set_session_policy`]).
    pub fn session_policy(&self) -> SessionPolicy {
        self.session_policy
    }

    /// Sets how long sessions live, for this connection's checks and logins.
    pub fn set_session_policy(&mut self, policy: SessionPolicy) {
        self.session_policy = policy;
    }

    /// The quick, writing half of [`Inventory::login`]: stores the session (and the
    /// upgraded hash). `None` when the user was deactivated or its password changed
    /// since [`Inventory::verify_login`]. Expired sessions of every user are deleted here.
    pub fn open_session(&mut self, verified: VerifiedLogin) -> Result<Option<(User, String)>> {
        let token = new_token();
        let now = self.now()?;
        let (created_after, seen_after) = live_since(&now, self.session_policy)?;
        self.write(|tx| {
            let (u, hash_now) = user_row(tx, verified.user.id)?;
            if !u.is_active || hash_now != verified.checked_hash {
                return Ok(None);
            }
            if let Some(h) = &verified.rehash {
                tx.execute(
                    "UPDATE users SET hashed_password = ?2 WHERE id = ?1",
                    &[&u.id, h],
                )?;
                let ch = [crate::audit::FieldChange::new(
                    "password",
                    None,
                    Some("upgraded".into()),
                )];
                audit_user(tx, &Actor::user(&u), &now, &u, "UPDATE", &ch)?;
            }
            tx.execute(
                "DELETE FROM sessions WHERE created_at <= ?1 OR last_seen_at <= ?2",
                &[&created_after, &seen_after],
            )?;
            tx.execute(
                "INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at) VALUES (?1, ?2, ?3, ?3)",
                &[&token_hash(&token), &u.id, &now],
            )?;
            audit_user(tx, &Actor::user(&u), &now, &u, "LOGIN", &[])?;
            Ok(Some((u, token)))
        })
    }

    /// The active user a live session token belongs to. An expired session is deleted; a
    /// live one has its `last_seen_at` moved on (at most once a minute, never waiting for
    /// the writer).
    pub fn session_user(&self, token: &str) -> Result<Option<User>> {
        self.read(|c| {
            let now = self.now_in(c)?;
            let Some(s) = session_row(c, token, &now, self.session_policy)? else {
                return Ok(None);
            };
            let (u, _) = user_row(c, s.user_id)?;
            if !s.live || !u.is_active {
                self.write_if_free(c, "DELETE FROM sessions WHERE id = ?1", &[&s.id])?;
                return Ok(None);
            }
            if s.stale {
                self.write_if_free(
                    c,
                    "UPDATE sessions SET last_seen_at = ?2 WHERE id = ?1",
                    &[&s.id, &now],
                )?;
            }
            Ok(Some(u))
        })
    }

    /// Ends one session (logout); returns whether it was a live session of an active user.
    /// An expired session or one of a deactivated user is deleted too, but answers `false`.
    pub fn logout(&mut self, token: &str) -> Result<bool> {
        let now = self.now()?;
        let p = self.session_policy;
        self.write(|tx| {
            let Some(s) = session_row(tx, token, &now, p)? else {
                return Ok(false);
            };
            let (u, _) = user_row(tx, s.user_id)?;
            tx.execute("DELETE FROM sessions WHERE id = ?1", &[&s.id])?;
            let valid = s.live && u.is_active;
            if valid {
                audit_user(tx, &Actor::user(&u), &now, &u, "LOGOUT", &[])?;
            }
            Ok(valid)
        })
    }

    /// The live sessions of a user, newest first; `current` marks the one of `token`.
    pub fn own_sessions(&self, user_id: i64, token: Option<&str>) -> Result<Vec<SessionInfo>> {
        let current = token.map(token_hash).unwrap_or_default();
        self.read(|c| {
            let (created_after, seen_after) = live_since(&self.now_in(c)?, self.session_policy)?;
            c.query(
                "SELECT id, created_at, last_seen_at, token_hash = ?2 FROM sessions
                 WHERE user_id = ?1 AND created_at > ?3 AND last_seen_at > ?4
                 ORDER BY id DESC",
                &[&user_id, &current, &created_after, &seen_after],
            )?
            .iter()
            .map(|r| {
                Ok(SessionInfo {
                    id: r.get(0)?,
                    created_at: r.get(1)?,
                    last_seen_at: r.get(2)?,
                    current: r.get(3)?,
                })
            })
            .collect()
        })
    }

    /// Ends one of the user's own sessions by its id (audited as a `LOGOUT`). Another
    /// user's session id is not found.
    pub fn revoke_own_session(&mut self, user: &User, session_id: i64) -> Result<()> {
        let now = self.now()?;
        self.write(|tx| {
            let n = tx.execute(
                "DELETE FROM sessions WHERE id = ?1 AND user_id = ?2",
                &[&session_id, &user.id],
            )?;
            if n == 0 {
                return Err(Error::not_found("session", session_id));
            }
            let (u, _) = user_row(tx, user.id)?;
            let ch = [crate::audit::FieldChange::new(
                "session",
                Some(session_id.to_string()),
                None,
            )];
            audit_user(tx, &Actor::user(&u), &now, &u, "LOGOUT", &ch)
        })
    }

    /// Ends every session of a user (Admin actor only); returns how many.
    pub fn revoke_sessions(&mut self, actor: &Actor, user_id: i64) -> Result<usize> {
        actor.require_user_admin()?;
        let now = self.now()?;
        self.write(|tx| {
            let (u, _) = user_row(tx, user_id)?;
            let n = delete_sessions_of(tx, user_id)?;
            let ch = [crate::audit::FieldChange::new(
                "sessions",
                Some(n.to_string()),
                Some("0".into()),
            )];
            audit_user(tx, actor, &now, &u, "UPDATE", &ch)?;
            Ok(n as usize)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Role;

    fn at(inv: &mut Inventory, t: &str) {
        inv.set_fixed_time(Some(t.to_string()));
    }

    fn count(inv: &Inventory) -> i64 {
        inv.read(|c| Ok(c.query_one("SELECT count(*) FROM sessions", &[])?.get(0)?))
            .unwrap()
    }

    #[test]
    fn sessions_end_when_idle_and_when_old_and_are_pruned() {
        let mut inv = Inventory::open_in_memory().unwrap();
        inv.set_session_policy(SessionPolicy {
            max_age_secs: 3 * 3600,
            idle_secs: 3600,
        });
        inv.create_user(&Actor::system(), "ed", "pw", Role::Editor)
            .unwrap();
        at(&mut inv, "2030-01-01 10:00:00");
        let (_, idle) = inv.login("ed", "pw").unwrap().unwrap();
        let (_, busy) = inv.login("ed", "pw").unwrap().unwrap();
        // Used every 50 minutes: the busy one lives on, the other goes idle after an hour.
        for t in ["10:50:00", "11:40:00", "12:30:00"] {
            at(&mut inv, &format!("2030-01-01 {t}"));
            assert!(inv.session_user(&busy).unwrap().is_some(), "{t}");
        }
        assert!(inv.session_user(&idle).unwrap().is_none());
        assert_eq!(count(&inv), 1, "the expired session was deleted");
        // Three hours after the login the busy one ends too, however active.
        at(&mut inv, "2030-01-01 13:00:00");
        assert!(inv.session_user(&busy).unwrap().is_none());
        assert!(!inv.logout(&busy).unwrap());
        // A login prunes every expired session, whoever's it was.
        at(&mut inv, "2030-01-01 14:00:00");
        let (_, a) = inv.login("ed", "pw").unwrap().unwrap();
        at(&mut inv, "2030-01-01 16:00:00");
        inv.login("ed", "pw").unwrap().unwrap();
        assert_eq!(count(&inv), 1);
        assert!(inv.session_user(&a).unwrap().is_none());
    }

    #[test]
    fn last_seen_is_written_at_most_once_a_minute() {
        let mut inv = Inventory::open_in_memory().unwrap();
        inv.create_user(&Actor::system(), "ed", "pw", Role::Editor)
            .unwrap();
        at(&mut inv, "2030-01-01 10:00:00");
        let (u, t) = inv.login("ed", "pw").unwrap().unwrap();
        let seen = |inv: &Inventory| {
            inv.own_sessions(u.id, None).unwrap()[0]
                .last_seen_at
                .clone()
        };
        at(&mut inv, "2030-01-01 10:00:59");
        inv.session_user(&t).unwrap().unwrap();
        assert_eq!(seen(&inv), "2030-01-01 10:00:00");
        at(&mut inv, "2030-01-01 10:01:00");
        inv.session_user(&t).unwrap().unwrap();
        assert_eq!(seen(&inv), "2030-01-01 10:01:00");
    }

    #[test]
    fn a_deactivated_users_session_cannot_log_out_and_is_deleted() {
        let mut inv = Inventory::open_in_memory().unwrap();
        let u = inv
            .create_user(&Actor::system(), "ed", "pw", Role::Editor)
            .unwrap();
        let (_, t) = inv.login("ed", "pw").unwrap().unwrap();
        // Deactivated behind the library's back (an old build, a manual edit): the row stays.
        inv.write(|tx| Ok(tx.execute("UPDATE users SET is_active = 0 WHERE id = ?1", &[&u.id])?))
            .unwrap();
        assert!(!inv.logout(&t).unwrap());
        assert_eq!(count(&inv), 0);
        let audit: i64 = inv
            .read(|c| {
                Ok(c.query_one(
                    "SELECT count(*) FROM audit_logs WHERE action = 'LOGOUT'",
                    &[],
                )?
                .get(0)?)
            })
            .unwrap();
        assert_eq!(audit, 0, "no LOGOUT row for a refused logout");
    }

    #[test]
    fn own_sessions_are_listed_without_tokens_and_revoked_one_by_one() {
        let mut inv = Inventory::open_in_memory().unwrap();
        let ed = inv
            .create_user(&Actor::system(), "ed", "pw", Role::Editor)
            .unwrap();
        let vi = inv
            .create_user(&Actor::system(), "vi", "pw", Role::Viewer)
            .unwrap();
        let (_, t1) = inv.login("ed", "pw").unwrap().unwrap();
        let (_, t2) = inv.login("ed", "pw").unwrap().unwrap();
        let (_, tv) = inv.login("vi", "pw").unwrap().unwrap();
        let list = inv.own_sessions(ed.id, Some(&t2)).unwrap();
        assert_eq!(list.len(), 2);
        assert!(list[0].current && !list[1].current);
        let json = serde_json::to_string(&list).unwrap();
        assert!(
            !json.contains(&t1) && !json.contains(&token_hash(&t1)),
            "{json}"
        );
        // Another user's session is not found, and stays.
        let other = inv.own_sessions(vi.id, None).unwrap()[0].id;
        assert!(matches!(
            inv.revoke_own_session(&ed, other),
            Err(Error::NotFound { .. })
        ));
        assert!(inv.session_user(&tv).unwrap().is_some());
        inv.revoke_own_session(&ed, list[1].id).unwrap();
        assert!(inv.session_user(&t1).unwrap().is_none());
        assert!(inv.session_user(&t2).unwrap().is_some());
    }

    #[test]
    fn a_token_check_does_not_wait_for_a_busy_writer() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let mut writer = Inventory::open(&path).unwrap();
        writer
            .create_user(&Actor::system(), "ed", "pw", Role::Editor)
            .unwrap();
        writer.set_fixed_time(Some("2030-01-01 10:00:00".into()));
        let (_, t) = writer.login("ed", "pw").unwrap().unwrap();
        let mut reader = Inventory::open(&path).unwrap();
        reader.set_fixed_time(Some("2030-01-01 10:05:00".into()));
        // The writer holds the write lock (as a long import apply does).
        let held = writer.db.lock_writes(INVENTORY_LOCK).unwrap();
        let started = std::time::Instant::now();
        assert!(reader.session_user(&t).unwrap().is_some());
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "waited for the writer"
        );
        drop(held);
        reader.session_user(&t).unwrap();
        let seen: String = reader
            .read(|c| {
                Ok(c.query_one("SELECT last_seen_at FROM sessions", &[])?
                    .get(0)?)
            })
            .unwrap();
        assert_eq!(
            seen, "2030-01-01 10:05:00",
            "touched once the writer was done"
        );
    }
}
