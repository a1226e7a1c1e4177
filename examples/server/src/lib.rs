//! The ipocket server (`ipocket serve`) as a library: the inventory, service discovery,
//! metrics, ingest and alert rules over HTTP (hyper 1 on tokio). No domain logic lives here: every handler calls `ipocket-core`,
//! `ipocket-connectors` or `ipocket-expfmt`. The guide is `docs/server.md`.

mod auth;
mod db_health;
mod errors;
mod handlers;
mod http;
mod jobs;
mod leadership;
mod password_workers;
mod pending_uploads;
mod remote_write;
mod render_cache;
mod request_metrics;
mod retention;
mod routing;
mod rules_auto;
mod security_log;
mod shared_db;
mod startup;
mod ui;
mod uploads;

use ipocket_errors::ApiErrorCode;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::Args;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use ipocket_connectors::{IngestOptions, SampleStore};
use ipocket_core::Inventory;
use ipocket_http::server::{serve_peers, ServeOptions};
use ipocket_rulegen::{ConnectOptions, RuleStore};

use errors::ApiError;
use http::{ApiRequest, Body};
use request_metrics::RequestMetrics;

/// Every component of the database, in migration order: what `ipocket migrate` brings up to
/// date and `serve --no-migrate` checks.
pub static SCHEMAS: [&ipocket_db::Component; 4] = [
    &ipocket_core::INVENTORY_SCHEMA,
    &ipocket_connectors::SAMPLES_SCHEMA,
    &ipocket_connectors::jobs::JOBS_SCHEMA,
    &ipocket_rulegen::RULES_SCHEMA,
];

