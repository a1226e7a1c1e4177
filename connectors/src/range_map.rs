//! The range map, the alive utilization and the allocator's "avoid" list (issue #21): what
//! the inventory says of each address of a range, beside what Prometheus sees
//! ([`crate::liveness`]). Pure functions: the server, the CLI and the benches give them the
//! range, the active assets and the liveness answer (or its absence).
//!
//! A cell is in one of five states; the first four are the map's, the fifth stands in for
//! "up" and "down" when nothing is known of liveness:
//!
//! | state | meaning |
//! |---|---|
//! | `unused` | no active asset; not up in Prometheus (down or not scraped at all) |
//! | `up` | documented, and at least one of its targets answers now |
//! | `down` | documented, and down **or not scraped**: either way nothing answers for it |
//! | `alive` | undocumented, but up in Prometheus |
//! | `documented` | documented, liveness off or Prometheus unreachable |
//!
//! IPv4 ranges (and IPv6 ranges of 256 addresses or fewer) are shown whole, 256 addresses a
//! page (a /24 is one page, a /16 256 pages). A larger IPv6 range has far too many addresses
//! to page through, so it is paged by its **known** addresses: the documented ones and those
//! up in Prometheus, in numeric order, 256 a page.
//!
//! ```
//! use ipocket_connectors::range_map::{range_map, CellState};
//! let map = range_map("10.0.0.0/24", 1, &[], None).unwrap();
//! assert_eq!((map.pages, map.cells.len()), (1, 256));
//! assert!(map.cells[0].reserved && map.cells[1].state == CellState::Unused);
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;
use ipocket_core::{normalize_cidr, AssetType, IpAsset, RangeUtilization};
use serde::Serialize;

use crate::liveness::{asset_ip, summarize, unix_now, LiveState, Observations, PrometheusStatus};

/// Addresses on one page of the map.
pub const PAGE_SIZE: u64 = 256;

/// The state of one cell of the map (see the module's table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CellState {
    /// No active asset, not up.
    Unused,
    /// Documented and up.
    Up,
    /// Documented and down, or documented and not scraped.
    Down,
    /// Undocumented but up.
    Alive,
    /// Documented; liveness off or unknown.
    Documented,
}

impl CellState {
    /// `unused`, `up`, `down`, `alive` or `documented`.
    pub fn as_str(self) -> &'static str {
        match self {
            CellState::Unused => "unused",
            CellState::Up => "up",
            CellState::Down => "down",
            CellState::Alive => "alive",
            CellState::Documented => "documented",
        }
    }

    /// Every state, in the legend's order.
    pub const ALL: [CellState; 5] = [
        CellState::Unused,
        CellState::Up,
        CellState::Down,
        CellState::Alive,
        CellState::Documented,
    ];
}

/// What the inventory says of a documented cell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CellAsset {
    /// The asset's type.
    #[serde(rename = "type")]
    pub asset_type: AssetType,
    /// Its project.
    pub project_name: Option<String>,
    /// Its host.
    pub host_name: Option<String>,
}

/// One address of the map.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MapCell {
    /// Canonical address.
    pub ip: String,
    /// Its state.
    pub state: CellState,
    /// What Prometheus says (`None`: liveness off; `unknown`: Prometheus unreachable;
    /// `down` and `not_scraped` both give the state `down` to a documented address).
    pub live: Option<LiveState>,
    /// The network or broadcast address of an IPv4 range of /30 or wider (never assigned).
    pub reserved: bool,
    /// The active asset, when documented.
    pub asset: Option<CellAsset>,
    /// Unix seconds it was last seen up within the liveness window.
    pub last_seen_up: Option<f64>,
    /// The `job`s Prometheus scrapes it in.
    pub jobs: Vec<String>,
}

/// How a map is paged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Paging {
    /// Every address of the range, 256 a page.
    Addresses,
    /// The known addresses (documented or up) of a large IPv6 range, 256 a page.
    KnownAddresses,
}

/// How many cells of a page are in each state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct MapCounts {
    /// `unused` cells.
    pub unused: u64,
    /// `up` cells.
    pub up: u64,
    /// `down` cells.
    pub down: u64,
    /// `alive` cells.
    pub alive: u64,
    /// `documented` cells.
    pub documented: u64,
}

