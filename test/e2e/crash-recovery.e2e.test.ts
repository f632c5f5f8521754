import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import {
  bearer,
  freePort,
  keys,
  merchantBody,
  processorSecret,
  programmeBody,
} from '../support/service'

/**
 * The service killed with SIGKILL at random moments under load, then restarted: nothing it
 * acknowledged is lost, and every merchant's balance equals the sum of its postings.
 */
const merchantIds = ['M', 'N', 'O']
const killRounds = 3
const loadConcurrency = 8

t.test('SIGKILL under load loses nothing acknowledged', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ledger-crash-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const keysFile = join(dir, 'keys.json')
  writeFileSync(
    keysFile,
    JSON.stringify([
      { key: keys.operator, role: 'operator' },
      { key: keys.auditor, role: 'auditor' },
    ]),
  )
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  const env = {
    ...process.env,
    PORT: String(port),
    LEDGER_STORE: `sqlite:${join(dir, 'ledger.db')}`,
    LEDGER_API_KEYS_FILE: keysFile,
    LEDGER_PROCESSOR_SECRET: processorSecret,
    LOG_LEVEL: 'warn',
  }
  const start = async (): Promise<ChildProcess> => {
    const child = spawn('npx', ['tsx', 'src/main.ts'], { env, stdio: 'ignore', detached: true })
    for (let attempt = 0; attempt < 300; attempt += 1) {
      const ready = await fetch(`${base}/health/ready`).then(
        (r) => r.ok,
        () => false,
      )
      if (ready) return child
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    throw new Error('the service did not become ready')
  }
  const post = (path: string, body: unknown) =>
    fetch(`${base}${path}`, {
      method: 'POST',
      headers: { ...bearer(keys.operator), 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
  const kill = (child: ChildProcess) => {
    if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL')
  }

  let service = await start()
  t.teardown(() => kill(service))
  await post('/v1/programmes', programmeBody())
  for (const id of merchantIds) await post('/v1/merchants', merchantBody(id))

  const acknowledged: string[] = []
  let sequence = 0
  for (let round = 0; round < killRounds; round += 1) {
    let running = true
    const worker = async () => {
      while (running) {
        sequence += 1
        const purchaseId = `crash-${round}-${sequence}`
        const response = await post('/v1/purchases', {
          purchaseId,
          programmeId: 'P2026',
          merchantId: merchantIds[sequence % merchantIds.length],
          customerId: `c-${sequence}`,
          amountCents: 1_000 + (sequence % 7) * 100,
          paymentReference: `psp-${purchaseId}`,
        }).catch(() => undefined)
        if (response?.status === 201) acknowledged.push(purchaseId)
      }
    }
    const workers = Array.from({ length: loadConcurrency }, worker)
    await new Promise((resolve) => setTimeout(resolve, 300 + Math.random() * 900))
    kill(service)
    running = false
    await Promise.all(workers)
    service = await start()
  }
  t.ok(acknowledged.length > 0, `${acknowledged.length} purchases acknowledged before the kills`)

  const verification = (await (
    await fetch(`${base}/v1/ledger/verification`, { headers: bearer(keys.auditor) })
  ).json()) as { ok: boolean; headPosition: number }
  t.match(verification, { ok: true }, 'the log verifies after the kills')
  const head = verification.headPosition as number

  for (const purchaseId of acknowledged) {
    const again = await post('/v1/purchases', {
      purchaseId,
      programmeId: 'P2026',
      merchantId: 'M',
      customerId: 'x',
      amountCents: 1,
      paymentReference: 'x',
    })
    if (again.status !== 409)
      t.fail(`acknowledged purchase ${purchaseId} was lost (${again.status})`)
  }

  const csv = await (
    await fetch(`${base}/v1/ledger/export?format=csv`, { headers: bearer(keys.auditor) })
  ).text()
  const owedByPostings = new Map<string, number>()
  for (const line of csv.trim().split('\n').slice(1)) {
    const [, , , , account, debit, credit] = line.split(',')
    const match = /^liabilities:merchants:([^:]+):payable$/.exec(account ?? '')
    if (match?.[1] === undefined) continue
    const before = owedByPostings.get(match[1]) ?? 0
    owedByPostings.set(match[1], before + Number(credit) - Number(debit))
  }
  for (const id of merchantIds) {
    const balance = (await (
      await fetch(`${base}/v1/merchants/${id}/balance?minPosition=${head}`, {
        headers: bearer(keys.auditor),
      })
    ).json()) as { owedCents: number; purchaseCents: number }
    t.equal(balance.owedCents, owedByPostings.get(id) ?? 0, `${id}: balance equals its postings`)
    t.equal(balance.purchaseCents, owedByPostings.get(id) ?? 0, `${id}: only purchases happened`)
  }
})
