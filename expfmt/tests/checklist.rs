//! The checklist of the expfmt research notes (`research/expfmt.md`, §2.6 "Checklist: concrete
//! inputs and expected outcomes"), row by row: T1–T65 (text format 0.0.4 / 1.0.0) and O1–O50
//! (OpenMetrics 1.0), plus a few cases the checklist lacks (rows named X…).
//!
//! Each test is named after its row (`t21`, `o11`, `x05` …) and every assertion message starts
//! with the row id. The expected outcome is the "spec" column of the row, with the project's
//! decisions applied (see the comment on each row where a choice was made).
//!
//! Error rows check the `ErrorKind` variant and the error's position: a list of acceptable
//! `(line, column)` pairs (the offending token, or column 1 for rules about a whole line).

use ipocket_expfmt::{
    parse, parse_lenient, ErrorKind, Format, MetricType, ParseError, Record, Timestamp,
};

// ---------------------------------------------------------------------------------------------
// Expected records
// ---------------------------------------------------------------------------------------------

/// An expected exemplar.
#[derive(Debug, Clone)]
struct Ex {
    labels: Vec<(&'static str, &'static str)>,
    value: f64,
    ts: Option<i64>,
}

/// An expected record.
#[derive(Debug, Clone)]
enum R {
    S {
        name: String,
        labels: Vec<(String, String)>,
        value: f64,
        ts: Option<i64>,
        ex: Option<Ex>,
    },
    Help(&'static str, &'static str),
    Type(&'static str, MetricType),
    Unit(&'static str, &'static str),
    Comment(&'static str),
    Eof,
}

/// A sample without timestamp.
fn s(name: &str, labels: &[(&str, &str)], value: f64) -> R {
    R::S {
        name: name.to_owned(),
        labels: labels
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect(),
        value,
        ts: None,
        ex: None,
    }
}

/// A sample with a timestamp.
fn st(name: &str, labels: &[(&str, &str)], value: f64, ts: i64) -> R {
    match s(name, labels, value) {
        R::S {
            name,
            labels,
            value,
            ex,
            ..
        } => R::S {
            name,
            labels,
            value,
            ts: Some(ts),
            ex,
        },
        _ => unreachable!(),
    }
}

/// A sample with an exemplar.
fn sx(name: &str, value: f64, ex: Ex) -> R {
    match s(name, &[], value) {
        R::S {
            name,
            labels,
            value,
            ts,
            ..
        } => R::S {
            name,
            labels,
            value,
            ts,
            ex: Some(ex),
        },
        _ => unreachable!(),
    }
}

const INF: f64 = f64::INFINITY;
const NAN: f64 = f64::NAN;

/// Bit-equal, so `-0` differs from `0` and a NaN must be the canonical `f64::NAN` (the
/// parser documents that every NaN it returns is `f64::NAN`).
fn same_float(actual: f64, expected: f64) -> bool {
    actual.to_bits() == expected.to_bits()
}

fn record_matches(actual: &Record<'_>, expected: &R) -> bool {
    match (actual, expected) {
        (
            Record::Sample(a),
            R::S {
                name,
                labels,
                value,
                ts,
                ex,
            },
        ) => {
            let labels_ok = a.labels.len() == labels.len()
                && a.labels
                    .iter()
                    .zip(labels)
                    .all(|(l, (n, v))| l.name == n.as_str() && l.value == v.as_str());
            let ex_ok = match (&a.exemplar, ex) {
                (None, None) => true,
                (Some(a), Some(e)) => {
                    a.labels.len() == e.labels.len()
                        && a.labels
                            .iter()
                            .zip(&e.labels)
                            .all(|(l, (n, v))| l.name == *n && l.value == *v)
                        && same_float(a.value, e.value)
                        && a.timestamp == e.ts.map(Timestamp::from_millis)
                }
                _ => false,
            };
            a.name == name.as_str()
                && labels_ok
                && same_float(a.value, *value)
                && a.timestamp == ts.map(Timestamp::from_millis)
                && ex_ok
        }
        (Record::Help { name, text }, R::Help(n, t)) => name == n && text == t,
        (Record::Type { name, metric_type }, R::Type(n, t)) => name == n && metric_type == t,
        (Record::Unit { name, unit }, R::Unit(n, u)) => name == n && unit == u,
        (Record::Comment(c), R::Comment(e)) => c == e,
        (Record::Eof, R::Eof) => true,
        _ => false,
    }
}

fn records_match(actual: &[Record<'_>], expected: &[R]) -> bool {
    actual.len() == expected.len()
        && actual
            .iter()
            .zip(expected)
            .all(|(a, e)| record_matches(a, e))
}

// ---------------------------------------------------------------------------------------------
// Expected errors
// ---------------------------------------------------------------------------------------------

/// Which `ErrorKind`s are right, with the pattern's text for messages.
#[derive(Clone, Copy)]
struct Kind {
    desc: &'static str,
    ok: fn(&ErrorKind) -> bool,
}

macro_rules! kind {
    ($($pat:tt)*) => {
        Kind { desc: stringify!($($pat)*), ok: |k: &ErrorKind| matches!(k, $($pat)*) }
    };
}

enum Expect {
    /// `parse` succeeds with exactly these records (and `parse_lenient` agrees, no errors).
    Records(Vec<R>),
    /// `parse` fails with this kind at one of these (line, column) positions.
    Error(Kind, &'static [(u32, u32)]),
    /// `parse_lenient` returns these records and errors (kind, line), in any order of errors.
    Lenient(Vec<R>, Vec<(Kind, u32)>),
}

fn ok(records: Vec<R>) -> Expect {
    Expect::Records(records)
}

fn err(kind: Kind, at: &'static [(u32, u32)]) -> Expect {
    Expect::Error(kind, at)
}

fn check(id: &str, format: Format, input: &[u8], expect: Expect) {
    let shown = String::from_utf8_lossy(input);
    match expect {
        Expect::Records(expected) => {
            match parse(input, format) {
                Ok(records) => assert!(
                    records_match(&records, &expected),
                    "{id}: input {shown:?} ({format}): records differ\n  expected {expected:?}\n  actual   {records:?}"
                ),
                Err(e) => panic!(
                    "{id}: input {shown:?} ({format}) is valid, expected {expected:?}\n  but parse failed: {e} ({:?})",
                    e.kind
                ),
            }
            let (records, errors) = parse_lenient(input, format);
            assert!(
                errors.is_empty() && records_match(&records, &expected),
                "{id}: input {shown:?} ({format}): parse_lenient disagrees with parse: {records:?} {errors:?}"
            );
        }
        Expect::Error(kind, at) => match parse(input, format) {
            Ok(records) => panic!(
                "{id}: input {shown:?} ({format}) is invalid, expected error {} at {at:?}\n  but parse accepted it: {records:?}",
                kind.desc
            ),
            Err(e) => {
                assert!(
                    (kind.ok)(&e.kind),
                    "{id}: input {shown:?} ({format}): expected error {} at {at:?}\n  actual error {:?} at ({}, {}): {e}",
                    kind.desc,
                    e.kind,
                    e.line,
                    e.column
                );
                assert!(
                    at.contains(&(e.line, e.column)),
                    "{id}: input {shown:?} ({format}): error {:?} is at (line {}, column {}), expected one of {at:?}: {e}",
                    e.kind,
                    e.line,
                    e.column
                );
            }
        },
        Expect::Lenient(expected, expected_errors) => {
            let (records, errors) = parse_lenient(input, format);
            assert!(
                records_match(&records, &expected),
                "{id}: input {shown:?} ({format}): lenient records differ\n  expected {expected:?}\n  actual   {records:?}\n  errors   {errors:?}"
            );
            let descs: Vec<_> = expected_errors
                .iter()
                .map(|(k, l)| format!("{} on line {l}", k.desc))
                .collect();
            let mut unmatched: Vec<&ParseError> = errors.iter().collect();
            for (kind, line) in &expected_errors {
                let found = unmatched
                    .iter()
                    .position(|e| e.line == *line && (kind.ok)(&e.kind));
                match found {
                    Some(i) => {
                        unmatched.remove(i);
                    }
                    None => panic!(
                        "{id}: input {shown:?} ({format}): expected lenient errors {descs:?}\n  missing {} on line {line}; actual errors {errors:?}",
                        kind.desc
                    ),
                }
            }
            assert!(
                unmatched.is_empty(),
                "{id}: input {shown:?} ({format}): expected lenient errors {descs:?}\n  unexpected extra errors {unmatched:?}"
            );
        }
    }
}

/// One test per row: `row!(fn_name, "ROW", Format, input, expectation);`
macro_rules! row {
    ($name:ident, $id:literal, $format:ident, $input:expr, $expect:expr $(,)?) => {
        #[test]
        fn $name() {
            let input = $input;
            check($id, Format::$format, AsRef::<[u8]>::as_ref(&input), $expect);
        }
    };
}

// ---------------------------------------------------------------------------------------------
// Text format (text/plain; version=0.0.4)
// ---------------------------------------------------------------------------------------------

// T1: strict → MissingFinalNewline, at the end of the line. Lenient: see `t01_lenient`.
row!(
    t01,
    "T1",
    Text,
    "a 1",
    err(kind!(ErrorKind::MissingFinalNewline), &[(1, 4)])
);
row!(
    t02,
    "T2",
    Text,
    "a 1\r\n",
    err(kind!(ErrorKind::CarriageReturn), &[(1, 4)])
);
row!(
    t03,
    "T3",
    Text,
    "a{b=\"c\",} 1\n",
    ok(vec![s("a", &[("b", "c")], 1.0)])
);
row!(
    t04,
    "T4",
    Text,
    "a{,b=\"c\"} 1\n",
    err(
        kind!(ErrorKind::InvalidLabelName | ErrorKind::Expected(_)),
        &[(1, 3)]
    )
);
row!(
    t05,
    "T5",
    Text,
    "a{b=\"c\" d=\"e\"} 1\n",
    err(kind!(ErrorKind::Expected(_)), &[(1, 8), (1, 9)])
);
row!(
    t06,
    "T6",
    Text,
    "a { b = \"c\" , d = \"e\" } 1\n",
    ok(vec![s("a", &[("b", "c"), ("d", "e")], 1.0)])
);
row!(
    t07,
    "T7",
    Text,
    "a\t1\t123\n",
    ok(vec![st("a", &[], 1.0, 123)])
);
row!(t08, "T8", Text, "  a 1\n", ok(vec![s("a", &[], 1.0)]));
row!(t09, "T9", Text, "a 1 \n", ok(vec![s("a", &[], 1.0)]));
// T10, T60: decision: Go ParseInt accepts signed timestamps.
row!(
    t10,
    "T10",
    Text,
    "a 1 -5\n",
    ok(vec![st("a", &[], 1.0, -5)])
);
row!(
    t11,
    "T11",
    Text,
    "a 1 1.5\n",
    err(kind!(ErrorKind::InvalidTimestamp(_)), &[(1, 5)])
);
row!(
    t12,
    "T12",
    Text,
    "a 1 1e3\n",
    err(kind!(ErrorKind::InvalidTimestamp(_)), &[(1, 5)])
);
row!(
    t13,
    "T13",
    Text,
    "a NaN\nb nan\nc NAN\n",
    ok(vec![s("a", &[], NAN), s("b", &[], NAN), s("c", &[], NAN)])
);
row!(
    t14,
    "T14",
    Text,
    "a +Inf\nb -Inf\nc Inf\nd inf\ne Infinity\nf +infinity\n",
    ok(vec![
        s("a", &[], INF),
        s("b", &[], -INF),
        s("c", &[], INF),
        s("d", &[], INF),
        s("e", &[], INF),
        s("f", &[], INF),
    ])
);
row!(
    t15a,
    "T15a",
    Text,
    "a +NaN\n",
    err(kind!(ErrorKind::InvalidValue(_)), &[(1, 3)])
);
row!(
    t15b,
    "T15b",
    Text,
    "a -NaN\n",
    err(kind!(ErrorKind::InvalidValue(_)), &[(1, 3)])
);
row!(
    t16,
    "T16",
    Text,
    "a 0x1A\n",
    err(kind!(ErrorKind::InvalidValue(_)), &[(1, 3)])
);
// T17: Go's ParseFloat (since 1.13) accepts hex floats and `_` between digits; the issue
// pins Prometheus' stricter number syntax ("no hex, no `_`"), as Prometheus, prometheus_client
// and expfmt do.
row!(
    t17a,
    "T17a",
    Text,
    "a 0x1p3\n",
    err(kind!(ErrorKind::InvalidValue(_)), &[(1, 3)])
);
row!(
    t17b,
    "T17b",
    Text,
    "a 1_000\n",
    err(kind!(ErrorKind::InvalidValue(_)), &[(1, 3)])
);
row!(
    t18,
    "T18",
    Text,
    "a 1e400\n",
    err(kind!(ErrorKind::InvalidValue(_)), &[(1, 3)])
);
row!(t19, "T19", Text, "a 1e-400\n", ok(vec![s("a", &[], 0.0)]));
row!(
    t20,
    "T20",
    Text,
    "a .5\nb 5.\nc +5\nd 1E3\ne 007\nf -0\n",
    ok(vec![
        s("a", &[], 0.5),
        s("b", &[], 5.0),
        s("c", &[], 5.0),
        s("d", &[], 1000.0),
        s("e", &[], 7.0),
        s("f", &[], -0.0),
    ])
);
row!(
    t21,
    "T21",
    Text,
    "a{b=\"x\\ty\"} 1\n",
    err(kind!(ErrorKind::InvalidEscape('t')), &[(1, 7), (1, 8)])
);
row!(
    t22,
    "T22",
    Text,
    "a{b=\"x\\\\\"} 1\n",
    ok(vec![s("a", &[("b", "x\\")], 1.0)])
);
row!(
    t23,
    "T23",
    Text,
    "a{b=\"x\\\"} 1\n",
    err(kind!(ErrorKind::UnterminatedString), &[(1, 5), (1, 12)])
);
row!(
    t24,
    "T24",
    Text,
    "a{b=\"x\ny\"} 1\n",
    err(
        kind!(ErrorKind::UnterminatedString | ErrorKind::NewlineInString),
        &[(1, 5), (1, 7)]
    )
);
row!(
    t25,
    "T25",
    Text,
    b"a{b=\"\xff\"} 1\n",
    err(kind!(ErrorKind::InvalidUtf8), &[(1, 6)])
);
row!(
    t26,
    "T26",
    Text,
    b"# HELP a x\xff\n",
    err(kind!(ErrorKind::InvalidUtf8), &[(1, 11)])
);
row!(
    t27,
    "T27",
    Text,
    "a{b=\"1\",b=\"2\"} 1\n",
    err(
        kind!(ErrorKind::DuplicateLabelName(n) if n == "b"),
        &[(1, 9)]
    )
);
row!(
    t28,
    "T28",
    Text,
    "a{__name__=\"b\"} 1\n",
    err(
        kind!(ErrorKind::ReservedLabelName(n) if n == "__name__"),
        &[(1, 3)]
    )
);
row!(t29, "T29", Text, "a{} 1\n", ok(vec![s("a", &[], 1.0)]));
row!(
    t30,
    "T30",
    Text,
    "{} 1\n",
    err(kind!(ErrorKind::MissingMetricName), &[(1, 1), (1, 2)])
);
row!(
    t31,
    "T31",
    Text,
    "# TYPE a counter\n# TYPE a gauge\na 1\n",
    err(
        kind!(ErrorKind::DuplicateMetadata("TYPE")),
        &[(2, 1), (2, 3), (2, 8)]
    )
);
row!(
    t32,
    "T32",
    Text,
    "a 1\n# TYPE a counter\n",
    err(
        kind!(ErrorKind::MetadataAfterSamples("TYPE")),
        &[(2, 1), (2, 3), (2, 8)]
    )
);
row!(
    t33,
    "T33",
    Text,
    "# TYPE a COUNTER\na 1\n",
    err(
        kind!(ErrorKind::InvalidType(t) if t == "COUNTER"),
        &[(1, 10)]
    )
);
row!(
    t34a,
    "T34a",
    Text,
    "# TYPE a unknown\n",
    err(
        kind!(ErrorKind::InvalidType(t) if t == "unknown"),
        &[(1, 10)]
    )
);
row!(
    t34b,
    "T34b",
    Text,
    "# TYPE a gaugehistogram\n",
    err(
        kind!(ErrorKind::InvalidType(t) if t == "gaugehistogram"),
        &[(1, 10)]
    )
);
row!(
    t34c,
    "T34c",
    Text,
    "# TYPE a info\n",
    err(kind!(ErrorKind::InvalidType(t) if t == "info"), &[(1, 10)])
);
row!(
    t35,
    "T35",
    Text,
    "#TYPE a counter\na 1\n",
    ok(vec![R::Comment("TYPE a counter"), s("a", &[], 1.0)])
);
row!(
    t36,
    "T36",
    Text,
    "# HELP a\na 1\n",
    ok(vec![R::Help("a", ""), s("a", &[], 1.0)])
);
// T37: text HELP unescapes only `\\` and `\n`; `\"` stays as written.
row!(
    t37,
    "T37",
    Text,
    "# HELP a x\\\\y\\nz\\\"q\n",
    ok(vec![R::Help("a", "x\\y\nz\\\"q")])
);
row!(
    t38,
    "T38",
    Text,
    "# HELP a x\\ty\n",
    ok(vec![R::Help("a", "x\\ty")])
);
row!(
    t39,
    "T39",
    Text,
    "a{b=\"c\"}1\n",
    ok(vec![s("a", &[("b", "c")], 1.0)])
);
row!(
    t40,
    "T40",
    Text,
    "{\"my.metric\",\"a.b\"=\"v\"} 1\n",
    ok(vec![s("my.metric", &[("a.b", "v")], 1.0)])
);
row!(
    t41,
    "T41",
    Text,
    "{\"a\",\"b\"} 1\n",
    err(kind!(ErrorKind::MetricNameAlreadySet), &[(1, 6)])
);
row!(
    t42,
    "T42",
    Text,
    "my.metric 1\n",
    err(kind!(ErrorKind::InvalidMetricName), &[(1, 3)])
);
row!(
    t43,
    "T43",
    Text,
    "a 1 123 456\n",
    err(kind!(ErrorKind::TrailingData), &[(1, 9)])
);
// T44: decision: TrailingData (a `#` where the timestamp would be).
row!(
    t44,
    "T44",
    Text,
    "a 1 # note\n",
    err(kind!(ErrorKind::TrailingData), &[(1, 5)])
);
row!(
    t45,
    "T45",
    Text,
    "\n\na 1\n\n   \n",
    ok(vec![s("a", &[], 1.0)])
);
row!(
    t46,
    "T46",
    Text,
    "a 1 9223372036854775808\n",
    err(kind!(ErrorKind::InvalidTimestamp(_)), &[(1, 5)])
);
row!(
    t47,
    "T47",
    Text,
    "a{b=\"\"} 1\n",
    ok(vec![s("a", &[("b", "")], 1.0)])
);
row!(
    t48,
    "T48",
    Text,
    "a 1\na 2\n",
    err(
        kind!(ErrorKind::DuplicateSeries { first_line: 1 }),
        &[(2, 1)]
    )
);
// T49/T50: `le` kept as written, no TYPE leak. Both inputs are histograms without an
// le="+Inf" bucket, which the text doc requires (and which we test as an error in x05): so
// they are checked leniently: the samples come back unchanged plus exactly that one error.
row!(
    t49,
    "T49",
    Text,
    "# TYPE h histogram\nh_bucket{le=\"1\"} 1\n",
    Expect::Lenient(
        vec![
            R::Type("h", MetricType::Histogram),
            s("h_bucket", &[("le", "1")], 1.0),
        ],
        vec![(kind!(ErrorKind::InvalidForType(_)), 2)],
    )
);
row!(
    t50,
    "T50",
    Text,
    "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nother{le=\"1\"} 5\n",
    Expect::Lenient(
        vec![
            R::Type("h", MetricType::Histogram),
            s("h_bucket", &[("le", "1")], 1.0),
            s("other", &[("le", "1")], 5.0),
        ],
        vec![(kind!(ErrorKind::InvalidForType(_)), 2)],
    )
);
row!(
    t51,
    "T51",
    Text,
    "a{b=\"x\u{0}y\"} 1\n",
    ok(vec![s("a", &[("b", "x\u{0}y")], 1.0)])
);
row!(
    t52,
    "T52",
    Text,
    "a{1b=\"c\"} 1\n",
    err(kind!(ErrorKind::InvalidLabelName), &[(1, 3)])
);
row!(
    t53,
    "T53",
    Text,
    "a{b:c=\"d\"} 1\n",
    err(
        kind!(ErrorKind::InvalidLabelName | ErrorKind::Expected(_)),
        &[(1, 4)]
    )
);
row!(
    t54,
    "T54",
    Text,
    "a:b:c 1\n",
    ok(vec![s("a:b:c", &[], 1.0)])
);
row!(
    t55,
    "T55",
    Text,
    "1a 1\n",
    err(kind!(ErrorKind::InvalidMetricName), &[(1, 1)])
);
row!(
    t56a,
    "T56a",
    Text,
    "a{b='c'} 1\n",
    err(kind!(ErrorKind::Expected(_)), &[(1, 5)])
);
row!(
    t56b,
    "T56b",
    Text,
    "a{b=c} 1\n",
    err(kind!(ErrorKind::Expected(_)), &[(1, 5)])
);
row!(
    t57,
    "T57",
    Text,
    "a\n",
    err(kind!(ErrorKind::MissingValue), &[(1, 2)])
);
row!(
    t58,
    "T58",
    Text,
    "a{b=\"}{,=\\\"\"} 1\n",
    ok(vec![s("a", &[("b", "}{,=\"")], 1.0)])
);
row!(
    t59,
    "T59",
    Text,
    "\u{feff}a 1\n",
    err(kind!(ErrorKind::InvalidMetricName), &[(1, 1)])
);
row!(t60, "T60", Text, "a 1 +5\n", ok(vec![st("a", &[], 1.0, 5)]));
row!(
    t61,
    "T61",
    Text,
    "# HELP a one\n# HELP a two\na 1\n",
    err(
        kind!(ErrorKind::DuplicateMetadata("HELP")),
        &[(2, 1), (2, 3), (2, 8)]
    )
);
row!(
    t62,
    "T62",
    Text,
    "a 1\n# EOF\n",
    ok(vec![s("a", &[], 1.0), R::Comment(" EOF")])
);
row!(
    t63,
    "T63",
    Text,
    "a{x=\"1\"} 1\nb 1\na{x=\"2\"} 2\n",
    err(
        kind!(ErrorKind::InterleavedFamily(n) if n == "a"),
        &[(3, 1)]
    )
);
row!(
    t64,
    "T64",
    Text,
    "# TYPE s summary\ns{quantile=\"x\"} 1\n",
    err(
        kind!(ErrorKind::InvalidForType(_)),
        &[(2, 1), (2, 3), (2, 13)]
    )
);
row!(
    t65,
    "T65",
    Text,
    "a{b=\"c\"} 1 2 # {t=\"x\"} 1\n",
    err(kind!(ErrorKind::TrailingData), &[(1, 14)])
);

/// T1 in lenient mode: the sample is returned and the missing line feed reported.
#[test]
fn t01_lenient() {
    let (records, errors) = parse_lenient(b"a 1", Format::Text);
    assert!(
        records_match(&records, &[s("a", &[], 1.0)]),
        "T1 lenient: records {records:?}"
    );
    assert_eq!(errors.len(), 1, "T1 lenient: errors {errors:?}");
    assert_eq!(errors[0].kind, ErrorKind::MissingFinalNewline, "T1 lenient");
    assert_eq!((errors[0].line, errors[0].column), (1, 4), "T1 lenient");
}

// ---------------------------------------------------------------------------------------------
// OpenMetrics 1.0 (application/openmetrics-text; version=1.0.0)
// ---------------------------------------------------------------------------------------------

row!(
    o01,
    "O1",
    OpenMetrics,
    "a 1\n",
    err(kind!(ErrorKind::MissingEof), &[(1, 1), (1, 4), (2, 1)])
);
row!(
    o02,
    "O2",
    OpenMetrics,
    "a 1\n# EOF",
    ok(vec![s("a", &[], 1.0), R::Eof])
);
row!(
    o03,
    "O3",
    OpenMetrics,
    "a 1\n# EOF\n\n",
    err(kind!(ErrorKind::DataAfterEof), &[(3, 1), (2, 6)])
);
row!(
    o04,
    "O4",
    OpenMetrics,
    "a 1\n\n# EOF\n",
    err(kind!(ErrorKind::BlankLine), &[(2, 1)])
);
row!(
    o05,
    "O5",
    OpenMetrics,
    "a 1 1.5\n# EOF\n",
    ok(vec![st("a", &[], 1.0, 1500), R::Eof])
);
row!(
    o06,
    "O6",
    OpenMetrics,
    "a 1 -1\n# EOF\n",
    ok(vec![st("a", &[], 1.0, -1000), R::Eof])
);
row!(
    o07a,
    "O7a",
    OpenMetrics,
    "a 1 NaN\n# EOF\n",
    err(kind!(ErrorKind::InvalidTimestamp(_)), &[(1, 5)])
);
row!(
    o07b,
    "O7b",
    OpenMetrics,
    "a 1 Inf\n# EOF\n",
    err(kind!(ErrorKind::InvalidTimestamp(_)), &[(1, 5)])
);
row!(
    o08,
    "O8",
    OpenMetrics,
    "a 1 1.001\n# EOF\n",
    ok(vec![st("a", &[], 1.0, 1001), R::Eof])
);
row!(
    o09,
    "O9",
    OpenMetrics,
    "# TYPE a counter\na_total 1 # {id=\"x\"} 2 1.5\n# EOF\n",
    ok(vec![
        R::Type("a", MetricType::Counter),
        sx(
            "a_total",
            1.0,
            Ex {
                labels: vec![("id", "x")],
                value: 2.0,
                ts: Some(1500)
            }
        ),
        R::Eof,
    ])
);
row!(
    o10,
    "O10",
    OpenMetrics,
    "# TYPE a counter\na_total 1 # 2\n# EOF\n",
    err(kind!(ErrorKind::Expected(_)), &[(2, 11), (2, 13)])
);
row!(
    o11,
    "O11",
    OpenMetrics,
    format!(
        "# TYPE a counter\na_total 1 # {{a=\"{}\"}} 1\n# EOF\n",
        "x".repeat(130)
    ),
    err(kind!(ErrorKind::ExemplarTooLong), &[(2, 11), (2, 13)])
);
row!(
    o12,
    "O12",
    OpenMetrics,
    "# TYPE a gauge\na 1 # {a=\"b\"} 1\n# EOF\n",
    err(kind!(ErrorKind::ExemplarNotAllowed), &[(2, 1), (2, 5)])
);
row!(
    o13,
    "O13",
    OpenMetrics,
    "# TYPE a counter\na_total 1 # {} 1\n# EOF\n",
    ok(vec![
        R::Type("a", MetricType::Counter),
        sx(
            "a_total",
            1.0,
            Ex {
                labels: vec![],
                value: 1.0,
                ts: None
            }
        ),
        R::Eof,
    ])
);
row!(
    o14,
    "O14",
    OpenMetrics,
    "# TYPE a untyped\n# EOF\n",
    err(
        kind!(ErrorKind::InvalidType(t) if t == "untyped"),
        &[(1, 10)]
    )
);
row!(
    o15,
    "O15",
    OpenMetrics,
    "# TYPE a counter \n# EOF\n",
    err(
        kind!(ErrorKind::InvalidType(_) | ErrorKind::InvalidWhitespace),
        &[(1, 10), (1, 17)]
    )
);
row!(
    o16,
    "O16",
    OpenMetrics,
    "# TYPE a Counter\n# EOF\n",
    err(
        kind!(ErrorKind::InvalidType(t) if t == "Counter"),
        &[(1, 10)]
    )
);
row!(
    o17,
    "O17",
    OpenMetrics,
    "# HELP a\n# EOF\n",
    err(kind!(ErrorKind::Expected(_)), &[(1, 9)])
);
row!(
    o18,
    "O18",
    OpenMetrics,
    "# HELP a \n# EOF\n",
    ok(vec![R::Help("a", ""), R::Eof])
);
row!(
    o19,
    "O19",
    OpenMetrics,
    "# UNIT a seconds\n# EOF\n",
    err(kind!(ErrorKind::UnitNotSuffix), &[(1, 1), (1, 10)])
);
row!(
    o20,
    "O20",
    OpenMetrics,
    "# TYPE a_seconds gauge\n# UNIT a_seconds seconds\na_seconds 1\n# EOF\n",
    ok(vec![
        R::Type("a_seconds", MetricType::Gauge),
        R::Unit("a_seconds", "seconds"),
        s("a_seconds", &[], 1.0),
        R::Eof,
    ])
);
row!(
    o21,
    "O21",
    OpenMetrics,
    "a{b=\"c\",} 1\n# EOF\n",
    err(
        kind!(ErrorKind::InvalidLabelName | ErrorKind::Expected(_)),
        &[(1, 8), (1, 9)]
    )
);
row!(
    o22,
    "O22",
    OpenMetrics,
    "a  1\n# EOF\n",
    err(kind!(ErrorKind::InvalidWhitespace), &[(1, 2), (1, 3)])
);
row!(
    o23,
    "O23",
    OpenMetrics,
    "a\t1\n# EOF\n",
    err(kind!(ErrorKind::InvalidWhitespace), &[(1, 2)])
);
row!(
    o24,
    "O24",
    OpenMetrics,
    " a 1\n# EOF\n",
    err(kind!(ErrorKind::InvalidWhitespace), &[(1, 1)])
);
row!(
    o25,
    "O25",
    OpenMetrics,
    "#\tTYPE a counter\n# EOF\n",
    err(kind!(ErrorKind::InvalidComment), &[(1, 1), (1, 2)])
);
row!(
    o26,
    "O26",
    OpenMetrics,
    "# random comment\na 1\n# EOF\n",
    err(kind!(ErrorKind::InvalidComment), &[(1, 1)])
);
row!(
    o27,
    "O27",
    OpenMetrics,
    "a 1\n# eof\n",
    err(kind!(ErrorKind::InvalidComment), &[(2, 1)])
);
row!(
    o28,
    "O28",
    OpenMetrics,
    "a 1\r\n# EOF\n",
    err(kind!(ErrorKind::CarriageReturn), &[(1, 4)])
);
row!(
    o29,
    "O29",
    OpenMetrics,
    "a{b=\"x\\zy\"} 1\n# EOF\n",
    ok(vec![s("a", &[("b", "x\\zy")], 1.0), R::Eof])
);
row!(
    o30,
    "O30",
    OpenMetrics,
    "# HELP a x\\\\y\\nz\\\"q\n# EOF\n",
    ok(vec![R::Help("a", "x\\y\nz\"q"), R::Eof])
);
row!(
    o31,
    "O31",
    OpenMetrics,
    "a{b=\"1\",b=\"2\"} 1\n# EOF\n",
    err(
        kind!(ErrorKind::DuplicateLabelName(n) if n == "b"),
        &[(1, 9)]
    )
);
row!(
    o32,
    "O32",
    OpenMetrics,
    "a{b=\"c\"}1\n# EOF\n",
    err(kind!(ErrorKind::Expected(_)), &[(1, 9)])
);
row!(
    o33,
    "O33",
    OpenMetrics,
    "a{b=\"c\"d=\"e\"} 1\n# EOF\n",
    err(kind!(ErrorKind::Expected(_)), &[(1, 8)])
);
row!(
    o34,
    "O34",
    OpenMetrics,
    "a 1 1 1\n# EOF\n",
    err(kind!(ErrorKind::TrailingData), &[(1, 7)])
);
row!(
    o35,
    "O35",
    OpenMetrics,
    "a 0x1p-3\n# EOF\n",
    err(kind!(ErrorKind::InvalidValue(_)), &[(1, 3)])
);
// O36: decision: quoted names are accepted in OpenMetrics too.
row!(
    o36,
    "O36",
    OpenMetrics,
    "{\"a.b\"} 1\n# EOF\n",
    ok(vec![s("a.b", &[], 1.0), R::Eof])
);
row!(
    o37,
    "O37",
    OpenMetrics,
    "a +inf\nb -INFINITY\nc nan\n# EOF\n",
    ok(vec![
        s("a", &[], INF),
        s("b", &[], -INF),
        s("c", &[], NAN),
        R::Eof
    ])
);
row!(
    o38a,
    "O38a",
    OpenMetrics,
    "# TYPE a counter\na_total -1\n# EOF\n",
    err(kind!(ErrorKind::InvalidForType(_)), &[(2, 1), (2, 9)])
);
row!(
    o38b,
    "O38b",
    OpenMetrics,
    "# TYPE a counter\na_total NaN\n# EOF\n",
    err(kind!(ErrorKind::InvalidForType(_)), &[(2, 1), (2, 9)])
);
row!(
    o39,
    "O39",
    OpenMetrics,
    "# TYPE a histogram\na_bucket{le=\"1\"} 5\na_bucket{le=\"+Inf\"} 3\n# EOF\n",
    err(kind!(ErrorKind::InvalidForType(_)), &[(3, 1), (3, 21)])
);
// O40: spec column: invalid (`+INF` is not the canonical `+Inf`), as prometheus_client says.
row!(
    o40,
    "O40",
    OpenMetrics,
    "# TYPE a histogram\na_bucket{le=\"+INF\"} 0\n# EOF\n",
    err(
        kind!(ErrorKind::InvalidForType(_) | ErrorKind::InvalidValue(_)),
        &[(2, 1), (2, 10), (2, 14)]
    )
);
row!(
    o41a,
    "O41a",
    OpenMetrics,
    "# TYPE a stateset\na{a=\"x\"} 2\n# EOF\n",
    err(kind!(ErrorKind::InvalidForType(_)), &[(2, 1), (2, 10)])
);
row!(
    o41b,
    "O41b",
    OpenMetrics,
    "# TYPE a info\na_info 2\n# EOF\n",
    err(kind!(ErrorKind::InvalidForType(_)), &[(2, 1), (2, 8)])
);
row!(
    o42,
    "O42",
    OpenMetrics,
    "# TYPE a gauge\na{x=\"1\"} 1\n# TYPE b gauge\nb 1\na{x=\"2\"} 1\n# EOF\n",
    err(
        kind!(ErrorKind::InterleavedFamily(n) if n == "a"),
        &[(5, 1)]
    )
);
row!(
    o43,
    "O43",
    OpenMetrics,
    "a 1\na 2\n# EOF\n",
    err(
        kind!(ErrorKind::DuplicateSeries { first_line: 1 }),
        &[(2, 1)]
    )
);
row!(
    o44a,
    "O44a",
    OpenMetrics,
    "a 1 1\na 1 0\n# EOF\n",
    err(
        kind!(ErrorKind::InvalidForType(_) | ErrorKind::DuplicateSeries { .. }),
        &[(2, 1), (2, 5)]
    )
);
row!(
    o44b,
    "O44b",
    OpenMetrics,
    "a 0\na 0 0\n# EOF\n",
    err(
        kind!(ErrorKind::InvalidForType(_) | ErrorKind::DuplicateSeries { .. }),
        &[(2, 1), (2, 5)]
    )
);
row!(
    o45,
    "O45",
    OpenMetrics,
    "# TYPE a counter\na_total 1\na_created 1520430000.123\n# EOF\n",
    ok(vec![
        R::Type("a", MetricType::Counter),
        s("a_total", &[], 1.0),
        s("a_created", &[], 1520430000.123),
        R::Eof,
    ])
);
row!(
    o46,
    "O46",
    OpenMetrics,
    "# TYPE a_created gauge\n# TYPE a counter\n# EOF\n",
    err(kind!(ErrorKind::NameClash(_)), &[(2, 1), (2, 8)])
);
row!(
    o47,
    "O47",
    OpenMetrics,
    "# TYPE a counter\n# TYPE a counter\n# EOF\n",
    err(
        kind!(ErrorKind::DuplicateMetadata("TYPE")),
        &[(2, 1), (2, 3), (2, 8)]
    )
);
row!(
    o48,
    "O48",
    OpenMetrics,
    "# TYPE a counter\na_total 9223372036854775808\n# EOF\n",
    ok(vec![
        R::Type("a", MetricType::Counter),
        s("a_total", &[], 9223372036854775808.0),
        R::Eof,
    ])
);
row!(
    o49,
    "O49",
    OpenMetrics,
    "# TYPE a gauge\na{a=\"1\",foo=\"bar\"} 1 0\na{a=\"1\",foo=\"bar\"} 2 0\n# EOF\n",
    ok(vec![
        R::Type("a", MetricType::Gauge),
        st("a", &[("a", "1"), ("foo", "bar")], 1.0, 0),
        st("a", &[("a", "1"), ("foo", "bar")], 2.0, 0),
        R::Eof,
    ])
);
row!(
    o50,
    "O50",
    OpenMetrics,
    "# TYPE a counter\n# HELP a he\u{0}lp\n# EOF\n",
    ok(vec![
        R::Type("a", MetricType::Counter),
        R::Help("a", "he\u{0}lp"),
        R::Eof
    ])
);

// ---------------------------------------------------------------------------------------------
// Cases the checklist lacks (X…)
// ---------------------------------------------------------------------------------------------

// X1: different label sets inside one family are valid.
row!(
    x01,
    "X1",
    Text,
    "# TYPE a gauge\na{x=\"1\"} 1\na{y=\"2\"} 2\na 3\na{x=\"1\",y=\"2\"} 4\n",
    ok(vec![
        R::Type("a", MetricType::Gauge),
        s("a", &[("x", "1")], 1.0),
        s("a", &[("y", "2")], 2.0),
        s("a", &[], 3.0),
        s("a", &[("x", "1"), ("y", "2")], 4.0),
    ])
);
row!(
    x01o,
    "X1o",
    OpenMetrics,
    "# TYPE a gauge\na{x=\"1\"} 1\na{y=\"2\"} 2\na 3\n# EOF\n",
    ok(vec![
        R::Type("a", MetricType::Gauge),
        s("a", &[("x", "1")], 1.0),
        s("a", &[("y", "2")], 2.0),
        s("a", &[], 3.0),
        R::Eof,
    ])
);
// X2: HELP and TYPE with quoted names (text), and HELP/TYPE/UNIT (OpenMetrics).
row!(
    x02,
    "X2",
    Text,
    "# HELP \"my.metric\" Help text.\n# TYPE \"my.metric\" gauge\n{\"my.metric\",job=\"x\"} 1\n",
    ok(vec![
        R::Help("my.metric", "Help text."),
        R::Type("my.metric", MetricType::Gauge),
        s("my.metric", &[("job", "x")], 1.0),
    ])
);
row!(
    x02o,
    "X2o",
    OpenMetrics,
    "# TYPE \"my.metric_seconds\" gauge\n# UNIT \"my.metric_seconds\" seconds\n# HELP \"my.metric_seconds\" h\n{\"my.metric_seconds\"} 1\n# EOF\n",
    ok(vec![
        R::Type("my.metric_seconds", MetricType::Gauge),
        R::Unit("my.metric_seconds", "seconds"),
        R::Help("my.metric_seconds", "h"),
        s("my.metric_seconds", &[], 1.0),
        R::Eof,
    ])
);
// X2b: a quoted TYPE name must match the quoted sample name (no interleaving error).
row!(
    x02b,
    "X2b",
    Text,
    "# TYPE \"a.b\" counter\n{\"a.b\"} 1\n# TYPE c gauge\nc 2\n",
    ok(vec![
        R::Type("a.b", MetricType::Counter),
        s("a.b", &[], 1.0),
        R::Type("c", MetricType::Gauge),
        s("c", &[], 2.0),
    ])
);
// X3: escapes in quoted metric and label names.
row!(
    x03,
    "X3",
    Text,
    r#"{"a\"b\\c\nd","l\"x\\y"="v"} 1"#.to_owned() + "\n",
    ok(vec![s("a\"b\\c\nd", &[("l\"x\\y", "v")], 1.0)])
);
row!(
    x03b,
    "X3b",
    Text,
    r#"{"a\tb"} 1"#.to_owned() + "\n",
    err(kind!(ErrorKind::InvalidEscape('t')), &[(1, 4), (1, 5)])
);
row!(
    x03c,
    "X3c",
    Text,
    r#"# HELP "a\"b" x"#.to_owned() + "\n",
    ok(vec![R::Help("a\"b", "x")])
);
// X4: histogram without an le="+Inf" bucket.
row!(
    x04,
    "X4",
    Text,
    "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"2\"} 1\nh_sum 1\nh_count 1\n",
    err(kind!(ErrorKind::InvalidForType(_)), &[(2, 1), (3, 1)])
);
row!(
    x04o,
    "X4o",
    OpenMetrics,
    "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"2\"} 1\nh_count 1\nh_sum 1\n# EOF\n",
    err(kind!(ErrorKind::InvalidForType(_)), &[(2, 1), (3, 1)])
);
// X4b: two series of one histogram, the first one without +Inf.
row!(
    x04b,
    "X4b",
    Text,
    "# TYPE h histogram\nh_bucket{x=\"a\",le=\"1\"} 1\nh_bucket{x=\"b\",le=\"1\"} 1\nh_bucket{x=\"b\",le=\"+Inf\"} 1\n",
    err(kind!(ErrorKind::InvalidForType(_)), &[(2, 1)])
);
// X5: buckets out of order.
row!(
    x05,
    "X5",
    Text,
    "# TYPE h histogram\nh_bucket{le=\"2\"} 1\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n",
    err(kind!(ErrorKind::InvalidForType(_)), &[(3, 1), (3, 10), (3, 13)])
);
row!(
    x05o,
    "X5o",
    OpenMetrics,
    "# TYPE h histogram\nh_bucket{le=\"2\"} 1\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 1\n# EOF\n",
    err(kind!(ErrorKind::InvalidForType(_)), &[(3, 1), (3, 10), (3, 13)])
);
// X6: _count differs from the +Inf bucket.
row!(
    x06,
    "X6",
    Text,
    "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 3\nh_sum 1\nh_count 4\n",
    err(kind!(ErrorKind::InvalidForType(_)), &[(5, 1), (5, 9)])
);
row!(
    x06o,
    "X6o",
    OpenMetrics,
    "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 3\nh_count 4\nh_sum 1\n# EOF\n",
    err(kind!(ErrorKind::InvalidForType(_)), &[(4, 1), (4, 9)])
);
// X10: OpenMetrics histograms: `_sum` iff `_count` (the "also" of O39; prometheus_client
// raises "_count must be present if _sum is present" and the converse).
row!(
    x10a,
    "X10a",
    OpenMetrics,
    "# TYPE a histogram\na_bucket{le=\"+Inf\"} 1\na_sum 1\n# EOF\n",
    err(
        kind!(ErrorKind::InvalidForType(_)),
        &[(2, 1), (3, 1), (4, 1)]
    )
);
row!(
    x10b,
    "X10b",
    OpenMetrics,
    "# TYPE a histogram\na_bucket{le=\"1\"} 1\na_bucket{le=\"+Inf\"} 1\na_count 1\n# EOF\n",
    err(
        kind!(ErrorKind::InvalidForType(_)),
        &[(2, 1), (4, 1), (5, 1)]
    )
);
// X11: a complete OpenMetrics histogram with an exemplar on a bucket and `_created`.
row!(
    x11,
    "X11",
    OpenMetrics,
    "# TYPE a histogram\na_bucket{le=\"1\"} 1 # {t=\"x\"} 0.5 1.5\na_bucket{le=\"+Inf\"} 1\na_count 1\na_sum 0.5\na_created 1\n# EOF\n",
    ok(vec![
        R::Type("a", MetricType::Histogram),
        match s("a_bucket", &[("le", "1")], 1.0) {
            R::S { name, labels, value, ts, .. } => R::S {
                name,
                labels,
                value,
                ts,
                ex: Some(Ex { labels: vec![("t", "x")], value: 0.5, ts: Some(1500) }),
            },
            _ => unreachable!(),
        },
        s("a_bucket", &[("le", "+Inf")], 1.0),
        s("a_count", &[], 1.0),
        s("a_sum", &[], 0.5),
        s("a_created", &[], 1.0),
        R::Eof,
    ])
);
// X12: the text doc: "the quantiles of a summary must appear in increasing numerical order".
row!(
    x12,
    "X12",
    Text,
    "# TYPE s summary\ns{quantile=\"0.9\"} 1\ns{quantile=\"0.5\"} 1\n",
    err(
        kind!(ErrorKind::InvalidForType(_)),
        &[(3, 1), (3, 3), (3, 13)]
    )
);
// X7: a complete histogram and summary are valid (the rules above must not misfire).
row!(
    x07,
    "X7",
    Text,
    "# TYPE h histogram\nh_bucket{le=\"0.5\"} 1\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 3\nh_sum 1.5\nh_count 3\n# TYPE s summary\ns{quantile=\"0.5\"} 1\ns{quantile=\"0.9\"} 2\ns_sum 3\ns_count 2\n",
    ok(vec![
        R::Type("h", MetricType::Histogram),
        s("h_bucket", &[("le", "0.5")], 1.0),
        s("h_bucket", &[("le", "1")], 2.0),
        s("h_bucket", &[("le", "+Inf")], 3.0),
        s("h_sum", &[], 1.5),
        s("h_count", &[], 3.0),
        R::Type("s", MetricType::Summary),
        s("s", &[("quantile", "0.5")], 1.0),
        s("s", &[("quantile", "0.9")], 2.0),
        s("s_sum", &[], 3.0),
        s("s_count", &[], 2.0),
    ])
);
// X8: lenient mode goes on after bad lines and returns the right later records.
row!(
    x08,
    "X8",
    Text,
    "# TYPE c counter\nc 1\nd{x=\"1\" 2\ne NaNx\nf 3\ng 4 1.5\nh 5\n",
    Expect::Lenient(
        vec![
            R::Type("c", MetricType::Counter),
            s("c", &[], 1.0),
            s("f", &[], 3.0),
            s("h", &[], 5.0),
        ],
        vec![
            (kind!(ErrorKind::Expected(_)), 3),
            (kind!(ErrorKind::InvalidValue(_)), 4),
            (kind!(ErrorKind::InvalidTimestamp(_)), 6),
        ],
    )
);
row!(
    x08o,
    "X8o",
    OpenMetrics,
    "# TYPE a gauge\na 1\nb  2\nc 3\n# EOF\n",
    Expect::Lenient(
        vec![
            R::Type("a", MetricType::Gauge),
            s("a", &[], 1.0),
            s("c", &[], 3.0),
            R::Eof,
        ],
        vec![(kind!(ErrorKind::InvalidWhitespace), 3)],
    )
);
// X8b: a bad line inside a family does not end it: later lines of the family are fine.
row!(
    x08b,
    "X8b",
    Text,
    "# TYPE a gauge\na{x=\"1\"} 1\na{x=\"2\"} oops\na{x=\"3\"} 3\n",
    Expect::Lenient(
        vec![
            R::Type("a", MetricType::Gauge),
            s("a", &[("x", "1")], 1.0),
            s("a", &[("x", "3")], 3.0),
        ],
        vec![(kind!(ErrorKind::InvalidValue(_)), 3)],
    )
);
// X9: O11's boundary: exactly 128 code points in the exemplar label set is allowed.
row!(
    x09,
    "X9",
    OpenMetrics,
    format!(
        "# TYPE a counter\na_total 1 # {{a=\"{}\"}} 1\n# EOF\n",
        "x".repeat(127)
    ),
    ok(vec![
        R::Type("a", MetricType::Counter),
        sx(
            "a_total",
            1.0,
            Ex {
                labels: vec![("a", Box::leak("x".repeat(127).into_boxed_str()))],
                value: 1.0,
                ts: None
            }
        ),
        R::Eof,
    ])
);

// ---------------------------------------------------------------------------------------------
// Display: `line N, column C` and the offending line, quoted
// ---------------------------------------------------------------------------------------------

fn display_check(id: &str, input: &str, format: Format, line: u32, column: u32, line_text: &str) {
    let e = parse(input.as_bytes(), format).expect_err(id);
    let shown = e.to_string();
    let place = format!("line {line}, column {column}");
    assert!(
        shown.contains(&place),
        "{id}: Display {shown:?} lacks {place:?}"
    );
    let quoted = format!("{line_text:?}");
    assert!(
        shown.contains(&quoted),
        "{id}: Display {shown:?} does not quote the line {quoted:?}"
    );
    assert_eq!(e.snippet, line_text, "{id}: snippet");
}

#[test]
fn display_t21() {
    display_check(
        "T21",
        "a{b=\"x\\ty\"} 1\n",
        Format::Text,
        1,
        7,
        "a{b=\"x\\ty\"} 1",
    );
}

#[test]
fn display_t43() {
    display_check("T43", "a 1 123 456\n", Format::Text, 1, 9, "a 1 123 456");
}

#[test]
fn display_t63() {
    display_check(
        "T63",
        "a{x=\"1\"} 1\nb 1\na{x=\"2\"} 2\n",
        Format::Text,
        3,
        1,
        "a{x=\"2\"} 2",
    );
}

#[test]
fn display_o22() {
    let e = parse(b"a  1\n# EOF\n", Format::OpenMetrics).expect_err("O22");
    let shown = e.to_string();
    assert!(
        shown.contains(&format!("line 1, column {}", e.column)) && e.line == 1,
        "O22: Display {shown:?}"
    );
    assert!(
        shown.contains("\"a  1\""),
        "O22: Display {shown:?} does not quote the line"
    );
}

#[test]
fn display_o33() {
    display_check(
        "O33",
        "a{b=\"c\"d=\"e\"} 1\n# EOF\n",
        Format::OpenMetrics,
        1,
        8,
        "a{b=\"c\"d=\"e\"} 1",
    );
}

// OpenMetrics value rules for histograms, summaries and statesets (beyond the research rows).
row!(
    x13_om_fractional_bucket,
    "X13",
    OpenMetrics,
    "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 0.5\n# EOF\n",
    err(kind!(ErrorKind::InvalidForType(_)), &[(2, 1)])
);
row!(
    x14_om_fractional_summary_count,
    "X14",
    OpenMetrics,
    "# TYPE s summary\ns_count 1.5\ns_sum 2\n# EOF\n",
    err(kind!(ErrorKind::InvalidForType(_)), &[(2, 1)])
);
row!(
    x15_om_negative_summary_sum,
    "X15",
    OpenMetrics,
    "# TYPE s summary\ns_count 1\ns_sum -2\n# EOF\n",
    err(kind!(ErrorKind::InvalidForType(_)), &[(3, 1)])
);
row!(
    x16_om_stateset_needs_its_label,
    "X16",
    OpenMetrics,
    "# TYPE door stateset\ndoor{state=\"open\"} 1\n# EOF\n",
    err(kind!(ErrorKind::InvalidForType(_)), &[(2, 1)])
);
row!(
    x17_om_stateset,
    "X17",
    OpenMetrics,
    "# TYPE door stateset\ndoor{door=\"open\"} 1\ndoor{door=\"shut\"} 0\n# EOF\n",
    ok(vec![
        R::Type("door", MetricType::StateSet),
        s("door", &[("door", "open")], 1.0),
        s("door", &[("door", "shut")], 0.0),
        R::Eof
    ])
);
row!(
    x18_om_negative_buckets_with_sum,
    "X18",
    OpenMetrics,
    "# TYPE h histogram\nh_bucket{le=\"-1\"} 0\nh_bucket{le=\"+Inf\"} 1\nh_count 1\nh_sum 0\n# EOF\n",
    err(kind!(ErrorKind::InvalidForType(_)), &[(2, 1)])
);
row!(
    x19_om_negative_gsum_needs_negative_buckets,
    "X19",
    OpenMetrics,
    "# TYPE g gaugehistogram\ng_bucket{le=\"+Inf\"} 1\ng_gcount 1\ng_gsum -1\n# EOF\n",
    err(kind!(ErrorKind::InvalidForType(_)), &[(2, 1)])
);
row!(
    x20_om_gaugehistogram_negative,
    "X20",
    OpenMetrics,
    "# TYPE g gaugehistogram\ng_bucket{le=\"-1\"} 1\ng_bucket{le=\"+Inf\"} 1\ng_gcount 1\ng_gsum -1\n# EOF\n",
    ok(vec![
        R::Type("g", MetricType::GaugeHistogram),
        s("g_bucket", &[("le", "-1")], 1.0),
        s("g_bucket", &[("le", "+Inf")], 1.0),
        s("g_gcount", &[], 1.0),
        s("g_gsum", &[], -1.0),
        R::Eof
    ])
);

// Series identity ignores label order and empty values, as Prometheus does.
row!(
    x21_duplicate_in_another_label_order,
    "X21",
    Text,
    "a{x=\"1\",y=\"2\"} 1\na{y=\"2\",x=\"1\"} 2\n",
    err(kind!(ErrorKind::DuplicateSeries { .. }), &[(2, 1)])
);
row!(
    x22_empty_label_is_absent_label,
    "X22",
    Text,
    "a 1\na{b=\"\"} 2\n",
    err(kind!(ErrorKind::DuplicateSeries { .. }), &[(2, 1)])
);
row!(
    x23_same_labels_other_values,
    "X23",
    Text,
    "a{x=\"1\",y=\"2\"} 1\na{x=\"2\",y=\"1\"} 2\n",
    ok(vec![
        s("a", &[("x", "1"), ("y", "2")], 1.0),
        s("a", &[("x", "2"), ("y", "1")], 2.0)
    ])
);

// Issue #20: every OpenMetrics histogram and gauge histogram series has a `+Inf` bucket, and
// the message names it, whatever else the series has.
fn names_inf_bucket(k: &ErrorKind) -> bool {
    matches!(k, ErrorKind::InvalidForType(m) if m.contains("no le=\"+Inf\" bucket") && m.contains("h_bucket{le=\"+Inf\"}"))
}
const INF_BUCKET: Kind = Kind {
    desc: "InvalidForType(no le=\"+Inf\" bucket)",
    ok: names_inf_bucket,
};
row!(
    x30_om_histogram_count_and_sum_only,
    "X30",
    OpenMetrics,
    "# TYPE h histogram\nh_count 1\nh_sum 1\n# EOF\n",
    err(INF_BUCKET, &[(2, 1)])
);
row!(
    x31_om_histogram_created_only,
    "X31",
    OpenMetrics,
    "# TYPE h histogram\nh_created 1\n# EOF\n",
    err(INF_BUCKET, &[(2, 1)])
);
row!(
    x32_om_histogram_labelled_series_without_buckets,
    "X32",
    OpenMetrics,
    "# TYPE h histogram\nh_bucket{x=\"a\",le=\"+Inf\"} 1\nh_count{x=\"a\"} 1\nh_sum{x=\"a\"} 1\nh_count{x=\"b\"} 1\nh_sum{x=\"b\"} 1\n# EOF\n",
    err(INF_BUCKET, &[(5, 1)])
);
row!(
    x33_om_gaugehistogram_gcount_and_gsum_only,
    "X33",
    OpenMetrics,
    "# TYPE h gaugehistogram\nh_gcount 1\nh_gsum 1\n# EOF\n",
    err(INF_BUCKET, &[(2, 1)])
);
row!(
    x34_om_histogram_count_without_sum_or_buckets,
    "X34",
    OpenMetrics,
    "# TYPE h histogram\nh_count 1\n# EOF\n",
    err(INF_BUCKET, &[(2, 1)])
);
// The text format keeps Prometheus' reading: `_count` and `_sum` without buckets are fine.
row!(
    x35_text_histogram_count_and_sum_only,
    "X35",
    Text,
    "# TYPE h histogram\nh_count 1\nh_sum 1\n",
    ok(vec![
        R::Type("h", MetricType::Histogram),
        s("h_count", &[], 1.0),
        s("h_sum", &[], 1.0)
    ])
);
// `_count` (`_gcount`) equals the `+Inf` bucket when it comes first too: the error is on the
// bucket line, where the mismatch shows.
fn count_differs(k: &ErrorKind) -> bool {
    matches!(k, ErrorKind::InvalidForType(m) if m.contains("differs from the count 4 (line 2)"))
}
row!(
    x36_count_before_buckets_differs,
    "X36",
    Text,
    "# TYPE h histogram\nh_count 4\nh_sum 1\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 3\n",
    err(
        Kind {
            desc: "count differs",
            ok: count_differs
        },
        &[(5, 1)]
    )
);
row!(
    x36o_count_before_buckets_differs,
    "X36o",
    OpenMetrics,
    "# TYPE h gaugehistogram\nh_gcount 4\nh_gsum 1\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 3\n# EOF\n",
    err(
        Kind {
            desc: "count differs",
            ok: count_differs
        },
        &[(5, 1)]
    )
);
row!(
    x37_count_before_buckets_equal,
    "X37",
    OpenMetrics,
    "# TYPE h histogram\nh_count 3\nh_sum 1\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 3\n# EOF\n",
    ok(vec![
        R::Type("h", MetricType::Histogram),
        s("h_count", &[], 3.0),
        s("h_sum", &[], 1.0),
        s("h_bucket", &[("le", "1")], 1.0),
        s("h_bucket", &[("le", "+Inf")], 3.0),
        R::Eof
    ])
);
// Several rules broken: the first offending line's rule is reported. Line 2's series has no
// +Inf bucket (found when line 3 starts another series), line 3 has a fractional count.
row!(
    x38_first_offending_line_first,
    "X38",
    OpenMetrics,
    "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_count{x=\"b\"} 0.5\n# EOF\n",
    err(
        Kind {
            desc: "InvalidForType(no +Inf bucket) on line 2",
            ok: |k| matches!(k, ErrorKind::InvalidForType(m) if m.contains("no le=\"+Inf\" bucket"))
        },
        &[(2, 1)]
    )
);
#[test]
fn x38_lenient_errors_in_line_order() {
    let input = b"# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_count{x=\"b\"} 0.5\n# EOF\n";
    let (_, errors) = parse_lenient(input, Format::OpenMetrics);
    let lines: Vec<u32> = errors.iter().map(|e| e.line).collect();
    assert_eq!(lines[..2], [2, 3], "{errors:?}");
}

// Issue #20: any OpenMetrics timestamp is valid and kept exactly; the text format keeps its
// int64 milliseconds.
#[test]
fn x40_om_timestamp_beyond_int64_milliseconds() {
    let input =
        b"# TYPE a counter\na_total 1 12345678901234567890.1234567890 # {t=\"x\"} 1 1e300\n# EOF\n";
    let records = parse(input, Format::OpenMetrics).expect("X40: valid");
    let Record::Sample(s) = &records[1] else {
        panic!("X40: {records:?}")
    };
    let ts = s.timestamp.expect("X40: a timestamp");
    assert_eq!(ts.to_string(), "12345678901234567890.123456789", "X40");
    assert_eq!(ts.as_millis(), None, "X40: beyond int64 milliseconds");
    let ex = s.exemplar.as_ref().and_then(|e| e.timestamp).expect("X40");
    assert_eq!(ex.to_string(), "1e+300", "X40");
    assert_eq!(
        ipocket_expfmt::encode(&records, Format::OpenMetrics),
        "# TYPE a counter\na_total 1 12345678901234567890.123456789 # {t=\"x\"} 1 1e+300\n# EOF\n",
        "X40"
    );
}
// Sub-millisecond digits count: the second point goes back by 0.1 ms.
row!(
    x41_om_timestamp_sub_millisecond_kept,
    "X41",
    OpenMetrics,
    "a 1 1.0016\na 2 1.0015\n# EOF\n",
    err(
        kind!(ErrorKind::InvalidForType(m) if m.contains("timestamp goes back: 1.0015 s after 1.0016 s")),
        &[(2, 1)]
    )
);
row!(
    x42_om_timestamp_out_of_float_range,
    "X42",
    OpenMetrics,
    "a 1 1e400\n# EOF\n",
    err(kind!(ErrorKind::InvalidTimestamp(_)), &[(1, 5)])
);
row!(
    x43_text_timestamp_beyond_int64,
    "X43",
    Text,
    "a 1 12345678901234567890\n",
    err(kind!(ErrorKind::InvalidTimestamp(_)), &[(1, 5)])
);
