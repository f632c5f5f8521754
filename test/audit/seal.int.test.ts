import fc from 'fast-check'
import { createHash } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { join } from 'node:path'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import pino from 'pino'
import t from 'tap'
import { buildEventToAppend, buildStreamEvents } from '../../src/audit/chain'
import { hashEvent, zeroHash } from '../../src/audit/hash'
import { computeSealHash, startSealer, type LedgerSeal } from '../../src/audit/seal'
import { readSqliteLogFacts } from '../../src/audit/source'
import { verifyLedger } from '../../src/audit/verify'
import { openSqliteEventStore } from '../../src/store/sqlite'
import type { EventStore } from '../../src/store/port'
import { LedgerWriter, purchaseEvents, buildLedger, writeSetup } from './ledger-fixture'
import { removeDir, silentLogger } from './tamper'

/** Seals and the chain helper: the documented hash, the sealer's triggers, and no fork. */

const dir = mkdtempSync(join(tmpdir(), 'ledger-seal-'))
t.teardown(() => removeDir(dir))
let files = 0
const newPath = (): string => join(dir, `seal-${(files += 1)}.db`)

const sealsOf = async (store: EventStore): Promise<LedgerSeal[]> =>
  (await store.readStream('seal-ledger')).map((event) => event.data as LedgerSeal)

const verifyPath = async (store: EventStore, path: string) =>
  verifyLedger({ store, facts: readSqliteLogFacts(path) })

t.test('the seal hash is the SHA-256 of the documented text', async (t) => {
  const previous = 'a'.repeat(64)
  const events = [
    { position: 11, hash: 'b'.repeat(64) },
    { position: 13, hash: 'c'.repeat(64) },
  ]
  const text =
    `ledger-seal v1\n${previous}\n10\n` + `11 ${'b'.repeat(64)}\n13 ${'c'.repeat(64)}\n` + '14 2\n'
  const expected = createHash('sha256').update(text, 'utf8').digest('hex')
  const range = { fromPosition: 10, throughPosition: 14, previousSealHash: previous }
  t.equal(computeSealHash(range, events), expected)
})

t.test('buildEventToAppend chains on the previous hash and hashes what it returns', async (t) => {
  const common = {
    streamId: 'merchant-M9',
    eventId: '6f1c1f3e-5a0e-4a53-8d6f-0d6d2b0d9a11',
    type: 'MerchantSuspended',
    data: { merchantId: 'M9', reason: 'audit' },
    occurredAt: '2026-04-01T08:00:00.000Z',
    recordedAt: '2026-04-01T08:00:00.000Z',
    commandId: 'c1',
    causationId: 'c1',
    correlationId: 'c1',
    actor: 'operator:test',
  }
  const first = buildEventToAppend({ ...common, revision: 0, previousHash: 'ignored' })
  t.equal(first.metadata.previousHash, zeroHash)
  t.equal(first.metadata.schemaVersion, 1)
  const { hash, ...unhashed } = first.metadata
  t.equal(hash, hashEvent({ ...common, revision: 0, metadata: unhashed }))

  const [a, b] = buildStreamEvents(
    { streamId: common.streamId, nextRevision: 1, previousHash: hash },
    [common, { ...common, eventId: '6f1c1f3e-5a0e-4a53-8d6f-0d6d2b0d9a12' }],
  )
  t.equal(a!.metadata.previousHash, hash)
  t.equal(b!.metadata.previousHash, a!.metadata.hash)
  t.throws(() => buildEventToAppend({ ...common, revision: 1, previousHash: 'short' }))
})

