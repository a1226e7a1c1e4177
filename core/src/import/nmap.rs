//! Nmap (stub).
use super::Bundle;
use crate::error::Result;
/// Parses Nmap XML.
pub fn parse_nmap_xml(_x: &[u8], _at: &str) -> Result<Bundle> { Ok(Bundle::default()) }
