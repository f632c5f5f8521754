import t from 'tap'
import {
  ANY,
  AccessDeniedError,
  NO_STREAM,
  START,
  STREAM_EXISTS,
  StreamNotFoundError,
  UnavailableError,
  UnsupportedError,
  WrongExpectedVersionError,
} from '@kurrent/kurrentdb-client'
import { kurrentReconnectDelayMsMax, kurrentReconnectDelayMsMin } from '../../src/limits'
import { InvalidAppend } from '../../src/store/expectation'
import {
  PositionOutOfRange,
  fromKurrentCurrent,
  fromKurrentEvent,
  fromKurrentState,
  fromRecordedMetadata,
  isLedgerStream,
  isStreamNotFound,
  isTransient,
  isUnsupported,
  ledgerFilter,
  ledgerMetadataProperty,
  maskConnectionString,
  planAppend,
  reconnectDelayMs,
  toAppendRequests,
  toConcurrencyConflict,
  toEventData,
  toKurrentState,
  toPortPosition,
  toReadPosition,
  toSafeRevision,
  toStoreError,
  withDefaultDeadline,
} from '../../src/store/kurrentdb-mapping'
import {
  ConcurrencyConflict,
  StoreCorrupted,
  StoreUnavailable,
  type ExpectedRevision,
  type StreamAppend,
} from '../../src/store/port'
import { makeEvent } from './conformance'

const maxSafe = BigInt(Number.MAX_SAFE_INTEGER)

const fieldsOf = (conflict: ConcurrencyConflict) => [
  conflict.streamId,
  conflict.expectedRevision,
  conflict.actualRevision,
]

t.test('expected revisions map both ways', async (t) => {
  const cases: [ExpectedRevision, unknown][] = [
    ['no_stream', NO_STREAM],
    ['any', ANY],
    ['stream_exists', STREAM_EXISTS],
    [0, 0n],
    [41, 41n],
  ]
  for (const [port, kurrent] of cases) {
    t.equal(toKurrentState(port), kurrent, `${String(port)} to the client`)
    t.equal(fromKurrentState(toKurrentState(port)), port, `${String(port)} back`)
  }
  t.throws(() => fromKurrentState('sometimes'), RangeError)
})

t.test('revisions from the server are safe integers or refused', async (t) => {
  t.equal(toSafeRevision(0n), 0)
  t.equal(toSafeRevision(maxSafe), Number.MAX_SAFE_INTEGER)
  t.throws(() => toSafeRevision(maxSafe + 1n), RangeError)
  t.throws(() => toSafeRevision(-1n), RangeError)
  t.equal(fromKurrentCurrent(7n), 7)
  t.equal(fromKurrentCurrent('no_stream'), 'no_stream')
  t.equal(fromKurrentCurrent(-1n), 'no_stream', 'a negative revision is no stream')
  t.equal(fromKurrentCurrent(undefined), 'no_stream')
})

t.test('positions become safe integers or a tagged error, never a rounded number', async (t) => {
  t.equal(toPortPosition({ commit: 1_234n, prepare: 1_234n }), 1_234)
  t.equal(toPortPosition({ commit: maxSafe, prepare: maxSafe }), Number.MAX_SAFE_INTEGER)
  const cases = [
    { commit: maxSafe + 1n, prepare: maxSafe + 1n },
    { commit: 100n, prepare: 164n },
    undefined,
  ]
  for (const position of cases) {
    const error = t.throws(() => toPortPosition(position)) as PositionOutOfRange
    t.equal(error._tag, 'PositionOutOfRange')
  }
  t.equal(toReadPosition(0), START, 'reading after 0 reads from the start')
  t.same(toReadPosition(5_000), { commit: 5_000n, prepare: 5_000n })
})

