//! [`ErrorKind`]: what kind of failure an error is, whatever crate raised it.

use std::fmt;

/// What kind of failure an error is. The caller's next step depends on it: fix the input,
/// look elsewhere, retry later, ask for rights, or report a bug.
///
/// ```
/// use ipocket_errors::ErrorKind;
/// assert_eq!(ErrorKind::NotFound.as_str(), "not_found");
/// assert_eq!("not_found".parse::<ErrorKind>(), Ok(ErrorKind::NotFound));
/// assert_eq!(ErrorKind::Unavailable.to_string(), "unavailable");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The input is wrong (a value, a file, a request): fixing it is the caller's part.
    Invalid,
    /// The thing asked for does not exist.
    NotFound,
    /// The change clashes with the current state (a duplicate, a stale plan, a full range).
    Conflict,
    /// The caller is known but not allowed to do this.
    Forbidden,
    /// The caller is not known: no credentials, or wrong ones.
    Unauthorized,
    /// The input is larger than a configured limit.
    TooLarge,
    /// Another system (Prometheus, vCenter, an ipocket server, promtool) did not answer as
    /// it should: unreachable, timed out, or an unexpected answer. Retrying later may work.
    Unavailable,
    /// Local storage or a bug: the database, a file, an invariant. Not the caller's fault.
    Internal,
}

impl ErrorKind {
    /// Every kind, in declaration order (for the front ends' table tests).
    pub const ALL: [ErrorKind; 8] = [
        ErrorKind::Invalid,
        ErrorKind::NotFound,
        ErrorKind::Conflict,
        ErrorKind::Forbidden,
        ErrorKind::Unauthorized,
        ErrorKind::TooLarge,
        ErrorKind::Unavailable,
        ErrorKind::Internal,
    ];

    /// The stable snake_case name (`not_found`), as the bindings expose it.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Invalid => "invalid",
            ErrorKind::NotFound => "not_found",
            ErrorKind::Conflict => "conflict",
            ErrorKind::Forbidden => "forbidden",
            ErrorKind::Unauthorized => "unauthorized",
            ErrorKind::TooLarge => "too_large",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::Internal => "internal",
        }
    }
}

/// An error that knows its [`ErrorKind`]. Every library error type of ipocket implements it;
/// the front ends' tables take any `Classify`.
///
/// ```
/// use ipocket_errors::{Classify, ErrorKind};
/// struct Missing;
/// impl Classify for Missing {
///     fn kind(&self) -> ErrorKind { ErrorKind::NotFound }
/// }
/// assert_eq!(Missing.kind(), ErrorKind::NotFound);
/// ```
pub trait Classify {
    /// What kind of failure this is.
    fn kind(&self) -> ErrorKind;
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for ErrorKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ErrorKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| format!("unknown error kind {s:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for k in ErrorKind::ALL {
            assert!(seen.insert(k.as_str()));
            assert_eq!(k.as_str().parse::<ErrorKind>(), Ok(k));
        }
        assert!("nope".parse::<ErrorKind>().is_err());
    }
}
