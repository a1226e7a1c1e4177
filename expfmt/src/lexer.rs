//! One line of input to one [`Record`]: the grammar of both formats, without the rules that
//! need context (those are in `validate`). Errors carry the byte offset in the line.

use std::borrow::Cow;

use crate::error::ErrorKind;
use crate::escape::{find_closing_quote, unescape_help, unescape_quoted};
use crate::number::{parse_om_timestamp, parse_text_timestamp, parse_value};
use crate::record::{Exemplar, Label, Labels, MetricType, Record, Sample};
use crate::Format;

/// A syntax error: byte offset in the line and what is wrong there.
pub(crate) type LexError = (usize, ErrorKind);
type Lexed<T> = Result<T, LexError>;

const NAME_START: u8 = 1; // [a-zA-Z_:]
const NAME: u8 = 2; // [a-zA-Z0-9_:]
const LABEL_START: u8 = 4; // [a-zA-Z_]
const LABEL: u8 = 8; // [a-zA-Z0-9_]
const BLANK: u8 = 16; // space, tab

static CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        let alpha = b.is_ascii_alphabetic() || b == b'_';
        if alpha {
            t[c] |= NAME_START | NAME | LABEL_START | LABEL;
        }
        if b.is_ascii_digit() {
            t[c] |= NAME | LABEL;
        }
        if b == b':' {
            t[c] |= NAME_START | NAME;
        }
        if b == b' ' || b == b'\t' {
            t[c] |= BLANK;
        }
        c += 1;
    }
    t
};

/// Whether `s` is a metric name that needs no quoting: `[a-zA-Z_:][a-zA-Z0-9_:]*`.
pub fn is_legacy_metric_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && CLASS[b[0] as usize] & NAME_START != 0
        && b[1..].iter().all(|&c| CLASS[c as usize] & NAME != 0)
}

/// Whether `s` is a label name that needs no quoting: `[a-zA-Z_][a-zA-Z0-9_]*`.
pub fn is_legacy_label_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && CLASS[b[0] as usize] & LABEL_START != 0
        && b[1..].iter().all(|&c| CLASS[c as usize] & LABEL != 0)
}

/// Reads one line (without its line feed, not blank) in `format`.
#[inline]
pub(crate) fn lex_line(line: &str, format: Format) -> Lexed<Record<'_>> {
    let mut lx = Lexer {
        s: line,
        b: line.as_bytes(),
        pos: 0,
        om: format == Format::OpenMetrics,
    };
    if lx.om {
        if lx.peek_class(BLANK) {
            return Err((0, ErrorKind::InvalidWhitespace));
        }
    } else {
        lx.skip_blanks();
    }
    if lx.peek() == Some(b'#') {
        if lx.om {
            lx.om_comment()
        } else {
            lx.text_comment()
        }
    } else {
        lx.sample().map(Record::Sample)
    }
}

struct Lexer<'a> {
    s: &'a str,
    b: &'a [u8],
    pos: usize,
    om: bool,
}

impl<'a> Lexer<'a> {
    #[inline(always)]
    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    #[inline(always)]
    fn peek_class(&self, class: u8) -> bool {
        self.peek().is_some_and(|c| CLASS[c as usize] & class != 0)
    }

    #[inline(always)]
    fn at_end(&self) -> bool {
        self.pos >= self.b.len()
    }

    #[inline(always)]
    fn skip_blanks(&mut self) {
        while self.peek_class(BLANK) {
            self.pos += 1;
        }
    }

    /// Text format: any run of blanks. OpenMetrics: nothing (callers use `separator`).
    #[inline(always)]
    fn skip_inner_blanks(&mut self) {
        if !self.om {
            self.skip_blanks();
        }
    }

    fn err<T>(&self, kind: ErrorKind) -> Lexed<T> {
        Err((self.pos, kind))
    }

    /// Consumes the separator between two tokens: one or more blanks (text) or exactly one
    /// space (OpenMetrics). Returns false when there is none.
    #[inline(always)]
    fn separator(&mut self) -> Lexed<bool> {
        if self.om {
            match self.peek() {
                Some(b' ') => {
                    self.pos += 1;
                    if self.peek_class(BLANK) {
                        return self.err(ErrorKind::InvalidWhitespace);
                    }
                    Ok(true)
                }
                Some(b'\t') => self.err(ErrorKind::InvalidWhitespace),
                _ => Ok(false),
            }
        } else {
            let start = self.pos;
            self.skip_blanks();
            Ok(self.pos > start)
        }
    }

