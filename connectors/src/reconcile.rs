//! Reconciliation of the inventory with what Prometheus sees (issue #21): three lists.
//!
//! - **Unknown**: up now in Prometheus, no active asset (an archived one is restored).
//! - **Reclaimable**: an active asset that no target carries (`not_scraped`), or whose
//!   targets are all down and were last seen up more than [`ReconcileOptions::down_after`]
//!   ago (or not at all within the liveness window, which is made at least that long).
//! - **Mismatch**: a target's labels disagree with the asset (`project`, `type`, `host`
//!   label names by default), or one of its targets was never up in the window while the
//!   address is otherwise alive (a wrong port, an exporter that is not installed).
//!
//! Unknown and Reclaimable become [`Bundle`]s for the one import engine
//! ([`Reconciliation::unknown_bundle`], [`Reconciliation::reclaimable_bundle`]): the dry run
//! is `Inventory::plan` (CREATE / UPDATE / SKIP with field diffs), the apply is
//! `Inventory::apply` (one transaction, audited, source `reconcile:unknown` or
//! `reconcile:reclaimable`). When Prometheus could not be asked every list is empty: an
//! outage never makes the whole inventory look reclaimable.

use std::collections::BTreeMap;
use std::time::Duration;

use ipocket_core::import::{BundleAsset, BundleHost, BundleProject, SourceLocation};
use ipocket_core::{AssetType, Bundle, IpAsset};
use serde::Serialize;

use crate::liveness::{asset_ip, join, summarize, LiveState, Observations, PrometheusStatus};

/// The audit source of an "unknown" apply.
pub const SOURCE_UNKNOWN: &str = "reconcile:unknown";
/// The audit source of a "reclaimable" apply.
pub const SOURCE_RECLAIMABLE: &str = "reconcile:reclaimable";
/// The audit source of a "mismatch" apply.
pub const SOURCE_MISMATCH: &str = "reconcile:mismatch";
/// Default age after which a down address is reclaimable: 30 days.
pub const DEFAULT_DOWN_AFTER: Duration = Duration::from_secs(30 * 86_400);

/// The rules of the three lists; [`ReconcileOptions::default`] sets the defaults.
#[derive(Debug, Clone)]
pub struct ReconcileOptions {
    /// A down address last seen up longer ago than this is reclaimable (default 30 days).
    pub down_after: Duration,
    /// The target label compared with the asset's project (default `project`; empty: off).
    pub project_label: String,
    /// … with its type (default `type`; empty: off).
    pub type_label: String,
    /// … with its host name (default `host`; empty: off).
    pub host_label: String,
    /// Type of the assets an "unknown" apply creates (default `OTHER`).
    pub asset_type: AssetType,
    /// Project of the assets an "unknown" apply creates (must exist).
    pub project: Option<String>,
}

impl ReconcileOptions {
    /// Widens `liveness`'s window to [`ReconcileOptions::down_after`] at least: "not up
    /// within the window" must mean "down for longer than that".
    pub fn fit(&self, liveness: &mut crate::liveness::LivenessOptions) {
        liveness.window = liveness.window.max(self.down_after);
    }
}

impl Default for ReconcileOptions {
    fn default() -> Self {
        ReconcileOptions {
            down_after: DEFAULT_DOWN_AFTER,
            project_label: "project".into(),
            type_label: "type".into(),
            host_label: "host".into(),
            asset_type: AssetType::Other,
            project: None,
        }
    }
}

/// Alive in Prometheus, not in the inventory.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnknownAddress {
    /// Canonical address.
    pub ip: String,
    /// Last seen up (unix seconds).
    pub last_seen_up: Option<f64>,
    /// Jobs it was seen in.
    pub jobs: Vec<String>,
    /// Address label values.
    pub instances: Vec<String>,
    /// An archived asset has it (the apply restores it).
    pub archived: bool,
}

