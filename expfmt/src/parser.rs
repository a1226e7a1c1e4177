//! The streaming parser: an iterator of records over a byte buffer.

use std::borrow::Cow;
use std::collections::VecDeque;

use memchr::memchr;

use crate::error::{ErrorKind, ParseError};
use crate::lexer::{
    lex_fast_metadata, lex_fast_sample, lex_line, FastState, LexError, MetadataKind,
};
use crate::record::{Labels, MetricType, Record, Sample};
use crate::validate::Validator;
use crate::Format;

/// What the parser does after an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Stop at the first error: the iterator yields it and then ends.
    #[default]
    Strict,
    /// Report each bad line as an `Err` item, skip it, and go on with the rest.
    Lenient,
}

/// A pull parser over a whole exposition, yielding one [`Record`] per line.
///
/// Records borrow from the input: names and label values are `Cow::Borrowed` unless they
/// contained escapes. Every rule of the format is checked as the lines go by (see the crate
/// documentation); an error says where it is and what is wrong.
///
/// ```
/// use ipocket_expfmt::{Format, Parser, Record};
///
/// let input = b"# TYPE up gauge\nup{job=\"node\"} 1\n";
/// let mut samples = 0;
/// for record in Parser::new(input, Format::Text) {
///     if let Record::Sample(s) = record? {
///         assert_eq!(s.labels.get("job"), Some("node"));
///         samples += 1;
///     }
/// }
/// assert_eq!(samples, 1);
/// # Ok::<(), ipocket_expfmt::ParseError>(())
/// ```
pub struct Parser<'a> {
    input: &'a [u8],
    /// The whole input when it is valid UTF-8 (`utf8`), so lines are sliced without checking
    /// again; "" when it is not. A plain field, not an `Option`: the fast paths, which run only
    /// on valid input, read it without a test.
    text: &'a str,
    utf8: bool,
    /// Where a line must end for the fast paths to take it: before the input's end in the text
    /// format (its last line needs a line feed, which the general path reports missing),
    /// anywhere in OpenMetrics (one comparison per line instead of two).
    fast_end: usize,
    format: Format,
    mode: Mode,
    pos: usize,
    line: u32,
    validator: Validator<'a>,
    pending: VecDeque<ParseError>,
    seen_eof: bool,
    finished: bool,
    failed: bool,
    /// The other record read last (HELP, TYPE, …) at [`OTHER`], and the sample read last at
    /// [`SAMPLE`] (always a `Record::Sample`: sample lines are read into it in place, reusing
    /// its label storage). An array, so that the record lent is one address computed from
    /// `on_sample` (two fields made the consumer select between them at every field it read).
    records: [Record<'a>; 2],
    /// The other record owns no memory (a fast path's record, all borrowed, or `Eof`):
    /// replacing it needs no drop.
    other_borrowed: bool,
    /// Whether the record read last, which `next_ref` lends and `next` moves out, is the sample.
    on_sample: bool,
    /// What the fast paths keep from line to line (the lexer's, passed by one reference): the
    /// name of the last line a fast path read ("" when its checks failed), whether the
    /// sample's labels own no memory, the label prefix.
    fast: FastState<'a>,
    /// Whether the fast paths for common lines are on (tests turn them off to compare).
    fast_paths: bool,
    /// Nothing pending, not stopped, and the fast paths may run: the next line may take them.
    calm: bool,
}

impl<'a> Parser<'a> {
    /// A strict parser of `input` in `format`.
    pub fn new(input: &'a [u8], format: Format) -> Parser<'a> {
        let text = simdutf8::basic::from_utf8(input).ok();
        let fast_end = match format {
            Format::Text => input.len(),
            Format::OpenMetrics => usize::MAX,
        };
        Parser {
            input,
            text: text.unwrap_or(""),
            utf8: text.is_some(),
            fast_end,
            format,
            mode: Mode::Strict,
            pos: 0,
            line: 0,
            validator: Validator::new(format, input),
            pending: VecDeque::new(),
            seen_eof: false,
            finished: false,
            failed: false,
            records: [Record::Eof, empty_sample()],
            other_borrowed: true,
            on_sample: false,
            fast: FastState::new(format),
            fast_paths: true,
            calm: text.is_some(),
        }
    }

    /// Sets what happens after an error.
    pub fn with_mode(mut self, mode: Mode) -> Parser<'a> {
        self.mode = mode;
        self
    }

