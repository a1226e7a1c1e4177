// Compiled (not run) by types.test.mjs with `tsc --strict`: the committed index.d.ts must
// type real uses of the module, and reject wrong ones.
import {
  type IpocketError,
  type Sample,
  type SampleIterator,
  Inventory,
  fetchPrometheus,
  liveness,
  parse,
  reconcile,
  parseColumns,
  parseFamilies,
  parseFamilyColumns,
  samples,
  samplesFromColumns,
} from '../../index'

const s: Sample[] = parse('up 1\n', { format: 'text' })
const value: number = s[0].value
const ts: number | undefined = s[0].timestampMs
for (const x of samples(Buffer.from('a 1\n'))) {
  const name: string = x.name
}
const families = parseFamilies('a 1\n', { format: 'openmetrics' })
const kind: 'counter' | 'gauge' | 'histogram' | 'gaugehistogram' | 'summary' | 'info' | 'stateset' | 'unknown' = families[0].type
const again: Sample[] = samplesFromColumns(parseColumns(new Uint8Array([97, 32, 49, 10])))

const inv = Inventory.openInMemory()
const asset = inv.createIpAsset({ ipAddress: '10.0.0.1', type: 'VM', tags: ['prod'] })
const ip: string = asset.ip_address
const page: { items: Array<{ ip_address: string }>; total: number } = inv.listIpAssets({ tagsAny: ['prod'] })
const plan = inv.planImport('bundle.json', '{}')
const creates: number = plan.summary.ip_assets.create
const csv: Buffer = inv.export('ip-assets.csv')
const editor: 'Viewer' | 'Editor' | 'Admin' = inv.createUser('ed', 'secret-pw-1', 'Editor').role
const changed: string = inv.auditLog({ targetLabel: '10.0.0.1' }).items[0].changes[0].field
const columns = parseFamilyColumns('a 1\n')
const counted: number = columns.families[0].count + columns.columns.labelOffsets.length
const it: SampleIterator = samples('a 1\n')
for (const s of it) s.labels

async function connector(): Promise<string[]> {
  const x = await fetchPrometheus({ url: 'http://127.0.0.1:9090', query: 'up' })
  return x.ips.map((i) => i.ip)
}

async function live(): Promise<number> {
  const report = await liveness(null, { url: 'http://127.0.0.1:9090', window: '1h', step: '1s' })
  const up: string[] = report.addresses.filter((a) => a.state === 'up').map((a) => a.ip)
  const r = await reconcile('ipocket.db', { url: 'http://127.0.0.1:9090' }, { downDays: 7 })
  const applied: number = r.apply('reclaimable', inv).import_run_audit_id
  r.plan('mismatch', inv)
  // @ts-expect-error: only the three lists apply
  r.plan('everything', inv)
  return up.length + r.unknown.length + applied
}

try {
  parse('x{')
} catch (e) {
  const err = e as IpocketError
  const where: string = `${err.code} ${err.line ?? 0}:${err.column ?? 0}`
}

// @ts-expect-error: the format is a closed set
parse('a 1\n', { format: 'json' })
// @ts-expect-error: an asset needs an address
inv.createIpAsset({ type: 'VM' })
// @ts-expect-error: roles are a closed set
inv.createUser('x', 'secret-pw-2', 'Root')

export { value, ts, kind, again, ip, page, creates, csv, editor, changed, counted, connector, live }
