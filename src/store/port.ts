/**
 * The event store port: the one interface the ledger writes and reads events through. Its
 * semantics follow EventStoreDB so that the KurrentDB adapter stays thin (see DESIGN.md):
 * streams named `<category>-<id>`, revisions counted from 0, a global position that only grows,
 * optimistic concurrency by expected revision, event ids that are UUIDs derived from the
 * command, JSON data and metadata, and catch-up subscriptions to everything.
 */

/** What the appender believes about a stream before its events land. */
export type ExpectedRevision = 'no_stream' | 'any' | 'stream_exists' | number

/** Metadata every ledger event carries; `hash` and `previousHash` are the integrity chain. */
export interface EventMetadata {
  readonly occurredAt: string
  readonly recordedAt: string
  readonly commandId: string
  readonly causationId: string
  readonly correlationId: string
  readonly actor: string
  readonly schemaVersion: number
  /** SHA-256 over the canonical content of the event and `previousHash`; see src/audit. */
  readonly hash: string
  /** The hash of the previous event of the same stream; the zero hash for revision 0. */
  readonly previousHash: string
}

export interface EventToAppend {
  /** A UUID derived from the command's id, so that a retried append is recognised. */
  readonly eventId: string
  readonly type: string
  readonly data: unknown
  readonly metadata: EventMetadata
}

export interface StreamAppend {
  readonly streamId: string
  readonly expectedRevision: ExpectedRevision
  readonly events: readonly EventToAppend[]
  /**
   * Optionally, the hash the stream's last event must have for the append to hold, checked with
   * the expected revision. The command handler sets it when it decided on top of an append
   * still in flight: should that append fail and another writer move the stream by as many
   * events, the revision alone would still match. Stores that cannot check it (KurrentDB) are
   * never sent appends decided that way.
   */
  readonly expectedLastHash?: string
}

export interface RecordedEvent {
  /** Global position in the whole log: grows with every event, never reused. */
  readonly position: number
  readonly streamId: string
  /** Position of the event in its stream, from 0. */
  readonly revision: number
  readonly eventId: string
  readonly type: string
  readonly data: unknown
  readonly metadata: EventMetadata
}

export interface AppendResult {
  /** Global position of the last event appended by the call. */
  readonly position: number
  /** The revision each stream of the call reached, in the order of the call. */
  readonly nextRevisions: readonly number[]
}

/**
 * A catch-up subscription: delivers every event after a position in order, then new events as
 * they are appended, until it is stopped.
 */
export interface Subscription {
  stop(): Promise<void>
}

export interface SubscriptionHandler {
  /** Called with events in order; the next batch waits until the returned promise settles. */
  onEvents(events: readonly RecordedEvent[]): Promise<void> | void
  /** Called once if the subscription stops for a reason other than `stop()`. */
  onError?(error: Error): void
}

export interface EventStore {
  /**
   * Appends to one or more streams atomically: every stream's expected revision holds and all
   * events land, or nothing does and a `ConcurrencyConflict` says which stream disagreed. When
   * the call resolves, the events are durable. Appending events whose ids are already recorded
   * at the same place again resolves with the original result and writes nothing.
   */
  appendToStreams(appends: readonly StreamAppend[]): Promise<AppendResult>

  /** Events of one stream from a revision on, in order; empty for a stream that does not exist. */
  readStream(streamId: string, fromRevision?: number): Promise<readonly RecordedEvent[]>

  /** Up to `limit` events of the whole log after `afterPosition` (0 reads from the start). */
  readAll(afterPosition: number, limit: number): Promise<readonly RecordedEvent[]>

  /** The position of the last event of the log, 0 when it is empty. */
  headPosition(): Promise<number>

  subscribeToAll(afterPosition: number, handler: SubscriptionHandler): Subscription

  close(): Promise<void>
}

/**
 * Failures of the store, tagged, each with its context. Rejections of the domain are never
 * errors; these are the few ways infrastructure can refuse or fail.
 */
export class ConcurrencyConflict extends Error {
  readonly _tag = 'ConcurrencyConflict'
  constructor(
    readonly streamId: string,
    readonly expectedRevision: ExpectedRevision,
    readonly actualRevision: number | 'no_stream',
  ) {
    super(
      `stream ${streamId}: expected revision ${String(expectedRevision)}, ` +
        `actual ${String(actualRevision)}`,
    )
    this.name = 'ConcurrencyConflict'
  }
}

export class StoreUnavailable extends Error {
  readonly _tag = 'StoreUnavailable'
  constructor(
    readonly operation: string,
    override readonly cause: unknown,
  ) {
    super(`event store unavailable during ${operation}: ${String(cause)}`)
    this.name = 'StoreUnavailable'
  }
}

export class StoreCorrupted extends Error {
  readonly _tag = 'StoreCorrupted'
  constructor(
    readonly position: number,
    readonly detail: string,
  ) {
    super(`event store corrupted at position ${position}: ${detail}`)
    this.name = 'StoreCorrupted'
  }
}

export const isConcurrencyConflict = (e: unknown): e is ConcurrencyConflict =>
  e instanceof ConcurrencyConflict