    /// The same parser reading every line with the general lexer, and every bound afresh
    /// (no validator caches): for the tests and the fuzz target (feature `fuzzing`), which
    /// compare it with the fast paths. Not a stable API.
    #[cfg(any(test, feature = "fuzzing"))]
    #[doc(hidden)]
    pub fn without_fast_paths(mut self) -> Parser<'a> {
        self.fast_paths = false;
        self.calm = false;
        self.without_validator_caches()
    }

    /// The same parser with a validator that reads every bound afresh (no caches): for the
    /// tests that compare the caches with it.
    #[cfg(any(test, feature = "fuzzing"))]
    pub(crate) fn without_validator_caches(mut self) -> Parser<'a> {
        self.validator.no_bound_cache = true;
        self
    }

    /// The format being read.
    pub fn format(&self) -> Format {
        self.format
    }

    /// The 1-based line number of the record returned last (0 before the first), so a
    /// caller that refuses a record can say where it is.
    pub fn line(&self) -> u32 {
        self.line
    }

    /// The metric family of the record returned last: a number that changes whenever a new
    /// family starts, its name, type and unit (after its TYPE/UNIT lines, if any).
    pub fn current_family(&self) -> Option<FamilyInfo<'_, 'a>> {
        self.validator.family().map(|(id, f)| FamilyInfo {
            id,
            name: &f.name,
            metric_type: f.metric_type,
            unit: self.validator.unit(),
        })
    }

    fn error_at(&self, start: usize, end: usize, at: usize, kind: ErrorKind) -> ParseError {
        ParseError::at(self.line, &self.input[start..end], at, kind)
    }

    /// An error about the earlier line that starts at byte `start`.
    fn error_on_line(&self, line: u32, start: usize, kind: ErrorKind) -> ParseError {
        let end = memchr(b'\n', &self.input[start..]).map_or(self.input.len(), |n| start + n);
        ParseError::at(line, &self.input[start..end], 0, kind)
    }

    fn emit(&mut self, err: ParseError) -> Option<Result<(), ParseError>> {
        if self.mode == Mode::Strict {
            self.failed = true;
        }
        Some(Err(err))
    }

    #[inline]
    fn take_deferred(&mut self) {
        if !self.validator.deferred.is_empty() {
            self.take_deferred_errors();
        }
    }

    fn take_deferred_errors(&mut self) {
        for (line, start, kind) in std::mem::take(&mut self.validator.deferred) {
            let err = self.error_on_line(line, start, kind);
            self.pending.push_back(err);
        }
    }
}

/// The family a record belongs to, as [`Parser::current_family`] reports it.
#[derive(Debug, Clone, Copy)]
pub struct FamilyInfo<'p, 'a> {
    /// Changes whenever a new family starts.
    pub id: u64,
    /// The family name.
    pub name: &'p Cow<'a, str>,
    /// Its type, `Unknown` until a TYPE line says otherwise.
    pub metric_type: MetricType,
    /// Its unit, from a UNIT line.
    pub unit: Option<&'p Cow<'a, str>>,
}

impl<'a> Iterator for Parser<'a> {
    type Item = Result<Record<'a>, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.advance()? {
            Ok(()) => Some(Ok(if self.on_sample {
                std::mem::replace(&mut self.records[SAMPLE], empty_sample())
            } else {
                self.other_borrowed = true;
                std::mem::replace(&mut self.records[OTHER], Record::Eof)
            })),
            Err(e) => Some(Err(e)),
        }
    }
}

