//! The rules that need context: which family a line belongs to, HELP/TYPE/UNIT order, families
//! kept together, duplicate series, and what each metric type allows.

use std::borrow::Cow;
use std::cmp::Ordering;

use memchr::memchr;

use crate::closed::{name_order, ClosedFamilies};
use crate::error::ErrorKind;
use crate::lexer::{lex_line, LexError};
use crate::number::parse_value;
use crate::record::{Label, Labels, MetricType, Record, Sample};
use crate::scan::{holds_at, same_bytes};
use crate::series_key::{bound_hash, label_hash_in, labels_hash, short_text_words, suffix_hash};
use crate::series_table::{Seen, SeriesTable};
use crate::{Format, Timestamp};

/// Every suffix any type adds to its family name, for finding a sample's family.
const ALL_SUFFIXES: [&str; 8] = [
    "_total", "_created", "_bucket", "_count", "_sum", "_gcount", "_gsum", "_info",
];

/// A sample name's suffix, as `check_type_rules` and `exemplar_allowed` match it: one byte,
/// where matching the `&str` compared its length and bytes on every sample with type rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Suffix {
    Bare,
    Total,
    Created,
    Bucket,
    Count,
    Sum,
    Gcount,
    Gsum,
    Info,
}

impl Suffix {
    /// The suffix `text`, one of `ALL_SUFFIXES` or "": told apart by its length and second
    /// byte (`_total`/`_count`, `_bucket`/`_gcount`, `_gsum`/`_info` share a length).
    fn of(text: &str) -> Suffix {
        match (text.len(), text.as_bytes().get(1)) {
            (6, Some(b't')) => Suffix::Total,
            (6, _) => Suffix::Count,
            (8, _) => Suffix::Created,
            (7, Some(b'b')) => Suffix::Bucket,
            (7, _) => Suffix::Gcount,
            (4, _) => Suffix::Sum,
            (5, Some(b'g')) => Suffix::Gsum,
            (5, _) => Suffix::Info,
            _ => Suffix::Bare,
        }
    }
}

/// Bit `i` of entry `c` set when `ALL_SUFFIXES[i]` ends in byte `c`.
const SUFFIXES_ENDING_IN: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < ALL_SUFFIXES.len() {
        let s = ALL_SUFFIXES[i].as_bytes();
        t[s[s.len() - 1] as usize] |= 1 << i;
        i += 1;
    }
    t
};

/// The family being read.
#[derive(Debug)]
pub(crate) struct Family<'a> {
    pub(crate) name: Cow<'a, str>,
    /// Its place in the table of families (`ClosedFamilies::start`).
    closed_index: usize,
    pub(crate) metric_type: MetricType,
    /// The `Meta` bits of the metadata lines read so far (a UNIT line's once it passed), and
    /// [`SAMPLES`] once a sample was: a metadata line tests both at once.
    seen: u8,
    unit: Option<Cow<'a, str>>,
}

/// The bit of `Family::seen` set by the family's first sample (after the `Meta` bits).
const SAMPLES: u8 = 8;

/// A metadata line's keyword; its value is its bit in `Family::seen`.
#[derive(Debug, Clone, Copy)]
enum Meta {
    Help = 1,
    Type = 2,
    Unit = 4,
}

impl Meta {
    fn keyword(self) -> &'static str {
        match self {
            Meta::Help => "HELP",
            Meta::Type => "TYPE",
            Meta::Unit => "UNIT",
        }
    }
}

/// The samples of one histogram or summary series read so far: its labels without `le` or
/// `quantile` (hashed), the last bound and bucket count, and which parts were seen.
#[derive(Debug, Clone, Copy)]
struct PointRun {
    key: u64,
    line: u32,
    start: usize,
    bound: f64,
    count: f64,
    has_bucket: bool,
    inf_count: Option<f64>,
    /// The `_count`/`_gcount` value and its line, to compare with a `+Inf` bucket that
    /// comes after it.
    count_seen: Option<(f64, u32)>,
    has_count: bool,
    has_sum: bool,
    negative_bucket: bool,
    negative_sum: bool,
    /// A gaugehistogram, whose sum may go negative with its buckets.
    gauge: bool,
    /// A histogram or gaugehistogram series (not a summary's quantiles).
    histogram: bool,
    /// How many buckets or quantiles it has had.
    bounds: usize,
}

impl PointRun {
    /// Takes the bucket `le` with the count `value`, checked to go on with the run.
    #[inline(always)]
    fn take_bucket(&mut self, le: f64, value: f64) {
        self.bound = le;
        self.bounds += 1;
        self.count = value;
        self.has_bucket = true;
        self.negative_bucket |= le < 0.0;
        self.inf_count = (le == f64::INFINITY).then_some(value);
    }
}

/// A bound read at some place of a run: its text, its value and its label's hash (for the
/// label `Validator::bounds_label`).
#[derive(Debug, Clone, Copy)]
struct BoundText<'a> {
    text: &'a str,
    value: f64,
    hash: u64,
    /// The text as `short_text_words` reads it from the input, if it does.
    words: Option<[u64; 2]>,
}

