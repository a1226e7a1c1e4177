//! Liveness: which addresses Prometheus sees up, down, or not at all (issue #21).
//!
//! [`fetch`] runs a few instant queries on `/api/v1/query` through the shared HTTP client (the
//! Prometheus connector's URL, TLS and auth options) and keeps one [`Series`] per scrape
//! target, keyed by the address in its `instance` label (the connector's extraction rules,
//! [`sample_ip`]). [`join`] puts those [`Observations`] beside the inventory:
//! each address is `up`, `down`, `not_scraped` or, when Prometheus could not be asked,
//! `unknown`. [`LivenessCache`] keeps the last answer for a TTL and bounds every wait, so that
//! a slow or stopped Prometheus never blocks a caller; `docs/liveness.md` is the user guide.
//!
//! The queries (`M` = [`LivenessOptions::matchers`], `W` the window, `S` the step):
//! - `up{M}`: the state now (`1` up, `0` down);
//! - `last_over_time(timestamp(up{M} == 1)[W:S])`: when it was last seen up, at `S`
//!   resolution; no sample means "not up within `W`";
//! - with [`LivenessOptions::probes`], the same two on `probe_success{M}` (blackbox_exporter):
//!   a target with a probe series is judged by the probe, not by the exporter's `up`.
//!
//! ```
//! use ipocket_connectors::liveness::*;
//! use ipocket_connectors::prometheus::parse_query_response;
//! let up = parse_query_response(200, br#"{"status":"success","data":{"resultType":"vector","result":[
//!   {"metric":{"__name__":"up","job":"node","instance":"10.0.0.1:9100"},"value":[1700000000,"1"]},
//!   {"metric":{"__name__":"up","job":"node","instance":"10.0.0.2:9100"},"value":[1700000000,"0"]}]}}"#).unwrap();
//! let last = parse_query_response(200, br#"{"status":"success","data":{"resultType":"vector","result":[
//!   {"metric":{"job":"node","instance":"10.0.0.1:9100"},"value":[1700000000,"1700000000"]}]}}"#).unwrap();
//! let opts = LivenessOptions::new("http://127.0.0.1:9090");
//! let obs = Observations::from_answers(&opts, 1700000000.0, &up, &last, None);
//! let mut inv = ipocket_core::Inventory::open_in_memory().unwrap();
//! let new = ipocket_core::NewIpAsset::new("10.0.0.3", ipocket_core::AssetType::Vm);
//! let documented = vec![inv.create_ip_asset(&ipocket_core::Actor::system(), &new).unwrap()];
//! let report = join(&Ok(obs), &documented);
//! let states: Vec<_> = report.addresses.iter().map(|a| (a.ip.as_str(), a.state)).collect();
//! assert_eq!(states, [("10.0.0.1", LiveState::Up), ("10.0.0.2", LiveState::Down),
//!                     ("10.0.0.3", LiveState::NotScraped)]);
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ipocket_core::IpAsset;
use ipocket_http::Auth;
use serde::Serialize;
use serde_json::Value;

use crate::prometheus::{
    parse_query_response, query_client, query_url, sample_ip, PrometheusConnectorError,
    QueryResponse,
};

/// Default lookback of "last seen up": 30 days.
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(30 * 86_400);
/// Default resolution of "last seen up" (the subquery step): 5 minutes.
pub const DEFAULT_STEP: Duration = Duration::from_secs(300);
/// Default bound of one liveness fetch (all queries together): 5 seconds.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
/// Default time a fetched answer is reused: 30 seconds.
pub const DEFAULT_TTL: Duration = Duration::from_secs(30);

/// Where and how to ask Prometheus; [`LivenessOptions::new`] sets the defaults.
#[derive(Debug, Clone)]
pub struct LivenessOptions {
    /// Base URL, e.g. `http://127.0.0.1:9090`.
    pub prometheus_url: String,
    /// Bearer or Basic credentials.
    pub auth: Option<Auth>,
    /// Skip TLS certificate verification (`https://` only).
    pub insecure: bool,
    /// Also trust the PEM certificates in this file.
    pub ca_file: Option<PathBuf>,
    /// Bound of the whole fetch; past it the answer is `unknown` (default 5 s).
    pub timeout: Duration,
    /// The label holding the address (default `instance`).
    pub ip_label: String,
    /// Keep IPv6 addresses (the connector's rule: skipped with a warning otherwise).
    pub keep_ipv6: bool,
    /// Label matchers put inside the braces of every selector, e.g. `job=~"node|blackbox"`.
    pub matchers: String,
    /// How far back "last seen up" looks (default 30 days).
    pub window: Duration,
    /// The resolution of "last seen up" (default 5 minutes).
    pub step: Duration,
    /// Also read blackbox_exporter's `probe_success`, which wins over `up` for its targets.
    pub probes: bool,
}

