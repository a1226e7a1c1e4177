//! One line of input to one [`Record`]: the grammar of both formats, without the rules that
//! need context (those are in `validate`). Errors carry the byte offset in the line.

use std::borrow::Cow;
use std::num::NonZeroUsize;

use crate::error::ErrorKind;
use foldhash::fast::FixedState;

use crate::escape::{find_closing_quote, unescape_help, unescape_quoted};
use crate::number::{decimal_prefix, parse_text_timestamp, parse_value};
use crate::record::{Exemplar, Label, Labels, MetricType, Record, Sample};
use crate::scan::{help_end, holds_at, label_ends, name_end, same_bytes};
use crate::series_key::label_hash_at;
use crate::timestamp::{parse_om_timestamp, Timestamp};
use crate::Format;

/// A syntax error: byte offset in the line and what is wrong there.
pub(crate) type LexError = (usize, ErrorKind);
type Lexed<T> = Result<T, LexError>;

const NAME_START: u8 = 1; // [a-zA-Z_:]
const NAME: u8 = 2; // [a-zA-Z0-9_:]
const LABEL_START: u8 = 4; // [a-zA-Z_]
const LABEL: u8 = 8; // [a-zA-Z0-9_]
const BLANK: u8 = 16; // space, tab
const TOKEN_END: u8 = 32; // space, tab, line feed

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
            t[c] |= BLANK | TOKEN_END;
        }
        if b == b'\n' {
            t[c] |= TOKEN_END;
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

/// Reads one line (without its line feed, not blank) in `format`. A sample's labels go into
/// `spare`'s allocation, so a caller that hands back the previous sample's labels allocates
/// nothing per line.
#[inline]
pub(crate) fn lex_line<'a>(
    line: &'a str,
    format: Format,
    spare: &mut Labels<'a>,
) -> Lexed<Record<'a>> {
    let om = format == Format::OpenMetrics;
    let mut labels = std::mem::take(spare);
    labels.0.clear();
    let mut lx = Lexer {
        s: line,
        b: line.as_bytes(),
        pos: 0,
        om,
        spare: labels,
    };
    if lx.om {
        if lx.peek_class(BLANK) {
            return Err((0, ErrorKind::InvalidWhitespace));
        }
    } else {
        lx.skip_blanks();
    }
    let record = if lx.peek() == Some(b'#') {
        let record = if lx.om {
            lx.om_comment()
        } else {
            lx.text_comment()
        };
        // no sample: the label storage goes back to the caller
        *spare = std::mem::take(&mut lx.spare);
        record?
    } else {
        Record::Sample(lx.sample()?)
    };
    Ok(record)
}

/// What `fast_sample` read besides the labels.
struct FastSample<'a> {
    name: &'a str,
    value: f64,
    timestamp: Option<Timestamp>,
    line_end: usize,
    same_name: bool,
    labels_hash: u64,
}

/// The start of the last sample line with two labels or more that the fast path read: its
/// bytes up to its last label (`name{a="1",b="2",`). A line that starts with the same bytes
/// (a histogram's buckets, a summary's quantiles) has the same name and the same labels but
/// the last, which the sample's labels still hold, with the same part of the hash: they are
/// kept, and only the rest of the line is read.
#[derive(Clone, Copy, Default)]
pub(crate) struct LabelPrefix<'a> {
    /// The line's bytes up to its last label.
    text: &'a [u8],
    /// The line's name: the previous line's too (the same slice) when the prefix is used.
    name: &'a str,
    /// How many labels `text` holds (0: no prefix).
    count: usize,
    /// Their part of the labels' hash.
    hash: u64,
    /// The labels in `text` are in name order.
    sorted: bool,
}

/// What the fast paths keep from one line to the next (the parser holds it for them).
#[derive(Clone, Copy, Default)]
pub(crate) struct FastState<'a> {
    /// The name of the last line (sample, HELP or TYPE) a fast path read, always a bare name,
    /// or "": a line that starts with it needs no scan of its name. A fast path sets it when
    /// it reads a line; the parser puts "" back when the line's checks fail.
    pub(crate) prev_name: &'a str,
    /// The sample line read last has the same name as the line before.
    pub(crate) same_name: bool,
    /// The sample's labels own no memory (a fast path read them, or none), so they are
    /// overwritten and let go without a drop.
    pub(crate) labels_borrowed: bool,
    /// The input is OpenMetrics.
    pub(crate) om: bool,
    /// The start of an earlier line, kept here for the next (see [`LabelPrefix`]).
    prefix: LabelPrefix<'a>,
}

impl FastState<'_> {
    pub(crate) fn new(format: Format) -> Self {
        FastState {
            labels_borrowed: true,
            om: format == Format::OpenMetrics,
            ..FastState::default()
        }
    }
}

/// A sample line the fast path read: two words, returned in registers (the line's name and
/// whether it is the previous line's go into [`FastState`]).
pub(crate) struct FastLine {
    /// The line length without its line feed (a sample line has a name: never 0).
    pub(crate) line_end: NonZeroUsize,
    /// The labels' part of the series key (`series_key::labels_hash`), added up as they are read.
    pub(crate) labels_hash: u64,
}

/// A HELP or TYPE line the fast path read: its parts, which the parser checks and puts
/// together as the record where it keeps it.
pub(crate) struct FastMetadata<'a> {
    /// The line length without its line feed.
    pub(crate) line_end: usize,
    /// The line's name: always a bare name.
    pub(crate) name: &'a str,
    /// The line has the same name as the previous line a fast path read.
    pub(crate) same_name: bool,
    pub(crate) kind: MetadataKind<'a>,
}

