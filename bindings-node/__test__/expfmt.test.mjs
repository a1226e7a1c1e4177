import assert from 'node:assert/strict'
import { test } from 'node:test'

import {
  check,
  encode,
  encodeFamilies,
  parse,
  parseColumns,
  parseFamilies,
  parseFamilyColumns,
  samples,
  samplesFromColumns,
  SampleIterator,
} from '../ipocket.mjs'

const TEXT = `# HELP http_requests_total Requests.
# TYPE http_requests_total counter
http_requests_total{method="get",code="200"} 1027 1395066363000
http_requests_total{method="post",code="400"} 3
# TYPE latency histogram
latency_bucket{le="0.1",path="/a"} 1
latency_bucket{le="+Inf",path="/a"} 2
latency_sum{path="/a"} 0.3
latency_count{path="/a"} 2
esc{v="a\\"b\\\\c\\nd"} NaN
`

test('parse returns plain objects with ordered labels, values and timestamps', () => {
  const s = parse(TEXT)
  assert.equal(s.length, 7)
  assert.deepEqual(s[0], {
    name: 'http_requests_total',
    labels: { method: 'get', code: '200' },
    value: 1027,
    timestampMs: 1395066363000,
  })
  assert.deepEqual(Object.keys(s[0].labels), ['method', 'code'])
  assert.equal(s[1].timestampMs, undefined)
  assert.equal(s[3].labels.le, '+Inf')
  assert.equal(s[6].labels.v, 'a"b\\c\nd')
  assert.ok(Number.isNaN(s[6].value))
})

test('a Buffer parses the same as a string', () => {
  assert.deepEqual(parse(Buffer.from(TEXT)), parse(TEXT))
})

test('parseFamilies keeps labelled histograms whole', () => {
  const f = parseFamilies(TEXT)
  assert.deepEqual(
    f.map((x) => [x.name, x.type, x.samples.length]),
    [
      ['http_requests_total', 'counter', 2],
      ['latency', 'histogram', 4],
      ['esc', 'unknown', 1],
    ],
  )
  assert.equal(f[0].help, 'Requests.')
  assert.equal(f[1].help, undefined)
})

test('encodeFamilies(parseFamilies(x)) gives x back', () => {
  assert.equal(encodeFamilies(parseFamilies(TEXT)), TEXT.replace('# TYPE latency', '# TYPE latency'))
})

test('encode escapes and writes specials as the format says', () => {
  const out = encode([
    { name: 'up', labels: { job: 'a"b' }, value: Infinity },
    { name: 'x', labels: {}, value: -0.5, timestampMs: 1000 },
  ])
  assert.equal(out, 'up{job="a\\"b"} +Inf\nx -0.5 1000\n')
  assert.throws(
    () => encode([{ name: 'x', labels: {}, value: 1, timestampMs: 1.5 }]),
    (e) => e.code === 'IPOCKET_INVALID' && /samples\[0\]/.test(e.message),
  )
})

test('OpenMetrics: exemplars, EOF and the format option', () => {
  const om = '# TYPE foo counter\nfoo_total 17.0 1520879607.789 # {trace_id="KOO5S4vxi0o"} 0.67\n# EOF\n'
  const [s] = parse(om, { format: 'openmetrics' })
  assert.equal(s.name, 'foo_total')
  assert.equal(s.timestampMs, 1520879607789)
  assert.deepEqual(s.exemplar, { labels: { trace_id: 'KOO5S4vxi0o' }, value: 0.67 })
  assert.throws(() => parse('foo_total 1\n', { format: 'openmetrics' }), { code: 'IPOCKET_INVALID' })
})

