//! One place that turns the library crates' errors into JavaScript `Error`s.
//!
//! Every error thrown (or rejected) by the module is an `Error` with a stable `code`
//! (`IPOCKET_PARSE_ERROR`, …), the located fields that apply (`line`/`column`/`snippet` for
//! the parser, `location`/`issues` for imports and rule validation, `status` for HTTP) and,
//! when a library error wraps another one, a `cause` built the same way.

use napi::bindgen_prelude::{Env, JsObjectValue, JsValue, Object};
use napi::Status;

/// A library error as the JavaScript side sees it, built from each crate's error enum;
/// it becomes a thrown (or rejected) `Error`.
#[derive(Debug, Clone, Default)]
pub struct JsFailure {
    pub(crate) code: &'static str,
    pub(crate) message: String,
    pub(crate) line: Option<u32>,
    pub(crate) column: Option<u32>,
    pub(crate) snippet: Option<String>,
    pub(crate) kind: Option<String>,
    pub(crate) field: Option<String>,
    pub(crate) location: Option<String>,
    pub(crate) issues: Vec<Issue>,
    pub(crate) status: Option<u16>,
    pub(crate) cause: Option<Box<JsFailure>>,
}

/// One located problem of an import or a rule validation.
#[derive(Debug, Clone)]
pub struct Issue {
    pub(crate) location: String,
    pub(crate) field: Option<String>,
    pub(crate) message: String,
}

impl JsFailure {
    pub(crate) fn new(code: &'static str, message: impl Into<String>) -> JsFailure {
        JsFailure {
            code,
            message: message.into(),
            ..JsFailure::default()
        }
    }

    /// A bad argument from JavaScript (unknown enum value, wrong shape).
    pub(crate) fn argument(message: impl Into<String>) -> JsFailure {
        JsFailure::new("IPOCKET_INVALID_ARGUMENT", message)
    }

    pub(crate) fn with_cause(mut self, cause: JsFailure) -> JsFailure {
        self.cause = Some(Box::new(cause));
        self
    }

    /// Builds the JavaScript `Error` object.
    fn to_object<'e>(&self, env: &'e Env) -> napi::Result<Object<'e>> {
        let mut obj = env.create_error(napi::Error::new(
            Status::GenericFailure,
            self.message.clone(),
        ))?;
        obj.set_named_property("code", self.code)?;
        if let Some(v) = self.line {
            obj.set_named_property("line", v)?;
        }
        if let Some(v) = self.column {
            obj.set_named_property("column", v)?;
        }
        if let Some(v) = &self.snippet {
            obj.set_named_property("snippet", v.as_str())?;
        }
        if let Some(v) = &self.kind {
            obj.set_named_property("kind", v.as_str())?;
        }
        if let Some(v) = &self.field {
            obj.set_named_property("field", v.as_str())?;
        }
        if let Some(v) = &self.location {
            obj.set_named_property("location", v.as_str())?;
        }
        if !self.issues.is_empty() {
            let mut arr = env.create_array(self.issues.len() as u32)?;
            for (i, issue) in self.issues.iter().enumerate() {
                let mut o = Object::new(env)?;
                o.set_named_property("location", issue.location.as_str())?;
                if let Some(f) = &issue.field {
                    o.set_named_property("field", f.as_str())?;
                }
                o.set_named_property("message", issue.message.as_str())?;
                arr.set(i as u32, o)?;
            }
            obj.set_named_property("issues", arr)?;
        }
        if let Some(v) = self.status {
            obj.set_named_property("status", v)?;
        }
        if let Some(cause) = &self.cause {
            obj.set_named_property("cause", cause.to_object(env)?)?;
        }
        Ok(obj)
    }

    /// The `napi::Error` that throws (or rejects with) exactly this object.
    pub(crate) fn into_napi(self, env: &Env) -> napi::Error {
        // `napi::Error::from(Unknown)` keeps a reference to the object, and the glue throws
        // (or rejects with) that very object.
        match self.to_object(env) {
            Ok(obj) => napi::Error::from(obj.to_unknown()),
            Err(_) => napi::Error::new(Status::GenericFailure, self.message),
        }
    }
}

/// Maps a library result to the one `napi::Result` the generated glue expects.
pub(crate) trait IntoJs<T> {
    /// Converts the error side into a thrown JavaScript `Error`.
    fn js(self, env: &Env) -> napi::Result<T>;
}

impl<T, E: Into<JsFailure>> IntoJs<T> for std::result::Result<T, E> {
    fn js(self, env: &Env) -> napi::Result<T> {
        self.map_err(|e| e.into().into_napi(env))
    }
}

impl From<ipocket_expfmt::ParseError> for JsFailure {
    fn from(e: ipocket_expfmt::ParseError) -> JsFailure {
        JsFailure {
            line: Some(e.line),
            column: Some(e.column),
            snippet: Some(e.snippet.clone()),
            kind: Some(e.kind.to_string()),
            ..JsFailure::new("IPOCKET_PARSE_ERROR", e.to_string())
        }
    }
}

