//! Nmap XML (`nmap -oX`): hosts that are up become new IP assets.

use std::collections::HashSet;

use serde::Deserialize;

use super::{Bundle, BundleAsset, SourceLocation};
use crate::error::{Error, ImportErrors, ImportIssue, Result};
use crate::model::{canonical_ip, AssetType};

#[derive(Debug, Deserialize)]
struct NmapRun {
    #[serde(rename = "host", default)]
    hosts: Vec<XHost>,
}

#[derive(Debug, Deserialize)]
struct XHost {
    status: Option<XStatus>,
    #[serde(rename = "address", default)]
    addresses: Vec<XAddress>,
}

#[derive(Debug, Deserialize)]
struct XStatus {
    #[serde(rename = "@state")]
    state: String,
}

#[derive(Debug, Deserialize)]
struct XAddress {
    #[serde(rename = "@addr")]
    addr: String,
    #[serde(rename = "@addrtype")]
    addrtype: String,
    #[serde(rename = "@vendor")]
    vendor: Option<String>,
}

/// The asset type an Nmap MAC vendor suggests (case-insensitive substring).
///
/// ```
/// use ipocket_core::{AssetType, import::type_from_mac_vendor};
/// assert_eq!(type_from_mac_vendor(Some("VMware")), AssetType::Vm);
/// assert_eq!(type_from_mac_vendor(Some("Super Micro Computer")), AssetType::Os);
/// assert_eq!(type_from_mac_vendor(None), AssetType::Other);
/// ```
pub fn type_from_mac_vendor(vendor: Option<&str>) -> AssetType {
    let v = vendor.unwrap_or("").to_lowercase();
    const VM: [&str; 8] = [
        "vmware",
        "virtualbox",
        "microsoft",
        "xen",
        "qemu",
        "kvm",
        "citrix",
        "parallels",
    ];
    const OS: [&str; 8] = [
        "dell",
        "hewlett packard",
        "hp",
        "hpe",
        "super micro",
        "supermicro",
        "lenovo",
        "ibm",
    ];
    if VM.iter().any(|k| v.contains(k)) {
        AssetType::Vm
    } else if OS.iter().any(|k| v.contains(k)) {
        AssetType::Os
    } else {
        AssetType::Other
    }
}

/// Reads `nmap -oX` output. Every host with `<status state="up">` becomes an
/// asset (its first IPv4 address, else its first IPv6 address) with the note
/// `Discovered via nmap upload at <discovered_at>`. The assets are create-only:
/// addresses already in the inventory (archived or not) are left unchanged.
///
/// Entities and DTDs are not expanded (no XXE).
pub fn parse_nmap_xml(input: &[u8], discovered_at: &str) -> Result<Bundle> {
    let text = std::str::from_utf8(input).map_err(|e| {
        Error::Import(ImportErrors(vec![ImportIssue::new(
            "nmap.xml",
            format!("not valid UTF-8: {e}"),
        )]))
    })?;
    let run: NmapRun = quick_xml::de::from_str(text).map_err(|e| {
        Error::Import(ImportErrors(vec![ImportIssue::new(
            "nmap.xml",
            format!("invalid Nmap XML: {e}"),
        )]))
    })?;
    let mut b = Bundle {
        source: "nmap.xml".into(),
        ..Default::default()
    };
    let mut errors = Vec::new();
    let mut seen = HashSet::new();
    for (i, h) in run.hosts.iter().enumerate() {
        if h.status.as_ref().map(|s| s.state.as_str()) != Some("up") {
            continue;
        }
        let pick = h
            .addresses
            .iter()
            .position(|a| a.addrtype == "ipv4")
            .or_else(|| h.addresses.iter().position(|a| a.addrtype == "ipv6"));
        let Some(j) = pick else { continue };
        let loc = format!("nmap.xml:host[{i}].address[{j}]");
        match canonical_ip(&h.addresses[j].addr) {
            Ok((_, ip)) => {
                if !seen.insert(ip.clone()) {
                    continue;
                }
                let vendor = h
                    .addresses
                    .iter()
                    .find(|a| a.addrtype == "mac")
                    .and_then(|a| a.vendor.as_deref());
                let mut a = BundleAsset::new(SourceLocation::path(loc), ip);
                a.asset_type = Some(type_from_mac_vendor(vendor));
                a.notes = Some(format!("Discovered via nmap upload at {discovered_at}"));
                a.create_only = true;
                b.ip_assets.push(a);
            }
            Err(_) => errors.push(ImportIssue::new(
                loc,
                format!("invalid IP address {:?}", h.addresses[j].addr),
            )),
        }
    }
    if errors.is_empty() {
        Ok(b)
    } else {
        Err(Error::Import(ImportErrors(errors)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCAN: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE nmaprun>
<?xml-stylesheet href="file:///usr/bin/../share/nmap/nmap.xsl" type="text/xsl"?>
<nmaprun scanner="nmap" args="nmap -sn -oX - 10.0.0.0/24" start="1700000000" version="7.94" xmloutputversion="1.05">
<verbose level="0"/>
<debugging level="0"/>
<hosthint><status state="up" reason="unknown-response" reason_ttl="0"/>
<address addr="10.0.0.10" addrtype="ipv4"/>
</hosthint>
<host><status state="up" reason="arp-response" reason_ttl="0"/>
<address addr="10.0.0.10" addrtype="ipv4"/>
<address addr="fe80::1" addrtype="ipv6"/>
<address addr="00:50:56:AA:BB:CC" addrtype="mac" vendor="VMware"/>
<hostnames><hostname name="vm1.lab" type="PTR"/></hostnames>
<times srtt="100" rttvar="100" to="100000"/>
</host>
<taskbegin task="Ping Scan" time="1700000001"/>
<host><status state="down" reason="no-response" reason_ttl="0"/>
<address addr="10.0.0.11" addrtype="ipv4"/>
</host>
<taskend task="Ping Scan" time="1700000002"/>
<host><status state="up" reason="arp-response" reason_ttl="0"/>
<address addr="00:25:90:00:00:01" addrtype="mac" vendor="Super Micro Computer"/>
<address addr="10.0.0.12" addrtype="ipv4"/>
</host>
<host><status state="up" reason="echo-reply" reason_ttl="64"/>
<address addr="2001:DB8::5" addrtype="ipv6"/>
</host>
<runstats><finished time="1700000003" timestr="x" elapsed="3" summary="x" exit="success"/><hosts up="3" down="1" total="4"/></runstats>
</nmaprun>
"#;

    #[test]
    fn up_hosts_become_create_only_assets() {
        let b = parse_nmap_xml(SCAN.as_bytes(), "2024-01-01T00:00:00+00:00").unwrap();
        let got: Vec<_> = b
            .ip_assets
            .iter()
            .map(|a| (a.ip_address.as_str(), a.asset_type.unwrap()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("10.0.0.10", AssetType::Vm),
                ("10.0.0.12", AssetType::Os),
                ("2001:db8::5", AssetType::Other)
            ]
        );
        assert!(b.ip_assets.iter().all(|a| a.create_only));
        assert_eq!(
            b.ip_assets[0].notes.as_deref(),
            Some("Discovered via nmap upload at 2024-01-01T00:00:00+00:00")
        );
    }

    #[test]
    fn entities_are_not_expanded() {
        let evil = r#"<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><nmaprun><host><status state="up"/><address addr="&e;" addrtype="ipv4"/></host></nmaprun>"#;
        assert!(parse_nmap_xml(evil.as_bytes(), "t").is_err());
        assert!(parse_nmap_xml(b"<nmaprun><host>", "t").is_err());
    }
}
