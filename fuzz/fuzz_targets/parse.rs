//! Any bytes, both formats, both modes: no panic, no endless loop; the fast paths (and the
//! SIMD scans under them) yield exactly what the general lexer yields (records, errors,
//! families); and whatever parses strictly encodes to text that parses to the same records.
#![no_main]

use ipocket_expfmt::{encode, parse, parse_families, Format, Mode, ParseError, Parser, Record};
use libfuzzer_sys::fuzz_target;

/// Every item of `parser`, with the family it reports after each.
fn outcome(mut parser: Parser<'_>) -> Vec<(Result<Record<'static>, ParseError>, Option<String>)> {
    let mut out = Vec::new();
    while let Some(item) = parser.next_ref() {
        let item = item.map(|r| r.clone().into_owned());
        let family = parser
            .current_family()
            .map(|f| format!("{} {} {:?} {:?}", f.id, f.name, f.metric_type, f.unit));
        out.push((item, family));
    }
    out
}

fuzz_target!(|data: &[u8]| {
    for format in [Format::Text, Format::OpenMetrics] {
        let lines = data.iter().filter(|&&b| b == b'\n').count() + 1;
        let items = Parser::new(data, format).with_mode(Mode::Lenient).count();
        assert!(items <= 2 * lines + 4);
        for mode in [Mode::Strict, Mode::Lenient] {
            let fast = outcome(Parser::new(data, format).with_mode(mode));
            let general = outcome(Parser::new(data, format).with_mode(mode).without_fast_paths());
            assert_eq!(fast, general, "{format:?} {mode:?}");
        }
        let _ = parse_families(data, format);
        if let Ok(records) = parse(data, format) {
            let text = encode(&records, format);
            let again = parse(text.as_bytes(), format).expect("our own output parses");
            assert_eq!(again, records);
        }
    }
});
