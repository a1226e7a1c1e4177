//! Every Rust error of the library crates mapped to its Python exception, variant by
//! variant, in this one module. The classes are defined in `ipocket/errors.py` (so they
//! carry typed attributes and docstrings); this module builds them with their details.

use ipocket_connectors::prometheus::PrometheusConnectorError;
use ipocket_connectors::remote::RemoteError;
use ipocket_connectors::sd_updater::SdUpdaterError;
use ipocket_connectors::vcenter::VcenterError;
use pyo3::call::PyCallArgs;
use pyo3::prelude::*;
use pyo3::types::PyList;

/// Builds `ipocket.errors.<class>(*args)` as a `PyErr`.
fn raise<'py>(py: Python<'py>, class: &str, args: impl PyCallArgs<'py>) -> PyErr {
    let built = py
        .import("ipocket.errors")
        .and_then(|m| m.getattr(class))
        .and_then(|c| c.call1(args));
    match built {
        Ok(exc) => PyErr::from_value(exc),
        Err(e) => e,
    }
}

/// `ipocket.ParseError` from an exposition parse error.
pub(crate) fn parse_error(py: Python<'_>, e: &ipocket_expfmt::ParseError) -> PyErr {
    raise(
        py,
        "ParseError",
        (
            e.to_string(),
            e.line,
            e.column,
            kind_name(&e.kind),
            e.snippet.clone(),
        ),
    )
}

/// The variant name of an `ErrorKind` (`InvalidValue`), without its payload.
fn kind_name(kind: &ipocket_expfmt::ErrorKind) -> String {
    let debug = format!("{kind:?}");
    debug
        .split(['(', ' ', '{'])
        .next()
        .unwrap_or_default()
        .to_string()
}

/// An `InvalidInputError` raised by the bindings themselves (bad keyword values).
pub(crate) fn invalid(py: Python<'_>, field: &str, message: impl std::fmt::Display) -> PyErr {
    raise(
        py,
        "InvalidInputError",
        (format!("{field}: {message}"), field.to_string()),
    )
}

/// `ipocket-core`'s `Error`.
pub(crate) fn core_error(py: Python<'_>, e: ipocket_core::Error) -> PyErr {
    use ipocket_core::Error as E;
    let msg = e.to_string();
    match e {
        E::Sqlite(_) | E::SchemaTooNew { .. } | E::Migration(_) => {
            raise(py, "DatabaseError", (msg,))
        }
        E::Io(_) => raise(py, "StorageError", (msg,)),
        E::Invalid { field, .. } => raise(py, "InvalidInputError", (msg, field)),
        E::NotFound { entity, key } => raise(py, "NotFoundError", (msg, entity, key)),
        E::Conflict(_) => raise(py, "ConflictError", (msg,)),
        E::Forbidden(_) => raise(py, "ForbiddenError", (msg,)),
        E::Import(errors) => {
            let issues = errors
                .0
                .iter()
                .map(|i| import_issue(py, &i.location, &i.message))
                .collect::<PyResult<Vec<_>>>();
            match issues.and_then(|v| PyList::new(py, v)) {
                Ok(list) => raise(py, "ImportValidationError", (msg, list)),
                Err(e) => e,
            }
        }
        E::StalePlan => raise(py, "StalePlanError", (msg,)),
        E::RangeFull(_) => raise(py, "RangeFullError", (msg,)),
        E::Password(_) | E::Zip(_) => raise(py, "IpocketError", (msg,)),
        _ => raise(py, "IpocketError", (msg,)),
    }
}

fn import_issue<'py>(
    py: Python<'py>,
    location: &str,
    message: &str,
) -> PyResult<Bound<'py, PyAny>> {
    py.import("ipocket.errors")?
        .getattr("ImportIssue")?
        .call1((location, message))
}

/// The Prometheus connector's hard failures; an import refusal is the core error it wraps.
pub(crate) fn prometheus_connector_error(py: Python<'_>, e: PrometheusConnectorError) -> PyErr {
    use PrometheusConnectorError as E;
    let msg = e.to_string();
    let (kind, status) = match e {
        E::Import(inner) => return core_error(py, inner),
        E::InvalidInput(_) => ("invalid_input", None),
        E::Http(_) => ("http", None),
        E::Auth { status, .. } => ("auth", Some(status)),
        E::HttpStatus { status, .. } => ("http_status", Some(status)),
        E::InvalidJson { status, .. } => ("invalid_json", Some(status)),
        E::Api { http_status, .. } => ("api", Some(http_status)),
        E::UnsupportedResultType(_) => ("unsupported_result_type", None),
        _ => ("other", None),
    };
    raise(py, "PrometheusConnectorError", (msg, kind, status))
}