impl<'a> Parser<'a> {
    /// Like [`Iterator::next`], but lends the record instead of giving it away: the parser
    /// keeps it and reuses its label storage for the next sample, so reading samples this way
    /// allocates nothing per line (escaped values aside).
    ///
    /// ```
    /// use ipocket_expfmt::{Format, Parser, Record};
    /// let mut parser = Parser::new(b"a{x=\"1\"} 1\na{x=\"2\"} 2\n", Format::Text);
    /// let mut total = 0.0;
    /// while let Some(record) = parser.next_ref() {
    ///     if let Record::Sample(s) = record? {
    ///         total += s.value;
    ///     }
    /// }
    /// assert_eq!(total, 3.0);
    /// # Ok::<(), ipocket_expfmt::ParseError>(())
    /// ```
    pub fn next_ref(&mut self) -> Option<Result<&Record<'a>, ParseError>> {
        self.next_ref_inlined()
    }

    /// [`Parser::next_ref`] inlined where it is called: [`crate::parse_all`]'s loop gets its own
    /// copy of the line reader whatever else the program calls. (In a program that also used
    /// `next`, `advance` was left out of line, called once per line: 11 % more instructions on
    /// node_exporter.prom in the `ipocket` binary than in the bench of this crate alone.)
    #[inline(always)]
    pub(crate) fn next_ref_inlined(&mut self) -> Option<Result<&Record<'a>, ParseError>> {
        match self.advance()? {
            Ok(()) => Some(Ok(self.current())),
            Err(e) => Some(Err(e)),
        }
    }

    /// Reads line `input[start..end]` with the general lexer: `None` for a blank text line.
    fn lex_slow(&mut self, start: usize, end: usize) -> Result<Option<Record<'a>>, ParseError> {
        let bytes = &self.input[start..end];
        let line = match self.utf8 {
            true => &self.text[start..end],
            false => std::str::from_utf8(bytes)
                .map_err(|e| self.error_at(start, end, e.valid_up_to(), ErrorKind::InvalidUtf8))?,
        };
        if bytes.last() == Some(&b'\r') {
            return Err(self.error_at(start, end, bytes.len() - 1, ErrorKind::CarriageReturn));
        }
        let blank = match self.format {
            Format::Text => bytes.iter().all(|&b| b == b' ' || b == b'\t'),
            Format::OpenMetrics => bytes.is_empty(),
        };
        if blank {
            return match self.format {
                Format::OpenMetrics => Err(self.error_at(start, end, 0, ErrorKind::BlankLine)),
                Format::Text => Ok(None),
            };
        }
        // the sample slot's label storage, back in the slot unless the line is a sample
        let mut labels = std::mem::take(&mut self.sample_slot().labels);
        let lexed = lex_line(line, self.format, &mut labels);
        self.sample_slot().labels = labels;
        match lexed {
            Ok(record) => Ok(Some(record)),
            Err((at, kind)) => Err(self.error_at(start, end, at, kind)),
        }
    }

    /// The record read last.
    #[inline(always)]
    fn current(&self) -> &Record<'a> {
        &self.records[self.on_sample as usize]
    }

    /// Makes `record` the record read last.
    #[inline(always)]
    fn set_current(&mut self, record: Record<'a>) {
        self.on_sample = matches!(record, Record::Sample(_));
        if self.on_sample {
            self.records[SAMPLE] = record;
            self.fast.labels_borrowed = false;
        } else {
            self.records[OTHER] = record;
            self.other_borrowed = false;
        }
    }

    /// Makes `record`, which owns no memory (a fast path's), the other record read last.
    #[inline(always)]
    fn set_other_borrowed(&mut self, record: Record<'a>) {
        debug_assert!(matches!(
            &record,
            Record::Help {
                name: Cow::Borrowed(_),
                text: Cow::Borrowed(_)
            } | Record::Type {
                name: Cow::Borrowed(_),
                ..
            }
        ));
        if self.other_borrowed {
            // nothing to free: skips the out-of-line drop of the record it replaces
            std::mem::forget(std::mem::replace(&mut self.records[OTHER], record));
        } else {
            self.records[OTHER] = record;
            self.other_borrowed = true;
        }
    }

    /// The sample slot, to read a sample line into.
    #[inline(always)]
    fn sample_slot(&mut self) -> &mut Sample<'a> {
        sample_in(&mut self.records[SAMPLE])
    }

    /// Reads the next line: `Ok(())` when `current()` holds the next record. Most lines are
    /// plain samples or HELP/TYPE lines, read by the fast paths in one pass that also finds the
    /// line end; everything else (and every state but the usual one) takes the general path.
    #[inline(always)]
    fn advance(&mut self) -> Option<Result<(), ParseError>> {
        if self.calm && self.advance_fast() {
            return Some(Ok(()));
        }
        let done = self.advance_general();
        self.calm = self.fast_paths
            && self.utf8
            && !self.failed
            && !self.finished
            && !self.seen_eof
            && self.pending.is_empty();
        done
    }

    /// Reads the next line by a fast path: true when it was plain and the record is ready;
    /// false leaves the line to the general path, or its errors queued in `pending`, which
    /// the general path reports first. Only called when `calm` (nothing pending, not stopped,
    /// valid UTF-8, fast paths on).
    #[inline(always)]
    fn advance_fast(&mut self) -> bool {
        let start = self.pos;
        let text = self.text;
        // past the input's end: the general path ends it
        let Some(&first) = text.as_bytes().get(start) else {
            return false;
        };
        // never at a line's start in valid UTF-8; tells the compiler that the slice below
        // starts at a char boundary (its own test took five instructions per line)
        if (first as i8) < -0x40 {
            return false;
        }
        let rest = &text[start..];
        if first == b'#' {
            // no sample starts with '#'
            let Some(line) = lex_fast_metadata(rest, self.format, self.fast.prev_name) else {
                return false;
            };
            // checked by kind; the record is put together where it is stored (moved whole, it
            // was copied at its full size). The name made afresh for each use: a clone of the
            // Cow was 10 % more instructions on HELP/TYPE lines.
            let name = || Cow::Borrowed(line.name);
            let checked = match line.kind {
                MetadataKind::Help(text) => {
                    let checked = self.validator.check_help(name(), line.same_name, start);
                    let text = Cow::Borrowed(text);
                    self.set_other_borrowed(Record::Help { name: name(), text });
                    checked
                }
                MetadataKind::Type(metric_type) => {
                    let checked =
                        self.validator
                            .check_type(name(), metric_type, line.same_name, start);
                    self.set_other_borrowed(Record::Type {
                        name: name(),
                        metric_type,
                    });
                    checked
                }
            };
            self.on_sample = false;
            self.end_fast_line(start, line.line_end, Some(line.name), checked)
        } else {
            // (always a sample; else the general path puts one there)
            let Record::Sample(slot) = &mut self.records[SAMPLE] else {
                return false;
            };
            let Some(line) = lex_fast_sample(rest, slot, &mut self.fast) else {
                return false;
            };
            self.on_sample = true;
            // the slot already matched as a sample: no second match
            let checked = self.validator.check_sample(
                slot,
                self.fast.same_name,
                Some(line.labels_hash),
                self.line + 1,
                start,
            );
            // (the lexer put its name in `fast.prev_name`)
            self.end_fast_line(start, line.line_end.get(), None, checked)
        }
    }

    /// After a fast path read and checked the line at `start`: true when its record is
    /// ready. `name`: the line's name, `None` when the lexer already put it in `fast`.
    /// Inlined into each branch of `advance_fast` (merging them moved the line and the
    /// check's result through the stack).
    #[inline(always)]
    fn end_fast_line(
        &mut self,
        start: usize,
        len: usize,
        name: Option<&'a str>,
        checked: Result<(), LexError>,
    ) -> bool {
        let end = start + len;
        self.line += 1;
        self.pos = end + 1;
        let plain = checked.is_ok() && self.validator.deferred.is_empty() && end < self.fast_end;
        if !plain {
            let name = name.unwrap_or(self.fast.prev_name);
            let ready = self.end_line(checked, start, end, name);
            self.calm = self.pending.is_empty();
            return ready;
        }
        if let Some(name) = name {
            // a HELP or TYPE line's name, which the next line may compare instead of scanning
            self.fast.prev_name = name;
        }
        true
    }

    /// The general path: errors and end of input, then the next line with the general lexer.
    fn advance_general(&mut self) -> Option<Result<(), ParseError>> {
        loop {
            if self.failed {
                return None;
            }
            if let Some(err) = self.pending.pop_front() {
                return self.emit(err);
            }
            if self.finished {
                return None;
            }
            if self.pos >= self.input.len() {
                self.finished = true;
                self.validator.finish();
                self.take_deferred();
                if self.format == Format::OpenMetrics && !self.seen_eof {
                    let err = ParseError {
                        line: self.line.max(1),
                        column: 1,
                        kind: ErrorKind::MissingEof,
                        snippet: String::new(),
                    };
                    self.pending.push_back(err);
                }
                continue;
            }

            let start = self.pos;
            self.line += 1;
            let end = memchr(b'\n', &self.input[start..]).map_or(self.input.len(), |n| start + n);
            self.pos = end + 1;
            if self.seen_eof {
                // Only a single final line feed may follow `# EOF`.
                self.finished = true;
                let err = self.error_at(start, end, 0, ErrorKind::DataAfterEof);
                return self.emit(err);
            }
            match self.lex_slow(start, end) {
                Ok(Some(record)) => self.set_current(record),
                Ok(None) => continue,
                Err(err) => return self.emit(err),
            }
            let current = &self.records[self.on_sample as usize];
            let checked = self.validator.check(current, false, None, self.line, start);
            if self.end_line(checked, start, end, "") {
                return Some(Ok(()));
            }
            // else the next turn reports the line's error, after any about earlier lines
        }
    }

    /// After the validator checked line `input[start..end]`: true when its record is ready.
    /// Queues its error (false) after the errors the validator found about earlier lines;
    /// marks `# EOF`, queues a missing final line feed, and keeps `name` (the line's name when
    /// a fast path read it, else "") for the next line to compare.
    #[cold]
    fn end_line(
        &mut self,
        checked: Result<(), LexError>,
        start: usize,
        end: usize,
        name: &'a str,
    ) -> bool {
        self.take_deferred();
        if let Err((at, kind)) = checked {
            // the next line must not take this one's name as checked
            self.fast.prev_name = "";
            let err = self.error_at(start, end, at, kind);
            self.pending.push_back(err);
            return false;
        }
        self.fast.prev_name = name;
        let has_newline = end < self.input.len();
        match self.current() {
            Record::Eof => self.seen_eof = true,
            _ if !has_newline && self.format == Format::Text => {
                let err = self.error_at(start, end, end - start, ErrorKind::MissingFinalNewline);
                self.pending.push_back(err);
            }
            _ => {}
        }
        true
    }
}

