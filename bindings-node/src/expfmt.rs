//! `parse`, `parseFamilies`, `check`, `encode`, `encodeFamilies` and the `SampleIterator`:
//! the Prometheus text format / OpenMetrics parser of `ipocket-expfmt` for JavaScript.
//!
//! Samples come out as plain objects `{ name, labels, value, timestampMs?, exemplar? }`.
//! They are built straight from the parser's borrowed records, with no intermediate
//! owned copy: creating the JavaScript objects is the dominant cost.

use std::borrow::Cow;

use indexmap::IndexMap;
use ipocket_expfmt::{
    Encoder, Families, Format, Label, Labels, Mode, Parser, Record, Sample as RustSample,
};
use napi::bindgen_prelude::{Array, Either, Env, JsObjectValue, Object, Uint8Array};
use napi::Property;

use crate::errors::{IntoJs, JsFailure};

/// The exposition format of an input or an output.
#[napi(string_enum = "lowercase")]
#[derive(Debug, PartialEq, Eq)]
pub enum ExpositionFormat {
    /// Prometheus text format 0.0.4 (`text/plain`).
    Text,
    /// OpenMetrics 1.0 (`application/openmetrics-text`).
    OpenMetrics,
}

/// The type of a metric family (the TYPE line).
#[napi(string_enum = "lowercase")]
#[derive(Debug, PartialEq, Eq)]
pub enum MetricType {
    /// `counter`
    Counter,
    /// `gauge`
    Gauge,
    /// `histogram`
    Histogram,
    /// `gaugehistogram` (OpenMetrics)
    GaugeHistogram,
    /// `summary`
    Summary,
    /// `info` (OpenMetrics)
    Info,
    /// `stateset` (OpenMetrics)
    StateSet,
    /// `untyped` / `unknown`, or no TYPE line.
    Unknown,
}

/// Options of the parser functions.
#[napi(object)]
#[derive(Debug, Default)]
pub struct ParseOptions {
    /// `text` (default) or `openmetrics`.
    pub format: Option<ExpositionFormat>,
}

/// Options of the encoder functions.
#[napi(object)]
#[derive(Debug, Default)]
pub struct EncodeOptions {
    /// `text` (default) or `openmetrics`.
    pub format: Option<ExpositionFormat>,
}

/// An exemplar attached to a sample (OpenMetrics).
#[napi(object)]
#[derive(Debug)]
pub struct Exemplar {
    /// Exemplar labels, in input order.
    pub labels: IndexMap<String, String>,
    /// Exemplar value.
    pub value: f64,
    /// Timestamp in milliseconds, if any.
    pub timestamp_ms: Option<f64>,
}

/// One sample, as `parse` returns it and `encode` takes it.
#[napi(object)]
#[derive(Debug)]
pub struct Sample {
    /// The sample's metric name (with `_bucket`, `_total`… suffixes).
    pub name: String,
    /// Labels, in input order.
    pub labels: IndexMap<String, String>,
    /// The value (`NaN`, `Infinity` and `-Infinity` included).
    pub value: f64,
    /// Timestamp in milliseconds, if the line had one.
    pub timestamp_ms: Option<f64>,
    /// Exemplar (OpenMetrics), if any.
    pub exemplar: Option<Exemplar>,
}

/// A metric family: its metadata and samples.
#[napi(object)]
#[derive(Debug)]
pub struct MetricFamily {
    /// Family name.
    pub name: String,
    /// Family type.
    #[napi(js_name = "type")]
    pub metric_type: MetricType,
    /// HELP text, if any.
    pub help: Option<String>,
    /// UNIT (OpenMetrics), if any.
    pub unit: Option<String>,
    /// The samples of the family.
    pub samples: Vec<Sample>,
}

/// A bad line reported by `check`.
#[napi(object)]
#[derive(Debug)]
pub struct ParseProblem {
    /// 1-based line.
    pub line: u32,
    /// 1-based column, in characters.
    pub column: u32,
    /// What is wrong.
    pub message: String,
    /// The offending line (shortened when long).
    pub snippet: String,
}

/// Where the parser reads from: a JavaScript string or a `Buffer` / `Uint8Array`.
pub(crate) type Input = Either<String, Uint8Array>;

pub(crate) fn input_bytes(input: &Input) -> &[u8] {
    match input {
        Either::A(s) => s.as_bytes(),
        Either::B(b) => b,
    }
}

pub(crate) fn format_of(f: Option<ExpositionFormat>) -> Format {
    match f {
        Some(ExpositionFormat::OpenMetrics) => Format::OpenMetrics,
        _ => Format::Text,
    }
}

pub(crate) fn metric_type_to_js(t: ipocket_expfmt::MetricType) -> MetricType {
    use ipocket_expfmt::MetricType as M;
    match t {
        M::Counter => MetricType::Counter,
        M::Gauge => MetricType::Gauge,
        M::Histogram => MetricType::Histogram,
        M::GaugeHistogram => MetricType::GaugeHistogram,
        M::Summary => MetricType::Summary,
        M::Info => MetricType::Info,
        M::StateSet => MetricType::StateSet,
        _ => MetricType::Unknown,
    }
}