impl LivenessOptions {
    /// `instance`, IPv4 only, no matchers, 30 d window, 5 min step, 5 s timeout, no probes.
    pub fn new(prometheus_url: &str) -> Self {
        LivenessOptions {
            prometheus_url: prometheus_url.to_string(),
            auth: None,
            insecure: false,
            ca_file: None,
            timeout: DEFAULT_TIMEOUT,
            ip_label: "instance".into(),
            keep_ipv6: false,
            matchers: String::new(),
            window: DEFAULT_WINDOW,
            step: DEFAULT_STEP,
            probes: false,
        }
    }

    /// The state query of `metric` (`up` or `probe_success`).
    pub fn state_query(&self, metric: &str) -> String {
        format!("{metric}{{{}}}", self.matchers)
    }

    /// The "last seen up" query of `metric`.
    ///
    /// ```
    /// let o = ipocket_connectors::liveness::LivenessOptions::new("http://p:9090");
    /// assert_eq!(o.last_up_query("up"), "last_over_time(timestamp(up{} == 1)[2592000s:300s])");
    /// ```
    pub fn last_up_query(&self, metric: &str) -> String {
        format!(
            "last_over_time(timestamp({metric}{{{}}} == 1)[{}s:{}s])",
            self.matchers,
            self.window.as_secs().max(1),
            self.step.as_secs().max(1)
        )
    }
}

/// The state of one address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LiveState {
    /// At least one of its targets answers now.
    Up,
    /// Scraped (or probed), and none of its targets answers now.
    Down,
    /// No target of Prometheus carries this address.
    NotScraped,
    /// Prometheus could not be asked (unreachable, slow, refused): nothing is known.
    Unknown,
}

impl LiveState {
    /// `up`, `down`, `not_scraped` or `unknown`.
    pub fn as_str(self) -> &'static str {
        match self {
            LiveState::Up => "up",
            LiveState::Down => "down",
            LiveState::NotScraped => "not_scraped",
            LiveState::Unknown => "unknown",
        }
    }
}

/// One scrape target (or blackbox probe) of an address.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Series {
    /// `job` label.
    pub job: String,
    /// The address label's value as Prometheus has it (`10.0.0.1:9100`).
    pub instance: String,
    /// `up` or `probe_success`.
    pub metric: &'static str,
    /// Answering now.
    pub up: bool,
    /// Unix seconds of the last step it was up within the window.
    pub last_seen_up: Option<f64>,
    /// Its labels, `__name__` aside (for the mismatch checks).
    pub labels: BTreeMap<String, String>,
}

/// What Prometheus said, by address.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Observations {
    /// Unix seconds when it was asked.
    pub fetched_at: f64,
    /// The targets of each address (IPv4 first, in numeric order).
    pub by_ip: BTreeMap<IpAddr, Vec<Series>>,
    /// Samples skipped (no address, loopback, IPv6…) and Prometheus's own warnings.
    pub warnings: Vec<String>,
}

fn label_key(metric: &serde_json::Map<String, Value>) -> String {
    let mut parts: Vec<String> = metric
        .iter()
        .filter(|(k, _)| *k != "__name__")
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
        .collect();
    parts.sort_unstable();
    parts.join("\u{1f}")
}

