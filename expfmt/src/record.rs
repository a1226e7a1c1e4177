//! What the parser yields: records that borrow from the input.

use std::borrow::Cow;
use std::fmt;
use std::ops::Deref;

use crate::scan::same_bytes;
use crate::{Format, Timestamp};

/// The type of a metric family, from its TYPE line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum MetricType {
    /// `counter`
    Counter,
    /// `gauge`
    Gauge,
    /// `histogram`
    Histogram,
    /// `gaugehistogram` (OpenMetrics only)
    GaugeHistogram,
    /// `summary`
    Summary,
    /// `info` (OpenMetrics only)
    Info,
    /// `stateset` (OpenMetrics only)
    StateSet,
    /// `untyped` in the text format, `unknown` in OpenMetrics; also a family without TYPE.
    #[default]
    Unknown,
}

impl MetricType {
    /// Every type, in declaration order (`t as usize` indexes it).
    pub(crate) const ALL: [MetricType; 8] = [
        MetricType::Counter,
        MetricType::Gauge,
        MetricType::Histogram,
        MetricType::GaugeHistogram,
        MetricType::Summary,
        MetricType::Info,
        MetricType::StateSet,
        MetricType::Unknown,
    ];

    /// Reads a TYPE keyword as `format` spells it (case-sensitive, as both specs say).
    pub fn parse(s: &str, format: Format) -> Option<MetricType> {
        use MetricType::*;
        Some(match (s, format) {
            ("counter", _) => Counter,
            ("gauge", _) => Gauge,
            ("histogram", _) => Histogram,
            ("summary", _) => Summary,
            ("untyped", Format::Text) => Unknown,
            ("unknown", Format::OpenMetrics) => Unknown,
            ("gaugehistogram", Format::OpenMetrics) => GaugeHistogram,
            ("info", Format::OpenMetrics) => Info,
            ("stateset", Format::OpenMetrics) => StateSet,
            _ => return None,
        })
    }

    /// The TYPE keyword in `format`. Types the text format lacks are written as `untyped`.
    pub fn as_str(self, format: Format) -> &'static str {
        use MetricType::*;
        match (self, format) {
            (Counter, _) => "counter",
            (Gauge, _) => "gauge",
            (Histogram, _) => "histogram",
            (Summary, _) => "summary",
            (GaugeHistogram, Format::OpenMetrics) => "gaugehistogram",
            (Info, Format::OpenMetrics) => "info",
            (StateSet, Format::OpenMetrics) => "stateset",
            (Unknown, Format::OpenMetrics) => "unknown",
            (_, Format::Text) => "untyped",
        }
    }

    /// The suffixes a sample name may add to the family name for this type, in `format`.
    pub(crate) fn sample_suffixes(self, format: Format) -> &'static [&'static str] {
        use MetricType::*;
        match (self, format) {
            (Counter, Format::OpenMetrics) => &["_total", "_created"],
            (Histogram, Format::Text) => &["_bucket", "_count", "_sum"],
            (Histogram, Format::OpenMetrics) => &["_bucket", "_count", "_sum", "_created"],
            (GaugeHistogram, _) => &["_bucket", "_gcount", "_gsum"],
            (Summary, Format::Text) => &["", "_count", "_sum"],
            (Summary, Format::OpenMetrics) => &["", "_count", "_sum", "_created"],
            (Info, _) => &["_info"],
            _ => &[""],
        }
    }
}

impl fmt::Display for MetricType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str(Format::OpenMetrics))
    }
}

/// One label: name and value, borrowed unless the input escaped them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Label<'a> {
    /// The label name.
    pub name: Cow<'a, str>,
    /// The label value, unescaped.
    pub value: Cow<'a, str>,
}

