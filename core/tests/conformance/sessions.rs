//! Login sessions on both backends: login, use, logout, expiry, revocation, last use, and
//! a session shared by two handles (replicas) on one database.

use ipocket_core::{Actor, Error, Inventory, Role, SessionPolicy};
use ipocket_db::{Backend, Database};

use crate::users::{execute, user_audit};
use crate::{fresh, Db};

/// The inventory's write lock key (`INVENTORY_LOCK` in core/src/store.rs).
const INVENTORY_LOCK: i64 = 0x6970_6f63_6b65_7469;

fn at(inv: &mut Inventory, t: &str) {
    inv.set_fixed_time(Some(t.to_string()));
}

fn sessions(db: &Db) -> i64 {
    db.count("SELECT COUNT(*) FROM sessions")
}

fn actions(inv: &Inventory) -> Vec<String> {
    user_audit(inv).into_iter().map(|(a, _, _)| a).collect()
}

fn a_login_opens_a_session_until_logout(b: Backend) {
    let (db, mut inv) = fresh(b);
    let ed = inv
        .create_user(&Actor::system(), "ed", "pw", Role::Editor)
        .unwrap();
    assert!(inv.login("ed", "bad").unwrap().is_none());
    assert!(inv.login("nobody", "pw").unwrap().is_none());
    assert_eq!(sessions(&db), 0);

    let (u, token) = inv.login("ed", "pw").unwrap().unwrap();
    assert_eq!(u, ed);
    assert_eq!(token.len(), 64);
    assert_eq!(inv.session_user(&token).unwrap(), Some(ed.clone()));
    assert_eq!(inv.session_user("not-a-token").unwrap(), None);
    let stored: String = db.rows("SELECT token_hash FROM sessions")[0]
        .get(0)
        .unwrap();
    assert_ne!(stored, token, "only a hash is stored");

    assert!(inv.logout(&token).unwrap());
    assert_eq!(inv.session_user(&token).unwrap(), None);
    assert!(!inv.logout(&token).unwrap(), "already ended");
    assert_eq!(sessions(&db), 0);
    assert_eq!(actions(&inv), ["CREATE", "LOGIN", "LOGOUT"]);
}

fn a_verified_login_opens_no_session_after_the_user_changed(b: Backend) {
    let (db, mut inv) = fresh(b);
    let sys = Actor::system();
    let ed = inv.create_user(&sys, "ed", "pw", Role::Editor).unwrap();
    let verified = inv.verify_login("ed", "pw").unwrap().unwrap();
    inv.update_user(&sys, ed.id, None, None, Some("pw2"))
        .unwrap();
    assert!(inv.open_session(verified).unwrap().is_none());
    let verified = inv.verify_login("ed", "pw2").unwrap().unwrap();
    inv.update_user(&sys, ed.id, None, Some(false), None)
        .unwrap();
    assert!(inv.open_session(verified).unwrap().is_none());
    assert_eq!(sessions(&db), 0);
    assert_eq!(actions(&inv), ["CREATE", "UPDATE", "UPDATE"]);
}

fn sessions_end_when_idle_or_old_and_logins_prune_them(b: Backend) {
    let (db, mut inv) = fresh(b);
    inv.set_session_policy(SessionPolicy {
        max_age_secs: 3 * 3600,
        idle_secs: 3600,
    });
    inv.create_user(&Actor::system(), "ed", "pw", Role::Editor)
        .unwrap();
    at(&mut inv, "2030-01-01 10:00:00");
    let (_, idle) = inv.login("ed", "pw").unwrap().unwrap();
    let (_, busy) = inv.login("ed", "pw").unwrap().unwrap();
    for t in ["10:50:00", "11:40:00", "12:30:00"] {
        at(&mut inv, &format!("2030-01-01 {t}"));
        assert!(inv.session_user(&busy).unwrap().is_some(), "{t}");
    }
    assert_eq!(
        inv.session_user(&idle).unwrap(),
        None,
        "idle for over an hour"
    );
    assert_eq!(sessions(&db), 1, "the expired session was deleted");
    at(&mut inv, "2030-01-01 12:59:59");
    assert!(inv.session_user(&busy).unwrap().is_some());
    at(&mut inv, "2030-01-01 13:00:00");
    assert_eq!(inv.session_user(&busy).unwrap(), None, "three hours old");
    assert!(!inv.logout(&busy).unwrap());
    assert_eq!(sessions(&db), 0);

    // A login deletes every expired session, whoever's it was.
    at(&mut inv, "2030-01-01 14:00:00");
    let (_, a) = inv.login("ed", "pw").unwrap().unwrap();
    at(&mut inv, "2030-01-01 16:00:00");
    inv.login("ed", "pw").unwrap().unwrap();
    assert_eq!(sessions(&db), 1);
    assert_eq!(inv.session_user(&a).unwrap(), None);
    let logouts = actions(&inv).iter().filter(|a| *a == "LOGOUT").count();
    assert_eq!(logouts, 0, "an expired session logs out unaudited");
}