/// How to run the server: the flags of `ipocket serve` (each also read from its environment
/// variable where one is named).
#[derive(Args)]
pub struct ServeArgs {
    /// The database: a path or sqlite:PATH (SQLite, created with its schema if missing), or
    /// postgres://user[:password]@host[:port]/database (PostgreSQL, shared by several
    /// replicas; no TLS yet).
    #[arg(long, env = "IPOCKET_DB", default_value = "ipocket.db")]
    db: ipocket_db::DbUrl,
    /// PostgreSQL only: connections this replica's stores share at most. PostgreSQL's
    /// max_connections must cover every replica's pool, plus two leadership connections
    /// and one for migrations each.
    #[arg(long, env = "IPOCKET_DB_POOL_SIZE", default_value_t = 16,
          value_parser = clap::value_parser!(u16).range(1..=1000))]
    db_pool_size: u16,
    /// Do not migrate: refuse to start when the schema is behind this build (run `ipocket
    /// migrate` as a separate step first).
    #[arg(long, env = "IPOCKET_NO_MIGRATE")]
    no_migrate: bool,
    /// Address to listen on (port 0 picks a free port; the bound address is printed).
    #[arg(long, env = "IPOCKET_LISTEN", default_value = "127.0.0.1:8000")]
    listen: SocketAddr,
    /// Name of the admin created when the database has no user.
    #[arg(long, env = "IPOCKET_ADMIN_USERNAME", default_value = "admin")]
    admin_username: String,
    /// Largest request body accepted, in bytes (413 above).
    #[arg(long, default_value_t = 10 << 20)]
    max_body_bytes: usize,
    /// Longest note or description accepted, in characters (422 above; names are at most 255).
    #[arg(long, default_value_t = ipocket_core::DEFAULT_MAX_TEXT_CHARS)]
    max_text_chars: usize,
    /// Largest total uncompressed size of the entries read from an uploaded bundle.zip, in
    /// bytes (422 above).
    #[arg(long, default_value_t = ipocket_core::DEFAULT_MAX_ZIP_BYTES)]
    max_zip_bytes: u64,
    /// Largest compression ratio of one entry of an uploaded bundle.zip (uncompressed /
    /// compressed; 422 above).
    #[arg(long, default_value_t = ipocket_core::DEFAULT_MAX_ZIP_RATIO,
          value_parser = clap::value_parser!(u64).range(1..))]
    max_zip_ratio: u64,
    /// Largest `per_page` of the API's listings (IP assets, audit log).
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..))]
    max_page_size: u64,
    /// Seconds a client has to send the request headers.
    #[arg(long, default_value_t = 10)]
    header_timeout: u64,
    /// Seconds a client has to send the request body (408 above).
    #[arg(long, default_value_t = 30)]
    body_timeout: u64,
    /// Seconds shutdown waits for open requests after SIGINT/SIGTERM.
    #[arg(long, default_value_t = 30)]
    shutdown_grace: u64,
    /// Serve reads (assets, /metrics, /sd/node, /api/v1/sd) without a token, as the original did.
    #[arg(long, env = "IPOCKET_PUBLIC_READS")]
    public_reads: bool,
    /// A new BMC address created through the API or the web UI without a host is linked to
    /// the host `server_<address>`, which is created (and audited) when missing, as the
    /// original did. Imports and connectors never do this. `false`, `0`, `no` or `off` turns
    /// it off.
    #[arg(long, env = "IPOCKET_AUTO_HOST_FOR_BMC", default_value = "true",
          value_parser = switch, action = clap::ArgAction::Set, value_name = "true|false")]
    auto_host_for_bmc: bool,
    /// Accept pushes to /metrics/prometheus from server ids that are not registered.
    #[arg(long)]
    ingest_unregistered: bool,
    /// Most labels one pushed sample may carry (422 `sample_limit` above; the push is refused
    /// whole).
    #[arg(long, default_value_t = IngestOptions::default().max_labels)]
    ingest_max_labels: usize,
    /// Longest label name of a pushed sample, in bytes.
    #[arg(long, default_value_t = IngestOptions::default().max_label_name_bytes)]
    ingest_max_label_name_bytes: usize,
    /// Longest label value (and metric name) of a pushed sample, in bytes.
    #[arg(long, default_value_t = IngestOptions::default().max_label_value_bytes)]
    ingest_max_label_value_bytes: usize,
    /// Seconds a pushed sample's own timestamp may be ahead of the server's clock (422
    /// `timestamp_out_of_bounds` above; the push is refused whole).
    #[arg(long, default_value_t = (IngestOptions::default().max_future_skew_ms / 1000) as u32)]
    ingest_max_future_skew_seconds: u32,
    /// Most series one page of `GET /api/v1/servers/{id}/samples` may ask for (`limit`; the
    /// default page is 1000, or this if smaller).
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(1..))]
    samples_max_limit: u32,
    /// Hours pushed samples are kept: older ones are deleted in the background. 0 keeps them
    /// forever.
    #[arg(long, env = "IPOCKET_INGEST_RETENTION_HOURS", default_value_t = 168.0,
          value_parser = retention_hours)]
    ingest_retention_hours: f64,
    /// Forward every accepted push to this remote-write receiver too (Prometheus with
    /// --web.enable-remote-write-receiver, Mimir, VictoriaMetrics, Thanos Receive), through a
    /// queue on disk: pushes never wait for it.
    #[arg(long, env = "IPOCKET_REMOTE_WRITE_URL")]
    remote_write_url: Option<String>,
    /// Credentials of the remote-write receiver: `user:password` for Basic auth, anything else
    /// is a Bearer token (kept in memory only).
    #[arg(long, env = "IPOCKET_REMOTE_WRITE_TOKEN", hide_env_values = true)]
    remote_write_token: Option<String>,
    /// Also trust the PEM certificate(s) in this file for an https:// remote-write receiver
    /// (the webpki roots and the system's CA bundle are trusted anyway).
    #[arg(long, env = "IPOCKET_REMOTE_WRITE_CA_FILE")]
    remote_write_ca_file: Option<PathBuf>,
    /// The remote_write queue folder (default: the database path with `.remote-write`
    /// appended).
    #[arg(long, env = "IPOCKET_REMOTE_WRITE_QUEUE_DIR")]
    remote_write_queue_dir: Option<PathBuf>,
    /// Largest size of the remote_write queue in MiB: beyond it the oldest queued pushes are
    /// dropped (counted in /metrics as `ipocket_remote_write_dropped_total{reason="size"}`).
    #[arg(long, default_value_t = 256.0, value_parser = positive_mb)]
    remote_write_queue_max_mb: f64,
    /// Hours a push may wait in the remote_write queue before it is dropped unsent.
    #[arg(long, default_value_t = 48.0, value_parser = session_hours)]
    remote_write_queue_max_hours: f64,
    /// Folder the generated Prometheus rule files go to (stored as the rulegen setting
    /// `rule_dir`, shared with `ipocket rules`).
    #[arg(long, env = "IPOCKET_RULES_DIR")]
    rules_dir: Option<PathBuf>,
    /// Prometheus base URL for reloads and status (rulegen setting `prometheus_url`).
    #[arg(long, env = "IPOCKET_PROMETHEUS_URL")]
    prometheus_url: Option<String>,
    /// The rule folder as Prometheus sees it, when not at the --rules-dir path (a shared
    /// volume mounted elsewhere in Prometheus's container): reload confirmation expects
    /// the files there (rulegen setting `prometheus_rule_dir`).
    #[arg(long, env = "IPOCKET_PROMETHEUS_RULE_DIR")]
    prometheus_rule_dir: Option<PathBuf>,
    /// promtool to check every changed rule file before it is written (rulegen setting
    /// `promtool`; Debian's is /usr/bin/promtool).
    #[arg(long, env = "IPOCKET_PROMTOOL")]
    promtool: Option<PathBuf>,
    /// Prometheus credentials for reloads and status: `user:password` for Basic auth, anything
    /// else is a Bearer token (kept in memory only, never stored).
    #[arg(long, env = "IPOCKET_PROMETHEUS_TOKEN", hide_env_values = true)]
    prometheus_token: Option<String>,
    /// After every change to alert rules, templates, groups or targets (API
    /// and web UI), regenerate the rule files and reload Prometheus in the background, when
    /// the rule folder and the Prometheus URL are set. `false`, `0`, `no` or `off` turns it
    /// off (then only an explicit regenerate writes files).
    #[arg(long, env = "IPOCKET_RULES_AUTO_REGENERATE", default_value = "true",
          value_parser = switch, action = clap::ArgAction::Set, value_name = "true|false")]
    rules_auto_regenerate: bool,
    /// Milliseconds an automatic regeneration waits after a change: every change within the
    /// window is covered by the same run.
    #[arg(long, env = "IPOCKET_RULES_DEBOUNCE_MS", default_value_t = 2000,
          value_parser = clap::value_parser!(u64).range(0..=600_000))]
    rules_debounce_ms: u64,
    /// Also trust the PEM certificate(s) in this file for an https:// Prometheus.
    #[arg(long, env = "IPOCKET_PROMETHEUS_CA_FILE")]
    prometheus_ca_file: Option<PathBuf>,
    /// Also trust the PEM certificate(s) in this file for the https:// Prometheus and vCenter
    /// servers the connectors reach (runs from the API and the web UI). A server-side setting:
    /// a browser never names a file for the server to read.
    #[arg(long, env = "IPOCKET_CONNECTOR_CA_FILE")]
    connector_ca_file: Option<PathBuf>,
    /// Hosts the connector runs (API and web UI) may reach: `HOST[:PORT]` (no port: any),
    /// repeatable or comma-separated. A run to any other is refused with 403 before
    /// connecting. Unset: any host.
    #[arg(long, env = "IPOCKET_CONNECTOR_ALLOW", value_name = "HOST[:PORT]")]
    connector_allow: Vec<String>,
    /// Skip TLS certificate verification of the Prometheus (test set-ups only).
    #[arg(long, env = "IPOCKET_PROMETHEUS_INSECURE")]
    prometheus_insecure: bool,
    /// The Prometheus whose `up` (and `probe_success`) series give each address its liveness
    /// (`/api/v1/liveness`, `/api/v1/reconcile`, the drift gauges of `/metrics`); its
    /// credentials and TLS are --prometheus-token, --prometheus-ca-file, --prometheus-insecure.
    /// Unset: liveness is off (404 `liveness_not_configured`). --connector-allow applies.
    #[arg(long, env = "IPOCKET_LIVENESS_PROMETHEUS_URL")]
    liveness_prometheus_url: Option<String>,
    /// Seconds a liveness answer (or failure) is reused.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    liveness_ttl_secs: u64,
    /// Seconds the liveness queries may take together; past it the answer is "unknown".
    #[arg(long, default_value_t = 5.0, value_parser = liveness_timeout)]
    liveness_timeout_secs: f64,
    /// How far back "last seen up" looks (`30d`, `12h`…); widened to --reconcile-down-days.
    #[arg(long, default_value = "30d", value_parser = ipocket_connectors::liveness::parse_span)]
    liveness_window: Duration,
    /// Resolution of "last seen up" (the subquery step).
    #[arg(long, default_value = "5m", value_parser = ipocket_connectors::liveness::parse_span)]
    liveness_step: Duration,
    /// Label matchers for every liveness selector, e.g. `job=~"node|blackbox"`.
    #[arg(long, default_value = "")]
    liveness_match: String,
    /// Also read blackbox_exporter's `probe_success` (it wins over `up` for its targets).
    #[arg(long)]
    liveness_probes: bool,
    /// Also report IPv6 addresses.
    #[arg(long)]
    liveness_keep_ipv6: bool,
    /// Days after which a down address is reclaimable.
    #[arg(long, default_value_t = 30.0, value_parser = down_days)]
    reconcile_down_days: f64,
    /// Mark the UI's cookies `Secure` (set this when a TLS proxy is in front; a request with
    /// `X-Forwarded-Proto: https` gets them anyway).
    #[arg(long, env = "IPOCKET_SECURE_COOKIES")]
    secure_cookies: bool,
    /// Password checks (logins, own-password changes) run at once, each on its own thread
    /// with 19 MiB of argon2 memory kept between checks.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=64))]
    max_concurrent_logins: u16,
    /// Password checks that may wait for a free one; beyond, logins answer 503 `server_busy`
    /// with `Retry-After`.
    #[arg(long, default_value_t = 32)]
    login_queue: usize,
    /// Failed logins for one user name within --login-lockout-secs after which its logins are
    /// refused (429 `too_many_requests`, `Retry-After`) without a password check. 0: no limit.
    #[arg(long, default_value_t = 5)]
    login_failures_per_user: usize,
    /// The same limit per client address (the TCP peer). 0: no limit.
    #[arg(long, default_value_t = 20)]
    login_failures_per_address: usize,
    /// The window failed logins are counted in, and so the longest a lockout lasts (seconds).
    #[arg(long, default_value_t = 900, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    login_lockout_secs: u64,
    /// Hours after the login a session (API token or web UI) ends, however active.
    #[arg(long, default_value_t = 168.0, value_parser = session_hours)]
    session_max_age_hours: f64,
    /// Hours without a request after which a session ends.
    #[arg(long, default_value_t = 24.0, value_parser = session_hours)]
    session_idle_hours: f64,
    /// Imports (dry runs and applies, API and web UI) run at once; more answer 503
    /// `server_busy` with `Retry-After`.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=64))]
    max_concurrent_imports: u32,
    /// Do not log one line per request on standard error.
    #[arg(long)]
    quiet: bool,
}

