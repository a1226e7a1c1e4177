//! The rule store's conformance suite: every store behaviour, run against both backends
//! (a SQLite file in a temporary folder, and a fresh database on the real PostgreSQL 15 the
//! testkit starts; these fail when PostgreSQL is missing). Each behaviour is a function
//! taking the backend; `on_both_backends!` makes a test of it per backend, so nothing is
//! tested on one backend only.

use std::collections::BTreeMap;

use ipocket_db::{Backend, Cell, Database, DbUrl, Row};
use ipocket_rulegen::store::runs::KEPT_RUNS;
use ipocket_rulegen::{
    generate, AuditActor, Error, GenerationRun, GroupOptions, NewRule, NewTemplate,
    PrometheusVersion, RuleStore, Settings, Severity,
};
use ipocket_testkit::postgres::FreshDatabase;

/// A fresh, empty database on one backend, with the inventory's tables (so writes are
/// audited) or without.
struct Db {
    url: DbUrl,
    _fresh: FreshDatabase,
}

impl Db {
    /// With the inventory's schema (its `audit_logs` table).
    fn new(b: Backend) -> Db {
        let db = Db::bare(b);
        Database::open(&db.url, &[&ipocket_core::INVENTORY_SCHEMA]).unwrap();
        db
    }

    /// Nothing in it: the rule store alone, which writes no audit rows.
    fn bare(b: Backend) -> Db {
        let fresh = match b {
            Backend::Sqlite => FreshDatabase::sqlite(),
            Backend::Postgres => FreshDatabase::postgres(),
        };
        Db {
            url: DbUrl::parse(&fresh.url).unwrap(),
            _fresh: fresh,
        }
    }

    /// A store on it (call again for a second connection / handle).
    fn store(&self) -> RuleStore {
        RuleStore::open_url(&self.url).unwrap()
    }

    /// Rows of `sql`, read through a connection of its own.
    fn rows(&self, sql: &str) -> Vec<Row> {
        let db = Database::open(&self.url, &[]).unwrap();
        db.read(|c| c.query(sql, &[])).unwrap()
    }

    fn count(&self, sql: &str) -> i64 {
        self.rows(sql)[0].get(0).unwrap()
    }

    fn execute(&self, sql: &str) {
        let db = Database::open(&self.url, &[]).unwrap();
        db.read(|c| c.execute(sql, &[])).unwrap();
    }
}

ipocket_testkit::on_both_backends!(
    migrations_are_recorded_and_a_newer_database_is_refused,
    group_crud_and_unique_names,
    targets_and_membership,
    updating_a_target_is_one_transaction,
    a_target_without_groups_gets_its_own_group_back,
    templates_and_rules,
    input_checks,
    validation_names_the_field,
    settings_round_trip,
    the_newest_run_is_kept_and_old_ones_go,
    every_write_is_audited_with_its_actor_in_its_transaction,
    a_store_without_the_inventory_writes_no_audit_row,
    generation_lock_makes_other_writers_wait,
    a_write_through_the_locking_store_is_refused,
    concurrent_writers_on_two_handles_all_land,
    generation_plans_the_same_files,
);

fn template(name: &str) -> NewTemplate {
    NewTemplate {
        name: name.into(),
        query_template: "cpu > {{.threshold}}".into(),
        default_vars: BTreeMap::from([("threshold".into(), "80".into())]),
        for_duration: Some("5m".into()),
        ..Default::default()
    }
}

fn migrations_are_recorded_and_a_newer_database_is_refused(b: Backend) {
    let db = Db::new(b);
    let s = db.store();
    assert_eq!(s.backend(), b);
    assert_eq!(s.schema_version().unwrap(), RuleStore::SCHEMA_VERSION);
    s.create_group("prod", "").unwrap();
    drop(s);
    let s = db.store();
    assert_eq!(s.groups().unwrap().len(), 1, "reopening keeps the data");
    assert_eq!(
        db.count("SELECT count(*) FROM schema_migrations WHERE component = 'rulegen'"),
        RuleStore::SCHEMA_VERSION
    );
    drop(s);
    db.execute(&format!(
        "INSERT INTO schema_migrations (component, version, name) VALUES ('rulegen', {}, 'x')",
        RuleStore::SCHEMA_VERSION + 1
    ));
    let err = RuleStore::open_url(&db.url).unwrap_err();
    assert!(
        matches!(err, Error::SchemaTooNew { found, supported } if found == supported + 1),
        "{err}"
    );
}

