//! The streaming parser: an iterator of records over a byte buffer.

use std::borrow::Cow;
use std::collections::VecDeque;

use memchr::memchr;

use crate::error::{ErrorKind, ParseError};
use crate::lexer::{lex_fast_sample, lex_line};
use crate::record::{Labels, MetricType, Record};
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
    /// The whole input when it is valid UTF-8, so lines are sliced without checking again.
    text: Option<&'a str>,
    format: Format,
    mode: Mode,
    pos: usize,
    line: u32,
    validator: Validator<'a>,
    pending: VecDeque<ParseError>,
    seen_eof: bool,
    finished: bool,
    failed: bool,
    /// The record `next_ref` lent last.
    lent: Option<Record<'a>>,
}

impl<'a> Parser<'a> {
    /// A strict parser of `input` in `format`.
    pub fn new(input: &'a [u8], format: Format) -> Parser<'a> {
        Parser {
            input,
            text: simdutf8::basic::from_utf8(input).ok(),
            format,
            mode: Mode::Strict,
            pos: 0,
            line: 0,
            validator: Validator::new(format, input),
            pending: VecDeque::new(),
            seen_eof: false,
            finished: false,
            failed: false,
            lent: None,
        }
    }

    /// Sets what happens after an error.
    pub fn with_mode(mut self, mode: Mode) -> Parser<'a> {
        self.mode = mode;
        self
    }

    /// The format being read.
    pub fn format(&self) -> Format {
        self.format
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

    fn emit(&mut self, err: ParseError) -> Option<Result<Record<'a>, ParseError>> {
        if self.mode == Mode::Strict {
            self.failed = true;
        }
        Some(Err(err))
    }

    fn take_deferred(&mut self) {
        if self.validator.deferred.is_empty() {
            return;
        }
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
        let mut spare = self.take_spare();
        self.advance(&mut spare)
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
        let mut spare = self.take_spare();
        match self.advance(&mut spare)? {
            Ok(record) => Some(Ok(self.lent.insert(record))),
            Err(e) => Some(Err(e)),
        }
    }

    /// Reads line `input[start..end]` with the general lexer: `None` for a blank text line.
    fn lex_slow(
        &mut self,
        start: usize,
        end: usize,
        spare: &mut Labels<'a>,
    ) -> Result<Option<(Record<'a>, Option<&'a str>)>, ParseError> {
        let bytes = &self.input[start..end];
        let line = match self.text {
            Some(text) => &text[start..end],
            None => std::str::from_utf8(bytes)
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
        match lex_line(line, self.format, spare) {
            Ok(lexed) => Ok(Some((lexed.record, lexed.canonical_series))),
            Err((at, kind)) => Err(self.error_at(start, end, at, kind)),
        }
    }

    /// The label storage of the record lent last, emptied, for the next sample.
    fn take_spare(&mut self) -> Labels<'a> {
        match self.lent.take() {
            Some(Record::Sample(s)) => s.labels,
            _ => Labels::new(),
        }
    }

    fn advance(&mut self, spare: &mut Labels<'a>) -> Option<Result<Record<'a>, ParseError>> {
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
            if self.seen_eof {
                // Only a single final line feed may follow `# EOF`.
                self.finished = true;
                let end =
                    memchr(b'\n', &self.input[start..]).map_or(self.input.len(), |n| start + n);
                let err = self.error_at(start, end, 0, ErrorKind::DataAfterEof);
                return self.emit(err);
            }

            // Most lines are canonical samples: read those in one pass that also finds the
            // line end, and fall back to the general lexer for everything else.
            let fast = match self.text {
                Some(text) => lex_fast_sample(&text[start..], self.format, spare),
                None => None,
            };
            let (record, canonical_series, end) = match fast {
                Some((line, len)) => (line.record, line.canonical_series, start + len),
                None => {
                    let end =
                        memchr(b'\n', &self.input[start..]).map_or(self.input.len(), |n| start + n);
                    match self.lex_slow(start, end, spare) {
                        Ok(Some((record, canonical_series))) => (record, canonical_series, end),
                        Ok(None) => {
                            self.pos = end + 1;
                            continue;
                        }
                        Err(err) => {
                            self.pos = end + 1;
                            return self.emit(err);
                        }
                    }
                }
            };
            self.pos = end + 1;
            let has_newline = end < self.input.len();
            let checked = self
                .validator
                .check(&record, canonical_series, self.line, start, end);
            self.take_deferred();
            if let Err((at, kind)) = checked {
                let err = self.error_at(start, end, at, kind);
                return self.emit(err);
            }
            match record {
                Record::Eof => self.seen_eof = true,
                _ if !has_newline && self.format == Format::Text => {
                    let err =
                        self.error_at(start, end, end - start, ErrorKind::MissingFinalNewline);
                    self.pending.push_back(err);
                }
                _ => {}
            }
            return Some(Ok(record));
        }
    }
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
