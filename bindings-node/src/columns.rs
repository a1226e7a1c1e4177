//! `parseColumns` and `parseFamilyColumns`: samples as typed arrays over one table of
//! distinct strings. `parse` and `parseFamilies` (text format) build their plain objects in
//! JavaScript from these (ipocket.cjs): far fewer Node-API calls than one per property.

use std::borrow::Cow;

use ipocket_expfmt::{Families, Parser, Record, Sample as RustSample};
use napi::bindgen_prelude::{Env, Float64Array, Uint32Array};

use crate::errors::IntoJs;
use crate::expfmt::{format_of, input_bytes, metric_type_to_js, Input, MetricType, ParseOptions};

/// Every sample of an input in a compact, columnar form: one typed array per field and one
/// table of distinct strings, so that a large input costs a handful of JavaScript objects
/// instead of one object per sample and label.
///
/// Sample `i` is `strings[names[i]]`, `values[i]`, `timestamps[i]` (`NaN` when absent), and
/// its labels are the pairs `labelPairs[2k]`/`labelPairs[2k + 1]` (indexes into `strings`,
/// name then value) for `k` from `labelOffsets[i]` to `labelOffsets[i + 1]`.
#[napi(object)]
pub struct SampleColumns {
    /// Number of samples.
    pub count: u32,
    /// Every distinct metric name, label name and label value, once.
    pub strings: Vec<String>,
    /// Per sample: index of its name in `strings`.
    pub names: Uint32Array,
    /// Per sample: its value.
    pub values: Float64Array,
    /// Per sample: its timestamp in milliseconds, `NaN` when the line has none.
    pub timestamps: Float64Array,
    /// `count + 1` offsets into the label pairs (pair units).
    pub label_offsets: Uint32Array,
    /// Label name and value indexes, two per label.
    pub label_pairs: Uint32Array,
}

/// Interns strings borrowed from the input (escaped ones are owned once).
struct StringTable<'a> {
    index: std::collections::HashMap<Cow<'a, str>, u32, foldhash::fast::RandomState>,
    strings: Vec<String>,
    /// The string last seen in each position of a sample line (name, then label name and
    /// value per label): consecutive series mostly repeat them, and a comparison is cheaper
    /// than a hash lookup.
    recent: Vec<(Cow<'a, str>, u32)>,
}

impl Default for StringTable<'_> {
    fn default() -> Self {
        StringTable {
            index: std::collections::HashMap::with_hasher(Default::default()),
            strings: Vec::new(),
            recent: Vec::new(),
        }
    }
}

impl<'a> StringTable<'a> {
    /// `id` with a one-entry cache for position `slot` of the sample line.
    #[allow(clippy::ptr_arg)] // as in `id`
    fn id_at(&mut self, slot: usize, s: &Cow<'a, str>) -> u32 {
        if let Some((last, i)) = self.recent.get(slot) {
            if last.as_ref() == s.as_ref() {
                return *i;
            }
        }
        let i = self.id(s);
        if slot < self.recent.len() {
            self.recent[slot] = (s.clone(), i);
        } else {
            self.recent.push((s.clone(), i));
        }
        i
    }

    // A `&Cow`, not a `&str`: the key kept in the index is a clone of the Cow, which stays
    // borrowed from the input when it was.
    #[allow(clippy::ptr_arg)]
    fn id(&mut self, s: &Cow<'a, str>) -> u32 {
        if let Some(&i) = self.index.get(s.as_ref()) {
            return i;
        }
        let i = self.strings.len() as u32;
        self.strings.push(s.as_ref().to_owned());
        self.index.insert(s.clone(), i);
        i
    }
}

/// Parses a whole exposition into `SampleColumns` (the fast path for large inputs); the
/// same samples as `parse`, and the same errors.
#[napi]
pub fn parse_columns(
    env: &Env,
    input: Input,
    options: Option<ParseOptions>,
) -> napi::Result<SampleColumns> {
    let format = format_of(options.and_then(|o| o.format));
    let mut parser = Parser::new(input_bytes(&input), format);
    let mut columns = ColumnsBuilder::default();
    while let Some(item) = parser.next_ref() {
        if let Record::Sample(s) = item.js(env)? {
            columns.push(s);
        }
    }
    Ok(columns.finish())
}

/// One metric family of `FamilyColumns`: its metadata and how many samples it has.
#[napi(object)]
#[derive(Debug)]
pub struct FamilyHeader {
    /// Family name.
    pub name: String,
    /// Family type.
    #[napi(js_name = "type")]
    pub metric_type: MetricType,
    /// HELP text, if any.
    pub help: Option<String>,
    /// UNIT (OpenMetrics), if any.
    pub unit: Option<String>,
    /// Its samples are the next `count` samples of the columns.
    pub count: u32,
}

/// Metric families in columnar form: the headers in input order, and every sample in the
/// columns, family after family.
#[napi(object)]
pub struct FamilyColumns {
    /// Family headers, in input order.
    pub families: Vec<FamilyHeader>,
    /// The samples of all families, in the same order.
    pub columns: SampleColumns,
}

/// Parses a whole exposition into `FamilyColumns` (what `parseFamilies` builds its objects
/// from): the same families as `parseFamilies`, and the same errors.
#[napi]
pub fn parse_family_columns(
    env: &Env,
    input: Input,
    options: Option<ParseOptions>,
) -> napi::Result<FamilyColumns> {
    let format = format_of(options.and_then(|o| o.format));
    let mut columns = ColumnsBuilder::default();
    let mut families = Vec::new();
    for family in Families::new(Parser::new(input_bytes(&input), format)) {
        let f = family.js(env)?;
        for s in &f.samples {
            columns.push(s);
        }
        families.push(FamilyHeader {
            name: f.name.into_owned(),
            metric_type: metric_type_to_js(f.metric_type),
            help: f.help.map(Cow::into_owned),
            unit: f.unit.map(Cow::into_owned),
            count: f.samples.len() as u32,
        });
    }
    Ok(FamilyColumns {
        families,
        columns: columns.finish(),
    })
}

/// Appends samples to the columns, interning their strings.
#[derive(Default)]
struct ColumnsBuilder<'a> {
    table: StringTable<'a>,
    names: Vec<u32>,
    values: Vec<f64>,
    timestamps: Vec<f64>,
    label_offsets: Vec<u32>,
    label_pairs: Vec<u32>,
}

impl<'a> ColumnsBuilder<'a> {
    fn push(&mut self, s: &RustSample<'a>) {
        let t = &mut self.table;
        self.names.push(t.id_at(0, &s.name));
        self.values.push(s.value);
        self.timestamps
            .push(s.timestamp_ms.map_or(f64::NAN, |ts| ts as f64));
        for (k, l) in s.labels.iter().enumerate() {
            self.label_pairs.push(t.id_at(1 + 2 * k, &l.name));
            self.label_pairs.push(t.id_at(2 + 2 * k, &l.value));
        }
        if self.label_offsets.is_empty() {
            self.label_offsets.push(0);
        }
        self.label_offsets.push((self.label_pairs.len() / 2) as u32);
    }

    fn finish(mut self) -> SampleColumns {
        if self.label_offsets.is_empty() {
            self.label_offsets.push(0);
        }
        SampleColumns {
            count: self.names.len() as u32,
            strings: self.table.strings,
            names: Uint32Array::new(self.names),
            values: Float64Array::new(self.values),
            timestamps: Float64Array::new(self.timestamps),
            label_offsets: Uint32Array::new(self.label_offsets),
            label_pairs: Uint32Array::new(self.label_pairs),
        }
    }
}
