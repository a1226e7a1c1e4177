//! The Prometheus configurations of the docs work: every ```` ```yaml ```` block of `docs/*.md`
//! and `README.md` is marked, and each `<!-- prometheus-config -->` block is checked with
//! `promtool check config` and run by the real Prometheus 2.42 against a real `ipocket serve`
//! (its address and a real API token substituted) until every job has discovered (and the
//! static ones scraped) what ipocket serves; `<!-- prometheus-rules -->` blocks go through
//! `promtool check rules` and are loaded by the configs that name a rule folder.

#[allow(dead_code)]
#[path = "serve_api/common.rs"]
mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use ipocket_testkit::peer::{self, Peer};
use ipocket_testkit::rules::{promtool_check, require_peer, PROMTOOL};
use serde_json::{json, Value};

use common::*;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Marker {
    /// A whole Prometheus configuration (`prometheus.yml`).
    Config,
    /// A Prometheus rule file.
    Rules,
    /// Another YAML format (agent configuration, alert template).
    NotPrometheus,
}

struct Block {
    /// `docs/server.md:268`: where the fence opens.
    at: String,
    marker: Marker,
    text: String,
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The markdown files users read: `README.md` and `docs/*.md`.
fn doc_files() -> Vec<PathBuf> {
    let mut files = vec![root().join("README.md")];
    for e in std::fs::read_dir(root().join("docs")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "md") {
            files.push(p);
        }
    }
    files.sort();
    files
}

/// Every YAML block of the docs with its marker; panics naming each block without one.
fn yaml_blocks() -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut unmarked = Vec::new();
    for file in doc_files() {
        let text = std::fs::read_to_string(&file).unwrap();
        let name = file
            .strip_prefix(root())
            .unwrap_or(&file)
            .display()
            .to_string();
        let name = name.trim_start_matches("./").to_string();
        let lines: Vec<&str> = text.lines().collect();
        let mut i = 0;
        while i < lines.len() {
            let fence = lines[i].trim_start();
            if !fence.starts_with("```") {
                i += 1;
                continue;
            }
            let lang = fence.trim_start_matches('`').trim();
            let end = (i + 1..lines.len())
                .find(|&j| lines[j].trim() == "```")
                .unwrap_or_else(|| panic!("{name}:{}: unclosed code block", i + 1));
            if matches!(lang, "yaml" | "yml") {
                let at = format!("{name}:{}", i + 1);
                let before = lines[..i].iter().rev().find(|l| !l.trim().is_empty());
                let marker = match before.map(|l| l.trim()) {
                    Some("<!-- prometheus-config -->") => Some(Marker::Config),
                    Some("<!-- prometheus-rules -->") => Some(Marker::Rules),
                    Some(l) if l.starts_with("<!-- not-prometheus:") => Some(Marker::NotPrometheus),
                    _ => None,
                };
                match marker {
                    Some(marker) => blocks.push(Block {
                        at,
                        marker,
                        text: lines[i + 1..end].join("\n") + "\n",
                    }),
                    None => unmarked.push(at),
                }
            }
            i = end + 1;
        }
    }
    assert!(
        unmarked.is_empty(),
        "YAML blocks without a marker (put `<!-- prometheus-config -->`, `<!-- prometheus-rules -->` \
         or `<!-- not-prometheus: what it is -->` on the line before): {unmarked:?}"
    );
    blocks
}

#[test]
fn every_yaml_block_of_the_docs_is_marked() {
    let blocks = yaml_blocks();
    let count = |m| blocks.iter().filter(|b| b.marker == m).count();
    assert!(count(Marker::Config) >= 4, "{}", count(Marker::Config));
    assert!(count(Marker::Rules) >= 1);
}

/// Where a docs path points, in this test's world.
struct World {
    addr: String,
    token_file: PathBuf,
    targets_dir: PathBuf,
    rules_dir: PathBuf,
}

