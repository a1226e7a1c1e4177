//! Integration tests against Debian's real Prometheus 2.42 and promtool on 127.0.0.1.
//! They fail (never skip) when /usr/bin/prometheus or /usr/bin/promtool is missing.

use std::collections::BTreeMap;
use std::fs;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use ipocket_rulegen::{
    reload_from_settings, status_from_settings, Error, FileAction, GroupOptions, NewRule,
    NewTemplate, PrometheusClient, PrometheusVersion, RuleFile, RuleGenerator, RuleStore, Severity,
};
use ipocket_testkit::rules::{promtool_check, require_peer, Prometheus, PROMTOOL};
use ipocket_testkit::runtime;

/// Two groups, three templates, tricky label values and Prometheus annotation templates.
fn inventory() -> (RuleStore, i64, i64) {
    let s = RuleStore::open_in_memory().unwrap();
    let prod = s.create_group("prod", "production").unwrap();
    let dev = s.create_group("dev lab", "").unwrap();
    s.create_target("db-01", "10.0.0.5", &[prod.id, dev.id])
        .unwrap();
    let cpu = s
        .create_template(&NewTemplate {
            name: "HighCpu".into(),
            description: "CPU busy".into(),
            query_template: "(100 - avg by (instance) (rate(node_cpu_seconds_total{mode=\"idle\",group_id=\"{{.group_id}}\"}[5m])) * 100) > {{.threshold}}".into(),
            default_vars: BTreeMap::from([("threshold".into(), "80".into())]),
            for_duration: Some("5m".into()),
            severity: Severity::Warning,
            labels: LabelMapExt::from_pairs(&[("team", "no"), ("window", "12:30")]),
            annotations: LabelMapExt::from_pairs(&[(
                "detail",
                "{{ $labels.instance }} at {{ $value | humanize }}% (limit {{.threshold}}%)",
            )]),
            ..Default::default()
        })
        .unwrap();
    let down = s
        .create_template(&NewTemplate {
            name: "Node Down".into(),
            query_template: "up{job=\"node\",group_id=\"{{.group_id}}\"} == 0".into(),
            for_duration: Some("2m".into()),
            keep_firing_for: Some("1m".into()),
            severity: Severity::Critical,
            ..Default::default()
        })
        .unwrap();
    let mut hot = NewRule::new(prod.id, cpu.id);
    hot.vars.insert("threshold".into(), "95".into());
    hot.name = Some("HighCpuCritical".into());
    hot.severity = Some(Severity::Critical);
    s.create_rule(&hot).unwrap();
    s.create_rule(&NewRule::new(prod.id, cpu.id)).unwrap();
    s.create_rule(&NewRule::new(prod.id, down.id)).unwrap();
    s.create_rule(&NewRule::new(dev.id, down.id)).unwrap();
    (s, prod.id, dev.id)
}

trait LabelMapExt {
    fn from_pairs(pairs: &[(&str, &str)]) -> Self;
}
impl LabelMapExt for BTreeMap<String, String> {
    fn from_pairs(pairs: &[(&str, &str)]) -> Self {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }
}

