//! Periodic work that must run once however many replicas serve one PostgreSQL database
//! (the ingest retention sweep, automatic rule regeneration, the orphaned-job check): each duty has a leader,
//! elected through [`ipocket_db::PgDatabase::try_lead`] and tried again every period, so a
//! replica that dies (or loses its database connection) is replaced within one period. On
//! SQLite the one server always leads.

use std::sync::{Arc, Mutex};

use ipocket_db::Leadership;

use crate::shared_db::SharedDb;

/// The advisory lock keys of the duties (`ipocketR`, `ipocketG`, `ipocketJ` as bytes).
pub(crate) const RETENTION_DUTY: i64 = 0x6970_6f63_6b65_7452;
pub(crate) const RULES_DUTY: i64 = 0x6970_6f63_6b65_7447;
pub(crate) const JOBS_DUTY: i64 = 0x6970_6f63_6b65_744a;

/// One duty's leadership as this replica sees it.
pub(crate) struct Duty {
    name: &'static str,
    key: i64,
    db: SharedDb,
    held: Mutex<Option<Leadership>>,
    log: bool,
}

impl Duty {
    pub(crate) fn new(name: &'static str, key: i64, db: SharedDb, log: bool) -> Arc<Duty> {
        Arc::new(Duty {
            name,
            key,
            db,
            held: Mutex::new(None),
            log,
        })
    }

    /// Whether other replicas may share the database (PostgreSQL): then writes made
    /// elsewhere reach this one only through the database.
    pub(crate) fn shared(&self) -> bool {
        matches!(self.db, SharedDb::Postgres { .. })
    }

    /// Whether this replica leads the duty now: keeps a leadership whose connection still
    /// answers, or tries to take it (blocking; see [`Duty::leads`]).
    fn leads_now(&self) -> bool {
        let SharedDb::Postgres { pool, .. } = &self.db else {
            return true;
        };
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(lead) = held.as_ref() {
            if lead.still_held() {
                return true;
            }
            *held = None;
            tracing::warn!(
                duty = self.name,
                "this replica lost the lead of the {}",
                self.name
            );
        }
        match pool.try_lead(self.key) {
            Ok(Some(lead)) => {
                *held = Some(lead);
                if self.log {
                    tracing::info!(duty = self.name, "this replica leads the {}", self.name);
                }
                true
            }
            Ok(None) => false,
            Err(e) => {
                tracing::error!(
                    duty = self.name,
                    "electing the leader of the {}: {e}",
                    self.name
                );
                false
            }
        }
    }

    /// [`Duty::leads_now`] on the blocking pool.
    pub(crate) async fn leads(self: &Arc<Self>) -> bool {
        let me = Arc::clone(self);
        tokio::task::spawn_blocking(move || me.leads_now())
            .await
            .unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_replica_leads_and_another_takes_over_when_it_steps_down() {
        let url = ipocket_testkit::postgres::Postgres::shared().fresh_db();
        let url = ipocket_db::DbUrl::parse(&url).unwrap();
        let open = || SharedDb::open(&url, 2, false).unwrap();
        let (a, b) = (
            Duty::new("test duty", RETENTION_DUTY, open(), false),
            Duty::new("test duty", RETENTION_DUTY, open(), false),
        );
        assert!(a.leads_now());
        assert!(a.leads_now(), "kept");
        assert!(!b.leads_now());
        *a.held.lock().unwrap() = None;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !b.leads_now() {
            assert!(std::time::Instant::now() < deadline, "b never took over");
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        assert!(!a.leads_now());
    }

    #[test]
    fn on_sqlite_the_server_always_leads() {
        let dir = tempfile::tempdir().unwrap();
        let db = SharedDb::Sqlite(dir.path().join("a.db"));
        let d = Duty::new("test duty", RULES_DUTY, db, false);
        assert!(d.leads_now() && !d.shared());
    }
}
