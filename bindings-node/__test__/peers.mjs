// A real Prometheus (Debian's package) on 127.0.0.1 for the connector and rulegen tests.
// It fails loudly when the binary is missing: these tests never skip.
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

const PROMETHEUS = '/usr/bin/prometheus'

export async function startPrometheus() {
  if (!existsSync(PROMETHEUS)) {
    throw new Error(`${PROMETHEUS} is missing: apt-get install prometheus (./scripts/test installs it)`)
  }
  const work = mkdtempSync(join(tmpdir(), 'ipocket-node-prom-'))
  const rules = join(work, 'rules')
  mkdirSync(rules)
  const config = join(work, 'prometheus.yml')
  writeFileSync(
    config,
    `global:\n  scrape_interval: 15s\n  evaluation_interval: 1s\nrule_files:\n  - ${rules}/*.yml\n`,
  )
  const logPath = join(work, 'prometheus.log')
  const log = openSync(logPath, 'w')
  const child = spawn(
    PROMETHEUS,
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(work, 'data')}`,
      '--storage.tsdb.use-lockfile',
      '--web.listen-address=127.0.0.1:0',
      '--web.enable-lifecycle',
      '--log.level=info',
    ],
    { stdio: ['ignore', 'ignore', log] },
  )
  let exited = null
  child.on('exit', (code) => {
    exited = code
  })
  const deadline = Date.now() + 30_000
  let address = null
  while (!address) {
    const text = readFileSync(logPath, 'utf8')
    const m = text.match(/msg="Listening on" address=(127\.0\.0\.1:\d+)/)
    if (m) address = m[1]
    else if (exited !== null) throw new Error(`prometheus exited early (${exited}):\n${text}`)
    else if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`prometheus did not listen within 30 s:\n${text}`)
    } else await sleep(20)
  }
  const url = `http://${address}`
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
      const gone = new Promise((resolve) => (exited !== null ? resolve() : child.once('exit', resolve)))
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
      await gone
      clearTimeout(timer)
      rmSync(work, { recursive: true, force: true })
    },
  }
}
