//! Located parse errors.

use std::fmt;

/// What went wrong, without the location.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The input is not valid UTF-8 at this point.
    InvalidUtf8,
    /// A carriage return: both formats end lines with a bare line feed.
    CarriageReturn,
    /// The text format requires the last line to end with a line feed.
    MissingFinalNewline,
    /// OpenMetrics forbids blank lines.
    BlankLine,
    /// OpenMetrics input must end with `# EOF`.
    MissingEof,
    /// Something follows `# EOF`.
    DataAfterEof,
    /// A `#` line that OpenMetrics does not allow (only HELP, TYPE, UNIT and EOF are).
    InvalidComment,
    /// A metric name is missing or malformed.
    InvalidMetricName,
    /// A label name is missing or malformed.
    InvalidLabelName,
    /// A label named `__name__`: the metric name goes before the braces or quoted inside them.
    ReservedLabelName(String),
    /// The same label name appears twice in one label set.
    DuplicateLabelName(String),
    /// A metric name was given twice (outside and inside the braces, or twice inside).
    MetricNameAlreadySet,
    /// `{}` without a metric name.
    MissingMetricName,
    /// A specific character was expected.
    Expected(&'static str),
    /// A quoted string has no closing quote on its line.
    UnterminatedString,
    /// A backslash escape the format does not define.
    InvalidEscape(char),
    /// A line feed inside a quoted string.
    NewlineInString,
    /// The sample value is missing.
    MissingValue,
    /// The sample value is not a number as the format defines it.
    InvalidValue(&'static str),
    /// The timestamp is not an integer (text) or a real number (OpenMetrics), or out of range.
    InvalidTimestamp(&'static str),
    /// Tokens after the timestamp.
    TrailingData,
    /// Whitespace the format does not allow (OpenMetrics: exactly one space between tokens).
    InvalidWhitespace,
    /// A TYPE line with a type the format does not know.
    InvalidType(String),
    /// A second HELP, TYPE or UNIT line for the same family.
    DuplicateMetadata(&'static str),
    /// HELP, TYPE or UNIT after the family's first sample.
    MetadataAfterSamples(&'static str),
    /// A family continues after another one started.
    InterleavedFamily(String),
    /// The same series appears twice (or, in OpenMetrics, with a timestamp that goes back).
    DuplicateSeries {
        /// Line of the first occurrence.
        first_line: u32,
    },
    /// Two families whose sample names would collide (`a_created` gauge beside counter `a`).
    NameClash(String),
    /// A UNIT that is not a suffix of the family name.
    UnitNotSuffix,
    /// A unit on a family type that cannot have one.
    UnitNotAllowed,
    /// An exemplar where the format does not allow one.
    ExemplarNotAllowed,
    /// An exemplar label set longer than 128 code points.
    ExemplarTooLong,
    /// A sample name that does not belong to its family's type (e.g. a counter without `_total`).
    InvalidSampleName(String),
    /// A value that the family's type rules out (negative counter, bucket not cumulative, …).
    InvalidForType(String),
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use ErrorKind::*;
        match self {
            InvalidUtf8 => f.write_str("invalid UTF-8"),
            CarriageReturn => f.write_str("carriage return: lines must end with a bare line feed"),
            MissingFinalNewline => f.write_str("the last line does not end with a line feed"),
            BlankLine => f.write_str("blank line (not allowed in OpenMetrics)"),
            MissingEof => f.write_str("OpenMetrics input does not end with \"# EOF\""),
            DataAfterEof => f.write_str("data after \"# EOF\""),
            InvalidComment => f.write_str(
                "comment lines are not allowed in OpenMetrics (only # HELP, # TYPE, # UNIT, # EOF)",
            ),
            InvalidMetricName => f.write_str("invalid metric name"),
            InvalidLabelName => f.write_str("invalid label name"),
            ReservedLabelName(n) => write!(f, "label name {n:?} is reserved"),
            DuplicateLabelName(n) => write!(f, "duplicate label name {n:?}"),
            MetricNameAlreadySet => f.write_str("metric name already set"),
            MissingMetricName => f.write_str("metric name missing"),
            Expected(what) => write!(f, "expected {what}"),
            UnterminatedString => f.write_str("unterminated quoted string"),
            InvalidEscape(c) => write!(f, "invalid escape sequence \\{}", c.escape_debug()),
            NewlineInString => f.write_str("line feed inside a quoted string (write it as \\n)"),
            MissingValue => f.write_str("expected a value after the metric"),
            InvalidValue(why) => write!(f, "invalid value: {why}"),
            InvalidTimestamp(why) => write!(f, "invalid timestamp: {why}"),
            TrailingData => f.write_str("unexpected data after the value and timestamp"),
            InvalidWhitespace => {
                f.write_str("OpenMetrics separates tokens with exactly one space, no tabs")
            }
            InvalidType(t) => write!(f, "invalid metric type {t:?}"),
            DuplicateMetadata(what) => write!(f, "second {what} line for the same metric family"),
            MetadataAfterSamples(what) => {
                write!(f, "{what} line after the samples of its metric family")
            }
            InterleavedFamily(n) => write!(
                f,
                "samples of metric family {n:?} are not together (another family came between)"
            ),
            DuplicateSeries { first_line } => {
                write!(f, "duplicate series (first seen on line {first_line})")
            }
            NameClash(other) => write!(f, "metric family name clashes with family {other:?}"),
            UnitNotSuffix => f.write_str("the unit must be a suffix of the metric family name"),
            UnitNotAllowed => f.write_str("info and stateset families cannot have a unit"),
            ExemplarNotAllowed => f.write_str(
                "exemplars are allowed only on counter _total and histogram _bucket samples",
            ),
            ExemplarTooLong => {
                f.write_str("exemplar label set is longer than 128 UTF-8 code points")
            }
            InvalidSampleName(why) => f.write_str(why),
            InvalidForType(why) => f.write_str(why),
        }
    }
}

/// A parse error with its place in the input: 1-based line and column (in characters).
///
/// `Display` gives `line L, column C: message` followed by the offending line, quoted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// 1-based line number.
    pub line: u32,
    /// 1-based column, counted in Unicode code points.
    pub column: u32,
    /// What went wrong.
    pub kind: ErrorKind,
    /// The offending line (shortened around the column when long).
    pub snippet: String,
}

/// A parse error is bad input: [`ipocket_errors::ErrorKind::Invalid`]. (The field
/// `kind` says which rule of the format was broken.)
impl ipocket_errors::Classify for ParseError {
    fn kind(&self) -> ipocket_errors::ErrorKind {
        ipocket_errors::ErrorKind::Invalid
    }
}

impl std::error::Error for ParseError {}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.kind
        )?;
        if !self.snippet.is_empty() {
            write!(f, ": {:?}", self.snippet)?;
        }
        Ok(())
    }
}

const SNIPPET_MAX: usize = 80;

impl ParseError {
    /// Builds an error for byte offset `at` of `line_text` (line number `line`).
    pub(crate) fn at(line: u32, line_text: &[u8], at: usize, kind: ErrorKind) -> ParseError {
        let at = at.min(line_text.len());
        let text = String::from_utf8_lossy(line_text);
        let prefix = String::from_utf8_lossy(&line_text[..at]);
        let column = prefix.chars().count() as u32 + 1;
        ParseError {
            line,
            column,
            kind,
            snippet: shorten(&text, column as usize - 1),
        }
    }
}

/// Keeps at most `SNIPPET_MAX` characters of `text`, centred on character `col`.
fn shorten(text: &str, col: usize) -> String {
    let n = text.chars().count();
    if n <= SNIPPET_MAX {
        return text.to_owned();
    }
    let start = col.saturating_sub(SNIPPET_MAX / 2).min(n - SNIPPET_MAX);
    let mut s: String = text.chars().skip(start).take(SNIPPET_MAX).collect();
    if start > 0 {
        s.insert(0, '…');
    }
    if start + SNIPPET_MAX < n {
        s.push('…');
    }
    s
}
