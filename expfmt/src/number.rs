//! Numbers as the formats define them: Go `ParseFloat` rules for values (no hex, no `_`, no
//! signed NaN, overflow is an error), int64 millisecond timestamps in the text format (OpenMetrics
//! seconds are in `timestamp.rs`); and Go's shortest `%g` output for the encoder.

use std::fmt::Write as _;

/// Parses a sample value. The error is a short reason for `ErrorKind::InvalidValue`.
#[inline]
pub(crate) fn parse_value(tok: &[u8]) -> Result<f64, &'static str> {
    match parse_decimal_fast(tok) {
        Some(v) => Ok(v),
        None => parse_value_slow(tok),
    }
}

const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// [`decimal_prefix`] when it reads all of `tok`.
#[inline]
fn parse_decimal_fast(tok: &[u8]) -> Option<f64> {
    decimal_prefix(tok).and_then(|(v, len)| (len == tok.len()).then_some(v))
}

/// Clinger's fast path: a decimal whose digits fit in 2^53 and whose power of ten is at most
/// 22 is one exact multiplication or division away, hence correctly rounded. Reads the longest
/// decimal at the start of `b` (`0`, `12345.67`, `1.707536e+06`: most exporter output) in one
/// pass, and returns it with its length; `None` when it is not in that form, or needs the
/// slow path. A caller that finds the token ending right there needs no scan for its end.
#[inline(always)]
pub(crate) fn decimal_prefix(tok: &[u8]) -> Option<(f64, usize)> {
    let n = tok.len();
    let negative = tok.first() == Some(&b'-');
    let int_start = usize::from(negative || tok.first() == Some(&b'+'));
    let mut i = int_start;
    let mut mantissa: u64 = 0;
    while i < n {
        let d = tok[i].wrapping_sub(b'0');
        if d > 9 {
            break;
        }
        mantissa = mantissa.wrapping_mul(10).wrapping_add(d as u64);
        i += 1;
    }
    let mut digits = i - int_start;
    let signed = |v: f64| if negative { -v } else { v };
    if !matches!(tok.get(i), Some(b'.' | b'e' | b'E')) && (1..=15).contains(&digits) {
        // a whole number below 10^15: exact in f64
        return Some((signed(mantissa as f64), i));
    }
    let mut fraction_digits = 0;
    if i < n && tok[i] == b'.' {
        i += 1;
        let start = i;
        // Go's %g writes up to 17 significant digits: eight at a time, then one by one
        while let Some(w) = tok.get(i..i + 8) {
            let w = u64::from_le_bytes(w.try_into().expect("8 bytes"));
            if !eight_digits(w) {
                break;
            }
            mantissa = mantissa
                .wrapping_mul(100_000_000)
                .wrapping_add(eight_digits_value(w));
            i += 8;
        }
        while i < n {
            let d = tok[i].wrapping_sub(b'0');
            if d > 9 {
                break;
            }
            mantissa = mantissa.wrapping_mul(10).wrapping_add(d as u64);
            i += 1;
        }
        fraction_digits = i - start;
        digits += fraction_digits;
    }
    // past 19 digits the mantissa may have wrapped: the slow path decides
    if digits == 0 || digits > 19 || mantissa > 1 << 53 {
        return None;
    }
    let mut exp = -(fraction_digits as i32);
    if i < n && (tok[i] | 0x20) == b'e' {
        i += 1;
        let negative_exp = tok.get(i) == Some(&b'-');
        i += usize::from(negative_exp || tok.get(i) == Some(&b'+'));
        let start = i;
        let mut e: i32 = 0;
        while i < n && tok[i].is_ascii_digit() && i - start < 4 {
            e = e * 10 + (tok[i] - b'0') as i32;
            i += 1;
        }
        if i == start {
            return None;
        }
        exp += if negative_exp { -e } else { e };
    }
    let m = mantissa as f64;
    let v = match exp {
        0 => m,
        1..=22 => m * POW10[exp as usize],
        -22..=-1 => m / POW10[(-exp) as usize],
        _ => return None,
    };
    Some((signed(v), i))
}

