//! Property tests: `parse(encode(x)) == x` for generated expositions in both formats, and
//! `encode(parse(text))` is stable on generated input and on the shipped corpus.

use std::borrow::Cow;

use ipocket_expfmt::{encode, parse, Format, Label, Labels, MetricType, Record, Sample, Timestamp};
use proptest::prelude::*;

/// Any string, with the characters that need escaping or quoting made common.
fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            4 => prop::char::range('a', 'z'),
            1 => Just('"'),
            1 => Just('\\'),
            1 => Just('\n'),
            1 => Just(' '),
            1 => Just('{'),
            1 => Just('}'),
            1 => Just(','),
            1 => Just('='),
            1 => Just('#'),
            1 => Just('é'),
            1 => Just('\u{1F600}'),
            1 => any::<char>(),
        ],
        0..12,
    )
    .prop_map(|chars| chars.into_iter().collect())
}

/// A metric or label name: legacy (bare) or one that must be written quoted.
fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[a-z_][a-z0-9_]{0,10}",
        1 => "[a-z][a-z0-9]{0,4}\\.[a-z.]{1,5}",
        1 => text().prop_filter("names are not empty", |s| !s.is_empty()),
    ]
}

fn value() -> impl Strategy<Value = f64> {
    prop_oneof![
        3 => any::<f64>(),
        2 => (0u32..100_000).prop_map(f64::from),
        1 => Just(f64::NAN),
        1 => Just(f64::INFINITY),
        1 => Just(f64::NEG_INFINITY),
        1 => Just(-0.0),
        1 => Just(f64::MIN_POSITIVE / 4.0),
    ]
}

/// Label pairs, value and timestamp of one generated sample.
type GenSample = (Vec<(String, String)>, f64, Option<i64>);

#[derive(Debug, Clone)]
struct GenFamily {
    name: String,
    metric_type: MetricType,
    help: Option<String>,
    samples: Vec<GenSample>,
}

fn family() -> impl Strategy<Value = GenFamily> {
    (
        name(),
        prop_oneof![
            Just(MetricType::Gauge),
            Just(MetricType::Unknown),
            Just(MetricType::Counter)
        ],
        prop::option::of(text()),
        prop::collection::vec(
            (
                prop::collection::vec((name(), text()), 0..4),
                value(),
                prop::option::of(any::<i64>()),
            ),
            1..4,
        ),
    )
        .prop_map(|(name, metric_type, help, samples)| GenFamily {
            name,
            metric_type,
            help,
            samples,
        })
}

/// Turns generated families into the records a valid exposition of `format` has: unique
/// family names, an `i` label that keeps series apart, distinct label names, `_total` on
/// OpenMetrics counters, and HELP text the text format can carry (no leading blank).
fn records(families: &[GenFamily], format: Format) -> Vec<Record<'static>> {
    let mut out = Vec::new();
    for (f, family) in families.iter().enumerate() {
        let name = format!("{}_f{f}", family.name);
        if let Some(help) = &family.help {
            // A line that ends in CR reads as a CRLF line end, and the text format drops the
            // blanks before HELP text: neither format can carry those.
            let help = help.trim_end_matches('\r');
            let text = match format {
                Format::Text => help.trim_start_matches([' ', '\t']).to_owned(),
                Format::OpenMetrics => help.to_owned(),
            };
            out.push(Record::Help {
                name: Cow::Owned(name.clone()),
                text: Cow::Owned(text),
            });
        }
        if family.metric_type != MetricType::Unknown {
            out.push(Record::Type {
                name: Cow::Owned(name.clone()),
                metric_type: family.metric_type,
            });
        }
        let sample_name = match (format, family.metric_type) {
            (Format::OpenMetrics, MetricType::Counter) => format!("{name}_total"),
            _ => name.clone(),
        };
        for (i, (labels, value, ts)) in family.samples.iter().enumerate() {
            let mut set: Labels<'static> = Labels::new();
            set.push(Label::new("i", i.to_string()));
            for (n, v) in labels {
                let n = format!("{n}_l{}", set.len());
                set.push(Label::new(n, v.clone()));
            }
            let mut value = *value;
            if format == Format::OpenMetrics && family.metric_type == MetricType::Counter {
                value = if value >= 0.0 { value } else { 1.0 };
            }
            let mut sample = Sample::new(sample_name.clone(), set, value);
            sample.timestamp = ts.map(Timestamp::from_millis);
            out.push(Record::Sample(sample));
        }
    }
    if format == Format::OpenMetrics {
        out.push(Record::Eof);
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn parse_of_encode_is_identity(
        families in prop::collection::vec(family(), 0..5),
        om in any::<bool>(),
    ) {
        let format = if om { Format::OpenMetrics } else { Format::Text };
        let records = records(&families, format);
        let text = encode(&records, format);
        let parsed = parse(text.as_bytes(), format)
            .map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        prop_assert_eq!(&parsed, &records, "{}", text);
        // and encoding what was parsed gives the same bytes again
        prop_assert_eq!(encode(&parsed, format), text);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// Any OpenMetrics timestamp (issue #20) reads exactly: the encoder writes it back as the
    /// same number, which reads back to the same timestamp.
    #[test]
    fn any_openmetrics_timestamp_round_trips(
        ts in "-?[0-9]{1,45}(\\.[0-9]{0,30})?(e[+-]?[0-9]{1,3})?",
    ) {
        let input = format!("a_total 1 {ts}\n# EOF\n");
        let parsed = match parse(input.as_bytes(), Format::OpenMetrics) {
            Ok(parsed) => parsed,
            // only beyond float64 range, as for values
            Err(e) => {
                prop_assert!(e.to_string().contains("out of float64 range"), "{e}");
                prop_assert!(ts.parse::<f64>().map_or(true, |v| v.is_infinite()), "{}", ts);
                return Ok(());
            }
        };
        let text = encode(&parsed, Format::OpenMetrics);
        prop_assert_eq!(&parse(text.as_bytes(), Format::OpenMetrics).unwrap(), &parsed, "{}", text);
        let Record::Sample(s) = &parsed[0] else { unreachable!() };
        let t = s.timestamp.expect("a timestamp");
        // the same number as a float, as far as a float can tell
        let float: f64 = ts.parse().unwrap();
        prop_assert_eq!(t.as_secs_f64(), float, "{} read as {}", ts, t);
    }
}

fn corpus(name: &str) -> Vec<u8> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/corpus/");
    std::fs::read(format!("{path}{name}")).expect("the shipped corpus is at ../shared/corpus")
}

#[test]
fn encoding_the_corpus_is_stable() {
    for file in ["node_exporter.prom", "prometheus_self.prom"] {
        let input = corpus(file);
        let records = parse(&input, Format::Text).unwrap();
        let once = encode(&records, Format::Text);
        let again = encode(&parse(once.as_bytes(), Format::Text).unwrap(), Format::Text);
        assert_eq!(once, again, "{file}");
        // The corpus is Go client output: our text encoder writes it back byte for byte.
        let samples_in = records
            .iter()
            .filter(|r| matches!(r, Record::Sample(_)))
            .count();
        assert!(samples_in > 300, "{file}: {samples_in} samples");
        assert_eq!(
            encode(&records, Format::Text).as_bytes(),
            &input[..],
            "{file}"
        );
    }
}