impl Observations {
    /// Builds the observations from the answers of the state query, the last-up query and,
    /// with probes, the two `probe_success` ones (pure: the join is tested without a server).
    pub fn from_answers(
        opts: &LivenessOptions,
        fetched_at: f64,
        up: &QueryResponse,
        last_up: &QueryResponse,
        probes: Option<(&QueryResponse, &QueryResponse)>,
    ) -> Observations {
        let mut out = Observations {
            fetched_at,
            ..Observations::default()
        };
        // label set → series; probes replace `up` of the same target.
        let mut series: BTreeMap<String, (IpAddr, Series)> = BTreeMap::new();
        let mut read = |metric: &'static str, state: &QueryResponse, last: &QueryResponse| {
            let last_by_key: BTreeMap<String, f64> = last
                .samples
                .iter()
                .filter_map(|s| Some((label_key(&s.metric), s.value.parse::<f64>().ok()?)))
                .filter(|(_, t)| t.is_finite())
                .collect();
            for w in state.warnings.iter().chain(&last.warnings) {
                out.warnings.push(format!("Prometheus warning: {w}"));
            }
            for (i, s) in state.samples.iter().enumerate() {
                let ip = match sample_ip(&s.metric, &opts.ip_label, opts.keep_ipv6) {
                    Ok(ip) => ip,
                    Err(why) => {
                        out.warnings
                            .push(format!("{metric} sample {i} skipped: {why}"));
                        continue;
                    }
                };
                let key = label_key(&s.metric);
                let text = |k: &str| {
                    s.metric
                        .get(k)
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string()
                };
                let labels = s
                    .metric
                    .iter()
                    .filter(|(k, _)| *k != "__name__")
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                    .collect();
                let one = Series {
                    job: text("job"),
                    instance: text(&opts.ip_label),
                    metric,
                    up: s.value.parse::<f64>().is_ok_and(|v| v == 1.0),
                    last_seen_up: last_by_key.get(&key).copied(),
                    labels,
                };
                series.insert(key, (ip, one));
            }
        };
        read("up", up, last_up);
        if let Some((state, last)) = probes {
            read("probe_success", state, last);
        }
        for (ip, s) in series.into_values() {
            out.by_ip.entry(ip).or_default().push(s);
        }
        out
    }
}

/// Asks Prometheus (all queries at once, bounded by [`LivenessOptions::timeout`] together).
pub async fn fetch(opts: &LivenessOptions) -> Result<Observations, PrometheusConnectorError> {
    if opts.ip_label.trim().is_empty() {
        return Err(PrometheusConnectorError::InvalidInput(
            "ip_label is empty".into(),
        ));
    }
    if opts.window < opts.step || opts.step.as_secs() == 0 {
        return Err(PrometheusConnectorError::InvalidInput(
            "the window must be at least the step, and the step at least 1 s".into(),
        ));
    }
    let client = query_client(
        opts.ca_file.as_deref(),
        opts.insecure,
        opts.timeout,
        opts.auth.clone(),
        0,
    )?;
    let fetched_at = unix_now();
    let run = |query: String| {
        let client = &client;
        async move {
            let url = query_url(&opts.prometheus_url, &query)?;
            let r = client.get(&url, "application/json").await?;
            // 100,000 series take a second to read: off the async threads.
            let status = r.status;
            tokio::task::spawn_blocking(move || parse_query_response(status, &r.body))
                .await
                .map_err(|e| PrometheusConnectorError::InvalidJson {
                    status,
                    reason: format!("the reader stopped: {e}"),
                })?
        }
    };
    let all = async {
        let (up, last) =
            tokio::try_join!(run(opts.state_query("up")), run(opts.last_up_query("up")))?;
        let probes = if opts.probes {
            Some(tokio::try_join!(
                run(opts.state_query("probe_success")),
                run(opts.last_up_query("probe_success"))
            )?)
        } else {
            None
        };
        Ok::<_, PrometheusConnectorError>((up, last, probes))
    };
    let (up, last, probes) = match tokio::time::timeout(opts.timeout, all).await {
        Ok(r) => r?,
        Err(_) => {
            return Err(PrometheusConnectorError::Http(
                ipocket_http::HttpError::Timeout {
                    url: opts.prometheus_url.clone(),
                    timeout: opts.timeout,
                },
            ))
        }
    };
    let opts = opts.clone();
    tokio::task::spawn_blocking(move || {
        Observations::from_answers(
            &opts,
            fetched_at,
            &up,
            &last,
            probes.as_ref().map(|(a, b)| (a, b)),
        )
    })
    .await
    .map_err(|e| PrometheusConnectorError::InvalidInput(format!("the join stopped: {e}")))
}

