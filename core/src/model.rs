//! Inventory records and the validation rules of their fields.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::limits::check_name;

/// Kind of an IP asset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum AssetType {
    /// An operating system address of a physical server.
    Os,
    /// A baseboard management controller (IPMI, iLO, iDRAC).
    Bmc,
    /// A virtual machine.
    Vm,
    /// A virtual (floating) IP.
    Vip,
    /// Anything else.
    Other,
}

impl AssetType {
    /// All types in display order.
    pub const ALL: [AssetType; 5] = [
        AssetType::Os,
        AssetType::Bmc,
        AssetType::Vm,
        AssetType::Vip,
        AssetType::Other,
    ];

    /// The stored name (`OS`, `BMC`, `VM`, `VIP`, `OTHER`).
    pub fn as_str(self) -> &'static str {
        match self {
            AssetType::Os => "OS",
            AssetType::Bmc => "BMC",
            AssetType::Vm => "VM",
            AssetType::Vip => "VIP",
            AssetType::Other => "OTHER",
        }
    }
}

impl fmt::Display for AssetType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AssetType {
    type Err = Error;

    /// Parses the exact upper-case names; the legacy `IPMI_ILO` / `IPMI_iLO` mean `BMC`.
    ///
    /// ```
    /// use ipocket_core::AssetType;
    /// assert_eq!("IPMI_iLO".parse::<AssetType>().unwrap(), AssetType::Bmc);
    /// assert!("vm".parse::<AssetType>().is_err());
    /// ```
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s {
            "OS" => AssetType::Os,
            "BMC" | "IPMI_ILO" | "IPMI_iLO" => AssetType::Bmc,
            "VM" => AssetType::Vm,
            "VIP" => AssetType::Vip,
            "OTHER" => AssetType::Other,
            _ => {
                return Err(Error::invalid(
                    "type",
                    format!("invalid asset type {s:?} (use OS, BMC, VM, VIP, OTHER)"),
                ))
            }
        })
    }
}

/// A user's role.
///
/// As in the original ipocket, `Editor` writes inventory data and `Admin`
/// manages users only: an Admin cannot write inventory data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Role {
    /// Reads everything, writes nothing.
    Viewer,
    /// Writes inventory data and applies imports.
    Editor,
    /// Manages users.
    Admin,
}

impl Role {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "Viewer",
            Role::Editor => "Editor",
            Role::Admin => "Admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "Viewer" => Ok(Role::Viewer),
            "Editor" => Ok(Role::Editor),
            "Admin" => Ok(Role::Admin),
            _ => Err(Error::invalid(
                "role",
                format!("invalid role {s:?} (use Viewer, Editor, Admin)"),
            )),
        }
    }
}

/// Who performs a change; written into the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// The user id, `None` for the system (bootstrap, migrations, CLI without login).
    pub user_id: Option<i64>,
    /// The user name at the time of the change.
    pub username: Option<String>,
    /// The role, `None` for the system (which may do everything).
    pub role: Option<Role>,
}

impl Actor {
    /// The system actor: no user, every permission. Used by the CLI and connectors.
    pub fn system() -> Self {
        Actor {
            user_id: None,
            username: None,
            role: None,
        }
    }

    /// Who this is in an audit row (for the stores beside the inventory that write one:
    /// alert rules, ingest servers).
    pub fn audit_actor(&self) -> ipocket_db::AuditActor {
        ipocket_db::AuditActor {
            user_id: self.user_id,
            username: self.username.clone(),
        }
    }

    /// A logged-in user.
    pub fn user(user: &User) -> Self {
        Actor {
            user_id: Some(user.id),
            username: Some(user.username.clone()),
            role: Some(user.role),
        }
    }

    /// Errors unless the actor may write inventory data: the system, an `Editor` or an
    /// `Admin`. (The original ipocket refused its Admin every data write, so that the first
    /// user could not do the main job; here an Admin is an Editor who also manages users.)
    pub fn require_data_write(&self) -> Result<()> {
        match self.role {
            None | Some(Role::Editor) | Some(Role::Admin) => Ok(()),
            Some(r) => Err(Error::Forbidden(format!(
                "role {r} cannot change inventory data"
            ))),
        }
    }

    /// Errors unless the actor may manage users (system or `Admin`).
    pub fn require_user_admin(&self) -> Result<()> {
        match self.role {
            None | Some(Role::Admin) => Ok(()),
            Some(r) => Err(Error::Forbidden(format!("role {r} cannot manage users"))),
        }
    }
}

