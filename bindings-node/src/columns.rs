//! The columnar transfer behind `parse`, `parseFamilies`, `parseColumns`,
//! `parseFamilyColumns` and `samples()`: the Rust parser fills typed arrays and one string
//! holding every distinct string once, and ipocket.cjs builds the JavaScript values from
//! them. A parse then costs a dozen Node-API calls instead of several per sample, and V8
//! creates the objects far faster than Node-API can.
//!
//! The transfer object (not part of the typed surface) has, for `count` samples:
//! - `strings`: every distinct name, label name, label value (and family name, type, HELP
//!   and unit) concatenated; `stringEnds[i]` is where string `i` ends, in UTF-16 units;
//! - per sample: `names`, `values`, `timestamps` (`NaN`: none), and `labelOffsets`
//!   (`count + 1` entries) into `labelPairs` (name and value string ids, two per label);
//! - when any sample has an exemplar: `exemplarSamples` (which sample), `exemplarValues`,
//!   `exemplarTimestamps`, `exemplarLabelOffsets`, `exemplarLabelPairs`;
//! - for families: `familyNames`, `familyTypes`, `familyHelps`, `familyUnits` (string ids,
//!   `NONE` for no HELP / UNIT) and `familyCounts` (samples per family, in order).

use std::hash::BuildHasher;

use hashbrown::HashTable;
use ipocket_expfmt::{Format, Labels, MetricType, ParseError, Parser, Record, Sample, Timestamp};
use napi::bindgen_prelude::{
    Env, External, Float64ArraySlice, JsObjectValue, Object, Uint32ArraySlice,
};
use napi::JsString;

use crate::errors::{IntoJs, JsFailure};
use crate::expfmt::{format_of, input_bytes, Input, ParseOptions};

/// The id of "no string" (a family without HELP or UNIT).
const NONE: u32 = u32::MAX;

/// Every distinct string of a parse, once, in one buffer.
struct StringTable {
    joined: String,
    /// Byte offset in `joined` where string `i` ends.
    ends: Vec<u32>,
    index: HashTable<u32>,
    /// Seeded per process: the strings come from untrusted input.
    hasher: foldhash::fast::RandomState,
    /// The id last seen in each position of a sample line (name, then label name and value
    /// per label): consecutive series mostly repeat them, and one comparison is cheaper
    /// than a hash lookup.
    recent: Vec<u32>,
}

/// String `id` of a table's `joined` and `ends`.
fn span<'j>(joined: &'j str, ends: &[u32], id: u32) -> &'j str {
    let id = id as usize;
    let start = if id == 0 { 0 } else { ends[id - 1] as usize };
    &joined[start..ends[id] as usize]
}

impl StringTable {
    /// A table sized for an input of `bytes`: one distinct string per ~128 bytes is typical
    /// of real scrapes, and growing the index on the way costs more than the guess.
    fn for_input(bytes: usize) -> StringTable {
        let strings = (bytes / 128).clamp(16, 1 << 16);
        StringTable {
            joined: String::with_capacity(strings * 16),
            ends: Vec::with_capacity(strings),
            index: HashTable::with_capacity(strings),
            hasher: Default::default(),
            recent: Vec::new(),
        }
    }

    /// The id of `s`, added when new.
    fn id(&mut self, s: &str) -> u32 {
        let hash = self.hasher.hash_one(s);
        let (joined, ends) = (&self.joined, &self.ends);
        if let Some(&id) = self.index.find(hash, |&id| span(joined, ends, id) == s) {
            return id;
        }
        let id = self.push(s);
        let StringTable {
            joined,
            ends,
            index,
            hasher,
            ..
        } = self;
        index.insert_unique(hash, id, |&id| hasher.hash_one(span(joined, ends, id)));
        id
    }

    /// Adds `s` without looking it up, for text that is nearly always unique (HELP): no
    /// hashing of long text, at the price of a rare repeat in `strings`.
    fn push(&mut self, s: &str) -> u32 {
        self.joined.push_str(s);
        self.ends.push(self.joined.len() as u32);
        self.ends.len() as u32 - 1
    }

    /// `id`, trying first the string last seen in position `slot` of a sample line.
    fn id_at(&mut self, slot: usize, s: &str) -> u32 {
        if let Some(&last) = self.recent.get(slot) {
            if last != NONE && span(&self.joined, &self.ends, last) == s {
                return last;
            }
        }
        let id = self.id(s);
        if slot >= self.recent.len() {
            self.recent.resize(slot + 1, NONE);
        }
        self.recent[slot] = id;
        id
    }

