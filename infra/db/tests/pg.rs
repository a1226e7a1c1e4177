//! The migration registry on a real PostgreSQL (Debian's, started by the testkit; these
//! tests fail when it is missing): concurrent migrators, refusal of a newer database, a
//! failing step rolled back, the read-only check of `serve --no-migrate`.

use ipocket_db::{
    check_current_pg, migrate_pg, pg_connect, pg_pool, recorded_version_pg, Component, DbUrl,
    Error, Migration, Step,
};
use ipocket_testkit::postgres::Postgres;
use ipocket_testkit::runtime;

const LOG_V1: Migration = Migration {
    version: 1,
    name: "log table",
    step: Step::Sql(""),
    pg: "CREATE TABLE step_log (version INTEGER NOT NULL); INSERT INTO step_log VALUES (1);",
};

/// Every step fails if run twice (plain CREATE TABLE) and logs itself in `step_log`.
static COUNTED: Component = Component {
    name: "counted",
    migrations: &[
        LOG_V1,
        Migration {
            version: 2,
            name: "notes",
            step: Step::Sql(""),
            pg: "CREATE TABLE notes (id BIGINT PRIMARY KEY); INSERT INTO step_log VALUES (2);",
        },
        Migration {
            version: 3,
            name: "slow step",
            step: Step::Sql(""),
            pg: "SELECT pg_sleep(0.2); CREATE TABLE tags (name TEXT PRIMARY KEY); INSERT INTO step_log VALUES (3);",
        },
    ],
    legacy_version: None,
};

fn config(url: &str) -> ipocket_db::tokio_postgres::Config {
    match DbUrl::parse(url).unwrap() {
        DbUrl::Postgres(config, _) => *config,
        DbUrl::Sqlite(_) => unreachable!(),
    }
}

#[test]
fn four_migrators_at_once_apply_every_step_exactly_once() {
    let pg = Postgres::shared();
    let url = pg.fresh_db();
    let barrier = std::sync::Barrier::new(4);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| {
                    let config = config(&url);
                    barrier.wait();
                    runtime().block_on(migrate_pg(&config, &[&COUNTED]))
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap().expect("every migrator succeeds");
        }
    });
    let db = url.rsplit('/').next().unwrap();
    assert_eq!(
        pg.psql(
            db,
            "SELECT string_agg(version::text, ',' ORDER BY version) FROM step_log"
        )
        .trim(),
        "1,2,3"
    );
    assert_eq!(
        pg.psql(db, "SELECT string_agg(version::text || ' ' || name, ',' ORDER BY version) FROM schema_migrations WHERE component = 'counted'").trim(),
        "1 log table,2 notes,3 slow step"
    );
    // applied_at in SQLite's format (YYYY-MM-DDTHH:MM:SSZ)
    let at = pg.psql(db, "SELECT applied_at FROM schema_migrations LIMIT 1");
    assert_eq!(at.trim().len(), 20, "{at}");
    assert!(at.trim().ends_with('Z'), "{at}");
}

#[test]
fn a_newer_database_is_refused_and_left_unchanged() {
    let pg = Postgres::shared();
    let url = pg.fresh_db();
    let config = config(&url);
    let rt = runtime();
    rt.block_on(migrate_pg(&config, &[&COUNTED])).unwrap();
    let db = url.rsplit('/').next().unwrap();
    pg.psql(
        db,
        "INSERT INTO schema_migrations (component, version, name) VALUES ('counted', 7, 'future')",
    );
    let err = rt.block_on(migrate_pg(&config, &[&COUNTED])).unwrap_err();
    assert!(
        matches!(
            err,
            Error::TooNew {
                component: "counted",
                found: 7,
                supported: 3
            }
        ),
        "{err}"
    );
    let client = rt.block_on(pg_connect(&config)).unwrap();
    assert_eq!(
        rt.block_on(recorded_version_pg(&client, "counted"))
            .unwrap(),
        7
    );
}

#[test]
fn a_failing_step_rolls_back_and_the_check_reports_behind() {
    static BROKEN: Component = Component {
        name: "counted",
        migrations: &[
            LOG_V1,
            Migration {
                version: 2,
                name: "half good",
                step: Step::Sql(""),
                pg: "CREATE TABLE extra (x INTEGER); ALTER TABLE nowhere ADD y INTEGER;",
            },
        ],
        legacy_version: None,
    };
    let pg = Postgres::shared();
    let url = pg.fresh_db();
    let config = config(&url);
    let rt = runtime();
    let err = rt.block_on(migrate_pg(&config, &[&BROKEN])).unwrap_err();
    assert!(
        matches!(
            err,
            Error::PgStep {
                component: "counted",
                version: 2,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("nowhere"), "{err}");
    let db = url.rsplit('/').next().unwrap();
    assert_eq!(
        pg.psql(db, "SELECT to_regclass('extra') IS NULL").trim(),
        "t"
    );
    // through the pool, as the stores will read
    let limits = ipocket_db::PoolLimits {
        max_size: 2,
        ..Default::default()
    };
    let pool = pg_pool(&config, &limits).unwrap();
    let client = rt.block_on(pool.get()).unwrap();
    assert_eq!(
        rt.block_on(recorded_version_pg(&client, "counted"))
            .unwrap(),
        1
    );
    let err = rt
        .block_on(check_current_pg(&client, &[&COUNTED]))
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Behind {
                component: "counted",
                found: 1,
                latest: 3
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("ipocket migrate"), "{err}");
    rt.block_on(migrate_pg(&config, &[&COUNTED])).unwrap();
    rt.block_on(check_current_pg(&client, &[&COUNTED])).unwrap();
}

#[test]
fn a_database_that_sorts_text_by_language_is_refused_before_any_step() {
    let pg = Postgres::shared();
    // Debian's PostgreSQL is built with ICU: the default collation becomes English rules
    // while LC_COLLATE still says C, so only the behaviour check catches it.
    pg.psql(
        "postgres",
        "CREATE DATABASE english TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C' LOCALE_PROVIDER icu ICU_LOCALE 'en-US'",
    );
    let url = pg.url("english");
    let rt = runtime();
    let e = rt
        .block_on(migrate_pg(&config(&url), &[&COUNTED]))
        .unwrap_err();
    assert!(matches!(e, Error::TextOrder { .. }), "{e}");
    let text = e.to_string();
    assert!(
        text.contains("\"english\"") && text.contains("LOCALE 'C'"),
        "{text}"
    );
    assert_eq!(
        pg.psql("english", "SELECT to_regclass('schema_migrations') IS NULL")
            .trim(),
        "t"
    );
    let client = rt.block_on(pg_connect(&config(&url))).unwrap();
    let e = rt
        .block_on(check_current_pg(&client, &[&COUNTED]))
        .unwrap_err();
    assert!(matches!(e, Error::TextOrder { .. }), "{e}");

    // C.UTF-8 orders by code point, which is byte order in UTF-8: accepted.
    pg.psql(
        "postgres",
        "CREATE DATABASE c_utf8 TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'",
    );
    rt.block_on(migrate_pg(&config(&pg.url("c_utf8")), &[&COUNTED]))
        .unwrap();
}
