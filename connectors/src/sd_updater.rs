//! The service-discovery updater (seed 004): read the targets from the inventory, write
//! them as a Prometheus `file_sd` JSON file atomically, again every interval.
//!
//! - One cycle is [`write_cycle`]; [`watch`] runs cycles forever, retrying a failed cycle
//!   with exponential backoff and jitter, and keeps running when a cycle fails (the previous
//!   file stays in place, so Prometheus keeps its targets) unless its caller stops it (after
//!   refused tokens, say).
//! - The file is written with [`ipocket_files::write`]: a temp file in the same folder
//!   (`.NAME.json.ipocket-tmp-<hex>`, which Prometheus's `*.json` glob never matches), fsync,
//!   rename, fsync of the folder; a symlink is followed and kept, a device such as
//!   `/dev/null` is refused, an existing file keeps its owner and mode, a new one is 0644.
//! - An unchanged target list is not rewritten (the mtime stays, Prometheus sees no event).
//! - The targets come from a local inventory file ([`SdSource::Local`]), from a remote
//!   ipocket server's `GET /api/v1/sd` ([`SdSource::Remote`]), or from seed 004's
//!   `INVENTORY_URL`, an ipocket server or the seed's list of host names
//!   ([`SdSource::Url`], [`crate::sd_inventory`]).
//!
//! ```
//! use ipocket_connectors::sd_updater::{write_cycle, SdUpdaterConfig};
//! let dir = tempfile::tempdir().unwrap();
//! let db = dir.path().join("inv.db");
//! let mut inv = ipocket_core::Inventory::open(&db).unwrap();
//! let b = ipocket_core::parse_bundle_json(br#"{"schema_version":"1","data":{"ip_assets":[{"ip_address":"10.0.0.1","type":"VM"}]}}"#).unwrap();
//! let plan = inv.plan(b, &Default::default()).unwrap();
//! inv.apply(&ipocket_core::Actor::system(), &plan).unwrap();
//! let cfg = SdUpdaterConfig::new(&db, &dir.path().join("targets/ipocket.json"));
//! let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
//! let r = rt.block_on(write_cycle(&cfg)).unwrap();
//! assert_eq!((r.targets, r.written), (1, true));
//! assert!(!rt.block_on(write_cycle(&cfg)).unwrap().written);
//! ```

use std::fmt;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use ipocket_core::{Inventory, SdOptions, TargetGroup};

use crate::remote::{RemoteError, RemoteInventory};
use crate::sd_inventory::InventoryUrl;

/// Where the targets come from.
#[derive(Debug, Clone)]
pub enum SdSource {
    /// An inventory (SQLite file). It must exist: a typo must not empty Prometheus's targets.
    Local(PathBuf),
    /// A remote ipocket server (`INVENTORY_URL`), read with its token (boxed: the client
    /// is large beside a path).
    Remote(Box<RemoteInventory>),
    /// An inventory URL: an ipocket server or seed 004's list of host names.
    Url(Box<InventoryUrl>),
}

impl fmt::Display for SdSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SdSource::Local(db) => write!(f, "{}", db.display()),
            SdSource::Remote(r) => write!(f, "{}/api/v1/sd", r.base_url()),
            SdSource::Url(u) => write!(f, "{u}"),
        }
    }
}

/// Everything one updater needs.
#[derive(Debug, Clone)]
pub struct SdUpdaterConfig {
    /// Where the targets come from.
    pub source: SdSource,
    /// The file_sd file to write (`TARGETS_FILE`).
    pub targets_file: PathBuf,
    /// Time between cycles (`UPDATE_INTERVAL`, default 30 s).
    pub interval: Duration,
    /// Which assets, which port (`METRICS_PORT`), `__metrics_path__` (`METRICS_PATH`),
    /// grouping and extra labels (`job`, `environment`…).
    pub sd: SdOptions,
    /// Retries of a failed cycle before waiting for the next interval (default 3).
    pub retries: usize,
    /// First retry delay (doubles, with jitter, at most the interval; default 1 s).
    pub min_delay: Duration,
}

impl SdUpdaterConfig {
    /// Defaults of seed 004 (30 s, port 9100, `__metrics_path__` `/metrics`, one group) over
    /// a local inventory file.
    pub fn new(db: &Path, targets_file: &Path) -> Self {
        Self::with_source(SdSource::Local(db.to_path_buf()), targets_file)
    }

    /// The same defaults over a remote ipocket server.
    pub fn remote(server: RemoteInventory, targets_file: &Path) -> Self {
        Self::with_source(SdSource::Remote(Box::new(server)), targets_file)
    }