/// In the inventory, and dead or unseen.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReclaimableAddress {
    /// Canonical address.
    pub ip: String,
    /// `not_scraped` or `down`.
    pub state: LiveState,
    /// Last seen up within the window (unix seconds).
    pub last_seen_up: Option<f64>,
    /// Jobs it is scraped in (down ones).
    pub jobs: Vec<String>,
    /// The asset's project, type and host, for the reader.
    pub project: Option<String>,
    /// The asset's type.
    #[serde(rename = "type")]
    pub asset_type: AssetType,
    /// The asset's host.
    pub host: Option<String>,
}

/// What disagrees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MismatchKind {
    /// The project label differs from the asset's project.
    Project,
    /// The type label differs from the asset's type.
    Type,
    /// The host label differs from the asset's host name.
    Host,
    /// This target was never up in the window while the address is otherwise alive.
    NeverUp,
}

impl MismatchKind {
    /// `project`, `type`, `host` or `never_up`.
    pub fn as_str(self) -> &'static str {
        match self {
            MismatchKind::Project => "project",
            MismatchKind::Type => "type",
            MismatchKind::Host => "host",
            MismatchKind::NeverUp => "never_up",
        }
    }
}

/// One disagreement between a target and its asset.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Mismatch {
    /// Canonical address.
    pub ip: String,
    /// What disagrees.
    pub kind: MismatchKind,
    /// The target's job.
    pub job: String,
    /// The target's address label value.
    pub instance: String,
    /// The inventory's value (`None`: unset).
    pub inventory: Option<String>,
    /// Prometheus's value (the label, or `never up` for [`MismatchKind::NeverUp`]).
    pub prometheus: Option<String>,
}

/// The three lists.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reconciliation {
    /// Whether the lists come from an answer (all empty when not).
    pub prometheus: PrometheusStatus,
    /// Alive, undocumented.
    pub unknown: Vec<UnknownAddress>,
    /// Documented, dead or unseen.
    pub reclaimable: Vec<ReclaimableAddress>,
    /// Labels or targets that disagree.
    pub mismatch: Vec<Mismatch>,
    /// The rule used for "down for too long", in seconds.
    pub down_after_seconds: u64,
}

/// Computes the three lists from the observations (or the fetch error) and every asset of
/// the inventory (archived ones too: an alive archived address is "unknown").
///
/// ```
/// use ipocket_connectors::{liveness::*, reconcile::*};
/// use ipocket_connectors::prometheus::parse_query_response;
/// let up = parse_query_response(200, br#"{"status":"success","data":{"resultType":"vector","result":[
///   {"metric":{"job":"node","instance":"10.0.0.9:9100"},"value":[1,"1"]}]}}"#).unwrap();
/// let none = parse_query_response(200, br#"{"status":"success","data":{"resultType":"vector","result":[]}}"#).unwrap();
/// let obs = Observations::from_answers(&LivenessOptions::new("http://p"), 1.0, &up, &none, None);
/// let r = reconcile(&Ok(obs), &[], &ReconcileOptions::default());
/// assert_eq!(r.unknown[0].ip, "10.0.0.9");
/// let b = r.unknown_bundle(&ReconcileOptions::default());
/// let plan = ipocket_core::Inventory::open_in_memory().unwrap()
///     .plan(b, &ipocket_core::ImportOptions::default()).unwrap();
/// assert_eq!(plan.summary.ip_assets.create, 1);
/// ```
pub fn reconcile(
    obs: &Result<Observations, String>,
    assets: &[IpAsset],
    opts: &ReconcileOptions,
) -> Reconciliation {
    let report = join(obs, assets);
    let mut out = Reconciliation {
        prometheus: report.prometheus,
        unknown: Vec::new(),
        reclaimable: Vec::new(),
        mismatch: Vec::new(),
        down_after_seconds: opts.down_after.as_secs(),
    };
    let Ok(obs) = obs else {
        return out;
    };
    // Active first, so that an address both archived and active (never, but) counts as active.
    let mut by_ip: BTreeMap<std::net::IpAddr, &IpAsset> = BTreeMap::new();
    for a in assets {
        if let Some(ip) = asset_ip(a) {
            let keep = by_ip.get(&ip).is_some_and(|old| !old.archived);
            if !keep {
                by_ip.insert(ip, a);
            }
        }
    }
    let limit = obs.fetched_at - opts.down_after.as_secs_f64();
    for (ip, series) in &obs.by_ip {
        let (state, last, jobs, instances) = summarize(series);
        let asset = by_ip.get(ip).copied();
        let active = asset.filter(|a| !a.archived);
        match active {
            None if state == LiveState::Up => out.unknown.push(UnknownAddress {
                ip: ip.to_string(),
                last_seen_up: last,
                jobs,
                instances,
                archived: asset.is_some(),
            }),
            None => {}
            Some(a) => {
                if state == LiveState::Down && last.is_none_or(|t| t < limit) {
                    out.reclaimable.push(reclaimable(a, state, last, jobs));
                } else {
                    out.mismatch.extend(mismatches(a, series, opts));
                }
            }
        }
    }
    for (ip, a) in &by_ip {
        if !a.archived && !obs.by_ip.contains_key(ip) {
            out.reclaimable
                .push(reclaimable(a, LiveState::NotScraped, None, Vec::new()));
        }
    }
    out.reclaimable
        .sort_by_key(|r| r.ip.parse::<std::net::IpAddr>().ok());
    out
}

