//! Users, roles and passwords on both backends: create, update, delete, the last Admin,
//! password checks and changes, with their audit rows.

use ipocket_core::{Actor, AuditFilter, Error, Inventory, Page, Role};
use ipocket_db::{Backend, Database};

use crate::{fresh, Db};

/// `(action, target label, changed fields)` of the `USER` audit rows, oldest first.
pub(crate) fn user_audit(inv: &Inventory) -> Vec<(String, String, Vec<String>)> {
    let filter = AuditFilter {
        target_type: Some("USER".into()),
        ..Default::default()
    };
    let mut rows: Vec<_> = inv
        .audit_log(&filter, Page::all())
        .unwrap()
        .items
        .into_iter()
        .map(|e| {
            let fields = e.changes.iter().map(|c| c.field.to_string()).collect();
            (e.action, e.target_label, fields)
        })
        .collect();
    rows.reverse();
    rows
}

/// Runs one statement on `db` outside the inventory (data an old build or a person left).
pub(crate) fn execute(db: &Db, sql: &str) {
    let d = Database::open(&db.url, &[]).unwrap();
    d.write(0, |c| c.execute(sql, &[])).unwrap();
}

fn owned(rows: &[(&str, &str, &[&str])]) -> Vec<(String, String, Vec<String>)> {
    rows.iter()
        .map(|(a, l, f)| {
            (
                a.to_string(),
                l.to_string(),
                f.iter().map(|s| s.to_string()).collect(),
            )
        })
        .collect()
}

fn users_are_created_updated_and_deleted_with_audit_rows(b: Backend) {
    let (db, mut inv) = fresh(b);
    let sys = Actor::system();
    assert!(inv.bootstrap_admin("root", "pw").unwrap());
    assert!(!inv.bootstrap_admin("root2", "pw").unwrap(), "only once");
    let root = inv
        .authenticate("root", "pw")
        .unwrap()
        .expect("root logs in");
    assert_eq!((root.role, root.is_active), (Role::Admin, true));
    let admin = Actor::user(&root);

    let ed = inv.create_user(&admin, " ed ", "pw", Role::Editor).unwrap();
    assert_eq!((ed.username.as_str(), ed.role), ("ed", Role::Editor));
    let names: Vec<String> = inv
        .users()
        .unwrap()
        .into_iter()
        .map(|u| u.username)
        .collect();
    assert_eq!(names, ["ed", "root"], "by name");

    let ed2 = inv
        .update_user(&admin, ed.id, Some(Role::Viewer), Some(false), None)
        .unwrap();
    assert_eq!((ed2.role, ed2.is_active), (Role::Viewer, false));
    assert!(inv.authenticate("ed", "pw").unwrap().is_none(), "inactive");
    let same = inv
        .update_user(&admin, ed.id, Some(Role::Viewer), None, None)
        .unwrap();
    assert_eq!(same, ed2, "no change, no audit row");
    inv.update_user(&sys, ed.id, None, Some(true), Some("pw2"))
        .unwrap();
    assert!(inv.authenticate("ed", "pw").unwrap().is_none());
    assert_eq!(inv.authenticate("ed", "pw2").unwrap().unwrap().id, ed.id);

    inv.delete_user(&admin, ed.id).unwrap();
    assert_eq!(inv.users().unwrap(), std::slice::from_ref(&root));
    assert_eq!(db.count("SELECT COUNT(*) FROM users"), 1);
    assert_eq!(
        user_audit(&inv),
        owned(&[
            ("CREATE", "root", &["role", "is_active"]),
            ("CREATE", "ed", &["role", "is_active"]),
            ("UPDATE", "ed", &["role", "is_active"]),
            ("UPDATE", "ed", &["is_active", "password"]),
            ("DELETE", "ed", &["role"]),
        ])
    );
    let by: Vec<Option<String>> = inv
        .audit_log(&AuditFilter::default(), Page::all())
        .unwrap()
        .items
        .into_iter()
        .map(|e| e.username)
        .collect();
    assert_eq!(
        by,
        [Some("root"), None, Some("root"), Some("root"), None].map(|u| u.map(String::from))
    );
}

fn refused_user_changes_write_nothing(b: Backend) {
    let (db, mut inv) = fresh(b);
    let sys = Actor::system();
    let root = inv.create_user(&sys, "root", "pw", Role::Admin).unwrap();
    let ed = inv.create_user(&sys, "ed", "pw", Role::Editor).unwrap();
    let audit_rows = db.count("SELECT COUNT(*) FROM audit_logs");

    let e = inv.create_user(&sys, "ed", "x", Role::Viewer).unwrap_err();
    assert!(
        matches!(&e, Error::Conflict(m) if m == "username \"ed\" already exists"),
        "{e}"
    );
    for e in [
        inv.create_user(&sys, "  ", "x", Role::Viewer).unwrap_err(),
        inv.create_user(&sys, "x", "", Role::Viewer).unwrap_err(),
    ] {
        assert!(matches!(e, Error::Invalid { .. }), "{e}");
    }
    let editor = Actor::user(&ed);
    for e in [
        inv.create_user(&editor, "v", "pw", Role::Viewer)
            .unwrap_err(),
        inv.update_user(&editor, root.id, Some(Role::Viewer), None, None)
            .unwrap_err(),
        inv.delete_user(&editor, root.id).unwrap_err(),
    ] {
        assert!(matches!(e, Error::Forbidden(_)), "{e}");
    }
    // The last active Admin stays, and a user cannot delete itself.
    for e in [
        inv.update_user(&sys, root.id, Some(Role::Editor), None, None)
            .unwrap_err(),
        inv.update_user(&sys, root.id, None, Some(false), Some("new"))
            .unwrap_err(),
        inv.delete_user(&sys, root.id).unwrap_err(),
        inv.delete_user(&Actor::user(&root), root.id).unwrap_err(),
    ] {
        assert!(matches!(e, Error::Conflict(_)), "{e}");
    }
    for e in [
        inv.update_user(&sys, 9999, Some(Role::Viewer), None, None)
            .unwrap_err(),
        inv.delete_user(&sys, 9999).unwrap_err(),
    ] {
        assert!(matches!(e, Error::NotFound { .. }), "{e}");
    }
    assert_eq!(db.count("SELECT COUNT(*) FROM audit_logs"), audit_rows);
    assert!(
        inv.authenticate("root", "pw").unwrap().is_some(),
        "password kept"
    );
    assert_eq!(inv.users().unwrap().len(), 2);

    // With a second Admin, the first may step down.
    inv.create_user(&sys, "root2", "pw", Role::Admin).unwrap();
    let r = inv
        .update_user(&sys, root.id, Some(Role::Editor), None, None)
        .unwrap();
    assert_eq!(r.role, Role::Editor);
}

