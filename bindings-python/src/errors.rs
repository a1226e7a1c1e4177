//! Every Rust error of the library crates becomes a Python exception here, in one table:
//! the error's [`ErrorKind`] picks the class (`ipocket/errors.py`), the variant adds a more
//! precise subclass where it has located details (a parse position, import or rule issues,
//! a stale plan, a full range) and sets those details as attributes. The Node module
//! (`bindings-node/src/errors.rs`) uses the same kinds and class names, and a test in each
//! feeds them the same failures.

use ipocket_connectors::prometheus::PrometheusConnectorError;
use ipocket_connectors::remote::RemoteError;
use ipocket_connectors::sd_updater::SdUpdaterError;
use ipocket_connectors::vcenter::VcenterError;
use ipocket_errors::{Classify, ErrorKind};
use pyo3::prelude::*;
use pyo3::types::PyList;
use pyo3::BoundObject;

/// The class of each kind: the one table.
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

/// What a variant adds to its kind: a subclass and attributes.
#[derive(Default)]
struct Details<'py> {
    subclass: Option<&'static str>,
    attrs: Vec<(&'static str, Bound<'py, PyAny>)>,
}

impl<'py> Details<'py> {
    fn subclass(mut self, name: &'static str) -> Self {
        self.subclass = Some(name);
        self
    }

    fn attr(mut self, py: Python<'py>, name: &'static str, value: impl IntoPyObject<'py>) -> Self {
        if let Ok(v) = value.into_pyobject(py) {
            self.attrs.push((name, v.into_any().into_bound()));
        }
        self
    }
}

/// Builds `ipocket.errors.<class>(message)` with `details` set, as a `PyErr`.
fn build(py: Python<'_>, kind: ErrorKind, message: String, details: Details<'_>) -> PyErr {
    let class = details.subclass.unwrap_or(class_of(kind));
    let built = py
        .import("ipocket.errors")
        .and_then(|m| m.getattr(class))
        .and_then(|c| c.call1((message,)))
        .and_then(|exc| {
            for (name, value) in details.attrs {
                exc.setattr(name, value)?;
            }
            Ok(exc)
        });
    match built {
        Ok(exc) => PyErr::from_value(exc),
        Err(e) => e,
    }
}

/// `ipocket.ParseError` from an exposition parse error.
pub(crate) fn parse_error(py: Python<'_>, e: &ipocket_expfmt::ParseError) -> PyErr {
    let details = Details::default()
        .subclass("ParseError")
        .attr(py, "line", e.line)
        .attr(py, "column", e.column)
        .attr(py, "rule", rule_name(&e.kind))
        .attr(py, "snippet", e.snippet.clone());
    build(py, e.kind(), e.to_string(), details)
}

/// The variant name of the parser's `ErrorKind` (`InvalidValue`), without its payload.
fn rule_name(kind: &ipocket_expfmt::ErrorKind) -> String {
    let debug = format!("{kind:?}");
    debug
        .split(['(', ' ', '{'])
        .next()
        .unwrap_or_default()
        .to_string()
}

/// An `InvalidInputError` raised by the bindings themselves (bad keyword values).
pub(crate) fn invalid(py: Python<'_>, field: &str, message: impl std::fmt::Display) -> PyErr {
    let details = Details::default().attr(py, "field", field);
    build(
        py,
        ErrorKind::Invalid,
        format!("{field}: {message}"),
        details,
    )
}

/// An `UnavailableError` raised by the bindings themselves (a peer that could not be asked).
pub(crate) fn unavailable(py: Python<'_>, message: impl std::fmt::Display) -> PyErr {
    build(
        py,
        ErrorKind::Unavailable,
        message.to_string(),
        Details::default(),
    )
}

fn import_issues<'py>(
    py: Python<'py>,
    issues: &[ipocket_core::ImportIssue],
) -> PyResult<Bound<'py, PyList>> {
    let class = py.import("ipocket.errors")?.getattr("ImportIssue")?;
    let items = issues
        .iter()
        .map(|i| class.call1((i.location.as_str(), i.message.as_str())))
        .collect::<PyResult<Vec<_>>>()?;
    PyList::new(py, items)
}

/// The details of `ipocket-core`'s errors.
fn core_details<'py>(py: Python<'py>, e: &ipocket_core::Error) -> Details<'py> {
    use ipocket_core::Error as E;
    let d = Details::default();
    match e {
        E::Invalid { field, .. } => d.attr(py, "field", field.as_str()),
        E::NotFound { entity, key } => d.attr(py, "entity", *entity).attr(py, "key", key.as_str()),
        E::Import(errors) => match import_issues(py, &errors.0) {
            Ok(list) => d.subclass("ImportValidationError").attr(py, "errors", list),
            Err(_) => d,
        },
        E::StalePlan => d.subclass("StalePlanError"),
        E::RangeFull(_) => d.subclass("RangeFullError"),
        _ => d,
    }
}

/// `ipocket-core`'s `Error`.
pub(crate) fn core_error(py: Python<'_>, e: ipocket_core::Error) -> PyErr {
    build(py, e.kind(), e.to_string(), core_details(py, &e))
}

