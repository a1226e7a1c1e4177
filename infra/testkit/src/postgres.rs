//! A real PostgreSQL (Debian's `postgresql` package) for tests: `initdb` + `pg_ctl` in a
//! temporary folder, TCP on 127.0.0.1 only (no unix socket), durability off (tests never
//! survive a crash anyway). Fails loudly when the binaries are missing, never skips.
//!
//! initdb refuses to run as root, and the tests run as root here and in CI: the server then
//! runs as the unprivileged `postgres` system user (made by the Debian package) through
//! `runuser`, with the folder given to it. Otherwise it runs as the current user.
//!
//! One server per test binary ([`Postgres::shared`]) with a fresh database per test
//! ([`Postgres::fresh_db`]) keeps the ~1.5 s start out of every test.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;

const INSTALL: &str = "install Debian's `postgresql` package (./scripts/test does)";

/// A running PostgreSQL server, stopped (`pg_ctl stop -m immediate`) on drop and, should the
/// test process end without dropping it, by a watchdog process.
pub struct Postgres {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    as_postgres: bool,
    watchdog: Child,
    next_db: AtomicU32,
}

impl Postgres {
    /// The server shared by every test of this test binary (started on first use).
    pub fn shared() -> &'static Postgres {
        static SHARED: OnceLock<Postgres> = OnceLock::new();
        SHARED.get_or_init(Postgres::start)
    }

    /// Starts a new server on a free port of 127.0.0.1.
    ///
    /// # Panics
    ///
    /// When the PostgreSQL binaries are missing or the server does not start (with its log).
    pub fn start() -> Postgres {
        let bin = bin_dir();
        let as_postgres = is_root();
        let dir = tempfile::Builder::new()
            .prefix("ipocket-pg-")
            .tempdir()
            .expect("temporary folder for PostgreSQL");
        if as_postgres {
            run(Command::new("chown").arg("postgres:").arg(dir.path()));
        }
        let data = dir.path().join("data");
        let mut initdb = command(as_postgres, &bin.join("initdb"));
        initdb.args([
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
            "-D",
        ]);
        run(initdb.arg(&data));
        let port = free_port();
        let conf = format!(
            "\nlisten_addresses = '127.0.0.1'\nport = {port}\nunix_socket_directories = ''\n\
             fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
        );
        append(&data.join("postgresql.conf"), &conf);
        let log = dir.path().join("server.log");
        let mut ctl = command(as_postgres, &bin.join("pg_ctl"));
        ctl.args(["start", "-w", "-t", "30", "-D"])
            .arg(&data)
            .arg("-l")
            .arg(&log);
        let out = ctl.output().expect("run pg_ctl");
        if !out.status.success() {
            panic!(
                "PostgreSQL did not start ({}): {}\nlog:\n{}",
                out.status,
                String::from_utf8_lossy(&out.stderr),
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        let watchdog = watchdog(as_postgres, &bin, dir.path());
        Postgres {
            dir,
            bin,
            port,
            as_postgres,
            watchdog,
            next_db: AtomicU32::new(0),
        }
    }

    /// The TCP port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The URL of database `name` as the superuser `postgres` (no password: trust auth).
    pub fn url(&self, name: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }

    /// Creates a new empty database (`t_1`, `t_2`, …) and returns its URL.
    pub fn fresh_db(&self) -> String {
        let n = self.next_db.fetch_add(1, Ordering::Relaxed) + 1;
        let name = format!("t_{n}");
        self.psql("postgres", &format!("CREATE DATABASE {name}"));
        self.url(&name)
    }

    /// Runs `sql` with `psql` on database `db`; returns its unaligned, tuples-only output.
    ///
    /// # Panics
    ///
    /// When psql fails (with its message).
    pub fn psql(&self, db: &str, sql: &str) -> String {
        let out = Command::new(self.bin.join("psql"))
            .args([
                "-X",
                "-q",
                "-A",
                "-t",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                "127.0.0.1",
            ])
            .args([
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
                "-d",
                db,
                "-c",
                sql,
            ])
            .output()
            .expect("run psql");
        assert!(
            out.status.success(),
            "psql {sql:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let data = self.dir.path().join("data");
        let mut ctl = command(self.as_postgres, &self.bin.join("pg_ctl"));
        ctl.args(["stop", "-w", "-m", "immediate", "-D"]).arg(&data);
        let stopped = ctl
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !stopped {
            // pg_ctl failed: kill the postmaster named in its pid file.
            if let Some(pid) = std::fs::read_to_string(data.join("postmaster.pid"))
                .ok()
                .and_then(|t| t.lines().next().map(str::to_owned))
            {
                let _ = Command::new("kill").args(["-9", &pid]).status();
            }
        }
        let _ = self.watchdog.kill();
        let _ = self.watchdog.wait();
    }
}

/// `/usr/lib/postgresql/<newest version>/bin`, or a panic saying what to install.
fn bin_dir() -> PathBuf {
    let root = Path::new("/usr/lib/postgresql");
    let newest = std::fs::read_dir(root)
        .ok()
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|v| root.join(v.to_string()).join("bin/initdb").exists())
        .max();
    match newest {
        Some(v) => root.join(v.to_string()).join("bin"),
        None => panic!("PostgreSQL server binaries (initdb, pg_ctl) not found under {}/<version>/bin; {INSTALL}", root.display()),
    }
}

/// Root owns this process's /proc entry exactly when it runs as root (no `unsafe` getuid).
fn is_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// `program` as the `postgres` user when `as_postgres`, else as this user.
fn command(as_postgres: bool, program: &Path) -> Command {
    if as_postgres {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

fn run(cmd: &mut Command) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}; {INSTALL}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}): {}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn append(path: &Path, text: &str) {
    use std::io::Write as _;
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .expect("open postgresql.conf");
    f.write_all(text.as_bytes()).expect("write postgresql.conf");
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().unwrap().port()
}