#[test]
fn generated_files_pass_promtool_and_reload_lists_them() {
    let prom = Prometheus::start();
    let (store, prod, dev) = inventory();
    let generator =
        RuleGenerator::new(&prom.rules_dir, PrometheusVersion::DEFAULT).with_promtool(PROMTOOL);
    let report = generator.generate(&store, None, false).unwrap();
    assert_eq!(report.changes.len(), 2);
    assert!(report
        .changes
        .iter()
        .all(|c| c.action == FileAction::Create));

    for (gid, rules) in [(prod, 3), (dev, 1)] {
        let path = prom.rules_dir.join(format!("group-{gid}.yml"));
        let (ok, out) = promtool_check(&path);
        assert!(ok, "promtool refused {}:\n{out}", path.display());
        assert!(
            out.contains(&format!("SUCCESS: {rules} rules found")),
            "{out}"
        );
    }

    let client = PrometheusClient::new(&prom.url).unwrap();
    let rt = runtime();
    let reload = rt.block_on(generator.reload(&client)).unwrap();
    assert_eq!(reload.attempts, 1);
    assert_eq!(
        reload.confirmed_groups,
        vec!["ipocket/prod".to_string(), "ipocket/dev lab".to_string()]
    );

    // What Prometheus itself reports, read without the crate's client.
    let rules = prom.rules_json();
    let groups = rules["data"]["groups"].as_array().unwrap();
    let prod_group = groups
        .iter()
        .find(|g| g["name"] == "ipocket/prod")
        .expect("prod group loaded");
    assert_eq!(
        prod_group["file"].as_str().unwrap(),
        prom.rules_dir
            .join(format!("group-{prod}.yml"))
            .to_str()
            .unwrap()
    );
    let names: Vec<&str> = prod_group["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["HighCpu", "HighCpuCritical", "Node Down"]);
    let high = &prod_group["rules"][0];
    assert_eq!(
        high["labels"]["team"], "no",
        "YAML 1.1 trap value stays a string"
    );
    assert_eq!(high["labels"]["window"], "12:30");
    assert_eq!(high["labels"]["severity"], "warning");
    assert_eq!(high["duration"], 300.0);
    assert!(high["query"].as_str().unwrap().contains("> 80"), "{high}");
    assert_eq!(prod_group["rules"][2]["keepFiringFor"], 60.0);
    assert!(rt.block_on(client.last_reload_successful()).unwrap());

    let st = rt.block_on(client.status());
    assert!(st.reachable && st.healthy && st.ready, "{st:?}");
    assert!(
        st.version.as_deref().unwrap_or("").starts_with("2.42"),
        "{st:?}"
    );
}

/// The path a front end takes: a database file with settings, then generate, reload,
/// status and effective rules from it.
#[test]
fn settings_driven_flow_from_a_database_file() {
    let prom = Prometheus::start();
    let db_dir = tempfile::tempdir().unwrap();
    let db = db_dir.path().join("ipocket.sqlite");
    {
        let (mem, _, _) = inventory();
        // Copy the inventory into a real file through the public API.
        let store = RuleStore::open(&db).unwrap();
        for g in mem.groups().unwrap() {
            store.create_group(&g.name, &g.description).unwrap();
        }
        for t in mem.templates().unwrap() {
            store
                .create_template(&NewTemplate {
                    name: t.name,
                    description: t.description,
                    query_template: t.query_template,
                    default_vars: t.default_vars,
                    for_duration: t.for_duration,
                    keep_firing_for: t.keep_firing_for,
                    severity: t.severity,
                    labels: t.labels,
                    annotations: t.annotations,
                })
                .unwrap();
        }
        for r in mem.rules(None).unwrap() {
            let mut nr = NewRule::new(r.group_id, r.template_id);
            nr.name = r.name;
            nr.vars = r.vars;
            nr.severity = r.severity;
            store.create_rule(&nr).unwrap();
        }
        store.create_target("db-01", "10.0.0.5", &[1, 2]).unwrap();
        store
            .set_setting("rule_dir", prom.rules_dir.to_str().unwrap())
            .unwrap();
        store.set_setting("prometheus_url", &prom.url).unwrap();
        store.set_setting("promtool", PROMTOOL).unwrap();
    }
    let store = RuleStore::open(&db).unwrap();
    let settings = store.settings().unwrap();
    let generator = RuleGenerator::from_settings(&settings).unwrap();
    let group = store.find_group("dev lab").unwrap();
    let report = generator.generate(&store, Some(group.id), false).unwrap();
    assert_eq!(report.changes.len(), 1);
    assert_eq!(
        report.changes[0].file_name,
        format!("group-{}.yml", group.id)
    );
    let rt = runtime();
    let reload = rt.block_on(reload_from_settings(&settings)).unwrap();
    assert_eq!(reload.confirmed_groups, vec!["ipocket/dev lab".to_string()]);
    let st = rt.block_on(status_from_settings(&settings)).unwrap();
    assert!(st.ready, "{st:?}");
    let files = generator.list().unwrap();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].rule_count, Some(1));
    // One rule per alert name: "Node Down" is in both groups, the newer (dev lab's) wins.
    let eff = generator.effective_rules(&store, "db-01").unwrap();
    assert_eq!(eff.rules.len(), 3);
    assert_eq!(eff.rules[2].alert, "Node Down");
    assert_eq!(eff.rules[2].source.group_name, "dev lab");
    assert_eq!(eff.overridden.len(), 1);
}