/// Settings handlers read.
pub(crate) struct Config {
    pub(crate) public_reads: bool,
    /// `IPOCKET_SD_TOKEN`: a shared secret for the SD endpoints (`X-SD-Token`).
    pub(crate) sd_token: Option<String>,
    pub(crate) ingest: IngestOptions,
    /// `--samples-max-limit`: the largest page of the samples listing.
    pub(crate) samples_max_limit: usize,
    /// How reloads and status reach Prometheus (token, CA file, insecure).
    pub(crate) prometheus: ConnectOptions,
    /// `--connector-ca-file`: trusted by every connector run.
    pub(crate) connector_ca_file: Option<PathBuf>,
    /// `--connector-allow`: the only hosts connector runs may reach (`None`: any).
    pub(crate) connector_allow: Option<ipocket_http::TargetAllowList>,
    /// `Secure` on the UI's cookies.
    pub(crate) secure_cookies: bool,
    /// `--max-page-size`: the largest `per_page` of an API listing.
    pub(crate) max_page_size: u64,
    /// `--auto-host-for-bmc`: API and UI creates link a host-less BMC to `server_<ip>`.
    pub(crate) auto_host_for_bmc: bool,
    /// Failed logins that lock a user name or a client address (counted in the database,
    /// so every replica sees them).
    pub(crate) login_throttle: ipocket_core::LoginThrottle,
    /// The reconciliation rules (`--reconcile-down-days`).
    pub(crate) reconcile: ipocket_connectors::reconcile::ReconcileOptions,
}