/// The Prometheus connector's failures; an import refusal is the core error it wraps.
pub(crate) fn prometheus_connector_error(py: Python<'_>, e: PrometheusConnectorError) -> PyErr {
    use PrometheusConnectorError as E;
    let details = match &e {
        E::Import(inner) => return build(py, e.kind(), inner.to_string(), core_details(py, inner)),
        E::Auth { status, .. } | E::HttpStatus { status, .. } | E::InvalidJson { status, .. } => {
            Details::default().attr(py, "status", *status)
        }
        E::Api { http_status, .. } => Details::default().attr(py, "status", *http_status),
        _ => Details::default(),
    };
    build(py, e.kind(), e.to_string(), details)
}

/// A remote ipocket server's refusals: a bad bundle is the same `ImportValidationError` a
/// local import raises; an API answer carries its `status` and `code`.
pub(crate) fn remote_error(py: Python<'_>, e: RemoteError) -> PyErr {
    use RemoteError as E;
    let d = Details::default();
    let details = match &e {
        E::ImportInvalid { issues, .. } => match import_issues(py, issues) {
            Ok(list) => d.subclass("ImportValidationError").attr(py, "errors", list),
            Err(err) => return err,
        },
        E::Unauthorized { .. } => d.attr(py, "status", 401u16),
        E::Forbidden { .. } => d.attr(py, "status", 403u16),
        E::Api { status, code, .. } => {
            let d = d
                .attr(py, "status", *status)
                .attr(py, "code", code.as_str());
            match e.api_code() {
                Some(ipocket_errors::ApiErrorCode::StalePlan) => d.subclass("StalePlanError"),
                Some(ipocket_errors::ApiErrorCode::RangeFull) => d.subclass("RangeFullError"),
                _ => d,
            }
        }
        E::Unexpected { status, .. } => d.attr(py, "status", *status),
        _ => d,
    };
    build(py, e.kind(), e.to_string(), details)
}

/// The vCenter connector's failures; an import refusal is the core error it wraps.
pub(crate) fn vcenter_error(py: Python<'_>, e: VcenterError) -> PyErr {
    let details = match &e {
        VcenterError::Import(inner) => {
            return build(py, e.kind(), inner.to_string(), core_details(py, inner))
        }
        VcenterError::Login(status) | VcenterError::Status { status, .. } => {
            Details::default().attr(py, "status", *status)
        }
        _ => Details::default(),
    };
    build(py, e.kind(), e.to_string(), details)
}

/// `ipocket-files`' refusals and failures.
pub(crate) fn write_error(py: Python<'_>, e: ipocket_files::WriteError) -> PyErr {
    build(py, e.kind(), e.to_string(), Details::default())
}

/// The service-discovery writer's failures.
pub(crate) fn sd_error(py: Python<'_>, e: SdUpdaterError) -> PyErr {
    match e {
        SdUpdaterError::Inventory(inner) => core_error(py, inner),
        SdUpdaterError::Remote(inner) => remote_error(py, inner),
        SdUpdaterError::MissingInventory(ref path) => {
            let details = Details::default().attr(py, "entity", "inventory").attr(
                py,
                "key",
                path.display().to_string(),
            );
            build(py, e.kind(), e.to_string(), details)
        }
        other => build(py, other.kind(), other.to_string(), Details::default()),
    }
}

/// `ipocket-rulegen`'s `Error`.
pub(crate) fn rulegen_error(py: Python<'_>, e: ipocket_rulegen::Error) -> PyErr {
    use ipocket_rulegen::Error as E;
    let d = Details::default();
    let issue_class = || py.import("ipocket.errors")?.getattr("ValidationIssue");
    let details = match &e {
        E::NotFound { kind, key } => d.attr(py, "entity", *kind).attr(py, "key", key.as_str()),
        E::InvalidInput { field, .. } => d.attr(py, "field", field.as_str()),
        E::Validation(issues) => {
            let list = issue_class().and_then(|class| {
                let items = issues
                    .iter()
                    .map(|i| {
                        class.call1((i.location.as_str(), i.field.as_deref(), i.message.as_str()))
                    })
                    .collect::<PyResult<Vec<_>>>()?;
                PyList::new(py, items)
            });
            match list {
                Ok(list) => d.subclass("RuleValidationError").attr(py, "issues", list),
                Err(err) => return err,
            }
        }
        E::PromtoolRejected { file, output } => {
            // promtool's verdict is one issue located at the file it refused.
            let list = issue_class().and_then(|class| {
                let issue = class.call1((
                    file.display().to_string(),
                    None::<String>,
                    output.trim().to_string(),
                ))?;
                PyList::new(py, [issue])
            });
            match list {
                Ok(list) => d.subclass("RuleValidationError").attr(py, "issues", list),
                Err(err) => return err,
            }
        }
        E::UnexpectedStatus { status, .. } | E::ReloadFailed { status, .. } => {
            d.attr(py, "status", *status)
        }
        _ => d,
    };
    build(py, e.kind(), e.to_string(), details)
}

/// Extension trait: `result.or_py(py, mapper)?`.
pub(crate) trait OrPy<T, E> {
    /// Maps the error with `f` (one of the functions above).
    fn or_py(self, py: Python<'_>, f: fn(Python<'_>, E) -> PyErr) -> PyResult<T>;
}

impl<T, E> OrPy<T, E> for Result<T, E> {
    fn or_py(self, py: Python<'_>, f: fn(Python<'_>, E) -> PyErr) -> PyResult<T> {
        self.map_err(|e| f(py, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_its_own_class() {
        let classes: std::collections::HashSet<_> =
            ErrorKind::ALL.into_iter().map(class_of).collect();
        assert_eq!(classes.len(), ErrorKind::ALL.len());
    }
}
