//! `ipocket.expfmt`: the exposition parser and encoder for Python.
//!
//! The cost of parsing from Python is building one object per sample, so the parser lends
//! records (`Parser::next_ref`) and this module turns them into `Sample` objects directly:
//! metric and label names are created once per distinct name and shared (short label
//! values too), and each label set becomes one `dict`.

use std::borrow::Cow;

use ipocket_expfmt::{
    encode_families, Exemplar, Families, Format, Label, Labels, MetricFamily, Mode, Parser, Record,
    Sample,
};
use pyo3::exceptions::PyStopIteration;
use pyo3::prelude::*;
use pyo3::pybacked::{PyBackedBytes, PyBackedStr};
use pyo3::types::{PyByteArray, PyBytes, PyDict, PyList, PyString};

use crate::errors;
use crate::expfmt_objects::{type_arg, type_name, PyExemplar, PyMetricFamily, PySample};

/// Label values up to this many bytes are shared between samples; longer ones are rare
/// repeats (paths, versions) and not worth the hash.
const SHARED_VALUE_MAX: usize = 48;
/// Distinct values kept per parse, so a file of unique values cannot grow the table forever.
const SHARED_VALUES_CAP: usize = 1 << 16;

/// The input text, borrowed from the Python object that holds it (no copy for `bytes`).
enum Input {
    Bytes(PyBackedBytes),
    Str(PyBackedStr),
}

impl Input {
    fn extract(data: &Bound<'_, PyAny>) -> PyResult<Input> {
        if data.is_instance_of::<PyString>() {
            Ok(Input::Str(data.extract()?))
        } else if data.is_instance_of::<PyBytes>() || data.is_instance_of::<PyByteArray>() {
            Ok(Input::Bytes(data.extract()?))
        } else {
            Err(errors::invalid(
                data.py(),
                "data",
                format!(
                    "expected str or bytes, got {}",
                    data.get_type()
                        .name()
                        .map(|n| n.to_string())
                        .unwrap_or_default()
                ),
            ))
        }
    }

    fn bytes(&self) -> &[u8] {
        match self {
            Input::Bytes(b) => b,
            Input::Str(s) => s.as_bytes(),
        }
    }
}

/// `"text"` (Prometheus 0.0.4) or `"openmetrics"`, or an HTTP Content-Type.
pub(crate) fn format_arg(py: Python<'_>, s: &str) -> PyResult<Format> {
    match s {
        "text" | "prometheus" => Ok(Format::Text),
        "openmetrics" => Ok(Format::OpenMetrics),
        other => Format::from_content_type(other).map_err(|_| {
            errors::invalid(
                py,
                "format",
                format!(
                    "unknown format {other:?}: use \"text\", \"openmetrics\" or a Content-Type"
                ),
            )
        }),
    }
}

/// Python strings made once per distinct name or short value of one input.
struct Strings<'a> {
    /// The metric name of the previous sample: runs of one family skip the hash.
    last_name: Option<(&'a str, Py<PyString>)>,
    names: foldhash::HashMap<&'a str, Py<PyString>>,
    values: foldhash::HashMap<&'a str, Py<PyString>>,
}

impl<'a> Strings<'a> {
    fn new() -> Self {
        // Sized for a typical node_exporter scrape, so the tables rarely grow mid-parse.
        Strings {
            last_name: None,
            names: foldhash::HashMap::with_capacity_and_hasher(512, Default::default()),
            values: foldhash::HashMap::with_capacity_and_hasher(1024, Default::default()),
        }
    }

    // `&Cow`, not `&str`: only borrowed text lives as long as the input and can be cached.
    #[allow(clippy::ptr_arg)]
    fn name<'py>(&mut self, py: Python<'py>, s: &Cow<'a, str>) -> Bound<'py, PyString> {
        match s {
            Cow::Borrowed(b) => self
                .names
                .entry(b)
                .or_insert_with(|| PyString::new(py, b).unbind())
                .bind(py)
                .clone(),
            Cow::Owned(o) => PyString::new(py, o),
        }
    }