pub(crate) struct Validator<'a> {
    format: Format,
    input: &'a [u8],
    family: Option<Family<'a>>,
    family_id: u64,
    closed: ClosedFamilies<'a>,
    series: SeriesTable,
    /// The key and place of the family's first series while it has only one (not in `series`).
    first_series: Option<(u64, Seen)>,
    /// Bit `i` set when a closed family's type adds `ALL_SUFFIXES[i]` to its sample names.
    closed_suffixes: u8,
    /// The `closed_suffixes` bits of each type in this format.
    suffix_bits: [u8; 8],
    /// Bit `t` set when type `t` allows samples named like the family (suffix "").
    bare_types: u8,
    /// `suffix_hash` for suffix "".
    bare_hash: u64,
    /// Bit `t` set when samples of type `t` have rules of their type (`has_type_rules`).
    ruled_types: u8,
    point: Option<PointRun>,
    /// Errors about earlier lines, found while reading this one (a histogram without `+Inf`).
    /// Each is (line, byte offset of the line, error).
    pub(crate) deferred: Vec<(u32, usize, ErrorKind)>,
    /// Where the line being checked starts.
    line_start: usize,
    /// The family of the last sample checked, and that sample's name suffix (or, after a TYPE
    /// line, its family and "" when its type allows bare sample names).
    last_sample: Option<u64>,
    last_suffix: Suffix,
    /// The name's part of the last sample's series key: its suffix's hash.
    suffix_hash: u64,
    /// The labels' part of the series key of the sample being checked.
    labels_hash: u64,
    /// The bounds read so far at each place of a run, as written, as numbers and hashed.
    bounds: Vec<BoundText<'a>>,
    /// The label (`le` or `quantile`) whose hashes `bounds` holds.
    bounds_label: &'static str,
    /// Tests and the fuzz target: every bound read and hashed afresh, to compare with the cache.
    #[cfg(any(test, feature = "fuzzing"))]
    pub(crate) no_bound_cache: bool,
    /// Reused buffer for building names.
    scratch: String,
}