/// Whether the eight bytes of `w` (little-endian) are all ASCII digits.
#[inline(always)]
fn eight_digits(w: u64) -> bool {
    let above_9 = w.wrapping_add(0x4646_4646_4646_4646);
    let below_0 = w.wrapping_sub(0x3030_3030_3030_3030);
    (above_9 | below_0) & 0x8080_8080_8080_8080 == 0
}

/// The number that eight ASCII digits (`w`, little-endian, first digit lowest) spell, with
/// three multiplications (the SWAR reduction of pairs, then quads, then the halves).
#[inline(always)]
fn eight_digits_value(w: u64) -> u64 {
    let mut v = w - 0x3030_3030_3030_3030;
    v = v * 10 + (v >> 8); // pairs: each even byte holds a two-digit number
    let pairs_lo = (v & 0x0000_00ff_0000_00ff).wrapping_mul(0x000f_4240_0000_0064);
    let pairs_hi = ((v >> 16) & 0x0000_00ff_0000_00ff).wrapping_mul(0x0000_2710_0000_0001);
    (pairs_lo.wrapping_add(pairs_hi) >> 32) as u32 as u64
}

#[cold]
fn parse_value_slow(tok: &[u8]) -> Result<f64, &'static str> {
    let (signed, negative, rest) = match tok.first() {
        Some(b'+') => (true, false, &tok[1..]),
        Some(b'-') => (true, true, &tok[1..]),
        _ => (false, false, tok),
    };
    match rest.first() {
        None => return Err("empty number"),
        Some(b) if b.is_ascii_alphabetic() => {
            if rest.eq_ignore_ascii_case(b"inf") || rest.eq_ignore_ascii_case(b"infinity") {
                return Ok(if negative {
                    f64::NEG_INFINITY
                } else {
                    f64::INFINITY
                });
            }
            if rest.eq_ignore_ascii_case(b"nan") {
                return if signed {
                    Err("NaN cannot have a sign")
                } else {
                    Ok(f64::NAN)
                };
            }
            return Err("not a number");
        }
        _ => {}
    }
    check_decimal(rest)?;
    // check_decimal admitted only ASCII digits, '.', 'e', 'E', '+', '-'.
    let s = std::str::from_utf8(tok).map_err(|_| "not a number")?;
    let v: f64 = s.parse().map_err(|_| "not a number")?;
    if v.is_infinite() {
        return Err("out of float64 range");
    }
    Ok(v)
}

/// Checks `digits [. digits] [e [sign] digits]` with at least one mantissa digit.
pub(crate) fn check_decimal(s: &[u8]) -> Result<(), &'static str> {
    let mut i = 0;
    let mut mantissa_digits = 0;
    while i < s.len() && s[i].is_ascii_digit() {
        i += 1;
        mantissa_digits += 1;
    }
    if i < s.len() && s[i] == b'.' {
        i += 1;
        while i < s.len() && s[i].is_ascii_digit() {
            i += 1;
            mantissa_digits += 1;
        }
    }
    if mantissa_digits == 0 {
        return Err(bad_char_reason(s));
    }
    if i < s.len() && (s[i] == b'e' || s[i] == b'E') {
        i += 1;
        if i < s.len() && (s[i] == b'+' || s[i] == b'-') {
            i += 1;
        }
        let start = i;
        while i < s.len() && s[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return Err("exponent without digits");
        }
    }
    if i != s.len() {
        return Err(bad_char_reason(s));
    }
    Ok(())
}

fn bad_char_reason(s: &[u8]) -> &'static str {
    if s.contains(&b'_') {
        "underscores are not allowed in numbers"
    } else if s.len() > 1 && s[0] == b'0' && (s[1] | 0x20) == b'x' {
        "hexadecimal numbers are not allowed"
    } else {
        "not a number"
    }
}

