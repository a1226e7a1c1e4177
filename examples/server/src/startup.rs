//! Starting the server: every connection and store it shares, and the first admin.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result};
use ipocket_connectors::IngestOptions;
use ipocket_core::Inventory;
use ipocket_rulegen::ConnectOptions;

use crate::leadership::{self, Duty};
use crate::request_metrics::RequestMetrics;
use crate::shared_db::SharedDb;
use crate::{jobs, password_workers, pending_uploads, render_cache, AppState, Config, ServeArgs};

/// Reading connections.
const READERS: usize = 4;
/// Connections for token checks.
const AUTH_READERS: usize = 2;

/// A random password for the bootstrap admin (24 bytes from the OS, hex).
fn generated_password() -> String {
    use password_hash::rand_core::{OsRng, RngCore};
    let mut buf = [0u8; 18];
    OsRng.fill_bytes(&mut buf);
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

/// Creates the admin when the database has no user, and says so on standard output.
pub(crate) fn bootstrap_admin(state: &AppState, username: &str) -> Result<()> {
    let (password, generated) = match std::env::var("IPOCKET_ADMIN_PASSWORD") {
        Ok(p) if !p.is_empty() => (p, false),
        _ => (generated_password(), true),
    };
    let mut inventory = state.inventory.lock().unwrap_or_else(|p| p.into_inner());
    if inventory.bootstrap_admin(username, &password)? {
        use std::io::Write as _;
        // Printed once, on the terminal of whoever started the server; never logged again.
        // A closed standard output does not stop the server (`ipocket users passwd` sets a
        // password that was not seen).
        let _ = if generated {
            writeln!(
                std::io::stdout(),
                "created admin user {username:?} with password {password} (shown once; change it)"
            )
        } else {
            writeln!(
                std::io::stdout(),
                "created admin user {username:?} with the password from IPOCKET_ADMIN_PASSWORD"
            )
        };
    }
    Ok(())
}

/// What the inventory accepts (`--max-text-chars`, `--max-zip-bytes`, `--max-zip-ratio`).
pub(crate) fn input_limits(args: &ServeArgs) -> ipocket_core::InputLimits {
    ipocket_core::InputLimits {
        max_text_chars: args.max_text_chars,
        max_zip_bytes: args.max_zip_bytes,
        max_zip_ratio: args.max_zip_ratio,
    }
}

/// The liveness cache of `--liveness-prometheus-url` (checked against `--connector-allow`).
fn liveness_cache(
    args: &ServeArgs,
    prometheus: &ConnectOptions,
    allow: &ipocket_http::TargetAllowList,
    reconcile: &ipocket_connectors::reconcile::ReconcileOptions,
) -> Result<Option<Arc<ipocket_connectors::liveness::LivenessCache>>> {
    use ipocket_connectors::liveness::{LivenessCache, LivenessOptions};
    let Some(url) = args
        .liveness_prometheus_url
        .as_deref()
        .filter(|u| !u.is_empty())
    else {
        return Ok(None);
    };
    let parsed = ipocket_http::HttpClient::parse_url(url).context("--liveness-prometheus-url")?;
    if !allow.is_empty() {
        allow
            .check(&parsed)
            .context("--liveness-prometheus-url is not in --connector-allow")?;
    }
    if args.liveness_step > args.liveness_window {
        anyhow::bail!("--liveness-step must not be longer than --liveness-window");
    }
    let mut o = LivenessOptions::new(url);
    o.auth = prometheus.auth.clone();
    o.ca_file = prometheus.ca_file.clone();
    o.insecure = prometheus.insecure_tls;
    o.timeout = Duration::from_secs_f64(args.liveness_timeout_secs);
    o.window = args.liveness_window;
    o.step = args.liveness_step;
    o.matchers = args.liveness_match.clone();
    o.probes = args.liveness_probes;
    o.keep_ipv6 = args.liveness_keep_ipv6;
    reconcile.fit(&mut o);
    Ok(Some(LivenessCache::new(
        o,
        Duration::from_secs(args.liveness_ttl_secs),
    )))
}

/// Opens every connection and store the server shares (`inventory` is the writer).
pub(crate) fn open_state(
    args: &ServeArgs,
    db: &SharedDb,
    mut inventory: Inventory,
    connector_allow: ipocket_http::TargetAllowList,
) -> Result<Arc<AppState>> {
    let secs = |h: f64| ((h * 3600.0).round() as i64).max(1);
    let policy = ipocket_core::SessionPolicy {
        max_age_secs: secs(args.session_max_age_hours),
        idle_secs: secs(args.session_idle_hours),
    };
    let limits = input_limits(args);
    inventory.set_session_policy(policy);
    inventory.set_input_limits(limits);
    let open = |n: usize, what: &str| {
        (0..n)
            .map(|_| {
                db.inventory().map(|mut inv| {
                    inv.set_session_policy(policy);
                    inv.set_input_limits(limits);
                    inv
                })
            })
            .collect::<ipocket_core::Result<Vec<_>>>()
            .with_context(|| format!("opening {} for {what}", db.describe()))
    };
    let lock_all = |v: Vec<Inventory>| Arc::new(v.into_iter().map(Mutex::new).collect::<Vec<_>>());
    let readers = lock_all(open(READERS, "reads")?);
    let auth_readers = lock_all(open(AUTH_READERS, "token checks")?);
    let passwords = password_workers::PasswordWorkers::start(
        open(usize::from(args.max_concurrent_logins), "password checks")?,
        args.login_queue,
    )
    .context("starting the password check threads")?;
    let samples = db
        .sample_store()
        .with_context(|| format!("opening the samples store in {}", db.describe()))?;
    let rules = db
        .rule_store()
        .with_context(|| format!("opening the rule store in {}", db.describe()))?;
    if let Some(dir) = &args.rules_dir {
        rules
            .set_setting("rule_dir", &dir.to_string_lossy())
            .context("--rules-dir")?;
    }
    if let Some(url) = &args.prometheus_url {
        rules
            .set_setting("prometheus_url", url)
            .context("--prometheus-url")?;
    }
    if let Some(dir) = &args.prometheus_rule_dir {
        rules
            .set_setting("prometheus_rule_dir", &dir.to_string_lossy())
            .context("--prometheus-rule-dir")?;
    }
    if let Some(promtool) = &args.promtool {
        rules
            .set_setting("promtool", &promtool.to_string_lossy())
            .context("--promtool")?;
    }
    let prometheus = ConnectOptions::from_flags(
        args.prometheus_token.as_deref(),
        args.prometheus_ca_file.clone(),
        args.prometheus_insecure,
    );
    // A CA file that cannot be read fails at start, not at the first reload.
    ipocket_http::HttpClient::new()
        .with_connect_options(&prometheus)
        .context("--prometheus-ca-file")?;
    if let Some(ca) = &args.connector_ca_file {
        ipocket_http::HttpClient::new()
            .with_ca_file(ca)
            .with_context(|| format!("--connector-ca-file {}", ca.display()))?;
    }
    let remote_write = crate::remote_write::open_queue(args)?;
    let others = db
        .other_replicas()
        .with_context(|| format!("looking for other replicas on {}", db.describe()))?;
    if others > 0 {
        tracing::info!("{others} other replica(s) serve this database");
    }
    let jobs = db
        .job_store()
        .map_err(anyhow::Error::from)
        .and_then(|store| jobs::Jobs::new(store, db, !args.quiet))
        .with_context(|| format!("opening the connector jobs in {}", db.describe()))?;
    let reconcile = ipocket_connectors::reconcile::ReconcileOptions {
        down_after: Duration::from_secs_f64(args.reconcile_down_days * 86_400.0),
        ..Default::default()
    };
    let liveness = liveness_cache(args, &prometheus, &connector_allow, &reconcile)?;
    let db_health = crate::db_health::DbHealth::open(db)
        .with_context(|| format!("opening {} for /health", db.describe()))?;
    let render_cache = render_cache::RenderCache::open(db)
        .with_context(|| format!("opening {} for the render cache", db.describe()))?;
    Ok(Arc::new_cyclic(|me| AppState {
        config: Config {
            public_reads: args.public_reads,
            sd_token: std::env::var("IPOCKET_SD_TOKEN")
                .ok()
                .filter(|t| !t.is_empty()),
            ingest: IngestOptions {
                max_body_bytes: args.max_body_bytes,
                require_registered: !args.ingest_unregistered,
                max_labels: args.ingest_max_labels,
                max_label_name_bytes: args.ingest_max_label_name_bytes,
                max_label_value_bytes: args.ingest_max_label_value_bytes,
                max_future_skew_ms: i64::from(args.ingest_max_future_skew_seconds) * 1000,
            },
            samples_max_limit: args.samples_max_limit as usize,
            prometheus,
            secure_cookies: args.secure_cookies,
            connector_ca_file: args.connector_ca_file.clone(),
            connector_allow: (!connector_allow.is_empty()).then_some(connector_allow),
            max_page_size: args.max_page_size,
            auto_host_for_bmc: args.auto_host_for_bmc,
            reconcile,
            login_throttle: ipocket_core::LoginThrottle {
                per_user: args.login_failures_per_user,
                per_address: args.login_failures_per_address,
                window: Duration::from_secs(args.login_lockout_secs),
            },
        },
        inventory: Arc::new(Mutex::new(inventory)),
        readers,
        next_reader: Default::default(),
        auth_readers,
        next_auth_reader: Default::default(),
        passwords,
        imports: tokio::sync::Semaphore::new(args.max_concurrent_imports as usize),
        security: Default::default(),
        samples: Arc::new(Mutex::new(samples)),
        rules: Arc::new(Mutex::new(rules)),
        db_health,
        retention_duty: Duty::new(
            "ingest retention sweep",
            leadership::RETENTION_DUTY,
            db.clone(),
            !args.quiet,
        ),
        rules_duty: Duty::new(
            "automatic rule regeneration",
            leadership::RULES_DUTY,
            db.clone(),
            !args.quiet,
        ),
        rules_auto: crate::rules_auto::RulesAuto::new(
            args.rules_auto_regenerate,
            Duration::from_millis(args.rules_debounce_ms),
        ),
        remote_write,
        metrics: RequestMetrics::default(),
        render_cache,
        // A few previews of the largest upload at once.
        pending_imports: pending_uploads::PendingUploads::new(
            args.max_body_bytes.saturating_mul(4),
        ),
        jobs,
        liveness,
        me: me.clone(),
    }))
}
