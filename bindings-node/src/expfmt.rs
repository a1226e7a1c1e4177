//! `check`, `encode`, `encodeFamilies` and the records of the Prometheus text format /
//! OpenMetrics parser of `ipocket-expfmt` for JavaScript. The parse functions (`parse`,
//! `parseFamilies`, `parseColumns`, `parseFamilyColumns`, `samples`) are built in
//! ipocket.cjs on the columnar transfer of `columns.rs`.

use std::borrow::Cow;

use indexmap::IndexMap;
use ipocket_expfmt::{
    Encoder, Format, Label, Labels, Mode, Parser, Sample as RustSample, Timestamp,
};
use napi::bindgen_prelude::{Either, Env, Uint8ArraySlice};
use napi::JsString;

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

/// Where the parser reads from: a JavaScript string or a `Buffer` / `Uint8Array` (read in
/// place, without a reference kept to it).
pub(crate) type Input<'a> = Either<JsString<'a>, Uint8ArraySlice<'a>>;

/// The bytes of an input: a buffer as it is, a string as UTF-8.
///
/// A string is fetched as UTF-16, which V8 hands out with a plain copy, and transcoded by
/// `encoding_rs` (vectorized over ASCII runs): several times faster than asking V8 for
/// UTF-8. Lone surrogates become U+FFFD, as in Node's own conversion.
pub(crate) fn input_bytes<'i>(input: &'i Input<'_>) -> napi::Result<Cow<'i, [u8]>> {
    match input {
        Either::A(s) => {
            let utf16 = s.into_utf16()?;
            // V8 writes a terminating NUL after the string.
            let units = utf16.as_slice().split_last().map_or(&[][..], |(_, u)| u);
            // A UTF-16 unit becomes at most three bytes.
            let mut bytes = vec![0u8; units.len() * 3];
            let len = encoding_rs::mem::convert_utf16_to_utf8(units, &mut bytes);
            bytes.truncate(len);
            Ok(Cow::Owned(bytes))
        }
        Either::B(b) => Ok(Cow::Borrowed(b)),
    }
}

pub(crate) fn format_of(f: Option<ExpositionFormat>) -> Format {
    match f {
        Some(ExpositionFormat::OpenMetrics) => Format::OpenMetrics,
        _ => Format::Text,
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

fn labels_from_js(labels: &IndexMap<String, String>) -> Labels<'_> {
    let mut out = Labels::new();
    for (k, v) in labels {
        out.push(Label::new(k.as_str(), v.as_str()));
    }
    out
}

fn timestamp_from_js(field: &str, ts: Option<f64>) -> Result<Option<Timestamp>, JsFailure> {
    match ts {
        None => Ok(None),
        Some(t) if t.is_finite() && t.fract() == 0.0 && t.abs() <= 9.007_199_254_740_991e15 => {
            Ok(Some(Timestamp::from_millis(t as i64)))
        }
        Some(t) => Err(JsFailure::argument(format!(
            "{field}: timestampMs must be an integer number of milliseconds, got {t}"
        ))),
    }
}

fn sample_from_js<'s>(s: &'s Sample, at: &str) -> Result<RustSample<'s>, JsFailure> {
    let mut out = RustSample::new(s.name.as_str(), labels_from_js(&s.labels), s.value);
    out.timestamp = timestamp_from_js(at, s.timestamp_ms)?;
    if let Some(e) = &s.exemplar {
        out.exemplar = Some(Box::new(ipocket_expfmt::Exemplar {
            labels: labels_from_js(&e.labels),
            value: e.value,
            timestamp: timestamp_from_js(&format!("{at}.exemplar"), e.timestamp_ms)?,
        }));
    }
    Ok(out)
}

/// Checks every line (lenient mode) and returns every problem found; `[]` means valid.
#[napi]
pub fn check(input: Input<'_>, options: Option<ParseOptions>) -> napi::Result<Vec<ParseProblem>> {
    let format = format_of(options.and_then(|o| o.format));
    let bytes = input_bytes(&input)?;
    Ok(Parser::new(&bytes, format)
        .with_mode(Mode::Lenient)
        .filter_map(Result::err)
        .map(|e| ParseProblem {
            line: e.line,
            column: e.column,
            message: e.kind.to_string(),
            snippet: e.snippet,
        })
        .collect())
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
