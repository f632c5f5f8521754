import t from 'tap'
import { readSqliteLogFacts, type StoredEvent } from '../../src/audit/source'
import { verifyEventPages, verifyLedger } from '../../src/audit/verify'
import { StoreCorrupted } from '../../src/store/port'
import { openSqliteEventStore } from '../../src/store/sqlite'
import {
  copyLedger,
  makeBaseLedger,
  movePosition,
  rehashStream,
  removeDir,
  rowsWhere,
  tamper,
  verifyFile,
  type BaseLedger,
} from './tamper'

/**
 * Verification of a real ledger in a SQLite file: a clean log passes with every event counted,
 * and each way of tampering with the file directly is found and named by kind and position.
 */

const purchaseCount = 40
let base: BaseLedger

t.before(async () => {
  base = await makeBaseLedger(purchaseCount)
})
t.teardown(() => removeDir(base.dir))

t.test('a clean log verifies, with every event checked', async (t) => {
  const result = base.clean
  t.equal(result.ok, true)
  t.equal(result.firstProblem, null)
  t.equal(result.checkedEvents, base.writer.written.length + base.sealCount)
  t.equal(result.checkedEvents, base.eventCount)
  t.equal(result.headPosition, base.eventCount)
  t.ok(base.sealCount >= 3, 'the ledger was sealed several times')
  t.ok(result.lastSeal !== null && result.lastSeal.throughPosition < base.eventCount - 4)
})

t.test('a clean log verifies through readAll pages too (no facts, no iterator)', async (t) => {
  const store = openSqliteEventStore({ path: copyLedger(base) })
  const paged = {
    readAll: store.readAll.bind(store),
    headPosition: store.headPosition.bind(store),
  } as unknown as typeof store
  const result = await verifyLedger({ store: paged })
  await store.close()
  t.same(result, base.clean)
})

t.test('an amount changed in the data JSON is a hash mismatch at that event', async (t) => {
  const path = copyLedger(base)
  const target = tamper(path, (db) => {
    const row = rowsWhere(db, "type = 'VoucherPurchased'")[5]!
    db.prepare(
      "UPDATE events SET data = json_set(data, '$.amountCents', 99999) WHERE position = ?",
    ).run(row.position)
    return row
  })
  const result = await verifyFile(path)
  t.match(result.firstProblem, {
    kind: 'hash_mismatch',
    position: target.position,
    streamId: target.stream_id,
  })
  t.equal(result.ok, false)
  t.equal(result.checkedEvents, target.position - 1)
})

t.test('a deleted event is named at its position', async (t) => {
  const path = copyLedger(base)
  const target = tamper(path, (db) => {
    const row = rowsWhere(db, "type = 'VoucherRedeemed'")[3]!
    db.prepare('DELETE FROM events WHERE position = ?').run(row.position)
    return row
  })
  const result = await verifyFile(path)
  t.match(result.firstProblem, { kind: 'event_missing', position: target.position })
})

t.test('two events of different streams swapped: the seal over them fails', async (t) => {
  const path = copyLedger(base)
  const [first, second] = tamper(path, (db) => {
    const [m1, m2] = rowsWhere(db, "type = 'MerchantRegistered'")
    movePosition(db, m1!.position, -1)
    movePosition(db, m2!.position, m1!.position)
    movePosition(db, -1, m2!.position)
    return [m1!, m2!]
  })
  const firstSeal = tamper(path, (db) => rowsWhere(db, "type = 'LedgerSealed'")[0]!)
  t.ok(first.position < second.position && second.position < firstSeal.position)

  const result = await verifyFile(path)
  t.match(result.firstProblem, {
    kind: 'seal_hash_mismatch',
    position: firstSeal.position,
    streamId: 'seal-ledger',
  })
})

t.test('two events of one stream swapped: a revision out of order', async (t) => {
  const path = copyLedger(base)
  const first = tamper(path, (db) => {
    const [created, increased] = rowsWhere(db, "stream_id = 'programme-P2026'")
    movePosition(db, created!.position, -1)
    movePosition(db, increased!.position, created!.position)
    movePosition(db, -1, increased!.position)
    return created!
  })
  const result = await verifyFile(path)
  t.match(result.firstProblem, { kind: 'revision_out_of_order', position: first.position })
})

t.test("two events' contents swapped in place: a hash mismatch at the first", async (t) => {
  const path = copyLedger(base)
  const first = tamper(path, (db) => {
    const [a, b] = rowsWhere(db, "type = 'VoucherRedeemed' AND data LIKE '%\"bonus\"%'")
    const update = db.prepare('UPDATE events SET data = ? WHERE position = ?')
    update.run(b!.data, a!.position)
    update.run(a!.data, b!.position)
    return a!
  })
  const result = await verifyFile(path)
  t.match(result.firstProblem, { kind: 'hash_mismatch', position: first.position })
})

