//! Sample and exemplar timestamps, kept exactly as the exposition wrote them.
//!
//! The text format writes int64 milliseconds; OpenMetrics writes seconds as any real number
//! (`1700000000.123456789`, `12345678901234567890.1234567890`, `1e300`). A decimal
//! `digits × 10^exponent` holds both without rounding: no valid timestamp is refused, and the
//! common case (whole milliseconds, `exponent == -3`) costs nothing to build or to read back.

use std::cmp::Ordering;
use std::fmt;

use crate::number::check_decimal;

/// The most significant digits kept: `digits` stays below 10^38, so two of them compare
/// after scaling by a power of ten without overflowing `u128`.
const MAX_DIGITS: u32 = 38;

/// A timestamp: seconds since the Unix epoch, as an exact decimal.
///
/// Built from int64 milliseconds (text format) or from OpenMetrics seconds, which keep
/// every digit up to 38 significant ones: further digits are dropped (rounding toward zero
/// by less than 10^-37 of the value, far below a nanosecond for any real time), so what is
/// kept is what [`Display`](fmt::Display) writes and reads back. Equality and order are
/// those of the numbers (`1.50` equals `1.5`).
#[derive(Debug, Clone, Copy)]
pub struct Timestamp {
    negative: bool,
    digits: u128,
    exponent: i32,
}

impl Timestamp {
    /// `ms` milliseconds since the epoch.
    #[inline]
    pub const fn from_millis(ms: i64) -> Timestamp {
        Timestamp {
            negative: ms < 0,
            digits: ms.unsigned_abs() as u128,
            exponent: -3,
        }
    }

    /// Milliseconds since the epoch, rounded down (sub-millisecond digits toward negative
    /// infinity), or `None` beyond the int64 range.
    #[inline]
    pub fn as_millis(self) -> Option<i64> {
        if self.exponent == -3 {
            return signed(self.negative, self.digits);
        }
        self.as_millis_slow()
    }

    #[cold]
    fn as_millis_slow(self) -> Option<i64> {
        let (ms, inexact) = self.scaled(3)?;
        // round toward negative infinity
        signed(self.negative, ms + (self.negative && inexact) as u128)
    }

    /// Milliseconds rounded down and clamped to the int64 range, for stores that keep int64
    /// milliseconds (a timestamp beyond it is hundreds of millions of years away).
    #[inline]
    pub fn as_millis_clamped(self) -> i64 {
        self.as_millis().unwrap_or(if self.is_negative() {
            i64::MIN
        } else {
            i64::MAX
        })
    }

    /// Whole milliseconds, exactly: `None` when the timestamp has sub-millisecond digits or
    /// is beyond the int64 range.
    pub fn as_exact_millis(self) -> Option<i64> {
        match self.scaled(3) {
            Some((_, false)) => self.as_millis(),
            _ => None,
        }
    }

    /// Milliseconds as the nearest `f64` (what JavaScript keeps).
    pub fn as_millis_f64(self) -> f64 {
        match self.as_exact_millis() {
            Some(ms) if ms.unsigned_abs() <= 1 << 53 => ms as f64,
            _ => self.shifted(3).parse().unwrap_or(f64::NAN),
        }
    }

    /// Seconds as the nearest `f64`.
    pub fn as_secs_f64(self) -> f64 {
        match self.as_exact_millis() {
            // both exact in f64: one correctly rounded division
            Some(ms) if ms.unsigned_abs() <= 1 << 53 => ms as f64 / 1000.0,
            _ => self.to_string().parse().unwrap_or(f64::NAN),
        }
    }

    /// `digits × 10^(exponent + shift)` as a whole number (rounded toward zero) and whether
    /// that dropped anything; `None` when it does not fit in 38 digits.
    fn scaled(self, shift: i32) -> Option<(u128, bool)> {
        let e = self.exponent.saturating_add(shift);
        if self.digits == 0 {
            Some((0, false))
        } else if e >= 0 {
            let n = self.digits.checked_mul(10u128.checked_pow(e as u32)?)?;
            Some((n, false))
        } else if e < -(MAX_DIGITS as i32) {
            Some((0, true))
        } else {
            let div = 10u128.pow(e.unsigned_abs());
            Some((self.digits / div, self.digits % div != 0))
        }
    }

    /// The number times 10^shift, in the decimal form `Display` writes.
    fn shifted(self, shift: i32) -> String {
        Timestamp {
            exponent: self.exponent.saturating_add(shift),
            ..self
        }
        .to_string()
    }

    /// Digits without trailing zeros and the matching exponent; `(0, 0)` for zero.
    fn normalized(self) -> (u128, i32) {
        if self.digits == 0 {
            return (0, 0);
        }
        let (mut d, mut e) = (self.digits, self.exponent);
        while d % 10 == 0 {
            d /= 10;
            e = e.saturating_add(1);
        }
        (d, e)
    }

