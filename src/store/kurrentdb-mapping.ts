import {
  ANY,
  NO_STREAM,
  START,
  STREAM_EXISTS,
  jsonEvent,
  streamNameFilter,
  type AppendStreamRequest,
  type AppendStreamState,
  type EventData,
  type Filter,
  type JSONType,
  type Position,
  type ReadPosition,
  type RecordedEvent as KurrentRecordedEvent,
} from '@kurrent/kurrentdb-client'
import { kurrentReconnectDelayMsMax, kurrentReconnectDelayMsMin } from '../limits'
import { ledgerCategories } from '../../domain/streams'
import { InvalidAppend } from './expectation'
import {
  ConcurrencyConflict,
  StoreCorrupted,
  StoreUnavailable,
  type EventMetadata,
  type EventToAppend,
  type ExpectedRevision,
  type RecordedEvent,
  type StreamAppend,
} from './port'

/**
 * Pure translations between the port and the KurrentDB client: expected revisions, positions,
 * events, errors, filters, connection strings and reconnection delays. Nothing here performs
 * I/O, so every rule of the adapter is unit-tested without a server.
 */

/**
 * A 64-bit KurrentDB log position that the port's `number` cannot carry: above 2^53 (a log
 * of eight petabytes) or, for events of an explicit transaction, a commit position that differs
 * from the event's own. The adapter refuses the event rather than round or alias it, since a
 * projection checkpoint built on a rounded position would skip or repeat events.
 */
export class PositionOutOfRange extends Error {
  readonly _tag = 'PositionOutOfRange'
  constructor(
    readonly commitPosition: bigint,
    readonly preparePosition: bigint,
    readonly detail: string,
  ) {
    super(`KurrentDB position ${commitPosition}/${preparePosition}: ${detail}`)
    this.name = 'PositionOutOfRange'
  }
}

/** The single record property that carries the ledger's metadata, as one JSON string. */
export const ledgerMetadataProperty = 'ledger-metadata'

/** Stream-name prefixes of the ledger: reads of `$all` see these and nothing else. */
export const ledgerStreamPrefixes: readonly string[] = ledgerCategories.map((c) => `${c}-`)

/** Whether a stream belongs to the ledger (a category of `domain/streams.ts`). */
export const isLedgerStream = (streamId: string): boolean =>
  ledgerStreamPrefixes.some((prefix) => streamId.startsWith(prefix))

/** The server-side filter of every `$all` read and subscription: ledger streams only. */
export const ledgerFilter = (): Filter => streamNameFilter({ prefixes: [...ledgerStreamPrefixes] })

// ---- expected revisions ----

/** The port's expectation as the client's stream state; numbers become bigints. */
export const toKurrentState = (expected: ExpectedRevision): AppendStreamState => {
  switch (expected) {
    case 'any':
      return ANY
    case 'no_stream':
      return NO_STREAM
    case 'stream_exists':
      return STREAM_EXISTS
    default:
      return BigInt(expected)
  }
}

/** A revision from the server, as a port number; revisions above 2^53 cannot happen in a stream. */
export const toSafeRevision = (revision: bigint): number => {
  if (revision < 0n || revision > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new RangeError(`stream revision ${revision} is outside 0..2^53`)
  }
  return Number(revision)
}

/** The client's stream state as the port's expectation, refusing what the port cannot say. */
export const fromKurrentState = (state: AppendStreamState | string): ExpectedRevision => {
  if (typeof state === 'bigint') return toSafeRevision(state)
  if (state === ANY || state === NO_STREAM || state === STREAM_EXISTS) return state
  throw new RangeError(`unknown expected stream state ${String(state)}`)
}

/** What the server found: a revision, or no stream (reported as `no_stream` or a negative). */
export const fromKurrentCurrent = (state: bigint | string | undefined): number | 'no_stream' =>
  typeof state === 'bigint' && state >= 0n ? toSafeRevision(state) : 'no_stream'

// ---- positions ----

/**
 * The port position of an event. Events written by ordinary appends (all the ledger writes)
 * have equal commit and prepare positions, the byte offset of the event in the log, which is
 * unique and grows; that is the port position, while it stays a safe integer.
 */