impl MapCounts {
    fn add(&mut self, s: CellState) {
        *match s {
            CellState::Unused => &mut self.unused,
            CellState::Up => &mut self.up,
            CellState::Down => &mut self.down,
            CellState::Alive => &mut self.alive,
            CellState::Documented => &mut self.documented,
        } += 1;
    }

    /// The count of `s`.
    pub fn of(&self, s: CellState) -> u64 {
        match s {
            CellState::Unused => self.unused,
            CellState::Up => self.up,
            CellState::Down => self.down,
            CellState::Alive => self.alive,
            CellState::Documented => self.documented,
        }
    }
}

/// One page of a range's map.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RangeMap {
    /// The range, normalised.
    pub cidr: String,
    /// This page, from 1.
    pub page: u64,
    /// Pages in all (at least 1).
    pub pages: u64,
    /// Addresses a page ([`PAGE_SIZE`]).
    pub page_size: u64,
    /// Every address, or the known ones.
    pub paging: Paging,
    /// Whether the liveness answer was used; `None` when liveness is off.
    pub prometheus: Option<PrometheusStatus>,
    /// The cells of each state on this page.
    pub counts: MapCounts,
    /// The page's addresses, in numeric order.
    pub cells: Vec<MapCell>,
}

/// A page outside the map, or a range that is not a CIDR.
#[derive(Debug, thiserror::Error)]
pub enum RangeMapError {
    /// The page does not exist.
    #[error("page: expected a page from 1 to {pages}, found {page}")]
    Page {
        /// Asked for.
        page: u64,
        /// Pages of the map.
        pages: u64,
    },
    /// The range's CIDR did not parse.
    #[error(transparent)]
    Cidr(#[from] ipocket_core::Error),
}

fn to_u128(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u32::from(v4) as u128,
        IpAddr::V6(v6) => u128::from(v6),
    }
}

fn from_u128(v4: bool, v: u128) -> IpAddr {
    if v4 {
        IpAddr::V4(Ipv4Addr::from(v as u32))
    } else {
        IpAddr::V6(Ipv6Addr::from(v))
    }
}

/// The addresses of `net` that are up in `obs`.
fn up_in<'a>(net: &IpNet, obs: &'a Observations) -> impl Iterator<Item = IpAddr> + 'a {
    obs.by_ip
        .range(net.network()..=net.broadcast())
        .filter(|(_, series)| series.iter().any(|s| s.up))
        .map(|(ip, _)| *ip)
}