    /// The same defaults over any source.
    pub fn with_source(source: SdSource, targets_file: &Path) -> Self {
        SdUpdaterConfig {
            source,
            targets_file: targets_file.to_path_buf(),
            interval: Duration::from_secs(30),
            sd: SdOptions {
                metrics_path: Some("/metrics".into()),
                ..SdOptions::default()
            },
            retries: 3,
            min_delay: Duration::from_secs(1),
        }
    }
}

/// Why a cycle failed (the previous file is left untouched).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SdUpdaterError {
    /// The inventory file does not exist.
    #[error("inventory {0} does not exist")]
    MissingInventory(PathBuf),
    /// The inventory could not be read.
    #[error("inventory: {0}")]
    Inventory(#[from] ipocket_core::Error),
    /// The remote ipocket server did not answer with target groups.
    #[error("{0}")]
    Remote(#[from] RemoteError),
    /// The inventory URL answered JSON that is neither a list of host names nor target
    /// groups, or a host list with a bad name (or with filters that need ipocket's assets).
    #[error("inventory {url}: {reason}")]
    InventoryAnswer {
        /// `INVENTORY_URL`.
        url: String,
        /// What is wrong, located (`[3] "" is not a host name`).
        reason: String,
    },
    /// Writing the targets file failed (the message names the file and the OS condition;
    /// the previous file is left as it was).
    #[error("{source}")]
    Write {
        /// The targets file.
        path: PathBuf,
        /// What went wrong.
        source: ipocket_files::WriteError,
    },
    /// The blocking task reading the inventory died (a panic).
    #[error("reading the inventory: {0}")]
    Task(String),
}

/// What one cycle did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CycleReport {
    /// Target groups written.
    pub groups: usize,
    /// Targets in all groups.
    pub targets: usize,
    /// False when the file already had this content.
    pub written: bool,
}

/// One cycle: read the target groups, write the file if they changed.
pub async fn write_cycle(cfg: &SdUpdaterConfig) -> Result<CycleReport, SdUpdaterError> {
    let groups = target_groups(cfg).await?;
    write_groups(&cfg.targets_file, &groups)
}

/// Reads the target groups from the configured source (what a cycle would write).
pub async fn target_groups(cfg: &SdUpdaterConfig) -> Result<Vec<TargetGroup>, SdUpdaterError> {
    match &cfg.source {
        SdSource::Local(db) => {
            let (db, sd) = (db.clone(), cfg.sd.clone());
            tokio::task::spawn_blocking(move || local_groups(&db, &sd))
                .await
                .map_err(|e| SdUpdaterError::Task(e.to_string()))?
        }
        SdSource::Remote(server) => Ok(server.sd_target_groups(&cfg.sd).await?),
        SdSource::Url(u) => u.target_groups(&cfg.sd).await,
    }
}

fn local_groups(db: &Path, sd: &SdOptions) -> Result<Vec<TargetGroup>, SdUpdaterError> {
    if !db.exists() {
        return Err(SdUpdaterError::MissingInventory(db.to_path_buf()));
    }
    Ok(Inventory::open(db)?.sd_target_groups(sd)?)
}

/// The groups as file_sd JSON (pretty, with a final newline): the targets file's bytes.
pub fn file_sd_json(groups: &[TargetGroup]) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(groups).unwrap_or_else(|_| b"[]".to_vec());
    bytes.push(b'\n');
    bytes
}

/// Writes the groups as file_sd JSON unless the file already holds exactly that.
pub fn write_groups(
    targets_file: &Path,
    groups: &[TargetGroup],
) -> Result<CycleReport, SdUpdaterError> {
    let bytes = file_sd_json(groups);
    let outcome =
        ipocket_files::write(targets_file, &bytes).map_err(|source| SdUpdaterError::Write {
            path: targets_file.to_path_buf(),
            source,
        })?;
    Ok(CycleReport {
        groups: groups.len(),
        targets: groups.iter().map(|g| g.targets.len()).sum(),
        written: outcome.is_written(),
    })
}

/// A cycle with retries (exponential backoff with jitter, at most `cfg.retries` more tries)
/// of a transient failure ([`SdUpdaterError::is_transient`]), each logged as a warning; a
/// refused token or another client error is returned at once, as retrying cannot help.
pub async fn write_cycle_with_retries(
    cfg: &SdUpdaterConfig,
) -> Result<CycleReport, SdUpdaterError> {
    let backoff = ExponentialBuilder::default()
        .with_min_delay(cfg.min_delay)
        .with_max_delay(cfg.interval.max(cfg.min_delay))
        .with_max_times(cfg.retries)
        .with_jitter();
    let once = || write_cycle(cfg);
    once.retry(backoff)
        .when(SdUpdaterError::is_transient)
        .notify(|e, delay| {
            tracing::warn!(
                inventory = %cfg.source,
                status = e.http_status(),
                retry_in_ms = delay.as_millis() as u64,
                "sd cycle failed, retrying: {e}"
            );
        })
        .await
}

