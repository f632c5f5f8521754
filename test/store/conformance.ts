import 'tap'
import { randomUUID } from 'node:crypto'
import {
  ConcurrencyConflict,
  type EventMetadata,
  type EventStore,
  type EventToAppend,
  type ExpectedRevision,
  type RecordedEvent,
  type StreamAppend,
} from '../../src/store/port'

/**
 * The event store contract, written once and run against every adapter (SQLite on a temporary
 * file, KurrentDB in a container). Each test uses fresh stream names and reads the log only
 * after the head it found, so the suite also runs against a store that already holds events.
 */

/** A store opened for one test, and how to release it (close, remove files, stop a client). */
export interface StoreUnderTest {
  readonly store: EventStore
  readonly cleanup: () => Promise<void>
}

/** Opens a fresh store for each test of the suite. */
export type MakeStore = () => Promise<StoreUnderTest>

/** How long a test waits for a subscription to deliver what it expects. */
const deliveryWaitMs = 5_000

const metadataOf = (): EventMetadata => ({
  occurredAt: '2025-03-01T09:00:00.000Z',
  recordedAt: '2025-03-01T09:00:00.123Z',
  commandId: randomUUID(),
  causationId: randomUUID(),
  correlationId: randomUUID(),
  actor: 'operator:conformance',
  schemaVersion: 1,
  hash: 'a'.repeat(64),
  previousHash: '0'.repeat(64),
})

/** An event with a fresh id, as the command handler would build it. */
export const makeEvent = (type = 'VoucherIssued', data: unknown = { amountCents: 2_500 }) =>
  ({ eventId: randomUUID(), type, data, metadata: metadataOf() }) satisfies EventToAppend

export const streamName = (category = 'voucher'): string => `${category}-${randomUUID()}`

const append = (
  streamId: string,
  expectedRevision: ExpectedRevision,
  events: readonly EventToAppend[],
): StreamAppend => ({ streamId, expectedRevision, events })

/** Runs `body` on a fresh store and always cleans up, whatever the test does. */
const withStore =
  (makeStore: MakeStore, body: (t: tap.Test, store: EventStore) => Promise<void>) =>
  async (t: tap.Test): Promise<void> => {
    const { store, cleanup } = await makeStore()
    t.teardown(cleanup)
    await body(t, store)
  }

const rejectsWithConflict = async (
  t: tap.Test,
  attempt: Promise<unknown>,
  expected: { streamId: string; expectedRevision: ExpectedRevision; actual: number | 'no_stream' },
): Promise<void> => {
  const error = await attempt.then(
    () => undefined,
    (e: unknown) => e,
  )
  t.ok(error instanceof ConcurrencyConflict, 'rejects with ConcurrencyConflict')
  const conflict = error as ConcurrencyConflict
  t.equal(conflict.streamId, expected.streamId, 'names the stream')
  t.equal(conflict.expectedRevision, expected.expectedRevision, 'says what was expected')
  t.equal(conflict.actualRevision, expected.actual, 'says what was found')
}

/** Whether each number is greater than the one before. */
export const isGrowing = (numbers: readonly number[]): boolean =>
  numbers.every((value, index) => index === 0 || value > (numbers[index - 1] as number))

/** Reads everything after `after` by pages of `pageSize`, keeping the given streams only. */
const readAllPaged = async (
  store: EventStore,
  after: number,
  pageSize: number,
  streams: ReadonlySet<string>,
): Promise<RecordedEvent[]> => {
  const found: RecordedEvent[] = []
  let position = after
  for (;;) {
    const page = await store.readAll(position, pageSize)
    if (page.length === 0) return found
    for (const event of page) if (streams.has(event.streamId)) found.push(event)
    position = (page[page.length - 1] as RecordedEvent).position
  }
}

