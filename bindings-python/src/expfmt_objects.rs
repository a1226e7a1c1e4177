//! The Python classes of `ipocket.expfmt`: `Sample`, `Exemplar`, `MetricFamily`, and the
//! metric-type names they carry.

use ipocket_expfmt::{Format, MetricType, Timestamp};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString};

use crate::errors;

/// OpenMetrics type names for both formats, so `"unknown"` means no TYPE line either way.
pub(crate) fn type_name(t: MetricType, format: Format) -> &'static str {
    match (t, format) {
        (MetricType::Unknown, Format::Text) => "untyped",
        _ => t.as_str(Format::OpenMetrics),
    }
}

pub(crate) fn type_arg(py: Python<'_>, s: &str) -> PyResult<MetricType> {
    MetricType::parse(s, Format::OpenMetrics)
        .or_else(|| MetricType::parse(s, Format::Text))
        .ok_or_else(|| {
            errors::invalid(
                py,
                "type",
                format!("unknown metric type {s:?} (counter, gauge, histogram, gaugehistogram, summary, info, stateset, unknown, untyped)"),
            )
        })
}

/// One sample line: metric name, labels, value, optional timestamp and exemplar.
///
/// Like `prometheus_client`'s `Sample`, `labels` is a `dict` and `timestamp` is in
/// seconds; `timestamp_ms` is the integer the exposition carries (rounded down when an
/// OpenMetrics timestamp has sub-millisecond digits). The timestamp itself is kept exactly,
/// so `encode` writes back what `parse` read.
#[pyclass(frozen, module = "ipocket.expfmt", name = "Sample")]
pub(crate) struct PySample {
    /// The metric name as written (with `_total`, `_bucket`… suffixes).
    #[pyo3(get)]
    pub(crate) name: Py<PyString>,
    /// Label names to values.
    #[pyo3(get)]
    pub(crate) labels: Py<PyDict>,
    /// The sample value.
    #[pyo3(get)]
    pub(crate) value: f64,
    /// When, if the line has a timestamp (exact; see the getters).
    pub(crate) ts: Option<Timestamp>,
    /// The OpenMetrics exemplar, if any.
    #[pyo3(get)]
    pub(crate) exemplar: Option<Py<PyExemplar>>,
}

#[pymethods]
impl PySample {
    #[new]
    #[pyo3(signature = (name, labels, value, timestamp_ms=None, exemplar=None))]
    fn new(
        name: Bound<'_, PyString>,
        labels: Bound<'_, PyDict>,
        value: f64,
        timestamp_ms: Option<i64>,
        exemplar: Option<Py<PyExemplar>>,
    ) -> Self {
        PySample {
            name: name.unbind(),
            labels: labels.unbind(),
            value,
            ts: timestamp_ms.map(Timestamp::from_millis),
            exemplar,
        }
    }

    /// The timestamp in seconds (as `prometheus_client` gives it, the nearest float), or
    /// `None`.
    #[getter]
    fn timestamp(&self) -> Option<f64> {
        self.ts.map(Timestamp::as_secs_f64)
    }

    /// Milliseconds since the epoch (rounded down, clamped to int64), or `None`.
    #[getter]
    fn timestamp_ms(&self) -> Option<i64> {
        self.ts.map(Timestamp::as_millis_clamped)
    }

    fn __eq__(&self, py: Python<'_>, other: PyRef<'_, PySample>) -> PyResult<bool> {
        let same_value = self.value == other.value || (self.value.is_nan() && other.value.is_nan());
        Ok(same_value
            && self.ts == other.ts
            && PyAnyMethods::eq(self.name.bind(py).as_any(), other.name.bind(py))?
            && PyAnyMethods::eq(self.labels.bind(py).as_any(), other.labels.bind(py))?)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "Sample(name={}, labels={}, value={}, timestamp_ms={})",
            self.name.bind(py).repr()?,
            self.labels.bind(py).repr()?,
            float_repr(self.value),
            self.timestamp_ms()
                .map_or("None".to_string(), |t| t.to_string()),
        ))
    }
}