impl<'a> Label<'a> {
    /// A label from anything string-like.
    pub fn new(name: impl Into<Cow<'a, str>>, value: impl Into<Cow<'a, str>>) -> Label<'a> {
        Label {
            name: name.into(),
            value: value.into(),
        }
    }

    /// Both texts borrowed: the label owns no memory.
    fn is_borrowed(&self) -> bool {
        matches!(
            (&self.name, &self.value),
            (Cow::Borrowed(_), Cow::Borrowed(_))
        )
    }

    /// Copies borrowed text so the label outlives the input.
    pub fn into_owned(self) -> Label<'static> {
        Label {
            name: Cow::Owned(self.name.into_owned()),
            value: Cow::Owned(self.value.into_owned()),
        }
    }
}

/// The labels of a sample or exemplar, in input order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Labels<'a>(pub(crate) Vec<Label<'a>>);

impl<'a> Labels<'a> {
    /// No labels.
    pub fn new() -> Labels<'a> {
        Labels(Vec::new())
    }

    /// The value of label `name`, if present.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|l| same_bytes(l.name.as_bytes(), name.as_bytes()))
            .map(|l| l.value.as_ref())
    }

    /// Adds a label at the end.
    pub fn push(&mut self, label: Label<'a>) {
        self.0.push(label);
    }

    /// Makes room for the usual label count in one allocation, instead of growing 1, 2, 4, 8.
    /// Inline: it runs for every sample and only the first one allocates.
    #[inline(always)]
    pub(crate) fn reserve(&mut self) {
        if self.0.capacity() == 0 {
            self.allocate();
        }
    }

    #[cold]
    fn allocate(&mut self) {
        self.0 = Vec::with_capacity(8);
    }

    /// Puts the label `name="value"` at `at` (at most `len()`): over the label there, which
    /// must own no memory (a fast path's), without its drop; else pushed (cold: a line with
    /// more labels than the one before). Stored in place from its parts: a label built first
    /// went through the stack (48 bytes copied).
    #[inline(always)]
    pub(crate) fn set_borrowed(&mut self, at: usize, name: &'a str, value: &'a str) {
        match self.0.get_mut(at) {
            Some(slot) => {
                debug_assert!(slot.is_borrowed());
                let label = Label {
                    name: Cow::Borrowed(name),
                    value: Cow::Borrowed(value),
                };
                std::mem::forget(std::mem::replace(slot, label));
            }
            None => self.push_borrowed(name, value),
        }
    }

    #[cold]
    #[inline(never)]
    fn push_borrowed(&mut self, name: &'a str, value: &'a str) {
        self.0.push(Label {
            name: Cow::Borrowed(name),
            value: Cow::Borrowed(value),
        });
    }

    /// Keeps the first `len` labels (the others are a fast path's, which own no memory).
    #[inline(always)]
    pub(crate) fn truncate_borrowed(&mut self, len: usize) {
        if len < self.0.len() {
            debug_assert!(self.0[len..].iter().all(Label::is_borrowed));
            // a plain truncate: forgetting a `Drain` would skip the drop loop too, but what it
            // leaves in the vector is not specified
            self.0.truncate(len);
        }
    }

    /// Copies borrowed text so the labels outlive the input.
    pub fn into_owned(self) -> Labels<'static> {
        Labels(self.0.into_iter().map(Label::into_owned).collect())
    }
}

impl<'a> Deref for Labels<'a> {
    type Target = [Label<'a>];
    fn deref(&self) -> &[Label<'a>] {
        &self.0
    }
}

impl<'a> FromIterator<Label<'a>> for Labels<'a> {
    fn from_iter<I: IntoIterator<Item = Label<'a>>>(iter: I) -> Self {
        Labels(iter.into_iter().collect())
    }
}

impl<'a, N: Into<Cow<'a, str>>, V: Into<Cow<'a, str>>> FromIterator<(N, V)> for Labels<'a> {
    fn from_iter<I: IntoIterator<Item = (N, V)>>(iter: I) -> Self {
        Labels(iter.into_iter().map(|(n, v)| Label::new(n, v)).collect())
    }
}

impl<'a, 'l> IntoIterator for &'l Labels<'a> {
    type Item = &'l Label<'a>;
    type IntoIter = std::slice::Iter<'l, Label<'a>>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// An OpenMetrics exemplar: `# {labels} value [timestamp]` after a sample.
#[derive(Debug, Clone)]
pub struct Exemplar<'a> {
    /// The exemplar's labels (often a trace id).
    pub labels: Labels<'a>,
    /// The exemplar value.
    pub value: f64,
    /// When, if given.
    pub timestamp: Option<Timestamp>,
}

