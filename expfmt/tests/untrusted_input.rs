//! Arbitrary and mutated input: the parser never panics, always ends, and in lenient mode
//! reports every line it skips.

use ipocket_expfmt::{parse_families, Format, Mode, Parser};
use proptest::prelude::*;

/// Runs a parser over `input` to the end and checks that it does not run away: no more items
/// than lines, plus the few errors that are about the whole input.
fn run(input: &[u8], format: Format, mode: Mode) {
    let lines = input.iter().filter(|&&b| b == b'\n').count() + 1;
    let mut items = 0;
    let mut parser = Parser::new(input, format).with_mode(mode);
    for item in parser.by_ref() {
        items += 1;
        assert!(
            items <= 2 * lines + 4,
            "runaway parser: {items} items for {lines} lines"
        );
        if let Err(e) = item {
            assert!(e.line >= 1 && e.column >= 1);
            assert!(!e.to_string().is_empty());
        }
    }
    assert!(parser.next().is_none(), "an ended parser stays ended");
    let _ = parse_families(input, format);
}

fn seed() -> Vec<u8> {
    let mut s = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/corpus/node_exporter.prom"
    ))
    .expect("the shipped corpus is at ../shared/corpus");
    s.truncate(4096);
    s.extend_from_slice(
        b"# TYPE h histogram\nh_bucket{le=\"1\",a=\"x\\\\\\\"y\"} 1 123\nh_bucket{le=\"+Inf\"} 2\n\
          h_count 2\nh_sum 3\n{\"my.metric\",\"a.b\"=\"c\"} NaN\n# EOF\n",
    );
    s
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes(input in prop::collection::vec(any::<u8>(), 0..600)) {
        for format in [Format::Text, Format::OpenMetrics] {
            run(&input, format, Mode::Strict);
            run(&input, format, Mode::Lenient);
        }
    }

    #[test]
    fn structured_noise(input in "([a-z_:{}\"=,# .\\\\\n\t+-]|[0-9]|NaN|Inf|EOF|HELP|TYPE|UNIT|le|counter|histogram){0,200}") {
        for format in [Format::Text, Format::OpenMetrics] {
            run(input.as_bytes(), format, Mode::Strict);
            run(input.as_bytes(), format, Mode::Lenient);
        }
    }

    #[test]
    fn mutated_corpus(edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0..3u8), 1..12)) {
        let mut input = seed();
        for (at, byte, op) in edits {
            let i = at.index(input.len());
            match op {
                0 => input[i] = byte,
                1 => input.insert(i, byte),
                _ => {
                    input.remove(i);
                }
            }
        }
        for format in [Format::Text, Format::OpenMetrics] {
            run(&input, format, Mode::Strict);
            run(&input, format, Mode::Lenient);
        }
    }
}

#[test]
fn lenient_mode_keeps_the_good_lines() {
    let input = b"a 1\nb{x=\"1\" 2\nc 3\nd 0x1\ne 5\n";
    let mut samples = Vec::new();
    let mut errors = Vec::new();
    for item in Parser::new(input, Format::Text).with_mode(Mode::Lenient) {
        match item {
            Ok(ipocket_expfmt::Record::Sample(s)) => samples.push(s.name.to_string()),
            Ok(_) => {}
            Err(e) => errors.push(e.line),
        }
    }
    assert_eq!(samples, ["a", "c", "e"]);
    assert_eq!(errors, [2, 4]);
}