/// Parses an IPv4 or IPv6 address and returns it with its canonical text.
///
/// IPv4 is dotted decimal; IPv6 is RFC 5952 text (lower case, `::` compression). An
/// IPv4-mapped IPv6 address (`::ffff:10.0.0.1`) is the IPv4 address it maps: stored once,
/// not beside its IPv4 spelling.
///
/// ```
/// let (ip, text) = ipocket_core::canonical_ip(" 2001:DB8:0:0::1 ").unwrap();
/// assert!(ip.is_ipv6());
/// assert_eq!(text, "2001:db8::1");
/// assert_eq!(ipocket_core::canonical_ip("::FFFF:10.0.0.1").unwrap().1, "10.0.0.1");
/// ```
pub fn canonical_ip(s: &str) -> Result<(IpAddr, String)> {
    let t = s.trim();
    if t.is_empty() {
        return Err(Error::invalid("ip_address", "IP address is required"));
    }
    match t.parse::<IpAddr>().map(|ip| ip.to_canonical()) {
        Ok(ip) => Ok((ip, ip.to_string())),
        Err(_) => Err(Error::invalid(
            "ip_address",
            format!("invalid IP address {t:?}"),
        )),
    }
}

/// The sort key stored beside every address: family (4 or 6) and big-endian bytes.
pub(crate) fn ip_key(ip: IpAddr) -> (i64, Vec<u8>) {
    match ip {
        IpAddr::V4(v4) => (4, v4.octets().to_vec()),
        IpAddr::V6(v6) => (6, v6.octets().to_vec()),
    }
}

/// Address as an unsigned integer (IPv4 in the low 32 bits).
pub(crate) fn ip_to_u128(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u32::from(v4) as u128,
        IpAddr::V6(v6) => u128::from(v6),
    }
}

/// Normalises a tag name: trimmed, lower case, `^[a-z0-9_-]+$`.
///
/// ```
/// assert_eq!(ipocket_core::normalize_tag_name(" Prod ").unwrap(), "prod");
/// assert!(ipocket_core::normalize_tag_name("a b").is_err());
/// ```
pub fn normalize_tag_name(s: &str) -> Result<String> {
    let t = s.trim().to_lowercase();
    if t.is_empty() {
        return Err(Error::invalid("tag", "tag name is required"));
    }
    check_name("tag", &t)?;
    if !t
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
    {
        return Err(Error::invalid(
            "tag",
            format!("tag name {t:?} may include letters, digits, dash and underscore only"),
        ));
    }
    Ok(t)
}

/// Normalises tag lists: each name normalised, duplicates dropped, sorted.
pub fn normalize_tags<I, S>(names: I) -> Result<Vec<String>>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let mut out = Vec::new();
    for n in names {
        let t = normalize_tag_name(n.as_ref())?;
        if !out.contains(&t) {
            out.push(t);
        }
    }
    out.sort();
    Ok(out)
}

/// Default colour of new projects.
pub const DEFAULT_PROJECT_COLOR: &str = "#94a3b8";
/// Default colour of new tags.
pub const DEFAULT_TAG_COLOR: &str = "#e2e8f0";

/// Normalises a colour `#rrggbb` to lower case; blank means `default`.
///
/// ```
/// assert_eq!(ipocket_core::normalize_color("#1A2B3C", "#000000").unwrap(), "#1a2b3c");
/// assert_eq!(ipocket_core::normalize_color("", "#94a3b8").unwrap(), "#94a3b8");
/// assert!(ipocket_core::normalize_color("red", "#000000").is_err());
/// ```
pub fn normalize_color(s: &str, default: &str) -> Result<String> {
    let t = s.trim();
    if t.is_empty() {
        return Ok(default.to_string());
    }
    let b = t.as_bytes();
    if b.len() == 7 && b[0] == b'#' && b[1..].iter().all(u8::is_ascii_hexdigit) {
        Ok(t.to_ascii_lowercase())
    } else {
        Err(Error::invalid(
            "color",
            format!("color {t:?} must be a hex value like #1a2b3c"),
        ))
    }
}

/// Trims a required name; at most [`MAX_NAME_CHARS`](crate::MAX_NAME_CHARS) characters.
pub(crate) fn required_name(field: &str, s: &str) -> Result<String> {
    let t = s.trim();
    if t.is_empty() {
        return Err(Error::invalid(field, format!("{field} is required")));
    }
    check_name(field, t)?;
    Ok(t.to_string())
}