/** The whole contract, as subtests of `t` named after `label`. */
export const runEventStoreConformance = (t: tap.Test, label: string, makeStore: MakeStore) => {
  t.test(`${label}: append and read back`, withStore(makeStore, appendAndReadBack))
  t.test(`${label}: revisions from 0, positions grow`, withStore(makeStore, revisionsAndPositions))
  t.test(`${label}: expected revision no_stream`, withStore(makeStore, expectNoStream))
  t.test(`${label}: expected revision stream_exists`, withStore(makeStore, expectStreamExists))
  t.test(`${label}: expected revision any`, withStore(makeStore, expectAny))
  t.test(`${label}: expected revision as a number`, withStore(makeStore, expectNumber))
  t.test(`${label}: zero events only check`, withStore(makeStore, zeroEventsOnlyCheck))
  t.test(`${label}: multi-stream atomicity`, withStore(makeStore, multiStreamAtomicity))
  t.test(`${label}: concurrent appends, one winner`, withStore(makeStore, concurrentOneWinner))
  t.test(`${label}: retried append recognised`, withStore(makeStore, retriedAppend))
  t.test(`${label}: readAll paging`, withStore(makeStore, readAllPaging))
  t.test(`${label}: catch-up subscription`, withStore(makeStore, catchUpSubscription))
  t.test(`${label}: head position`, withStore(makeStore, headPosition))
}

const appendAndReadBack = async (t: tap.Test, store: EventStore) => {
  const stream = streamName()
  const events = [makeEvent('VoucherIssued', { amountCents: 1_000, note: 'é€' }), makeEvent()]
  await store.appendToStreams([append(stream, 'no_stream', events)])
  const read = await store.readStream(stream)
  t.equal(read.length, 2)
  read.forEach((recorded, index) => {
    const sent = events[index] as EventToAppend
    t.equal(recorded.streamId, stream)
    t.equal(recorded.eventId, sent.eventId)
    t.equal(recorded.type, sent.type)
    t.same(recorded.data, sent.data)
    t.same(recorded.metadata, sent.metadata)
  })
  t.same(await store.readStream(streamName()), [], 'a missing stream reads empty')
  t.equal((await store.readStream(stream, 1)).length, 1, 'reads from a revision')
}

const revisionsAndPositions = async (t: tap.Test, store: EventStore) => {
  const [a, b] = [streamName(), streamName('merchant')]
  const first = await store.appendToStreams([
    append(a, 'no_stream', [makeEvent(), makeEvent(), makeEvent()]),
    append(b, 'no_stream', [makeEvent()]),
  ])
  t.same(first.nextRevisions, [2, 0])
  const second = await store.appendToStreams([append(a, 2, [makeEvent()])])
  t.same(second.nextRevisions, [3])
  t.ok(second.position > first.position, 'a later call has a later position')
  const read = [...(await store.readStream(a)), ...(await store.readStream(b))]
  t.same(
    read.map((event) => event.revision),
    [0, 1, 2, 3, 0],
  )
  const positions = read.slice(0, 4).map((event) => event.position)
  t.ok(isGrowing(positions), 'positions grow within a stream')
  const last = (await store.readStream(b))[0] as RecordedEvent
  t.equal(first.position, last.position, 'the result names the position of the last event')
  t.equal(second.position, positions[3])
}

const expectNoStream = async (t: tap.Test, store: EventStore) => {
  const stream = streamName()
  const created = await store.appendToStreams([append(stream, 'no_stream', [makeEvent()])])
  t.same(created.nextRevisions, [0])
  const again = store.appendToStreams([append(stream, 'no_stream', [makeEvent()])])
  const found = { streamId: stream, expectedRevision: 'no_stream' as const, actual: 0 }
  await rejectsWithConflict(t, again, found)
}

