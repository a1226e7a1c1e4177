//! Any bytes, both formats, both modes: no panic, no endless loop, and whatever parses
//! strictly encodes to text that parses to the same records.
#![no_main]

use ipocket_expfmt::{encode, parse, parse_families, Format, Mode, Parser};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for format in [Format::Text, Format::OpenMetrics] {
        let lines = data.iter().filter(|&&b| b == b'\n').count() + 1;
        let items = Parser::new(data, format).with_mode(Mode::Lenient).count();
        assert!(items <= 2 * lines + 4);
        let _ = parse_families(data, format);
        if let Ok(records) = parse(data, format) {
            let text = encode(&records, format);
            let again = parse(text.as_bytes(), format).expect("our own output parses");
            assert_eq!(again, records);
        }
    }
});