test('a parse error is an Error with kind, code, line, column, rule and snippet', () => {
  const bad = 'ok 1\nfine{a="x"} 2\nbroken{a="1" 3\n'
  let err
  try {
    parse(bad)
  } catch (e) {
    err = e
  }
  assert.ok(err instanceof Error)
  assert.equal(err.code, 'IPOCKET_INVALID')
  assert.equal(err.line, 3)
  assert.equal(err.column, 14)
  assert.equal(err.snippet, 'broken{a="1" 3')
  assert.match(err.message, /^line 3, column 14: /)
  assert.equal(err.kind, 'invalid')
  assert.equal(err.name, 'ParseError')
  assert.equal(typeof err.rule, 'string')
})

test('check reports every bad line and [] for a valid input', () => {
  assert.deepEqual(check(TEXT), [])
  const problems = check('a 1\nb{ 2\nc x\nd 4\n')
  assert.deepEqual(
    problems.map((p) => [p.line, p.column]),
    [
      [2, 4],
      [3, 3],
    ],
  )
})

test('the sample iterator streams, is iterable and throws located errors', () => {
  const names = [...samples(TEXT)].map((s) => s.name)
  assert.deepEqual(names, parse(TEXT).map((s) => s.name))
  const it = new SampleIterator('a 1\nb 2\nc{ 3\n')
  assert.deepEqual(it.next(), { done: false, value: { name: 'a', labels: {}, value: 1 } })
  assert.equal(it.next().value.name, 'b')
  assert.throws(() => it.next(), { code: 'IPOCKET_INVALID', line: 3 })
  assert.deepEqual(it.next(), { done: true, value: undefined })
})

test('parseColumns: typed arrays over one table of distinct strings', () => {
  const c = parseColumns(TEXT)
  assert.equal(c.count, 7)
  assert.ok(c.values instanceof Float64Array && c.names instanceof Uint32Array)
  assert.equal(c.strings[c.names[0]], 'http_requests_total')
  assert.equal(c.timestamps[0], 1395066363000)
  assert.ok(Number.isNaN(c.timestamps[1]))
  assert.equal(c.labelOffsets.length, 8)
  const pairs = Array.from(c.labelPairs.subarray(2 * c.labelOffsets[2], 2 * c.labelOffsets[3]), (i) => c.strings[i])
  assert.deepEqual(pairs, ['le', '0.1', 'path', '/a'])
  assert.equal(new Set(c.strings).size, c.strings.length, 'each string once')
  assert.deepEqual(samplesFromColumns(c), parse(TEXT))
  assert.throws(() => parseColumns('a 1\nb{ 2\n'), { code: 'IPOCKET_INVALID', line: 2 })
})

test('a label called __proto__ stays a label', () => {
  const [s] = parse('m{__proto__="x",a="1"} 1\n')
  assert.deepEqual(Object.entries(s.labels), [
    ['__proto__', 'x'],
    ['a', '1'],
  ])
  assert.equal(Object.getPrototypeOf(s.labels), Object.prototype)
})

test('__proto__ labels survive every path (families, iterator, OpenMetrics)', () => {
  const text = 'm{__proto__="x",a="1"} 1\n'
  for (const s of [parseFamilies(text)[0].samples[0], [...samples(text)][0], parse(text + '# EOF\n', { format: 'openmetrics' })[0]]) {
    assert.deepEqual(Object.entries(s.labels), [
      ['__proto__', 'x'],
      ['a', '1'],
    ])
  }
})

test('parseFamilies gives the same families from the text format and OpenMetrics', () => {
  const om = '# TYPE g gauge\n# HELP g A gauge.\ng{a="1"} 1\ng{a="2"} 2\n# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{le="+Inf"} 2\nh_sum 3\nh_count 2\n'
  const text = parseFamilies(om)
  assert.deepEqual(text, parseFamilies(om + '# EOF\n', { format: 'openmetrics' }))
  assert.deepEqual(
    text.map((f) => [f.name, f.type, f.help, f.samples.length]),
    [
      ['g', 'gauge', 'A gauge.', 2],
      ['h', 'histogram', undefined, 4],
    ],
  )
})