t.test(
  'an event hashes the same whatever its data, on either path of buildEventToAppend',
  async (t) => {
    // Arbitrary values, including integer-like keys, empty array slots and values JSON cannot
    // write, which must leave the JSON.stringify path for the canonical walk.
    const values = fc.oneof(
      fc.jsonValue(),
      fc.anything({ withSparseArray: true, withBoxedValues: false, withBigInt: false }),
      fc.dictionary(fc.oneof(fc.string(), fc.nat().map(String)), fc.jsonValue()),
    )
    const names = fc.string({ maxLength: 12 })
    fc.assert(
      fc.property(values, names, fc.nat(1_000), (data, name, revision) => {
        const input = {
          streamId: `merchant-${name}`,
          eventId: '6f1c1f3e-5a0e-4a53-8d6f-0d6d2b0d9a11',
          type: `Type${name}`,
          data,
          occurredAt: '2026-04-01T08:00:00.000Z',
          recordedAt: '2026-04-01T08:00:00.000Z',
          commandId: name,
          causationId: 'c1',
          correlationId: `"${name}"`,
          actor: `operator:${name}`,
          revision,
          previousHash: 'a'.repeat(64),
        }
        const { hash, ...unhashed } = buildEventToAppend(input).metadata
        return hash === hashEvent({ ...input, metadata: unhashed })
      }),
      { numRuns: 3_000 },
    )
  },
)

t.test('the sealer seals every intervalEvents, chained, and on stop', async (t) => {
  const path = newPath()
  const store = openSqliteEventStore({ path })
  const writer = await buildLedger(store, 20)
  const sealing = { store, intervalEvents: 25, intervalMs: 3_600_000, logger: silentLogger }
  const sealer = startSealer(sealing)
  await sealer.sealNow()
  const backlogSeals = (await sealsOf(store)).length
  t.equal(backlogSeals, Math.ceil(writer.written.length / 25), 'every 25, then the rest')
  await writer.command('late', purchaseEvents(700_001, 'M1', 12_00))
  await sealer.stop()

  const seals = await sealsOf(store)
  t.equal(seals.length, backlogSeals + 1, 'what came later is sealed on stop')
  seals.forEach((seal, index) => {
    const previous = seals[index - 1]
    t.equal(seal.fromPosition, previous?.throughPosition ?? 0)
    t.equal(seal.previousSealHash, previous?.sealHash ?? zeroHash)
  })
  const result = await verifyPath(store, path)
  t.equal(result.ok, true)
  t.equal(result.lastSeal?.throughPosition, (await store.headPosition()) - 1)
  await store.close()
})

t.test('the sealer seals after intervalMs, and not its own seals again', async (t) => {
  const path = newPath()
  const store = openSqliteEventStore({ path })
  const writer = new LedgerWriter(store)
  await writeSetup(writer)
  const sealer = startSealer({ store, intervalEvents: 1_000, intervalMs: 30, logger: silentLogger })
  const deadlineMs = Date.now() + 10_000
  while ((await sealsOf(store)).length === 0 && Date.now() < deadlineMs) await sleep(20)
  t.equal((await sealsOf(store)).length, 1, 'one seal once the interval passed')
  await sleep(300)
  t.equal((await sealsOf(store)).length, 1, 'a seal alone is not sealed again')
  await sealer.stop()
  t.equal((await sealsOf(store)).length, 1, 'nothing left to seal on stop')
  await store.close()
})

t.test('two sealers on two connections to one file never fork the chain', async (t) => {
  const path = newPath()
  const storeA = openSqliteEventStore({ path })
  const storeB = openSqliteEventStore({ path })
  const writer = new LedgerWriter(storeA)
  await writeSetup(writer)
  const messages: string[] = []
  const logger = pino({ level: 'info' }, { write: (line: string) => messages.push(line) })
  const options = { intervalEvents: 1_000, intervalMs: 3_600_000, logger }
  const sealerA = startSealer({ ...options, store: storeA })
  const sealerB = startSealer({ ...options, store: storeB })
  for (let index = 1; index <= 30; index += 1) {
    await writer.command(`p-${index}`, purchaseEvents(index, 'M1', 10_00 + index))
    // In turn, B's pending range ends past A's latest seal (a conflict), or both race at once.
    if (index % 3 === 0) await Promise.all([sealerA.sealNow(), sealerB.sealNow()])
    else await sealerA.sealNow().then(() => sealerB.sealNow())
  }
  await Promise.all([sealerA.stop(), sealerB.stop()])

  const seals = await storeA.readStream('seal-ledger')
  t.same(
    seals.map((event) => event.revision),
    seals.map((_, index) => index),
  )
  t.ok(
    messages.some((line) => line.includes('seal raced')),
    'the sealers did race',
  )
  const result = await verifyPath(storeA, path)
  t.equal(result.ok, true, JSON.stringify(result.firstProblem))
  await storeB.close()
  await storeA.close()
})
