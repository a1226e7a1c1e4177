//! Several `ipocket serve` replicas on one PostgreSQL (the testkit's real PostgreSQL 15):
//! they start on a schema `ipocket migrate` made or refuse a stale one (`--no-migrate`),
//! answer `/health` with the database, share sessions, elect one leader of the retention
//! sweep that another replica replaces when it dies, never hand out one address twice
//! when clients allocate through both at once, and a replica killed mid-import leaves the
//! database as before the import for the other to go on.

use std::collections::BTreeSet;
use std::io::{BufReader, Read, Write};
use std::net::{Ipv4Addr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ipocket_db::{Database, DbUrl};
use ipocket_testkit::postgres::Postgres;
use ipocket_testkit::serve_addr::read_listen_addr;
use serde_json::json;

use crate::common::*;

/// `ipocket serve --db URL` with its log (standard error) in `log`.
fn replica(url: &str, log: &Path, extra: &[&str]) -> Server {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ipocket"));
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--db", url])
        .args(extra)
        .env("IPOCKET_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env_remove("IPOCKET_DB")
        .env_remove("IPOCKET_INGEST_RETENTION_HOURS")
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(log).unwrap());
    let mut child = cmd.spawn().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let (addr, first_lines) = read_listen_addr(&mut stdout);
    Server {
        child,
        addr,
        first_lines,
        _stdout: stdout,
        _dir: tempfile::tempdir().unwrap(),
        db: PathBuf::from(url),
        _postgres: None,
    }
}

/// A fresh database on the shared PostgreSQL, migrated by `ipocket migrate`; its URL.
fn migrated_db(pg: &Postgres) -> String {
    let url = pg.fresh_db();
    let migrate = Command::new(env!("CARGO_BIN_EXE_ipocket"))
        .args(["migrate", "--db", &url])
        .env_remove("IPOCKET_DB")
        .output()
        .unwrap();
    assert!(migrate.status.success(), "{migrate:?}");
    url
}

/// The database name of a testkit URL (for `Postgres::psql`).
fn db_name(url: &str) -> &str {
    url.rsplit('/').next().unwrap()
}

fn leads_the_sweep(log: &Path) -> bool {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .contains("this replica leads the ingest retention sweep")
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(Instant::now() < deadline, "waited 20 s for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// On an empty database `--no-migrate` refuses to start and says what to run; nothing is
/// created.
#[test]
fn no_migrate_refuses_an_empty_postgres() {
    let pg = Postgres::shared();
    let url = pg.fresh_db();
    let out = Command::new(env!("CARGO_BIN_EXE_ipocket"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--no-migrate",
            "--db",
            &url,
        ])
        .env_remove("IPOCKET_DB")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("ipocket migrate"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(
        pg.psql(
            db_name(&url),
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
        )
        .trim(),
        "0"
    );
}

/// Two replicas after `ipocket migrate`: both healthy on PostgreSQL, a session made on one
/// works on the other, exactly one sweeps, and when it dies the other takes over.
#[test]
fn two_replicas_share_sessions_and_elect_one_sweeper() {
    let url = migrated_db(Postgres::shared());
    let dir = tempfile::tempdir().unwrap();
    let (log_a, log_b) = (dir.path().join("a.log"), dir.path().join("b.log"));
    // 0.001 h: a sweep every second.
    let flags = ["--no-migrate", "--ingest-retention-hours", "0.001"];
    let a = replica(&url, &log_a, &flags);
    let b = replica(&url, &log_b, &flags);
    for srv in [&a, &b] {
        let h = get(srv, "/health", None);
        assert_eq!(h.status, 200, "{}", h.text());
        let v = h.json();
        assert_eq!(v["database"]["backend"], "postgres");
        assert_eq!(v["database"]["schema_current"], true);
    }

    let token = login(&a, "admin", ADMIN_PASSWORD);
    let me = get(&b, "/api/v1/auth/me", Some(&token));
    assert_eq!(me.status, 200, "{}", me.text());
    assert_eq!(me.json()["username"], "admin");

    wait_for("a leader of the sweep", || {
        leads_the_sweep(&log_a) || leads_the_sweep(&log_b)
    });
    // Several periods later there is still one.
    std::thread::sleep(Duration::from_secs(3));
    assert!(
        leads_the_sweep(&log_a) != leads_the_sweep(&log_b),
        "exactly one replica sweeps"
    );
    let (leader, follower_log) = if leads_the_sweep(&log_a) {
        (a, log_b)
    } else {
        (b, log_a)
    };
    drop(leader);
    wait_for("the other replica to take over", || {
        leads_the_sweep(&follower_log)
    });
}

/// A connector job whose replica is gone is interrupted, the jobs of running replicas are
/// left alone: at once by a replica that starts, and, when a replica dies while another
/// runs, by the leader of the orphaned-job check within one period (30 s).
#[test]
fn the_jobs_of_a_replica_that_died_are_interrupted_and_no_others() {
    let pg = Postgres::shared();
    let url = migrated_db(pg);
    let db = db_name(&url);
    let dir = tempfile::tempdir().unwrap();
    let a = replica(&url, &dir.path().join("a.log"), &["--no-migrate"]);
    let name_a = pg
        .psql(
            db,
            "SELECT DISTINCT application_name FROM pg_stat_activity \
             WHERE datname = current_database() AND application_name LIKE 'ipocket serve %'",
        )
        .trim()
        .to_string();
    assert!(!name_a.is_empty() && !name_a.contains('\n'), "{name_a:?}");
    let running_job = |owner: &str| -> i64 {
        pg.psql(
            db,
            &format!(
                "INSERT INTO connector_jobs (connector, mode, state, username, created_at, \
                 started_at, inputs, owner) VALUES ('prometheus', 'dry-run', 'running', 'ops', \
                 1, 1, '{{}}', '{owner}') RETURNING id"
            ),
        )
        .trim()
        .parse()
        .unwrap()
    };
    let of_a = running_job(&name_a);
    let of_gone = running_job("ipocket serve gone 00000000");
    let state = |id: i64| {
        pg.psql(
            db,
            &format!("SELECT state FROM connector_jobs WHERE id = {id}"),
        )
        .trim()
        .to_string()
    };

    let b = replica(&url, &dir.path().join("b.log"), &["--no-migrate"]);
    assert_eq!(
        state(of_gone),
        "interrupted",
        "B's start interrupts the gone replica's job"
    );
    assert_eq!(state(of_a), "running", "A still runs its job");
    assert_eq!(get(&b, "/health", None).status, 200);

    drop(a); // killed
    let deadline = Instant::now() + Duration::from_secs(90);
    while state(of_a) != "interrupted" {
        assert!(
            Instant::now() < deadline,
            "A's job still {} 90 s after A died",
            state(of_a)
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    let error = pg.psql(
        db,
        &format!("SELECT error FROM connector_jobs WHERE id = {of_a}"),
    );
    assert!(error.contains("stopped before the job finished"), "{error}");
}

/// Clients allocating from one range through both replicas at once (4 threads × 25 on
/// each) are handed 200 different addresses, the range's 200 lowest, each stored once with
/// its one audit row. None is refused: the inventory's advisory lock serialises the writes
/// of both replicas, so an allocation never loses a race and needs no retry, let alone the
/// 409 that follows failed retries.
#[test]
fn concurrent_allocations_through_both_replicas_never_collide() {
    const CLIENTS_PER_REPLICA: usize = 4;
    const ALLOCATIONS_PER_CLIENT: usize = 25;
    let total = 2 * CLIENTS_PER_REPLICA * ALLOCATIONS_PER_CLIENT;
    let pg = Postgres::shared();
    let url = migrated_db(pg);
    let dir = tempfile::tempdir().unwrap();
    let a = replica(&url, &dir.path().join("a.log"), &["--no-migrate"]);
    let b = replica(&url, &dir.path().join("b.log"), &["--no-migrate"]);
    let token = login(&a, "admin", ADMIN_PASSWORD);
    let range = send_json(
        &a,
        "POST",
        "/api/v1/ranges",
        Some(&token),
        json!({"name": "pool", "cidr": "10.40.0.0/24"}),
    );
    assert_eq!(range.status, 201, "{}", range.text());
    let path = format!("/api/v1/ranges/{}/allocate", range.json()["id"]);

    // (status, the address handed out or the error body) of every allocation.
    let answers: Vec<(u16, String)> = std::thread::scope(|s| {
        let clients: Vec<_> = [&a, &b]
            .into_iter()
            .flat_map(|srv| std::iter::repeat_n(srv, CLIENTS_PER_REPLICA))
            .map(|srv| {
                let (path, token) = (&path, &token);
                s.spawn(move || {
                    (0..ALLOCATIONS_PER_CLIENT)
                        .map(|_| {
                            let r =
                                send_json(srv, "POST", path, Some(token), json!({"type": "VM"}));
                            let what = match r.status {
                                201 => r.json()["ip_address"].as_str().unwrap().to_string(),
                                _ => r.text(),
                            };
                            (r.status, what)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        clients
            .into_iter()
            .flat_map(|c| c.join().unwrap())
            .collect()
    });
    let refused: Vec<_> = answers
        .iter()
        .filter(|(status, _)| *status != 201)
        .collect();
    assert!(
        refused.is_empty(),
        "{} of {total} allocations refused: {refused:?}",
        refused.len()
    );
    let handed_out: BTreeSet<Ipv4Addr> =
        answers.iter().map(|(_, ip)| ip.parse().unwrap()).collect();
    assert_eq!(handed_out.len(), total, "an address was handed out twice");
    let lowest: BTreeSet<Ipv4Addr> = (1..=total as u8)
        .map(|i| Ipv4Addr::new(10, 40, 0, i))
        .collect();
    assert_eq!(handed_out, lowest);

    // Both replicas see every asset and its audit row.
    for srv in [&a, &b] {
        let count = |path: &str| get(srv, path, Some(&token)).json()["total"].clone();
        assert_eq!(count("/api/v1/ip-assets?per_page=1"), total);
        assert_eq!(
            count("/api/v1/audit-log?per_page=1&target_type=IP_ASSET"),
            total
        );
    }
    // In the database: one row per address handed out, one CREATE audit row for each.
    let addresses = |sql: &str| -> BTreeSet<Ipv4Addr> {
        pg.psql(db_name(&url), sql)
            .lines()
            .map(|l| l.parse().unwrap())
            .collect()
    };
    assert_eq!(addresses("SELECT ip_address FROM ip_assets"), handed_out);
    let audited = pg.psql(
        db_name(&url),
        "SELECT count(*) FROM audit_logs WHERE target_type = 'IP_ASSET' AND action = 'CREATE'",
    );
    assert_eq!(audited.trim(), total.to_string());
    assert_eq!(
        addresses("SELECT target_label FROM audit_logs WHERE target_type = 'IP_ASSET'"),
        handed_out
    );
}

/// `POST /api/v1/import?apply=1` of `bundle` to `addr`; the raw answer, empty when the
/// server died before answering.
fn send_import(addr: &str, token: &str, bundle: &[u8]) -> Vec<u8> {
    let head = format!(
        "POST /api/v1/import?apply=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        bundle.len()
    );
    let mut s = TcpStream::connect(addr).unwrap();
    let _ = s.write_all(head.as_bytes());
    let _ = s.write_all(bundle);
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    raw
}

/// Whether a transaction is writing `ip_assets` of this database now: the row-exclusive
/// lock an INSERT or UPDATE takes is held until the transaction ends.
fn writing_assets(watcher: &Database) -> bool {
    let held: i64 = watcher
        .read(|c| {
            c.query_one(
                "SELECT count(*) FROM pg_locks
                 WHERE locktype = 'relation' AND relation = 'ip_assets'::regclass
                   AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
                   AND mode = 'RowExclusiveLock' AND granted",
                &[],
            )?
            .get(0)
        })
        .unwrap();
    held > 0
}

/// Every table an import writes, and its audit rows, counted in one snapshot.
const IMPORT_COUNTS: &str =
    "SELECT (SELECT count(*) FROM vendors), (SELECT count(*) FROM projects),
    (SELECT count(*) FROM tags), (SELECT count(*) FROM hosts), (SELECT count(*) FROM ip_assets),
    (SELECT count(*) FROM ip_asset_tags),
    (SELECT count(*) FROM audit_logs WHERE target_type NOT IN ('USER', 'API_TOKEN'))";

/// [`IMPORT_COUNTS`] once `synthetic_bundle_json(n, _)` is imported (`runs` times): 5
/// vendors, 50 projects, 20 tags, n/10 hosts, n assets with 2 tags each, and the audit rows
/// of all these and of each run.
fn imported(n: u64, runs: u64) -> String {
    let hosts = n / 10;
    format!(
        "5|50|20|{hosts}|{n}|{}|{}",
        2 * n,
        5 + 50 + 20 + hosts + n + runs
    )
}

/// Replica A is SIGKILLed while its import's transaction writes the IP assets (20 000 of
/// them, with 2 000 hosts, projects, vendors and tags). Through replica B the database is
/// as before the import (or, had A committed just before the kill, as after it), never in
/// between: the same for every table and the audit log. B goes on serving and runs the
/// same import to completion.
///
/// The kill is timed by the database, not by the clock: it lands while A's transaction
/// holds the row lock on `ip_assets`, whatever the speed of the machine.
#[test]
fn a_replica_killed_mid_import_leaves_it_all_or_nothing_and_the_other_goes_on() {
    let n: u64 = 20_000;
    let pg = Postgres::shared();
    let url = migrated_db(pg);
    let dir = tempfile::tempdir().unwrap();
    let mut a = replica(&url, &dir.path().join("a.log"), &["--no-migrate"]);
    let b = replica(&url, &dir.path().join("b.log"), &["--no-migrate"]);
    let token = login(&a, "admin", ADMIN_PASSWORD);
    let bundle = ipocket_core::import::synthetic_bundle_json(n as usize, "first");
    let watcher = Database::open(&DbUrl::parse(&url).unwrap(), &[]).unwrap();
    let counts = || pg.psql(db_name(&url), IMPORT_COUNTS).trim().to_string();
    let before = counts();
    assert_eq!(before, "0|0|0|0|0|0|0");

    let started = Instant::now();
    let sender = std::thread::spawn({
        let (addr, token, bundle) = (a.addr.clone(), token.clone(), bundle.clone());
        move || send_import(&addr, &token, &bundle)
    });
    let deadline = started + Duration::from_secs(120);
    while !writing_assets(&watcher) {
        assert!(
            !sender.is_finished(),
            "the import was answered before its write of the IP assets was seen: {}",
            String::from_utf8_lossy(&sender.join().unwrap())
        );
        assert!(Instant::now() < deadline, "no write of the import in 120 s");
        std::thread::sleep(Duration::from_millis(2));
    }
    let killed_after = started.elapsed();
    a.child.kill().unwrap(); // SIGKILL
    a.child.wait().unwrap();
    let answer = sender.join().unwrap();
    // PostgreSQL ends A's transaction when it finds the connection gone.
    wait_for("the killed replica's transaction to end", || {
        !writing_assets(&watcher)
    });

    // Through B: nothing of the import, or all of it, in the data and the audit log.
    let h = get(&b, "/health", None);
    assert_eq!(h.status, 200, "{}", h.text());
    let through_b = |path: &str| {
        let r = get(&b, path, Some(&token));
        assert_eq!(r.status, 200, "{}", r.text());
        r.json()["total"].as_u64().unwrap()
    };
    let seen = [
        through_b("/api/v1/ip-assets?per_page=1"),
        through_b("/api/v1/audit-log?per_page=1&target_type=IP_ASSET"),
        through_b("/api/v1/audit-log?per_page=1&target_type=HOST"),
        through_b("/api/v1/audit-log?per_page=1&target_type=IMPORT_RUN"),
    ];
    let after_kill = counts();
    let rolled_back = seen == [0, 0, 0, 0] && after_kill == before;
    let committed = seen == [n, n, n / 10, 1] && after_kill == imported(n, 1);
    eprintln!(
        "A killed {killed_after:?} after the request, as its transaction wrote the IP assets: \
         {} (tables and audit rows: {after_kill})",
        match (rolled_back, committed) {
            (true, _) => "rolled back",
            (_, true) => "committed",
            _ => "half written",
        }
    );
    assert!(
        rolled_back || committed,
        "half an import: assets, asset/host/run audit rows {seen:?}; tables {after_kill} (before: {before})"
    );
    // A answered only if it committed.
    assert!(
        answer.is_empty() || committed,
        "{}",
        String::from_utf8_lossy(&answer)
    );

    // B applies the same import whole.
    let started = Instant::now();
    let r = parse_response(&send_import(&b.addr, &token, &bundle));
    assert_eq!(r.status, 200, "{}", r.text());
    eprintln!("the same import through B: {:?}", started.elapsed());
    assert_eq!(
        [
            through_b("/api/v1/ip-assets?per_page=1"),
            through_b("/api/v1/audit-log?per_page=1&target_type=IP_ASSET"),
            through_b("/api/v1/audit-log?per_page=1&target_type=HOST"),
            through_b("/api/v1/audit-log?per_page=1&target_type=IMPORT_RUN"),
        ],
        [n, n, n / 10, if committed { 2 } else { 1 }]
    );
    assert_eq!(counts(), imported(n, if committed { 2 } else { 1 }));
}