export const toPortPosition = (position: Position | undefined): number => {
  if (position === undefined) throw new PositionOutOfRange(-1n, -1n, 'the server sent none')
  const { commit, prepare } = position
  if (commit !== prepare) {
    throw new PositionOutOfRange(commit, prepare, 'an explicit transaction, not written here')
  }
  if (commit > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new PositionOutOfRange(commit, prepare, 'beyond 2^53, the largest safe JS integer')
  }
  return Number(commit)
}

/**
 * Where a read "after" a port position starts. KurrentDB reads from a position inclusively
 * (and subscriptions exclusively): the adapter drops what is not after, so both are right.
 */
export const toReadPosition = (afterPosition: number): ReadPosition =>
  afterPosition <= 0 ? START : { commit: BigInt(afterPosition), prepare: BigInt(afterPosition) }

// ---- events ----

/**
 * The client's multi-stream append accepts metadata as string properties only, so the
 * ledger's metadata travels as one JSON string property and is parsed back on read.
 */
export const toEventData = (event: EventToAppend): EventData =>
  jsonEvent({
    id: event.eventId,
    type: event.type,
    data: (event.data ?? null) as JSONType,
    metadata: { [ledgerMetadataProperty]: JSON.stringify(event.metadata) },
  })

/**
 * One request per stream that has events. The server refuses a stream without records and a
 * stream named twice in one call, so those are left to the caller (see `planAppend`).
 */
export const toAppendRequests = (appends: readonly StreamAppend[]): AppendStreamRequest[] =>
  appends
    .filter((append) => append.events.length > 0)
    .map((append) => ({
      streamName: append.streamId,
      expectedState: toKurrentState(append.expectedRevision),
      events: append.events.map(toEventData),
    }))

/** A call split into what the server writes and what the adapter can only check by reading. */
export interface AppendPlan {
  readonly writes: readonly StreamAppend[]
  readonly checks: readonly StreamAppend[]
}

/**
 * Splits a call into its writes and its zero-event checks, refusing a stream named twice: the
 * server takes each stream once per atomic append, where the embedded store applies entries in
 * order.
 */
export const planAppend = (appends: readonly StreamAppend[]): AppendPlan => {
  const seen = new Set<string>()
  for (const { streamId } of appends) {
    if (seen.has(streamId)) {
      throw new InvalidAppend(streamId, 'KurrentDB takes each stream once per atomic append')
    }
    seen.add(streamId)
  }
  return {
    writes: appends.filter((append) => append.events.length > 0),
    checks: appends.filter((append) => append.events.length === 0),
  }
}

/**
 * The ledger metadata of a recorded event: the JSON string property written by `toEventData`,
 * or a plain object written by another client. Anything else is a foreign or damaged event.
 */
export const fromRecordedMetadata = (metadata: unknown, position: number): EventMetadata => {
  if (typeof metadata === 'object' && metadata !== null && !(metadata instanceof Uint8Array)) {
    const wrapped = (metadata as Record<string, unknown>)[ledgerMetadataProperty]
    if (typeof wrapped === 'string') return JSON.parse(wrapped) as EventMetadata
    if (typeof (metadata as Partial<EventMetadata>).hash === 'string') {
      return metadata as EventMetadata
    }
  }
  throw new StoreCorrupted(position, 'event metadata is not the ledger metadata')
}

/** A server event as the port's event, or `undefined` for what the ledger does not read. */
export const fromKurrentEvent = (
  event: KurrentRecordedEvent | undefined,
): RecordedEvent | undefined => {
  if (event === undefined || !isLedgerStream(event.streamId)) return undefined
  const position = toPortPosition(event.position)
  if (!event.isJson) throw new StoreCorrupted(position, `event ${event.id} is not JSON`)
  return {
    position,
    streamId: event.streamId,
    revision: toSafeRevision(event.revision),
    eventId: event.id,
    type: event.type,
    data: event.data,
    metadata: fromRecordedMetadata(event.metadata, position),
  }
}