#[test]
fn a_broken_rule_is_refused_before_anything_is_written() {
    require_peer();
    let dir = tempfile::tempdir().unwrap();
    let (store, prod, _) = inventory();
    let generator =
        RuleGenerator::new(dir.path(), PrometheusVersion::DEFAULT).with_promtool(PROMTOOL);
    generator.generate(&store, None, false).unwrap();
    let file = dir.path().join(format!("group-{prod}.yml"));
    let before = fs::read(&file).unwrap();
    let listing_before: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();

    // 1. Caught by our own validation (PromQL does not parse).
    let broken = store
        .create_template(&NewTemplate {
            name: "Broken".into(),
            query_template: "rate(http_requests_total{code=~\"5..\"[5m])".into(),
            ..Default::default()
        })
        .unwrap();
    let rule = store.create_rule(&NewRule::new(prod, broken.id)).unwrap();
    let err = generator.generate(&store, None, false).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, Error::Validation(_)), "{msg}");
    assert!(
        msg.contains(&format!("rule \"Broken\" (id {})", rule.id)),
        "{msg}"
    );
    assert!(msg.contains("expr: PromQL does not parse"), "{msg}");
    assert_eq!(fs::read(&file).unwrap(), before);
    store.delete_rule(rule.id).unwrap();

    // 2. Passes our checks but not Prometheus: an annotation template calling a function
    //    that does not exist (our check is syntax only). promtool, the second check,
    //    refuses it, and still nothing is written.
    let odd = store
        .create_template(&NewTemplate {
            name: "OddTemplate".into(),
            query_template: "up == 0".into(),
            annotations: LabelMapExt::from_pairs(&[("detail", "{{ $value | nosuchfunc }}")]),
            ..Default::default()
        })
        .unwrap();
    store.create_rule(&NewRule::new(prod, odd.id)).unwrap();
    let err = generator.generate(&store, None, false).unwrap_err();
    match &err {
        Error::PromtoolRejected { file: f, output } => {
            assert_eq!(f, &file);
            assert!(output.contains("OddTemplate"), "{output}");
            assert!(output.contains("nosuchfunc"), "{output}");
        }
        other => panic!("expected promtool to refuse, got {other}"),
    }
    assert_eq!(fs::read(&file).unwrap(), before, "file untouched");
    let listing_after: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        listing_after, listing_before,
        "no temp, check or backup file left"
    );
}

#[test]
fn version_gate_matches_real_prometheus_and_failed_reload_points_to_the_log() {
    let prom = Prometheus::start();
    let store = RuleStore::open_in_memory().unwrap();
    let opts = GroupOptions {
        query_offset: Some("30s".into()),
        ..Default::default()
    };
    let g = store.create_group_with("lagging", "", &opts).unwrap();
    let t = store
        .create_template(&NewTemplate {
            name: "Up".into(),
            query_template: "up == 0".into(),
            ..Default::default()
        })
        .unwrap();
    store.create_rule(&NewRule::new(g.id, t.id)).unwrap();

    // Target 2.42: refused by our gate, before writing.
    let for_242 = RuleGenerator::new(&prom.rules_dir, PrometheusVersion::DEFAULT);
    let err = for_242.generate(&store, None, false).unwrap_err();
    assert!(
        err.to_string()
            .contains("`query_offset` needs Prometheus 2.53"),
        "{err}"
    );
    assert!(for_242.list().unwrap().is_empty());

    // Target 2.53 with promtool 2.42: promtool refuses it too (the gate is right).
    let for_253 = RuleGenerator::new(&prom.rules_dir, PrometheusVersion::new(2, 53));
    let err = for_253
        .clone()
        .with_promtool(PROMTOOL)
        .generate(&store, None, false)
        .unwrap_err();
    assert!(matches!(err, Error::PromtoolRejected { .. }), "{err}");
    assert!(err.to_string().contains("query_offset"), "{err}");

    // Written anyway (no promtool), the real 2.42 rejects the reload; the error says
    // where to look, and the log has the reason.
    for_253.generate(&store, None, false).unwrap();
    let client = PrometheusClient::new(&prom.url).unwrap();
    let rt = runtime();
    let err = rt.block_on(for_253.reload(&client)).unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(err, Error::ReloadFailed { status: 500, .. }),
        "{msg}"
    );
    assert!(msg.contains("Prometheus log"), "{msg}");
    assert!(prom.log().contains("query_offset"), "log:\n{}", prom.log());
    assert!(!rt.block_on(client.last_reload_successful()).unwrap());

    // Back to a 2.42 file: the reload works again and the gauge is 1.
    store
        .update_group(g.id, "lagging", "", &GroupOptions::default())
        .unwrap();
    for_242.generate(&store, None, false).unwrap();
    let report = rt.block_on(for_242.reload(&client)).unwrap();
    assert_eq!(report.confirmed_groups, vec!["ipocket/lagging".to_string()]);
}