t.test('events carry the ledger metadata as one string property', async (t) => {
  const event = makeEvent('VoucherRedeemed', { amountCents: 1_250 })
  const data = toEventData(event)
  t.equal(data.id, event.eventId)
  t.equal(data.type, 'VoucherRedeemed')
  t.equal(data.contentType, 'application/json')
  t.same(data.data, { amountCents: 1_250 })
  const metadata = data.metadata as Record<string, unknown>
  t.same(Object.keys(metadata), [ledgerMetadataProperty])
  t.same(fromRecordedMetadata(metadata, 1), event.metadata, 'parsed back as it was')
  t.same(fromRecordedMetadata(event.metadata, 1), event.metadata, 'plain metadata is read too')
  t.throws(() => fromRecordedMetadata({ other: 'x' }, 9), StoreCorrupted)
  t.throws(() => fromRecordedMetadata(new Uint8Array([1]), 9), StoreCorrupted)
  t.throws(() => fromRecordedMetadata(undefined, 9), StoreCorrupted)
})

t.test('a call splits into writes and zero-event checks', async (t) => {
  const appends: StreamAppend[] = [
    { streamId: 'programme-P1', expectedRevision: 4, events: [makeEvent()] },
    { streamId: 'idempotency-abc', expectedRevision: 'no_stream', events: [] },
    { streamId: 'voucher-V1', expectedRevision: 'no_stream', events: [makeEvent(), makeEvent()] },
  ]
  const plan = planAppend(appends)
  t.same(
    plan.writes.map((append) => append.streamId),
    ['programme-P1', 'voucher-V1'],
  )
  t.same(
    plan.checks.map((append) => append.streamId),
    ['idempotency-abc'],
  )
  const requests = toAppendRequests(appends)
  t.same(
    requests.map((request) => [request.streamName, request.expectedState, request.events.length]),
    [
      ['programme-P1', 4n, 1],
      ['voucher-V1', NO_STREAM, 2],
    ],
  )
  const twice = [appends[0] as StreamAppend, appends[0] as StreamAppend]
  t.throws(() => planAppend(twice), InvalidAppend)
})

t.test('server events become port events; other streams are not the ledger', async (t) => {
  const sent = makeEvent()
  const recorded = {
    streamId: 'voucher-V1',
    id: sent.eventId,
    isJson: true as const,
    revision: 3n,
    type: sent.type,
    created: new Date(),
    data: sent.data as Record<string, unknown>,
    metadata: toEventData(sent).metadata,
    position: { commit: 900n, prepare: 900n },
  }
  t.same(fromKurrentEvent(recorded), {
    position: 900,
    streamId: 'voucher-V1',
    revision: 3,
    eventId: sent.eventId,
    type: sent.type,
    data: sent.data,
    metadata: sent.metadata,
  })
  t.equal(fromKurrentEvent(undefined), undefined)
  t.equal(fromKurrentEvent({ ...recorded, streamId: '$stats-127.0.0.1:2113' }), undefined)
  t.throws(() => fromKurrentEvent({ ...recorded, isJson: false } as never), StoreCorrupted)
})

t.test('the ledger categories, and nothing else, are read from $all', async (t) => {
  for (const stream of ['programme-P1', 'payouts-ledger', 'seal-ledger', 'stock-M1/sku']) {
    t.ok(isLedgerStream(stream), stream)
  }
  for (const stream of ['$ce-programme', 'programme', 'shop-1', '$$programme-P1']) {
    t.notOk(isLedgerStream(stream), stream)
  }
  const filter = ledgerFilter() as { prefixes: string[]; filterOn: string }
  t.equal(filter.filterOn, 'streamName')
  t.ok(filter.prefixes.includes('programme-') && filter.prefixes.includes('payouts-'))
  t.notOk(filter.prefixes.some((prefix) => prefix.startsWith('$')))
})

