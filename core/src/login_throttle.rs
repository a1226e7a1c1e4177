//! Login throttling: after `limit` failed logins within the window for one user name, or
//! from one client address, further logins for it are refused (429 + `Retry-After` in the
//! server) without a password check, until the oldest of those failures is a window old. A
//! right password during the lock is refused too: the lock is what stops guessing. A limit
//! of 0 turns that side off.
//!
//! The failures live in the inventory's `login_failures` table, so replicas on one
//! PostgreSQL count them together (an attacker cannot multiply the limit by the number of
//! replicas). Times are milliseconds since the epoch from the caller's clock; rows older
//! than the window are deleted with each new failure, so the table holds one window.

use std::net::IpAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ipocket_db::Sql;

use crate::error::Result;
use crate::store::Inventory;

/// The limits (`--login-failures-per-user`, `--login-failures-per-address`,
/// `--login-lockout-secs`); every replica must use the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginThrottle {
    /// Failures per user name within the window that lock it (0: no limit).
    pub per_user: usize,
    /// Failures per client address within the window that lock it (0: no limit).
    pub per_address: usize,
    /// The window failures are counted in, and so the longest a lock lasts.
    pub window: Duration,
}

/// A refused login: what is locked and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginLockout {
    /// `user` or `address`.
    pub scope: &'static str,
    /// How long until a login is checked again.
    pub retry_after: Duration,
}

impl LoginLockout {
    /// [`LoginLockout::retry_after`] in whole seconds, rounded up (`Retry-After`).
    pub fn retry_after_secs(&self) -> u64 {
        self.retry_after.as_secs() + u64::from(self.retry_after.subsec_nanos() > 0)
    }
}

impl LoginThrottle {
    /// The (scope, subject, limit) of each side that has a limit.
    fn keys(&self, username: &str, address: Option<IpAddr>) -> Vec<(&'static str, String, usize)> {
        let mut keys = Vec::with_capacity(2);
        if self.per_user > 0 {
            keys.push(("user", username.to_string(), self.per_user));
        }
        if let (Some(a), true) = (address, self.per_address > 0) {
            keys.push(("address", a.to_string(), self.per_address));
        }
        keys
    }

    fn window_ms(&self) -> i64 {
        i64::try_from(self.window.as_millis()).unwrap_or(i64::MAX)
    }

    /// The longest lock of `keys` at `now_ms`: a side is locked when its `limit`-th newest
    /// failure is younger than the window.
    fn lockout_in(
        &self,
        c: &dyn Sql,
        keys: &[(&'static str, String, usize)],
        now_ms: i64,
    ) -> Result<Option<LoginLockout>> {
        let since = now_ms.saturating_sub(self.window_ms());
        let mut longest: Option<LoginLockout> = None;
        for (scope, subject, limit) in keys {
            let nth = i64::try_from(*limit).unwrap_or(i64::MAX) - 1;
            let Some(row) = c.query_opt(
                "SELECT failed_at_ms FROM login_failures \
                 WHERE scope = ?1 AND subject = ?2 AND failed_at_ms > ?3 \
                 ORDER BY failed_at_ms DESC LIMIT 1 OFFSET ?4",
                &[scope, subject, &since, &nth],
            )?
            else {
                continue;
            };
            let at: i64 = row.get(0)?;
            let left = self.window_ms() - now_ms.saturating_sub(at).max(0);
            let lock = LoginLockout {
                scope,
                retry_after: Duration::from_millis(u64::try_from(left).unwrap_or(0)),
            };
            if longest.is_none_or(|l| lock.retry_after > l.retry_after) {
                longest = Some(lock);
            }
        }
        Ok(longest)
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

impl Inventory {
    /// Whether a login for `username` from `address` is refused now (`Some`: the longest
    /// lock of the two sides).
    pub fn login_lockout(
        &self,
        throttle: &LoginThrottle,
        username: &str,
        address: Option<IpAddr>,
    ) -> Result<Option<LoginLockout>> {
        let keys = throttle.keys(username, address);
        if keys.is_empty() {
            return Ok(None);
        }
        self.read(|c| throttle.lockout_in(c, &keys, now_ms()))
    }

    /// Counts a failed login for `username` from `address`; returns the lock it starts, if
    /// this failure reached a limit (`None` when it did not, or a lock was on already).
    pub fn record_login_failure(
        &self,
        throttle: &LoginThrottle,
        username: &str,
        address: Option<IpAddr>,
    ) -> Result<Option<LoginLockout>> {
        let keys = throttle.keys(username, address);
        if keys.is_empty() {
            return Ok(None);
        }
        let now = now_ms();
        self.write(|tx| {
            let before = throttle.lockout_in(tx, &keys, now)?;
            tx.execute(
                "DELETE FROM login_failures WHERE failed_at_ms <= ?1",
                &[&now.saturating_sub(throttle.window_ms())],
            )?;
            for (scope, subject, _) in &keys {
                tx.execute(
                    "INSERT INTO login_failures (scope, subject, failed_at_ms) VALUES (?1, ?2, ?3)",
                    &[scope, subject, &now],
                )?;
            }
            let after = throttle.lockout_in(tx, &keys, now)?;
            Ok(if before.is_none() { after } else { None })
        })
    }

    /// A right password: the user's count starts again (the address's does not, or one
    /// account of the attacker's own would reset it).
    pub fn clear_login_failures(&self, username: &str) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "DELETE FROM login_failures WHERE scope = 'user' AND subject = ?1",
                &[&username],
            )?;
            Ok(())
        })
    }
}