/// Every asset of `inv`, archived ones too: what [`join`] and the reconciliation take (an
/// alive archived address is "unknown", restored by the apply).
pub fn inventory_assets(inv: &ipocket_core::Inventory) -> ipocket_core::Result<Vec<IpAsset>> {
    let filter = ipocket_core::AssetFilter {
        archived: ipocket_core::ArchivedFilter::All,
        ..ipocket_core::AssetFilter::default()
    };
    let mut out = Vec::new();
    inv.for_each_ip_asset(&filter, |a| {
        out.push(a);
        Ok(())
    })?;
    Ok(out)
}

/// Asks Prometheus the way every front end does: a mistake of the caller (an empty label,
/// a window shorter than the step, a bad URL or CA file) is the error; anything Prometheus
/// does (refuses, times out, answers nonsense) is the answer `Err("Prometheus unreachable: …")`
/// that [`join`] and the reconciliation take.
pub async fn observe(
    opts: &LivenessOptions,
) -> Result<Result<Observations, String>, PrometheusConnectorError> {
    match fetch(opts).await {
        Ok(obs) => Ok(Ok(obs)),
        Err(e) if ipocket_errors::Classify::kind(&e) == ipocket_errors::ErrorKind::Invalid => {
            Err(e)
        }
        Err(e) => Ok(Err(unreachable_text(&e))),
    }
}

/// Reads a span as PromQL writes one: a whole number and a unit, `s`, `m`, `h`, `d` or `w`
/// (`30d`, `5m`); a bare number is seconds. The flags of the window and step take it.
///
/// ```
/// use ipocket_connectors::liveness::parse_span;
/// assert_eq!(parse_span("30d").unwrap().as_secs(), 2_592_000);
/// assert_eq!(parse_span("90").unwrap().as_secs(), 90);
/// assert!(parse_span("5 minutes").unwrap_err().contains("expected"));
/// ```
pub fn parse_span(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let (digits, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len()));
    let factor = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        "w" => 604_800,
        _ => 0,
    };
    match digits.parse::<u64>() {
        Ok(n) if n > 0 && factor > 0 && n <= 10 * 365 * 86_400 / factor => {
            Ok(Duration::from_secs(n * factor))
        }
        _ => Err(format!(
            "{text:?}: expected a whole number above 0 with a unit s, m, h, d or w (at most 10 years), e.g. 30d"
        )),
    }
}

/// "12 s ago", "3 h ago", "40 d ago" from unix seconds (for the human tables).
pub fn ago(now: f64, then: f64) -> String {
    let s = (now - then).max(0.0) as u64;
    match s {
        0..=119 => format!("{s} s ago"),
        120..=7_199 => format!("{} min ago", s / 60),
        7_200..=172_799 => format!("{} h ago", s / 3_600),
        _ => format!("{} d ago", s / 86_400),
    }
}

/// Unix seconds now.
pub fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// Whether Prometheus answered, and when.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PrometheusStatus {
    /// It answered every query.
    pub reachable: bool,
    /// Unix seconds of the answer used (or of the failed attempt).
    pub fetched_at: f64,
    /// `Prometheus unreachable: …` when it did not.
    pub error: Option<String>,
}

/// One address of the liveness report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AddressLiveness {
    /// Canonical address.
    pub ip: String,
    /// Its state.
    pub state: LiveState,
    /// Unix seconds it was last seen up within the window (`None`: not within it, or unknown).
    pub last_seen_up: Option<f64>,
    /// The `job`s it was seen in, sorted.
    pub jobs: Vec<String>,
    /// The address label values it was seen with, sorted.
    pub instances: Vec<String>,
    /// An active inventory asset has this address.
    pub documented: bool,
}

/// The liveness of every inventory address and of every address Prometheus knows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LivenessReport {
    /// Whether the states come from an answer.
    pub prometheus: PrometheusStatus,
    /// Addresses, IPv4 first, in numeric order.
    pub addresses: Vec<AddressLiveness>,
    /// Skipped samples and Prometheus warnings.
    pub warnings: Vec<String>,
}

impl LivenessReport {
    /// How many addresses are in `state` (documented only when `documented` is `Some(true)`,
    /// undocumented only with `Some(false)`).
    pub fn count(&self, state: LiveState, documented: Option<bool>) -> usize {
        self.addresses
            .iter()
            .filter(|a| a.state == state && documented.is_none_or(|d| a.documented == d))
            .count()
    }
}