/// Text-format timestamp: an int64 count of milliseconds, as Go's `ParseInt` reads it.
pub(crate) fn parse_text_timestamp(tok: &[u8]) -> Result<i64, &'static str> {
    let (negative, digits) = match tok.first() {
        Some(b'+') => (false, &tok[1..]),
        Some(b'-') => (true, &tok[1..]),
        _ => (false, tok),
    };
    if digits.is_empty() {
        return Err("expected an integer number of milliseconds");
    }
    let mut n: i64 = 0;
    for &b in digits {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            return Err("expected an integer number of milliseconds");
        }
        n = n
            .checked_mul(10)
            .and_then(|n| {
                if negative {
                    n.checked_sub(d as i64)
                } else {
                    n.checked_add(d as i64)
                }
            })
            .ok_or("out of int64 range")?;
    }
    Ok(n)
}

/// Writes `v` as Go's `strconv.FormatFloat(v, 'g', -1, 64)` does: the shortest digits that
/// read back to the same float, in exponent form when the decimal exponent is below -4 or at
/// least 6 (`1e+06`, `1e-05`), and `NaN`, `+Inf`, `-Inf` for the specials.
pub fn write_float(out: &mut String, v: f64) {
    if v.is_nan() {
        out.push_str("NaN");
        return;
    }
    if v.is_infinite() {
        out.push_str(if v > 0.0 { "+Inf" } else { "-Inf" });
        return;
    }
    if v == v.trunc() && v.abs() < 1e6 {
        // Fast path for the common small integers.
        if v == 0.0 && v.is_sign_negative() {
            out.push('-');
        }
        let _ = write!(out, "{}", v as i64);
        return;
    }
    let mut buf = StackStr::<40>::new();
    let _ = write!(buf, "{v:e}");
    let s = buf.as_str();
    let (mantissa, exp) = s
        .split_once('e')
        .expect("LowerExp always writes an exponent");
    let exp: i32 = exp.parse().expect("LowerExp exponent is an integer");
    let (negative, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => (true, m),
        None => (false, mantissa),
    };
    let digits: StackStr<24> = mantissa.chars().filter(|c| *c != '.').collect();
    let digits = digits.as_str();
    if negative {
        out.push('-');
    }
    if !(-4..6).contains(&exp) {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        let _ = write!(out, "{:02}", exp.unsigned_abs());
    } else if exp < 0 {
        out.push_str("0.");
        for _ in 0..(-exp - 1) {
            out.push('0');
        }
        out.push_str(digits);
    } else {
        let point = exp as usize + 1;
        if digits.len() <= point {
            out.push_str(digits);
            for _ in digits.len()..point {
                out.push('0');
            }
        } else {
            out.push_str(&digits[..point]);
            out.push('.');
            out.push_str(&digits[point..]);
        }
    }
}

/// Writes `v` in the OpenMetrics canonical form for `le` and `quantile` values: Go's shortest
/// `%g` with `.0` added to integral values (`1.0`, `100000.0`, `1e+06`).
pub fn write_canonical_float(out: &mut String, v: f64) {
    let start = out.len();
    write_float(out, v);
    let written = &out[start..];
    if v.is_finite() && !written.contains(['.', 'e']) {
        out.push_str(".0");
    }
}

/// A fixed-capacity string on the stack, for formatting without allocating.
struct StackStr<const N: usize> {
    buf: [u8; N],
    len: usize,
}

impl<const N: usize> StackStr<N> {
    fn new() -> Self {
        StackStr {
            buf: [0; N],
            len: 0,
        }
    }
    fn as_str(&self) -> &str {
        // Only whole `str`s and `char`s are ever appended.
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or("")
    }
}

impl<const N: usize> std::fmt::Write for StackStr<N> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        if end > N {
            return Err(std::fmt::Error);
        }
        self.buf[self.len..end].copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