impl World {
    fn substitute(&self, block: &Block) -> String {
        let text = block
            .text
            .replace("127.0.0.1:8000", &self.addr)
            .replace("/etc/prometheus/ipocket.token", &path(&self.token_file))
            .replace("/etc/prometheus/targets", &path(&self.targets_dir))
            .replace("/etc/prometheus/rules/ipocket", &path(&self.rules_dir));
        assert!(
            !text.contains("/etc/") && !text.contains(":8000"),
            "{}: a path or address this test does not know; teach World::substitute:\n{text}",
            block.at
        );
        // Scrape and evaluate every second (the block's own `global:` wins).
        if text.contains("global:") {
            text
        } else {
            format!("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n{text}")
        }
    }
}

fn path(p: &Path) -> String {
    p.display().to_string()
}

/// An inventory with two loopback assets, an API token of scopes metrics and sd in a file (as
/// `ipocket tokens create … > file` writes it), the file_sd file of `ipocket sd write`.
fn world(srv: &Server, work: &Path) -> (World, String) {
    let admin = login(srv, "admin", ADMIN_PASSWORD);
    let post = |path: &str, body: Value| {
        let r = send_json(srv, "POST", path, Some(&admin), body);
        assert!(r.status == 201, "{path}: {}", r.text());
        r.json()
    };
    let project = post("/api/v1/projects", json!({"name": "core"}));
    post(
        "/api/v1/ip-assets",
        json!({"ip_address": "127.0.0.2", "type": "OS", "project_id": project["id"]}),
    );
    post(
        "/api/v1/ip-assets",
        json!({"ip_address": "127.0.0.3", "type": "VM"}),
    );
    let created = post(
        "/api/v1/tokens",
        json!({"name": "prometheus", "scopes": ["metrics", "sd"]}),
    );
    let token = created["token"].as_str().unwrap().to_string();
    let w = World {
        addr: srv.addr.clone(),
        token_file: work.join("ipocket.token"),
        targets_dir: work.join("targets"),
        rules_dir: work.join("rules"),
    };
    std::fs::write(&w.token_file, format!("{token}\n")).unwrap();
    std::fs::create_dir_all(&w.rules_dir).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_ipocket"))
        .args(["sd", "write", "--db"])
        .arg(&srv.db)
        .arg("--targets-file")
        .arg(w.targets_dir.join("ipocket.json"))
        .env_remove("IPOCKET_DB")
        .env_remove("INVENTORY_URL")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (w, token)
}

/// The addresses of a target-group list.
fn addresses(groups: &Value) -> BTreeSet<String> {
    groups
        .as_array()
        .unwrap_or_else(|| panic!("not a target-group list: {groups}"))
        .iter()
        .flat_map(|g| g["targets"].as_array().unwrap().iter())
        .map(|t| t.as_str().unwrap().to_string())
        .collect()
}

/// What a job of the configuration should discover: the targets ipocket serves at its
/// http_sd URLs (asked here with the same token), those of its file_sd files, its static ones.
fn expected_targets(job: &Value, srv: &Server, token: &str) -> BTreeSet<String> {
    let mut want = BTreeSet::new();
    for sd in job["http_sd_configs"].as_array().into_iter().flatten() {
        let url = sd["url"].as_str().unwrap();
        let path = url
            .split_once(&srv.addr)
            .expect("the SD URL is ipocket's")
            .1;
        let r = get(srv, path, Some(token));
        assert_eq!(r.status, 200, "{url}: {}", r.text());
        want.extend(addresses(&r.json()));
    }
    for sd in job["file_sd_configs"].as_array().into_iter().flatten() {
        for glob in sd["files"].as_array().unwrap() {
            let (dir, pattern) = glob.as_str().unwrap().rsplit_once('/').unwrap();
            let suffix = pattern.trim_start_matches('*');
            for e in std::fs::read_dir(dir).unwrap() {
                let p = e.unwrap().path();
                if p.to_string_lossy().ends_with(suffix) {
                    let text = std::fs::read_to_string(&p).unwrap();
                    want.extend(addresses(&serde_json::from_str(&text).unwrap()));
                }
            }
        }
    }
    for sc in job["static_configs"].as_array().into_iter().flatten() {
        want.extend(addresses(&json!([sc])));
    }
    want
}