    /// The joined string (Latin-1 when it is ASCII: a plain copy for V8) and the ends in
    /// UTF-16 units, as JavaScript's `slice` counts.
    fn into_js<'e>(self, env: &'e Env) -> napi::Result<(JsString<'e>, Uint32ArraySlice<'e>)> {
        let (joined, ends) = if self.joined.is_ascii() {
            (env.create_string_latin1(self.joined.as_bytes())?, self.ends)
        } else {
            let mut units = 0u32;
            let ends = (0..self.ends.len() as u32)
                .map(|id| {
                    let s = span(&self.joined, &self.ends, id);
                    units += s.chars().map(|c| c.len_utf16() as u32).sum::<u32>();
                    units
                })
                .collect::<Vec<_>>();
            (env.create_string(&self.joined)?, ends)
        };
        Ok((joined, Uint32ArraySlice::copy_from(env, ends)?))
    }
}

/// Samples (and exemplars) in columns, as they are parsed.
#[derive(Default)]
struct SampleColumns {
    names: Vec<u32>,
    values: Vec<f64>,
    timestamps: Vec<f64>,
    label_offsets: Vec<u32>,
    label_pairs: Vec<u32>,
    exemplar_samples: Vec<u32>,
    exemplar_values: Vec<f64>,
    exemplar_timestamps: Vec<f64>,
    exemplar_label_offsets: Vec<u32>,
    exemplar_label_pairs: Vec<u32>,
}

/// Milliseconds rounded down (what `encode` takes back), or the nearest float beyond int64.
fn timestamp(ts: Option<Timestamp>) -> f64 {
    ts.map_or(f64::NAN, |t| {
        t.as_millis()
            .map_or_else(|| t.as_millis_f64(), |ms| ms as f64)
    })
}

impl SampleColumns {
    /// Columns sized for an input of `bytes`: real scrapes hold a sample per 60–120 bytes
    /// and two or three labels per sample, and growing the vectors costs more than the guess.
    fn for_input(bytes: usize) -> SampleColumns {
        let samples = bytes / 96;
        SampleColumns {
            names: Vec::with_capacity(samples),
            values: Vec::with_capacity(samples),
            timestamps: Vec::with_capacity(samples),
            label_offsets: Vec::with_capacity(samples + 1),
            label_pairs: Vec::with_capacity(samples * 6),
            ..SampleColumns::default()
        }
    }

    fn push(&mut self, strings: &mut StringTable, s: &Sample<'_>) {
        if self.label_offsets.is_empty() {
            self.label_offsets.push(0);
        }
        self.names.push(strings.id_at(0, &s.name));
        self.values.push(s.value);
        self.timestamps.push(timestamp(s.timestamp));
        push_labels(
            strings,
            &s.labels,
            &mut self.label_pairs,
            &mut self.label_offsets,
            1,
        );
        if let Some(e) = &s.exemplar {
            if self.exemplar_label_offsets.is_empty() {
                self.exemplar_label_offsets.push(0);
            }
            self.exemplar_samples.push(self.names.len() as u32 - 1);
            self.exemplar_values.push(e.value);
            self.exemplar_timestamps.push(timestamp(e.timestamp));
            let (pairs, offsets) = (
                &mut self.exemplar_label_pairs,
                &mut self.exemplar_label_offsets,
            );
            // Exemplar labels take the recent-string slots after the sample's own labels.
            push_labels(strings, &e.labels, pairs, offsets, 1 + 2 * s.labels.len());
        }
    }

    fn set_on(self, env: &Env, raw: &mut Object<'_>) -> napi::Result<()> {
        let mut label_offsets = self.label_offsets;
        if label_offsets.is_empty() {
            label_offsets.push(0);
        }
        raw.set_named_property("count", self.names.len() as u32)?;
        set_u32(env, raw, "names", &self.names)?;
        set_f64(env, raw, "values", &self.values)?;
        set_f64(env, raw, "timestamps", &self.timestamps)?;
        set_u32(env, raw, "labelOffsets", &label_offsets)?;
        set_u32(env, raw, "labelPairs", &self.label_pairs)?;
        if !self.exemplar_samples.is_empty() {
            set_u32(env, raw, "exemplarSamples", &self.exemplar_samples)?;
            set_f64(env, raw, "exemplarValues", &self.exemplar_values)?;
            set_f64(env, raw, "exemplarTimestamps", &self.exemplar_timestamps)?;
            set_u32(
                env,
                raw,
                "exemplarLabelOffsets",
                &self.exemplar_label_offsets,
            )?;
            set_u32(env, raw, "exemplarLabelPairs", &self.exemplar_label_pairs)?;
        }
        Ok(())
    }
}

