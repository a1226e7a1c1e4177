// The ES module and CommonJS entry points expose the same objects, and the committed
// index.d.ts declares every runtime export.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { test } from 'node:test'

import * as esm from '../ipocket.mjs'

const require = createRequire(import.meta.url)

test('require("ipocket") and import from "ipocket" give the same exports', () => {
  const cjs = require('../ipocket.cjs')
  const runtime = Object.keys(cjs).filter((k) => !k.startsWith('__')).sort()
  const named = Object.keys(esm).filter((k) => k !== 'default').sort()
  assert.deepEqual(named, runtime)
  for (const k of named) assert.equal(esm[k], cjs[k], k)
  assert.equal(esm.default, cjs)
})

test('the package exports map points at both entry points', () => {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url)))
  assert.deepEqual(pkg.exports['.'], { types: './index.d.ts', import: './ipocket.mjs', require: './ipocket.cjs' })
})

test('index.d.ts declares every export', () => {
  const dts = readFileSync(new URL('../index.d.ts', import.meta.url), 'utf8')
  for (const k of Object.keys(esm).filter((k) => k !== 'default')) {
    assert.match(dts, new RegExp(`export (declare (class|function)|type) ${k}\\b`), k)
  }
})