/// An IP address record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IpAsset {
    /// Row id; kept when an archived address is restored.
    pub id: i64,
    /// Canonical address text.
    pub ip_address: String,
    /// Kind of asset.
    #[serde(rename = "type")]
    pub asset_type: AssetType,
    /// Project id, `None` when unassigned.
    pub project_id: Option<i64>,
    /// Project name.
    pub project_name: Option<String>,
    /// Host id.
    pub host_id: Option<i64>,
    /// Host name.
    pub host_name: Option<String>,
    /// Tag names, sorted.
    pub tags: Vec<String>,
    /// Free text.
    pub notes: Option<String>,
    /// Soft-deleted.
    pub archived: bool,
    /// `YYYY-MM-DD HH:MM:SS` UTC.
    pub created_at: String,
    /// `YYYY-MM-DD HH:MM:SS` UTC.
    pub updated_at: String,
}

/// A project (what an address is assigned to).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Project {
    /// Row id.
    pub id: i64,
    /// Unique name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// `#rrggbb`.
    pub color: String,
}

/// A hardware vendor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Vendor {
    /// Row id.
    pub id: i64,
    /// Unique name.
    pub name: String,
}

/// A tag with its colour.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tag {
    /// Row id.
    pub id: i64,
    /// Unique lower-case name.
    pub name: String,
    /// `#rrggbb`.
    pub color: String,
}

/// A host (server) that OS and BMC addresses link to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Host {
    /// Row id.
    pub id: i64,
    /// Unique name.
    pub name: String,
    /// Free text.
    pub notes: Option<String>,
    /// Vendor id.
    pub vendor_id: Option<i64>,
    /// Vendor name.
    pub vendor_name: Option<String>,
}

/// A CIDR range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IpRange {
    /// Row id.
    pub id: i64,
    /// Display name (not unique).
    pub name: String,
    /// Canonical network (`10.0.0.0/24`, `2001:db8::/64`).
    pub cidr: String,
    /// Free text.
    pub notes: Option<String>,
}

/// A user account (the hash never leaves the crate).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    /// Row id.
    pub id: i64,
    /// Unique login name.
    pub username: String,
    /// Role.
    pub role: Role,
    /// Whether the user may log in.
    pub is_active: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_is_stored_canonically() {
        assert_eq!(canonical_ip("2001:0DB8::0001").unwrap().1, "2001:db8::1");
        // IPv4-mapped IPv6 is the IPv4 address (one row, not two)
        for mapped in ["::ffff:10.0.0.1", "::FFFF:a00:1", "0:0:0:0:0:ffff:10.0.0.1"] {
            let (ip, text) = canonical_ip(mapped).unwrap();
            assert_eq!(
                (ip.is_ipv4(), text.as_str()),
                (true, "10.0.0.1"),
                "{mapped}"
            );
        }
        // other embeddings stay IPv6
        assert_eq!(canonical_ip("::10.0.0.1").unwrap().1, "::a00:1");
        assert_eq!(canonical_ip("64:ff9b::a00:1").unwrap().1, "64:ff9b::a00:1");
        assert_eq!(canonical_ip("10.0.0.1").unwrap().1, "10.0.0.1");
    }

    #[test]
    fn bad_ips_are_rejected_with_the_value() {
        let e = canonical_ip("10.0.0.256").unwrap_err().to_string();
        assert_eq!(e, "ip_address: invalid IP address \"10.0.0.256\"");
        assert!(canonical_ip("  ").is_err());
    }

    #[test]
    fn tags_are_normalised_deduplicated_sorted() {
        assert_eq!(
            normalize_tags(["Prod", "edge", "prod"]).unwrap(),
            vec!["edge", "prod"]
        );
        assert!(normalize_tags(["ok", "no way"]).is_err());
        assert!(normalize_tag_name("").is_err());
    }

    #[test]
    fn roles_gate_writes_and_admin_is_an_editor_too() {
        let mk = |role| Actor {
            user_id: Some(1),
            username: Some("u".into()),
            role: Some(role),
        };
        assert!(mk(Role::Editor).require_data_write().is_ok());
        assert!(mk(Role::Admin).require_data_write().is_ok());
        assert!(mk(Role::Viewer).require_data_write().is_err());
        assert!(mk(Role::Admin).require_user_admin().is_ok());
        assert!(mk(Role::Editor).require_user_admin().is_err());
        assert!(Actor::system().require_data_write().is_ok());
    }

    #[test]
    fn asset_type_names_round_trip() {
        for t in AssetType::ALL {
            assert_eq!(t.as_str().parse::<AssetType>().unwrap(), t);
        }
        assert_eq!("IPMI_ILO".parse::<AssetType>().unwrap(), AssetType::Bmc);
    }
}