fn push_labels(
    strings: &mut StringTable,
    labels: &Labels<'_>,
    pairs: &mut Vec<u32>,
    offsets: &mut Vec<u32>,
    first_slot: usize,
) {
    for (k, l) in labels.iter().enumerate() {
        pairs.push(strings.id_at(first_slot + 2 * k, &l.name));
        pairs.push(strings.id_at(first_slot + 2 * k + 1, &l.value));
    }
    offsets.push((pairs.len() / 2) as u32);
}

fn set_u32(env: &Env, raw: &mut Object<'_>, name: &str, v: &[u32]) -> napi::Result<()> {
    raw.set_named_property(name, Uint32ArraySlice::copy_from(env, v)?)
}

fn set_f64(env: &Env, raw: &mut Object<'_>, name: &str, v: &[f64]) -> napi::Result<()> {
    raw.set_named_property(name, Float64ArraySlice::copy_from(env, v)?)
}

/// Family headers in columns: string ids, and samples per family.
#[derive(Default)]
struct FamilyColumns {
    names: Vec<u32>,
    types: Vec<u32>,
    helps: Vec<u32>,
    units: Vec<u32>,
    counts: Vec<u32>,
}

/// The name JavaScript uses for a metric type (the `MetricType` string enum): the
/// OpenMetrics names, `unknown` included, whatever the input format.
fn type_name(t: MetricType) -> &'static str {
    t.as_str(Format::OpenMetrics)
}

/// What a record adds to the family it belongs to.
enum FamilyPart {
    Sample,
    Help(u32),
    Type(MetricType),
    Unit(u32),
}

/// One parse into columns: samples only, or samples and family headers.
struct Transfer {
    strings: StringTable,
    samples: SampleColumns,
    families: Option<(FamilyColumns, Option<u64>)>,
}

impl Transfer {
    fn new(input_bytes: usize, with_families: bool) -> Transfer {
        Transfer {
            strings: StringTable::for_input(input_bytes),
            samples: SampleColumns::for_input(input_bytes),
            families: with_families.then(|| (FamilyColumns::default(), None)),
        }
    }

    /// Reads up to `max` samples (all when `None`); `Ok(false)` once the input is done.
    fn read(&mut self, parser: &mut Parser<'_>, max: Option<usize>) -> Result<bool, ParseError> {
        let om = parser.format() == Format::OpenMetrics;
        let mut read = 0;
        while max.is_none_or(|max| read < max) {
            let Some(record) = parser.next_ref() else {
                return Ok(false);
            };
            let part = match record? {
                Record::Sample(s) => {
                    self.samples.push(&mut self.strings, s);
                    read += 1;
                    FamilyPart::Sample
                }
                _ if self.families.is_none() => continue,
                Record::Help { text, .. } if om && text.is_empty() => FamilyPart::Help(NONE),
                Record::Help { text, .. } => FamilyPart::Help(self.strings.push(text)),
                Record::Type { metric_type, .. } => FamilyPart::Type(*metric_type),
                Record::Unit { unit, .. } if unit.is_empty() => FamilyPart::Unit(NONE),
                Record::Unit { unit, .. } => FamilyPart::Unit(self.strings.id(unit)),
                Record::Comment(_) | Record::Eof => continue,
            };
            if let Some((families, current)) = &mut self.families {
                let info = parser
                    .current_family()
                    .expect("a checked record has a family");
                if *current != Some(info.id) {
                    *current = Some(info.id);
                    families.names.push(self.strings.id(info.name));
                    families.types.push(NONE);
                    families.helps.push(NONE);
                    families.units.push(NONE);
                    families.counts.push(0);
                }
                let last = families.counts.len() - 1;
                match part {
                    FamilyPart::Sample => families.counts[last] += 1,
                    FamilyPart::Help(id) => families.helps[last] = id,
                    FamilyPart::Type(t) => families.types[last] = self.strings.id(type_name(t)),
                    FamilyPart::Unit(id) => families.units[last] = id,
                }
            }
        }
        Ok(true)
    }

