//! API tokens on both backends: create, use per scope, last use, expiry, revoke, refused
//! duplicates and input, audit rows.

use ipocket_core::{
    Actor, AuditFilter, Error, Inventory, Page, Role, TokenScope, TokenUse, MAX_TOKEN_DAYS,
};
use ipocket_db::Backend;

use crate::fresh;

fn at(inv: &mut Inventory, t: &str) {
    inv.set_fixed_time(Some(t.to_string()));
}

/// `(action, label, changes as field=before>after)` of the `API_TOKEN` audit rows, oldest
/// first.
fn token_audit(inv: &Inventory) -> Vec<(String, String, Vec<String>)> {
    let filter = AuditFilter {
        target_type: Some("API_TOKEN".into()),
        ..Default::default()
    };
    let mut rows: Vec<_> = inv
        .audit_log(&filter, Page::all())
        .unwrap()
        .items
        .into_iter()
        .map(|e| {
            let ch = e
                .changes
                .iter()
                .map(|c| {
                    let v = |x: &Option<String>| x.clone().unwrap_or_default();
                    format!("{}={}>{}", c.field, v(&c.before), v(&c.after))
                })
                .collect();
            (e.action, e.target_label, ch)
        })
        .collect();
    rows.reverse();
    rows
}

fn a_token_is_created_used_for_its_scopes_and_revoked(b: Backend) {
    let (db, mut inv) = fresh(b);
    let sys = Actor::system();
    let root = inv.create_user(&sys, "root", "pw", Role::Admin).unwrap();
    at(&mut inv, "2030-01-01 10:00:00");
    let (info, token) = inv
        .create_api_token(
            &Actor::user(&root),
            " prom ",
            &[TokenScope::Sd, TokenScope::Metrics, TokenScope::Sd],
            Some(30),
        )
        .unwrap();
    assert!(token.starts_with("ipt_") && token.len() == 68, "{token}");
    assert_eq!(info.name, "prom");
    assert_eq!(info.scopes, [TokenScope::Metrics, TokenScope::Sd]);
    assert_eq!(info.created_by.as_deref(), Some("root"));
    assert_eq!(info.created_at, "2030-01-01 10:00:00");
    assert_eq!(info.expires_at.as_deref(), Some("2030-01-31 10:00:00"));
    assert_eq!((info.last_used_at.as_deref(), info.expired), (None, false));
    let stored = db.rows("SELECT token_hash, scopes FROM api_tokens");
    let hash: String = stored[0].get(0).unwrap();
    assert!(!hash.contains(&token[4..]), "only a hash is stored");
    assert_eq!(stored[0].get::<String>(1).unwrap(), "metrics,sd");

    let (m, _) = inv
        .create_api_token(&sys, "metrics-only", &[TokenScope::Metrics], None)
        .unwrap();
    assert_eq!((m.created_by, m.expires_at), (None, None));
    let names: Vec<String> = inv
        .api_tokens()
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(names, ["metrics-only", "prom"]);

    assert!(
        matches!(inv.use_api_token(&token, TokenScope::Metrics).unwrap(), TokenUse::Allowed(t) if t.id == info.id)
    );
    assert!(matches!(
        inv.use_api_token(&token, TokenScope::Sd).unwrap(),
        TokenUse::Allowed(_)
    ));
    assert_eq!(inv.api_token(&token).unwrap().unwrap().id, info.id);
    for guess in ["ipt_00", "not-a-token", &token[4..]] {
        assert_eq!(
            inv.use_api_token(guess, TokenScope::Metrics).unwrap(),
            TokenUse::Unknown
        );
        assert_eq!(inv.api_token(guess).unwrap(), None);
    }
    assert_eq!(inv.session_user(&token).unwrap(), None, "not a login");

    // A token is independent of the Admin who made it.
    inv.create_user(&sys, "root2", "pw", Role::Admin).unwrap();
    inv.delete_user(&sys, root.id).unwrap();
    assert_eq!(
        inv.api_token(&token)
            .unwrap()
            .unwrap()
            .created_by
            .as_deref(),
        Some("root")
    );

    let revoked = inv.revoke_api_token(&sys, info.id).unwrap();
    assert_eq!(revoked.name, "prom");
    assert_eq!(
        inv.use_api_token(&token, TokenScope::Metrics).unwrap(),
        TokenUse::Unknown
    );
    assert!(matches!(
        inv.revoke_api_token(&sys, info.id),
        Err(Error::NotFound { .. })
    ));
    assert_eq!(inv.api_tokens().unwrap().len(), 1);
    assert_eq!(
        token_audit(&inv),
        [
            (
                "CREATE",
                "prom",
                vec!["scopes=>metrics,sd", "expires_at=>2030-01-31 10:00:00"]
            ),
            ("CREATE", "metrics-only", vec!["scopes=>metrics"]),
            ("REVOKE", "prom", vec!["scopes=metrics,sd>"]),
        ]
        .map(|(a, l, ch)| (
            a.to_string(),
            l.to_string(),
            ch.into_iter().map(String::from).collect::<Vec<_>>()
        ))
    );
}