/// Page `page` (from 1) of the map of `cidr`. `assets` are the inventory's assets (those
/// archived or outside the range are ignored, so a caller may pass only the page's);
/// `liveness` is `None` when liveness is off, else the cached answer or why there is none.
pub fn range_map(
    cidr: &str,
    page: u64,
    assets: &[IpAsset],
    liveness: Option<&Result<Observations, String>>,
) -> Result<RangeMap, RangeMapError> {
    let net = normalize_cidr(cidr)?;
    let v4 = matches!(net, IpNet::V4(_));
    let documented: BTreeMap<IpAddr, &IpAsset> = assets
        .iter()
        .filter(|a| !a.archived)
        .filter_map(|a| Some((asset_ip(a)?, a)))
        .filter(|(ip, _)| net.contains(ip))
        .collect();
    let obs = liveness.and_then(|l| l.as_ref().ok());
    let host_bits = u32::from(net.max_prefix_len() - net.prefix_len());
    let whole = v4 || host_bits <= 8;
    let (paging, pages, addresses): (Paging, u64, Vec<IpAddr>) = if whole {
        let total = 1u128 << host_bits; // at most 2^32 here
        let pages = total.div_ceil(u128::from(PAGE_SIZE)) as u64;
        check_page(page, pages)?;
        let lo = to_u128(net.network()) + u128::from((page - 1) * PAGE_SIZE);
        let hi = (lo + u128::from(PAGE_SIZE) - 1).min(to_u128(net.broadcast()));
        let ips = (lo..=hi).map(|v| from_u128(v4, v)).collect();
        (Paging::Addresses, pages, ips)
    } else {
        let mut known: BTreeSet<IpAddr> = documented.keys().copied().collect();
        if let Some(o) = obs {
            known.extend(up_in(&net, o));
        }
        let pages = (known.len() as u64).div_ceil(PAGE_SIZE).max(1);
        check_page(page, pages)?;
        let skip = ((page - 1) * PAGE_SIZE) as usize;
        let ips = known
            .into_iter()
            .skip(skip)
            .take(PAGE_SIZE as usize)
            .collect();
        (Paging::KnownAddresses, pages, ips)
    };
    let reserved = |ip: &IpAddr| {
        v4 && net.prefix_len() <= 30 && (*ip == net.network() || *ip == net.broadcast())
    };
    let mut counts = MapCounts::default();
    let cells = addresses
        .into_iter()
        .map(|ip| {
            let asset = documented.get(&ip);
            let (live, last_seen_up, jobs) = match (liveness, obs.and_then(|o| o.by_ip.get(&ip))) {
                (None, _) => (None, None, Vec::new()),
                (Some(Err(_)), _) => (Some(LiveState::Unknown), None, Vec::new()),
                (Some(Ok(_)), None) => (Some(LiveState::NotScraped), None, Vec::new()),
                (Some(Ok(_)), Some(series)) => {
                    let (state, last, jobs, _) = summarize(series);
                    (Some(state), last, jobs)
                }
            };
            let state = match (asset.is_some(), live) {
                (true, Some(LiveState::Up)) => CellState::Up,
                (true, Some(LiveState::Down | LiveState::NotScraped)) => CellState::Down,
                (true, _) => CellState::Documented,
                (false, Some(LiveState::Up)) => CellState::Alive,
                (false, _) => CellState::Unused,
            };
            counts.add(state);
            MapCell {
                ip: ip.to_string(),
                state,
                live,
                reserved: reserved(&ip),
                asset: asset.map(|a| CellAsset {
                    asset_type: a.asset_type,
                    project_name: a.project_name.clone(),
                    host_name: a.host_name.clone(),
                }),
                last_seen_up,
                jobs,
            }
        })
        .collect();
    Ok(RangeMap {
        cidr: net.to_string(),
        page,
        pages,
        page_size: PAGE_SIZE,
        paging,
        prometheus: liveness.map(status),
        counts,
        cells,
    })
}

/// The CIDR that holds every address of page `page` of `cidr`'s map: the page's aligned
/// block of 256 for an IPv4 range wider than /24, else the range itself (a caller reads only
/// the assets inside it).
///
/// ```
/// use ipocket_connectors::range_map::page_net;
/// assert_eq!(page_net("10.1.0.0/16", 3).unwrap(), "10.1.2.0/24");
/// assert_eq!(page_net("10.1.0.0/26", 1).unwrap(), "10.1.0.0/26");
/// assert_eq!(page_net("2001:db8::/64", 2).unwrap(), "2001:db8::/64");
/// ```
pub fn page_net(cidr: &str, page: u64) -> Result<String, RangeMapError> {
    let net = normalize_cidr(cidr)?;
    match net {
        IpNet::V4(v4) if v4.prefix_len() < 24 => {
            let pages = 1u64 << (24 - v4.prefix_len());
            check_page(page, pages)?;
            let first = u32::from(v4.network()) + ((page - 1) as u32) * PAGE_SIZE as u32;
            Ok(format!("{}/24", Ipv4Addr::from(first)))
        }
        _ => Ok(net.to_string()),
    }
}

fn check_page(page: u64, pages: u64) -> Result<(), RangeMapError> {
    if (1..=pages).contains(&page) {
        Ok(())
    } else {
        Err(RangeMapError::Page { page, pages })
    }
}

/// Whether the answer was used, as the liveness report says it.
pub fn status(liveness: &Result<Observations, String>) -> PrometheusStatus {
    match liveness {
        Ok(o) => PrometheusStatus {
            reachable: true,
            fetched_at: o.fetched_at,
            error: None,
        },
        Err(e) => PrometheusStatus {
            reachable: false,
            fetched_at: unix_now(),
            error: Some(e.clone()),
        },
    }
}

/// The second utilization of a range: how many of its addresses answer in Prometheus.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AliveUtilization {
    /// Addresses of the range up now (documented or not).
    pub alive: u128,
    /// Of those, documented.
    pub documented_up: u128,
    /// Of those, undocumented (the map's `alive` cells).
    pub undocumented_alive: u128,
    /// `alive / usable × 100` (the documented figure is [`RangeUtilization::percent`]).
    pub percent: f64,
}

