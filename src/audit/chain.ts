import type { EventMetadata, EventToAppend } from '../store/port'
import { hashEvent, sha256Hex, zeroHash, type HashableEvent } from './hash'

/**
 * Builds the events the ledger appends, with their place in the integrity chain. Every writer
 * (the command handler, the sealer) goes through here, so the metadata has one shape and the
 * hash is computed one way, the way `src/audit/verify.ts` checks it.
 */

/** The version of the event envelope written today; a reader that meets another knows why. */
export const currentSchemaVersion = 1

export interface EventToAppendInput {
  readonly streamId: string
  /** The revision the event will have in its stream: the stream's next revision. */
  readonly revision: number
  /** The hash of the stream's event at `revision - 1`; ignored (zero hash) for revision 0. */
  readonly previousHash: string
  readonly eventId: string
  readonly type: string
  readonly data: unknown
  readonly occurredAt: string
  readonly recordedAt: string
  readonly commandId: string
  readonly causationId: string
  readonly correlationId: string
  readonly actor: string
}

/**
 * One event ready for `appendToStreams`, its hash chained on the previous event of its stream.
 * The caller states the revision because the hash covers it: an event appended at another
 * revision than the one it was built for fails verification, which is what we want.
 *
 * Data and metadata are returned with their keys in canonical order (sorted, as `canonicalJson`
 * writes them), so the JSON text a store keeps is already canonical and the verifier can hash
 * it as stored instead of rebuilding it (see `storedTextHash` in verify.ts). Values are
 * unchanged; only the order of keys differs from what the caller built.
 */
export const buildEventToAppend = (input: EventToAppendInput): EventToAppend => {
  const previousHash = input.revision === 0 ? zeroHash : input.previousHash
  assertChainable(input, previousHash)

  const report: CopyReport = { plain: input.data !== undefined }
  const data = copyCanonically(input.data, report)
  const unhashed: Omit<EventMetadata, 'hash'> = {
    actor: input.actor,
    causationId: input.causationId,
    commandId: input.commandId,
    correlationId: input.correlationId,
    occurredAt: input.occurredAt,
    previousHash,
    recordedAt: input.recordedAt,
    schemaVersion: currentSchemaVersion,
  }
  const hashable: HashableEvent = {
    streamId: input.streamId,
    revision: input.revision,
    eventId: input.eventId,
    type: input.type,
    data,
    metadata: unhashed,
  }
  const hash = report.plain ? hashCanonicalEvent(hashable) : hashEvent(hashable)
  const metadata: EventMetadata = {
    actor: unhashed.actor,
    causationId: unhashed.causationId,
    commandId: unhashed.commandId,
    correlationId: unhashed.correlationId,
    hash,
    occurredAt: unhashed.occurredAt,
    previousHash,
    recordedAt: unhashed.recordedAt,
    schemaVersion: currentSchemaVersion,
  }
  return { eventId: input.eventId, type: input.type, data, metadata }
}

/**
 * A copy of a JSON value with the keys of every object inserted in sorted order and undefined
 * members left out, so `JSON.stringify` of it is `canonicalJson` of the original. (Integer-like
 * keys are the exception JavaScript imposes on key order; the verifier then takes its slower,
 * equally correct path.)
 */
export const canonicalCopy = (value: unknown): unknown => copyCanonically(value, { plain: true })

/**
 * Whether `JSON.stringify` of a canonical copy writes exactly `canonicalJson`'s text: true when
 * every value was a JSON value, no key was integer-like (JavaScript puts those first, whatever
 * the order of insertion) and no array had an empty slot (`canonicalJson` leaves it empty,
 * `JSON.stringify` writes null). Only then may the text of the copy stand for its canonical one.
 */
interface CopyReport {
  plain: boolean
}

const copyCanonically = (value: unknown, report: CopyReport): unknown => {
  if (value === null || typeof value !== 'object') {
    const type = typeof value
    if (value !== null && type !== 'string' && type !== 'number' && type !== 'boolean') {
      report.plain = false
    }
    return value
  }
  if (Array.isArray(value)) {
    // An empty slot reads as undefined here; `map` would skip it.
    for (let index = 0; index < value.length; index += 1) {
      if (value[index] === undefined) report.plain = false
    }
    return value.map((item: unknown) => copyCanonically(item, report))
  }
  const record = value as Record<string, unknown>
  const copy: Record<string, unknown> = {}
  for (const key of Object.keys(record).sort()) {
    const item = record[key]
    if (item === undefined) continue
    if (startsWithDigit(key)) report.plain = false
    if (key !== '__proto__') copy[key] = copyCanonically(item, report)
    // Assigning "__proto__" would set the prototype instead of adding the member.
    else
      Object.defineProperty(copy, key, { value: copyCanonically(item, report), enumerable: true })
  }
  return copy
}

/** Integer-like keys start with a digit; so do a few others, which merely take the slow path. */
const startsWithDigit = (key: string): boolean => {
  const code = key.charCodeAt(0)
  return code >= 48 && code <= 57
}

/**
 * `hashEvent` of an event whose data is a canonical copy that `JSON.stringify` writes
 * canonically, and whose metadata is built with its keys in sorted order: the same text, written
 * by `JSON.stringify` instead of `canonicalJson`'s walk, which was a tenth of the cost of
 * building a purchase's events. test/audit/seal.int.test.ts checks the two agree.
 */
const hashCanonicalEvent = (event: HashableEvent): string =>
  sha256Hex(
    `{"data":${JSON.stringify(event.data)},"eventId":${JSON.stringify(event.eventId)},` +
      `"metadata":${JSON.stringify(event.metadata)},"revision":${JSON.stringify(event.revision)},` +
      `"streamId":${JSON.stringify(event.streamId)},"type":${JSON.stringify(event.type)}}`,
  )

/**
 * Several events for one stream in a row, each chained on the one before. `nextRevision` and
 * `previousHash` describe the stream as loaded (0 and the zero hash for a new stream).
 */
export const buildStreamEvents = (
  stream: {
    readonly streamId: string
    readonly nextRevision: number
    readonly previousHash: string
  },
  events: readonly Omit<EventToAppendInput, 'streamId' | 'revision' | 'previousHash'>[],
): EventToAppend[] => {
  const built: EventToAppend[] = []
  let previousHash = stream.previousHash
  for (const [index, event] of events.entries()) {
    const revision = stream.nextRevision + index
    const next = buildEventToAppend({ ...event, streamId: stream.streamId, revision, previousHash })
    built.push(next)
    previousHash = next.metadata.hash
  }
  return built
}

/** The hash the next event of a stream chains on: its last event's, or the zero hash. */
export const lastHashOf = (events: readonly { readonly metadata: EventMetadata }[]): string =>
  events.length === 0 ? zeroHash : (events[events.length - 1]?.metadata.hash ?? zeroHash)

const hashPattern = /^[0-9a-f]{64}$/

const assertChainable = (input: EventToAppendInput, previousHash: string): void => {
  if (!Number.isSafeInteger(input.revision) || input.revision < 0) {
    throw new Error(`assertion failed: revision ${input.revision} of ${input.streamId}`)
  }
  if (!hashPattern.test(previousHash)) {
    throw new Error(`assertion failed: previous hash of ${input.streamId} is not a SHA-256`)
  }
}
