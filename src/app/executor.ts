import * as E from 'fp-ts/Either'
import type { Logger } from 'pino'
import type { CommandContext, Decision, Rejection, StreamEvent } from '../../domain/decider'
import type { EventOf, LedgerEvent } from '../../domain/events'
import { categoryOf, streams } from '../../domain/streams'
import { buildStreamEvents } from '../audit/chain'
import { zeroHash } from '../audit/hash'
import { commandAttemptsMax, streamCacheSizeMax } from '../limits'
import { decodeLedgerEvent } from '../../domain/decode'
import {
  StoreCorrupted,
  isConcurrencyConflict,
  type AppendResult,
  type EventStore,
  type RecordedEvent,
  type StreamAppend,
} from '../store/port'
import { uuidV5In } from './event-ids'
import { StreamCache, StreamLocks, type StreamFold, type StreamSnapshot } from './stream-cache'

/**
 * The command handler: load the streams a command reads, decide, append with the revisions
 * loaded, and decide again on a concurrency conflict, a bounded number of times. Idempotency is
 * part of the same append: the first answer is recorded as a `CommandAccepted` event on a
 * stream named after the key, expected not to exist, so two racing copies of one command can
 * never both land, and a crash can never leave the events without their answer or the reverse.
 */

export interface CommandRequest<Response> {
  /** Imperative name of the command, e.g. `PurchaseVoucher`. */
  readonly commandType: string
  /** The caller's id for the command; event ids are derived from it. */
  readonly commandId: string
  /**
   * Keys under which the first answer is kept (the command's id, an Idempotency-Key, a
   * processor's event id), each with a hash of what it stands for, to tell a retry from a
   * different request under the same key.
   */
  readonly idempotency: readonly IdempotencyKey[]
  readonly actor: string
  readonly correlationId: string
  readonly context: CommandContext
  /**
   * Every stream the decider reads or updates (streams it creates need not be listed). A
   * function when the list depends on a stream's content, such as the programme of a voucher;
   * `peek` reads a stream's state without the locks, for what never changes once written.
   */
  readonly streamIds: readonly string[] | ((peek: Peek) => Promise<readonly string[]>)
  readonly decide: (states: StreamStates) => E.Either<Rejection, Decision<Response>>
  /**
   * Keep the locks until the append is durable. For deciders that also read what only durable
   * events show (the payout run reads the whole log), so the next run sees this one.
   */
  readonly holdLocksUntilDurable?: boolean
  /** Runs under the locks just before deciding, e.g. to catch a fold up with the log. */
  readonly prepare?: () => Promise<void>
}

export type StreamStates = ReadonlyMap<string, unknown>

export interface IdempotencyKey {
  readonly key: string
  readonly requestHash: string
}

export type Peek = (streamId: string) => Promise<unknown>

export type CommandOutcome<Response> =
  | { readonly kind: 'accepted'; readonly response: Response; readonly position: number }
  | { readonly kind: 'replayed'; readonly response: unknown; readonly position: number }
  | { readonly kind: 'rejected'; readonly rejection: Rejection }
  | { readonly kind: 'idempotency_conflict'; readonly idempotencyKey: string }
  | { readonly kind: 'concurrency_exhausted'; readonly attempts: number }

/** Counters the metrics endpoint reads. */
export interface ExecutorStats {
  conflicts: number
  exhausted: number
}

/** Event ids are UUID v5 in this namespace, from the command id, stream and index. */
const eventIdNamespace = '6f1c0a52-3f0e-5b7c-9a4e-2d8b1e7c4a90'
const eventIdOf = uuidV5In(eventIdNamespace)

export class CommandExecutor {
  private readonly cache = new StreamCache(streamCacheSizeMax)
  private readonly locks = new StreamLocks()
  readonly stats: ExecutorStats = { conflicts: 0, exhausted: 0 }

  constructor(
    private readonly store: EventStore,
    private readonly foldFor: (streamId: string) => StreamFold,
    private readonly logger: Logger,
    /**
     * Whether the next command on a stream may decide before the previous append is durable.
     * Safe only where the store applies one process's appends in order (the embedded store);
     * elsewhere the locks are held until the append is acknowledged.
     */
    private readonly pipelineAppends: boolean,
  ) {}

  async execute<Response>(request: CommandRequest<Response>): Promise<CommandOutcome<Response>> {
    // The first try looks for a recorded answer in the cache only (see `attempt`), so its
    // conflict may be a retried command's recorded key rather than contention: it is counted
    // once the next try shows it was not a replay.
    let firstTryConflicted = false
    for (let attempt = 1; attempt <= commandAttemptsMax; attempt += 1) {
      const outcome = await this.attempt(request, attempt > 1)
      if (outcome !== 'conflict') {
        if (firstTryConflicted && outcome.kind !== 'replayed') this.countConflict(request, 1)
        return outcome
      }
      if (attempt === 1) {
        firstTryConflicted = true
        continue
      }
      if (firstTryConflicted) this.countConflict(request, 1)
      firstTryConflicted = false
      this.countConflict(request, attempt)
    }
    this.stats.exhausted += 1
    this.logger.warn(
      { commandType: request.commandType, commandId: request.commandId },
      'concurrency retries exhausted',
    )
    return { kind: 'concurrency_exhausted', attempts: commandAttemptsMax }
  }

