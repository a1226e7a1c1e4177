//! `ipocket users add|passwd|list|revoke-sessions`: user accounts on the SQLite file, offline
//! (a locked-out admin, a lost one-time password). Every change is audited as the system
//! actor; a password never comes from the command line.

use std::io::{BufRead, IsTerminal, Write};
use std::process::{Command as Process, ExitCode, Stdio};

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use ipocket_core::{Actor, Inventory, Role, User};

use crate::inventory_cmd::DbArg;

#[derive(Args)]
pub(crate) struct UsersArgs {
    #[command(flatten)]
    db: DbArg,
    #[command(subcommand)]
    command: UsersCommand,
}

#[derive(Subcommand)]
enum UsersCommand {
    /// Create a user (the password is read from the terminal, or from standard input).
    Add {
        name: String,
        /// Viewer, Editor or Admin.
        #[arg(long)]
        role: String,
        #[command(flatten)]
        password: PasswordSource,
    },
    /// Set a user's password; every session of the user ends.
    Passwd {
        name: String,
        #[command(flatten)]
        password: PasswordSource,
    },
    /// List the users.
    List,
    /// End every session of a user.
    RevokeSessions { name: String },
}

#[derive(Args)]
struct PasswordSource {
    /// Read the password from the first line of standard input instead of the terminal.
    #[arg(long)]
    password_stdin: bool,
}

pub(crate) fn run(args: UsersArgs) -> Result<ExitCode> {
    // Only `add` may start a database; the others need its users.
    let creates = matches!(args.command, UsersCommand::Add { .. });
    let mut inv = crate::db_path::open_inventory(args.db.path(), creates)?;
    let system = Actor::system();
    match args.command {
        UsersCommand::Add {
            name,
            role,
            password,
        } => {
            let role: Role = role.parse()?;
            let pw = password.read(&name)?;
            let u = inv.create_user(&system, &name, &pw, role)?;
            outln!("created user {:?} ({}), id {}", u.username, u.role, u.id)?;
        }
        UsersCommand::Passwd { name, password } => {
            let u = find(&inv, &name)?;
            let pw = password.read(&name)?;
            inv.update_user(&system, u.id, None, None, Some(&pw))?;
            outln!("password of {name:?} changed; its sessions ended")?;
        }
        UsersCommand::List => {
            outln!("{:>5}  {:<24} {:<7} active", "id", "username", "role")?;
            for u in inv.users()? {
                outln!(
                    "{:>5}  {:<24} {:<7} {}",
                    u.id,
                    u.username,
                    u.role.to_string(),
                    if u.is_active { "yes" } else { "no" }
                )?;
            }
        }
        UsersCommand::RevokeSessions { name } => {
            let u = find(&inv, &name)?;
            let n = inv.revoke_sessions(&system, u.id)?;
            outln!("{n} session(s) of {name:?} ended")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn find(inv: &Inventory, name: &str) -> Result<User> {
    match inv.users()?.into_iter().find(|u| u.username == name) {
        Some(u) => Ok(u),
        None => bail!("no user named {name:?}"),
    }
}

impl PasswordSource {
    fn read(&self, name: &str) -> Result<String> {
        let stdin = std::io::stdin();
        let password = if self.password_stdin {
            let mut line = String::new();
            stdin
                .lock()
                .read_line(&mut line)
                .context("reading the password from standard input")?;
            line.trim_end_matches(['\r', '\n']).to_string()
        } else if stdin.is_terminal() {
            let first = prompt(&format!("New password for {name}: "))?;
            if prompt("Again: ")? != first {
                bail!("the two passwords differ");
            }
            first
        } else {
            bail!("standard input is not a terminal: give the password with --password-stdin");
        };
        if password.is_empty() {
            bail!("the password is empty");
        }
        Ok(password)
    }
}

/// Reads a line from the terminal with echo off (`stty`, as `passwd` does).
fn prompt(text: &str) -> Result<String> {
    eprint!("{text}");
    std::io::stderr().flush()?;
    let stty = |arg: &str| {
        Process::new("stty")
            .arg(arg)
            .stdin(Stdio::inherit())
            .status()
            .is_ok_and(|s| s.success())
    };
    let hidden = stty("-echo");
    let mut line = String::new();
    let read = std::io::stdin().lock().read_line(&mut line);
    if hidden {
        stty("echo");
        eprintln!();
    }
    read.context("reading the password")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}