impl<'a> Validator<'a> {
    pub(crate) fn new(format: Format, input: &'a [u8]) -> Validator<'a> {
        Validator {
            format,
            input,
            family: None,
            family_id: 0,
            closed: ClosedFamilies::for_input(input.len()),
            series: SeriesTable::for_input(input.len()),
            first_series: None,
            closed_suffixes: 0,
            suffix_bits: MetricType::ALL.map(|t| suffix_bits(t.sample_suffixes(format))),
            bare_types: MetricType::ALL
                .iter()
                .filter(|t| t.sample_suffixes(format).contains(&""))
                .fold(0, |bits, &t| bits | 1 << t as u8),
            bare_hash: suffix_hash(b""),
            ruled_types: MetricType::ALL
                .iter()
                .filter(|&&t| has_type_rules(t, format))
                .fold(0, |bits, &t| bits | 1 << t as u8),
            point: None,
            deferred: Vec::new(),
            line_start: 0,
            last_sample: None,
            last_suffix: Suffix::Bare,
            suffix_hash: 0,
            labels_hash: 0,
            bounds: Vec::new(),
            bounds_label: "",
            #[cfg(any(test, feature = "fuzzing"))]
            no_bound_cache: false,
            scratch: String::new(),
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
    /// `labels_hash` is the sample's [`labels_hash`] when the lexer found it on the way.
    pub(crate) fn check(
        &mut self,
        record: &Record<'a>,
        same_name: bool,
        labels_hash: Option<u64>,
        line: u32,
        start: usize,
    ) -> Result<(), LexError> {
        match record {
            Record::Help { name, .. } => self.check_help(name.clone(), same_name, start),
            Record::Type { name, metric_type } => {
                self.check_type(name.clone(), *metric_type, same_name, start)
            }
            Record::Sample(sample) => {
                self.check_sample(sample, same_name, labels_hash, line, start)
            }
            _ => self.check_other(record, same_name, start),
        }
    }

    /// [`Self::check`] for a HELP line named `name`. The parser's fast path calls these entry
    /// points by the kind of line it read, without a match on the record.
    #[inline(always)]
    pub(crate) fn check_help(
        &mut self,
        name: Cow<'a, str>,
        same_name: bool,
        start: usize,
    ) -> Result<(), LexError> {
        self.line_start = start;
        self.metadata(name, Meta::Help, same_name)?.seen |= Meta::Help as u8;
        Ok(())
    }

    /// [`Self::check`] for a TYPE line.
    #[inline(always)]
    pub(crate) fn check_type(
        &mut self,
        name: Cow<'a, str>,
        metric_type: MetricType,
        same_name: bool,
        start: usize,
    ) -> Result<(), LexError> {
        self.line_start = start;
        self.metadata(name, Meta::Type, same_name)?.seen |= Meta::Type as u8;
        self.set_type(metric_type)?;
        self.expect_bare_samples(metric_type);
        Ok(())
    }

    /// [`Self::check`] for a sample. Inlined into the parser loop now that its rare parts
    /// are out of line (out of line, saving and restoring its registers took ~23
    /// instructions per sample; inlined with all its parts, it had cost the loop 2 %).
    #[inline(always)]
    pub(crate) fn check_sample(
        &mut self,
        sample: &Sample<'a>,
        same_name: bool,
        labels_hash: Option<u64>,
        line: u32,
        start: usize,
    ) -> Result<(), LexError> {
        self.line_start = start;
        self.sample(sample, same_name, labels_hash, line, start)
    }

    /// [`Self::check`] for UNIT, comment and EOF lines.
    fn check_other(
        &mut self,
        record: &Record<'a>,
        same_name: bool,
        start: usize,
    ) -> Result<(), LexError> {
        self.line_start = start;
        match record {
            Record::Unit { name, unit } => {
                let family = self.metadata(name.clone(), Meta::Unit, same_name)?;
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
                family.seen |= Meta::Unit as u8;
                Ok(())
            }
            Record::Comment(_) => Ok(()),
            Record::Eof => {
                self.end_family();
                Ok(())
            }
            Record::Help { .. } | Record::Type { .. } | Record::Sample(_) => {
                unreachable!("checked by their own entry points")
            }
        }
    }

    /// Called at the end of the input.
    pub(crate) fn finish(&mut self) {
        self.end_family();
    }

    /// The family a HELP/TYPE/UNIT line for `name` describes, checking order and repetition.
    /// Inline: a TYPE line after its family's HELP line costs a flag or two. `same_name`: the
    /// line has the name of the previous line, which checked out (the parser's word); before
    /// any sample of the family, that line was this family's HELP (or TYPE) line.
    #[inline(always)]
    fn metadata(
        &mut self,
        name: Cow<'a, str>,
        what: Meta,
        same_name: bool,
    ) -> Result<&mut Family<'a>, LexError> {
        let same = match &self.family {
            Some(f) => same_name && f.seen & SAMPLES == 0,
            None => false,
        };
        if !same {
            self.metadata_family(name)?;
        }
        let family = self.family.as_mut().expect("a family was just started");
        if family.seen & (what as u8 | SAMPLES) != 0 {
            return Err(misplaced_metadata(family, what));
        }
        Ok(family)
    }

    /// After a TYPE line: a sample named like the previous line (the parser's `same_name`) is
    /// named like the family. Where `metric_type` allows that bare name, the sample check
    /// takes it as it takes a sample named like the previous sample: suffix "", without
    /// matching the name again.
    #[inline(always)]
    fn expect_bare_samples(&mut self, metric_type: MetricType) {
        if self.bare_types >> metric_type as u8 & 1 != 0 {
            self.last_sample = Some(self.family_id);
            self.last_suffix = Suffix::Bare;
            self.suffix_hash = self.bare_hash;
        } else {
            self.last_sample = None;
        }
    }

    #[inline(always)]
    fn set_type(&mut self, metric_type: MetricType) -> Result<(), LexError> {
        let family = self.family.as_mut().expect("metadata() set the family");
        // the type first: it is in a register, and rarely one of these
        if matches!(metric_type, MetricType::Info | MetricType::StateSet)
            && family.unit.as_ref().is_some_and(|u| !u.is_empty())
        {
            return Err((0, ErrorKind::UnitNotAllowed));
        }
        family.metric_type = metric_type;
        if self.closed.in_order() {
            // every family so far is before this one, and so before its name with a suffix
            return Ok(());
        }
        self.check_type_clash(metric_type)
    }

    /// A TYPE line's family name plus each suffix its type adds must not be an earlier
    /// family's name (only checked once the names are out of order).
    fn check_type_clash(&mut self, metric_type: MetricType) -> Result<(), LexError> {
        let family = self.family.as_ref().expect("metadata() set the family");
        for suffix in metric_type.sample_suffixes(self.format) {
            if suffix.is_empty() {
                continue;
            }
            self.scratch.clear();
            self.scratch.push_str(&family.name);
            self.scratch.push_str(suffix);
            if self.closed.get(&self.scratch).is_some() {
                return Err((0, ErrorKind::NameClash(self.scratch.clone())));
            }
        }
        Ok(())
    }

    /// Makes `name` the current family, for a metadata line not known to be the current
    /// family's. While the names are in order the current family is the last one started, so
    /// the one comparison with it says both whether `name` is that family and whether it is
    /// after every earlier one.
    #[inline(always)]
    fn metadata_family(&mut self, name: Cow<'a, str>) -> Result<(), LexError> {
        if let (Some(f), true) = (&self.family, self.closed.in_order()) {
            match name_order(name.as_bytes(), f.name.as_bytes()) {
                Ordering::Equal => return Ok(()),
                Ordering::Greater => return self.start_next_family(name),
                Ordering::Less => {}
            }
        } else if self
            .family
            .as_ref()
            .is_some_and(|f| same_bytes(f.name.as_bytes(), name.as_bytes()))
        {
            return Ok(());
        }
        self.start_family(name)
    }

    /// [`Self::start_family`] for a name after every family so far (the names in order, the
    /// current family the last of them): only its base may clash.
    #[inline(never)]
    fn start_next_family(&mut self, name: Cow<'a, str>) -> Result<(), LexError> {
        self.close_family();
        if let Some(base) = self.clashing_base(&name) {
            return Err(self.interleaved(base.to_owned()));
        }
        let closed_index = self.closed.push_last(name.clone());
        self.enter_family(name, closed_index);
        Ok(())
    }

    /// Leaves no current family, and the error of a family that came back.
    #[cold]
    fn interleaved(&mut self, name: String) -> LexError {
        self.family = None;
        (0, ErrorKind::InterleavedFamily(name))
    }

    /// Makes the family started as `closed_index` the current one, reusing the place of the
    /// one that ended (no drop and rebuild of the whole `Option<Family>`).
    #[inline(always)]
    fn enter_family(&mut self, name: Cow<'a, str>, closed_index: usize) {
        self.family_id += 1;
        self.family = Some(Family {
            name,
            closed_index,
            metric_type: MetricType::Unknown,
            seen: 0,
            unit: None,
        });
    }

    /// Ends the current family and starts `name`, refusing a name seen before.
    fn start_family(&mut self, name: Cow<'a, str>) -> Result<(), LexError> {
        self.close_family();
        if let Some(base) = self.clashing_base(&name) {
            self.family = None;
            // the name itself coming back is the error to report first
            let base = if self.closed.started(&name) {
                name.into_owned()
            } else {
                base.to_owned()
            };
            return Err((0, ErrorKind::InterleavedFamily(base)));
        }
        let Some(closed_index) = self.closed.start(name.clone()) else {
            return Err(self.interleaved(name.into_owned()));
        };
        self.enter_family(name, closed_index);
        Ok(())
    }

    /// The ended family whose samples `name` would be (`name` is that family's name plus a
    /// suffix its type adds), if any.
    #[inline(always)]
    fn clashing_base<'n>(&self, name: &'n str) -> Option<&'n str> {
        // only a suffix that some closed family's type adds, and that ends in the name's last
        // byte, can clash: most names have no candidate at all, and are told inline
        let last = *name.as_bytes().last()?;
        let candidates = self.closed_suffixes & SUFFIXES_ENDING_IN[last as usize];
        if candidates == 0 {
            return None;
        }
        self.clashing_base_among(name, candidates)
    }