fn reclaimable(
    a: &IpAsset,
    state: LiveState,
    last: Option<f64>,
    jobs: Vec<String>,
) -> ReclaimableAddress {
    ReclaimableAddress {
        ip: a.ip_address.clone(),
        state,
        last_seen_up: last,
        jobs,
        project: a.project_name.clone(),
        asset_type: a.asset_type,
        host: a.host_name.clone(),
    }
}

/// The label and never-up disagreements of one live (or recently live) documented address.
fn mismatches(
    a: &IpAsset,
    series: &[crate::liveness::Series],
    opts: &ReconcileOptions,
) -> Vec<Mismatch> {
    let mut out = Vec::new();
    let inventory_project = a.project_name.clone();
    let checks: [(&str, MismatchKind, Option<String>); 3] = [
        (
            &opts.project_label,
            MismatchKind::Project,
            inventory_project,
        ),
        (
            &opts.type_label,
            MismatchKind::Type,
            Some(a.asset_type.as_str().to_string()),
        ),
        (&opts.host_label, MismatchKind::Host, a.host_name.clone()),
    ];
    for s in series {
        let mut push = |kind, inventory: Option<String>, prometheus: Option<String>| {
            out.push(Mismatch {
                ip: a.ip_address.clone(),
                kind,
                job: s.job.clone(),
                instance: s.instance.clone(),
                inventory,
                prometheus,
            })
        };
        if !s.up && s.last_seen_up.is_none() {
            push(MismatchKind::NeverUp, None, Some("never up".into()));
        }
        for (label, kind, inventory) in &checks {
            if label.is_empty() {
                continue;
            }
            let Some(value) = s.labels.get(*label).filter(|v| !v.is_empty()) else {
                continue;
            };
            // The SD endpoint's group labels: several assets, or none, say nothing of this one.
            let agrees = match kind {
                MismatchKind::Project if value == "unassigned" => inventory.is_none(),
                MismatchKind::Type => inventory
                    .as_deref()
                    .is_some_and(|t| t.eq_ignore_ascii_case(value)),
                _ => inventory.as_deref() == Some(value.as_str()),
            };
            if value != "multiple" && !agrees {
                push(*kind, inventory.clone(), Some(value.clone()));
            }
        }
    }
    out
}

/// The lists an import can act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReconcileList {
    /// Create the addresses alive in Prometheus and missing from the inventory.
    Unknown,
    /// Archive the addresses not scraped, or down for too long.
    Reclaimable,
    /// Give the assets Prometheus's project, type and host.
    Mismatch,
}

impl std::str::FromStr for ReconcileList {
    type Err = String;

    /// `unknown`, `reclaimable` or `mismatch`.
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "unknown" => Ok(ReconcileList::Unknown),
            "reclaimable" => Ok(ReconcileList::Reclaimable),
            "mismatch" => Ok(ReconcileList::Mismatch),
            other => Err(format!(
                "{other:?}: expected \"unknown\", \"reclaimable\" or \"mismatch\""
            )),
        }
    }
}