/// What every request shares.
pub(crate) struct AppState {
    pub(crate) config: Config,
    /// The one writing connection; every call runs on the blocking pool, writes are
    /// serialised here (no lost update and no `database is locked` reaches a client).
    inventory: Arc<Mutex<Inventory>>,
    /// Connections for reads (WAL: readers do not wait for the writer).
    readers: Arc<Vec<Mutex<Inventory>>>,
    next_reader: std::sync::atomic::AtomicUsize,
    /// Connections for token checks only, so that long reads (import dry runs, exports)
    /// never queue a request's authentication behind them.
    auth_readers: Arc<Vec<Mutex<Inventory>>>,
    next_auth_reader: std::sync::atomic::AtomicUsize,
    /// Where password checks run (bounded memory and queue).
    pub(crate) passwords: password_workers::PasswordWorkers,
    /// `--max-concurrent-imports`.
    imports: tokio::sync::Semaphore,
    /// Security events on their way to the audit log.
    pub(crate) security: security_log::SecurityLog,
    samples: Arc<Mutex<SampleStore>>,
    /// Alert templates, rules, groups and targets (`ipocket-rulegen`, same database file).
    rules: Arc<Mutex<RuleStore>>,
    /// Automatic regeneration after rule-store writes, and the generation counters.
    pub(crate) rules_auto: rules_auto::RulesAuto,
    /// `/health`'s look at the database.
    pub(crate) db_health: db_health::DbHealth,
    /// Which replica sweeps old samples, and which regenerates rule files.
    pub(crate) retention_duty: Arc<leadership::Duty>,
    pub(crate) rules_duty: Arc<leadership::Duty>,
    /// `--remote-write-url`: where accepted pushes are forwarded, through a queue on disk.
    pub(crate) remote_write: Option<Arc<ipocket_connectors::remote_write_queue::RemoteWriteQueue>>,
    pub(crate) metrics: RequestMetrics,
    /// Rendered `/metrics` gauges and SD bodies, until the database changes.
    pub(crate) render_cache: render_cache::RenderCache,
    /// The UI's import previews, until applied.
    pub(crate) pending_imports: pending_uploads::PendingUploads,
    /// Connector runs as background jobs (the UI's Connectors page).
    pub(crate) jobs: jobs::Jobs,
    /// `--liveness-prometheus-url`: the last liveness answer (`None`: liveness is off).
    pub(crate) liveness: Option<Arc<ipocket_connectors::liveness::LivenessCache>>,
    /// This state itself, for the tasks a request spawns (a connector job outlives it).
    pub(crate) me: std::sync::Weak<AppState>,
}

