//! Byte-class scans eight bytes at a time (SWAR), for the long runs of name characters that
//! make up most of a sample line. Safe code: `u64::from_le_bytes` on 8-byte chunks; with
//! SSE2 (x86-64) the 16-byte masks of `simd.rs` go first.

use crate::simd;

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// High bit set in each byte of `w` (all bytes < 0x80) that lies in `lo..=hi`.
#[inline(always)]
fn in_range(w: u64, lo: u8, hi: u8) -> u64 {
    let at_least_lo = w + ONES * (0x80 - lo as u64);
    let above_hi = w + ONES * (0x7f - hi as u64);
    at_least_lo & !above_hi & HIGH
}

/// High bit set in each byte of `w` (all bytes < 0x80) equal to `c`.
#[inline(always)]
fn equal(w: u64, c: u8) -> u64 {
    let x = w ^ (ONES * c as u64);
    // high bit set where the byte is non-zero, without borrows between bytes
    let non_zero = ((x & !HIGH) + !HIGH) | x;
    !non_zero & HIGH
}

/// High bit set in each byte of `w` that is `[a-zA-Z0-9_]`, plus `:` when `colon`.
#[inline(always)]
fn name_bytes(w: u64, colon: bool) -> u64 {
    let ascii = !w & HIGH;
    let w = w & !HIGH;
    let letter = in_range(w | (ONES * 0x20), b'a', b'z');
    let digit = in_range(w, b'0', if colon { b':' } else { b'9' });
    (letter | digit | equal(w, b'_')) & ascii
}

/// The index of the first byte at or after `i` that is not a name character
/// (`[a-zA-Z0-9_]`, with `:` for metric names), or `b.len()`.
#[inline(always)]
pub(crate) fn name_end(b: &[u8], mut i: usize, colon: bool) -> usize {
    if simd::ENABLED {
        while let Some(chunk) = b.get(i..i + 16) {
            let other = simd::non_name_mask(chunk.try_into().expect("16 bytes"), colon);
            if other != 0 {
                return i + other.trailing_zeros() as usize;
            }
            i += 16;
        }
    }
    name_end_swar(b, i, colon)
}

