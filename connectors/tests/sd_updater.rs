//! The service-discovery updater against the real Prometheus 2.42 on 127.0.0.1: the file_sd
//! file it writes is picked up (`/api/v1/targets`). The fake 10.x targets are never dialled:
//! the job's `proxy_url` is a loopback listener that never answers. Fails (never skips)
//! when /usr/bin/prometheus is missing.

use std::ops::ControlFlow;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ipocket_connectors::remote::RemoteOptions;
use ipocket_connectors::sd_inventory::{InventoryFormat, InventoryUrl};
use ipocket_connectors::sd_updater::{watch, write_cycle, SdSource, SdUpdaterConfig};
use ipocket_core::{parse_bundle_json, Actor, Inventory};
use ipocket_testkit::peer::Peer;
use ipocket_testkit::runtime;
use ipocket_testkit::stub::{Canned, Stub};

fn add_assets(db: &Path, ips: &[&str]) {
    let mut inv = Inventory::open(db).unwrap();
    let assets: Vec<String> = ips
        .iter()
        .map(|ip| format!(r#"{{"ip_address":"{ip}","type":"OS"}}"#))
        .collect();
    let json = format!(
        r#"{{"schema_version":"1","data":{{"ip_assets":[{}]}}}}"#,
        assets.join(",")
    );
    let plan = inv
        .plan(
            parse_bundle_json(json.as_bytes()).unwrap(),
            &Default::default(),
        )
        .unwrap();
    inv.apply(&Actor::system(), &plan).unwrap();
}

#[test]
fn prometheus_picks_up_the_written_file_and_its_updates() {
    // a loopback "proxy" that accepts nothing: scrapes of the fake targets go nowhere else
    let sink = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let sink_addr = sink.local_addr().unwrap();
    let prom = Peer::prometheus_with_config(|work| {
        format!(
            "global:\n  scrape_interval: 30s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: file_sd\n    proxy_url: http://{sink_addr}\n    file_sd_configs:\n      - files: ['{}/targets/*.json']\n        refresh_interval: 1s\n",
            work.display()
        )
    });
    let targets_dir = prom.work.path().join("targets");
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("inv.db");
    add_assets(&db, &["10.20.0.1", "10.20.0.2"]);

    let mut cfg = SdUpdaterConfig::new(&db, &targets_dir.join("ipocket.json"));
    cfg.sd
        .extra_labels
        .insert("job".into(), "ipam-nodes".into());
    cfg.interval = Duration::from_millis(100);
    let r = runtime().block_on(write_cycle(&cfg)).unwrap();
    assert_eq!((r.groups, r.targets, r.written), (1, 2, true));
    let a = prom.wait_for_active_targets("file_sd", 2);
    assert_eq!(a[0].0, "10.20.0.1:9100");
    assert_eq!(a[1].0, "10.20.0.2:9100");
    assert_eq!(a[0].1, "ipam-nodes");
    assert!(a[0].2.ends_with("/targets/ipocket.json"), "{a:?}");

    // the watch loop writes the next change; only ipocket.json is ever in the folder
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let outcomes = Arc::new(Mutex::new(Vec::new()));
    let seen = outcomes.clone();
    let cfg2 = cfg.clone();
    let loop_thread = std::thread::spawn(move || {
        runtime().block_on(watch(&cfg2, stop_rx, |r| {
            seen.lock()
                .unwrap()
                .push(r.as_ref().map(|r| r.targets).map_err(|e| e.to_string()));
            ControlFlow::<()>::Continue(())
        }));
    });
    add_assets(&db, &["10.20.0.3"]);
    let a = prom.wait_for_active_targets("file_sd", 3);
    assert_eq!(a[2].0, "10.20.0.3:9100");
    let names: Vec<String> = std::fs::read_dir(&targets_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["ipocket.json"]);
    stop_tx.send(true).unwrap();
    loop_thread.join().unwrap();
    assert!(outcomes.lock().unwrap().iter().any(|o| o == &Ok(3)));
    assert!(!prom.log().contains("Error reading file"), "{}", prom.log());
    drop(sink);
}

#[test]
fn a_failing_cycle_keeps_the_previous_file_and_the_loop_running() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("t.json");
    std::fs::write(
        &target,
        "[{\"targets\":[\"10.0.0.9:9100\"],\"labels\":{}}]\n",
    )
    .unwrap();
    let mut cfg = SdUpdaterConfig::new(&dir.path().join("missing.db"), &target);
    cfg.interval = Duration::from_millis(20);
    cfg.retries = 1;
    cfg.min_delay = Duration::from_millis(5);
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let errors = Arc::new(Mutex::new(0usize));
    let e2 = errors.clone();
    let rt = runtime();
    rt.block_on(async {
        let stopper = async {
            while *errors.lock().unwrap() < 3 {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            stop_tx.send(true).unwrap();
        };
        let run = watch(&cfg, stop_rx, |r| {
            assert!(r
                .as_ref()
                .unwrap_err()
                .to_string()
                .contains("does not exist"));
            *e2.lock().unwrap() += 1;
            ControlFlow::<()>::Continue(())
        });
        tokio::join!(run, stopper);
    });
    assert!(*errors.lock().unwrap() >= 3);
    assert!(std::fs::read_to_string(&target)
        .unwrap()
        .contains("10.0.0.9:9100"));
    assert!(!dir.path().join("missing.db").exists());
}

/// Seed 004's inventory service: `GET /inventory` answers a JSON list of host names.
fn inventory_service(body: &str) -> Stub {
    Stub::start(Canned {
        status: 200,
        content_type: "application/json",
        body: body.to_string(),
        delay: Duration::ZERO,
        require_auth: None,
    })
}

fn url_config(url: &str, format: InventoryFormat, targets: &Path) -> SdUpdaterConfig {
    let source = InventoryUrl::new(url, format, None, &RemoteOptions::default()).unwrap();
    SdUpdaterConfig::with_source(SdSource::Url(Box::new(source)), targets)
}

#[test]
fn the_seeds_host_list_is_detected_and_written_as_the_seed_did_for_prometheus() {
    let inventory = inventory_service(r#"["sensor_0", "sensor_1", "sensor_1", "10.0.0.5:9200"]"#);
    let sink = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let sink_addr = sink.local_addr().unwrap();
    let prom = Peer::prometheus_with_config(|work| {
        format!(
            "global:\n  scrape_interval: 30s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: file_sd\n    proxy_url: http://{sink_addr}\n    file_sd_configs:\n      - files: ['{}/targets/*.json']\n        refresh_interval: 1s\n",
            work.display()
        )
    });
    let file = prom.work.path().join("targets/targets.json");
    let url = format!("{}/inventory", inventory.url());
    let cfg = url_config(&url, InventoryFormat::Auto, &file);
    let r = runtime().block_on(write_cycle(&cfg)).unwrap();
    assert_eq!((r.groups, r.targets), (1, 3));
    // the URL is fetched as given (not as an ipocket server's /api/v1/sd)
    assert_eq!(inventory.seen.lock().unwrap()[0].0, "/inventory");
    let written: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(
        written,
        serde_json::json!([{
            "targets": ["sensor_0:9100", "sensor_1:9100", "10.0.0.5:9200"],
            "labels": {"__metrics_path__": "/metrics", "job": "sensors", "environment": "production"}
        }])
    );
    let a = prom.wait_for_active_targets("file_sd", 3);
    let seen: Vec<(&str, &str)> = a.iter().map(|t| (t.0.as_str(), t.1.as_str())).collect();
    assert!(seen.contains(&("sensor_0:9100", "sensors")), "{a:?}");
    assert!(seen.contains(&("10.0.0.5:9200", "sensors")), "{a:?}");

    // labels given replace the seed's; --inventory-format hosts reads the same answer
    let mut cfg = url_config(&url, InventoryFormat::Hosts, &file);
    cfg.sd.extra_labels.insert("job".into(), "edge".into());
    let g = runtime()
        .block_on(ipocket_connectors::sd_updater::target_groups(&cfg))
        .unwrap();
    assert_eq!(g[0].labels.get("job").map(String::as_str), Some("edge"));
    assert!(!g[0].labels.contains_key("environment"));
    drop(sink);
}

#[test]
fn an_http_sd_answer_passes_through_and_a_bad_host_list_keeps_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("t.json");
    let groups = inventory_service(r#"[{"targets": ["10.9.0.1:9100"], "labels": {"job": "own"}}]"#);
    let mut cfg = url_config(
        &format!("{}/sd", groups.url()),
        InventoryFormat::Auto,
        &file,
    );
    cfg.sd.extra_labels.insert("job".into(), "given".into());
    cfg.sd.extra_labels.insert("site".into(), "a".into());
    runtime().block_on(write_cycle(&cfg)).unwrap();
    let written: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(
        written,
        serde_json::json!([{"targets": ["10.9.0.1:9100"], "labels": {"job": "own", "site": "a"}}])
    );

    let before = std::fs::read(&file).unwrap();
    let bad = inventory_service(r#"["sensor_0", 7]"#);
    let url = format!("{}/inventory", bad.url());
    let e = runtime()
        .block_on(write_cycle(&url_config(&url, InventoryFormat::Auto, &file)))
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("inventory {url}: [1] is a number, expected a host name (a JSON string)")
    );
    // hosts asked for, target groups answered: refused, not guessed
    let e = runtime()
        .block_on(write_cycle(&url_config(
            &groups.url(),
            InventoryFormat::Hosts,
            &file,
        )))
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("[0] is an object, expected a host name"),
        "{e}"
    );
    assert_eq!(std::fs::read(&file).unwrap(), before);

    // a page (an ipocket server's UI under a path prefix): read as ipocket's SD endpoint
    let page = Stub::start(Canned {
        status: 200,
        content_type: "text/html",
        body: "<html>ipocket</html>".into(),
        delay: Duration::ZERO,
        require_auth: None,
    });
    let cfg = url_config(
        &format!("{}/ipocket", page.url()),
        InventoryFormat::Auto,
        &file,
    );
    assert_eq!(cfg.source.to_string(), format!("{}/ipocket", page.url()));
    runtime().block_on(write_cycle(&cfg)).unwrap_err();
    let seen: Vec<String> = page
        .seen
        .lock()
        .unwrap()
        .iter()
        .map(|s| s.0.clone())
        .collect();
    assert_eq!(seen[0], "/ipocket");
    assert!(
        seen[1].starts_with("/ipocket/api/v1/sd?port=9100"),
        "{seen:?}"
    );
    assert_eq!(std::fs::read(&file).unwrap(), before);
}
