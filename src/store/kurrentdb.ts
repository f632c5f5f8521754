import {
  BACKWARDS,
  END,
  KurrentDBClient,
  STREAM_STATE,
  type AllStreamSubscription,
  type ConsistencyCheck,
  type MultiAppendResult,
} from '@kurrent/kurrentdb-client'
import type { Logger } from 'pino'
import { kurrentAppendDeadlineMs, kurrentReadDeadlineMs } from '../limits'
import {
  assertValidAppends,
  checkExpectation,
  revisionWhenHolds,
  type CurrentRevision,
} from './expectation'
import {
  fromKurrentEvent,
  isStreamNotFound,
  isTransient,
  isUnsupported,
  ledgerFilter,
  maskConnectionString,
  planAppend,
  reconnectDelayMs,
  toAppendRequests,
  toEventData,
  toKurrentState,
  toPortPosition,
  toReadPosition,
  toSafeRevision,
  toStoreError,
  withDefaultDeadline,
  type AppendPlan,
} from './kurrentdb-mapping'
import {
  ConcurrencyConflict,
  StoreUnavailable,
  type AppendResult,
  type EventStore,
  type RecordedEvent,
  type StreamAppend,
  type Subscription,
  type SubscriptionHandler,
} from './port'

/**
 * The distributed event store: a KurrentDB (EventStoreDB) cluster through its official client.
 * A call's streams are written by one multi-stream append (server 25.1 or later), which the
 * server commits atomically; see docs/cluster.md for the cases that need more than that.
 */

/** Opens a client on the connection string; the client connects on first use. */
export const openKurrentDbEventStore = (
  connectionString: string,
  logger: Logger,
): KurrentDbEventStore => new KurrentDbEventStore(connectionString, logger)

/**
 * Drains a server read into an array within a deadline, as port errors. Reads go through the
 * client's native bridge, which takes no deadline of its own, so the adapter keeps the clock.
 * A stream that does not exist reads as empty, as the port says.
 */
const collect = async <T>(iterable: AsyncIterableIterator<T>, operation: string): Promise<T[]> => {
  let timer: NodeJS.Timeout | undefined
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new StoreUnavailable(operation, `no answer within ${kurrentReadDeadlineMs} ms`))
    }, kurrentReadDeadlineMs)
  })
  const drain = (async () => {
    const items: T[] = []
    for await (const item of iterable) items.push(item)
    return items
  })()
  drain.catch(() => undefined)
  try {
    return await Promise.race([drain, expired])
  } catch (error) {
    void iterable.return?.()
    if (isStreamNotFound(error)) return []
    throw toStoreError(error, operation)
  } finally {
    clearTimeout(timer)
  }
}

/** The adapter of the port over KurrentDB. */
export class KurrentDbEventStore implements EventStore {
  private readonly client: KurrentDBClient
  private readonly logger: Logger
  private readonly subscriptions = new Set<KurrentSubscription>()
  private appendRecordsSupported = true
  private closed = false

  constructor(connectionString: string, logger: Logger) {
    this.logger = logger.child({ name: 'store.kurrentdb' })
    this.client = KurrentDBClient.connectionString(
      withDefaultDeadline(connectionString, kurrentAppendDeadlineMs),
    )
    this.logger.info({ connection: maskConnectionString(connectionString) }, 'event store opened')
  }

  async appendToStreams(appends: readonly StreamAppend[]): Promise<AppendResult> {
    this.assertOpen('append')
    assertValidAppends(appends)
    const plan = planAppend(appends)
    try {
      const currents = await this.checkByReading(plan.checks)
      if (plan.writes.length === 0) {
        const nextRevisions = appends.map((append) => currents.get(append.streamId) ?? -1)
        return { position: await this.headPosition(), nextRevisions }
      }
      const written = await this.write(plan)
      return await this.resultOf(appends, plan, written, currents)
    } catch (error) {
      const mapped = toStoreError(error, 'append', appends)
      if (!(mapped instanceof ConcurrencyConflict)) throw mapped
      const retried = await this.recogniseRetry(appends)
      if (retried === undefined) throw mapped
      return retried
    }
  }