/// What a HELP or TYPE line holds besides its name.
#[derive(Clone, Copy)]
pub(crate) enum MetadataKind<'a> {
    /// The HELP text (plain: no escapes).
    Help(&'a str),
    Type(MetricType),
}

impl<'a> FastMetadata<'a> {
    /// The line's record.
    #[cfg(test)]
    fn record(&self) -> Record<'a> {
        let name = Cow::Borrowed(self.name);
        match self.kind {
            MetadataKind::Help(text) => Record::Help {
                name,
                text: Cow::Borrowed(text),
            },
            MetadataKind::Type(metric_type) => Record::Type { name, metric_type },
        }
    }
}

/// Reads a plain sample line (see `fast_sample`) at the start of `rest` (the input from a
/// line start on) into `sample`, in place and reusing its label storage, in one pass that
/// also finds the line end. `None` when the line is anything else; `sample` is then left
/// with no labels and otherwise as it was. `state`: the previous line's name (a line that
/// starts with it needs no scan of its name), whether `sample`'s labels are borrowed, and the
/// label prefix; on a line read, its name and whether that was the previous line's.
/// Out of line: inlined into the parser loop, the label loop kept reloading its pointers from
/// the stack (2.5 % more instructions on node_exporter.prom).
#[inline(never)]
pub(crate) fn lex_fast_sample<'a>(
    rest: &'a str,
    sample: &mut Sample<'a>,
    state: &mut FastState<'a>,
) -> Option<FastLine> {
    if !state.labels_borrowed {
        drop_labels(&mut sample.labels);
        // read or not, the labels are the fast path's now (or none)
        state.labels_borrowed = true;
    }
    match fast_sample(
        rest,
        state.om,
        &mut sample.labels,
        state.prev_name,
        &mut state.prefix,
    ) {
        Some(fast) => {
            sample.name = Cow::Borrowed(fast.name);
            sample.value = fast.value;
            // most lines have no timestamp, and the slot has none from the line before
            if fast.timestamp.is_some() || sample.timestamp.is_some() {
                sample.timestamp = fast.timestamp;
            }
            if sample.exemplar.is_some() {
                sample.exemplar = None;
            }
            state.prev_name = fast.name;
            state.same_name = fast.same_name;
            Some(FastLine {
                line_end: NonZeroUsize::new(fast.line_end)?,
                labels_hash: fast.labels_hash,
            })
        }
        None => {
            // (the labels this line and the one before read, all borrowed)
            sample.labels.truncate_borrowed(0);
            None
        }
    }
}

/// Drops a general-path sample's labels, which may own their text (not overwritten). Out of
/// line: the fast path's line after a general path's.
#[cold]
#[inline(never)]
fn drop_labels(labels: &mut Labels<'_>) {
    labels.0.clear();
}

/// Reads a `# HELP` or `# TYPE` line at the start of `rest` (the input from a line start on)
/// in its common shape: single spaces, a bare name, HELP text without backslashes, a known
/// type with nothing after it. Returns the line's parts and its length without its line
/// feed, found by the same scan; `None` for anything else (and every error), which the general
/// lexer then reads to the same result (a property test checks that). `prev_name` is the
/// name of the previous line a fast path read (always a bare name), or empty: a TYPE line
/// after its family's HELP line names it again, and is compared with it instead of scanned.
#[inline(always)]
pub(crate) fn lex_fast_metadata<'a>(
    rest: &'a str,
    format: Format,
    prev_name: &str,
) -> Option<FastMetadata<'a>> {
    let b = rest.as_bytes();
    // the keyword as one word: seven bytes and the name's first (a line this short is not
    // a plain HELP/TYPE line anyway)
    let head = u64::from_le_bytes(*b.first_chunk::<8>()?) & KEYWORD_MASK;
    let help = match head {
        HELP_WORD => true,
        TYPE_WORD => false,
        _ => return None,
    };
    let p = prev_name.len();
    let same_name = p > 0 && b.get(7 + p) == Some(&b' ') && holds_at(b, 7, prev_name.as_bytes());
    let name_end = if same_name {
        7 + p
    } else {
        if CLASS[*b.get(7)? as usize] & NAME_START == 0 {
            return None;
        }
        name_end(b, 8, true)
    };
    if b.get(name_end) != Some(&b' ') {
        return None;
    }
    let bare = sub(rest, 7, name_end);
    let text_start = name_end + 1;
    if help {
        // The text format takes any run of blanks after the name; OpenMetrics keeps them as
        // text. (No TYPE keyword starts with a blank.)
        if matches!(b.get(text_start), Some(b' ' | b'\t')) && format == Format::Text {
            return None;
        }
        let end = help_end(b, text_start);
        if b.get(end) == Some(&b'\\') {
            return None; // escapes: the general lexer decodes them
        }
        // (the byte before the text is the blank after the name: no `\r` of the text)
        if b[end - 1] == b'\r' {
            return None;
        }
        Some(FastMetadata {
            line_end: end,
            name: bare,
            same_name,
            kind: MetadataKind::Help(sub(rest, text_start, end)),
        })
    } else {
        let (metric_type, len) = type_keyword(&b[text_start..], format)?;
        Some(FastMetadata {
            line_end: text_start + len,
            name: bare,
            same_name,
            kind: MetadataKind::Type(metric_type),
        })
    }
}

