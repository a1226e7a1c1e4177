// Generated expositions through every parse path: each path must give back exactly the
// samples the generator wrote (a seeded generator, so a failure names a reproducible case).
import assert from 'node:assert/strict'
import { test } from 'node:test'

import { parse, parseColumns, parseFamilies, parseFamilyColumns, samples, samplesFromColumns } from '../ipocket.mjs'

/** mulberry32: a small seeded PRNG. */
function rng(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const NAMES = ['a', 'b_c', 'le', 'quantile', 'job', 'instance', '__proto__', 'constructor', 'x9', 'toString']
const VALUES = ['', 'x', '10.0.0.1:9100', 'zoë/東京', '😀', 'a"b', 'back\\slash', 'two\nlines', ' spaced ', '+Inf']
const NUMBERS = [
  ['1', 1],
  ['-2.5', -2.5],
  ['1e3', 1000],
  ['NaN', NaN],
  ['+Inf', Infinity],
  ['-Inf', -Infinity],
  ['0', 0],
  ['12345678901', 12345678901],
]

function escape(v) {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
}

/** A random valid text exposition and the samples it holds, family by family. */
function generate(next) {
  const pick = (xs) => xs[Math.floor(next() * xs.length)]
  const families = []
  let text = ''
  const count = 1 + Math.floor(next() * 6)
  for (let f = 0; f < count; f++) {
    const name = `fam_${f}_${pick(['total', 'bytes', 'x'])}`
    const type = pick(['gauge', 'untyped', 'counter'])
    const help = next() < 0.5 ? pick(['Help.', 'with \\\\ and \\n', 'ünïcode']) : undefined
    if (help !== undefined) text += `# HELP ${name} ${help}\n`
    text += `# TYPE ${name} ${type}\n`
    // The text format names a counter's samples like the family (no `_total` added).
    const sampleName = name
    const out = []
    const series = 1 + Math.floor(next() * 5)
    for (let s = 0; s < series; s++) {
      const labels = {}
      const n = Math.floor(next() * 4)
      for (let k = 0; k < n; k++) labels[pick(NAMES)] = pick(VALUES)
      labels.series = String(s) // keeps every series of the family distinct
      const [written, value] = pick(NUMBERS)
      const ts = next() < 0.3 ? Math.floor(next() * 2e12) : undefined
      const body = Object.entries(labels)
        .map(([k, v]) => `${k}="${escape(v)}"`)
        .join(',')
      text += `${sampleName}{${body}} ${written}${ts === undefined ? '' : ` ${ts}`}\n`
      const sample = { name: sampleName, labels: { ...labels }, value }
      if (ts !== undefined) sample.timestampMs = ts
      out.push(sample)
    }
    const decodedHelp = help?.replace(/\\\\/g, '\\').replace(/\\n/g, '\n')
    families.push({ name, type: type === 'untyped' ? 'unknown' : type, help: decodedHelp, samples: out })
  }
  return { text, families }
}

/** Own enumerable entries in order, so `__proto__` labels compare as data. */
const plain = (samples) =>
  samples.map((s) => ({ ...s, labels: Object.entries(s.labels), value: Object.is(s.value, NaN) ? 'NaN' : s.value }))

test('every parse path returns exactly the generated samples', () => {
  for (let seed = 1; seed <= 1000; seed++) {
    const { text, families } = generate(rng(seed))
    const want = plain(families.flatMap((f) => f.samples))
    const at = `seed ${seed}:\n${text}`
    assert.deepEqual(plain(parse(text)), want, at)
    assert.deepEqual(plain(parse(Buffer.from(text))), want, at)
    assert.deepEqual(plain([...samples(text)]), want, at)
    assert.deepEqual(plain(samplesFromColumns(parseColumns(Buffer.from(text)))), want, at)
    const got = parseFamilies(text)
    assert.deepEqual(
      got.map((f) => [f.name, f.type, f.help]),
      families.map((f) => [f.name, f.type, f.help]),
      at,
    )
    assert.deepEqual(plain(got.flatMap((f) => f.samples)), want, at)
    assert.deepEqual(
      parseFamilyColumns(text).families.map((f) => f.count),
      families.map((f) => f.samples.length),
      at,
    )
  }
})
