use super::*;
use crate::model::{NewRule, NewTemplate, Severity};

fn template(name: &str) -> NewTemplate {
    NewTemplate {
        name: name.into(),
        query_template: "cpu > {{.threshold}}".into(),
        default_vars: BTreeMap::from([("threshold".into(), "80".into())]),
        for_duration: Some("5m".into()),
        ..Default::default()
    }
}

#[test]
fn migrations_are_recorded_and_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db.sqlite");
    let s = RuleStore::open(&path).unwrap();
    assert_eq!(s.schema_version().unwrap(), RuleStore::SCHEMA_VERSION);
    s.create_group("prod", "").unwrap();
    drop(s);
    let s = RuleStore::open(&path).unwrap();
    assert_eq!(s.groups().unwrap().len(), 1);
    s.conn
        .execute(
            "INSERT INTO schema_migrations (component, version, name) VALUES ('rulegen', ?1, 'x')",
            [RuleStore::SCHEMA_VERSION + 1],
        )
        .unwrap();
    drop(s);
    let err = RuleStore::open(&path).unwrap_err();
    assert!(matches!(err, Error::SchemaTooNew { .. }), "{err}");
}

#[test]
fn group_crud_and_unique_names() {
    let s = RuleStore::open_in_memory().unwrap();
    let g = s.create_group("prod", "production").unwrap();
    assert_eq!(s.find_group("prod").unwrap(), g);
    assert_eq!(s.find_group(&g.id.to_string()).unwrap(), g);
    let err = s.create_group("prod", "").unwrap_err();
    assert!(
        matches!(err, Error::AlreadyExists { kind: "group", .. }),
        "{err}"
    );
    let opts = GroupOptions {
        interval: Some("30s".into()),
        ..Default::default()
    };
    let g2 = s.update_group(g.id, "production", "", &opts).unwrap();
    assert_eq!(g2.options.interval.as_deref(), Some("30s"));
    let bad = GroupOptions {
        interval: Some("30 seconds".into()),
        ..Default::default()
    };
    assert!(s.update_group(g.id, "production", "", &bad).is_err());
    s.delete_group(g.id).unwrap();
    assert!(matches!(s.group(g.id), Err(Error::NotFound { .. })));
    assert!(matches!(s.delete_group(g.id), Err(Error::NotFound { .. })));
}

#[test]
fn targets_and_membership() {
    let s = RuleStore::open_in_memory().unwrap();
    let a = s.create_group("a", "").unwrap();
    let b = s.create_group("b", "").unwrap();
    let t = s.create_target("db-01", "10.0.0.5", &[b.id, a.id]).unwrap();
    assert_eq!(t.group_ids, vec![a.id, b.id]);
    assert_eq!(s.find_target("db-01").unwrap(), t);
    let t = s.set_target_groups(t.id, &[b.id]).unwrap();
    assert_eq!(t.group_ids, vec![b.id]);
    assert!(matches!(
        s.set_target_groups(t.id, &[999]),
        Err(Error::NotFound { kind: "group", .. })
    ));
    assert_eq!(
        s.target(t.id).unwrap().group_ids,
        vec![b.id],
        "failed set is rolled back"
    );
    s.delete_group(b.id).unwrap();
    assert!(s.target(t.id).unwrap().group_ids.is_empty());
    assert!(matches!(
        s.create_target("db-01", "", &[]),
        Err(Error::AlreadyExists { .. })
    ));
    assert!(matches!(
        s.create_target("db-02", "", &[42]),
        Err(Error::NotFound { .. })
    ));
    assert!(
        s.find_target("db-02").is_err(),
        "failed create is rolled back"
    );
}

#[test]
fn updating_a_target_is_one_transaction() {
    let s = RuleStore::open_in_memory().unwrap();
    let a = s.create_group("a", "").unwrap();
    let b = s.create_group("b", "").unwrap();
    let t = s.create_target("db-01", "10.0.0.5", &[a.id]).unwrap();
    let moved = s
        .update_target(t.id, "db-1", "10.0.0.6", Some(&[b.id]))
        .unwrap();
    assert_eq!(
        (moved.hostname.as_str(), moved.address.as_str()),
        ("db-1", "10.0.0.6")
    );
    assert_eq!(moved.group_ids, vec![b.id]);
    let kept = s.update_target(t.id, "db-2", "", None).unwrap();
    assert_eq!(
        kept.group_ids,
        vec![b.id],
        "no groups given: memberships kept"
    );
    assert!(matches!(
        s.update_target(t.id, "db-3", "10.0.0.7", Some(&[a.id, 999])),
        Err(Error::NotFound { kind: "group", .. })
    ));
    assert_eq!(
        s.target(t.id).unwrap(),
        kept,
        "a refused group leaves name, address and groups as they were"
    );
    assert!(matches!(
        s.update_target(999, "x", "", None),
        Err(Error::NotFound { kind: "target", .. })
    ));
}

