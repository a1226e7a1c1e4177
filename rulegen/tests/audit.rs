//! Every write of the rule store leaves a row in the inventory's audit log, with its actor,
//! in the same database file.

use ipocket_core::{AuditFilter, Inventory, Page};
use ipocket_rulegen::AuditActor;
use ipocket_rulegen::{GroupOptions, NewRule, NewTemplate, RuleStore};

#[test]
fn every_rule_store_write_is_audited_with_its_actor() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ipocket.db");
    let inv = Inventory::open(&db).unwrap();
    let store = RuleStore::open(&db).unwrap();
    let ed = AuditActor {
        user_id: None,
        username: Some("ed".into()),
    };
    store
        .as_actor(ed.clone(), |s| {
            let g = s.create_group("prod", "")?;
            s.update_group(g.id, "prod", "production", &GroupOptions::default())?;
            let t = s.create_template(&NewTemplate {
                name: "NodeDown".into(),
                query_template: "up == 0".into(),
                ..Default::default()
            })?;
            let r = s.create_rule(&NewRule::new(g.id, t.id))?;
            s.set_rule_enabled(r.id, false)?;
            let tg = s.create_target("web-01", "10.0.0.1:9100", &[g.id])?;
            s.set_target_groups(tg.id, &[])?;
            s.delete_target(tg.id)?;
            s.delete_rule(r.id)?;
            s.delete_template(t.id)?;
            s.delete_group(g.id)?;
            Ok(())
        })
        .unwrap();
    // Outside `as_actor` (the CLI): the system. An unchanged setting writes nothing.
    store.set_setting("backup_count", "5").unwrap();
    store.set_setting("backup_count", "5").unwrap();
    // A refused write leaves no row.
    assert!(store.as_actor(ed, |s| s.delete_group(999)).is_err());

    let log = inv.audit_log(&AuditFilter::default(), Page::all()).unwrap();
    let rows: Vec<(String, String, String, Option<String>)> = log
        .items
        .iter()
        .rev()
        .map(|e| {
            (
                e.target_type.clone(),
                e.action.clone(),
                e.target_label.clone(),
                e.username.clone(),
            )
        })
        .collect();
    let ed = Some("ed".to_string());
    let want = [
        ("ALERT_GROUP", "CREATE", "prod", &ed),
        ("ALERT_GROUP", "UPDATE", "prod", &ed),
        ("ALERT_TEMPLATE", "CREATE", "NodeDown", &ed),
        ("ALERT_RULE", "CREATE", "rule 1", &ed),
        ("ALERT_RULE", "UPDATE", "rule 1", &ed),
        ("ALERT_TARGET", "CREATE", "web-01", &ed),
        ("ALERT_TARGET", "UPDATE", "web-01", &ed),
        ("ALERT_TARGET", "DELETE", "web-01", &ed),
        ("ALERT_RULE", "DELETE", "rule 1", &ed),
        ("ALERT_TEMPLATE", "DELETE", "NodeDown", &ed),
        ("ALERT_GROUP", "DELETE", "prod", &ed),
        ("ALERT_SETTING", "CREATE", "backup_count", &None),
    ];
    let want: Vec<_> = want
        .iter()
        .map(|(t, a, l, u)| (t.to_string(), a.to_string(), l.to_string(), (*u).clone()))
        .collect();
    assert_eq!(rows, want);
    // Field-level changes, readable as core's FieldChange.
    let update = &log.items[log.items.len() - 2];
    assert_eq!(update.changes.len(), 1, "{update:?}");
    assert_eq!(update.changes[0].field, "description");
    assert_eq!(
        (
            update.changes[0].before.as_deref(),
            update.changes[0].after.as_deref()
        ),
        (Some(""), Some("production"))
    );
    let disabled = &log.items[log.items.len() - 5];
    assert_eq!(disabled.changes[0].field, "enabled");
    assert_eq!(disabled.changes[0].after.as_deref(), Some("false"));
}

#[test]
fn a_store_without_the_inventory_writes_no_audit_row() {
    let store = RuleStore::open_in_memory().unwrap();
    store.create_group("prod", "").unwrap();
    assert_eq!(store.groups().unwrap().len(), 1);
}
