// liveness() and reconcile() against the real Prometheus scraping the real node_exporter
// (up) and closed loopback ports (down), with inventory-style addresses from the
// instance-relabel trick (peers.mjs startLiveStack); and against a Prometheus that cannot answer.
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'

import { Inventory, ImportPlan, Reconciliation, liveness, reconcile } from '../ipocket.mjs'
import {
  DOWN_IP,
  LIVE_INVENTORY,
  STRAY_IP,
  UNSCRAPED_IP,
  UP_IP,
  closedPort,
  startLiveStack,
} from './peers.mjs'

let stack
const work = mkdtempSync(join(tmpdir(), 'ipocket-node-liveness-'))
before(async () => {
  stack = await startLiveStack()
})
after(async () => {
  await stack?.stop()
  rmSync(work, { recursive: true, force: true })
})

function documented(inv) {
  inv.apply(inv.planImport('bundle.json', LIVE_INVENTORY))
  return inv
}

// "Last seen up" at a 1 s resolution: with the default 5 min step, a Prometheus started
// seconds ago has no step point yet.
const FAST = { window: '1h', step: '1s' }
const byIp = (report) => Object.fromEntries(report.addresses.map((a) => [a.ip, a]))

test('every state comes from the real stack', async () => {
  const path = join(work, 'states.db')
  documented(Inventory.open(path))
  const pending = liveness(path, { url: stack.url, ...FAST })
  assert.ok(pending instanceof Promise)
  const report = await pending
  assert.equal(report.prometheus.reachable, true)
  assert.equal(report.prometheus.error, null)
  const now = Date.now() / 1000
  assert.ok(Math.abs(report.prometheus.fetched_at - now) < 60)
  assert.deepEqual(report.addresses.map((a) => a.ip), [UP_IP, DOWN_IP, UNSCRAPED_IP, STRAY_IP])
  const a = byIp(report)
  assert.equal(a[UP_IP].state, 'up')
  assert.equal(a[UP_IP].documented, true)
  assert.deepEqual(a[UP_IP].jobs, ['node', 'wrongport'])
  assert.deepEqual(a[UP_IP].instances, [`${UP_IP}:9100`, `${UP_IP}:9999`])
  assert.ok(now - a[UP_IP].last_seen_up < 600, String(a[UP_IP].last_seen_up))
  assert.deepEqual([a[DOWN_IP].state, a[DOWN_IP].last_seen_up, a[DOWN_IP].jobs], ['down', null, ['gone']])
  assert.deepEqual([a[UNSCRAPED_IP].state, a[UNSCRAPED_IP].jobs], ['not_scraped', []])
  assert.deepEqual([a[STRAY_IP].state, a[STRAY_IP].documented], ['up', false])

  // An open Inventory, and no inventory at all (only what Prometheus knows, undocumented).
  const open = byIp(await liveness(documented(Inventory.openInMemory()), { url: stack.url, ...FAST }))
  assert.equal(open[UNSCRAPED_IP].state, 'not_scraped')
  const alone = byIp(await liveness(null, { url: stack.url, matchers: 'job=~"node|gone"', ...FAST }))
  assert.deepEqual(Object.fromEntries(Object.entries(alone).map(([ip, x]) => [ip, x.state])), {
    [UP_IP]: 'up',
    [DOWN_IP]: 'down',
  })
  assert.ok(Object.values(alone).every((x) => !x.documented))
})

test('the three lists, then plan and apply through the import engine', async () => {
  const inv = documented(Inventory.open(join(work, 'lists.db')))
  const r = await reconcile(inv, { url: stack.url, ...FAST }, { downDays: 0.01 })
  assert.ok(r instanceof Reconciliation)
  assert.equal(r.prometheus.reachable, true)
  assert.deepEqual(r.unknown.map((u) => [u.ip, u.jobs, u.archived]), [[STRAY_IP, ['stray'], false]])
  assert.deepEqual(r.reclaimable.map((x) => [x.ip, x.state]), [
    [DOWN_IP, 'down'],
    [UNSCRAPED_IP, 'not_scraped'],
  ])
  assert.deepEqual(
    r.mismatch.map((m) => [m.kind, m.job, m.inventory, m.prometheus]).sort(),
    [
      ['host', 'node', null, 'node-01'],
      ['never_up', 'wrongport', null, 'never up'],
      ['project', 'node', 'core', 'web'],
    ],
  )
  assert.equal(r.downAfterSeconds, 864)
  assert.deepEqual(JSON.parse(JSON.stringify(r)).unknown, r.unknown)

  const taken = r.plan('mismatch', inv)
  assert.equal(taken.source, 'reconcile:mismatch')
  assert.deepEqual([taken.summary.ip_assets.update, taken.summary.projects.create], [1, 1])

  const plan = r.plan('reclaimable', inv)
  assert.ok(plan instanceof ImportPlan)
  assert.equal(plan.source, 'reconcile:reclaimable')
  assert.equal(plan.summary.ip_assets.update, 2)
  const items = plan.items().filter((i) => i.entity === 'ip_asset')
  assert.deepEqual(
    items.map((i) => [i.key, i.changes]),
    [DOWN_IP, UNSCRAPED_IP].map((ip) => [ip, [{ field: 'archived', before: 'false', after: 'true' }]]),
  )
  assert.equal(inv.ipAsset(DOWN_IP).archived, false, 'a plan writes nothing')
  inv.apply(plan)
  assert.equal(inv.ipAsset(UNSCRAPED_IP).archived, true)

  const applied = r.apply('unknown', inv)
  assert.equal(applied.summary.ip_assets.create, 1)
  assert.equal(inv.ipAsset(STRAY_IP).type, 'OTHER')
  assert.match(inv.ipAsset(STRAY_IP).notes, /stray/)
  const runs = inv.auditLog({ targetType: 'IMPORT_RUN' }).items
  assert.deepEqual([runs[0].id, runs[0].target_label, runs[0].action], [applied.import_run_audit_id, 'reconcile:unknown', 'APPLY'])

  // A file path works the same; `type` and `project` shape the created assets.
  const path = join(work, 'typed.db')
  const typed = documented(Inventory.open(path))
  const again = await reconcile(path, { url: stack.url, ...FAST }, { downDays: 0.01, type: 'VM' })
  again.apply('unknown', typed)
  assert.equal(typed.ipAsset(STRAY_IP).type, 'VM')
})