impl AppState {
    /// Runs `f` with the inventory on the blocking pool.
    pub(crate) async fn with_inventory<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Inventory) -> ipocket_core::Result<T> + Send + 'static,
    {
        let inventory = Arc::clone(&self.inventory);
        let joined = tokio::task::spawn_blocking(move || {
            let mut inv = inventory.lock().unwrap_or_else(|p| p.into_inner());
            f(&mut inv)
        })
        .await;
        match joined {
            Ok(r) => r.map_err(ApiError::from),
            Err(_) => Err(ApiError::internal()),
        }
    }

    /// Runs the read `f` on one of the reading connections, on the blocking pool.
    pub(crate) async fn read_inventory<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&Inventory) -> ipocket_core::Result<T> + Send + 'static,
    {
        read_on(&self.readers, &self.next_reader, f).await
    }

    /// Runs the token check `f` on a connection of its own (never behind a long read).
    pub(crate) async fn read_auth<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&Inventory) -> ipocket_core::Result<T> + Send + 'static,
    {
        read_on(&self.auth_readers, &self.next_auth_reader, f).await
    }

    /// A slot for one import (dry run or apply), or 503 when `--max-concurrent-imports` run.
    pub(crate) fn import_slot(&self) -> Result<tokio::sync::SemaphorePermit<'_>, ApiError> {
        self.imports
            .try_acquire()
            .map_err(|_| ApiError::busy("other imports").with_retry_after(2))
    }
}

/// Runs `f` on a free connection of `pool` (or waits for one), on the blocking pool.
async fn read_on<T, F>(
    pool: &Arc<Vec<Mutex<Inventory>>>,
    next: &std::sync::atomic::AtomicUsize,
    f: F,
) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&Inventory) -> ipocket_core::Result<T> + Send + 'static,
{
    use std::sync::atomic::Ordering;
    let readers = Arc::clone(pool);
    let start = next.fetch_add(1, Ordering::Relaxed);
    let joined = tokio::task::spawn_blocking(move || {
        let n = readers.len();
        // A free connection if there is one, else wait for ours.
        let guard = (0..n)
            .find_map(|i| readers[(start + i) % n].try_lock().ok())
            .unwrap_or_else(|| readers[start % n].lock().unwrap_or_else(|p| p.into_inner()));
        f(&guard)
    })
    .await;
    match joined {
        Ok(r) => r.map_err(ApiError::from),
        Err(_) => Err(ApiError::internal()),
    }
}

impl AppState {
    /// Runs `f` with the samples store on the blocking pool.
    pub(crate) async fn with_samples<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut SampleStore) -> Result<T, ApiError> + Send + 'static,
    {
        let samples = Arc::clone(&self.samples);
        tokio::task::spawn_blocking(move || {
            let mut s = samples.lock().unwrap_or_else(|p| p.into_inner());
            f(&mut s)
        })
        .await
        .unwrap_or_else(|_| Err(ApiError::internal()))
    }
}

impl AppState {
    /// Runs `f` with the rule store on the blocking pool.
    pub(crate) async fn with_rules<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&RuleStore) -> ipocket_rulegen::Result<T> + Send + 'static,
    {
        let rules = Arc::clone(&self.rules);
        let joined = tokio::task::spawn_blocking(move || {
            let store = rules.lock().unwrap_or_else(|p| p.into_inner());
            f(&store)
        })
        .await;
        match joined {
            Ok(r) => r.map_err(ApiError::from),
            Err(_) => Err(ApiError::internal()),
        }
    }

    /// [`AppState::with_rules`] for writes: each leaves its audit row naming `actor`.
    pub(crate) async fn write_rules<T, F>(
        &self,
        actor: &ipocket_core::Actor,
        f: F,
    ) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&RuleStore) -> ipocket_rulegen::Result<T> + Send + 'static,
    {
        let actor = actor.audit_actor();
        let out = self
            .with_rules(move |store| store.as_actor(actor, f))
            .await?;
        // Every successful write may change a rule file (seed 002's data flow).
        self.rules_auto.schedule();
        Ok(out)
    }
}

fn liveness_timeout(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(t) if t.is_finite() && t > 0.0 && t <= 600.0 => Ok(t),
        _ => Err(format!(
            "{s:?} is not a number of seconds above 0 and at most 600"
        )),
    }
}

fn down_days(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(d) if d.is_finite() && (0.0..=3650.0).contains(&d) => Ok(d),
        _ => Err(format!("{s:?} is not a number of days from 0 to 3650")),
    }
}