    fn is_negative(self) -> bool {
        self.negative && self.digits != 0
    }
}

/// `digits` with its sign, when it fits in an `i64`.
fn signed(negative: bool, digits: u128) -> Option<i64> {
    if negative {
        if digits > i64::MAX as u128 + 1 {
            return None;
        }
        Some((digits as i128).wrapping_neg() as i64)
    } else {
        i64::try_from(digits).ok()
    }
}

fn digit_count(n: u128) -> i32 {
    n.checked_ilog10().map_or(0, |l| l as i32 + 1)
}

impl PartialEq for Timestamp {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Timestamp {}

impl PartialOrd for Timestamp {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Timestamp {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self.is_negative(), other.is_negative()) {
            (false, true) => return Ordering::Greater,
            (true, false) => return Ordering::Less,
            _ => {}
        }
        let magnitude = magnitude_cmp(*self, *other);
        if self.is_negative() {
            magnitude.reverse()
        } else {
            magnitude
        }
    }
}

/// Compares the absolute values.
fn magnitude_cmp(a: Timestamp, b: Timestamp) -> Ordering {
    let ((da, ea), (db, eb)) = (a.normalized(), b.normalized());
    match (da == 0, db == 0) {
        (true, true) => return Ordering::Equal,
        (true, false) => return Ordering::Less,
        (false, true) => return Ordering::Greater,
        _ => {}
    }
    // the power of ten of the leading digit first
    let (la, lb) = (digit_count(da) + ea, digit_count(db) + eb);
    if la != lb {
        return la.cmp(&lb);
    }
    // same leading power: align the digits (both below 10^38, the gap below 38)
    let (ca, cb) = (digit_count(da), digit_count(db));
    let (xa, xb) = match ca.cmp(&cb) {
        Ordering::Less => (da * 10u128.pow((cb - ca) as u32), db),
        Ordering::Greater => (da, db * 10u128.pow((ca - cb) as u32)),
        Ordering::Equal => (da, db),
    };
    xa.cmp(&xb)
}

impl fmt::Display for Timestamp {
    /// Exact decimal seconds without trailing zeros (`1700000000.5`, `-1`, `0.001`); far
    /// from 1 in exponent form (`1.5e+300`, `1e-30`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (d, e) = self.normalized();
        if d == 0 {
            return f.write_str("0");
        }
        if self.is_negative() {
            f.write_str("-")?;
        }
        let digits = d.to_string();
        let n = digits.len() as i32;
        let point = n + e; // digits before the decimal point
        if e >= 0 && point <= 40 {
            write!(f, "{digits}{:0<width$}", "", width = e as usize)
        } else if e < 0 && point > 0 {
            let (int, frac) = digits.split_at(point as usize);
            write!(f, "{int}.{frac}")
        } else if e < 0 && point > -20 {
            write!(f, "0.{:0<width$}{digits}", "", width = (-point) as usize)
        } else {
            let (lead, rest) = digits.split_at(1);
            let dot = if rest.is_empty() { "" } else { "." };
            let exp = point - 1;
            let sign = if exp < 0 { '-' } else { '+' };
            write!(f, "{lead}{dot}{rest}e{sign}{:02}", exp.unsigned_abs())
        }
    }
}

