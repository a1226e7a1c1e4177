//! Input limits: the one place that says how long a text field may be and how far an
//! uploaded zip may expand. Every entry path (create and update calls, the web UI, every
//! import source) checks against these, so a 9 MiB note or a zip bomb is refused where it
//! enters instead of slowing every later read.

use crate::error::{Error, Result};

/// Longest name, in characters: projects, hosts, vendors, tags, ranges, users (fixed).
pub const MAX_NAME_CHARS: usize = 255;
/// Default longest free text (notes, descriptions), in characters.
pub const DEFAULT_MAX_TEXT_CHARS: usize = 4096;
/// Default largest total uncompressed size of the entries read from a `bundle.zip`
/// (100 MiB: ten times the server's default body limit).
pub const DEFAULT_MAX_ZIP_BYTES: u64 = 100 << 20;
/// Default largest compression ratio of one zip entry (uncompressed / compressed).
pub const DEFAULT_MAX_ZIP_RATIO: u64 = 100;
/// An entry may always expand to this many bytes, whatever its ratio: a small, very
/// repetitive file (an empty-ish CSV) is no bomb.
pub(crate) const ZIP_RATIO_FLOOR: u64 = 1 << 20;

/// Limits of what the inventory accepts; [`Inventory::set_input_limits`] changes them for
/// one connection (the server sets its flags on each).
///
/// [`Inventory::set_input_limits`]: crate::Inventory::set_input_limits
///
/// ```
/// use ipocket_core::*;
/// let mut inv = Inventory::open_in_memory().unwrap();
/// inv.set_input_limits(InputLimits { max_text_chars: 10, ..InputLimits::default() });
/// let mut a = NewIpAsset::new("10.0.0.1", AssetType::Vm);
/// a.notes = Some("rack 12, slot 4".into());
/// let e = inv.create_ip_asset(&Actor::system(), &a).unwrap_err();
/// assert_eq!(e.to_string(), "notes: notes is longer than 10 characters (15)");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InputLimits {
    /// Longest note or description, in characters ([`DEFAULT_MAX_TEXT_CHARS`]).
    pub max_text_chars: usize,
    /// Largest total uncompressed size of the entries read from a zip
    /// ([`DEFAULT_MAX_ZIP_BYTES`]).
    pub max_zip_bytes: u64,
    /// Largest uncompressed / compressed ratio of one zip entry ([`DEFAULT_MAX_ZIP_RATIO`]).
    pub max_zip_ratio: u64,
}

impl Default for InputLimits {
    fn default() -> Self {
        InputLimits {
            max_text_chars: DEFAULT_MAX_TEXT_CHARS,
            max_zip_bytes: DEFAULT_MAX_ZIP_BYTES,
            max_zip_ratio: DEFAULT_MAX_ZIP_RATIO,
        }
    }
}

/// Errors at `field` when `s` has more than `max` characters.
pub(crate) fn check_chars(field: &str, s: &str, max: usize) -> Result<()> {
    // A char is at least one byte: most values need no count.
    if s.len() <= max {
        return Ok(());
    }
    let n = s.chars().count();
    if n <= max {
        return Ok(());
    }
    Err(Error::invalid(
        field,
        format!("{field} is longer than {max} characters ({n})"),
    ))
}

/// [`check_chars`] for a name ([`MAX_NAME_CHARS`]).
pub(crate) fn check_name(field: &str, s: &str) -> Result<()> {
    check_chars(field, s, MAX_NAME_CHARS)
}

/// [`check_chars`] for optional free text.
pub(crate) fn check_text(field: &str, s: Option<&str>, max: usize) -> Result<()> {
    s.map_or(Ok(()), |s| check_chars(field, s, max))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn characters_count_not_bytes() {
        assert!(check_chars("notes", &"é".repeat(10), 10).is_ok());
        let e = check_chars("notes", &"é".repeat(11), 10).unwrap_err();
        assert_eq!(
            e.to_string(),
            "notes: notes is longer than 10 characters (11)"
        );
        assert!(check_name("host name", &"h".repeat(MAX_NAME_CHARS)).is_ok());
        assert!(check_name("host name", &"h".repeat(MAX_NAME_CHARS + 1)).is_err());
        assert!(check_text("notes", None, 0).is_ok());
    }
}