/// The first seven bytes of a word read little-endian.
const KEYWORD_MASK: u64 = (1 << 56) - 1;
/// `# HELP ` and `# TYPE ` as [`KEYWORD_MASK`]ed words.
const HELP_WORD: u64 = keyword_word(b"# HELP ");
const TYPE_WORD: u64 = keyword_word(b"# TYPE ");

const fn keyword_word(keyword: &[u8; 7]) -> u64 {
    let mut word = 0;
    let mut i = 0;
    while i < 7 {
        word |= (keyword[i] as u64) << (8 * i);
        i += 1;
    }
    word
}

/// Whether the line `b` starts with `prefix` and the previous line was the one that left it:
/// its name is `prev_name` (the same slice), and `labels` still hold the prefix's labels: the
/// last one's value ends where the prefix's last value does (the fast path writes labels in
/// order, the general lexer clears them first). Compared 16 bytes at a time.
#[inline(always)]
fn continues_prefix(
    b: &[u8],
    labels: &Labels<'_>,
    prev_name: &str,
    prefix: &LabelPrefix<'_>,
) -> bool {
    // (names that start at the same place in the input are the same name; with no prefix,
    // the wrapped index finds no label)
    prefix.name.as_ptr() == prev_name.as_ptr()
        && labels
            .0
            .get(prefix.count.wrapping_sub(1))
            .is_some_and(|l| ends_at(&l.value, prefix.text, 2))
        && holds_at(b, 0, prefix.text)
}

/// Whether `value` ends `before` bytes before `text` does, in memory.
#[inline(always)]
fn ends_at(value: &str, text: &[u8], before: usize) -> bool {
    let end = |p: *const u8, len: usize| (p as usize).wrapping_add(len);
    end(value.as_ptr(), value.len()).wrapping_add(before) == end(text.as_ptr(), text.len())
}

/// `&s[a..b]` as two one-sided slices, each checking its one char boundary inline (a `str`
/// range with both ends is an out-of-line call).
#[inline(always)]
fn sub(s: &str, a: usize, b: usize) -> &str {
    &s[a..][..b - a]
}

/// The TYPE keyword at the start of `tail` when the line ends right after it (line feed or end
/// of input): the type and the keyword's length. Matched by its first byte, without scanning
/// for the token's end first; `None` for anything else (the general lexer then decides).
#[inline(always)]
fn type_keyword(tail: &[u8], format: Format) -> Option<(MetricType, usize)> {
    let om = format == Format::OpenMetrics;
    let (keyword, metric_type): (&[u8], MetricType) = match *tail.first()? {
        b'c' => (b"counter", MetricType::Counter),
        b'g' if om && tail.get(5) == Some(&b'h') => (b"gaugehistogram", MetricType::GaugeHistogram),
        b'g' => (b"gauge", MetricType::Gauge),
        b'h' => (b"histogram", MetricType::Histogram),
        b's' if om && tail.get(1) == Some(&b't') => (b"stateset", MetricType::StateSet),
        b's' => (b"summary", MetricType::Summary),
        b'u' if om => (b"unknown", MetricType::Unknown),
        b'u' => (b"untyped", MetricType::Unknown),
        b'i' if om => (b"info", MetricType::Info),
        _ => return None,
    };
    let len = keyword.len();
    let fits = tail.len() >= len
        && same_bytes(&tail[..len], keyword)
        && matches!(tail.get(len), None | Some(b'\n'));
    fits.then_some((metric_type, len))
}

