import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import iconv from 'iconv-lite'
import t from 'tap'
import type { LedgerEvent } from '../../domain/events'
import { parisDateOf, type Instant } from '../../domain/time'
import { startSealer } from '../../src/audit/seal'
import {
  csvColumns,
  exportLedger,
  fecColumns,
  recordedEventOfNdjson,
  type ExportFormat,
} from '../../src/audit/export'
import { verifyEventPages } from '../../src/audit/verify'
import { openSqliteEventStore, type SqliteEventStore } from '../../src/store/sqlite'
import { buildLedger, merchantIds, merchantNames, type LedgerWriter } from './ledger-fixture'
import { removeDir, silentLogger } from './tamper'

/**
 * The exports of a real ledger, each checked by reading it back the way its users will: the
 * ndjson re-verified, the CSV summed, the journal balanced by the real hledger, the FEC decoded
 * as Latin-9 and checked column by column.
 */

const dir = mkdtempSync(join(tmpdir(), 'ledger-export-'))
let store: SqliteEventStore
let writer: LedgerWriter

t.before(async () => {
  store = openSqliteEventStore({ path: join(dir, 'ledger.db') })
  writer = await buildLedger(store, 30)
  const sealing = { store, intervalEvents: 50, intervalMs: 3_600_000, logger: silentLogger }
  await startSealer(sealing).stop()
})
t.teardown(async () => {
  await store.close()
  removeDir(dir)
})

const exportBytes = async (format: ExportFormat): Promise<Buffer> => {
  const chunks: Buffer[] = []
  for await (const chunk of exportLedger(store, format)) {
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk)
  }
  return Buffer.concat(chunks)
}

/** Euros as hledger prints them with `decimal-mark ,` ("1.250,00 EUR", "-3,50 EUR") to cents. */
const centsOfFrench = (text: string): number => {
  const match = /^(-?)([\d.]+),(\d{2})(?: EUR)?$/.exec(text.trim())
  if (match === null) throw new Error(`not a French amount: ${text}`)
  const cents = Number(match[2]!.replace(/\./g, '')) * 100 + Number(match[3])
  return match[1] === '-' ? -cents : cents
}

/**
 * What each merchant is owed, from the events' own figures rather than from the postings:
 * purchases at it and bonus spent at it, less what refunds took back and payouts sent.
 */
const payablesFromEvents = (events: readonly LedgerEvent[]): Map<string, number> => {
  const owed = new Map<string, number>()
  const add = (merchantId: string, cents: number) =>
    owed.set(merchantId, (owed.get(merchantId) ?? 0) + cents)
  for (const event of events) {
    if (event.type === 'VoucherPurchased') add(event.data.merchantId, event.data.amountCents)
    if (event.type === 'VoucherRedeemed' && event.data.kind === 'bonus') {
      add(event.data.merchantId, event.data.amountCents)
    }
    if (event.type === 'PurchaseRefunded') add(event.data.merchantId, -event.data.unredeemedCents)
    if (event.type === 'PayoutScheduled') add(event.data.merchantId, -event.data.amountCents)
  }
  return owed
}

t.test('ndjson carries enough to re-verify the log elsewhere', async (t) => {
  const lines = (await exportBytes('ndjson')).toString('utf8').trimEnd().split('\n')
  t.equal(lines.length, await store.headPosition())
  const events = lines.map(recordedEventOfNdjson)
  const result = await verifyEventPages([events])
  t.equal(result.ok, true, JSON.stringify(result.firstProblem))
  t.equal(result.checkedEvents, lines.length)

  const forged = events.map((event, index) =>
    index === 20 ? { ...event, data: { ...(event.data as object), forged: true } } : event,
  )
  const tampered = await verifyEventPages([forged])
  t.match(tampered.firstProblem, { kind: 'hash_mismatch', position: events[20]!.position })
})

