//! What a hosts file (`hosts.csv`, `hosts.json`) says besides the host itself:
//! its OS / BMC addresses become linked assets, and the projects and vendors it
//! names are created, as the original's hosts import does.

use std::collections::HashSet;

use super::{Bundle, BundleAsset, BundleProject, BundleVendor, SourceLocation};
use crate::error::{Error, ImportIssue};
use crate::model::{canonical_ip, AssetType};

/// Collects links while files are read; [`HostLinks::finish`] adds them to the bundle.
#[derive(Default)]
pub(crate) struct HostLinks {
    derived: Vec<BundleAsset>,
    project_refs: Vec<(String, SourceLocation)>,
    vendor_refs: Vec<(String, SourceLocation)>,
}

/// The columns / fields of one host row besides name and notes.
pub(crate) struct HostRow<'a> {
    pub(crate) name: &'a str,
    pub(crate) location: &'a SourceLocation,
    pub(crate) vendor: Option<&'a str>,
    pub(crate) project: Option<&'a str>,
    pub(crate) os_ip: Option<&'a str>,
    pub(crate) bmc_ip: Option<&'a str>,
}

impl HostLinks {
    /// Records one host's links; bad addresses are reported at their field.
    pub(crate) fn host(&mut self, h: &HostRow<'_>, errors: &mut Vec<ImportIssue>) {
        if let Some(v) = h.vendor {
            self.vendor_refs.push((
                v.to_string(),
                SourceLocation::path(h.location.field("vendor_name")),
            ));
        }
        if let Some(p) = h.project {
            self.project_ref(p, h.location);
        }
        for (field, ip, t) in [
            ("os_ip", h.os_ip, AssetType::Os),
            ("bmc_ip", h.bmc_ip, AssetType::Bmc),
        ] {
            let Some(ip) = ip else { continue };
            match canonical_ip(ip) {
                Ok((_, c)) => {
                    let mut a = BundleAsset::new(SourceLocation::path(h.location.field(field)), c);
                    a.asset_type = Some(t);
                    a.host_name = Some(h.name.to_string());
                    a.project_name = h.project.map(str::to_string);
                    self.derived.push(a);
                }
                Err(e) => errors.push(ImportIssue::new(
                    h.location.field(field),
                    match e {
                        Error::Invalid { message, .. } => message,
                        other => other.to_string(),
                    },
                )),
            }
        }
    }

    /// A project named by a row (`project_name` of `item`), created unless listed.
    pub(crate) fn project_ref(&mut self, name: &str, item: &SourceLocation) {
        self.project_refs.push((
            name.to_string(),
            SourceLocation::path(item.field("project_name")),
        ));
    }

    /// Takes over the links of another file.
    pub(crate) fn extend(&mut self, other: HostLinks) {
        self.derived.extend(other.derived);
        self.project_refs.extend(other.project_refs);
        self.vendor_refs.extend(other.vendor_refs);
    }

    /// Adds the derived assets (unless the bundle lists the address itself) and
    /// the projects and vendors named but not listed.
    pub(crate) fn finish(self, b: &mut Bundle) {
        let listed: HashSet<String> = b.ip_assets.iter().map(|a| a.ip_address.clone()).collect();
        let mut derived_seen = HashSet::new();
        for a in self.derived {
            if !listed.contains(&a.ip_address) && derived_seen.insert(a.ip_address.clone()) {
                b.ip_assets.push(a);
            }
        }
        let mut have: HashSet<String> = b.projects.iter().map(|p| p.name.clone()).collect();
        for (name, location) in self.project_refs {
            if have.insert(name.clone()) {
                b.projects.push(BundleProject {
                    location,
                    name,
                    description: None,
                    color: None,
                });
            }
        }
        let mut have: HashSet<String> = b.vendors.iter().map(|v| v.name.clone()).collect();
        for (name, location) in self.vendor_refs {
            if have.insert(name.clone()) {
                b.vendors.push(BundleVendor { location, name });
            }
        }
    }
}