impl From<ipocket_core::Error> for JsFailure {
    fn from(e: ipocket_core::Error) -> JsFailure {
        use ipocket_core::Error as E;
        let message = e.to_string();
        match e {
            E::Invalid { field, .. } => JsFailure {
                field: Some(field),
                ..JsFailure::new("IPOCKET_INVALID", message)
            },
            E::NotFound { .. } => JsFailure::new("IPOCKET_NOT_FOUND", message),
            E::Conflict(_) => JsFailure::new("IPOCKET_CONFLICT", message),
            E::Forbidden(_) => JsFailure::new("IPOCKET_FORBIDDEN", message),
            E::Import(errors) => JsFailure {
                location: errors.0.first().map(|i| i.location.clone()),
                issues: errors
                    .0
                    .iter()
                    .map(|i| Issue {
                        location: i.location.clone(),
                        field: None,
                        message: i.message.clone(),
                    })
                    .collect(),
                ..JsFailure::new("IPOCKET_IMPORT_ERROR", message)
            },
            E::StalePlan => JsFailure::new("IPOCKET_STALE_PLAN", message),
            E::RangeFull(_) => JsFailure::new("IPOCKET_RANGE_FULL", message),
            E::Io(_) => JsFailure::new("IPOCKET_IO_ERROR", message),
            _ => JsFailure::new("IPOCKET_DATABASE_ERROR", message),
        }
    }
}

impl From<ipocket_http::HttpError> for JsFailure {
    fn from(e: ipocket_http::HttpError) -> JsFailure {
        JsFailure::new("IPOCKET_HTTP_ERROR", e.to_string())
    }
}

impl From<ipocket_connectors::prometheus::PrometheusConnectorError> for JsFailure {
    fn from(e: ipocket_connectors::prometheus::PrometheusConnectorError) -> JsFailure {
        use ipocket_connectors::prometheus::PrometheusConnectorError as E;
        let message = e.to_string();
        match e {
            E::InvalidInput(_) => JsFailure::argument(message),
            E::Http(h) => JsFailure::new("IPOCKET_HTTP_ERROR", message).with_cause(h.into()),
            E::Auth { status, .. } | E::HttpStatus { status, .. } => JsFailure {
                status: Some(status),
                ..JsFailure::new("IPOCKET_HTTP_ERROR", message)
            },
            E::InvalidJson { status, .. } => JsFailure {
                status: Some(status),
                ..JsFailure::new("IPOCKET_PROMETHEUS_ERROR", message)
            },
            E::Api { http_status, .. } => JsFailure {
                status: Some(http_status),
                ..JsFailure::new("IPOCKET_PROMETHEUS_ERROR", message)
            },
            E::UnsupportedResultType(_) => JsFailure::new("IPOCKET_PROMETHEUS_ERROR", message),
            E::Import(core) => {
                JsFailure::new("IPOCKET_CONNECTOR_ERROR", message).with_cause(core.into())
            }
            _ => JsFailure::new("IPOCKET_CONNECTOR_ERROR", message),
        }
    }
}

impl From<ipocket_rulegen::Error> for JsFailure {
    fn from(e: ipocket_rulegen::Error) -> JsFailure {
        use ipocket_rulegen::Error as E;
        let message = e.to_string();
        match e {
            E::NotFound { .. } => JsFailure::new("IPOCKET_NOT_FOUND", message),
            E::AlreadyExists { .. } => JsFailure::new("IPOCKET_CONFLICT", message),
            E::InvalidInput { field, .. } => JsFailure {
                field: Some(field),
                ..JsFailure::new("IPOCKET_INVALID", message)
            },
            E::Validation(issues) => JsFailure {
                location: issues.first().map(|i| i.location.clone()),
                issues: issues
                    .into_iter()
                    .map(|i| Issue {
                        location: i.location,
                        field: i.field,
                        message: i.message,
                    })
                    .collect(),
                ..JsFailure::new("IPOCKET_RULE_VALIDATION_ERROR", message)
            },
            E::PromtoolRejected { .. } | E::PromtoolUnavailable { .. } => {
                JsFailure::new("IPOCKET_PROMTOOL_ERROR", message)
            }
            E::Io { .. } | E::File(_) => JsFailure::new("IPOCKET_IO_ERROR", message),
            E::Http { .. } => JsFailure::new("IPOCKET_HTTP_ERROR", message),
            E::UnexpectedStatus { status, .. }
            | E::Unauthorized { status, .. }
            | E::ReloadFailed { status, .. } => JsFailure {
                status: Some(status),
                ..JsFailure::new("IPOCKET_PROMETHEUS_ERROR", message)
            },
            E::LifecycleDisabled { .. } | E::ReloadNotConfirmed { .. } => {
                JsFailure::new("IPOCKET_PROMETHEUS_ERROR", message)
            }
            _ => JsFailure::new("IPOCKET_DATABASE_ERROR", message),
        }
    }
}