/// The common shape of a sample line, read without the general lexer's bookkeeping:
/// `name{a="x",b="y"} value [timestamp]` with a bare name, single spaces and no escapes.
/// Anything else (and every error) returns `None` and goes to the general lexer, which gives
/// the same result for every line this accepts (a property test checks that).
#[inline(always)]
fn fast_sample<'a>(
    s: &'a str,
    om: bool,
    labels: &mut Labels<'a>,
    prev_name: &str,
    prefix: &mut LabelPrefix<'a>,
) -> Option<FastSample<'a>> {
    let b = s.as_bytes();
    let n = b.len();
    // Each label goes into `labels` as it is read, over the previous line's (borrowed, let go
    // without a drop); the caller clears them if the line turns out not to be plain. The byte
    // tests before each slice are ones the compiler sees (ASCII bytes), so the slices need no
    // char-boundary checks but the value's start.
    let mut count = 0;
    let mut sorted = true;
    let mut prev_label: &[u8] = b"";
    let mut labels_hash = 0u64;
    // the labels kept from the prefix
    let mut resumed = 0;
    let same_name;
    let name;
    let mut i;
    'labels: {
        if continues_prefix(b, labels, prev_name, prefix) {
            // the previous line's name and its labels but the last: on from there
            (same_name, name, i) = (true, prefix.name, prefix.text.len());
            (count, sorted, labels_hash) = (prefix.count, prefix.sorted, prefix.hash);
            prev_label = labels[count - 1].name.as_bytes();
            resumed = count;
        } else {
            let p = prev_name.len();
            same_name = p > 0
                && n > p
                && matches!(b[p], b'{' | b' ')
                && holds_at(b, 0, prev_name.as_bytes());
            i = if same_name {
                p
            } else {
                if n == 0 || CLASS[b[0] as usize] & NAME_START == 0 {
                    return None;
                }
                name_end(b, 1, true)
            };
            name = &s[..i];
            match b.get(i) {
                Some(b'{') => i += 1,
                // no labels: the blank before the value
                Some(b' ') => break 'labels,
                _ => return None,
            }
        }
        loop {
            let start = i;
            let (name_end, value_end) = label_ends(b, i);
            // A name of label bytes that does not start with a digit: its first byte is above
            // `9` (compared signed, which tells the compiler it is ASCII).
            if name_end == start || b[start] as i8 <= b'9' as i8 {
                return None;
            }
            i = name_end;
            if b.get(i) != Some(&b'=') || b.get(i + 1) != Some(&b'"') {
                return None;
            }
            i += 2;
            let value_start = i;
            i = value_end;
            if b.get(i)? != &b'"' || count == FAST_LABELS {
                return None;
            }
            let label_name = &b[start..name_end];
            // Exporters write labels in name order, or nearly (`le` last): look for a repeated
            // name only once the order has broken (from then on, for every label).
            if count > 0 {
                sorted &= name_lt_bytes(prev_label, label_name);
                if !sorted
                    && labels[..count]
                        .iter()
                        .any(|l| same_bytes(l.name.as_bytes(), label_name))
                {
                    return None;
                }
            }
            if same_bytes(label_name, b"__name__") {
                return None;
            }
            let hash = if i > value_start {
                label_hash_at(b, start, name_end, i)
            } else {
                0
            };
            labels_hash = labels_hash.wrapping_add(hash);
            labels.set_borrowed(count, &s[start..name_end], &s[value_start..i]);
            count += 1;
            prev_label = label_name;
            i += 1;
            match b.get(i)? {
                b',' => i += 1,
                b'}' => {
                    i += 1;
                    // the blank before the value (a line without labels has it tested after
                    // its name: one test of the byte either way)
                    if b.get(i) != Some(&b' ') {
                        return None;
                    }
                    // (a line that kept the prefix and read one label more leaves it as it
                    // was: its name is the prefix's, its labels those it kept)
                    let kept = count - 1;
                    if kept > resumed {
                        *prefix = LabelPrefix {
                            text: &b[..start],
                            name,
                            count: kept,
                            hash: labels_hash.wrapping_sub(hash),
                            sorted,
                        };
                    }
                    break;
                }
                _ => return None,
            }
        }
    }
    // (past the blank)
    i += 1;
    let value_start = i;
    // Read as a decimal right away; where the token goes on past the decimal (NaN, +Inf, an
    // error), find its end and read it again.
    // (a tab after the value goes to the slow path, which then returns `None` as well)
    let value = if let Some(&[d @ b'0'..=b'9', b' ' | b'\n', ..]) = b.get(i..) {
        // one digit (most of node_exporter's values, a third of the fleet's): no parsing
        i += 1;
        f64::from(d - b'0')
    } else {
        match decimal_prefix(&b[i..]) {
            Some((v, len)) if matches!(b.get(i + len), None | Some(b' ' | b'\n')) => {
                i += len;
                v
            }
            _ => {
                while i < n && CLASS[b[i] as usize] & TOKEN_END == 0 {
                    i += 1;
                }
                parse_value(&b[value_start..i]).ok()?
            }
        }
    };
    // the value ends the line, or a blank and a timestamp follow it (one look at the byte)
    let timestamp = match b.get(i) {
        None | Some(b'\n') => None,
        Some(b' ') => {
            let (timestamp, end) = fast_timestamp(b, i + 1, om)?;
            i = end;
            Some(timestamp)
        }
        _ => return None,
    };
    labels.truncate_borrowed(count);
    Some(FastSample {
        name,
        value,
        timestamp,
        line_end: i,
        same_name,
        labels_hash,
    })
}

/// The timestamp at `i` that ends a sample line (the fast path's): its value and end.
/// Out of line: few lines have one.
#[cold]
#[inline(never)]
fn fast_timestamp(b: &[u8], mut i: usize, om: bool) -> Option<(Timestamp, usize)> {
    let start = i;
    while i < b.len() && CLASS[b[i] as usize] & TOKEN_END == 0 {
        i += 1;
    }
    if i == start || !matches!(b.get(i), None | Some(b'\n')) {
        return None;
    }
    let tok = &b[start..i];
    let timestamp = if om {
        parse_om_timestamp(tok).ok()?
    } else {
        Timestamp::from_millis(parse_text_timestamp(tok).ok()?)
    };
    Some((timestamp, i))
}

