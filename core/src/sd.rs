//! Prometheus service discovery: file_sd / http_sd target groups from the inventory.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::{AssetType, IpAsset};
use crate::paging::Page;
use crate::query::AssetFilter;
use crate::store::Inventory;

/// How targets are grouped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SdGrouping {
    /// One group with every target (the original's `group_by=none`).
    #[default]
    Single,
    /// One group per project (`unassigned` for none), sorted by name.
    Project,
    /// One group per project and type.
    ProjectType,
    /// One group per asset, with per-asset `__meta_ipocket_*` labels (host, tags, ip).
    Asset,
}

/// Options of [`Inventory::sd_target_groups`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SdOptions {
    /// Port appended to every address (default 9100).
    pub port: u16,
    /// Sets `__metrics_path__` on every group.
    pub metrics_path: Option<String>,
    /// Only these project names (exact); unassigned assets never match a name.
    pub projects: Vec<String>,
    /// Only these types.
    pub types: Vec<AssetType>,
    /// Only assets with at least one of these tags.
    pub tags: Vec<String>,
    /// Drop assets without a project.
    pub only_assigned: bool,
    /// Grouping.
    pub grouping: SdGrouping,
    /// Add `__meta_ipocket_*` labels (off in the original's `/sd/node` mode).
    pub meta_labels: bool,
    /// Labels added to every group (for example `job`).
    pub extra_labels: BTreeMap<String, String>,
}

impl Default for SdOptions {
    fn default() -> Self {
        SdOptions {
            port: 9100,
            metrics_path: None,
            projects: Vec::new(),
            types: Vec::new(),
            tags: Vec::new(),
            only_assigned: false,
            grouping: SdGrouping::Single,
            meta_labels: true,
            extra_labels: BTreeMap::new(),
        }
    }
}

/// One Prometheus target group (`{"targets": [...], "labels": {...}}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetGroup {
    /// `host:port` strings; IPv6 in brackets.
    pub targets: Vec<String>,
    /// Group labels.
    pub labels: BTreeMap<String, String>,
}

fn bad(field: &str, m: impl Into<String>) -> Error {
    Error::invalid(field, m)
}

impl SdOptions {
    /// The original ipocket `/sd/node` behaviour: no meta labels, grouping from `group_by`.
    pub fn node_compat() -> Self {
        SdOptions {
            meta_labels: false,
            ..Default::default()
        }
    }

