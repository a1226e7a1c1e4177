//! CSV import (stub).
use super::Bundle;
use crate::error::Result;
/// Parses CSV files.
pub fn parse_csv(_files: &[(&str, &[u8])]) -> Result<Bundle> { Ok(Bundle::default()) }
