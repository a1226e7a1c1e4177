//! One place that turns the library crates' errors into JavaScript `Error`s, as one table
//! over each error's [`ErrorKind`].
//!
//! Every error thrown (or rejected) by the module is an `Error` whose `kind` is the kind of
//! failure (`invalid`, `not_found`, `conflict`, `forbidden`, `unauthorized`, `too_large`,
//! `unavailable`, `internal`) and whose `code` is that kind's stable code
//! (`IPOCKET_NOT_FOUND`); `name` is the class the Python module raises for the same failure
//! (`StalePlanError`, `ParseError`, `InvalidInputError`…). The variant adds the located fields
//! that apply (`line`/`column`/`rule`/`snippet` for the parser, `location`/`issues` for
//! imports and rule validation, `field`, `status` for a peer's HTTP answer).

use ipocket_errors::{Classify, ErrorKind};
use napi::bindgen_prelude::{Env, JsObjectValue, JsValue, Object};
use napi::Status;

/// The `code` of each kind: the one table. (`name` follows the same table, see [`class_of`].)
fn code_of(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Invalid => "IPOCKET_INVALID",
        ErrorKind::NotFound => "IPOCKET_NOT_FOUND",
        ErrorKind::Conflict => "IPOCKET_CONFLICT",
        ErrorKind::Forbidden => "IPOCKET_FORBIDDEN",
        ErrorKind::Unauthorized => "IPOCKET_UNAUTHORIZED",
        ErrorKind::TooLarge => "IPOCKET_TOO_LARGE",
        ErrorKind::Unavailable => "IPOCKET_UNAVAILABLE",
        _ => "IPOCKET_INTERNAL",
    }
}

/// The class name of each kind, as `ipocket.errors` in Python names it.
fn class_of(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Invalid => "InvalidInputError",
        ErrorKind::NotFound => "NotFoundError",
        ErrorKind::Conflict => "ConflictError",
        ErrorKind::Forbidden => "ForbiddenError",
        ErrorKind::Unauthorized => "UnauthorizedError",
        ErrorKind::TooLarge => "TooLargeError",
        ErrorKind::Unavailable => "UnavailableError",
        _ => "InternalError",
    }
}

/// A library error as the JavaScript side sees it; it becomes a thrown (or rejected) `Error`.
#[derive(Debug, Clone)]
pub struct JsFailure {
    pub(crate) kind: ErrorKind,
    /// A more precise class than the kind's (`StalePlanError`), where the variant has one.
    pub(crate) class: Option<&'static str>,
    pub(crate) message: String,
    pub(crate) line: Option<u32>,
    pub(crate) column: Option<u32>,
    pub(crate) snippet: Option<String>,
    pub(crate) rule: Option<String>,
    pub(crate) field: Option<String>,
    pub(crate) location: Option<String>,
    pub(crate) issues: Vec<Issue>,
    pub(crate) status: Option<u16>,
}

/// One located problem of an import or a rule validation.
#[derive(Debug, Clone)]
pub struct Issue {
    pub(crate) location: String,
    pub(crate) field: Option<String>,
    pub(crate) message: String,
}

impl JsFailure {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> JsFailure {
        JsFailure {
            kind,
            class: None,
            message: message.into(),
            line: None,
            column: None,
            snippet: None,
            rule: None,
            field: None,
            location: None,
            issues: Vec::new(),
            status: None,
        }
    }

    /// The error's own kind and message.
    pub(crate) fn of(e: &(impl Classify + std::fmt::Display)) -> JsFailure {
        JsFailure::new(e.kind(), e.to_string())
    }

    /// A bad argument from JavaScript (unknown enum value, wrong shape).
    pub(crate) fn argument(message: impl Into<String>) -> JsFailure {
        JsFailure::new(ErrorKind::Invalid, message)
    }

    fn class(mut self, name: &'static str) -> JsFailure {
        self.class = Some(name);
        self
    }

    pub(crate) fn status(mut self, status: u16) -> JsFailure {
        self.status = Some(status);
        self
    }

