//! Leadership of periodic work (the ingest retention sweep, automatic rule regeneration):
//! with several replicas on one PostgreSQL, one of them does it.
//!
//! On PostgreSQL a leader holds the session-level advisory lock `key` on a dedicated
//! connection of its own (not a pooled one: the lock lives as long as the session, and a
//! pooled session would go back to the pool with it). Losing that connection (the replica
//! dies, the network fails, PostgreSQL restarts) ends the session and so frees the lock for
//! another replica; the leader finds out at its next [`Leadership::still_held`]. On SQLite
//! one process owns the file: it always leads.
//!
//! ```
//! use ipocket_db::{Database, DbUrl};
//! let dir = tempfile::tempdir()?;
//! let url = DbUrl::parse(dir.path().join("a.db").to_str().unwrap())?;
//! let db = Database::open(&url, &[])?;
//! let lead = db.try_lead(42)?.expect("SQLite: always the leader");
//! assert!(lead.still_held());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::sync::Arc;
use std::time::Duration;

use crate::error::Result;
use crate::pg_database::PgDatabase;

/// How long [`Leadership::still_held`] waits for PostgreSQL to answer: a leader cut off
/// from the database for longer steps down (the server has freed its lock by then, or will
/// when the connection times out).
const PING_TIMEOUT: Duration = Duration::from_secs(5);

/// Held leadership of one duty; dropping it steps down (closes the dedicated connection).
#[derive(Debug)]
pub struct Leadership {
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    Sqlite,
    Postgres {
        client: Arc<tokio_postgres::Client>,
        // Keeps the I/O runtime (which drives the connection) alive as long as the lock.
        db: PgDatabase,
    },
}

impl Leadership {
    /// The leadership of the only process on a SQLite file.
    pub(crate) fn sqlite() -> Leadership {
        Leadership { kind: Kind::Sqlite }
    }

    /// Whether this is still the leader: on PostgreSQL, whether the connection that holds
    /// the lock still answers (within 5 s). Once it returns `false`, drop the leadership and
    /// try again later with [`crate::Database::try_lead`].
    pub fn still_held(&self) -> bool {
        match &self.kind {
            Kind::Sqlite => true,
            Kind::Postgres { client, db } => {
                if client.is_closed() {
                    return false;
                }
                let client = Arc::clone(client);
                db.on_io(async move {
                    let ping = tokio::time::timeout(PING_TIMEOUT, client.simple_query("SELECT 1"));
                    Ok(matches!(ping.await, Ok(Ok(_))))
                })
                .unwrap_or(false)
            }
        }
    }
}

impl PgDatabase {
    /// Takes the session-level advisory lock `key` on a new dedicated connection, without
    /// waiting: `Some` when this handle now leads, `None` when another session holds it.
    pub fn try_lead(&self, key: i64) -> Result<Option<Leadership>> {
        let config = self.config().clone();
        let client = self.on_io(async move {
            let client = crate::pg::pg_connect(&config).await?;
            let got: bool = client
                .query_one("SELECT pg_try_advisory_lock($1)", &[&key])
                .await?
                .get(0);
            // Not the leader: the connection closes here, the lock was never ours.
            Ok(got.then_some(client))
        })?;
        Ok(client.map(|client| Leadership {
            kind: Kind::Postgres {
                client: Arc::new(client),
                db: self.clone(),
            },
        }))
    }
}
