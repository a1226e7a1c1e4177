//! Login throttling on both backends: the n-th failure locks the user name and the
//! address for the window, success resets the user's count only, a limit of 0 turns a side
//! off, two handles (replicas) count together, and old rows are pruned.

use std::net::IpAddr;
use std::time::Duration;

use ipocket_core::LoginThrottle;
use ipocket_db::Backend;

use crate::fresh;

fn throttle(per_user: usize, per_address: usize, window_ms: u64) -> LoginThrottle {
    LoginThrottle {
        per_user,
        per_address,
        window: Duration::from_millis(window_ms),
    }
}

fn addr(s: &str) -> Option<IpAddr> {
    Some(s.parse().unwrap())
}

fn the_nth_failure_locks_the_user_and_the_address_for_the_window(b: Backend) {
    let (_db, inv) = fresh(b);
    let t = throttle(3, 5, 1500);
    let (a, other) = (addr("192.0.2.1"), addr("192.0.2.2"));
    assert_eq!(inv.record_login_failure(&t, "ed", a).unwrap(), None);
    assert_eq!(inv.record_login_failure(&t, "ed", a).unwrap(), None);
    assert_eq!(inv.login_lockout(&t, "ed", other).unwrap(), None);
    let lock = inv
        .record_login_failure(&t, "ed", a)
        .unwrap()
        .expect("the third failure locks");
    assert_eq!(lock.scope, "user");
    assert!(lock.retry_after <= Duration::from_millis(1500));
    assert_eq!(lock.retry_after_secs(), 2);
    // Locked whatever the address; another user from the same address is not (yet).
    assert_eq!(
        inv.login_lockout(&t, "ed", other).unwrap().unwrap().scope,
        "user"
    );
    assert_eq!(inv.login_lockout(&t, "vi", a).unwrap(), None);
    inv.record_login_failure(&t, "vi", a).unwrap();
    let address_lock = inv.record_login_failure(&t, "al", a).unwrap();
    assert_eq!(address_lock.map(|l| l.scope), Some("address"));
    assert_eq!(
        inv.login_lockout(&t, "zz", a).unwrap().unwrap().scope,
        "address"
    );
    assert_eq!(inv.login_lockout(&t, "zz", other).unwrap(), None);
    std::thread::sleep(Duration::from_millis(1600));
    assert_eq!(
        inv.login_lockout(&t, "ed", a).unwrap(),
        None,
        "the window passed"
    );
}

fn success_resets_the_user_not_the_address_and_zero_turns_a_side_off(b: Backend) {
    let (db, inv) = fresh(b);
    let t = throttle(2, 0, 60_000);
    let a = addr("192.0.2.1");
    inv.record_login_failure(&t, "ed", a).unwrap();
    inv.clear_login_failures("ed").unwrap();
    assert_eq!(inv.record_login_failure(&t, "ed", a).unwrap(), None);
    assert!(inv.record_login_failure(&t, "ed", a).unwrap().is_some());
    for i in 0..50 {
        inv.record_login_failure(&t, &format!("u{i}"), a).unwrap();
    }
    assert_eq!(
        inv.login_lockout(&t, "new", a).unwrap(),
        None,
        "no address limit"
    );
    assert_eq!(
        db.count("SELECT count(*) FROM login_failures WHERE scope = 'address'"),
        0,
        "a side without a limit is not counted"
    );
    let off = throttle(0, 0, 60_000);
    assert_eq!(inv.record_login_failure(&off, "x", a).unwrap(), None);
    assert_eq!(inv.login_lockout(&off, "ed", a).unwrap(), None);
}

/// Two handles on one database (two replicas) count the same failures.
fn replicas_count_together(b: Backend) {
    let (db, one) = fresh(b);
    let two = db.inventory();
    let t = throttle(2, 0, 60_000);
    one.record_login_failure(&t, "ed", None).unwrap();
    let lock = two.record_login_failure(&t, "ed", None).unwrap();
    assert_eq!(lock.map(|l| l.scope), Some("user"));
    assert!(one.login_lockout(&t, "ed", None).unwrap().is_some());
    two.clear_login_failures("ed").unwrap();
    assert_eq!(one.login_lockout(&t, "ed", None).unwrap(), None);
}

/// Rows older than the window go with the next failure: the table holds one window.
fn old_failures_are_pruned(b: Backend) {
    let (db, inv) = fresh(b);
    let t = throttle(5, 5, 200);
    for i in 0..4 {
        inv.record_login_failure(&t, &format!("u{i}"), addr("192.0.2.9"))
            .unwrap();
    }
    assert_eq!(db.count("SELECT count(*) FROM login_failures"), 8);
    std::thread::sleep(Duration::from_millis(250));
    inv.record_login_failure(&t, "late", None).unwrap();
    assert_eq!(db.count("SELECT count(*) FROM login_failures"), 1);
}

ipocket_testkit::on_both_backends!(
    the_nth_failure_locks_the_user_and_the_address_for_the_window,
    success_resets_the_user_not_the_address_and_zero_turns_a_side_off,
    replicas_count_together,
    old_failures_are_pruned,
);