/// Runs cycles every `cfg.interval` until `shutdown` turns true or `on_cycle`, which sees
/// every outcome (log it), says [`ControlFlow::Break`]; returns that break's value (`None`
/// on shutdown). A failed cycle stops the loop only if `on_cycle` says so.
pub async fn watch<B>(
    cfg: &SdUpdaterConfig,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
    mut on_cycle: impl FnMut(&Result<CycleReport, SdUpdaterError>) -> ControlFlow<B>,
) -> Option<B> {
    loop {
        if *shutdown.borrow() {
            return None;
        }
        let r = tokio::select! {
            r = write_cycle_with_retries(cfg) => r,
            _ = shutdown.changed() => return None,
        };
        if let ControlFlow::Break(b) = on_cycle(&r) {
            return Some(b);
        }
        tokio::select! {
            _ = tokio::time::sleep(cfg.interval) => {}
            _ = shutdown.changed() => return None,
        }
    }
}

impl SdUpdaterError {
    /// The HTTP status of the inventory URL's error answer, if it answered one.
    pub fn http_status(&self) -> Option<u16> {
        match self {
            SdUpdaterError::Remote(e) => e.status(),
            _ => None,
        }
    }

    /// A 401 or a 403 from the inventory URL: the token is missing, wrong or not enough.
    pub fn is_auth_failure(&self) -> bool {
        matches!(self.http_status(), Some(401 | 403))
    }

    /// Worth retrying soon: no answer, a 5xx, a 408 or 429, an answer that is not the
    /// inventory's, a failed write. Not: any other 4xx, a missing or invalid inventory.
    pub fn is_transient(&self) -> bool {
        use ipocket_errors::{Classify, ErrorKind};
        match self.http_status() {
            Some(408 | 429) => true,
            Some(400..=499) => false,
            _ => matches!(self.kind(), ErrorKind::Unavailable | ErrorKind::Internal),
        }
    }
}

impl ipocket_errors::Classify for SdUpdaterError {
    fn kind(&self) -> ipocket_errors::ErrorKind {
        match self {
            SdUpdaterError::MissingInventory(_) => ipocket_errors::ErrorKind::NotFound,
            SdUpdaterError::Inventory(e) => e.kind(),
            SdUpdaterError::Remote(e) => e.kind(),
            SdUpdaterError::InventoryAnswer { .. } => ipocket_errors::ErrorKind::Unavailable,
            SdUpdaterError::Write { source, .. } => source.kind(),
            SdUpdaterError::Task(_) => ipocket_errors::ErrorKind::Internal,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_and_client_errors_are_not_retried_outages_are() {
        let remote = |status: u16, content_type: &str| {
            SdUpdaterError::Remote(RemoteError::Unexpected {
                url: "http://h/inventory".into(),
                status,
                content_type: content_type.into(),
                snippet: String::new(),
            })
        };
        let refused = SdUpdaterError::Remote(RemoteError::Unauthorized {
            url: "http://h/api/v1/sd".into(),
            message: "no".into(),
        });
        assert!(refused.is_auth_failure() && !refused.is_transient());
        assert_eq!(refused.http_status(), Some(401));
        let plain_403 = remote(403, "text/plain");
        assert!(plain_403.is_auth_failure() && !plain_403.is_transient());
        for status in [400, 404, 410] {
            let e = remote(status, "text/html");
            assert!(!e.is_transient() && !e.is_auth_failure(), "{status}");
        }
        for status in [408, 429, 500, 503] {
            assert!(remote(status, "text/plain").is_transient(), "{status}");
        }
        assert!(!SdUpdaterError::MissingInventory("x.db".into()).is_transient());
        assert_eq!(SdUpdaterError::Task("panic".into()).http_status(), None);
    }

    #[test]
    fn dev_null_is_refused_and_a_symlinked_targets_file_stays_a_link() {
        let err = write_groups(Path::new("/dev/null"), &[]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "/dev/null is a character device, not a regular file; refusing to replace it"
        );
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("real")).unwrap();
        let link = dir.path().join("ipocket.json");
        std::os::unix::fs::symlink("real/ipocket.json", &link).unwrap();
        assert!(write_groups(&link, &[]).unwrap().written);
        assert!(!write_groups(&link, &[]).unwrap().written);
        assert!(link.symlink_metadata().unwrap().file_type().is_symlink());
        assert_eq!(
            std::fs::read(dir.path().join("real/ipocket.json")).unwrap(),
            b"[]\n"
        );
    }
}
