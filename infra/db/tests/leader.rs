//! Leadership of periodic work on the real PostgreSQL 15 the testkit starts (fails when it
//! is missing): of two handles one leads; dropping the leader, or losing its connection,
//! lets the other lead; on SQLite every handle leads.

use ipocket_db::{Database, DbUrl, PgDatabase, PoolLimits};
use ipocket_testkit::postgres::Postgres;

const DUTY: i64 = 0x6c65_6164;
const OTHER_DUTY: i64 = DUTY + 1;

fn two_handles() -> (String, PgDatabase, PgDatabase) {
    let url = Postgres::shared().fresh_db();
    let DbUrl::Postgres(config, _) = DbUrl::parse(&url).unwrap() else {
        unreachable!()
    };
    let a = PgDatabase::connect(&config, PoolLimits::default()).unwrap();
    let b = PgDatabase::connect(&config, PoolLimits::default()).unwrap();
    (url, a, b)
}

#[test]
fn one_of_two_handles_leads_and_dropping_it_lets_the_other_lead() {
    let (_url, a, b) = two_handles();
    let lead = a.try_lead(DUTY).unwrap().expect("the first handle leads");
    assert!(lead.still_held());
    assert!(b.try_lead(DUTY).unwrap().is_none(), "one leader at a time");
    assert!(
        a.try_lead(DUTY).unwrap().is_none(),
        "another connection of the same handle does not lead twice"
    );
    let other = b.try_lead(OTHER_DUTY).unwrap();
    assert!(other.is_some(), "each duty has its own leader");
    drop(lead);
    // The dedicated connection closes in the background: the lock is free soon after.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let taken = loop {
        if let Some(l) = b.try_lead(DUTY).unwrap() {
            break l;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the lock was not freed"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert!(taken.still_held());
    assert!(a.try_lead(DUTY).unwrap().is_none());
}

#[test]
fn a_leader_whose_connection_is_killed_steps_down_and_another_leads() {
    let (url, a, b) = two_handles();
    let lead = a.try_lead(DUTY).unwrap().unwrap();
    let db = url.rsplit('/').next().unwrap();
    // What a network failure or a PostgreSQL restart does to the leader's session. pg_locks
    // covers every database of the server: only this test's may be hit, as the other tests
    // of this file take the same lock in theirs at the same time.
    Postgres::shared().psql(
        db,
        &format!(
            "SELECT pg_terminate_backend(pid) FROM pg_locks \
             WHERE locktype = 'advisory' AND objid = {} AND granted \
             AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            DUTY & 0xffff_ffff
        ),
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while lead.still_held() {
        assert!(std::time::Instant::now() < deadline, "still leading");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(
        b.try_lead(DUTY).unwrap().is_some(),
        "the other handle leads"
    );
}

#[test]
fn on_sqlite_every_handle_leads() {
    let dir = tempfile::tempdir().unwrap();
    let url = DbUrl::parse(dir.path().join("a.db").to_str().unwrap()).unwrap();
    let a = Database::open(&url, &[]).unwrap();
    let b = Database::open(&url, &[]).unwrap();
    let la = a.try_lead(DUTY).unwrap().unwrap();
    let lb = b.try_lead(DUTY).unwrap().unwrap();
    assert!(la.still_held() && lb.still_held());
}

#[test]
fn database_try_lead_on_postgres_is_the_pool_handles() {
    let (url, a, _b) = two_handles();
    let db = Database::open(&DbUrl::parse(&url).unwrap(), &[]).unwrap();
    let lead = db.try_lead(DUTY).unwrap().expect("free: leads");
    assert!(a.try_lead(DUTY).unwrap().is_none());
    drop(lead);
}