/// Prometheus's active targets of a scrape pool: address → (health, last error).
fn active(prom: &Peer, pool: &str) -> Vec<(String, String, String)> {
    let (status, body) = peer::get(&prom.addr, "/api/v1/targets?state=active").unwrap();
    assert_eq!(status, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    let text = |v: &Value| v.as_str().unwrap_or("").to_string();
    v["data"]["activeTargets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["scrapePool"] == pool)
        .map(|t| {
            (
                text(&t["discoveredLabels"]["__address__"]),
                text(&t["health"]),
                text(&t["lastError"]),
            )
        })
        .collect()
}

/// Waits (30 s at most) until the job's pool holds exactly `want`, and every target that is
/// ipocket itself has been scraped successfully.
fn wait_for_job(prom: &Peer, at: &str, pool: &str, want: &BTreeSet<String>, ipocket: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let now = active(prom, pool);
        let found: BTreeSet<String> = now.iter().map(|t| t.0.clone()).collect();
        let scraped = now.iter().filter(|t| t.0 == ipocket).all(|t| t.1 == "up");
        if &found == want && scraped {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{at}: job {pool} did not discover {want:?} (and scrape ipocket) within 30 s; \
             Prometheus has {now:?}\nlog:\n{}",
            prom.log()
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// The group names the rule blocks define, once Prometheus lists them all.
fn wait_for_rule_groups(prom: &Peer, at: &str, groups: &BTreeSet<String>) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, body) = peer::get(&prom.addr, "/api/v1/rules").unwrap();
        let v: Value = serde_json::from_str(&body).unwrap();
        let loaded: BTreeSet<String> = v["data"]["groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["name"].as_str().unwrap().to_string())
            .collect();
        if groups.is_subset(&loaded) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{at}: rule groups {groups:?} not loaded within 30 s: {loaded:?}"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

#[test]
fn the_prometheus_configurations_of_the_docs_work_against_the_real_prometheus() {
    require_peer();
    let blocks = yaml_blocks();
    let srv = start();
    let work = tempfile::tempdir().unwrap();
    let (world, token) = world(&srv, work.path());

    // Rule files: promtool accepts each; they go into the rule folder configs may load.
    let mut rule_groups = BTreeSet::new();
    for (i, b) in blocks
        .iter()
        .filter(|b| b.marker == Marker::Rules)
        .enumerate()
    {
        let file = world.rules_dir.join(format!("doc-{i}.yml"));
        std::fs::write(&file, &b.text).unwrap();
        let (ok, out) = promtool_check(&file);
        assert!(ok, "{}: promtool check rules refused it:\n{out}", b.at);
        let v: Value = serde_saphyr::from_str(&b.text).unwrap();
        for g in v["groups"].as_array().unwrap() {
            rule_groups.insert(g["name"].as_str().unwrap().to_string());
        }
    }

    for (i, b) in blocks
        .iter()
        .filter(|b| b.marker == Marker::Config)
        .enumerate()
    {
        let config = world.substitute(b);
        let file = work.path().join(format!("prometheus-{i}.yml"));
        std::fs::write(&file, &config).unwrap();
        let out = Command::new(PROMTOOL)
            .args(["check", "config"])
            .arg(&file)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}: promtool check config refused it:\n{config}\n{}{}",
            b.at,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let parsed: Value = serde_saphyr::from_str(&config).unwrap();
        let prom = Peer::prometheus_with_config(|_| config.clone());
        for job in parsed["scrape_configs"].as_array().into_iter().flatten() {
            let pool = job["job_name"].as_str().unwrap();
            let want = expected_targets(job, &srv, &token);
            assert!(!want.is_empty(), "{}: job {pool} has nothing to find", b.at);
            wait_for_job(&prom, &b.at, pool, &want, &srv.addr);
        }
        if parsed.get("rule_files").is_some() {
            assert!(!rule_groups.is_empty());
            wait_for_rule_groups(&prom, &b.at, &rule_groups);
        }
    }
}