impl Reconciliation {
    /// The bundle of `list` for the import engine, or, when Prometheus could not be asked,
    /// why there is nothing to plan (`nothing to plan or apply: Prometheus unreachable: …`).
    pub fn bundle(&self, list: ReconcileList, opts: &ReconcileOptions) -> Result<Bundle, String> {
        if let Some(e) = &self.prometheus.error {
            return Err(format!("nothing to plan or apply: {e}"));
        }
        Ok(match list {
            ReconcileList::Unknown => self.unknown_bundle(opts),
            ReconcileList::Reclaimable => self.reclaimable_bundle(),
            ReconcileList::Mismatch => self.mismatch_bundle(),
        })
    }

    /// The "unknown" addresses as a bundle: create each (type and project from `opts`; an
    /// archived one is restored, its type and notes kept).
    pub fn unknown_bundle(&self, opts: &ReconcileOptions) -> Bundle {
        let ip_assets = self
            .unknown
            .iter()
            .enumerate()
            .map(|(i, u)| {
                let mut a = BundleAsset::new(
                    SourceLocation::path(format!("reconcile.unknown[{i}]")),
                    u.ip.clone(),
                );
                a.asset_type = Some(opts.asset_type);
                a.project_name = opts.project.clone();
                a.notes = Some(format!(
                    "Seen up by Prometheus (jobs: {}; instances: {}).",
                    u.jobs.join(", "),
                    u.instances.join(", ")
                ));
                a.preserve_existing_notes = true;
                a.preserve_existing_type = true;
                a.archived = Some(false);
                a
            })
            .collect();
        Bundle {
            source: SOURCE_UNKNOWN.into(),
            ip_assets,
            ..Bundle::default()
        }
    }

    /// The "reclaimable" addresses as a bundle: archive each (nothing else changes).
    pub fn reclaimable_bundle(&self) -> Bundle {
        let ip_assets = self
            .reclaimable
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let mut a = BundleAsset::new(
                    SourceLocation::path(format!("reconcile.reclaimable[{i}]")),
                    r.ip.clone(),
                );
                a.archived = Some(true);
                a
            })
            .collect();
        Bundle {
            source: SOURCE_RECLAIMABLE.into(),
            ip_assets,
            ..Bundle::default()
        }
    }

    /// The label mismatches as a bundle: each asset takes Prometheus's project, type and host,
    /// and a project or host missing from the inventory is created. Left alone, as there is no
    /// one value to take: a field whose targets disagree among themselves, a type label that
    /// names no asset type, a project label `unassigned` (import never clears a project), and
    /// never-up targets (the fix is in the scrape configuration, not the inventory).
    pub fn mismatch_bundle(&self) -> Bundle {
        let mut taken: BTreeMap<&str, (usize, TakenFields)> = BTreeMap::new();
        for (i, m) in self.mismatch.iter().enumerate() {
            let Some(value) = m.prometheus.as_deref() else {
                continue;
            };
            let fields = &mut taken.entry(&m.ip).or_insert((i, TakenFields::default())).1;
            // Types compare without case (see `mismatches`); the import takes the exact name.
            let upper = value.to_ascii_uppercase();
            match m.kind {
                MismatchKind::Project if value != "unassigned" => fields.project.offer(value),
                MismatchKind::Type if upper.parse::<AssetType>().is_ok() => {
                    fields.asset_type.offer(&upper)
                }
                MismatchKind::Host => fields.host.offer(value),
                _ => {}
            }
        }
        let mut bundle = Bundle {
            source: SOURCE_MISMATCH.into(),
            ..Bundle::default()
        };
        let mut projects = std::collections::BTreeSet::new();
        let mut hosts = std::collections::BTreeSet::new();
        for (ip, (i, fields)) in taken {
            let location =
                |field: &str| SourceLocation::path(format!("reconcile.mismatch[{i}].{field}"));
            let mut a = BundleAsset::new(
                SourceLocation::path(format!("reconcile.mismatch[{i}]")),
                ip.to_string(),
            );
            a.project_name = fields.project.value();
            a.asset_type = fields.asset_type.value().and_then(|t| t.parse().ok());
            a.host_name = fields.host.value();
            if a.project_name.is_none() && a.asset_type.is_none() && a.host_name.is_none() {
                continue;
            }
            if let Some(p) = a
                .project_name
                .clone()
                .filter(|p| projects.insert(p.clone()))
            {
                bundle.projects.push(BundleProject {
                    location: location("project"),
                    name: p,
                    description: None,
                    color: None,
                });
            }
            if let Some(h) = a.host_name.clone().filter(|h| hosts.insert(h.clone())) {
                bundle.hosts.push(BundleHost {
                    location: location("host"),
                    name: h,
                    notes: None,
                    vendor_name: None,
                });
            }
            bundle.ip_assets.push(a);
        }
        bundle
    }
}

