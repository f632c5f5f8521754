import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import type { EventOf, EventType } from '../../domain/events'
import { allProjections } from '../../projections'
import { ProjectionDocStore } from '../../src/projections/doc-store'
import { ProjectionEngine } from '../../src/projections/engine'
import type { EventMetadata, RecordedEvent } from '../../src/store/port'
import { merchantRegistered, seasonEvents } from './fixtures'
import { streamOf } from './store-writer'

const recordedOf = (events: readonly EventOf<EventType>[], first = 1): RecordedEvent[] =>
  events.map((event, index) => ({
    ...event,
    position: first + index,
    streamId: streamOf(event),
    revision: 0,
    eventId: `e-${first + index}`,
    metadata: {
      occurredAt: '2026-03-01T10:00:00.000Z',
      recordedAt: '2026-03-01T10:00:00.000Z',
    } as EventMetadata,
  }))

t.test('while a commit is written, queries see the documents of the last one', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'engine-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const store = new ProjectionDocStore(join(dir, 'p.db'))
  t.teardown(() => store.close())
  // Every document read through from the file, and dropped at once: the file is what answers.
  const engine = new ProjectionEngine(allProjections, store, 'onDemand', 1)
  const season = seasonEvents()
  const firstCount = 9
  engine.apply(recordedOf(season.slice(0, firstCount)))
  engine.commit()
  const committed = engine.position()
  const before = {
    voucher: engine.doc('vouchers', 'v-pu1'),
    merchants: engine.docs('merchants').length,
    balance: engine.doc('merchant-balances', 'M1'),
  }
  const rest = [...season.slice(firstCount), merchantRegistered('M9')]
  engine.apply(recordedOf(rest, committed + 1))
  const batch = engine.beginCommit()
  if (batch === undefined) throw new Error('nothing to commit')
  // The writer thread has committed; this thread has not heard of it yet.
  store.save(batch.changes, batch.checkpoints)
  t.equal(engine.position(), committed)
  t.same(engine.doc('vouchers', 'v-pu1'), before.voucher, 'a document changed by the batch')
  t.equal(engine.doc('merchants', 'M9'), undefined, 'a document the batch creates')
  t.equal(engine.docs('merchants').length, before.merchants, 'a whole projection')
  t.same(engine.doc('merchant-balances', 'M1'), before.balance)

  engine.endCommit()
  t.equal(engine.position(), committed + rest.length)
  t.not(engine.doc('vouchers', 'v-pu1'), undefined)
  t.notSame(engine.doc('vouchers', 'v-pu1'), before.voucher)
  t.equal(engine.docs('merchants').length, before.merchants + 1)
})