/// OpenMetrics timestamp: a real number of seconds, kept exactly (see [`Timestamp`]).
pub(crate) fn parse_om_timestamp(tok: &[u8]) -> Result<Timestamp, &'static str> {
    let (negative, rest) = match tok.first() {
        Some(b'+') => (false, &tok[1..]),
        Some(b'-') => (true, &tok[1..]),
        _ => (false, tok),
    };
    if rest.first().is_some_and(|b| b.is_ascii_alphabetic()) {
        return Err("NaN and Inf are not timestamps");
    }
    check_decimal(rest)?;
    let mut digits: u128 = 0;
    let mut kept = 0;
    // value = digits × 10^scale; digits past MAX_DIGITS are dropped
    let mut scale: i64 = 0;
    let mut in_fraction = false;
    let mut i = 0;
    while i < rest.len() {
        match rest[i] {
            b'.' => in_fraction = true,
            b @ b'0'..=b'9' => {
                if kept < MAX_DIGITS {
                    digits = digits * 10 + (b - b'0') as u128;
                    kept += (digits != 0) as u32;
                    scale -= in_fraction as i64;
                } else {
                    scale += !in_fraction as i64;
                }
            }
            _ => break,
        }
        i += 1;
    }
    if i < rest.len() {
        // exponent: check_decimal guaranteed its shape
        let exp = &rest[i + 1..];
        let (eneg, edigits) = match exp[0] {
            b'+' => (false, &exp[1..]),
            b'-' => (true, &exp[1..]),
            _ => (false, exp),
        };
        let mut e: i64 = 0;
        for &b in edigits {
            e = (e * 10 + (b - b'0') as i64).min(1_000_000);
        }
        scale += if eneg { -e } else { e };
    }
    if digits == 0 {
        return Ok(Timestamp::from_millis(0));
    }
    // as a float the number must be finite, as every value must (Go's ParseFloat range)
    let leading = digit_count(digits) as i64 + scale;
    if leading > 309 || (leading == 309 && crate::number::parse_value(rest).is_err()) {
        return Err("out of float64 range");
    }
    // far below any float: zero in every use, kept as its digits with a bounded exponent
    let exponent = scale.max(-1_000_000) as i32;
    Ok(Timestamp {
        negative,
        digits,
        exponent,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        parse_om_timestamp(s.as_bytes()).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn seconds_are_kept_exactly() {
        let t = ts("12345678901234567890.1234567890");
        assert_eq!(t.to_string(), "12345678901234567890.123456789");
        assert_eq!(t.as_millis(), None);
        assert_eq!(t.as_exact_millis(), None);
        assert_eq!(ts("1e300").to_string(), "1e+300");
        assert_eq!(ts("-1.5e-30").to_string(), "-1.5e-30");
        assert_eq!(
            ts("1700000000.123456789").to_string(),
            "1700000000.123456789"
        );
        assert_eq!(ts("0.001").to_string(), "0.001");
        assert_eq!(ts("-0").to_string(), "0");
        assert_eq!(ts("1.50"), ts("1.5"));
        assert_eq!(ts("1.5"), Timestamp::from_millis(1500));
        assert!(ts("1e300") > ts("12345678901234567890.1234567890"));
        assert!(ts("-2") < ts("-1.9999"));
        assert!(ts("0.0001") > ts("0"));
        assert!(parse_om_timestamp(b"1e400").is_err());
        assert!(parse_om_timestamp(b"NaN").is_err());
        assert!(parse_om_timestamp(b"-Inf").is_err());
        assert_eq!(ts("1e-400").as_millis(), Some(0));
        assert_eq!(ts("-1e-400").as_millis(), Some(-1));
        // more than 38 significant digits: the rest are dropped
        let long = ts("-1.0000000000000000000000000000000000000000001");
        assert_eq!(long, ts("-1"));
        let long = ts("1.234567890123456789012345678901234567899");
        assert_eq!(long.to_string(), "1.2345678901234567890123456789012345678");
        assert_eq!(
            ts("123456789012345678901234567890123456789012").to_string(),
            "1.2345678901234567890123456789012345678e+41"
        );
    }

    #[test]
    fn milliseconds_are_rounded_down() {
        assert_eq!(ts("1.5").as_millis(), Some(1500));
        assert_eq!(ts("1.001").as_millis(), Some(1001));
        assert_eq!(ts("-1").as_millis(), Some(-1000));
        assert_eq!(ts("000").as_millis(), Some(0));
        assert_eq!(ts("1.5e3").as_millis(), Some(1_500_000));
        assert_eq!(ts("1520430000.123").as_millis(), Some(1_520_430_000_123));
        assert_eq!(ts("1.0015").as_millis(), Some(1001));
        assert_eq!(ts("1.0015").as_exact_millis(), None);
        assert_eq!(ts("-1.0015").as_millis(), Some(-1002));
        assert_eq!(ts("1e-9").as_millis(), Some(0));
        assert_eq!(ts(".5").as_millis(), Some(500));
        assert_eq!(ts("1.0015").as_secs_f64(), 1.0015);
        assert_eq!(Timestamp::from_millis(i64::MIN).as_millis(), Some(i64::MIN));
        assert_eq!(ts("9223372036854775.807").as_millis(), Some(i64::MAX));
        assert_eq!(ts("9223372036854775.808").as_millis(), None);
        // every value 0.000 .. 99.999 comes out exact (Prometheus' float product does not)
        for ms in 0..100_000i64 {
            let s = format!("{}.{:03}", ms / 1000, ms % 1000);
            assert_eq!(ts(&s).as_exact_millis(), Some(ms), "{s}");
            assert_eq!(ts(&s).to_string().parse::<f64>(), Ok(ms as f64 / 1000.0));
        }
    }

    #[test]
    fn display_reads_back_to_the_same_timestamp() {
        for s in [
            "1",
            "-1",
            "0.5",
            "1e300",
            "1.25e-300",
            "123456789012345678901234567890",
            "1e-19",
            "1e-21",
            "1e39",
            "1e41",
            "-0.000001",
        ] {
            assert_eq!(ts(&ts(s).to_string()), ts(s), "{s} -> {}", ts(s));
        }
    }
}
