//! The one error shape of the API: `{"error":{"code":…,"message":…,"details":…}}`, and the
//! one table that turns a library error into it: its [`ErrorKind`] picks the answer (an
//! internal fault is logged and answered generically), the variant adds its specific
//! [`ApiErrorCode`] and located details.

use hyper::StatusCode;
use ipocket_errors::{ApiErrorCode, Classify, ErrorKind};
use serde_json::{json, Value};

/// An error answer: stable machine code (which fixes the status), human message and optional
/// details.
#[derive(Debug)]
pub(crate) struct ApiError {
    pub(crate) status: StatusCode,
    pub(crate) code: ApiErrorCode,
    pub(crate) message: String,
    pub(crate) details: Value,
    /// Seconds for a `Retry-After` header (429, 503).
    pub(crate) retry_after: Option<u64>,
}

impl ApiError {
    pub(crate) fn new(code: ApiErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::from_u16(code.status()).unwrap_or(StatusCode::BAD_REQUEST),
            code,
            message: message.into(),
            details: Value::Null,
            retry_after: None,
        }
    }

    /// Tells the client when to try again (`Retry-After`, at least 1 s).
    pub(crate) fn with_retry_after(mut self, secs: u64) -> Self {
        self.retry_after = Some(secs.max(1));
        self
    }

    /// 503 `server_busy`: a limit of concurrent work is reached.
    pub(crate) fn busy(what: &str) -> Self {
        Self::new(
            ApiErrorCode::ServerBusy,
            format!("the server is busy with {what}; try again shortly"),
        )
        .with_retry_after(1)
    }

    pub(crate) fn with_details(mut self, details: Value) -> Self {
        self.details = details;
        self
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Self::new(ApiErrorCode::BadRequest, message)
    }

    pub(crate) fn unauthorized() -> Self {
        Self::new(
            ApiErrorCode::Unauthorized,
            "a valid bearer token is required (POST /api/v1/auth/login)",
        )
    }

    /// 401 `unauthorized` with a message that says what is wrong with the credentials.
    pub(crate) fn unauthorized_because(message: impl Into<String>) -> Self {
        Self::new(ApiErrorCode::Unauthorized, message)
    }

    pub(crate) fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ApiErrorCode::Forbidden, message)
    }

    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        Self::new(ApiErrorCode::NotFound, message)
    }

    pub(crate) fn method_not_allowed() -> Self {
        Self::new(
            ApiErrorCode::MethodNotAllowed,
            "method not allowed on this path",
        )
    }

    pub(crate) fn internal() -> Self {
        Self::new(ApiErrorCode::Internal, "internal error; see the server log")
    }

    /// The one table over kinds. `specific` is the variant's own code where it has one,
    /// `message` and `details` what the client may see; an internal fault is logged with its
    /// full text and answered without it.
    pub(crate) fn classify(
        error: &(impl Classify + std::fmt::Display),
        specific: Option<ApiErrorCode>,
        message: String,
        details: Value,
    ) -> Self {
        match error.kind() {
            ErrorKind::Internal => {
                // Database, I/O and hashing errors carry no secrets; log them, answer generically.
                tracing::error!("internal error: {error}");
                Self::internal()
            }
            kind => Self::new(specific.unwrap_or(ApiErrorCode::for_kind(kind)), message)
                .with_details(details),
        }
    }

    /// Whether the caller's input was wrong (the UI shows it at the form, not as an error page).
    pub(crate) fn is_invalid(&self) -> bool {
        self.code.kind() == ErrorKind::Invalid
    }

    /// The JSON body.
    pub(crate) fn body(&self) -> Value {
        json!({"error": {"code": self.code.as_str(), "message": self.message, "details": self.details}})
    }
}

impl From<ipocket_core::Error> for ApiError {
    fn from(e: ipocket_core::Error) -> Self {
        use ipocket_core::Error as E;
        let (specific, message, details) = match &e {
            E::Invalid { field, .. } => (None, e.to_string(), json!({ "field": field })),
            E::NotFound { entity, key } => {
                (None, e.to_string(), json!({"entity": entity, "key": key}))
            }
            E::Conflict(m) | E::Forbidden(m) => (None, m.clone(), Value::Null),
            E::Import(errors) => (
                Some(ApiErrorCode::ImportInvalid),
                errors
                    .to_string()
                    .lines()
                    .next()
                    .unwrap_or("import errors")
                    .to_string(),
                json!(errors.0),
            ),
            E::StalePlan => (Some(ApiErrorCode::StalePlan), e.to_string(), Value::Null),
            E::RangeFull(_) => (Some(ApiErrorCode::RangeFull), e.to_string(), Value::Null),
            _ => (None, e.to_string(), Value::Null),
        };
        Self::classify(&e, specific, message, details)
    }
}

impl From<ipocket_connectors::IngestError> for ApiError {
    fn from(e: ipocket_connectors::IngestError) -> Self {
        use ipocket_connectors::IngestError as E;
        let specific = match &e {
            E::MissingServerId => ApiErrorCode::MissingServerId,
            E::InvalidServerId(_) => ApiErrorCode::InvalidServerId,
            E::UnknownServer(_) => ApiErrorCode::UnknownServer,
            E::EmptyBody => ApiErrorCode::EmptyBody,
            E::BodyTooLarge { .. } => ApiErrorCode::BodyTooLarge,
            E::UnsupportedContentType(_) => ApiErrorCode::UnsupportedMediaType,
            E::Unparsable { .. } => ApiErrorCode::Unparsable,
            E::SampleLimit { .. } => ApiErrorCode::SampleLimit,
            E::FutureTimestamp { .. } => ApiErrorCode::TimestampOutOfBounds,
            _ => ApiErrorCode::Internal,
        };
        Self::classify(&e, Some(specific), e.to_string(), e.details())
    }
}

impl From<ipocket_connectors::StoreError> for ApiError {
    fn from(e: ipocket_connectors::StoreError) -> Self {
        Self::classify(&e, None, e.to_string(), Value::Null)
    }
}

impl From<ipocket_rulegen::Error> for ApiError {
    fn from(e: ipocket_rulegen::Error) -> Self {
        use ipocket_rulegen::Error as E;
        let (specific, message, details) = match &e {
            E::NotFound { kind, key } | E::AlreadyExists { kind, key } => {
                (None, e.to_string(), json!({"entity": kind, "key": key}))
            }
            E::InvalidInput { field, .. } => (None, e.to_string(), json!({ "field": field })),
            E::Validation(issues) => (
                Some(ApiErrorCode::RulesInvalid),
                format!(
                    "{} rule validation error(s); nothing was written",
                    issues.len()
                ),
                json!(issues),
            ),
            E::PromtoolRejected { file, output } => (
                Some(ApiErrorCode::PromtoolRejected),
                format!(
                    "promtool check rules refused {}; nothing was written",
                    file.display()
                ),
                json!({"output": output}),
            ),
            _ => (
                Some(ApiErrorCode::PrometheusFailed),
                e.to_string(),
                Value::Null,
            ),
        };
        Self::classify(&e, specific, message, details)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_shape() {
        let e = ApiError::from(ipocket_core::Error::Conflict("dup".into()));
        assert_eq!(e.status, StatusCode::CONFLICT);
        let b = e.body();
        assert_eq!(b["error"]["code"], "conflict");
        assert_eq!(b["error"]["message"], "dup");
        assert!(b["error"]["details"].is_null());
    }
}