t.test('a cut tail is found from the sequence SQLite keeps', async (t) => {
  const path = copyLedger(base)
  tamper(path, (db) => db.prepare('DELETE FROM events WHERE position > ?').run(base.eventCount - 3))
  const result = await verifyFile(path)
  t.match(result.firstProblem, {
    kind: 'log_truncated',
    position: base.eventCount - 2,
    streamId: null,
  })
  t.equal(result.checkedEvents, base.eventCount - 3)
})

t.test('the deleted last event of the log is found', async (t) => {
  const path = copyLedger(base)
  tamper(path, (db) => db.prepare('DELETE FROM events WHERE position = ?').run(base.eventCount))
  const result = await verifyFile(path)
  t.match(result.firstProblem, { kind: 'log_truncated', position: base.eventCount })
})

t.test('a cut tail with the sequence lowered still shows in the stream table', async (t) => {
  const path = copyLedger(base)
  const last = tamper(path, (db) => {
    const row = rowsWhere(db, 'position = ?', base.eventCount)[0]!
    db.prepare('DELETE FROM events WHERE position = ?').run(base.eventCount)
    db.prepare("UPDATE sqlite_sequence SET seq = ? WHERE name = 'events'").run(base.eventCount - 1)
    return row
  })
  const result = await verifyFile(path)
  t.match(result.firstProblem, {
    kind: 'stream_truncated',
    position: base.eventCount,
    streamId: last.stream_id,
  })
})

t.test('a cut covered up in the whole file is found only with a kept anchor', async (t) => {
  const anchor = base.clean.lastSeal!
  const path = copyLedger(base)
  tamper(path, (db) => hideCut(db, anchor.position))

  const unanchored = await verifyFile(path)
  t.equal(unanchored.ok, true, 'a documented limit: the file alone cannot tell')
  t.equal(unanchored.checkedEvents, anchor.position - 1)

  const anchored = await verifyFile(path, anchor)
  t.match(anchored.firstProblem, { kind: 'log_truncated', position: anchor.position })
})

t.test('an anchor that does not match the log is named', async (t) => {
  const anchor = { ...base.clean.lastSeal!, hash: 'f'.repeat(64) }
  const result = await verifyFile(copyLedger(base), anchor)
  t.match(result.firstProblem, { kind: 'anchor_mismatch', position: anchor.position })
})

t.test('an amount changed with its stream rehashed is caught by the seal', async (t) => {
  const path = copyLedger(base)
  tamper(path, (db) => {
    const row = rowsWhere(db, "type = 'VoucherPurchased'")[2]!
    db.prepare(
      "UPDATE events SET data = json_set(data, '$.paymentReference', 'forged') WHERE position = ?",
    ).run(row.position)
    rehashStream(db, row.stream_id)
  })
  const seals = tamper(path, (db) => rowsWhere(db, "type = 'LedgerSealed'"))
  const result = await verifyFile(path)
  t.match(result.firstProblem, { kind: 'seal_hash_mismatch', position: seals[0]!.position })
})

t.test('a rehashed refund that does not balance is caught by its postings', async (t) => {
  const path = copyLedger(base)
  const refund = tamper(path, (db) => {
    const row = rowsWhere(db, "type = 'PurchaseRefunded'")[0]!
    db.prepare(
      "UPDATE events SET data = json_set(data, '$.refundedCents', 6000) WHERE position = ?",
    ).run(row.position)
    rehashStream(db, row.stream_id)
    return row
  })
  const result = await verifyFile(path)
  t.match(result.firstProblem, { kind: 'postings_unbalanced', position: refund.position })
})

t.test('a rehashed bonus redemption beyond the bonus granted is caught', async (t) => {
  const path = copyLedger(base)
  const redemption = tamper(path, (db) => {
    const row = rowsWhere(db, "type = 'VoucherRedeemed' AND data LIKE '%\"bonus\"%'")[0]!
    db.prepare(
      "UPDATE events SET data = json_set(data, '$.amountCents', 100000000) WHERE position = ?",
    ).run(row.position)
    rehashStream(db, row.stream_id)
    return row
  })
  const result = await verifyFile(path)
  t.match(result.firstProblem, { kind: 'bonus_overspent', position: redemption.position })
})

t.test('data its codec refuses, rehashed, is named data_invalid', async (t) => {
  const path = copyLedger(base)
  const target = tamper(path, (db) => {
    const row = rowsWhere(db, "type = 'MerchantRegistered'")[0]!
    db.prepare(
      "UPDATE events SET data = json_set(data, '$.category', 'casino') WHERE position = ?",
    ).run(row.position)
    rehashStream(db, row.stream_id)
    return row
  })
  const result = await verifyFile(path)
  t.match(result.firstProblem, { kind: 'data_invalid', position: target.position })
})