fn group_crud_and_unique_names(b: Backend) {
    let s = Db::new(b).store();
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

fn targets_and_membership(b: Backend) {
    let s = Db::new(b).store();
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

fn updating_a_target_is_one_transaction(b: Backend) {
    let s = Db::new(b).store();
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

fn templates_and_rules(b: Backend) {
    let s = Db::new(b).store();
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

fn input_checks(b: Backend) {
    let s = Db::new(b).store();
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

fn settings_round_trip(b: Backend) {
    let s = Db::new(b).store();
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

fn a_target_without_groups_gets_its_own_group_back(b: Backend) {
    let db = Db::new(b);
    let s = db.store();
    let t = s.create_target("web-01", "10.0.0.1:9100", &[]).unwrap();
    let own = s.group(t.group_ids[0]).unwrap();
    assert_eq!(own.name, "target-web-01");
    assert!(own.is_default_own);
    let tpl = s.create_template(&template("HighCpu")).unwrap();
    s.create_rule(&NewRule::new(own.id, tpl.id)).unwrap();
    s.delete_target(t.id).unwrap();
    // The same host name again takes its old group (and rules) back.
    let again = s.create_target("web-01", "", &[]).unwrap();
    assert_eq!(again.group_ids, vec![own.id]);
    assert_eq!(s.rules(Some(own.id)).unwrap().len(), 1);
    // A taken own-group name refuses the new target as a whole.
    s.create_group("target-web-02", "").unwrap();
    let err = s.create_target("web-02", "", &[]).unwrap_err();
    assert!(
        matches!(err, Error::AlreadyExists { kind: "group", ref key } if key == "target-web-02"),
        "{err}"
    );
    assert!(s.find_target("web-02").is_err(), "nothing half-applied");
}

fn validation_names_the_field(b: Backend) {
    let field_of = |e: Error| match e {
        Error::InvalidInput { field, .. } => field,
        other => panic!("expected an invalid input, got {other}"),
    };
    let s = Db::new(b).store();
    let g = s.create_group("prod", "").unwrap();
    let bad = NewTemplate {
        name: "Bad".into(),
        query_template: "rate(x[5m]".into(),
        ..Default::default()
    };
    assert_eq!(
        field_of(s.validate_template(None, &bad).unwrap_err()),
        "query_template"
    );
    let open = NewTemplate {
        name: "Disk".into(),
        query_template: "disk{g=\"{{.group_id}}\"} < {{.min_free}}".into(),
        ..Default::default()
    };
    s.validate_template(None, &open).unwrap();
    let t = s.create_template(&open).unwrap();
    let mut rule = NewRule::new(g.id, t.id);
    let e = s.validate_rule(None, &rule).unwrap_err();
    assert!(e.to_string().contains("min_free"), "{e}");
    assert_eq!(field_of(e), "vars");
    rule.vars.insert("min_free".into(), "10 +".into());
    let e = s.validate_rule(None, &rule).unwrap_err();
    assert!(e.to_string().contains("PromQL does not parse"), "{e}");
    rule.vars.insert("min_free".into(), "10".into());
    s.validate_rule(None, &rule).unwrap();
    let r = s.create_rule(&rule).unwrap();
    // An edit of the template that its rule cannot render is refused, naming the rule.
    let broken = NewTemplate {
        query_template: "disk{g=\"{{.group_id}}\"} < {{.min_free}} and".into(),
        ..open
    };
    s.validate_template(None, &broken).unwrap();
    let e = s.validate_template(Some(t.id), &broken).unwrap_err();
    assert!(
        e.to_string()
            .contains(&format!("breaks rule {} of group \"prod\"", r.id)),
        "{e}"
    );
    assert_eq!(field_of(e), "query_template");
}

fn the_newest_run_is_kept_and_old_ones_go(b: Backend) {
    let db = Db::new(b);
    let s = db.store();
    assert_eq!(s.last_run().unwrap(), None);
    for i in 0..(KEPT_RUNS + 5) {
        let run = GenerationRun {
            trigger: "auto".into(),
            writes: i as u64,
            confirmed_groups: vec!["prod".into()],
            ..Default::default()
        };
        s.record_run(&run).unwrap();
    }
    let last = s.last_run().unwrap().unwrap();
    assert_eq!(last.writes, KEPT_RUNS as u64 + 4);
    assert_eq!(last.confirmed_groups, vec!["prod".to_string()]);
    assert_eq!(db.count("SELECT count(*) FROM rulegen_runs"), KEPT_RUNS);
    assert_eq!(
        db.count("SELECT count(*) FROM audit_logs"),
        0,
        "runs are a log, not audited"
    );
}

fn every_write_is_audited_with_its_actor_in_its_transaction(b: Backend) {
    let db = Db::new(b);
    let store = db.store();
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
    // Refused writes leave no row: not found, and a unique violation rolled back.
    assert!(store.as_actor(ed, |s| s.delete_group(999)).is_err());
    store.create_group("prod", "").unwrap();
    assert!(store.create_group("prod", "").is_err());

    let rows = db.rows(
        "SELECT target_type, action, target_label, username, changes, created_at \
         FROM audit_logs ORDER BY id",
    );
    let text = |r: &Row, i: usize| r.get::<Option<String>>(i).unwrap().unwrap_or_default();
    let got: Vec<String> = rows
        .iter()
        .map(|r| (0..4).map(|i| text(r, i)).collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(
        got,
        [
            "ALERT_GROUP CREATE prod ed",
            "ALERT_GROUP UPDATE prod ed",
            "ALERT_TEMPLATE CREATE NodeDown ed",
            "ALERT_RULE CREATE rule 1 ed",
            "ALERT_RULE UPDATE rule 1 ed",
            "ALERT_TARGET CREATE web-01 ed",
            "ALERT_TARGET UPDATE web-01 ed",
            "ALERT_TARGET DELETE web-01 ed",
            "ALERT_RULE DELETE rule 1 ed",
            "ALERT_TEMPLATE DELETE NodeDown ed",
            "ALERT_GROUP DELETE prod ed",
            "ALERT_SETTING CREATE backup_count ",
            "ALERT_GROUP CREATE prod ",
        ]
    );
    // Field-level changes, as core's FieldChange list.
    let changes: serde_json::Value = serde_json::from_str(&text(&rows[1], 4)).unwrap();
    assert_eq!(
        changes,
        serde_json::json!([{"field": "description", "before": "", "after": "production"}])
    );
    let disabled: serde_json::Value = serde_json::from_str(&text(&rows[4], 4)).unwrap();
    assert_eq!(disabled[0]["field"], "enabled");
    assert_eq!(disabled[0]["after"], "false");
    // The database's clock, in the inventory's format (YYYY-MM-DD HH:MM:SS).
    let at = text(&rows[0], 5);
    assert_eq!(at.len(), 19, "{at}");
    assert_eq!(&at[10..11], " ", "{at}");
}

fn a_store_without_the_inventory_writes_no_audit_row(b: Backend) {
    let db = Db::bare(b);
    let store = db.store();
    store.create_group("prod", "").unwrap();
    assert_eq!(store.groups().unwrap().len(), 1);
    assert!(db
        .rows("SELECT count(*) FROM schema_migrations WHERE component = 'inventory'")
        .iter()
        .all(|r| r.0 == vec![Cell::Int(0)]));
}

fn generation_lock_makes_other_writers_wait(b: Backend) {
    let db = Db::new(b);
    let a = db.store();
    let other = db.store();
    let lock = a.lock_for_generation().unwrap();
    // Reads through the locking store still work.
    assert!(a.groups().unwrap().is_empty());
    let writer = std::thread::spawn(move || {
        let start = std::time::Instant::now();
        other.create_group("late", "").unwrap();
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

fn a_write_through_the_locking_store_is_refused(b: Backend) {
    let s = Db::new(b).store();
    let lock = s.lock_for_generation().unwrap();
    let err = s.create_group("prod", "").unwrap_err();
    assert!(err.to_string().contains("holds its write lock"), "{err}");
    assert!(s.lock_for_generation().is_err(), "not taken twice");
    drop(lock);
    s.create_group("prod", "").unwrap();
    drop(s.lock_for_generation().unwrap());
    s.create_group("prod-2", "").unwrap();
}

fn concurrent_writers_on_two_handles_all_land(b: Backend) {
    let db = Db::new(b);
    let stores = [db.store(), db.store()];
    std::thread::scope(|scope| {
        for (n, s) in stores.into_iter().enumerate() {
            scope.spawn(move || {
                for i in 0..15 {
                    // Each own group is read, then made: serialised writes never clash.
                    s.create_target(&format!("host-{n}-{i}"), "", &[]).unwrap();
                }
            });
        }
    });
    let s = db.store();
    assert_eq!(s.targets().unwrap().len(), 30);
    assert_eq!(s.groups().unwrap().len(), 30);
    assert_eq!(db.count("SELECT count(*) FROM audit_logs"), 60);
}

fn generation_plans_the_same_files(b: Backend) {
    let s = Db::new(b).store();
    let prod = s.create_group("prod", "production hosts").unwrap();
    s.create_target("db-01", "10.0.0.5", &[prod.id]).unwrap();
    let cpu = s.create_template(&template("HighCpu")).unwrap();
    let mut rule = NewRule::new(prod.id, cpu.id);
    rule.vars.insert("threshold".into(), "90".into());
    rule.severity = Some(Severity::Critical);
    s.create_rule(&rule).unwrap();
    let plan = generate::plan(&s, PrometheusVersion::DEFAULT, None).unwrap();
    assert_eq!(plan.files.len(), 1);
    let content = &plan.files[0].content;
    assert!(content.contains("expr: cpu > 90"), "{content}");
    assert!(content.contains("severity: critical"), "{content}");
    let eff = generate::effective_rules(&s, "db-01", PrometheusVersion::DEFAULT).unwrap();
    assert_eq!(eff.rules[0].source.group_name, "prod");
}