fn refused_tokens_write_nothing(b: Backend) {
    let (db, mut inv) = fresh(b);
    let sys = Actor::system();
    let ed = inv.create_user(&sys, "ed", "pw", Role::Editor).unwrap();
    let m = [TokenScope::Metrics];
    let (t, _) = inv.create_api_token(&sys, "prom", &m, None).unwrap();
    let audit_rows = db.count("SELECT COUNT(*) FROM audit_logs");

    let e = inv
        .create_api_token(&sys, "prom", &[TokenScope::Sd], Some(1))
        .unwrap_err();
    assert!(
        matches!(&e, Error::Conflict(msg) if msg == "an API token named \"prom\" already exists"),
        "{e}"
    );
    for (e, field) in [
        (
            inv.create_api_token(&sys, "x", &[], None).unwrap_err(),
            "scopes",
        ),
        (
            inv.create_api_token(&sys, " ", &m, None).unwrap_err(),
            "name",
        ),
        (
            inv.create_api_token(&sys, "x", &m, Some(0)).unwrap_err(),
            "expires_in_days",
        ),
        (
            inv.create_api_token(&sys, "x", &m, Some(MAX_TOKEN_DAYS + 1))
                .unwrap_err(),
            "expires_in_days",
        ),
    ] {
        assert!(
            matches!(&e, Error::Invalid { field: f, .. } if f == field),
            "{e}"
        );
    }
    for e in [
        inv.create_api_token(&Actor::user(&ed), "y", &m, None)
            .unwrap_err(),
        inv.revoke_api_token(&Actor::user(&ed), t.id).unwrap_err(),
    ] {
        assert!(matches!(e, Error::Forbidden(_)), "{e}");
    }
    assert_eq!(db.count("SELECT COUNT(*) FROM audit_logs"), audit_rows);
    assert_eq!(db.count("SELECT COUNT(*) FROM api_tokens"), 1);

    // The longest expiry is allowed.
    at(&mut inv, "2030-01-01 00:00:00");
    let (long, _) = inv
        .create_api_token(&sys, "long", &m, Some(MAX_TOKEN_DAYS))
        .unwrap();
    assert_eq!(long.expires_at.as_deref(), Some("2129-12-08 00:00:00"));
}

fn the_last_use_is_recorded_at_most_once_a_minute_and_expiry_refuses(b: Backend) {
    let (db, mut inv) = fresh(b);
    at(&mut inv, "2030-01-01 10:00:00");
    let (_, token) = inv
        .create_api_token(&Actor::system(), "m", &[TokenScope::Metrics], Some(1))
        .unwrap();
    let used = |inv: &Inventory| inv.api_tokens().unwrap()[0].last_used_at.clone();
    at(&mut inv, "2030-01-01 10:00:30");
    assert!(matches!(
        inv.use_api_token(&token, TokenScope::Metrics).unwrap(),
        TokenUse::Allowed(_)
    ));
    assert_eq!(used(&inv).as_deref(), Some("2030-01-01 10:00:30"));
    at(&mut inv, "2030-01-01 10:01:29");
    inv.use_api_token(&token, TokenScope::Metrics).unwrap();
    assert_eq!(used(&inv).as_deref(), Some("2030-01-01 10:00:30"));
    at(&mut inv, "2030-01-01 10:01:30");
    inv.use_api_token(&token, TokenScope::Metrics).unwrap();
    assert_eq!(used(&inv).as_deref(), Some("2030-01-01 10:01:30"));
    // The wrong scope is refused and is not a use; neither is a check without a scope.
    at(&mut inv, "2030-01-01 11:00:00");
    assert!(
        matches!(inv.use_api_token(&token, TokenScope::Sd).unwrap(), TokenUse::OtherScope(t) if t.name == "m")
    );
    assert!(inv.api_token(&token).unwrap().is_some());
    assert_eq!(used(&inv).as_deref(), Some("2030-01-01 10:01:30"));

    // A day after its creation it has expired: refused, still listed until revoked.
    at(&mut inv, "2030-01-02 09:59:59");
    assert!(matches!(
        inv.use_api_token(&token, TokenScope::Metrics).unwrap(),
        TokenUse::Allowed(_)
    ));
    at(&mut inv, "2030-01-02 10:00:00");
    assert_eq!(
        inv.use_api_token(&token, TokenScope::Metrics).unwrap(),
        TokenUse::Unknown
    );
    assert_eq!(inv.api_token(&token).unwrap(), None);
    let listed = inv.api_tokens().unwrap();
    assert!(listed[0].expired);
    assert_eq!(
        listed[0].last_used_at.as_deref(),
        Some("2030-01-02 09:59:59")
    );
    assert_eq!(db.count("SELECT COUNT(*) FROM api_tokens"), 1);
}

fn a_token_made_on_one_handle_works_on_another(b: Backend) {
    let (db, mut one) = fresh(b);
    let two = db.inventory();
    let (info, token) = one
        .create_api_token(&Actor::system(), "sd", &[TokenScope::Sd], None)
        .unwrap();
    assert!(
        matches!(two.use_api_token(&token, TokenScope::Sd).unwrap(), TokenUse::Allowed(t) if t.id == info.id)
    );
    assert!(
        one.api_tokens().unwrap()[0].last_used_at.is_some(),
        "its use is seen by the first"
    );
    one.revoke_api_token(&Actor::system(), info.id).unwrap();
    assert_eq!(
        two.use_api_token(&token, TokenScope::Sd).unwrap(),
        TokenUse::Unknown
    );
}

ipocket_testkit::on_both_backends!(
    a_token_is_created_used_for_its_scopes_and_revoked,
    refused_tokens_write_nothing,
    the_last_use_is_recorded_at_most_once_a_minute_and_expiry_refuses,
    a_token_made_on_one_handle_works_on_another,
);