/// The summary of one address's series: (state, last seen up, jobs, instances).
pub(crate) fn summarize(series: &[Series]) -> (LiveState, Option<f64>, Vec<String>, Vec<String>) {
    let state = if series.iter().any(|s| s.up) {
        LiveState::Up
    } else {
        LiveState::Down
    };
    let last = series
        .iter()
        .filter_map(|s| s.last_seen_up)
        .fold(None, |m: Option<f64>, t| Some(m.map_or(t, |m| m.max(t))));
    let jobs: BTreeSet<&str> = series.iter().map(|s| s.job.as_str()).collect();
    let instances: BTreeSet<&str> = series.iter().map(|s| s.instance.as_str()).collect();
    (
        state,
        last,
        jobs.into_iter().map(str::to_string).collect(),
        instances.into_iter().map(str::to_string).collect(),
    )
}

/// Parses an inventory address for the join (the inventory stores canonical text).
pub(crate) fn asset_ip(a: &IpAsset) -> Option<IpAddr> {
    a.ip_address
        .parse::<IpAddr>()
        .ok()
        .map(|ip| ip.to_canonical())
}

/// Joins what Prometheus said (or why it could not) with the active assets of `inventory`
/// (archived ones are ignored). An error gives every documented address `unknown`.
pub fn join(obs: &Result<Observations, String>, inventory: &[IpAsset]) -> LivenessReport {
    let documented: BTreeSet<IpAddr> = inventory
        .iter()
        .filter(|a| !a.archived)
        .filter_map(asset_ip)
        .collect();
    let obs = match obs {
        Ok(o) => o,
        Err(e) => {
            return LivenessReport {
                prometheus: PrometheusStatus {
                    reachable: false,
                    fetched_at: unix_now(),
                    error: Some(e.clone()),
                },
                addresses: documented
                    .iter()
                    .map(|ip| AddressLiveness {
                        ip: ip.to_string(),
                        state: LiveState::Unknown,
                        last_seen_up: None,
                        jobs: Vec::new(),
                        instances: Vec::new(),
                        documented: true,
                    })
                    .collect(),
                warnings: Vec::new(),
            };
        }
    };
    let mut all: BTreeSet<IpAddr> = documented.clone();
    all.extend(obs.by_ip.keys().copied());
    let addresses = all
        .into_iter()
        .map(|ip| {
            let (state, last_seen_up, jobs, instances) = match obs.by_ip.get(&ip) {
                Some(series) => summarize(series),
                None => (LiveState::NotScraped, None, Vec::new(), Vec::new()),
            };
            AddressLiveness {
                ip: ip.to_string(),
                state,
                last_seen_up,
                jobs,
                instances,
                documented: documented.contains(&ip),
            }
        })
        .collect();
    LivenessReport {
        prometheus: PrometheusStatus {
            reachable: true,
            fetched_at: obs.fetched_at,
            error: None,
        },
        addresses,
        warnings: obs.warnings.clone(),
    }
}

/// The liveness of one address from a fetch (or its error), without joining the whole
/// inventory: for pages that show a few addresses. `documented` is the caller's to say.
///
/// ```
/// use ipocket_connectors::liveness::*;
/// let a = address_liveness(&Ok(Observations::default()), "10.0.0.1".parse().unwrap(), true);
/// assert_eq!(a.state, LiveState::NotScraped);
/// let b = address_liveness(&Err("Prometheus unreachable: refused".into()), "10.0.0.1".parse().unwrap(), true);
/// assert_eq!(b.state, LiveState::Unknown);
/// ```
pub fn address_liveness(
    obs: &Result<Observations, String>,
    ip: IpAddr,
    documented: bool,
) -> AddressLiveness {
    let ip = ip.to_canonical();
    let (state, last_seen_up, jobs, instances) = match obs {
        Err(_) => (LiveState::Unknown, None, Vec::new(), Vec::new()),
        Ok(o) => match o.by_ip.get(&ip) {
            Some(series) => summarize(series),
            None => (LiveState::NotScraped, None, Vec::new(), Vec::new()),
        },
    };
    AddressLiveness {
        ip: ip.to_string(),
        state,
        last_seen_up,
        jobs,
        instances,
        documented,
    }
}