const expectStreamExists = async (t: tap.Test, store: EventStore) => {
  const stream = streamName()
  await rejectsWithConflict(
    t,
    store.appendToStreams([append(stream, 'stream_exists', [makeEvent()])]),
    { streamId: stream, expectedRevision: 'stream_exists', actual: 'no_stream' },
  )
  await store.appendToStreams([append(stream, 'any', [makeEvent()])])
  const result = await store.appendToStreams([append(stream, 'stream_exists', [makeEvent()])])
  t.same(result.nextRevisions, [1])
}

const expectAny = async (t: tap.Test, store: EventStore) => {
  const stream = streamName()
  t.same((await store.appendToStreams([append(stream, 'any', [makeEvent()])])).nextRevisions, [0])
  t.same((await store.appendToStreams([append(stream, 'any', [makeEvent()])])).nextRevisions, [1])
}

const expectNumber = async (t: tap.Test, store: EventStore) => {
  const stream = streamName()
  await rejectsWithConflict(t, store.appendToStreams([append(stream, 0, [makeEvent()])]), {
    streamId: stream,
    expectedRevision: 0,
    actual: 'no_stream',
  })
  await store.appendToStreams([append(stream, 'no_stream', [makeEvent(), makeEvent()])])
  t.same((await store.appendToStreams([append(stream, 1, [makeEvent()])])).nextRevisions, [2])
  await rejectsWithConflict(t, store.appendToStreams([append(stream, 1, [makeEvent()])]), {
    streamId: stream,
    expectedRevision: 1,
    actual: 2,
  })
  await rejectsWithConflict(t, store.appendToStreams([append(stream, 7, [makeEvent()])]), {
    streamId: stream,
    expectedRevision: 7,
    actual: 2,
  })
}

const zeroEventsOnlyCheck = async (t: tap.Test, store: EventStore) => {
  const stream = streamName()
  const head = await store.headPosition()
  const missing = await store.appendToStreams([append(stream, 'no_stream', [])])
  t.same(missing.nextRevisions, [-1], 'a missing stream reports revision -1')
  await rejectsWithConflict(t, store.appendToStreams([append(stream, 'stream_exists', [])]), {
    streamId: stream,
    expectedRevision: 'stream_exists',
    actual: 'no_stream',
  })
  t.equal(await store.headPosition(), head, 'checking writes nothing')
  await store.appendToStreams([append(stream, 'no_stream', [makeEvent()])])
  t.same((await store.appendToStreams([append(stream, 0, [])])).nextRevisions, [0])
  await rejectsWithConflict(t, store.appendToStreams([append(stream, 3, [])]), {
    streamId: stream,
    expectedRevision: 3,
    actual: 0,
  })
}

const multiStreamAtomicity = async (t: tap.Test, store: EventStore) => {
  const [budget, voucher, other] = [streamName('programme'), streamName(), streamName()]
  await store.appendToStreams([append(other, 'no_stream', [makeEvent()])])
  const head = await store.headPosition()
  await rejectsWithConflict(
    t,
    store.appendToStreams([
      append(budget, 'no_stream', [makeEvent(), makeEvent()]),
      append(voucher, 'no_stream', [makeEvent()]),
      append(other, 'no_stream', [makeEvent()]),
    ]),
    { streamId: other, expectedRevision: 'no_stream', actual: 0 },
  )
  t.same(await store.readStream(budget), [], 'the first stream received nothing')
  t.same(await store.readStream(voucher), [], 'the second stream received nothing')
  t.equal(await store.headPosition(), head, 'the log did not move')
  const result = await store.appendToStreams([
    append(budget, 'no_stream', [makeEvent()]),
    append(voucher, 'no_stream', [makeEvent()]),
  ])
  t.same(result.nextRevisions, [0, 0], 'the same call without the conflict lands')
}