/// A remote ipocket server's refusals: a bad bundle is the same `ImportValidationError` a
/// local import raises, a role refusal `ForbiddenError`; the rest `RemoteServerError`.
pub(crate) fn remote_error(py: Python<'_>, e: RemoteError) -> PyErr {
    use RemoteError as E;
    let msg = e.to_string();
    let (kind, status, code) = match e {
        E::ImportInvalid { issues, .. } => {
            let issues = issues
                .iter()
                .map(|i| import_issue(py, &i.location, &i.message))
                .collect::<PyResult<Vec<_>>>();
            return match issues.and_then(|v| PyList::new(py, v)) {
                Ok(list) => raise(py, "ImportValidationError", (msg, list)),
                Err(e) => e,
            };
        }
        E::Forbidden { .. } => return raise(py, "ForbiddenError", (msg,)),
        E::Http(_) => ("http", None, None),
        E::Unauthorized { .. } => ("unauthorized", Some(401), None),
        E::Api { status, code, .. } => ("api", Some(status), Some(code)),
        E::Unexpected { status, .. } => ("unexpected", Some(status), None),
        E::InvalidJson { .. } => ("invalid_json", Some(200), None),
        _ => ("other", None, None),
    };
    raise(py, "RemoteServerError", (msg, kind, status, code))
}

/// The vCenter connector's hard failures; an import refusal is the core error it wraps.
pub(crate) fn vcenter_error(py: Python<'_>, e: VcenterError) -> PyErr {
    use VcenterError as E;
    let msg = e.to_string();
    let (kind, status) = match e {
        E::Import(inner) => return core_error(py, inner),
        E::Http(_) => ("http", None),
        E::Login(status) => ("login", Some(status)),
        E::Status { status, .. } => ("status", Some(status)),
        E::InvalidJson { .. } => ("invalid_json", None),
        _ => ("other", None),
    };
    raise(py, "VcenterError", (msg, kind, status))
}

/// A file write that failed (`ipocket_files::WriteError`, already naming path and cause).
pub(crate) fn storage_error(py: Python<'_>, msg: String) -> PyErr {
    raise(py, "StorageError", (msg,))
}

/// The service-discovery writer's failures.
pub(crate) fn sd_error(py: Python<'_>, e: SdUpdaterError) -> PyErr {
    use SdUpdaterError as E;
    let msg = e.to_string();
    match e {
        E::MissingInventory(path) => raise(
            py,
            "NotFoundError",
            (msg, "inventory", path.display().to_string()),
        ),
        E::Inventory(inner) => core_error(py, inner),
        E::Write { .. } => raise(py, "StorageError", (msg,)),
        E::Remote(inner) => remote_error(py, inner),
        _ => raise(py, "IpocketError", (msg,)),
    }
}

/// `ipocket-rulegen`'s `Error`.
pub(crate) fn rulegen_error(py: Python<'_>, e: ipocket_rulegen::Error) -> PyErr {
    use ipocket_rulegen::Error as E;
    let msg = e.to_string();
    match e {
        E::Database(_) | E::SchemaTooNew { .. } | E::Migration(_) | E::Json { .. } => {
            raise(py, "DatabaseError", (msg,))
        }
        E::NotFound { kind, key } => raise(py, "NotFoundError", (msg, kind, key)),
        E::AlreadyExists { .. } => raise(py, "ConflictError", (msg,)),
        E::InvalidInput { field, .. } => raise(py, "InvalidInputError", (msg, field)),
        E::Validation(issues) => {
            let list = issues
                .iter()
                .map(|i| {
                    py.import("ipocket.errors")?
                        .getattr("ValidationIssue")?
                        .call1((i.location.as_str(), i.field.as_deref(), i.message.as_str()))
                })
                .collect::<PyResult<Vec<_>>>()
                .and_then(|v| PyList::new(py, v));
            match list {
                Ok(list) => raise(py, "RuleValidationError", (msg, list)),
                Err(e) => e,
            }
        }
        E::PromtoolRejected { file, output } => {
            // promtool's verdict is one issue located at the file it refused.
            let issue = py.import("ipocket.errors").and_then(|m| {
                m.getattr("ValidationIssue")?.call1((
                    file.display().to_string(),
                    None::<String>,
                    output.trim().to_string(),
                ))
            });
            match issue.and_then(|i| PyList::new(py, [i])) {
                Ok(list) => raise(py, "RuleValidationError", (msg, list)),
                Err(e) => e,
            }
        }
        E::PromtoolUnavailable { .. } | E::Io { .. } | E::File(_) => {
            raise(py, "StorageError", (msg,))
        }
        E::Yaml(_) => raise(py, "IpocketError", (msg,)),
        E::UnexpectedStatus { status, .. }
        | E::Unauthorized { status, .. }
        | E::ReloadFailed { status, .. } => raise(py, "PrometheusError", (msg, Some(status))),
        E::Http { .. } | E::LifecycleDisabled { .. } | E::ReloadNotConfirmed { .. } => {
            raise(py, "PrometheusError", (msg, None::<u16>))
        }
        _ => raise(py, "IpocketError", (msg,)),
    }
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