fn float_repr(v: f64) -> String {
    if v.is_nan() {
        "nan".into()
    } else if v.is_infinite() {
        if v > 0.0 {
            "inf".into()
        } else {
            "-inf".into()
        }
    } else {
        format!("{v:?}")
    }
}

/// An OpenMetrics exemplar: labels, value and optional timestamp.
#[pyclass(frozen, module = "ipocket.expfmt", name = "Exemplar")]
pub(crate) struct PyExemplar {
    /// Exemplar labels (for example `trace_id`).
    #[pyo3(get)]
    pub(crate) labels: Py<PyDict>,
    /// The exemplar value.
    #[pyo3(get)]
    pub(crate) value: f64,
    /// When, if given (exact).
    pub(crate) ts: Option<Timestamp>,
}

#[pymethods]
impl PyExemplar {
    #[new]
    #[pyo3(signature = (labels, value, timestamp_ms=None))]
    fn new(labels: Bound<'_, PyDict>, value: f64, timestamp_ms: Option<i64>) -> Self {
        PyExemplar {
            labels: labels.unbind(),
            value,
            ts: timestamp_ms.map(Timestamp::from_millis),
        }
    }

    /// Milliseconds since the epoch (rounded down, clamped to int64), or `None`.
    #[getter]
    fn timestamp_ms(&self) -> Option<i64> {
        self.ts.map(Timestamp::as_millis_clamped)
    }

    /// The timestamp in seconds (the nearest float), or `None`.
    #[getter]
    fn timestamp(&self) -> Option<f64> {
        self.ts.map(Timestamp::as_secs_f64)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "Exemplar(labels={}, value={}, timestamp_ms={:?})",
            self.labels.bind(py).repr()?,
            float_repr(self.value),
            self.timestamp_ms()
        ))
    }
}

/// A metric family: name, type, help, unit and its samples in input order.
#[pyclass(frozen, module = "ipocket.expfmt", name = "MetricFamily")]
pub(crate) struct PyMetricFamily {
    /// Family name (an OpenMetrics counter's without `_total`).
    #[pyo3(get)]
    pub(crate) name: Py<PyString>,
    /// `counter`, `gauge`, `histogram`, `gaugehistogram`, `summary`, `info`, `stateset`,
    /// or `untyped` / `unknown` without a TYPE line.
    #[pyo3(get, name = "type")]
    pub(crate) metric_type: &'static str,
    /// The HELP text, if any.
    #[pyo3(get)]
    pub(crate) help: Option<String>,
    /// The UNIT (OpenMetrics), if any.
    #[pyo3(get)]
    pub(crate) unit: Option<String>,
    /// The samples (`Sample` objects), including `_bucket`, `_count`, `_sum`, `_created`.
    #[pyo3(get)]
    pub(crate) samples: Py<PyList>,
}

#[pymethods]
impl PyMetricFamily {
    #[new]
    #[pyo3(signature = (name, r#type="untyped", help=None, unit=None, samples=None))]
    fn new(
        py: Python<'_>,
        name: Bound<'_, PyString>,
        r#type: &str,
        help: Option<String>,
        unit: Option<String>,
        samples: Option<Bound<'_, PyList>>,
    ) -> PyResult<Self> {
        let t = type_arg(py, r#type)?;
        Ok(PyMetricFamily {
            name: name.unbind(),
            metric_type: match r#type {
                "untyped" => "untyped",
                _ => t.as_str(Format::OpenMetrics),
            },
            help,
            unit,
            samples: samples.unwrap_or_else(|| PyList::empty(py)).unbind(),
        })
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let opt = |o: &Option<String>| -> PyResult<String> {
            match o {
                Some(s) => Ok(PyString::new(py, s).repr()?.to_string()),
                None => Ok("None".to_string()),
            }
        };
        Ok(format!(
            "MetricFamily(name={}, type='{}', help={}, unit={}, samples=<{} samples>)",
            self.name.bind(py).repr()?,
            self.metric_type,
            opt(&self.help)?,
            opt(&self.unit)?,
            self.samples.bind(py).len()
        ))
    }
}
