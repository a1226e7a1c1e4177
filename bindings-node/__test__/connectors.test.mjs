// The Prometheus connector and the rule generator against a real Prometheus on 127.0.0.1.
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'

import { fetchPrometheus, Inventory, PrometheusClient, PrometheusExtraction, RuleStore } from '../ipocket.mjs'
import { startPrometheus } from './peers.mjs'

// Constant samples with fake addresses in label values (nothing is scraped or dialled).
const QUERY = [
  'label_replace(label_replace(vector(1), "instance", "10.1.2.3:9100", "", ""), "job", "node", "", "")',
  'label_replace(label_replace(vector(2), "instance", "[2001:db8::1]:9100", "", ""), "job", "node", "", "")',
  'label_replace(label_replace(vector(3), "instance", "10.1.2.4:9100", "", ""), "job", "node", "", "")',
  'label_replace(label_replace(vector(4), "instance", "127.0.0.1:9100", "", ""), "job", "node", "", "")',
].join(' or ')

let prom
const work = mkdtempSync(join(tmpdir(), 'ipocket-node-conn-'))
before(async () => {
  prom = await startPrometheus()
})
after(async () => {
  await prom?.stop()
  rmSync(work, { recursive: true, force: true })
})

async function closedPort() {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = s.address().port
      s.close(() => resolve(p))
    })
  })
}

test('fetchPrometheus resolves to the extracted addresses; plan and apply import them', async () => {
  const pending = fetchPrometheus({ url: prom.url, query: QUERY, ipLabel: 'instance', tags: ['from-prom'] })
  assert.ok(pending instanceof Promise)
  const x = await pending
  assert.ok(x instanceof PrometheusExtraction)
  assert.equal(x.samples, 4)
  assert.deepEqual(x.ips.map((i) => i.ip).sort(), ['10.1.2.3', '10.1.2.4'])
  assert.equal(x.warnings.length, 2, x.warnings.join('\n'))
  assert.ok(x.warnings.some((w) => /loopback/.test(w)))
  assert.ok(x.warnings.some((w) => /IPv6/.test(w)))
  assert.equal(x.bundle().data.ip_assets.length, 2)

  const inv = Inventory.open(join(work, 'prom.db'))
  const plan = x.plan(inv)
  assert.equal(plan.summary.ip_assets.create, 2)
  assert.match(x.dryRunReport(plan).at(-1), /create=2/)
  inv.apply(plan)
  assert.deepEqual(inv.ipAsset('10.1.2.3').tags, ['from-prom'])
  assert.equal(inv.ipAsset('10.1.2.4').type, 'OTHER')

  const file = join(work, 'bundle.json')
  x.writeBundle(file)
  const replay = Inventory.openInMemory().planImport('bundle.json', readFileSync(file))
  assert.equal(replay.summary.ip_assets.create, 2)
})

test('a bad query rejects with IPOCKET_UNAVAILABLE and the HTTP status', async () => {
  await assert.rejects(fetchPrometheus({ url: prom.url, query: 'up{instance="x"' }), (e) => {
    assert.ok(e instanceof Error)
    assert.equal(e.code, 'IPOCKET_UNAVAILABLE')
    assert.equal(e.kind, 'unavailable')
    assert.equal(e.name, 'UnavailableError')
    assert.equal(e.status, 400)
    assert.match(e.message, /bad_data/)
    return true
  })
  assert.throws(() => fetchPrometheus({ url: prom.url, query: 'up', type: 'ROUTER' }), { code: 'IPOCKET_INVALID' })
})

test('an unknown project fails at plan time as the import error it is', async () => {
  const x = await fetchPrometheus({ url: prom.url, query: QUERY, project: 'nope' })
  assert.throws(() => x.plan(Inventory.openInMemory()), (e) => {
    assert.equal(e.code, 'IPOCKET_INVALID')
    assert.equal(e.name, 'ImportValidationError')
    assert.ok(e.issues.length > 0)
    return true
  })
})

test('a closed port rejects with IPOCKET_UNAVAILABLE and no status', async () => {
  const port = await closedPort()
  await assert.rejects(fetchPrometheus({ url: `http://127.0.0.1:${port}`, query: 'up', retries: 0, timeoutMs: 2000 }), (e) => {
    assert.equal(e.code, 'IPOCKET_UNAVAILABLE')
    assert.equal(e.status, undefined)
    return true
  })
})

test('rulegen writes rule files that Prometheus loads after a confirmed reload', async () => {
  const store = RuleStore.open(join(work, 'rules.db'))
  const g = store.createGroup('prod', 'production hosts')
  store.createTarget('db-01', '10.0.0.5', [g.id])
  const t = store.createTemplate({
    name: 'HighCpu',
    query_template: 'avg by (instance) (rate(node_cpu_seconds_total{mode!="idle"}[5m])) * 100 > {{.threshold}}',
    default_vars: { threshold: '80' },
    for_duration: '5m',
  })
  store.createRule({ group_id: g.id, template_id: t.id, vars: { threshold: '90' } })
  const plan = store.plan()
  assert.match(plan.files[0].content, /> 90/)
  const dry = store.generate(prom.rules, { dryRun: true })
  assert.equal(dry.changes[0].action, 'create')
  assert.equal(existsSync(join(prom.rules, dry.changes[0].file_name)), false)
  const report = store.generate(prom.rules)
  assert.equal(report.changes[0].action, 'create')
  assert.ok(existsSync(join(prom.rules, report.changes[0].file_name)))
  assert.equal(store.effectiveRules('db-01').rules.length, 1)

  const client = new PrometheusClient(prom.url)
  const groups = report.changes[0].prometheus_groups
  const reload = await client.reloadAndConfirm(groups)
  assert.deepEqual(reload.confirmed_groups, groups)
  const loaded = await client.ruleGroups()
  assert.deepEqual(loaded.map((l) => l.name), groups)
  const status = await client.status()
  assert.equal(status.ready, true)

  assert.throws(() => store.createRule({ group_id: g.id }), { code: 'IPOCKET_INVALID' })
  assert.throws(() => store.createGroup('prod'), { code: 'IPOCKET_CONFLICT' })
})

test('a reload against a closed port rejects with a coded error', async () => {
  const client = new PrometheusClient(`http://127.0.0.1:${await closedPort()}`, { timeoutMs: 1000 })
  await assert.rejects(client.reload(), (e) => e instanceof Error && e.code === 'IPOCKET_UNAVAILABLE')
})
