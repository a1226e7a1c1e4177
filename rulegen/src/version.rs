//! The Prometheus version generated files must load on, and which rule-file fields it knows.

use std::fmt;
use std::str::FromStr;

use crate::error::Error;

/// A Prometheus release (`major.minor`); the patch level never changes the rule-file schema.
///
/// ```
/// use ipocket_rulegen::{PrometheusVersion, RuleField};
/// let v: PrometheusVersion = "2.42.0".parse().unwrap();
/// assert_eq!(v, PrometheusVersion::DEFAULT);
/// assert!(v.supports(RuleField::KeepFiringFor));
/// assert!(!v.supports(RuleField::QueryOffset));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct PrometheusVersion {
    /// Major version (2 or 3).
    pub major: u32,
    /// Minor version.
    pub minor: u32,
}

impl PrometheusVersion {
    /// The default target: Debian bookworm's Prometheus 2.42.
    pub const DEFAULT: PrometheusVersion = PrometheusVersion::new(2, 42);

    /// A version from its parts.
    pub const fn new(major: u32, minor: u32) -> Self {
        PrometheusVersion { major, minor }
    }

    /// Whether a Prometheus of this version accepts `field` in a rule file.
    pub fn supports(self, field: RuleField) -> bool {
        self >= field.since()
    }
}

impl Default for PrometheusVersion {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl fmt::Display for PrometheusVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

impl FromStr for PrometheusVersion {
    type Err = Error;

    /// Accepts `2.42`, `2.42.0`, `v3.1.0` and `2.42.0+ds`.
    fn from_str(s: &str) -> Result<Self, Error> {
        let bad = || {
            Error::invalid(
                "Prometheus version",
                format!("{s:?} is not a version like 2.42 or 3.1.0"),
            )
        };
        let t = s.trim();
        let t = t.strip_prefix('v').unwrap_or(t);
        let t = t.split(['+', '-']).next().unwrap_or(t);
        let mut parts = t.split('.');
        let major: u32 = parts.next().ok_or_else(bad)?.parse().map_err(|_| bad())?;
        let minor: u32 = parts.next().ok_or_else(bad)?.parse().map_err(|_| bad())?;
        if let Some(patch) = parts.next() {
            patch.parse::<u32>().map_err(|_| bad())?;
        }
        if parts.next().is_some() || major == 0 {
            return Err(bad());
        }
        Ok(PrometheusVersion { major, minor })
    }
}

/// Rule-file fields that only newer Prometheus versions accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[non_exhaustive]
pub enum RuleField {
    /// Group `limit` (2.31).
    Limit,
    /// Alerting rule `keep_firing_for` (2.42).
    KeepFiringFor,
    /// Group `query_offset` (2.53).
    QueryOffset,
    /// Group-level `labels` (3.0).
    GroupLabels,
}

impl RuleField {
    /// Every gated field, oldest first.
    pub const ALL: [RuleField; 4] = [
        RuleField::Limit,
        RuleField::KeepFiringFor,
        RuleField::QueryOffset,
        RuleField::GroupLabels,
    ];

    /// The first Prometheus version that accepts the field.
    pub fn since(self) -> PrometheusVersion {
        match self {
            RuleField::Limit => PrometheusVersion::new(2, 31),
            RuleField::KeepFiringFor => PrometheusVersion::new(2, 42),
            RuleField::QueryOffset => PrometheusVersion::new(2, 53),
            RuleField::GroupLabels => PrometheusVersion::new(3, 0),
        }
    }

    /// The key as written in the rule file.
    pub fn yaml_key(self) -> &'static str {
        match self {
            RuleField::Limit => "limit",
            RuleField::KeepFiringFor => "keep_firing_for",
            RuleField::QueryOffset => "query_offset",
            RuleField::GroupLabels => "labels",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_common_spellings() {
        for (s, want) in [
            ("2.42", (2, 42)),
            ("2.42.0", (2, 42)),
            ("v3.1.0", (3, 1)),
            ("2.42.0+ds", (2, 42)),
            (" 2.53.1-rc.0 ", (2, 53)),
        ] {
            let v: PrometheusVersion = s.parse().unwrap();
            assert_eq!((v.major, v.minor), want, "{s}");
        }
    }

    #[test]
    fn rejects_garbage() {
        for s in ["", "2", "two.42", "2.x", "0.1", "2.42.0.1", "2.42.x"] {
            let err = s.parse::<PrometheusVersion>().unwrap_err();
            assert!(err.to_string().contains("not a version"), "{s}: {err}");
        }
    }

    #[test]
    fn gates_match_the_release_history() {
        let v2_30 = PrometheusVersion::new(2, 30);
        let v2_42 = PrometheusVersion::DEFAULT;
        let v2_53 = PrometheusVersion::new(2, 53);
        let v3_0 = PrometheusVersion::new(3, 0);
        assert!(!v2_30.supports(RuleField::Limit));
        assert!(v2_42.supports(RuleField::Limit));
        assert!(v2_42.supports(RuleField::KeepFiringFor));
        assert!(!PrometheusVersion::new(2, 41).supports(RuleField::KeepFiringFor));
        assert!(!v2_42.supports(RuleField::QueryOffset));
        assert!(v2_53.supports(RuleField::QueryOffset));
        assert!(!v2_53.supports(RuleField::GroupLabels));
        assert!(v3_0.supports(RuleField::GroupLabels));
        assert_eq!(v2_42.to_string(), "2.42");
    }
}