struct Lexer<'a> {
    s: &'a str,
    b: &'a [u8],
    pos: usize,
    om: bool,
    /// The allocation for the sample's labels.
    spare: Labels<'a>,
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
        self.pos = name_end(self.b, self.pos + 1, true);
        Ok(&self.s[start..self.pos])
    }

    #[inline(always)]
    fn label_name(&mut self) -> Lexed<&'a str> {
        let start = self.pos;
        if !self.peek_class(LABEL_START) {
            return self.err(ErrorKind::InvalidLabelName);
        }
        self.pos = name_end(self.b, self.pos + 1, false);
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
        let mut labels = std::mem::take(&mut self.spare);
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
            timestamp: None,
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
        if self.peek() == Some(b'#') {
            // a comment or exemplar where the text format has neither
            return self.err(ErrorKind::TrailingData);
        }
        let tok = self.token();
        sample.timestamp = Some(self.timestamp(tok).map_err(|e| (ts_at, e))?);
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

    fn timestamp(&self, tok: &[u8]) -> Result<Timestamp, ErrorKind> {
        if self.om {
            parse_om_timestamp(tok).map_err(ErrorKind::InvalidTimestamp)
        } else {
            parse_text_timestamp(tok)
                .map(Timestamp::from_millis)
                .map_err(ErrorKind::InvalidTimestamp)
        }
    }

    /// `{…}` at the cursor. With `name`, a quoted string without `=` sets the metric name.
    fn labels(
        &mut self,
        labels: &mut Labels<'a>,
        mut name: Option<&mut Option<Cow<'a, str>>>,
    ) -> Lexed<()> {
        self.pos += 1; // '{'
        labels.reserve();
        let mut sorted = true;
        // Names seen, once the labels are out of order and many: a repeated name is then
        // found in constant time (a scan of every earlier label made 40,000 labels take
        // seconds).
        let mut seen: Option<hashbrown::HashSet<Cow<'a, str>, FixedState>> = None;
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
                // Out of order from here on: a repeated name is possible, look for it.
                // (A borrowed name clones as a pointer; an unescaped one is rare.)
                if !sorted && repeated(labels, &mut seen, label_name.clone()) {
                    return Err((
                        item_at,
                        ErrorKind::DuplicateLabelName(label_name.into_owned()),
                    ));
                }
            }
            labels.push(Label {
                name: label_name,
                value,
            });
            if self.end_of_item()? {
                break;
            }
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
            timestamp: None,
        };
        if self.next_token()? {
            let ts_at = self.pos;
            let tok = self.token();
            exemplar.timestamp = Some(self.timestamp(tok).map_err(|e| (ts_at, e))?);
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

/// The most labels a sample line may have to be read by the fast path (out of order, each
/// label is compared with the ones before it).
const FAST_LABELS: usize = 16;

/// Labels past which a repeated name is looked up in a set rather than by a scan.
const SCAN_LIMIT: usize = 16;

/// Whether `name` is among `labels`: a scan while they are few, then a set built once and
/// kept up to date (every later name goes through here, as the labels stay out of order).
#[cold]
fn repeated<'a>(
    labels: &Labels<'a>,
    seen: &mut Option<hashbrown::HashSet<Cow<'a, str>, FixedState>>,
    name: Cow<'a, str>,
) -> bool {
    if seen.is_none() && labels.len() < SCAN_LIMIT {
        return labels.iter().any(|l| l.name == name);
    }
    let set = seen.get_or_insert_with(|| {
        let mut set =
            hashbrown::HashSet::with_capacity_and_hasher(labels.len() * 2, FixedState::default());
        set.extend(labels.iter().map(|l| l.name.clone()));
        set
    });
    !set.insert(name)
}

/// `a < b`, compared inline (label names usually differ at their first bytes) instead of
/// calling `memcmp`.
#[inline(always)]
pub(crate) fn name_lt(a: &str, b: &str) -> bool {
    name_lt_bytes(a.as_bytes(), b.as_bytes())
}

