// The same failures as the Python suite (infra/errors/tests/binding_failures.json): each one
// throws (or rejects with) the kind and class name that file names, so both modules
// classify alike; `code` is the kind's code.
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'

import { fetchPrometheus, Inventory, parse, PrometheusClient, RuleStore, writeSdFile } from '../ipocket.mjs'

const TABLE = new URL('../../infra/errors/tests/binding_failures.json', import.meta.url)
const EXPECTED = JSON.parse(readFileSync(TABLE, 'utf8')).failures
const work = mkdtempSync(join(tmpdir(), 'ipocket-kinds-'))
after(() => rmSync(work, { recursive: true, force: true }))

const BUNDLE = JSON.stringify({ app: 'ipocket', schema_version: '1', data: { ip_assets: [{ ip_address: '10.0.0.1', type: 'VM' }] } })
const BAD_BUNDLE = JSON.stringify({ app: 'ipocket', schema_version: '1', data: { ip_assets: [{ ip_address: 'nope', type: 'VM' }] } })

function closedPort() {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = s.address().port
      s.close(() => resolve(p))
    })
  })
}

const CAUSES = {
  parse_error: () => parse('a{b="1" 1\n'),
  asset_not_found: () => Inventory.openInMemory().ipAsset('10.9.9.9'),
  duplicate_asset: () => {
    const inv = Inventory.openInMemory()
    inv.createIpAsset({ ipAddress: '10.0.0.3', type: 'VM' })
    inv.createIpAsset({ ipAddress: '10.0.0.3', type: 'VM' })
  },
  bad_asset_type: () => Inventory.openInMemory().createIpAsset({ ipAddress: '10.0.0.4', type: 'ROUTER' }),
  bad_bundle: () => Inventory.openInMemory().planImport('bundle.json', BAD_BUNDLE),
  stale_plan: () => {
    const inv = Inventory.openInMemory()
    const stale = inv.planImport('bundle.json', BUNDLE)
    inv.apply(inv.planImport('bundle.json', BUNDLE))
    inv.apply(stale)
  },
  sd_missing_inventory: () => writeSdFile(join(work, 'missing.db'), join(work, 'targets.json')),
  duplicate_rule_group: () => {
    const store = RuleStore.openInMemory()
    store.createGroup('prod')
    store.createGroup('prod')
  },
  prometheus_unreachable: async () =>
    fetchPrometheus({ url: `http://127.0.0.1:${await closedPort()}`, query: 'up', retries: 0, timeoutMs: 2000 }),
  reload_unreachable: async () => new PrometheusClient(`http://127.0.0.1:${await closedPort()}`, { timeoutMs: 1000 }).reload(),
}

test('every failure of the table is caused here', () => {
  assert.deepEqual(Object.keys(CAUSES).sort(), Object.keys(EXPECTED).sort())
})

for (const [name, want] of Object.entries(EXPECTED)) {
  test(`${name} is ${want.kind} / ${want.class}`, async () => {
    await assert.rejects(async () => CAUSES[name](), (e) => {
      assert.ok(e instanceof Error)
      assert.equal(e.kind, want.kind, e.message)
      assert.equal(e.name, want.class, e.message)
      assert.equal(e.code, `IPOCKET_${want.kind.toUpperCase()}`)
      return true
    })
  })
}
