//! Numbers as the formats define them: Go `ParseFloat` rules for values (no hex, no `_`, no
//! signed NaN, overflow is an error), int64 millisecond timestamps in the text format (OpenMetrics
//! seconds are in `timestamp.rs`); and Go's shortest `%g` output for the encoder.

use std::fmt::Write as _;

/// Parses a sample value. The error is a short reason for `ErrorKind::InvalidValue`.
#[inline]
pub(crate) fn parse_value(tok: &[u8]) -> Result<f64, &'static str> {
    // Most values are short unsigned integers: exact in f64 below 2^53.
    if !tok.is_empty() && tok.len() <= 15 {
        let mut n: u64 = 0;
        let mut all_digits = true;
        for &b in tok {
            let d = b.wrapping_sub(b'0');
            if d > 9 {
                all_digits = false;
                break;
            }
            n = n * 10 + d as u64;
        }
        if all_digits {
            return Ok(n as f64);
        }
    }
    match parse_decimal_fast(tok) {
        Some(v) => Ok(v),
        None => parse_value_slow(tok),
    }
}

const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// Clinger's fast path: a decimal whose digits fit in 2^53 and whose power of ten is at most
/// 22 is one exact multiplication or division away, hence correctly rounded. Covers most
/// exporter output (`12345.67`, `1.707536e+06`); anything else returns `None`.
#[inline]
fn parse_decimal_fast(tok: &[u8]) -> Option<f64> {
    let n = tok.len();
    let negative = tok.first() == Some(&b'-');
    let mut i = usize::from(negative || tok.first() == Some(&b'+'));
    let mut mantissa: u64 = 0;
    let mut digits = 0;
    let mut exp: i32 = 0;
    while i < n && tok[i].is_ascii_digit() {
        mantissa = mantissa
            .wrapping_mul(10)
            .wrapping_add((tok[i] - b'0') as u64);
        digits += 1;
        i += 1;
    }
    if i < n && tok[i] == b'.' {
        i += 1;
        while i < n && tok[i].is_ascii_digit() {
            mantissa = mantissa
                .wrapping_mul(10)
                .wrapping_add((tok[i] - b'0') as u64);
            digits += 1;
            exp -= 1;
            i += 1;
        }
    }
    if digits == 0 || digits > 19 || mantissa > 1 << 53 {
        return None;
    }
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
    if i != n {
        return None;
    }
    let m = mantissa as f64;
    let v = match exp {
        0 => m,
        1..=22 => m * POW10[exp as usize],
        -22..=-1 => m / POW10[(-exp) as usize],
        _ => return None,
    };
    Some(if negative { -v } else { v })
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