/// [`name_lt`] on bytes: a loop to the first difference, which for label names is at the
/// first byte or soon after (`handler`, `host`; `a < b` called `memcmp` for those).
#[inline(always)]
fn name_lt_bytes(a: &[u8], b: &[u8]) -> bool {
    // the usual case, decided without the loop's setup
    if let (Some(&x), Some(&y)) = (a.first(), b.first()) {
        if x != y {
            return x < y;
        }
    }
    let common = a.len().min(b.len());
    let mut i = 0;
    while i < common && a[i] == b[i] {
        i += 1;
    }
    if i < common {
        a[i] < b[i]
    } else {
        a.len() < b.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Sample-like lines, common or odd, to hit both paths of the lexer.
    fn line() -> impl Strategy<Value = String> {
        // short names repeat often: duplicates in and out of order
        // and near misses: names that start with a digit, a colon or a non-ASCII letter
        let name = prop_oneof![3 => "[a-c]", 1 => "[a-c_]{1,3}", 1 => "[0-9:é][a-c]?"];
        let value = prop_oneof![2 => "[a-z0-9.]{0,4}", 1 => "[a-z0-9 ,={}.\"\\\\]{0,4}"];
        let sep = prop_oneof![2 => Just(String::new()), 1 => "[ =]{1,2}"];
        let label = (name, value, sep).prop_map(|(n, v, sep)| format!("{n}={sep}\"{v}\""));
        (
            "[a-z_:][a-z0-9_:.]{0,6}",
            prop::option::of(prop::collection::vec(label, 0..6)),
            "[,}]{0,1}",
            // (none: `}` right before the value)
            "( |  |\t|){1}",
            "(0|1|7|10|-1|1.5|1e3|NaN|\\+Inf|-Inf|x|1_0|0x1|\\.5|5\\.)",
            prop::option::of("( |\t)(0|12|-5|1.5|x|)"),
            "( |\t|\r|)",
        )
            .prop_map(|(name, labels, close, sep, value, ts, tail)| {
                let mut s = name;
                if let Some(labels) = labels {
                    s.push('{');
                    s.push_str(&labels.join(","));
                    s.push_str(if close.is_empty() { "}" } else { &close });
                }
                s.push_str(&sep);
                s.push_str(&value);
                s.push_str(&ts.unwrap_or_default());
                s.push_str(&tail);
                s
            })
    }

    /// `lex_fast_sample` on `line` after a line named `prev` (or none), the slot's labels borrowed.
    fn fast_after<'a>(
        line: &'a str,
        format: Format,
        slot: &mut Sample<'a>,
        prev: &'a str,
    ) -> Option<FastLine> {
        let mut state = FastState {
            prev_name: prev,
            ..FastState::new(format)
        };
        lex_fast_sample(line, slot, &mut state)
    }

    /// `lex_fast_metadata` with the record the parser makes of the line.
    fn fast_metadata<'a>(
        rest: &'a str,
        format: Format,
        prev: &str,
    ) -> Option<(Record<'a>, FastMetadata<'a>)> {
        lex_fast_metadata(rest, format, prev).map(|line| (line.record(), line))
    }

    #[test]
    fn fast_path_takes_plain_lines_only() {
        let fast = |s: &str| {
            let mut sample = Sample::new("", Labels::new(), 0.0);
            fast_after(s, Format::Text, &mut sample, "").map(|f| f.line_end.get())
        };
        assert_eq!(fast("a{b=\"c\",d=\"e\"} 1.5 123\nx 1\n"), Some(22));
        assert_eq!(fast("a 1"), Some(3));
        assert_eq!(
            fast("a{d=\"e\",b=\"\"} 1\n"),
            Some(15),
            "any order, empty values"
        );
        for other in [
            "a{b=\"c\",b=\"d\"} 1\n",
            "a{b=\"c\",a=\"d\",b=\"e\"} 1\n",
            "a{__name__=\"c\"} 1\n",
            "a{b=\"\\n\"} 1\n",
            "a  1\n",
            "a\t1\n",
            "a{b=\"c\"}1\n",
            "a{b=\"c\"}\t1\n",
            "a{b=\"c\"}  1\n",
            "a 1 \n",
            "#x\n",
        ] {
            assert_eq!(fast(other), None, "{other}");
        }
    }

    /// HELP/TYPE-like lines, mostly of the common shape, with odd ones mixed in.
    fn metadata_line() -> impl Strategy<Value = String> {
        (
            prop_oneof![
                3 => Just("# HELP ".to_string()),
                3 => Just("# TYPE ".to_string()),
                1 => "#( |  |\t)?(HELP|TYPE|UNIT|EOF|HELPx)?( |  |\t)?",
            ],
            prop_oneof![
                3 => "[a-z_:][a-z0-9_:]{0,5}",
                1 => "[a-z_:][a-z0-9_:]{14,40}",
                1 => "[a-z_:\"0-9é]{0,6}",
            ],
            prop_oneof![3 => Just(" ".to_string()), 1 => "( |  |\t|)"],
            prop_oneof![
                2 => "(counter|gauge|histogram|summary|untyped|unknown|info|stateset|gaugehistogram)",
                2 => "[ a-zA-Z.,\\\\\"\tnté]{0,8}",
            ],
            prop_oneof![3 => Just(String::new()), 1 => "( |\t|\r)"],
        )
            .prop_map(|(head, name, sep, text, tail)| format!("{head}{name}{sep}{text}{tail}"))
    }

    #[test]
    fn metadata_fast_path_takes_plain_lines_only() {
        let fast = |s: &'static str, f| fast_metadata(s, f, "").map(|(r, l)| (r, l.line_end));
        let help = |t| Record::Help {
            name: Cow::Borrowed("a_b"),
            text: Cow::Borrowed(t),
        };
        assert_eq!(
            fast("# HELP a_b Some text.\nx 1\n", Format::Text),
            Some((help("Some text."), 21))
        );
        assert_eq!(fast("# HELP a_b \n", Format::Text), Some((help(""), 11)));
        assert_eq!(
            fast("# HELP a_b  x", Format::OpenMetrics),
            Some((help(" x"), 13))
        );
        assert_eq!(
            fast("# TYPE a_b counter\n", Format::Text),
            Some((
                Record::Type {
                    name: Cow::Borrowed("a_b"),
                    metric_type: MetricType::Counter
                },
                18
            ))
        );
        // every keyword, at a line end and at the end of the input
        for format in [Format::Text, Format::OpenMetrics] {
            for t in MetricType::ALL {
                let keyword = t.as_str(format);
                if MetricType::parse(keyword, format) != Some(t) {
                    continue; // a type the format lacks, written as `untyped`
                }
                for line in [
                    format!("# TYPE a_b {keyword}\nx 1\n"),
                    format!("# TYPE a_b {keyword}"),
                ] {
                    let want = Record::Type {
                        name: Cow::Borrowed("a_b"),
                        metric_type: t,
                    };
                    for prev in ["", "a_b", "a", "a_bc"] {
                        let fast = fast_metadata(&line, format, prev);
                        let fast = fast.map(|(r, l)| (r, l.line_end, l.same_name));
                        let want = (want.clone(), 11 + keyword.len(), prev == "a_b");
                        assert_eq!(fast, Some(want), "{line:?} {format:?} {prev:?}");
                    }
                }
            }
        }
        for (other, format) in [
            ("# HELP a_b x\\ny\n", Format::Text),
            ("# HELP a_b  x\n", Format::Text),
            ("# HELP a_b x\r\n", Format::Text),
            ("# HELP a_b\n", Format::Text),
            ("# HELP \"a_b\" x\n", Format::Text),
            ("#  HELP a_b x\n", Format::Text),
            ("# TYPE a_b counter \n", Format::Text),
            ("# TYPE a_b info\n", Format::Text),
            ("# TYPE a_b untyped\n", Format::OpenMetrics),
            ("# TYPE a_b unknown\n", Format::Text),
            ("# TYPE a_b gaugehistogram\n", Format::Text),
            ("# TYPE a_b gaugeh\n", Format::OpenMetrics),
            ("# TYPE a_b stateset\n", Format::Text),
            ("# TYPE a_b gauges\n", Format::Text),
            ("# TYPE a_b count\n", Format::Text),
            ("# TYPE a_b gauge\r\n", Format::Text),
            ("# UNIT a_b seconds\n", Format::OpenMetrics),
            // the keyword is compared as one word: near misses, and lines too short for it
            ("# HELP ", Format::Text),
            ("# HELP", Format::Text),
            ("# TYPE \n", Format::Text),
            ("# help a_b x\n", Format::Text),
            ("# HELQ a_b x\n", Format::Text),
            ("# TYPEa_b counter\n", Format::Text),
            ("$ TYPE a_b counter\n", Format::Text),
            ("#\tHELP a_b x\n", Format::Text),
        ] {
            assert_eq!(fast(other, format), None, "{other}");
        }
    }

    /// Up to `FAST_LABELS` labels, past the general lexer's first allocation (8), on the fast path;
    /// more go to the general lexer. Both read them alike.
    #[test]
    fn fast_path_takes_up_to_sixteen_labels() {
        for count in 1..=FAST_LABELS + 2 {
            let labels: Vec<String> = (0..count).map(|i| format!("l{i:02}=\"{i}\"")).collect();
            let line = format!("m{{{}}} 1", labels.join(","));
            let mut slot = Sample::new("", Labels::new(), 0.0);
            let fast = fast_after(&line, Format::Text, &mut slot, "");
            assert_eq!(fast.is_some(), count <= FAST_LABELS, "{count} labels");
            if fast.is_some() {
                let general = lex_line(&line, Format::Text, &mut Labels::new()).unwrap();
                assert_eq!(Record::Sample(slot), general);
            }
        }
    }

    /// One slot through lines of more, fewer and as many labels as the line before, and
    /// lines the fast path leaves after overwriting some: each read as the general lexer does.
    #[test]
    fn fast_path_reuses_the_previous_lines_labels() {
        let mut slot = Sample::new("", Labels::new(), 0.0);
        for line in [
            "m{a=\"1\",b=\"2\"} 1",
            "m{a=\"3\",b=\"4\",c=\"5\"} 2",
            "m{x=\"6\"} 3",
            "m 4",
            "m{a=\"7\",b=\"8\",c=\"9\",d=\"0\"} 5",
            "m{a=\"1\",b=\"2\",a=\"3\"} 6",
            "m{a=\"1\",b=\"2\\n\"} 7",
            "m{b=\"1\",a=\"2\"} 8",
            "m{a=\"1\",b=\"2\"} x",
            "m{c=\"1\"} 9",
        ] {
            let general = lex_line(line, Format::Text, &mut Labels::new());
            match fast_after(line, Format::Text, &mut slot, "") {
                Some(_) => assert_eq!(Ok(Record::Sample(slot.clone())), general, "{line}"),
                None => assert!(slot.labels.is_empty(), "{line}"),
            }
        }
    }

    /// 40,000 labels out of order (as a hostile push sends them): every name is checked
    /// once, and the repeated one at the end is still found.
    #[test]
    fn forty_thousand_labels_out_of_order() {
        let labels: Vec<String> = (0..40_000).rev().map(|i| format!("l{i}=\"v\"")).collect();
        let line = format!("m{{{}}} 1", labels.join(","));
        match lex_line(&line, Format::Text, &mut Labels::new()) {
            Ok(Record::Sample(s)) => assert_eq!(s.labels.len(), 40_000),
            other => panic!("{other:?}"),
        }
        let repeated = format!("m{{{},l123=\"w\"}} 1", labels.join(","));
        let e = lex_line(&repeated, Format::Text, &mut Labels::new()).unwrap_err();
        assert_eq!(e.1, ErrorKind::DuplicateLabelName("l123".into()));
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 4000, ..ProptestConfig::default() })]

        #[test]
        fn metadata_fast_path_agrees_with_the_general_lexer(
            line in metadata_line(),
            om in any::<bool>(),
            prev in 0u8..5,
        ) {
            let format = if om { Format::OpenMetrics } else { Format::Text };
            let with_newline = format!("{line}\n# TYPE next gauge\n");
            // the previous line's name: none, this line's own, one byte shorter or longer, another
            let own = line.get(7..).unwrap_or("").split([' ', '\t', '\r']).next().unwrap_or("");
            let own = if is_legacy_metric_name(own) { own } else { "" };
            let prev = match prev {
                1 => own.to_string(),
                2 if own.len() > 1 => own[..own.len() - 1].to_string(),
                3 if !own.is_empty() => format!("{own}x"),
                4 => "a".to_string(),
                _ => String::new(),
            };
            if let Some((fast, fast_line)) = fast_metadata(&with_newline, format, &prev) {
                prop_assert_eq!(fast_line.line_end, line.len());
                prop_assert!(!line.ends_with('\r'), "the parser refuses a carriage return");
                let general = lex_line(&line, format, &mut Labels::new());
                let general = general.map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
                prop_assert_eq!(&fast, &general);
                let named = match &fast {
                    Record::Help { name, .. } | Record::Type { name, .. } => name.as_ref(),
                    _ => "",
                };
                prop_assert_eq!(fast_line.same_name, !prev.is_empty() && named == prev);
            }
            // at the end of the input too
            if let Some((fast, fast_line)) = fast_metadata(&line, format, &prev) {
                let len = fast_line.line_end;
                prop_assert_eq!(len, line.len());
                let general = lex_line(&line, format, &mut Labels::new());
                let general = general.map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
                prop_assert_eq!(&fast, &general);
            }
        }

        #[test]
        fn name_order_is_byte_order(a in "[ab]{0,4}", b in "[ab]{0,4}") {
            prop_assert_eq!(name_lt(&a, &b), a < b);
        }

        /// Many labels in any order: refused exactly when a name repeats (past the scan
        /// limit the lexer looks names up in a set).
        #[test]
        fn repeated_label_names_are_found_among_many(
            names in prop::collection::vec("l[0-9]{1,3}", 1..120),
        ) {
            let labels: Vec<String> = names.iter().map(|n| format!("{n}=\"v\"")).collect();
            let line = format!("m{{{}}} 1", labels.join(","));
            let unique = names.iter().collect::<std::collections::HashSet<_>>().len() == names.len();
            match lex_line(&line, Format::Text, &mut Labels::new()) {
                Ok(Record::Sample(s)) => {
                    prop_assert!(unique, "a repeated name passed: {}", line);
                    prop_assert_eq!(s.labels.len(), names.len());
                }
                Err((_, ErrorKind::DuplicateLabelName(_))) => prop_assert!(!unique),
                other => prop_assert!(false, "{:?}", other),
            }
        }

        /// Plain lines with short label names: repeated names in and out of order.
        #[test]
        fn fast_path_agrees_on_label_sets(
            labels in prop::collection::vec(("[a-c]|le|__name__", "[a-z0-9]{0,2}"), 1..7),
        ) {
            let labels: Vec<String> = labels.iter().map(|(n, v)| format!("{n}=\"{v}\"")).collect();
            let line = format!("m{{{}}} 1", labels.join(","));
            let mut slot = Sample::new("", Labels::new(), 0.0);
            let general = lex_line(&line, Format::Text, &mut Labels::new());
            match fast_after(&line, Format::Text, &mut slot, "") {
                Some(_) => prop_assert_eq!(Ok(Record::Sample(slot)), general),
                None => prop_assert!(general.is_err(), "a plain line the fast path left: {}", line),
            }
        }

        #[test]
        fn fast_path_agrees_with_the_general_lexer(
            line in line(),
            om in any::<bool>(),
            prev in prop_oneof![Just(0u8), Just(1), Just(2)],
        ) {
            let format = if om { Format::OpenMetrics } else { Format::Text };
            let with_newline = format!("{line}\nnext 1\n");
            // a slot holding an earlier sample, as the parser reuses it
            let mut slot = Sample::new("old", Labels::new(), 7.0);
            slot.exemplar = Some(Box::new(Exemplar { labels: Labels::new(), value: 1.0, timestamp: None }));
            slot.timestamp = Some(crate::Timestamp::from_millis(5));
            // the previous sample's name: none, this line's own name, or another one
            let own = line.split(['{', ' ', '\t']).next().unwrap_or("");
            let prev = match prev {
                1 if is_legacy_metric_name(own) => own,
                2 => "a",
                _ => "",
            };
            // followed by another line, and at the end of the input (labels near its end are
            // hashed without reading 16 bytes at once)
            for input in [with_newline.as_str(), line.as_str()] {
                if let Some(fast) = fast_after(input, format, &mut slot, prev) {
                    prop_assert_eq!(fast.line_end.get(), line.len());
                    let general = lex_line(&line, format, &mut Labels::new());
                    let general = general.map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
                    let Record::Sample(g) = &general else { unreachable!("a sample line") };
                    prop_assert_eq!(fast.labels_hash, crate::series_key::labels_hash(&g.labels));
                    prop_assert_eq!(&Record::Sample(slot.clone()), &general);
                }
            }
        }
    }

    #[test]
    fn a_kept_prefix_needs_the_labels_it_was_read_with() {
        let input = "h_bucket{a=\"1\",le=\"1\"} 1\nh_bucket{a=\"1\",le=\"2\"} 2\nh_bucket{b=\"2\",le=\"1\"} 3\n";
        let mut lines = input.lines();
        let (first, second, other) = (
            lines.next().unwrap(),
            lines.next().unwrap(),
            lines.next().unwrap(),
        );
        let mut slot = Sample::new("", Labels::new(), 0.0);
        let mut state = FastState::new(Format::Text);
        lex_fast_sample(first, &mut slot, &mut state).expect("a plain line");
        let want = [Label::new("a", "1"), Label::new("le", "2")];
        // the labels read again by the general lexer from another line, the name left as the
        // first line's: the prefix no longer holds
        let Ok(Record::Sample(general)) = lex_line(other, Format::Text, &mut Labels::new()) else {
            unreachable!("a sample line")
        };
        let mut changed = slot.clone();
        changed.labels = general.labels;
        let mut kept = state;
        lex_fast_sample(second, &mut changed, &mut kept).expect("plain");
        assert_eq!(&changed.labels[..], &want);
        // as they were: it does
        lex_fast_sample(second, &mut slot, &mut state).expect("plain");
        assert_eq!(&slot.labels[..], &want);
    }
}