#[test]
fn templates_and_rules() {
    let s = RuleStore::open_in_memory().unwrap();
    let g = s.create_group("prod", "").unwrap();
    let t = s.create_template(&template("HighCpu")).unwrap();
    assert_eq!(t.default_vars["threshold"], "80");
    assert_eq!(s.templates().unwrap(), vec![t.clone()]);
    let mut nr = NewRule::new(g.id, t.id);
    nr.vars.insert("threshold".into(), "95".into());
    nr.severity = Some(Severity::Critical);
    let r = s.create_rule(&nr).unwrap();
    assert_eq!(r.vars["threshold"], "95");
    assert_eq!(r.severity, Some(Severity::Critical));
    let r = s.set_rule_enabled(r.id, false).unwrap();
    assert!(!r.enabled);
    assert_eq!(s.rules(Some(g.id)).unwrap(), vec![r.clone()]);
    assert!(s.rules(Some(g.id + 1)).unwrap().is_empty());
    let err = s.delete_template(t.id).unwrap_err().to_string();
    assert!(err.contains("used by 1 rule"), "{err}");
    s.delete_rule(r.id).unwrap();
    s.delete_template(t.id).unwrap();
}

#[test]
fn input_checks() {
    let s = RuleStore::open_in_memory().unwrap();
    let g = s.create_group("prod", "").unwrap();
    let mut bad = template("X");
    bad.labels.insert("bad-name".into(), "v".into());
    assert!(s
        .create_template(&bad)
        .unwrap_err()
        .to_string()
        .contains("bad-name"));
    let mut bad = template("X");
    bad.for_duration = Some("5 minutes".into());
    assert!(s.create_template(&bad).is_err());
    let mut bad = template("X");
    bad.query_template = "cpu > {{.threshold".into();
    let err = s.create_template(&bad).unwrap_err().to_string();
    assert!(
        err.contains("query template") && err.contains("unclosed"),
        "{err}"
    );
    let mut bad = template("X");
    bad.default_vars.insert("group_id".into(), "1".into());
    let err = s.create_template(&bad).unwrap_err().to_string();
    assert!(err.contains("automatically"), "{err}");
    let t = s.create_template(&template("X")).unwrap();
    let mut r = NewRule::new(g.id, t.id);
    r.labels.insert("__name__".into(), "x".into());
    assert!(s.create_rule(&r).is_err());
    assert!(matches!(
        s.create_rule(&NewRule::new(g.id, 999)),
        Err(Error::NotFound {
            kind: "template",
            ..
        })
    ));
}

#[test]
fn settings_round_trip() {
    let s = RuleStore::open_in_memory().unwrap();
    assert_eq!(s.settings().unwrap(), Settings::default());
    s.set_setting("target_version", "3.1").unwrap();
    s.set_setting("rule_dir", "/tmp/rules").unwrap();
    let st = s.set_setting("backup_count", "5").unwrap();
    assert_eq!(st.target_version, PrometheusVersion::new(3, 1));
    assert_eq!(st.backup_count, 5);
    assert!(s.set_setting("target_version", "latest").is_err());
    assert!(s.set_setting("colour", "blue").is_err());
    assert!(s.set_setting("backup_count", "101").is_err());
    assert!(s.set_setting("backup_count", "-1").is_err());
    assert!(s.set_setting("prometheus_url", "ftp://x").is_err());
    let st = s.set_setting("rule_dir", "").unwrap();
    assert_eq!(st.rule_dir, None);
}

#[test]
fn generation_lock_makes_other_writers_wait() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db.sqlite");
    let a = RuleStore::open(&path).unwrap();
    let b = RuleStore::open(&path).unwrap();
    let lock = a.lock_for_generation().unwrap();
    // Reads through the locking connection still work.
    assert!(a.groups().unwrap().is_empty());
    let writer = std::thread::spawn(move || {
        let start = std::time::Instant::now();
        b.create_group("late", "").unwrap();
        start.elapsed()
    });
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(
        a.groups().unwrap().is_empty(),
        "the other writer is still waiting"
    );
    drop(lock);
    let waited = writer.join().unwrap();
    assert!(
        waited >= std::time::Duration::from_millis(250),
        "{waited:?}"
    );
    assert_eq!(a.groups().unwrap().len(), 1);
}