/// The value a mismatched field takes: the one value its targets agree on.
#[derive(Debug, Default)]
enum Taken {
    #[default]
    Nothing,
    One(String),
    Disputed,
}

impl Taken {
    fn offer(&mut self, value: &str) {
        *self = match std::mem::take(self) {
            Taken::Nothing => Taken::One(value.to_string()),
            Taken::One(v) if v == value => Taken::One(v),
            _ => Taken::Disputed,
        };
    }

    fn value(&self) -> Option<String> {
        match self {
            Taken::One(v) => Some(v.clone()),
            _ => None,
        }
    }
}

#[derive(Debug, Default)]
struct TakenFields {
    project: Taken,
    asset_type: Taken,
    host: Taken,
}

/// The drift gauges of `/metrics` from one liveness answer and every asset (archived too):
/// `ipam_liveness_prometheus_up` (1 when the last answer came, 0 when Prometheus could not be
/// asked), and, only with an answer (absent while unknown, never NaN):
/// `ipam_ip_alive_total`, `ipam_ip_down_total`, `ipam_ip_not_scraped_total` (documented
/// addresses by state), `ipam_ip_unknown_alive_total`, `ipam_ip_reclaimable_total`,
/// `ipam_ip_mismatch_total` (the reconciliation lists).
///
/// ```
/// let mut enc = ipocket_expfmt::Encoder::new(ipocket_expfmt::Format::Text);
/// ipocket_connectors::reconcile::encode_gauges(&mut enc, &Err("x".into()), &[], &Default::default());
/// assert!(enc.as_str().contains("ipam_liveness_prometheus_up 0\n"));
/// assert!(!enc.as_str().contains("ipam_ip_alive_total"));
/// ```
pub fn encode_gauges(
    enc: &mut ipocket_expfmt::Encoder,
    obs: &Result<Observations, String>,
    assets: &[IpAsset],
    opts: &ReconcileOptions,
) {
    let mut gauge = |name: &str, help: &str, value: usize| {
        enc.help(name, help);
        enc.metric_type(name, ipocket_expfmt::MetricType::Gauge);
        enc.sample(&ipocket_expfmt::Sample::new(
            name,
            ipocket_expfmt::Labels::default(),
            value as f64,
        ));
    };
    gauge(
        "ipam_liveness_prometheus_up",
        "1 when the last liveness query of Prometheus answered, 0 when it could not be asked.",
        usize::from(obs.is_ok()),
    );
    if obs.is_err() {
        return;
    }
    let report = join(obs, assets);
    let r = reconcile(obs, assets, opts);
    let documented = |s| report.count(s, Some(true));
    gauge(
        "ipam_ip_alive_total",
        "Documented addresses up in Prometheus.",
        documented(LiveState::Up),
    );
    gauge(
        "ipam_ip_down_total",
        "Documented addresses whose targets are all down.",
        documented(LiveState::Down),
    );
    gauge(
        "ipam_ip_not_scraped_total",
        "Documented addresses no Prometheus target carries.",
        documented(LiveState::NotScraped),
    );
    gauge(
        "ipam_ip_unknown_alive_total",
        "Addresses up in Prometheus that no active asset documents.",
        r.unknown.len(),
    );
    gauge(
        "ipam_ip_reclaimable_total",
        "Documented addresses not scraped, or down for longer than the reclaim age.",
        r.reclaimable.len(),
    );
    gauge(
        "ipam_ip_mismatch_total",
        "Disagreements between target labels and assets, and targets never up.",
        r.mismatch.len(),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::liveness::{LivenessOptions, Series};

    fn series(job: &str, up: bool, last: Option<f64>, labels: &[(&str, &str)]) -> Series {
        Series {
            job: job.into(),
            instance: format!("x:{job}"),
            metric: "up",
            up,
            last_seen_up: last,
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    fn asset(ip: &str, archived: bool) -> IpAsset {
        crate::liveness::tests::asset(ip, archived)
    }

    #[test]
    fn each_list_from_each_state() {
        let day = 86_400.0;
        let now = 100.0 * day;
        let mut obs = Observations {
            fetched_at: now,
            ..Observations::default()
        };
        let mut add = |ip: &str, s: Vec<Series>| {
            obs.by_ip.insert(ip.parse().unwrap(), s);
        };
        add("10.0.0.1", vec![series("node", true, Some(now), &[])]); // unknown
        add("10.0.0.2", vec![series("node", true, Some(now), &[])]); // archived: unknown
        add(
            "10.0.0.3",
            vec![series("node", false, Some(now - 40.0 * day), &[])],
        ); // reclaimable
        add(
            "10.0.0.4",
            vec![series("node", false, Some(now - day), &[])],
        ); // recent: nothing
        add("10.0.0.5", vec![series("node", false, None, &[])]); // never up: reclaimable
        add(
            "10.0.0.6",
            vec![
                series(
                    "node",
                    true,
                    Some(now),
                    &[("project", "web"), ("type", "vm")],
                ),
                series("sd", false, None, &[("project", "multiple")]),
            ],
        );
        add("10.0.0.8", vec![series("node", false, None, &[])]); // undocumented, down: nothing
        let inv = [
            asset("10.0.0.2", true),
            asset("10.0.0.3", false),
            asset("10.0.0.4", false),
            asset("10.0.0.5", false),
            IpAsset {
                asset_type: AssetType::Vm,
                ..asset("10.0.0.6", false)
            },
            asset("10.0.0.7", false), // not scraped
        ];
        let r = reconcile(&Ok(obs), &inv, &ReconcileOptions::default());
        let ips = |v: Vec<&String>| v.into_iter().cloned().collect::<Vec<_>>();
        assert_eq!(
            ips(r.unknown.iter().map(|u| &u.ip).collect()),
            ["10.0.0.1", "10.0.0.2"]
        );
        assert!(r.unknown[1].archived);
        assert_eq!(
            ips(r.reclaimable.iter().map(|u| &u.ip).collect()),
            ["10.0.0.3", "10.0.0.5", "10.0.0.7"]
        );
        assert_eq!(r.reclaimable[2].state, LiveState::NotScraped);
        let kinds: Vec<_> = r
            .mismatch
            .iter()
            .map(|m| (m.ip.as_str(), m.kind, m.job.as_str()))
            .collect();
        assert_eq!(
            kinds,
            [
                ("10.0.0.6", MismatchKind::Project, "node"),
                ("10.0.0.6", MismatchKind::NeverUp, "sd"),
            ],
            "type VM = vm; `multiple` says nothing"
        );
        assert_eq!(r.mismatch[0].prometheus.as_deref(), Some("web"));
        assert_eq!(r.mismatch[0].inventory, None);

        let mut inv_db = ipocket_core::Inventory::open_in_memory().unwrap();
        let sys = ipocket_core::Actor::system();
        for ip in ["10.0.0.3", "10.0.0.5", "10.0.0.7"] {
            inv_db
                .create_ip_asset(&sys, &ipocket_core::NewIpAsset::new(ip, AssetType::Vm))
                .unwrap();
        }
        let plan = inv_db
            .plan(r.reclaimable_bundle(), &Default::default())
            .unwrap();
        assert_eq!(plan.summary.ip_assets.update, 3);
        let first = plan.items().next().unwrap();
        let change = &first.changes[0];
        assert_eq!(
            (&*change.field, change.after.as_deref()),
            ("archived", Some("true"))
        );
        inv_db.apply(&sys, &plan).unwrap();
        assert!(inv_db.ip_asset("10.0.0.7").unwrap().archived);
    }

    #[test]
    fn the_mismatch_list_takes_prometheus_values_it_agrees_on() {
        let now = 1_000.0;
        let mut obs = Observations {
            fetched_at: now,
            ..Observations::default()
        };
        fn labels<'a>(p: &'a str, t: &'a str, h: &'a str) -> [(&'a str, &'a str); 3] {
            [("project", p), ("type", t), ("host", h)]
        }
        let mut add = |ip: &str, s: Vec<Series>| {
            obs.by_ip.insert(ip.parse().unwrap(), s);
        };
        // One target: every field is taken (a new project and host are created).
        add(
            "10.0.0.1",
            vec![series("node", true, Some(now), &labels("web", "os", "n1"))],
        );
        // Two targets that disagree on the project: only the host is taken; `nonsense` is no type.
        add(
            "10.0.0.2",
            vec![
                series("node", true, Some(now), &labels("web", "nonsense", "n2")),
                series("app", true, Some(now), &labels("db", "nonsense", "n2")),
            ],
        );
        // Only never up, and `unassigned`: nothing to take.
        add(
            "10.0.0.3",
            vec![
                series("node", true, Some(now), &[("project", "unassigned")]),
                series("sd", false, None, &[]),
            ],
        );
        let mut db = ipocket_core::Inventory::open_in_memory().unwrap();
        let sys = ipocket_core::Actor::system();
        let mut inv = Vec::new();
        for ip in ["10.0.0.1", "10.0.0.2", "10.0.0.3"] {
            let mut new = ipocket_core::NewIpAsset::new(ip, AssetType::Vm);
            if ip == "10.0.0.3" {
                new.project_id = Some(db.create_project(&sys, "core", None, None).unwrap().id);
            }
            inv.push(db.create_ip_asset(&sys, &new).unwrap());
        }
        let r = reconcile(&Ok(obs), &inv, &ReconcileOptions::default());
        assert!(
            r.mismatch.iter().any(|m| m.ip == "10.0.0.3"),
            "{:?}",
            r.mismatch
        );
        let bundle = r
            .bundle(ReconcileList::Mismatch, &Default::default())
            .unwrap();
        assert_eq!(bundle.source, SOURCE_MISMATCH);
        assert_eq!(bundle.ip_assets.len(), 2);
        let plan = db.plan(bundle, &Default::default()).unwrap();
        db.apply(&sys, &plan).unwrap();
        let a = db.ip_asset("10.0.0.1").unwrap();
        assert_eq!(
            (
                a.project_name.as_deref(),
                a.asset_type,
                a.host_name.as_deref()
            ),
            (Some("web"), AssetType::Os, Some("n1"))
        );
        let b = db.ip_asset("10.0.0.2").unwrap();
        assert_eq!(
            (
                b.project_name.as_deref(),
                b.asset_type,
                b.host_name.as_deref()
            ),
            (None, AssetType::Vm, Some("n2"))
        );
        assert_eq!(
            db.ip_asset("10.0.0.3").unwrap().project_name.as_deref(),
            Some("core")
        );
    }

    #[test]
    fn an_outage_empties_every_list() {
        let inv = [asset("10.0.0.7", false)];
        let r = reconcile(
            &Err("Prometheus unreachable: x".into()),
            &inv,
            &Default::default(),
        );
        assert!(r.unknown.is_empty() && r.reclaimable.is_empty() && r.mismatch.is_empty());
        assert_eq!(
            r.prometheus.error.as_deref(),
            Some("Prometheus unreachable: x")
        );
        let _ = LivenessOptions::new("http://p");
    }
}