impl<const N: usize> FromIterator<char> for StackStr<N> {
    fn from_iter<I: IntoIterator<Item = char>>(iter: I) -> Self {
        let mut s = StackStr::new();
        for c in iter {
            let _ = s.write_char(c);
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(v: f64) -> String {
        let mut s = String::new();
        write_float(&mut s, v);
        s
    }

    #[test]
    fn go_shortest_g() {
        for (v, want) in [
            (0.0, "0"),
            (-0.0, "-0"),
            (1.0, "1"),
            (100000.0, "100000"),
            (123456.0, "123456"),
            (1e6, "1e+06"),
            (1234567.0, "1.234567e+06"),
            (0.0001, "0.0001"),
            (1e-5, "1e-05"),
            (1.707536e6, "1.707536e+06"),
            (0.25, "0.25"),
            (-3.5, "-3.5"),
            (1e21, "1e+21"),
            (1e100, "1e+100"),
            (5e-324, "5e-324"),
            (f64::MAX, "1.7976931348623157e+308"),
            (123.456, "123.456"),
            (999999.0, "999999"),
            (0.1 + 0.2, "0.30000000000000004"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
        ] {
            assert_eq!(g(v), want, "{v:?}");
        }
    }

    #[test]
    fn canonical_le() {
        for (v, want) in [
            (0.0, "0.0"),
            (1.0, "1.0"),
            (10.0, "10.0"),
            (100000.0, "100000.0"),
            (1e6, "1e+06"),
            (0.001, "0.001"),
            (1e-5, "1e-05"),
            (-1.0, "-1.0"),
            (f64::INFINITY, "+Inf"),
        ] {
            let mut s = String::new();
            write_canonical_float(&mut s, v);
            assert_eq!(s, want);
        }
    }

    #[test]
    fn values_follow_go_rules() {
        let ok = |s: &str| parse_value(s.as_bytes()).unwrap();
        assert_eq!(ok("1"), 1.0);
        assert_eq!(ok(".5"), 0.5);
        assert_eq!(ok("5."), 5.0);
        assert_eq!(ok("+5"), 5.0);
        assert_eq!(ok("1E3"), 1000.0);
        assert_eq!(ok("007"), 7.0);
        assert!(ok("-0").is_sign_negative());
        assert_eq!(ok("1e-400"), 0.0);
        assert_eq!(ok("9223372036854775808"), 9223372036854775808.0);
        for s in ["Inf", "+Inf", "inf", "Infinity", "+infinity", "INF"] {
            assert_eq!(ok(s), f64::INFINITY, "{s}");
        }
        assert_eq!(ok("-Inf"), f64::NEG_INFINITY);
        for s in ["NaN", "nan", "NAN"] {
            assert!(ok(s).is_nan());
        }
        for (s, why) in [
            ("+NaN", "NaN cannot have a sign"),
            ("-NaN", "NaN cannot have a sign"),
            ("0x1A", "hexadecimal numbers are not allowed"),
            ("0x1p3", "hexadecimal numbers are not allowed"),
            ("1_000", "underscores are not allowed in numbers"),
            ("1e400", "out of float64 range"),
            ("", "empty number"),
            ("1e", "exponent without digits"),
            (".", "not a number"),
            ("1.2.3", "not a number"),
            ("infinit", "not a number"),
            ("--1", "not a number"),
        ] {
            assert_eq!(parse_value(s.as_bytes()), Err(why), "{s}");
        }
    }

    #[test]
    fn fast_decimal_path_matches_std() {
        for s in [
            "12345.67",
            "1.707536e+06",
            "-0.25",
            "+3.5e-3",
            "0.000001",
            "9007199254740992",
            "1e22",
            "1e-22",
            "123456789012345678",
            "-0",
            "0.1",
            "2.5E10",
            "7.",
            ".5",
        ] {
            let want: f64 = s.parse().unwrap();
            let got = parse_value(s.as_bytes()).unwrap();
            assert_eq!(got.to_bits(), want.to_bits(), "{s}");
        }
        assert_eq!(parse_decimal_fast(b"1e23"), None);
        assert_eq!(parse_decimal_fast(b"9007199254740993"), None);
    }

    #[test]
    fn eight_digits_at_a_time() {
        for s in ["00000000", "12345678", "99999999", "00000001", "10000000"] {
            let w = u64::from_le_bytes(s.as_bytes().try_into().unwrap());
            assert!(eight_digits(w));
            assert_eq!(eight_digits_value(w), s.parse::<u64>().unwrap(), "{s}");
        }
        for b in [
            b"1234567/",
            b"1234567:",
            b"a2345678",
            b" 2345678",
            b"1234\x80567",
        ] {
            assert!(!eight_digits(u64::from_le_bytes(*b)), "{b:?}");
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 5000, ..Default::default() })]

        /// Decimals of every shape the fast path reads (and some it leaves to the slow one)
        /// come out bit for bit as the standard library reads them.
        #[test]
        fn decimals_match_std(
            sign in "[-+]?",
            int in "[0-9]{0,20}",
            frac in proptest::option::of("[0-9]{0,20}"),
            exp in proptest::option::of("[eE][-+]?[0-9]{1,3}"),
        ) {
            let s = format!("{sign}{int}{}{}", frac.map(|f| format!(".{f}")).unwrap_or_default(), exp.unwrap_or_default());
            let want: Result<f64, _> = s.parse();
            match (parse_value(s.as_bytes()), want) {
                (Ok(got), Ok(want)) if want.is_finite() => proptest::prop_assert_eq!(got.to_bits(), want.to_bits(), "{}", s),
                (Ok(got), Ok(want)) => proptest::prop_assert!(false, "{} read as {} (std: {})", s, got, want),
                (Err(_), Ok(want)) => proptest::prop_assert!(want.is_infinite(), "{} refused (std: {})", s, want),
                (Ok(got), Err(_)) => proptest::prop_assert!(false, "{} read as {}", s, got),
                (Err(_), Err(_)) => {}
            }
        }

        /// Read from a longer input, a decimal followed by a blank reads as the token alone.
        #[test]
        fn prefix_reads_up_to_the_token_end(tok in proptest::collection::vec(proptest::sample::select(b"0123456789.eE+-".to_vec()), 0..24), tail in "( |\n|\t)[0-9a-z .]{0,3}") {
            let mut line = tok.clone();
            line.extend_from_slice(tail.as_bytes());
            let alone = parse_decimal_fast(&tok);
            match decimal_prefix(&line) {
                Some((v, len)) if len == tok.len() => proptest::prop_assert_eq!(Some(v.to_bits()), alone.map(f64::to_bits)),
                // stopped inside the token: the lexer then reads the whole token
                Some((_, len)) => proptest::prop_assert!(len < tok.len()),
                None => proptest::prop_assert_eq!(alone, None),
            }
        }

        /// Any bytes: the value, or the refusal, is the one the slow path alone gives.
        #[test]
        fn fast_path_agrees_with_the_slow_one(tok in proptest::collection::vec(proptest::sample::select(b"0123456789.eE+-x/:".to_vec()), 0..24)) {
            let slow = parse_value_slow(&tok).map(f64::to_bits);
            if let Some(fast) = parse_decimal_fast(&tok) {
                proptest::prop_assert_eq!(Ok(fast.to_bits()), slow, "{:?}", String::from_utf8_lossy(&tok));
            }
        }
    }

    #[test]
    fn text_timestamps() {
        assert_eq!(parse_text_timestamp(b"123"), Ok(123));
        assert_eq!(parse_text_timestamp(b"-5"), Ok(-5));
        assert_eq!(parse_text_timestamp(b"+5"), Ok(5));
        assert_eq!(parse_text_timestamp(b"9223372036854775807"), Ok(i64::MAX));
        assert_eq!(parse_text_timestamp(b"-9223372036854775808"), Ok(i64::MIN));
        assert!(parse_text_timestamp(b"9223372036854775808").is_err());
        assert!(parse_text_timestamp(b"1.5").is_err());
        assert!(parse_text_timestamp(b"1e3").is_err());
        assert!(parse_text_timestamp(b"-").is_err());
    }
}