  /** The port's result: each stream's revision, and the position of the call's last event. */
  private async resultOf(
    appends: readonly StreamAppend[],
    plan: AppendPlan,
    written: MultiAppendResult,
    currents: ReadonlyMap<string, number>,
  ): Promise<AppendResult> {
    const revisions = new Map(written.responses.map((r) => [r.streamName, r.revision]))
    const nextRevisions = appends.map(({ streamId }) => {
      const revision = revisions.get(streamId)
      return revision === undefined ? (currents.get(streamId) ?? -1) : toSafeRevision(revision)
    })
    const last = plan.writes[plan.writes.length - 1] as StreamAppend
    const lastRevision = nextRevisions[appends.indexOf(last)] as number
    const position = await this.positionOf(last.streamId, lastRevision, written)
    return { position, nextRevisions }
  }

  /**
   * Streams named with no events only have their expectation checked, by reading them: the
   * multi-stream append refuses a stream without records. Returns each one's revision.
   */
  private async checkByReading(checks: readonly StreamAppend[]): Promise<Map<string, number>> {
    const currents = new Map<string, number>()
    for (const { streamId, expectedRevision } of checks) {
      const current = await this.lastRevision(streamId)
      checkExpectation(streamId, expectedRevision, current)
      currents.set(streamId, current ?? -1)
    }
    return currents
  }

  /**
   * One atomic server write. With zero-event checks in the call, the records append (server
   * 26.1) evaluates every expectation in the same commit; an older server gets the
   * multi-stream append after the checks by reading, which leaves the window docs/cluster.md
   * describes.
   */
  private async write(plan: AppendPlan): Promise<MultiAppendResult> {
    if (plan.checks.length > 0 && this.appendRecordsSupported) {
      try {
        return await this.client.appendRecords(
          plan.writes.flatMap(({ streamId, events }) =>
            events.map((event) => ({ streamName: streamId, record: toEventData(event) })),
          ),
          [...plan.writes, ...plan.checks]
            .filter((append) => append.expectedRevision !== 'any')
            .map((append): ConsistencyCheck => ({
              type: STREAM_STATE,
              streamName: append.streamId,
              expectedState: toKurrentState(append.expectedRevision),
            })),
        )
      } catch (error) {
        if (!isUnsupported(error)) throw error
        this.appendRecordsSupported = false
        this.logger.warn({}, 'server without appendRecords: zero-event checks are read first')
      }
    }
    return this.client.multiStreamAppend(toAppendRequests(plan.writes))
  }

  /**
   * The position of the call's last event: the server answers with the position of the
   * transaction (its first event), and read-your-writes needs the last, so it is read back.
   */
  private async positionOf(
    streamId: string,
    revision: number,
    written: MultiAppendResult,
  ): Promise<number> {
    const [event] = await this.readStreamRaw(streamId, revision, 1)
    const position = event?.position
    if (position !== undefined) return position
    return toPortPosition({ commit: written.position, prepare: written.position })
  }

  /**
   * EventStoreDB recognises most retries itself; when it reports a conflict instead, the call
   * is a retry if every event is found in its stream where the call expected it.
   */
  private async recogniseRetry(
    appends: readonly StreamAppend[],
  ): Promise<AppendResult | undefined> {
    const nextRevisions: number[] = []
    let position = 0
    for (const { streamId, expectedRevision, events } of appends) {
      const before = revisionWhenHolds(expectedRevision)
      if (events.length === 0) {
        nextRevisions.push(before ?? (await this.lastRevision(streamId)) ?? -1)
        continue
      }
      if (before === undefined) return undefined
      const start = before + 1
      const found = await this.readStreamRaw(streamId, start, events.length)
      const same = found.every((event, index) => event.eventId === events[index]?.eventId)
      if (found.length !== events.length || !same) return undefined
      nextRevisions.push(start + events.length - 1)
      position = Math.max(position, ...found.map((event) => event.position))
    }
    return position === 0 ? undefined : { position, nextRevisions }
  }

  private async lastRevision(streamId: string): Promise<CurrentRevision> {
    const options = { direction: BACKWARDS, fromRevision: END, maxCount: 1 } as const
    const [last] = await collect(this.client.readStream(streamId, options), 'readStream')
    return last?.event === undefined ? undefined : toSafeRevision(last.event.revision)
  }

  private async readStreamRaw(
    streamId: string,
    fromRevision: number,
    maxCount?: number,
  ): Promise<RecordedEvent[]> {
    const options = { fromRevision: BigInt(fromRevision), ...(maxCount ? { maxCount } : {}) }
    const resolved = await collect(this.client.readStream(streamId, options), 'readStream')
    return resolved.flatMap((r) => fromKurrentEvent(r.event) ?? [])
  }