    /// [`Self::clashing_base`] for a name that ends like some of the suffixes (`candidates`).
    #[inline(never)]
    fn clashing_base_among<'n>(&self, name: &'n str, mut candidates: u8) -> Option<&'n str> {
        while candidates != 0 {
            let suffix = ALL_SUFFIXES[candidates.trailing_zeros() as usize];
            candidates &= candidates - 1;
            let Some(base_len) = name.len().checked_sub(suffix.len()) else {
                continue;
            };
            if !same_bytes(&name.as_bytes()[base_len..], suffix.as_bytes()) {
                continue;
            }
            let base = &name[..base_len];
            if let Some(t) = self.closed.get(base) {
                if t.sample_suffixes(self.format).contains(&suffix) {
                    return Some(base);
                }
            }
        }
        None
    }

    /// Ends the current family, leaving none.
    fn end_family(&mut self) {
        self.close_family();
        self.family = None;
    }

    /// Ends the current family's checks; the caller replaces `family`. Inlined into the family start: most families end with no histogram or summary run
    /// open and no series table to clear.
    #[inline(always)]
    fn close_family(&mut self) {
        if self.point.is_some() {
            self.close_run();
        }
        self.first_series = None;
        if !self.series.is_empty() {
            self.series.clear();
        }
        if let Some(f) = &self.family {
            self.closed_suffixes |= self.suffix_bits[f.metric_type as usize];
            self.closed.end(f.closed_index, f.metric_type);
        }
    }

    /// Inlined into `check_sample`, whose lines are most lines: the rare parts (a name that
    /// differs from the previous sample's, a type with rules, an exemplar, a repeated series)
    /// are out of line, so that the usual sample costs few registers.
    #[inline(always)]
    fn sample(
        &mut self,
        s: &Sample<'a>,
        same_name: bool,
        labels_hash: Option<u64>,
        line: u32,
        start: usize,
    ) -> Result<(), LexError> {
        // Same name as the previous sample, nothing in between: same family, same suffix.
        let known = same_name && self.last_sample == Some(self.family_id);
        let suffix = if known {
            self.last_suffix
        } else {
            self.sample_name(s)?
        };
        let family = self.family.as_mut().expect("the sample's family is set");
        family.seen |= SAMPLES;
        let metric_type = family.metric_type;
        self.labels_hash = labels_hash.unwrap_or_else(|| self::labels_hash(&s.labels));
        self.check_series(s, line, start)?;
        if self.ruled_types >> metric_type as u8 & 1 != 0 && !self.went_on_with_bucket(s, suffix) {
            self.check_type_rules(s, metric_type, suffix, line)?;
        }
        if s.exemplar.is_some() {
            return exemplar_allowed(metric_type, suffix);
        }
        Ok(())
    }

    /// `check_type_rules` for the usual bucket, inline: its bound is the cache's next, no
    /// count came before a `+Inf` bound, and nothing is wrong. Whether it did; the full check
    /// takes any other sample.
    #[inline(always)]
    fn went_on_with_bucket(&mut self, s: &Sample<'a>, suffix: Suffix) -> bool {
        if suffix != Suffix::Bucket {
            return false;
        }
        let Some((_, le)) = self.next_cached_bound(s, "le") else {
            return false;
        };
        let om = self.format == Format::OpenMetrics;
        let Some(run) = self.point.as_mut() else {
            return false;
        };
        if (om && !whole_count(s.value))
            || le <= run.bound
            || s.value < run.count
            || (le == f64::INFINITY && run.count_seen.is_some())
        {
            return false;
        }
        run.take_bucket(le, s.value);
        true
    }

    /// The family and name suffix of a sample not named like the sample before it (or the
    /// TYPE line before it), starting a new family when it is none of the current one's
    /// names.
    #[inline(never)]
    fn sample_name(&mut self, s: &Sample<'a>) -> Result<Suffix, LexError> {
        let suffix: Option<&'static str> = match &self.family {
            Some(f) => match name_fit(&s.name, &f.name, f.metric_type.sample_suffixes(self.format))
            {
                NameFit::Suffix(suffix) => Some(suffix),
                NameFit::Bare => {
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
                NameFit::Other => None,
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
        self.last_sample = Some(self.family_id);
        self.last_suffix = Suffix::of(suffix);
        // The series table holds one family, whose sample names differ only in the suffix:
        // the suffix stands for the name in the series key (and a repeated name keeps it).
        self.suffix_hash = suffix_hash(suffix.as_bytes());
        Ok(self.last_suffix)
    }

    /// Inlined into the sample check (with that check in the parser loop, the compiler had
    /// put it out of line).
    #[inline(always)]
    fn check_series(&mut self, s: &Sample<'a>, line: u32, start: usize) -> Result<(), LexError> {
        let key = self.suffix_hash.wrapping_add(self.labels_hash);
        let seen = Seen { start, line };
        // Most families hold one series: the table is filled from a family's second sample on.
        if self.series.is_empty() {
            match self.first_series.take() {
                None => {
                    self.first_series = Some((key, seen));
                    return Ok(());
                }
                Some((first_key, first)) => {
                    let (index, _) = self.series.find(first_key);
                    self.series.fill(index, first_key, first);
                }
            }
        }
        match self.series.insert(key, seen) {
            Ok(()) => Ok(()),
            Err(index) => {
                let first = self.series.seen(index);
                let Some(first_timestamp) = earlier_point(self.input, self.format, first.start, s)
                else {
                    // A 64-bit hash collision between different series: track the newer one.
                    self.series.set_seen(index, seen);
                    return Ok(());
                };
                match (first_timestamp, s.timestamp) {
                    // OpenMetrics allows several points of one series, in time order.
                    (Some(a), Some(b)) if self.format == Format::OpenMetrics => {
                        if b < a {
                            return Err((0, ErrorKind::InvalidForType(format!(
                                "timestamp goes back: {b} s after {a} s for the same series on line {}",
                                first.line
                            ))));
                        }
                        self.series.set_seen(index, seen);
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
        suffix: Suffix,
        line: u32,
    ) -> Result<(), LexError> {
        let om = self.format == Format::OpenMetrics;
        let counted = |v: f64| v >= 0.0; // false for NaN too
        match (metric_type, suffix) {
            (MetricType::Histogram | MetricType::GaugeHistogram, Suffix::Bucket) => {
                // the previous series ends first: its errors are about earlier lines
                // (`went_on_with_bucket` tried the cache's next bound)
                let (key, le) = self.bound_run(s, "le")?;
                if om && !whole_count(s.value) {
                    return invalid(
                        "bucket counts must be whole numbers, not negative or NaN".into(),
                    );
                }
                let run = self.run_for(key, line);
                if le <= run.bound {
                    return invalid(format!(
                        "buckets out of order: le={le} after le={}",
                        run.bound
                    ));
                }
                if s.value < run.count {
                    return invalid(format!(
                        "bucket counts are cumulative: {} after {}",
                        s.value, run.count
                    ));
                }
                run.take_bucket(le, s.value);
                match (run.inf_count, run.count_seen) {
                    // the count came first: it must equal this bucket all the same
                    (Some(inf), Some((count, count_line))) if inf.to_bits() != count.to_bits() => {
                        invalid(format!(
                            "the le=\"+Inf\" bucket {inf} differs from the count {count} (line {count_line})"
                        ))
                    }
                    _ => Ok(()),
                }
            }
            (
                MetricType::Histogram | MetricType::GaugeHistogram,
                Suffix::Count | Suffix::Gcount,
            ) => {
                let key = self.run_key(s, "le");
                if om && !whole_count(s.value) {
                    return invalid(
                        "a histogram count must be a whole number, not negative or NaN".into(),
                    );
                }
                let run = self.run_for(key, line);
                run.has_count = true;
                run.count_seen = Some((s.value, line));
                match run.inf_count {
                    Some(inf) if inf.to_bits() != s.value.to_bits() => invalid(format!(
                        "count {} differs from the le=\"+Inf\" bucket {inf} (line {})",
                        s.value, run.line
                    )),
                    _ => Ok(()),
                }
            }
            (MetricType::Histogram | MetricType::GaugeHistogram, Suffix::Sum | Suffix::Gsum) => {
                let run = self.run(s, "le", line);
                run.has_sum = true;
                run.negative_sum |= s.value < 0.0 || s.value.is_nan();
                Ok(())
            }
            (MetricType::Histogram, Suffix::Created) => {
                // a series of its own when nothing else came: it still needs its +Inf bucket
                self.run(s, "le", line);
                Ok(())
            }
            (MetricType::Summary, Suffix::Bare) => {
                let (key, q) = match self.next_cached_bound(s, "quantile") {
                    Some(found) => found,
                    None => self.bound_run(s, "quantile")?,
                };
                if om && !(0.0..=1.0).contains(&q) {
                    return invalid(format!("quantile {q} is outside 0..1"));
                }
                if om && s.value < 0.0 {
                    return invalid("a quantile value cannot be negative".into());
                }
                let run = self.run_for(key, line);
                if q <= run.bound {
                    return invalid(format!("quantiles out of order: {q} after {}", run.bound));
                }
                run.bound = q;
                run.bounds += 1;
                Ok(())
            }
            (MetricType::Summary, Suffix::Count) if om => {
                if !whole_count(s.value) {
                    return invalid(
                        "a summary count must be a whole number, not negative or NaN".into(),
                    );
                }
                Ok(())
            }
            (MetricType::Summary, Suffix::Sum) | (MetricType::Counter, Suffix::Total) if om => {
                if !counted(s.value) {
                    return invalid(format!("{} values cannot be negative or NaN", &s.name));
                }
                Ok(())
            }
            (MetricType::StateSet, _) if om => {
                let family = self.family.as_ref().expect("the sample's family is set");
                if s.labels.get(&family.name).is_none() {
                    return invalid(format!(
                        "a stateset sample needs a label named after its family ({:?})",
                        family.name
                    ));
                }
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

    /// The run key of a bucket or quantile `s` (see [`Self::run_key`], whose run it ends when
    /// it is another) and its bound: its `le` or `quantile` label (`label`) as a number.
    /// OpenMetrics spells infinity `+Inf` there; other numbers need not be canonical.
    ///
    /// The series of a family repeat their bounds (le="0.1", …, le="+Inf"): the k-th bound of
    /// a run is most often the one the run before had at that place, already read. Its value
    /// and its share of the labels' hash are taken from there, with one comparison of the
    /// text: at the place after the run's last bound, or at the first place (a new run).
    fn bound_run(&mut self, s: &Sample<'a>, label: &'static str) -> Result<(u64, f64), LexError> {
        // exporters write it last
        let found = bound_label(&s.labels, label);
        if self.bounds_label.len() != label.len() {
            // the cached hashes are of the other label's name
            self.bounds.clear();
            self.bounds_label = label;
        }
        let next = self.point.map_or(0, |r| r.bounds);
        let cached = found.and_then(|l| self.cached_bound(l.value.as_bytes(), next));
        let hash = match (found, cached) {
            (_, Some(k)) => self.bounds[k].hash,
            (Some(l), None) if !l.value.is_empty() => label_hash_in(self.input, l),
            _ => 0,
        };
        let key = self.labels_hash.wrapping_sub(hash);
        if self.point.is_some_and(|r| r.key != key) {
            self.close_run();
        }
        let Some(found) = found else {
            return invalid(format!("a {} sample needs a {label} label", s.name));
        };
        let k = self.point.map_or(0, |r| r.bounds);
        if cached == Some(k) || self.bound_at(k, found.value.as_bytes()) {
            return Ok((key, self.bounds[k].value));
        }
        let text = found.value.as_ref();
        let value = match parse_value(text.as_bytes()) {
            Ok(v) if v.is_infinite() && self.format == Format::OpenMetrics && text != "+Inf" => {
                return invalid(format!("{label} value {text:?}: write infinity as +Inf"))
            }
            Ok(v) => v,
            Err(_) => return invalid(format!("{label} label value {text:?} is not a number")),
        };
        if let Cow::Borrowed(text) = found.value {
            let words = short_text_words(self.input, text.as_bytes());
            let read = BoundText {
                text,
                value,
                hash,
                words,
            };
            match k.cmp(&self.bounds.len()) {
                Ordering::Less => self.bounds[k] = read,
                Ordering::Equal => self.bounds.push(read),
                Ordering::Greater => {}
            }
        }
        Ok((key, value))
    }

    /// [`Self::bound_run`] for a bucket or quantile whose bound is its last label, written as
    /// the cache has it at the place after the run's last bound, and that goes on with that
    /// run (its key, the labels' hash less the cached bound's share, is the run's): no search,
    /// no hash, no run to end, nothing to keep.
    #[inline(always)]
    fn next_cached_bound(&self, s: &Sample<'a>, label: &'static str) -> Option<(u64, f64)> {
        #[cfg(any(test, feature = "fuzzing"))]
        if self.no_bound_cache {
            return None;
        }
        let run = self.point.as_ref()?;
        let cached = self.bounds.get(run.bounds)?;
        let bound = s.labels.last()?;
        // (most bounds not in the cache have another length; the label's length is known, and
        // the comparison inline)
        if cached.text.len() != bound.value.len()
            || label.as_bytes() != bound.name.as_bytes()
            || self.bounds_label.len() != label.len()
        {
            return None;
        }
        // two words each, read in place: no loop over the text's length (the key alone tells
        // another bound but for a hash collision; the text makes the value exact)
        let words = short_text_words(self.input, bound.value.as_bytes());
        if words.is_none() || words != cached.words {
            return None;
        }
        let key = self.labels_hash.wrapping_sub(cached.hash);
        (key == run.key).then_some((key, cached.value))
    }

    /// The place, `next` or else 0, where the bound read before has the text `text`.
    #[inline(always)]
    fn cached_bound(&self, text: &[u8], next: usize) -> Option<usize> {
        if self.bound_at(next, text) {
            Some(next)
        } else if next != 0 && self.bound_at(0, text) {
            Some(0)
        } else {
            None
        }
    }

    /// Whether the bound read before at place `k` of a run has the text `text`.
    #[inline(always)]
    fn bound_at(&self, k: usize, text: &[u8]) -> bool {
        #[cfg(any(test, feature = "fuzzing"))]
        if self.no_bound_cache {
            return false;
        }
        self.bounds
            .get(k)
            .is_some_and(|b| same_bytes(b.text.as_bytes(), text))
    }

    /// The run of samples of one histogram or summary series (its labels without `bound`) that
    /// `s` belongs to; a new series ends the previous run.
    fn run(&mut self, s: &Sample<'a>, bound: &str, line: u32) -> &mut PointRun {
        let key = self.run_key(s, bound);
        self.run_for(key, line)
    }

    /// The key of the run `s` belongs to; ends the run being read when it is another.
    fn run_key(&mut self, s: &Sample<'a>, bound: &str) -> u64 {
        // the labels' hash (from `check_series`) without the bound's
        let key = self
            .labels_hash
            .wrapping_sub(bound_hash(self.input, &s.labels, bound));
        if self.point.is_some_and(|r| r.key != key) {
            self.close_run();
        }
        key
    }

    /// The run with `key` (from [`Self::run_key`]), started on `line` if new.
    fn run_for(&mut self, key: u64, line: u32) -> &mut PointRun {
        let start = self.line_start;
        let metric_type = self.family.as_ref().map(|f| f.metric_type);
        // built only for a new run (most samples go on with the run before)
        self.point.get_or_insert_with(|| PointRun {
            key,
            line,
            start,
            bound: f64::NEG_INFINITY,
            count: f64::NEG_INFINITY,
            has_bucket: false,
            inf_count: None,
            count_seen: None,
            has_count: false,
            has_sum: false,
            negative_bucket: false,
            negative_sum: false,
            gauge: metric_type == Some(MetricType::GaugeHistogram),
            histogram: matches!(
                metric_type,
                Some(MetricType::Histogram | MetricType::GaugeHistogram)
            ),
            bounds: 0,
        })
    }

    fn close_run(&mut self) {
        let Some(run) = self.point.take() else {
            return;
        };
        let om = self.format == Format::OpenMetrics;
        // OpenMetrics wants the +Inf bucket in every histogram series, even one without
        // buckets; the text format only in a series that has buckets, as Prometheus reads it.
        if run.histogram && run.inf_count.is_none() && (run.has_bucket || om) {
            let name = self.family.as_ref().map_or("", |f| f.name.as_ref());
            self.deferred.push((
                run.line,
                run.start,
                ErrorKind::InvalidForType(format!(
                    "histogram series has no le=\"+Inf\" bucket ({name}_bucket{{le=\"+Inf\"}} is missing)"
                )),
            ));
            return;
        }
        let problem = if !om {
            None
        } else if run.has_count != run.has_sum {
            Some("a histogram needs both _count and _sum, or neither")
        } else if run.negative_sum && !run.negative_bucket {
            Some("a histogram sum can be negative or NaN only when it has negative buckets")
        } else if run.negative_bucket && run.has_sum && !run.gauge {
            Some("a histogram with negative buckets cannot have a _sum (use a gaugehistogram)")
        } else {
            None
        };
        if let Some(problem) = problem {
            self.deferred.push((
                run.line,
                run.start,
                ErrorKind::InvalidForType(problem.to_owned()),
            ));
        }
    }
}

/// The label named `name` among `labels`, looked for from the end (exporters write `le` and
/// `quantile` last).
#[inline(always)]
fn bound_label<'l, 'a>(labels: &'l [Label<'a>], name: &str) -> Option<&'l Label<'a>> {
    let is_bound = |l: &&Label<'a>| same_bytes(l.name.as_bytes(), name.as_bytes());
    labels
        .last()
        .filter(is_bound)
        .or_else(|| labels.iter().find(is_bound))
}

/// Whether a sample of `metric_type` named with `suffix` may carry an exemplar.
#[cold]
fn exemplar_allowed(metric_type: MetricType, suffix: Suffix) -> Result<(), LexError> {
    let allowed = matches!(
        (metric_type, suffix),
        (MetricType::Counter, Suffix::Total)
            | (
                MetricType::Histogram | MetricType::GaugeHistogram,
                Suffix::Bucket
            )
    );
    if allowed {
        Ok(())
    } else {
        Err((0, ErrorKind::ExemplarNotAllowed))
    }
}

/// Whether `check_type_rules` has anything to check for samples of `metric_type` in `format`.
fn has_type_rules(metric_type: MetricType, format: Format) -> bool {
    match metric_type {
        MetricType::Histogram | MetricType::GaugeHistogram | MetricType::Summary => true,
        MetricType::Counter | MetricType::StateSet | MetricType::Info => {
            format == Format::OpenMetrics
        }
        MetricType::Gauge | MetricType::Unknown => false,
    }
}

/// The error for a metadata line that comes twice, or after its family's samples.
#[cold]
fn misplaced_metadata(family: &Family<'_>, what: Meta) -> LexError {
    if family.seen & what as u8 != 0 {
        (0, ErrorKind::DuplicateMetadata(what.keyword()))
    } else {
        (0, ErrorKind::MetadataAfterSamples(what.keyword()))
    }
}

/// The bits of `suffixes` in `ALL_SUFFIXES` order ("" has none).
fn suffix_bits(suffixes: &[&str]) -> u8 {
    ALL_SUFFIXES
        .iter()
        .enumerate()
        .filter(|(_, x)| suffixes.contains(x))
        .fold(0, |bits, (i, _)| bits | 1 << i)
}

/// How a sample name relates to the name of the family being read.
enum NameFit {
    /// The family name plus one of the suffixes its type allows (maybe "").
    Suffix(&'static str),
    /// The family name itself, which its type does not allow.
    Bare,
    /// Anything else: the sample starts another family.
    Other,
}

/// Matches `name` against `family` + one of `suffixes`: the suffix first, by length and
/// inline comparison (names are short and most samples match), then the family name.
#[inline(always)]
fn name_fit(name: &str, family: &str, suffixes: &'static [&'static str]) -> NameFit {
    let (name, family) = (name.as_bytes(), family.as_bytes());
    let Some(rest) = name.get(family.len()..) else {
        return NameFit::Other;
    };
    let suffix = suffixes
        .iter()
        .copied()
        .find(|x| same_bytes(x.as_bytes(), rest));
    // (the family name 16 bytes at a time: most are 16 to 32 bytes long)
    if (suffix.is_none() && !rest.is_empty()) || !holds_at(name, 0, family) {
        return NameFit::Other;
    }
    match suffix {
        Some(suffix) => NameFit::Suffix(suffix),
        None => NameFit::Bare,
    }
}

/// A count in OpenMetrics: a whole number, not negative (false for NaN).
fn whole_count(v: f64) -> bool {
    v >= 0.0 && v.fract() == 0.0
}

fn invalid<T>(message: String) -> Result<T, LexError> {
    Err((0, ErrorKind::InvalidForType(message)))
}

/// Re-reads the earlier line that starts at `start` and compares its series with `s`
/// exactly: the earlier sample's timestamp when they are the same series, `None` when the
/// two only share a hash.
#[cold]
fn earlier_point(
    input: &[u8],
    format: Format,
    start: usize,
    s: &Sample<'_>,
) -> Option<Option<Timestamp>> {
    let end = memchr(b'\n', &input[start..]).map_or(input.len(), |n| start + n);
    let line = std::str::from_utf8(&input[start..end]).ok()?;
    let lexed = lex_line(
        line.trim_start_matches([' ', '\t']),
        format,
        &mut Labels::new(),
    )
    .ok()?;
    let Record::Sample(earlier) = lexed else {
        return None;
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
    (earlier.name == s.name && set(&earlier.labels) == set(&s.labels)).then_some(earlier.timestamp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_table_is_indexed_by_type() {
        for (i, t) in MetricType::ALL.iter().enumerate() {
            assert_eq!(*t as usize, i);
        }
        assert_eq!(suffix_bits(&[""]), 0);
        assert_eq!(suffix_bits(&["_bucket", "_sum"]), 0b1_0100);
    }

    /// `Suffix::of` tells every suffix apart.
    #[test]
    fn suffixes_are_told_apart() {
        let all = [
            (Suffix::Bare, ""),
            (Suffix::Total, "_total"),
            (Suffix::Created, "_created"),
            (Suffix::Bucket, "_bucket"),
            (Suffix::Count, "_count"),
            (Suffix::Sum, "_sum"),
            (Suffix::Gcount, "_gcount"),
            (Suffix::Gsum, "_gsum"),
            (Suffix::Info, "_info"),
        ];
        assert_eq!(all.len(), ALL_SUFFIXES.len() + 1);
        for (suffix, text) in all {
            assert_eq!(Suffix::of(text), suffix, "{text:?}");
        }
    }

    /// The types `has_type_rules` lets skip `check_type_rules` pass it whatever the sample.
    #[test]
    fn types_without_rules_pass_every_sample() {
        for format in [Format::Text, Format::OpenMetrics] {
            let mut v = Validator::new(format, b"");
            for t in MetricType::ALL {
                if has_type_rules(t, format) {
                    continue;
                }
                for suffix in [
                    "", "_total", "_bucket", "_count", "_sum", "_created", "_info",
                ] {
                    for value in [-1.5, f64::NAN, 0.5, 2.0] {
                        let s = Sample::new("x", Labels::new(), value);
                        let checked = v.check_type_rules(&s, t, Suffix::of(suffix), 1);
                        assert_eq!(checked, Ok(()), "{format:?} {t:?} {suffix:?} {value}");
                    }
                }
            }
        }
    }

    /// Bounds read again from the run before (a cache by place in the run) give the same
    /// values and the same errors as bounds read afresh.
    #[test]
    fn bounds_of_earlier_runs_read_alike() {
        let errors = |text: &str, format| {
            let (_, errors) = crate::parse_lenient(text.as_bytes(), format);
            errors.iter().map(|e| e.to_string()).collect::<Vec<_>>()
        };
        let run = |x: &str, les: &[&str]| {
            let mut s = String::new();
            for (i, le) in les.iter().enumerate() {
                s.push_str(&format!("h_bucket{{x=\"{x}\",le=\"{le}\"}} {i}\n"));
            }
            s
        };
        let head = "# TYPE h histogram\n";
        // other bounds at the same places, and the same bounds written otherwise
        let text = [
            head,
            &run("a", &["1", "2", "+Inf"]),
            &run("b", &["1", "3", "+Inf"]),
            &run("c", &["1.0", "2e0", "Inf"]),
        ]
        .concat();
        assert_eq!(errors(&text, Format::Text), Vec::<String>::new());
        // a value cached at place 1 (2) must not stand for another text there (0.5)
        let text = [
            head,
            &run("a", &["1", "2", "+Inf"]),
            &run("b", &["1", "0.5", "+Inf"]),
        ]
        .concat();
        let found = errors(&text, Format::Text);
        assert!(
            found[0].contains("buckets out of order: le=0.5 after le=1"),
            "{found:?}"
        );
        // OpenMetrics: +Inf cached, Inf at the same place still refused
        let text = [
            head,
            &run("a", &["1", "+Inf"]),
            &run("b", &["1", "Inf"]),
            "# EOF\n",
        ]
        .concat();
        let found = errors(&text, Format::OpenMetrics);
        assert!(found[0].contains("write infinity as +Inf"), "{found:?}");
    }

    /// Histogram and summary families: runs repeated, interleaved and broken off, buckets
    /// repeated or out of order, bounds missing, misspelt or not last; in both formats.
    fn runs() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        // `B` stands for the bucket's or quantile's name and `L` for its label
        // (bounds of 16 bytes and more are compared otherwise)
        let bound = "(0|0\\.5|0\\.50|1|1\\.0|2|\\+Inf|Inf|x|)";
        let bound = prop_oneof![5 => bound, 1 => "(0\\.5000000000000001|0\\.5000000000000002)"];
        let point =
            ("(x|y|)", bound, 0..3u8, "(0|1|2|3|1\\.5|-1)").prop_map(|(x, b, at, v)| match at {
                0 => format!("B{{x=\"{x}\",L=\"{b}\"}} {v}"),
                1 => format!("B{{L=\"{b}\",x=\"{x}\"}} {v}"),
                _ => format!("B{{x=\"{x}\"}} {v}"),
            });
        // a run in order, as exporters write it, mostly
        let run = (
            "(x|y|)",
            proptest::sample::subsequence(
                vec!["0", "0.5", "0.5000000000000001", "1", "2", "+Inf"],
                0..=6,
            ),
            "(F_count|F_sum|F_created|)",
        )
            .prop_map(|(x, bounds, tail)| {
                let mut lines: Vec<String> = (bounds.iter().enumerate())
                    .map(|(i, b)| format!("B{{x=\"{x}\",L=\"{b}\"}} {i}"))
                    .collect();
                if !tail.is_empty() {
                    lines.push(format!("{tail}{{x=\"{x}\"}} {}", bounds.len()));
                }
                lines.join("\n")
            });
        let other = (
            "(F_count|F_sum|F_created|F_gcount|F_gsum)",
            "(x|y|)",
            "(0|1|2|3)",
        )
            .prop_map(|(n, x, v)| format!("{n}{{x=\"{x}\"}} {v}"));
        let line = prop_oneof![4 => point, 4 => run, 1 => other];
        let family = (
            "(histogram|gaugehistogram|summary)",
            proptest::collection::vec(line, 0..12),
        );
        proptest::collection::vec(family, 1..4).prop_map(|families| {
            let mut text = String::new();
            for (i, (t, lines)) in families.iter().enumerate() {
                let (f, bucket, label) = match t.as_str() {
                    "summary" => (format!("f{i}"), format!("f{i}"), "quantile"),
                    _ => (format!("f{i}"), format!("f{i}_bucket"), "le"),
                };
                text.push_str(&format!("# TYPE {f} {t}\n"));
                for line in lines {
                    let line = line.replace('B', &bucket).replace('L', label);
                    text.push_str(&line.replace('F', &f));
                    text.push('\n');
                }
            }
            text
        })
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 1500, ..Default::default() })]

        /// The bounds' cache (values and hashes by place in a run) changes nothing: the same
        /// records and errors as every bound read and hashed afresh.
        #[test]
        fn bound_cache_changes_nothing(text in runs()) {
            for format in [Format::Text, Format::OpenMetrics] {
                let outcome = |parser: crate::Parser<'_>| {
                    parser
                        .with_mode(crate::Mode::Lenient)
                        .map(|r| r.map(Record::into_owned))
                        .collect::<Vec<_>>()
                };
                let parser = || crate::Parser::new(text.as_bytes(), format);
                let cached = outcome(parser());
                let afresh = outcome(parser().without_validator_caches());
                proptest::prop_assert_eq!(cached, afresh, "{:?}", format);
            }
        }
    }

    /// A metadata line's family, by the comparison with the current family while the names
    /// are in order (the same family, a later one, one whose base clashes) and by look-up
    /// after they are not: errors on the same lines as ever.
    #[test]
    fn metadata_lines_find_their_family_in_and_out_of_order() {
        let errors = |text: &str| {
            let (_, errors) = crate::parse_lenient(text.as_bytes(), Format::Text);
            errors
                .iter()
                .map(|e| (e.line, e.kind.clone()))
                .collect::<Vec<_>>()
        };
        let back = |line, name: &str| (line, ErrorKind::InterleavedFamily(name.into()));
        // in order: HELP then TYPE of one family, then a later family
        assert_eq!(
            errors("# HELP a x\n# TYPE a gauge\na 1\n# HELP b y\nb 2\n"),
            []
        );
        // a later name that is an ended family's sample name
        let text = "# TYPE a histogram\na_bucket{le=\"+Inf\"} 1\n# TYPE a_bucket gauge\n";
        assert_eq!(errors(text), [back(3, "a")]);
        // metadata of the current family after its samples, then of an earlier family
        let text = "# TYPE a gauge\na 1\n# HELP a x\n# TYPE b gauge\n# HELP a y\n";
        assert_eq!(
            errors(text),
            [(3, ErrorKind::MetadataAfterSamples("HELP")), back(5, "a")]
        );
        // out of order (a new earlier name), then the same comparisons through the table
        let text = "# TYPE b gauge\n# TYPE a summary\n# HELP a x\na_count 1\n\
                    # TYPE c gauge\n# HELP c y\n# TYPE a_count gauge\n# HELP b z\n";
        assert_eq!(errors(text), [back(7, "a"), back(8, "b")]);
    }
}