fn retention_hours(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(h) if h.is_finite() && (0.0..=1e6).contains(&h) => Ok(h),
        _ => Err(format!("{s:?} is not a number of hours from 0 to 1000000")),
    }
}

/// Opens (or creates) the database, binds `args.listen`, creates the first admin when there
/// is no user and serves until SIGINT or SIGTERM.
pub fn run(args: ServeArgs) -> Result<ExitCode> {
    // Flags that can be wrong are read before anything is opened or created.
    let connector_allow = ipocket_http::TargetAllowList::parse(&args.connector_allow)
        .map_err(|e| anyhow::anyhow!("--connector-allow {e}"))?;
    remote_write::check_queue_dir(&args)?;
    let db = shared_db::SharedDb::open(&args.db, usize::from(args.db_pool_size), args.no_migrate)?;
    let mut inventory = db
        .inventory()
        .with_context(|| format!("opening {}", db.describe()))?;
    inventory.set_input_limits(startup::input_limits(&args));
    // Bind before creating the admin: a start that fails (port in use) creates no one and
    // prints no one-time password that the next start would not show again.
    let listener = std::net::TcpListener::bind(args.listen)
        .with_context(|| format!("binding {}", args.listen))?;
    listener.set_nonblocking(true)?;
    let state = startup::open_state(&args, &db, inventory, connector_allow)?;
    startup::bootstrap_admin(&state, &args.admin_username)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(serve(args, state, listener))?;
    // Dropping the runtime waits for blocking tasks: an accepted write finishes.
    drop(runtime);
    Ok(ExitCode::SUCCESS)
}

/// A yes/no setting as the original read `IPOCKET_AUTO_HOST_FOR_BMC` (case and blanks aside);
/// anything else is refused rather than guessed.
fn switch(s: &str) -> Result<bool, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(format!(
            "{s:?} is not true or false (nor 1/0, yes/no, on/off)"
        )),
    }
}

fn positive_mb(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(m) if m.is_finite() && m > 0.0 && m <= 1e7 => Ok(m),
        _ => Err(format!("{s:?} is not a number of MiB above 0")),
    }
}