/// The places of `Parser::records`: `on_sample as usize` is the record read last.
const OTHER: usize = 0;
const SAMPLE: usize = 1;

/// The sample in `slot` (the parser's sample record, which always holds one).
#[inline(always)]
fn sample_in<'r, 'a>(slot: &'r mut Record<'a>) -> &'r mut Sample<'a> {
    if !matches!(slot, Record::Sample(_)) {
        *slot = empty_sample(); // never: the sample place always holds a sample
    }
    match slot {
        Record::Sample(s) => s,
        _ => unreachable!("set just above"),
    }
}

/// A sample slot with nothing read into it.
fn empty_sample<'a>() -> Record<'a> {
    Record::Sample(Sample::new("", Labels::new(), 0.0))
}

/// Parses all of `input`, stopping at the first error.
///
/// ```
/// let records = ipocket_expfmt::parse(b"a 1\nb 2\n", ipocket_expfmt::Format::Text)?;
/// assert_eq!(records.len(), 2);
/// # Ok::<(), ipocket_expfmt::ParseError>(())
/// ```
pub fn parse(input: &[u8], format: Format) -> Result<Vec<Record<'_>>, ParseError> {
    Parser::new(input, format).collect()
}

/// Parses all of `input`, skipping bad lines: the records that parsed and the errors.
///
/// ```
/// let (records, errors) = ipocket_expfmt::parse_lenient(b"a 1\nb x\nc 3\n", ipocket_expfmt::Format::Text);
/// assert_eq!(records.len(), 2);
/// assert_eq!(errors[0].line, 2);
/// ```
pub fn parse_lenient(input: &[u8], format: Format) -> (Vec<Record<'_>>, Vec<ParseError>) {
    let mut records = Vec::new();
    let mut errors = Vec::new();
    for item in Parser::new(input, format).with_mode(Mode::Lenient) {
        match item {
            Ok(r) => records.push(r),
            Err(e) => errors.push(e),
        }
    }
    (records, errors)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MetricType;
    use proptest::prelude::*;

    /// What a parser yields, item by item, with the family it reports after each.
    type Outcome<'a> = Vec<(
        Result<Record<'a>, ParseError>,
        Option<(u64, String, MetricType, Option<String>)>,
    )>;

    fn outcome(parser: &mut Parser<'_>) -> Outcome<'static> {
        let mut out = Vec::new();
        while let Some(item) = parser.next_ref() {
            let item = item.map(|r| r.clone().into_owned());
            let family = parser.current_family().map(|f| {
                let unit = f.unit.map(|u| u.to_string());
                (f.id, f.name.to_string(), f.metric_type, unit)
            });
            out.push((item, family));
        }
        out
    }

    /// The fast paths change nothing: same records, same errors (line, column, kind,
    /// snippet), same families, in both formats and modes, through `next_ref` and `next`.
    fn fast_paths_agree(input: &[u8]) -> Result<(), TestCaseError> {
        for format in [Format::Text, Format::OpenMetrics] {
            for mode in [Mode::Strict, Mode::Lenient] {
                let fast = outcome(&mut Parser::new(input, format).with_mode(mode));
                let general = outcome(
                    &mut Parser::new(input, format)
                        .with_mode(mode)
                        .without_fast_paths(),
                );
                prop_assert_eq!(&fast, &general, "{:?} {:?}", format, mode);
                let owned: Vec<_> = Parser::new(input, format)
                    .with_mode(mode)
                    .map(|r| r.map(Record::into_owned))
                    .collect();
                let lent: Vec<_> = fast.into_iter().map(|(r, _)| r).collect();
                prop_assert_eq!(owned, lent);
            }
        }
        Ok(())
    }

    /// Lines of every kind, mostly well-formed, some not, for a few related families.
    fn exposition() -> impl Strategy<Value = String> {
        // long names too (16 bytes and more), some differing in one byte, for the comparison of a
        // line's name with the previous line's
        let name = "(a|a_total|a_bucket|a_count|a_sum|a_created|b|b_info|c_gsum|a_long_family_name_17|a_long_family_name_18|a_long_family_name_17_sum)";
        let labels = prop::option::of(prop::collection::vec(
            (
                "(le|quantile|x|y|a)",
                "(0\\.5|1|\\+Inf|v|w\\\\n|)",
                "(=|=  | =)",
            )
                .prop_map(|(n, v, eq)| format!("{n}{eq}\"{v}\"")),
            0..5,
        ))
        .prop_map(|l| {
            l.map(|l| format!("{{{}}}", l.join(",")))
                .unwrap_or_default()
        });
        let sample = (
            name,
            labels,
            "( |  |\t)",
            "(0|1|2|-1|1.5|NaN|\\+Inf|x)",
            "( 1700000000000| 17| x|)",
            "( # \\{t=\"1\"\\} 1|)",
        )
            .prop_map(|(n, l, sep, v, ts, ex)| format!("{n}{l}{sep}{v}{ts}{ex}"));
        let metadata = (
            "# (HELP|TYPE|UNIT)( |  )",
            name,
            "( |  |\t)",
            "(counter|gauge|histogram|summary|untyped|unknown|info|stateset|gaugehistogram|Some text\\.|x\\\\ny|seconds|)",
        )
            .prop_map(|(h, n, sep, t)| format!("{h}{n}{sep}{t}"));
        let line = prop_oneof![
            6 => sample,
            4 => metadata,
            1 => "(# a comment|#|# EOF|| |\"q\" 1)",
        ];
        let line = (line, "(|\r| )").prop_map(|(l, tail)| format!("{l}{tail}"));
        (prop::collection::vec(line, 0..24), "(\n|)").prop_map(|(lines, last)| {
            let mut s = lines.join("\n");
            s.push_str(&last);
            s
        })
    }

    /// Histogram-like runs whose lines repeat the line before up to its last label (the
    /// lexer's `LabelPrefix`), or nearly: a byte changed in the name or a label, labels out of
    /// order or repeated, empty and escaped values, other lines in between.
    fn repeated_label_prefixes() -> impl Strategy<Value = String> {
        let name = "(h_bucket|h_bucket|h_bucket|h_bucket_|h_count|g)";
        let prefix = "(a=\"1\",b=\"2\",|a=\"1\",b=\"3\",|a=\"1\",b=\"2\",c=\"long value past 16 bytes\",\
            |b=\"1\",a=\"2\",|a=\"1\",a=\"1\",|a=\"\",b=\"2\",|a=\"1\\\\n\",b=\"2\",|a=\"1\",|a=\"1\" ,|)";
        let last = "(le=\"0\\.5\"|le=\"1\"|le=\"\\+Inf\"|z=\"\"|a=\"9\"|b=\"9\"|__name__=\"x\"|le=\"1\\\\n\"|le=1)";
        let sample = (name, prefix, last, "(0|1|2\\.5|x)")
            .prop_map(|(n, p, l, v)| format!("{n}{{{p}{l}}} {v}"));
        let line = prop_oneof![
            12 => sample,
            1 => "(# TYPE h histogram|# HELP h_bucket x|# a comment|| |h_bucket 1|h_bucket\\{\\} 1)",
        ];
        (prop::collection::vec(line, 0..24), "(\n|)").prop_map(|(lines, last)| {
            let mut s = lines.join("\n");
            s.push_str(&last);
            s
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 1500, ..ProptestConfig::default() })]

        #[test]
        fn fast_paths_agree_on_generated_expositions(input in exposition()) {
            fast_paths_agree(input.as_bytes())?;
        }

        #[test]
        fn fast_paths_agree_on_repeated_label_prefixes(input in repeated_label_prefixes()) {
            fast_paths_agree(input.as_bytes())?;
        }

        #[test]
        fn fast_paths_agree_on_mutated_scrapes(
            edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0..3u8), 1..8)
        ) {
            let mut input = std::fs::read(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../shared/corpus/node_exporter.prom"
            ))
            .expect("the shipped corpus is at ../shared/corpus");
            input.truncate(6000);
            for (at, byte, op) in edits {
                let i = at.index(input.len());
                match op {
                    0 => input[i] = byte,
                    1 => input.insert(i, byte),
                    _ => {
                        input.remove(i);
                    }
                }
            }
            fast_paths_agree(&input)?;
        }
    }

    #[test]
    fn a_fast_sample_after_one_with_owned_labels_drops_them() {
        // The general lexer's sample owns its unescaped value; the fast path's clear must
        // drop it (a debug assertion checks the fast path's word that labels are borrowed).
        let input = b"a{b=\"x\\ny\"} 1\na{b=\"c\"} 2\na{b=\"d\"} 3\n";
        let mut parser = Parser::new(input, Format::Text);
        let mut values = Vec::new();
        while let Some(record) = parser.next_ref() {
            if let Record::Sample(s) = record.unwrap() {
                values.push(s.labels[0].value.to_string());
            }
        }
        assert_eq!(values, ["x\ny", "c", "d"]);
        fast_paths_agree(input).unwrap();
    }

    #[test]
    fn a_sample_that_fails_validation_does_not_lend_its_family() {
        // Line 3 fails; line 4, named like line 2, is a bucket again (not a count like line
        // 3), so line 5's count is checked against its +Inf bucket.
        let input = b"# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_count 2\n\
            h_bucket{le=\"+Inf\",x=\"y\"} 1\nh_count{x=\"y\"} 5\n";
        let (_, errors) = crate::parse_lenient(input, Format::Text);
        let lines: Vec<u32> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, [3, 5], "{errors:?}");
        fast_paths_agree(input).unwrap();
    }

    #[test]
    fn metadata_named_like_the_previous_line_agrees() {
        // A HELP/TYPE line named like the previous line compares names instead of scanning:
        // after a sample of its family (named with a suffix, or not) it is no HELP/TYPE pair.
        for input in [
            "# TYPE a summary\na_count 1\n# TYPE a_count gauge\n",
            "# TYPE a summary\na_count 1\n# HELP a_count x\n",
            "# TYPE a gauge\na 1\n# HELP a x\n",
            "# HELP a x\n# TYPE a gauge\na 1\n# TYPE a gauge\n",
            "# HELP a x\n# HELP a y\n",
            "# HELP a x\n# TYPE a_total counter\n# TYPE a counter\n",
            "# HELP a_long_family_name_17 x\n# TYPE a_long_family_name_17 histogram\n\
             a_long_family_name_17_sum 1\n# TYPE a_long_family_name_17_sum gauge\n",
            "# HELP a_long_family_name_17 x\n# TYPE a_long_family_name_18 gauge\n",
            // a sample named like its TYPE line: bare where the type allows it
            "# TYPE a histogram\na 1\n",
            "# TYPE a gaugehistogram\na 1\n",
            "# TYPE a counter\na 1\na_total 2\n",
            "# TYPE a summary\na{quantile=\"0.5\"} 1\na 2\na_count 1\n",
            "# TYPE a info\na 1\n# TYPE b stateset\nb{b=\"x\"} 1\n",
            "# TYPE a gauge\n# HELP a x\na 1\na 2\n",
            "# TYPE a gauge\n# TYPE a counter\na 1\n",
            "# TYPE a gauge\n\na{x=\"1\"} 1\n# EOF\n",
        ] {
            fast_paths_agree(input.as_bytes()).unwrap();
        }
    }

    #[test]
    fn many_labels_and_repeated_names_agree() {
        // more labels than the fast path keeps places for, and repeated names out of order
        let many: Vec<String> = (0..20).map(|i| format!("l{i:02}=\"{i}\"")).collect();
        let input = format!(
            "m{{{}}} 1\nm{{b=\"1\",a=\"2\",b=\"3\"}} 2\nm{{le=\"1\",a=\"2\"}} 3\n",
            many.join(",")
        );
        let records = crate::parse_lenient(input.as_bytes(), Format::Text);
        assert_eq!(records.0.len(), 2, "{records:?}");
        fast_paths_agree(input.as_bytes()).unwrap();
    }

    #[test]
    fn fast_paths_agree_on_the_corpus() {
        for file in ["node_exporter.prom", "prometheus_self.prom"] {
            let path = format!("{}/../../shared/corpus/{file}", env!("CARGO_MANIFEST_DIR"));
            let input = std::fs::read(&path).expect("the shipped corpus is at ../shared/corpus");
            fast_paths_agree(&input).unwrap();
        }
    }
}
