import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'

import { ImportPlan, Inventory, parse, writeSdFile } from '../ipocket.mjs'

const work = mkdtempSync(join(tmpdir(), 'ipocket-node-inv-'))
after(() => rmSync(work, { recursive: true, force: true }))

const BUNDLE = JSON.stringify({
  schema_version: '1',
  data: {
    projects: [{ name: 'core', color: '#112233' }],
    ip_assets: [
      { ip_address: '10.0.0.1', type: 'VM', project_name: 'core', tags: ['prod'] },
      { ip_address: '10.0.0.2', type: 'OS', tags: ['prod', 'db'] },
    ],
  },
})

test('CRUD and queries on a file inventory', () => {
  const path = join(work, 'crud.db')
  const inv = Inventory.open(path)
  assert.ok(inv.schemaVersion() >= 1)
  const p = inv.createProject('web', 'front ends', null)
  assert.equal(p.name, 'web')
  const h = inv.createHost('node-1', null, null)
  const a = inv.createIpAsset({ ipAddress: '10.1.0.5', type: 'VM', projectId: p.id, hostId: h.id, tags: ['prod'] })
  assert.equal(a.ip_address, '10.1.0.5')
  assert.equal(a.project_name, 'web')
  assert.deepEqual(a.tags, ['prod'])
  const u = inv.updateIpAsset('10.1.0.5', { notes: 'primary', projectId: null })
  assert.equal(u.notes, 'primary')
  assert.equal(u.project_id, null)
  inv.createIpAsset({ ipAddress: '2001:DB8::1', type: 'OTHER' })
  assert.equal(inv.ipAsset('2001:db8::1').ip_address, '2001:db8::1')
  assert.equal(inv.listIpAssets().total, 2)
  assert.deepEqual(
    inv.listIpAssets({ tagsAny: ['prod'] }).items.map((x) => x.ip_address),
    ['10.1.0.5'],
  )
  inv.archiveIpAsset('10.1.0.5')
  assert.equal(inv.listIpAssets().total, 1)
  assert.equal(inv.listIpAssets({ archived: 'all' }).total, 2)
  inv.deleteIpAsset('2001:db8::1')
  assert.throws(() => inv.ipAsset('2001:db8::1'), { code: 'IPOCKET_NOT_FOUND' })
  // A second handle on the same file sees the writes.
  assert.equal(Inventory.open(path).listIpAssets({ archived: 'all' }).total, 1)
})

test('invalid input throws coded errors naming the field', () => {
  const inv = Inventory.openInMemory()
  assert.throws(() => inv.createIpAsset({ ipAddress: '10.0.0.300', type: 'VM' }), (e) => {
    assert.ok(e instanceof Error)
    assert.equal(e.code, 'IPOCKET_INVALID')
    assert.equal(typeof e.field, 'string')
    return true
  })
  assert.throws(() => inv.createIpAsset({ ipAddress: '10.0.0.3', type: 'ROUTER' }), { code: 'IPOCKET_INVALID', field: 'type' })
  inv.createIpAsset({ ipAddress: '10.0.0.3', type: 'VM' })
  assert.throws(() => inv.createIpAsset({ ipAddress: '10.0.0.3', type: 'VM' }), { code: 'IPOCKET_CONFLICT' })
  assert.throws(() => inv.listIpAssets({ archived: 'maybe' }), { code: 'IPOCKET_INVALID' })
  assert.throws(() => inv.export('nope.txt'), { code: 'IPOCKET_INVALID' })
})

test('import: plan is a dry run, apply writes it all, a stale plan is refused', () => {
  const inv = Inventory.openInMemory()
  const plan = inv.planImport('bundle.json', BUNDLE)
  assert.ok(plan instanceof ImportPlan)
  assert.equal(plan.summary.ip_assets.create, 2)
  assert.equal(plan.summary.projects.create, 1)
  assert.deepEqual(
    plan.items().filter((i) => i.entity === 'ip_asset').map((i) => [i.key, i.action]),
    [
      ['10.0.0.1', 'create'],
      ['10.0.0.2', 'create'],
    ],
  )
  assert.equal(inv.listIpAssets().total, 0)
  const stale = inv.planImport('bundle.json', Buffer.from(BUNDLE))
  const report = inv.apply(plan)
  assert.equal(report.summary.ip_assets.create, 2)
  assert.equal(typeof report.import_run_audit_id, 'number')
  assert.equal(inv.ipAsset('10.0.0.1').project_name, 'core')
  assert.throws(() => inv.apply(stale), { code: 'IPOCKET_CONFLICT', name: 'StalePlanError' })
  const again = inv.planImport('bundle.json', BUNDLE)
  assert.equal(again.summary.ip_assets.skip, 2)
})

test('import errors list every located issue', () => {
  const inv = Inventory.openInMemory()
  const bad = JSON.stringify({
    schema_version: '1',
    data: { ip_assets: [{ ip_address: '10.0.0.1', type: 'VM' }, { ip_address: 'nope', type: 'VM' }, { ip_address: '10.0.0.9', type: 'XX' }] },
  })
  assert.throws(() => inv.planImport('bundle.json', bad), (e) => {
    assert.equal(e.code, 'IPOCKET_INVALID')
    assert.equal(e.name, 'ImportValidationError')
    assert.equal(e.issues.length, 2)
    assert.equal(e.location, 'data.ip_assets[1].ip_address')
    assert.equal(e.issues[1].location, 'data.ip_assets[2].type')
    return true
  })
  assert.throws(() => inv.planImport('notes.txt', 'x'), { code: 'IPOCKET_INVALID', name: 'ImportValidationError', location: 'notes.txt' })
})