fn the_last_use_is_written_at_most_once_a_minute(b: Backend) {
    let (db, mut inv) = fresh(b);
    let ed = inv
        .create_user(&Actor::system(), "ed", "pw", Role::Editor)
        .unwrap();
    at(&mut inv, "2030-01-01 10:00:00");
    let (_, t) = inv.login("ed", "pw").unwrap().unwrap();
    let seen = |inv: &Inventory| {
        inv.own_sessions(ed.id, None).unwrap()[0]
            .last_seen_at
            .clone()
    };
    at(&mut inv, "2030-01-01 10:00:59");
    inv.session_user(&t).unwrap().unwrap();
    assert_eq!(seen(&inv), "2030-01-01 10:00:00");
    at(&mut inv, "2030-01-01 10:01:00");
    inv.session_user(&t).unwrap().unwrap();
    assert_eq!(seen(&inv), "2030-01-01 10:01:00");
    let stored: String = db.rows("SELECT last_seen_at FROM sessions")[0]
        .get(0)
        .unwrap();
    assert_eq!(stored, "2030-01-01 10:01:00");
}

fn a_token_check_skips_the_touch_while_another_write_runs(b: Backend) {
    let (db, mut writer) = fresh(b);
    writer
        .create_user(&Actor::system(), "ed", "pw", Role::Editor)
        .unwrap();
    at(&mut writer, "2030-01-01 10:00:00");
    let (_, t) = writer.login("ed", "pw").unwrap().unwrap();
    let mut reader = db.inventory();
    at(&mut reader, "2030-01-01 10:05:00");

    // Another connection holds the inventory's write lock (as a long import apply does).
    let other = Database::open(&db.url, &[]).unwrap();
    let held = other.lock_writes(INVENTORY_LOCK).unwrap();
    assert!(reader.session_user(&t).unwrap().is_some());
    drop(held);
    let seen = || -> String {
        db.rows("SELECT last_seen_at FROM sessions")[0]
            .get(0)
            .unwrap()
    };
    assert_eq!(
        seen(),
        "2030-01-01 10:00:00",
        "skipped while the writer ran"
    );
    reader.session_user(&t).unwrap().unwrap();
    assert_eq!(seen(), "2030-01-01 10:05:00", "touched once it was done");

    // An expired session is deleted the same way.
    reader.set_session_policy(SessionPolicy {
        max_age_secs: 60,
        idle_secs: 60,
    });
    let held = other.lock_writes(INVENTORY_LOCK).unwrap();
    assert_eq!(reader.session_user(&t).unwrap(), None);
    drop(held);
    assert_eq!(sessions(&db), 1);
    assert_eq!(reader.session_user(&t).unwrap(), None);
    assert_eq!(sessions(&db), 0);
}

fn a_session_opened_on_one_handle_works_on_another(b: Backend) {
    let (db, mut one) = fresh(b);
    let mut two = db.inventory();
    let ed = one
        .create_user(&Actor::system(), "ed", "pw", Role::Editor)
        .unwrap();
    let (_, token) = one.login("ed", "pw").unwrap().unwrap();
    assert_eq!(two.session_user(&token).unwrap(), Some(ed.clone()));
    let (_, other) = two.login("ed", "pw").unwrap().unwrap();
    assert_eq!(one.own_sessions(ed.id, Some(&other)).unwrap().len(), 2);
    assert!(two.logout(&token).unwrap());
    assert_eq!(one.session_user(&token).unwrap(), None);
    assert_eq!(one.session_user(&other).unwrap(), Some(ed));
}