/// The alive utilization of `u`'s range from `obs`; `documented` holds the canonical
/// addresses of the active assets (of this range or of all: only the range's are looked at).
pub fn alive_utilization(
    u: &RangeUtilization,
    documented: &BTreeSet<IpAddr>,
    obs: &Observations,
) -> Result<AliveUtilization, RangeMapError> {
    let net = normalize_cidr(&u.range.cidr)?;
    let (mut alive, mut documented_up) = (0u128, 0u128);
    for ip in up_in(&net, obs) {
        alive += 1;
        documented_up += u128::from(documented.contains(&ip));
    }
    let percent = if u.usable == 0 {
        0.0
    } else {
        alive as f64 / u.usable as f64 * 100.0
    };
    Ok(AliveUtilization {
        alive,
        documented_up,
        undocumented_alive: alive - documented_up,
        percent,
    })
}

/// Both utilizations of a range, as every front end shows them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RangeUtilizations {
    /// Documented: the range, usable, used, free, percent.
    #[serde(flatten)]
    pub documented: RangeUtilization,
    /// Alive: `None` when liveness is off or Prometheus unreachable.
    pub alive: Option<AliveUtilization>,
}

/// Both utilizations of each of `ranges`, and the liveness answer's status (`None` when
/// liveness is off); `assets` are the inventory's (archived ones are ignored).
pub fn utilizations(
    ranges: Vec<RangeUtilization>,
    assets: &[IpAsset],
    liveness: Option<&Result<Observations, String>>,
) -> Result<(Option<PrometheusStatus>, Vec<RangeUtilizations>), RangeMapError> {
    let obs = liveness.and_then(|l| l.as_ref().ok());
    let documented = match obs {
        Some(_) => documented_set(assets),
        None => BTreeSet::new(),
    };
    let list = ranges
        .into_iter()
        .map(|u| {
            let alive = match obs {
                Some(o) => Some(alive_utilization(&u, &documented, o)?),
                None => None,
            };
            Ok(RangeUtilizations {
                documented: u,
                alive,
            })
        })
        .collect::<Result<Vec<_>, RangeMapError>>()?;
    Ok((liveness.map(status), list))
}

/// The canonical addresses of the active assets.
pub fn documented_set(assets: &[IpAsset]) -> BTreeSet<IpAddr> {
    assets
        .iter()
        .filter(|a| !a.archived)
        .filter_map(asset_ip)
        .collect()
}

