import * as crypto from 'node:crypto'
import { createHash } from 'node:crypto'
import type { EventMetadata } from '../store/port'

/**
 * The integrity chain. Every event's hash covers its stream, revision, id, type, data and
 * metadata (all but the hash itself) together with the hash of the previous event of its
 * stream, so an event cannot be altered, removed or moved within its stream unnoticed. The
 * hashes travel in the metadata, so they work the same in either store. Seals cover the order
 * across streams.
 */

/** The `previousHash` of the first event of a stream. */
export const zeroHash = '0'.repeat(64)

export interface HashableEvent {
  readonly streamId: string
  readonly revision: number
  readonly eventId: string
  readonly type: string
  readonly data: unknown
  readonly metadata: Omit<EventMetadata, 'hash'>
}

/**
 * JSON with object keys sorted at every level and no white space: one text for one value,
 * whatever order its keys were built in. Only JSON values reach it (events are JSON).
 *
 * It runs once per event on every verification of the whole log, so it is written as plain
 * loops that build one string: the same text as the obvious `map`/`join` form, at about half
 * the cost (test/audit/hash.unit.test.ts checks the two agree on arbitrary values).
 */
export const canonicalJson = (value: unknown): string => {
  if (value === null || typeof value !== 'object') return JSON.stringify(value)
  if (Array.isArray(value)) return canonicalArray(value)
  const record = value as Record<string, unknown>
  const keys = Object.keys(record).sort()
  let text = '{'
  for (const key of keys) {
    const item = record[key]
    if (item === undefined) continue
    if (text.length > 1) text += ','
    text += `${JSON.stringify(key)}:${canonicalJson(item)}`
  }
  return `${text}}`
}

/** An element that has no JSON text (undefined, a function) leaves its slot empty, as `join`. */
const canonicalArray = (items: readonly unknown[]): string => {
  let text = '['
  for (let index = 0; index < items.length; index += 1) {
    if (index > 0) text += ','
    text += (canonicalJson(items[index]) as string | undefined) ?? ''
  }
  return `${text}]`
}

/**
 * SHA-256 of a text, in lowercase hex. The one-shot `crypto.hash` (Node 20.12 on) gives the same
 * digest as a `Hash` object at half the cost for texts the size of an event, which matters when
 * a verification hashes every event of the log.
 */
export const sha256Hex = (text: string): string =>
  oneShotHash === undefined
    ? createHash('sha256').update(text).digest('hex')
    : oneShotHash('sha256', text, 'hex')

const oneShotHash = (crypto as { hash?: typeof crypto.hash }).hash

export const hashEvent = (event: HashableEvent): string =>
  sha256Hex(
    canonicalJson({
      streamId: event.streamId,
      revision: event.revision,
      eventId: event.eventId,
      type: event.type,
      data: event.data,
      metadata: event.metadata,
    }),
  )
