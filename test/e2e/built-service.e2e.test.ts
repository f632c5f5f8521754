import { execFileSync, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { bearer, freePort, keys, merchantBody, programmeBody } from '../support/service'

/**
 * `npm start` runs the service compiled by `npm run build`, not through tsx: the compiled code,
 * and the worker threads it starts from compiled files, must work as the sources do. The build
 * goes to a directory of the test's own inside the checkout (where the compiled files find
 * node_modules), so a developer's `dist/` is left alone.
 */

const repoRoot = join(__dirname, '..', '..')

t.test('the compiled service records a purchase and stops cleanly', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ledger-built-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  mkdirSync(join(repoRoot, '.tap'), { recursive: true })
  const outDir = mkdtempSync(join(repoRoot, '.tap', 'built-'))
  t.teardown(() => rmSync(outDir, { recursive: true, force: true }))
  execFileSync('npm', ['run', 'build', '--silent', '--', '--outDir', outDir], {
    cwd: repoRoot,
    stdio: 'inherit',
  })
  const keysFile = join(dir, 'keys.json')
  writeFileSync(keysFile, JSON.stringify([{ key: keys.operator, role: 'operator' }]))
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  const child = spawn(process.execPath, [join(outDir, 'src', 'main.js')], {
    env: {
      ...process.env,
      PORT: String(port),
      LEDGER_STORE: `sqlite:${join(dir, 'ledger.db')}`,
      LEDGER_API_KEYS_FILE: keysFile,
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  })
  const exited = once(child, 'exit')
  let running = true
  void exited.then(() => (running = false))
  t.teardown(() => void child.kill('SIGKILL'))
  let ready = false
  for (let attempt = 0; attempt < 300 && !ready && running; attempt += 1) {
    ready = await fetch(`${base}/health/ready`).then(
      (r) => r.ok,
      () => false,
    )
    if (!ready) await new Promise((resolve) => setTimeout(resolve, 100))
  }
  t.ok(ready, 'ready')
  const post = (path: string, body: unknown) =>
    fetch(`${base}${path}`, {
      method: 'POST',
      headers: { ...bearer(keys.operator), 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
  t.equal((await post('/v1/programmes', programmeBody())).status, 201)
  t.equal((await post('/v1/merchants', merchantBody('M'))).status, 201)
  const purchase = await post('/v1/purchases', {
    purchaseId: 'built-1',
    programmeId: 'P2026',
    merchantId: 'M',
    customerId: 'c-1',
    amountCents: 2_000,
    paymentReference: 'psp-built-1',
  })
  t.equal(purchase.status, 201, 'committed by the writer thread, started from compiled code')
  child.kill('SIGTERM')
  const [code] = await exited
  t.equal(code, 0, 'stops cleanly on SIGTERM')
})