    fn into_js(mut self, env: &Env) -> napi::Result<Object<'_>> {
        let mut raw = Object::new(env)?;
        if let Some((mut families, _)) = self.families.take() {
            let unknown = self.strings.id(type_name(MetricType::Unknown));
            for t in families.types.iter_mut().filter(|t| **t == NONE) {
                *t = unknown;
            }
            set_u32(env, &mut raw, "familyNames", &families.names)?;
            set_u32(env, &mut raw, "familyTypes", &families.types)?;
            set_u32(env, &mut raw, "familyHelps", &families.helps)?;
            set_u32(env, &mut raw, "familyUnits", &families.units)?;
            set_u32(env, &mut raw, "familyCounts", &families.counts)?;
        }
        self.samples.set_on(env, &mut raw)?;
        let (strings, ends) = self.strings.into_js(env)?;
        raw.set_named_property("strings", strings)?;
        raw.set_named_property("stringEnds", ends)?;
        Ok(raw)
    }
}

/// String offsets are 32-bit: refuse larger inputs with a clear error instead of wrapping.
fn check_size(bytes: &[u8]) -> Result<(), JsFailure> {
    if u32::try_from(bytes.len()).is_err() {
        return Err(JsFailure::argument(format!(
            "input: {} bytes is more than a whole-input parse takes (4 GiB); use samples()",
            bytes.len()
        )));
    }
    Ok(())
}

/// The whole input in columns (behind `parse`, `parseColumns`, and with `families` behind
/// `parseFamilies` and `parseFamilyColumns`); throws the first parse error.
#[napi(skip_typescript, js_name = "parseTransfer")]
pub fn parse_transfer<'e>(
    env: &'e Env,
    input: Input<'_>,
    options: Option<ParseOptions>,
    families: bool,
) -> napi::Result<Object<'e>> {
    let format = format_of(options.and_then(|o| o.format));
    let bytes = input_bytes(&input)?;
    check_size(&bytes).js(env)?;
    let mut parser = Parser::new(&bytes, format);
    let mut transfer = Transfer::new(bytes.len(), families);
    transfer.read(&mut parser, None).js(env)?;
    transfer.into_js(env)
}

self_cell::self_cell!(
    /// The input bytes and a parser borrowing them, kept together by the reader.
    struct OwnedParser {
        owner: Vec<u8>,
        #[not_covariant]
        dependent: Parser,
    }
);

/// The native half of `SampleIterator` (ipocket.cjs): the input copied once, read a chunk
/// of samples at a time.
pub struct ChunkReader {
    parser: OwnedParser,
    /// An error found after some samples of a chunk: thrown by the next call, so every
    /// sample before the bad line is still handed out first.
    pending: Option<ParseError>,
    done: bool,
}

/// Starts reading `input` for `readChunk`.
#[napi(skip_typescript, js_name = "chunkReader")]
pub fn chunk_reader(
    input: Input<'_>,
    options: Option<ParseOptions>,
) -> napi::Result<External<ChunkReader>> {
    let format = format_of(options.and_then(|o| o.format));
    let bytes = input_bytes(&input)?.into_owned();
    Ok(External::new(ChunkReader {
        parser: OwnedParser::new(bytes, |b| Parser::new(b, format)),
        pending: None,
        done: false,
    }))
}

/// The next (up to) `max` samples of a `chunkReader` as a transfer object, or `null` at
/// the end.
#[napi(skip_typescript, js_name = "readChunk")]
pub fn read_chunk<'e>(
    env: &'e Env,
    reader: &mut External<ChunkReader>,
    max: u32,
) -> napi::Result<Option<Object<'e>>> {
    if let Some(e) = reader.pending.take() {
        return Err(JsFailure::from(e).into_napi(env));
    }
    if reader.done {
        return Ok(None);
    }
    // Sized as for an input of `max` typical sample lines (see `SampleColumns::for_input`).
    let mut transfer = Transfer::new(max as usize * 96, false);
    let read = reader
        .parser
        .with_dependent_mut(|_, parser| transfer.read(parser, Some(max as usize)));
    match read {
        Ok(more) => reader.done = !more,
        Err(e) if transfer.samples.names.is_empty() => {
            reader.done = true;
            return Err(JsFailure::from(e).into_napi(env));
        }
        Err(e) => {
            reader.done = true;
            reader.pending = Some(e);
        }
    }
    if transfer.samples.names.is_empty() {
        return Ok(None);
    }
    transfer.into_js(env).map(Some)
}
