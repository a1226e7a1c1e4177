// The committed index.d.ts types real uses (and rejects wrong ones) under `tsc --strict`.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'

const require = createRequire(import.meta.url)

test('index.d.ts compiles a typed use of the module', () => {
  const tsc = require.resolve('typescript/bin/tsc')
  const usage = fileURLToPath(new URL('./types/usage.ts', import.meta.url))
  try {
    execFileSync(process.execPath, [tsc, '--noEmit', '--strict', '--target', 'es2022', '--module', 'nodenext', '--types', 'node', usage], {
      encoding: 'utf8',
    })
  } catch (e) {
    assert.fail(`tsc failed:\n${e.stdout}${e.stderr}`)
  }
})