    /// A bare token up to the next blank or the end of the line.
    #[inline(always)]
    fn token(&mut self) -> &'a [u8] {
        let start = self.pos;
        while self.pos < self.b.len() && CLASS[self.b[self.pos] as usize] & BLANK == 0 {
            self.pos += 1;
        }
        &self.b[start..self.pos]
    }

    #[inline(always)]
    fn metric_name(&mut self) -> Lexed<&'a str> {
        let start = self.pos;
        if !self.peek_class(NAME_START) {
            return self.err(ErrorKind::InvalidMetricName);
        }
        self.pos += 1;
        while self.peek_class(NAME) {
            self.pos += 1;
        }
        Ok(&self.s[start..self.pos])
    }

    #[inline(always)]
    fn label_name(&mut self) -> Lexed<&'a str> {
        let start = self.pos;
        if !self.peek_class(LABEL_START) {
            return self.err(ErrorKind::InvalidLabelName);
        }
        self.pos += 1;
        while self.peek_class(LABEL) {
            self.pos += 1;
        }
        Ok(&self.s[start..self.pos])
    }

    /// A `"…"` string at the cursor, unescaped.
    #[inline(always)]
    fn quoted(&mut self) -> Lexed<Cow<'a, str>> {
        debug_assert_eq!(self.peek(), Some(b'"'));
        let open = self.pos;
        let Some((close, escaped)) = find_closing_quote(self.b, open + 1) else {
            return Err((open, ErrorKind::UnterminatedString));
        };
        let raw = &self.s[open + 1..close];
        self.pos = close + 1;
        if !escaped {
            return Ok(Cow::Borrowed(raw));
        }
        let format = if self.om {
            Format::OpenMetrics
        } else {
            Format::Text
        };
        unescape_quoted(raw, format).map_err(|at| {
            let c = raw[at + 1..].chars().next().unwrap_or('\\');
            (open + 1 + at, ErrorKind::InvalidEscape(c))
        })
    }

    /// A metric name in a HELP/TYPE/UNIT line: bare or quoted.
    fn metadata_name(&mut self) -> Lexed<Cow<'a, str>> {
        match self.peek() {
            Some(b'"') => self.quoted(),
            _ => self.metric_name().map(Cow::Borrowed),
        }
    }

    fn sample(&mut self) -> Lexed<Sample<'a>> {
        let name_at = self.pos;
        let mut name = match self.peek() {
            Some(b'{') => None,
            _ => Some(Cow::Borrowed(self.metric_name()?)),
        };
        let mut labels = Labels::new();
        let before_blanks = self.pos;
        self.skip_inner_blanks();
        if self.peek() == Some(b'{') {
            self.labels(&mut labels, Some(&mut name))?;
        } else {
            self.pos = before_blanks; // the blanks separate the value
        }
        let Some(name) = name else {
            return Err((name_at, ErrorKind::MissingMetricName));
        };

        // The value: after a separator, or right after `}` in the text format.
        let after_braces = self.pos > 0 && self.b[self.pos - 1] == b'}';
        let had_separator = self.separator()?;
        if self.at_end() {
            return self.err(ErrorKind::MissingValue);
        }
        if !had_separator && (self.om || !after_braces) {
            return self.err(if after_braces {
                ErrorKind::Expected("a space before the value")
            } else {
                ErrorKind::InvalidMetricName
            });
        }
        let value_at = self.pos;
        let tok = self.token();
        let value = parse_value(tok).map_err(|why| (value_at, self.value_error(tok, why)))?;

        let mut sample = Sample {
            name,
            labels,
            value,
            timestamp_ms: None,
            exemplar: None,
        };
        if !self.next_token()? {
            return Ok(sample);
        }
        if self.om && self.peek() == Some(b'#') {
            sample.exemplar = Some(Box::new(self.exemplar()?));
            return Ok(sample);
        }
        let ts_at = self.pos;
        let tok = self.token();
        sample.timestamp_ms = Some(self.timestamp(tok).map_err(|e| (ts_at, e))?);
        if !self.next_token()? {
            return Ok(sample);
        }
        if self.om && self.peek() == Some(b'#') {
            sample.exemplar = Some(Box::new(self.exemplar()?));
            return Ok(sample);
        }
        self.err(ErrorKind::TrailingData)
    }

    /// After a token: true when another token follows its separator, false at the end of the
    /// line (OpenMetrics refuses a trailing space).
    #[inline(always)]
    fn next_token(&mut self) -> Lexed<bool> {
        let separated = self.separator()?;
        if self.at_end() {
            return if separated && self.om {
                self.err(ErrorKind::InvalidWhitespace)
            } else {
                Ok(false)
            };
        }
        Ok(true)
    }

    fn value_error(&self, tok: &[u8], why: &'static str) -> ErrorKind {
        if self.om && tok.contains(&b'\t') {
            ErrorKind::InvalidWhitespace
        } else {
            ErrorKind::InvalidValue(why)
        }
    }

    fn timestamp(&self, tok: &[u8]) -> Result<i64, ErrorKind> {
        if self.om {
            parse_om_timestamp(tok).map_err(ErrorKind::InvalidTimestamp)
        } else {
            parse_text_timestamp(tok).map_err(ErrorKind::InvalidTimestamp)
        }
    }

    /// `{…}` at the cursor. With `name`, a quoted string without `=` sets the metric name.
    fn labels(
        &mut self,
        labels: &mut Labels<'a>,
        mut name: Option<&mut Option<Cow<'a, str>>>,
    ) -> Lexed<()> {
        self.pos += 1; // '{'
        let mut sorted = true;
        loop {
            self.skip_inner_blanks();
            let item_at = self.pos;
            let label_name = match self.peek() {
                Some(b'}') => {
                    // `{}`, or `,}` in the text format (OpenMetrics refuses it in end_of_item)
                    self.pos += 1;
                    break;
                }
                Some(b'"') => {
                    let quoted = self.quoted()?;
                    self.skip_inner_blanks();
                    if self.peek() != Some(b'=') {
                        match name.as_deref_mut() {
                            Some(slot @ None) => *slot = Some(quoted),
                            Some(Some(_)) => {
                                return Err((item_at, ErrorKind::MetricNameAlreadySet))
                            }
                            None => return self.err(ErrorKind::Expected("'='")),
                        }
                        if self.end_of_item()? {
                            break;
                        }
                        continue;
                    }
                    quoted
                }
                _ => Cow::Borrowed(self.label_name()?),
            };
            self.skip_inner_blanks();
            if self.peek() != Some(b'=') {
                return self.err(ErrorKind::Expected("'='"));
            }
            self.pos += 1;
            self.skip_inner_blanks();
            if self.peek() != Some(b'"') {
                return self.err(ErrorKind::Expected("a quoted label value"));
            }
            let value = self.quoted()?;
            if label_name == "__name__" {
                return Err((item_at, ErrorKind::ReservedLabelName("__name__".into())));
            }
            if let Some(prev) = labels.last() {
                sorted &= name_lt(&prev.name, &label_name);
            }
            labels.push(Label {
                name: label_name,
                value,
            });
            if self.end_of_item()? {
                break;
            }
        }
        if !sorted {
            check_unique_names(labels).map_err(|name| (self.pos - 1, name))?;
        }
        Ok(())
    }

    /// After a label: `,` (then more, or `}` in the text format) or `}`. True at `}`.
    #[inline(always)]
    fn end_of_item(&mut self) -> Lexed<bool> {
        self.skip_inner_blanks();
        match self.peek() {
            Some(b',') => {
                self.pos += 1;
                if self.om && self.peek() == Some(b'}') {
                    return self.err(ErrorKind::InvalidLabelName);
                }
                Ok(false)
            }
            Some(b'}') => {
                self.pos += 1;
                Ok(true)
            }
            Some(_) => self.err(ErrorKind::Expected("',' or '}'")),
            None => self.err(ErrorKind::Expected("'}'")),
        }
    }

    fn exemplar(&mut self) -> Lexed<Exemplar<'a>> {
        // at '#'
        self.pos += 1;
        if !self.separator()? || self.peek() != Some(b'{') {
            return self.err(ErrorKind::Expected(
                "' {' after '#' (an exemplar needs a label set)",
            ));
        }
        let labels_at = self.pos;
        let mut labels = Labels::new();
        self.labels(&mut labels, None)?;
        let length: usize = labels
            .iter()
            .map(|l| l.name.chars().count() + l.value.chars().count())
            .sum();
        if length > 128 {
            return Err((labels_at, ErrorKind::ExemplarTooLong));
        }
        if !self.separator()? || self.at_end() {
            return self.err(ErrorKind::Expected("the exemplar value"));
        }
        let value_at = self.pos;
        let tok = self.token();
        let value = parse_value(tok).map_err(|why| (value_at, self.value_error(tok, why)))?;
        let mut exemplar = Exemplar {
            labels,
            value,
            timestamp_ms: None,
        };
        if self.next_token()? {
            let ts_at = self.pos;
            let tok = self.token();
            exemplar.timestamp_ms = Some(self.timestamp(tok).map_err(|e| (ts_at, e))?);
            if self.next_token()? {
                return self.err(ErrorKind::TrailingData);
            }
        }
        Ok(exemplar)
    }

    fn text_comment(&mut self) -> Lexed<Record<'a>> {
        self.pos += 1; // '#'
        let body = &self.s[self.pos..];
        let keyword_at = {
            let start = self.pos;
            self.skip_blanks();
            if self.pos == start {
                return Ok(Record::Comment(Cow::Borrowed(body)));
            }
            self.pos
        };
        let rest = &self.b[keyword_at..];
        let is_kw = |kw: &[u8]| {
            rest.starts_with(kw)
                && rest
                    .get(kw.len())
                    .is_some_and(|&c| CLASS[c as usize] & BLANK != 0)
        };
        if is_kw(b"HELP") {
            self.pos = keyword_at + 4;
            self.skip_blanks();
            let name = self.metadata_name()?;
            let text = if self.at_end() {
                Cow::Borrowed("")
            } else {
                if !self.separator()? {
                    return self.err(ErrorKind::InvalidMetricName);
                }
                unescape_help(&self.s[self.pos..], Format::Text)
            };
            Ok(Record::Help { name, text })
        } else if is_kw(b"TYPE") {
            self.pos = keyword_at + 4;
            self.skip_blanks();
            let name = self.metadata_name()?;
            if !self.separator()? || self.at_end() {
                return self.err(if self.at_end() {
                    ErrorKind::Expected("a metric type")
                } else {
                    ErrorKind::InvalidMetricName
                });
            }
            let type_at = self.pos;
            self.token();
            let word = &self.s[type_at..self.pos];
            let metric_type = MetricType::parse(word, Format::Text)
                .ok_or_else(|| (type_at, ErrorKind::InvalidType(word.to_owned())))?;
            self.skip_blanks();
            if !self.at_end() {
                return self.err(ErrorKind::TrailingData);
            }
            Ok(Record::Type { name, metric_type })
        } else {
            Ok(Record::Comment(Cow::Borrowed(body)))
        }
    }

    fn om_comment(&mut self) -> Lexed<Record<'a>> {
        let rest = &self.b[self.pos..];
        if rest == b"# EOF" {
            self.pos = self.b.len();
            return Ok(Record::Eof);
        }
        let keyword = if rest.starts_with(b"# HELP ") {
            "HELP"
        } else if rest.starts_with(b"# TYPE ") {
            "TYPE"
        } else if rest.starts_with(b"# UNIT ") {
            "UNIT"
        } else {
            return self.err(ErrorKind::InvalidComment);
        };
        self.pos += 7;
        let name = self.metadata_name()?;
        if self.peek() != Some(b' ') {
            return self.err(match keyword {
                "TYPE" => ErrorKind::Expected("a space and the metric type"),
                "UNIT" => ErrorKind::Expected("a space and the unit (may be empty)"),
                _ => ErrorKind::Expected("a space and the help text (may be empty)"),
            });
        }
        self.pos += 1;
        let text = &self.s[self.pos..];
        match keyword {
            "HELP" => Ok(Record::Help {
                name,
                text: unescape_help(text, Format::OpenMetrics),
            }),
            "TYPE" => match MetricType::parse(text, Format::OpenMetrics) {
                Some(metric_type) => Ok(Record::Type { name, metric_type }),
                None => self.err(ErrorKind::InvalidType(text.to_owned())),
            },
            _ => {
                let start = self.pos;
                while self.peek_class(NAME) {
                    self.pos += 1;
                }
                if !self.at_end() {
                    return self.err(ErrorKind::Expected("a unit of [a-zA-Z0-9_:] characters"));
                }
                Ok(Record::Unit {
                    name,
                    unit: Cow::Borrowed(&self.s[start..]),
                })
            }
        }
    }
}

/// `a < b`, deciding on the first byte when it differs (label names usually do) instead of
/// calling `memcmp`.
#[inline(always)]
pub(crate) fn name_lt(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    match (a.first(), b.first()) {
        (Some(x), Some(y)) if x != y => x < y,
        _ => a < b,
    }
}

/// Finds a repeated label name (labels are few: compare pairs).
#[cold]
fn check_unique_names(labels: &Labels<'_>) -> Result<(), ErrorKind> {
    for (i, a) in labels.iter().enumerate() {
        if labels[..i].iter().any(|b| b.name == a.name) {
            return Err(ErrorKind::DuplicateLabelName(a.name.to_string()));
        }
    }
    Ok(())
}