  private countConflict<Response>(request: CommandRequest<Response>, attempt: number): void {
    this.stats.conflicts += 1
    this.logger.debug({ commandType: request.commandType, attempt }, 'concurrency conflict')
  }

  /**
   * One try. Unless `readKeys`, the idempotency streams are looked up in the cache only: a key
   * is nearly always new, its append expects no stream, and the store refuses the append if the
   * key was recorded after all, as a conflict, after which the next try reads the keys from the
   * store. Reading them first cost a store read per command for nothing. A rejection is checked against the
   * stored keys before it is answered, since a retried command must get its first answer even
   * where deciding again would now refuse it.
   */
  private async attempt<Response>(
    request: CommandRequest<Response>,
    readKeys: boolean,
  ): Promise<CommandOutcome<Response> | 'conflict'> {
    const keyStreams = request.idempotency.map(({ key }) => streams.idempotency(key))
    const streamIds =
      typeof request.streamIds === 'function'
        ? await request.streamIds(async (streamId) => (await this.load(streamId)).state)
        : request.streamIds
    const release = await this.locks.acquire([...streamIds, ...keyStreams])
    let released = false
    const releaseOnce = (): void => {
      if (!released) release()
      released = true
    }
    try {
      const previous = await this.findPreviousAnswer(request, keyStreams, readKeys)
      if (previous !== undefined) return previous

      await request.prepare?.()
      const snapshots = await this.loadAll(streamIds)
      const decision = request.decide(new Map([...snapshots].map(([id, s]) => [id, s.state])))
      if (E.isLeft(decision)) {
        const recorded = readKeys ? undefined : await this.findPreviousAnswer(request, keyStreams)
        return recorded ?? { kind: 'rejected', rejection: decision.left }
      }

      const appends = this.buildAppends(request, decision.right, snapshots, keyStreams)
      const committed = this.store.appendToStreams(appends)
      const pendingSnapshots = this.rememberPending(appends, snapshots, committed)
      if (this.pipelineAppends && request.holdLocksUntilDurable !== true) releaseOnce()

      const result = await this.awaitCommit(committed, pendingSnapshots)
      if (result === 'conflict') return 'conflict'
      return { kind: 'accepted', response: decision.right.response, position: result.position }
    } finally {
      releaseOnce()
    }
  }

  /**
   * The recorded answer for any of the request's keys, or undefined when there is none; from
   * the cache only unless `readStore`.
   */
  private async findPreviousAnswer<Response>(
    request: CommandRequest<Response>,
    keyStreams: readonly string[],
    readStore = true,
  ): Promise<CommandOutcome<Response> | 'conflict' | undefined> {
    for (const [index, streamId] of keyStreams.entries()) {
      const snapshot = readStore ? await this.load(streamId) : this.cache.get(streamId)
      if (snapshot === undefined || snapshot.revision < 0) continue
      const settled = await settle(snapshot.committed)
      if (!settled) return 'conflict'

      const accepted = snapshot.state as EventOf<'CommandAccepted'>['data']
      const expected = request.idempotency[index]
      if (expected === undefined || accepted.requestHash !== expected.requestHash) {
        return { kind: 'idempotency_conflict', idempotencyKey: expected?.key ?? streamId }
      }
      const position = await this.committedPosition(streamId)
      return { kind: 'replayed', response: accepted.response, position }
    }
    return undefined
  }

  /** The position of a stream's last event once durable, reading it back if the cache lost it. */
  private async committedPosition(streamId: string): Promise<number> {
    const cached = this.cache.get(streamId)?.lastPosition
    if (cached !== undefined) return cached
    this.cache.invalidate(streamId)
    const reloaded = await this.load(streamId)
    if (reloaded.lastPosition === undefined) {
      throw new Error(`assertion failed: ${streamId} has no committed event`)
    }
    return reloaded.lastPosition
  }

  private async loadAll(streamIds: readonly string[]): Promise<Map<string, StreamSnapshot>> {
    const snapshots = new Map<string, StreamSnapshot>()
    for (const streamId of streamIds) snapshots.set(streamId, await this.load(streamId))
    return snapshots
  }

  /** A stream's snapshot from the cache, caught up with the store from its revision on. */
  private async load(streamId: string): Promise<StreamSnapshot> {
    const cached = this.cache.get(streamId)
    if (cached !== undefined) return cached

    const events = await this.store.readStream(streamId)
    const snapshot = this.fold(streamId, events)
    this.cache.set(streamId, snapshot)
    return snapshot
  }

