//! The rules that need context: which family a line belongs to, HELP/TYPE/UNIT order, families
//! kept together, duplicate series, and what each metric type allows.

use std::borrow::Cow;
use std::hash::{BuildHasher, Hasher};

use foldhash::fast::FixedState;
use hashbrown::hash_map::Entry;
use hashbrown::HashMap;
use smallvec::SmallVec;

use crate::error::ErrorKind;
use crate::lexer::{lex_line, name_lt, LexError};
use crate::number::parse_value;
use crate::record::{Label, MetricType, Record, Sample};
use crate::Format;

/// Every suffix any type adds to its family name, for finding a sample's family.
const ALL_SUFFIXES: [&str; 8] = [
    "_total", "_created", "_bucket", "_count", "_sum", "_gcount", "_gsum", "_info",
];

/// The family being read.
#[derive(Debug)]
pub(crate) struct Family<'a> {
    pub(crate) name: Cow<'a, str>,
    pub(crate) metric_type: MetricType,
    has_help: bool,
    has_type: bool,
    unit: Option<Cow<'a, str>>,
    has_samples: bool,
}

/// Where a series was first seen, to report and to verify duplicates.
#[derive(Debug, Clone, Copy)]
struct Seen {
    line: u32,
    start: usize,
    end: usize,
    timestamp_ms: Option<i64>,
}

/// The buckets of one histogram series (its labels without `le`) read so far.
#[derive(Debug, Clone, Copy)]
struct BucketRun {
    key: u64,
    line: u32,
    le: f64,
    count: f64,
    inf_count: Option<f64>,
}

/// Identity hasher input: keys are already foldhash outputs.
#[derive(Default, Clone, Copy)]
struct PassThrough;

impl BuildHasher for PassThrough {
    type Hasher = PassThroughHasher;
    fn build_hasher(&self) -> PassThroughHasher {
        PassThroughHasher(0)
    }
}

#[derive(Default)]
struct PassThroughHasher(u64);

impl Hasher for PassThroughHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ b as u64;
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

pub(crate) struct Validator<'a> {
    format: Format,
    input: &'a [u8],
    family: Option<Family<'a>>,
    family_id: u64,
    closed: HashMap<Cow<'a, str>, MetricType, FixedState>,
    series: HashMap<u64, Seen, PassThrough>,
    buckets: Option<BucketRun>,
    /// Errors about earlier lines, found while reading this one (a histogram without `+Inf`).
    pub(crate) deferred: Vec<(u32, ErrorKind)>,
}

impl<'a> Validator<'a> {
    pub(crate) fn new(format: Format, input: &'a [u8]) -> Validator<'a> {
        Validator {
            format,
            input,
            family: None,
            family_id: 0,
            closed: HashMap::with_hasher(FixedState::with_seed(0x1f0c)),
            series: HashMap::with_hasher(PassThrough),
            buckets: None,
            deferred: Vec::new(),
        }
    }

    /// The family the last checked record belongs to, and a number that changes with it.
    pub(crate) fn family(&self) -> Option<(u64, &Family<'a>)> {
        self.family.as_ref().map(|f| (self.family_id, f))
    }

    pub(crate) fn unit(&self) -> Option<&Cow<'a, str>> {
        self.family.as_ref().and_then(|f| f.unit.as_ref())
    }

    /// Checks `record`, read from `input[start..end]` on line `line`.
    pub(crate) fn check(
        &mut self,
        record: &Record<'a>,
        line: u32,
        start: usize,
        end: usize,
    ) -> Result<(), LexError> {
        match record {
            Record::Help { name, .. } => self.metadata(name, "HELP").map(|f| f.has_help = true),
            Record::Type { name, metric_type } => {
                self.metadata(name, "TYPE")?.has_type = true;
                self.set_type(*metric_type)
            }
            Record::Unit { name, unit } => {
                let family = self.metadata(name, "UNIT")?;
                if !unit.is_empty() {
                    let fits = name
                        .strip_suffix(unit.as_ref())
                        .is_some_and(|n| n.ends_with('_'));
                    if !fits {
                        return Err((0, ErrorKind::UnitNotSuffix));
                    }
                    if matches!(family.metric_type, MetricType::Info | MetricType::StateSet) {
                        return Err((0, ErrorKind::UnitNotAllowed));
                    }
                }
                family.unit = Some(unit.clone());
                Ok(())
            }
            Record::Sample(sample) => self.sample(sample, line, start, end),
            Record::Comment(_) => Ok(()),
            Record::Eof => {
                self.close_family();
                Ok(())
            }
        }
    }