t.test('csv has one row per posting, balanced per event, dated in Europe/Paris', async (t) => {
  const text = (await exportBytes('csv')).toString('utf8')
  const [header, ...rows] = text.trimEnd().split('\n').map((line) => line.split(','))
  t.same(header, csvColumns)

  const occurredAt = new Map<number, string>()
  for (const event of await store.readAll(0, 100_000)) {
    occurredAt.set(event.position, event.metadata.occurredAt)
  }
  const perEvent = new Map<string, number>()
  const perAccount = new Map<string, number>()
  for (const [position, date, eventId, , account, debit, credit, debitEuros] of rows) {
    const amount = Number(debit) - Number(credit)
    perEvent.set(eventId!, (perEvent.get(eventId!) ?? 0) + amount)
    perAccount.set(account!, (perAccount.get(account!) ?? 0) + amount)
    t.equal(date, parisDateOf(occurredAt.get(Number(position)) as Instant))
    t.equal(debitEuros, (Number(debit) / 100).toFixed(2))
  }
  t.ok([...perEvent.values()].every((sum) => sum === 0), 'every event balances')
  t.same(perAccount, writer.expectedBalances())
  t.ok(rows.some((row) => row[1] === '2026-03-29') && rows.some((row) => row[1] === '2026-03-28'))
})

const hledgerMissing = spawnSync('hledger', ['--version']).status !== 0
const hledgerSkip = hledgerMissing
  ? 'the hledger binary is not installed (apt-get install hledger; CI installs it)'
  : false

const hledgerTitle = 'hledger reads the journal and balances it to the postings'
t.test(hledgerTitle, { skip: hledgerSkip }, async (t) => {
  const journal = (await exportBytes('hledger')).toString('utf8')
  t.match(journal, /^(;.*\n)*decimal-mark ,\n/)
  const path = join(dir, 'ledger.journal')
  writeFileSync(path, journal)

  const csv = execFileSync('hledger', ['-f', path, 'balance', '--flat', '-O', 'csv', '--no-total'])
  const balances = new Map<string, number>()
  for (const line of csv.toString('utf8').trim().split('\n').slice(1)) {
    const [account, amount] = line.split('","').map((cell) => cell.replace(/"/g, ''))
    balances.set(account!, centsOfFrench(amount!))
  }
  const expected = new Map([...writer.expectedBalances()].filter(([, cents]) => cents !== 0))
  t.same(balances, expected, 'every account to the cent')

  const owed = payablesFromEvents(writer.written)
  for (const merchantId of merchantIds) {
    const account = `liabilities:merchants:${merchantId}:payable`
    t.equal(-(balances.get(account) ?? 0), owed.get(merchantId), `${merchantId} payable`)
  }

  const printed = execFileSync('hledger', ['-f', path, 'print', 'desc:PurchaseRefunded'])
  t.match(printed.toString('utf8'), /refundId=refund-1/)
  t.match(printed.toString('utf8'), /liabilities:merchants:M1:payable +60,00 EUR/)
})

t.test('fec: 18 legal columns, Latin-9, AAAAMMJJ, decimal comma, balanced entries', async (t) => {
  const bytes = await exportBytes('fec')
  const text = iconv.decode(bytes, 'ISO-8859-15')
  t.equal(Buffer.compare(iconv.encode(text, 'ISO-8859-15'), bytes), 0, 'decodes as Latin-9')
  const [header, ...lines] = text.split('\r\n').filter((line) => line !== '')
  t.same(header!.split('\t'), fecColumns)

  const balance = new Map<string, number>()
  for (const line of lines) {
    const fields = line.split('\t')
    t.equal(fields.length, 18)
    const row = Object.fromEntries(fecColumns.map((name, index) => [name, fields[index]!]))
    for (const date of [row.EcritureDate, row.PieceDate, row.ValidDate]) t.match(date, /^\d{8}$/)
    for (const amount of [row.Debit, row.Credit]) t.match(amount, /^\d+,\d{2}$/)
    const net = centsOfFrench(row.Debit!) - centsOfFrench(row.Credit!)
    balance.set(row.EcritureNum!, (balance.get(row.EcritureNum!) ?? 0) + net)
    if (row.CompteNum === '401') t.ok(merchantIds.includes(row.CompAuxNum as 'M1'))
  }
  t.ok([...balance.values()].every((net) => net === 0), 'debit equals credit in every entry')
  t.same([...balance.keys()], [...balance.keys()].map((_, index) => String(index + 1)))

  for (const merchantId of ['M1', 'M2']) {
    const name = merchantNames[merchantId]!
    const auxiliary = `\t401\t${'Fournisseurs - commerçants'}\t${merchantId}\t${name}\t`
    t.ok(lines.some((line) => line.includes(auxiliary)), `${merchantId}: ${name}`)
  }
  t.ok(text.includes('€') && text.includes('Œ') && text.includes('é'))
})
