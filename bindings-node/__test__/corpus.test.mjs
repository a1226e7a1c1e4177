// Every sample of the shipped corpus, as the Node module reports it, against what the Rust
// parser prints through `ipocket expfmt dump` (one JSON line per sample).
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'

import { parse, parseFamilies, samples } from '../ipocket.mjs'

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
const corpus = process.env.IPOCKET_CORPUS ?? resolve(repo, '..', 'shared', 'corpus')
const bin =
  process.env.IPOCKET_BIN ?? join(process.env.CARGO_TARGET_DIR ?? join(repo, 'target'), 'debug', 'ipocket')

// Go's float text (the dump's format) to a number.
function goFloat(s) {
  if (s === '+Inf') return Infinity
  if (s === '-Inf') return -Infinity
  return Number(s)
}

for (const file of ['node_exporter.prom', 'prometheus_self.prom']) {
  test(`every sample of ${file} matches the Rust parser`, () => {
    const path = join(corpus, file)
    assert.ok(existsSync(path), `corpus file ${path} is missing (set IPOCKET_CORPUS)`)
    assert.ok(existsSync(bin), `${bin} is missing: cargo build -p ipocket-cli (or set IPOCKET_BIN)`)
    const expected = execFileSync(bin, ['expfmt', 'dump', path], { encoding: 'utf8', maxBuffer: 1 << 26 })
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    const input = readFileSync(path)
    const got = parse(input)
    assert.ok(expected.length > 300, `only ${expected.length} samples dumped`)
    assert.equal(got.length, expected.length)
    // parse and parseFamilies build objects in JavaScript from the columns; the iterator
    // builds them natively: all three are checked.
    const streamed = [...samples(input)]
    const grouped = parseFamilies(input).flatMap((f) => f.samples)
    assert.equal(streamed.length, expected.length)
    assert.equal(grouped.length, expected.length)
    expected.forEach((want, i) => {
      for (const s of [got[i], streamed[i], grouped[i]]) {
        const where = `${file} sample ${i} (${want.name})`
        assert.equal(s.name, want.name, where)
        assert.deepEqual(Object.entries(s.labels), Object.entries(want.labels), where)
        assert.ok(Object.is(s.value, goFloat(want.value)) || (Number.isNaN(s.value) && want.value === 'NaN'), `${where}: ${s.value} vs ${want.value}`)
        assert.equal(s.timestampMs, want.timestamp_ms, where)
      }
    })
  })
}