fn session_hours(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(h) if h.is_finite() && h > 0.0 && h <= 87_600.0 => Ok(h),
        _ => Err(format!(
            "{s:?} is not a number of hours above 0 and at most 87600"
        )),
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

async fn serve(
    args: ServeArgs,
    state: Arc<AppState>,
    listener: std::net::TcpListener,
) -> Result<()> {
    let listener = tokio::net::TcpListener::from_std(listener)?;
    let addr = listener.local_addr()?;
    // One line: whoever starts the server may read just this line and close the pipe. A
    // closed standard output does not stop the server (`println!` would panic on it).
    {
        use std::io::Write as _;
        let mut out = std::io::stdout().lock();
        let _ = writeln!(
            out,
            "ipocket serve: listening on http://{addr} (database {}); web UI at http://{addr}/ui/",
            args.db
        )
        .and_then(|()| out.flush());
    }
    tracing::info!(
        listen = %addr,
        db = %args.db,
        version = env!("CARGO_PKG_VERSION"),
        sqlite = rusqlite::version(),
        remote_write = state.remote_write.is_some(),
        "ipocket serve {} listening on http://{addr} (database {}, SQLite {})",
        env!("CARGO_PKG_VERSION"),
        args.db,
        rusqlite::version()
    );

    // Dropped when serving ends, which stops the remote_write sender; whatever it had not
    // sent stays on disk for the next start.
    let (_stop_remote_write, stopped) = tokio::sync::watch::channel(false);
    if let Some(queue) = &state.remote_write {
        tokio::spawn(Arc::clone(queue).run(stopped, "ipocket serve: remote_write"));
    }
    if args.ingest_retention_hours > 0.0 {
        let retention = Duration::from_secs_f64(args.ingest_retention_hours * 3600.0);
        tokio::spawn(retention::run(Arc::clone(&state), retention, !args.quiet));
    }
    if state.rules_auto.enabled {
        tokio::spawn(rules_auto::run(Arc::clone(&state), !args.quiet));
    }
    if state.jobs.shared() {
        tokio::spawn(jobs::watch_orphans(Arc::clone(&state)));
    }

    let limits = Arc::new(Limits {
        max_body_bytes: args.max_body_bytes,
        body_timeout: Duration::from_secs(args.body_timeout),
        log: !args.quiet,
    });
    let make_service = move |peer: SocketAddr| {
        let (state, limits) = (Arc::clone(&state), Arc::clone(&limits));
        service_fn(move |req| handle(req, peer, Arc::clone(&state), Arc::clone(&limits)))
    };
    let shutdown = async {
        shutdown_signal().await;
        tracing::info!("shutting down; finishing open requests");
    };
    let options = ServeOptions {
        header_timeout: Duration::from_secs(args.header_timeout),
        shutdown_grace: Duration::from_secs(args.shutdown_grace),
    };
    if !serve_peers(listener, make_service, shutdown, options).await {
        tracing::warn!("grace period over; closing open connections");
    }
    Ok(())
}

struct Limits {
    max_body_bytes: usize,
    body_timeout: Duration,
    log: bool,
}

async fn handle(
    req: Request<Incoming>,
    peer: SocketAddr,
    state: Arc<AppState>,
    limits: Arc<Limits>,
) -> Result<Response<Body>, std::convert::Infallible> {
    let started = Instant::now();
    let (parts, body) = req.into_parts();
    let too_large = ApiError::new(
        ApiErrorCode::BodyTooLarge,
        format!(
            "request body is larger than the limit of {} bytes",
            limits.max_body_bytes
        ),
    )
    .with_details(serde_json::json!({"limit": limits.max_body_bytes}));
    let announced = parts
        .headers
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let body = if announced.is_some_and(|n| n > limits.max_body_bytes as u64) {
        Err(too_large)
    } else {
        let read = Limited::new(body, limits.max_body_bytes).collect();
        match tokio::time::timeout(limits.body_timeout, read).await {
            Ok(Ok(b)) => Ok(b.to_bytes()),
            Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => Err(too_large),
            Ok(Err(_)) => Err(ApiError::bad_request("reading the request body failed")),
            Err(_) => Err(ApiError::new(
                ApiErrorCode::BodyTimeout,
                "the request body did not arrive in time",
            )),
        }
    };
    let method = parts.method.clone();
    let (route, response) = match body {
        Ok(body) => {
            let api = ApiRequest::new(
                parts.method,
                parts.uri.path(),
                parts.uri.query(),
                parts.headers,
                body,
                Some(peer.ip().to_canonical()),
            );
            routing::route(&state, api).await
        }
        Err(e) => {
            let mut r = http::error_response(&e);
            // The rest of the body is not read: close the connection after answering.
            r.headers_mut().insert(
                hyper::header::CONNECTION,
                hyper::header::HeaderValue::from_static("close"),
            );
            ("(body)", r)
        }
    };
    let took = started.elapsed();
    let status = response.status().as_u16();
    state.metrics.observe(method.as_str(), route, status, took);
    if limits.log {
        // The route pattern only: no query string, no header, no body (tokens and passwords
        // never reach the log).
        let ms = (took.as_secs_f64() * 10_000.0).round() / 10.0;
        tracing::info!(
            target: "ipocket_server::access",
            method = %method,
            route,
            status,
            ms,
            "{method} {route} {status} {ms:.1}ms"
        );
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        serve: ServeArgs,
    }

    /// `--auto-host-for-bmc` is on by default, read from `IPOCKET_AUTO_HOST_FOR_BMC` with the
    /// original's spellings, and refuses anything else.
    #[test]
    fn auto_host_for_bmc_flag_and_environment() {
        const VAR: &str = "IPOCKET_AUTO_HOST_FOR_BMC";
        let parse = |args: &[&str]| {
            let argv = ["ipocket"].iter().chain(args).copied();
            Cli::try_parse_from(argv).map(|c| c.serve.auto_host_for_bmc)
        };
        std::env::remove_var(VAR);
        assert!(parse(&[]).unwrap());
        assert!(!parse(&["--auto-host-for-bmc=false"]).unwrap());
        assert!(parse(&["--auto-host-for-bmc", "yes"]).unwrap());
        let e = parse(&["--auto-host-for-bmc=maybe"])
            .unwrap_err()
            .to_string();
        assert!(e.contains("not true or false"), "{e}");
        for (value, want) in [("Off", false), (" 0 ", false), ("no", false), ("1", true)] {
            std::env::set_var(VAR, value);
            assert_eq!(parse(&[]).unwrap(), want, "{value:?}");
        }
        std::env::remove_var(VAR);
    }

    /// `--db` takes a path, sqlite:PATH or a postgres:// URL (a bad one is refused before
    /// anything opens); `--db-pool-size` defaults to 16 and refuses 0.
    #[test]
    fn db_url_and_pool_size_flags() {
        let parse = |args: &[&str]| {
            let argv = ["ipocket"].iter().chain(args).copied();
            Cli::try_parse_from(argv).map(|c| c.serve)
        };
        let default = parse(&[]).unwrap();
        assert_eq!(
            default.db.sqlite_path(),
            Some(std::path::Path::new("ipocket.db"))
        );
        assert_eq!(default.db_pool_size, 16);
        let pg = parse(&[
            "--db",
            "postgres://ipocket:pw@db:5432/ipocket",
            "--db-pool-size",
            "4",
        ])
        .unwrap();
        assert_eq!(pg.db.backend(), ipocket_db::Backend::Postgres);
        assert_eq!(pg.db_pool_size, 4);
        for (bad, says) in [
            (&["--db", "mysql://u@h/db"][..], "unknown scheme"),
            (&["--db-pool-size", "0"][..], "0"),
        ] {
            let e = parse(bad).err().unwrap().to_string();
            assert!(e.contains(says), "{bad:?}: {e}");
        }
    }

    /// On PostgreSQL every store of the replica opens on one pool of `--db-pool-size`
    /// connections at most, and `/health` reports the database.
    #[test]
    fn the_state_opens_on_one_postgres_pool_and_health_reports_it() {
        let url = ipocket_testkit::postgres::Postgres::shared().fresh_db();
        let args = Cli::parse_from(["ipocket", "--db", &url, "--db-pool-size", "3"]).serve;
        let shared =
            shared_db::SharedDb::open(&args.db, usize::from(args.db_pool_size), false).unwrap();
        let state = startup::open_state(
            &args,
            &shared,
            shared.inventory().unwrap(),
            Default::default(),
        )
        .unwrap();
        let rt = tokio::runtime::Runtime::new().unwrap();
        let answer = rt.block_on(handlers::system::health(&state)).unwrap();
        assert_eq!(answer.status(), 200);
        let body = rt
            .block_on(answer.into_body().collect())
            .unwrap()
            .to_bytes();
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["status"], "ok");
        assert_eq!(v["database"]["backend"], "postgres");
        assert_eq!(v["database"]["schema_current"], true);
        let pooled = ipocket_db::Database::postgres(match &shared {
            shared_db::SharedDb::Postgres { pool, .. } => pool.clone(),
            shared_db::SharedDb::Sqlite(_) => unreachable!(),
        })
        .read(|c| -> ipocket_db::Result<i64> {
            c.query_one(
                "SELECT count(*) FROM pg_stat_activity \
                 WHERE application_name = current_setting('application_name')",
                &[],
            )?
            .get(0)
        })
        .unwrap();
        assert!((1..=3).contains(&pooled), "{pooled} connections");
    }

    /// On PostgreSQL the remote_write queue needs a folder of its own: no database file to
    /// put it beside.
    #[test]
    fn remote_write_on_postgres_needs_a_queue_dir() {
        let pg = [
            "--db",
            "postgres://u@db/ipocket",
            "--remote-write-url",
            "http://r/w",
        ];
        let parse = |extra: &[&str]| {
            let argv = ["ipocket"].iter().chain(&pg).chain(extra).copied();
            Cli::try_parse_from(argv).unwrap().serve
        };
        let e = remote_write::check_queue_dir(&parse(&[])).unwrap_err();
        assert!(e.to_string().contains("--remote-write-queue-dir"), "{e}");
        remote_write::check_queue_dir(&parse(&["--remote-write-queue-dir", "/tmp/q"])).unwrap();
    }

    /// Six Viewers looping dry-run imports once made `/auth/me` wait for the reading
    /// connections. With every reader and every import slot taken, a token check still answers
    /// and one more import is refused (503) instead of queueing.
    #[test]
    fn token_checks_do_not_wait_for_busy_readers_and_imports_are_limited() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("i.db");
        let args = Cli::parse_from(["ipocket", "--db", db.to_str().unwrap()]).serve;
        let shared = shared_db::SharedDb::open(&args.db, 1, false).unwrap();
        let state = startup::open_state(
            &args,
            &shared,
            shared.inventory().unwrap(),
            Default::default(),
        )
        .unwrap();
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            let token = state
                .with_inventory(|inv| {
                    inv.create_user(
                        &ipocket_core::Actor::system(),
                        "vi",
                        "pw",
                        ipocket_core::Role::Viewer,
                    )?;
                    Ok(inv.login("vi", "pw")?.expect("login").1)
                })
                .await
                .unwrap();
            let request = |path: &str, query: Option<&str>| {
                let mut h = hyper::HeaderMap::new();
                h.insert("authorization", format!("Bearer {token}").parse().unwrap());
                ApiRequest::new(hyper::Method::GET, path, query, h, Default::default(), None)
            };
            // Every reading connection busy (long dry runs), every import slot taken.
            let _readers: Vec<_> = state.readers.iter().map(|m| m.lock().unwrap()).collect();
            let _slots = state.imports.try_acquire_many(2).unwrap();
            let me = request("/api/v1/auth/me", None);
            let answer =
                tokio::time::timeout(Duration::from_secs(20), handlers::session::me(&state, &me))
                    .await
                    .expect("/auth/me waited for the import readers");
            assert_eq!(answer.unwrap().status(), 200);
            let import = request("/api/v1/import", Some("file=bundle.json"));
            let refused = handlers::data_ops::import(&state, &import)
                .await
                .unwrap_err();
            assert_eq!(refused.code, ApiErrorCode::ServerBusy);
            assert_eq!(refused.retry_after, Some(2));
        });
    }
}
