//! The one owner of ipocket's SQLite file.
//!
//! Every store (the inventory, the samples store, the rule store) declares its tables as a
//! [`Component`]: a name and an ordered list of [`Migration`] steps. [`open`] sets the
//! pragmas every connection needs and brings the listed components up to date; each step
//! runs in its own transaction and is recorded in the `schema_migrations` table.
//!
//! ```
//! use ipocket_db::{Component, Migration, Step};
//!
//! static NOTES: Component = Component {
//!     name: "notes",
//!     migrations: &[Migration {
//!         version: 1,
//!         name: "notes table",
//!         step: Step::Sql("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL);"),
//!     }],
//!     legacy_version: None,
//! };
//!
//! let dir = tempfile::tempdir()?;
//! let conn = ipocket_db::open(dir.path().join("app.db"), &[&NOTES])?;
//! assert_eq!(ipocket_db::recorded_version(&conn, "notes")?, 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! How to add a table is told in `docs/database.md`.
#![forbid(unsafe_code)]

mod audit;
mod connection;
mod error;
mod registry;

pub use audit::{has_audit_log, write_audit_row, AuditActor, AuditRow};
pub use connection::{configure, data_version, open, open_in_memory, open_read_only};
pub use error::{Error, Result};
pub use registry::{migrate, recorded_version, Component, Migration, Step};
