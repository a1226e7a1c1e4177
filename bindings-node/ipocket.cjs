'use strict'
// CommonJS entry point: the native module as napi-rs loads it (index.js, generated), plus
// the parser functions, which are built here on the columnar transfer of src/columns.rs:
// the Rust parser fills typed arrays and one string of every distinct string, and V8
// creates the plain objects from them far faster than one Node-API call per property can
// (see docs/node.md).
const native = require('./index.js')

const { parseTransfer, chunkReader, readChunk } = native
// The transfer is an implementation detail: the module exports what it is built into.
delete native.parseTransfer
delete native.chunkReader
delete native.readChunk

/** Samples per native call of a `SampleIterator`: memory stays flat, calls stay few. */
const CHUNK = 2048
const NONE = 0xffffffff

/** The distinct strings of a transfer, cut out of the one string that carries them. */
function stringsOf(raw) {
  const { strings: all, stringEnds: ends } = raw
  const out = new Array(ends.length)
  let start = 0
  for (let i = 0; i < ends.length; i++) {
    const end = ends[i]
    out[i] = all.slice(start, end)
    start = end
  }
  return out
}

/** A transfer as the public `SampleColumns`. */
function columnsOf(raw) {
  const columns = {
    count: raw.count,
    strings: stringsOf(raw),
    names: raw.names,
    values: raw.values,
    timestamps: raw.timestamps,
    labelOffsets: raw.labelOffsets,
    labelPairs: raw.labelPairs,
  }
  if (raw.exemplarSamples !== undefined) {
    columns.exemplars = {
      samples: raw.exemplarSamples,
      values: raw.exemplarValues,
      timestamps: raw.exemplarTimestamps,
      labelOffsets: raw.exemplarLabelOffsets,
      labelPairs: raw.exemplarLabelPairs,
    }
  }
  return columns
}

function labelsAt(strings, offsets, pairs, i) {
  const labels = {}
  for (let k = offsets[i], end = offsets[i + 1]; k < end; k++) {
    const name = strings[pairs[2 * k]]
    const value = strings[pairs[2 * k + 1]]
    // A label may be called `__proto__`: define it instead of calling the prototype setter.
    if (name === '__proto__') {
      Object.defineProperty(labels, name, { value, enumerable: true, writable: true, configurable: true })
    } else {
      labels[name] = value
    }
  }
  return labels
}

function exemplarAt(strings, ex, k) {
  const t = ex.timestamps[k]
  const labels = labelsAt(strings, ex.labelOffsets, ex.labelPairs, k)
  return t === t ? { labels, value: ex.values[k], timestampMs: t } : { labels, value: ex.values[k] }
}

/** The plain sample objects of a `SampleColumns`, as `parse` returns them. */
function samplesFromColumns(columns) {
  const { count, strings, names, values, timestamps, labelOffsets, labelPairs, exemplars } = columns
  const out = new Array(count)
  // The sample that has the next exemplar (none: never matches).
  let k = 0
  let exemplarSample = exemplars === undefined || exemplars.samples.length === 0 ? -1 : exemplars.samples[0]
  for (let i = 0; i < count; i++) {
    const s = { name: strings[names[i]], labels: labelsAt(strings, labelOffsets, labelPairs, i), value: values[i] }
    const t = timestamps[i]
    if (t === t) s.timestampMs = t // not NaN: the line has a timestamp
    if (i === exemplarSample) {
      s.exemplar = exemplarAt(strings, exemplars, k)
      k++
      exemplarSample = k < exemplars.samples.length ? exemplars.samples[k] : -1
    }
    out[i] = s
  }
  return out
}

function parseColumns(input, options) {
  return columnsOf(parseTransfer(input, options, false))
}

function parse(input, options) {
  return samplesFromColumns(parseColumns(input, options))
}

/** Calls `make(family, firstSample, sampleCount)` for each family header of a transfer. */
function familiesOf(raw, strings, make) {
  const { familyNames, familyTypes, familyHelps, familyUnits, familyCounts } = raw
  const out = new Array(familyNames.length)
  let at = 0
  for (let i = 0; i < out.length; i++) {
    const f = { name: strings[familyNames[i]], type: strings[familyTypes[i]] }
    if (familyHelps[i] !== NONE) f.help = strings[familyHelps[i]]
    if (familyUnits[i] !== NONE) f.unit = strings[familyUnits[i]]
    out[i] = make(f, at, familyCounts[i])
    at += familyCounts[i]
  }
  return out
}

function parseFamilyColumns(input, options) {
  const raw = parseTransfer(input, options, true)
  const columns = columnsOf(raw)
  const families = familiesOf(raw, columns.strings, (f, _at, count) => {
    f.count = count
    return f
  })
  return { families, columns }
}

function parseFamilies(input, options) {
  const raw = parseTransfer(input, options, true)
  const columns = columnsOf(raw)
  const all = samplesFromColumns(columns)
  return familiesOf(raw, columns.strings, (f, at, count) => {
    f.samples = all.slice(at, at + count)
    return f
  })
}

/**
 * Samples one at a time, for inputs too large to hold as one array of objects: the input
 * is copied once into native memory and read a chunk at a time. It follows the iterator
 * protocol and is iterable; a bad line throws from `next()` after every sample before it.
 */
class SampleIterator {
  #reader
  #chunk = []
  #at = 0

  constructor(input, options) {
    this.#reader = chunkReader(input, options)
  }

  next() {
    if (this.#at === this.#chunk.length) {
      if (this.#reader === null) return { done: true, value: undefined }
      let raw
      try {
        raw = readChunk(this.#reader, CHUNK)
      } catch (e) {
        this.#reader = null
        throw e
      }
      if (raw === null) {
        this.#reader = null
        this.#chunk = []
        return { done: true, value: undefined }
      }
      this.#chunk = samplesFromColumns(columnsOf(raw))
      this.#at = 0
    }
    return { done: false, value: this.#chunk[this.#at++] }
  }

  [Symbol.iterator]() {
    return this
  }
}

function samples(input, options) {
  return new SampleIterator(input, options)
}

Object.assign(native, {
  parse,
  parseColumns,
  parseFamilies,
  parseFamilyColumns,
  samples,
  samplesFromColumns,
  SampleIterator,
})

module.exports = native
