//! The inventory's conformance suite: every `Inventory` behaviour, run against both
//! backends (a SQLite file in a temporary folder, and a fresh database on the real
//! PostgreSQL 15 the testkit starts; these fail when PostgreSQL is missing). Each
//! behaviour is a function taking the backend; `on_both_backends!` in each module makes a
//! test of it per backend (`catalog::sqlite::name`, `catalog::postgres::name`).
//!
//! One module per area of the inventory, as in `core/src/`.

mod api_tokens;
mod assets;
mod audit;
mod catalog;
mod export;
mod import;
mod login_throttle;
mod metrics;
mod query;
mod ranges;
mod sd;
mod security_events;
mod sessions;
mod users;

use ipocket_core::Inventory;
use ipocket_db::{Backend, Database, DbUrl, Row};
use ipocket_testkit::postgres::FreshDatabase;

/// A fresh, empty inventory database on one backend.
pub struct Db {
    /// Its `--db` value.
    pub url: DbUrl,
    _fresh: FreshDatabase,
}

impl Db {
    /// An empty database on `b`.
    pub fn new(b: Backend) -> Db {
        let fresh = match b {
            Backend::Sqlite => FreshDatabase::sqlite(),
            Backend::Postgres => FreshDatabase::postgres(),
        };
        Db {
            url: DbUrl::parse(&fresh.url).unwrap(),
            _fresh: fresh,
        }
    }

    /// An inventory on it (call again for a second connection / handle).
    pub fn inventory(&self) -> Inventory {
        Inventory::open_url(&self.url).unwrap()
    }

    /// Rows of `sql`, read through a connection of its own.
    pub fn rows(&self, sql: &str) -> Vec<Row> {
        let db = Database::open(&self.url, &[]).unwrap();
        db.read(|c| c.query(sql, &[])).unwrap()
    }

    /// The single integer `sql` returns (`SELECT COUNT(*) …`).
    pub fn count(&self, sql: &str) -> i64 {
        self.rows(sql)[0].get(0).unwrap()
    }
}

/// A fresh inventory on backend `b`, with its database (keep the `Db`: dropping it
/// removes the database).
pub fn fresh(b: Backend) -> (Db, Inventory) {
    let db = Db::new(b);
    let inv = db.inventory();
    (db, inv)
}
