//! The full parse that `ipocket expfmt check|bench` and the criterion bench run.

use std::hint::black_box;

use crate::{Format, ParseError, Parser, Record};

/// Parses `input` to the end the way a consumer that reads everything would: every record
/// built, every label of every sample visited, every value and timestamp read. Records are
/// lent ([`Parser::next_ref`]), so label storage is reused. Returns the number of samples.
///
/// ```
/// use ipocket_expfmt::{parse_all, Format};
/// let text = b"# TYPE a counter\na_total{x=\"1\"} 1\na_total{x=\"2\"} 2 1700000000000\n";
/// assert_eq!(parse_all(text, Format::Text).unwrap(), 2);
/// assert!(parse_all(b"a{x=\"1} 1\n", Format::Text).is_err());
/// ```
pub fn parse_all(input: &[u8], format: Format) -> Result<u64, ParseError> {
    let mut parser = Parser::new(input, format);
    let (mut samples, mut label_bytes, mut sum) = (0u64, 0usize, 0f64);
    while let Some(record) = parser.next_ref_inlined() {
        if let Record::Sample(s) = record? {
            samples += 1;
            for l in s.labels.iter() {
                label_bytes += l.name.len() + l.value.len();
            }
            // most samples have no timestamp: a branch, not the conversion computed anyway
            let millis = match &s.timestamp {
                Some(t) => t.as_millis().unwrap_or(0),
                None => 0,
            };
            sum += s.value + millis as f64;
        }
    }
    black_box((label_bytes, sum));
    Ok(samples)
}
