import t from 'tap'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { InvalidAppend } from '../../src/store/expectation'
import {
  appendBatchCallsMax,
  appendBatchEventsMax,
  storeReadPageEventsMax,
  streamTipsPerStatementMax,
} from '../../src/limits'
import {
  ConcurrencyConflict,
  StoreCorrupted,
  StoreUnavailable,
  type ExpectedRevision,
  type RecordedEvent,
  type StreamAppend,
} from '../../src/store/port'
import { openSqliteEventStore } from '../../src/store/sqlite'
import { makeEvent, runEventStoreConformance, streamName } from './conformance'

const tempDir = (): string => mkdtempSync(join(tmpdir(), 'ledger-store-'))

/** One stream entry of a call, with `count` fresh events. */
const one = (streamId: string, expectedRevision: ExpectedRevision, count = 1): StreamAppend[] => [
  { streamId, expectedRevision, events: Array.from({ length: count }, () => makeEvent()) },
]

runEventStoreConformance(t, 'sqlite', async () => {
  const dir = tempDir()
  const store = openSqliteEventStore({ path: join(dir, 'nested', 'ledger.db') })
  return {
    store,
    cleanup: async () => {
      await store.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
})

const withFile = (t: tap.Test): string => {
  const dir = tempDir()
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return join(dir, 'ledger.db')
}

t.test('calls made together commit in order, each failing alone', async (t) => {
  const store = openSqliteEventStore({ path: ':memory:' })
  t.teardown(() => store.close())
  const stream = streamName('programme')
  const calls = [
    store.appendToStreams(one(stream, 'no_stream')),
    store.appendToStreams(one(stream, 0)),
    store.appendToStreams(one(stream, 'no_stream')),
    store.appendToStreams(one(stream, 1, 2)),
  ]
  const settled = await Promise.allSettled(calls)
  t.same(
    settled.map((outcome) => outcome.status),
    ['fulfilled', 'fulfilled', 'rejected', 'fulfilled'],
  )
  const third = settled[2] as PromiseRejectedResult
  t.ok(third.reason instanceof ConcurrencyConflict)
  const conflict = third.reason as ConcurrencyConflict
  t.equal(conflict.actualRevision, 1, 'sees the earlier calls of the batch')
  t.same(
    (await store.readStream(stream)).map((event) => event.revision),
    [0, 1, 2, 3],
  )
})

t.test('calls beyond one batch are committed in later batches, still in order', async (t) => {
  const store = openSqliteEventStore({ path: ':memory:' })
  t.teardown(() => store.close())
  const stream = streamName('programme')
  const count = appendBatchCallsMax * 2 + 5
  const calls = Array.from({ length: count }, (_, index) =>
    store.appendToStreams(one(stream, index === 0 ? 'no_stream' : index - 1)),
  )
  const big = store.appendToStreams(one(streamName(), 'no_stream', appendBatchEventsMax + 1))
  const results = await Promise.all(calls)
  t.same(
    results.map((result) => result.nextRevisions[0]),
    results.map((_, index) => index),
  )
  t.same((await big).nextRevisions, [appendBatchEventsMax], 'a call larger than a batch lands')
})

t.test('an event id recorded in another stream is a conflict', async (t) => {
  const store = openSqliteEventStore({ path: ':memory:' })
  t.teardown(() => store.close())
  const event = makeEvent()
  const [first, second] = [streamName(), streamName()]
  await store.appendToStreams([{ streamId: first, expectedRevision: 'no_stream', events: [event] }])
  const attempt = store.appendToStreams([
    { streamId: second, expectedRevision: 'no_stream', events: [makeEvent(), event] },
  ])
  await t.rejects(attempt, ConcurrencyConflict)
  t.same(await store.readStream(second), [])
  const sameStreamLater = store.appendToStreams([
    { streamId: first, expectedRevision: 'any', events: [makeEvent(), event] },
  ])
  await t.rejects(sameStreamLater, ConcurrencyConflict, 'at another revision it is not a retry')
})

t.test('invalid calls are refused before anything is queued', async (t) => {
  const store = openSqliteEventStore({ path: ':memory:' })
  t.teardown(() => store.close())
  await t.rejects(store.appendToStreams([]), InvalidAppend)
  await t.rejects(
    store.appendToStreams([{ streamId: '', expectedRevision: 'any', events: [makeEvent()] }]),
    InvalidAppend,
  )
  await t.rejects(
    store.appendToStreams([{ streamId: streamName(), expectedRevision: -1, events: [] }]),
    InvalidAppend,
  )
  const event = makeEvent()
  const malformed: unknown[] = [
    [null],
    [{ streamId: streamName(), expectedRevision: 'any', events: 'not a list' }],
    [{ streamId: streamName(), expectedRevision: 'any', events: [null] }],
    [{ streamId: streamName(), expectedRevision: 'any', events: [{ ...event, eventId: 7 }] }],
    [{ streamId: streamName(), expectedRevision: 'any', events: [{ ...event, metadata: null }] }],
    [{ streamId: streamName(), expectedRevision: 'any', events: [event, event] }],
    [
      { streamId: streamName(), expectedRevision: 'any', events: [event] },
      { streamId: streamName(), expectedRevision: 'any', events: [event] },
    ],
    [{ streamId: streamName(), expectedRevision: 'any', events: [], expectedLastHash: 1 }],
    // SQLite keeps text as UTF-8, where a lone surrogate becomes U+FFFD: another name.
    [{ streamId: 'voucher-\uD800', expectedRevision: 'any', events: [event] }],
    [
      {
        streamId: streamName(),
        expectedRevision: 'any',
        events: [{ ...event, eventId: 'e\uDC00' }],
      },
    ],
    [{ streamId: streamName(), expectedRevision: 'any', events: [{ ...event, type: 'T\uD800x' }] }],
  ]
  for (const appends of malformed) {
    await t.rejects(store.appendToStreams(appends as StreamAppend[]), InvalidAppend)
  }
  t.equal(await store.headPosition(), 0, 'nothing was written')
})

t.test('close commits what is queued, then refuses work', async (t) => {
  const path = withFile(t)
  const store = openSqliteEventStore({ path })
  const stream = streamName()
  const pending = store.appendToStreams([
    { streamId: stream, expectedRevision: 'no_stream', events: [makeEvent()] },
  ])
  await store.close()
  t.same((await pending).nextRevisions, [0])
  await t.rejects(store.appendToStreams(one(stream, 0)), StoreUnavailable)
  await t.rejects(store.readStream(stream), StoreUnavailable)
  const reopened = openSqliteEventStore({ path })
  t.teardown(() => reopened.close())
  t.equal((await reopened.readStream(stream)).length, 1, 'the event is in the file')
})

t.test('every caller of close waits until the queued appends are settled', async (t) => {
  const store = openSqliteEventStore({ path: withFile(t) })
  const stream = streamName()
  const pending = [0, 1, 2].map((revision) =>
    store.appendToStreams(one(stream, revision === 0 ? 'no_stream' : revision - 1)),
  )
  const settled: boolean[] = pending.map(() => false)
  pending.forEach((append, index) => void append.then(() => (settled[index] = true)))
  const first = store.close()
  await store.close()
  t.same(settled, [true, true, true], 'the second close waited for the appends too')
  await first
})

t.test('the streams table records the revision each stream reached', async (t) => {
  const path = withFile(t)
  const store = openSqliteEventStore({ path })
  const streams = Array.from({ length: streamTipsPerStatementMax * 2 + 3 }, () => streamName())
  await Promise.all(streams.map((stream) => store.appendToStreams(one(stream, 'no_stream', 2))))
  const [first, second] = streams as [string, string]
  const settled = await Promise.allSettled([
    store.appendToStreams(one(first, 1)),
    store.appendToStreams(one(first, 2)),
    store.appendToStreams(one(second, 5)),
  ])
  t.same(
    settled.map((outcome) => outcome.status),
    ['fulfilled', 'fulfilled', 'rejected'],
  )
  await store.close()
  const db = new Database(path, { readonly: true })
  t.teardown(() => db.close())
  const tips = new Map(
    db.prepare<[], [string, number]>('SELECT stream_id, revision FROM streams').raw().all(),
  )
  t.equal(tips.size, streams.length, 'one row per stream')
  t.equal(tips.get(first), 3, 'the last revision of a batch, not the first')
  t.equal(tips.get(second), 1, 'a refused call leaves no trace')
  t.ok(streams.slice(2).every((stream) => tips.get(stream) === 1))
  t.equal(db.pragma('journal_mode', { simple: true }), 'wal')
})

t.test('a row whose JSON does not parse is corruption, reported at its position', async (t) => {
  const path = withFile(t)
  const store = openSqliteEventStore({ path })
  const stream = streamName()
  const { position } = await store.appendToStreams(one(stream, 'no_stream'))
  await store.close()
  const db = new Database(path)
  db.prepare('UPDATE events SET data = ? WHERE position = ?').run('{"amountCents": 25', position)
  db.close()
  const reopened = openSqliteEventStore({ path })
  t.teardown(() => reopened.close())
  const error = await reopened.readStream(stream).then(
    () => undefined,
    (e: unknown) => e,
  )
  t.ok(error instanceof StoreCorrupted)
  t.equal((error as StoreCorrupted).position, position)
  t.throws(() => [...reopened.iterateAll()], StoreCorrupted)
})

t.test('two processes on one file: conflicts and subscriptions see each other', async (t) => {
  const path = withFile(t)
  const [mine, theirs] = [openSqliteEventStore({ path }), openSqliteEventStore({ path })]
  t.teardown(async () => {
    await mine.close()
    await theirs.close()
  })
  const stream = streamName('programme')
  await mine.appendToStreams(one(stream, 'no_stream'))
  await mine.appendToStreams(one(stream, 0))
  const seen: RecordedEvent[] = []
  const subscription = mine.subscribeToAll(await mine.headPosition(), {
    onEvents: (events) => void seen.push(...events),
  })
  await theirs.appendToStreams(one(stream, 1))
  const stale = mine.appendToStreams(one(stream, 1))
  await t.rejects(stale, ConcurrencyConflict, 'a cached revision is not trusted after their write')
  for (let waited = 0; seen.length === 0 && waited < 2_000; waited += 50) {
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  await subscription.stop()
  t.same(
    seen.map((event) => event.revision),
    [2],
    'the poll found the other process append',
  )
})

t.test('iterateAll walks the whole log in order, page after page', async (t) => {
  const store = openSqliteEventStore({ path: ':memory:' })
  t.teardown(() => store.close())
  const count = storeReadPageEventsMax * 2 + 17
  const stream = streamName()
  const events = Array.from({ length: count }, () => makeEvent())
  await store.appendToStreams([{ streamId: stream, expectedRevision: 'no_stream', events }])
  const all = [...store.iterateAll()]
  t.equal(all.length, count)
  t.ok(all.every((event, index) => event.revision === index))
  const tail = [...store.iterateAll((all[count - 3] as RecordedEvent).position)]
  t.same(
    tail.map((event) => event.revision),
    [count - 2, count - 1],
  )
})

t.test('iterateAll reads only the types asked for, up to the position asked for', async (t) => {
  const store = openSqliteEventStore({ path: ':memory:' })
  t.teardown(() => store.close())
  // Two pages of the wanted type among many others, so that paging skips rows inside SQLite.
  const count = storeReadPageEventsMax * 5
  const events = Array.from({ length: count }, (_, index) =>
    makeEvent(index % 3 === 0 ? 'Wanted' : index % 3 === 1 ? 'Other' : 'Also', { index }),
  )
  await store.appendToStreams([{ streamId: streamName(), expectedRevision: 'no_stream', events }])

  const wanted = [...store.iterateAll(0, { types: ['Wanted', 'Also'] })]
  const expected = events.filter((event) => event.type !== 'Other')
  t.equal(wanted.length, expected.length)
  t.same(
    wanted.map((event) => event.data),
    expected.map((event) => event.data),
    'in log order, page after page',
  )

  const through = (wanted[10] as RecordedEvent).position
  const upTo = [...store.iterateAll(0, { types: ['Wanted'], throughPosition: through })]
  t.ok(upTo.every((event) => event.type === 'Wanted' && event.position <= through))
  t.equal((upTo[upTo.length - 1] as RecordedEvent).position, through)
  t.same([...store.iterateAll(through, { types: ['Nothing'] })], [])
})

t.test('a failing handler stops its subscription and is told once', async (t) => {
  const store = openSqliteEventStore({ path: ':memory:' })
  t.teardown(() => store.close())
  await store.appendToStreams(one(streamName(), 'any'))
  const errors: Error[] = []
  let calls = 0
  const stopped = new Promise<void>((resolve) => {
    store.subscribeToAll(0, {
      onEvents: () => {
        calls += 1
        throw new Error('projection broke')
      },
      onError: (error) => {
        errors.push(error)
        resolve()
      },
    })
  })
  await stopped
  await store.appendToStreams(one(streamName(), 'any'))
  await new Promise((resolve) => setTimeout(resolve, 20))
  t.equal(calls, 1)
  t.same(
    errors.map((error) => error.message),
    ['projection broke'],
  )
})

t.test('an expected last hash that the stream does not end with is a conflict', async (t) => {
  const store = openSqliteEventStore({ path: ':memory:' })
  t.teardown(() => store.close())
  const streamId = streamName()
  await store.appendToStreams(one(streamId, 'no_stream'))
  const [append] = one(streamId, 0)
  await t.rejects(
    store.appendToStreams([{ ...(append as StreamAppend), expectedLastHash: 'b'.repeat(64) }]),
    { name: 'ConcurrencyConflict', streamId, actualRevision: 0 },
  )
  const result = await store.appendToStreams([
    { ...(append as StreamAppend), expectedLastHash: 'a'.repeat(64) },
  ])
  t.same(result.nextRevisions, [1], 'the right hash holds')
})

t.test('an event whose data is not JSON fails alone, before it is queued', async (t) => {
  const store = openSqliteEventStore({ path: withFile(t) })
  t.teardown(() => store.close())
  const stream = streamName('not-json')
  const [append] = one(stream, 'no_stream')
  const event = append?.events[0]
  if (append === undefined || event === undefined) throw new Error('assertion failed: one event')
  const innocent = store.appendToStreams(one(streamName('innocent'), 'no_stream'))
  const withBigInt = [{ ...append, events: [{ ...event, data: { amountCents: 10n } }] }]
  await t.rejects(store.appendToStreams(withBigInt), TypeError)
  const withFunction = [{ ...append, events: [{ ...event, data: () => 1 }] }]
  await t.rejects(store.appendToStreams(withFunction), InvalidAppend, 'not a conflict to retry')
  t.same((await innocent).nextRevisions, [0], 'a call made with it commits')
  const result = await store.appendToStreams(one(stream, 'no_stream'))
  t.same(result.nextRevisions, [0])
  t.equal((await store.readStream(stream)).length, 1)
})

t.test('a file removed before the first append is refused, not made again empty', async (t) => {
  const dir = tempDir()
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const path = join(dir, 'data', 'ledger.db')
  const store = openSqliteEventStore({ path })
  t.teardown(() => store.close())
  rmSync(join(dir, 'data'), { recursive: true, force: true })
  await t.rejects(store.appendToStreams(one(streamName(), 'no_stream')), StoreUnavailable)
  t.notOk(existsSync(path), 'no new, empty log was created where reads would never look')
})

t.test('a batch that fails as a whole fails its calls, and the next batch commits', async (t) => {
  const path = withFile(t)
  const store = openSqliteEventStore({ path })
  t.teardown(() => store.close())
  await store.appendToStreams(one(streamName('before'), 'no_stream'))

  // A trigger whose table is gone makes every insert fail with an error that is no conflict.
  const other = new Database(path)
  other.exec(`
    CREATE TABLE doomed (x INTEGER);
    CREATE TRIGGER failing AFTER INSERT ON events BEGIN INSERT INTO doomed VALUES (1); END;
    DROP TABLE doomed;
  `)
  const failing = [streamName('a'), streamName('b')].map((stream) =>
    store.appendToStreams(one(stream, 'no_stream')),
  )
  for (const append of failing) await t.rejects(append, StoreUnavailable)

  other.exec('DROP TRIGGER failing')
  other.close()
  const after = streamName('after')
  t.same((await store.appendToStreams(one(after, 'no_stream'))).nextRevisions, [0])
  t.equal((await store.readStream(after)).length, 1)
})

t.test('readers of the tail get what the file holds, though it is kept in memory', async (t) => {
  const path = withFile(t)
  const [mine, theirs] = [openSqliteEventStore({ path }), openSqliteEventStore({ path })]
  t.teardown(async () => {
    await mine.close()
    await theirs.close()
  })
  const [programme, voucher] = [streamName('programme'), streamName()]
  const first = makeEvent('BonusGranted', { amountCents: 500, note: 'first' })
  const [second, third, fourth] = [makeEvent(), makeEvent(), makeEvent()]
  const call = (firstEvent: StreamAppend['events'][number]): StreamAppend[] => [
    { streamId: programme, expectedRevision: 'no_stream', events: [firstEvent, second] },
    { streamId: voucher, expectedRevision: 'no_stream', events: [third] },
    { streamId: programme, expectedRevision: 1, events: [fourth] },
  ]
  await mine.appendToStreams(call(first))
  const retried = { ...first, data: { amountCents: 999, note: 'changed on the retry' } }
  const retry = await mine.appendToStreams(call(retried))
  t.equal(retry.position, 4, 'recognised as written before, not written again')
  await t.rejects(mine.appendToStreams(one(voucher, 'no_stream')), ConcurrencyConflict)
  await theirs.appendToStreams(one(programme, 2))
  await Promise.all([mine.appendToStreams(one(voucher, 0)), mine.appendToStreams(one(voucher, 1))])

  const reader = openSqliteEventStore({ path, fileMustExist: true })
  t.teardown(() => reader.close())
  const fromFile = await reader.readAll(0, 100)
  t.same(
    fromFile.map((event) => [event.position, event.streamId === programme, event.revision]),
    [
      [1, true, 0],
      [2, true, 1],
      [3, false, 0],
      [4, true, 2],
      [5, true, 3],
      [6, false, 1],
      [7, false, 2],
    ],
  )
  for (const after of [0, 1, 3, 4, 5, 6]) {
    t.same(await mine.readAll(after, 100), fromFile.slice(after), `after ${after}`)
    t.same(await mine.readAll(after, 1), fromFile.slice(after, after + 1), `one after ${after}`)
  }
  t.same((await mine.readAll(0, 100))[0]?.data, first.data, 'the first text, not the retry')

  await theirs.appendToStreams(one(voucher, 2, 3))
  const longer = await reader.readAll(0, 100)
  t.equal(longer.length, 10, 'their events after the last I kept')
  for (const after of [0, 5, 6]) {
    t.same(await mine.readAll(after, 100), longer.slice(after), `after ${after}, to the end`)
  }
  t.same(await mine.readAll(5, 3), longer.slice(5, 8), 'a page that ends in their events')
  await t.rejects(reader.readAll(5, 2.5), StoreUnavailable, 'SQLite refuses a limit of 2.5')
  await t.rejects(mine.readAll(5, 2.5), StoreUnavailable, 'and so does the store that kept them')

  const seen: RecordedEvent[] = []
  const subscription = mine.subscribeToAll(0, { onEvents: (events) => void seen.push(...events) })
  for (let waited = 0; seen.length < longer.length && waited < 2_000; waited += 20) {
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  await subscription.stop()
  t.same(seen, longer, 'the subscription delivers the same events')
})

t.test('an event read back soon after its commit is the one committed', async (t) => {
  const path = withFile(t)
  const store = openSqliteEventStore({ path })
  t.teardown(() => store.close())
  const event = makeEvent('VoucherIssued', { amountCents: 2_500 })
  await store.appendToStreams([
    { streamId: streamName(), expectedRevision: 'no_stream', events: [event] },
  ])
  const other = new Database(path)
  other.prepare('UPDATE events SET data = ? WHERE position = 1').run('{"amountCents":1}')
  other.close()
  t.same((await store.readAll(0, 10))[0]?.data, event.data, 'kept in memory since its commit')
  const reader = openSqliteEventStore({ path, fileMustExist: true })
  t.teardown(() => reader.close())
  t.same(
    (await reader.readAll(0, 10))[0]?.data,
    { amountCents: 1 },
    'another reader reads the file',
  )
})