    #[allow(clippy::ptr_arg)]
    fn value<'py>(&mut self, py: Python<'py>, s: &Cow<'a, str>) -> Bound<'py, PyString> {
        match s {
            Cow::Borrowed(b)
                if b.len() <= SHARED_VALUE_MAX && self.values.len() < SHARED_VALUES_CAP =>
            {
                self.values
                    .entry(b)
                    .or_insert_with(|| PyString::new(py, b).unbind())
                    .bind(py)
                    .clone()
            }
            Cow::Borrowed(b) => match self.values.get(b) {
                Some(v) => v.bind(py).clone(),
                None => PyString::new(py, b),
            },
            Cow::Owned(o) => PyString::new(py, o),
        }
    }

    fn labels(&mut self, py: Python<'_>, labels: &Labels<'a>) -> PyResult<Py<PyDict>> {
        let dict = PyDict::new(py);
        for l in labels {
            dict.set_item(self.name(py, &l.name), self.value(py, &l.value))?;
        }
        Ok(dict.unbind())
    }

    #[allow(clippy::ptr_arg)]
    fn metric_name<'py>(&mut self, py: Python<'py>, s: &Cow<'a, str>) -> Bound<'py, PyString> {
        if let (Cow::Borrowed(b), Some((last, obj))) = (s, &self.last_name) {
            if std::ptr::eq(*b, *last) || b == last {
                return obj.bind(py).clone();
            }
        }
        let obj = self.name(py, s);
        if let Cow::Borrowed(b) = s {
            self.last_name = Some((b, obj.clone().unbind()));
        }
        obj
    }

    fn sample(&mut self, py: Python<'_>, s: &Sample<'a>) -> PyResult<Py<PySample>> {
        let exemplar = match &s.exemplar {
            Some(e) => Some(Py::new(
                py,
                PyExemplar {
                    labels: self.labels(py, &e.labels)?,
                    value: e.value,
                    ts: e.timestamp,
                },
            )?),
            None => None,
        };
        Py::new(
            py,
            PySample {
                name: self.metric_name(py, &s.name).unbind(),
                labels: self.labels(py, &s.labels)?,
                value: s.value,
                ts: s.timestamp,
                exemplar,
            },
        )
    }

    fn family(
        &mut self,
        py: Python<'_>,
        f: &MetricFamily<'a>,
        format: Format,
    ) -> PyResult<PyMetricFamily> {
        let samples = PyList::empty(py);
        for s in &f.samples {
            samples.append(self.sample(py, s)?)?;
        }
        Ok(PyMetricFamily {
            name: self.name(py, &f.name).unbind(),
            metric_type: type_name(f.metric_type, format),
            help: f.help.as_deref().map(str::to_string),
            unit: f.unit.as_deref().map(str::to_string),
            samples: samples.unbind(),
        })
    }
}

/// Pauses Python's cyclic garbage collector while a whole input becomes objects.
///
/// The samples, dicts and strings made here hold no reference cycles, so a collection
/// could free nothing; without the pause, every few hundred allocations the collector
/// would walk the growing result list again (a large file parsed 1.5x slower).
struct GcPause<'py>(Option<Bound<'py, PyModule>>);

impl<'py> GcPause<'py> {
    fn start(py: Python<'py>) -> PyResult<Self> {
        let gc = py.import("gc")?;
        if gc.call_method0("isenabled")?.is_truthy()? {
            gc.call_method0("disable")?;
            Ok(GcPause(Some(gc)))
        } else {
            Ok(GcPause(None))
        }
    }
}

impl Drop for GcPause<'_> {
    fn drop(&mut self) {
        if let Some(gc) = &self.0 {
            if let Err(e) = gc.call_method0("enable") {
                e.write_unraisable(gc.py(), None);
            }
        }
    }
}

/// What one lazy iterator walks: the parser and the strings it has made.
struct SampleCursor<'a> {
    parser: Parser<'a>,
    strings: Strings<'a>,
    mode: Mode,
}

self_cell::self_cell!(
    struct SampleCell {
        owner: Input,
        #[not_covariant]
        dependent: SampleCursor,
    }
);

/// A lazy iterator of `Sample`s over one exposition (`iter_samples`).
///
/// In lenient mode bad lines are skipped and collected in `errors`; in strict mode the
/// first bad line raises `ParseError`.
#[pyclass(module = "ipocket.expfmt", name = "SampleIterator")]
pub(crate) struct SampleIterator {
    cell: SampleCell,
    errors: Vec<PyErr>,
    done: bool,
}