#[test]
fn stale_files_are_removed_and_prometheus_drops_their_groups() {
    let prom = Prometheus::start();
    let (store, prod, dev) = inventory();
    let generator = RuleGenerator::new(&prom.rules_dir, PrometheusVersion::DEFAULT);
    generator.generate(&store, None, false).unwrap();
    let client = PrometheusClient::new(&prom.url).unwrap();
    let rt = runtime();
    rt.block_on(generator.reload(&client)).unwrap();

    store.delete_group(dev).unwrap();
    let preview = generator.generate(&store, None, true).unwrap();
    let removal = preview.changes.iter().find(|c| c.group_id == dev).unwrap();
    assert_eq!(removal.action, FileAction::Remove);
    assert!(removal.diff.contains("-groups:"), "{}", removal.diff);
    assert!(
        prom.rules_dir.join(format!("group-{dev}.yml")).exists(),
        "dry run keeps it"
    );

    generator.generate(&store, None, false).unwrap();
    assert!(!prom.rules_dir.join(format!("group-{dev}.yml")).exists());
    assert!(prom
        .rules_dir
        .join(format!("group-{dev}.yml.bak.1"))
        .exists());
    let report = rt.block_on(generator.reload(&client)).unwrap();
    assert_eq!(report.confirmed_groups, vec!["ipocket/prod".to_string()]);
    let loaded: Vec<String> = rt
        .block_on(client.rule_groups())
        .unwrap()
        .into_iter()
        .map(|g| g.name)
        .collect();
    assert_eq!(
        loaded,
        vec!["ipocket/prod".to_string()],
        "the .bak is not loaded"
    );
    let _ = prod;
}

#[test]
fn a_concurrent_reader_never_sees_a_partial_file() {
    let prom = Prometheus::start();
    let store = RuleStore::open_in_memory().unwrap();
    let g = store.create_group("big", "").unwrap();
    let t = store
        .create_template(&NewTemplate {
            name: "T".into(),
            query_template: "node_load1{group_id=\"{{.group_id}}\"} > {{.threshold}}".into(),
            default_vars: BTreeMap::from([("threshold".into(), "1".into())]),
            annotations: LabelMapExt::from_pairs(&[("padding", &"x".repeat(400))]),
            ..Default::default()
        })
        .unwrap();
    let mut ids = Vec::new();
    for i in 0..150 {
        let mut r = NewRule::new(g.id, t.id);
        r.name = Some(format!("Load{i:03}"));
        ids.push(store.create_rule(&r).unwrap().id);
    }
    let generator = RuleGenerator::new(&prom.rules_dir, PrometheusVersion::DEFAULT).with_backups(2);
    generator.generate(&store, None, false).unwrap();
    let path = prom.rules_dir.join(format!("group-{}.yml", g.id));
    let size = fs::metadata(&path).unwrap().len();
    assert!(
        size > 64 * 1024,
        "file should be large enough to be written in pieces: {size}"
    );

    let stop = Arc::new(AtomicBool::new(false));
    let reader = {
        let (stop, path) = (stop.clone(), path.clone());
        std::thread::spawn(move || {
            let mut reads = 0u32;
            while !stop.load(Ordering::Relaxed) {
                let text = fs::read_to_string(&path).expect("file always exists");
                let parsed = RuleFile::from_yaml(&text)
                    .unwrap_or_else(|e| panic!("partial or broken read after {reads} reads: {e}"));
                assert_eq!(parsed.rule_count(), 150, "whole file");
                assert!(text.ends_with('\n'));
                reads += 1;
            }
            reads
        })
    };
    let reloader = {
        let (stop, prom_addr) = (stop.clone(), prom.url.clone());
        std::thread::spawn(move || {
            let client = PrometheusClient::new(&prom_addr).unwrap();
            let rt = runtime();
            let mut n = 0u32;
            while !stop.load(Ordering::Relaxed) {
                rt.block_on(client.reload())
                    .expect("every reload during writes succeeds");
                n += 1;
            }
            n
        })
    };
    for round in 0..40 {
        let threshold = (round % 7 + 2).to_string();
        for id in &ids {
            let mut r = store.rule(*id).unwrap();
            r.vars.insert("threshold".into(), threshold.clone());
            let mut nr = NewRule::new(r.group_id, r.template_id);
            nr.name = r.name.clone();
            nr.vars = r.vars.clone();
            store.update_rule(*id, &nr).unwrap();
        }
        generator.generate(&store, None, false).unwrap();
    }
    stop.store(true, Ordering::Relaxed);
    let reads = reader.join().expect("reader saw only whole files");
    let reloads = reloader.join().expect("reloads all succeeded");
    assert!(reads > 10, "reader ran: {reads}");
    assert!(reloads > 1, "reloader ran: {reloads}");
    let leftovers: Vec<String> = fs::read_dir(&prom.rules_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "temp files left: {leftovers:?}");
    assert_eq!(
        generator
            .files()
            .backups(&format!("group-{}.yml", g.id))
            .unwrap()
            .len(),
        2
    );
}