    /// Reads the original `/sd/node` query parameters: `port`, `only_assigned`,
    /// `project` and `type` (repeatable and comma-separated), `group_by`
    /// (`none` | `project`), plus this crate's `tag`, `metrics_path`,
    /// `group_by=project_type|asset` and `meta=1`.
    ///
    /// ```
    /// let o = ipocket_core::SdOptions::from_query_pairs([("port", "9200"), ("type", "VM,OS"), ("group_by", "project")]).unwrap();
    /// assert_eq!(o.port, 9200);
    /// assert_eq!(o.types.len(), 2);
    /// assert!(ipocket_core::SdOptions::from_query_pairs([("group_by", "x")]).is_err());
    /// ```
    pub fn from_query_pairs<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self> {
        let mut o = SdOptions::node_compat();
        for (k, v) in pairs {
            match k {
                "port" => {
                    o.port = v
                        .trim()
                        .parse::<u16>()
                        .ok()
                        .filter(|p| *p > 0)
                        .ok_or_else(|| bad("port", format!("port must be 1..65535, found {v:?}")))?
                }
                "only_assigned" => {
                    o.only_assigned = crate::import::parse_bool(v).ok_or_else(|| {
                        bad("only_assigned", format!("expected a boolean, found {v:?}"))
                    })?
                }
                "project" => o.projects.extend(
                    v.split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(str::to_string),
                ),
                "type" => {
                    for t in v.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                        o.types.push(t.parse()?);
                    }
                }
                "tag" => o.tags.extend(
                    v.split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(str::to_string),
                ),
                "metrics_path" => o.metrics_path = Some(v.to_string()),
                "meta" => o.meta_labels = crate::import::parse_bool(v).unwrap_or(false),
                "group_by" => {
                    o.grouping = match v {
                        "none" | "" => SdGrouping::Single,
                        "project" => SdGrouping::Project,
                        "project_type" => SdGrouping::ProjectType,
                        "asset" => SdGrouping::Asset,
                        _ => {
                            return Err(bad(
                                "group_by",
                                format!(
                            "group_by must be none, project, project_type or asset, found {v:?}"
                        ),
                            ))
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(o)
    }
}

/// `ip:port`, with IPv6 in brackets.
///
/// ```
/// assert_eq!(ipocket_core::sd_target("2001:db8::1", 9100), "[2001:db8::1]:9100");
/// assert_eq!(ipocket_core::sd_target("10.0.0.1", 9100), "10.0.0.1:9100");
/// ```
pub fn sd_target(ip: &str, port: u16) -> String {
    match ip.parse::<IpAddr>() {
        Ok(IpAddr::V6(_)) => format!("[{ip}]:{port}"),
        _ => format!("{ip}:{port}"),
    }
}

fn single_or_multiple<'a>(mut it: impl Iterator<Item = &'a str>) -> String {
    let first = it.next().unwrap_or("");
    if it.all(|x| x == first) {
        first.to_string()
    } else {
        "multiple".to_string()
    }
}

impl Inventory {
    /// Target groups of the active (non-archived) assets that match; `[]` when none does.
    pub fn sd_target_groups(&self, o: &SdOptions) -> Result<Vec<TargetGroup>> {
        let tags: Vec<String> = o
            .tags
            .iter()
            .map(|t| crate::model::normalize_tag_name(t))
            .collect::<Result<_>>()?;
        let f = AssetFilter {
            tags_any: tags,
            ..Default::default()
        };
        let assets: Vec<IpAsset> = self
            .list_ip_assets(&f, Page::all())?
            .items
            .into_iter()
            .filter(|a| !o.only_assigned || a.project_id.is_some())
            .filter(|a| {
                o.projects.is_empty()
                    || a.project_name
                        .as_ref()
                        .is_some_and(|p| o.projects.contains(p))
            })
            .filter(|a| o.types.is_empty() || o.types.contains(&a.asset_type))
            .collect();
        let mut groups: BTreeMap<(String, String, String), Vec<&IpAsset>> = BTreeMap::new();
        for (i, a) in assets.iter().enumerate() {
            let project = a
                .project_name
                .clone()
                .unwrap_or_else(|| "unassigned".into());
            let key = match o.grouping {
                SdGrouping::Single => (String::new(), String::new(), String::new()),
                SdGrouping::Project => (project, String::new(), String::new()),
                SdGrouping::ProjectType => (project, a.asset_type.to_string(), String::new()),
                SdGrouping::Asset => (String::new(), String::new(), format!("{i:012}")),
            };
            groups.entry(key).or_default().push(a);
        }
        let mut out = Vec::with_capacity(groups.len());
        for members in groups.into_values() {
            let mut labels = o.extra_labels.clone();
            let project = single_or_multiple(
                members
                    .iter()
                    .map(|a| a.project_name.as_deref().unwrap_or("unassigned")),
            );
            let typ = single_or_multiple(members.iter().map(|a| a.asset_type.as_str()));
            if o.meta_labels {
                labels.insert("__meta_ipocket_project".into(), project.clone());
                labels.insert("__meta_ipocket_type".into(), typ.clone());
                if let [a] = members.as_slice() {
                    if o.grouping == SdGrouping::Asset {
                        labels.insert("__meta_ipocket_ip".into(), a.ip_address.clone());
                        labels.insert(
                            "__meta_ipocket_host".into(),
                            a.host_name.clone().unwrap_or_default(),
                        );
                        labels.insert(
                            "__meta_ipocket_tags".into(),
                            if a.tags.is_empty() {
                                String::new()
                            } else {
                                format!(",{},", a.tags.join(","))
                            },
                        );
                    }
                }
            }
            labels.insert("project".into(), project);
            labels.insert("type".into(), typ);
            if let Some(p) = &o.metrics_path {
                labels.insert("__metrics_path__".into(), p.clone());
            }
            out.push(TargetGroup {
                targets: members
                    .iter()
                    .map(|a| sd_target(&a.ip_address, o.port))
                    .collect(),
                labels,
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Actor, NewIpAsset};

    fn inv() -> Inventory {
        let mut inv = Inventory::open_in_memory().unwrap();
        let a = Actor::system();
        let core = inv.create_project(&a, "core", None, None).unwrap();
        let mk = |ip: &str, t, p: Option<i64>| NewIpAsset {
            project_id: p,
            ..NewIpAsset::new(ip, t)
        };
        inv.create_ip_asset(&a, &mk("10.20.0.2", AssetType::Vm, Some(core.id)))
            .unwrap();
        inv.create_ip_asset(&a, &mk("10.20.0.10", AssetType::Os, Some(core.id)))
            .unwrap();
        inv.create_ip_asset(&a, &mk("2001:db8::1", AssetType::Vm, None))
            .unwrap();
        inv.create_ip_asset(&a, &mk("10.20.0.3", AssetType::Vm, None))
            .unwrap();
        inv.archive_ip_asset(&a, "10.20.0.3").unwrap();
        inv
    }

    #[test]
    fn node_compat_single_group() {
        let g = inv().sd_target_groups(&SdOptions::node_compat()).unwrap();
        let json = serde_json::to_string(&g).unwrap();
        assert_eq!(
            json,
            r#"[{"targets":["10.20.0.2:9100","10.20.0.10:9100","[2001:db8::1]:9100"],"labels":{"project":"multiple","type":"multiple"}}]"#
        );
    }

    #[test]
    fn group_by_project_sorted_with_unassigned() {
        let o = SdOptions::from_query_pairs([("group_by", "project"), ("port", "9200")]).unwrap();
        let g = inv().sd_target_groups(&o).unwrap();
        assert_eq!(g.len(), 2);
        assert_eq!(g[0].labels["project"], "core");
        assert_eq!(g[0].labels["type"], "multiple");
        assert_eq!(g[1].labels["project"], "unassigned");
        assert_eq!(g[1].targets, vec!["[2001:db8::1]:9200"]);
    }

    #[test]
    fn filters_and_empty_result() {
        let inv = inv();
        let o = SdOptions::from_query_pairs([("type", "OS"), ("project", "core")]).unwrap();
        assert_eq!(
            inv.sd_target_groups(&o).unwrap()[0].targets,
            vec!["10.20.0.10:9100"]
        );
        let o = SdOptions::from_query_pairs([("project", "nope")]).unwrap();
        assert!(inv.sd_target_groups(&o).unwrap().is_empty());
        assert_eq!(
            serde_json::to_string(&inv.sd_target_groups(&o).unwrap()).unwrap(),
            "[]"
        );
        let o = SdOptions {
            only_assigned: true,
            ..SdOptions::node_compat()
        };
        assert_eq!(inv.sd_target_groups(&o).unwrap()[0].targets.len(), 2);
        assert!(SdOptions::from_query_pairs([("type", "bogus")]).is_err());
        assert!(SdOptions::from_query_pairs([("port", "0")]).is_err());
    }

    #[test]
    fn per_asset_meta_labels_and_metrics_path() {
        let o = SdOptions {
            grouping: SdGrouping::Asset,
            metrics_path: Some("/m".into()),
            ..Default::default()
        };
        let g = inv().sd_target_groups(&o).unwrap();
        assert_eq!(g.len(), 3);
        assert_eq!(g[0].labels["__meta_ipocket_ip"], "10.20.0.2");
        assert_eq!(g[0].labels["__meta_ipocket_project"], "core");
        assert_eq!(g[0].labels["__metrics_path__"], "/m");
        let o = SdOptions {
            grouping: SdGrouping::ProjectType,
            ..Default::default()
        };
        assert_eq!(inv().sd_target_groups(&o).unwrap().len(), 3);
    }
}