/// [`name_end`] eight bytes at a time.
#[inline(always)]
fn name_end_swar(b: &[u8], mut i: usize, colon: bool) -> usize {
    while let Some(chunk) = b.get(i..i + 8) {
        let w = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
        let other = !name_bytes(w, colon) & HIGH;
        if other != 0 {
            return i + (other.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < b.len() && is_name_byte(b[i], colon) {
        i += 1;
    }
    i
}

#[inline(always)]
fn is_name_byte(c: u8, colon: bool) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || (colon && c == b':')
}

/// The index of the first `"`, `\` or line feed at or after `i`, or `b.len()`.
#[inline(always)]
pub(crate) fn quote_end(b: &[u8], mut i: usize) -> usize {
    if simd::ENABLED {
        while let Some(chunk) = b.get(i..i + 16) {
            let hits = simd::quote_end_mask(chunk.try_into().expect("16 bytes"));
            if hits != 0 {
                return i + hits.trailing_zeros() as usize;
            }
            i += 16;
        }
    }
    quote_end_swar(b, i)
}

/// [`quote_end`] eight bytes at a time.
#[inline(always)]
fn quote_end_swar(b: &[u8], mut i: usize) -> usize {
    while let Some(chunk) = b.get(i..i + 8) {
        let w = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
        let low = w & !HIGH;
        // a byte >= 0x80 never equals these, but its low bits might: mask it out
        let ascii = !w & HIGH;
        let hits = (equal(low, b'"') | equal(low, b'\\') | equal(low, b'\n')) & ascii;
        if hits != 0 {
            return i + (hits.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < b.len() && !matches!(b[i], b'"' | b'\\' | b'\n') {
        i += 1;
    }
    i
}

/// The index of the first `\` or line feed at or after `i`, or `b.len()`: where plain HELP
/// text ends (a backslash sends the line to the general lexer, which decodes escapes).
#[inline(always)]
pub(crate) fn help_end(b: &[u8], mut i: usize) -> usize {
    if simd::ENABLED {
        // (exact chunks: no bounds checks in the loop)
        for chunk in b.get(i..).unwrap_or_default().chunks_exact(16) {
            let hits = simd::help_end_mask(chunk.try_into().expect("16 bytes"));
            if hits != 0 {
                return i + hits.trailing_zeros() as usize;
            }
            i += 16;
        }
    }
    help_end_swar(b, i)
}

/// [`help_end`] eight bytes at a time.
#[inline(always)]
fn help_end_swar(b: &[u8], mut i: usize) -> usize {
    while let Some(chunk) = b.get(i..i + 8) {
        let w = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
        // a byte >= 0x80 never equals these, but its low bits might: mask it out
        let hits = (equal(w & !HIGH, b'\\') | equal(w & !HIGH, b'\n')) & !w & HIGH;
        if hits != 0 {
            return i + (hits.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < b.len() && !matches!(b[i], b'\\' | b'\n') {
        i += 1;
    }
    i
}

/// Whether `b` holds `name` at `at`: 16 bytes at a time (the last chunk overlapping) for the
/// long names of real scrapes, [`same_bytes`] below that.
#[inline(always)]
pub(crate) fn holds_at(b: &[u8], at: usize, name: &[u8]) -> bool {
    let n = name.len();
    let Some(s) = b.get(at..).and_then(|s| s.get(..n)) else {
        return false;
    };
    if simd::ENABLED && n >= 16 {
        // the first 16 bytes and the last 16 (overlapping) cover most names (taken as
        // first_chunk and last_chunk: no bounds checks)
        if n <= 32 {
            let first = |x: &[u8]| *x.first_chunk::<16>().expect("16 bytes");
            let last = |x: &[u8]| *x.last_chunk::<16>().expect("16 bytes");
            return simd::same_16(&first(s), &first(name)) && simd::same_16(&last(s), &last(name));
        }
        let chunk = |x: &[u8], i: usize| -> [u8; 16] { x[i..i + 16].try_into().expect("16 bytes") };
        let mut i = 0;
        while i + 32 < n {
            if !simd::same_16(&chunk(s, i), &chunk(name, i)) {
                return false;
            }
            i += 16;
        }
        return simd::same_16(&chunk(s, i), &chunk(name, i))
            && simd::same_16(&chunk(s, n - 16), &chunk(name, n - 16));
    }
    same_bytes(s, name)
}

/// Where the label that starts at `i` ends: the end of its name (as
/// [`name_end`] without `:`) and, when the two bytes after it (normally `="`) are there, the
/// end of its value (as [`quote_end`] from after them); else the value ends at `b.len()`.
/// With SSE2 a short label is read from one 16-byte load: both masks come from it.
#[inline(always)]
pub(crate) fn label_ends(b: &[u8], i: usize) -> (usize, usize) {
    // (one bounds check: `first_chunk` after the start)
    if let Some(chunk) = b
        .get(i..)
        .and_then(<[u8]>::first_chunk::<16>)
        .filter(|_| simd::ENABLED)
    {
        let (other, quotes) = simd::label_masks(chunk);
        let name_len = other.trailing_zeros();
        // the value starts within the chunk (`other` has a bit below 14)
        if name_len < 14 {
            let in_value = quotes >> (name_len + 2);
            let value_end = if in_value != 0 {
                i + (name_len + 2 + in_value.trailing_zeros()) as usize
            } else {
                quote_end(b, i + 16)
            };
            return (i + name_len as usize, value_end);
        }
    }
    let name = name_end(b, i, false);
    (name, quote_end(b, (name + 2).min(b.len())))
}

/// `a == b` for short byte strings, compared inline (a word at a time) instead of calling
/// `memcmp`, whose call costs more than the comparison for the names this crate compares.
#[inline(always)]
pub(crate) fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    if n < 8 {
        return same_short(a, b);
    }
    if n <= 16 {
        // the first word and the last (overlapping): first_chunk and last_chunk need no
        // bounds checks
        let first = |x: &[u8]| u64::from_le_bytes(*x.first_chunk::<8>().expect("8 bytes"));
        let last = |x: &[u8]| u64::from_le_bytes(*x.last_chunk::<8>().expect("8 bytes"));
        return first(a) == first(b) && last(a) == last(b);
    }
    let mut i = 0;
    while i + 8 <= n {
        if word(a, i) != word(b, i) {
            return false;
        }
        i += 8;
    }
    // the last, possibly overlapping, word
    i == n || word(a, n - 8) == word(b, n - 8)
}

/// `a == b` for two slices of the same length below 8: two overlapping loads of 4 bytes, or
/// the first, middle and last byte of 1 to 3. (Small enough to inline everywhere: a load
/// whose width was a match on the length was called out of line.)
#[inline(always)]
fn same_short(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n >= 4 {
        let quad =
            |s: &[u8], at: usize| u32::from_le_bytes(s[at..at + 4].try_into().expect("4 bytes"));
        return quad(a, 0) == quad(b, 0) && quad(a, n - 4) == quad(b, n - 4);
    }
    n == 0 || (a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1])
}

#[inline(always)]
fn word(s: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(s[at..at + 8].try_into().expect("8 bytes"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

        #[test]
        fn scans_match_byte_loops(b in prop::collection::vec(any::<u8>(), 0..80), start in 0usize..8, colon in any::<bool>()) {
            let start = start.min(b.len());
            let mut want = start;
            while want < b.len() && is_name_byte(b[want], colon) {
                want += 1;
            }
            // the SIMD path (where built), the SWAR path and the byte loop agree
            prop_assert_eq!(name_end(&b, start, colon), want);
            prop_assert_eq!(name_end_swar(&b, start, colon), want);
            let mut want = start;
            while want < b.len() && !matches!(b[want], b'"' | b'\\' | b'\n') {
                want += 1;
            }
            prop_assert_eq!(quote_end(&b, start), want);
            prop_assert_eq!(quote_end_swar(&b, start), want);
            let mut want = start;
            while want < b.len() && !matches!(b[want], b'\\' | b'\n') {
                want += 1;
            }
            prop_assert_eq!(help_end(&b, start), want);
            prop_assert_eq!(help_end_swar(&b, start), want);
        }

        #[test]
        fn long_names_and_values(s in "[a-zA-Z0-9_:]{0,70}", end in "[\"\\\\\n{}= .é\u{80}\u{ff}\u{7f}/@\\[`]{0,2}") {
            // a run of name (or value) bytes, then whatever ends it, at every offset in a chunk
            let b = format!("{s}{end}");
            let b = b.as_bytes();
            for colon in [false, true] {
                let mut want = 0;
                while want < b.len() && is_name_byte(b[want], colon) {
                    want += 1;
                }
                prop_assert_eq!(name_end(b, 0, colon), want);
            }
            let mut want = 0;
            while want < b.len() && !matches!(b[want], b'"' | b'\\' | b'\n') {
                want += 1;
            }
            prop_assert_eq!(quote_end(b, 0), want);
            let mut want = 0;
            while want < b.len() && !matches!(b[want], b'\\' | b'\n') {
                want += 1;
            }
            prop_assert_eq!(help_end(b, 0), want);
            prop_assert_eq!(help_end_swar(b, 0), want);
        }

        #[test]
        fn label_ends_match_byte_loops(s in "[a-z_:]{0,20}(=\"|=|\"|)[a-z \"\\\\\n=,é]{0,24}", start in 0usize..4) {
            let b = s.as_bytes();
            let start = start.min(b.len());
            let mut name = start;
            while name < b.len() && is_name_byte(b[name], false) {
                name += 1;
            }
            let mut value = (name + 2).min(b.len());
            while value < b.len() && !matches!(b[value], b'"' | b'\\' | b'\n') {
                value += 1;
            }
            prop_assert_eq!(label_ends(b, start), (name, value));
        }

        #[test]
        fn same_bytes_is_equality(
            a in prop::collection::vec(0u8..3, 0..24),
            b in prop::collection::vec(0u8..3, 0..24),
            cut in 0usize..24,
        ) {
            prop_assert_eq!(same_bytes(&a, &b), a == b);
            // equal lengths, and equal slices differing in one byte, are the interesting cases
            let cut = cut.min(a.len());
            let mut c = a.clone();
            prop_assert!(same_bytes(&a, &c));
            if cut < c.len() {
                c[cut] ^= 1;
                prop_assert!(!same_bytes(&a, &c));
            }
        }

        #[test]
        fn holds_at_is_equality(
            b in prop::collection::vec(0u8..3, 0..60),
            name in prop::collection::vec(0u8..3, 0..50),
            at in 0usize..12,
            copy in any::<bool>(),
            flip in any::<prop::sample::Index>(),
        ) {
            let want = |b: &[u8], name: &[u8]| b.get(at..at + name.len()) == Some(name);
            prop_assert_eq!(holds_at(&b, at, &name), want(&b, &name));
            // the interesting case: the name is there, or is there but for one byte
            if copy && !name.is_empty() {
                let mut b = b.clone();
                b.resize(b.len().max(at + name.len()), 0);
                b[at..at + name.len()].copy_from_slice(&name);
                prop_assert!(holds_at(&b, at, &name));
                let i = at + flip.index(name.len());
                b[i] ^= 1;
                prop_assert!(!holds_at(&b, at, &name));
            }
        }

        #[test]
        fn scans_on_name_like_bytes(s in "[a-zA-Z0-9_:\"\\\\\n{}= .é]{0,40}") {
            let b = s.as_bytes();
            let mut want = 0;
            while want < b.len() && is_name_byte(b[want], true) {
                want += 1;
            }
            prop_assert_eq!(name_end(b, 0, true), want);
        }
    }
}