fn metric_type_from_js(t: &MetricType) -> ipocket_expfmt::MetricType {
    use ipocket_expfmt::MetricType as M;
    match t {
        MetricType::Counter => M::Counter,
        MetricType::Gauge => M::Gauge,
        MetricType::Histogram => M::Histogram,
        MetricType::GaugeHistogram => M::GaugeHistogram,
        MetricType::Summary => M::Summary,
        MetricType::Info => M::Info,
        MetricType::StateSet => M::StateSet,
        MetricType::Unknown => M::Unknown,
    }
}

fn labels_to_js<'e>(env: &'e Env, labels: &Labels<'_>) -> napi::Result<Object<'e>> {
    let mut obj = Object::new(env)?;
    for l in labels.iter() {
        if l.name == "__proto__" {
            // Assigning would call the prototype setter and drop the label: define it.
            let value = env.create_string(l.value.as_ref())?;
            let p = Property::new()
                .with_utf8_name("__proto__")?
                .with_value(&value);
            obj.define_properties(&[p])?;
        } else {
            obj.set_named_property(&l.name, l.value.as_ref())?;
        }
    }
    Ok(obj)
}

/// Builds `{ name, labels, value, timestampMs?, exemplar? }` from a borrowed sample.
pub(crate) fn sample_to_js<'e>(env: &'e Env, s: &RustSample<'_>) -> napi::Result<Object<'e>> {
    let mut obj = Object::new(env)?;
    obj.set_named_property("name", s.name.as_ref())?;
    obj.set_named_property("labels", labels_to_js(env, &s.labels)?)?;
    obj.set_named_property("value", s.value)?;
    if let Some(ts) = s.timestamp_ms {
        obj.set_named_property("timestampMs", ts as f64)?;
    }
    if let Some(e) = &s.exemplar {
        let mut ex = Object::new(env)?;
        ex.set_named_property("labels", labels_to_js(env, &e.labels)?)?;
        ex.set_named_property("value", e.value)?;
        if let Some(ts) = e.timestamp_ms {
            ex.set_named_property("timestampMs", ts as f64)?;
        }
        obj.set_named_property("exemplar", ex)?;
    }
    Ok(obj)
}

fn labels_from_js(labels: &IndexMap<String, String>) -> Labels<'_> {
    let mut out = Labels::new();
    for (k, v) in labels {
        out.push(Label::new(k.as_str(), v.as_str()));
    }
    out
}

fn timestamp_from_js(field: &str, ts: Option<f64>) -> Result<Option<i64>, JsFailure> {
    match ts {
        None => Ok(None),
        Some(t) if t.is_finite() && t.fract() == 0.0 && t.abs() <= 9.007_199_254_740_991e15 => {
            Ok(Some(t as i64))
        }
        Some(t) => Err(JsFailure::argument(format!(
            "{field}: timestampMs must be an integer number of milliseconds, got {t}"
        ))),
    }
}

fn sample_from_js<'s>(s: &'s Sample, at: &str) -> Result<RustSample<'s>, JsFailure> {
    let mut out = RustSample::new(s.name.as_str(), labels_from_js(&s.labels), s.value);
    out.timestamp_ms = timestamp_from_js(at, s.timestamp_ms)?;
    if let Some(e) = &s.exemplar {
        out.exemplar = Some(Box::new(ipocket_expfmt::Exemplar {
            labels: labels_from_js(&e.labels),
            value: e.value,
            timestamp_ms: timestamp_from_js(&format!("{at}.exemplar"), e.timestamp_ms)?,
        }));
    }
    Ok(out)
}

/// Parses a whole exposition into an array of samples; throws an `IPOCKET_PARSE_ERROR`
/// (with `line`, `column`, `snippet`) at the first bad line.
#[napi(ts_return_type = "Array<Sample>")]
pub fn parse<'e>(
    env: &'e Env,
    input: Input,
    options: Option<ParseOptions>,
) -> napi::Result<Array<'e>> {
    let format = format_of(options.and_then(|o| o.format));
    let mut parser = Parser::new(input_bytes(&input), format);
    let mut out = env.create_array(0)?;
    let mut n = 0u32;
    while let Some(item) = parser.next_ref() {
        if let Record::Sample(s) = item.js(env)? {
            out.set(n, sample_to_js(env, s)?)?;
            n += 1;
        }
    }
    Ok(out)
}

