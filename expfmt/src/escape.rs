//! Backslash escapes in label values, quoted names and HELP text, both ways.
//!
//! Decoding (what the formats define, and what we chose where they do not):
//! - label values and quoted names: `\\`, `\"` and `\n` decode in both formats. Any other
//!   escape is an error in the text format (its spec allows only those three) and is kept
//!   verbatim, backslash included, in OpenMetrics (its ABNF allows `\` before any character).
//! - HELP text: the text format decodes `\\` and `\n` and keeps any other escape verbatim
//!   (`\"` stays `\"`), as Prometheus does; OpenMetrics decodes `\"` too.
//!
//! Encoding writes only `\\`, `\"` (not in text-format HELP) and `\n`.

use std::borrow::Cow;

use memchr::{memchr, memchr2};

use crate::Format;

/// Scans a quoted string whose opening quote is just before `start`. Returns the index of the
/// closing quote and whether a backslash occurs, or `None` when the line ends first.
#[inline(always)]
pub(crate) fn find_closing_quote(line: &[u8], start: usize) -> Option<(usize, bool)> {
    // Most label values are short: a plain loop beats memchr's setup cost for them.
    let short_end = line.len().min(start + 24);
    let mut i = start;
    while i < short_end {
        match line[i] {
            b'"' => return Some((i, false)),
            b'\\' => break,
            _ => i += 1,
        }
    }
    find_closing_quote_long(line, i)
}

fn find_closing_quote_long(line: &[u8], mut i: usize) -> Option<(usize, bool)> {
    let mut escaped = false;
    loop {
        let hit = i + memchr2(b'"', b'\\', line.get(i..)?)?;
        if line[hit] == b'"' {
            return Some((hit, escaped));
        }
        escaped = true;
        i = hit + 2;
    }
}

/// Decodes a label value or quoted name. `Err(offset)` points at the backslash of an escape
/// the text format does not allow.
pub(crate) fn unescape_quoted(raw: &str, format: Format) -> Result<Cow<'_, str>, usize> {
    let bytes = raw.as_bytes();
    let Some(first) = memchr(b'\\', bytes) else {
        return Ok(Cow::Borrowed(raw));
    };
    let mut out = String::with_capacity(raw.len());
    out.push_str(&raw[..first]);
    let mut i = first;
    while i < bytes.len() {
        if bytes[i] != b'\\' {
            let next = memchr(b'\\', &bytes[i..]).map_or(bytes.len(), |n| i + n);
            out.push_str(&raw[i..next]);
            i = next;
            continue;
        }
        match bytes.get(i + 1) {
            Some(b'\\') => out.push('\\'),
            Some(b'"') => out.push('"'),
            Some(b'n') => out.push('\n'),
            Some(_) if format == Format::OpenMetrics => {
                // Keep `\` and let the next iteration copy the escaped character.
                out.push('\\');
                i += 1;
                continue;
            }
            _ => return Err(i),
        }
        i += 2;
    }
    Ok(Cow::Owned(out))
}

/// Decodes HELP text (see the module documentation for the rules per format).
pub(crate) fn unescape_help(raw: &str, format: Format) -> Cow<'_, str> {
    let bytes = raw.as_bytes();
    let Some(first) = memchr(b'\\', bytes) else {
        return Cow::Borrowed(raw);
    };
    let mut out = String::with_capacity(raw.len());
    out.push_str(&raw[..first]);
    let mut i = first;
    while i < bytes.len() {
        if bytes[i] != b'\\' {
            let next = memchr(b'\\', &bytes[i..]).map_or(bytes.len(), |n| i + n);
            out.push_str(&raw[i..next]);
            i = next;
            continue;
        }
        match bytes.get(i + 1) {
            Some(b'\\') => out.push('\\'),
            Some(b'n') => out.push('\n'),
            Some(b'"') if format == Format::OpenMetrics => out.push('"'),
            _ => {
                out.push('\\');
                i += 1;
                continue;
            }
        }
        i += 2;
    }
    Cow::Owned(out)
}

/// Appends a label value or quoted name with `\`, `"` and line feed escaped.
pub fn escape_quoted(out: &mut String, s: &str) {
    escape_with(out, s, true);
}

/// Appends HELP text escaped for `format`: `\` and line feed, plus `"` in OpenMetrics.
pub fn escape_help(out: &mut String, s: &str, format: Format) {
    escape_with(out, s, format == Format::OpenMetrics);
}

fn escape_with(out: &mut String, s: &str, quote: bool) {
    let mut last = 0;
    for (i, b) in s.bytes().enumerate() {
        let rep = match b {
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'"' if quote => "\\\"",
            _ => continue,
        };
        out.push_str(&s[last..i]);
        out.push_str(rep);
        last = i + 1;
    }
    out.push_str(&s[last..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_values() {
        let t = |s| unescape_quoted(s, Format::Text);
        let om = |s| unescape_quoted(s, Format::OpenMetrics);
        assert!(matches!(t("plain"), Ok(Cow::Borrowed("plain"))));
        assert_eq!(t(r#"a\\b\"c\nd"#).unwrap(), "a\\b\"c\nd");
        assert_eq!(t(r"x\ty"), Err(1));
        assert_eq!(om(r"x\zy").unwrap(), r"x\zy");
        assert_eq!(om(r"x\\zy").unwrap(), r"x\zy");
        assert_eq!(om("ü\\nü").unwrap(), "ü\nü");
    }

    #[test]
    fn help_text() {
        let raw = r#"x\\y\nz\"q\t"#;
        assert_eq!(unescape_help(raw, Format::Text), "x\\y\nz\\\"q\\t");
        assert_eq!(unescape_help(raw, Format::OpenMetrics), "x\\y\nz\"q\\t");
        assert_eq!(unescape_help(r"end\", Format::Text), r"end\");
    }

    #[test]
    fn escaping_round_trips() {
        let v = "a\\b\"c\nd";
        let mut s = String::new();
        escape_quoted(&mut s, v);
        assert_eq!(s, r#"a\\b\"c\nd"#);
        assert_eq!(unescape_quoted(&s, Format::Text).unwrap(), v);
        let mut h = String::new();
        escape_help(&mut h, v, Format::Text);
        assert_eq!(h, "a\\\\b\"c\\nd");
        assert_eq!(unescape_help(&h, Format::Text), v);
    }

    #[test]
    fn closing_quote() {
        assert_eq!(find_closing_quote(br#"abc" 1"#, 0), Some((3, false)));
        assert_eq!(find_closing_quote(br#"a\"c" 1"#, 0), Some((4, true)));
        assert_eq!(find_closing_quote(br#"a\\"#, 0), None);
        assert_eq!(find_closing_quote(br"a\", 0), None);
    }
}