impl SampleIterator {
    fn open(data: &Bound<'_, PyAny>, format: Format, lenient: bool) -> PyResult<Self> {
        let input = Input::extract(data)?;
        let mode = if lenient { Mode::Lenient } else { Mode::Strict };
        Ok(SampleIterator {
            cell: SampleCell::new(input, |i| SampleCursor {
                parser: Parser::new(i.bytes(), format).with_mode(mode),
                strings: Strings::new(),
                mode,
            }),
            errors: Vec::new(),
            done: false,
        })
    }

    /// The next sample, `None` at the end; strict errors are returned, lenient ones kept.
    fn step(&mut self, py: Python<'_>) -> PyResult<Option<Py<PySample>>> {
        if self.done {
            return Ok(None);
        }
        let errors = &mut self.errors;
        let r = self.cell.with_dependent_mut(|_, c| loop {
            match c.parser.next_ref() {
                None => return Ok(None),
                Some(Ok(Record::Sample(s))) => return c.strings.sample(py, s).map(Some),
                Some(Ok(_)) => continue,
                Some(Err(e)) => {
                    let err = errors::parse_error(py, &e);
                    if c.mode == Mode::Strict {
                        return Err(err);
                    }
                    errors.push(err);
                }
            }
        });
        if !matches!(r, Ok(Some(_))) {
            self.done = true;
        }
        r
    }

    fn drain<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let _pause = GcPause::start(py)?;
        let list = PyList::empty(py);
        while let Some(s) = self.step(py)? {
            list.append(s)?;
        }
        Ok(list)
    }
}

#[pymethods]
impl SampleIterator {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&mut self, py: Python<'_>) -> PyResult<Py<PySample>> {
        self.step(py)?.ok_or_else(|| PyStopIteration::new_err(()))
    }

    /// The `ParseError`s of the lines skipped so far (lenient mode).
    #[getter]
    fn errors(&self, py: Python<'_>) -> PyResult<Py<PyList>> {
        let list = PyList::new(py, self.errors.iter().map(|e| e.value(py).clone()))?;
        Ok(list.unbind())
    }
}

/// What one lazy family iterator walks.
struct FamilyCursor<'a> {
    families: Families<'a>,
    strings: Strings<'a>,
    format: Format,
}

self_cell::self_cell!(
    struct FamilyCell {
        owner: Input,
        #[not_covariant]
        dependent: FamilyCursor,
    }
);

/// A lazy iterator of `MetricFamily` objects over one exposition (`iter_families`); the
/// first bad line raises `ParseError`.
#[pyclass(module = "ipocket.expfmt", name = "FamilyIterator")]
pub(crate) struct FamilyIterator {
    cell: FamilyCell,
}

#[pymethods]
impl FamilyIterator {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&mut self, py: Python<'_>) -> PyResult<PyMetricFamily> {
        self.cell
            .with_dependent_mut(|_, c| match c.families.next() {
                None => Err(PyStopIteration::new_err(())),
                Some(Err(e)) => Err(errors::parse_error(py, &e)),
                Some(Ok(f)) => c.strings.family(py, &f, c.format),
            })
    }
}

/// Parses a whole exposition into a list of `Sample`s; raises `ParseError` at the first
/// bad line.
#[pyfunction]
#[pyo3(signature = (data, format="text"))]
pub(crate) fn parse<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    format: &str,
) -> PyResult<Bound<'py, PyList>> {
    SampleIterator::open(data, format_arg(py, format)?, false)?.drain(py)
}

/// Parses leniently: returns the samples of every good line and a `ParseError` per bad one.
#[pyfunction]
#[pyo3(signature = (data, format="text"))]
pub(crate) fn parse_lenient<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    format: &str,
) -> PyResult<(Bound<'py, PyList>, Py<PyList>)> {
    let mut it = SampleIterator::open(data, format_arg(py, format)?, true)?;
    let samples = it.drain(py)?;
    Ok((samples, it.errors(py)?))
}

/// A lazy iterator of `Sample`s (one object per sample, made as you go).
#[pyfunction]
#[pyo3(signature = (data, format="text", lenient=false))]
pub(crate) fn iter_samples(
    py: Python<'_>,
    data: &Bound<'_, PyAny>,
    format: &str,
    lenient: bool,
) -> PyResult<SampleIterator> {
    SampleIterator::open(data, format_arg(py, format)?, lenient)
}