/// Values that YAML emitters get wrong survive generation, promtool and a reload:
/// Prometheus reports exactly the strings that were stored.
#[test]
fn tricky_values_survive_the_round_trip_through_prometheus() {
    let prom = Prometheus::start();
    let tricky = [
        "no",
        "yes",
        "on",
        "off",
        "true",
        "NULL",
        "~",
        "1e3",
        "0755",
        "0x1F",
        "12:30",
        "1_000",
        ".inf",
        "-",
        "- x",
        "a: b",
        "#x",
        "@at",
        "`tick",
        "*star",
        "&amp",
        "!tag",
        "%pct",
        "{{ $labels.instance }}",
        " lead",
        "trail ",
        "multi\nline",
        "tab\tx",
        "quote\"d",
        "it's",
        "ünïcödé",
        "2024-01-01",
        "=",
        "?q",
        "|pipe",
        ">gt",
        "[x]",
        "{y}",
    ];
    let values: BTreeMap<String, String> = tricky
        .iter()
        .enumerate()
        .map(|(i, v)| (format!("v{i:02}"), v.to_string()))
        .collect();
    let store = RuleStore::open_in_memory().unwrap();
    let g = store.create_group("tricky: yes", "").unwrap();
    let t = store
        .create_template(&NewTemplate {
            name: "Tricky".into(),
            query_template: "vector(1) > 2".into(),
            labels: values.clone(),
            annotations: values.clone(),
            ..Default::default()
        })
        .unwrap();
    store.create_rule(&NewRule::new(g.id, t.id)).unwrap();
    let generator =
        RuleGenerator::new(&prom.rules_dir, PrometheusVersion::DEFAULT).with_promtool(PROMTOOL);
    generator.generate(&store, None, false).unwrap();
    let client = PrometheusClient::new(&prom.url).unwrap();
    runtime().block_on(generator.reload(&client)).unwrap();

    let rules = prom.rules_json();
    let group = &rules["data"]["groups"][0];
    assert_eq!(group["name"], "ipocket/tricky: yes");
    let rule = &group["rules"][0];
    for (k, v) in &values {
        assert_eq!(rule["labels"][k].as_str(), Some(v.as_str()), "label {k}");
        assert_eq!(
            rule["annotations"][k].as_str(),
            Some(v.as_str()),
            "annotation {k}"
        );
    }
}

/// Confirmation checks the file each group is loaded from (issue #19): a hand-written file
/// in Prometheus's rule folder with a group of the same name and rule count does not
/// confirm our file, which Prometheus does not load at all.
#[test]
fn a_decoy_group_of_the_same_name_in_another_file_is_not_a_confirmation() {
    let prom = Prometheus::start();
    let (store, _, _) = inventory();
    let elsewhere = tempfile::tempdir().unwrap();
    let outside = RuleGenerator::new(elsewhere.path(), PrometheusVersion::DEFAULT);
    outside.generate(&store, None, false).unwrap();
    // The decoy: our files' groups, copied under another name into the loaded folder.
    for (i, f) in outside.expected_files().unwrap().iter().enumerate() {
        let text = fs::read_to_string(&f.path).unwrap();
        fs::write(prom.rules_dir.join(format!("decoy-{i}.yml")), text).unwrap();
    }
    let client = PrometheusClient::new(&prom.url).unwrap();
    let rt = runtime();
    let err = rt.block_on(outside.reload(&client)).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, Error::ReloadNotConfirmed { .. }), "{msg}");
    assert!(
        msg.contains("another file") && msg.contains("decoy-"),
        "{msg}"
    );
    // The names alone would have passed: that was the old check.
    let names = outside.groups_on_disk().unwrap();
    rt.block_on(client.reload_and_confirm(&names)).unwrap();

    // Written where Prometheus loads from, it confirms, file by file.
    for i in 0..2 {
        fs::remove_file(prom.rules_dir.join(format!("decoy-{i}.yml"))).unwrap();
    }
    let inside = RuleGenerator::new(&prom.rules_dir, PrometheusVersion::DEFAULT);
    inside.generate(&store, None, false).unwrap();
    let report = rt.block_on(inside.reload(&client)).unwrap();
    assert_eq!(report.confirmed_files.len(), 2, "{report:?}");
    assert!(report.confirmed_files[0].starts_with(&prom.rules_dir));
}