test('an unreachable Prometheus resolves as unknown; only plan and apply refuse', async () => {
  const inv = documented(Inventory.openInMemory())
  const url = `http://127.0.0.1:${await closedPort()}`
  const t = Date.now()
  const report = await liveness(inv, { url, timeoutMs: 2000 })
  assert.ok(Date.now() - t < 2500)
  assert.equal(report.prometheus.reachable, false)
  assert.match(report.prometheus.error, /^Prometheus unreachable: /)
  assert.deepEqual(report.addresses.map((a) => a.state), ['unknown', 'unknown', 'unknown'])

  const r = await reconcile(inv, { url, timeoutMs: 2000 })
  assert.deepEqual([r.unknown, r.reclaimable, r.mismatch], [[], [], []], 'an outage reclaims nothing')
  for (const call of [() => r.plan('reclaimable', inv), () => r.apply('unknown', inv)]) {
    assert.throws(call, (e) => {
      assert.equal(e.code, 'IPOCKET_UNAVAILABLE')
      assert.match(e.message, /nothing to plan or apply: Prometheus unreachable/)
      return true
    })
  }
})

test('a Prometheus that never answers is unknown at the timeout, and the event loop runs meanwhile', async () => {
  const sockets = []
  const silent = createServer((s) => sockets.push(s)) // accepts, never answers
  await new Promise((resolve) => silent.listen(0, '127.0.0.1', resolve))
  try {
    let ticks = 0
    const timer = setInterval(() => ticks++, 10)
    const t = Date.now()
    const report = await liveness(null, { url: `http://127.0.0.1:${silent.address().port}`, timeoutMs: 500 })
    const elapsed = Date.now() - t
    clearInterval(timer)
    assert.ok(elapsed >= 400 && elapsed < 2000, String(elapsed))
    assert.match(report.prometheus.error, /^Prometheus unreachable: no answer/)
    assert.ok(ticks > 10, `the event loop ran ${ticks} times`)
  } finally {
    sockets.forEach((s) => s.destroy())
    await new Promise((resolve) => silent.close(resolve))
  }
})

test('bad arguments throw located errors', async () => {
  const url = stack.url
  const invalid = (field) => (e) => {
    assert.equal(e.code, 'IPOCKET_INVALID')
    if (field) assert.equal(e.field, field)
    return true
  }
  assert.throws(() => liveness(null, { url, window: '5 minutes' }), invalid('window'))
  assert.throws(() => liveness(null, { url, window: '1m', step: '5m' }), invalid('window'))
  assert.throws(() => liveness(null, { url, ipLabel: ' ' }), invalid('ipLabel'))
  assert.throws(() => liveness(null, { url, timeoutMs: 0 }), invalid('timeoutMs'))
  await assert.rejects(liveness(null, { url: 'not a url' }), invalid())
  const missing = join(work, 'missing.db')
  assert.throws(() => liveness(missing, { url }), { code: 'IPOCKET_NOT_FOUND' })
  assert.ok(!existsSync(missing), 'a mistyped path is not created')
  assert.throws(() => reconcile(Inventory.openInMemory(), { url }, { downDays: -1 }), invalid('downDays'))
  assert.throws(() => reconcile(Inventory.openInMemory(), { url }, { type: 'ROUTER' }), invalid())
  const inv = Inventory.openInMemory()
  const r = await reconcile(inv, { url })
  assert.throws(() => r.plan('everything', inv), invalid('list'))
})
