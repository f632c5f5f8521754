import t from 'tap'
import pino from 'pino'
import { openKurrentDbEventStore } from '../../src/store/kurrentdb'
import { StoreUnavailable, type StreamAppend } from '../../src/store/port'
import { makeEvent, streamName } from './conformance'

/**
 * The KurrentDB adapter with no server behind it (a closed local port), which these machines
 * can run: every call fails fast with the port's StoreUnavailable, a subscription keeps trying
 * and stops when told, and a closed store refuses work.
 */

const closedPortUrl = 'kurrentdb://127.0.0.1:1?tls=false'

/** A refused connection answers in milliseconds; this only bounds a regression that hangs. */
const failFastMsMax = 5_000

const logger = pino({ enabled: false })

t.test('every call fails fast with StoreUnavailable', async (t) => {
  const store = openKurrentDbEventStore(closedPortUrl, logger)
  t.teardown(() => store.close())
  const append: StreamAppend = {
    streamId: streamName(),
    expectedRevision: 'no_stream',
    events: [makeEvent()],
  }
  const calls: [string, () => Promise<unknown>][] = [
    ['append', () => store.appendToStreams([append])],
    ['readStream', () => store.readStream(streamName())],
    ['readAll', () => store.readAll(0, 10)],
    ['headPosition', () => store.headPosition()],
  ]
  for (const [operation, call] of calls) {
    const startedMs = Date.now()
    const error = await call().then(
      () => undefined,
      (e: unknown) => e,
    )
    t.ok(error instanceof StoreUnavailable, `${operation} is unavailable`)
    t.equal((error as StoreUnavailable).operation, operation)
    t.ok(Date.now() - startedMs < failFastMsMax, `${operation} does not hang`)
  }
})

t.test('a subscription keeps reconnecting, and stops when told', async (t) => {
  const store = openKurrentDbEventStore(closedPortUrl, logger)
  t.teardown(() => store.close())
  const errors: Error[] = []
  const subscription = store.subscribeToAll(0, {
    onEvents: () => void t.fail('no server, no events'),
    onError: (error) => errors.push(error),
  })
  await new Promise((resolve) => setTimeout(resolve, 300))
  await subscription.stop()
  t.same(errors, [], 'an unreachable server is not reported as the end of the subscription')
})

t.test('a closed store refuses work', async (t) => {
  const store = openKurrentDbEventStore(closedPortUrl, logger)
  await store.close()
  await t.rejects(store.readAll(0, 1), StoreUnavailable)
  await t.rejects(store.appendToStreams([]), StoreUnavailable)
  t.throws(() => store.subscribeToAll(0, { onEvents: () => undefined }), StoreUnavailable)
})