/// The addresses the allocator should pass over: up in Prometheus and not documented by an
/// active asset, each with the reason shown to the user
/// (`undocumented but up in Prometheus (job stray, 10.9.8.20:9100)`).
pub fn alive_undocumented(obs: &Observations, assets: &[IpAsset]) -> BTreeMap<IpAddr, String> {
    let documented = documented_set(assets);
    obs.by_ip
        .iter()
        .filter(|(ip, series)| !documented.contains(ip) && series.iter().any(|s| s.up))
        .map(|(ip, series)| {
            let (_, _, jobs, instances) = summarize(series);
            let why = format!(
                "undocumented but up in Prometheus (job {}, {})",
                jobs.join(", "),
                instances.join(", ")
            );
            (*ip, why)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::liveness::tests::asset;
    use crate::liveness::Series;
    use proptest::prelude::*;

    fn series(up: bool) -> Series {
        Series {
            job: "node".into(),
            instance: "x:9100".into(),
            metric: "up",
            up,
            last_seen_up: up.then_some(100.0),
            labels: BTreeMap::new(),
        }
    }

    fn obs(up: &[&str], down: &[&str]) -> Observations {
        let mut o = Observations {
            fetched_at: 200.0,
            ..Observations::default()
        };
        for (ips, state) in [(up, true), (down, false)] {
            for ip in ips {
                o.by_ip.insert(ip.parse().unwrap(), vec![series(state)]);
            }
        }
        o
    }

    fn state_of(map: &RangeMap, ip: &str) -> CellState {
        map.cells.iter().find(|c| c.ip == ip).unwrap().state
    }

    #[test]
    fn the_four_states_of_a_slash_24_and_documented_without_liveness() {
        let assets = [
            asset("10.0.0.1", false),
            asset("10.0.0.2", false),
            asset("10.0.0.3", false),
            asset("10.0.0.4", true),
            asset("10.0.1.1", false),
        ];
        let live = Ok(obs(
            &["10.0.0.1", "10.0.0.9", "10.0.0.4"],
            &["10.0.0.2", "10.0.0.10"],
        ));
        let m = range_map("10.0.0.0/24", 1, &assets, Some(&live)).unwrap();
        assert_eq!(
            (m.pages, m.cells.len(), m.paging),
            (1, 256, Paging::Addresses)
        );
        assert_eq!(state_of(&m, "10.0.0.1"), CellState::Up);
        assert_eq!(state_of(&m, "10.0.0.2"), CellState::Down);
        // not scraped is down too, and says so in `live`
        assert_eq!(state_of(&m, "10.0.0.3"), CellState::Down);
        assert_eq!(m.cells[3].live, Some(LiveState::NotScraped));
        // archived: undocumented, and up
        assert_eq!(state_of(&m, "10.0.0.4"), CellState::Alive);
        assert_eq!(state_of(&m, "10.0.0.9"), CellState::Alive);
        // undocumented and down is unused
        assert_eq!(state_of(&m, "10.0.0.10"), CellState::Unused);
        assert_eq!(
            m.counts,
            MapCounts {
                unused: 251,
                up: 1,
                down: 2,
                alive: 2,
                documented: 0
            }
        );
        assert!(m.cells[0].reserved && m.cells[255].reserved && !m.cells[1].reserved);
        assert_eq!(m.cells[1].jobs, ["node"]);

        let off = range_map("10.0.0.0/24", 1, &assets, None).unwrap();
        assert_eq!(off.prometheus, None);
        assert_eq!(off.counts.documented, 3);
        assert_eq!(off.counts.unused, 253);
        let down = Err("Prometheus unreachable: refused".to_string());
        let unknown = range_map("10.0.0.0/24", 1, &assets, Some(&down)).unwrap();
        assert_eq!(state_of(&unknown, "10.0.0.1"), CellState::Documented);
        assert_eq!(unknown.cells[1].live, Some(LiveState::Unknown));
        assert!(!unknown.prometheus.unwrap().reachable);
    }

    #[test]
    fn a_slash_16_has_256_pages_and_a_small_range_one_short_page() {
        let m = range_map("10.1.0.0/16", 256, &[asset("10.1.255.7", false)], None).unwrap();
        assert_eq!((m.page, m.pages), (256, 256));
        assert_eq!(m.cells[0].ip, "10.1.255.0");
        assert_eq!(m.cells[255].ip, "10.1.255.255");
        assert!(!m.cells[0].reserved && m.cells[255].reserved);
        assert_eq!(state_of(&m, "10.1.255.7"), CellState::Documented);
        assert!(matches!(
            range_map("10.1.0.0/16", 257, &[], None),
            Err(RangeMapError::Page {
                page: 257,
                pages: 256
            })
        ));
        assert!(range_map("10.1.0.0/16", 0, &[], None).is_err());
        let small = range_map("10.2.0.0/30", 1, &[], None).unwrap();
        assert_eq!(small.cells.len(), 4);
        let p2p = range_map("10.2.0.0/31", 1, &[], None).unwrap();
        assert!(p2p.cells.iter().all(|c| !c.reserved));
    }

    #[test]
    fn a_large_ipv6_range_is_paged_by_its_known_addresses() {
        let assets = [asset("2001:db8::5", false), asset("2001:db8:1::1", false)];
        let live = Ok(obs(&["2001:db8::1", "2001:db8::ffff"], &["2001:db8::2"]));
        let m = range_map("2001:db8::/64", 1, &assets, Some(&live)).unwrap();
        assert_eq!(m.paging, Paging::KnownAddresses);
        let ips: Vec<_> = m.cells.iter().map(|c| (c.ip.as_str(), c.state)).collect();
        assert_eq!(
            ips,
            [
                ("2001:db8::1", CellState::Alive),
                ("2001:db8::5", CellState::Down),
                ("2001:db8::ffff", CellState::Alive)
            ]
        );
        let empty = range_map("2001:db8:9::/48", 1, &[], None).unwrap();
        assert_eq!((empty.pages, empty.cells.len()), (1, 0));
        // a /120 is small enough to show whole
        let whole = range_map("2001:db8::/120", 1, &[], None).unwrap();
        assert_eq!((whole.paging, whole.cells.len()), (Paging::Addresses, 256));
    }

    #[test]
    fn alive_utilization_and_the_addresses_to_avoid() {
        let u = RangeUtilization {
            range: ipocket_core::IpRange {
                id: 1,
                name: "lab".into(),
                cidr: "10.0.0.0/24".into(),
                notes: None,
            },
            total: 256,
            usable: 254,
            used: 2,
            free: 252,
            percent: 2.0 / 254.0 * 100.0,
            subnets_64: None,
        };
        let o = obs(&["10.0.0.1", "10.0.0.9", "10.0.1.9"], &["10.0.0.2"]);
        let assets = [asset("10.0.0.1", false), asset("10.0.0.2", false)];
        let a = alive_utilization(&u, &documented_set(&assets), &o).unwrap();
        assert_eq!((a.alive, a.documented_up, a.undocumented_alive), (2, 1, 1));
        assert!((a.percent - 2.0 / 254.0 * 100.0).abs() < 1e-9);
        let avoid = alive_undocumented(&o, &assets);
        let ips: Vec<String> = avoid.keys().map(|ip| ip.to_string()).collect();
        assert_eq!(ips, ["10.0.0.9", "10.0.1.9"]);
        assert_eq!(
            avoid.values().next().unwrap(),
            "undocumented but up in Prometheus (job node, x:9100)"
        );
    }

    proptest! {
        /// Every page of an IPv4 range holds the next 256 addresses (fewer on the last),
        /// the pages together hold each address once, and the counts add up to the cells.
        #[test]
        fn ipv4_pages_cover_the_range_once(prefix in 20u8..=32, page_pick in any::<u64>(), docs in proptest::collection::vec(any::<u16>(), 0..20)) {
            let cidr = format!("10.20.0.0/{prefix}");
            let size = 1u64 << (32 - prefix);
            let assets: Vec<_> = docs.iter().map(|d| asset(&format!("10.20.{}.{}", (d >> 8) & 15, d & 255), false)).collect();
            let first = range_map(&cidr, 1, &assets, None).unwrap();
            prop_assert_eq!(first.pages, size.div_ceil(PAGE_SIZE));
            let page = 1 + page_pick % first.pages;
            let m = range_map(&cidr, page, &assets, None).unwrap();
            let expect = PAGE_SIZE.min(size - (page - 1) * PAGE_SIZE);
            prop_assert_eq!(m.cells.len() as u64, expect);
            let c = m.counts;
            prop_assert_eq!(c.unused + c.documented, expect);
            let first_ip: Ipv4Addr = m.cells[0].ip.parse().unwrap();
            prop_assert_eq!(u64::from(u32::from(first_ip)), u64::from(u32::from(Ipv4Addr::new(10, 20, 0, 0))) + (page - 1) * PAGE_SIZE);
            let documented = m.cells.iter().filter(|c| c.asset.is_some()).count() as u64;
            prop_assert_eq!(documented, c.documented);
        }

        /// IPv6 pages by known addresses: together they list each known address once, sorted.
        #[test]
        fn ipv6_known_pages_list_each_known_address_once(docs in proptest::collection::btree_set(any::<u16>(), 0..600), up in proptest::collection::btree_set(any::<u16>(), 0..300)) {
            let assets: Vec<_> = docs.iter().map(|d| asset(&format!("2001:db8::{d:x}"), false)).collect();
            let up_ips: Vec<String> = up.iter().map(|d| format!("2001:db8::{d:x}")).collect();
            let live = Ok(obs(&up_ips.iter().map(String::as_str).collect::<Vec<_>>(), &[]));
            let first = range_map("2001:db8::/64", 1, &assets, Some(&live)).unwrap();
            let known: BTreeSet<u16> = docs.union(&up).copied().collect();
            prop_assert_eq!(first.pages, (known.len() as u64).div_ceil(PAGE_SIZE).max(1));
            let mut all = Vec::new();
            for p in 1..=first.pages {
                let m = range_map("2001:db8::/64", p, &assets, Some(&live)).unwrap();
                all.extend(m.cells.into_iter().map(|c| c.ip.parse::<Ipv6Addr>().unwrap().segments()[7]));
            }
            prop_assert_eq!(all, known.into_iter().collect::<Vec<_>>());
        }
    }
}
