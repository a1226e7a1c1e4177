// Parser throughput: ipocket's native parser next to the npm packages
// parse-prometheus-text-format and prom2javascript, on the same inputs in the same run.
//
//   node bench/parse.mjs [FILE...]     (default: the shipped corpus, ../shared/corpus/*.prom)
//
// Build the module in release mode first (see docs/node.md). Prints MB/s (median of the
// timed runs) per parser and file, then the speed-up over the faster peer, then what each
// parser keeps of a labelled histogram.
import { readFileSync } from 'node:fs'
import { basename, dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createRequire } from 'node:module'

import { parse, parseColumns, parseFamilies, samples } from '../ipocket.mjs'

const require = createRequire(import.meta.url)
const parsePrometheusTextFormat = require('parse-prometheus-text-format')
const { getMetricsFromIterator } = require('prom2javascript')

const here = dirname(fileURLToPath(import.meta.url))
const corpus = resolve(here, '..', '..', '..', 'shared', 'corpus')
const files = process.argv.slice(2).length
  ? process.argv.slice(2)
  : [join(corpus, 'node_exporter.prom'), join(corpus, 'prometheus_self.prom')]

const MIN_RUNS = 5
const MIN_SECONDS = 1.5

async function timeIt(fn) {
  await fn() // warm-up, and the JIT's first look
  const times = []
  const start = process.hrtime.bigint()
  while (times.length < MIN_RUNS || Number(process.hrtime.bigint() - start) / 1e9 < MIN_SECONDS) {
    const t0 = process.hrtime.bigint()
    await fn()
    times.push(Number(process.hrtime.bigint() - t0) / 1e9)
    if (times.length >= 200) break
  }
  times.sort((a, b) => a - b)
  return times[Math.floor(times.length / 2)]
}

const parsers = {
  'ipocket parse(string)': (text) => parse(text).length,
  'ipocket parse(Buffer)': (_, buf) => parse(buf).length,
  'ipocket samples() iterator': (_, buf) => {
    let n = 0
    for (const _s of samples(buf)) n++
    return n
  },
  'ipocket parseFamilies(Buffer)': (_, buf) => parseFamilies(buf).length,
  'ipocket parseColumns(string)': (text) => parseColumns(text).count,
  'ipocket parseColumns(Buffer)': (_, buf) => parseColumns(buf).count,
  'parse-prometheus-text-format': (text) => parsePrometheusTextFormat(text).length,
  prom2javascript: async (text) => Object.keys(await getMetricsFromIterator(text.split('\n')[Symbol.iterator]())).length,
}
const PEERS = ['parse-prometheus-text-format', 'prom2javascript']

console.log(`node ${process.version}; median of >= ${MIN_RUNS} runs and >= ${MIN_SECONDS} s per cell`)
for (const file of files) {
  const buf = readFileSync(file)
  const text = buf.toString('utf8')
  const mb = buf.length / 1e6
  console.log(`\n${basename(file)}: ${buf.length} bytes, ${parse(buf).length} samples`)
  const rate = {}
  for (const [name, fn] of Object.entries(parsers)) {
    try {
      const s = await timeIt(() => fn(text, buf))
      rate[name] = mb / s
      console.log(`  ${name.padEnd(30)} ${rate[name].toFixed(1).padStart(8)} MB/s  ${(s * 1e3).toFixed(2).padStart(9)} ms`)
    } catch (e) {
      console.log(`  ${name.padEnd(30)}   FAILED (${e.message.slice(0, 90)})`)
    }
  }
  const peerRates = PEERS.map((p) => rate[p]).filter((r) => r !== undefined)
  if (peerRates.length) {
    const bestPeer = Math.max(...peerRates)
    for (const ours of ['ipocket parse(string)', 'ipocket parse(Buffer)', 'ipocket parseFamilies(Buffer)', 'ipocket parseColumns(Buffer)']) {
      console.log(`  ${ours} / faster peer that parsed it: ${(rate[ours] / bestPeer).toFixed(1)}x`)
    }
  }
}

// What survives of a histogram with labels.
const HIST = `# TYPE latency_seconds histogram
latency_seconds_bucket{path="/a",le="0.1"} 1
latency_seconds_bucket{path="/a",le="+Inf"} 2
latency_seconds_sum{path="/a"} 0.3
latency_seconds_count{path="/a"} 2
`
const ours = parseFamilies(HIST)[0]
const theirs = parsePrometheusTextFormat(HIST)[0].metrics[0]
const p2j = (await getMetricsFromIterator(HIST.split('\n')[Symbol.iterator]())).latency_seconds.data[0]
console.log('\nlabelled histogram latency_seconds{path="/a"}:')
console.log(`  ipocket parseFamilies:        ${ours.samples.length} samples, labels of _sum: ${JSON.stringify(ours.samples[2].labels)}`)
console.log(`  parse-prometheus-text-format: ${JSON.stringify(theirs)}  (labels, sum and count dropped)`)
console.log(`  prom2javascript:              ${JSON.stringify(p2j)}`)