/// A lazy iterator of `MetricFamily` objects.
#[pyfunction]
#[pyo3(signature = (data, format="text"))]
pub(crate) fn iter_families(
    py: Python<'_>,
    data: &Bound<'_, PyAny>,
    format: &str,
) -> PyResult<FamilyIterator> {
    let format = format_arg(py, format)?;
    let input = Input::extract(data)?;
    Ok(FamilyIterator {
        cell: FamilyCell::new(input, |i| FamilyCursor {
            families: Families::new(Parser::new(i.bytes(), format)),
            strings: Strings::new(),
            format,
        }),
    })
}

/// Parses a whole exposition into a list of `MetricFamily` objects.
#[pyfunction]
#[pyo3(signature = (data, format="text"))]
pub(crate) fn parse_families<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    format: &str,
) -> PyResult<Bound<'py, PyList>> {
    let mut it = iter_families(py, data, format)?;
    let _pause = GcPause::start(py)?;
    let list = PyList::empty(py);
    loop {
        match it.__next__(py) {
            Ok(f) => list.append(Py::new(py, f)?)?,
            Err(e) if e.is_instance_of::<PyStopIteration>(py) => return Ok(list),
            Err(e) => return Err(e),
        }
    }
}

fn labels_arg(dict: &Bound<'_, PyDict>) -> PyResult<Labels<'static>> {
    dict.iter()
        .map(|(k, v)| Ok(Label::new(k.extract::<String>()?, v.extract::<String>()?)))
        .collect()
}

fn sample_arg(s: &PySample, py: Python<'_>) -> PyResult<Sample<'static>> {
    let mut out = Sample::new(
        s.name.bind(py).extract::<String>()?,
        labels_arg(s.labels.bind(py))?,
        s.value,
    );
    out.timestamp = s.ts;
    if let Some(e) = &s.exemplar {
        let e = e.get();
        out.exemplar = Some(Box::new(Exemplar {
            labels: labels_arg(e.labels.bind(py))?,
            value: e.value,
            timestamp: e.ts,
        }));
    }
    Ok(out)
}

/// Writes families (`MetricFamily` objects, for example from `parse_families`) in the
/// text format or OpenMetrics, escaping as the format requires.
#[pyfunction]
#[pyo3(signature = (families, format="text"))]
pub(crate) fn encode(
    py: Python<'_>,
    families: &Bound<'_, PyAny>,
    format: &str,
) -> PyResult<String> {
    let format = format_arg(py, format)?;
    let mut out = Vec::new();
    for f in families.try_iter()? {
        let f = f?;
        let f = f
            .cast::<PyMetricFamily>()
            .map_err(|_| errors::invalid(py, "families", "expected MetricFamily objects"))?;
        let f = f.get();
        let mut family = MetricFamily::new(
            f.name.bind(py).extract::<String>()?,
            type_arg(py, f.metric_type)?,
        );
        family.help = f.help.clone().map(Cow::Owned);
        family.unit = f.unit.clone().map(Cow::Owned);
        for (i, s) in f.samples.bind(py).iter().enumerate() {
            let s = s.cast::<PySample>().map_err(|_| {
                errors::invalid(
                    py,
                    &format!("families[{}].samples[{i}]", out.len()),
                    "expected a Sample",
                )
            })?;
            family.samples.push(sample_arg(s.get(), py)?);
        }
        out.push(family);
    }
    Ok(py.detach(|| encode_families(&out, format)))
}

/// Registers the expfmt classes and functions on `m`.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PySample>()?;
    m.add_class::<PyExemplar>()?;
    m.add_class::<PyMetricFamily>()?;
    m.add_class::<SampleIterator>()?;
    m.add_class::<FamilyIterator>()?;
    m.add_function(wrap_pyfunction!(parse, m)?)?;
    m.add_function(wrap_pyfunction!(parse_lenient, m)?)?;
    m.add_function(wrap_pyfunction!(iter_samples, m)?)?;
    m.add_function(wrap_pyfunction!(iter_families, m)?)?;
    m.add_function(wrap_pyfunction!(parse_families, m)?)?;
    m.add_function(wrap_pyfunction!(encode, m)?)?;
    Ok(())
}
