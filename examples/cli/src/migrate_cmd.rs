//! `ipocket migrate`: brings every component of the database up to date, once, on SQLite
//! or PostgreSQL, and prints each component's version. Replicas started with
//! `serve --no-migrate` then only check the schema.

use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use ipocket_db::DbUrl;
use ipocket_server::SCHEMAS;

#[derive(Args)]
pub(crate) struct MigrateArgs {
    /// The database: a path or sqlite:PATH (SQLite, created if missing), or
    /// postgres://user[:password]@host[:port]/database (no TLS yet).
    #[arg(long, env = "IPOCKET_DB", default_value = "ipocket.db")]
    db: String,
}

pub(crate) fn run(args: MigrateArgs) -> Result<ExitCode> {
    let url = DbUrl::parse(&args.db)?;
    let versions = match &url {
        DbUrl::Sqlite(path) => {
            let conn =
                ipocket_db::open(path, &SCHEMAS).with_context(|| format!("migrating {url}"))?;
            SCHEMAS
                .iter()
                .map(|c| Ok((c.name, ipocket_db::recorded_version(&conn, c.name)?)))
                .collect::<Result<Vec<_>>>()?
        }
        DbUrl::Postgres(config, _) => {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            rt.block_on(async {
                ipocket_db::migrate_pg(config, &SCHEMAS).await?;
                let client = ipocket_db::pg_connect(config).await?;
                let mut out = Vec::new();
                for c in SCHEMAS {
                    out.push((
                        c.name,
                        ipocket_db::recorded_version_pg(&client, c.name).await?,
                    ));
                }
                Ok::<_, ipocket_db::Error>(out)
            })
            .with_context(|| format!("migrating {url}"))?
        }
    };
    tracing::info!(db = %url, "schema up to date");
    for (name, version) in versions {
        outln!("{name} {version}")?;
    }
    Ok(ExitCode::SUCCESS)
}