test('CSV import, exports, ranges, metrics and SD targets', () => {
  const inv = Inventory.openInMemory()
  inv.apply(inv.planImport('bundle.json', BUNDLE))
  const csv = inv.export('ip-assets.csv')
  assert.ok(Buffer.isBuffer(csv))
  assert.match(csv.toString(), /10\.0\.0\.1/)
  const other = Inventory.openInMemory()
  const plan = other.planImport('ip-assets.csv', csv, { createMissingProjects: true })
  assert.equal(plan.summary.ip_assets.create, 2)
  other.apply(plan)
  assert.deepEqual(other.ipAsset('10.0.0.2').tags, ['db', 'prod'])
  const bundle = JSON.parse(inv.export('bundle.json', { exportedAt: '2026-01-01T00:00:00Z' }).toString())
  assert.equal(bundle.data.ip_assets.length, 2)

  const r = inv.createIpRange('lab', '10.0.0.0/29', null)
  const u = inv.rangeUtilization(r.id)
  assert.deepEqual([u.total, u.usable, u.used], [8, 6, 2])
  assert.equal(inv.nextFreeAddress(r.id), '10.0.0.3')
  assert.equal(inv.allocateNext(r.id, { ipAddress: '', type: 'VM' }).ip_address, '10.0.0.3')

  const fams = inv.metrics()
  assert.ok(fams.some((f) => f.name.startsWith('ipam_')))
  const text = inv.renderMetrics()
  assert.ok(parse(text).length > 0, 'the /metrics text parses with our own parser')

  const groups = inv.sdTargetGroups({ port: 9100, groupBy: 'project' })
  const all = groups.flatMap((g) => g.targets).sort()
  assert.deepEqual(all, ['10.0.0.1:9100', '10.0.0.2:9100', '10.0.0.3:9100'])
  assert.throws(() => inv.sdTargetGroups({ groupBy: 'rack' }), { code: 'IPOCKET_INVALID' })
})

test('writeSdFile writes file_sd JSON from an inventory file, only when it changed', () => {
  const db = join(work, 'sd.db')
  const inv = Inventory.open(db)
  inv.apply(inv.planImport('bundle.json', BUNDLE))
  const out = join(work, 'targets.json')
  const first = writeSdFile(db, out, { port: 9100 })
  assert.deepEqual(first, { groups: 1, targets: 2, written: true })
  const groups = JSON.parse(readFileSync(out, 'utf8'))
  assert.deepEqual(groups[0].targets.sort(), ['10.0.0.1:9100', '10.0.0.2:9100'])
  assert.equal(writeSdFile(db, out, { port: 9100 }).written, false)
  assert.throws(() => writeSdFile(join(work, 'missing.db'), out), { code: 'IPOCKET_NOT_FOUND' })
})

test('arguments of the wrong shape are refused by the glue with code InvalidArg', () => {
  assert.throws(() => Inventory.openInMemory().createIpAsset({ type: 'VM' }), { code: 'InvalidArg', message: /ipAddress/ })
  assert.throws(() => parse('a 1\n', { format: 'json' }), { code: 'InvalidArg', message: /ExpositionFormat/ })
  assert.throws(() => parse(42), { code: 'InvalidArg' })
})

test('users and the audit log', () => {
  const inv = Inventory.open(join(work, 'users.db'))
  const root = inv.createUser('root', 'secret-pw-1', 'Admin')
  const ed = inv.createUser('ed', 'secret-pw-2', 'Editor')
  assert.deepEqual(ed, { id: ed.id, username: 'ed', role: 'Editor', is_active: true })
  assert.equal(inv.createUser('vi', 'secret-pw-3').role, 'Viewer')
  assert.deepEqual(inv.users().map((u) => u.username), ['ed', 'root', 'vi'])
  assert.throws(() => inv.createUser('ed', 'other-pw-4'), { code: 'IPOCKET_CONFLICT' })
  assert.throws(() => inv.createUser('x', 'secret-pw-5', 'Superuser'), { code: 'IPOCKET_INVALID', field: 'role' })
  assert.deepEqual(inv.updateUser(ed.id, { role: 'Viewer', isActive: false }), { ...ed, role: 'Viewer', is_active: false })
  assert.throws(() => inv.updateUser(root.id, { role: 'Viewer' }), /Admin/)
  inv.deleteUser(ed.id)
  assert.throws(() => inv.deleteUser(ed.id), { code: 'IPOCKET_NOT_FOUND' })

  inv.createIpAsset({ ipAddress: '10.9.0.1', type: 'VM' })
  inv.updateIpAsset('10.9.0.1', { notes: 'moved' })
  const log = inv.auditLog()
  assert.equal(log.total, 7)
  assert.deepEqual(log.items.slice(0, 2).map((e) => [e.target_type, e.action]), [
    ['IP_ASSET', 'UPDATE'],
    ['IP_ASSET', 'CREATE'],
  ])
  const history = inv.auditLog({ targetLabel: '10.9.0.1' })
  assert.equal(history.total, 2)
  assert.deepEqual(history.items[0].changes, [{ field: 'notes', before: null, after: 'moved' }])
  const users = inv.auditLog({ targetType: 'USER', limit: 2 })
  assert.equal(users.total, 5)
  assert.equal(users.items.length, 2)
  assert.ok(log.items.every((e) => e.user_id === null && e.username === null), 'written as the system actor')
})
