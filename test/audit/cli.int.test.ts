import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import type { VerificationResult } from '../../src/audit/verify'
import { copyLedger, makeBaseLedger, removeDir, rowsWhere, tamper, type BaseLedger } from './tamper'

/** The command line, run as operators run it: a separate process on a ledger file. */

let base: BaseLedger
t.before(async () => {
  base = await makeBaseLedger(5)
})
t.teardown(() => removeDir(base.dir))

const ledger = (...args: string[]) => {
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/ledger.ts', ...args], {
    encoding: 'utf8',
    env: { ...process.env, LEDGER_STORE: '' },
  })
  return { code: run.status, stdout: run.stdout, stderr: run.stderr }
}

t.test('verify prints the result and exits 0 on a sound ledger', async (t) => {
  const run = ledger('verify', '--store', `sqlite:${copyLedger(base)}`)
  t.equal(run.code, 0, run.stderr)
  const result = JSON.parse(run.stdout) as VerificationResult
  t.same(result, base.clean)
})

t.test('verify exits 1 and names the problem of a tampered ledger', async (t) => {
  const path = copyLedger(base)
  const target = tamper(path, (db) => {
    const row = rowsWhere(db, "type = 'VoucherPurchased'")[1]!
    db.prepare("UPDATE events SET data = json_set(data, '$.bonusCents', 1) WHERE position = ?")
      .run(row.position)
    return row
  })
  const run = ledger('verify', '--store', `sqlite:${path}`)
  t.equal(run.code, 1)
  t.match(JSON.parse(run.stdout), {
    ok: false,
    firstProblem: { kind: 'hash_mismatch', position: target.position },
  })
})

t.test('verify takes an anchor kept from an earlier run', async (t) => {
  const seal = base.clean.lastSeal!
  const good = ledger('verify', '--store', `sqlite:${copyLedger(base)}`, '--anchor',
    `${seal.position}:${seal.hash}`)
  t.equal(good.code, 0, good.stderr)
  const bad = ledger('verify', '--store', `sqlite:${copyLedger(base)}`, '--anchor',
    `${seal.position}:${'0'.repeat(64)}`)
  t.equal(bad.code, 1)
  t.match(JSON.parse(bad.stdout), { firstProblem: { kind: 'anchor_mismatch' } })
})

t.test('export writes a file, and the ndjson export verifies on its own', async (t) => {
  const store = `sqlite:${copyLedger(base)}`
  const journal = join(base.dir, 'cli.journal')
  t.equal(ledger('export', '--store', store, '--format', 'hledger', '--out', journal).code, 0)
  t.match(readFileSync(journal, 'utf8'), /\ndecimal-mark ,\n/)

  const ndjson = join(base.dir, 'cli.ndjson')
  t.equal(ledger('export', '--store', store, '--format', 'ndjson', '--out', ndjson).code, 0)
  const run = ledger('verify', '--ndjson', ndjson)
  t.equal(run.code, 0, run.stderr)
  t.equal((JSON.parse(run.stdout) as VerificationResult).checkedEvents, base.eventCount)
})

t.test('usage errors and a missing ledger exit 2 with a message', async (t) => {
  const format = ledger('export', '--store', `sqlite:${copyLedger(base)}`, '--format', 'xml')
  t.equal(format.code, 2)
  t.match(format.stderr, /Allowed choices are ndjson, csv, hledger, fec/)
  const missing = ledger('verify', '--store', `sqlite:${join(base.dir, 'nothing.db')}`)
  t.equal(missing.code, 2)
  t.match(missing.stderr, /no ledger at/)
})

t.test('rebuild replays the log into the projections file the service reads', async (t) => {
  const path = copyLedger(base)
  const run = ledger('rebuild', '--store', `sqlite:${path}`)
  t.equal(run.code, 0, run.stderr)
  // A fresh store numbers its events from 1 without a gap: its head is its length.
  t.match(JSON.parse(run.stdout), {
    projections: path.replace(/\.db$/, '.projections.db'),
    position: base.eventCount,
  })
  t.ok(existsSync(path.replace(/\.db$/, '.projections.db')))
})