// ---- errors ----

/** The fields the client's error classes carry, read structurally so tests need no server. */
interface KurrentErrorShape {
  readonly type?: string
  readonly streamName?: string
  readonly expectedState?: AppendStreamState
  readonly actualState?: bigint | string
  readonly violations?: readonly {
    readonly streamName: string
    readonly expectedState: AppendStreamState
    readonly actualState: bigint | string
  }[]
}

const errorShape = (error: unknown): KurrentErrorShape =>
  typeof error === 'object' && error !== null ? (error as KurrentErrorShape) : {}

/**
 * The port's conflict for a refused append, naming the stream, the expectation the call gave
 * for it (as the caller wrote it) and what the server found; `undefined` for other failures.
 */
export const toConcurrencyConflict = (
  error: unknown,
  appends: readonly StreamAppend[],
): ConcurrencyConflict | undefined => {
  const shape = errorShape(error)
  const violation =
    shape.type === 'wrong-expected-version'
      ? shape
      : shape.type === 'append-consistency-violation'
        ? shape.violations?.[0]
        : undefined
  if (violation?.streamName === undefined) return undefined
  const own = appends.find((append) => append.streamId === violation.streamName)
  const expected =
    own?.expectedRevision ??
    (violation.expectedState === undefined ? 'any' : fromKurrentState(violation.expectedState))
  const actual = fromKurrentCurrent(violation.actualState)
  return new ConcurrencyConflict(violation.streamName, expected, actual)
}

/** Any failure of a call as a port error: a conflict, or the store being unavailable. */
export const toStoreError = (
  error: unknown,
  operation: string,
  appends: readonly StreamAppend[] = [],
): Error => {
  if (error instanceof ConcurrencyConflict || error instanceof StoreUnavailable) return error
  if (error instanceof StoreCorrupted || error instanceof PositionOutOfRange) return error
  if (error instanceof InvalidAppend) return error
  return toConcurrencyConflict(error, appends) ?? new StoreUnavailable(operation, error)
}

/** The read of a stream that has no event: the port answers it with an empty list. */
export const isStreamNotFound = (error: unknown): boolean =>
  errorShape(error).type === 'stream-not-found'

/** A call the connected server is too old for (the client checks the server's features). */
export const isUnsupported = (error: unknown): boolean => errorShape(error).type === 'unsupported'

/** Failures a subscription does not recover from by reconnecting. */
const permanentErrorTypes = new Set(['access-denied', 'stream-deleted', 'stream-tombstoned'])

/**
 * Whether reconnecting may help: yes for transport failures, timeouts and leader changes, no
 * for refused access and for events the adapter cannot represent.
 */
export const isTransient = (error: unknown): boolean => {
  if (error instanceof StoreCorrupted || error instanceof PositionOutOfRange) return false
  const type = errorShape(error).type
  return type === undefined || !permanentErrorTypes.has(type)
}

// ---- connection ----

/**
 * The connection string with a client-wide deadline when it names none: the multi-stream
 * append takes no per-call options, so its deadline can only be set this way.
 */
export const withDefaultDeadline = (connectionString: string, deadlineMs: number): string => {
  if (/[?&]defaultDeadline=/i.test(connectionString)) return connectionString
  const separator = connectionString.includes('?') ? '&' : '?'
  return `${connectionString}${separator}defaultDeadline=${deadlineMs}`
}

/** The connection string without its password, fit for logs and error messages. */
export const maskConnectionString = (connectionString: string): string =>
  connectionString.replace(/(:\/\/[^:@/]+:)[^@/]*@/, '$1***@')

/**
 * Delay before reconnection attempt `attempt` (0 first): doubling from the minimum up to the
 * maximum, with half of it random so that several instances do not reconnect in step.
 */
export const reconnectDelayMs = (attempt: number, random: () => number = Math.random): number => {
  const ceilingMs = Math.min(kurrentReconnectDelayMsMax, kurrentReconnectDelayMsMin * 2 ** attempt)
  return Math.round(ceilingMs / 2 + (ceilingMs / 2) * random())
}