fn own_sessions_are_listed_and_revoked(b: Backend) {
    let (db, mut inv) = fresh(b);
    let sys = Actor::system();
    let ed = inv.create_user(&sys, "ed", "pw", Role::Editor).unwrap();
    let vi = inv.create_user(&sys, "vi", "pw", Role::Viewer).unwrap();
    at(&mut inv, "2030-01-01 10:00:00");
    let (_, t1) = inv.login("ed", "pw").unwrap().unwrap();
    at(&mut inv, "2030-01-01 10:01:00");
    let (_, t2) = inv.login("ed", "pw").unwrap().unwrap();
    let (_, tv) = inv.login("vi", "pw").unwrap().unwrap();
    let list = inv.own_sessions(ed.id, Some(&t2)).unwrap();
    let shown: Vec<_> = list
        .iter()
        .map(|s| (s.created_at.as_str(), s.last_seen_at.as_str(), s.current))
        .collect();
    assert_eq!(
        shown,
        [
            ("2030-01-01 10:01:00", "2030-01-01 10:01:00", true),
            ("2030-01-01 10:00:00", "2030-01-01 10:00:00", false)
        ]
    );
    assert!(inv
        .own_sessions(ed.id, None)
        .unwrap()
        .iter()
        .all(|s| !s.current));

    let others = inv.own_sessions(vi.id, None).unwrap()[0].id;
    let e = inv.revoke_own_session(&ed, others).unwrap_err();
    assert!(matches!(e, Error::NotFound { .. }), "{e}");
    assert!(
        inv.session_user(&tv).unwrap().is_some(),
        "another user's stays"
    );
    inv.revoke_own_session(&ed, list[1].id).unwrap();
    assert_eq!(inv.session_user(&t1).unwrap(), None);
    assert!(inv.session_user(&t2).unwrap().is_some());

    // An Admin ends all of a user's sessions.
    let e = inv.revoke_sessions(&Actor::user(&ed), vi.id).unwrap_err();
    assert!(matches!(e, Error::Forbidden(_)), "{e}");
    assert!(matches!(
        inv.revoke_sessions(&sys, 9999),
        Err(Error::NotFound { .. })
    ));
    assert_eq!(inv.revoke_sessions(&sys, ed.id).unwrap(), 1);
    assert_eq!(inv.session_user(&t2).unwrap(), None);
    assert_eq!(sessions(&db), 1);

    let rows = user_audit(&inv);
    let tail: Vec<_> = rows[rows.len() - 2..]
        .iter()
        .map(|(a, l, f)| (a.as_str(), l.as_str(), f.join(",")))
        .collect();
    assert_eq!(
        tail,
        [
            ("LOGOUT", "ed", "session".into()),
            ("UPDATE", "ed", "sessions".into())
        ]
    );
}

fn user_changes_end_the_users_sessions(b: Backend) {
    let (db, mut inv) = fresh(b);
    let sys = Actor::system();
    let ed = inv.create_user(&sys, "ed", "pw", Role::Editor).unwrap();
    let (_, t1) = inv.login("ed", "pw").unwrap().unwrap();
    inv.update_user(&sys, ed.id, Some(Role::Editor), Some(true), None)
        .unwrap();
    assert!(inv.session_user(&t1).unwrap().is_some(), "no change");
    inv.update_user(&sys, ed.id, Some(Role::Viewer), None, None)
        .unwrap();
    assert_eq!(inv.session_user(&t1).unwrap(), None, "role change");
    let (_, t2) = inv.login("ed", "pw").unwrap().unwrap();
    inv.change_own_password(ed.id, "pw", "pw2").unwrap();
    assert_eq!(inv.session_user(&t2).unwrap(), None, "own password change");
    let (_, t3) = inv.login("ed", "pw2").unwrap().unwrap();
    inv.delete_user(&sys, ed.id).unwrap();
    assert_eq!(inv.session_user(&t3).unwrap(), None, "deleted user");
    assert_eq!(sessions(&db), 0);
}

fn a_session_of_a_user_deactivated_behind_the_library_is_refused(b: Backend) {
    let (db, mut inv) = fresh(b);
    inv.create_user(&Actor::system(), "ed", "pw", Role::Editor)
        .unwrap();
    let (_, t) = inv.login("ed", "pw").unwrap().unwrap();
    let (_, t2) = inv.login("ed", "pw").unwrap().unwrap();
    execute(&db, "UPDATE users SET is_active = 0");
    assert_eq!(inv.session_user(&t).unwrap(), None);
    assert_eq!(sessions(&db), 1, "deleted when seen");
    assert!(!inv.logout(&t2).unwrap());
    assert_eq!(sessions(&db), 0);
    assert!(
        !actions(&inv).contains(&"LOGOUT".to_string()),
        "no LOGOUT row for a refused logout"
    );
}

ipocket_testkit::on_both_backends!(
    a_login_opens_a_session_until_logout,
    a_verified_login_opens_no_session_after_the_user_changed,
    sessions_end_when_idle_or_old_and_logins_prune_them,
    the_last_use_is_written_at_most_once_a_minute,
    a_token_check_skips_the_touch_while_another_write_runs,
    a_session_opened_on_one_handle_works_on_another,
    own_sessions_are_listed_and_revoked,
    user_changes_end_the_users_sessions,
    a_session_of_a_user_deactivated_behind_the_library_is_refused,
);