/// A shell that waits for this test process to end, then stops the server and removes its
/// folder: a [`Postgres::shared`] static is never dropped, and a failed test may abort.
fn watchdog(as_postgres: bool, bin: &Path, dir: &Path) -> Child {
    let stop = format!(
        "{}'{}' stop -m immediate -D '{}'",
        if as_postgres {
            "runuser -u postgres -- "
        } else {
            ""
        },
        bin.join("pg_ctl").display(),
        dir.join("data").display()
    );
    let script = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 0.2; done; {stop} >/dev/null 2>&1; rm -rf '{dir}'",
        pid = std::process::id(),
        dir = dir.display()
    );
    Command::new("sh")
        .args(["-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the PostgreSQL watchdog shell")
}

/// A new, empty database for a test that runs on both backends: a SQLite file in a
/// temporary folder, or a fresh database on [`Postgres::shared`]. `url` (a path or a
/// `postgres://` URL) stays valid while this lives.
pub struct FreshDatabase {
    /// The database's URL, as `--db` takes it.
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

impl FreshDatabase {
    /// `ipocket.db` in a new temporary folder.
    pub fn sqlite() -> FreshDatabase {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let url = dir.path().join("ipocket.db").to_string_lossy().into_owned();
        FreshDatabase {
            url,
            _dir: Some(dir),
        }
    }

    /// A new database on the shared PostgreSQL test server.
    pub fn postgres() -> FreshDatabase {
        FreshDatabase {
            url: Postgres::shared().fresh_db(),
            _dir: None,
        }
    }
}

/// One `#[test]` per behaviour and backend, for a store's conformance suite: each
/// behaviour is a function taking an `ipocket_db::Backend`, and
/// `on_both_backends!(a, b)` makes `sqlite::a`, `postgres::a`, `sqlite::b`, … of them (the
/// calling crate names `ipocket_db`). Nothing is then tested on one backend only.
#[macro_export]
macro_rules! on_both_backends {
    ($($test:ident),* $(,)?) => {
        mod sqlite {
            $(#[test]
            fn $test() {
                super::$test(ipocket_db::Backend::Sqlite)
            })*
        }
        mod postgres {
            $(#[test]
            fn $test() {
                super::$test(ipocket_db::Backend::Postgres)
            })*
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_serves_fresh_databases_and_stops() {
        let t = std::time::Instant::now();
        let pg = Postgres::start();
        eprintln!("PostgreSQL started in {:?}", t.elapsed());
        let a = pg.fresh_db();
        let b = pg.fresh_db();
        assert_ne!(a, b);
        assert_eq!(pg.psql("t_1", "SELECT 1 + 1").trim(), "2");
        assert_eq!(pg.psql("postgres", "SHOW fsync").trim(), "off");
        assert_eq!(
            pg.psql("postgres", "SHOW unix_socket_directories").trim(),
            ""
        );
        let port = pg.port();
        drop(pg);
        assert!(
            std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
            "postgres left running"
        );
    }
}