t.test('a deleted sequence does not make the check vacuous', async (t) => {
  const path = copyLedger(base)
  tamper(path, (db) => {
    db.prepare('DELETE FROM sqlite_sequence').run()
    db.prepare('DELETE FROM events WHERE position = 7').run()
  })
  const result = await verifyFile(path)
  t.match(result.firstProblem, { kind: 'event_missing', position: 7 })
})

t.test('facts are read in one snapshot and the connection is released', async (t) => {
  const facts = readSqliteLogFacts(copyLedger(base))
  t.equal(facts.assignedThroughPosition, base.eventCount)
  t.equal(facts.headPosition, base.eventCount)
  t.equal(facts.positionsDense, true)
  t.ok([...facts.streamRevisions()].length > purchaseCount)
  facts.close()
})

/**
 * Removes every event from `position` on and rewrites what SQLite keeps beside them (the
 * sequence and the stream table) to match, so that the file is self-consistent.
 */
const hideCut = (db: import('better-sqlite3').Database, position: number): void => {
  db.prepare('DELETE FROM events WHERE position >= ?').run(position)
  db.prepare("UPDATE sqlite_sequence SET seq = ? WHERE name = 'events'").run(position - 1)
  db.prepare('DELETE FROM streams').run()
  db.prepare(
    'INSERT INTO streams (stream_id, revision) ' +
      'SELECT stream_id, MAX(revision) FROM events GROUP BY stream_id',
  ).run()
}

t.test('stored JSON rewritten without changing its value still verifies', async (t) => {
  const path = copyLedger(base)
  tamper(path, (db) => {
    const row = rowsWhere(db, "type = 'VoucherPurchased'")[0]!
    const data = JSON.parse(row.data) as Record<string, unknown>
    const reordered = Object.fromEntries(Object.entries(data).reverse())
    db.prepare('UPDATE events SET data = ? WHERE position = ?').run(
      JSON.stringify(reordered, null, 2),
      row.position,
    )
  })
  const result = await verifyFile(path)
  t.equal(result.ok, true, JSON.stringify(result.firstProblem))
  t.equal(result.checkedEvents, base.eventCount)
})

t.test('a row whose JSON does not parse is named store_unreadable', async (t) => {
  const path = copyLedger(base)
  const target = tamper(path, (db) => {
    const row = rowsWhere(db, "type = 'VoucherRedeemed'")[0]!
    db.prepare('UPDATE events SET data = \'{"amountCents":\' WHERE position = ?').run(row.position)
    return row
  })
  const result = await verifyFile(path)
  t.match(result.firstProblem, { kind: 'store_unreadable', position: target.position })
})

t.test('hashing on a digest thread, page ahead, finds what hashing inline finds', async (t) => {
  const facts = readSqliteLogFacts(base.path)
  const stored: StoredEvent[] = []
  try {
    for await (const page of facts.eventPages?.(facts.headPosition) ?? []) stored.push(...page)
  } finally {
    facts.close()
  }
  t.ok(stored.length > 50 && stored.every((e) => e.metadataText !== undefined), 'stored texts')
  // Pages of seven, so that the thread is always a page ahead of the checks.
  const pagesOf = (events: readonly StoredEvent[]): StoredEvent[][] =>
    Array.from({ length: Math.ceil(events.length / 7) }, (_, i) => events.slice(i * 7, i * 7 + 7))
  const both = async (pages: () => AsyncIterable<StoredEvent[]> | Iterable<StoredEvent[]>) => {
    const inline = await verifyEventPages(pages(), { digestThread: false })
    const threaded = await verifyEventPages(pages(), { digestThread: true })
    t.same(threaded, inline, 'the same verdict with and without the thread')
    return threaded
  }

  t.equal((await both(() => pagesOf(stored))).ok, true)

  const altered = stored.map((event, index) =>
    index === 40 ? withText(event, (event.dataText ?? '').replace(/\d/, '9')) : event,
  )
  const verdict = await both(() => pagesOf(altered))
  t.match(verdict.firstProblem, { kind: 'hash_mismatch', position: stored[40]?.position })

  // The page after the altered one cannot be read: the altered event is still reported first.
  const failing = async function* () {
    const pages = pagesOf(altered)
    for (const [index, page] of pages.entries()) {
      if (index * 7 > 41) throw new StoreCorrupted(page[0]?.position ?? 0, 'unreadable row')
      yield page
    }
  }
  t.match((await both(failing)).firstProblem, { kind: 'hash_mismatch' })
})

/** The event with other stored data text, and data parsed from it, as the store would give. */
const withText = (event: StoredEvent, dataText: string): StoredEvent => ({
  position: event.position,
  streamId: event.streamId,
  revision: event.revision,
  eventId: event.eventId,
  type: event.type,
  data: JSON.parse(dataText) as unknown,
  metadata: event.metadata,
  dataText,
  ...(event.metadataText === undefined ? {} : { metadataText: event.metadataText }),
})