/// The error text of a failed fetch, as every front end shows it.
pub fn unreachable_text(e: &PrometheusConnectorError) -> String {
    match e {
        // The transport's own words ("connection to … failed", "no answer from … within").
        PrometheusConnectorError::Http(h) => format!("Prometheus unreachable: {h}"),
        other => format!("Prometheus unreachable: {other}"),
    }
}

/// One fetch's outcome, kept by [`LivenessCache`].
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// Grows by one with every fetch of the process (a key for what is derived from it).
    pub seq: u64,
    /// When it was taken (for the TTL).
    pub taken: Instant,
    /// The observations, or `Prometheus unreachable: …`.
    pub result: Result<Observations, String>,
}

/// The last fetch, reused for a TTL; a refresh is bounded by the options' timeout and at most
/// one runs at a time (callers that come meanwhile wait for it, or, with
/// [`LivenessCache::peek`], take the previous answer).
pub struct LivenessCache {
    opts: LivenessOptions,
    ttl: Duration,
    last: Mutex<Option<Arc<Snapshot>>>,
    refresh: tokio::sync::Mutex<()>,
    refreshing: AtomicBool,
}

impl LivenessCache {
    /// A cache of `opts`' answers, each reused for `ttl` (failures too, so that an outage
    /// costs one timeout per TTL, not one per caller).
    pub fn new(opts: LivenessOptions, ttl: Duration) -> Arc<LivenessCache> {
        Arc::new(LivenessCache {
            opts,
            ttl,
            last: Mutex::new(None),
            refresh: tokio::sync::Mutex::new(()),
            refreshing: AtomicBool::new(false),
        })
    }

    /// The options it fetches with.
    pub fn options(&self) -> &LivenessOptions {
        &self.opts
    }

    fn fresh(&self) -> Option<Arc<Snapshot>> {
        let last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        last.as_ref()
            .filter(|s| s.taken.elapsed() < self.ttl)
            .cloned()
    }

    /// The last answer if younger than the TTL, else a new one (waiting at most the timeout).
    pub async fn get(&self) -> Arc<Snapshot> {
        if let Some(s) = self.fresh() {
            return s;
        }
        let _one = self.refresh.lock().await;
        if let Some(s) = self.fresh() {
            return s;
        }
        let result = fetch(&self.opts).await.map_err(|e| unreachable_text(&e));
        static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        let snap = Arc::new(Snapshot {
            seq: SEQ.fetch_add(1, Ordering::Relaxed),
            taken: Instant::now(),
            result,
        });
        *self.last.lock().unwrap_or_else(|p| p.into_inner()) = Some(Arc::clone(&snap));
        snap
    }

