//! Property tests: canonical label JSON and the remote-write encoder.

use ipocket_connectors::ingest::canonical_labels_json;
use ipocket_connectors::remote_write::{TimeSeries, WriteRequest};
use ipocket_expfmt::Label;
use proptest::prelude::*;

fn labels() -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::btree_map(
        "[a-zA-Z_][a-zA-Z0-9_]{0,8}",
        "\\PC{0,12}|[\"\\\\\n\t\u{1}]{0,3}",
        0..6,
    )
    .prop_map(|m| m.into_iter().collect())
}

/// Reads one protobuf varint.
fn varint(b: &[u8], i: &mut usize) -> u64 {
    let mut v = 0u64;
    let mut shift = 0;
    loop {
        let byte = b[*i];
        *i += 1;
        v |= u64::from(byte & 0x7f) << shift;
        if byte < 0x80 {
            return v;
        }
        shift += 7;
    }
}

/// A minimal decoder of what `to_protobuf` writes, to check the encoding independently.
/// Labels and samples of one decoded series.
type Decoded = (Vec<(String, String)>, Vec<(f64, i64)>);

fn decode(b: &[u8]) -> Vec<Decoded> {
    fn fields(b: &[u8]) -> Vec<(u64, Vec<u8>, u64)> {
        let mut i = 0;
        let mut out = Vec::new();
        while i < b.len() {
            let key = varint(b, &mut i);
            match key & 7 {
                0 => out.push((key >> 3, Vec::new(), varint(b, &mut i))),
                1 => {
                    let v = u64::from_le_bytes(b[i..i + 8].try_into().unwrap());
                    i += 8;
                    out.push((key >> 3, Vec::new(), v));
                }
                2 => {
                    let n = varint(b, &mut i) as usize;
                    out.push((key >> 3, b[i..i + n].to_vec(), 0));
                    i += n;
                }
                t => panic!("wire type {t}"),
            }
        }
        out
    }
    fields(b)
        .into_iter()
        .map(|(f, ts, _)| {
            assert_eq!(f, 1);
            let mut labels = Vec::new();
            let mut samples = Vec::new();
            for (f, body, _) in fields(&ts) {
                let inner = fields(&body);
                if f == 1 {
                    let get = |n| {
                        String::from_utf8(
                            inner
                                .iter()
                                .find(|x| x.0 == n)
                                .map(|x| x.1.clone())
                                .unwrap_or_default(),
                        )
                        .unwrap()
                    };
                    labels.push((get(1), get(2)));
                } else {
                    let v = inner.iter().find(|x| x.0 == 1).map_or(0, |x| x.2);
                    let t = inner.iter().find(|x| x.0 == 2).map_or(0, |x| x.2);
                    samples.push((f64::from_bits(v), t as i64));
                }
            }
            (labels, samples)
        })
        .collect()
}

proptest! {
    #[test]
    fn canonical_json_parses_back_to_the_same_labels(pairs in labels()) {
        let owned: Vec<Label<'_>> = pairs.iter().map(|(n, v)| Label::new(n.as_str(), v.as_str())).collect();
        let refs: Vec<&Label<'_>> = owned.iter().collect();
        let mut out = String::new();
        canonical_labels_json(&refs, &mut out);
        let back: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&out).unwrap();
        prop_assert_eq!(back.len(), pairs.len());
        for (n, v) in &pairs {
            prop_assert_eq!(back[n].as_str(), Some(v.as_str()));
        }
    }

    #[test]
    fn protobuf_and_snappy_round_trip(
        series in prop::collection::vec((labels(), prop::collection::vec((any::<f64>(), any::<i64>()), 0..4)), 0..5)
    ) {
        let mut req = WriteRequest::default();
        for (l, samples) in &series {
            let s = TimeSeries::new("m", l.iter().map(|(a, b)| (a.as_str(), b.as_str())), samples.clone()).unwrap();
            req.timeseries.push(s);
        }
        let body = req.to_body().unwrap();
        let raw = snap::raw::Decoder::new().decompress_vec(&body).unwrap();
        let decoded = decode(&raw);
        prop_assert_eq!(decoded.len(), req.timeseries.len());
        for (d, ts) in decoded.iter().zip(&req.timeseries) {
            prop_assert_eq!(&d.0, &ts.labels);
            prop_assert!(d.0.windows(2).all(|w| w[0].0 < w[1].0), "sorted and unique");
            prop_assert!(d.0.iter().all(|(n, v)| !n.is_empty() && !v.is_empty()));
            let bits: Vec<(u64, i64)> = d.1.iter().map(|(v, t)| (v.to_bits(), *t)).collect();
            let want: Vec<(u64, i64)> = ts.samples.iter().map(|(v, t)| (v.to_bits(), *t)).collect();
            prop_assert_eq!(bits, want);
        }
    }
}
