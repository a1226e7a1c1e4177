//! Grouping samples into metric families, for callers who want them that way.

use std::borrow::Cow;

use crate::error::ParseError;
use crate::parser::Parser;
use crate::record::{MetricType, Record, Sample};
use crate::Format;

/// A metric family: its metadata and its samples, in input order.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricFamily<'a> {
    /// The family name (for an OpenMetrics counter, without `_total`).
    pub name: Cow<'a, str>,
    /// From the TYPE line; `Unknown` without one.
    pub metric_type: MetricType,
    /// From the HELP line (`None` without one; an empty OpenMetrics HELP means none).
    pub help: Option<Cow<'a, str>>,
    /// From the UNIT line (OpenMetrics; an empty unit means none).
    pub unit: Option<Cow<'a, str>>,
    /// The samples, including `_bucket`, `_count`, `_sum` and `_created` lines.
    pub samples: Vec<Sample<'a>>,
}

impl<'a> MetricFamily<'a> {
    /// An empty family.
    pub fn new(name: impl Into<Cow<'a, str>>, metric_type: MetricType) -> MetricFamily<'a> {
        MetricFamily {
            name: name.into(),
            metric_type,
            help: None,
            unit: None,
            samples: Vec::new(),
        }
    }

    /// Copies borrowed text so the family outlives the input.
    pub fn into_owned(self) -> MetricFamily<'static> {
        let own = |c: Cow<'_, str>| Cow::Owned(c.into_owned());
        MetricFamily {
            name: own(self.name),
            metric_type: self.metric_type,
            help: self.help.map(own),
            unit: self.unit.map(own),
            samples: self.samples.into_iter().map(Sample::into_owned).collect(),
        }
    }
}

/// An iterator of metric families over a [`Parser`]; errors come through as the parser's
/// mode says (strict: the first ends it; lenient: bad lines are reported and skipped).
pub struct Families<'a> {
    parser: Parser<'a>,
    current: Option<(u64, MetricFamily<'a>)>,
}

impl<'a> Families<'a> {
    /// Groups the records of `parser`.
    pub fn new(parser: Parser<'a>) -> Families<'a> {
        Families {
            parser,
            current: None,
        }
    }
}

impl<'a> Iterator for Families<'a> {
    type Item = Result<MetricFamily<'a>, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        let om = self.parser.format() == Format::OpenMetrics;
        loop {
            let record = match self.parser.next() {
                None => return self.current.take().map(|(_, f)| Ok(f)),
                Some(Err(e)) => return Some(Err(e)),
                Some(Ok(r)) => r,
            };
            if matches!(record, Record::Comment(_) | Record::Eof) {
                continue;
            }
            let info = self
                .parser
                .current_family()
                .expect("a checked record has a family");
            let mut finished = None;
            if self.current.as_ref().map(|(id, _)| *id) != Some(info.id) {
                let family = MetricFamily::new(info.name.clone(), MetricType::Unknown);
                finished = self.current.replace((info.id, family)).map(|(_, f)| f);
            }
            let (_, family) = self.current.as_mut().expect("set above");
            match record {
                Record::Help { text, .. } => {
                    family.help = if om && text.is_empty() {
                        None
                    } else {
                        Some(text)
                    }
                }
                Record::Type { metric_type, .. } => family.metric_type = metric_type,
                Record::Unit { unit, .. } => family.unit = (!unit.is_empty()).then_some(unit),
                Record::Sample(s) => family.samples.push(s),
                Record::Comment(_) | Record::Eof => unreachable!("skipped above"),
            }
            if let Some(f) = finished {
                return Some(Ok(f));
            }
        }
    }
}

/// Parses `input` into metric families, stopping at the first error.
///
/// ```
/// use ipocket_expfmt::{parse_families, Format, MetricType};
/// let text = b"# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 3\nh_sum 4\nh_count 3\n";
/// let families = parse_families(text, Format::Text)?;
/// assert_eq!(families[0].metric_type, MetricType::Histogram);
/// assert_eq!(families[0].samples.len(), 4);
/// # Ok::<(), ipocket_expfmt::ParseError>(())
/// ```
pub fn parse_families(input: &[u8], format: Format) -> Result<Vec<MetricFamily<'_>>, ParseError> {
    Families::new(Parser::new(input, format)).collect()
}
