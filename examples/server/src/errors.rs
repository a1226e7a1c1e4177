//! The one error shape of the API: `{"error":{"code":…,"message":…,"details":…}}`.

use hyper::StatusCode;
use serde_json::{json, Value};

/// An error answer: status, stable machine code, human message and optional details.
#[derive(Debug)]
pub(crate) struct ApiError {
    pub(crate) status: StatusCode,
    pub(crate) code: &'static str,
    pub(crate) message: String,
    pub(crate) details: Value,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            details: Value::Null,
        }
    }

    pub(crate) fn with_details(mut self, details: Value) -> Self {
        self.details = details;
        self
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    pub(crate) fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "a valid bearer token is required (POST /api/v1/auth/login)",
        )
    }

    pub(crate) fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub(crate) fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "method not allowed on this path",
        )
    }

    pub(crate) fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error; see the server log",
        )
    }

    /// The JSON body.
    pub(crate) fn body(&self) -> Value {
        json!({"error": {"code": self.code, "message": self.message, "details": self.details}})
    }
}

impl From<ipocket_core::Error> for ApiError {
    fn from(e: ipocket_core::Error) -> Self {
        use ipocket_core::Error as E;
        match e {
            E::Invalid { field, message } => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_value",
                format!("{field}: {message}"),
            )
            .with_details(json!({ "field": field })),
            E::NotFound { entity, key } => Self::not_found(format!("{entity} not found: {key}"))
                .with_details(json!({"entity": entity, "key": key})),
            E::Conflict(m) => Self::new(StatusCode::CONFLICT, "conflict", m),
            E::Forbidden(m) => Self::forbidden(m),
            E::Import(errors) => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "import_invalid",
                errors
                    .to_string()
                    .lines()
                    .next()
                    .unwrap_or("import errors")
                    .to_string(),
            )
            .with_details(json!(errors.0)),
            E::StalePlan => Self::new(StatusCode::CONFLICT, "stale_plan", E::StalePlan.to_string()),
            E::RangeFull(r) => Self::new(
                StatusCode::CONFLICT,
                "range_full",
                format!("range {r} has no free address"),
            ),
            other => {
                // Database, I/O and hashing errors carry no secrets; log them, answer generically.
                eprintln!("ipocket serve: internal error: {other}");
                Self::internal()
            }
        }
    }
}

impl From<ipocket_connectors::IngestError> for ApiError {
    fn from(e: ipocket_connectors::IngestError) -> Self {
        use ipocket_connectors::IngestError as E;
        let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
        let code = match &e {
            E::MissingServerId => "missing_server_id",
            E::InvalidServerId(_) => "invalid_server_id",
            E::UnknownServer(_) => "unknown_server",
            E::EmptyBody => "empty_body",
            E::BodyTooLarge { .. } => "body_too_large",
            E::UnsupportedContentType(_) => "unsupported_media_type",
            E::Unparsable { .. } => "unparsable",
            _ => "internal",
        };
        if status.is_server_error() {
            eprintln!("ipocket serve: ingest failed: {e}");
            return Self::internal();
        }
        let details = match &e {
            E::Unparsable { errors } => json!(errors),
            _ => Value::Null,
        };
        Self::new(status, code, e.to_string()).with_details(details)
    }
}

impl From<ipocket_rulegen::Error> for ApiError {
    fn from(e: ipocket_rulegen::Error) -> Self {
        use ipocket_rulegen::Error as E;
        let message = e.to_string();
        match e {
            E::NotFound { kind, key } => {
                Self::not_found(message).with_details(json!({"entity": kind, "key": key}))
            }
            E::AlreadyExists { kind, key } => Self::new(StatusCode::CONFLICT, "conflict", message)
                .with_details(json!({"entity": kind, "key": key})),
            E::InvalidInput { field, .. } => {
                Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_value", message)
                    .with_details(json!({ "field": field }))
            }
            E::Validation(issues) => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "rules_invalid",
                format!(
                    "{} rule validation error(s); nothing was written",
                    issues.len()
                ),
            )
            .with_details(json!(issues)),
            E::PromtoolRejected { file, output } => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "promtool_rejected",
                format!(
                    "promtool check rules refused {}; nothing was written",
                    file.display()
                ),
            )
            .with_details(json!({"output": output})),
            E::Http { .. }
            | E::UnexpectedStatus { .. }
            | E::Unauthorized { .. }
            | E::LifecycleDisabled { .. }
            | E::ReloadFailed { .. }
            | E::ReloadNotConfirmed { .. } => {
                Self::new(StatusCode::BAD_GATEWAY, "prometheus_failed", message)
            }
            other => {
                eprintln!("ipocket serve: internal error: {other}");
                Self::internal()
            }
        }
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