    /// Called at the end of the input.
    pub(crate) fn finish(&mut self) {
        self.close_family();
    }

    /// The family a HELP/TYPE/UNIT line for `name` describes, checking order and repetition.
    fn metadata(
        &mut self,
        name: &Cow<'a, str>,
        what: &'static str,
    ) -> Result<&mut Family<'a>, LexError> {
        let same = self.family.as_ref().is_some_and(|f| f.name == *name);
        if !same {
            self.start_family(name.clone())?;
        }
        let family = self.family.as_mut().expect("a family was just started");
        let repeated = match what {
            "HELP" => family.has_help,
            "TYPE" => family.has_type,
            _ => family.unit.is_some(),
        };
        if repeated {
            return Err((0, ErrorKind::DuplicateMetadata(what)));
        }
        if family.has_samples {
            return Err((0, ErrorKind::MetadataAfterSamples(what)));
        }
        Ok(family)
    }

    fn set_type(&mut self, metric_type: MetricType) -> Result<(), LexError> {
        let family = self.family.as_mut().expect("metadata() set the family");
        if family.unit.as_ref().is_some_and(|u| !u.is_empty())
            && matches!(metric_type, MetricType::Info | MetricType::StateSet)
        {
            return Err((0, ErrorKind::UnitNotAllowed));
        }
        family.metric_type = metric_type;
        for suffix in metric_type.sample_suffixes(self.format) {
            if suffix.is_empty() {
                continue;
            }
            let sample_name = format!("{}{suffix}", family.name);
            if self.closed.contains_key(sample_name.as_str()) {
                return Err((0, ErrorKind::NameClash(sample_name)));
            }
        }
        Ok(())
    }

    /// Ends the current family and starts `name`, refusing a name seen before.
    fn start_family(&mut self, name: Cow<'a, str>) -> Result<(), LexError> {
        self.close_family();
        if self.closed.contains_key(name.as_ref()) {
            return Err((0, ErrorKind::InterleavedFamily(name.into_owned())));
        }
        for suffix in ALL_SUFFIXES {
            if let Some(base) = name.strip_suffix(suffix) {
                if let Some(t) = self.closed.get(base) {
                    if t.sample_suffixes(self.format).contains(&suffix) {
                        return Err((0, ErrorKind::InterleavedFamily(base.to_owned())));
                    }
                }
            }
        }
        self.family_id += 1;
        self.family = Some(Family {
            name,
            metric_type: MetricType::Unknown,
            has_help: false,
            has_type: false,
            unit: None,
            has_samples: false,
        });
        Ok(())
    }

    fn close_family(&mut self) {
        self.close_bucket_run();
        self.series.clear();
        if let Some(f) = self.family.take() {
            self.closed.insert(f.name, f.metric_type);
        }
    }

    fn sample(
        &mut self,
        s: &Sample<'a>,
        line: u32,
        start: usize,
        end: usize,
    ) -> Result<(), LexError> {
        let suffix = match &self.family {
            Some(f) => match s.name.strip_prefix(f.name.as_ref()) {
                Some(suffix) if f.metric_type.sample_suffixes(self.format).contains(&suffix) => {
                    Some(suffix)
                }
                Some("") => {
                    return Err((
                        0,
                        ErrorKind::InvalidSampleName(format!(
                            "a {} sample must be named {}",
                            f.metric_type.as_str(self.format),
                            f.metric_type
                                .sample_suffixes(self.format)
                                .iter()
                                .map(|x| format!("{}{x}", f.name))
                                .collect::<Vec<_>>()
                                .join(" or ")
                        )),
                    ))
                }
                _ => None,
            },
            None => None,
        };
        let suffix = match suffix {
            Some(suffix) => suffix,
            None => {
                self.start_family(s.name.clone())?;
                ""
            }
        };
        let family = self.family.as_mut().expect("the sample's family is set");
        family.has_samples = true;
        let metric_type = family.metric_type;
        self.check_series(s, line, start, end)?;
        self.check_type_rules(s, metric_type, suffix, line)?;
        if s.exemplar.is_some() {
            let allowed = matches!(
                (metric_type, suffix),
                (MetricType::Counter, "_total")
                    | (
                        MetricType::Histogram | MetricType::GaugeHistogram,
                        "_bucket"
                    )
            );
            if !allowed {
                return Err((0, ErrorKind::ExemplarNotAllowed));
            }
        }
        Ok(())
    }

    fn check_series(
        &mut self,
        s: &Sample<'a>,
        line: u32,
        start: usize,
        end: usize,
    ) -> Result<(), LexError> {
        let key = series_key(&s.name, &s.labels, None);
        let seen = Seen {
            line,
            start,
            end,
            timestamp_ms: s.timestamp_ms,
        };
        match self.series.entry(key) {
            Entry::Vacant(v) => {
                v.insert(seen);
                Ok(())
            }
            Entry::Occupied(mut o) => {
                let first = *o.get();
                if !same_series(self.input, self.format, first, s) {
                    // A 64-bit hash collision between different series: track the newer one.
                    o.insert(seen);
                    return Ok(());
                }
                match (first.timestamp_ms, s.timestamp_ms) {
                    // OpenMetrics allows several points of one series, in time order.
                    (Some(a), Some(b)) if self.format == Format::OpenMetrics => {
                        if b < a {
                            return Err((0, ErrorKind::InvalidForType(format!(
                                "timestamp goes back: {b} ms after {a} ms for the same series on line {}",
                                first.line
                            ))));
                        }
                        o.insert(seen);
                        Ok(())
                    }
                    _ => Err((
                        0,
                        ErrorKind::DuplicateSeries {
                            first_line: first.line,
                        },
                    )),
                }
            }
        }
    }

    fn check_type_rules(
        &mut self,
        s: &Sample<'a>,
        metric_type: MetricType,
        suffix: &str,
        line: u32,
    ) -> Result<(), LexError> {
        let om = self.format == Format::OpenMetrics;
        let invalid = |msg: String| Err((0, ErrorKind::InvalidForType(msg)));
        let counted = |v: f64| v >= 0.0; // false for NaN too
        match (metric_type, suffix) {
            (MetricType::Histogram | MetricType::GaugeHistogram, "_bucket") => {
                let Some(le) = s.labels.get("le") else {
                    return invalid("a histogram bucket needs an le label".into());
                };
                let Ok(le) = parse_value(le.as_bytes()) else {
                    return invalid(format!("le label value {le:?} is not a number"));
                };
                if om && !counted(s.value) {
                    return invalid("bucket counts cannot be negative or NaN".into());
                }
                self.bucket(s, le, line)
            }
            (MetricType::Histogram | MetricType::GaugeHistogram, "_count" | "_gcount") => {
                if om && !counted(s.value) {
                    return invalid("a histogram count cannot be negative or NaN".into());
                }
                let key = series_key("", &s.labels, Some("le"));
                if let Some(run) = self.buckets.filter(|r| r.key == key) {
                    if let Some(inf) = run.inf_count {
                        if inf.to_bits() != s.value.to_bits() {
                            return invalid(format!(
                                "count {} differs from the le=\"+Inf\" bucket {inf} (line {})",
                                s.value, run.line
                            ));
                        }
                    }
                }
                Ok(())
            }
            (MetricType::Summary, "") => {
                let Some(q) = s.labels.get("quantile") else {
                    return invalid("a summary sample needs a quantile label".into());
                };
                let Ok(q) = parse_value(q.as_bytes()) else {
                    return invalid(format!("quantile label value {q:?} is not a number"));
                };
                if om && !(0.0..=1.0).contains(&q) {
                    return invalid(format!("quantile {q} is outside 0..1"));
                }
                if om && s.value < 0.0 {
                    return invalid("a quantile value cannot be negative".into());
                }
                Ok(())
            }
            (MetricType::Summary, "_count") | (MetricType::Counter, "_total") if om => {
                if !counted(s.value) {
                    return invalid(format!("{} values cannot be negative or NaN", &s.name));
                }
                Ok(())
            }
            (MetricType::StateSet, _) if om => {
                if s.value != 0.0 && s.value != 1.0 {
                    return invalid("a stateset value must be 0 or 1".into());
                }
                Ok(())
            }
            (MetricType::Info, _) if om => {
                if s.value != 1.0 {
                    return invalid("an info value must be 1".into());
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// Buckets of one series must come in increasing `le` order with non-decreasing counts
    /// and end with `+Inf`.
    fn bucket(&mut self, s: &Sample<'a>, le: f64, line: u32) -> Result<(), LexError> {
        let key = series_key("", &s.labels, Some("le"));
        let inf_count = (le == f64::INFINITY).then_some(s.value);
        match &mut self.buckets {
            Some(run) if run.key == key => {
                if le <= run.le {
                    return Err((
                        0,
                        ErrorKind::InvalidForType(format!(
                            "buckets out of order: le={le} after le={}",
                            run.le
                        )),
                    ));
                }
                if s.value < run.count {
                    return Err((
                        0,
                        ErrorKind::InvalidForType(format!(
                            "bucket counts are cumulative: {} after {}",
                            s.value, run.count
                        )),
                    ));
                }
                run.le = le;
                run.count = s.value;
                run.inf_count = inf_count;
            }
            _ => {
                self.close_bucket_run();
                self.buckets = Some(BucketRun {
                    key,
                    line,
                    le,
                    count: s.value,
                    inf_count,
                });
            }
        }
        Ok(())
    }

    fn close_bucket_run(&mut self) {
        if let Some(run) = self.buckets.take() {
            if run.inf_count.is_none() {
                self.deferred.push((
                    run.line,
                    ErrorKind::InvalidForType(
                        "histogram series has no le=\"+Inf\" bucket".to_owned(),
                    ),
                ));
            }
        }
    }
}

/// A hash of a series identity: the name and the labels with a value, in name order
/// (`a{x="1",y=""}` is the series `a{x="1"}`). `skip` leaves one label out.
fn series_key(name: &str, labels: &[Label<'_>], skip: Option<&str>) -> u64 {
    let mut h = FixedState::with_seed(0x5e71e5).build_hasher();
    h.write(name.as_bytes());
    h.write_u8(0xff);
    let mut feed = |l: &Label<'_>| {
        if l.value.is_empty() || skip == Some(l.name.as_ref()) {
            return;
        }
        h.write(l.name.as_bytes());
        h.write_u8(0xfe);
        h.write(l.value.as_bytes());
        h.write_u8(0xff);
    };
    if labels.windows(2).all(|w| name_lt(&w[0].name, &w[1].name)) {
        labels.iter().for_each(&mut feed);
    } else {
        let mut sorted: SmallVec<[&Label<'_>; 16]> = labels.iter().collect();
        sorted.sort_unstable_by(|a, b| a.name.cmp(&b.name));
        sorted.into_iter().for_each(feed);
    }
    h.finish()
}

/// Re-reads the line of `first` and compares its series with `s` exactly.
#[cold]
fn same_series(input: &[u8], format: Format, first: Seen, s: &Sample<'_>) -> bool {
    let Ok(line) = std::str::from_utf8(&input[first.start..first.end]) else {
        return false;
    };
    let Ok(Record::Sample(earlier)) = lex_line(line.trim_start_matches([' ', '\t']), format) else {
        return false;
    };
    let set = |labels: &[Label<'_>]| {
        let mut v: Vec<(String, String)> = labels
            .iter()
            .filter(|l| !l.value.is_empty())
            .map(|l| (l.name.to_string(), l.value.to_string()))
            .collect();
        v.sort();
        v
    };
    earlier.name == s.name && set(&earlier.labels) == set(&s.labels)
}