/// Parses a whole exposition into metric families (metadata plus samples).
#[napi(ts_return_type = "Array<MetricFamily>")]
pub fn parse_families<'e>(
    env: &'e Env,
    input: Input,
    options: Option<ParseOptions>,
) -> napi::Result<Array<'e>> {
    let format = format_of(options.and_then(|o| o.format));
    let mut out = env.create_array(0)?;
    let families = Families::new(Parser::new(input_bytes(&input), format));
    for (i, family) in families.enumerate() {
        let f = family.js(env)?;
        let mut obj = Object::new(env)?;
        obj.set_named_property("name", f.name.as_ref())?;
        obj.set_named_property("type", metric_type_to_js(f.metric_type))?;
        if let Some(h) = &f.help {
            obj.set_named_property("help", h.as_ref())?;
        }
        if let Some(u) = &f.unit {
            obj.set_named_property("unit", u.as_ref())?;
        }
        let mut samples = env.create_array(f.samples.len() as u32)?;
        for (j, s) in f.samples.iter().enumerate() {
            samples.set(j as u32, sample_to_js(env, s)?)?;
        }
        obj.set_named_property("samples", samples)?;
        out.set(i as u32, obj)?;
    }
    Ok(out)
}

/// Checks every line (lenient mode) and returns every problem found; `[]` means valid.
#[napi]
pub fn check(input: Input, options: Option<ParseOptions>) -> Vec<ParseProblem> {
    let format = format_of(options.and_then(|o| o.format));
    Parser::new(input_bytes(&input), format)
        .with_mode(Mode::Lenient)
        .filter_map(Result::err)
        .map(|e| ParseProblem {
            line: e.line,
            column: e.column,
            message: e.kind.to_string(),
            snippet: e.snippet,
        })
        .collect()
}

/// Writes samples (no HELP/TYPE lines) in the chosen format, escaping as the format says.
#[napi]
pub fn encode(
    env: &Env,
    samples: Vec<Sample>,
    options: Option<EncodeOptions>,
) -> napi::Result<String> {
    let format = format_of(options.and_then(|o| o.format));
    let mut enc = Encoder::new(format);
    for (i, s) in samples.iter().enumerate() {
        enc.sample(&sample_from_js(s, &format!("samples[{i}]")).js(env)?);
    }
    Ok(enc.finish())
}

/// Writes metric families (HELP, TYPE, UNIT, samples) in the chosen format.
#[napi]
pub fn encode_families(
    env: &Env,
    families: Vec<MetricFamily>,
    options: Option<EncodeOptions>,
) -> napi::Result<String> {
    let format = format_of(options.and_then(|o| o.format));
    let mut enc = Encoder::new(format);
    for (i, f) in families.iter().enumerate() {
        let mut family =
            ipocket_expfmt::MetricFamily::new(f.name.as_str(), metric_type_from_js(&f.metric_type));
        family.help = f.help.as_deref().map(Cow::Borrowed);
        family.unit = f.unit.as_deref().map(Cow::Borrowed);
        for (j, s) in f.samples.iter().enumerate() {
            let at = format!("families[{i}].samples[{j}]");
            family.samples.push(sample_from_js(s, &at).js(env)?);
        }
        enc.family(&family);
    }
    Ok(enc.finish())
}

self_cell::self_cell!(
    /// The input bytes and a parser borrowing them, kept together by the iterator.
    struct OwnedParser {
        owner: Vec<u8>,
        #[not_covariant]
        dependent: Parser,
    }
);

/// Samples one at a time, for inputs too large to hold as one array of objects.
///
/// It follows the iterator protocol (`next()` returns `{ done, value }`) and is iterable,
/// so `for (const s of samples(text)) …` works. A bad line throws from `next()`.
#[napi]
pub struct SampleIterator {
    parser: OwnedParser,
    done: bool,
}

#[napi]
impl SampleIterator {
    /// Starts reading `input` (copied once into native memory).
    #[napi(constructor)]
    pub fn new(input: Input, options: Option<ParseOptions>) -> SampleIterator {
        let format = format_of(options.and_then(|o| o.format));
        let bytes = input_bytes(&input).to_vec();
        SampleIterator {
            parser: OwnedParser::new(bytes, |b| Parser::new(b, format)),
            done: false,
        }
    }

    /// The next sample as `{ done: false, value }`, or `{ done: true }` at the end.
    #[napi(ts_return_type = "IteratorResult<Sample, undefined>")]
    pub fn next<'e>(&mut self, env: &'e Env) -> napi::Result<Object<'e>> {
        let mut result = Object::new(env)?;
        if !self.done {
            let found = self.parser.with_dependent_mut(|_, parser| loop {
                match parser.next_ref() {
                    None => return Ok(None),
                    Some(Err(e)) => return Err(JsFailure::from(e).into_napi(env)),
                    Some(Ok(Record::Sample(s))) => return sample_to_js(env, s).map(Some),
                    Some(Ok(_)) => continue,
                }
            });
            match found {
                Ok(Some(obj)) => {
                    result.set_named_property("done", false)?;
                    result.set_named_property("value", obj)?;
                    return Ok(result);
                }
                Ok(None) => self.done = true,
                Err(e) => {
                    self.done = true;
                    return Err(e);
                }
            }
        }
        result.set_named_property("done", true)?;
        result.set_named_property("value", ())?;
        Ok(result)
    }
}

/// An iterator over the samples of `input` (see `SampleIterator`).
#[napi]
pub fn samples(input: Input, options: Option<ParseOptions>) -> SampleIterator {
    SampleIterator::new(input, options)
}
