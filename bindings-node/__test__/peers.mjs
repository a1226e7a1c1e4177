// Real peers (Debian's Prometheus and node_exporter) on 127.0.0.1 for the connector, rulegen
// and liveness tests. They fail loudly when a binary is missing: these tests never skip.
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

const PROMETHEUS = '/usr/bin/prometheus'
const NODE_EXPORTER = '/usr/bin/prometheus-node-exporter'

function require(binary, pkg) {
  if (!existsSync(binary)) {
    throw new Error(`${binary} is missing: apt-get install ${pkg} (./scripts/test installs it)`)
  }
}

/** Starts `binary` listening on 127.0.0.1:0; resolves once it logged the port. */
async function spawnListening(binary, args, logPath) {
  const log = openSync(logPath, 'w')
  const child = spawn(binary, args, { stdio: ['ignore', 'ignore', log] })
  let exited = null
  child.on('exit', (code) => {
    exited = code
  })
  const deadline = Date.now() + 30_000
  while (true) {
    const text = readFileSync(logPath, 'utf8')
    const m = text.match(/msg="Listening on" address=(127\.0\.0\.1:\d+)/)
    if (m) break
    if (exited !== null) throw new Error(`${binary} exited early (${exited}):\n${text}`)
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`${binary} did not listen within 30 s:\n${text}`)
    }
    await sleep(20)
  }
  const address = readFileSync(logPath, 'utf8').match(/msg="Listening on" address=(127\.0\.0\.1:\d+)/)[1]
  const gone = () => new Promise((resolve) => (exited !== null ? resolve() : child.once('exit', resolve)))
  return { address, child, gone }
}

/** Prometheus with the rule folder `rules` and the scrape configs given (YAML lines). */
export async function startPrometheus({ scrapeConfigs = '', scrapeInterval = '15s' } = {}) {
  require(PROMETHEUS, 'prometheus')
  const work = mkdtempSync(join(tmpdir(), 'ipocket-node-prom-'))
  const rules = join(work, 'rules')
  mkdirSync(rules)
  const config = join(work, 'prometheus.yml')
  writeFileSync(
    config,
    `global:\n  scrape_interval: ${scrapeInterval}\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n` +
      `rule_files:\n  - ${rules}/*.yml\n` +
      (scrapeConfigs ? `scrape_configs:\n${scrapeConfigs}` : ''),
  )
  const logPath = join(work, 'prometheus.log')
  const { address, child, gone } = await spawnListening(
    PROMETHEUS,
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(work, 'data')}`,
      '--storage.tsdb.use-lockfile',
      '--web.listen-address=127.0.0.1:0',
      '--web.enable-lifecycle',
      '--log.level=info',
    ],
    logPath,
  )
  const url = `http://${address}`
  const deadline = Date.now() + 30_000
  while (true) {
    try {
      const r = await fetch(`${url}/-/ready`)
      if (r.status === 200) break
    } catch {}
    if (Date.now() > deadline) throw new Error('prometheus was not ready within 30 s')
    await sleep(20)
  }
  return {
    url,
    rules,
    log: () => readFileSync(logPath, 'utf8'),
    async stop() {
      try {
        await fetch(`${url}/-/quit`, { method: 'POST' })
      } catch {}
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
      await gone()
      clearTimeout(timer)
      rmSync(work, { recursive: true, force: true })
    },
  }
}

/** A free loopback port nothing listens on. */
export async function closedPort() {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = s.address().port
      s.close(() => resolve(p))
    })
  })
}

// The liveness stack (as infra/testkit/src/liveness.rs): the instance-relabel trick gives
// loopback targets inventory-style addresses.
export const UP_IP = '10.9.8.7'
export const DOWN_IP = '10.9.8.8'
export const UNSCRAPED_IP = '10.9.8.9'
export const STRAY_IP = '10.9.8.20'
export const LIVE_INVENTORY = JSON.stringify({
  app: 'ipocket',
  schema_version: '1',
  data: {
    projects: [{ name: 'core' }],
    ip_assets: [
      { ip_address: UP_IP, type: 'OS', project_name: 'core' },
      { ip_address: DOWN_IP, type: 'VM' },
      { ip_address: UNSCRAPED_IP, type: 'VM' },
    ],
  },
})

const job = (name, target, instance, labels) =>
  `  - job_name: ${name}\n    static_configs:\n      - targets: ['${target}']\n        labels: {${labels}}\n` +
  `    relabel_configs:\n      - target_label: instance\n        replacement: '${instance}'\n`

/**
 * The real node_exporter and a Prometheus scraping it every second as job `node`
 * (10.9.8.7:9100, labels project=web host=node-01, up) and `stray` (10.9.8.20:9100, up), and
 * two closed ports as `wrongport` (10.9.8.7:9999) and `gone` (10.9.8.8:9100), both down;
 * resolves once every job was scraped and "last seen up" is known.
 */
export async function startLiveStack() {
  require(NODE_EXPORTER, 'prometheus-node-exporter')
  const work = mkdtempSync(join(tmpdir(), 'ipocket-node-live-'))
  const node = await spawnListening(
    NODE_EXPORTER,
    ['--web.listen-address=127.0.0.1:0', '--no-collector.systemd'],
    join(work, 'node.log'),
  )
  let prom
  try {
    prom = await startPrometheus({
      scrapeInterval: '1s',
      scrapeConfigs:
        job('node', node.address, `${UP_IP}:9100`, 'project: web, host: node-01') +
        job('wrongport', `127.0.0.1:${await closedPort()}`, `${UP_IP}:9999`, '') +
        job('gone', `127.0.0.1:${await closedPort()}`, `${DOWN_IP}:9100`, '') +
        job('stray', node.address, `${STRAY_IP}:9100`, ''),
    })
    const deadline = Date.now() + 30_000
    for (const q of [
      'count(up == 1) == 2 and count(up == 0) == 2',
      'count(last_over_time(timestamp(up == 1)[1h:1s])) == 2',
    ]) {
      while (true) {
        const r = await (await fetch(`${prom.url}/api/v1/query?query=${encodeURIComponent(q)}`)).json()
        if (r.data?.result?.length) break
        if (Date.now() > deadline) throw new Error(`${q} not true within 30 s:\n${prom.log()}`)
        await sleep(200)
      }
    }
  } catch (e) {
    await prom?.stop()
    node.child.kill()
    await node.gone()
    rmSync(work, { recursive: true, force: true })
    throw e
  }
  return {
    url: prom.url,
    async stop() {
      await prom.stop()
      node.child.kill()
      await node.gone()
      rmSync(work, { recursive: true, force: true })
    },
  }
}
