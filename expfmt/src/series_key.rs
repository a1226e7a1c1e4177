//! Series keys: one hash per label, added up, so that a series' key does not depend on the
//! order of its labels; the lexer's fast path adds them up as it reads a line, in place in the
//! input, and the validator from the labels.

use std::hash::{BuildHasher, Hasher};

use foldhash::fast::FixedState;

use crate::record::Label;
use crate::scan::same_bytes;

/// The labels' part of a series identity, independent of their order: one hash per label
/// that has a value (`a{x="1",y=""}` is the series `a{x="1"}`), added up. The series key adds
/// the hash of the name's suffix (the table holds the samples of one family). Equal keys are
/// confirmed by comparing the series themselves (`earlier_point`). The lexer's fast path
/// adds the same label hashes up as it reads a line.
pub(crate) fn labels_hash(labels: &[Label<'_>]) -> u64 {
    labels
        .iter()
        .filter(|l| !l.value.is_empty())
        .map(label_hash)
        .fold(0u64, u64::wrapping_add)
}

/// [`label_text_hash`] of `l` written plainly.
pub(crate) fn label_hash(l: &Label<'_>) -> u64 {
    let (name, value) = (l.name.as_bytes(), l.value.as_bytes());
    let len = name.len() + 2 + value.len();
    let mut short = [0u8; 64];
    let mut long = Vec::new();
    let text = if len <= short.len() {
        &mut short[..len]
    } else {
        long.resize(len, 0);
        &mut long[..]
    };
    text[..name.len()].copy_from_slice(name);
    text[name.len()..name.len() + 2].copy_from_slice(b"=\"");
    text[name.len() + 2..].copy_from_slice(value);
    label_text_hash(text, name.len())
}

/// Odd 64-bit constants (digits of pi) that seed and separate the label hash's steps.
const SEED: [u64; 3] = [
    0x243f_6a88_85a3_08d3,
    0x1319_8a2e_0370_7344,
    0xa409_3822_299f_31d1,
];

/// The hash of one label for the series keys, from its text as a plain line writes it:
/// `name="value` (up to the closing quote), and the name's length, which tells `a="b` + `c`
/// from `a` + `b="c`. A label of up to 16 bytes costs one multiply, and the lexer reads it
/// from the line with one load ([`short_label_hash`]).
pub(crate) fn label_text_hash(text: &[u8], name_len: usize) -> u64 {
    let n = text.len();
    if n <= 16 {
        let mut padded = [0u8; 16];
        padded[..n].copy_from_slice(text);
        return short_label_hash(word(&padded, 0), word(&padded, 8), n, name_len);
    }
    let mut h = SEED[0];
    let mut i = 0;
    while n - i > 16 {
        h = folded_multiply(word(text, i) ^ h, word(text, i + 8) ^ SEED[1]);
        i += 16;
    }
    label_words_hash(h, word(text, n - 16), word(text, n - 8), n, name_len)
}

/// The series-key hash of the label whose text (`name="value`, without the closing quote) is
/// `b[start..end]`, its name ending at `name_end`: a short label is read from the line as two
/// words, masked to its length, when 16 bytes are there.
#[inline(always)]
pub(crate) fn label_hash_at(b: &[u8], start: usize, name_end: usize, end: usize) -> u64 {
    let len = end - start;
    // (the chunk as `scan::label_ends` takes it: the compiler shares its bounds check)
    match b.get(start..).and_then(<[u8]>::first_chunk::<16>) {
        Some(chunk) if len <= 16 => {
            let [lo_mask, hi_mask] = TEXT_MASKS[len];
            let lo = u64::from_le_bytes(chunk[..8].try_into().expect("8 bytes")) & lo_mask;
            let hi = u64::from_le_bytes(chunk[8..].try_into().expect("8 bytes")) & hi_mask;
            short_label_hash(lo, hi, len, name_end - start)
        }
        // 17 to 32 bytes (`handler="/api/v1/query`): label_text_hash's one step, in place
        _ if (17..=32).contains(&len) => {
            let text = &b[start..end];
            let h = folded_multiply(word(text, 0) ^ SEED[0], word(text, 8) ^ SEED[1]);
            let (lo, hi) = (word(text, len - 16), word(text, len - 8));
            label_words_hash(h, lo, hi, len, name_end - start)
        }
        _ => label_text_hash(&b[start..end], name_end - start),
    }
}

/// `text`, when it is borrowed from `input` and up to 15 bytes long, as two little-endian
/// words holding its bytes and then its length (the rest zero), read from `input` with one
/// 16-byte load; `None` otherwise, or when 16 bytes are not there. Equal words, equal texts.
#[inline(always)]
pub(crate) fn short_text_words(input: &[u8], text: &[u8]) -> Option<[u64; 2]> {
    let len = text.len();
    // where `text` is in `input`, if it is (plain address arithmetic)
    let start = (text.as_ptr() as usize).wrapping_sub(input.as_ptr() as usize);
    let chunk = input.get(start..)?.first_chunk::<16>()?;
    if len >= 16 {
        return None;
    }
    let [lo_mask, hi_mask] = TEXT_MASKS[len];
    let lo = u64::from_le_bytes(chunk[..8].try_into().expect("8 bytes")) & lo_mask;
    let hi = u64::from_le_bytes(chunk[8..].try_into().expect("8 bytes")) & hi_mask;
    // the length in the last byte, past the text
    Some([lo, hi | (len as u64) << 56])
}

/// For each length up to 16, the masks that keep that many bytes of two little-endian words.
static TEXT_MASKS: [[u64; 2]; 17] = {
    let mut t = [[0u64; 2]; 17];
    let mut len = 1;
    while len <= 16 {
        t[len] = if len < 8 {
            [(1 << (8 * len)) - 1, 0]
        } else if len < 16 {
            [u64::MAX, (1 << (8 * (len - 8))) - 1]
        } else {
            [u64::MAX, u64::MAX]
        };
        len += 1;
    }
    t
};

/// [`label_text_hash`] of a label of up to 16 bytes, given as two little-endian words whose
/// bytes past the label are zero.
#[inline(always)]
pub(crate) fn short_label_hash(lo: u64, hi: u64, len: usize, name_len: usize) -> u64 {
    label_words_hash(SEED[0], lo, hi, len, name_len)
}

/// The last step of [`label_text_hash`]: the last 16 bytes mixed with the hash so far, plus
/// both lengths (in distinct bits, so that they cannot cancel).
#[inline(always)]
pub(crate) fn label_words_hash(h: u64, lo: u64, hi: u64, len: usize, name_len: usize) -> u64 {
    let lengths = (len as u64) << 32 | name_len as u64;
    folded_multiply(lo ^ h, hi ^ SEED[1]).wrapping_add(lengths.wrapping_mul(SEED[2]))
}

#[inline(always)]
pub(crate) fn word(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

/// The 128-bit product of `x` and `y`, its halves folded together (as foldhash mixes).
#[inline(always)]
pub(crate) fn folded_multiply(x: u64, y: u64) -> u64 {
    let full = (x as u128).wrapping_mul(y as u128);
    (full as u64) ^ ((full >> 64) as u64)
}

/// Hashes a sample name's suffix for the series keys.
#[inline]
pub(crate) fn suffix_hash(suffix: &[u8]) -> u64 {
    let mut h = SERIES_HASH.build_hasher();
    h.write(suffix);
    h.finish()
}

const SERIES_HASH: FixedState = FixedState::with_seed(0x5e71e5);

/// The share of label `bound` (`le` or `quantile`) in [`labels_hash`]: taking it away leaves
/// the key of a histogram or summary run. Label names are unique, so there is at most one.
/// The bound is usually the last label, and read from the input as written: hashed there.
/// Out of line: histograms and summaries only.
#[inline(never)]
pub(crate) fn bound_hash(input: &[u8], labels: &[Label<'_>], bound: &str) -> u64 {
    let label = match labels.last() {
        Some(l) if same_bytes(l.name.as_bytes(), bound.as_bytes()) => Some(l),
        _ => labels
            .iter()
            .find(|l| same_bytes(l.name.as_bytes(), bound.as_bytes())),
    };
    label
        .filter(|l| !l.value.is_empty())
        .map_or(0, |l| label_hash_in(input, l))
}

/// [`label_hash`], read from `input` in place when the label is written there plainly
/// (`name="value`, both borrowed from that place), as the fast path reads it.
pub(crate) fn label_hash_in(input: &[u8], l: &Label<'_>) -> u64 {
    let (name, value) = (l.name.as_bytes(), l.value.as_bytes());
    // where the name and the value are in `input`, if they are (plain address arithmetic)
    let start = (name.as_ptr() as usize).wrapping_sub(input.as_ptr() as usize);
    let value_start = start.wrapping_add(name.len() + 2);
    let in_place = start < input.len()
        && value_start + value.len() <= input.len()
        && value.as_ptr() as usize == input.as_ptr() as usize + value_start
        && &input[value_start - 2..value_start] == b"=\"";
    if in_place {
        label_hash_at(input, start, start + name.len(), value_start + value.len())
    } else {
        label_hash(l)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lexer::lex_line;
    use crate::record::{Labels, Record};
    use crate::Format;

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 2000, ..Default::default() })]

        /// A label read from the line in place hashes as its text alone does, at any place
        /// (16 bytes to read there or not) and any length.
        #[test]
        fn label_hash_in_place_is_the_text_hash(
            before in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..4),
            text in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..40),
            after in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..20),
            name_len in 0usize..40,
        ) {
            let b = [before.as_slice(), &text, &after].concat();
            let (start, end) = (before.len(), before.len() + text.len());
            let name_len = name_len.min(text.len());
            proptest::prop_assert_eq!(
                label_hash_at(&b, start, start + name_len, end),
                label_text_hash(&text, name_len)
            );
        }

        /// Two texts read from one input as words have the same words when they are the
        /// same text, wherever they are; no words for a text not in the input, or of 16 bytes
        /// or more.
        #[test]
        fn short_text_words_tell_texts_apart(
            input in proptest::collection::vec(0u8..3, 0..40),
            (a, a_len, b, b_len) in (0usize..40, 0usize..18, 0usize..40, 0usize..18),
        ) {
            let text = |at: usize, len: usize| input.get(at..at + len);
            let (Some(x), Some(y)) = (text(a, a_len), text(b, b_len)) else {
                return Ok(());
            };
            let (wx, wy) = (short_text_words(&input, x), short_text_words(&input, y));
            proptest::prop_assert_eq!(wx.is_some(), x.len() < 16 && a + 16 <= input.len());
            if let (Some(wx), Some(wy)) = (wx, wy) {
                proptest::prop_assert_eq!(wx == wy, x == y);
            }
            let copy = x.to_vec();
            proptest::prop_assert_eq!(short_text_words(&input, &copy), None);
        }

        /// A label read from a line hashes the same in place (the bound of a histogram
        /// bucket) as copied, however it is written.
        #[test]
        fn label_hash_in_the_input_is_the_label_hash(
            name in "[a-z]{1,12}",
            value in "[a-z0-9\\\\\"é.]{0,20}",
            eq in "(=|= )",
        ) {
            let escaped = value.replace('\\', "\\\\").replace('"', "\\\"");
            let line = format!("m{{{name}{eq}\"{escaped}\"}} 1\n");
            let Ok(Record::Sample(s)) = lex_line(line.trim_end(), Format::Text, &mut Labels::new()) else {
                return Err(proptest::test_runner::TestCaseError::fail(line.clone()));
            };
            let l = &s.labels[0];
            proptest::prop_assert_eq!(label_hash_in(line.as_bytes(), l), label_hash(l));
        }
    }

    #[test]
    fn label_hashes_tell_name_from_value() {
        // the same text `a="b="c`, split in two places (a quoted name may hold `="`)
        let split = |n: &'static str, v: &'static str| label_hash(&Label::new(n, v));
        assert_ne!(split("a", "b=\"c"), split("a=\"b", "c"));
        // lengths around the 16-byte step
        let hashes: std::collections::HashSet<u64> = (0..40)
            .flat_map(|n| (0..40).map(move |v| ("x".repeat(n), "y".repeat(v))))
            .map(|(n, v)| label_hash(&Label::new(n, v)))
            .collect();
        assert_eq!(hashes.len(), 40 * 40);
    }
}
