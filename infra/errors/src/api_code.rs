//! [`ApiErrorCode`]: the `code` of the HTTP API's error answers.

use std::fmt;

use crate::ErrorKind;

macro_rules! api_error_codes {
    ($($(#[$doc:meta])* $variant:ident = $name:literal, $status:literal, $kind:ident;)*) => {
        /// The stable machine code of an error answer of `ipocket serve`
        /// (`{"error":{"code":"stale_plan","message":…,"details":…}}`), with the HTTP status
        /// it is sent with and its [`ErrorKind`]. The server writes these and
        /// `ipocket_connectors::remote` reads them; the strings never change meaning.
        ///
        /// ```
        /// use ipocket_errors::{ApiErrorCode, ErrorKind};
        /// assert_eq!(ApiErrorCode::StalePlan.as_str(), "stale_plan");
        /// assert_eq!(ApiErrorCode::StalePlan.status(), 409);
        /// assert_eq!(ApiErrorCode::StalePlan.kind(), ErrorKind::Conflict);
        /// assert_eq!(ApiErrorCode::parse("import_invalid"), Some(ApiErrorCode::ImportInvalid));
        /// assert_eq!(ApiErrorCode::parse("no_such_code"), None);
        /// ```
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum ApiErrorCode {
            $($(#[$doc])* $variant,)*
        }

        impl ApiErrorCode {
            /// Every code, in declaration order.
            pub const ALL: &'static [ApiErrorCode] = &[$(ApiErrorCode::$variant),*];

            /// The code as it appears on the wire.
            pub fn as_str(self) -> &'static str {
                match self { $(ApiErrorCode::$variant => $name,)* }
            }

            /// The HTTP status the server answers with.
            pub fn status(self) -> u16 {
                match self { $(ApiErrorCode::$variant => $status,)* }
            }

            /// The kind of failure.
            pub fn kind(self) -> ErrorKind {
                match self { $(ApiErrorCode::$variant => ErrorKind::$kind,)* }
            }

            /// The code named `s`, if this build knows it (a newer server may send others).
            pub fn parse(s: &str) -> Option<ApiErrorCode> {
                match s { $($name => Some(ApiErrorCode::$variant),)* _ => None }
            }
        }
    };
}

api_error_codes! {
    /// The request is malformed (bad JSON, a bad query parameter).
    BadRequest = "bad_request", 400, Invalid;
    /// A field has a value that is not allowed; `details.field` names it.
    InvalidValue = "invalid_value", 422, Invalid;
    /// An import had errors; `details` lists every located issue; nothing was written.
    ImportInvalid = "import_invalid", 422, Invalid;
    /// Alert rules failed validation; `details` lists every located issue.
    RulesInvalid = "rules_invalid", 422, Invalid;
    /// promtool refused a generated rule file; `details.output` is its verdict.
    PromtoolRejected = "promtool_rejected", 422, Invalid;
    /// A push without the `server_id` query parameter.
    MissingServerId = "missing_server_id", 400, Invalid;
    /// A `server_id` that is not 1–64 letters, digits and inner hyphens.
    InvalidServerId = "invalid_server_id", 400, Invalid;
    /// A push with an empty body.
    EmptyBody = "empty_body", 400, Invalid;
    /// A push in which not one sample could be read; `details` holds the parse errors.
    Unparsable = "unparsable", 400, Invalid;
    /// A pushed sample over a label limit (count, name or value length); `details` says
    /// which line, metric and label; nothing was stored.
    SampleLimit = "sample_limit", 422, Invalid;
    /// A pushed sample stamped further in the future than the server allows; `details`
    /// says which line and metric; nothing was stored.
    TimestampOutOfBounds = "timestamp_out_of_bounds", 422, Invalid;
    /// A Content-Type the endpoint does not read.
    UnsupportedMediaType = "unsupported_media_type", 415, Invalid;
    /// The method is not defined for this path.
    MethodNotAllowed = "method_not_allowed", 405, Invalid;
    /// The client did not send the body in time.
    BodyTimeout = "body_timeout", 408, Invalid;
    /// The body is larger than the server's limit.
    BodyTooLarge = "body_too_large", 413, TooLarge;
    /// No valid token.
    Unauthorized = "unauthorized", 401, Unauthorized;
    /// Wrong user name or password at login.
    InvalidCredentials = "invalid_credentials", 401, Unauthorized;
    /// The caller's role does not allow this.
    Forbidden = "forbidden", 403, Forbidden;
    /// A connector run to a host or port that is not in the server's allow-list
    /// (`--connector-allow`); nothing was connected to.
    TargetNotAllowed = "target_not_allowed", 403, Forbidden;
    /// A push from a server id that is not registered.
    UnknownServer = "unknown_server", 403, Forbidden;
    /// The record does not exist; `details` names the entity and key where known.
    NotFound = "not_found", 404, NotFound;
    /// Liveness and reconciliation need `ipocket serve --liveness-prometheus-url`.
    LivenessNotConfigured = "liveness_not_configured", 404, NotFound;
    /// A duplicate, or a change that clashes with an existing record.
    Conflict = "conflict", 409, Conflict;
    /// The inventory changed between the plan and the apply; plan again.
    StalePlan = "stale_plan", 409, Conflict;
    /// The address range has no free address.
    RangeFull = "range_full", 409, Conflict;
    /// A connector's source (Prometheus, vCenter) failed or could not be reached.
    ConnectorFailed = "connector_failed", 502, Unavailable;
    /// Prometheus failed or could not be reached (reload, status, rules).
    PrometheusFailed = "prometheus_failed", 502, Unavailable;
    /// Too many failed logins for this user or client address: wait `Retry-After` seconds.
    TooManyRequests = "too_many_requests", 429, Unavailable;
    /// The server is at its limit of concurrent logins or imports: retry after `Retry-After`.
    ServerBusy = "server_busy", 503, Unavailable;
    /// A fault of the server; the server log has the cause.
    Internal = "internal", 500, Internal;
}

impl ApiErrorCode {
    /// The general code of a kind, for errors that have no more specific one.
    ///
    /// ```
    /// use ipocket_errors::{ApiErrorCode, ErrorKind};
    /// assert_eq!(ApiErrorCode::for_kind(ErrorKind::NotFound), ApiErrorCode::NotFound);
    /// ```
    pub fn for_kind(kind: ErrorKind) -> ApiErrorCode {
        match kind {
            ErrorKind::Invalid => ApiErrorCode::InvalidValue,
            ErrorKind::NotFound => ApiErrorCode::NotFound,
            ErrorKind::Conflict => ApiErrorCode::Conflict,
            ErrorKind::Forbidden => ApiErrorCode::Forbidden,
            ErrorKind::Unauthorized => ApiErrorCode::Unauthorized,
            ErrorKind::TooLarge => ApiErrorCode::BodyTooLarge,
            ErrorKind::Unavailable => ApiErrorCode::ConnectorFailed,
            ErrorKind::Internal => ApiErrorCode::Internal,
        }
    }
}

impl fmt::Display for ApiErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_are_unique_and_agree_with_their_kind() {
        let mut seen = std::collections::HashSet::new();
        for &c in ApiErrorCode::ALL {
            assert!(seen.insert(c.as_str()), "{c} twice");
            assert_eq!(ApiErrorCode::parse(c.as_str()), Some(c));
            let status = c.status();
            match c.kind() {
                ErrorKind::Internal => assert_eq!(status, 500),
                // 429: the client is told to wait, as for a peer that is down.
                ErrorKind::Unavailable => {
                    assert!(status == 429 || (500..600).contains(&status), "{c}")
                }
                _ => assert!((400..500).contains(&status), "{c}"),
            }
        }
        for k in ErrorKind::ALL {
            assert_eq!(ApiErrorCode::for_kind(k).kind(), k);
        }
    }
}