    /// Builds the JavaScript `Error` object.
    fn to_object<'e>(&self, env: &'e Env) -> napi::Result<Object<'e>> {
        let mut obj = env.create_error(napi::Error::new(
            Status::GenericFailure,
            self.message.clone(),
        ))?;
        obj.set_named_property("code", code_of(self.kind))?;
        obj.set_named_property("kind", self.kind.as_str())?;
        obj.set_named_property("name", self.class.unwrap_or(class_of(self.kind)))?;
        if let Some(v) = self.line {
            obj.set_named_property("line", v)?;
        }
        if let Some(v) = self.column {
            obj.set_named_property("column", v)?;
        }
        if let Some(v) = &self.snippet {
            obj.set_named_property("snippet", v.as_str())?;
        }
        if let Some(v) = &self.rule {
            obj.set_named_property("rule", v.as_str())?;
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
            rule: Some(rule_name(&e.kind)),
            ..JsFailure::of(&e).class("ParseError")
        }
    }
}

/// The variant name of the parser's `ErrorKind` (`InvalidValue`), as Python's `rule`.
fn rule_name(kind: &ipocket_expfmt::ErrorKind) -> String {
    let debug = format!("{kind:?}");
    debug
        .split(['(', ' ', '{'])
        .next()
        .unwrap_or_default()
        .to_string()
}

fn import_issues(issues: &[ipocket_core::ImportIssue]) -> Vec<Issue> {
    issues
        .iter()
        .map(|i| Issue {
            location: i.location.clone(),
            field: None,
            message: i.message.clone(),
        })
        .collect()
}

impl From<ipocket_core::Error> for JsFailure {
    fn from(e: ipocket_core::Error) -> JsFailure {
        use ipocket_core::Error as E;
        let failure = JsFailure::of(&e);
        match e {
            E::Invalid { field, .. } => JsFailure {
                field: Some(field),
                ..failure
            },
            E::Import(errors) => JsFailure {
                location: errors.0.first().map(|i| i.location.clone()),
                issues: import_issues(&errors.0),
                ..failure.class("ImportValidationError")
            },
            E::StalePlan => failure.class("StalePlanError"),
            E::RangeFull(_) => failure.class("RangeFullError"),
            _ => failure,
        }
    }
}

impl From<ipocket_http::HttpError> for JsFailure {
    fn from(e: ipocket_http::HttpError) -> JsFailure {
        JsFailure::of(&e)
    }
}

impl From<ipocket_connectors::prometheus::PrometheusConnectorError> for JsFailure {
    fn from(e: ipocket_connectors::prometheus::PrometheusConnectorError) -> JsFailure {
        use ipocket_connectors::prometheus::PrometheusConnectorError as E;
        let failure = JsFailure::of(&e);
        match e {
            E::Auth { status, .. }
            | E::HttpStatus { status, .. }
            | E::InvalidJson { status, .. } => failure.status(status),
            E::Api { http_status, .. } => failure.status(http_status),
            E::Import(core) => core.into(),
            _ => failure,
        }
    }
}

impl From<ipocket_rulegen::Error> for JsFailure {
    fn from(e: ipocket_rulegen::Error) -> JsFailure {
        use ipocket_rulegen::Error as E;
        let failure = JsFailure::of(&e);
        match e {
            E::InvalidInput { field, .. } => JsFailure {
                field: Some(field),
                ..failure
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
                ..failure.class("RuleValidationError")
            },
            E::PromtoolRejected { file, output } => JsFailure {
                // promtool's verdict is one issue located at the file it refused.
                location: Some(file.display().to_string()),
                issues: vec![Issue {
                    location: file.display().to_string(),
                    field: None,
                    message: output.trim().to_string(),
                }],
                ..failure.class("RuleValidationError")
            },
            E::UnexpectedStatus { status, .. } | E::ReloadFailed { status, .. } => {
                failure.status(status)
            }
            _ => failure,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_its_own_code_and_class() {
        let codes: std::collections::HashSet<_> = ErrorKind::ALL.into_iter().map(code_of).collect();
        let classes: std::collections::HashSet<_> =
            ErrorKind::ALL.into_iter().map(class_of).collect();
        assert_eq!(codes.len(), ErrorKind::ALL.len());
        assert_eq!(classes.len(), ErrorKind::ALL.len());
    }
}