test('the iterator hands out every sample before a bad line, across chunks', () => {
  const lines = Array.from({ length: 5000 }, (_, i) => `m{i="${i}"} ${i}`)
  const it = samples(lines.join('\n') + '\nbad{ 1\nm 1\n')
  let n = 0
  let err
  try {
    for (const s of it) {
      assert.equal(s.labels.i, String(n))
      n++
    }
  } catch (e) {
    err = e
  }
  assert.equal(n, 5000)
  assert.equal(err.code, 'IPOCKET_INVALID')
  assert.equal(err.line, 5001)
  assert.deepEqual(it.next(), { done: true, value: undefined })
})

test('non-ASCII text is the same from a string and a Buffer; a lone surrogate becomes U+FFFD', () => {
  const text = 'm{path="/home/zoë/東京",note="naïve ✓ 😀"} 1\nm{path="ascii",note="😀"} 2\n'
  const fromString = parse(text)
  assert.deepEqual(fromString, parse(Buffer.from(text)))
  assert.deepEqual(fromString[0].labels, { path: '/home/zoë/東京', note: 'naïve ✓ 😀' })
  assert.equal(fromString[1].labels.note, '😀')
  assert.deepEqual(parseColumns(text).strings, ['m', 'path', '/home/zoë/東京', 'note', 'naïve ✓ 😀', 'ascii', '😀'])
  assert.equal(parse('m{a="\ud800"} 1\n')[0].labels.a, '\ufffd')
})

test('OpenMetrics exemplars travel in the columns too', () => {
  const om = `# TYPE foo counter
foo_total{a="1"} 1 # {trace_id="t1"} 0.5 1520879607.789
foo_total{a="2"} 2
foo_total{a="3"} 3 # {trace_id="t3",span="s"} 0.7
# EOF
`
  const c = parseColumns(om, { format: 'openmetrics' })
  assert.deepEqual(Array.from(c.exemplars.samples), [0, 2])
  assert.deepEqual(Array.from(c.exemplars.values), [0.5, 0.7])
  const all = samplesFromColumns(c)
  assert.deepEqual(all, parse(om, { format: 'openmetrics' }))
  assert.deepEqual(all[0].exemplar, { labels: { trace_id: 't1' }, value: 0.5, timestampMs: 1520879607789 })
  assert.equal(all[1].exemplar, undefined)
  assert.deepEqual(all[2].exemplar, { labels: { trace_id: 't3', span: 's' }, value: 0.7 })
  assert.equal(parseColumns(TEXT).exemplars, undefined)
})

test('parseFamilyColumns: headers in input order with their sample counts', () => {
  const { families, columns } = parseFamilyColumns(TEXT + '# HELP lonely Only metadata.\n')
  assert.deepEqual(families, [
    { name: 'http_requests_total', type: 'counter', help: 'Requests.', count: 2 },
    { name: 'latency', type: 'histogram', count: 4 },
    { name: 'esc', type: 'unknown', count: 1 },
    { name: 'lonely', type: 'unknown', help: 'Only metadata.', count: 0 },
  ])
  assert.equal(columns.count, 7)
  const om = '# TYPE t seconds\n'
  assert.throws(() => parseFamilyColumns(om, { format: 'openmetrics' }), { code: 'IPOCKET_INVALID' })
  const unit = '# TYPE t_seconds gauge\n# UNIT t_seconds seconds\n# HELP t_seconds \nt_seconds 1\n# EOF\n'
  const [f] = parseFamilyColumns(unit, { format: 'openmetrics' }).families
  assert.deepEqual(f, { name: 't_seconds', type: 'gauge', unit: 'seconds', count: 1 })
})

test('empty input: no samples, no families, one label offset', () => {
  assert.deepEqual(parse(''), [])
  assert.deepEqual(parseFamilies(''), [])
  assert.deepEqual([...samples('')], [])
  const c = parseColumns('')
  assert.equal(c.count, 0)
  assert.deepEqual(Array.from(c.labelOffsets), [0])
  assert.deepEqual(c.strings, [])
})