fn passwords_are_checked_and_changed_by_their_owner(b: Backend) {
    let (db, mut inv) = fresh(b);
    let v = inv
        .create_user(&Actor::system(), "v", "old", Role::Viewer)
        .unwrap();
    assert!(inv.authenticate("v", "bad").unwrap().is_none());
    assert!(inv.authenticate("nobody", "old").unwrap().is_none());
    let stored: String = db.rows("SELECT hashed_password FROM users")[0]
        .get(0)
        .unwrap();
    assert!(stored.starts_with("$argon2id$"), "{stored}");

    for (current, new, field) in [
        ("bad", "new", "current_password"),
        ("old", "old", "new_password"),
        ("old", "", "new_password"),
    ] {
        match inv.change_own_password(v.id, current, new).unwrap_err() {
            Error::Invalid { field: f, .. } => assert_eq!(f, field),
            e => panic!("{e}"),
        }
    }
    assert!(matches!(
        inv.change_own_password(9999, "old", "new"),
        Err(Error::NotFound { .. })
    ));
    inv.change_own_password(v.id, "old", "new").unwrap();
    assert!(inv.authenticate("v", "old").unwrap().is_none());
    assert!(inv.authenticate("v", "new").unwrap().is_some());

    // A change checked before another one landed is refused, not applied.
    let mut mem = Default::default();
    let first = inv
        .check_own_password_change(v.id, "new", "first", &mut mem)
        .unwrap();
    inv.change_own_password(v.id, "new", "second").unwrap();
    assert!(matches!(
        inv.apply_own_password_change(first),
        Err(Error::Conflict(_))
    ));
    assert!(inv.authenticate("v", "second").unwrap().is_some());
    assert_eq!(
        user_audit(&inv),
        owned(&[
            ("CREATE", "v", &["role", "is_active"]),
            ("UPDATE", "v", &["password"]),
            ("UPDATE", "v", &["password"]),
        ])
    );
}

fn an_original_bcrypt_hash_is_upgraded_at_login(b: Backend) {
    let (db, mut inv) = fresh(b);
    let legacy = bcrypt::hash("old-pw", 4).unwrap();
    execute(
        &db,
        &format!(
            "INSERT INTO users (username, hashed_password, role, is_active) VALUES ('ed', '{legacy}', 'Editor', 1)"
        ),
    );
    assert!(inv.login("ed", "bad").unwrap().is_none());
    let (u, _) = inv.login("ed", "old-pw").unwrap().unwrap();
    assert_eq!(u.username, "ed");
    let stored: String = db.rows("SELECT hashed_password FROM users")[0]
        .get(0)
        .unwrap();
    assert!(stored.starts_with("$argon2id$"), "{stored}");
    assert!(inv.login("ed", "old-pw").unwrap().is_some());
    assert_eq!(
        user_audit(&inv),
        owned(&[
            ("UPDATE", "ed", &["password"]),
            ("LOGIN", "ed", &[]),
            ("LOGIN", "ed", &[]),
        ])
    );
}

fn replicas_starting_together_create_the_first_admin_once(b: Backend) {
    let (db, _inv) = fresh(b);
    let start = std::sync::Barrier::new(2);
    let created: Vec<bool> = std::thread::scope(|s| {
        let runs: Vec<_> = ["root", "admin"]
            .map(|name| {
                let (db, start) = (&db, &start);
                s.spawn(move || {
                    let mut inv = db.inventory();
                    start.wait();
                    inv.bootstrap_admin(name, "pw").unwrap()
                })
            })
            .into_iter()
            .collect();
        runs.into_iter().map(|r| r.join().unwrap()).collect()
    });
    assert_eq!(created.iter().filter(|c| **c).count(), 1, "{created:?}");
    assert_eq!(db.count("SELECT COUNT(*) FROM users"), 1);
    assert_eq!(db.count("SELECT COUNT(*) FROM audit_logs"), 1);
}

ipocket_testkit::on_both_backends!(
    users_are_created_updated_and_deleted_with_audit_rows,
    replicas_starting_together_create_the_first_admin_once,
    refused_user_changes_write_nothing,
    passwords_are_checked_and_changed_by_their_owner,
    an_original_bcrypt_hash_is_upgraded_at_login,
);