impl Exemplar<'_> {
    /// Copies borrowed text so the exemplar outlives the input.
    pub fn into_owned(self) -> Exemplar<'static> {
        Exemplar {
            labels: self.labels.into_owned(),
            ..self
        }
    }
}

impl PartialEq for Exemplar<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.labels == other.labels
            && same_float(self.value, other.value)
            && self.timestamp == other.timestamp
    }
}

/// One sample line.
#[derive(Debug, Clone)]
pub struct Sample<'a> {
    /// The sample name as written (with `_total`, `_bucket`, … suffixes).
    pub name: Cow<'a, str>,
    /// The labels in input order, values unescaped.
    pub labels: Labels<'a>,
    /// The value; NaN is always `f64::NAN`.
    pub value: f64,
    /// When, if the line has a timestamp: text-format milliseconds or OpenMetrics seconds,
    /// kept exactly ([`Timestamp::as_millis`] gives milliseconds).
    pub timestamp: Option<Timestamp>,
    /// The exemplar (OpenMetrics only).
    pub exemplar: Option<Box<Exemplar<'a>>>,
}

impl<'a> Sample<'a> {
    /// A sample with no timestamp and no exemplar.
    pub fn new(name: impl Into<Cow<'a, str>>, labels: Labels<'a>, value: f64) -> Sample<'a> {
        Sample {
            name: name.into(),
            labels,
            value,
            timestamp: None,
            exemplar: None,
        }
    }

    /// Copies borrowed text so the sample outlives the input.
    pub fn into_owned(self) -> Sample<'static> {
        Sample {
            name: Cow::Owned(self.name.into_owned()),
            labels: self.labels.into_owned(),
            value: self.value,
            timestamp: self.timestamp,
            exemplar: self.exemplar.map(|e| Box::new(e.into_owned())),
        }
    }
}

impl PartialEq for Sample<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
            && self.labels == other.labels
            && same_float(self.value, other.value)
            && self.timestamp == other.timestamp
            && self.exemplar == other.exemplar
    }
}

/// Equal bit for bit (so `-0` differs from `0`), with every NaN equal to every other.
fn same_float(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

/// One line of input, as the parser yields it.
#[derive(Debug, Clone, PartialEq)]
pub enum Record<'a> {
    /// `# HELP name text` (text unescaped).
    Help {
        /// Metric family name.
        name: Cow<'a, str>,
        /// Docstring, unescaped; empty when the line has none.
        text: Cow<'a, str>,
    },
    /// `# TYPE name type`.
    Type {
        /// Metric family name.
        name: Cow<'a, str>,
        /// The declared type.
        metric_type: MetricType,
    },
    /// `# UNIT name unit` (OpenMetrics).
    Unit {
        /// Metric family name.
        name: Cow<'a, str>,
        /// The unit; empty means none.
        unit: Cow<'a, str>,
    },
    /// Any other `#` line of the text format: the text after `#`.
    Comment(Cow<'a, str>),
    /// A sample line.
    Sample(Sample<'a>),
    /// `# EOF` (OpenMetrics).
    Eof,
}

impl Record<'_> {
    /// Copies borrowed text so the record outlives the input.
    pub fn into_owned(self) -> Record<'static> {
        let own = |c: Cow<'_, str>| Cow::Owned(c.into_owned());
        match self {
            Record::Help { name, text } => Record::Help {
                name: own(name),
                text: own(text),
            },
            Record::Type { name, metric_type } => Record::Type {
                name: own(name),
                metric_type,
            },
            Record::Unit { name, unit } => Record::Unit {
                name: own(name),
                unit: own(unit),
            },
            Record::Comment(c) => Record::Comment(own(c)),
            Record::Sample(s) => Record::Sample(s.into_owned()),
            Record::Eof => Record::Eof,
        }
    }
}