  async readStream(streamId: string, fromRevision = 0): Promise<readonly RecordedEvent[]> {
    this.assertOpen('readStream')
    return this.readStreamRaw(streamId, fromRevision)
  }

  async readAll(afterPosition: number, limit: number): Promise<readonly RecordedEvent[]> {
    this.assertOpen('readAll')
    if (!(limit > 0)) return []
    const read = this.client.readAll({
      fromPosition: toReadPosition(afterPosition),
      maxCount: limit + 1,
      filter: ledgerFilter(),
    })
    const resolved = await collect(read, 'readAll')
    return resolved
      .flatMap((r) => fromKurrentEvent(r.event) ?? [])
      .filter((event) => event.position > afterPosition)
      .slice(0, limit)
  }

  async headPosition(): Promise<number> {
    this.assertOpen('headPosition')
    const read = this.client.readAll({
      direction: BACKWARDS,
      fromPosition: END,
      maxCount: 1,
      filter: ledgerFilter(),
    })
    const [last] = await collect(read, 'headPosition')
    return last?.event === undefined ? 0 : toPortPosition(last.event.position)
  }

  subscribeToAll(afterPosition: number, handler: SubscriptionHandler): Subscription {
    this.assertOpen('subscribeToAll')
    const subscription = new KurrentSubscription(this.client, afterPosition, handler, this.logger)
    this.subscriptions.add(subscription)
    subscription.start(() => this.subscriptions.delete(subscription))
    return subscription
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await Promise.all([...this.subscriptions].map((subscription) => subscription.stop()))
    await this.client.dispose()
    this.logger.info({}, 'event store closed')
  }

  private assertOpen(operation: string): void {
    if (this.closed) throw new StoreUnavailable(operation, 'store closed')
  }
}

/** A handler's own failure, kept apart so that it stops the subscription instead of a retry. */
class HandlerFailed extends Error {
  constructor(override readonly cause: Error) {
    super(cause.message)
  }
}

/**
 * A catch-up subscription to the ledger's streams. When the connection drops (a node restarts,
 * the leader changes) it reconnects with a growing delay and resumes after the last event it
 * delivered, so the handler sees every event once and in order. Events are delivered one at a
 * time, as the server streams them.
 */
class KurrentSubscription implements Subscription {
  private stopped = false
  private current: AllStreamSubscription | undefined
  private wakeUp: (() => void) | undefined
  private done: Promise<void> = Promise.resolve()

  constructor(
    private readonly client: KurrentDBClient,
    private position: number,
    private readonly handler: SubscriptionHandler,
    private readonly logger: Logger,
  ) {}

  start(onEnd: () => void): void {
    this.done = this.run().finally(onEnd)
  }

  async stop(): Promise<void> {
    this.stopped = true
    this.wakeUp?.()
    await this.current?.unsubscribe().catch(() => undefined)
    await this.done
  }

  private async run(): Promise<void> {
    let attempt = 0
    while (!this.stopped) {
      try {
        await this.consume(() => (attempt = 0))
        if (!this.stopped) throw new StoreUnavailable('subscribeToAll', 'the server ended it')
      } catch (error) {
        if (this.stopped) return
        if (error instanceof HandlerFailed || !isTransient(error)) {
          this.handler.onError?.(error instanceof HandlerFailed ? error.cause : (error as Error))
          return
        }
        const delayMs = reconnectDelayMs(attempt)
        attempt += 1
        const reason = error instanceof Error ? error.message : String(error)
        this.logger.warn({ reason, delayMs, position: this.position }, 'subscription reconnecting')
        await this.sleep(delayMs)
      }
    }
  }

  private async consume(onDelivered: () => void): Promise<void> {
    const subscription = this.client.subscribeToAll({
      fromPosition: toReadPosition(this.position),
      filter: ledgerFilter(),
    })
    this.current = subscription
    try {
      for await (const resolved of subscription) {
        const event = fromKurrentEvent(resolved.event)
        if (event === undefined || event.position <= this.position) continue
        try {
          await this.handler.onEvents([event])
        } catch (error) {
          throw new HandlerFailed(error as Error)
        }
        this.position = event.position
        onDelivered()
      }
    } finally {
      this.current = undefined
      await subscription.unsubscribe().catch(() => undefined)
    }
  }

  private sleep(delayMs: number): Promise<void> {
    return new Promise((resolve) => {
      const finish = (): void => {
        clearTimeout(timer)
        this.wakeUp = undefined
        resolve()
      }
      const timer = setTimeout(finish, delayMs)
      this.wakeUp = finish
    })
  }
}