    /// The last answer, whatever its age, without waiting (`None` before the first); when it
    /// is stale a refresh starts in the background (on the current tokio runtime).
    pub fn peek(self: &Arc<Self>) -> Option<Arc<Snapshot>> {
        let last = self.last.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let stale = last.as_ref().is_none_or(|s| s.taken.elapsed() >= self.ttl);
        if stale && !self.refreshing.swap(true, Ordering::SeqCst) {
            if let Ok(rt) = tokio::runtime::Handle::try_current() {
                let me = Arc::clone(self);
                rt.spawn(async move {
                    me.get().await;
                    me.refreshing.store(false, Ordering::SeqCst);
                });
            } else {
                self.refreshing.store(false, Ordering::SeqCst);
            }
        }
        last
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn answer(body: &str) -> QueryResponse {
        parse_query_response(200, body.as_bytes()).unwrap()
    }

    pub(crate) fn asset(ip: &str, archived: bool) -> IpAsset {
        IpAsset {
            id: 0,
            ip_address: ip.into(),
            asset_type: ipocket_core::AssetType::Other,
            project_id: None,
            project_name: None,
            host_id: None,
            host_name: None,
            tags: Vec::new(),
            notes: None,
            archived,
            created_at: String::new(),
            updated_at: String::new(),
        }
    }

    #[test]
    fn probes_win_over_up_and_last_seen_is_the_latest_of_the_targets() {
        let up = answer(
            r#"{"status":"success","data":{"resultType":"vector","result":[
            {"metric":{"__name__":"up","job":"node","instance":"10.0.0.1:9100"},"value":[1,"0"]},
            {"metric":{"__name__":"up","job":"bb","instance":"10.0.0.1"},"value":[1,"1"]},
            {"metric":{"__name__":"up","job":"node","instance":"127.0.0.1:9100"},"value":[1,"1"]},
            {"metric":{"__name__":"up","job":"node","instance":"[2001:db8::1]:9100"},"value":[1,"1"]}]}}"#,
        );
        let last = answer(
            r#"{"status":"success","data":{"resultType":"vector","result":[
            {"metric":{"job":"node","instance":"10.0.0.1:9100"},"value":[1,"100"]},
            {"metric":{"job":"bb","instance":"10.0.0.1"},"value":[1,"50"]}]}}"#,
        );
        let probe = answer(
            r#"{"status":"success","data":{"resultType":"vector","result":[
            {"metric":{"__name__":"probe_success","job":"bb","instance":"10.0.0.1"},"value":[1,"0"]}]}}"#,
        );
        let probe_last =
            answer(r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#);
        let mut opts = LivenessOptions::new("http://p");
        opts.probes = true;
        let obs = Observations::from_answers(&opts, 200.0, &up, &last, Some((&probe, &probe_last)));
        let series = &obs.by_ip[&"10.0.0.1".parse::<IpAddr>().unwrap()];
        assert_eq!(series.len(), 2);
        let bb = series.iter().find(|s| s.job == "bb").unwrap();
        assert_eq!(
            (bb.metric, bb.up, bb.last_seen_up),
            ("probe_success", false, None)
        );
        assert_eq!(obs.warnings.len(), 2, "{:?}", obs.warnings);
        let report = join(&Ok(obs), &[asset("10.0.0.1", false)]);
        let a = &report.addresses[0];
        assert_eq!((a.state, a.last_seen_up), (LiveState::Down, Some(100.0)));
        assert_eq!(a.jobs, ["bb", "node"]);
        assert_eq!(a.instances, ["10.0.0.1", "10.0.0.1:9100"]);
        assert!(a.documented);
    }

    #[test]
    fn unreachable_makes_every_documented_address_unknown_and_ignores_archived_ones() {
        let inv = [asset("10.0.0.2", false), asset("10.0.0.3", true)];
        let r = join(&Err("Prometheus unreachable: refused".into()), &inv);
        assert!(!r.prometheus.reachable);
        assert_eq!(r.addresses.len(), 1);
        assert_eq!(r.addresses[0].state, LiveState::Unknown);
        assert_eq!(r.count(LiveState::Unknown, Some(true)), 1);
    }

    #[tokio::test]
    async fn a_stopped_prometheus_answers_unknown_quickly_and_is_cached() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let cache = LivenessCache::new(
            LivenessOptions::new(&format!("http://127.0.0.1:{port}")),
            Duration::from_secs(60),
        );
        let t = Instant::now();
        let s = cache.get().await;
        let e = s.result.as_ref().unwrap_err();
        assert!(e.starts_with("Prometheus unreachable: "), "{e}");
        assert!(t.elapsed() < Duration::from_secs(2));
        assert!(Arc::ptr_eq(&s, &cache.get().await));
        assert!(Arc::ptr_eq(&s, &cache.peek().unwrap()));
    }

    #[test]
    fn a_slow_prometheus_answers_unknown_at_the_timeout_and_peek_never_waits() {
        use ipocket_testkit::stub::{Canned, Stub};
        let stub = Stub::start(Canned {
            status: 200,
            content_type: "application/json",
            body: r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#.into(),
            delay: Duration::from_secs(20),
            require_auth: None,
        });
        let mut opts = LivenessOptions::new(&format!("http://{}", stub.addr));
        opts.timeout = Duration::from_millis(500);
        let cache = LivenessCache::new(opts, Duration::from_millis(1));
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let t = Instant::now();
            assert!(cache.peek().is_none(), "nothing yet, and no wait");
            assert!(t.elapsed() < Duration::from_millis(100));
            let s = cache.get().await;
            assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
            let e = s.result.as_ref().unwrap_err();
            assert!(e.starts_with("Prometheus unreachable: no answer"), "{e}");
            // stale after 1 ms: peek answers the last one at once and refreshes behind
            tokio::time::sleep(Duration::from_millis(5)).await;
            let t = Instant::now();
            assert!(Arc::ptr_eq(&s, &cache.peek().unwrap()));
            assert!(t.elapsed() < Duration::from_millis(100));
        });
    }
}
