//! The few places where SQLite's and PostgreSQL's SQL differ, as fragments a statement is
//! built from; every other statement is written once in the dialect both share (see
//! docs/database.md, "How a store gets its PostgreSQL form"). Time arithmetic is done here
//! in Rust on the stored `YYYY-MM-DD HH:MM:SS` text, so no statement needs `datetime()`.

use ipocket_db::Backend;

use crate::error::{Error, Result};

/// The current UTC time as stored (`YYYY-MM-DD HH:MM:SS`).
pub(crate) fn now_sql(b: Backend) -> &'static str {
    match b {
        Backend::Sqlite => "SELECT strftime('%Y-%m-%d %H:%M:%S','now')",
        Backend::Postgres => "SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')",
    }
}

/// The case-insensitive `LIKE` (SQLite's `LIKE` folds ASCII case; PostgreSQL's `ILIKE`
/// folds every letter).
pub(crate) fn like_nocase(b: Backend) -> &'static str {
    match b {
        Backend::Sqlite => "LIKE",
        Backend::Postgres => "ILIKE",
    }
}

/// A stored time (`YYYY-MM-DD HH:MM:SS`) moved by `secs` seconds (negative: earlier), in
/// the same form; what SQLite's `datetime(t, '+N seconds')` gives.
pub(crate) fn shift_time(t: &str, secs: i64) -> Result<String> {
    let bad = || Error::invalid("time", format!("{t:?} is not YYYY-MM-DD HH:MM:SS"));
    let b = t.as_bytes();
    if b.len() != 19
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b' '
        || b[13] != b':'
        || b[16] != b':'
    {
        return Err(bad());
    }
    let num = |r: std::ops::Range<usize>| t[r].parse::<i64>().map_err(|_| bad());
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, s) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
        return Err(bad());
    }
    let total = days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + s + secs;
    let (days, rem) = (total.div_euclid(86_400), total.rem_euclid(86_400));
    let (y, mo, d) = civil_from_days(days);
    if !(0..=9999).contains(&y) {
        return Err(Error::invalid(
            "time",
            format!("{t:?} moved by {secs} s leaves years 0000-9999"),
        ));
    }
    Ok(format!(
        "{y:04}-{mo:02}-{d:02} {:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    ))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

// Ranges and allocation (issue #23).

/// What ends a `SELECT` of one row to lock it until the write transaction ends: PostgreSQL's
/// ` FOR UPDATE`; nothing on SQLite, whose write transaction holds the whole file.
pub(crate) fn for_update(b: Backend) -> &'static str {
    match b {
        Backend::Sqlite => "",
        Backend::Postgres => " FOR UPDATE",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shifting_agrees_with_sqlite_datetime() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        let cases = [
            ("2026-12-07 12:00:00", -3600),
            ("2026-03-01 00:00:00", -1),
            ("2024-02-28 23:59:59", 86_400),
            ("2000-01-01 00:00:00", -86_400 * 366),
            ("1999-12-31 23:59:59", 1),
            ("2026-12-07 12:00:00", 90 * 86_400),
            ("2026-12-07 12:00:00", 0),
        ];
        for (t, secs) in cases {
            let sqlite: String = conn
                .query_row(
                    "SELECT datetime(?1, ?2)",
                    rusqlite::params![t, format!("{secs:+} seconds")],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(shift_time(t, secs).unwrap(), sqlite, "{t} {secs:+}");
        }
    }

    #[test]
    fn malformed_times_are_refused() {
        for t in [
            "2026-12-07",
            "2026-13-01 00:00:00",
            "2026-12-07T12:00:00",
            "20x6-12-07 12:00:00",
        ] {
            assert!(shift_time(t, 1).is_err(), "{t}");
        }
    }
}