t.test('a wrong expected version is the port conflict, with its context', async (t) => {
  const appends: StreamAppend[] = [
    { streamId: 'programme-P1', expectedRevision: 4, events: [makeEvent()] },
    { streamId: 'voucher-V1', expectedRevision: 'no_stream', events: [makeEvent()] },
  ]
  const wrong = new WrongExpectedVersionError(undefined, {
    streamName: 'programme-P1',
    expected: 4n,
    current: 6n,
  })
  const conflict = toConcurrencyConflict(wrong, appends) as ConcurrencyConflict
  t.ok(conflict instanceof ConcurrencyConflict)
  t.same(fieldsOf(conflict), ['programme-P1', 4, 6])
  const missing = new WrongExpectedVersionError(undefined, {
    streamName: 'programme-P2',
    expected: STREAM_EXISTS,
    current: 'no_stream',
  })
  const other = toConcurrencyConflict(missing, appends) as ConcurrencyConflict
  t.same(fieldsOf(other), ['programme-P2', 'stream_exists', 'no_stream'])
  const violation = {
    type: 'append-consistency-violation',
    violations: [{ streamName: 'voucher-V1', expectedState: NO_STREAM, actualState: 0n }],
  }
  const fromCheck = toConcurrencyConflict(violation, appends) as ConcurrencyConflict
  t.same(fieldsOf(fromCheck), ['voucher-V1', 'no_stream', 0])
  t.equal(toConcurrencyConflict(new Error('boom'), appends), undefined)
  t.equal(toConcurrencyConflict('boom', appends), undefined)
})

t.test('other failures are the store being unavailable; port errors pass through', async (t) => {
  const unavailable = toStoreError(new UnavailableError(undefined as never), 'append')
  t.ok(unavailable instanceof StoreUnavailable)
  t.equal((unavailable as StoreUnavailable).operation, 'append')
  const conflict = new ConcurrencyConflict('s', 1, 2)
  t.equal(toStoreError(conflict, 'append'), conflict)
  const corrupted = new StoreCorrupted(3, 'x')
  t.equal(toStoreError(corrupted, 'readAll'), corrupted)
  const invalid = new InvalidAppend('s', 'x')
  t.equal(toStoreError(invalid, 'append'), invalid)
})

t.test('which failures a subscription reconnects after', async (t) => {
  t.ok(isTransient(new UnavailableError(undefined as never)))
  t.ok(isTransient(new Error('socket hang up')))
  t.notOk(isTransient(new AccessDeniedError(undefined as never)))
  t.notOk(isTransient(new PositionOutOfRange(1n, 2n, 'x')))
  t.notOk(isTransient(new StoreCorrupted(1, 'x')))
  t.ok(isStreamNotFound(new StreamNotFoundError(undefined as never, 'voucher-V1')))
  t.notOk(isStreamNotFound(new Error('x')))
  t.ok(isUnsupported(new UnsupportedError('appendRecords', '26.1')))
  t.notOk(isUnsupported(undefined))
})

t.test('reconnection delays double up to the maximum, half of them random', async (t) => {
  t.equal(reconnectDelayMs(0, () => 0), kurrentReconnectDelayMsMin / 2)
  t.equal(reconnectDelayMs(0, () => 1), kurrentReconnectDelayMsMin)
  t.equal(reconnectDelayMs(3, () => 1), kurrentReconnectDelayMsMin * 8)
  t.equal(reconnectDelayMs(60, () => 1), kurrentReconnectDelayMsMax)
  t.equal(reconnectDelayMs(60, () => 0), kurrentReconnectDelayMsMax / 2)
})

t.test('connection strings get a deadline and lose their password in logs', async (t) => {
  t.equal(
    withDefaultDeadline('kurrentdb://node1:2113?tls=false', 10_000),
    'kurrentdb://node1:2113?tls=false&defaultDeadline=10000',
  )
  const single = 'esdb://localhost:2113'
  t.equal(withDefaultDeadline(single, 500), `${single}?defaultDeadline=500`)
  const explicit = 'kurrentdb://localhost:2113?DefaultDeadline=42'
  t.equal(withDefaultDeadline(explicit, 500), explicit, 'an explicit deadline wins')
  t.equal(
    maskConnectionString('kurrentdb://admin:changeit@node1:2113,node2:2113?tls=true'),
    'kurrentdb://admin:***@node1:2113,node2:2113?tls=true',
  )
  t.equal(maskConnectionString('kurrentdb://node1:2113'), 'kurrentdb://node1:2113')
})