const concurrentOneWinner = async (t: tap.Test, store: EventStore) => {
  const stream = streamName('programme')
  await store.appendToStreams([append(stream, 'no_stream', [makeEvent()])])
  const contenders = Array.from({ length: 6 }, () =>
    store.appendToStreams([append(stream, 0, [makeEvent('BudgetReserved')])]),
  )
  const settled = await Promise.allSettled(contenders)
  const won = settled.filter((outcome) => outcome.status === 'fulfilled')
  const lost = settled.filter((outcome) => outcome.status === 'rejected')
  t.equal(won.length, 1, 'exactly one wins')
  t.ok(
    lost.every((outcome) => outcome.reason instanceof ConcurrencyConflict),
    'the others conflict',
  )
  t.equal((await store.readStream(stream)).length, 2)
}

const retriedAppend = async (t: tap.Test, store: EventStore) => {
  const [budget, voucher] = [streamName('programme'), streamName()]
  await store.appendToStreams([append(budget, 'no_stream', [makeEvent()])])
  const call = [
    append(budget, 0, [makeEvent('BudgetReserved')]),
    append(voucher, 'no_stream', [makeEvent(), makeEvent()]),
  ]
  const original = await store.appendToStreams(call)
  const head = await store.headPosition()
  const retried = await store.appendToStreams(call)
  t.same(retried, original, 'the retry resolves with the original result')
  t.equal(await store.headPosition(), head, 'the retry wrote nothing')
  await store.appendToStreams([append(budget, 1, [makeEvent()])])
  t.same(await store.appendToStreams(call), original, 'still recognised after the stream moved')
  t.equal((await store.readStream(budget)).length, 3)
  t.equal((await store.readStream(voucher)).length, 2)
}

const readAllPaging = async (t: tap.Test, store: EventStore) => {
  const streams = [streamName(), streamName('merchant'), streamName('payout')]
  const head = await store.headPosition()
  for (let round = 0; round < 5; round += 1) {
    await store.appendToStreams(
      streams.map((stream) => append(stream, 'any', [makeEvent(), makeEvent()])),
    )
  }
  const paged = await readAllPaged(store, head, 7, new Set(streams))
  t.equal(paged.length, 30, 'every event once')
  t.ok(isGrowing(paged.map((event) => event.position)), 'in log order')
  const whole = await readAllPaged(store, head, 1_000, new Set(streams))
  t.same(
    paged.map((event) => event.eventId),
    whole.map((event) => event.eventId),
    'paging does not change what is read',
  )
  t.same(await store.readAll(await store.headPosition(), 10), [], 'nothing after the head')
  t.same(await store.readAll(head, 0), [], 'a limit of 0 reads nothing')
}

const catchUpSubscription = async (t: tap.Test, store: EventStore) => {
  const stream = streamName()
  const head = await store.headPosition()
  const history = [makeEvent(), makeEvent(), makeEvent()]
  await store.appendToStreams([append(stream, 'no_stream', history)])
  const delivered: RecordedEvent[] = []
  let resolveDone: () => void = () => undefined
  const done = new Promise<void>((resolve) => (resolveDone = resolve))
  const subscription = store.subscribeToAll(head, {
    onEvents: (events) => {
      delivered.push(...events.filter((event) => event.streamId === stream))
      if (delivered.length >= 5) resolveDone()
    },
    onError: (error) => t.fail(`subscription failed: ${error.message}`),
  })
  await store.appendToStreams([append(stream, 2, [makeEvent()])])
  await store.appendToStreams([append(stream, 3, [makeEvent()])])
  const timer = setTimeout(resolveDone, deliveryWaitMs)
  await done
  clearTimeout(timer)
  await subscription.stop()
  t.same(
    delivered.map((event) => event.revision),
    [0, 1, 2, 3, 4],
    'history then live events, in order, once each',
  )
}

const headPosition = async (t: tap.Test, store: EventStore) => {
  const before = await store.headPosition()
  t.ok(before >= 0)
  const result = await store.appendToStreams([append(streamName(), 'no_stream', [makeEvent()])])
  t.equal(await store.headPosition(), result.position, 'the head is the last event appended')
  t.ok(result.position > before)
}
