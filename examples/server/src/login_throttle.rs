//! Login throttling: after `limit` failed logins within `window` for one user name, or from
//! one client address, further logins for it are refused (429 + `Retry-After`) without a
//! password check, until the oldest counted failure is `window` old. A right password during
//! the lock is refused too: the lock is what stops guessing. A limit of 0 turns that side off.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Most keys (user names + addresses) remembered: a spray of random names cannot grow the
/// map without bound; past it, new names are not counted (addresses still are).
const MAX_KEYS: usize = 100_000;

#[derive(Clone, PartialEq, Eq, Hash, Debug)]
enum Key {
    User(String),
    Address(IpAddr),
}

/// A refused login: what is locked and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Locked {
    /// `user` or `address`.
    pub(crate) scope: &'static str,
    pub(crate) retry_after: Duration,
}

impl Locked {
    pub(crate) fn retry_after_secs(&self) -> u64 {
        self.retry_after.as_secs() + u64::from(self.retry_after.subsec_nanos() > 0)
    }
}

pub(crate) struct LoginThrottle {
    per_user: usize,
    per_address: usize,
    window: Duration,
    failures: Mutex<HashMap<Key, VecDeque<Instant>>>,
}

impl LoginThrottle {
    pub(crate) fn new(per_user: usize, per_address: usize, window: Duration) -> Self {
        LoginThrottle {
            per_user,
            per_address,
            window,
            failures: Mutex::default(),
        }
    }

    fn keys(&self, username: &str, addr: Option<IpAddr>) -> Vec<(Key, usize, &'static str)> {
        let mut keys = Vec::with_capacity(2);
        if self.per_user > 0 {
            keys.push((Key::User(username.to_string()), self.per_user, "user"));
        }
        if let (Some(a), true) = (addr, self.per_address > 0) {
            keys.push((Key::Address(a), self.per_address, "address"));
        }
        keys
    }

    fn locked_at(
        &self,
        map: &HashMap<Key, VecDeque<Instant>>,
        keys: &[(Key, usize, &'static str)],
        now: Instant,
    ) -> Option<Locked> {
        keys.iter()
            .filter_map(|(k, limit, scope)| {
                let times = map.get(k)?;
                let oldest = *times.front()?;
                let age = now.saturating_duration_since(oldest);
                (times.len() >= *limit && age < self.window).then(|| Locked {
                    scope,
                    retry_after: self.window - age,
                })
            })
            .max_by_key(|l| l.retry_after)
    }

    /// Whether a login for `username` from `addr` is refused now.
    pub(crate) fn check(&self, username: &str, addr: Option<IpAddr>) -> Result<(), Locked> {
        let map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        match self.locked_at(&map, &self.keys(username, addr), Instant::now()) {
            Some(l) => Err(l),
            None => Ok(()),
        }
    }

    /// Counts a failure; returns the lock it starts, if this one reached a limit.
    pub(crate) fn failed(&self, username: &str, addr: Option<IpAddr>) -> Option<Locked> {
        let now = Instant::now();
        let keys = self.keys(username, addr);
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let before = self.locked_at(&map, &keys, now);
        if map.len() >= MAX_KEYS {
            let window = self.window;
            map.retain(|_, t| t.back().is_some_and(|b| now.duration_since(*b) < window));
        }
        for (k, limit, _) in &keys {
            if !map.contains_key(k) && map.len() >= MAX_KEYS {
                continue;
            }
            let times = map.entry(k.clone()).or_default();
            times.push_back(now);
            while times.len() > *limit
                || times
                    .front()
                    .is_some_and(|t| now.duration_since(*t) >= self.window)
            {
                times.pop_front();
            }
        }
        let after = self.locked_at(&map, &keys, now);
        if before.is_none() {
            after
        } else {
            None
        }
    }

    /// A right password: the user's count starts again (the address's does not, or one
    /// account of the attacker's own would reset it).
    pub(crate) fn succeeded(&self, username: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(&Key::User(username.to_string()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nth_failure_locks_the_user_and_the_address_for_the_window() {
        let t = LoginThrottle::new(3, 5, Duration::from_millis(300));
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        assert_eq!(t.failed("ed", Some(a)), None);
        assert_eq!(t.failed("ed", Some(a)), None);
        assert!(t.check("ed", Some(b)).is_ok());
        let lock = t.failed("ed", Some(a)).expect("third failure locks");
        assert_eq!(lock.scope, "user");
        assert!(lock.retry_after <= Duration::from_millis(300));
        assert_eq!(lock.retry_after_secs(), 1);
        // Locked whatever the address; another user from the same address is not (yet).
        assert_eq!(t.check("ed", Some(b)).unwrap_err().scope, "user");
        assert!(t.check("vi", Some(a)).is_ok());
        t.failed("vi", Some(a));
        assert_eq!(t.failed("al", Some(a)).map(|l| l.scope), Some("address"));
        assert_eq!(t.check("zz", Some(a)).unwrap_err().scope, "address");
        assert!(t.check("zz", Some(b)).is_ok());
        std::thread::sleep(Duration::from_millis(350));
        assert!(t.check("ed", Some(a)).is_ok(), "the window passed");
    }

    #[test]
    fn success_resets_the_user_not_the_address_and_zero_turns_a_side_off() {
        let t = LoginThrottle::new(2, 0, Duration::from_secs(60));
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        t.failed("ed", Some(a));
        t.succeeded("ed");
        assert_eq!(t.failed("ed", Some(a)), None);
        assert!(t.failed("ed", Some(a)).is_some());
        for i in 0..50 {
            t.failed(&format!("u{i}"), Some(a));
        }
        assert!(t.check("new", Some(a)).is_ok(), "no address limit");
    }
}
