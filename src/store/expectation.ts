import { ConcurrencyConflict, type ExpectedRevision, type StreamAppend } from './port'

/**
 * Expected-revision rules shared by both adapters, so that SQLite and the zero-event checks of
 * the KurrentDB adapter decide exactly as EventStoreDB does.
 */

/**
 * A call the store cannot even attempt: no streams, an empty stream name, an expected revision
 * that is neither a known keyword nor a whole number. These are programming errors of the
 * caller, never conflicts, so they are a tag of their own and are not retried.
 */
export class InvalidAppend extends Error {
  readonly _tag = 'InvalidAppend'
  constructor(
    readonly streamId: string | undefined,
    readonly detail: string,
  ) {
    super(`invalid append${streamId === undefined ? '' : ` to ${streamId}`}: ${detail}`)
    this.name = 'InvalidAppend'
  }
}

/** The revision a stream is at, or `undefined` while it has no event (ESDB: no stream). */
export type CurrentRevision = number | undefined

/**
 * Whether `expected` holds against the stream's current revision: `any` always, `no_stream`
 * only before the first event, `stream_exists` only after it, a number only when equal.
 */
export const expectationHolds = (expected: ExpectedRevision, current: CurrentRevision): boolean => {
  switch (expected) {
    case 'any':
      return true
    case 'no_stream':
      return current === undefined
    case 'stream_exists':
      return current !== undefined
    default:
      return current === expected
  }
}

/** Throws the port's conflict, with the stream, what was expected and what was found. */
export const checkExpectation = (
  streamId: string,
  expected: ExpectedRevision,
  current: CurrentRevision,
): void => {
  if (!expectationHolds(expected, current)) {
    throw new ConcurrencyConflict(streamId, expected, current ?? 'no_stream')
  }
}

/**
 * The revision a stream is at when `expected` holds, where the expectation says it: -1 for
 * `no_stream`, the number itself, `undefined` for `any` and `stream_exists`. Recognising a
 * retried append needs it, to know where the call's events should be.
 */
export const revisionWhenHolds = (expected: ExpectedRevision): number | undefined =>
  expected === 'no_stream' ? -1 : typeof expected === 'number' ? expected : undefined

/** SQLite stores text as UTF-8: a lone surrogate would come back as U+FFFD, another name. */
const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/
const isWellFormed = (text: string): boolean => !loneSurrogate.test(text)

const isExpectedRevision = (value: unknown): value is ExpectedRevision =>
  value === 'any' ||
  value === 'no_stream' ||
  value === 'stream_exists' ||
  (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0)

/**
 * Rejects calls no store could perform. Cheap on purpose: it runs on the hot path of every
 * append, so it looks at the shape of the call, not at the events' content (codecs do that).
 */
export const assertValidAppends = (appends: readonly StreamAppend[]): void => {
  if (!Array.isArray(appends) || appends.length === 0) {
    throw new InvalidAppend(undefined, 'a call appends to at least one stream')
  }
  const eventIds = new Set<string>()
  for (const append of appends) {
    if (typeof append !== 'object' || append === null) {
      throw new InvalidAppend(undefined, 'each entry of a call is a stream append')
    }
    if (
      typeof append.streamId !== 'string' ||
      append.streamId.length === 0 ||
      !isWellFormed(append.streamId)
    ) {
      throw new InvalidAppend(undefined, 'stream names are non-empty, well-formed strings')
    }
    if (!isExpectedRevision(append.expectedRevision)) {
      throw new InvalidAppend(
        append.streamId,
        `expected revision ${String(append.expectedRevision)} is not no_stream, any, ` +
          'stream_exists or a whole number',
      )
    }
    assertValidEvents(append, eventIds)
  }
}

/**
 * Each event has a string id and type and a metadata object, and an id appears once in the
 * call: a malformed event would otherwise fail the whole group commit it joined, or come back
 * as a conflict that a caller might retry.
 */
const assertValidEvents = (append: StreamAppend, eventIds: Set<string>): void => {
  if (!Array.isArray(append.events)) {
    throw new InvalidAppend(append.streamId, 'events are an array')
  }
  if (append.expectedLastHash !== undefined && typeof append.expectedLastHash !== 'string') {
    throw new InvalidAppend(append.streamId, 'an expected last hash is a string')
  }
  for (const event of append.events as readonly unknown[]) {
    const { eventId, type, metadata } = (event ?? {}) as Record<string, unknown>
    if (
      typeof eventId !== 'string' ||
      eventId.length === 0 ||
      typeof type !== 'string' ||
      !isWellFormed(eventId) ||
      !isWellFormed(type)
    ) {
      throw new InvalidAppend(
        append.streamId,
        'every event has an event id and a type, well-formed strings',
      )
    }
    if (typeof metadata !== 'object' || metadata === null) {
      throw new InvalidAppend(append.streamId, `event ${eventId} has no metadata object`)
    }
    if (eventIds.has(eventId)) {
      throw new InvalidAppend(append.streamId, `event id ${eventId} appears twice in the call`)
    }
    eventIds.add(eventId)
  }
}
