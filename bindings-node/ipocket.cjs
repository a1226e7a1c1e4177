'use strict'
// CommonJS entry point: the native module as napi-rs loads it (index.js, generated), plus
// the two things better done in JavaScript:
// - `SampleIterator` is its own iterator, so `for (const s of samples(text))` works;
// - `parse` and `parseFamilies` (text format) build their plain objects here from
//   `parseColumns` / `parseFamilyColumns`: V8 creates objects far faster than one Node-API
//   call per property can (about 5x on a 5 MB scrape, see docs/node.md), and the interned
//   strings are shared between samples.
const native = require('./index.js')

native.SampleIterator.prototype[Symbol.iterator] = function iterator() {
  return this
}

function setLabel(labels, name, value) {
  // A label may be called `__proto__`: define it instead of calling the prototype setter.
  if (name === '__proto__') {
    Object.defineProperty(labels, name, { value, enumerable: true, writable: true, configurable: true })
  } else {
    labels[name] = value
  }
}

/** The plain sample objects of a `SampleColumns`, as `parse` returns them. */
function samplesFromColumns(columns) {
  const { count, strings, names, values, timestamps, labelOffsets, labelPairs } = columns
  const out = new Array(count)
  for (let i = 0; i < count; i++) {
    const labels = {}
    for (let k = labelOffsets[i], end = labelOffsets[i + 1]; k < end; k++) {
      setLabel(labels, strings[labelPairs[2 * k]], strings[labelPairs[2 * k + 1]])
    }
    const t = timestamps[i]
    out[i] =
      t === t // not NaN: the line has a timestamp
        ? { name: strings[names[i]], labels, value: values[i], timestampMs: t }
        : { name: strings[names[i]], labels, value: values[i] }
  }
  return out
}

const nativeParse = native.parse
native.parse = function parse(input, options) {
  // OpenMetrics samples may carry exemplars, which the columns leave out.
  if (options != null && options.format === 'openmetrics') return nativeParse(input, options)
  return samplesFromColumns(native.parseColumns(input, options))
}
native.samplesFromColumns = samplesFromColumns

const nativeParseFamilies = native.parseFamilies
native.parseFamilies = function parseFamilies(input, options) {
  if (options != null && options.format === 'openmetrics') return nativeParseFamilies(input, options)
  const { families, columns } = native.parseFamilyColumns(input, options)
  const all = samplesFromColumns(columns)
  const out = new Array(families.length)
  let at = 0
  for (let i = 0; i < families.length; i++) {
    const h = families[i]
    const f = { name: h.name, type: h.type }
    if (h.help != null) f.help = h.help
    if (h.unit != null) f.unit = h.unit
    f.samples = all.slice(at, (at += h.count))
    out[i] = f
  }
  return out
}

module.exports = native