  private fold(streamId: string, events: readonly RecordedEvent[]): StreamSnapshot {
    const fold = this.foldFor(streamId)
    let state = fold.initial
    for (const event of events) {
      const decoded = decodeLedgerEvent(event.type, event.data)
      if (E.isLeft(decoded)) throw new StoreCorrupted(event.position, decoded.left)
      state = fold.evolve(state, { ...decoded.right, metadata: event.metadata } as StreamEvent)
    }
    const last = events[events.length - 1]
    return {
      revision: last === undefined ? -1 : last.revision,
      state,
      lastHash: last === undefined ? zeroHash : last.metadata.hash,
      lastPosition: last?.position,
      committed: Promise.resolve(),
    }
  }

  private buildAppends<Response>(
    request: CommandRequest<Response>,
    decision: Decision<Response>,
    snapshots: ReadonlyMap<string, StreamSnapshot>,
    keyStreams: readonly string[],
  ): StreamAppend[] {
    const metadata = {
      occurredAt: request.context.occurredAt,
      recordedAt: request.context.recordedAt,
      commandId: request.commandId,
      causationId: request.commandId,
      correlationId: request.correlationId,
      actor: request.actor,
    }
    const keyAppends = request.idempotency.map(({ key, requestHash }, index) => ({
      streamId: keyStreams[index] ?? streams.idempotency(key),
      events: [
        {
          type: 'CommandAccepted',
          data: {
            idempotencyKey: key,
            requestHash,
            commandType: request.commandType,
            response: decision.response as Record<string, unknown>,
          },
        } satisfies LedgerEvent,
      ],
    }))
    return [...decision.appends, ...keyAppends].map(({ streamId, events }) => {
      // A stream the command did not read is one it creates: the store refuses it if it exists.
      const snapshot = snapshots.get(streamId)
      const built = buildStreamEvents(
        {
          streamId,
          nextRevision: (snapshot?.revision ?? -1) + 1,
          previousHash: snapshot?.lastHash ?? zeroHash,
        },
        events.map((event, index) => ({
          ...metadata,
          ...assertEncodable(event),
          eventId: eventIdOf(`${request.commandId}/${streamId}/${index}`),
          type: event.type,
          data: event.data,
        })),
      )
      const exists = snapshot !== undefined && snapshot.revision >= 0
      return {
        streamId,
        expectedRevision: exists ? snapshot.revision : 'no_stream',
        events: built,
        ...(exists && this.pipelineAppends ? { expectedLastHash: snapshot.lastHash } : {}),
      }
    })
  }

  /**
   * Puts the state after the append in the cache before it is durable, so the next command on
   * these streams decides on top of it; drops it again if the append fails.
   */
  private rememberPending(
    appends: readonly StreamAppend[],
    loaded: ReadonlyMap<string, StreamSnapshot>,
    committed: Promise<AppendResult>,
  ): Map<string, StreamSnapshot> {
    const pending = new Map<string, StreamSnapshot>()
    for (const append of appends) {
      const fold = this.foldFor(append.streamId)
      let state = loaded.get(append.streamId)?.state ?? fold.initial
      for (const event of append.events) state = fold.evolve(state, event as unknown as StreamEvent)
      const last = append.events[append.events.length - 1]
      const snapshot: StreamSnapshot = {
        revision: (loaded.get(append.streamId)?.revision ?? -1) + append.events.length,
        state,
        lastHash: last?.metadata.hash ?? loaded.get(append.streamId)?.lastHash ?? zeroHash,
        lastPosition: undefined,
        committed,
      }
      pending.set(append.streamId, snapshot)
      this.cache.set(append.streamId, snapshot)
    }
    return pending
  }

  private async awaitCommit(
    committed: Promise<AppendResult>,
    pending: ReadonlyMap<string, StreamSnapshot>,
  ): Promise<AppendResult | 'conflict'> {
    try {
      const result = await committed
      for (const [streamId, snapshot] of pending) {
        if (this.cache.get(streamId) === snapshot) {
          this.cache.set(streamId, { ...snapshot, lastPosition: result.position })
        }
      }
      return result
    } catch (error) {
      for (const [streamId, snapshot] of pending) this.cache.invalidate(streamId, snapshot)
      if (isConcurrencyConflict(error)) return 'conflict'
      throw error
    }
  }

  /** Forgets every cached snapshot, e.g. after another process may have written. */
  clearCache(): void {
    this.cache.clear()
  }
}

/** Events are checked against their codec before they are written: a decider bug stops here. */
const assertEncodable = (event: LedgerEvent): LedgerEvent => {
  const decoded = decodeLedgerEvent(event.type, event.data)
  if (E.isLeft(decoded)) throw new Error(`assertion failed: ${decoded.left}`)
  return event
}

const settle = async (promise: Promise<unknown>): Promise<boolean> =>
  promise.then(
    () => true,
    () => false,
  )

/** The category of a stream, for picking its fold. */
export { categoryOf }
