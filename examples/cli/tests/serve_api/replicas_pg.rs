//! Several `ipocket serve` replicas on one PostgreSQL (the testkit's real PostgreSQL 15):
//! they start on a schema `ipocket migrate` made or refuse a stale one (`--no-migrate`),
//! answer `/health` with the database, share sessions, and elect one leader of the retention
//! sweep that another replica replaces when it dies.

use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ipocket_testkit::postgres::Postgres;
use ipocket_testkit::serve_addr::read_listen_addr;

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
    let name = url.rsplit('/').next().unwrap();
    assert_eq!(
        pg.psql(
            name,
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
    let pg = Postgres::shared();
    let url = pg.fresh_db();
    let migrate = Command::new(env!("CARGO_BIN_EXE_ipocket"))
        .args(["migrate", "--db", &url])
        .env_remove("IPOCKET_DB")
        .output()
        .unwrap();
    assert!(migrate.status.success(), "{migrate:?}");
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
