//! Security events on both backends: audit rows on the user they concern, written in one
//! transaction, that do not count as inventory changes.

use ipocket_core::{Actor, AssetType, AuditFilter, NewIpAsset, Page, Role, SecurityEvent};
use ipocket_db::Backend;

use crate::fresh;

fn events_become_user_audit_rows(b: Backend) {
    let (db, mut inv) = fresh(b);
    let vi = inv
        .create_user(&Actor::system(), "vi", "pw", Role::Viewer)
        .unwrap();
    inv.set_fixed_time(Some("2030-01-01 10:00:00".into()));
    inv.record_security_events(&[]).unwrap();
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
        .unwrap();
    assert_eq!(rows.total, 4, "the empty batch wrote nothing");
    let got: Vec<_> = rows
        .items
        .iter()
        .take(3)
        .map(|r| {
            (
                r.target_type.as_str(),
                r.action.as_str(),
                r.target_id,
                r.target_label.as_str(),
                r.username.as_deref(),
                r.message.as_deref().unwrap_or(""),
                r.created_at.as_str(),
            )
        })
        .collect();
    let t = "2030-01-01 10:00:00";
    assert_eq!(
        got,
        [
            (
                "USER",
                "FORBIDDEN",
                vi.id,
                "vi",
                Some("vi"),
                "POST /api/v1/users: role Viewer cannot manage users",
                t
            ),
            (
                "USER",
                "LOGIN_LOCKED",
                0,
                "nobody",
                None,
                "logins refused for 60 s (too many failures for this user)",
                t
            ),
            (
                "USER",
                "LOGIN_FAILED",
                vi.id,
                "vi",
                None,
                "failed login from 127.0.0.1",
                t
            ),
        ]
    );
    assert!(rows.items[..3].iter().all(|r| r.changes.is_empty()));
    assert_eq!(
        db.count("SELECT COUNT(*) FROM audit_logs WHERE user_id IS NOT NULL"),
        1,
        "only the refused request has an actor"
    );
}

fn events_do_not_count_as_changes_of_the_inventory(b: Backend) {
    let (db, mut inv) = fresh(b);
    let sys = Actor::system();
    inv.create_ip_asset(&sys, &NewIpAsset::new("10.0.0.1", AssetType::Vm))
        .unwrap();
    // The change counter an import plan is checked against: the newest audit row about
    // inventory data (see `Inventory::audit_mark`).
    let counter = |db: &crate::Db| {
        db.count(
            "SELECT COALESCE(MAX(id), 0) FROM audit_logs WHERE target_type NOT IN ('USER', 'API_TOKEN')",
        )
    };
    let before = counter(&db);
    assert!(before > 0);
    let ed = inv.create_user(&sys, "ed", "pw", Role::Editor).unwrap();
    inv.login("ed", "pw").unwrap().unwrap();
    inv.record_security_events(&[
        SecurityEvent::LoginFailed {
            username: "ed".into(),
            address: None,
        },
        SecurityEvent::Forbidden {
            user: ed,
            what: "x".into(),
        },
    ])
    .unwrap();
    assert_eq!(counter(&db), before);
    assert_eq!(db.count("SELECT COUNT(*) FROM audit_logs"), 5);
}

/// An import planned before security events (and logins) still applies: they do not make
/// the plan stale. SQLite only until import plans run on PostgreSQL (issue #23); then it
/// joins the list below.
#[test]
fn an_import_plan_stays_fresh_across_security_events_on_sqlite() {
    let (_db, mut inv) = fresh(Backend::Sqlite);
    let sys = Actor::system();
    let ed = inv.create_user(&sys, "ed", "pw", Role::Editor).unwrap();
    let bundle =
        ipocket_core::parse_bundle_json(&ipocket_core::import::synthetic_bundle_json(3, "x"))
            .unwrap();
    let plan = inv.plan(bundle, &Default::default()).unwrap();
    inv.login("ed", "pw").unwrap().unwrap();
    inv.record_security_events(&[SecurityEvent::Forbidden {
        user: ed.clone(),
        what: "x".into(),
    }])
    .unwrap();
    inv.apply(&Actor::user(&ed), &plan).unwrap();
    // Whereas an inventory change does.
    let bundle =
        ipocket_core::parse_bundle_json(&ipocket_core::import::synthetic_bundle_json(3, "y"))
            .unwrap();
    let plan = inv.plan(bundle, &Default::default()).unwrap();
    inv.create_ip_asset(&sys, &NewIpAsset::new("192.0.2.1", AssetType::Vm))
        .unwrap();
    assert!(matches!(
        inv.apply(&Actor::user(&ed), &plan),
        Err(ipocket_core::Error::StalePlan)
    ));
}

ipocket_testkit::on_both_backends!(
    events_become_user_audit_rows,
    events_do_not_count_as_changes_of_the_inventory,
);
