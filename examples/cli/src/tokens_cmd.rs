//! `ipocket tokens create|list|revoke`: scoped API tokens (for Prometheus: `metrics`, `sd`) on
//! the SQLite file, offline. Audited as the system actor. The token is printed once, alone on
//! standard output, so it can go straight into a file (`> /etc/prometheus/ipocket.token`).

use std::process::ExitCode;

use anyhow::{bail, Result};
use clap::{Args, Subcommand};
use ipocket_core::{Actor, ApiToken, TokenScope, MAX_TOKEN_DAYS};

use crate::inventory_cmd::DbArg;

#[derive(Args)]
pub(crate) struct TokensArgs {
    #[command(flatten)]
    db: DbArg,
    #[command(subcommand)]
    command: TokensCommand,
}

#[derive(Subcommand)]
enum TokensCommand {
    /// Create a token; it is printed once, alone on standard output (only a hash is kept).
    Create {
        /// A unique name saying what the token is for (`prometheus-main`).
        name: String,
        /// What it may read, comma-separated: `metrics` (/metrics), `sd` (/sd/node, /api/v1/sd).
        #[arg(long, value_name = "SCOPES")]
        scope: String,
        /// Days until it stops working (default: never).
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=MAX_TOKEN_DAYS as i64))]
        expires_in_days: Option<u32>,
    },
    /// List the tokens (never the tokens themselves) with their last use.
    List,
    /// Revoke a token by name or id; it stops working at once.
    Revoke { name_or_id: String },
}

pub(crate) fn run(args: TokensArgs) -> Result<ExitCode> {
    // A token on a database the server does not use is no use: refuse a mistyped --db.
    let mut inv = crate::db_path::open_inventory(args.db.path(), false)?;
    let system = Actor::system();
    match args.command {
        TokensCommand::Create {
            name,
            scope,
            expires_in_days,
        } => {
            let scopes = TokenScope::parse_list(&scope)?;
            let (t, token) = inv.create_api_token(&system, &name, &scopes, expires_in_days)?;
            eprintln!(
                "created API token {:?} ({}), id {}{}; it is shown once, below: store it now",
                t.name,
                scope_list(&t),
                t.id,
                t.expires_at
                    .as_deref()
                    .map(|e| format!(", expires {e} UTC"))
                    .unwrap_or_default()
            );
            println!("{token}");
        }
        TokensCommand::List => {
            println!(
                "{:>5}  {:<24} {:<11} {:<12} {:<19}  {:<19}  last used",
                "id", "name", "scopes", "created by", "created (UTC)", "expires"
            );
            for t in inv.api_tokens()? {
                let expires = match (&t.expires_at, t.expired) {
                    (Some(e), true) => format!("{e} (expired)"),
                    (Some(e), false) => e.clone(),
                    (None, _) => "never".into(),
                };
                println!(
                    "{:>5}  {:<24} {:<11} {:<12} {:<19}  {:<19}  {}",
                    t.id,
                    t.name,
                    scope_list(&t),
                    t.created_by.as_deref().unwrap_or("(system)"),
                    t.created_at,
                    expires,
                    t.last_used_at.as_deref().unwrap_or("never")
                );
            }
        }
        TokensCommand::Revoke { name_or_id } => {
            let tokens = inv.api_tokens()?;
            let found = tokens
                .iter()
                .find(|t| t.name == name_or_id)
                .or_else(|| tokens.iter().find(|t| t.id.to_string() == name_or_id));
            let Some(t) = found else {
                bail!("no API token named {name_or_id:?} (see `ipocket tokens list`)");
            };
            let t = inv.revoke_api_token(&system, t.id)?;
            println!("API token {:?} revoked", t.name);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn scope_list(t: &ApiToken) -> String {
    let names: Vec<&str> = t.scopes.iter().map(|s| s.as_str()).collect();
    names.join(",")
}
