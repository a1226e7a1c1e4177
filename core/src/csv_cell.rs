//! Formula injection in CSV exports (OWASP "CSV Injection"): a spreadsheet runs a cell
//! that starts with `=`, `+`, `-`, `@`, a tab or a carriage return as a formula. Every CSV
//! export writes such a cell with a single quote in front, which a spreadsheet shows as
//! text; the CSV import takes that quote off again, so an export imports back unchanged.
//!
//! Every column is escaped: no column of ours is numeric, and the text columns (names,
//! notes, tags like `-edge`) may start with any of these characters. A value that itself
//! starts with quotes before such a character gets one more quote, so the round trip holds
//! for it too.

use std::borrow::Cow;

/// The first characters a spreadsheet reads as the start of a formula.
const FORMULA_START: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// Whether `s`, past any leading quotes, starts a formula.
fn is_formula_like(s: &str) -> bool {
    s.trim_start_matches('\'').starts_with(FORMULA_START)
}

/// The cell to write: `'` + `s` when `s` (past leading quotes) starts a formula.
pub(crate) fn escape_cell(s: &str) -> Cow<'_, str> {
    if is_formula_like(s) {
        Cow::Owned(format!("'{s}"))
    } else {
        Cow::Borrowed(s)
    }
}

/// The value of a cell read back: [`escape_cell`] undone (one quote off when what follows
/// starts a formula); any other cell is left as it is.
pub(crate) fn unescape_cell(s: &str) -> &str {
    match s.strip_prefix('\'') {
        Some(rest) if is_formula_like(rest) => rest,
        _ => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_starts_are_quoted_and_unquoted() {
        for (value, cell) in [
            ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
            ("+1", "'+1"),
            ("-edge, prod", "'-edge, prod"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("'=x", "''=x"),
            ("''-x", "'''-x"),
            ("plain", "plain"),
            ("'quoted", "'quoted"),
            ("a=b", "a=b"),
            ("", ""),
        ] {
            assert_eq!(escape_cell(value), cell, "{value:?}");
            assert_eq!(unescape_cell(cell), value, "{cell:?}");
        }
    }
}
