// The vCenter connector against a local server answering the vSphere Automation REST shapes
// (as the Rust tests do: no vCenter or simulator implements `/api/...` here).
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'

import { fetchVcenter, Inventory, VcenterCollection } from '../ipocket.mjs'

const SESSION = 'b00c3c1e0a5d4c6f9a1d2e3f4a5b6c7d'
const BASIC = 'Basic ' + Buffer.from('administrator@vsphere.local:s3cret').toString('base64')
const nic = (ip) => ({ nic: '4000', ip: { ip_addresses: [{ ip_address: ip, prefix_length: 24 }] } })
const ROUTES = {
  'GET /api/vcenter/host': [
    { host: 'host-10', name: '10.50.0.11' },
    { host: 'host-11', name: 'nonexistent.invalid' },
  ],
  'GET /api/vcenter/vm?hosts=host-10': [{ vm: 'vm-42', name: 'web-01' }],
  'GET /api/vcenter/vm?hosts=host-11': [{ vm: 'vm-44', name: 'off-01' }],
  'GET /api/vcenter/vm': [
    { vm: 'vm-42', name: 'web-01' },
    { vm: 'vm-44', name: 'off-01' },
  ],
  'GET /api/vcenter/vm/vm-42/guest/networking/interfaces': [nic('fe80::1'), nic('10.50.1.21')],
}

const calls = []
let server
let base
const work = mkdtempSync(join(tmpdir(), 'ipocket-node-vc-'))
before(async () => {
  server = createServer((req, res) => {
    const key = `${req.method} ${req.url}`
    calls.push(key)
    const send = (status, body) => {
      res.writeHead(status, { 'content-type': 'application/json' })
      res.end(body === undefined ? '' : JSON.stringify(body))
    }
    if (key === 'POST /api/session') {
      return req.headers.authorization === BASIC ? send(201, SESSION) : send(401, { error_type: 'UNAUTHENTICATED' })
    }
    if (req.headers['vmware-api-session-id'] !== SESSION) return send(401, { error_type: 'UNAUTHENTICATED' })
    if (key === 'DELETE /api/session') return send(204)
    if (key === 'GET /api/vcenter/vm/vm-44/guest/networking/interfaces') return send(503, { error_type: 'SERVICE_UNAVAILABLE' })
    return key in ROUTES ? send(200, ROUTES[key]) : send(404, { error_type: 'NOT_FOUND' })
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${server.address().port}`
})
after(() => {
  server?.close()
  rmSync(work, { recursive: true, force: true })
})

test('fetchVcenter collects hosts and VMs; plan and apply import them', async () => {
  const c = await fetchVcenter({ server: base, username: 'administrator@vsphere.local', password: 's3cret' })
  assert.ok(c instanceof VcenterCollection)
  assert.deepEqual(c.hosts.map((h) => h.name), ['10.50.0.11', 'nonexistent.invalid'])
  assert.deepEqual(c.vms.find((v) => v.id === 'vm-42'), { id: 'vm-42', name: 'web-01', host_name: '10.50.0.11', ips: ['fe80::1', '10.50.1.21'] })
  assert.ok(c.warnings.some((w) => /off-01/.test(w)), c.warnings.join('\n'))
  assert.equal(calls.at(-1), 'DELETE /api/session', 'logged out')

  const inv = Inventory.openInMemory()
  const plan = c.plan(inv)
  assert.equal(plan.summary.hosts.create, 2)
  inv.apply(plan)
  assert.equal(inv.ipAsset('10.50.1.21').type, 'VM')
  assert.equal(inv.ipAsset('10.50.0.11').type, 'OS')

  const file = join(work, 'vc-bundle.json')
  c.writeBundle(file)
  assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), c.bundle())
})

test('a refused login rejects with IPOCKET_UNAVAILABLE and status 401', async () => {
  await assert.rejects(fetchVcenter({ server: base, username: 'administrator@vsphere.local', password: 'wrong' }), (e) => {
    assert.ok(e instanceof Error)
    assert.equal(e.code, 'IPOCKET_UNAVAILABLE')
    assert.equal(e.status, 401)
    return true
  })
})
